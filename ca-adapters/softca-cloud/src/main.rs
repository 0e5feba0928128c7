//! `softca-cloud --ca DIR [--wallets DIR] [--listen 127.0.0.1:8700]`: the softca vendor cloud
//! (routes in the library, `softca_cloud`). The bound address is printed on the first line of
//! stdout (`listening on ADDR`).

use std::path::PathBuf;

use clap::Parser;

/// The softca vendor cloud.
#[derive(Debug, Parser)]
#[command(name = "softca-cloud", version, about)]
struct Args {
    /// The software CA folder (`camr ca init`).
    #[arg(long)]
    ca: PathBuf,
    /// A folder of wallet folders whose encryption certificates and seals are served.
    #[arg(long)]
    wallets: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8700")]
    listen: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match softca_cloud::run(&args.ca, args.wallets, &args.listen).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("softca-cloud: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
