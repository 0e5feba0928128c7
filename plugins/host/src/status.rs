//! The vendor's view of a certificate's status (`cert_status`, 证书状态: 正常、冻结、吊销) as a
//! camr revocation source: a platform puts it into its order of sources for that vendor
//! (`camr::pki::OrderedSources`), e.g. the vendor first, then OCSP and the CRL.
//!
//! The vendor's answer carries no date and no signature camr could check: "frozen" and
//! "revoked" count from now (a seal made before stays valid by the platform's record), and the
//! evidence names the vendor as its signer. An adapter that does not offer `cert_status`, a
//! failing call or an open circuit breaker is "cannot tell", so the next source is asked.

use std::sync::Arc;

use camr::pki::{
    Certificate, RevocationError, RevocationEvidence, RevocationSource, RevocationStatus,
    SourceKind,
};
use camr_plugin_abi::CertStatus;

use crate::PluginHost;

/// `cert_status` of one vendor's adapter, through the host (its deadline and breaker).
#[derive(Debug, Clone)]
pub struct VendorStatusSource {
    host: Arc<PluginHost>,
    ca_org_type: String,
}

impl VendorStatusSource {
    /// The source asking `ca_org_type`'s adapter in `host`.
    pub fn new(host: Arc<PluginHost>, ca_org_type: impl Into<String>) -> Self {
        Self {
            host,
            ca_org_type: ca_org_type.into(),
        }
    }
}

impl RevocationSource for VendorStatusSource {
    fn status(
        &self,
        cert: &Certificate,
        _issuer: &Certificate,
        now: i64,
    ) -> Result<RevocationEvidence, RevocationError> {
        let answer = self
            .host
            .cert_status(&self.ca_org_type, cert.der())
            .map_err(|e| RevocationError::Unavailable {
                url: format!("the {} adapter (cert_status)", self.ca_org_type),
                reason: e.to_string(),
            })?;
        let status = match answer {
            CertStatus::Good => RevocationStatus::Good,
            CertStatus::Frozen => RevocationStatus::Frozen { at: now },
            CertStatus::Revoked => RevocationStatus::Revoked {
                at: now,
                reason: None,
            },
            CertStatus::Unknown => RevocationStatus::Unknown,
        };
        Ok(RevocationEvidence {
            source: SourceKind::VendorStatus,
            status,
            url: None,
            this_update: now,
            next_update: None,
            produced_at: None,
            crl_number: None,
            signer: self.ca_org_type.clone(),
        })
    }
}
