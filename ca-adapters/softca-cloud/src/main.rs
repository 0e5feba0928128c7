//! `softca-cloud` — the vendor cloud of camr's software CA, what the softca adapter's outbound
//! calls talk to:
//!
//! | route | what |
//! |---|---|
//! | `GET /crl` | a freshly signed CRL of the CA (DER) |
//! | `GET /enc-cert?serial=HEX` or `?name=NAME` | the holder's encryption certificate (DER), by the signing (or encryption) certificate serial, or by subject name |
//! | `POST /tasks` `{"user":{..},"request":{..}}` | push a signing task to a user's app → `{"id","state"}` |
//! | `GET /tasks?user=NAME_OR_SERIAL` | pending tasks of a user (the app simulator pulls these) |
//! | `POST /tasks/{id}/result` | the app posts its answer (any JSON) |
//! | `GET /tasks/{id}` | a task and its state (`pending`/`done`) |
//! | `POST /usage` / `GET /usage` | per-use billing records (`camr::protocol::UsageRecord`), kept in memory |
//!
//! `softca-cloud --ca DIR [--wallets DIR] [--listen 127.0.0.1:8700]`; `--wallets` is a folder
//! of wallet folders (`camr ca issue` output) whose encryption certificates are served. The
//! bound address is printed on the first line of stdout (`listening on ADDR`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use camr::crypto::default_provider;
use camr::pki::Certificate;
use camr::protocol::UsageRecord;
use camr::softca::{SoftCa, wallet_files};
use clap::Parser;
use serde::{Deserialize, Serialize};

/// The softca vendor cloud.
#[derive(Debug, Parser)]
#[command(name = "softca-cloud", version, about)]
struct Args {
    /// The software CA folder (`camr ca init`).
    #[arg(long)]
    ca: PathBuf,
    /// A folder of wallet folders whose encryption certificates are served.
    #[arg(long)]
    wallets: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8700")]
    listen: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Task {
    id: String,
    state: &'static str,
    user: serde_json::Value,
    request: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<serde_json::Value>,
    created_at: i64,
}

struct Inner {
    ca: SoftCa,
    next_task: u64,
    tasks: BTreeMap<u64, Task>,
    usage: Vec<UsageRecord>,
}

#[derive(Clone)]
struct Cloud {
    wallets: Option<PathBuf>,
    inner: Arc<Mutex<Inner>>,
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": msg.into() }))).into_response()
}

impl Cloud {
    fn lock(&self) -> Option<std::sync::MutexGuard<'_, Inner>> {
        self.inner.lock().ok()
    }
}

fn poisoned() -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, "state lock poisoned")
}

fn now() -> i64 {
    camr::qr::unix_now()
}

async fn crl(State(cloud): State<Cloud>) -> Response {
    let Some(mut inner) = cloud.lock() else {
        return poisoned();
    };
    match inner.ca.crl(now()) {
        Ok(crl) => (
            [(header::CONTENT_TYPE, "application/pkix-crl")],
            crl.der().to_vec(),
        )
            .into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot sign a CRL: {e}"),
        ),
    }
}

#[derive(Debug, Deserialize)]
struct EncQuery {
    serial: Option<String>,
    name: Option<String>,
}

/// The (signing, encryption) certificate pairs of the wallets folder.
fn wallet_pairs(dir: &Path) -> Vec<(Certificate, Certificate)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let w = entry.path();
        let read = |name: &str| {
            std::fs::read(w.join(name))
                .ok()
                .and_then(|b| Certificate::parse_one(&b).ok())
        };
        if let (Some(sign), Some(enc)) =
            (read(wallet_files::SIGN_CERT), read(wallet_files::ENC_CERT))
        {
            out.push((sign, enc));
        }
    }
    out
}

async fn enc_cert(State(cloud): State<Cloud>, Query(q): Query<EncQuery>) -> Response {
    let Some(dir) = &cloud.wallets else {
        return error(
            StatusCode::NOT_FOUND,
            "this cloud serves no wallets (--wallets)",
        );
    };
    let pairs = wallet_pairs(dir);
    let found = match (&q.serial, &q.name) {
        (Some(serial), _) => pairs.iter().find(|(s, e)| {
            s.serial_hex().eq_ignore_ascii_case(serial)
                || e.serial_hex().eq_ignore_ascii_case(serial)
        }),
        (None, Some(name)) => pairs.iter().find(|(s, _)| &s.subject().name == name),
        (None, None) => return error(StatusCode::BAD_REQUEST, "give `serial` or `name`"),
    };
    match found {
        Some((_, enc)) => (
            [(header::CONTENT_TYPE, "application/pkix-cert")],
            enc.der().to_vec(),
        )
            .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "no encryption certificate for that subject",
        ),
    }
}

#[derive(Debug, Deserialize)]
struct PushTask {
    user: serde_json::Value,
    request: serde_json::Value,
}

async fn push_task(State(cloud): State<Cloud>, body: Bytes) -> Response {
    let push: PushTask = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a task: {e}")),
    };
    if !push.user.is_object() {
        return error(StatusCode::BAD_REQUEST, "`user` must be an object");
    }
    let Some(mut inner) = cloud.lock() else {
        return poisoned();
    };
    inner.next_task += 1;
    let n = inner.next_task;
    let task = Task {
        id: format!("task-{n}"),
        state: "pending",
        user: push.user,
        request: push.request,
        result: None,
        created_at: now(),
    };
    inner.tasks.insert(n, task.clone());
    (StatusCode::CREATED, Json(task)).into_response()
}

#[derive(Debug, Deserialize)]
struct UserQuery {
    user: String,
}

fn user_matches(user: &serde_json::Value, who: &str) -> bool {
    ["name", "certSn", "id"].iter().any(|k| {
        user.get(*k)
            .and_then(serde_json::Value::as_str)
            .is_some_and(|v| v.eq_ignore_ascii_case(who))
    })
}

async fn list_tasks(State(cloud): State<Cloud>, Query(q): Query<UserQuery>) -> Response {
    let Some(inner) = cloud.lock() else {
        return poisoned();
    };
    let pending: Vec<&Task> = inner
        .tasks
        .values()
        .filter(|t| t.state == "pending" && user_matches(&t.user, &q.user))
        .collect();
    Json(pending).into_response()
}

fn task_number(id: &str) -> Option<u64> {
    id.strip_prefix("task-").and_then(|n| n.parse().ok())
}

async fn get_task(State(cloud): State<Cloud>, UrlPath(id): UrlPath<String>) -> Response {
    let Some(inner) = cloud.lock() else {
        return poisoned();
    };
    match task_number(&id).and_then(|n| inner.tasks.get(&n)) {
        Some(t) => Json(t).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("no task `{id}`")),
    }
}

async fn task_result(
    State(cloud): State<Cloud>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    let result: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not JSON: {e}")),
    };
    let Some(mut inner) = cloud.lock() else {
        return poisoned();
    };
    let Some(task) = task_number(&id).and_then(|n| inner.tasks.get_mut(&n)) else {
        return error(StatusCode::NOT_FOUND, format!("no task `{id}`"));
    };
    if task.state != "pending" {
        return error(
            StatusCode::CONFLICT,
            format!("task `{id}` is already {}", task.state),
        );
    }
    task.state = "done";
    task.result = Some(result);
    Json(task.clone()).into_response()
}

async fn post_usage(State(cloud): State<Cloud>, body: Bytes) -> Response {
    let record: UsageRecord = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a usage record: {e}")),
    };
    let Some(mut inner) = cloud.lock() else {
        return poisoned();
    };
    inner.usage.push(record);
    (
        StatusCode::CREATED,
        Json(serde_json::json!({ "recorded": inner.usage.len() })),
    )
        .into_response()
}

async fn list_usage(State(cloud): State<Cloud>) -> Response {
    match cloud.lock() {
        Some(inner) => Json(inner.usage.clone()).into_response(),
        None => poisoned(),
    }
}

fn router(cloud: Cloud) -> Router {
    Router::new()
        .route("/crl", get(crl))
        .route("/enc-cert", get(enc_cert))
        .route("/tasks", post(push_task).get(list_tasks))
        .route("/tasks/{id}", get(get_task))
        .route("/tasks/{id}/result", post(task_result))
        .route("/usage", post(post_usage).get(list_usage))
        .with_state(cloud)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match serve(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("softca-cloud: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> Result<(), String> {
    let ca = SoftCa::open(default_provider(), &args.ca).map_err(|e| e.to_string())?;
    let cloud = Cloud {
        wallets: args.wallets,
        inner: Arc::new(Mutex::new(Inner {
            ca,
            next_task: 0,
            tasks: BTreeMap::new(),
            usage: Vec::new(),
        })),
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on {addr}");
    axum::serve(listener, router(cloud))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}
