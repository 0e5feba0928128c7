//! The Epoint cloud and adapter: the conformance kit over the `.so` with Epoint's wire format
//! (encoder: `epoint-cloud encode-evidence`), 本平台证书 / 全国版 wallets and the scope route,
//! seals with Epoint codes.
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

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use camr::softca::Holder;
use camr_adapter_epoint::EpointAdapter;
use camr_adapter_kit::{Cloud, CloudConfig};
use camr_plugin_abi::{AdapterImpl, codes};
use epoint_cloud::CertScope;

fn adapter_so() -> PathBuf {
    vendor_kit::adapter_so("libcamr_adapter_epoint.so")
}

#[test]
fn the_epoint_adapter_passes_the_kit_in_its_own_wire_format() {
    vendor_kit::passes_the_kit(
        &adapter_so(),
        serde_json::json!([
            env!("CARGO_BIN_EXE_epoint-cloud"),
            "encode-evidence",
            "--platform-only"
        ]),
        "EPOINT",
        &["failing usage report does not block the operation"],
    );
}

fn encode(args: &[&str], stdin: &[u8]) -> (bool, Vec<u8>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_epoint-cloud"))
        .arg("encode-evidence")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), out.stdout)
}

#[test]
fn wallets_carry_their_scope_and_the_cloud_serves_it_and_epoint_seals() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    epoint_cloud::init_ca(&ca).unwrap();
    let wallets = dir.path().join("wallets");
    let holder = |name: &str| Holder::org(name, "新点软件测试有限公司", "91350100M000100Y43");
    let platform = epoint_cloud::issue_wallet(
        &ca,
        &holder("王五"),
        b"123456",
        &wallets.join("platform"),
        30,
        CertScope::Platform,
        None,
    )
    .unwrap();
    let national = epoint_cloud::issue_wallet(
        &ca,
        &holder("赵六"),
        b"123456",
        &wallets.join("national"),
        30,
        CertScope::National,
        Some("http://127.0.0.1:8720"),
    )
    .unwrap();
    assert_eq!(
        epoint_cloud::scope_of(&wallets.join("platform")),
        CertScope::Platform
    );
    assert_eq!(
        epoint_cloud::scope_of(&wallets.join("national")),
        CertScope::National
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let (addr, _task) = epoint_cloud::spawn(&ca, Some(wallets.clone())).unwrap();
    let url = format!("http://{addr}");
    let cloud = Cloud::from_config(
        "EPOINT",
        &CloudConfig {
            cloud_url: Some(url.clone()),
            timeout_ms: Some(5_000),
        },
    )
    .unwrap()
    .unwrap();
    let scope = |serial: &str| -> serde_json::Value {
        Cloud::json(
            "scope",
            &cloud
                .get("scope", &format!("/epoint/cert-scope?serial={serial}"))
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(scope(&platform)["certScope"], "PLATFORM");
    assert_eq!(scope(&national)["certScope"], "NATIONAL");
    assert_eq!(
        cloud
            .get("scope", "/epoint/cert-scope?serial=00")
            .unwrap_err()
            .code(),
        codes::INPUT_MALFORMED
    );

    let adapter = EpointAdapter::new();
    adapter
        .configure(&serde_json::json!({ "cloudUrl": url }).to_string())
        .unwrap();
    let seals: serde_json::Value = serde_json::from_str(
        &adapter
            .list_seals(&serde_json::json!({ "certSn": platform }).to_string())
            .unwrap(),
    )
    .unwrap();
    let codes_: Vec<&str> = seals
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes_.len(), 4, "{seals}");
    assert!(
        codes_.iter().all(|c| c.starts_with("EPOINT-")),
        "{codes_:?}"
    );

    // The encoder: the scope and the business type are written; garbage is refused.
    let wallet = camr::app::Wallet::open(&wallets.join("platform"), b"123456").unwrap();
    let evidence = camr::protocol::Evidence {
        algorithm: camr::protocol::PublicKeyAlgorithm::Sm2,
        certificate_chain: vec![camr::protocol::Bytes(wallet.sign_cert.der().to_vec())],
        signatures: vec![camr::protocol::ItemSignature {
            item_id: "request".into(),
            signature_value: camr::protocol::Bytes(vec![0x30, 0x01]),
        }],
        encryption_certificate: None,
        decrypted_keys: Vec::new(),
        item_rejections: Vec::new(),
    };
    let json = serde_json::to_vec(&evidence).unwrap();
    let (ok, out) = encode(&["--platform-only"], &json);
    assert!(ok);
    let packet: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(packet["BizType"], "LOGIN");
    assert_eq!(packet["CertScope"], "PLATFORM");
    assert_eq!(packet["SignList"][0]["SignValue"], "3001");
    let decoded = camr_adapter_epoint::decode_strict("login", &out).unwrap();
    assert_eq!(decoded, evidence);
    // Another operation's packet is refused for this one.
    assert_eq!(
        camr_adapter_epoint::decode_strict("decrypt", &out)
            .unwrap_err()
            .code(),
        codes::INPUT_MALFORMED
    );
    let (ok, _) = encode(&[], b"{");
    assert!(!ok);
}
