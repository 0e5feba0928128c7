//! Status events: every committed state change of a transaction, for the SSE stream
//! (`GET /api/v1/transactions/{tid}/events`) and webhook delivery.
//!
//! One [`EventBus`] per process (a tokio broadcast channel). Where the events come from
//! depends on the store:
//! - memory and SQLite: [`AnnouncingStore`] wraps the store and publishes each change this
//!   process committed, right after the commit;
//! - PostgreSQL: the store itself sends `NOTIFY` inside the committing SQL transaction, and a
//!   listener task forwards every instance's notifications to the bus — so a transaction
//!   started on instance A and answered on instance B completes A's SSE stream.
//!
//! Each event names the instance that made the change ([`Event::instance`]); webhooks are
//! delivered only by the instance that made it, so several instances do not deliver twice.

use std::sync::Arc;

use camr::protocol::{Tid, TransactionState, UsageRecord};
use camr::store::{AuditEntry, BoxFuture, StoreError, TransactionStore, TxPatch, TxRecord};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Events kept for slow subscribers before they start missing some (they then re-read the
/// state from the store, so a miss delays an SSE update but never loses the outcome).
const CAPACITY: usize = 1024;

/// One committed state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The transaction.
    pub tid: String,
    /// Its state after the change.
    pub state: TransactionState,
    /// The server instance that committed the change.
    pub instance: String,
}

/// The process-wide broadcast of [`Event`]s.
#[derive(Debug)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
    instance: String,
}

impl EventBus {
    /// A bus for the server instance `instance`.
    pub fn new(instance: impl Into<String>) -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self {
            sender,
            instance: instance.into(),
        }
    }

    /// This instance's id.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Publishes an event (no subscriber is fine).
    pub fn publish(&self, event: Event) {
        let _ = self.sender.send(event);
    }

    /// Publishes a change this instance committed.
    pub fn publish_local(&self, tid: &Tid, state: TransactionState) {
        self.publish(Event {
            tid: tid.to_string(),
            state,
            instance: self.instance.clone(),
        });
    }

    /// A new subscription (sees events published from now on).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

/// A random instance id (16 hex digits).
pub fn new_instance_id() -> String {
    let mut b = [0u8; 8];
    if camr::crypto::default_provider()
        .fill_random(&mut b)
        .is_err()
    {
        // Only used to tell instances apart; the process id is a fine fallback.
        return format!("pid{}", std::process::id());
    }
    data_encoding::HEXLOWER.encode(&b)
}

/// A store that publishes every committed insert and state change on an [`EventBus`]
/// (for stores that do not announce changes themselves).
#[derive(Debug)]
pub struct AnnouncingStore {
    inner: Arc<dyn TransactionStore>,
    bus: Arc<EventBus>,
}

impl AnnouncingStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn TransactionStore>, bus: Arc<EventBus>) -> Self {
        Self { inner, bus }
    }
}

impl TransactionStore for AnnouncingStore {
    fn insert(&self, record: TxRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let tid = record.transaction.tid.clone();
            let state = record.transaction.state;
            self.inner.insert(record).await?;
            self.bus.publish_local(&tid, state);
            Ok(())
        })
    }

    fn get<'a>(&'a self, tid: &'a Tid) -> BoxFuture<'a, Result<Option<TxRecord>, StoreError>> {
        self.inner.get(tid)
    }

    fn transition<'a>(
        &'a self,
        tid: &'a Tid,
        from: &'a [TransactionState],
        to: TransactionState,
        patch: TxPatch,
    ) -> BoxFuture<'a, Result<TxRecord, StoreError>> {
        Box::pin(async move {
            let rec = self.inner.transition(tid, from, to, patch).await?;
            self.bus.publish_local(tid, rec.transaction.state);
            Ok(rec)
        })
    }

    fn take_secret<'a>(
        &'a self,
        tid: &'a Tid,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        self.inner.take_secret(tid)
    }

    fn withdraw_delegation<'a>(
        &'a self,
        id: &'a str,
        at: i64,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.inner.withdraw_delegation(id, at, reason)
    }

    fn delegation_withdrawn<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.inner.delegation_withdrawn(id)
    }

    fn count_pending(&self, now: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        self.inner.count_pending(now)
    }

    fn audit_head(&self) -> BoxFuture<'_, Result<Option<AuditEntry>, StoreError>> {
        self.inner.audit_head()
    }

    fn append_usage(&self, record: UsageRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        self.inner.append_usage(record)
    }

    fn usage(&self) -> BoxFuture<'_, Result<Vec<UsageRecord>, StoreError>> {
        self.inner.usage()
    }

    fn append_audit<'a>(
        &'a self,
        at: i64,
        tid: Option<&'a Tid>,
        event: &'a str,
        detail: &'a str,
    ) -> BoxFuture<'a, Result<AuditEntry, StoreError>> {
        self.inner.append_audit(at, tid, event, detail)
    }

    fn audit(&self) -> BoxFuture<'_, Result<Vec<AuditEntry>, StoreError>> {
        self.inner.audit()
    }
}

/// Opens the store named by `database_url` and connects it to `bus`:
/// - absent: memory; `sqlite://...` or a file path: SQLite — both wrapped in an
///   [`AnnouncingStore`] (this process announces its own changes);
/// - `postgres://...` / `postgresql://...`: PostgreSQL, whose `NOTIFY`s (every instance's
///   changes, ours included) a listener task forwards to the bus.
///
/// Returns the store and its kind (`memory`, `sqlite`, `postgres`).
pub async fn open_store(
    database_url: Option<&str>,
    bus: &Arc<EventBus>,
) -> Result<(Arc<dyn TransactionStore>, &'static str), crate::ServerError> {
    let fail = |url: &str, e: StoreError| {
        crate::ServerError(format!("cannot open the database `{}`: {e}", redact(url)))
    };
    match database_url {
        None => Ok((
            Arc::new(AnnouncingStore::new(
                Arc::new(camr::store::MemoryStore::new()),
                bus.clone(),
            )),
            "memory",
        )),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store = camr::store::PostgresStore::connect_with(url, bus.instance())
                .await
                .map_err(|e| fail(url, e))?;
            let listener = store.listen().await.map_err(|e| fail(url, e))?;
            tokio::spawn(forward(listener, bus.clone()));
            Ok((Arc::new(store), "postgres"))
        }
        Some(url) => {
            let store = camr::store::SqliteStore::open(url)
                .await
                .map_err(|e| fail(url, e))?;
            Ok((
                Arc::new(AnnouncingStore::new(Arc::new(store), bus.clone())),
                "sqlite",
            ))
        }
    }
}

/// A database URL with its password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Forwards PostgreSQL notifications to the bus for the life of the process. After a lost
/// connection (notifications in between are gone) subscribers re-read the state on their
/// next re-check ([`crate::sse::RECHECK`]).
async fn forward(mut listener: camr::store::TxEventStream, bus: Arc<EventBus>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(e)) => bus.publish(Event {
                tid: e.tid.to_string(),
                state: e.state,
                instance: e.instance,
            }),
            Ok(None) => {
                tracing::warn!("status listener reconnected; events in between were missed")
            }
            Err(e) => {
                tracing::error!(error = %e, "status listener lost the database; retrying in 1 s");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use camr::store::MemoryStore;

    #[test]
    fn passwords_are_redacted_from_database_urls() {
        assert_eq!(
            redact("postgres://camr:s3cret@db:5432/camr"),
            "postgres://camr:***@db:5432/camr"
        );
        assert_eq!(redact("postgres://camr@db/camr"), "postgres://camr@db/camr");
        assert_eq!(redact("sqlite://data/camr.db"), "sqlite://data/camr.db");
    }

    #[tokio::test]
    async fn a_failed_change_is_not_announced() {
        let bus = Arc::new(EventBus::new("me"));
        let store = AnnouncingStore::new(Arc::new(MemoryStore::new()), bus.clone());
        let mut rx = bus.subscribe();
        let tid = Tid::new(
            &camr::protocol::SystemCode::parse("C1100005553").unwrap(),
            [7; 16],
        );
        let err = store
            .transition(
                &tid,
                &[TransactionState::Created],
                TransactionState::Scanned,
                TxPatch::default(),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)));
        assert!(matches!(
            rx.try_recv(),
            Err(broadcast::error::TryRecvError::Empty)
        ));
    }
}
