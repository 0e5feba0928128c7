//! `gdca-cloud`: the GDCA cloud simulator (routes in the library, `gdca_cloud`), on the cloud
//! kit's command line (`softca_cloud::cli`) and one command of its own:
//!
//! * `gdca-cloud init --ca DIR` — creates the GDCA test CA;
//! * `gdca-cloud issue --ca DIR --out DIR --name N [--org O --uscc C] [--pin P]`
//!   — issues a 数信签 wallet (with `vendor.json`);
//! * `gdca-cloud renew-enc --ca DIR --wallet DIR --name N [--org O --uscc C] [--pin P]` —
//!   renews the encryption certificate, keeping the old one in `enc-history/`;
//! * `gdca-cloud serve --ca DIR --wallets DIR [--listen 127.0.0.1:8720]`;
//! * `gdca-cloud encode-evidence` — camr evidence JSON on stdin → the GDCA JSON on stdout.
#![forbid(unsafe_code)]

use std::path::Path;
use std::process::ExitCode;

use camr::protocol::{Evidence, Operation};
use softca_cloud::cli::{self, Issue, NoOptions, Serve, VendorCloud};
use std::path::PathBuf;

/// GDCA's own commands.
#[derive(Debug, Clone, clap::Subcommand)]
enum Gdca {
    /// Renew a wallet's encryption certificate, keeping the old one (enc-history/).
    RenewEnc {
        /// The CA folder.
        #[arg(long)]
        ca: PathBuf,
        /// The wallet folder.
        #[arg(long)]
        wallet: PathBuf,
        /// The holder's name (as issued).
        #[arg(long)]
        name: String,
        /// The organisation (an organisation certificate).
        #[arg(long, requires = "uscc")]
        org: Option<String>,
        /// The organisation's unified social credit code.
        #[arg(long)]
        uscc: Option<String>,
        /// The wallet PIN.
        #[arg(long, default_value = "123456")]
        pin: String,
    },
}

impl VendorCloud for Gdca {
    const NAME: &'static str = "gdca-cloud";
    const ABOUT: &'static str = "The GDCA (数信签) cloud simulator";
    const LISTEN: &'static str = "127.0.0.1:8720";
    const DEFAULT_PIN: Option<&'static str> = Some("123456");
    type IssueOptions = NoOptions;
    type EncodeOptions = NoOptions;
    type Commands = Gdca;

    fn init(ca: &Path) -> Result<(), String> {
        gdca_cloud::init_ca(ca)
    }

    fn issue(issue: &Issue, pin: &str, _: NoOptions) -> Result<(), String> {
        gdca_cloud::issue_wallet(
            &issue.ca,
            &issue.out,
            &issue.holder(),
            pin,
            issue.cloud_url.as_deref(),
        )
    }

    async fn serve(serve: Serve) -> Result<(), String> {
        gdca_cloud::run(&serve.ca, serve.wallets()?, &serve.listen).await
    }

    fn encode(_: Option<Operation>, _: NoOptions, e: &Evidence) -> Result<Vec<u8>, String> {
        camr_gdca_wire::encode(e).map_err(|e| e.to_string())
    }

    fn more(command: Gdca) -> Result<(), String> {
        let Gdca::RenewEnc {
            ca,
            wallet,
            name,
            org,
            uscc,
            pin,
        } = command;
        let holder = Issue {
            ca: ca.clone(),
            out: wallet.clone(),
            name,
            org,
            uscc,
            pin: None,
            cloud_url: None,
        }
        .holder();
        gdca_cloud::renew_enc_cert(&ca, &wallet, &holder, &pin)
            .map(|serial| println!("renewed: encryption certificate {serial}"))
    }
}

fn main() -> ExitCode {
    cli::main::<Gdca>()
}
