#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::crypto::{KeyAlgorithm, default_provider};
use crate::protocol::{CertType, ErrorCode};
use crate::softca::{Holder, HolderType, RevocationReason, SoftCa, wallet_files};

struct Fixture {
    _dir: tempfile::TempDir,
    ca: SoftCa,
    sign: Certificate,
    enc: Certificate,
    chain: Vec<Certificate>,
}

fn fixture(alg: KeyAlgorithm) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(
        default_provider(),
        &dir.path().join("ca"),
        alg,
        "camr 测试 CA",
    )
    .unwrap();
    let holder = Holder {
        holder_type: HolderType::Org,
        name: "张三".into(),
        organization: Some("某某建设有限公司".into()),
        uscc: Some("91350100M000100Y43".into()),
        identity_number: Some("110101199003074514".into()),
    };
    let w = dir.path().join("wallet");
    ca.issue(&holder, b"123456", &w, 365).unwrap();
    let read = |n: &str| std::fs::read(w.join(n)).unwrap();
    Fixture {
        sign: Certificate::parse_one(&read(wallet_files::SIGN_CERT)).unwrap(),
        enc: Certificate::parse_one(&read(wallet_files::ENC_CERT)).unwrap(),
        chain: Certificate::parse_all(&read(wallet_files::CHAIN)).unwrap(),
        ca,
        _dir: dir,
    }
}

fn validator(f: &Fixture) -> ChainValidator {
    let mut trust = TrustStore::new();
    trust.add(f.ca.root().clone());
    ChainValidator::new(default_provider(), trust)
}

fn now() -> i64 {
    crate::qr::unix_now()
}

#[test]
fn bidder_signing_certificate_validates_and_names_the_organisation() {
    for alg in [KeyAlgorithm::Sm2, KeyAlgorithm::P256, KeyAlgorithm::Rsa2048] {
        let f = fixture(alg);
        let v = validator(&f)
            .validate(&f.sign, &f.chain, KeyPurpose::Sign, now())
            .unwrap();
        assert_eq!(v.chain.len(), 3, "{alg:?}");
        assert!(!v.revocation_checked);
        let s = v.subject;
        assert_eq!(s.name, "张三");
        assert_eq!(s.organization.as_deref(), Some("某某建设有限公司"));
        assert_eq!(s.uscc.as_deref(), Some("91350100M000100Y43"));
        assert_eq!(s.identity_number.as_deref(), Some("110101199003074514"));
        assert_eq!(s.cert_type, CertType::OrgCert);
        assert_eq!(s.cert_sn, f.sign.serial_hex());
        assert_eq!(s.issuer, "camr 测试 CA");
        validator(&f)
            .validate(&f.enc, &f.chain, KeyPurpose::Encrypt, now())
            .unwrap();
    }
}

#[test]
fn encryption_certificate_cannot_sign_and_signing_certificate_cannot_encrypt() {
    let f = fixture(KeyAlgorithm::Sm2);
    let v = validator(&f);
    let e = v
        .validate(&f.enc, &f.chain, KeyPurpose::Sign, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertWrongUsage, "{e}");
    let e = v
        .validate(&f.sign, &f.chain, KeyPurpose::Encrypt, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertWrongUsage, "{e}");
}

#[test]
fn expired_and_not_yet_valid_are_refused() {
    let f = fixture(KeyAlgorithm::Sm2);
    let v = validator(&f);
    let e = v
        .validate(&f.sign, &f.chain, KeyPurpose::Sign, now() + 400 * 86_400)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertExpired, "{e}");
    let e = v
        .validate(&f.sign, &f.chain, KeyPurpose::Sign, now() - 2 * 86_400)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertNotYetValid, "{e}");
}

#[test]
fn revoked_and_frozen_certificates_are_refused_but_earlier_use_stays_valid() {
    let mut f = fixture(KeyAlgorithm::Sm2);
    let t = now();
    f.ca.revoke(
        &f.sign.serial_hex(),
        RevocationReason::KeyCompromise,
        t - 60,
    )
    .unwrap();
    f.ca.revoke(
        &f.enc.serial_hex(),
        RevocationReason::CertificateHold,
        t - 60,
    )
    .unwrap();
    let crl = f.ca.crl(t - 30).unwrap();
    let v = validator(&f).with_crls(vec![crl]);
    let e = v
        .validate(&f.sign, &f.chain, KeyPurpose::Sign, t)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevoked, "{e}");
    let e = v
        .validate(&f.enc, &f.chain, KeyPurpose::Encrypt, t)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertFrozen, "{e}");
    // A signature made before the revocation is judged at its signing time.
    let ok = v
        .validate(&f.sign, &f.chain, KeyPurpose::Sign, t - 120)
        .unwrap();
    // The leaf was checked against the CRL; the intermediate has no CRL from the root, so
    // the result honestly says revocation was not checked for the whole chain.
    assert!(!ok.revocation_checked);
}

#[test]
fn crl_must_be_fresh_and_present_when_required() {
    let mut f = fixture(KeyAlgorithm::P256);
    let t = now();
    let crl = f.ca.crl(t).unwrap();
    let strict = validator(&f).with_policy(RevocationPolicy::Require);
    let e = strict
        .validate(&f.sign, &f.chain, KeyPurpose::Sign, t)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevocationUnknown, "{e}");
    let strict = strict.with_crls(vec![crl]);
    // The intermediate has no CRL from the root either: still unknown under Require.
    let e = strict
        .validate(&f.sign, &f.chain, KeyPurpose::Sign, t)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevocationUnknown, "{e}");
    // Best effort: checked where a CRL exists; stale CRLs are not used.
    let crl = f.ca.crl(t).unwrap();
    let lenient = validator(&f).with_crls(vec![crl]);
    lenient
        .validate(&f.sign, &f.chain, KeyPurpose::Sign, t)
        .unwrap();
}

#[test]
fn unknown_root_and_broken_signature_are_untrusted() {
    let f = fixture(KeyAlgorithm::Sm2);
    let other = fixture(KeyAlgorithm::Sm2);
    let e = validator(&other)
        .validate(&f.sign, &f.chain, KeyPurpose::Sign, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertUntrusted, "{e}");
    // No intermediates sent: no path.
    let e = validator(&f)
        .validate(&f.sign, &[], KeyPurpose::Sign, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertUntrusted, "{e}");
    // Flip one bit of the leaf's signature (the last byte of the DER).
    let mut der = f.sign.der().to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let broken = Certificate::from_der(&der).unwrap();
    let e = validator(&f)
        .validate(&broken, &f.chain, KeyPurpose::Sign, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertUntrusted, "{e}");
}

#[test]
fn garbage_and_truncated_der_are_malformed() {
    let f = fixture(KeyAlgorithm::Sm2);
    for bad in [
        &b""[..],
        b"garbage",
        &f.sign.der()[..f.sign.der().len() / 2],
        &[0x30, 0x82, 0xff, 0xff],
    ] {
        assert_eq!(
            Certificate::from_der(bad).unwrap_err().code(),
            ErrorCode::CertMalformed
        );
    }
    assert_eq!(
        Certificate::parse_all(b"-----BEGIN CERTIFICATE-----\nAAAA\n")
            .unwrap_err()
            .code(),
        ErrorCode::CertMalformed
    );
    assert_eq!(
        Crl::parse(b"nope").unwrap_err().code(),
        ErrorCode::CertMalformed
    );
}

#[test]
fn repeated_validation_reuses_the_cached_path_but_rechecks_time() {
    let f = fixture(KeyAlgorithm::Sm2);
    let v = validator(&f);
    let t = now();
    let a = v.validate(&f.sign, &f.chain, KeyPurpose::Sign, t).unwrap();
    assert_eq!(v.cache_len(), 1);
    let b = v
        .validate(&f.sign, &f.chain, KeyPurpose::Sign, t + 1)
        .unwrap();
    assert_eq!(v.cache_len(), 1);
    assert_eq!(a.chain, b.chain);
    // The purpose is checked on every call, also on a cached path.
    assert!(v.validate(&f.enc, &f.chain, KeyPurpose::Sign, t).is_err());
    v.validate(&f.enc, &f.chain, KeyPurpose::Encrypt, t)
        .unwrap();
    assert_eq!(v.cache_len(), 2);
    // Time checks too: the same bucket, but after expiry, is refused.
    let (_, not_after) = f.sign.validity();
    let bucket_end =
        not_after.div_euclid(validate::CACHE_BUCKET_SECS) * validate::CACHE_BUCKET_SECS;
    v.validate(
        &f.sign,
        &f.chain,
        KeyPurpose::Sign,
        bucket_end.max(not_after - 1),
    )
    .unwrap();
    let e = v
        .validate(&f.sign, &f.chain, KeyPurpose::Sign, not_after + 1)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertExpired);
}
