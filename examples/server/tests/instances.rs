//! `camr-server` as real processes: several instances over one PostgreSQL database, and
//! crash durability (kill -9) with SQLite and PostgreSQL. The phone is the app simulator's
//! library (`camr::app` + `camr_app_sim::HttpTransport`).
//!
//! PostgreSQL comes from `CAMR_TEST_DATABASE_URL` (CI starts one): set, it must work (else
//! the test fails); unset, the PostgreSQL tests say SKIPPED loudly and return.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use camr::store::{PostgresStore, SqliteStore, TransactionStore, verify_audit};
use common::procs::{
    ADMIN_TOKEN, Device, DropDb, client, postgres_database, spawn, sse_states, start_login,
};
use serde_json::Value;

/// Checks after a crash: every transaction answered `200 verified` is verified, with its
/// login result, on `base`; the audit log of `store` verifies.
fn assert_all_kept(base: &str, answered: &[String], store: &dyn TransactionStore) {
    let c = client();
    for tid in answered {
        let v: Value = c
            .get(format!("{base}/api/v1/transactions/{tid}"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(v["data"]["state"], "verified", "{tid}: {v}");
        let r: Value = c
            .get(format!("{base}/api/v1/transactions/{tid}/result"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(r["data"]["subject"]["name"], "张三", "{tid}: {r}");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let audit = rt.block_on(store.audit()).unwrap();
    let n = verify_audit(&audit).unwrap();
    let verified_entries = audit.iter().filter(|e| e.event == "verified").count();
    assert!(
        verified_entries >= answered.len(),
        "{verified_entries} < {}",
        answered.len()
    );
    eprintln!(
        "{} answered transactions kept; audit log of {n} entries verifies",
        answered.len()
    );
}

/// Runs `n` logins on `bases` (round robin) with `threads` phones, answering on `answer_to`;
/// calls `crash` once `crash_after` answers were confirmed. Returns the tids answered 200.
fn load(
    bases: &[String],
    answer_to: &str,
    data: &Path,
    n: usize,
    threads: usize,
    crash_after: usize,
    crash: impl FnOnce() + Send,
) -> Vec<String> {
    let c = client();
    let started: Vec<(String, String)> = (0..n)
        .map(|i| start_login(&c, &bases[i % bases.len()]))
        .collect();
    let queue = Arc::new(Mutex::new(started));
    let answered = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (queue, answered, tx) = (queue.clone(), answered.clone(), tx.clone());
            let device = Device::new(data);
            s.spawn(move || {
                loop {
                    let Some((tid, qr)) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    // Errors are expected once the instance is killed.
                    if let Ok(v) = device.approve(&qr, answer_to)
                        && v["state"] == "verified"
                    {
                        answered.lock().unwrap().push(tid);
                        let _ = tx.send(());
                    }
                }
            });
        }
        drop(tx);
        for _ in 0..crash_after {
            if rx.recv().is_err() {
                break;
            }
        }
        crash();
    });
    answered.lock().unwrap().clone()
}

#[test]
fn sqlite_keeps_every_answered_login_through_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("camr.db").display());
    let server = Arc::new(Mutex::new(Some(spawn(&data, &db, None))));
    let base = server.lock().unwrap().as_ref().unwrap().base.clone();
    let s2 = server.clone();
    // 200 concurrent logins; the server is killed (SIGKILL) after 60 confirmed answers,
    // while the other phones are mid-request.
    let answered = load(
        std::slice::from_ref(&base),
        &base,
        &data,
        200,
        16,
        60,
        move || {
            drop(s2.lock().unwrap().take());
        },
    );
    assert!(answered.len() >= 60, "{}", answered.len());
    assert!(
        answered.len() < 200,
        "the kill came too late to test anything"
    );
    let again = spawn(&data, &db, None);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = rt.block_on(SqliteStore::open(&db)).unwrap();
    assert_all_kept(&again.base, &answered, &store);
}

#[test]
fn postgres_instances_share_transactions_events_and_survive_kill_9() {
    let Some((admin, url)) = postgres_database() else {
        return;
    };
    let _cleanup = DropDb(admin, url.clone());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let a = spawn(&data, &url, None);
    // B shares the data folder (platform key, CA, QR rotation key) and the public name.
    let b = spawn(&data, &url, Some(&a.base));
    let c = client();

    // Started on A, followed on A's event stream, answered on B.
    let (tid, qr) = start_login(&c, &a.base);
    let r = c
        .get(format!("{}/api/v1/transactions/{tid}/events", a.base))
        .send()
        .unwrap();
    let follower = std::thread::spawn(move || sse_states(r));
    std::thread::sleep(Duration::from_millis(200));
    let device = Device::new(&data);
    let v = device.approve(&qr, &b.base).unwrap();
    assert_eq!(v["state"], "verified", "{v}");
    let states = follower.join().unwrap();
    assert_eq!(
        states.last().map(String::as_str),
        Some("verified"),
        "{states:?}"
    );
    assert_eq!(
        states.first().map(String::as_str),
        Some("created"),
        "{states:?}"
    );

    // Load on both, answers on B, B killed (SIGKILL) mid-load: nothing answered is lost.
    let bases = [a.base.clone(), b.base.clone()];
    let b = Arc::new(Mutex::new(Some(b)));
    let b2 = b.clone();
    let b_base = bases[1].clone();
    let answered = load(&bases, &b_base, &data, 120, 8, 20, move || {
        drop(b2.lock().unwrap().take());
    });
    assert!(
        answered.len() >= 20 && answered.len() < 120,
        "{}",
        answered.len()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = rt.block_on(PostgresStore::connect(&url)).unwrap();
    assert_all_kept(&a.base, &answered, &store);
    rt.block_on(store.close());
}
