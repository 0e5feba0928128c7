//! One CRL judged on its own, outside a path search: is it the issuer's (name, profile,
//! signature), is it fresh (nextUpdate plus a grace), and what does it say about a
//! certificate. What the revocation sources and the adapter kit use.

use super::names::names_match;
use super::revocation::{crl_profile, entry_status};
use super::validate::signed_tbs_bytes;
use super::{Certificate, Crl, verify_signed};
use crate::crypto::CryptoProvider;
use crate::protocol::ErrorCode;

/// Tolerance for a CRL's thisUpdate being slightly in the future, seconds.
const CLOCK_SKEW: i64 = 300;

/// Why a CRL cannot be used.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    /// Another issuer's CRL, or one whose profile camr does not accept (no cRLNumber, unknown
    /// critical extension, issuer without cRLSign).
    #[error("the CRL cannot be used for this issuer: {reason}")]
    NotUsable {
        /// Why.
        reason: String,
    },
    /// The signature does not verify with the issuer's key (another key signed it).
    #[error("the CRL's signature does not verify with `{issuer}`'s key: {reason}")]
    SignatureInvalid {
        /// Common name of the issuer.
        issuer: String,
        /// Why.
        reason: String,
    },
    /// Past nextUpdate plus the grace, or thisUpdate in the future.
    #[error("the CRL is not fresh: {reason}")]
    Stale {
        /// The times compared.
        reason: String,
    },
}

impl CrlError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotUsable { .. } => ErrorCode::CertRevocationUnknown,
            Self::SignatureInvalid { .. } => ErrorCode::CrlSignatureInvalid,
            Self::Stale { .. } => ErrorCode::CrlStale,
        }
    }
}

/// What a CRL (or an OCSP answer) says about one certificate.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum RevocationStatus {
    /// Not revoked, not frozen.
    Good,
    /// Revoked since `at` (Unix seconds; the earlier of revocation and invalidity date).
    Revoked {
        /// Since when.
        at: i64,
        /// CRLReason code, if given.
        reason: Option<u8>,
    },
    /// Frozen (冻结, certificateHold) since `at`.
    Frozen {
        /// Since when.
        at: i64,
    },
    /// The source does not know the certificate.
    Unknown,
}

/// Checks that `crl` is `issuer`'s and usable at `now`: issuer name, camr's CRL profile
/// (`docs/pki.md`), the signature with `issuer`'s key, thisUpdate not in the future, and
/// nextUpdate (if any) plus `grace_secs` not passed.
pub fn check_crl(
    provider: &dyn CryptoProvider,
    crl: &Crl,
    issuer: &Certificate,
    now: i64,
    grace_secs: i64,
) -> Result<(), CrlError> {
    let not_usable = |reason: String| CrlError::NotUsable { reason };
    let x = crl.x509();
    if !names_match(
        &x.tbs_cert_list.issuer,
        issuer.x509().tbs_certificate().subject(),
    ) {
        return Err(not_usable(format!(
            "the CRL is `{}`'s, not `{}`'s",
            crl.issuer_name(),
            issuer.common_name()
        )));
    }
    crl_profile(crl, issuer).map_err(not_usable)?;
    if x.signature_algorithm != x.tbs_cert_list.signature {
        return Err(not_usable(
            "the CRL's outer and inner signature algorithms differ".into(),
        ));
    }
    let tbs = signed_tbs_bytes(crl.der()).map_err(not_usable)?;
    let sig = x
        .signature
        .as_bytes()
        .ok_or_else(|| not_usable("CRL signature with unused bits".into()))?;
    verify_signed(provider, issuer, &x.signature_algorithm, tbs, sig).map_err(|reason| {
        CrlError::SignatureInvalid {
            issuer: issuer.common_name(),
            reason,
        }
    })?;
    let (this_update, next_update) = crl.updates();
    if this_update > now.saturating_add(CLOCK_SKEW) {
        return Err(CrlError::Stale {
            reason: format!("thisUpdate {this_update} is after now ({now})"),
        });
    }
    if let Some(next) = next_update
        && next.saturating_add(grace_secs) < now
    {
        return Err(CrlError::Stale {
            reason: format!("nextUpdate {next} (+{grace_secs} s grace) has passed (now {now})"),
        });
    }
    Ok(())
}

/// What `crl` (already checked with [`check_crl`]) says about `cert` at time `at`: an entry
/// dated after `at` does not count (a signature made before a revocation stays valid).
pub fn crl_status(crl: &Crl, cert: &Certificate, at: i64) -> RevocationStatus {
    let serial = cert.x509().tbs_certificate().serial_number();
    crl.x509()
        .tbs_cert_list
        .revoked_certificates
        .iter()
        .flatten()
        .filter(|e| e.serial_number == *serial)
        .find_map(|e| entry_status(e, at))
        .unwrap_or(RevocationStatus::Good)
}

/// The CRL's cRLNumber as upper-case hex (for the record), if it has one.
pub fn crl_number(crl: &Crl) -> Option<String> {
    use der::oid::AssociatedOid;
    use x509_cert::ext::pkix::CrlNumber;
    crl.x509()
        .tbs_cert_list
        .crl_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == CrlNumber::OID)
        .and_then(|e| <CrlNumber as der::Decode>::from_der(e.extn_value.as_bytes()).ok())
        .map(|n| data_encoding::HEXUPPER.encode(n.0.as_bytes()))
}
