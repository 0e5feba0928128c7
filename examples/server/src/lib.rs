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

pub mod api;
pub mod demo;
mod page;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use camr::ceremony::{Platform, PlatformIdentity};
use camr::crypto::{CryptoProvider, PublicKey, default_provider};
use camr::pki::{ChainValidator, TrustStore};
use camr::protocol::SystemCode;
use camr::qr::QrSigner;
use camr::store::{MemoryStore, TransactionStore};
use camr_plugin_host::{HostConfig, PluginHost};
use serde::Serialize;

pub use api::router;

/// Largest request body accepted, bytes.
pub const BODY_LIMIT: usize = 1024 * 1024;

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
    /// `sqlite://...` (or a file path) for [`camr::store::SqliteStore`]; memory when absent.
    pub database_url: Option<String>,
}

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
        }
    }
}

/// What the registry and apps need to know about this platform (`GET /api/v1/platform`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// Re-signs QR codes of live transactions (for `qr.svg`/`qr.png`).
    pub qr_signer: QrSigner,
    /// Public facts about the platform.
    pub info: PlatformInfo,
    /// Loaded CA-vendor adapters.
    pub plugins: Option<PluginHost>,
    /// Which store is in use (`memory` or `sqlite`).
    pub store_kind: &'static str,
}

/// Opens the store named by `database_url` (memory when `None`).
async fn open_store(
    database_url: Option<&str>,
) -> Result<(Arc<dyn TransactionStore>, &'static str), ServerError> {
    match database_url {
        None => Ok((Arc::new(MemoryStore::new()), "memory")),
        Some(url) => {
            let store = camr::store::SqliteStore::open(url)
                .await
                .map_err(|e| ServerError(format!("cannot open the database `{url}`: {e}")))?;
            Ok((Arc::new(store), "sqlite"))
        }
    }
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
    let crl = ca
        .crl(camr::qr::unix_now())
        .map_err(|e| ServerError(format!("cannot make the demo CA's CRL: {e}")))?;
    let validator = ChainValidator::new(provider.clone(), trust).with_crls(vec![crl]);
    let base = config.public_url.trim_end_matches('/');
    let identity = PlatformIdentity {
        system_code: system_code.clone(),
        system_name: config.system_name.clone(),
        request_uri_prefix: format!("{base}/camr/v1/request/"),
        response_uri: format!("{base}/camr/v1/response"),
    };
    let (store, store_kind) = open_store(config.database_url.as_deref()).await?;
    let key = demo.platform_key;
    let platform = Platform::new(
        provider.clone(),
        identity.clone(),
        key.clone(),
        None,
        store.clone(),
        Arc::new(validator),
    )
    .map_err(|e| ServerError(format!("cannot set up the platform: {e}")))?;
    let qr_signer = QrSigner::new(provider.clone(), key.clone(), Some(platform.key_id()))
        .map_err(|e| ServerError(format!("cannot set up the QR signer: {e}")))?;
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
    let plugins = match &config.plugins {
        None => None,
        Some(dir) => {
            let mut host = PluginHost::new(HostConfig {
                dir: Some(dir.clone()),
                ..HostConfig::default()
            });
            let loaded = host.load_dir().map_err(|e| {
                ServerError(format!("cannot load plugins from {}: {e}", dir.display()))
            })?;
            tracing::info!(?loaded, "adapters loaded");
            Some(host)
        }
    };
    tracing::info!(
        system_code = %info.system_code,
        key_id = %info.key_id,
        store = store_kind,
        wallet = %demo.wallet_dir.display(),
        platform_pub = %demo.platform_pub_path.display(),
        "platform ready"
    );
    Ok(Arc::new(AppState {
        platform,
        store,
        qr_signer,
        info,
        plugins,
        store_kind,
    }))
}

/// Serves `state` on `listener` until `shutdown` completes (in-flight requests finish).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
