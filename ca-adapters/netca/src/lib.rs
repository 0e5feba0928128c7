//! # camr-adapter-netca — the adapter for 网证通互认 APP (NETCA, `caOrgType` `NETCA`)
//!
//! Built as a `cdylib` (the `.so` a platform loads) and an `rlib` (so that tests elsewhere can
//! make cargo build the `.so`). See `docs/vendors/netca.md`.
//!
//! * **Wire format** (our model; NETCA's real app protocol is not public): the app answers with
//!   a *NETCA signed-data block*, a PKCS#7-shaped text armour of `name: value` lines —
//!
//!   ```text
//!   -----BEGIN NETCA SIGNED DATA-----
//!   version: 1
//!   signAlgorithm: SM2                      (SM2 | RSA | ECDSA-P256)
//!   certificate: <base64 DER>               (one or more; the signing certificate first)
//!   envelopedCertificate: <base64 DER>      (at most one: the encryption certificate)
//!   signerInfo: <base64 item id> <base64 signature>
//!   recipientInfo: <base64 item id> <base64 key re-encrypted to the platform>
//!   rejectInfo: <base64 item id> <base64 UTF-8 reason>
//!   -----END NETCA SIGNED DATA-----
//!   ```
//!
//!   [`decode_block`] reads it strictly (armour lines, one `version` and `signAlgorithm`,
//!   known names only, canonical base64, at most [`MAX_EVIDENCE_BYTES`]) into camr's
//!   [`Evidence`]. It *translates*; the core verifies everything.
//! * **Outbound calls** go to the NETCA cloud (`netca-cloud`): `GET /enc-cert`, `GET /crl`,
//!   `POST /tasks` + `GET /tasks/{id}`, `POST /usage`, and `GET /netca/seals?serial=HEX` (the
//!   holder's seals made in the NETCA app: 人名章/手写签名 for a person, 公章/法人章/合同章…
//!   for an organisation). Without `cloudUrl` they answer `ADAPTER_UNAVAILABLE`.
//!
//! Configuration: `{"cloudUrl": "http://127.0.0.1:8710", "timeoutMs": 5000}`.
#![forbid(unsafe_code)]

use std::sync::Arc;

use camr::protocol::{
    Bytes, DecryptedKey, Evidence, ItemRejection, ItemSignature, Operation, PublicKeyAlgorithm,
};
use camr_adapter_kit::calls;
use camr_adapter_kit::{Cloud, CloudConfig, CloudSlot};
use camr_plugin_abi::{AdapterError, AdapterImpl, AdapterInfo, CertStatus, export_adapter};
use data_encoding::BASE64;

/// NETCA's vendor code (`caOrgType`).
pub const CA_ORG_TYPE: &str = "NETCA";
/// Largest raw answer accepted (1 MiB).
pub const MAX_EVIDENCE_BYTES: usize = 1024 * 1024;
/// The block's first line.
pub const BEGIN: &str = "-----BEGIN NETCA SIGNED DATA-----";
/// The block's last line.
pub const END: &str = "-----END NETCA SIGNED DATA-----";

/// The NETCA adapter.
#[derive(Default)]
pub struct NetcaAdapter {
    cloud: CloudSlot,
}

impl std::fmt::Debug for NetcaAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NetcaAdapter")
    }
}

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
/// [`decode_strict`]).
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

/// Strict decoding: the block, then what every answer must carry (a certificate that decodes;
/// signatures for every operation but `encrypt`).
pub fn decode_strict(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError> {
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

impl NetcaAdapter {
    /// A new, unconfigured adapter.
    pub fn new() -> Self {
        Self::default()
    }

    fn cloud(&self) -> Result<Arc<Cloud>, AdapterError> {
        self.cloud.get("netca")
    }
}

impl AdapterImpl for NetcaAdapter {
    fn info(&self) -> AdapterInfo {
        AdapterInfo {
            ca_org_type: CA_ORG_TYPE.into(),
            vendor_name: "网证通 NETCA (网证通互认 APP)".into(),
            adapter_version: env!("CARGO_PKG_VERSION").into(),
            operations: Operation::ALL
                .iter()
                .map(|o| o.as_str().to_string())
                .collect(),
            algorithms: vec!["SM2".into(), "RSA".into(), "ECDSA_P256".into()],
        }
    }

    fn configure(&self, config_json: &str) -> Result<(), AdapterError> {
        self.cloud
            .configure("netca", &CloudConfig::parse(config_json)?)
    }

    fn decode_evidence(&self, operation: &str, raw: &[u8]) -> Result<String, AdapterError> {
        calls::evidence_json(&decode_strict(operation, raw)?)
    }

    fn fetch_encryption_cert(&self, subject_json: &str) -> Result<Vec<u8>, AdapterError> {
        calls::fetch_encryption_cert(|| self.cloud(), subject_json)
    }

    fn cert_status(&self, cert_der: &[u8]) -> Result<CertStatus, AdapterError> {
        calls::cert_status(|| self.cloud(), cert_der)
    }

    fn push_task(&self, user_json: &str, request_json: &str) -> Result<String, AdapterError> {
        calls::push_task(|| self.cloud(), user_json, request_json)
    }

    fn poll_task(&self, handle: &str) -> Result<String, AdapterError> {
        calls::poll_task(|| self.cloud(), handle)
    }

    /// `GET /netca/seals?serial=HEX`: the seals (电子印章) the holder made in the NETCA app.
    fn list_seals(&self, subject_json: &str) -> Result<String, AdapterError> {
        let seals = calls::list_seals(|| self.cloud(), "/netca/seals", subject_json)?;
        Ok(calls::seals_json(seals, str::to_string))
    }

    fn report_usage(&self, record_json: &str) -> Result<(), AdapterError> {
        calls::report_usage(|| self.cloud(), "/usage", record_json)
    }
}

export_adapter!(NetcaAdapter);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use camr_plugin_abi::codes;

    fn block(lines: &[&str]) -> Vec<u8> {
        let mut s = format!("{BEGIN}\n");
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
        s.push_str(END);
        s.into_bytes()
    }

    #[test]
    fn the_block_is_read_field_by_field() {
        let id = BASE64.encode("doc 1".as_bytes());
        let reason = BASE64.encode("报价有误".as_bytes());
        let raw = block(&[
            "version: 1",
            "signAlgorithm: SM2",
            "certificate: AAEC",
            &format!("signerInfo: {id} AQID"),
            &format!("rejectInfo: {id} {reason}"),
            &format!("recipientInfo: {id} BAUG"),
        ]);
        let e = decode_block(&raw).unwrap();
        assert_eq!(e.algorithm, PublicKeyAlgorithm::Sm2);
        assert_eq!(e.certificate_chain, vec![Bytes(vec![0, 1, 2])]);
        assert_eq!(e.signatures[0].item_id, "doc 1");
        assert_eq!(e.signatures[0].signature_value.0, vec![1, 2, 3]);
        assert_eq!(e.item_rejections[0].reason, "报价有误");
        assert_eq!(e.decrypted_keys[0].encrypted_to_platform.0, vec![4, 5, 6]);
    }

    #[test]
    fn garbage_and_every_broken_block_is_input_malformed() {
        let a = NetcaAdapter::new();
        let good = ["version: 1", "signAlgorithm: SM2", "certificate: AAEC"];
        let cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"garbage".to_vec(),
            b"{\"algorithm\":\"SM2\",\"certificateChain\":[]}".to_vec(),
            good.join("\n").into_bytes(),
            block(&["version: 1", "certificate: AAEC"]),
            block(&["signAlgorithm: SM2", "certificate: AAEC"]),
            block(&["version: 2", "signAlgorithm: SM2", "certificate: AAEC"]),
            block(&["version: 1", "version: 1", "signAlgorithm: SM2"]),
            block(&["version: 1", "signAlgorithm: SM9", "certificate: AAEC"]),
            block(&["version: 1", "signAlgorithm: SM2", "certificate: ***"]),
            block(&["version: 1", "signAlgorithm: SM2", "verdict: ok"]),
            block(&["version: 1", "signAlgorithm: SM2", "signerInfo: AAEC"]),
            block(&["version: 1", "signAlgorithm: SM2", "signerInfo: AA BB CC"]),
            block(&["version: 1", "signAlgorithm: SM2", "no separator"]),
            block(&["version: 1", "signAlgorithm: SM2"]),
        ];
        for raw in &cases {
            let e = a.decode_evidence("login", raw).unwrap_err();
            assert_eq!(
                e.code(),
                codes::INPUT_MALFORMED,
                "{}: {e}",
                String::from_utf8_lossy(raw)
            );
        }
        let big = vec![b' '; MAX_EVIDENCE_BYTES + 1];
        assert_eq!(
            a.decode_evidence("login", &big).unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
        // A certificate that is not DER, and a login without a signature.
        let e = a.decode_evidence("login", &block(&good)).unwrap_err();
        assert_eq!(e.code(), codes::CERT_MALFORMED, "{e}");
        assert_eq!(
            a.decode_evidence("nope", &block(&good)).unwrap_err().code(),
            codes::INPUT_MALFORMED
        );
    }

    #[test]
    fn outbound_calls_need_a_cloud() {
        let a = NetcaAdapter::new();
        a.configure("{}").unwrap();
        let e = a.list_seals(r#"{"certSn":"7F01"}"#).unwrap_err();
        assert_eq!(e.code(), codes::ADAPTER_UNAVAILABLE);
        for subject in ["{}", r#"{"certSn":""}"#, "not json"] {
            let e = a.list_seals(subject).unwrap_err();
            assert_eq!(e.code(), codes::INPUT_MALFORMED, "{subject}: {e}");
        }
        assert!(a.configure(r#"{"cloudUrl":"ftp://x"}"#).is_err());
        assert_eq!(a.info().ca_org_type, "NETCA");
    }
}
