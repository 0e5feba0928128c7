//! `camr pdf seal` and `camr pdf verify`: exit codes, error lines, JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::camr;

fn p(path: &std::path::Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn seal_then_verify_with_exit_codes_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ca, wallet) = (d.join("ca"), d.join("w"));
    assert_eq!(camr(&["ca", "init", "--dir", p(&ca), "--alg", "p256"]).0, 0);
    let issue = [
        "ca",
        "issue",
        "--dir",
        p(&ca),
        "--type",
        "org",
        "--name",
        "张三",
        "--org",
        "某某建设有限公司",
        "--uscc",
        "91350100M000100Y43",
        "--pin",
        "123456",
        "--out",
        p(&wallet),
    ];
    assert_eq!(camr(&issue).0, 0);
    let input = d.join("in.pdf");
    std::fs::write(&input, camr::seal::sample_pdf(2).unwrap()).unwrap();
    let png = d.join("seal.png");
    std::fs::write(
        &png,
        camr::seal::appearance::default_seal_png("某某建设有限公司", 128).unwrap(),
    )
    .unwrap();
    let (one, two) = (d.join("one.pdf"), d.join("two.pdf"));
    let base = ["pdf", "seal", "--wallet", p(&wallet), "--pin", "123456"];
    let (code, _, err) = camr(
        &[
            &base[..],
            &[
                "--in",
                p(&input),
                "--out",
                p(&one),
                "--page",
                "2",
                "--x",
                "100",
                "--y",
                "100",
                "--reason",
                "投标",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = camr(
        &[
            &base[..],
            &[
                "--in",
                p(&one),
                "--out",
                p(&two),
                "--every-page",
                "--width",
                "60",
                "--image",
                p(&png),
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let root = ca.join("root-cert.pem");
    let (code, out, err) = camr(&["pdf", "verify", p(&two), "--trust", p(&root), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["allValid"], true);
    assert_eq!(v["seals"].as_array().unwrap().len(), 2);
    assert_eq!(v["seals"][0]["signer"]["organization"], "某某建设有限公司");
    assert_eq!(v["seals"][0]["widgets"][0]["page"], 2);
    assert_eq!(v["seals"][0]["coversWholeFile"], false);
    assert_eq!(v["seals"][1]["widgets"].as_array().unwrap().len(), 2);
    let (code, out, _) = camr(&["pdf", "verify", p(&two)]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Seal1 [VALID]") && out.contains("chain: not checked"),
        "{out}"
    );

    // No seal, a changed byte, a truncated file.
    let (code, _, err) = camr(&["pdf", "verify", p(&input)]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: SIGNATURE_INVALID: the PDF has no seal"),
        "{err}"
    );
    let mut bytes = std::fs::read(&one).unwrap();
    let at = bytes.windows(11).position(|w| w == b"camr test p").unwrap();
    bytes[at] = b'C';
    let changed = d.join("changed.pdf");
    std::fs::write(&changed, &bytes).unwrap();
    let (code, out, _) = camr(&["pdf", "verify", p(&changed)]);
    assert_eq!(code, 1);
    assert!(
        out.contains("[INVALID]") && out.contains("messageDigest"),
        "{out}"
    );
    let truncated = d.join("truncated.pdf");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let (code, _, err) = camr(&["pdf", "verify", p(&truncated)]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: PDF_MALFORMED: "), "{err}");

    // Straddle and keyword seals.
    let (three, four) = (d.join("three.pdf"), d.join("four.pdf"));
    let (code, _, err) = camr(
        &[
            &base[..],
            &[
                "--in",
                p(&two),
                "--out",
                p(&three),
                "--straddle",
                "1-2",
                "--width",
                "80",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = camr(
        &[
            &base[..],
            &[
                "--in",
                p(&three),
                "--out",
                p(&four),
                "--keyword",
                "test page 1",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = camr(&["pdf", "verify", p(&four), "--trust", p(&root), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["seals"].as_array().unwrap().len(), 4);
    let (code, _, err) = camr(
        &[
            &base[..],
            &[
                "--in",
                p(&two),
                "--out",
                p(&d.join("x.pdf")),
                "--keyword",
                "没有这个词",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("没有这个词"), "{err}");
    let (code, _, err) = camr(
        &[
            &base[..],
            &[
                "--in",
                p(&two),
                "--out",
                p(&d.join("x.pdf")),
                "--straddle",
                "2",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: INPUT_MALFORMED: straddle wants FROM-TO"),
        "{err}"
    );

    // Usage errors.
    let out_x = d.join("x.pdf");
    let (code, _, err) = camr(&[&base[..], &["--in", p(&input), "--out", p(&out_x)]].concat());
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = camr(
        &[
            &base[..],
            &[
                "--in",
                p(&input),
                "--out",
                p(&out_x),
                "--page",
                "9",
                "--x",
                "1",
                "--y",
                "1",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: INPUT_MALFORMED: page 9 does not exist"),
        "{err}"
    );
    assert!(!out_x.exists());
}

#[test]
fn revoke_by_the_signer_then_verify_reports_it_and_another_holder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = d.join("ca");
    assert_eq!(camr(&["ca", "init", "--dir", p(&ca), "--alg", "sm2"]).0, 0);
    let issue = |name: &str, out: &std::path::Path| {
        let (code, _, err) = camr(&[
            "ca",
            "issue",
            "--dir",
            p(&ca),
            "--type",
            "personal",
            "--name",
            name,
            "--pin",
            "123456",
            "--out",
            p(out),
        ]);
        assert_eq!(code, 0, "{err}");
    };
    let (zhang, wang) = (d.join("zhang"), d.join("wang"));
    issue("张三", &zhang);
    issue("王五", &wang);
    let input = d.join("in.pdf");
    std::fs::write(&input, camr::seal::sample_pdf(1).unwrap()).unwrap();
    let sealed = d.join("sealed.pdf");
    let (code, _, err) = camr(&[
        "pdf",
        "seal",
        "--wallet",
        p(&zhang),
        "--pin",
        "123456",
        "--in",
        p(&input),
        "--out",
        p(&sealed),
        "--page",
        "1",
        "--x",
        "100",
        "--y",
        "100",
    ]);
    assert_eq!(code, 0, "{err}");
    let revoked = d.join("revoked.pdf");
    let revoke = |wallet: &std::path::Path, extra: &[&str]| {
        camr(
            &[
                &[
                    "pdf",
                    "revoke",
                    "--wallet",
                    p(wallet),
                    "--pin",
                    "123456",
                    "--in",
                    p(&sealed),
                    "--out",
                    p(&revoked),
                    "--field",
                ][..],
                extra,
            ]
            .concat(),
        )
    };
    let (code, _, err) = revoke(&wang, &["Seal1"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("error: PDF_REVOKE_DENIED: 王五 may not revoke"),
        "{err}"
    );
    assert!(!revoked.exists());
    let (code, out, err) = revoke(&zhang, &["Seal7"]);
    assert_eq!(code, 2, "{out} {err}");
    assert!(err.contains("`Seal7`"), "{out} {err}");
    let (code, _, err) = revoke(&zhang, &["Seal1", "--reason", "撤回报价"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Seal1 revoked"), "{err}");
    let root = ca.join("root-cert.pem");
    let (code, out, _) = camr(&["pdf", "verify", p(&revoked), "--trust", p(&root)]);
    assert_eq!(code, 1, "a revoked seal is not valid: {out}");
    assert!(
        out.contains("Seal1 [REVOKED]") && out.contains("撤回报价"),
        "{out}"
    );
    assert!(out.contains("Revoke1-Seal1 [VALID]"), "{out}");
    // 王五 as an authority: allowed, and honoured only by a verifier that names him.
    let (code, _, err) = revoke(
        &wang,
        &["Seal1", "--authority", p(&wang.join("sign-cert.pem"))],
    );
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = camr(&["pdf", "verify", p(&revoked), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["seals"][0]["revoked"].is_null(), "{v}");
    assert_eq!(v["seals"][0]["modifiedAfterSigning"], true);
    let (_, out, _) = camr(&[
        "pdf",
        "verify",
        p(&revoked),
        "--json",
        "--authority",
        p(&wang.join("sign-cert.pem")),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["seals"][0]["revoked"]["byAuthority"], true, "{v}");
}
