//! A platform of its own that embeds camr — proof that a platform needs no code from the
//! reference server: the SDK runs the ceremonies (its answer pipeline decodes through the
//! vendor's adapter `.so`, verifies, records, audits), this file only maps HTTP to it.
//!
//! | route | what |
//! |---|---|
//! | `POST /login` | starts a login: `{tid, qrText, owner}` |
//! | `GET /login/{tid}` | the verified holder (header `X-Camr-Owner`) |
//! | `POST /decrypt` | body: a bid envelope; starts its decrypt: `{tid, qrText, owner}` |
//! | `GET /decrypt/{tid}` | the bid's plaintext, once (header `X-Camr-Owner`) |
//! | `GET /camr/v1/request/{tid}`, `POST /camr/v1/response` | the app's side |
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use camr::ceremony::{CeremonyError, OwnerToken, Platform, PlatformIdentity, Started};
use camr::crypto::{KeyAlgorithm, default_provider};
use camr::pki::{ChainValidator, TrustStore};
use camr::protocol::{ApiResult, Bytes as B64, EncryptedKeyItem, ErrorCode, SystemCode, Tid};
use camr_plugin_host::{HostConfig, PluginHost};
use serde_json::json;

/// The embedding platform: the SDK's platform and where bid envelopes wait for their keys.
#[derive(Debug)]
pub struct Embedded {
    /// The ceremonies.
    pub platform: Platform,
    envelopes: PathBuf,
}

/// Sets up a platform in `dir` (SQLite store `camr.db`, envelopes) trusting the CA root
/// `root_der`, with the vendor adapter file `adapter` reading every answer.
pub async fn platform(
    dir: &Path,
    public_url: &str,
    root_der: &[u8],
    adapter: &Path,
) -> Result<Embedded, String> {
    let provider = default_provider();
    let mut trust = TrustStore::new();
    trust.add(camr::pki::Certificate::from_der(root_der).map_err(|e| e.to_string())?);
    let validator = Arc::new(ChainValidator::new(provider.clone(), trust));
    let store = camr::store::SqliteStore::open(&dir.join("camr.db").to_string_lossy())
        .await
        .map_err(|e| e.to_string())?;
    let mut host = PluginHost::new(HostConfig::default());
    host.load_file(adapter).map_err(|e| e.to_string())?;
    let identity = PlatformIdentity {
        system_code: SystemCode::parse("C1100005553").map_err(|e| e.to_string())?,
        system_name: "camr embedding example".into(),
        request_uri_prefix: format!("{public_url}/camr/v1/request/"),
        response_uri: format!("{public_url}/camr/v1/response"),
    };
    let key = provider
        .generate_key(KeyAlgorithm::Sm2)
        .map_err(|e| e.to_string())?;
    let platform = Platform::new(provider, identity, key, None, Arc::new(store), validator)
        .map_err(|e| e.to_string())?
        .with_decoder(Arc::new(host));
    let envelopes = dir.join("envelopes");
    std::fs::create_dir_all(&envelopes).map_err(|e| e.to_string())?;
    Ok(Embedded {
        platform,
        envelopes,
    })
}

/// The routes.
pub fn router(app: Arc<Embedded>) -> Router {
    Router::new()
        .route("/login", post(start_login))
        .route("/login/{tid}", get(finish_login))
        .route("/decrypt", post(start_decrypt))
        .route("/decrypt/{tid}", get(finish_decrypt))
        .route("/camr/v1/request/{tid}", get(request))
        .route("/camr/v1/response", post(response))
        .with_state(app)
}

type App = State<Arc<Embedded>>;

/// A refusal: the SDK's stable error code and sentence, in the result envelope.
pub struct Refused(ErrorCode, String);

impl From<CeremonyError> for Refused {
    fn from(e: CeremonyError) -> Self {
        Self(e.code(), e.to_string())
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.default_http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(ApiResult::<()>::error(self.0, self.1))).into_response()
    }
}

fn malformed(what: impl std::fmt::Display) -> Refused {
    Refused(ErrorCode::InputMalformed, what.to_string())
}

type Answer = Result<Json<ApiResult<serde_json::Value>>, Refused>;

fn answer(data: serde_json::Value) -> Answer {
    Ok(Json(ApiResult::ok(data)))
}

fn started(s: Started) -> Answer {
    let tid = s.transaction.tid.to_string();
    answer(json!({"tid": tid, "qrText": s.qr_text, "owner": s.owner.expose()}))
}

/// The tid of the path, its owner checked against `X-Camr-Owner`.
async fn owned(app: &Embedded, tid: &str, headers: &HeaderMap) -> Result<Tid, Refused> {
    let tid = Tid::parse(tid).map_err(malformed)?;
    let token = match headers.get("x-camr-owner").and_then(|v| v.to_str().ok()) {
        Some(t) => Some(OwnerToken::parse(t)?),
        None => None,
    };
    app.platform.authorize(&tid, token.as_ref()).await?;
    Ok(tid)
}

async fn start_login(State(app): App) -> Answer {
    started(app.platform.start_login().await?)
}

async fn finish_login(
    State(app): App,
    UrlPath(tid): UrlPath<String>,
    headers: HeaderMap,
) -> Answer {
    let tid = owned(&app, &tid, &headers).await?;
    let login = app.platform.finish_login(&tid).await?;
    answer(json!({"name": login.subject.name, "certSn": login.subject.cert_sn}))
}

async fn start_decrypt(State(app): App, body: Bytes) -> Answer {
    let keys = camr::envelope::encrypted_keys(&body).map_err(malformed)?;
    let items = keys
        .into_iter()
        .enumerate()
        .map(|(i, (sn, key))| EncryptedKeyItem {
            id: format!("key{}", i + 1),
            recipient_cert_sn: sn,
            encrypted_key: B64(key),
        })
        .collect();
    let s = app.platform.start_decrypt(items).await?;
    let path = app.envelopes.join(s.transaction.tid.as_str());
    tokio::fs::write(&path, &body).await.map_err(malformed)?;
    started(s)
}

async fn finish_decrypt(
    State(app): App,
    UrlPath(tid): UrlPath<String>,
    headers: HeaderMap,
) -> Result<Vec<u8>, Refused> {
    let tid = owned(&app, &tid, &headers).await?;
    let keys = app.platform.finish_decrypt(&tid).await?;
    let envelope = tokio::fs::read(app.envelopes.join(tid.as_str()))
        .await
        .map_err(malformed)?;
    let (_, key) = keys.first().ok_or_else(|| malformed("no content key"))?;
    let provider = app.platform.provider().clone();
    let plain =
        camr::envelope::open_with_key(provider.as_ref(), &envelope, key).map_err(malformed)?;
    Ok(plain.to_vec())
}

async fn request(
    State(app): App,
    UrlPath(tid): UrlPath<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Answer {
    let tid = Tid::parse(&tid).map_err(malformed)?;
    let rot = q.get("rot").map(String::as_str);
    let signed = app.platform.request_scanned(&tid, rot).await?;
    answer(serde_json::to_value(signed).map_err(malformed)?)
}

async fn response(State(app): App, body: Bytes) -> Answer {
    let reply: camr::protocol::Response = serde_json::from_slice(&body).map_err(malformed)?;
    let state = app.platform.answer(&reply.tid, &reply).await?;
    answer(json!({"tid": reply.tid, "state": state}))
}
