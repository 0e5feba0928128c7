//! The JSON Schemas in `schemas/` must match the protocol types exactly.
//!
//! To regenerate them after changing a wire type, run
//! `cargo run -p camr-cli -- schema --out schemas/`, or
//! `CAMR_UPDATE_SCHEMAS=1 cargo test -p camr --test schemas`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const FIX: &str = "run `cargo run -p camr-cli -- schema --out schemas/` (or `CAMR_UPDATE_SCHEMAS=1 cargo test -p camr --test schemas`) and commit the result";

fn schema_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/")).to_path_buf()
}

fn schema_files_on_disk(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}; {FIX}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".schema.json"))
        .collect()
}

#[test]
fn schemas_on_disk_match_the_code() {
    let dir = schema_dir();
    let generated = camr::schemas::all();
    assert!(
        !generated.is_empty(),
        "camr::schemas::all() returned nothing"
    );

    if std::env::var("CAMR_UPDATE_SCHEMAS").is_ok_and(|v| v == "1") {
        let expected: BTreeSet<&str> = generated.iter().map(|(name, _)| *name).collect();
        if dir.is_dir() {
            for stale in schema_files_on_disk(&dir)
                .iter()
                .filter(|n| !expected.contains(n.as_str()))
            {
                std::fs::remove_file(dir.join(stale)).unwrap();
            }
        }
        let written = camr::schemas::write(&dir).unwrap();
        assert_eq!(written.len(), generated.len());
    }

    let mut problems = Vec::new();
    for (name, text) in &generated {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(on_disk) if on_disk == *text => {}
            Ok(_) => problems.push(format!("{} differs from the code", path.display())),
            Err(e) => problems.push(format!("{} is missing ({e})", path.display())),
        }
    }
    let expected: BTreeSet<&str> = generated.iter().map(|(name, _)| *name).collect();
    for extra in schema_files_on_disk(&dir)
        .iter()
        .filter(|n| !expected.contains(n.as_str()))
    {
        problems.push(format!(
            "{} has no type in camr::schemas::all()",
            dir.join(extra).display()
        ));
    }
    assert!(
        problems.is_empty(),
        "JSON Schemas drifted from the protocol types:\n  {}\n{FIX}",
        problems.join("\n  ")
    );
}
