//! Files through the ceremonies: bid files (投标文件) sealed to the bidder's encryption
//! certificate and opened at bid opening (开标), file signatures and signature checks.
//!
//! | method and path | what |
//! |---|---|
//! | `POST /api/v1/bidfiles?name=N` | body: the bid file (raw bytes) → an `encrypt` transaction to scan |
//! | `GET /api/v1/bidfiles/{tid}/envelope` | once the app handed over its encryption certificate: the sealed envelope (`N.camrbid`) |
//! | `POST /api/v1/bidfiles/open?name=N` | body: an envelope → a `decrypt` transaction for its keys |
//! | `GET /api/v1/bidfiles/{tid}/plain` | once the app unwrapped the key: the opened file, handed out once |
//! | `POST /api/v1/bidfiles/{tid}/work` | seal (encrypt) or open (decrypt) in the background; then poll `.../progress` |
//! | `GET /api/v1/bidfiles/{tid}/progress` | `{done, total, finished, error}` of that work (pages show a progress bar) |
//! | `POST /api/v1/files/sign?name=N&hash=sm3\|sha256` | body: a file → a `signature` transaction over its hash |
//! | `POST /api/v1/files/digest?hash=sm3\|sha256` | body: a file → `{hash}` (base64) |
//! | `POST /api/v1/verify` | `{message \| hash, signature, certificate, chain}` → the verdict (`verifySignatureResult`) |
//!
//! Uploads stream to `<data>/files/` (never whole in memory) up to the upload limit; the
//! plaintext of a bid file is deleted once it is sealed, an opened file once it is
//! downloaded. The server never holds a bidder's decryption key: at bid opening it sends the
//! envelope's encrypted content key to the app (decrypt operation) and gets it back wrapped
//! to a one-time platform key.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use camr::crypto::HashAlgorithm;
use camr::protocol::{Bytes, ErrorCode, Operation, SignItem, Tid};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::AppState;
use crate::api::{ApiError, ok, started_ok};

type Shared = State<Arc<AppState>>;

mod work;
pub(crate) use work::envelope_items;
pub use work::{JobProgress, WorkStarted};
use work::{bid_envelope, bid_open_start, bid_plain, bid_progress, bid_work};

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/bidfiles", post(bid_seal_start))
        .route("/api/v1/bidfiles/open", post(bid_open_start))
        .route("/api/v1/bidfiles/{tid}/envelope", get(bid_envelope))
        .route("/api/v1/bidfiles/{tid}/plain", get(bid_plain))
        .route("/api/v1/bidfiles/{tid}/work", post(bid_work))
        .route("/api/v1/bidfiles/{tid}/progress", get(bid_progress))
        .route("/api/v1/files/sign", post(file_sign_start))
        .route("/api/v1/files/digest", post(file_digest))
        .route("/api/v1/verify", post(verify))
}

/// Query of the upload calls.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file's name (shown to the user in the app and used for the download).
    #[serde(default)]
    pub name: Option<String>,
    /// `sm3` (default) or `sha256`, for signing and digests.
    #[serde(default)]
    pub hash: Option<String>,
}

/// What is kept beside an uploaded file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileMeta {
    pub(crate) name: String,
    pub(crate) size: u64,
}

/// A file name safe to show and to put in `Content-Disposition`: the last path component,
/// control characters and quotes dropped, at most 120 characters.
pub(crate) fn clean_name(name: Option<&str>, default: &str) -> String {
    let base = name
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(120)
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        default.to_string()
    } else {
        cleaned
    }
}

fn hash_of(q: &UploadQuery) -> Result<HashAlgorithm, ApiError> {
    match q.hash.as_deref().unwrap_or("sm3") {
        "sm3" | "SM3" => Ok(HashAlgorithm::Sm3),
        "sha256" | "SHA256" | "sha-256" => Ok(HashAlgorithm::Sha256),
        other => Err(ApiError::malformed(format!(
            "`hash` must be sm3 or sha256, not `{}`",
            other.chars().take(20).collect::<String>()
        ))),
    }
}

/// Where this transaction's files live: `<files>/<tid>.<ext>` (the tid is validated, so
/// the path cannot leave the folder).
pub(crate) fn file_path(s: &AppState, tid: &Tid, ext: &str) -> PathBuf {
    s.files_dir.join(format!("{tid}.{ext}"))
}

/// What an upload is, for its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    /// Streamed to disk (bid files, documents to hash and sign, signed files to verify):
    /// the server's upload limit (512 MiB).
    Streamed,
    /// A file to digest: streamed, and may be empty (the digest of nothing is a digest).
    Digest,
    /// A PDF, which sealing and verification read into memory: at most [`PDF_UPLOAD_LIMIT`].
    Pdf,
}

/// Largest PDF accepted for sealing, revocation, verification and seal sessions: PDFs are
/// read into memory, so their limit is lower than the streamed uploads'.
pub const PDF_UPLOAD_LIMIT: u64 = 64 * 1024 * 1024;

impl Upload {
    /// The limit in bytes on `s`.
    pub fn limit(self, s: &AppState) -> u64 {
        match self {
            Self::Streamed | Self::Digest => s.upload_limit,
            Self::Pdf => s.upload_limit.min(PDF_UPLOAD_LIMIT),
        }
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        ..ApiError::malformed(format!(
            "the file is larger than the {} MiB allowed here",
            limit / (1024 * 1024)
        ))
    }
}

/// Streams the request body to `path`, hashing it on the way when `hash` is given; refuses
/// bodies over the limit of `kind` (413: before reading anything when the declared length
/// says so) and empty ones. Returns (size, digest).
pub(crate) async fn receive(
    s: &AppState,
    body: Body,
    path: &FsPath,
    hash: Option<HashAlgorithm>,
    kind: Upload,
) -> Result<(u64, Vec<u8>), ApiError> {
    let limit = kind.limit(s);
    if axum::body::HttpBody::size_hint(&body).lower() > limit {
        return Err(too_large(limit));
    }
    tokio::fs::create_dir_all(&s.files_dir)
        .await
        .map_err(ApiError::internal)?;
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(ApiError::internal)?;
    let mut hasher = hash.map(|h| s.platform.provider().hasher(h));
    let mut size = 0u64;
    let mut stream = body.into_data_stream();
    let outcome: Result<(), ApiError> = async {
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::malformed(format!("cannot read the upload: {e}")))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large(limit));
            }
            if let Some(h) = hasher.as_mut() {
                h.update(&chunk);
            }
            file.write_all(&chunk).await.map_err(ApiError::internal)?;
        }
        file.flush().await.map_err(ApiError::internal)?;
        // Every upload route wants content: an empty bid file would be sealed and
        // submitted as if it were a bid.
        if size == 0 && kind != Upload::Digest {
            return Err(ApiError::malformed("the upload is empty"));
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        drop(file);
        let _ = tokio::fs::remove_file(path).await;
        return Err(e);
    }
    Ok((size, hasher.map(|h| h.finalize()).unwrap_or_default()))
}

/// How long uploaded and produced files (bid envelopes, opened bids, sealed PDFs, temporary
/// uploads) are kept: long enough to download a result, short enough that abandoned ones do
/// not fill the disk. The hall's bids (`hall-*.camrbid`) are kept.
pub const FILE_RETENTION: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// How often the files folder is swept.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes the files of `dir` last modified more than `retention` before `now`, except the
/// hall's bids; returns how many were removed. A file that cannot be read or removed is
/// left (and retried at the next sweep).
pub fn sweep(dir: &FsPath, now: std::time::SystemTime, retention: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("hall-") || !path.is_file() {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > retention);
        if old && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// A fresh temporary path in the files folder.
pub(crate) fn temp_path(s: &AppState) -> Result<PathBuf, ApiError> {
    let mut b = [0u8; 12];
    s.platform
        .provider()
        .fill_random(&mut b)
        .map_err(ApiError::internal)?;
    Ok(s.files_dir
        .join(format!("upload-{}.tmp", data_encoding::HEXLOWER.encode(&b))))
}

async fn write_meta(s: &AppState, tid: &Tid, meta: &FileMeta) -> Result<(), ApiError> {
    let json = serde_json::to_vec(meta).map_err(ApiError::internal)?;
    tokio::fs::write(file_path(s, tid, "json"), json)
        .await
        .map_err(ApiError::internal)
}

async fn read_meta(s: &AppState, tid: &Tid) -> Result<FileMeta, ApiError> {
    let raw = tokio::fs::read(file_path(s, tid, "json"))
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorCode::TxNotFound,
                format!("transaction {tid} has no file on this server"),
            )
        })?;
    serde_json::from_slice(&raw).map_err(ApiError::internal)
}

/// The checks every upload route makes first: the body is the file's bytes (not JSON or a
/// form), and the query parses (an [`UploadQuery`], or a route's own query).
pub(crate) fn upload_query<T>(
    headers: &HeaderMap,
    query: Result<Query<T>, QueryRejection>,
) -> Result<T, ApiError> {
    no_json_type(headers)?;
    let Query(q) = query.map_err(|e| ApiError::malformed(e.body_text()))?;
    Ok(q)
}

pub(crate) fn no_json_type(headers: &HeaderMap) -> Result<(), ApiError> {
    // A browser form or a JSON client posting to an upload route by mistake.
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_ascii_lowercase();
    if ct.starts_with("application/json") || ct.starts_with("multipart/") {
        return Err(ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ..ApiError::malformed("upload the file's bytes as the body (application/octet-stream)")
        });
    }
    Ok(())
}

async fn bid_seal_start(
    State(s): Shared,
    q: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = upload_query(&headers, q)?;
    let name = clean_name(q.name.as_deref(), "bid-file");
    let tmp = temp_path(&s)?;
    let (size, _) = receive(&s, body, &tmp, None, Upload::Streamed).await?;
    let started = s.platform.start_encrypt().await;
    tracing::info!(
        size,
        "bid file received; waiting for the encryption certificate"
    );
    adopt_upload(&s, &tmp, started, "plain", FileMeta { name, size }).await
}

/// Files the upload at `tmp` under the transaction just started (removing it when the
/// start failed) and answers the started transaction.
pub(crate) async fn adopt_upload(
    s: &AppState,
    tmp: &FsPath,
    started: Result<camr::ceremony::Started, camr::ceremony::CeremonyError>,
    ext: &str,
    meta: FileMeta,
) -> Result<Response, ApiError> {
    let started = match started {
        Ok(st) => st,
        Err(e) => {
            let _ = tokio::fs::remove_file(tmp).await;
            return Err(e.into());
        }
    };
    let tid = started.transaction.tid.clone();
    tokio::fs::rename(tmp, file_path(s, &tid, ext))
        .await
        .map_err(ApiError::internal)?;
    write_meta(s, &tid, &meta).await?;
    let op = started.transaction.operation;
    Ok(started_ok(s, op, started))
}

/// Streams a file as a download, deleting it first when `once` (the open handle keeps the
/// data readable until the stream ends).
pub(crate) async fn send_file(path: &FsPath, name: &str, once: bool) -> Result<Response, ApiError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(ApiError::internal)?;
    let len = file.metadata().await.map_err(ApiError::internal)?.len();
    if once {
        tokio::fs::remove_file(path)
            .await
            .map_err(ApiError::internal)?;
    }
    let stream = futures_util::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    let mut r = Response::new(Body::from_stream(stream));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // RFC 6266: an ASCII fallback and the UTF-8 name (Chinese file names).
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let utf8: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{utf8}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// The size and `alg` digest of an upload, which is not kept.
async fn hash_upload(
    s: &AppState,
    body: Body,
    alg: HashAlgorithm,
    kind: Upload,
) -> Result<(u64, Vec<u8>), ApiError> {
    let tmp = temp_path(s)?;
    let received = receive(s, body, &tmp, Some(alg), kind).await;
    let _ = tokio::fs::remove_file(&tmp).await;
    received
}

async fn file_sign_start(
    State(s): Shared,
    q: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = upload_query(&headers, q)?;
    let alg = hash_of(&q)?;
    let name = clean_name(q.name.as_deref(), "document");
    let (_, hash) = hash_upload(&s, body, alg, Upload::Streamed).await?;
    let started = s
        .platform
        .start_sign(vec![SignItem::hash("file", &name, hash, alg)])
        .await?;
    Ok(started_ok(&s, Operation::Signature, started))
}

/// Answer of `POST /api/v1/files/digest`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DigestOut {
    /// The algorithm.
    pub hash_algorithm: HashAlgorithm,
    /// The digest, standard base64.
    pub hash: Bytes,
    /// Bytes hashed.
    pub size: u64,
}

async fn file_digest(
    State(s): Shared,
    q: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = upload_query(&headers, q)?;
    let alg = hash_of(&q)?;
    let (size, hash) = hash_upload(&s, body, alg, Upload::Digest).await?;
    Ok(ok(DigestOut {
        hash_algorithm: alg,
        hash: Bytes(hash),
        size,
    }))
}

/// Body of `POST /api/v1/verify`: a signature over a message, or over a document hash.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyBody {
    /// The message as signed (message signature).
    #[serde(default)]
    pub message: Option<String>,
    /// The document hash as signed (file signature).
    #[serde(default)]
    pub hash: Option<Bytes>,
    /// The signature.
    pub signature: Bytes,
    /// The signer's certificate, DER (base64).
    pub certificate: Bytes,
    /// Intermediates.
    #[serde(default)]
    pub chain: Vec<Bytes>,
}

async fn verify(
    State(s): Shared,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let b: VerifyBody = crate::api::json_body(&headers, body)?;
    let data: Vec<u8> = match (&b.message, &b.hash) {
        (Some(m), None) => m.as_bytes().to_vec(),
        (None, Some(h)) => h.0.clone(),
        _ => {
            return Err(ApiError::malformed(
                "give exactly one of `message` and `hash`",
            ));
        }
    };
    let mut chain = b.chain.clone();
    chain.extend(s.intermediates.iter().cloned());
    let verdict = camr::ceremony::verify_data(
        s.platform.provider().as_ref(),
        &s.validator,
        &data,
        &b.signature,
        &b.certificate,
        &chain,
        camr::qr::unix_now(),
    );
    let status = StatusCode::from_u16(verdict.code).unwrap_or(StatusCode::OK);
    Ok((status, axum::Json(verdict)).into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::{Duration, SystemTime};

    use super::sweep;

    #[test]
    fn the_sweep_removes_old_files_but_keeps_fresh_ones_and_the_halls_bids() {
        let dir = tempfile::tempdir().unwrap();
        let day = Duration::from_secs(86_400);
        let old = SystemTime::now() - 2 * day;
        for name in ["upload-1.tmp", "C1100005553aa.camrbid", "hall-ab12.camrbid"] {
            let f = std::fs::File::create(dir.path().join(name)).unwrap();
            f.set_modified(old).unwrap();
        }
        std::fs::write(dir.path().join("C1100005553bb.json"), b"{}").unwrap();
        assert_eq!(sweep(dir.path(), SystemTime::now(), day), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["C1100005553bb.json", "hall-ab12.camrbid"]);
        assert_eq!(
            sweep(&dir.path().join("missing"), SystemTime::now(), day),
            0
        );
    }
}
