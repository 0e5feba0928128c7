//! Checkpoints of the audit chain: a log whose newest entries were deleted, or that was
//! rebuilt with a new chain, is refused against a checkpoint kept elsewhere; a log that only
//! grew is accepted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use super::*;
use crate::crypto::{KeyAlgorithm, default_provider};
use crate::store::{MemoryStore, TransactionStore, audit_hash};

fn code() -> SystemCode {
    SystemCode::parse("C1100005553").unwrap()
}

fn key() -> PrivateKey {
    default_provider().generate_key(KeyAlgorithm::Sm2).unwrap()
}

async fn log_of(n: i64) -> MemoryStore {
    let store = MemoryStore::new();
    for i in 1..=n {
        store
            .append_audit(1_790_000_000 + i, None, "started", &format!("entry {i}"))
            .await
            .unwrap();
    }
    store
}

/// A chain built from scratch over `details`, as someone rewriting the database would.
fn rebuilt(details: &[&str]) -> Vec<AuditEntry> {
    let mut prev = AUDIT_GENESIS.to_string();
    let mut out = Vec::new();
    for (i, d) in details.iter().enumerate() {
        let seq = i as u64 + 1;
        let at = 1_790_000_000 + i as i64 + 1;
        let hash = audit_hash(&prev, seq, at, None, "started", d);
        out.push(AuditEntry {
            seq,
            at,
            tid: None,
            event: "started".into(),
            detail: (*d).to_string(),
            prev_hash: prev.clone(),
            hash: hash.clone(),
        });
        prev = hash;
    }
    out
}

#[tokio::test]
async fn a_checkpoint_accepts_the_log_it_names_and_a_log_that_grew_since() {
    let p = default_provider();
    let k = key();
    let store = log_of(5).await;
    let head = store.audit_head().await.unwrap();
    assert_eq!(head.as_ref().map(|e| e.seq), Some(5));
    let cp = AuditCheckpoint::sign(p.as_ref(), &k, &code(), head.as_ref(), 1_790_000_100).unwrap();
    assert_eq!((cp.seq, cp.format.as_str()), (5, CHECKPOINT_FORMAT));
    // What the second party keeps is JSON; it reads back to the same checkpoint.
    let json = serde_json::to_string_pretty(&cp).unwrap();
    let kept = AuditCheckpoint::from_json(&json).unwrap();
    assert_eq!(kept, cp);
    kept.verify_signature(p.as_ref(), Some(&k.public_key()))
        .unwrap();
    assert_eq!(
        verify_audit_against(&store.audit().await.unwrap(), &kept).unwrap(),
        5
    );
    store
        .append_audit(1_790_000_200, None, "scanned", "")
        .await
        .unwrap();
    assert_eq!(
        verify_audit_against(&store.audit().await.unwrap(), &kept).unwrap(),
        6
    );
}

#[tokio::test]
async fn a_log_whose_newest_entries_were_deleted_is_refused() {
    let p = default_provider();
    let store = log_of(6).await;
    let head = store.audit_head().await.unwrap();
    let cp =
        AuditCheckpoint::sign(p.as_ref(), &key(), &code(), head.as_ref(), 1_790_000_100).unwrap();
    // The chain alone cannot tell: a shorter chain is still a chain.
    store.tamper_audit(|log| log.truncate(4));
    let log = store.audit().await.unwrap();
    assert_eq!(verify_audit(&log).unwrap(), 4);
    let e = verify_audit_against(&log, &cp).unwrap_err();
    assert!(matches!(e, StoreError::AuditBroken { seq: 5, .. }), "{e}");
    assert_eq!(e.code(), ErrorCode::AuditBroken);
    assert!(
        e.to_string().contains("names 6 entries, the log has 4"),
        "{e}"
    );
    // Deleted and then appended to until it is as long again: the chain is broken at 5.
    store.tamper_audit(|log| log.clear());
    let e = verify_audit_against(&[], &cp).unwrap_err();
    assert!(matches!(e, StoreError::AuditBroken { seq: 1, .. }), "{e}");
}

#[tokio::test]
async fn a_log_rebuilt_with_a_new_chain_is_refused() {
    let p = default_provider();
    let honest = rebuilt(&["a", "b", "c", "d"]);
    let cp =
        AuditCheckpoint::sign(p.as_ref(), &key(), &code(), honest.last(), 1_790_000_100).unwrap();
    assert_eq!(verify_audit_against(&honest, &cp).unwrap(), 4);
    // Entry 2 dropped and everything after re-hashed: a valid chain, as long or longer.
    for forged in [
        rebuilt(&["a", "c", "d", "e"]),
        rebuilt(&["a", "c", "d", "e", "f", "g"]),
    ] {
        assert!(verify_audit(&forged).is_ok());
        let e = verify_audit_against(&forged, &cp).unwrap_err();
        assert!(matches!(e, StoreError::AuditBroken { seq: 4, .. }), "{e}");
        assert!(e.to_string().contains("rewritten"), "{e}");
    }
    // Rebuilt shorter: reported as missing entries.
    let e = verify_audit_against(&rebuilt(&["a", "c"]), &cp).unwrap_err();
    assert!(matches!(e, StoreError::AuditBroken { seq: 3, .. }), "{e}");
}

#[tokio::test]
async fn an_empty_logs_checkpoint_accepts_any_intact_log() {
    let p = default_provider();
    let cp = AuditCheckpoint::sign(p.as_ref(), &key(), &code(), None, 1).unwrap();
    assert_eq!((cp.seq, cp.hash.as_str()), (0, AUDIT_GENESIS));
    cp.verify_signature(p.as_ref(), None).unwrap();
    assert_eq!(verify_audit_against(&[], &cp).unwrap(), 0);
    assert_eq!(verify_audit_against(&rebuilt(&["a"]), &cp).unwrap(), 1);
}

#[test]
fn a_forged_or_altered_checkpoint_is_refused() {
    let p = default_provider();
    let k = key();
    let log = rebuilt(&["a", "b", "c"]);
    let cp = AuditCheckpoint::sign(p.as_ref(), &k, &code(), log.last(), 1_790_000_100).unwrap();
    // Moved back to an earlier head to excuse a truncation: the signature no longer holds.
    let mut earlier = cp.clone();
    earlier.seq = 2;
    earlier.hash = log[1].hash.clone();
    let e = earlier.verify_signature(p.as_ref(), None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureInvalid, "{e}");
    // Re-signed by the attacker's own key: valid in itself, refused against the platform key.
    let forged =
        AuditCheckpoint::sign(p.as_ref(), &key(), &code(), log.get(1), 1_790_000_100).unwrap();
    forged.verify_signature(p.as_ref(), None).unwrap();
    let e = forged
        .verify_signature(p.as_ref(), Some(&k.public_key()))
        .unwrap_err();
    assert!(matches!(e, CheckpointError::SignatureInvalid(_)), "{e}");
    // Not a checkpoint at all.
    for bad in [
        "",
        "{}",
        &serde_json::to_string(&AuditCheckpoint {
            format: "v0".into(),
            ..cp.clone()
        })
        .unwrap(),
        &serde_json::to_string(&AuditCheckpoint {
            hash: "AB".repeat(32),
            ..cp.clone()
        })
        .unwrap(),
        &serde_json::to_string(&AuditCheckpoint {
            seq: 0,
            ..cp.clone()
        })
        .unwrap(),
    ] {
        let e = AuditCheckpoint::from_json(bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InputMalformed, "{bad}: {e}");
    }
}

/// SQLite with the append-only triggers dropped, as someone holding the file would: the
/// newest entries deleted, then the whole log rebuilt.
#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_truncation_and_a_rebuilt_chain_are_caught_by_the_checkpoint() {
    use crate::store::SqliteStore;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open_path(dir.path().join("a.db"))
            .await
            .unwrap(),
    );
    assert_eq!(store.audit_head().await.unwrap(), None);
    for i in 1..=5 {
        store
            .append_audit(i, None, "started", &format!("entry {i}"))
            .await
            .unwrap();
    }
    let head = store.audit_head().await.unwrap();
    assert_eq!(head.as_ref(), store.audit().await.unwrap().last());
    let p = default_provider();
    let cp = AuditCheckpoint::sign(p.as_ref(), &key(), &code(), head.as_ref(), 100).unwrap();
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq >= 4")
        .execute(store.pool())
        .await
        .unwrap();
    let log = store.audit().await.unwrap();
    assert_eq!(verify_audit(&log).unwrap(), 3);
    let e = verify_audit_against(&log, &cp).unwrap_err();
    assert!(matches!(e, StoreError::AuditBroken { seq: 4, .. }), "{e}");
    // Everything deleted and appended anew: the store chains a fresh, valid log.
    sqlx::query("DELETE FROM audit_log")
        .execute(store.pool())
        .await
        .unwrap();
    for i in 1..=7 {
        store
            .append_audit(i, None, "started", &format!("other {i}"))
            .await
            .unwrap();
    }
    let log = store.audit().await.unwrap();
    assert_eq!(verify_audit(&log).unwrap(), 7);
    let e = verify_audit_against(&log, &cp).unwrap_err();
    assert!(matches!(e, StoreError::AuditBroken { seq: 5, .. }), "{e}");
    store.close().await;
}
