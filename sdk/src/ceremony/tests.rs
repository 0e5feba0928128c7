#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};

use super::*;
use crate::app::{App, Wallet};
use crate::crypto::default_provider;
use crate::pki::TrustStore;
use crate::softca::{Holder, HolderType, SoftCa};
use crate::store::{MemoryStore, verify_audit};

/// The memory store's futures are ready at once; this drives them without a runtime.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

static NOW: AtomicI64 = AtomicI64::new(0);
fn test_clock() -> i64 {
    let t = NOW.load(Ordering::SeqCst);
    if t == 0 { crate::qr::unix_now() } else { t }
}

struct World {
    _dir: tempfile::TempDir,
    platform: Platform,
    store: Arc<MemoryStore>,
    app: App,
    wallet: Wallet,
    stranger: Wallet,
}

fn world() -> World {
    let p = default_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(
        p.clone(),
        &dir.path().join("ca"),
        KeyAlgorithm::Sm2,
        "Ceremony CA",
    )
    .unwrap();
    let holder = Holder {
        holder_type: HolderType::Org,
        name: "张三".into(),
        organization: Some("某某建设有限公司".into()),
        uscc: Some("91350100M000100Y43".into()),
        identity_number: None,
    };
    ca.issue(&holder, b"123456", &dir.path().join("w"), 30)
        .unwrap();
    let mut other_ca = SoftCa::init(
        p.clone(),
        &dir.path().join("ca2"),
        KeyAlgorithm::Sm2,
        "Unknown CA",
    )
    .unwrap();
    other_ca
        .issue(&holder, b"123456", &dir.path().join("w2"), 30)
        .unwrap();
    let mut trust = TrustStore::new();
    trust.add(ca.root().clone());
    let store = Arc::new(MemoryStore::new());
    let identity = PlatformIdentity {
        system_code: SystemCode::parse("C1100005553").unwrap(),
        system_name: "移动数字证书(CA)互认模拟测试系统".into(),
        request_uri_prefix: "https://platform.example/camr/v1/request/".into(),
        response_uri: "https://platform.example/camr/v1/response".into(),
    };
    let key = p.generate_key(KeyAlgorithm::Sm2).unwrap();
    let platform = Platform::new(
        p.clone(),
        identity,
        key,
        None,
        store.clone(),
        Arc::new(ChainValidator::new(p.clone(), trust)),
    )
    .unwrap()
    .with_clock(test_clock);
    World {
        platform,
        store,
        app: App::new(p, "SOFTCA"),
        wallet: Wallet::open(&dir.path().join("w"), b"123456").unwrap(),
        stranger: Wallet::open(&dir.path().join("w2"), b"123456").unwrap(),
        _dir: dir,
    }
}

/// The app's side of a scan: fetch and check the request object.
fn scan(w: &World, started: &Started) -> (SignedRequest, RequestObject) {
    let signed = block_on(w.platform.request(&started.transaction.tid)).unwrap();
    let request = verify_signed_request(
        default_provider().as_ref(),
        &signed,
        &w.platform.public_key(),
    )
    .unwrap();
    assert_eq!(request.system_name, "移动数字证书(CA)互认模拟测试系统");
    (signed, request)
}

#[test]
fn bidder_scans_the_login_qr_and_is_logged_in() {
    let w = world();
    let started = block_on(w.platform.start_login()).unwrap();
    let payload = crate::qr::parse(&started.qr_text).unwrap();
    crate::qr::verify(
        default_provider().as_ref(),
        &payload,
        &w.platform.public_key(),
        crate::qr::VerifyOptions::at(test_clock()),
    )
    .unwrap();
    assert!(
        payload
            .request_uri
            .ends_with(started.transaction.tid.as_str())
    );
    let (signed, request) = scan(&w, &started);
    let tid = &started.transaction.tid;
    assert_eq!(
        block_on(w.platform.status(tid)).unwrap().state,
        TransactionState::Scanned
    );
    let response = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    assert_eq!(
        block_on(w.platform.answer(tid, &response)).unwrap(),
        TransactionState::Verified
    );
    let login = block_on(w.platform.finish_login(tid)).unwrap();
    assert_eq!(login.subject.name, "张三");
    assert_eq!(login.subject.uscc.as_deref(), Some("91350100M000100Y43"));
    assert_eq!(login.ca_org_type, "SOFTCA");
    let usage = block_on(w.store.usage()).unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0].usage_scene, Operation::Login);
    assert_eq!(usage[0].cert_sn, w.wallet.sign_cert.serial_hex());
    // The same answer again: refused.
    let e = block_on(w.platform.answer(tid, &response)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::TxAlreadyAnswered, "{e}");
    // The audit chain holds, and an edited row is named.
    let entries = block_on(w.store.audit()).unwrap();
    assert!(verify_audit(&entries).unwrap() >= 3);
    w.store.tamper_audit(|a| a[1].detail = "edited".into());
    let e = verify_audit(&block_on(w.store.audit()).unwrap()).unwrap_err();
    assert!(e.to_string().contains("entry 2 was edited"), "{e}");
    w.store.tamper_audit(|a| {
        a.remove(1);
    });
    assert!(verify_audit(&block_on(w.store.audit()).unwrap()).is_err());
}

#[test]
fn an_answer_moved_to_another_transaction_is_refused_and_does_not_end_it() {
    let w = world();
    let a = block_on(w.platform.start_login()).unwrap();
    let b = block_on(w.platform.start_login()).unwrap();
    let (signed_a, req_a) = scan(&w, &a);
    let (signed_b, req_b) = scan(&w, &b);
    let answer_a = w.app.approve(&w.wallet, &signed_a, &req_a, &[]).unwrap();
    let e = block_on(w.platform.answer(&b.transaction.tid, &answer_a)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::TidMismatch);
    // Same tid written in, but the hash is A's request: not bound to B.
    let mut moved = answer_a.clone();
    moved.tid = b.transaction.tid.clone();
    let e = block_on(w.platform.answer(&b.transaction.tid, &moved)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::RequestHashMismatch);
    // B's hash written in, but A's signature: the binding signature fails.
    moved.request_hash = request_hash(default_provider().as_ref(), &signed_b.request);
    let e = block_on(w.platform.answer(&b.transaction.tid, &moved)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureInvalid);
    // B is still open for its real answer.
    let answer_b = w.app.approve(&w.wallet, &signed_b, &req_b, &[]).unwrap();
    block_on(w.platform.answer(&b.transaction.tid, &answer_b)).unwrap();
}

#[test]
fn encryption_certificate_untrusted_ca_and_tampered_requests_are_refused() {
    let w = world();
    let started = block_on(w.platform.start_login()).unwrap();
    let (signed, request) = scan(&w, &started);
    let tid = &started.transaction.tid;
    let mut swapped = w.wallet.clone();
    swapped.sign_cert = w.wallet.enc_cert.clone();
    swapped.sign_key = w.wallet.enc_key.clone();
    let r = w.app.approve(&swapped, &signed, &request, &[]).unwrap();
    assert_eq!(
        block_on(w.platform.answer(tid, &r)).unwrap_err().code(),
        ErrorCode::CertWrongUsage
    );
    let r = w.app.approve(&w.stranger, &signed, &request, &[]).unwrap();
    assert_eq!(
        block_on(w.platform.answer(tid, &r)).unwrap_err().code(),
        ErrorCode::CertUntrusted
    );
    let mut tampered = signed.clone();
    tampered.request = tampered.request.replace("模拟测试系统", "钓鱼系统");
    let e = verify_signed_request(
        default_provider().as_ref(),
        &tampered,
        &w.platform.public_key(),
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureInvalid);
    let no_evidence = Response {
        evidence: None,
        vendor_evidence: None,
        ..w.app.approve(&w.wallet, &signed, &request, &[]).unwrap()
    };
    assert_eq!(
        block_on(w.platform.answer(tid, &no_evidence))
            .unwrap_err()
            .code(),
        ErrorCode::InputMalformed
    );
}

#[test]
fn expired_cancelled_and_rejected_transactions_say_so() {
    let w = world();
    NOW.store(0, Ordering::SeqCst);
    let t0 = crate::qr::unix_now();
    let started = block_on(w.platform.start_login()).unwrap();
    let (signed, request) = scan(&w, &started);
    let tid = &started.transaction.tid;
    let answer = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    NOW.store(t0 + 121 + 5, Ordering::SeqCst);
    assert_eq!(
        block_on(w.platform.answer(tid, &answer))
            .unwrap_err()
            .code(),
        ErrorCode::TxExpired
    );
    assert_eq!(
        block_on(w.platform.status(tid)).unwrap().state,
        TransactionState::Expired
    );
    NOW.store(0, Ordering::SeqCst);

    let c = block_on(w.platform.start_login()).unwrap();
    let (signed, request) = scan(&w, &c);
    block_on(w.platform.cancel(&c.transaction.tid)).unwrap();
    let late = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    assert_eq!(
        block_on(w.platform.answer(&c.transaction.tid, &late))
            .unwrap_err()
            .code(),
        ErrorCode::TxCancelled
    );

    let r = block_on(w.platform.start_login()).unwrap();
    let (signed, request) = scan(&w, &r);
    let no = w
        .app
        .reject(&w.wallet, &signed, &request, "不是本人操作")
        .unwrap();
    // A rejection in someone else's name does not count.
    let mut forged = no.clone();
    forged.reject_reason = Some("changed".into());
    assert_eq!(
        block_on(w.platform.answer(&r.transaction.tid, &forged))
            .unwrap_err()
            .code(),
        ErrorCode::SignatureInvalid
    );
    assert_eq!(
        block_on(w.platform.answer(&r.transaction.tid, &no)).unwrap(),
        TransactionState::Rejected
    );
    let e = block_on(w.platform.finish_login(&r.transaction.tid)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::TxRejected);
    assert!(e.to_string().contains("不是本人操作"), "{e}");
    let pending = block_on(w.platform.start_login()).unwrap();
    assert_eq!(
        block_on(w.platform.finish_login(&pending.transaction.tid))
            .unwrap_err()
            .code(),
        ErrorCode::TxPending
    );
}

#[test]
fn message_and_batch_signatures_verify_and_batches_can_end_mixed() {
    let w = world();
    let p = default_provider();
    let m = block_on(
        w.platform
            .start_message_signature("投标报价：1,280,000.00 元"),
    )
    .unwrap();
    let (signed, request) = scan(&w, &m);
    block_on(w.platform.answer(
        &m.transaction.tid,
        &w.app.approve(&w.wallet, &signed, &request, &[]).unwrap(),
    ))
    .unwrap();
    let r = block_on(w.platform.finish_message_signature(&m.transaction.tid)).unwrap();
    let key = Certificate::from_der(&r.certificate)
        .unwrap()
        .public_key()
        .unwrap();
    p.verify(
        &key,
        &SignatureScheme::sm2(),
        r.message.as_bytes(),
        &r.signature,
    )
    .unwrap();

    let items: Vec<SignItem> = (1..=3)
        .map(|i| SignItem {
            id: format!("doc{i}"),
            name: format!("投标文件{i}.pdf"),
            hash: Bytes(p.digest(HashAlgorithm::Sm3, format!("document {i}").as_bytes())),
            hash_algorithm: crate::protocol::HashAlgorithm::Sm3,
            format: crate::protocol::SignFormat::Hash,
        })
        .collect();
    let s = block_on(w.platform.start_sign(items.clone())).unwrap();
    let (signed, request) = scan(&w, &s);
    let refuse = [ItemRejection {
        item_id: "doc2".into(),
        reason: "金额有误".into(),
    }];
    block_on(
        w.platform.answer(
            &s.transaction.tid,
            &w.app
                .approve(&w.wallet, &signed, &request, &refuse)
                .unwrap(),
        ),
    )
    .unwrap();
    let r = block_on(w.platform.finish_sign(&s.transaction.tid)).unwrap();
    assert_eq!(r.signed.len(), 2);
    assert_eq!(r.rejected, refuse);
    for item in &r.signed {
        p.verify(
            &key,
            &SignatureScheme::sm2(),
            &item.item.hash,
            &item.signature,
        )
        .unwrap();
    }
    assert!(block_on(w.platform.start_sign(vec![])).is_err());
    let mut bad = items[0].clone();
    bad.hash = Bytes(vec![1, 2, 3]);
    assert_eq!(
        block_on(w.platform.start_sign(vec![bad]))
            .unwrap_err()
            .code(),
        ErrorCode::InputMalformed
    );
}

#[test]
fn encrypt_then_decrypt_gives_back_the_exact_bid_file() {
    use crate::envelope::{KeySource, open_stream, read_header, seal_stream};
    let w = world();
    let p = default_provider();
    let e = block_on(w.platform.start_encrypt()).unwrap();
    let (signed, request) = scan(&w, &e);
    block_on(w.platform.answer(
        &e.transaction.tid,
        &w.app.approve(&w.wallet, &signed, &request, &[]).unwrap(),
    ))
    .unwrap();
    let enc = block_on(w.platform.finish_encrypt(&e.transaction.tid)).unwrap();
    let enc_cert = Certificate::from_der(&enc.encryption_certificate).unwrap();
    assert_eq!(enc_cert, w.wallet.enc_cert);
    for size in [0usize, 1024 * 1024] {
        let bid: Vec<u8> = (0..size).map(|i| (i % 241) as u8).collect();
        let mut sealed = Vec::new();
        seal_stream(
            p.as_ref(),
            std::slice::from_ref(&enc_cert),
            bid.as_slice(),
            &mut sealed,
            &mut |_| {},
        )
        .unwrap();
        // Bid opening: the encrypted keys go to the app; the platform gets the key back.
        let header = read_header(p.as_ref(), &mut sealed.as_slice()).unwrap();
        let items: Vec<EncryptedKeyItem> = header
            .encrypted_keys
            .iter()
            .map(|(sn, k)| EncryptedKeyItem {
                id: "bid".into(),
                recipient_cert_sn: sn.clone(),
                encrypted_key: Bytes(k.clone()),
            })
            .collect();
        let d = block_on(w.platform.start_decrypt(items)).unwrap();
        let (signed, request) = scan(&w, &d);
        // A wallet that is not a recipient cannot answer.
        let err = w
            .app
            .approve(&w.stranger, &signed, &request, &[])
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::EnvelopeNoRecipient);
        block_on(w.platform.answer(
            &d.transaction.tid,
            &w.app.approve(&w.wallet, &signed, &request, &[]).unwrap(),
        ))
        .unwrap();
        let keys = block_on(w.platform.finish_decrypt(&d.transaction.tid)).unwrap();
        let mut out = Vec::new();
        open_stream(
            p.as_ref(),
            sealed.as_slice(),
            &mut out,
            KeySource::ContentKey(&keys[0].1),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(out, bid);
        // The per-transaction key is gone after use.
        assert!(block_on(w.platform.finish_decrypt(&d.transaction.tid)).is_err());
    }
}

#[test]
fn a_kept_message_signature_verifies_later_in_the_manuals_result_shape() {
    let w = world();
    let m = block_on(w.platform.start_message_signature("报价 100 元")).unwrap();
    let (signed, request) = scan(&w, &m);
    block_on(w.platform.answer(
        &m.transaction.tid,
        &w.app.approve(&w.wallet, &signed, &request, &[]).unwrap(),
    ))
    .unwrap();
    let r = block_on(w.platform.finish_message_signature(&m.transaction.tid)).unwrap();
    let kept = SignedMessage {
        message: r.message.clone(),
        signature: r.signature.clone(),
        certificate: r.certificate.clone(),
        chain: w
            .wallet
            .chain
            .iter()
            .map(|c| Bytes(c.der().to_vec()))
            .collect(),
    };
    let mut trust = TrustStore::new();
    trust.add(w.wallet.chain.last().unwrap().clone());
    let validator = ChainValidator::new(default_provider(), trust);
    let ok = verify_message(default_provider().as_ref(), &validator, &kept, test_clock());
    let json = serde_json::to_value(&ok).unwrap();
    assert_eq!(json["code"], 200);
    assert_eq!(json["success"], true);
    assert_eq!(json["errorCode"], "");
    assert_eq!(json["data"]["verifySignatureResult"], true);
    // A changed price: the call still succeeds, the verdict is false.
    let mut changed = kept.clone();
    changed.message = "报价 900 元".into();
    let bad = serde_json::to_value(verify_message(
        default_provider().as_ref(),
        &validator,
        &changed,
        test_clock(),
    ))
    .unwrap();
    assert_eq!(bad["success"], true);
    assert_eq!(bad["data"]["verifySignatureResult"], false);
    assert!(
        bad["data"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("SIGNATURE_INVALID")
    );
    // Garbage certificate: the call itself fails with a code.
    let mut junk = kept;
    junk.certificate = Bytes(vec![1, 2, 3]);
    let e = serde_json::to_value(verify_message(
        default_provider().as_ref(),
        &validator,
        &junk,
        test_clock(),
    ))
    .unwrap();
    assert_eq!(e["success"], false);
    assert_eq!(e["errorCode"], "CERT_MALFORMED");
}

#[test]
fn a_revoked_signing_certificate_cannot_log_in() {
    let p = default_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(
        p.clone(),
        &dir.path().join("ca"),
        KeyAlgorithm::Sm2,
        "Revoking CA",
    )
    .unwrap();
    let holder = Holder {
        holder_type: HolderType::Personal,
        name: "钱七".into(),
        organization: None,
        uscc: None,
        identity_number: None,
    };
    let issued = ca
        .issue(&holder, b"123456", &dir.path().join("w"), 30)
        .unwrap();
    ca.revoke(
        &issued.sign_serial,
        crate::softca::RevocationReason::KeyCompromise,
        crate::qr::unix_now() - 10,
    )
    .unwrap();
    let crl = ca.crl(crate::qr::unix_now()).unwrap();
    let mut trust = TrustStore::new();
    trust.add(ca.root().clone());
    let identity = PlatformIdentity {
        system_code: SystemCode::parse("C1100005553").unwrap(),
        system_name: "Revocation test".into(),
        request_uri_prefix: "https://p.example/r/".into(),
        response_uri: "https://p.example/a".into(),
    };
    let platform = Platform::new(
        p.clone(),
        identity,
        p.generate_key(KeyAlgorithm::Sm2).unwrap(),
        None,
        Arc::new(MemoryStore::new()),
        Arc::new(ChainValidator::new(p.clone(), trust).with_crls(vec![crl])),
    )
    .unwrap();
    let wallet = Wallet::open(&dir.path().join("w"), b"123456").unwrap();
    let started = block_on(platform.start_login()).unwrap();
    let signed = block_on(platform.request(&started.transaction.tid)).unwrap();
    let request = verify_signed_request(p.as_ref(), &signed, &platform.public_key()).unwrap();
    let answer = App::new(p, "SOFTCA")
        .approve(&wallet, &signed, &request, &[])
        .unwrap();
    let e = block_on(platform.answer(&started.transaction.tid, &answer)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevoked, "{e}");
    // Refused answers leave the transaction open (a forged answer cannot end it).
    assert_eq!(
        block_on(platform.status(&started.transaction.tid))
            .unwrap()
            .state,
        TransactionState::Scanned
    );
}

#[test]
fn a_staff_member_logs_in_with_the_organisation_certificate_only_within_the_delegation() {
    use crate::app::{Delegation, delegation};
    let w = world();
    let p = default_provider();
    let now = test_clock();
    let d = Delegation {
        org_cert_sn: w.wallet.sign_cert.serial_hex(),
        staff_name: "李四".into(),
        staff_id: Some("110101199001011234".into()),
        trading_systems: vec![SystemCode::parse("C1100005553").unwrap()],
        operations: vec![Operation::Login, Operation::Encrypt, Operation::Decrypt],
        not_before: now - 60,
        not_after: now + 86_400,
    };
    let signed_d = delegation::issue(p.as_ref(), &w.wallet, &d).unwrap();
    let started = block_on(w.platform.start_login()).unwrap();
    let (signed, request) = scan(&w, &started);
    let r = w
        .app
        .approve_as_staff(&w.wallet, &signed_d, &signed, &request, now)
        .unwrap();
    assert_eq!(r.operator.as_deref(), Some("李四 (110101199001011234)"));
    block_on(w.platform.answer(&started.transaction.tid, &r)).unwrap();
    let usage = block_on(w.store.usage()).unwrap();
    assert_eq!(
        usage[0].operator.as_deref(),
        Some("李四 (110101199001011234)")
    );
    // Outside the scope: another operation, after the period, or signed by someone else.
    let m = block_on(w.platform.start_message_signature("报价")).unwrap();
    let (signed, request) = scan(&w, &m);
    let e = w
        .app
        .approve_as_staff(&w.wallet, &signed_d, &signed, &request, now)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::DelegationOutOfScope, "{e}");
    let l = block_on(w.platform.start_login()).unwrap();
    let (signed, request) = scan(&w, &l);
    let e = w
        .app
        .approve_as_staff(&w.wallet, &signed_d, &signed, &request, now + 2 * 86_400)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::DelegationOutOfScope, "{e}");
    let mut forged = signed_d.clone();
    forged.delegation = forged
        .delegation
        .replace("Login", "Signature")
        .replace("\"login\"", "\"signature\"");
    let e = w
        .app
        .approve_as_staff(&w.wallet, &forged, &signed, &request, now)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::DelegationOutOfScope, "{e}");
    // Another system.
    let mut other = d.clone();
    other.trading_systems = vec![SystemCode::parse("M1100000034").unwrap()];
    let other = delegation::issue(p.as_ref(), &w.wallet, &other).unwrap();
    let e = w
        .app
        .approve_as_staff(&w.wallet, &other, &signed, &request, now)
        .unwrap_err();
    assert!(e.to_string().contains("C1100005553"), "{e}");
}

/// Issue 16 finding 4: where the vendor's organisation certificates are used under a
/// delegation only, an answer that leaves the delegation out is refused, and a withdrawn
/// delegation is refused wherever it appears.
#[test]
fn a_delegated_organisation_certificate_cannot_drop_its_delegation() {
    use crate::app::{Delegation, delegation};
    let w = world();
    let p = default_provider();
    let now = test_clock();
    let platform = w.platform.clone().with_entitlement(Entitlement {
        delegated_vendors: vec!["SOFTCA".into()],
        ..Entitlement::default()
    });
    let started = block_on(platform.start_login()).unwrap();
    let (signed, request) = scan(&w, &started);
    let plain = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    let e = block_on(platform.answer(&started.transaction.tid, &plain)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::DelegationOutOfScope, "{e}");
    assert!(e.to_string().contains("carries none"), "{e}");
    // Under a delegation: accepted.
    let d = Delegation {
        org_cert_sn: w.wallet.sign_cert.serial_hex(),
        staff_name: "李四".into(),
        staff_id: Some("110101199001011234".into()),
        trading_systems: vec![SystemCode::parse("C1100005553").unwrap()],
        operations: vec![Operation::Login],
        not_before: now - 60,
        not_after: now + 86_400,
    };
    let signed_d = delegation::issue(p.as_ref(), &w.wallet, &d).unwrap();
    let staff = w
        .app
        .approve_as_staff(&w.wallet, &signed_d, &signed, &request, now)
        .unwrap();
    assert_eq!(
        block_on(platform.answer(&started.transaction.tid, &staff)).unwrap(),
        TransactionState::Verified
    );
    // Withdrawn: refused, and leaving it out does not help.
    let id = delegation::id(p.as_ref(), &signed_d);
    block_on(platform.withdraw_delegation(&id, "离职")).unwrap();
    assert!(block_on(platform.delegation_withdrawn(&id)).unwrap());
    let again = block_on(platform.start_login()).unwrap();
    let (signed, request) = scan(&w, &again);
    let staff = w
        .app
        .approve_as_staff(&w.wallet, &signed_d, &signed, &request, now)
        .unwrap();
    let e = block_on(platform.answer(&again.transaction.tid, &staff)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::DelegationOutOfScope, "{e}");
    assert!(e.to_string().contains("withdrawn"), "{e}");
    let plain = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    let e = block_on(platform.answer(&again.transaction.tid, &plain)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::DelegationOutOfScope, "{e}");
}

/// A PDF seal through the ceremony (签章 with documents): the platform prepares the PDF, the
/// app signs CAdES attributes over the byte-range digest, the platform embeds; then the
/// same holder revokes it (撤章) through `start_revoke_seal`.
#[cfg(feature = "pdf")]
#[test]
fn a_pdf_seal_and_its_revocation_through_the_ceremony() {
    use crate::protocol::SignFormat;
    use crate::seal::{self, Placement, SealOptions};
    let w = world();
    let p = default_provider();
    let pdf = seal::sample_pdf(2).unwrap();
    let options = SealOptions::new(Placement::Page {
        page: 1,
        rect: [400.0, 100.0, 100.0, 100.0],
    });
    let prepared = seal::prepare(
        p.as_ref(),
        &pdf,
        crate::crypto::PublicKeyAlgorithm::Sm2,
        &options,
    )
    .unwrap();
    let item = SignItem {
        id: "pdf".into(),
        name: "投标文件.pdf".into(),
        hash: Bytes(prepared.digest.clone()),
        hash_algorithm: crate::protocol::HashAlgorithm::Sm3,
        format: SignFormat::CadesAttributes,
    };
    let s = block_on(w.platform.start_sign(vec![item.clone()])).unwrap();
    let (signed, request) = scan(&w, &s);
    // An app that signs the bare hash instead of the attributes is refused.
    let mut raw = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    let good = raw.clone();
    let ev = raw.evidence.as_mut().unwrap();
    let sig = ev
        .signatures
        .iter_mut()
        .find(|s| s.item_id == "pdf")
        .unwrap();
    sig.signature_value = Bytes(
        p.sign(&w.wallet.sign_key, &SignatureScheme::sm2(), &item.hash)
            .unwrap(),
    );
    assert_eq!(
        block_on(w.platform.answer(&s.transaction.tid, &raw))
            .unwrap_err()
            .code(),
        ErrorCode::SignatureInvalid
    );
    block_on(w.platform.answer(&s.transaction.tid, &good)).unwrap();
    let r = block_on(w.platform.finish_sign(&s.transaction.tid)).unwrap();
    let done = &r.signed[0];
    let cert = Certificate::from_der(&r.certificate).unwrap();
    let chain: Vec<Certificate> = r
        .chain
        .iter()
        .map(|c| Certificate::from_der(c).unwrap())
        .collect();
    assert_eq!(
        done.signed_attributes.as_ref().unwrap().0,
        seal::signed_attributes(p.as_ref(), &prepared, &cert).unwrap()
    );
    let cms = seal::sign_prepared(p.as_ref(), &prepared, &cert, &chain, |_| {
        Ok(done.signature.0.clone())
    })
    .unwrap();
    let sealed = seal::embed(prepared, &cms).unwrap();
    let report = seal::verify(p.as_ref(), &sealed, None, crate::qr::unix_now()).unwrap();
    assert!(report.all_valid, "{}", report.human());
    assert_eq!(
        report.seals[0].signer.as_ref().unwrap().cert_sn,
        r.subject.cert_sn
    );

    // 撤章 by the same holder.
    let target = seal::signer_of(p.as_ref(), &sealed, "Seal1").unwrap();
    let key_alg = target.public_key().unwrap().algorithm();
    let prepared = seal::prepare_revoke(
        p.as_ref(),
        &sealed,
        key_alg,
        "Seal1",
        &SealOptions::new(Placement::Invisible),
    )
    .unwrap();
    let item = SignItem {
        format: SignFormat::CadesAttributes,
        ..SignItem::hash(
            "revoke",
            "投标文件.pdf",
            prepared.digest.clone(),
            seal::hash_for(key_alg),
        )
    };
    let s = block_on(w.platform.start_revoke_seal(
        "Seal1",
        "投标文件.pdf",
        Some("报价有误"),
        vec![item],
    ))
    .unwrap();
    let (signed, request) = scan(&w, &s);
    // A revocation is signed whole: refusing its item is no answer.
    let partial = w
        .app
        .approve(
            &w.wallet,
            &signed,
            &request,
            &[ItemRejection {
                item_id: "revoke".into(),
                reason: "no".into(),
            }],
        )
        .unwrap();
    assert_eq!(
        block_on(w.platform.answer(&s.transaction.tid, &partial))
            .unwrap_err()
            .code(),
        ErrorCode::InputMalformed
    );
    let answer = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    block_on(w.platform.answer(&s.transaction.tid, &answer)).unwrap();
    let r = block_on(w.platform.finish_revoke_signature(&s.transaction.tid)).unwrap();
    let revoker = Certificate::from_der(&r.certificate).unwrap();
    assert!(seal::may_revoke(&target, &revoker, &[]));
    assert!(!seal::may_revoke(&target, &w.stranger.sign_cert, &[]));
    let cms = seal::sign_prepared(p.as_ref(), &prepared, &revoker, &[], |_| {
        Ok(r.signed[0].signature.0.clone())
    })
    .unwrap();
    let revoked = seal::embed(prepared, &cms).unwrap();
    let report = seal::verify(p.as_ref(), &revoked, None, crate::qr::unix_now()).unwrap();
    let first = report
        .seals
        .iter()
        .find(|s| s.field_name == "Seal1")
        .unwrap();
    assert!(first.revoked.is_some(), "{}", report.human());

    // A request for an SM3 seal cannot be signed with an RSA wallet.
    let mismatched = SignItem {
        format: SignFormat::CadesAttributes,
        ..SignItem::hash(
            "x",
            "a.pdf",
            vec![7; 32],
            crate::protocol::HashAlgorithm::Sha256,
        )
    };
    let s = block_on(w.platform.start_sign(vec![mismatched])).unwrap();
    let (signed, request) = scan(&w, &s);
    let e = w
        .app
        .approve(&w.wallet, &signed, &request, &[])
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnsupportedAlgorithm);
    assert!(e.to_string().contains("SM2 goes with SM3"), "{e}");
}

/// A bid-opening gate as a platform would write one: an opening time and the certificate
/// serials of the bidders who signed in (签到).
#[derive(Debug, Default)]
struct OpeningGate {
    opens_at: AtomicI64,
    signed_in: std::sync::Mutex<Vec<String>>,
}

impl DecryptPolicy for OpeningGate {
    fn check<'a>(
        &'a self,
        ctx: DecryptContext<'a>,
    ) -> crate::store::BoxFuture<'a, Result<(), DecryptRefusal>> {
        Box::pin(async move {
            let opens_at = self.opens_at.load(Ordering::SeqCst);
            if ctx.now < opens_at {
                return Err(DecryptRefusal::BidOpeningNotReached {
                    opens_at,
                    now: ctx.now,
                });
            }
            let who = ctx.bidder.unwrap_or("an unnamed bidder").to_string();
            match ctx.bidder {
                Some(b) if self.signed_in.lock().unwrap().iter().any(|s| s == b) => Ok(()),
                _ => Err(DecryptRefusal::BidderNotSignedIn { who }),
            }
        })
    }

    fn check_answer<'a>(
        &'a self,
        _: DecryptContext<'a>,
        answered_by: &'a UsageRecord,
    ) -> crate::store::BoxFuture<'a, Result<(), DecryptRefusal>> {
        Box::pin(async move {
            if self
                .signed_in
                .lock()
                .unwrap()
                .contains(&answered_by.cert_sn)
            {
                return Ok(());
            }
            Err(DecryptRefusal::AnsweredByAnother {
                cert_sn: answered_by.cert_sn.clone(),
                name: answered_by.cert_name.clone(),
            })
        })
    }
}

#[test]
fn decrypt_waits_for_the_opening_time_and_the_bidders_sign_in() {
    use crate::envelope::{read_header, seal_stream};
    let w = world();
    let p = default_provider();
    let gate = Arc::new(OpeningGate::default());
    gate.opens_at
        .store(crate::qr::unix_now() + 3600, Ordering::SeqCst);
    let platform = w.platform.clone().with_decrypt_policy(gate.clone());
    let mut sealed = Vec::new();
    seal_stream(
        p.as_ref(),
        std::slice::from_ref(&w.wallet.enc_cert),
        &b"bid"[..],
        &mut sealed,
        &mut |_| {},
    )
    .unwrap();
    let header = read_header(p.as_ref(), &mut sealed.as_slice()).unwrap();
    let items: Vec<EncryptedKeyItem> = header
        .encrypted_keys
        .iter()
        .map(|(sn, k)| EncryptedKeyItem {
            id: "bid".into(),
            recipient_cert_sn: sn.clone(),
            encrypted_key: Bytes(k.clone()),
        })
        .collect();

    // The bidder signs in with the login QR; the platform records the certificate serial.
    let login = block_on(platform.start_login()).unwrap();
    let (signed, request) = scan(&w, &login);
    block_on(platform.answer(
        &login.transaction.tid,
        &w.app.approve(&w.wallet, &signed, &request, &[]).unwrap(),
    ))
    .unwrap();
    let bidder = block_on(platform.finish_login(&login.transaction.tid))
        .unwrap()
        .subject
        .cert_sn;

    // Before the opening time: refused, even for a signed-in bidder, and nothing starts.
    gate.signed_in.lock().unwrap().push(bidder.clone());
    let err = block_on(platform.start_decrypt_for(Some(&bidder), items.clone())).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BidOpeningNotReached, "{err}");
    assert!(err.to_string().contains("开标时间未到"), "{err}");
    // The default platform (no policy installed) is not gated.
    assert!(block_on(w.platform.start_decrypt(items.clone())).is_ok());

    // The time is reached, but this bidder has not signed in (or the caller names nobody).
    gate.opens_at
        .store(crate::qr::unix_now() - 1, Ordering::SeqCst);
    gate.signed_in.lock().unwrap().clear();
    let err = block_on(platform.start_decrypt_for(Some(&bidder), items.clone())).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BidderNotSignedIn, "{err}");
    assert!(err.to_string().contains(&bidder), "{err}");
    let err = block_on(platform.start_decrypt(items.clone())).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BidderNotSignedIn, "{err}");

    // Signed in and the time reached: the decrypt runs to the content key.
    gate.signed_in.lock().unwrap().push(bidder.clone());
    let d = block_on(platform.start_decrypt_for(Some(&bidder), items)).unwrap();
    let (signed, request) = scan(&w, &d);
    let answer = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    // Had the sign-in been withdrawn meanwhile, the answer is refused and changes nothing.
    gate.signed_in.lock().unwrap().clear();
    let err = block_on(platform.answer(&d.transaction.tid, &answer)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BidderNotSignedIn, "{err}");
    assert_eq!(
        block_on(platform.status(&d.transaction.tid)).unwrap().state,
        TransactionState::Scanned
    );
    gate.signed_in.lock().unwrap().push(bidder.clone());
    block_on(platform.answer(&d.transaction.tid, &answer)).unwrap();
    assert_eq!(
        block_on(platform.finish_decrypt(&d.transaction.tid))
            .unwrap()
            .len(),
        1
    );

    // Each refusal is audited, and the audit chain still verifies.
    let audit = block_on(w.store.audit()).unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.event == "decrypt-refused")
            .count(),
        3
    );
    verify_audit(&audit).unwrap();
}

mod binding;
