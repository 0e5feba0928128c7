//! Live revocation in the answer pipeline: after an answer's checks, every certificate of its
//! chain below the trust anchor is asked about at a [`RevocationSource`] (OCSP, the CRL at its
//! distribution point, the vendor's status, CRL files — in the order the platform set up;
//! `docs/revocation.md`).
//!
//! Policy: revoked or frozen refuses every operation (`CERT_REVOKED`, `CERT_FROZEN`). When no
//! source can tell the holder's certificate's status, signature, seal, revoke, encrypt and
//! decrypt are refused (`CERT_REVOCATION_UNKNOWN`); a login is refused too unless the
//! platform chose [`LoginRevocation::SoftFail`], which lets it through and records
//! `revocationUnknown` in the result, the usage record and the audit entry. The CA
//! certificates above the holder's follow [`LiveRevocation::ca_certificates`]: by default
//! their status counts when a source has it and they are listed as unchecked when none has
//! (few roots publish an authority revocation list). What the sources said is kept with the
//! transaction's result ([`RevocationRecord`]) and in its `verified` audit entry.

use std::collections::HashMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::pki::{
    CertError, RevocationEvidence, RevocationPolicy, RevocationSource, ValidatedChain,
    check_chain_revocation_per_link,
};
use crate::protocol::Operation;

use super::checks::Verdict;
use super::{CResult, Platform};

/// What a login does when no source can tell a certificate's status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum LoginRevocation {
    /// Refuse with `CERT_REVOCATION_UNKNOWN`, as every other operation does.
    #[default]
    Require,
    /// Let the login through, recorded as `revocationUnknown`.
    SoftFail,
}

/// The live revocation check of a platform: where statuses come from, and the login policy.
#[derive(Debug, Clone)]
pub struct LiveRevocation {
    /// The sources, usually a [`crate::pki::OrderedSources`].
    pub source: Arc<dyn RevocationSource>,
    /// Per CA vendor (`caOrgType` of the answer), an order of its own used instead of
    /// `source`, e.g. with the vendor's status service (its adapter's `cert_status`).
    pub per_vendor: HashMap<String, Arc<dyn RevocationSource>>,
    /// What a login does when the holder's status is unknown.
    pub login: LoginRevocation,
    /// The CA certificates between the holder's and the trust anchor: `BestEffort` (their
    /// status counts when a source knows it; see [`RevocationRecord::unchecked`]) or
    /// `Require`.
    pub ca_certificates: RevocationPolicy,
}

/// What the revocation sources said about an answer's chain, kept with the transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevocationRecord {
    /// Per certificate below the anchor, leaf first: the source, status, CRL number and
    /// thisUpdate or OCSP producedAt and responder.
    pub evidence: Vec<RevocationEvidence>,
    /// Set when a soft-fail login went through without a status: why none was known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_unknown: Option<String>,
    /// CA certificates of the chain no source had a status for (common names), under
    /// [`LiveRevocation::ca_certificates`] `BestEffort`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
}

impl RevocationRecord {
    /// One line for the audit entry.
    pub fn audit_line(&self) -> String {
        if let Some(reason) = &self.revocation_unknown {
            return format!("revocationUnknown: {reason}");
        }
        let links: Vec<String> = self
            .evidence
            .iter()
            .map(|e| {
                let when = e
                    .produced_at
                    .map(|t| format!("producedAt {t}"))
                    .unwrap_or_else(|| format!("thisUpdate {}", e.this_update));
                let number = e
                    .crl_number
                    .as_deref()
                    .map(|n| format!(", CRL number {n}"))
                    .unwrap_or_default();
                format!("{:?} by {} ({when}{number}): good", e.source, e.signer)
            })
            .collect();
        let unchecked = if self.unchecked.is_empty() {
            String::new()
        } else {
            format!("; unchecked: {}", self.unchecked.join(", "))
        };
        format!("revocation: {}{unchecked}", links.join("; "))
    }
}

impl Platform {
    /// Checks revocation live through `revocation` for every answer (see the module). Without
    /// it, the chain validator's CRLs alone decide, as before.
    pub fn with_revocation(mut self, revocation: LiveRevocation) -> Self {
        self.revocation = Some(revocation);
        self
    }

    /// Asks the live sources about `chain` (off the async executor: a source may fetch) and
    /// records what they said in the verdict's result and usage record. Returns the audit
    /// line, if the check ran.
    pub(super) async fn check_live_revocation(
        &self,
        operation: Operation,
        ca_org_type: &str,
        chain: ValidatedChain,
        verdict: &mut Verdict,
    ) -> CResult<Option<String>> {
        let Some(live) = self.revocation.clone() else {
            return Ok(None);
        };
        let now = self.now();
        let source = live
            .per_vendor
            .get(ca_org_type)
            .unwrap_or(&live.source)
            .clone();
        let policies = [RevocationPolicy::Require, live.ca_certificates];
        let run =
            move || check_chain_revocation_per_link(source.as_ref(), &chain, now, now, policies);
        let found = super::hooks::off_executor("the revocation check", run).await?;
        let record = match found {
            Ok((evidence, unchecked)) => RevocationRecord {
                evidence,
                revocation_unknown: None,
                unchecked,
            },
            Err(CertError::RevocationUnknown { subject, reason })
                if operation == Operation::Login && live.login == LoginRevocation::SoftFail =>
            {
                RevocationRecord {
                    revocation_unknown: Some(format!("{subject}: {reason}")),
                    ..RevocationRecord::default()
                }
            }
            Err(e) => return Err(e.into()),
        };
        let (_, patch, usage) = verdict;
        if let Some(serde_json::Value::Object(result)) = patch.result.as_mut()
            && let Ok(value) = serde_json::to_value(&record)
        {
            result.insert("revocation".into(), value);
            let complete = record.revocation_unknown.is_none() && record.unchecked.is_empty();
            if complete && result.contains_key("revocationChecked") {
                // Every link below the anchor had a status from a source.
                result.insert("revocationChecked".into(), true.into());
            }
        }
        if let Some(usage) = usage.as_mut() {
            usage.revocation_unknown = record.revocation_unknown.is_some();
        }
        Ok(Some(record.audit_line()))
    }
}
