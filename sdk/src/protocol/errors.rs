//! Stable error codes (错误码, `errorCode`, each with its HTTP status) and the result
//! envelope (返回结果) of every platform HTTP answer.

use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ProtocolError, echo};

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, $status:literal; )*) => {
        /// Stable error codes (错误码, `errorCode`), SCREAMING_SNAKE_CASE on the wire.
        ///
        /// New codes may be added in minor versions (`#[non_exhaustive]`); existing strings
        /// never change meaning.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        pub enum ErrorCode {
            $( $(#[$doc])* #[serde(rename = $text)] $variant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant),*];

            /// The wire string.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)* }
            }

            /// The HTTP status a platform API answers with by default.
            pub fn default_http_status(self) -> u16 {
                match self { $(Self::$variant => $status,)* }
            }
        }
    };
}

error_codes! {
    /// Bad input (wrong structure, lengths, unreadable file).
    InputMalformed = "INPUT_MALFORMED", 400;
    /// A key could not be decoded.
    KeyMalformed = "KEY_MALFORMED", 400;
    /// An encrypted key needs its password.
    KeyPasswordRequired = "KEY_PASSWORD_REQUIRED", 400;
    /// The password does not open the key.
    KeyPasswordWrong = "KEY_PASSWORD_WRONG", 400;
    /// Too many wrong PINs: the wallet is locked.
    PinLocked = "PIN_LOCKED", 423;
    /// Algorithm, curve, key size or scheme not supported.
    UnsupportedAlgorithm = "UNSUPPORTED_ALGORITHM", 400;
    /// A signature does not verify.
    SignatureInvalid = "SIGNATURE_INVALID", 422;
    /// Wrong key or tampered ciphertext.
    DecryptionFailed = "DECRYPTION_FAILED", 422;
    /// The system RNG failed.
    RandomFailed = "RANDOM_FAILED", 500;
    /// The QR payload is malformed.
    QrMalformed = "QR_MALFORMED", 400;
    /// The QR code expired.
    QrExpired = "QR_EXPIRED", 410;
    /// The QR platform signature (or rotating MAC) is invalid.
    QrSignatureInvalid = "QR_SIGNATURE_INVALID", 422;
    /// The rotating QR code is too old.
    QrStepStale = "QR_STEP_STALE", 410;
    /// The payload does not fit a QR code.
    QrTooLarge = "QR_TOO_LARGE", 400;
    /// Not a system code.
    SystemCodeInvalid = "SYSTEM_CODE_INVALID", 400;
    /// Not a tid.
    TidInvalid = "TID_INVALID", 400;
    /// No such transaction.
    TxNotFound = "TX_NOT_FOUND", 404;
    /// The transaction expired.
    TxExpired = "TX_EXPIRED", 410;
    /// The transaction was already answered.
    TxAlreadyAnswered = "TX_ALREADY_ANSWERED", 409;
    /// The transaction was cancelled.
    TxCancelled = "TX_CANCELLED", 409;
    /// The user rejected the request.
    TxRejected = "TX_REJECTED", 409;
    /// The transaction has no verified result yet.
    TxPending = "TX_PENDING", 409;
    /// The caller is not the transaction's owner: only whoever started it (with its owner
    /// credential) or the operator may see its QR, result, keys or files.
    TxNotOwner = "TX_NOT_OWNER", 403;
    /// An answer to a transaction whose request object was never fetched (the live QR code
    /// was not scanned).
    TxNotScanned = "TX_NOT_SCANNED", 409;
    /// A one-time secret (a decrypt's content keys) was handed out already.
    TxAlreadyTaken = "TX_ALREADY_TAKEN", 409;
    /// Another instance changed the same multi-step record (a seal session, say) at the
    /// same moment, and retrying did not settle it: try again.
    StateConflict = "STATE_CONFLICT", 409;
    /// The transaction's answer failed verification (final; the reason says why).
    TxFailed = "TX_FAILED", 422;
    /// An answer names another transaction.
    TidMismatch = "TID_MISMATCH", 422;
    /// An answer is not bound to the exact request object.
    RequestHashMismatch = "REQUEST_HASH_MISMATCH", 422;
    /// An answer signed in a retired binding version (`camr1-answer:<hash>`, which did not
    /// cover the answer's contents): the app must be updated to sign `camr2`.
    AnswerVersionUnsupported = "ANSWER_VERSION_UNSUPPORTED", 400;
    /// An answer arrived through another QR profile's transport (e.g. `qr=vendor1` on the
    /// answer URI) than the profile the app signed in it (`qrProfile`).
    QrProfileMismatch = "QR_PROFILE_MISMATCH", 422;
    /// The encryption certificate handed over is not the signing certificate's pair (GM/T
    /// 0015 dual certificates): another subject, or a chain to another trust anchor (CA).
    EncryptionCertMismatch = "ENCRYPTION_CERT_MISMATCH", 422;
    /// A certificate could not be decoded.
    CertMalformed = "CERT_MALFORMED", 400;
    /// A certificate expired.
    CertExpired = "CERT_EXPIRED", 422;
    /// A certificate is not valid yet.
    CertNotYetValid = "CERT_NOT_YET_VALID", 422;
    /// A certificate is revoked.
    CertRevoked = "CERT_REVOKED", 422;
    /// A certificate is frozen (on hold, 冻结).
    CertFrozen = "CERT_FROZEN", 422;
    /// No path to a trusted root, or a broken link.
    CertUntrusted = "CERT_UNTRUSTED", 422;
    /// Wrong certificate for this use (signing vs encryption).
    CertWrongUsage = "CERT_WRONG_USAGE", 422;
    /// Revocation status unknown (no or stale CRL).
    CertRevocationUnknown = "CERT_REVOCATION_UNKNOWN", 422;
    /// Path building exceeded its budget of signature checks or candidate issuers.
    CertPathBudgetExceeded = "CERT_PATH_BUDGET_EXCEEDED", 422;
    /// A CRL's signature does not verify with its issuer's key (another key signed it).
    CrlSignatureInvalid = "CRL_SIGNATURE_INVALID", 422;
    /// A CRL is past its nextUpdate (plus the configured grace): it says nothing any more.
    CrlStale = "CRL_STALE", 422;
    /// An OCSP response (RFC 6960) could not be decoded, or the responder answered with an
    /// error status (malformedRequest, tryLater, unauthorized, ...).
    OcspResponseInvalid = "OCSP_RESPONSE_INVALID", 422;
    /// An OCSP response is about another certificate (CertID) than the one asked about.
    OcspCertMismatch = "OCSP_CERT_MISMATCH", 422;
    /// An OCSP response is not fresh: thisUpdate too old or in the future, or nextUpdate
    /// passed.
    OcspStale = "OCSP_STALE", 422;
    /// An OCSP response does not carry the nonce of the request (a replayed response).
    OcspNonceMismatch = "OCSP_NONCE_MISMATCH", 422;
    /// An OCSP response is signed by a key the certificate's issuer did not authorise (neither
    /// the issuer itself nor a certificate it issued with id-kp-OCSPSigning).
    OcspResponderUnauthorized = "OCSP_RESPONDER_UNAUTHORIZED", 422;
    /// A time-stamp token or response (RFC 3161) could not be decoded, or the TSA refused the
    /// request.
    TimestampInvalid = "TIMESTAMP_INVALID", 422;
    /// A time-stamp token is over other data than the data given (message imprint).
    TimestampImprintMismatch = "TIMESTAMP_IMPRINT_MISMATCH", 422;
    /// A time-stamp token's signer is not a time-stamping authority: its certificate lacks
    /// the critical extended key usage id-kp-timeStamping.
    TimestampTsaUnauthorized = "TIMESTAMP_TSA_UNAUTHORIZED", 422;
    /// A revocation source (a CRL distribution point, an OCSP responder) could not be
    /// reached, or did not answer within its limits of time and size.
    RevocationSourceUnavailable = "REVOCATION_SOURCE_UNAVAILABLE", 503;
    /// The platform does not accept this certificate for this operation.
    CertNotEntitled = "CERT_NOT_ENTITLED", 403;
    /// Use outside a delegation's scope.
    DelegationOutOfScope = "DELEGATION_OUT_OF_SCOPE", 403;
    /// A decrypt before the bid-opening time (开标时间未到): the platform's decrypt policy.
    BidOpeningNotReached = "BID_OPENING_NOT_REACHED", 403;
    /// A decrypt for a bidder who has not signed in (投标人未签到): the platform's decrypt
    /// policy.
    BidderNotSignedIn = "BIDDER_NOT_SIGNED_IN", 403;
    /// A decrypt of an envelope that is no bid submitted to this platform, while the platform
    /// allows no free decrypts: the decrypt gate fails closed.
    BidNotSubmitted = "BID_NOT_SUBMITTED", 403;
    /// The same bid file (the same content keys) was submitted already.
    BidExists = "BID_EXISTS", 409;
    /// A bid submitted from the bid-opening time on (逾期送达的投标文件应当拒收): submission
    /// closes when the opening starts.
    BidSubmissionClosed = "BID_SUBMISSION_CLOSED", 403;
    /// No such tender (招标项目) in the bid-opening hall.
    TenderNotFound = "TENDER_NOT_FOUND", 404;
    /// A tender with this id exists already, for another project or opening time.
    TenderExists = "TENDER_EXISTS", 409;
    /// No such bid (投标文件) in the bid-opening hall.
    BidNotFound = "BID_NOT_FOUND", 404;
    /// The certificate holder's registration waits for the platform's staff approval
    /// (待平台后台审核): no login into the account yet.
    AccountPending = "ACCOUNT_PENDING", 403;
    /// The certificate holder has an account (or a pending registration) already.
    AccountExists = "ACCOUNT_EXISTS", 409;
    /// No such account.
    AccountNotFound = "ACCOUNT_NOT_FOUND", 404;
    /// An envelope or signed message could not be decoded.
    EnvelopeMalformed = "ENVELOPE_MALFORMED", 400;
    /// None of an envelope's recipients is the certificate offered.
    EnvelopeNoRecipient = "ENVELOPE_NO_RECIPIENT", 422;
    /// A PDF could not be read (truncated, no pages, damaged cross-references, ...).
    PdfMalformed = "PDF_MALFORMED", 400;
    /// A PDF is encrypted; seals are placed on unencrypted files only.
    PdfEncrypted = "PDF_ENCRYPTED", 422;
    /// A certifying signature (DocMDP P=1) forbids any change to the PDF.
    PdfLocked = "PDF_LOCKED", 422;
    /// A signature does not fit the space reserved for it in the PDF.
    PdfSignatureTooLarge = "PDF_SIGNATURE_TOO_LARGE", 422;
    /// Only the signer of a seal (or a configured authority) may revoke it (撤章).
    PdfRevokeDenied = "PDF_REVOKE_DENIED", 403;
    /// A step of a seal session (签章会话) answered by another certificate than the one that
    /// authorised the session, or for a session that is not authorised.
    SessionMismatch = "SESSION_MISMATCH", 403;
    /// The document needs seals of kinds the session has not applied (e.g. 公章 and 法人章
    /// required, only 公章 given).
    SealSetIncomplete = "SEAL_SET_INCOMPLETE", 422;
    /// No adapter for the CA vendor, or its breaker is open.
    AdapterUnavailable = "ADAPTER_UNAVAILABLE", 503;
    /// An adapter failed (error or panic).
    AdapterFailed = "ADAPTER_FAILED", 502;
    /// An adapter call passed its deadline.
    AdapterTimeout = "ADAPTER_TIMEOUT", 504;
    /// The platform is not in the trust list, or not with this key or URI.
    PlatformUnknown = "PLATFORM_UNKNOWN", 403;
    /// The trust list's signature, form or freshness is wrong.
    RegistryInvalid = "REGISTRY_INVALID", 400;
    /// The audit log's hash chain is broken: an entry was edited or deleted.
    AuditBroken = "AUDIT_BROKEN", 500;
    /// Too many requests.
    RateLimited = "RATE_LIMITED", 429;
    /// The platform's cap on transactions waiting for an answer is reached.
    TooManyPending = "TOO_MANY_PENDING", 503;
    /// The server did not answer within its request timeout.
    RequestTimeout = "REQUEST_TIMEOUT", 503;
    /// Missing or wrong credentials (e.g. the admin token).
    Unauthorized = "UNAUTHORIZED", 401;
    /// An internal error.
    Internal = "INTERNAL", 500;
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorCode {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ProtocolError::InvalidField {
                field: "errorCode",
                reason: format!("unknown code `{}`", echo(s)),
            })
    }
}

/// The result envelope (返回结果) of every platform HTTP answer:
/// `{"code":200,"success":true,"data":{...},"msg":"","errorCode":""}`.
///
/// `success` says the *call* worked, not the verdict: a verification result carries its
/// verdict in `data` (the XJCA manual shows 验签成功 above `verifySignatureResult:false`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiResult<T> {
    /// HTTP-like status code.
    pub code: u16,
    /// Whether the call worked — not the verdict of a verification, which is in `data`.
    pub success: bool,
    /// The result, `null` on failure.
    pub data: Option<T>,
    /// A sentence for people; empty on success.
    pub msg: String,
    /// The stable error code, `""` on success.
    #[serde(with = "empty_error_code")]
    #[schemars(schema_with = "error_code_or_empty")]
    pub error_code: Option<ErrorCode>,
}

impl<T> ApiResult<T> {
    /// A successful call: code 200, `data` set, empty `msg` and `errorCode`.
    pub fn ok(data: T) -> Self {
        Self {
            code: 200,
            success: true,
            data: Some(data),
            msg: String::new(),
            error_code: None,
        }
    }

    /// A failed call: `success: false`, `data: null`, the code's
    /// [default HTTP status](ErrorCode::default_http_status), `errorCode` and `msg`.
    pub fn error(code: ErrorCode, msg: impl Into<String>) -> Self {
        Self {
            code: code.default_http_status(),
            success: false,
            data: None,
            msg: msg.into(),
            error_code: Some(code),
        }
    }
}

fn error_code_or_empty(generator: &mut SchemaGenerator) -> Schema {
    let code = generator.subschema_for::<ErrorCode>();
    json_schema!({ "anyOf": [ { "const": "" }, code ], "description": "The stable error code, or \"\" on success." })
}

mod empty_error_code {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<ErrorCode>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.map(ErrorCode::as_str).unwrap_or(""))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ErrorCode>, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Ok(None);
        }
        s.parse().map(Some).map_err(serde::de::Error::custom)
    }
}
