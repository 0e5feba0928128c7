//! `camr audit verify` over a platform's SQLite store (issue 6 acceptance): passes on an
//! untouched log, fails naming the row after one row is edited or deleted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use camr::protocol::{SystemCode, Tid};
use camr::store::{SqliteStore, TransactionStore};
use common::camr;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A store with `n` audit entries, written the way a platform writes them.
fn write_log(db: &Path, n: u8) {
    runtime().block_on(async {
        let store = SqliteStore::open_path(db).await.unwrap();
        let code = SystemCode::parse("C1100005553").unwrap();
        for i in 1..=n {
            let tid = Tid::new(&code, [i; 16]);
            store
                .append_audit(1_790_000_000 + i64::from(i), Some(&tid), "started", "login")
                .await
                .unwrap();
        }
        store.close().await;
    });
}

/// Raw SQL on the file, as someone with access to it could run (the append-only triggers
/// dropped first: the hash chain is what must catch the change).
fn tamper(db: &Path, sql: &[&'static str]) {
    runtime().block_on(async {
        let url = format!("sqlite://{}", db.display());
        let pool = sqlx::sqlite::SqlitePool::connect(&url).await.unwrap();
        for s in sql {
            sqlx::query(*s).execute(&pool).await.unwrap();
        }
        pool.close().await;
    });
}

#[test]
fn an_untouched_log_verifies_and_an_edited_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("platform.db");
    let db_s = db.to_str().unwrap();
    write_log(&db, 5);

    let (code, out, err) = camr(&["audit", "verify", "--db", db_s]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.trim(), "audit log OK: 5 entries");
    assert!(out.is_empty());
    let (code, out, err) = camr(&["--json", "audit", "verify", "--db", db_s]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["entries"], 5);
    assert_eq!(v["lastHash"].as_str().unwrap().len(), 64);

    tamper(
        &db,
        &[
            "DROP TRIGGER audit_log_no_update",
            "UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 3",
        ],
    );
    let (code, _, err) = camr(&["audit", "verify", "--db", db_s]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: AUDIT_BROKEN: audit log entry 3 was edited"),
        "{err}"
    );
}

#[test]
fn a_deleted_row_is_named_and_a_missing_file_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("platform.db");
    let db_s = db.to_str().unwrap();
    write_log(&db, 4);
    tamper(
        &db,
        &[
            "DROP TRIGGER audit_log_no_delete",
            "DELETE FROM audit_log WHERE seq = 2",
        ],
    );
    let (code, _, err) = camr(&["--json", "audit", "verify", "--db", db_s]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with("error: AUDIT_BROKEN: audit log entry 2 is missing"),
        "{err}"
    );

    let missing = dir.path().join("nope.db");
    let (code, _, err) = camr(&["audit", "verify", "--db", missing.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("error: INPUT_MALFORMED: "), "{err}");
    assert!(!missing.exists(), "verifying must not create a database");
}
