//! Service certificates of the software CA: an OCSP-signing responder and a time-stamping
//! authority, each a key and a certificate issued by the issuing CA, kept in the CA folder and
//! made on first use (a CA folder from before has none).

use der::oid::AssociatedOid;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsages};

use super::{
    CA_VALIDITY_DAYS, CaError, CertKind, OID_C, OID_CN, OID_O, SoftCa, ext, io, issue_cert,
    make_name, write, write_secret,
};
use crate::crypto::{KeyAlgorithm, PrivateKey, PublicKeyAlgorithm};
use crate::pki::Certificate;
use crate::pki::names::common_name;

pub use crate::timestamp::OID_KP_TIME_STAMPING;

/// What a service certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceRole {
    /// A delegated OCSP responder: extended key usage id-kp-OCSPSigning (RFC 6960 4.2.2.2).
    OcspSigning,
    /// A time-stamping authority: extended key usage id-kp-timeStamping, critical, and nothing
    /// else (RFC 3161 2.3).
    TimeStamping,
}

impl ServiceRole {
    fn file_stem(self) -> &'static str {
        match self {
            Self::OcspSigning => "ocsp",
            Self::TimeStamping => "tsa",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::OcspSigning => "OCSP Responder",
            Self::TimeStamping => "Time Stamping Authority",
        }
    }

    pub(super) fn key_usage(self) -> der::flagset::FlagSet<KeyUsages> {
        match self {
            Self::OcspSigning => KeyUsages::DigitalSignature.into(),
            Self::TimeStamping => KeyUsages::DigitalSignature | KeyUsages::NonRepudiation,
        }
    }

    pub(super) fn extended_key_usage(self) -> x509_cert::builder::Result<Extension> {
        let (oid, critical) = match self {
            Self::OcspSigning => (crate::pki::ocsp::OID_KP_OCSP_SIGNING, false),
            Self::TimeStamping => (OID_KP_TIME_STAMPING, true),
        };
        ext(
            ExtendedKeyUsage::OID,
            critical,
            &ExtendedKeyUsage(vec![oid]),
        )
    }
}

impl SoftCa {
    /// The certificate and key of the CA's `role` service, issued by the issuing CA (and
    /// written to the CA folder) on first use.
    pub fn service_identity(
        &self,
        role: ServiceRole,
    ) -> Result<(Certificate, PrivateKey), CaError> {
        let stem = role.file_stem();
        let cert_path = self.dir.join(format!("{stem}-cert.pem"));
        let key_path = self.dir.join(format!("{stem}-key.pem"));
        if cert_path.exists() && key_path.exists() {
            let cert_pem = std::fs::read(&cert_path).map_err(|e| io(&cert_path, e))?;
            let cert =
                Certificate::parse_one(&cert_pem).map_err(|e| CaError::BadState(e.to_string()))?;
            let key_pem =
                zeroize::Zeroizing::new(std::fs::read(&key_path).map_err(|e| io(&key_path, e))?);
            let key = PrivateKey::from_bytes(&key_pem, None)?;
            return Ok((cert, key));
        }
        let algorithm = match self.ca_key.algorithm() {
            PublicKeyAlgorithm::Sm2 => KeyAlgorithm::Sm2,
            PublicKeyAlgorithm::EcdsaP256 => KeyAlgorithm::P256,
            PublicKeyAlgorithm::Rsa => KeyAlgorithm::Rsa2048,
        };
        let key = self.provider.generate_key(algorithm)?;
        let issuer = self.ca.x509().tbs_certificate().subject().clone();
        let org = common_name(&issuer).replace(" Issuing CA", "");
        let subject = make_name(&[
            (OID_C, "CN"),
            (OID_O, &org),
            (OID_CN, &format!("{org} {}", role.name())),
        ])?;
        let cert = issue_cert(
            self.provider.as_ref(),
            &self.ca_key,
            &key,
            &issuer,
            &subject,
            CertKind::Service(role),
            CA_VALIDITY_DAYS / 2,
            &self.state.urls,
        )?;
        write_secret(&key_path, key.to_pkcs8_pem()?.as_bytes())?;
        write(&cert_path, cert.to_pem().as_bytes())?;
        Ok((cert, key))
    }
}
