//! Issue 10 — NETCA (网证通互认 APP) and GDCA (数信签) end to end over HTTP: both adapters
//! loaded as `.so` files into the reference server, each configured with its cloud simulator
//! running in-process, the vendors' roots trusted through a signed trust list, and the app
//! simulator answering as each vendor's app in its own wire format (`vendorEvidence`).
//!
//! NETCA: login with shared registration (共享注册), the interactive seal session with NETCA's
//! seals (单页 then 多页, 完成签章), 撤章 of one of them, a quote (报价) encrypted to the app's
//! encryption certificate and decrypted in the hall after the opening time and the sign-in.
//! GDCA: login with the PIN, a staff member under the organisation's delegation (证书授权)
//! logging in, encrypting and decrypting, signing refused (DELEGATION_OUT_OF_SCOPE), withdrawal
//! (收回) refused by the app and the platform, and decryption with the encryption certificate
//! the envelope was made for when the holder has two.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use camr::app::{App, Wallet};
use camr::protocol::{Bytes, ErrorCode, SharedRegistration};
use camr::softca::Holder;
use camr_app_sim::ScanOptions;
use camr_app_sim::vendors::{VendorApp, app_for, vendor_of};
use common::sim::{Lines, scan_on, scan_options, sim};
use common::{Harness, TestVendor, assert_error, softca_root, start_configured, vendor_platform};
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "vendor-test-admin-token-0001";
const PIN: &str = "123456";

fn netca_org() -> Holder {
    Holder::org("陈七", "广州某某科技有限公司", "91440101MA5CXXXX1X")
}

fn gdca_org() -> Holder {
    Holder::org("赵六", "广州某某工程有限公司", "91440101MA5CXXXX1X")
}

/// The server with both vendors, their clouds and wallets.
struct World {
    h: Harness,
    /// The vendors' folders (CAs and wallets), kept alive.
    root: tempfile::TempDir,
    gdca_url: String,
}

impl World {
    fn wallet_dir(&self, vendor: &str, name: &str) -> PathBuf {
        self.root.path().join(vendor).join("wallets").join(name)
    }

    fn wallet(&self, vendor: &str, name: &str) -> Wallet {
        Wallet::open(&self.wallet_dir(vendor, name), PIN.as_bytes()).unwrap()
    }

    /// The vendor's app answers `qr` with `wallet` (from `dir`), as `camr::app` plus the
    /// vendor's wrapping into its wire format; the platform's answer.
    async fn answer_as(&self, dir: &Path, wallet: &Wallet, qr: &str) -> (u16, Value) {
        let (signed, request) = self.h.scan(qr).await;
        let vendor = vendor_of(dir).unwrap();
        let app = app_for(&vendor.ca_org_type).unwrap();
        let response = App::new(self.h.provider.clone(), app.ca_org_type())
            .approve(wallet, &signed, &request, &[])
            .unwrap();
        let response = app.wrap(dir, &vendor, response).unwrap();
        assert!(response.evidence.is_none() && response.vendor_evidence.is_some());
        self.h.answer(&response).await
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

/// Starts everything: the NETCA and GDCA clouds (own CAs, wallets issued with `vendor.json`),
/// the server with both adapters and a trust list naming both roots; the hall opens at
/// `opening`.
async fn world(opening: camr_server::hall::Opening) -> World {
    let root = tempfile::tempdir().unwrap();
    // NETCA: an organisation, with registration data to share (共享注册).
    let netca = root.path().join("netca");
    netca_cloud::init_ca(&netca.join("ca")).unwrap();
    let (netca_addr, _) = netca_cloud::spawn(&netca.join("ca"), netca.join("wallets")).unwrap();
    let netca_url = format!("http://{netca_addr}");
    let registration = SharedRegistration {
        mobile: Some("13800000000".into()),
        email: Some("chen@example.com".into()),
        ..Default::default()
    };
    netca_cloud::issue_wallet(
        &netca.join("ca"),
        &netca.join("wallets").join("org"),
        &netca_org(),
        PIN,
        Some(&registration),
        Some(&netca_url),
    )
    .unwrap();
    // GDCA: an organisation.
    let gdca = root.path().join("gdca");
    gdca_cloud::init_ca(&gdca.join("ca")).unwrap();
    let (gdca_addr, _) = gdca_cloud::spawn(&gdca.join("ca"), gdca.join("wallets")).unwrap();
    let gdca_url = format!("http://{gdca_addr}");
    gdca_cloud::issue_wallet(
        &gdca.join("ca"),
        &gdca.join("wallets").join("org"),
        &gdca_org(),
        PIN,
        Some(&gdca_url),
    )
    .unwrap();
    // The adapters, as a platform drops them into its plugin folder; the trust list
    // (注册表): this platform accepts both; their roots.
    let (plugins, trust_list) = vendor_platform(
        root.path(),
        &[
            TestVendor {
                ca_org_type: "NETCA",
                name: "网证通 NETCA (test)",
                root: softca_root(&netca.join("ca")),
            },
            TestVendor {
                ca_org_type: "GDCA",
                name: "数安时代 GDCA (test)",
                root: softca_root(&gdca.join("ca")),
            },
        ],
        &["libcamr_adapter_netca.so", "libcamr_adapter_gdca.so"],
    );
    let h = start_configured(|c, _| {
        // These test vendors' CAs publish no revocation information (no OCSP responder or CRL in
        // their certificates, no CRL file): the live check is off here and tested in
        // live_revocation.rs.
        c.revocation.sources = Vec::new();
        c.plugins = Some(plugins);
        c.plugins_config
            .insert("NETCA".into(), json!({ "cloudUrl": netca_url }));
        c.plugins_config
            .insert("GDCA".into(), json!({ "cloudUrl": gdca_url.clone() }));
        c.trust_list = Some(trust_list);
        c.admin_token = Some(camr_server::config::Secret::new(ADMIN_TOKEN));
        c.seal_session.required = Vec::new();
        c.hall = camr_server::hall::HallConfig {
            project: "某某道路工程（第一标段）".into(),
            opening,
            // Envelopes outside the opening are decrypted too (bid-file page).
            free_decrypts: true,
        };
    })
    .await;
    World { h, root, gdca_url }
}

/// Polls a seal session until `want` holds.
async fn until(h: &Harness, tid: &str, what: &str, want: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, v) = h.get(&format!("/api/v1/seal-sessions/{tid}")).await;
        assert_eq!(s, 200, "{v}");
        if want(&v["data"]) {
            return v["data"].clone();
        }
        assert!(Instant::now() < deadline, "{what}: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// NETCA: 扫码登录 with 共享注册, then 扫码签章 in one session (单页 then 多页) with NETCA's
/// own seals, 完成签章, and 撤章 of one of the seals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netca_login_shares_registration_then_seals_in_one_session_and_revokes_a_seal() {
    let w = world(camr_server::hall::Opening::AfterStart(3600)).await;
    let h = &w.h;
    let org_dir = w.wallet_dir("netca", "org");
    let org = w.wallet("netca", "org");

    // Login asking for the registration data: the app shows it and shares it with consent.
    let (tid, qr) = h
        .start_tx(json!({"operation": "login", "shareRegistration": true}))
        .await;
    let (r, shown) = sim(scan_options(&qr, org_dir.clone(), PIN)).await;
    assert_eq!(r.unwrap().state, "verified", "{shown}");
    assert!(shown.contains("网证通互认 APP (NETCA)"), "{shown}");
    assert!(shown.contains("13800000000"), "{shown}");
    let result = w.result(&tid).await;
    assert_eq!(result["caOrgType"], "NETCA", "{result}");
    assert_eq!(result["registration"]["mobile"], "13800000000", "{result}");
    assert_eq!(result["subject"]["name"], "陈七", "{result}");
    // camr's own evidence form from a NETCA app is not what the NETCA adapter reads.
    let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed, request) = h.scan(&qr).await;
    let plain = App::new(h.provider.clone(), "NETCA")
        .approve(&org, &signed, &request, &[])
        .unwrap();
    let mut garbled = plain.clone();
    garbled.vendor_evidence = Some(Bytes(
        serde_json::to_vec(garbled.evidence.as_ref().unwrap()).unwrap(),
    ));
    garbled.evidence = None;
    let (s, v) = h.answer(&garbled).await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");

    // The seal session: the phone authorises and waits (手机出现等待画面).
    let pdf = camr::seal::sample_pdf(3).unwrap();
    let (s, v) = h.upload("/api/v1/seal-sessions?name=投标函.pdf", pdf).await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    let options = scan_options(v["data"]["qrText"].as_str().unwrap(), org_dir.clone(), PIN);
    let phone = std::thread::spawn(move || scan_on(&options, Lines::default()));
    until(h, &tid, "authorised", |v| v["state"] == "authorised").await;
    let (s, v) = h.get(&format!("/api/v1/seal-sessions/{tid}/seals")).await;
    assert_eq!(s, 200, "{v}");
    let seals = v["data"].as_array().unwrap().clone();
    let mut kinds: Vec<&str> = seals.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        ["contract", "legalRepresentative", "official"],
        "NETCA's organisation seals: {v}"
    );
    assert!(
        seals
            .iter()
            .all(|s| s["source"] == "ca" && s["code"].as_str().unwrap().starts_with("NETCA-")),
        "{v}"
    );
    let code = |kind: &str| {
        seals.iter().find(|s| s["kind"] == kind).unwrap()["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // 单页签章: 公章 on page 1; then 多页签章: 法定代表人章 on pages 2 and 3.
    let (s, v) = h
        .post(
            &format!("/api/v1/seal-sessions/{tid}/place"),
            &json!({"sealCode": code("official"), "pages": [1], "x": 300, "y": 120}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    until(h, &tid, "公章", |v| {
        v["applied"].as_array().unwrap().len() == 1
    })
    .await;
    let (s, v) = h
        .post(
            &format!("/api/v1/seal-sessions/{tid}/place"),
            &json!({"sealCode": code("legalRepresentative"), "pages": [2, 3], "x": 80, "y": 120}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    until(h, &tid, "法人章", |v| {
        v["applied"].as_array().unwrap().len() == 2
    })
    .await;
    // A seal that is not the holder's is refused.
    let (s, v) = h
        .post(
            &format!("/api/v1/seal-sessions/{tid}/place"),
            &json!({"sealCode": "NETCA-official-00000000", "pages": [1], "x": 10, "y": 10}),
        )
        .await;
    assert_ne!(s, 200, "{v}");
    let (s, v) = h
        .post(&format!("/api/v1/seal-sessions/{tid}/finish"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (out, lines) = phone.join().unwrap();
    assert_eq!(
        out.unwrap_or_else(|e| panic!("{e}\n{lines}")).session_seals,
        2,
        "{lines}"
    );
    let (s, sealed, _) = h
        .download(&format!("/api/v1/seal-sessions/{tid}/document"))
        .await;
    assert_eq!(s, 200);
    let report =
        camr::seal::verify(h.provider.as_ref(), &sealed, None, camr::qr::unix_now()).unwrap();
    assert_eq!(report.seals.len(), 2, "{}", report.human());
    assert!(
        report.seals.iter().all(|s| s.integrity),
        "{}",
        report.human()
    );
    // The 法定代表人章 is on two pages.
    assert_eq!(report.seals[1].widgets.len(), 2, "{}", report.human());
    assert_eq!(
        report.seals[0].signer.as_ref().unwrap().name,
        "陈七",
        "{}",
        report.human()
    );

    // 撤章: the holder revokes the 公章 by scanning with the NETCA app.
    let field = report.seals[0].field_name.clone();
    let (s, v) = h
        .upload(
            &format!("/api/v1/pdf/revoke?name=投标函.pdf&field={field}&reason=报价有误"),
            sealed.clone(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let revoke_tid = v["data"]["tid"].as_str().unwrap().to_string();
    let (s, v) = w
        .answer_as(&org_dir, &org, v["data"]["qrText"].as_str().unwrap())
        .await;
    assert_eq!(
        (s, v["data"]["state"].as_str()),
        (200, Some("verified")),
        "{v}"
    );
    let (s, revoked, _) = h
        .download(&format!("/api/v1/pdf/{revoke_tid}/sealed"))
        .await;
    assert_eq!(s, 200);
    let (s, v) = h.upload("/api/v1/pdf/verify", revoked).await;
    assert_eq!(s, 200, "{v}");
    let revoked_seal = v["data"]["seals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["fieldName"] == field.as_str() || s["field"] == field.as_str())
        .unwrap_or_else(|| panic!("no {field} in {v}"));
    assert_eq!(revoked_seal["revoked"]["by"]["name"], "陈七", "{v}");
    // A field that does not exist cannot be revoked.
    let (s, v) = h.upload("/api/v1/pdf/revoke?field=Seal99", sealed).await;
    assert_ne!(s, 200, "{v}");
}

/// NETCA 扫码加解密: a quote (报价) is encrypted to the app's encryption certificate, submitted
/// to the hall, and decrypted only after the opening time and the bidder's sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netca_encrypts_a_quote_and_decrypts_it_in_the_hall_after_opening_and_sign_in() {
    let w = world(camr_server::hall::Opening::AfterStart(3600)).await;
    let h = &w.h;
    let (s, view) = h.get("/api/v1/hall").await;
    assert_eq!(s, 200, "{view}");
    assert!(
        view["data"]["opensAt"].as_i64().unwrap() > camr::qr::unix_now(),
        "{view}"
    );
    let org_dir = w.wallet_dir("netca", "org");
    let org = w.wallet("netca", "org");
    let quote = "投标报价：人民币壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元整（¥12,345,678.00）".as_bytes();

    // 扫码加密: the app gives its encryption certificate; the platform seals the quote to it.
    let (s, v) = h
        .upload("/api/v1/bidfiles?name=报价.txt", quote.to_vec())
        .await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    assert_eq!(v["data"]["operation"], "encrypt");
    let (s, v) = w
        .answer_as(&org_dir, &org, v["data"]["qrText"].as_str().unwrap())
        .await;
    assert_eq!(
        (s, v["data"]["state"].as_str()),
        (200, Some("verified")),
        "{v}"
    );
    let (s, envelope, _) = h
        .download(&format!("/api/v1/bidfiles/{tid}/envelope"))
        .await;
    assert_eq!(s, 200);
    assert!(!envelope.windows(quote.len()).any(|w| w == quote));

    // The envelope is the bid; before the opening time it stays closed.
    let (s, v) = h
        .upload("/api/v1/hall/bids?name=报价.txt.camrbid", envelope)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["data"]["recipients"],
        json!([org.enc_cert.serial_hex().to_ascii_lowercase()])
    );
    let bid = v["data"]["id"].as_str().unwrap().to_string();
    let (s, v) = h
        .post(&format!("/api/v1/hall/decrypt?bid={bid}"), &json!({}))
        .await;
    assert_error(s, &v, 403, "BID_OPENING_NOT_REACHED");
    // The bidder signs in (签到) with the NETCA app.
    let (s, v) = h
        .post(&format!("/api/v1/hall/signin?bid={bid}"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = w
        .answer_as(&org_dir, &org, v["data"]["qrText"].as_str().unwrap())
        .await;
    assert_eq!(
        (s, v["data"]["state"].as_str()),
        (200, Some("verified")),
        "{v}"
    );
    // The opening time.
    h.state
        .hall
        .set_opens_at(camr::qr::unix_now())
        .await
        .unwrap();
    let (s, v) = h
        .post(&format!("/api/v1/hall/decrypt?bid={bid}"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let open_tid = v["data"]["tid"].as_str().unwrap().to_string();
    let (s, v) = w
        .answer_as(&org_dir, &org, v["data"]["qrText"].as_str().unwrap())
        .await;
    assert_eq!(
        (s, v["data"]["state"].as_str()),
        (200, Some("verified")),
        "{v}"
    );
    let (s, opened, _) = h
        .download(&format!("/api/v1/bidfiles/{open_tid}/plain"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(opened, quote);
}

/// GDCA: the PIN guards the wallet; the organisation delegates to a staff member (login,
/// encrypt, decrypt); signing is outside the scope; the organisation withdraws (收回).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdca_pin_delegated_staff_in_scope_out_of_scope_and_withdrawn() {
    let w = world(camr_server::hall::Opening::AfterStart(3600)).await;
    let h = &w.h;
    let org_dir = w.wallet_dir("gdca", "org");
    let org = w.wallet("gdca", "org");

    // PIN: a wrong one opens nothing (and counts); the right one logs in.
    let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (r, _) = sim(ScanOptions {
        pin: Some("000000".into()),
        ..scan_options(&qr, org_dir.clone(), PIN)
    })
    .await;
    assert_eq!(r.unwrap_err().code, ErrorCode::KeyPasswordWrong);
    let (r, shown) = sim(scan_options(&qr, org_dir.clone(), PIN)).await;
    assert_eq!(r.unwrap().state, "verified", "{shown}");
    assert!(shown.contains("数信签 (GDCA)"), "{shown}");

    // 扫码签章 (数信签 7.2) by the holder: a PDF seal in GDCA's format, the seal the holder's.
    let pdf = camr::seal::sample_pdf(1).unwrap();
    let (s, v) = h
        .upload(
            "/api/v1/pdf/seal?name=合同.pdf&page=1&x=300&y=100",
            pdf.clone(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let seal_tid = v["data"]["tid"].as_str().unwrap().to_string();
    let (r, shown) = sim(scan_options(
        v["data"]["qrText"].as_str().unwrap(),
        org_dir.clone(),
        PIN,
    ))
    .await;
    assert_eq!(r.unwrap().state, "verified", "{shown}");
    let (s, sealed, _) = h.download(&format!("/api/v1/pdf/{seal_tid}/sealed")).await;
    assert_eq!(s, 200);
    assert!(sealed.starts_with(&pdf));
    let report =
        camr::seal::verify(h.provider.as_ref(), &sealed, None, camr::qr::unix_now()).unwrap();
    assert!(report.seals[0].integrity, "{}", report.human());
    assert_eq!(
        report.seals[0].signer.as_ref().unwrap().name,
        "赵六",
        "{}",
        report.human()
    );

    // 证书授权: the organisation's holder delegates login, encrypt and decrypt to 王五 and
    // records it at GDCA's cloud.
    let now = camr::qr::unix_now();
    let (d, id) = camr_app_sim::delegate(
        &camr_app_sim::DelegateOptions {
            wallet: org_dir.clone(),
            pin: PIN.into(),
            staff_name: "王五".into(),
            staff_id: Some("110101199001011234".into()),
            systems: vec!["C1100005553".into()],
            operations: vec!["login".into(), "encrypt".into(), "decrypt".into()],
            not_before: now - 60,
            not_after: now + 3600,
        },
        &mut Lines::default(),
    )
    .unwrap();
    // The app's HTTP client is blocking: off the runtime's threads.
    let (url, signed) = (w.gdca_url.clone(), d.clone());
    let recorded = tokio::task::spawn_blocking(move || {
        camr_app_sim::vendors::gdca::record_delegation(&url, &signed)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(recorded, id);
    let file = w.root.path().join("delegation.json");
    std::fs::write(&file, serde_json::to_string(&d).unwrap()).unwrap();
    let staff = |qr: &str| ScanOptions {
        delegation: Some(file.clone()),
        ..scan_options(qr, org_dir.clone(), PIN)
    };
    // Login, encrypt and decrypt as staff.
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (r, shown) = sim(staff(&qr)).await;
    assert_eq!(r.unwrap().state, "verified", "{shown}");
    assert!(
        shown.contains("Acting for the organisation as 王五"),
        "{shown}"
    );
    let result = w.result(&tid).await;
    assert_eq!(result["caOrgType"], "GDCA", "{result}");
    let bid = b"GDCA bid file: technical part".repeat(100);
    let (s, v) = h
        .upload("/api/v1/bidfiles?name=标书.pdf", bid.clone())
        .await;
    assert_eq!(s, 200, "{v}");
    let seal_tid = v["data"]["tid"].as_str().unwrap().to_string();
    let (r, shown) = sim(staff(v["data"]["qrText"].as_str().unwrap())).await;
    assert_eq!(r.unwrap().state, "verified", "{shown}");
    let (s, envelope, _) = h
        .download(&format!("/api/v1/bidfiles/{seal_tid}/envelope"))
        .await;
    assert_eq!(s, 200);
    let (s, v) = h
        .upload(
            "/api/v1/bidfiles/open?name=标书.pdf.camrbid",
            envelope.clone(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let open_tid = v["data"]["tid"].as_str().unwrap().to_string();
    let (r, shown) = sim(staff(v["data"]["qrText"].as_str().unwrap())).await;
    assert_eq!(r.unwrap().state, "verified", "{shown}");
    let (s, opened, _) = h
        .download(&format!("/api/v1/bidfiles/{open_tid}/plain"))
        .await;
    assert_eq!((s, opened), (200, bid));

    // Signing is outside the delegation: the app refuses, and the platform refuses an app that
    // answers anyway.
    let items = json!([{
        "id": "doc1",
        "name": "投标文件.pdf",
        "hash": data_encoding::BASE64.encode(&[7u8; 32]),
        "hashAlgorithm": "SM3",
    }]);
    let (_, qr) = h
        .start_tx(json!({"operation": "signature", "items": items}))
        .await;
    let (r, _) = sim(staff(&qr)).await;
    assert_eq!(r.unwrap_err().code, ErrorCode::DelegationOutOfScope);
    let (signed, request) = h.scan(&qr).await;
    let app = App::new(h.provider.clone(), "GDCA");
    let mut anyway = app.approve(&org, &signed, &request, &[]).unwrap();
    anyway.operator = Some("王五 (110101199001011234)".into());
    anyway.delegation = Some(d.clone());
    // Signed with the delegation inside (camr2 binding): the platform's scope check decides.
    app.sign_binding(&org, &mut anyway).unwrap();
    let gdca = app_for("GDCA").unwrap();
    // (the 数信签 app checks the delegation with GDCA's cloud: still active, so it wraps)
    let anyway =
        tokio::task::block_in_place(|| gdca.wrap(&org_dir, &vendor_of(&org_dir).unwrap(), anyway))
            .unwrap();
    let (s, v) = h.answer(&anyway).await;
    assert_error(s, &v, 403, "DELEGATION_OUT_OF_SCOPE");
    assert!(v["msg"].as_str().unwrap().contains("signature"), "{v}");

    // 收回: the organisation withdraws at GDCA's cloud — the 数信签 app refuses to act under it.
    let (url, withdrawn) = (w.gdca_url.clone(), id.clone());
    tokio::task::spawn_blocking(move || {
        camr_app_sim::vendors::gdca::withdraw_delegation(&url, &withdrawn, "员工离职")
    })
    .await
    .unwrap()
    .unwrap();
    let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (r, _) = sim(staff(&qr)).await;
    let e = r.unwrap_err();
    assert_eq!(e.code, ErrorCode::DelegationOutOfScope, "{e}");
    assert!(e.msg.contains("收回") && e.msg.contains("员工离职"), "{e}");
    // An app that answers anyway: accepted until the platform withdraws it too, then refused.
    let (signed, request) = h.scan(&qr).await;
    let forced = App::new(h.provider.clone(), "GDCA")
        .approve_as_staff(&org, &d, &signed, &request, camr::qr::unix_now())
        .unwrap();
    let forced = camr_app_sim::vendors::netca::Netca
        .wrap(&org_dir, &vendor_of(&org_dir).unwrap(), forced)
        .unwrap();
    // (in NETCA's format under caOrgType GDCA: the GDCA adapter does not read it)
    let (s, v) = h.answer(&forced).await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let r = h
        .client
        .post(format!("{}/api/v1/admin/delegations/withdraw", h.base))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"delegation": d, "reason": "员工离职"}))
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    assert_eq!(s, 200, "{v}");
    let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed, request) = h.scan(&qr).await;
    let mut forced = App::new(h.provider.clone(), "GDCA")
        .approve_as_staff(&org, &d, &signed, &request, camr::qr::unix_now())
        .unwrap();
    // Skip the app's check with the cloud: wrap without the delegation, then put it back.
    let delegation = forced.delegation.take();
    let mut forced = gdca
        .wrap(&org_dir, &vendor_of(&org_dir).unwrap(), forced)
        .unwrap();
    forced.delegation = delegation;
    let (s, v) = h.answer(&forced).await;
    assert_error(s, &v, 403, "DELEGATION_OUT_OF_SCOPE");
    assert!(v["msg"].as_str().unwrap().contains("withdrawn"), "{v}");
}

/// GDCA 解密: a holder whose encryption certificate was renewed has two; each envelope is opened
/// with the certificate it was made for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdca_decrypt_picks_the_encryption_certificate_the_envelope_was_made_for() {
    let w = world(camr_server::hall::Opening::AfterStart(3600)).await;
    let h = &w.h;
    let org_dir = w.wallet_dir("gdca", "org");
    let before = w.wallet("gdca", "org");
    let seal_to = |cert: &camr::pki::Certificate, data: &[u8]| {
        let mut sealed = Vec::new();
        camr::envelope::seal_stream(
            h.provider.as_ref(),
            std::slice::from_ref(cert),
            data,
            &mut sealed,
            &mut |_| {},
        )
        .unwrap();
        sealed
    };
    let old_bid = b"sealed to the first encryption certificate".to_vec();
    let old_envelope = seal_to(&before.enc_cert, &old_bid);
    // The holder renews the encryption certificate (GDCA keeps the old one in the wallet).
    let new_sn =
        gdca_cloud::renew_enc_cert(&w.root.path().join("gdca/ca"), &org_dir, &gdca_org(), PIN)
            .unwrap();
    let after = w.wallet("gdca", "org");
    assert_eq!(after.enc_cert.serial_hex(), new_sn);
    assert_ne!(new_sn, before.enc_cert.serial_hex());
    let new_bid = b"sealed to the renewed encryption certificate".to_vec();
    let new_envelope = seal_to(&after.enc_cert, &new_bid);
    // An encrypt now hands out the renewed certificate.
    let (tid, qr) = h.start_tx(json!({"operation": "encrypt"})).await;
    let (s, v) = w.answer_as(&org_dir, &after, &qr).await;
    assert_eq!(s, 200, "{v}");
    let result = w.result(&tid).await;
    let enc = common::b64(result["encryptionCertificate"].as_str().unwrap());
    assert_eq!(enc, after.enc_cert.der(), "{result}");

    let gdca = app_for("GDCA").unwrap();
    for (envelope, bid, sn) in [
        (old_envelope, old_bid, before.enc_cert.serial_hex()),
        (new_envelope, new_bid, new_sn.clone()),
    ] {
        let (s, v) = h
            .upload("/api/v1/bidfiles/open?name=标书.pdf.camrbid", envelope)
            .await;
        assert_eq!(s, 200, "{v}");
        let open_tid = v["data"]["tid"].as_str().unwrap().to_string();
        let (signed, request) = h.scan(v["data"]["qrText"].as_str().unwrap()).await;
        let app = App::new(h.provider.clone(), "GDCA");
        if sn != new_sn {
            // The current certificate alone is not a recipient of the old envelope.
            let e = app.approve(&after, &signed, &request, &[]).unwrap_err();
            assert_eq!(e.code(), ErrorCode::EnvelopeNoRecipient, "{e}");
        }
        let wallet =
            camr_app_sim::vendors::gdca::wallet_for_envelope(&org_dir, PIN, &request).unwrap();
        assert_eq!(wallet.enc_cert.serial_hex(), sn);
        let answer = app.approve(&wallet, &signed, &request, &[]).unwrap();
        let answer = gdca
            .wrap(&org_dir, &vendor_of(&org_dir).unwrap(), answer)
            .unwrap();
        let (s, v) = h.answer(&answer).await;
        assert_eq!(
            (s, v["data"]["state"].as_str()),
            (200, Some("verified")),
            "{v}"
        );
        let (s, opened, _) = h
            .download(&format!("/api/v1/bidfiles/{open_tid}/plain"))
            .await;
        assert_eq!((s, opened), (200, bid));
    }
    // A wrong PIN does not open the kept key either.
    assert!(
        camr_app_sim::vendors::gdca::wallet_for_envelope(&org_dir, "000000", &{
            let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
            h.scan(&qr).await.1
        })
        .is_err()
    );
}
