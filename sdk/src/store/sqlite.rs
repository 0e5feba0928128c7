//! [`SqliteStore`]: the [`TransactionStore`] in one SQLite file (sqlx, WAL, migrations).
//!
//! Tables (see `sdk/migrations/`): `transactions` (one row per tid, its state and record),
//! `usage_records` (the national usage-record fields as columns) and `audit_log` (append-only,
//! hash-chained with [`audit_hash`]). Every state change is one `UPDATE ... WHERE tid = ? AND
//! state IN (...)` inside a write transaction, committed before the call returns; audit
//! entries are chained inside `BEGIN IMMEDIATE` so that two writers, even in two processes,
//! cannot fork the chain.
//!
//! The store needs a Tokio runtime (sqlx's `runtime-tokio`).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
};

use super::rows::{self, to_json, wire_str};
use super::{
    AUDIT_GENESIS, AnswerWrite, AuditEntry, BoxFuture, StoreError, TransactionStore, TxPatch,
    TxRecord, audit_hash,
};
use crate::protocol::{Tid, TransactionState, UsageRecord};

/// The database's name in messages.
const DB: &str = "SQLite";

fn data_error(what: &str, e: impl std::fmt::Display) -> StoreError {
    rows::data_error(DB, what, e)
}

fn from_wire<T: serde::de::DeserializeOwned>(what: &str, s: String) -> Result<T, StoreError> {
    rows::from_wire(DB, what, s)
}

/// Column `name` of `row`, read as part of `what`.
fn col<'r, T>(row: &'r SqliteRow, name: &str, what: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    rows::col(DB, row, name, what)
}

/// The embedded schema migrations (`sdk/migrations`).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a writer waits for another one before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections per pool (SQLite has one writer at a time; WAL lets readers run alongside).
const MAX_CONNECTIONS: u32 = 8;

/// A transaction store in a SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

fn backend(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| StoreError::Backend(format!("SQLite could not {what}: {e}"))
}

/// Whether the database lives in memory (`:memory:`, `sqlite::memory:`, `?mode=memory`).
fn is_memory(url_or_path: &str) -> bool {
    url_or_path.contains(":memory:") || url_or_path.contains("mode=memory")
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `url_or_path`, either a path or a
    /// `sqlite:` URL such as `sqlite://data/camr.db` or `sqlite::memory:`; sets WAL journal
    /// mode and a busy timeout, and runs the embedded migrations.
    pub async fn open(url_or_path: &str) -> Result<Self, StoreError> {
        let options = if url_or_path.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url_or_path).map_err(|e| {
                StoreError::Backend(format!("`{url_or_path}` is not a SQLite URL: {e}"))
            })?
        } else if url_or_path == ":memory:" {
            SqliteConnectOptions::new().in_memory(true)
        } else {
            SqliteConnectOptions::new().filename(url_or_path)
        };
        Self::open_with(options, is_memory(url_or_path)).await
    }

    /// Opens (creating it if missing) the database file at `path`; see [`Self::open`].
    pub async fn open_path(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(SqliteConnectOptions::new().filename(path.as_ref()), false).await
    }

    /// Opens an existing database file read-only, without migrating it (for audits of a
    /// live database: `camr audit verify`). Writes through this store fail.
    pub async fn open_read_only(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(StoreError::Backend(format!(
                "there is no database file at {}",
                path.display()
            )));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(backend("open the database file"))?;
        Ok(Self { pool })
    }

    async fn open_with(options: SqliteConnectOptions, memory: bool) -> Result<Self, StoreError> {
        let options = options
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = if memory {
            // One connection that never closes: each connection would be its own database.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
        } else {
            SqlitePoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .connect_with(options.journal_mode(SqliteJournalMode::Wal))
                .await
        }
        .map_err(backend("open the database"))?;
        MIGRATOR.run(&pool).await.map_err(|e| {
            StoreError::Backend(format!("the SQLite schema could not be migrated: {e}"))
        })?;
        Ok(Self { pool })
    }

    /// The connection pool (for reports and tests).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes the pool, waiting for connections in use to be returned; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn insert_impl(&self, record: TxRecord) -> Result<(), StoreError> {
        let t = &record.transaction;
        let result = record
            .result
            .as_ref()
            .map(|r| to_json("result", r))
            .transpose()?;
        let done = sqlx::query(
            "INSERT INTO transactions (tid, system_code, operation, state, created_at, \
             expires_at, ca_org_type, message, request, request_hash, secret, result, \
             owner_hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
             ON CONFLICT (tid) DO NOTHING",
        )
        .bind(t.tid.as_str())
        .bind(t.system_code.as_str())
        .bind(wire_str(&t.operation)?)
        .bind(t.state.as_str())
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.ca_org_type.as_deref())
        .bind(t.message.as_deref())
        .bind(to_json("request object", &record.request)?)
        .bind(record.request_hash.as_str())
        .bind(record.secret.as_deref())
        .bind(result)
        .bind(record.owner_hash.as_deref())
        .execute(&self.pool)
        .await
        .map_err(backend("store the transaction"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Duplicate(t.tid.to_string()));
        }
        Ok(())
    }

    async fn get_impl(&self, tid: &Tid) -> Result<Option<TxRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM transactions WHERE tid = ?1")
            .bind(tid.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend("read the transaction"))?;
        row.map(|r| rows::record_from_row(DB, &r)).transpose()
    }

    async fn transition_impl(
        &self,
        tid: &Tid,
        from: &[TransactionState],
        to: TransactionState,
        patch: TxPatch,
    ) -> Result<TxRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let record = self.transition_in(&mut tx, tid, from, to, patch).await?;
        tx.commit()
            .await
            .map_err(backend("commit the state change"))?;
        Ok(record)
    }

    /// The compare-and-set of [`Self::transition_impl`] inside the caller's transaction.
    async fn transition_in(
        &self,
        conn: &mut sqlx::SqliteConnection,
        tid: &Tid,
        from: &[TransactionState],
        to: TransactionState,
        patch: TxPatch,
    ) -> Result<TxRecord, StoreError> {
        // Only the named states the state machine lets go to `to`.
        let allowed: Vec<&str> = from
            .iter()
            .filter(|s| s.can_transition_to(to))
            .map(|s| s.as_str())
            .collect();
        let allowed = to_json("state list", &allowed)?;
        let result = patch
            .result
            .as_ref()
            .map(|r| to_json("result", r))
            .transpose()?;
        // The compare-and-set: one statement, so no other writer can slip in between the
        // check of the state and its change.
        let done = sqlx::query(
            "UPDATE transactions SET state = ?1, \
             ca_org_type = COALESCE(?2, ca_org_type), \
             message = COALESCE(?3, message), \
             result = COALESCE(?4, result), \
             secret = CASE WHEN ?5 THEN NULL ELSE secret END \
             WHERE tid = ?6 AND state IN (SELECT value FROM json_each(?7))",
        )
        .bind(to.as_str())
        .bind(patch.ca_org_type.as_deref())
        .bind(patch.message.as_deref())
        .bind(result)
        .bind(patch.clear_secret)
        .bind(tid.as_str())
        .bind(allowed)
        .execute(&mut *conn)
        .await
        .map_err(backend("change the transaction state"))?;
        let row = sqlx::query("SELECT * FROM transactions WHERE tid = ?1")
            .bind(tid.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend("read the transaction"))?;
        if done.rows_affected() != 1 {
            let row = row.ok_or_else(|| StoreError::NotFound(tid.to_string()))?;
            let actual: String = col(&row, "state", "the transaction state")?;
            return Err(StoreError::WrongState {
                tid: tid.to_string(),
                actual: from_wire("transaction state", actual)?,
                expected: from.to_vec(),
            });
        }
        let row = row.ok_or_else(|| StoreError::NotFound(tid.to_string()))?;
        let record = rows::record_from_row(DB, &row)?;
        Ok(record)
    }

    async fn take_secret_impl(&self, tid: &Tid) -> Result<Option<Vec<u8>>, StoreError> {
        // One write transaction (BEGIN IMMEDIATE: writers queue), so the read and the
        // clearing cannot interleave with another taker's.
        let mut tx = self.begin_write().await?;
        let row: Option<(Option<Vec<u8>>,)> =
            sqlx::query_as("SELECT secret FROM transactions WHERE tid = ?1")
                .bind(tid.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend("read the transaction secret"))?;
        let (secret,) = row.ok_or_else(|| StoreError::NotFound(tid.to_string()))?;
        if secret.is_some() {
            sqlx::query("UPDATE transactions SET secret = NULL WHERE tid = ?1")
                .bind(tid.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend("take the transaction secret"))?;
        }
        tx.commit()
            .await
            .map_err(backend("commit taking the secret"))?;
        Ok(secret)
    }

    async fn append_usage_impl(&self, record: UsageRecord) -> Result<(), StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(backend("take a connection"))?;
        Self::append_usage_in(&mut conn, &record).await
    }

    async fn append_usage_in(
        conn: &mut sqlx::SqliteConnection,
        record: &UsageRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO usage_records (trading_system_code, trading_system_name, cert_sn, \
             cert_name, cert_type, public_key_algorithm, subject_type, usage_scene, tid, \
             used_at, ca_org_type, operator, revocation_unknown) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .bind(record.trading_system_code.as_str())
        .bind(record.trading_system_name.as_str())
        .bind(record.cert_sn.as_str())
        .bind(record.cert_name.as_str())
        .bind(wire_str(&record.cert_type)?)
        .bind(wire_str(&record.public_key_algorithm)?)
        .bind(wire_str(&record.subject_type)?)
        .bind(wire_str(&record.usage_scene)?)
        .bind(record.tid.as_str())
        .bind(record.used_at)
        .bind(record.ca_org_type.as_str())
        .bind(record.operator.as_deref())
        .bind(record.revocation_unknown)
        .execute(&mut *conn)
        .await
        .map_err(backend("store the usage record"))?;
        Ok(())
    }

    sql_record_answer!();

    /// A write transaction: BEGIN IMMEDIATE takes the write lock at once, so writers queue
    /// (across processes too) instead of failing to upgrade a read lock.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend("begin a write transaction"))
    }

    async fn usage_impl(&self) -> Result<Vec<UsageRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM usage_records ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(backend("read the usage records"))?;
        rows.iter().map(|r| rows::usage_from_row(DB, r)).collect()
    }

    async fn append_audit_impl(
        &self,
        at: i64,
        tid: Option<&Tid>,
        event: &str,
        detail: &str,
    ) -> Result<AuditEntry, StoreError> {
        let mut tx = self.begin_write().await?;
        let entry = Self::append_audit_in(&mut tx, at, tid, event, detail).await?;
        tx.commit()
            .await
            .map_err(backend("commit the audit entry"))?;
        Ok(entry)
    }

    /// [`Self::append_audit_impl`] inside the caller's transaction.
    async fn append_audit_in(
        conn: &mut sqlx::SqliteConnection,
        at: i64,
        tid: Option<&Tid>,
        event: &str,
        detail: &str,
    ) -> Result<AuditEntry, StoreError> {
        // BEGIN IMMEDIATE takes the write lock before the last entry is read, so the entry
        // written next is chained to the real last one (no fork, even across processes).
        let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend("read the last audit entry"))?;
        let (seq, prev_hash) = match last {
            Some(row) => {
                let seq: i64 = col(&row, "seq", "the last audit entry")?;
                let hash: String = col(&row, "hash", "the last audit entry")?;
                (seq.saturating_add(1), hash)
            }
            None => (1, AUDIT_GENESIS.to_string()),
        };
        let seq_u = u64::try_from(seq).map_err(|e| data_error("audit sequence number", e))?;
        let tid = tid.map(|t| t.to_string());
        let hash = audit_hash(&prev_hash, seq_u, at, tid.as_deref(), event, detail);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, tid, event, detail, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(seq)
        .bind(at)
        .bind(tid.as_deref())
        .bind(event)
        .bind(detail)
        .bind(prev_hash.as_str())
        .bind(hash.as_str())
        .execute(&mut *conn)
        .await
        .map_err(backend("append to the audit log"))?;
        Ok(AuditEntry {
            seq: seq_u,
            at,
            tid,
            event: event.into(),
            detail: detail.into(),
            prev_hash,
            hash,
        })
    }

    async fn audit_impl(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, tid, event, detail, prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend("read the audit log"))?;
        rows.iter().map(|r| rows::audit_from_row(DB, r)).collect()
    }
}

impl TransactionStore for SqliteStore {
    fn insert(&self, record: TxRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.insert_impl(record))
    }

    fn get<'a>(&'a self, tid: &'a Tid) -> BoxFuture<'a, Result<Option<TxRecord>, StoreError>> {
        Box::pin(self.get_impl(tid))
    }

    fn transition<'a>(
        &'a self,
        tid: &'a Tid,
        from: &'a [TransactionState],
        to: TransactionState,
        patch: TxPatch,
    ) -> BoxFuture<'a, Result<TxRecord, StoreError>> {
        Box::pin(self.transition_impl(tid, from, to, patch))
    }

    fn take_secret<'a>(
        &'a self,
        tid: &'a Tid,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(self.take_secret_impl(tid))
    }

    sql_store_side_methods!(
        count_pending: "SELECT count(*) FROM transactions \
                        WHERE state IN ('created', 'scanned') AND expires_at >= ?1",
        withdraw: "INSERT INTO delegation_withdrawals (id, withdrawn_at, reason) \
                   VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        withdrawn: "SELECT id FROM delegation_withdrawals WHERE id = ?1"
    );

    fn append_usage(&self, record: UsageRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.append_usage_impl(record))
    }

    fn usage(&self) -> BoxFuture<'_, Result<Vec<UsageRecord>, StoreError>> {
        Box::pin(self.usage_impl())
    }

    fn append_audit<'a>(
        &'a self,
        at: i64,
        tid: Option<&'a Tid>,
        event: &'a str,
        detail: &'a str,
    ) -> BoxFuture<'a, Result<AuditEntry, StoreError>> {
        Box::pin(self.append_audit_impl(at, tid, event, detail))
    }

    fn record_answer<'a>(
        &'a self,
        w: AnswerWrite<'a>,
    ) -> BoxFuture<'a, Result<TxRecord, StoreError>> {
        Box::pin(self.record_answer_impl(w))
    }

    fn audit(&self) -> BoxFuture<'_, Result<Vec<AuditEntry>, StoreError>> {
        Box::pin(self.audit_impl())
    }
}
