//! BJCA's app, 掌上信手书, as the simulator plays it (camr's model, `docs/vendors/bjca.md`).
//!
//! * **Co-signing (协同签名).** A BJCA wallet holds no whole key: `sign-key.pem` and
//!   `enc-key.pem` hold the phone's shares d1 (PIN-encrypted like keys, so the PIN and its
//!   lock-out protect them), the BJCA cloud holds d2. Every signature — the binding, a
//!   message, each batch item, a seal — and every envelope key goes through the cloud
//!   ([`CoSigner`], `POST /cosign/sign` and `/cosign/decrypt` with the wallet's user and
//!   token from `vendor.json`); the phone checks each co-signature under the certificate's
//!   key before it is used. The result is an ordinary SM2 signature.
//! * **Wire format.** The answer travels as BJCA's JSON in `vendorEvidence`
//!   (`camr_bjca_wire::BjcaEvidence`).
//! * **任务 (tasks).** Tasks the platform pushed to the user through the cloud: the
//!   待处理 (pending) list is answered by `camr-app tasks --cloud <cloudUrl> --wallet <wallet>`
//!   (each one as a scan: sign, batch-sign with 拒签 of single items, or reject with a
//!   reason); [`task_list`] reads either list, 已处理 (done) included.

use std::path::Path;
use std::sync::Arc;

use camr::app::{App, AppError, ItemSigner, Wallet};
use camr::cosign::{DecryptResponse, SignResponse};
use camr::crypto::{SecretBytes, Sm2CiphertextForm};
use camr::protocol::{Bytes, ErrorCode, Response};
use camr_bjca_wire::{CosignDecrypt, CosignSign, KEY_KIND_COSIGN};

use super::{VendorApp, VendorFile};
use crate::SimError;

/// BJCA's app.
#[derive(Debug, Clone, Copy)]
pub struct Bjca;

/// The co-signing settings of a BJCA wallet (its `vendor.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignSettings {
    /// The BJCA cloud.
    pub cloud_url: String,
    /// The user id at the cloud (the signing certificate's serial).
    pub user: String,
    /// The wallet's token.
    pub token: String,
}

fn setting(vendor: &VendorFile, key: &str) -> Result<String, SimError> {
    vendor
        .extra
        .get(key)
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            SimError::new(
                ErrorCode::InputMalformed,
                format!("the BJCA wallet's vendor.json has no `{key}`"),
            )
        })
}

impl CosignSettings {
    /// From a BJCA wallet's vendor file: `cloudUrl`, `user`, `token`, `keyKind` `cosign-d1`.
    pub fn from_vendor(vendor: &VendorFile) -> Result<Self, SimError> {
        let kind = setting(vendor, "keyKind")?;
        if kind != KEY_KIND_COSIGN {
            return Err(SimError::new(
                ErrorCode::InputMalformed,
                format!("the BJCA wallet's keyKind `{kind}` is not `{KEY_KIND_COSIGN}`"),
            ));
        }
        Ok(Self {
            cloud_url: setting(vendor, "cloudUrl")?
                .trim_end_matches('/')
                .to_string(),
            user: setting(vendor, "user")?,
            token: setting(vendor, "token")?,
        })
    }
}

/// Signs and decrypts with the wallet's share d1 and the BJCA cloud's d2 (协同签名/协同解密).
#[derive(Debug, Clone)]
pub struct CoSigner {
    settings: CosignSettings,
    client: reqwest::blocking::Client,
}

fn signer_error(code: ErrorCode, msg: impl Into<String>) -> AppError {
    AppError::Signer {
        code,
        msg: msg.into(),
    }
}

fn cosign_err(e: camr::cosign::CosignError) -> AppError {
    signer_error(e.error_code(), format!("{}: {e}", e.code()))
}

impl CoSigner {
    /// A signer for the wallet with these settings.
    pub fn new(settings: CosignSettings) -> Result<Self, SimError> {
        Ok(Self {
            settings,
            client: crate::http_client()?,
        })
    }

    /// POSTs a co-signing call; the cloud's refusal keeps its code.
    fn call<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, AppError> {
        let url = format!("{}{path}", self.settings.cloud_url);
        let resp = self.client.post(&url).json(body).send().map_err(|e| {
            signer_error(
                ErrorCode::AdapterUnavailable,
                format!("the BJCA cloud {url} cannot be reached: {e}"),
            )
        })?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .map_err(|e| signer_error(ErrorCode::AdapterUnavailable, format!("{url}: {e}")))?;
        if !status.is_success() {
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let code = v
                .get("code")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("");
            let msg = v
                .get("error")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("");
            let mapped = if status == reqwest::StatusCode::UNAUTHORIZED {
                ErrorCode::KeyPasswordWrong
            } else {
                ErrorCode::AdapterFailed
            };
            return Err(signer_error(
                mapped,
                format!("the BJCA cloud refused ({status}, {code}): {msg}"),
            ));
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            signer_error(
                ErrorCode::AdapterFailed,
                format!("the BJCA cloud's answer is not understood: {e}"),
            )
        })
    }
}

impl ItemSigner for CoSigner {
    fn sign(&self, wallet: &Wallet, message: &[u8]) -> Result<Vec<u8>, AppError> {
        let joint = wallet.sign_cert.public_key()?;
        let share = camr_bjca_wire::client_share(&wallet.sign_key, &joint)
            .map_err(|e| signer_error(ErrorCode::InputMalformed, e.msg))?;
        let (pending, request) = share
            .sign_start(message, camr::cosign::DEFAULT_SM2_SIGNER_ID)
            .map_err(cosign_err)?;
        let call = CosignSign {
            user: self.settings.user.clone(),
            token: self.settings.token.clone(),
            request,
        };
        let resp: SignResponse = self.call("/cosign/sign", &call)?;
        // Checks r, s2, s3 and verifies (r, s) under the certificate's key before use.
        pending.finish(&resp).map_err(cosign_err)
    }

    fn decrypt(&self, wallet: &Wallet, ciphertext: &[u8]) -> Result<SecretBytes, AppError> {
        let joint = wallet.enc_cert.public_key()?;
        let share = camr_bjca_wire::client_share(&wallet.enc_key, &joint)
            .map_err(|e| signer_error(ErrorCode::InputMalformed, e.msg))?;
        let (pending, request) = share
            .decrypt_start(ciphertext, Sm2CiphertextForm::Asn1)
            .map_err(cosign_err)?;
        let call = CosignDecrypt {
            user: self.settings.user.clone(),
            token: self.settings.token.clone(),
            request,
        };
        let resp: DecryptResponse = self.call("/cosign/decrypt", &call)?;
        pending.finish(&resp).map_err(cosign_err)
    }
}

/// Turns camr's answer into the BJCA app's: its JSON in `vendorEvidence`.
pub fn wrap_response(mut response: Response) -> Result<Response, SimError> {
    let Some(evidence) = response.evidence.take() else {
        return Ok(response);
    };
    let raw = camr_bjca_wire::encode(response.operation, &evidence)
        .map_err(|e| SimError::new(ErrorCode::InputMalformed, e.msg))?;
    response.vendor_evidence = Some(Bytes(raw));
    Ok(response)
}

impl VendorApp for Bjca {
    fn ca_org_type(&self) -> &'static str {
        camr_bjca_wire::CA_ORG_TYPE
    }

    fn name(&self) -> &'static str {
        "掌上信手书 (BJCA, co-signing)"
    }

    fn wrap(&self, _: &Path, _: &VendorFile, response: Response) -> Result<Response, SimError> {
        wrap_response(response)
    }

    fn app(&self, app: App, _wallet: &Path, vendor: &VendorFile) -> Result<App, SimError> {
        let signer = CoSigner::new(CosignSettings::from_vendor(vendor)?)?;
        Ok(app.with_signer(Arc::new(signer)))
    }
}

/// The wallet's 待处理 (`pending`) or 已处理 (`done`) task list at its BJCA cloud.
pub fn task_list(wallet: &Path, state: &str) -> Result<Vec<serde_json::Value>, SimError> {
    let vendor = super::vendor_of(wallet)?;
    let settings = CosignSettings::from_vendor(&vendor)?;
    let url = format!(
        "{}/tasks?user={}&state={state}",
        settings.cloud_url, settings.user
    );
    crate::net::task_list_at(&crate::http_client()?, &url, &url)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_bjca_wallet_needs_its_cosign_settings() {
        let v = |extra: serde_json::Value| VendorFile {
            ca_org_type: "BJCA".into(),
            extra: extra.as_object().cloned().unwrap_or_default(),
        };
        let good = serde_json::json!({"cloudUrl":"http://c/","user":"7F","token":"t","keyKind":"cosign-d1"});
        let s = CosignSettings::from_vendor(&v(good)).unwrap();
        assert_eq!(s.cloud_url, "http://c");
        for bad in [
            serde_json::json!({"user":"7F","token":"t","keyKind":"cosign-d1"}),
            serde_json::json!({"cloudUrl":"http://c","user":"7F","token":"t","keyKind":"whole"}),
            serde_json::json!({"cloudUrl":"http://c","user":"7F","keyKind":"cosign-d1"}),
        ] {
            assert_eq!(
                CosignSettings::from_vendor(&v(bad)).unwrap_err().code,
                ErrorCode::InputMalformed
            );
        }
        assert_eq!(super::super::app_for("bjca").unwrap().ca_org_type(), "BJCA");
    }
}
