//! The decrypt gate: a platform policy [`Platform::start_decrypt`](super::Platform::start_decrypt)
//! consults before it opens a decrypt (解密) transaction.
//!
//! The Epoint manual's precondition for scanning the decrypt QR of the bid-opening hall
//! (不见面开标大厅) is "投标人已完成签到，开标时间已到" — the bidder has signed in and the
//! bid-opening time is reached. Neither fact is the CA's: the platform knows its opening
//! sessions and sign-ins, so it states them through a [`DecryptPolicy`]. The default,
//! [`AllowAll`], keeps platforms without bid openings as they were.
//!
//! Which bidder a decrypt is for: the envelope says it — each [`EncryptedKeyItem`] names the
//! serial of the encryption certificate its key was sealed to — and the platform may add its
//! own reference ([`DecryptContext::bidder`], e.g. the account or the certificate serial of
//! the sign-in). A policy maps either to its sign-in records.

use super::{CResult, CeremonyError, Platform};
use crate::protocol::{
    EncryptedKeyItem, ErrorCode, Operation, OperationPayload, TransactionState, UsageRecord,
};
use crate::store::{BoxFuture, TxPatch, TxRecord};

/// What a decrypt is about to open, for the policy.
#[derive(Debug, Clone, Copy)]
pub struct DecryptContext<'a> {
    /// The platform's reference for the bidder the decrypt is for, when the caller knows it
    /// (e.g. the signing-certificate serial of the bidder's sign-in, or an account id).
    pub bidder: Option<&'a str>,
    /// The envelope's encrypted content keys, each naming its recipient's encryption
    /// certificate serial (hex).
    pub items: &'a [EncryptedKeyItem],
    /// Unix seconds, by the platform's clock.
    pub now: i64,
}

impl DecryptContext<'_> {
    /// The recipients' encryption-certificate serials (hex), as the envelope names them.
    pub fn recipient_serials(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|i| i.recipient_cert_sn.as_str())
    }
}

/// Why a policy refused a decrypt. Each refusal has its stable error code.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptRefusal {
    /// The bid-opening time is not reached (开标时间未到).
    #[error(
        "the bid-opening time is not reached (开标时间未到): decryption opens at {opens_at} (unix seconds), {} s from now",
        opens_at - now
    )]
    BidOpeningNotReached {
        /// When the opening starts, unix seconds.
        opens_at: i64,
        /// The time of the refusal, unix seconds.
        now: i64,
    },
    /// The bidder has not signed in (投标人未签到).
    #[error(
        "the bidder has not signed in (投标人未签到): {who} must sign in by scanning the sign-in QR of the bid-opening hall before decrypting"
    )]
    BidderNotSignedIn {
        /// Who, as the policy names them (a bid, a certificate serial, ...).
        who: String,
    },
    /// The envelope is no bid submitted to the platform, and the platform allows no free
    /// decrypts (the gate fails closed).
    #[error(
        "the envelope is no bid submitted to this platform's bid opening, and decrypts outside a bid opening are not allowed here"
    )]
    NotABid,
    /// The decrypt was answered with another certificate than the signed-in bidder's.
    #[error(
        "the decrypt was answered with certificate {cert_sn} ({name}), which has not signed in for this bid (投标人未签到): the bidder who signed in must decrypt"
    )]
    AnsweredByAnother {
        /// Serial of the signing certificate that answered.
        cert_sn: String,
        /// Its holder.
        name: String,
    },
}

impl DecryptRefusal {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BidOpeningNotReached { .. } => ErrorCode::BidOpeningNotReached,
            Self::BidderNotSignedIn { .. } | Self::AnsweredByAnother { .. } => {
                ErrorCode::BidderNotSignedIn
            }
            Self::NotABid => ErrorCode::BidNotSubmitted,
        }
    }
}

/// A platform's rule for when a decrypt may start (the bidding process, not cryptography).
/// Asynchronous, as sign-ins usually live in a database.
pub trait DecryptPolicy: Send + Sync + std::fmt::Debug {
    /// `Ok(())` to let the decrypt start, or why not.
    fn check<'a>(&'a self, ctx: DecryptContext<'a>) -> BoxFuture<'a, Result<(), DecryptRefusal>>;

    /// Once a decrypt answer has verified, before it is recorded: `answered_by` is the usage
    /// record it would leave (the answering signing certificate's serial and holder), e.g.
    /// to require the bidder who signed in. A refusal leaves the transaction open, as for any
    /// answer that does not verify. Default: accept.
    fn check_answer<'a>(
        &'a self,
        ctx: DecryptContext<'a>,
        answered_by: &'a UsageRecord,
    ) -> BoxFuture<'a, Result<(), DecryptRefusal>> {
        let _ = (ctx, answered_by);
        Box::pin(async { Ok(()) })
    }
}

/// Every decrypt may start (the default: a platform without bid openings).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl DecryptPolicy for AllowAll {
    fn check<'a>(&'a self, _: DecryptContext<'a>) -> BoxFuture<'a, Result<(), DecryptRefusal>> {
        Box::pin(async { Ok(()) })
    }
}

impl Platform {
    /// A verified decrypt answer passes the decrypt policy once more, with the certificate
    /// that answered ([`DecryptPolicy::check_answer`]).
    pub(super) async fn check_decrypt_answerer(
        &self,
        rec: &TxRecord,
        checked: (TransactionState, TxPatch, Option<UsageRecord>),
    ) -> CResult<(TransactionState, TxPatch, Option<UsageRecord>)> {
        // A rejection too: only the bidder who could decrypt may decline to.
        let (
            TransactionState::Verified | TransactionState::Rejected,
            Some(usage),
            Operation::Decrypt,
        ) = (checked.0, &checked.2, rec.transaction.operation)
        else {
            return Ok(checked);
        };
        let request = rec
            .request
            .request_object()
            .map_err(|e| CeremonyError::Misuse(e.to_string()))?;
        let OperationPayload::Decrypt { items, .. } = &request.payload else {
            return Ok(checked);
        };
        let ctx = DecryptContext {
            bidder: None,
            items,
            now: self.now(),
        };
        self.decrypt_policy.check_answer(ctx, usage).await?;
        Ok(checked)
    }
}
