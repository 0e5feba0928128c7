//! `softca-cloud` (crate `softca_cloud`) — the vendor cloud of camr's software CA, what the softca adapter's outbound
//! calls talk to:
//!
//! | route | what |
//! |---|---|
//! | `GET /crl` | a freshly signed CRL of the CA (DER) |
//! | `POST /ocsp` | OCSP (RFC 6960, `application/ocsp-request`): the issuing CA's answer from its current revocation list |
//! | `POST /tsa` | time-stamps (RFC 3161, `application/timestamp-query`) by the CA's TSA certificate |
//! | `GET /ca.cer` | the issuing CA's certificate (DER), for authorityInfoAccess caIssuers |
//! | `GET /enc-cert?serial=HEX` or `?name=NAME` | the holder's encryption certificate (DER), by the signing (or encryption) certificate serial, or by subject name |
//! | `POST /tasks` `{"user":{..},"request":{..}}` | push a signing task to a user's app → `{"id","state"}` |
//! | `GET /tasks?user=NAME_OR_SERIAL` | pending tasks of a user (the app simulator pulls these) |
//! | `POST /tasks/{id}/result` | the app posts its answer (any JSON) |
//! | `GET /tasks/{id}` | a task and its state (`pending`/`done`) |
//! | `POST /usage` / `GET /usage` | per-use billing records (`camr::protocol::UsageRecord`), kept in memory |
//! | `GET /seals?serial=HEX` | the seals (印章) made for a wallet's signing certificate: a JSON array of `camr::protocol::SealInfo` ([`seals_for`]) |
//!
//! The binary: `softca-cloud --ca DIR [--wallets DIR] [--listen 127.0.0.1:8700]`; `--wallets`
//! is a folder of wallet folders (`camr ca issue` output) whose encryption certificates and
//! seals are served. The bound address is printed on the first line of stdout
//! (`listening on ADDR`). Other crates' tests run the cloud in-process with [`spawn`].
//!
//! It is also the **cloud kit** the vendor cloud simulators build on: they serve these routes
//! ([`app`]) beside their own, and share one command line ([`cli`]: `init`, `issue`, `serve`,
//! `encode-evidence`, the same names for every vendor).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use camr::crypto::{HashAlgorithm, default_provider};
use camr::pki::Certificate;
use camr::pki::Subject;
use camr::protocol::{SealInfo, SealKind, SubjectType, UsageRecord};
use camr::seal::appearance::seal_png;
use camr::softca::{SoftCa, wallet_files};
use serde::{Deserialize, Serialize};

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
    /// The CA folder, opened afresh for every CRL: the CA (a platform's demo server, `camr
    /// ca revoke`) may revoke, freeze or issue after the cloud started, and a CA state kept in
    /// memory would sign a stale CRL and write that stale state back.
    ca_dir: PathBuf,
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

/// Largest OCSP or time-stamp request read, bytes (a request for a few certificates, or an
/// imprint, is well under 1 KiB).
const MAX_QUERY_BYTES: usize = 16 * 1024;

/// Opens the CA afresh (see [`Inner::ca_dir`]) under the cloud's lock, or answers 500.
// The error is the handler's finished HTTP answer, returned at once; boxing it would only
// move it to the heap on the refusal path.
#[allow(clippy::result_large_err)]
fn with_ca<T>(cloud: &Cloud, f: impl FnOnce(&mut SoftCa) -> T) -> Result<T, Response> {
    let Some(inner) = cloud.lock() else {
        return Err(poisoned());
    };
    let mut ca = SoftCa::open(default_provider(), &inner.ca_dir).map_err(|e| {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot open the CA: {e}"),
        )
    })?;
    Ok(f(&mut ca))
}

/// `POST /ocsp` (RFC 6960 A.1, `application/ocsp-request`): the CA's OCSP answer, signed by
/// the issuing CA, from its current list of issued and revoked certificates.
async fn ocsp(State(cloud): State<Cloud>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = expect_type(&headers, "application/ocsp-request", &body) {
        return r;
    }
    match with_ca(&cloud, |ca| ca.ocsp_response(&body, now())) {
        Ok(der) => ([(header::CONTENT_TYPE, "application/ocsp-response")], der).into_response(),
        Err(r) => r,
    }
}

/// `POST /tsa` (RFC 3161 3.4, `application/timestamp-query`): a time-stamp token from the
/// CA's TSA certificate (made on first use, critical id-kp-timeStamping).
async fn tsa(State(cloud): State<Cloud>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = expect_type(&headers, "application/timestamp-query", &body) {
        return r;
    }
    match with_ca(&cloud, |ca| ca.timestamp_response(&body, now())) {
        Ok(der) => ([(header::CONTENT_TYPE, "application/timestamp-reply")], der).into_response(),
        Err(r) => r,
    }
}

/// `GET /ca.cer`: the issuing CA's certificate, DER (authorityInfoAccess caIssuers).
async fn ca_cert(State(cloud): State<Cloud>) -> Response {
    match with_ca(&cloud, |ca| ca.issuing_ca().der().to_vec()) {
        Ok(der) => ([(header::CONTENT_TYPE, "application/pkix-cert")], der).into_response(),
        Err(r) => r,
    }
}

// The error is the handler's finished HTTP answer, returned at once; boxing it would only
// move it to the heap on the refusal path.
#[allow(clippy::result_large_err)]
fn expect_type(headers: &HeaderMap, wanted: &str, body: &[u8]) -> Result<(), Response> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !given.eq_ignore_ascii_case(wanted) {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("send Content-Type: {wanted}"),
        ));
    }
    if body.is_empty() || body.len() > MAX_QUERY_BYTES {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "the request must have 1 byte to 16 KiB",
        ));
    }
    Ok(())
}

async fn crl(State(cloud): State<Cloud>) -> Response {
    // The lock serialises CRL numbers among this cloud's requests.
    let Some(inner) = cloud.lock() else {
        return poisoned();
    };
    let mut ca = match SoftCa::open(default_provider(), &inner.ca_dir) {
        Ok(ca) => ca,
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot open the CA: {e}"),
            );
        }
    };
    match ca.crl(now()) {
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

pub mod cli;
mod vendor_ca;

pub use vendor_ca::{init_vendor_ca, issue_vendor_wallet};

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

/// The cloud's routes over the CA in `ca_dir` and the wallets folder.
fn router(cloud: Cloud) -> Router {
    Router::new()
        .route("/crl", get(crl))
        .route("/ocsp", post(ocsp))
        .route("/tsa", post(tsa))
        .route("/ca.cer", get(ca_cert))
        .route("/enc-cert", get(enc_cert))
        .route("/tasks", post(push_task).get(list_tasks))
        .route("/tasks/{id}", get(get_task))
        .route("/tasks/{id}/result", post(task_result))
        .route("/usage", post(post_usage).get(list_usage))
        .route("/seals", get(list_seals))
        .with_state(cloud)
}

#[derive(Debug, Deserialize)]
struct SerialQuery {
    serial: Option<String>,
}

/// The seal kinds the cloud makes for a holder: an organisation certificate gets the company's
/// official, legal-representative, finance and contract seals (公章, 法人章, 财务专用章,
/// 合同专用章), a personal one a name seal and a handwritten signature (人名章, 手写签名).
pub fn seal_kinds(subject_type: SubjectType) -> &'static [SealKind] {
    match subject_type {
        SubjectType::Org => &[
            SealKind::Official,
            SealKind::LegalRepresentative,
            SealKind::Finance,
            SealKind::Contract,
        ],
        SubjectType::Personal => &[SealKind::PersonalName, SealKind::Handwritten],
    }
}

/// The code of a seal: `SOFTCA-<kind>-<the first 8 hex digits of SM3(serial ‖ kind)>`, stable
/// for a certificate and kind.
pub fn seal_code(cert_sn: &str, kind: SealKind) -> String {
    let mut input = cert_sn.to_ascii_uppercase().into_bytes();
    input.extend_from_slice(kind.as_str().as_bytes());
    let digest = default_provider().digest(HashAlgorithm::Sm3, &input);
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("SOFTCA-{}-{hex}", kind.as_str())
}

/// A vendor cloud's seals of the holder of a signing certificate: those of [`seals_for`] of
/// the `kinds` the vendor offers, their codes `<prefix><kind>-<hex>` (e.g. `GDCA-`).
pub fn vendor_seals_for(
    subject: &Subject,
    kinds: &[SealKind],
    prefix: &str,
) -> Result<Vec<SealInfo>, String> {
    seals_for(subject)?
        .into_iter()
        .filter(|s| kinds.contains(&s.kind))
        .map(|mut s| {
            s.code = s.code.replacen("SOFTCA-", prefix, 1);
            s.check().map_err(|e| e.to_string())?;
            Ok(s)
        })
        .collect()
}

/// The seals the cloud makes for the holder of a signing certificate (see [`seal_kinds`]):
/// images from `camr::seal::appearance::seal_png`, printed sizes as the real ones (round seals
/// 40 mm, the oval 45×30 mm, name chops 20 mm, the signature 40×20 mm). Every seal passes
/// [`SealInfo::check`].
pub fn seals_for(subject: &Subject) -> Result<Vec<SealInfo>, String> {
    let organisation = subject.organization.as_deref().unwrap_or(&subject.name);
    seal_kinds(subject.subject_type)
        .iter()
        .map(|&kind| {
            let (holder, size_px, width_mm, height_mm) = match kind {
                SealKind::Official | SealKind::Contract => (organisation, 240, 40, 40),
                SealKind::Finance => (organisation, 240, 45, 30),
                SealKind::LegalRepresentative | SealKind::PersonalName => {
                    (subject.name.as_str(), 160, 20, 20)
                }
                SealKind::Handwritten => (subject.name.as_str(), 240, 40, 20),
            };
            let image = seal_png(kind, holder, size_px)
                .map_err(|e| format!("cannot draw the {} seal: {e}", kind.as_str()))?;
            let seal = SealInfo {
                code: seal_code(&subject.cert_sn, kind),
                kind,
                name: format!("{holder}{}", kind.label_zh()),
                image: image.into(),
                width_mm,
                height_mm,
                cert_sn: subject.cert_sn.clone(),
            };
            seal.check().map_err(|e| e.to_string())?;
            Ok(seal)
        })
        .collect()
}

async fn list_seals(State(cloud): State<Cloud>, Query(q): Query<SerialQuery>) -> Response {
    let Some(serial) = q.serial.filter(|s| !s.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "give `serial` (hex)");
    };
    let Some(dir) = &cloud.wallets else {
        return error(
            StatusCode::NOT_FOUND,
            "this cloud serves no wallets (--wallets)",
        );
    };
    // Seals belong to signing certificates: an encryption certificate's serial finds none.
    let Some((sign, _)) = wallet_pairs(dir)
        .into_iter()
        .find(|(s, _)| s.serial_hex().eq_ignore_ascii_case(&serial))
    else {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "no signing certificate with serial `{}` among this cloud's wallets",
                serial.chars().take(64).collect::<String>()
            ),
        );
    };
    let subject = sign.subject();
    // Drawing the images is CPU work: off the async workers.
    match tokio::task::spawn_blocking(move || seals_for(&subject)).await {
        Ok(Ok(seals)) => Json(seals).into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("drawing the seals failed: {e}"),
        ),
    }
}

/// Opens the CA in `ca_dir` and builds the cloud's routes.
pub fn app(ca_dir: &Path, wallets: Option<PathBuf>) -> Result<Router, String> {
    Ok(router(open(ca_dir, wallets)?))
}

/// The cloud's state over the CA in `ca_dir`.
fn open(ca_dir: &Path, wallets: Option<PathBuf>) -> Result<Cloud, String> {
    // Opened once to refuse a missing or broken CA at start; every CRL opens it afresh.
    SoftCa::open(default_provider(), ca_dir)
        .map_err(|e| format!("cannot open the CA in {}: {e}", ca_dir.display()))?;
    Ok(Cloud {
        wallets,
        inner: Arc::new(Mutex::new(Inner {
            ca_dir: ca_dir.to_path_buf(),
            next_task: 0,
            tasks: BTreeMap::new(),
            usage: Vec::new(),
        })),
    })
}

/// The routes every vendor cloud serves alike whoever its users are: `GET /crl` (a fresh CRL
/// of the CA in `ca_dir`) and `POST /usage` / `GET /usage` (per-use records). A vendor cloud
/// whose users, encryption certificates and tasks are its own (BJCA's co-signing users) merges
/// these beside its own routes.
pub fn crl_and_usage(ca_dir: &Path) -> Result<Router, String> {
    Ok(Router::new()
        .route("/crl", get(crl))
        .route("/ca.cer", get(ca_cert))
        .route("/usage", post(post_usage).get(list_usage))
        .with_state(open(ca_dir, None)?))
}

/// Runs the cloud on `listen` until Ctrl-C (the binary), printing `listening on ADDR` first.
pub async fn run(ca_dir: &Path, wallets: Option<PathBuf>, listen: &str) -> Result<(), String> {
    serve(app(ca_dir, wallets)?, listen).await
}

/// Starts the cloud in-process on `127.0.0.1:0` on the current tokio runtime (for tests of
/// other crates): the bound address and the server task (abort it to stop the cloud).
/// Must be called from within a tokio runtime; the CA in `ca_dir` must exist.
pub fn spawn(
    ca_dir: &Path,
    wallets: Option<PathBuf>,
) -> Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>), String> {
    spawn_app(app(ca_dir, wallets)?)
}

/// Serves a cloud's routes (this kit's merged with a vendor's own) on `listen` until Ctrl-C,
/// printing `listening on ADDR` first: every vendor cloud's `run`.
pub async fn serve(app: Router, listen: &str) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on {addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}

/// Serves a cloud's routes in-process on `127.0.0.1:0` on the current tokio runtime: the
/// bound address and the server task (abort it to stop the cloud). Every vendor cloud's
/// `spawn`, for tests.
pub fn spawn_app(
    app: Router,
) -> Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>), String> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|e| format!("spawning a cloud needs a tokio runtime ({e})"))?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot listen on 127.0.0.1:0: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot make the listener non-blocking: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let _entered = runtime.enter();
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(|e| format!("cannot register the listener with tokio: {e}"))?;
    let task = runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}
