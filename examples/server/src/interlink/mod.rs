//! The interlink-compatible endpoint (中招互连 前置机 compatibility, `docs/interlink.md`): a
//! platform that docked through the predecessor scheme's front-end processor (前置机) points
//! its processor base URL at `<camr server>/interlink/` and keeps its shapes.
//!
//! | method and path | what |
//! |---|---|
//! | `POST /interlink/receiveAppLogController/receiveScanData` | the app side's callback `{type, data{encrypt, desKey}, platformCode}` → `{"header":{"ret":"0","msg":…},"data":null}` (`ret` `1` and a message on refusal) |
//! | `GET /interlink/sweepcodeController/getQRCodeContent?tId=` (or `?platformCode=&qRCodeType=02\|05`) | the interlink QR content of a transaction (or of a new login / encrypt) |
//! | `GET /interlink/sweepcodeController/getScanInfo?tId=` | the transaction's state and the callbacks received for it |
//! | `GET /interlink/sweepcodeController/getDecryptInfo?tId=` | a verified decrypt's content keys (`decryptStr`), handed out once |
//! | `GET /interlink/sweepcodeController/getEncryptKey` | the platform's SM2 encryption key that callbacks wrap their SM4 key to |
//!
//! Queries answer `{"header":{"returnCode":"0","msg":…,"size":…},"data":…}` (`returnCode`
//! `1`, `data` null on refusal). Every answer is HTTP 200 (the predecessor's clients read
//! `ret`/`returnCode`); camr adds the stable `errorCode` to a refusal's header.
//!
//! The callback types drive camr's ceremony ([`camr::qr::interlink::CallbackType`]): `01`
//! (scan status, `{tId, isScaned, qRCodeType?}`) marks the transaction scanned as the
//! request fetch does; `02`, `03`, `05`, `06` carry camr's [`camr::protocol::Response`] of a
//! login, a message signature / signature / revocation, an encrypt and a decrypt, which
//! [`camr::ceremony::Platform::answer_via`] verifies through the `interlink` QR profile like
//! any answer (a vendor's `vendorEvidence` goes through its adapter first, as on
//! `POST /camr/v1/response`). The encryption only keeps the body confidential; the answer's
//! own signature, certificate chain and request hash are what the platform trusts.
//!
//! The callbacks received are kept per tid as records in the store (the last
//! [`MAX_CALLBACKS`] per transaction, [`RECORD_DAYS`] days) for `getScanInfo`, so every
//! instance answers it alike; the transactions themselves are in the platform's store.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Extension, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use camr::protocol::{ErrorCode, Operation, Tid, TransactionState};
use camr::qr::interlink::{
    Callback, CallbackType, Interlink, ScanStatus, open_callback, operation_of_qr_code_type,
    qr_code_type,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::{ApiError, json_body};

type Shared = State<Arc<AppState>>;

mod compat;
pub use compat::{Compat, KEY_FILE, MAX_CALLBACKS, RECORD_DAYS};

/// The routes of this module, with the endpoint's state (its key is loaded here, from the
/// data folder: the parent of `state.files_dir`).
pub fn routes(state: &AppState) -> Router<Arc<AppState>> {
    let data = state
        .files_dir
        .parent()
        .unwrap_or(&state.files_dir)
        .to_path_buf();
    let compat = Arc::new(Compat::load(
        state.platform.provider(),
        &data,
        state.records.clone(),
    ));
    Router::new()
        .route(
            "/interlink/receiveAppLogController/receiveScanData",
            post(receive),
        )
        .route(
            "/interlink/sweepcodeController/getQRCodeContent",
            get(qr_content),
        )
        .route("/interlink/sweepcodeController/getScanInfo", get(scan_info))
        .route(
            "/interlink/sweepcodeController/getDecryptInfo",
            get(decrypt_info),
        )
        .route(
            "/interlink/sweepcodeController/getEncryptKey",
            get(encrypt_key),
        )
        .layer(Extension(compat))
}

// ---------------------------------------------------------------------------------------
// Wire types.

/// The header of a callback's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetHeader {
    /// `0` received and applied, `1` refused.
    pub ret: String,
    /// What happened, or why it was refused (a sentence).
    pub msg: String,
    /// camr's stable code of a refusal (absent on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
}

/// The answer to a callback: `{"header":{"ret":"0","msg":"…"},"data":null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CallbackAnswer {
    /// The outcome.
    pub header: RetHeader,
    /// Always null.
    pub data: Option<()>,
}

/// The header of a query's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReturnHeader {
    /// `0` success, `1` failure.
    pub return_code: String,
    /// What happened, or why not (a sentence).
    pub msg: String,
    /// The number of entries when `data` is a list, else null.
    pub size: Option<u64>,
    /// camr's stable code of a failure (absent on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
}

/// The answer to a query: `{"header":{"returnCode":"0","msg":"…","size":null},"data":…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct QueryAnswer<T> {
    /// The outcome.
    pub header: ReturnHeader,
    /// The data; null on failure.
    pub data: Option<T>,
}

/// One callback as received (for `getScanInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackRecord {
    /// Its type code.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it arrived, Unix seconds.
    pub received_at: i64,
    /// The `ret` it was answered with.
    pub ret: String,
    /// The `msg` it was answered with.
    pub msg: String,
}

/// `getQRCodeContent`'s data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QrContentOut {
    /// The transaction (platform code + 32 hex digits).
    pub tid: String,
    /// The QR content: the request URL with the base64 query (`interlink` profile).
    pub content: String,
    /// The predecessor's multi-step process id; camr has none (null).
    pub pid: Option<String>,
    /// The `QRCodeType` of the code.
    #[serde(rename = "qRCodeType")]
    pub qr_code_type: String,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// The owner credential, when this call started the transaction: the queries by `tId`
    /// (`getQRCodeContent`, `getScanInfo`, `getDecryptInfo`) ask for it (header
    /// `X-Camr-Owner`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_token: Option<String>,
}

/// `getScanInfo`'s data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanInfoOut {
    /// The transaction.
    pub tid: String,
    /// Its operation.
    pub operation: Operation,
    /// Its `QRCodeType`.
    #[serde(rename = "qRCodeType")]
    pub qr_code_type: String,
    /// `01` once scanned (any state after `created`), else `00`.
    pub is_scaned: String,
    /// camr's state (`created`, `scanned`, `verified`, `rejected`, …).
    pub state: TransactionState,
    /// The CA vendor that answered, once known.
    pub ca_org_type: Option<String>,
    /// Why it was rejected or failed, when it was.
    pub message: Option<String>,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// The callbacks received for it (this server instance, newest last).
    pub callbacks: Vec<CallbackRecord>,
}

/// One entry of `getDecryptInfo`'s data (the predecessor's field names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecryptInfoOut {
    /// The transaction.
    pub tid: String,
    /// The caller's id of the envelope (the decrypt request's item id).
    pub decrypt_key: String,
    /// The decrypted data: the envelope's content key, standard base64. A secret, once.
    pub decrypt_str: String,
    /// `0` decrypted.
    pub decrypt_status: String,
    /// `解密成功`.
    pub decrypt_status_info: String,
    /// When the transaction was created, Unix seconds.
    pub create_time: i64,
}

/// `getEncryptKey`'s data: the key callbacks wrap their SM4 key to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EncryptKeyOut {
    /// This platform's code.
    pub platform_code: String,
    /// `SM2`.
    pub algorithm: String,
    /// Key id: upper-case hex of the first 4 bytes of SM3(SPKI DER).
    pub key_id: String,
    /// SubjectPublicKeyInfo DER, standard base64.
    pub public_key_spki: String,
    /// The same as PEM.
    pub public_key_pem: String,
}

/// Query parameters of the `sweepcodeController` calls (the predecessor's names).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InterlinkQuery {
    /// The transaction.
    #[serde(rename = "tId", default)]
    pub tid: Option<String>,
    /// The platform's code; when given it must be this platform's.
    #[serde(rename = "platformCode", default)]
    pub platform_code: Option<String>,
    /// `getQRCodeContent` without `tId`: `02` starts a login, `05` an encrypt.
    #[serde(rename = "qRCodeType", default)]
    pub qr_code_type: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Answers.

fn ret_ok(msg: String) -> Response {
    Json(CallbackAnswer {
        header: RetHeader {
            ret: "0".into(),
            msg,
            error_code: None,
        },
        data: None,
    })
    .into_response()
}

fn ret_refused(e: &ApiError) -> Response {
    Json(CallbackAnswer {
        header: RetHeader {
            ret: "1".into(),
            msg: e.msg.clone(),
            error_code: Some(e.code),
        },
        data: None,
    })
    .into_response()
}

fn query_answer<T: Serialize>(result: Result<(T, Option<u64>), ApiError>, msg: &str) -> Response {
    match result {
        Ok((data, size)) => Json(QueryAnswer {
            header: ReturnHeader {
                return_code: "0".into(),
                msg: msg.into(),
                size,
                error_code: None,
            },
            data: Some(data),
        })
        .into_response(),
        Err(e) => Json(QueryAnswer::<T> {
            header: ReturnHeader {
                return_code: "1".into(),
                msg: e.msg,
                size: None,
                error_code: Some(e.code),
            },
            data: None,
        })
        .into_response(),
    }
}

fn malformed(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InputMalformed, msg)
}

fn cut(s: &str) -> String {
    s.chars().take(40).collect()
}

/// This platform's code, or `PLATFORM_UNKNOWN` naming both.
fn check_platform(s: &AppState, code: &str) -> Result<(), ApiError> {
    if code == s.info.system_code {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::PlatformUnknown,
        format!(
            "platform code `{}` is not this platform's ({})",
            cut(code),
            s.info.system_code
        ),
    ))
}

/// A tid of this platform.
fn own_tid(s: &AppState, tid: &str) -> Result<Tid, ApiError> {
    let tid = crate::api::parse_tid(tid)?;
    check_platform(s, tid.system_code().as_str())?;
    Ok(tid)
}

// ---------------------------------------------------------------------------------------
// The callback.

async fn receive(
    State(s): Shared,
    Extension(c): Extension<Arc<Compat>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (tid, kind, outcome) = match json_body::<Callback>(&headers, body) {
        Ok(cb) => apply(&s, &c, &cb).await,
        Err(e) => (None, String::new(), Err(e)),
    };
    let (ret, msg) = match &outcome {
        Ok(msg) => ("0", msg.clone()),
        Err(e) => ("1", e.msg.clone()),
    };
    match &outcome {
        Ok(_) => tracing::info!(?tid, %kind, "interlink callback applied"),
        Err(e) => {
            tracing::info!(?tid, %kind, code = %e.code, msg = %e.msg, "interlink callback refused")
        }
    }
    if let Some(tid) = &tid {
        c.record(
            tid,
            CallbackRecord {
                kind,
                received_at: camr::qr::unix_now(),
                ret: ret.into(),
                msg,
            },
        )
        .await;
    }
    match outcome {
        Ok(msg) => ret_ok(msg),
        Err(e) => ret_refused(&e),
    }
}

/// Checks, decrypts and applies one callback: the tid it concerns (when known), its type
/// code, and the outcome.
async fn apply(
    s: &Arc<AppState>,
    c: &Compat,
    cb: &Callback,
) -> (Option<Tid>, String, Result<String, ApiError>) {
    let kind = cut(&cb.kind);
    let Some(t) = CallbackType::parse(&cb.kind) else {
        return (
            None,
            kind.clone(),
            Err(malformed(format!(
                "unknown callback type `{kind}`: expected 01, 02, 03, 05 or 06"
            ))),
        );
    };
    if let Err(e) = check_platform(s, &cb.platform_code) {
        return (None, kind, Err(e));
    }
    let body = match c
        .key()
        .and_then(|k| open_callback(s.platform.provider().as_ref(), k, cb).map_err(camr_error))
    {
        Ok(b) => b,
        Err(e) => return (None, kind, Err(e)),
    };
    match t {
        CallbackType::ScanStatus => {
            let status: ScanStatus = match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => {
                    return (
                        None,
                        kind,
                        Err(malformed(format!(
                            "a type 01 body is {{tId, isScaned}}: {e}"
                        ))),
                    );
                }
            };
            let tid = status.tid.clone();
            let outcome = scanned(s, &status).await;
            (Some(tid), kind, outcome)
        }
        answer_type => {
            let response: camr::protocol::Response = match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => {
                    let msg = format!("a type {kind} body is camr's answer (Response JSON): {e}");
                    return (None, kind, Err(malformed(msg)));
                }
            };
            let tid = response.tid.clone();
            let outcome = answered(s, answer_type, response).await;
            (Some(tid), kind, outcome)
        }
    }
}

fn camr_error(e: camr::Error) -> ApiError {
    ApiError::new(e.code(), format!("the callback cannot be decrypted: {e}"))
}

/// Type 01: `isScaned` `01` marks the transaction scanned (as the request fetch does).
async fn scanned(s: &AppState, status: &ScanStatus) -> Result<String, ApiError> {
    check_platform(s, status.tid.system_code().as_str())?;
    let tx = s.platform.status(&status.tid).await?;
    if let Some(code) = &status.qr_code_type
        && operation_of_qr_code_type(code) != Some(tx.operation)
    {
        return Err(malformed(format!(
            "qRCodeType `{}` does not fit transaction {} ({}, QRCodeType {})",
            cut(code),
            status.tid,
            tx.operation,
            qr_code_type(tx.operation)
        )));
    }
    match status.is_scaned.as_str() {
        "01" => {
            s.platform.scanned_by_vendor(&status.tid).await?;
            Ok(format!("接收成功: transaction {} is scanned", status.tid))
        }
        "00" => Ok(format!(
            "接收成功: transaction {} is {:?}, not scanned",
            status.tid, tx.state
        )),
        other => Err(malformed(format!(
            "isScaned is `01` (scanned) or `00` (not scanned), not `{}`",
            cut(other)
        ))),
    }
}

/// Types 02, 03, 05, 06: camr's answer, verified by the ceremony through the interlink
/// profile.
async fn answered(
    s: &Arc<AppState>,
    t: CallbackType,
    response: camr::protocol::Response,
) -> Result<String, ApiError> {
    check_platform(s, response.tid.system_code().as_str())?;
    let expected = CallbackType::answering(response.operation);
    if expected != t {
        return Err(malformed(format!(
            "a type {} callback cannot carry the answer of {} (its type is {})",
            t.code(),
            response.operation,
            expected.code()
        )));
    }
    // As `POST /camr/v1/response`: the platform's one answer pipeline.
    let state = s
        .platform
        .answer_via(&Interlink, &response.tid, &response)
        .await?;
    Ok(format!(
        "接收成功: transaction {} is {}",
        response.tid,
        serde_json::to_value(state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    ))
}

// ---------------------------------------------------------------------------------------
// Queries.

fn query_of(q: Result<Query<InterlinkQuery>, QueryRejection>) -> Result<InterlinkQuery, ApiError> {
    let Query(q) = q.map_err(|e| malformed(e.body_text()))?;
    Ok(q)
}

/// The query's `tId`, of this platform, and the caller its owner (or the operator).
async fn tid_of(s: &AppState, headers: &HeaderMap, q: &InterlinkQuery) -> Result<Tid, ApiError> {
    if let Some(code) = &q.platform_code {
        check_platform(s, code)?;
    }
    let tid = q
        .tid
        .as_deref()
        .ok_or_else(|| malformed("`tId` is required"))?;
    let tid = own_tid(s, tid)?;
    crate::owner::authorize(s, headers, &tid).await?;
    Ok(tid)
}

async fn qr_content(
    State(s): Shared,
    headers: HeaderMap,
    query: Result<Query<InterlinkQuery>, QueryRejection>,
) -> Response {
    let result = qr_content_of(&s, &headers, query).await;
    let started = result.as_ref().ok().and_then(|(out, _)| {
        out.owner_token
            .clone()
            .map(|t| (out.tid.clone(), t, out.expires_at))
    });
    let response = query_answer(result, "获取成功");
    match started {
        Some((tid, token, expires_at)) => {
            crate::owner::set_owner_cookie(&s, response, &tid, &token, expires_at)
        }
        None => response,
    }
}

async fn qr_content_of(
    s: &AppState,
    headers: &HeaderMap,
    query: Result<Query<InterlinkQuery>, QueryRejection>,
) -> Result<(QrContentOut, Option<u64>), ApiError> {
    let q = query_of(query)?;
    let mut owner_token = None;
    let tx = match (&q.tid, &q.qr_code_type) {
        (Some(_), _) => {
            let tid = tid_of(s, headers, &q).await?;
            s.platform.status(&tid).await?
        }
        (None, Some(code)) => {
            check_platform(
                s,
                q.platform_code
                    .as_deref()
                    .ok_or_else(|| malformed("`platformCode` is required with `qRCodeType`"))?,
            )?;
            let started = match operation_of_qr_code_type(code) {
                Some(Operation::Login) => s.platform.start_login().await?,
                Some(Operation::Encrypt) => s.platform.start_encrypt().await?,
                _ => {
                    return Err(malformed(format!(
                        "qRCodeType `{}` cannot start a transaction here: 02 (login) and 05 \
                         (encrypt) can; start the others with POST /api/v1/transactions and \
                         pass its `tId`",
                        cut(code)
                    )));
                }
            };
            owner_token = Some(started.owner.expose().to_string());
            started.transaction
        }
        (None, None) => {
            return Err(malformed(
                "`tId` (or `platformCode` and `qRCodeType`) is required",
            ));
        }
    };
    let content = s.platform.live_code_of(&tx, Some(&Interlink))?;
    Ok((
        QrContentOut {
            tid: tx.tid.to_string(),
            content,
            pid: None,
            qr_code_type: qr_code_type(tx.operation).into(),
            expires_at: tx.expires_at,
            owner_token,
        },
        None,
    ))
}

async fn scan_info(
    State(s): Shared,
    Extension(c): Extension<Arc<Compat>>,
    headers: HeaderMap,
    query: Result<Query<InterlinkQuery>, QueryRejection>,
) -> Response {
    let result = async {
        let tid = tid_of(&s, &headers, &query_of(query)?).await?;
        let tx = s.platform.status(&tid).await?;
        Ok((
            ScanInfoOut {
                tid: tid.to_string(),
                operation: tx.operation,
                qr_code_type: qr_code_type(tx.operation).into(),
                is_scaned: if tx.state == TransactionState::Created {
                    "00"
                } else {
                    "01"
                }
                .into(),
                state: tx.state,
                ca_org_type: tx.ca_org_type,
                message: tx.message,
                expires_at: tx.expires_at,
                callbacks: c.records(&tid).await,
            },
            None,
        ))
    }
    .await;
    query_answer(result, "查询成功")
}

async fn decrypt_info(
    State(s): Shared,
    headers: HeaderMap,
    query: Result<Query<InterlinkQuery>, QueryRejection>,
) -> Response {
    let result = async {
        let tid = tid_of(&s, &headers, &query_of(query)?).await?;
        let tx = s.platform.status(&tid).await?;
        if tx.operation != Operation::Decrypt {
            return Err(malformed(format!(
                "transaction {tid} is a {}, not a decrypt",
                tx.operation
            )));
        }
        let keys = s.platform.finish_decrypt(&tid).await?;
        tracing::info!(%tid, "decrypt content keys handed out (once) through getDecryptInfo");
        let list: Vec<DecryptInfoOut> = keys
            .iter()
            .map(|(id, k)| DecryptInfoOut {
                tid: tid.to_string(),
                decrypt_key: id.clone(),
                decrypt_str: data_encoding::BASE64.encode(k),
                decrypt_status: "0".into(),
                decrypt_status_info: "解密成功".into(),
                create_time: tx.created_at,
            })
            .collect();
        let size = u64::try_from(list.len()).ok();
        Ok((list, size))
    }
    .await;
    query_answer(result, "查询成功")
}

async fn encrypt_key(State(s): Shared, Extension(c): Extension<Arc<Compat>>) -> Response {
    let result = (|| {
        let key = c.key()?.public_key();
        let spki = key.to_spki_der().map_err(ApiError::internal)?;
        Ok((
            EncryptKeyOut {
                platform_code: s.info.system_code.clone(),
                algorithm: "SM2".into(),
                key_id: camr::qr::default_key_id(s.platform.provider().as_ref(), &key)
                    .map_err(ApiError::internal)?,
                public_key_spki: data_encoding::BASE64.encode(&spki),
                public_key_pem: key.to_spki_pem().map_err(ApiError::internal)?,
            },
            None,
        ))
    })();
    query_answer(result, "获取成功")
}
