//! Versioned records of multi-step state (seal sessions, registrations, callback records, an
//! outbox): [`RecordStore`]. A record is a JSON body under a kind and a key, with a version
//! that every write checks and bumps (compare-and-set), so two server instances never
//! overwrite each other's step; [`Versioned::update`] reads, changes and writes a typed
//! record, retrying when another instance wrote first. Every store keeps them
//! ([`super::MemoryStore`], `SqliteStore`, `PostgresStore`, migration `0006_records.sql`):
//! a restart loses nothing, and every instance on one database continues another's session.

use std::collections::HashMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{BoxFuture, MemoryStore, StoreError};

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// Bumped by every write, from 1.
    pub version: i64,
    /// The body (JSON).
    pub body: String,
    /// When it may be purged, Unix seconds.
    pub expires_at: i64,
}

/// Versioned records, per kind and key.
pub trait RecordStore: Send + Sync + std::fmt::Debug {
    /// The record `key` of `kind`.
    fn load_record<'a>(
        &'a self,
        kind: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredRecord>, StoreError>>;

    /// Writes `body` if the stored version is `expected` (0: the record must not exist yet)
    /// and returns the new version; [`StoreError::Conflict`] when another writer came first.
    fn save_record<'a>(
        &'a self,
        kind: &'a str,
        key: &'a str,
        expected: i64,
        body: &'a str,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<i64, StoreError>>;

    /// Keys of the records of `kind`, oldest first, at most `limit`.
    fn record_keys<'a>(
        &'a self,
        kind: &'a str,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<String>, StoreError>>;

    /// Deletes every record whose expiry is before `now`; returns how many.
    fn purge_records(&self, now: i64) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// How often [`Versioned::update`] re-reads and retries after a conflict.
const RETRIES: usize = 8;

/// A typed record: the value and the version it was read at.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// The version read (0: not stored yet).
    pub version: i64,
}

impl<T: Serialize + DeserializeOwned> Versioned<T> {
    /// Reads record `key` of `kind`.
    pub async fn load(
        store: &dyn RecordStore,
        kind: &str,
        key: &str,
    ) -> Result<Option<Self>, StoreError> {
        match store.load_record(kind, key).await? {
            None => Ok(None),
            Some(r) => Ok(Some(Self {
                value: serde_json::from_str(&r.body).map_err(|e| {
                    StoreError::Backend(format!("the {kind} record {key} is unreadable: {e}"))
                })?,
                version: r.version,
            })),
        }
    }

    /// Stores a new record; [`StoreError::Conflict`] if the key is taken.
    pub async fn create(
        store: &dyn RecordStore,
        kind: &str,
        key: &str,
        value: T,
        expires_at: i64,
    ) -> Result<Self, StoreError> {
        let body = super::rows::to_json(kind, &value)?;
        let version = store.save_record(kind, key, 0, &body, expires_at).await?;
        Ok(Self { value, version })
    }

    /// Reads record `key`, applies `change` and writes it back with compare-and-set,
    /// re-reading and re-applying when another writer came first. `change` returns what the
    /// caller wants back, or an error that leaves the record as it was. `None` when there is
    /// no such record.
    pub async fn update<R, E: From<StoreError>>(
        store: &dyn RecordStore,
        kind: &str,
        key: &str,
        expires_at: impl Fn(&T) -> i64,
        mut change: impl FnMut(&mut T) -> Result<R, E>,
    ) -> Result<Option<(T, R)>, E> {
        for _ in 0..RETRIES {
            let Some(mut current) = Self::load(store, kind, key).await? else {
                return Ok(None);
            };
            let out = change(&mut current.value)?;
            let body = super::rows::to_json(kind, &current.value)?;
            let expiry = expires_at(&current.value);
            match store
                .save_record(kind, key, current.version, &body, expiry)
                .await
            {
                Ok(_) => return Ok(Some((current.value, out))),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(format!("the {kind} record {key}")).into())
    }
}

/// The memory store's records: (kind, key) → record, with an insertion counter for order.
#[derive(Debug, Default)]
pub(super) struct MemoryRecords {
    map: HashMap<(String, String), (u64, StoredRecord)>,
    next: u64,
}

impl RecordStore for MemoryStore {
    fn load_record<'a>(
        &'a self,
        kind: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredRecord>, StoreError>> {
        let r = self.with(|s| {
            Ok(s.records
                .map
                .get(&(kind.to_string(), key.to_string()))
                .map(|(_, r)| r.clone()))
        });
        Box::pin(async move { r })
    }

    fn save_record<'a>(
        &'a self,
        kind: &'a str,
        key: &'a str,
        expected: i64,
        body: &'a str,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<i64, StoreError>> {
        let r = self.with(|s| {
            let id = (kind.to_string(), key.to_string());
            let found = s.records.map.get(&id).map_or(0, |(_, r)| r.version);
            if found != expected {
                return Err(StoreError::Conflict(format!("the {kind} record {key}")));
            }
            let order = match s.records.map.get(&id) {
                Some((order, _)) => *order,
                None => {
                    s.records.next += 1;
                    s.records.next
                }
            };
            let record = StoredRecord {
                version: expected + 1,
                body: body.to_string(),
                expires_at,
            };
            s.records.map.insert(id, (order, record));
            Ok(expected + 1)
        });
        Box::pin(async move { r })
    }

    fn record_keys<'a>(
        &'a self,
        kind: &'a str,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        let r = self.with(|s| {
            let mut keys: Vec<(u64, String)> = s
                .records
                .map
                .iter()
                .filter(|((k, _), _)| k == kind)
                .map(|((_, key), (order, _))| (*order, key.clone()))
                .collect();
            keys.sort();
            Ok(keys
                .into_iter()
                .take(limit as usize)
                .map(|(_, k)| k)
                .collect())
        });
        Box::pin(async move { r })
    }

    fn purge_records(&self, now: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let r = self.with(|s| {
            let before = s.records.map.len();
            s.records.map.retain(|_, (_, r)| r.expires_at >= now);
            Ok((before - s.records.map.len()) as u64)
        });
        Box::pin(async move { r })
    }
}

/// The SQL stores' records: the same statements with the database's placeholders.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! sql_record_store {
    ($store:ty, $db:literal, load: $load:literal, insert: $insert:literal,
     update: $update:literal, keys: $keys:literal, purge: $purge:literal) => {
        impl RecordStore for $store {
            fn load_record<'a>(
                &'a self,
                kind: &'a str,
                key: &'a str,
            ) -> BoxFuture<'a, Result<Option<StoredRecord>, StoreError>> {
                Box::pin(async move {
                    let row: Option<(i64, String, i64)> = sqlx::query_as($load)
                        .bind(kind)
                        .bind(key)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(|e| {
                            StoreError::Backend(format!("{} could not read a record: {e}", $db))
                        })?;
                    Ok(row.map(|(version, body, expires_at)| StoredRecord {
                        version,
                        body,
                        expires_at,
                    }))
                })
            }

            fn save_record<'a>(
                &'a self,
                kind: &'a str,
                key: &'a str,
                expected: i64,
                body: &'a str,
                expires_at: i64,
            ) -> BoxFuture<'a, Result<i64, StoreError>> {
                Box::pin(async move {
                    let query = if expected == 0 {
                        sqlx::query($insert)
                    } else {
                        sqlx::query($update)
                    };
                    let done = query
                        .bind(kind)
                        .bind(key)
                        .bind(expected)
                        .bind(body)
                        .bind(expires_at)
                        .execute(self.pool())
                        .await
                        .map_err(|e| {
                            StoreError::Backend(format!("{} could not write a record: {e}", $db))
                        })?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::Conflict(format!("the {kind} record {key}")));
                    }
                    Ok(expected + 1)
                })
            }

            fn record_keys<'a>(
                &'a self,
                kind: &'a str,
                limit: u32,
            ) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
                Box::pin(async move {
                    let rows: Vec<(String,)> = sqlx::query_as($keys)
                        .bind(kind)
                        .bind(i64::from(limit))
                        .fetch_all(self.pool())
                        .await
                        .map_err(|e| {
                            StoreError::Backend(format!("{} could not list records: {e}", $db))
                        })?;
                    Ok(rows.into_iter().map(|(k,)| k).collect())
                })
            }

            fn purge_records(&self, now: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
                Box::pin(async move {
                    let done = sqlx::query($purge)
                        .bind(now)
                        .execute(self.pool())
                        .await
                        .map_err(|e| {
                            StoreError::Backend(format!("{} could not purge records: {e}", $db))
                        })?;
                    Ok(done.rows_affected())
                })
            }
        }
    };
}

// The insert binds `expected` (0) only to keep one bind order for both statements.
#[cfg(feature = "sqlite")]
sql_record_store!(
    super::SqliteStore,
    "SQLite",
    load: "SELECT version, body, expires_at FROM records WHERE kind = ?1 AND key = ?2",
    insert: "INSERT INTO records (kind, key, version, body, expires_at) \
             VALUES (?1, ?2, ?3 + 1, ?4, ?5) ON CONFLICT DO NOTHING",
    update: "UPDATE records SET version = ?3 + 1, body = ?4, expires_at = ?5 \
             WHERE kind = ?1 AND key = ?2 AND version = ?3",
    keys: "SELECT key FROM records WHERE kind = ?1 ORDER BY seq LIMIT ?2",
    purge: "DELETE FROM records WHERE expires_at < ?1"
);

#[cfg(feature = "postgres")]
sql_record_store!(
    super::PostgresStore,
    "PostgreSQL",
    load: "SELECT version, body, expires_at FROM records WHERE kind = $1 AND key = $2",
    insert: "INSERT INTO records (kind, key, version, body, expires_at) \
             VALUES ($1, $2, $3 + 1, $4, $5) ON CONFLICT DO NOTHING",
    update: "UPDATE records SET version = $3 + 1, body = $4, expires_at = $5 \
             WHERE kind = $1 AND key = $2 AND version = $3",
    keys: "SELECT key FROM records WHERE kind = $1 ORDER BY seq LIMIT $2",
    purge: "DELETE FROM records WHERE expires_at < $1"
);

/// What every store must do with records (run by the stores' tests).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(super) async fn records_behave(store: std::sync::Arc<dyn RecordStore>) {
    let s = store.as_ref();
    assert_eq!(s.load_record("seal-session", "t1").await.unwrap(), None);
    let made = Versioned::create(s, "seal-session", "t1", vec![1u32], 100)
        .await
        .unwrap();
    assert_eq!(made.version, 1);
    // A second create of the same key is a conflict, and changes nothing.
    let again = Versioned::create(s, "seal-session", "t1", vec![9u32], 100).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    // A stale version is refused.
    let stale = s.save_record("seal-session", "t1", 7, "[7]", 100).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let (value, pushed) = Versioned::<Vec<u32>>::update(
        s,
        "seal-session",
        "t1",
        |_| 200,
        |v| {
            v.push(2);
            Ok::<_, StoreError>(v.len())
        },
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!((value, pushed), (vec![1, 2], 2));
    let read = Versioned::<Vec<u32>>::load(s, "seal-session", "t1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((read.value, read.version), (vec![1, 2], 2));
    // A failed change writes nothing.
    let failed = Versioned::<Vec<u32>>::update(
        s,
        "seal-session",
        "t1",
        |_| 200,
        |_| Err::<(), _>(StoreError::Backend("no".into())),
    )
    .await;
    assert!(failed.is_err());
    assert_eq!(
        s.load_record("seal-session", "t1")
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    // Kinds are apart; keys come oldest first; purging drops the expired only.
    Versioned::create(s, "seal-session", "t2", vec![3u32], 50)
        .await
        .unwrap();
    Versioned::create(s, "outbox", "t1", vec![4u32], 50)
        .await
        .unwrap();
    assert_eq!(
        s.record_keys("seal-session", 10).await.unwrap(),
        vec!["t1", "t2"]
    );
    assert_eq!(s.record_keys("seal-session", 1).await.unwrap(), vec!["t1"]);
    assert_eq!(s.purge_records(150).await.unwrap(), 2);
    assert_eq!(s.record_keys("seal-session", 10).await.unwrap(), vec!["t1"]);
    assert!(s.load_record("outbox", "t1").await.unwrap().is_none());
    let none = Versioned::<Vec<u32>>::update(
        s,
        "seal-session",
        "nope",
        |_| 0,
        |_| Ok::<_, StoreError>(()),
    )
    .await
    .unwrap();
    assert!(none.is_none());
}
