//! The bid-opening hall (不见面开标大厅): any number of tenders (招标项目), each with its
//! bid-opening time (开标时间), the bids submitted to it, the bidders' sign-ins (签到) and the
//! decrypt gate (解密) — the platform's [`DecryptPolicy`](crate::ceremony::DecryptPolicy).
//!
//! Everything lives in the store: tenders are versioned records (kind [`TENDER`] in a
//! [`RecordStore`]), bids, sign-ins and pending sign-ins are [`HallStore`] rows. So a restart
//! loses nothing, and every platform instance on one database sees the same hall and moves the
//! same opening time. A platform keeps only the envelopes themselves (files, blobs).
//!
//! The rules, each with its error code:
//! - a bid is taken before its tender's opening time only (`BID_SUBMISSION_CLOSED`): the
//!   deadline for submission is the opening time itself (逾期送达的投标文件应当拒收);
//! - the same bid file (the same content keys) is taken once (`BID_EXISTS`), in any tender;
//! - a bid submitted with the encrypt transaction that made it is bound to that holder: only
//!   they may sign in for it, and a sign-in by another holder is dropped when it verifies;
//! - a decrypt of a bid waits for the bid's tender's opening time (`BID_OPENING_NOT_REACHED`)
//!   and for its bidder's sign-in (`BIDDER_NOT_SIGNED_IN`); its answer must come from a
//!   certificate that signed in; a decrypt of an envelope that is no bid is refused unless the
//!   platform allows free decrypts (`BID_NOT_SUBMITTED`). Which bid a decrypt is for is read
//!   from what it decrypts (the SM3 of each encrypted content key), never from a label.
//!
//! ```no_run
//! # async fn demo(hall: camr::hall::Hall) -> Result<(), camr::hall::HallError> {
//! use camr::hall::Opening;
//! let now = camr::time::unix_now();
//! let tender = hall.ensure_tender("ZB-2026-001", "教学楼施工（第一标段）", Opening::At(now + 3600)).await?;
//! let view = hall.view(&tender.id, now).await?;
//! assert!(!view.opened);
//! # Ok(()) }
//! ```

mod gate;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ceremony::{EncryptResult, LoginResult};
use crate::crypto::CryptoProvider;
use crate::pki::{Certificate, Subject};
use crate::protocol::{EncryptedKeyItem, ErrorCode, Operation, Tid, TransactionState};
use crate::store::{HallStore, RecordStore, StoreError, TransactionStore, Versioned};

pub use crate::store::hall::{
    Bid, BidHolder, SignIn, SubmissionRefusal, check_submission, key_digest,
};

/// The record kind of a tender.
pub const TENDER: &str = "hall-tender";

/// The record kind the hall kept a tender's opening time under before tenders were records
/// (key: the project, body: unix seconds); still read, so a store written then keeps its
/// opening time.
const LEGACY_OPENING: &str = "hall-opening";

/// How long a tender's record is kept after its opening, seconds.
const TENDER_KEPT: i64 = 366 * 86_400;

/// How many tenders [`Hall::tenders`] lists at most.
pub const MAX_TENDERS_LISTED: u32 = 1_000;

/// A tender (招标项目) and its bid-opening time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tender {
    /// The tender's id (招标项目编号), or the project's name.
    pub id: String,
    /// The project (招标项目名称), as shown to bidders.
    pub project: String,
    /// The bid-opening time (开标时间), unix seconds.
    pub opens_at: i64,
}

impl Tender {
    /// Until when its record is kept: a year after the opening.
    fn kept_until(&self) -> i64 {
        self.opens_at.saturating_add(TENDER_KEPT)
    }
}

/// When a tender opens, as a platform configures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// This many seconds after the tender is first stored; an instance starting later (or a
    /// restart) keeps the time the first one set.
    AfterStart(u32),
    /// At this time, unix seconds; moves a stored tender's opening time.
    At(i64),
}

/// A tender as anyone may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HallView {
    /// The tender's id.
    pub tender: String,
    /// The project (招标项目).
    pub project: String,
    /// The bid-opening time (开标时间), unix seconds.
    pub opens_at: i64,
    /// The platform's time, unix seconds (pages count down from it).
    pub now: i64,
    /// Whether the opening time is reached.
    pub opened: bool,
    /// The bids, in the order submitted (holders' identity numbers left out).
    pub bids: Vec<Bid>,
}

/// A bid file to submit: what the platform read from the envelope's header.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The file name (without `.camrbid`).
    pub name: String,
    /// The envelope's size, bytes.
    pub size: u64,
    /// The envelope's encrypted content keys.
    pub items: Vec<EncryptedKeyItem>,
    /// The encrypt transaction that made the bid (the caller's own, verified), when given:
    /// binds the bid to its holder.
    pub made_by: Option<EncryptResult>,
    /// The CA vendor (caOrgType) of `made_by`.
    pub made_by_ca: String,
}

/// Why the hall refused.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum HallError {
    /// No such tender.
    #[error("no tender `{0}` in the bid-opening hall (招标项目不存在)")]
    NoSuchTender(String),
    /// No such bid.
    #[error("no bid `{0}` in the bid-opening hall (投标文件不存在)")]
    NoSuchBid(String),
    /// A tender id that is empty, too long, padded, or has a control character or a slash.
    #[error(
        "the tender id must be 1 to 200 characters, without surrounding spaces, control characters, '/' or '\\': `{0}`"
    )]
    BadTenderId(String),
    /// The tender exists with another project.
    #[error("tender `{id}` exists already, for project {project}")]
    TenderExists {
        /// The id.
        id: String,
        /// Its project.
        project: String,
    },
    /// The bid came too late.
    #[error(transparent)]
    Closed(#[from] SubmissionRefusal),
    /// The same bid file was submitted already.
    #[error("this bid file was submitted already (投标文件已递交)")]
    BidExists,
    /// The envelope names no recipient.
    #[error("the bid file is sealed to no recipient")]
    NoRecipient,
    /// The envelope is not sealed to the encryption certificate of the encrypt transaction
    /// named as its maker.
    #[error(
        "the bid file is not sealed to the encryption certificate of the encrypt transaction named (encryptTid)"
    )]
    NotSealedToMaker,
    /// The encrypt result's certificate cannot be read.
    #[error("the encrypt transaction's encryption certificate cannot be read: {0}")]
    MakerCertificate(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl HallError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NoSuchTender(_) => ErrorCode::TenderNotFound,
            Self::NoSuchBid(_) => ErrorCode::BidNotFound,
            Self::BadTenderId(_) => ErrorCode::InputMalformed,
            Self::TenderExists { .. } => ErrorCode::TenderExists,
            Self::Closed(r) => r.code(),
            Self::BidExists => ErrorCode::BidExists,
            Self::NoRecipient | Self::MakerCertificate(_) => ErrorCode::EnvelopeMalformed,
            Self::NotSealedToMaker => ErrorCode::EnvelopeNoRecipient,
            Self::Store(e) => e.code(),
        }
    }
}

/// The identity a sign-in must match: the holder's stable identity key, or the name and
/// organisation where the certificate carries no identity number.
pub fn identity_of(subject: &Subject) -> String {
    crate::store::accounts::identity_key(subject).unwrap_or_else(|| {
        format!(
            "name:{}:{}",
            subject.name,
            subject.organization.as_deref().unwrap_or("")
        )
    })
}

fn lower(sn: &str) -> String {
    sn.trim().to_ascii_lowercase()
}

fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Whether `id` may name a tender: a code (招标项目编号) or a project's name — 1 to 200
/// characters, no surrounding spaces, no control characters, no `/` or `\\` (it goes into
/// URLs and file names).
fn valid_tender_id(id: &str) -> bool {
    let n = id.chars().count();
    (1..=200).contains(&n)
        && id.trim() == id
        && !id.chars().any(|c| c.is_control() || c == '/' || c == '\\')
}

/// The bid-opening hall of a platform: its tenders, bids and sign-ins, and the decrypt gate.
#[derive(Debug, Clone)]
pub struct Hall {
    provider: Arc<dyn CryptoProvider>,
    /// Where the sign-in logins are read (a login answered on another instance counts too).
    store: Arc<dyn TransactionStore>,
    records: Arc<dyn HallStore>,
    tenders: Arc<dyn RecordStore>,
    free_decrypts: bool,
}

impl Hall {
    /// A hall reading logins from `store`, keeping bids and sign-ins in `records` and tenders
    /// in `tenders` (usually all three the same store). Decrypts of envelopes that are no bid
    /// are refused; see [`Hall::with_free_decrypts`].
    pub fn new(
        provider: Arc<dyn CryptoProvider>,
        store: Arc<dyn TransactionStore>,
        records: Arc<dyn HallStore>,
        tenders: Arc<dyn RecordStore>,
    ) -> Self {
        Self {
            provider,
            store,
            records,
            tenders,
            free_decrypts: false,
        }
    }

    /// Whether a decrypt of an envelope that is no bid may start (off by default: the gate
    /// fails closed with `BID_NOT_SUBMITTED`).
    pub fn with_free_decrypts(mut self, free: bool) -> Self {
        self.free_decrypts = free;
        self
    }

    /// The tender `id`.
    pub async fn tender(&self, id: &str) -> Result<Tender, HallError> {
        self.find_tender(id)
            .await?
            .ok_or_else(|| HallError::NoSuchTender(clip(id)))
    }

    async fn find_tender(&self, id: &str) -> Result<Option<Tender>, HallError> {
        let store = self.tenders.as_ref();
        if let Some(t) = Versioned::<Tender>::load(store, TENDER, id).await? {
            return Ok(Some(t.value));
        }
        Ok(Versioned::<i64>::load(store, LEGACY_OPENING, id)
            .await?
            .map(|kept| Tender {
                id: id.to_string(),
                project: id.to_string(),
                opens_at: kept.value,
            }))
    }

    /// Every tender, oldest first (at most [`MAX_TENDERS_LISTED`]).
    pub async fn tenders(&self) -> Result<Vec<Tender>, HallError> {
        let keys = self.tenders.record_keys(TENDER, MAX_TENDERS_LISTED).await?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(t) = Versioned::<Tender>::load(self.tenders.as_ref(), TENDER, &key).await? {
                out.push(t.value);
            }
        }
        Ok(out)
    }

    /// Stores a new tender; the same tender again changes nothing, another project under a
    /// taken id is `TENDER_EXISTS`.
    pub async fn create_tender(&self, tender: Tender) -> Result<Tender, HallError> {
        if !valid_tender_id(&tender.id) {
            return Err(HallError::BadTenderId(clip(&tender.id)));
        }
        if let Some(kept) = self.find_tender(&tender.id).await? {
            return if kept == tender {
                Ok(kept)
            } else {
                Err(HallError::TenderExists {
                    id: kept.id,
                    project: kept.project,
                })
            };
        }
        match self.insert_tender(&tender).await {
            Ok(()) => Ok(tender),
            // Another instance created it at the same moment: the stored one counts.
            Err(StoreError::Conflict(_)) => self.tender(&tender.id).await,
            Err(e) => Err(e.into()),
        }
    }

    /// The tender `id` for `project` as a platform configures it at start: with
    /// [`Opening::AfterStart`] a stored tender keeps its time (a restart or a second instance
    /// changes nothing), a new one opens that long after now; with [`Opening::At`] the stored
    /// time is moved there.
    pub async fn ensure_tender(
        &self,
        id: &str,
        project: &str,
        opening: Opening,
    ) -> Result<Tender, HallError> {
        let now = crate::time::unix_now();
        let kept = self.find_tender(id).await?;
        let opens_at = match (opening, &kept) {
            (Opening::AfterStart(_), Some(kept)) => kept.opens_at,
            (Opening::AfterStart(secs), None) => now + i64::from(secs),
            (Opening::At(at), _) => at,
        };
        let tender = Tender {
            id: id.to_string(),
            project: project.to_string(),
            opens_at,
        };
        match kept {
            None => self.create_tender(tender).await,
            Some(kept) if kept == tender => Ok(kept),
            Some(_) => self.write_tender(tender).await,
        }
    }

    /// Moves tender `id`'s bid-opening time, for every instance (the tender agent postpones
    /// or brings forward the opening).
    pub async fn set_opens_at(&self, id: &str, at: i64) -> Result<Tender, HallError> {
        let mut tender = self.tender(id).await?;
        tender.opens_at = at;
        self.write_tender(tender).await
    }

    async fn write_tender(&self, tender: Tender) -> Result<Tender, HallError> {
        let wanted = tender.clone();
        let changed = Versioned::<Tender>::update(
            self.tenders.as_ref(),
            TENDER,
            &tender.id,
            Tender::kept_until,
            |t| {
                *t = wanted.clone();
                Ok::<_, StoreError>(())
            },
        )
        .await?;
        match changed {
            Some((t, ())) => Ok(t),
            // Kept only under the legacy kind so far: it becomes a record of its own.
            None => {
                self.insert_tender(&tender).await?;
                Ok(tender)
            }
        }
    }

    /// Stores a tender not stored yet; `Conflict` when another writer came first.
    async fn insert_tender(&self, tender: &Tender) -> Result<(), StoreError> {
        let store = self.tenders.as_ref();
        Versioned::create(
            store,
            TENDER,
            &tender.id,
            tender.clone(),
            tender.kept_until(),
        )
        .await?;
        Ok(())
    }

    /// Tender `id` as it stands at `now`, its pending sign-ins settled first.
    pub async fn view(&self, id: &str, now: i64) -> Result<HallView, HallError> {
        let tender = self.tender(id).await?;
        self.settle_sign_ins().await?;
        let bids = self.records.bids(&tender.id).await?;
        Ok(HallView {
            opened: now >= tender.opens_at,
            tender: tender.id,
            project: tender.project,
            opens_at: tender.opens_at,
            now,
            bids: bids.into_iter().map(Bid::public).collect(),
        })
    }

    /// Whether tender `id` still takes bids at `now` (a platform asks before it reads a bid's
    /// body, and [`Hall::submit`] again once all of it is there).
    pub async fn check_submission(&self, id: &str, now: i64) -> Result<Tender, HallError> {
        let tender = self.tender(id).await?;
        check_submission(tender.opens_at, now)?;
        Ok(tender)
    }

    /// Takes a bid for tender `id` at `now`: before the opening time, sealed to a recipient,
    /// sealed to its maker's encryption certificate when the maker is named, not submitted
    /// before.
    pub async fn submit(&self, id: &str, bid: Submission, now: i64) -> Result<Bid, HallError> {
        let tender = self.check_submission(id, now).await?;
        if bid.items.is_empty() {
            return Err(HallError::NoRecipient);
        }
        let recipients: Vec<String> = bid
            .items
            .iter()
            .map(|i| lower(&i.recipient_cert_sn))
            .collect();
        let holder = match &bid.made_by {
            Some(made_by) => {
                let cert = Certificate::from_der(&made_by.encryption_certificate)
                    .map_err(|e| HallError::MakerCertificate(e.to_string()))?;
                if !recipients.contains(&lower(&cert.serial_hex())) {
                    return Err(HallError::NotSealedToMaker);
                }
                Some(BidHolder {
                    name: made_by.subject.name.clone(),
                    ca_org_type: bid.made_by_ca.clone(),
                    identity: identity_of(&made_by.subject),
                })
            }
            None => None,
        };
        let mut raw_id = [0u8; 6];
        self.provider
            .fill_random(&mut raw_id)
            .map_err(|e| StoreError::Backend(format!("no randomness for a bid id: {e}")))?;
        let stored = Bid {
            id: data_encoding::HEXLOWER.encode(&raw_id),
            tender: tender.id,
            name: bid.name,
            size: bid.size,
            recipients,
            submitted_at: now,
            signed_in: None,
            sign_ins: Vec::new(),
            holder,
        };
        let digests: Vec<String> = bid
            .items
            .iter()
            .map(|i| key_digest(self.provider.as_ref(), &i.encrypted_key))
            .collect();
        match self.records.insert_bid(&stored, &digests).await {
            Ok(()) => Ok(stored.public()),
            Err(StoreError::Duplicate(_)) => Err(HallError::BidExists),
            Err(e) => Err(e.into()),
        }
    }

    /// Bid `id`, with its sign-ins (its holder's identity included: for the platform, not for
    /// showing — see [`Bid::public`]).
    pub async fn bid(&self, id: &str) -> Result<Bid, HallError> {
        self.records
            .bid(id)
            .await?
            .ok_or_else(|| HallError::NoSuchBid(clip(id)))
    }

    /// Bid `id` with its pending sign-ins settled first.
    pub async fn settled_bid(&self, id: &str) -> Result<Bid, HallError> {
        self.settle_sign_ins().await?;
        self.bid(id).await
    }

    /// Records the login transaction `tid` as a pending sign-in for bid `bid_id`: once
    /// verified, its holder is the bid's signed-in bidder — only the bid's holder (when known),
    /// never replacing another holder's sign-in. Pending sign-ins are never shown.
    pub async fn add_sign_in(&self, bid_id: &str, tid: &Tid, now: i64) -> Result<(), HallError> {
        self.bid(bid_id).await?;
        self.records
            .add_pending_sign_in(bid_id, tid.as_str(), now)
            .await?;
        Ok(())
    }

    /// Records the pending sign-ins whose login is now final (read from the store, so a login
    /// answered on another instance counts too). A verified login of the bid's holder (any
    /// holder, when the bid's is not known) is kept beside the others, none replaced; a
    /// sign-in by another holder is dropped.
    pub async fn settle_sign_ins(&self) -> Result<(), StoreError> {
        for (bid_id, tid) in self.records.pending_sign_ins().await? {
            let Some(login) = self.final_login(&tid).await? else {
                continue;
            };
            let sign_in = match (login, self.records.bid(&bid_id).await?) {
                (Some(login), Some(bid)) => sign_in_of(&bid, &login, &tid),
                _ => None,
            };
            self.records
                .settle_sign_in(&bid_id, &tid, sign_in.as_ref())
                .await?;
        }
        Ok(())
    }

    /// The login `tid` once it is final: `Some(Some(login))` verified, `Some(None)` refused,
    /// expired or unreadable, `None` still pending.
    async fn final_login(&self, tid: &str) -> Result<Option<Option<LoginResult>>, StoreError> {
        let Ok(parsed) = Tid::parse(tid) else {
            return Ok(Some(None));
        };
        let Some(rec) = self.store.get(&parsed).await? else {
            return Ok(Some(None));
        };
        let tx = &rec.transaction;
        Ok(match tx.state {
            TransactionState::Verified if tx.operation == Operation::Login => Some(
                rec.result
                    .clone()
                    .and_then(|v| serde_json::from_value::<LoginResult>(v).ok()),
            ),
            s if s.is_terminal() => Some(None),
            _ if crate::time::unix_now() > tx.expires_at => Some(None),
            _ => None,
        })
    }
}

/// The sign-in a verified `login` makes for `bid`, unless another holder than the bid's
/// signed in.
fn sign_in_of(bid: &Bid, login: &LoginResult, tid: &str) -> Option<SignIn> {
    let holder_ok = bid.holder.as_ref().is_none_or(|h| {
        h.identity == identity_of(&login.subject) && h.ca_org_type == login.ca_org_type
    });
    if !holder_ok {
        tracing::warn!(bid = %bid.id, %tid, who = %login.subject.name,
            "hall sign-in by another holder than the bid's: not recorded");
        return None;
    }
    Some(SignIn {
        name: login.subject.name.clone(),
        organization: login.subject.organization.clone(),
        cert_sn: lower(&login.subject.cert_sn),
        tid: tid.to_string(),
        signed_in_at: login.verified_at,
    })
}
