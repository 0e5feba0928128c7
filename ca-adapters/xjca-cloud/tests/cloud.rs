//! The XJCA cloud and adapter: the conformance kit over the `.so` with XJCA's wire format
//! (encoder: `xjca-cloud encode-evidence`), per-use billing per certificate and seal, the
//! manual's verify result JSON, a billing outage.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

// The conformance kit, compiled in: its cases run against the adapter `.so` through the
// real plugin host (the `camr-tck` binary of another package is not built for this test).
#[path = "../../tck/src/cases.rs"]
mod cases;
#[path = "../../tck/src/config.rs"]
mod config;
#[path = "../../tck/src/vendor_kit.rs"]
mod vendor_kit;
#[path = "../../tck/src/world.rs"]
mod world;

use std::path::{Path, PathBuf};

use camr::crypto::{SignatureScheme, default_provider};
use camr::softca::{Holder, HolderType};
use camr_adapter_kit::{Cloud, CloudConfig};
use camr_adapter_xjca::XjcaAdapter;
use camr_plugin_abi::{AdapterImpl, codes};
use data_encoding::BASE64;

fn adapter_so() -> PathBuf {
    vendor_kit::adapter_so("libcamr_adapter_xjca.so")
}

#[test]
fn the_xjca_adapter_passes_the_kit_in_its_own_wire_format() {
    vendor_kit::passes_the_kit(
        &adapter_so(),
        serde_json::json!([env!("CARGO_BIN_EXE_xjca-cloud"), "encode-evidence"]),
        "XJCA",
        &["failing usage report does not block the operation"],
    );
}

#[test]
fn the_encoder_writes_the_manuals_result_json() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xjca-cloud"))
        .args(["encode-evidence", "--operation", "nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xjca-cloud"))
        .arg("encode-evidence")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"not evidence")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not camr evidence"));
}

fn holder(org: bool, name: &str) -> Holder {
    Holder {
        holder_type: if org {
            HolderType::Org
        } else {
            HolderType::Personal
        },
        name: name.into(),
        organization: org.then(|| "乌鲁木齐诚悦网络科技有限公司".to_string()),
        uscc: org.then(|| "91350100M000100Y43".to_string()),
        identity_number: None,
    }
}

fn usage(serial: &str, name: &str, org: bool, scene: &str, tid_n: u32) -> String {
    serde_json::json!({
        "tradingSystemCode": "C1100005553",
        "tradingSystemName": "移动数字证书 (CA) 互认模拟测试系统",
        "certSn": serial,
        "certName": name,
        "certType": if org { "orgCert" } else { "personalCert" },
        "publicKeyAlgorithm": "SM2",
        "subjectType": if org { "org" } else { "personal" },
        "usageScene": scene,
        "tid": format!("C1100005553{tid_n:032x}"),
        "usedAt": 1_700_000_000,
        "caOrgType": "XJCA",
    })
    .to_string()
}

fn wallets(dir: &Path) -> (PathBuf, PathBuf, String, String) {
    let ca = dir.join("ca");
    xjca_cloud::init_ca(&ca).unwrap();
    let wallets = dir.join("wallets");
    let person = xjca_cloud::issue_wallet(
        &ca,
        &holder(false, "张三"),
        b"123456",
        &wallets.join("p"),
        30,
        None,
    )
    .unwrap();
    let org = xjca_cloud::issue_wallet(
        &ca,
        &holder(true, "李四"),
        b"123456",
        &wallets.join("o"),
        30,
        Some("http://127.0.0.1:1"),
    )
    .unwrap();
    let vendor: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wallets.join("o/vendor.json")).unwrap()).unwrap();
    assert_eq!(vendor["caOrgType"], "XJCA");
    assert_eq!(vendor["cloudUrl"], "http://127.0.0.1:1");
    (ca, wallets, person, org)
}

#[test]
fn uses_are_billed_per_certificate_and_seal_and_an_outage_fails_only_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, wallet_dir, person, org) = wallets(dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let (addr, _task) = xjca_cloud::spawn(&ca, Some(wallet_dir.clone())).unwrap();
    let url = format!("http://{addr}");
    let adapter = XjcaAdapter::new();
    adapter
        .configure(&serde_json::json!({ "cloudUrl": url }).to_string())
        .unwrap();
    let cloud = Cloud::from_config(
        "XJCA",
        &CloudConfig {
            cloud_url: Some(url.clone()),
            timeout_ms: Some(5_000),
        },
    )
    .unwrap()
    .unwrap();

    // 张三: a login, two signatures (one reported twice: charged once), a decrypt.
    adapter
        .report_usage(&usage(&person, "张三", false, "login", 1))
        .unwrap();
    adapter
        .report_usage(&usage(&person, "张三", false, "signature", 2))
        .unwrap();
    adapter
        .report_usage(&usage(&person, "张三", false, "signature", 2))
        .unwrap();
    adapter
        .report_usage(&usage(&person, "张三", false, "signature", 3))
        .unwrap();
    adapter
        .report_usage(&usage(&person, "张三", false, "decrypt", 4))
        .unwrap();
    // The organisation: one seal.
    adapter
        .report_usage(&usage(&org, "李四", true, "signature", 5))
        .unwrap();

    let bill: xjca_cloud::Bill = Cloud::json(
        "bill",
        &cloud
            .get("bill", &format!("/bills?serial={person}"))
            .unwrap(),
    )
    .unwrap();
    let count = |item: &str| {
        bill.operations
            .iter()
            .find(|l| l.item == item)
            .map(|l| (l.count, l.amount_fen))
    };
    assert_eq!(count("login"), Some((1, 10)), "{bill:?}");
    assert_eq!(count("signature"), Some((2, 100)), "{bill:?}");
    assert_eq!(count("decrypt"), Some((1, 50)), "{bill:?}");
    assert_eq!(bill.seals.len(), 1, "{bill:?}");
    assert_eq!(bill.seals[0].kind, "personalName");
    assert!(
        bill.seals[0].item.starts_with("XJCA-personalName-"),
        "{bill:?}"
    );
    assert_eq!((bill.seals[0].count, bill.seals[0].amount_fen), (2, 60));
    assert_eq!(bill.total_fen, 10 + 100 + 50 + 60);
    let org_bill: xjca_cloud::Bill = Cloud::json(
        "bill",
        &cloud.get("bill", &format!("/bills?serial={org}")).unwrap(),
    )
    .unwrap();
    assert_eq!(org_bill.seals[0].kind, "official");
    assert_eq!(org_bill.total_fen, 50 + 30);
    // The seal billed is one the cloud lists for the certificate.
    let seals: serde_json::Value = serde_json::from_str(
        &adapter
            .list_seals(&serde_json::json!({ "certSn": org }).to_string())
            .unwrap(),
    )
    .unwrap();
    assert!(
        seals
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["code"] == org_bill.seals[0].item.as_str()),
        "{seals}"
    );
    // An unknown serial has no bill; no serial is the caller's fault.
    assert_eq!(
        cloud.get("bill", "/bills?serial=00").unwrap_err().code(),
        codes::INPUT_MALFORMED
    );
    assert!(cloud.get("bill", "/bills").is_err());

    // A billing outage: the report fails (for the platform to log), nothing is charged.
    cloud
        .post_json(
            "outage",
            "/admin/outage",
            &serde_json::json!({ "billing": true }),
        )
        .unwrap();
    let e = adapter
        .report_usage(&usage(&person, "张三", false, "login", 6))
        .unwrap_err();
    assert_eq!(e.code(), codes::ADAPTER_FAILED, "{e}");
    cloud
        .post_json(
            "outage",
            "/admin/outage",
            &serde_json::json!({ "billing": false }),
        )
        .unwrap();
    let again: xjca_cloud::Bill = Cloud::json(
        "bill",
        &cloud
            .get("bill", &format!("/bills?serial={person}"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(again, bill);
    // A record that is not one is refused by the adapter before any call.
    assert_eq!(
        adapter.report_usage("{}").unwrap_err().code(),
        codes::INPUT_MALFORMED
    );
}

#[test]
fn the_verify_route_answers_with_the_manuals_result_json() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, wallet_dir, _, _) = wallets(dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let (addr, _task) = xjca_cloud::spawn(&ca, Some(wallet_dir.clone())).unwrap();
    let cloud = Cloud::from_config(
        "XJCA",
        &CloudConfig {
            cloud_url: Some(format!("http://{addr}")),
            timeout_ms: Some(5_000),
        },
    )
    .unwrap()
    .unwrap();
    let wallet = camr::app::Wallet::open(&wallet_dir.join("p"), b"123456").unwrap();
    let plain = "报价：1,234,567.00 元";
    let sig = default_provider()
        .sign(&wallet.sign_key, &SignatureScheme::sm2(), plain.as_bytes())
        .unwrap();
    let ask = |plain: &str, sig: &[u8]| -> serde_json::Value {
        Cloud::json(
            "verify",
            &cloud
                .post_json(
                    "verify",
                    "/xjca/verify",
                    &serde_json::json!({
                        "signCert": BASE64.encode(wallet.sign_cert.der()),
                        "plain": plain,
                        "signValue": BASE64.encode(sig),
                    }),
                )
                .unwrap(),
        )
        .unwrap()
    };
    let good = ask(plain, &sig);
    assert_eq!(
        good,
        serde_json::json!({"code":200,"success":true,"data":{"verifySignatureResult":true},"msg":"","errorCode":""})
    );
    assert_eq!(
        ask("报价：1,234,568.00 元", &sig)["data"]["verifySignatureResult"],
        false
    );
    let e = cloud
        .post_json(
            "verify",
            "/xjca/verify",
            &serde_json::json!({ "signCert": "!!", "plain": "", "signValue": "" }),
        )
        .unwrap_err();
    assert_eq!(e.code(), codes::INPUT_MALFORMED);
}
