//! `netca-cloud` (crate `netca_cloud`) — a simulator of NETCA's cloud (网证通移动证书平台) for
//! the NETCA adapter and the NETCA app in the simulator. See `docs/vendors/netca.md`.
//!
//! Its CA is a software CA of its own, "NETCA Test CA". It issues wallets for the NETCA app
//! ([`issue_wallet`]: the wallet files, `vendor.json` naming `NETCA`, and the holder's
//! registration data `registration.json` — 共享注册, what the app may share with a platform).
//!
//! | route | what |
//! |---|---|
//! | the softca cloud's routes (`softca_cloud::app`) | `/crl`, `/enc-cert`, `/tasks…`, `/usage`, `/seals` |
//! | `GET /netca/seals?serial=HEX` | the holder's NETCA seals (电子印章): 人名章 + 手写签名 for a person; 单位印章 (公章), 法定代表人章, 合同章 for an organisation; codes `NETCA-<kind>-<hex>` |
//! | `GET /netca/registration?serial=HEX` | the registration data (实名注册信息) kept for the holder |
//!
//! The binary: `netca-cloud serve --ca DIR --wallets DIR [--listen ADDR]`,
//! `netca-cloud init --ca DIR`, `netca-cloud issue --ca DIR --out DIR --name N [--org O --uscc C] --pin P`,
//! and `netca-cloud encode-evidence` (camr `Evidence` JSON on stdin → the NETCA block on
//! stdout; the conformance kit's `encoder`).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use camr::crypto::{KeyAlgorithm, default_provider};
use camr::pki::{Certificate, Subject};
use camr::protocol::{Evidence, SealInfo, SealKind, SharedRegistration, SubjectType};
use camr::softca::{Holder, SoftCa, wallet_files};
use serde::Deserialize;

/// NETCA's vendor code.
pub const CA_ORG_TYPE: &str = "NETCA";
/// The name of the simulator's CA.
pub const CA_NAME: &str = "NETCA Test CA";
/// The wallet file holding the holder's registration data (as the app simulator reads it).
pub const REGISTRATION_FILE: &str = "registration.json";

/// Reads camr evidence JSON and writes the NETCA block (the `encode-evidence` subcommand).
pub fn encode_evidence_json(json: &[u8]) -> Result<String, String> {
    let e: Evidence =
        serde_json::from_slice(json).map_err(|e| format!("stdin is not camr evidence: {e}"))?;
    Ok(camr_netca_wire::encode(&e))
}

/// Creates the NETCA test CA in `dir`.
pub fn init_ca(dir: &Path) -> Result<(), String> {
    SoftCa::init(default_provider(), dir, KeyAlgorithm::Sm2, CA_NAME)
        .map(|_| ())
        .map_err(|e| format!("cannot create the NETCA CA in {}: {e}", dir.display()))
}

/// Issues a NETCA wallet into `out`: the certificates and keys (under `pin`), `vendor.json`
/// (`{"caOrgType":"NETCA","cloudUrl":…}`) and, when given, the registration data the app
/// may share (共享注册).
pub fn issue_wallet(
    ca_dir: &Path,
    out: &Path,
    holder: &Holder,
    pin: &str,
    registration: Option<&SharedRegistration>,
    cloud_url: Option<&str>,
) -> Result<(), String> {
    let mut ca = SoftCa::open(default_provider(), ca_dir)
        .map_err(|e| format!("cannot open the NETCA CA in {}: {e}", ca_dir.display()))?;
    ca.issue(holder, pin.as_bytes(), out, 365)
        .map_err(|e| format!("cannot issue the wallet: {e}"))?;
    let mut vendor = serde_json::json!({ "caOrgType": CA_ORG_TYPE, "app": "网证通互认 APP" });
    if let Some(url) = cloud_url {
        vendor["cloudUrl"] = url.into();
    }
    write_json(&out.join("vendor.json"), &vendor)?;
    if let Some(r) = registration {
        r.check()
            .map_err(|e| format!("bad registration data: {e}"))?;
        write_json(&out.join(REGISTRATION_FILE), r)?;
    }
    Ok(())
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The seal kinds NETCA's app makes: a person's 人名章 and 手写签名; an organisation's 单位印章
/// (公章), 法定代表人章 and 合同章.
pub fn seal_kinds(subject_type: SubjectType) -> &'static [SealKind] {
    match subject_type {
        SubjectType::Personal => &[SealKind::PersonalName, SealKind::Handwritten],
        SubjectType::Org => &[
            SealKind::Official,
            SealKind::LegalRepresentative,
            SealKind::Contract,
        ],
    }
}

/// The NETCA seals of a signing certificate's holder (images as the softca cloud draws them;
/// codes `NETCA-<kind>-<hex>`).
pub fn seals_for(subject: &Subject) -> Result<Vec<SealInfo>, String> {
    softca_cloud::vendor_seals_for(subject, seal_kinds(subject.subject_type), "NETCA-")
}

/// The wallet folder (directly under `wallets`) whose signing certificate has `serial`.
fn wallet_of(wallets: &Path, serial: &str) -> Option<(PathBuf, Certificate)> {
    std::fs::read_dir(wallets)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find_map(|dir| {
            let cert = std::fs::read(dir.join(wallet_files::SIGN_CERT))
                .ok()
                .and_then(|b| Certificate::parse_one(&b).ok())?;
            cert.serial_hex()
                .eq_ignore_ascii_case(serial)
                .then_some((dir, cert))
        })
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": msg.into() }))).into_response()
}

#[derive(Debug, Deserialize)]
struct SerialQuery {
    serial: Option<String>,
}

fn find(wallets: &Path, q: SerialQuery) -> Result<(PathBuf, Certificate), Box<Response>> {
    let serial = q
        .serial
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Box::new(error(StatusCode::BAD_REQUEST, "give `serial` (hex)")))?;
    wallet_of(wallets, &serial).ok_or_else(|| {
        Box::new(error(
            StatusCode::NOT_FOUND,
            format!(
                "no NETCA signing certificate with serial `{}`",
                serial.chars().take(64).collect::<String>()
            ),
        ))
    })
}

async fn seals(wallets: PathBuf, q: SerialQuery) -> Response {
    let (_, cert) = match find(&wallets, q) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let subject = cert.subject();
    match tokio::task::spawn_blocking(move || seals_for(&subject)).await {
        Ok(Ok(seals)) => Json(seals).into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn registration(wallets: PathBuf, q: SerialQuery) -> Response {
    let (dir, _) = match find(&wallets, q) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let data = std::fs::read(dir.join(REGISTRATION_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<SharedRegistration>(&b).ok());
    match data {
        Some(d) => Json(d).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "no registration data for this holder",
        ),
    }
}

/// The cloud's routes: the softca cloud's over the CA in `ca_dir` and `wallets`, and NETCA's.
pub fn app(ca_dir: &Path, wallets: PathBuf) -> Result<Router, String> {
    let base = softca_cloud::app(ca_dir, Some(wallets.clone()))?;
    let w1 = wallets.clone();
    let w2 = wallets;
    Ok(base
        .route(
            "/netca/seals",
            get(move |Query(q): Query<SerialQuery>| seals(w1.clone(), q)),
        )
        .route(
            "/netca/registration",
            get(move |Query(q): Query<SerialQuery>| registration(w2.clone(), q)),
        ))
}

/// Runs the cloud on `listen` until Ctrl-C, printing `listening on ADDR` first.
pub async fn run(ca_dir: &Path, wallets: PathBuf, listen: &str) -> Result<(), String> {
    softca_cloud::serve(app(ca_dir, wallets)?, listen).await
}

/// Starts the cloud in-process on `127.0.0.1:0` on the current tokio runtime: the address and
/// the server task (abort it to stop).
pub fn spawn(
    ca_dir: &Path,
    wallets: PathBuf,
) -> Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>), String> {
    softca_cloud::spawn_app(app(ca_dir, wallets)?)
}
