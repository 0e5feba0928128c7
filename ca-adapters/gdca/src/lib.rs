//! # camr-adapter-gdca — the adapter for 数信签 (GDCA, `caOrgType` `GDCA`)
//!
//! Built as a `cdylib` (the `.so` a platform loads) and an `rlib`. See `docs/vendors/gdca.md`.
//!
//! * **Wire format** (our model; GDCA's real app protocol is not public): a JSON object in
//!   GDCA's own names (`gdcaVer`, `keyAlg`, `signCert`, `caCerts`, `encCert`, `signList`,
//!   `decList`, `refuseList`); its types, strict decoding and encoding are `camr-gdca-wire`
//!   (shared with the GDCA cloud simulator and the app simulator), re-exported here
//!   ([`decode_strict`]). It translates; the core verifies everything, delegations (证书授权)
//!   included — those travel in camr's `Response` (`operator`, `delegation`), not in the
//!   vendor evidence.
//! * **Outbound calls** go to the GDCA cloud (`gdca-cloud`): `GET /gdca/enc-certs?serial=HEX`
//!   (every encryption certificate of the holder, the current one first: a holder may have
//!   renewed it; a subject naming `encCertSn` gets that one — the one an envelope was made
//!   for), `GET /crl`, `POST /tasks` + `GET /tasks/{id}`, `POST /usage`, and
//!   `GET /gdca/seals?serial=HEX` (个人名章/个人手写签名 for a person, 公章… for an
//!   organisation). Without `cloudUrl` they answer `ADAPTER_UNAVAILABLE`.
//!
//! Configuration: `{"cloudUrl": "http://127.0.0.1:8720", "timeoutMs": 5000}`.
#![forbid(unsafe_code)]

use camr::pki::Certificate;
use camr::protocol::{Bytes, Evidence};
use camr_adapter_kit::Cloud;
use camr_adapter_kit::calls;
use camr_adapter_kit::vendor::{CloudAdapter, Vendor};
use camr_plugin_abi::{AdapterError, export_adapter};
use data_encoding::BASE64;
use serde::Deserialize;

pub use camr_gdca_wire::{
    CA_ORG_TYPE, GDCA_VER, GdcaAnswer, MAX_EVIDENCE_BYTES, decode as decode_strict, decode_answer,
};

/// One entry of `GET /gdca/enc-certs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EncCertEntry {
    enc_cert_sn: String,
    cert: Bytes,
}

/// `GET path` of the GDCA cloud, as JSON.
fn get_json(cloud: &Cloud, call: &str, path: &str) -> Result<serde_json::Value, AdapterError> {
    let answer = cloud.send(call, cloud.client().get(cloud.url(path)))?;
    serde_json::from_slice(&answer).map_err(|e| {
        AdapterError::failed(format!("{call}: the GDCA cloud's answer is not JSON ({e})"))
    })
}

/// GDCA as the kit's [`Vendor`]: the whole adapter is [`CloudAdapter`] with GDCA's
/// encryption-certificate call and seal list (`GET /gdca/seals?serial=HEX`: 个人名章,
/// 个人手写签名; 公章… for an organisation).
#[derive(Debug)]
pub struct Gdca;

impl Vendor for Gdca {
    const CA_ORG_TYPE: &'static str = CA_ORG_TYPE;
    const VENDOR_NAME: &'static str = "数安时代 GDCA (数信签)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const CLOUD: &'static str = "gdca";
    const SEALS_PATH: &'static str = "/gdca/seals";
    const SEAL_PREFIX: Option<&'static str> = None;

    fn decode(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
        decode_strict(operation, raw)
    }

    /// `GET /gdca/enc-certs?serial=HEX` (or `?name=`): the holder's encryption certificates,
    /// current first; the subject's `encCertSn`, when given, picks that one (the certificate an
    /// envelope was made for), else the current one.
    fn fetch_encryption_cert(
        cloud: impl calls::GetCloud,
        subject_json: &str,
    ) -> Result<Vec<u8>, AdapterError> {
        let query = calls::holder_query(subject_json)?;
        let wanted = calls::subject_field(subject_json, "encCertSn")?;
        let cloud = cloud()?;
        let list = get_json(
            &cloud,
            "fetch_encryption_cert",
            &format!("/gdca/enc-certs?{query}"),
        )?;
        let list: Vec<EncCertEntry> = serde_json::from_value(list).map_err(|e| {
            AdapterError::failed(format!(
                "fetch_encryption_cert: the GDCA cloud's list is not one of encryption certificates ({e})"
            ))
        })?;
        let entry = match &wanted {
            Some(sn) => list
                .iter()
                .find(|c| c.enc_cert_sn.eq_ignore_ascii_case(sn))
                .ok_or_else(|| {
                    AdapterError::failed(format!(
                        "the holder has no encryption certificate `{sn}` at the GDCA cloud"
                    ))
                })?,
            None => list.first().ok_or_else(|| {
                AdapterError::failed("the holder has no encryption certificate at the GDCA cloud")
            })?,
        };
        let cert = Certificate::from_der(&entry.cert).map_err(|e| {
            AdapterError::failed(format!(
                "the GDCA cloud's encryption certificate does not decode ({e})"
            ))
        })?;
        if !cert.serial_hex().eq_ignore_ascii_case(&entry.enc_cert_sn) {
            return Err(AdapterError::failed(
                "the GDCA cloud's encryption certificate is not the one it names",
            ));
        }
        Ok(entry.cert.0.clone())
    }
}

/// The GDCA adapter.
pub type GdcaAdapter = CloudAdapter<Gdca>;

export_adapter!(GdcaAdapter);

/// Base64 as the wire writes it (for tests and tools).
pub fn b64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use camr::protocol::PublicKeyAlgorithm;
    use camr_plugin_abi::AdapterImpl;
    use camr_plugin_abi::codes;

    #[test]
    fn the_json_maps_onto_camr_evidence() {
        let raw = r#"{"gdcaVer":"1.0","keyAlg":"ECC-P256","signCert":"AAEC","caCerts":["AwQ="],
            "signList":[{"bizId":"d1","signData":"AQID"}],
            "decList":[{"bizId":"k1","sessionKey":"BAUG"}],
            "refuseList":[{"bizId":"d2","refuseReason":"重复"}]}"#;
        let e = decode_answer(raw.as_bytes()).unwrap();
        assert_eq!(e.algorithm, PublicKeyAlgorithm::EcdsaP256);
        assert_eq!(
            e.certificate_chain,
            vec![Bytes(vec![0, 1, 2]), Bytes(vec![3, 4])]
        );
        assert_eq!(e.signatures[0].item_id, "d1");
        assert_eq!(e.decrypted_keys[0].item_id, "k1");
        assert_eq!(e.item_rejections[0].reason, "重复");
    }

    #[test]
    fn garbage_and_foreign_json_is_input_malformed() {
        let a = GdcaAdapter::new();
        for raw in [
            &b""[..],
            b"garbage",
            b"[]",
            br#"{"algorithm":"SM2","certificateChain":["AAEC"]}"#,
            br#"{"gdcaVer":"1.0","keyAlg":"SM2"}"#,
            br#"{"gdcaVer":"2.0","keyAlg":"SM2","signCert":"AAEC"}"#,
            br#"{"gdcaVer":"1.0","keyAlg":"SM9","signCert":"AAEC"}"#,
            br#"{"gdcaVer":"1.0","keyAlg":"SM2","signCert":"***"}"#,
            br#"{"gdcaVer":"1.0","keyAlg":"SM2","signCert":"AAEC","verdict":"ok"}"#,
            br#"{"gdcaVer":"1.0","keyAlg":"SM2","signCert":"AAEC","signList":[{"bizId":"x"}]}"#,
        ] {
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
        let e = a
            .decode_evidence(
                "login",
                br#"{"gdcaVer":"1.0","keyAlg":"SM2","signCert":"AAEC","signList":[{"bizId":"r","signData":"AQ=="}]}"#,
            )
            .unwrap_err();
        assert_eq!(e.code(), codes::CERT_MALFORMED, "{e}");
        assert_eq!(
            a.decode_evidence("nope", b"{}").unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
    }

    #[test]
    fn outbound_calls_need_a_cloud() {
        let a = GdcaAdapter::new();
        a.configure("{}").unwrap();
        let e = a.fetch_encryption_cert(r#"{"certSn":"7F01"}"#).unwrap_err();
        assert_eq!(e.code(), codes::ADAPTER_UNAVAILABLE);
        for subject in ["{}", "not json"] {
            let e = a.fetch_encryption_cert(subject).unwrap_err();
            assert_eq!(e.code(), codes::INPUT_MALFORMED, "{subject}: {e}");
        }
        assert_eq!(a.info().ca_org_type, "GDCA");
    }
}
