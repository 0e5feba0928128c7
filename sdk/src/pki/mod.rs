//! Certificates and CRLs (on `x509-cert`), identity extraction, and chain validation against a
//! trust store at a given time.
//!
//! camr judges every certificate an app sends itself ("adapters translate, the core
//! verifies"): signatures up to a trusted root, validity, chaining, basic constraints and
//! path length, key usage, name constraints, CRL revocation with checked CRL profile,
//! signature and freshness, strict parsing of the extensions it recognises, and refusal of
//! critical extensions it does not understand — in a bounded, backtracking path search
//! (`docs/pki.md`). Users hold dual certificates
//! (GM/T 0015): a *signing* certificate for signatures and an *encryption* certificate for
//! envelopes; [`KeyPurpose`] says which one a use needs.

use std::fmt;

use der::{Decode, Encode};
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};

use crate::crypto::{CryptoError, PublicKey, truncate};
use crate::protocol::{CertType, ErrorCode};

mod access;
mod algs;
mod chain_revocation;
mod crl_check;
mod exts;
#[cfg(feature = "http")]
pub mod http;
mod identity;
mod name_constraints;
pub(crate) mod names;
pub mod ocsp;
mod path;
mod revocation;
mod signing_time;
mod sources;
mod validate;

pub use chain_revocation::{check_chain_revocation, check_chain_revocation_per_link};
pub use crl_check::{CrlError, RevocationStatus, check_crl, crl_number, crl_status};
pub use identity::{IdentityDocument, IdentityError, IdentityType};
pub use names::{Subject, names_match};
pub use path::{
    DEFAULT_MAX_CANDIDATES, DEFAULT_MAX_PATH_LEN, DEFAULT_MAX_SIGNATURE_CHECKS, PathBudget,
};
pub use revocation::SkippedCrl;
pub use signing_time::{RecordedSignature, TimeEvidence, ValidationTime};
pub use sources::{
    CrlDpSource, CrlFileSource, DEFAULT_REFRESH_SECS, FetchLimits, HttpFetch, HttpRequest,
    OcspSource, OrderedSources, RevocationError, RevocationEvidence, RevocationSource, SourceKind,
};
pub use validate::{
    CACHE_BUCKET_SECS, ChainValidator, MAX_PATH_LEN, RevocationPolicy, TrustStore, ValidatedChain,
};

/// OID of SM3withSM2 (GM/T 0006), the signature algorithm of SM2 certificates.
pub const OID_SM3_WITH_SM2: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
/// sha256WithRSAEncryption (PKCS #1).
pub const OID_SHA256_WITH_RSA: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// RSASSA-PSS (PKCS #1).
pub const OID_RSASSA_PSS: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
/// ecdsa-with-SHA256 (RFC 5758).
pub const OID_ECDSA_WITH_SHA256: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384 (RFC 5758); accepted on chain signatures only ([`algs`]).
pub const OID_ECDSA_WITH_SHA384: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

/// Why a certificate, CRL or chain was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// The certificate or CRL could not be decoded.
    #[error("the certificate is malformed: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The certificate expired before the validation time.
    #[error("certificate `{subject}` expired at {not_after} (checked at {at})")]
    Expired {
        /// Subject common name.
        subject: String,
        /// notAfter, Unix seconds.
        not_after: i64,
        /// Validation time.
        at: i64,
    },
    /// The certificate is not valid yet.
    #[error("certificate `{subject}` is not valid before {not_before} (checked at {at})")]
    NotYetValid {
        /// Subject common name.
        subject: String,
        /// notBefore, Unix seconds.
        not_before: i64,
        /// Validation time.
        at: i64,
    },
    /// The certificate is revoked.
    #[error("certificate `{subject}` (serial {serial}) was revoked at {revoked_at}")]
    Revoked {
        /// Subject common name.
        subject: String,
        /// Serial, hex.
        serial: String,
        /// Revocation time, Unix seconds.
        revoked_at: i64,
    },
    /// The certificate is suspended (CRL reason certificateHold, 冻结).
    #[error("certificate `{subject}` (serial {serial}) is frozen (on hold) since {revoked_at}")]
    Frozen {
        /// Subject common name.
        subject: String,
        /// Serial, hex.
        serial: String,
        /// Since when, Unix seconds.
        revoked_at: i64,
    },
    /// No path to a trusted root, or a link in the path is broken.
    #[error("certificate `{subject}` is not trusted: {reason}")]
    Untrusted {
        /// Subject common name of the certificate where the path broke.
        subject: String,
        /// Which check failed.
        reason: String,
    },
    /// The certificate may not be used for this purpose.
    #[error("certificate `{subject}` cannot be used for {purpose}: {reason}")]
    WrongUsage {
        /// Subject common name.
        subject: String,
        /// What it was used for.
        purpose: &'static str,
        /// Why not.
        reason: String,
    },
    /// Revocation status could not be established (no CRL, stale CRL, bad CRL signature).
    #[error("revocation status of `{subject}` is unknown: {reason}")]
    RevocationUnknown {
        /// Subject common name.
        subject: String,
        /// Why.
        reason: String,
    },
    /// Path building gave up: the certificates offered would need more signature checks or
    /// more candidate issuers than the validator's budget allows. Honest chains stay far
    /// below it; a chain crafted to make the search exponential does not (see `docs/pki.md`).
    #[error("building a path for `{subject}` exceeded its budget: {reason}")]
    PathBudgetExceeded {
        /// Subject common name of the leaf.
        subject: String,
        /// Which limit was reached.
        reason: String,
    },
}

impl CertError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Malformed { .. } => ErrorCode::CertMalformed,
            Self::Expired { .. } => ErrorCode::CertExpired,
            Self::NotYetValid { .. } => ErrorCode::CertNotYetValid,
            Self::Revoked { .. } => ErrorCode::CertRevoked,
            Self::Frozen { .. } => ErrorCode::CertFrozen,
            Self::Untrusted { .. } => ErrorCode::CertUntrusted,
            Self::WrongUsage { .. } => ErrorCode::CertWrongUsage,
            Self::RevocationUnknown { .. } => ErrorCode::CertRevocationUnknown,
            Self::PathBudgetExceeded { .. } => ErrorCode::CertPathBudgetExceeded,
        }
    }

    pub(crate) fn malformed(reason: impl fmt::Display) -> Self {
        Self::Malformed {
            reason: truncate(&reason.to_string(), 200),
        }
    }
}

/// What a certificate is to be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyPurpose {
    /// Signatures (login, message signature, seals): keyUsage digitalSignature or
    /// nonRepudiation.
    Sign,
    /// Envelopes (bid-file encryption): keyUsage keyEncipherment, dataEncipherment or
    /// keyAgreement.
    Encrypt,
    /// Path validation only, without a purpose check (test suites, CA certificates).
    Any,
}

impl KeyPurpose {
    fn name(self) -> &'static str {
        match self {
            Self::Sign => "signing",
            Self::Encrypt => "encryption",
            Self::Any => "any purpose",
        }
    }
}

/// A parsed X.509 certificate with its DER bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    inner: x509_cert::Certificate,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Certificate({}, serial {})",
            self.common_name(),
            self.serial_hex()
        )
    }
}

/// Largest certificate or CRL accepted, in bytes.
pub const MAX_CERT_BYTES: usize = 1024 * 1024;

impl Certificate {
    /// Decodes one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        if der.is_empty() {
            return Err(CertError::malformed("the input is empty"));
        }
        if der.len() > MAX_CERT_BYTES {
            return Err(CertError::malformed("more than 1 MiB"));
        }
        let inner = x509_cert::Certificate::from_der(der)
            .map_err(|e| CertError::malformed(format!("not a DER X.509 certificate ({e})")))?;
        Ok(Self {
            der: der.to_vec(),
            inner,
        })
    }

    /// Decodes every certificate of a PEM bundle, or one DER certificate.
    pub fn parse_all(data: &[u8]) -> Result<Vec<Self>, CertError> {
        let trimmed = data.trim_ascii_start();
        if !trimmed.starts_with(b"-----BEGIN") {
            return Ok(vec![Self::from_der(data)?]);
        }
        let text = std::str::from_utf8(trimmed)
            .map_err(|_| CertError::malformed("PEM that is not UTF-8"))?;
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
            let block = &rest[start..];
            let end_marker = "-----END CERTIFICATE-----";
            let end = block
                .find(end_marker)
                .ok_or_else(|| CertError::malformed("a PEM block without its END line"))?;
            let pem = &block[..end + end_marker.len()];
            let (label, der) = der::pem::decode_vec(pem.as_bytes())
                .map_err(|e| CertError::malformed(format!("bad PEM ({e})")))?;
            if label != "CERTIFICATE" {
                return Err(CertError::malformed(format!(
                    "unexpected PEM label {label}"
                )));
            }
            out.push(Self::from_der(&der)?);
            rest = &block[end + end_marker.len()..];
        }
        if out.is_empty() {
            return Err(CertError::malformed(
                "no `-----BEGIN CERTIFICATE-----` block found",
            ));
        }
        Ok(out)
    }

    /// Decodes exactly one certificate from PEM or DER.
    pub fn parse_one(data: &[u8]) -> Result<Self, CertError> {
        let mut all = Self::parse_all(data)?;
        if all.len() != 1 {
            return Err(CertError::malformed(format!(
                "expected one certificate, found {}",
                all.len()
            )));
        }
        all.pop()
            .ok_or_else(|| CertError::malformed("no certificate"))
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// PEM encoding.
    pub fn to_pem(&self) -> String {
        der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &self.der)
            .unwrap_or_default()
    }

    /// The `x509-cert` structure.
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.inner
    }

    /// Serial number as upper-case hex without leading zero bytes (`certSn`).
    pub fn serial_hex(&self) -> String {
        serial_hex(self.inner.tbs_certificate().serial_number())
    }

    /// The subject's common name (empty if none).
    pub fn common_name(&self) -> String {
        names::common_name(self.inner.tbs_certificate().subject())
    }

    /// The subject public key.
    pub fn public_key(&self) -> Result<PublicKey, CryptoError> {
        let spki = self
            .inner
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| CryptoError::key(format!("cannot encode the SPKI ({e})")))?;
        PublicKey::from_spki_der(&spki)
    }

    /// notBefore and notAfter, Unix seconds.
    pub fn validity(&self) -> (i64, i64) {
        let v = self.inner.tbs_certificate().validity();
        (time_secs(&v.not_before), time_secs(&v.not_after))
    }

    /// The identity in this certificate.
    pub fn subject(&self) -> Subject {
        Subject::from_certificate(self)
    }

    pub(crate) fn key_usage(&self) -> Result<Option<KeyUsage>, CertError> {
        self.inner
            .tbs_certificate()
            .get_extension::<KeyUsage>()
            .map(|o| o.map(|(_, ku)| ku))
            .map_err(|e| CertError::malformed(format!("bad keyUsage extension ({e})")))
    }

    /// Whether the certificate's keyUsage allows `purpose` (an absent keyUsage allows
    /// nothing for [`KeyPurpose::Sign`]/[`KeyPurpose::Encrypt`]: dual-certificate profiles
    /// always state it, and guessing would blur the two certificates).
    pub fn check_purpose(&self, purpose: KeyPurpose) -> Result<(), CertError> {
        let ku = self.key_usage()?;
        let wrong = |reason: String| CertError::WrongUsage {
            subject: self.common_name(),
            purpose: purpose.name(),
            reason,
        };
        match (purpose, ku) {
            (KeyPurpose::Any, _) => Ok(()),
            (_, None) => Err(wrong("it has no keyUsage extension".into())),
            (KeyPurpose::Sign, Some(ku)) => {
                if ku.0.contains(KeyUsages::DigitalSignature)
                    || ku.0.contains(KeyUsages::NonRepudiation)
                {
                    Ok(())
                } else {
                    Err(wrong("keyUsage lacks digitalSignature and nonRepudiation (is it the encryption certificate?)".into()))
                }
            }
            (KeyPurpose::Encrypt, Some(ku)) => {
                if ku.0.contains(KeyUsages::KeyEncipherment)
                    || ku.0.contains(KeyUsages::DataEncipherment)
                    || ku.0.contains(KeyUsages::KeyAgreement)
                {
                    Ok(())
                } else {
                    Err(wrong("keyUsage lacks keyEncipherment, dataEncipherment and keyAgreement (is it the signing certificate?)".into()))
                }
            }
        }
    }

    /// The CertType of the national usage record.
    pub fn cert_type(&self) -> CertType {
        self.subject().cert_type
    }
}

/// A parsed CRL.
#[derive(Clone, PartialEq, Eq)]
pub struct Crl {
    der: Vec<u8>,
    inner: x509_cert::crl::CertificateList,
}

impl fmt::Debug for Crl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Crl(issuer {})",
            names::common_name(&self.inner.tbs_cert_list.issuer)
        )
    }
}

impl Crl {
    /// Decodes a DER or PEM (`X509 CRL`) CRL.
    pub fn parse(data: &[u8]) -> Result<Self, CertError> {
        if data.is_empty() {
            return Err(CertError::malformed("the CRL is empty"));
        }
        if data.len() > 64 * MAX_CERT_BYTES {
            return Err(CertError::malformed("the CRL is more than 64 MiB"));
        }
        let der = if data.trim_ascii_start().starts_with(b"-----BEGIN") {
            let (label, der) = der::pem::decode_vec(data.trim_ascii())
                .map_err(|e| CertError::malformed(format!("bad PEM ({e})")))?;
            if label != "X509 CRL" {
                return Err(CertError::malformed(format!(
                    "expected an `X509 CRL` PEM block, found {label}"
                )));
            }
            der
        } else {
            data.to_vec()
        };
        let inner = x509_cert::crl::CertificateList::from_der(&der)
            .map_err(|e| CertError::malformed(format!("not a DER CRL ({e})")))?;
        Ok(Self { der, inner })
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The `x509-cert` structure.
    pub fn x509(&self) -> &x509_cert::crl::CertificateList {
        &self.inner
    }

    /// The issuer's common name.
    pub fn issuer_name(&self) -> String {
        names::common_name(&self.inner.tbs_cert_list.issuer)
    }

    /// Number of entries, and how many of them are frozen (冻结: reason certificateHold).
    pub fn entry_counts(&self) -> (usize, usize) {
        let entries: Vec<_> = self
            .inner
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .collect();
        let held = entries.iter().filter(|e| revocation::is_on_hold(e)).count();
        (entries.len(), held)
    }

    /// thisUpdate and nextUpdate (if any), Unix seconds.
    pub fn updates(&self) -> (i64, Option<i64>) {
        let t = &self.inner.tbs_cert_list;
        (
            time_secs(&t.this_update),
            t.next_update.as_ref().map(time_secs),
        )
    }
}

/// A serial number as upper-case hex without leading zero bytes (`certSn`).
pub fn serial_hex(serial: &x509_cert::serial_number::SerialNumber) -> String {
    let bytes = serial.as_bytes();
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    data_encoding::HEXUPPER.encode(bytes.get(start..).unwrap_or_default())
}

/// PEM-encodes DER bytes under `label` (LF line endings).
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der).unwrap_or_default()
}

pub(crate) fn time_secs(t: &x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

pub(crate) use algs::verify_signed;

#[cfg(test)]
mod algs_tests;
#[cfg(test)]
mod path_tests;
#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod testca;
#[cfg(test)]
mod tests;
