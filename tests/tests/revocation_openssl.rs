//! The software CA's OCSP responder and TSA, served by `softca-cloud` over loopback, judged by
//! OpenSSL 3: `openssl ocsp` says `good`, then `revoked` once the CA revokes the certificate
//! (RSA and P-256 CAs), and `openssl ts -verify` says `Verification: OK` for an RSA token over
//! the file (and fails over another file). The certificates carry the URLs the CA was given
//! (`openssl x509 -ocsp_uri`).
//!
//! `openssl` missing: a loud skip locally; with `CI` or `CAMR_OPENSSL` set, a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use camr::crypto::{KeyAlgorithm, default_provider};
use camr::pki::Certificate;
use camr::softca::{CaUrls, Holder, RevocationReason, SoftCa, wallet_files};

fn openssl_available() -> bool {
    let runs = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    let required = ["CI", "CAMR_OPENSSL"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
    assert!(
        runs || !required,
        "openssl does not run, and CI requires it (apt-get install openssl)"
    );
    if !runs {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: openssl not found; an OCSP/TSA interop test did NOT run. ***\n"
        );
    }
    runs
}

fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl {args:?}: {e}"))
}

fn show(args: &[&str], out: &Output) -> String {
    format!(
        "openssl {} ({}):\nstdout: {}\nstderr: {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn holder(name: &str) -> Holder {
    Holder::personal(name)
}

/// A CA of `algorithm` in `dir/ca`, served by softca-cloud on `rt`, whose certificates name
/// the cloud's URLs, and one wallet in `dir/w`; root.pem, ca.pem and leaf.pem written into
/// `dir`. Returns the cloud's base URL and the leaf.
fn ca_with_wallet(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    algorithm: KeyAlgorithm,
) -> (String, Certificate) {
    let ca_dir = dir.join("ca");
    SoftCa::init(default_provider(), &ca_dir, algorithm, "Interop CA").unwrap();
    let base = {
        let _guard = rt.enter();
        let (addr, _task) = softca_cloud::spawn(&ca_dir, None).unwrap();
        format!("http://{addr}")
    };
    // The cloud reads the CA folder afresh per request: URLs set and certificates issued
    // after it started are what it serves.
    let mut ca = SoftCa::open(default_provider(), &ca_dir).unwrap();
    ca.set_urls(CaUrls {
        crl_url: Some(format!("{base}/crl")),
        ocsp_url: Some(format!("{base}/ocsp")),
        ca_issuers_url: Some(format!("{base}/ca.cer")),
    })
    .unwrap();
    ca.issue(&holder("张三"), b"123456", &dir.join("w"), 30)
        .unwrap();
    std::fs::write(dir.join("root.pem"), ca.root().to_pem()).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.issuing_ca().to_pem()).unwrap();
    let leaf = std::fs::read(dir.join("w").join(wallet_files::SIGN_CERT)).unwrap();
    std::fs::write(dir.join("leaf.pem"), &leaf).unwrap();
    (base, Certificate::parse_one(&leaf).unwrap())
}

fn ocsp_says(dir: &Path, base: &str) -> String {
    let url = format!("{base}/ocsp");
    let args = [
        "ocsp", "-issuer", "ca.pem", "-cert", "leaf.pem", "-url", &url, "-CAfile", "root.pem",
    ];
    let out = openssl(dir, &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let text = show(&args, &out);
    assert!(text.contains("Response verify OK"), "{text}");
    eprintln!("{text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn openssl_ocsp_says_good_then_revoked(algorithm: KeyAlgorithm) {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (base, leaf) = ca_with_wallet(&rt, dir.path(), algorithm);
    // The certificate names the cloud's responder (authorityInfoAccess id-ad-ocsp).
    let uri = openssl(
        dir.path(),
        &["x509", "-in", "leaf.pem", "-noout", "-ocsp_uri"],
    );
    assert_eq!(
        String::from_utf8_lossy(&uri.stdout).trim(),
        format!("{base}/ocsp")
    );
    assert!(ocsp_says(dir.path(), &base).contains("leaf.pem: good"));
    let mut ca = SoftCa::open(default_provider(), &dir.path().join("ca")).unwrap();
    ca.revoke(
        &leaf.serial_hex(),
        RevocationReason::KeyCompromise,
        camr::qr::unix_now() - 5,
    )
    .unwrap();
    let said = ocsp_says(dir.path(), &base);
    assert!(said.contains("leaf.pem: revoked"), "{said}");
    assert!(said.contains("Reason: keyCompromise"), "{said}");
}

#[test]
fn openssl_ocsp_says_good_then_revoked_for_an_rsa_ca() {
    openssl_ocsp_says_good_then_revoked(KeyAlgorithm::Rsa2048);
}

#[test]
fn openssl_ocsp_says_good_then_revoked_for_a_p256_ca() {
    openssl_ocsp_says_good_then_revoked(KeyAlgorithm::P256);
}

#[test]
fn openssl_ts_verifies_an_rsa_token_from_the_softca_tsa_over_http() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (base, _) = ca_with_wallet(&rt, d, KeyAlgorithm::Rsa2048);
    std::fs::write(d.join("bid.pdf"), b"%PDF-1.7 a bid file").unwrap();
    std::fs::write(d.join("other.pdf"), b"%PDF-1.7 another bid file").unwrap();
    let args = [
        "ts", "-query", "-data", "bid.pdf", "-sha256", "-cert", "-out", "req.tsq",
    ];
    let out = openssl(d, &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let reply = reqwest::blocking::Client::new()
        .post(format!("{base}/tsa"))
        .header("content-type", "application/timestamp-query")
        .body(std::fs::read(d.join("req.tsq")).unwrap())
        .send()
        .unwrap();
    assert_eq!(reply.status(), 200);
    std::fs::write(d.join("token.tsr"), reply.bytes().unwrap()).unwrap();
    let verify = |data: &str| {
        let args = [
            "ts",
            "-verify",
            "-data",
            data,
            "-in",
            "token.tsr",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "ca.pem",
        ];
        let out = openssl(d, &args);
        (out.status.success(), show(&args, &out))
    };
    let (ok, text) = verify("bid.pdf");
    eprintln!("{text}");
    assert!(ok && text.contains("Verification: OK"), "{text}");
    let (ok, text) = verify("other.pdf");
    assert!(!ok && !text.contains("Verification: OK"), "{text}");
    // The reply's text form names the policy and a granted status.
    let args = ["ts", "-reply", "-in", "token.tsr", "-text"];
    let out = openssl(d, &args);
    let text = show(&args, &out);
    assert!(text.contains("Status: Granted."), "{text}");
    assert!(
        text.contains(&camr::softca::TSA_POLICY.to_string()),
        "{text}"
    );
}

/// camr's own sources over real HTTP (`ReqwestFetch`) against the cloud: the certificate's CRL
/// distribution point and OCSP responder say good, then revoked (SM2 CA, so the SM2/SM3 OCSP
/// response verifies in camr). No outside tool.
#[test]
fn camr_sources_over_http_see_an_sm2_revocation_through_ocsp_and_the_crl() {
    use camr::pki::http::ReqwestFetch;
    use camr::pki::{CrlDpSource, OcspSource, RevocationSource, RevocationStatus, SourceKind};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_, leaf) = ca_with_wallet(&rt, dir.path(), KeyAlgorithm::Sm2);
    let issuer =
        Certificate::parse_one(&std::fs::read(dir.path().join("ca.pem")).unwrap()).unwrap();
    let http = Arc::new(ReqwestFetch);
    let p = default_provider();
    let now = camr::qr::unix_now();
    let e = OcspSource::new(http.clone(), p.clone())
        .status(&leaf, &issuer, now)
        .unwrap();
    assert_eq!(
        (e.source, e.status),
        (SourceKind::Ocsp, RevocationStatus::Good)
    );
    let e = CrlDpSource::new(http.clone(), p.clone())
        .status(&leaf, &issuer, now)
        .unwrap();
    assert_eq!(e.status, RevocationStatus::Good);
    let mut ca = SoftCa::open(p.clone(), &dir.path().join("ca")).unwrap();
    ca.revoke(&leaf.serial_hex(), RevocationReason::KeyCompromise, now - 5)
        .unwrap();
    // New sources (nothing cached) see it at once, through both routes.
    let e = OcspSource::new(http.clone(), p.clone())
        .status(&leaf, &issuer, now)
        .unwrap();
    assert!(
        matches!(e.status, RevocationStatus::Revoked { .. }),
        "{e:?}"
    );
    let e = CrlDpSource::new(http, p)
        .status(&leaf, &issuer, now)
        .unwrap();
    assert!(
        matches!(e.status, RevocationStatus::Revoked { .. }),
        "{e:?}"
    );
}
