//! XJCA's app, 中标一证通 App, as the simulator plays it (camr's model, `docs/vendors/xjca.md`).
//!
//! * **Wire format.** The answer travels as XJCA's result JSON in `vendorEvidence`
//!   ([`encode`]; the XJCA adapter, `camr-adapter-xjca`, reads it): the shape of the manual's
//!   验签结果, `{"code":200,"success":true,"data":{…},"msg":"","errorCode":""}`, with the
//!   扫码类型 (`scanType`) of the operation and 个人授权 / 企业授权 (`authType`) by the
//!   certificate (an organisation certificate answers as 企业授权).
//! * **按量扣费** is the platform's report to XJCA's cloud after a verified use (the adapter's
//!   `report_usage`); the app does nothing for it.

use std::path::Path;

use camr::pki::Certificate;
use camr::protocol::{ErrorCode, Evidence, Operation, PublicKeyAlgorithm, Response, SubjectType};
use data_encoding::BASE64;

use super::{VendorApp, VendorFile};
use crate::SimError;

/// XJCA's app.
#[derive(Debug, Clone, Copy)]
pub struct Xjca;

/// XJCA's 扫码类型 of an operation.
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

/// camr evidence of an `op` answer as XJCA's result JSON.
pub fn encode(op: Operation, e: &Evidence) -> Result<Vec<u8>, SimError> {
    let (leaf, rest) = e.certificate_chain.split_first().ok_or_else(|| {
        SimError::new(
            ErrorCode::InputMalformed,
            "the answer carries no certificate",
        )
    })?;
    let auth_type = match Certificate::from_der(&leaf.0).map(|c| c.subject().subject_type) {
        Ok(SubjectType::Org) => "ENTERPRISE",
        _ => "PERSONAL",
    };
    let alg = match e.algorithm {
        PublicKeyAlgorithm::Sm2 => "SM2",
        PublicKeyAlgorithm::Rsa => "RSA",
        PublicKeyAlgorithm::EcdsaP256 => "ECDSA_P256",
    };
    let mut data = serde_json::json!({
        "scanType": scan_type(op),
        "authType": auth_type,
        "signAlg": alg,
        "signCert": BASE64.encode(&leaf.0),
        "caCerts": rest.iter().map(|c| BASE64.encode(&c.0)).collect::<Vec<_>>(),
        "signResults": e.signatures.iter().map(|s| serde_json::json!({
            "bizNo": s.item_id, "signValue": BASE64.encode(&s.signature_value.0)
        })).collect::<Vec<_>>(),
    });
    if let Some(enc) = &e.encryption_certificate {
        data["encCert"] = BASE64.encode(&enc.0).into();
    }
    if !e.decrypted_keys.is_empty() {
        data["keyEnvelopes"] = e
            .decrypted_keys
            .iter()
            .map(|k| {
                serde_json::json!({
                    "bizNo": k.item_id, "cipherKey": BASE64.encode(&k.encrypted_to_platform.0)
                })
            })
            .collect::<Vec<_>>()
            .into();
    }
    if !e.item_rejections.is_empty() {
        data["refused"] = e
            .item_rejections
            .iter()
            .map(|r| serde_json::json!({ "bizNo": r.item_id, "reason": r.reason }))
            .collect::<Vec<_>>()
            .into();
    }
    serde_json::to_vec(&serde_json::json!({
        "code": 200, "success": true, "data": data, "msg": "", "errorCode": ""
    }))
    .map_err(|e| SimError::new(ErrorCode::Internal, e.to_string()))
}

impl VendorApp for Xjca {
    fn ca_org_type(&self) -> &'static str {
        "XJCA"
    }

    fn name(&self) -> &'static str {
        "中标一证通 App (XJCA)"
    }

    fn wrap(&self, _: &Path, _: &VendorFile, mut response: Response) -> Result<Response, SimError> {
        // A rejection carries no evidence: nothing to wrap.
        let Some(evidence) = response.evidence.take() else {
            return Ok(response);
        };
        response.vendor_evidence = Some(encode(response.operation, &evidence)?.into());
        Ok(response)
    }
}
