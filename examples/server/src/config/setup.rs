//! What the configuration sets up at start: the adapters' configurations, the platform key,
//! the signed trust list's roots.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{ServerConfig, ServerError};

/// Hands every adapter its `plugins.config` entry (`configure`), right after loading; an
/// entry for an adapter that is not loaded, or a configuration the adapter refuses, is an
/// error naming the vendor.
pub(crate) fn configure_adapters(
    host: Option<&camr_plugin_host::PluginHost>,
    configs: &BTreeMap<String, serde_json::Value>,
) -> Result<(), ServerError> {
    for (vendor, config) in configs {
        let Some(host) = host.filter(|h| h.info(vendor).is_some()) else {
            let loaded = match host {
                None => "no `plugins.dir` is set".to_string(),
                Some(h) if h.vendors().is_empty() => "no adapter was loaded".to_string(),
                Some(h) => format!("loaded: {}", h.vendors().join(", ")),
            };
            return Err(ServerError(format!(
                "`plugins.config` configures the adapter `{vendor}`, which is not loaded ({loaded})"
            )));
        };
        host.configure(vendor, &config.to_string()).map_err(|e| {
            ServerError(format!(
                "the adapter `{vendor}` refused its `plugins.config` configuration: {e}"
            ))
        })?;
        tracing::info!(ca_org_type = %vendor, "adapter configured");
    }
    Ok(())
}

/// The platform's QR/request key: `config.platform_key` when set (its public key is then
/// written over `pub_path`, so that `platform-pub.pem` always matches), else the demo key.
pub(crate) fn platform_key(
    config: &ServerConfig,
    demo_key: camr::crypto::PrivateKey,
    pub_path: &Path,
) -> Result<camr::crypto::PrivateKey, ServerError> {
    let Some(path) = &config.platform_key else {
        return Ok(demo_key);
    };
    let fail = |e: String| ServerError(format!("platform_key {}: {e}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let key = camr::crypto::PrivateKey::from_pem(&text, None).map_err(|e| fail(e.to_string()))?;
    let pem = key
        .public_key()
        .to_spki_pem()
        .map_err(|e| fail(e.to_string()))?;
    std::fs::write(pub_path, pem)
        .map_err(|e| ServerError(format!("{}: {e}", pub_path.display())))?;
    tracing::info!(path = %path.display(), "platform key from the configuration");
    Ok(key)
}

/// Adds the roots of the configured signed trust list to `trust`: the vendors this platform
/// accepts when the list names it (all its vendors otherwise). The list's signature and
/// freshness are checked with the authority key; a bad list stops the start.
pub(crate) fn add_trust_list(
    provider: &std::sync::Arc<dyn camr::crypto::CryptoProvider>,
    config: &ServerConfig,
    system_code: &camr::protocol::SystemCode,
    trust: &mut camr::pki::TrustStore,
) -> Result<Option<camr::registry::Registry>, ServerError> {
    let Some(t) = &config.trust_list else {
        return Ok(None);
    };
    let fail = |what: &Path, e: String| ServerError(format!("trust_list {}: {e}", what.display()));
    let text = std::fs::read_to_string(&t.path).map_err(|e| fail(&t.path, e.to_string()))?;
    let signed: camr::registry::SignedTrustList =
        serde_json::from_str(&text).map_err(|e| fail(&t.path, e.to_string()))?;
    let pem = std::fs::read_to_string(&t.authority_key)
        .map_err(|e| fail(&t.authority_key, e.to_string()))?;
    let authority = camr::crypto::PublicKey::from_pem(&pem)
        .map_err(|e| fail(&t.authority_key, e.to_string()))?;
    let registry = camr::registry::Registry::verify(
        provider.as_ref(),
        &signed,
        &authority,
        camr::qr::unix_now(),
    )
    .map_err(|e| fail(&t.path, e.to_string()))?;
    let accepted: Option<Vec<String>> = registry
        .platform(system_code)
        .ok()
        .filter(|p| !p.accepted_vendors.is_empty())
        .map(|p| p.accepted_vendors.clone());
    let mut added = Vec::new();
    for v in &registry.list().vendors {
        if accepted
            .as_ref()
            .is_some_and(|a| !a.contains(&v.ca_org_type))
        {
            continue;
        }
        for root in &v.roots {
            let cert = camr::pki::Certificate::from_der(root)
                .map_err(|e| fail(&t.path, format!("vendor {}: {e}", v.ca_org_type)))?;
            trust.add(cert);
        }
        added.push(v.ca_org_type.clone());
    }
    tracing::info!(vendors = ?added, edition = registry.list().version, "trust list roots added");
    Ok(Some(registry))
}
