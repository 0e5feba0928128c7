//! The CA vendors' apps as the simulator plays them (issue 10).
//!
//! A wallet folder says whose app holds it: a `vendor.json` beside the wallet files,
//! `{"caOrgType": "BJCA", …}` (written by that vendor's cloud simulator when it issues the
//! wallet; further fields are the vendor's own, e.g. its cloud's URL). Without the file the
//! wallet is camr's reference software CA's (`SOFTCA`). The simulator then answers as that
//! vendor's app: with its `caOrgType`, and in its own wire format ([`VendorApp::wrap`]), which
//! only that vendor's adapter on the platform can read (`Response::vendor_evidence`).
//!
//! Adding a vendor: a module here implementing [`VendorApp`], and its arm in [`app_for`].

use std::path::Path;

use camr::protocol::{ErrorCode, Response};

use crate::SimError;

pub mod bjca;
pub mod epoint;
pub mod gdca;
pub mod netca;
pub mod xjca;

/// The file naming a wallet's vendor.
pub const VENDOR_FILE: &str = "vendor.json";

/// What `vendor.json` holds.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VendorFile {
    /// The vendor code (`caOrgType`).
    pub ca_org_type: String,
    /// The vendor's own settings for its app (e.g. `cloudUrl`).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The vendor of the wallet in `dir`: its `vendor.json`, else `SOFTCA`.
pub fn vendor_of(dir: &Path) -> Result<VendorFile, SimError> {
    let path = dir.join(VENDOR_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            SimError::new(
                ErrorCode::InputMalformed,
                format!("{} is not a vendor file: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(VendorFile {
            ca_org_type: crate::VENDOR.to_string(),
            extra: serde_json::Map::new(),
        }),
        Err(e) => Err(SimError::new(
            ErrorCode::InputMalformed,
            format!("{}: {e}", path.display()),
        )),
    }
}

/// A vendor's app: how its answers travel.
pub trait VendorApp: Send + Sync {
    /// The vendor code (`caOrgType`).
    fn ca_org_type(&self) -> &'static str;

    /// The vendor's name, for people.
    fn name(&self) -> &'static str;

    /// Turns the answer camr's app logic made (`evidence` in camr's form) into what this
    /// vendor's app sends: typically its own wire format in `vendor_evidence`, `evidence`
    /// cleared. `wallet` is the wallet's folder and vendor file.
    fn wrap(
        &self,
        wallet: &Path,
        vendor: &VendorFile,
        response: Response,
    ) -> Result<Response, SimError>;

    /// camr's app logic as this vendor's app runs it: `app` unchanged by default; a vendor
    /// whose wallet holds no whole key plugs its signer in (`App::with_signer`, e.g. BJCA's
    /// co-signing). `wallet` is the wallet's folder and vendor file.
    fn app(
        &self,
        app: camr::app::App,
        _wallet: &Path,
        _vendor: &VendorFile,
    ) -> Result<camr::app::App, SimError> {
        Ok(app)
    }
}

/// camr's reference software CA: answers in camr's own form.
#[derive(Debug, Clone, Copy)]
pub struct SoftCa;

impl VendorApp for SoftCa {
    fn ca_org_type(&self) -> &'static str {
        crate::VENDOR
    }
    fn name(&self) -> &'static str {
        "camr reference software CA"
    }
    fn wrap(&self, _: &Path, _: &VendorFile, response: Response) -> Result<Response, SimError> {
        Ok(response)
    }
}

/// The app of vendor `ca_org_type` (case-insensitive); an unknown vendor is
/// `INPUT_MALFORMED` naming the ones this simulator plays.
pub fn app_for(ca_org_type: &str) -> Result<Box<dyn VendorApp>, SimError> {
    let apps: Vec<Box<dyn VendorApp>> = vec![
        Box::new(SoftCa),
        Box::new(bjca::Bjca),
        Box::new(netca::Netca),
        Box::new(gdca::Gdca),
        Box::new(xjca::Xjca),
        Box::new(epoint::Epoint),
    ];
    let names: Vec<&str> = apps.iter().map(|a| a.ca_org_type()).collect::<Vec<_>>();
    let known = names.join(", ");
    apps.into_iter()
        .find(|a| a.ca_org_type().eq_ignore_ascii_case(ca_org_type))
        .ok_or_else(|| {
            SimError::new(
                ErrorCode::InputMalformed,
                format!(
                    "this simulator does not play the app of `{}` (it plays {known})",
                    ca_org_type.chars().take(40).collect::<String>()
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn a_wallet_without_a_vendor_file_is_softcas_and_a_bad_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(vendor_of(dir.path()).unwrap().ca_org_type, "SOFTCA");
        std::fs::write(dir.path().join(VENDOR_FILE), b"{").unwrap();
        assert_eq!(
            vendor_of(dir.path()).unwrap_err().code,
            ErrorCode::InputMalformed
        );
        std::fs::write(
            dir.path().join(VENDOR_FILE),
            br#"{"caOrgType":"SOFTCA","cloudUrl":"http://x"}"#,
        )
        .unwrap();
        let v = vendor_of(dir.path()).unwrap();
        assert_eq!(v.extra["cloudUrl"], "http://x");
        assert_eq!(app_for("softca").unwrap().ca_org_type(), "SOFTCA");
        let Err(e) = app_for("NOPE") else {
            panic!("an unknown vendor was played");
        };
        assert!(e.msg.contains("SOFTCA"), "{e}");
    }
}
