//! # camr-adapter-softca — the adapter for camr's reference software CA (`SOFTCA`)
//!
//! This is the template a CA vendor copies (see `docs/adapter-guide.md`). It is built as a
//! `cdylib` (the `.so` a platform drops into its plugin folder) and as an `rlib` (so that tests
//! in other crates can make cargo build the `.so`).
//!
//! * **Wire format.** The softca app answers in camr's own normalised form, so
//!   `decode_evidence` ([`decode_strict`]) parses the raw answer as JSON of
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

use camr::protocol::{Evidence, Operation};
use camr_adapter_kit::calls;
use camr_adapter_kit::vendor::{CloudAdapter, Vendor};
use camr_plugin_abi::{AdapterError, export_adapter};

/// The vendor code (`caOrgType`) of camr's software CA.
pub const CA_ORG_TYPE: &str = "SOFTCA";
/// Largest raw answer `decode_evidence` accepts (1 MiB); larger is `INPUT_MALFORMED`.
pub const MAX_EVIDENCE_BYTES: usize = 1024 * 1024;
/// Largest body read from the cloud (4 MiB).
pub const MAX_CLOUD_BODY: u64 = camr_adapter_kit::MAX_CLOUD_BODY;
/// Timeout of outbound calls when the configuration names none.
pub const DEFAULT_TIMEOUT_MS: u64 = camr_adapter_kit::DEFAULT_TIMEOUT_MS;

/// The fields of `camr::protocol::Evidence` (camelCase): anything else is refused.
const EVIDENCE_FIELDS: [&str; 6] = [
    "algorithm",
    "certificateChain",
    "signatures",
    "encryptionCertificate",
    "decryptedKeys",
    "itemRejections",
];

fn malformed(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::malformed(format!("{what} ({e})"))
}

/// camr's software CA as the kit's [`Vendor`]: the whole adapter is [`CloudAdapter`].
#[derive(Debug)]
pub struct SoftCa;

impl Vendor for SoftCa {
    const CA_ORG_TYPE: &'static str = CA_ORG_TYPE;
    const VENDOR_NAME: &'static str = "camr reference software CA";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const CLOUD: &'static str = "softca";
    const SEAL_PREFIX: Option<&'static str> = None;

    fn decode(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
        decode_strict(operation, raw)
    }
}

/// The softca adapter.
pub type SoftCaAdapter = CloudAdapter<SoftCa>;

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
    calls::check_evidence(
        op,
        &evidence,
        calls::EvidenceNames {
            container: "the evidence",
            chain: "of the chain",
            encryption_certificate: "the encryption certificate",
            signatures: "signatures",
            signature: "signature",
        },
    )?;
    Ok(evidence)
}

pub use camr_adapter_kit::status_from_crl;

export_adapter!(SoftCaAdapter);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use camr_plugin_abi::AdapterImpl;
    use camr_plugin_abi::codes;

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
