//! State observers fed the same way by every store: [`Observed`] wraps a store that does not
//! announce its changes (memory, SQLite) and tells the observer of each change this process
//! committed, right after the commit; PostgreSQL sends `NOTIFY` inside the committing SQL
//! transaction, and [`open`] forwards every instance's notifications to the observer — so a
//! transaction started on instance A and answered on instance B reaches A's observers.

use std::sync::Arc;

use crate::protocol::{Tid, TransactionState, UsageRecord};

use super::{AnswerWrite, AuditEntry, BoxFuture, StoreError, TransactionStore, TxPatch, TxRecord};

/// Follows committed state changes of transactions (status events for a page, webhooks).
pub trait StateObserver: Send + Sync + std::fmt::Debug {
    /// Transaction `tid` is now in `state`; `instance` made the change.
    fn changed(&self, tid: &Tid, state: TransactionState, instance: &str);
}

/// Which kind of store [`open`] opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// In memory: one process, lost on restart (development and tests).
    Memory,
    /// SQLite: one machine (several processes may share the file).
    Sqlite,
    /// PostgreSQL: several instances, status events between them.
    Postgres,
}

impl StoreKind {
    /// `memory`, `sqlite`, `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A store that tells an observer of every committed insert and state change.
#[derive(Debug)]
pub struct Observed {
    inner: Arc<dyn TransactionStore>,
    observer: Arc<dyn StateObserver>,
    instance: String,
}

impl Observed {
    /// Wraps `inner`; changes are announced as made by `instance`.
    pub fn new(
        inner: Arc<dyn TransactionStore>,
        observer: Arc<dyn StateObserver>,
        instance: impl Into<String>,
    ) -> Self {
        Self {
            inner,
            observer,
            instance: instance.into(),
        }
    }
}

/// Opens the store named by `database_url` with `observer` fed every committed change:
/// absent: memory; `sqlite://…` or a file path: SQLite — both wrapped in [`Observed`];
/// `postgres://…` / `postgresql://…`: PostgreSQL, whose `NOTIFY`s (every instance's changes,
/// this one's included) a listener task forwards (needs a tokio runtime).
pub async fn open(
    database_url: Option<&str>,
    instance: &str,
    observer: Arc<dyn StateObserver>,
) -> Result<(Arc<dyn TransactionStore>, StoreKind), StoreError> {
    match database_url {
        None => Ok((
            Arc::new(Observed::new(
                Arc::new(super::MemoryStore::new()),
                observer,
                instance,
            )),
            StoreKind::Memory,
        )),
        #[cfg(feature = "postgres")]
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store = super::PostgresStore::connect_with(url, instance).await?;
            let listener = store.listen().await?;
            tokio::spawn(forward(listener, observer));
            Ok((Arc::new(store), StoreKind::Postgres))
        }
        #[cfg(feature = "sqlite")]
        Some(url) => {
            let store = super::SqliteStore::open(url).await?;
            Ok((
                Arc::new(Observed::new(Arc::new(store), observer, instance)),
                StoreKind::Sqlite,
            ))
        }
        #[cfg(not(feature = "sqlite"))]
        Some(url) => Err(StoreError::Backend(format!(
            "`{}`: this build of camr has no database support",
            redact(url)
        ))),
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

/// Forwards PostgreSQL notifications to the observer for the life of the process. After a
/// lost connection (notifications in between are gone) observers re-read the state on their
/// next re-check.
#[cfg(feature = "postgres")]
async fn forward(mut listener: super::TxEventStream, observer: Arc<dyn StateObserver>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(e)) => observer.changed(&e.tid, e.state, &e.instance),
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

impl TransactionStore for Observed {
    fn insert(&self, record: TxRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let tid = record.transaction.tid.clone();
            let state = record.transaction.state;
            self.inner.insert(record).await?;
            self.observer.changed(&tid, state, &self.instance);
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
            self.observer
                .changed(tid, rec.transaction.state, &self.instance);
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

    fn record_answer<'a>(
        &'a self,
        w: AnswerWrite<'a>,
    ) -> BoxFuture<'a, Result<TxRecord, StoreError>> {
        Box::pin(async move {
            let (tid, via) = (w.tid, w.via);
            let rec = self.inner.record_answer(w).await?;
            if let Some(via) = via {
                self.observer.changed(tid, via, &self.instance);
            }
            self.observer
                .changed(tid, rec.transaction.state, &self.instance);
            Ok(rec)
        })
    }

    fn audit_head(&self) -> BoxFuture<'_, Result<Option<AuditEntry>, StoreError>> {
        self.inner.audit_head()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::Mutex;

    use super::*;
    use crate::store::MemoryStore;

    #[derive(Debug, Default)]
    struct Seen(Mutex<Vec<(String, TransactionState)>>);

    impl StateObserver for Seen {
        fn changed(&self, tid: &Tid, state: TransactionState, _: &str) {
            self.0.lock().unwrap().push((tid.to_string(), state));
        }
    }

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
        let seen = Arc::new(Seen::default());
        let store = Observed::new(Arc::new(MemoryStore::new()), seen.clone(), "me");
        let tid = Tid::new(
            &crate::protocol::SystemCode::parse("C1100005553").unwrap(),
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
        assert!(seen.0.lock().unwrap().is_empty());
    }
}
