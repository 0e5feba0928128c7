//! Delegation of an organisation certificate to a staff member (证书授权): the wire types an
//! answer carries and the delegation's id. Issuing and checking one: `camr::app::delegation`
//! and the platform's scope check.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Bytes, Operation, SystemCode};
use crate::crypto::CryptoProvider;

/// What the organisation grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delegation {
    /// Serial (hex) of the organisation's signing certificate being delegated.
    pub org_cert_sn: String,
    /// The staff member's name.
    pub staff_name: String,
    /// The staff member's identity number, if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    /// Trading systems (system codes) it may be used on; empty = none.
    pub trading_systems: Vec<SystemCode>,
    /// Operations it may be used for (the GDCA manual: login, encrypt, decrypt only).
    pub operations: Vec<Operation>,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
}

/// A delegation with the organisation's signature over its exact JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedDelegation {
    /// Exact JSON text of the [`Delegation`].
    pub delegation: String,
    /// Signature by the organisation certificate's key over the UTF-8 bytes of `delegation`.
    pub signature: Bytes,
}

impl Delegation {
    /// `name (id)` as written into answers and usage records.
    pub fn operator(&self) -> String {
        match &self.staff_id {
            Some(id) => format!("{} ({id})", self.staff_name),
            None => self.staff_name.clone(),
        }
    }
}

/// The delegation's id: lower-case hex SM3 of its exact signed text. Platforms name a
/// withdrawn delegation (收回) by it.
pub fn id(provider: &dyn CryptoProvider, signed: &SignedDelegation) -> String {
    data_encoding::HEXLOWER.encode(&provider.digest(
        crate::crypto::HashAlgorithm::Sm3,
        signed.delegation.as_bytes(),
    ))
}
