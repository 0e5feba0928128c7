//! The NETCA cloud in-process with the NETCA adapter: the wire format round trip (what the app
//! writes, the adapter reads), seals, registration data, certificate status.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use camr::protocol::{
    Bytes, DecryptedKey, Evidence, ItemRejection, ItemSignature, PublicKeyAlgorithm, SealKind,
    SharedRegistration,
};
use camr::softca::Holder;
use camr_adapter_netca::{NetcaAdapter, decode_strict};
use camr_plugin_abi::{AdapterImpl, CertStatus, codes};

struct World {
    dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
    base: String,
    adapter: NetcaAdapter,
}

fn org() -> Holder {
    Holder::org("陈七", "广州某某科技有限公司", "91440101MA5CXXXX1X")
}

fn person() -> Holder {
    Holder::personal("周八")
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let wallets = dir.path().join("wallets");
    netca_cloud::init_ca(&ca).unwrap();
    let registration = SharedRegistration {
        mobile: Some("13800000000".into()),
        contact: Some("周八".into()),
        ..Default::default()
    };
    netca_cloud::issue_wallet(
        &ca,
        &wallets.join("person"),
        &person(),
        "123456",
        Some(&registration),
        None,
    )
    .unwrap();
    netca_cloud::issue_wallet(&ca, &wallets.join("org"), &org(), "123456", None, None).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (addr, _task) = {
        let _entered = runtime.enter();
        netca_cloud::spawn(&ca, wallets).unwrap()
    };
    let base = format!("http://{addr}");
    let adapter = NetcaAdapter::new();
    adapter
        .configure(&serde_json::json!({ "cloudUrl": base, "timeoutMs": 20_000 }).to_string())
        .unwrap();
    World {
        dir,
        _runtime: runtime,
        base,
        adapter,
    }
}

fn wallet(w: &World, name: &str) -> camr::app::Wallet {
    camr::app::Wallet::open(&w.dir.path().join("wallets").join(name), b"123456").unwrap()
}

#[test]
fn what_the_app_writes_the_adapter_reads_and_a_changed_block_is_refused() {
    let w = world();
    let person = wallet(&w, "person");
    let evidence = Evidence {
        algorithm: PublicKeyAlgorithm::Sm2,
        certificate_chain: std::iter::once(&person.sign_cert)
            .chain(&person.chain)
            .map(|c| Bytes(c.der().to_vec()))
            .collect(),
        signatures: vec![ItemSignature {
            item_id: "标书 第1册".into(),
            signature_value: Bytes(vec![1, 2, 3]),
        }],
        encryption_certificate: Some(Bytes(person.enc_cert.der().to_vec())),
        decrypted_keys: vec![DecryptedKey {
            item_id: "k 1".into(),
            encrypted_to_platform: Bytes(vec![9; 40]),
        }],
        item_rejections: vec![ItemRejection {
            item_id: "d 2".into(),
            reason: "报价有误 wrong".into(),
        }],
    };
    let block = camr_netca_wire::encode(&evidence);
    assert!(block.starts_with("-----BEGIN NETCA SIGNED DATA-----\n"));
    assert_eq!(
        decode_strict("signature", block.as_bytes()).unwrap(),
        evidence
    );
    let json = serde_json::to_vec(&evidence).unwrap();
    assert_eq!(
        netca_cloud::encode_evidence_json(&json).unwrap(),
        block,
        "the encode-evidence subcommand writes the same block"
    );
    assert!(netca_cloud::encode_evidence_json(b"garbage").is_err());
    // camr's own JSON is not NETCA's format.
    let e = w.adapter.decode_evidence("signature", &json).unwrap_err();
    assert_eq!(e.code(), codes::INPUT_MALFORMED);
    // A line changed, dropped or added is refused.
    for broken in [
        block.replace("version: 1", "version: 9"),
        block.replace("signAlgorithm: SM2\n", ""),
        block.replace("-----END", "-----FIN"),
        block.replace("signerInfo: ", "signerInfo:"),
        block.replacen("certificate: ", "certificate: !", 1),
        block.replace("version: 1\n", "version: 1\nextension: x\n"),
    ] {
        let e = w
            .adapter
            .decode_evidence("signature", broken.as_bytes())
            .unwrap_err();
        assert_eq!(e.code(), codes::INPUT_MALFORMED, "{broken}: {e}");
    }
}

#[test]
fn seals_registration_and_status_come_from_the_netca_cloud() {
    let w = world();
    let person = wallet(&w, "person");
    let org = wallet(&w, "org");
    let kinds = |serial: &str| {
        let seals: Vec<camr::protocol::SealInfo> = serde_json::from_str(
            &w.adapter
                .list_seals(&serde_json::json!({ "certSn": serial }).to_string())
                .unwrap(),
        )
        .unwrap();
        for s in &seals {
            s.check().unwrap();
            assert!(s.code.starts_with("NETCA-"), "{}", s.code);
            assert_eq!(s.cert_sn, serial);
        }
        seals.iter().map(|s| s.kind).collect::<Vec<_>>()
    };
    assert_eq!(
        kinds(&person.sign_cert.serial_hex()),
        vec![SealKind::PersonalName, SealKind::Handwritten]
    );
    assert_eq!(
        kinds(&org.sign_cert.serial_hex()),
        vec![
            SealKind::Official,
            SealKind::LegalRepresentative,
            SealKind::Contract
        ]
    );
    // An encryption certificate has no seals; an unknown serial neither.
    for serial in [person.enc_cert.serial_hex(), "7F7F".into()] {
        let e = w
            .adapter
            .list_seals(&serde_json::json!({ "certSn": serial }).to_string())
            .unwrap_err();
        assert!(e.message().contains("404"), "{e}");
    }
    // The encryption certificate and the status.
    let enc = w
        .adapter
        .fetch_encryption_cert(
            &serde_json::json!({ "certSn": person.sign_cert.serial_hex() }).to_string(),
        )
        .unwrap();
    assert_eq!(enc, person.enc_cert.der());
    assert_eq!(
        w.adapter.cert_status(person.sign_cert.der()).unwrap(),
        CertStatus::Good
    );
    // Registration data (共享注册) kept for the person; none for the organisation.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::blocking::Client::new();
    let get = |serial: &str| {
        http.get(format!("{}/netca/registration?serial={serial}", w.base))
            .send()
            .unwrap()
    };
    let r = get(&person.sign_cert.serial_hex());
    assert_eq!(r.status().as_u16(), 200);
    let data: SharedRegistration = r.json().unwrap();
    assert_eq!(data.mobile.as_deref(), Some("13800000000"));
    assert_eq!(get(&org.sign_cert.serial_hex()).status().as_u16(), 404);
    let vendor: serde_json::Value = serde_json::from_slice(
        &std::fs::read(w.dir.path().join("wallets/org/vendor.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(vendor["caOrgType"], "NETCA");
}
