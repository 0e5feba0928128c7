#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::crypto::{KeyAlgorithm, default_provider};
use crate::protocol::{Operation, Tid};
use crate::qr::{QrFields, QrSigner};

const NOW: i64 = 1_790_000_000;

struct Fixture {
    authority: PrivateKey,
    platform_key: PrivateKey,
    signed: SignedTrustList,
    root: Certificate,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let p = default_provider();
    let authority = p.generate_key(KeyAlgorithm::Sm2).unwrap();
    let platform_key = p.generate_key(KeyAlgorithm::Sm2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = crate::softca::SoftCa::init(
        p.clone(),
        &dir.path().join("ca"),
        KeyAlgorithm::Sm2,
        "Vendor CA",
    )
    .unwrap();
    let key_id = crate::qr::default_key_id(p.as_ref(), &platform_key.public_key()).unwrap();
    let list = TrustList {
        version: 7,
        issued_at: NOW - 10,
        expires_at: NOW + 86_400,
        platforms: vec![PlatformEntry {
            system_code: SystemCode::parse("C1100005553").unwrap(),
            system_name: "移动数字证书(CA)互认模拟测试系统".into(),
            keys: vec![PlatformKey {
                key_id,
                spki: Bytes(platform_key.public_key().to_spki_der().unwrap()),
            }],
            request_uri_prefixes: vec!["https://platform.example/camr/v1/request/".into()],
            response_uris: vec!["https://platform.example/camr/v1/response".into()],
            accepted_vendors: vec!["SOFTCA".into()],
            requirements: Vec::new(),
        }],
        vendors: vec![
            VendorEntry {
                ca_org_type: "SOFTCA".into(),
                name: "camr software CA".into(),
                roots: vec![Bytes(ca.root().der().to_vec())],
                adapter: None,
                org_certs_delegated: false,
            },
            VendorEntry {
                ca_org_type: "OTHER".into(),
                name: "Other CA".into(),
                roots: vec![Bytes(ca.root().der().to_vec())],
                adapter: None,
                org_certs_delegated: false,
            },
        ],
    };
    let signed = sign(p.as_ref(), &list, &authority, "REG1").unwrap();
    Fixture {
        authority,
        platform_key,
        signed,
        root: ca.root().clone(),
        _dir: dir,
    }
}

fn qr_text(key: &PrivateKey, system_code: &str, uri_prefix: &str, key_id: Option<&str>) -> String {
    let p = default_provider();
    let signer = QrSigner::new(p, key.clone(), key_id).unwrap();
    let tid = Tid::new(&SystemCode::parse(system_code).unwrap(), [9; 16]);
    let payload = signer
        .sign(&QrFields {
            request_uri: format!("{uri_prefix}{tid}"),
            tid,
            operation: Operation::Login,
            expires_at: NOW + 60,
        })
        .unwrap();
    crate::qr::encode(&payload)
}

#[test]
fn a_signed_list_verifies_and_a_changed_or_stale_one_does_not() {
    let f = fixture();
    let p = default_provider();
    let auth = f.authority.public_key();
    let reg = Registry::verify(p.as_ref(), &f.signed, &auth, NOW).unwrap();
    assert_eq!(reg.list().version, 7);
    let mut changed = f.signed.clone();
    changed.trust_list = changed.trust_list.replace("模拟测试系统", "钓鱼系统");
    assert_eq!(
        Registry::verify(p.as_ref(), &changed, &auth, NOW)
            .unwrap_err()
            .code(),
        ErrorCode::RegistryInvalid
    );
    assert_eq!(
        Registry::verify(p.as_ref(), &f.signed, &auth, NOW + 2 * 86_400)
            .unwrap_err()
            .code(),
        ErrorCode::RegistryInvalid
    );
    let other = p.generate_key(KeyAlgorithm::Sm2).unwrap().public_key();
    assert_eq!(
        Registry::verify(p.as_ref(), &f.signed, &other, NOW)
            .unwrap_err()
            .code(),
        ErrorCode::RegistryInvalid
    );
}

#[test]
fn apps_accept_only_listed_platforms_with_their_keys_and_uris() {
    let f = fixture();
    let p = default_provider();
    let reg = Registry::verify(p.as_ref(), &f.signed, &f.authority.public_key(), NOW).unwrap();
    let prefix = "https://platform.example/camr/v1/request/";
    let opts = VerifyOptions::at(NOW);
    let (payload, name) = reg
        .check_qr(
            p.as_ref(),
            &qr_text(&f.platform_key, "C1100005553", prefix, None),
            opts,
        )
        .unwrap();
    assert_eq!(name, "移动数字证书(CA)互认模拟测试系统");
    assert_eq!(payload.operation, Operation::Login);
    // An unregistered platform.
    let e = reg
        .check_qr(
            p.as_ref(),
            &qr_text(&f.platform_key, "M1100000034", prefix, None),
            opts,
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PlatformUnknown);
    // A phishing copy: right system code, another key (its own key id) ...
    let attacker = p.generate_key(KeyAlgorithm::Sm2).unwrap();
    let e = reg
        .check_qr(
            p.as_ref(),
            &qr_text(&attacker, "C1100005553", prefix, None),
            opts,
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PlatformUnknown);
    // ... or claiming the platform's key id: the signature fails.
    let key_id = reg
        .platform(&SystemCode::parse("C1100005553").unwrap())
        .unwrap()
        .keys[0]
        .key_id
        .clone();
    let e = reg
        .check_qr(
            p.as_ref(),
            &qr_text(&attacker, "C1100005553", prefix, Some(&key_id)),
            opts,
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::QrSignatureInvalid);
    // The platform's key, but a request URI elsewhere.
    let e = reg
        .check_qr(
            p.as_ref(),
            &qr_text(
                &f.platform_key,
                "C1100005553",
                "https://evil.example/",
                None,
            ),
            opts,
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PlatformUnknown);
    let sc = SystemCode::parse("C1100005553").unwrap();
    reg.check_response_uri(&sc, "https://platform.example/camr/v1/response")
        .unwrap();
    assert_eq!(
        reg.check_response_uri(&sc, "https://evil.example/r")
            .unwrap_err()
            .code(),
        ErrorCode::PlatformUnknown
    );
}

#[test]
fn platforms_trust_only_the_roots_of_vendors_they_accept() {
    let f = fixture();
    let p = default_provider();
    let reg = Registry::verify(p.as_ref(), &f.signed, &f.authority.public_key(), NOW).unwrap();
    let sc = SystemCode::parse("C1100005553").unwrap();
    let roots = reg.vendor_roots(&sc, "SOFTCA").unwrap();
    assert_eq!(roots.anchors(), std::slice::from_ref(&f.root));
    assert_eq!(
        reg.vendor_roots(&sc, "OTHER").unwrap_err().code(),
        ErrorCode::CertNotEntitled
    );
    assert_eq!(
        reg.vendor_roots(&sc, "NOPE").unwrap_err().code(),
        ErrorCode::CertNotEntitled
    );
}
