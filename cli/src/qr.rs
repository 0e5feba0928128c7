//! `camr qr make|verify`: the signed national interop QR payload `camr1`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use camr::crypto::CryptoProvider;
use camr::protocol::{ErrorCode, Operation, SystemCode, Tid};
use camr::qr::{self, QrFields, QrSigner, VerifyOptions};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::common::{
    CliResult, Failure, input_error, load_private_key, load_public_key, read_file, write_file,
};

#[derive(Subcommand, Debug)]
pub(crate) enum QrCommand {
    /// Make a signed QR payload for a new transaction; prints the payload.
    Make(QrMakeArgs),
    /// Verify a QR payload (text or PNG); prints its fields as JSON.
    Verify(QrVerifyArgs),
}

#[derive(Args, Debug)]
pub(crate) struct QrMakeArgs {
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
pub(crate) struct QrVerifyArgs {
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

pub(crate) fn make(
    json_out: bool,
    provider: &Arc<dyn CryptoProvider>,
    a: &QrMakeArgs,
) -> CliResult {
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

pub(crate) fn verify(provider: &Arc<dyn CryptoProvider>, a: &QrVerifyArgs) -> CliResult {
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
