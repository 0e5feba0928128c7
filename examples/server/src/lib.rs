//! # camr-server — the reference trading-platform server
//!
//! An axum server around [`camr::ceremony::Platform`]: start any of the six operations over
//! HTTP, show the QR (SVG/PNG), poll the status, read the verified result; the app-facing
//! request and response endpoints; a server-rendered QR login page. With no configuration it
//! is a demo platform (`C1100005553`, 移动数字证书(CA)互认模拟测试系统) over a software CA and
//! a demo wallet made under `--data` (see [`demo`]).
//!
//! Every JSON answer is the result envelope [`camr::protocol::ApiResult`]
//! (`{code, success, data, msg, errorCode}`); failures carry the stable error code and its
//! default HTTP status, never a 500 for bad input.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod api;
pub mod audit_anchor;
pub mod demo;
pub mod edges;
pub mod events;
pub mod files;
pub mod hall;
pub mod interlink;
pub mod openapi;
pub mod owner;
mod pages;
pub mod pdfseal;
pub mod revocation;
pub mod rotation;
pub mod scope;
pub mod sealsession;
pub mod sse;
// Operations: configuration, rate limit, timeouts, metrics, webhooks, usage report, admin.
pub mod config;
pub mod metrics;
pub mod ops;
pub mod ratelimit;
pub mod report;
pub mod webhook;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use camr::ceremony::{Platform, PlatformIdentity};
use camr::crypto::{CryptoProvider, PublicKey, default_provider};
use camr::pki::{ChainValidator, TrustStore};
use camr::protocol::SystemCode;
use camr::store::TransactionStore;
use camr_plugin_host::{HostConfig, PluginHost};
use serde::Serialize;

pub use api::router;

/// Largest request body accepted, bytes.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Largest file upload (bid files, documents to sign), bytes; streamed to disk.
pub const UPLOAD_LIMIT: u64 = 512 * 1024 * 1024;

/// A start-up failure, as one sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError(pub String);

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServerError {}

/// How the server is set up (the command-line flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Data folder (demo CA, wallet, platform key, SQLite file).
    pub data: PathBuf,
    /// System code (系统标识码).
    pub system_code: String,
    /// Trading system name (交易系统名称).
    pub system_name: String,
    /// Base URL apps reach this server at (goes into the QR's request URI).
    pub public_url: String,
    /// Adapter plugin folder.
    pub plugins: Option<PathBuf>,
    /// `sqlite://...` (or a file path) for [`camr::store::SqliteStore`], `postgres://...` for
    /// [`camr::store::PostgresStore`] (several instances); memory when absent.
    pub database_url: Option<String>,
    /// Address to listen on (the binary binds it).
    pub listen: SocketAddr,
    /// SHA-256 pins of the plugin files, by file name (empty: no pinning).
    pub plugin_pins: std::collections::BTreeMap<String, String>,
    /// `plugins.config`: per `caOrgType`, the JSON configuration handed to that adapter's
    /// `configure` right after loading (endpoints such as the vendor cloud's URL, credentials).
    pub plugins_config: std::collections::BTreeMap<String, serde_json::Value>,
    /// The platform's QR/request key (PKCS#8 PEM); `<data>/platform-key.pem` when absent.
    pub platform_key: Option<PathBuf>,
    /// A signed trust list whose vendor roots are trusted too.
    pub trust_list: Option<config::TrustListConfig>,
    /// Token of the mutating admin calls; generated at start and logged when absent.
    pub admin_token: Option<config::Secret>,
    /// Webhook delivery of final states; off when absent.
    pub webhook: Option<webhook::WebhookConfig>,
    /// Per-client limit of transaction starts.
    pub rate_limit: ratelimit::RateLimitConfig,
    /// Longest time a request (other than the event stream) may take.
    pub request_timeout: std::time::Duration,
    /// Largest JSON request body, bytes.
    pub body_limit: usize,
    /// Rotating QR codes: how old a scanned code may be, in seconds; `None` shows static
    /// codes (see [`rotation`]).
    pub qr_rotation_window: Option<u32>,
    /// How long a transaction may wait for its answer, seconds, for every operation; the
    /// ceremony's per-operation defaults when `None`.
    pub transaction_ttl: Option<u32>,
    /// Transactions waiting for an answer at most (every instance on the store); `None`:
    /// no cap.
    pub max_pending: Option<u64>,
    /// The bid-opening hall's session (不见面开标大厅): project and opening time.
    pub hall: hall::HallConfig,
    /// Which certificates the platform accepts (vendors, personal/organisation certificate
    /// per operation); unset keys come from the trust list.
    pub entitlement: config::EntitlementConfig,
    /// Scan-bind and shared registration (扫码绑定, 共享注册): approval, shared data.
    pub registration: accounts::RegistrationConfig,
    /// Interactive seal sessions (签章会话): lifetime, required seal kinds, page previews.
    pub seal_session: sealsession::SealSessionConfig,
    /// Live revocation: sources in order, login policy, refresh interval (see
    /// [`revocation::live`]).
    pub revocation: revocation::live::LiveConfig,
    /// How often the audit log's head is signed into `<data>/audit-checkpoint.json`
    /// (also on shutdown); `None`: on shutdown only.
    pub audit_checkpoint: Option<std::time::Duration>,
    /// Header and body read timeouts, trusted reverse proxies (see [`edges`]).
    pub edges: edges::EdgeConfig,
    /// The per-client limit of the `/interlink/` routes (a bucket of their own).
    pub interlink_rate_limit: ratelimit::RateLimitConfig,
}

/// The default cap on transactions waiting for an answer: far above a real platform's
/// peak, far below what fills a disk.
pub const DEFAULT_MAX_PENDING: u64 = 100_000;

/// The demo's rotation window: long enough to download the QR PNG and run `camr-app scan`
/// by hand. A production platform whose users scan the screen should use 3–5 s.
pub const DEMO_ROTATION_WINDOW_SECS: u32 = 60;

impl ServerConfig {
    /// The demo configuration for a server reachable at `addr`, data under `data`.
    pub fn demo(data: PathBuf, addr: SocketAddr) -> Self {
        Self {
            data,
            system_code: "C1100005553".into(),
            system_name: "移动数字证书(CA)互认模拟测试系统".into(),
            public_url: format!("http://{addr}"),
            plugins: None,
            database_url: None,
            listen: addr,
            plugin_pins: std::collections::BTreeMap::new(),
            plugins_config: std::collections::BTreeMap::new(),
            platform_key: None,
            trust_list: None,
            admin_token: None,
            webhook: None,
            rate_limit: ratelimit::RateLimitConfig::default(),
            request_timeout: config::DEFAULT_REQUEST_TIMEOUT,
            body_limit: BODY_LIMIT,
            qr_rotation_window: Some(DEMO_ROTATION_WINDOW_SECS),
            transaction_ttl: None,
            max_pending: Some(DEFAULT_MAX_PENDING),
            // The demo's bid-file page opens any envelope its user uploads: free decrypts are
            // allowed explicitly. A platform whose decrypts are bid openings leaves them off.
            hall: hall::HallConfig {
                free_decrypts: true,
                ..hall::HallConfig::default()
            },
            seal_session: sealsession::SealSessionConfig::default(),
            revocation: revocation::live::LiveConfig::default(),
            entitlement: config::EntitlementConfig::default(),
            registration: accounts::RegistrationConfig::default(),
            audit_checkpoint: Some(audit_anchor::DEFAULT_EVERY),
            edges: edges::EdgeConfig::default(),
            interlink_rate_limit: ratelimit::INTERLINK_DEFAULT,
        }
    }
}

/// What the registry and apps need to know about this platform (`GET /api/v1/platform`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformInfo {
    /// System code (系统标识码).
    pub system_code: String,
    /// Trading system name (交易系统名称).
    pub system_name: String,
    /// Key id of the QR/request signing key.
    pub key_id: String,
    /// Its algorithm (`SM2`, ...).
    pub public_key_algorithm: String,
    /// Its public key, SPKI DER, standard base64.
    pub public_key_spki: String,
    /// The same as PEM.
    pub public_key_pem: String,
    /// Request URIs are this prefix followed by the tid.
    pub request_uri_prefix: String,
    /// Where apps post answers.
    pub response_uri: String,
}

/// Shared state of the handlers.
#[derive(Debug)]
pub struct AppState {
    /// The platform ceremonies.
    pub platform: Platform,
    /// The store behind them (for readiness checks).
    pub store: Arc<dyn TransactionStore>,
    /// Public facts about the platform.
    pub info: PlatformInfo,
    /// Loaded CA-vendor adapters.
    pub plugins: Option<Arc<PluginHost>>,
    /// Which store is in use (`memory`, `sqlite` or `postgres`).
    pub store_kind: &'static str,
    /// Committed status changes (SSE, webhooks).
    pub events: Arc<events::EventBus>,
    /// This server instance's id (names the changes it commits).
    pub instance_id: String,
    /// Rate limit, timeouts, metrics, webhooks, admin token.
    pub ops: Arc<ops::Ops>,
    /// The certificate validator the platform uses (for the verify endpoint).
    pub validator: Arc<ChainValidator>,
    /// Intermediate CA certificates the platform knows (the vendors' issuing CAs), offered
    /// to path building when a signature record carries no chain.
    pub intermediates: Vec<camr::protocol::Bytes>,
    /// Where uploaded and sealed files live (`<data>/files`).
    pub files_dir: PathBuf,
    /// Largest file upload accepted, bytes.
    pub upload_limit: u64,
    /// Bid files being sealed or opened, with their progress: in the store, so one instance
    /// runs each and every instance reports it.
    pub jobs: camr::store::JobBoard,
    /// Where `POST /api/v1/admin/crls/reload` reads CRLs from (see [`revocation`]).
    pub crl_sources: revocation::CrlSources,
    /// The configured CRLs as a live revocation source (`crl_files`), replaced on reload.
    pub crl_files: Arc<camr::pki::CrlFileSource>,
    /// The bid-opening hall (不见面开标大厅), also the platform's decrypt gate.
    pub hall: Arc<hall::Hall>,
    /// Platform accounts bound to certificate holders (扫码绑定, 共享注册).
    pub accounts: Arc<dyn camr::store::AccountStore>,
    /// How registrations are approved, whether logins ask for shared data.
    pub registration: accounts::RegistrationConfig,
    /// Versioned records of multi-step state (seal sessions, interlink callbacks).
    pub records: Arc<dyn camr::store::RecordStore>,
    /// Interactive seal sessions (签章会话) in progress.
    pub seal_sessions: Arc<sealsession::Sessions>,
    /// Signed checkpoints of the audit log's head (see [`audit_anchor`]).
    pub audit_anchor: audit_anchor::Anchor,
    /// How connections are served, who the client is (see [`edges`]).
    pub edges: edges::EdgeConfig,
}

/// Builds the state: demo data under `config.data`, the store, the platform trusting the
/// demo CA's root (with its current CRL), and the plugins when a folder is given.
pub async fn build_state(config: &ServerConfig) -> Result<Arc<AppState>, ServerError> {
    let provider: Arc<dyn CryptoProvider> = default_provider();
    let system_code = SystemCode::parse(&config.system_code)
        .map_err(|e| ServerError(format!("--system-code: {e}")))?;
    if config.system_name.trim().is_empty() {
        return Err(ServerError("--system-name must not be empty".into()));
    }
    let demo = demo::ensure(&provider, &config.data)?;
    let mut ca = demo.ca;
    let mut trust = TrustStore::new();
    trust.add(ca.root().clone());
    let registry = config::add_trust_list(&provider, config, &system_code, &mut trust)?;
    let crl_sources = revocation::CrlSources::under(&config.data);
    let mut crls = revocation::demo_crls(&mut ca, camr::qr::unix_now())?;
    crls.extend(crl_sources.files()?.into_iter().map(|(_, c)| c));
    let crl_files = Arc::new(camr::pki::CrlFileSource::new(
        provider.clone(),
        crls.clone(),
        i64::from(config.revocation.grace_secs),
    ));
    let validator = ChainValidator::new(provider.clone(), trust).with_crls(crls);
    let base = config.public_url.trim_end_matches('/');
    let identity = PlatformIdentity {
        system_code: system_code.clone(),
        system_name: config.system_name.clone(),
        request_uri_prefix: format!("{base}/camr/v1/request/"),
        response_uri: format!("{base}/camr/v1/response"),
    };
    let instance_id = events::new_instance_id();
    let events = Arc::new(events::EventBus::new(instance_id.clone()));
    let (store, store_kind) =
        camr::store::open(config.database_url.as_deref(), &instance_id, events.clone())
            .await
            .map_err(|e| {
                ServerError(format!(
                    "cannot open the database `{}`: {e}",
                    camr::store::redact(config.database_url.as_deref().unwrap_or("memory"))
                ))
            })?;
    let store_kind = store_kind.as_str();
    let key = config::platform_key(config, demo.platform_key, &demo.platform_pub_path)?;
    let validator = Arc::new(validator);
    let platform = Platform::new(
        provider.clone(),
        identity.clone(),
        key.clone(),
        None,
        store.clone(),
        validator.clone(),
    )
    .map_err(|e| ServerError(format!("cannot set up the platform: {e}")))?;
    let platform = platform.with_max_pending(config.max_pending);
    let platform = match config.transaction_ttl {
        Some(ttl) => camr::protocol::Operation::ALL
            .iter()
            .fold(platform, |p, op| p.with_ttl(*op, ttl)),
        None => platform,
    };
    let platform = platform.with_entitlement(scope::entitlement(
        config,
        registry.as_ref(),
        &system_code,
        ca.root(),
    )?);
    // The hall is the decrypt gate: no decrypt of its bids before the opening time and the
    // bidder's sign-in.
    let side = accounts::open(config.database_url.as_deref()).await?;
    let sdk_hall = camr::hall::Hall::new(
        provider.clone(),
        store.clone(),
        side.hall.clone(),
        side.records.clone(),
    )
    .with_free_decrypts(config.hall.free_decrypts);
    let hall = hall::Hall::open(&config.hall, sdk_hall, config.data.join("files"))
        .await
        .map_err(|e| ServerError(format!("cannot settle the bid-opening time: {e}")))?;
    let hall = Arc::new(hall);
    let platform = platform
        .with_decrypt_policy(Arc::new(hall.sdk.clone()))
        .with_seal_session_ttl(config.seal_session.ttl_secs);
    // Adapters translate, the core verifies: every answer goes through its vendor's adapter,
    // and each verified use is billed to adapters with a vendor cloud (按量扣费).
    let plugins = load_plugins(config)?;
    let platform = match config
        .revocation
        .build(&provider, &crl_files, plugins.as_ref())
    {
        Some(live) => platform.with_revocation(live),
        None => platform,
    };
    let platform = match &plugins {
        Some(host) => platform
            .with_decoder(host.clone())
            .with_billing(camr::ceremony::Billing::new(host.clone())),
        None => platform,
    };
    let platform = match config.qr_rotation_window {
        Some(w) => {
            platform.with_rotation(rotation::load_or_create(provider.clone(), &config.data, w)?)
        }
        None => platform,
    };
    let public: PublicKey = key.public_key();
    let spki = public
        .to_spki_der()
        .map_err(|e| ServerError(format!("cannot encode the platform key: {e}")))?;
    let pem = public
        .to_spki_pem()
        .map_err(|e| ServerError(format!("cannot encode the platform key: {e}")))?;
    let info = PlatformInfo {
        system_code: system_code.as_str().to_string(),
        system_name: config.system_name.clone(),
        key_id: platform.key_id().to_string(),
        public_key_algorithm: serde_json::to_value(public.algorithm())
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        public_key_spki: data_encoding::BASE64.encode(&spki),
        public_key_pem: pem,
        request_uri_prefix: identity.request_uri_prefix,
        response_uri: identity.response_uri,
    };
    publish_demo_registry(
        &provider,
        &config.data,
        &info,
        ca.root(),
        platform.entitlement(),
    )?;
    tracing::info!(
        system_code = %info.system_code,
        key_id = %info.key_id,
        store = store_kind,
        wallet = %demo.wallet_dir.display(),
        platform_pub = %demo.platform_pub_path.display(),
        "platform ready"
    );
    let ops = Arc::new(ops::Ops::new(
        config,
        &provider,
        &key,
        &info.key_id,
        (side.records.clone(), &instance_id),
    )?);
    let audit_anchor = audit_anchor::Anchor::new(
        provider.clone(),
        key.clone(),
        system_code.clone(),
        &config.data,
        config.audit_checkpoint,
    );
    let jobs = camr::store::JobBoard::new(side.records.clone(), instance_id.clone());
    let state = Arc::new(AppState {
        platform,
        store,
        info,
        plugins,
        store_kind,
        events,
        instance_id,
        ops,
        validator,
        intermediates: vec![camr::protocol::Bytes(ca.issuing_ca().der().to_vec())],
        files_dir: config.data.join("files"),
        upload_limit: UPLOAD_LIMIT,
        jobs,
        crl_sources,
        crl_files,
        hall,
        accounts: side.accounts.clone(),
        registration: config.registration,
        records: side.records.clone(),
        seal_sessions: Arc::new(sealsession::Sessions::from_config(
            &config.seal_session,
            side.records.clone(),
            camr::store::BlobDir::new(config.data.join("seal-sessions")),
        )),
        audit_anchor,
        edges: config.edges.clone(),
    });
    ops::start(&state);
    audit_anchor::start(&state);
    Ok(state)
}

/// The adapters of the plugin folder, configured (`plugins.config`), when a folder is given.
fn load_plugins(config: &ServerConfig) -> Result<Option<Arc<PluginHost>>, ServerError> {
    let Some(dir) = &config.plugins else {
        // Configurations without a plugin folder stop the start, saying why.
        config::configure_adapters(None, &config.plugins_config)?;
        return Ok(None);
    };
    let mut host = PluginHost::new(HostConfig {
        dir: Some(dir.clone()),
        pins: config.plugin_pins.clone().into_iter().collect(),
        ..HostConfig::default()
    });
    let loaded = host
        .load_dir()
        .map_err(|e| ServerError(format!("cannot load plugins from {}: {e}", dir.display())))?;
    tracing::info!(?loaded, "adapters loaded");
    config::configure_adapters(Some(&host), &config.plugins_config)?;
    Ok(Some(Arc::new(host)))
}

/// Serves `state` on `listener` until `shutdown` completes (in-flight requests finish), then
/// signs a last audit checkpoint. Slow clients are cut off ([`edges::serve`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let served = edges::serve(listener, router(state.clone()), &state.edges, shutdown).await;
    audit_anchor::write_logged(&state).await;
    served
}

/// Writes the demo trust list (注册表): this platform and the demo CA as vendor `SOFTCA`,
/// signed by a demo registry authority key (`data/registry-authority.pem`), to
/// `data/registry.json`, with the authority's public key in `data/registry-authority.pub.pem`
/// — what `camr-app scan --registry data/registry.json --registry-key
/// data/registry-authority.pub.pem` checks QR codes and response URIs against. Re-signed at
/// every start (valid 30 days), so it always names the current URLs.
fn publish_demo_registry(
    provider: &Arc<dyn camr::crypto::CryptoProvider>,
    data: &std::path::Path,
    info: &PlatformInfo,
    root: &camr::pki::Certificate,
    entitlement: &camr::ceremony::Entitlement,
) -> Result<(), ServerError> {
    use camr::registry::{PlatformEntry, PlatformKey, TrustList, VendorEntry};
    let fail = |what: &str, e: String| {
        ServerError(format!("cannot write the demo registry ({what}): {e}"))
    };
    let key_path = data.join("registry-authority.pem");
    let authority = match std::fs::read(&key_path) {
        Ok(pem) => camr::crypto::PrivateKey::from_bytes(&pem, None)
            .map_err(|e| fail("authority key", e.to_string()))?,
        Err(_) => {
            let k = provider
                .generate_key(camr::crypto::KeyAlgorithm::Sm2)
                .map_err(|e| fail("authority key", e.to_string()))?;
            let pem = k
                .to_pkcs8_pem()
                .map_err(|e| fail("authority key", e.to_string()))?;
            demo::write_secret(&key_path, pem.as_bytes())?;
            k
        }
    };
    let pub_pem = authority
        .public_key()
        .to_spki_pem()
        .map_err(|e| fail("authority key", e.to_string()))?;
    std::fs::write(data.join("registry-authority.pub.pem"), pub_pem)
        .map_err(|e| fail("authority key", e.to_string()))?;
    let now = camr::qr::unix_now();
    let spki = data_encoding::BASE64
        .decode(info.public_key_spki.as_bytes())
        .map_err(|e| fail("platform key", e.to_string()))?;
    let list = TrustList {
        version: u64::try_from(now).unwrap_or(0),
        issued_at: now,
        expires_at: now + 30 * 86_400,
        platforms: vec![PlatformEntry {
            system_code: camr::protocol::SystemCode::parse(&info.system_code)
                .map_err(|e| fail("system code", e.to_string()))?,
            system_name: info.system_name.clone(),
            keys: vec![PlatformKey {
                key_id: info.key_id.clone(),
                spki: camr::protocol::Bytes(spki),
            }],
            request_uri_prefixes: vec![info.request_uri_prefix.clone()],
            response_uris: vec![info.response_uri.clone()],
            accepted_vendors: match entitlement.accepted_vendors.is_empty() {
                true => vec![scope::DEMO_VENDOR.into()],
                false => entitlement.accepted_vendors.clone(),
            },
            requirements: entitlement.requirements.clone(),
        }],
        vendors: vec![VendorEntry {
            ca_org_type: "SOFTCA".into(),
            name: "camr reference software CA (demo)".into(),
            roots: vec![camr::protocol::Bytes(root.der().to_vec())],
            adapter: Some("libcamr_adapter_softca.so".into()),
            org_certs_delegated: false,
        }],
    };
    let signed = camr::registry::sign(provider.as_ref(), &list, &authority, "DEMO-REGISTRY")
        .map_err(|e| fail("signature", e.to_string()))?;
    let json = serde_json::to_string_pretty(&signed).map_err(|e| fail("json", e.to_string()))?;
    std::fs::write(data.join("registry.json"), json).map_err(|e| fail("file", e.to_string()))
}
