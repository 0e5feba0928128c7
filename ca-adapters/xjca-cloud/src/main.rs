//! `xjca-cloud`: the 中标一证通 (XJCA) cloud simulator, on the cloud kit's command line
//! (`softca_cloud::cli`):
//!
//! - `xjca-cloud serve --ca DIR [--wallets DIR] [--listen 127.0.0.1:8710]`
//! - `xjca-cloud init --ca DIR` (`init-ca` still accepted)
//! - `xjca-cloud issue --ca DIR --name NAME --pin PIN --out DIR [--org ORG --uscc CODE] [--cloud-url URL]`
//! - `xjca-cloud encode-evidence [--operation OP]`: camr evidence JSON on stdin → the XJCA
//!   app's result JSON on stdout (the conformance kit's `encoder`).
#![forbid(unsafe_code)]

use std::path::Path;
use std::process::ExitCode;

use camr::protocol::{Evidence, Operation};
use softca_cloud::cli::{self, Issue, NoCommands, NoOptions, Serve, VendorCloud};

struct Xjca;

impl VendorCloud for Xjca {
    const NAME: &'static str = "xjca-cloud";
    const ABOUT: &'static str = "The XJCA (中标一证通) cloud simulator";
    const LISTEN: &'static str = "127.0.0.1:8710";
    type IssueOptions = NoOptions;
    type EncodeOptions = NoOptions;
    type Commands = NoCommands;

    fn init(ca: &Path) -> Result<(), String> {
        xjca_cloud::init_ca(ca).map(|_| ())
    }

    fn issue(issue: &Issue, pin: &str, _: NoOptions) -> Result<(), String> {
        xjca_cloud::issue_wallet(
            &issue.ca,
            &issue.holder(),
            pin.as_bytes(),
            &issue.out,
            365,
            issue.cloud_url.as_deref(),
        )
        .map(|serial| println!("issued {serial} ({})", issue.out.display()))
    }

    async fn serve(serve: Serve) -> Result<(), String> {
        xjca_cloud::run(&serve.ca, serve.wallets, &serve.listen).await
    }

    fn encode(op: Option<Operation>, _: NoOptions, e: &Evidence) -> Result<Vec<u8>, String> {
        camr_xjca_wire::encode(op, e).map_err(|e| e.to_string())
    }

    fn more(command: NoCommands) -> Result<(), String> {
        match command {}
    }
}

fn main() -> ExitCode {
    cli::main::<Xjca>()
}
