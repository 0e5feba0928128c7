//! Helpers shared by the CLI tests: run the `camr` binary, run `openssl`.
#![allow(dead_code)]

use std::process::Command;

/// Runs `camr` with `args`: (exit code, stdout, stderr). A panic is never an answer.
pub fn camr(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_camr"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// Runs `openssl` with `args`: (success, stdout + stderr), or `None` with a loud message
/// when openssl is not installed (CI installs it).
pub fn openssl(args: &[&str]) -> Option<(bool, String)> {
    match Command::new("openssl").args(args).output() {
        Ok(out) => Some((
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )),
        Err(_) => {
            eprintln!(
                "\n\n*** SKIPPED OpenSSL check: openssl not found (apt-get install openssl) ***\n"
            );
            None
        }
    }
}
