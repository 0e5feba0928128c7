//! `cargo demo` (alias of `cargo run -p camr-xtask -- demo`): builds the reference software-CA
//! adapter as a `.so`, puts it in `data/plugins/`, and runs `camr-server` on it with the demo
//! data and a SQLite database under `./data` — the README's first command. Once the server is
//! up (it creates the demo CA and wallet on its first start), the softca vendor cloud
//! (`softca-cloud`) starts on `127.0.0.1:8700` over `data/ca` and the wallets under `data/`,
//! and the server's SOFTCA adapter is configured to use it (`plugins.config`, passed as
//! `CAMR_SERVER_PLUGINS_CONFIG` unless that is set already): encryption certificates,
//! certificate status, push tasks, usage and the user's seals. The cloud stops with the
//! server.
//!
//! `cargo xtask big-pdf --pages 200 --mb 50 --out FILE`: a large PDF for
//! `benches/pdf-seal-rss.sh` (`bigpdf.rs`).
//!
//! Its one dependency is lopdf (for `big-pdf`); `demo` only drives cargo.
#![forbid(unsafe_code)]

mod bigpdf;

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant};

/// Where the demo's softca cloud listens.
const CLOUD_LISTEN: &str = "127.0.0.1:8700";
/// The server's address unless `--listen` says otherwise.
const SERVER_LISTEN: &str = "127.0.0.1:8080";

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The cargo target folder (honours `CARGO_TARGET_DIR`).
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn demo(extra: &[String]) -> Result<(), String> {
    let root = workspace_root();
    eprintln!(
        "demo: building the reference adapter (camr-adapter-softca) as a plugin and its cloud (softca-cloud)…"
    );
    run(
        cargo().current_dir(&root).args([
            "build",
            "-q",
            "-p",
            "camr-adapter-softca",
            "-p",
            "softca-cloud",
            "-p",
            "camr-cli",
        ]),
        "cargo build -p camr-adapter-softca -p softca-cloud -p camr-cli",
    )?;
    demo_ca(&root)?;
    let so = target_dir(&root).join("debug").join(format!(
        "{}camr_adapter_softca{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    let plugins = root.join("data").join("plugins");
    std::fs::create_dir_all(&plugins)
        .map_err(|e| format!("cannot create {}: {e}", plugins.display()))?;
    let dest = plugins.join(so.file_name().unwrap_or_default());
    std::fs::copy(&so, &dest)
        .map_err(|e| format!("cannot copy {} to {}: {e}", so.display(), dest.display()))?;
    eprintln!("demo: adapter loaded from {}", dest.display());
    eprintln!(
        "demo: when the server is up, open http://127.0.0.1:8080/ and scan the login QR with the app simulator:\n\
         demo:   save the QR (\"二维码下载 · QR download\" under it) as qr.png, then\n\
         demo:   cargo run -q -p camr-app-sim --bin camr-app -- scan --png qr.png --wallet data/wallet --pin 123456 \\\n\
         demo:     --registry data/registry.json --registry-key data/registry-authority.pub.pem\n\
         demo:   (or paste the payload shown there: `scan --payload 'CAMR1:…'`). The page shows your name."
    );
    let db = format!(
        "sqlite://{}?mode=rwc",
        root.join("data").join("camr.db").display()
    );
    let mut cmd = cargo();
    cmd.current_dir(&root)
        .args(["run", "-q", "-p", "camr-server", "--"])
        .args([
            "--data",
            "./data",
            "--plugins",
            "data/plugins",
            "--database-url",
            &db,
        ])
        .args(extra);
    if std::env::var_os(PLUGINS_CONFIG_ENV).is_none() {
        cmd.env(
            PLUGINS_CONFIG_ENV,
            format!(r#"{{"SOFTCA":{{"cloudUrl":"http://{CLOUD_LISTEN}"}}}}"#),
        );
    }
    let server = cmd
        .spawn()
        .map_err(|e| format!("cannot run camr-server: {e}"))?;
    let cloud = target_dir(&root)
        .join("debug")
        .join(format!("softca-cloud{}", std::env::consts::EXE_SUFFIX));
    supervise(server, &root, &cloud, server_addr(extra))
}

/// A fresh data folder gets its demo CA from `camr ca init` with the cloud's URLs, so that the
/// certificates the server issues name softca-cloud's OCSP responder and CRL (live
/// revocation, `docs/revocation.md`); an existing CA is kept as it is.
fn demo_ca(root: &Path) -> Result<(), String> {
    let ca = root.join("data").join("ca");
    if ca.join("state.json").exists() {
        eprintln!("demo: keeping the demo CA in {}", ca.display());
        return Ok(());
    }
    let camr = target_dir(root)
        .join("debug")
        .join(format!("camr{}", std::env::consts::EXE_SUFFIX));
    let url = |path: &str| format!("http://{CLOUD_LISTEN}/{path}");
    let dir = ca.display().to_string();
    run(
        Command::new(&camr).args([
            "ca",
            "init",
            "--dir",
            &dir,
            "--name",
            "camr Demo CA",
            "--crl-url",
            &url("crl"),
            "--ocsp-url",
            &url("ocsp"),
            "--ca-issuers-url",
            &url("ca.cer"),
        ]),
        "camr ca init (the demo CA, pointing at softca-cloud)",
    )?;
    eprintln!(
        "demo: made the demo CA in {dir}; its certificates name http://{CLOUD_LISTEN}/ocsp and /crl"
    );
    Ok(())
}

/// The variable of the server's `plugins.config` key.
const PLUGINS_CONFIG_ENV: &str = "CAMR_SERVER_PLUGINS_CONFIG";

/// The server's address: `--listen ADDR` / `--listen=ADDR` among the extra flags, else the
/// default (an unspecified address is reached on loopback).
fn server_addr(extra: &[String]) -> SocketAddr {
    let mut given = None;
    let mut args = extra.iter();
    while let Some(a) = args.next() {
        if a == "--listen" {
            given = args.next().cloned();
        } else if let Some(v) = a.strip_prefix("--listen=") {
            given = Some(v.to_string());
        }
    }
    let fallback = SocketAddr::from(([127, 0, 0, 1], 8080));
    let mut addr = given
        .as_deref()
        .unwrap_or(SERVER_LISTEN)
        .parse()
        .unwrap_or(fallback);
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    addr
}

/// Waits for the server; starts the softca cloud once the server answers (by then it has
/// made the demo CA and wallet under `data/`), restarts it a few times if it stops, and stops
/// it when the server exits.
fn supervise(
    mut server: Child,
    root: &Path,
    cloud_bin: &Path,
    server_addr: SocketAddr,
) -> Result<(), String> {
    const CLOUD_STARTS: u32 = 5;
    let data = root.join("data");
    let mut cloud: Option<Child> = None;
    let mut starts = 0u32;
    let mut last_start = Instant::now();
    let stop = |cloud: &mut Option<Child>| {
        if let Some(mut c) = cloud.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    };
    loop {
        match server.try_wait() {
            Ok(Some(status)) => {
                stop(&mut cloud);
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!("camr-server failed ({status})"))
                };
            }
            Ok(None) => {}
            Err(e) => {
                stop(&mut cloud);
                return Err(format!("cannot wait for camr-server: {e}"));
            }
        }
        if let Some(c) = cloud.as_mut()
            && let Ok(Some(status)) = c.try_wait()
        {
            eprintln!("demo: the softca cloud stopped ({status})");
            if starts >= CLOUD_STARTS {
                eprintln!(
                    "demo: the softca cloud is not restarted again; the SOFTCA adapter's outbound calls answer ADAPTER_UNAVAILABLE"
                );
            }
            cloud = None;
        }
        let due = last_start.elapsed() >= Duration::from_secs(2);
        if cloud.is_none()
            && starts < CLOUD_STARTS
            && due
            && data.join("ca").join("state.json").is_file()
            && TcpStream::connect_timeout(&server_addr, Duration::from_millis(200)).is_ok()
        {
            starts += 1;
            last_start = Instant::now();
            match Command::new(cloud_bin)
                .current_dir(root)
                .args([
                    "--ca",
                    "data/ca",
                    "--wallets",
                    "data",
                    "--listen",
                    CLOUD_LISTEN,
                ])
                .spawn()
            {
                Ok(c) => {
                    eprintln!(
                        "demo: softca cloud on http://{CLOUD_LISTEN} (CA data/ca, wallets under data/): encryption certificates, CRL, tasks, seals"
                    );
                    cloud = Some(c);
                }
                Err(e) => eprintln!("demo: cannot start {}: {e}", cloud_bin.display()),
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        // `cargo demo -- --listen …` passes a `--` of its own; it is not camr-server's.
        Some("demo") => demo(match &args[1..] {
            [dashes, rest @ ..] if dashes == "--" => rest,
            rest => rest,
        }),
        Some("big-pdf") => bigpdf::big_pdf(&args[1..]),
        _ => Err("usage: cargo demo [-- <camr-server flags>] | cargo xtask big-pdf --pages N --mb M --out FILE [--seed N] [--xref-stream]  (tasks: demo, big-pdf)".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
