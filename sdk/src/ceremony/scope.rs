//! What a platform lets a certificate do, checked by the core on every approved answer:
//!
//! - **Entitlement** (本平台/全国版, 个人/机构证书): which CA vendors (`caOrgType`) the
//!   platform accepts, and per operation whether a personal or an organisation certificate
//!   is required — from its registry entry ([`crate::registry::PlatformEntry`]). The request
//!   object tells the app ([`crate::protocol::RequestObject::requires`]) so it offers only
//!   fitting certificates; an answer that does not fit is refused with `CERT_NOT_ENTITLED`.
//! - **Delegation scope** (证书授权, 收回): an answer signed with an organisation
//!   certificate on a staff member's behalf carries the organisation's signed
//!   [`crate::app::Delegation`]; the platform checks it itself — signed by that certificate,
//!   covering this trading system, this operation and now, not withdrawn — and records the
//!   operator from it, never from the app's word. Refusals are `DELEGATION_OUT_OF_SCOPE`.

use std::collections::BTreeMap;

use crate::app::{SignedDelegation, delegation};
use crate::crypto::CryptoProvider;
use crate::pki::{Certificate, Subject};
use crate::protocol::{CertRequirement, Operation, Response, SubjectType, SystemCode};
use crate::registry::{Registry, RegistryError, Requirement};

use super::CeremonyError;

/// Audit event that withdraws a delegation (detail: its id, a space, the reason).
pub const WITHDRAWN_EVENT: &str = "delegation-withdrawn";

/// Which certificates the platform accepts (see the module docs). The default accepts every
/// certificate its validator trusts, for every operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entitlement {
    /// CA vendors (`caOrgType`) accepted; empty: every vendor whose roots are trusted.
    pub accepted_vendors: Vec<String>,
    /// Per operation, personal or organisation certificate.
    pub requirements: Vec<Requirement>,
    /// Root certificates (DER) per vendor: an answer is refused when its chain ends at
    /// another vendor's root than the `caOrgType` it states.
    pub vendor_roots: BTreeMap<String, Vec<Vec<u8>>>,
    /// CA vendors (`caOrgType`) whose certificates are platform-only (本平台证书, Epoint:
    /// "本平台证书对应新点标证通 APP 二维码"): accepted only through a vendor's own QR profile,
    /// never through the national interop code (全国互认码). Certificates of every other
    /// vendor are national (全国版) and go through either code.
    pub platform_only_vendors: Vec<String>,
    /// CA vendors (`caOrgType`) whose organisation certificates are used by staff only under
    /// a delegation (证书授权; the trust list's `orgCertsDelegated`, or the platform's
    /// setting): an organisation-certificate answer of theirs without one is refused, so
    /// staff whose delegation was withdrawn (收回) cannot simply leave it out.
    pub delegated_vendors: Vec<String>,
}

fn subject_label(t: SubjectType) -> &'static str {
    match t {
        SubjectType::Personal => "a personal certificate (个人证书)",
        SubjectType::Org => "an organisation certificate (机构证书)",
    }
}

impl Entitlement {
    /// The platform `system_code`'s entry in a verified trust list, with every listed
    /// vendor's roots.
    pub fn from_registry(
        registry: &Registry,
        system_code: &SystemCode,
    ) -> Result<Self, RegistryError> {
        let p = registry.platform(system_code)?;
        Ok(Self {
            accepted_vendors: p.accepted_vendors.clone(),
            requirements: p.requirements.clone(),
            vendor_roots: Self::roots_of(registry),
            platform_only_vendors: Vec::new(),
            delegated_vendors: registry
                .list()
                .vendors
                .iter()
                .filter(|v| v.org_certs_delegated)
                .map(|v| v.ca_org_type.clone())
                .collect(),
        })
    }

    /// Every vendor's roots (DER) in a verified trust list.
    pub fn roots_of(registry: &Registry) -> BTreeMap<String, Vec<Vec<u8>>> {
        registry
            .list()
            .vendors
            .iter()
            .map(|v| {
                (
                    v.ca_org_type.clone(),
                    v.roots.iter().map(|r| r.0.clone()).collect(),
                )
            })
            .collect()
    }

    /// Why a certificate of vendor `ca_org_type` may not answer through a code of the QR
    /// profile that is (`national`) or is not the national interop code, or `None`.
    pub fn profile_refusal(&self, ca_org_type: &str, national: bool) -> Option<String> {
        (national && self.platform_only_vendors.iter().any(|v| v == ca_org_type)).then(|| {
            format!(
                "certificates of CA vendor `{}` are platform-only (本平台证书) and are accepted \
                 only through the vendor's app QR code (厂商码), not the national interop QR \
                 code (全国互认码); scan the vendor's code",
                crate::crypto::truncate(ca_org_type, 40)
            )
        })
    }

    /// The subject type `op` requires, if any.
    pub fn subject_type(&self, op: Operation) -> Option<SubjectType> {
        self.requirements
            .iter()
            .find(|r| r.operation == op)
            .map(|r| r.subject_type)
    }

    /// What the request object of `op` tells the app; `None` when anything trusted goes.
    pub fn requirement(&self, op: Operation) -> Option<CertRequirement> {
        let r = CertRequirement {
            ca_org_types: self.accepted_vendors.clone(),
            subject_type: self.subject_type(op),
        };
        (r != CertRequirement::default()).then_some(r)
    }

    /// Why a certificate (chaining to `anchor`, DER) of vendor `ca_org_type` may not be used
    /// for `op`, or `None` when it may. `anchor` is empty when unknown.
    pub fn refusal(
        &self,
        ca_org_type: &str,
        anchor: &[u8],
        subject: &Subject,
        op: Operation,
    ) -> Option<String> {
        if !self.accepted_vendors.is_empty()
            && !self.accepted_vendors.iter().any(|v| v == ca_org_type)
        {
            return Some(format!(
                "this platform accepts certificates of {} only, not of CA vendor `{}`",
                self.accepted_vendors.join(", "),
                crate::crypto::truncate(ca_org_type, 40)
            ));
        }
        // A root may be listed for several vendors (a shared CA): the stated vendor's list
        // decides; only a root listed for others alone is a mismatch.
        let stated = self.vendor_roots.get(ca_org_type);
        if !stated.is_some_and(|roots| roots.iter().any(|r| r == anchor)) {
            let owner = self
                .vendor_roots
                .iter()
                .find(|(_, roots)| roots.iter().any(|r| r == anchor))
                .map(|(v, _)| v.as_str());
            match (owner, stated) {
                (Some(v), _) => {
                    return Some(format!(
                        "the certificate was issued under CA vendor `{v}`'s root, not `{}`'s",
                        crate::crypto::truncate(ca_org_type, 40)
                    ));
                }
                (None, Some(_)) => {
                    return Some(format!(
                        "the certificate does not chain to a root of CA vendor `{ca_org_type}`"
                    ));
                }
                (None, None) => {}
            }
        }
        match self.subject_type(op) {
            Some(want) if want != subject.subject_type => Some(format!(
                "{op} ({}) on this platform requires {}; this is {} of {}",
                op.chinese_name(),
                subject_label(want),
                subject_label(subject.subject_type),
                subject.name
            )),
            _ => None,
        }
    }
}

/// The platform's check of the delegation an answer carries: `Ok(None)` when the holder
/// acts for themselves, `Ok(Some(operator))` when a staff member acts within a delegation
/// of the organisation certificate `leaf` for `system_code`, `op` at `now`, not withdrawn.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_delegation(
    provider: &dyn CryptoProvider,
    leaf: &Certificate,
    subject: &Subject,
    r: &Response,
    system_code: &SystemCode,
    op: Operation,
    now: i64,
    withdrawn: bool,
    required: bool,
) -> Result<Option<String>, CeremonyError> {
    let out = CeremonyError::DelegationOutOfScope;
    let Some(signed) = &r.delegation else {
        if r.operator.is_some() {
            return Err(out(
                "the answer names an operator but carries no delegation (证书授权)".into(),
            ));
        }
        if required && subject.subject_type == SubjectType::Org {
            return Err(out(format!(
                "organisation certificates of {} are used under a delegation (证书授权) only; \
                 this answer carries none",
                crate::crypto::truncate(&r.ca_org_type, 40)
            )));
        }
        return Ok(None);
    };
    if subject.subject_type != SubjectType::Org {
        return Err(out(
            "a delegation is of an organisation certificate; this answer is signed with a personal one"
                .into(),
        ));
    }
    let d =
        delegation::check(provider, leaf, signed, system_code, op, now).map_err(|e| match e {
            crate::app::AppError::OutOfScope(why) => out(why),
            e => out(e.to_string()),
        })?;
    if withdrawn {
        return Err(out(format!(
            "the delegation to {} was withdrawn (收回) by the organisation",
            d.operator()
        )));
    }
    Ok(Some(d.operator()))
}

/// The audit detail of a withdrawal: `<id> <reason>`.
pub(crate) fn withdrawal_detail(id: &str, reason: &str) -> String {
    format!("{id} {}", crate::crypto::truncate(reason.trim(), 200))
}

/// Whether `id` is a delegation id (64 lower-case hex digits).
pub(crate) fn is_delegation_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The id of the delegation `signed`.
pub(crate) fn delegation_id(provider: &dyn CryptoProvider, signed: &SignedDelegation) -> String {
    delegation::id(provider, signed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::registry::PlatformEntry;

    #[test]
    fn old_trust_lists_without_requirements_still_parse_and_require_nothing() {
        let old = r#"{"systemCode":"C1100005553","systemName":"测试","keys":[],
            "requestUriPrefixes":[],"responseUris":[],"acceptedVendors":["SOFTCA"]}"#;
        let p: PlatformEntry = serde_json::from_str(old).unwrap();
        assert!(p.requirements.is_empty());
        // Written back without the field, so old readers keep reading it.
        assert!(!serde_json::to_string(&p).unwrap().contains("requirements"));
        let e = Entitlement {
            delegated_vendors: Vec::new(),
            accepted_vendors: p.accepted_vendors,
            ..Entitlement::default()
        };
        assert_eq!(
            e.requirement(Operation::Login),
            Some(CertRequirement {
                ca_org_types: vec!["SOFTCA".into()],
                subject_type: None
            })
        );
        assert_eq!(Entitlement::default().requirement(Operation::Login), None);
        let e = Entitlement {
            delegated_vendors: Vec::new(),
            requirements: vec![Requirement {
                operation: Operation::Signature,
                subject_type: SubjectType::Org,
            }],
            ..Entitlement::default()
        };
        assert_eq!(e.requirement(Operation::Login), None);
        assert_eq!(
            e.requirement(Operation::Signature).unwrap().subject_type,
            Some(SubjectType::Org)
        );
        assert!(is_delegation_id(&"ab".repeat(32)));
        assert!(!is_delegation_id(&"AB".repeat(32)) && !is_delegation_id("ab"));
    }

    #[test]
    fn the_stated_vendor_must_own_the_root_its_chain_ends_at() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::crypto::default_provider();
        let ca = crate::softca::SoftCa::init(
            p,
            &dir.path().join("ca"),
            crate::crypto::KeyAlgorithm::Sm2,
            "Vendor CA",
        )
        .unwrap();
        let root = ca.root().der().to_vec();
        let subject = ca.root().subject();
        let mut e = Entitlement::default();
        e.vendor_roots.insert("A".into(), vec![root.clone()]);
        e.vendor_roots
            .insert("B".into(), vec![b"another root".to_vec()]);
        let op = Operation::Login;
        assert_eq!(e.refusal("A", &root, &subject, op), None);
        // Claiming B with A's root; claiming a vendor the platform does not know with A's
        // root; claiming A with an unknown root.
        assert!(e.refusal("B", &root, &subject, op).unwrap().contains("`A`"));
        assert!(e.refusal("C", &root, &subject, op).unwrap().contains("`A`"));
        assert!(e.refusal("A", b"x", &subject, op).is_some());
        // A root listed for two vendors (one CA serving both) fits either.
        e.vendor_roots.insert("B".into(), vec![root.clone()]);
        assert_eq!(e.refusal("B", &root, &subject, op), None);
        assert_eq!(e.refusal("A", &root, &subject, op), None);
        // Only accepted vendors.
        e.accepted_vendors = vec!["A".into()];
        assert!(
            e.refusal("B", &root, &subject, op)
                .unwrap()
                .contains("A only")
        );
    }
}
