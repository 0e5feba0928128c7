#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::crypto::{
    CryptoProvider, PrivateKey, RustCryptoProvider, SignatureScheme, ec_signature_from_fixed,
};
use crate::protocol::{Bytes, PublicKeyAlgorithm};

const ID: &str = DEFAULT_SM2_SIGNER_ID;

fn provider() -> RustCryptoProvider {
    RustCryptoProvider
}

fn random(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    provider().fill_random(&mut v).unwrap();
    v
}

/// Both halves of key generation, in process.
fn keygen() -> (ClientShare, ServerShare) {
    let (pending, req) = ClientShare::keygen_start().unwrap();
    let (server, resp) = ServerShare::keygen(&req).unwrap();
    let client = pending.finish(&resp).unwrap();
    assert_eq!(client.public_key(), server.public_key());
    (client, server)
}

/// A full co-signature of `msg` with the default ID.
fn cosign(client: &ClientShare, server: &ServerShare, msg: &[u8]) -> Result<Vec<u8>> {
    let (pending, req) = client.sign_start(msg, ID)?;
    let resp = server.sign(&req)?;
    pending.finish(&resp)
}

fn verify(public: &PublicKey, msg: &[u8], sig: &[u8]) -> bool {
    provider()
        .verify(public, &SignatureScheme::sm2(), msg, sig)
        .is_ok()
}

fn flip(b: &Bytes, i: usize) -> Bytes {
    let mut v = b.0.clone();
    v[i] ^= 0x01;
    Bytes(v)
}

/// A point's uncompressed SEC1 bytes with the last byte of y changed: not on the curve.
fn off_curve(b: &Bytes) -> Bytes {
    flip(b, 64)
}

fn share_key(d: &NonZeroScalar) -> PrivateKey {
    PrivateKey::Sm2(sm2::SecretKey::from_slice(&d.to_repr()).unwrap())
}

// ---------------------------------------------------------------------------------------------
// Key generation and signing
// ---------------------------------------------------------------------------------------------

#[test]
fn joint_key_is_d1_d2_inverse_minus_one() {
    let (client, server) = keygen();
    // d = (d1·d2)⁻¹ − 1, computed here only to check the algebra.
    let d = *(client.d1 * server.d2).invert() - Scalar::ONE;
    let p = ProjectivePoint::generator() * d;
    assert_eq!(p.to_affine(), *client.p.as_affine());
    // An ordinary SM2 signature by d verifies under P, like a co-signature.
    let full = PrivateKey::Sm2(sm2::SecretKey::from_slice(&d.to_repr()).unwrap());
    assert_eq!(full.public_key(), client.public_key());
}

#[test]
fn cosignatures_verify_with_camr_standard_sm2_verify() {
    let (client, server) = keygen();
    let public = client.public_key();
    for i in 0..64usize {
        let msg = random(i * 37 % 1500);
        let sig = cosign(&client, &server, &msg).unwrap();
        assert!(verify(&public, &msg, &sig), "message {i} did not verify");
        // Negative control: another message.
        let mut other = msg.clone();
        other.push(0x42);
        assert!(
            !verify(&public, &other, &sig),
            "message {i}: a changed message verified"
        );
    }
}

#[test]
fn several_keys_each_verify_only_under_their_own_p() {
    let (c1, s1) = keygen();
    let (c2, _s2) = keygen();
    assert_ne!(c1.public_key(), c2.public_key());
    let msg = "报价 1,280,000.00 元".as_bytes();
    let sig = cosign(&c1, &s1, msg).unwrap();
    assert!(verify(&c1.public_key(), msg, &sig));
    assert!(!verify(&c2.public_key(), msg, &sig));
}

#[test]
fn other_signer_id_and_digest_signing() {
    let (client, server) = keygen();
    let other = "ALICE123@YAHOO.COM";
    let msg = b"bid file digest";
    let (pending, req) = client.sign_start(msg, other).unwrap();
    let sig = pending.finish(&server.sign(&req).unwrap()).unwrap();
    let scheme = SignatureScheme::Sm2Sm3 {
        signer_id: other.into(),
    };
    let public = client.public_key();
    provider().verify(&public, &scheme, msg, &sig).unwrap();
    assert!(!verify(&public, msg, &sig), "verified under the wrong ID");

    // Hash signing: e computed first, signed without the message; fixed r ‖ s output.
    let e = client.digest(msg, ID).unwrap();
    let (pending, req) = client.sign_digest_start(&e, ID).unwrap();
    assert_eq!(pending.digest(), e);
    assert_eq!(req.e.0, e.to_vec());
    let fixed = pending.finish_fixed(&server.sign(&req).unwrap()).unwrap();
    let der = ec_signature_from_fixed(PublicKeyAlgorithm::Sm2, &fixed).unwrap();
    assert!(verify(&public, msg, &der));
    assert!(matches!(
        client.sign_digest_start(&e[..31], ID).unwrap_err(),
        CosignError::Malformed { .. }
    ));
}

#[test]
fn wire_messages_round_trip_through_camel_case_json() {
    let (pending, req) = ClientShare::keygen_start().unwrap();
    let json = serde_json::to_string(&req).unwrap();
    assert!(json.starts_with("{\"p1\":\""), "{json}");
    let req: KeygenRequest = serde_json::from_str(&json).unwrap();
    let (server, resp) = ServerShare::keygen(&req).unwrap();
    let json = serde_json::to_value(&resp).unwrap();
    assert!(json.get("p").is_some() && json.get("p2").is_some());
    let resp: KeygenResponse = serde_json::from_value(json).unwrap();
    let client = pending.finish(&resp).unwrap();

    let (pending, req) = client.sign_start(b"m", ID).unwrap();
    let json = serde_json::to_value(&req).unwrap();
    assert!(json.get("q1").is_some() && json.get("e").is_some());
    let resp = server.sign(&serde_json::from_value(json).unwrap()).unwrap();
    let json = serde_json::to_value(&resp).unwrap();
    for f in ["r", "s2", "s3"] {
        assert_eq!(
            data_encoding::BASE64
                .decode(json[f].as_str().unwrap().as_bytes())
                .unwrap()
                .len(),
            32
        );
    }
    let sig = pending
        .finish(&serde_json::from_value(json).unwrap())
        .unwrap();
    assert!(verify(&client.public_key(), b"m", &sig));
    // Unknown fields are refused rather than ignored.
    assert!(serde_json::from_str::<DecryptRequest>(r#"{"t1":"AA==","c1":"AA=="}"#).is_err());
    let schema = schemars::schema_for!(SignResponse);
    assert!(serde_json::to_string(&schema).unwrap().contains("\"s3\""));
}

// ---------------------------------------------------------------------------------------------
// Neither share alone signs
// ---------------------------------------------------------------------------------------------

#[test]
fn neither_share_alone_makes_a_valid_signature() {
    let (client, server) = keygen();
    let public = client.public_key();
    let msg = b"contract";
    let scheme = SignatureScheme::sm2();
    let p = provider();
    // The cloud's d2, or the phone's d1, used as a whole SM2 key.
    for (who, d) in [("d2", server.d2), ("d1", client.d1)] {
        let alone = share_key(&d);
        assert_ne!(alone.public_key(), public);
        for _ in 0..8 {
            let sig = p.sign(&alone, &scheme, msg).unwrap();
            assert!(
                !verify(&public, msg, &sig),
                "a signature by {who} alone verified under P"
            );
        }
    }
    // The cloud runs the protocol against itself with a made-up client share: its answer
    // combined with a guessed d1 does not verify, so the client refuses to release it.
    let (mut pending, req) = client.sign_start(msg, ID).unwrap();
    pending.d1 = fresh_scalar().unwrap();
    let resp = server.sign(&req).unwrap();
    assert_eq!(
        pending.finish(&resp).unwrap_err(),
        CosignError::SignatureInvalid
    );
    // The server's partial values are not themselves a signature.
    let (_pending, req) = client.sign_start(msg, ID).unwrap();
    let resp = server.sign(&req).unwrap();
    for s in [&resp.s2, &resp.s3] {
        let mut fixed = resp.r.0.clone();
        fixed.extend_from_slice(s);
        let der = ec_signature_from_fixed(PublicKeyAlgorithm::Sm2, &fixed).unwrap();
        assert!(!verify(&public, msg, &der));
    }
    // A client without the server: a share from another cloud key does not help.
    let (_, other_server) = keygen();
    assert!(matches!(
        cosign(&client, &other_server, msg).unwrap_err(),
        CosignError::SignatureInvalid
    ));
}

// ---------------------------------------------------------------------------------------------
// Tampering is detected
// ---------------------------------------------------------------------------------------------

#[test]
fn damaged_stored_shares_are_detected() {
    let (client, server) = keygen();
    let msg = b"m";
    let cb = client.to_bytes();
    let sb = server.to_bytes();
    assert_eq!(cb.len(), SHARE_LEN);
    // Round trip.
    let client2 = ClientShare::from_bytes(&cb).unwrap();
    let server2 = ServerShare::from_bytes(&sb).unwrap();
    assert!(verify(
        &client.public_key(),
        msg,
        &cosign(&client2, &server2, msg).unwrap()
    ));
    // A flipped bit in d1 or d2 (still in range): the client refuses to release.
    for i in [6usize, 20, 37] {
        let mut bad = cb.to_vec();
        bad[i] ^= 0x01;
        let c = ClientShare::from_bytes(&bad).unwrap();
        assert_eq!(
            cosign(&c, &server, msg).unwrap_err(),
            CosignError::SignatureInvalid,
            "d1 byte {i}"
        );
        let mut bad = sb.to_vec();
        bad[i] ^= 0x01;
        let s = ServerShare::from_bytes(&bad).unwrap();
        assert_eq!(
            cosign(&client, &s, msg).unwrap_err(),
            CosignError::SignatureInvalid,
            "d2 byte {i}"
        );
    }
    // A flipped byte in P: not on the curve.
    let mut bad = cb.to_vec();
    bad[SHARE_LEN - 1] ^= 0x01;
    assert_eq!(
        ClientShare::from_bytes(&bad).unwrap_err(),
        CosignError::PointInvalid { what: "stored P" }
    );
    // Format: wrong role, version, magic, length, share out of range.
    assert_eq!(
        ClientShare::from_bytes(&sb).unwrap_err().code(),
        "COSIGN_MALFORMED"
    );
    assert_eq!(
        ServerShare::from_bytes(&cb).unwrap_err().code(),
        "COSIGN_MALFORMED"
    );
    for (i, v) in [(0usize, b'X'), (4, 2)] {
        let mut bad = cb.to_vec();
        bad[i] = v;
        assert_eq!(
            ClientShare::from_bytes(&bad).unwrap_err().code(),
            "COSIGN_MALFORMED"
        );
    }
    assert!(ClientShare::from_bytes(&cb[..SHARE_LEN - 1]).is_err());
    assert!(ClientShare::from_bytes(&[]).is_err());
    let mut bad = cb.to_vec();
    bad[6..38].fill(0xFF);
    assert!(ClientShare::from_bytes(&bad).is_err());
    bad[6..38].fill(0);
    assert!(ClientShare::from_bytes(&bad).is_err());
}

#[test]
fn changed_response_fields_are_refused() {
    let (client, server) = keygen();
    let msg = b"tender";
    let fields: [fn(&mut SignResponse) -> &mut Bytes; 3] =
        [|r| &mut r.r, |r| &mut r.s2, |r| &mut r.s3];
    for (f, name) in fields.iter().zip(["r", "s2", "s3"]) {
        for i in [31usize, 16] {
            let (pending, req) = client.sign_start(msg, ID).unwrap();
            let mut resp = server.sign(&req).unwrap();
            let field = f(&mut resp);
            *field = flip(field, i);
            let err = pending.finish(&resp).unwrap_err();
            assert!(
                matches!(
                    err,
                    CosignError::SignatureInvalid | CosignError::ScalarInvalid { .. }
                ),
                "{name} byte {i}: {err:?}"
            );
        }
    }
    // Out of range or wrong length: 0, n, 31 and 33 bytes.
    let n = [
        0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0x72, 0x03, 0xDF, 0x6B, 0x21, 0xC6, 0x05, 0x2B, 0x53, 0xBB, 0xF4, 0x09, 0x39, 0xD5,
        0x41, 0x23,
    ];
    for bad in [vec![0u8; 32], n.to_vec(), vec![1u8; 31], vec![1u8; 33]] {
        for name in ["r", "s2", "s3"] {
            let (pending, req) = client.sign_start(msg, ID).unwrap();
            let mut resp = server.sign(&req).unwrap();
            match name {
                "r" => resp.r = Bytes(bad.clone()),
                "s2" => resp.s2 = Bytes(bad.clone()),
                _ => resp.s3 = Bytes(bad.clone()),
            }
            let err = pending.finish(&resp).unwrap_err();
            assert_eq!(err.code(), "COSIGN_SCALAR_INVALID", "{name}: {err}");
        }
    }
    // The server signed another e, or used another Q1.
    let (pending, mut req) = client.sign_start(msg, ID).unwrap();
    req.e = flip(&req.e, 0);
    assert_eq!(
        pending.finish(&server.sign(&req).unwrap()).unwrap_err(),
        CosignError::SignatureInvalid
    );
    let (pending, _) = client.sign_start(msg, ID).unwrap();
    let (_, other_req) = client.sign_start(msg, ID).unwrap();
    assert_eq!(
        pending
            .finish(&server.sign(&other_req).unwrap())
            .unwrap_err(),
        CosignError::SignatureInvalid
    );
}

#[test]
fn keygen_refuses_bad_points() {
    let (pending, req) = ClientShare::keygen_start().unwrap();
    assert_eq!(req.p1.len(), 65);
    // Server side: P1 off the curve, the point at infinity, garbage, empty.
    for (what, p1) in [
        ("off curve", off_curve(&req.p1)),
        ("identity", Bytes(vec![0x00])),
        ("garbage", Bytes(vec![0x04; 65])),
        ("empty", Bytes(vec![])),
        ("truncated", Bytes(req.p1[..64].to_vec())),
    ] {
        let err = ServerShare::keygen(&KeygenRequest { p1 }).unwrap_err();
        assert_eq!(err, CosignError::PointInvalid { what: "P1" }, "{what}");
        assert_eq!(err.code(), "COSIGN_POINT_INVALID");
    }
    // Compressed P1 is accepted.
    let compressed = sm2::PublicKey::from_sec1_bytes(&req.p1)
        .unwrap()
        .to_sec1_point(true)
        .as_bytes()
        .to_vec();
    assert!(
        ServerShare::keygen(&KeygenRequest {
            p1: Bytes(compressed)
        })
        .is_ok()
    );

    // Client side: P or P2 invalid, or from another key generation.
    let (_server, resp) = ServerShare::keygen(&req).unwrap();
    let (_, other_req) = ClientShare::keygen_start().unwrap();
    let (_, other) = ServerShare::keygen(&other_req).unwrap();
    let cases = [
        (
            KeygenResponse {
                p: off_curve(&resp.p),
                p2: resp.p2.clone(),
            },
            "COSIGN_POINT_INVALID",
        ),
        (
            KeygenResponse {
                p: resp.p.clone(),
                p2: Bytes(vec![0]),
            },
            "COSIGN_POINT_INVALID",
        ),
        (
            KeygenResponse {
                p: other.p.clone(),
                p2: resp.p2.clone(),
            },
            "COSIGN_SHARE_MISMATCH",
        ),
        (
            KeygenResponse {
                p: resp.p.clone(),
                p2: other.p2.clone(),
            },
            "COSIGN_SHARE_MISMATCH",
        ),
    ];
    let d1 = pending.d1;
    drop(pending);
    for (resp, code) in cases {
        let pending = KeygenPending { d1 };
        assert_eq!(pending.finish(&resp).unwrap_err().code(), code);
    }
    let pending = KeygenPending { d1 };
    pending.finish(&resp).unwrap();
}

#[test]
fn server_refuses_bad_q1_and_e() {
    let (client, server) = keygen();
    let (_pending, req) = client.sign_start(b"m", ID).unwrap();
    for q1 in [off_curve(&req.q1), Bytes(vec![0]), Bytes(vec![])] {
        let bad = SignRequest {
            q1,
            e: req.e.clone(),
        };
        assert_eq!(
            server.sign(&bad).unwrap_err(),
            CosignError::PointInvalid { what: "Q1" }
        );
    }
    for e in [vec![], vec![0u8; 31], vec![0u8; 33]] {
        let bad = SignRequest {
            q1: req.q1.clone(),
            e: Bytes(e),
        };
        assert_eq!(server.sign(&bad).unwrap_err().code(), "COSIGN_MALFORMED");
    }
}

// ---------------------------------------------------------------------------------------------
// Nonces
// ---------------------------------------------------------------------------------------------

#[test]
fn nonces_are_fresh_and_replayed_q1_is_refused() {
    let (client, server) = keygen();
    let msg = b"same message";
    let a = cosign(&client, &server, msg).unwrap();
    let b = cosign(&client, &server, msg).unwrap();
    assert_ne!(a, b, "two co-signatures of one message are equal");
    let (_p1, r1) = client.sign_start(msg, ID).unwrap();
    let (_p2, r2) = client.sign_start(msg, ID).unwrap();
    assert_ne!(r1.q1, r2.q1);
    // The server's nonces are fresh too: one request answered twice gives different r.
    assert_ne!(server.sign(&r1).unwrap().r, server.sign(&r1).unwrap().r);

    let mut cache = ReplayCache::new(2);
    assert!(cache.is_empty());
    let (pending, req) = client.sign_start(msg, ID).unwrap();
    let resp = server.sign_checked(&req, &mut cache).unwrap();
    assert!(verify(
        &client.public_key(),
        msg,
        &pending.finish(&resp).unwrap()
    ));
    assert_eq!(
        server.sign_checked(&req, &mut cache).unwrap_err(),
        CosignError::Replay
    );
    // The same Q1 in compressed form is the same point.
    let compressed = sm2::PublicKey::from_sec1_bytes(&req.q1)
        .unwrap()
        .to_sec1_point(true)
        .as_bytes()
        .to_vec();
    let again = SignRequest {
        q1: Bytes(compressed),
        e: req.e.clone(),
    };
    assert_eq!(
        server.sign_checked(&again, &mut cache).unwrap_err().code(),
        "COSIGN_REPLAY"
    );
    // Bounded: after two newer entries the first is forgotten.
    for _ in 0..2 {
        let (_p, r) = client.sign_start(msg, ID).unwrap();
        server.sign_checked(&r, &mut cache).unwrap();
    }
    assert_eq!(cache.len(), 2);
    assert!(server.sign_checked(&req, &mut cache).is_ok());
}

/// The pitfall of docs/cosign.md, checked: a server that reuses k2 and k3 hands the client
/// d2 (s3′ − s3 = d2·(r′ − r)). This is why the server draws them per request.
#[test]
fn reused_server_nonce_would_leak_d2() {
    let (_client, server) = keygen();
    let d2 = *server.d2;
    let (k2, k3) = (*fresh_scalar().unwrap(), *fresh_scalar().unwrap());
    let sign_with = |e: Scalar, q1: ProjectivePoint| {
        let r = e + x_mod_n(&(q1 * k3 + ProjectivePoint::generator() * k2));
        (r, d2 * (r + k2))
    };
    let q1 = ProjectivePoint::generator() * *fresh_scalar().unwrap();
    let (r, s3) = sign_with(Scalar::from(7u64), q1);
    let (r2, s3b) = sign_with(Scalar::from(8u64), q1);
    let recovered = (s3b - s3) * Option::<Scalar>::from((r2 - r).invert()).unwrap();
    assert_eq!(recovered, d2);
}

// ---------------------------------------------------------------------------------------------
// Co-decryption
// ---------------------------------------------------------------------------------------------

fn codecrypt(
    client: &ClientShare,
    server: &ServerShare,
    ct: &[u8],
    form: Sm2CiphertextForm,
) -> Result<SecretBytes> {
    let (pending, req) = client.decrypt_start(ct, form)?;
    let resp = server.decrypt(&req)?;
    pending.finish(&resp)
}

#[test]
fn codecryption_opens_camr_sm2_ciphertexts_to_p() {
    let (client, server) = keygen();
    let public = client.public_key();
    let p = provider();
    for len in [1usize, 16, 32, 33, 100, 1000] {
        let msg = random(len);
        for form in [Sm2CiphertextForm::Asn1, Sm2CiphertextForm::Raw] {
            let ct = p.sm2_encrypt(&public, &msg, form).unwrap();
            let plain = codecrypt(&client, &server, &ct, form).unwrap();
            assert_eq!(plain.as_slice(), msg.as_slice(), "{len} bytes, {form:?}");
        }
    }
    // And camr's ordinary decryption with the joint key d agrees (the algebra, once).
    let d = *(client.d1 * server.d2).invert() - Scalar::ONE;
    let full = PrivateKey::Sm2(sm2::SecretKey::from_slice(&d.to_repr()).unwrap());
    let ct = p
        .sm2_encrypt(&public, b"key", Sm2CiphertextForm::Asn1)
        .unwrap();
    assert_eq!(
        p.sm2_decrypt(&full, &ct, Sm2CiphertextForm::Asn1)
            .unwrap()
            .as_slice(),
        b"key"
    );
}

#[test]
fn codecryption_refuses_changed_data() {
    let (client, server) = keygen();
    let p = provider();
    let msg = random(32);
    let ct = p
        .sm2_encrypt(&client.public_key(), &msg, Sm2CiphertextForm::Raw)
        .unwrap();
    assert_eq!(ct.len(), 65 + 32 + 32);
    // C3 (bytes 65..97) and C2 (97..) changed: the C3 check fails.
    for i in [65usize, 96, 97, ct.len() - 1] {
        let mut bad = ct.clone();
        bad[i] ^= 0x01;
        let err = codecrypt(&client, &server, &bad, Sm2CiphertextForm::Raw).unwrap_err();
        assert_eq!(err.code(), "COSIGN_DECRYPTION_FAILED", "byte {i}");
    }
    // C1 changed: off the curve.
    let mut bad = ct.clone();
    bad[64] ^= 0x01;
    assert_eq!(
        codecrypt(&client, &server, &bad, Sm2CiphertextForm::Raw)
            .unwrap_err()
            .code(),
        "COSIGN_MALFORMED"
    );
    // Wrong form, truncated, empty C2.
    assert!(client.decrypt_start(&ct, Sm2CiphertextForm::Asn1).is_err());
    assert!(
        client
            .decrypt_start(&ct[..60], Sm2CiphertextForm::Raw)
            .is_err()
    );
    assert_eq!(
        client
            .decrypt_start(&ct[..97], Sm2CiphertextForm::Raw)
            .unwrap_err()
            .code(),
        "COSIGN_MALFORMED"
    );

    // T2 changed: another valid point, or not a point.
    let (pending, req) = client.decrypt_start(&ct, Sm2CiphertextForm::Raw).unwrap();
    let resp = server.decrypt(&req).unwrap();
    let moved = decode_point("T2", &resp.t2).unwrap() + ProjectivePoint::generator();
    let bad = DecryptResponse {
        t2: encode_point("T2", &moved).unwrap().into(),
    };
    assert_eq!(
        pending.finish(&bad).unwrap_err().code(),
        "COSIGN_DECRYPTION_FAILED"
    );
    let (pending, req) = client.decrypt_start(&ct, Sm2CiphertextForm::Raw).unwrap();
    let resp = server.decrypt(&req).unwrap();
    assert_eq!(
        pending
            .finish(&DecryptResponse {
                t2: off_curve(&resp.t2)
            })
            .unwrap_err(),
        CosignError::PointInvalid { what: "T2" }
    );
    // T2 = C1 would make d·C1 = O.
    let (pending, _req) = client.decrypt_start(&ct, Sm2CiphertextForm::Raw).unwrap();
    let c1 = Bytes(ct[..65].to_vec());
    assert_eq!(
        pending
            .finish(&DecryptResponse { t2: c1 })
            .unwrap_err()
            .code(),
        "COSIGN_DECRYPTION_FAILED"
    );
    // Server refuses a bad T1.
    for t1 in [off_curve(&req.t1), Bytes(vec![0]), Bytes(vec![])] {
        assert_eq!(
            server.decrypt(&DecryptRequest { t1 }).unwrap_err(),
            CosignError::PointInvalid { what: "T1" }
        );
    }
    // Another key's server share: the C3 check fails.
    let (_, other_server) = keygen();
    assert_eq!(
        codecrypt(&client, &other_server, &ct, Sm2CiphertextForm::Raw)
            .unwrap_err()
            .code(),
        "COSIGN_DECRYPTION_FAILED"
    );
}

#[test]
fn public_key_exports_as_spki() {
    let (client, server) = keygen();
    let der = client.public_key_spki_der().unwrap();
    assert_eq!(der, server.public_key_spki_der().unwrap());
    assert_eq!(PublicKey::from_spki_der(&der).unwrap(), client.public_key());
    // Debug output never shows a share.
    let shown = format!("{client:?} {server:?}");
    assert!(shown.contains("<secret>"));
    assert!(!shown.contains(&data_encoding::HEXLOWER.encode(&client.d1.to_repr())));
    assert!(!shown.contains(&data_encoding::HEXUPPER.encode(&server.d2.to_repr())));
}

#[test]
fn error_codes_are_stable() {
    let all = [
        (
            CosignError::PointInvalid { what: "P1" },
            "COSIGN_POINT_INVALID",
        ),
        (
            CosignError::ScalarInvalid { what: "r" },
            "COSIGN_SCALAR_INVALID",
        ),
        (CosignError::ShareMismatch, "COSIGN_SHARE_MISMATCH"),
        (CosignError::SignatureInvalid, "COSIGN_SIGNATURE_INVALID"),
        (
            CosignError::DecryptionFailed { reason: "x" },
            "COSIGN_DECRYPTION_FAILED",
        ),
        (CosignError::Retry { what: "s = 0" }, "COSIGN_RETRY"),
        (CosignError::Replay, "COSIGN_REPLAY"),
        (CosignError::malformed("e", "short"), "COSIGN_MALFORMED"),
        (CosignError::RandomFailed, "COSIGN_RANDOM_FAILED"),
    ];
    for (e, code) in all {
        assert_eq!(e.code(), code);
        let text = e.to_string();
        assert!(text.len() > 20, "{code}: {text}");
        let _ = e.error_code();
    }
}
