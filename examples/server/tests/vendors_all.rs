//! Issue 10: all five vendors' adapters (BJCA, Epoint, XJCA, NETCA, GDCA) and the reference
//! softca adapter loaded into one reference server at once, each configured with its own cloud
//! simulator, the vendors' roots trusted through one signed trust list. Each vendor's app (the
//! app simulator with that vendor's wallet) logs in and signs a message in its own wire format;
//! the server routes each answer to the adapter of its `caOrgType` — never by guessing the
//! format — and the core verifies the result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use camr::app::{App, Wallet};
use camr::softca::Holder;
use camr_app_sim::vendors::{app_for, vendor_of};
use camr_app_sim::{PlatformKeySource, QrSource, ScanOptions};
use common::sim::sim;
use common::{TestVendor, softca_root, start_configured, vendor_platform};
use serde_json::json;

const PIN: &str = "123456";
const VENDORS: [&str; 5] = ["BJCA", "EPOINT", "XJCA", "NETCA", "GDCA"];

fn holder(name: &str, org: &str) -> Holder {
    Holder::org(name, org, "91350100M000100Y43")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_five_adapters_load_at_once_and_each_answer_goes_to_its_vendors_adapter() {
    let root = tempfile::tempdir().unwrap();
    let ca = |v: &str| root.path().join(v).join("ca");
    let wallets = |v: &str| root.path().join(v).join("wallets");
    let mut urls = Vec::new();
    let mut holders = Vec::new();
    // BJCA: co-signing wallets (d1 in the app, d2 in the cloud).
    bjca_cloud::init_ca(&ca("bjca")).unwrap();
    let (a, _) = bjca_cloud::spawn(&ca("bjca")).unwrap();
    let url = format!("http://{a}");
    bjca_cloud::issue_wallet(
        &ca("bjca"),
        &holder("孙一", "北京某某科技有限公司"),
        PIN.as_bytes(),
        &wallets("bjca").join("org"),
        &url,
    )
    .unwrap();
    urls.push(url);
    holders.push("孙一");
    // Epoint (national certificates, so the national code serves them).
    epoint_cloud::init_ca(&ca("epoint")).unwrap();
    let (a, _) = epoint_cloud::spawn(&ca("epoint"), Some(wallets("epoint"))).unwrap();
    let url = format!("http://{a}");
    epoint_cloud::issue_wallet(
        &ca("epoint"),
        &holder("周二", "苏州某某建设有限公司"),
        PIN.as_bytes(),
        &wallets("epoint").join("org"),
        30,
        epoint_cloud::CertScope::National,
        Some(&url),
    )
    .unwrap();
    urls.push(url);
    holders.push("周二");
    // XJCA.
    xjca_cloud::init_ca(&ca("xjca")).unwrap();
    let (a, _) = xjca_cloud::spawn(&ca("xjca"), Some(wallets("xjca"))).unwrap();
    let url = format!("http://{a}");
    xjca_cloud::issue_wallet(
        &ca("xjca"),
        &holder("吴三", "乌鲁木齐某某工程有限公司"),
        PIN.as_bytes(),
        &wallets("xjca").join("org"),
        30,
        Some(&url),
    )
    .unwrap();
    urls.push(url);
    holders.push("吴三");
    // NETCA.
    netca_cloud::init_ca(&ca("netca")).unwrap();
    let (a, _) = netca_cloud::spawn(&ca("netca"), wallets("netca")).unwrap();
    let url = format!("http://{a}");
    netca_cloud::issue_wallet(
        &ca("netca"),
        &wallets("netca").join("org"),
        &holder("郑四", "广州某某科技有限公司"),
        PIN,
        None,
        Some(&url),
    )
    .unwrap();
    urls.push(url);
    holders.push("郑四");
    // GDCA.
    gdca_cloud::init_ca(&ca("gdca")).unwrap();
    let (a, _) = gdca_cloud::spawn(&ca("gdca"), wallets("gdca")).unwrap();
    let url = format!("http://{a}");
    gdca_cloud::issue_wallet(
        &ca("gdca"),
        &wallets("gdca").join("org"),
        &holder("王五", "广州某某工程有限公司"),
        PIN,
        Some(&url),
    )
    .unwrap();
    urls.push(url);
    holders.push("王五");

    // One plugin folder with all six adapters; one trust list with all five roots.
    let names: Vec<String> = VENDORS.iter().map(|v| format!("{v} (test)")).collect();
    let vendors: Vec<TestVendor> = VENDORS
        .iter()
        .zip(&names)
        .map(|(v, name)| TestVendor {
            ca_org_type: v,
            name,
            root: softca_root(&ca(&v.to_ascii_lowercase())),
        })
        .collect();
    let files: Vec<String> = std::iter::once("softca".to_string())
        .chain(VENDORS.iter().map(|v| v.to_ascii_lowercase()))
        .map(|v| format!("libcamr_adapter_{v}.so"))
        .collect();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let (plugins, trust_list) = vendor_platform(root.path(), &vendors, &files);
    let configs: Vec<(String, String)> = VENDORS
        .iter()
        .map(|v| v.to_string())
        .zip(urls.iter().cloned())
        .collect();
    let h = start_configured(move |c, _| {
        // These test vendors' CAs publish no revocation information (no OCSP responder or CRL in
        // their certificates, no CRL file): the live check is off here and tested in
        // live_revocation.rs.
        c.revocation.sources = Vec::new();
        c.plugins = Some(plugins);
        for (v, url) in configs {
            c.plugins_config.insert(v, json!({ "cloudUrl": url }));
        }
        c.trust_list = Some(trust_list);
    })
    .await;

    // All six adapters are loaded and healthy.
    let (_, v) = h.get("/api/v1/admin/adapters").await;
    let mut loaded: Vec<String> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["caOrgType"].as_str().unwrap().to_string())
        .collect();
    loaded.sort();
    assert_eq!(
        loaded,
        vec!["BJCA", "EPOINT", "GDCA", "NETCA", "SOFTCA", "XJCA"],
        "{v}"
    );

    for (vendor, name) in VENDORS.iter().zip(&holders) {
        let dir = wallets(&vendor.to_ascii_lowercase()).join("org");
        assert_eq!(vendor_of(&dir).unwrap().ca_org_type, *vendor);
        for op in [
            json!({"operation": "login"}),
            json!({"operation": "messageSignature", "message": format!("{vendor} 报价 100 万元")}),
        ] {
            let (tid, qr) = h.start_tx(op.clone()).await;
            let options = ScanOptions {
                qr: QrSource::Payload(qr),
                wallet: dir.clone(),
                pin: Some(PIN.into()),
                reject: None,
                yes: true,
                platform_key: PlatformKeySource::TrustPlatformUrl,
                cert: None,
                delegation: None,
                wallets: Vec::new(),
                refuse_items: Vec::new(),
            };
            let (r, shown) = sim(options).await;
            let outcome = r.unwrap_or_else(|e| panic!("{vendor} {op}: {e}\n{shown}"));
            assert_eq!(outcome.state, "verified", "{vendor}: {shown}");
            let (s, res) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
            assert_eq!(s, 200, "{res}");
            assert_eq!(res["data"]["subject"]["name"], *name, "{vendor}: {res}");
            let (_, tx) = h.get(&format!("/api/v1/transactions/{tid}")).await;
            assert_eq!(tx["data"]["caOrgType"], *vendor, "{tx}");
        }
    }
    // Every vendor's adapter was called (routed by caOrgType).
    let (_, v) = h.get("/api/v1/admin/adapters").await;
    for a in v["data"].as_array().unwrap() {
        if a["caOrgType"] != "SOFTCA" {
            assert!(a["calls"].as_u64().unwrap() >= 2, "{a}");
        }
    }

    // Routing is by the answer's caOrgType, never by sniffing the format: XJCA's answer
    // labelled as NETCA's goes to the NETCA adapter, which cannot read it.
    let xjca_dir = wallets("xjca").join("org");
    let wallet = Wallet::open(&xjca_dir, PIN.as_bytes()).unwrap();
    let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed_req, request) = h.scan(&qr).await;
    let vendor = vendor_of(&xjca_dir).unwrap();
    let xjca = app_for("XJCA").unwrap();
    let response = App::new(h.provider.clone(), "XJCA")
        .approve(&wallet, &signed_req, &request, &[])
        .unwrap();
    let mut response = xjca.wrap(&xjca_dir, &vendor, response).unwrap();
    response.ca_org_type = "NETCA".into();
    let (s, v) = h.answer(&response).await;
    assert_ne!(s, 200, "{v}");
    assert_eq!(v["errorCode"], "INPUT_MALFORMED", "{v}");
    // The same answer under its own vendor code is accepted.
    response.ca_org_type = "XJCA".into();
    let (s, v) = h.answer(&response).await;
    assert_eq!(s, 200, "{v}");
}
