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
        identity_number: Some(IdentityDocument::resident_id("110101199003074514").unwrap()),
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

#[test]
fn a_seal_signed_before_a_revocation_validates_at_its_signing_time_with_the_later_crl() {
    let mut f = fixture(KeyAlgorithm::Sm2);
    let t = now();
    let signed_at = t - 1800;
    f.ca.revoke(
        &f.sign.serial_hex(),
        RevocationReason::KeyCompromise,
        t - 900,
    )
    .unwrap();
    let v = validator(&f).with_crls(vec![f.ca.crl(t - 60).unwrap()]);
    let ok = v
        .validate_at_signing_time(&f.sign, &f.chain, KeyPurpose::Sign, signed_at, t)
        .unwrap();
    assert_eq!(ok.validated_at, signed_at);
    // Signed after the revocation: refused. Plain validation at that past time could not
    // use the CRL (issued later, "from the future" then) and would not have noticed.
    let after = t - 600;
    let e = v
        .validate_at_signing_time(&f.sign, &f.chain, KeyPurpose::Sign, after, t)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevoked, "{e}");
    assert!(
        v.validate(&f.sign, &f.chain, KeyPurpose::Sign, after)
            .is_ok()
    );
    // And now, of course, revoked.
    let e = v
        .validate(&f.sign, &f.chain, KeyPurpose::Sign, t)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevoked, "{e}");
    // A CRL stale now is no evidence: the revocation is not seen (the caller learns that
    // revocation was not checked).
    let stale = v
        .validate_at_signing_time(&f.sign, &f.chain, KeyPurpose::Sign, after, t + 8 * 86_400)
        .unwrap();
    assert!(!stale.revocation_checked);
}

#[test]
fn replaced_crls_freeze_and_unfreeze_a_certificate_for_the_same_validator() {
    let mut f = fixture(KeyAlgorithm::Sm2);
    let t = now();
    let v = validator(&f).with_crls(vec![f.ca.crl(t).unwrap()]);
    v.validate(&f.sign, &f.chain, KeyPurpose::Sign, t).unwrap();
    f.ca.revoke(
        &f.sign.serial_hex(),
        RevocationReason::CertificateHold,
        t - 5,
    )
    .unwrap();
    v.replace_crls(vec![f.ca.crl(t).unwrap()]);
    let e = v
        .validate(&f.sign, &f.chain, KeyPurpose::Sign, t)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertFrozen, "{e}");
    f.ca.release_hold(&f.sign.serial_hex()).unwrap();
    v.replace_crls(vec![f.ca.crl(t).unwrap()]);
    v.validate(&f.sign, &f.chain, KeyPurpose::Sign, t).unwrap();
    assert_eq!(v.crls().len(), 1);
}

#[test]
fn every_identity_document_type_reads_back_from_the_certificate() {
    let cases = [
        (
            IdentityDocument::resident_id("110101199003074514").unwrap(),
            "110101199003074514",
        ),
        (
            IdentityDocument::new(IdentityType::ResidencePermit, "810000199001011230").unwrap(),
            "810000199001011230",
        ),
        (
            IdentityDocument::new(IdentityType::HkMacaoTravelPermit, "H12345678").unwrap(),
            "CN:HKMO-H12345678",
        ),
        (
            IdentityDocument::new(IdentityType::TaiwanTravelPermit, "12345678").unwrap(),
            "CN:TW-12345678",
        ),
        (
            IdentityDocument::new(
                IdentityType::ForeignPermanentResidenceCard,
                "USA110079000017",
            )
            .unwrap(),
            "CN:FPR-USA110079000017",
        ),
        (
            IdentityDocument::new(
                IdentityType::ForeignPermanentResidenceCard,
                "933840199001010013",
            )
            .unwrap(),
            "CN:FPR-933840199001010013",
        ),
        (
            IdentityDocument::passport("cn", "e12345678").unwrap(),
            "PASCN-E12345678",
        ),
        (
            IdentityDocument::passport("GB", "123456789").unwrap(),
            "PASGB-123456789",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut ca = crate::softca::test_ca(dir.path(), "CA");
    for (i, (doc, attribute)) in cases.into_iter().enumerate() {
        assert_eq!(doc.to_attribute(), attribute);
        assert_eq!(IdentityDocument::from_attribute(attribute).unwrap(), doc);
        let holder = Holder {
            holder_type: HolderType::Personal,
            name: "持证人".into(),
            organization: None,
            uscc: None,
            identity_number: Some(doc.clone()),
        };
        let w = dir.path().join(format!("w{i}"));
        ca.issue(&holder, b"123456", &w, 30).unwrap();
        let cert = Certificate::parse_one(&std::fs::read(w.join(wallet_files::SIGN_CERT)).unwrap())
            .unwrap();
        let s = cert.subject();
        assert_eq!(s.identity_type, Some(doc.id_type), "{attribute}");
        assert_eq!(s.identity_number.as_deref(), Some(doc.number.as_str()));
        assert_eq!(s.identity_country, doc.country);
        let json = serde_json::to_value(&s).unwrap();
        assert!(json.get("identityType").is_some(), "{json}");
    }
    // A number written by another CA in no known format stays readable, without a type.
    let s = IdentityDocument::from_attribute("ABC-42");
    assert!(s.is_err());
}

#[test]
fn bad_identity_numbers_are_refused_with_the_rule_they_break() {
    use IdentityType::*;
    let bad = [
        (ResidentIdCard, "110101199003074515", "check character"),
        (ResidentIdCard, "11010119900307451", "18 characters"),
        (ResidentIdCard, "110101199002304517", "birth date"),
        (ResidentIdCard, "810000199001011230", "1 to 6"),
        (ResidencePermit, "110101199003074514", "810000"),
        (ResidencePermit, "810000199001011231", "check character"),
        (HkMacaoTravelPermit, "K12345678", "`H` or `M`"),
        (HkMacaoTravelPermit, "H1234567", "`H` or `M`"),
        (TaiwanTravelPermit, "1234567A", "8 (or 10) digits"),
        (TaiwanTravelPermit, "123456789", "8 (or 10) digits"),
        (
            ForeignPermanentResidenceCard,
            "US1110079000017",
            "3 letters",
        ),
        (
            ForeignPermanentResidenceCard,
            "933840199001010014",
            "3 letters",
        ),
    ];
    for (t, number, rule) in bad {
        let e = IdentityDocument::new(t, number).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InputMalformed);
        assert!(e.to_string().contains(rule), "{t:?} {number}: {e}");
        assert!(e.to_string().contains(t.chinese_name()), "{e}");
    }
    for (country, number) in [
        ("CN", "X12345678"),
        ("CN", "E1234567"),
        ("GB", "12-34"),
        ("GB", "1234"),
        ("CHN", "123456789"),
        ("", "123456789"),
    ] {
        assert!(
            IdentityDocument::passport(country, number).is_err(),
            "{country} {number}"
        );
    }
    assert!(IdentityDocument::new(Passport, "E12345678").is_err());
    assert!(IdentityType::parse_name("visa").is_err());
    // The soft CA refuses a hand-built document with a bad number.
    let dir = tempfile::tempdir().unwrap();
    let mut ca = crate::softca::test_ca(dir.path(), "CA");
    let holder = Holder {
        holder_type: HolderType::Personal,
        name: "张三".into(),
        organization: None,
        uscc: None,
        identity_number: Some(IdentityDocument {
            id_type: ResidentIdCard,
            number: "110101199003074515".into(),
            country: None,
        }),
    };
    let e = ca
        .issue(&holder, b"123456", &dir.path().join("w"), 30)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InputMalformed);
    assert!(e.to_string().contains("居民身份证"), "{e}");
}

#[test]
fn a_signature_after_the_key_was_compromised_is_refused_although_the_revocation_came_later() {
    let mut f = fixture(KeyAlgorithm::Sm2);
    let t = now();
    // Revoked at t-300, the key known compromised since t-1500 (invalidityDate).
    f.ca.revoke_with_invalidity(
        &f.sign.serial_hex(),
        RevocationReason::KeyCompromise,
        t - 300,
        Some(t - 1500),
    )
    .unwrap();
    let v = validator(&f).with_crls(vec![f.ca.crl(t - 60).unwrap()]);
    let e = v
        .validate_at_signing_time(&f.sign, &f.chain, KeyPurpose::Sign, t - 1200, t)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevoked, "{e}");
    v.validate_at_signing_time(&f.sign, &f.chain, KeyPurpose::Sign, t - 1800, t)
        .unwrap();
    // An invalidity date after the revocation is refused by the CA.
    let e =
        f.ca.revoke_with_invalidity(
            &f.enc.serial_hex(),
            RevocationReason::KeyCompromise,
            t - 300,
            Some(t),
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InputMalformed);
}
