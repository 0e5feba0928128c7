//! `camr registry` (the signed trust list); `camr audit` is in `audit_checkpoint.rs`.

use std::path::PathBuf;
use std::sync::Arc;

use camr::crypto::CryptoProvider;
use camr::qr;
use clap::Subcommand;
use serde_json::json;

use crate::common::{
    CliResult, Failure, MAX_SMALL_FILE, emit, input_error, load_private_key, load_public_key,
    read_file, write_file,
};

#[derive(Subcommand, Debug)]
pub(crate) enum RegistryCommand {
    /// Sign a trust list (JSON `TrustList`) with the registry authority key.
    Sign {
        /// The trust list, JSON.
        #[arg(long = "in")]
        input: PathBuf,
        /// The authority's private key.
        #[arg(long)]
        key: PathBuf,
        /// Password file of an encrypted key.
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// Key id written beside the signature.
        #[arg(long, default_value = "REGISTRY")]
        key_id: String,
        /// Output, JSON `SignedTrustList`.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a signed trust list; prints a summary.
    Verify {
        /// The signed trust list.
        #[arg(long = "in")]
        input: PathBuf,
        /// The authority's public key.
        #[arg(long = "pub")]
        public: PathBuf,
        /// Check freshness as of this Unix time instead of now.
        #[arg(long)]
        now: Option<i64>,
    },
}

pub(crate) fn registry(
    json_out: bool,
    provider: &Arc<dyn CryptoProvider>,
    c: &RegistryCommand,
) -> CliResult {
    use camr::registry::{self, Registry, SignedTrustList, TrustList};
    match c {
        RegistryCommand::Sign {
            input,
            key,
            password_file,
            key_id,
            out,
        } => {
            let text = read_file(input, 64 * MAX_SMALL_FILE, "trust list")?;
            let list: TrustList = serde_json::from_slice(&text).map_err(|e| {
                input_error(format!("{} is not a trust list: {e}", input.display()))
            })?;
            let key = load_private_key(key, password_file.as_deref())?;
            let signed = registry::sign(provider.as_ref(), &list, &key, key_id)?;
            let json =
                serde_json::to_string_pretty(&signed).map_err(|e| input_error(e.to_string()))?;
            write_file(out, json.as_bytes(), false)?;
            emit(
                json_out,
                json!({"out": out, "version": list.version}),
                || {
                    format!(
                        "signed trust list (edition {}) written to {}",
                        list.version,
                        out.display()
                    )
                },
            );
            Ok(())
        }
        RegistryCommand::Verify { input, public, now } => {
            let text = read_file(input, 64 * MAX_SMALL_FILE, "signed trust list")?;
            let signed: SignedTrustList = serde_json::from_slice(&text).map_err(|e| {
                input_error(format!(
                    "{} is not a signed trust list: {e}",
                    input.display()
                ))
            })?;
            let key = load_public_key(public)?;
            let reg = Registry::verify(
                provider.as_ref(),
                &signed,
                &key,
                now.unwrap_or_else(qr::unix_now),
            )
            .map_err(|e| {
                let mut f = Failure::from(camr::Error::from(e));
                f.exit = 1;
                f
            })?;
            let l = reg.list();
            let platforms: Vec<_> = l.platforms.iter().map(|p| json!({"systemCode": p.system_code, "systemName": p.system_name, "keys": p.keys.len()})).collect();
            let vendors: Vec<_> = l
                .vendors
                .iter()
                .map(
                    |v| json!({"caOrgType": v.ca_org_type, "name": v.name, "roots": v.roots.len()}),
                )
                .collect();
            println!(
                "{}",
                json!({"valid": true, "version": l.version, "expiresAt": l.expires_at, "platforms": platforms, "vendors": vendors})
            );
            Ok(())
        }
    }
}
