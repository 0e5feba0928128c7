#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};

use super::*;
use crate::app::{App, Wallet};
use crate::crypto::default_provider;
#[allow(unused_imports)]
use crate::crypto::{
    CryptoError, HashAlgorithm, KeyAlgorithm, PublicKeyAlgorithm, SecretBytes, SignatureScheme,
    Sm2CiphertextForm,
};
use crate::pki::TrustStore;
#[allow(unused_imports)]
use crate::pki::{CertError, Certificate, KeyPurpose, Subject};
#[allow(unused_imports)]
use crate::protocol::{
    Bytes, EncryptedKeyItem, ErrorCode, ItemRejection, OperationPayload, RequestObject, Response,
    ResponseStatus, SignFormat, SignItem, SignedRequest, TransactionState, UsageRecord,
};
use crate::softca::{Holder, SoftCa};
use crate::store::{MemoryStore, verify_audit};
#[allow(unused_imports)]
use crate::store::{StoreError, TxPatch, TxRecord};

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
    let mut ca = crate::softca::test_ca(dir.path(), "Ceremony CA");
    let holder = Holder::org("张三", "某某建设有限公司", "91350100M000100Y43");
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

mod binding;
mod flows;
mod live_revocation;
mod seal_gate;
