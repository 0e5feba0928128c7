//! `bjca-cloud` (crate `bjca_cloud`) — the cloud of camr's BJCA model (掌上信手书): what the
//! BJCA adapter's outbound calls and the BJCA app (simulator) talk to. BJCA's real cloud API
//! is not public; this is our model (`docs/vendors/bjca.md`).
//!
//! The key of a BJCA wallet exists only as two shares (协同签名, `camr::cosign`,
//! `docs/cosign.md`): the phone keeps d1, this cloud keeps d2 per user, and every signature
//! or decryption needs both. [`issue_wallet`] runs the two-party key generation for the
//! signing and the encryption key, has the cloud's CA ("BJCA Test CA", SM2) certify the joint
//! public keys P, writes the wallet (certificates, d1 under the PIN, `vendor.json`) and keeps
//! d2 with the SM3 hash of the wallet's token in `<ca>/cosign/<SERIAL>.json`.
//!
//! | route | what |
//! |---|---|
//! | `POST /cosign/sign` `{user, token, request: SignRequest}` | the server half of a co-signature → `SignResponse` |
//! | `POST /cosign/decrypt` `{user, token, request: DecryptRequest}` | the server half of a co-decryption (encryption key) → `DecryptResponse` |
//! | `GET /crl` | a freshly signed CRL of the CA (DER): the cloud kit's (`softca_cloud::crl_and_usage`) |
//! | `GET /ca.cer` | the issuing CA's certificate (DER), to check the CRL's signature with: the cloud kit's |
//! | `GET /enc-cert?serial=HEX` or `?name=NAME` | a user's encryption certificate (DER) |
//! | `POST /tasks` `{"user":{..},"request":{..}}` | push a task to a known user (the app's 待处理 list) → `{"id","state"}` |
//! | `GET /tasks?user=SERIAL_OR_NAME[&state=pending\|done]` | the user's 待处理 (pending, default) or 已处理 (done) list |
//! | `GET /tasks/{id}` | a task and its state |
//! | `POST /tasks/{id}/result` | the app's outcome (any JSON; `{"approved":false,"reason":…}` for 拒签) → done |
//! | `POST /usage` / `GET /usage` | usage records (`camr::protocol::UsageRecord`): the cloud kit's |
//!
//! `/enc-cert`, `/tasks` and `/seals` are BJCA's own: its users are the co-signing records
//! the cloud keeps (no wallets folder), and its task lists are the app's 待处理 / 已处理.
//! | `GET /seals?serial=HEX` | the seals made for a user's signing certificate (`softca_cloud::seals_for`) |
//!
//! Co-sign errors answer JSON `{"error", "code"}`: `COSIGN_UNAUTHORIZED` (401: unknown user or
//! wrong token), the `COSIGN_*` code of `camr::cosign::CosignError` (400), `COSIGN_REPLAY`
//! for a reused Q1.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use camr::cosign::{ClientShare, ReplayCache, ServerShare};
use camr::crypto::{HashAlgorithm, KeyAlgorithm, PrivateKey, default_provider};
use camr::pki::Certificate;
use camr::softca::{Holder, SoftCa, USER_VALIDITY_DAYS};
use camr_bjca_wire::{CA_ORG_TYPE, CosignDecrypt, CosignSign, KEY_KIND_COSIGN, WalletVendorFile};
use serde::{Deserialize, Serialize};

/// The name of the cloud's CA.
pub const CA_NAME: &str = "BJCA Test CA";
/// The folder (inside the CA folder) of the server shares.
pub const SHARES_DIR: &str = "cosign";
/// How many recent Q1 the co-sign route remembers to refuse a replay.
pub const REPLAY_CAPACITY: usize = 4096;

/// What the cloud keeps per user (`<ca>/cosign/<SERIAL>.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserRecord {
    /// The user: signing certificate serial (hex, upper case).
    pub user: String,
    /// The holder's name.
    pub name: String,
    /// The signing certificate (DER).
    pub sign_cert: camr::protocol::Bytes,
    /// The encryption certificate (DER).
    pub enc_cert: camr::protocol::Bytes,
    /// d2 of the signing key ([`ServerShare::to_bytes`]).
    pub sign_share: camr::protocol::Bytes,
    /// d2 of the encryption key.
    pub enc_share: camr::protocol::Bytes,
    /// SM3 of the wallet's token, hex.
    pub token_sm3: String,
}

/// A wallet the cloud issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedWallet {
    /// The wallet folder.
    pub dir: PathBuf,
    /// The user id at the cloud (the signing certificate's serial, hex).
    pub user: String,
    /// The encryption certificate's serial.
    pub enc_serial: String,
    /// The wallet's token (also in its `vendor.json`).
    pub token: String,
}

/// Creates the cloud's CA ("BJCA Test CA", SM2) in `dir`.
pub fn init_ca(dir: &Path) -> Result<(), String> {
    SoftCa::init(default_provider(), dir, KeyAlgorithm::Sm2, CA_NAME)
        .map(|_| ())
        .map_err(|e| format!("cannot create the BJCA CA in {}: {e}", dir.display()))
}

fn sm3_hex(data: &[u8]) -> String {
    hex::encode(default_provider().digest(HashAlgorithm::Sm3, data))
}

/// Both halves of a two-party key generation (the simulator plays the phone's half here; a
/// real app draws d1 on the phone and sends only P1).
fn cosign_keygen() -> Result<(ClientShare, ServerShare), String> {
    let (pending, request) = ClientShare::keygen_start().map_err(|e| e.to_string())?;
    let (server, response) = ServerShare::keygen(&request).map_err(|e| e.to_string())?;
    let client = pending.finish(&response).map_err(|e| e.to_string())?;
    // One test co-signature before the CA certifies P (docs/cosign.md).
    let (sign, req) = client
        .sign_start(b"keygen check", camr::cosign::DEFAULT_SM2_SIGNER_ID)
        .map_err(|e| e.to_string())?;
    let resp = server.sign(&req).map_err(|e| e.to_string())?;
    sign.finish(&resp).map_err(|e| e.to_string())?;
    Ok((client, server))
}

/// d1 as an SM2 private key (the wallet stores it PIN-encrypted like a key).
fn d1_key(client: &ClientShare) -> Result<PrivateKey, String> {
    let bytes = client.to_bytes();
    let d1 = bytes.get(6..38).ok_or("bad share encoding")?;
    sm2::SecretKey::from_slice(d1)
        .map(PrivateKey::Sm2)
        .map_err(|e| format!("bad share: {e}"))
}

fn write_file(path: &Path, data: &[u8]) -> Result<(), String> {
    std::fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))
}

/// Issues a BJCA wallet for `holder` into `out` (which must not hold one): two-party key
/// generation for the signing and the encryption key, certificates for the joint keys from
/// the CA in `ca_dir`, d1 of each under `pin` (`sign-key.pem`, `enc-key.pem`), `vendor.json`
/// (`caOrgType` BJCA, `cloudUrl`, `user`, `token`, `keyKind` `cosign-d1`); the cloud keeps d2
/// and the token's SM3 in `<ca_dir>/cosign/<SERIAL>.json`.
pub fn issue_wallet(
    ca_dir: &Path,
    holder: &Holder,
    pin: &[u8],
    out: &Path,
    cloud_url: &str,
) -> Result<IssuedWallet, String> {
    if pin.len() < 4 {
        return Err("the PIN must have at least 4 characters".into());
    }
    let provider = default_provider();
    let mut ca = SoftCa::open(provider.clone(), ca_dir).map_err(|e| e.to_string())?;
    let (sign_client, sign_server) = cosign_keygen()?;
    let (enc_client, enc_server) = cosign_keygen()?;
    let spki = |c: &ClientShare| c.public_key_spki_der().map_err(|e| e.to_string());
    let wallet = ca
        .issue_for_public_keys(
            holder,
            &spki(&sign_client)?,
            &spki(&enc_client)?,
            out,
            USER_VALIDITY_DAYS,
        )
        .map_err(|e| e.to_string())?;
    for (client, file) in [
        (&sign_client, camr::softca::wallet_files::SIGN_KEY),
        (&enc_client, camr::softca::wallet_files::ENC_KEY),
    ] {
        let pem = d1_key(client)?
            .to_encrypted_pkcs8_pem(pin)
            .map_err(|e| e.to_string())?;
        write_file(&out.join(file), pem.as_bytes())?;
    }
    let mut token = [0u8; 32];
    provider
        .fill_random(&mut token)
        .map_err(|e| e.to_string())?;
    let token = hex::encode(token);
    let read_cert = |name: &str| -> Result<Certificate, String> {
        let bytes = std::fs::read(out.join(name)).map_err(|e| e.to_string())?;
        Certificate::parse_one(&bytes).map_err(|e| e.to_string())
    };
    let sign_cert = read_cert(camr::softca::wallet_files::SIGN_CERT)?;
    let enc_cert = read_cert(camr::softca::wallet_files::ENC_CERT)?;
    let record = UserRecord {
        user: wallet.sign_serial.to_ascii_uppercase(),
        name: holder.name.clone(),
        sign_cert: sign_cert.der().to_vec().into(),
        enc_cert: enc_cert.der().to_vec().into(),
        sign_share: sign_server.to_bytes().to_vec().into(),
        enc_share: enc_server.to_bytes().to_vec().into(),
        token_sm3: sm3_hex(token.as_bytes()),
    };
    let shares = ca_dir.join(SHARES_DIR);
    std::fs::create_dir_all(&shares).map_err(|e| format!("{}: {e}", shares.display()))?;
    let text = serde_json::to_vec_pretty(&record).map_err(|e| e.to_string())?;
    write_file(&shares.join(format!("{}.json", record.user)), &text)?;
    let vendor = WalletVendorFile {
        ca_org_type: CA_ORG_TYPE.into(),
        cloud_url: cloud_url.trim_end_matches('/').to_string(),
        user: record.user.clone(),
        token: token.clone(),
        key_kind: KEY_KIND_COSIGN.into(),
    };
    let text = serde_json::to_vec_pretty(&vendor).map_err(|e| e.to_string())?;
    write_file(&out.join("vendor.json"), &text)?;
    Ok(IssuedWallet {
        dir: out.to_path_buf(),
        user: record.user,
        enc_serial: wallet.enc_serial,
        token,
    })
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
    #[serde(skip_serializing_if = "Option::is_none")]
    done_at: Option<i64>,
}

struct Inner {
    next_task: u64,
    tasks: BTreeMap<u64, Task>,
    replay: ReplayCache,
}

#[derive(Clone)]
struct Cloud {
    /// The CA folder, opened afresh for each CRL and each user record (wallets issued,
    /// certificates revoked after the cloud started count).
    ca_dir: PathBuf,
    inner: Arc<Mutex<Inner>>,
}

fn error(status: StatusCode, code: &str, msg: impl Into<String>) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": msg.into(), "code": code })),
    )
        .into_response()
}

fn poisoned() -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "state lock poisoned",
    )
}

fn now() -> i64 {
    camr::qr::unix_now()
}

impl Cloud {
    fn lock(&self) -> Option<std::sync::MutexGuard<'_, Inner>> {
        self.inner.lock().ok()
    }

    /// The record of `user` (a serial in hex), if the cloud issued it.
    fn user(&self, user: &str) -> Option<UserRecord> {
        if user.is_empty() || user.len() > 64 || !user.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let path = self
            .ca_dir
            .join(SHARES_DIR)
            .join(format!("{}.json", user.to_ascii_uppercase()));
        let bytes = std::fs::read(path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn users(&self) -> Vec<UserRecord> {
        let Ok(entries) = std::fs::read_dir(self.ca_dir.join(SHARES_DIR)) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|b| serde_json::from_slice(&b).ok())
            .collect()
    }

    /// The user's record when `token` is theirs; else the 401 answer.
    fn authenticate(&self, user: &str, token: &str) -> Result<UserRecord, Box<Response>> {
        let unauthorized = || {
            Box::new(error(
                StatusCode::UNAUTHORIZED,
                "COSIGN_UNAUTHORIZED",
                "unknown user or wrong token: the cloud co-signs only for the wallet it issued",
            ))
        };
        let record = self.user(user).ok_or_else(unauthorized)?;
        if token.is_empty() || sm3_hex(token.as_bytes()) != record.token_sm3 {
            return Err(unauthorized());
        }
        Ok(record)
    }
}

fn cosign_error(e: &camr::cosign::CosignError) -> Response {
    error(StatusCode::BAD_REQUEST, e.code(), e.to_string())
}

fn server_share(bytes: &[u8]) -> Result<ServerShare, Box<Response>> {
    ServerShare::from_bytes(bytes).map_err(|e| {
        Box::new(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            e.code(),
            format!("the stored server share is unusable: {e}"),
        ))
    })
}

async fn cosign_sign(State(cloud): State<Cloud>, body: Bytes) -> Response {
    let call: CosignSign = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "COSIGN_MALFORMED",
                format!("not a co-sign request: {e}"),
            );
        }
    };
    let record = match cloud.authenticate(&call.user, &call.token) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let share = match server_share(&record.sign_share) {
        Ok(s) => s,
        Err(resp) => return *resp,
    };
    let Some(mut inner) = cloud.lock() else {
        return poisoned();
    };
    match share.sign_checked(&call.request, &mut inner.replay) {
        Ok(resp) => Json(resp).into_response(),
        Err(e) => cosign_error(&e),
    }
}

async fn cosign_decrypt(State(cloud): State<Cloud>, body: Bytes) -> Response {
    let call: CosignDecrypt = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "COSIGN_MALFORMED",
                format!("not a co-decrypt request: {e}"),
            );
        }
    };
    let record = match cloud.authenticate(&call.user, &call.token) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let share = match server_share(&record.enc_share) {
        Ok(s) => s,
        Err(resp) => return *resp,
    };
    match share.decrypt(&call.request) {
        Ok(resp) => Json(resp).into_response(),
        Err(e) => cosign_error(&e),
    }
}

#[derive(Debug, Deserialize)]
struct EncQuery {
    serial: Option<String>,
    name: Option<String>,
}

async fn enc_cert(State(cloud): State<Cloud>, Query(q): Query<EncQuery>) -> Response {
    let found = |f: &dyn Fn(&UserRecord, &Certificate, &Certificate) -> bool| {
        cloud.users().into_iter().find_map(|r| {
            let sign = Certificate::from_der(&r.sign_cert).ok()?;
            let enc = Certificate::from_der(&r.enc_cert).ok()?;
            f(&r, &sign, &enc).then_some(enc)
        })
    };
    let enc = match (&q.serial, &q.name) {
        (Some(serial), _) => found(&|_, s, e| {
            s.serial_hex().eq_ignore_ascii_case(serial)
                || e.serial_hex().eq_ignore_ascii_case(serial)
        }),
        (None, Some(name)) => found(&|r, _, _| &r.name == name),
        (None, None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "INPUT_MALFORMED",
                "give `serial` or `name`",
            );
        }
    };
    match enc {
        Some(enc) => (
            [(header::CONTENT_TYPE, "application/pkix-cert")],
            enc.der().to_vec(),
        )
            .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
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
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "INPUT_MALFORMED",
                format!("not a task: {e}"),
            );
        }
    };
    if !push.user.is_object() {
        return error(
            StatusCode::BAD_REQUEST,
            "INPUT_MALFORMED",
            "`user` must be an object",
        );
    }
    // Tasks go to a known user only: one the cloud issued a wallet to.
    let known = cloud
        .users()
        .iter()
        .any(|r| user_matches(&push.user, &r.user) || user_matches(&push.user, &r.name));
    if !known {
        return error(
            StatusCode::NOT_FOUND,
            "USER_UNKNOWN",
            "the user has no BJCA wallet at this cloud (certSn or name)",
        );
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
        done_at: None,
    };
    inner.tasks.insert(n, task.clone());
    (StatusCode::CREATED, Json(task)).into_response()
}

#[derive(Debug, Deserialize)]
struct TaskQuery {
    user: String,
    state: Option<String>,
}

fn user_matches(user: &serde_json::Value, who: &str) -> bool {
    ["name", "certSn", "id"].iter().any(|k| {
        user.get(*k)
            .and_then(serde_json::Value::as_str)
            .is_some_and(|v| v.eq_ignore_ascii_case(who))
    })
}

async fn list_tasks(State(cloud): State<Cloud>, Query(q): Query<TaskQuery>) -> Response {
    let state = match q.state.as_deref() {
        None | Some("pending") => "pending",
        Some("done") => "done",
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                "INPUT_MALFORMED",
                format!(
                    "state `{}` is neither `pending` (待处理) nor `done` (已处理)",
                    other.chars().take(32).collect::<String>()
                ),
            );
        }
    };
    let Some(inner) = cloud.lock() else {
        return poisoned();
    };
    let list: Vec<&Task> = inner
        .tasks
        .values()
        .filter(|t| t.state == state && user_matches(&t.user, &q.user))
        .collect();
    Json(list).into_response()
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
        None => error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("no task `{id}`"),
        ),
    }
}

async fn task_result(
    State(cloud): State<Cloud>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    let result: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "INPUT_MALFORMED",
                format!("not JSON: {e}"),
            );
        }
    };
    let Some(mut inner) = cloud.lock() else {
        return poisoned();
    };
    let Some(task) = task_number(&id).and_then(|n| inner.tasks.get_mut(&n)) else {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("no task `{id}`"),
        );
    };
    if task.state != "pending" {
        return error(
            StatusCode::CONFLICT,
            "TASK_DONE",
            format!("task `{id}` is already {}", task.state),
        );
    }
    task.state = "done";
    task.result = Some(result);
    task.done_at = Some(now());
    Json(task.clone()).into_response()
}

#[derive(Debug, Deserialize)]
struct SerialQuery {
    serial: Option<String>,
}

async fn list_seals(State(cloud): State<Cloud>, Query(q): Query<SerialQuery>) -> Response {
    let Some(serial) = q.serial.filter(|s| !s.is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "INPUT_MALFORMED",
            "give `serial` (hex)",
        );
    };
    let Some(subject) = cloud.user(&serial).and_then(|r| {
        Certificate::from_der(&r.sign_cert)
            .ok()
            .map(|c| c.subject())
    }) else {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "no BJCA signing certificate with that serial",
        );
    };
    match tokio::task::spawn_blocking(move || softca_cloud::seals_for(&subject)).await {
        Ok(Ok(seals)) => Json(seals).into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            format!("drawing the seals failed: {e}"),
        ),
    }
}

/// The cloud's routes over the CA in `ca_dir` (which must exist, [`init_ca`]).
pub fn app(ca_dir: &Path) -> Result<Router, String> {
    SoftCa::open(default_provider(), ca_dir)
        .map_err(|e| format!("cannot open the CA in {}: {e}", ca_dir.display()))?;
    let cloud = Cloud {
        ca_dir: ca_dir.to_path_buf(),
        inner: Arc::new(Mutex::new(Inner {
            next_task: 0,
            tasks: BTreeMap::new(),
            replay: ReplayCache::new(REPLAY_CAPACITY),
        })),
    };
    Ok(Router::new()
        .route("/cosign/sign", post(cosign_sign))
        .route("/cosign/decrypt", post(cosign_decrypt))
        .route("/enc-cert", get(enc_cert))
        .route("/tasks", post(push_task).get(list_tasks))
        .route("/tasks/{id}", get(get_task))
        .route("/tasks/{id}/result", post(task_result))
        .route("/seals", get(list_seals))
        .with_state(cloud)
        .merge(softca_cloud::crl_and_usage(ca_dir)?))
}

/// Runs the cloud on `listen` until Ctrl-C (the binary), printing `listening on ADDR` first.
pub async fn run(ca_dir: &Path, listen: &str) -> Result<(), String> {
    softca_cloud::serve(app(ca_dir)?, listen).await
}

/// Starts the cloud in-process on `127.0.0.1:0` on the current tokio runtime (for tests):
/// the bound address and the server task (abort it to stop the cloud).
pub fn spawn(ca_dir: &Path) -> Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>), String> {
    softca_cloud::spawn_app(app(ca_dir)?)
}
