//! The software CA through the CLI, checked by OpenSSL 3: every certificate parses with
//! `openssl x509`, RSA and P-256 chains verify with `openssl verify` and the revoked one is
//! refused with `-crl_check`; SM2 chains are checked link by link (OpenSSL 3.0 cannot pass
//! the SM2 signer ID beyond the target certificate).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{camr, openssl};
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Ca {
    dir: tempfile::TempDir,
}

impl Ca {
    fn new(alg: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca");
        let (code, _, err) = camr(&[
            "ca",
            "init",
            "--dir",
            s(&ca),
            "--alg",
            alg,
            "--name",
            "测试 CA",
        ]);
        assert_eq!(code, 0, "{err}");
        let w = dir.path().join("w");
        let (code, out, err) = camr(&[
            "--json",
            "ca",
            "issue",
            "--dir",
            s(&ca),
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
            s(&w),
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("signSerial"));
        Self { dir }
    }
    fn p(&self, rel: &str) -> String {
        self.dir.path().join(rel).to_str().unwrap().to_string()
    }
    fn sign_serial(&self) -> String {
        let (_, out, _) = camr(&[
            "--json",
            "cert",
            "verify",
            "--trust",
            &self.p("ca/root-cert.pem"),
            "--chain",
            &self.p("w/chain.pem"),
            &self.p("w/sign-cert.pem"),
        ]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["subject"]["certSn"].as_str().unwrap().to_string()
    }
}

#[test]
fn openssl_parses_every_certificate_the_ca_issues() {
    for alg in ["sm2", "rsa", "p256"] {
        let ca = Ca::new(alg);
        for f in [
            "ca/root-cert.pem",
            "ca/ca-cert.pem",
            "w/sign-cert.pem",
            "w/enc-cert.pem",
        ] {
            let Some((ok, text)) = openssl(&["x509", "-in", &ca.p(f), "-noout", "-text"]) else {
                return;
            };
            assert!(ok, "{alg} {f}: {text}");
            if f == "w/sign-cert.pem" {
                assert!(
                    text.contains("Digital Signature, Non Repudiation"),
                    "{text}"
                );
            }
            if f == "w/enc-cert.pem" {
                assert!(
                    text.contains("Key Encipherment, Data Encipherment, Key Agreement"),
                    "{text}"
                );
            }
        }
    }
}

#[test]
fn openssl_verifies_rsa_and_p256_chains_and_refuses_the_revoked_certificate() {
    for alg in ["rsa", "p256"] {
        let ca = Ca::new(alg);
        let (root, inter, leaf) = (
            ca.p("ca/root-cert.pem"),
            ca.p("ca/ca-cert.pem"),
            ca.p("w/sign-cert.pem"),
        );
        let Some((ok, text)) = openssl(&["verify", "-CAfile", &root, "-untrusted", &inter, &leaf])
        else {
            return;
        };
        assert!(ok && text.contains(": OK"), "{alg}: {text}");
        let serial = ca.sign_serial();
        assert_eq!(
            camr(&[
                "ca",
                "revoke",
                "--dir",
                &ca.p("ca"),
                "--serial",
                &serial,
                "--reason",
                "keyCompromise"
            ])
            .0,
            0
        );
        let crl = ca.p("crl.pem");
        assert_eq!(
            camr(&["ca", "crl", "--dir", &ca.p("ca"), "--out", &crl]).0,
            0
        );
        let (ok, text) = openssl(&["crl", "-in", &crl, "-noout", "-text"]).unwrap();
        assert!(ok && text.contains(&serial), "{text}");
        let (ok, text) = openssl(&[
            "verify",
            "-crl_check",
            "-CAfile",
            &root,
            "-untrusted",
            &inter,
            "-CRLfile",
            &crl,
            &leaf,
        ])
        .unwrap();
        assert!(!ok && text.contains("certificate revoked"), "{alg}: {text}");
        // The encryption certificate is not revoked: OpenSSL accepts it with the same CRL.
        let (ok, text) = openssl(&[
            "verify",
            "-crl_check",
            "-CAfile",
            &root,
            "-untrusted",
            &inter,
            "-CRLfile",
            &crl,
            &ca.p("w/enc-cert.pem"),
        ])
        .unwrap();
        assert!(ok, "{alg}: {text}");
    }
}

#[test]
fn openssl_verifies_sm2_chains_link_by_link() {
    let ca = Ca::new("sm2");
    let id = "distid:1234567812345678";
    let Some((ok, text)) = openssl(&[
        "verify",
        "-vfyopt",
        id,
        "-CAfile",
        &ca.p("ca/root-cert.pem"),
        &ca.p("ca/ca-cert.pem"),
    ]) else {
        return;
    };
    assert!(ok, "root -> issuing CA: {text}");
    for leaf in ["w/sign-cert.pem", "w/enc-cert.pem"] {
        let (ok, text) = openssl(&[
            "verify",
            "-vfyopt",
            id,
            "-partial_chain",
            "-CAfile",
            &ca.p("ca/ca-cert.pem"),
            &ca.p(leaf),
        ])
        .unwrap();
        assert!(ok, "issuing CA -> {leaf}: {text}");
    }
    // A leaf checked against the wrong issuer fails: OpenSSL really checks the signature.
    let other = Ca::new("sm2");
    let (ok, _) = openssl(&[
        "verify",
        "-vfyopt",
        id,
        "-partial_chain",
        "-CAfile",
        &other.p("ca/ca-cert.pem"),
        &ca.p("w/sign-cert.pem"),
    ])
    .unwrap();
    assert!(!ok);
}

#[test]
fn camr_cert_verify_names_the_failing_check() {
    let ca = Ca::new("sm2");
    let root = ca.p("ca/root-cert.pem");
    let chain = ca.p("w/chain.pem");
    let (code, out, err) = camr(&[
        "cert",
        "verify",
        "--trust",
        &root,
        "--chain",
        &chain,
        &ca.p("w/sign-cert.pem"),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["subject"]["name"], "张三");
    assert_eq!(v["subject"]["certType"], "orgCert");
    assert_eq!(v["subject"]["uscc"], "91350100M000100Y43");
    let expect = |args: &[&str], exit: i32, code: &str| {
        let (c, _, err) = camr(args);
        assert_eq!(c, exit, "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("error: {code}: ")) && err.lines().count() == 1,
            "{err}"
        );
    };
    expect(
        &[
            "cert",
            "verify",
            "--trust",
            &root,
            "--chain",
            &chain,
            "--usage",
            "sign",
            &ca.p("w/enc-cert.pem"),
        ],
        1,
        "CERT_WRONG_USAGE",
    );
    expect(
        &[
            "cert",
            "verify",
            "--trust",
            &root,
            "--chain",
            &chain,
            "--usage",
            "encrypt",
            &ca.p("w/sign-cert.pem"),
        ],
        1,
        "CERT_WRONG_USAGE",
    );
    expect(
        &[
            "cert",
            "verify",
            "--trust",
            &root,
            "--chain",
            &chain,
            "--at",
            "4102444800",
            &ca.p("w/sign-cert.pem"),
        ],
        1,
        "CERT_EXPIRED",
    );
    expect(
        &["cert", "verify", "--trust", &root, &ca.p("w/sign-cert.pem")],
        1,
        "CERT_UNTRUSTED",
    );
    let other = Ca::new("sm2");
    expect(
        &[
            "cert",
            "verify",
            "--trust",
            &other.p("ca/root-cert.pem"),
            "--chain",
            &chain,
            &ca.p("w/sign-cert.pem"),
        ],
        1,
        "CERT_UNTRUSTED",
    );
    expect(
        &[
            "cert",
            "verify",
            "--trust",
            &root,
            "--chain",
            &chain,
            "--require-crl",
            &ca.p("w/sign-cert.pem"),
        ],
        1,
        "CERT_REVOCATION_UNKNOWN",
    );
    let serial = ca.sign_serial();
    assert_eq!(
        camr(&["ca", "revoke", "--dir", &ca.p("ca"), "--serial", &serial]).0,
        0
    );
    let crl = ca.p("crl.der");
    assert_eq!(
        camr(&["ca", "crl", "--dir", &ca.p("ca"), "--out", &crl]).0,
        0
    );
    expect(
        &[
            "cert",
            "verify",
            "--trust",
            &root,
            "--chain",
            &chain,
            "--crl",
            &crl,
            &ca.p("w/sign-cert.pem"),
        ],
        1,
        "CERT_REVOKED",
    );
    let garbage = ca.p("garbage.pem");
    std::fs::write(&garbage, b"\x00\x01garbage").unwrap();
    expect(
        &["cert", "verify", "--trust", &root, &garbage],
        2,
        "CERT_MALFORMED",
    );
    expect(
        &[
            "cert",
            "verify",
            "--trust",
            &garbage,
            &ca.p("w/sign-cert.pem"),
        ],
        2,
        "CERT_MALFORMED",
    );
    expect(
        &[
            "cert",
            "verify",
            "--trust",
            &root,
            "--crl",
            &garbage,
            &ca.p("w/sign-cert.pem"),
        ],
        2,
        "CERT_MALFORMED",
    );
    expect(
        &[
            "ca",
            "issue",
            "--dir",
            &ca.p("nope"),
            "--type",
            "personal",
            "--name",
            "x",
            "--pin",
            "1234",
            "--out",
            &ca.p("w2"),
        ],
        2,
        "INPUT_MALFORMED",
    );
}

/// 冻结/解冻 through the CLI: a frozen certificate is refused with CERT_FROZEN, accepted
/// again after `camr ca unfreeze` and a new CRL; a passport holder's certificate names the
/// document (证件类型); a bad number is refused before anything is issued.
#[test]
fn freeze_unfreeze_and_identity_documents_through_the_cli() {
    let ca = Ca::new("sm2");
    let serial = ca.sign_serial();
    let verify = || {
        camr(&[
            "cert",
            "verify",
            "--trust",
            &ca.p("ca/root-cert.pem"),
            "--crl",
            &ca.p("crl.der"),
            "--chain",
            &ca.p("w/chain.pem"),
            &ca.p("w/sign-cert.pem"),
        ])
    };
    let crl = || {
        let (code, _, err) = camr(&["ca", "crl", "--dir", &ca.p("ca"), "--out", &ca.p("crl.der")]);
        assert_eq!(code, 0, "{err}");
    };
    let (code, _, err) = camr(&[
        "ca",
        "revoke",
        "--dir",
        &ca.p("ca"),
        "--serial",
        &serial,
        "--reason",
        "certificateHold",
    ]);
    assert_eq!(code, 0, "{err}");
    crl();
    let (code, _, err) = verify();
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("error: CERT_FROZEN: "), "{err}");
    let (code, out, err) = camr(&["ca", "unfreeze", "--dir", &ca.p("ca"), "--serial", &serial]);
    assert_eq!(code, 0, "{err}");
    assert!(format!("{out}{err}").contains("解冻"), "{out} {err}");
    crl();
    let (code, _, err) = verify();
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = camr(&["ca", "unfreeze", "--dir", &ca.p("ca"), "--serial", &serial]);
    assert_eq!(code, 2, "not on hold any more: {err}");

    let issue = |out: &str, id: &[&str]| {
        let mut args = vec!["ca", "issue", "--dir", &ca.p("ca")]
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>();
        args.extend(
            [
                "--type", "personal", "--name", "李四", "--pin", "123456", "--out", out,
            ]
            .into_iter()
            .chain(id.iter().copied())
            .map(str::to_string),
        );
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        camr(&refs)
    };
    let pw = ca.p("pw");
    let (code, _, err) = issue(
        &pw,
        &[
            "--id-number",
            "E12345678",
            "--id-type",
            "passport",
            "--id-country",
            "CN",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = camr(&[
        "--json",
        "cert",
        "verify",
        "--trust",
        &ca.p("ca/root-cert.pem"),
        "--chain",
        &ca.p("pw/chain.pem"),
        &ca.p("pw/sign-cert.pem"),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["subject"]["identityType"], "passport", "{v}");
    assert_eq!(v["subject"]["identityCountry"], "CN", "{v}");
    assert_eq!(v["subject"]["identityNumber"], "E12345678", "{v}");
    let (code, _, err) = issue(&ca.p("bad"), &["--id-number", "1234", "--id-type", "hkmo"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("港澳居民来往内地通行证"), "{err}");
    assert!(!ca.dir.path().join("bad").exists());
}

#[test]
fn ca_init_writes_crl_and_ocsp_urls_into_every_certificate_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let (code, _, err) = camr(&[
        "ca",
        "init",
        "--dir",
        s(&ca),
        "--crl-url",
        "http://127.0.0.1:8088/crl",
        "--ocsp-url",
        "http://127.0.0.1:8088/ocsp",
        "--ca-issuers-url",
        "http://127.0.0.1:8088/ca.cer",
    ]);
    assert_eq!(code, 0, "{err}");
    let w = dir.path().join("w");
    let (code, _, err) = camr(&[
        "ca",
        "issue",
        "--dir",
        s(&ca),
        "--type",
        "personal",
        "--name",
        "张三",
        "--pin",
        "1234",
        "--out",
        s(&w),
    ]);
    assert_eq!(code, 0, "{err}");
    let cert = camr::pki::Certificate::parse_one(&std::fs::read(w.join("sign-cert.pem")).unwrap())
        .unwrap();
    assert_eq!(
        cert.crl_urls(),
        vec!["http://127.0.0.1:8088/crl".to_string()]
    );
    assert_eq!(
        cert.ocsp_urls(),
        vec!["http://127.0.0.1:8088/ocsp".to_string()]
    );
    assert_eq!(
        cert.ca_issuers_urls(),
        vec!["http://127.0.0.1:8088/ca.cer".to_string()]
    );

    // Not http(s): refused, and no CA is left behind.
    let bad = dir.path().join("bad");
    let (code, _, err) = camr(&["ca", "init", "--dir", s(&bad), "--crl-url", "ftp://x/crl"]);
    assert_ne!(code, 0);
    assert!(err.contains("ftp://x/crl") || err.contains("http"), "{err}");
    assert!(!bad.exists(), "{err}");
}
