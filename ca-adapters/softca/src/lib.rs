//! # camr-adapter-softca — the adapter for camr's reference software CA (`SOFTCA`)
//!
//! This is the template a CA vendor copies (see `docs/adapter-guide.md`). It is built as a
//! `cdylib` (the `.so` a platform drops into its plugin folder) and as an `rlib` (so that tests
//! in other crates can make cargo build the `.so`).
//!
//! * **Wire format.** The softca app answers in camr's own normalised form, so
//!   [`SoftCaAdapter::decode_evidence`] parses the raw answer as JSON of
//!   [`camr::protocol::Evidence`] — strictly: at most [`MAX_EVIDENCE_BYTES`], no unknown
//!   fields, at least one certificate, every certificate DER decodes, signatures present for
//!   every operation but `encrypt`. It *translates*; it never claims a verdict (no signature,
//!   chain or binding check here: the core does all of it).
//! * **Outbound calls** go to the softca cloud (`softca-cloud`) over HTTP with a blocking
//!   client and the configured timeout: `GET /enc-cert`, `GET /crl` (certificate status),
//!   `POST /tasks` + `GET /tasks/{id}` (push signing), `POST /usage` (per-use billing),
//!   `GET /seals?serial=HEX` (the user's seals 印章, `list_seals`).
//!   Without a configured `cloudUrl` they answer `ADAPTER_UNAVAILABLE`.
//!
//! Configuration (`configure`): `{"cloudUrl": "http://127.0.0.1:8700", "timeoutMs": 5000}`;
//! both optional, unknown fields are ignored (a kit may pass its own keys along).

use std::io::Read;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use camr::pki::{Certificate, Crl};
use camr::protocol::{Evidence, Operation, UsageRecord};
use camr_plugin_abi::{AdapterError, AdapterImpl, AdapterInfo, CertStatus, codes, export_adapter};
use serde::Deserialize;

/// The vendor code (`caOrgType`) of camr's software CA.
pub const CA_ORG_TYPE: &str = "SOFTCA";
/// Largest raw answer `decode_evidence` accepts (1 MiB); larger is `INPUT_MALFORMED`.
pub const MAX_EVIDENCE_BYTES: usize = 1024 * 1024;
/// Largest body read from the cloud (4 MiB).
pub const MAX_CLOUD_BODY: u64 = 4 * 1024 * 1024;
/// Timeout of outbound calls when the configuration names none.
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;

/// The fields of `camr::protocol::Evidence` (camelCase): anything else is refused.
const EVIDENCE_FIELDS: [&str; 6] = [
    "algorithm",
    "certificateChain",
    "signatures",
    "encryptionCertificate",
    "decryptedKeys",
    "itemRejections",
];

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Config {
    #[serde(default)]
    cloud_url: Option<String>,
    #[serde(default)]
    timeout_ms: Option<u64>,
}

struct Cloud {
    base: String,
    client: reqwest::blocking::Client,
}

/// The softca adapter.
#[derive(Default)]
pub struct SoftCaAdapter {
    cloud: Mutex<Option<std::sync::Arc<Cloud>>>,
}

impl std::fmt::Debug for SoftCaAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoftCaAdapter")
    }
}

/// Installs rustls' ring provider once per library (reqwest is built with
/// `rustls-no-provider`). A provider installed earlier by someone else is fine.
fn install_crypto_provider() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn malformed(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::malformed(format!("{what} ({e})"))
}

/// Maps a transport error to the documented codes.
fn transport_error(what: &str, e: &reqwest::Error) -> AdapterError {
    if e.is_timeout() {
        AdapterError::new(
            codes::ADAPTER_TIMEOUT,
            format!("the softca cloud did not answer {what} in time ({e})"),
        )
    } else if e.is_connect() {
        AdapterError::unavailable(format!("cannot reach the softca cloud for {what} ({e})"))
    } else {
        AdapterError::failed(format!("{what} failed ({e})"))
    }
}

impl Cloud {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.trim_end_matches('/'))
    }

    /// Sends a request and reads the body (bounded); non-2xx statuses become errors.
    fn send(
        &self,
        what: &str,
        req: reqwest::blocking::RequestBuilder,
    ) -> Result<Vec<u8>, AdapterError> {
        let resp = req.send().map_err(|e| transport_error(what, &e))?;
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
        if status.is_client_error() {
            Err(AdapterError::malformed(format!(
                "{what}: the softca cloud answered {status}: {text}"
            )))
        } else {
            Err(AdapterError::failed(format!(
                "{what}: the softca cloud answered {status}: {text}"
            )))
        }
    }
}

impl SoftCaAdapter {
    /// A new, unconfigured adapter.
    pub fn new() -> Self {
        Self::default()
    }

    fn cloud(&self) -> Result<std::sync::Arc<Cloud>, AdapterError> {
        self.cloud
            .lock()
            .map_err(|_| AdapterError::failed("configuration lock poisoned"))?
            .clone()
            .ok_or_else(|| {
                AdapterError::unavailable(
                    "no softca cloud configured: set `cloudUrl` in the adapter configuration",
                )
            })
    }
}

/// Strict decoding of camr's normalised evidence, shared with tests.
pub fn decode_strict(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
    let op: Operation = operation
        .parse()
        .map_err(|_| AdapterError::malformed(format!("unknown operation `{operation}`")))?;
    if raw.is_empty() {
        return Err(AdapterError::malformed("the answer is empty"));
    }
    if raw.len() > MAX_EVIDENCE_BYTES {
        return Err(AdapterError::malformed(format!(
            "the answer has {} bytes; at most {MAX_EVIDENCE_BYTES} are accepted",
            raw.len()
        )));
    }
    let value: serde_json::Value =
        serde_json::from_slice(raw).map_err(|e| malformed("the answer is not JSON", e))?;
    let object = value
        .as_object()
        .ok_or_else(|| AdapterError::malformed("the answer is not a JSON object"))?;
    if let Some(unknown) = object
        .keys()
        .find(|k| !EVIDENCE_FIELDS.contains(&k.as_str()))
    {
        return Err(AdapterError::malformed(format!(
            "unknown field `{unknown}` in the evidence"
        )));
    }
    let evidence: Evidence = serde_json::from_value(value)
        .map_err(|e| malformed("the answer is not camr evidence", e))?;
    if evidence.certificate_chain.is_empty() {
        return Err(AdapterError::malformed(
            "the evidence carries no certificate",
        ));
    }
    for (i, der) in evidence.certificate_chain.iter().enumerate() {
        Certificate::from_der(der).map_err(|e| {
            AdapterError::new(
                codes::CERT_MALFORMED,
                format!("certificate {i} of the chain does not decode ({e})"),
            )
        })?;
    }
    if let Some(enc) = &evidence.encryption_certificate {
        Certificate::from_der(enc).map_err(|e| {
            AdapterError::new(
                codes::CERT_MALFORMED,
                format!("the encryption certificate does not decode ({e})"),
            )
        })?;
    }
    if op != Operation::Encrypt && evidence.signatures.is_empty() {
        return Err(AdapterError::malformed(format!(
            "a `{op}` answer needs signatures"
        )));
    }
    if let Some(s) = evidence
        .signatures
        .iter()
        .find(|s| s.signature_value.is_empty())
    {
        return Err(AdapterError::malformed(format!(
            "the signature of `{}` is empty",
            s.item_id
        )));
    }
    Ok(evidence)
}

/// The status of `cert_der` according to the CRL in `crl_der` (revoked → `Revoked`,
/// certificateHold → `Frozen`, other issuer → `Unknown`). The CRL's signature and freshness
/// are not checked here: the core checks CRLs itself; this is the vendor's view.
pub fn status_from_crl(cert_der: &[u8], crl_der: &[u8]) -> Result<CertStatus, AdapterError> {
    let cert = Certificate::from_der(cert_der).map_err(|e| {
        AdapterError::new(
            codes::CERT_MALFORMED,
            format!("the certificate does not decode ({e})"),
        )
    })?;
    let crl = Crl::parse(crl_der)
        .map_err(|e| AdapterError::failed(format!("the cloud's CRL does not decode ({e})")))?;
    let tbs = &crl.x509().tbs_cert_list;
    if &tbs.issuer != cert.x509().tbs_certificate().issuer() {
        return Ok(CertStatus::Unknown);
    }
    let serial = cert.x509().tbs_certificate().serial_number().as_bytes();
    let Some(entry) = tbs
        .revoked_certificates
        .iter()
        .flatten()
        .find(|r| r.serial_number.as_bytes() == serial)
    else {
        return Ok(CertStatus::Good);
    };
    // CRL reason (2.5.29.21) certificateHold = ENUMERATED 6.
    let hold = entry.crl_entry_extensions.iter().flatten().any(|ext| {
        ext.extn_id.to_string() == "2.5.29.21" && ext.extn_value.as_bytes() == [0x0a, 0x01, 0x06]
    });
    Ok(if hold {
        CertStatus::Frozen
    } else {
        CertStatus::Revoked
    })
}

fn url_component(text: &str) -> String {
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

impl AdapterImpl for SoftCaAdapter {
    fn info(&self) -> AdapterInfo {
        AdapterInfo {
            ca_org_type: CA_ORG_TYPE.into(),
            vendor_name: "camr reference software CA".into(),
            adapter_version: env!("CARGO_PKG_VERSION").into(),
            operations: Operation::ALL
                .iter()
                .map(|o| o.as_str().to_string())
                .collect(),
            algorithms: vec!["SM2".into(), "RSA".into(), "ECDSA_P256".into()],
        }
    }

    fn configure(&self, config_json: &str) -> Result<(), AdapterError> {
        let config: Config =
            serde_json::from_str(config_json).map_err(|e| malformed("bad configuration", e))?;
        let cloud = match config.cloud_url {
            None => None,
            Some(base) => {
                if !(base.starts_with("http://") || base.starts_with("https://")) {
                    return Err(AdapterError::malformed(format!(
                        "`cloudUrl` must be an http(s) URL, not `{base}`"
                    )));
                }
                install_crypto_provider();
                let timeout =
                    Duration::from_millis(config.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS).max(1));
                let client = reqwest::blocking::Client::builder()
                    .timeout(timeout)
                    .connect_timeout(timeout)
                    .build()
                    .map_err(|e| {
                        AdapterError::failed(format!("cannot build the HTTP client ({e})"))
                    })?;
                Some(std::sync::Arc::new(Cloud { base, client }))
            }
        };
        *self
            .cloud
            .lock()
            .map_err(|_| AdapterError::failed("configuration lock poisoned"))? = cloud;
        Ok(())
    }

    fn decode_evidence(&self, operation: &str, raw: &[u8]) -> Result<String, AdapterError> {
        let evidence = decode_strict(operation, raw)?;
        serde_json::to_string(&evidence)
            .map_err(|e| AdapterError::failed(format!("cannot encode evidence ({e})")))
    }

    fn fetch_encryption_cert(&self, subject_json: &str) -> Result<Vec<u8>, AdapterError> {
        let subject: serde_json::Value =
            serde_json::from_str(subject_json).map_err(|e| malformed("bad subject", e))?;
        let field = |k: &str| {
            subject
                .get(k)
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let query = if let Some(serial) = field("certSn") {
            format!("serial={}", url_component(serial))
        } else if let Some(name) = field("name") {
            format!("name={}", url_component(name))
        } else {
            return Err(AdapterError::malformed(
                "the subject names neither `certSn` nor `name`",
            ));
        };
        let cloud = self.cloud()?;
        let der = cloud.send(
            "fetch_encryption_cert",
            cloud.client.get(cloud.url(&format!("/enc-cert?{query}"))),
        )?;
        Certificate::from_der(&der).map_err(|e| {
            AdapterError::failed(format!(
                "the cloud's encryption certificate does not decode ({e})"
            ))
        })?;
        Ok(der)
    }

    fn cert_status(&self, cert_der: &[u8]) -> Result<CertStatus, AdapterError> {
        Certificate::from_der(cert_der).map_err(|e| {
            AdapterError::new(
                codes::CERT_MALFORMED,
                format!("the certificate does not decode ({e})"),
            )
        })?;
        let cloud = self.cloud()?;
        let crl = cloud.send("cert_status", cloud.client.get(cloud.url("/crl")))?;
        status_from_crl(cert_der, &crl)
    }

    fn push_task(&self, user_json: &str, request_json: &str) -> Result<String, AdapterError> {
        let user: serde_json::Value =
            serde_json::from_str(user_json).map_err(|e| malformed("bad user", e))?;
        let request: serde_json::Value =
            serde_json::from_str(request_json).map_err(|e| malformed("bad request", e))?;
        let cloud = self.cloud()?;
        let body = serde_json::json!({ "user": user, "request": request });
        let answer = cloud.send(
            "push_task",
            cloud.client.post(cloud.url("/tasks")).json(&body),
        )?;
        let answer: serde_json::Value = serde_json::from_slice(&answer).map_err(|e| {
            AdapterError::failed(format!("push_task: the cloud's answer is not JSON ({e})"))
        })?;
        answer
            .get("id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| AdapterError::failed("push_task: the cloud's answer has no task id"))
    }

    fn poll_task(&self, handle: &str) -> Result<String, AdapterError> {
        if handle.is_empty() || handle.len() > 128 {
            return Err(AdapterError::malformed("bad task handle"));
        }
        let cloud = self.cloud()?;
        let answer = cloud.send(
            "poll_task",
            cloud
                .client
                .get(cloud.url(&format!("/tasks/{}", url_component(handle)))),
        )?;
        let value: serde_json::Value = serde_json::from_slice(&answer).map_err(|e| {
            AdapterError::failed(format!("poll_task: the cloud's answer is not JSON ({e})"))
        })?;
        Ok(value.to_string())
    }

    /// `GET /seals?serial=HEX` of the cloud, by the signing certificate's serial (`certSn`
    /// of the subject): the seals made for the holder's wallet, a JSON array of
    /// `camr::protocol::SealInfo` (the host checks each seal).
    fn list_seals(&self, subject_json: &str) -> Result<String, AdapterError> {
        let subject: serde_json::Value =
            serde_json::from_str(subject_json).map_err(|e| malformed("bad subject", e))?;
        let serial = subject
            .get("certSn")
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                AdapterError::malformed("the subject names no `certSn` (the signing certificate)")
            })?;
        let cloud = self.cloud()?;
        let answer = cloud.send(
            "list_seals",
            cloud
                .client
                .get(cloud.url(&format!("/seals?serial={}", url_component(serial)))),
        )?;
        let seals: serde_json::Value = serde_json::from_slice(&answer).map_err(|e| {
            AdapterError::failed(format!("list_seals: the cloud's answer is not JSON ({e})"))
        })?;
        if !seals.is_array() {
            return Err(AdapterError::failed(
                "list_seals: the cloud's answer is not a JSON array",
            ));
        }
        Ok(seals.to_string())
    }

    fn report_usage(&self, record_json: &str) -> Result<(), AdapterError> {
        let record: UsageRecord =
            serde_json::from_str(record_json).map_err(|e| malformed("bad usage record", e))?;
        let cloud = self.cloud()?;
        cloud
            .send(
                "report_usage",
                cloud.client.post(cloud.url("/usage")).json(&record),
            )
            .map(|_| ())
    }
}

export_adapter!(SoftCaAdapter);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn garbage_and_limits_are_input_malformed() {
        let a = SoftCaAdapter::new();
        for raw in [
            &b""[..],
            b"garbage",
            b"{\"algorithm\":5}",
            b"[]",
            b"{\"algorithm\":\"SM2\",\"certificateChain\":[]}",
        ] {
            let e = a.decode_evidence("login", raw).unwrap_err();
            assert_eq!(e.code(), codes::INPUT_MALFORMED, "{e}");
        }
        let big = vec![b' '; MAX_EVIDENCE_BYTES + 1];
        assert_eq!(
            a.decode_evidence("login", &big).unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
        let e = a
            .decode_evidence("login", br#"{"algorithm":"SM2","certificateChain":["AAAA"],"signatures":[{"itemId":"request","signatureValue":"AAAA"}]}"#)
            .unwrap_err();
        assert_eq!(e.code(), codes::CERT_MALFORMED, "{e}");
        let e = a
            .decode_evidence(
                "login",
                br#"{"algorithm":"SM2","certificateChain":["AAAA"],"verdict":"ok"}"#,
            )
            .unwrap_err();
        assert!(e.message().contains("verdict"), "{e}");
        assert_eq!(
            a.decode_evidence("nope", b"{}").unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
    }

    #[test]
    fn outbound_calls_need_a_cloud() {
        let a = SoftCaAdapter::new();
        a.configure("{}").unwrap();
        let e = a.push_task("{}", "{}").unwrap_err();
        assert_eq!(e.code(), codes::ADAPTER_UNAVAILABLE);
        assert!(e.message().contains("cloudUrl"), "{e}");
        let e = a.list_seals(r#"{"certSn":"7F01"}"#).unwrap_err();
        assert_eq!(e.code(), codes::ADAPTER_UNAVAILABLE);
        assert!(e.message().contains("cloudUrl"), "{e}");
        // A subject without the signing certificate's serial is the caller's fault.
        for subject in ["{}", r#"{"certSn":""}"#, "not json"] {
            let e = a.list_seals(subject).unwrap_err();
            assert_eq!(e.code(), codes::INPUT_MALFORMED, "{subject}: {e}");
        }
        assert!(a.configure(r#"{"cloudUrl":"ftp://x"}"#).is_err());
    }
}
