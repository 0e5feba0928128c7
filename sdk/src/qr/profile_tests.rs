#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use super::*;
use crate::crypto::{KeyAlgorithm, default_provider};
use crate::protocol::{ErrorCode, SystemCode};

const NOW: i64 = 1_790_000_000;
const URI: &str =
    "https://platform.example/camr/v1/request/C1100005553a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5";

fn signer(alg: KeyAlgorithm) -> QrSigner {
    let p = default_provider();
    let key = p.generate_key(alg).unwrap();
    QrSigner::new(p, key, None).unwrap()
}

fn fields(op: Operation) -> QrFields {
    QrFields {
        tid: Tid::new(&SystemCode::parse("C1100005553").unwrap(), [0xa5; 16]),
        operation: op,
        request_uri: URI.to_string(),
        expires_at: NOW + 120,
    }
}

fn profiles() -> Vec<Arc<dyn QrProfile>> {
    vec![Arc::new(Camr1), Arc::new(Vendor1)]
}

#[test]
fn every_profile_round_trips_encode_parse_verify_for_every_operation_and_key() {
    let p = default_provider();
    for alg in [KeyAlgorithm::Sm2, KeyAlgorithm::P256, KeyAlgorithm::Rsa2048] {
        let s = signer(alg);
        let pk = s.key.public_key();
        for profile in profiles() {
            for op in Operation::ALL {
                let payload = profile.sign(&s, &fields(op)).unwrap();
                let text = profile.encode(&payload);
                assert!(profile.recognises(&text), "{}: {text}", profile.id());
                let found = find_profile(&profiles(), &text).unwrap();
                assert_eq!(found.id(), profile.id());
                let parsed = profile.parse(&text).unwrap();
                assert_eq!(parsed, payload);
                profile
                    .verify(p.as_ref(), &parsed, &pk, VerifyOptions::at(NOW))
                    .unwrap();
            }
        }
    }
}

#[test]
fn camr1_profile_is_the_camr1_format() {
    let s = signer(KeyAlgorithm::Sm2);
    let payload = Camr1.sign(&s, &fields(Operation::Login)).unwrap();
    assert_eq!(Camr1.encode(&payload), encode(&payload));
    assert!(Camr1.encode(&payload).starts_with(SCHEME_PREFIX));
    assert_eq!(Camr1.request_fetch_uri(&payload), URI);
    assert_eq!(
        Camr1.response_post_uri("https://p.example/r"),
        "https://p.example/r"
    );
}

#[test]
fn vendor_code_has_its_own_shape_and_transport() {
    let s = signer(KeyAlgorithm::Sm2);
    let payload = Vendor1.sign(&s, &fields(Operation::Login)).unwrap();
    let text = Vendor1.encode(&payload);
    assert!(
        text.starts_with("camrv1://scan?t=C1100005553a5a5"),
        "{text}"
    );
    assert!(text.contains("&o=login&"), "{text}");
    assert_eq!(
        Vendor1.request_fetch_uri(&payload),
        format!("{URI}?qr=vendor1")
    );
    assert_eq!(
        Vendor1.response_post_uri("https://p.example/r?x=1"),
        "https://p.example/r?x=1&qr=vendor1"
    );
}

#[test]
fn every_changed_character_of_a_vendor_code_is_refused() {
    let p = default_provider();
    let s = signer(KeyAlgorithm::Sm2);
    let pk = s.key.public_key();
    let text = Vendor1.encode(&Vendor1.sign(&s, &fields(Operation::Signature)).unwrap());
    let mut refused = 0;
    for i in 0..text.len() {
        let mut bytes = text.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).unwrap();
        let err = Vendor1
            .parse_and_verify(p.as_ref(), &changed, &pk, VerifyOptions::at(NOW))
            .expect_err(&changed);
        assert!(
            matches!(
                err.code(),
                ErrorCode::QrMalformed | ErrorCode::QrSignatureInvalid
            ),
            "{changed}: {err}"
        );
        refused += 1;
    }
    assert_eq!(refused, text.len());
}

#[test]
fn foreign_codes_are_refused_with_typed_errors() {
    let p = default_provider();
    let s = signer(KeyAlgorithm::Sm2);
    let pk = s.key.public_key();
    let national = Camr1.encode(&Camr1.sign(&s, &fields(Operation::Login)).unwrap());
    let vendor = Vendor1.encode(&Vendor1.sign(&s, &fields(Operation::Login)).unwrap());

    // Each profile refuses the other's text as malformed.
    assert_eq!(
        Vendor1.parse(&national).unwrap_err().code(),
        ErrorCode::QrMalformed
    );
    assert_eq!(
        Camr1.parse(&vendor).unwrap_err().code(),
        ErrorCode::QrMalformed
    );
    assert!(!Vendor1.recognises(&national) && !Camr1.recognises(&vendor));
    let unknown = find_profile(&profiles(), "https://example.com/qr").unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::QrMalformed);

    // A signature made for one profile does not verify as the other's (domain separation):
    // re-writing a national code's fields as a vendor code keeps the fields, not the validity.
    let national_payload = Camr1.parse(&national).unwrap();
    let rewritten = Vendor1.encode(&national_payload);
    let parsed = Vendor1.parse(&rewritten).unwrap();
    let err = Vendor1
        .verify(p.as_ref(), &parsed, &pk, VerifyOptions::at(NOW))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::QrSignatureInvalid);
    let vendor_payload = Vendor1.parse(&vendor).unwrap();
    let err = Camr1
        .verify(p.as_ref(), &vendor_payload, &pk, VerifyOptions::at(NOW))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::QrSignatureInvalid);

    // Another platform's key, and an expired code.
    let other = signer(KeyAlgorithm::Sm2).key.public_key();
    let err = Vendor1
        .parse_and_verify(p.as_ref(), &vendor, &other, VerifyOptions::at(NOW))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::QrSignatureInvalid);
    let err = Vendor1
        .parse_and_verify(p.as_ref(), &vendor, &pk, VerifyOptions::at(NOW + 3600))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::QrExpired);
}

#[test]
fn vendor_codes_rotate_too() {
    let p = default_provider();
    let s = signer(KeyAlgorithm::Sm2);
    let payload = Vendor1.sign(&s, &fields(Operation::Login)).unwrap();
    let rot = RotatingQr::with_secret(p.clone(), payload, NOW, zeroize::Zeroizing::new([7u8; 32]));
    let code = rot.code_at(2);
    let text = Vendor1.encode(&code);
    assert!(text.contains("&n=2&m="), "{text}");
    let parsed = Vendor1.parse(&text).unwrap();
    rot.verify_scan(&parsed, NOW + 3).unwrap();
    assert!(Vendor1.request_fetch_uri(&parsed).ends_with("&qr=vendor1"));
    assert!(Vendor1.request_fetch_uri(&parsed).contains("?rot=2."));
}
