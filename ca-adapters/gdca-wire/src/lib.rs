//! # camr-gdca-wire — the wire format of camr's GDCA model (数信签)
//!
//! GDCA's real app protocol is not public; this is **our model**, documented in
//! `docs/vendors/gdca.md`. One copy, shared by the GDCA adapter (`camr-adapter-gdca`:
//! [`decode`]), its cloud simulator (`gdca-cloud encode-evidence`: [`encode`]) and the app
//! simulator (`camr-app --vendor gdca`: [`encode`]).
//!
//! The app answers with a JSON object in GDCA's own names —
//!
//! ```json
//! {"gdcaVer": "1.0", "keyAlg": "SM2",
//!  "signCert": "<base64 DER>", "caCerts": ["<base64 DER>", …],
//!  "encCert": "<base64 DER>",
//!  "signList":   [{"bizId": "…", "signData": "<base64>"}],
//!  "decList":    [{"bizId": "…", "sessionKey": "<base64, re-encrypted to the platform>"}],
//!  "refuseList": [{"bizId": "…", "refuseReason": "…"}]}
//! ```
//!
//! `keyAlg` is `SM2`, `RSA` or `ECC-P256`; `gdcaVer`, `keyAlg` and `signCert` are required,
//! the lists and `encCert` optional, anything else refused. [`decode`] maps it onto
//! camr's [`Evidence`] (`signCert` then `caCerts` as the chain). It translates; the core
//! verifies everything, delegations (证书授权) included — those travel in camr's `Response`
//! (`operator`, `delegation`), not in the vendor evidence.
#![forbid(unsafe_code)]

use camr::protocol::{
    Bytes, DecryptedKey, Evidence, ItemRejection, ItemSignature, Operation, PublicKeyAlgorithm,
};
use camr_adapter_kit::calls;
use camr_plugin_abi::AdapterError;
use serde::{Deserialize, Serialize};

/// GDCA's vendor code (`caOrgType`).
pub const CA_ORG_TYPE: &str = "GDCA";
/// Largest raw answer accepted (1 MiB).
pub const MAX_EVIDENCE_BYTES: usize = 1024 * 1024;
/// The only `gdcaVer` this crate writes and reads.
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

fn malformed(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::malformed(format!("{what} ({e})"))
}

/// Reads the GDCA JSON into camr evidence (no checks of meaning; see [`decode`]).
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

/// Strict decoding of an answer to `operation` (camr's name): the JSON, then what every answer must carry (certificates that decode;
/// signatures for every operation but `encrypt`).
pub fn decode(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
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

/// camr evidence as the 数信签 app's JSON.
pub fn encode(e: &Evidence) -> Result<Vec<u8>, AdapterError> {
    let (sign_cert, ca_certs) = e
        .certificate_chain
        .split_first()
        .ok_or_else(|| AdapterError::malformed("the evidence carries no certificate"))?;
    let answer = GdcaAnswer {
        gdca_ver: GDCA_VER.into(),
        key_alg: key_alg_name(e.algorithm).into(),
        sign_cert: sign_cert.clone(),
        ca_certs: ca_certs.to_vec(),
        enc_cert: e.encryption_certificate.clone(),
        sign_list: e
            .signatures
            .iter()
            .map(|s| GdcaSign {
                biz_id: s.item_id.clone(),
                sign_data: s.signature_value.clone(),
            })
            .collect(),
        dec_list: e
            .decrypted_keys
            .iter()
            .map(|k| GdcaDec {
                biz_id: k.item_id.clone(),
                session_key: k.encrypted_to_platform.clone(),
            })
            .collect(),
        refuse_list: e
            .item_rejections
            .iter()
            .map(|r| GdcaRefuse {
                biz_id: r.item_id.clone(),
                refuse_reason: r.reason.clone(),
            })
            .collect(),
    };
    serde_json::to_vec(&answer)
        .map_err(|e| AdapterError::malformed(format!("cannot encode the answer ({e})")))
}
