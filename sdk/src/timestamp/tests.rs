#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use super::*;
use crate::crypto::{KeyAlgorithm, PrivateKey, default_provider};
use crate::pki::TrustStore;
use crate::softca::{Holder, SoftCa, sign_token_with, wallet_files};

struct World {
    _dir: tempfile::TempDir,
    provider: Arc<dyn CryptoProvider>,
    ca: SoftCa,
    validator: ChainValidator,
    hash: HashAlgorithm,
}

fn world(algorithm: KeyAlgorithm) -> World {
    let provider = default_provider();
    let dir = tempfile::tempdir().unwrap();
    let ca = SoftCa::init(
        provider.clone(),
        &dir.path().join("ca"),
        algorithm,
        "TSA CA",
    )
    .unwrap();
    let mut trust = TrustStore::new();
    trust.add(ca.root().clone());
    World {
        validator: ChainValidator::new(provider.clone(), trust),
        hash: if algorithm == KeyAlgorithm::Sm2 {
            HashAlgorithm::Sm3
        } else {
            HashAlgorithm::Sha256
        },
        provider,
        ca,
        _dir: dir,
    }
}

fn now() -> i64 {
    crate::qr::unix_now()
}

impl World {
    fn stamp(&self, data: &[u8]) -> Vec<u8> {
        let q = TimeStampQuery::new(self.provider.as_ref(), self.hash, data).unwrap();
        let resp = self.ca.timestamp_response(q.der(), now());
        q.token_from_response(&resp).unwrap()
    }

    fn verify(&self, token: &[u8], data: &[u8]) -> Result<VerifiedTimeStamp, TimestampError> {
        verify_token(
            self.provider.as_ref(),
            token,
            data,
            &self.validator,
            std::slice::from_ref(self.ca.issuing_ca()),
            now(),
        )
    }
}

fn a_token_verifies_and_is_bound_to_its_data(algorithm: KeyAlgorithm) {
    let w = world(algorithm);
    let token = w.stamp(b"bid file");
    let ok = w.verify(&token, b"bid file").unwrap();
    assert!((ok.gen_time - now()).abs() <= 5);
    assert_eq!(ok.policy, crate::softca::TSA_POLICY.to_string());
    assert_eq!(ok.hash, w.hash);
    assert!(ok.tsa.chain.len() == 3, "{:?}", ok.tsa.chain);
    let e = w.verify(&token, b"another bid file").unwrap_err();
    assert_eq!(e.code(), ErrorCode::TimestampImprintMismatch, "{e}");
}

#[test]
fn an_sm2_tsa_token_verifies_in_camr_and_not_over_other_data() {
    a_token_verifies_and_is_bound_to_its_data(KeyAlgorithm::Sm2);
}

#[test]
fn an_rsa_tsa_token_verifies_in_camr_and_not_over_other_data() {
    a_token_verifies_and_is_bound_to_its_data(KeyAlgorithm::Rsa2048);
}

#[test]
fn a_p256_tsa_token_verifies_in_camr() {
    a_token_verifies_and_is_bound_to_its_data(KeyAlgorithm::P256);
}

#[test]
fn a_token_signed_by_a_certificate_without_the_time_stamping_eku_is_refused() {
    let w = world(KeyAlgorithm::Sm2);
    let wallet = w._dir.path().join("w");
    let mut ca = SoftCa::open(w.provider.clone(), &w._dir.path().join("ca")).unwrap();
    let holder = Holder::personal("张三");
    ca.issue(&holder, b"123456", &wallet, 30).unwrap();
    let cert = crate::pki::Certificate::parse_one(
        &std::fs::read(wallet.join(wallet_files::SIGN_CERT)).unwrap(),
    )
    .unwrap();
    let key = PrivateKey::from_bytes(
        &std::fs::read(wallet.join(wallet_files::SIGN_KEY)).unwrap(),
        Some(b"123456"),
    )
    .unwrap();
    // A genuine token's TSTInfo, re-signed by the holder's signing key.
    let token = w.stamp(b"data");
    let (_, tst) = decode_token(&token).unwrap();
    let forged = sign_token_with(w.provider.as_ref(), &cert, &key, &tst, true)
        .unwrap()
        .to_der()
        .unwrap();
    let e = w.verify(&forged, b"data").unwrap_err();
    assert_eq!(e.code(), ErrorCode::TimestampTsaUnauthorized, "{e}");
}

#[test]
fn a_response_to_another_request_or_a_rejection_is_refused() {
    let w = world(KeyAlgorithm::Sm2);
    let first = TimeStampQuery::new(w.provider.as_ref(), w.hash, b"x").unwrap();
    let second = TimeStampQuery::new(w.provider.as_ref(), w.hash, b"x").unwrap();
    let resp = w.ca.timestamp_response(first.der(), now());
    let e = second.token_from_response(&resp).unwrap_err();
    assert_eq!(e.code(), ErrorCode::TimestampInvalid, "{e}");
    let rejected = w.ca.timestamp_response(b"garbage", now());
    let e = first.token_from_response(&rejected).unwrap_err();
    assert!(e.to_string().contains("status 2"), "{e}");
    // A tampered token: the signature no longer covers it.
    let mut token = first.token_from_response(&resp).unwrap();
    let at = token.len() - 10;
    token[at] ^= 1;
    assert!(w.verify(&token, b"x").is_err());
}
