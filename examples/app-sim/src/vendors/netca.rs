//! NETCA's app, 网证通互认 APP, as the simulator plays it (camr's model, `docs/vendors/netca.md`).
//!
//! * **Wire format.** The answer travels as a NETCA signed-data block in `vendorEvidence`
//!   (`camr_netca_wire::encode`, the one copy the NETCA adapter decodes).
//! * **共享注册.** A NETCA wallet (issued by `netca-cloud`) carries the holder's registration
//!   data (`registration.json`); a login that asks for it shows every field and shares it only
//!   after the user agrees — the simulator's common flow (`registration_consent`).
//! * **签章会话.** The interactive seal session (the phone's waiting screen) is the simulator's
//!   common flow; each placement's answer is wrapped here like any other.

use std::path::Path;

use camr::protocol::{ErrorCode, Response};

use super::{VendorApp, VendorFile};
use crate::SimError;

/// NETCA's app.
#[derive(Debug, Clone, Copy)]
pub struct Netca;

impl VendorApp for Netca {
    fn ca_org_type(&self) -> &'static str {
        "NETCA"
    }

    fn name(&self) -> &'static str {
        "网证通互认 APP (NETCA)"
    }

    fn wrap(&self, _: &Path, _: &VendorFile, mut response: Response) -> Result<Response, SimError> {
        // A rejection carries no evidence: nothing to wrap.
        let Some(evidence) = response.evidence.take() else {
            return Ok(response);
        };
        if evidence.certificate_chain.is_empty() {
            return Err(SimError::new(
                ErrorCode::InputMalformed,
                "the answer carries no certificate",
            ));
        }
        response.vendor_evidence = Some(camr_netca_wire::encode(&evidence).into_bytes().into());
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use camr::protocol::{Bytes, Evidence, ItemRejection, ItemSignature, PublicKeyAlgorithm};
    use camr_netca_wire::{BEGIN, END, encode};

    use super::*;

    #[test]
    fn the_block_names_every_part_and_a_rejection_passes_through() {
        let e = Evidence {
            algorithm: PublicKeyAlgorithm::EcdsaP256,
            certificate_chain: vec![Bytes(vec![1, 2])],
            signatures: vec![ItemSignature {
                item_id: "标书 1".into(),
                signature_value: Bytes(vec![3]),
            }],
            encryption_certificate: None,
            decrypted_keys: Vec::new(),
            item_rejections: vec![ItemRejection {
                item_id: "d2".into(),
                reason: "重复".into(),
            }],
        };
        let block = encode(&e);
        let lines: Vec<&str> = block.lines().collect();
        assert_eq!(lines[0], BEGIN);
        assert_eq!(lines[2], "signAlgorithm: ECDSA-P256");
        assert_eq!(lines[3], "certificate: AQI=");
        assert!(lines[4].starts_with("signerInfo: ") && !lines[4].contains("标书"));
        assert!(lines[5].starts_with("rejectInfo: "));
        assert_eq!(lines.last(), Some(&END));
        // An answer without evidence (a rejection) is sent as it is; one without a
        // certificate is refused.
        let vendor = VendorFile {
            ca_org_type: "NETCA".into(),
            extra: serde_json::Map::new(),
        };
        let mut response: Response = serde_json::from_value(serde_json::json!({
            "tid": "C11000055530123456789abcdef0123456789abcdef",
            "operation": "login",
            "caOrgType": "NETCA",
            "status": "rejected",
            "requestHash": "00",
            "rejectReason": "不同意"
        }))
        .unwrap();
        let same = Netca
            .wrap(Path::new("."), &vendor, response.clone())
            .unwrap();
        assert_eq!(same, response);
        response.evidence = Some(Evidence {
            certificate_chain: Vec::new(),
            ..e
        });
        let err = Netca.wrap(Path::new("."), &vendor, response).unwrap_err();
        assert_eq!(err.code, ErrorCode::InputMalformed);
    }
}
