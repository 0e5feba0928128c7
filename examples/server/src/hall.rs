//! The bid-opening hall (不见面开标大厅): one opening session (project, opening time), the
//! bids submitted to it, the bidders' sign-in (签到) and decryption per bid (解密).
//!
//! The Epoint manual's precondition for the decrypt QR of the hall is "投标人已完成签到，
//! 开标时间已到": the hall is the platform's [`DecryptPolicy`] (installed on the
//! [`camr::ceremony::Platform`]), so every decrypt start — the hall's own, and
//! `POST /api/v1/bidfiles/open` or `POST /api/v1/transactions` with an envelope of this
//! opening — is refused before the opening time (`BID_OPENING_NOT_REACHED`) and before the
//! bid's bidder signed in (`BIDDER_NOT_SIGNED_IN`). The decrypt answer must then come from the
//! certificate that signed in ([`DecryptPolicy::check_answer`]).
//!
//! Which bid a decrypt is for: the envelope's recipients. A bid submitted to the hall is
//! recorded with the serials of the encryption certificates it is sealed to; a decrypt whose
//! keys name one of them is a decrypt of that bid. Envelopes not submitted to this opening
//! are not gated by it.
//!
//! | method and path | what |
//! |---|---|
//! | `GET /api/v1/hall` | the session: project, opening time, server time, bids with their sign-ins |
//! | `POST /api/v1/hall/bids?name=N[&encryptTid=T]` | body: a sealed envelope (`.camrbid`) → the bid (递交投标文件), before the opening time only (`403 BID_SUBMISSION_CLOSED`, [`camr::store::hall::check_submission`]); with the encrypt transaction that made it (the caller's own), the bid is bound to its holder |
//! | `POST /api/v1/hall/signin?bid=ID` | a login transaction; once verified, its holder is the bid's signed-in bidder — only the bid's holder (when known), and never replacing another holder's verified sign-in |
//! | `POST /api/v1/hall/decrypt?bid=ID` | for the owner of the bid's sign-in (or the operator): a decrypt transaction for the bid's envelope, through the gate; then `POST /api/v1/bidfiles/{tid}/work` and `GET /api/v1/bidfiles/{tid}/plain` |
//!
//! Pending sign-in tids are never published; a sign-in by another holder than the bid's is
//! dropped when it verifies.
//!
//! Bids, sign-ins and pending sign-ins live in the store (`camr::store::HallStore`: memory,
//! SQLite, PostgreSQL), so a restart loses nothing and every instance sees the same hall; the
//! envelopes stay under `<data>/files/hall-*.camrbid`. The gate recognises a decrypt of a bid
//! by the SM3 of the content keys being decrypted, and refuses a decrypt that is no submitted
//! bid unless `hall.free_decrypts` allows it (`403 BID_NOT_SUBMITTED`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use camr::ceremony::{DecryptContext, DecryptPolicy, DecryptRefusal, LoginResult};
use camr::crypto::CryptoProvider;
use camr::envelope::read_header;
use camr::protocol::{
    Bytes, EncryptedKeyItem, ErrorCode, Operation, Tid, TransactionState, UsageRecord,
};
use camr::store::hall::key_digest;
pub use camr::store::hall::{Bid, BidHolder, SignIn};
use camr::store::{BoxFuture, HallStore, StoreError, TransactionStore};
use camr::store::{RecordStore, Versioned};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::{ApiError, ok, started_ok};
use crate::files::{FileMeta, adopt_upload, clean_name, no_json_type, receive, temp_path};
use crate::owner::authorize;

type Shared = State<Arc<AppState>>;

/// The demo's project (招标项目).
pub const DEMO_PROJECT: &str = "某某学校教学楼建设工程施工（第一标段）";

/// The demo's opening: this many seconds after the server starts.
pub const DEMO_OPENING_IN_SECS: u32 = 60;

/// When the opening starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// This many seconds after the server starts (`hall.opening_in_secs`).
    AfterStart(u32),
    /// At this time, unix seconds (`hall.opening_at`).
    At(i64),
}

/// The opening session's settings (`[hall]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallConfig {
    /// The project (招标项目名称), shown on the page; its bids are kept under this name.
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

/// The identity a sign-in must match: the holder's stable identity key, or the name and
/// organisation where the certificate carries no identity number.
fn identity_of(subject: &camr::pki::Subject) -> String {
    camr::store::accounts::identity_key(subject).unwrap_or_else(|| {
        format!(
            "name:{}:{}",
            subject.name,
            subject.organization.as_deref().unwrap_or("")
        )
    })
}

/// What `GET /api/v1/hall` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HallView {
    /// The project (招标项目).
    pub project: String,
    /// The bid-opening time (开标时间), unix seconds.
    pub opens_at: i64,
    /// The server's time, unix seconds (pages count down from it).
    pub now: i64,
    /// Whether the opening time is reached.
    pub opened: bool,
    /// The bids, in the order submitted (holders' identity numbers left out).
    pub bids: Vec<Bid>,
}

/// The opening session and the decrypt gate.
#[derive(Debug)]
pub struct Hall {
    project: String,
    opens_at: AtomicI64,
    free_decrypts: bool,
    provider: Arc<dyn CryptoProvider>,
    store: Arc<dyn TransactionStore>,
    records: Arc<dyn HallStore>,
    /// Where the opening time is kept (record kind [`OPENING`], key: the project), so every
    /// instance and every restart opens the bids at the same time.
    openings: Arc<dyn RecordStore>,
    files_dir: PathBuf,
}

/// The record kind of a tender's opening time.
pub const OPENING: &str = "hall-opening";

/// How long an opening-time record is kept after the opening, seconds.
const OPENING_KEPT: i64 = 366 * 86_400;

fn lower(sn: &str) -> String {
    sn.trim().to_ascii_lowercase()
}

impl Hall {
    /// The session of `config`, its opening time fixed from `now`; logins are read from
    /// `store`, bids and sign-ins kept in `records`, envelopes in `files_dir`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: &HallConfig,
        now: i64,
        provider: Arc<dyn CryptoProvider>,
        store: Arc<dyn TransactionStore>,
        records: Arc<dyn HallStore>,
        openings: Arc<dyn RecordStore>,
        files_dir: PathBuf,
    ) -> Self {
        let opens_at = match config.opening {
            Opening::AfterStart(secs) => now + i64::from(secs),
            Opening::At(t) => t,
        };
        Self {
            project: config.project.clone(),
            opens_at: AtomicI64::new(opens_at),
            free_decrypts: config.free_decrypts,
            provider,
            store,
            records,
            openings,
            files_dir,
        }
    }

    /// Settles the opening time with the store at start: `hall.opening_at` is written there
    /// (the configuration decides); `hall.opening_in_secs` counts from the first start on the
    /// store, so a restart or a second instance keeps the time the first one set.
    pub async fn settle_opening(&self, config: &HallConfig) -> Result<(), StoreError> {
        let store = self.openings.as_ref();
        let wanted = self.opens_at.load(Ordering::SeqCst);
        let kept = Versioned::<i64>::load(store, OPENING, &self.project).await?;
        let at = match (config.opening, kept) {
            (Opening::AfterStart(_), Some(kept)) => kept.value,
            (Opening::At(_), Some(_)) => {
                self.write_opening(wanted).await?;
                wanted
            }
            (_, None) => {
                match Versioned::create(
                    store,
                    OPENING,
                    &self.project,
                    wanted,
                    wanted + OPENING_KEPT,
                )
                .await
                {
                    Ok(_) => wanted,
                    // Another instance starting at the same moment set it first.
                    Err(StoreError::Conflict(_)) => self.current_opening().await?,
                    Err(e) => return Err(e),
                }
            }
        };
        self.opens_at.store(at, Ordering::SeqCst);
        Ok(())
    }

    /// The bid-opening time, unix seconds, as this instance last read it.
    pub fn opens_at(&self) -> i64 {
        self.opens_at.load(Ordering::SeqCst)
    }

    /// The bid-opening time as the store holds it (another instance may have moved it).
    async fn current_opening(&self) -> Result<i64, StoreError> {
        let kept = Versioned::<i64>::load(self.openings.as_ref(), OPENING, &self.project).await?;
        let at = kept.map_or_else(|| self.opens_at(), |k| k.value);
        self.opens_at.store(at, Ordering::SeqCst);
        Ok(at)
    }

    async fn write_opening(&self, at: i64) -> Result<(), StoreError> {
        let changed = Versioned::<i64>::update(
            self.openings.as_ref(),
            OPENING,
            &self.project,
            |at| at + OPENING_KEPT,
            |v| {
                *v = at;
                Ok::<_, StoreError>(())
            },
        )
        .await?;
        if changed.is_none() {
            Versioned::create(
                self.openings.as_ref(),
                OPENING,
                &self.project,
                at,
                at + OPENING_KEPT,
            )
            .await?;
        }
        Ok(())
    }

    /// Moves the bid-opening time, for every instance (the tender agent postpones or brings
    /// forward the opening; tests).
    pub async fn set_opens_at(&self, at: i64) -> Result<(), StoreError> {
        self.write_opening(at).await?;
        self.opens_at.store(at, Ordering::SeqCst);
        Ok(())
    }

    /// Records the pending sign-ins whose login is now final (read from the store, so a login
    /// answered on another instance counts too). A verified login of the bid's holder (any
    /// holder, when the bid's is not known) is kept beside the others, none replaced; a
    /// sign-in by another holder is dropped.
    async fn settle_sign_ins(&self) -> Result<(), StoreError> {
        for (bid_id, tid) in self.records.pending_sign_ins().await? {
            let Ok(parsed) = Tid::parse(&tid) else {
                self.records.settle_sign_in(&bid_id, &tid, None).await?;
                continue;
            };
            let Some(rec) = self.store.get(&parsed).await? else {
                self.records.settle_sign_in(&bid_id, &tid, None).await?;
                continue;
            };
            let tx = &rec.transaction;
            let login = match tx.state {
                TransactionState::Verified if tx.operation == Operation::Login => rec
                    .result
                    .clone()
                    .and_then(|v| serde_json::from_value::<LoginResult>(v).ok()),
                s if s.is_terminal() => None,
                _ if camr::qr::unix_now() > tx.expires_at => None,
                _ => continue,
            };
            let bid = self.records.bid(&bid_id).await?;
            let sign_in = match (login, bid) {
                (Some(login), Some(bid)) => {
                    let holder_ok = bid.holder.as_ref().is_none_or(|h| {
                        h.identity == identity_of(&login.subject)
                            && h.ca_org_type == login.ca_org_type
                    });
                    if !holder_ok {
                        tracing::warn!(bid = %bid_id, %tid, who = %login.subject.name,
                            "hall sign-in by another holder than the bid's: not recorded");
                    }
                    holder_ok.then(|| SignIn {
                        name: login.subject.name.clone(),
                        organization: login.subject.organization.clone(),
                        cert_sn: lower(&login.subject.cert_sn),
                        tid: tid.clone(),
                        signed_in_at: login.verified_at,
                    })
                }
                _ => None,
            };
            self.records
                .settle_sign_in(&bid_id, &tid, sign_in.as_ref())
                .await?;
        }
        Ok(())
    }

    /// The session as it stands.
    pub async fn view(&self, now: i64) -> Result<HallView, ApiError> {
        self.settle_sign_ins().await.map_err(ApiError::from)?;
        let opens_at = self.current_opening().await.map_err(ApiError::from)?;
        let bids = self
            .records
            .bids(&self.project)
            .await
            .map_err(ApiError::from)?;
        Ok(HallView {
            project: self.project.clone(),
            opens_at,
            now,
            opened: now >= opens_at,
            bids: bids.into_iter().map(Bid::public).collect(),
        })
    }

    async fn bid(&self, id: &str) -> Result<Bid, ApiError> {
        self.records
            .bid(id)
            .await
            .map_err(ApiError::from)?
            .filter(|b| b.tender == self.project)
            .ok_or_else(|| ApiError::malformed(format!("no bid `{}` in this hall", clip(id))))
    }

    fn envelope_path(&self, id: &str) -> PathBuf {
        self.files_dir.join(format!("hall-{id}.camrbid"))
    }

    /// Whether the hall still takes bids at `now`: before the opening time as the store holds
    /// it (another instance may have moved it).
    async fn check_submission(&self, now: i64) -> Result<(), ApiError> {
        let opens_at = self.current_opening().await.map_err(ApiError::from)?;
        camr::store::hall::check_submission(opens_at, now)?;
        Ok(())
    }

    /// The bids whose content keys a decrypt is about to open (by the SM3 of each encrypted
    /// key, not by the recipient labels a caller supplies); sign-ins settled first.
    async fn bids_of(&self, items: &[EncryptedKeyItem]) -> Result<Vec<Bid>, StoreError> {
        self.settle_sign_ins().await?;
        let mut bids: Vec<Bid> = Vec::new();
        for item in items {
            let digest = key_digest(self.provider.as_ref(), &item.encrypted_key);
            if let Some(bid) = self.records.bid_by_key(&digest).await?
                && !bids.iter().any(|b| b.id == bid.id)
            {
                bids.push(bid);
            }
        }
        Ok(bids)
    }
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The gate cannot read its records: refused (fails closed).
fn unavailable(e: StoreError) -> DecryptRefusal {
    tracing::error!("the decrypt gate cannot read the hall: {e}");
    DecryptRefusal::BidderNotSignedIn {
        who: "the bidder (the hall's records cannot be read now; try again)".into(),
    }
}

impl DecryptPolicy for Hall {
    fn check<'a>(&'a self, ctx: DecryptContext<'a>) -> BoxFuture<'a, Result<(), DecryptRefusal>> {
        Box::pin(async move {
            let bids = self.bids_of(ctx.items).await.map_err(unavailable)?;
            if bids.is_empty() {
                return if self.free_decrypts {
                    Ok(())
                } else {
                    Err(DecryptRefusal::NotABid)
                };
            }
            let opens_at = self.current_opening().await.map_err(unavailable)?;
            if ctx.now < opens_at {
                return Err(DecryptRefusal::BidOpeningNotReached {
                    opens_at,
                    now: ctx.now,
                });
            }
            let signed_in = bids.iter().any(|b| {
                b.sign_ins
                    .iter()
                    .any(|s| ctx.bidder.is_none_or(|who| lower(who) == s.cert_sn))
            });
            if signed_in {
                return Ok(());
            }
            let who = match ctx.bidder {
                Some(who) => format!("certificate {who}"),
                None => format!(
                    "the bidder of {}",
                    bids.iter()
                        .map(|b| format!("`{}`", b.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            Err(DecryptRefusal::BidderNotSignedIn { who })
        })
    }

    /// The phone that answers a bid's decrypt must hold a certificate that signed in for it
    /// (the sign-in and the decrypt answer are both signed with the bidder's signing
    /// certificate): someone else's sign-in does not open the bid.
    fn check_answer<'a>(
        &'a self,
        ctx: DecryptContext<'a>,
        answered_by: &'a UsageRecord,
    ) -> BoxFuture<'a, Result<(), DecryptRefusal>> {
        Box::pin(async move {
            let bids = self.bids_of(ctx.items).await.map_err(unavailable)?;
            if bids.is_empty() {
                return Ok(());
            }
            let answerer = lower(&answered_by.cert_sn);
            if bids
                .iter()
                .any(|b| b.sign_ins.iter().any(|s| s.cert_sn == answerer))
            {
                return Ok(());
            }
            Err(DecryptRefusal::AnsweredByAnother {
                cert_sn: answered_by.cert_sn.clone(),
                name: answered_by.cert_name.clone(),
            })
        })
    }
}

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/hall", get(hall_view))
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

/// Query of the bid submission.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubmitQuery {
    /// The envelope's file name.
    #[serde(default)]
    pub name: Option<String>,
    /// The encrypt transaction (扫码加密) whose encryption certificate the bid is sealed to;
    /// the caller must own it. Binds the bid to its holder: only they may sign in for it.
    #[serde(default)]
    pub encrypt_tid: Option<String>,
}

/// The encryption certificate's serial (lower-case hex) and holder of a verified encrypt
/// transaction the caller owns.
async fn bid_maker(
    s: &AppState,
    headers: &HeaderMap,
    tid: &str,
) -> Result<(String, BidHolder), ApiError> {
    let tid = crate::api::parse_tid(tid)?;
    authorize(s, headers, &tid).await?;
    let result = s.platform.finish_encrypt(&tid).await?;
    let cert = camr::pki::Certificate::from_der(&result.encryption_certificate)?;
    let ca = s
        .platform
        .status(&tid)
        .await?
        .ca_org_type
        .unwrap_or_default();
    Ok((
        lower(&cert.serial_hex()),
        BidHolder {
            name: result.subject.name.clone(),
            ca_org_type: ca,
            identity: identity_of(&result.subject),
        },
    ))
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::malformed(e.body_text()))
}

async fn hall_view(State(s): Shared) -> Result<Response, ApiError> {
    Ok(ok(s.hall.view(camr::qr::unix_now()).await?))
}

/// Reads the header of the envelope at `path`: its encrypted keys as decrypt items.
async fn envelope_items(
    s: &AppState,
    path: &std::path::Path,
) -> Result<Vec<EncryptedKeyItem>, ApiError> {
    let provider = s.platform.provider().clone();
    let path = path.to_path_buf();
    let header = tokio::task::spawn_blocking(move || {
        let mut f =
            std::io::BufReader::new(std::fs::File::open(&path).map_err(ApiError::internal)?);
        read_header(provider.as_ref(), &mut f).map_err(|e| ApiError::new(e.code(), e.to_string()))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(header
        .encrypted_keys
        .iter()
        .enumerate()
        .map(|(i, (sn, k))| EncryptedKeyItem {
            id: format!("key{}", i + 1),
            recipient_cert_sn: sn.clone(),
            encrypted_key: Bytes(k.clone()),
        })
        .collect())
}

async fn submit_bid(
    State(s): Shared,
    q: Result<Query<SubmitQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    no_json_type(&headers)?;
    let q = query(q)?;
    // A late bid is refused before its body is read ...
    s.hall.check_submission(camr::qr::unix_now()).await?;
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
    let items = match envelope_items(&s, &tmp).await {
        Ok(items) if items.is_empty() => {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(ApiError::new(
                ErrorCode::EnvelopeMalformed,
                "the bid file is sealed to no recipient",
            ));
        }
        Ok(items) => items,
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
    };
    let holder = match made_by {
        Some((sn, holder)) => {
            if !items.iter().any(|i| lower(&i.recipient_cert_sn) == sn) {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(ApiError::new(
                    ErrorCode::EnvelopeNoRecipient,
                    "the bid file is not sealed to the encryption certificate of the encrypt \
                     transaction named (encryptTid)",
                ));
            }
            Some(holder)
        }
        None => None,
    };
    // ... and when it arrived in full: a bid counts as delivered (送达) once all of it is here.
    if let Err(e) = s.hall.check_submission(camr::qr::unix_now()).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(e);
    }
    let mut id = [0u8; 6];
    s.platform
        .provider()
        .fill_random(&mut id)
        .map_err(ApiError::internal)?;
    let id = data_encoding::HEXLOWER.encode(&id);
    let bid = Bid {
        id,
        tender: s.hall.project.clone(),
        name,
        size,
        recipients: items.iter().map(|i| lower(&i.recipient_cert_sn)).collect(),
        submitted_at: camr::qr::unix_now(),
        signed_in: None,
        sign_ins: Vec::new(),
        holder,
    };
    let provider = s.platform.provider().clone();
    let digests: Vec<String> = items
        .iter()
        .map(|i| key_digest(provider.as_ref(), &i.encrypted_key))
        .collect();
    if let Err(e) = s.hall.records.insert_bid(&bid, &digests).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(match e {
            StoreError::Duplicate(_) => ApiError::new(
                ErrorCode::BidExists,
                "this bid file was submitted already (投标文件已递交)",
            ),
            e => ApiError::from(e),
        });
    }
    tokio::fs::rename(&tmp, s.hall.envelope_path(&bid.id))
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(bid = %bid.id, recipients = ?bid.recipients, "bid submitted to the hall");
    Ok(ok(bid.public()))
}

async fn sign_in(
    State(s): Shared,
    q: Result<Query<BidQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    s.hall.bid(&q.bid).await?;
    let started = s.platform.start_login().await?;
    let tid = started.transaction.tid.to_string();
    // Pending sign-ins end when their login does (verified, refused or expired).
    s.hall
        .records
        .add_pending_sign_in(&q.bid, &tid, camr::qr::unix_now())
        .await
        .map_err(ApiError::from)?;
    Ok(started_ok(&s, Operation::Login, started))
}

async fn decrypt(
    State(s): Shared,
    q: Result<Query<BidQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    s.hall.settle_sign_ins().await.map_err(ApiError::from)?;
    let bid = s.hall.bid(&q.bid).await?;
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
