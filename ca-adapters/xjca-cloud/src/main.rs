//! `xjca-cloud`: the 中标一证通 (XJCA) cloud simulator.
//!
//! - `xjca-cloud serve --ca DIR [--wallets DIR] [--listen 127.0.0.1:8710]`
//! - `xjca-cloud init-ca --ca DIR`
//! - `xjca-cloud issue --ca DIR --name NAME --pin PIN --out DIR [--org ORG --uscc CODE] [--cloud-url URL]`
//! - `xjca-cloud encode-evidence [--operation OP]`: camr evidence JSON on stdin → the XJCA
//!   app's result JSON on stdout (the conformance kit's `encoder`).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use camr::protocol::{Evidence, Operation};
use camr::softca::{Holder, HolderType};
use clap::{Parser, Subcommand};

/// The XJCA cloud simulator.
#[derive(Debug, Parser)]
#[command(name = "xjca-cloud", version, about)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Serves the cloud.
    Serve {
        /// The XJCA CA folder.
        #[arg(long)]
        ca: PathBuf,
        /// A folder of wallet folders.
        #[arg(long)]
        wallets: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8710")]
        listen: String,
    },
    /// Creates the XJCA test CA.
    InitCa {
        /// The CA folder to create.
        #[arg(long)]
        ca: PathBuf,
    },
    /// Issues a wallet (with its vendor.json).
    Issue {
        /// The CA folder.
        #[arg(long)]
        ca: PathBuf,
        /// Holder name.
        #[arg(long)]
        name: String,
        /// Wallet PIN.
        #[arg(long)]
        pin: String,
        /// Wallet folder.
        #[arg(long)]
        out: PathBuf,
        /// Organisation (an enterprise certificate, 企业授权).
        #[arg(long)]
        org: Option<String>,
        /// Unified social credit code of the organisation.
        #[arg(long)]
        uscc: Option<String>,
        /// The cloud's URL, written into vendor.json.
        #[arg(long)]
        cloud_url: Option<String>,
    },
    /// camr evidence JSON (stdin) → XJCA result JSON (stdout).
    EncodeEvidence {
        /// The operation (else inferred from the evidence).
        #[arg(long)]
        operation: Option<String>,
    },
}

fn encode(operation: Option<String>) -> Result<(), String> {
    let op = operation
        .map(|o| {
            o.parse::<Operation>()
                .map_err(|_| format!("unknown operation `{o}`"))
        })
        .transpose()?;
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .map_err(|e| format!("stdin: {e}"))?;
    let evidence: Evidence =
        serde_json::from_slice(&input).map_err(|e| format!("stdin is not camr evidence: {e}"))?;
    let out = camr_xjca_wire::encode(op, &evidence).map_err(|e| e.to_string())?;
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| format!("stdout: {e}"))
}

fn main() -> ExitCode {
    let result = match Args::parse().command {
        Cmd::Serve {
            ca,
            wallets,
            listen,
        } => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(xjca_cloud::run(&ca, wallets, &listen))),
        Cmd::InitCa { ca } => xjca_cloud::init_ca(&ca).map(|_| ()),
        Cmd::Issue {
            ca,
            name,
            pin,
            out,
            org,
            uscc,
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
            xjca_cloud::issue_wallet(
                &ca,
                &holder,
                pin.as_bytes(),
                &out,
                365,
                cloud_url.as_deref(),
            )
            .map(|serial| println!("issued {serial} ({})", out.display()))
        }
        Cmd::EncodeEvidence { operation } => encode(operation),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xjca-cloud: {e}");
            ExitCode::FAILURE
        }
    }
}
