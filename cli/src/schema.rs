//! `camr schema`: one JSON Schema per wire type.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::common::{CliResult, emit, input_error};

#[derive(Args, Debug)]
pub(crate) struct SchemaArgs {
    /// Output folder.
    #[arg(long, default_value = "schemas")]
    out: PathBuf,
}

/// `camr schema`.
pub(crate) fn run(json_out: bool, a: &SchemaArgs) -> CliResult {
    let written = camr::schemas::write(&a.out)
        .map_err(|e| input_error(format!("cannot write schemas to {}: {e}", a.out.display())))?;
    emit(json_out, json!({"written": written}), || {
        format!("wrote {} schemas to {}", written.len(), a.out.display())
    });
    Ok(())
}
