//! The server's configuration: a TOML file (`camr-server --config camr.toml`, or the file
//! named by `CAMR_SERVER_CONFIG`), environment variables `CAMR_SERVER_<KEY>` over it, and
//! command-line flags over both; what none of them sets has the demo default
//! ([`ServerConfig::demo`]-like: `C1100005553`, 移动数字证书(CA)互认模拟测试系统, `./data`).
//!
//! Keys (a dotted key is a key of a `[table]`; its variable is the key in upper case with
//! `.` as `_`, e.g. `rate_limit.per_minute` ↔ `CAMR_SERVER_RATE_LIMIT_PER_MINUTE`):
//!
//! | key | type | default |
//! |---|---|---|
//! | `listen` | address | `127.0.0.1:8080` |
//! | `data` | path | `./data` |
//! | `system_code`, `system_name` | text | the demo platform's |
//! | `public_url` | `http(s)://` URL | `http://<listen>` (`127.0.0.1` for an unspecified address) |
//! | `database_url` | `sqlite://…`, a file path, `postgres://…`, or `memory` | `sqlite://<data>/camr.db?mode=rwc` |
//! | `qr_rotation_window_secs` | 0–3600 (0: static QR codes) | 60 (production: 3–5) |
//! | `max_pending` | 1–10000000: transactions waiting for an answer at most, over every instance on the database; beyond it a start is `503 TOO_MANY_PENDING` | 100000 |
//! | `transaction_ttl_secs` | 1–86400: how long every operation waits for its answer | per operation (login 120 s, …) |
//! | `admin_token` | text, 16+ characters | generated at start and logged |
//! | `platform_key` | path (PKCS#8 PEM) | `<data>/platform-key.pem`, made when missing |
//! | `request_timeout_secs` | 1–3600 | 30 |
//! | `body_limit` | bytes, 1024–2^30 | 1048576 |
//! | `plugins.dir` | path | none: no adapters |
//! | `plugins.pins` | table file name → SHA-256 hex (env: `a.so=HEX,b.so=HEX`) | none |
//! | `plugins.config` | table `caOrgType` → table, handed as JSON to that adapter's `configure` right after loading (env: a JSON object, `{"SOFTCA":{"cloudUrl":"http://127.0.0.1:8700"}}`); an adapter named here that is not loaded, or refuses its configuration, stops the start | none |
//! | `trust_list.path`, `trust_list.authority_key` | paths (signed list, authority public key PEM) | none |
//! | `webhook.url` | `http(s)://` URL | none: no webhooks |
//! | `webhook.signing` | `sm2` or `hmac-sm3` | `sm2` |
//! | `webhook.secret` | text, 16+ characters (for `hmac-sm3`) | none |
//! | `webhook.max_attempts` | 1–100 | 8 |
//! | `webhook.queue` | 1–1000000 | 1000 |
//! | `webhook.timeout_secs` | 1–600 | 10 |
//! | `webhook.backoff_ms` | 1–3600000 | 1000 |
//! | `rate_limit.per_minute` | 0–1000000 (0: off) | 120 |
//! | `rate_limit.burst` | 1–1000000 | 30 |
//! | `rate_limit.max_clients` | 1–10000000 | 100000 |
//! | `rate_limit.interlink_per_minute`, `rate_limit.interlink_burst` | 0–1000000, 1–1000000: the `/interlink/` routes' own bucket | 600, 120 |
//! | `header_read_timeout_secs`, `body_read_timeout_secs` | 1–3600: the request headers within, the longest pause inside a body | 10, 30 |
//! | `trusted_proxies` | list of IP addresses or blocks (env: `A,B`): whose `X-Forwarded-For` names the client | none |
//! | `audit_checkpoint_secs` | 0–86400 (0: on shutdown only): the audit head signed into `<data>/audit-checkpoint.json` | 300 |
//! | `hall.project` | text: the bid-opening hall's project (招标项目) | a demo project |
//! | `hall.opening_in_secs` | 0–31536000: the opening time (开标时间), seconds after the first start on the store (a restart or another instance keeps it) | 60 |
//! | `hall.opening_at` | unix seconds: the opening time (over `hall.opening_in_secs`) | none |
//! | `hall.free_decrypts` | `true`/`false`: let decrypts of envelopes that are no submitted bid through the gate | `false` (the demo: `true`) |
//! | `seal_session.ttl_secs` | 1–86400: how long an interactive seal session (签章会话) lives, authorisation to the last seal | 900 |
//! | `seal_session.required` | list of seal kinds (env: `official,legalRepresentative`): the kinds every session must apply before 完成签章 | none |
//! | `seal_session.pdftoppm` | path: poppler's `pdftoppm` for page previews | `pdftoppm` found on `PATH`, else blank previews |
//! | `entitlement.vendors` | list of `caOrgType` (env: `A,B`): the CA vendors accepted (本平台/全国版) | the trust list's entry for this platform, else every trusted vendor |
//! | `entitlement.delegated` | list of `caOrgType` (env: `A,B`): vendors whose organisation certificates are used under a delegation (证书授权) only; an organisation-certificate answer without one is refused (`DELEGATION_OUT_OF_SCOPE`) | the trust list's `orgCertsDelegated` vendors |
//! | `entitlement.platform_only` | list of `caOrgType` (env: `A,B`): vendors whose certificates are platform-only (本平台证书), accepted only through the vendor app QR code (厂商码, profile `vendor1`), which the login page then shows beside the national one (全国互认码) | none: every certificate is national (全国版) |
//! | `entitlement.require` | table operation → `"personal"` or `"org"` (env: `login=org,signature=org`): the certificate an operation requires (个人/机构证书) | the trust list's entry, else none |
//!
//! Unknown keys (in the file or as `CAMR_SERVER_*` variables) are errors naming the key; a
//! bad value is an error naming the key and where it came from.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ratelimit::RateLimitConfig;
use crate::webhook::{Signing, WebhookConfig};
use crate::{BODY_LIMIT, ServerConfig, ServerError};

mod raw;
mod set;
mod setup;

use raw::{Raw, SetError, clip};
pub(crate) use setup::{add_trust_list, configure_adapters, platform_key};

/// The prefix of the environment variables.
pub const ENV_PREFIX: &str = "CAMR_SERVER_";

/// The variable naming the configuration file when `--config` is not given.
pub const ENV_CONFIG: &str = "CAMR_SERVER_CONFIG";

/// Every key.
pub const KEYS: &[&str] = &[
    "listen",
    "data",
    "system_code",
    "system_name",
    "public_url",
    "database_url",
    "admin_token",
    "platform_key",
    "request_timeout_secs",
    "body_limit",
    "qr_rotation_window_secs",
    "transaction_ttl_secs",
    "max_pending",
    "audit_checkpoint_secs",
    "header_read_timeout_secs",
    "body_read_timeout_secs",
    "trusted_proxies",
    "plugins.dir",
    "plugins.pins",
    "plugins.config",
    "trust_list.path",
    "trust_list.authority_key",
    "webhook.url",
    "webhook.signing",
    "webhook.secret",
    "webhook.max_attempts",
    "webhook.queue",
    "webhook.timeout_secs",
    "webhook.backoff_ms",
    "rate_limit.per_minute",
    "rate_limit.burst",
    "rate_limit.max_clients",
    "rate_limit.interlink_per_minute",
    "rate_limit.interlink_burst",
    "hall.project",
    "hall.opening_in_secs",
    "hall.opening_at",
    "hall.free_decrypts",
    "seal_session.ttl_secs",
    "seal_session.required",
    "seal_session.pdftoppm",
    "entitlement.vendors",
    "entitlement.require",
    "entitlement.platform_only",
    "entitlement.delegated",
    "registration.approval",
    "registration.share",
    "revocation.sources",
    "revocation.login",
    "revocation.refresh_secs",
    "revocation.grace_secs",
    "revocation.ca_certificates",
];

const TABLES: &[&str] = &[
    "plugins",
    "trust_list",
    "webhook",
    "rate_limit",
    "entitlement",
    "hall",
    "seal_session",
    "registration",
    "revocation",
];

/// The demo's listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The default request timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A secret string: compared and cloned, never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `s`.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// `[trust_list]`: a signed trust list (注册表) whose vendor roots the platform trusts, in
/// addition to the demo CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustListConfig {
    /// The signed list (JSON, as `camr registry sign` writes it).
    pub path: PathBuf,
    /// The registry authority's public key (SPKI PEM).
    pub authority_key: PathBuf,
}

/// `[entitlement]`: which certificates the platform accepts (see [`crate::scope`]); a key
/// left unset comes from the trust list's entry for this platform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntitlementConfig {
    /// `entitlement.vendors`: accepted CA vendors (`caOrgType`).
    pub vendors: Option<Vec<String>>,
    /// `entitlement.require`: per operation, personal or organisation certificate.
    pub require: Option<Vec<camr::registry::Requirement>>,
    /// `entitlement.platform_only`: CA vendors whose certificates are platform-only
    /// (本平台证书): accepted only through the vendor app QR code (`vendor1`), which the
    /// login page then shows beside the national code.
    pub platform_only: Option<Vec<String>>,
    /// `entitlement.delegated`: CA vendors whose organisation certificates are used under a
    /// delegation only (added to the trust list's `orgCertsDelegated` vendors).
    pub delegated: Option<Vec<String>>,
}

/// The command-line flags that are also keys (all optional: they override the rest).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--data`.
    pub data: Option<PathBuf>,
    /// `--system-code`.
    pub system_code: Option<String>,
    /// `--system-name`.
    pub system_name: Option<String>,
    /// `--public-url`.
    pub public_url: Option<String>,
    /// `--plugins`.
    pub plugins: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
}

/// What one source (file, environment, flags) sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    listen: Option<SocketAddr>,
    data: Option<PathBuf>,
    system_code: Option<String>,
    system_name: Option<String>,
    public_url: Option<String>,
    database_url: Option<String>,
    admin_token: Option<Secret>,
    platform_key: Option<PathBuf>,
    request_timeout_secs: Option<u64>,
    body_limit: Option<u64>,
    qr_rotation_window_secs: Option<u64>,
    transaction_ttl_secs: Option<u64>,
    max_pending: Option<u64>,
    audit_checkpoint_secs: Option<u64>,
    header_read_timeout_secs: Option<u64>,
    body_read_timeout_secs: Option<u64>,
    trusted_proxies: Option<Vec<crate::edges::IpNet>>,
    plugins_dir: Option<PathBuf>,
    plugins_pins: Option<BTreeMap<String, String>>,
    plugins_config: Option<BTreeMap<String, serde_json::Value>>,
    trust_list_path: Option<PathBuf>,
    trust_list_authority_key: Option<PathBuf>,
    webhook_url: Option<String>,
    webhook_signing: Option<String>,
    webhook_secret: Option<Secret>,
    webhook_max_attempts: Option<u64>,
    webhook_queue: Option<u64>,
    webhook_timeout_secs: Option<u64>,
    webhook_backoff_ms: Option<u64>,
    rate_limit_per_minute: Option<u64>,
    rate_limit_burst: Option<u64>,
    rate_limit_max_clients: Option<u64>,
    rate_limit_interlink_per_minute: Option<u64>,
    rate_limit_interlink_burst: Option<u64>,
    hall_project: Option<String>,
    hall_opening_in_secs: Option<u64>,
    hall_opening_at: Option<u64>,
    hall_free_decrypts: Option<bool>,
    seal_session_ttl_secs: Option<u64>,
    seal_session_required: Option<Vec<camr::protocol::SealKind>>,
    seal_session_pdftoppm: Option<PathBuf>,
    entitlement_vendors: Option<Vec<String>>,
    entitlement_require: Option<Vec<camr::registry::Requirement>>,
    entitlement_platform_only: Option<Vec<String>>,
    entitlement_delegated: Option<Vec<String>>,
    registration_approval: Option<crate::accounts::Approval>,
    registration_share: Option<bool>,
    revocation_sources: Option<Vec<crate::revocation::live::SourceName>>,
    revocation_login: Option<camr::ceremony::LoginRevocation>,
    revocation_refresh_secs: Option<u64>,
    revocation_grace_secs: Option<u64>,
    revocation_ca_certificates: Option<camr::pki::RevocationPolicy>,
}

fn known_keys() -> String {
    KEYS.join(", ")
}

/// The environment variable of `key`.
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "_").to_ascii_uppercase())
}

impl Settings {
    /// Parses a configuration file's text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &Path) -> Result<Self, ServerError> {
        let f = file.display();
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            ServerError(format!("{f}: {}", e.to_string().trim_end()))
        })?;
        let mut out = Self::default();
        let mut set = |key: &str, v: &toml::Value| -> Result<(), ServerError> {
            out.set(key, Raw::Toml(v)).map_err(|e| match e {
                SetError::Unknown => ServerError(format!(
                    "{f}: unknown key `{key}` (known keys: {})",
                    known_keys()
                )),
                SetError::Bad(why) => ServerError(format!("{f}: `{key}`: {why}")),
            })
        };
        for (k, v) in &table {
            if TABLES.contains(&k.as_str()) {
                let t = v.as_table().ok_or_else(|| {
                    ServerError(format!(
                        "{f}: `{k}` must be a table ([{k}]), not {}",
                        v.type_str()
                    ))
                })?;
                for (k2, v2) in t {
                    set(&format!("{k}.{k2}"), v2)?;
                }
            } else {
                set(k, v)?;
            }
        }
        Ok(out)
    }

    /// Reads a configuration file.
    pub fn from_file(path: &Path) -> Result<Self, ServerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServerError(format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml(&text, path)
    }

    /// The `CAMR_SERVER_*` variables of `env` (other variables are ignored;
    /// `CAMR_SERVER_CONFIG` names the file, see [`resolve`]).
    pub fn from_env<'a>(
        env: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ServerError> {
        let mut out = Self::default();
        for (name, value) in env {
            if !name.starts_with(ENV_PREFIX) || name == ENV_CONFIG {
                continue;
            }
            let Some(key) = KEYS.iter().find(|k| env_name(k) == name) else {
                return Err(ServerError(format!(
                    "unknown environment variable {name} (known: {ENV_CONFIG}, {})",
                    KEYS.iter()
                        .map(|k| env_name(k))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            };
            out.set(key, Raw::Text(value)).map_err(|e| match e {
                SetError::Unknown => ServerError(format!("unknown environment variable {name}")),
                SetError::Bad(why) => {
                    ServerError(format!("environment variable {name} (`{key}`): {why}"))
                }
            })?;
        }
        Ok(out)
    }

    /// The command-line flags.
    pub fn from_flags(flags: &Flags) -> Self {
        Self {
            listen: flags.listen,
            data: flags.data.clone(),
            system_code: flags.system_code.clone(),
            system_name: flags.system_name.clone(),
            public_url: flags.public_url.clone(),
            plugins_dir: flags.plugins.clone(),
            database_url: flags.database_url.clone(),
            ..Self::default()
        }
    }

    /// `self`, with every key `top` sets taken from `top`.
    pub fn overridden_by(self, top: Self) -> Self {
        macro_rules! pick {
            ($($f:ident),*) => { Self { $($f: top.$f.or(self.$f)),* } };
        }
        pick!(
            listen,
            data,
            system_code,
            system_name,
            public_url,
            database_url,
            admin_token,
            platform_key,
            request_timeout_secs,
            body_limit,
            qr_rotation_window_secs,
            transaction_ttl_secs,
            max_pending,
            audit_checkpoint_secs,
            header_read_timeout_secs,
            body_read_timeout_secs,
            trusted_proxies,
            plugins_dir,
            plugins_pins,
            plugins_config,
            trust_list_path,
            trust_list_authority_key,
            webhook_url,
            webhook_signing,
            webhook_secret,
            webhook_max_attempts,
            webhook_queue,
            webhook_timeout_secs,
            webhook_backoff_ms,
            rate_limit_per_minute,
            rate_limit_burst,
            rate_limit_max_clients,
            rate_limit_interlink_per_minute,
            rate_limit_interlink_burst,
            hall_project,
            hall_opening_in_secs,
            hall_opening_at,
            hall_free_decrypts,
            seal_session_ttl_secs,
            seal_session_required,
            seal_session_pdftoppm,
            entitlement_vendors,
            entitlement_require,
            entitlement_platform_only,
            entitlement_delegated,
            registration_approval,
            registration_share,
            revocation_sources,
            revocation_login,
            revocation_refresh_secs,
            revocation_grace_secs,
            revocation_ca_certificates
        )
    }

    /// The server configuration: these settings, demo defaults for the rest.
    pub fn finish(self) -> Result<ServerConfig, ServerError> {
        let listen = match self.listen {
            Some(a) => a,
            None => DEFAULT_LISTEN
                .parse()
                .map_err(|_| ServerError("bad default address".into()))?,
        };
        let data = self.data.unwrap_or_else(|| PathBuf::from("./data"));
        let mut c = ServerConfig::demo(data, listen);
        if let Some(v) = self.system_code {
            c.system_code = v;
        }
        if let Some(v) = self.system_name {
            c.system_name = v;
        }
        match self.public_url {
            Some(v) => c.public_url = v,
            None if listen.ip().is_unspecified() => {
                c.public_url = format!("http://127.0.0.1:{}", listen.port());
            }
            None => {}
        }
        // The demo keeps its transactions in a SQLite file beside its other data; `memory`
        // asks for none (tests, throwaway demos).
        c.database_url = match self.database_url {
            Some(v) if v == "memory" => None,
            Some(v) => Some(v),
            None => Some(format!(
                "sqlite://{}?mode=rwc",
                c.data.join("camr.db").display()
            )),
        };
        if let Some(v) = self.max_pending {
            c.max_pending = Some(v);
        }
        if let Some(v) = self.header_read_timeout_secs {
            c.edges.header_read_timeout = Duration::from_secs(v);
        }
        if let Some(v) = self.body_read_timeout_secs {
            c.edges.body_read_timeout = Duration::from_secs(v);
        }
        c.edges.trusted_proxies = self.trusted_proxies.unwrap_or_default();
        if let Some(v) = self.audit_checkpoint_secs {
            c.audit_checkpoint = Some(Duration::from_secs(v)).filter(|d| !d.is_zero());
        }
        c.transaction_ttl = self
            .transaction_ttl_secs
            .and_then(|v| u32::try_from(v).ok());
        if let Some(v) = self.qr_rotation_window_secs {
            c.qr_rotation_window = u32::try_from(v).ok().filter(|w| *w > 0);
        }
        c.admin_token = self.admin_token;
        c.platform_key = self.platform_key;
        if let Some(v) = self.request_timeout_secs {
            c.request_timeout = Duration::from_secs(v);
        }
        if let Some(v) = self.body_limit {
            c.body_limit = usize::try_from(v).unwrap_or(BODY_LIMIT);
        }
        c.plugins = self.plugins_dir;
        c.plugin_pins = self.plugins_pins.unwrap_or_default();
        c.plugins_config = self.plugins_config.unwrap_or_default();
        c.trust_list = match (self.trust_list_path, self.trust_list_authority_key) {
            (None, None) => None,
            (Some(path), Some(authority_key)) => Some(TrustListConfig {
                path,
                authority_key,
            }),
            (Some(_), None) => {
                return Err(ServerError(
                    "`trust_list.authority_key` is required with `trust_list.path`".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(ServerError(
                    "`trust_list.path` is required with `trust_list.authority_key`".into(),
                ));
            }
        };
        let webhook_keys_set = self.webhook_signing.is_some()
            || self.webhook_secret.is_some()
            || self.webhook_max_attempts.is_some()
            || self.webhook_queue.is_some()
            || self.webhook_timeout_secs.is_some()
            || self.webhook_backoff_ms.is_some();
        c.webhook = match self.webhook_url {
            None if webhook_keys_set => {
                return Err(ServerError(
                    "`webhook.url` is required when other webhook keys are set".into(),
                ));
            }
            None => None,
            Some(url) => {
                let mut w = WebhookConfig::new(url);
                w.signing = match (self.webhook_signing.as_deref(), self.webhook_secret) {
                    (Some("hmac-sm3"), Some(secret)) => Signing::HmacSm3(secret),
                    (Some("hmac-sm3"), None) => {
                        return Err(ServerError(
                            "`webhook.secret` is required with webhook.signing = \"hmac-sm3\""
                                .into(),
                        ));
                    }
                    (_, Some(_)) => {
                        return Err(ServerError(
                            "`webhook.secret` is only used with webhook.signing = \"hmac-sm3\""
                                .into(),
                        ));
                    }
                    (_, None) => Signing::Sm2,
                };
                if let Some(n) = self.webhook_max_attempts {
                    w.max_attempts = u32::try_from(n).unwrap_or(w.max_attempts);
                }
                if let Some(n) = self.webhook_queue {
                    w.queue = usize::try_from(n).unwrap_or(w.queue);
                }
                if let Some(n) = self.webhook_timeout_secs {
                    w.timeout = Duration::from_secs(n);
                }
                if let Some(n) = self.webhook_backoff_ms {
                    w.backoff = Duration::from_millis(n);
                }
                Some(w)
            }
        };
        c.entitlement = EntitlementConfig {
            vendors: self.entitlement_vendors,
            require: self.entitlement_require,
            platform_only: self.entitlement_platform_only,
            delegated: self.entitlement_delegated,
        };
        if let Some(v) = self.registration_approval {
            c.registration.approval = v;
        }
        if let Some(v) = self.registration_share {
            c.registration.share = v;
        }
        if let Some(v) = self.revocation_sources {
            c.revocation.sources = v;
        }
        if let Some(v) = self.revocation_login {
            c.revocation.login = v;
        }
        if let Some(v) = self.revocation_refresh_secs {
            c.revocation.refresh_secs = u32::try_from(v).unwrap_or(u32::MAX);
        }
        if let Some(v) = self.revocation_grace_secs {
            c.revocation.grace_secs = u32::try_from(v).unwrap_or(u32::MAX);
        }
        if let Some(v) = self.revocation_ca_certificates {
            c.revocation.ca_certificates = v;
        }
        if let Some(v) = self.hall_project {
            c.hall.project = v;
        }
        if let Some(v) = self.hall_free_decrypts {
            c.hall.free_decrypts = v;
        }
        if let Some(v) = self.seal_session_ttl_secs {
            c.seal_session.ttl_secs = u32::try_from(v).unwrap_or(u32::MAX);
        }
        if let Some(v) = self.seal_session_required {
            c.seal_session.required = v;
        }
        if let Some(v) = self.seal_session_pdftoppm {
            c.seal_session.pdftoppm = Some(v);
        }
        c.hall.opening = match (self.hall_opening_at, self.hall_opening_in_secs) {
            (Some(at), _) => crate::hall::Opening::At(i64::try_from(at).unwrap_or(i64::MAX)),
            (None, Some(secs)) => crate::hall::Opening::AfterStart(
                u32::try_from(secs).unwrap_or(crate::hall::DEMO_OPENING_IN_SECS),
            ),
            (None, None) => c.hall.opening,
        };
        let d = RateLimitConfig::default();
        c.rate_limit = RateLimitConfig {
            per_minute: self
                .rate_limit_per_minute
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(d.per_minute),
            burst: self
                .rate_limit_burst
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(d.burst),
            max_clients: self
                .rate_limit_max_clients
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(d.max_clients),
        };
        let i = crate::ratelimit::INTERLINK_DEFAULT;
        c.interlink_rate_limit = RateLimitConfig {
            per_minute: self
                .rate_limit_interlink_per_minute
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(i.per_minute),
            burst: self
                .rate_limit_interlink_burst
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(i.burst),
            max_clients: c.rate_limit.max_clients,
        };
        Ok(c)
    }
}

/// The configuration from the file (`config`, else `CAMR_SERVER_CONFIG` of `env`, else
/// none), then `env`, then `flags`.
pub fn resolve(
    config: Option<&Path>,
    env: &[(String, String)],
    flags: &Flags,
) -> Result<ServerConfig, ServerError> {
    let from_env_var = env
        .iter()
        .find(|(k, _)| k == ENV_CONFIG)
        .map(|(_, v)| PathBuf::from(v));
    let file = config.map(Path::to_path_buf).or(from_env_var);
    let from_file = match &file {
        Some(p) => Settings::from_file(p)?,
        None => Settings::default(),
    };
    let from_env = Settings::from_env(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    from_file
        .overridden_by(from_env)
        .overridden_by(Settings::from_flags(flags))
        .finish()
}

/// The process environment's `CAMR_SERVER_*` variables (a variable that is not UTF-8 is an
/// error naming it).
pub fn process_env() -> Result<Vec<(String, String)>, ServerError> {
    let mut out = Vec::new();
    for (k, v) in std::env::vars_os() {
        let Some(k) = k.to_str() else { continue };
        if !k.starts_with(ENV_PREFIX) {
            continue;
        }
        let v = v
            .into_string()
            .map_err(|_| ServerError(format!("environment variable {k} is not UTF-8")))?;
        out.push((k.to_string(), v));
    }
    Ok(out)
}
