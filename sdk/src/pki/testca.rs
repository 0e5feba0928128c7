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
