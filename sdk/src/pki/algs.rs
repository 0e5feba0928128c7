//! Signature algorithms of issuer → subject signatures in path validation (certificates and
//! CRLs).
//!
//! Holders sign with SM2, P-256 or RSA through the [`crate::crypto::CryptoProvider`]; those
//! schemes stay there. CA hierarchies also sign with algorithms holders never use (ECDSA P-384
//! roots, RSA-PSS with SHA-384): those are verified here with RustCrypto directly, so adding
//! them does not widen what a holder's key may be.
//!
//! Parameters are parsed strictly: an algorithm identifier that is not exactly one of the
//! supported forms is refused as unsupported rather than guessed at, because a lenient parser
//! is where signature-algorithm confusion starts.

use der::Decode;
use der::asn1::ObjectIdentifier;
use sha2::{Digest, Sha384};
use signature::hazmat::PrehashVerifier;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::{
    Certificate, OID_ECDSA_WITH_SHA256, OID_ECDSA_WITH_SHA384, OID_RSASSA_PSS, OID_SHA256_WITH_RSA,
    OID_SM3_WITH_SM2,
};
use crate::crypto::{CryptoProvider, PublicKey, SignatureScheme};

pub(crate) const OID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
pub(crate) const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
pub(crate) const OID_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub(crate) const OID_SHA384: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
pub(crate) const OID_MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");

/// The hash of an RSA-PSS signature; MGF1 uses the same hash and the salt is its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PssHash {
    Sha256,
    Sha384,
}

impl PssHash {
    fn len(self) -> u32 {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
        }
    }
}

/// A chain signature algorithm camr verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChainAlgorithm {
    /// A scheme holders also use, verified by the crypto provider.
    Provider(SignatureScheme),
    /// ecdsa-with-SHA384 with a P-256 or P-384 issuer key.
    EcdsaSha384,
    /// id-RSASSA-PSS with consistent parameters.
    RsaPss(PssHash),
}

/// RSASSA-PSS-params (RFC 4055 §3.1 / RFC 8017 A.2.3). Explicitly tagged; absent fields take
/// the SHA-1 defaults, which camr does not accept.
#[derive(der::Sequence)]
pub(crate) struct PssParams {
    #[asn1(context_specific = "0", optional = "true")]
    pub(crate) hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", optional = "true")]
    pub(crate) mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", optional = "true")]
    pub(crate) salt_len: Option<u32>,
    #[asn1(context_specific = "3", optional = "true")]
    pub(crate) trailer_field: Option<u32>,
}

/// Classifies `alg`, refusing parameters that are not exactly those of the algorithm.
pub(crate) fn classify(alg: &AlgorithmIdentifierOwned) -> Result<ChainAlgorithm, String> {
    let unsupported = || format!("unsupported signature algorithm {}", alg.oid);
    if alg.oid == OID_SM3_WITH_SM2 {
        Ok(ChainAlgorithm::Provider(SignatureScheme::sm2()))
    } else if alg.oid == OID_SHA256_WITH_RSA {
        Ok(ChainAlgorithm::Provider(SignatureScheme::RsaPkcs1v15Sha256))
    } else if alg.oid == OID_ECDSA_WITH_SHA256 {
        Ok(ChainAlgorithm::Provider(SignatureScheme::EcdsaP256Sha256))
    } else if alg.oid == OID_ECDSA_WITH_SHA384 {
        // RFC 5758 §3.2: the parameters MUST be absent.
        if alg.parameters.is_some() {
            return Err("ecdsa-with-SHA384 with parameters (RFC 5758: they must be absent)".into());
        }
        Ok(ChainAlgorithm::EcdsaSha384)
    } else if alg.oid == OID_RSASSA_PSS {
        pss_hash(alg).map(ChainAlgorithm::RsaPss)
    } else {
        Err(unsupported())
    }
}

/// The hash of an id-RSASSA-PSS identifier whose parameters are consistent: hash SHA-256 or
/// SHA-384, MGF1 with the same hash, salt length equal to the hash length, trailer field 1.
/// Other combinations are legal PKCS #1 but no CA profile uses them (CA/Browser Forum BR
/// §7.1.3.2 lists exactly these), and accepting them only adds ways to be confused.
fn pss_hash(alg: &AlgorithmIdentifierOwned) -> Result<PssHash, String> {
    let any = alg
        .parameters
        .as_ref()
        .ok_or("RSA-PSS without parameters (RFC 4055: they are required)")?;
    let der = der::Encode::to_der(any).map_err(|e| format!("RSA-PSS parameters ({e})"))?;
    let params =
        PssParams::from_der(&der).map_err(|e| format!("malformed RSA-PSS parameters ({e})"))?;
    let hash_alg = params
        .hash
        .as_ref()
        .ok_or("RSA-PSS with the default hash SHA-1, which camr does not accept")?;
    let hash = hash_of(hash_alg)?;
    let mgf = params
        .mask_gen
        .as_ref()
        .ok_or("RSA-PSS with the default MGF1-SHA-1, which camr does not accept")?;
    if mgf.oid != OID_MGF1 {
        return Err(format!(
            "RSA-PSS with mask generation {} (only MGF1)",
            mgf.oid
        ));
    }
    let mgf_hash = mgf
        .parameters
        .as_ref()
        .ok_or("RSA-PSS MGF1 without its hash")
        .and_then(|p| {
            der::Encode::to_der(p)
                .ok()
                .and_then(|d| AlgorithmIdentifierOwned::from_der(&d).ok())
                .ok_or("RSA-PSS MGF1 hash is not an AlgorithmIdentifier")
        })?;
    if hash_of(&mgf_hash)? != hash {
        return Err("RSA-PSS parameters inconsistent: MGF1 uses another hash".into());
    }
    // Absent means 20 (RFC 8017 default), which is SHA-1's length: never ours.
    let salt = params.salt_len.unwrap_or(20);
    if salt != hash.len() {
        return Err(format!(
            "RSA-PSS parameters inconsistent: salt length {salt} with a {}-byte hash",
            hash.len()
        ));
    }
    if params.trailer_field.is_some_and(|t| t != 1) {
        return Err("RSA-PSS trailer field other than 1 (0xBC)".into());
    }
    Ok(hash)
}

/// SHA-256 or SHA-384, with parameters NULL or absent (RFC 4055 §2.1 allows both).
fn hash_of(alg: &AlgorithmIdentifierOwned) -> Result<PssHash, String> {
    if let Some(p) = &alg.parameters
        && !p.is_null()
    {
        return Err("hash algorithm with parameters other than NULL".into());
    }
    if alg.oid == OID_SHA256 {
        Ok(PssHash::Sha256)
    } else if alg.oid == OID_SHA384 {
        Ok(PssHash::Sha384)
    } else {
        Err(format!(
            "RSA-PSS with hash {} (only SHA-256 and SHA-384)",
            alg.oid
        ))
    }
}

/// Verifies `signature` over `tbs` by the key of `issuer` with the algorithm `alg`.
pub(crate) fn verify_signed(
    provider: &dyn CryptoProvider,
    issuer: &Certificate,
    alg: &AlgorithmIdentifierOwned,
    tbs: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    match classify(alg)? {
        ChainAlgorithm::Provider(scheme) => {
            let key = issuer.public_key().map_err(|e| e.to_string())?;
            provider
                .verify(&key, &scheme, tbs, signature)
                .map_err(|e| e.to_string())
        }
        ChainAlgorithm::EcdsaSha384 => verify_ecdsa_sha384(
            issuer.x509().tbs_certificate().subject_public_key_info(),
            tbs,
            signature,
        ),
        ChainAlgorithm::RsaPss(PssHash::Sha256) => {
            // Exactly the provider's RsaPssSha256 (MGF1-SHA-256, 32-byte salt).
            let key = issuer.public_key().map_err(|e| e.to_string())?;
            provider
                .verify(&key, &SignatureScheme::RsaPssSha256, tbs, signature)
                .map_err(|e| e.to_string())
        }
        ChainAlgorithm::RsaPss(PssHash::Sha384) => {
            // public_key() applies camr's RSA size limits (2048 to 4096 bits).
            let PublicKey::Rsa(pk) = issuer.public_key().map_err(|e| e.to_string())? else {
                return Err("an RSA-PSS signature by a key that is not RSA".into());
            };
            if signature.len() != rsa::traits::PublicKeyParts::size(&pk) {
                return Err("the RSA signature has the wrong length".into());
            }
            let hash = Sha384::digest(tbs);
            pk.verify(rsa::Pss::<Sha384>::new_with_salt(48), &hash, signature)
                .map_err(|_| "the signature is invalid".to_string())
        }
    }
}

/// ECDSA with SHA-384 by a P-384 key, or by a P-256 key (RFC 5758 allows any hash with any
/// curve; the digest is truncated to the group order per SEC 1 §4.1.4).
fn verify_ecdsa_sha384(
    spki: &SubjectPublicKeyInfoOwned,
    tbs: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    if spki.algorithm.oid != OID_EC_PUBLIC_KEY {
        return Err("an ECDSA signature by a key that is not an EC key".into());
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .ok_or("EC key without a named curve")?;
    let point = spki
        .subject_public_key
        .as_bytes()
        .ok_or("EC public key BIT STRING has unused bits")?;
    let digest = Sha384::digest(tbs);
    if curve == OID_P384 {
        let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
            .map_err(|_| "not a point on P-384")?;
        let sig =
            p384::ecdsa::Signature::from_der(signature).map_err(|_| "not a DER ECDSA-Sig-Value")?;
        key.verify_prehash(&digest, &sig)
            .map_err(|_| "the signature is invalid".to_string())
    } else if curve == OID_P256 {
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
            .map_err(|_| "not a point on P-256")?;
        let sig =
            p256::ecdsa::Signature::from_der(signature).map_err(|_| "not a DER ECDSA-Sig-Value")?;
        key.verify_prehash(&digest, &sig)
            .map_err(|_| "the signature is invalid".to_string())
    } else {
        Err(format!("ECDSA key on unsupported curve {curve}"))
    }
}
