//! The operations side of the server over real HTTP on loopback: configuration file and
//! environment, rate limit, request timeout, metrics, signed webhooks, the usage report and
//! the admin reload.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use camr::app::{App, Wallet};
use camr::ceremony::verify_signed_request;
use camr::crypto::{CryptoProvider, PublicKey, SignatureScheme, default_provider};
use camr::protocol::{
    CertType, Operation, PublicKeyAlgorithm, SubjectType, SystemCode, Tid, UsageRecord,
};
use camr_server::config::{Flags, Settings, resolve};
use camr_server::webhook::WebhookConfig;
use camr_server::{AppState, ServerConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------------------------------
// Configuration

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("camr.example.toml")
}

#[test]
fn the_example_config_parses_as_is_and_with_every_optional_setting() {
    let path = example_path();
    let c = resolve(Some(&path), &[], &Flags::default()).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.system_code, "C1100005553");
    assert_eq!(c.system_name, "移动数字证书(CA)互认模拟测试系统");
    assert_eq!(c.data, PathBuf::from("./data"));
    assert_eq!(
        c.database_url.as_deref(),
        Some("sqlite://data/camr.db?mode=rwc")
    );
    assert_eq!(c.qr_rotation_window, Some(60));
    assert_eq!(c.request_timeout, Duration::from_secs(30));
    assert_eq!(c.body_limit, 1_048_576);
    assert_eq!(c.rate_limit.per_minute, 120);
    assert_eq!(c.rate_limit.burst, 30);
    assert!(c.webhook.is_none() && c.plugins.is_none() && c.trust_list.is_none());

    // With the `#~ ` lines switched on.
    let text = std::fs::read_to_string(&path).unwrap();
    let on: String = text
        .lines()
        .map(|l| l.strip_prefix("#~ ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("camr.toml");
    std::fs::write(&full, on).unwrap();
    let c = resolve(Some(&full), &[], &Flags::default()).unwrap();
    let w = c.webhook.unwrap();
    assert_eq!(w.url, "https://trading.example/camr/webhook");
    assert_eq!(w.max_attempts, 8);
    assert_eq!(w.backoff, Duration::from_millis(1000));
    assert_eq!(c.plugins, Some(PathBuf::from("data/plugins")));
    assert_eq!(c.plugin_pins.len(), 1);
    assert_eq!(
        c.trust_list.unwrap().authority_key,
        PathBuf::from("/etc/camr/registry-authority.pub.pem")
    );
    assert_eq!(
        c.admin_token.unwrap().expose(),
        "change-me-to-a-long-random-string"
    );
    assert_eq!(
        c.platform_key,
        Some(PathBuf::from("/etc/camr/platform-key.pem"))
    );
    assert_eq!(
        c.plugins_config["SOFTCA"],
        json!({ "cloudUrl": "http://127.0.0.1:8700", "timeoutMs": 5000 })
    );
}

fn config_error(text: &str) -> (String, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("camr.toml");
    std::fs::write(&path, text).unwrap();
    let e = resolve(Some(&path), &[], &Flags::default()).unwrap_err();
    (e.0, path)
}

#[test]
fn unknown_keys_and_bad_values_name_the_key_and_the_file() {
    for (text, key) in [
        ("listne = \"127.0.0.1:1\"\n", "`listne`"),
        (
            "[webhook]\nurl = \"http://x\"\nretries = 3\n",
            "`webhook.retries`",
        ),
        ("[metrics]\nport = 1\n", "`metrics`"),
        ("listen = \"localhost\"\n", "`listen`"),
        ("listen = 8080\n", "`listen`"),
        ("[rate_limit]\nburst = 0\n", "`rate_limit.burst`"),
        (
            "[rate_limit]\nper_minute = \"many\"\n",
            "`rate_limit.per_minute`",
        ),
        ("[webhook]\nurl = \"ftp://x\"\n", "`webhook.url`"),
        (
            "[webhook]\nurl = \"http://x\"\nsigning = \"md5\"\n",
            "`webhook.signing`",
        ),
        ("system_code = \"nope\"\n", "`system_code`"),
        ("[plugins.pins]\n\"a.so\" = \"abc\"\n", "`plugins.pins`"),
        ("admin_token = \"short\"\n", "`admin_token`"),
        ("webhook = \"http://x\"\n", "`webhook`"),
    ] {
        let (e, path) = config_error(text);
        assert!(e.contains(key), "{text:?}: {e}");
        assert!(e.contains(&path.display().to_string()), "{text:?}: {e}");
    }
    // A syntax error names the file and the line.
    let (e, path) = config_error("listen = \"127.0.0.1:1\"\n[oops\n");
    assert!(
        e.contains(&path.display().to_string()) && e.contains("line 2"),
        "{e}"
    );
    // Keys that only make sense together.
    let (e, _) = config_error("[webhook]\nmax_attempts = 3\n");
    assert!(e.contains("`webhook.url`"), "{e}");
    let (e, _) = config_error("[webhook]\nurl = \"http://x\"\nsigning = \"hmac-sm3\"\n");
    assert!(e.contains("`webhook.secret`"), "{e}");
    let (e, _) = config_error("[trust_list]\npath = \"x.json\"\n");
    assert!(e.contains("`trust_list.authority_key`"), "{e}");
    // A missing file.
    let e = resolve(
        Some(Path::new("/no/such/camr.toml")),
        &[],
        &Flags::default(),
    )
    .unwrap_err();
    assert!(e.0.contains("/no/such/camr.toml"), "{e}");
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn environment_overrides_the_file_and_flags_override_the_environment() {
    // Nothing at all: today's demo defaults.
    let c = resolve(None, &[], &Flags::default()).unwrap();
    let mut demo = ServerConfig::demo(PathBuf::from("./data"), "127.0.0.1:8080".parse().unwrap());
    demo.database_url = Some("sqlite://./data/camr.db?mode=rwc".into());
    assert_eq!(c, demo);
    assert_eq!(c.public_url, "http://127.0.0.1:8080");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("camr.toml");
    std::fs::write(
        &path,
        "listen = \"127.0.0.1:7001\"\nsystem_name = \"文件\"\n[rate_limit]\nper_minute = 10\nburst = 5\n",
    )
    .unwrap();
    let e = env(&[
        ("CAMR_SERVER_LISTEN", "127.0.0.1:7002"),
        ("CAMR_SERVER_RATE_LIMIT_PER_MINUTE", "20"),
        ("CAMR_SERVER_WEBHOOK_URL", "http://127.0.0.1:9/hook"),
        (
            "CAMR_SERVER_PLUGINS_PINS",
            format!("a.so={},b.so={}", "A".repeat(64), "b".repeat(64)).as_str(),
        ),
        ("PATH", "/usr/bin"),
    ]);
    let c = resolve(Some(&path), &e, &Flags::default()).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:7002");
    assert_eq!(c.public_url, "http://127.0.0.1:7002");
    assert_eq!(c.system_name, "文件");
    assert_eq!((c.rate_limit.per_minute, c.rate_limit.burst), (20, 5));
    assert_eq!(
        c.webhook,
        Some(WebhookConfig::new("http://127.0.0.1:9/hook"))
    );
    assert_eq!(c.plugin_pins["a.so"], "a".repeat(64));
    let flags = Flags {
        listen: Some("0.0.0.0:7003".parse().unwrap()),
        ..Flags::default()
    };
    let c = resolve(Some(&path), &e, &flags).unwrap();
    assert_eq!(c.listen.to_string(), "0.0.0.0:7003");
    // An unspecified address is not a URL anyone can reach: the default public URL says
    // 127.0.0.1.
    assert_eq!(c.public_url, "http://127.0.0.1:7003");

    // CAMR_SERVER_CONFIG names the file when --config does not.
    let c = resolve(
        None,
        &env(&[("CAMR_SERVER_CONFIG", path.to_str().unwrap())]),
        &Flags::default(),
    )
    .unwrap();
    assert_eq!(c.system_name, "文件");

    // Bad and unknown variables name themselves (and the key).
    let e = resolve(
        None,
        &env(&[("CAMR_SERVER_RATE_LIMIT_PER_MINUTE", "fast")]),
        &Flags::default(),
    )
    .unwrap_err();
    assert!(
        e.0.contains("CAMR_SERVER_RATE_LIMIT_PER_MINUTE")
            && e.0.contains("`rate_limit.per_minute`"),
        "{e}"
    );
    let e = resolve(
        None,
        &env(&[("CAMR_SERVER_LISTEN", "nowhere")]),
        &Flags::default(),
    )
    .unwrap_err();
    assert!(
        e.0.contains("CAMR_SERVER_LISTEN") && e.0.contains("nowhere"),
        "{e}"
    );
    let e = resolve(None, &env(&[("CAMR_SERVER_LISTN", "x")]), &Flags::default()).unwrap_err();
    assert!(e.0.contains("CAMR_SERVER_LISTN"), "{e}");

    // Settings layer key by key.
    let file =
        Settings::from_toml("data = \"/a\"\nsystem_code = \"C1100005553\"\n", &path).unwrap();
    let top = Settings::from_env([("CAMR_SERVER_DATA", "/b")]).unwrap();
    let c = file.overridden_by(top).finish().unwrap();
    assert_eq!(c.data, PathBuf::from("/b"));
}

#[test]
fn plugins_config_is_a_table_per_vendor_from_the_file_or_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("camr.toml");
    std::fs::write(
        &path,
        "[plugins.config.SOFTCA]\ncloudUrl = \"http://127.0.0.1:8700\"\ntimeoutMs = 5000\n",
    )
    .unwrap();
    let c = resolve(Some(&path), &[], &Flags::default()).unwrap();
    assert_eq!(
        c.plugins_config.get("SOFTCA"),
        Some(&json!({ "cloudUrl": "http://127.0.0.1:8700", "timeoutMs": 5000 }))
    );
    // The environment's JSON object replaces the file's table.
    let e = env(&[(
        "CAMR_SERVER_PLUGINS_CONFIG",
        r#"{"BJCA":{"url":"https://bjca.example"}}"#,
    )]);
    let c = resolve(Some(&path), &e, &Flags::default()).unwrap();
    assert_eq!(c.plugins_config.len(), 1);
    assert_eq!(c.plugins_config["BJCA"]["url"], "https://bjca.example");
    // Unset: no adapter is configured.
    assert!(
        resolve(None, &[], &Flags::default())
            .unwrap()
            .plugins_config
            .is_empty()
    );

    // A vendor's configuration must be a table; the key and the file are named.
    for text in [
        "[plugins.config]\nSOFTCA = \"http://x\"\n",
        "[plugins]\nconfig = 3\n",
    ] {
        let (e, path) = config_error(text);
        assert!(e.contains("`plugins.config`"), "{text:?}: {e}");
        assert!(e.contains(&path.display().to_string()), "{text:?}: {e}");
    }
    for bad in ["not json", r#"{"SOFTCA":"x"}"#, "[1]"] {
        let e = resolve(
            None,
            &env(&[("CAMR_SERVER_PLUGINS_CONFIG", bad)]),
            &Flags::default(),
        )
        .unwrap_err();
        assert!(e.0.contains("CAMR_SERVER_PLUGINS_CONFIG"), "{bad}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adapters_get_their_configuration_at_start_and_a_bad_one_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(softca_so(), plugins.join("libcamr_adapter_softca.so")).unwrap();
    let start = |plugins: Option<PathBuf>, vendor: &str, config: Value| {
        let mut c = ServerConfig::demo(dir.path().join("data"), "127.0.0.1:0".parse().unwrap());
        c.plugins = plugins;
        c.plugins_config.insert(vendor.to_string(), config);
        async move { camr_server::build_state(&c).await }
    };

    // The softca adapter takes its cloud's URL: its outbound calls then go there (nothing
    // listens on port 9, so the call fails reaching it, not for want of a configuration).
    let state = start(
        Some(plugins.clone()),
        "SOFTCA",
        json!({ "cloudUrl": "http://127.0.0.1:9", "timeoutMs": 2000 }),
    )
    .await
    .unwrap();
    let host = state.plugins.as_ref().unwrap();
    let usage = UsageRecord {
        trading_system_code: SystemCode::parse("C1100005553").unwrap(),
        trading_system_name: "t".into(),
        cert_sn: "01".into(),
        cert_name: "张三".into(),
        cert_type: CertType::PersonalCert,
        public_key_algorithm: PublicKeyAlgorithm::Sm2,
        subject_type: SubjectType::Personal,
        usage_scene: Operation::Login,
        tid: Tid::new(&SystemCode::parse("C1100005553").unwrap(), [7; 16]),
        used_at: 0,
        ca_org_type: "SOFTCA".into(),
        operator: None,
        revocation_unknown: false,
    };
    let host_ref: &camr_plugin_host::PluginHost = host;
    let e = tokio::task::block_in_place(|| host_ref.report_usage("SOFTCA", &usage)).unwrap_err();
    assert!(
        e.to_string().contains("cannot reach the softca cloud"),
        "{e}"
    );

    // Refused by the adapter, not loaded, no plugin folder: each stops the start, saying why.
    let e = start(
        Some(plugins.clone()),
        "SOFTCA",
        json!({ "cloudUrl": "ftp://x" }),
    )
    .await
    .unwrap_err();
    assert!(
        e.0.contains("`SOFTCA` refused its `plugins.config`") && e.0.contains("cloudUrl"),
        "{e:?}"
    );
    let e = start(Some(plugins.clone()), "BJCA", json!({}))
        .await
        .unwrap_err();
    assert!(
        e.0.contains("`BJCA`, which is not loaded (loaded: SOFTCA)"),
        "{e:?}"
    );
    let e = start(None, "SOFTCA", json!({})).await.unwrap_err();
    assert!(e.0.contains("no `plugins.dir` is set"), "{e:?}");
}

// ---------------------------------------------------------------------------------------
// A server on loopback

struct Server {
    base: String,
    client: reqwest::Client,
    state: Arc<AppState>,
    data: PathBuf,
    _dir: tempfile::TempDir,
    provider: Arc<dyn CryptoProvider>,
    key: PublicKey,
}

async fn server(tweak: impl FnOnce(&mut ServerConfig, &Path)) -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = ServerConfig::demo(data.clone(), addr);
    tweak(&mut config, dir.path());
    let state = camr_server::build_state(&config).await.unwrap();
    tokio::spawn(camr_server::serve(
        listener,
        state.clone(),
        std::future::pending(),
    ));
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let spki = data_encoding::BASE64
        .decode(state.info.public_key_spki.as_bytes())
        .unwrap();
    Server {
        key: PublicKey::from_spki_der(&spki).unwrap(),
        provider: default_provider(),
        base,
        client,
        state,
        data,
        _dir: dir,
    }
}

impl Server {
    async fn get(&self, path: &str) -> (u16, Value) {
        // The reports are the operator's.
        let mut req = self.client.get(format!("{}{path}", self.base));
        if path.starts_with("/api/v1/reports/") {
            req = req.bearer_auth(self.state.ops.admin_token());
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn start_tx(&self, op: &str) -> (String, String) {
        let r = self
            .post("/api/v1/transactions", &json!({"operation": op}))
            .await;
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = r.json().await.unwrap();
        (
            v["data"]["tid"].as_str().unwrap().to_string(),
            v["data"]["qrText"].as_str().unwrap().to_string(),
        )
    }

    /// The phone: scan the QR, approve with the demo wallet.
    async fn login(&self) -> String {
        let (tid, qr) = self.start_tx("login").await;
        let payload = camr::qr::parse_and_verify(
            self.provider.as_ref(),
            &qr,
            &self.key,
            camr::qr::VerifyOptions::at(camr::qr::unix_now()),
        )
        .unwrap();
        let uri = match &payload.rotation {
            Some(rot) => format!(
                "{}?rot={}",
                payload.request_uri,
                camr::qr::rotation_query(rot)
            ),
            None => payload.request_uri.clone(),
        };
        let v: Value = self
            .client
            .get(&uri)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let signed: camr::protocol::SignedRequest =
            serde_json::from_value(v["data"].clone()).unwrap();
        let request = verify_signed_request(self.provider.as_ref(), &signed, &self.key).unwrap();
        let wallet = Wallet::open(&self.data.join("wallet"), b"123456").unwrap();
        let app = App::new(self.provider.clone(), "SOFTCA");
        let response = app.approve(&wallet, &signed, &request, &[]).unwrap();
        let r = self
            .post(
                "/camr/v1/response",
                &serde_json::to_value(&response).unwrap(),
            )
            .await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["data"]["state"], "verified", "{v}");
        tid
    }

    async fn scrape(&self) -> Vec<(String, f64)> {
        let r = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
        parse_metrics(&r.text().await.unwrap())
    }
}

/// Parses the text format: every line a comment (`# HELP`/`# TYPE`) or `name{labels} value`.
fn parse_metrics(text: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("`series value`");
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            name.starts_with("camr_")
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "{line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "{line}");
        }
        out.push((series.to_string(), value.parse::<f64>().expect("a number")));
    }
    out
}

fn value(metrics: &[(String, f64)], series: &str) -> f64 {
    metrics
        .iter()
        .find(|(s, _)| s == series)
        .map(|(_, v)| *v)
        .unwrap_or(0.0)
}

async fn eventually(what: &str, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn assert_error(status: u16, v: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{v}");
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["errorCode"], code, "{v}");
    assert_eq!(v["code"], want_status, "{v}");
}

// ---------------------------------------------------------------------------------------
// Rate limit, timeout

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_starts_are_rate_limited_per_client_with_retry_after() {
    let s = server(|c, _| {
        c.rate_limit.per_minute = 6;
        c.rate_limit.burst = 2;
    })
    .await;
    s.start_tx("login").await;
    s.start_tx("login").await;
    let r = s
        .post("/api/v1/transactions", &json!({"operation": "login"}))
        .await;
    let status = r.status().as_u16();
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry), "{retry}");
    let v: Value = r.json().await.unwrap();
    assert_error(status, &v, 429, "RATE_LIMITED");
    // Other calls are not limited.
    let (status, _) = s.get("/api/v1/platform").await;
    assert_eq!(status, 200);
    let m = s.scrape().await;
    assert_eq!(value(&m, "camr_rate_limited_total"), 1.0);
    assert_eq!(
        value(
            &m,
            "camr_http_requests_total{method=\"POST\",route=\"/api/v1/transactions\",status=\"429\"}"
        ),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_connect_info_the_router_still_serves_and_limits() {
    // `router()` served without `into_make_service_with_connect_info`: no client address,
    // every client shares one bucket instead of failing.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = ServerConfig::demo(dir.path().join("data"), addr);
    config.rate_limit.burst = 1;
    let state = camr_server::build_state(&config).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, camr_server::router(state)).await });
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let url = format!("http://{addr}/api/v1/transactions");
    let first = client
        .post(&url)
        .json(&json!({"operation": "login"}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let second = client
        .post(&url)
        .json(&json!({"operation": "login"}))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status().as_u16(), 429);
    assert!(second.headers().contains_key("retry-after"));
}

/// Sends a request whose body never completes and returns the answer's status and body.
async fn slow_body(base_addr: &str, path: &str) -> (u16, Value) {
    let mut tcp = tokio::net::TcpStream::connect(base_addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {base_addr}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"tid\":"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut chunk))
            .await
            .expect("the server answers before the client gives up")
            .unwrap();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(usize::MAX);
            if body.len() >= len {
                break;
            }
        }
    }
    let text = String::from_utf8(buf).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_the_timeout_answers_the_envelope_and_the_event_stream_is_exempt() {
    let s = server(|c, _| c.request_timeout = Duration::from_millis(300)).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let started = Instant::now();
    let (status, v) = slow_body(&addr, "/camr/v1/response").await;
    assert_error(status, &v, 503, "REQUEST_TIMEOUT");
    assert!(started.elapsed() < Duration::from_secs(5));

    // The event stream outlives the timeout and still delivers the final state.
    let (tid, _) = s.start_tx("login").await;
    let mut r = s
        .client
        .get(format!("{}/api/v1/transactions/{tid}/events", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let first = r.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("created"));
    tokio::time::sleep(Duration::from_millis(900)).await;
    let cancel = s
        .post(&format!("/api/v1/transactions/{tid}/cancel"), &json!({}))
        .await;
    assert_eq!(cancel.status().as_u16(), 200);
    let mut rest = String::new();
    while let Some(c) = tokio::time::timeout(Duration::from_secs(10), r.chunk())
        .await
        .unwrap()
        .unwrap()
    {
        rest.push_str(&String::from_utf8_lossy(&c));
    }
    assert!(rest.contains("cancelled"), "{rest}");
}

// ---------------------------------------------------------------------------------------
// Metrics

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_and_count_a_login() {
    let s = server(|_, _| {}).await;
    let before = s.scrape().await;
    assert_eq!(
        value(
            &before,
            &format!(
                "camr_build_info{{version=\"{}\",instance=\"{}\"}}",
                env!("CARGO_PKG_VERSION"),
                s.state.instance_id
            )
        ),
        1.0
    );
    let started = "camr_transactions_started_total{operation=\"login\"}";
    let verified = "camr_transactions_finished_total{operation=\"login\",state=\"verified\"}";
    let starts =
        "camr_http_requests_total{method=\"POST\",route=\"/api/v1/transactions\",status=\"200\"}";
    assert_eq!(value(&before, started), 0.0);
    s.login().await;
    eventually("the login to be counted", async || {
        let m = s.scrape().await;
        value(&m, started) == 1.0 && value(&m, verified) == 1.0
    })
    .await;
    let after = s.scrape().await;
    assert_eq!(value(&after, starts), 1.0);
    assert!(
        value(
            &after,
            "camr_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}"
        ) >= 2.0,
        "{after:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Webhooks

#[derive(Debug, Clone)]
struct Delivery {
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

/// A receiver on loopback: answers `statuses[n]` to the n-th POST (the last one after
/// that) and records every delivery.
async fn receiver(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<Delivery>>>) {
    let seen: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let record = record.clone();
                let statuses = statuses.clone();
                async move {
                    let mut seen = record.lock().unwrap();
                    let n = seen.len();
                    seen.push(Delivery {
                        headers,
                        body: body.to_vec(),
                    });
                    let status = statuses[n.min(statuses.len() - 1)];
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

fn webhook_config(url: &str) -> WebhookConfig {
    WebhookConfig {
        max_attempts: 5,
        backoff: Duration::from_millis(50),
        ..WebhookConfig::new(url)
    }
}

/// Verifies an `sm2=` signature header over `body` with the platform key.
fn sm2_ok(s: &Server, header: &str, body: &[u8]) -> bool {
    let sig = data_encoding::BASE64
        .decode(header.strip_prefix("sm2=").unwrap().as_bytes())
        .unwrap();
    s.provider
        .verify(&s.key, &SignatureScheme::sm2(), body, &sig)
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_is_sm2_signed_retried_after_503s_and_delivered_on_the_third_attempt() {
    let (url, seen) = receiver(vec![503, 503, 200]).await;
    let s = server(|c, _| c.webhook = Some(webhook_config(&url))).await;
    let tid = s.login().await;
    eventually("three attempts", async || seen.lock().unwrap().len() >= 3).await;
    eventually("the delivery to be counted", async || {
        value(
            &s.scrape().await,
            "camr_webhook_deliveries_total{result=\"delivered\"}",
        ) == 1.0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "no attempt after the 200");
    // The same signed body every time.
    assert!(seen.iter().all(|d| d.body == seen[0].body));
    let d = &seen[2];
    assert_eq!(d.headers["x-camr-attempt"], "3");
    let body: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(body["tid"], tid.as_str());
    assert_eq!(body["operation"], "login");
    assert_eq!(body["state"], "verified");
    assert_eq!(body["result"]["subject"]["name"], "张三");
    assert_eq!(
        d.headers["x-camr-timestamp"].to_str().unwrap(),
        body["timestamp"].to_string()
    );
    assert_eq!(
        d.headers["x-camr-key-id"].to_str().unwrap(),
        s.state.info.key_id
    );
    // The signature verifies with GET /api/v1/platform's key; a changed body does not.
    let (_, platform) = s.get("/api/v1/platform").await;
    assert_eq!(
        platform["data"]["publicKeySpki"],
        s.state.info.public_key_spki
    );
    let sig = d.headers["x-camr-signature"].to_str().unwrap();
    assert!(sm2_ok(&s, sig, &d.body));
    let tampered = String::from_utf8(d.body.clone())
        .unwrap()
        .replace("verified", "rejected");
    assert!(!sm2_ok(&s, sig, tampered.as_bytes()));

    let m = s.scrape().await;
    assert_eq!(value(&m, "camr_webhook_attempts_total"), 3.0);
    assert_eq!(
        value(&m, "camr_webhook_deliveries_total{result=\"failed\"}"),
        0.0
    );

    // The docs' OpenSSL recipe.
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!(
            "SKIPPED: openssl is not installed; the webhook signature was not checked outside camr"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (pem, b, sg) = (
        dir.path().join("platform.pub.pem"),
        dir.path().join("body.json"),
        dir.path().join("sig.der"),
    );
    std::fs::write(&pem, platform["data"]["publicKeyPem"].as_str().unwrap()).unwrap();
    std::fs::write(&b, &d.body).unwrap();
    std::fs::write(
        &sg,
        data_encoding::BASE64
            .decode(sig.strip_prefix("sm2=").unwrap().as_bytes())
            .unwrap(),
    )
    .unwrap();
    let out = std::process::Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(&pem)
        .arg("-rawin")
        .arg("-in")
        .arg(&b)
        .arg("-sigfile")
        .arg(&sg)
        .args(["-digest", "sm3", "-pkeyopt", "distid:1234567812345678"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_answered_400_gets_exactly_one_attempt() {
    let (url, seen) = receiver(vec![400]).await;
    let s = server(|c, _| c.webhook = Some(webhook_config(&url))).await;
    let (tid, _) = s.start_tx("login").await;
    let r = s
        .post(&format!("/api/v1/transactions/{tid}/cancel"), &json!({}))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    eventually("the failure to be counted", async || {
        value(
            &s.scrape().await,
            "camr_webhook_deliveries_total{result=\"failed\"}",
        ) == 1.0
    })
    .await;
    // Well past the back-off: still one attempt.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let body: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(body["state"], "cancelled");
    assert!(body.get("result").is_none());
    assert!(sm2_ok(
        &s,
        seen[0].headers["x-camr-signature"].to_str().unwrap(),
        &seen[0].body
    ));
    assert_eq!(value(&s.scrape().await, "camr_webhook_attempts_total"), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_other_instances_are_not_delivered() {
    let (url, seen) = receiver(vec![200]).await;
    let s = server(|c, _| c.webhook = Some(webhook_config(&url))).await;
    let (tid, _) = s.start_tx("login").await;
    // Another instance's change, as PostgreSQL's LISTEN would forward it.
    s.state.events.publish(camr_server::events::Event {
        tid: tid.clone(),
        state: camr::protocol::TransactionState::Cancelled,
        instance: "someone-else".into(),
    });
    s.post(&format!("/api/v1/transactions/{tid}/cancel"), &json!({}))
        .await;
    eventually("our own delivery", async || seen.lock().unwrap().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(seen.lock().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------
// Usage report

fn usage(name: &str, sn: &str, scene: Operation, used_at: i64, system: &str) -> UsageRecord {
    let code = SystemCode::parse(system).unwrap();
    UsageRecord {
        trading_system_code: code.clone(),
        trading_system_name: format!("系统 {system}"),
        cert_sn: sn.into(),
        cert_name: name.into(),
        cert_type: CertType::PersonalCert,
        public_key_algorithm: PublicKeyAlgorithm::Sm2,
        subject_type: SubjectType::Personal,
        usage_scene: scene,
        tid: Tid::new(&code, [u8::try_from(used_at % 251).unwrap(); 16]),
        used_at,
        ca_org_type: "SOFTCA".into(),
        operator: None,
        revocation_unknown: false,
    }
}

/// Unix seconds of `YYYY-MM-DD hh:00` in Beijing time.
fn beijing(date: &str, hour: i64) -> i64 {
    camr_server::report::parse_date(date).unwrap() * 86_400 - 8 * 3600 + hour * 3600
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_usage_report_groups_and_its_csv_quotes_a_name_with_a_comma_and_a_quote() {
    let s = server(|_, _| {}).await;
    let tricky = "王五, \"测试\"";
    for r in [
        usage(
            tricky,
            "0A",
            Operation::Login,
            beijing("2026-03-01", 0),
            "C1100005553",
        ),
        usage(
            tricky,
            "0A",
            Operation::Signature,
            beijing("2026-03-01", 23),
            "C1100005553",
        ),
        usage(
            "张三",
            "0B",
            Operation::Login,
            beijing("2026-03-03", 9),
            "C1100005554",
        ),
        // Outside the range.
        usage(
            "李四",
            "0C",
            Operation::Login,
            beijing("2026-03-04", 0),
            "C1100005553",
        ),
        usage(
            "李四",
            "0C",
            Operation::Login,
            beijing("2026-02-28", 23),
            "C1100005553",
        ),
    ] {
        s.state.store.append_usage(r).await.unwrap();
    }
    let q = "from=2026-03-01&to=2026-03-03";
    let (status, v) = s.get(&format!("/api/v1/reports/usage?{q}")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["total"], 3);
    assert_eq!(v["data"]["by"], "day");
    let rows = v["data"]["rows"].as_array().unwrap();
    let days: Vec<(&str, u64)> = rows
        .iter()
        .map(|r| (r["key"].as_str().unwrap(), r["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        days,
        [("2026-03-01", 2), ("2026-03-02", 0), ("2026-03-03", 1)]
    );
    assert_eq!(rows[0]["certs"], 1);
    assert_eq!(rows[0]["scenes"]["signature"], 1);

    let (_, v) = s.get(&format!("/api/v1/reports/usage?{q}&by=cert")).await;
    let rows = v["data"]["rows"].as_array().unwrap();
    assert_eq!(rows[0]["key"], "0A");
    assert_eq!(rows[0]["label"], tricky);
    assert_eq!(rows[0]["caOrgType"], "SOFTCA");
    assert_eq!(rows[0]["count"], 2);
    let (_, v) = s.get(&format!("/api/v1/reports/usage?{q}&by=system")).await;
    assert_eq!(v["data"]["rows"][0]["key"], "C1100005553");
    assert_eq!(v["data"]["rows"][1]["count"], 1);
    let (_, v) = s.get(&format!("/api/v1/reports/usage?{q}&by=scene")).await;
    assert_eq!(v["data"]["rows"][0]["key"], "login");
    assert_eq!(v["data"]["rows"][0]["label"], "注册登录");

    // CSV, one row per group: BOM, CRLF, RFC 4180 quoting.
    let r = s
        .client
        .get(format!("{}/api/v1/reports/usage.csv?{q}&by=cert", s.base))
        .bearer_auth(s.state.ops.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("camr-usage-2026-03-01-2026-03-03.csv")
    );
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "key,label,ca_org_type,count,certs,first_at,last_at"
    );
    assert_eq!(
        lines[1],
        "0A,\"王五, \"\"测试\"\"\",SOFTCA,2,1,2026-03-01 00:00:00,2026-03-01 23:00:00"
    );
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[3], "");
    // One row per record.
    let text = s
        .client
        .get(format!("{}/api/v1/reports/usage.csv?{q}&by=record", s.base))
        .bearer_auth(s.state.ops.admin_token())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{FEFF}').split("\r\n").collect();
    assert!(lines[0].starts_with("used_at,trading_system_code,"));
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[1].starts_with("2026-03-01 00:00:00,C1100005553,系统 C1100005553,0A,\"王五, \"\"测试\"\"\",personalCert,"), "{}", lines[1]);

    // Bad queries name the parameter.
    for (query, param) in [
        ("from=2026-02-30", "`from`"),
        ("from=yesterday", "`from`"),
        ("to=2026-3-01", "`to`"),
        ("from=2026-03-02&to=2026-03-01", "`to`"),
        ("by=week", "`by`"),
        ("by=record", "`by`"),
        ("form=2026-03-01", "`form`"),
        ("from=2000-01-01&to=2026-01-01", "`from`"),
    ] {
        let (status, v) = s.get(&format!("/api/v1/reports/usage?{query}")).await;
        assert_error(status, &v, 400, "INPUT_MALFORMED");
        assert!(v["msg"].as_str().unwrap().contains(param), "{query}: {v}");
    }
    let r = s
        .client
        .get(format!("{}/api/v1/reports/usage.csv?by=month", s.base))
        .bearer_auth(s.state.ops.admin_token())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_error(status, &r.json().await.unwrap(), 400, "INPUT_MALFORMED");
    // No dates: the last 30 days (none of the records above).
    let (status, v) = s.get("/api/v1/reports/usage").await;
    assert_eq!(status, 200);
    assert_eq!(v["data"]["rows"].as_array().unwrap().len(), 30);
    assert_eq!(v["data"]["total"], 0);
}

// ---------------------------------------------------------------------------------------
// Admin

/// The softca adapter built as a real `.so` (a dev-dependency, so cargo builds it first).
fn softca_so() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let file = "libcamr_adapter_softca.so";
    [deps.join(file), deps.parent().unwrap().join(file)]
        .into_iter()
        .find(|p| p.exists())
        .expect("the softca adapter .so is built before the tests")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloading_adapters_needs_the_admin_token_and_picks_up_a_new_plugin() {
    let folder: Arc<Mutex<PathBuf>> = Arc::default();
    let f = folder.clone();
    let s = server(move |c, dir| {
        let plugins = dir.join("plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        *f.lock().unwrap() = plugins.clone();
        c.plugins = Some(plugins);
        c.admin_token = Some(camr_server::config::Secret::new(
            "test-admin-token-0123456789",
        ));
    })
    .await;
    let folder = folder.lock().unwrap().clone();
    let (_, v) = s.get("/api/v1/admin/adapters").await;
    assert_eq!(v["data"], json!([]));
    std::fs::copy(softca_so(), folder.join("libcamr_adapter_softca.so")).unwrap();
    let url = format!("{}/api/v1/admin/adapters/reload", s.base);
    for auth in [
        None,
        Some("Bearer wrong-token-0123456789"),
        Some("test-admin-token-0123456789"),
    ] {
        let mut req = s.client.post(&url);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        assert_error(status, &r.json().await.unwrap(), 401, "UNAUTHORIZED");
    }
    let r = s
        .client
        .post(&url)
        .bearer_auth(s.state.ops.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"][0]["caOrgType"], "SOFTCA", "{v}");
    // GET stays open and shows it; /metrics reports its health.
    let (status, v) = s.get("/api/v1/admin/adapters").await;
    assert_eq!(
        (status, v["data"][0]["caOrgType"].as_str()),
        (200, Some("SOFTCA"))
    );
    let m = s.scrape().await;
    assert_eq!(value(&m, "camr_adapter_up{ca_org_type=\"SOFTCA\"}"), 1.0);
    // A refused folder changes nothing.
    std::fs::write(folder.join("broken.so"), b"not a library").unwrap();
    let r = s
        .client
        .post(&url)
        .bearer_auth(s.state.ops.admin_token())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_error(status, &r.json().await.unwrap(), 503, "ADAPTER_UNAVAILABLE");
    let (_, v) = s.get("/api/v1/admin/adapters").await;
    assert_eq!(v["data"][0]["caOrgType"], "SOFTCA");

    // A server without a plugin folder has nothing to reload; its token was generated.
    let demo = server(|_, _| {}).await;
    assert!(demo.state.ops.admin_token().len() >= 16);
    let r = demo
        .client
        .post(format!("{}/api/v1/admin/adapters/reload", demo.base))
        .bearer_auth(demo.state.ops.admin_token())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_error(status, &r.json().await.unwrap(), 409, "ADAPTER_UNAVAILABLE");
}

#[test]
fn with_no_configuration_transactions_go_to_sqlite_under_the_data_folder() {
    let c = resolve(None, &[], &Flags::default()).unwrap();
    assert_eq!(
        c.database_url.as_deref(),
        Some("sqlite://./data/camr.db?mode=rwc")
    );
    assert_eq!(c.qr_rotation_window, Some(60));
    let env = [
        ("CAMR_SERVER_DATABASE_URL".to_string(), "memory".to_string()),
        (
            "CAMR_SERVER_QR_ROTATION_WINDOW_SECS".to_string(),
            "0".to_string(),
        ),
    ];
    let c = resolve(None, &env, &Flags::default()).unwrap();
    assert_eq!(c.database_url, None);
    assert_eq!(c.qr_rotation_window, None);
    let bad = [(
        "CAMR_SERVER_QR_ROTATION_WINDOW_SECS".to_string(),
        "forever".to_string(),
    )];
    let e = resolve(None, &bad, &Flags::default()).unwrap_err();
    assert!(e.to_string().contains("QR_ROTATION_WINDOW_SECS"), "{e}");
}
