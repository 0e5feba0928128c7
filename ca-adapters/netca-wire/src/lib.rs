//! # camr-netca-wire — the wire format of camr's NETCA model (网证通互认 APP)
//!
//! NETCA's real app protocol is not public; this is **our model**, documented in
//! `docs/vendors/netca.md`. One copy, shared by the NETCA adapter (`camr-adapter-netca`:
//! [`decode`]), its cloud simulator (`netca-cloud encode-evidence`: [`encode`]) and the app
//! simulator (`camr-app --vendor netca`: [`encode`]).
//!
//! The app answers with a *NETCA signed-data block*, a PKCS#7-shaped text armour of `name: value` lines —
//!
//! ```text
//! -----BEGIN NETCA SIGNED DATA-----
//! version: 1
//! signAlgorithm: SM2                      (SM2 | RSA | ECDSA-P256)
//! certificate: <base64 DER>               (one or more; the signing certificate first)
//! envelopedCertificate: <base64 DER>      (at most one: the encryption certificate)
//! signerInfo: <base64 item id> <base64 signature>
//! recipientInfo: <base64 item id> <base64 key re-encrypted to the platform>
//! rejectInfo: <base64 item id> <base64 UTF-8 reason>
//! -----END NETCA SIGNED DATA-----
//! ```
//!
//! [`decode_block`] reads it strictly (armour lines, one `version` and `signAlgorithm`,
//! known names only, canonical base64, at most [`MAX_EVIDENCE_BYTES`]) into camr's
//! [`Evidence`]. It *translates*; the core verifies everything.
#![forbid(unsafe_code)]

use camr::protocol::{
    Bytes, DecryptedKey, Evidence, ItemRejection, ItemSignature, Operation, PublicKeyAlgorithm,
};
use camr_adapter_kit::calls;
use camr_plugin_abi::AdapterError;
use data_encoding::BASE64;

/// NETCA's vendor code (`caOrgType`).
pub const CA_ORG_TYPE: &str = "NETCA";
/// Largest raw answer accepted (1 MiB).
pub const MAX_EVIDENCE_BYTES: usize = 1024 * 1024;
/// The block's first line.
pub const BEGIN: &str = "-----BEGIN NETCA SIGNED DATA-----";
/// The block's last line.
pub const END: &str = "-----END NETCA SIGNED DATA-----";

fn malformed(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::malformed(format!("{what} ({e})"))
}

fn b64(field: &str, text: &str) -> Result<Vec<u8>, AdapterError> {
    BASE64
        .decode(text.as_bytes())
        .map_err(|e| malformed(&format!("`{field}` is not base64"), e))
}

fn b64_text(field: &str, text: &str) -> Result<String, AdapterError> {
    String::from_utf8(b64(field, text)?)
        .map_err(|e| malformed(&format!("`{field}` is not UTF-8"), e))
}

/// Two base64 words separated by one space.
fn pair<'a>(field: &str, value: &'a str) -> Result<(&'a str, &'a str), AdapterError> {
    let mut words = value.split(' ');
    match (words.next(), words.next(), words.next()) {
        (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty() => Ok((a, b)),
        _ => Err(AdapterError::malformed(format!(
            "`{field}` must be two base64 words separated by one space"
        ))),
    }
}

/// Reads a NETCA signed-data block into camr evidence (no checks of meaning; see
/// [`decode`]).
pub fn decode_block(raw: &[u8]) -> Result<Evidence, AdapterError> {
    if raw.is_empty() {
        return Err(AdapterError::malformed("the answer is empty"));
    }
    if raw.len() > MAX_EVIDENCE_BYTES {
        return Err(AdapterError::malformed(format!(
            "the answer has {} bytes; at most {MAX_EVIDENCE_BYTES} are accepted",
            raw.len()
        )));
    }
    let text = std::str::from_utf8(raw).map_err(|e| malformed("the answer is not UTF-8", e))?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let mut lines = text.split('\n');
    if lines.next() != Some(BEGIN) {
        return Err(AdapterError::malformed(format!(
            "the answer does not start with `{BEGIN}`"
        )));
    }
    let mut body: Vec<&str> = lines.collect();
    if body.pop() != Some(END) {
        return Err(AdapterError::malformed(format!(
            "the answer does not end with `{END}`"
        )));
    }
    let mut version = None;
    let mut algorithm = None;
    let mut evidence = Evidence {
        algorithm: PublicKeyAlgorithm::Sm2,
        certificate_chain: Vec::new(),
        signatures: Vec::new(),
        encryption_certificate: None,
        decrypted_keys: Vec::new(),
        item_rejections: Vec::new(),
    };
    for (n, line) in body.iter().enumerate() {
        let Some((name, value)) = line.split_once(": ") else {
            return Err(AdapterError::malformed(format!(
                "line {} of the block is not `name: value`",
                n + 2
            )));
        };
        match name {
            "version" => {
                if version.replace(value).is_some() {
                    return Err(AdapterError::malformed("`version` is given twice"));
                }
                if value != "1" {
                    return Err(AdapterError::malformed(format!(
                        "version `{}` is not 1",
                        value.chars().take(16).collect::<String>()
                    )));
                }
            }
            "signAlgorithm" => {
                let alg = match value {
                    "SM2" => PublicKeyAlgorithm::Sm2,
                    "RSA" => PublicKeyAlgorithm::Rsa,
                    "ECDSA-P256" => PublicKeyAlgorithm::EcdsaP256,
                    other => {
                        return Err(AdapterError::malformed(format!(
                            "unknown signAlgorithm `{}`",
                            other.chars().take(16).collect::<String>()
                        )));
                    }
                };
                if algorithm.replace(alg).is_some() {
                    return Err(AdapterError::malformed("`signAlgorithm` is given twice"));
                }
            }
            "certificate" => evidence
                .certificate_chain
                .push(Bytes(b64("certificate", value)?)),
            "envelopedCertificate" => {
                let der = b64("envelopedCertificate", value)?;
                if evidence
                    .encryption_certificate
                    .replace(Bytes(der))
                    .is_some()
                {
                    return Err(AdapterError::malformed(
                        "`envelopedCertificate` is given twice",
                    ));
                }
            }
            "signerInfo" => {
                let (id, sig) = pair(name, value)?;
                evidence.signatures.push(ItemSignature {
                    item_id: b64_text(name, id)?,
                    signature_value: Bytes(b64(name, sig)?),
                });
            }
            "recipientInfo" => {
                let (id, key) = pair(name, value)?;
                evidence.decrypted_keys.push(DecryptedKey {
                    item_id: b64_text(name, id)?,
                    encrypted_to_platform: Bytes(b64(name, key)?),
                });
            }
            "rejectInfo" => {
                let (id, reason) = pair(name, value)?;
                evidence.item_rejections.push(ItemRejection {
                    item_id: b64_text(name, id)?,
                    reason: b64_text(name, reason)?,
                });
            }
            other => {
                return Err(AdapterError::malformed(format!(
                    "unknown field `{}` in the NETCA block",
                    other.chars().take(40).collect::<String>()
                )));
            }
        }
    }
    if version.is_none() {
        return Err(AdapterError::malformed("the block has no `version`"));
    }
    evidence.algorithm =
        algorithm.ok_or_else(|| AdapterError::malformed("the block has no `signAlgorithm`"))?;
    Ok(evidence)
}

/// Strict decoding of a block answering `operation` (camr's name): the block, then what every answer must carry (a certificate that decodes;
/// signatures for every operation but `encrypt`).
pub fn decode(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
    let op: Operation = operation
        .parse()
        .map_err(|_| AdapterError::malformed(format!("unknown operation `{operation}`")))?;
    let evidence = decode_block(raw)?;
    calls::check_evidence(
        op,
        &evidence,
        calls::EvidenceNames {
            container: "the block",
            chain: "of the block",
            encryption_certificate: "the enveloped certificate",
            signatures: "a signerInfo",
            signature: "signerInfo",
        },
    )?;
    Ok(evidence)
}

/// NETCA's name of an algorithm.
pub fn algorithm_name(a: PublicKeyAlgorithm) -> &'static str {
    match a {
        PublicKeyAlgorithm::Sm2 => "SM2",
        PublicKeyAlgorithm::Rsa => "RSA",
        PublicKeyAlgorithm::EcdsaP256 => "ECDSA-P256",
    }
}

/// camr evidence as a NETCA signed-data block.
pub fn encode(e: &Evidence) -> String {
    let mut lines = vec![
        BEGIN.to_string(),
        "version: 1".to_string(),
        format!("signAlgorithm: {}", algorithm_name(e.algorithm)),
    ];
    for c in &e.certificate_chain {
        lines.push(format!("certificate: {}", BASE64.encode(c)));
    }
    if let Some(c) = &e.encryption_certificate {
        lines.push(format!("envelopedCertificate: {}", BASE64.encode(c)));
    }
    for s in &e.signatures {
        lines.push(format!(
            "signerInfo: {} {}",
            BASE64.encode(s.item_id.as_bytes()),
            BASE64.encode(&s.signature_value)
        ));
    }
    for k in &e.decrypted_keys {
        lines.push(format!(
            "recipientInfo: {} {}",
            BASE64.encode(k.item_id.as_bytes()),
            BASE64.encode(&k.encrypted_to_platform)
        ));
    }
    for r in &e.item_rejections {
        lines.push(format!(
            "rejectInfo: {} {}",
            BASE64.encode(r.item_id.as_bytes()),
            BASE64.encode(r.reason.as_bytes())
        ));
    }
    lines.push(END.to_string());
    let mut out = lines.join("\n");
    out.push('\n');
    out
}
