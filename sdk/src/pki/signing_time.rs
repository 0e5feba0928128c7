//! Signing-time validity ("不影响已使用的签章数据"): a signature made before its certificate
//! was revoked or frozen stays valid — when there is trusted evidence of when it was made.
//!
//! The time a signer writes (PDF `/M`, a CMS signingTime) is a claim, never evidence. camr's
//! evidence is the platform's own record: the platform verified the answer (signature,
//! chain, revocation at that moment) and recorded the result with its `verifiedAt` and a
//! hash-chained audit entry (`camr::store`). Anyone who trusts the platform's records can
//! then judge the signature at that time with [`super::ChainValidator::validate_at_signing_time`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the time a chain was validated at comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TimeEvidence {
    /// No evidence of an earlier signing time: the chain was validated at the time of
    /// verification (a certificate revoked since makes the signature invalid).
    VerificationTime,
    /// The platform's record of when it verified the signature (the transaction's
    /// `verifiedAt` and its hash-chained audit entry): the chain was validated at that time
    /// with the CRLs known now.
    PlatformRecord,
}

/// The time a chain was validated at, and the evidence for that time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationTime {
    /// Unix seconds.
    pub at: i64,
    /// Where `at` comes from.
    pub evidence: TimeEvidence,
    /// The record, e.g. `tid T, audit #12` for [`TimeEvidence::PlatformRecord`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A signature the platform verified and recorded at `at`: the evidence a verifier matches
/// signatures against (by their exact signature value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedSignature {
    /// The signature value as the platform verified it (for a PDF seal: the SignerInfo's
    /// signature).
    pub signature: Vec<u8>,
    /// When the platform verified it, Unix seconds.
    pub at: i64,
    /// Which record says so (tid, audit entry).
    pub reference: String,
}
