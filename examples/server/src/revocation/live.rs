//! The server's live revocation sources (`docs/revocation.md`): which of camr's
//! [`camr::pki::RevocationSource`]s the platform asks, in which order, and its login policy.
//!
//! | setting | default | what |
//! |---|---|---|
//! | `revocation.sources` | `ocsp, crl_dp, crl_files` | the order: `vendor` (the answer's vendor's status service, its adapter's `cert_status`; skipped for vendors without a loaded adapter), `ocsp` (the responder in the certificate's authorityInfoAccess), `crl_dp` (the CRL at its distribution point), `crl_files` (the demo CA's CRL and `<data>/crls/`, what `POST /api/v1/admin/crls/reload` refreshes); `none` turns the live check off |
//! | `revocation.login` | `require` | `require`, or `soft_fail`: a login whose status no source can tell goes through, recorded as `revocationUnknown` |
//! | `revocation.refresh_secs` | 300 | how long a fetched CRL or OCSP answer is used before the source is asked again: a freeze or revocation at the CA counts on every instance within this time |
//! | `revocation.grace_secs` | 0 | how long past its nextUpdate a CRL may still be used |
//! | `revocation.ca_certificates` | `best_effort` | the CA certificates above the holder's: `best_effort` (their status counts when a source has it; listed as unchecked otherwise) or `require` |
//!
//! Signature, seal, revoke, encrypt and decrypt always require a status; revoked and frozen
//! refuse every operation.

use std::sync::Arc;

use camr::ceremony::{LiveRevocation, LoginRevocation};
use camr::crypto::CryptoProvider;
use camr::pki::{
    CrlDpSource, CrlFileSource, DEFAULT_REFRESH_SECS, OcspSource, OrderedSources, RevocationPolicy,
    RevocationSource,
};

/// One kind of source, as `revocation.sources` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceName {
    /// `ocsp`.
    Ocsp,
    /// `crl_dp`.
    CrlDp,
    /// `crl_files`.
    CrlFiles,
    /// `vendor`: the adapter's `cert_status`.
    Vendor,
}

impl SourceName {
    /// Parses a `revocation.sources` entry.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "ocsp" => Ok(Self::Ocsp),
            "crl_dp" => Ok(Self::CrlDp),
            "crl_files" => Ok(Self::CrlFiles),
            "vendor" => Ok(Self::Vendor),
            other => Err(format!(
                "`{}` is not a revocation source (vendor, ocsp, crl_dp, crl_files, or none alone)",
                other.chars().take(40).collect::<String>()
            )),
        }
    }

    /// A `revocation.sources` list: names in order, without repeats; `none` alone is empty.
    pub fn parse_list(items: &[String]) -> Result<Vec<Self>, String> {
        if items.len() == 1 && items[0].trim() == "none" {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for item in items {
            let name = Self::parse(item)?;
            if out.contains(&name) {
                return Err(format!("`{}` is named twice", item.trim()));
            }
            out.push(name);
        }
        if out.is_empty() {
            return Err("name at least one source, or `none`".into());
        }
        Ok(out)
    }
}

/// The `revocation.*` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConfig {
    /// The sources, in the order they are asked; empty: no live check.
    pub sources: Vec<SourceName>,
    /// What a login does when no source can tell.
    pub login: LoginRevocation,
    /// Seconds a fetched CRL or OCSP answer is used before asking again.
    pub refresh_secs: u32,
    /// Seconds past nextUpdate a CRL may still be used.
    pub grace_secs: u32,
    /// The CA certificates above the holder's.
    pub ca_certificates: RevocationPolicy,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            sources: vec![SourceName::Ocsp, SourceName::CrlDp, SourceName::CrlFiles],
            login: LoginRevocation::Require,
            refresh_secs: u32::try_from(DEFAULT_REFRESH_SECS).unwrap_or(300),
            grace_secs: 0,
            ca_certificates: RevocationPolicy::BestEffort,
        }
    }
}

impl LiveConfig {
    /// Parses `revocation.login`.
    pub fn parse_login(s: &str) -> Result<LoginRevocation, String> {
        match s.trim() {
            "require" => Ok(LoginRevocation::Require),
            "soft_fail" => Ok(LoginRevocation::SoftFail),
            other => Err(format!(
                "must be \"require\" or \"soft_fail\", not `{}`",
                other.chars().take(40).collect::<String>()
            )),
        }
    }

    /// Parses `revocation.ca_certificates`.
    pub fn parse_ca_policy(s: &str) -> Result<RevocationPolicy, String> {
        match s.trim() {
            "best_effort" => Ok(RevocationPolicy::BestEffort),
            "require" => Ok(RevocationPolicy::Require),
            other => Err(format!(
                "must be \"best_effort\" or \"require\", not `{}`",
                other.chars().take(40).collect::<String>()
            )),
        }
    }

    /// The platform's live check over these sources (`files`: the configured CRLs, shared
    /// with the reload route; `host`: the loaded adapters, for `vendor`), or `None` when no
    /// source is configured. With `vendor` in the list, each loaded vendor gets its own order
    /// with its adapter at that place; other vendors use the list without it.
    pub fn build(
        &self,
        provider: &Arc<dyn CryptoProvider>,
        files: &Arc<CrlFileSource>,
        host: Option<&Arc<camr_plugin_host::PluginHost>>,
    ) -> Option<LiveRevocation> {
        if self.sources.is_empty() {
            return None;
        }
        let http: Arc<dyn camr::pki::HttpFetch> = Arc::new(camr::pki::http::ReqwestFetch);
        let shared: Vec<(SourceName, Arc<dyn RevocationSource>)> = self
            .sources
            .iter()
            .filter_map(|name| {
                let source: Arc<dyn RevocationSource> = match name {
                    SourceName::Ocsp => {
                        let mut s = OcspSource::new(http.clone(), provider.clone());
                        s.refresh_secs = i64::from(self.refresh_secs);
                        Arc::new(s)
                    }
                    SourceName::CrlDp => {
                        let mut s = CrlDpSource::new(http.clone(), provider.clone());
                        s.refresh_secs = i64::from(self.refresh_secs);
                        s.grace_secs = i64::from(self.grace_secs);
                        Arc::new(s)
                    }
                    SourceName::CrlFiles => files.clone(),
                    SourceName::Vendor => return None,
                };
                Some((*name, source))
            })
            .collect();
        let order = |vendor: Option<&str>| -> Arc<dyn RevocationSource> {
            let list = self
                .sources
                .iter()
                .filter_map(|name| match (name, vendor, host) {
                    (SourceName::Vendor, Some(v), Some(h)) => Some(Arc::new(
                        camr_plugin_host::VendorStatusSource::new(h.clone(), v),
                    )
                        as Arc<dyn RevocationSource>),
                    (SourceName::Vendor, ..) => None,
                    (other, ..) => shared
                        .iter()
                        .find(|(n, _)| n == other)
                        .map(|(_, s)| s.clone()),
                });
            Arc::new(OrderedSources(list.collect()))
        };
        let per_vendor = match host {
            Some(h) if self.sources.contains(&SourceName::Vendor) => h
                .vendors()
                .into_iter()
                .map(|v| {
                    let o = order(Some(&v));
                    (v, o)
                })
                .collect(),
            _ => Default::default(),
        };
        Some(LiveRevocation {
            source: order(None),
            per_vendor,
            login: self.login,
            ca_certificates: self.ca_certificates,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn source_lists_parse_in_order_and_refuse_repeats_and_unknown_names() {
        assert_eq!(
            SourceName::parse_list(&list(&["crl_files", "ocsp"])).unwrap(),
            vec![SourceName::CrlFiles, SourceName::Ocsp]
        );
        assert!(SourceName::parse_list(&list(&["none"])).unwrap().is_empty());
        let e = SourceName::parse_list(&list(&["ocsp", "ocsp"])).unwrap_err();
        assert!(e.contains("named twice"), "{e}");
        assert_eq!(
            SourceName::parse_list(&list(&["vendor", "ocsp"])).unwrap(),
            vec![SourceName::Vendor, SourceName::Ocsp]
        );
        let e = SourceName::parse_list(&list(&["ldap"])).unwrap_err();
        assert!(e.contains("not a revocation source"), "{e}");
        assert!(SourceName::parse_list(&[]).is_err());
        assert!(SourceName::parse_list(&list(&["none", "ocsp"])).is_err());
        assert!(LiveConfig::parse_login("maybe").is_err());
        assert_eq!(
            LiveConfig::parse_login("soft_fail").unwrap(),
            LoginRevocation::SoftFail
        );
    }
}
