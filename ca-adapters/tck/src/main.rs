//! `camr-tck` — the adapter conformance kit.
//!
//! `camr-tck --adapter PATH.so --config cfg.json [--report out.json]` loads the adapter through
//! the real `camr_plugin_host::PluginHost`, runs every case, prints a table and exits non-zero
//! on any failure. See `docs/adapter-guide.md` for the configuration file.

mod cases;
mod config;
mod world;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// camr adapter conformance kit.
#[derive(Debug, Parser)]
#[command(name = "camr-tck", version, about)]
struct Args {
    /// The adapter library (`.so`).
    #[arg(long)]
    adapter: PathBuf,
    /// The kit configuration (JSON).
    #[arg(long)]
    config: PathBuf,
    /// Also write the results as JSON here.
    #[arg(long)]
    report: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match config::KitConfig::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("camr-tck: {e}");
            return ExitCode::from(2);
        }
    };
    let report = cases::run(&args.adapter, &config);
    print!("{}", report.table());
    if let Some(path) = &args.report {
        let text = match serde_json::to_string_pretty(&report) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("camr-tck: cannot encode the report: {e}");
                return ExitCode::from(2);
            }
        };
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("camr-tck: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
