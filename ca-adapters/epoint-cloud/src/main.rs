//! `epoint-cloud`: the 新点标证通 (Epoint) cloud simulator, on the cloud kit's command line
//! (`softca_cloud::cli`):
//!
//! - `epoint-cloud serve --ca DIR [--wallets DIR] [--listen 127.0.0.1:8720]`
//! - `epoint-cloud init --ca DIR` (`init-ca` still accepted)
//! - `epoint-cloud issue --ca DIR --name NAME --pin PIN --out DIR [--platform-only] [--org ORG --uscc CODE] [--cloud-url URL]`
//! - `epoint-cloud encode-evidence [--operation OP] [--platform-only]`: camr evidence JSON on
//!   stdin → the Epoint app's business packet on stdout (the conformance kit's `encoder`).
#![forbid(unsafe_code)]

use std::path::Path;
use std::process::ExitCode;

use camr::protocol::{Evidence, Operation};
use epoint_cloud::CertScope;
use softca_cloud::cli::{self, Issue, NoCommands, Serve, VendorCloud};

/// 本平台证书 (usable here only, through the Epoint QR code) instead of 全国版.
#[derive(Debug, Clone, clap::Args)]
struct Scope {
    /// 本平台证书 (`CertScope` PLATFORM: usable here only, through the Epoint QR code) instead of 全国版.
    #[arg(long)]
    platform_only: bool,
}

impl Scope {
    fn scope(&self) -> CertScope {
        if self.platform_only {
            CertScope::Platform
        } else {
            CertScope::National
        }
    }
}

struct Epoint;

impl VendorCloud for Epoint {
    const NAME: &'static str = "epoint-cloud";
    const ABOUT: &'static str = "The Epoint (新点标证通) cloud simulator";
    const LISTEN: &'static str = "127.0.0.1:8720";
    type IssueOptions = Scope;
    type EncodeOptions = Scope;
    type Commands = NoCommands;

    fn init(ca: &Path) -> Result<(), String> {
        epoint_cloud::init_ca(ca).map(|_| ())
    }

    fn issue(issue: &Issue, pin: &str, options: Scope) -> Result<(), String> {
        epoint_cloud::issue_wallet(
            &issue.ca,
            &issue.holder(),
            pin.as_bytes(),
            &issue.out,
            365,
            options.scope(),
            issue.cloud_url.as_deref(),
        )
        .map(|serial| println!("issued {serial} ({})", issue.out.display()))
    }

    async fn serve(serve: Serve) -> Result<(), String> {
        epoint_cloud::run(&serve.ca, serve.wallets, &serve.listen).await
    }

    fn encode(op: Option<Operation>, options: Scope, e: &Evidence) -> Result<Vec<u8>, String> {
        camr_epoint_wire::encode(op, options.scope(), e).map_err(|e| e.to_string())
    }

    fn more(command: NoCommands) -> Result<(), String> {
        match command {}
    }
}

fn main() -> ExitCode {
    cli::main::<Epoint>()
}
