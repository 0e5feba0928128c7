//! PDF seals (`camr::seal`) checked by independent validators:
//!
//! - poppler's `pdfsig` (Debian `poppler-utils`; NSS underneath) must report every RSA and
//!   P-256 seal "Signature is Valid.", also after a later incremental seal;
//! - pyHanko (`pyhanko sign validate`, PyPI) must find each one intact, trusted to the softca
//!   root and unchanged by later revisions beyond signing and form filling;
//! - SM2 seals, which neither tool reads (no SM2/SM3 in NSS or asn1crypto), are checked in
//!   two halves with GmSSL: the byte-range SM3 digest equals the messageDigest attribute, and
//!   the SM2 signature over the DER signed attributes verifies with `gmssl sm2verify`.
//!
//! Where the tools come from: `$CAMR_PDFSIG` / `$CAMR_PYHANKO` / `$CAMR_GMSSL` if set (then
//! they must work), else `/usr/bin/pdfsig`, `target/tools/pyhanko/bin/pyhanko`
//! (`scripts/install-pyhanko.sh`) and `target/tools/gmssl` (`scripts/build-gmssl.sh`). A
//! missing tool prints `*** SKIPPED ***` on stderr and the test returns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use camr::crypto::{KeyAlgorithm, PrivateKey, default_provider};
use camr::pki::{Certificate, ChainValidator, TrustStore};
use camr::seal::{self, Placement, SealOptions};
use camr::softca::{Holder, SoftCa, wallet_files};
use common::{TAG_OCTET_STRING, TAG_SEQUENCE, TAG_SET, children, gmssl_ok, tlv, write};

fn tool(env: &str, default: PathBuf, probe: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        // Asked for explicitly (CI sets it): a missing tool is an error, not a skip.
        assert!(runs(&p, probe), "{env}={} does not run", p.display());
        return Some(p);
    }
    runs(&default, probe).then_some(default)
}

fn runs(p: &Path, probe: &str) -> bool {
    Command::new(p)
        .arg(probe)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn pdfsig() -> Option<&'static Path> {
    static P: OnceLock<Option<PathBuf>> = OnceLock::new();
    P.get_or_init(|| tool("CAMR_PDFSIG", "/usr/bin/pdfsig".into(), "-v"))
        .as_deref()
}

fn pyhanko() -> Option<&'static Path> {
    static P: OnceLock<Option<PathBuf>> = OnceLock::new();
    P.get_or_init(|| {
        let default =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools/pyhanko/bin/pyhanko");
        tool("CAMR_PYHANKO", default, "--version")
    })
    .as_deref()
}

fn skipped(what: &str) {
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: {what} not found (apt-get install poppler-utils; \
         scripts/install-pyhanko.sh; scripts/build-gmssl.sh). A PDF validator test did NOT run. ***\n"
    );
}

struct Wallet {
    dir: tempfile::TempDir,
    root: Certificate,
    chain: Vec<Certificate>,
    cert: Certificate,
    key: PrivateKey,
}

fn wallet(alg: KeyAlgorithm, name: &str) -> Wallet {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(default_provider(), &dir.path().join("ca"), alg, "PDF CA").unwrap();
    let holder = Holder::org(name, "某某建设有限公司", "91350100M000100Y43");
    let w = dir.path().join("w");
    ca.issue(&holder, b"1234", &w, 30).unwrap();
    let read = |n: &str| std::fs::read(w.join(n)).unwrap();
    std::fs::write(dir.path().join("root.pem"), ca.root().to_pem()).unwrap();
    Wallet {
        root: ca.root().clone(),
        chain: Certificate::parse_all(&read(wallet_files::CHAIN)).unwrap(),
        cert: Certificate::parse_one(&read(wallet_files::SIGN_CERT)).unwrap(),
        key: PrivateKey::from_bytes(&read(wallet_files::SIGN_KEY), Some(b"1234")).unwrap(),
        dir,
    }
}

fn seal_once(w: &Wallet, pdf: &[u8], placement: Placement) -> Vec<u8> {
    let mut options = SealOptions::new(placement);
    options.reason = Some("投标文件签章 bid seal".into());
    seal::seal_with_key(
        default_provider().as_ref(),
        pdf,
        &w.cert,
        &w.key,
        &w.chain,
        &options,
    )
    .unwrap()
}

fn one_page() -> Placement {
    Placement::Page {
        page: 1,
        rect: [380.0, 120.0, 120.0, 120.0],
    }
}

fn every_page() -> Placement {
    Placement::EveryPage {
        rect: [480.0, 40.0, 72.0, 72.0],
    }
}

fn camr_report(w: &[&Wallet], pdf: &[u8]) -> seal::PdfReport {
    let mut t = TrustStore::new();
    for w in w {
        t.add(w.root.clone());
    }
    let v = ChainValidator::new(default_provider(), t);
    seal::verify(
        default_provider().as_ref(),
        pdf,
        Some(&v),
        camr::qr::unix_now(),
    )
    .unwrap()
}

fn run(program: &Path, args: &[&str], file: &Path) -> (Output, String) {
    let out = Command::new(program).args(args).arg(file).output().unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

fn pyhanko_args(roots: &[PathBuf]) -> Vec<String> {
    let mut args: Vec<String> = vec!["sign".into(), "validate".into()];
    for r in roots {
        args.push("--trust".into());
        args.push(r.display().to_string());
    }
    for a in ["--trust-replace", "--no-revocation-check", "--pretty-print"] {
        args.push(a.into());
    }
    args
}

fn roots(ws: &[&Wallet]) -> Vec<PathBuf> {
    ws.iter().map(|w| w.dir.path().join("root.pem")).collect()
}

fn certutil() -> Option<&'static Path> {
    static P: OnceLock<Option<PathBuf>> = OnceLock::new();
    P.get_or_init(|| {
        let p = PathBuf::from("/usr/bin/certutil");
        // `certutil -H` prints help and exits 1: probe with the file's existence instead.
        p.exists().then_some(p)
    })
    .as_deref()
}

/// pdfsig with an NSS database that trusts the softca roots: the first entry of every field
/// must say "Certificate is Trusted.". (pdfsig 22.12 checks a certificate it has already
/// checked in the same run as "Unknown issue with Certificate or corrupted data.", so later
/// widgets of the same seal, or a second seal by the same certificate, are not asserted.)
fn pdfsig_trusts(ws: &[&Wallet], file: &Path, label: &str) {
    let (Some(pdfsig), Some(certutil)) = (pdfsig(), certutil()) else {
        skipped("pdfsig or certutil (libnss3-tools)");
        return;
    };
    let db = ws[0].dir.path().join(format!("nss-{label}"));
    std::fs::create_dir_all(&db).unwrap();
    let db_arg = format!("sql:{}", db.display());
    let ok = |args: &[&str]| {
        let out = Command::new(certutil).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "certutil {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&["-N", "-d", &db_arg, "--empty-password"]);
    for (i, root) in roots(ws).iter().enumerate() {
        let nick = format!("camr-root-{i}");
        ok(&[
            "-A",
            "-d",
            &db_arg,
            "-n",
            &nick,
            "-t",
            "CT,C,C",
            "-i",
            root.to_str().unwrap(),
        ]);
    }
    let (out, text) = run(pdfsig, &["-nssdir", &db_arg], file);
    assert!(
        out.status.success(),
        "{label}: pdfsig -nssdir failed:\n{text}"
    );
    let mut seen = std::collections::BTreeSet::new();
    for entry in text.split("Signature #").skip(1) {
        let field = entry
            .lines()
            .find_map(|l| l.trim().strip_prefix("- Signature Field Name: "))
            .unwrap()
            .to_string();
        assert!(
            entry.contains("Signature Validation: Signature is Valid."),
            "{label}:\n{text}"
        );
        if seen.insert(field) {
            assert!(
                entry.contains("Certificate Validation: Certificate is Trusted."),
                "{label}: first entry of a field not trusted:\n{text}"
            );
        }
    }
    eprintln!("{label}: pdfsig -nssdir (softca roots trusted):\n{text}");
}

/// pdfsig and pyHanko on `pdf` with `n` seals, all expected valid and trusted to the roots of
/// `ws`. pdfsig lists a seal once per widget (`widgets` entries in all), pyHanko once per
/// field.
fn validators_accept(ws: &[&Wallet], pdf: &[u8], n: usize, widgets: usize, label: &str) {
    let file = ws[0].dir.path().join(format!("{label}.pdf"));
    std::fs::write(&file, pdf).unwrap();
    if let Some(pdfsig) = pdfsig() {
        let (out, text) = run(pdfsig, &[], &file);
        assert!(out.status.success(), "{label}: pdfsig failed:\n{text}");
        assert_eq!(
            count(&text, "Signature Validation: Signature is Valid."),
            widgets,
            "{label}:\n{text}"
        );
        assert!(
            count(&text, "Total document signed") >= 1,
            "{label}:\n{text}"
        );
        // pdfsig lists every widget of a seal that does not cover the whole file that way.
        let earlier: usize = seal::verify(default_provider().as_ref(), pdf, None, 0)
            .unwrap()
            .seals
            .iter()
            .filter(|s| !s.covers_whole_file)
            .map(|s| s.widgets.len())
            .sum();
        assert_eq!(
            count(&text, "Not total document signed"),
            earlier,
            "{label}:\n{text}"
        );
        eprintln!("{label}: pdfsig:\n{text}");
        pdfsig_trusts(ws, &file, label);
    } else {
        skipped("pdfsig");
    }
    if let Some(pyhanko) = pyhanko() {
        let args = pyhanko_args(&roots(ws));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, text) = run(pyhanko, &args, &file);
        assert!(out.status.success(), "{label}: pyhanko failed:\n{text}");
        assert_eq!(
            count(&text, "The signature is judged VALID."),
            n,
            "{label}:\n{text}"
        );
        assert_eq!(
            count(&text, "The signer's certificate is trusted."),
            n,
            "{label}:\n{text}"
        );
        assert_eq!(
            count(&text, "The signature is cryptographically sound."),
            n,
            "{label}:\n{text}"
        );
        eprintln!("{label}: pyhanko:\n{text}");
    } else {
        skipped("pyhanko");
    }
}

#[test]
fn rsa_and_p256_seals_validate_in_pdfsig_and_pyhanko_also_after_a_later_seal() {
    for (alg, label) in [(KeyAlgorithm::Rsa2048, "rsa"), (KeyAlgorithm::P256, "p256")] {
        let w = wallet(alg, "张三");
        let pdf = seal::sample_pdf(3).unwrap();
        let once = seal_once(&w, &pdf, one_page());
        assert!(camr_report(&[&w], &once).all_valid);
        validators_accept(&[&w], &once, 1, 1, &format!("{label}-once"));
        // A second seal by another signer (of another CA), on every page, as a later
        // incremental update.
        let b = wallet(alg, "李四");
        let twice = seal_once(&b, &once, every_page());
        assert_eq!(&twice[..once.len()], once.as_slice());
        let report = camr_report(&[&w, &b], &twice);
        assert!(report.all_valid, "{report:?}");
        assert_eq!(report.seals[1].widgets.len(), 3);
        validators_accept(&[&w, &b], &twice, 2, 4, &format!("{label}-twice"));
    }
}

#[test]
fn tampered_seals_are_refused_by_camr_pdfsig_and_pyhanko() {
    let w = wallet(KeyAlgorithm::P256, "张三");
    let sealed = seal_once(&w, &seal::sample_pdf(1).unwrap(), one_page());
    // 1. A changed byte inside the signed range.
    let mut changed = sealed.clone();
    let at = changed
        .windows(16)
        .position(|x| x == b"camr test page 1")
        .unwrap();
    changed[at + 10] = b'X';
    let report = camr_report(&[&w], &changed);
    assert!(!report.seals[0].integrity && !report.all_valid);
    let file = w.dir.path().join("changed.pdf");
    std::fs::write(&file, &changed).unwrap();
    if let Some(pdfsig) = pdfsig() {
        let (_, text) = run(pdfsig, &[], &file);
        assert_eq!(count(&text, "Signature is Valid."), 0, "{text}");
        eprintln!("changed byte: pdfsig:\n{text}");
    }
    if let Some(pyhanko) = pyhanko() {
        let args = pyhanko_args(&roots(&[&w]));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, text) = run(pyhanko, &args, &file);
        assert!(
            !out.status.success() && !text.contains("judged VALID"),
            "{text}"
        );
    }
    // 2. An appended revision that changes the page content.
    let mut inc = lopdf::IncrementalDocument::load_from(sealed.as_slice()).unwrap();
    let page = inc.get_prev_documents().get_pages()[&1];
    let content = inc.get_prev_documents().get_page_contents(page)[0];
    inc.opt_clone_object_to_new_document(content).unwrap();
    inc.new_document
        .get_object_mut(content)
        .unwrap()
        .as_stream_mut()
        .unwrap()
        .set_plain_content(b"BT /F1 24 Tf 72 760 Td (price: 1 yuan) Tj ET\n".to_vec());
    let mut modified = Vec::new();
    inc.save_to(&mut modified).unwrap();
    let report = camr_report(&[&w], &modified);
    let s = &report.seals[0];
    assert!(s.integrity && s.modified_after_signing && !s.valid, "{s:?}");
    let file = w.dir.path().join("modified.pdf");
    std::fs::write(&file, &modified).unwrap();
    if let Some(pyhanko) = pyhanko() {
        let args = pyhanko_args(&roots(&[&w]));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, text) = run(pyhanko, &args, &file);
        assert!(
            !out.status.success() && !text.contains("judged VALID"),
            "{text}"
        );
        eprintln!("modified after signing: pyhanko:\n{text}");
    }
}

#[test]
fn sm2_seals_verify_with_camr_and_their_two_halves_with_gmssl() {
    let w = wallet(KeyAlgorithm::Sm2, "张三");
    let once = seal_once(&w, &seal::sample_pdf(2).unwrap(), one_page());
    let twice = seal_once(&w, &once, every_page());
    let report = camr_report(&[&w], &twice);
    assert!(report.all_valid, "{report:?}");
    assert_eq!(report.seals[0].sub_filter, "ETSI.CAdES.detached");
    require_gmssl!();
    for s in &report.seals {
        let br: Vec<usize> = s.byte_range.iter().map(|&v| v as usize).collect();
        let dir = w.dir.path();
        let mut signed = twice[br[0]..br[0] + br[1]].to_vec();
        signed.extend_from_slice(&twice[br[2]..br[2] + br[3]]);
        write(dir, "signed", &signed);
        let hex = std::str::from_utf8(&twice[br[1] + 1..br[2] - 1]).unwrap();
        let contents = hex::decode(hex).unwrap();
        let (attrs, signature) = signer_attrs_and_signature(&contents);
        // Half 1: GmSSL's SM3 over the byte ranges is the messageDigest attribute.
        let sm3 = String::from_utf8(gmssl_ok(dir, &["sm3", "-in", "signed"])).unwrap();
        let digest = hex::decode(sm3.trim()).unwrap();
        assert!(
            attrs.windows(digest.len()).any(|x| x == digest.as_slice()),
            "{}: messageDigest is not GmSSL's SM3 of the byte ranges",
            s.field_name
        );
        // Half 2: the SM2 signature (Z for ID 1234567812345678) over DER(signed attributes).
        write(dir, "attrs.der", &attrs);
        write(dir, "sig.der", &signature);
        write(
            dir,
            "pub.pem",
            w.cert.public_key().unwrap().to_spki_pem().unwrap(),
        );
        let out = gmssl_ok(
            dir,
            &[
                "sm2verify",
                "-pubkey",
                "pub.pem",
                "-id",
                common::ID,
                "-in",
                "attrs.der",
                "-sig",
                "sig.der",
            ],
        );
        assert!(
            String::from_utf8_lossy(&out).contains("success"),
            "{}",
            s.field_name
        );
    }
}

/// From a DER ContentInfo/SignedData: the signed attributes re-tagged as a SET OF (what the
/// signature covers) and the signature value.
fn signer_attrs_and_signature(ci: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (tag, body, _padding) = tlv(ci).unwrap();
    assert_eq!(tag, TAG_SEQUENCE);
    let parts = children(body).unwrap();
    let sd = &children(parts[1].content).unwrap()[0];
    let sd_parts = children(sd.content).unwrap();
    let infos = sd_parts.iter().rev().find(|e| e.tag == TAG_SET).unwrap();
    let info = &children(infos.content).unwrap()[0];
    let fields = children(info.content).unwrap();
    let attrs = fields.iter().find(|e| e.tag == 0xa0).unwrap();
    let mut set = attrs.whole.to_vec();
    set[0] = TAG_SET;
    let sig = fields
        .iter()
        .rev()
        .find(|e| e.tag == TAG_OCTET_STRING)
        .unwrap();
    (set, sig.content.to_vec())
}

#[test]
fn a_pdf_with_a_cross_reference_stream_seals_and_validates() {
    let mut doc = lopdf::Document::load_mem(&seal::sample_pdf(2).unwrap()).unwrap();
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceStream;
    let mut pdf = Vec::new();
    doc.save_to(&mut pdf).unwrap();
    assert!(
        pdf.windows(10).any(|w| w == b"/Type/XRef") || pdf.windows(11).any(|w| w == b"/Type /XRef")
    );
    let w = wallet(KeyAlgorithm::P256, "张三");
    let b = wallet(KeyAlgorithm::Rsa2048, "李四");
    let once = seal_once(&w, &pdf, one_page());
    let twice = seal_once(&b, &once, every_page());
    let report = camr_report(&[&w, &b], &twice);
    assert!(report.all_valid, "{report:?}");
    validators_accept(&[&w, &b], &twice, 2, 3, "xref-stream");
}

#[test]
fn straddle_and_keyword_seals_validate_in_pdfsig_and_pyhanko() {
    let a = wallet(KeyAlgorithm::Rsa2048, "张三");
    let b = wallet(KeyAlgorithm::P256, "李四");
    let pdf = seal::sample_pdf(3).unwrap();
    let straddle = Placement::Straddle {
        from: 1,
        to: 3,
        width: 90.0,
        height: 90.0,
        y: 300.0,
    };
    let once = seal_once(&a, &pdf, straddle);
    let keyword = Placement::Keyword {
        keyword: "test page 2".into(),
        width: 60.0,
        height: 60.0,
    };
    let twice = seal_once(&b, &once, keyword);
    let report = camr_report(&[&a, &b], &twice);
    assert!(report.all_valid, "{report:?}");
    validators_accept(&[&a, &b], &twice, 2, 4, "straddle-keyword");
}
