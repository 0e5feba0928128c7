//! XJCA's app, 中标一证通 App, as the simulator plays it (camr's model, `docs/vendors/xjca.md`).
//!
//! * **Wire format.** The answer travels as XJCA's result JSON in `vendorEvidence`
//!   (`camr_xjca_wire::encode`, the one copy the XJCA adapter decodes): the shape of the manual's
//!   验签结果, `{"code":200,"success":true,"data":{…},"msg":"","errorCode":""}`, with the
//!   扫码类型 (`scanType`) of the operation and 个人授权 / 企业授权 (`authType`) by the
//!   certificate (an organisation certificate answers as 企业授权).
//! * **按量扣费** is the platform's report to XJCA's cloud after a verified use (the adapter's
//!   `report_usage`); the app does nothing for it.

use std::path::Path;

use camr::protocol::{ErrorCode, Response};

use super::{VendorApp, VendorFile};
use crate::SimError;

/// XJCA's app.
#[derive(Debug, Clone, Copy)]
pub struct Xjca;

impl VendorApp for Xjca {
    fn ca_org_type(&self) -> &'static str {
        "XJCA"
    }

    fn name(&self) -> &'static str {
        "中标一证通 App (XJCA)"
    }

    fn wrap(&self, _: &Path, _: &VendorFile, mut response: Response) -> Result<Response, SimError> {
        // A rejection carries no evidence: nothing to wrap.
        let Some(evidence) = response.evidence.take() else {
            return Ok(response);
        };
        let answer = camr_xjca_wire::encode(Some(response.operation), &evidence)
            .map_err(|e| SimError::new(ErrorCode::InputMalformed, e.to_string()))?;
        response.vendor_evidence = Some(answer.into());
        Ok(response)
    }
}
