//! The command line every vendor cloud simulator shares: the same four commands under the same
//! names for every vendor, which each `<vendor>-cloud` fills in ([`VendorCloud`]) and extends
//! with its own options and commands.
//!
//! | command | what |
//! |---|---|
//! | `init --ca DIR` | create the vendor's test CA (old name `init-ca`, kept as an alias for one release) |
//! | `issue --ca DIR --out DIR --name N [--org O --uscc C] [--pin P] [--cloud-url URL] …` | issue a wallet with its `vendor.json` |
//! | `serve --ca DIR [--wallets DIR] [--listen ADDR]` | serve the cloud; prints `listening on ADDR` |
//! | `encode-evidence [--operation OP] …` | camr evidence JSON on stdin → the vendor's wire format on stdout (the conformance kit's `encoder`) |

use std::future::Future;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use camr::protocol::{Evidence, Operation};
use camr::softca::{Holder, HolderType};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

/// Largest evidence JSON `encode-evidence` reads from stdin.
pub const MAX_EVIDENCE_JSON: u64 = 4 * 1024 * 1024;

/// `init`: the CA folder to create.
#[derive(Debug, Clone, Args)]
pub struct Init {
    /// The CA folder to create.
    #[arg(long)]
    pub ca: PathBuf,
}

/// What every `issue` takes.
#[derive(Debug, Clone, Args)]
pub struct Issue {
    /// The CA folder.
    #[arg(long)]
    pub ca: PathBuf,
    /// The wallet folder to create.
    #[arg(long)]
    pub out: PathBuf,
    /// The holder's name.
    #[arg(long)]
    pub name: String,
    /// The organisation (an organisation certificate, with --uscc).
    #[arg(long)]
    pub org: Option<String>,
    /// The organisation's unified social credit code (统一社会信用代码).
    #[arg(long)]
    pub uscc: Option<String>,
    /// The wallet PIN (required unless the vendor has a default).
    #[arg(long)]
    pub pin: Option<String>,
    /// The cloud's URL, written into the wallet's vendor.json.
    #[arg(long)]
    pub cloud_url: Option<String>,
}

impl Issue {
    /// The holder: an organisation certificate when `--org` is given.
    pub fn holder(&self) -> Holder {
        Holder {
            holder_type: if self.org.is_some() {
                HolderType::Org
            } else {
                HolderType::Personal
            },
            name: self.name.clone(),
            organization: self.org.clone(),
            uscc: self.uscc.clone(),
            identity_number: None,
        }
    }
}

/// What every `serve` takes.
#[derive(Debug, Clone, Args)]
pub struct Serve {
    /// The CA folder.
    #[arg(long)]
    pub ca: PathBuf,
    /// A folder of wallet folders whose encryption certificates and seals are served.
    #[arg(long)]
    pub wallets: Option<PathBuf>,
    /// Address to listen on (each vendor has its default port).
    #[arg(long)]
    pub listen: String,
}

impl Serve {
    /// `--wallets`, for a vendor that cannot serve without.
    pub fn wallets(&self) -> Result<PathBuf, String> {
        self.wallets
            .clone()
            .ok_or_else(|| "serve needs --wallets DIR (a folder of wallet folders)".to_string())
    }
}

/// No vendor options.
#[derive(Debug, Clone, Args)]
pub struct NoOptions {}

/// No vendor commands.
#[derive(Debug, Clone, Subcommand)]
pub enum NoCommands {}

/// The command tree: the shared commands, then the vendor's own.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli<I: Args, E: Args, X: Subcommand> {
    #[command(subcommand)]
    command: Command<I, E, X>,
}

#[derive(Debug, Subcommand)]
enum Command<I: Args, E: Args, X: Subcommand> {
    /// Create the vendor's test CA.
    #[command(alias = "init-ca")]
    Init(Init),
    /// Issue a wallet (with its vendor.json).
    Issue {
        #[command(flatten)]
        common: Issue,
        #[command(flatten)]
        vendor: I,
    },
    /// Serve the cloud.
    Serve(Serve),
    /// camr evidence JSON (stdin) → the vendor's wire format (stdout).
    EncodeEvidence {
        /// The operation (camr name); else read off the evidence.
        #[arg(long)]
        operation: Option<String>,
        #[command(flatten)]
        vendor: E,
    },
    #[command(flatten)]
    More(X),
}

/// A vendor cloud simulator: its names and what its commands do.
pub trait VendorCloud {
    /// The binary (`epoint-cloud`).
    const NAME: &'static str;
    /// One line about it, for `--help`.
    const ABOUT: &'static str;
    /// Where `serve` listens by default.
    const LISTEN: &'static str;
    /// The PIN of `issue` without `--pin` (`None`: `--pin` is required).
    const DEFAULT_PIN: Option<&'static str> = None;
    /// The vendor's own `issue` options.
    type IssueOptions: Args;
    /// The vendor's own `encode-evidence` options.
    type EncodeOptions: Args;
    /// The vendor's own commands.
    type Commands: Subcommand;

    /// `init`.
    fn init(ca: &Path) -> Result<(), String>;
    /// `issue`, with the PIN resolved.
    fn issue(issue: &Issue, pin: &str, options: Self::IssueOptions) -> Result<(), String>;
    /// `serve`.
    fn serve(serve: Serve) -> impl Future<Output = Result<(), String>>;
    /// `encode-evidence`: the evidence in the vendor's wire format; `operation` when given.
    fn encode(
        operation: Option<Operation>,
        options: Self::EncodeOptions,
        evidence: &Evidence,
    ) -> Result<Vec<u8>, String>;
    /// One of the vendor's own commands.
    fn more(command: Self::Commands) -> Result<(), String>;
}

fn encode<V: VendorCloud>(
    operation: Option<String>,
    options: V::EncodeOptions,
) -> Result<(), String> {
    // stdin first: a caller writing the evidence sees no broken pipe for a bad `--operation`.
    let mut input = Vec::new();
    std::io::stdin()
        .take(MAX_EVIDENCE_JSON + 1)
        .read_to_end(&mut input)
        .map_err(|e| format!("stdin: {e}"))?;
    let op = operation
        .map(|o| {
            o.parse::<Operation>()
                .map_err(|_| format!("unknown operation `{o}`"))
        })
        .transpose()?;
    if input.len() as u64 > MAX_EVIDENCE_JSON {
        return Err(format!("stdin has more than {MAX_EVIDENCE_JSON} bytes"));
    }
    let evidence: Evidence =
        serde_json::from_slice(&input).map_err(|e| format!("stdin is not camr evidence: {e}"))?;
    let out = V::encode(op, options, &evidence)?;
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| format!("stdout: {e}"))
}

fn run<V: VendorCloud>(
    command: Command<V::IssueOptions, V::EncodeOptions, V::Commands>,
) -> Result<(), String> {
    match command {
        Command::Init(init) => V::init(&init.ca),
        Command::Issue { common, vendor } => {
            let pin = common
                .pin
                .clone()
                .or(V::DEFAULT_PIN.map(str::to_string))
                .ok_or("issue needs --pin PIN")?;
            V::issue(&common, &pin, vendor)
        }
        Command::Serve(serve) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(V::serve(serve))),
        Command::EncodeEvidence { operation, vendor } => encode::<V>(operation, vendor),
        Command::More(command) => V::more(command),
    }
}

/// The `main` of a vendor cloud: parses the command line (exit 2 on a usage error), runs the
/// command, prints a failure as `NAME: message` on stderr (exit 1).
pub fn main<V: VendorCloud>() -> ExitCode {
    type C<V> = Cli<
        <V as VendorCloud>::IssueOptions,
        <V as VendorCloud>::EncodeOptions,
        <V as VendorCloud>::Commands,
    >;
    let matches = C::<V>::command()
        .name(V::NAME)
        .bin_name(V::NAME)
        .about(V::ABOUT)
        .mut_subcommand("serve", |s| {
            s.mut_arg("listen", |a| a.default_value(V::LISTEN))
        })
        .get_matches();
    let cli = match C::<V>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match run::<V>(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", V::NAME);
            ExitCode::FAILURE
        }
    }
}
