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
//! Sessions are kept in this server's memory (like the bid-opening hall): one instance, lost
//! on restart; the transactions and their verified results are in the store as usual.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex as StdMutex};

use axum::body::{Body, Bytes as BodyBytes};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use camr::ceremony::SealSession;
use camr::crypto::HashAlgorithm;
use camr::pki::Certificate;
use camr::protocol::{
    Bytes, ErrorCode, Operation, SealInfo, SealKind, SessionStep, SignFormat, SignItem,
    SubjectType, Tid, TransactionState,
};
use camr::seal::{self, PageSize, Placement, PreparedPdf, SealError, SealOptions};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::AppState;
use crate::api::{ApiError, json_body, ok, parse_tid, started_out};
use crate::files::{clean_name, receive, temp_path, upload_query};
use crate::owner::{set_owner_cookie, with_owner_cookie};

type Shared = State<Arc<AppState>>;

/// How long the phone is told to wait between polls.
const RETRY_AFTER_MS: u32 = 700;
/// Live sessions kept at most (older finished or expired ones are dropped first).
const MAX_SESSIONS: usize = 256;
/// Seals placed in one session at most.
const MAX_SEALS: usize = 32;
/// Millimetres to points.
const PT_PER_MM: f32 = 72.0 / 25.4;

/// The sessions of this server.
#[derive(Debug, Default)]
pub struct Sessions {
    map: StdMutex<HashMap<String, Arc<Mutex<Session>>>>,
    /// `pdftoppm` for page previews, when available.
    pdftoppm: Option<std::path::PathBuf>,
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
    pub pdftoppm: Option<std::path::PathBuf>,
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
fn on_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

impl Sessions {
    /// Sessions with a page renderer and the platform's default required seal kinds.
    pub fn new(pdftoppm: Option<std::path::PathBuf>, required: Vec<SealKind>) -> Self {
        Self {
            map: StdMutex::default(),
            pdftoppm,
            required,
        }
    }

    /// Sessions as configured (`pdftoppm` from `PATH` unless named).
    pub fn from_config(config: &SealSessionConfig) -> Self {
        Self::new(
            config.pdftoppm.clone().or_else(|| on_path("pdftoppm")),
            config.required.clone(),
        )
    }

    fn get(&self, tid: &Tid) -> Result<Arc<Mutex<Session>>, ApiError> {
        self.map
            .lock()
            .map_err(|_| ApiError::internal("session table poisoned"))?
            .get(tid.as_str())
            .cloned()
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::TxNotFound,
                    format!("{tid} is not a seal session of this server"),
                )
            })
    }

    fn insert(&self, tid: &Tid, session: Session) -> Result<(), ApiError> {
        let mut map = self
            .map
            .lock()
            .map_err(|_| ApiError::internal("session table poisoned"))?;
        let now = camr::qr::unix_now();
        if map.len() >= MAX_SESSIONS {
            // Drop sessions that ended more than ten minutes ago.
            map.retain(|_, s| s.try_lock().map_or(true, |s| s.expires_at + 600 > now));
        }
        if map.len() >= MAX_SESSIONS {
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                "too many seal sessions are open on this server; try again later",
            ));
        }
        map.insert(tid.to_string(), Arc::new(Mutex::new(session)));
        Ok(())
    }
}

/// One seal placed and signed.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedSeal {
    /// The seal's code (from the CA).
    pub seal_code: String,
    /// Its kind.
    pub kind: SealKind,
    /// The signature field in the PDF.
    pub field_name: String,
    /// Pages it is on.
    pub pages: Vec<u32>,
    /// The step (transaction) that signed it.
    pub tid: String,
}

/// A placement waiting for the phone's signature.
#[derive(Debug)]
struct Step {
    tid: Tid,
    prepared: PreparedPdf,
    seal: SealInfo,
    pages: Vec<u32>,
}

#[derive(Debug)]
struct Session {
    name: String,
    document: Vec<u8>,
    pages: Vec<PageSize>,
    required: Vec<SealKind>,
    expires_at: i64,
    seals: Option<Vec<(SealInfo, &'static str)>>,
    applied: Vec<AppliedSeal>,
    step: Option<Step>,
    finished: bool,
    /// What became of the last step when it did not end in a seal.
    last_error: Option<String>,
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

/// The routes of this module. The session table rides along as an extension.
pub fn routes(sessions: Arc<Sessions>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/seal-sessions", post(create))
        .route("/api/v1/seal-sessions/{tid}", get(view))
        .route("/api/v1/seal-sessions/{tid}/seals", get(seals))
        .route(
            "/api/v1/seal-sessions/{tid}/pages/{page}/preview.png",
            get(preview),
        )
        .route("/api/v1/seal-sessions/{tid}/place", post(place))
        .route("/api/v1/seal-sessions/{tid}/finish", post(finish))
        .route("/api/v1/seal-sessions/{tid}/document", get(document))
        .route("/camr/v1/seal-session/wait", get(wait))
        .layer(Extension(sessions))
}

fn seal_error(e: SealError) -> ApiError {
    ApiError::new(e.code(), e.to_string())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SealError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
        .map_err(seal_error)
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
    sessions.insert(
        &tid,
        Session {
            name,
            document: pdf,
            pages: pages.clone(),
            required: required.clone(),
            expires_at,
            seals: None,
            applied: Vec::new(),
            step: None,
            finished: false,
            last_error: None,
        },
    )?;
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

/// Moves the step in progress on: a verified answer becomes a seal in the document (checked
/// with `camr::seal::verify` first); a refusal, an expiry or a bad signature ends the step
/// with `last_error`.
async fn advance(s: &AppState, session: &mut Session) -> Result<(), ApiError> {
    let Some(step) = &session.step else {
        return Ok(());
    };
    let tx = s.platform.status(&step.tid).await?;
    match tx.state {
        TransactionState::Created | TransactionState::Scanned | TransactionState::Approved => {
            return Ok(());
        }
        TransactionState::Verified => {}
        other => {
            let why = match other {
                TransactionState::Rejected => format!(
                    "the phone refused the seal: {}",
                    tx.message.unwrap_or_default()
                ),
                TransactionState::Expired => "the step expired before the phone signed".into(),
                _ => format!("the step ended {other:?}"),
            };
            session.last_error = Some(why);
            session.step = None;
            return Ok(());
        }
    }
    let Some(step) = session.step.take() else {
        return Ok(());
    };
    let result = match s.platform.finish_sign(&step.tid).await {
        Ok(r) => r,
        Err(e) => {
            session.last_error = Some(e.to_string());
            return Ok(());
        }
    };
    let parse = |der: &Bytes| Certificate::from_der(der).map_err(ApiError::internal);
    let cert = parse(&result.certificate)?;
    let chain = result
        .chain
        .iter()
        .map(parse)
        .collect::<Result<Vec<_>, _>>()?;
    let Some(signature) = result.signed.into_iter().next().map(|i| i.signature.0) else {
        session.last_error = Some(
            result
                .rejected
                .first()
                .map(|r| format!("the phone refused the seal: {}", r.reason))
                .unwrap_or_else(|| "the answer signed nothing".into()),
        );
        return Ok(());
    };
    let (provider, validator) = (s.platform.provider().clone(), s.validator.clone());
    let field_name = step.prepared.field_name.clone();
    let prepared = step.prepared;
    let sealed = blocking(move || {
        crate::pdfseal::embed_checked(
            provider.as_ref(),
            &validator,
            prepared,
            &cert,
            &chain,
            signature,
        )
    })
    .await;
    match sealed {
        Ok(bytes) => {
            session.document = bytes;
            session.last_error = None;
            session.applied.push(AppliedSeal {
                seal_code: step.seal.code.clone(),
                kind: step.seal.kind,
                field_name,
                pages: step.pages.clone(),
                tid: step.tid.to_string(),
            });
            tracing::info!(tid = %step.tid, kind = step.seal.kind.as_str(), "seal applied in session");
        }
        Err(e) => session.last_error = Some(e.msg),
    }
    Ok(())
}

fn missing(session: &Session) -> Vec<SealKind> {
    let given: BTreeSet<SealKind> = session.applied.iter().map(|a| a.kind).collect();
    session
        .required
        .iter()
        .filter(|k| !given.contains(k))
        .copied()
        .collect()
}

async fn view_of(s: &AppState, tid: &Tid, session: &mut Session) -> Result<SessionOut, ApiError> {
    advance(s, session).await?;
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
        missing: missing(session),
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
    let entry = sessions.get(&tid)?;
    let mut session = entry.lock().await;
    Ok(ok(view_of(&s, &tid, &mut session).await?))
}

/// The holder's seals: from the CA's adapter; when the CA offers none (no adapter for the
/// vendor, or it does not list seals), one default seal the platform draws for the
/// certificate (公章 style for an organisation, 人名章 for a person).
async fn seals_of(
    s: &Arc<AppState>,
    auth: &SealSession,
) -> Result<Vec<(SealInfo, &'static str)>, ApiError> {
    let listed = match &s.plugins {
        None => None,
        Some(_) => {
            let state = s.clone();
            let (ca, subject) = (auth.ca_org_type.clone(), auth.subject.clone());
            let r = tokio::task::spawn_blocking(move || {
                state
                    .plugins
                    .as_ref()
                    .map(|host| host.list_seals(&ca, &subject))
            })
            .await
            .map_err(ApiError::internal)?;
            match r {
                Some(Ok(list)) => Some(list),
                Some(Err(e)) if e.code() == ErrorCode::AdapterUnavailable => None,
                Some(Err(e)) => return Err(ApiError::new(e.code(), e.to_string())),
                None => None,
            }
        }
    };
    if let Some(list) = listed.filter(|l| !l.is_empty()) {
        return Ok(list.into_iter().map(|x| (x, "ca")).collect());
    }
    let org = auth.subject.subject_type == SubjectType::Org;
    let holder = if org {
        auth.subject
            .organization
            .clone()
            .unwrap_or_else(|| auth.subject.name.clone())
    } else {
        auth.subject.name.clone()
    };
    let kind = if org {
        SealKind::Official
    } else {
        SealKind::PersonalName
    };
    let image = blocking(move || seal::appearance::seal_png(kind, &holder, 256)).await?;
    Ok(vec![(
        SealInfo {
            code: format!("PLATFORM-{}", kind.as_str()),
            kind,
            name: format!("{} (platform default)", kind.label_zh()),
            image: Bytes(image),
            width_mm: 40,
            height_mm: 40,
            cert_sn: auth.subject.cert_sn.clone(),
        },
        "platform",
    )])
}

async fn seals(
    State(s): Shared,
    Extension(sessions): Extension<Arc<Sessions>>,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let entry = sessions.get(&tid)?;
    let mut session = entry.lock().await;
    let auth = authorised(&s, &tid).await?;
    if session.seals.is_none() {
        session.seals = Some(seals_of(&s, &auth).await?);
    }
    let list = session.seals.clone().unwrap_or_default();
    Ok(ok(list
        .into_iter()
        .map(|(seal, source)| SealOut {
            kind_label: seal.kind.label_zh().to_string(),
            width_pt: seal.width_mm as f32 * PT_PER_MM,
            height_pt: seal.height_mm as f32 * PT_PER_MM,
            source: source.to_string(),
            seal,
        })
        .collect::<Vec<_>>()))
}

async fn place(
    State(s): Shared,
    Extension(sessions): Extension<Arc<Sessions>>,
    Path(tid): Path<String>,
    headers: HeaderMap,
    body: Result<BodyBytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let input: PlaceIn = json_body(&headers, body)?;
    let entry = sessions.get(&tid)?;
    let mut session = entry.lock().await;
    advance(&s, &mut session).await?;
    if session.finished {
        return Err(ApiError::new(
            ErrorCode::TxAlreadyAnswered,
            "this seal session is finished (完成签章)",
        ));
    }
    if let Some(step) = &session.step {
        return Err(ApiError::new(
            ErrorCode::TxPending,
            format!(
                "the phone is still signing the previous seal ({}); wait for 签章成功",
                step.tid
            ),
        ));
    }
    if session.applied.len() >= MAX_SEALS {
        return Err(ApiError::malformed(format!(
            "a session places at most {MAX_SEALS} seals"
        )));
    }
    let auth = authorised(&s, &tid).await?;
    if session.seals.is_none() {
        session.seals = Some(seals_of(&s, &auth).await?);
    }
    let seal_info = session
        .seals
        .iter()
        .flatten()
        .find(|(x, _)| x.code == input.seal_code)
        .map(|(x, _)| x.clone())
        .ok_or_else(|| {
            ApiError::malformed(format!(
                "`{}` is not one of the holder's seals",
                input.seal_code.chars().take(64).collect::<String>()
            ))
        })?;
    let pages: Vec<u32> = if input.every_page {
        session.pages.iter().map(|p| p.number).collect()
    } else if input.pages.is_empty() {
        return Err(ApiError::malformed(
            "say where the seal goes: `pages` (one or more) or `everyPage`",
        ));
    } else {
        input.pages.clone()
    };
    let (w, h) = (
        seal_info.width_mm as f32 * PT_PER_MM,
        seal_info.height_mm as f32 * PT_PER_MM,
    );
    let mut options = SealOptions::new(Placement::Pages {
        pages: pages.clone(),
        rect: [input.x, input.y, w, h],
    });
    options.reason = Some(format!("签章 {}", seal_info.kind.label_zh()));
    options.image =
        Some(seal::appearance::SealImage::from_png(&seal_info.image).map_err(seal_error)?);
    let provider = s.platform.provider().clone();
    let doc = session.document.clone();
    let key = auth.key_algorithm;
    let prepared = blocking(move || seal::prepare(provider.as_ref(), &doc, key, &options)).await?;
    let item = SignItem {
        format: SignFormat::CadesAttributes,
        ..SignItem::hash(
            "pdf",
            &format!("{} · {}", session.name, seal_info.kind.label_zh()),
            prepared.digest.clone(),
            prepared.hash,
        )
    };
    let started = s.platform.start_session_sign(&tid, vec![item]).await?;
    let step_tid = started.transaction.tid.clone();
    // The session's owner owns its steps: the step's credential goes to the same browser.
    let step_cookie = (
        step_tid.to_string(),
        started.owner.expose().to_string(),
        started.transaction.expires_at,
    );
    let out = PlacedOut {
        tid: step_tid.to_string(),
        field_name: prepared.field_name.clone(),
        pages: pages.clone(),
    };
    session.last_error = None;
    session.step = Some(Step {
        tid: step_tid,
        prepared,
        seal: seal_info,
        pages,
    });
    let (step, token, expires_at) = step_cookie;
    Ok(set_owner_cookie(&s, ok(out), &step, &token, expires_at))
}

async fn finish(
    State(s): Shared,
    Extension(sessions): Extension<Arc<Sessions>>,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let entry = sessions.get(&tid)?;
    let mut session = entry.lock().await;
    advance(&s, &mut session).await?;
    if !session.finished {
        authorised(&s, &tid).await?;
        if session.step.is_some() {
            return Err(ApiError::new(
                ErrorCode::TxPending,
                "the phone is still signing a seal; finish after 签章成功",
            ));
        }
        let missing = missing(&session);
        if session.applied.is_empty() || !missing.is_empty() {
            let given: Vec<SealKind> = session.applied.iter().map(|a| a.kind).collect();
            return Err(ApiError::new(
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
            ));
        }
        session.finished = true;
        tracing::info!(%tid, seals = session.applied.len(), "seal session finished");
    }
    Ok(ok(view_of(&s, &tid, &mut session).await?))
}

async fn document(
    Extension(sessions): Extension<Arc<Sessions>>,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let entry = sessions.get(&tid)?;
    let session = entry.lock().await;
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
        session.document.clone(),
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

async fn preview(
    State(s): Shared,
    Extension(sessions): Extension<Arc<Sessions>>,
    Path((tid, page)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let page: u32 = page.parse().map_err(|_| {
        ApiError::malformed(format!(
            "`{}` is not a page number",
            page.chars().take(20).collect::<String>()
        ))
    })?;
    let entry = sessions.get(&tid)?;
    let (doc, size) = {
        let session = entry.lock().await;
        let size = session
            .pages
            .iter()
            .find(|p| p.number == page)
            .copied()
            .ok_or_else(|| {
                ApiError::malformed(format!(
                    "page {page} does not exist (the document has {} pages)",
                    session.pages.len()
                ))
            })?;
        (session.document.clone(), size)
    };
    let rendered = match &sessions.pdftoppm {
        Some(tool) => {
            tokio::fs::create_dir_all(&s.files_dir)
                .await
                .map_err(ApiError::internal)?;
            let root = crate::files::temp_path(&s)?.with_extension("");
            render_page(tool, doc, page, root).await
        }
        None => None,
    };
    let (png, how) = match rendered {
        Some(png) => (png, "rendered"),
        None => (blank_page(size)?, "blank"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-store"),
            (header::HeaderName::from_static("x-camr-preview"), how),
        ],
        png,
    )
        .into_response())
}

/// Page `page` at 72 dpi (one pixel per point) through `pdftoppm`, its crop box as a reader
/// sees it; `None` when the tool fails (the page then gets a blank sheet). The PDF goes in on
/// stdin; the image comes out as `<root>.png` (pdftoppm 22 cannot write PNG to stdout).
async fn render_page(
    tool: &std::path::Path,
    pdf: Vec<u8>,
    page: u32,
    root: std::path::PathBuf,
) -> Option<Vec<u8>> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(tool)
        .args(["-f", &page.to_string(), "-l", &page.to_string()])
        .args(["-r", "72", "-cropbox", "-png", "-singlefile", "-"])
        .arg(&root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&pdf).await;
    });
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .ok()?
        .ok()?;
    let _ = writer.await;
    let file = root.with_extension("png");
    let png = tokio::fs::read(&file).await.ok();
    let _ = tokio::fs::remove_file(&file).await;
    png.filter(|p| status.success() && p.starts_with(b"\x89PNG"))
}

/// A white sheet of the page's size with a grey border.
fn blank_page(size: PageSize) -> Result<Vec<u8>, ApiError> {
    let w = (size.width.round() as u32).clamp(1, 4000);
    let h = (size.height.round() as u32).clamp(1, 4000);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
            image::Rgb([180, 180, 180])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(ApiError::internal)?;
    Ok(out.into_inner())
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
    let entry = sessions.get(&tid)?;
    let mut session = entry.lock().await;
    advance(&s, &mut session).await?;
    let sealed = u32::try_from(session.applied.len()).unwrap_or(u32::MAX);
    if session.finished {
        return Ok(ok(SessionStep::Done { sealed }));
    }
    let auth = authorised(&s, &tid).await?;
    if let Some(step) = &session.step {
        // The signed request of the step (the first fetch marks it scanned).
        match s.platform.request(&step.tid).await {
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
