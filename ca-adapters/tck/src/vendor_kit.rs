//! The kit over a vendor's adapter in that vendor cloud's own tests, included there with
//! `#[path]` beside `cases.rs`, `config.rs` and `world.rs` (not a module of `camr-tck`): the
//! adapter `.so` cargo built next to the test executable, and one kit run with the cloud's
//! `encode-evidence` that must pass.

use std::path::{Path, PathBuf};

/// The adapter library `file` (e.g. `libcamr_adapter_xjca.so`), built by cargo next to the
/// test executable.
pub fn adapter_so(file: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [deps.join(file), deps.parent().unwrap().join(file)]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{file} not found next to {}", exe.display()))
}

/// The cases every vendor's adapter passes in its own wire format: each operation's round trip,
/// garbage refused, a tampered signature and a revoked certificate refused.
pub const EVERY_VENDOR: &[&str] = &[
    "round-trip login",
    "round-trip messageSignature",
    "round-trip signature",
    "round-trip revokeSignature",
    "round-trip encrypt",
    "round-trip decrypt",
    "malformed: garbage",
    "tampered signature",
    "revoked certificate",
];

/// Runs the kit over the adapter `so` with `encoder` (the cloud's `encode-evidence` command
/// line): nothing fails, the adapter is `ca_org_type`'s, and each of [`EVERY_VENDOR`] and of
/// the vendor's own `cases` passes.
pub fn passes_the_kit(so: &Path, encoder: serde_json::Value, ca_org_type: &str, cases: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kit.json");
    std::fs::write(
        &cfg,
        serde_json::json!({ "softca": "temp", "encoder": encoder }).to_string(),
    )
    .unwrap();
    let config = crate::config::KitConfig::load(&cfg).unwrap();
    let report = crate::cases::run(so, &config);
    let table = report.table();
    assert_eq!(report.failed, 0, "{table}");
    assert_eq!(report.ca_org_type.as_deref(), Some(ca_org_type));
    for case in EVERY_VENDOR.iter().chain(cases) {
        assert!(
            report
                .cases
                .iter()
                .any(|r| r.case == *case && r.result == "PASS"),
            "{case} missing or failed:\n{table}"
        );
    }
}
