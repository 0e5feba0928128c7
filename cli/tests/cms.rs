//! Signed messages and envelopes through the CLI, checked by OpenSSL 3 in both directions
//! (RSA and ECDSA/P-256 CMS), and bid files sealed and opened as people use them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{camr, openssl};

fn ok(args: &[&str]) -> String {
    let (code, out, err) = camr(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(alg: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let s = Self { dir };
        ok(&["ca", "init", "--dir", &s.p("ca"), "--alg", alg]);
        ok(&[
            "ca",
            "issue",
            "--dir",
            &s.p("ca"),
            "--type",
            "personal",
            "--name",
            "投标人甲",
            "--pin",
            "1234",
            "--out",
            &s.p("w"),
        ]);
        std::fs::write(s.p("msg"), "投标报价 1,280,000.00 元\n".repeat(50)).unwrap();
        s
    }
    fn p(&self, rel: &str) -> String {
        self.dir.path().join(rel).to_str().unwrap().to_string()
    }
    /// The wallet key without its PIN, for OpenSSL.
    fn plain_key(&self, which: &str) -> String {
        let out = self.p(&format!("{which}-plain.pem"));
        let (good, text) = openssl(&[
            "pkey",
            "-in",
            &self.p(&format!("w/{which}-key.pem")),
            "-passin",
            "pass:1234",
            "-out",
            &out,
        ])
        .unwrap();
        assert!(good, "{text}");
        out
    }
}

#[test]
fn openssl_verifies_camr_signed_data_and_camr_verifies_openssls() {
    for alg in ["rsa", "p256"] {
        let s = Setup::new(alg);
        if openssl(&["version"]).is_none() {
            return;
        }
        let root = s.p("ca/root-cert.pem");
        for detached in [false, true] {
            let sd = s.p(&format!("sd-{detached}.der"));
            let (wallet, msg) = (s.p("w"), s.p("msg"));
            let mut args = vec![
                "cms", "sign", "--wallet", &wallet, "--pin", "1234", "--in", &msg, "--out", &sd,
            ];
            if detached {
                args.push("--detached");
            }
            ok(&args);
            let content = s.p("content");
            let mut o = vec![
                "cms", "-verify", "-binary", "-inform", "DER", "-in", &sd, "-CAfile", &root,
                "-out", &content,
            ];
            let msg = s.p("msg");
            if detached {
                o.extend(["-content", &msg]);
            }
            let (good, text) = openssl(&o).unwrap();
            assert!(
                good && text.contains("Verification successful"),
                "{alg} detached={detached}: {text}"
            );
            assert_eq!(
                std::fs::read(&content).unwrap(),
                std::fs::read(&msg).unwrap()
            );
        }
        // OpenSSL signs with the wallet's signing key; camr verifies and validates the signer.
        let key = s.plain_key("sign");
        let osd = s.p("openssl-sd.der");
        let (good, text) = openssl(&[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-md",
            "sha256",
            "-in",
            &s.p("msg"),
            "-signer",
            &s.p("w/sign-cert.pem"),
            "-inkey",
            &key,
            "-certfile",
            &s.p("ca/ca-cert.pem"),
            "-outform",
            "DER",
            "-out",
            &osd,
        ])
        .unwrap();
        assert!(good, "{text}");
        let out = ok(&[
            "cms",
            "verify",
            "--in",
            &osd,
            "--trust",
            &root,
            "--out",
            &s.p("o"),
        ]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["signer"]["name"], "投标人甲");
        assert_eq!(v["profile"], "cms");
        assert_eq!(
            std::fs::read(s.p("o")).unwrap(),
            std::fs::read(s.p("msg")).unwrap()
        );
        // A tampered OpenSSL message is refused by camr (exit 1).
        let mut bytes = std::fs::read(&osd).unwrap();
        let pos = bytes
            .windows(6)
            .position(|w| w == "投标".as_bytes())
            .unwrap();
        bytes[pos] ^= 1;
        std::fs::write(&osd, &bytes).unwrap();
        let (code, _, err) = camr(&["cms", "verify", "--in", &osd, "--trust", &root]);
        assert_eq!(code, 1, "{err}");
        assert!(err.starts_with("error: SIGNATURE_INVALID: "), "{err}");
    }
}

#[test]
fn openssl_opens_camr_envelopes_and_camr_opens_openssls() {
    let s = Setup::new("rsa");
    if openssl(&["version"]).is_none() {
        return;
    }
    let key = s.plain_key("enc");
    let env = s.p("env.der");
    ok(&[
        "envelope",
        "seal",
        "--format",
        "cms",
        "--to",
        &s.p("w/enc-cert.pem"),
        "--in",
        &s.p("msg"),
        "--out",
        &env,
    ]);
    let (good, text) = openssl(&[
        "cms",
        "-decrypt",
        "-binary",
        "-inform",
        "DER",
        "-in",
        &env,
        "-recip",
        &s.p("w/enc-cert.pem"),
        "-inkey",
        &key,
        "-out",
        &s.p("o1"),
    ])
    .unwrap();
    assert!(good, "{text}");
    assert_eq!(
        std::fs::read(s.p("o1")).unwrap(),
        std::fs::read(s.p("msg")).unwrap()
    );
    // OpenSSL envelopes, PKCS#1 v1.5 and OAEP-SHA256 key transport, AES-256-CBC content.
    for keyopts in [
        vec![],
        vec![
            "-keyopt",
            "rsa_padding_mode:oaep",
            "-keyopt",
            "rsa_oaep_md:sha256",
            "-keyopt",
            "rsa_mgf1_md:sha256",
        ],
    ] {
        let oenv = s.p("oenv.der");
        let (msg, cert) = (s.p("msg"), s.p("w/enc-cert.pem"));
        let mut args = vec![
            "cms", "-encrypt", "-binary", "-aes256", "-in", &msg, "-outform", "DER", "-out", &oenv,
            "-recip", &cert,
        ];
        args.extend(keyopts.iter().copied());
        let (good, text) = openssl(&args).unwrap();
        assert!(good, "{keyopts:?}: {text}");
        ok(&[
            "envelope",
            "open",
            "--wallet",
            &s.p("w"),
            "--pin",
            "1234",
            "--in",
            &oenv,
            "--out",
            &s.p("o2"),
        ]);
        assert_eq!(
            std::fs::read(s.p("o2")).unwrap(),
            std::fs::read(s.p("msg")).unwrap(),
            "{keyopts:?}"
        );
    }
}

#[test]
fn bid_files_seal_and_open_and_refuse_strangers_and_tampering() {
    for alg in ["sm2", "rsa"] {
        let s = Setup::new(alg);
        let big = s.p("bid.pdf");
        let data: Vec<u8> = (0..700_000u32).map(|i| (i % 253) as u8).collect();
        std::fs::write(&big, &data).unwrap();
        let env = s.p("bid.env");
        ok(&[
            "envelope",
            "seal",
            "--to",
            &s.p("w/enc-cert.pem"),
            "--in",
            &big,
            "--out",
            &env,
        ]);
        let out = ok(&["envelope", "recipients", &env]);
        let serial = {
            let v: serde_json::Value = serde_json::from_str(&ok(&[
                "--json",
                "cert",
                "verify",
                "--usage",
                "encrypt",
                "--trust",
                &s.p("ca/root-cert.pem"),
                "--chain",
                &s.p("w/chain.pem"),
                &s.p("w/enc-cert.pem"),
            ]))
            .unwrap();
            v["subject"]["certSn"].as_str().unwrap().to_string()
        };
        assert!(out.contains(&serial), "{out}");
        ok(&[
            "envelope",
            "open",
            "--wallet",
            &s.p("w"),
            "--pin",
            "1234",
            "--in",
            &env,
            "--out",
            &s.p("opened"),
        ]);
        assert_eq!(std::fs::read(s.p("opened")).unwrap(), data);
        // Wrong PIN, a stranger's wallet, a tampered file: refused, and no output left behind.
        let (code, _, err) = camr(&[
            "envelope",
            "open",
            "--wallet",
            &s.p("w"),
            "--pin",
            "9999",
            "--in",
            &env,
            "--out",
            &s.p("x"),
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.starts_with("error: KEY_PASSWORD_WRONG: "), "{err}");
        let other = Setup::new(alg);
        let (code, _, err) = camr(&[
            "envelope",
            "open",
            "--wallet",
            &other.p("w"),
            "--pin",
            "1234",
            "--in",
            &env,
            "--out",
            &s.p("x"),
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.starts_with("error: ENVELOPE_NO_RECIPIENT: ") && err.contains(&serial),
            "{err}"
        );
        let mut bytes = std::fs::read(&env).unwrap();
        let n = bytes.len();
        bytes[n - 100] ^= 1;
        std::fs::write(&env, &bytes).unwrap();
        let (code, _, err) = camr(&[
            "envelope",
            "open",
            "--wallet",
            &s.p("w"),
            "--pin",
            "1234",
            "--in",
            &env,
            "--out",
            &s.p("x"),
        ]);
        assert_eq!(code, 1, "{err}");
        assert!(err.starts_with("error: SIGNATURE_INVALID: "), "{err}");
        assert!(!std::path::Path::new(&s.p("x")).exists());
        assert!(!std::path::Path::new(&s.p("x.partial")).exists());
        // A signing certificate is not an envelope recipient.
        let (code, _, err) = camr(&[
            "envelope",
            "seal",
            "--to",
            &s.p("w/sign-cert.pem"),
            "--in",
            &big,
            "--out",
            &s.p("y"),
        ]);
        assert_eq!(code, 1, "{err}");
        assert!(err.starts_with("error: CERT_WRONG_USAGE: "), "{err}");
    }
}
