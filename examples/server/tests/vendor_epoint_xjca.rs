//! Issue 10 — Epoint (新点标证通) and XJCA (中标一证通) end to end over HTTP: both adapters
//! loaded as `.so` files into the reference server, each configured with its cloud simulator
//! running in-process, the vendors' roots trusted through a signed trust list, and the app
//! simulator answering as each vendor's app in its own wire format (`vendorEvidence`).
//!
//! Epoint: a 本平台证书 logs in only through the Epoint code (新点标证通 APP 二维码), refused
//! through the national one (全国 CA 互认二维码); a 全国版 certificate seals a PDF (扫码签章),
//! makes a bid file (扫码生成投标文件) and decrypts it in the hall with its PIN (扫码解密).
//! XJCA: 个人授权 and 企业授权 logins, a message signature (消息签名) verified by XJCA's cloud with
//! the manual's result JSON (验签结果), a PDF seal and its 撤章, every use billed per certificate
//! and seal (按量扣费) and listed in the scan report (扫码报告); a billing outage blocks no
//! login.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use camr::app::{App, Wallet};
use camr::protocol::{Bytes, ErrorCode};
use camr::softca::Holder;
use camr_app_sim::vendors::{app_for, vendor_of};
use common::sim::{scan_options, sim};
use common::{Harness, TestVendor, assert_error, softca_root, start_configured, vendor_platform};
use serde_json::{Value, json};

const PIN: &str = "123456";

fn org(name: &str, organization: &str) -> Holder {
    Holder::org(name, organization, "91350100M000100Y43")
}

/// The server with both vendors, their clouds and wallets.
struct World {
    h: Harness,
    /// The vendors' folders (CAs and wallets), kept alive.
    root: tempfile::TempDir,
    xjca_url: String,
}

impl World {
    fn wallet_dir(&self, vendor: &str, name: &str) -> PathBuf {
        self.root.path().join(vendor).join("wallets").join(name)
    }

    fn wallet(&self, vendor: &str, name: &str) -> Wallet {
        Wallet::open(&self.wallet_dir(vendor, name), PIN.as_bytes()).unwrap()
    }

    /// The vendor's app answers `qr` with the wallet in `dir`: `camr::app` plus the vendor's
    /// wrapping into its wire format; the platform's answer.
    async fn answer_as(&self, dir: &Path, qr: &str) -> (u16, Value) {
        let wallet = Wallet::open(dir, PIN.as_bytes()).unwrap();
        let (signed, request) = self.h.scan(qr).await;
        let vendor = vendor_of(dir).unwrap();
        let app = app_for(&vendor.ca_org_type).unwrap();
        let response = App::new(self.h.provider.clone(), app.ca_org_type())
            .approve(&wallet, &signed, &request, &[])
            .unwrap();
        let response = app.wrap(dir, &vendor, response).unwrap();
        assert!(response.evidence.is_none() && response.vendor_evidence.is_some());
        self.h.answer(&response).await
    }

    async fn verified_as(&self, dir: &Path, qr: &str) {
        let (s, v) = self.answer_as(dir, qr).await;
        assert_eq!(
            (s, v["data"]["state"].as_str()),
            (200, Some("verified")),
            "{v}"
        );
    }

    async fn result(&self, tid: &str) -> Value {
        let (s, v) = self
            .h
            .get(&format!("/api/v1/transactions/{tid}/result"))
            .await;
        assert_eq!(s, 200, "{v}");
        v["data"].clone()
    }

    /// A call to the XJCA cloud.
    async fn xjca(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.xjca_url);
        let req = match method {
            "POST" => self.h.client.post(url).json(&body.unwrap_or(Value::Null)),
            _ => self.h.client.get(url),
        };
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// The XJCA bill of `serial` once `want` holds (reports travel after the answer).
    async fn bill_when(&self, serial: &str, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (s, v) = self
                .xjca("GET", &format!("/bills?serial={serial}"), None)
                .await;
            if s == 200 && want(&v) {
                return v;
            }
            assert!(Instant::now() < deadline, "bill of {serial}: {s} {v}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Uses of `item` in a bill's operation or seal lines.
fn uses(bill: &Value, lines: &str, item: &str) -> u64 {
    bill[lines]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"] == item || l["kind"] == item)
        .map_or(0, |l| l["count"].as_u64().unwrap())
}

/// Starts both clouds (own CAs; wallets issued with `vendor.json`), the server with both
/// adapters and a trust list naming both roots. `platform_only`: Epoint's certificates are
/// 本平台证书 (`entitlement.platform_only`); the hall opens at `opening`.
async fn world(platform_only: bool, opening: camr_server::hall::Opening) -> World {
    let root = tempfile::tempdir().unwrap();
    // Epoint: a bidder's company certificate, 本平台证书 or 全国版.
    let epoint = root.path().join("epoint");
    epoint_cloud::init_ca(&epoint.join("ca")).unwrap();
    let (epoint_addr, _) =
        epoint_cloud::spawn(&epoint.join("ca"), Some(epoint.join("wallets"))).unwrap();
    let epoint_url = format!("http://{epoint_addr}");
    let scope = if platform_only {
        epoint_cloud::CertScope::Platform
    } else {
        epoint_cloud::CertScope::National
    };
    epoint_cloud::issue_wallet(
        &epoint.join("ca"),
        &org("王五", "新点投标人测试有限公司"),
        PIN.as_bytes(),
        &epoint.join("wallets").join("org"),
        30,
        scope,
        Some(&epoint_url),
    )
    .unwrap();
    // XJCA: a person (个人授权) and a company (企业授权).
    let xjca = root.path().join("xjca");
    xjca_cloud::init_ca(&xjca.join("ca")).unwrap();
    let (xjca_addr, _) = xjca_cloud::spawn(&xjca.join("ca"), Some(xjca.join("wallets"))).unwrap();
    let xjca_url = format!("http://{xjca_addr}");
    for (name, holder) in [
        ("person", Holder::personal("张三")),
        ("org", org("李四", "乌鲁木齐诚悦网络科技有限公司")),
    ] {
        xjca_cloud::issue_wallet(
            &xjca.join("ca"),
            &holder,
            PIN.as_bytes(),
            &xjca.join("wallets").join(name),
            30,
            Some(&xjca_url),
        )
        .unwrap();
    }
    // The adapters, as a platform drops them into its plugin folder; the trust list
    // (注册表): this platform accepts both; their roots.
    let (plugins, trust_list) = vendor_platform(
        root.path(),
        &[
            TestVendor {
                ca_org_type: "EPOINT",
                name: "新点 Epoint (test)",
                root: softca_root(&epoint.join("ca")),
            },
            TestVendor {
                ca_org_type: "XJCA",
                name: "新疆 CA XJCA (test)",
                root: softca_root(&xjca.join("ca")),
            },
        ],
        &["libcamr_adapter_epoint.so", "libcamr_adapter_xjca.so"],
    );
    let xjca_for_config = xjca_url.clone();
    let h = start_configured(move |c, _| {
        // These test vendors' CAs publish no revocation information (no OCSP responder or CRL in
        // their certificates, no CRL file): the live check is off here and tested in
        // live_revocation.rs.
        c.revocation.sources = Vec::new();
        c.plugins = Some(plugins);
        c.plugins_config
            .insert("EPOINT".into(), json!({ "cloudUrl": epoint_url }));
        c.plugins_config.insert(
            "XJCA".into(),
            json!({ "cloudUrl": xjca_for_config, "timeoutMs": 2000 }),
        );
        c.trust_list = Some(trust_list);
        if platform_only {
            c.entitlement.platform_only = Some(vec!["EPOINT".into()]);
        }
        c.hall = camr_server::hall::HallConfig {
            project: "某某道路工程（第一标段）".into(),
            opening,
            // Envelopes outside the opening are decrypted too (bid-file page).
            free_decrypts: true,
        };
    })
    .await;
    World { h, root, xjca_url }
}

/// The login page's national and vendor payloads.
async fn login_page(h: &Harness) -> (String, String) {
    let html = h
        .client
        .get(format!("{}/", h.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let code = |id: &str| {
        let start = format!(r#"<code id="{id}">"#);
        html.split_once(&start)
            .map(|(_, rest)| {
                rest.split_once("</code>")
                    .unwrap()
                    .0
                    .replace("&amp;", "&")
                    .replace("&quot;", "\"")
            })
            .unwrap_or_else(|| panic!("no {id} on the login page"))
    };
    (code("payload"), code("vendor-payload"))
}

/// Epoint 扫码登录 and 扫码绑定: a 本平台证书 through the national code (全国 CA 互认二维码) is
/// refused, through the Epoint code (新点标证通 APP 二维码) verified; the 主体注册 binds it;
/// camr's own form under EPOINT is not what the Epoint adapter reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epoint_platform_certificate_logs_in_only_through_the_epoint_code() {
    let w = world(true, camr_server::hall::Opening::AfterStart(3600)).await;
    let h = &w.h;
    let dir = w.wallet_dir("epoint", "org");
    let (national, vendor) = login_page(h).await;
    assert!(vendor.starts_with("camrv1://"), "{vendor}");

    let (r, shown) = sim(scan_options(&national, dir.clone(), PIN)).await;
    let e = r.expect_err("a 本平台证书 through the national code");
    assert_eq!(e.code, ErrorCode::CertNotEntitled, "{e}\n{shown}");

    let (r, shown) = sim(scan_options(&vendor, dir.clone(), PIN)).await;
    let outcome = r.unwrap_or_else(|e| panic!("{e}\n{shown}"));
    assert_eq!(outcome.state, "verified", "{shown}");
    assert!(shown.contains("新点标证通"), "{shown}");
    let tid = camr::qr::QrProfile::parse(&camr::qr::Vendor1, &vendor)
        .unwrap()
        .tid
        .to_string();
    let result = w.result(&tid).await;
    assert_eq!(result["caOrgType"], "EPOINT", "{result}");
    assert_eq!(result["subject"]["name"], "王五", "{result}");

    // 扫码绑定: the certificate is not bound yet; the 主体注册 form is prefilled from it, and
    // submitting binds it (系统自动审核通过); the next login through the Epoint code is bound.
    assert_eq!(result["binding"]["status"], "unbound", "{result}");
    let (s, v) = h.get(&format!("/api/v1/registrations/{tid}")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["identity"]["caOrgType"], "EPOINT", "{v}");
    assert_eq!(
        v["data"]["identity"]["organization"], "新点投标人测试有限公司",
        "{v}"
    );
    let (s, v) = h
        .post(
            "/api/v1/registrations",
            &json!({"tid": tid, "mobile": "13900000000", "contact": "王五"}),
        )
        .await;
    assert_eq!(
        (s, v["data"]["status"].as_str()),
        (200, Some("active")),
        "{v}"
    );
    let (_, vendor) = login_page(h).await;
    let (r, shown) = sim(scan_options(&vendor, dir.clone(), PIN)).await;
    assert_eq!(
        r.unwrap_or_else(|e| panic!("{e}\n{shown}")).state,
        "verified"
    );
    let tid = camr::qr::QrProfile::parse(&camr::qr::Vendor1, &vendor)
        .unwrap()
        .tid
        .to_string();
    assert_eq!(w.result(&tid).await["binding"]["status"], "bound");

    // camr's own evidence form from an Epoint app is refused by the Epoint adapter.
    let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed, request) = h.scan(&qr).await;
    let wallet = w.wallet("epoint", "org");
    let mut garbled = App::new(h.provider.clone(), "EPOINT")
        .approve(&wallet, &signed, &request, &[])
        .unwrap();
    garbled.vendor_evidence = Some(Bytes(
        serde_json::to_vec(garbled.evidence.as_ref().unwrap()).unwrap(),
    ));
    garbled.evidence = None;
    let (s, v) = h.answer(&garbled).await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
}

/// Epoint with a 全国版 certificate: 扫码签章 of a PDF, 扫码生成投标文件 (the bid file sealed to
/// the app's encryption certificate), and 扫码解密 in the hall after the opening time and the
/// sign-in — a wrong PIN is refused on the phone, the right one opens the bid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epoint_seals_makes_a_bid_file_and_decrypts_it_with_the_pin() {
    let w = world(false, camr_server::hall::Opening::AfterStart(3600)).await;
    let h = &w.h;
    let (s, view) = h.get("/api/v1/hall").await;
    assert_eq!(s, 200, "{view}");
    assert!(
        view["data"]["opensAt"].as_i64().unwrap() > camr::qr::unix_now(),
        "{view}"
    );
    let dir = w.wallet_dir("epoint", "org");
    let wallet = w.wallet("epoint", "org");

    // 扫码签章.
    let pdf = camr::seal::sample_pdf(1).unwrap();
    let (s, v) = h
        .upload(
            "/api/v1/pdf/seal?name=投标函.pdf&page=1&x=300&y=100&reason=投标",
            pdf,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let seal_tid = v["data"]["tid"].as_str().unwrap().to_string();
    let (r, shown) = sim(scan_options(
        v["data"]["qrText"].as_str().unwrap(),
        dir.clone(),
        PIN,
    ))
    .await;
    assert_eq!(
        r.unwrap_or_else(|e| panic!("{e}\n{shown}")).state,
        "verified"
    );
    let (s, sealed, _) = h.download(&format!("/api/v1/pdf/{seal_tid}/sealed")).await;
    assert_eq!(s, 200);
    let report =
        camr::seal::verify(h.provider.as_ref(), &sealed, None, camr::qr::unix_now()).unwrap();
    assert_eq!(report.seals.len(), 1, "{}", report.human());
    assert!(report.seals[0].integrity, "{}", report.human());
    assert_eq!(
        report.seals[0].signer.as_ref().unwrap().name,
        "王五",
        "{}",
        report.human()
    );

    // 扫码生成投标文件.
    let bid = "投标文件：商务标、技术标、报价 ¥9,876,543.21".as_bytes();
    let (s, v) = h
        .upload("/api/v1/bidfiles?name=投标文件.txt", bid.to_vec())
        .await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    w.verified_as(&dir, v["data"]["qrText"].as_str().unwrap())
        .await;
    let (s, envelope, _) = h
        .download(&format!("/api/v1/bidfiles/{tid}/envelope"))
        .await;
    assert_eq!(s, 200);
    assert!(!envelope.windows(bid.len()).any(|w| w == bid));
    let (s, v) = h
        .upload("/api/v1/hall/bids?name=投标文件.txt.camrbid", envelope)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["data"]["recipients"],
        json!([wallet.enc_cert.serial_hex().to_ascii_lowercase()])
    );
    let bid_id = v["data"]["id"].as_str().unwrap().to_string();
    // 签到, then the opening time.
    let (s, v) = h
        .post(&format!("/api/v1/hall/signin?bid={bid_id}"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    w.verified_as(&dir, v["data"]["qrText"].as_str().unwrap())
        .await;
    h.state
        .hall
        .set_opens_at(camr::qr::unix_now())
        .await
        .unwrap();
    // 扫码解密: a wrong PIN is refused by the app; the right one opens the bid.
    let (s, v) = h
        .post(&format!("/api/v1/hall/decrypt?bid={bid_id}"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let open_tid = v["data"]["tid"].as_str().unwrap().to_string();
    let qr = v["data"]["qrText"].as_str().unwrap().to_string();
    let (r, shown) = sim(scan_options(&qr, dir.clone(), "000000")).await;
    assert!(r.is_err(), "a wrong PIN opened the wallet: {shown}");
    let (r, shown) = sim(scan_options(&qr, dir.clone(), PIN)).await;
    assert_eq!(
        r.unwrap_or_else(|e| panic!("{e}\n{shown}")).state,
        "verified"
    );
    let (s, opened, _) = h
        .download(&format!("/api/v1/bidfiles/{open_tid}/plain"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(opened, bid);
}

/// XJCA: 个人授权 and 企业授权 logins, 消息签名 + 验签 (the manual's result JSON), 文件签章 and
/// 撤章; each use billed per certificate, the seal's uses separately (按量扣费), and listed in
/// the scan report (扫码报告); then a billing outage: logins go on, nothing is billed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xjca_stories_are_billed_per_use_and_a_billing_outage_blocks_no_login() {
    let w = world(false, camr_server::hall::Opening::AfterStart(3600)).await;
    let h = &w.h;
    let person_dir = w.wallet_dir("xjca", "person");
    let org_dir = w.wallet_dir("xjca", "org");
    let person_sn = w.wallet("xjca", "person").sign_cert.serial_hex();
    let org_sn = w.wallet("xjca", "org").sign_cert.serial_hex();

    // 授权登录: 个人授权 through the app simulator, 企业授权 with the company certificate.
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (r, shown) = sim(scan_options(&qr, person_dir.clone(), PIN)).await;
    assert_eq!(
        r.unwrap_or_else(|e| panic!("{e}\n{shown}")).state,
        "verified"
    );
    assert!(shown.contains("中标一证通"), "{shown}");
    // 系统标识码 and 交易系统名称 on the authorisation screen.
    assert!(
        shown.contains("系统标识码") && shown.contains("交易系统名称"),
        "{shown}"
    );
    assert_eq!(w.result(&tid).await["caOrgType"], "XJCA");
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    w.verified_as(&org_dir, &qr).await;
    assert_eq!(
        w.result(&tid).await["subject"]["subjectType"],
        "org",
        "企业授权"
    );

    // 授权消息签名, then 验签 at XJCA's cloud with its result JSON.
    let message = "报价：人民币壹佰贰拾叁万肆仟伍佰陆拾柒元整";
    let (tid, qr) = h
        .start_tx(json!({"operation": "messageSignature", "message": message}))
        .await;
    w.verified_as(&person_dir, &qr).await;
    let result = w.result(&tid).await;
    let verify = |plain: &str| {
        json!({
            "signCert": result["certificate"],
            "plain": plain,
            "signValue": result["signature"],
        })
    };
    let (s, v) = w.xjca("POST", "/xjca/verify", Some(verify(message))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v,
        json!({"code":200,"success":true,"data":{"verifySignatureResult":true},"msg":"","errorCode":""})
    );
    let (_, v) = w
        .xjca("POST", "/xjca/verify", Some(verify("报价：壹元整")))
        .await;
    assert_eq!(v["data"]["verifySignatureResult"], false, "{v}");

    // 授权文件签章签名 of a PDF with the company certificate, then 授权撤章.
    let pdf = camr::seal::sample_pdf(1).unwrap();
    let (s, v) = h
        .upload(
            "/api/v1/pdf/seal?name=合同.pdf&page=1&x=300&y=100&reason=签约",
            pdf,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let seal_tid = v["data"]["tid"].as_str().unwrap().to_string();
    w.verified_as(&org_dir, v["data"]["qrText"].as_str().unwrap())
        .await;
    let (s, sealed, _) = h.download(&format!("/api/v1/pdf/{seal_tid}/sealed")).await;
    assert_eq!(s, 200);
    let report =
        camr::seal::verify(h.provider.as_ref(), &sealed, None, camr::qr::unix_now()).unwrap();
    let field = report.seals[0].field_name.clone();
    let (s, v) = h
        .upload(
            &format!("/api/v1/pdf/revoke?name=合同.pdf&field={field}&reason=盖错位置"),
            sealed,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let revoke_tid = v["data"]["tid"].as_str().unwrap().to_string();
    w.verified_as(&org_dir, v["data"]["qrText"].as_str().unwrap())
        .await;
    let (s, revoked, _) = h
        .download(&format!("/api/v1/pdf/{revoke_tid}/sealed"))
        .await;
    assert_eq!(s, 200);
    let (s, v) = h.upload("/api/v1/pdf/verify", revoked).await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v["data"]["seals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["revoked"]["by"]["name"] == "李四"),
        "{v}"
    );

    // 按量扣费: every use on the certificate's bill, the 公章's use separately.
    let org_bill = w
        .bill_when(&org_sn, |b| {
            uses(b, "operations", "login") == 1
                && uses(b, "operations", "signature") == 1
                && uses(b, "operations", "revokeSignature") == 1
        })
        .await;
    assert_eq!(uses(&org_bill, "seals", "official"), 1, "{org_bill}");
    assert_eq!(org_bill["totalFen"], 10 + 50 + 30 + 20, "{org_bill}");
    let person_bill = w
        .bill_when(&person_sn, |b| {
            uses(b, "operations", "login") == 1 && uses(b, "operations", "messageSignature") == 1
        })
        .await;
    assert_eq!(person_bill["seals"], json!([]), "{person_bill}");

    // 扫码报告: the platform's usage report lists the XJCA uses per certificate.
    let (s, v) = h.get("/api/v1/reports/usage?by=cert").await;
    assert_eq!(s, 200, "{v}");
    let row = |sn: &str| {
        v["data"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"].as_str().unwrap().eq_ignore_ascii_case(sn))
            .cloned()
            .unwrap_or_else(|| panic!("no row for {sn}: {v}"))
    };
    assert_eq!(row(&org_sn)["caOrgType"], "XJCA", "{v}");
    assert_eq!(row(&org_sn)["count"], 3, "{v}");
    assert_eq!(row(&person_sn)["count"], 2, "{v}");

    // A billing outage: logins are not blocked, and nothing is billed meanwhile.
    let (s, v) = w
        .xjca("POST", "/admin/outage", Some(json!({"billing": true})))
        .await;
    assert_eq!(s, 200, "{v}");
    // A burst of logins answered at once (three: the host runs at most four calls per vendor,
    // and the serialized reports take at most one), then more one by one: the failed reports
    // (at most one per pause) never open the host's circuit breaker for XJCA, which would stop
    // the logins.
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(h.start_tx(json!({"operation": "login"})).await.1);
    }
    let answers =
        futures_util::future::join_all(codes.iter().map(|qr| w.answer_as(&org_dir, qr))).await;
    for (s, v) in answers {
        assert_eq!(
            (s, v["data"]["state"].as_str()),
            (200, Some("verified")),
            "{v}"
        );
    }
    for _ in 0..6 {
        let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
        w.verified_as(&org_dir, &qr).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, after) = w
        .xjca("GET", &format!("/bills?serial={org_sn}"), None)
        .await;
    assert_eq!(uses(&after, "operations", "login"), 1, "{after}");
    // The platform still has every use for reconciliation.
    let (_, v) = h.get("/api/v1/reports/usage?by=cert").await;
    assert_eq!(
        v["data"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"].as_str().unwrap().eq_ignore_ascii_case(&org_sn))
            .unwrap()["count"],
        12,
        "{v}"
    );
}

/// XJCA 授权加密 / 授权解密 (中标一证通: "授权加密页面，可选择个人授权加密，企业授权加密 … 授权解密
/// 页面"): the enterprise certificate hands over its encryption certificate for a bid file, in
/// XJCA's result JSON; at bid opening the same app unwraps the key. Another holder's app
/// cannot open it (the envelope was not made for its encryption certificate).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xjca_encrypts_a_bid_file_for_the_enterprise_certificate_and_decrypts_it() {
    let w = world(false, camr_server::hall::Opening::AfterStart(3600)).await;
    let h = &w.h;
    let org_dir = w.wallet_dir("xjca", "org");
    let person_dir = w.wallet_dir("xjca", "person");
    let bid = "报价 ¥1,280,000.00；工期 180 日历天".as_bytes();
    let (s, v) = h
        .upload("/api/v1/bidfiles?name=报价.txt", bid.to_vec())
        .await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    w.verified_as(&org_dir, v["data"]["qrText"].as_str().unwrap())
        .await;
    let (_, tx) = h.get(&format!("/api/v1/transactions/{tid}")).await;
    assert_eq!(tx["data"]["caOrgType"], "XJCA", "{tx}");
    let (s, envelope, _) = h
        .download(&format!("/api/v1/bidfiles/{tid}/envelope"))
        .await;
    assert_eq!(s, 200);
    assert!(!envelope.windows(bid.len()).any(|w| w == bid));

    // 授权解密 with another holder's app: its key is not a recipient; nothing is opened.
    let (s, v) = h
        .upload(
            "/api/v1/bidfiles/open?name=报价.txt.camrbid",
            envelope.clone(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let qr = v["data"]["qrText"].as_str().unwrap().to_string();
    let (r, shown) = sim(scan_options(&qr, person_dir, PIN)).await;
    assert!(
        r.is_err(),
        "another holder's app answered the decrypt: {shown}"
    );
    // The enterprise certificate's app opens it.
    let (s, v) = h
        .upload("/api/v1/bidfiles/open?name=报价.txt.camrbid", envelope)
        .await;
    assert_eq!(s, 200, "{v}");
    let open_tid = v["data"]["tid"].as_str().unwrap().to_string();
    w.verified_as(&org_dir, v["data"]["qrText"].as_str().unwrap())
        .await;
    let (s, opened, _) = h
        .download(&format!("/api/v1/bidfiles/{open_tid}/plain"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(opened, bid);
}
