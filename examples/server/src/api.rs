//! The HTTP API. Every JSON answer is an [`ApiResult`] envelope; errors carry the stable
//! [`ErrorCode`] and its default HTTP status.
//!
//! | method and path | what |
//! |---|---|
//! | `POST /api/v1/transactions` | start an operation → `{tid, qrText, expiresAt, ...}` |
//! | `GET /api/v1/transactions/{tid}` | status (the transaction) |
//! | `GET /api/v1/transactions/{tid}/qr.svg`, `/qr.png` | the QR of a live transaction |
//! | `GET /api/v1/transactions/{tid}/result` | the verified result, or `TX_PENDING`, `TX_REJECTED` (with the reason), ... |
//! | `POST /api/v1/transactions/{tid}/cancel` | cancel |
//! | `GET /api/v1/transactions/{tid}/events` | status changes as Server-Sent Events (ends after a final state) |
//! | `GET /camr/v1/request/{tid}` | app: the platform-signed request object (`data` = `SignedRequest`) |
//! | `POST /camr/v1/response` | app: the answer (`camr::protocol::Response`) |
//! | `GET /api/v1/platform` | system code, name, key id and public key |
//! | `GET /api/v1/admin/adapters` | adapter health |
//! | `GET /healthz`, `GET /readyz` | liveness, readiness (the store answers) |
//! | `GET /metrics`, `GET /api/v1/reports/usage[.csv]`, `POST /api/v1/admin/adapters/reload` | operations: see [`crate::ops`] |
//! | `GET /api/v1/transactions/{tid}/qr.txt` | the QR payload text shown now |
//! | `POST /api/v1/admin/delegations/withdraw` | withdraw (收回) a delegation: see [`crate::scope`] |
//! | `GET/POST /api/v1/registrations…`, `GET /api/v1/admin/accounts`, `POST /api/v1/admin/accounts/decide` | scan-bind and shared registration (扫码绑定/共享注册): see [`crate::accounts`] |
//! | `POST /api/v1/admin/crls/reload`, `GET /api/v1/transactions/{tid}/verification` | CRLs after start-up (冻结/解冻), signing-time validity: see [`crate::revocation`] |
//! | `GET /api/openapi.json` | the OpenAPI 3.1 document of every route (see [`crate::openapi`]) |
//! | pages | see [`crate::pages`]; bid files and verification: [`crate::files`] |
//!
//! Decrypt results hold the content keys (base64): they are secrets, handed out exactly once —
//! the per-transaction platform key that opens them is deleted when they are read, so a
//! second `GET .../result` fails.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use camr::ceremony::CeremonyError;
use camr::protocol::{
    ApiResult, EncryptedKeyItem, ErrorCode, Operation, SignItem, Tid, TransactionState,
};
use serde::{Deserialize, Serialize};
use tower_http::trace::TraceLayer;

use crate::AppState;

type Shared = State<Arc<AppState>>;

/// A failed call: its code, a sentence, and the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The stable code.
    pub code: ErrorCode,
    /// A sentence.
    pub msg: String,
    /// The HTTP status (the code's default unless the transport says otherwise).
    pub status: StatusCode,
}

impl ApiError {
    /// An error with the code's default HTTP status.
    pub fn new(code: ErrorCode, msg: impl Into<String>) -> Self {
        Self {
            code,
            msg: msg.into(),
            status: StatusCode::from_u16(code.default_http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// `INPUT_MALFORMED` with its default status (400).
    pub(crate) fn malformed(msg: impl Into<String>) -> Self {
        Self::new(ErrorCode::InputMalformed, msg)
    }

    /// `INTERNAL`: something on our side failed (I/O, encoding).
    pub(crate) fn internal(e: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::Internal, e.to_string())
    }
}

/// A short random id naming one internal error in the log.
fn incident_id() -> String {
    let mut b = [0u8; 6];
    if camr::crypto::default_provider()
        .fill_random(&mut b)
        .is_err()
    {
        return format!("t{}", camr::qr::unix_now());
    }
    data_encoding::HEXLOWER.encode(&b)
}

/// Every error type of the SDK and the plugin host answers with its own stable code and
/// sentence, so handlers use `?` and never map errors by hand.
macro_rules! api_error_from {
    ($($t:ty),* $(,)?) => {
        $(impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                Self::new(e.code(), e.to_string())
            }
        })*
    };
}

api_error_from!(
    camr::store::StoreError,
    camr::store::hall::SubmissionRefusal,
    camr::hall::HallError,
    CeremonyError,
    camr::Error,
    camr::qr::QrError,
    camr::envelope::EnvelopeError,
    camr::seal::SealError,
    camr::pki::CertError,
    camr::crypto::CryptoError,
    camr_plugin_host::PluginError,
);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let msg = if self.code == ErrorCode::Internal {
            // The detail (a path, a database message) stays in the log, under an incident id
            // the caller can quote to the operator.
            let incident = incident_id();
            tracing::error!(incident, msg = %self.msg, "internal error");
            format!(
                "something went wrong on the platform's side (incident {incident}); the \
                 operator finds the details in the server log"
            )
        } else {
            if self.status.is_server_error() {
                tracing::error!(code = %self.code, msg = %self.msg, "request failed");
            }
            self.msg
        };
        let mut body = ApiResult::<()>::error(self.code, msg);
        body.code = self.status.as_u16();
        (self.status, axum::Json(body)).into_response()
    }
}

/// A successful answer: `data` in the result envelope.
pub(crate) fn ok<T: Serialize>(data: T) -> Response {
    axum::Json(ApiResult::ok(data)).into_response()
}

type Handled = Result<Response, ApiError>;

/// Reads a JSON body: wrong content type, oversized, unreadable or malformed bodies are
/// `INPUT_MALFORMED` (415, 413, 400).
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        if !ct.starts_with("application/json") {
            return Err(ApiError {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ..ApiError::malformed(format!(
                    "the body must be application/json, not `{}`",
                    ct.chars().take(60).collect::<String>()
                ))
            });
        }
    }
    let body = body.map_err(|r| ApiError {
        status: r.status(),
        ..ApiError::malformed(format!("cannot read the body: {}", r.body_text()))
    })?;
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::malformed(format!("the body is not the expected JSON: {e}")))
}

/// A tid from the path; `TID_INVALID` (400) when it is not one.
pub(crate) fn parse_tid(s: &str) -> Result<Tid, ApiError> {
    Tid::parse(s).map_err(|e| ApiError::new(ErrorCode::TidInvalid, e.to_string()))
}

/// The router with every route, the 1 MiB body limit and request tracing.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/platform", get(platform_info))
        .route("/api/v1/admin/adapters", get(adapters))
        .route("/api/v1/transactions", post(start))
        .route("/api/v1/transactions/{tid}", get(status))
        .route("/api/v1/transactions/{tid}/qr.svg", get(qr_svg))
        .route("/api/v1/transactions/{tid}/qr.png", get(qr_png))
        .route("/api/v1/transactions/{tid}/qr.txt", get(qr_txt))
        .route("/api/v1/transactions/{tid}/result", get(result))
        .route("/api/v1/transactions/{tid}/cancel", post(cancel))
        .route("/camr/v1/request/{tid}", get(app_request))
        .route("/camr/v1/response", post(app_response))
        .route("/api/openapi.json", get(crate::openapi::serve))
        .merge(crate::pages::routes())
        .merge(crate::ops::routes())
        .merge(crate::revocation::routes())
        .merge(crate::scope::routes())
        .merge(crate::accounts::routes())
        .merge(crate::interlink::routes(&state))
        // The request timeout covers the routes above; those below are long-lived (the
        // event stream; file uploads, sealing and downloads, bounded by the upload limit).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::ops::timeout,
        ))
        .route(
            "/api/v1/transactions/{tid}/events",
            get(crate::sse::transaction_events),
        )
        .merge(crate::files::routes())
        .merge(crate::hall::routes())
        .merge(crate::pdfseal::routes())
        .merge(crate::sealsession::routes(state.seal_sessions.clone()))
        // Every route that names a transaction: its owner or the operator only.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::owner::guard,
        ))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.ops.body_limit()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::ops::track,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// An address no route has: for a browser (it accepts `text/html`, outside `/api/` and
/// `/camr/`) an HTML page people read, for anything else the JSON envelope.
async fn not_found(uri: axum::http::Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if html && !path.starts_with("/api/") && !path.starts_with("/camr/") {
        return crate::pages::not_found_page(path);
    }
    ApiError {
        status: StatusCode::NOT_FOUND,
        ..ApiError::malformed("no such endpoint")
    }
    .into_response()
}

async fn healthz() -> Response {
    ok(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(s): Shared) -> Handled {
    // A read of a tid that cannot exist: the store answers, or the server is not ready.
    let probe = Tid::new(
        &camr::protocol::SystemCode::parse(&s.info.system_code).map_err(ApiError::internal)?,
        [0; 16],
    );
    s.store.get(&probe).await.map_err(|e| ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        ..ApiError::new(e.code(), e.to_string())
    })?;
    Ok(ok(
        serde_json::json!({ "status": "ready", "store": s.store_kind }),
    ))
}

async fn platform_info(State(s): Shared) -> Response {
    ok(&s.info)
}

async fn adapters(State(s): Shared) -> Response {
    ok(s.plugins.as_ref().map(|h| h.health()).unwrap_or_default())
}

/// Body of `POST /api/v1/transactions`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartBody {
    /// The operation.
    pub operation: Operation,
    /// messageSignature: the message shown and signed.
    #[serde(default)]
    pub message: Option<String>,
    /// signature: the hashes with their document names.
    #[serde(default)]
    pub items: Option<Vec<SignItem>>,
    /// revokeSignature: the seal.
    #[serde(default)]
    pub seal_id: Option<String>,
    /// revokeSignature: the document.
    #[serde(default)]
    pub document_name: Option<String>,
    /// revokeSignature: why.
    #[serde(default)]
    pub reason: Option<String>,
    /// decrypt: the envelope's encrypted keys.
    #[serde(default)]
    pub keys: Option<Vec<EncryptedKeyItem>>,
    /// login: ask the app for shared registration data (共享注册); default
    /// `registration.share`.
    #[serde(default)]
    pub share_registration: Option<bool>,
}

/// What `POST /api/v1/transactions` answers.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartedOut {
    /// The transaction id.
    pub tid: String,
    /// The operation.
    pub operation: Operation,
    /// The QR payload text (what the QR symbol holds).
    pub qr_text: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// System code shown under the QR.
    pub system_code: String,
    /// Trading system name shown under the QR.
    pub system_name: String,
    /// The QR as SVG.
    pub qr_svg: String,
    /// The QR as PNG.
    pub qr_png: String,
    /// Status.
    pub status: String,
    /// Result.
    pub result: String,
    /// The owner credential of the transaction: every route that shows its status, QR,
    /// result, keys or files asks for it (header `X-Camr-Owner`; browsers get it as an
    /// HttpOnly cookie with this answer). Keep it secret; only whoever started the
    /// transaction has it.
    pub owner_token: String,
}

/// The answer to a started transaction: [`StartedOut`] in the result envelope, with the
/// owner cookie.
pub(crate) fn started_ok(
    s: &AppState,
    op: Operation,
    started: camr::ceremony::Started,
) -> Response {
    let out = started_out(s, op, started);
    crate::owner::with_owner_cookie(s, ok(&out), &out)
}

fn need<T>(v: Option<T>, what: &str, op: Operation) -> Result<T, ApiError> {
    v.ok_or_else(|| ApiError::malformed(format!("`{what}` is required for {op}")))
}

async fn start(
    State(s): Shared,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Handled {
    let b: StartBody = json_body(&headers, body)?;
    let p = &s.platform;
    let op = b.operation;
    let started = match op {
        Operation::Login => {
            p.start_login_sharing(b.share_registration.unwrap_or(s.registration.share))
                .await?
        }
        Operation::MessageSignature => {
            p.start_message_signature(&need(b.message, "message", op)?)
                .await?
        }
        Operation::Signature => p.start_sign(need(b.items, "items", op)?).await?,
        Operation::RevokeSignature => {
            p.start_revoke_signature(
                &need(b.seal_id, "sealId", op)?,
                &need(b.document_name, "documentName", op)?,
                b.reason.as_deref(),
            )
            .await?
        }
        Operation::Encrypt => p.start_encrypt().await?,
        Operation::Decrypt => p.start_decrypt(need(b.keys, "keys", op)?).await?,
    };
    Ok(started_ok(&s, op, started))
}

/// The answer to a started transaction: its QR text and where to follow it.
pub(crate) fn started_out(
    s: &AppState,
    op: Operation,
    started: camr::ceremony::Started,
) -> StartedOut {
    let tid = started.transaction.tid.to_string();
    let base = format!("/api/v1/transactions/{tid}");
    StartedOut {
        operation: op,
        qr_text: started.qr_text,
        expires_at: started.transaction.expires_at,
        system_code: s.info.system_code.clone(),
        system_name: s.info.system_name.clone(),
        qr_svg: format!("{base}/qr.svg"),
        qr_png: format!("{base}/qr.png"),
        status: base.clone(),
        result: format!("{base}/result"),
        owner_token: started.owner.expose().to_string(),
        tid,
    }
}

async fn status(State(s): Shared, Path(tid): Path<String>) -> Handled {
    let tid = parse_tid(&tid)?;
    Ok(ok(s.platform.status(&tid).await?))
}

/// The QR text of a live transaction, signed afresh, with its live part where codes rotate.
pub(crate) async fn live_qr_text(s: &AppState, tid: &Tid) -> Result<String, ApiError> {
    Ok(s.platform.live_code(tid, None).await?.1)
}

fn with_type(bytes: impl Into<axum::body::Body>, content_type: &'static str) -> Response {
    let mut r = Response::new(bytes.into());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn qr_svg(State(s): Shared, Path(tid): Path<String>) -> Handled {
    let tid = parse_tid(&tid)?;
    let text = live_qr_text(&s, &tid).await?;
    let svg = camr::qr::render_svg(&text)?;
    Ok(with_type(svg, "image/svg+xml"))
}

async fn qr_txt(State(s): Shared, Path(tid): Path<String>) -> Handled {
    let tid = parse_tid(&tid)?;
    let text = live_qr_text(&s, &tid).await?;
    Ok(with_type(text, "text/plain; charset=utf-8"))
}

async fn qr_png(State(s): Shared, Path(tid): Path<String>) -> Handled {
    let tid = parse_tid(&tid)?;
    let text = live_qr_text(&s, &tid).await?;
    let png = camr::qr::render_png(&text, 8)?;
    Ok(with_type(png, "image/png"))
}

/// One content key of a decrypt result.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContentKeyOut {
    /// Item id of the decrypt request.
    pub item_id: String,
    /// The content-encryption key, standard base64. A secret, returned once.
    pub content_key: String,
}

/// Result of a decrypt.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecryptOut {
    /// The transaction.
    pub tid: String,
    /// The content keys.
    pub keys: Vec<ContentKeyOut>,
}

fn to_json<T: Serialize>(v: T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(v).map_err(ApiError::internal)
}

async fn result(State(s): Shared, Path(tid): Path<String>) -> Handled {
    let tid = parse_tid(&tid)?;
    let p = &s.platform;
    let tx = p.status(&tid).await?;
    let value = match tx.operation {
        Operation::Login => {
            to_json(crate::accounts::login_out(&s, p.finish_login(&tid).await?).await?)?
        }
        Operation::MessageSignature => to_json(p.finish_message_signature(&tid).await?)?,
        Operation::Signature => to_json(p.finish_sign(&tid).await?)?,
        Operation::RevokeSignature => to_json(p.finish_revoke_signature(&tid).await?)?,
        Operation::Encrypt => to_json(p.finish_encrypt(&tid).await?)?,
        Operation::Decrypt => {
            let keys = p.finish_decrypt(&tid).await?;
            tracing::info!(%tid, "decrypt content keys handed out (once)");
            to_json(DecryptOut {
                tid: tid.to_string(),
                keys: keys
                    .iter()
                    .map(|(id, k)| ContentKeyOut {
                        item_id: id.clone(),
                        content_key: data_encoding::BASE64.encode(k),
                    })
                    .collect(),
            })?
        }
    };
    let mut r = ok(value);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

async fn cancel(State(s): Shared, Path(tid): Path<String>) -> Handled {
    let tid = parse_tid(&tid)?;
    s.platform.cancel(&tid).await?;
    Ok(ok(s.platform.status(&tid).await?))
}

/// Query of the app's request fetch.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestQuery {
    /// The rotating part of the scanned code, `STEP.MAC` (checked by the platform:
    /// `camr::ceremony::Platform::request_scanned`).
    #[serde(default)]
    pub rot: Option<String>,
    /// The QR profile of the scanned code (`camr1`, the default, or `vendor1`).
    #[serde(default)]
    pub qr: Option<String>,
}

/// Query of the app's answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseQuery {
    /// The QR profile the answer came through (`camr1`, the default, or `vendor1`).
    #[serde(default)]
    pub qr: Option<String>,
}

/// The QR profile (二维码类型) named by a `qr` query parameter: the platform's own (national,
/// `camr1`) when absent.
pub(crate) fn qr_profile(
    s: &AppState,
    id: Option<&str>,
) -> Result<Arc<dyn camr::qr::QrProfile>, ApiError> {
    let known: [Arc<dyn camr::qr::QrProfile>; 2] =
        [Arc::new(camr::qr::Camr1), Arc::new(camr::qr::Vendor1)];
    match id {
        None => Ok(s.platform.qr_profile().clone()),
        Some(id) => known.into_iter().find(|p| p.id() == id).ok_or_else(|| {
            ApiError::new(
                ErrorCode::QrMalformed,
                format!(
                    "`{}` is not a QR profile of this platform (camr1, vendor1)",
                    id.chars().take(20).collect::<String>()
                ),
            )
        }),
    }
}

async fn app_request(
    State(s): Shared,
    Path(tid): Path<String>,
    query: Result<Query<RequestQuery>, QueryRejection>,
) -> Handled {
    let tid = parse_tid(&tid)?;
    let Query(q) = query.map_err(|e| ApiError::malformed(e.body_text()))?;
    qr_profile(&s, q.qr.as_deref())?;
    Ok(ok(s
        .platform
        .request_scanned(&tid, q.rot.as_deref())
        .await?))
}

/// What `POST /camr/v1/response` answers.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnsweredOut {
    /// The transaction.
    pub tid: String,
    /// Its state now (`verified` or `rejected`).
    pub state: TransactionState,
}

async fn app_response(
    State(s): Shared,
    query: Result<Query<ResponseQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Handled {
    let Query(q) = query.map_err(|e| ApiError::malformed(e.body_text()))?;
    let via = qr_profile(&s, q.qr.as_deref())?;
    let response: camr::protocol::Response = json_body(&headers, body)?;
    let state = s
        .platform
        .answer_via(via.as_ref(), &response.tid, &response)
        .await?;
    tracing::info!(tid = %response.tid, ?state, ca = %response.ca_org_type, "answer recorded");
    Ok(ok(AnsweredOut {
        tid: response.tid.to_string(),
        state,
    }))
}
