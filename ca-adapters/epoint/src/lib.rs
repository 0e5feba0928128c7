//! # camr-adapter-epoint — the adapter for 新点标证通 (Epoint)
//!
//! A documented model (docs/vendors/epoint.md): Epoint's real cloud API is not public.
//!
//! * **Wire format.** The Epoint app answers with a PascalCase JSON "business packet" (业务报文):
//!   `Version` (`EP5.2`), `BizType` (`LOGIN`, `MSGSIGN`, `SIGN`, `UNSIGN`, `ENCRYPT`,
//!   `DECRYPT`), `CertScope` (本平台证书 `PLATFORM` / 全国版 `NATIONAL`), `Alg`, `CertInfo`
//!   (`SignCert`, `Chain`, `EncCert`, base64 DER), `SignList[{ItemId,SignValue}]` (signature
//!   values in **hex**), `KeyList[{ItemId,WrapKey}]` (unwrapped keys, hex) and
//!   `RefuseList[{ItemId,Reason}]`. [`decode_strict`] turns it into camr's [`Evidence`]
//!   strictly (unknown fields, another business type, bad hex or base64: `INPUT_MALFORMED`).
//!   It translates; the core verifies — including whether a 本平台证书 came through the
//!   Epoint QR code (the platform's `entitlement.platform_only`).
//! * **Outbound calls** go to the Epoint cloud (`epoint-cloud`): `GET /enc-cert`, `GET /crl`,
//!   `POST /tasks` + `GET /tasks/{id}` (待办), `GET /seals` (codes `EPOINT-…`), `POST /usage`.
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
use camr_plugin_abi::{AdapterError, AdapterImpl, AdapterInfo, CertStatus, codes, export_adapter};
use data_encoding::{BASE64, HEXLOWER_PERMISSIVE};
use serde::{Deserialize, Serialize};

/// The vendor code (`caOrgType`).
pub const CA_ORG_TYPE: &str = "EPOINT";
/// Largest raw answer accepted (1 MiB).
pub const MAX_EVIDENCE_BYTES: usize = 1024 * 1024;
/// The prefix of Epoint seal codes.
pub const SEAL_PREFIX: &str = "EPOINT-";
/// The packet version this adapter reads.
pub const VERSION: &str = "EP5.2";

/// The Epoint app's business packet (业务报文).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EpointPacket {
    /// `EP5.2`.
    pub version: String,
    /// `LOGIN`, `MSGSIGN`, `SIGN`, `UNSIGN`, `ENCRYPT`, `DECRYPT`.
    pub biz_type: String,
    /// 本平台证书 (`PLATFORM`) or 全国版 (`NATIONAL`).
    pub cert_scope: String,
    /// `SM2`, `RSA` or `ECDSA_P256`.
    pub alg: String,
    /// The certificates.
    pub cert_info: EpointCertInfo,
    /// Signature values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sign_list: Vec<EpointSign>,
    /// Unwrapped envelope keys (扫码解密).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_list: Vec<EpointKey>,
    /// Refused items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refuse_list: Vec<EpointRefusal>,
}

/// `CertInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EpointCertInfo {
    /// The signing certificate, base64 DER.
    pub sign_cert: String,
    /// Issuing CA then root, base64 DER.
    #[serde(default)]
    pub chain: Vec<String>,
    /// The encryption certificate (扫码生成投标文件), base64 DER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc_cert: Option<String>,
}

/// One signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EpointSign {
    /// The item.
    pub item_id: String,
    /// The signature, hex.
    pub sign_value: String,
}

/// One unwrapped key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EpointKey {
    /// The item.
    pub item_id: String,
    /// The key encrypted to the platform's per-transaction key, hex.
    pub wrap_key: String,
}

/// One refused item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EpointRefusal {
    /// The item.
    pub item_id: String,
    /// Why.
    pub reason: String,
}

/// Epoint's business type (`BizType`) of an operation.
pub fn biz_type(op: Operation) -> &'static str {
    match op {
        Operation::Login => "LOGIN",
        Operation::MessageSignature => "MSGSIGN",
        Operation::Signature => "SIGN",
        Operation::RevokeSignature => "UNSIGN",
        Operation::Encrypt => "ENCRYPT",
        Operation::Decrypt => "DECRYPT",
    }
}

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

fn malformed(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::malformed(format!("{what} ({e})"))
}

fn hex(what: &str, text: &str) -> Result<Vec<u8>, AdapterError> {
    let bytes = HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .map_err(|e| malformed(&format!("`{what}` is not hex"), e))?;
    if bytes.is_empty() {
        return Err(AdapterError::malformed(format!("`{what}` is empty")));
    }
    Ok(bytes)
}

fn cert(what: &str, text: &str) -> Result<Bytes, AdapterError> {
    let der = BASE64
        .decode(text.as_bytes())
        .map_err(|e| malformed(&format!("`{what}` is not base64"), e))?;
    Certificate::from_der(&der).map_err(|e| {
        AdapterError::new(
            codes::CERT_MALFORMED,
            format!("`{what}` does not decode as a certificate ({e})"),
        )
    })?;
    Ok(Bytes(der))
}

/// Strict decoding of an Epoint packet into camr evidence.
pub fn decode_strict(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
    let op: Operation = operation
        .parse()
        .map_err(|_| AdapterError::malformed(format!("unknown operation `{operation}`")))?;
    if raw.is_empty() {
        return Err(AdapterError::malformed("the Epoint packet is empty"));
    }
    if raw.len() > MAX_EVIDENCE_BYTES {
        return Err(AdapterError::malformed(format!(
            "the Epoint packet has {} bytes; at most {MAX_EVIDENCE_BYTES} are accepted",
            raw.len()
        )));
    }
    let p: EpointPacket = serde_json::from_slice(raw)
        .map_err(|e| malformed("the answer is not an Epoint business packet", e))?;
    if p.version != VERSION {
        return Err(AdapterError::malformed(format!(
            "packet version `{}`; this adapter reads {VERSION}",
            p.version.chars().take(20).collect::<String>()
        )));
    }
    // The app writes UNSIGN for a revoke. A revoke's evidence has the shape of a login's or a
    // signature's, and encoders that see only the evidence (the kit's) write those: read too.
    let fits = p.biz_type == biz_type(op)
        || (op == Operation::RevokeSignature && ["SIGN", "LOGIN"].contains(&p.biz_type.as_str()));
    if !fits {
        return Err(AdapterError::malformed(format!(
            "the packet is of business type `{}`, not `{}` ({op})",
            p.biz_type.chars().take(20).collect::<String>(),
            biz_type(op)
        )));
    }
    if !["PLATFORM", "NATIONAL"].contains(&p.cert_scope.as_str()) {
        return Err(AdapterError::malformed(format!(
            "`CertScope` must be PLATFORM (本平台证书) or NATIONAL (全国版), not `{}`",
            p.cert_scope.chars().take(20).collect::<String>()
        )));
    }
    let algorithm = match p.alg.as_str() {
        "SM2" => PublicKeyAlgorithm::Sm2,
        "RSA" => PublicKeyAlgorithm::Rsa,
        "ECDSA_P256" => PublicKeyAlgorithm::EcdsaP256,
        other => {
            return Err(AdapterError::malformed(format!(
                "unknown `Alg` `{}`",
                other.chars().take(20).collect::<String>()
            )));
        }
    };
    let mut certificate_chain = vec![cert("CertInfo.SignCert", &p.cert_info.sign_cert)?];
    for (i, c) in p.cert_info.chain.iter().enumerate() {
        certificate_chain.push(cert(&format!("CertInfo.Chain[{i}]"), c)?);
    }
    let signatures = p
        .sign_list
        .iter()
        .map(|s| {
            if s.item_id.is_empty() {
                return Err(AdapterError::malformed("an empty `ItemId` in `SignList`"));
            }
            Ok(ItemSignature {
                item_id: s.item_id.clone(),
                signature_value: Bytes(hex("SignValue", &s.sign_value)?),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if op != Operation::Encrypt && signatures.is_empty() {
        return Err(AdapterError::malformed(format!(
            "a `{op}` packet needs a `SignList`"
        )));
    }
    let encryption_certificate = p
        .cert_info
        .enc_cert
        .as_deref()
        .map(|c| cert("CertInfo.EncCert", c))
        .transpose()?;
    let decrypted_keys = p
        .key_list
        .iter()
        .map(|k| {
            Ok(DecryptedKey {
                item_id: k.item_id.clone(),
                encrypted_to_platform: Bytes(hex("WrapKey", &k.wrap_key)?),
            })
        })
        .collect::<Result<Vec<_>, AdapterError>>()?;
    let item_rejections = p
        .refuse_list
        .iter()
        .map(|r| ItemRejection {
            item_id: r.item_id.clone(),
            reason: r.reason.clone(),
        })
        .collect();
    Ok(Evidence {
        algorithm,
        certificate_chain,
        signatures,
        encryption_certificate,
        decrypted_keys,
        item_rejections,
    })
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
