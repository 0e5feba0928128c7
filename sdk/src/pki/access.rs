//! Where a certificate says its revocation information is: cRLDistributionPoints (RFC 5280
//! 4.2.1.13) and authorityInfoAccess (4.2.2.1), as URLs.

use der::asn1::ObjectIdentifier;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints};

use super::Certificate;

const OID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
const OID_AD_CA_ISSUERS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");

fn http_uri(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::UniformResourceIdentifier(u) => {
            let s = u.as_str();
            (s.starts_with("http://") || s.starts_with("https://")).then(|| s.to_string())
        }
        _ => None,
    }
}

impl Certificate {
    /// The http(s) URLs of its CRL distribution points (full names only; LDAP and relative
    /// names are left out). Empty when there are none or the extension does not decode.
    pub fn crl_urls(&self) -> Vec<String> {
        let Ok(Some((_, dps))) = self
            .x509()
            .tbs_certificate()
            .get_extension::<CrlDistributionPoints>()
        else {
            return Vec::new();
        };
        dps.0
            .iter()
            .filter_map(|dp| match &dp.distribution_point {
                Some(DistributionPointName::FullName(names)) => Some(names),
                _ => None,
            })
            .flatten()
            .filter_map(http_uri)
            .collect()
    }

    /// The http(s) URLs of its OCSP responders (authorityInfoAccess id-ad-ocsp).
    pub fn ocsp_urls(&self) -> Vec<String> {
        self.access_urls(OID_AD_OCSP)
    }

    /// The http(s) URLs of its issuer's certificate (authorityInfoAccess id-ad-caIssuers).
    pub fn ca_issuers_urls(&self) -> Vec<String> {
        self.access_urls(OID_AD_CA_ISSUERS)
    }

    fn access_urls(&self, method: ObjectIdentifier) -> Vec<String> {
        let Ok(Some((_, aia))) = self
            .x509()
            .tbs_certificate()
            .get_extension::<AuthorityInfoAccessSyntax>()
        else {
            return Vec::new();
        };
        aia.0
            .iter()
            .filter(|a| a.access_method == method)
            .filter_map(|a| http_uri(&a.access_location))
            .collect()
    }
}
