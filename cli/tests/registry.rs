//! `camr registry sign|verify` as an operator uses it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::camr;

#[test]
fn the_registry_authority_signs_and_anyone_verifies_the_trust_list() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    assert_eq!(
        camr(&["key", "gen", "--alg", "sm2", "--out", &p("auth.pem")]).0,
        0
    );
    assert_eq!(
        camr(&[
            "key",
            "pub",
            "--in",
            &p("auth.pem"),
            "--out",
            &p("auth.pub")
        ])
        .0,
        0
    );
    assert_eq!(
        camr(&["key", "gen", "--alg", "sm2", "--out", &p("platform.pem")]).0,
        0
    );
    assert_eq!(
        camr(&[
            "key",
            "pub",
            "--in",
            &p("platform.pem"),
            "--out",
            &p("platform.pub")
        ])
        .0,
        0
    );
    let spki_pem = std::fs::read_to_string(p("platform.pub")).unwrap();
    let b64: String = spki_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let list = serde_json::json!({
        "version": 1, "issuedAt": 1_790_000_000i64, "expiresAt": 1_890_000_000i64,
        "platforms": [{"systemCode": "C1100005553", "systemName": "移动数字证书(CA)互认模拟测试系统",
            "keys": [{"keyId": "P1", "spki": b64}], "requestUriPrefixes": ["https://p.example/r/"], "responseUris": ["https://p.example/a"]}],
        "vendors": []
    });
    std::fs::write(p("list.json"), list.to_string()).unwrap();
    let (code, _, err) = camr(&[
        "registry",
        "sign",
        "--in",
        &p("list.json"),
        "--key",
        &p("auth.pem"),
        "--out",
        &p("signed.json"),
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = camr(&[
        "registry",
        "verify",
        "--in",
        &p("signed.json"),
        "--pub",
        &p("auth.pub"),
        "--now",
        "1800000000",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"systemCode\":\"C1100005553\""), "{out}");
    // Stale, tampered, or checked with another key: exit 1, REGISTRY_INVALID.
    let (code, _, err) = camr(&[
        "registry",
        "verify",
        "--in",
        &p("signed.json"),
        "--pub",
        &p("auth.pub"),
        "--now",
        "1990000000",
    ]);
    assert_eq!(code, 1);
    assert!(err.starts_with("error: REGISTRY_INVALID: "), "{err}");
    let (code, _, err) = camr(&[
        "registry",
        "verify",
        "--in",
        &p("signed.json"),
        "--pub",
        &p("platform.pub"),
        "--now",
        "1800000000",
    ]);
    assert_eq!(code, 1);
    assert!(err.starts_with("error: REGISTRY_INVALID: "), "{err}");
    let tampered = std::fs::read_to_string(p("signed.json"))
        .unwrap()
        .replace("C1100005553", "C1100005554");
    std::fs::write(p("t.json"), tampered).unwrap();
    let (code, _, err) = camr(&[
        "registry",
        "verify",
        "--in",
        &p("t.json"),
        "--pub",
        &p("auth.pub"),
        "--now",
        "1800000000",
    ]);
    assert_eq!(code, 1, "{err}");
    // Not a trust list at all: exit 2.
    std::fs::write(p("junk.json"), "{}").unwrap();
    let (code, _, err) = camr(&[
        "registry",
        "sign",
        "--in",
        &p("junk.json"),
        "--key",
        &p("auth.pem"),
        "--out",
        &p("x"),
    ]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: INPUT_MALFORMED: "), "{err}");
}
