//! `camr-server` as real processes: several instances over one PostgreSQL database, and
//! crash durability (kill -9) with SQLite and PostgreSQL. The phone is the app simulator's
//! library (`camr::app` + `camr_app_sim::HttpTransport`).
//!
//! PostgreSQL comes from `CAMR_TEST_DATABASE_URL` (CI starts one): set, it must work (else
//! the test fails); unset, the PostgreSQL tests say SKIPPED loudly and return.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use camr::app::{App, AppError, Transport, Wallet};
use camr::crypto::{PublicKey, default_provider};
use camr::store::{PostgresStore, SqliteStore, TransactionStore, verify_audit};
use serde_json::{Value, json};

/// A server process, killed (SIGKILL) when dropped.
struct Instance {
    child: Child,
    base: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The operator's token of the test servers: the checks after a crash read every
/// transaction, whoever started it.
const ADMIN_TOKEN: &str = "instances-test-admin-token-0123456789";

fn client() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Starts `camr-server` on a free port with `data` and `database_url`; `public` is the URL
/// written into QR codes (one name for all instances, as behind a load balancer).
fn spawn(data: &Path, database_url: &str, public: Option<&str>) -> Instance {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(data.with_extension(format!("{port}.log"))).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_camr-server"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data")
        .arg(data)
        .args(["--public-url", public.unwrap_or(&base)])
        .args(["--database-url", database_url])
        // Hundreds of starts from one client are the point here.
        .env("CAMR_SERVER_RATE_LIMIT_PER_MINUTE", "0")
        .env("CAMR_SERVER_ADMIN_TOKEN", ADMIN_TOKEN)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let inst = Instance { child, base };
    let c = client();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(r) = c.get(format!("{}/readyz", inst.base)).send()
            && r.status().is_success()
        {
            return inst;
        }
        assert!(
            Instant::now() < deadline,
            "camr-server on {} did not become ready; log: {}",
            inst.base,
            std::fs::read_to_string(data.with_extension(format!("{port}.log"))).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The app's HTTP, with answers sent to `answer_to` instead of the response URI's host.
struct Phone {
    http: camr_app_sim::HttpTransport,
    answer_to: String,
}

impl Transport for Phone {
    fn get(&self, uri: &str) -> Result<Vec<u8>, AppError> {
        self.http.get(uri)
    }

    fn post_json(&self, uri: &str, body: &[u8]) -> Result<Vec<u8>, AppError> {
        let path = &uri[uri.find("/camr/").unwrap()..];
        self.http
            .post_json(&format!("{}{path}", self.answer_to), body)
    }
}

struct Device {
    app: App,
    wallet: Wallet,
    key: PublicKey,
}

impl Device {
    fn new(data: &Path) -> Self {
        let pem = std::fs::read(data.join("platform-pub.pem")).unwrap();
        Self {
            app: App::new(default_provider(), "SOFTCA"),
            wallet: Wallet::open(&data.join("wallet"), b"123456").unwrap(),
            key: PublicKey::from_pem(std::str::from_utf8(&pem).unwrap()).unwrap(),
        }
    }

    /// Scans `qr_text` (request fetched where the QR says) and posts the approval to
    /// `answer_to`; the platform's answer or the error.
    fn approve(&self, qr_text: &str, answer_to: &str) -> Result<Value, AppError> {
        let phone = Phone {
            http: camr_app_sim::HttpTransport(client()),
            answer_to: answer_to.to_string(),
        };
        let now = camr::qr::unix_now();
        let payload = camr::qr::parse_and_verify(
            default_provider().as_ref(),
            qr_text,
            &self.key,
            camr::qr::VerifyOptions::at(now),
        )
        .map_err(|e| AppError::Transport(e.to_string()))?;
        let (signed, request) = self.app.fetch_request(&phone, &payload, &self.key, now)?;
        let response = self.app.approve(&self.wallet, &signed, &request, &[])?;
        self.app.post_response(&phone, &request, &response)
    }
}

fn start_login(c: &reqwest::blocking::Client, base: &str) -> (String, String) {
    let v: Value = c
        .post(format!("{base}/api/v1/transactions"))
        .json(&json!({"operation": "login"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["success"], true, "{v}");
    (
        v["data"]["tid"].as_str().unwrap().to_string(),
        v["data"]["qrText"].as_str().unwrap().to_string(),
    )
}

/// The states an SSE stream announces, until it ends.
fn sse_states(r: reqwest::blocking::Response) -> Vec<String> {
    let mut out = Vec::new();
    let mut event = String::new();
    for line in BufReader::new(r).lines() {
        let line = line.unwrap();
        if let Some(v) = line.strip_prefix("event:") {
            event = v.trim().to_string();
        } else if let Some(d) = line.strip_prefix("data:")
            && event == "state"
        {
            let v: Value = serde_json::from_str(d.trim()).unwrap();
            out.push(v["state"].as_str().unwrap().to_string());
        }
    }
    out
}

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

/// A fresh database on the test server (dropped by the caller), or `None` after a loud
/// SKIPPED when no server is configured.
fn postgres_database() -> Option<(String, String)> {
    let Some(admin) = std::env::var("CAMR_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: CAMR_TEST_DATABASE_URL is not set; the PostgreSQL multi-instance \
             test did NOT run (.ci/run starts a server) ***\n"
        );
        return None;
    };
    let mut b = [0u8; 6];
    default_provider().fill_random(&mut b).unwrap();
    let name = format!("camr_inst_{}", data_encoding::HEXLOWER.encode(&b));
    run_sql(&admin, &format!("CREATE DATABASE {name}"));
    let (prefix, _) = admin.rsplit_once('/').unwrap();
    Some((admin.clone(), format!("{prefix}/{name}")))
}

fn run_sql(url: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Executor;
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        pool.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())))
            .await
            .unwrap();
        pool.close().await;
    });
}

struct DropDb(String, String);

impl Drop for DropDb {
    fn drop(&mut self) {
        let name = self.1.rsplit('/').next().unwrap().to_string();
        run_sql(
            &self.0,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
    }
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
