//! `camr` — the command line of the camr SDK, for people and scripts.
//!
//! Exit status: 0 success, 1 verification failed, 2 usage or bad input. Errors go to stderr
//! as one line, `error: <ERROR_CODE>: <sentence>`; with `--json`, results go to stdout as JSON.
//!
//! This file is the command tree and its dispatch; each command group lives in its own module
//! (`keys`, `digest`, `qr`, `ca`, `cms`, `pdf`, `registry`, `schema`), what they share in
//! `common`. A command's primary result goes to stdout; status and progress go to stderr.
#![forbid(unsafe_code)]

mod audit_checkpoint;
mod ca;
mod cms;
mod common;
mod digest;
mod keys;
mod pdf;
mod qr;
mod registry;
mod schema;

use std::process::ExitCode;
use std::sync::Arc;

use camr::crypto::{CryptoProvider, default_provider};
use clap::{Parser, Subcommand};

use crate::common::CliResult;

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
    Key(keys::KeyCommand),
    /// Sign a file (SM2 with SM3 and a signer ID; P-256 and RSA with SHA-256).
    Sign(keys::SignArgs),
    /// Verify a signature over a file.
    Verify(keys::VerifyArgs),
    /// Encrypt a (small) file to an SM2 public key (ASN.1 C1C3C2, GM/T 0009).
    Encrypt(keys::EncryptArgs),
    /// Decrypt an SM2 ciphertext.
    Decrypt(keys::DecryptArgs),
    /// Hash a file with SM3 or SHA-256.
    Digest(digest::DigestArgs),
    /// Make and verify national interop QR codes (payload `camr1`).
    #[command(subcommand)]
    Qr(qr::QrCommand),
    /// Write one JSON Schema per wire type into a folder.
    Schema(schema::SchemaArgs),
    /// The reference software CA: init, issue dual certificates, revoke, CRL.
    #[command(subcommand)]
    Ca(ca::CaCommand),
    /// Certificates: validate a chain for a purpose.
    #[command(subcommand)]
    Cert(ca::CertCommand),
    /// Signed messages: GM/T 0010 SignedData (SM2) or CMS (RSA/ECDSA).
    #[command(subcommand)]
    Cms(cms::CmsCommand),
    /// Digital envelopes and bid files (投标文件): seal to encryption certificates, open with a wallet.
    #[command(subcommand)]
    Envelope(cms::EnvelopeCommand),
    /// The signed trust list of platforms and CA vendors.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// The hash-chained audit log of a platform's SQLite store.
    #[command(subcommand)]
    Audit(audit_checkpoint::AuditCommand),
    /// Document seals (签章) on PDF files: seal with a wallet, verify every seal.
    #[command(subcommand)]
    Pdf(pdf::PdfCommand),
}

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
    let json = cli.json;
    match &cli.command {
        Command::Key(c) => keys::key(json, provider, c),
        Command::Sign(a) => keys::sign(json, provider, a),
        Command::Verify(a) => keys::verify(json, provider, a),
        Command::Encrypt(a) => keys::encrypt(json, provider, a),
        Command::Decrypt(a) => keys::decrypt(json, provider, a),
        Command::Digest(a) => digest::run(json, provider.as_ref(), a),
        Command::Qr(qr::QrCommand::Make(a)) => qr::make(json, provider, a),
        Command::Qr(qr::QrCommand::Verify(a)) => qr::verify(provider, a),
        Command::Ca(c) => ca::ca(json, provider, c),
        Command::Cert(ca::CertCommand::Verify(a)) => ca::cert(provider, a),
        Command::Cms(c) => cms::cms(json, provider, c),
        Command::Envelope(c) => cms::envelope(json, provider, c),
        Command::Registry(c) => registry::registry(json, provider, c),
        Command::Audit(c) => audit_checkpoint::run(json, c),
        Command::Pdf(c) => pdf::run(json, provider, c),
        Command::Schema(a) => schema::run(json, a),
    }
}
