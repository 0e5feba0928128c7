//! # camr-xjca-wire — the wire format of camr's XJCA model (中标一证通)
//!
//! XJCA's real app and cloud APIs are not public; this is **our model**, documented in
//! `docs/vendors/xjca.md`. One copy, shared by the XJCA adapter (`camr-adapter-xjca`:
//! [`decode`]), its cloud simulator (`xjca-cloud encode-evidence`: [`encode`]) and the app
//! simulator (`camr-app --vendor xjca`: [`encode`]).
//!
//! The app answers with a result JSON shaped like the one its manual shows under 消息签名与验签
//! (`{"code":200,"success":true,"data":{…},"msg":"","errorCode":""}`, [`XjcaResult`]); `data`
//! carries the 扫码类型 (`scanType`), 个人授权/企业授权 (`authType`), the certificates
//! (`signCert`, `caCerts`, `encCert`), the signature values (`signResults[{bizNo,signValue}]`),
//! the unwrapped keys (`keyEnvelopes[{bizNo,cipherKey}]`) and refused items
//! (`refused[{bizNo,reason}]`), binary values in base64. The mapping to camr's [`Evidence`]
//! that every packet vendor shares is `camr_adapter_kit::packet`.
#![forbid(unsafe_code)]

use camr::pki::Certificate;
use camr::protocol::{Evidence, Operation, SubjectType};
use camr_adapter_kit::packet::{self, Binary, Fields};
use camr_plugin_abi::{AdapterError, codes};
use serde::{Deserialize, Serialize};

/// The vendor code (`caOrgType`).
pub const CA_ORG_TYPE: &str = "XJCA";
/// Largest raw answer accepted (1 MiB).
pub const MAX_EVIDENCE_BYTES: usize = 1024 * 1024;

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

/// 个人授权 / 企业授权 (`authType`) of a certificate's holder.
pub fn auth_type(subject_type: SubjectType) -> &'static str {
    match subject_type {
        SubjectType::Personal => "PERSONAL",
        SubjectType::Org => "ENTERPRISE",
    }
}

/// Strict decoding of an XJCA answer to `operation` (camr's name) into camr evidence: size,
/// only the documented fields, a successful result, the scan type of the operation, then the
/// shared mapping (`camr_adapter_kit::packet`), and an `authType` that fits the certificate.
pub fn decode(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
    let op = packet::operation(operation)?;
    packet::check_size("the XJCA answer", raw, MAX_EVIDENCE_BYTES)?;
    let result: XjcaResult = serde_json::from_slice(raw).map_err(|e| {
        AdapterError::malformed(format!("the answer is not an XJCA result JSON ({e})"))
    })?;
    if result.code != 200 || !result.success {
        return Err(AdapterError::malformed(format!(
            "the XJCA app reports a failure (code {}, errorCode `{}`): {}",
            result.code,
            packet::clip(&result.error_code, 40),
            packet::clip(&result.msg, 200)
        )));
    }
    let data = result
        .data
        .ok_or_else(|| AdapterError::malformed("the XJCA result has no `data`"))?;
    // 授权撤章 answers REVOKE_SEAL; FILE_SIGN and LOGIN are read for one too.
    packet::check_type(
        "scan type",
        op,
        &data.scan_type,
        scan_type,
        &["FILE_SIGN", "LOGIN"],
    )?;
    let evidence = packet::to_evidence(
        op,
        Fields {
            binary: Binary::Base64,
            algorithm: ("signAlg", &data.sign_alg),
            sign_cert: ("signCert", &data.sign_cert),
            chain: ("caCerts", &data.ca_certs),
            enc_cert: ("encCert", data.enc_cert.as_deref()),
            signatures: (
                "signResults",
                "signValue",
                data.sign_results
                    .iter()
                    .map(|s| (s.biz_no.as_str(), s.sign_value.as_str()))
                    .collect(),
            ),
            keys: (
                "keyEnvelopes",
                "cipherKey",
                data.key_envelopes
                    .iter()
                    .map(|k| (k.biz_no.as_str(), k.cipher_key.as_str()))
                    .collect(),
            ),
            rejections: data
                .refused
                .iter()
                .map(|r| (r.biz_no.as_str(), r.reason.as_str()))
                .collect(),
        },
    )?;
    // 个人授权 / 企业授权: the authorisation the user picked must fit the certificate.
    let (leaf, _) = packet::split_chain(&evidence)?;
    let expected = Certificate::from_der(&leaf.0)
        .map(|c| auth_type(c.subject().subject_type))
        .map_err(|e| AdapterError::new(codes::CERT_MALFORMED, e.to_string()))?;
    if data.auth_type != expected {
        return Err(AdapterError::malformed(format!(
            "`authType` is `{}`, but the certificate calls for {expected} (个人授权/企业授权)",
            packet::clip(&data.auth_type, 20)
        )));
    }
    Ok(evidence)
}

/// camr evidence of an `op` answer (inferred from the evidence when `None`,
/// `camr_adapter_kit::packet::infer_operation`) as XJCA's result JSON; `authType` by the
/// certificate (an organisation certificate answers as 企业授权).
pub fn encode(op: Option<Operation>, ev: &Evidence) -> Result<Vec<u8>, AdapterError> {
    let op = op.unwrap_or_else(|| packet::infer_operation(ev));
    let (leaf, rest) = packet::split_chain(ev)?;
    let b64 = |b: &[u8]| Binary::Base64.encode(b);
    let subject_type = Certificate::from_der(&leaf.0)
        .map(|c| c.subject().subject_type)
        .unwrap_or(SubjectType::Personal);
    let data = XjcaData {
        scan_type: scan_type(op).into(),
        auth_type: auth_type(subject_type).into(),
        sign_alg: packet::algorithm_name(ev.algorithm).into(),
        sign_cert: b64(&leaf.0),
        ca_certs: rest.iter().map(|c| b64(&c.0)).collect(),
        sign_results: ev
            .signatures
            .iter()
            .map(|s| XjcaSignResult {
                biz_no: s.item_id.clone(),
                sign_value: b64(&s.signature_value.0),
            })
            .collect(),
        enc_cert: ev.encryption_certificate.as_ref().map(|c| b64(&c.0)),
        key_envelopes: ev
            .decrypted_keys
            .iter()
            .map(|k| XjcaEnvelope {
                biz_no: k.item_id.clone(),
                cipher_key: b64(&k.encrypted_to_platform.0),
            })
            .collect(),
        refused: ev
            .item_rejections
            .iter()
            .map(|r| XjcaRefusal {
                biz_no: r.item_id.clone(),
                reason: r.reason.clone(),
            })
            .collect(),
    };
    let result = XjcaResult {
        code: 200,
        success: true,
        data: Some(data),
        msg: String::new(),
        error_code: String::new(),
    };
    serde_json::to_vec(&result)
        .map_err(|e| AdapterError::malformed(format!("cannot encode the answer ({e})")))
}
