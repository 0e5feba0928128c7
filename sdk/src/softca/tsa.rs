//! The software CA's time-stamping authority (RFC 3161): a TSA certificate issued by the
//! issuing CA with the critical extended key usage id-kp-timeStamping
//! ([`ServiceRole::TimeStamping`]); tokens signed with SM2/SM3 by an SM2 CA, RSA/SHA-256 or
//! ECDSA/SHA-256 otherwise, with signingCertificateV2 (RFC 5816) so `openssl ts -verify`
//! accepts them.

use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{BitString, Int, ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use x509_cert::attr::Attribute;

use super::{CaError, ServiceRole, SoftCa, build};
use crate::crypto::{CryptoProvider, PrivateKey, PublicKeyAlgorithm, SignatureScheme};
use crate::envelope::{self, oid};
use crate::pki::Certificate;
use crate::timestamp::asn1::{
    Accuracy, OID_CT_TST_INFO, PkiStatusInfo, TimeStampReq, TimeStampResp, TspVersion, TstInfo,
};

/// The policy under which the software CA's TSA issues tokens: under the enterprise number
/// 32473 that RFC 5612 sets aside for documentation, since the reference TSA makes no policy
/// promise.
pub const TSA_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.3161.1");

/// PKIFailureInfo bits (RFC 3161 2.4.2).
const FAIL_BAD_ALG: usize = 0;
const FAIL_BAD_REQUEST: usize = 2;
const FAIL_SYSTEM_FAILURE: usize = 25;

impl SoftCa {
    /// The DER `TimeStampResp` to `request` (a DER `TimeStampReq`) at `now`: granted with a
    /// token over the request's imprint (SM3 or SHA-256), or rejection with the failure bit.
    /// Never fails: a TSA client reads the status.
    pub fn timestamp_response(&self, request: &[u8], now: i64) -> Vec<u8> {
        let resp = match self.try_timestamp(request, now) {
            Ok(token) => TimeStampResp {
                status: status(0, None),
                time_stamp_token: Some(token),
            },
            Err(bit) => TimeStampResp {
                status: status(2, Some(bit)),
                time_stamp_token: None,
            },
        };
        resp.to_der().unwrap_or_default()
    }

    fn try_timestamp(&self, request: &[u8], now: i64) -> Result<ContentInfo, usize> {
        let req = TimeStampReq::from_der(request).map_err(|_| FAIL_BAD_REQUEST)?;
        envelope::digest_of_oid(&req.message_imprint.hash_algorithm.oid).ok_or(FAIL_BAD_ALG)?;
        if req.message_imprint.hashed_message.as_bytes().len() != 32 {
            return Err(FAIL_BAD_REQUEST);
        }
        if req.req_policy.is_some_and(|p| p != TSA_POLICY) {
            return Err(FAIL_BAD_REQUEST);
        }
        let tst = TstInfo {
            version: TspVersion::V1,
            policy: TSA_POLICY,
            message_imprint: req.message_imprint.clone(),
            serial_number: self.token_serial().map_err(|_| FAIL_SYSTEM_FAILURE)?,
            gen_time: super::generalized_time(now).map_err(|_| FAIL_SYSTEM_FAILURE)?,
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce: req.nonce.clone(),
            tsa: None,
            extensions: None,
        };
        self.sign_token(&tst, req.cert_req)
            .map_err(|_| FAIL_SYSTEM_FAILURE)
    }

    fn token_serial(&self) -> Result<Int, CaError> {
        let mut bytes = [0u8; 16];
        self.provider.fill_random(&mut bytes)?;
        bytes[0] = (bytes[0] & 0x7f) | 0x10;
        Int::new(&bytes).map_err(build)
    }

    /// The token: SignedData over the TSTInfo, signed by the TSA certificate's key.
    fn sign_token(&self, tst: &TstInfo, with_cert: bool) -> Result<ContentInfo, CaError> {
        let (cert, key) = self.service_identity(ServiceRole::TimeStamping)?;
        sign_token_with(self.provider.as_ref(), &cert, &key, tst, with_cert)
    }
}

/// A token over `tst` signed by `key`, whose certificate is `cert` (the TSA's; tests pass
/// others to see them refused).
pub(crate) fn sign_token_with(
    provider: &dyn CryptoProvider,
    cert: &Certificate,
    key: &PrivateKey,
    tst: &TstInfo,
    with_cert: bool,
) -> Result<ContentInfo, CaError> {
    let algorithm = key.algorithm();
    let hash = envelope::digest_for(algorithm);
    let content = tst.to_der().map_err(build)?;
    let attrs_der = envelope::signed_attributes(
        provider,
        OID_CT_TST_INFO,
        &provider.digest(hash, &content),
        hash,
        cert,
    )
    .map_err(build)?;
    let signature = provider.sign(key, &SignatureScheme::default_for(algorithm), &attrs_der)?;
    let digest_alg = envelope::alg(crate::timestamp::hash_oid(hash), None);
    let info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(envelope::issuer_and_serial(cert)),
        digest_alg: digest_alg.clone(),
        signed_attrs: Some(SetOfVec::<Attribute>::from_der(&attrs_der).map_err(build)?),
        signature_algorithm: signature_algorithm(algorithm),
        signature: OctetString::new(signature).map_err(build)?,
        unsigned_attrs: None,
    };
    let mut certs = SetOfVec::new();
    if with_cert {
        certs
            .insert(cms::cert::CertificateChoices::Certificate(
                cert.x509().clone(),
            ))
            .map_err(build)?;
    }
    let sd = SignedData {
        // RFC 5652 5.1: version 3 when the content is not id-data.
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![digest_alg]).map_err(build)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: OID_CT_TST_INFO,
            econtent: Some(
                Any::encode_from(&OctetString::new(content).map_err(build)?).map_err(build)?,
            ),
        },
        certificates: if with_cert {
            Some(CertificateSet(certs))
        } else {
            None
        },
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![info]).map_err(build)?),
    };
    Ok(ContentInfo {
        content_type: oid::SIGNED_DATA,
        content: Any::encode_from(&sd).map_err(build)?,
    })
}

fn signature_algorithm(key: PublicKeyAlgorithm) -> x509_cert::spki::AlgorithmIdentifierOwned {
    match key {
        PublicKeyAlgorithm::Sm2 => envelope::alg(oid::SM2_WITH_SM3, None),
        PublicKeyAlgorithm::Rsa => envelope::alg(oid::SHA256_WITH_RSA, envelope::null()),
        PublicKeyAlgorithm::EcdsaP256 => envelope::alg(oid::ECDSA_WITH_SHA256, None),
    }
}

fn status(code: u8, fail_bit: Option<usize>) -> PkiStatusInfo {
    let fail_info = fail_bit.and_then(|bit| {
        let mut bytes = vec![0u8; bit / 8 + 1];
        if let Some(b) = bytes.get_mut(bit / 8) {
            *b = 0x80 >> (bit % 8);
        }
        BitString::new((7 - (bit % 8)) as u8, bytes).ok()
    });
    PkiStatusInfo {
        status: code,
        status_string: None,
        fail_info,
    }
}
