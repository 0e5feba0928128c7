//! OCSP (RFC 6960; GB/T 19713): the request a relying party sends, and the checks on the
//! response — the responder is the issuer or a certificate it issued with id-kp-OCSPSigning,
//! the signature verifies (SM2/SM3, ECDSA P-256, RSA), the answer is about the certificate
//! asked about, fresh, and carries the request's nonce.
//!
//! No network here: [`OcspQuery::der`] is what to POST (`application/ocsp-request`), and the
//! bytes that come back go to [`OcspQuery::verify`]. The HTTP exchange is behind
//! [`crate::pki::RevocationSource`] (`docs/revocation.md`).

use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsages};
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::names::names_match;
use super::validate::signed_tbs_bytes;
use super::{Certificate, verify_signed};
use crate::crypto::{CryptoProvider, HashAlgorithm};
use crate::protocol::ErrorCode;

pub(crate) mod asn1;

use asn1::{
    BasicOcspResponse, CertId, CertStatus, OID_OCSP_BASIC, OID_OCSP_NONCE, OcspResponse,
    OcspResponseStatus, Request, ResponderId, SingleResponse, TbsRequest,
};

/// id-kp-OCSPSigning (RFC 5280 4.2.1.12).
pub const OID_KP_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");
const OID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.401");
/// Largest OCSP response read, bytes.
pub const MAX_OCSP_RESPONSE_BYTES: usize = 256 * 1024;
/// Length of the nonces camr sends (RFC 8954: 1 to 32 bytes; 32 is the recommended length).
pub const NONCE_LEN: usize = 32;
/// CRLReason certificateHold: the OCSP answer for a frozen (冻结) certificate.
const REASON_CERTIFICATE_HOLD: u8 = 6;

/// Why an OCSP response was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcspError {
    /// Not a well-formed response, or the responder's status is not `successful`.
    #[error("the OCSP response is not usable: {reason}")]
    Invalid {
        /// What is wrong.
        reason: String,
    },
    /// The response is about another certificate than the one asked about.
    #[error("the OCSP response is about another certificate: {reason}")]
    CertMismatch {
        /// Which certificate was asked about.
        reason: String,
    },
    /// thisUpdate too old or in the future, or nextUpdate passed.
    #[error("the OCSP response is not fresh: {reason}")]
    Stale {
        /// The times compared.
        reason: String,
    },
    /// The nonce is missing or not the request's.
    #[error("the OCSP response does not carry the request's nonce: {reason}")]
    NonceMismatch {
        /// Missing or different.
        reason: String,
    },
    /// Signed by a key the issuer did not authorise.
    #[error("the OCSP responder is not authorised by the issuer: {reason}")]
    ResponderUnauthorized {
        /// Why not.
        reason: String,
    },
    /// The signature does not verify with the responder's key.
    #[error("the OCSP response signature does not verify: {reason}")]
    SignatureInvalid {
        /// Why.
        reason: String,
    },
}

impl OcspError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid { .. } => ErrorCode::OcspResponseInvalid,
            Self::CertMismatch { .. } => ErrorCode::OcspCertMismatch,
            Self::Stale { .. } => ErrorCode::OcspStale,
            Self::NonceMismatch { .. } => ErrorCode::OcspNonceMismatch,
            Self::ResponderUnauthorized { .. } => ErrorCode::OcspResponderUnauthorized,
            Self::SignatureInvalid { .. } => ErrorCode::SignatureInvalid,
        }
    }

    fn invalid(reason: impl std::fmt::Display) -> Self {
        Self::Invalid {
            reason: crate::crypto::truncate(&reason.to_string(), 200),
        }
    }
}

/// The hash of a CertID (issuer name and key hashes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertIdHash {
    /// SHA-1: what RFC 5019 responders and `openssl ocsp` use. It is an identifier here, not
    /// a signature: a collision would only make a response name another certificate of the
    /// same issuer, whose serial must still match.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SM3 (GM/T 0006), for SM2 hierarchies.
    Sm3,
}

impl CertIdHash {
    /// SM3 for an SM2 issuer, SHA-1 otherwise (every responder answers SHA-1 CertIDs).
    pub fn for_issuer(issuer: &Certificate) -> Self {
        match issuer.public_key().map(|k| k.algorithm()) {
            Ok(crate::crypto::PublicKeyAlgorithm::Sm2) => Self::Sm3,
            _ => Self::Sha1,
        }
    }

    fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => OID_SHA1,
            Self::Sha256 => OID_SHA256,
            Self::Sm3 => OID_SM3,
        }
    }

    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        [Self::Sha1, Self::Sha256, Self::Sm3]
            .into_iter()
            .find(|h| h.oid() == *oid)
    }

    pub(crate) fn digest(self, provider: &dyn CryptoProvider, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => <sha1::Sha1 as sha1::Digest>::digest(data).to_vec(),
            Self::Sha256 => provider.digest(HashAlgorithm::Sha256, data),
            Self::Sm3 => provider.digest(HashAlgorithm::Sm3, data),
        }
    }
}

/// The CertID of `serial` under `issuer` (RFC 6960 4.1.1: hashes of the issuer's DER name and
/// of the value of its subjectPublicKey BIT STRING).
pub(crate) fn cert_id(
    provider: &dyn CryptoProvider,
    issuer: &Certificate,
    serial: &x509_cert::serial_number::SerialNumber,
    hash: CertIdHash,
) -> Result<CertId, OcspError> {
    let tbs = issuer.x509().tbs_certificate();
    let name = tbs.subject().to_der().map_err(OcspError::invalid)?;
    let key = tbs.subject_public_key_info().subject_public_key.raw_bytes();
    Ok(CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: hash.oid(),
            parameters: Some(der::asn1::Null.into()),
        },
        issuer_name_hash: OctetString::new(hash.digest(provider, &name))
            .map_err(OcspError::invalid)?,
        issuer_key_hash: OctetString::new(hash.digest(provider, key))
            .map_err(OcspError::invalid)?,
        serial_number: serial.clone(),
    })
}

/// Whether two CertIDs name the same certificate (hash parameters NULL or absent alike).
pub(crate) fn same_cert_id(a: &CertId, b: &CertId) -> bool {
    a.hash_algorithm.oid == b.hash_algorithm.oid
        && a.issuer_name_hash == b.issuer_name_hash
        && a.issuer_key_hash == b.issuer_key_hash
        && a.serial_number == b.serial_number
}

/// The nonce extension (RFC 6960 4.4.1; RFC 8954: the extnValue holds an OCTET STRING).
pub(crate) fn nonce_extension(nonce: &[u8]) -> Result<Extension, der::Error> {
    Ok(Extension {
        extn_id: OID_OCSP_NONCE,
        critical: false,
        extn_value: OctetString::new(OctetString::new(nonce)?.to_der()?)?,
    })
}

/// What the OCSP responder said about the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcspCertStatus {
    /// Not revoked.
    Good,
    /// Revoked since `at` (Unix seconds), with the CRLReason code if given.
    Revoked {
        /// revocationTime.
        at: i64,
        /// revocationReason (RFC 5280 5.3.1).
        reason: Option<u8>,
    },
    /// Frozen (冻结): revoked with reason certificateHold, since `at`.
    Frozen {
        /// revocationTime.
        at: i64,
    },
    /// The responder does not know the certificate.
    Unknown,
}

/// A verified OCSP answer, and what to record about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspAnswer {
    /// The status of the certificate.
    pub status: OcspCertStatus,
    /// producedAt, Unix seconds.
    pub produced_at: i64,
    /// thisUpdate, Unix seconds.
    pub this_update: i64,
    /// nextUpdate, Unix seconds (the answer may be cached until then).
    pub next_update: Option<i64>,
    /// Common name of the certificate that signed the response.
    pub responder: String,
    /// The response as received (DER), for evidence (a DSS, the transaction record).
    pub der: Vec<u8>,
}

/// Limits on the freshness of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OcspPolicy {
    /// Tolerated clock difference with the responder, seconds (default 300).
    pub clock_skew: i64,
    /// Oldest thisUpdate accepted, seconds before now, whatever nextUpdate says (default
    /// 7 days, the freshness of a CRL).
    pub max_age: i64,
    /// Refuse a response without the request's nonce (default true). Responders that
    /// pre-produce responses (RFC 5019) send none: set false for those.
    pub require_nonce: bool,
}

impl Default for OcspPolicy {
    fn default() -> Self {
        Self {
            clock_skew: 300,
            max_age: 7 * 24 * 3600,
            require_nonce: true,
        }
    }
}

/// An OCSP request for one certificate, with a fresh nonce; keep it to check the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspQuery {
    cert_id: CertId,
    nonce: Vec<u8>,
    der: Vec<u8>,
    subject: String,
}

impl OcspQuery {
    /// A request for `cert`, issued by `issuer`, with a random nonce.
    pub fn new(
        provider: &dyn CryptoProvider,
        cert: &Certificate,
        issuer: &Certificate,
        hash: CertIdHash,
    ) -> Result<Self, OcspError> {
        if !names_match(
            cert.x509().tbs_certificate().issuer(),
            issuer.x509().tbs_certificate().subject(),
        ) {
            return Err(OcspError::invalid(format!(
                "`{}` is not the issuer of `{}`",
                issuer.common_name(),
                cert.common_name()
            )));
        }
        let mut nonce = vec![0u8; NONCE_LEN];
        provider
            .fill_random(&mut nonce)
            .map_err(OcspError::invalid)?;
        let cert_id = cert_id(
            provider,
            issuer,
            cert.x509().tbs_certificate().serial_number(),
            hash,
        )?;
        let request = asn1::OcspRequest {
            tbs_request: TbsRequest {
                version: None,
                requestor_name: None,
                request_list: vec![Request {
                    req_cert: cert_id.clone(),
                    single_request_extensions: None,
                }],
                request_extensions: Some(vec![
                    nonce_extension(&nonce).map_err(OcspError::invalid)?,
                ]),
            },
            optional_signature: None,
        };
        Ok(Self {
            der: request.to_der().map_err(OcspError::invalid)?,
            cert_id,
            nonce,
            subject: cert.common_name(),
        })
    }

    /// The DER `OCSPRequest` to POST.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The nonce sent.
    pub fn nonce(&self) -> &[u8] {
        &self.nonce
    }

    /// Verifies `response` (DER `OCSPResponse`) as the answer to this request, at `now`:
    /// status successful, a basic response signed by `issuer` or by a certificate `issuer`
    /// issued with id-kp-OCSPSigning (valid at `now`), an answer for this CertID, fresh under
    /// `policy`, with this request's nonce.
    pub fn verify(
        &self,
        provider: &dyn CryptoProvider,
        issuer: &Certificate,
        response: &[u8],
        now: i64,
        policy: &OcspPolicy,
    ) -> Result<OcspAnswer, OcspError> {
        let (basic, basic_der) = decode_basic(response)?;
        let signer = authorised_signer(provider, &basic, issuer, now)?;
        let tbs = signed_tbs_bytes(&basic_der).map_err(OcspError::invalid)?;
        let sig = basic
            .signature
            .as_bytes()
            .ok_or_else(|| OcspError::invalid("signature BIT STRING with unused bits"))?;
        verify_signed(provider, &signer, &basic.signature_algorithm, tbs, sig)
            .map_err(|reason| OcspError::SignatureInvalid { reason })?;
        let data = &basic.tbs_response_data;
        self.check_nonce(data.response_extensions.as_deref(), policy)?;
        let single = data
            .responses
            .iter()
            .find(|r| same_cert_id(&r.cert_id, &self.cert_id))
            .ok_or_else(|| OcspError::CertMismatch {
                reason: format!(
                    "none of its {} answers is for `{}` (serial {})",
                    data.responses.len(),
                    self.subject,
                    super::serial_hex(&self.cert_id.serial_number)
                ),
            })?;
        let (this_update, next_update) = check_fresh(single, now, policy)?;
        Ok(OcspAnswer {
            status: status_of(&single.cert_status),
            produced_at: secs(&data.produced_at),
            this_update,
            next_update,
            responder: signer.common_name(),
            der: response.to_vec(),
        })
    }

    fn check_nonce(
        &self,
        extensions: Option<&[Extension]>,
        policy: &OcspPolicy,
    ) -> Result<(), OcspError> {
        let found = extensions
            .unwrap_or_default()
            .iter()
            .find(|e| e.extn_id == OID_OCSP_NONCE);
        let Some(ext) = found else {
            return if policy.require_nonce {
                Err(OcspError::NonceMismatch {
                    reason: "the response has no nonce".into(),
                })
            } else {
                Ok(())
            };
        };
        // RFC 8954 wraps the nonce in an OCTET STRING; some responders send it bare.
        let value = ext.extn_value.as_bytes();
        let inner = OctetString::from_der(value)
            .map(|o| o.as_bytes().to_vec())
            .unwrap_or_else(|_| value.to_vec());
        if crate::crypto::ct_eq(&inner, &self.nonce) {
            Ok(())
        } else {
            Err(OcspError::NonceMismatch {
                reason: "the response's nonce is not the request's (a replayed response?)".into(),
            })
        }
    }
}

/// The `BasicOCSPResponse` of a successful `OCSPResponse`, and its DER.
fn decode_basic(response: &[u8]) -> Result<(BasicOcspResponse, Vec<u8>), OcspError> {
    if response.len() > MAX_OCSP_RESPONSE_BYTES {
        return Err(OcspError::invalid("more than 256 KiB"));
    }
    let outer = OcspResponse::from_der(response)
        .map_err(|e| OcspError::invalid(format!("not a DER OCSPResponse ({e})")))?;
    if outer.response_status != OcspResponseStatus::Successful {
        return Err(OcspError::invalid(format!(
            "the responder answered {:?}",
            outer.response_status
        )));
    }
    let bytes = outer
        .response_bytes
        .ok_or_else(|| OcspError::invalid("a successful response without responseBytes"))?;
    if bytes.response_type != OID_OCSP_BASIC {
        return Err(OcspError::invalid(format!(
            "response type {} is not id-pkix-ocsp-basic",
            bytes.response_type
        )));
    }
    let der = bytes.response.as_bytes().to_vec();
    let basic = BasicOcspResponse::from_der(&der)
        .map_err(|e| OcspError::invalid(format!("not a DER BasicOCSPResponse ({e})")))?;
    Ok((basic, der))
}

/// The certificate whose key signed the response, if the issuer authorised it (RFC 6960
/// 4.2.2.2): the issuer itself, or a certificate the issuer signed that carries
/// id-kp-OCSPSigning, with digitalSignature when keyUsage is present, valid at `now`.
fn authorised_signer(
    provider: &dyn CryptoProvider,
    basic: &BasicOcspResponse,
    issuer: &Certificate,
    now: i64,
) -> Result<Certificate, OcspError> {
    let id = &basic.tbs_response_data.responder_id;
    if responder_is(provider, id, issuer) {
        return Ok(issuer.clone());
    }
    let unauthorised = |reason: String| OcspError::ResponderUnauthorized { reason };
    let candidate = basic
        .certs
        .iter()
        .flatten()
        .filter_map(|c| c.to_der().ok().and_then(|d| Certificate::from_der(&d).ok()))
        .find(|c| responder_is(provider, id, c))
        .ok_or_else(|| {
            unauthorised(format!(
                "the responder is neither `{}` nor a certificate the response carries",
                issuer.common_name()
            ))
        })?;
    let tbs = candidate.x509().tbs_certificate();
    if !names_match(tbs.issuer(), issuer.x509().tbs_certificate().subject()) {
        return Err(unauthorised(format!(
            "`{}` was not issued by `{}`",
            candidate.common_name(),
            issuer.common_name()
        )));
    }
    let cert_tbs = signed_tbs_bytes(candidate.der()).map_err(OcspError::invalid)?;
    let sig = candidate
        .x509()
        .signature()
        .as_bytes()
        .ok_or_else(|| OcspError::invalid("certificate signature with unused bits"))?;
    verify_signed(
        provider,
        issuer,
        candidate.x509().signature_algorithm(),
        cert_tbs,
        sig,
    )
    .map_err(|e| {
        unauthorised(format!(
            "`{}` is not signed by `{}` ({e})",
            candidate.common_name(),
            issuer.common_name()
        ))
    })?;
    check_ocsp_signing(&candidate, now).map_err(unauthorised)?;
    Ok(candidate)
}

/// A delegated responder's own checks: EKU id-kp-OCSPSigning, keyUsage digitalSignature when
/// present, valid at `now`.
fn check_ocsp_signing(cert: &Certificate, now: i64) -> Result<(), String> {
    let eku = cert
        .x509()
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .map_err(|e| format!("bad extKeyUsage ({e})"))?;
    if !eku.is_some_and(|(_, e)| e.0.contains(&OID_KP_OCSP_SIGNING)) {
        return Err(format!(
            "`{}` lacks the extended key usage id-kp-OCSPSigning",
            cert.common_name()
        ));
    }
    if let Ok(Some(ku)) = cert.key_usage()
        && !ku.0.contains(KeyUsages::DigitalSignature)
    {
        return Err(format!(
            "`{}` lacks keyUsage digitalSignature",
            cert.common_name()
        ));
    }
    let (not_before, not_after) = cert.validity();
    if now < not_before || now > not_after {
        return Err(format!(
            "`{}` is not valid at {now} ({not_before}..{not_after})",
            cert.common_name()
        ));
    }
    Ok(())
}

/// Whether `cert` is the responder `id` names (by name, or by the SHA-1 of its key).
fn responder_is(provider: &dyn CryptoProvider, id: &ResponderId, cert: &Certificate) -> bool {
    let tbs = cert.x509().tbs_certificate();
    match id {
        ResponderId::ByName(name) => names_match(name, tbs.subject()),
        ResponderId::ByKey(hash) => {
            let key = tbs.subject_public_key_info().subject_public_key.raw_bytes();
            hash.as_bytes() == CertIdHash::Sha1.digest(provider, key).as_slice()
        }
    }
}

fn check_fresh(
    single: &SingleResponse,
    now: i64,
    policy: &OcspPolicy,
) -> Result<(i64, Option<i64>), OcspError> {
    let this_update = secs(&single.this_update);
    let next_update = single.next_update.as_ref().map(secs);
    let stale = |reason: String| Err(OcspError::Stale { reason });
    if this_update > now.saturating_add(policy.clock_skew) {
        return stale(format!("thisUpdate {this_update} is after now ({now})"));
    }
    if this_update < now.saturating_sub(policy.max_age) {
        return stale(format!(
            "thisUpdate {this_update} is more than {} s before now ({now})",
            policy.max_age
        ));
    }
    if let Some(next) = next_update
        && next < now.saturating_sub(policy.clock_skew)
    {
        return stale(format!("nextUpdate {next} has passed (now {now})"));
    }
    Ok((this_update, next_update))
}

fn status_of(status: &CertStatus) -> OcspCertStatus {
    match status {
        CertStatus::Good(_) => OcspCertStatus::Good,
        CertStatus::Unknown(_) => OcspCertStatus::Unknown,
        CertStatus::Revoked(info) => {
            let at = secs(&info.revocation_time);
            let reason = info.revocation_reason.map(|r| r as u8);
            if reason == Some(REASON_CERTIFICATE_HOLD) {
                OcspCertStatus::Frozen { at }
            } else {
                OcspCertStatus::Revoked { at, reason }
            }
        }
    }
}

fn secs(t: &der::asn1::GeneralizedTime) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
