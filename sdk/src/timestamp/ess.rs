//! ESS signingCertificate (RFC 2634 5.4) and signingCertificateV2 (RFC 5035): the signed
//! attribute that binds a time-stamp token to its TSA's certificate (RFC 3161 2.4.2, RFC
//! 5816), so another certificate with the same key cannot be substituted.

use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::crypto::{CryptoProvider, HashAlgorithm};
use crate::envelope::ATTR_SIGNING_CERTIFICATE_V2;
use crate::pki::Certificate;

/// id-aa-signingCertificate (RFC 2634): ESSCertID with a SHA-1 hash.
const ATTR_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");

#[derive(Clone, Debug, der::Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

#[derive(Clone, Debug, der::Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

#[derive(Clone, Debug, der::Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

#[derive(Clone, Debug, der::Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// The first ESSCertID(v2) of the signed attributes names `signer` (its hash over the DER of
/// the certificate); one of the two attributes must be there.
pub(super) fn check_signing_certificate(
    provider: &dyn CryptoProvider,
    attrs: &SetOfVec<Attribute>,
    signer: &Certificate,
) -> Result<(), String> {
    let first = |oid: ObjectIdentifier| {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
            .and_then(|v| v.to_der().ok())
    };
    if let Some(der) = first(ATTR_SIGNING_CERTIFICATE_V2) {
        let sc = SigningCertificateV2::from_der(&der)
            .map_err(|e| format!("bad signingCertificateV2 ({e})"))?;
        let id = sc.certs.first().ok_or("an empty signingCertificateV2")?;
        let hash = match &id.hash_algorithm {
            None => HashAlgorithm::Sha256,
            Some(a) => crate::envelope::digest_of_oid(&a.oid)
                .ok_or_else(|| format!("signingCertificateV2 with hash {}", a.oid))?,
        };
        return same(
            id.cert_hash.as_bytes(),
            &provider.digest(hash, signer.der()),
        );
    }
    if let Some(der) = first(ATTR_SIGNING_CERTIFICATE) {
        let sc = SigningCertificate::from_der(&der)
            .map_err(|e| format!("bad signingCertificate ({e})"))?;
        let id = sc.certs.first().ok_or("an empty signingCertificate")?;
        let sha1: Vec<u8> = <sha1::Sha1 as sha1::Digest>::digest(signer.der()).to_vec();
        return same(id.cert_hash.as_bytes(), &sha1);
    }
    Err("neither signingCertificate nor signingCertificateV2 (RFC 3161 2.4.2)".into())
}

fn same(named: &[u8], actual: &[u8]) -> Result<(), String> {
    if named == actual {
        Ok(())
    } else {
        Err("the signing certificate attribute names another certificate".into())
    }
}
