//! Epoint's app, 新点标证通 APP, as the simulator plays it (camr's model,
//! `docs/vendors/epoint.md`).
//!
//! * **Wire format.** The answer travels as Epoint's PascalCase business packet (业务报文) in
//!   `vendorEvidence` ([`encode`]; the Epoint adapter, `camr-adapter-epoint`, reads it), with
//!   the wallet's `CertScope` from its `vendor.json`: 本平台证书 (`PLATFORM`) or 全国版
//!   (`NATIONAL`).
//! * **二维码类型.** Which code to scan is the simulator's common flow (`find_profile`): a
//!   本平台证书 answers through the Epoint code (the `vendor1` profile); through the national
//!   code the platform refuses it (`CERT_NOT_ENTITLED`).
//! * **扫码生成投标文件 / 扫码解密** are the encrypt and decrypt answers; the PIN is the
//!   wallet's.

use std::path::Path;

use camr::protocol::{ErrorCode, Evidence, Operation, PublicKeyAlgorithm, Response};
use data_encoding::{BASE64, HEXLOWER};

use super::{VendorApp, VendorFile};
use crate::SimError;

/// Epoint's app.
#[derive(Debug, Clone, Copy)]
pub struct Epoint;

/// The packet version.
pub const VERSION: &str = "EP5.2";

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

/// camr evidence of an `op` answer as Epoint's business packet; `scope` is `PLATFORM` or
/// `NATIONAL`.
pub fn encode(op: Operation, scope: &str, e: &Evidence) -> Result<Vec<u8>, SimError> {
    let (leaf, rest) = e.certificate_chain.split_first().ok_or_else(|| {
        SimError::new(
            ErrorCode::InputMalformed,
            "the answer carries no certificate",
        )
    })?;
    let alg = match e.algorithm {
        PublicKeyAlgorithm::Sm2 => "SM2",
        PublicKeyAlgorithm::Rsa => "RSA",
        PublicKeyAlgorithm::EcdsaP256 => "ECDSA_P256",
    };
    let mut cert_info = serde_json::json!({
        "SignCert": BASE64.encode(&leaf.0),
        "Chain": rest.iter().map(|c| BASE64.encode(&c.0)).collect::<Vec<_>>(),
    });
    if let Some(enc) = &e.encryption_certificate {
        cert_info["EncCert"] = BASE64.encode(&enc.0).into();
    }
    let mut packet = serde_json::json!({
        "Version": VERSION,
        "BizType": biz_type(op),
        "CertScope": scope,
        "Alg": alg,
        "CertInfo": cert_info,
    });
    if !e.signatures.is_empty() {
        packet["SignList"] = e
            .signatures
            .iter()
            .map(|s| {
                serde_json::json!({
                    "ItemId": s.item_id, "SignValue": HEXLOWER.encode(&s.signature_value.0)
                })
            })
            .collect::<Vec<_>>()
            .into();
    }
    if !e.decrypted_keys.is_empty() {
        packet["KeyList"] = e
            .decrypted_keys
            .iter()
            .map(|k| {
                serde_json::json!({
                    "ItemId": k.item_id, "WrapKey": HEXLOWER.encode(&k.encrypted_to_platform.0)
                })
            })
            .collect::<Vec<_>>()
            .into();
    }
    if !e.item_rejections.is_empty() {
        packet["RefuseList"] = e
            .item_rejections
            .iter()
            .map(|r| serde_json::json!({ "ItemId": r.item_id, "Reason": r.reason }))
            .collect::<Vec<_>>()
            .into();
    }
    serde_json::to_vec(&packet).map_err(|e| SimError::new(ErrorCode::Internal, e.to_string()))
}

impl VendorApp for Epoint {
    fn ca_org_type(&self) -> &'static str {
        "EPOINT"
    }

    fn name(&self) -> &'static str {
        "新点标证通 APP (Epoint)"
    }

    fn wrap(
        &self,
        _: &Path,
        vendor: &VendorFile,
        mut response: Response,
    ) -> Result<Response, SimError> {
        // A rejection carries no evidence: nothing to wrap.
        let Some(evidence) = response.evidence.take() else {
            return Ok(response);
        };
        let scope = match vendor.extra.get("certScope").and_then(|s| s.as_str()) {
            None | Some("NATIONAL") => "NATIONAL",
            Some("PLATFORM") => "PLATFORM",
            Some(other) => {
                return Err(SimError::new(
                    ErrorCode::InputMalformed,
                    format!(
                        "vendor.json: `certScope` must be PLATFORM or NATIONAL, not `{}`",
                        other.chars().take(20).collect::<String>()
                    ),
                ));
            }
        };
        response.vendor_evidence = Some(encode(response.operation, scope, &evidence)?.into());
        Ok(response)
    }
}
