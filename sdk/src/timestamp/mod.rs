//! Trusted time (RFC 3161; GB/T 20520): the request to a time-stamping authority (TSA), its
//! response, and the verification of a time-stamp token — the imprint is the data's hash, the
//! token's CMS signature verifies, its signer is a TSA (critical extended key usage
//! id-kp-timeStamping and nothing else, RFC 3161 2.3) whose chain validates at the token's
//! time.
//!
//! No network here: [`TimeStampQuery::der`] is what to POST (`application/timestamp-query`);
//! the reply goes to [`TimeStampQuery::token_from_response`]. Tokens are CMS SignedData with
//! eContentType id-ct-TSTInfo: SM2/SM3 for SM2 TSAs, RSA or ECDSA with SHA-256 otherwise.

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::crypto::{CryptoProvider, HashAlgorithm};
use crate::envelope::{self, oid};
use crate::pki::{CertError, Certificate, ChainValidator, KeyPurpose, ValidatedChain};
use crate::protocol::ErrorCode;

pub(crate) mod asn1;

use asn1::{MessageImprint, OID_CT_TST_INFO, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

/// id-kp-timeStamping (RFC 5280 4.2.1.12).
pub const OID_KP_TIME_STAMPING: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
/// Largest time-stamp response or token read, bytes.
pub const MAX_TOKEN_BYTES: usize = 256 * 1024;

/// Why a time-stamp was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// Not a well-formed response or token, or the TSA refused the request.
    #[error("the time-stamp is not usable: {reason}")]
    Invalid {
        /// What is wrong.
        reason: String,
    },
    /// The token is over other data.
    #[error("the time-stamp token is over other data (message imprint differs)")]
    ImprintMismatch,
    /// The signer is not a time-stamping authority.
    #[error("the time-stamp token's signer is not a TSA: {reason}")]
    TsaUnauthorized {
        /// Why not.
        reason: String,
    },
    /// The token's signature does not verify.
    #[error("the time-stamp token's signature does not verify: {reason}")]
    SignatureInvalid {
        /// Which check failed.
        reason: String,
    },
    /// The TSA's certificate chain was refused.
    #[error(transparent)]
    Cert(#[from] CertError),
}

impl TimestampError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid { .. } => ErrorCode::TimestampInvalid,
            Self::ImprintMismatch => ErrorCode::TimestampImprintMismatch,
            Self::TsaUnauthorized { .. } => ErrorCode::TimestampTsaUnauthorized,
            Self::SignatureInvalid { .. } => ErrorCode::SignatureInvalid,
            Self::Cert(e) => e.code(),
        }
    }

    pub(crate) fn invalid(reason: impl std::fmt::Display) -> Self {
        Self::Invalid {
            reason: crate::crypto::truncate(&reason.to_string(), 200),
        }
    }
}

/// The OID of a message-imprint hash.
pub(crate) fn hash_oid(hash: HashAlgorithm) -> ObjectIdentifier {
    match hash {
        HashAlgorithm::Sm3 => oid::SM3,
        HashAlgorithm::Sha256 => oid::SHA256,
    }
}

/// A request for a time-stamp over some data, with a random nonce; keep it to check the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStampQuery {
    der: Vec<u8>,
    nonce: Int,
    imprint: MessageImprint,
}

impl TimeStampQuery {
    /// A request over `data`, hashed with `hash` (SM3 for SM2 TSAs, SHA-256 otherwise),
    /// asking for the TSA's certificate in the token.
    pub fn new(
        provider: &dyn CryptoProvider,
        hash: HashAlgorithm,
        data: &[u8],
    ) -> Result<Self, TimestampError> {
        Self::for_digest(provider, hash, &provider.digest(hash, data))
    }

    /// A request over a digest already computed (a CMS signature value, a PDF byte range).
    pub fn for_digest(
        provider: &dyn CryptoProvider,
        hash: HashAlgorithm,
        digest: &[u8],
    ) -> Result<Self, TimestampError> {
        if digest.len() != 32 {
            return Err(TimestampError::invalid("the digest must have 32 bytes"));
        }
        let mut nonce = [0u8; 16];
        provider
            .fill_random(&mut nonce)
            .map_err(TimestampError::invalid)?;
        nonce[0] &= 0x7f;
        let nonce = Int::new(&nonce).map_err(TimestampError::invalid)?;
        let imprint = MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: hash_oid(hash),
                parameters: None,
            },
            hashed_message: OctetString::new(digest).map_err(TimestampError::invalid)?,
        };
        let req = TimeStampReq {
            version: TspVersion::V1,
            message_imprint: imprint.clone(),
            req_policy: None,
            nonce: Some(nonce.clone()),
            cert_req: true,
            extensions: None,
        };
        Ok(Self {
            der: req.to_der().map_err(TimestampError::invalid)?,
            nonce,
            imprint,
        })
    }

    /// The DER `TimeStampReq` to POST.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The token (DER ContentInfo) of a `TimeStampResp`, once the status is granted and the
    /// token's imprint and nonce are this request's. Verify it with [`verify_token`].
    pub fn token_from_response(&self, response: &[u8]) -> Result<Vec<u8>, TimestampError> {
        if response.len() > MAX_TOKEN_BYTES {
            return Err(TimestampError::invalid("more than 256 KiB"));
        }
        let resp = TimeStampResp::from_der(response)
            .map_err(|e| TimestampError::invalid(format!("not a DER TimeStampResp ({e})")))?;
        // PKIStatus granted (0) or grantedWithMods (1).
        if resp.status.status > 1 {
            return Err(TimestampError::invalid(format!(
                "the TSA refused the request (status {}: {})",
                resp.status.status,
                resp.status.status_string.unwrap_or_default().join("; ")
            )));
        }
        let token = resp
            .time_stamp_token
            .ok_or_else(|| TimestampError::invalid("granted without a token"))?;
        let der = token.to_der().map_err(TimestampError::invalid)?;
        let (_, tst) = decode_token(&der)?;
        if tst.message_imprint.hashed_message != self.imprint.hashed_message
            || tst.message_imprint.hash_algorithm.oid != self.imprint.hash_algorithm.oid
        {
            return Err(TimestampError::ImprintMismatch);
        }
        if tst.nonce.as_ref() != Some(&self.nonce) {
            return Err(TimestampError::invalid(
                "the token does not carry the request's nonce",
            ));
        }
        Ok(der)
    }
}

/// A time-stamp token that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTimeStamp {
    /// genTime, Unix seconds: the data existed then.
    pub gen_time: i64,
    /// The TSA's serial number of the token, hex.
    pub serial: String,
    /// The TSA policy under which it was issued.
    pub policy: String,
    /// The imprint's hash.
    pub hash: HashAlgorithm,
    /// The TSA's validated chain (leaf first).
    pub tsa: ValidatedChain,
}

/// Verifies `token` (DER ContentInfo) over `data` ([`verify_token_digest`] with its hash).
pub fn verify_token(
    provider: &dyn CryptoProvider,
    token: &[u8],
    data: &[u8],
    validator: &ChainValidator,
    extra_chain: &[Certificate],
    now: i64,
) -> Result<VerifiedTimeStamp, TimestampError> {
    let (_, tst) = decode_token(token)?;
    let hash = imprint_hash(&tst)?;
    verify_token_digest(
        provider,
        token,
        &provider.digest(hash, data),
        validator,
        extra_chain,
        now,
    )
}

/// Verifies `token` over a `digest` of the data (in the token's imprint hash): the imprint,
/// the signature with its signed attributes (contentType id-ct-TSTInfo, messageDigest,
/// signingCertificate(V2) naming the signer), the signer's critical id-kp-timeStamping EKU,
/// and its chain with `validator` at genTime, with the revocation information of `now`
/// (so a token stays valid after the TSA's certificate expires).
pub fn verify_token_digest(
    provider: &dyn CryptoProvider,
    token: &[u8],
    digest: &[u8],
    validator: &ChainValidator,
    extra_chain: &[Certificate],
    now: i64,
) -> Result<VerifiedTimeStamp, TimestampError> {
    let (sd, tst) = decode_token(token)?;
    let hash = imprint_hash(&tst)?;
    if !crate::crypto::ct_eq(tst.message_imprint.hashed_message.as_bytes(), digest) {
        return Err(TimestampError::ImprintMismatch);
    }
    let certs = envelope::certificates_of(&sd);
    let info = single_signer(&sd)?;
    let signer = find_signer(info, &certs, extra_chain)?;
    check_signature(provider, &sd, info, &signer)?;
    check_tsa_usage(&signer)?;
    let gen_time = i64::try_from(tst.gen_time.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    let intermediates: Vec<Certificate> = certs
        .iter()
        .chain(extra_chain)
        .filter(|c| **c != signer)
        .cloned()
        .collect();
    let tsa = validator.validate_at_signing_time(
        &signer,
        &intermediates,
        KeyPurpose::Sign,
        gen_time,
        now,
    )?;
    Ok(VerifiedTimeStamp {
        gen_time,
        serial: data_encoding::HEXUPPER.encode(tst.serial_number.as_bytes()),
        policy: tst.policy.to_string(),
        hash,
        tsa,
    })
}

/// The SignedData of a token and its TSTInfo.
pub(crate) fn decode_token(token: &[u8]) -> Result<(SignedData, TstInfo), TimestampError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TimestampError::invalid("more than 256 KiB"));
    }
    let ci = ContentInfo::from_der(token)
        .map_err(|e| TimestampError::invalid(format!("not a DER ContentInfo ({e})")))?;
    if ci.content_type != oid::SIGNED_DATA && ci.content_type != oid::GM_SIGNED_DATA {
        return Err(TimestampError::invalid("the token is not a SignedData"));
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|e| TimestampError::invalid(format!("bad SignedData ({e})")))?;
    if sd.encap_content_info.econtent_type != OID_CT_TST_INFO {
        return Err(TimestampError::invalid("the content is not a TSTInfo"));
    }
    let content = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| TimestampError::invalid("the token carries no TSTInfo"))?
        .decode_as::<OctetString>()
        .map_err(|e| TimestampError::invalid(format!("eContent ({e})")))?;
    let tst = TstInfo::from_der(content.as_bytes())
        .map_err(|e| TimestampError::invalid(format!("bad TSTInfo ({e})")))?;
    Ok((sd, tst))
}

fn imprint_hash(tst: &TstInfo) -> Result<HashAlgorithm, TimestampError> {
    envelope::digest_of_oid(&tst.message_imprint.hash_algorithm.oid).ok_or_else(|| {
        TimestampError::invalid(format!(
            "imprint hash {} (camr accepts SM3 and SHA-256)",
            tst.message_imprint.hash_algorithm.oid
        ))
    })
}

fn single_signer(sd: &SignedData) -> Result<&SignerInfo, TimestampError> {
    let mut infos = sd.signer_infos.0.iter();
    match (infos.next(), infos.next()) {
        (Some(info), None) => Ok(info),
        _ => Err(TimestampError::invalid(
            "a token has exactly one SignerInfo",
        )),
    }
}

fn find_signer(
    info: &SignerInfo,
    certs: &[Certificate],
    extra: &[Certificate],
) -> Result<Certificate, TimestampError> {
    let SignerIdentifier::IssuerAndSerialNumber(ias) = &info.sid else {
        return Err(TimestampError::invalid(
            "signer identified by subjectKeyIdentifier (camr needs issuerAndSerialNumber)",
        ));
    };
    certs
        .iter()
        .chain(extra)
        .find(|c| envelope::matches(ias, c))
        .cloned()
        .ok_or_else(|| {
            TimestampError::invalid("the TSA certificate is neither in the token nor given")
        })
}

/// The signed attributes (contentType, messageDigest of the TSTInfo, signingCertificate or
/// signingCertificateV2 naming `signer`, RFC 3161 2.4.2 / RFC 5816) and the signature.
fn check_signature(
    provider: &dyn CryptoProvider,
    sd: &SignedData,
    info: &SignerInfo,
    signer: &Certificate,
) -> Result<(), TimestampError> {
    let bad = |reason: &str| TimestampError::SignatureInvalid {
        reason: reason.to_string(),
    };
    let hash = envelope::digest_of_oid(&info.digest_alg.oid)
        .ok_or_else(|| TimestampError::invalid(format!("digest {}", info.digest_alg.oid)))?;
    let econtent = sd
        .encap_content_info
        .econtent
        .as_ref()
        .and_then(|a| a.decode_as::<OctetString>().ok())
        .ok_or_else(|| TimestampError::invalid("no eContent"))?;
    let digest = provider.digest(hash, econtent.as_bytes());
    let attrs = info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| bad("no signed attributes (RFC 3161 requires them)"))?;
    let value = |oid: ObjectIdentifier| {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
    };
    let type_ok = value(oid::ATTR_CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .is_some_and(|o| o == OID_CT_TST_INFO);
    if !type_ok {
        return Err(bad(
            "the contentType attribute is missing or not id-ct-TSTInfo",
        ));
    }
    let digest_ok = value(oid::ATTR_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .is_some_and(|o| o.as_bytes() == digest.as_slice());
    if !digest_ok {
        return Err(bad(
            "the messageDigest attribute does not match the TSTInfo",
        ));
    }
    ess::check_signing_certificate(provider, attrs, signer).map_err(|r| bad(&r))?;
    let key = signer.public_key().map_err(TimestampError::invalid)?;
    let scheme = envelope::scheme_of_oid(&info.signature_algorithm.oid)
        .filter(|s| envelope::scheme_fits(s, key.algorithm(), hash))
        .ok_or_else(|| bad("the signature algorithm does not fit the TSA key or digest"))?;
    let signed = attrs.to_der().map_err(TimestampError::invalid)?;
    provider
        .verify(&key, &scheme, &signed, info.signature.as_bytes())
        .map_err(|_| bad("the signature does not verify with the TSA certificate"))
}

/// RFC 3161 2.3: the TSA's certificate has extKeyUsage, critical, with id-kp-timeStamping
/// as its only purpose.
fn check_tsa_usage(cert: &Certificate) -> Result<(), TimestampError> {
    let unauthorized = |reason: String| TimestampError::TsaUnauthorized { reason };
    let found = cert
        .x509()
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .map_err(|e| unauthorized(format!("bad extKeyUsage ({e})")))?;
    let Some((critical, eku)) = found else {
        return Err(unauthorized(format!(
            "`{}` has no extended key usage (RFC 3161 requires id-kp-timeStamping)",
            cert.common_name()
        )));
    };
    if !critical {
        return Err(unauthorized(format!(
            "`{}`'s extended key usage is not critical",
            cert.common_name()
        )));
    }
    if eku.0.as_slice() != [OID_KP_TIME_STAMPING] {
        return Err(unauthorized(format!(
            "`{}`'s extended key usage is not exactly id-kp-timeStamping",
            cert.common_name()
        )));
    }
    Ok(())
}

mod ess;

#[cfg(test)]
mod tests;
