//! The bid-opening hall's routes (不见面开标大厅): thin glue over [`camr::hall`], where the
//! tenders (招标项目, each with its bid-opening time 开标时间), the bids, the bidders'
//! sign-ins (签到) and the decrypt gate (解密) live — all in the store, so a restart loses
//! nothing and every instance sees the same hall. This module keeps the envelopes
//! (`<data>/files/hall-*.camrbid`) and reads their headers.
//!
//! The hall is the platform's [`camr::ceremony::DecryptPolicy`]: every decrypt start — the
//! hall's own, and `POST /api/v1/bidfiles/open` or `POST /api/v1/transactions` with an
//! envelope of a bid — is refused before the bid's tender opens (`BID_OPENING_NOT_REACHED`) and
//! before the bid's bidder signed in (`BIDDER_NOT_SIGNED_IN`); the answer must come from the
//! certificate that signed in. A decrypt of an envelope that is no bid is refused unless
//! `hall.free_decrypts` allows it (`BID_NOT_SUBMITTED`).
//!
//! The configuration's tender (`hall.project`, `hall.opening_*`) is the default of every
//! call; more tenders are added by the operator.
//!
//! | method and path | what |
//! |---|---|
//! | `GET /api/v1/hall[?tender=T]` | a tender: project, opening time, server time, bids with their sign-ins |
//! | `GET /api/v1/hall/tenders` | every tender with its opening time |
//! | `POST /api/v1/hall/tenders` | operator (`Authorization: Bearer <admin token>`): JSON `{id, project, opensAt}` → a new tender (`409 TENDER_EXISTS` for another under that id) |
//! | `POST /api/v1/hall/bids?name=N[&tender=T][&encryptTid=E]` | body: a sealed envelope (`.camrbid`) → the bid (递交投标文件), before its tender's opening time only (`403 BID_SUBMISSION_CLOSED`); with the encrypt transaction that made it (the caller's own), the bid is bound to its holder |
//! | `POST /api/v1/hall/signin?bid=ID` | a login transaction; once verified, its holder is the bid's signed-in bidder — only the bid's holder (when known), and never replacing another holder's verified sign-in |
//! | `POST /api/v1/hall/decrypt?bid=ID` | for the owner of the bid's sign-in (or the operator): a decrypt transaction for the bid's envelope, through the gate; then `POST /api/v1/bidfiles/{tid}/work` and `GET /api/v1/bidfiles/{tid}/plain` |
//!
//! Pending sign-in tids are never published; a sign-in by another holder than the bid's is
//! dropped when it verifies.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes as BodyBytes};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
pub use camr::hall::{Bid, BidHolder, HallView, Opening, SignIn, Tender};
use camr::hall::{HallError, Submission};
use camr::protocol::{ErrorCode, Operation};
use serde::Deserialize;

use crate::AppState;
use crate::api::{ApiError, json_body, ok, started_ok};
use crate::files::{
    FileMeta, adopt_upload, clean_name, envelope_items, no_json_type, receive, temp_path,
};
use crate::owner::authorize;

type Shared = State<Arc<AppState>>;

/// The demo's project (招标项目).
pub const DEMO_PROJECT: &str = "某某学校教学楼建设工程施工（第一标段）";

/// The demo's opening: this many seconds after the server starts.
pub const DEMO_OPENING_IN_SECS: u32 = 60;

/// The configured tender's settings (`[hall]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallConfig {
    /// The project (招标项目名称), shown on the page; also the configured tender's id, so its
    /// bids are kept under this name.
    pub project: String,
    /// The bid-opening time (开标时间).
    pub opening: Opening,
    /// Whether a decrypt of an envelope that is no bid of this platform may start
    /// (`hall.free_decrypts`); off, such a decrypt is refused (`BID_NOT_SUBMITTED`).
    pub free_decrypts: bool,
}

impl Default for HallConfig {
    fn default() -> Self {
        Self {
            project: DEMO_PROJECT.into(),
            opening: Opening::AfterStart(DEMO_OPENING_IN_SECS),
            free_decrypts: false,
        }
    }
}

/// The server's side of the hall: the SDK's [`camr::hall::Hall`] (tenders, bids, sign-ins,
/// the decrypt gate, all in the store), the configured tender the pages show by default, and
/// the folder of the bids' envelopes.
#[derive(Debug)]
pub struct Hall {
    /// The hall.
    pub sdk: camr::hall::Hall,
    /// The configured tender's id (`hall.project`).
    pub tender: String,
    files_dir: PathBuf,
}

impl Hall {
    /// The hall on `sdk`, its configured tender stored (a restart or a second instance keeps
    /// an opening time counted from the first start; a fixed `hall.opening_at` moves it).
    pub async fn open(
        config: &HallConfig,
        sdk: camr::hall::Hall,
        files_dir: PathBuf,
    ) -> Result<Self, HallError> {
        let tender = sdk
            .ensure_tender(&config.project, &config.project, config.opening)
            .await?;
        Ok(Self {
            sdk,
            tender: tender.id,
            files_dir,
        })
    }

    /// The configured tender's bid-opening time as the store holds it.
    pub async fn opens_at(&self) -> Result<i64, HallError> {
        Ok(self.sdk.tender(&self.tender).await?.opens_at)
    }

    /// Moves the configured tender's bid-opening time, for every instance (the tender agent
    /// postpones or brings forward the opening; tests).
    pub async fn set_opens_at(&self, at: i64) -> Result<(), HallError> {
        self.sdk.set_opens_at(&self.tender, at).await.map(|_| ())
    }

    fn envelope_path(&self, id: &str) -> PathBuf {
        self.files_dir.join(format!("hall-{id}.camrbid"))
    }

    /// The tender a call names, or the configured one.
    fn tender_of<'a>(&'a self, named: Option<&'a str>) -> &'a str {
        named.unwrap_or(&self.tender)
    }
}

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/hall", get(hall_view))
        .route("/api/v1/hall/tenders", get(tenders).post(create_tender))
        .route("/api/v1/hall/bids", post(submit_bid))
        .route("/api/v1/hall/signin", post(sign_in))
        .route("/api/v1/hall/decrypt", post(decrypt))
}

/// Query of the per-bid calls.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BidQuery {
    /// The bid's id.
    pub bid: String,
}

/// Query of the hall's view.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenderQuery {
    /// The tender; the configured one when absent.
    #[serde(default)]
    pub tender: Option<String>,
}

/// Query of the bid submission.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubmitQuery {
    /// The envelope's file name.
    #[serde(default)]
    pub name: Option<String>,
    /// The tender the bid is for; the configured one when absent.
    #[serde(default)]
    pub tender: Option<String>,
    /// The encrypt transaction (扫码加密) whose encryption certificate the bid is sealed to;
    /// the caller must own it. Binds the bid to its holder: only they may sign in for it.
    #[serde(default)]
    pub encrypt_tid: Option<String>,
}

/// What `GET /api/v1/hall/tenders` answers.
#[derive(Debug, Clone, serde::Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TendersOut {
    /// The configured tender's id (the pages' default).
    pub default_tender: String,
    /// Every tender, oldest first.
    pub tenders: Vec<Tender>,
    /// The server's time, unix seconds.
    pub now: i64,
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::malformed(e.body_text()))
}

async fn hall_view(
    State(s): Shared,
    q: Result<Query<TenderQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let tender = s.hall.tender_of(q.tender.as_deref());
    Ok(ok(s.hall.sdk.view(tender, camr::qr::unix_now()).await?))
}

async fn tenders(State(s): Shared) -> Result<Response, ApiError> {
    Ok(ok(TendersOut {
        default_tender: s.hall.tender.clone(),
        tenders: s.hall.sdk.tenders().await?,
        now: camr::qr::unix_now(),
    }))
}

async fn create_tender(
    State(s): Shared,
    headers: HeaderMap,
    body: Result<BodyBytes, BytesRejection>,
) -> Result<Response, ApiError> {
    crate::ops::check_admin(&s, &headers)?;
    let tender: Tender = json_body(&headers, body)?;
    let tender = s.hall.sdk.create_tender(tender).await?;
    tracing::info!(tender = %tender.id, opens_at = tender.opens_at, "tender added to the hall");
    Ok(ok(tender))
}

/// The verified encrypt transaction `tid` the caller owns, and its vendor.
async fn bid_maker(
    s: &AppState,
    headers: &HeaderMap,
    tid: &str,
) -> Result<(camr::ceremony::EncryptResult, String), ApiError> {
    let tid = crate::api::parse_tid(tid)?;
    authorize(s, headers, &tid).await?;
    let result = s.platform.finish_encrypt(&tid).await?;
    let ca = s.platform.status(&tid).await?.ca_org_type;
    Ok((result, ca.unwrap_or_default()))
}

async fn submit_bid(
    State(s): Shared,
    q: Result<Query<SubmitQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    no_json_type(&headers)?;
    let q = query(q)?;
    let tender = s.hall.tender_of(q.tender.as_deref()).to_string();
    // A late bid is refused before its body is read ...
    s.hall
        .sdk
        .check_submission(&tender, camr::qr::unix_now())
        .await?;
    let name = clean_name(q.name.as_deref(), "bid.camrbid");
    let name = name
        .strip_suffix(".camrbid")
        .map(str::to_string)
        .unwrap_or(name);
    let made_by = match &q.encrypt_tid {
        Some(t) => Some(bid_maker(&s, &headers, t).await?),
        None => None,
    };
    let tmp = temp_path(&s)?;
    let (size, _) = receive(&s, body, &tmp, None, crate::files::Upload::Streamed).await?;
    // ... and when it arrived in full: a bid counts as delivered (送达) once all of it is here.
    let taken = match envelope_items(&s, &tmp).await {
        Ok(items) => {
            let (made_by, made_by_ca) =
                made_by.map_or((None, String::new()), |(r, ca)| (Some(r), ca));
            let bid = Submission {
                name,
                size,
                items,
                made_by,
                made_by_ca,
            };
            s.hall
                .sdk
                .submit(&tender, bid, camr::qr::unix_now())
                .await
                .map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    let bid = match taken {
        Ok(bid) => bid,
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
    };
    tokio::fs::rename(&tmp, s.hall.envelope_path(&bid.id))
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(bid = %bid.id, %tender, recipients = ?bid.recipients, "bid submitted to the hall");
    Ok(ok(bid))
}

async fn sign_in(
    State(s): Shared,
    q: Result<Query<BidQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    s.hall.sdk.bid(&q.bid).await?;
    let started = s.platform.start_login().await?;
    // Pending sign-ins end when their login does (verified, refused or expired).
    s.hall
        .sdk
        .add_sign_in(&q.bid, &started.transaction.tid, camr::qr::unix_now())
        .await?;
    Ok(started_ok(&s, Operation::Login, started))
}

async fn decrypt(
    State(s): Shared,
    q: Result<Query<BidQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let bid = s.hall.sdk.settled_bid(&q.bid).await?;
    // Only whoever signed a bidder in (the owner of a sign-in) or the operator opens the bid:
    // the plaintext goes to the party that starts the decrypt. Not signed in: the gate below
    // refuses (opening time, then sign-in).
    let mut bidder = None;
    let mut refusal = None;
    for sign_in in &bid.sign_ins {
        let tid = crate::api::parse_tid(&sign_in.tid)?;
        match authorize(&s, &headers, &tid).await {
            Ok(()) => {
                bidder = Some(sign_in.cert_sn.clone());
                break;
            }
            Err(e) => refusal = Some(e),
        }
    }
    if let (None, Some(e)) = (&bidder, refusal) {
        return Err(e);
    }
    let envelope = s.hall.envelope_path(&bid.id);
    let items = envelope_items(&s, &envelope).await?;
    // The bidder is the one who signed in for this bid; the gate checks it with the time.
    let started = match s.platform.start_decrypt_for(bidder.as_deref(), items).await {
        Ok(st) => Ok(st),
        Err(e) => {
            tracing::info!(bid = %bid.id, code = %e.code(), "hall decrypt refused");
            return Err(e.into());
        }
    };
    // The files routes open and hand out the copy (`/api/v1/bidfiles/{tid}/plain`); the
    // hall keeps its envelope until the opening is over.
    let tmp = temp_path(&s)?;
    tokio::fs::copy(&envelope, &tmp)
        .await
        .map_err(|_| ApiError::new(ErrorCode::TxNotFound, "the bid's envelope is gone"))?;
    let meta = FileMeta {
        name: bid.name.clone(),
        size: bid.size,
    };
    adopt_upload(&s, &tmp, started, "envelope", meta).await
}
