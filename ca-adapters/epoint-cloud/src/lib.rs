//! `epoint-cloud` (crate `epoint_cloud`) — the cloud of 新点标证通 (Epoint) as camr models it
//! (docs/vendors/epoint.md). It serves everything `softca_cloud` serves over its own CA
//! ("EPOINT Test CA": `/crl`, `/enc-cert`, `/tasks` (待办), `/usage`, `/seals`) plus:
//!
//! | route | what |
//! |---|---|
//! | `GET /epoint/cert-scope?serial=HEX` | `{"serial","certScope"}`: `PLATFORM` (本平台证书, only through the Epoint QR code) or `NATIONAL` (全国版) |
//!
//! The wallets it issues ([`issue_wallet`]) carry a `vendor.json`
//! (`{"caOrgType":"EPOINT","certScope":"PLATFORM"|"NATIONAL",…}`) so that the app simulator
//! answers for them in Epoint's wire format (`camr_epoint_wire::encode`).

use std::path::{Path, PathBuf};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use camr::pki::Certificate;
use camr::softca::{Holder, SoftCa, wallet_files};
use serde::Deserialize;

pub use camr_epoint_wire::CertScope;

/// The vendor code.
pub const CA_ORG_TYPE: &str = "EPOINT";
/// The name of the cloud's CA.
pub const CA_NAME: &str = "EPOINT Test CA";

/// Creates the Epoint test CA (SM2) in `dir`.
pub fn init_ca(dir: &Path) -> Result<SoftCa, String> {
    softca_cloud::init_vendor_ca(dir, "Epoint", CA_NAME)
}

/// Issues a wallet for `holder` into `out` (valid `days`) and writes its `vendor.json`
/// (`{"caOrgType":"EPOINT","certScope":…,"cloudUrl":…}`). Returns the signing certificate's
/// serial (hex).
pub fn issue_wallet(
    ca_dir: &Path,
    holder: &Holder,
    pin: &[u8],
    out: &Path,
    days: u64,
    scope: CertScope,
    cloud_url: Option<&str>,
) -> Result<String, String> {
    let mut vendor = serde_json::json!({ "caOrgType": CA_ORG_TYPE, "certScope": scope.as_str() });
    if let Some(url) = cloud_url {
        vendor["cloudUrl"] = url.into();
    }
    softca_cloud::issue_vendor_wallet(ca_dir, "Epoint", holder, pin, out, days, &vendor)
}

/// The scope written in a wallet folder's `vendor.json` (全国版 when absent).
pub fn scope_of(wallet: &Path) -> CertScope {
    let scope = std::fs::read(wallet.join("vendor.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v.get("certScope")
                .and_then(|s| s.as_str())
                .map(str::to_string)
        });
    match scope.as_deref() {
        Some("PLATFORM") => CertScope::Platform,
        _ => CertScope::National,
    }
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": msg.into() }))).into_response()
}

#[derive(Debug, Deserialize)]
struct SerialQuery {
    serial: Option<String>,
}

async fn cert_scope(
    State(wallets): State<Option<PathBuf>>,
    Query(q): Query<SerialQuery>,
) -> Response {
    let Some(serial) = q.serial.filter(|s| !s.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "give `serial` (hex)");
    };
    let Some(dir) = wallets else {
        return error(StatusCode::NOT_FOUND, "this cloud serves no wallets");
    };
    let found = std::fs::read_dir(&dir).ok().and_then(|entries| {
        entries.flatten().map(|e| e.path()).find(|w| {
            std::fs::read(w.join(wallet_files::SIGN_CERT))
                .ok()
                .and_then(|b| Certificate::parse_one(&b).ok())
                .is_some_and(|c| c.serial_hex().eq_ignore_ascii_case(&serial))
        })
    });
    match found {
        Some(w) => Json(serde_json::json!({
            "serial": serial.to_ascii_uppercase(),
            "certScope": scope_of(&w).as_str(),
        }))
        .into_response(),
        None => error(StatusCode::NOT_FOUND, "no such certificate"),
    }
}

/// The Epoint cloud's routes: `softca_cloud`'s over the CA in `ca_dir` and the `wallets`
/// folder, plus `/epoint/cert-scope`.
pub fn app(ca_dir: &Path, wallets: Option<PathBuf>) -> Result<Router, String> {
    let own = Router::new()
        .route("/epoint/cert-scope", get(cert_scope))
        .with_state(wallets.clone());
    Ok(softca_cloud::app(ca_dir, wallets)?.merge(own))
}

/// Runs the cloud on `listen` until Ctrl-C, printing `listening on ADDR` first.
pub async fn run(ca_dir: &Path, wallets: Option<PathBuf>, listen: &str) -> Result<(), String> {
    softca_cloud::serve(app(ca_dir, wallets)?, listen).await
}

/// Starts the cloud in-process on `127.0.0.1:0` on the current tokio runtime: the bound
/// address and the server task (abort it to stop the cloud).
pub fn spawn(
    ca_dir: &Path,
    wallets: Option<PathBuf>,
) -> Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>), String> {
    softca_cloud::spawn_app(app(ca_dir, wallets)?)
}
