//! `epoint-cloud`: the 新点标证通 (Epoint) cloud simulator.
//!
//! - `epoint-cloud serve --ca DIR [--wallets DIR] [--listen 127.0.0.1:8720]`
//! - `epoint-cloud init-ca --ca DIR`
//! - `epoint-cloud issue --ca DIR --name NAME --pin PIN --out DIR [--platform-only] [--org ORG --uscc CODE] [--cloud-url URL]`
//! - `epoint-cloud encode-evidence [--operation OP]`: camr evidence JSON on stdin → the Epoint
//!   app's business packet on stdout (the conformance kit's `encoder`).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use camr::protocol::{Evidence, Operation};
use camr::softca::{Holder, HolderType};
use clap::{Parser, Subcommand};

/// The Epoint cloud simulator.
#[derive(Debug, Parser)]
#[command(name = "epoint-cloud", version, about)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Serves the cloud.
    Serve {
        /// The Epoint CA folder.
        #[arg(long)]
        ca: PathBuf,
        /// A folder of wallet folders.
        #[arg(long)]
        wallets: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8720")]
        listen: String,
    },
    /// Creates the Epoint test CA.
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
        /// 本平台证书 (usable here only, through the Epoint QR code) instead of 全国版.
        #[arg(long)]
        platform_only: bool,
        /// Organisation (an enterprise certificate).
        #[arg(long)]
        org: Option<String>,
        /// Unified social credit code of the organisation.
        #[arg(long)]
        uscc: Option<String>,
        /// The cloud's URL, written into vendor.json.
        #[arg(long)]
        cloud_url: Option<String>,
    },
    /// camr evidence JSON (stdin) → Epoint business packet (stdout).
    EncodeEvidence {
        /// The operation (else inferred from the evidence).
        #[arg(long)]
        operation: Option<String>,
        /// Answer for a 本平台证书 (`CertScope` PLATFORM).
        #[arg(long)]
        platform_only: bool,
    },
}

fn encode(operation: Option<String>, scope: epoint_cloud::CertScope) -> Result<(), String> {
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
    let out = camr_epoint_wire::encode(op, scope, &evidence).map_err(|e| e.to_string())?;
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
            .and_then(|rt| rt.block_on(epoint_cloud::run(&ca, wallets, &listen))),
        Cmd::InitCa { ca } => epoint_cloud::init_ca(&ca).map(|_| ()),
        Cmd::Issue {
            ca,
            name,
            pin,
            out,
            platform_only,
            org,
            uscc,
            cloud_url,
        } => {
            let scope = if platform_only {
                epoint_cloud::CertScope::Platform
            } else {
                epoint_cloud::CertScope::National
            };
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
            epoint_cloud::issue_wallet(
                &ca,
                &holder,
                pin.as_bytes(),
                &out,
                365,
                scope,
                cloud_url.as_deref(),
            )
            .map(|serial| println!("issued {serial} ({})", out.display()))
        }
        Cmd::EncodeEvidence {
            operation,
            platform_only,
        } => encode(
            operation,
            if platform_only {
                epoint_cloud::CertScope::Platform
            } else {
                epoint_cloud::CertScope::National
            },
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("epoint-cloud: {e}");
            ExitCode::FAILURE
        }
    }
}
