//! Certificates and CRLs with exactly the fields a path-validation test needs (any name,
//! validity, extensions — also broken ones), signed with P-256 through the software CA's
//! signer. Test-only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::str::FromStr;
use std::time::Duration;

use der::asn1::{BitString, OctetString};
use der::oid::AssociatedOid;
use der::{Encode, asn1::ObjectIdentifier};
use x509_cert::builder::{Builder, CertificateBuilder, profile::BuilderProfile};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{DynSignatureAlgorithmIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

use super::{Certificate, Crl};
use crate::crypto::{KeyAlgorithm, PrivateKey, default_provider};
use crate::softca::KeySigner;

pub(crate) const DAY: i64 = 86_400;

pub(crate) fn now() -> i64 {
    crate::qr::unix_now()
}

pub(crate) fn key() -> PrivateKey {
    default_provider().generate_key(KeyAlgorithm::P256).unwrap()
}

pub(crate) fn name(dn: &str) -> Name {
    Name::from_str(dn).unwrap()
}

fn time(unix: i64) -> Time {
    Time::try_from(std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(unix).unwrap()))
        .unwrap()
}

pub(crate) fn ext<T: Encode>(oid: ObjectIdentifier, critical: bool, value: &T) -> Extension {
    raw_ext(oid, critical, value.to_der().unwrap())
}

pub(crate) fn raw_ext(oid: ObjectIdentifier, critical: bool, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value).unwrap(),
    }
}

/// basicConstraints cA (critical) with `path_len`, keyUsage keyCertSign + cRLSign (critical).
pub(crate) fn ca_exts(path_len: Option<u8>) -> Vec<Extension> {
    vec![
        ext(
            BasicConstraints::OID,
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: path_len,
            },
        ),
        ext(
            KeyUsage::OID,
            true,
            &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        ),
    ]
}

/// An end entity's: basicConstraints without cA, keyUsage digitalSignature + nonRepudiation.
pub(crate) fn leaf_exts() -> Vec<Extension> {
    vec![
        ext(
            BasicConstraints::OID,
            true,
            &BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
        ),
        ext(
            KeyUsage::OID,
            true,
            &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
        ),
    ]
}

/// What to put in a certificate.
pub(crate) struct Spec<'a> {
    pub(crate) subject: &'a str,
    pub(crate) issuer: &'a str,
    pub(crate) subject_key: &'a PrivateKey,
    pub(crate) issuer_key: &'a PrivateKey,
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    pub(crate) extensions: Vec<Extension>,
}

impl<'a> Spec<'a> {
    /// Valid from a day ago for a year.
    pub(crate) fn new(
        subject: &'a str,
        subject_key: &'a PrivateKey,
        issuer: &'a str,
        issuer_key: &'a PrivateKey,
        extensions: Vec<Extension>,
    ) -> Self {
        Self {
            subject,
            issuer,
            subject_key,
            issuer_key,
            not_before: now() - DAY,
            not_after: now() + 365 * DAY,
            extensions,
        }
    }

    pub(crate) fn valid(mut self, not_before: i64, not_after: i64) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    pub(crate) fn issue(self) -> Certificate {
        let provider = default_provider();
        let spki = <SubjectPublicKeyInfoOwned as der::Decode>::from_der(
            &self.subject_key.public_key().to_spki_der().unwrap(),
        )
        .unwrap();
        let profile = Profile {
            subject: name(self.subject),
            issuer: name(self.issuer),
            extensions: self.extensions,
        };
        let mut serial = [0u8; 12];
        provider.fill_random(&mut serial).unwrap();
        serial[0] = (serial[0] & 0x7f) | 0x10;
        let mut builder = CertificateBuilder::new(
            profile,
            SerialNumber::new(&serial).unwrap(),
            Validity::new(time(self.not_before), time(self.not_after)),
            spki,
        )
        .unwrap();
        let signer = KeySigner::new(provider.as_ref(), self.issuer_key).unwrap();
        let tbs = builder.finalize(&signer).unwrap();
        let sig = signer.sign(&tbs).unwrap();
        let cert = builder
            .assemble(BitString::from_bytes(&sig).unwrap(), &signer)
            .unwrap();
        Certificate::from_der(&cert.to_der().unwrap()).unwrap()
    }
}

struct Profile {
    subject: Name,
    issuer: Name,
    extensions: Vec<Extension>,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: x509_cert::spki::SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: x509_cert::spki::SubjectPublicKeyInfoRef<'_>,
        _tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

/// A CRL by `issuer` (name and key), valid from an hour ago for a week, listing `revoked`,
/// with `extensions` as given (so a test can leave out or break the cRLNumber).
pub(crate) fn crl(
    issuer: &Certificate,
    issuer_key: &PrivateKey,
    revoked: &[&Certificate],
    extensions: Vec<Extension>,
) -> Crl {
    let provider = default_provider();
    let signer = KeySigner::new(provider.as_ref(), issuer_key).unwrap();
    let algorithm = signer.signature_algorithm_identifier().unwrap();
    let revoked: Vec<x509_cert::crl::RevokedCert> = revoked
        .iter()
        .map(|c| x509_cert::crl::RevokedCert {
            serial_number: c.x509().tbs_certificate().serial_number().clone(),
            revocation_date: time(now() - 3600),
            crl_entry_extensions: None,
        })
        .collect();
    let tbs = x509_cert::crl::TbsCertList {
        version: x509_cert::Version::V2,
        signature: algorithm.clone(),
        issuer: issuer.x509().tbs_certificate().subject().clone(),
        this_update: time(now() - 3600),
        next_update: Some(time(now() + 7 * DAY)),
        revoked_certificates: (!revoked.is_empty()).then_some(revoked),
        crl_extensions: (!extensions.is_empty()).then_some(extensions),
    };
    let sig = signer.sign(&tbs.to_der().unwrap()).unwrap();
    let list = x509_cert::crl::CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(&sig).unwrap(),
    };
    Crl::parse(&list.to_der().unwrap()).unwrap()
}

/// A well-formed cRLNumber extension.
pub(crate) fn crl_number(critical: bool) -> Extension {
    let n = x509_cert::ext::pkix::CrlNumber::try_from(1u32).unwrap();
    ext(x509_cert::ext::pkix::CrlNumber::OID, critical, &n)
}

/// A signer with any algorithm identifier, also an inconsistent one (tests of chain-signature
/// algorithms; the software CA's signer only knows the holders' schemes).
pub(crate) struct TestSigner<'a> {
    spki: Vec<u8>,
    algorithm: x509_cert::spki::AlgorithmIdentifierOwned,
    sign: SignFn<'a>,
}

/// Signs the bytes given (a TBS certificate or CRL), panicking on failure (tests only).
type SignFn<'a> = Box<dyn Fn(&[u8]) -> Vec<u8> + 'a>;

#[derive(Clone)]
pub(crate) struct TestSpki(Vec<u8>);

impl x509_cert::spki::EncodePublicKey for TestSpki {
    fn to_public_key_der(&self) -> x509_cert::spki::Result<der::Document> {
        Ok(der::Document::try_from(self.0.as_slice())?)
    }
}

impl signature::Keypair for TestSigner<'_> {
    type VerifyingKey = TestSpki;
    fn verifying_key(&self) -> TestSpki {
        TestSpki(self.spki.clone())
    }
}

impl DynSignatureAlgorithmIdentifier for TestSigner<'_> {
    fn signature_algorithm_identifier(
        &self,
    ) -> x509_cert::spki::Result<x509_cert::spki::AlgorithmIdentifierOwned> {
        Ok(self.algorithm.clone())
    }
}

/// A fresh P-384 key.
pub(crate) fn p384_key() -> p384::ecdsa::SigningKey {
    let mut bytes = [0u8; 48];
    default_provider().fill_random(&mut bytes).unwrap();
    // Below the group order, so from_slice cannot refuse it.
    bytes[0] &= 0x7f;
    bytes[47] |= 1;
    p384::ecdsa::SigningKey::from_slice(&bytes).unwrap()
}

pub(crate) fn p384_spki(key: &p384::ecdsa::SigningKey) -> Vec<u8> {
    use x509_cert::spki::EncodePublicKey;
    key.verifying_key().to_public_key_der().unwrap().into_vec()
}

/// RSASSA-PSS parameters: `hash`, MGF1 with `mgf_hash`, `salt` (as given, so a test can make
/// them inconsistent).
pub(crate) fn pss_algorithm(
    hash: ObjectIdentifier,
    mgf_hash: ObjectIdentifier,
    salt: u32,
) -> x509_cert::spki::AlgorithmIdentifierOwned {
    use super::algs::{OID_MGF1, PssParams};
    let h = |oid| x509_cert::spki::AlgorithmIdentifierOwned {
        oid,
        parameters: Some(der::asn1::Null.into()),
    };
    let params = PssParams {
        hash: Some(h(hash)),
        mask_gen: Some(x509_cert::spki::AlgorithmIdentifierOwned {
            oid: OID_MGF1,
            parameters: Some(der::Any::encode_from(&h(mgf_hash)).unwrap()),
        }),
        salt_len: Some(salt),
        trailer_field: None,
    };
    x509_cert::spki::AlgorithmIdentifierOwned {
        oid: super::OID_RSASSA_PSS,
        parameters: Some(der::Any::encode_from(&params).unwrap()),
    }
}

impl<'a> TestSigner<'a> {
    /// ecdsa-with-SHA384 by a P-384 key.
    pub(crate) fn p384(key: &'a p384::ecdsa::SigningKey) -> Self {
        use sha2::Digest;
        use signature::hazmat::PrehashSigner;
        Self {
            spki: p384_spki(key),
            algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
                oid: super::OID_ECDSA_WITH_SHA384,
                parameters: None,
            },
            sign: Box::new(move |tbs| {
                let sig: p384::ecdsa::Signature =
                    key.sign_prehash(&sha2::Sha384::digest(tbs)).unwrap();
                sig.to_der().as_bytes().to_vec()
            }),
        }
    }

    /// ecdsa-with-SHA384 by a P-256 key.
    pub(crate) fn p256_sha384(key: &'a PrivateKey) -> Self {
        use sha2::Digest;
        use signature::hazmat::PrehashSigner;
        let PrivateKey::P256(sk) = key else {
            panic!("not a P-256 key")
        };
        let signer = p256::ecdsa::SigningKey::from(sk);
        Self {
            spki: key.public_key().to_spki_der().unwrap(),
            algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
                oid: super::OID_ECDSA_WITH_SHA384,
                parameters: None,
            },
            sign: Box::new(move |tbs| {
                let sig: p256::ecdsa::Signature =
                    signer.sign_prehash(&sha2::Sha384::digest(tbs)).unwrap();
                sig.to_der().as_bytes().to_vec()
            }),
        }
    }

    /// RSASSA-PSS with SHA-384 (`sha384`) or SHA-256, MGF1 with the same hash and a salt of
    /// the hash length — the signature itself is always made that way; `algorithm` is what
    /// the certificate claims (see [`TestSigner::claiming`]).
    pub(crate) fn rsa_pss(key: &'a PrivateKey, sha384: bool) -> Self {
        use sha2::Digest;
        let PrivateKey::Rsa(sk) = key else {
            panic!("not an RSA key")
        };
        let algorithm = if sha384 {
            pss_algorithm(super::algs::OID_SHA384, super::algs::OID_SHA384, 48)
        } else {
            pss_algorithm(super::algs::OID_SHA256, super::algs::OID_SHA256, 32)
        };
        Self {
            spki: key.public_key().to_spki_der().unwrap(),
            algorithm,
            sign: Box::new(move |tbs| {
                let mut rng = getrandom::SysRng;
                if sha384 {
                    let hash = sha2::Sha384::digest(tbs);
                    sk.sign_with_rng(&mut rng, rsa::Pss::<sha2::Sha384>::new_with_salt(48), &hash)
                        .unwrap()
                } else {
                    let hash = sha2::Sha256::digest(tbs);
                    sk.sign_with_rng(&mut rng, rsa::Pss::<sha2::Sha256>::new_with_salt(32), &hash)
                        .unwrap()
                }
            }),
        }
    }

    /// The same signer, putting `algorithm` into what it signs.
    pub(crate) fn claiming(mut self, algorithm: x509_cert::spki::AlgorithmIdentifierOwned) -> Self {
        self.algorithm = algorithm;
        self
    }

    pub(crate) fn spki(&self) -> &[u8] {
        &self.spki
    }
}

/// A certificate for `subject` with the key `subject_spki` (DER SPKI), signed by `signer` as
/// `issuer`, valid from a day ago for a year.
pub(crate) fn issue_by(
    subject: &str,
    subject_spki: &[u8],
    issuer: &str,
    signer: &TestSigner<'_>,
    extensions: Vec<Extension>,
) -> Certificate {
    let spki = <SubjectPublicKeyInfoOwned as der::Decode>::from_der(subject_spki).unwrap();
    let profile = Profile {
        subject: name(subject),
        issuer: name(issuer),
        extensions,
    };
    let mut serial = [0u8; 12];
    default_provider().fill_random(&mut serial).unwrap();
    serial[0] = (serial[0] & 0x7f) | 0x10;
    let mut builder = CertificateBuilder::new(
        profile,
        SerialNumber::new(&serial).unwrap(),
        Validity::new(time(now() - DAY), time(now() + 365 * DAY)),
        spki,
    )
    .unwrap();
    let tbs = builder.finalize(signer).unwrap();
    let sig = (signer.sign)(&tbs);
    let cert = builder
        .assemble(BitString::from_bytes(&sig).unwrap(), signer)
        .unwrap();
    Certificate::from_der(&cert.to_der().unwrap()).unwrap()
}

/// A CRL by `issuer` signed by `signer`, like [`crl`].
pub(crate) fn crl_by(
    issuer: &Certificate,
    signer: &TestSigner<'_>,
    revoked: &[&Certificate],
) -> Crl {
    let algorithm = signer.signature_algorithm_identifier().unwrap();
    let revoked: Vec<x509_cert::crl::RevokedCert> = revoked
        .iter()
        .map(|c| x509_cert::crl::RevokedCert {
            serial_number: c.x509().tbs_certificate().serial_number().clone(),
            revocation_date: time(now() - 3600),
            crl_entry_extensions: None,
        })
        .collect();
    let tbs = x509_cert::crl::TbsCertList {
        version: x509_cert::Version::V2,
        signature: algorithm.clone(),
        issuer: issuer.x509().tbs_certificate().subject().clone(),
        this_update: time(now() - 3600),
        next_update: Some(time(now() + 7 * DAY)),
        revoked_certificates: (!revoked.is_empty()).then_some(revoked),
        crl_extensions: Some(vec![crl_number(false)]),
    };
    let sig = (signer.sign)(&tbs.to_der().unwrap());
    let list = x509_cert::crl::CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(&sig).unwrap(),
    };
    Crl::parse(&list.to_der().unwrap()).unwrap()
}
