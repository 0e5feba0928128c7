//! # camr-adapter-gdca — the adapter for 数信签 (GDCA, `caOrgType` `GDCA`)
//!
//! Built as a `cdylib` (the `.so` a platform loads) and an `rlib`. See `docs/vendors/gdca.md`.
//!
//! * **Wire format** (our model; GDCA's real app protocol is not public): the app answers with
//!   a JSON object in GDCA's own names —
//!
//!   ```json
//!   {"gdcaVer": "1.0", "keyAlg": "SM2",
//!    "signCert": "<base64 DER>", "caCerts": ["<base64 DER>", …],
//!    "encCert": "<base64 DER>",
//!    "signList":   [{"bizId": "…", "signData": "<base64>"}],
//!    "decList":    [{"bizId": "…", "sessionKey": "<base64, re-encrypted to the platform>"}],
//!    "refuseList": [{"bizId": "…", "refuseReason": "…"}]}
//!   ```
//!
//!   `keyAlg` is `SM2`, `RSA` or `ECC-P256`; `gdcaVer`, `keyAlg` and `signCert` are required,
//!   the lists and `encCert` optional, anything else refused. [`decode_strict`] maps it onto
//!   camr's [`Evidence`] (`signCert` then `caCerts` as the chain). It translates; the core
//!   verifies everything, delegations (证书授权) included — those travel in camr's `Response`
//!   (`operator`, `delegation`), not in the vendor evidence.
//! * **Outbound calls** go to the GDCA cloud (`gdca-cloud`): `GET /gdca/enc-certs?serial=HEX`
//!   (every encryption certificate of the holder, the current one first: a holder may have
//!   renewed it; a subject naming `encCertSn` gets that one — the one an envelope was made
//!   for), `GET /crl`, `POST /tasks` + `GET /tasks/{id}`, `POST /usage`, and
//!   `GET /gdca/seals?serial=HEX` (个人名章/个人手写签名 for a person, 公章… for an
//!   organisation). Without `cloudUrl` they answer `ADAPTER_UNAVAILABLE`.
//!
//! Configuration: `{"cloudUrl": "http://127.0.0.1:8720", "timeoutMs": 5000}`.
#![forbid(unsafe_code)]

use std::sync::Arc;

use camr::pki::Certificate;
use camr::protocol::{
    Bytes, DecryptedKey, Evidence, ItemRejection, ItemSignature, Operation, PublicKeyAlgorithm,
};
use camr_adapter_kit::calls;
use camr_adapter_kit::{Cloud, CloudConfig, CloudSlot};
use camr_plugin_abi::{AdapterError, AdapterImpl, AdapterInfo, CertStatus, export_adapter};
use data_encoding::BASE64;
use serde::{Deserialize, Serialize};

/// GDCA's vendor code (`caOrgType`).
pub const CA_ORG_TYPE: &str = "GDCA";
/// Largest raw answer accepted (1 MiB).
pub const MAX_EVIDENCE_BYTES: usize = 1024 * 1024;
/// The only `gdcaVer` this adapter reads.
pub const GDCA_VER: &str = "1.0";

/// A signature of one business item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GdcaSign {
    /// The item id (业务编号).
    pub biz_id: String,
    /// The signature value.
    pub sign_data: Bytes,
}

/// An unwrapped session key, re-encrypted to the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GdcaDec {
    /// The item id.
    pub biz_id: String,
    /// The key, encrypted to the platform's per-transaction key.
    pub session_key: Bytes,
}

/// An item the user refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GdcaRefuse {
    /// The item id.
    pub biz_id: String,
    /// Why.
    pub refuse_reason: String,
}

/// The 数信签 app's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GdcaAnswer {
    /// Format version, `1.0`.
    pub gdca_ver: String,
    /// `SM2`, `RSA` or `ECC-P256`.
    pub key_alg: String,
    /// The signing certificate.
    pub sign_cert: Bytes,
    /// Intermediate and root.
    #[serde(default)]
    pub ca_certs: Vec<Bytes>,
    /// The encryption certificate (encrypt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc_cert: Option<Bytes>,
    /// Signatures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sign_list: Vec<GdcaSign>,
    /// Unwrapped keys (decrypt).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dec_list: Vec<GdcaDec>,
    /// Refused items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refuse_list: Vec<GdcaRefuse>,
}

/// GDCA's name of an algorithm.
pub fn key_alg_name(a: PublicKeyAlgorithm) -> &'static str {
    match a {
        PublicKeyAlgorithm::Sm2 => "SM2",
        PublicKeyAlgorithm::Rsa => "RSA",
        PublicKeyAlgorithm::EcdsaP256 => "ECC-P256",
    }
}

/// The GDCA adapter.
#[derive(Default)]
pub struct GdcaAdapter {
    cloud: CloudSlot,
}

impl std::fmt::Debug for GdcaAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GdcaAdapter")
    }
}

fn malformed(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::malformed(format!("{what} ({e})"))
}

/// Reads the GDCA JSON into camr evidence (no checks of meaning; see [`decode_strict`]).
pub fn decode_answer(raw: &[u8]) -> Result<Evidence, AdapterError> {
    if raw.is_empty() {
        return Err(AdapterError::malformed("the answer is empty"));
    }
    if raw.len() > MAX_EVIDENCE_BYTES {
        return Err(AdapterError::malformed(format!(
            "the answer has {} bytes; at most {MAX_EVIDENCE_BYTES} are accepted",
            raw.len()
        )));
    }
    let a: GdcaAnswer =
        serde_json::from_slice(raw).map_err(|e| malformed("the answer is not GDCA JSON", e))?;
    if a.gdca_ver != GDCA_VER {
        return Err(AdapterError::malformed(format!(
            "gdcaVer `{}` is not {GDCA_VER}",
            a.gdca_ver.chars().take(16).collect::<String>()
        )));
    }
    let algorithm = match a.key_alg.as_str() {
        "SM2" => PublicKeyAlgorithm::Sm2,
        "RSA" => PublicKeyAlgorithm::Rsa,
        "ECC-P256" => PublicKeyAlgorithm::EcdsaP256,
        other => {
            return Err(AdapterError::malformed(format!(
                "unknown keyAlg `{}`",
                other.chars().take(16).collect::<String>()
            )));
        }
    };
    Ok(Evidence {
        algorithm,
        certificate_chain: std::iter::once(a.sign_cert).chain(a.ca_certs).collect(),
        signatures: a
            .sign_list
            .into_iter()
            .map(|s| ItemSignature {
                item_id: s.biz_id,
                signature_value: s.sign_data,
            })
            .collect(),
        encryption_certificate: a.enc_cert,
        decrypted_keys: a
            .dec_list
            .into_iter()
            .map(|d| DecryptedKey {
                item_id: d.biz_id,
                encrypted_to_platform: d.session_key,
            })
            .collect(),
        item_rejections: a
            .refuse_list
            .into_iter()
            .map(|r| ItemRejection {
                item_id: r.biz_id,
                reason: r.refuse_reason,
            })
            .collect(),
    })
}

/// Strict decoding: the JSON, then what every answer must carry (certificates that decode;
/// signatures for every operation but `encrypt`).
pub fn decode_strict(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
    let op: Operation = operation
        .parse()
        .map_err(|_| AdapterError::malformed(format!("unknown operation `{operation}`")))?;
    let evidence = decode_answer(raw)?;
    calls::check_evidence(
        op,
        &evidence,
        calls::EvidenceNames {
            container: "the answer",
            chain: "(signCert, then caCerts)",
            encryption_certificate: "encCert",
            signatures: "a signList",
            signature: "signData",
        },
    )?;
    Ok(evidence)
}

/// One entry of `GET /gdca/enc-certs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EncCertEntry {
    enc_cert_sn: String,
    cert: Bytes,
}

impl GdcaAdapter {
    /// A new, unconfigured adapter.
    pub fn new() -> Self {
        Self::default()
    }

    fn cloud(&self) -> Result<Arc<Cloud>, AdapterError> {
        self.cloud.get("gdca")
    }

    fn get_json(&self, call: &str, path: &str) -> Result<serde_json::Value, AdapterError> {
        let cloud = self.cloud()?;
        let answer = cloud.send(call, cloud.client().get(cloud.url(path)))?;
        serde_json::from_slice(&answer).map_err(|e| {
            AdapterError::failed(format!("{call}: the GDCA cloud's answer is not JSON ({e})"))
        })
    }
}

impl AdapterImpl for GdcaAdapter {
    fn info(&self) -> AdapterInfo {
        AdapterInfo {
            ca_org_type: CA_ORG_TYPE.into(),
            vendor_name: "数安时代 GDCA (数信签)".into(),
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
            .configure("gdca", &CloudConfig::parse(config_json)?)
    }

    fn decode_evidence(&self, operation: &str, raw: &[u8]) -> Result<String, AdapterError> {
        let evidence = decode_strict(operation, raw)?;
        serde_json::to_string(&evidence)
            .map_err(|e| AdapterError::failed(format!("cannot encode evidence ({e})")))
    }

    /// `GET /gdca/enc-certs?serial=HEX` (or `?name=`): the holder's encryption certificates,
    /// current first; the subject's `encCertSn`, when given, picks that one (the certificate an
    /// envelope was made for), else the current one.
    fn fetch_encryption_cert(&self, subject_json: &str) -> Result<Vec<u8>, AdapterError> {
        let query = calls::holder_query(subject_json)?;
        let wanted = calls::subject_field(subject_json, "encCertSn")?;
        let list = self.get_json("fetch_encryption_cert", &format!("/gdca/enc-certs?{query}"))?;
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

    fn cert_status(&self, cert_der: &[u8]) -> Result<CertStatus, AdapterError> {
        calls::cert_status(|| self.cloud(), cert_der)
    }

    fn push_task(&self, user_json: &str, request_json: &str) -> Result<String, AdapterError> {
        calls::push_task(|| self.cloud(), user_json, request_json)
    }

    fn poll_task(&self, handle: &str) -> Result<String, AdapterError> {
        calls::poll_task(|| self.cloud(), handle)
    }

    /// `GET /gdca/seals?serial=HEX`: the holder's seals (个人名章, 个人手写签名; 公章… for an
    /// organisation).
    fn list_seals(&self, subject_json: &str) -> Result<String, AdapterError> {
        let seals = calls::list_seals(|| self.cloud(), "/gdca/seals", subject_json)?;
        Ok(calls::seals_json(seals, str::to_string))
    }

    fn report_usage(&self, record_json: &str) -> Result<(), AdapterError> {
        calls::report_usage(|| self.cloud(), "/usage", record_json)
    }
}

export_adapter!(GdcaAdapter);

/// Base64 as the wire writes it (for tests and tools).
pub fn b64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
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
