//! After a run (and a crash): the store read directly, as `camr audit verify` reads it.
//!
//! An answer's writes are, in order: `scanned → approved`, `approved → verified` (with the
//! result), the usage record, the audit entry; the platform answers the app only after all of
//! them. So a crash may leave a *prefix* of that sequence for an answer the app never heard
//! back about ("torn", reported), but never less than all of it for an answer the app saw
//! `verified` ("lost"), and never anything no prefix can make ("impossible").

use std::collections::{BTreeMap, HashMap, HashSet};

use camr::protocol::{Operation, Tid, TransactionState};
use camr::store::{AuditEntry, TransactionStore, TxRecord, verify_audit};
use serde::Serialize;

use crate::LoadError;
use crate::client::Attempt;
use crate::server::{ServerSpec, Store};

/// What the store holds after the run.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrashCheck {
    /// Transactions the platform handed a tid for.
    pub started: usize,
    /// Answers the app saw `verified`.
    pub seen_verified: usize,
    /// Of those, not `verified` in the store (or gone).
    pub lost: Vec<String>,
    /// Of those, without their usage record.
    pub without_usage: Vec<String>,
    /// Of those, without their `verified` audit entry.
    pub without_audit: Vec<String>,
    /// Starts the platform acknowledged that the store does not hold.
    pub starts_lost: Vec<String>,
    /// `tid: why` for states no prefix of the platform's writes can leave.
    pub impossible: Vec<String>,
    /// `tid: why` for answers cut off between their writes by the crash; the app got no
    /// answer for these.
    pub torn: Vec<String>,
    /// Entries in the audit log.
    pub audit_entries: u64,
    /// `OK`, or the first broken entry.
    pub audit_chain: String,
    /// Transactions per state.
    pub states: BTreeMap<String, usize>,
}

impl CrashCheck {
    /// Nothing lost, nothing impossible, the audit chain whole.
    pub fn holds(&self) -> bool {
        self.lost.is_empty()
            && self.without_usage.is_empty()
            && self.without_audit.is_empty()
            && self.starts_lost.is_empty()
            && self.impossible.is_empty()
            && self.audit_chain == "OK"
    }
}

/// Reads the store `spec`'s server used and checks it against what the clients saw.
pub fn check_store(spec: &ServerSpec, attempts: &[Attempt]) -> Result<CrashCheck, LoadError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(LoadError::io("the async runtime"))?;
    rt.block_on(async {
        match &spec.store {
            Store::Sqlite => {
                let s = camr::store::SqliteStore::open_read_only(spec.data.join("camr.db")).await?;
                let checked = inspect(&s, attempts).await;
                s.close().await;
                checked
            }
            Store::Postgres(url) => {
                let s = camr::store::PostgresStore::connect(url).await?;
                let checked = inspect(&s, attempts).await;
                s.close().await;
                checked
            }
        }
    })
}

async fn inspect(
    store: &dyn TransactionStore,
    attempts: &[Attempt],
) -> Result<CrashCheck, LoadError> {
    let audit = store.audit().await?;
    let usage: HashSet<String> = store
        .usage()
        .await?
        .into_iter()
        .map(|u| u.tid.to_string())
        .collect();
    let audited = |event: &str| -> HashSet<String> {
        audit
            .iter()
            .filter(|e| e.event == event)
            .filter_map(|e| e.tid.clone())
            .collect()
    };
    let verified_audit = audited("verified");
    let mut c = CrashCheck {
        audit_entries: audit.len() as u64,
        audit_chain: match verify_audit(&audit) {
            Ok(_) => "OK".into(),
            Err(e) => e.to_string(),
        },
        ..CrashCheck::default()
    };
    let records = read_all(store, attempts, &audit).await?;
    for a in attempts {
        let Some(tid) = &a.tid else { continue };
        c.started += 1;
        let rec = records.get(tid).and_then(Option::as_ref);
        if rec.is_none() {
            c.starts_lost.push(tid.clone());
        }
        if !a.seen_verified {
            continue;
        }
        c.seen_verified += 1;
        if rec.is_none_or(|r| r.transaction.state != TransactionState::Verified) {
            c.lost.push(tid.clone());
        }
        if !usage.contains(tid) {
            c.without_usage.push(tid.clone());
        }
        if !verified_audit.contains(tid) {
            c.without_audit.push(tid.clone());
        }
    }
    let seen: HashSet<&String> = attempts
        .iter()
        .filter(|a| a.seen_verified)
        .filter_map(|a| a.tid.as_ref())
        .collect();
    for (tid, rec) in &records {
        let Some(rec) = rec else { continue };
        let state = state_name(rec.transaction.state);
        *c.states.entry(state.clone()).or_default() += 1;
        let facts = Facts {
            rec,
            usage: usage.contains(tid),
            audited: verified_audit.contains(tid),
        };
        if let Some(why) = facts.impossible() {
            c.impossible.push(format!("{tid}: {why}"));
        } else if let Some(why) = facts.torn()
            && !seen.contains(tid)
        {
            c.torn.push(format!("{tid}: {why}"));
        }
    }
    Ok(c)
}

/// Every transaction a client started or the audit log names, read once.
async fn read_all(
    store: &dyn TransactionStore,
    attempts: &[Attempt],
    audit: &[AuditEntry],
) -> Result<HashMap<String, Option<TxRecord>>, LoadError> {
    let tids: HashSet<&String> = attempts
        .iter()
        .filter_map(|a| a.tid.as_ref())
        .chain(audit.iter().filter_map(|e| e.tid.as_ref()))
        .collect();
    let mut out = HashMap::with_capacity(tids.len());
    for tid in tids {
        let rec = match Tid::parse(tid) {
            Ok(t) => store.get(&t).await?,
            Err(_) => None,
        };
        out.insert(tid.clone(), rec);
    }
    Ok(out)
}

/// What the store says about one transaction.
struct Facts<'a> {
    rec: &'a TxRecord,
    usage: bool,
    audited: bool,
}

impl Facts<'_> {
    /// A state no prefix of the writes leaves: evidence without a verified state, or a
    /// verified state without its result.
    fn impossible(&self) -> Option<&'static str> {
        let verified = self.rec.transaction.state == TransactionState::Verified;
        match (verified, self.usage, self.audited) {
            (false, true, _) => Some("a usage record, but not verified"),
            (false, _, true) => Some("a `verified` audit entry, but not verified"),
            (true, false, true) if self.counts() => Some("an audit entry but no usage record"),
            (true, _, _) if self.rec.result.is_none() => Some("verified without a result"),
            _ => None,
        }
    }

    /// Whether a verified answer of this operation always has a usage record (a batch
    /// signature whose every item was refused has none).
    fn counts(&self) -> bool {
        matches!(
            self.rec.transaction.operation,
            Operation::Login
                | Operation::MessageSignature
                | Operation::Encrypt
                | Operation::Decrypt
        )
    }

    /// A prefix of an answer's writes (the crash fell between two of them).
    fn torn(&self) -> Option<&'static str> {
        match (self.rec.transaction.state, self.usage, self.audited) {
            (TransactionState::Approved, _, _) => Some("left approved (before verified)"),
            (TransactionState::Verified, false, _) if self.counts() => {
                Some("verified, no usage record yet")
            }
            (TransactionState::Verified, true, false) => Some("verified, no audit entry yet"),
            _ => None,
        }
    }
}

fn state_name(s: TransactionState) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{s:?}"))
}
