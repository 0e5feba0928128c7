//! `camr` — the command line of the camr SDK, for people and scripts.
//!
//! Exit status: 0 success, 1 verification failed, 2 usage or bad input. Errors go to stderr
//! as one line, `error: <ERROR_CODE>: <sentence>`; with `--json`, results go to stdout as JSON.
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use camr::crypto::{
    CryptoProvider, HashAlgorithm, KeyAlgorithm, PrivateKey, PublicKey, SignatureScheme,
    Sm2CiphertextForm, default_provider,
};
use camr::protocol::{ErrorCode, Operation, SystemCode, Tid};
use camr::qr::{self, QrFields, QrSigner, VerifyOptions};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;

mod audit_checkpoint;

/// Largest key, signature or ciphertext file read, in bytes.
const MAX_SMALL_FILE: u64 = 1024 * 1024;
/// Largest file signed, verified or hashed, in bytes.
const MAX_DATA_FILE: u64 = 1024 * 1024 * 1024;

#[derive(Parser, Debug)]
#[command(
    name = "camr",
    version,
    about = "National CA mutual recognition (全国 CA 互认): keys, SM2/RSA/P-256 signatures, SM2 encryption, digests, interop QR codes",
    after_help = "Exit status: 0 success, 1 verification failed, 2 usage or bad input."
)]
struct Cli {
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate keys and extract public keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Sign a file (SM2 with SM3 and a signer ID; P-256 and RSA with SHA-256).
    Sign(SignArgs),
    /// Verify a signature over a file.
    Verify(VerifyArgs),
    /// Encrypt a (small) file to an SM2 public key (ASN.1 C1C3C2, GM/T 0009).
    Encrypt(EncryptArgs),
    /// Decrypt an SM2 ciphertext.
    Decrypt(DecryptArgs),
    /// Hash a file with SM3 or SHA-256.
    Digest(DigestArgs),
    /// Make and verify national interop QR codes (payload `camr1`).
    #[command(subcommand)]
    Qr(QrCommand),
    /// Write one JSON Schema per wire type into a folder.
    Schema(SchemaArgs),
    /// The reference software CA: init, issue dual certificates, revoke, CRL.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Certificates: validate a chain for a purpose.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Signed messages: GM/T 0010 SignedData (SM2) or CMS (RSA/ECDSA).
    #[command(subcommand)]
    Cms(CmsCommand),
    /// Digital envelopes and bid files (投标文件): seal to encryption certificates, open with a wallet.
    #[command(subcommand)]
    Envelope(EnvelopeCommand),
    /// The signed trust list of platforms and CA vendors.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// The hash-chained audit log of a platform's store, and signed checkpoints of its head.
    #[command(subcommand)]
    Audit(audit_checkpoint::AuditCommand),
    /// Document seals (签章) on PDF files: seal with a wallet, verify every seal.
    #[command(subcommand)]
    Pdf(PdfCommand),
}

#[derive(Subcommand, Debug)]
enum PdfCommand {
    /// Seal a PDF with a wallet's signing certificate (an incremental update: earlier seals stay valid).
    #[command(group(clap::ArgGroup::new("place").required(true).args(["page", "every_page", "straddle", "keyword"])))]
    Seal {
        /// The PDF to seal.
        #[arg(long = "in")]
        input: PathBuf,
        /// Where to write the sealed PDF.
        #[arg(long)]
        out: PathBuf,
        /// Wallet folder (sign-cert.pem, sign-key.pem, chain.pem).
        #[arg(long)]
        wallet: PathBuf,
        /// PIN of the wallet keys (asked for when absent).
        #[arg(long)]
        pin: Option<String>,
        /// Page number (1-based) of the seal.
        #[arg(long, requires_all = ["x", "y"])]
        page: Option<u32>,
        /// The seal on every page (one signature, a widget per page).
        #[arg(long)]
        every_page: bool,
        /// Straddle seal (骑缝章) across the right edges of pages FROM-TO (e.g. 1-5); --y
        /// sets its bottom edge (default 100).
        #[arg(long, value_name = "FROM-TO")]
        straddle: Option<String>,
        /// The seal centred on every occurrence of this text (关键字签章).
        #[arg(long)]
        keyword: Option<String>,
        /// Left edge of the seal, points from the page's lower-left corner.
        #[arg(long, allow_negative_numbers = true)]
        x: Option<f32>,
        /// Bottom edge of the seal, points.
        #[arg(long, allow_negative_numbers = true)]
        y: Option<f32>,
        /// Width of the seal in points (the height is the same).
        #[arg(long, default_value_t = 120.0)]
        width: f32,
        /// Seal image (PNG, with transparency); the default is a round red seal with the
        /// organisation's (or holder's) name.
        #[arg(long)]
        image: Option<PathBuf>,
        /// /Reason of the signature.
        #[arg(long)]
        reason: Option<String>,
        /// Field name (Seal1, Seal2, ... when absent).
        #[arg(long)]
        field: Option<String>,
    },
    /// Revoke a seal (撤章): a signed incremental update that hides the seal and names it
    /// revoked; only its signer (or an authority given with --authority) may.
    Revoke {
        /// The sealed PDF.
        #[arg(long = "in")]
        input: PathBuf,
        /// Where to write the PDF with the revocation.
        #[arg(long)]
        out: PathBuf,
        /// Wallet folder of the revoker.
        #[arg(long)]
        wallet: PathBuf,
        /// PIN of the wallet keys (asked for when absent).
        #[arg(long)]
        pin: Option<String>,
        /// The seal's field name, as `camr pdf verify` lists it (e.g. Seal1).
        #[arg(long)]
        field: String,
        /// /Reason of the revocation (default "撤章 FIELD").
        #[arg(long)]
        reason: Option<String>,
        /// Certificates (PEM) of authorities that may revoke any seal.
        #[arg(long)]
        authority: Vec<PathBuf>,
    },
    /// List and check every seal of a PDF; exit 1 when one is invalid or revoked, or there is none.
    Verify {
        /// The PDF.
        file: PathBuf,
        /// Certificates (PEM) of authorities whose revocations (撤章) are honoured besides
        /// each seal's own signer's.
        #[arg(long)]
        authority: Vec<PathBuf>,
        /// Trusted roots (PEM bundle or folder); without it the chains are not checked.
        #[arg(long)]
        trust: Option<PathBuf>,
        /// Validate the chains as of this Unix time instead of now.
        #[arg(long)]
        at: Option<i64>,
    },
}

#[derive(Subcommand, Debug)]
enum RegistryCommand {
    /// Sign a trust list (JSON `TrustList`) with the registry authority key.
    Sign {
        /// The trust list, JSON.
        #[arg(long = "in")]
        input: PathBuf,
        /// The authority's private key.
        #[arg(long)]
        key: PathBuf,
        /// Password file of an encrypted key.
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// Key id written beside the signature.
        #[arg(long, default_value = "REGISTRY")]
        key_id: String,
        /// Output, JSON `SignedTrustList`.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a signed trust list; prints a summary.
    Verify {
        /// The signed trust list.
        #[arg(long = "in")]
        input: PathBuf,
        /// The authority's public key.
        #[arg(long = "pub")]
        public: PathBuf,
        /// Check freshness as of this Unix time instead of now.
        #[arg(long)]
        now: Option<i64>,
    },
}

#[derive(Subcommand, Debug)]
enum CmsCommand {
    /// Sign a file with a wallet's signing certificate.
    Sign {
        /// Wallet folder (sign-cert.pem, sign-key.pem, chain.pem).
        #[arg(long)]
        wallet: PathBuf,
        /// Wallet PIN (asked for when absent).
        #[arg(long)]
        pin: Option<String>,
        /// File to sign.
        #[arg(long = "in")]
        input: PathBuf,
        /// Output (DER; PEM when it ends in .pem).
        #[arg(long)]
        out: PathBuf,
        /// Leave the content out (detached signature).
        #[arg(long)]
        detached: bool,
    },
    /// Verify a signed message and its signer certificate.
    Verify {
        /// The signed message (DER or PEM).
        #[arg(long = "in")]
        input: PathBuf,
        /// The content of a detached signature.
        #[arg(long)]
        content: Option<PathBuf>,
        /// Trusted roots: a PEM bundle or a folder.
        #[arg(long)]
        trust: PathBuf,
        /// More intermediates, repeatable.
        #[arg(long)]
        chain: Vec<PathBuf>,
        /// CRLs, repeatable.
        #[arg(long)]
        crl: Vec<PathBuf>,
        /// Validate the signer certificate as of this Unix time instead of now.
        #[arg(long)]
        at: Option<i64>,
        /// Write the signed content here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum EnvelopeCommand {
    /// Encrypt a file to one or more encryption certificates.
    Seal {
        /// A recipient's encryption certificate, repeatable.
        #[arg(long = "to", required = true)]
        to: Vec<PathBuf>,
        /// File to encrypt.
        #[arg(long = "in")]
        input: PathBuf,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// `bid`: streaming bid file, any size (default); `cms`: one GM/T 0010 / CMS EnvelopedData (DER; PEM when --out ends in .pem).
        #[arg(long, value_enum, default_value = "bid")]
        format: EnvFormat,
    },
    /// Decrypt a bid file or an EnvelopedData with a wallet's encryption key.
    Open {
        /// Wallet folder (enc-cert.pem, enc-key.pem).
        #[arg(long)]
        wallet: PathBuf,
        /// Wallet PIN (asked for when absent).
        #[arg(long)]
        pin: Option<String>,
        /// The envelope.
        #[arg(long = "in")]
        input: PathBuf,
        /// Where to write the content.
        #[arg(long)]
        out: PathBuf,
    },
    /// List an envelope's recipients (issuer and serial), to pick the encryption certificate.
    Recipients {
        /// The envelope (bid file or EnvelopedData).
        file: PathBuf,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum EnvFormat {
    Bid,
    Cms,
}

#[derive(Subcommand, Debug)]
enum CaCommand {
    /// Create a CA (root + issuing intermediate) in a folder.
    Init {
        /// CA folder (must not hold a CA yet).
        #[arg(long)]
        dir: PathBuf,
        /// Key algorithm of the CA and of the certificates it issues.
        #[arg(long, value_enum, default_value = "sm2")]
        alg: CaAlgArg,
        /// CA name (organisation of its certificates).
        #[arg(long, default_value = "camr Software CA")]
        name: String,
    },
    /// Issue a signing and an encryption certificate (a wallet folder).
    Issue {
        /// CA folder.
        #[arg(long)]
        dir: PathBuf,
        /// Personal or organisation certificate.
        #[arg(long = "type", value_enum)]
        holder_type: HolderArg,
        /// Holder name (CN), e.g. 张三.
        #[arg(long)]
        name: String,
        /// Organisation (organisation certificates).
        #[arg(long)]
        org: Option<String>,
        /// Unified social credit code, 统一社会信用代码 (organisation certificates).
        #[arg(long)]
        uscc: Option<String>,
        /// Identity number (证件号码), of the document `--id-type` names.
        #[arg(long)]
        id_number: Option<String>,
        /// Identity document type (证件类型): id (居民身份证, the default), residence
        /// (港澳台居民居住证), hkmo (港澳居民来往内地通行证), tw (台湾居民来往大陆通行证), fpr
        /// (外国人永久居留身份证), passport (护照, with --id-country).
        #[arg(long, default_value = "id")]
        id_type: String,
        /// Issuing country of a passport, ISO 3166-1 alpha-2 (e.g. CN, GB).
        #[arg(long)]
        id_country: Option<String>,
        /// PIN protecting the wallet keys (asked for when absent).
        #[arg(long)]
        pin: Option<String>,
        /// Validity in days.
        #[arg(long, default_value_t = camr::softca::USER_VALIDITY_DAYS)]
        days: u64,
        /// Wallet folder to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Revoke (or freeze with --reason certificateHold) a certificate.
    Revoke {
        /// CA folder.
        #[arg(long)]
        dir: PathBuf,
        /// Serial number, hex.
        #[arg(long)]
        serial: String,
        /// Reason.
        #[arg(long, value_enum, default_value = "unspecified")]
        reason: ReasonArg,
        /// Since when the key is known or suspected to be compromised, Unix seconds (the CRL
        /// entry's invalidityDate; signatures made after it are not valid at signing time).
        #[arg(long)]
        compromised_since: Option<i64>,
    },
    /// Lift a freeze (解冻): the certificate is good again on the next CRL.
    Unfreeze {
        /// CA folder.
        #[arg(long)]
        dir: PathBuf,
        /// Serial number, hex.
        #[arg(long)]
        serial: String,
    },
    /// Write a fresh CRL of the issuing CA (DER).
    Crl {
        /// CA folder.
        #[arg(long)]
        dir: PathBuf,
        /// Output file (DER; PEM when it ends in .pem).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum CaAlgArg {
    Sm2,
    Rsa,
    P256,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum HolderArg {
    Personal,
    Org,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
#[value(rename_all = "camelCase")]
enum ReasonArg {
    Unspecified,
    KeyCompromise,
    Superseded,
    CertificateHold,
}

#[derive(Subcommand, Debug)]
enum CertCommand {
    /// Validate a certificate chain; prints the subject as JSON, or the failing check.
    Verify(CertVerifyArgs),
}

#[derive(Args, Debug)]
struct CertVerifyArgs {
    /// Trusted roots: a PEM bundle or a folder of certificates.
    #[arg(long)]
    trust: PathBuf,
    /// CRLs (DER or PEM), repeatable.
    #[arg(long)]
    crl: Vec<PathBuf>,
    /// Require a fresh CRL for every certificate below the root.
    #[arg(long)]
    require_crl: bool,
    /// What the certificate is used for.
    #[arg(long, value_enum, default_value = "sign")]
    usage: UsageArg,
    /// Intermediate certificates (PEM bundle), repeatable.
    #[arg(long)]
    chain: Vec<PathBuf>,
    /// Validate as of this Unix time instead of now.
    #[arg(long)]
    at: Option<i64>,
    /// The certificate (PEM or DER).
    cert: PathBuf,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum UsageArg {
    Sign,
    Encrypt,
    Any,
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
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
enum KeyAlgArg {
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
struct SchemeArgs {
    /// SM2 signer ID (default 1234567812345678).
    #[arg(long)]
    id: Option<String>,
    /// For RSA keys: RSASSA-PSS (SHA-256, salt 32) instead of PKCS#1 v1.5.
    #[arg(long)]
    pss: bool,
}

#[derive(Args, Debug)]
struct SignArgs {
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
struct VerifyArgs {
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
struct EncryptArgs {
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
struct DecryptArgs {
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

#[derive(Args, Debug)]
struct DigestArgs {
    /// Hash algorithm.
    #[arg(long, value_enum, default_value = "sm3")]
    alg: DigestAlg,
    /// File to hash.
    file: PathBuf,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum DigestAlg {
    Sm3,
    Sha256,
}

#[derive(Subcommand, Debug)]
enum QrCommand {
    /// Make a signed QR payload for a new transaction; prints the payload.
    Make(QrMakeArgs),
    /// Verify a QR payload (text or PNG); prints its fields as JSON.
    Verify(QrVerifyArgs),
}

#[derive(Args, Debug)]
struct QrMakeArgs {
    /// The platform's system code (系统标识码), e.g. C1100005553.
    #[arg(long)]
    system_code: String,
    /// Operation: login, messageSignature, signature, revokeSignature, encrypt, decrypt.
    #[arg(long)]
    op: String,
    /// Where the app fetches the request object.
    #[arg(long)]
    request_uri: String,
    /// The platform's QR signing key.
    #[arg(long)]
    key: PathBuf,
    /// Password file of an encrypted key.
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// Key id written in the payload (default: from the public key).
    #[arg(long)]
    key_id: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 120)]
    ttl: u32,
    /// Also write the code as PNG.
    #[arg(long)]
    png: Option<PathBuf>,
    /// Also write the code as SVG.
    #[arg(long)]
    svg: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct QrVerifyArgs {
    /// The platform's public key.
    #[arg(long = "pub")]
    public: PathBuf,
    /// The payload text.
    #[arg(long, conflicts_with = "png", required_unless_present = "png")]
    payload: Option<OsString>,
    /// A PNG image of the code.
    #[arg(long)]
    png: Option<PathBuf>,
    /// Tolerated clock skew in seconds.
    #[arg(long, default_value_t = qr::DEFAULT_CLOCK_SKEW_SECS)]
    skew: u32,
    /// Verify as of this Unix time instead of now.
    #[arg(long)]
    now: Option<i64>,
}

#[derive(Args, Debug)]
struct SchemaArgs {
    /// Output folder.
    #[arg(long, default_value = "schemas")]
    out: PathBuf,
}

/// A failure: the stable code, the sentence, and the exit status.
struct Failure {
    code: ErrorCode,
    message: String,
    exit: u8,
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

fn input_error(message: impl Into<String>) -> Failure {
    Failure {
        code: ErrorCode::InputMalformed,
        message: message.into(),
        exit: 2,
    }
}

type CliResult<T = ()> = Result<T, Failure>;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("bad usage")
                .trim_start_matches("error: ");
            eprintln!("error: USAGE: {first} (see `camr --help`)");
            return ExitCode::from(2);
        }
    };
    let provider = default_provider();
    match run(&cli, &provider) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let message = f.message.replace('\n', " ");
            eprintln!("error: {}: {message}", f.code);
            ExitCode::from(f.exit)
        }
    }
}

fn run(cli: &Cli, provider: &Arc<dyn CryptoProvider>) -> CliResult {
    match &cli.command {
        Command::Key(KeyCommand::Gen {
            alg,
            out,
            password_file,
        }) => {
            let key = provider.generate_key((*alg).into())?;
            let pem = match password_file {
                Some(f) => key.to_encrypted_pkcs8_pem(&read_password(f)?)?,
                None => key.to_pkcs8_pem()?,
            };
            write_file(out, pem.as_bytes(), true)?;
            let spki = key.public_key().to_spki_pem()?;
            emit(
                cli.json,
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
        Command::Key(KeyCommand::Pub {
            input,
            out,
            password_file,
        }) => {
            let key = load_private_key(input, password_file.as_deref())?;
            let pem = key.public_key().to_spki_pem()?;
            write_file(out, pem.as_bytes(), false)?;
            emit(
                cli.json,
                json!({"algorithm": key.algorithm(), "out": out}),
                || format!("wrote public key to {}", out.display()),
            );
            Ok(())
        }
        Command::Sign(a) => {
            let key = load_private_key(&a.key, a.password_file.as_deref())?;
            let scheme = scheme_for(key.algorithm(), &a.scheme)?;
            let data = read_file(&a.input, MAX_DATA_FILE, "input")?;
            let sig = provider.sign(&key, &scheme, &data)?;
            write_file(&a.out, &sig, false)?;
            emit(
                cli.json,
                json!({"scheme": scheme.name(), "signatureLength": sig.len(), "out": a.out}),
                || format!("{} signature written to {}", scheme.name(), a.out.display()),
            );
            Ok(())
        }
        Command::Verify(a) => {
            let key = load_public_key(&a.public)?;
            let scheme = scheme_for(key.algorithm(), &a.scheme)?;
            let data = read_file(&a.input, MAX_DATA_FILE, "input")?;
            let sig = read_file(&a.sig, MAX_SMALL_FILE, "signature")?;
            provider.verify(&key, &scheme, &data, &sig)?;
            emit(
                cli.json,
                json!({"valid": true, "scheme": scheme.name()}),
                || format!("signature OK ({})", scheme.name()),
            );
            Ok(())
        }
        Command::Encrypt(a) => {
            let key = load_public_key(&a.public)?;
            let data = read_file(&a.input, MAX_SMALL_FILE, "input")?;
            let form = if a.raw {
                Sm2CiphertextForm::Raw
            } else {
                Sm2CiphertextForm::Asn1
            };
            let ct = provider.sm2_encrypt(&key, &data, form)?;
            write_file(&a.out, &ct, false)?;
            emit(
                cli.json,
                json!({"ciphertextLength": ct.len(), "out": a.out}),
                || format!("SM2 ciphertext written to {}", a.out.display()),
            );
            Ok(())
        }
        Command::Decrypt(a) => {
            let key = load_private_key(&a.key, a.password_file.as_deref())?;
            let data = read_file(&a.input, MAX_SMALL_FILE, "ciphertext")?;
            let form = if a.raw {
                Sm2CiphertextForm::Raw
            } else {
                Sm2CiphertextForm::Asn1
            };
            let pt = provider.sm2_decrypt(&key, &data, form)?;
            write_file(&a.out, &pt, true)?;
            emit(
                cli.json,
                json!({"plaintextLength": pt.len(), "out": a.out}),
                || format!("plaintext written to {}", a.out.display()),
            );
            Ok(())
        }
        Command::Digest(a) => {
            let alg = match a.alg {
                DigestAlg::Sm3 => HashAlgorithm::Sm3,
                DigestAlg::Sha256 => HashAlgorithm::Sha256,
            };
            let hex = digest_file(provider.as_ref(), alg, &a.file)?;
            let name = format!("{:?}", a.alg).to_lowercase();
            emit(
                cli.json,
                json!({"algorithm": name, "digest": hex, "file": a.file}),
                || format!("{hex}  {}", a.file.display()),
            );
            Ok(())
        }
        Command::Qr(QrCommand::Make(a)) => qr_make(cli.json, provider, a),
        Command::Qr(QrCommand::Verify(a)) => qr_verify(provider, a),
        Command::Ca(c) => ca_command(cli.json, provider, c),
        Command::Cert(CertCommand::Verify(a)) => cert_verify(provider, a),
        Command::Cms(c) => cms_command(cli.json, provider, c),
        Command::Envelope(c) => envelope_command(cli.json, provider, c),
        Command::Registry(c) => registry_command(cli.json, provider, c),
        Command::Audit(c) => audit_checkpoint::run(cli.json, c),
        Command::Pdf(c) => pdf_command(cli.json, provider, c),
        Command::Schema(a) => {
            let written = camr::protocol::write_schemas(&a.out).map_err(|e| {
                input_error(format!("cannot write schemas to {}: {e}", a.out.display()))
            })?;
            emit(cli.json, json!({"written": written}), || {
                format!("wrote {} schemas to {}", written.len(), a.out.display())
            });
            Ok(())
        }
    }
}

fn qr_make(json_out: bool, provider: &Arc<dyn CryptoProvider>, a: &QrMakeArgs) -> CliResult {
    let system_code = SystemCode::parse(&a.system_code)?;
    let operation: Operation = a.op.parse()?;
    let key = load_private_key(&a.key, a.password_file.as_deref())?;
    let signer = QrSigner::new(provider.clone(), key, a.key_id.as_deref())?;
    let mut random = [0u8; 16];
    provider.fill_random(&mut random)?;
    let tid = Tid::new(&system_code, random);
    let fields = QrFields {
        tid,
        operation,
        request_uri: a.request_uri.clone(),
        expires_at: qr::unix_now().saturating_add(i64::from(a.ttl)),
    };
    let payload = signer.sign(&fields)?;
    let text = qr::encode(&payload);
    let code = qr::to_qr_code(&text)?;
    if let Some(png) = &a.png {
        write_file(png, &qr::render_png(&text, 8)?, false)?;
    }
    if let Some(svg) = &a.svg {
        write_file(svg, qr::render_svg(&text)?.as_bytes(), false)?;
    }
    let version = match code.version() {
        qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => v,
    };
    if json_out {
        println!(
            "{}",
            json!({"payload": text, "tid": payload.tid, "keyId": payload.key_id, "expiresAt": payload.expires_at, "qrVersion": version})
        );
    } else {
        println!("{text}");
    }
    Ok(())
}

fn qr_verify(provider: &Arc<dyn CryptoProvider>, a: &QrVerifyArgs) -> CliResult {
    let key = load_public_key(&a.public)?;
    let text = match (&a.payload, &a.png) {
        (Some(p), _) => p
            .to_str()
            .ok_or_else(|| Failure {
                code: ErrorCode::QrMalformed,
                message: "the QR payload is malformed: it is not UTF-8 text".into(),
                exit: 2,
            })?
            .to_string(),
        (None, Some(png)) => {
            let bytes = read_file(png, qr::MAX_IMAGE_BYTES as u64, "PNG image")?;
            qr::decode_image(&bytes)?
        }
        (None, None) => return Err(input_error("give --payload or --png")),
    };
    let options = VerifyOptions {
        now: a.now.unwrap_or_else(qr::unix_now),
        clock_skew_secs: a.skew,
    };
    let payload = qr::parse_and_verify(provider.as_ref(), &text, &key, options)?;
    let mut value = serde_json::to_value(&payload)
        .map_err(|e| input_error(format!("cannot serialise the payload: {e}")))?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("systemCode".into(), json!(payload.system_code()));
        obj.insert("payload".into(), json!(text));
    }
    println!("{value}");
    Ok(())
}

fn ca_command(json_out: bool, provider: &Arc<dyn CryptoProvider>, c: &CaCommand) -> CliResult {
    use camr::softca::{Holder, HolderType, RevocationReason, SoftCa};
    match c {
        CaCommand::Init { dir, alg, name } => {
            let alg = match alg {
                CaAlgArg::Sm2 => KeyAlgorithm::Sm2,
                CaAlgArg::Rsa => KeyAlgorithm::Rsa2048,
                CaAlgArg::P256 => KeyAlgorithm::P256,
            };
            let ca = SoftCa::init(provider.clone(), dir, alg, name).map_err(camr::Error::from)?;
            emit(
                json_out,
                json!({"dir": dir, "root": ca.root().subject(), "issuingCa": ca.issuing_ca().subject()}),
                || {
                    format!(
                        "CA created in {} (root {}, issuing CA {})",
                        dir.display(),
                        ca.root().serial_hex(),
                        ca.issuing_ca().serial_hex()
                    )
                },
            );
            Ok(())
        }
        CaCommand::Issue {
            dir,
            holder_type,
            name,
            org,
            uscc,
            id_number,
            id_type,
            id_country,
            pin,
            days,
            out,
        } => {
            let mut ca = SoftCa::open(provider.clone(), dir).map_err(camr::Error::from)?;
            let identity = id_number
                .as_deref()
                .map(|n| {
                    let t = camr::pki::IdentityType::parse_name(id_type)?;
                    match (t, id_country.as_deref()) {
                        (camr::pki::IdentityType::Passport, Some(c)) => {
                            camr::pki::IdentityDocument::passport(c, n)
                        }
                        (camr::pki::IdentityType::Passport, None) => {
                            camr::pki::IdentityDocument::passport("", n)
                        }
                        (t, _) => camr::pki::IdentityDocument::new(t, n),
                    }
                })
                .transpose()
                .map_err(|e| camr::Error::from(camr::softca::CaError::Input(e.to_string())))?;
            let holder = Holder {
                holder_type: match holder_type {
                    HolderArg::Personal => HolderType::Personal,
                    HolderArg::Org => HolderType::Org,
                },
                name: name.clone(),
                organization: org.clone(),
                uscc: uscc.clone(),
                identity_number: identity,
            };
            let pin = match pin {
                Some(p) => zeroize::Zeroizing::new(p.clone().into_bytes()),
                None => ask_pin()?,
            };
            let w = ca
                .issue(&holder, &pin, out, *days)
                .map_err(camr::Error::from)?;
            emit(
                json_out,
                json!({"wallet": out, "signSerial": w.sign_serial, "encSerial": w.enc_serial}),
                || {
                    format!(
                        "wallet written to {} (signing cert {}, encryption cert {})",
                        out.display(),
                        w.sign_serial,
                        w.enc_serial
                    )
                },
            );
            Ok(())
        }
        CaCommand::Unfreeze { dir, serial } => {
            let mut ca = SoftCa::open(provider.clone(), dir).map_err(camr::Error::from)?;
            ca.release_hold(serial).map_err(camr::Error::from)?;
            emit(json_out, json!({"unfrozen": serial}), || {
                format!("unfrozen (解冻) {serial}; publish a new CRL with `camr ca crl`")
            });
            Ok(())
        }
        CaCommand::Revoke {
            dir,
            serial,
            reason,
            compromised_since,
        } => {
            let mut ca = SoftCa::open(provider.clone(), dir).map_err(camr::Error::from)?;
            let reason = match reason {
                ReasonArg::Unspecified => RevocationReason::Unspecified,
                ReasonArg::KeyCompromise => RevocationReason::KeyCompromise,
                ReasonArg::Superseded => RevocationReason::Superseded,
                ReasonArg::CertificateHold => RevocationReason::CertificateHold,
            };
            ca.revoke_with_invalidity(serial, reason, qr::unix_now(), *compromised_since)
                .map_err(camr::Error::from)?;
            emit(json_out, json!({"revoked": serial}), || {
                format!("revoked {serial}; publish a new CRL with `camr ca crl`")
            });
            Ok(())
        }
        CaCommand::Crl { dir, out } => {
            let mut ca = SoftCa::open(provider.clone(), dir).map_err(camr::Error::from)?;
            let crl = ca.crl(qr::unix_now()).map_err(camr::Error::from)?;
            let pem = out.extension().is_some_and(|e| e == "pem");
            let bytes = if pem {
                let text = camr::pki::pem_encode("X509 CRL", crl.der());
                text.into_bytes()
            } else {
                crl.der().to_vec()
            };
            write_file(out, &bytes, false)?;
            emit(json_out, json!({"out": out}), || {
                format!("CRL written to {}", out.display())
            });
            Ok(())
        }
    }
}

struct WalletFiles {
    cert: camr::pki::Certificate,
    key: PrivateKey,
    chain: Vec<camr::pki::Certificate>,
}

fn load_wallet(dir: &Path, pin: Option<&str>, sign: bool) -> CliResult<WalletFiles> {
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

fn envelope_err(e: camr::envelope::EnvelopeError) -> Failure {
    let mut f = Failure::from(camr::Error::from(e));
    if f.code == ErrorCode::SignatureInvalid {
        f.exit = 1;
    }
    f
}

fn cms_command(json_out: bool, provider: &Arc<dyn CryptoProvider>, c: &CmsCommand) -> CliResult {
    use camr::envelope::{self, SignOptions};
    match c {
        CmsCommand::Sign {
            wallet,
            pin,
            input,
            out,
            detached,
        } => {
            let w = load_wallet(wallet, pin.as_deref(), true)?;
            let data = read_file(input, camr::envelope::MAX_IN_MEMORY as u64, "input")?;
            let der = envelope::sign(
                provider.as_ref(),
                &w.cert,
                &w.key,
                &w.chain,
                &data,
                SignOptions {
                    detached: *detached,
                    signing_time: None,
                },
            )
            .map_err(envelope_err)?;
            let bytes = if out.extension().is_some_and(|e| e == "pem") {
                camr::pki::pem_encode("CMS", &der).into_bytes()
            } else {
                der
            };
            write_file(out, &bytes, false)?;
            emit(json_out, json!({"out": out, "detached": detached}), || {
                format!("signed message written to {}", out.display())
            });
            Ok(())
        }
        CmsCommand::Verify {
            input,
            content,
            trust,
            chain,
            crl,
            at,
            out,
        } => {
            let validator = build_validator(provider, trust, crl, false)?;
            let extra = read_chain(chain)?;
            let data = read_file(
                input,
                camr::envelope::MAX_IN_MEMORY as u64,
                "signed message",
            )?;
            let detached = content
                .as_ref()
                .map(|p| read_file(p, camr::envelope::MAX_IN_MEMORY as u64, "content"))
                .transpose()?;
            let v = envelope::verify(
                provider.as_ref(),
                &data,
                detached.as_deref(),
                &validator,
                &extra,
                at.unwrap_or_else(qr::unix_now),
            )
            .map_err(envelope_err)?;
            if let Some(out) = out {
                write_file(out, &v.content, false)?;
            }
            println!(
                "{}",
                json!({"valid": true, "profile": v.profile, "signer": v.signer.subject, "signingTime": v.signing_time, "contentLength": v.content.len(), "revocationChecked": v.signer.revocation_checked})
            );
            Ok(())
        }
    }
}

fn seal_err(e: camr::seal::SealError) -> Failure {
    Failure::from(camr::Error::from(e))
}

fn pdf_command(json_out: bool, provider: &Arc<dyn CryptoProvider>, c: &PdfCommand) -> CliResult {
    use camr::seal::{self, Placement, SealOptions};
    match c {
        PdfCommand::Seal {
            input,
            out,
            wallet,
            pin,
            page,
            every_page,
            straddle,
            keyword,
            x,
            y,
            width,
            image,
            reason,
            field,
        } => {
            let pdf = read_file(input, seal::MAX_PDF as u64, "PDF")?;
            let placement = Placement::from_options(
                *page,
                *every_page,
                straddle.as_deref(),
                keyword.as_deref(),
                *x,
                *y,
                *width,
            )
            .map_err(seal_err)?;
            let mut options = SealOptions::new(placement);
            if let Some(path) = image {
                let png = read_file(path, 64 * MAX_SMALL_FILE, "seal image")?;
                options.image =
                    Some(seal::appearance::SealImage::from_png(&png).map_err(seal_err)?);
            }
            options.reason = reason.clone();
            options.field_name = field.clone();
            let w = load_wallet(wallet, pin.as_deref(), true)?;
            let sealed =
                seal::seal_with_key(provider.as_ref(), &pdf, &w.cert, &w.key, &w.chain, &options)
                    .map_err(seal_err)?;
            write_file(out, &sealed, false)?;
            emit(
                json_out,
                json!({"out": out, "length": sealed.len(), "signer": w.cert.subject()}),
                || format!("sealed PDF written to {}", out.display()),
            );
            Ok(())
        }
        PdfCommand::Revoke {
            input,
            out,
            wallet,
            pin,
            field,
            reason,
            authority,
        } => {
            let pdf = read_file(input, seal::MAX_PDF as u64, "PDF")?;
            let authorities = read_chain(authority)?;
            let mut options = SealOptions::new(Placement::Invisible);
            options.reason = reason.clone();
            let w = load_wallet(wallet, pin.as_deref(), true)?;
            let revoked = seal::revoke_with_key(
                provider.as_ref(),
                &pdf,
                &w.cert,
                &w.key,
                &w.chain,
                &authorities,
                field,
                &options,
            )
            .map_err(seal_err)?;
            write_file(out, &revoked, false)?;
            emit(
                json_out,
                json!({"out": out, "length": revoked.len(), "revoked": field, "by": w.cert.subject()}),
                || format!("seal {field} revoked (撤章); written to {}", out.display()),
            );
            Ok(())
        }
        PdfCommand::Verify {
            file,
            authority,
            trust,
            at,
        } => {
            let pdf = read_file(file, seal::MAX_PDF as u64, "PDF")?;
            let validator = trust
                .as_ref()
                .map(|t| build_validator(provider, t, &[], false))
                .transpose()?;
            let authorities = read_chain(authority)?;
            let report = seal::verify_with_authorities(
                provider.as_ref(),
                &pdf,
                validator.as_ref(),
                at.unwrap_or_else(qr::unix_now),
                &authorities,
            )
            .map_err(seal_err)?;
            if json_out {
                println!("{}", serde_json::to_value(&report).unwrap_or_default());
            } else {
                print!("{}", report.human());
            }
            if report.all_valid {
                Ok(())
            } else if report.seals.is_empty() {
                Err(Failure {
                    code: ErrorCode::SignatureInvalid,
                    message: "the PDF has no seal".into(),
                    exit: 1,
                })
            } else {
                Err(Failure {
                    code: ErrorCode::SignatureInvalid,
                    message:
                        "at least one seal is invalid or revoked, or the document was changed after it"
                            .into(),
                    exit: 1,
                })
            }
        }
    }
}

/// Reads every certificate of the given PEM bundles, in order (intermediates).
fn read_chain(paths: &[PathBuf]) -> CliResult<Vec<camr::pki::Certificate>> {
    let mut chain = Vec::new();
    for path in paths {
        chain.extend(
            camr::pki::Certificate::parse_all(&read_file(path, MAX_SMALL_FILE, "chain")?)
                .map_err(|e| Failure::from(camr::Error::from(e)))?,
        );
    }
    Ok(chain)
}

fn build_validator(
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

/// Prints progress on stderr when it is a terminal: every 5 %.
fn progress_printer(total: u64, verb: &'static str) -> impl FnMut(u64) {
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    let mut last = 0u64;
    move |done: u64| {
        if !tty || total == 0 {
            return;
        }
        let pct = done.saturating_mul(100) / total;
        if pct >= last + 5 || done == total {
            last = pct;
            eprint!("\r{verb} {pct:>3}% ({} MiB)", done >> 20);
            if done >= total {
                eprintln!();
            }
        }
    }
}

fn envelope_command(
    json_out: bool,
    provider: &Arc<dyn CryptoProvider>,
    c: &EnvelopeCommand,
) -> CliResult {
    use camr::envelope::{self, KeySource};
    let cert_err = |e: camr::pki::CertError| Failure::from(camr::Error::from(e));
    match c {
        EnvelopeCommand::Seal {
            to,
            input,
            out,
            format,
        } => {
            let mut recipients = Vec::new();
            for path in to {
                recipients.push(
                    camr::pki::Certificate::parse_one(&read_file(
                        path,
                        MAX_SMALL_FILE,
                        "certificate",
                    )?)
                    .map_err(cert_err)?,
                );
            }
            match format {
                EnvFormat::Cms => {
                    let data = read_file(input, camr::envelope::MAX_IN_MEMORY as u64, "input")?;
                    let der = envelope::seal(provider.as_ref(), &recipients, &data)
                        .map_err(envelope_err)?;
                    let bytes = if out.extension().is_some_and(|e| e == "pem") {
                        camr::pki::pem_encode("CMS", &der).into_bytes()
                    } else {
                        der
                    };
                    write_file(out, &bytes, false)?;
                }
                EnvFormat::Bid => {
                    let file = std::fs::File::open(input).map_err(|e| {
                        input_error(format!("cannot read {}: {e}", input.display()))
                    })?;
                    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
                    let tmp = out.with_extension("partial");
                    let writer = std::fs::File::create(&tmp)
                        .map_err(|e| input_error(format!("cannot write {}: {e}", tmp.display())))?;
                    let mut progress = progress_printer(total, "sealing");
                    let result = envelope::seal_stream(
                        provider.as_ref(),
                        &recipients,
                        std::io::BufReader::new(file),
                        std::io::BufWriter::new(writer),
                        &mut progress,
                    );
                    finish_partial(&tmp, out, result.map_err(envelope_err))?;
                }
            }
            emit(
                json_out,
                json!({"out": out, "recipients": to.len()}),
                || format!("envelope written to {}", out.display()),
            );
            Ok(())
        }
        EnvelopeCommand::Open {
            wallet,
            pin,
            input,
            out,
        } => {
            let w = load_wallet(wallet, pin.as_deref(), false)?;
            let mut file = std::fs::File::open(input)
                .map_err(|e| input_error(format!("cannot read {}: {e}", input.display())))?;
            let total = file.metadata().map(|m| m.len()).unwrap_or(0);
            let mut magic = [0u8; 8];
            let is_bid = {
                use std::io::{Read, Seek};
                let n = file.read(&mut magic).unwrap_or(0);
                file.seek(std::io::SeekFrom::Start(0))
                    .map_err(|e| input_error(format!("cannot read {}: {e}", input.display())))?;
                n == 8 && &magic == envelope::BID_FILE_MAGIC
            };
            if is_bid {
                let tmp = out.with_extension("partial");
                let writer = std::fs::File::create(&tmp)
                    .map_err(|e| input_error(format!("cannot write {}: {e}", tmp.display())))?;
                let mut progress = progress_printer(total, "opening");
                let result = envelope::open_stream(
                    provider.as_ref(),
                    std::io::BufReader::new(file),
                    std::io::BufWriter::new(writer),
                    KeySource::Wallet {
                        cert: &w.cert,
                        key: &w.key,
                    },
                    &mut progress,
                );
                finish_partial(&tmp, out, result.map_err(envelope_err))?;
            } else {
                let data = read_file(input, camr::envelope::MAX_IN_MEMORY as u64, "envelope")?;
                let plain = envelope::open(provider.as_ref(), &data, &w.cert, &w.key)
                    .map_err(envelope_err)?;
                write_file(out, &plain, true)?;
            }
            emit(json_out, json!({"out": out}), || {
                format!("content written to {}", out.display())
            });
            Ok(())
        }
        EnvelopeCommand::Recipients { file } => {
            let mut f = std::fs::File::open(file)
                .map_err(|e| input_error(format!("cannot read {}: {e}", file.display())))?;
            let mut magic = [0u8; 8];
            let list = {
                use std::io::{Read, Seek};
                let n = f.read(&mut magic).unwrap_or(0);
                f.seek(std::io::SeekFrom::Start(0))
                    .map_err(|e| input_error(e.to_string()))?;
                if n == 8 && &magic == envelope::BID_FILE_MAGIC {
                    envelope::read_header(provider.as_ref(), &mut std::io::BufReader::new(f))
                        .map_err(envelope_err)?
                        .recipients
                } else {
                    envelope::recipients(&read_file(
                        file,
                        camr::envelope::MAX_IN_MEMORY as u64,
                        "envelope",
                    )?)
                    .map_err(envelope_err)?
                }
            };
            println!("{}", json!({"recipients": list}));
            Ok(())
        }
    }
}

fn registry_command(
    json_out: bool,
    provider: &Arc<dyn CryptoProvider>,
    c: &RegistryCommand,
) -> CliResult {
    use camr::registry::{self, Registry, SignedTrustList, TrustList};
    match c {
        RegistryCommand::Sign {
            input,
            key,
            password_file,
            key_id,
            out,
        } => {
            let text = read_file(input, 64 * MAX_SMALL_FILE, "trust list")?;
            let list: TrustList = serde_json::from_slice(&text).map_err(|e| {
                input_error(format!("{} is not a trust list: {e}", input.display()))
            })?;
            let key = load_private_key(key, password_file.as_deref())?;
            let signed = registry::sign(provider.as_ref(), &list, &key, key_id)?;
            let json =
                serde_json::to_string_pretty(&signed).map_err(|e| input_error(e.to_string()))?;
            write_file(out, json.as_bytes(), false)?;
            emit(
                json_out,
                json!({"out": out, "version": list.version}),
                || {
                    format!(
                        "signed trust list (edition {}) written to {}",
                        list.version,
                        out.display()
                    )
                },
            );
            Ok(())
        }
        RegistryCommand::Verify { input, public, now } => {
            let text = read_file(input, 64 * MAX_SMALL_FILE, "signed trust list")?;
            let signed: SignedTrustList = serde_json::from_slice(&text).map_err(|e| {
                input_error(format!(
                    "{} is not a signed trust list: {e}",
                    input.display()
                ))
            })?;
            let key = load_public_key(public)?;
            let reg = Registry::verify(
                provider.as_ref(),
                &signed,
                &key,
                now.unwrap_or_else(qr::unix_now),
            )
            .map_err(|e| {
                let mut f = Failure::from(camr::Error::from(e));
                f.exit = 1;
                f
            })?;
            let l = reg.list();
            let platforms: Vec<_> = l.platforms.iter().map(|p| json!({"systemCode": p.system_code, "systemName": p.system_name, "keys": p.keys.len()})).collect();
            let vendors: Vec<_> = l
                .vendors
                .iter()
                .map(
                    |v| json!({"caOrgType": v.ca_org_type, "name": v.name, "roots": v.roots.len()}),
                )
                .collect();
            println!(
                "{}",
                json!({"valid": true, "version": l.version, "expiresAt": l.expires_at, "platforms": platforms, "vendors": vendors})
            );
            Ok(())
        }
    }
}

/// Renames `tmp` to `out` on success and removes it on failure, so a failed open never
/// leaves a half-decrypted file under the requested name.
fn finish_partial(tmp: &Path, out: &Path, result: CliResult<u64>) -> CliResult {
    match result {
        Ok(_) => std::fs::rename(tmp, out)
            .map_err(|e| input_error(format!("cannot write {}: {e}", out.display()))),
        Err(f) => {
            let _ = std::fs::remove_file(tmp);
            Err(f)
        }
    }
}

fn ask_pin() -> CliResult<zeroize::Zeroizing<Vec<u8>>> {
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

fn cert_verify(provider: &Arc<dyn CryptoProvider>, a: &CertVerifyArgs) -> CliResult {
    use camr::pki::{Certificate, KeyPurpose};
    let cert_err = |e: camr::pki::CertError| Failure::from(camr::Error::from(e));
    let validator = build_validator(provider, &a.trust, &a.crl, a.require_crl)?;
    let chain = read_chain(&a.chain)?;
    let cert = Certificate::parse_one(&read_file(&a.cert, MAX_SMALL_FILE, "certificate")?)
        .map_err(cert_err)?;
    let purpose = match a.usage {
        UsageArg::Sign => KeyPurpose::Sign,
        UsageArg::Encrypt => KeyPurpose::Encrypt,
        UsageArg::Any => KeyPurpose::Any,
    };
    let v = validator
        .validate(&cert, &chain, purpose, a.at.unwrap_or_else(qr::unix_now))
        .map_err(cert_err)?;
    let chain: Vec<_> = v
        .chain
        .iter()
        .map(|c| json!({"subject": c.common_name(), "serial": c.serial_hex()}))
        .collect();
    // CRLs of the right issuer that could not be used (best effort): shown, not hidden.
    let skipped: Vec<_> = v
        .skipped_crls
        .iter()
        .map(|s| json!({"issuer": s.issuer, "certificate": s.certificate, "reason": s.reason}))
        .collect();
    println!(
        "{}",
        json!({"valid": true, "subject": v.subject, "chain": chain, "revocationChecked": v.revocation_checked, "skippedCrls": skipped})
    );
    Ok(())
}

fn emit(json_out: bool, value: serde_json::Value, human: impl FnOnce() -> String) {
    if json_out {
        println!("{value}");
    } else {
        eprintln!("{}", human());
    }
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

fn read_file(path: &Path, max: u64, what: &str) -> CliResult<Vec<u8>> {
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

fn digest_file(
    provider: &dyn CryptoProvider,
    alg: HashAlgorithm,
    path: &Path,
) -> CliResult<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)
        .map_err(|e| input_error(format!("cannot read {}: {e}", path.display())))?;
    let mut hasher = provider.hasher(alg);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| input_error(format!("cannot read {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(data_encoding::HEXLOWER.encode(&hasher.finalize()))
}

fn read_password(path: &Path) -> CliResult<zeroize::Zeroizing<Vec<u8>>> {
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

fn load_private_key(path: &Path, password_file: Option<&Path>) -> CliResult<PrivateKey> {
    let data = zeroize::Zeroizing::new(read_file(path, MAX_SMALL_FILE, "key")?);
    let password = password_file.map(read_password).transpose()?;
    Ok(PrivateKey::from_bytes(
        &data,
        password.as_ref().map(|p| p.as_slice()),
    )?)
}

fn load_public_key(path: &Path) -> CliResult<PublicKey> {
    let data = read_file(path, MAX_SMALL_FILE, "public key")?;
    Ok(PublicKey::from_bytes(&data)?)
}

fn write_file(path: &Path, data: &[u8], secret: bool) -> CliResult {
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
