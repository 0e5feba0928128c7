//! The demo platform's files under `--data`: a software CA (`ca/`, SM2), a demo wallet
//! (`wallet/`, PIN `123456`, an organisation certificate for 张三 / 某某建设有限公司), and the
//! platform's QR/request signing key (`platform-key.pem`, with its public key next to it in
//! `platform-pub.pem` for `camr-app --platform-key`). Everything is created only when missing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use camr::crypto::{CryptoProvider, KeyAlgorithm, PrivateKey};
use camr::softca::{Holder, SoftCa, USER_VALIDITY_DAYS, wallet_files};

use crate::ServerError;

/// PIN of the demo wallet.
pub const DEMO_PIN: &str = "123456";

/// What [`ensure`] found or made.
#[derive(Debug)]
pub struct DemoData {
    /// The software CA the platform trusts.
    pub ca: SoftCa,
    /// The demo wallet folder.
    pub wallet_dir: PathBuf,
    /// The platform's signing key.
    pub platform_key: PrivateKey,
    /// Where its public key (SPKI PEM) was written.
    pub platform_pub_path: PathBuf,
}

fn err(what: &str, e: impl std::fmt::Display) -> ServerError {
    ServerError(format!("{what}: {e}"))
}

/// The demo holder.
pub fn demo_holder() -> Holder {
    Holder::org("张三", "某某建设有限公司", "91350100M000100Y43")
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

/// Opens or creates the demo CA, wallet and platform key under `data`.
pub fn ensure(provider: &Arc<dyn CryptoProvider>, data: &Path) -> Result<DemoData, ServerError> {
    std::fs::create_dir_all(data).map_err(|e| err(&data.display().to_string(), e))?;
    let ca_dir = data.join("ca");
    let mut ca = match SoftCa::open(provider.clone(), &ca_dir) {
        Ok(ca) => ca,
        Err(_) if is_empty_dir(&ca_dir) => {
            tracing::info!(dir = %ca_dir.display(), "creating the demo software CA (SM2)");
            SoftCa::init(provider.clone(), &ca_dir, KeyAlgorithm::Sm2, "camr Demo CA")
                .map_err(|e| err("cannot create the demo CA", e))?
        }
        Err(e) => {
            return Err(err(
                &format!("cannot open the CA in {}", ca_dir.display()),
                e,
            ));
        }
    };
    let wallet_dir = data.join("wallet");
    if !wallet_dir.join(wallet_files::SIGN_CERT).exists() {
        tracing::info!(dir = %wallet_dir.display(), "issuing the demo wallet (PIN {DEMO_PIN})");
        ca.issue(
            &demo_holder(),
            DEMO_PIN.as_bytes(),
            &wallet_dir,
            USER_VALIDITY_DAYS,
        )
        .map_err(|e| err("cannot issue the demo wallet", e))?;
    }
    let key_path = data.join("platform-key.pem");
    let platform_key = if key_path.exists() {
        let text = std::fs::read_to_string(&key_path)
            .map_err(|e| err(&key_path.display().to_string(), e))?;
        PrivateKey::from_pem(&text, None).map_err(|e| err(&key_path.display().to_string(), e))?
    } else {
        tracing::info!(path = %key_path.display(), "creating the platform signing key (SM2)");
        let key = provider
            .generate_key(KeyAlgorithm::Sm2)
            .map_err(|e| err("cannot generate the platform key", e))?;
        let pem = key
            .to_pkcs8_pem()
            .map_err(|e| err("cannot encode the platform key", e))?;
        write_secret(&key_path, pem.as_bytes())?;
        key
    };
    let platform_pub_path = data.join("platform-pub.pem");
    let pub_pem = platform_key
        .public_key()
        .to_spki_pem()
        .map_err(|e| err("cannot encode the platform public key", e))?;
    std::fs::write(&platform_pub_path, pub_pem)
        .map_err(|e| err(&platform_pub_path.display().to_string(), e))?;
    Ok(DemoData {
        ca,
        wallet_dir,
        platform_key,
        platform_pub_path,
    })
}

/// Writes a secret file that must not exist yet, readable by the owner only.
pub(crate) fn write_secret(path: &Path, data: &[u8]) -> Result<(), ServerError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .map_err(|e| err(&path.display().to_string(), e))?;
    f.write_all(data)
        .map_err(|e| err(&path.display().to_string(), e))
}
