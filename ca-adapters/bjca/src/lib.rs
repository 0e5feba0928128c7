//! # camr-adapter-bjca — the adapter for camr's BJCA model (掌上信手书, `BJCA`)
//!
//! Built as a `cdylib` (the `.so` a platform loads) and an `rlib` (for other crates' tests),
//! on the structure of the softca adapter. `docs/vendors/bjca.md` says what comes from BJCA's
//! manual and what is our model.
//!
//! * **Wire format.** The BJCA app answers in its own JSON ([`camr_bjca_wire::BjcaEvidence`]:
//!   `version`, `bizType`, `signAlg`, `signCert`, `certChain`, `signValues`, `rejects`,
//!   `encCert`, `envelopeKeys`); [`BjcaAdapter::decode_evidence`] translates it into camr's
//!   evidence, strictly (unknown fields, wrong `bizType`, bad base64 or certificates are
//!   refused). A co-signed signature (协同签名) is an ordinary SM2 signature under the
//!   certificate's key: nothing here knows it was made in two halves, and nothing here
//!   verifies (the core does).
//! * **Outbound calls** go to the BJCA cloud (`bjca-cloud`): `GET /crl`,
//!   `GET /enc-cert?serial=|name=`, `POST /tasks` + `GET /tasks/{id}` (tasks pushed to a
//!   known user: the app's 待处理 list), `POST /usage`, `GET /seals?serial=`. Without a
//!   configured `cloudUrl` they answer `ADAPTER_UNAVAILABLE`.
//!
//! Configuration: `{"cloudUrl": "http://127.0.0.1:8710", "timeoutMs": 5000}`.

use std::sync::Arc;

use camr::pki::Certificate;
use camr::protocol::{Operation, UsageRecord};
use camr_adapter_kit::{Cloud, CloudConfig, CloudSlot, url_component};
use camr_plugin_abi::{AdapterError, AdapterImpl, AdapterInfo, CertStatus, codes, export_adapter};

pub use camr_bjca_wire::{CA_ORG_TYPE, MAX_EVIDENCE_BYTES};

/// The BJCA adapter.
#[derive(Default)]
pub struct BjcaAdapter {
    cloud: CloudSlot,
}

impl std::fmt::Debug for BjcaAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BjcaAdapter")
    }
}

fn malformed(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::malformed(format!("{what} ({e})"))
}

fn cloud_json(what: &str, body: &[u8]) -> Result<serde_json::Value, AdapterError> {
    serde_json::from_slice(body).map_err(|e| {
        AdapterError::failed(format!("{what}: the BJCA cloud's answer is not JSON ({e})"))
    })
}

impl BjcaAdapter {
    /// A new, unconfigured adapter.
    pub fn new() -> Self {
        Self::default()
    }

    fn cloud(&self) -> Result<Arc<Cloud>, AdapterError> {
        self.cloud.get("bjca")
    }
}

/// The BJCA answer to `operation` as camr evidence (see [`camr_bjca_wire::decode`]), with the
/// ABI's error codes.
pub fn decode_strict(
    operation: &str,
    raw: &[u8],
) -> Result<camr::protocol::Evidence, AdapterError> {
    camr_bjca_wire::decode(operation, raw).map_err(|e| AdapterError::new(e.code, e.msg))
}

impl AdapterImpl for BjcaAdapter {
    fn info(&self) -> AdapterInfo {
        AdapterInfo {
            ca_org_type: CA_ORG_TYPE.into(),
            vendor_name: "BJCA 北京数字认证 (掌上信手书, camr model)".into(),
            adapter_version: env!("CARGO_PKG_VERSION").into(),
            operations: Operation::ALL
                .iter()
                .map(|o| o.as_str().to_string())
                .collect(),
            algorithms: vec!["SM2".into()],
        }
    }

    fn configure(&self, config_json: &str) -> Result<(), AdapterError> {
        self.cloud
            .configure("bjca", &CloudConfig::parse(config_json)?)
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
        let der = cloud.get("fetch_encryption_cert", &format!("/enc-cert?{query}"))?;
        Certificate::from_der(&der).map_err(|e| {
            AdapterError::failed(format!(
                "the BJCA cloud's encryption certificate does not decode ({e})"
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
        let crl = cloud.get("cert_status", "/crl")?;
        camr_adapter_kit::status_from_crl(cert_der, &crl)
    }

    /// `POST /tasks {"user", "request"}`: the task lands in the user's 待处理 list.
    fn push_task(&self, user_json: &str, request_json: &str) -> Result<String, AdapterError> {
        let user: serde_json::Value =
            serde_json::from_str(user_json).map_err(|e| malformed("bad user", e))?;
        if !user.is_object() {
            return Err(AdapterError::malformed("the user is not a JSON object"));
        }
        let request: serde_json::Value =
            serde_json::from_str(request_json).map_err(|e| malformed("bad request", e))?;
        let cloud = self.cloud()?;
        let body = serde_json::json!({ "user": user, "request": request });
        let answer = cloud_json("push_task", &cloud.post_json("push_task", "/tasks", &body)?)?;
        answer
            .get("id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                AdapterError::failed("push_task: the BJCA cloud's answer has no task id")
            })
    }

    fn poll_task(&self, handle: &str) -> Result<String, AdapterError> {
        if handle.is_empty() || handle.len() > 128 {
            return Err(AdapterError::malformed("bad task handle"));
        }
        let cloud = self.cloud()?;
        let answer = cloud.get("poll_task", &format!("/tasks/{}", url_component(handle)))?;
        Ok(cloud_json("poll_task", &answer)?.to_string())
    }

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
        let answer = cloud.get(
            "list_seals",
            &format!("/seals?serial={}", url_component(serial)),
        )?;
        let seals = cloud_json("list_seals", &answer)?;
        if !seals.is_array() {
            return Err(AdapterError::failed(
                "list_seals: the BJCA cloud's answer is not a JSON array",
            ));
        }
        Ok(seals.to_string())
    }

    fn report_usage(&self, record_json: &str) -> Result<(), AdapterError> {
        let record: UsageRecord =
            serde_json::from_str(record_json).map_err(|e| malformed("bad usage record", e))?;
        let cloud = self.cloud()?;
        cloud
            .post_json("report_usage", "/usage", &record)
            .map(|_| ())
    }
}

export_adapter!(BjcaAdapter);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn garbage_is_input_malformed_and_calls_need_a_cloud() {
        let a = BjcaAdapter::new();
        for raw in [
            &b""[..],
            b"garbage",
            b"{}",
            br#"{"algorithm":"SM2","certificateChain":[]}"#,
        ] {
            let e = a.decode_evidence("login", raw).unwrap_err();
            assert_eq!(e.code(), codes::INPUT_MALFORMED, "{e}");
        }
        assert_eq!(a.info().ca_org_type, "BJCA");
        a.configure("{}").unwrap();
        for e in [
            a.push_task(r#"{"certSn":"01"}"#, "{}").unwrap_err(),
            a.poll_task("task-1").unwrap_err(),
            a.list_seals(r#"{"certSn":"7F01"}"#).unwrap_err(),
            a.fetch_encryption_cert(r#"{"certSn":"7F01"}"#).unwrap_err(),
        ] {
            assert_eq!(e.code(), codes::ADAPTER_UNAVAILABLE, "{e}");
        }
        assert_eq!(
            a.push_task("[]", "{}").unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
        assert!(a.configure(r#"{"cloudUrl":"ftp://x"}"#).is_err());
    }
}
