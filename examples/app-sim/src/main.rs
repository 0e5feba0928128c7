//! `camr-app`: a mobile CA certificate app in a terminal (see the crate docs).

use std::path::PathBuf;
use std::process::ExitCode;

use camr::protocol::ErrorCode;
use camr::protocol::ItemRejection;
use camr_app_sim::{
    CertChoice, DelegateOptions, PlatformKeySource, QrSource, ScanOptions, SimError, StdUi,
    delegate, scan, tasks,
};
use clap::{Args, Parser, Subcommand};

/// A mobile CA certificate app simulator: scan a platform's QR code and answer it.
#[derive(Debug, Parser)]
#[command(name = "camr-app", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan a QR code (PNG or payload), check the platform, approve or reject.
    Scan(ScanArgs),
    /// Answer the tasks a platform pushed to this user's app through the vendor cloud
    /// (vendor-initiated signing, 待处理), with the same checks as a scan.
    Tasks(TasksArgs),
    /// As the organisation, grant a staff member the use of its certificate (证书授权):
    /// writes a signed delegation for `scan --delegation` and prints its id (for 收回).
    Delegate(DelegateArgs),
}

#[derive(Debug, Args)]
struct DelegateArgs {
    /// The organisation certificate's wallet.
    #[arg(long)]
    wallet: PathBuf,
    /// Its PIN.
    #[arg(long)]
    pin: String,
    /// The staff member's name.
    #[arg(long)]
    staff: String,
    /// The staff member's identity number.
    #[arg(long)]
    staff_id: Option<String>,
    /// Trading system codes it may be used on (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    systems: Vec<String>,
    /// Operations it may be used for (comma-separated), e.g. login,encrypt,decrypt.
    #[arg(long, value_delimiter = ',', required = true)]
    operations: Vec<String>,
    /// How long it lasts, days from now.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Where to write the signed delegation (JSON).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// PNG image holding the QR code.
    #[arg(long, conflicts_with = "payload", required_unless_present = "payload")]
    png: Option<PathBuf>,
    /// The QR payload text (`CAMR1:...`).
    #[arg(long)]
    payload: Option<String>,
    #[command(flatten)]
    answer: AnswerArgs,
}

#[derive(Debug, Args)]
struct TasksArgs {
    /// The vendor cloud (softca-cloud), e.g. http://127.0.0.1:8090.
    #[arg(long)]
    cloud: String,
    #[command(flatten)]
    answer: AnswerArgs,
}

#[derive(Debug, Args)]
struct AnswerArgs {
    /// Wallet folder (from `camr ca issue`, or the server's data/wallet), or a folder of
    /// wallets (e.g. personal/ and org/). Repeat it for several: the app offers only the
    /// certificates the platform accepts for the request, and says why none fit.
    #[arg(long, required = true)]
    wallet: Vec<PathBuf>,
    /// The wallet PIN (asked for when absent; 5 wrong PINs lock the wallet).
    #[arg(long)]
    pin: Option<String>,
    /// Reject with this reason instead of approving.
    #[arg(long)]
    reject: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    /// The platform's public key (SPKI PEM/DER), e.g. the server's data/platform-pub.pem.
    #[arg(
        long,
        conflicts_with_all = ["trust_platform_url", "registry"],
        required_unless_present_any = ["trust_platform_url", "registry"]
    )]
    platform_key: Option<PathBuf>,
    /// Development shortcut for the registry: take the platform key from the platform itself.
    #[arg(long)]
    trust_platform_url: bool,
    /// The signed trust list (registry), e.g. the server's data/registry.json.
    #[arg(long, requires = "registry_key", conflicts_with = "trust_platform_url")]
    registry: Option<PathBuf>,
    /// The registry authority's public key, e.g. data/registry-authority.pub.pem.
    #[arg(long)]
    registry_key: Option<PathBuf>,
    /// Personal or organisation certificate (when the wallet holds both).
    #[arg(long, value_enum)]
    cert: Option<CertArg>,
    /// Act for the organisation certificate under this delegation (SignedDelegation JSON).
    #[arg(long)]
    delegation: Option<PathBuf>,
    /// In a signing batch, refuse this item (拒签) with a reason and sign the others:
    /// `ITEM_ID=REASON`; repeat for several.
    #[arg(long, value_name = "ITEM_ID=REASON", value_parser = parse_refusal)]
    refuse_item: Vec<ItemRejection>,
    /// Play this CA vendor's app (softca, bjca, epoint, xjca, netca, gdca): only that vendor's
    /// wallets among `--wallet` are offered (a wallet's `vendor.json` says whose it is), and
    /// answers go in its wire format.
    #[arg(long)]
    vendor: Option<String>,
}

fn parse_refusal(s: &str) -> Result<ItemRejection, String> {
    match s.split_once('=') {
        Some((id, reason)) if !id.trim().is_empty() && !reason.trim().is_empty() => {
            Ok(ItemRejection {
                item_id: id.trim().to_string(),
                reason: reason.trim().to_string(),
            })
        }
        _ => Err(format!("expected ITEM_ID=REASON, found `{s}`")),
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CertArg {
    Personal,
    Org,
}

/// The wallets of `--wallet` that belong to the `--vendor` app (all without `--vendor`).
fn vendor_wallets(a: &mut AnswerArgs) -> Result<(), SimError> {
    let Some(name) = &a.vendor else {
        return Ok(());
    };
    let app = camr_app_sim::vendors::app_for(name)?;
    let mut mine = Vec::new();
    let mut others = Vec::new();
    for w in camr_app_sim::wallet_candidates(&a.wallet) {
        let v = camr_app_sim::vendors::vendor_of(&w)?.ca_org_type;
        if v.eq_ignore_ascii_case(app.ca_org_type()) {
            mine.push(w);
        } else {
            others.push(format!("{} ({v})", w.display()));
        }
    }
    if mine.is_empty() {
        return Err(SimError::new(
            ErrorCode::InputMalformed,
            format!(
                "no {} wallet among --wallet{}",
                app.ca_org_type(),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(": {}", others.join(", "))
                }
            ),
        ));
    }
    a.wallet = mine;
    Ok(())
}

fn options(qr: QrSource, a: AnswerArgs) -> ScanOptions {
    let platform_key = match (a.platform_key, a.registry, a.registry_key) {
        (Some(p), _, _) => PlatformKeySource::File(p),
        (None, Some(list), Some(authority)) => PlatformKeySource::Registry { list, authority },
        _ => PlatformKeySource::TrustPlatformUrl,
    };
    let mut wallets = a.wallet.into_iter();
    ScanOptions {
        qr,
        wallet: wallets.next().unwrap_or_default(),
        wallets: wallets.collect(),
        refuse_items: a.refuse_item,
        pin: a.pin,
        reject: a.reject,
        yes: a.yes,
        platform_key,
        cert: a.cert.map(|c| match c {
            CertArg::Personal => CertChoice::Personal,
            CertArg::Org => CertChoice::Org,
        }),
        delegation: a.delegation,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(a) => {
            let qr = match (a.png, a.payload) {
                (Some(p), _) => QrSource::Png(p),
                (None, Some(p)) => QrSource::Payload(p),
                (None, None) => {
                    eprintln!("error: INPUT_MALFORMED: give --png or --payload");
                    return ExitCode::from(2);
                }
            };
            let mut answer = a.answer;
            vendor_wallets(&mut answer)
                .and_then(|()| scan(&options(qr, answer), &mut StdUi).map(|_| ()))
        }
        Command::Tasks(t) => {
            let mut answer = t.answer;
            vendor_wallets(&mut answer).and_then(|()| {
                let template = options(QrSource::Payload(String::new()), answer);
                tasks(&t.cloud, &template, &mut StdUi).map(|_| ())
            })
        }
        Command::Delegate(d) => {
            let now = camr::qr::unix_now();
            let o = DelegateOptions {
                wallet: d.wallet,
                pin: d.pin,
                staff_name: d.staff,
                staff_id: d.staff_id,
                systems: d.systems,
                operations: d.operations,
                not_before: now,
                not_after: now + i64::from(d.days) * 86_400,
            };
            delegate(&o, &mut StdUi).and_then(|(signed, _)| {
                let json = serde_json::to_string_pretty(&signed)
                    .map_err(|e| SimError::new(ErrorCode::Internal, e.to_string()))?;
                std::fs::write(&d.out, json).map_err(|e| {
                    SimError::new(
                        ErrorCode::InputMalformed,
                        format!("{}: {e}", d.out.display()),
                    )
                })
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
