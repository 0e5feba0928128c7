//! `gdca-cloud`: the GDCA cloud simulator (routes in the library, `gdca_cloud`).
//!
//! * `gdca-cloud init --ca DIR` — creates the GDCA test CA;
//! * `gdca-cloud issue --ca DIR --out DIR --name N [--org O --uscc C] [--pin P]`
//!   — issues a 数信签 wallet (with `vendor.json`);
//! * `gdca-cloud renew-enc --ca DIR --wallet DIR --name N [--org O --uscc C] [--pin P]` —
//!   renews the encryption certificate, keeping the old one in `enc-history/`;
//! * `gdca-cloud serve --ca DIR --wallets DIR [--listen 127.0.0.1:8720]`;
//! * `gdca-cloud encode-evidence` — camr evidence JSON on stdin → the GDCA JSON on stdout.
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::path::PathBuf;

use camr::softca::{Holder, HolderType};
use clap::{Parser, Subcommand};

/// The GDCA cloud simulator.
#[derive(Debug, Parser)]
#[command(name = "gdca-cloud", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the GDCA test CA.
    Init {
        /// The CA folder.
        #[arg(long)]
        ca: PathBuf,
    },
    /// Issue a GDCA wallet.
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
        /// The cloud's URL, written to vendor.json.
        #[arg(long)]
        cloud_url: Option<String>,
    },
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
    /// Serve the cloud.
    Serve {
        /// The CA folder.
        #[arg(long)]
        ca: PathBuf,
        /// The folder of wallet folders.
        #[arg(long)]
        wallets: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8720")]
        listen: String,
    },
    /// camr evidence JSON (stdin) → GDCA JSON (stdout).
    EncodeEvidence,
}

fn encode() -> Result<(), String> {
    let mut input = Vec::new();
    std::io::stdin()
        .take(4 * 1024 * 1024)
        .read_to_end(&mut input)
        .map_err(|e| format!("stdin: {e}"))?;
    let out = gdca_cloud::encode_evidence_json(&input)?;
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| format!("stdout: {e}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let r = match Args::parse().command {
        Command::Init { ca } => gdca_cloud::init_ca(&ca),
        Command::Issue {
            ca,
            out,
            name,
            org,
            uscc,
            pin,
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
            gdca_cloud::issue_wallet(&ca, &out, &holder, &pin, cloud_url.as_deref())
        }
        Command::RenewEnc {
            ca,
            wallet,
            name,
            org,
            uscc,
            pin,
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
            gdca_cloud::renew_enc_cert(&ca, &wallet, &holder, &pin).map(|serial| {
                println!("renewed: encryption certificate {serial}");
            })
        }
        Command::Serve {
            ca,
            wallets,
            listen,
        } => gdca_cloud::run(&ca, wallets, &listen).await,
        Command::EncodeEvidence => encode(),
    };
    match r {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gdca-cloud: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
