//! Transaction state, usage records and the hash-chained audit log.
//!
//! [`TransactionStore`] is what a ceremony keeps between `start_*` and `finish_*`. Its
//! methods return boxed futures so one `Arc<dyn TransactionStore>` serves an async server;
//! the [`MemoryStore`] here is for tests and single-process demos, `SqliteStore` (feature
//! `sqlite`) for one server process, `PostgresStore` (feature `postgres`) for several server
//! instances on one database, which learn of each other's changes through [`TxEvent`]s
//! (PostgreSQL `LISTEN`/`NOTIFY`). See `docs/storage.md`.
//!
//! Rules every implementation keeps: a state change is a compare-and-set from the states
//! the caller names (so a tid is answered at most once even under races), and it is
//! committed before the call returns — announcements (SSE, webhooks) come after.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::crypto::{CryptoProvider, HashAlgorithm, RustCryptoProvider};
use crate::protocol::{ErrorCode, SignedRequest, Tid, Transaction, TransactionState, UsageRecord};

pub mod accounts;
pub use accounts::{Account, AccountStatus, AccountStore, identity_key};
pub mod checkpoint;
pub use checkpoint::{AuditCheckpoint, CHECKPOINT_FORMAT, CheckpointError, verify_audit_against};
pub mod hall;
pub use hall::HallStore;
pub mod jobs;
pub use jobs::{Job, JobBoard};
mod blobs;
pub use blobs::BlobDir;
mod observed;
pub mod records;
pub use observed::{Observed, StateObserver, StoreKind, open, redact};
pub use records::{RecordStore, StoredRecord, Versioned};

#[cfg(any(feature = "sqlite", feature = "postgres"))]
/// `TransactionStore::record_answer` of the SQL stores, in one database transaction: each
/// store supplies `begin_write`, `transition_in`, `append_usage_in` and `append_audit_in`.
macro_rules! sql_record_answer {
    () => {
        async fn record_answer_impl(&self, w: AnswerWrite<'_>) -> Result<TxRecord, StoreError> {
            let mut tx = self.begin_write().await?;
            let mut from = w.from;
            let via_state;
            if let Some(via) = w.via {
                self.transition_in(&mut tx, w.tid, from, via, TxPatch::default())
                    .await?;
                via_state = [via];
                from = &via_state;
            }
            let rec = self
                .transition_in(&mut tx, w.tid, from, w.to, w.patch)
                .await?;
            if let Some(usage) = &w.usage {
                Self::append_usage_in(&mut tx, usage).await?;
            }
            let (at, event, detail) = &w.audit;
            Self::append_audit_in(&mut tx, *at, Some(w.tid), event, detail).await?;
            tx.commit().await.map_err(backend("commit the answer"))?;
            Ok(rec)
        }
    };
}

/// The `TransactionStore` methods the SQL stores write alike (the pending count, delegation
/// withdrawals), with the database's placeholders; expanded inside each store's impl, where
/// `backend` and `self.pool` are that store's.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! sql_store_side_methods {
    (count_pending: $count:literal, withdraw: $withdraw:literal, withdrawn: $withdrawn:literal) => {
        fn count_pending(&self, now: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
            Box::pin(async move {
                // Served by the index on (state, expires_at).
                let n: i64 = sqlx::query_scalar($count)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(backend("count the pending transactions"))?;
                Ok(u64::try_from(n).unwrap_or(0))
            })
        }

        fn withdraw_delegation<'a>(
            &'a self,
            id: &'a str,
            at: i64,
            reason: &'a str,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            Box::pin(async move {
                sqlx::query($withdraw)
                    .bind(id)
                    .bind(at)
                    .bind(reason)
                    .execute(&self.pool)
                    .await
                    .map_err(backend("record the withdrawal"))?;
                Ok(())
            })
        }

        fn delegation_withdrawn<'a>(
            &'a self,
            id: &'a str,
        ) -> BoxFuture<'a, Result<bool, StoreError>> {
            Box::pin(async move {
                let row: Option<(String,)> = sqlx::query_as($withdrawn)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend("read the withdrawals"))?;
                Ok(row.is_some())
            })
        }

        fn audit_head(&self) -> BoxFuture<'_, Result<Option<AuditEntry>, StoreError>> {
            Box::pin(async move {
                let row = sqlx::query(
                    "SELECT seq, at, tid, event, detail, prev_hash, hash FROM audit_log \
                     ORDER BY seq DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await
                .map_err(backend("read the newest audit entry"))?;
                row.as_ref()
                    .map(|r| rows::audit_from_row(DB, r))
                    .transpose()
            })
        }
    };
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod rows;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresStore, TX_EVENTS_CHANNEL, TxEventStream};

#[cfg(test)]
mod tests;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a store operation failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No such transaction.
    #[error("no transaction {0}")]
    NotFound(String),
    /// The tid exists already.
    #[error("transaction {0} exists already")]
    Duplicate(String),
    /// The transaction is not in a state the change may start from.
    #[error("transaction {tid} is {actual:?}, not one of {expected:?}")]
    WrongState {
        /// The transaction.
        tid: String,
        /// Its state.
        actual: TransactionState,
        /// The states the change needed.
        expected: Vec<TransactionState>,
    },
    /// The backend failed.
    #[error("the transaction store failed: {0}")]
    Backend(String),
    /// A versioned record changed since it was read (another instance wrote first).
    #[error("{0} was changed by another writer at the same time")]
    Conflict(String),
    /// The audit log is broken at an entry.
    #[error("audit log entry {seq} {problem}")]
    AuditBroken {
        /// The first entry that does not verify.
        seq: u64,
        /// What is wrong with it.
        problem: String,
    },
}

impl StoreError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound(_) => ErrorCode::TxNotFound,
            Self::Duplicate(_) | Self::Backend(_) => ErrorCode::Internal,
            Self::AuditBroken { .. } => ErrorCode::AuditBroken,
            Self::Conflict(_) => ErrorCode::StateConflict,
            Self::WrongState { actual, .. } => match actual {
                TransactionState::Expired => ErrorCode::TxExpired,
                TransactionState::Cancelled => ErrorCode::TxCancelled,
                _ => ErrorCode::TxAlreadyAnswered,
            },
        }
    }
}

/// A committed change of a transaction's state, as announced to every server instance that
/// shares the store: a new transaction (`state` `created`) or a transition.
///
/// `PostgresStore` sends one per committed `insert` and `transition` (`NOTIFY` payload, JSON
/// `{"tid":"…","state":"scanned","instance":"…"}`); a server on the memory or SQLite store makes
/// them itself. `instance` names the store handle that made the change (see
/// `PostgresStore::connect_with`), so an instance can tell its own changes from the others'.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TxEvent {
    /// The transaction.
    pub tid: Tid,
    /// Its state after the change.
    pub state: TransactionState,
    /// The instance that made the change.
    pub instance: String,
}

/// Everything the platform keeps about one transaction (server-held state).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxRecord {
    /// The transaction.
    pub transaction: Transaction,
    /// The platform-signed request object, exactly as served to the app.
    pub request: SignedRequest,
    /// Lower-case hex SM3 of `request.request`.
    pub request_hash: String,
    /// Per-transaction secret material (the decrypt operation's platform key, PKCS#8 DER);
    /// never logged, never sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Vec<u8>>,
    /// The verified result, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// Lower-case hex SHA-256 of the owner credential ([`crate::ceremony::OwnerToken`]);
    /// `None` for a transaction nobody owns (refused to every caller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_hash: Option<String>,
}

/// One audit entry; `hash` chains it to the entry before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Position, from 1.
    pub seq: u64,
    /// Unix seconds.
    pub at: i64,
    /// The transaction, if any.
    pub tid: Option<String>,
    /// What happened, e.g. `started`, `answered`, `verified`, `refused`.
    pub event: String,
    /// Details (error codes, subject, ...).
    pub detail: String,
    /// `hash` of the entry before (64 zeros for the first).
    pub prev_hash: String,
    /// SM3 over `prev_hash` and this entry's other fields (see [`audit_hash`]).
    pub hash: String,
}

/// The hash of an entry: SM3 over the UTF-8 of
/// `prev_hash LF seq LF at LF tid LF event LF detail`, lower-case hex.
pub fn audit_hash(
    prev_hash: &str,
    seq: u64,
    at: i64,
    tid: Option<&str>,
    event: &str,
    detail: &str,
) -> String {
    let text = format!(
        "{prev_hash}\n{seq}\n{at}\n{}\n{event}\n{detail}",
        tid.unwrap_or("")
    );
    data_encoding::HEXLOWER.encode(&RustCryptoProvider.digest(HashAlgorithm::Sm3, text.as_bytes()))
}

/// The hash before the first entry.
pub const AUDIT_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Checks an audit log: consecutive `seq` from 1, each `prev_hash` the previous `hash`, and
/// each `hash` recomputed. Names the first entry that fails (an edited or deleted row).
pub fn verify_audit(entries: &[AuditEntry]) -> Result<u64, StoreError> {
    let mut prev = AUDIT_GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        let expected_seq = i as u64 + 1;
        if e.seq != expected_seq {
            return Err(StoreError::AuditBroken {
                seq: expected_seq,
                problem: format!("is missing (found seq {} there)", e.seq),
            });
        }
        if e.prev_hash != prev {
            return Err(StoreError::AuditBroken {
                seq: e.seq,
                problem: "does not follow the entry before it (prevHash differs)".into(),
            });
        }
        let h = audit_hash(
            &e.prev_hash,
            e.seq,
            e.at,
            e.tid.as_deref(),
            &e.event,
            &e.detail,
        );
        if h != e.hash {
            return Err(StoreError::AuditBroken {
                seq: e.seq,
                problem: "was edited (its hash does not match its content)".into(),
            });
        }
        prev = e.hash.clone();
    }
    Ok(entries.len() as u64)
}

/// What [`TransactionStore::transition`] may change besides the state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TxPatch {
    /// CA vendor code.
    pub ca_org_type: Option<String>,
    /// Failure or rejection reason.
    pub message: Option<String>,
    /// Verified result.
    pub result: Option<serde_json::Value>,
    /// Drop the per-transaction secret (after use).
    pub clear_secret: bool,
}

/// A verified or rejected answer as the store records it: the state change (through `via`,
/// e.g. `scanned → approved → verified`), the usage record and the audit entry.
#[derive(Debug, Clone)]
pub struct AnswerWrite<'a> {
    /// The transaction.
    pub tid: &'a Tid,
    /// The states it may be in (compare-and-set).
    pub from: &'a [TransactionState],
    /// An intermediate state the state machine passes through, if any.
    pub via: Option<TransactionState>,
    /// The final state.
    pub to: TransactionState,
    /// Applied with the final state.
    pub patch: TxPatch,
    /// The usage record (per-use billing), if the answer counts.
    pub usage: Option<UsageRecord>,
    /// The audit entry: time, event, detail.
    pub audit: (i64, &'a str, String),
}

/// Where ceremonies keep their state.
pub trait TransactionStore: Send + Sync + std::fmt::Debug {
    /// Stores a new transaction.
    fn insert(&self, record: TxRecord) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Reads a transaction.
    fn get<'a>(&'a self, tid: &'a Tid) -> BoxFuture<'a, Result<Option<TxRecord>, StoreError>>;
    /// Moves a transaction to `to` if its state is one of `from` (compare-and-set), applying
    /// `patch`; returns the record after the change.
    fn transition<'a>(
        &'a self,
        tid: &'a Tid,
        from: &'a [TransactionState],
        to: TransactionState,
        patch: TxPatch,
    ) -> BoxFuture<'a, Result<TxRecord, StoreError>>;
    /// Takes the per-transaction secret out of the store, whatever the state: its value the
    /// first time, `None` once taken (compare-and-set: of two callers at once, exactly one
    /// gets it). `TX_NOT_FOUND` for an unknown tid.
    fn take_secret<'a>(
        &'a self,
        tid: &'a Tid,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>>;
    /// Appends a usage record.
    fn append_usage(&self, record: UsageRecord) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Usage records (oldest first).
    fn usage(&self) -> BoxFuture<'_, Result<Vec<UsageRecord>, StoreError>>;
    /// Appends an audit entry, chaining it to the last one.
    fn append_audit<'a>(
        &'a self,
        at: i64,
        tid: Option<&'a Tid>,
        event: &'a str,
        detail: &'a str,
    ) -> BoxFuture<'a, Result<AuditEntry, StoreError>>;
    /// The whole audit log (oldest first).
    fn audit(&self) -> BoxFuture<'_, Result<Vec<AuditEntry>, StoreError>>;
    /// Records an answer: the state change, the usage record and the audit entry. The SQL
    /// stores write them in one database transaction, so a crash leaves the answer either
    /// wholly recorded or not at all (the app then sees no `verified` and answers again);
    /// this default, for stores without transactions, writes them one after the other.
    fn record_answer<'a>(
        &'a self,
        w: AnswerWrite<'a>,
    ) -> BoxFuture<'a, Result<TxRecord, StoreError>> {
        Box::pin(async move {
            let mut from = w.from;
            let via_state;
            if let Some(via) = w.via {
                self.transition(w.tid, from, via, TxPatch::default())
                    .await?;
                via_state = [via];
                from = &via_state;
            }
            let rec = self.transition(w.tid, from, w.to, w.patch).await?;
            if let Some(usage) = w.usage {
                self.append_usage(usage).await?;
            }
            let (at, event, detail) = w.audit;
            self.append_audit(at, Some(w.tid), event, &detail).await?;
            Ok(rec)
        })
    }
    /// The newest audit entry (`None` for an empty log): what an
    /// [`AuditCheckpoint`] signs. The SQL stores read one row; this default reads the log.
    fn audit_head(&self) -> BoxFuture<'_, Result<Option<AuditEntry>, StoreError>> {
        Box::pin(async move { Ok(self.audit().await?.pop()) })
    }
    /// Records that the delegation `id` was withdrawn (收回); again for the same id changes
    /// nothing.
    fn withdraw_delegation<'a>(
        &'a self,
        id: &'a str,
        at: i64,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Whether the delegation `id` was withdrawn: one indexed lookup.
    fn delegation_withdrawn<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// How many transactions wait for an answer (`created` or `scanned`, not expired at
    /// `now`): what the platform's cap on pending transactions counts.
    fn count_pending(&self, now: i64) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// An in-memory store (tests, demos, one process).
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    tx: HashMap<Tid, TxRecord>,
    usage: Vec<UsageRecord>,
    audit: Vec<AuditEntry>,
    accounts: Vec<Account>,
    hall: hall::MemoryHall,
    records: records::MemoryRecords,
    withdrawn: std::collections::HashSet<String>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut MemoryInner) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| StoreError::Backend("the memory store lock is poisoned".into()))?;
        f(&mut guard)
    }

    /// Test hook: the audit log, mutable (to show that `verify_audit` catches edits).
    #[doc(hidden)]
    pub fn tamper_audit(&self, f: impl FnOnce(&mut Vec<AuditEntry>)) {
        if let Ok(mut g) = self.inner.lock() {
            f(&mut g.audit);
        }
    }
}

impl TransactionStore for MemoryStore {
    fn insert(&self, record: TxRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        let r = self.with(|s| {
            let tid = record.transaction.tid.clone();
            if s.tx.contains_key(&tid) {
                return Err(StoreError::Duplicate(tid.to_string()));
            }
            s.tx.insert(tid, record);
            Ok(())
        });
        Box::pin(async move { r })
    }

    fn get<'a>(&'a self, tid: &'a Tid) -> BoxFuture<'a, Result<Option<TxRecord>, StoreError>> {
        let r = self.with(|s| Ok(s.tx.get(tid).cloned()));
        Box::pin(async move { r })
    }

    fn transition<'a>(
        &'a self,
        tid: &'a Tid,
        from: &'a [TransactionState],
        to: TransactionState,
        patch: TxPatch,
    ) -> BoxFuture<'a, Result<TxRecord, StoreError>> {
        let r = self.with(|s| {
            let rec =
                s.tx.get_mut(tid)
                    .ok_or_else(|| StoreError::NotFound(tid.to_string()))?;
            let actual = rec.transaction.state;
            if !from.contains(&actual) || !actual.can_transition_to(to) {
                return Err(StoreError::WrongState {
                    tid: tid.to_string(),
                    actual,
                    expected: from.to_vec(),
                });
            }
            rec.transaction.state = to;
            if patch.ca_org_type.is_some() {
                rec.transaction.ca_org_type = patch.ca_org_type;
            }
            if patch.message.is_some() {
                rec.transaction.message = patch.message;
            }
            if patch.result.is_some() {
                rec.result = patch.result;
            }
            if patch.clear_secret {
                rec.secret = None;
            }
            Ok(rec.clone())
        });
        Box::pin(async move { r })
    }

    fn take_secret<'a>(
        &'a self,
        tid: &'a Tid,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        let r = self.with(|s| {
            let rec =
                s.tx.get_mut(tid)
                    .ok_or_else(|| StoreError::NotFound(tid.to_string()))?;
            Ok(rec.secret.take())
        });
        Box::pin(async move { r })
    }

    fn append_usage(&self, record: UsageRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        let r = self.with(|s| {
            s.usage.push(record);
            Ok(())
        });
        Box::pin(async move { r })
    }

    fn usage(&self) -> BoxFuture<'_, Result<Vec<UsageRecord>, StoreError>> {
        let r = self.with(|s| Ok(s.usage.clone()));
        Box::pin(async move { r })
    }

    fn withdraw_delegation<'a>(
        &'a self,
        id: &'a str,
        _at: i64,
        _reason: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let r = self.with(|s| {
            s.withdrawn.insert(id.to_string());
            Ok(())
        });
        Box::pin(async move { r })
    }

    fn delegation_withdrawn<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        let r = self.with(|s| Ok(s.withdrawn.contains(id)));
        Box::pin(async move { r })
    }

    fn count_pending(&self, now: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let r = self.with(|s| {
            Ok(s.tx
                .values()
                .filter(|r| {
                    matches!(
                        r.transaction.state,
                        TransactionState::Created | TransactionState::Scanned
                    ) && r.transaction.expires_at >= now
                })
                .count() as u64)
        });
        Box::pin(async move { r })
    }

    fn append_audit<'a>(
        &'a self,
        at: i64,
        tid: Option<&'a Tid>,
        event: &'a str,
        detail: &'a str,
    ) -> BoxFuture<'a, Result<AuditEntry, StoreError>> {
        let r = self.with(|s| {
            let prev = s
                .audit
                .last()
                .map(|e| e.hash.clone())
                .unwrap_or_else(|| AUDIT_GENESIS.to_string());
            let seq = s.audit.len() as u64 + 1;
            let tid = tid.map(|t| t.to_string());
            let hash = audit_hash(&prev, seq, at, tid.as_deref(), event, detail);
            let entry = AuditEntry {
                seq,
                at,
                tid,
                event: event.into(),
                detail: detail.into(),
                prev_hash: prev,
                hash,
            };
            s.audit.push(entry.clone());
            Ok(entry)
        });
        Box::pin(async move { r })
    }

    fn audit(&self) -> BoxFuture<'_, Result<Vec<AuditEntry>, StoreError>> {
        let r = self.with(|s| Ok(s.audit.clone()));
        Box::pin(async move { r })
    }
}
