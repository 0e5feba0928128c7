//! `camr-load`: N concurrent clients run whole ceremonies against a `camr-server` it starts
//! (SQLite or PostgreSQL), optionally with a kill -9 in the middle; the figures on stdout
//! (a Markdown table, or `--json`), progress on stderr. Exit 0 only if nothing was lost, no
//! 5xx came back and no job failed for a reason other than the crash or the rate limiter.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use camr_load::server::{free_port, server_binary};
use camr_load::{FreshDatabase, Kill, LoadError, Plan, RunReport, Server, ServerSpec, Store};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "camr-load", version, about)]
struct Args {
    /// Store: `sqlite` (the server's default file in its data folder) or a `postgres://` URL
    /// of an existing, empty database.
    #[arg(long, default_value = "sqlite", value_parser = Store::parse)]
    store: Store,
    /// With a `postgres://` store: create a fresh database beside the one named (which then
    /// only needs the right to create databases) and drop it afterwards.
    #[arg(long)]
    fresh_database: bool,
    /// Logins to run.
    #[arg(long, default_value_t = 2000)]
    logins: usize,
    /// Message signatures to run beside them.
    #[arg(long, default_value_t = 0)]
    messages: usize,
    /// Small bid files to seal beside them.
    #[arg(long, default_value_t = 0)]
    bidfiles: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// kill -9 the server once mid-run and restart it: `random` (between 1/5 and 4/5 of the
    /// jobs) or a number of finished jobs.
    #[arg(long, value_parser = parse_kill)]
    kill_at: Option<Kill>,
    /// The server's `rate_limit.per_minute` (0: off; all clients share one address).
    #[arg(long, default_value_t = 0)]
    rate_limit_per_minute: u64,
    /// The `camr-server` binary [default: $CAMR_SERVER_BIN, else the one next to this one].
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// The server's data folder [default: a fresh temporary folder, removed afterwards].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn parse_kill(text: &str) -> Result<Kill, String> {
    match text {
        "random" => Ok(Kill::AtRandom),
        n => n
            .parse()
            .map(Kill::AfterJobs)
            .map_err(|_| format!("`{n}`: `random` or a number of jobs")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(report) => {
            let out = if args.json {
                serde_json::to_string_pretty(&report).unwrap_or_default()
            } else {
                human(&report)
            };
            let _ = writeln!(std::io::stdout(), "{out}");
            if report.holds() {
                ExitCode::SUCCESS
            } else {
                eprintln!("camr-load: FAILED: a loss, an impossible state, a 5xx or an error");
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("camr-load: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<RunReport, LoadError> {
    let temp = tempfile::tempdir().map_err(|source| LoadError::Io {
        what: "a temporary folder".into(),
        source,
    })?;
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| temp.path().join("data"));
    let bin = match &args.server_bin {
        Some(b) => b.clone(),
        None => server_binary()?,
    };
    let fresh = match (&args.store, args.fresh_database) {
        (Store::Postgres(admin), true) => Some(FreshDatabase::create(admin)?),
        _ => None,
    };
    let store = match &fresh {
        Some(db) => Store::Postgres(db.url.clone()),
        None => args.store.clone(),
    };
    let spec = ServerSpec {
        bin,
        data,
        store,
        port: free_port()?,
        rate_limit_per_minute: args.rate_limit_per_minute,
    };
    eprintln!(
        "camr-load: starting camr-server ({}) on port {}",
        spec.store.name(),
        spec.port
    );
    let mut server = Server::start(spec)?;
    let plan = Plan {
        logins: args.logins,
        messages: args.messages,
        bidfiles: args.bidfiles,
        clients: args.clients,
        kill: args.kill_at,
    };
    camr_load::run(&mut server, &plan, &mut |line| {
        eprintln!("camr-load: {line}")
    })
}

fn human(r: &RunReport) -> String {
    let mut out = format!(
        "{} clients against camr-server on {}, {:.1} s\n\n{}",
        r.clients,
        r.store,
        r.elapsed_s,
        camr_load::stats::table(&r.summary)
    );
    if let Some(k) = &r.kill {
        out += &format!(
            "kill -9 after {} jobs; ready again after {:.0} ms; {} jobs interrupted\n",
            k.after_jobs, k.down_ms, k.interrupted
        );
    }
    let c = &r.check;
    out += &format!(
        "store: {} started, {} answers seen verified; lost {}, without usage record {}, \
         without audit entry {}, starts lost {}, impossible {}, torn by the crash {}; \
         audit log {} entries, chain {}; states: {}\n",
        c.started,
        c.seen_verified,
        c.lost.len(),
        c.without_usage.len(),
        c.without_audit.len(),
        c.starts_lost.len(),
        c.impossible.len(),
        c.torn.len(),
        c.audit_entries,
        c.audit_chain,
        c.states
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for line in c.impossible.iter().chain(&c.torn) {
        out += &format!("  {line}\n");
    }
    out
}
