//! # camr-epoint-wire — the wire format of camr's Epoint model (新点标证通)
//!
//! Epoint's real app and cloud APIs are not public; this is **our model**, documented in
//! `docs/vendors/epoint.md`. One copy, shared by the Epoint adapter (`camr-adapter-epoint`:
//! [`decode`]), its cloud simulator (`epoint-cloud encode-evidence`: [`encode`]) and the app
//! simulator (`camr-app --vendor epoint`: [`encode`]).
//!
//! The app answers with a PascalCase JSON business packet (业务报文, [`EpointPacket`]):
//! `Version` (`EP5.2`), `BizType` (`LOGIN`, `MSGSIGN`, `SIGN`, `UNSIGN`, `ENCRYPT`,
//! `DECRYPT`), `CertScope` (本平台证书 `PLATFORM` / 全国版 `NATIONAL`), `Alg`, `CertInfo`
//! (`SignCert`, `Chain`, `EncCert`, base64 DER), `SignList[{ItemId,SignValue}]` (signature
//! values in **hex**), `KeyList[{ItemId,WrapKey}]` (unwrapped keys, hex) and
//! `RefuseList[{ItemId,Reason}]`. The mapping to camr's [`Evidence`] that every packet vendor
//! shares is `camr_adapter_kit::packet`.
#![forbid(unsafe_code)]

use camr::protocol::{Evidence, Operation};
use camr_adapter_kit::packet::{self, Binary, Fields};
use camr_plugin_abi::AdapterError;
use serde::{Deserialize, Serialize};

/// The vendor code (`caOrgType`).
pub const CA_ORG_TYPE: &str = "EPOINT";
/// Largest raw answer accepted (1 MiB).
pub const MAX_EVIDENCE_BYTES: usize = 1024 * 1024;
/// The packet version this crate writes and reads.
pub const VERSION: &str = "EP5.2";

/// 本平台证书 (usable on this platform only, through the Epoint QR code) or 全国版.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertScope {
    /// 本平台证书.
    Platform,
    /// 全国版证书.
    National,
}

impl CertScope {
    /// `PLATFORM` or `NATIONAL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Platform => "PLATFORM",
            Self::National => "NATIONAL",
        }
    }

    /// The scope written `text` (`PLATFORM`, `NATIONAL`).
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Platform, Self::National]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// The Epoint app's business packet (业务报文).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EpointPacket {
    /// `EP5.2`.
    pub version: String,
    /// `LOGIN`, `MSGSIGN`, `SIGN`, `UNSIGN`, `ENCRYPT`, `DECRYPT`.
    pub biz_type: String,
    /// 本平台证书 (`PLATFORM`) or 全国版 (`NATIONAL`).
    pub cert_scope: String,
    /// `SM2`, `RSA` or `ECDSA_P256`.
    pub alg: String,
    /// The certificates.
    pub cert_info: EpointCertInfo,
    /// Signature values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sign_list: Vec<EpointSign>,
    /// Unwrapped envelope keys (扫码解密).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_list: Vec<EpointKey>,
    /// Refused items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refuse_list: Vec<EpointRefusal>,
}

/// `CertInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EpointCertInfo {
    /// The signing certificate, base64 DER.
    pub sign_cert: String,
    /// Issuing CA then root, base64 DER.
    #[serde(default)]
    pub chain: Vec<String>,
    /// The encryption certificate (扫码生成投标文件), base64 DER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc_cert: Option<String>,
}

/// One signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EpointSign {
    /// The item.
    pub item_id: String,
    /// The signature, hex.
    pub sign_value: String,
}

/// One unwrapped key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EpointKey {
    /// The item.
    pub item_id: String,
    /// The key encrypted to the platform's per-transaction key, hex.
    pub wrap_key: String,
}

/// One refused item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EpointRefusal {
    /// The item.
    pub item_id: String,
    /// Why.
    pub reason: String,
}

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

/// Strict decoding of an Epoint packet answering `operation` (camr's name) into camr
/// evidence: size, only the documented fields, version `EP5.2`, the business type of the
/// operation, a known `CertScope`, then the shared mapping (`camr_adapter_kit::packet`).
pub fn decode(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
    let op = packet::operation(operation)?;
    packet::check_size("the Epoint packet", raw, MAX_EVIDENCE_BYTES)?;
    let p: EpointPacket = serde_json::from_slice(raw).map_err(|e| {
        AdapterError::malformed(format!("the answer is not an Epoint business packet ({e})"))
    })?;
    if p.version != VERSION {
        return Err(AdapterError::malformed(format!(
            "packet version `{}`; this adapter reads {VERSION}",
            packet::clip(&p.version, 20)
        )));
    }
    // The app writes UNSIGN for a revoke; SIGN and LOGIN are read for one too.
    packet::check_type(
        "business type",
        op,
        &p.biz_type,
        biz_type,
        &["SIGN", "LOGIN"],
    )?;
    if CertScope::parse(&p.cert_scope).is_none() {
        return Err(AdapterError::malformed(format!(
            "`CertScope` must be PLATFORM (本平台证书) or NATIONAL (全国版), not `{}`",
            packet::clip(&p.cert_scope, 20)
        )));
    }
    packet::to_evidence(
        op,
        Fields {
            binary: Binary::Hex,
            algorithm: ("Alg", &p.alg),
            sign_cert: ("CertInfo.SignCert", &p.cert_info.sign_cert),
            chain: ("CertInfo.Chain", &p.cert_info.chain),
            enc_cert: ("CertInfo.EncCert", p.cert_info.enc_cert.as_deref()),
            signatures: (
                "SignList",
                "SignValue",
                p.sign_list
                    .iter()
                    .map(|s| (s.item_id.as_str(), s.sign_value.as_str()))
                    .collect(),
            ),
            keys: (
                "KeyList",
                "WrapKey",
                p.key_list
                    .iter()
                    .map(|k| (k.item_id.as_str(), k.wrap_key.as_str()))
                    .collect(),
            ),
            rejections: p
                .refuse_list
                .iter()
                .map(|r| (r.item_id.as_str(), r.reason.as_str()))
                .collect(),
        },
    )
}

/// camr evidence of an `op` answer (inferred from the evidence when `None`,
/// `camr_adapter_kit::packet::infer_operation`) as the Epoint app's business packet for a
/// certificate of `scope`.
pub fn encode(
    op: Option<Operation>,
    scope: CertScope,
    ev: &Evidence,
) -> Result<Vec<u8>, AdapterError> {
    let op = op.unwrap_or_else(|| packet::infer_operation(ev));
    let (leaf, rest) = packet::split_chain(ev)?;
    let hex = |b: &[u8]| Binary::Hex.encode(b);
    let b64 = |b: &[u8]| Binary::Base64.encode(b);
    let p = EpointPacket {
        version: VERSION.into(),
        biz_type: biz_type(op).into(),
        cert_scope: scope.as_str().into(),
        alg: packet::algorithm_name(ev.algorithm).into(),
        cert_info: EpointCertInfo {
            sign_cert: b64(&leaf.0),
            chain: rest.iter().map(|c| b64(&c.0)).collect(),
            enc_cert: ev.encryption_certificate.as_ref().map(|c| b64(&c.0)),
        },
        sign_list: ev
            .signatures
            .iter()
            .map(|s| EpointSign {
                item_id: s.item_id.clone(),
                sign_value: hex(&s.signature_value.0),
            })
            .collect(),
        key_list: ev
            .decrypted_keys
            .iter()
            .map(|k| EpointKey {
                item_id: k.item_id.clone(),
                wrap_key: hex(&k.encrypted_to_platform.0),
            })
            .collect(),
        refuse_list: ev
            .item_rejections
            .iter()
            .map(|r| EpointRefusal {
                item_id: r.item_id.clone(),
                reason: r.reason.clone(),
            })
            .collect(),
    };
    serde_json::to_vec(&p)
        .map_err(|e| AdapterError::malformed(format!("cannot encode the packet ({e})")))
}
