//! The reference software CA: a root, an issuing intermediate, dual certificates (signing +
//! encryption, GM/T 0015) for personal and organisation holders, revocation and CRLs.
//!
//! It is what tests, the softca adapter and the app simulator use. Its keys live in files
//! (PKCS#8, mode 0600): fine for a reference and test CA, not for production, where the CA
//! keys belong in an HSM.
//!
//! The certificate profile (camr's, documented so adapters can map their vendors' profiles):
//! - subject `C=CN`, `O=<organisation>` (organisation certificates), `CN=<holder>`,
//!   `serialNumber=<identity number>` (身份证号, when given) and
//!   `organizationIdentifier=<unified social credit code>` (统一社会信用代码, organisation
//!   certificates);
//! - signing certificate: keyUsage digitalSignature + nonRepudiation (critical);
//!   encryption certificate: keyEncipherment + dataEncipherment + keyAgreement (critical);
//! - SM2 certificates are signed with SM3withSM2 and the default signer ID.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use der::asn1::{BitString, ObjectIdentifier, OctetString, PrintableStringRef, Utf8StringRef};
use der::{Any, Decode, Encode};
use serde::{Deserialize, Serialize};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::{Builder, CertificateBuilder, profile::BuilderProfile};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef,
};
use x509_cert::time::{Time, Validity};

use crate::crypto::{
    CryptoProvider, HashAlgorithm, KeyAlgorithm, PrivateKey, PublicKeyAlgorithm, SignatureScheme,
};
use crate::pki::names::{OID_ORGANIZATION_IDENTIFIER, OID_SERIAL_NUMBER};
use crate::pki::{
    Certificate, Crl, IdentityDocument, OID_ECDSA_WITH_SHA256, OID_SHA256_WITH_RSA,
    OID_SM3_WITH_SM2,
};
use crate::protocol::ErrorCode;

const ROOT_CERT: &str = "root-cert.pem";
const ROOT_KEY: &str = "root-key.pem";
const CA_CERT: &str = "ca-cert.pem";
const CA_KEY: &str = "ca-key.pem";
const STATE: &str = "state.json";
/// Validity of the root and intermediate, days.
pub const CA_VALIDITY_DAYS: u64 = 3650;
/// Default validity of user certificates, days.
pub const USER_VALIDITY_DAYS: u64 = 365;
/// How long a CRL is fresh, seconds.
pub const CRL_VALIDITY_SECS: u64 = 7 * 24 * 3600;

/// Why a software-CA operation failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaError {
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// The CA folder is not a CA made by `camr ca init`, or it already exists.
    #[error("{0}")]
    BadState(String),
    /// Bad input (name, serial, unified social credit code ...).
    #[error("{0}")]
    Input(String),
    /// A key or signature operation failed.
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    /// Building a certificate failed.
    #[error("cannot build the certificate: {0}")]
    Build(String),
}

impl CaError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Crypto(e) => e.code(),
            Self::Io(_) | Self::Input(_) | Self::BadState(_) => ErrorCode::InputMalformed,
            Self::Build(_) => ErrorCode::Internal,
        }
    }
}

fn io(path: &Path, e: impl std::fmt::Display) -> CaError {
    CaError::Io(format!("{}: {e}", path.display()))
}

fn build(e: impl std::fmt::Display) -> CaError {
    CaError::Build(e.to_string())
}

/// Personal or organisation holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HolderType {
    /// A person (个人).
    Personal,
    /// An organisation (机构/企业), with its unified social credit code.
    Org,
}

/// Who a pair of certificates is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Personal or organisation.
    pub holder_type: HolderType,
    /// Holder's name (CN), e.g. 张三.
    pub name: String,
    /// Organisation name (O), required for [`HolderType::Org`].
    pub organization: Option<String>,
    /// Unified social credit code, required for [`HolderType::Org`].
    pub uscc: Option<String>,
    /// The identity document (证件) the certificate names the holder by: type and number
    /// (resident identity card, passport, travel permits, ...), written to `serialNumber`
    /// as [`IdentityDocument::to_attribute`] says.
    pub identity_number: Option<IdentityDocument>,
}

impl Holder {
    /// A person (个人) named `name`, without an identity document.
    pub fn personal(name: impl Into<String>) -> Self {
        Self {
            holder_type: HolderType::Personal,
            name: name.into(),
            organization: None,
            uscc: None,
            identity_number: None,
        }
    }

    /// `name` of the organisation `organization` (机构/企业) with its unified social credit
    /// code `uscc`, without an identity document.
    pub fn org(
        name: impl Into<String>,
        organization: impl Into<String>,
        uscc: impl Into<String>,
    ) -> Self {
        Self {
            holder_type: HolderType::Org,
            name: name.into(),
            organization: Some(organization.into()),
            uscc: Some(uscc.into()),
            identity_number: None,
        }
    }
}

/// A revocation reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RevocationReason {
    /// Unspecified.
    Unspecified,
    /// The key was compromised.
    KeyCompromise,
    /// Superseded by a new certificate.
    Superseded,
    /// Suspended (冻结): can be lifted.
    CertificateHold,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IssuedRecord {
    serial: String,
    name: String,
    usage: String,
    not_after: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RevokedRecord {
    serial: String,
    revoked_at: i64,
    reason: RevocationReason,
    /// Since when the key is known to be compromised (CRL entry invalidityDate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    invalidity_date: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaState {
    algorithm: String,
    crl_number: u64,
    issued: Vec<IssuedRecord>,
    revoked: Vec<RevokedRecord>,
    /// URLs written into issued certificates (absent in CA folders from before).
    #[serde(default)]
    urls: CaUrls,
}

/// Files of an issued wallet (the app's certificate store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wallet {
    /// Folder.
    pub dir: PathBuf,
    /// Signing certificate serial (hex).
    pub sign_serial: String,
    /// Encryption certificate serial (hex).
    pub enc_serial: String,
}

/// Wallet file names (the app's, [`crate::app::wallet_files`]).
pub use crate::app::wallet_files;

/// A software CA in a folder.
#[derive(Debug)]
pub struct SoftCa {
    provider: Arc<dyn CryptoProvider>,
    dir: PathBuf,
    root: Certificate,
    ca: Certificate,
    ca_key: PrivateKey,
    state: CaState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CertKind {
    Root,
    Intermediate,
    SignLeaf,
    EncLeaf,
    /// An OCSP responder or a time-stamping authority ([`services`]).
    Service(ServiceRole),
}

impl SoftCa {
    /// Creates a CA (root + issuing intermediate) in `dir`, which must not hold one yet.
    pub fn init(
        provider: Arc<dyn CryptoProvider>,
        dir: &Path,
        algorithm: KeyAlgorithm,
        name: &str,
    ) -> Result<Self, CaError> {
        if dir.join(STATE).exists() {
            return Err(CaError::BadState(format!(
                "{} already holds a CA",
                dir.display()
            )));
        }
        check_text("CA name", name)?;
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let root_key = provider.generate_key(algorithm)?;
        let root_name = make_name(&[
            (OID_C, "CN"),
            (OID_O, name),
            (OID_CN, &format!("{name} Root CA")),
        ])?;
        let root = issue_cert(
            provider.as_ref(),
            &root_key,
            &root_key,
            &root_name,
            &root_name,
            CertKind::Root,
            CA_VALIDITY_DAYS,
            &CaUrls::default(),
        )?;
        let ca_key = provider.generate_key(algorithm)?;
        let ca_name = make_name(&[
            (OID_C, "CN"),
            (OID_O, name),
            (OID_CN, &format!("{name} Issuing CA")),
        ])?;
        let ca = issue_cert(
            provider.as_ref(),
            &root_key,
            &ca_key,
            &root_name,
            &ca_name,
            CertKind::Intermediate,
            CA_VALIDITY_DAYS,
            &CaUrls::default(),
        )?;
        write_secret(&dir.join(ROOT_KEY), root_key.to_pkcs8_pem()?.as_bytes())?;
        write_secret(&dir.join(CA_KEY), ca_key.to_pkcs8_pem()?.as_bytes())?;
        write(&dir.join(ROOT_CERT), root.to_pem().as_bytes())?;
        write(&dir.join(CA_CERT), ca.to_pem().as_bytes())?;
        let state = CaState {
            algorithm: format!("{algorithm:?}").to_lowercase(),
            crl_number: 0,
            issued: Vec::new(),
            revoked: Vec::new(),
            urls: CaUrls::default(),
        };
        let ca = Self {
            provider,
            dir: dir.to_path_buf(),
            root,
            ca,
            ca_key,
            state,
        };
        ca.save()?;
        Ok(ca)
    }

    /// Opens a CA made by [`SoftCa::init`].
    pub fn open(provider: Arc<dyn CryptoProvider>, dir: &Path) -> Result<Self, CaError> {
        let state_path = dir.join(STATE);
        let state_text = std::fs::read_to_string(&state_path).map_err(|e| {
            CaError::BadState(format!(
                "{} is not a camr CA folder ({e}); run `camr ca init` first",
                dir.display()
            ))
        })?;
        let state: CaState = serde_json::from_str(&state_text)
            .map_err(|e| CaError::BadState(format!("{}: {e}", state_path.display())))?;
        let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| io(&dir.join(name), e));
        let root = Certificate::parse_one(&read(ROOT_CERT)?)
            .map_err(|e| CaError::BadState(e.to_string()))?;
        let ca = Certificate::parse_one(&read(CA_CERT)?)
            .map_err(|e| CaError::BadState(e.to_string()))?;
        let ca_key = PrivateKey::from_bytes(&zeroize::Zeroizing::new(read(CA_KEY)?), None)?;
        Ok(Self {
            provider,
            dir: dir.to_path_buf(),
            root,
            ca,
            ca_key,
            state,
        })
    }

    /// The root certificate (the trust anchor).
    pub fn root(&self) -> &Certificate {
        &self.root
    }

    /// The issuing intermediate.
    pub fn issuing_ca(&self) -> &Certificate {
        &self.ca
    }

    /// Revokes (or, with [`RevocationReason::CertificateHold`], freezes) a certificate this CA
    /// issued, as of `at` (Unix seconds).
    pub fn revoke(
        &mut self,
        serial: &str,
        reason: RevocationReason,
        at: i64,
    ) -> Result<(), CaError> {
        self.revoke_with_invalidity(serial, reason, at, None)
    }

    /// [`SoftCa::revoke`], with the time since which the key is known or suspected to be
    /// compromised (the CRL entry's invalidityDate, RFC 5280 5.3.2), which may be earlier than
    /// `at`: signatures made after it are not valid at their signing time either.
    pub fn revoke_with_invalidity(
        &mut self,
        serial: &str,
        reason: RevocationReason,
        at: i64,
        invalidity_date: Option<i64>,
    ) -> Result<(), CaError> {
        if invalidity_date.is_some_and(|d| d > at) {
            return Err(CaError::Input(
                "the invalidity date cannot be after the revocation".into(),
            ));
        }
        let serial = normalise_serial(serial)?;
        if !self.state.issued.iter().any(|r| r.serial == serial) {
            return Err(CaError::Input(format!(
                "this CA issued no certificate with serial {serial}"
            )));
        }
        if self.state.revoked.iter().any(|r| r.serial == serial) {
            return Err(CaError::Input(format!(
                "certificate {serial} is already revoked"
            )));
        }
        self.state.revoked.push(RevokedRecord {
            serial,
            revoked_at: at,
            reason,
            invalidity_date,
        });
        self.save()
    }

    /// Lifts a certificateHold (解冻).
    pub fn release_hold(&mut self, serial: &str) -> Result<(), CaError> {
        let serial = normalise_serial(serial)?;
        let before = self.state.revoked.len();
        self.state
            .revoked
            .retain(|r| !(r.serial == serial && r.reason == RevocationReason::CertificateHold));
        if self.state.revoked.len() == before {
            return Err(CaError::Input(format!(
                "certificate {serial} is not on hold"
            )));
        }
        self.save()
    }

    fn save(&self) -> Result<(), CaError> {
        let text = serde_json::to_string_pretty(&self.state).map_err(build)?;
        // Write then rename, so a crash never leaves a half-written state file.
        let tmp = self.dir.join(format!("{STATE}.tmp"));
        write(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, self.dir.join(STATE)).map_err(|e| io(&self.dir, e))
    }
}

const OID_C: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
/// CRL entry invalidityDate (RFC 5280, 5.3.2).
const OID_INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");

fn check_text(what: &str, s: &str) -> Result<(), CaError> {
    if s.trim().is_empty() || s.chars().count() > 64 || s.chars().any(char::is_control) {
        return Err(CaError::Input(format!(
            "the {what} must be 1 to 64 characters without control characters"
        )));
    }
    Ok(())
}

/// Unified social credit code (GB 32100-2015): 18 characters of `0-9A-HJ-NPQRTUWXY`.
pub fn check_uscc(uscc: &str) -> Result<(), CaError> {
    const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    if uscc.len() != 18 || !uscc.chars().all(|c| ALPHABET.contains(c)) {
        return Err(CaError::Input(format!(
            "`{}` is not a unified social credit code (统一社会信用代码): 18 characters of 0-9 and A-Y without I, O, S, V, Z",
            crate::crypto::truncate(uscc, 24)
        )));
    }
    Ok(())
}

/// The subject name of `holder`'s certificates (the profile in the module documentation).
fn holder_name(holder: &Holder) -> Result<Name, CaError> {
    let mut attrs: Vec<(ObjectIdentifier, &str)> = vec![(OID_C, "CN")];
    if let Some(org) = &holder.organization {
        attrs.push((OID_O, org));
    }
    attrs.push((OID_CN, &holder.name));
    let identity = holder
        .identity_number
        .as_ref()
        .map(IdentityDocument::to_attribute);
    if let Some(id) = &identity {
        attrs.push((OID_SERIAL_NUMBER, id));
    }
    if let Some(uscc) = &holder.uscc {
        attrs.push((OID_ORGANIZATION_IDENTIFIER, uscc));
    }
    make_name(&attrs)
}

fn check_holder(h: &Holder) -> Result<(), CaError> {
    check_text("holder name", &h.name)?;
    // The fields are public: a document built by hand is checked again.
    if let Some(id) = &h.identity_number {
        IdentityDocument::from_attribute(&id.to_attribute())
            .ok()
            .filter(|d| d == id)
            .ok_or_else(|| {
                CaError::Input(format!(
                    "`{}` is not a valid {} number",
                    crate::crypto::truncate(&id.number, 24),
                    id.id_type.chinese_name()
                ))
            })?;
    }
    match h.holder_type {
        HolderType::Org => {
            let org = h
                .organization
                .as_deref()
                .ok_or_else(|| CaError::Input("an organisation certificate needs --org".into()))?;
            check_text("organisation", org)?;
            check_uscc(h.uscc.as_deref().ok_or_else(|| {
                CaError::Input("an organisation certificate needs --uscc".into())
            })?)?;
        }
        HolderType::Personal => {
            if h.organization.is_some() || h.uscc.is_some() {
                return Err(CaError::Input(
                    "a personal certificate takes no --org or --uscc".into(),
                ));
            }
        }
    }
    Ok(())
}

fn normalise_serial(serial: &str) -> Result<String, CaError> {
    let s = serial.trim().trim_start_matches("0x").to_ascii_uppercase();
    if s.is_empty() || s.len() > 40 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CaError::Input(format!(
            "`{}` is not a hex serial number",
            crate::crypto::truncate(serial, 48)
        )));
    }
    let trimmed = s.trim_start_matches('0');
    let mut out = if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    };
    if out.len() % 2 == 1 {
        out.insert(0, '0');
    }
    Ok(out)
}

fn make_name(attrs: &[(ObjectIdentifier, &str)]) -> Result<Name, CaError> {
    let mut seq = RdnSequence::default();
    for (oid, value) in attrs {
        check_text("name attribute", value)?;
        // X.520: countryName and serialNumber are PrintableString; the rest UTF8String.
        let any = if *oid == OID_C || *oid == OID_SERIAL_NUMBER {
            Any::encode_from(
                &PrintableStringRef::new(value)
                    .map_err(|_| CaError::Input(format!("`{value}` must be printable ASCII")))?,
            )
        } else {
            Any::encode_from(&Utf8StringRef::new(value).map_err(build)?)
        }
        .map_err(build)?;
        let mut rdn = RelativeDistinguishedName::default();
        rdn.insert(AttributeTypeAndValue {
            oid: *oid,
            value: any,
        })
        .map_err(build)?;
        seq.push(rdn);
    }
    Name::from_der(&seq.to_der().map_err(build)?).map_err(build)
}

fn time_at(unix: i64) -> Result<Time, CaError> {
    let secs = u64::try_from(unix).map_err(|_| CaError::Input("time before 1970".into()))?;
    Time::try_from(std::time::UNIX_EPOCH + Duration::from_secs(secs)).map_err(build)
}

fn random_serial(provider: &dyn CryptoProvider) -> Result<SerialNumber, CaError> {
    let mut bytes = [0u8; 16];
    provider.fill_random(&mut bytes)?;
    bytes[0] = (bytes[0] & 0x7f) | 0x10; // positive, 16 significant bytes
    SerialNumber::new(&bytes).map_err(build)
}

fn write(path: &Path, data: &[u8]) -> Result<(), CaError> {
    std::fs::write(path, data).map_err(|e| io(path, e))
}

fn write_secret(path: &Path, data: &[u8]) -> Result<(), CaError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(|e| io(path, e))?;
    f.write_all(data).map_err(|e| io(path, e))
}

mod crl;
mod issue;
mod ocsp;
mod profile;
mod services;
mod tsa;
mod urls;

pub use ocsp::OCSP_VALIDITY_SECS;
pub(crate) use ocsp::generalized as generalized_time;
#[cfg(test)]
pub(crate) use ocsp::sign_ocsp_response;
pub(crate) use profile::KeySigner;
use profile::{ext, issue_cert, issue_cert_for_spki, key_id};
pub use services::{OID_KP_TIME_STAMPING, ServiceRole};
pub use tsa::TSA_POLICY;
#[cfg(test)]
pub(crate) use tsa::sign_token_with;
pub use urls::{CaUrls, OID_AD_CA_ISSUERS, OID_AD_OCSP};

#[cfg(test)]
mod tests;

/// A fresh SM2 software CA named `name` in `dir/ca`, with the default provider: the CA most
/// tests start from.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn test_ca(dir: &Path, name: &str) -> SoftCa {
    SoftCa::init(
        crate::crypto::default_provider(),
        &dir.join("ca"),
        KeyAlgorithm::Sm2,
        name,
    )
    .unwrap()
}
