//! The certificate extensions camr recognises, parsed strictly whether or not the operation at
//! hand needs them.
//!
//! A certificate that validates should be one every conforming verifier reads the same way:
//! an extension that does not decode, appears twice (RFC 5280 4.2: "MUST NOT include more
//! than one instance") or breaks its own syntax (an empty SEQUENCE SIZE (1..MAX)) is
//! `CERT_MALFORMED` even when camr would not otherwise look at it, because another verifier
//! might read such a certificate differently.

use der::Decode;
use der::asn1::ObjectIdentifier;
use der::oid::AssociatedOid;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies,
    CrlDistributionPoints, ExtendedKeyUsage, IssuerAltName, KeyUsage, KeyUsages, NameConstraints,
    SubjectAltName, SubjectKeyIdentifier,
};

use super::{CertError, Certificate};

/// The recognised extensions of one certificate, decoded.
#[derive(Debug, Clone, Default)]
pub(crate) struct Exts {
    pub(crate) basic_constraints: Option<BasicConstraints>,
    pub(crate) key_usage: Option<KeyUsage>,
    /// subjectAltName; `None` when the extension is absent (RFC 5280 4.2.1.10 then applies
    /// e-mail constraints to the subject's emailAddress attribute).
    pub(crate) subject_alt_names: Option<Vec<GeneralName>>,
    pub(crate) name_constraints: Option<NameConstraints>,
    /// The first critical extension camr does not process (RFC 5280 4.2: such a
    /// certificate MUST be rejected where it is used in a path).
    pub(crate) unknown_critical: Option<ObjectIdentifier>,
}

impl Exts {
    /// Whether basicConstraints asserts cA.
    pub(crate) fn is_ca(&self) -> bool {
        self.basic_constraints.as_ref().is_some_and(|bc| bc.ca)
    }
}

/// Decodes every recognised extension of `cert`.
pub(crate) fn parse(cert: &Certificate) -> Result<Exts, CertError> {
    let mut seen: Vec<ObjectIdentifier> = Vec::new();
    let mut out = Exts::default();
    let extensions = cert.x509().tbs_certificate().extensions();
    for ext in extensions.into_iter().flatten() {
        let oid = ext.extn_id;
        let bad = |what: &str, why: String| {
            CertError::malformed(format!(
                "`{}`: the {what} extension {why}",
                cert.common_name()
            ))
        };
        if seen.contains(&oid) {
            return Err(bad(
                &oid.to_string(),
                "appears twice (RFC 5280 4.2 allows one instance)".into(),
            ));
        }
        seen.push(oid);
        let value = ext.extn_value.as_bytes();
        let decode_err = |what: &str, e: der::Error| bad(what, format!("does not decode ({e})"));
        if oid == BasicConstraints::OID {
            let bc =
                BasicConstraints::from_der(value).map_err(|e| decode_err("basicConstraints", e))?;
            // 4.2.1.9: pathLenConstraint only with cA; a reader ignoring cA would trust it.
            if !bc.ca && bc.path_len_constraint.is_some() {
                return Err(bad(
                    "basicConstraints",
                    "has a pathLenConstraint without cA".into(),
                ));
            }
            out.basic_constraints = Some(bc);
        } else if oid == KeyUsage::OID {
            let ku = KeyUsage::from_der(value).map_err(|e| decode_err("keyUsage", e))?;
            if ku.0.is_empty() {
                return Err(bad("keyUsage", "sets no bit (RFC 5280 4.2.1.3)".into()));
            }
            out.key_usage = Some(ku);
        } else if oid == ExtendedKeyUsage::OID {
            let eku =
                ExtendedKeyUsage::from_der(value).map_err(|e| decode_err("extKeyUsage", e))?;
            if eku.0.is_empty() {
                return Err(bad("extKeyUsage", "is empty".into()));
            }
        } else if oid == SubjectAltName::OID {
            let san =
                SubjectAltName::from_der(value).map_err(|e| decode_err("subjectAltName", e))?;
            if san.0.is_empty() {
                return Err(bad("subjectAltName", "is empty".into()));
            }
            out.subject_alt_names = Some(san.0);
        } else if oid == IssuerAltName::OID {
            let ian = IssuerAltName::from_der(value).map_err(|e| decode_err("issuerAltName", e))?;
            if ian.0.is_empty() {
                return Err(bad("issuerAltName", "is empty".into()));
            }
        } else if oid == NameConstraints::OID {
            let nc =
                NameConstraints::from_der(value).map_err(|e| decode_err("nameConstraints", e))?;
            check_name_constraints_syntax(&nc).map_err(|why| bad("nameConstraints", why))?;
            out.name_constraints = Some(nc);
        } else if oid == CrlDistributionPoints::OID {
            let dp = CrlDistributionPoints::from_der(value)
                .map_err(|e| decode_err("cRLDistributionPoints", e))?;
            if dp.0.is_empty() {
                return Err(bad("cRLDistributionPoints", "is empty".into()));
            }
        } else if oid == CertificatePolicies::OID {
            let cp = CertificatePolicies::from_der(value)
                .map_err(|e| decode_err("certificatePolicies", e))?;
            if cp.0.is_empty() {
                return Err(bad("certificatePolicies", "is empty".into()));
            }
            // 4.2.1.4: "A certificate policy OID MUST NOT appear more than once".
            for (i, p) in cp.0.iter().enumerate() {
                if cp
                    .0
                    .iter()
                    .skip(i + 1)
                    .any(|q| q.policy_identifier == p.policy_identifier)
                {
                    return Err(bad("certificatePolicies", "lists a policy twice".into()));
                }
            }
        } else if oid == AuthorityKeyIdentifier::OID {
            AuthorityKeyIdentifier::from_der(value)
                .map_err(|e| decode_err("authorityKeyIdentifier", e))?;
            // 4.2.1.1: MUST be non-critical; a verifier that skips it would still use the
            // certificate, so critical makes no sense and only hides a broken profile.
            if ext.critical {
                return Err(bad(
                    "authorityKeyIdentifier",
                    "is critical (RFC 5280 4.2.1.1)".into(),
                ));
            }
        } else if oid == SubjectKeyIdentifier::OID {
            SubjectKeyIdentifier::from_der(value)
                .map_err(|e| decode_err("subjectKeyIdentifier", e))?;
            if ext.critical {
                return Err(bad(
                    "subjectKeyIdentifier",
                    "is critical (RFC 5280 4.2.1.2)".into(),
                ));
            }
        } else if oid == AuthorityInfoAccessSyntax::OID {
            let aia = AuthorityInfoAccessSyntax::from_der(value)
                .map_err(|e| decode_err("authorityInfoAccess", e))?;
            if aia.0.is_empty() {
                return Err(bad("authorityInfoAccess", "is empty".into()));
            }
        } else if ext.critical && out.unknown_critical.is_none() {
            out.unknown_critical = Some(oid);
        }
    }
    Ok(out)
}

/// RFC 5280 4.2.1.10: not an empty SEQUENCE, subtrees SIZE (1..MAX), minimum 0 and no
/// maximum (the distances are not used in this profile).
fn check_name_constraints_syntax(nc: &NameConstraints) -> Result<(), String> {
    if nc.permitted_subtrees.is_none() && nc.excluded_subtrees.is_none() {
        return Err("is an empty sequence".into());
    }
    for subtrees in [&nc.permitted_subtrees, &nc.excluded_subtrees]
        .into_iter()
        .flatten()
    {
        if subtrees.is_empty() {
            return Err("has an empty list of subtrees".into());
        }
        if subtrees
            .iter()
            .any(|s| s.minimum != 0 || s.maximum.is_some())
        {
            return Err(
                "sets a minimum or maximum distance (RFC 5280: MUST be 0 and absent)".into(),
            );
        }
    }
    Ok(())
}

/// Rules every certificate in a path obeys, whatever its place: keyCertSign only with cA
/// (4.2.1.3), name constraints only in a CA certificate (4.2.1.10). Either would let an end
/// entity look like a CA to a verifier that reads keyUsage or name constraints alone.
pub(crate) fn check_consistency(cert: &Certificate, exts: &Exts) -> Result<(), CertError> {
    let ku_cert_sign = exts
        .key_usage
        .as_ref()
        .is_some_and(|ku| ku.0.contains(KeyUsages::KeyCertSign));
    if ku_cert_sign && !exts.is_ca() {
        return Err(CertError::Untrusted {
            subject: cert.common_name(),
            reason: "its keyUsage asserts keyCertSign but it is not a CA (basicConstraints cA is \
                     not true; RFC 5280 4.2.1.3)"
                .into(),
        });
    }
    if exts.name_constraints.is_some() && !exts.is_ca() {
        return Err(CertError::Untrusted {
            subject: cert.common_name(),
            reason: "it is an end-entity certificate with name constraints (RFC 5280 4.2.1.10 \
                     allows them only in CA certificates)"
                .into(),
        });
    }
    Ok(())
}
