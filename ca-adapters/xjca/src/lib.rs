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

use camr::protocol::Evidence;
use camr_adapter_kit::vendor::{self, CloudAdapter, Vendor};
use camr_plugin_abi::{AdapterError, export_adapter};

pub use camr_xjca_wire::{CA_ORG_TYPE, MAX_EVIDENCE_BYTES, decode as decode_strict};

/// The prefix of XJCA seal codes.
pub const SEAL_PREFIX: &str = "XJCA-";

/// XJCA as the kit's [`Vendor`]: the whole adapter is [`CloudAdapter`].
#[derive(Debug)]
pub struct Xjca;

impl Vendor for Xjca {
    const CA_ORG_TYPE: &'static str = CA_ORG_TYPE;
    const VENDOR_NAME: &'static str = "中标一证通 (XJCA, model)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const CLOUD: &'static str = "XJCA";
    const USAGE_PATH: &'static str = "/xjca/charge";
    const SEAL_PREFIX: Option<&'static str> = Some(SEAL_PREFIX);

    fn decode(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
        decode_strict(operation, raw)
    }
}

/// The XJCA adapter.
pub type XjcaAdapter = CloudAdapter<Xjca>;

/// The XJCA code of a seal the shared cloud code names `SOFTCA-<kind>-<hash>`.
pub fn xjca_seal_code(code: &str) -> String {
    vendor::seal_code(SEAL_PREFIX, code)
}

export_adapter!(XjcaAdapter);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use camr_plugin_abi::AdapterImpl;
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
