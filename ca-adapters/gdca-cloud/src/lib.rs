//! `gdca-cloud` (crate `gdca_cloud`) — a simulator of GDCA's cloud behind the 数信签 app, for
//! the GDCA adapter and the GDCA app in the simulator. See `docs/vendors/gdca.md`.
//!
//! Its CA is a software CA of its own, "GDCA Test CA". It issues wallets for 数信签
//! ([`issue_wallet`], with `vendor.json` naming `GDCA`), renews a holder's encryption
//! certificate keeping the old one and its key in the wallet ([`renew_enc_cert`]: envelopes
//! made for the old certificate still open), and keeps the delegations (证书授权) its
//! organisation holders issue, which they can withdraw (收回).
//!
//! | route | what |
//! |---|---|
//! | the softca cloud's routes (`softca_cloud::app`) | `/crl`, `/enc-cert`, `/tasks…`, `/usage`, `/seals` |
//! | `GET /gdca/enc-certs?serial=HEX` or `?name=` | every encryption certificate of the holder, current first: `[{"encCertSn","cert","current"}]` |
//! | `GET /gdca/seals?serial=HEX` | the holder's seals: 个人名章 + 个人手写签名 for a person, 公章 + 法人章 for an organisation; codes `GDCA-<kind>-<hex>` |
//! | `POST /gdca/delegations` | records a `SignedDelegation` signed by one of its organisation certificates → `{"delegationId","state":"active"}` |
//! | `GET /gdca/delegations?org=HEX` | the delegations of an organisation certificate |
//! | `GET /gdca/delegations/{id}` | one delegation and its state (`active`/`withdrawn`) |
//! | `POST /gdca/delegations/{id}/withdraw` `{"reason"}` | 收回 |
//!
//! The binary: `gdca-cloud init|issue|renew-enc|serve|encode-evidence` (the last: camr
//! `Evidence` JSON on stdin → GDCA JSON on stdout; the conformance kit's `encoder`).
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use camr::app::SignedDelegation;
use camr::crypto::{KeyAlgorithm, SignatureScheme, default_provider};
use camr::pki::{Certificate, Subject};
use camr::protocol::{Bytes, Evidence, SealInfo, SealKind, SubjectType};
use camr::softca::{Holder, SoftCa, wallet_files};
use serde::{Deserialize, Serialize};

/// GDCA's vendor code.
pub const CA_ORG_TYPE: &str = "GDCA";
/// The name of the simulator's CA.
pub const CA_NAME: &str = "GDCA Test CA";
/// The folder in a wallet keeping replaced encryption certificates and keys, one sub-folder per
/// certificate serial (`enc-cert.pem`, `enc-key.pem`).
pub const ENC_HISTORY: &str = "enc-history";

/// Reads camr evidence JSON and writes GDCA JSON (the `encode-evidence` subcommand).
pub fn encode_evidence_json(json: &[u8]) -> Result<Vec<u8>, String> {
    let e: Evidence =
        serde_json::from_slice(json).map_err(|e| format!("stdin is not camr evidence: {e}"))?;
    camr_gdca_wire::encode(&e).map_err(|e| e.to_string())
}

/// Creates the GDCA test CA in `dir`.
pub fn init_ca(dir: &Path) -> Result<(), String> {
    SoftCa::init(default_provider(), dir, KeyAlgorithm::Sm2, CA_NAME)
        .map(|_| ())
        .map_err(|e| format!("cannot create the GDCA CA in {}: {e}", dir.display()))
}

fn open_ca(ca_dir: &Path) -> Result<SoftCa, String> {
    SoftCa::open(default_provider(), ca_dir)
        .map_err(|e| format!("cannot open the GDCA CA in {}: {e}", ca_dir.display()))
}

/// Issues a 数信签 wallet into `out` (certificates and keys under `pin`, `vendor.json`).
pub fn issue_wallet(
    ca_dir: &Path,
    out: &Path,
    holder: &Holder,
    pin: &str,
    cloud_url: Option<&str>,
) -> Result<(), String> {
    open_ca(ca_dir)?
        .issue(holder, pin.as_bytes(), out, 365)
        .map_err(|e| format!("cannot issue the wallet: {e}"))?;
    let mut vendor = serde_json::json!({ "caOrgType": CA_ORG_TYPE, "app": "数信签" });
    if let Some(url) = cloud_url {
        vendor["cloudUrl"] = url.into();
    }
    let text = serde_json::to_string_pretty(&vendor).map_err(|e| e.to_string())?;
    let path = out.join("vendor.json");
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Renews the encryption certificate of the wallet in `wallet` (same holder, same PIN): the
/// current certificate and key move to `enc-history/<serial>/`, a new pair takes their place.
/// Returns the new certificate's serial.
pub fn renew_enc_cert(
    ca_dir: &Path,
    wallet: &Path,
    holder: &Holder,
    pin: &str,
) -> Result<String, String> {
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    let old = std::fs::read(wallet.join(wallet_files::ENC_CERT))
        .map_err(|e| io(&wallet.join(wallet_files::ENC_CERT), e))?;
    let old = Certificate::parse_one(&old).map_err(|e| e.to_string())?;
    let keep = wallet.join(ENC_HISTORY).join(old.serial_hex());
    std::fs::create_dir_all(&keep).map_err(|e| io(&keep, e))?;
    let fresh = wallet.join(ENC_HISTORY).join(".renewal");
    let _ = std::fs::remove_dir_all(&fresh);
    open_ca(ca_dir)?
        .issue(holder, pin.as_bytes(), &fresh, 365)
        .map_err(|e| format!("cannot issue the renewed certificate: {e}"))?;
    for name in [wallet_files::ENC_CERT, wallet_files::ENC_KEY] {
        std::fs::rename(wallet.join(name), keep.join(name)).map_err(|e| io(&keep, e))?;
        std::fs::rename(fresh.join(name), wallet.join(name)).map_err(|e| io(wallet, e))?;
    }
    let _ = std::fs::remove_dir_all(&fresh);
    let new = std::fs::read(wallet.join(wallet_files::ENC_CERT))
        .map_err(|e| io(&wallet.join(wallet_files::ENC_CERT), e))?;
    Ok(Certificate::parse_one(&new)
        .map_err(|e| e.to_string())?
        .serial_hex())
}

/// Every encryption certificate of the wallet in `wallet`, current first, then the replaced
/// ones (by folder name order).
pub fn enc_certs(wallet: &Path) -> Vec<(PathBuf, Certificate)> {
    let read = |dir: &Path| {
        std::fs::read(dir.join(wallet_files::ENC_CERT))
            .ok()
            .and_then(|b| Certificate::parse_one(&b).ok())
            .map(|c| (dir.to_path_buf(), c))
    };
    let mut out: Vec<_> = read(wallet).into_iter().collect();
    if let Ok(entries) = std::fs::read_dir(wallet.join(ENC_HISTORY)) {
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        dirs.sort();
        out.extend(dirs.iter().filter_map(|d| read(d)));
    }
    out
}

/// The seal kinds of 数信签: a person's 个人名章 and 个人手写签名; an organisation's 公章 and
/// 法人章.
pub fn seal_kinds(subject_type: SubjectType) -> &'static [SealKind] {
    match subject_type {
        SubjectType::Personal => &[SealKind::PersonalName, SealKind::Handwritten],
        SubjectType::Org => &[SealKind::Official, SealKind::LegalRepresentative],
    }
}

/// The GDCA seals of a signing certificate's holder (codes `GDCA-<kind>-<hex>`).
pub fn seals_for(subject: &Subject) -> Result<Vec<SealInfo>, String> {
    softca_cloud::vendor_seals_for(subject, seal_kinds(subject.subject_type), "GDCA-")
}

/// The wallet folders directly under `wallets` with their signing certificates.
fn wallets_in(wallets: &Path) -> Vec<(PathBuf, Certificate)> {
    let Ok(entries) = std::fs::read_dir(wallets) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter_map(|dir| {
            let cert = std::fs::read(dir.join(wallet_files::SIGN_CERT))
                .ok()
                .and_then(|b| Certificate::parse_one(&b).ok())?;
            Some((dir, cert))
        })
        .collect()
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": msg.into() }))).into_response()
}

/// A delegation the cloud keeps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DelegationRecord {
    /// `camr::app::delegation::id` of it.
    pub delegation_id: String,
    /// The organisation certificate's serial.
    pub org_cert_sn: String,
    /// `active` or `withdrawn`.
    pub state: String,
    /// Why it was withdrawn (收回).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The signed delegation.
    pub delegation: SignedDelegation,
}

#[derive(Clone)]
struct Gdca {
    wallets: PathBuf,
    delegations: Arc<Mutex<BTreeMap<String, DelegationRecord>>>,
}

#[derive(Debug, Deserialize)]
struct HolderQuery {
    serial: Option<String>,
    name: Option<String>,
    org: Option<String>,
}

async fn list_enc_certs(State(g): State<Gdca>, Query(q): Query<HolderQuery>) -> Response {
    let all = wallets_in(&g.wallets);
    let found = match (&q.serial, &q.name) {
        (Some(serial), _) => all.into_iter().find(|(dir, sign)| {
            sign.serial_hex().eq_ignore_ascii_case(serial)
                || enc_certs(dir)
                    .iter()
                    .any(|(_, c)| c.serial_hex().eq_ignore_ascii_case(serial))
        }),
        (None, Some(name)) => all
            .into_iter()
            .find(|(_, sign)| &sign.subject().name == name),
        (None, None) => return error(StatusCode::BAD_REQUEST, "give `serial` or `name`"),
    };
    let Some((dir, _)) = found else {
        return error(
            StatusCode::NOT_FOUND,
            "no GDCA holder with that certificate",
        );
    };
    let list: Vec<serde_json::Value> = enc_certs(&dir)
        .into_iter()
        .enumerate()
        .map(|(i, (_, c))| {
            serde_json::json!({
                "encCertSn": c.serial_hex(),
                "cert": Bytes(c.der().to_vec()),
                "current": i == 0,
            })
        })
        .collect();
    Json(list).into_response()
}

async fn seals(State(g): State<Gdca>, Query(q): Query<HolderQuery>) -> Response {
    let Some(serial) = q.serial.filter(|s| !s.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "give `serial` (hex)");
    };
    let Some((_, cert)) = wallets_in(&g.wallets)
        .into_iter()
        .find(|(_, c)| c.serial_hex().eq_ignore_ascii_case(&serial))
    else {
        return error(
            StatusCode::NOT_FOUND,
            "no GDCA signing certificate with that serial",
        );
    };
    let subject = cert.subject();
    match tokio::task::spawn_blocking(move || seals_for(&subject)).await {
        Ok(Ok(seals)) => Json(seals).into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn record_delegation(State(g): State<Gdca>, body: axum::body::Bytes) -> Response {
    let signed: SignedDelegation = match serde_json::from_slice(&body) {
        Ok(d) => d,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("not a signed delegation: {e}"),
            );
        }
    };
    let d: camr::app::Delegation = match serde_json::from_str(&signed.delegation) {
        Ok(d) => d,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("unreadable delegation: {e}"),
            );
        }
    };
    // Only an organisation certificate of this cloud delegates, and only with its own key.
    let Some((_, org)) = wallets_in(&g.wallets)
        .into_iter()
        .find(|(_, c)| c.serial_hex().eq_ignore_ascii_case(&d.org_cert_sn))
    else {
        return error(
            StatusCode::NOT_FOUND,
            "the delegated certificate is not one of GDCA's",
        );
    };
    if org.subject().subject_type != SubjectType::Org {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "only an organisation certificate (机构证书) is delegated",
        );
    }
    let provider = default_provider();
    let signed_by_org = org.public_key().ok().is_some_and(|key| {
        provider
            .verify(
                &key,
                &SignatureScheme::default_for(key.algorithm()),
                signed.delegation.as_bytes(),
                &signed.signature,
            )
            .is_ok()
    });
    if !signed_by_org {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the delegation is not signed by the organisation certificate",
        );
    }
    let id = camr::app::delegation::id(provider.as_ref(), &signed);
    let record = DelegationRecord {
        delegation_id: id.clone(),
        org_cert_sn: d.org_cert_sn.clone(),
        state: "active".into(),
        reason: None,
        delegation: signed,
    };
    let Ok(mut all) = g.delegations.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "state lock poisoned");
    };
    let record = all.entry(id).or_insert(record).clone();
    (StatusCode::CREATED, Json(record)).into_response()
}

async fn list_delegations(State(g): State<Gdca>, Query(q): Query<HolderQuery>) -> Response {
    let Some(org) = q.org.filter(|s| !s.is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "give `org` (the certificate's serial)",
        );
    };
    let Ok(all) = g.delegations.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "state lock poisoned");
    };
    let list: Vec<&DelegationRecord> = all
        .values()
        .filter(|r| r.org_cert_sn.eq_ignore_ascii_case(&org))
        .collect();
    Json(list).into_response()
}

async fn get_delegation(State(g): State<Gdca>, UrlPath(id): UrlPath<String>) -> Response {
    let Ok(all) = g.delegations.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "state lock poisoned");
    };
    match all.get(&id) {
        Some(r) => Json(r).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such delegation"),
    }
}

#[derive(Debug, Deserialize)]
struct Withdraw {
    #[serde(default)]
    reason: Option<String>,
}

async fn withdraw_delegation(
    State(g): State<Gdca>,
    UrlPath(id): UrlPath<String>,
    body: axum::body::Bytes,
) -> Response {
    let w: Withdraw = if body.is_empty() {
        Withdraw { reason: None }
    } else {
        match serde_json::from_slice(&body) {
            Ok(w) => w,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a withdrawal: {e}")),
        }
    };
    let Ok(mut all) = g.delegations.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "state lock poisoned");
    };
    let Some(r) = all.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "no such delegation");
    };
    r.state = "withdrawn".into();
    r.reason = w.reason.or_else(|| Some("收回".into()));
    Json(r.clone()).into_response()
}

/// The cloud's routes: the softca cloud's over the CA in `ca_dir` and `wallets`, and GDCA's.
pub fn app(ca_dir: &Path, wallets: PathBuf) -> Result<Router, String> {
    let base = softca_cloud::app(ca_dir, Some(wallets.clone()))?;
    let gdca = Router::new()
        .route("/gdca/enc-certs", get(list_enc_certs))
        .route("/gdca/seals", get(seals))
        .route(
            "/gdca/delegations",
            post(record_delegation).get(list_delegations),
        )
        .route("/gdca/delegations/{id}", get(get_delegation))
        .route("/gdca/delegations/{id}/withdraw", post(withdraw_delegation))
        .with_state(Gdca {
            wallets,
            delegations: Arc::new(Mutex::new(BTreeMap::new())),
        });
    Ok(base.merge(gdca))
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
