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

use camr::protocol::Evidence;
use camr_adapter_kit::vendor::{self, CloudAdapter, Vendor};
use camr_plugin_abi::{AdapterError, export_adapter};

pub use camr_epoint_wire::{CA_ORG_TYPE, MAX_EVIDENCE_BYTES, decode as decode_strict};

/// The prefix of Epoint seal codes.
pub const SEAL_PREFIX: &str = "EPOINT-";

/// Epoint as the kit's [`Vendor`]: the whole adapter is [`CloudAdapter`].
#[derive(Debug)]
pub struct Epoint;

impl Vendor for Epoint {
    const CA_ORG_TYPE: &'static str = CA_ORG_TYPE;
    const VENDOR_NAME: &'static str = "新点标证通 (Epoint, model)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const CLOUD: &'static str = "EPOINT";
    const SEAL_PREFIX: Option<&'static str> = Some(SEAL_PREFIX);

    fn decode(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
        decode_strict(operation, raw)
    }
}

/// The Epoint adapter.
pub type EpointAdapter = CloudAdapter<Epoint>;

/// The Epoint code of a seal the shared cloud code names `SOFTCA-<kind>-<hash>`.
pub fn epoint_seal_code(code: &str) -> String {
    vendor::seal_code(SEAL_PREFIX, code)
}

export_adapter!(EpointAdapter);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use camr_plugin_abi::AdapterImpl;
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
