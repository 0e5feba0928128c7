//! Helpers shared by the host's integration tests: where the fixture `.so` files are, and
//! folders to load them from.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

/// The fixture library `libcamr_fixture_<name>.so`.
///
/// The fixtures are dev-dependencies of this crate, so cargo builds their `cdylib` into the
/// `deps/` folder next to this test binary before running it (`target/<profile>/deps/`); a
/// plain `cargo build` of the workspace also uplifts them to `target/<profile>/`.
pub fn fixture(name: &str) -> PathBuf {
    let file = format!("libcamr_fixture_{}.so", name.replace('-', "_"));
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps folder");
    let candidates = [
        deps.join(&file),
        deps.parent().map(|p| p.join(&file)).unwrap_or_default(),
    ];
    for c in &candidates {
        if c.is_file() {
            return c.clone();
        }
    }
    panic!(
        "fixture {file} not found in {candidates:?}; build it with `cargo build -p camr-fixture-{name}`"
    );
}

/// A fresh folder on the target's file system (so that fixtures can be hard-linked).
pub fn folder() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("plugins-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp folder")
}

/// Puts fixture `name` into `dir` (hard link, else copy) and returns its path there.
pub fn place(dir: &Path, name: &str) -> PathBuf {
    let src = fixture(name);
    let dst = dir.join(src.file_name().expect("file name"));
    if std::fs::hard_link(&src, &dst).is_err() {
        std::fs::copy(&src, &dst).expect("copy fixture");
    }
    dst
}

/// Copies fixture `name` into `dir` (a real copy, safe to modify) and returns its path.
pub fn copy(dir: &Path, name: &str) -> PathBuf {
    let src = fixture(name);
    let dst = dir.join(src.file_name().expect("file name"));
    std::fs::copy(&src, &dst).expect("copy fixture");
    dst
}
