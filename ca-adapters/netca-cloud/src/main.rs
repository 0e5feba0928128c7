//! `netca-cloud`: the NETCA cloud simulator (routes in the library, `netca_cloud`), on the
//! cloud kit's command line (`softca_cloud::cli`):
//!
//! * `netca-cloud init --ca DIR` — creates the NETCA test CA;
//! * `netca-cloud issue --ca DIR --out DIR --name N [--org O --uscc C] [--pin P] [--mobile M]`
//!   — issues a NETCA wallet (with `vendor.json` and, given `--mobile`, registration data);
//! * `netca-cloud serve --ca DIR --wallets DIR [--listen 127.0.0.1:8710]`;
//! * `netca-cloud encode-evidence` — camr evidence JSON on stdin → the NETCA block on stdout.
#![forbid(unsafe_code)]

use std::path::Path;
use std::process::ExitCode;

use camr::protocol::{Evidence, Operation};
use softca_cloud::cli::{self, Issue, NoCommands, NoOptions, Serve, VendorCloud};

/// NETCA's own `issue` option.
#[derive(Debug, Clone, clap::Args)]
struct Registration {
    /// Registration data to share (共享注册): mobile phone.
    #[arg(long)]
    mobile: Option<String>,
}

struct Netca;

impl VendorCloud for Netca {
    const NAME: &'static str = "netca-cloud";
    const ABOUT: &'static str = "The NETCA (网证通) cloud simulator";
    const LISTEN: &'static str = "127.0.0.1:8710";
    const DEFAULT_PIN: Option<&'static str> = Some("123456");
    type IssueOptions = Registration;
    type EncodeOptions = NoOptions;
    type Commands = NoCommands;

    fn init(ca: &Path) -> Result<(), String> {
        netca_cloud::init_ca(ca)
    }

    fn issue(issue: &Issue, pin: &str, options: Registration) -> Result<(), String> {
        let registration = options.mobile.map(|m| camr::protocol::SharedRegistration {
            mobile: Some(m),
            ..Default::default()
        });
        netca_cloud::issue_wallet(
            &issue.ca,
            &issue.out,
            &issue.holder(),
            pin,
            registration.as_ref(),
            issue.cloud_url.as_deref(),
        )
    }

    async fn serve(serve: Serve) -> Result<(), String> {
        netca_cloud::run(&serve.ca, serve.wallets()?, &serve.listen).await
    }

    fn encode(_: Option<Operation>, _: NoOptions, e: &Evidence) -> Result<Vec<u8>, String> {
        Ok(camr_netca_wire::encode(e).into_bytes())
    }

    fn more(command: NoCommands) -> Result<(), String> {
        match command {}
    }
}

fn main() -> ExitCode {
    cli::main::<Netca>()
}
