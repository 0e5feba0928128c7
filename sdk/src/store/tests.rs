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
        owner_hash: Some(format!("{n:02x}").repeat(32)),
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
        revocation_unknown: false,
    }
}

/// What every store does, whatever keeps the data.
async fn behaves(store: Arc<dyn TransactionStore>) {
    assert_eq!(store.count_pending(0).await.unwrap(), 0);
    // Delegation withdrawals (收回): recorded once, looked up by id.
    let id = "ab".repeat(32);
    assert!(!store.delegation_withdrawn(&id).await.unwrap());
    store
        .withdraw_delegation(&id, 5, "left the company")
        .await
        .unwrap();
    store.withdraw_delegation(&id, 6, "again").await.unwrap();
    assert!(store.delegation_withdrawn(&id).await.unwrap());
    assert!(!store.delegation_withdrawn(&"cd".repeat(32)).await.unwrap());
    use TransactionState::*;
    // insert / get
    let a = record(1);
    let tid = a.transaction.tid.clone();
    store.insert(a.clone()).await.unwrap();
    assert_eq!(store.get(&tid).await.unwrap(), Some(a.clone()));
    // Pending: created and not expired at the time asked.
    assert_eq!(
        store.count_pending(a.transaction.expires_at).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .count_pending(a.transaction.expires_at + 1)
            .await
            .unwrap(),
        0
    );
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
        store.take_secret(&other).await.unwrap_err().code(),
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
    // take_secret whatever the state, once
    let d = record(4);
    let td = d.transaction.tid.clone();
    let secret = d.secret.clone();
    assert!(secret.is_some());
    store.insert(d).await.unwrap();
    assert_eq!(store.take_secret(&td).await.unwrap(), secret);
    assert_eq!(
        store.take_secret(&td).await.unwrap(),
        None,
        "a secret is taken once"
    );
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

#[tokio::test]
async fn the_memory_store_keeps_accounts() {
    accounts::accounts_behave(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn the_memory_store_keeps_the_hall() {
    crate::store::hall::hall_behaves(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn the_memory_store_keeps_versioned_records() {
    crate::store::records::records_behave(Arc::new(MemoryStore::new())).await;
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
    async fn the_sqlite_store_keeps_versioned_records_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).await;
        crate::store::records::records_behave(store.clone()).await;
        store.close().await;
        let store = open(dir.path()).await;
        let kept = crate::store::RecordStore::load_record(store.as_ref(), "seal-session", "t1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((kept.version, kept.body.as_str()), (2, "[1,2]"));
    }

    #[tokio::test]
    async fn the_sqlite_store_keeps_the_hall_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).await;
        crate::store::hall::hall_behaves(store.clone()).await;
        store.close().await;
        let store = open(dir.path()).await;
        let bid = crate::store::HallStore::bid(store.as_ref(), "a1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(bid.sign_ins.len(), 2, "sign-ins survive a restart");
    }

    #[tokio::test]
    async fn the_sqlite_store_keeps_accounts_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).await;
        accounts::accounts_behave(store.clone()).await;
        store.close().await;
        let store = open(dir.path()).await;
        assert_eq!(store.accounts(None).await.unwrap().len(), 2);
        assert_eq!(
            store.accounts(Some(AccountStatus::Active)).await.unwrap()[1].id,
            "A2"
        );
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
        use crate::softca::Holder;

        let p = default_provider();
        let dir = tempfile::tempdir().unwrap();
        let ca = {
            let mut ca = crate::softca::test_ca(dir.path(), "Restart CA");
            let holder = Holder::org("张三", "某某建设有限公司", "91350100M000100Y43");
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
        assert_eq!(second.refused_answers(), 1, "the replay is counted");
        // started, scanned (process 1); verified (process 2): one chain. The replay is
        // counted, not audited (anyone can post answers).
        let log = store.audit().await.unwrap();
        assert_eq!(verify_audit(&log).unwrap(), 3);
        let events: Vec<&str> = log.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(events, ["started", "scanned", "verified"]);
        store.close().await;
    }
}

/// PostgreSQL, from `CAMR_TEST_DATABASE_URL` (e.g. `postgres://postgres@127.0.0.1:55432/postgres`,
/// `.ci/run` starts one): each test makes a database of its own and drops it at the end, so
/// tests run in parallel and see only their own `NOTIFY`s. Without the variable the tests say
/// loudly that they were skipped; with it, a server that cannot be reached fails them.
#[cfg(feature = "postgres")]
mod postgres {
    use std::time::Duration;

    use sqlx::Connection;
    use sqlx::postgres::PgConnection;

    use super::*;
    use crate::store::{PostgresStore, TX_EVENTS_CHANNEL, TxEvent, TxEventStream};

    const ENV: &str = "CAMR_TEST_DATABASE_URL";

    /// A fresh database, dropped (with any connections still open) when this goes.
    struct TestDb {
        admin: String,
        name: String,
        url: String,
    }

    /// `url` with its database (path) replaced by `name`, query kept.
    fn with_database(url: &str, name: &str) -> String {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (url, String::new()),
        };
        let authority_start = base.find("://").map_or(0, |i| i + 3);
        let end = base[authority_start..]
            .find('/')
            .map_or(base.len(), |i| authority_start + i);
        format!("{}/{name}{query}", &base[..end])
    }

    impl TestDb {
        /// `None` (after a loud note) when no PostgreSQL is configured.
        async fn create() -> Option<Self> {
            let Some(admin) = std::env::var(ENV).ok().filter(|v| !v.is_empty()) else {
                eprintln!(
                    "\n*** SKIPPED: {ENV} is not set; a PostgresStore test did NOT run. Start \
                     PostgreSQL (see .ci/run) and set e.g. \
                     {ENV}=postgres://postgres@127.0.0.1:55432/postgres ***\n"
                );
                return None;
            };
            let mut random = [0u8; 8];
            crate::crypto::os_random(&mut random).unwrap();
            let name = format!("camr_test_{}", data_encoding::HEXLOWER.encode(&random));
            let mut conn = PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("{ENV} is set but PostgreSQL cannot be reached: {e}"));
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
            let url = with_database(&admin, &name);
            Some(Self { admin, name, url })
        }

        async fn store(&self, instance: &str) -> Arc<PostgresStore> {
            Arc::new(
                PostgresStore::connect_with(&self.url, instance)
                    .await
                    .unwrap(),
            )
        }
    }

    impl Drop for TestDb {
        fn drop(&mut self) {
            let admin = self.admin.clone();
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            // Drop runs inside the test's runtime: a thread with a runtime of its own.
            let dropped = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    let mut conn = PgConnection::connect(&admin).await.map_err(io)?;
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await
                        .map_err(io)?;
                    conn.close().await.map_err(io)
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
                panic!(
                    "could not drop the test database {}: {dropped:?}",
                    self.name
                );
            }
        }
    }

    fn io(e: sqlx::Error) -> std::io::Error {
        std::io::Error::other(e)
    }

    macro_rules! require_postgres {
        () => {
            match TestDb::create().await {
                Some(db) => db,
                None => return,
            }
        };
    }

    /// The next event, within a few seconds.
    async fn next_event(events: &mut TxEventStream) -> TxEvent {
        tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("no event within 10 s")
            .unwrap()
    }

    #[test]
    fn the_database_name_replaces_the_path() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(
            with_database("postgresql://h:1/", "x"),
            "postgresql://h:1/x"
        );
    }

    #[tokio::test]
    async fn the_postgres_store_behaves() {
        let db = require_postgres!();
        let store = db.store("behaves").await;
        assert_eq!(store.instance(), "behaves");
        assert!(!format!("{store:?}").contains("password"));
        behaves(store.clone()).await;
        store.close().await;
        // Closed: calls fail with a sentence, they do not panic.
        let e = store.audit().await.unwrap_err();
        assert!(matches!(e, StoreError::Backend(_)), "{e}");
        assert!(e.to_string().contains("audit log"), "{e}");
    }

    #[tokio::test]
    async fn the_postgres_store_keeps_versioned_records_for_every_instance() {
        let db = require_postgres!();
        let a = db.store("records-a").await;
        crate::store::records::records_behave(a.clone()).await;
        let b = db.store("records-b").await;
        let kept = crate::store::RecordStore::load_record(b.as_ref(), "seal-session", "t1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((kept.version, kept.body.as_str()), (2, "[1,2]"));
        // Instance b writes over the version a read: a's next write is a conflict.
        b.save_record("seal-session", "t1", 2, "[5]", 900)
            .await
            .unwrap();
        let late = a.save_record("seal-session", "t1", 2, "[6]", 900).await;
        assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    }

    #[tokio::test]
    async fn the_postgres_store_keeps_the_hall_for_every_instance() {
        let db = require_postgres!();
        let a = db.store("hall-a").await;
        crate::store::hall::hall_behaves(a.clone()).await;
        let b = db.store("hall-b").await;
        let bid = crate::store::HallStore::bid(b.as_ref(), "a1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(bid.sign_ins.len(), 2, "another instance sees the sign-ins");
    }

    #[tokio::test]
    async fn the_postgres_store_keeps_accounts_for_every_instance() {
        let db = require_postgres!();
        let a = db.store("accounts-a").await;
        accounts::accounts_behave(a.clone()).await;
        // Another instance on the same database sees the same accounts.
        let b = db.store("accounts-b").await;
        assert_eq!(
            b.accounts(None).await.unwrap(),
            a.accounts(None).await.unwrap()
        );
        a.close().await;
        b.close().await;
    }

    #[tokio::test]
    async fn connecting_refuses_bad_urls_and_instance_ids() {
        let e = PostgresStore::connect_with("postgres://h/db", "")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("instance id"), "{e}");
        let e = PostgresStore::connect_with("postgres://h/db", &"x".repeat(201))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("instance id"), "{e}");
        let e = PostgresStore::connect("mysql://secret@h/db")
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Backend(_)), "{e}");
        // Random instance ids differ.
        let db = require_postgres!();
        let a = PostgresStore::connect(&db.url).await.unwrap();
        let b = PostgresStore::connect(&db.url).await.unwrap();
        assert_eq!(a.instance().len(), 16);
        assert_ne!(a.instance(), b.instance());
    }

    #[tokio::test]
    async fn everything_survives_reconnecting_and_migrations_run_once() {
        let db = require_postgres!();
        let store = db.store("one").await;
        let a = record(1);
        store.insert(a.clone()).await.unwrap();
        store
            .append_usage(usage(&a.transaction.tid, 2))
            .await
            .unwrap();
        store.append_audit(1, None, "started", "x").await.unwrap();
        store.close().await;
        drop(store);
        let store = db.store("two").await;
        assert_eq!(store.get(&a.transaction.tid).await.unwrap(), Some(a));
        assert_eq!(store.usage().await.unwrap().len(), 1);
        let e = store.append_audit(2, None, "scanned", "").await.unwrap();
        assert_eq!(e.seq, 2);
        assert_eq!(verify_audit(&store.audit().await.unwrap()).unwrap(), 2);
        let migrations: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(store.pool())
            .await
            .unwrap();
        // Each migration once, however many times the store connected.
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations-postgres"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
            })
            .count();
        assert_eq!(migrations, i64::try_from(files).unwrap());
        assert_eq!(migrations, 7);
    }

    #[tokio::test]
    async fn the_audit_log_is_append_only_and_a_deleted_tail_is_named() {
        let db = require_postgres!();
        let store = db.store("audit").await;
        for i in 1..=4 {
            store
                .append_audit(i, None, "started", &format!("entry {i}"))
                .await
                .unwrap();
        }
        for sql in [
            "UPDATE audit_log SET detail = 'edited' WHERE seq = 3",
            "DELETE FROM audit_log WHERE seq = 4",
            "TRUNCATE audit_log",
        ] {
            let e = sqlx::query(sql).execute(store.pool()).await.unwrap_err();
            assert!(e.to_string().contains("append-only"), "{sql}: {e}");
        }
        // Someone with the database removes the guard and edits a row: the chain names it.
        sqlx::query("DROP TRIGGER audit_log_no_update ON audit_log")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET detail = 'edited' WHERE seq = 3")
            .execute(store.pool())
            .await
            .unwrap();
        let e = verify_audit(&store.audit().await.unwrap()).unwrap_err();
        assert!(matches!(e, StoreError::AuditBroken { seq: 3, .. }), "{e}");
        sqlx::query("UPDATE audit_log SET detail = 'entry 3' WHERE seq = 3")
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(verify_audit(&store.audit().await.unwrap()).unwrap(), 4);
        // Deleting the newest entry does not rewind the head: the next entry shows the gap.
        sqlx::query("DROP TRIGGER audit_log_no_delete ON audit_log")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("DELETE FROM audit_log WHERE seq = 4")
            .execute(store.pool())
            .await
            .unwrap();
        let next = store.append_audit(5, None, "scanned", "").await.unwrap();
        assert_eq!(next.seq, 5);
        let e = verify_audit(&store.audit().await.unwrap()).unwrap_err();
        assert!(matches!(e, StoreError::AuditBroken { seq: 4, .. }), "{e}");
        assert!(e.to_string().contains("entry 4 is missing"), "{e}");
    }

    /// Many tasks on two pools (as two processes would) race one compare-and-set: one wins,
    /// every other one is told the state the winner left.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_transitions_of_one_tid_have_one_winner() {
        let db = require_postgres!();
        // Two instances starting at once on a fresh database: migrations run once.
        let (one, two) = tokio::join!(db.store("one"), db.store("two"));
        for round in 1..=3u8 {
            let a = record(round);
            let tid = a.transaction.tid.clone();
            one.insert(a).await.unwrap();
            let mut tasks = Vec::new();
            for i in 0..32 {
                let store = if i % 2 == 0 { one.clone() } else { two.clone() };
                let tid = tid.clone();
                tasks.push(tokio::spawn(async move {
                    store
                        .transition(
                            &tid,
                            &[TransactionState::Created],
                            TransactionState::Scanned,
                            TxPatch {
                                message: Some(format!("task {i}")),
                                ..TxPatch::default()
                            },
                        )
                        .await
                }));
            }
            let mut winners = Vec::new();
            for t in tasks {
                match t.await.unwrap() {
                    Ok(r) => winners.push(r),
                    Err(e) => assert_eq!(
                        e,
                        StoreError::WrongState {
                            tid: tid.to_string(),
                            actual: TransactionState::Scanned,
                            expected: vec![TransactionState::Created],
                        }
                    ),
                }
            }
            assert_eq!(winners.len(), 1, "exactly one compare-and-set wins");
            assert_eq!(two.get(&tid).await.unwrap(), Some(winners[0].clone()));
        }
    }

    /// Audit appends from two pools (stand-ins for two server processes) in parallel: one
    /// gapless, unforked chain.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_audit_appends_from_two_pools_keep_one_chain() {
        let db = require_postgres!();
        let one = db.store("one").await;
        let two = db.store("two").await;
        let mut tasks = Vec::new();
        for i in 0..60i64 {
            let store = if i % 2 == 0 { one.clone() } else { two.clone() };
            tasks.push(tokio::spawn(async move {
                let tid = Tid::new(&system_code(), [i as u8; 16]);
                store
                    .append_audit(i, Some(&tid), "answered", &format!("writer {i}"))
                    .await
                    .unwrap()
                    .seq
            }));
        }
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap());
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=60).collect::<Vec<u64>>());
        let log = one.audit().await.unwrap();
        assert_eq!(verify_audit(&log).unwrap(), 60);
        assert_eq!(log, two.audit().await.unwrap());
    }

    /// A listener on pool B hears what pool A commits, with A's instance id, and nothing of
    /// what was refused or rolled back; foreign payloads on the channel are skipped.
    #[tokio::test]
    async fn a_listener_on_one_pool_hears_the_changes_of_another() {
        let db = require_postgres!();
        let a = db.store("server-a:8080").await;
        let b = db.store("server-b:8080").await;
        let mut events = b.listen().await.unwrap();

        let rec = record(1);
        let tid = rec.transaction.tid.clone();
        a.insert(rec.clone()).await.unwrap();
        assert_eq!(
            next_event(&mut events).await,
            TxEvent {
                tid: tid.clone(),
                state: TransactionState::Created,
                instance: "server-a:8080".into(),
            }
        );
        // Refused: a duplicate insert, a wrong from-state, a forbidden transition. Then a
        // foreign NOTIFY, a malformed one, and a rolled-back one.
        a.insert(rec).await.unwrap_err();
        a.transition(
            &tid,
            &[TransactionState::Scanned],
            TransactionState::Approved,
            TxPatch::default(),
        )
        .await
        .unwrap_err();
        a.transition(
            &tid,
            &[TransactionState::Created],
            TransactionState::Verified,
            TxPatch::default(),
        )
        .await
        .unwrap_err();
        for payload in [
            "not json",
            r#"{"tid":"bad","state":"scanned","instance":"x"}"#,
            r#"{"hello":"world"}"#,
        ] {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(TX_EVENTS_CHANNEL)
                .bind(payload)
                .execute(a.pool())
                .await
                .unwrap();
        }
        {
            let mut tx = a.pool().begin().await.unwrap();
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(TX_EVENTS_CHANNEL)
                .bind(
                    serde_json::to_string(&TxEvent {
                        tid: tid.clone(),
                        state: TransactionState::Cancelled,
                        instance: "rolled back".into(),
                    })
                    .unwrap(),
                )
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.rollback().await.unwrap();
        }
        // The next event is the next committed change: A's, then B's own.
        a.transition(
            &tid,
            &[TransactionState::Created],
            TransactionState::Scanned,
            TxPatch::default(),
        )
        .await
        .unwrap();
        b.transition(
            &tid,
            &[TransactionState::Scanned],
            TransactionState::Approved,
            TxPatch::default(),
        )
        .await
        .unwrap();
        let heard = [next_event(&mut events).await, next_event(&mut events).await];
        assert_eq!(
            heard,
            [
                TxEvent {
                    tid: tid.clone(),
                    state: TransactionState::Scanned,
                    instance: "server-a:8080".into(),
                },
                TxEvent {
                    tid: tid.clone(),
                    state: TransactionState::Approved,
                    instance: "server-b:8080".into(),
                },
            ]
        );
        // The payload is plain JSON with the wire names, for listeners in other languages.
        let payload = serde_json::to_value(&heard[0]).unwrap();
        assert_eq!(
            payload,
            serde_json::json!({"tid": tid.as_str(), "state": "scanned", "instance": "server-a:8080"})
        );
        // clear_secret, usage and audit are not state changes: no event. The listener survives
        // the store's pool closing (it has its own connection).
        a.take_secret(&tid).await.unwrap();
        a.append_audit(1, Some(&tid), "scanned", "").await.unwrap();
        b.close().await;
        a.transition(
            &tid,
            &[TransactionState::Approved],
            TransactionState::Verified,
            TxPatch::default(),
        )
        .await
        .unwrap();
        let e = next_event(&mut events).await;
        assert_eq!(e.state, TransactionState::Verified);
        assert_eq!(e.instance, "server-a:8080");
        // A second listener hears the same.
        let mut more = a.listen().await.unwrap();
        let c = record(2);
        a.insert(c.clone()).await.unwrap();
        assert_eq!(next_event(&mut more).await.tid, c.transaction.tid);
        assert_eq!(next_event(&mut events).await.tid, c.transaction.tid);
    }

    /// The listener comes back after its connection is killed (`try_recv` says so once) and
    /// hears the changes made after that.
    #[tokio::test]
    async fn a_listener_reconnects_after_its_connection_is_killed() {
        let db = require_postgres!();
        let a = db.store("a").await;
        let mut events = a.listen().await.unwrap();
        let killed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND query ILIKE 'LISTEN%') t",
        )
        .fetch_one(a.pool())
        .await
        .unwrap();
        assert_eq!(killed, 1);
        let lost = tokio::time::timeout(Duration::from_secs(10), events.try_recv())
            .await
            .expect("the listener did not notice")
            .unwrap();
        assert_eq!(lost, None, "a lost connection is reported");
        let rec = record(3);
        a.insert(rec.clone()).await.unwrap();
        assert_eq!(next_event(&mut events).await.tid, rec.transaction.tid);
    }
}
