//! What every command group shares: the failure type and exit status, bounded file reads,
//! keys, wallets, trust stores and the human-or-JSON output.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use camr::crypto::{CryptoProvider, PrivateKey, PublicKey};
use camr::protocol::ErrorCode;

/// Largest key, signature or ciphertext file read, in bytes.
pub(crate) const MAX_SMALL_FILE: u64 = 1024 * 1024;
/// Largest file signed, verified or hashed, in bytes.
pub(crate) const MAX_DATA_FILE: u64 = 1024 * 1024 * 1024;

/// A failure: the stable code, the sentence, and the exit status.
pub(crate) struct Failure {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    pub(crate) exit: u8,
}

impl From<camr::Error> for Failure {
    fn from(e: camr::Error) -> Self {
        let code = e.code();
        let exit = match code {
            ErrorCode::SignatureInvalid
            | ErrorCode::DecryptionFailed
            | ErrorCode::QrExpired
            | ErrorCode::QrSignatureInvalid
            | ErrorCode::QrStepStale
            | ErrorCode::CertExpired
            | ErrorCode::CertNotYetValid
            | ErrorCode::CertRevoked
            | ErrorCode::CertFrozen
            | ErrorCode::CertUntrusted
            | ErrorCode::CertWrongUsage
            | ErrorCode::CertRevocationUnknown
            | ErrorCode::CertPathBudgetExceeded => 1,
            _ => 2,
        };
        Self {
            code,
            message: e.to_string(),
            exit,
        }
    }
}

impl From<camr::crypto::CryptoError> for Failure {
    fn from(e: camr::crypto::CryptoError) -> Self {
        camr::Error::from(e).into()
    }
}

impl From<camr::qr::QrError> for Failure {
    fn from(e: camr::qr::QrError) -> Self {
        camr::Error::from(e).into()
    }
}

impl From<camr::protocol::ProtocolError> for Failure {
    fn from(e: camr::protocol::ProtocolError) -> Self {
        camr::Error::from(e).into()
    }
}

pub(crate) fn input_error(message: impl Into<String>) -> Failure {
    Failure {
        code: ErrorCode::InputMalformed,
        message: message.into(),
        exit: 2,
    }
}

pub(crate) type CliResult<T = ()> = Result<T, Failure>;

pub(crate) struct WalletFiles {
    pub(crate) cert: camr::pki::Certificate,
    pub(crate) key: PrivateKey,
    pub(crate) chain: Vec<camr::pki::Certificate>,
}

pub(crate) fn load_wallet(dir: &Path, pin: Option<&str>, sign: bool) -> CliResult<WalletFiles> {
    use camr::softca::wallet_files as wf;
    let cert_err = |e: camr::pki::CertError| Failure::from(camr::Error::from(e));
    let (cert_file, key_file) = if sign {
        (wf::SIGN_CERT, wf::SIGN_KEY)
    } else {
        (wf::ENC_CERT, wf::ENC_KEY)
    };
    let cert = camr::pki::Certificate::parse_one(&read_file(
        &dir.join(cert_file),
        MAX_SMALL_FILE,
        "certificate",
    )?)
    .map_err(cert_err)?;
    let chain_path = dir.join(wf::CHAIN);
    let chain = if chain_path.exists() {
        camr::pki::Certificate::parse_all(&read_file(&chain_path, MAX_SMALL_FILE, "chain")?)
            .map_err(cert_err)?
    } else {
        Vec::new()
    };
    let pin = match pin {
        Some(p) => zeroize::Zeroizing::new(p.as_bytes().to_vec()),
        None => ask_pin()?,
    };
    let key_pem = zeroize::Zeroizing::new(read_file(&dir.join(key_file), MAX_SMALL_FILE, "key")?);
    let key = PrivateKey::from_bytes(&key_pem, Some(&pin))?;
    Ok(WalletFiles { cert, key, chain })
}

/// Reads every certificate of the given PEM bundles, in order (intermediates).
pub(crate) fn read_chain(paths: &[PathBuf]) -> CliResult<Vec<camr::pki::Certificate>> {
    let mut chain = Vec::new();
    for path in paths {
        chain.extend(
            camr::pki::Certificate::parse_all(&read_file(path, MAX_SMALL_FILE, "chain")?)
                .map_err(|e| Failure::from(camr::Error::from(e)))?,
        );
    }
    Ok(chain)
}

pub(crate) fn build_validator(
    provider: &Arc<dyn CryptoProvider>,
    trust: &Path,
    crl: &[PathBuf],
    require_crl: bool,
) -> CliResult<camr::pki::ChainValidator> {
    use camr::pki::{ChainValidator, Crl, RevocationPolicy, TrustStore};
    let cert_err = |e: camr::pki::CertError| Failure::from(camr::Error::from(e));
    let store = if trust.is_dir() {
        TrustStore::from_dir(trust).map_err(cert_err)?
    } else {
        TrustStore::from_pem_bundle(&read_file(trust, MAX_SMALL_FILE, "trust")?)
            .map_err(cert_err)?
    };
    let mut crls = Vec::new();
    for path in crl {
        crls.push(Crl::parse(&read_file(path, 64 * MAX_SMALL_FILE, "CRL")?).map_err(cert_err)?);
    }
    let policy = if require_crl {
        RevocationPolicy::Require
    } else {
        RevocationPolicy::BestEffort
    };
    Ok(ChainValidator::new(provider.clone(), store)
        .with_crls(crls)
        .with_policy(policy))
}

pub(crate) fn ask_pin() -> CliResult<zeroize::Zeroizing<Vec<u8>>> {
    use std::io::BufRead;
    eprint!("PIN for the wallet keys: ");
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| input_error(format!("cannot read the PIN: {e}")))?;
    let pin = line.trim_end_matches(['\r', '\n']);
    if pin.is_empty() {
        return Err(input_error(
            "no PIN given (use --pin or type it at the prompt)",
        ));
    }
    Ok(zeroize::Zeroizing::new(pin.as_bytes().to_vec()))
}

pub(crate) fn emit(json_out: bool, value: serde_json::Value, human: impl FnOnce() -> String) {
    if json_out {
        println!("{value}");
    } else {
        eprintln!("{}", human());
    }
}

pub(crate) fn read_file(path: &Path, max: u64, what: &str) -> CliResult<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| {
        input_error(format!(
            "cannot read the {what} file {}: {e}",
            path.display()
        ))
    })?;
    if meta.len() > max {
        return Err(input_error(format!(
            "the {what} file {} is {} bytes, more than the {max} accepted",
            path.display(),
            meta.len()
        )));
    }
    std::fs::read(path).map_err(|e| {
        input_error(format!(
            "cannot read the {what} file {}: {e}",
            path.display()
        ))
    })
}

pub(crate) fn read_password(path: &Path) -> CliResult<zeroize::Zeroizing<Vec<u8>>> {
    let raw = zeroize::Zeroizing::new(read_file(path, 4096, "password")?);
    let line = raw.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Err(input_error(format!(
            "the password file {} is empty",
            path.display()
        )));
    }
    Ok(zeroize::Zeroizing::new(line.to_vec()))
}

pub(crate) fn load_private_key(path: &Path, password_file: Option<&Path>) -> CliResult<PrivateKey> {
    let data = zeroize::Zeroizing::new(read_file(path, MAX_SMALL_FILE, "key")?);
    let password = password_file.map(read_password).transpose()?;
    Ok(PrivateKey::from_bytes(
        &data,
        password.as_ref().map(|p| p.as_slice()),
    )?)
}

pub(crate) fn load_public_key(path: &Path) -> CliResult<PublicKey> {
    let data = read_file(path, MAX_SMALL_FILE, "public key")?;
    Ok(PublicKey::from_bytes(&data)?)
}

pub(crate) fn write_file(path: &Path, data: &[u8], secret: bool) -> CliResult {
    let fail = |e: std::io::Error| input_error(format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = secret;
    let mut f = options.open(path).map_err(fail)?;
    f.write_all(data).map_err(fail)?;
    Ok(())
}
