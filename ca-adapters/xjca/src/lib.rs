//! # camr-adapter-xjca — the adapter for 中标一证通 (XJCA, 新疆数字证书认证中心)
//!
//! A documented model (docs/vendors/xjca.md): XJCA's real cloud API is not public.
//!
//! * **Wire format.** The XJCA app answers with a result JSON shaped like the one its manual
//!   shows under 消息签名与验签; its types and strict decoding are `camr-xjca-wire` (shared with
//!   the XJCA cloud simulator and the app simulator), re-exported here as [`decode_strict`]:
//!   unknown fields, a failed result, a scan type of another operation, an authorisation type
//!   that does not fit the certificate are `INPUT_MALFORMED`. It translates; the core verifies.
//! * **Outbound calls** go to the XJCA cloud (`xjca-cloud`): `GET /enc-cert`, `GET /crl`,
//!   `POST /tasks` + `GET /tasks/{id}`, `GET /seals` (codes `XJCA-…`) and per-use billing
//!   (按量扣费) `POST /xjca/charge` with each usage record ([`AdapterImpl::report_usage`]).
//!
//! Configuration: `{"cloudUrl": "http://127.0.0.1:8710", "timeoutMs": 5000}`.
#![forbid(unsafe_code)]

use std::sync::Arc;

use camr::protocol::Operation;
use camr_adapter_kit::calls;
use camr_adapter_kit::{Cloud, CloudConfig, CloudSlot};
use camr_plugin_abi::{AdapterError, AdapterImpl, AdapterInfo, CertStatus, export_adapter};

pub use camr_xjca_wire::{CA_ORG_TYPE, MAX_EVIDENCE_BYTES, decode as decode_strict};

/// The prefix of XJCA seal codes.
pub const SEAL_PREFIX: &str = "XJCA-";

/// The XJCA adapter.
#[derive(Default)]
pub struct XjcaAdapter {
    cloud: CloudSlot,
}

impl std::fmt::Debug for XjcaAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("XjcaAdapter")
    }
}

impl XjcaAdapter {
    /// A new, unconfigured adapter.
    pub fn new() -> Self {
        Self::default()
    }

    fn cloud(&self) -> Result<Arc<Cloud>, AdapterError> {
        self.cloud.get("XJCA")
    }
}

impl AdapterImpl for XjcaAdapter {
    fn info(&self) -> AdapterInfo {
        AdapterInfo {
            ca_org_type: CA_ORG_TYPE.into(),
            vendor_name: "中标一证通 (XJCA, model)".into(),
            adapter_version: env!("CARGO_PKG_VERSION").into(),
            operations: Operation::ALL
                .iter()
                .map(|o| o.as_str().to_string())
                .collect(),
            algorithms: vec!["SM2".into(), "RSA".into(), "ECDSA_P256".into()],
        }
    }

    fn configure(&self, config_json: &str) -> Result<(), AdapterError> {
        self.cloud
            .configure("XJCA", &CloudConfig::parse(config_json)?)
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

    fn push_task(&self, user_json: &str, request_json: &str) -> Result<String, AdapterError> {
        calls::push_task(|| self.cloud(), user_json, request_json)
    }

    fn poll_task(&self, handle: &str) -> Result<String, AdapterError> {
        calls::poll_task(|| self.cloud(), handle)
    }

    /// 按量扣费: every use is posted to the XJCA cloud, which bills the certificate (and, for
    /// a seal, the seal). A failure here is the caller's to log: the platform never lets it
    /// block the user's operation.
    fn report_usage(&self, record_json: &str) -> Result<(), AdapterError> {
        calls::report_usage(|| self.cloud(), "/xjca/charge", record_json)
    }

    /// The seals of the signing certificate (`certSn`), codes `XJCA-<kind>-<hash>`.
    fn list_seals(&self, subject_json: &str) -> Result<String, AdapterError> {
        let seals = calls::list_seals(|| self.cloud(), "/seals", subject_json)?;
        Ok(calls::seals_json(seals, xjca_seal_code))
    }
}

/// The XJCA code of a seal the shared cloud code names `SOFTCA-<kind>-<hash>`.
pub fn xjca_seal_code(code: &str) -> String {
    match code.strip_prefix("SOFTCA-") {
        Some(rest) => format!("{SEAL_PREFIX}{rest}"),
        None => code.to_string(),
    }
}

export_adapter!(XjcaAdapter);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use camr_plugin_abi::codes;

    #[test]
    fn garbage_failures_and_wrong_shapes_are_input_malformed() {
        let a = XjcaAdapter::new();
        for raw in [
            &b""[..],
            b"garbage",
            b"[]",
            br#"{"algorithm":"SM2","certificateChain":["AAAA"]}"#,
            br#"{"code":200,"success":true}"#,
            br#"{"code":500,"success":false,"data":null,"msg":"PIN error","errorCode":"E01"}"#,
            br#"{"code":200,"success":true,"data":{"scanType":"LOGIN","authType":"PERSONAL","signAlg":"SM2","signCert":"!!"}}"#,
            br#"{"code":200,"success":true,"data":{"scanType":"LOGIN","authType":"PERSONAL","signAlg":"SM9","signCert":"AAAA"}}"#,
            br#"{"code":200,"success":true,"data":{"scanType":"DECRYPT","authType":"PERSONAL","signAlg":"SM2","signCert":"AAAA"}}"#,
            br#"{"code":200,"success":true,"verdict":"ok","data":null}"#,
        ] {
            let e = a.decode_evidence("login", raw).unwrap_err();
            assert_eq!(
                e.code(),
                codes::INPUT_MALFORMED,
                "{}: {e}",
                String::from_utf8_lossy(raw)
            );
        }
        let e = a
            .decode_evidence(
                "login",
                br#"{"code":200,"success":true,"data":{"scanType":"LOGIN","authType":"PERSONAL","signAlg":"SM2","signCert":"AAAA","signResults":[{"bizNo":"r","signValue":"AAAA"}]}}"#,
            )
            .unwrap_err();
        assert_eq!(e.code(), codes::CERT_MALFORMED, "{e}");
        let big = vec![b' '; MAX_EVIDENCE_BYTES + 1];
        assert_eq!(
            a.decode_evidence("login", &big).unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
        assert_eq!(
            a.decode_evidence("nope", b"{}").unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
    }

    #[test]
    fn outbound_calls_need_a_cloud_and_seal_codes_are_xjcas() {
        let a = XjcaAdapter::new();
        a.configure("{}").unwrap();
        let e = a.report_usage("{}").unwrap_err();
        assert_eq!(e.code(), codes::INPUT_MALFORMED, "{e}");
        let e = a.list_seals(r#"{"certSn":"7F"}"#).unwrap_err();
        assert_eq!(e.code(), codes::ADAPTER_UNAVAILABLE, "{e}");
        assert!(a.configure(r#"{"cloudUrl":"ftp://x"}"#).is_err());
        assert_eq!(xjca_seal_code("SOFTCA-official-1a2b"), "XJCA-official-1a2b");
        assert_eq!(xjca_seal_code("other"), "other");
    }
}
