//! The error-code sets the routes answer with, each named once: a route lists the sets of
//! the checks it runs and its own single codes; [`RouteDoc::all_errors`](super::RouteDoc::all_errors)
//! adds what every route of its kind can answer (`TID_INVALID`, `INPUT_MALFORMED`, `INTERNAL`, …).

use camr::protocol::ErrorCode;

use super::{ErrorDoc, ErrorSet, e};

/// A transaction named in the path that this platform does not know (or no longer keeps).
pub const TX_KNOWN: &[ErrorDoc] = &[e(ErrorCode::TxNotFound)];

/// A transaction that must still take an answer: unknown, expired, cancelled (取消) or answered already.
pub const TX_OPEN: &[ErrorDoc] = &[
    e(ErrorCode::TxNotFound),
    e(ErrorCode::TxExpired),
    e(ErrorCode::TxCancelled),
    e(ErrorCode::TxAlreadyAnswered),
];

/// A transaction whose verified outcome is read: unknown, not answered yet, refused by the holder (拒签), failed verification, expired or cancelled.
pub const TX_OUTCOME: &[ErrorDoc] = &[
    e(ErrorCode::TxNotFound),
    e(ErrorCode::TxPending),
    e(ErrorCode::TxRejected),
    e(ErrorCode::TxFailed),
    e(ErrorCode::TxExpired),
    e(ErrorCode::TxCancelled),
];

/// A transaction that must be approved and still alive (the steps of a seal session).
pub const TX_APPROVED: &[ErrorDoc] = &[
    e(ErrorCode::TxNotFound),
    e(ErrorCode::TxPending),
    e(ErrorCode::TxRejected),
    e(ErrorCode::TxExpired),
];

/// Signing-time evidence: the recorded transaction, verified, and the hash-chained audit log that holds it.
pub const TX_RECORD: &[ErrorDoc] = &[
    e(ErrorCode::TxNotFound),
    e(ErrorCode::TxPending),
    e(ErrorCode::AuditBroken),
];

/// A scanned QR code checked again by the platform: its text, its signature, its rotating step.
pub const QR_SCANNED: &[ErrorDoc] = &[
    e(ErrorCode::QrMalformed),
    e(ErrorCode::QrSignatureInvalid),
    e(ErrorCode::QrStepStale),
];

/// What binds an answer to its request: the tid, the SM3 of the exact request text, the answer version, the QR profile, the encryption certificate asked for.
pub const ANSWER_BINDING: &[ErrorDoc] = &[
    e(ErrorCode::TidInvalid),
    e(ErrorCode::TidMismatch),
    e(ErrorCode::RequestHashMismatch),
    e(ErrorCode::AnswerVersionUnsupported),
    e(ErrorCode::QrProfileMismatch),
    e(ErrorCode::EncryptionCertMismatch),
];

/// The signature or decryption an answer carries, and the key that made it.
pub const SIGNATURE: &[ErrorDoc] = &[
    e(ErrorCode::SignatureInvalid),
    e(ErrorCode::DecryptionFailed),
    e(ErrorCode::UnsupportedAlgorithm),
    e(ErrorCode::KeyMalformed),
];

/// Every check of a holder's certificate chain (docs/pki.md).
pub const CERT_CHECKS: &[ErrorDoc] = &[
    e(ErrorCode::CertMalformed),
    e(ErrorCode::CertExpired),
    e(ErrorCode::CertNotYetValid),
    e(ErrorCode::CertRevoked),
    e(ErrorCode::CertFrozen),
    e(ErrorCode::CertUntrusted),
    e(ErrorCode::CertWrongUsage),
    e(ErrorCode::CertRevocationUnknown),
    e(ErrorCode::CertPathBudgetExceeded),
];

/// Whether the certificate may do this here: the platform's entitlement and a delegation's scope (证书授权).
pub const ENTITLEMENT: &[ErrorDoc] = &[
    e(ErrorCode::CertNotEntitled),
    e(ErrorCode::DelegationOutOfScope),
];

/// The bid-opening hall's gate on decrypting a bid: the opening time (开标时间), the bidder's sign-in (签到), the bid's submission.
pub const BID_GATE: &[ErrorDoc] = &[
    e(ErrorCode::BidOpeningNotReached),
    e(ErrorCode::BidderNotSignedIn),
    e(ErrorCode::BidNotSubmitted),
];

/// The bidder's part of the hall's gate: signed in (签到) for a submitted bid.
pub const BIDDER: &[ErrorDoc] = &[
    e(ErrorCode::BidderNotSignedIn),
    e(ErrorCode::BidNotSubmitted),
];

/// The vendor's adapter (适配器) that translates the answer: not loaded, failed, too slow.
pub const ADAPTER: &[ErrorDoc] = &[
    e(ErrorCode::AdapterUnavailable),
    e(ErrorCode::AdapterFailed),
    e(ErrorCode::AdapterTimeout),
];

/// A call into a loaded adapter: failed or too slow.
pub const ADAPTER_CALL: &[ErrorDoc] = &[e(ErrorCode::AdapterFailed), e(ErrorCode::AdapterTimeout)];

/// An uploaded PDF that cannot be read: malformed or encrypted.
pub const PDF_IN: &[ErrorDoc] = &[e(ErrorCode::PdfMalformed), e(ErrorCode::PdfEncrypted)];

/// An uploaded PDF to seal or revoke a seal in: malformed, encrypted, or locked against changes (DocMDP).
pub const PDF_SEAL: &[ErrorDoc] = &[
    e(ErrorCode::PdfMalformed),
    e(ErrorCode::PdfEncrypted),
    e(ErrorCode::PdfLocked),
];

/// An uploaded envelope (bid file): malformed, or not sealed to the certificate in question.
pub const ENVELOPE_IN: &[ErrorDoc] = &[
    e(ErrorCode::EnvelopeMalformed),
    e(ErrorCode::EnvelopeNoRecipient),
];

/// Registration of a login's holder: waiting for staff approval, or registered already.
pub const REGISTRATION: &[ErrorDoc] = &[e(ErrorCode::AccountPending), e(ErrorCode::AccountExists)];

/// An admin call without the admin token (`Authorization: Bearer <admin token>`).
pub const ADMIN: &[ErrorDoc] = &[e(ErrorCode::Unauthorized)];

/// Showing a live transaction's QR code: the transaction still open, the code small enough.
pub const QR_SHOWN: &[ErrorSet] = &[TX_OPEN, &[e(ErrorCode::QrTooLarge)]];

/// Reading a verified result (a `finish_*`): the outcome, taken once; a login whose holder's registration waits for staff (crate::accounts).
pub const RESULT: &[ErrorSet] = &[
    TX_OUTCOME,
    TX_OPEN,
    &[e(ErrorCode::InputMalformed), e(ErrorCode::AccountPending)],
];
