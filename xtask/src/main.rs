//! `cargo demo` (alias of `cargo run -p camr-xtask -- demo`): builds the reference software-CA
//! adapter as a `.so`, puts it in `data/plugins/`, and runs `camr-server` on it with the demo
//! data and a SQLite database under `./data` — the README's first command.
//!
//! `cargo xtask big-pdf --pages 200 --mb 50 --out FILE`: a large PDF for
//! `benches/pdf-seal-rss.sh` (`bigpdf.rs`).
//!
//! Its one dependency is lopdf (for `big-pdf`); `demo` only drives cargo.
#![forbid(unsafe_code)]

mod bigpdf;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

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
    eprintln!("demo: building the reference adapter (camr-adapter-softca) as a plugin…");
    run(
        cargo()
            .current_dir(&root)
            .args(["build", "-q", "-p", "camr-adapter-softca"]),
        "cargo build -p camr-adapter-softca",
    )?;
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
    run(&mut cmd, "camr-server")
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
