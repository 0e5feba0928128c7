//! The detached SignedData of a seal, assembled hash-first: the signed attributes are built
//! from the byte-range digest, the signer signs only their DER, and the SignedData is put
//! together around the signature it returns.

use crate::envelope::data_oid;
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier,
    SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::{PreparedPdf, SealError};
use crate::crypto::{CryptoProvider, HashAlgorithm, PublicKeyAlgorithm};
use crate::envelope::{EnvelopeError, oid};
use crate::pki::{Certificate, KeyPurpose};

fn bad(e: der::Error) -> SealError {
    SealError::Envelope(EnvelopeError::malformed(format!("cannot encode ({e})")))
}

fn hash_oid(hash: HashAlgorithm) -> ObjectIdentifier {
    match hash {
        HashAlgorithm::Sm3 => oid::SM3,
        _ => oid::SHA256,
    }
}

/// The signed attributes of a seal over `prepared`'s digest, DER of the SET OF (RFC 5652
/// §5.4): contentType, messageDigest and signingCertificateV2 (the signer certificate's hash;
/// PAdES: no signingTime), as [`crate::envelope::cades_signed_attributes`] builds them.
/// These are the exact bytes the signer signs — for SM2 the signature covers
/// SM3(Z ‖ these bytes). RSA and P-256 signers both fit a PDF prepared for either.
pub fn signed_attributes(
    provider: &dyn CryptoProvider,
    prepared: &PreparedPdf,
    signer: &Certificate,
) -> Result<Vec<u8>, SealError> {
    let key = signer.public_key()?.algorithm();
    if super::hash_for(key) != prepared.hash {
        return Err(SealError::invalid(format!(
            "the PDF was prepared for a {:?} signer, the certificate holds a {key:?} key",
            prepared.key_algorithm
        )));
    }
    Ok(crate::envelope::cades_signed_attributes(
        provider,
        &prepared.digest,
        prepared.hash,
        signer,
    )?)
}

/// Puts the SignedData together: `signed_attrs` as made by [`signed_attributes`] and the
/// signer's `signature` over them (SM2: DER `SEQUENCE { r, s }`; RSA: PKCS #1 v1.5 with
/// SHA-256; P-256: DER ECDSA with SHA-256). The signer certificate and `chain` are included.
/// Returns the DER ContentInfo for [`super::embed`].
pub fn assemble_cms(
    signer: &Certificate,
    chain: &[Certificate],
    signed_attrs: &[u8],
    signature: &[u8],
) -> Result<Vec<u8>, SealError> {
    let key = signer.public_key()?.algorithm();
    let attrs = SignedAttributes::from_der(signed_attrs).map_err(|e| {
        SealError::Envelope(EnvelopeError::malformed(format!(
            "the signed attributes are not a DER SET OF Attribute ({e})"
        )))
    })?;
    let hash = super::hash_for(key);
    let (signed_oid, sig_alg) = match key {
        PublicKeyAlgorithm::Sm2 => (
            oid::GM_SIGNED_DATA,
            AlgorithmIdentifierOwned {
                oid: oid::SM2_WITH_SM3,
                parameters: None,
            },
        ),
        // rsaEncryption, as Adobe writes it: the widest-read form in PDF validators.
        PublicKeyAlgorithm::Rsa => (
            oid::SIGNED_DATA,
            AlgorithmIdentifierOwned {
                oid: oid::RSA_ENCRYPTION,
                parameters: Some(Any::from(der::asn1::Null)),
            },
        ),
        PublicKeyAlgorithm::EcdsaP256 => (
            oid::SIGNED_DATA,
            AlgorithmIdentifierOwned {
                oid: oid::ECDSA_WITH_SHA256,
                parameters: None,
            },
        ),
    };
    let tbs = signer.x509().tbs_certificate();
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: AlgorithmIdentifierOwned {
            oid: hash_oid(hash),
            parameters: None,
        },
        signed_attrs: Some(attrs),
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
        .insert(AlgorithmIdentifierOwned {
            oid: hash_oid(hash),
            parameters: None,
        })
        .map_err(bad)?;
    let mut infos = SetOfVec::new();
    infos.insert(signer_info).map_err(bad)?;
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: data_oid(key),
            econtent: None,
        },
        certificates: Some(CertificateSet(certs)),
        crls: None,
        signer_infos: SignerInfos(infos),
    };
    ContentInfo {
        content_type: signed_oid,
        content: Any::encode_from(&sd).map_err(bad)?,
    }
    .to_der()
    .map_err(bad)
}

/// Hash-first signing of a prepared PDF: builds the signed attributes, hands their DER to
/// `sign` (the local wallet, or the app's answer), and assembles the CMS around the signature
/// it returns. The result goes to [`super::embed`].
pub fn sign_prepared<F>(
    provider: &dyn CryptoProvider,
    prepared: &PreparedPdf,
    signer: &Certificate,
    chain: &[Certificate],
    sign: F,
) -> Result<Vec<u8>, SealError>
where
    F: FnOnce(&[u8]) -> Result<Vec<u8>, SealError>,
{
    signer.check_purpose(KeyPurpose::Sign)?;
    let attrs = signed_attributes(provider, prepared, signer)?;
    let signature = sign(&attrs)?;
    assemble_cms(signer, chain, &attrs, &signature)
}
