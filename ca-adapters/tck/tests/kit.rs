//! The kit against real `.so` adapters: the softca adapter must pass 100 %, the `lying` fixture
//! must fail (the kit can fail).
//!
//! Both adapters are dev-dependencies (cdylib + rlib), so cargo builds their `.so` files into
//! `target/<profile>/deps/` before these tests run. This file never links their code (each
//! exports the same root-module symbol); it runs the `camr-tck` binary on the files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

fn adapter(lib: &str) -> PathBuf {
    let file = format!("lib{lib}.so");
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps folder");
    for c in [deps.join(&file), deps.parent().unwrap().join(&file)] {
        if c.is_file() {
            return c;
        }
    }
    panic!("{file} not found next to {}", exe.display());
}

fn run_kit(lib: &str, config: serde_json::Value) -> (bool, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg.json");
    std::fs::write(&cfg, config.to_string()).unwrap();
    let report = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_camr-tck"))
        .arg("--adapter")
        .arg(adapter(lib))
        .arg("--config")
        .arg(&cfg)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    (out.status.success(), table, report)
}

fn rows(report: &serde_json::Value) -> Vec<(String, String)> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["case"].as_str().unwrap().to_string(),
                r["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_softca_adapter_passes_the_kit_completely() {
    let (ok, table, report) = run_kit(
        "camr_adapter_softca",
        serde_json::json!({ "softca": "temp" }),
    );
    assert!(ok, "{table}");
    assert_eq!(report["failed"], 0, "{table}");
    assert_eq!(report["caOrgType"], "SOFTCA");
    let rows = rows(&report);
    for case in [
        "info",
        "round-trip login",
        "round-trip messageSignature",
        "round-trip signature",
        "round-trip revokeSignature",
        "round-trip encrypt",
        "round-trip decrypt",
        "malformed: garbage",
        "malformed: truncated",
        "malformed: wrong types",
        "empty input",
        "10 MB input",
        "other transaction",
        "tampered signature",
        "wrong certificate usage",
        "expired certificate",
        "revoked certificate",
        "slow vendor endpoint",
        "failing vendor endpoint",
        "alive",
    ] {
        assert!(
            rows.contains(&(case.to_string(), "PASS".to_string())),
            "{case} missing or failed:\n{table}"
        );
    }
    assert!(table.contains("0 failed"), "{table}");
}

#[test]
fn the_softca_adapter_passes_with_a_configured_ca_and_recorded_evidence() {
    use camr::crypto::{KeyAlgorithm, default_provider};
    use camr::softca::{Holder, HolderType, SoftCa};
    let dir = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(
        default_provider(),
        &dir.path().join("ca"),
        KeyAlgorithm::Sm2,
        "Vendor test CA",
    )
    .unwrap();
    let holder = Holder {
        holder_type: HolderType::Personal,
        name: "王五".into(),
        organization: None,
        uscc: None,
        identity_number: None,
    };
    ca.issue(&holder, b"654321", &dir.path().join("w"), 30)
        .unwrap();
    // A recorded answer: any softca evidence JSON (the kit checks it decodes).
    let cert = std::fs::read(dir.path().join("w").join("sign-cert.pem")).unwrap();
    let cert = camr::pki::Certificate::parse_one(&cert).unwrap();
    let evidence = camr::protocol::Evidence {
        algorithm: camr::protocol::PublicKeyAlgorithm::Sm2,
        certificate_chain: vec![camr::protocol::Bytes(cert.der().to_vec())],
        signatures: vec![camr::protocol::ItemSignature {
            item_id: "request".into(),
            signature_value: camr::protocol::Bytes(vec![1, 2, 3]),
        }],
        encryption_certificate: None,
        decrypted_keys: Vec::new(),
        item_rejections: Vec::new(),
    };
    let rec = dir.path().join("recorded");
    std::fs::create_dir(&rec).unwrap();
    std::fs::write(
        rec.join("login.raw"),
        serde_json::to_vec(&evidence).unwrap(),
    )
    .unwrap();
    std::fs::write(
        rec.join("login.expected.json"),
        serde_json::to_vec(&evidence).unwrap(),
    )
    .unwrap();
    let (ok, table, report) = run_kit(
        "camr_adapter_softca",
        serde_json::json!({
            "softca": { "caDir": dir.path().join("ca"), "walletDir": dir.path().join("w"), "pin": "654321" },
            "evidenceDir": rec,
            "adapterConfig": { "timeoutMs": 300 },
        }),
    );
    assert!(ok, "{table}");
    assert!(
        rows(&report).contains(&("recorded evidence".into(), "PASS".into())),
        "{table}"
    );
}

#[test]
fn the_kit_fails_the_lying_adapter() {
    let (ok, table, report) = run_kit(
        "camr_fixture_lying",
        serde_json::json!({
            "softca": "temp",
            "adapterConfig": { "walletDir": "${walletDir}", "pin": "${pin}" },
        }),
    );
    assert!(!ok, "the kit passed a lying adapter:\n{table}");
    let rows = rows(&report);
    // Its evidence does not verify: the round trips catch it, and the core never accepts it.
    for case in [
        "round-trip login",
        "round-trip messageSignature",
        "malformed: garbage",
    ] {
        assert!(
            rows.contains(&(case.to_string(), "FAIL".to_string())),
            "{case}:\n{table}"
        );
    }
    assert!(table.contains("SIGNATURE_INVALID"), "{table}");
    assert!(table.contains("does NOT conform"), "{table}");
}

#[test]
fn a_missing_adapter_or_bad_config_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg.json");
    std::fs::write(&cfg, r#"{"softca":"nope"}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_camr-tck"))
        .args(["--adapter", "/nonexistent.so", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(&cfg, r#"{"softca":"temp"}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_camr-tck"))
        .args(["--adapter", "/nonexistent.so", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("load"));
}
