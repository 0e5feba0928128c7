//! # camr-app-sim — a mobile CA certificate app in a terminal
//!
//! What a CA vendor's app does when the user scans a platform's QR code: read the QR (from a
//! PNG with [`camr::qr::decode_image`], or the payload text), check the platform's signature
//! on it, fetch the platform-signed request object from the QR's request URI and check that
//! too, show the system code (系统标识码), the trading system name (交易系统名称) and what is
//! asked, unlock the wallet with its PIN ([`Wallet::unlock`]: locked after 5 wrong PINs), ask
//! for confirmation, and post the approval or rejection ([`App`]) to the request's response
//! URI.
//!
//! The platform's key comes from a file (`--platform-key`), or — a development shortcut for
//! the signed registry ([`camr::registry`]) a real app uses — from the platform itself
//! (`--trust-platform-url`, `GET <origin>/api/v1/platform`).

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use camr::app::{App, AppError, Wallet};
use camr::crypto::{CryptoProvider, PublicKey, default_provider};
use camr::protocol::{ErrorCode, Operation, OperationPayload, QrPayload, RequestObject};
use serde_json::Value;

/// Vendor code (`caOrgType`) this simulator answers as.
pub const VENDOR: &str = "SOFTCA";

/// Why a scan did not go through: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError {
    /// The code.
    pub code: ErrorCode,
    /// The sentence.
    pub msg: String,
}

impl SimError {
    /// A new error.
    pub fn new(code: ErrorCode, msg: impl Into<String>) -> Self {
        Self {
            code,
            msg: msg.into(),
        }
    }

    /// Exit status: 2 for bad input, 1 for anything refused.
    pub fn exit_code(&self) -> u8 {
        match self.code {
            ErrorCode::InputMalformed | ErrorCode::QrMalformed | ErrorCode::TidInvalid => 2,
            _ => 1,
        }
    }
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.msg)
    }
}

impl std::error::Error for SimError {}

impl From<AppError> for SimError {
    fn from(e: AppError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<camr::qr::QrError> for SimError {
    fn from(e: camr::qr::QrError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<camr::ceremony::CeremonyError> for SimError {
    fn from(e: camr::ceremony::CeremonyError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

/// Where the QR comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrSource {
    /// A PNG file holding the QR code.
    Png(PathBuf),
    /// The payload text itself.
    Payload(String),
}

/// Where the platform's public key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformKeySource {
    /// A public key file (SPKI PEM or DER), e.g. the server's `data/platform-pub.pem`.
    File(PathBuf),
    /// Development shortcut: ask the platform itself (`<origin>/api/v1/platform`).
    TrustPlatformUrl,
    /// The signed trust list (registry) and its authority's public key: what a real app
    /// does. The QR's platform, key and request URI, and the response URI, must be listed.
    Registry {
        /// The signed trust list (`SignedTrustList` JSON).
        list: PathBuf,
        /// The registry authority's public key.
        authority: PathBuf,
    },
}

/// What `camr-app scan` was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions {
    /// The QR.
    pub qr: QrSource,
    /// The wallet folder (`camr ca issue`, or the server's `data/wallet`).
    pub wallet: PathBuf,
    /// The PIN; asked for when absent.
    pub pin: Option<String>,
    /// Reject with this reason instead of approving.
    pub reject: Option<String>,
    /// Do not ask for confirmation.
    pub yes: bool,
    /// The platform key.
    pub platform_key: PlatformKeySource,
    /// Which certificate to use when the wallet folder holds both a `personal/` and an
    /// `org/` wallet.
    pub cert: Option<CertChoice>,
    /// Act as a staff member for the organisation certificate under this delegation
    /// (`SignedDelegation` JSON, 证书授权).
    pub delegation: Option<PathBuf>,
}

/// Personal or organisation certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertChoice {
    /// The personal certificate (`<wallet>/personal`).
    Personal,
    /// The organisation certificate (`<wallet>/org`).
    Org,
}

/// The wallet folder to use: the folder itself when it holds a wallet, else its `personal/`
/// or `org/` sub-wallet as chosen (or the only one there is).
pub fn choose_wallet(
    base: &std::path::Path,
    cert: Option<CertChoice>,
) -> Result<PathBuf, SimError> {
    let has = |p: &std::path::Path| p.join(camr::softca::wallet_files::SIGN_CERT).exists();
    let (personal, org) = (base.join("personal"), base.join("org"));
    match cert {
        Some(CertChoice::Personal) if has(&personal) => Ok(personal),
        Some(CertChoice::Org) if has(&org) => Ok(org),
        Some(_) if has(base) => Ok(base.to_path_buf()),
        Some(c) => Err(SimError::new(
            ErrorCode::InputMalformed,
            format!("the wallet {} holds no {c:?} certificate", base.display()),
        )),
        None if has(base) => Ok(base.to_path_buf()),
        None => match (has(&personal), has(&org)) {
            (true, false) => Ok(personal),
            (false, true) => Ok(org),
            (true, true) => Err(SimError::new(
                ErrorCode::InputMalformed,
                "the wallet holds a personal and an organisation certificate: choose one with --cert personal|org",
            )),
            (false, false) => Err(SimError::new(
                ErrorCode::InputMalformed,
                format!("no wallet in {}", base.display()),
            )),
        },
    }
}

/// The terminal: lines out, answers in.
pub trait Ui {
    /// Shows a line.
    fn say(&mut self, line: &str);
    /// Asks a question; `None` when there is no answer (end of input).
    fn ask(&mut self, prompt: &str) -> Option<String>;
}

/// stdout and stdin. The PIN is read as a line (it is echoed: this is a simulator).
#[derive(Debug, Default)]
pub struct StdUi;

impl Ui for StdUi {
    fn say(&mut self, line: &str) {
        println!("{line}");
    }

    fn ask(&mut self, prompt: &str) -> Option<String> {
        use std::io::Write;
        print!("{prompt}");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_string()),
        }
    }
}

/// What the user decided and what the platform said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The transaction.
    pub tid: String,
    /// The operation.
    pub operation: Operation,
    /// Whether the user approved.
    pub approved: bool,
    /// The transaction state the platform answered (`verified`, `rejected`).
    pub state: String,
}

/// A blocking HTTP client with a timeout (rustls with ring, installed once).
pub fn http_client() -> Result<reqwest::blocking::Client, SimError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| SimError::new(ErrorCode::Internal, format!("cannot set up HTTP: {e}")))
}

/// The QR payload text from a PNG or as given.
pub fn read_qr_text(source: &QrSource) -> Result<String, SimError> {
    match source {
        QrSource::Payload(p) => Ok(p.trim().to_string()),
        QrSource::Png(path) => {
            let bytes = std::fs::read(path).map_err(|e| {
                SimError::new(
                    ErrorCode::InputMalformed,
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            Ok(camr::qr::decode_image(&bytes)?)
        }
    }
}

/// `scheme://host[:port]` of a URI.
pub fn origin_of(uri: &str) -> Result<String, SimError> {
    let url = reqwest::Url::parse(uri)
        .map_err(|e| SimError::new(ErrorCode::QrMalformed, format!("`{uri}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(SimError::new(
            ErrorCode::QrMalformed,
            format!("`{uri}` is not an http(s) URL"),
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// Reads a result envelope: `data` on success, the platform's error code otherwise.
fn envelope_data(what: &str, r: reqwest::blocking::Response) -> Result<Value, SimError> {
    let status = r.status();
    let v: Value = r.json().map_err(|e| {
        SimError::new(
            ErrorCode::InputMalformed,
            format!(
                "{what}: the platform did not answer with a result envelope (HTTP {status}): {e}"
            ),
        )
    })?;
    if v.get("success").and_then(Value::as_bool) == Some(true) {
        return Ok(v.get("data").cloned().unwrap_or(Value::Null));
    }
    let code = v
        .get("errorCode")
        .and_then(Value::as_str)
        .and_then(|c| c.parse().ok())
        .unwrap_or(ErrorCode::Internal);
    let msg = v.get("msg").and_then(Value::as_str).unwrap_or_default();
    Err(SimError::new(
        code,
        format!("{what}: the platform refused (HTTP {status}): {msg}"),
    ))
}

/// The simulator's [`camr::app::Transport`]: blocking HTTP with rustls.
#[derive(Debug, Clone)]
pub struct HttpTransport(pub reqwest::blocking::Client);

impl camr::app::Transport for HttpTransport {
    fn get(&self, uri: &str) -> Result<Vec<u8>, AppError> {
        let r = self
            .0
            .get(uri)
            .send()
            .map_err(|e| AppError::Transport(format!("cannot reach {uri}: {e}")))?;
        r.bytes()
            .map(|b| b.to_vec())
            .map_err(|e| AppError::Transport(format!("cannot read {uri}: {e}")))
    }
    fn post_json(&self, uri: &str, body: &[u8]) -> Result<Vec<u8>, AppError> {
        let r = self
            .0
            .post(uri)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .map_err(|e| AppError::Transport(format!("cannot reach {uri}: {e}")))?;
        r.bytes()
            .map(|b| b.to_vec())
            .map_err(|e| AppError::Transport(format!("cannot read {uri}: {e}")))
    }
}

fn net(what: &str, e: reqwest::Error) -> SimError {
    SimError::new(
        ErrorCode::Internal,
        format!("{what}: cannot reach the platform: {e}"),
    )
}

/// Development shortcut: the platform's key from `<origin>/api/v1/platform`.
pub fn fetch_platform_key(
    client: &reqwest::blocking::Client,
    origin: &str,
) -> Result<(PublicKey, Value), SimError> {
    let url = format!("{origin}/api/v1/platform");
    let info = envelope_data(
        "platform info",
        client.get(&url).send().map_err(|e| net(&url, e))?,
    )?;
    let spki: camr::protocol::Bytes = info
        .get("publicKeySpki")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| {
            SimError::new(
                ErrorCode::KeyMalformed,
                format!("{url} has no base64 `publicKeySpki`"),
            )
        })?;
    let key = PublicKey::from_spki_der(&spki)
        .map_err(|e| SimError::new(e.code(), format!("{url}: {e}")))?;
    Ok((key, info))
}

/// A platform key from a file (SPKI PEM or DER).
pub fn read_platform_key(path: &std::path::Path) -> Result<PublicKey, SimError> {
    let bytes = std::fs::read(path).map_err(|e| {
        SimError::new(
            ErrorCode::InputMalformed,
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    PublicKey::from_bytes(&bytes)
        .map_err(|e| SimError::new(e.code(), format!("{}: {e}", path.display())))
}

fn operation_label(op: Operation) -> &'static str {
    match op {
        Operation::Login => "注册登录 login",
        Operation::MessageSignature => "消息签名 message signature",
        Operation::Signature => "签章 signature",
        Operation::RevokeSignature => "撤章 revoke seal",
        Operation::Encrypt => "加密 hand over the encryption certificate",
        Operation::Decrypt => "解密 decrypt (bid opening)",
    }
}

/// What the request asks, as lines to show the user.
pub fn describe(request: &RequestObject, now: i64) -> Vec<String> {
    let mut out = vec![
        format!(
            "系统标识码 System code:      {}",
            request.system_code.as_str()
        ),
        format!("交易系统名称 Trading system: {}", request.system_name),
        format!(
            "操作 Operation:              {}",
            operation_label(request.operation)
        ),
        format!("交易号 Transaction:          {}", request.tid),
        format!(
            "有效期 Expires in:           {} s",
            (request.expires_at - now).max(0)
        ),
    ];
    match &request.payload {
        OperationPayload::Login { share_registration } => {
            if *share_registration {
                out.push("共享注册 The platform asks for shared registration data".into());
            }
        }
        OperationPayload::MessageSignature { message } => {
            out.push(format!("待签消息 Message to sign:    {message}"));
        }
        OperationPayload::Signature { items } => {
            out.push(format!("待签文件 Documents ({}):", items.len()));
            out.extend(items.iter().map(item_line));
        }
        OperationPayload::RevokeSignature {
            seal_id,
            document_name,
            reason,
            items,
        } => {
            out.push(format!("印章 Seal:                   {seal_id}"));
            out.push(format!("文件 Document:               {document_name}"));
            if let Some(r) = reason {
                out.push(format!("原因 Reason:                 {r}"));
            }
            out.extend(items.iter().map(item_line));
        }
        OperationPayload::Encrypt {} => {
            out.push("将提供加密证书 Your encryption certificate will be handed over".into());
        }
        OperationPayload::Decrypt { items, .. } => {
            out.push(format!("待解密密钥 Keys to unwrap ({}):", items.len()));
            for i in items {
                out.push(format!(
                    "  - [{}] for encryption certificate SN {}",
                    i.id, i.recipient_cert_sn
                ));
            }
        }
    }
    out
}

/// One item to sign, as the app shows it: name, id, hash and, for a PDF seal (签章), that
/// the CAdES attributes over the document's byte-range digest are signed.
fn item_line(i: &camr::protocol::SignItem) -> String {
    let what = match i.format {
        camr::protocol::SignFormat::Hash => "",
        camr::protocol::SignFormat::CadesAttributes => " (PDF 签章 seal: CAdES)",
    };
    format!(
        "  - {} [{}] {:?} {}{what}",
        i.name,
        i.id,
        i.hash_algorithm,
        hex_of(&i.hash)
    )
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Checks that answers go only to the origin the QR code named.
fn check_request(payload: &QrPayload, request: &RequestObject) -> Result<(), SimError> {
    // tid, operation, system code and expiry are checked by `App::fetch_request`.
    // Without the registry, answers go only to the origin the QR named.
    if origin_of(&request.response_uri)? != origin_of(&payload.request_uri)? {
        return Err(SimError::new(
            ErrorCode::PlatformUnknown,
            format!(
                "the response URI {} is not on the platform the QR named ({})",
                request.response_uri, payload.request_uri
            ),
        ));
    }
    Ok(())
}

/// Unlocks the wallet with the given PIN, or asks for it until it opens or locks.
pub fn unlock_wallet(
    dir: &std::path::Path,
    pin: Option<&str>,
    ui: &mut dyn Ui,
) -> Result<Wallet, SimError> {
    if let Some(pin) = pin {
        return Ok(Wallet::unlock(dir, pin.as_bytes())?);
    }
    loop {
        let pin = ui
            .ask("PIN 口令: ")
            .ok_or_else(|| SimError::new(ErrorCode::KeyPasswordRequired, "no PIN given"))?;
        match Wallet::unlock(dir, pin.as_bytes()) {
            Ok(w) => return Ok(w),
            Err(e @ AppError::WrongPin { .. }) => ui.say(&format!("口令错误 {e}")),
            Err(e) => return Err(e.into()),
        }
    }
}

/// The whole scan: read, check, show, unlock, confirm, answer, post.
pub fn scan(options: &ScanOptions, ui: &mut dyn Ui) -> Result<Outcome, SimError> {
    let provider: Arc<dyn CryptoProvider> = default_provider();
    let client = http_client()?;
    let text = read_qr_text(&options.qr)?;
    let payload = camr::qr::parse(&text)?;
    let mut registry = None;
    let key = match &options.platform_key {
        PlatformKeySource::Registry { list, authority } => {
            let bytes = std::fs::read(list).map_err(|e| {
                SimError::new(
                    ErrorCode::InputMalformed,
                    format!("{}: {e}", list.display()),
                )
            })?;
            let signed: camr::registry::SignedTrustList =
                serde_json::from_slice(&bytes).map_err(|e| {
                    SimError::new(
                        ErrorCode::RegistryInvalid,
                        format!("{} is not a signed trust list: {e}", list.display()),
                    )
                })?;
            let authority = read_platform_key(authority)?;
            let reg = camr::registry::Registry::verify(
                provider.as_ref(),
                &signed,
                &authority,
                camr::qr::unix_now(),
            )
            .map_err(|e| SimError::new(e.code(), e.to_string()))?;
            let (checked, name) = reg
                .check_qr(
                    provider.as_ref(),
                    &text,
                    camr::qr::VerifyOptions::at(camr::qr::unix_now()),
                )
                .map_err(|e| SimError::new(e.code(), e.to_string()))?;
            ui.say(&format!(
                "注册表 Registry: {} is listed as 「{name}」",
                checked.system_code()
            ));
            let key = reg
                .platform_key(&checked.system_code(), &checked.key_id)
                .map_err(|e| SimError::new(e.code(), e.to_string()))?;
            registry = Some((reg, name));
            key
        }
        PlatformKeySource::File(path) => read_platform_key(path)?,
        PlatformKeySource::TrustPlatformUrl => {
            let origin = origin_of(&payload.request_uri)?;
            ui.say(&format!(
                "注意 DEVELOPMENT SHORTCUT: the platform key is taken from {origin}/api/v1/platform \
                 itself; a real app looks the platform up in the signed registry (trust list)."
            ));
            fetch_platform_key(&client, &origin)?.0
        }
    };
    let now = camr::qr::unix_now();
    camr::qr::verify(
        provider.as_ref(),
        &payload,
        &key,
        camr::qr::VerifyOptions::at(now),
    )?;
    let app = App::new(provider.clone(), VENDOR);
    let transport = HttpTransport(client.clone());
    let (signed, request) = app.fetch_request(&transport, &payload, &key, now)?;
    check_request(&payload, &request)?;
    if let Some((reg, name)) = &registry {
        // Answers go only to response URIs the registry lists for this platform, and the
        // name shown is the registry's, not whatever the request claims.
        reg.check_response_uri(&request.system_code, &request.response_uri)
            .map_err(|e| SimError::new(e.code(), e.to_string()))?;
        if &request.system_name != name {
            return Err(SimError::new(
                ErrorCode::PlatformUnknown,
                format!(
                    "the request calls the platform 「{}」 but the registry lists 「{name}」",
                    request.system_name
                ),
            ));
        }
    }
    ui.say("平台签名有效 The platform's signatures on the QR and the request verify.");
    for line in describe(&request, now) {
        ui.say(&line);
    }
    let wallet_dir = choose_wallet(&options.wallet, options.cert)?;
    let wallet = unlock_wallet(&wallet_dir, options.pin.as_deref(), ui)?;
    let is_org = wallet.sign_cert.cert_type() == camr::protocol::CertType::OrgCert;
    if options.cert == Some(CertChoice::Org) && !is_org {
        return Err(SimError::new(
            ErrorCode::CertWrongUsage,
            "--cert org, but this wallet's certificate is a personal one",
        ));
    }
    if options.cert == Some(CertChoice::Personal) && is_org {
        return Err(SimError::new(
            ErrorCode::CertWrongUsage,
            "--cert personal, but this wallet's certificate is an organisation one",
        ));
    }
    ui.say(&format!(
        "证书 Certificate: {} (SN {})",
        wallet.sign_cert.common_name(),
        wallet.sign_cert.serial_hex()
    ));
    let mut reject = options.reject.clone();
    if !options.yes {
        let question = match &reject {
            Some(r) => format!("拒绝（原因：{r}）？Reject with this reason? [y/N] "),
            None => "同意？Approve? [y/N] ".to_string(),
        };
        let yes = ui
            .ask(&question)
            .is_some_and(|a| matches!(a.trim(), "y" | "Y" | "yes" | "是"));
        if !yes && reject.is_none() {
            let reason = ui
                .ask("拒绝原因 Reason for rejecting: ")
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| "用户拒绝 declined by the user".to_string());
            reject = Some(reason);
        } else if !yes {
            return Err(SimError::new(
                ErrorCode::InputMalformed,
                "nothing sent: the rejection was not confirmed",
            ));
        }
    }
    let response = match &reject {
        Some(reason) => app.reject(&wallet, &signed, &request, reason)?,
        None => match &options.delegation {
            None => app.approve(&wallet, &signed, &request, &[])?,
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    SimError::new(
                        ErrorCode::InputMalformed,
                        format!("{}: {e}", path.display()),
                    )
                })?;
                let d: camr::app::SignedDelegation =
                    serde_json::from_slice(&bytes).map_err(|e| {
                        SimError::new(
                            ErrorCode::InputMalformed,
                            format!("{} is not a signed delegation: {e}", path.display()),
                        )
                    })?;
                let r =
                    app.approve_as_staff(&wallet, &d, &signed, &request, camr::qr::unix_now())?;
                ui.say(&format!(
                    "授权 Acting for the organisation as {}",
                    r.operator.clone().unwrap_or_default()
                ));
                r
            }
        },
    };
    let state = app
        .post_response(&transport, &request, &response)?
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    ui.say(&format!(
        "结果 Outcome: {} → the platform says `{state}`",
        if reject.is_some() {
            "已拒绝 rejected"
        } else {
            "已同意 approved"
        }
    ));
    Ok(Outcome {
        tid: request.tid.to_string(),
        operation: request.operation,
        approved: reject.is_none(),
        state,
    })
}

/// One task pushed to the user's app through the vendor cloud.
#[derive(Debug, Clone, serde::Deserialize)]
struct PushedTask {
    id: String,
    #[serde(default)]
    request: Value,
}

/// Vendor-initiated signing (as the BJCA collaborative-signing app's 待处理 list): the
/// platform pushed its QR payload to this user's app through the vendor cloud instead of
/// showing it. Pulls the wallet holder's pending tasks from `cloud` (`GET /tasks?user=<signing
/// certificate serial>`), answers each exactly as a scan would (same checks, same
/// confirmation), and reports the outcome back (`POST /tasks/{id}/result`). A task without a
/// `qrText` is reported as refused.
pub fn tasks(
    cloud: &str,
    template: &ScanOptions,
    ui: &mut dyn Ui,
) -> Result<Vec<Outcome>, SimError> {
    let client = http_client()?;
    let cert_path = template.wallet.join(camr::softca::wallet_files::SIGN_CERT);
    let cert_pem = std::fs::read(&cert_path).map_err(|e| {
        SimError::new(
            ErrorCode::InputMalformed,
            format!("{}: {e}", cert_path.display()),
        )
    })?;
    let cert = camr::pki::Certificate::parse_one(&cert_pem)
        .map_err(|e| SimError::new(e.code(), e.to_string()))?;
    let base = cloud.trim_end_matches('/');
    let url = format!("{base}/tasks?user={}", cert.serial_hex());
    let pending: Vec<PushedTask> = client
        .get(&url)
        .send()
        .and_then(reqwest::blocking::Response::error_for_status)
        .and_then(reqwest::blocking::Response::json)
        .map_err(|e| {
            SimError::new(
                ErrorCode::AdapterUnavailable,
                format!("cannot read the task list from {base}: {e}"),
            )
        })?;
    ui.say(&format!(
        "待处理 Pending tasks for {} (SN {}): {}",
        cert.common_name(),
        cert.serial_hex(),
        pending.len()
    ));
    let mut outcomes = Vec::new();
    for task in pending {
        let report = match task.request.get("qrText").and_then(Value::as_str) {
            None => serde_json::json!({"approved": false, "error": "the task carries no qrText"}),
            Some(text) => {
                ui.say(&format!("任务 Task {}", task.id));
                let options = ScanOptions {
                    qr: QrSource::Payload(text.to_string()),
                    ..template.clone()
                };
                match scan(&options, ui) {
                    Ok(out) => {
                        let r = serde_json::json!({"tid": out.tid, "state": out.state, "approved": out.approved});
                        outcomes.push(out);
                        r
                    }
                    Err(e) => {
                        ui.say(&format!("拒绝 refused: {e}"));
                        serde_json::json!({"approved": false, "errorCode": e.code.as_str(), "error": e.msg})
                    }
                }
            }
        };
        client
            .post(format!("{base}/tasks/{}/result", task.id))
            .json(&report)
            .send()
            .and_then(reqwest::blocking::Response::error_for_status)
            .map_err(|e| {
                SimError::new(
                    ErrorCode::AdapterUnavailable,
                    format!("cannot report task {}: {e}", task.id),
                )
            })?;
    }
    Ok(outcomes)
}
