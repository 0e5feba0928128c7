//! The test harness shared by the server's HTTP tests: the server in-process on loopback
//! (demo data in a temporary folder), and `camr::app` playing the phone.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod procs;
pub mod seal;
pub mod sim;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use camr::app::{App, Wallet};
use camr::ceremony::verify_signed_request;
use camr::crypto::{CryptoProvider, PublicKey, default_provider};
use camr::protocol::{Bytes, RequestObject, Response, SignedRequest};
use serde_json::Value;

pub struct Harness {
    pub base: String,
    pub client: reqwest::Client,
    pub data: PathBuf,
    pub dir: tempfile::TempDir,
    pub provider: Arc<dyn CryptoProvider>,
    pub key: PublicKey,
    pub app: App,
    pub wallet: Wallet,
    pub state: Arc<camr_server::AppState>,
    /// How the server was set up (a restart builds it again from this).
    pub config: camr_server::ServerConfig,
    /// Stops the server ([`Harness::restart`]).
    stop: Arc<tokio::sync::Notify>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// The demo server with its defaults.
pub async fn start() -> Harness {
    start_configured(|_, _| {}).await
}

/// The demo server after `configure(config, temporary folder)`.
pub async fn start_configured(
    configure: impl FnOnce(&mut camr_server::ServerConfig, &Path),
) -> Harness {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = camr_server::ServerConfig::demo(data.clone(), addr);
    configure(&mut config, dir.path());
    let state = camr_server::build_state(&config).await.unwrap();
    let stop = Arc::new(tokio::sync::Notify::new());
    let server = spawn_server(listener, state.clone(), stop.clone());
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let info: Value = client
        .get(format!("{base}/api/v1/platform"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["data"]["systemCode"], "C1100005553");
    let spki = b64(info["data"]["publicKeySpki"].as_str().unwrap());
    let provider = default_provider();
    Harness {
        key: PublicKey::from_spki_der(&spki).unwrap(),
        app: App::new(provider.clone(), "SOFTCA"),
        wallet: Wallet::open(&data.join("wallet"), b"123456").unwrap(),
        provider,
        client,
        base,
        data,
        dir,
        state,
        config,
        stop,
        server: Some(server),
    }
}

fn spawn_server(
    listener: tokio::net::TcpListener,
    state: Arc<camr_server::AppState>,
    stop: Arc<tokio::sync::Notify>,
) -> tokio::task::JoinHandle<std::io::Result<()>> {
    tokio::spawn(camr_server::serve(listener, state, async move {
        stop.notified().await
    }))
}

/// Standard base64 as the API writes it.
pub fn b64(s: &str) -> Vec<u8> {
    serde_json::from_value::<Bytes>(Value::String(s.into()))
        .unwrap()
        .0
}

/// An error envelope with this status and code.
pub fn assert_error(status: u16, v: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{v}");
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["errorCode"], code, "{v}");
    assert_eq!(v["code"], want_status, "{v}");
    assert!(v["data"].is_null(), "{v}");
}

impl Harness {
    /// Stops the server (in-flight requests finish) and starts it again on the same address,
    /// data folder and configuration, with nothing kept from the old process's memory.
    pub async fn restart(&mut self) {
        self.stop.notify_one();
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        let addr = self.base.trim_start_matches("http://").to_string();
        let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
        self.state = camr_server::build_state(&self.config).await.unwrap();
        self.stop = Arc::new(tokio::sync::Notify::new());
        self.server = Some(spawn_server(
            listener,
            self.state.clone(),
            self.stop.clone(),
        ));
    }

    /// Another server instance on this one's data folder, configured by `configure` (e.g.
    /// the same database, as after a restart or beside it behind a load balancer); its base
    /// URL.
    pub async fn another_instance(
        &self,
        configure: impl FnOnce(&mut camr_server::ServerConfig),
    ) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = camr_server::ServerConfig::demo(self.data.clone(), addr);
        configure(&mut config);
        let state = camr_server::build_state(&config).await.unwrap();
        tokio::spawn(camr_server::serve(listener, state, std::future::pending()));
        format!("http://{addr}")
    }

    /// A GET as the browser that started the transactions; the reports as the operator.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if path.starts_with("/api/v1/reports/") {
            req = req.bearer_auth(self.state.ops.admin_token());
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    pub async fn start_tx(&self, body: Value) -> (String, String) {
        let (status, v) = self.post("/api/v1/transactions", &body).await;
        assert_eq!(status, 200, "{v}");
        (
            v["data"]["tid"].as_str().unwrap().to_string(),
            v["data"]["qrText"].as_str().unwrap().to_string(),
        )
    }

    /// The phone: parse and verify the QR, fetch and verify the request object.
    pub async fn scan(&self, qr_text: &str) -> (SignedRequest, RequestObject) {
        let payload = camr::qr::parse_and_verify(
            self.provider.as_ref(),
            qr_text,
            &self.key,
            camr::qr::VerifyOptions::at(camr::qr::unix_now()),
        )
        .unwrap();
        // As `camr::app::App::fetch_request` does: the live part of a rotating code goes along.
        let uri = match &payload.rotation {
            Some(rot) => format!(
                "{}?rot={}",
                payload.request_uri,
                camr::qr::rotation_query(rot)
            ),
            None => payload.request_uri.clone(),
        };
        let r = self.client.get(&uri).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = r.json().await.unwrap();
        let signed: SignedRequest = serde_json::from_value(v["data"].clone()).unwrap();
        let request = verify_signed_request(self.provider.as_ref(), &signed, &self.key).unwrap();
        assert_eq!(request.system_name, "移动数字证书(CA)互认模拟测试系统");
        assert_eq!(request.tid, payload.tid);
        (signed, request)
    }

    pub async fn answer(&self, response: &Response) -> (u16, Value) {
        self.post(
            "/camr/v1/response",
            &serde_json::to_value(response).unwrap(),
        )
        .await
    }

    pub async fn approve(&self, qr_text: &str) -> (u16, Value) {
        let (signed, request) = self.scan(qr_text).await;
        let response = self
            .app
            .approve(&self.wallet, &signed, &request, &[])
            .unwrap();
        self.answer(&response).await
    }

    pub async fn upload(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    pub async fn download(&self, path: &str) -> (u16, Vec<u8>, Option<String>) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let cd = r
            .headers()
            .get("content-disposition")
            .map(|v| v.to_str().unwrap().to_string());
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec(), cd)
    }
}

/// An adapter built as a real `.so` (a dev-dependency, so cargo builds it before the tests):
/// `file` in `target/<profile>/deps` or `target/<profile>`.
pub fn adapter_so(file: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [deps.join(file), deps.parent().unwrap().join(file)]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{file} is built before the tests"))
}

/// The softca adapter's `.so`.
pub fn softca_so() -> PathBuf {
    adapter_so("libcamr_adapter_softca.so")
}

/// A vendor the test platform accepts: its `caOrgType`, name and root certificate (DER).
pub struct TestVendor<'a> {
    pub ca_org_type: &'a str,
    pub name: &'a str,
    pub root: Vec<u8>,
}

/// The root certificate (DER) of the software CA in `ca_dir`.
pub fn softca_root(ca_dir: &Path) -> Vec<u8> {
    camr::softca::SoftCa::open(default_provider(), ca_dir)
        .unwrap()
        .root()
        .der()
        .to_vec()
}

/// What a platform with vendors' adapters needs, written under `dir`: a plugin folder holding
/// the adapter files `adapters` (built `.so`s, see [`adapter_so`]), and a signed trust list
/// (注册表) in which the demo platform accepts SOFTCA and `vendors`, whose roots it names.
pub fn vendor_platform(
    dir: &Path,
    vendors: &[TestVendor<'_>],
    adapters: &[&str],
) -> (PathBuf, camr_server::config::TrustListConfig) {
    use camr::registry::{PlatformEntry, TrustList, VendorEntry};
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    for file in adapters {
        std::fs::copy(adapter_so(file), plugins.join(file)).unwrap();
    }
    let p = default_provider();
    let authority = p.generate_key(camr::crypto::KeyAlgorithm::Sm2).unwrap();
    let now = camr::qr::unix_now();
    let list = TrustList {
        version: 1,
        issued_at: now,
        expires_at: now + 86_400,
        platforms: vec![PlatformEntry {
            system_code: camr::protocol::SystemCode::parse("C1100005553").unwrap(),
            system_name: "移动数字证书(CA)互认模拟测试系统".into(),
            keys: Vec::new(),
            request_uri_prefixes: Vec::new(),
            response_uris: Vec::new(),
            accepted_vendors: std::iter::once("SOFTCA")
                .chain(vendors.iter().map(|v| v.ca_org_type))
                .map(String::from)
                .collect(),
            requirements: Vec::new(),
        }],
        vendors: vendors
            .iter()
            .map(|v| VendorEntry {
                ca_org_type: v.ca_org_type.into(),
                name: v.name.into(),
                roots: vec![Bytes(v.root.clone())],
                adapter: None,
                org_certs_delegated: false,
            })
            .collect(),
    };
    let signed = camr::registry::sign(p.as_ref(), &list, &authority, "TEST").unwrap();
    let path = dir.join("registry.json");
    std::fs::write(&path, serde_json::to_string(&signed).unwrap()).unwrap();
    let authority_key = dir.join("authority.pub.pem");
    std::fs::write(
        &authority_key,
        authority.public_key().to_spki_pem().unwrap(),
    )
    .unwrap();
    (
        plugins,
        camr_server::config::TrustListConfig {
            path,
            authority_key,
        },
    )
}
