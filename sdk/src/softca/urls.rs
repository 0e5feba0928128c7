//! Where relying parties find the CA's revocation information: the URLs the software CA
//! writes into every certificate it issues (RFC 5280 4.2.1.13 cRLDistributionPoints, 4.2.2.1
//! authorityInfoAccess with id-ad-ocsp and id-ad-caIssuers).

use der::asn1::{Ia5String, ObjectIdentifier};
use der::oid::AssociatedOid;
use serde::{Deserialize, Serialize};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax, CrlDistributionPoints};

use super::{CaError, SoftCa, ext};

/// id-ad-ocsp (RFC 5280 4.2.2.1).
pub const OID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
/// id-ad-caIssuers (RFC 5280 4.2.2.1).
pub const OID_AD_CA_ISSUERS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");

/// The CA's published URLs; each, when set, goes into every certificate issued from then on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaUrls {
    /// Where the issuing CA's current CRL is (DER over HTTP, e.g. softca-cloud `GET /crl`):
    /// cRLDistributionPoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_url: Option<String>,
    /// The OCSP responder (e.g. softca-cloud `POST /ocsp`): authorityInfoAccess id-ad-ocsp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_url: Option<String>,
    /// Where the issuing CA's certificate is (DER): authorityInfoAccess id-ad-caIssuers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_issuers_url: Option<String>,
}

fn uri(url: &str) -> Result<GeneralName, CaError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 512 {
        return Err(CaError::Input(format!(
            "`{}` is not an http(s) URL of at most 512 characters",
            crate::crypto::truncate(url, 64)
        )));
    }
    Ia5String::new(url)
        .map(GeneralName::UniformResourceIdentifier)
        .map_err(|_| CaError::Input("a URL must be ASCII".into()))
}

impl CaUrls {
    /// Checks every URL (http or https, ASCII, at most 512 characters).
    pub fn check(&self) -> Result<(), CaError> {
        for url in [&self.crl_url, &self.ocsp_url, &self.ca_issuers_url]
            .into_iter()
            .flatten()
        {
            uri(url)?;
        }
        Ok(())
    }

    /// The cRLDistributionPoints and authorityInfoAccess extensions (non-critical), for the
    /// URLs set.
    pub(super) fn extensions(&self) -> Result<Vec<Extension>, CaError> {
        let mut out = Vec::new();
        if let Some(url) = &self.crl_url {
            let dp = DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![uri(url)?])),
                reasons: None,
                crl_issuer: None,
            };
            out.push(
                ext(
                    CrlDistributionPoints::OID,
                    false,
                    &CrlDistributionPoints(vec![dp]),
                )
                .map_err(|e| CaError::Build(e.to_string()))?,
            );
        }
        let mut access = Vec::new();
        for (method, url) in [
            (OID_AD_OCSP, &self.ocsp_url),
            (OID_AD_CA_ISSUERS, &self.ca_issuers_url),
        ] {
            if let Some(url) = url {
                access.push(AccessDescription {
                    access_method: method,
                    access_location: uri(url)?,
                });
            }
        }
        if !access.is_empty() {
            out.push(
                ext(
                    AuthorityInfoAccessSyntax::OID,
                    false,
                    &AuthorityInfoAccessSyntax(access),
                )
                .map_err(|e| CaError::Build(e.to_string()))?,
            );
        }
        Ok(out)
    }
}

impl SoftCa {
    /// The URLs written into the certificates this CA issues.
    pub fn urls(&self) -> &CaUrls {
        &self.state.urls
    }

    /// Sets (and saves) the URLs written into the certificates issued from now on (`camr ca
    /// init --crl-url URL --ocsp-url URL`); certificates issued before keep theirs.
    pub fn set_urls(&mut self, urls: CaUrls) -> Result<(), CaError> {
        urls.check()?;
        self.state.urls = urls;
        self.save()
    }
}
