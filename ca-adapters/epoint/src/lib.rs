//! # camr-adapter-epoint — the adapter for 新点标证通 (Epoint)
//!
//! A documented model (docs/vendors/epoint.md): Epoint's real cloud API is not public.
//!
//! * **Wire format.** The Epoint app answers with a PascalCase JSON business packet (业务报文);
//!   its types and strict decoding are `camr-epoint-wire` (shared with the Epoint cloud
//!   simulator and the app simulator), re-exported here as [`decode_strict`]: unknown fields,
//!   another business type, bad hex or base64 are `INPUT_MALFORMED`. It translates; the core
//!   verifies — including whether a 本平台证书 came through the Epoint QR code (the platform's
//!   `entitlement.platform_only`).
//! * **Outbound calls** go to the Epoint cloud (`epoint-cloud`): `GET /enc-cert`, `GET /crl`,
//!   `POST /tasks` + `GET /tasks/{id}` (待办), `GET /seals` (codes `EPOINT-…`), `POST /usage`.
//!
//! Configuration: `{"cloudUrl": "http://127.0.0.1:8720", "timeoutMs": 5000}`.
#![forbid(unsafe_code)]

use std::sync::Arc;

use camr::protocol::Operation;
use camr_adapter_kit::calls;
use camr_adapter_kit::{Cloud, CloudConfig, CloudSlot};
use camr_plugin_abi::{AdapterError, AdapterImpl, AdapterInfo, CertStatus, export_adapter};

pub use camr_epoint_wire::{CA_ORG_TYPE, MAX_EVIDENCE_BYTES, decode as decode_strict};

/// The prefix of Epoint seal codes.
pub const SEAL_PREFIX: &str = "EPOINT-";

/// The Epoint adapter.
#[derive(Default)]
pub struct EpointAdapter {
    cloud: CloudSlot,
}

impl std::fmt::Debug for EpointAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EpointAdapter")
    }
}

impl EpointAdapter {
    /// A new, unconfigured adapter.
    pub fn new() -> Self {
        Self::default()
    }

    fn cloud(&self) -> Result<Arc<Cloud>, AdapterError> {
        self.cloud.get("EPOINT")
    }
}

impl AdapterImpl for EpointAdapter {
    fn info(&self) -> AdapterInfo {
        AdapterInfo {
            ca_org_type: CA_ORG_TYPE.into(),
            vendor_name: "新点标证通 (Epoint, model)".into(),
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
            .configure("EPOINT", &CloudConfig::parse(config_json)?)
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

    /// 按量扣费: every use is posted to the Epoint cloud, which bills the certificate (and, for
    /// a seal, the seal). A failure here is the caller's to log: the platform never lets it
    /// block the user's operation.
    fn report_usage(&self, record_json: &str) -> Result<(), AdapterError> {
        calls::report_usage(|| self.cloud(), "/usage", record_json)
    }

    /// The seals of the signing certificate (`certSn`), codes `EPOINT-<kind>-<hash>`.
    fn list_seals(&self, subject_json: &str) -> Result<String, AdapterError> {
        let seals = calls::list_seals(|| self.cloud(), "/seals", subject_json)?;
        Ok(calls::seals_json(seals, epoint_seal_code))
    }
}

/// The Epoint code of a seal the shared cloud code names `SOFTCA-<kind>-<hash>`.
pub fn epoint_seal_code(code: &str) -> String {
    match code.strip_prefix("SOFTCA-") {
        Some(rest) => format!("{SEAL_PREFIX}{rest}"),
        None => code.to_string(),
    }
}

export_adapter!(EpointAdapter);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use camr_plugin_abi::codes;

    #[test]
    fn garbage_and_wrong_packets_are_input_malformed() {
        let a = EpointAdapter::new();
        for raw in [
            &b""[..],
            b"garbage",
            b"[]",
            br#"{"algorithm":"SM2","certificateChain":["AAAA"]}"#,
            br#"{"Version":"EP4","BizType":"LOGIN","CertScope":"PLATFORM","Alg":"SM2","CertInfo":{"SignCert":"AAAA"},"SignList":[{"ItemId":"r","SignValue":"00"}]}"#,
            br#"{"Version":"EP5.2","BizType":"SIGN","CertScope":"PLATFORM","Alg":"SM2","CertInfo":{"SignCert":"AAAA"},"SignList":[{"ItemId":"r","SignValue":"00"}]}"#,
            br#"{"Version":"EP5.2","BizType":"LOGIN","CertScope":"CITY","Alg":"SM2","CertInfo":{"SignCert":"AAAA"},"SignList":[{"ItemId":"r","SignValue":"00"}]}"#,
            br#"{"Version":"EP5.2","BizType":"LOGIN","CertScope":"PLATFORM","Alg":"SM9","CertInfo":{"SignCert":"AAAA"},"SignList":[{"ItemId":"r","SignValue":"00"}]}"#,
            br#"{"Version":"EP5.2","BizType":"LOGIN","CertScope":"PLATFORM","Alg":"SM2","CertInfo":{"SignCert":"!!"},"SignList":[{"ItemId":"r","SignValue":"00"}]}"#,
            br#"{"Version":"EP5.2","BizType":"LOGIN","CertScope":"PLATFORM","Alg":"SM2","CertInfo":{"SignCert":"AAAA"},"Verdict":"OK"}"#,
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
                br#"{"Version":"EP5.2","BizType":"LOGIN","CertScope":"PLATFORM","Alg":"SM2","CertInfo":{"SignCert":"AAAA"},"SignList":[{"ItemId":"r","SignValue":"00"}]}"#,
            )
            .unwrap_err();
        assert_eq!(e.code(), codes::CERT_MALFORMED, "{e}");
        let big = vec![b' '; MAX_EVIDENCE_BYTES + 1];
        assert_eq!(
            a.decode_evidence("login", &big).unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
    }

    #[test]
    fn outbound_calls_need_a_cloud_and_seal_codes_are_epoints() {
        let a = EpointAdapter::new();
        a.configure("{}").unwrap();
        let e = a.list_seals(r#"{"certSn":"7F"}"#).unwrap_err();
        assert_eq!(e.code(), codes::ADAPTER_UNAVAILABLE, "{e}");
        assert!(a.configure(r#"{"cloudUrl":"ftp://x"}"#).is_err());
        assert_eq!(
            epoint_seal_code("SOFTCA-official-1a2b"),
            "EPOINT-official-1a2b"
        );
    }
}
