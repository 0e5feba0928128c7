//! Bid-file work (加密/解密投标文件): sealing an uploaded bid file to the encryption certificate
//! the app handed over, opening an envelope with the content key the app unwrapped, their
//! progress and downloads. Each job runs on one instance at a time and reports through the
//! store ([`camr::store::JobBoard`]), so any instance answers its progress.

use std::path::Path as FsPath;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use camr::envelope::{KeySource, open_stream, read_header, seal_stream};
use camr::pki::Certificate;
use camr::protocol::{Bytes, EncryptedKeyItem, ErrorCode, Operation, Tid, TransactionState};
use camr::time::unix_now;
use serde::Serialize;

use super::{
    FileMeta, Shared, Upload, UploadQuery, adopt_upload, clean_name, file_path, read_meta, receive,
    send_file, temp_path, upload_query,
};
use crate::AppState;
use crate::api::{ApiError, ok, parse_tid};

/// Progress of sealing or opening one bid file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobProgress {
    /// Bytes of the file done.
    pub done: u64,
    /// Bytes in all (the plaintext size).
    pub total: u64,
    /// Whether the work ended (the download is ready, or `error` says why not).
    pub finished: bool,
    /// Why it failed: `CODE: sentence`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What `POST /api/v1/bidfiles/{tid}/work` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkStarted {
    /// The transaction.
    pub tid: String,
    /// `encrypt` (sealing) or `decrypt` (opening).
    pub operation: Operation,
}

impl From<camr::store::Job> for JobProgress {
    fn from(j: camr::store::Job) -> Self {
        Self {
            done: j.done,
            total: j.total,
            finished: j.finished,
            error: j.error,
        }
    }
}

/// The transaction must be this operation's (a tid of another kind is refused).
pub(super) async fn expect_operation(
    s: &AppState,
    tid: &Tid,
    op: Operation,
) -> Result<(), ApiError> {
    let tx = s.platform.status(tid).await?;
    if tx.operation != op {
        return Err(ApiError::malformed(format!(
            "transaction {tid} is a {} transaction, not {op}",
            tx.operation
        )));
    }
    if !matches!(tx.state, TransactionState::Verified) && !tx.state.is_terminal() {
        return Err(ApiError::new(
            ErrorCode::TxPending,
            format!("transaction {tid} is not answered yet"),
        ));
    }
    Ok(())
}

/// Seals the uploaded bid file of encrypt transaction `tid` to the encryption certificate the
/// app handed over, reporting progress in `s.jobs`. Idempotent: done when the envelope exists.
async fn seal_work(s: &Arc<AppState>, tid: &Tid) -> Result<(), ApiError> {
    let sealed = file_path(s, tid, "camrbid");
    if tokio::fs::try_exists(&sealed).await.unwrap_or(false) {
        return Ok(());
    }
    let meta = read_meta(s, tid).await?;
    run_job(s, tid, meta.size, "the bid file is being sealed", |done| {
        seal_now(s, tid, done)
    })
    .await
}

/// Runs `work` as the transaction's one job over all instances (refused while another runs
/// it: [`camr::store::JobBoard`]), its progress (the bytes `work` counts in the counter it
/// gets) written to the store every second, its end and error recorded for the progress
/// endpoint of any instance.
async fn run_job<F, Fut>(
    s: &AppState,
    tid: &Tid,
    total: u64,
    busy: &str,
    work: F,
) -> Result<(), ApiError>
where
    F: FnOnce(Arc<AtomicU64>) -> Fut,
    Fut: std::future::Future<Output = Result<(), ApiError>>,
{
    if !s.jobs.claim(tid.as_str(), total, unix_now()).await? {
        return Err(ApiError::new(
            ErrorCode::TxPending,
            format!("transaction {tid}: {busy}; poll its progress"),
        ));
    }
    let done = Arc::new(AtomicU64::new(0));
    let (board, key, counter) = (s.jobs.clone(), tid.to_string(), done.clone());
    let beat = tokio::spawn(async move {
        loop {
            tokio::time::sleep(JOB_BEAT).await;
            let done = counter.load(Ordering::Relaxed);
            if let Err(e) = board.progress(&key, done, unix_now()).await {
                tracing::warn!(tid = %key, "cannot record the job's progress: {e}");
            }
        }
    });
    let outcome = work(done).await;
    beat.abort();
    let error = outcome
        .as_ref()
        .err()
        .map(|e| format!("{}: {}", e.code, e.msg));
    s.jobs.finish(tid.as_str(), error, unix_now()).await?;
    outcome
}

/// How often a running job writes its progress and heartbeat.
const JOB_BEAT: std::time::Duration = std::time::Duration::from_secs(1);

async fn seal_now(s: &Arc<AppState>, tid: &Tid, done: Arc<AtomicU64>) -> Result<(), ApiError> {
    let result = s.platform.finish_encrypt(tid).await?;
    let cert = Certificate::from_der(&result.encryption_certificate)?;
    let plain = file_path(s, tid, "plain");
    let partial = file_path(s, tid, "camrbid.part");
    let provider = s.platform.provider().clone();
    let (src, dst) = (plain.clone(), partial.clone());
    let sealed_bytes = tokio::task::spawn_blocking(move || -> Result<u64, ApiError> {
        let input = std::fs::File::open(&src).map_err(|_| {
            ApiError::new(
                ErrorCode::TxNotFound,
                "the bid file is no longer on this server",
            )
        })?;
        let output = std::fs::File::create(&dst).map_err(ApiError::internal)?;
        let mut out = std::io::BufWriter::new(output);
        let n = seal_stream(
            provider.as_ref(),
            std::slice::from_ref(&cert),
            std::io::BufReader::new(input),
            &mut out,
            &mut |n| done.store(n, Ordering::Relaxed),
        )?;
        std::io::Write::flush(&mut out).map_err(ApiError::internal)?;
        Ok(n)
    })
    .await
    .map_err(ApiError::internal)??;
    tokio::fs::rename(&partial, file_path(s, tid, "camrbid"))
        .await
        .map_err(ApiError::internal)?;
    let _ = tokio::fs::remove_file(&plain).await;
    tracing::info!(%tid, bytes = sealed_bytes, holder = %result.subject.name, "bid file sealed");
    Ok(())
}

pub(super) async fn bid_envelope(
    State(s): Shared,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    expect_operation(&s, &tid, Operation::Encrypt).await?;
    let meta = read_meta(&s, &tid).await?;
    seal_work(&s, &tid).await?;
    send_file(
        &file_path(&s, &tid, "camrbid"),
        &format!("{}.camrbid", meta.name),
        false,
    )
    .await
}

/// Starts sealing (encrypt) or opening (decrypt) in the background.
pub(super) async fn bid_work(
    State(s): Shared,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let tx = s.platform.status(&tid).await?;
    let op = tx.operation;
    if !matches!(op, Operation::Encrypt | Operation::Decrypt) {
        return Err(ApiError::malformed(format!(
            "transaction {tid} is a {op} transaction, not a bid file's"
        )));
    }
    expect_operation(&s, &tid, op).await?;
    read_meta(&s, &tid).await?;
    let (state, job) = (s.clone(), tid.clone());
    tokio::spawn(async move {
        let outcome = match op {
            Operation::Encrypt => seal_work(&state, &job).await,
            _ => open_work(&state, &job).await,
        };
        if let Err(e) = outcome {
            tracing::warn!(tid = %job, code = %e.code, msg = %e.msg, "bid-file work failed");
        }
    });
    Ok(ok(
        serde_json::json!({ "tid": tid.to_string(), "operation": op }),
    ))
}

pub(super) async fn bid_progress(
    State(s): Shared,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let done_file = match s.platform.status(&tid).await?.operation {
        Operation::Encrypt => "camrbid",
        _ => "opened",
    };
    match s.jobs.get(tid.as_str()).await? {
        Some(job) => Ok(ok(JobProgress::from(job))),
        // Sealed earlier (or by another instance sharing the folder).
        None if tokio::fs::try_exists(file_path(&s, &tid, done_file))
            .await
            .unwrap_or(false) =>
        {
            Ok(ok(JobProgress {
                finished: true,
                ..JobProgress::default()
            }))
        }
        None => Ok(ok(JobProgress::default())),
    }
}

pub(super) async fn bid_open_start(
    State(s): Shared,
    q: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = upload_query(&headers, q)?;
    let name = clean_name(q.name.as_deref(), "bid-file.camrbid");
    let name = name
        .strip_suffix(".camrbid")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{name}.opened"));
    let tmp = temp_path(&s)?;
    let (size, _) = receive(&s, body, &tmp, None, Upload::Streamed).await?;
    let keys = match envelope_items(&s, &tmp).await {
        Ok(keys) => keys,
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
    };
    let recipients: Vec<&str> = keys.iter().map(|k| k.recipient_cert_sn.as_str()).collect();
    tracing::info!(size, ?recipients, "envelope received for bid opening");
    let started = s.platform.start_decrypt(keys).await;
    adopt_upload(&s, &tmp, started, "envelope", FileMeta { name, size }).await
}

/// Reads the header of the envelope at `path` (off the executor): its encrypted content keys
/// as decrypt items, `key1`, `key2`, … in the header's order.
pub(crate) async fn envelope_items(
    s: &AppState,
    path: &FsPath,
) -> Result<Vec<EncryptedKeyItem>, ApiError> {
    let provider = s.platform.provider().clone();
    let path = path.to_path_buf();
    let header = tokio::task::spawn_blocking(move || {
        let mut f =
            std::io::BufReader::new(std::fs::File::open(&path).map_err(ApiError::internal)?);
        read_header(provider.as_ref(), &mut f).map_err(|e| ApiError::new(e.code(), e.to_string()))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(header
        .encrypted_keys
        .iter()
        .enumerate()
        .map(|(i, (sn, k))| EncryptedKeyItem {
            id: format!("key{}", i + 1),
            recipient_cert_sn: sn.clone(),
            encrypted_key: Bytes(k.clone()),
        })
        .collect())
}

/// Opens the envelope of decrypt transaction `tid` with the content key the app unwrapped
/// (handed out once), reporting progress in `s.jobs`. Done when the opened file exists.
async fn open_work(s: &Arc<AppState>, tid: &Tid) -> Result<(), ApiError> {
    let opened = file_path(s, tid, "opened");
    if tokio::fs::try_exists(&opened).await.unwrap_or(false) {
        return Ok(());
    }
    let envelope = file_path(s, tid, "envelope");
    if !tokio::fs::try_exists(&envelope).await.unwrap_or(false) {
        return Err(ApiError::new(
            ErrorCode::TxAlreadyAnswered,
            format!("the file of transaction {tid} was opened and downloaded already"),
        ));
    }
    let meta = read_meta(s, tid).await?;
    run_job(s, tid, meta.size, "the envelope is being opened", |done| {
        open_now(s, tid, &envelope, &opened, done)
    })
    .await
}

async fn open_now(
    s: &Arc<AppState>,
    tid: &Tid,
    envelope: &FsPath,
    opened: &FsPath,
    done: Arc<AtomicU64>,
) -> Result<(), ApiError> {
    // The content keys are handed out once (the one-time platform key is deleted).
    let keys = s.platform.finish_decrypt(tid).await?;
    let provider = s.platform.provider().clone();
    let partial = file_path(s, tid, "opened.part");
    let (src, dst) = (envelope.to_path_buf(), partial.clone());
    let opened_bytes = tokio::task::spawn_blocking(move || -> Result<u64, ApiError> {
        let mut last = None;
        for (_, cek) in &keys {
            let input =
                std::io::BufReader::new(std::fs::File::open(&src).map_err(ApiError::internal)?);
            let mut out =
                std::io::BufWriter::new(std::fs::File::create(&dst).map_err(ApiError::internal)?);
            match open_stream(
                provider.as_ref(),
                input,
                &mut out,
                KeySource::ContentKey(cek),
                &mut |n| done.store(n, Ordering::Relaxed),
            ) {
                Ok(n) => {
                    std::io::Write::flush(&mut out).map_err(ApiError::internal)?;
                    return Ok(n);
                }
                Err(e) => last = Some(ApiError::new(e.code(), e.to_string())),
            }
        }
        let _ = std::fs::remove_file(&dst);
        Err(last.unwrap_or_else(|| ApiError::malformed("the envelope names no recipient")))
    })
    .await
    .map_err(ApiError::internal)??;
    tokio::fs::rename(&partial, opened)
        .await
        .map_err(ApiError::internal)?;
    let _ = tokio::fs::remove_file(envelope).await;
    tracing::info!(%tid, bytes = opened_bytes, "bid file opened");
    Ok(())
}

pub(super) async fn bid_plain(
    State(s): Shared,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    expect_operation(&s, &tid, Operation::Decrypt).await?;
    let meta = read_meta(&s, &tid).await?;
    open_work(&s, &tid).await?;
    send_file(&file_path(&s, &tid, "opened"), &meta.name, true).await
}
