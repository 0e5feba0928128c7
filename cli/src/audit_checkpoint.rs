//! `camr audit verify` and `camr audit checkpoint`: the platform's hash-chained audit log,
//! checked on its own and against a signed checkpoint of its head kept by a second party
//! (`camr::store::checkpoint`), in SQLite (`--db FILE`) or PostgreSQL (`--database-url`).

use std::path::{Path, PathBuf};

use camr::protocol::{ErrorCode, SystemCode};
use camr::store::{
    AuditCheckpoint, AuditEntry, CheckpointError, StoreError, TransactionStore, verify_audit,
    verify_audit_against,
};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::common::{
    CliResult, Failure, MAX_SMALL_FILE, emit, input_error, load_private_key, load_public_key,
    read_file, write_file,
};

#[derive(Subcommand, Debug)]
pub(crate) enum AuditCommand {
    /// Check that no audit entry was edited or deleted; exit 1 naming the first broken one.
    /// With --checkpoint, also that the log is at least as long as the checkpoint and holds
    /// the very head it signed (newest entries deleted, or a rebuilt chain, are refused).
    Verify(VerifyArgs),
    /// Sign the log's head (seq, hash) with the platform key into a checkpoint for a second
    /// party to keep (after checking the chain).
    Checkpoint(CheckpointArgs),
}

/// Which store: a SQLite file or a PostgreSQL URL.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub(crate) struct StoreArgs {
    /// The platform's SQLite database file (opened read-only).
    #[arg(long)]
    db: Option<PathBuf>,
    /// The platform's PostgreSQL database, `postgres://…` (connecting runs the store's
    /// migrations, a no-op on a platform's database; put a password in `~/.pgpass` rather
    /// than on the command line).
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// A checkpoint (`camr audit checkpoint`, or the server's `<data>/audit-checkpoint.json`)
    /// kept apart from the database.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// The platform's public key (PEM/DER, e.g. `platform-pub.pem`): the checkpoint must be
    /// signed by it. Without it, the key inside the checkpoint is used and printed.
    #[arg(long, requires = "checkpoint")]
    platform_key: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub(crate) struct CheckpointArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The platform's private key (PKCS#8, the server's `platform-key.pem`).
    #[arg(long)]
    key: PathBuf,
    /// Password file of an encrypted key.
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// The platform's system code (系统标识码).
    #[arg(long)]
    system_code: String,
    /// Where to write the checkpoint (JSON); stdout when absent.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs an `audit` subcommand.
pub(crate) fn run(json_out: bool, c: &AuditCommand) -> CliResult {
    match c {
        AuditCommand::Verify(a) => verify(json_out, a),
        AuditCommand::Checkpoint(a) => checkpoint(json_out, a),
    }
}

fn verify(json_out: bool, a: &VerifyArgs) -> CliResult {
    let checkpoint = match &a.checkpoint {
        Some(path) => Some(read_checkpoint(path, a.platform_key.as_deref())?),
        None => None,
    };
    let entries = read_log(&a.store)?;
    let n = match &checkpoint {
        Some(c) => verify_audit_against(&entries, c),
        None => verify_audit(&entries),
    }
    .map_err(broken)?;
    let last_hash = entries.last().map(|e| e.hash.as_str());
    let anchored = checkpoint.as_ref().map(|c| {
        json!({"seq": c.seq, "hash": c.hash, "signedAt": c.signed_at, "systemCode": c.system_code})
    });
    emit(
        json_out,
        json!({"valid": true, "entries": n, "lastHash": last_hash, "store": a.store.name(), "checkpoint": anchored}),
        || match &checkpoint {
            Some(c) => format!(
                "audit log OK: {n} entries, holds the checkpoint of {} entries signed at {}",
                c.seq, c.signed_at
            ),
            None => format!("audit log OK: {n} entries"),
        },
    );
    Ok(())
}

fn checkpoint(json_out: bool, a: &CheckpointArgs) -> CliResult {
    let system_code = SystemCode::parse(&a.system_code)?;
    let key = load_private_key(&a.key, a.password_file.as_deref())?;
    let entries = read_log(&a.store)?;
    // Never sign a broken chain: the checkpoint would vouch for the damage.
    let n = verify_audit(&entries).map_err(broken)?;
    let provider = camr::crypto::default_provider();
    let c = AuditCheckpoint::sign(
        provider.as_ref(),
        &key,
        &system_code,
        entries.last(),
        camr::qr::unix_now(),
    )
    .map_err(checkpoint_error)?;
    let text = serde_json::to_string_pretty(&c)
        .map_err(|e| input_error(format!("cannot write the checkpoint: {e}")))?;
    match &a.out {
        Some(path) => {
            write_file(path, format!("{text}\n").as_bytes(), false)?;
            emit(
                json_out,
                json!({"written": path, "seq": c.seq, "hash": c.hash, "entries": n}),
                || {
                    format!(
                        "checkpoint of {} entries (head {}) written to {}",
                        c.seq,
                        c.hash.get(..16).unwrap_or_default(),
                        path.display()
                    )
                },
            );
        }
        None => println!("{text}"),
    }
    Ok(())
}

fn read_checkpoint(path: &Path, platform_key: Option<&Path>) -> CliResult<AuditCheckpoint> {
    let data = read_file(path, MAX_SMALL_FILE, "checkpoint")?;
    let text = std::str::from_utf8(&data)
        .map_err(|_| input_error(format!("the checkpoint {} is not UTF-8", path.display())))?;
    let c = AuditCheckpoint::from_json(text).map_err(checkpoint_error)?;
    let expected = platform_key.map(load_public_key).transpose()?;
    let provider = camr::crypto::default_provider();
    c.verify_signature(provider.as_ref(), expected.as_ref())
        .map_err(checkpoint_error)?;
    Ok(c)
}

impl StoreArgs {
    /// What to name in messages (never the URL: it may hold a password).
    fn name(&self) -> String {
        match (&self.db, &self.database_url) {
            (Some(db), _) => db.display().to_string(),
            _ => "PostgreSQL".into(),
        }
    }
}

/// The whole log, read with a current-thread runtime of this command's own.
fn read_log(store: &StoreArgs) -> CliResult<Vec<AuditEntry>> {
    if let Some(db) = &store.db
        && !db.is_file()
    {
        return Err(input_error(format!(
            "there is no database file at {}",
            db.display()
        )));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure {
            code: ErrorCode::Internal,
            message: format!("cannot start the async runtime: {e}"),
            exit: 2,
        })?;
    runtime
        .block_on(async {
            match (&store.db, &store.database_url) {
                (Some(db), _) => {
                    let s = camr::store::SqliteStore::open_read_only(db).await?;
                    let entries = s.audit().await;
                    s.close().await;
                    entries
                }
                (None, Some(url)) => {
                    let s = camr::store::PostgresStore::connect(url).await?;
                    let entries = s.audit().await;
                    s.close().await;
                    entries
                }
                (None, None) => Err(StoreError::Backend("no store named".into())),
            }
        })
        .map_err(|e| Failure {
            code: e.code(),
            message: format!("{e} ({})", store.name()),
            exit: 2,
        })
}

fn broken(e: StoreError) -> Failure {
    Failure {
        code: e.code(),
        message: e.to_string(),
        exit: 1,
    }
}

fn checkpoint_error(e: CheckpointError) -> Failure {
    Failure {
        code: e.code(),
        message: e.to_string(),
        exit: match e {
            CheckpointError::SignatureInvalid(_) => 1,
            _ => 2,
        },
    }
}
