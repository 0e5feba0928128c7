//! Revocation of one link of a path: the CRLs of the issuer, their profile (RFC 5280 5.2,
//! 6.3.3), signature and freshness, and the entry for the certificate.

use der::Encode;
use der::asn1::ObjectIdentifier;
use der::oid::AssociatedOid;
use x509_cert::ext::pkix::{CrlNumber, KeyUsages};

use super::crl_check::RevocationStatus;
use super::names::{common_name, names_match};
use super::path::Meter;
use super::validate::{CACHE_CAPACITY, ChainValidator, RevocationPolicy, Times, signed_tbs_bytes};
use super::{CertError, Certificate, Crl, time_secs, verify_signed};
use crate::crypto::HashAlgorithm;

/// Tolerance for a CRL's thisUpdate being slightly in the future, seconds.
const CRL_CLOCK_SKEW: i64 = 300;
/// CRL extensions camr understands: cRLNumber, authorityKeyIdentifier.
const KNOWN_CRL_EXTENSIONS: &[&str] = &["2.5.29.20", "2.5.29.35"];
const OID_REASON_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
/// CRL entry invalidityDate (RFC 5280, 5.3.2): since when the key is known or suspected to
/// be compromised, which can be before the revocation date.
const OID_INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
/// CRLReason certificateHold (RFC 5280, 5.3.1): the certificate is frozen (冻结), not revoked.
const REASON_CERTIFICATE_HOLD: u8 = 6;
const REASON_REMOVE_FROM_CRL: u8 = 8;

/// A CRL of the right issuer that could not be used, and why (recorded in the result under
/// [`RevocationPolicy::BestEffort`] instead of being skipped silently).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedCrl {
    /// Common name of the CRL's issuer.
    pub issuer: String,
    /// Common name of the certificate whose status it was to give.
    pub certificate: String,
    /// Why it was not used (profile, signature, freshness).
    pub reason: String,
}

/// What the CRLs said about one link.
#[derive(Debug, Clone, Default)]
pub(crate) struct LinkRevocation {
    /// A usable CRL of the issuer was consulted.
    pub(crate) checked: bool,
    /// CRLs of the issuer that could not be used.
    pub(crate) skipped: Vec<SkippedCrl>,
}

impl ChainValidator {
    /// The revocation status of `cert` from the CRLs of `issuer`. Errors: revoked, frozen,
    /// unknown under [`RevocationPolicy::Require`], or the budget (a CRL signature check
    /// counts against it like a certificate signature check).
    pub(crate) fn check_revocation(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        times: Times,
        crls: &[Crl],
        meter: &mut Meter,
    ) -> Result<LinkRevocation, CertError> {
        let Times { at, crl_at } = times;
        let mut link = LinkRevocation::default();
        // Every usable CRL of the issuer is consulted: a revocation listed on any of them
        // counts, not only on the first one found.
        for crl in crls {
            let t = &crl.x509().tbs_cert_list;
            if !names_match(&t.issuer, cert.x509().tbs_certificate().issuer()) {
                continue;
            }
            if let Err(reason) = self.usable_crl(crl, issuer, crl_at, meter)? {
                link.skipped.push(SkippedCrl {
                    issuer: crl.issuer_name(),
                    certificate: cert.common_name(),
                    reason,
                });
                continue;
            }
            let serial = cert.x509().tbs_certificate().serial_number();
            for entry in t.revoked_certificates.iter().flatten() {
                if entry.serial_number != *serial {
                    continue;
                }
                let subject = cert.common_name();
                let serial = cert.serial_hex();
                match entry_status(entry, at) {
                    Some(RevocationStatus::Frozen { at: revoked_at }) => {
                        return Err(CertError::Frozen {
                            subject,
                            serial,
                            revoked_at,
                        });
                    }
                    Some(RevocationStatus::Revoked { at: revoked_at, .. }) => {
                        return Err(CertError::Revoked {
                            subject,
                            serial,
                            revoked_at,
                        });
                    }
                    _ => {}
                }
            }
            link.checked = true;
        }
        if link.checked || self.policy == RevocationPolicy::BestEffort {
            return Ok(link);
        }
        Err(CertError::RevocationUnknown {
            subject: cert.common_name(),
            reason: if link.skipped.is_empty() {
                format!(
                    "no CRL from `{}`",
                    common_name(cert.x509().tbs_certificate().issuer())
                )
            } else {
                link.skipped
                    .iter()
                    .map(|s| s.reason.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        })
    }

    /// `Ok(Err(reason))` when the CRL cannot be used; `Err` only for the budget.
    fn usable_crl(
        &self,
        crl: &Crl,
        issuer: &Certificate,
        at: i64,
        meter: &mut Meter,
    ) -> Result<Result<(), String>, CertError> {
        if let Err(reason) = crl_profile(crl, issuer) {
            return Ok(Err(reason));
        }
        let x = crl.x509();
        let t = &x.tbs_cert_list;
        if x.signature_algorithm != t.signature {
            return Ok(Err(
                "the CRL's outer and inner signature algorithms differ".into()
            ));
        }
        let (tbs, sig) = match (signed_tbs_bytes(crl.der()), x.signature.as_bytes()) {
            (Ok(tbs), Some(sig)) => (tbs, sig),
            (Err(e), _) => return Ok(Err(e)),
            (_, None) => return Ok(Err("CRL signature has unused bits".into())),
        };
        // Keyed by the issuer's key, not its certificate: the same CA key in many
        // certificates (a crafted chain) costs one verification.
        let spki = issuer
            .x509()
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap_or_default();
        let mut h = self.provider.hasher(HashAlgorithm::Sm3);
        h.update(crl.der());
        h.update(&spki);
        let memo_key = h.finalize();
        let memo = self
            .crl_checks
            .lock()
            .ok()
            .and_then(|m| m.get(&memo_key).cloned());
        let checked = match memo {
            Some(r) => r,
            None => {
                meter.signature()?;
                let r = verify_signed(
                    self.provider.as_ref(),
                    issuer,
                    &x.signature_algorithm,
                    tbs,
                    sig,
                )
                .map_err(|e| format!("the CRL signature does not verify ({e})"));
                if let Ok(mut m) = self.crl_checks.lock() {
                    if m.len() >= CACHE_CAPACITY {
                        m.clear();
                    }
                    m.insert(memo_key, r.clone());
                }
                r
            }
        };
        if let Err(reason) = checked {
            return Ok(Err(reason));
        }
        let (this_update, next_update) = crl.updates();
        if this_update > at + CRL_CLOCK_SKEW {
            return Ok(Err("the CRL is from the future".into()));
        }
        Ok(match next_update {
            Some(next) if next < at => {
                Err(format!("the CRL is stale (nextUpdate {next} before {at})"))
            }
            _ => Ok(()),
        })
    }
}

/// The CRL profile camr requires before trusting a CRL's silence about a certificate:
/// - the issuer's certificate states keyUsage with cRLSign (RFC 5280 6.3.3 (f) requires it
///   when keyUsage is present; camr also refuses an issuer without keyUsage, since every CA
///   profile it meets states it and a key not declared for CRLs should not vouch for them);
/// - a cRLNumber, non-critical (5.2.3: conforming CRL issuers MUST include it, and mark it
///   non-critical), that decodes; no extension twice; no critical extension camr does not
///   process (5.2), on the CRL or an entry (5.3).
pub(super) fn crl_profile(crl: &Crl, issuer: &Certificate) -> Result<(), String> {
    let t = &crl.x509().tbs_cert_list;
    match issuer.key_usage() {
        Ok(Some(ku)) if ku.0.contains(KeyUsages::CRLSign) => {}
        Ok(Some(_)) => {
            return Err(format!(
                "`{}` may not sign CRLs (keyUsage lacks cRLSign)",
                issuer.common_name()
            ));
        }
        Ok(None) => {
            return Err(format!(
                "`{}` may not sign CRLs (no keyUsage extension stating cRLSign)",
                issuer.common_name()
            ));
        }
        Err(e) => return Err(e.to_string()),
    }
    let mut seen = Vec::new();
    let mut crl_number = false;
    for ext in t.crl_extensions.iter().flatten() {
        if seen.contains(&ext.extn_id) {
            return Err(format!("the CRL has the extension {} twice", ext.extn_id));
        }
        seen.push(ext.extn_id);
        if ext.extn_id == CrlNumber::OID {
            if ext.critical {
                return Err("the CRL's cRLNumber is critical (RFC 5280 5.2.3)".into());
            }
            <CrlNumber as der::Decode>::from_der(ext.extn_value.as_bytes())
                .map_err(|e| format!("the CRL's cRLNumber does not decode ({e})"))?;
            crl_number = true;
        } else if ext.critical && !KNOWN_CRL_EXTENSIONS.contains(&ext.extn_id.to_string().as_str())
        {
            return Err(format!(
                "the CRL has a critical extension camr does not process ({})",
                ext.extn_id
            ));
        }
    }
    if !crl_number {
        return Err("the CRL has no cRLNumber (RFC 5280 5.2.3)".into());
    }
    for entry in t.revoked_certificates.iter().flatten() {
        for ext in entry.crl_entry_extensions.iter().flatten() {
            if ext.critical && ext.extn_id != OID_REASON_CODE {
                return Err(format!(
                    "a CRL entry has a critical extension camr does not process ({})",
                    ext.extn_id
                ));
            }
        }
    }
    Ok(())
}

/// What one CRL entry (for the certificate) means at time `at`: `None` when it does not count
/// then (dated after `at`, or removeFromCRL).
pub(super) fn entry_status(
    entry: &x509_cert::crl::RevokedCert,
    at: i64,
) -> Option<RevocationStatus> {
    // A signature made after the key was compromised is not saved by an earlier revocation
    // date: the earlier of the two counts.
    let revoked_at =
        time_secs(&entry.revocation_date).min(invalidity_date(entry).unwrap_or(i64::MAX));
    if revoked_at > at {
        // Revoked after the time of use: valid then (a seal stays valid).
        return None;
    }
    match entry_reason(entry) {
        Some(REASON_REMOVE_FROM_CRL) => None,
        Some(REASON_CERTIFICATE_HOLD) => Some(RevocationStatus::Frozen { at: revoked_at }),
        reason => Some(RevocationStatus::Revoked {
            at: revoked_at,
            reason,
        }),
    }
}

/// Whether a CRL entry's reason is certificateHold (冻结).
pub(super) fn is_on_hold(entry: &x509_cert::crl::RevokedCert) -> bool {
    entry_reason(entry) == Some(REASON_CERTIFICATE_HOLD)
}

fn invalidity_date(entry: &x509_cert::crl::RevokedCert) -> Option<i64> {
    use der::Decode;
    entry
        .crl_entry_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == OID_INVALIDITY_DATE)
        .and_then(|e| der::asn1::GeneralizedTime::from_der(e.extn_value.as_bytes()).ok())
        .map(|t| i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX))
}

fn entry_reason(entry: &x509_cert::crl::RevokedCert) -> Option<u8> {
    entry
        .crl_entry_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == OID_REASON_CODE)
        .and_then(|e| e.extn_value.as_bytes().get(2).copied())
}
