//! Chain signatures with the algorithms of real CA hierarchies (ECDSA P-384 / SHA-384,
//! RSA-PSS), on certificates and CRLs, made by the tests themselves (no OpenSSL).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::algs::{OID_SHA256, OID_SHA384};
use super::testca::{
    TestSigner, ca_exts, crl_by, issue_by, key, leaf_exts, now, p384_key, pss_algorithm,
};
use super::{CertError, Certificate, ChainValidator, KeyPurpose, RevocationPolicy, TrustStore};
use crate::crypto::{KeyAlgorithm, default_provider};
use crate::protocol::ErrorCode;

const ROOT: &str = "CN=P384 Root,O=camr test";
const SUB: &str = "CN=Sub CA,O=camr test";
const LEAF: &str = "CN=Holder,O=camr test";

fn validator(root: &Certificate) -> ChainValidator {
    let mut trust = TrustStore::new();
    trust.add(root.clone());
    ChainValidator::new(default_provider(), trust)
}

fn validate(
    v: &ChainValidator,
    leaf: &Certificate,
    chain: &[Certificate],
) -> Result<(), CertError> {
    v.validate_uncached(leaf, chain, KeyPurpose::Sign, now())
        .map(|_| ())
}

/// Flips a bit in the last byte of the signature BIT STRING (the last byte of the DER).
fn tamper(cert: &Certificate) -> Certificate {
    let mut der = cert.der().to_vec();
    if let Some(b) = der.last_mut() {
        *b ^= 0x01;
    }
    Certificate::from_der(&der).unwrap()
}

/// A P-384 root → P-384 intermediate → P-256 holder, every signature ecdsa-with-SHA384.
fn p384_chain() -> (Certificate, Certificate, Certificate) {
    let root_key = p384_key();
    let sub_key = p384_key();
    let holder = key();
    let root_signer = TestSigner::p384(&root_key);
    let sub_signer = TestSigner::p384(&sub_key);
    let root = issue_by(ROOT, root_signer.spki(), ROOT, &root_signer, ca_exts(None));
    let sub = issue_by(SUB, sub_signer.spki(), ROOT, &root_signer, ca_exts(Some(0)));
    let leaf = issue_by(
        LEAF,
        &holder.public_key().to_spki_der().unwrap(),
        SUB,
        &sub_signer,
        leaf_exts(),
    );
    (root, sub, leaf)
}

#[test]
fn a_p384_chain_with_sha384_is_accepted_and_a_tampered_signature_refused() {
    let (root, sub, leaf) = p384_chain();
    let v = validator(&root);
    validate(&v, &leaf, std::slice::from_ref(&sub)).unwrap();

    // The intermediate's signature by the root, then the leaf's by the intermediate.
    let e = validate(&v, &leaf, &[tamper(&sub)]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertUntrusted, "{e}");
    let e = validate(&v, &tamper(&leaf), &[sub]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertUntrusted, "{e}");
    assert!(e.to_string().contains("signature"), "{e}");
}

#[test]
fn ecdsa_sha384_by_a_p256_ca_is_accepted() {
    let root_key = key();
    let signer = TestSigner::p256_sha384(&root_key);
    let root = issue_by(ROOT, signer.spki(), ROOT, &signer, ca_exts(None));
    let holder = key();
    let leaf = issue_by(
        LEAF,
        &holder.public_key().to_spki_der().unwrap(),
        ROOT,
        &signer,
        leaf_exts(),
    );
    let v = validator(&root);
    validate(&v, &leaf, &[]).unwrap();
    assert_eq!(
        validate(&v, &tamper(&leaf), &[]).unwrap_err().code(),
        ErrorCode::CertUntrusted
    );
}

#[test]
fn ecdsa_sha384_with_parameters_is_refused() {
    let root_key = p384_key();
    let good = TestSigner::p384(&root_key);
    let root = issue_by(ROOT, good.spki(), ROOT, &good, ca_exts(None));
    // RFC 5758: the parameters MUST be absent; a NULL there is refused even though the
    // signature itself verifies.
    let bad = TestSigner::p384(&root_key).claiming(x509_cert::spki::AlgorithmIdentifierOwned {
        oid: super::OID_ECDSA_WITH_SHA384,
        parameters: Some(der::asn1::Null.into()),
    });
    let holder = key();
    let leaf = issue_by(
        LEAF,
        &holder.public_key().to_spki_der().unwrap(),
        ROOT,
        &bad,
        leaf_exts(),
    );
    let e = validate(&validator(&root), &leaf, &[]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertUntrusted, "{e}");
    assert!(e.to_string().contains("parameters"), "{e}");
}

#[test]
fn rsa_pss_signed_intermediates_are_accepted_and_inconsistent_parameters_refused() {
    let p = default_provider();
    let root_key = p.generate_key(KeyAlgorithm::Rsa2048).unwrap();
    let sub_key = key();
    let sub_spki = sub_key.public_key().to_spki_der().unwrap();
    let holder = key();
    let holder_spki = holder.public_key().to_spki_der().unwrap();
    let sub_signer = TestSigner::rsa_pss(&root_key, true);
    let root = issue_by(ROOT, sub_signer.spki(), ROOT, &sub_signer, ca_exts(None));
    let v = validator(&root);
    let p256_sub = TestSigner::p256_sha384(&sub_key);
    let leaf = issue_by(LEAF, &holder_spki, SUB, &p256_sub, leaf_exts());

    for sha384 in [true, false] {
        let signer = TestSigner::rsa_pss(&root_key, sha384);
        let sub = issue_by(SUB, &sub_spki, ROOT, &signer, ca_exts(Some(0)));
        let accepted = validate(&v, &leaf, std::slice::from_ref(&sub));
        accepted.unwrap_or_else(|e| panic!("sha384 {sha384}: {e}"));
        let e = validate(&v, &leaf, &[tamper(&sub)]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CertUntrusted, "{e}");
    }

    // The signature is a good PSS-SHA-384 one each time; only what the certificate claims
    // about it is inconsistent, and that alone refuses it.
    let inconsistent = [
        // MGF1 with another hash.
        pss_algorithm(OID_SHA384, OID_SHA256, 48),
        // Salt length other than the hash length.
        pss_algorithm(OID_SHA384, OID_SHA384, 32),
        // No parameters at all.
        x509_cert::spki::AlgorithmIdentifierOwned {
            oid: super::OID_RSASSA_PSS,
            parameters: None,
        },
        // Defaults (SHA-1).
        x509_cert::spki::AlgorithmIdentifierOwned {
            oid: super::OID_RSASSA_PSS,
            parameters: Some(der::Any::new(der::Tag::Sequence, Vec::<u8>::new()).unwrap()),
        },
    ];
    for alg in inconsistent {
        let signer = TestSigner::rsa_pss(&root_key, true).claiming(alg.clone());
        let sub = issue_by(SUB, &sub_spki, ROOT, &signer, ca_exts(Some(0)));
        let e = validate(&v, &leaf, &[sub]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CertUntrusted, "{alg:?}: {e}");
        assert!(e.to_string().contains("RSA-PSS"), "{alg:?}: {e}");
    }
}

#[test]
fn crls_signed_with_p384_and_rsa_pss_are_used() {
    let root_key = p384_key();
    let signer = TestSigner::p384(&root_key);
    let root = issue_by(ROOT, signer.spki(), ROOT, &signer, ca_exts(None));
    let holder = key();
    let holder_spki = holder.public_key().to_spki_der().unwrap();
    let leaf = issue_by(LEAF, &holder_spki, ROOT, &signer, leaf_exts());
    let other = issue_by(LEAF, &holder_spki, ROOT, &signer, leaf_exts());

    let check = |crl| {
        validator(&root)
            .with_crls(vec![crl])
            .with_policy(RevocationPolicy::Require)
            .validate_uncached(&leaf, &[], KeyPurpose::Sign, now())
            .map(|_| ())
    };
    // A CRL listing another certificate: the leaf is good; listing the leaf: revoked.
    check(crl_by(&root, &signer, &[&other])).unwrap();
    let e = check(crl_by(&root, &signer, &[&leaf])).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevoked, "{e}");

    let p = default_provider();
    let rsa_key = p.generate_key(KeyAlgorithm::Rsa2048).unwrap();
    let rsa = TestSigner::rsa_pss(&rsa_key, true);
    let rsa_root = issue_by(ROOT, rsa.spki(), ROOT, &rsa, ca_exts(None));
    let rsa_leaf = issue_by(LEAF, &holder_spki, ROOT, &rsa, leaf_exts());
    let e = validator(&rsa_root)
        .with_crls(vec![crl_by(&rsa_root, &rsa, &[&rsa_leaf])])
        .with_policy(RevocationPolicy::Require)
        .validate_uncached(&rsa_leaf, &[], KeyPurpose::Sign, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevoked, "{e}");

    // A PSS CRL with inconsistent parameters cannot be used: revocation status unknown.
    let bad =
        TestSigner::rsa_pss(&rsa_key, true).claiming(pss_algorithm(OID_SHA384, OID_SHA256, 48));
    let e = validator(&rsa_root)
        .with_crls(vec![crl_by(&rsa_root, &bad, &[])])
        .with_policy(RevocationPolicy::Require)
        .validate_uncached(&rsa_leaf, &[], KeyPurpose::Sign, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevocationUnknown, "{e}");
}
