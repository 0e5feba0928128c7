//! The signed trust list (registry): which platforms exist (system code, name, QR and
//! request signing keys, request and response URIs) and which CA vendors are trusted
//! (`caOrgType`, name, root certificates, adapter).
//!
//! Apps refuse a QR code whose platform is not listed or whose key does not match, and post
//! answers only to response URIs listed for that platform (threat model #1); platforms
//! trust, per vendor, only the roots listed for it (#5, #6). The list is signed by a
//! registry authority key and expires, so a stolen old copy cannot be replayed forever.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::crypto::{CryptoProvider, PrivateKey, PublicKey, PublicKeyAlgorithm, SignatureScheme};
use crate::pki::{Certificate, TrustStore};
use crate::protocol::{Bytes, ErrorCode, Operation, QrPayload, SubjectType, SystemCode};
use crate::qr::{self, VerifyOptions};

/// A platform's signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformKey {
    /// Key id as written in QR payloads and request objects.
    pub key_id: String,
    /// SubjectPublicKeyInfo, DER.
    pub spki: Bytes,
}

/// A trading platform (交易平台).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformEntry {
    /// System code (系统标识码).
    pub system_code: SystemCode,
    /// Trading system name (交易系统名称), shown by apps.
    pub system_name: String,
    /// Keys that sign its QR codes and request objects.
    pub keys: Vec<PlatformKey>,
    /// Prefixes its request URIs start with.
    pub request_uri_prefixes: Vec<String>,
    /// Response URIs apps may post to.
    pub response_uris: Vec<String>,
    /// CA vendors (caOrgType) it accepts; empty = all listed vendors.
    #[serde(default)]
    pub accepted_vendors: Vec<String>,
    /// Per operation, whether a personal (个人证书) or an organisation certificate (机构证书)
    /// is required; an operation not listed takes either.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<Requirement>,
}

/// A platform's requirement for one operation: the subject type of the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    /// The operation.
    pub operation: Operation,
    /// `personal` or `org`.
    pub subject_type: SubjectType,
}

/// A CA vendor (CA 机构).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorEntry {
    /// Vendor code (`caOrgType`).
    pub ca_org_type: String,
    /// Vendor name.
    pub name: String,
    /// Root certificates, DER.
    pub roots: Vec<Bytes>,
    /// Adapter file name (`*.so`) or identifier, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
    /// The vendor's organisation certificates are used by staff only under a delegation
    /// (证书授权: e.g. GDCA 数信签, BJCA co-signing, where the vendor's cloud holds the
    /// organisation's key and hands out delegations): a platform refuses an
    /// organisation-certificate answer of this vendor that carries none.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub org_certs_delegated: bool,
}

/// The trust list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustList {
    /// Increases with every edition.
    pub version: u64,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds; an expired list is refused.
    pub expires_at: i64,
    /// Platforms.
    pub platforms: Vec<PlatformEntry>,
    /// CA vendors.
    pub vendors: Vec<VendorEntry>,
}

/// A trust list with the registry authority's signature over its exact JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedTrustList {
    /// Exact JSON text of the [`TrustList`].
    pub trust_list: String,
    /// The authority key's id.
    pub key_id: String,
    /// Signature over the UTF-8 bytes of `trust_list`.
    pub signature: Bytes,
}

/// Why a registry check failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The list's signature, form or freshness is wrong.
    #[error("the trust list is not valid: {0}")]
    Invalid(String),
    /// The platform is not in the list.
    #[error("platform {0} is not in the trust list; do not answer its QR code")]
    UnknownPlatform(String),
    /// The platform is listed, but not with this key or URI.
    #[error("platform {system_code} does not use {what}; the QR code may be a phishing copy")]
    NotThePlatforms {
        /// The platform.
        system_code: String,
        /// Which key id or URI.
        what: String,
    },
    /// The vendor is not in the list or not accepted by the platform.
    #[error("CA vendor `{0}` is not trusted here")]
    UnknownVendor(String),
    /// A QR check failed.
    #[error(transparent)]
    Qr(#[from] qr::QrError),
}

impl RegistryError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(_) => ErrorCode::RegistryInvalid,
            Self::UnknownPlatform(_) | Self::NotThePlatforms { .. } => ErrorCode::PlatformUnknown,
            Self::UnknownVendor(_) => ErrorCode::CertNotEntitled,
            Self::Qr(e) => e.code(),
        }
    }
}

/// Signs a trust list with the registry authority's key.
pub fn sign(
    provider: &dyn CryptoProvider,
    list: &TrustList,
    key: &PrivateKey,
    key_id: &str,
) -> crate::Result<SignedTrustList> {
    let text = serde_json::to_string_pretty(list)
        .map_err(|e| RegistryError::Invalid(e.to_string()))
        .map_err(to_err)?;
    let signature = provider.sign(
        key,
        &SignatureScheme::default_for(key.algorithm()),
        text.as_bytes(),
    )?;
    Ok(SignedTrustList {
        trust_list: text,
        key_id: key_id.to_string(),
        signature: Bytes(signature),
    })
}

fn to_err(e: RegistryError) -> crate::Error {
    crate::Error::Registry(e)
}

/// A verified trust list, with lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    list: TrustList,
}

impl Registry {
    /// Verifies the authority's signature and the list's freshness at `now`.
    pub fn verify(
        provider: &dyn CryptoProvider,
        signed: &SignedTrustList,
        authority: &PublicKey,
        now: i64,
    ) -> Result<Self, RegistryError> {
        provider
            .verify(
                authority,
                &SignatureScheme::default_for(authority.algorithm()),
                signed.trust_list.as_bytes(),
                &signed.signature,
            )
            .map_err(|_| {
                RegistryError::Invalid(
                    "its signature does not verify with the registry authority key".into(),
                )
            })?;
        let list: TrustList = serde_json::from_str(&signed.trust_list)
            .map_err(|e| RegistryError::Invalid(crate::crypto::truncate(&e.to_string(), 200)))?;
        if now > list.expires_at {
            return Err(RegistryError::Invalid(format!(
                "it expired at {} (edition {})",
                list.expires_at, list.version
            )));
        }
        for v in &list.vendors {
            for r in &v.roots {
                Certificate::from_der(r).map_err(|e| {
                    RegistryError::Invalid(format!("vendor {}: {e}", v.ca_org_type))
                })?;
            }
        }
        Ok(Self { list })
    }

    /// The list.
    pub fn list(&self) -> &TrustList {
        &self.list
    }

    /// The platform with this system code.
    pub fn platform(&self, system_code: &SystemCode) -> Result<&PlatformEntry, RegistryError> {
        self.list
            .platforms
            .iter()
            .find(|p| &p.system_code == system_code)
            .ok_or_else(|| RegistryError::UnknownPlatform(system_code.to_string()))
    }

    /// The public key a platform signs with under `key_id`.
    pub fn platform_key(
        &self,
        system_code: &SystemCode,
        key_id: &str,
    ) -> Result<PublicKey, RegistryError> {
        let p = self.platform(system_code)?;
        let k = p.keys.iter().find(|k| k.key_id == key_id).ok_or_else(|| {
            RegistryError::NotThePlatforms {
                system_code: system_code.to_string(),
                what: format!("key `{}`", crate::crypto::truncate(key_id, 20)),
            }
        })?;
        PublicKey::from_spki_der(&k.spki).map_err(|e| RegistryError::Invalid(e.to_string()))
    }

    /// The app's check of a scanned QR code: a listed platform, its key, its request URI,
    /// a valid signature and a live expiry. Returns the payload and the platform's name.
    pub fn check_qr(
        &self,
        provider: &dyn CryptoProvider,
        text: &str,
        options: VerifyOptions,
    ) -> Result<(QrPayload, String), RegistryError> {
        self.check_qr_via(&qr::Camr1, provider, text, options)
    }

    /// [`Registry::check_qr`] for a code of QR profile `profile` (二维码类型).
    pub fn check_qr_via(
        &self,
        profile: &dyn qr::QrProfile,
        provider: &dyn CryptoProvider,
        text: &str,
        options: VerifyOptions,
    ) -> Result<(QrPayload, String), RegistryError> {
        let payload = profile.parse(text)?;
        let system_code = payload.system_code();
        let platform = self.platform(&system_code)?;
        let key = self.platform_key(&system_code, &payload.key_id)?;
        if !platform
            .request_uri_prefixes
            .iter()
            .any(|p| payload.request_uri.starts_with(p.as_str()))
        {
            return Err(RegistryError::NotThePlatforms {
                system_code: system_code.to_string(),
                what: format!(
                    "the request URI {}",
                    crate::crypto::truncate(&payload.request_uri, 80)
                ),
            });
        }
        profile.verify(provider, &payload, &key, options)?;
        Ok((payload, platform.system_name.clone()))
    }

    /// Whether apps may post answers for `system_code` to `uri`.
    pub fn check_response_uri(
        &self,
        system_code: &SystemCode,
        uri: &str,
    ) -> Result<(), RegistryError> {
        let p = self.platform(system_code)?;
        if p.response_uris.iter().any(|u| u == uri) {
            Ok(())
        } else {
            Err(RegistryError::NotThePlatforms {
                system_code: system_code.to_string(),
                what: format!("the response URI {}", crate::crypto::truncate(uri, 80)),
            })
        }
    }

    /// The roots a platform trusts for a vendor (only if the platform accepts that vendor).
    pub fn vendor_roots(
        &self,
        system_code: &SystemCode,
        ca_org_type: &str,
    ) -> Result<TrustStore, RegistryError> {
        let p = self.platform(system_code)?;
        if !p.accepted_vendors.is_empty() && !p.accepted_vendors.iter().any(|v| v == ca_org_type) {
            return Err(RegistryError::UnknownVendor(ca_org_type.to_string()));
        }
        let v = self
            .list
            .vendors
            .iter()
            .find(|v| v.ca_org_type == ca_org_type)
            .ok_or_else(|| RegistryError::UnknownVendor(ca_org_type.to_string()))?;
        let mut store = TrustStore::new();
        for r in &v.roots {
            store.add(Certificate::from_der(r).map_err(|e| RegistryError::Invalid(e.to_string()))?);
        }
        Ok(store)
    }
}

/// The algorithm family of a registry key (for display).
pub fn key_algorithm(spki: &[u8]) -> Option<PublicKeyAlgorithm> {
    PublicKey::from_spki_der(spki).ok().map(|k| k.algorithm())
}

#[cfg(test)]
mod tests;
