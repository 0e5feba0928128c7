//! `camr cms` (GM/T 0010 / CMS signed messages) and `camr envelope` (digital envelopes and
//! streaming bid files, 投标文件).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use camr::crypto::CryptoProvider;
use camr::protocol::ErrorCode;
use camr::qr;
use clap::{Subcommand, ValueEnum};
use serde_json::json;

use crate::common::{
    CliResult, Failure, MAX_SMALL_FILE, build_validator, emit, input_error, load_wallet,
    read_chain, read_file, write_file,
};

#[derive(Subcommand, Debug)]
pub(crate) enum CmsCommand {
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
pub(crate) enum EnvelopeCommand {
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
pub(crate) enum EnvFormat {
    Bid,
    Cms,
}

fn envelope_err(e: camr::envelope::EnvelopeError) -> Failure {
    let mut f = Failure::from(camr::Error::from(e));
    if f.code == ErrorCode::SignatureInvalid {
        f.exit = 1;
    }
    f
}

pub(crate) fn cms(json_out: bool, provider: &Arc<dyn CryptoProvider>, c: &CmsCommand) -> CliResult {
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

pub(crate) fn envelope(
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
