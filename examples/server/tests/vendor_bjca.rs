//! BJCA's app (掌上信手书) end to end: the BJCA cloud in-process (its CA, the cloud's shares
//! d2, the task lists), the BJCA adapter loaded as a `.so` into the reference server and
//! configured with the cloud's URL, BJCA's root trusted through a signed trust list, and the
//! app simulator as the phone holding only d1 — every signature and envelope key is
//! co-signed / co-decrypted with the cloud (协同签名/协同解密) and answered in BJCA's wire
//! format (`vendorEvidence`).
//!
//! The manual's stories: login (扫码登录), data signing (数据签名), a batch (批量签署) with one
//! item refused (拒签 with its reason), rejecting a whole request, a PDF seal (文档签章),
//! a bid file encrypted to the co-signing encryption certificate and opened at bid opening
//! (co-decryption), a task pushed to the user and answered from the 待处理 list (then in
//! 已处理). The co-signatures verify in OpenSSL (skipped with a notice when `openssl` is
//! missing, as tests/tests/cosign_openssl.rs). Neither half alone gives an accepted answer;
//! a tampered share is detected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use camr::app::{App, Wallet};
use camr::protocol::{Bytes, ItemRejection};
use camr_app_sim::{PlatformKeySource, QrSource, ScanOptions, SimError};
use common::sim::{Lines, sim_on};
use common::{Harness, TestVendor, start_configured, vendor_platform};
use serde_json::{Value, json};

const PIN: &str = "123456";

struct Bjca {
    h: Harness,
    /// The BJCA cloud's base URL.
    cloud: String,
    /// The BJCA CA folder (with the cloud's shares).
    ca: PathBuf,
    /// The co-signing wallet (d1) of 张三 and its user id at the cloud.
    wallet: PathBuf,
    user: String,
    /// A second BJCA wallet (李四), for a tampered share.
    other_user: String,
    _dir: tempfile::TempDir,
    _cloud: tokio::task::JoinHandle<()>,
}

/// The server with the BJCA adapter, its cloud and a trust list accepting SOFTCA and BJCA.
async fn start_bjca() -> Bjca {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("bjca-ca");
    bjca_cloud::init_ca(&ca).unwrap();
    let (addr, cloud_task) = bjca_cloud::spawn(&ca).unwrap();
    let cloud = format!("http://{addr}");
    let w = bjca_cloud::issue_wallet(
        &ca,
        &camr::softca::Holder::personal("张三"),
        PIN.as_bytes(),
        &dir.path().join("bjca-wallet"),
        &cloud,
    )
    .unwrap();
    let other = bjca_cloud::issue_wallet(
        &ca,
        &camr::softca::Holder::personal("李四"),
        PIN.as_bytes(),
        &dir.path().join("bjca-other"),
        &cloud,
    )
    .unwrap();
    let root = camr::pki::Certificate::parse_all(&std::fs::read(w.dir.join("chain.pem")).unwrap())
        .unwrap()
        .pop()
        .unwrap();
    let (plugins, trust_list) = vendor_platform(
        dir.path(),
        &[TestVendor {
            ca_org_type: "BJCA",
            name: "BJCA 掌上信手书 (test)",
            root: root.der().to_vec(),
        }],
        &["libcamr_adapter_bjca.so"],
    );
    let cloud_url = cloud.clone();
    let h = start_configured(move |config, _| {
        // These test vendors' CAs publish no revocation information (no OCSP responder or CRL in
        // their certificates, no CRL file): the live check is off here and tested in
        // live_revocation.rs.
        config.revocation.sources = Vec::new();
        config.plugins = Some(plugins);
        config
            .plugins_config
            .insert("BJCA".into(), json!({ "cloudUrl": cloud_url }));
        config.trust_list = Some(trust_list);
    })
    .await;
    Bjca {
        h,
        cloud,
        ca,
        wallet: w.dir,
        user: w.user,
        other_user: other.user,
        _dir: dir,
        _cloud: cloud_task,
    }
}

impl Bjca {
    fn options(&self, qr: &str) -> ScanOptions {
        ScanOptions {
            qr: QrSource::Payload(qr.to_string()),
            wallet: self.wallet.clone(),
            wallets: Vec::new(),
            pin: Some(PIN.into()),
            reject: None,
            yes: true,
            platform_key: PlatformKeySource::Registry {
                list: self.h.data.join("registry.json"),
                authority: self.h.data.join("registry-authority.pub.pem"),
            },
            cert: None,
            delegation: None,
            refuse_items: Vec::new(),
        }
    }

    /// The BJCA app simulator's whole scan, off the runtime's threads.
    async fn phone(
        &self,
        options: ScanOptions,
    ) -> (Result<camr_app_sim::Outcome, SimError>, String) {
        sim_on(options, Lines::with_prompts()).await
    }

    async fn verified(&self, qr: &str) -> String {
        let (r, shown) = self.phone(self.options(qr)).await;
        let out = r.unwrap_or_else(|e| panic!("{e}\n{shown}"));
        assert_eq!(out.state, "verified", "{shown}");
        assert!(shown.contains("掌上信手书"), "{shown}");
        shown
    }

    async fn result(&self, tid: &str) -> Value {
        let (s, v) = self
            .h
            .get(&format!("/api/v1/transactions/{tid}/result"))
            .await;
        assert_eq!(s, 200, "{v}");
        v["data"].clone()
    }
}

/// `openssl pkeyutl -verify` of an SM2 signature over `message` (SM3, signer ID
/// 1234567812345678) under the certificate's key; `false` when OpenSSL refuses it. `None`
/// when `openssl` is not installed (the caller skips, with a notice).
fn openssl_verifies(cert_der: &[u8], message: &[u8], sig: &[u8]) -> Option<bool> {
    if !matches!(std::process::Command::new("openssl").arg("version").output(), Ok(o) if o.status.success())
    {
        eprintln!(
            "\n*** SKIPPED: openssl not found; the BJCA co-signature OpenSSL check did NOT run \
             (install OpenSSL 3) ***\n"
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let cert = camr::pki::Certificate::from_der(cert_der).unwrap();
    let pem = dir.path().join("pub.pem");
    std::fs::write(&pem, cert.public_key().unwrap().to_spki_pem().unwrap()).unwrap();
    let (m, s) = (dir.path().join("m"), dir.path().join("s"));
    std::fs::write(&m, message).unwrap();
    std::fs::write(&s, sig).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(&pem)
        .args(["-rawin", "-in"])
        .arg(&m)
        .arg("-sigfile")
        .arg(&s)
        .args(["-digest", "sm3", "-pkeyopt", "distid:1234567812345678"])
        .output()
        .unwrap();
    Some(out.status.success())
}

fn b64(v: &Value) -> Vec<u8> {
    common::b64(v.as_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_data_signing_batch_with_a_refusal_rejection_and_a_pdf_seal_are_co_signed() {
    let b = start_bjca().await;
    let h = &b.h;
    // 扫码登录.
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let shown = b.verified(&qr).await;
    assert!(shown.contains("BJCA"), "{shown}");
    let v = b.result(&tid).await;
    assert_eq!(v["subject"]["name"], "张三", "{v}");
    assert_eq!(v["caOrgType"], "BJCA", "{v}");

    // 数据签名: the message's co-signature verifies in OpenSSL under the certificate's key.
    let message = "投标报价 1,000,000 元";
    let (tid, qr) = h
        .start_tx(json!({"operation": "messageSignature", "message": message}))
        .await;
    b.verified(&qr).await;
    let v = b.result(&tid).await;
    let cert = b64(&v["certificate"]);
    let sig = b64(&v["signature"]);
    if let Some(ok) = openssl_verifies(&cert, message.as_bytes(), &sig) {
        assert!(ok, "OpenSSL refused the co-signature");
        assert_eq!(
            openssl_verifies(&cert, b"another message", &sig),
            Some(false),
            "OpenSSL accepted the co-signature over another message"
        );
    }

    // 批量签署 with one item refused (拒签, with its reason): the rest co-signed.
    let p = camr::crypto::default_provider();
    let items: Vec<Value> = (0..3)
        .map(|i| {
            let hash = p.digest(camr::crypto::HashAlgorithm::Sm3, format!("投标文件 {i}").as_bytes());
            json!({"id": format!("d{i}"), "name": format!("投标文件第{i}册.pdf"), "hash": Bytes(hash), "hashAlgorithm": "SM3"})
        })
        .collect();
    let (tid, qr) = h
        .start_tx(json!({"operation": "signature", "items": items}))
        .await;
    let mut options = b.options(&qr);
    options.refuse_items = vec![ItemRejection {
        item_id: "d1".into(),
        reason: "金额不对 wrong amount".into(),
    }];
    let (r, shown) = b.phone(options).await;
    assert_eq!(r.unwrap().state, "verified", "{shown}");
    assert!(shown.contains("拒签"), "{shown}");
    let v = b.result(&tid).await;
    let signed = v["signed"].as_array().unwrap();
    assert_eq!(signed.len(), 2, "{v}");
    let rejected = v["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{v}");
    assert!(rejected[0].to_string().contains("金额不对"), "{v}");
    let cert = b64(&v["certificate"]);
    for item in signed {
        let hash = b64(&item["item"]["hash"]);
        let sig = b64(&item["signature"]);
        if let Some(ok) = openssl_verifies(&cert, &hash, &sig) {
            assert!(
                ok,
                "OpenSSL refused the co-signature of {}",
                item["item"]["id"]
            );
        }
    }

    // Rejecting a whole request with a reason (拒签).
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let mut options = b.options(&qr);
    options.reject = Some("不是我发起的 not mine".into());
    let (r, shown) = b.phone(options).await;
    let out = r.unwrap_or_else(|e| panic!("{e}\n{shown}"));
    assert_eq!(out.state, "rejected", "{shown}");
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}")).await;
    assert_eq!(v["data"]["state"], "rejected", "{v}");

    // 文档签章: a PDF sealed through the co-signing app.
    let pdf = camr::seal::sample_pdf(1).unwrap();
    let (s, v) = h
        .upload(
            "/api/v1/pdf/seal?name=投标文件.pdf&page=1&x=300&y=100&width=100&reason=投标",
            pdf.clone(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    b.verified(v["data"]["qrText"].as_str().unwrap()).await;
    let (s, sealed, _) = h.download(&format!("/api/v1/pdf/{tid}/sealed")).await;
    assert_eq!(s, 200);
    assert!(sealed.starts_with(&pdf) && sealed.len() > pdf.len());
    let (s, v) = h.get(&format!("/api/v1/pdf/{tid}/report")).await;
    assert_eq!(s, 200, "{v}");
    assert!(v.to_string().contains("张三"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bid_file_is_co_decrypted_and_a_pushed_task_is_answered_from_the_pending_list() {
    let b = start_bjca().await;
    let h = &b.h;
    // The bid file is encrypted to the BJCA encryption certificate (its key: two shares).
    let bid = b"BJCA bidder's offer: 1,000,000 yuan".repeat(100);
    let (s, v) = h
        .upload("/api/v1/bidfiles?name=标书.pdf", bid.clone())
        .await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    b.verified(v["data"]["qrText"].as_str().unwrap()).await;
    let (s, v) = h
        .post(&format!("/api/v1/bidfiles/{tid}/work"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    loop {
        let (_, p) = h.get(&format!("/api/v1/bidfiles/{tid}/progress")).await;
        if p["data"]["finished"] == true {
            assert!(p["data"]["error"].is_null(), "{p}");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (s, envelope, _) = h
        .download(&format!("/api/v1/bidfiles/{tid}/envelope"))
        .await;
    assert_eq!(s, 200);
    // Bid opening: the envelope key is unwrapped by d1 and d2 together.
    let (s, v) = h
        .upload("/api/v1/bidfiles/open?name=标书.pdf.camrbid", envelope)
        .await;
    assert_eq!(s, 200, "{v}");
    let open_tid = v["data"]["tid"].as_str().unwrap().to_string();
    b.verified(v["data"]["qrText"].as_str().unwrap()).await;
    let (s, opened, _) = h
        .download(&format!("/api/v1/bidfiles/{open_tid}/plain"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(opened, bid);

    // A task pushed to the known user (the platform through the vendor cloud) lands in the
    // app's 待处理 list; the app answers it (co-signed) and it moves to 已处理.
    let (tid, qr) = h
        .start_tx(json!({"operation": "messageSignature", "message": "请确认开标结果"}))
        .await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = client
        .post(format!("{}/tasks", b.cloud))
        .json(&json!({"user": {"certSn": b.user}, "request": {"qrText": qr, "title": "开标确认"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let wallet = b.wallet.clone();
    let pending = tokio::task::spawn_blocking(move || {
        camr_app_sim::vendors::bjca::task_list(&wallet, "pending").unwrap()
    })
    .await
    .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["request"]["title"], "开标确认");
    let template = b.options("unused");
    let cloud = b.cloud.clone();
    let (outcomes, shown) = tokio::task::spawn_blocking(move || {
        let mut ui = Lines::with_prompts();
        let r = camr_app_sim::tasks(&cloud, &template, &mut ui);
        (r, ui.text())
    })
    .await
    .unwrap();
    let outcomes = outcomes.unwrap_or_else(|e| panic!("{e}\n{shown}"));
    assert_eq!(outcomes.len(), 1, "{shown}");
    assert_eq!(outcomes[0].state, "verified", "{shown}");
    assert_eq!(outcomes[0].tid, tid);
    let wallet = b.wallet.clone();
    let (pending, done) = tokio::task::spawn_blocking(move || {
        (
            camr_app_sim::vendors::bjca::task_list(&wallet, "pending").unwrap(),
            camr_app_sim::vendors::bjca::task_list(&wallet, "done").unwrap(),
        )
    })
    .await
    .unwrap();
    assert!(pending.is_empty());
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["result"]["state"], "verified", "{done:?}");
}

/// d2 of the cloud's record for `user`, as if it were a whole key.
fn cloud_share_as_key(ca: &Path, user: &str) -> camr::crypto::PrivateKey {
    let record: Value = serde_json::from_slice(
        &std::fs::read(ca.join("cosign").join(format!("{user}.json"))).unwrap(),
    )
    .unwrap();
    let share = b64(&record["signShare"]);
    camr::crypto::PrivateKey::Sm2(sm2::SecretKey::from_slice(&share[6..38]).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neither_half_alone_is_accepted_and_a_tampered_share_is_detected() {
    let b = start_bjca().await;
    let h = &b.h;
    let bjca = camr_app_sim::vendors::app_for("BJCA").unwrap();
    let vendor = camr_app_sim::vendors::vendor_of(&b.wallet).unwrap();

    // The app alone: d1 used as if it were the key → the platform refuses the signature.
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed, request) = h.scan(&qr).await;
    let wallet = Wallet::open(&b.wallet, PIN.as_bytes()).unwrap();
    let app_alone = App::new(h.provider.clone(), "BJCA")
        .approve(&wallet, &signed, &request, &[])
        .unwrap();
    let app_alone = bjca.wrap(&b.wallet, &vendor, app_alone).unwrap();
    assert!(app_alone.evidence.is_none() && app_alone.vendor_evidence.is_some());
    let (s, v) = h.answer(&app_alone).await;
    assert_eq!(v["errorCode"], "SIGNATURE_INVALID", "{s} {v}");

    // The cloud alone: its share d2 used as the key → refused too.
    let mut cloud_wallet = wallet.clone();
    cloud_wallet.sign_key = cloud_share_as_key(&b.ca, &b.user);
    let (tid2, qr2) = h.start_tx(json!({"operation": "login"})).await;
    let (signed2, request2) = h.scan(&qr2).await;
    let cloud_alone = App::new(h.provider.clone(), "BJCA")
        .approve(&cloud_wallet, &signed2, &request2, &[])
        .unwrap();
    let cloud_alone = bjca.wrap(&b.wallet, &vendor, cloud_alone).unwrap();
    let (s, v) = h.answer(&cloud_alone).await;
    assert_eq!(v["errorCode"], "SIGNATURE_INVALID", "{s} {v}");

    // The cloud refuses to co-sign without the user's token (a copy of the wallet with
    // another token): nothing reaches the platform.
    let stolen = b._dir.path().join("stolen");
    std::fs::create_dir_all(&stolen).unwrap();
    for f in std::fs::read_dir(&b.wallet).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), stolen.join(f.file_name())).unwrap();
    }
    let mut vf: Value =
        serde_json::from_slice(&std::fs::read(stolen.join("vendor.json")).unwrap()).unwrap();
    vf["token"] = json!("00".repeat(32));
    std::fs::write(stolen.join("vendor.json"), vf.to_string()).unwrap();
    let (tid3, qr3) = h.start_tx(json!({"operation": "login"})).await;
    let mut options = b.options(&qr3);
    options.wallet = stolen;
    let (r, shown) = b.phone(options).await;
    let e = r.unwrap_err();
    assert!(e.msg.contains("COSIGN_UNAUTHORIZED"), "{e}\n{shown}");
    for t in [&tid, &tid2] {
        let (_, v) = h.get(&format!("/api/v1/transactions/{t}")).await;
        assert_ne!(v["data"]["state"], "verified", "{v}");
    }
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid3}")).await;
    assert_ne!(v["data"]["state"], "verified", "{v}");

    // A tampered server share (another user's d2 in this user's record): the phone's check
    // of the co-signature under the certificate's key fails, and nothing is sent.
    let record = |u: &str| b.ca.join("cosign").join(format!("{u}.json"));
    let mut mine: Value = serde_json::from_slice(&std::fs::read(record(&b.user)).unwrap()).unwrap();
    let theirs: Value =
        serde_json::from_slice(&std::fs::read(record(&b.other_user)).unwrap()).unwrap();
    mine["signShare"] = theirs["signShare"].clone();
    std::fs::write(record(&b.user), mine.to_string()).unwrap();
    let (tid4, qr4) = h.start_tx(json!({"operation": "login"})).await;
    let (r, shown) = b.phone(b.options(&qr4)).await;
    let e = r.unwrap_err();
    assert_eq!(
        e.code,
        camr::protocol::ErrorCode::SignatureInvalid,
        "{e}\n{shown}"
    );
    assert!(e.msg.contains("COSIGN_SIGNATURE_INVALID"), "{e}");
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid4}")).await;
    assert_ne!(v["data"]["state"], "verified", "{v}");
}
