//! Epoint's wire format as the Epoint app writes it (the adapter `camr-adapter-epoint` reads
//! it): a PascalCase business packet (业务报文), signature values and keys in hex, certificates
//! in base64; described in docs/vendors/epoint.md.

use camr::protocol::{Evidence, Operation, PublicKeyAlgorithm};
use data_encoding::{BASE64, HEXLOWER};

use crate::CertScope;

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

/// The operation evidence answers, when nobody says (a revoke cannot be told from a signature
/// by its evidence: it is encoded as `SIGN`, which the adapter reads for a revoke too).
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

/// camr evidence → the Epoint app's business packet. `op` defaults to [`infer_operation`].
pub fn encode(op: Option<Operation>, scope: CertScope, ev: &Evidence) -> Result<Vec<u8>, String> {
    let op = op.unwrap_or_else(|| infer_operation(ev));
    let (leaf, rest) = ev
        .certificate_chain
        .split_first()
        .ok_or("the evidence has no certificate")?;
    let mut cert_info = serde_json::json!({
        "SignCert": BASE64.encode(&leaf.0),
        "Chain": rest.iter().map(|c| BASE64.encode(&c.0)).collect::<Vec<_>>(),
    });
    if let Some(enc) = &ev.encryption_certificate {
        cert_info["EncCert"] = BASE64.encode(&enc.0).into();
    }
    let mut packet = serde_json::json!({
        "Version": VERSION,
        "BizType": biz_type(op),
        "CertScope": scope.as_str(),
        "Alg": alg(ev.algorithm),
        "CertInfo": cert_info,
    });
    if !ev.signatures.is_empty() {
        packet["SignList"] = ev
            .signatures
            .iter()
            .map(|s| serde_json::json!({ "ItemId": s.item_id, "SignValue": HEXLOWER.encode(&s.signature_value.0) }))
            .collect::<Vec<_>>()
            .into();
    }
    if !ev.decrypted_keys.is_empty() {
        packet["KeyList"] = ev
            .decrypted_keys
            .iter()
            .map(|k| serde_json::json!({ "ItemId": k.item_id, "WrapKey": HEXLOWER.encode(&k.encrypted_to_platform.0) }))
            .collect::<Vec<_>>()
            .into();
    }
    if !ev.item_rejections.is_empty() {
        packet["RefuseList"] = ev
            .item_rejections
            .iter()
            .map(|r| serde_json::json!({ "ItemId": r.item_id, "Reason": r.reason }))
            .collect::<Vec<_>>()
            .into();
    }
    serde_json::to_vec(&packet).map_err(|e| e.to_string())
}
