//! The kit's world: a software CA the platform trusts, the holder's wallet, the app, and
//! platforms (`camr::ceremony::Platform` over a `MemoryStore`) with real, late or CRL-aware
//! validation.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use camr::app::{App, Wallet};
use camr::ceremony::{Platform, PlatformIdentity, Started, verify_signed_request};
use camr::crypto::{
    CryptoProvider, KeyAlgorithm, PublicKeyAlgorithm, Sm2CiphertextForm, default_provider,
};
use camr::pki::{ChainValidator, Crl, TrustStore};
use camr::protocol::{
    Bytes, EncryptedKeyItem, Evidence, HashAlgorithm, Operation, RequestObject, SignItem,
    SignedRequest, SystemCode,
};
use camr::softca::{Holder, RevocationReason, SoftCa};
use camr::store::MemoryStore;

use crate::config::{KitConfig, SoftCaSource};

const TEMP_PIN: &str = "tck-123456";

static LATE: AtomicI64 = AtomicI64::new(0);

fn real_clock() -> i64 {
    camr::qr::unix_now()
}

fn late_clock() -> i64 {
    LATE.load(Ordering::SeqCst)
}

/// Which platform to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Real time, no CRL.
    Normal,
    /// A clock one day past the holder's signing certificate's notAfter.
    Late,
    /// Real time, with the CA's CRL (where the kit's revoked certificate is listed).
    WithCrl,
}

/// A transaction the app has scanned.
pub struct Scanned {
    pub started: Started,
    pub signed: SignedRequest,
    pub request: RequestObject,
    /// For decrypt: the content key the platform expects back.
    pub cek: Option<Vec<u8>>,
}

/// The kit's world.
pub struct World {
    _temp: tempfile::TempDir,
    pub provider: Arc<dyn CryptoProvider>,
    pub ca_dir: PathBuf,
    pub wallet_dir: PathBuf,
    pub pin: String,
    pub wallet: Wallet,
    pub revoked_wallet: Wallet,
    pub app: App,
    pub store: Arc<MemoryStore>,
    normal: Platform,
    late: Platform,
    with_crl: Platform,
    rt: tokio::runtime::Runtime,
}

fn holder_org() -> Holder {
    Holder::org("张三", "某某建设有限公司", "91350100M000100Y43")
}

fn platform(
    provider: &Arc<dyn CryptoProvider>,
    store: Arc<MemoryStore>,
    validator: ChainValidator,
    clock: fn() -> i64,
) -> Result<Platform, String> {
    let identity = PlatformIdentity {
        system_code: SystemCode::parse("C1100005553").map_err(|e| e.to_string())?,
        system_name: "camr-tck 互认测试平台".into(),
        request_uri_prefix: "https://tck.invalid/camr/v1/request/".into(),
        response_uri: "https://tck.invalid/camr/v1/response".into(),
    };
    let key = provider
        .generate_key(KeyAlgorithm::Sm2)
        .map_err(|e| e.to_string())?;
    Ok(Platform::new(
        provider.clone(),
        identity,
        key,
        None,
        store,
        Arc::new(validator),
    )
    .map_err(|e| e.to_string())?
    .with_clock(clock))
}

impl World {
    /// Builds the world from the configuration; `vendor` is the adapter's `caOrgType` (the app
    /// answers in its name).
    pub fn new(config: &KitConfig, vendor: &str) -> Result<Self, String> {
        let provider = default_provider();
        let temp = tempfile::Builder::new()
            .prefix("camr-tck-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
        let (mut ca, ca_dir, wallet_dir, pin) = match &config.softca {
            SoftCaSource::Temp(_) => {
                let ca_dir = temp.path().join("ca");
                let mut ca =
                    SoftCa::init(provider.clone(), &ca_dir, KeyAlgorithm::Sm2, "camr-tck CA")
                        .map_err(|e| format!("cannot create the temporary CA: {e}"))?;
                let wallet_dir = temp.path().join("wallet");
                ca.issue(&holder_org(), TEMP_PIN.as_bytes(), &wallet_dir, 30)
                    .map_err(|e| format!("cannot issue the test wallet: {e}"))?;
                (ca, ca_dir, wallet_dir, TEMP_PIN.to_string())
            }
            SoftCaSource::Dirs {
                ca_dir,
                wallet_dir,
                pin,
            } => {
                let ca = SoftCa::open(provider.clone(), ca_dir)
                    .map_err(|e| format!("cannot open the CA {}: {e}", ca_dir.display()))?;
                (ca, ca_dir.clone(), wallet_dir.clone(), pin.clone())
            }
        };
        let wallet = Wallet::open(&wallet_dir, pin.as_bytes())
            .map_err(|e| format!("cannot open the wallet {}: {e}", wallet_dir.display()))?;
        // A second holder whose signing certificate the kit revokes.
        let revoked_dir = temp.path().join("revoked-wallet");
        let holder = Holder::personal("李四");
        let issued = ca
            .issue(&holder, TEMP_PIN.as_bytes(), &revoked_dir, 30)
            .map_err(|e| format!("cannot issue the certificate to revoke: {e}"))?;
        let now = real_clock();
        ca.revoke(
            &issued.sign_serial,
            RevocationReason::KeyCompromise,
            now - 60,
        )
        .map_err(|e| format!("cannot revoke: {e}"))?;
        let crl: Crl = ca
            .crl(now - 30)
            .map_err(|e| format!("cannot make a CRL: {e}"))?;
        let revoked_wallet = Wallet::open(&revoked_dir, TEMP_PIN.as_bytes())
            .map_err(|e| format!("cannot open the revoked wallet: {e}"))?;

        LATE.store(wallet.sign_cert.validity().1 + 86_400, Ordering::SeqCst);
        let mut trust = TrustStore::new();
        trust.add(ca.root().clone());
        let store = Arc::new(MemoryStore::new());
        let normal = platform(
            &provider,
            store.clone(),
            ChainValidator::new(provider.clone(), trust.clone()),
            real_clock,
        )?;
        let late = platform(
            &provider,
            store.clone(),
            ChainValidator::new(provider.clone(), trust.clone()),
            late_clock,
        )?;
        let with_crl = platform(
            &provider,
            store.clone(),
            ChainValidator::new(provider.clone(), trust).with_crls(vec![crl]),
            real_clock,
        )?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))?;
        Ok(Self {
            _temp: temp,
            app: App::new(provider.clone(), vendor),
            provider,
            ca_dir,
            wallet_dir,
            pin,
            wallet,
            revoked_wallet,
            store,
            normal,
            late,
            with_crl,
            rt,
        })
    }

    pub fn platform(&self, which: Which) -> &Platform {
        match which {
            Which::Normal => &self.normal,
            Which::Late => &self.late,
            Which::WithCrl => &self.with_crl,
        }
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Starts a transaction of `op` and has the app fetch and check its request.
    pub fn scan(&self, which: Which, op: Operation) -> Result<Scanned, String> {
        let p = self.platform(which);
        let mut cek = None;
        let started = match op {
            Operation::Login => self.block_on(p.start_login()),
            Operation::MessageSignature => {
                self.block_on(p.start_message_signature("camr-tck: 投标报价 100 万元"))
            }
            Operation::Signature => {
                let mut hash = vec![0u8; 32];
                self.provider
                    .fill_random(&mut hash)
                    .map_err(|e| e.to_string())?;
                self.block_on(p.start_sign(vec![SignItem::hash(
                    "doc-1",
                    "投标文件.pdf",
                    hash,
                    HashAlgorithm::Sm3,
                )]))
            }
            Operation::RevokeSignature => {
                self.block_on(p.start_revoke_signature("seal-1", "投标文件.pdf", Some("camr-tck")))
            }
            Operation::Encrypt => self.block_on(p.start_encrypt()),
            Operation::Decrypt => {
                let mut key = vec![0u8; 16];
                self.provider
                    .fill_random(&mut key)
                    .map_err(|e| e.to_string())?;
                let public = self
                    .wallet
                    .enc_cert
                    .public_key()
                    .map_err(|e| e.to_string())?;
                let encrypted = match public.algorithm() {
                    PublicKeyAlgorithm::Sm2 => {
                        self.provider
                            .sm2_encrypt(&public, &key, Sm2CiphertextForm::Asn1)
                    }
                    _ => self.provider.rsa_oaep_encrypt(&public, &key),
                }
                .map_err(|e| e.to_string())?;
                cek = Some(key);
                self.block_on(p.start_decrypt(vec![EncryptedKeyItem {
                    id: "envelope-1".into(),
                    recipient_cert_sn: self.wallet.enc_cert.serial_hex(),
                    encrypted_key: Bytes(encrypted),
                }]))
            }
        }
        .map_err(|e| format!("cannot start a {op}: {e}"))?;
        let signed = self
            .block_on(p.request(&started.transaction.tid))
            .map_err(|e| format!("cannot fetch the request: {e}"))?;
        let request = verify_signed_request(self.provider.as_ref(), &signed, &p.public_key())
            .map_err(|e| format!("the app refuses the request: {e}"))?;
        Ok(Scanned {
            started,
            signed,
            request,
            cek,
        })
    }

    /// Checks the verified result of a round trip.
    pub fn finish(&self, which: Which, op: Operation, scanned: &Scanned) -> Result<String, String> {
        let p = self.platform(which);
        let tid = &scanned.started.transaction.tid;
        let sn = self.wallet.sign_cert.serial_hex();
        let e = |e: camr::ceremony::CeremonyError| format!("finish: {}: {e}", e.code().as_str());
        match op {
            Operation::Login => {
                let r = self.block_on(p.finish_login(tid)).map_err(e)?;
                if r.subject.cert_sn != sn {
                    return Err(format!(
                        "login verified for {} instead of {sn}",
                        r.subject.cert_sn
                    ));
                }
                Ok(format!(
                    "verified login of {} ({})",
                    r.subject.name, r.subject.cert_sn
                ))
            }
            Operation::MessageSignature => {
                let r = self.block_on(p.finish_message_signature(tid)).map_err(e)?;
                Ok(format!("verified message signature by {}", r.subject.name))
            }
            Operation::Signature => {
                let r = self.block_on(p.finish_sign(tid)).map_err(e)?;
                if r.signed.len() != 1 {
                    return Err(format!("{} items signed instead of 1", r.signed.len()));
                }
                Ok("verified 1 signed item".into())
            }
            Operation::RevokeSignature => {
                let r = self.block_on(p.finish_revoke_signature(tid)).map_err(e)?;
                Ok(format!("verified revocation of {}", r.seal_id))
            }
            Operation::Encrypt => {
                let r = self.block_on(p.finish_encrypt(tid)).map_err(e)?;
                if r.encryption_certificate.as_ref() != self.wallet.enc_cert.der() {
                    return Err("another encryption certificate came back".into());
                }
                Ok("verified the encryption certificate".into())
            }
            Operation::Decrypt => {
                let keys = self.block_on(p.finish_decrypt(tid)).map_err(e)?;
                let want = scanned.cek.as_deref().unwrap_or_default();
                match keys.first() {
                    Some((_, k)) if k.as_slice() == want => Ok("the content key came back".into()),
                    _ => Err("the decrypted content key differs".into()),
                }
            }
        }
    }

    /// A wallet whose signing certificate and key are the encryption ones.
    pub fn swapped_wallet(&self) -> Wallet {
        let mut w = self.wallet.clone();
        w.sign_cert = self.wallet.enc_cert.clone();
        w.sign_key = self.wallet.enc_key.clone();
        w
    }

    /// Variables for `${...}` in the adapter configuration.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("walletDir", path_text(&self.wallet_dir)),
            ("caDir", path_text(&self.ca_dir)),
            ("pin", self.pin.clone()),
        ]
    }
}

fn path_text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The evidence of an app answer, for convenience.
pub fn evidence_of(r: &camr::protocol::Response) -> Result<Evidence, String> {
    r.evidence
        .clone()
        .ok_or_else(|| "the app's answer has no evidence".into())
}
