//! One load client: the platform's side over HTTP as an API client, the phone's side with
//! `camr::app` in process (real signatures), every HTTP status noted.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use camr::app::{App, AppError, Transport, Wallet};
use camr::crypto::PublicKey;
use serde::Serialize;
use serde_json::{Value, json};

use crate::LoadError;

/// What one job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// Start a login, the app approves, the platform reads the verified identity.
    Login,
    /// A message signature (签名原文), approved and read back.
    MessageSignature,
    /// A small bid file uploaded, the app hands over its encryption certificate, the sealed
    /// envelope downloaded.
    BidFile,
}

impl Kind {
    /// Its name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::MessageSignature => "messageSignature",
            Self::BidFile => "bidFile",
        }
    }
}

/// Why a job failed: the platform's `errorCode`, the app's refusal, or no answer at all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Failure {
    /// The platform refused with this `errorCode` (HTTP status beside it).
    Platform(String),
    /// The app refused what it was shown (QR or request signature, mismatch).
    App(String),
    /// No answer (connection refused or reset: the server was down).
    Unreachable,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Platform(code) => write!(f, "{code}"),
            Self::App(what) => write!(f, "app: {what}"),
            Self::Unreachable => write!(f, "UNREACHABLE"),
        }
    }
}

/// One job's outcome.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// What it was.
    pub kind: Kind,
    /// The transaction, once the platform started it.
    pub tid: Option<String>,
    /// Whether the platform answered the app's approval with `verified`.
    pub seen_verified: bool,
    /// Start to finish.
    pub latency: Duration,
    /// `Ok` when the whole ceremony succeeded.
    pub outcome: Result<(), Failure>,
    /// Every HTTP status the job received.
    pub statuses: Vec<u16>,
}

/// What every client shares: the app's wallet and the platform's key (read once).
#[derive(Clone)]
pub struct Shared {
    app: App,
    wallet: Arc<Wallet>,
    key: PublicKey,
    base: String,
}

impl Shared {
    /// The demo wallet (PIN 123456) and platform key the server wrote into `data`.
    pub fn open(data: &std::path::Path, base: &str) -> Result<Self, LoadError> {
        let wallet = Wallet::open(&data.join("wallet"), b"123456")
            .map_err(|e| LoadError::Data(format!("the demo wallet: {e}")))?;
        let key = camr_app_sim::read_platform_key(&data.join("platform-pub.pem"))
            .map_err(|e| LoadError::Data(format!("the platform key: {e}")))?;
        Ok(Self {
            app: App::new(camr::crypto::default_provider(), camr_app_sim::VENDOR),
            wallet: Arc::new(wallet),
            key,
            base: base.to_string(),
        })
    }
}

/// One client: its own HTTP connection pool and the statuses of the current job.
pub struct Client {
    shared: Shared,
    http: reqwest::blocking::Client,
    statuses: RefCell<Vec<u16>>,
}

/// An answer of the platform: status and body.
type Answer = (u16, Vec<u8>);

const BID: &[u8] = b"bid price: 1,234,567.00 CNY; delivery in 30 days. (camr-load)\n";

impl Client {
    /// A client of its own.
    pub fn new(shared: Shared) -> Result<Self, LoadError> {
        let http = crate::http_client(Duration::from_secs(60))?;
        Ok(Self {
            shared,
            http,
            statuses: RefCell::new(Vec::new()),
        })
    }

    /// Runs one job end to end.
    pub fn run(&self, kind: Kind, n: usize) -> Attempt {
        self.statuses.borrow_mut().clear();
        let t0 = Instant::now();
        let mut tid = None;
        let mut seen_verified = false;
        let outcome = self.ceremony(kind, n, &mut tid, &mut seen_verified);
        Attempt {
            kind,
            tid,
            seen_verified,
            latency: t0.elapsed(),
            outcome,
            statuses: self.statuses.take(),
        }
    }

    fn ceremony(
        &self,
        kind: Kind,
        n: usize,
        tid: &mut Option<String>,
        seen: &mut bool,
    ) -> Result<(), Failure> {
        let started = match kind {
            Kind::Login => self.post_api("/api/v1/transactions", &json!({"operation": "login"})),
            Kind::MessageSignature => self.post_api(
                "/api/v1/transactions",
                &json!({"operation": "messageSignature",
                        "message": format!("确认投标报价 #{n}: 1,234,567.00 元")}),
            ),
            Kind::BidFile => self.upload(&format!("/api/v1/bidfiles?name=bid-{n}.txt"), BID),
        };
        let data = envelope(started?)?;
        let field = |k: &str| {
            data[k]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| Failure::Platform(format!("NO_{k}")))
        };
        let (id, qr, owner) = (field("tid")?, field("qrText")?, field("ownerToken")?);
        *tid = Some(id.clone());
        *seen = self.phone_approves(&qr)?;
        let path = match kind {
            Kind::BidFile => format!("/api/v1/bidfiles/{id}/envelope"),
            _ => format!("/api/v1/transactions/{id}/result"),
        };
        let (status, body) = self.get_owned(&path, &owner)?;
        match kind {
            Kind::BidFile if status == 200 && !body.is_empty() => Ok(()),
            _ => envelope((status, body)).map(|_| ()),
        }
    }

    /// The phone: QR checked, request fetched and checked, approval signed and posted;
    /// whether the platform answered `verified`.
    fn phone_approves(&self, qr: &str) -> Result<bool, Failure> {
        let s = &self.shared;
        let now = camr::qr::unix_now();
        let provider = camr::crypto::default_provider();
        let payload = camr::qr::parse_and_verify(
            provider.as_ref(),
            qr,
            &s.key,
            camr::qr::VerifyOptions::at(now),
        )
        .map_err(|e| Failure::App(e.to_string()))?;
        let (signed, request) = s
            .app
            .fetch_request(self, &payload, &s.key, now)
            .map_err(app_failure)?;
        let response = s
            .app
            .approve(&s.wallet, &signed, &request, &[])
            .map_err(app_failure)?;
        let answer = s
            .app
            .post_response(self, &request, &response)
            .map_err(app_failure)?;
        Ok(answer["state"] == "verified")
    }

    fn note(&self, r: reqwest::Result<reqwest::blocking::Response>) -> Result<Answer, Failure> {
        let r = r.map_err(|_| Failure::Unreachable)?;
        let status = r.status().as_u16();
        self.statuses.borrow_mut().push(status);
        let body = r.bytes().map_err(|_| Failure::Unreachable)?;
        Ok((status, body.to_vec()))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.base)
    }

    fn post_api(&self, path: &str, body: &Value) -> Result<Answer, Failure> {
        self.note(self.http.post(self.url(path)).json(body).send())
    }

    fn upload(&self, path: &str, body: &[u8]) -> Result<Answer, Failure> {
        let req = self
            .http
            .post(self.url(path))
            .header("content-type", "application/octet-stream")
            .body(body.to_vec());
        self.note(req.send())
    }

    fn get_owned(&self, path: &str, owner: &str) -> Result<Answer, Failure> {
        let req = self.http.get(self.url(path)).header("X-Camr-Owner", owner);
        self.note(req.send())
    }
}

/// The phone's HTTP goes through the same client, so its statuses are counted too.
impl Transport for Client {
    fn get(&self, uri: &str) -> Result<Vec<u8>, AppError> {
        self.note(self.http.get(uri).send())
            .map(|(_, b)| b)
            .map_err(|e| AppError::Transport(e.to_string()))
    }

    fn post_json(&self, uri: &str, body: &[u8]) -> Result<Vec<u8>, AppError> {
        let req = self
            .http
            .post(uri)
            .header("content-type", "application/json")
            .body(body.to_vec());
        self.note(req.send())
            .map(|(_, b)| b)
            .map_err(|e| AppError::Transport(e.to_string()))
    }
}

fn app_failure(e: AppError) -> Failure {
    match e {
        AppError::Platform { code, .. } => Failure::Platform(code.to_string()),
        AppError::Transport(t) if t == Failure::Unreachable.to_string() => Failure::Unreachable,
        other => Failure::App(other.to_string()),
    }
}

/// The `data` of a successful result envelope, or the platform's `errorCode`.
fn envelope((status, body): Answer) -> Result<Value, Failure> {
    let v: Value = serde_json::from_slice(&body)
        .map_err(|_| Failure::Platform(format!("HTTP_{status}_NOT_JSON")))?;
    if v["success"] == true {
        return Ok(v["data"].clone());
    }
    Err(Failure::Platform(
        v["errorCode"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP_{status}")),
    ))
}
