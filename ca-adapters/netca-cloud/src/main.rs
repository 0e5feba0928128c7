//! `netca-cloud`: the NETCA cloud simulator (routes in the library, `netca_cloud`).
//!
//! * `netca-cloud init --ca DIR` — creates the NETCA test CA;
//! * `netca-cloud issue --ca DIR --out DIR --name N [--org O --uscc C] [--pin P] [--mobile M]`
//!   — issues a NETCA wallet (with `vendor.json` and, given `--mobile`, registration data);
//! * `netca-cloud serve --ca DIR --wallets DIR [--listen 127.0.0.1:8710]`;
//! * `netca-cloud encode-evidence` — camr evidence JSON on stdin → the NETCA block on stdout.
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::path::PathBuf;

use camr::softca::{Holder, HolderType};
use clap::{Parser, Subcommand};

/// The NETCA cloud simulator.
#[derive(Debug, Parser)]
#[command(name = "netca-cloud", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the NETCA test CA.
    Init {
        /// The CA folder.
        #[arg(long)]
        ca: PathBuf,
    },
    /// Issue a NETCA wallet.
    Issue {
        /// The CA folder.
        #[arg(long)]
        ca: PathBuf,
        /// The wallet folder to create.
        #[arg(long)]
        out: PathBuf,
        /// The holder's name.
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
        /// Registration data to share (共享注册): mobile phone.
        #[arg(long)]
        mobile: Option<String>,
        /// The cloud's URL, written to vendor.json.
        #[arg(long)]
        cloud_url: Option<String>,
    },
    /// Serve the cloud.
    Serve {
        /// The CA folder.
        #[arg(long)]
        ca: PathBuf,
        /// The folder of wallet folders.
        #[arg(long)]
        wallets: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8710")]
        listen: String,
    },
    /// camr evidence JSON (stdin) → NETCA signed-data block (stdout).
    EncodeEvidence,
}

fn encode() -> Result<(), String> {
    let mut input = Vec::new();
    std::io::stdin()
        .take(4 * 1024 * 1024)
        .read_to_end(&mut input)
        .map_err(|e| format!("stdin: {e}"))?;
    let out = netca_cloud::encode_evidence_json(&input)?;
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| format!("stdout: {e}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let r = match Args::parse().command {
        Command::Init { ca } => netca_cloud::init_ca(&ca),
        Command::Issue {
            ca,
            out,
            name,
            org,
            uscc,
            pin,
            mobile,
            cloud_url,
        } => {
            let holder = Holder {
                holder_type: if org.is_some() {
                    HolderType::Org
                } else {
                    HolderType::Personal
                },
                name,
                organization: org,
                uscc,
                identity_number: None,
            };
            let registration = mobile.map(|m| camr::protocol::SharedRegistration {
                mobile: Some(m),
                ..Default::default()
            });
            netca_cloud::issue_wallet(
                &ca,
                &out,
                &holder,
                &pin,
                registration.as_ref(),
                cloud_url.as_deref(),
            )
        }
        Command::Serve {
            ca,
            wallets,
            listen,
        } => netca_cloud::run(&ca, wallets, &listen).await,
        Command::EncodeEvidence => encode(),
    };
    match r {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netca-cloud: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
