//! Long work on one transaction (sealing or opening a bid file, 加密/解密投标文件) run by one
//! platform instance at a time, its progress readable by every instance: [`JobBoard`].
//!
//! A job is a versioned record (kind [`JOB`], key: the transaction) in the [`RecordStore`]:
//! claimed with compare-and-set, so two instances never run the same work (and never write the
//! same output file at once); its owner writes its progress and a heartbeat; a claim whose owner
//! stopped beating for [`STALE_SECS`] (the instance was killed) may be taken over; a finished job
//! says how it ended. Nothing about a job lives only in one process's memory.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{RecordStore, StoreError, Versioned};

/// The record kind of a job.
pub const JOB: &str = "file-job";

/// A running job whose heartbeat is older than this, seconds, is taken to be dead.
pub const STALE_SECS: i64 = 30;

/// How long a job's record is kept after it was last written, seconds.
const KEPT_SECS: i64 = 86_400;

/// A job's progress, as any instance reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// Bytes of the file done.
    pub done: u64,
    /// Bytes in all (the plaintext size).
    pub total: u64,
    /// Whether the work ended (its output is ready, or `error` says why not).
    pub finished: bool,
    /// Why it failed: `CODE: sentence`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The instance running (or that ran) it.
    #[serde(default)]
    pub owner: String,
    /// The owner's last heartbeat, unix seconds.
    #[serde(default)]
    pub beat_at: i64,
}

impl Job {
    fn expiry(&self) -> i64 {
        self.beat_at.saturating_add(KEPT_SECS)
    }

    /// Whether another instance may claim the work: it ended, or its owner stopped beating.
    fn free_at(&self, now: i64) -> bool {
        self.finished || now - self.beat_at > STALE_SECS
    }
}

/// The jobs of one platform instance (`owner`) on a shared record store.
#[derive(Debug, Clone)]
pub struct JobBoard {
    records: Arc<dyn RecordStore>,
    owner: String,
}

impl JobBoard {
    /// The board of instance `owner` (any id unique among the instances, e.g. a random one
    /// per process).
    pub fn new(records: Arc<dyn RecordStore>, owner: impl Into<String>) -> Self {
        Self {
            records,
            owner: owner.into(),
        }
    }

    /// Claims the work `key` of `total` bytes at `now`: true when this instance now runs it,
    /// false while another runs it (its heartbeat fresh). A finished or dead job is claimed
    /// afresh.
    pub async fn claim(&self, key: &str, total: u64, now: i64) -> Result<bool, StoreError> {
        let fresh = Job {
            total,
            owner: self.owner.clone(),
            beat_at: now,
            ..Job::default()
        };
        let store = self.records.as_ref();
        match Versioned::create(store, JOB, key, fresh.clone(), fresh.expiry()).await {
            Ok(_) => return Ok(true),
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        let Some(kept) = Versioned::<Job>::load(store, JOB, key).await? else {
            // Purged between the two calls: try once more.
            return Versioned::create(store, JOB, key, fresh.clone(), fresh.expiry())
                .await
                .map(|_| true)
                .or_else(|e| match e {
                    StoreError::Conflict(_) => Ok(false),
                    e => Err(e),
                });
        };
        if !kept.value.free_at(now) {
            return Ok(false);
        }
        // Compare-and-set on the version read: of two instances taking over, one wins.
        let body = super::rows::to_json(JOB, &fresh)?;
        match store
            .save_record(JOB, key, kept.version, &body, fresh.expiry())
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Records `done` bytes and a heartbeat, while this instance owns the job.
    pub async fn progress(&self, key: &str, done: u64, now: i64) -> Result<(), StoreError> {
        self.change(key, |j| {
            j.done = done;
            j.beat_at = now;
        })
        .await
    }

    /// Ends the job: `error` (`CODE: sentence`) when it failed.
    pub async fn finish(
        &self,
        key: &str,
        error: Option<String>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.change(key, |j| {
            j.finished = true;
            j.error = error.clone();
            j.beat_at = now;
            if j.error.is_none() {
                j.done = j.total;
            }
        })
        .await
    }

    /// Job `key` as it stands.
    pub async fn get(&self, key: &str) -> Result<Option<Job>, StoreError> {
        Ok(Versioned::<Job>::load(self.records.as_ref(), JOB, key)
            .await?
            .map(|v| v.value))
    }

    /// Changes job `key` if this instance owns it (a job taken over by another instance is
    /// left to it).
    async fn change(&self, key: &str, f: impl Fn(&mut Job)) -> Result<(), StoreError> {
        let owner = self.owner.as_str();
        Versioned::<Job>::update(self.records.as_ref(), JOB, key, Job::expiry, |j| {
            if j.owner == owner {
                f(j);
            }
            Ok::<_, StoreError>(())
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn one_instance_runs_a_job_others_read_it_and_a_dead_ones_is_taken_over() {
        let store: Arc<dyn RecordStore> = Arc::new(MemoryStore::new());
        let a = JobBoard::new(store.clone(), "a");
        let b = JobBoard::new(store.clone(), "b");
        assert!(a.claim("t1", 100, 1_000).await.unwrap());
        assert!(!b.claim("t1", 100, 1_001).await.unwrap(), "a runs it");
        a.progress("t1", 40, 1_005).await.unwrap();
        let seen = b.get("t1").await.unwrap().unwrap();
        assert_eq!((seen.done, seen.total, seen.finished), (40, 100, false));
        // b cannot write a's job.
        b.finish("t1", Some("X: no".into()), 1_006).await.unwrap();
        assert!(!a.get("t1").await.unwrap().unwrap().finished);
        // a dies: its heartbeat goes stale, b takes over (once).
        let later = 1_005 + STALE_SECS + 1;
        assert!(b.claim("t1", 100, later).await.unwrap());
        assert!(!a.claim("t1", 100, later).await.unwrap());
        // a's late writes change nothing now.
        a.progress("t1", 99, later).await.unwrap();
        assert_eq!(b.get("t1").await.unwrap().unwrap().done, 0);
        b.finish("t1", None, later + 1).await.unwrap();
        let done = a.get("t1").await.unwrap().unwrap();
        assert_eq!((done.done, done.finished, done.error), (100, true, None));
        // A finished job may run again (e.g. after a failure).
        assert!(a.claim("t1", 100, later + 2).await.unwrap());
        assert_eq!(a.get("t2").await.unwrap(), None);
    }
}
