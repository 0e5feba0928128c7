//! # camr-adapter-kit — what CA-vendor adapters share
//!
//! Every adapter that talks to its vendor's cloud needs the same few things, written once here
//! (an `rlib` with no exported symbols, so any number of adapter `cdylib`s can link it):
//!
//! - [`CloudConfig`]: the configuration every adapter accepts, `{"cloudUrl": "http://…",
//!   "timeoutMs": 5000}` (both optional; unknown fields ignored, so an adapter may add its own).
//! - [`Cloud`]: a blocking HTTP client for the cloud with the configured timeout, bodies
//!   bounded to [`MAX_CLOUD_BODY`], and transport failures mapped to the ABI's codes
//!   (`ADAPTER_TIMEOUT`, `ADAPTER_UNAVAILABLE`, `ADAPTER_FAILED`; a 4xx answer is
//!   `INPUT_MALFORMED`: the caller asked for something the cloud does not have).
//! - [`CloudSlot`]: the configured cloud behind a lock, `ADAPTER_UNAVAILABLE` until configured.
//! - [`status_from_crl`]: a certificate's status (good, frozen, revoked) in the vendor's CRL,
//!   whose signature (by the vendor's issuing CA) and freshness are checked first.
//! - [`url_component`]: percent-encoding for query values.
//! - [`calls`]: the outbound calls every camr vendor cloud answers alike (the routes of
//!   `softca-cloud`, which the vendor cloud simulators reuse): encryption certificate,
//!   certificate status, push tasks, usage reports, seals — so an adapter's `AdapterImpl`
//!   methods are one line each where its vendor does not differ.
//! - [`packet`]: the mapping from a JSON-packet vendor's answer to camr's evidence and back,
//!   which the vendors' wire crates (`camr-epoint-wire`, `camr-xjca-wire`) fill with their
//!   own field names.
//! - [`vendor`]: the whole `AdapterImpl` of a vendor whose cloud answers these calls and whose
//!   only own part is its wire format ([`vendor::CloudAdapter`]).
#![forbid(unsafe_code)]

use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use camr::pki::{Certificate, Crl};
use camr_plugin_abi::{AdapterError, CertStatus, codes};
use serde::Deserialize;

/// Largest body read from a cloud (4 MiB).
pub const MAX_CLOUD_BODY: u64 = 4 * 1024 * 1024;
/// Timeout of outbound calls when the configuration names none.
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;

/// The configuration every adapter accepts; unknown fields are ignored.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudConfig {
    /// The vendor cloud's base URL.
    #[serde(default)]
    pub cloud_url: Option<String>,
    /// Timeout of each call, milliseconds.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

impl CloudConfig {
    /// Parses an adapter's configuration JSON (`INPUT_MALFORMED` when it is not JSON).
    pub fn parse(config_json: &str) -> Result<Self, AdapterError> {
        serde_json::from_str(config_json)
            .map_err(|e| AdapterError::malformed(format!("bad configuration ({e})")))
    }
}

/// Installs rustls' ring provider once per library (reqwest is built with
/// `rustls-no-provider`). A provider installed earlier by someone else is fine.
pub fn install_crypto_provider() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A vendor's cloud: base URL and client.
#[derive(Debug)]
pub struct Cloud {
    vendor: String,
    base: String,
    client: reqwest::blocking::Client,
}

impl Cloud {
    /// The cloud the configuration names (`None` without `cloudUrl`); `vendor` names it in
    /// messages ("the BJCA cloud did not answer …").
    pub fn from_config(vendor: &str, config: &CloudConfig) -> Result<Option<Self>, AdapterError> {
        let Some(base) = config.cloud_url.clone() else {
            return Ok(None);
        };
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(AdapterError::malformed(format!(
                "`cloudUrl` must be an http(s) URL, not `{}`",
                base.chars().take(80).collect::<String>()
            )));
        }
        install_crypto_provider();
        let timeout = Duration::from_millis(config.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS).max(1));
        let client = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| AdapterError::failed(format!("cannot build the HTTP client ({e})")))?;
        Ok(Some(Self {
            vendor: vendor.to_string(),
            base,
            client,
        }))
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.trim_end_matches('/'))
    }

    /// The underlying client, for requests the helpers below do not cover.
    pub fn client(&self) -> &reqwest::blocking::Client {
        &self.client
    }

    /// `GET path` → the body.
    pub fn get(&self, what: &str, path: &str) -> Result<Vec<u8>, AdapterError> {
        self.send(what, self.client.get(self.url(path)))
    }

    /// `POST path` with a JSON body → the answer's body.
    pub fn post_json<T: serde::Serialize + ?Sized>(
        &self,
        what: &str,
        path: &str,
        body: &T,
    ) -> Result<Vec<u8>, AdapterError> {
        self.send(what, self.client.post(self.url(path)).json(body))
    }

    /// Reads an answer as JSON of `T` (`ADAPTER_FAILED` naming `what` when it is not).
    pub fn json<T: serde::de::DeserializeOwned>(
        what: &str,
        body: &[u8],
    ) -> Result<T, AdapterError> {
        serde_json::from_slice(body).map_err(|e| {
            AdapterError::failed(format!(
                "{what}: the cloud's answer is not the expected JSON ({e})"
            ))
        })
    }

    /// Sends a request and reads the body (bounded); non-2xx statuses become errors.
    pub fn send(
        &self,
        what: &str,
        req: reqwest::blocking::RequestBuilder,
    ) -> Result<Vec<u8>, AdapterError> {
        let resp = req.send().map_err(|e| self.transport_error(what, &e))?;
        let status = resp.status();
        let mut body = Vec::new();
        resp.take(MAX_CLOUD_BODY)
            .read_to_end(&mut body)
            .map_err(|e| {
                // A body read that runs past the client timeout surfaces as an io error.
                if e.kind() == std::io::ErrorKind::TimedOut || e.to_string().contains("timed out") {
                    AdapterError::new(
                        codes::ADAPTER_TIMEOUT,
                        format!("{what}: reading the answer timed out ({e})"),
                    )
                } else {
                    AdapterError::failed(format!("{what}: cannot read the answer ({e})"))
                }
            })?;
        if status.is_success() {
            return Ok(body);
        }
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        let vendor = &self.vendor;
        if status.is_client_error() {
            Err(AdapterError::malformed(format!(
                "{what}: the {vendor} cloud answered {status}: {text}"
            )))
        } else {
            Err(AdapterError::failed(format!(
                "{what}: the {vendor} cloud answered {status}: {text}"
            )))
        }
    }

    /// Maps a transport error to the documented codes.
    fn transport_error(&self, what: &str, e: &reqwest::Error) -> AdapterError {
        let vendor = &self.vendor;
        if e.is_timeout() {
            AdapterError::new(
                codes::ADAPTER_TIMEOUT,
                format!("the {vendor} cloud did not answer {what} in time ({e})"),
            )
        } else if e.is_connect() {
            AdapterError::unavailable(format!("cannot reach the {vendor} cloud for {what} ({e})"))
        } else {
            AdapterError::failed(format!("{what} failed ({e})"))
        }
    }
}

impl Cloud {
    /// The vendor's name as messages give it.
    pub fn vendor(&self) -> &str {
        &self.vendor
    }
}

pub mod calls;
pub mod packet;
pub mod vendor;

/// The configured cloud behind a lock: set by `configure`, read by every outbound call.
#[derive(Debug, Default)]
pub struct CloudSlot(Mutex<Option<Arc<Cloud>>>);

impl CloudSlot {
    /// Applies a configuration: the cloud it names, or none.
    pub fn configure(&self, vendor: &str, config: &CloudConfig) -> Result<(), AdapterError> {
        let cloud = Cloud::from_config(vendor, config)?.map(Arc::new);
        *self
            .0
            .lock()
            .map_err(|_| AdapterError::failed("configuration lock poisoned"))? = cloud;
        Ok(())
    }

    /// The cloud; `ADAPTER_UNAVAILABLE` while none is configured.
    pub fn get(&self, vendor: &str) -> Result<Arc<Cloud>, AdapterError> {
        self.0
            .lock()
            .map_err(|_| AdapterError::failed("configuration lock poisoned"))?
            .clone()
            .ok_or_else(|| {
                AdapterError::unavailable(format!(
                    "no {vendor} cloud configured: set `cloudUrl` in the adapter configuration"
                ))
            })
    }
}

/// The status of `cert_der` according to the vendor's CRL `crl_der`, once the CRL is shown
/// to be its issuer's: signed by `issuer_der` (the vendor's issuing CA certificate, which
/// must be the certificate's issuer) and fresh at `now` (thisUpdate not in the future,
/// nextUpdate not passed). Revoked → `Revoked`, certificateHold → `Frozen`, a CRL of another
/// issuer → `Unknown`. A CRL signed by another key is refused with `CRL_SIGNATURE_INVALID`,
/// a stale one with `CRL_STALE`: a vendor's view that cannot be checked is no view.
pub fn status_from_crl(
    cert_der: &[u8],
    crl_der: &[u8],
    issuer_der: &[u8],
    now: i64,
) -> Result<CertStatus, AdapterError> {
    let cert = Certificate::from_der(cert_der).map_err(|e| {
        AdapterError::new(
            codes::CERT_MALFORMED,
            format!("the certificate does not decode ({e})"),
        )
    })?;
    let issuer = Certificate::parse_one(issuer_der).map_err(|e| {
        AdapterError::failed(format!("the cloud's CA certificate does not decode ({e})"))
    })?;
    let crl = Crl::parse(crl_der)
        .map_err(|e| AdapterError::failed(format!("the cloud's CRL does not decode ({e})")))?;
    if !camr::pki::names_match(
        &crl.x509().tbs_cert_list.issuer,
        cert.x509().tbs_certificate().issuer(),
    ) {
        return Ok(CertStatus::Unknown);
    }
    camr::pki::check_crl(
        camr::crypto::default_provider().as_ref(),
        &crl,
        &issuer,
        now,
        0,
    )
    .map_err(|e| AdapterError::new(e.code().as_str(), e.to_string()))?;
    Ok(match camr::pki::crl_status(&crl, &cert, now) {
        camr::pki::RevocationStatus::Good => CertStatus::Good,
        camr::pki::RevocationStatus::Frozen { .. } => CertStatus::Frozen,
        camr::pki::RevocationStatus::Revoked { .. } => CertStatus::Revoked,
        camr::pki::RevocationStatus::Unknown => CertStatus::Unknown,
    })
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn url_component(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn configuration_and_unreachable_clouds_give_the_documented_codes() {
        let slot = CloudSlot::default();
        let e = slot.get("BJCA").unwrap_err();
        assert_eq!(e.code(), codes::ADAPTER_UNAVAILABLE);
        assert!(e.message().contains("BJCA"), "{e}");
        let bad = CloudConfig::parse(r#"{"cloudUrl":"ftp://x"}"#).unwrap();
        assert_eq!(
            slot.configure("BJCA", &bad).unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
        assert_eq!(
            CloudConfig::parse("not json").unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
        // Port 9 on loopback: nothing listens; connection refused → unavailable.
        let c = CloudConfig::parse(r#"{"cloudUrl":"http://127.0.0.1:9","timeoutMs":500,"x":1}"#)
            .unwrap();
        slot.configure("BJCA", &c).unwrap();
        let e = slot.get("BJCA").unwrap().get("ping", "/").unwrap_err();
        assert!(
            e.code() == codes::ADAPTER_UNAVAILABLE || e.code() == codes::ADAPTER_TIMEOUT,
            "{e}"
        );
    }

    #[test]
    fn url_components_are_escaped() {
        assert_eq!(url_component("张 a&b=c"), "%E5%BC%A0%20a%26b%3Dc");
        assert_eq!(url_component("AZaz09-_.~"), "AZaz09-_.~");
    }

    #[test]
    fn garbage_is_not_a_crl_and_not_a_certificate() {
        assert_eq!(
            status_from_crl(b"nope", b"nope", b"nope", 0)
                .unwrap_err()
                .code(),
            codes::CERT_MALFORMED
        );
    }

    /// The vendor's CRL as the platform's `cert_status` sees it: good, revoked, frozen,
    /// unknown (another CA's certificate), stale, and signed by another key.
    #[test]
    fn status_from_crl_believes_only_a_fresh_crl_signed_by_the_issuer() {
        use camr::crypto::{KeyAlgorithm, default_provider};
        use camr::softca::{Holder, RevocationReason, SoftCa, wallet_files};
        let dir = tempfile::tempdir().unwrap();
        let p = default_provider();
        let mut ca = SoftCa::init(
            p.clone(),
            &dir.path().join("ca"),
            KeyAlgorithm::Sm2,
            "Kit CA",
        )
        .unwrap();
        let holder = |name: &str| Holder::personal(name);
        let leaf = |ca: &mut SoftCa, name: &str| {
            let w = dir.path().join(name);
            ca.issue(&holder(name), b"123456", &w, 30).unwrap();
            Certificate::parse_one(&std::fs::read(w.join(wallet_files::SIGN_CERT)).unwrap())
                .unwrap()
        };
        let (good, revoked, frozen) = (leaf(&mut ca, "a"), leaf(&mut ca, "b"), leaf(&mut ca, "c"));
        let now = camr::qr::unix_now();
        ca.revoke(
            &revoked.serial_hex(),
            RevocationReason::KeyCompromise,
            now - 5,
        )
        .unwrap();
        ca.revoke(
            &frozen.serial_hex(),
            RevocationReason::CertificateHold,
            now - 5,
        )
        .unwrap();
        let crl = ca.crl(now).unwrap();
        let issuer = ca.issuing_ca().der().to_vec();
        let status =
            |c: &Certificate, crl: &[u8], at: i64| status_from_crl(c.der(), crl, &issuer, at);
        assert_eq!(status(&good, crl.der(), now).unwrap(), CertStatus::Good);
        assert_eq!(
            status(&revoked, crl.der(), now).unwrap(),
            CertStatus::Revoked
        );
        assert_eq!(status(&frozen, crl.der(), now).unwrap(), CertStatus::Frozen);
        // Another CA's certificate: the CRL says nothing about it.
        let mut other = SoftCa::init(
            p.clone(),
            &dir.path().join("other"),
            KeyAlgorithm::Sm2,
            "Other CA",
        )
        .unwrap();
        let stranger = leaf(&mut other, "d");
        assert_eq!(
            status(&stranger, crl.der(), now).unwrap(),
            CertStatus::Unknown
        );
        // Stale: checked after nextUpdate.
        let later = now + camr::softca::CRL_VALIDITY_SECS as i64 + 60;
        assert_eq!(
            status(&good, crl.der(), later).unwrap_err().code(),
            "CRL_STALE"
        );
        // A CRL signed by another key: a CA with the same name, another key.
        let mut twin =
            SoftCa::init(p, &dir.path().join("twin"), KeyAlgorithm::Sm2, "Kit CA").unwrap();
        let forged = twin.crl(now).unwrap();
        assert_eq!(
            status(&revoked, forged.der(), now).unwrap_err().code(),
            "CRL_SIGNATURE_INVALID"
        );
    }
}
