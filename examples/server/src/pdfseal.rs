//! PDF seals (签章) and their revocation (撤章) through the app: the server prepares the
//! uploaded PDF (`camr::seal::prepare`, an incremental update with an empty signature), asks
//! the app to sign the CAdES signed attributes over the byte-range digest (a
//! `cadesAttributes` item: the app never needs the document), and embeds the answer.
//!
//! | method and path | what |
//! |---|---|
//! | `POST /api/v1/pdf/seal?name=N&alg=sm2\|rsa\|p256&page=P&x=X&y=Y\|everyPage=true\|straddle=A-B\|keyword=K[&width=W&reason=R]` | body: the PDF → a `signature` transaction |
//! | `POST /api/v1/pdf/revoke?name=N&field=F[&reason=R]` | body: a sealed PDF → a `revokeSignature` transaction; only the seal's signer may answer it |
//! | `GET /api/v1/pdf/{tid}/sealed` | once answered: the sealed (or revoked) PDF, checked with `camr::seal::verify` first |
//! | `GET /api/v1/pdf/{tid}/report` | the verify report (`PdfReport`) of that PDF |
//! | `POST /api/v1/pdf/verify[?tid=T1,T2]` | body: a PDF → its `PdfReport` (chains checked against the platform's roots; at the recorded signing time for seals the named transactions recorded) |
//!
//! The prepared file waits in `<data>/files/<tid>.prepared` (with `<tid>.pdfseal.json`) until
//! the answer; the digest is bound to those exact bytes. The sealed file replaces it.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use camr::crypto::{HashAlgorithm, PublicKeyAlgorithm};
use camr::pki::Certificate;
use camr::protocol::{Bytes, ErrorCode, Operation, SignFormat, SignItem, Tid};
use camr::seal::{self, PdfReport, Placement, PreparedPdf, SealError, SealOptions};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::{ApiError, ok, parse_tid, started_ok};
use crate::files::{clean_name, file_path, receive, send_file, temp_path, upload_query};

type Shared = State<Arc<AppState>>;

/// The routes of this module (long-lived: uploads and sealing, like `crate::files`).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/pdf/seal", post(seal_start))
        .route("/api/v1/pdf/revoke", post(revoke_start))
        .route("/api/v1/pdf/{tid}/sealed", get(sealed))
        .route("/api/v1/pdf/{tid}/report", get(report))
        .route("/api/v1/pdf/verify", post(verify_upload))
}

/// Query of `POST /api/v1/pdf/seal`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SealQuery {
    /// The file's name, shown in the app and used for the download.
    #[serde(default)]
    pub name: Option<String>,
    /// The signer's key: `sm2` (default; SM3 digest, `ETSI.CAdES.detached`), `rsa` or `p256`
    /// (SHA-256, `adbe.pkcs7.detached`; either key answers a request prepared for the other).
    #[serde(default)]
    pub alg: Option<String>,
    /// Page number (1-based), with `x` and `y`.
    #[serde(default)]
    pub page: Option<u32>,
    /// Left edge of the seal, points.
    #[serde(default)]
    pub x: Option<f32>,
    /// Bottom edge of the seal, points.
    #[serde(default)]
    pub y: Option<f32>,
    /// Width (and height) of the seal, points (default 120).
    #[serde(default)]
    pub width: Option<f32>,
    /// The seal on every page (多页签章).
    #[serde(default)]
    pub every_page: Option<bool>,
    /// Straddle seal (骑缝章) over pages `FROM-TO`.
    #[serde(default)]
    pub straddle: Option<String>,
    /// The seal on every occurrence of this text (关键字签章).
    #[serde(default)]
    pub keyword: Option<String>,
    /// `/Reason` of the signature.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Query of `POST /api/v1/pdf/revoke`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevokeQuery {
    /// The file's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The seal's field name, as the verify report lists it (e.g. `Seal1`).
    pub field: String,
    /// Why (shown in the app, written as `/Reason`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// What is kept beside a prepared PDF until the app answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PdfMeta {
    name: String,
    byte_range: [usize; 4],
    digest: Vec<u8>,
    hash: HashAlgorithm,
    key_algorithm: PublicKeyAlgorithm,
    field_name: String,
    /// For a revocation: the revoked field and its signer's certificate (DER).
    revokes: Option<(String, Vec<u8>)>,
}

impl PdfMeta {
    fn prepared(&self, bytes: Vec<u8>) -> PreparedPdf {
        let [_, a, b, _] = self.byte_range;
        PreparedPdf {
            digest_input_ranges: [(0, a), (b, bytes.len())],
            bytes,
            byte_range: self.byte_range,
            digest: self.digest.clone(),
            hash: self.hash,
            key_algorithm: self.key_algorithm,
            field_name: self.field_name.clone(),
        }
    }
}

/// Receives the uploaded PDF into memory (through a temporary file, within the upload
/// limit and [`seal::MAX_PDF`]).
async fn receive_pdf(s: &AppState, body: Body) -> Result<Vec<u8>, ApiError> {
    let tmp = temp_path(s)?;
    let received = receive(s, body, &tmp, None, crate::files::Upload::Pdf).await;
    let bytes = match received {
        Ok(_) => tokio::fs::read(&tmp).await.map_err(ApiError::internal),
        Err(e) => Err(e),
    };
    let _ = tokio::fs::remove_file(&tmp).await;
    bytes
}

/// Runs CPU-heavy PDF work off the async threads (also the seal sessions').
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SealError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::from)
}

fn key_algorithm(alg: Option<&str>) -> Result<PublicKeyAlgorithm, ApiError> {
    match alg.unwrap_or("sm2").to_ascii_lowercase().as_str() {
        "sm2" => Ok(PublicKeyAlgorithm::Sm2),
        "rsa" => Ok(PublicKeyAlgorithm::Rsa),
        "p256" | "ecdsa" | "ecdsa_p256" => Ok(PublicKeyAlgorithm::EcdsaP256),
        other => Err(ApiError::malformed(format!(
            "`alg` must be sm2, rsa or p256, not `{}`",
            other.chars().take(20).collect::<String>()
        ))),
    }
}

/// Files the prepared PDF under the transaction just started.
async fn keep_prepared(
    s: &AppState,
    tid: &Tid,
    prepared: &PreparedPdf,
    meta: &PdfMeta,
) -> Result<(), ApiError> {
    tokio::fs::create_dir_all(&s.files_dir)
        .await
        .map_err(ApiError::internal)?;
    tokio::fs::write(file_path(s, tid, "prepared"), &prepared.bytes)
        .await
        .map_err(ApiError::internal)?;
    let json = serde_json::to_vec(meta).map_err(ApiError::internal)?;
    tokio::fs::write(file_path(s, tid, "pdfseal.json"), json)
        .await
        .map_err(ApiError::internal)
}

fn cades_item(id: &str, name: &str, prepared: &PreparedPdf) -> SignItem {
    SignItem {
        format: SignFormat::CadesAttributes,
        ..SignItem::hash(id, name, prepared.digest.clone(), prepared.hash)
    }
}

async fn seal_start(
    State(s): Shared,
    q: Result<Query<SealQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = upload_query(&headers, q)?;
    let key = key_algorithm(q.alg.as_deref())?;
    let placement = Placement::from_options(
        q.page,
        q.every_page.unwrap_or(false),
        q.straddle.as_deref(),
        q.keyword.as_deref(),
        q.x,
        q.y,
        q.width.unwrap_or(120.0),
    )
    .map_err(ApiError::from)?;
    let name = clean_name(q.name.as_deref(), "document.pdf");
    let pdf = receive_pdf(&s, body).await?;
    let mut options = SealOptions::new(placement);
    options.reason = Some(q.reason.clone().unwrap_or_else(|| "签章".into()));
    let provider = s.platform.provider().clone();
    let prepared = blocking(move || seal::prepare(provider.as_ref(), &pdf, key, &options)).await?;
    let started = s
        .platform
        .start_sign(vec![cades_item("pdf", &name, &prepared)])
        .await?;
    let tid = started.transaction.tid.clone();
    let meta = PdfMeta {
        name,
        byte_range: prepared.byte_range,
        digest: prepared.digest.clone(),
        hash: prepared.hash,
        key_algorithm: key,
        field_name: prepared.field_name.clone(),
        revokes: None,
    };
    keep_prepared(&s, &tid, &prepared, &meta).await?;
    tracing::info!(%tid, field = %meta.field_name, "PDF prepared for sealing");
    Ok(started_ok(&s, Operation::Signature, started))
}

async fn revoke_start(
    State(s): Shared,
    q: Result<Query<RevokeQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = upload_query(&headers, q)?;
    let name = clean_name(q.name.as_deref(), "document.pdf");
    let pdf = receive_pdf(&s, body).await?;
    let provider = s.platform.provider().clone();
    let field = q.field.clone();
    let reason = q.reason.clone();
    let (prepared, target) = blocking(move || {
        let target = seal::signer_of(provider.as_ref(), &pdf, &field)?;
        let key = target.public_key()?.algorithm();
        let mut options = SealOptions::new(Placement::Invisible);
        options.reason = reason.map(|r| format!("撤章 {field}: {r}"));
        let prepared = seal::prepare_revoke(provider.as_ref(), &pdf, key, &field, &options)?;
        Ok((prepared, target))
    })
    .await?;
    let started = s
        .platform
        .start_revoke_seal(
            &q.field,
            &name,
            q.reason.as_deref(),
            vec![cades_item("revoke", &name, &prepared)],
        )
        .await?;
    let tid = started.transaction.tid.clone();
    let meta = PdfMeta {
        name,
        byte_range: prepared.byte_range,
        digest: prepared.digest.clone(),
        hash: prepared.hash,
        key_algorithm: prepared.key_algorithm,
        field_name: prepared.field_name.clone(),
        revokes: Some((q.field.clone(), target.der().to_vec())),
    };
    keep_prepared(&s, &tid, &prepared, &meta).await?;
    Ok(started_ok(&s, Operation::RevokeSignature, started))
}

/// The signer's certificate, chain and signature over the prepared PDF, from the verified
/// answer; for a revocation, only when the revoker may revoke that seal.
async fn answer_of(
    s: &AppState,
    tid: &Tid,
    meta: &PdfMeta,
) -> Result<(Certificate, Vec<Certificate>, Vec<u8>), ApiError> {
    let parse = |der: &Bytes| Certificate::from_der(der).map_err(ApiError::internal);
    let (cert, chain, signed) = match &meta.revokes {
        None => {
            let r = s.platform.finish_sign(tid).await?;
            if let Some(refused) = r.rejected.first() {
                return Err(ApiError::new(
                    ErrorCode::TxRejected,
                    format!("the signer refused the document: {}", refused.reason),
                ));
            }
            (r.certificate, r.chain, r.signed)
        }
        Some((field, target)) => {
            let r = s.platform.finish_revoke_signature(tid).await?;
            let revoker = parse(&r.certificate)?;
            let target = Certificate::from_der(target).map_err(ApiError::internal)?;
            if !seal::may_revoke(&target, &revoker, &[]) {
                return Err(ApiError::from(SealError::RevokeDenied {
                    field: field.clone(),
                    signer: target.subject().name,
                    revoker: revoker.subject().name,
                }));
            }
            (r.certificate, r.chain, r.signed)
        }
    };
    let signature = signed
        .into_iter()
        .next()
        .map(|i| i.signature.0)
        .ok_or_else(|| ApiError::new(ErrorCode::TxFailed, "the answer signed no document"))?;
    let chain = chain.iter().map(parse).collect::<Result<Vec<_>, _>>()?;
    Ok((parse(&cert)?, chain, signature))
}

/// The sealed PDF of transaction `tid`, made on first call: the answer's signature embedded
/// into the prepared file, checked with `camr::seal::verify` before it is kept.
async fn sealed_file(s: &Arc<AppState>, tid: &Tid) -> Result<(PathBuf, PdfMeta), ApiError> {
    let meta_raw = tokio::fs::read(file_path(s, tid, "pdfseal.json"))
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorCode::TxNotFound,
                format!("transaction {tid} has no PDF on this server"),
            )
        })?;
    let meta: PdfMeta = serde_json::from_slice(&meta_raw).map_err(ApiError::internal)?;
    let out = file_path(s, tid, "sealed.pdf");
    if tokio::fs::try_exists(&out).await.unwrap_or(false) {
        return Ok((out, meta));
    }
    let (cert, chain, signature) = answer_of(s, tid, &meta).await?;
    let bytes = tokio::fs::read(file_path(s, tid, "prepared"))
        .await
        .map_err(ApiError::internal)?;
    let prepared = meta.prepared(bytes);
    let (provider, validator) = (s.platform.provider().clone(), s.validator.clone());
    let sealed = blocking(move || {
        embed_checked(
            provider.as_ref(),
            &validator,
            prepared,
            &cert,
            &chain,
            signature,
        )
    })
    .await?;
    let tmp = temp_path(s)?;
    tokio::fs::write(&tmp, &sealed)
        .await
        .map_err(ApiError::internal)?;
    tokio::fs::rename(&tmp, &out)
        .await
        .map_err(ApiError::internal)?;
    let _ = tokio::fs::remove_file(file_path(s, tid, "prepared")).await;
    tracing::info!(%tid, field = %meta.field_name, "PDF sealed");
    Ok((out, meta))
}

/// The app's `signature` over `prepared` embedded as a CMS with the signer's certificate and
/// chain, then the whole file verified against the platform's roots: the result only when the
/// new seal is valid, else an error naming what is wrong (integrity, chain, a modification).
/// Shared with the seal sessions ([`crate::sealsession`]).
pub(crate) fn embed_checked(
    provider: &dyn camr::crypto::CryptoProvider,
    validator: &camr::pki::ChainValidator,
    prepared: PreparedPdf,
    cert: &Certificate,
    chain: &[Certificate],
    signature: Vec<u8>,
) -> Result<Vec<u8>, SealError> {
    let field = prepared.field_name.clone();
    let cms = seal::sign_prepared(provider, &prepared, cert, chain, |_| Ok(signature))?;
    let sealed = seal::embed(prepared, &cms)?;
    let report = seal::verify(provider, &sealed, Some(validator), camr::qr::unix_now())?;
    match report.seals.iter().find(|r| r.field_name == field) {
        Some(r) if r.valid => Ok(sealed),
        other => Err(SealError::InvalidArgument {
            reason: format!(
                "the app's signature does not make a valid seal: {}",
                other
                    .and_then(|r| r
                        .integrity_error
                        .clone()
                        .or(r.chain_error.clone())
                        .or(r.modifications.first().cloned()))
                    .unwrap_or_else(|| "the seal is missing".into())
            ),
        }),
    }
}

/// `a.pdf` → `a-sealed.pdf` (or `-revoked`).
fn download_name(meta: &PdfMeta) -> String {
    let stem = meta.name.strip_suffix(".pdf").unwrap_or(&meta.name);
    let what = if meta.revokes.is_some() {
        "revoked"
    } else {
        "sealed"
    };
    format!("{stem}-{what}.pdf")
}

async fn sealed(State(s): Shared, Path(tid): Path<String>) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let (path, meta) = sealed_file(&s, &tid).await?;
    send_file(&path, &download_name(&meta), false).await
}

async fn report(State(s): Shared, Path(tid): Path<String>) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let (path, _) = sealed_file(&s, &tid).await?;
    let pdf = tokio::fs::read(&path).await.map_err(ApiError::internal)?;
    // The platform's own record of this transaction is the seal's signing-time evidence.
    let records = crate::revocation::recorded_signatures(&s, &tid).await?;
    Ok(ok(verify_pdf_with(&s, pdf, records).await?))
}

/// Verifies with signing-time evidence: seals whose signatures the platform recorded are
/// validated at the recorded time (see [`crate::revocation`]).
async fn verify_pdf_with(
    s: &AppState,
    pdf: Vec<u8>,
    records: Vec<camr::pki::RecordedSignature>,
) -> Result<PdfReport, ApiError> {
    let provider = s.platform.provider().clone();
    let validator = s.validator.clone();
    blocking(move || {
        seal::verify_with_records(
            provider.as_ref(),
            &pdf,
            Some(&validator),
            camr::qr::unix_now(),
            &[],
            &records,
        )
    })
    .await
}

/// Query of `POST /api/v1/pdf/verify`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyQuery {
    /// Seal transactions of this platform whose records are the signing-time evidence
    /// (comma-separated tids): a seal they recorded is validated at the recorded time, so
    /// a certificate revoked since does not invalidate it.
    #[serde(default)]
    pub tid: Option<String>,
}

async fn verify_upload(
    State(s): Shared,
    q: Result<Query<VerifyQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = upload_query(&headers, q)?;
    let mut records = Vec::new();
    for tid in q
        .tid
        .iter()
        .flat_map(|t| t.split(','))
        .filter(|t| !t.is_empty())
    {
        let tid = parse_tid(tid.trim())?;
        records.extend(crate::revocation::recorded_signatures(&s, &tid).await?);
    }
    let pdf = receive_pdf(&s, body).await?;
    Ok(ok(verify_pdf_with(&s, pdf, records).await?))
}
