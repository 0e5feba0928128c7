//! # camr-adapter-xjca — the adapter for 中标一证通 (XJCA, 新疆数字证书认证中心)
//!
//! A documented model (docs/vendors/xjca.md): XJCA's real cloud API is not public.
//!
//! * **Wire format.** The XJCA app answers with a result JSON shaped like the one its manual
//!   shows under 消息签名与验签 (`{"code":200,"success":true,"data":{…},"msg":"","errorCode":""}`);
//!   `data` carries the 扫码类型 (`scanType`), 个人授权/企业授权 (`authType`), the certificates
//!   (`signCert`, `caCerts`, `encCert`), the signature values (`signResults[{bizNo,signValue}]`),
//!   the unwrapped keys (`keyEnvelopes[{bizNo,cipherKey}]`) and refused items
//!   (`refused[{bizNo,reason}]`). [`decode_strict`] turns it into camr's
//!   [`Evidence`] — strictly (unknown fields, a failed result, a scan type of another operation,
//!   an authorisation type that does not fit the certificate: `INPUT_MALFORMED`). It translates;
//!   the core verifies.
//! * **Outbound calls** go to the XJCA cloud (`xjca-cloud`): `GET /enc-cert`, `GET /crl`,
//!   `POST /tasks` + `GET /tasks/{id}`, `GET /seals` (codes `XJCA-…`) and per-use billing
//!   (按量扣费) `POST /xjca/charge` with each usage record ([`AdapterImpl::report_usage`]).
//!
//! Configuration: `{"cloudUrl": "http://127.0.0.1:8710", "timeoutMs": 5000}`.
#![forbid(unsafe_code)]

use std::sync::Arc;

use camr::pki::Certificate;
use camr::protocol::{
    Bytes, DecryptedKey, Evidence, ItemRejection, ItemSignature, Operation, PublicKeyAlgorithm,
    SubjectType,
};
use camr_adapter_kit::calls;
use camr_adapter_kit::{Cloud, CloudConfig, CloudSlot};
use camr_plugin_abi::{AdapterError, AdapterImpl, AdapterInfo, CertStatus, codes, export_adapter};
use data_encoding::BASE64;
use serde::{Deserialize, Serialize};

/// The vendor code (`caOrgType`).
pub const CA_ORG_TYPE: &str = "XJCA";
/// Largest raw answer accepted (1 MiB).
pub const MAX_EVIDENCE_BYTES: usize = 1024 * 1024;
/// The prefix of XJCA seal codes.
pub const SEAL_PREFIX: &str = "XJCA-";

/// XJCA's result envelope (the shape of the manual's 验签结果).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct XjcaResult {
    /// `200` on success.
    pub code: i64,
    /// `true` on success.
    pub success: bool,
    /// The answer.
    #[serde(default)]
    pub data: Option<XjcaData>,
    /// A message (empty on success).
    #[serde(default)]
    pub msg: String,
    /// An error code (empty on success).
    #[serde(default)]
    pub error_code: String,
}

/// `data` of an XJCA answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct XjcaData {
    /// 扫码类型: `LOGIN`, `MSG_SIGN`, `FILE_SIGN`, `REVOKE_SEAL`, `ENCRYPT`, `DECRYPT`.
    pub scan_type: String,
    /// 个人授权 / 企业授权: `PERSONAL` or `ENTERPRISE`.
    pub auth_type: String,
    /// `SM2`, `RSA` or `ECDSA_P256`.
    pub sign_alg: String,
    /// The signing certificate, base64 DER.
    pub sign_cert: String,
    /// Issuing CA (then root) certificates, base64 DER.
    #[serde(default)]
    pub ca_certs: Vec<String>,
    /// Signature values.
    #[serde(default)]
    pub sign_results: Vec<XjcaSignResult>,
    /// The encryption certificate (授权加密), base64 DER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc_cert: Option<String>,
    /// Unwrapped envelope keys (授权解密), each encrypted to the platform.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_envelopes: Vec<XjcaEnvelope>,
    /// Items the user refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<XjcaRefusal>,
}

/// One signature value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct XjcaSignResult {
    /// The item (业务编号).
    pub biz_no: String,
    /// The signature, base64.
    pub sign_value: String,
}

/// One unwrapped key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct XjcaEnvelope {
    /// The item.
    pub biz_no: String,
    /// The key encrypted to the platform's per-transaction key, base64.
    pub cipher_key: String,
}

/// One refused item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct XjcaRefusal {
    /// The item.
    pub biz_no: String,
    /// Why.
    pub reason: String,
}

/// XJCA's scan type (扫码类型) of an operation.
pub fn scan_type(op: Operation) -> &'static str {
    match op {
        Operation::Login => "LOGIN",
        Operation::MessageSignature => "MSG_SIGN",
        Operation::Signature => "FILE_SIGN",
        Operation::RevokeSignature => "REVOKE_SEAL",
        Operation::Encrypt => "ENCRYPT",
        Operation::Decrypt => "DECRYPT",
    }
}

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

fn malformed(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::malformed(format!("{what} ({e})"))
}

fn b64(what: &str, text: &str) -> Result<Vec<u8>, AdapterError> {
    BASE64
        .decode(text.as_bytes())
        .map_err(|e| malformed(&format!("`{what}` is not base64"), e))
}

fn cert(what: &str, text: &str) -> Result<Bytes, AdapterError> {
    let der = b64(what, text)?;
    Certificate::from_der(&der).map_err(|e| {
        AdapterError::new(
            codes::CERT_MALFORMED,
            format!("`{what}` does not decode as a certificate ({e})"),
        )
    })?;
    Ok(Bytes(der))
}

/// Strict decoding of an XJCA answer into camr evidence.
pub fn decode_strict(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
    let op: Operation = operation
        .parse()
        .map_err(|_| AdapterError::malformed(format!("unknown operation `{operation}`")))?;
    if raw.is_empty() {
        return Err(AdapterError::malformed("the XJCA answer is empty"));
    }
    if raw.len() > MAX_EVIDENCE_BYTES {
        return Err(AdapterError::malformed(format!(
            "the XJCA answer has {} bytes; at most {MAX_EVIDENCE_BYTES} are accepted",
            raw.len()
        )));
    }
    let result: XjcaResult = serde_json::from_slice(raw)
        .map_err(|e| malformed("the answer is not an XJCA result JSON", e))?;
    if result.code != 200 || !result.success {
        return Err(AdapterError::malformed(format!(
            "the XJCA app reports a failure (code {}, errorCode `{}`): {}",
            result.code,
            result.error_code.chars().take(40).collect::<String>(),
            result.msg.chars().take(200).collect::<String>()
        )));
    }
    let data = result
        .data
        .ok_or_else(|| AdapterError::malformed("the XJCA result has no `data`"))?;
    // 授权撤章 answers REVOKE_SEAL. A revoke's evidence has the shape of a login's or a file
    // signature's, and encoders that see only the evidence (the kit's) write those: read too.
    let fits = data.scan_type == scan_type(op)
        || (op == Operation::RevokeSignature
            && ["FILE_SIGN", "LOGIN"].contains(&data.scan_type.as_str()));
    if !fits {
        return Err(AdapterError::malformed(format!(
            "the XJCA answer is of scan type `{}`, not `{}` ({op})",
            data.scan_type.chars().take(20).collect::<String>(),
            scan_type(op)
        )));
    }
    let algorithm = match data.sign_alg.as_str() {
        "SM2" => PublicKeyAlgorithm::Sm2,
        "RSA" => PublicKeyAlgorithm::Rsa,
        "ECDSA_P256" => PublicKeyAlgorithm::EcdsaP256,
        other => {
            return Err(AdapterError::malformed(format!(
                "unknown `signAlg` `{}`",
                other.chars().take(20).collect::<String>()
            )));
        }
    };
    let leaf = cert("signCert", &data.sign_cert)?;
    // 个人授权 / 企业授权: the authorisation the user picked must fit the certificate.
    let subject_type = Certificate::from_der(&leaf.0)
        .map(|c| c.subject().subject_type)
        .map_err(|e| AdapterError::new(codes::CERT_MALFORMED, e.to_string()))?;
    let expected = match subject_type {
        SubjectType::Personal => "PERSONAL",
        SubjectType::Org => "ENTERPRISE",
    };
    if data.auth_type != expected {
        return Err(AdapterError::malformed(format!(
            "`authType` is `{}`, but the certificate calls for {expected} (个人授权/企业授权)",
            data.auth_type.chars().take(20).collect::<String>()
        )));
    }
    let mut certificate_chain = vec![leaf];
    for (i, c) in data.ca_certs.iter().enumerate() {
        certificate_chain.push(cert(&format!("caCerts[{i}]"), c)?);
    }
    let signatures = data
        .sign_results
        .iter()
        .map(|s| {
            let value = b64("signValue", &s.sign_value)?;
            if value.is_empty() || s.biz_no.is_empty() {
                return Err(AdapterError::malformed(format!(
                    "an empty signature or item in `signResults` (`{}`)",
                    s.biz_no.chars().take(40).collect::<String>()
                )));
            }
            Ok(ItemSignature {
                item_id: s.biz_no.clone(),
                signature_value: Bytes(value),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if op != Operation::Encrypt && signatures.is_empty() {
        return Err(AdapterError::malformed(format!(
            "a `{op}` answer needs `signResults`"
        )));
    }
    let encryption_certificate = data
        .enc_cert
        .as_deref()
        .map(|c| cert("encCert", c))
        .transpose()?;
    let decrypted_keys = data
        .key_envelopes
        .iter()
        .map(|k| {
            Ok(DecryptedKey {
                item_id: k.biz_no.clone(),
                encrypted_to_platform: Bytes(b64("cipherKey", &k.cipher_key)?),
            })
        })
        .collect::<Result<Vec<_>, AdapterError>>()?;
    let item_rejections = data
        .refused
        .iter()
        .map(|r| ItemRejection {
            item_id: r.biz_no.clone(),
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
