//! SignedData: signing and verifying (GM/T 0010 for SM2 keys, CMS for RSA and ECDSA).

use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Encode};
use x509_cert::attr::Attribute;

use crate::crypto::{
    CryptoProvider, HashAlgorithm, PrivateKey, PublicKeyAlgorithm, SignatureScheme,
};
use crate::pki::{Certificate, ChainValidator, KeyPurpose, ValidatedChain};

use super::*;

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
