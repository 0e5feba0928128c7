//! The operations side of the server: rate limit, request timeout, metrics, webhooks, the
//! usage report and the admin calls.
//!
//! | method and path | what |
//! |---|---|
//! | `GET /metrics` | Prometheus text format 0.0.4 (see [`crate::metrics`]) |
//! | `GET /api/v1/reports/usage`, `/usage.csv` | the usage report (see [`crate::report`]) |
//! | `POST /api/v1/admin/adapters/reload` | re-scan the plugin folder; answers the adapters' health (`Authorization: Bearer <admin token>`) |
//!
//! [`track`] (around every route) counts requests by route and status and applies the
//! per-client rate limit to `POST /api/v1/transactions` (`429`, `Retry-After`,
//! `RATE_LIMITED`); [`timeout`] (around every route but the event stream) answers
//! `REQUEST_TIMEOUT` (503) when a handler takes longer than the request timeout. [`start`]
//! runs the consumer of this instance's status events: metrics and webhooks.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use camr::crypto::{CryptoProvider, PrivateKey};
use camr::protocol::{ErrorCode, Operation, Tid, TransactionState};
use tokio::sync::broadcast::error::RecvError;

use crate::api::ApiError;
use crate::config::Secret;
use crate::metrics::Metrics;
use crate::ratelimit::{RateLimiter, retry_after_secs};
use crate::webhook::{Webhook, WebhookPayload};
use crate::{AppState, ServerConfig, ServerError};

/// The operations state (in [`AppState::ops`]).
#[derive(Debug)]
pub struct Ops {
    /// The counters behind `/metrics`.
    pub metrics: Arc<Metrics>,
    limiter: RateLimiter,
    /// The `/interlink/` routes' own bucket (see [`is_interlink`]).
    interlink_limiter: RateLimiter,
    admin_token: Secret,
    request_timeout: Duration,
    body_limit: usize,
    webhook: Option<Arc<Webhook>>,
}

impl Ops {
    /// From the configuration; the webhook signs with the platform key `key` (id `key_id`)
    /// and keeps its deliveries in `outbox` (claimed as `instance`). Without a configured
    /// admin token one is generated and logged.
    pub fn new(
        config: &ServerConfig,
        provider: &Arc<dyn CryptoProvider>,
        key: &PrivateKey,
        key_id: &str,
        outbox: (Arc<dyn camr::store::RecordStore>, &str),
    ) -> Result<Self, ServerError> {
        let metrics = Arc::new(Metrics::default());
        let admin_token = match &config.admin_token {
            Some(t) => t.clone(),
            None => {
                let mut b = [0u8; 24];
                provider
                    .fill_random(&mut b)
                    .map_err(|e| ServerError(format!("cannot make the admin token: {e}")))?;
                let t = data_encoding::BASE64URL_NOPAD.encode(&b);
                tracing::warn!(
                    "no admin_token configured; this run's admin token is {t} (set admin_token or CAMR_SERVER_ADMIN_TOKEN)"
                );
                Secret::new(t)
            }
        };
        let webhook = match &config.webhook {
            None => None,
            Some(w) => {
                tracing::info!(url = %w.url, max_attempts = w.max_attempts, "webhooks on");
                Some(Arc::new(
                    Webhook::new(
                        w.clone(),
                        provider.clone(),
                        key.clone(),
                        key_id.to_string(),
                        metrics.clone(),
                    )?
                    .with_outbox(outbox.0, outbox.1),
                ))
            }
        };
        Ok(Self {
            metrics,
            limiter: RateLimiter::new(config.rate_limit),
            interlink_limiter: RateLimiter::new(config.interlink_rate_limit),
            admin_token,
            request_timeout: config.request_timeout,
            body_limit: config.body_limit,
            webhook,
        })
    }

    /// The admin token (`Authorization: Bearer ...` of the mutating admin calls).
    pub fn admin_token(&self) -> &str {
        self.admin_token.expose()
    }

    /// The largest request body, bytes.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }
}

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/api/v1/reports/usage", get(crate::report::usage_json))
        .route("/api/v1/reports/usage.csv", get(crate::report::usage_csv))
        .route("/api/v1/admin/adapters/reload", post(reload_adapters))
}

/// The client address: the connection's peer (no `ConnectInfo`, e.g. a router called
/// directly in a test: one shared unspecified address), or behind a trusted proxy the client
/// it forwards for (`trusted_proxies`, see [`crate::edges::client_ip`]).
fn client_ip(s: &AppState, req: &Request) -> IpAddr {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    crate::edges::client_ip(peer, req.headers(), &s.edges.trusted_proxies)
}

/// Whether a path is one of the interlink endpoints (`/interlink/…`): limited per client by
/// a bucket of their own (`rate_limit.interlink_*`), apart from the starts, since a
/// platform's front end polls them; `getQRCodeContent`, which can start a transaction, also
/// takes from the start bucket.
pub fn is_interlink(path: &str) -> bool {
    path.starts_with("/interlink/")
}

/// Routes that start work (a transaction, a job) or take an upload: one shared per-client
/// token bucket limits them all (`POST`; the interlink queries that can start a
/// transaction are `GET`).
pub const LIMITED_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/transactions"),
    ("POST", "/api/v1/hall/bids"),
    ("POST", "/api/v1/hall/signin"),
    ("POST", "/api/v1/hall/decrypt"),
    ("POST", "/api/v1/bidfiles"),
    ("POST", "/api/v1/bidfiles/open"),
    ("POST", "/api/v1/bidfiles/{tid}/work"),
    ("POST", "/api/v1/files/sign"),
    ("POST", "/api/v1/files/digest"),
    ("POST", "/api/v1/verify"),
    ("POST", "/api/v1/seal-sessions"),
    ("POST", "/api/v1/pdf/seal"),
    ("POST", "/api/v1/pdf/revoke"),
    ("POST", "/api/v1/pdf/verify"),
    ("POST", "/api/v1/registrations"),
    ("GET", "/interlink/sweepcodeController/getQRCodeContent"),
];

/// Whether `method route` is rate-limited (see [`LIMITED_ROUTES`]).
pub fn is_limited(method: &Method, route: &str) -> bool {
    LIMITED_ROUTES
        .iter()
        .any(|(m, r)| method.as_str() == *m && route == *r)
}

/// Middleware around every route: rate limit of the routes that start work, request counts.
pub async fn track(State(s): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let client = client_ip(&s, &req);
    let now = Instant::now();
    // The interlink bucket, then the start bucket of the routes that start work.
    let interlink = match is_interlink(req.uri().path()) {
        true => s.ops.interlink_limiter.check(client, now),
        false => Ok(()),
    };
    let verdict = interlink.and_then(|()| match is_limited(&method, &route) {
        true => s.ops.limiter.check(client, now),
        false => Ok(()),
    });
    let response = match verdict {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            s.ops.metrics.rate_limited();
            let secs = retry_after_secs(wait);
            tracing::warn!(%client, retry_after = secs, route = %route, "rate-limited");
            let mut r = ApiError::new(
                    ErrorCode::RateLimited,
                    format!("too many transactions, uploads or jobs started from this address; retry in {secs} s"),
                )
                .into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            r
        }
    };
    s.ops
        .metrics
        .request(method.as_str(), &route, response.status().as_u16());
    response
}

/// Middleware around the routes that must answer in time.
///
/// A `tokio::time::timeout` around the rest of the stack, rather than tower-http's
/// `TimeoutLayer`, whose answer is a bare status without the result envelope; the effect is
/// the same (the handler's future is dropped).
pub async fn timeout(State(s): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let limit = s.ops.request_timeout;
    let what = format!("{} {}", req.method(), req.uri().path());
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!(request = %what, timeout_secs = limit.as_secs_f64(), "request timed out");
            ApiError::new(
                ErrorCode::RequestTimeout,
                format!("no answer within {} s", limit.as_secs_f64()),
            )
            .into_response()
        }
    }
}

async fn metrics(State(s): State<Arc<AppState>>) -> Response {
    let adapters = s.plugins.as_ref().map(|h| h.health()).unwrap_or_default();
    let mut text = s
        .ops
        .metrics
        .render(env!("CARGO_PKG_VERSION"), &s.instance_id, &adapters);
    // Refused answers are counted here, not each written to the audit log.
    text.push_str(&crate::metrics::counter_text(
        "camr_answers_refused_total",
        "App answers refused on this instance (malformed, unverifiable or not allowed).",
        s.platform.refused_answers(),
    ));
    let mut r = Response::new(axum::body::Body::from(text));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    r
}

/// Checks `Authorization: Bearer <admin token>`.
pub fn check_admin(s: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(t) if camr::crypto::ct_eq(t.as_bytes(), s.ops.admin_token().as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::new(ErrorCode::Unauthorized, "wrong admin token")),
        None => Err(ApiError::new(
            ErrorCode::Unauthorized,
            "this call needs `Authorization: Bearer <admin token>`",
        )),
    }
}

async fn reload_adapters(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_admin(&s, &headers)?;
    if s.plugins.is_none() {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            ..ApiError::new(
                ErrorCode::AdapterUnavailable,
                "no plugin folder is configured (plugins.dir or --plugins)",
            )
        });
    }
    let state = s.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        state
            .plugins
            .as_ref()
            .map(|h| h.reload().map(|_| h.health()))
    })
    .await
    .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    match outcome {
        Some(Ok(health)) => {
            tracing::info!(adapters = ?health.iter().map(|h| &h.ca_org_type).collect::<Vec<_>>(), "adapters reloaded");
            Ok(axum::Json(camr::protocol::ApiResult::ok(health)).into_response())
        }
        Some(Err(e)) => {
            tracing::error!("adapter reload refused, the adapters stay as they were: {e}");
            Err(ApiError::new(
                e.code(),
                format!("reload refused, nothing changed: {e}"),
            ))
        }
        None => Err(ApiError::new(ErrorCode::Internal, "plugin host vanished")),
    }
}

/// Starts the consumer of this instance's status events (metrics, webhooks). Call once,
/// inside the runtime.
pub fn start(state: &Arc<AppState>) {
    // Files of abandoned uploads and transactions do not pile up (bids of the hall stay).
    let dir = state.files_dir.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(crate::files::SWEEP_EVERY);
        loop {
            every.tick().await;
            let dir = dir.clone();
            let swept = tokio::task::spawn_blocking(move || {
                crate::files::sweep(
                    &dir,
                    std::time::SystemTime::now(),
                    crate::files::FILE_RETENTION,
                )
            })
            .await;
            match swept {
                Ok(0) | Err(_) => {}
                Ok(n) => tracing::info!(removed = n, "old upload and transaction files swept"),
            }
        }
    });
    let mut rx = state.events.subscribe();
    let store = state.store.clone();
    let instance = state.instance_id.clone();
    let metrics = state.ops.metrics.clone();
    let webhook = state.ops.webhook.clone();
    if let Some(w) = webhook.clone() {
        tokio::spawn(async move {
            if let Err(e) = w.resume().await {
                tracing::error!("webhook outbox not read: {e}");
            }
        });
    }
    tokio::spawn(async move {
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "metrics/webhook consumer lagged; events missed");
                    metrics.events_missed(n);
                    continue;
                }
                Err(RecvError::Closed) => break,
            };
            // Several instances may share a database: each reports only what it committed.
            if event.instance != instance {
                continue;
            }
            let state = event.state;
            if state != TransactionState::Created && !state.is_terminal() {
                continue;
            }
            let Ok(tid) = Tid::parse(&event.tid) else {
                continue;
            };
            let record = match store.get(&tid).await {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(%tid, "cannot read the transaction for metrics/webhook: {e}");
                    continue;
                }
            };
            let op = record.transaction.operation;
            if state == TransactionState::Created {
                metrics.started(op.as_str());
                continue;
            }
            metrics.finished(op.as_str(), state_name(state));
            if let Some(w) = &webhook {
                w.enqueue(WebhookPayload {
                    tid: event.tid.clone(),
                    operation: op,
                    state,
                    result: match (state, op) {
                        (TransactionState::Verified, Operation::Decrypt) => None,
                        (TransactionState::Verified, _) => record.result.clone(),
                        _ => None,
                    },
                    message: record.transaction.message.clone(),
                    timestamp: camr::qr::unix_now(),
                });
            }
        }
    });
}

fn state_name(s: TransactionState) -> &'static str {
    match s {
        TransactionState::Created => "created",
        TransactionState::Scanned => "scanned",
        TransactionState::Approved => "approved",
        TransactionState::Rejected => "rejected",
        TransactionState::Verified => "verified",
        TransactionState::Failed => "failed",
        TransactionState::Expired => "expired",
        TransactionState::Cancelled => "cancelled",
    }
}
