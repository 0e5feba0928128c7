//! Why a ceremony step failed, with its stable error code.

use crate::crypto::CryptoError;
use crate::pki::CertError;
use crate::protocol::{ErrorCode, TransactionState};
use crate::store::StoreError;

use super::DecryptRefusal;

/// Why a ceremony step failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CeremonyError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A certificate was refused.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// A cryptographic step failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The transaction expired.
    #[error("transaction {tid} expired at {expires_at}")]
    Expired {
        /// The transaction.
        tid: String,
        /// Its expiry.
        expires_at: i64,
    },
    /// The answer names another transaction or operation.
    #[error("the answer is for {found}, not for {expected}")]
    TidMismatch {
        /// What the answer names.
        found: String,
        /// What was expected.
        expected: String,
    },
    /// The answer is not bound to this exact request object.
    #[error("the answer's request hash does not match the request object of this transaction")]
    RequestHashMismatch,
    /// The answer lacks what the operation needs.
    #[error("the answer is incomplete: {0}")]
    Incomplete(String),
    /// A signature in the answer does not verify.
    #[error("the {what} signature does not verify with the signing certificate")]
    SignatureInvalid {
        /// Which signature.
        what: String,
    },
    /// The binding signature is over the retired `camr1` message, which covered the request
    /// hash only.
    #[error(
        "the answer is signed in the retired binding version camr1 (`camr1-answer:<request hash>`), \
         which does not cover the answer's contents; update the app to one that signs camr2 \
         (`camr2-answer:<request hash>:<contents digest>`, docs/protocol.md)"
    )]
    AnswerVersionUnsupported,
    /// The answer came through another QR profile's transport than the one it signed.
    #[error(
        "the answer was signed for a code of QR profile `{signed}` but arrived through `{via}`; \
         post it to the URI of the profile the app scanned"
    )]
    QrProfileMismatch {
        /// The profile in the signed answer (shortened).
        signed: String,
        /// The profile whose transport it came through.
        via: &'static str,
    },
    /// The encryption certificate handed over is not the signing certificate's pair.
    #[error("the encryption certificate is not the signing certificate's pair: {0}")]
    EncryptionCertMismatch(String),
    /// The answer failed verification earlier (the transaction is final).
    #[error("transaction {tid} failed verification: {reason}")]
    Failed {
        /// The transaction.
        tid: String,
        /// Why (as recorded).
        reason: String,
    },
    /// The user rejected the request.
    #[error("the user rejected the request: {reason}")]
    Rejected {
        /// The reason the user gave.
        reason: String,
    },
    /// No verified result yet.
    #[error("transaction {tid} has no verified result yet (it is {state:?})")]
    Pending {
        /// The transaction.
        tid: String,
        /// Its state.
        state: TransactionState,
    },
    /// A `finish_*` that does not fit the transaction's operation, or bad arguments.
    #[error("{0}")]
    Misuse(String),
    /// The platform's decrypt policy refused to start a decrypt (开标时间、签到).
    #[error(transparent)]
    DecryptRefused(#[from] DecryptRefusal),
    /// The platform does not accept this certificate for this operation (vendor, or
    /// personal vs organisation certificate).
    #[error("this certificate is not accepted here: {0}")]
    NotEntitled(String),
    /// An organisation certificate used outside (or without) its delegation's scope.
    #[error("the organisation certificate may not be used for this: {0}")]
    DelegationOutOfScope(String),
    /// A seal session (签章会话) step answered by another certificate than the session's, or
    /// a step for a session that is not authorised.
    #[error("seal session: {0}")]
    SessionMismatch(String),
    /// An answer to a transaction that is not waiting for one (never scanned, or final).
    #[error("transaction {tid} is {state:?}: {why}")]
    NotScanned {
        /// The transaction.
        tid: String,
        /// Its state.
        state: TransactionState,
        /// Why that refuses the answer.
        why: &'static str,
    },
    /// The platform's cap on transactions waiting for an answer is reached.
    #[error(
        "{max} transactions are waiting for an answer already (the platform's cap): try again when some are answered or expired"
    )]
    TooManyPending {
        /// The cap.
        max: u64,
    },
    /// A QR code (or its rotating part) was refused.
    #[error(transparent)]
    Qr(#[from] crate::qr::QrError),
    /// A QR code was asked of a transaction that shows none (answered, expired, cancelled).
    #[error("transaction {tid} is {state}: it has no QR code to show")]
    NoLiveCode {
        /// The transaction.
        tid: String,
        /// Its state.
        state: TransactionState,
    },
    /// The evidence decoder (the vendor's adapter) refused or failed.
    #[error("{0}")]
    Decoder(#[from] super::HookError),
    /// The caller is not the transaction's owner (no owner credential, or another one).
    #[error("{0}")]
    NotOwner(String),
    /// A one-time secret of the transaction (a decrypt's content keys) was handed out
    /// already, to this caller or another.
    #[error("transaction {tid}: {what} was handed out already (once, to one caller)")]
    AlreadyTaken {
        /// The transaction.
        tid: String,
        /// What was taken.
        what: String,
    },
}

impl CeremonyError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Store(e) => e.code(),
            Self::Cert(e) => e.code(),
            Self::Crypto(e) => e.code(),
            Self::Expired { .. } => ErrorCode::TxExpired,
            Self::TidMismatch { .. } => ErrorCode::TidMismatch,
            Self::RequestHashMismatch => ErrorCode::RequestHashMismatch,
            Self::Incomplete(_) | Self::Misuse(_) => ErrorCode::InputMalformed,
            Self::SignatureInvalid { .. } => ErrorCode::SignatureInvalid,
            Self::AnswerVersionUnsupported => ErrorCode::AnswerVersionUnsupported,
            Self::QrProfileMismatch { .. } => ErrorCode::QrProfileMismatch,
            Self::EncryptionCertMismatch(_) => ErrorCode::EncryptionCertMismatch,
            Self::Rejected { .. } => ErrorCode::TxRejected,
            Self::Failed { .. } => ErrorCode::TxFailed,
            Self::Pending { .. } => ErrorCode::TxPending,
            Self::DecryptRefused(r) => r.code(),
            Self::NotEntitled(_) => ErrorCode::CertNotEntitled,
            Self::DelegationOutOfScope(_) => ErrorCode::DelegationOutOfScope,
            Self::SessionMismatch(_) => ErrorCode::SessionMismatch,
            Self::NotOwner(_) => ErrorCode::TxNotOwner,
            Self::TooManyPending { .. } => ErrorCode::TooManyPending,
            Self::NotScanned { state, .. } => match state {
                TransactionState::Created => ErrorCode::TxNotScanned,
                TransactionState::Expired => ErrorCode::TxExpired,
                TransactionState::Cancelled => ErrorCode::TxCancelled,
                _ => ErrorCode::TxAlreadyAnswered,
            },
            Self::AlreadyTaken { .. } => ErrorCode::TxAlreadyTaken,
            Self::Qr(e) => e.code(),
            Self::Decoder(e) => e.code,
            Self::NoLiveCode { state, .. } => match state {
                TransactionState::Expired => ErrorCode::TxExpired,
                TransactionState::Cancelled => ErrorCode::TxCancelled,
                _ => ErrorCode::TxAlreadyAnswered,
            },
        }
    }
}
