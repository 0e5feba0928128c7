//! The mapping every JSON-packet vendor shares: from the fields of a vendor's answer (its
//! "business packet", whatever its names) to camr's [`Evidence`], strictly, and back for the
//! encoders (the vendor's cloud simulator and app).
//!
//! A vendor's wire crate (`camr-epoint-wire`, `camr-xjca-wire`) parses its own packet
//! (`deny_unknown_fields`, version, the business type of the operation) and hands the fields
//! here with its field names, so that every refusal names the vendor's field. This module
//! checks what is the same everywhere: the size, the algorithm name, every certificate decodes
//! (`CERT_MALFORMED`), every binary value decodes and is not empty, signatures for every
//! operation but `encrypt` (`INPUT_MALFORMED`). It translates; the core verifies.

use camr::pki::Certificate;
use camr::protocol::{
    Bytes, DecryptedKey, Evidence, ItemRejection, ItemSignature, Operation, PublicKeyAlgorithm,
};
use camr_plugin_abi::{AdapterError, codes};
use data_encoding::{BASE64, HEXLOWER, HEXLOWER_PERMISSIVE};

/// How a vendor writes signature values and wrapped keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    /// Hex (read in either case, written lower-case).
    Hex,
    /// Standard base64 with padding.
    Base64,
}

impl Binary {
    /// `bytes` in this encoding.
    pub fn encode(self, bytes: &[u8]) -> String {
        match self {
            Self::Hex => HEXLOWER.encode(bytes),
            Self::Base64 => BASE64.encode(bytes),
        }
    }

    /// The bytes of the vendor's field `field`; empty values are refused.
    pub fn decode(self, field: &str, text: &str) -> Result<Vec<u8>, AdapterError> {
        let (name, decoded) = match self {
            Self::Hex => ("hex", HEXLOWER_PERMISSIVE.decode(text.as_bytes())),
            Self::Base64 => ("base64", BASE64.decode(text.as_bytes())),
        };
        let bytes = decoded
            .map_err(|e| AdapterError::malformed(format!("`{field}` is not {name} ({e})")))?;
        if bytes.is_empty() {
            return Err(AdapterError::malformed(format!("`{field}` is empty")));
        }
        Ok(bytes)
    }
}

/// The operation named `operation` (camr's name).
pub fn operation(operation: &str) -> Result<Operation, AdapterError> {
    operation
        .parse()
        .map_err(|_| AdapterError::malformed(format!("unknown operation `{operation}`")))
}

/// Refuses an empty answer or one over `max` bytes; `what` names it (`the Epoint packet`).
pub fn check_size(what: &str, raw: &[u8], max: usize) -> Result<(), AdapterError> {
    if raw.is_empty() {
        return Err(AdapterError::malformed(format!("{what} is empty")));
    }
    if raw.len() > max {
        return Err(AdapterError::malformed(format!(
            "{what} has {} bytes; at most {max} are accepted",
            raw.len()
        )));
    }
    Ok(())
}

/// At most `n` characters of a value the vendor sent, for an error message.
pub fn clip(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

/// Whether the vendor's business type `got` answers `op`: its own name (`name_of(op)`), or for
/// a revoke also one of `revoke_also`. A revoke's evidence has the shape of a login's or a
/// signature's, and encoders that see only the evidence (the conformance kit's) write those.
pub fn check_type(
    field: &str,
    op: Operation,
    got: &str,
    name_of: fn(Operation) -> &'static str,
    revoke_also: &[&str],
) -> Result<(), AdapterError> {
    let fits =
        got == name_of(op) || (op == Operation::RevokeSignature && revoke_also.contains(&got));
    if fits {
        return Ok(());
    }
    Err(AdapterError::malformed(format!(
        "the answer is of {field} `{}`, not `{}` ({op})",
        clip(got, 20),
        name_of(op)
    )))
}

/// The vendors' algorithm names: `SM2`, `RSA`, `ECDSA_P256`.
pub fn algorithm_name(algorithm: PublicKeyAlgorithm) -> &'static str {
    match algorithm {
        PublicKeyAlgorithm::Sm2 => "SM2",
        PublicKeyAlgorithm::Rsa => "RSA",
        PublicKeyAlgorithm::EcdsaP256 => "ECDSA_P256",
    }
}

/// The algorithm of the vendor's field `field` (`SM2`, `RSA`, `ECDSA_P256`).
pub fn algorithm(field: &str, name: &str) -> Result<PublicKeyAlgorithm, AdapterError> {
    [
        PublicKeyAlgorithm::Sm2,
        PublicKeyAlgorithm::Rsa,
        PublicKeyAlgorithm::EcdsaP256,
    ]
    .into_iter()
    .find(|a| algorithm_name(*a) == name)
    .ok_or_else(|| AdapterError::malformed(format!("unknown `{field}` `{}`", clip(name, 20))))
}

/// A base64 DER certificate of the vendor's field `field` (`CERT_MALFORMED` when it does not
/// decode as one).
pub fn certificate(field: &str, text: &str) -> Result<Bytes, AdapterError> {
    let der = BASE64
        .decode(text.as_bytes())
        .map_err(|e| AdapterError::malformed(format!("`{field}` is not base64 ({e})")))?;
    Certificate::from_der(&der).map_err(|e| {
        AdapterError::new(
            codes::CERT_MALFORMED,
            format!("`{field}` does not decode as a certificate ({e})"),
        )
    })?;
    Ok(Bytes(der))
}

/// One entry of a vendor's list: the item (camr's item id) and its text.
pub type Entry<'a> = (&'a str, &'a str);

/// The fields of a vendor's answer, by the vendor's names (for the messages).
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    /// How signature values and wrapped keys are written.
    pub binary: Binary,
    /// (field, value) of the algorithm.
    pub algorithm: Entry<'a>,
    /// (field, base64 DER) of the signing certificate.
    pub sign_cert: Entry<'a>,
    /// (field, base64 DERs) of the issuing CA, then the root.
    pub chain: (&'a str, &'a [String]),
    /// (field, base64 DER) of the encryption certificate, if any.
    pub enc_cert: (&'a str, Option<&'a str>),
    /// (list, value field, entries) of the signature values.
    pub signatures: (&'a str, &'a str, Vec<Entry<'a>>),
    /// (list, value field, entries) of the keys wrapped to the platform.
    pub keys: (&'a str, &'a str, Vec<Entry<'a>>),
    /// (item, reason) of the refused items (拒签).
    pub rejections: Vec<Entry<'a>>,
}

/// The vendor's fields as camr evidence of an `op` answer.
pub fn to_evidence(op: Operation, f: Fields<'_>) -> Result<Evidence, AdapterError> {
    let algorithm = algorithm(f.algorithm.0, f.algorithm.1)?;
    let mut certificate_chain = vec![certificate(f.sign_cert.0, f.sign_cert.1)?];
    for (i, c) in f.chain.1.iter().enumerate() {
        certificate_chain.push(certificate(&format!("{}[{i}]", f.chain.0), c)?);
    }
    let (list, value, entries) = f.signatures;
    let signatures = entries
        .into_iter()
        .map(|(item, text)| {
            if item.is_empty() {
                return Err(AdapterError::malformed(format!(
                    "an entry of `{list}` names no item"
                )));
            }
            Ok(ItemSignature {
                item_id: item.to_string(),
                signature_value: Bytes(f.binary.decode(value, text)?),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if op != Operation::Encrypt && signatures.is_empty() {
        return Err(AdapterError::malformed(format!(
            "a `{op}` answer needs `{list}`"
        )));
    }
    let encryption_certificate = f
        .enc_cert
        .1
        .map(|c| certificate(f.enc_cert.0, c))
        .transpose()?;
    let (_, value, entries) = f.keys;
    let decrypted_keys = entries
        .into_iter()
        .map(|(item, text)| {
            Ok(DecryptedKey {
                item_id: item.to_string(),
                encrypted_to_platform: Bytes(f.binary.decode(value, text)?),
            })
        })
        .collect::<Result<Vec<_>, AdapterError>>()?;
    let item_rejections = f
        .rejections
        .into_iter()
        .map(|(item, reason)| ItemRejection {
            item_id: item.to_string(),
            reason: reason.to_string(),
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

/// The operation an evidence answers, when nobody says (an encoder run by the conformance
/// kit): an encryption certificate → encrypt, unwrapped keys → decrypt, the message item →
/// message signature, the binding alone → login, else signature. A revoke cannot be told from
/// a login or a signature by its evidence; [`check_type`] reads those for a revoke.
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

/// The signing certificate and the rest of the chain of `ev`, for an encoder.
pub fn split_chain(ev: &Evidence) -> Result<(&Bytes, &[Bytes]), AdapterError> {
    ev.certificate_chain
        .split_first()
        .ok_or_else(|| AdapterError::malformed("the evidence carries no certificate"))
}
