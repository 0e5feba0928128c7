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
use camr::protocol::{
    ErrorCode, Operation, OperationPayload, QrPayload, RequestObject, Response, SessionStep,
};
use serde_json::Value;

pub mod vendors;

/// Vendor code (`caOrgType`) of a wallet without a vendor file (camr's software CA); a
/// wallet's `vendor.json` names another ([`vendors`]).
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
    /// Further wallet folders this app holds (`--wallet` given more than once): the app
    /// offers only the certificates the request accepts ([`select_wallet`]).
    pub wallets: Vec<PathBuf>,
    /// Items of a batch to refuse (拒签), with reasons; the others are signed (批量签署).
    pub refuse_items: Vec<camr::protocol::ItemRejection>,
}

/// Personal or organisation certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertChoice {
    /// The personal certificate (`<wallet>/personal`).
    Personal,
    /// The organisation certificate (`<wallet>/org`).
    Org,
}

/// The wallets in `folders`: a folder holding a wallet, else each of its sub-folders that
/// holds one (e.g. `personal/` and `org/`), in name order.
pub fn wallet_candidates(folders: &[PathBuf]) -> Vec<PathBuf> {
    let has = |p: &std::path::Path| p.join(camr::softca::wallet_files::SIGN_CERT).exists();
    let mut out = Vec::new();
    for f in folders {
        if has(f) {
            out.push(f.clone());
            continue;
        }
        let mut subs: Vec<PathBuf> = std::fs::read_dir(f)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| has(p))
                    .collect()
            })
            .unwrap_or_default();
        subs.sort();
        out.extend(subs);
    }
    out
}

/// The holder's identity document (证件类型) as the certificate names it, e.g. `证件 Identity
/// document: 护照 passport (GB) 123456789`.
fn identity_line(subject: &camr::pki::Subject) -> Option<String> {
    let t = subject.identity_type?;
    let name = serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    Some(format!(
        "证件 Identity document: {} {name}{} {}",
        t.chinese_name(),
        subject
            .identity_country
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default(),
        subject.identity_number.as_deref().unwrap_or_default()
    ))
}

fn subject_label(t: camr::protocol::SubjectType) -> &'static str {
    match t {
        camr::protocol::SubjectType::Personal => "个人证书 personal certificate",
        camr::protocol::SubjectType::Org => "机构证书 organisation certificate",
    }
}

/// The wallet to answer with: among the wallets in `folders` ([`wallet_candidates`]), those
/// of the kind chosen with `cert` and that the request accepts (`requires`: this app's
/// vendor [`VENDOR`], personal or organisation certificate). One fits: that one. None:
/// `CERT_NOT_ENTITLED`, and `ui` is told why each does not. Several: the user must choose.
pub fn select_wallet(
    folders: &[PathBuf],
    cert: Option<CertChoice>,
    requires: Option<&camr::protocol::CertRequirement>,
    ui: &mut dyn Ui,
) -> Result<PathBuf, SimError> {
    use camr::protocol::{CertType, SubjectType};
    let candidates = wallet_candidates(folders);
    if candidates.is_empty() {
        return Err(SimError::new(
            ErrorCode::InputMalformed,
            format!(
                "no wallet in {}",
                folders
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut held = Vec::new();
    for dir in &candidates {
        let v = vendors::vendor_of(dir)?.ca_org_type;
        if !held.contains(&v) {
            held.push(v);
        }
    }
    let accepted = |v: &str| {
        requires.is_none_or(|r| r.ca_org_types.is_empty() || r.ca_org_types.iter().any(|a| a == v))
    };
    if let Some(r) = requires.filter(|_| !held.iter().any(|v| accepted(v))) {
        let why = format!(
            "this platform accepts certificates of {} only; this app holds {} certificates",
            r.ca_org_types.join(", "),
            held.join(", ")
        );
        ui.say(&format!(
            "本平台不接受此 CA 的证书 Not accepted here: {why}"
        ));
        return Err(SimError::new(ErrorCode::CertNotEntitled, why));
    }
    let want = requires.and_then(|r| r.subject_type);
    let mut fitting = Vec::new();
    let mut reasons = Vec::new();
    for dir in candidates {
        let path = dir.join(camr::softca::wallet_files::SIGN_CERT);
        let c = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| camr::pki::Certificate::parse_one(&b).map_err(|e| e.to_string()))
            .map_err(|e| {
                SimError::new(ErrorCode::CertMalformed, format!("{}: {e}", path.display()))
            })?;
        let kind = match c.cert_type() {
            CertType::OrgCert => SubjectType::Org,
            CertType::PersonalCert => SubjectType::Personal,
        };
        let label = format!(
            "{} ({}, SN {}, {})",
            c.common_name(),
            subject_label(kind),
            c.serial_hex(),
            dir.display()
        );
        let chosen = match cert {
            Some(CertChoice::Org) => kind == SubjectType::Org,
            Some(CertChoice::Personal) => kind == SubjectType::Personal,
            None => true,
        };
        let vendor = vendors::vendor_of(&dir)?.ca_org_type;
        if !chosen {
            reasons.push(format!("{label}: not the kind chosen with --cert"));
        } else if !accepted(&vendor) {
            reasons.push(format!(
                "{label}: a {vendor} certificate, not accepted here"
            ));
        } else if want.is_some_and(|w| w != kind) {
            reasons.push(format!(
                "{label}: the platform requires a {}",
                want.map(subject_label).unwrap_or_default()
            ));
        } else {
            fitting.push((dir, label));
        }
    }
    match fitting.len() {
        1 => Ok(fitting.remove(0).0),
        0 => {
            ui.say("没有符合要求的证书 No certificate of this app fits:");
            for r in &reasons {
                ui.say(&format!("  - {r}"));
            }
            let code = if want.is_some() {
                ErrorCode::CertNotEntitled
            } else {
                ErrorCode::InputMalformed
            };
            Err(SimError::new(
                code,
                format!("no certificate fits: {}", reasons.join("; ")),
            ))
        }
        _ => Err(SimError::new(
            ErrorCode::InputMalformed,
            format!(
                "several certificates fit ({}): choose one with --cert personal|org, or name one wallet",
                fitting
                    .iter()
                    .map(|(_, l)| l.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )),
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
    /// For a seal session (签章会话): the seals signed while the phone waited.
    pub session_seals: u32,
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
    if let Some(r) = &request.requires {
        let mut what = Vec::new();
        if let Some(t) = r.subject_type {
            what.push(subject_label(t).to_string());
        }
        if !r.ca_org_types.is_empty() {
            what.push(format!("CA {}", r.ca_org_types.join(", ")));
        }
        out.push(format!("要求 Requires:               {}", what.join("; ")));
    }
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
        OperationPayload::SealSession {
            document_name,
            pages,
            ..
        } => {
            out.push(format!(
                "签章会话 Seal session:       {document_name} ({pages} pages)"
            ));
            out.push(
                "  授权后手机进入等待画面，在电脑上选择印章并拖动到指定位置 — after you authorise, \
                 this phone waits and signs each seal you place on the PC page"
                    .into(),
            );
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

/// The items to refuse (拒签): only in a signing batch, each naming one of its items, with a
/// reason.
fn item_refusals<'a>(
    request: &RequestObject,
    refuse: &'a [camr::protocol::ItemRejection],
) -> Result<&'a [camr::protocol::ItemRejection], SimError> {
    if refuse.is_empty() {
        return Ok(refuse);
    }
    let OperationPayload::Signature { items } = &request.payload else {
        return Err(SimError::new(
            ErrorCode::InputMalformed,
            format!(
                "items can be refused only in a signing batch (签章), not in a {}",
                request.operation
            ),
        ));
    };
    for r in refuse {
        if !items.iter().any(|i| i.id == r.item_id) {
            return Err(SimError::new(
                ErrorCode::InputMalformed,
                format!(
                    "the batch has no item `{}` (its items: {})",
                    r.item_id,
                    items
                        .iter()
                        .map(|i| i.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if r.reason.trim().is_empty() {
            return Err(SimError::new(
                ErrorCode::InputMalformed,
                format!("refusing item `{}` needs a reason (拒签理由)", r.item_id),
            ));
        }
    }
    Ok(refuse)
}

/// Unlocks the wallet with the given PIN, or asks for it until it opens or locks.
/// The file in a wallet folder holding the holder's registration data (实名注册信息, a
/// `camr::protocol::SharedRegistration`) that the app may share with a platform (共享注册).
pub const REGISTRATION_FILE: &str = "registration.json";

/// The registration data to share with `request`: only when the request asks for it
/// (`shareRegistration`), the wallet folder holds [`REGISTRATION_FILE`], and the user agrees
/// after seeing every field (`yes` answers yes to every question).
pub fn registration_consent(
    wallet_dir: &std::path::Path,
    request: &RequestObject,
    yes: bool,
    ui: &mut dyn Ui,
) -> Result<Option<camr::protocol::SharedRegistration>, SimError> {
    if !matches!(
        request.payload,
        OperationPayload::Login {
            share_registration: true
        }
    ) {
        return Ok(None);
    }
    let path = wallet_dir.join(REGISTRATION_FILE);
    let Ok(bytes) = std::fs::read(&path) else {
        ui.say("共享注册 No registration data in this app to share; nothing is shared.");
        return Ok(None);
    };
    let data: camr::protocol::SharedRegistration = serde_json::from_slice(&bytes).map_err(|e| {
        SimError::new(
            ErrorCode::InputMalformed,
            format!("{} is not registration data: {e}", path.display()),
        )
    })?;
    data.check().map_err(|e| {
        SimError::new(
            ErrorCode::InputMalformed,
            format!("{}: {e}", path.display()),
        )
    })?;
    ui.say("共享注册 The platform asks for your registration data; this would be shared:");
    for (label, value) in data.fields() {
        ui.say(&format!("  {label}: {value}"));
    }
    let agreed = yes
        || ui
            .ask("共享以上注册信息？Share this registration data? [y/N] ")
            .is_some_and(|a| matches!(a.trim(), "y" | "Y" | "yes" | "是"));
    ui.say(if agreed {
        "共享 Sharing it with the answer (signed)."
    } else {
        "不共享 Not sharing it."
    });
    Ok(agreed.then_some(data))
}

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
    // Either code on the page (二维码类型): the national interop code (全国互认码) or the
    // vendor app code (厂商码); the profile also says where the request and answer go.
    let profiles: [Arc<dyn camr::qr::QrProfile>; 2] =
        [Arc::new(camr::qr::Camr1), Arc::new(camr::qr::Vendor1)];
    let profile = camr::qr::find_profile(&profiles, &text)?;
    ui.say(&format!("二维码类型 QR profile: {}", profile.caption()));
    let payload = profile.parse(&text)?;
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
                .check_qr_via(
                    profile.as_ref(),
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
    profile.verify(
        provider.as_ref(),
        &payload,
        &key,
        camr::qr::VerifyOptions::at(now),
    )?;
    let app = App::new(provider.clone(), VENDOR);
    let transport = HttpTransport(client.clone());
    let (signed, request) =
        app.fetch_request_via(profile.as_ref(), &transport, &payload, &key, now)?;
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
    let folders: Vec<PathBuf> = std::iter::once(options.wallet.clone())
        .chain(options.wallets.iter().cloned())
        .collect();
    let wallet_dir = select_wallet(&folders, options.cert, request.requires.as_ref(), ui)?;
    // Answer as the app of the wallet's vendor, in its own format.
    let vendor = vendors::vendor_of(&wallet_dir)?;
    let vendor_app = vendors::app_for(&vendor.ca_org_type)?;
    // The profile of the code scanned goes into every answer, signed (the platform refuses
    // it through another profile's transport).
    let app = vendor_app.app(
        App::new(provider.clone(), vendor_app.ca_org_type()).with_qr_profile(profile.as_ref()),
        &wallet_dir,
        &vendor,
    )?;
    if vendor_app.ca_org_type() != VENDOR {
        ui.say(&format!(
            "应用 App: {} ({})",
            vendor_app.name(),
            vendor_app.ca_org_type()
        ));
    }
    let refusals = item_refusals(&request, &options.refuse_items)?;
    let wallet = unlock_wallet(&wallet_dir, options.pin.as_deref(), ui)?;
    ui.say(&format!(
        "证书 Certificate: {} (SN {})",
        wallet.sign_cert.common_name(),
        wallet.sign_cert.serial_hex()
    ));
    if let Some(line) = identity_line(&wallet.sign_cert.subject()) {
        ui.say(&line);
    }
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
            None => {
                for r in refusals {
                    ui.say(&format!("拒签 Refusing item [{}]: {}", r.item_id, r.reason));
                }
                match registration_consent(&wallet_dir, &request, options.yes, ui)? {
                    Some(data) => app.approve_sharing(&wallet, &signed, &request, Some(&data))?,
                    None => app.approve(&wallet, &signed, &request, refusals)?,
                }
            }
            Some(_) if !refusals.is_empty() => {
                return Err(SimError::new(
                    ErrorCode::InputMalformed,
                    "refusing single items is for one's own certificate; under a delegation answer the whole batch",
                ));
            }
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
    let response = vendor_app.wrap(&wallet_dir, &vendor, response)?;
    let state = app
        .post_response_via(profile.as_ref(), &transport, &request, &response)?
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
    let session_seals = match (&request.payload, &reject) {
        (OperationPayload::SealSession { .. }, None) if state == "verified" => {
            let vendor_answer = |r: Response| vendor_app.wrap(&wallet_dir, &vendor, r);
            let phone = SessionPhone {
                app: &app,
                transport: &transport,
                profile: profile.as_ref(),
                wallet: &wallet,
                key: &key,
                vendor_answer: &vendor_answer,
            };
            wait_in_session(&phone, &request, ui)?
        }
        _ => 0,
    };
    Ok(Outcome {
        tid: request.tid.to_string(),
        operation: request.operation,
        approved: reject.is_none(),
        state,
        session_seals,
    })
}

/// The phone's wait in a seal session (手机等待画面): polls the platform's wait URI and signs
/// each seal the user places on the PC page with the certificate that authorised the session
/// (no second PIN: the session is the authorisation), until the user finishes (完成签章) or
/// the session ends. Returns the number of seals signed.
/// What the waiting phone answers with in a seal session.
struct SessionPhone<'a> {
    app: &'a App,
    transport: &'a HttpTransport,
    profile: &'a dyn camr::qr::QrProfile,
    wallet: &'a camr::app::Wallet,
    key: &'a PublicKey,
    vendor_answer: &'a dyn Fn(Response) -> Result<Response, SimError>,
}

fn wait_in_session(
    phone: &SessionPhone<'_>,
    session: &RequestObject,
    ui: &mut dyn Ui,
) -> Result<u32, SimError> {
    let OperationPayload::SealSession { wait_uri, .. } = &session.payload else {
        return Ok(0);
    };
    // The wait goes to the platform that answered, nowhere else.
    if origin_of(wait_uri)? != origin_of(&session.response_uri)? {
        return Err(SimError::new(
            ErrorCode::PlatformUnknown,
            format!("the session's wait URI {wait_uri} is not on the platform"),
        ));
    }
    ui.say("等待中 Waiting: place your seal on the PC page (不要退出等待画面)…");
    let mut signed = 0u32;
    let mut shown = 0u32;
    loop {
        let now = camr::qr::unix_now();
        let (step, request) = phone
            .app
            .session_step(phone.transport, session, phone.wallet, phone.key, now)
            .map_err(|e| match e {
                AppError::Platform {
                    code: ErrorCode::TxExpired,
                    msg,
                } => SimError::new(
                    ErrorCode::TxExpired,
                    format!(
                        "签章会话已超时 the seal session timed out while the phone waited: {msg}"
                    ),
                ),
                other => other.into(),
            })?;
        let sealed_now = match &step {
            SessionStep::Wait { sealed, .. }
            | SessionStep::Sign { sealed, .. }
            | SessionStep::Done { sealed } => *sealed,
        };
        if sealed_now > shown {
            ui.say(&format!("签章成功 Sealed ({sealed_now} in this session)"));
            shown = sealed_now;
        }
        match (step, request) {
            (SessionStep::Done { sealed }, _) => {
                ui.say(&format!("签章完成 Session finished: {sealed} seal(s)"));
                return Ok(signed);
            }
            (
                SessionStep::Sign {
                    request: signed_request,
                    ..
                },
                Some(request),
            ) => {
                for line in describe(&request, now).into_iter().skip(5) {
                    ui.say(&line);
                }
                let response = (phone.vendor_answer)(phone.app.approve(
                    phone.wallet,
                    &signed_request,
                    &request,
                    &[],
                )?)?;
                let state = phone
                    .app
                    .post_response_via(phone.profile, phone.transport, &request, &response)?
                    .get("state")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string();
                ui.say(&format!(
                    "签章 Signed the placed seal → the platform says `{state}`"
                ));
                signed += 1;
            }
            (SessionStep::Wait { retry_after_ms, .. }, _) => {
                std::thread::sleep(std::time::Duration::from_millis(u64::from(
                    retry_after_ms.clamp(100, 5_000),
                )));
            }
            (SessionStep::Sign { .. }, None) => {
                return Err(SimError::new(
                    ErrorCode::Internal,
                    "a signing step came without its checked request",
                ));
            }
        }
    }
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

/// What `camr-app delegate` was told: the organisation's wallet and what it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateOptions {
    /// The organisation certificate's wallet (its holder signs the delegation).
    pub wallet: PathBuf,
    /// Its PIN.
    pub pin: String,
    /// The staff member's name.
    pub staff_name: String,
    /// The staff member's identity number.
    pub staff_id: Option<String>,
    /// Trading systems (system codes).
    pub systems: Vec<String>,
    /// Operations (`login`, `encrypt`, `decrypt`, ...).
    pub operations: Vec<String>,
    /// Valid from (Unix seconds).
    pub not_before: i64,
    /// Valid until (Unix seconds).
    pub not_after: i64,
}

/// The organisation grants a staff member the use of its certificate (证书授权): signs a
/// [`camr::app::Delegation`] with the organisation wallet. Returns it and its id (what a
/// platform withdraws, 收回, with `POST /api/v1/admin/delegations/withdraw`).
pub fn delegate(
    options: &DelegateOptions,
    ui: &mut dyn Ui,
) -> Result<(camr::app::SignedDelegation, String), SimError> {
    let bad = |m: String| SimError::new(ErrorCode::InputMalformed, m);
    let trading_systems = options
        .systems
        .iter()
        .map(|s| camr::protocol::SystemCode::parse(s).map_err(|e| bad(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let operations = options
        .operations
        .iter()
        .map(|o| {
            o.parse::<Operation>()
                .map_err(|_| bad(format!("`{o}` is not an operation (login, messageSignature, signature, revokeSignature, encrypt, decrypt)")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if trading_systems.is_empty() || operations.is_empty() || options.staff_name.trim().is_empty() {
        return Err(bad(
            "a delegation names the staff member, at least one trading system and one operation"
                .into(),
        ));
    }
    if options.not_after <= options.not_before {
        return Err(bad("the delegation's period ends before it starts".into()));
    }
    let wallet = unlock_wallet(&options.wallet, Some(&options.pin), ui)?;
    if wallet.sign_cert.cert_type() != camr::protocol::CertType::OrgCert {
        return Err(SimError::new(
            ErrorCode::CertWrongUsage,
            "only an organisation certificate (机构证书) is delegated; this wallet's is a personal one",
        ));
    }
    let d = camr::app::Delegation {
        org_cert_sn: wallet.sign_cert.serial_hex(),
        staff_name: options.staff_name.trim().to_string(),
        staff_id: options.staff_id.clone(),
        trading_systems,
        operations,
        not_before: options.not_before,
        not_after: options.not_after,
    };
    let provider = default_provider();
    let signed = camr::app::delegation::issue(provider.as_ref(), &wallet, &d)?;
    let id = camr::app::delegation::id(provider.as_ref(), &signed);
    ui.say(&format!(
        "授权 {} may use {} (SN {}) on {} for {} until {}; id {id}",
        d.operator(),
        wallet.sign_cert.common_name(),
        d.org_cert_sn,
        options.systems.join(", "),
        options.operations.join(", "),
        d.not_after
    ));
    Ok((signed, id))
}
