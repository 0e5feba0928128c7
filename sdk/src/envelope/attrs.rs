//! The CAdES signed attributes of a detached signature over a precomputed digest (RFC 5652
//! §5.4, RFC 5035): built by the platform for a PDF seal (`camr::seal`) and, identically, by
//! the app when a signing request asks for [`crate::protocol::SignFormat::CadesAttributes`].
//! Both sides must produce the same bytes, so the construction is fixed: contentType,
//! messageDigest and signingCertificateV2, in DER SET OF order, no signingTime. Written here
//! because the `cms` crate's builder signs the attributes itself (no hash-first) and knows
//! neither SM2 nor SM3.

use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Encode};
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::{EnvelopeError, oid};
use crate::crypto::{CryptoProvider, HashAlgorithm, PublicKeyAlgorithm};
use crate::pki::Certificate;

/// id-aa-signingCertificateV2 (RFC 5035).
pub(crate) const ATTR_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// ESSCertIDv2 (RFC 5035): the hash algorithm is left out for SHA-256 (its DEFAULT).
#[derive(Clone, Debug, der::Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
}

/// SigningCertificateV2 (RFC 5035), without policies.
#[derive(Clone, Debug, der::Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

fn bad(e: der::Error) -> EnvelopeError {
    EnvelopeError::malformed(format!("cannot encode the signed attributes ({e})"))
}

/// The eContentType: GM/T 0010 data for SM2, PKCS #7 data otherwise.
pub(crate) fn data_oid(key: PublicKeyAlgorithm) -> ObjectIdentifier {
    match key {
        PublicKeyAlgorithm::Sm2 => oid::GM_DATA,
        PublicKeyAlgorithm::Rsa | PublicKeyAlgorithm::EcdsaP256 => oid::DATA,
    }
}

/// The digest that goes with a signer key: SM3 for SM2, SHA-256 otherwise.
pub fn digest_for(key: PublicKeyAlgorithm) -> HashAlgorithm {
    match key {
        PublicKeyAlgorithm::Sm2 => HashAlgorithm::Sm3,
        PublicKeyAlgorithm::Rsa | PublicKeyAlgorithm::EcdsaP256 => HashAlgorithm::Sha256,
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, EnvelopeError> {
    let mut values = SetOfVec::new();
    values.insert(value).map_err(bad)?;
    Ok(Attribute { oid, values })
}

/// DER of the signed attributes (SET OF Attribute) over `digest` for `signer`:
/// contentType (GM/T 0010 data for SM2, data otherwise), messageDigest = `digest`, and
/// signingCertificateV2 naming the signer certificate by its `hash` (SM3 written out for
/// SM2; SHA-256 is the default and left out). `hash` must be the one that goes with the
/// signer's key ([`digest_for`]) and `digest` as long as its output. These are the exact
/// bytes the signer signs: SM2 over SM3(Z_A ‖ bytes), RSA/ECDSA over SHA-256(bytes).
pub fn cades_signed_attributes(
    provider: &dyn CryptoProvider,
    digest: &[u8],
    hash: HashAlgorithm,
    signer: &Certificate,
) -> Result<Vec<u8>, EnvelopeError> {
    let key = signer
        .public_key()
        .map_err(|e| EnvelopeError::malformed(format!("the signer certificate's key: {e}")))?
        .algorithm();
    if digest_for(key) != hash {
        return Err(EnvelopeError::malformed(format!(
            "a {hash:?} digest cannot be signed with a {key:?} key (SM2 goes with SM3, RSA and \
             ECDSA with SHA-256)"
        )));
    }
    if digest.len() != 32 {
        return Err(EnvelopeError::malformed(format!(
            "the digest has {} bytes, not 32",
            digest.len()
        )));
    }
    signed_attributes(provider, data_oid(key), digest, hash, signer)
}

/// contentType = `content_type`, messageDigest = `digest` and signingCertificateV2 naming
/// `signer` by its `hash` (SM3 written out, SHA-256 the default): the CAdES attributes above,
/// and those of a time-stamp token (content type id-ct-TSTInfo, RFC 3161 / RFC 5816).
pub(crate) fn signed_attributes(
    provider: &dyn CryptoProvider,
    content_type: ObjectIdentifier,
    digest: &[u8],
    hash: HashAlgorithm,
    signer: &Certificate,
) -> Result<Vec<u8>, EnvelopeError> {
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: match hash {
                HashAlgorithm::Sm3 => Some(AlgorithmIdentifierOwned {
                    oid: oid::SM3,
                    parameters: None,
                }),
                _ => None,
            },
            cert_hash: OctetString::new(provider.digest(hash, signer.der())).map_err(bad)?,
        }],
    };
    let mut attrs: SetOfVec<Attribute> = SetOfVec::new();
    attrs
        .insert(attribute(
            oid::ATTR_CONTENT_TYPE,
            Any::encode_from(&content_type).map_err(bad)?,
        )?)
        .map_err(bad)?;
    attrs
        .insert(attribute(
            oid::ATTR_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest).map_err(bad)?).map_err(bad)?,
        )?)
        .map_err(bad)?;
    attrs
        .insert(attribute(
            ATTR_SIGNING_CERTIFICATE_V2,
            Any::encode_from(&ess).map_err(bad)?,
        )?)
        .map_err(bad)?;
    attrs.to_der().map_err(bad)
}
