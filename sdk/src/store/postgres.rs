//! [`PostgresStore`]: the [`TransactionStore`] in PostgreSQL (sqlx, migrations), for several
//! server instances on one database; [`TxEventStream`]: their status events (`LISTEN`/`NOTIFY`).
//!
//! Tables (see `sdk/migrations-postgres/`): the same as the SQLite store's — `transactions`,
//! `usage_records`, `audit_log` (append-only, hash-chained with [`audit_hash`]) — plus
//! `audit_head`, the one-row head of the chain.
//!
//! - A state change is one `UPDATE ... WHERE tid = $1 AND state = ANY($2)` in a transaction:
//!   PostgreSQL re-checks the condition of a row another writer changed meanwhile, so of any
//!   number of racing callers (in any number of processes) exactly one wins; the others get
//!   [`StoreError::WrongState`] with the state the winner left.
//! - Each committed `insert` and `transition` runs `SELECT pg_notify('camr_tx_events', payload)`
//!   in the same SQL transaction, so the event goes out on commit and only then; payload:
//!   [`TxEvent`] as JSON, `{"tid":"…","state":"…","instance":"…"}`.
//! - An audit append locks the chain head (`SELECT ... FOR UPDATE`), so appends from every
//!   process run one after the other: gapless `seq`, each `prev_hash` the real last hash.
//! - Expiry is as in the SQLite store: `created_at`/`expires_at` are kept as given (Unix
//!   seconds) and the store expires nothing by itself; the ceremony moves a transaction read
//!   after `expires_at` to `expired` with an ordinary compare-and-set (so that change is
//!   announced like any other).
//!
//! The store needs a Tokio runtime (sqlx's `runtime-tokio`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions, PgRow};

use super::rows::{self, to_json, wire_str};
use super::{
    AnswerWrite, AuditEntry, BoxFuture, StoreError, TransactionStore, TxEvent, TxPatch, TxRecord,
    audit_hash,
};
use crate::protocol::{Tid, TransactionState, UsageRecord};

/// The database's name in messages.
const DB: &str = "PostgreSQL";

fn data_error(what: &str, e: impl std::fmt::Display) -> StoreError {
    rows::data_error(DB, what, e)
}

fn from_wire<T: serde::de::DeserializeOwned>(what: &str, s: String) -> Result<T, StoreError> {
    rows::from_wire(DB, what, s)
}

/// Column `name` of `row`, read as part of `what`.
fn col<'r, T>(row: &'r PgRow, name: &str, what: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    rows::col(DB, row, name, what)
}

/// The embedded schema migrations (`sdk/migrations-postgres`).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations-postgres");

/// The `NOTIFY` channel of [`TxEvent`]s.
pub const TX_EVENTS_CHANNEL: &str = "camr_tx_events";

/// Connections per pool.
const MAX_CONNECTIONS: u32 = 8;
/// How long a call waits for a free connection (or a new one) before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest instance id (it travels in every `NOTIFY` payload, which must stay < 8000 bytes).
const MAX_INSTANCE_LEN: usize = 200;

/// A transaction store in a PostgreSQL database (or the schema its URL's `search_path` names).
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// For the listener's own connection (same server, user, database, options).
    options: PgConnectOptions,
    instance: String,
}

impl fmt::Debug for PostgresStore {
    // Not derived: the connect options hold the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("instance", &self.instance)
            .field("pool_size", &self.pool.size())
            .finish_non_exhaustive()
    }
}

fn backend(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| StoreError::Backend(format!("PostgreSQL could not {what}: {e}"))
}

/// A fresh instance id: 16 random lower-case hex digits.
fn random_instance() -> Result<String, StoreError> {
    let mut buf = [0u8; 8];
    crate::crypto::os_random(&mut buf)
        .map_err(|e| StoreError::Backend(format!("cannot make an instance id: {e}")))?;
    Ok(data_encoding::HEXLOWER.encode(&buf))
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:5432/db`, any
    /// libpq-style parameters sqlx knows, e.g. `?sslmode=require` or
    /// `?options[search_path]=camr`) and runs the embedded migrations (several processes may
    /// start at once: sqlx serialises migrations with an advisory lock). The instance id in
    /// this store's [`TxEvent`]s is random; see [`Self::connect_with`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &random_instance()?).await
    }

    /// [`Self::connect`], naming this store handle `instance` in the [`TxEvent`]s of its
    /// changes (e.g. a server's host name and port; 1 to 200 bytes). Give every server instance
    /// its own.
    pub async fn connect_with(url: &str, instance: &str) -> Result<Self, StoreError> {
        if instance.is_empty() || instance.len() > MAX_INSTANCE_LEN {
            return Err(StoreError::Backend(format!(
                "an instance id has 1 to {MAX_INSTANCE_LEN} bytes, not {}",
                instance.len()
            )));
        }
        // The error does not repeat the URL: it may hold a password.
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("the PostgreSQL URL is not valid: {e}")))?
            .application_name("camr");
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(backend("connect to the database"))?;
        MIGRATOR.run(&pool).await.map_err(|e| {
            StoreError::Backend(format!("the PostgreSQL schema could not be migrated: {e}"))
        })?;
        Ok(Self {
            pool,
            options,
            instance: instance.to_string(),
        })
    }

    /// This store's instance id (in the [`TxEvent`]s of its changes).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The connection pool (for reports and tests).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool, waiting for connections in use to be returned; later calls fail.
    /// Event streams have their own connection and are not closed.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Listens for the [`TxEvent`]s of every instance on this database, this one's included,
    /// on a connection of its own. Events committed after this returns are delivered in commit
    /// order.
    pub async fn listen(&self) -> Result<TxEventStream, StoreError> {
        // One connection, kept open; sqlx's listener reconnects through this pool.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(self.options.clone())
            .await
            .map_err(backend("connect for events"))?;
        let mut listener = PgListener::connect_with(&pool)
            .await
            .map_err(backend("connect for events"))?;
        listener.ignore_pool_close_event(true);
        listener
            .listen(TX_EVENTS_CHANNEL)
            .await
            .map_err(backend("listen for events"))?;
        Ok(TxEventStream { listener })
    }

    /// Announces `tid` now being `state`, on commit of the transaction `conn` is in.
    async fn notify(
        &self,
        conn: &mut PgConnection,
        tid: &Tid,
        state: TransactionState,
    ) -> Result<(), StoreError> {
        let payload = to_json(
            "event",
            &TxEvent {
                tid: tid.clone(),
                state,
                instance: self.instance.clone(),
            },
        )?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(TX_EVENTS_CHANNEL)
            .bind(payload)
            .execute(conn)
            .await
            .map_err(backend("announce the change"))?;
        Ok(())
    }

    async fn insert_impl(&self, record: TxRecord) -> Result<(), StoreError> {
        let t = &record.transaction;
        let result = record
            .result
            .as_ref()
            .map(|r| to_json("result", r))
            .transpose()?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO transactions (tid, system_code, operation, state, created_at, \
             expires_at, ca_org_type, message, request, request_hash, secret, result, \
             owner_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
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
        .execute(&mut *tx)
        .await
        .map_err(backend("store the transaction"))?;
        if done.rows_affected() == 0 {
            tx.rollback()
                .await
                .map_err(backend("roll back a refused insert"))?;
            return Err(StoreError::Duplicate(t.tid.to_string()));
        }
        self.notify(&mut tx, &t.tid, t.state).await?;
        tx.commit()
            .await
            .map_err(backend("commit the transaction"))?;
        Ok(())
    }

    async fn get_impl(&self, tid: &Tid) -> Result<Option<TxRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM transactions WHERE tid = $1")
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
        conn: &mut PgConnection,
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
        let result = patch
            .result
            .as_ref()
            .map(|r| to_json("result", r))
            .transpose()?;
        // The compare-and-set: one statement. A writer that changed the row first makes this
        // one wait, then re-check `state` on the row as that writer left it.
        let row = sqlx::query(
            "UPDATE transactions SET state = $1, \
             ca_org_type = COALESCE($2, ca_org_type), \
             message = COALESCE($3, message), \
             result = COALESCE($4, result), \
             secret = CASE WHEN $5 THEN NULL ELSE secret END \
             WHERE tid = $6 AND state = ANY($7) \
             RETURNING *",
        )
        .bind(to.as_str())
        .bind(patch.ca_org_type.as_deref())
        .bind(patch.message.as_deref())
        .bind(result)
        .bind(patch.clear_secret)
        .bind(tid.as_str())
        .bind(allowed)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend("change the transaction state"))?;
        let Some(row) = row else {
            let actual = sqlx::query("SELECT state FROM transactions WHERE tid = $1")
                .bind(tid.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(backend("read the transaction"))?;
            let row = actual.ok_or_else(|| StoreError::NotFound(tid.to_string()))?;
            let actual: String = col(&row, "state", "the transaction state")?;
            return Err(StoreError::WrongState {
                tid: tid.to_string(),
                actual: from_wire("transaction state", actual)?,
                expected: from.to_vec(),
            });
        };
        let record = rows::record_from_row(DB, &row)?;
        self.notify(conn, tid, to).await?;
        Ok(record)
    }

    async fn take_secret_impl(&self, tid: &Tid) -> Result<Option<Vec<u8>>, StoreError> {
        // The row lock (FOR UPDATE) makes a second taker wait and then find NULL.
        let taken: Option<(Option<Vec<u8>>,)> = sqlx::query_as(
            "UPDATE transactions t SET secret = NULL \
             FROM (SELECT tid, secret FROM transactions WHERE tid = $1 FOR UPDATE) old \
             WHERE t.tid = old.tid RETURNING old.secret",
        )
        .bind(tid.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend("take the transaction secret"))?;
        taken
            .map(|(secret,)| secret)
            .ok_or_else(|| StoreError::NotFound(tid.to_string()))
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
        conn: &mut PgConnection,
        record: &UsageRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO usage_records (trading_system_code, trading_system_name, cert_sn, \
             cert_name, cert_type, public_key_algorithm, subject_type, usage_scene, tid, \
             used_at, ca_org_type, operator, revocation_unknown) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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

    /// A transaction.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        self.pool
            .begin()
            .await
            .map_err(backend("begin a transaction"))
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
        conn: &mut PgConnection,
        at: i64,
        tid: Option<&Tid>,
        event: &str,
        detail: &str,
    ) -> Result<AuditEntry, StoreError> {
        // The row lock on the head makes every other append (any process) wait until this
        // one commits, then read the head this one wrote.
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id FOR UPDATE")
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend("lock the audit log"))?
            .ok_or_else(|| {
                StoreError::Backend("the audit log has lost its head row (audit_head)".into())
            })?;
        let last: i64 = col(&head, "seq", "the audit log head")?;
        let prev_hash: String = col(&head, "hash", "the audit log head")?;
        let seq = last.saturating_add(1);
        let seq_u = u64::try_from(seq).map_err(|e| data_error("audit sequence number", e))?;
        let tid = tid.map(|t| t.to_string());
        let hash = audit_hash(&prev_hash, seq_u, at, tid.as_deref(), event, detail);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, tid, event, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id")
            .bind(seq)
            .bind(hash.as_str())
            .execute(&mut *conn)
            .await
            .map_err(backend("move the audit log head"))?;
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

/// The [`TxEvent`]s of every instance on one database ([`PostgresStore::listen`]).
///
/// Events are transient: while the connection is down (it is re-established by the next
/// call) changes are not announced, so after a reconnect ([`Self::try_recv`] returns
/// `Ok(None)`) read again the states you are waiting for. Payloads that are not a
/// [`TxEvent`] (someone else's `NOTIFY` on the channel) are skipped. Receive in a task of its
/// own rather than in a `select!` that may drop an unfinished call.
pub struct TxEventStream {
    listener: PgListener,
}

impl fmt::Debug for TxEventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TxEventStream")
            .field("channel", &TX_EVENTS_CHANNEL)
            .finish_non_exhaustive()
    }
}

impl TxEventStream {
    /// The next event; reconnects silently when the connection was lost (events in between
    /// are missed). Fails only when the database cannot be reached again; calling again
    /// retries.
    pub async fn recv(&mut self) -> Result<TxEvent, StoreError> {
        loop {
            if let Some(event) = self.try_recv().await? {
                return Ok(event);
            }
        }
    }

    /// The next event, or `None` when the connection was lost and has been re-established
    /// (events in between are missed: read the states you wait for again).
    pub async fn try_recv(&mut self) -> Result<Option<TxEvent>, StoreError> {
        loop {
            let Some(notification) = self
                .listener
                .try_recv()
                .await
                .map_err(backend("receive events"))?
            else {
                return Ok(None);
            };
            if notification.channel() != TX_EVENTS_CHANNEL {
                continue;
            }
            if let Ok(event) = serde_json::from_str::<TxEvent>(notification.payload()) {
                return Ok(Some(event));
            }
            // Not ours (or not well-formed): skipped.
        }
    }
}

impl TransactionStore for PostgresStore {
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
                        WHERE state IN ('created', 'scanned') AND expires_at >= $1",
        withdraw: "INSERT INTO delegation_withdrawals (id, withdrawn_at, reason) \
                   VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        withdrawn: "SELECT id FROM delegation_withdrawals WHERE id = $1"
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
