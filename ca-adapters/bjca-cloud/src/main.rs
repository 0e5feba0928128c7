//! `bjca-cloud`: the cloud of camr's BJCA model (routes in the library, `bjca_cloud`), on the
//! cloud kit's command line (`softca_cloud::cli`):
//!
//! * `bjca-cloud init --ca DIR` — creates the CA ("BJCA Test CA", SM2).
//! * `bjca-cloud issue --ca DIR --out WALLET --name NAME --pin PIN [--cloud-url URL]
//!   [--org ORG --uscc CODE]` — a co-signing wallet (协同签名): d1 in the wallet, d2 here;
//!   `--cloud-url` defaults to `http://127.0.0.1:8710`.
//! * `bjca-cloud serve --ca DIR [--listen 127.0.0.1:8710]` — prints `listening on ADDR`; the
//!   users are the CA's own (no `--wallets`).
//! * `bjca-cloud encode-evidence [--operation OP]` — camr evidence JSON on stdin → the BJCA
//!   app's answer on stdout (the conformance kit's `encoder`); without `--operation` the
//!   `bizType` is read off the evidence.
#![forbid(unsafe_code)]

use std::path::Path;
use std::process::ExitCode;

use camr::protocol::{Evidence, Operation};
use softca_cloud::cli::{self, Issue, NoCommands, NoOptions, Serve, VendorCloud};

struct Bjca;

impl VendorCloud for Bjca {
    const NAME: &'static str = "bjca-cloud";
    const ABOUT: &'static str = "The cloud of camr's BJCA model (掌上信手书, 协同签名)";
    const LISTEN: &'static str = "127.0.0.1:8710";
    type IssueOptions = NoOptions;
    type EncodeOptions = NoOptions;
    type Commands = NoCommands;

    fn init(ca: &Path) -> Result<(), String> {
        bjca_cloud::init_ca(ca).map(|()| println!("CA in {}", ca.display()))
    }

    fn issue(issue: &Issue, pin: &str, _: NoOptions) -> Result<(), String> {
        let cloud_url = issue
            .cloud_url
            .as_deref()
            .unwrap_or("http://127.0.0.1:8710");
        bjca_cloud::issue_wallet(
            &issue.ca,
            &issue.holder(),
            pin.as_bytes(),
            &issue.out,
            cloud_url,
        )
        .map(|w| println!("wallet {} (user {})", w.dir.display(), w.user))
    }

    async fn serve(serve: Serve) -> Result<(), String> {
        if serve.wallets.is_some() {
            return Err("the BJCA cloud serves its own users: --wallets is not taken".into());
        }
        bjca_cloud::run(&serve.ca, &serve.listen).await
    }

    fn encode(op: Option<Operation>, _: NoOptions, e: &Evidence) -> Result<Vec<u8>, String> {
        match op {
            Some(op) => camr_bjca_wire::encode(op, e),
            None => camr_bjca_wire::encode_as(camr_bjca_wire::infer_biz_type(e), e),
        }
        .map_err(|e| e.to_string())
    }

    fn more(command: NoCommands) -> Result<(), String> {
        match command {}
    }
}

fn main() -> ExitCode {
    cli::main::<Bjca>()
}
