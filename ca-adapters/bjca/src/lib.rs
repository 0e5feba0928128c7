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

use camr::protocol::Operation;
use camr_adapter_kit::calls;
use camr_adapter_kit::{Cloud, CloudConfig, CloudSlot};
use camr_plugin_abi::{AdapterError, AdapterImpl, AdapterInfo, CertStatus, export_adapter};

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
        calls::evidence_json(&decode_strict(operation, raw)?)
    }

    fn fetch_encryption_cert(&self, subject_json: &str) -> Result<Vec<u8>, AdapterError> {
        calls::fetch_encryption_cert(|| self.cloud(), subject_json)
    }

    fn cert_status(&self, cert_der: &[u8]) -> Result<CertStatus, AdapterError> {
        calls::cert_status(|| self.cloud(), cert_der)
    }

    /// `POST /tasks {"user", "request"}`: the task lands in the user's 待处理 list.
    fn push_task(&self, user_json: &str, request_json: &str) -> Result<String, AdapterError> {
        calls::push_task(|| self.cloud(), user_json, request_json)
    }

    fn poll_task(&self, handle: &str) -> Result<String, AdapterError> {
        calls::poll_task(|| self.cloud(), handle)
    }

    fn list_seals(&self, subject_json: &str) -> Result<String, AdapterError> {
        let seals = calls::list_seals(|| self.cloud(), "/seals", subject_json)?;
        Ok(calls::seals_json(seals, str::to_string))
    }

    fn report_usage(&self, record_json: &str) -> Result<(), AdapterError> {
        calls::report_usage(|| self.cloud(), "/usage", record_json)
    }
}

export_adapter!(BjcaAdapter);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use camr_plugin_abi::codes;

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
