//! Fixtures shared by the fuzz targets: a fixed software CA and wallet (committed under
//! `fuzz/fixtures/`, made by `fuzz/make-seeds.sh`), a fixed clock inside their validity, a
//! platform on a memory store, and a runtime for the async parts. Everything is built once
//! per process; a crash reproduces from its input alone.

use std::sync::{Arc, OnceLock};

use camr::crypto::{CryptoProvider, PrivateKey, default_provider};
use camr::pki::{Certificate, ChainValidator, Crl, TrustStore};

/// The fixed CA's root certificate (PEM).
pub const ROOT_PEM: &[u8] = include_bytes!("../fixtures/root.pem");
/// Its issuing CA.
pub const ISSUING_PEM: &[u8] = include_bytes!("../fixtures/issuing.pem");
/// The wallet's encryption certificate and key (PIN `123456`).
pub const ENC_CERT_PEM: &[u8] = include_bytes!("../fixtures/enc-cert.pem");
/// The wallet's encrypted encryption key.
pub const ENC_KEY_PEM: &[u8] = include_bytes!("../fixtures/enc-key.pem");
/// The CA's CRL (DER).
pub const CRL_DER: &[u8] = include_bytes!("../fixtures/ca.crl");
/// The wallet PIN.
pub const PIN: &[u8] = b"123456";

/// Everything a target may need, made once.
pub struct Fixture {
    pub provider: Arc<dyn CryptoProvider>,
    pub root: Certificate,
    pub issuing: Certificate,
    pub enc_cert: Certificate,
    pub enc_key: PrivateKey,
    /// A validator trusting the root, with the CA's CRL.
    pub validator: Arc<ChainValidator>,
    /// The fixed clock: a day after the wallet's certificates start.
    pub now: i64,
}

/// The process's fixture.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let provider = default_provider();
        let root = Certificate::parse_one(ROOT_PEM).expect("fixtures/root.pem");
        let issuing = Certificate::parse_one(ISSUING_PEM).expect("fixtures/issuing.pem");
        let enc_cert = Certificate::parse_one(ENC_CERT_PEM).expect("fixtures/enc-cert.pem");
        let enc_key = PrivateKey::from_bytes(ENC_KEY_PEM, Some(PIN)).expect("fixtures/enc-key.pem");
        let crl = Crl::parse(CRL_DER).expect("fixtures/ca.crl");
        let mut trust = TrustStore::new();
        trust.add(root.clone());
        let validator = Arc::new(ChainValidator::new(provider.clone(), trust).with_crls(vec![crl]));
        let now = enc_cert.validity().0 + 86_400;
        Fixture {
            provider,
            root,
            issuing,
            enc_cert,
            enc_key,
            validator,
            now,
        }
    })
}

/// A current-thread runtime for the async calls.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static R: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    R.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    })
}

/// The fixed clock as a `fn` (what `Platform::with_clock` takes).
pub fn fixed_now() -> i64 {
    fixture().now
}
