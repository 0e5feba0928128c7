//! The `camr` binary as people and scripts use it: exit codes, one-line errors, JSON output,
//! and QR codes read back by an independent decoder (zbarimg).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn camr<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out: Output = Command::new(env!("CARGO_BIN_EXE_camr"))
        .args(args)
        .output()
        .expect("run camr");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "camr panicked: {}",
        run.stderr
    );
    run
}

fn p(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

/// Asserts exit status and a single `error: CODE: sentence` line on stderr.
fn assert_error(run: &Run, exit: i32, code: &str) {
    assert_eq!(
        run.code, exit,
        "stdout: {} stderr: {}",
        run.stdout, run.stderr
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {}", run.stderr);
    let prefix = format!("error: {code}: ");
    assert!(
        lines[0].starts_with(&prefix),
        "expected {prefix}…, got: {}",
        lines[0]
    );
    assert!(
        lines[0].len() > prefix.len() + 10,
        "no sentence: {}",
        lines[0]
    );
}

fn keypair(dir: &Path, alg: &str) -> (String, String) {
    let key = p(dir, &format!("{alg}.pem"));
    let public = p(dir, &format!("{alg}.pub.pem"));
    assert_eq!(camr(["key", "gen", "--alg", alg, "--out", &key]).code, 0);
    assert_eq!(camr(["key", "pub", "--in", &key, "--out", &public]).code, 0);
    (key, public)
}

#[test]
fn sign_and_verify_with_every_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    let msg = p(dir.path(), "quote.txt");
    std::fs::write(&msg, "报价 1,280,000.00 元").unwrap();
    for alg in ["sm2", "p256", "rsa2048"] {
        let (key, public) = keypair(dir.path(), alg);
        let sig = p(dir.path(), &format!("{alg}.sig"));
        assert_eq!(
            camr(["sign", "--key", &key, "--in", &msg, "--out", &sig]).code,
            0
        );
        let ok = camr([
            "--json", "verify", "--pub", &public, "--in", &msg, "--sig", &sig,
        ]);
        assert_eq!(ok.code, 0, "{}", ok.stderr);
        let v: serde_json::Value = serde_json::from_str(&ok.stdout).unwrap();
        assert_eq!(v["valid"], true);
        // A changed message is a failed verification: exit 1.
        let other = p(dir.path(), "other.txt");
        std::fs::write(&other, "报价 9,280,000.00 元").unwrap();
        let bad = camr(["verify", "--pub", &public, "--in", &other, "--sig", &sig]);
        assert_error(&bad, 1, "SIGNATURE_INVALID");
    }
}

#[test]
fn sm2_signer_id_is_part_of_the_signature() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keypair(dir.path(), "sm2");
    let msg = p(dir.path(), "m");
    std::fs::write(&msg, b"hello").unwrap();
    let sig = p(dir.path(), "s");
    assert_eq!(
        camr([
            "sign",
            "--key",
            &key,
            "--in",
            &msg,
            "--out",
            &sig,
            "--id",
            "ALICE123@YAHOO.COM"
        ])
        .code,
        0
    );
    assert_eq!(
        camr([
            "verify",
            "--pub",
            &public,
            "--in",
            &msg,
            "--sig",
            &sig,
            "--id",
            "ALICE123@YAHOO.COM"
        ])
        .code,
        0
    );
    assert_error(
        &camr(["verify", "--pub", &public, "--in", &msg, "--sig", &sig]),
        1,
        "SIGNATURE_INVALID",
    );
}

#[test]
fn encrypt_decrypt_round_trip_and_tamper() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keypair(dir.path(), "sm2");
    let msg = p(dir.path(), "k");
    std::fs::write(&msg, [7u8; 32]).unwrap();
    let ct = p(dir.path(), "c.der");
    let back = p(dir.path(), "k2");
    assert_eq!(
        camr(["encrypt", "--pub", &public, "--in", &msg, "--out", &ct]).code,
        0
    );
    assert_eq!(
        camr(["decrypt", "--key", &key, "--in", &ct, "--out", &back]).code,
        0
    );
    assert_eq!(std::fs::read(&back).unwrap(), [7u8; 32]);
    // Flip a byte of C2 (the last bytes): the C3 check fails — exit 1.
    let mut bytes = std::fs::read(&ct).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&ct, &bytes).unwrap();
    assert_error(
        &camr(["decrypt", "--key", &key, "--in", &ct, "--out", &back]),
        1,
        "DECRYPTION_FAILED",
    );
}

#[test]
fn encrypted_key_needs_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let key = p(dir.path(), "k.pem");
    let pw = p(dir.path(), "pw");
    let wrong = p(dir.path(), "wrong");
    std::fs::write(&pw, "s3cret-PIN\n").unwrap();
    std::fs::write(&wrong, "nope\n").unwrap();
    assert_eq!(
        camr([
            "key",
            "gen",
            "--alg",
            "sm2",
            "--out",
            &key,
            "--password-file",
            &pw
        ])
        .code,
        0
    );
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    );
    let out = p(dir.path(), "pub.pem");
    assert_eq!(
        camr([
            "key",
            "pub",
            "--in",
            &key,
            "--out",
            &out,
            "--password-file",
            &pw
        ])
        .code,
        0
    );
    assert_error(
        &camr(["key", "pub", "--in", &key, "--out", &out]),
        2,
        "KEY_PASSWORD_REQUIRED",
    );
    assert_error(
        &camr([
            "key",
            "pub",
            "--in",
            &key,
            "--out",
            &out,
            "--password-file",
            &wrong,
        ]),
        2,
        "KEY_PASSWORD_WRONG",
    );
}

#[test]
fn digest_matches_the_standard_vector() {
    let dir = tempfile::tempdir().unwrap();
    let f = p(dir.path(), "abc");
    std::fs::write(&f, "abc").unwrap();
    let run = camr(["--json", "digest", "--alg", "sm3", &f]);
    assert_eq!(run.code, 0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    // GB/T 32905-2016, example 1.
    assert_eq!(
        v["digest"],
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
}

#[test]
fn digest_prints_like_sha256sum_so_cut_gives_the_digest() {
    let dir = tempfile::tempdir().unwrap();
    let f = p(dir.path(), "abc");
    std::fs::write(&f, "abc").unwrap();
    // A script's pipe, as people write it: the first field of stdout is the digest.
    let out = Command::new("sh")
        .args([
            "-c",
            r#""$0" digest --alg sm3 "$1" | cut -d' ' -f1"#,
            env!("CARGO_BIN_EXE_camr"),
            &f,
        ])
        .output()
        .expect("run sh");
    assert!(out.status.success(), "{out:?}");
    // GB/T 32905-2016, example 1.
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0\n"
    );
    // The whole line is `HEX  FILE` on stdout, nothing on stderr.
    let run = camr(["digest", "--alg", "sha256", &f]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout,
        format!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  {f}\n")
    );
    assert_eq!(run.stderr, "");
}

fn zbarimg(png: &str) -> Option<String> {
    match Command::new("zbarimg")
        .args(["--quiet", "--raw", png])
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "zbarimg failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(
                String::from_utf8(out.stdout)
                    .unwrap()
                    .trim_end_matches('\n')
                    .to_string(),
            )
        }
        Err(_) => {
            eprintln!(
                "\n\n*** SKIPPED zbarimg check: zbarimg not found (apt-get install zbar-tools) ***\n"
            );
            None
        }
    }
}

const URI: &str = "https://ggzy.example-province.gov.cn/tradingsystem/camr/v1/request/C1100005553a3f9c0e1b2d4f6a8c0e2b4d6f8a0c2e4?lng=zh-CN";

#[test]
fn qr_png_decodes_with_zbarimg_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keypair(dir.path(), "sm2");
    for op in [
        "login",
        "messageSignature",
        "signature",
        "revokeSignature",
        "encrypt",
        "decrypt",
    ] {
        let png = p(dir.path(), &format!("{op}.png"));
        let svg = p(dir.path(), &format!("{op}.svg"));
        let made = camr([
            "--json",
            "qr",
            "make",
            "--system-code",
            "C1100005553",
            "--op",
            op,
            "--request-uri",
            URI,
            "--key",
            &key,
            "--png",
            &png,
            "--svg",
            &svg,
        ]);
        assert_eq!(made.code, 0, "{}", made.stderr);
        let made: serde_json::Value = serde_json::from_str(&made.stdout).unwrap();
        let payload = made["payload"].as_str().unwrap().to_string();
        assert!(made["qrVersion"].as_u64().unwrap() <= 12, "{made}");
        assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
        if let Some(decoded) = zbarimg(&png) {
            assert_eq!(decoded, payload, "zbarimg read something else");
        }
        let by_text = camr(["qr", "verify", "--pub", &public, "--payload", &payload]);
        assert_eq!(by_text.code, 0, "{}", by_text.stderr);
        let fields: serde_json::Value = serde_json::from_str(&by_text.stdout).unwrap();
        assert_eq!(fields["operation"], op);
        assert_eq!(fields["systemCode"], "C1100005553");
        assert_eq!(fields["requestUri"], URI);
        assert!(fields["tid"].as_str().unwrap().starts_with("C1100005553"));
        let by_png = camr(["qr", "verify", "--pub", &public, "--png", &png]);
        assert_eq!(by_png.code, 0, "{}", by_png.stderr);
        assert_eq!(by_png.stdout, by_text.stdout);
    }
}

#[test]
fn qr_refusals_have_their_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keypair(dir.path(), "sm2");
    let (_, other_pub) = keypair(dir.path(), "p256");
    let (_, other_sm2) = {
        let k = p(dir.path(), "o.pem");
        let pb = p(dir.path(), "o.pub.pem");
        assert_eq!(camr(["key", "gen", "--alg", "sm2", "--out", &k]).code, 0);
        assert_eq!(camr(["key", "pub", "--in", &k, "--out", &pb]).code, 0);
        (k, pb)
    };
    let made = camr([
        "qr",
        "make",
        "--system-code",
        "C1100005553",
        "--op",
        "login",
        "--request-uri",
        URI,
        "--key",
        &key,
        "--ttl",
        "60",
    ]);
    assert_eq!(made.code, 0);
    let payload = made.stdout.trim().to_string();
    for wrong in [&other_pub, &other_sm2] {
        assert_error(
            &camr(["qr", "verify", "--pub", wrong, "--payload", &payload]),
            1,
            "QR_SIGNATURE_INVALID",
        );
    }
    // Verified two hours later: expired.
    let later = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 7200)
        .to_string();
    assert_error(
        &camr([
            "qr",
            "verify",
            "--pub",
            &public,
            "--payload",
            &payload,
            "--now",
            &later,
        ]),
        1,
        "QR_EXPIRED",
    );
    // A changed character in the URI: the signature no longer matches.
    let tampered = payload.replace("lng=zh-CN", "lng=zh-TW");
    assert_error(
        &camr(["qr", "verify", "--pub", &public, "--payload", &tampered]),
        1,
        "QR_SIGNATURE_INVALID",
    );
    assert_error(
        &camr(["qr", "verify", "--pub", &public, "--payload", "hello"]),
        2,
        "QR_MALFORMED",
    );
    // Bad arguments to make.
    assert_error(
        &camr([
            "qr",
            "make",
            "--system-code",
            "c1100005553",
            "--op",
            "login",
            "--request-uri",
            URI,
            "--key",
            &key,
        ]),
        2,
        "SYSTEM_CODE_INVALID",
    );
    assert_error(
        &camr([
            "qr",
            "make",
            "--system-code",
            "C1100005553",
            "--op",
            "logout",
            "--request-uri",
            URI,
            "--key",
            &key,
        ]),
        2,
        "INPUT_MALFORMED",
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_payload_is_malformed() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keypair(dir.path(), "sm2");
    let bad = std::ffi::OsStr::from_bytes(b"CAMR1:\xff\xfe");
    let run = camr([
        std::ffi::OsStr::new("qr"),
        "verify".as_ref(),
        "--pub".as_ref(),
        public.as_ref(),
        "--payload".as_ref(),
        bad,
    ]);
    assert_error(&run, 2, "QR_MALFORMED");
}

#[test]
fn malformed_files_give_exit_2_and_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keypair(dir.path(), "sm2");
    let msg = p(dir.path(), "m");
    std::fs::write(&msg, b"data").unwrap();
    let sig = p(dir.path(), "s");
    assert_eq!(
        camr(["sign", "--key", &key, "--in", &msg, "--out", &sig]).code,
        0
    );
    let ct = p(dir.path(), "c");
    assert_eq!(
        camr(["encrypt", "--pub", &public, "--in", &msg, "--out", &ct]).code,
        0
    );

    let empty = p(dir.path(), "empty");
    std::fs::write(&empty, b"").unwrap();
    let garbage = p(dir.path(), "garbage");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let big: Vec<u8> = (0..10 * 1024 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(&garbage, &big).unwrap();
    let truncated_key = p(dir.path(), "trunc.der");
    let key_der = {
        let pem = std::fs::read_to_string(&key).unwrap();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        data_encoding::BASE64.decode(b64.as_bytes()).unwrap()
    };
    std::fs::write(&truncated_key, &key_der[..key_der.len() / 2]).unwrap();
    let truncated_sig = p(dir.path(), "trunc.sig");
    std::fs::write(&truncated_sig, &std::fs::read(&sig).unwrap()[..20]).unwrap();
    let truncated_ct = p(dir.path(), "trunc.ct");
    std::fs::write(&truncated_ct, &std::fs::read(&ct).unwrap()[..30]).unwrap();
    let wrong_pem = p(dir.path(), "wrong.pem");
    std::fs::write(
        &wrong_pem,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let out = p(dir.path(), "out");
    let missing = p(dir.path(), "missing");

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["sign", "--key", &empty, "--in", &msg, "--out", &out],
            "KEY_MALFORMED",
        ),
        (
            vec!["sign", "--key", &garbage, "--in", &msg, "--out", &out],
            "INPUT_MALFORMED",
        ),
        (
            vec!["sign", "--key", &truncated_key, "--in", &msg, "--out", &out],
            "KEY_MALFORMED",
        ),
        (
            vec!["sign", "--key", &wrong_pem, "--in", &msg, "--out", &out],
            "KEY_MALFORMED",
        ),
        (
            vec!["sign", "--key", &public, "--in", &msg, "--out", &out],
            "KEY_MALFORMED",
        ),
        (
            vec!["verify", "--pub", &key, "--in", &msg, "--sig", &sig],
            "KEY_MALFORMED",
        ),
        (
            vec!["verify", "--pub", &empty, "--in", &msg, "--sig", &sig],
            "KEY_MALFORMED",
        ),
        (
            vec!["verify", "--pub", &garbage, "--in", &msg, "--sig", &sig],
            "INPUT_MALFORMED",
        ),
        (
            vec![
                "verify",
                "--pub",
                &public,
                "--in",
                &msg,
                "--sig",
                &truncated_sig,
            ],
            "INPUT_MALFORMED",
        ),
        (
            vec!["verify", "--pub", &public, "--in", &msg, "--sig", &empty],
            "INPUT_MALFORMED",
        ),
        (
            vec!["verify", "--pub", &public, "--in", &msg, "--sig", &garbage],
            "INPUT_MALFORMED",
        ),
        (
            vec![
                "decrypt",
                "--key",
                &key,
                "--in",
                &truncated_ct,
                "--out",
                &out,
            ],
            "INPUT_MALFORMED",
        ),
        (
            vec!["decrypt", "--key", &key, "--in", &empty, "--out", &out],
            "INPUT_MALFORMED",
        ),
        (
            vec!["decrypt", "--key", &key, "--in", &garbage, "--out", &out],
            "INPUT_MALFORMED",
        ),
        (
            vec!["encrypt", "--pub", &public, "--in", &empty, "--out", &out],
            "INPUT_MALFORMED",
        ),
        (
            vec![
                "encrypt",
                "--pub",
                &truncated_key,
                "--in",
                &msg,
                "--out",
                &out,
            ],
            "KEY_MALFORMED",
        ),
        (
            vec!["qr", "verify", "--pub", &public, "--png", &garbage],
            "QR_MALFORMED",
        ),
        (
            vec!["qr", "verify", "--pub", &public, "--png", &empty],
            "QR_MALFORMED",
        ),
        (
            vec!["qr", "verify", "--pub", &public, "--png", &msg],
            "QR_MALFORMED",
        ),
        (
            vec![
                "qr",
                "make",
                "--system-code",
                "C1100005553",
                "--op",
                "login",
                "--request-uri",
                "ftp://x",
                "--key",
                &key,
            ],
            "QR_MALFORMED",
        ),
        (vec!["digest", &missing], "INPUT_MALFORMED"),
    ];
    for (args, code) in cases {
        let run = camr(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_error(&run, 2, code);
    }
    // Large but valid input is not an error: 10 MB of garbage can be hashed and signed.
    assert_eq!(camr(["digest", &garbage]).code, 0);
    assert_eq!(
        camr(["sign", "--key", &key, "--in", &garbage, "--out", &out]).code,
        0
    );
    // Usage errors are exit 2 with one line too.
    assert_error(&camr(["sign", "--key"]), 2, "USAGE");
    assert_error(
        &camr(["key", "gen", "--alg", "dsa", "--out", &out]),
        2,
        "USAGE",
    );
}

#[test]
fn schema_output_equals_the_committed_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let out: PathBuf = dir.path().join("schemas");
    let run = camr(["schema", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        let fresh = std::fs::read_to_string(out.join(&name)).unwrap();
        let old = std::fs::read_to_string(committed.join(&name))
            .unwrap_or_else(|_| panic!("{name:?} is not committed in schemas/; run `cargo run -p camr-cli -- schema --out schemas/`"));
        assert_eq!(
            fresh, old,
            "{name:?} drifted; run `cargo run -p camr-cli -- schema --out schemas/`"
        );
    }
}
