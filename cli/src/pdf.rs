//! `camr pdf seal|revoke|verify`: document seals (签章) and their revocation (撤章).

use std::path::PathBuf;
use std::sync::Arc;

use camr::crypto::CryptoProvider;
use camr::protocol::ErrorCode;
use camr::qr;
use clap::Subcommand;
use serde_json::json;

use crate::common::{
    CliResult, Failure, MAX_SMALL_FILE, build_validator, emit, load_wallet, read_chain, read_file,
    write_file,
};

#[derive(Subcommand, Debug)]
pub(crate) enum PdfCommand {
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

fn seal_err(e: camr::seal::SealError) -> Failure {
    Failure::from(camr::Error::from(e))
}

pub(crate) fn run(json_out: bool, provider: &Arc<dyn CryptoProvider>, c: &PdfCommand) -> CliResult {
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
