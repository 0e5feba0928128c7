//! The verified results `finish_*` hands out.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::pki::Subject;
use crate::protocol::{Bytes, ItemRejection, SignItem, Tid};

use super::{BINDING_ITEM, CResult, CeremonyError};

/// A verified login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    /// The transaction.
    pub tid: Tid,
    /// Who logged in, from the signing certificate.
    pub subject: Subject,
    /// The signing certificate, DER.
    pub certificate: Bytes,
    /// CA vendor code.
    pub ca_org_type: String,
    /// Whether revocation was checked for the whole chain.
    pub revocation_checked: bool,
    /// What the platform's live revocation sources said (OCSP, CRL distribution point, …),
    /// or that a soft-fail login went through without a status; absent when the platform
    /// checks only its configured CRLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<super::RevocationRecord>,
    /// Unix seconds.
    pub verified_at: i64,
    /// Registration data the holder shared (共享注册), its signature verified; only when the
    /// request asked for it ([`Platform::start_login_sharing`]) and the user consented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<crate::protocol::SharedRegistration>,
}

/// A verified message signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageSignatureResult {
    /// The transaction.
    pub tid: Tid,
    /// The signer.
    pub subject: Subject,
    /// The signing certificate, DER.
    pub certificate: Bytes,
    /// The message as shown to the user.
    pub message: String,
    /// The signature over the message's UTF-8 bytes (SM2: DER, signer ID 1234567812345678).
    pub signature: Bytes,
    /// Unix seconds.
    pub verified_at: i64,
}

/// One signed item of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedItem {
    /// The item as requested.
    pub item: SignItem,
    /// The signature over the hash bytes, or over `signed_attributes` for a
    /// [`crate::protocol::SignFormat::CadesAttributes`] item.
    pub signature: Bytes,
    /// For a CAdES item: the DER signed attributes the signature covers (rebuilt by the
    /// platform from the hash and the certificate), for `camr::seal::assemble_cms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_attributes: Option<Bytes>,
}

/// A verified (possibly mixed) batch of hash signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignResult {
    /// The transaction.
    pub tid: Tid,
    /// The signer.
    pub subject: Subject,
    /// The signing certificate, DER.
    pub certificate: Bytes,
    /// The intermediates the app sent with it (validated), DER.
    #[serde(default)]
    pub chain: Vec<Bytes>,
    /// Signed items.
    pub signed: Vec<SignedItem>,
    /// Items the user refused, with reasons.
    pub rejected: Vec<ItemRejection>,
    /// Every item of the request, in its order, with its outcome (批量签署或拒签).
    #[serde(default)]
    pub items: Vec<ItemOutcome>,
    /// Unix seconds.
    pub verified_at: i64,
}

/// What became of one item of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemOutcome {
    /// Item id.
    pub item_id: String,
    /// Document name.
    pub name: String,
    /// `signed` or `rejected` (拒签).
    pub outcome: ItemState,
    /// The user's reason, for a rejected item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The outcome of one item of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ItemState {
    /// Signed, the signature verified.
    Signed,
    /// Refused by the user, with a reason.
    Rejected,
}

/// A verified encryption-certificate hand-over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EncryptResult {
    /// The transaction.
    pub tid: Tid,
    /// The holder (from the signing certificate).
    pub subject: Subject,
    /// The encryption certificate to seal the bid file to, DER.
    pub encryption_certificate: Bytes,
    /// Unix seconds.
    pub verified_at: i64,
}

/// A verified seal revocation (撤章) authorisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokeResult {
    /// The transaction.
    pub tid: Tid,
    /// Who authorised it.
    pub subject: Subject,
    /// The seal.
    pub seal_id: String,
    /// The revoker's signing certificate, DER.
    #[serde(default)]
    pub certificate: Bytes,
    /// The intermediates the app sent with it (validated), DER.
    #[serde(default)]
    pub chain: Vec<Bytes>,
    /// What the revocation signed (e.g. the PDF revision hiding the seal).
    #[serde(default)]
    pub signed: Vec<SignedItem>,
    /// Unix seconds.
    pub verified_at: i64,
}

/// Each item has a unique id (not the binding item's) and a 32-byte hash.
pub(super) fn check_items(items: &[SignItem]) -> CResult<()> {
    let mut ids = std::collections::HashSet::new();
    for item in items {
        let len = match item.hash_algorithm {
            crate::protocol::HashAlgorithm::Sm3 | crate::protocol::HashAlgorithm::Sha256 => 32,
        };
        if item.hash.len() != len || !ids.insert(item.id.clone()) || item.id == BINDING_ITEM {
            return Err(CeremonyError::Misuse(format!(
                "item `{}` needs a unique id and a 32-byte hash",
                crate::crypto::truncate(&item.id, 40)
            )));
        }
    }
    Ok(())
}

/// Every item in request order with its outcome: rejected with the user's reason, else signed
/// (an approved answer has verified every item it did not refuse).
pub(super) fn item_outcomes(items: &[SignItem], rejected: &[ItemRejection]) -> Vec<ItemOutcome> {
    items
        .iter()
        .map(|i| {
            let reason = rejected
                .iter()
                .find(|r| r.item_id == i.id)
                .map(|r| r.reason.clone());
            ItemOutcome {
                item_id: i.id.clone(),
                name: i.name.clone(),
                outcome: if reason.is_some() {
                    ItemState::Rejected
                } else {
                    ItemState::Signed
                },
                reason,
            }
        })
        .collect()
}
