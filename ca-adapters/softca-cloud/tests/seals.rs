//! The seals (印章) the softca cloud makes for its wallets, served in-process
//! (`softca_cloud::spawn`) and fetched through the softca adapter's `list_seals`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use camr::crypto::{KeyAlgorithm, default_provider};
use camr::protocol::{SealInfo, SealKind};
use camr::seal::appearance::SealImage;
use camr::softca::{Holder, SoftCa};
use camr_adapter_softca::SoftCaAdapter;
use camr_plugin_abi::{AdapterImpl, codes};

struct World {
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
    base: String,
    org_serial: String,
    org_enc_serial: String,
    personal_serial: String,
    adapter: SoftCaAdapter,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let wallets = dir.path().join("wallets");
    let mut ca = SoftCa::init(default_provider(), &ca_dir, KeyAlgorithm::Sm2, "Seal CA").unwrap();
    let org = ca
        .issue(
            &Holder::org("张三", "某某建设有限公司", "91350100M000100Y43"),
            b"123456",
            &wallets.join("org"),
            30,
        )
        .unwrap();
    let personal = ca
        .issue(
            &Holder::personal("李四"),
            b"123456",
            &wallets.join("personal"),
            30,
        )
        .unwrap();
    drop(ca);
    // The cloud runs on its own runtime's threads; the adapter's blocking client runs on the
    // test thread, outside the runtime.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (addr, _task) = {
        let _entered = runtime.enter();
        softca_cloud::spawn(&ca_dir, Some(wallets)).unwrap()
    };
    let base = format!("http://{addr}");
    let adapter = SoftCaAdapter::new();
    adapter
        .configure(&serde_json::json!({ "cloudUrl": base, "timeoutMs": 20_000 }).to_string())
        .unwrap();
    World {
        _dir: dir,
        _runtime: runtime,
        base,
        org_serial: org.sign_serial,
        org_enc_serial: org.enc_serial,
        personal_serial: personal.sign_serial,
        adapter,
    }
}

fn subject_json(serial: &str) -> String {
    serde_json::json!({ "name": "张三", "certSn": serial }).to_string()
}

fn seals(w: &World, serial: &str) -> Vec<SealInfo> {
    let json = w.adapter.list_seals(&subject_json(serial)).unwrap();
    serde_json::from_str(&json).unwrap()
}

fn get(url: &str) -> (u16, serde_json::Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let resp = reqwest::blocking::get(url).unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap())
}

#[test]
fn an_organisation_gets_its_four_seals_and_a_person_a_name_seal_and_a_signature() {
    let w = world();

    let org = seals(&w, &w.org_serial);
    let kinds: Vec<SealKind> = org.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            SealKind::Official,
            SealKind::LegalRepresentative,
            SealKind::Finance,
            SealKind::Contract
        ]
    );
    let personal = seals(&w, &w.personal_serial);
    let kinds: Vec<SealKind> = personal.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [SealKind::PersonalName, SealKind::Handwritten]);

    let mut codes = BTreeSet::new();
    for seal in org.iter().chain(&personal) {
        seal.check().unwrap();
        assert!(
            seal.code
                .starts_with(&format!("SOFTCA-{}-", seal.kind.as_str())),
            "{}",
            seal.code
        );
        assert!(codes.insert(seal.code.clone()), "codes are unique");
        let img = SealImage::from_png(&seal.image).unwrap();
        assert!(img.has_transparency(), "{}", seal.code);
    }
    assert!(
        org.iter()
            .all(|s| s.cert_sn.eq_ignore_ascii_case(&w.org_serial))
    );
    assert_eq!(org[0].name, "某某建设有限公司公章");
    assert_eq!(org[1].name, "张三法人章");
    assert_eq!(personal[1].name, "李四手写签名");
    assert_eq!((org[2].width_mm, org[2].height_mm), (45, 30), "the oval");

    // Stable: the same seals (codes and images) on every call, lower-case serials too.
    assert_eq!(seals(&w, &w.org_serial.to_ascii_lowercase()), org);
}

#[test]
fn unknown_serials_and_bad_queries_are_refused() {
    let w = world();
    // Through the adapter: the cloud's 404 is the caller's fault, with the cloud's sentence.
    let e = w.adapter.list_seals(&subject_json("0BADC0DE")).unwrap_err();
    assert_eq!(e.code(), codes::INPUT_MALFORMED, "{e}");
    assert!(e.message().contains("404"), "{e}");
    assert!(e.message().contains("no signing certificate"), "{e}");

    // Over HTTP: JSON errors.
    let (status, body) = get(&format!("{}/seals?serial=0BADC0DE", w.base));
    assert_eq!(status, 404);
    assert!(
        body["error"].as_str().unwrap().contains("0BADC0DE"),
        "{body}"
    );
    // Seals belong to signing certificates, not to the encryption certificate.
    let (status, _) = get(&format!("{}/seals?serial={}", w.base, w.org_enc_serial));
    assert_eq!(status, 404);
    let (status, body) = get(&format!("{}/seals", w.base));
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("serial"), "{body}");
}

#[test]
fn a_cloud_without_wallets_serves_no_seals_and_spawn_needs_a_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    SoftCa::init(default_provider(), &ca_dir, KeyAlgorithm::Sm2, "Seal CA").unwrap();
    let e = softca_cloud::spawn(&ca_dir, None).unwrap_err();
    assert!(e.contains("tokio runtime"), "{e}");
    let e = {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let _entered = runtime.enter();
        softca_cloud::spawn(&dir.path().join("nothing"), None).unwrap_err()
    };
    assert!(e.contains("cannot open the CA"), "{e}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (addr, task) = {
        let _entered = runtime.enter();
        softca_cloud::spawn(&ca_dir, None).unwrap()
    };
    let (status, body) = get(&format!("http://{addr}/seals?serial=01"));
    assert_eq!(status, 404);
    assert!(
        body["error"].as_str().unwrap().contains("no wallets"),
        "{body}"
    );
    // The CRL route is there too: the whole cloud runs in-process.
    let resp = reqwest::blocking::get(format!("http://{addr}/crl")).unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(camr::pki::Crl::parse(&resp.bytes().unwrap()).is_ok());
    task.abort();
}

#[test]
fn a_revocation_made_after_the_cloud_started_is_in_its_next_crl() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let mut ca = SoftCa::init(default_provider(), &ca_dir, KeyAlgorithm::Sm2, "Seal CA").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (addr, _task) = {
        let _entered = runtime.enter();
        softca_cloud::spawn(&ca_dir, None).unwrap()
    };
    // The CA (the platform's server, say) issues and revokes while the cloud runs.
    let w = ca
        .issue(
            &Holder::personal("王五"),
            b"123456",
            &dir.path().join("w"),
            30,
        )
        .unwrap();
    ca.revoke(
        &w.sign_serial,
        camr::softca::RevocationReason::KeyCompromise,
        camr::qr::unix_now() - 5,
    )
    .unwrap();
    let cert = camr::pki::Certificate::parse_one(
        &std::fs::read(
            dir.path()
                .join("w")
                .join(camr::softca::wallet_files::SIGN_CERT),
        )
        .unwrap(),
    )
    .unwrap();
    let adapter = SoftCaAdapter::new();
    adapter
        .configure(&serde_json::json!({ "cloudUrl": format!("http://{addr}") }).to_string())
        .unwrap();
    assert_eq!(
        adapter.cert_status(cert.der()).unwrap(),
        camr_plugin_abi::CertStatus::Revoked
    );
    // The cloud's CRLs did not write a stale state over the CA's: its revocation stays.
    drop(ca);
    let mut reopened = SoftCa::open(default_provider(), &ca_dir).unwrap();
    let crl = reopened.crl(camr::qr::unix_now()).unwrap();
    assert_eq!(
        camr_adapter_softca::status_from_crl(
            cert.der(),
            crl.der(),
            reopened.issuing_ca().der(),
            camr::qr::unix_now()
        )
        .unwrap(),
        camr_plugin_abi::CertStatus::Revoked
    );
}
