//! The fuzz targets' fixtures and seed corpora (`fuzz/fixtures/`, `fuzz/seeds/<target>/`,
//! issue 21 item 1). `CAMR_WRITE_FUZZ_SEEDS=1 cargo test -p camr-server --test fuzz_seeds`
//! writes them anew (a fixed SM2 software CA and wallet, and for each parser a few inputs
//! camr itself produced); without it the test checks that the committed seeds still get past
//! the parsers into the deep paths (signatures verify, envelopes open, seals are found), so
//! a format change that would leave the fuzzers starting from dead inputs fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use camr::app::{App, Wallet};
use camr::ceremony::{Platform, PlatformIdentity, verify_signed_request};
use camr::crypto::{CryptoProvider, KeyAlgorithm, PrivateKey, default_provider};
use camr::envelope::{self, KeySource, SignOptions};
use camr::pki::{Certificate, ChainValidator, Crl, TrustStore};
use camr::protocol::{Operation, Response, SystemCode, Tid};
use camr::qr::interlink::{CallbackType, Interlink, open_callback, seal_callback};
use camr::qr::{Camr1, QrFields, QrProfile, QrSigner, Vendor1};
use camr::seal::{Placement, SealOptions};
use camr::softca::{Holder, SoftCa};
use camr::store::MemoryStore;

const PIN: &[u8] = b"123456";
const DETACHED: &[u8] = b"camr fuzz content\n";

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn seed(target: &str, name: &str, data: &[u8]) {
    let dir = fuzz_dir().join("seeds").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), data).unwrap();
}

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fuzz_dir().join("seeds").join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds for {target}");
    out
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fuzz_dir().join("fixtures").join(name)).unwrap()
}

/// What the fuzz crate's `fixture()` builds (the same rule for the clock).
struct Fixed {
    provider: Arc<dyn CryptoProvider>,
    enc_cert: Certificate,
    enc_key: PrivateKey,
    validator: ChainValidator,
    now: i64,
}

fn fixed() -> Fixed {
    let provider = default_provider();
    let root = Certificate::parse_one(&fixture("root.pem")).unwrap();
    let enc_cert = Certificate::parse_one(&fixture("enc-cert.pem")).unwrap();
    let enc_key = PrivateKey::from_bytes(&fixture("enc-key.pem"), Some(PIN)).unwrap();
    let mut trust = TrustStore::new();
    trust.add(root);
    let validator = ChainValidator::new(provider.clone(), trust)
        .with_crls(vec![Crl::parse(&fixture("ca.crl")).unwrap()]);
    let now = enc_cert.validity().0 + 86_400;
    Fixed {
        provider,
        enc_cert,
        enc_key,
        validator,
        now,
    }
}

fn write_all() {
    let provider = default_provider();
    let tmp = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(
        provider.clone(),
        &tmp.path().join("ca"),
        KeyAlgorithm::Sm2,
        "camr fuzz CA",
    )
    .unwrap();
    let holder = Holder::personal("张三");
    let wallet_dir = tmp.path().join("wallet");
    ca.issue(&holder, PIN, &wallet_dir, 3650).unwrap();
    let fixtures = fuzz_dir().join("fixtures");
    std::fs::create_dir_all(&fixtures).unwrap();
    std::fs::write(fixtures.join("root.pem"), ca.root().to_pem()).unwrap();
    std::fs::write(fixtures.join("issuing.pem"), ca.issuing_ca().to_pem()).unwrap();
    for f in ["enc-cert.pem", "enc-key.pem"] {
        std::fs::copy(wallet_dir.join(f), fixtures.join(f)).unwrap();
    }
    let sign_cert_pem = std::fs::read(wallet_dir.join("sign-cert.pem")).unwrap();
    let chain_pem = std::fs::read(wallet_dir.join("chain.pem")).unwrap();
    let sign_cert = Certificate::parse_one(&sign_cert_pem).unwrap();
    let sign_key = PrivateKey::from_bytes(
        &std::fs::read(wallet_dir.join("sign-key.pem")).unwrap(),
        Some(PIN),
    )
    .unwrap();
    let chain = Certificate::parse_all(&chain_pem).unwrap();
    let enc_cert = Certificate::parse_one(&fixture("enc-cert.pem")).unwrap();
    let now = enc_cert.validity().0 + 86_400;
    let crl = ca.crl(now).unwrap();
    std::fs::write(fixtures.join("ca.crl"), crl.der()).unwrap();
    let p = provider.as_ref();

    seed(
        "cert_chain",
        "wallet-chain.pem",
        &[&sign_cert_pem[..], &chain_pem[..]].concat(),
    );
    seed("cert_chain", "sign-cert.der", sign_cert.der());
    seed("cert_chain", "enc-cert.der", enc_cert.der());
    seed("crl", "ca.crl", crl.der());
    let signed = |detached| {
        let options = SignOptions {
            detached,
            signing_time: Some(now),
        };
        envelope::sign(p, &sign_cert, &sign_key, &chain, DETACHED, options).unwrap()
    };
    seed("cms_verify", "attached.der", &signed(false));
    seed("cms_verify", "detached.der", &signed(true));
    seed(
        "envelope_open",
        "gmt0010.der",
        &envelope::seal(p, std::slice::from_ref(&enc_cert), b"bid price 100").unwrap(),
    );
    let mut bid = Vec::new();
    envelope::seal_stream(
        p,
        std::slice::from_ref(&enc_cert),
        &[7u8; 3000][..],
        &mut bid,
        &mut |_| {},
    )
    .unwrap();
    seed("bidfile_open", "bid.bin", &bid);
    let pdf = camr::seal::sample_pdf(1).unwrap();
    let mut options = SealOptions::new(Placement::Page {
        page: 1,
        rect: [100.0, 100.0, 80.0, 80.0],
    });
    options.signing_time = Some(now);
    let sealed =
        camr::seal::seal_with_key(p, &pdf, &sign_cert, &sign_key, &chain, &options).unwrap();
    seed("pdf_verify", "plain.pdf", &pdf);
    seed("pdf_verify", "sealed.pdf", &sealed);
    seed(
        "pdf_locate",
        "page.txt",
        &[&b"page\n"[..], &camr::seal::sample_pdf(2).unwrap()].concat(),
    );

    // QR codes of the three profiles, signed with a platform key.
    let code = SystemCode::parse("C1100005553").unwrap();
    let platform_key = provider.generate_key(KeyAlgorithm::Sm2).unwrap();
    let signer = QrSigner::new(provider.clone(), platform_key.clone(), None).unwrap();
    let fields = QrFields {
        tid: Tid::new(&code, [0x5a; 16]),
        operation: Operation::Login,
        request_uri: format!(
            "https://platform.example/camr/v1/request/{}",
            Tid::new(&code, [0x5a; 16])
        ),
        expires_at: now + 120,
    };
    let profiles: [(&str, &dyn QrProfile); 3] = [
        ("qr_camr1", &Camr1),
        ("qr_vendor1", &Vendor1),
        ("qr_interlink", &Interlink),
    ];
    for (target, profile) in profiles {
        let payload = profile.sign(&signer, &fields).unwrap();
        seed(target, "login.txt", profile.encode(&payload).as_bytes());
    }

    // A real answer: the app approves a login of a platform trusting the fixed CA.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut trust = TrustStore::new();
    trust.add(ca.root().clone());
    let validator = Arc::new(ChainValidator::new(provider.clone(), trust));
    let identity = PlatformIdentity {
        system_code: code.clone(),
        system_name: "camr fuzz platform".into(),
        request_uri_prefix: "https://platform.example/camr/v1/request/".into(),
        response_uri: "https://platform.example/camr/v1/response".into(),
    };
    let platform = Platform::new(
        provider.clone(),
        identity,
        platform_key.clone(),
        None,
        Arc::new(MemoryStore::new()),
        validator,
    )
    .unwrap();
    let started = rt.block_on(platform.start_login()).unwrap();
    let signed_request = rt
        .block_on(platform.request(&started.transaction.tid))
        .unwrap();
    let request = verify_signed_request(p, &signed_request, &platform_key.public_key()).unwrap();
    let wallet = Wallet::open(&wallet_dir, PIN).unwrap();
    let response = App::new(provider.clone(), "SOFTCA")
        .approve(&wallet, &signed_request, &request, &[])
        .unwrap();
    let json = serde_json::to_vec_pretty(&response).unwrap();
    seed(
        "response_answer",
        "login-as-is.json",
        &[&b"\x00"[..], &json].concat(),
    );
    seed(
        "response_answer",
        "login-retargeted.json",
        &[&b"\x01"[..], &json].concat(),
    );
    // Its evidence in each vendor's wire format (the clouds' encoders), the first byte naming
    // the operation as the wire targets read it (0: login).
    let evidence = response.evidence.clone().unwrap();
    let ev_json = serde_json::to_vec(&evidence).unwrap();
    let op = Operation::Login;
    let wires: [(&str, Vec<u8>); 5] = [
        (
            "wire_xjca",
            camr_xjca_wire::encode(Some(op), &evidence).unwrap(),
        ),
        (
            "wire_epoint",
            camr_epoint_wire::encode(Some(op), camr_epoint_wire::CertScope::National, &evidence)
                .unwrap(),
        ),
        (
            "wire_netca",
            netca_cloud::encode_evidence_json(&ev_json)
                .unwrap()
                .into_bytes(),
        ),
        (
            "wire_gdca",
            gdca_cloud::encode_evidence_json(&ev_json).unwrap(),
        ),
        ("wire_bjca", camr_bjca_wire::encode(op, &evidence).unwrap()),
    ];
    for (target, bytes) in wires {
        seed(target, "login.bin", &[&[0u8][..], &bytes].concat());
    }
    // The same answer as an interlink callback to the fixed key.
    let callback = seal_callback(
        p,
        &enc_cert.public_key().unwrap(),
        CallbackType::answering(Operation::Login),
        "C1100005553",
        &json,
    )
    .unwrap();
    seed(
        "interlink_callback",
        "login.json",
        &serde_json::to_vec(&callback).unwrap(),
    );
}

#[test]
fn the_committed_fuzz_seeds_get_past_the_parsers() {
    if std::env::var_os("CAMR_WRITE_FUZZ_SEEDS").is_some() {
        write_all();
    }
    let f = fixed();
    let p = f.provider.as_ref();
    for (name, data) in seeds("cms_verify") {
        let detached = name.contains("detached").then_some(DETACHED);
        envelope::verify(p, &data, detached, &f.validator, &[], f.now)
            .unwrap_or_else(|e| panic!("cms_verify/{name}: {e}"));
    }
    for (name, data) in seeds("envelope_open") {
        envelope::open(p, &data, &f.enc_cert, &f.enc_key)
            .unwrap_or_else(|e| panic!("envelope_open/{name}: {e}"));
    }
    for (name, data) in seeds("bidfile_open") {
        let key = KeySource::Wallet {
            cert: &f.enc_cert,
            key: &f.enc_key,
        };
        envelope::open_stream(p, &data[..], std::io::sink(), key, &mut |_| {})
            .unwrap_or_else(|e| panic!("bidfile_open/{name}: {e}"));
    }
    for (name, data) in seeds("cert_chain") {
        let certs =
            Certificate::parse_all(&data).unwrap_or_else(|e| panic!("cert_chain/{name}: {e}"));
        assert!(!certs.is_empty());
    }
    for (name, data) in seeds("crl") {
        Crl::parse(&data).unwrap_or_else(|e| panic!("crl/{name}: {e}"));
    }
    let sealed = seeds("pdf_verify");
    let report = camr::seal::verify(
        p,
        &sealed.iter().find(|(n, _)| n == "sealed.pdf").unwrap().1,
        Some(&f.validator),
        f.now,
    )
    .unwrap();
    assert_eq!(report.seals.len(), 1, "{report:?}");
    for (name, data) in seeds("pdf_locate") {
        let (keyword, pdf) = data.split_at(data.iter().position(|b| *b == b'\n').unwrap());
        let hits = camr::seal::locate_keyword(
            &pdf[1..],
            std::str::from_utf8(keyword).unwrap(),
            80.0,
            80.0,
        )
        .unwrap_or_else(|e| panic!("pdf_locate/{name}: {e}"));
        assert!(!hits.is_empty());
    }
    let profiles: [(&str, &dyn QrProfile); 3] = [
        ("qr_camr1", &Camr1),
        ("qr_vendor1", &Vendor1),
        ("qr_interlink", &Interlink),
    ];
    for (target, profile) in profiles {
        for (name, data) in seeds(target) {
            profile
                .parse(std::str::from_utf8(&data).unwrap())
                .unwrap_or_else(|e| panic!("{target}/{name}: {e}"));
        }
    }
    for (name, data) in seeds("response_answer") {
        serde_json::from_slice::<Response>(&data[1..])
            .unwrap_or_else(|e| panic!("response_answer/{name}: {e}"));
    }
    for (name, data) in seeds("interlink_callback") {
        let callback = serde_json::from_slice(&data).unwrap();
        let body = open_callback(p, &f.enc_key, &callback)
            .unwrap_or_else(|e| panic!("interlink_callback/{name}: {e}"));
        serde_json::from_slice::<Response>(&body).unwrap();
    }
    // Every target has seeds.
    let targets = std::fs::read_dir(fuzz_dir().join("fuzz_targets")).unwrap();
    for t in targets {
        let name = t
            .unwrap()
            .path()
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(!seeds(&name).is_empty(), "{name}");
    }
}
