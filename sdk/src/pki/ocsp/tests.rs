#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use der::asn1::Null;

use super::asn1::{CertStatus, SingleResponse};
use super::*;
use crate::crypto::{KeyAlgorithm, PrivateKey, default_provider};
use crate::softca::{
    Holder, RevocationReason, ServiceRole, SoftCa, sign_ocsp_response, wallet_files,
};

struct World {
    _dir: tempfile::TempDir,
    provider: Arc<dyn CryptoProvider>,
    ca: SoftCa,
    leaf: Certificate,
    other_leaf: Certificate,
    leaf_key: PrivateKey,
}

fn holder(name: &str) -> Holder {
    Holder::personal(name)
}

fn read_cert(dir: &Path, file: &str) -> Certificate {
    Certificate::parse_one(&std::fs::read(dir.join(file)).unwrap()).unwrap()
}

fn world(algorithm: KeyAlgorithm) -> World {
    let provider = default_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(
        provider.clone(),
        &dir.path().join("ca"),
        algorithm,
        "OCSP CA",
    )
    .unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    ca.issue(&holder("张三"), b"123456", &a, 30).unwrap();
    ca.issue(&holder("李四"), b"123456", &b, 30).unwrap();
    let key_pem = std::fs::read(a.join(wallet_files::SIGN_KEY)).unwrap();
    World {
        leaf: read_cert(&a, wallet_files::SIGN_CERT),
        other_leaf: read_cert(&b, wallet_files::SIGN_CERT),
        leaf_key: PrivateKey::from_bytes(&key_pem, Some(b"123456")).unwrap(),
        provider,
        ca,
        _dir: dir,
    }
}

fn now() -> i64 {
    crate::qr::unix_now()
}

impl World {
    fn issuer(&self) -> &Certificate {
        self.ca.issuing_ca()
    }

    fn ca_key(&self) -> PrivateKey {
        let pem = std::fs::read(self._dir.path().join("ca/ca-key.pem")).unwrap();
        PrivateKey::from_bytes(&pem, None).unwrap()
    }

    fn query(&self, cert: &Certificate) -> OcspQuery {
        OcspQuery::new(
            self.provider.as_ref(),
            cert,
            self.issuer(),
            CertIdHash::for_issuer(self.issuer()),
        )
        .unwrap()
    }

    fn ask(&self, cert: &Certificate) -> Result<OcspAnswer, OcspError> {
        let q = self.query(cert);
        let response = self.ca.ocsp_response(q.der(), now());
        q.verify(
            self.provider.as_ref(),
            self.issuer(),
            &response,
            now(),
            &OcspPolicy::default(),
        )
    }

    /// A response about `about`, carrying the nonce of `query`, signed by `key`/`signer`,
    /// with the given thisUpdate.
    fn forged(
        &self,
        query: &OcspQuery,
        about: &Certificate,
        key: &PrivateKey,
        signer: &Certificate,
        this_update: i64,
    ) -> Vec<u8> {
        let id = cert_id(
            self.provider.as_ref(),
            self.issuer(),
            about.x509().tbs_certificate().serial_number(),
            CertIdHash::for_issuer(self.issuer()),
        )
        .unwrap();
        let single = SingleResponse {
            cert_id: id,
            cert_status: CertStatus::Good(Null),
            this_update: crate::softca::generalized_time(this_update).unwrap(),
            next_update: None,
            single_extensions: None,
        };
        sign_ocsp_response(
            self.provider.as_ref(),
            key,
            signer,
            vec![single],
            vec![nonce_extension(query.nonce()).unwrap()],
            now(),
        )
        .unwrap()
    }

    fn verify(&self, q: &OcspQuery, response: &[u8]) -> Result<OcspAnswer, OcspError> {
        q.verify(
            self.provider.as_ref(),
            self.issuer(),
            response,
            now(),
            &OcspPolicy::default(),
        )
    }
}

fn good_then_revoked_then_frozen(algorithm: KeyAlgorithm) {
    let mut w = world(algorithm);
    let answer = w.ask(&w.leaf).unwrap();
    assert_eq!(answer.status, OcspCertStatus::Good);
    assert_eq!(answer.responder, w.issuer().common_name());
    assert!(answer.next_update.is_some_and(|n| n > answer.this_update));
    let t = now() - 5;
    w.ca.revoke(&w.leaf.serial_hex(), RevocationReason::KeyCompromise, t)
        .unwrap();
    assert_eq!(
        w.ask(&w.leaf).unwrap().status,
        OcspCertStatus::Revoked {
            at: t,
            reason: Some(1)
        }
    );
    w.ca.revoke(
        &w.other_leaf.serial_hex(),
        RevocationReason::CertificateHold,
        t,
    )
    .unwrap();
    assert_eq!(
        w.ask(&w.other_leaf).unwrap().status,
        OcspCertStatus::Frozen { at: t }
    );
}

#[test]
fn an_sm2_ca_answers_good_then_revoked_then_frozen_and_camr_verifies_it() {
    good_then_revoked_then_frozen(KeyAlgorithm::Sm2);
}

#[test]
fn a_p256_ca_answers_good_then_revoked_then_frozen() {
    good_then_revoked_then_frozen(KeyAlgorithm::P256);
}

#[test]
fn an_rsa_ca_answers_good_then_revoked_then_frozen() {
    good_then_revoked_then_frozen(KeyAlgorithm::Rsa2048);
}

#[test]
fn a_certificate_of_another_ca_is_unknown_and_every_certid_hash_is_answered() {
    let w = world(KeyAlgorithm::P256);
    let stranger = world(KeyAlgorithm::P256);
    // Asked about a certificate this CA did not issue (another CA's, same serial space).
    let q = OcspQuery::new(
        w.provider.as_ref(),
        &stranger.leaf,
        stranger.issuer(),
        CertIdHash::Sha256,
    )
    .unwrap();
    let response = w.ca.ocsp_response(q.der(), now());
    // Signed by w's CA, which is not the stranger's issuer: refused before the status.
    let e = q
        .verify(
            w.provider.as_ref(),
            stranger.issuer(),
            &response,
            now(),
            &OcspPolicy::default(),
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::OcspResponderUnauthorized, "{e}");
    for hash in [CertIdHash::Sha1, CertIdHash::Sha256, CertIdHash::Sm3] {
        let q = OcspQuery::new(w.provider.as_ref(), &w.leaf, w.issuer(), hash).unwrap();
        let response = w.ca.ocsp_response(q.der(), now());
        assert_eq!(
            w.verify(&q, &response).unwrap().status,
            OcspCertStatus::Good
        );
    }
}

#[test]
fn a_response_for_another_certificate_is_refused() {
    let w = world(KeyAlgorithm::Sm2);
    let q = w.query(&w.leaf);
    let ca_key = w.ca_key();
    let response = w.forged(&q, &w.other_leaf, &ca_key, w.issuer(), now());
    let e = w.verify(&q, &response).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OcspCertMismatch, "{e}");
    // The same forgery about the right certificate passes: the refusal is the CertID's.
    let response = w.forged(&q, &w.leaf, &ca_key, w.issuer(), now());
    assert_eq!(
        w.verify(&q, &response).unwrap().status,
        OcspCertStatus::Good
    );
}

#[test]
fn a_stale_or_future_this_update_is_refused() {
    let w = world(KeyAlgorithm::Sm2);
    let q = w.query(&w.leaf);
    let ca_key = w.ca_key();
    for this_update in [now() - 8 * 24 * 3600, now() + 3600] {
        let response = w.forged(&q, &w.leaf, &ca_key, w.issuer(), this_update);
        let e = w.verify(&q, &response).unwrap_err();
        assert_eq!(e.code(), ErrorCode::OcspStale, "{e}");
    }
    // A response whose nextUpdate passed (the CA's own, checked an hour and more later).
    let response = w.ca.ocsp_response(q.der(), now());
    let later = now() + OCSP_VALIDITY_SECS_FOR_TESTS + 600;
    let e = q
        .verify(
            w.provider.as_ref(),
            w.issuer(),
            &response,
            later,
            &OcspPolicy::default(),
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::OcspStale, "{e}");
}

const OCSP_VALIDITY_SECS_FOR_TESTS: i64 = crate::softca::OCSP_VALIDITY_SECS;

#[test]
fn a_response_with_another_nonce_or_none_is_refused() {
    let w = world(KeyAlgorithm::Sm2);
    let first = w.query(&w.leaf);
    let replayed = w.ca.ocsp_response(first.der(), now());
    let second = w.query(&w.leaf);
    let e = w.verify(&second, &replayed).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OcspNonceMismatch, "{e}");
    // Without a nonce: refused by default, accepted when the policy allows it.
    let ca_key = w.ca_key();
    let id = cert_id(
        w.provider.as_ref(),
        w.issuer(),
        w.leaf.x509().tbs_certificate().serial_number(),
        CertIdHash::Sm3,
    )
    .unwrap();
    let single = SingleResponse {
        cert_id: id,
        cert_status: CertStatus::Good(Null),
        this_update: crate::softca::generalized_time(now()).unwrap(),
        next_update: None,
        single_extensions: None,
    };
    let bare = sign_ocsp_response(
        w.provider.as_ref(),
        &ca_key,
        w.issuer(),
        vec![single],
        vec![],
        now(),
    )
    .unwrap();
    let e = w.verify(&first, &bare).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OcspNonceMismatch, "{e}");
    let lenient = OcspPolicy {
        require_nonce: false,
        ..OcspPolicy::default()
    };
    let ok = first
        .verify(w.provider.as_ref(), w.issuer(), &bare, now(), &lenient)
        .unwrap();
    assert_eq!(ok.status, OcspCertStatus::Good);
}

#[test]
fn only_the_issuer_or_its_ocsp_signing_delegate_may_answer() {
    let w = world(KeyAlgorithm::Sm2);
    let q = w.query(&w.leaf);
    // A delegated responder the issuer certified with id-kp-OCSPSigning: accepted.
    let (responder, responder_key) = w.ca.service_identity(ServiceRole::OcspSigning).unwrap();
    let response = w.forged(&q, &w.leaf, &responder_key, &responder, now());
    let answer = w.verify(&q, &response).unwrap();
    assert_eq!(answer.responder, responder.common_name());
    // The holder's own signing certificate (issued by the issuer, no OCSPSigning): refused.
    let response = w.forged(&q, &w.leaf, &w.leaf_key, &w.leaf, now());
    let e = w.verify(&q, &response).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OcspResponderUnauthorized, "{e}");
    // Another CA's OCSP responder, with the right EKU but the wrong issuer: refused.
    let stranger = world(KeyAlgorithm::Sm2);
    let (other, other_key) = stranger
        .ca
        .service_identity(ServiceRole::OcspSigning)
        .unwrap();
    let response = w.forged(&q, &w.leaf, &other_key, &other, now());
    let e = w.verify(&q, &response).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OcspResponderUnauthorized, "{e}");
    // Another CA's issuing key itself: refused.
    let response = w.forged(&q, &w.leaf, &stranger.ca_key(), stranger.issuer(), now());
    let e = w.verify(&q, &response).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OcspResponderUnauthorized, "{e}");
}

#[test]
fn a_tampered_response_or_garbage_is_refused() {
    let w = world(KeyAlgorithm::P256);
    let q = w.query(&w.leaf);
    let mut response = w.ca.ocsp_response(q.der(), now());
    // Flip a byte of the nonce inside the signed data: the signature no longer verifies.
    let nonce_at = response
        .windows(q.nonce().len())
        .position(|win| win == q.nonce())
        .unwrap();
    response[nonce_at] ^= 1;
    let e = w.verify(&q, &response).unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureInvalid, "{e}");
    for junk in [&b""[..], b"\x30\x03\x0a\x01\x01", b"not der"] {
        let e = w.verify(&q, junk).unwrap_err();
        assert_eq!(e.code(), ErrorCode::OcspResponseInvalid, "{e}");
    }
    // The responder's own error status.
    let answer = w.ca.ocsp_response(b"garbage", now());
    let e = w.verify(&q, &answer).unwrap_err();
    assert!(e.to_string().contains("MalformedRequest"), "{e}");
}
