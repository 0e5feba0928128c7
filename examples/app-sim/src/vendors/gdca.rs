//! GDCA's app, 数信签, as the simulator plays it (camr's model, `docs/vendors/gdca.md`).
//!
//! * **Wire format.** The answer travels as 数信签's JSON in `vendorEvidence`
//!   (`camr_gdca_wire::encode`, the one copy the GDCA adapter decodes).
//! * **证书授权.** A staff member answers with the organisation certificate under a
//!   delegation (`camr-app scan --delegation FILE`); the 数信签 app first asks GDCA's cloud
//!   (`cloudUrl` of `vendor.json`) whether the delegation is still in force: one the
//!   organisation withdrew (收回), or one the cloud never recorded, is refused on the phone
//!   (`DELEGATION_OUT_OF_SCOPE`). [`record_delegation`] and [`withdraw_delegation`] are the
//!   organisation holder's side.
//! * **解密.** A holder whose encryption certificate was renewed keeps the old ones
//!   (`enc-history/<serial>/` in the wallet); [`wallet_for_envelope`] opens the wallet with
//!   the encryption certificate a decrypt request's envelope was made for.

use std::path::Path;

use camr::app::{SignedDelegation, Wallet};
use camr::crypto::PrivateKey;
use camr::pki::Certificate;
use camr::protocol::{ErrorCode, Evidence, OperationPayload, RequestObject, Response};
use camr::softca::wallet_files;
use serde_json::{Value, json};

use super::{VendorApp, VendorFile};
use crate::SimError;

/// GDCA's app.
#[derive(Debug, Clone, Copy)]
pub struct Gdca;

/// The wallet folder keeping replaced encryption certificates and keys.
pub const ENC_HISTORY: &str = "enc-history";

fn bad(msg: impl Into<String>) -> SimError {
    SimError::new(ErrorCode::InputMalformed, msg)
}

/// camr evidence as 数信签's JSON (`camr_gdca_wire::encode`).
pub fn encode(e: &Evidence) -> Result<Vec<u8>, SimError> {
    camr_gdca_wire::encode(e).map_err(|e| bad(e.message()))
}

fn cloud_url(vendor: &VendorFile) -> Option<&str> {
    vendor
        .extra
        .get("cloudUrl")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn cloud_error(e: impl std::fmt::Display) -> SimError {
    SimError::new(
        ErrorCode::AdapterUnavailable,
        format!("GDCA's cloud cannot be reached: {e}"),
    )
}

/// The state GDCA's cloud keeps for a delegation: `active` or `withdrawn`, with the reason;
/// `None` when the cloud does not know it.
pub fn delegation_state(
    cloud_url: &str,
    delegation_id: &str,
) -> Result<Option<(String, Option<String>)>, SimError> {
    let client = crate::http_client()?;
    let r = client
        .get(format!(
            "{}/gdca/delegations/{delegation_id}",
            cloud_url.trim_end_matches('/')
        ))
        .send()
        .map_err(cloud_error)?;
    if r.status().as_u16() == 404 {
        return Ok(None);
    }
    if !r.status().is_success() {
        return Err(cloud_error(format!("HTTP {}", r.status())));
    }
    let v: Value = r.json().map_err(cloud_error)?;
    let state = v
        .get("state")
        .and_then(Value::as_str)
        .ok_or_else(|| cloud_error("the delegation has no state"))?;
    Ok(Some((
        state.to_string(),
        v.get("reason").and_then(Value::as_str).map(str::to_string),
    )))
}

/// The organisation holder records a delegation at GDCA's cloud (证书授权); its id.
pub fn record_delegation(cloud_url: &str, signed: &SignedDelegation) -> Result<String, SimError> {
    let client = crate::http_client()?;
    let r = client
        .post(format!(
            "{}/gdca/delegations",
            cloud_url.trim_end_matches('/')
        ))
        .json(signed)
        .send()
        .map_err(cloud_error)?;
    let status = r.status();
    let v: Value = r.json().map_err(cloud_error)?;
    if !status.is_success() {
        return Err(SimError::new(
            ErrorCode::DelegationOutOfScope,
            format!(
                "GDCA's cloud refused the delegation: {}",
                v.get("error").and_then(Value::as_str).unwrap_or("")
            ),
        ));
    }
    v.get("delegationId")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| cloud_error("the cloud's answer has no delegationId"))
}

/// The organisation holder withdraws a delegation (收回) at GDCA's cloud.
pub fn withdraw_delegation(
    cloud_url: &str,
    delegation_id: &str,
    reason: &str,
) -> Result<(), SimError> {
    let client = crate::http_client()?;
    let r = client
        .post(format!(
            "{}/gdca/delegations/{delegation_id}/withdraw",
            cloud_url.trim_end_matches('/')
        ))
        .json(&json!({ "reason": reason }))
        .send()
        .map_err(cloud_error)?;
    if r.status().is_success() {
        Ok(())
    } else {
        Err(cloud_error(format!("HTTP {}", r.status())))
    }
}

/// Opens the wallet in `dir` with `pin` (PIN failures counted, as `Wallet::unlock`) and, for
/// a decrypt request whose envelope was made for an earlier encryption certificate of the
/// holder (`enc-history/<serial>/`), with that certificate and key. Any other request, or an
/// envelope for the current certificate, gets the wallet as it is.
pub fn wallet_for_envelope(
    dir: &Path,
    pin: &str,
    request: &RequestObject,
) -> Result<Wallet, SimError> {
    let mut wallet = Wallet::unlock(dir, pin.as_bytes())?;
    let OperationPayload::Decrypt { items, .. } = &request.payload else {
        return Ok(wallet);
    };
    let Some(wanted) = items.first().map(|i| i.recipient_cert_sn.clone()) else {
        return Ok(wallet);
    };
    if wallet.enc_cert.serial_hex().eq_ignore_ascii_case(&wanted) {
        return Ok(wallet);
    }
    let Ok(entries) = std::fs::read_dir(dir.join(ENC_HISTORY)) else {
        return Ok(wallet);
    };
    for entry in entries.flatten() {
        let old = entry.path();
        let Some(cert) = std::fs::read(old.join(wallet_files::ENC_CERT))
            .ok()
            .and_then(|b| Certificate::parse_one(&b).ok())
        else {
            continue;
        };
        if cert.serial_hex().eq_ignore_ascii_case(&wanted) {
            let key = std::fs::read(old.join(wallet_files::ENC_KEY))
                .map_err(|e| bad(format!("{}: {e}", old.display())))?;
            wallet.enc_key = PrivateKey::from_bytes(&key, Some(pin.as_bytes()))
                .map_err(|e| bad(format!("the kept encryption key does not open: {e}")))?;
            wallet.enc_cert = cert;
            break;
        }
    }
    Ok(wallet)
}

impl VendorApp for Gdca {
    fn ca_org_type(&self) -> &'static str {
        "GDCA"
    }

    fn name(&self) -> &'static str {
        "数信签 (GDCA)"
    }

    fn wrap(
        &self,
        _: &Path,
        vendor: &VendorFile,
        mut response: Response,
    ) -> Result<Response, SimError> {
        if let Some(d) = &response.delegation {
            // 数信签 acts under a delegation only while GDCA's cloud has it in force.
            let url = cloud_url(vendor).ok_or_else(|| {
                bad("the GDCA wallet's vendor.json names no `cloudUrl` to check the delegation")
            })?;
            let id = camr::app::delegation::id(camr::crypto::default_provider().as_ref(), d);
            match delegation_state(url, &id)? {
                Some((state, _)) if state == "active" => {}
                Some((_, reason)) => {
                    return Err(SimError::new(
                        ErrorCode::DelegationOutOfScope,
                        format!(
                            "the organisation withdrew this delegation (收回: {})",
                            reason.unwrap_or_default()
                        ),
                    ));
                }
                None => {
                    return Err(SimError::new(
                        ErrorCode::DelegationOutOfScope,
                        "GDCA's cloud has no record of this delegation (证书授权)",
                    ));
                }
            }
        }
        let Some(evidence) = response.evidence.take() else {
            return Ok(response);
        };
        response.vendor_evidence = Some(encode(&evidence)?.into());
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use camr::protocol::{Bytes, DecryptedKey, PublicKeyAlgorithm};

    use super::*;

    #[test]
    fn the_json_uses_gdcas_names_and_a_delegation_needs_the_cloud() {
        let e = Evidence {
            algorithm: PublicKeyAlgorithm::Sm2,
            certificate_chain: vec![Bytes(vec![1]), Bytes(vec![2])],
            signatures: Vec::new(),
            encryption_certificate: Some(Bytes(vec![3])),
            decrypted_keys: vec![DecryptedKey {
                item_id: "k1".into(),
                encrypted_to_platform: Bytes(vec![4]),
            }],
            item_rejections: Vec::new(),
        };
        let v: Value = serde_json::from_slice(&encode(&e).unwrap()).unwrap();
        assert_eq!(
            v,
            json!({"gdcaVer": "1.0", "keyAlg": "SM2", "signCert": "AQ==", "caCerts": ["Ag=="],
                   "encCert": "Aw==", "decList": [{"bizId": "k1", "sessionKey": "BA=="}]})
        );
        let none = Evidence {
            certificate_chain: Vec::new(),
            ..e
        };
        assert_eq!(encode(&none).unwrap_err().code, ErrorCode::InputMalformed);
        // Under a delegation, a wallet whose vendor file names no cloud cannot answer.
        let vendor = VendorFile {
            ca_org_type: "GDCA".into(),
            extra: serde_json::Map::new(),
        };
        let response: Response = serde_json::from_value(json!({
            "tid": "C11000055530123456789abcdef0123456789abcdef",
            "operation": "login",
            "caOrgType": "GDCA",
            "status": "approved",
            "requestHash": "00",
            "delegation": {"delegation": "{}", "signature": "AA=="}
        }))
        .unwrap();
        let err = Gdca.wrap(Path::new("."), &vendor, response).unwrap_err();
        assert_eq!(err.code, ErrorCode::InputMalformed);
        assert!(err.msg.contains("cloudUrl"), "{err}");
    }
}
