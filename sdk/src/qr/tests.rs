#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::crypto::{KeyAlgorithm, default_provider};
use crate::protocol::SystemCode;

const NOW: i64 = 1_790_000_000;
/// The longest realistic request URI: 120 characters.
const LONG_URI: &str = "https://ggzy.example-province.gov.cn/tradingsystem/camr/v1/request/C1100005553a3f9c0e1b2d4f6a8c0e2b4d6f8a0c2e4?lng=zh-CN";

fn signer(alg: KeyAlgorithm) -> QrSigner {
    let p = default_provider();
    let key = p.generate_key(alg).unwrap();
    QrSigner::new(p, key, None).unwrap()
}

fn tid() -> Tid {
    Tid::new(&SystemCode::parse("C1100005553").unwrap(), [0xa5; 16])
}

fn fields(op: Operation) -> QrFields {
    QrFields {
        tid: tid(),
        operation: op,
        request_uri: LONG_URI.to_string(),
        expires_at: NOW + 120,
    }
}

#[test]
fn long_uri_is_120_characters() {
    assert_eq!(LONG_URI.len(), 120);
}

#[test]
fn payload_round_trips_for_every_operation() {
    let s = signer(KeyAlgorithm::Sm2);
    for op in Operation::ALL {
        let p = s.sign(&fields(op)).unwrap();
        let text = encode(&p);
        let parsed = parse(&text).unwrap();
        assert_eq!(parsed, p);
        assert_eq!(parsed.system_code().as_str(), "C1100005553");
        let pk = PrivateKey::public_key(&s.key);
        verify(
            default_provider().as_ref(),
            &parsed,
            &pk,
            VerifyOptions::at(NOW),
        )
        .unwrap();
    }
}

#[test]
fn every_payload_fits_version_12_at_level_m() {
    for alg in [KeyAlgorithm::Sm2, KeyAlgorithm::P256] {
        let s = signer(alg);
        for op in Operation::ALL {
            let p = s.sign(&fields(op)).unwrap();
            let rot = RotatingQr::new(default_provider(), p.clone(), NOW).unwrap();
            for payload in [p, rot.code_at(999_999)] {
                let text = encode(&payload);
                let code = to_qr_code(&text).unwrap();
                let qrcode::Version::Normal(v) = code.version() else {
                    panic!("micro QR")
                };
                assert!(
                    v <= 12,
                    "{alg:?} {op:?}: version {v} for {} bytes: {text}",
                    text.len()
                );
                assert_eq!(code.error_correction_level(), qrcode::EcLevel::M);
            }
        }
    }
}

#[test]
fn rsa_signed_payload_is_larger_but_still_decodes() {
    let s = signer(KeyAlgorithm::Rsa2048);
    let p = s.sign(&fields(Operation::Login)).unwrap();
    let text = encode(&p);
    let png = render_png(&text, 4).unwrap();
    assert_eq!(decode_image(&png).unwrap(), text);
    let pk = s.key.public_key();
    parse_and_verify(
        default_provider().as_ref(),
        &text,
        &pk,
        VerifyOptions::at(NOW),
    )
    .unwrap();
}

#[test]
fn png_decodes_with_rqrr_to_the_exact_payload() {
    let s = signer(KeyAlgorithm::Sm2);
    let p = s.sign(&fields(Operation::Decrypt)).unwrap();
    let text = encode(&p);
    let png = render_png(&text, 4).unwrap();
    assert_eq!(decode_image(&png).unwrap(), text);
    let svg = render_svg(&text).unwrap();
    assert!(svg.starts_with("<?xml"), "{}", &svg[..40]);
}

fn flip(c: char) -> char {
    match c {
        '0'..='8' | 'A'..='Y' | 'a'..='y' => char::from(c as u8 + 1),
        '9' => '0',
        'Z' => 'A',
        'z' => 'a',
        '.' => ':',
        ' ' => '+',
        ':' => '.',
        '/' => '.',
        _ => 'X',
    }
}

#[test]
fn flipping_any_character_is_refused() {
    let provider = default_provider();
    for rotating in [false, true] {
        let s = signer(KeyAlgorithm::Sm2);
        let mut p = s.sign(&fields(Operation::Signature)).unwrap();
        let rot = RotatingQr::new(provider.clone(), p.clone(), NOW).unwrap();
        if rotating {
            p = rot.code_at(2);
        }
        let text = encode(&p);
        let pk = s.key.public_key();
        for (i, c) in text.char_indices() {
            let mut changed = text.clone();
            changed.replace_range(i..i + c.len_utf8(), &flip(c).to_string());
            assert_ne!(changed, text);
            let outcome =
                parse_and_verify(provider.as_ref(), &changed, &pk, VerifyOptions::at(NOW))
                    .and_then(|q| {
                        if rotating {
                            rot.verify_scan(&q, NOW + 2)
                        } else {
                            Ok(())
                        }
                    });
            assert!(outcome.is_err(), "flip at {i} ({c:?}) accepted: {changed}");
        }
    }
}

#[test]
fn wrong_key_is_refused_with_qr_signature_invalid() {
    let s = signer(KeyAlgorithm::Sm2);
    let other = default_provider()
        .generate_key(KeyAlgorithm::Sm2)
        .unwrap()
        .public_key();
    let text = encode(&s.sign(&fields(Operation::Login)).unwrap());
    let err = parse_and_verify(
        default_provider().as_ref(),
        &text,
        &other,
        VerifyOptions::at(NOW),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::QrSignatureInvalid);
    // A key of another family is refused the same way, not with a panic.
    let p256 = default_provider()
        .generate_key(KeyAlgorithm::P256)
        .unwrap()
        .public_key();
    let err = parse_and_verify(
        default_provider().as_ref(),
        &text,
        &p256,
        VerifyOptions::at(NOW),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::QrSignatureInvalid);
}

#[test]
fn expired_payload_is_refused_with_qr_expired_after_the_skew() {
    let s = signer(KeyAlgorithm::Sm2);
    let mut f = fields(Operation::Login);
    f.expires_at = NOW - 31;
    let text = encode(&s.sign(&f).unwrap());
    let pk = s.key.public_key();
    let err = parse_and_verify(
        default_provider().as_ref(),
        &text,
        &pk,
        VerifyOptions::at(NOW),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::QrExpired);
    // Within the configured skew it is still accepted.
    let lenient = VerifyOptions {
        now: NOW,
        clock_skew_secs: 60,
    };
    parse_and_verify(default_provider().as_ref(), &text, &pk, lenient).unwrap();
}

#[test]
fn rotating_code_is_accepted_fresh_and_refused_when_stale() {
    let provider = default_provider();
    let s = signer(KeyAlgorithm::Sm2);
    let p = s.sign(&fields(Operation::Login)).unwrap();
    let rot = RotatingQr::new(provider.clone(), p, NOW).unwrap();
    let code = rot.code_now(NOW + 10);
    assert_eq!(code.rotation.as_ref().unwrap().step, 10);
    let scanned = parse(&encode(&code)).unwrap();
    rot.verify_scan(&scanned, NOW + 10).unwrap();
    rot.verify_scan(&scanned, NOW + 13).unwrap();
    let err = rot.verify_scan(&scanned, NOW + 14).unwrap_err();
    assert_eq!(err.code(), ErrorCode::QrStepStale);
    // Consecutive steps carry different MACs.
    assert_ne!(rot.code_at(10).rotation, rot.code_at(11).rotation);
    // A code without the rotating part, or with another transaction's secret, is refused.
    let err = rot.verify_scan(rot.payload(), NOW + 10).unwrap_err();
    assert_eq!(err.code(), ErrorCode::QrSignatureInvalid);
    let other = RotatingQr::new(provider, rot.payload().clone(), NOW).unwrap();
    let err = rot.verify_scan(&other.code_at(10), NOW + 10).unwrap_err();
    assert_eq!(err.code(), ErrorCode::QrSignatureInvalid);
}

#[test]
fn malformed_texts_are_refused_with_qr_malformed() {
    let s = signer(KeyAlgorithm::Sm2);
    let good = encode(&s.sign(&fields(Operation::Login)).unwrap());
    let lower = good.replacen("CAMR1:", "camr1:", 1);
    let no_uri = good.split(' ').next().unwrap().to_string();
    let huge = "A".repeat(10_000);
    let cases = [
        "",
        "CAMR1:",
        "hello world",
        lower.as_str(),
        no_uri.as_str(),
        huge.as_str(),
        "CAMR1:C1100005553A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5.L.1.K.AA ftp://x",
        "CAMR1:C1100005553A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5.Q.1.K.AA https://x",
        "CAMR1:C1100005553A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5.L.01.K.AA https://x",
        "CAMR1:C1100005553A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5.L.1.k.AA https://x",
        "CAMR1:C1100005553A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5.L.1.K.A1 https://x",
        "CAMR1:c1100005553A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5.L.1.K.AA https://x",
        "CAMR1:C1100005553A5A5.L.1.K.AA https://x",
        "CAMR1:C1100005553A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5.L.1.K.AA.1 https://x",
        "CAMR1:C1100005553A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5.L.1.K.AA https://x\u{7f}",
    ];
    for case in cases {
        let err = parse(case).unwrap_err();
        assert_eq!(err.code(), ErrorCode::QrMalformed, "{case:.80}: {err}");
    }
}

#[test]
fn garbage_image_is_refused_without_panic() {
    for bytes in [
        &b""[..],
        b"\x89PNG\r\n\x1a\n",
        b"not an image at all",
        &[0u8; 4096],
    ] {
        let err = decode_image(bytes).unwrap_err();
        assert_eq!(err.code(), ErrorCode::QrMalformed);
    }
}

#[test]
fn key_id_is_checked_and_defaulted() {
    let p = default_provider();
    let key = p.generate_key(KeyAlgorithm::Sm2).unwrap();
    let s = QrSigner::new(p.clone(), key.clone(), None).unwrap();
    assert_eq!(s.key_id().len(), 8);
    assert!(QrSigner::new(p.clone(), key.clone(), Some("platform-1")).is_err());
    assert!(QrSigner::new(p, key, Some("PLATFORM1")).is_ok());
}

#[test]
fn the_rotation_query_round_trips_and_refuses_malformed_parts() {
    let rot = QrRotation {
        step: 42,
        mac: Bytes::from(vec![1, 2, 3, 4, 5, 6, 7, 8]),
    };
    let q = rotation_query(&rot);
    assert_eq!(parse_rotation_query(&q).unwrap(), rot);
    for bad in [
        "",
        "42",
        "42.",
        ".AEBAGBAFAYDQQ",
        "x.AEBAGBAFAYDQQ",
        "42.AEBAGBAF",
        "9999999.AEBAGBAFAYDQQ",
        "42.aebagbafaydqq!",
    ] {
        let e = parse_rotation_query(bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::QrMalformed, "{bad}");
    }
}
