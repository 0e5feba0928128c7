//! Checkpoints of the audit log (审计日志锚点): every `audit_checkpoint_secs` and on shutdown
//! the server signs the head of the store's hash chain with the platform key
//! ([`camr::store::AuditCheckpoint`]) and writes it to `<data>/audit-checkpoint.json`, and
//! logs its `seq` and `hash`. Copied off the host (a second party, a log collector), it lets
//! `camr audit verify --checkpoint` refuse a log whose newest entries were deleted or that was
//! rebuilt with a new chain (docs/security.md, threat model #9).
//!
//! A head that is behind the last checkpoint written (fewer entries, or the same number with
//! another hash) is not signed: the old file stays as evidence and the server logs an error.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use camr::crypto::{CryptoProvider, PrivateKey};
use camr::protocol::SystemCode;
use camr::store::{AuditCheckpoint, TransactionStore};
use tokio::sync::Mutex;

use crate::AppState;

/// The file name of the newest checkpoint inside the data folder.
pub const CHECKPOINT_FILE: &str = "audit-checkpoint.json";

/// The default interval between checkpoints.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(300);

/// Signs and writes checkpoints of one store's audit log.
pub struct Anchor {
    provider: Arc<dyn CryptoProvider>,
    key: PrivateKey,
    system_code: SystemCode,
    path: PathBuf,
    every: Option<Duration>,
    /// The last checkpoint written (serialises writers: the timer and shutdown).
    last: Mutex<Option<AuditCheckpoint>>,
}

impl std::fmt::Debug for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anchor")
            .field("path", &self.path)
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

impl Anchor {
    /// Checkpoints into `<data>/audit-checkpoint.json`, every `every` (never when `None`,
    /// except on shutdown). A readable checkpoint already there is the one to extend.
    pub fn new(
        provider: Arc<dyn CryptoProvider>,
        key: PrivateKey,
        system_code: SystemCode,
        data: &Path,
        every: Option<Duration>,
    ) -> Self {
        let path = data.join(CHECKPOINT_FILE);
        let last = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| AuditCheckpoint::from_json(&t).ok());
        Self {
            provider,
            key,
            system_code,
            path,
            every,
            last: Mutex::new(last),
        }
    }

    /// Where checkpoints are written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Signs the store's current head and writes it (unless it is the head written last).
    /// Refuses a head behind the last checkpoint, keeping that file.
    pub async fn write(&self, store: &dyn TransactionStore) -> Result<AuditCheckpoint, String> {
        let mut last = self.last.lock().await;
        let head = store
            .audit_head()
            .await
            .map_err(|e| format!("cannot read the audit log's head: {e}"))?;
        let (seq, hash) = head.as_ref().map_or((0, camr::store::AUDIT_GENESIS), |e| {
            (e.seq, e.hash.as_str())
        });
        if let Some(prev) = last.as_ref() {
            if seq < prev.seq || (seq == prev.seq && hash != prev.hash) {
                return Err(format!(
                    "the audit log's head (entry {seq}) is behind the last checkpoint (entry {}, \
                     {}): entries were deleted or rewritten; {} is kept as evidence",
                    prev.seq,
                    self.path.display(),
                    self.path.display()
                ));
            }
            if seq == prev.seq {
                return Ok(prev.clone());
            }
        }
        let c = AuditCheckpoint::sign(
            self.provider.as_ref(),
            &self.key,
            &self.system_code,
            head.as_ref(),
            camr::qr::unix_now(),
        )
        .map_err(|e| format!("cannot sign the audit checkpoint: {e}"))?;
        let text = serde_json::to_string_pretty(&c)
            .map_err(|e| format!("cannot write the audit checkpoint: {e}"))?;
        // Written beside and renamed over: a reader never sees half a file.
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, format!("{text}\n"))
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        tracing::info!(seq = c.seq, hash = %c.hash, file = %self.path.display(), "audit checkpoint signed");
        *last = Some(c.clone());
        Ok(c)
    }
}

/// Writes a checkpoint now, logging a failure (shutdown and the timer).
pub async fn write_logged(state: &AppState) {
    if let Err(e) = state.audit_anchor.write(state.store.as_ref()).await {
        tracing::error!("{e}");
    }
}

/// Starts the timer of [`Anchor`]'s checkpoints (none without an interval). Call once, inside
/// the runtime.
pub fn start(state: &Arc<AppState>) {
    let Some(every) = state.audit_anchor.every else {
        return;
    };
    let state = Arc::downgrade(state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // The state gone (a test's server dropped): stop.
            let Some(state) = state.upgrade() else { break };
            write_logged(&state).await;
        }
    });
}
