//! Signed messages and digital envelopes: GM/T 0010 (GB/T 35275) for SM2 keys and CMS
//! (RFC 5652) for RSA and ECDSA keys, plus the streaming bid-file format (`docs/envelope.md`).
//!
//! The `cms` crate supplies the ASN.1 types. Its builders cannot be used here: they hash
//! only with SHA-1/2/3, hard-code the PKCS#7 content types and transport keys only with RSA,
//! while GM/T 0010 needs SM3, SM2 and its own OIDs — so the structures are assembled in
//! this module (see `shared/docs/stack.md`).

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::ContentInfo;
use der::asn1::ObjectIdentifier;
use der::{Any, Decode};
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::crypto::CryptoError;
use crate::pki::{CertError, Certificate, names_match};
use crate::protocol::ErrorCode;

mod attrs;
mod enveloped;
mod signed;
mod stream;

pub(crate) use attrs::{ATTR_SIGNING_CERTIFICATE_V2, data_oid, signed_attributes};
pub use attrs::{cades_signed_attributes, digest_for};

pub(crate) use enveloped::{
    ContentCipher, content_cipher, decode_enveloped, encrypted_keys_of, profile_for,
    recipient_infos, recipient_list, unwrap_cek,
};
pub use enveloped::{encrypted_keys, open, open_with_key, recipients, seal};
pub use signed::{SignOptions, VerifiedSignedData, sign, verify};
pub(crate) use signed::{certificates_of, digest_of_oid, scheme_fits, scheme_of_oid};
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

#[cfg(test)]
mod tests;
