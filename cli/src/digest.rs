//! `camr digest`: a file's SM3 or SHA-256 digest, printed like `sha256sum` (`HEX  FILE`).

use std::path::{Path, PathBuf};

use camr::crypto::{CryptoProvider, HashAlgorithm};
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::common::{CliResult, input_error};

#[derive(Args, Debug)]
pub(crate) struct DigestArgs {
    /// Hash algorithm.
    #[arg(long, value_enum, default_value = "sm3")]
    alg: DigestAlg,
    /// File to hash.
    file: PathBuf,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum DigestAlg {
    Sm3,
    Sha256,
}

fn digest_file(
    provider: &dyn CryptoProvider,
    alg: HashAlgorithm,
    path: &Path,
) -> CliResult<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)
        .map_err(|e| input_error(format!("cannot read {}: {e}", path.display())))?;
    let mut hasher = provider.hasher(alg);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| input_error(format!("cannot read {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(data_encoding::HEXLOWER.encode(&hasher.finalize()))
}

/// `camr digest`: the primary result on stdout, `HEX  FILE` as `sha256sum` and `gmssl sm3`
/// scripts expect (`| cut -d' ' -f1` gives the digest); JSON with `--json`.
pub(crate) fn run(json_out: bool, provider: &dyn CryptoProvider, a: &DigestArgs) -> CliResult {
    let alg = match a.alg {
        DigestAlg::Sm3 => HashAlgorithm::Sm3,
        DigestAlg::Sha256 => HashAlgorithm::Sha256,
    };
    let hex = digest_file(provider, alg, &a.file)?;
    if json_out {
        let name = format!("{:?}", a.alg).to_lowercase();
        println!(
            "{}",
            json!({"algorithm": name, "digest": hex, "file": a.file})
        );
    } else {
        println!("{hex}  {}", a.file.display());
    }
    Ok(())
}
