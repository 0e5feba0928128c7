//! The GDCA cloud in-process with the GDCA adapter: the wire format round trip, encryption
//! certificates after a renewal, seals, and delegations (证书授权) with withdrawal (收回).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use camr::app::{Delegation, Wallet};
use camr::protocol::{
    Bytes, DecryptedKey, Evidence, ItemRejection, ItemSignature, Operation, PublicKeyAlgorithm,
    SealKind, SystemCode,
};
use camr::softca::Holder;
use camr_adapter_gdca::{GdcaAdapter, decode_strict};
use camr_plugin_abi::{AdapterImpl, codes};
use serde_json::{Value, json};

struct World {
    dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
    base: String,
    adapter: GdcaAdapter,
}

fn org() -> Holder {
    Holder::org("赵六", "广州某某工程有限公司", "91440101MA5CXXXX1X")
}

fn person() -> Holder {
    Holder::personal("钱九")
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let wallets = dir.path().join("wallets");
    gdca_cloud::init_ca(&ca).unwrap();
    gdca_cloud::issue_wallet(&ca, &wallets.join("org"), &org(), "123456", None).unwrap();
    gdca_cloud::issue_wallet(&ca, &wallets.join("person"), &person(), "123456", None).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (addr, _task) = {
        let _entered = runtime.enter();
        gdca_cloud::spawn(&ca, wallets).unwrap()
    };
    let base = format!("http://{addr}");
    let adapter = GdcaAdapter::new();
    adapter
        .configure(&json!({ "cloudUrl": base, "timeoutMs": 20_000 }).to_string())
        .unwrap();
    World {
        dir,
        _runtime: runtime,
        base,
        adapter,
    }
}

fn wallet(w: &World, name: &str) -> Wallet {
    Wallet::open(&w.dir.path().join("wallets").join(name), b"123456").unwrap()
}

#[test]
fn what_the_app_writes_the_adapter_reads_and_changed_json_is_refused() {
    let w = world();
    let org = wallet(&w, "org");
    let evidence = Evidence {
        algorithm: PublicKeyAlgorithm::Sm2,
        certificate_chain: std::iter::once(&org.sign_cert)
            .chain(&org.chain)
            .map(|c| Bytes(c.der().to_vec()))
            .collect(),
        signatures: vec![ItemSignature {
            item_id: "request".into(),
            signature_value: Bytes(vec![1, 2, 3]),
        }],
        encryption_certificate: Some(Bytes(org.enc_cert.der().to_vec())),
        decrypted_keys: vec![DecryptedKey {
            item_id: "k1".into(),
            encrypted_to_platform: Bytes(vec![9; 40]),
        }],
        item_rejections: vec![ItemRejection {
            item_id: "d2".into(),
            reason: "重复 duplicate".into(),
        }],
    };
    let raw = camr_gdca_wire::encode(&evidence).unwrap();
    let v: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(v["gdcaVer"], "1.0");
    assert_eq!(v["signList"][0]["bizId"], "request");
    assert_eq!(decode_strict("login", &raw).unwrap(), evidence);
    let json = serde_json::to_vec(&evidence).unwrap();
    assert_eq!(gdca_cloud::encode_evidence_json(&json).unwrap(), raw);
    assert!(gdca_cloud::encode_evidence_json(b"{}").is_err());
    // camr's own JSON is not GDCA's.
    let e = w.adapter.decode_evidence("login", &json).unwrap_err();
    assert_eq!(e.code(), codes::INPUT_MALFORMED);
    for (field, value) in [
        ("gdcaVer", json!("0.9")),
        ("keyAlg", json!("SM9")),
        ("signCert", json!(null)),
        ("verdict", json!("ok")),
        (
            "signList",
            json!([{"bizId": "x", "signData": "AQ==", "extra": 1}]),
        ),
    ] {
        let mut changed = v.clone();
        changed[field] = value;
        let e = w
            .adapter
            .decode_evidence("login", changed.to_string().as_bytes())
            .unwrap_err();
        assert_eq!(e.code(), codes::INPUT_MALFORMED, "{field}: {e}");
    }
}

#[test]
fn a_renewed_encryption_certificate_keeps_the_old_one_for_its_envelopes() {
    let w = world();
    let before = wallet(&w, "org");
    let old_sn = before.enc_cert.serial_hex();
    let new_sn = gdca_cloud::renew_enc_cert(
        &w.dir.path().join("ca"),
        &w.dir.path().join("wallets/org"),
        &org(),
        "123456",
    )
    .unwrap();
    assert_ne!(new_sn, old_sn);
    let after = wallet(&w, "org");
    assert_eq!(after.enc_cert.serial_hex(), new_sn);
    assert_eq!(after.sign_cert.serial_hex(), before.sign_cert.serial_hex());
    let certs = gdca_cloud::enc_certs(&w.dir.path().join("wallets/org"));
    let serials: Vec<String> = certs.iter().map(|(_, c)| c.serial_hex()).collect();
    assert_eq!(serials, vec![new_sn.clone(), old_sn.clone()]);
    let sign_sn = before.sign_cert.serial_hex();
    let fetch = |extra: Value| {
        let mut subject = json!({ "certSn": sign_sn });
        if let Value::Object(m) = extra {
            subject.as_object_mut().unwrap().extend(m);
        }
        w.adapter.fetch_encryption_cert(&subject.to_string())
    };
    // The current one, unless the envelope's is named.
    assert_eq!(fetch(json!({})).unwrap(), after.enc_cert.der());
    assert_eq!(
        fetch(json!({ "encCertSn": old_sn })).unwrap(),
        before.enc_cert.der()
    );
    let e = fetch(json!({ "encCertSn": "7F7F" })).unwrap_err();
    assert_eq!(e.code(), codes::ADAPTER_FAILED, "{e}");
    // By the old encryption certificate's serial too, the holder is found.
    let by_old = w
        .adapter
        .fetch_encryption_cert(&json!({ "certSn": old_sn }).to_string())
        .unwrap();
    assert_eq!(by_old, after.enc_cert.der());
}

#[test]
fn seals_are_gdcas_own() {
    let w = world();
    let kinds = |name: &str| {
        let serial = wallet(&w, name).sign_cert.serial_hex();
        let seals: Vec<camr::protocol::SealInfo> = serde_json::from_str(
            &w.adapter
                .list_seals(&json!({ "certSn": serial }).to_string())
                .unwrap(),
        )
        .unwrap();
        assert!(seals.iter().all(|s| s.code.starts_with("GDCA-")));
        seals.iter().map(|s| s.kind).collect::<Vec<_>>()
    };
    assert_eq!(
        kinds("person"),
        vec![SealKind::PersonalName, SealKind::Handwritten]
    );
    assert_eq!(
        kinds("org"),
        vec![SealKind::Official, SealKind::LegalRepresentative]
    );
    assert!(
        w.adapter
            .list_seals(&json!({ "certSn": "7F7F" }).to_string())
            .is_err()
    );
}

#[test]
fn the_cloud_keeps_delegations_and_their_withdrawal() {
    let w = world();
    let org = wallet(&w, "org");
    let person = wallet(&w, "person");
    let p = camr::crypto::default_provider();
    let now = camr::qr::unix_now();
    let delegation = |cert_sn: String| Delegation {
        org_cert_sn: cert_sn,
        staff_name: "王五".into(),
        staff_id: Some("110101199001011234".into()),
        trading_systems: vec![SystemCode::parse("C1100005553").unwrap()],
        operations: vec![Operation::Login, Operation::Encrypt, Operation::Decrypt],
        not_before: now - 60,
        not_after: now + 3600,
    };
    let signed =
        camr::app::delegation::issue(p.as_ref(), &org, &delegation(org.sign_cert.serial_hex()))
            .unwrap();
    let id = camr::app::delegation::id(p.as_ref(), &signed);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::blocking::Client::new();
    let post = |path: &str, body: String| {
        let r = http
            .post(format!("{}{path}", w.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    let get = |path: &str| {
        let r = http.get(format!("{}{path}", w.base)).send().unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    let (s, v) = post("/gdca/delegations", serde_json::to_string(&signed).unwrap());
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        (v["delegationId"].as_str(), v["state"].as_str()),
        (Some(id.as_str()), Some("active"))
    );
    let (s, v) = get(&format!(
        "/gdca/delegations?org={}",
        org.sign_cert.serial_hex()
    ));
    assert_eq!((s, v.as_array().unwrap().len()), (200, 1), "{v}");
    // Refused: garbage; a personal certificate's; signed by another key.
    let (s, _) = post("/gdca/delegations", "garbage".into());
    assert_eq!(s, 400);
    let personal = camr::app::delegation::issue(
        p.as_ref(),
        &person,
        &delegation(person.sign_cert.serial_hex()),
    )
    .unwrap();
    let (s, v) = post(
        "/gdca/delegations",
        serde_json::to_string(&personal).unwrap(),
    );
    assert_eq!(s, 422, "{v}");
    let mut forged = signed.clone();
    forged.signature = personal.signature.clone();
    let (s, v) = post("/gdca/delegations", serde_json::to_string(&forged).unwrap());
    assert_eq!(s, 422, "{v}");
    assert!(v["error"].as_str().unwrap().contains("not signed"), "{v}");
    // 收回.
    let (s, v) = post(
        &format!("/gdca/delegations/{id}/withdraw"),
        json!({"reason": "员工离职"}).to_string(),
    );
    assert_eq!((s, v["state"].as_str()), (200, Some("withdrawn")), "{v}");
    let (s, v) = get(&format!("/gdca/delegations/{id}"));
    assert_eq!((s, v["reason"].as_str()), (200, Some("员工离职")), "{v}");
    let (s, _) = post("/gdca/delegations/nope/withdraw", String::new());
    assert_eq!(s, 404);
}
