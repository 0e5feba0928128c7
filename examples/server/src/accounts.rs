//! Scan-bind and shared registration (扫码绑定, 共享注册): platform accounts bound to
//! certificate holders.
//!
//! A verified login whose holder has no account answers `binding.status: "unbound"` with a
//! registration link; the registration page (`/register?tid=…`) is prefilled with the identity
//! of the verified certificate and the registration data the holder shared in the signed
//! answer (only when the login asked — `shareRegistration` — and the user consented on the
//! phone). Submitted, the account is active at once (`registration.approval = "auto"`) or
//! waits for staff (`"staff"`): until then the holder's logins answer `403 ACCOUNT_PENDING`.
//! Afterwards every login of the holder — also with a renewed or reissued certificate (same
//! identity, new serial) — names the account (`binding.status: "bound"`).
//!
//! Accounts live in the store of `database_url` ([`camr::store::AccountStore`]: memory,
//! SQLite, or PostgreSQL shared by every instance).
//!
//! | method and path | what |
//! |---|---|
//! | `GET /api/v1/registrations/{tid}` | the registration form's prefill for a verified login |
//! | `POST /api/v1/registrations` | register (`{tid, mobile?, email?, address?, contact?}`) |
//! | `GET /api/v1/admin/accounts?status=pending` | accounts (admin token) |
//! | `POST /api/v1/admin/accounts/decide` | approve or refuse a pending registration (admin token) |

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use camr::ceremony::LoginResult;
use camr::protocol::{ErrorCode, SharedRegistration, SubjectType, Tid};
use camr::store::{Account, AccountStatus, AccountStore, StoreError, identity_key};
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, json_body, ok, parse_tid};
use crate::{AppState, ServerError};

/// How long after a verified login its holder may register with it, seconds.
pub const REGISTRATION_WINDOW_SECS: i64 = 1800;

/// How registrations are approved (`registration.approval`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Approval {
    /// At once (系统自动审核通过).
    #[default]
    Auto,
    /// By staff on the admin page (待平台后台审核).
    Staff,
}

/// The `registration.*` keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegistrationConfig {
    /// How registrations are approved.
    pub approval: Approval,
    /// Whether logins started through `POST /api/v1/transactions` ask for shared
    /// registration data (共享注册) unless the body says `shareRegistration`.
    pub share: bool,
}

/// Opens the account and hall records of `database_url` (the same database as the
/// transactions).
/// The stores beside the transactions, on the same database.
pub struct SideStores {
    /// Platform accounts.
    pub accounts: Arc<dyn AccountStore>,
    /// The bid-opening hall.
    pub hall: Arc<dyn camr::store::HallStore>,
    /// Versioned records of multi-step state (seal sessions).
    pub records: Arc<dyn camr::store::RecordStore>,
}

/// Opens the accounts, hall and record stores of `database_url` (memory when absent).
pub async fn open(database_url: Option<&str>) -> Result<SideStores, ServerError> {
    let fail = |url: &str, e: StoreError| {
        ServerError(format!(
            "cannot open the account and hall store `{}`: {e}",
            camr::store::redact(url)
        ))
    };
    Ok(match database_url {
        None => {
            let m = Arc::new(camr::store::MemoryStore::new());
            SideStores {
                accounts: m.clone(),
                hall: m.clone(),
                records: m,
            }
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let p = Arc::new(
                camr::store::PostgresStore::connect(url)
                    .await
                    .map_err(|e| fail(url, e))?,
            );
            SideStores {
                accounts: p.clone(),
                hall: p.clone(),
                records: p,
            }
        }
        Some(url) => {
            let q = Arc::new(
                camr::store::SqliteStore::open(url)
                    .await
                    .map_err(|e| fail(url, e))?,
            );
            SideStores {
                accounts: q.clone(),
                hall: q.clone(),
                records: q,
            }
        }
    })
}

/// Where a login's holder stands with the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum BindingStatus {
    /// No account: register (or, without an identity to bind, the platform cannot).
    Unbound,
    /// The login maps to this account.
    Bound,
}

/// The account side of a login result.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    /// Unbound or bound.
    pub status: BindingStatus,
    /// The account, when bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The registration page, when unbound and the certificate states an identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_uri: Option<String>,
    /// Why there is no registration link, or an earlier refusal's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A login result with its binding (`GET /api/v1/transactions/{tid}/result` of a login).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginOut {
    /// The verified login.
    #[serde(flatten)]
    pub login: LoginResult,
    /// The account it maps to, or how to get one.
    pub binding: Binding,
}

const NO_IDENTITY: &str = "the certificate states no identity an account can be bound to \
    (统一社会信用代码 of an organisation certificate, or the identity document of a personal one)";

/// The binding of a verified login: bound, unbound (with a registration link), or
/// `403 ACCOUNT_PENDING` while its registration waits for staff.
pub async fn login_out(s: &AppState, login: LoginResult) -> Result<LoginOut, ApiError> {
    let Some(key) = identity_key(&login.subject) else {
        return Ok(LoginOut {
            login,
            binding: Binding {
                status: BindingStatus::Unbound,
                account_id: None,
                registration_uri: None,
                note: Some(NO_IDENTITY.into()),
            },
        });
    };
    let account = s
        .accounts
        .account_by_identity(&key)
        .await
        .map_err(ApiError::from)?;
    let register = Some(format!("/register?tid={}", login.tid));
    let binding = match account {
        Some(a) if a.status == AccountStatus::Active => Binding {
            status: BindingStatus::Bound,
            account_id: Some(a.id),
            registration_uri: None,
            note: None,
        },
        Some(a) if a.status == AccountStatus::Pending => {
            return Err(pending(&a));
        }
        Some(a) => Binding {
            status: BindingStatus::Unbound,
            account_id: None,
            registration_uri: register,
            note: Some(format!(
                "an earlier registration was refused: {}",
                a.note.unwrap_or_default()
            )),
        },
        None => Binding {
            status: BindingStatus::Unbound,
            account_id: None,
            registration_uri: register,
            note: None,
        },
    };
    Ok(LoginOut { login, binding })
}

fn pending(a: &Account) -> ApiError {
    ApiError::new(
        ErrorCode::AccountPending,
        format!(
            "the registration of {} (account {}) waits for the platform's approval \
             (待平台后台审核); log in again once it is approved",
            a.name, a.id
        ),
    )
}

/// The identity a registration takes from the verified certificate (read-only on the form).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityOut {
    /// Personal or organisation.
    pub subject_type: SubjectType,
    /// Holder name (姓名).
    pub name: String,
    /// Organisation (单位名称).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// 统一社会信用代码.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
    /// 证件类型.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_type: Option<camr::pki::IdentityType>,
    /// 证件号码.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_number: Option<String>,
    /// A passport's country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_country: Option<String>,
    /// The certificate's serial.
    pub cert_sn: String,
    /// Its CA vendor.
    pub ca_org_type: String,
}

/// `GET /api/v1/registrations/{tid}`: what the registration page shows.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationForm {
    /// The verified login.
    pub tid: String,
    /// From the certificate.
    pub identity: IdentityOut,
    /// What the holder shared (共享注册), signed with the login answer; absent when the login
    /// did not ask or the holder declined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<SharedRegistration>,
    /// How the registration will be approved.
    pub approval: Approval,
}

/// A verified login that may register now, with its identity key.
async fn registrable(s: &AppState, tid: &Tid) -> Result<(LoginResult, String), ApiError> {
    let login = s.platform.finish_login(tid).await?;
    if camr::qr::unix_now() - login.verified_at > REGISTRATION_WINDOW_SECS {
        return Err(ApiError::new(
            ErrorCode::TxExpired,
            format!(
                "the login {tid} is older than {} minutes: log in again to register",
                REGISTRATION_WINDOW_SECS / 60
            ),
        ));
    }
    let key = identity_key(&login.subject).ok_or_else(|| ApiError::malformed(NO_IDENTITY))?;
    if let Some(a) = s
        .accounts
        .account_by_identity(&key)
        .await
        .map_err(ApiError::from)?
    {
        match a.status {
            AccountStatus::Pending => return Err(pending(&a)),
            AccountStatus::Active => {
                return Err(ApiError::new(
                    ErrorCode::AccountExists,
                    format!("{} is bound to account {} already", a.name, a.id),
                ));
            }
            AccountStatus::Refused => {}
        }
    }
    Ok((login, key))
}

async fn form(
    State(s): State<Arc<AppState>>,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let (login, _) = registrable(&s, &tid).await?;
    Ok(ok(registration_form(&login, s.registration.approval)))
}

/// The prefill of the registration form for `login`.
pub fn registration_form(login: &LoginResult, approval: Approval) -> RegistrationForm {
    let subj = &login.subject;
    RegistrationForm {
        tid: login.tid.to_string(),
        identity: IdentityOut {
            subject_type: subj.subject_type,
            name: subj.name.clone(),
            organization: subj.organization.clone(),
            uscc: subj.uscc.clone(),
            identity_type: subj.identity_type,
            identity_number: subj.identity_number.clone(),
            identity_country: subj.identity_country.clone(),
            cert_sn: subj.cert_sn.clone(),
            ca_org_type: login.ca_org_type.clone(),
        },
        shared: login.registration.clone(),
        approval,
    }
}

/// Body of `POST /api/v1/registrations`: the verified login and the completed form.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterBody {
    /// The verified login (its holder's identity is taken from its certificate).
    pub tid: String,
    /// 手机号.
    #[serde(default)]
    pub mobile: Option<String>,
    /// 电子邮箱.
    #[serde(default)]
    pub email: Option<String>,
    /// 联系地址.
    #[serde(default)]
    pub address: Option<String>,
    /// 联系人.
    #[serde(default)]
    pub contact: Option<String>,
}

fn new_account_id(s: &AppState) -> Result<String, ApiError> {
    let mut buf = [0u8; 8];
    s.platform
        .provider()
        .fill_random(&mut buf)
        .map_err(ApiError::internal)?;
    Ok(format!("A{}", data_encoding::HEXUPPER.encode(&buf)))
}

async fn register(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let b: RegisterBody = json_body(&headers, body)?;
    let tid = parse_tid(&b.tid)?;
    // Only whoever logged in (the owner of the login) registers its holder.
    crate::owner::authorize(&s, &headers, &tid).await?;
    let (login, key) = registrable(&s, &tid).await?;
    let blank = |v: Option<String>| v.filter(|t| !t.trim().is_empty());
    let data = SharedRegistration {
        mobile: blank(b.mobile),
        email: blank(b.email),
        address: blank(b.address),
        contact: blank(b.contact),
    };
    let registration = if data.fields().is_empty() {
        None
    } else {
        // The sentence of a wrong field as it is, for the person at the form.
        data.check().map_err(|e| match e {
            camr::protocol::ProtocolError::InvalidField { reason, .. } => {
                ApiError::malformed(reason)
            }
            e => ApiError::malformed(e.to_string()),
        })?;
        Some(data)
    };
    let now = camr::qr::unix_now();
    let auto = s.registration.approval == Approval::Auto;
    let account = Account {
        id: new_account_id(&s)?,
        identity_key: key,
        status: if auto {
            AccountStatus::Active
        } else {
            AccountStatus::Pending
        },
        name: login.subject.name.clone(),
        organization: login.subject.organization.clone(),
        subject: login.subject.clone(),
        registration,
        ca_org_type: login.ca_org_type.clone(),
        created_at: now,
        decided_at: auto.then_some(now),
        note: auto.then(|| "approved automatically (系统自动审核通过)".to_string()),
    };
    s.accounts
        .insert_account(account.clone())
        .await
        .map_err(|e| match e {
            StoreError::Duplicate(_) => ApiError::new(
                ErrorCode::AccountExists,
                format!(
                    "{} has an account or a pending registration already",
                    account.name
                ),
            ),
            e => ApiError::from(e),
        })?;
    let detail = format!(
        "{} {} {}",
        account.id,
        account.status.as_str(),
        account.name
    );
    s.store
        .append_audit(now, Some(&tid), "account-registered", &detail)
        .await
        .map_err(ApiError::from)?;
    tracing::info!(account = %account.id, status = account.status.as_str(), "registration");
    Ok(ok(account))
}

/// Query of `GET /api/v1/admin/accounts`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsQuery {
    /// `pending`, `active` or `refused`; all when absent.
    #[serde(default)]
    pub status: Option<AccountStatus>,
}

async fn list(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    query: Result<Query<AccountsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    crate::ops::check_admin(&s, &headers)?;
    let Query(q) = query.map_err(|e| ApiError::malformed(e.body_text()))?;
    Ok(ok(s
        .accounts
        .accounts(q.status)
        .await
        .map_err(ApiError::from)?))
}

/// Body of `POST /api/v1/admin/accounts/decide`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecideBody {
    /// The pending account.
    pub account_id: String,
    /// Approve (true) or refuse (false).
    pub approve: bool,
    /// Why (required to refuse).
    #[serde(default)]
    pub reason: Option<String>,
}

async fn decide(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    crate::ops::check_admin(&s, &headers)?;
    let b: DecideBody = json_body(&headers, body)?;
    let reason = b.reason.as_deref().map(str::trim).unwrap_or_default();
    if !b.approve && reason.is_empty() {
        return Err(ApiError::malformed("a refusal needs a `reason`"));
    }
    if reason.chars().count() > 200 {
        return Err(ApiError::malformed("`reason` has at most 200 characters"));
    }
    let a = s
        .accounts
        .account(&b.account_id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::AccountNotFound,
                format!(
                    "no account `{}`",
                    b.account_id.chars().take(40).collect::<String>()
                ),
            )
        })?;
    if a.status != AccountStatus::Pending {
        return Err(ApiError::new(
            ErrorCode::AccountExists,
            format!(
                "account {} is {} already, not pending",
                a.id,
                a.status.as_str()
            ),
        ));
    }
    let (to, note) = if b.approve {
        (
            AccountStatus::Active,
            match reason {
                "" => "approved by staff (平台后台审核通过)".to_string(),
                r => format!("approved by staff (平台后台审核通过): {r}"),
            },
        )
    } else {
        (AccountStatus::Refused, reason.to_string())
    };
    let now = camr::qr::unix_now();
    let decided = s
        .accounts
        .decide_account(&a.id, to, now, &note)
        .await
        .map_err(|e| match e {
            // Another instance (or click) decided first.
            StoreError::Backend(m) if m.contains("not pending") => {
                ApiError::new(ErrorCode::AccountExists, m)
            }
            e => ApiError::from(e),
        })?;
    s.store
        .append_audit(
            now,
            None,
            "account-decided",
            &format!("{} {} {note}", decided.id, decided.status.as_str()),
        )
        .await
        .map_err(ApiError::from)?;
    Ok(ok(decided))
}

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/registrations/{tid}", get(form))
        .route("/api/v1/registrations", post(register))
        .route("/api/v1/admin/accounts", get(list))
        .route("/api/v1/admin/accounts/decide", post(decide))
}
