//! # camr-bjca-wire — the wire format of camr's BJCA model (掌上信手书)
//!
//! BJCA's real app and cloud APIs are not public; this is **our model**, documented in
//! `docs/vendors/bjca.md`. Shared by the BJCA adapter (decodes), the BJCA cloud simulator
//! (`encode-evidence`, the co-signing routes) and the app simulator (encodes, calls the
//! cloud). A separate crate so that none of them depends on the adapter's `cdylib`.
//!
//! The app's answer (`vendorEvidence` of camr's `Response`) is a JSON object
//! ([`BjcaEvidence`], camelCase, unknown fields refused):
//!
//! ```json
//! {"version":"1","bizType":"signHash","signAlg":"SM3withSM2",
//!  "signCert":"<base64 DER>","certChain":["<base64 DER>",…],
//!  "signValues":[{"id":"request","signValue":"<base64>"},…],
//!  "rejects":[{"id":"2","reason":"金额不对"}],
//!  "encCert":"<base64 DER>","envelopeKeys":[{"id":"bid","encKey":"<base64>"}]}
//! ```
//!
//! `bizType` names the task in BJCA's words (the manual's 任务 types: 扫码登录, 数据签名,
//! Hash 签名 / 文档签章 …): `login`, `signData` (camr `messageSignature`), `signHash`
//! (`signature` and `revokeSignature`: hashes and PDF seals alike, the platform's operation
//! says which), `encrypt`, `decrypt`; it must fit the operation the platform asked for.

#![forbid(unsafe_code)]

use camr::pki::Certificate;
use camr::protocol::{
    Bytes, DecryptedKey, Evidence, ItemRejection, ItemSignature, Operation, PublicKeyAlgorithm,
};
use serde::{Deserialize, Serialize};

/// The vendor code (`caOrgType`).
pub const CA_ORG_TYPE: &str = "BJCA";
/// The wire format version this crate writes and reads.
pub const VERSION: &str = "1";
/// Largest answer accepted (1 MiB).
pub const MAX_EVIDENCE_BYTES: usize = 1024 * 1024;
/// Most entries in any list of an answer.
pub const MAX_ITEMS: usize = 1000;

/// One signature of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignValue {
    /// The item signed (camr's item id: `request` for the binding, `message`, a batch item's id).
    pub id: String,
    /// The signature (SM2: DER `SM2Signature`), base64.
    pub sign_value: Bytes,
}

/// One refused item of a batch (拒签 with its reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reject {
    /// The item refused.
    pub id: String,
    /// Why (shown to the platform's user).
    pub reason: String,
}

/// One envelope key opened by the app and sealed to the platform's per-transaction key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvelopeKey {
    /// The envelope item.
    pub id: String,
    /// The content key encrypted to the platform key (SM2, ASN.1), base64.
    pub enc_key: Bytes,
}

/// The BJCA app's answer, as it travels in `vendorEvidence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BjcaEvidence {
    /// Format version, `"1"`.
    pub version: String,
    /// The operation in BJCA's words ([`biz_type`]).
    pub biz_type: String,
    /// `SM3withSM2`, `SHA256withRSA` or `SHA256withECDSA`.
    pub sign_alg: String,
    /// The signing certificate (DER), base64.
    pub sign_cert: Bytes,
    /// Intermediate (and root) certificates, base64 DER.
    #[serde(default)]
    pub cert_chain: Vec<Bytes>,
    /// The signatures.
    #[serde(default)]
    pub sign_values: Vec<SignValue>,
    /// Refused items (拒签).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejects: Vec<Reject>,
    /// The encryption certificate (encrypt), base64 DER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc_cert: Option<Bytes>,
    /// Opened envelope keys (decrypt).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub envelope_keys: Vec<EnvelopeKey>,
}

/// Why an answer cannot be read or written; `code` is the plugin ABI's code
/// (`INPUT_MALFORMED`, `CERT_MALFORMED`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// Stable code.
    pub code: &'static str,
    /// A sentence.
    pub msg: String,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.msg)
    }
}

impl std::error::Error for WireError {}

fn malformed(msg: impl Into<String>) -> WireError {
    WireError {
        code: "INPUT_MALFORMED",
        msg: msg.into(),
    }
}

fn cert_malformed(msg: impl Into<String>) -> WireError {
    WireError {
        code: "CERT_MALFORMED",
        msg: msg.into(),
    }
}

/// BJCA's name of a camr operation.
pub fn biz_type(op: Operation) -> &'static str {
    match op {
        Operation::Login => "login",
        Operation::MessageSignature => "signData",
        Operation::Signature | Operation::RevokeSignature => "signHash",
        Operation::Encrypt => "encrypt",
        Operation::Decrypt => "decrypt",
    }
}

/// BJCA's name of a signature algorithm.
pub fn sign_alg(algorithm: PublicKeyAlgorithm) -> &'static str {
    match algorithm {
        PublicKeyAlgorithm::Sm2 => "SM3withSM2",
        PublicKeyAlgorithm::Rsa => "SHA256withRSA",
        PublicKeyAlgorithm::EcdsaP256 => "SHA256withECDSA",
    }
}

fn algorithm_of(sign_alg: &str) -> Option<PublicKeyAlgorithm> {
    [
        PublicKeyAlgorithm::Sm2,
        PublicKeyAlgorithm::Rsa,
        PublicKeyAlgorithm::EcdsaP256,
    ]
    .into_iter()
    .find(|a| self::sign_alg(*a) == sign_alg)
}

/// The `bizType` an answer's content shows (for an encoder that is not told the operation,
/// e.g. the conformance kit's): envelope keys → `decrypt`, an encryption certificate →
/// `encrypt`, a `message` signature → `signData`, batch items or refusals → `signHash`,
/// the binding signature alone → `login`.
pub fn infer_biz_type(evidence: &Evidence) -> &'static str {
    if !evidence.decrypted_keys.is_empty() {
        "decrypt"
    } else if evidence.encryption_certificate.is_some() {
        "encrypt"
    } else if evidence.signatures.iter().any(|s| s.item_id == "message") {
        "signData"
    } else if evidence.signatures.len() > 1 || !evidence.item_rejections.is_empty() {
        "signHash"
    } else {
        "login"
    }
}

/// camr's evidence in BJCA's wire format, for the answer to `operation`.
pub fn encode(operation: Operation, evidence: &Evidence) -> Result<Vec<u8>, WireError> {
    encode_as(biz_type(operation), evidence)
}

/// camr's evidence in BJCA's wire format with `bizType` `biz`.
pub fn encode_as(biz: &str, evidence: &Evidence) -> Result<Vec<u8>, WireError> {
    let Some((sign_cert, chain)) = evidence.certificate_chain.split_first() else {
        return Err(malformed("the evidence carries no certificate"));
    };
    let wire = BjcaEvidence {
        version: VERSION.into(),
        biz_type: biz.into(),
        sign_alg: sign_alg(evidence.algorithm).into(),
        sign_cert: sign_cert.clone(),
        cert_chain: chain.to_vec(),
        sign_values: evidence
            .signatures
            .iter()
            .map(|s| SignValue {
                id: s.item_id.clone(),
                sign_value: s.signature_value.clone(),
            })
            .collect(),
        rejects: evidence
            .item_rejections
            .iter()
            .map(|r| Reject {
                id: r.item_id.clone(),
                reason: r.reason.clone(),
            })
            .collect(),
        enc_cert: evidence.encryption_certificate.clone(),
        envelope_keys: evidence
            .decrypted_keys
            .iter()
            .map(|k| EnvelopeKey {
                id: k.item_id.clone(),
                enc_key: k.encrypted_to_platform.clone(),
            })
            .collect(),
    };
    serde_json::to_vec(&wire).map_err(|e| malformed(format!("cannot encode the answer ({e})")))
}

/// Reads a BJCA answer to `operation` (camr's operation name) into camr's evidence —
/// strictly: size, JSON object with only the documented fields, version `1`, `bizType` of
/// this operation, a known `signAlg`, every certificate DER that decodes, no empty or
/// duplicate signature, signatures present for every operation but `encrypt`, a reason for
/// every refused item. It translates; it never verifies a signature.
pub fn decode(operation: &str, raw: &[u8]) -> Result<Evidence, WireError> {
    let op: Operation = operation
        .parse()
        .map_err(|_| malformed(format!("unknown operation `{operation}`")))?;
    if raw.is_empty() {
        return Err(malformed("the BJCA answer is empty"));
    }
    if raw.len() > MAX_EVIDENCE_BYTES {
        return Err(malformed(format!(
            "the BJCA answer has {} bytes; at most {MAX_EVIDENCE_BYTES} are accepted",
            raw.len()
        )));
    }
    let wire: BjcaEvidence =
        serde_json::from_slice(raw).map_err(|e| malformed(format!("not a BJCA answer ({e})")))?;
    if wire.version != VERSION {
        return Err(malformed(format!(
            "BJCA answer version `{}` is not supported (only `{VERSION}`)",
            wire.version.chars().take(16).collect::<String>()
        )));
    }
    // A revocation with no item to re-sign carries the binding signature alone — the shape
    // of a login answer; an encoder that sees only the answer (the conformance kit's) names
    // it `login`, so either name is read for it.
    let fits = wire.biz_type == biz_type(op)
        || (op == Operation::RevokeSignature && wire.biz_type == "login");
    if !fits {
        return Err(malformed(format!(
            "the BJCA answer is for bizType `{}`, the request was `{}`",
            wire.biz_type.chars().take(32).collect::<String>(),
            biz_type(op)
        )));
    }
    let algorithm = algorithm_of(&wire.sign_alg).ok_or_else(|| {
        malformed(format!(
            "unknown signAlg `{}` (SM3withSM2, SHA256withRSA, SHA256withECDSA)",
            wire.sign_alg.chars().take(32).collect::<String>()
        ))
    })?;
    let lists = [
        wire.cert_chain.len(),
        wire.sign_values.len(),
        wire.rejects.len(),
        wire.envelope_keys.len(),
    ];
    if lists.iter().any(|n| *n > MAX_ITEMS) {
        return Err(malformed(format!(
            "a list of the BJCA answer has more than {MAX_ITEMS} entries"
        )));
    }
    Certificate::from_der(&wire.sign_cert)
        .map_err(|e| cert_malformed(format!("signCert does not decode ({e})")))?;
    for (i, der) in wire.cert_chain.iter().enumerate() {
        Certificate::from_der(der)
            .map_err(|e| cert_malformed(format!("certChain[{i}] does not decode ({e})")))?;
    }
    if let Some(enc) = &wire.enc_cert {
        Certificate::from_der(enc)
            .map_err(|e| cert_malformed(format!("encCert does not decode ({e})")))?;
    }
    if op != Operation::Encrypt && wire.sign_values.is_empty() {
        return Err(malformed(format!(
            "a `{}` answer needs signValues",
            wire.biz_type
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for s in &wire.sign_values {
        if s.id.is_empty() || s.sign_value.is_empty() {
            return Err(malformed("a signValue has an empty id or value"));
        }
        if !seen.insert(s.id.as_str()) {
            return Err(malformed(format!(
                "item `{}` is signed twice",
                s.id.chars().take(64).collect::<String>()
            )));
        }
    }
    if let Some(r) = wire
        .rejects
        .iter()
        .find(|r| r.id.is_empty() || r.reason.trim().is_empty())
    {
        return Err(malformed(format!(
            "refused item `{}` has no reason (拒签 needs one)",
            r.id.chars().take(64).collect::<String>()
        )));
    }
    if wire.envelope_keys.iter().any(|k| k.enc_key.is_empty()) {
        return Err(malformed("an envelope key is empty"));
    }
    Ok(Evidence {
        algorithm,
        certificate_chain: std::iter::once(wire.sign_cert)
            .chain(wire.cert_chain)
            .collect(),
        signatures: wire
            .sign_values
            .into_iter()
            .map(|s| ItemSignature {
                item_id: s.id,
                signature_value: s.sign_value,
            })
            .collect(),
        encryption_certificate: wire.enc_cert,
        decrypted_keys: wire
            .envelope_keys
            .into_iter()
            .map(|k| DecryptedKey {
                item_id: k.id,
                encrypted_to_platform: k.enc_key,
            })
            .collect(),
        item_rejections: wire
            .rejects
            .into_iter()
            .map(|r| ItemRejection {
                item_id: r.id,
                reason: r.reason,
            })
            .collect(),
    })
}

/// `POST /cosign/sign` of the BJCA cloud: the user (their signing certificate's serial,
/// hex), the wallet's token, and the client's half of a co-signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CosignSign {
    /// The user: signing certificate serial (hex).
    pub user: String,
    /// The wallet's token, issued with the wallet (the cloud keeps its SM3 hash).
    pub token: String,
    /// Q1 and e.
    pub request: camr::cosign::SignRequest,
}

/// `POST /cosign/decrypt` of the BJCA cloud: co-decryption with the encryption key's shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CosignDecrypt {
    /// The user: signing certificate serial (hex).
    pub user: String,
    /// The wallet's token.
    pub token: String,
    /// T1.
    pub request: camr::cosign::DecryptRequest,
}

/// What a BJCA wallet's `vendor.json` holds besides `caOrgType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletVendorFile {
    /// `BJCA`.
    pub ca_org_type: String,
    /// The BJCA cloud (co-signing, tasks).
    pub cloud_url: String,
    /// The user id at the cloud: the signing certificate's serial (hex).
    pub user: String,
    /// The wallet's token at the cloud (a real app keeps it in the phone's secure storage).
    pub token: String,
    /// Marks the wallet's key files as client shares d1, not keys (`"cosign-d1"`).
    pub key_kind: String,
}

/// [`WalletVendorFile::key_kind`] of a co-signing wallet.
pub const KEY_KIND_COSIGN: &str = "cosign-d1";

/// The client share d1 of a BJCA wallet: the wallet stores d1 as an SM2 private key
/// (PIN-encrypted PKCS#8 in `sign-key.pem` / `enc-key.pem`, so the PIN and its lock-out
/// protect it as they protect a whole key), and the joint public key P is the certificate's.
/// Built in camr's share storage format (`"CMCS" ‖ 1 ‖ role 1 ‖ d1 ‖ P`, see
/// [`camr::cosign::ClientShare::to_bytes`]).
pub fn client_share(
    d1: &camr::crypto::PrivateKey,
    joint: &camr::crypto::PublicKey,
) -> Result<camr::cosign::ClientShare, WireError> {
    let camr::crypto::PrivateKey::Sm2(secret) = d1 else {
        return Err(malformed("a co-signing share is an SM2 scalar"));
    };
    let spki = joint
        .to_spki_der()
        .map_err(|e| malformed(format!("the joint public key ({e})")))?;
    // An SM2 SubjectPublicKeyInfo ends with the BIT STRING 03 42 00 04‖x‖y.
    let point = spki
        .len()
        .checked_sub(65)
        .and_then(|at| spki.get(at..))
        .filter(|p| p.first() == Some(&4) && spki.len() > 68)
        .ok_or_else(|| malformed("the joint public key is not an uncompressed SM2 point"))?;
    let mut bytes = zeroize_vec(Vec::with_capacity(103));
    bytes.extend_from_slice(b"CMCS");
    bytes.push(camr::cosign::SHARE_FORMAT_VERSION);
    bytes.push(1);
    bytes.extend_from_slice(&secret.to_bytes());
    bytes.extend_from_slice(point);
    camr::cosign::ClientShare::from_bytes(&bytes)
        .map_err(|e| malformed(format!("the wallet's share ({e})")))
}

fn zeroize_vec(v: Vec<u8>) -> camr::crypto::SecretBytes {
    camr::crypto::SecretBytes::new(v)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn garbage_is_malformed_and_names_are_stable() {
        for raw in [
            &b""[..],
            b"garbage",
            b"[]",
            b"{}",
            br#"{"version":"2","bizType":"login","signAlg":"SM3withSM2","signCert":"AAAA"}"#,
            br#"{"version":"1","bizType":"decrypt","signAlg":"SM3withSM2","signCert":"AAAA"}"#,
            br#"{"version":"1","bizType":"login","signAlg":"MD5","signCert":"AAAA"}"#,
            br#"{"version":"1","bizType":"login","signAlg":"SM3withSM2","signCert":"AAAA","verdict":"ok"}"#,
            br#"{"version":"1","bizType":"login","signAlg":"SM3withSM2","signCert":"not base64!"}"#,
        ] {
            let e = decode("login", raw).unwrap_err();
            assert_eq!(e.code, "INPUT_MALFORMED", "{e}");
        }
        let e = decode(
            "login",
            br#"{"version":"1","bizType":"login","signAlg":"SM3withSM2","signCert":"AAAA","signValues":[{"id":"request","signValue":"AAAA"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, "CERT_MALFORMED", "{e}");
        assert_eq!(decode("nope", b"{}").unwrap_err().code, "INPUT_MALFORMED");
        assert_eq!(
            decode("login", &vec![b' '; MAX_EVIDENCE_BYTES + 1])
                .unwrap_err()
                .code,
            "INPUT_MALFORMED"
        );
        let names: Vec<&str> = Operation::ALL.iter().map(|o| biz_type(*o)).collect();
        assert_eq!(
            names,
            [
                "login", "signData", "signHash", "signHash", "encrypt", "decrypt"
            ]
        );
    }
}
