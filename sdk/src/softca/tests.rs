#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::crypto::default_provider;

fn person() -> Holder {
    Holder::personal("李四")
}

#[test]
fn wallet_keys_open_only_with_the_pin_and_match_the_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = crate::softca::test_ca(dir.path(), "Test CA");
    let w = ca
        .issue(&person(), b"246810", &dir.path().join("w"), 30)
        .unwrap();
    let key_pem = std::fs::read(w.dir.join(wallet_files::SIGN_KEY)).unwrap();
    let key = PrivateKey::from_bytes(&key_pem, Some(b"246810")).unwrap();
    let cert = Certificate::parse_one(&std::fs::read(w.dir.join(wallet_files::SIGN_CERT)).unwrap())
        .unwrap();
    assert_eq!(cert.public_key().unwrap(), key.public_key());
    assert_eq!(cert.serial_hex(), w.sign_serial);
    let e = PrivateKey::from_bytes(&key_pem, Some(b"000000")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::KeyPasswordWrong);
    assert_eq!(
        cert.subject().cert_type,
        crate::protocol::CertType::PersonalCert
    );
}

#[test]
fn bad_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = default_provider();
    let mut ca = SoftCa::init(
        p.clone(),
        &dir.path().join("ca"),
        KeyAlgorithm::P256,
        "Test CA",
    )
    .unwrap();
    assert!(
        SoftCa::init(
            p.clone(),
            &dir.path().join("ca"),
            KeyAlgorithm::P256,
            "Again"
        )
        .is_err()
    );
    let mut org = person();
    org.holder_type = HolderType::Org;
    org.organization = Some("某某建设有限公司".into());
    assert!(
        ca.issue(&org, b"123456", &dir.path().join("a"), 30)
            .is_err(),
        "org without USCC"
    );
    org.uscc = Some("91350100M000100YI3".into());
    assert!(
        ca.issue(&org, b"123456", &dir.path().join("b"), 30)
            .is_err(),
        "USCC with an I"
    );
    assert!(
        ca.issue(&person(), b"12", &dir.path().join("c"), 30)
            .is_err(),
        "short PIN"
    );
    let mut blank = person();
    blank.name = "  ".into();
    assert!(
        ca.issue(&blank, b"123456", &dir.path().join("d"), 30)
            .is_err()
    );
    assert!(ca.revoke("zz", RevocationReason::KeyCompromise, 0).is_err());
    assert!(
        ca.revoke("0123", RevocationReason::KeyCompromise, 0)
            .is_err(),
        "not issued here"
    );
    assert!(SoftCa::open(p, &dir.path().join("nothing")).is_err());
}

#[test]
fn revocations_survive_reopening_and_hold_can_be_lifted() {
    let dir = tempfile::tempdir().unwrap();
    let p = default_provider();
    let cadir = dir.path().join("ca");
    let mut ca = SoftCa::init(p.clone(), &cadir, KeyAlgorithm::Sm2, "Test CA").unwrap();
    let w = ca
        .issue(&person(), b"246810", &dir.path().join("w"), 30)
        .unwrap();
    ca.revoke(
        &w.sign_serial.to_lowercase(),
        RevocationReason::CertificateHold,
        1_800_000_000,
    )
    .unwrap();
    drop(ca);
    let mut ca = SoftCa::open(p.clone(), &cadir).unwrap();
    assert!(
        ca.revoke(&w.sign_serial, RevocationReason::KeyCompromise, 1)
            .is_err(),
        "already revoked"
    );
    let crl = ca.crl(crate::qr::unix_now()).unwrap();
    assert_eq!(
        crl.x509()
            .tbs_cert_list
            .revoked_certificates
            .as_ref()
            .map(Vec::len),
        Some(1)
    );
    ca.release_hold(&w.sign_serial).unwrap();
    let crl = ca.crl(crate::qr::unix_now()).unwrap();
    assert!(
        crl.x509()
            .tbs_cert_list
            .revoked_certificates
            .as_ref()
            .is_none_or(Vec::is_empty)
    );
}
