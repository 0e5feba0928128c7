//! Who may see a transaction: its owner, or the operator.
//!
//! A tid is not a secret (it is in QR codes, logs, the app's screens). Starting a transaction
//! hands its owner credential ([`camr::ceremony::OwnerToken`]) to the caller: in the JSON
//! answer (`ownerToken`, for API clients, sent back as `X-Camr-Owner`) and as an HttpOnly,
//! SameSite=Strict cookie `camr_owner_<tid>` (browsers). [`guard`] asks for it on every
//! route under the prefixes of [`OWNED`] whose next path segment is a tid: status, live QR,
//! result, cancel, events, signing-time verification, bid files, sealed PDFs, seal sessions,
//! registration prefill. The operator's admin token opens them too. The app-facing routes
//! (`/camr/v1/…`, `/interlink/…` callbacks) take no credential and reveal only what the app
//! needs.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use camr::protocol::Tid;

use crate::AppState;
use crate::api::{ApiError, StartedOut};

/// Path prefixes whose next segment, when it is a tid, names a transaction only its owner
/// (or the operator) may see or act on.
pub const OWNED: &[&str] = &[
    "/api/v1/transactions/",
    "/api/v1/bidfiles/",
    "/api/v1/pdf/",
    "/api/v1/seal-sessions/",
    "/api/v1/registrations/",
];

/// The tid a request path names under one of [`OWNED`], if any.
pub fn owned_tid(path: &str) -> Option<Tid> {
    OWNED.iter().find_map(|prefix| {
        let rest = path.strip_prefix(prefix)?;
        let segment = rest.split('/').next()?;
        Tid::parse(segment).ok()
    })
}

/// Middleware: a request for an owned transaction passes only with its owner credential or
/// the admin token (`TX_NOT_OWNER`, 403, otherwise; `TX_NOT_FOUND` for an unknown tid).
pub async fn guard(State(s): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if let Some(tid) = owned_tid(request.uri().path()) {
        match authorize(&s, request.headers(), &tid).await {
            // An unknown tid reveals nothing: the route answers it (404, or 405 for a method
            // it does not take).
            Err(e) if e.code != camr::protocol::ErrorCode::TxNotFound => {
                return e.into_response();
            }
            _ => {}
        }
    }
    next.run(request).await
}

/// Header carrying a transaction's owner credential (API clients).
pub const OWNER_HEADER: &str = "x-camr-owner";

/// Name of the cookie carrying the owner credential of `tid` (browsers).
pub fn owner_cookie_name(tid: &str) -> String {
    format!("camr_owner_{tid}")
}

/// The owner credential the caller presents for `tid`: the `X-Camr-Owner` header, or the
/// transaction's cookie.
pub fn presented_owner(headers: &HeaderMap, tid: &Tid) -> Option<camr::ceremony::OwnerToken> {
    let parse = |v: &str| camr::ceremony::OwnerToken::parse(v).ok();
    if let Some(v) = headers.get(OWNER_HEADER).and_then(|v| v.to_str().ok()) {
        return parse(v);
    }
    let name = owner_cookie_name(tid.as_str());
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| parse(v))
}

/// Who may see or act on transaction `tid`: its owner (the credential handed out when it was
/// started) or the operator (`Authorization: Bearer <admin token>`). Anyone else gets
/// `TX_NOT_OWNER` (403); an unknown tid `TX_NOT_FOUND`.
pub async fn authorize(s: &AppState, headers: &HeaderMap, tid: &Tid) -> Result<(), ApiError> {
    if headers.contains_key(header::AUTHORIZATION) && crate::ops::check_admin(s, headers).is_ok() {
        return Ok(());
    }
    s.platform
        .authorize(tid, presented_owner(headers, tid).as_ref())
        .await
        .map_err(ApiError::from)
}

/// `out`'s owner credential as an HttpOnly, SameSite=Strict cookie on `response`.
pub fn with_owner_cookie(s: &AppState, response: Response, out: &StartedOut) -> Response {
    set_owner_cookie(s, response, &out.tid, &out.owner_token, out.expires_at)
}

/// The owner credential `token` of `tid` as an HttpOnly, SameSite=Strict cookie on
/// `response`, living as long as the transaction plus an hour to read its result and files.
pub fn set_owner_cookie(
    s: &AppState,
    mut response: Response,
    tid: &str,
    token: &str,
    expires_at: i64,
) -> Response {
    let max_age = (expires_at - camr::qr::unix_now()).max(0) + 3600;
    let secure = if s.info.request_uri_prefix.starts_with("https:") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}",
        owner_cookie_name(tid)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}
