//! The persisted state of an interactive seal session (签章会话): the document as it stands,
//! the seals offered and applied, the step the phone is signing, the kinds still missing.
//! Kept as a versioned record ([`crate::store::RecordStore`], kind [`SEAL_SESSION`]) with
//! its PDFs in a shared blob folder ([`crate::store::BlobDir`], namespace: the session's
//! tid), so any instance continues a session another one started, and a restart loses none.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{PageSize, PreparedPdf};
use crate::crypto::{HashAlgorithm, PublicKeyAlgorithm};
use crate::protocol::{SealInfo, SealKind, Tid};
use crate::store::{BlobDir, StoreError};

/// The record kind of seal sessions.
pub const SEAL_SESSION: &str = "seal-session";

/// How long a session's record outlives the session, seconds (to show its end).
pub const KEPT_AFTER_END: i64 = 3600;

/// One seal placed and signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedSeal {
    /// The seal's code (from the CA).
    pub seal_code: String,
    /// Its kind.
    pub kind: SealKind,
    /// The signature field in the PDF.
    pub field_name: String,
    /// Pages it is on.
    pub pages: Vec<u32>,
    /// The step (transaction) that signed it.
    pub tid: String,
}

/// A seal offered to the holder, and where it came from (`ca`: the CA's adapter; `platform`:
/// the platform's default seal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferedSeal {
    /// The seal.
    pub seal: SealInfo,
    /// `ca` or `platform`.
    pub source: String,
}

/// A prepared revision, its bytes in the blob folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreparedRef {
    /// The blob holding [`PreparedPdf::bytes`].
    pub blob: String,
    /// As in [`PreparedPdf`].
    pub byte_range: [usize; 4],
    /// As in [`PreparedPdf`].
    pub digest_input_ranges: [(usize, usize); 2],
    /// As in [`PreparedPdf`].
    pub digest: Vec<u8>,
    /// As in [`PreparedPdf`].
    pub hash: HashAlgorithm,
    /// As in [`PreparedPdf`].
    pub key_algorithm: PublicKeyAlgorithm,
    /// As in [`PreparedPdf`].
    pub field_name: String,
}

impl PreparedRef {
    /// Stores the prepared bytes in namespace `ns` of `blobs`.
    pub async fn store(blobs: &BlobDir, ns: &str, p: &PreparedPdf) -> Result<Self, StoreError> {
        Ok(Self {
            blob: blobs.put(ns, &p.bytes).await?,
            byte_range: p.byte_range,
            digest_input_ranges: p.digest_input_ranges,
            digest: p.digest.clone(),
            hash: p.hash,
            key_algorithm: p.key_algorithm,
            field_name: p.field_name.clone(),
        })
    }

    /// The prepared revision, its bytes read back.
    pub async fn load(&self, blobs: &BlobDir, ns: &str) -> Result<PreparedPdf, StoreError> {
        Ok(PreparedPdf {
            bytes: blobs.get(ns, &self.blob).await?,
            byte_range: self.byte_range,
            digest_input_ranges: self.digest_input_ranges,
            digest: self.digest.clone(),
            hash: self.hash,
            key_algorithm: self.key_algorithm,
            field_name: self.field_name.clone(),
        })
    }
}

/// A placement waiting for the phone's signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowStep {
    /// The step's transaction.
    pub tid: Tid,
    /// The revision the phone signs.
    pub prepared: PreparedRef,
    /// The seal placed.
    pub seal: SealInfo,
    /// The pages it goes on.
    pub pages: Vec<u32>,
}

/// A seal session's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealFlow {
    /// The document's name.
    pub name: String,
    /// The blob of the document as it stands (seals applied so far included).
    pub document: String,
    /// Its pages.
    pub pages: Vec<PageSize>,
    /// Kinds that must be applied before the session can be finished.
    pub required: Vec<SealKind>,
    /// When the session ends, Unix seconds.
    pub expires_at: i64,
    /// The holder's seals, once listed.
    #[serde(default)]
    pub seals: Option<Vec<OfferedSeal>>,
    /// Seals applied, in order.
    #[serde(default)]
    pub applied: Vec<AppliedSeal>,
    /// The placement the phone is signing.
    #[serde(default)]
    pub step: Option<FlowStep>,
    /// 完成签章 done.
    #[serde(default)]
    pub finished: bool,
    /// What became of the last step when it did not end in a seal.
    #[serde(default)]
    pub last_error: Option<String>,
}

impl SealFlow {
    /// The required kinds not applied yet.
    pub fn missing(&self) -> Vec<SealKind> {
        let given: BTreeSet<SealKind> = self.applied.iter().map(|a| a.kind).collect();
        self.required
            .iter()
            .filter(|k| !given.contains(k))
            .copied()
            .collect()
    }

    /// The required kinds still missing that none of the holder's seals is of (known once
    /// the seals are listed): with this certificate the session can never be finished, so a
    /// page says so before 完成签章 rather than when it fails or the session runs out.
    pub fn unobtainable(&self) -> Vec<SealKind> {
        let Some(seals) = &self.seals else {
            return Vec::new();
        };
        let offered: BTreeSet<SealKind> = seals.iter().map(|o| o.seal.kind).collect();
        self.missing()
            .into_iter()
            .filter(|k| !offered.contains(k))
            .collect()
    }

    /// When the record may be purged.
    pub fn purge_at(&self) -> i64 {
        self.expires_at + KEPT_AFTER_END
    }
}
