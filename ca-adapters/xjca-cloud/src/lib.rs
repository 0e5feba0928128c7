//! `xjca-cloud` (crate `xjca_cloud`) — the cloud of 中标一证通 (XJCA) as camr models it
//! (docs/vendors/xjca.md). It serves everything `softca_cloud` serves over its own CA
//! ("XJCA Test CA": `/crl`, `/enc-cert`, `/tasks`, `/usage`, `/seals`) plus XJCA's own:
//!
//! | route | what |
//! |---|---|
//! | `POST /xjca/charge` | 按量扣费: one use (`camr::protocol::UsageRecord`) → charged to the certificate, and a seal use to the certificate's seal; a repeated report of the same transaction is not charged twice |
//! | `GET /bills?serial=HEX` | the bill of a certificate: counts and amounts per operation, seal uses separately ([`Bill`]) |
//! | `POST /xjca/verify` | 消息签名验签: `{"signCert","plain","signValue"}` → the manual's result JSON `{"code":200,"success":true,"data":{"verifySignatureResult":…},"msg":"","errorCode":""}` |
//! | `POST /admin/outage` | `{"billing":true}` makes `/xjca/charge` answer 503 (a billing outage, for tests) |
//!
//! The wallets it issues ([`issue_wallet`]) carry a `vendor.json` (`{"caOrgType":"XJCA",…}`)
//! so that the app simulator answers for them in XJCA's wire format (`camr_xjca_wire::encode`).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use camr::crypto::{SignatureScheme, default_provider};
use camr::pki::Certificate;
use camr::protocol::{Operation, SealKind, SubjectType, UsageRecord};
use camr::softca::{Holder, SoftCa};
use data_encoding::BASE64;
use serde::{Deserialize, Serialize};

/// The vendor code.
pub const CA_ORG_TYPE: &str = "XJCA";
/// The name of the cloud's CA.
pub const CA_NAME: &str = "XJCA Test CA";

/// Creates the XJCA test CA (SM2) in `dir`.
pub fn init_ca(dir: &Path) -> Result<SoftCa, String> {
    softca_cloud::init_vendor_ca(dir, "XJCA", CA_NAME)
}

/// Issues a wallet for `holder` into `out` (valid `days`) and writes its `vendor.json`
/// (`{"caOrgType":"XJCA","cloudUrl":…}`): the wallet of an XJCA app. Returns the signing
/// certificate's serial (hex).
pub fn issue_wallet(
    ca_dir: &Path,
    holder: &Holder,
    pin: &[u8],
    out: &Path,
    days: u64,
    cloud_url: Option<&str>,
) -> Result<String, String> {
    let mut vendor = serde_json::json!({ "caOrgType": CA_ORG_TYPE });
    if let Some(url) = cloud_url {
        vendor["cloudUrl"] = url.into();
    }
    softca_cloud::issue_vendor_wallet(ca_dir, "XJCA", holder, pin, out, days, &vendor)
}

/// The price of one use, in fen (分) — our model's tariff.
pub fn price_fen(op: Operation) -> u64 {
    match op {
        Operation::Login => 10,
        Operation::MessageSignature | Operation::RevokeSignature | Operation::Encrypt => 20,
        Operation::Signature | Operation::Decrypt => 50,
    }
}

/// The price of one seal use (a signature applies the certificate's seal), fen.
pub const SEAL_PRICE_FEN: u64 = 30;

/// The seal a certificate's signatures apply: 公章 for an organisation, 人名章 for a person.
pub fn main_seal(subject_type: SubjectType) -> SealKind {
    match subject_type {
        SubjectType::Org => SealKind::Official,
        SubjectType::Personal => SealKind::PersonalName,
    }
}

/// One line of a bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillLine {
    /// The operation (camr name) or, for a seal line, the seal code.
    pub item: String,
    /// XJCA's 扫码类型 or the seal kind.
    pub kind: String,
    /// Uses.
    pub count: u64,
    /// Price of one use, fen.
    pub unit_fen: u64,
    /// `count × unitFen`.
    pub amount_fen: u64,
}

/// The bill of one certificate (按量扣费).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bill {
    /// Certificate serial, hex.
    pub serial: String,
    /// Holder.
    pub cert_name: String,
    /// Per operation.
    pub operations: Vec<BillLine>,
    /// Per seal.
    pub seals: Vec<BillLine>,
    /// Sum, fen.
    pub total_fen: u64,
}

#[derive(Default)]
struct Billing {
    outage: bool,
    charged: HashSet<(String, String)>,
    /// serial (upper hex) → (name, operation → count, seal code → (kind, count)).
    accounts: BTreeMap<String, Account>,
}

#[derive(Default)]
struct Account {
    name: String,
    ops: BTreeMap<&'static str, (Operation, u64)>,
    seals: BTreeMap<String, (SealKind, u64)>,
}

#[derive(Clone, Default)]
struct Xjca {
    billing: Arc<Mutex<Billing>>,
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (
        status,
        Json(serde_json::json!({
            "code": status.as_u16(), "success": false, "data": null,
            "msg": msg.into(), "errorCode": status.as_u16().to_string()
        })),
    )
        .into_response()
}

fn poisoned() -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, "state lock poisoned")
}

async fn charge(State(x): State<Xjca>, body: Bytes) -> Response {
    let record: UsageRecord = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a usage record: {e}")),
    };
    let Ok(mut b) = x.billing.lock() else {
        return poisoned();
    };
    if b.outage {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the XJCA billing service is down",
        );
    }
    let serial = record.cert_sn.to_ascii_uppercase();
    if !b.charged.insert((record.tid.to_string(), serial.clone())) {
        return Json(serde_json::json!({
            "code": 200, "success": true, "msg": "already charged", "errorCode": "",
            "data": { "charged": false }
        }))
        .into_response();
    }
    let account = b.accounts.entry(serial.clone()).or_default();
    account.name = record.cert_name.clone();
    account
        .ops
        .entry(record.usage_scene.as_str())
        .or_insert((record.usage_scene, 0))
        .1 += 1;
    let mut fen = price_fen(record.usage_scene);
    if record.usage_scene == Operation::Signature {
        let kind = main_seal(record.subject_type);
        let code = softca_cloud::seal_code(&serial, kind).replacen("SOFTCA-", "XJCA-", 1);
        account.seals.entry(code).or_insert((kind, 0)).1 += 1;
        fen += SEAL_PRICE_FEN;
    }
    (
        StatusCode::CREATED,
        Json(serde_json::json!({
            "code": 200, "success": true, "msg": "", "errorCode": "",
            "data": { "charged": true, "amountFen": fen }
        })),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct SerialQuery {
    serial: Option<String>,
}

async fn bill(State(x): State<Xjca>, Query(q): Query<SerialQuery>) -> Response {
    let Some(serial) = q.serial.filter(|s| !s.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "give `serial` (hex)");
    };
    let Ok(b) = x.billing.lock() else {
        return poisoned();
    };
    let serial = serial.to_ascii_uppercase();
    let Some(account) = b.accounts.get(&serial) else {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "no uses billed to `{}`",
                serial.chars().take(64).collect::<String>()
            ),
        );
    };
    Json(bill_of(&serial, account)).into_response()
}

fn bill_of(serial: &str, a: &Account) -> Bill {
    let operations: Vec<BillLine> = a
        .ops
        .iter()
        .map(|(name, (op, count))| BillLine {
            item: (*name).to_string(),
            kind: camr_scan_type(*op).to_string(),
            count: *count,
            unit_fen: price_fen(*op),
            amount_fen: count * price_fen(*op),
        })
        .collect();
    let seals: Vec<BillLine> = a
        .seals
        .iter()
        .map(|(code, (kind, count))| BillLine {
            item: code.clone(),
            kind: kind.as_str().to_string(),
            count: *count,
            unit_fen: SEAL_PRICE_FEN,
            amount_fen: count * SEAL_PRICE_FEN,
        })
        .collect();
    let total_fen = operations
        .iter()
        .chain(seals.iter())
        .map(|l| l.amount_fen)
        .sum();
    Bill {
        serial: serial.to_string(),
        cert_name: a.name.clone(),
        operations,
        seals,
        total_fen,
    }
}

/// XJCA's 扫码类型 of an operation (as in the wire format).
pub fn camr_scan_type(op: Operation) -> &'static str {
    camr_xjca_wire::scan_type(op)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VerifyIn {
    sign_cert: String,
    plain: String,
    sign_value: String,
}

/// `true` when `sign_value` (base64) is a valid signature over `plain` (UTF-8) by the key of
/// `sign_cert` (base64 DER); an error for input that does not decode.
pub fn verify_message(sign_cert: &str, plain: &str, sign_value: &str) -> Result<bool, String> {
    let der = BASE64
        .decode(sign_cert.as_bytes())
        .map_err(|e| format!("`signCert` is not base64: {e}"))?;
    let sig = BASE64
        .decode(sign_value.as_bytes())
        .map_err(|e| format!("`signValue` is not base64: {e}"))?;
    let cert = Certificate::from_der(&der).map_err(|e| format!("`signCert`: {e}"))?;
    let key = cert.public_key().map_err(|e| format!("`signCert`: {e}"))?;
    let scheme = SignatureScheme::default_for(key.algorithm());
    Ok(default_provider()
        .verify(&key, &scheme, plain.as_bytes(), &sig)
        .is_ok())
}

async fn verify(body: Bytes) -> Response {
    let input: VerifyIn = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("bad verify request: {e}")),
    };
    match verify_message(&input.sign_cert, &input.plain, &input.sign_value) {
        Ok(ok) => Json(serde_json::json!({
            "code": 200, "success": true,
            "data": { "verifySignatureResult": ok },
            "msg": "", "errorCode": ""
        }))
        .into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Outage {
    billing: bool,
}

async fn outage(State(x): State<Xjca>, body: Bytes) -> Response {
    let o: Outage = match serde_json::from_slice(&body) {
        Ok(o) => o,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("{e}")),
    };
    let Ok(mut b) = x.billing.lock() else {
        return poisoned();
    };
    b.outage = o.billing;
    Json(serde_json::json!({ "billing": if o.billing { "down" } else { "up" } })).into_response()
}

/// The XJCA cloud's routes: `softca_cloud`'s over the CA in `ca_dir` and the `wallets` folder,
/// plus billing, verification and the outage switch.
pub fn app(ca_dir: &Path, wallets: Option<PathBuf>) -> Result<Router, String> {
    let own = Router::new()
        .route("/xjca/charge", post(charge))
        .route("/bills", get(bill))
        .route("/xjca/verify", post(verify))
        .route("/admin/outage", post(outage))
        .with_state(Xjca::default());
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
