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
        "list_seals",
        "failing usage report does not block the operation",
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
    use camr::softca::{Holder, SoftCa};
    let dir = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(
        default_provider(),
        &dir.path().join("ca"),
        KeyAlgorithm::Sm2,
        "Vendor test CA",
    )
    .unwrap();
    let holder = Holder::personal("王五");
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

/// A vendor cloud that answers `GET /seals?…` with `body` and anything else with 404.
fn seals_cloud(body: String) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let (status, text) = if head.starts_with(b"GET /seals?") {
                ("200 OK", body.as_str())
            } else {
                ("404 Not Found", r#"{"error":"no such route"}"#)
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    url
}

#[test]
fn the_seals_case_passes_a_good_list_and_fails_duplicate_codes_or_foreign_seals() {
    use camr::crypto::{KeyAlgorithm, default_provider};
    use camr::protocol::{Bytes, SealInfo, SealKind};
    use camr::softca::{Holder, SoftCa};
    let dir = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(
        default_provider(),
        &dir.path().join("ca"),
        KeyAlgorithm::Sm2,
        "Vendor test CA",
    )
    .unwrap();
    let holder = Holder::personal("王五");
    let wallet = ca
        .issue(&holder, b"654321", &dir.path().join("w"), 30)
        .unwrap();
    let seal = |kind: SealKind, code: &str, cert_sn: &str| SealInfo {
        code: code.into(),
        kind,
        name: format!("王五{}", kind.label_zh()),
        image: Bytes(camr::seal::appearance::seal_png(kind, "王五", 96).unwrap()),
        width_mm: 20,
        height_mm: 20,
        cert_sn: cert_sn.into(),
    };
    let sn = wallet.sign_serial.as_str();
    let kit = |seals: Vec<SealInfo>| {
        let url = seals_cloud(serde_json::to_string(&seals).unwrap());
        let (_, table, report) = run_kit(
            "camr_adapter_softca",
            serde_json::json!({
                "softca": { "caDir": dir.path().join("ca"), "walletDir": dir.path().join("w"), "pin": "654321" },
                "adapterConfig": { "cloudUrl": url, "timeoutMs": 2000 },
            }),
        );
        let row = report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["case"] == "list_seals")
            .cloned()
            .unwrap_or_else(|| panic!("no list_seals case:\n{table}"));
        (
            row["result"].as_str().unwrap().to_string(),
            row["detail"].as_str().unwrap().to_string(),
        )
    };

    let (result, detail) = kit(vec![
        seal(SealKind::PersonalName, "V-1", sn),
        seal(SealKind::Handwritten, "V-2", sn),
    ]);
    assert_eq!(result, "PASS", "{detail}");
    assert!(
        detail.contains("2 seals") && detail.contains("人名章 V-1"),
        "{detail}"
    );

    let (result, detail) = kit(vec![
        seal(SealKind::PersonalName, "V-1", sn),
        seal(SealKind::Handwritten, "V-1", sn),
    ]);
    assert_eq!(result, "FAIL", "{detail}");
    assert!(detail.contains("given twice"), "{detail}");

    let (result, detail) = kit(vec![seal(SealKind::PersonalName, "V-1", "0A0B")]);
    assert_eq!(result, "FAIL", "{detail}");
    assert!(detail.contains("not the wallet's"), "{detail}");

    // A seal whose image is not a PNG: the host refuses the answer (ADAPTER_FAILED).
    let mut broken = seal(SealKind::PersonalName, "V-1", sn);
    broken.image = Bytes(b"GIF89a".to_vec());
    let (result, detail) = kit(vec![broken]);
    assert_eq!(result, "FAIL", "{detail}");
    assert!(detail.contains("ADAPTER_FAILED"), "{detail}");
}

/// A vendor cloud's binary (its `encode-evidence` is the kit's `encoder`): beside the test's
/// target folder, else built now (cargo does not build a dependency's binaries).
fn vendor_bin(package: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let target = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let bin = target.join(package);
    if !bin.is_file() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", package, "--bin", package])
            .status()
            .unwrap();
        assert!(status.success(), "cannot build {package}");
    }
    assert!(bin.is_file(), "{} is not built", bin.display());
    bin
}

/// NETCA's and GDCA's adapters pass the kit with their apps' wire formats (the clouds'
/// `encode-evidence` as the encoder), the delegation case included.
#[test]
fn the_netca_and_gdca_adapters_pass_the_kit_with_their_wire_formats() {
    for (lib, cloud, vendor) in [
        ("camr_adapter_netca", "netca-cloud", "NETCA"),
        ("camr_adapter_gdca", "gdca-cloud", "GDCA"),
    ] {
        let encoder = vendor_bin(cloud);
        let (ok, table, report) = run_kit(
            lib,
            serde_json::json!({
                "softca": "temp",
                "encoder": [encoder, "encode-evidence"],
            }),
        );
        assert!(ok, "{table}");
        assert_eq!(report["failed"], 0, "{table}");
        assert_eq!(report["caOrgType"], vendor);
        let rows = rows(&report);
        for case in [
            "round-trip login",
            "round-trip decrypt",
            "malformed: garbage",
            "tampered signature",
            "delegation out of scope",
        ] {
            assert!(
                rows.contains(&(case.to_string(), "PASS".to_string())),
                "{vendor}: {case} missing or failed:\n{table}"
            );
        }
    }
}

/// Every vendor cloud answers the cloud kit's command names (`softca_cloud::cli`): `init`,
/// `issue`, `serve`, `encode-evidence`; the old `init-ca` still creates a CA, and `serve`
/// keeps the vendor's own default port.
#[test]
fn every_vendor_cloud_has_the_same_command_names_and_the_old_ones_still_work() {
    let dir = tempfile::tempdir().unwrap();
    for (package, port) in [
        ("bjca-cloud", "8710"),
        ("epoint-cloud", "8720"),
        ("xjca-cloud", "8710"),
        ("netca-cloud", "8710"),
        ("gdca-cloud", "8720"),
    ] {
        let bin = vendor_bin(package);
        let help = Command::new(&bin).arg("--help").output().unwrap();
        assert!(help.status.success(), "{package} --help: {help:?}");
        let text = String::from_utf8_lossy(&help.stdout);
        for name in ["init", "issue", "serve", "encode-evidence"] {
            assert!(
                text.lines()
                    .any(|l| l.split_whitespace().next() == Some(name)),
                "{package} has no `{name}`:\n{text}"
            );
        }
        let serve = Command::new(&bin)
            .args(["serve", "--help"])
            .output()
            .unwrap();
        let serve = String::from_utf8_lossy(&serve.stdout);
        assert!(
            serve.contains(&format!("127.0.0.1:{port}")),
            "{package}: {serve}"
        );
        for command in ["init", "init-ca"] {
            let ca = dir.path().join(format!("{package}-{command}"));
            let out = Command::new(&bin)
                .args([command, "--ca"])
                .arg(&ca)
                .output()
                .unwrap();
            assert!(out.status.success(), "{package} {command}: {out:?}");
            assert!(
                std::fs::read_dir(&ca).unwrap().next().is_some(),
                "{package} {command} wrote no CA"
            );
        }
        let unknown = Command::new(&bin).arg("init-cas").output().unwrap();
        assert_eq!(unknown.status.code(), Some(2), "{package}: {unknown:?}");
    }
}
