//! The same behaviour from every [`TransactionStore`]; SQLite's tamper detection, races and
//! restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use super::*;
use crate::protocol::{
    Bytes, CertType, Operation, PublicKeyAlgorithm, SubjectType, SystemCode, Transaction,
};

fn system_code() -> SystemCode {
    SystemCode::parse("C1100005553").unwrap()
}

fn record(n: u8) -> TxRecord {
    let tid = Tid::new(&system_code(), [n; 16]);
    TxRecord {
        transaction: Transaction {
            tid,
            system_code: system_code(),
            operation: Operation::Decrypt,
            state: TransactionState::Created,
            created_at: 1_700_000_000,
            expires_at: 1_700_000_600,
            ca_org_type: None,
            message: None,
        },
        request: SignedRequest {
            request: format!("{{\"n\":{n},\"name\":\"模拟测试系统\"}}"),
            key_id: "platform-key-1".into(),
            signature: Bytes(vec![0x30, 0x44, n]),
        },
        request_hash: "ab".repeat(32),
        secret: Some(vec![1, 2, 3, n]),
        result: None,
    }
}

fn usage(tid: &Tid, n: i64) -> UsageRecord {
    UsageRecord {
        trading_system_code: system_code(),
        trading_system_name: "移动数字证书(CA)互认模拟测试系统".into(),
        cert_sn: format!("0{n}ab"),
        cert_name: "张三".into(),
        cert_type: if n % 2 == 0 {
            CertType::OrgCert
        } else {
            CertType::PersonalCert
        },
        public_key_algorithm: PublicKeyAlgorithm::Sm2,
        subject_type: SubjectType::Org,
        usage_scene: Operation::Login,
        tid: tid.clone(),
        used_at: 1_700_000_000 + n,
        ca_org_type: "SOFTCA".into(),
        operator: (n == 2).then(|| "李四".to_string()),
    }
}

/// What every store does, whatever keeps the data.
async fn behaves(store: Arc<dyn TransactionStore>) {
    use TransactionState::*;
    // insert / get
    let a = record(1);
    let tid = a.transaction.tid.clone();
    store.insert(a.clone()).await.unwrap();
    assert_eq!(store.get(&tid).await.unwrap(), Some(a.clone()));
    let other = Tid::new(&system_code(), [9; 16]);
    assert_eq!(store.get(&other).await.unwrap(), None);
    // duplicate refused, the first record kept
    let mut dup = a.clone();
    dup.request_hash = "cd".repeat(32);
    let e = store.insert(dup).await.unwrap_err();
    assert!(matches!(e, StoreError::Duplicate(_)), "{e}");
    assert_eq!(e.code(), ErrorCode::Internal);
    assert_eq!(store.get(&tid).await.unwrap(), Some(a.clone()));

    // compare-and-set
    let r = store
        .transition(&tid, &[Created], Scanned, TxPatch::default())
        .await
        .unwrap();
    assert_eq!(r.transaction.state, Scanned);
    assert_eq!(r.secret, a.secret);
    // wrong from-state: the tid was scanned already
    let e = store
        .transition(&tid, &[Created], Scanned, TxPatch::default())
        .await
        .unwrap_err();
    assert_eq!(
        e,
        StoreError::WrongState {
            tid: tid.to_string(),
            actual: Scanned,
            expected: vec![Created],
        }
    );
    assert_eq!(e.code(), ErrorCode::TxAlreadyAnswered);
    // the right from-state but a transition the state machine forbids (scanned → verified)
    let e = store
        .transition(
            &tid,
            &[Scanned],
            Verified,
            TxPatch {
                result: Some(serde_json::json!({"forged": true})),
                ..TxPatch::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::WrongState {
                actual: Scanned,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.code(), ErrorCode::TxAlreadyAnswered);
    let now = store.get(&tid).await.unwrap().unwrap();
    assert_eq!(now.transaction.state, Scanned);
    assert_eq!(now.result, None, "a refused change changes nothing");
    // unknown tid
    let e = store
        .transition(&other, &[Created], Scanned, TxPatch::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::TxNotFound);
    assert_eq!(
        store.clear_secret(&other).await.unwrap_err().code(),
        ErrorCode::TxNotFound
    );
    // the patch is applied with the change
    store
        .transition(&tid, &[Created, Scanned], Approved, TxPatch::default())
        .await
        .unwrap();
    let result = serde_json::json!({"subject": {"name": "张三"}, "n": 1});
    let r = store
        .transition(
            &tid,
            &[Approved],
            Verified,
            TxPatch {
                ca_org_type: Some("SOFTCA".into()),
                message: Some("好".into()),
                result: Some(result.clone()),
                clear_secret: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(r.transaction.state, Verified);
    assert_eq!(r.transaction.ca_org_type.as_deref(), Some("SOFTCA"));
    assert_eq!(r.transaction.message.as_deref(), Some("好"));
    assert_eq!(r.result, Some(result));
    assert_eq!(r.secret, None);
    assert_eq!(store.get(&tid).await.unwrap(), Some(r.clone()));
    // final: nothing leaves `verified`, not even expiry
    let e = store
        .transition(&tid, &[Verified], Expired, TxPatch::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::TxAlreadyAnswered);

    // cancelled and expired say so
    let b = record(2);
    let tb = b.transaction.tid.clone();
    store.insert(b).await.unwrap();
    store
        .transition(
            &tb,
            &[Created, Scanned],
            Cancelled,
            TxPatch {
                clear_secret: true,
                ..TxPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(store.get(&tb).await.unwrap().unwrap().secret, None);
    let e = store
        .transition(&tb, &[Created, Scanned], Scanned, TxPatch::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::TxCancelled);
    let c = record(3);
    let tc = c.transaction.tid.clone();
    store.insert(c).await.unwrap();
    store
        .transition(
            &tc,
            &[Created, Scanned, Approved],
            Expired,
            TxPatch::default(),
        )
        .await
        .unwrap();
    let e = store
        .transition(&tc, &[Created, Scanned], Scanned, TxPatch::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::TxExpired);
    // clear_secret whatever the state
    let d = record(4);
    let td = d.transaction.tid.clone();
    store.insert(d).await.unwrap();
    store.clear_secret(&td).await.unwrap();
    let d = store.get(&td).await.unwrap().unwrap();
    assert_eq!(d.secret, None);
    assert_eq!(d.transaction.state, Created);

    // usage records, oldest first, every field kept
    assert!(store.usage().await.unwrap().is_empty());
    let written: Vec<UsageRecord> = (1..=3).map(|n| usage(&tid, n)).collect();
    for u in &written {
        store.append_usage(u.clone()).await.unwrap();
    }
    assert_eq!(store.usage().await.unwrap(), written);

    // audit: chained, verified
    assert_eq!(verify_audit(&store.audit().await.unwrap()).unwrap(), 0);
    let e1 = store
        .append_audit(10, Some(&tid), "started", "login")
        .await
        .unwrap();
    let e2 = store
        .append_audit(11, None, "refused", "SIGNATURE_INVALID: 签名无效")
        .await
        .unwrap();
    let e3 = store
        .append_audit(12, Some(&tid), "verified", "")
        .await
        .unwrap();
    assert_eq!((e1.seq, e2.seq, e3.seq), (1, 2, 3));
    assert_eq!(e1.prev_hash, AUDIT_GENESIS);
    assert_eq!(e2.prev_hash, e1.hash);
    assert_eq!(e3.prev_hash, e2.hash);
    let log = store.audit().await.unwrap();
    assert_eq!(log, vec![e1, e2, e3]);
    assert_eq!(verify_audit(&log).unwrap(), 3);
}

#[tokio::test]
async fn the_memory_store_behaves() {
    behaves(Arc::new(MemoryStore::new())).await;
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::path::Path;

    use super::*;
    use crate::store::SqliteStore;

    async fn open(dir: &Path) -> Arc<SqliteStore> {
        Arc::new(SqliteStore::open_path(dir.join("camr.db")).await.unwrap())
    }

    #[tokio::test]
    async fn the_sqlite_store_behaves() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).await;
        behaves(store.clone()).await;
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        store.close().await;
        // Closed: calls fail with a sentence, they do not panic.
        let e = store.audit().await.unwrap_err();
        assert!(matches!(e, StoreError::Backend(_)), "{e}");
        assert!(e.to_string().contains("audit log"), "{e}");
    }

    #[tokio::test]
    async fn the_sqlite_store_behaves_in_memory_and_by_url() {
        behaves(Arc::new(
            SqliteStore::open("sqlite::memory:").await.unwrap(),
        ))
        .await;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("url.db").display());
        behaves(Arc::new(SqliteStore::open(&url).await.unwrap())).await;
        assert!(dir.path().join("url.db").is_file());
    }

    #[tokio::test]
    async fn everything_survives_reopening_and_migrations_run_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).await;
        let a = record(1);
        store.insert(a.clone()).await.unwrap();
        store
            .append_usage(usage(&a.transaction.tid, 2))
            .await
            .unwrap();
        store.append_audit(1, None, "started", "x").await.unwrap();
        store.close().await;
        drop(store);
        let store = open(dir.path()).await;
        assert_eq!(
            store.get(&a.transaction.tid).await.unwrap(),
            Some(a.clone())
        );
        assert_eq!(store.usage().await.unwrap().len(), 1);
        let e = store.append_audit(2, None, "scanned", "").await.unwrap();
        assert_eq!(e.seq, 2);
        assert_eq!(verify_audit(&store.audit().await.unwrap()).unwrap(), 2);
        // Read-only opening for audits: reads, refuses writes.
        let ro = SqliteStore::open_read_only(dir.path().join("camr.db"))
            .await
            .unwrap();
        assert_eq!(ro.audit().await.unwrap().len(), 2);
        let e = ro.append_audit(3, None, "x", "").await.unwrap_err();
        assert!(matches!(e, StoreError::Backend(_)), "{e}");
        let e = SqliteStore::open_read_only(dir.path().join("missing.db"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no database file"), "{e}");
        assert!(!dir.path().join("missing.db").exists());
    }

    async fn chain_of(store: &SqliteStore, n: i64) {
        for i in 1..=n {
            let tid = Tid::new(&system_code(), [i as u8; 16]);
            store
                .append_audit(
                    1_700_000_000 + i,
                    Some(&tid),
                    "started",
                    &format!("entry {i}"),
                )
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn an_edited_audit_row_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).await;
        chain_of(&store, 5).await;
        assert_eq!(verify_audit(&store.audit().await.unwrap()).unwrap(), 5);
        // The table refuses edits ...
        let e = sqlx::query("UPDATE audit_log SET detail = 'edited' WHERE seq = 3")
            .execute(store.pool())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        // ... and when someone with the file removes the guard, the chain names the row.
        sqlx::query("DROP TRIGGER audit_log_no_update")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET detail = 'edited' WHERE seq = 3")
            .execute(store.pool())
            .await
            .unwrap();
        let e = verify_audit(&store.audit().await.unwrap()).unwrap_err();
        assert_eq!(
            e,
            StoreError::AuditBroken {
                seq: 3,
                problem: "was edited (its hash does not match its content)".into()
            }
        );
        assert!(e.to_string().contains("entry 3 was edited"), "{e}");
        assert_eq!(e.code(), ErrorCode::AuditBroken);
        // Recomputing the edited row's hash does not help: the next row names it.
        let log = store.audit().await.unwrap();
        let row = &log[2];
        let forged = audit_hash(
            &row.prev_hash,
            3,
            row.at,
            row.tid.as_deref(),
            &row.event,
            &row.detail,
        );
        sqlx::query("UPDATE audit_log SET hash = ?1 WHERE seq = 3")
            .bind(forged)
            .execute(store.pool())
            .await
            .unwrap();
        let e = verify_audit(&store.audit().await.unwrap()).unwrap_err();
        assert!(matches!(e, StoreError::AuditBroken { seq: 4, .. }), "{e}");
    }

    #[tokio::test]
    async fn a_deleted_audit_row_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).await;
        chain_of(&store, 4).await;
        let e = sqlx::query("DELETE FROM audit_log WHERE seq = 2")
            .execute(store.pool())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        sqlx::query("DROP TRIGGER audit_log_no_delete")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("DELETE FROM audit_log WHERE seq = 2")
            .execute(store.pool())
            .await
            .unwrap();
        let e = verify_audit(&store.audit().await.unwrap()).unwrap_err();
        assert!(matches!(e, StoreError::AuditBroken { seq: 2, .. }), "{e}");
        assert!(e.to_string().contains("entry 2 is missing"), "{e}");
        // Renumbering to hide the gap breaks the chain instead.
        sqlx::query("UPDATE audit_log SET seq = seq - 1 WHERE seq > 2")
            .execute(store.pool())
            .await
            .unwrap_err(); // the update trigger still guards
        sqlx::query("DROP TRIGGER audit_log_no_update")
            .execute(store.pool())
            .await
            .unwrap();
        for seq in [3, 4] {
            sqlx::query("UPDATE audit_log SET seq = ?1 WHERE seq = ?2")
                .bind(seq - 1)
                .bind(seq)
                .execute(store.pool())
                .await
                .unwrap();
        }
        let e = verify_audit(&store.audit().await.unwrap()).unwrap_err();
        assert!(matches!(e, StoreError::AuditBroken { seq: 2, .. }), "{e}");
    }

    /// Writers in parallel, through two pools on one file (as two processes would): one
    /// unbroken chain, and each tid changes state once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parallel_writers_neither_fork_the_chain_nor_answer_twice() {
        let dir = tempfile::tempdir().unwrap();
        let one = open(dir.path()).await;
        let two = open(dir.path()).await;
        let a = record(1);
        let tid = a.transaction.tid.clone();
        one.insert(a).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..40i64 {
            let store = if i % 2 == 0 { one.clone() } else { two.clone() };
            let tid = tid.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .append_audit(i, Some(&tid), "answered", &format!("writer {i}"))
                    .await
                    .unwrap();
                store
                    .transition(
                        &tid,
                        &[TransactionState::Created],
                        TransactionState::Scanned,
                        TxPatch::default(),
                    )
                    .await
                    .is_ok()
            }));
        }
        let mut won = 0;
        for t in tasks {
            if t.await.unwrap() {
                won += 1;
            }
        }
        assert_eq!(won, 1, "exactly one compare-and-set wins");
        assert_eq!(verify_audit(&two.audit().await.unwrap()).unwrap(), 40);
    }

    /// Issue 6 acceptance: a pending transaction survives a process restart and can still be
    /// answered.
    #[tokio::test]
    async fn a_pending_login_survives_a_restart_and_is_answered_after_it() {
        use crate::app::{App, Wallet};
        use crate::ceremony::{Platform, PlatformIdentity, verify_signed_request};
        use crate::crypto::{KeyAlgorithm, PrivateKey, default_provider};
        use crate::pki::{ChainValidator, TrustStore};
        use crate::softca::{Holder, HolderType, SoftCa};

        let p = default_provider();
        let dir = tempfile::tempdir().unwrap();
        let ca = {
            let mut ca = SoftCa::init(
                p.clone(),
                &dir.path().join("ca"),
                KeyAlgorithm::Sm2,
                "Restart CA",
            )
            .unwrap();
            let holder = Holder {
                holder_type: HolderType::Org,
                name: "张三".into(),
                organization: Some("某某建设有限公司".into()),
                uscc: Some("91350100M000100Y43".into()),
                identity_number: None,
            };
            ca.issue(&holder, b"123456", &dir.path().join("w"), 30)
                .unwrap();
            ca
        };
        let platform_key = p.generate_key(KeyAlgorithm::Sm2).unwrap();
        let db = dir.path().join("platform.db");
        let platform = |store: Arc<SqliteStore>, key: PrivateKey| {
            let mut trust = TrustStore::new();
            trust.add(ca.root().clone());
            Platform::new(
                p.clone(),
                PlatformIdentity {
                    system_code: system_code(),
                    system_name: "移动数字证书(CA)互认模拟测试系统".into(),
                    request_uri_prefix: "https://platform.example/camr/v1/request/".into(),
                    response_uri: "https://platform.example/camr/v1/response".into(),
                },
                key,
                None,
                store,
                Arc::new(ChainValidator::new(p.clone(), trust)),
            )
            .unwrap()
        };

        // Process 1: the QR is shown and scanned, then the platform stops.
        let store = Arc::new(SqliteStore::open_path(&db).await.unwrap());
        let first = platform(store.clone(), platform_key.clone());
        let started = first.start_login().await.unwrap();
        let tid = started.transaction.tid.clone();
        let signed = first.request(&tid).await.unwrap();
        drop(first);
        store.close().await;
        drop(store);

        // Process 2: same file, same platform key.
        let store = Arc::new(SqliteStore::open_path(&db).await.unwrap());
        let second = platform(store.clone(), platform_key);
        assert_eq!(
            second.status(&tid).await.unwrap().state,
            TransactionState::Scanned
        );
        // The app fetches the request again: the very same signed object.
        assert_eq!(second.request(&tid).await.unwrap(), signed);
        let request = verify_signed_request(p.as_ref(), &signed, &second.public_key()).unwrap();
        let wallet = Wallet::open(&dir.path().join("w"), b"123456").unwrap();
        let response = App::new(p.clone(), "SOFTCA")
            .approve(&wallet, &signed, &request, &[])
            .unwrap();
        assert_eq!(
            second.answer(&tid, &response).await.unwrap(),
            TransactionState::Verified
        );
        let login = second.finish_login(&tid).await.unwrap();
        assert_eq!(login.subject.name, "张三");
        assert_eq!(login.ca_org_type, "SOFTCA");
        // Answered once only, across the restart too.
        let e = second.answer(&tid, &response).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::TxAlreadyAnswered, "{e}");
        let usage = store.usage().await.unwrap();
        assert_eq!(usage.len(), 1);
        assert_eq!(usage[0].cert_sn, wallet.sign_cert.serial_hex());
        // started, scanned (process 1); verified, refused (process 2): one chain.
        let log = store.audit().await.unwrap();
        assert_eq!(verify_audit(&log).unwrap(), 4);
        let events: Vec<&str> = log.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(events, ["started", "scanned", "verified", "refused"]);
        store.close().await;
    }
}
