//! Signed messages and digital envelopes: GM/T 0010 (GB/T 35275) for SM2 keys and CMS
//! (RFC 5652) for RSA and ECDSA keys, plus the streaming bid-file format (`docs/envelope.md`).
//!
//! The `cms` crate supplies the ASN.1 types. Its builders cannot be used here: they hash
//! only with SHA-1/2/3, hard-code the PKCS#7 content types and transport keys only with RSA,
//! while GM/T 0010 needs SM3, SM2 and its own OIDs — so the structures are assembled in
//! this module (see `shared/docs/stack.md`).

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::crypto::{
    CryptoError, CryptoProvider, HashAlgorithm, PrivateKey, PublicKeyAlgorithm, SecretBytes,
    SignatureScheme, Sm2CiphertextForm,
};
use crate::pki::{CertError, Certificate, ChainValidator, KeyPurpose, ValidatedChain, names_match};
use crate::protocol::ErrorCode;

mod attrs;
mod stream;

pub(crate) use attrs::{ATTR_SIGNING_CERTIFICATE_V2, data_oid, signed_attributes};
pub use attrs::{cades_signed_attributes, digest_for};

pub use stream::{
    BID_FILE_MAGIC, BidFileHeader, CHUNK_SIZE, KeySource, open_stream, read_header, seal_stream,
};

/// Object identifiers used by the envelopes.
pub mod oid {
    use der::asn1::ObjectIdentifier as Oid;
    /// GM/T 0010 data.
    pub const GM_DATA: Oid = Oid::new_unwrap("1.2.156.10197.6.1.4.2.1");
    /// GM/T 0010 signedData.
    pub const GM_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.156.10197.6.1.4.2.2");
    /// GM/T 0010 envelopedData.
    pub const GM_ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.156.10197.6.1.4.2.3");
    /// SM3 (GM/T 0006).
    pub const SM3: Oid = Oid::new_unwrap("1.2.156.10197.1.401");
    /// SM2 signature with SM3 (GM/T 0006), written by camr.
    pub const SM2_WITH_SM3: Oid = Oid::new_unwrap("1.2.156.10197.1.501");
    /// SM2-1 signature (GM/T 0006), accepted when verifying.
    pub const SM2_SIGN: Oid = Oid::new_unwrap("1.2.156.10197.1.301.1");
    /// SM2-3 public-key encryption (GM/T 0006): key transport in GM/T 0010 envelopes.
    pub const SM2_ENCRYPT: Oid = Oid::new_unwrap("1.2.156.10197.1.301.3");
    /// SM2-2 key exchange (GM/T 0006); GmSSL 3 uses it for key transport, read only.
    pub const SM2_KEY_EXCHANGE: Oid = Oid::new_unwrap("1.2.156.10197.1.301.2");
    /// SM4-CBC (GM/T 0006).
    pub const SM4_CBC: Oid = Oid::new_unwrap("1.2.156.10197.1.104.2");
    /// SM4-GCM (GM/T 0006).
    pub const SM4_GCM: Oid = Oid::new_unwrap("1.2.156.10197.1.104.8");
    /// PKCS #7 data.
    pub const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
    /// PKCS #7 signedData.
    pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
    /// PKCS #7 envelopedData.
    pub const ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.3");
    /// SHA-256.
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    /// rsaEncryption.
    pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    /// RSAES-OAEP.
    pub const RSAES_OAEP: Oid = Oid::new_unwrap("1.2.840.113549.1.1.7");
    /// sha256WithRSAEncryption.
    pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    /// ecdsa-with-SHA256.
    pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    /// AES-256-CBC.
    pub const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");
    /// AES-256-GCM.
    pub const AES256_GCM: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.46");
    /// contentType attribute.
    pub const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
    /// messageDigest attribute.
    pub const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
    /// signingTime attribute.
    pub const ATTR_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
}

/// RSAES-OAEP-params for SHA-256 and MGF1-SHA-256 (RFC 8017 A.2.1), DER, with the hash
/// parameters absent as RFC 5754 prefers and OpenSSL writes:
/// `SEQUENCE { [0] sha256, [1] mgf1(sha256) }`.
const OAEP_SHA256_PARAMS: &[u8] = &[
    0x30, 0x2b, 0xa0, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
    0x01, 0xa1, 0x1a, 0x30, 0x18, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08,
    0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
];
/// The same parameters with explicit NULL hash parameters (RFC 4055 allows both; readers
/// must accept both).
const OAEP_SHA256_PARAMS_NULL: &[u8] = &[
    0x30, 0x2f, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
    0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
    0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00,
];

/// Largest envelope or signed message read into memory, in bytes (bid files use the
/// streaming format instead).
pub const MAX_IN_MEMORY: usize = 256 * 1024 * 1024;

/// Which standard an envelope or signed message follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EnvelopeProfile {
    /// GM/T 0010 (SM2, SM3, SM4).
    GmT0010,
    /// CMS, RFC 5652 (RSA, ECDSA, SHA-256, AES).
    Cms,
}

/// Why a signed message or envelope was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Not a well-formed structure.
    #[error("the envelope is malformed: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// None of the recipients is the given certificate.
    #[error("the envelope is not addressed to certificate {wanted}; its recipients are: {}", recipients.join("; "))]
    NoRecipient {
        /// The certificate offered (issuer, serial).
        wanted: String,
        /// The recipients listed (issuer, serial).
        recipients: Vec<String>,
    },
    /// An algorithm camr does not support.
    #[error("unsupported algorithm {what}")]
    Unsupported {
        /// Which.
        what: String,
    },
    /// The content does not match its signature, digest or tag.
    #[error("the signed content does not verify: {reason}")]
    SignatureInvalid {
        /// Which check failed.
        reason: String,
    },
    /// A cryptographic operation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The signer's or a recipient's certificate was refused.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// Reading or writing a stream failed.
    #[error("{0}")]
    Io(String),
}

impl EnvelopeError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Malformed { .. } | Self::Io(_) => ErrorCode::EnvelopeMalformed,
            Self::NoRecipient { .. } => ErrorCode::EnvelopeNoRecipient,
            Self::Unsupported { .. } => ErrorCode::UnsupportedAlgorithm,
            Self::SignatureInvalid { .. } => ErrorCode::SignatureInvalid,
            Self::Crypto(e) => e.code(),
            Self::Cert(e) => e.code(),
        }
    }

    pub(crate) fn malformed(reason: impl std::fmt::Display) -> Self {
        Self::Malformed {
            reason: crate::crypto::truncate(&reason.to_string(), 200),
        }
    }
}

pub(crate) fn alg(oid: ObjectIdentifier, parameters: Option<Any>) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid, parameters }
}

pub(crate) fn null() -> Option<Any> {
    Some(Any::from(der::asn1::Null))
}

/// Reads DER or PEM (`CMS`, `PKCS7`, `ENVELOPED DATA`, ...) into a ContentInfo.
pub fn parse_content_info(data: &[u8]) -> Result<ContentInfo, EnvelopeError> {
    if data.is_empty() {
        return Err(EnvelopeError::malformed("the input is empty"));
    }
    if data.len() > MAX_IN_MEMORY {
        return Err(EnvelopeError::malformed(
            "more than 256 MiB: use the streaming bid-file format",
        ));
    }
    let der;
    let bytes = if data.trim_ascii_start().starts_with(b"-----BEGIN") {
        let (_label, d) = der::pem::decode_vec(data.trim_ascii())
            .map_err(|e| EnvelopeError::malformed(format!("bad PEM ({e})")))?;
        der = d;
        der.as_slice()
    } else {
        data
    };
    ContentInfo::from_der(bytes)
        .map_err(|e| EnvelopeError::malformed(format!("not a DER ContentInfo ({e})")))
}

pub(crate) fn issuer_and_serial(cert: &Certificate) -> IssuerAndSerialNumber {
    let tbs = cert.x509().tbs_certificate();
    IssuerAndSerialNumber {
        issuer: tbs.issuer().clone(),
        serial_number: tbs.serial_number().clone(),
    }
}

fn describe(ias: &IssuerAndSerialNumber) -> String {
    format!(
        "{} / serial {}",
        ias.issuer,
        crate::pki::serial_hex(&ias.serial_number)
    )
}

pub(crate) fn matches(ias: &IssuerAndSerialNumber, cert: &Certificate) -> bool {
    let tbs = cert.x509().tbs_certificate();
    &ias.serial_number == tbs.serial_number() && names_match(&ias.issuer, tbs.issuer())
}

// ---------------------------------------------------------------------------------------
// SignedData
// ---------------------------------------------------------------------------------------

/// Options of [`sign`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignOptions {
    /// Leave the content out (detached signature, as PDF seals use).
    pub detached: bool,
    /// The signingTime attribute, Unix seconds (now when `None`).
    pub signing_time: Option<i64>,
}

/// Signs `content`: GM/T 0010 SignedData for SM2 keys, CMS SignedData for RSA/ECDSA keys;
/// signed attributes content type, message digest and signing time; the signer certificate
/// and `chain` are included. Returns DER.
pub fn sign(
    provider: &dyn CryptoProvider,
    signer: &Certificate,
    key: &PrivateKey,
    chain: &[Certificate],
    content: &[u8],
    options: SignOptions,
) -> Result<Vec<u8>, EnvelopeError> {
    signer.check_purpose(KeyPurpose::Sign)?;
    if signer.public_key()? != key.public_key() {
        return Err(EnvelopeError::malformed(
            "the private key does not belong to the signer certificate",
        ));
    }
    let algorithm = key.algorithm();
    let (profile, hash, digest_oid, sig_alg) = match algorithm {
        PublicKeyAlgorithm::Sm2 => (
            EnvelopeProfile::GmT0010,
            HashAlgorithm::Sm3,
            oid::SM3,
            alg(oid::SM2_WITH_SM3, None),
        ),
        PublicKeyAlgorithm::Rsa => (
            EnvelopeProfile::Cms,
            HashAlgorithm::Sha256,
            oid::SHA256,
            alg(oid::SHA256_WITH_RSA, null()),
        ),
        PublicKeyAlgorithm::EcdsaP256 => (
            EnvelopeProfile::Cms,
            HashAlgorithm::Sha256,
            oid::SHA256,
            alg(oid::ECDSA_WITH_SHA256, None),
        ),
    };
    let (data_oid, signed_oid) = match profile {
        EnvelopeProfile::GmT0010 => (oid::GM_DATA, oid::GM_SIGNED_DATA),
        EnvelopeProfile::Cms => (oid::DATA, oid::SIGNED_DATA),
    };
    let bad = |e: der::Error| EnvelopeError::malformed(format!("cannot encode ({e})"));
    let digest = provider.digest(hash, content);
    let when = options.signing_time.unwrap_or_else(crate::qr::unix_now);
    let time = x509_cert::time::Time::try_from(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(when).unwrap_or(0)),
    )
    .map_err(bad)?;
    let attr = |oid: ObjectIdentifier, value: Any| -> Result<Attribute, EnvelopeError> {
        let mut values = SetOfVec::new();
        values.insert(value).map_err(bad)?;
        Ok(Attribute { oid, values })
    };
    let mut signed_attrs = SetOfVec::new();
    signed_attrs
        .insert(attr(
            oid::ATTR_CONTENT_TYPE,
            Any::encode_from(&data_oid).map_err(bad)?,
        )?)
        .map_err(bad)?;
    signed_attrs
        .insert(attr(
            oid::ATTR_SIGNING_TIME,
            Any::encode_from(&time).map_err(bad)?,
        )?)
        .map_err(bad)?;
    signed_attrs
        .insert(attr(
            oid::ATTR_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest).map_err(bad)?).map_err(bad)?,
        )?)
        .map_err(bad)?;
    // RFC 5652 5.4: the signature covers the DER of the attributes as a SET OF.
    let to_sign = signed_attrs.to_der().map_err(bad)?;
    let signature = provider.sign(key, &SignatureScheme::default_for(algorithm), &to_sign)?;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(issuer_and_serial(signer)),
        digest_alg: alg(digest_oid, None),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: sig_alg,
        signature: OctetString::new(signature).map_err(bad)?,
        unsigned_attrs: None,
    };
    let mut certs = SetOfVec::new();
    for c in std::iter::once(signer).chain(chain) {
        let choice = cms::cert::CertificateChoices::Certificate(c.x509().clone());
        if !certs.iter().any(|x| x == &choice) {
            certs.insert(choice).map_err(bad)?;
        }
    }
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms
        .insert(alg(digest_oid, None))
        .map_err(bad)?;
    let mut infos = SetOfVec::new();
    infos.insert(signer_info).map_err(bad)?;
    let econtent = if options.detached {
        None
    } else {
        Some(Any::encode_from(&OctetString::new(content).map_err(bad)?).map_err(bad)?)
    };
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: data_oid,
            econtent,
        },
        certificates: Some(CertificateSet(certs)),
        crls: None,
        signer_infos: SignerInfos(infos),
    };
    let ci = ContentInfo {
        content_type: signed_oid,
        content: Any::encode_from(&sd).map_err(bad)?,
    };
    ci.to_der().map_err(bad)
}

/// A signed message that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignedData {
    /// GM/T 0010 or CMS.
    pub profile: EnvelopeProfile,
    /// The signed content.
    pub content: Vec<u8>,
    /// The signer's validated chain (leaf first).
    pub signer: ValidatedChain,
    /// The signingTime attribute, Unix seconds (as claimed by the signer).
    pub signing_time: Option<i64>,
}

/// Verifies a SignedData (GM/T 0010 or CMS, DER or PEM): content digest, signature, and the
/// signer certificate with `validator` for signing at time `at` (the caller decides which
/// time it trusts: now, or a time-stamp's). `detached` gives the content of a detached
/// signature; `extra_chain` adds intermediates to those in the message.
pub fn verify(
    provider: &dyn CryptoProvider,
    data: &[u8],
    detached: Option<&[u8]>,
    validator: &ChainValidator,
    extra_chain: &[Certificate],
    at: i64,
) -> Result<VerifiedSignedData, EnvelopeError> {
    let ci = parse_content_info(data)?;
    let profile = if ci.content_type == oid::GM_SIGNED_DATA {
        EnvelopeProfile::GmT0010
    } else if ci.content_type == oid::SIGNED_DATA {
        EnvelopeProfile::Cms
    } else {
        return Err(EnvelopeError::malformed(format!(
            "content type {} is not signedData",
            ci.content_type
        )));
    };
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|e| EnvelopeError::malformed(format!("bad SignedData ({e})")))?;
    let content = match (&sd.encap_content_info.econtent, detached) {
        (Some(any), None) => any
            .decode_as::<OctetString>()
            .map_err(|e| {
                EnvelopeError::malformed(format!("eContent is not an OCTET STRING ({e})"))
            })?
            .into_bytes()
            .into_vec(),
        (None, Some(c)) => c.to_vec(),
        (Some(_), Some(_)) => {
            return Err(EnvelopeError::malformed(
                "the message carries its content; do not give detached content",
            ));
        }
        (None, None) => {
            return Err(EnvelopeError::malformed(
                "detached signature: give the signed content",
            ));
        }
    };
    let certs = certificates_of(&sd);
    let info = sd
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| EnvelopeError::malformed("no SignerInfo"))?;
    if sd.signer_infos.0.len() > 1 {
        return Err(EnvelopeError::Unsupported {
            what: "SignedData with more than one signer".into(),
        });
    }
    let SignerIdentifier::IssuerAndSerialNumber(ias) = &info.sid else {
        return Err(EnvelopeError::Unsupported {
            what: "signer identified by subjectKeyIdentifier".into(),
        });
    };
    let signer = certs
        .iter()
        .chain(extra_chain)
        .find(|c| matches(ias, c))
        .ok_or_else(|| {
            EnvelopeError::malformed(format!(
                "the signer certificate ({}) is not in the message",
                describe(ias)
            ))
        })?;
    let hash = digest_of_oid(&info.digest_alg.oid).ok_or_else(|| EnvelopeError::Unsupported {
        what: format!("digest {}", info.digest_alg.oid),
    })?;
    let key = signer.public_key()?;
    let scheme = signature_scheme(&info.signature_algorithm.oid, key.algorithm(), hash)?;
    let digest = provider.digest(hash, &content);
    let mut signing_time = None;
    let signed_bytes = match &info.signed_attrs {
        Some(attrs) => {
            let mut digest_ok = false;
            let mut type_ok = false;
            for a in attrs.iter() {
                let Some(v) = a.values.iter().next() else {
                    continue;
                };
                if a.oid == oid::ATTR_MESSAGE_DIGEST {
                    digest_ok = v
                        .decode_as::<OctetString>()
                        .map(|o| o.as_bytes() == digest.as_slice())
                        .unwrap_or(false);
                } else if a.oid == oid::ATTR_CONTENT_TYPE {
                    type_ok = v
                        .decode_as::<ObjectIdentifier>()
                        .map(|o| o == sd.encap_content_info.econtent_type)
                        .unwrap_or(false);
                } else if a.oid == oid::ATTR_SIGNING_TIME {
                    signing_time = v
                        .decode_as::<x509_cert::time::Time>()
                        .ok()
                        .map(|t| crate::pki::time_secs(&t));
                }
            }
            if !digest_ok {
                return Err(EnvelopeError::SignatureInvalid {
                    reason: "the messageDigest attribute does not match the content".into(),
                });
            }
            if !type_ok {
                return Err(EnvelopeError::SignatureInvalid {
                    reason: "the contentType attribute is missing or wrong".into(),
                });
            }
            attrs
                .to_der()
                .map_err(|e| EnvelopeError::malformed(e.to_string()))?
        }
        None => content.clone(),
    };
    provider
        .verify(&key, &scheme, &signed_bytes, info.signature.as_bytes())
        .map_err(|_| EnvelopeError::SignatureInvalid {
            reason: "the signature does not verify with the signer certificate".into(),
        })?;
    let intermediates: Vec<Certificate> = certs
        .iter()
        .chain(extra_chain)
        .filter(|c| *c != signer)
        .cloned()
        .collect();
    let chain = validator.validate(signer, &intermediates, KeyPurpose::Sign, at)?;
    Ok(VerifiedSignedData {
        profile,
        content,
        signer: chain,
        signing_time,
    })
}

fn signature_scheme(
    sig_oid: &ObjectIdentifier,
    key: PublicKeyAlgorithm,
    hash: HashAlgorithm,
) -> Result<SignatureScheme, EnvelopeError> {
    let scheme = scheme_of_oid(sig_oid).ok_or_else(|| EnvelopeError::Unsupported {
        what: format!("signature algorithm {sig_oid}"),
    })?;
    if !scheme_fits(&scheme, key, hash) {
        return Err(EnvelopeError::SignatureInvalid {
            reason: "the signature algorithm does not fit the signer key or digest".into(),
        });
    }
    Ok(scheme)
}

/// The scheme a SignerInfo's signature algorithm OID names (SM2, RSA PKCS#1 v1.5 with
/// SHA-256, ECDSA P-256 with SHA-256), `None` for others.
pub(crate) fn scheme_of_oid(sig_oid: &ObjectIdentifier) -> Option<SignatureScheme> {
    if *sig_oid == oid::SM2_WITH_SM3 || *sig_oid == oid::SM2_SIGN {
        Some(SignatureScheme::sm2())
    } else if *sig_oid == oid::RSA_ENCRYPTION || *sig_oid == oid::SHA256_WITH_RSA {
        Some(SignatureScheme::RsaPkcs1v15Sha256)
    } else if *sig_oid == oid::ECDSA_WITH_SHA256 {
        Some(SignatureScheme::EcdsaP256Sha256)
    } else {
        None
    }
}

/// Whether `scheme` fits the signer's key and the SignerInfo's digest (SM2 with SM3, the
/// others with SHA-256).
pub(crate) fn scheme_fits(
    scheme: &SignatureScheme,
    key: PublicKeyAlgorithm,
    hash: HashAlgorithm,
) -> bool {
    let expected_hash = if scheme.key_algorithm() == PublicKeyAlgorithm::Sm2 {
        HashAlgorithm::Sm3
    } else {
        HashAlgorithm::Sha256
    };
    scheme.key_algorithm() == key && expected_hash == hash
}

/// The digest a SignerInfo's digest algorithm OID names (SM3, SHA-256), `None` for others.
pub(crate) fn digest_of_oid(digest_oid: &ObjectIdentifier) -> Option<HashAlgorithm> {
    if *digest_oid == oid::SM3 {
        Some(HashAlgorithm::Sm3)
    } else if *digest_oid == oid::SHA256 {
        Some(HashAlgorithm::Sha256)
    } else {
        None
    }
}

/// The X.509 certificates a SignedData carries (other certificate choices, and ones camr
/// cannot read, are left out).
pub(crate) fn certificates_of(sd: &SignedData) -> Vec<Certificate> {
    sd.certificates
        .iter()
        .flat_map(|s| s.0.iter())
        .filter_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(x) => {
                x.to_der().ok().and_then(|d| Certificate::from_der(&d).ok())
            }
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// EnvelopedData
// ---------------------------------------------------------------------------------------

/// The content cipher of an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentCipher {
    Sm4Cbc,
    Aes256Cbc,
    Sm4Gcm,
    Aes256Gcm,
}

impl ContentCipher {
    pub(crate) fn key_len(self) -> usize {
        match self {
            Self::Sm4Cbc | Self::Sm4Gcm => 16,
            Self::Aes256Cbc | Self::Aes256Gcm => 32,
        }
    }
}

pub(crate) fn profile_for(recipients: &[Certificate]) -> Result<EnvelopeProfile, EnvelopeError> {
    let mut profile = None;
    for r in recipients {
        r.check_purpose(KeyPurpose::Encrypt)?;
        let p = match r.public_key()?.algorithm() {
            PublicKeyAlgorithm::Sm2 => EnvelopeProfile::GmT0010,
            PublicKeyAlgorithm::Rsa => EnvelopeProfile::Cms,
            PublicKeyAlgorithm::EcdsaP256 => {
                return Err(EnvelopeError::Unsupported {
                    what: "P-256 encryption certificates (key agreement is not implemented)".into(),
                });
            }
        };
        if profile.is_some_and(|q| q != p) {
            return Err(EnvelopeError::Unsupported {
                what: "recipients mixing SM2 and RSA certificates in one envelope".into(),
            });
        }
        profile = Some(p);
    }
    profile.ok_or_else(|| EnvelopeError::malformed("no recipient given"))
}

/// Builds the recipient infos: the content-encryption key transported to each recipient.
pub(crate) fn recipient_infos(
    provider: &dyn CryptoProvider,
    profile: EnvelopeProfile,
    recipients: &[Certificate],
    cek: &[u8],
) -> Result<RecipientInfos, EnvelopeError> {
    let bad = |e: der::Error| EnvelopeError::malformed(format!("cannot encode ({e})"));
    let mut infos = SetOfVec::new();
    for r in recipients {
        let key = r.public_key()?;
        let (key_enc_alg, enc_key) = match profile {
            EnvelopeProfile::GmT0010 => (
                alg(oid::SM2_ENCRYPT, None),
                provider.sm2_encrypt(&key, cek, Sm2CiphertextForm::Asn1)?,
            ),
            EnvelopeProfile::Cms => (
                alg(
                    oid::RSAES_OAEP,
                    Some(Any::from_der(OAEP_SHA256_PARAMS).map_err(bad)?),
                ),
                provider.rsa_oaep_encrypt(&key, cek)?,
            ),
        };
        infos
            .insert(RecipientInfo::Ktri(KeyTransRecipientInfo {
                version: CmsVersion::V0,
                rid: RecipientIdentifier::IssuerAndSerialNumber(issuer_and_serial(r)),
                key_enc_alg,
                enc_key: OctetString::new(enc_key).map_err(bad)?,
            }))
            .map_err(bad)?;
    }
    Ok(RecipientInfos(infos))
}

/// Encrypts `content` to every certificate in `recipients` (their encryption certificates):
/// GM/T 0010 EnvelopedData (SM2 key transport, SM4-CBC) for SM2 certificates, CMS
/// EnvelopedData (RSA-OAEP-SHA256, AES-256-CBC) for RSA ones. Returns DER.
pub fn seal(
    provider: &dyn CryptoProvider,
    recipients: &[Certificate],
    content: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let profile = profile_for(recipients)?;
    let cipher = match profile {
        EnvelopeProfile::GmT0010 => ContentCipher::Sm4Cbc,
        EnvelopeProfile::Cms => ContentCipher::Aes256Cbc,
    };
    let mut cek = zeroize::Zeroizing::new(vec![0u8; cipher.key_len()]);
    provider.fill_random(&mut cek)?;
    let mut iv = [0u8; 16];
    provider.fill_random(&mut iv)?;
    let ciphertext = match cipher {
        ContentCipher::Sm4Cbc => provider.sm4_cbc_encrypt(&cek, &iv, content)?,
        _ => provider.aes256_cbc_encrypt(&cek, &iv, content)?,
    };
    let bad = |e: der::Error| EnvelopeError::malformed(format!("cannot encode ({e})"));
    let (data_oid, env_oid, cipher_oid) = match profile {
        EnvelopeProfile::GmT0010 => (oid::GM_DATA, oid::GM_ENVELOPED_DATA, oid::SM4_CBC),
        EnvelopeProfile::Cms => (oid::DATA, oid::ENVELOPED_DATA, oid::AES256_CBC),
    };
    let ed = EnvelopedData {
        version: CmsVersion::V0,
        originator_info: None,
        recip_infos: recipient_infos(provider, profile, recipients, &cek)?,
        encrypted_content: EncryptedContentInfo {
            content_type: data_oid,
            content_enc_alg: alg(
                cipher_oid,
                Some(Any::encode_from(&OctetString::new(iv.to_vec()).map_err(bad)?).map_err(bad)?),
            ),
            encrypted_content: Some(OctetString::new(ciphertext).map_err(bad)?),
        },
        unprotected_attrs: None,
    };
    ContentInfo {
        content_type: env_oid,
        content: Any::encode_from(&ed).map_err(bad)?,
    }
    .to_der()
    .map_err(bad)
}

pub(crate) fn decode_enveloped(
    ci: &ContentInfo,
) -> Result<(EnvelopeProfile, EnvelopedData), EnvelopeError> {
    let profile = if ci.content_type == oid::GM_ENVELOPED_DATA {
        EnvelopeProfile::GmT0010
    } else if ci.content_type == oid::ENVELOPED_DATA {
        EnvelopeProfile::Cms
    } else {
        return Err(EnvelopeError::malformed(format!(
            "content type {} is not envelopedData",
            ci.content_type
        )));
    };
    let ed = ci
        .content
        .decode_as()
        .map_err(|e| EnvelopeError::malformed(format!("bad EnvelopedData ({e})")))?;
    Ok((profile, ed))
}

/// The recipients of an envelope, as `issuer / serial HEX`, so an app can pick the right
/// encryption certificate.
pub fn recipients(data: &[u8]) -> Result<Vec<String>, EnvelopeError> {
    let (_, ed) = decode_enveloped(&parse_content_info(data)?)?;
    Ok(recipient_list(&ed))
}

pub(crate) fn recipient_list(ed: &EnvelopedData) -> Vec<String> {
    ed.recip_infos
        .0
        .iter()
        .map(|ri| match ri {
            RecipientInfo::Ktri(k) => match &k.rid {
                RecipientIdentifier::IssuerAndSerialNumber(ias) => describe(ias),
                RecipientIdentifier::SubjectKeyIdentifier(ski) => format!(
                    "subjectKeyIdentifier {}",
                    data_encoding::HEXUPPER.encode(ski.0.as_bytes())
                ),
            },
            _ => "a non key-transport recipient (not supported)".to_string(),
        })
        .collect()
}

/// Finds `cert` among the recipients and unwraps the content-encryption key with `key`.
pub(crate) fn unwrap_cek(
    provider: &dyn CryptoProvider,
    ed: &EnvelopedData,
    cert: &Certificate,
    key: &PrivateKey,
) -> Result<SecretBytes, EnvelopeError> {
    for ri in ed.recip_infos.0.iter() {
        let RecipientInfo::Ktri(k) = ri else { continue };
        let RecipientIdentifier::IssuerAndSerialNumber(ias) = &k.rid else {
            continue;
        };
        if !matches(ias, cert) {
            continue;
        }
        let enc = k.enc_key.as_bytes();
        let a = &k.key_enc_alg;
        return Ok(
            // GmSSL 3 writes 1.2.156.10197.1.301.2 (assigned to SM2 key exchange in GM/T
            // 0006) for SM2 key transport; the ciphertext is an ordinary SM2Cipher.
            if a.oid == oid::SM2_ENCRYPT
                || a.oid == oid::SM2_KEY_EXCHANGE
                || a.oid == crate::crypto::OID_SM2_CURVE
            {
                provider.sm2_decrypt(key, enc, Sm2CiphertextForm::Asn1)?
            } else if a.oid == oid::RSA_ENCRYPTION {
                provider.rsa_pkcs1v15_decrypt(key, enc)?
            } else if a.oid == oid::RSAES_OAEP {
                let params = a
                    .parameters
                    .as_ref()
                    .map(|p| p.to_der())
                    .transpose()
                    .map_err(|e| EnvelopeError::malformed(e.to_string()))?;
                if params.as_deref() != Some(OAEP_SHA256_PARAMS)
                    && params.as_deref() != Some(OAEP_SHA256_PARAMS_NULL)
                {
                    return Err(EnvelopeError::Unsupported {
                        what: "RSA-OAEP parameters other than SHA-256 with MGF1-SHA-256".into(),
                    });
                }
                provider.rsa_oaep_decrypt(key, enc)?
            } else {
                return Err(EnvelopeError::Unsupported {
                    what: format!("key transport {}", a.oid),
                });
            },
        );
    }
    Err(EnvelopeError::NoRecipient {
        wanted: describe(&issuer_and_serial(cert)),
        recipients: recipient_list(ed),
    })
}

pub(crate) fn content_cipher(
    a: &AlgorithmIdentifierOwned,
) -> Result<(ContentCipher, Vec<u8>), EnvelopeError> {
    let cipher = if a.oid == oid::SM4_CBC {
        ContentCipher::Sm4Cbc
    } else if a.oid == oid::AES256_CBC {
        ContentCipher::Aes256Cbc
    } else if a.oid == oid::SM4_GCM {
        ContentCipher::Sm4Gcm
    } else if a.oid == oid::AES256_GCM {
        ContentCipher::Aes256Gcm
    } else {
        return Err(EnvelopeError::Unsupported {
            what: format!("content cipher {}", a.oid),
        });
    };
    let iv = match cipher {
        ContentCipher::Sm4Cbc | ContentCipher::Aes256Cbc => a
            .parameters
            .as_ref()
            .ok_or_else(|| EnvelopeError::malformed("CBC without an IV"))?
            .decode_as::<OctetString>()
            .map_err(|e| EnvelopeError::malformed(format!("bad IV ({e})")))?
            .into_bytes(),
        // GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 }
        ContentCipher::Sm4Gcm | ContentCipher::Aes256Gcm => {
            let p = a
                .parameters
                .as_ref()
                .ok_or_else(|| EnvelopeError::malformed("GCM without parameters"))?;
            let seq: Vec<Any> = p
                .decode_as()
                .map_err(|e| EnvelopeError::malformed(format!("bad GCM parameters ({e})")))?;
            seq.first()
                .ok_or_else(|| EnvelopeError::malformed("GCM parameters without a nonce"))?
                .decode_as::<OctetString>()
                .map_err(|e| EnvelopeError::malformed(format!("bad GCM nonce ({e})")))?
                .into_bytes()
        }
    };
    Ok((cipher, iv.into_vec()))
}

/// Opens an envelope (GM/T 0010 or CMS, DER or PEM, camr's or another tool's) with one of
/// the wallet's encryption certificates and its private key.
pub fn open(
    provider: &dyn CryptoProvider,
    data: &[u8],
    cert: &Certificate,
    key: &PrivateKey,
) -> Result<SecretBytes, EnvelopeError> {
    let (_, ed) = decode_enveloped(&parse_content_info(data)?)?;
    let cek = unwrap_cek(provider, &ed, cert, key)?;
    decrypt_content(provider, &ed, &cek)
}

/// Opens an envelope with its content-encryption key (as the decrypt operation hands it
/// back from the app).
pub fn open_with_key(
    provider: &dyn CryptoProvider,
    data: &[u8],
    cek: &[u8],
) -> Result<SecretBytes, EnvelopeError> {
    let (_, ed) = decode_enveloped(&parse_content_info(data)?)?;
    decrypt_content(provider, &ed, cek)
}

fn decrypt_content(
    provider: &dyn CryptoProvider,
    ed: &EnvelopedData,
    cek: &[u8],
) -> Result<SecretBytes, EnvelopeError> {
    let (cipher, iv) = content_cipher(&ed.encrypted_content.content_enc_alg)?;
    let ct = ed
        .encrypted_content
        .encrypted_content
        .as_ref()
        .ok_or_else(|| {
            EnvelopeError::malformed(
                "the envelope has no encrypted content (a bid-file header? use open_stream)",
            )
        })?;
    if cek.len() != cipher.key_len() {
        return Err(EnvelopeError::malformed(format!(
            "the content key must be {} bytes, got {}",
            cipher.key_len(),
            cek.len()
        )));
    }
    Ok(match cipher {
        ContentCipher::Sm4Cbc => provider.sm4_cbc_decrypt(cek, &iv, ct.as_bytes())?,
        ContentCipher::Aes256Cbc => provider.aes256_cbc_decrypt(cek, &iv, ct.as_bytes())?,
        _ => {
            return Err(EnvelopeError::Unsupported {
                what: "GCM content outside the bid-file format".into(),
            });
        }
    })
}

/// The encrypted content-encryption keys of an envelope, per recipient certificate serial —
/// what the platform sends to the app in a decrypt request.
pub fn encrypted_keys(data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, EnvelopeError> {
    let ci = parse_content_info(data)?;
    let (_, ed) = decode_enveloped(&ci)?;
    Ok(encrypted_keys_of(&ed))
}

pub(crate) fn encrypted_keys_of(ed: &EnvelopedData) -> Vec<(String, Vec<u8>)> {
    ed.recip_infos
        .0
        .iter()
        .filter_map(|ri| match ri {
            RecipientInfo::Ktri(k) => match &k.rid {
                RecipientIdentifier::IssuerAndSerialNumber(ias) => Some((
                    crate::pki::serial_hex(&ias.serial_number),
                    k.enc_key.as_bytes().to_vec(),
                )),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
