//! `camr-server`: the reference trading-platform server (see the crate docs).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use camr_server::config::{Flags, process_env, resolve};
use camr_server::{build_state, serve};
use clap::Parser;

/// Reference e-tendering platform server for camr: QR login page and the six operations.
///
/// Settings come from the configuration file (`--config`, or the file named by
/// CAMR_SERVER_CONFIG), then CAMR_SERVER_<KEY> environment variables, then these flags; the
/// rest has the demo defaults. Keys: docs/server.md and examples/server/camr.example.toml.
#[derive(Debug, Parser)]
#[command(name = "camr-server", version)]
struct Args {
    /// Configuration file (TOML).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080; key `listen`].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Data folder: demo CA (ca/), demo wallet (wallet/, PIN 123456), platform key
    /// [default: ./data; key `data`].
    #[arg(long)]
    data: Option<PathBuf>,
    /// System code (系统标识码) [default: C1100005553; key `system_code`].
    #[arg(long)]
    system_code: Option<String>,
    /// Trading system name (交易系统名称) [default: 移动数字证书(CA)互认模拟测试系统; key
    /// `system_name`].
    #[arg(long)]
    system_name: Option<String>,
    /// Base URL apps reach this server at (used in the QR's request and response URIs)
    /// [default: http://<listen>; key `public_url`].
    #[arg(long)]
    public_url: Option<String>,
    /// Folder of CA-vendor adapter plugins (*.so) to load [key `plugins.dir`].
    #[arg(long)]
    plugins: Option<PathBuf>,
    /// Transaction store: `sqlite://…` or a file path, `postgres://…` (several instances), or
    /// `memory`; default `sqlite://<data>/camr.db?mode=rwc` [key `database_url`].
    #[arg(long)]
    database_url: Option<String>,
    /// Write the OpenAPI 3.1 document of the HTTP API to this file and exit (the checked-in
    /// copy: `--write-openapi schemas/openapi.json`).
    #[arg(long, value_name = "FILE")]
    write_openapi: Option<PathBuf>,
    /// Rotating QR codes: seconds a scanned code stays valid (0: static codes; default 60).
    #[arg(long)]
    qr_rotation_window: Option<u32>,
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down; finishing in-flight requests");
}

async fn run(args: Args) -> Result<(), String> {
    let flags = Flags {
        listen: args.listen,
        data: args.data,
        system_code: args.system_code,
        system_name: args.system_name,
        public_url: args.public_url,
        plugins: args.plugins,
        database_url: args.database_url,
    };
    let env = process_env().map_err(|e| e.to_string())?;
    let mut config = resolve(args.config.as_deref(), &env, &flags).map_err(|e| e.to_string())?;
    if let Some(w) = args.qr_rotation_window {
        config.qr_rotation_window = Some(w).filter(|w| *w > 0);
    }
    let state = build_state(&config).await.map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    tracing::info!(
        "listening on http://{} (public URL {}); open it in a browser",
        config.listen,
        config.public_url
    );
    serve(listener, state, shutdown_signal())
        .await
        .map_err(|e| format!("server failed: {e}"))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_target(false).init();
    let args = Args::parse();
    if let Some(path) = &args.write_openapi {
        return match std::fs::write(path, camr_server::openapi::openapi_json()) {
            Ok(()) => {
                println!("wrote {}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!(
                    "error: INPUT_MALFORMED: cannot write {}: {e}",
                    path.display()
                );
                ExitCode::from(2)
            }
        };
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: INTERNAL: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
