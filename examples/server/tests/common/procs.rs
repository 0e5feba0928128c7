//! `camr-server` as real processes for the multi-instance tests: spawning (killed with
//! SIGKILL when dropped), a phone that answers where it is told, a PostgreSQL database per
//! test, and a round-robin HTTP proxy in front of several instances.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use camr::app::{App, AppError, Transport, Wallet};
use camr::crypto::{PublicKey, default_provider};
use serde_json::{Value, json};

/// A server process, killed (SIGKILL) when dropped.
pub struct Instance {
    child: Child,
    pub base: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The operator's token of the test servers: the checks after a crash read every
/// transaction, whoever started it.
pub const ADMIN_TOKEN: &str = "instances-test-admin-token-0123456789";

pub fn client() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Starts `camr-server` on a free port with `data` and `database_url`; `public` is the URL
/// written into QR codes (one name for all instances, as behind a load balancer).
pub fn spawn(data: &Path, database_url: &str, public: Option<&str>) -> Instance {
    spawn_with(data, database_url, public, &[])
}

/// [`spawn`] with further environment settings (`CAMR_SERVER_…`).
pub fn spawn_with(
    data: &Path,
    database_url: &str,
    public: Option<&str>,
    env: &[(&str, String)],
) -> Instance {
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
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
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

pub struct Device {
    pub app: App,
    pub wallet: Wallet,
    pub key: PublicKey,
}

impl Device {
    pub fn new(data: &Path) -> Self {
        let pem = std::fs::read(data.join("platform-pub.pem")).unwrap();
        Self {
            app: App::new(default_provider(), "SOFTCA"),
            wallet: Wallet::open(&data.join("wallet"), b"123456").unwrap(),
            key: PublicKey::from_pem(std::str::from_utf8(&pem).unwrap()).unwrap(),
        }
    }

    /// Scans `qr_text` (request fetched where the QR says) and posts the approval to
    /// `answer_to`; the platform's answer or the error.
    pub fn approve(&self, qr_text: &str, answer_to: &str) -> Result<Value, AppError> {
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

pub fn start_login(c: &reqwest::blocking::Client, base: &str) -> (String, String) {
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
pub fn sse_states(r: reqwest::blocking::Response) -> Vec<String> {
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

/// A fresh database on the test server (dropped by the caller), or `None` after a loud
/// SKIPPED when no server is configured.
pub fn postgres_database() -> Option<(String, String)> {
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

pub fn run_sql(url: &str, sql: &str) {
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

pub struct DropDb(pub String, pub String);

impl Drop for DropDb {
    fn drop(&mut self) {
        let name = self.1.rsplit('/').next().unwrap().to_string();
        run_sql(
            &self.0,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
    }
}

/// A round-robin HTTP proxy in front of several instances (as a load balancer): each request
/// goes to the next instance; an instance that refuses the connection (killed) is skipped.
/// Bodies are read whole (no streams through it).
pub struct Proxy {
    /// Its URL.
    pub base: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

struct Backends {
    bases: Vec<String>,
    next: AtomicUsize,
    client: reqwest::Client,
}

impl Proxy {
    /// A proxy on `port` in front of `bases`.
    pub fn start(port: u16, bases: Vec<String>) -> Self {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let backends = Arc::new(Backends {
            bases,
            next: AtomicUsize::new(0),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        });
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(forward).with_state(backends);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Self {
            base: format!("http://127.0.0.1:{port}"),
            _stop: stop,
        }
    }
}

async fn forward(
    axum::extract::State(b): axum::extract::State<Arc<Backends>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 600 << 20).await.unwrap();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let first = b.next.fetch_add(1, Ordering::SeqCst);
    for k in 0..b.bases.len() {
        let base = &b.bases[(first + k) % b.bases.len()];
        let mut out = b
            .client
            .request(parts.method.clone(), format!("{base}{path}"));
        for (name, value) in &parts.headers {
            if name != axum::http::header::HOST && name != axum::http::header::CONTENT_LENGTH {
                out = out.header(name, value);
            }
        }
        match out.body(body.clone()).send().await {
            Ok(r) => {
                let status = r.status();
                let mut headers = r.headers().clone();
                headers.remove(axum::http::header::TRANSFER_ENCODING);
                headers.remove(axum::http::header::CONTENT_LENGTH);
                let bytes = r.bytes().await.unwrap_or_default();
                return (status, headers, bytes).into_response();
            }
            Err(e) if e.is_connect() => continue,
            Err(e) => {
                return (axum::http::StatusCode::BAD_GATEWAY, e.to_string()).into_response();
            }
        }
    }
    (axum::http::StatusCode::BAD_GATEWAY, "no instance answers").into_response()
}
