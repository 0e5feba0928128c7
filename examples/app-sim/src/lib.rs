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

mod delegate;
mod describe;
mod net;
mod session;
mod tasks;
mod wallets;

pub use delegate::{DelegateOptions, delegate};
pub use describe::describe;
use describe::{check_request, item_refusals};
use net::task_list_at;
pub use net::{
    HttpTransport, fetch_platform_key, http_client, origin_of, read_platform_key, read_qr_text,
};
use session::{SessionPhone, wait_in_session};
pub use tasks::tasks;
use wallets::{identity_line, subject_label};
pub use wallets::{select_wallet, wallet_candidates};

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
