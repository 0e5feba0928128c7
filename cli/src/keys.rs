//! `camr key`, `sign`, `verify`, `encrypt`, `decrypt`: keys and the raw public-key operations.

use std::path::PathBuf;
use std::sync::Arc;

use camr::crypto::{CryptoProvider, KeyAlgorithm, SignatureScheme, Sm2CiphertextForm};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use crate::common::{
    CliResult, MAX_DATA_FILE, MAX_SMALL_FILE, emit, input_error, load_private_key, load_public_key,
    read_file, read_password, write_file,
};

#[derive(Subcommand, Debug)]
pub(crate) enum KeyCommand {
    /// Generate a private key (PKCS#8 PEM; encrypted when a password file is given).
    Gen {
        /// Key algorithm.
        #[arg(long, value_enum)]
        alg: KeyAlgArg,
        /// Where to write the private key.
        #[arg(long)]
        out: PathBuf,
        /// Encrypt the key with the password in this file (first line).
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Write the public key (SPKI PEM) of a private key.
    Pub {
        /// The private key (PEM or DER PKCS#8).
        #[arg(long = "in")]
        input: PathBuf,
        /// Where to write the public key.
        #[arg(long)]
        out: PathBuf,
        /// Password file of an encrypted key.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum KeyAlgArg {
    Sm2,
    P256,
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl From<KeyAlgArg> for KeyAlgorithm {
    fn from(a: KeyAlgArg) -> Self {
        match a {
            KeyAlgArg::Sm2 => Self::Sm2,
            KeyAlgArg::P256 => Self::P256,
            KeyAlgArg::Rsa2048 => Self::Rsa2048,
            KeyAlgArg::Rsa3072 => Self::Rsa3072,
            KeyAlgArg::Rsa4096 => Self::Rsa4096,
        }
    }
}

#[derive(Args, Debug)]
pub(crate) struct SchemeArgs {
    /// SM2 signer ID (default 1234567812345678).
    #[arg(long)]
    id: Option<String>,
    /// For RSA keys: RSASSA-PSS (SHA-256, salt 32) instead of PKCS#1 v1.5.
    #[arg(long)]
    pss: bool,
}

#[derive(Args, Debug)]
pub(crate) struct SignArgs {
    /// Private key (PEM or DER PKCS#8).
    #[arg(long)]
    key: PathBuf,
    /// File to sign.
    #[arg(long = "in")]
    input: PathBuf,
    /// Where to write the DER signature.
    #[arg(long)]
    out: PathBuf,
    /// Password file of an encrypted key.
    #[arg(long)]
    password_file: Option<PathBuf>,
    #[command(flatten)]
    scheme: SchemeArgs,
}

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// Public key (SPKI PEM or DER).
    #[arg(long = "pub")]
    public: PathBuf,
    /// The signed file.
    #[arg(long = "in")]
    input: PathBuf,
    /// The signature (DER for SM2/ECDSA, raw for RSA).
    #[arg(long)]
    sig: PathBuf,
    #[command(flatten)]
    scheme: SchemeArgs,
}

#[derive(Args, Debug)]
pub(crate) struct EncryptArgs {
    /// SM2 public key (SPKI PEM or DER).
    #[arg(long = "pub")]
    public: PathBuf,
    /// File to encrypt.
    #[arg(long = "in")]
    input: PathBuf,
    /// Where to write the ciphertext.
    #[arg(long)]
    out: PathBuf,
    /// Write raw 04‖C1‖C3‖C2 instead of ASN.1.
    #[arg(long)]
    raw: bool,
}

#[derive(Args, Debug)]
pub(crate) struct DecryptArgs {
    /// SM2 private key.
    #[arg(long)]
    key: PathBuf,
    /// The ciphertext.
    #[arg(long = "in")]
    input: PathBuf,
    /// Where to write the plaintext.
    #[arg(long)]
    out: PathBuf,
    /// Read raw 04‖C1‖C3‖C2 instead of ASN.1.
    #[arg(long)]
    raw: bool,
    /// Password file of an encrypted key.
    #[arg(long)]
    password_file: Option<PathBuf>,
}

fn scheme_for(
    algorithm: camr::crypto::PublicKeyAlgorithm,
    args: &SchemeArgs,
) -> CliResult<SignatureScheme> {
    use camr::crypto::PublicKeyAlgorithm as A;
    match (algorithm, &args.id, args.pss) {
        (A::Sm2, id, false) => Ok(match id {
            Some(id) => SignatureScheme::Sm2Sm3 {
                signer_id: id.clone(),
            },
            None => SignatureScheme::sm2(),
        }),
        (A::Rsa, None, true) => Ok(SignatureScheme::RsaPssSha256),
        (alg, None, false) => Ok(SignatureScheme::default_for(alg)),
        (_, Some(_), _) => Err(input_error("--id applies to SM2 keys only")),
        (_, _, true) => Err(input_error("--pss applies to RSA keys only")),
    }
}

/// `camr key gen|pub`.
pub(crate) fn key(json_out: bool, provider: &Arc<dyn CryptoProvider>, c: &KeyCommand) -> CliResult {
    match c {
        KeyCommand::Gen {
            alg,
            out,
            password_file,
        } => {
            let key = provider.generate_key((*alg).into())?;
            let pem = match password_file {
                Some(f) => key.to_encrypted_pkcs8_pem(&read_password(f)?)?,
                None => key.to_pkcs8_pem()?,
            };
            write_file(out, pem.as_bytes(), true)?;
            let spki = key.public_key().to_spki_pem()?;
            emit(
                json_out,
                json!({"algorithm": key.algorithm(), "out": out, "encrypted": password_file.is_some(), "publicKey": spki}),
                || {
                    format!(
                        "wrote {} private key to {}",
                        format!("{:?}", alg).to_lowercase(),
                        out.display()
                    )
                },
            );
            Ok(())
        }
        KeyCommand::Pub {
            input,
            out,
            password_file,
        } => {
            let key = load_private_key(input, password_file.as_deref())?;
            let pem = key.public_key().to_spki_pem()?;
            write_file(out, pem.as_bytes(), false)?;
            emit(
                json_out,
                json!({"algorithm": key.algorithm(), "out": out}),
                || format!("wrote public key to {}", out.display()),
            );
            Ok(())
        }
    }
}

/// `camr sign`.
pub(crate) fn sign(json_out: bool, provider: &Arc<dyn CryptoProvider>, a: &SignArgs) -> CliResult {
    let key = load_private_key(&a.key, a.password_file.as_deref())?;
    let scheme = scheme_for(key.algorithm(), &a.scheme)?;
    let data = read_file(&a.input, MAX_DATA_FILE, "input")?;
    let sig = provider.sign(&key, &scheme, &data)?;
    write_file(&a.out, &sig, false)?;
    emit(
        json_out,
        json!({"scheme": scheme.name(), "signatureLength": sig.len(), "out": a.out}),
        || format!("{} signature written to {}", scheme.name(), a.out.display()),
    );
    Ok(())
}

/// `camr verify`: exit 0 valid, 1 invalid.
pub(crate) fn verify(
    json_out: bool,
    provider: &Arc<dyn CryptoProvider>,
    a: &VerifyArgs,
) -> CliResult {
    let key = load_public_key(&a.public)?;
    let scheme = scheme_for(key.algorithm(), &a.scheme)?;
    let data = read_file(&a.input, MAX_DATA_FILE, "input")?;
    let sig = read_file(&a.sig, MAX_SMALL_FILE, "signature")?;
    provider.verify(&key, &scheme, &data, &sig)?;
    emit(
        json_out,
        json!({"valid": true, "scheme": scheme.name()}),
        || format!("signature OK ({})", scheme.name()),
    );
    Ok(())
}

fn ciphertext_form(raw: bool) -> Sm2CiphertextForm {
    if raw {
        Sm2CiphertextForm::Raw
    } else {
        Sm2CiphertextForm::Asn1
    }
}

/// `camr encrypt`: SM2 public-key encryption.
pub(crate) fn encrypt(
    json_out: bool,
    provider: &Arc<dyn CryptoProvider>,
    a: &EncryptArgs,
) -> CliResult {
    let key = load_public_key(&a.public)?;
    let data = read_file(&a.input, MAX_SMALL_FILE, "input")?;
    let ct = provider.sm2_encrypt(&key, &data, ciphertext_form(a.raw))?;
    write_file(&a.out, &ct, false)?;
    emit(
        json_out,
        json!({"ciphertextLength": ct.len(), "out": a.out}),
        || format!("SM2 ciphertext written to {}", a.out.display()),
    );
    Ok(())
}

/// `camr decrypt`: SM2 decryption; the plaintext file is written owner-only.
pub(crate) fn decrypt(
    json_out: bool,
    provider: &Arc<dyn CryptoProvider>,
    a: &DecryptArgs,
) -> CliResult {
    let key = load_private_key(&a.key, a.password_file.as_deref())?;
    let data = read_file(&a.input, MAX_SMALL_FILE, "ciphertext")?;
    let pt = provider.sm2_decrypt(&key, &data, ciphertext_form(a.raw))?;
    write_file(&a.out, &pt, true)?;
    emit(
        json_out,
        json!({"plaintextLength": pt.len(), "out": a.out}),
        || format!("plaintext written to {}", a.out.display()),
    );
    Ok(())
}
