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

use camr::protocol::Evidence;
use camr_adapter_kit::vendor::{CloudAdapter, Vendor};
use camr_plugin_abi::{AdapterError, export_adapter};

pub use camr_bjca_wire::{CA_ORG_TYPE, MAX_EVIDENCE_BYTES};

/// BJCA as the kit's [`Vendor`]: the whole adapter is [`CloudAdapter`].
#[derive(Debug)]
pub struct Bjca;

impl Vendor for Bjca {
    const CA_ORG_TYPE: &'static str = CA_ORG_TYPE;
    const VENDOR_NAME: &'static str = "BJCA 北京数字认证 (掌上信手书, camr model)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const CLOUD: &'static str = "bjca";
    const ALGORITHMS: &'static [&'static str] = &["SM2"];
    const SEAL_PREFIX: Option<&'static str> = None;

    fn decode(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
        decode_strict(operation, raw)
    }
}

/// The BJCA adapter.
pub type BjcaAdapter = CloudAdapter<Bjca>;

/// The BJCA answer to `operation` as camr evidence (see [`camr_bjca_wire::decode`]), with the
/// ABI's error codes.
pub fn decode_strict(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
    camr_bjca_wire::decode(operation, raw).map_err(|e| AdapterError::new(e.code, e.msg))
}

export_adapter!(BjcaAdapter);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use camr_plugin_abi::AdapterImpl;
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
