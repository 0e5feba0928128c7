//! Message and batch signatures, encrypt and decrypt, kept signatures, revocation and
//! delegation through the ceremony.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

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
    let mut ca = crate::softca::test_ca(dir.path(), "Revoking CA");
    let holder = Holder::personal("钱七");
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
