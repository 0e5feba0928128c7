//! Interactive seal sessions (签章会话), NETCA style: the user scans once and authorises on
//! the phone; the phone then waits ("手机出现等待画面") while the user picks one of their seals
//! (印章, listed by their CA's adapter) and drags it onto a preview of the PDF page on the PC
//! page; on confirmation the server prepares the PDF revision with that seal image at that
//! place, the waiting phone signs it, and both screens show 签章成功. Several seals go into one
//! session (连续签章), on one page, on selected pages (多页签章) or on every page; the platform
//! may require a set of seal kinds (e.g. 公章 + 法人章) before the session can be finished
//! (完成签章).
//!
//! | method and path | who | what |
//! |---|---|---|
//! | `POST /api/v1/seal-sessions?name=N[&required=official,legalRepresentative]` | page | body: the PDF → the session (QR, pages with sizes, required kinds) |
//! | `GET /api/v1/seal-sessions/{tid}` | page | the session: authorised by whom, seals applied, the step in progress, what is missing |
//! | `GET /api/v1/seal-sessions/{tid}/seals` | page | the holder's seals, from the CA's adapter (`list_seals`) |
//! | `GET /api/v1/seal-sessions/{tid}/pages/{n}/preview.png` | page | page `n` as it stands (seals applied so far included), 1 pixel per point |
//! | `POST /api/v1/seal-sessions/{tid}/place` | page | `{sealCode, pages \| everyPage, x, y}` → one step for the phone |
//! | `POST /api/v1/seal-sessions/{tid}/finish` | page | 完成签章: refused with `SEAL_SET_INCOMPLETE` while a required kind is missing |
//! | `GET /api/v1/seal-sessions/{tid}/document` | page | the sealed PDF, once finished |
//! | `GET /camr/v1/seal-session/wait?tid=T` | app | the next [`SessionStep`] (wait, sign, done); `TX_EXPIRED` once the session ended |
//!
//! Positions are PDF points from the lower-left corner of the page as the reader sees it (its
//! visible box, turned by `/Rotate`); the preview is rendered at 72 dpi, so one preview pixel
//! is one point. The preview needs `pdftoppm` (poppler-utils, config `seal_session.pdftoppm`);
//! without it the page gets a blank sheet of the right size (header `x-camr-preview: blank`).
//!
//! Sessions are versioned records in the store (`camr::seal::flow::SealFlow`,
//! compare-and-set on every change) with their PDFs in `<data>/seal-sessions/<tid>/`: any
//! instance on one database and data folder continues a session another one started, and a
//! restart loses none.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use camr::ceremony::SealSession;
use camr::crypto::HashAlgorithm;
use camr::protocol::{ErrorCode, Operation, SealInfo, SealKind, SessionStep, Tid};
use camr::seal::flow::{SEAL_SESSION, SealFlow};
use camr::seal::{self, PageSize};
use camr::store::{BlobDir, RecordStore, StoreError, Versioned};
use serde::{Deserialize, Serialize};

pub use camr::seal::flow::AppliedSeal;

use crate::AppState;
use crate::api::{ApiError, ok, parse_tid, started_out};
use crate::files::{clean_name, receive, temp_path, upload_query};
use crate::owner::with_owner_cookie;
use crate::pdfseal::blocking;

mod preview;
mod step;

type Shared = State<Arc<AppState>>;

/// How long the phone is told to wait between polls.
const RETRY_AFTER_MS: u32 = 700;
/// Live sessions kept at most (ended ones are purged an hour after their end).
const MAX_SESSIONS: u32 = 256;
/// Seals placed in one session at most.
const MAX_SEALS: usize = 32;
/// Millimetres to points.
const PT_PER_MM: f32 = 72.0 / 25.4;
/// Reads and re-applies after another instance changed the session at the same moment.
const RETRIES: usize = 4;

/// The seal sessions: records in the store, PDFs in the shared blob folder.
#[derive(Debug)]
pub struct Sessions {
    records: Arc<dyn RecordStore>,
    blobs: BlobDir,
    /// `pdftoppm` for page previews, when available.
    pdftoppm: Option<PathBuf>,
    /// Seal kinds every session requires unless its creator says otherwise.
    required: Vec<SealKind>,
}

/// Settings of the seal sessions (`seal_session.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealSessionConfig {
    /// How long a session lives from its start, seconds.
    pub ttl_secs: u32,
    /// Kinds every session must apply before it can be finished (a session's creator may
    /// name others).
    pub required: Vec<SealKind>,
    /// `pdftoppm` for previews; `None`: look on `PATH`.
    pub pdftoppm: Option<PathBuf>,
}

impl Default for SealSessionConfig {
    fn default() -> Self {
        Self {
            ttl_secs: u32::try_from(camr::ceremony::DEFAULT_SEAL_SESSION_TTL).unwrap_or(900),
            required: Vec::new(),
            pdftoppm: None,
        }
    }
}

/// `name` on `PATH`, if it is there.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

type Flow = Versioned<SealFlow>;

impl Sessions {
    /// Sessions kept in `records` with their PDFs in `blobs`, a page renderer and the
    /// platform's default required seal kinds.
    pub fn new(
        records: Arc<dyn RecordStore>,
        blobs: BlobDir,
        pdftoppm: Option<PathBuf>,
        required: Vec<SealKind>,
    ) -> Self {
        Self {
            records,
            blobs,
            pdftoppm,
            required,
        }
    }

    /// Sessions as configured (`pdftoppm` from `PATH` unless named).
    pub fn from_config(
        config: &SealSessionConfig,
        records: Arc<dyn RecordStore>,
        blobs: BlobDir,
    ) -> Self {
        Self::new(
            records,
            blobs,
            config.pdftoppm.clone().or_else(|| on_path("pdftoppm")),
            config.required.clone(),
        )
    }

    async fn load(&self, tid: &Tid) -> Result<Flow, ApiError> {
        Versioned::load(self.records.as_ref(), SEAL_SESSION, tid.as_str())
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::TxNotFound,
                    format!("{tid} is not a seal session of this platform"),
                )
            })
    }

    /// Writes the session back if nobody changed it since it was read.
    async fn save(&self, tid: &Tid, flow: &mut Flow) -> Result<(), StoreError> {
        let body = serde_json::to_string(&flow.value)
            .map_err(|e| StoreError::Backend(format!("cannot store the seal session: {e}")))?;
        flow.version = self
            .records
            .save_record(
                SEAL_SESSION,
                tid.as_str(),
                flow.version,
                &body,
                flow.value.purge_at(),
            )
            .await?;
        Ok(())
    }

    /// The session with its step moved on (and stored when that changed it).
    async fn advanced(&self, s: &AppState, tid: &Tid) -> Result<Flow, ApiError> {
        for _ in 0..RETRIES {
            let mut flow = self.load(tid).await?;
            if !step::advance(s, self, tid, &mut flow.value).await? {
                return Ok(flow);
            }
            match self.save(tid, &mut flow).await {
                Ok(()) => return Ok(flow),
                // Another instance moved it on first: read what it stored.
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(format!("the seal session {tid}")).into())
    }

    /// The document as it stands.
    async fn document(&self, tid: &Tid, flow: &SealFlow) -> Result<Vec<u8>, ApiError> {
        Ok(self.blobs.get(tid.as_str(), &flow.document).await?)
    }

    /// Makes room: drops sessions (and their PDFs) an hour past their end; refuses a new one
    /// beyond [`MAX_SESSIONS`].
    async fn make_room(&self) -> Result<(), ApiError> {
        let now = camr::qr::unix_now();
        if self.records.purge_records(now).await? > 0 {
            self.drop_orphans().await;
        }
        let open = self.records.record_keys(SEAL_SESSION, MAX_SESSIONS).await?;
        if open.len() >= MAX_SESSIONS as usize {
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                "too many seal sessions are open; try again later",
            ));
        }
        Ok(())
    }

    /// Drops the PDF folders of sessions whose records are gone.
    async fn drop_orphans(&self) {
        let Ok(mut dirs) = tokio::fs::read_dir(self.blobs.root()).await else {
            return;
        };
        while let Ok(Some(entry)) = dirs.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Ok(None) = self.records.load_record(SEAL_SESSION, &name).await {
                let _ = self.blobs.drop_namespace(&name).await;
            }
        }
    }
}

/// Page size as the page sees it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageOut {
    /// 1-based.
    pub number: u32,
    /// Points.
    pub width: f32,
    /// Points.
    pub height: f32,
}

/// `GET /api/v1/seal-sessions/{tid}`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionOut {
    /// The session's transaction.
    pub tid: String,
    /// `waiting` (for the scan), `authorised`, `signing` (the phone has a step),
    /// `finished`, `rejected` or `expired`.
    pub state: String,
    /// The document.
    pub name: String,
    /// Its pages.
    pub pages: Vec<PageOut>,
    /// Who authorised (name on the certificate), once authorised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// The CA vendor of the app, once authorised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_org_type: Option<String>,
    /// Seals applied so far.
    pub applied: Vec<AppliedSeal>,
    /// Kinds this document requires.
    pub required: Vec<SealKind>,
    /// Required kinds not applied yet.
    pub missing: Vec<SealKind>,
    /// Required kinds not applied yet that none of the holder's seals is of (once listed):
    /// the session cannot be finished with this certificate.
    pub unobtainable: Vec<SealKind>,
    /// The sentence that says so, for the page to show before 完成签章.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The step the phone is signing, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Why the last step did not end in a seal (refused on the phone, expired, invalid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the session ends (Unix seconds).
    pub expires_at: i64,
}

/// One seal the holder may use, as the page shows it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SealOut {
    /// The seal.
    #[serde(flatten)]
    pub seal: SealInfo,
    /// The kind in Chinese (公章, 法人章, ...).
    pub kind_label: String,
    /// Width on the page, points.
    pub width_pt: f32,
    /// Height on the page, points.
    pub height_pt: f32,
    /// `ca`: from the holder's CA (adapter `list_seals`); `platform`: the CA offers no seals,
    /// so the platform drew a default one for the certificate.
    pub source: String,
}

/// Body of `POST /api/v1/seal-sessions/{tid}/place`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaceIn {
    /// The seal's code, from `/seals`.
    pub seal_code: String,
    /// Pages (1-based) to put it on (多页签章 with more than one).
    #[serde(default)]
    pub pages: Vec<u32>,
    /// Every page instead.
    #[serde(default)]
    pub every_page: bool,
    /// Left edge, points from the left of the page.
    pub x: f32,
    /// Bottom edge, points from the bottom of the page.
    pub y: f32,
}

/// Answer of `place`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlacedOut {
    /// The step the phone now signs.
    pub tid: String,
    /// The signature field it will fill.
    pub field_name: String,
    /// Pages.
    pub pages: Vec<u32>,
}

/// Query of `POST /api/v1/seal-sessions`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateQuery {
    /// The file's name, shown in the app.
    #[serde(default)]
    pub name: Option<String>,
    /// Seal kinds the document needs besides the platform's `seal_session.required`,
    /// comma-separated wire names.
    #[serde(default)]
    pub required: Option<String>,
}

/// Answer of `POST /api/v1/seal-sessions`: the session's transaction (its QR) and the
/// document's pages.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionStartedOut {
    /// The session's transaction and its QR.
    #[serde(flatten)]
    pub started: crate::api::StartedOut,
    /// The pages with their sizes as a reader sees them (points).
    pub pages: Vec<PageOut>,
    /// Seal kinds the document needs before 完成签章.
    pub required: Vec<SealKind>,
    /// Where the page follows the session.
    pub session: String,
}

/// Query of the app's wait.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
pub struct WaitQuery {
    /// The session's transaction.
    pub tid: String,
}

/// The routes of this module. The sessions ride along as an extension.
pub fn routes(sessions: Arc<Sessions>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/seal-sessions", post(create))
        .route("/api/v1/seal-sessions/{tid}", get(view))
        .route("/api/v1/seal-sessions/{tid}/seals", get(step::seals))
        .route(
            "/api/v1/seal-sessions/{tid}/pages/{page}/preview.png",
            get(preview::preview),
        )
        .route("/api/v1/seal-sessions/{tid}/place", post(step::place))
        .route("/api/v1/seal-sessions/{tid}/finish", post(finish))
        .route("/api/v1/seal-sessions/{tid}/document", get(document))
        .route("/camr/v1/seal-session/wait", get(wait))
        .layer(Extension(sessions))
}

fn parse_kinds(list: &str) -> Result<Vec<SealKind>, ApiError> {
    let mut out = Vec::new();
    for k in list.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        let kind: SealKind = k.parse().map_err(|_| {
            ApiError::malformed(format!(
                "`{}` is not a seal kind ({})",
                k.chars().take(30).collect::<String>(),
                SealKind::ALL.map(SealKind::as_str).join(", ")
            ))
        })?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

/// Why the session cannot be finished with this certificate, if it cannot: a required kind
/// that none of the holder's seals is of.
fn dead_end(session: &SealFlow) -> Option<String> {
    let lacking = session.unobtainable();
    if lacking.is_empty() {
        return None;
    }
    let zh: Vec<&str> = lacking.iter().map(|k| k.label_zh()).collect();
    let zh = zh.join("、");
    Some(format!(
        "本文件需要{zh}，但您证书的 CA 没有为您提供{zh}，本次签章无法完成。请向 CA 申领{zh}，或改用持有该印章的证书。\
         The document needs {}, which none of this certificate's seals is: the session cannot \
         be finished with it.",
        lacking
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

fn kinds_zh(kinds: &[SealKind]) -> String {
    kinds
        .iter()
        .map(|k| format!("{} ({})", k.label_zh(), k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn create(
    State(s): Shared,
    Extension(sessions): Extension<Arc<Sessions>>,
    q: Result<Query<CreateQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = upload_query(&headers, q)?;
    // The platform's set always applies; the uploader may add kinds, never drop one.
    let mut required = sessions.required.clone();
    for kind in parse_kinds(q.required.as_deref().unwrap_or(""))? {
        if !required.contains(&kind) {
            required.push(kind);
        }
    }
    sessions.make_room().await?;
    let name = clean_name(q.name.as_deref(), "document.pdf");
    let tmp = temp_path(&s)?;
    let received = receive(&s, body, &tmp, None, crate::files::Upload::Pdf).await;
    let pdf = match received {
        Ok((size, _)) if size > seal::MAX_PDF as u64 => Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            ..ApiError::new(ErrorCode::PdfMalformed, "the PDF is larger than 512 MiB")
        }),
        Ok(_) => tokio::fs::read(&tmp).await.map_err(ApiError::internal),
        Err(e) => Err(e),
    };
    let _ = tokio::fs::remove_file(&tmp).await;
    let pdf = pdf?;
    let provider = s.platform.provider().clone();
    let (pdf, pages, hash) = blocking(move || {
        let pages = seal::page_sizes(&pdf)?;
        let hash = provider.digest(HashAlgorithm::Sha256, &pdf);
        Ok((pdf, pages, hash))
    })
    .await?;
    let base = s
        .info
        .response_uri
        .strip_suffix("/camr/v1/response")
        .unwrap_or(&s.info.response_uri)
        .to_string();
    let count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let started = s
        .platform
        .start_seal_session(
            &name,
            &hash,
            count,
            &format!("{base}/camr/v1/seal-session/wait"),
        )
        .await?;
    let tid = started.transaction.tid.clone();
    let expires_at = started.transaction.expires_at;
    let document = sessions.blobs.put(tid.as_str(), &pdf).await?;
    let flow = SealFlow {
        name,
        document,
        pages: pages.clone(),
        required: required.clone(),
        expires_at,
        seals: None,
        applied: Vec::new(),
        step: None,
        finished: false,
        last_error: None,
    };
    let purge_at = flow.purge_at();
    Versioned::create(
        sessions.records.as_ref(),
        SEAL_SESSION,
        tid.as_str(),
        flow,
        purge_at,
    )
    .await?;
    tracing::info!(%tid, pages = count, "seal session opened");
    let started = started_out(&s, Operation::Signature, started);
    let cookie_for = started.clone();
    let response = ok(SessionStartedOut {
        started,
        pages: pages_out(&pages),
        required,
        session: format!("/api/v1/seal-sessions/{tid}"),
    });
    Ok(with_owner_cookie(&s, response, &cookie_for))
}

fn pages_out(pages: &[PageSize]) -> Vec<PageOut> {
    pages
        .iter()
        .map(|p| PageOut {
            number: p.number,
            width: p.width,
            height: p.height,
        })
        .collect()
}

/// The authorised session, or why there is none: `TX_PENDING` before the scan, else the
/// platform's refusal (expired, rejected).
async fn authorised(s: &AppState, tid: &Tid) -> Result<SealSession, ApiError> {
    s.platform.seal_session(tid).await.map_err(ApiError::from)
}

async fn view_of(s: &AppState, tid: &Tid, session: &SealFlow) -> Result<SessionOut, ApiError> {
    let auth = s.platform.seal_session(tid).await;
    let state = match (&auth, session.finished) {
        (_, true) => "finished".to_string(),
        (Ok(_), false) if session.step.is_some() => "signing".into(),
        (Ok(_), false) => "authorised".into(),
        (Err(camr::ceremony::CeremonyError::Pending { .. }), _) => "waiting".into(),
        (Err(camr::ceremony::CeremonyError::Rejected { .. }), _) => "rejected".into(),
        (Err(camr::ceremony::CeremonyError::Expired { .. }), _) => "expired".into(),
        (Err(e), _) => return Err(ApiError::new(e.code(), e.to_string())),
    };
    let (holder, ca) = match &auth {
        Ok(a) => (Some(a.subject.name.clone()), Some(a.ca_org_type.clone())),
        Err(_) => (None, None),
    };
    Ok(SessionOut {
        tid: tid.to_string(),
        state,
        name: session.name.clone(),
        pages: pages_out(&session.pages),
        holder,
        ca_org_type: ca,
        applied: session.applied.clone(),
        required: session.required.clone(),
        missing: session.missing(),
        unobtainable: session.unobtainable(),
        warning: dead_end(session),
        step: session.step.as_ref().map(|st| st.tid.to_string()),
        last_error: session.last_error.clone(),
        expires_at: session.expires_at,
    })
}

async fn view(
    State(s): Shared,
    Extension(sessions): Extension<Arc<Sessions>>,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let flow = sessions.advanced(&s, &tid).await?;
    Ok(ok(view_of(&s, &tid, &flow.value).await?))
}

async fn finish(
    State(s): Shared,
    Extension(sessions): Extension<Arc<Sessions>>,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    for _ in 0..RETRIES {
        let mut flow = sessions.advanced(&s, &tid).await?;
        if flow.value.finished {
            return Ok(ok(view_of(&s, &tid, &flow.value).await?));
        }
        authorised(&s, &tid).await?;
        check_finishable(&flow.value)?;
        flow.value.finished = true;
        match sessions.save(&tid, &mut flow).await {
            Ok(()) => {
                tracing::info!(%tid, seals = flow.value.applied.len(), "seal session finished");
                return Ok(ok(view_of(&s, &tid, &flow.value).await?));
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict(format!("the seal session {tid}")).into())
}

/// 完成签章 is refused while the phone signs or a required kind is missing.
fn check_finishable(session: &SealFlow) -> Result<(), ApiError> {
    if session.step.is_some() {
        return Err(ApiError::new(
            ErrorCode::TxPending,
            "the phone is still signing a seal; finish after 签章成功",
        ));
    }
    if !session.applied.is_empty() && session.missing().is_empty() {
        return Ok(());
    }
    if let Some(warning) = dead_end(session) {
        return Err(ApiError::new(ErrorCode::SealSetIncomplete, warning));
    }
    let given: Vec<SealKind> = session.applied.iter().map(|a| a.kind).collect();
    Err(ApiError::new(
        ErrorCode::SealSetIncomplete,
        format!(
            "this document needs {} seal(s): {}; given {}: {}",
            session.required.len().max(1),
            if session.required.is_empty() {
                "any".to_string()
            } else {
                kinds_zh(&session.required)
            },
            given.len(),
            if given.is_empty() {
                "none".to_string()
            } else {
                kinds_zh(&given)
            }
        ),
    ))
}

async fn document(
    Extension(sessions): Extension<Arc<Sessions>>,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let flow = sessions.load(&tid).await?;
    let session = &flow.value;
    if !session.finished {
        return Err(ApiError::new(
            ErrorCode::TxPending,
            "the session is not finished yet (完成签章)",
        ));
    }
    let stem = session
        .name
        .strip_suffix(".pdf")
        .unwrap_or(&session.name)
        .to_string();
    let disposition = format!(
        "attachment; filename=\"sealed.pdf\"; filename*=UTF-8''{}",
        percent(&format!("{stem}-sealed.pdf"))
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        sessions.document(&tid, session).await?,
    )
        .into_response())
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The phone's wait (手机等待画面): the step to sign, or wait, or done; `TX_EXPIRED` once the
/// session ended, `TX_PENDING` before it was authorised.
async fn wait(
    State(s): Shared,
    Extension(sessions): Extension<Arc<Sessions>>,
    q: Result<Query<WaitQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::malformed(e.body_text()))?;
    let tid = parse_tid(&q.tid)?;
    let session = sessions.advanced(&s, &tid).await?.value;
    let sealed = u32::try_from(session.applied.len()).unwrap_or(u32::MAX);
    if session.finished {
        return Ok(ok(SessionStep::Done { sealed }));
    }
    let auth = authorised(&s, &tid).await?;
    if let Some(step) = &session.step {
        // The signed request of the step (the first fetch marks it scanned).
        match s.platform.request_step(&step.tid).await {
            Ok(request) => return Ok(ok(SessionStep::Sign { request, sealed })),
            Err(camr::ceremony::CeremonyError::Store(_)) => {
                // Answered meanwhile: the next poll sees the result.
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(ok(SessionStep::Wait {
        sealed,
        expires_at: auth.expires_at,
        retry_after_ms: RETRY_AFTER_MS,
    }))
}
