//! XJCA's wire format as the XJCA app writes it (the adapter `camr-adapter-xjca` reads it):
//! the result JSON of the manual's 验签结果 shape, `{"code":200,"success":true,"data":{…},
//! "msg":"","errorCode":""}`; `data` is described in docs/vendors/xjca.md.

use camr::pki::Certificate;
use camr::protocol::{Evidence, Operation, PublicKeyAlgorithm, SubjectType};
use data_encoding::BASE64;

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

/// The operation evidence answers, when nobody says: an encryption certificate → encrypt,
/// unwrapped keys → decrypt, the message item → message signature, the binding alone →
/// login, else signature (a revoke cannot be told from a login or a signature by its
/// evidence; the adapter reads those scan types for a revoke).
pub fn infer_operation(ev: &Evidence) -> Operation {
    if ev.encryption_certificate.is_some() {
        Operation::Encrypt
    } else if !ev.decrypted_keys.is_empty() {
        Operation::Decrypt
    } else if ev
        .signatures
        .iter()
        .any(|s| s.item_id == camr::ceremony::MESSAGE_ITEM)
    {
        Operation::MessageSignature
    } else if ev
        .signatures
        .iter()
        .all(|s| s.item_id == camr::ceremony::BINDING_ITEM)
        && ev.item_rejections.is_empty()
    {
        Operation::Login
    } else {
        Operation::Signature
    }
}

fn alg(a: PublicKeyAlgorithm) -> &'static str {
    match a {
        PublicKeyAlgorithm::Sm2 => "SM2",
        PublicKeyAlgorithm::Rsa => "RSA",
        PublicKeyAlgorithm::EcdsaP256 => "ECDSA_P256",
    }
}

/// camr evidence → the XJCA app's result JSON. `op` defaults to [`infer_operation`]; the
/// authorisation (个人授权/企业授权) follows the signing certificate.
pub fn encode(op: Option<Operation>, ev: &Evidence) -> Result<Vec<u8>, String> {
    let op = op.unwrap_or_else(|| infer_operation(ev));
    let (leaf, rest) = ev
        .certificate_chain
        .split_first()
        .ok_or("the evidence has no certificate")?;
    let auth_type = match Certificate::from_der(&leaf.0).map(|c| c.subject().subject_type) {
        Ok(SubjectType::Org) => "ENTERPRISE",
        _ => "PERSONAL",
    };
    let mut data = serde_json::json!({
        "scanType": scan_type(op),
        "authType": auth_type,
        "signAlg": alg(ev.algorithm),
        "signCert": BASE64.encode(&leaf.0),
        "caCerts": rest.iter().map(|c| BASE64.encode(&c.0)).collect::<Vec<_>>(),
        "signResults": ev.signatures.iter().map(|s| serde_json::json!({
            "bizNo": s.item_id, "signValue": BASE64.encode(&s.signature_value.0)
        })).collect::<Vec<_>>(),
    });
    if let Some(enc) = &ev.encryption_certificate {
        data["encCert"] = BASE64.encode(&enc.0).into();
    }
    if !ev.decrypted_keys.is_empty() {
        data["keyEnvelopes"] = ev
            .decrypted_keys
            .iter()
            .map(|k| serde_json::json!({ "bizNo": k.item_id, "cipherKey": BASE64.encode(&k.encrypted_to_platform.0) }))
            .collect::<Vec<_>>()
            .into();
    }
    if !ev.item_rejections.is_empty() {
        data["refused"] = ev
            .item_rejections
            .iter()
            .map(|r| serde_json::json!({ "bizNo": r.item_id, "reason": r.reason }))
            .collect::<Vec<_>>()
            .into();
    }
    serde_json::to_vec(&serde_json::json!({
        "code": 200, "success": true, "data": data, "msg": "", "errorCode": ""
    }))
    .map_err(|e| e.to_string())
}
