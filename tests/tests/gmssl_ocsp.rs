//! An SM2 CA's OCSP response (softca-cloud's `POST /ocsp`: RFC 6960 / GB/T 19713 with
//! SM2/SM3) checked by GmSSL 3.1.1, an independent implementation: the responder's SM2
//! signature over `tbsResponseData` verifies with `gmssl sm2verify` under the public key of the
//! certificate the response carries, that certificate chains to the issuing CA in
//! `gmssl certverify`, and a changed `tbsResponseData` fails (negative control). GmSSL has no
//! OCSP command, so the test takes the `BasicOCSPResponse` apart with the minimal DER reader of
//! `common/mod.rs`, not with camr's own OCSP code. camr's verifier is run on the same response
//! beside it.
//!
//! Skipped (loudly) without gmssl; CI builds it (`scripts/build-gmssl.sh`, `CAMR_GMSSL`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use camr::crypto::{KeyAlgorithm, default_provider};
use camr::pki::Certificate;
use camr::pki::ocsp::{CertIdHash, OcspPolicy, OcspQuery};
use camr::softca::{RevocationReason, SoftCa, wallet_files};
use common::*;

/// id-pkix-ocsp-basic, DER content octets.
const OID_OCSP_BASIC: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];
/// sm2sign-with-sm3 (1.2.156.10197.1.501), DER content octets.
const OID_SM2_SM3: &[u8] = &[0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75];

/// The parts of a `BasicOCSPResponse` a signature check needs.
struct Basic {
    tbs: Vec<u8>,
    algorithm: Vec<u8>,
    signature: Vec<u8>,
    certs: Vec<Vec<u8>>,
}

/// `OCSPResponse` → `responseBytes` → `BasicOCSPResponse` (RFC 6960 4.2.1).
fn take_apart(response: &[u8]) -> Basic {
    let (outer, _) = expect_tlv(response, TAG_SEQUENCE, "OCSPResponse").unwrap();
    let parts = children(outer).unwrap();
    assert_eq!(parts[0].content, [0], "responseStatus successful");
    let (bytes, _) = expect_tlv(parts[1].content, TAG_SEQUENCE, "ResponseBytes").unwrap();
    let bytes = children(bytes).unwrap();
    assert_eq!(bytes[0].content, OID_OCSP_BASIC, "responseType");
    let (basic, _) = expect_tlv(bytes[1].content, TAG_SEQUENCE, "BasicOCSPResponse").unwrap();
    let basic = children(basic).unwrap();
    let algorithm = children(basic[1].content).unwrap()[0].content.to_vec();
    // BIT STRING: the unused-bits octet, then the DER SM2 signature.
    let (&unused, signature) = basic[2].content.split_first().unwrap();
    assert_eq!(unused, 0);
    let certs = basic
        .get(3)
        .map(|c| {
            let (list, _) = expect_tlv(c.content, TAG_SEQUENCE, "certs").unwrap();
            children(list)
                .unwrap()
                .iter()
                .map(|e| e.whole.to_vec())
                .collect()
        })
        .unwrap_or_default();
    Basic {
        tbs: basic[0].whole.to_vec(),
        algorithm,
        signature: signature.to_vec(),
        certs,
    }
}

fn sm2verify(dir: &std::path::Path) -> std::process::Output {
    gmssl(
        dir,
        &[
            "sm2verify",
            "-pubkey",
            "responder-pub.pem",
            "-id",
            ID,
            "-in",
            "tbs.der",
            "-sig",
            "sig.der",
        ],
    )
}

#[test]
fn an_sm2_cas_ocsp_responses_verify_in_gmssl_good_and_revoked() {
    require_gmssl!();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let p = default_provider();
    let d = tmp();
    let dir = d.path();
    let ca_dir = dir.join("ca");
    SoftCa::init(p.clone(), &ca_dir, KeyAlgorithm::Sm2, "GmSSL OCSP CA").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = {
        let _guard = rt.enter();
        let (addr, _task) = softca_cloud::spawn(&ca_dir, None).unwrap();
        format!("http://{addr}")
    };
    let mut ca = SoftCa::open(p.clone(), &ca_dir).unwrap();
    ca.issue(&holder(), b"123456", &dir.join("w"), 30).unwrap();
    let leaf = Certificate::parse_one(
        &std::fs::read(dir.join("w").join(wallet_files::SIGN_CERT)).unwrap(),
    )
    .unwrap();
    let issuer = ca.issuing_ca().clone();
    write(dir, "ca.pem", issuer.to_pem());
    write(dir, "root.pem", ca.root().to_pem());
    let now = camr::qr::unix_now();

    let ask = || {
        let query = OcspQuery::new(p.as_ref(), &leaf, &issuer, CertIdHash::Sm3).unwrap();
        let reply = reqwest::blocking::Client::new()
            .post(format!("{base}/ocsp"))
            .header("content-type", "application/ocsp-request")
            .body(query.der().to_vec())
            .send()
            .unwrap();
        assert_eq!(reply.status(), 200);
        let der = reply.bytes().unwrap().to_vec();
        // camr's own verdict, beside GmSSL's.
        let answer = query
            .verify(p.as_ref(), &issuer, &der, now, &OcspPolicy::default())
            .unwrap();
        (der, answer)
    };
    for revoked in [false, true] {
        if revoked {
            ca.revoke(&leaf.serial_hex(), RevocationReason::KeyCompromise, now - 5)
                .unwrap();
        }
        let (der, answer) = ask();
        eprintln!(
            "camr: {:?}, signed by {}, producedAt {}",
            answer.status, answer.responder, answer.produced_at
        );
        assert_eq!(
            format!("{:?}", answer.status).starts_with("Revoked"),
            revoked,
            "{answer:?}"
        );
        let basic = take_apart(&der);
        assert_eq!(basic.algorithm, OID_SM2_SM3, "signed with SM2/SM3");
        // The responder: the certificate the response carries (a delegated responder), else
        // the issuing CA itself.
        let responder = match basic.certs.first() {
            Some(cert) => Certificate::from_der(cert).unwrap(),
            None => issuer.clone(),
        };
        write(dir, "responder.pem", responder.to_pem());
        let spki = responder.public_key().unwrap().to_spki_pem().unwrap();
        write(dir, "responder-pub.pem", spki);
        // A delegated responder's certificate must chain to the CA (the issuing CA's own
        // chain is checked in gmssl.rs).
        if responder != issuer {
            let chain = cat_pem(&[&dir.join("responder.pem"), &dir.join("ca.pem")]);
            write(dir, "chain.pem", chain);
            gmssl_ok(
                dir,
                &["certverify", "-in", "chain.pem", "-cacert", "root.pem"],
            );
        }
        write(dir, "tbs.der", &basic.tbs);
        write(dir, "sig.der", &basic.signature);
        let out = sm2verify(dir);
        assert!(
            out.status.success(),
            "gmssl sm2verify refused the OCSP response's signature:\n{}",
            show(&["sm2verify"], &out)
        );
        // Negative control: one byte of the signed data changed (the last octet of the
        // response data, inside the nonce or producedAt).
        let mut changed = basic.tbs.clone();
        let last = changed.len() - 1;
        changed[last] ^= 0x01;
        write(dir, "tbs.der", &changed);
        let out = sm2verify(dir);
        assert!(
            !out.status.success(),
            "gmssl accepted a changed tbsResponseData"
        );
    }
}
