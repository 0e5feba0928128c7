//! Epoint's app, 新点标证通 APP, as the simulator plays it (camr's model,
//! `docs/vendors/epoint.md`).
//!
//! * **Wire format.** The answer travels as Epoint's PascalCase business packet (业务报文) in
//!   `vendorEvidence` (`camr_epoint_wire::encode`, the one copy the Epoint adapter decodes), with
//!   the wallet's `CertScope` from its `vendor.json`: 本平台证书 (`PLATFORM`) or 全国版
//!   (`NATIONAL`).
//! * **二维码类型.** Which code to scan is the simulator's common flow (`find_profile`): a
//!   本平台证书 answers through the Epoint code (the `vendor1` profile); through the national
//!   code the platform refuses it (`CERT_NOT_ENTITLED`).
//! * **扫码生成投标文件 / 扫码解密** are the encrypt and decrypt answers; the PIN is the
//!   wallet's.

use std::path::Path;

use camr::protocol::{ErrorCode, Response};
use camr_epoint_wire::CertScope;

use super::{VendorApp, VendorFile};
use crate::SimError;

/// Epoint's app.
#[derive(Debug, Clone, Copy)]
pub struct Epoint;

impl VendorApp for Epoint {
    fn ca_org_type(&self) -> &'static str {
        "EPOINT"
    }

    fn name(&self) -> &'static str {
        "新点标证通 APP (Epoint)"
    }

    fn wrap(
        &self,
        _: &Path,
        vendor: &VendorFile,
        mut response: Response,
    ) -> Result<Response, SimError> {
        // A rejection carries no evidence: nothing to wrap.
        let Some(evidence) = response.evidence.take() else {
            return Ok(response);
        };
        let scope = match vendor.extra.get("certScope").and_then(|s| s.as_str()) {
            None => CertScope::National,
            Some(text) => CertScope::parse(text).ok_or_else(|| {
                SimError::new(
                    ErrorCode::InputMalformed,
                    format!(
                        "vendor.json: `certScope` must be PLATFORM or NATIONAL, not `{}`",
                        text.chars().take(20).collect::<String>()
                    ),
                )
            })?,
        };
        let packet = camr_epoint_wire::encode(Some(response.operation), scope, &evidence)
            .map_err(|e| SimError::new(ErrorCode::InputMalformed, e.to_string()))?;
        response.vendor_evidence = Some(packet.into());
        Ok(response)
    }
}
