//! `bjca-cloud`: the cloud of camr's BJCA model (routes in the library, `bjca_cloud`).
//!
//! * `bjca-cloud init --ca DIR` — creates the CA ("BJCA Test CA", SM2).
//! * `bjca-cloud issue --ca DIR --out WALLET --name NAME --pin PIN --cloud-url URL
//!   [--org ORG --uscc CODE]` — a co-signing wallet (协同签名): d1 in the wallet, d2 here.
//! * `bjca-cloud serve --ca DIR [--listen 127.0.0.1:8710]` — prints `listening on ADDR`.
//! * `bjca-cloud encode-evidence [--operation OP]` — camr evidence JSON on stdin → the BJCA
//!   app's answer on stdout (the conformance kit's `encoder`); without `--operation` the
//!   `bizType` is read off the evidence.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The BJCA model's cloud.
#[derive(Debug, Parser)]
#[command(name = "bjca-cloud", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates the CA.
    Init {
        /// The CA folder.
        #[arg(long)]
        ca: PathBuf,
    },
    /// Issues a co-signing wallet.
    Issue {
        /// The CA folder.
        #[arg(long)]
        ca: PathBuf,
        /// The wallet folder to write.
        #[arg(long)]
        out: PathBuf,
        /// The holder's name.
        #[arg(long)]
        name: String,
        /// The wallet PIN.
        #[arg(long)]
        pin: String,
        /// The cloud's URL, written into the wallet's vendor.json.
        #[arg(long, default_value = "http://127.0.0.1:8710")]
        cloud_url: String,
        /// Organisation (an organisation certificate).
        #[arg(long)]
        org: Option<String>,
        /// Its unified social credit code.
        #[arg(long)]
        uscc: Option<String>,
    },
    /// Serves the cloud.
    Serve {
        /// The CA folder.
        #[arg(long)]
        ca: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8710")]
        listen: String,
    },
    /// camr evidence JSON (stdin) → the BJCA wire format (stdout).
    EncodeEvidence {
        /// The operation (camr name); else read off the evidence.
        #[arg(long)]
        operation: Option<String>,
    },
}

fn encode(operation: Option<&str>) -> Result<(), String> {
    let mut input = Vec::new();
    std::io::stdin()
        .take(camr_bjca_wire::MAX_EVIDENCE_BYTES as u64 + 1)
        .read_to_end(&mut input)
        .map_err(|e| format!("stdin: {e}"))?;
    let evidence: camr::protocol::Evidence =
        serde_json::from_slice(&input).map_err(|e| format!("stdin is not camr evidence: {e}"))?;
    let raw = match operation {
        Some(op) => {
            let op: camr::protocol::Operation = op
                .parse()
                .map_err(|_| format!("`{op}` is not an operation"))?;
            camr_bjca_wire::encode(op, &evidence)
        }
        None => camr_bjca_wire::encode_as(camr_bjca_wire::infer_biz_type(&evidence), &evidence),
    }
    .map_err(|e| e.to_string())?;
    std::io::stdout()
        .write_all(&raw)
        .map_err(|e| format!("stdout: {e}"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Init { ca } => {
            bjca_cloud::init_ca(&ca).map(|()| println!("CA in {}", ca.display()))
        }
        Command::Issue {
            ca,
            out,
            name,
            pin,
            cloud_url,
            org,
            uscc,
        } => {
            let holder = camr::softca::Holder {
                holder_type: if org.is_some() {
                    camr::softca::HolderType::Org
                } else {
                    camr::softca::HolderType::Personal
                },
                name,
                organization: org,
                uscc,
                identity_number: None,
            };
            bjca_cloud::issue_wallet(&ca, &holder, pin.as_bytes(), &out, &cloud_url).map(|w| {
                println!("wallet {} (user {})", w.dir.display(), w.user);
            })
        }
        Command::Serve { ca, listen } => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(bjca_cloud::run(&ca, &listen))),
        Command::EncodeEvidence { operation } => encode(operation.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bjca-cloud: {e}");
            ExitCode::FAILURE
        }
    }
}
