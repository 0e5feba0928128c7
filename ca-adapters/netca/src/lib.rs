//! # camr-adapter-netca — the adapter for 网证通互认 APP (NETCA, `caOrgType` `NETCA`)
//!
//! Built as a `cdylib` (the `.so` a platform loads) and an `rlib` (so that tests elsewhere can
//! make cargo build the `.so`). See `docs/vendors/netca.md`.
//!
//! * **Wire format** (our model; NETCA's real app protocol is not public): a NETCA signed-data
//!   block, text armour of `name: value` lines; its grammar, strict decoding and encoding are
//!   `camr-netca-wire` (shared with the NETCA cloud simulator and the app simulator), re-exported
//!   here ([`decode_block`], [`decode_strict`]). It *translates*; the core verifies everything.
//! * **Outbound calls** go to the NETCA cloud (`netca-cloud`): `GET /enc-cert`, `GET /crl`,
//!   `POST /tasks` + `GET /tasks/{id}`, `POST /usage`, and `GET /netca/seals?serial=HEX` (the
//!   holder's seals made in the NETCA app: 人名章/手写签名 for a person, 公章/法人章/合同章…
//!   for an organisation). Without `cloudUrl` they answer `ADAPTER_UNAVAILABLE`.
//!
//! Configuration: `{"cloudUrl": "http://127.0.0.1:8710", "timeoutMs": 5000}`.
#![forbid(unsafe_code)]

use camr::protocol::Evidence;
use camr_adapter_kit::vendor::{CloudAdapter, Vendor};
use camr_plugin_abi::{AdapterError, export_adapter};

pub use camr_netca_wire::{
    BEGIN, CA_ORG_TYPE, END, MAX_EVIDENCE_BYTES, decode as decode_strict, decode_block,
};

/// NETCA as the kit's [`Vendor`]: the whole adapter is [`CloudAdapter`].
#[derive(Debug)]
pub struct Netca;

impl Vendor for Netca {
    const CA_ORG_TYPE: &'static str = CA_ORG_TYPE;
    const VENDOR_NAME: &'static str = "网证通 NETCA (网证通互认 APP)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const CLOUD: &'static str = "netca";
    const SEALS_PATH: &'static str = "/netca/seals";
    const SEAL_PREFIX: Option<&'static str> = None;

    fn decode(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
        decode_strict(operation, raw)
    }
}

/// The NETCA adapter.
pub type NetcaAdapter = CloudAdapter<Netca>;

export_adapter!(NetcaAdapter);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use camr::protocol::{Bytes, PublicKeyAlgorithm};
    use camr_plugin_abi::AdapterImpl;
    use camr_plugin_abi::codes;
    use data_encoding::BASE64;

    fn block(lines: &[&str]) -> Vec<u8> {
        let mut s = format!("{BEGIN}\n");
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
        s.push_str(END);
        s.into_bytes()
    }

    #[test]
    fn the_block_is_read_field_by_field() {
        let id = BASE64.encode("doc 1".as_bytes());
        let reason = BASE64.encode("报价有误".as_bytes());
        let raw = block(&[
            "version: 1",
            "signAlgorithm: SM2",
            "certificate: AAEC",
            &format!("signerInfo: {id} AQID"),
            &format!("rejectInfo: {id} {reason}"),
            &format!("recipientInfo: {id} BAUG"),
        ]);
        let e = decode_block(&raw).unwrap();
        assert_eq!(e.algorithm, PublicKeyAlgorithm::Sm2);
        assert_eq!(e.certificate_chain, vec![Bytes(vec![0, 1, 2])]);
        assert_eq!(e.signatures[0].item_id, "doc 1");
        assert_eq!(e.signatures[0].signature_value.0, vec![1, 2, 3]);
        assert_eq!(e.item_rejections[0].reason, "报价有误");
        assert_eq!(e.decrypted_keys[0].encrypted_to_platform.0, vec![4, 5, 6]);
    }

    #[test]
    fn garbage_and_every_broken_block_is_input_malformed() {
        let a = NetcaAdapter::new();
        let good = ["version: 1", "signAlgorithm: SM2", "certificate: AAEC"];
        let cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"garbage".to_vec(),
            b"{\"algorithm\":\"SM2\",\"certificateChain\":[]}".to_vec(),
            good.join("\n").into_bytes(),
            block(&["version: 1", "certificate: AAEC"]),
            block(&["signAlgorithm: SM2", "certificate: AAEC"]),
            block(&["version: 2", "signAlgorithm: SM2", "certificate: AAEC"]),
            block(&["version: 1", "version: 1", "signAlgorithm: SM2"]),
            block(&["version: 1", "signAlgorithm: SM9", "certificate: AAEC"]),
            block(&["version: 1", "signAlgorithm: SM2", "certificate: ***"]),
            block(&["version: 1", "signAlgorithm: SM2", "verdict: ok"]),
            block(&["version: 1", "signAlgorithm: SM2", "signerInfo: AAEC"]),
            block(&["version: 1", "signAlgorithm: SM2", "signerInfo: AA BB CC"]),
            block(&["version: 1", "signAlgorithm: SM2", "no separator"]),
            block(&["version: 1", "signAlgorithm: SM2"]),
        ];
        for raw in &cases {
            let e = a.decode_evidence("login", raw).unwrap_err();
            assert_eq!(
                e.code(),
                codes::INPUT_MALFORMED,
                "{}: {e}",
                String::from_utf8_lossy(raw)
            );
        }
        let big = vec![b' '; MAX_EVIDENCE_BYTES + 1];
        assert_eq!(
            a.decode_evidence("login", &big).unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
        // A certificate that is not DER, and a login without a signature.
        let e = a.decode_evidence("login", &block(&good)).unwrap_err();
        assert_eq!(e.code(), codes::CERT_MALFORMED, "{e}");
        assert_eq!(
            a.decode_evidence("nope", &block(&good)).unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
    }

    #[test]
    fn outbound_calls_need_a_cloud() {
        let a = NetcaAdapter::new();
        a.configure("{}").unwrap();
        let e = a.list_seals(r#"{"certSn":"7F01"}"#).unwrap_err();
        assert_eq!(e.code(), codes::ADAPTER_UNAVAILABLE);
        for subject in ["{}", r#"{"certSn":""}"#, "not json"] {
            let e = a.list_seals(subject).unwrap_err();
            assert_eq!(e.code(), codes::INPUT_MALFORMED, "{subject}: {e}");
        }
        assert!(a.configure(r#"{"cloudUrl":"ftp://x"}"#).is_err());
        assert_eq!(a.info().ca_org_type, "NETCA");
    }
}
