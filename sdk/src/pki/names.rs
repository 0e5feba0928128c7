//! Distinguished names: comparison for chaining, and the identity (`Subject`) a certificate
//! states.

use der::asn1::ObjectIdentifier;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use x509_cert::ext::pkix::name::DirectoryString;
use x509_cert::name::Name;

use super::Certificate;
use super::identity::{IdentityDocument, IdentityType};
use crate::protocol::{CertType, SubjectType};

const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
/// `serialNumber` attribute: camr's software CA writes the holder's identity number here.
pub const OID_SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
/// `organizationIdentifier` (X.520): camr's software CA writes the unified social credit
/// code (统一社会信用代码) here.
pub const OID_ORGANIZATION_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.97");

/// The identity a certificate states, in the national usage-record terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    /// Holder's name (subject CN), e.g. 张三 (`certName`).
    pub name: String,
    /// Organisation (subject O), for organisation certificates.
    pub organization: Option<String>,
    /// `personalCert` or `orgCert`.
    pub cert_type: CertType,
    /// `personal` or `org`.
    pub subject_type: SubjectType,
    /// Identity number (身份证号, or the number of the document `identity_type` names) when
    /// the certificate states one (`serialNumber`); a number in no known format is given as
    /// written, without a type.
    pub identity_number: Option<String>,
    /// The kind of identity document (证件类型) the number belongs to, when recognised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_type: Option<IdentityType>,
    /// The issuing country of a passport (ISO 3166-1 alpha-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_country: Option<String>,
    /// Unified social credit code (统一社会信用代码) when the certificate states one.
    pub uscc: Option<String>,
    /// Serial number, upper-case hex (`certSn`).
    pub cert_sn: String,
    /// The issuing CA (issuer O, else CN): the CA vendor.
    pub issuer: String,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
}

impl Subject {
    pub(crate) fn from_certificate(cert: &Certificate) -> Self {
        let tbs = cert.x509().tbs_certificate();
        let subject = tbs.subject();
        let organization = attr(subject, OID_O);
        let uscc = attr(subject, OID_ORGANIZATION_IDENTIFIER);
        let is_org = organization.is_some() || uscc.is_some();
        let (not_before, not_after) = cert.validity();
        let serial_number = attr(subject, OID_SERIAL_NUMBER);
        let document = serial_number
            .as_deref()
            .and_then(|t| IdentityDocument::from_attribute(t).ok());
        Self {
            name: common_name(subject),
            organization,
            cert_type: if is_org {
                CertType::OrgCert
            } else {
                CertType::PersonalCert
            },
            subject_type: if is_org {
                SubjectType::Org
            } else {
                SubjectType::Personal
            },
            identity_type: document.as_ref().map(|d| d.id_type),
            identity_country: document.as_ref().and_then(|d| d.country.clone()),
            identity_number: document.map(|d| d.number).or(serial_number),
            uscc,
            cert_sn: cert.serial_hex(),
            issuer: attr(tbs.issuer(), OID_O).unwrap_or_else(|| common_name(tbs.issuer())),
            not_before,
            not_after,
        }
    }
}

/// The first value of attribute `oid` in `name`, as text.
pub(crate) fn attr(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.iter()
        .find(|atv| atv.oid == oid)
        .and_then(|atv| value_text(&atv.value))
}

pub(crate) fn common_name(name: &Name) -> String {
    attr(name, OID_CN).unwrap_or_default()
}

fn value_text(value: &der::Any) -> Option<String> {
    if let Ok(ds) = DirectoryString::try_from(value) {
        return Some(ds.value().into_owned());
    }
    value
        .decode_as::<der::asn1::Ia5String>()
        .ok()
        .map(|s| s.to_string())
}

/// RFC 5280 7.1 name matching, simplified as RFC 4518 suggests for the common string
/// types: attribute values that are strings compare case-insensitively with inner whitespace
/// collapsed and outer whitespace removed; anything else compares by its DER encoding.
pub fn names_match(a: &Name, b: &Name) -> bool {
    NameKey::of(a) == NameKey::of(b)
}

/// Whether `name` lies in the subtree `base` (RFC 5280 4.2.1.10 directoryName): the RDNs of
/// `base` are the first RDNs of `name`, compared as [`names_match`] does.
pub(crate) fn within_subtree(base: &Name, name: &Name) -> bool {
    let (base, name) = (NameKey::of(base), NameKey::of(name));
    base.0.len() <= name.0.len() && base.0.iter().zip(&name.0).all(|(x, y)| x == y)
}

/// A distinguished name in the form [`names_match`] compares: per RDN, its attributes as
/// (type, normalised text or DER), sorted (an RDN is a set). Two names match exactly when
/// their keys are equal, so path building can index candidates by subject instead of
/// comparing every certificate offered with every issuer name it looks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct NameKey(Vec<Vec<(ObjectIdentifier, AttrValue)>>);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum AttrValue {
    Text(String),
    Der(Vec<u8>),
}

impl NameKey {
    pub(crate) fn of(name: &Name) -> Self {
        Self(
            name.iter_rdn()
                .map(|rdn| {
                    let mut atvs: Vec<_> = rdn
                        .iter()
                        .map(|atv| {
                            let value = match value_text(&atv.value) {
                                Some(t) => AttrValue::Text(normalise(&t)),
                                None => AttrValue::Der(
                                    der::Encode::to_der(&atv.value).unwrap_or_default(),
                                ),
                            };
                            (atv.oid, value)
                        })
                        .collect();
                    atvs.sort();
                    atvs
                })
                .collect(),
        )
    }
}

fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}
