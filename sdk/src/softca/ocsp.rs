//! The software CA's OCSP responder (RFC 6960): answers from the CA's own list of issued and
//! revoked certificates, signed by the issuing CA itself (so a relying party needs no extra
//! responder certificate), with the request's nonce echoed.

use der::asn1::{BitString, GeneralizedTime, Null, OctetString};
use der::{Decode, Encode};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::CrlReason;
use x509_cert::spki::DynSignatureAlgorithmIdentifier;

use super::{CaError, KeySigner, RevocationReason, SoftCa, build, normalise_serial};
use crate::crypto::{CryptoProvider, PrivateKey};
use crate::pki::Certificate;
use crate::pki::ocsp::asn1::{
    BasicOcspResponse, CertId, CertStatus, OID_OCSP_BASIC, OID_OCSP_NONCE, OcspRequest,
    OcspResponse, OcspResponseStatus, ResponderId, ResponseBytes, ResponseData, RevokedInfo,
    SingleResponse,
};
use crate::pki::ocsp::{CertIdHash, cert_id, same_cert_id};

/// How long an OCSP answer of the software CA may be cached (its nextUpdate), seconds.
pub const OCSP_VALIDITY_SECS: i64 = 3600;
/// Most certificates asked about in one request.
const MAX_REQUESTS: usize = 16;
/// Longest nonce echoed (RFC 8954 allows 32; some clients send more, none need 128).
const MAX_NONCE_EXTENSION: usize = 128;

impl SoftCa {
    /// The DER `OCSPResponse` to `request` (a DER `OCSPRequest`) at `now`: `successful` with
    /// one answer per certificate asked about — good, revoked (certificateHold for a frozen
    /// one) or unknown (not issued by this CA) — or `malformedRequest` / `internalError`
    /// without a body. Never fails: an OCSP client reads the status.
    pub fn ocsp_response(&self, request: &[u8], now: i64) -> Vec<u8> {
        let answer = match self.try_ocsp_response(request, now) {
            Ok(der) => return der,
            Err(status) => OcspResponse {
                response_status: status,
                response_bytes: None,
            },
        };
        answer.to_der().unwrap_or_default()
    }

    fn try_ocsp_response(&self, request: &[u8], now: i64) -> Result<Vec<u8>, OcspResponseStatus> {
        let req =
            OcspRequest::from_der(request).map_err(|_| OcspResponseStatus::MalformedRequest)?;
        let list = &req.tbs_request.request_list;
        if list.is_empty() || list.len() > MAX_REQUESTS {
            return Err(OcspResponseStatus::MalformedRequest);
        }
        let mut responses = Vec::with_capacity(list.len());
        for r in list {
            responses.push(
                self.single_response(&r.req_cert, now)
                    .map_err(|_| OcspResponseStatus::InternalError)?,
            );
        }
        let nonce: Vec<Extension> = req
            .tbs_request
            .request_extensions
            .iter()
            .flatten()
            .filter(|e| e.extn_id == OID_OCSP_NONCE)
            .take(1)
            .cloned()
            .collect();
        if nonce
            .iter()
            .any(|e| e.extn_value.as_bytes().len() > MAX_NONCE_EXTENSION)
        {
            return Err(OcspResponseStatus::MalformedRequest);
        }
        sign_ocsp_response(
            self.provider.as_ref(),
            &self.ca_key,
            &self.ca,
            responses,
            nonce,
            now,
        )
        .map_err(|_| OcspResponseStatus::InternalError)
    }

    /// The answer about one CertID.
    fn single_response(&self, asked: &CertId, now: i64) -> Result<SingleResponse, CaError> {
        let status = match CertIdHash::from_oid(&asked.hash_algorithm.oid) {
            Some(hash) => {
                let ours = cert_id(self.provider.as_ref(), &self.ca, &asked.serial_number, hash)
                    .map_err(build)?;
                if same_cert_id(&ours, asked) {
                    self.status_of(&crate::pki::serial_hex(&asked.serial_number))?
                } else {
                    CertStatus::Unknown(Null)
                }
            }
            None => CertStatus::Unknown(Null),
        };
        Ok(SingleResponse {
            cert_id: asked.clone(),
            cert_status: status,
            this_update: generalized(now)?,
            next_update: Some(generalized(now.saturating_add(OCSP_VALIDITY_SECS))?),
            single_extensions: None,
        })
    }

    fn status_of(&self, serial_hex: &str) -> Result<CertStatus, CaError> {
        let serial = normalise_serial(serial_hex)?;
        if let Some(r) = self.state.revoked.iter().find(|r| r.serial == serial) {
            return Ok(CertStatus::Revoked(RevokedInfo {
                revocation_time: generalized(r.revoked_at)?,
                revocation_reason: Some(crl_reason(r.reason)),
            }));
        }
        Ok(if self.state.issued.iter().any(|r| r.serial == serial) {
            CertStatus::Good(Null)
        } else {
            CertStatus::Unknown(Null)
        })
    }
}

pub(super) fn crl_reason(reason: RevocationReason) -> CrlReason {
    match reason {
        RevocationReason::Unspecified => CrlReason::Unspecified,
        RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
        RevocationReason::Superseded => CrlReason::Superseded,
        RevocationReason::CertificateHold => CrlReason::CertificateHold,
    }
}

pub(crate) fn generalized(unix: i64) -> Result<GeneralizedTime, CaError> {
    let secs = u64::try_from(unix).map_err(|_| CaError::Input("time before 1970".into()))?;
    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs)).map_err(build)
}

/// A successful `OCSPResponse` with `responses`, signed by `key` whose certificate is
/// `signer` (named by key hash and carried in `certs`). Used by the responder, and by tests
/// that need responses from other signers.
pub(crate) fn sign_ocsp_response(
    provider: &dyn CryptoProvider,
    key: &PrivateKey,
    signer: &Certificate,
    responses: Vec<SingleResponse>,
    extensions: Vec<Extension>,
    now: i64,
) -> Result<Vec<u8>, CaError> {
    let spk = signer
        .x509()
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes();
    let data = ResponseData {
        version: None,
        responder_id: ResponderId::ByKey(
            OctetString::new(CertIdHash::Sha1.digest(provider, spk)).map_err(build)?,
        ),
        produced_at: generalized(now)?,
        responses,
        response_extensions: if extensions.is_empty() {
            None
        } else {
            Some(extensions)
        },
    };
    let key_signer = KeySigner::new(provider, key)?;
    let signature = key_signer.sign(&data.to_der().map_err(build)?)?;
    let basic = BasicOcspResponse {
        tbs_response_data: data,
        signature_algorithm: key_signer.signature_algorithm_identifier().map_err(build)?,
        signature: BitString::from_bytes(&signature).map_err(build)?,
        certs: Some(vec![signer.x509().clone()]),
    };
    OcspResponse {
        response_status: OcspResponseStatus::Successful,
        response_bytes: Some(ResponseBytes {
            response_type: OID_OCSP_BASIC,
            response: OctetString::new(basic.to_der().map_err(build)?).map_err(build)?,
        }),
    }
    .to_der()
    .map_err(build)
}
