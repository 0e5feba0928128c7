//! The browser harness of the page tests (`browser.rs`, `browser_pages.rs`): chromedriver and
//! headless Chromium (`fantoccini`), the reference server in-process, the app simulator as the
//! phone, and the page helpers. See `browser.rs` for where the tools come from.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use camr::protocol::{ErrorCode, Operation, QrPayload};
use camr_app_sim::{Outcome, PlatformKeySource, QrSource, ScanOptions, SimError, Ui};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// How long the page gets to show something (polled, not slept).
pub(crate) const WAIT: Duration = Duration::from_secs(30);
/// How long chromedriver gets to come up.
pub(crate) const DRIVER_START: Duration = Duration::from_secs(30);
/// Poll interval.
pub(crate) const TICK: Duration = Duration::from_millis(200);
/// The demo wallet's holder (`camr_server::demo::demo_holder`).
pub(crate) const HOLDER: &str = "张三";

// ---------------------------------------------------------------------------------------------
// chromedriver and Chromium
// ---------------------------------------------------------------------------------------------

/// The chromedriver and Chromium binaries.
pub(crate) struct Tools {
    pub(crate) chromedriver: PathBuf,
    pub(crate) chromium: PathBuf,
}

pub(crate) fn runs(bin: &Path) -> bool {
    Command::new(bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The tools, or `None` after a loud message when there are none and none were asked for.
pub(crate) fn tools() -> Option<Tools> {
    let required = std::env::var_os("CAMR_CHROMEDRIVER").filter(|p| !p.is_empty());
    let chromedriver = match &required {
        Some(p) => {
            let p = PathBuf::from(p);
            // Asked for explicitly (CI sets it): a missing driver is an error, not a skip.
            assert!(
                runs(&p),
                "CAMR_CHROMEDRIVER={} does not run `--version`; install Debian's \
                 `chromium-driver` (apt-get install chromium chromium-driver)",
                p.display()
            );
            p
        }
        None => {
            let p = PathBuf::from("/usr/bin/chromedriver");
            if !runs(&p) {
                skip(
                    "chromedriver not found (apt-get install chromium chromium-driver, or set CAMR_CHROMEDRIVER)",
                );
                return None;
            }
            p
        }
    };
    let chromium = std::env::var_os("CAMR_CHROMIUM")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !chromium.exists() {
        assert!(
            required.is_none(),
            "CAMR_CHROMEDRIVER is set but there is no Chromium at {} (set CAMR_CHROMIUM)",
            chromium.display()
        );
        skip(&format!(
            "no Chromium at {} (set CAMR_CHROMIUM)",
            chromium.display()
        ));
        return None;
    }
    Some(Tools {
        chromedriver,
        chromium,
    })
}

/// Written straight to the process's stderr (the harness hides `eprintln!` of passing tests).
pub(crate) fn skip(why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: {why}. A real-browser test of the server's pages did NOT run. ***\n"
    );
}

/// A chromedriver child process in its own process group; the group (chromedriver and the
/// browsers it started) is killed on drop, also when the test failed.
pub(crate) struct Driver {
    pub(crate) child: Child,
    pub(crate) url: String,
    pub(crate) log: PathBuf,
    /// Chromium's profile and the driver's log.
    pub(crate) dir: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let pid = self.child.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sh -c WATCHDOG name <pid> <command…>`: kills its own process group once process `<pid>`
/// is gone, and runs the command in its place.
pub(crate) const WATCHDOG: &str = r#"watch=$1; shift
( while kill -0 "$watch" 2>/dev/null; do sleep 1; done; kill -KILL 0 ) </dev/null &
exec "$@""#;

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it says it is ready.
    pub(crate) async fn start(tools: &Tools) -> Driver {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let mut last = String::new();
        // A few attempts: the free port can be taken between probing and binding.
        for _ in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let log = dir.path().join("chromedriver.log");
            let port = free_port();
            let child = {
                use std::os::unix::process::CommandExt as _;
                let out = std::fs::File::create(&log).unwrap();
                // Through a shell that leaves a watchdog behind and becomes chromedriver: when
                // this test process dies without running `Drop` (killed by a timeout, ^C), the
                // watchdog kills the group, so no driver or browser outlives the run.
                Command::new("/bin/sh")
                    .arg("-c")
                    .arg(WATCHDOG)
                    .arg("camr-chromedriver")
                    .arg(std::process::id().to_string())
                    .arg(&tools.chromedriver)
                    .arg(format!("--port={port}"))
                    .stdin(Stdio::null())
                    .stdout(out.try_clone().unwrap())
                    .stderr(out)
                    .process_group(0)
                    .spawn()
                    .unwrap_or_else(|e| {
                        panic!("cannot start {}: {e}", tools.chromedriver.display())
                    })
            };
            let mut driver = Driver {
                child,
                url: format!("http://127.0.0.1:{port}"),
                log,
                dir,
            };
            let started = Instant::now();
            last = format!("chromedriver did not answer within {DRIVER_START:?}");
            while started.elapsed() < DRIVER_START {
                if let Ok(Some(status)) = driver.child.try_wait() {
                    last = format!("chromedriver exited ({status})");
                    break;
                }
                if let Ok(r) = http.get(format!("{}/status", driver.url)).send().await
                    && let Ok(v) = r.json::<Value>().await
                {
                    if v["value"]["ready"] == true {
                        return driver;
                    }
                    last = format!("chromedriver is not ready: {v}");
                }
                tokio::time::sleep(TICK).await;
            }
            last = format!("{last}; its log:\n{}", driver.log_text());
            // Dropping kills it.
            drop(driver);
        }
        panic!("cannot start chromedriver: {last}");
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A WebDriver session with headless Chromium.
    pub(crate) async fn connect(&self, tools: &Tools) -> Client {
        let profile = self.dir.path().join("profile");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": tools.chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-dev-shm-usage",
                    "--window-size=1200,1000",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
        {
            Ok(c) => c,
            Err(e) => panic!(
                "cannot open a Chromium session ({}): {e}; chromedriver's log:\n{}",
                tools.chromium.display(),
                self.log_text()
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// The reference server in this process, demo data in a temporary folder.
pub(crate) struct Server {
    pub(crate) base: String,
    pub(crate) data: PathBuf,
    pub(crate) state: Arc<camr_server::AppState>,
    pub(crate) _dir: tempfile::TempDir,
}

impl Server {
    /// The demo server; `prepare(data)` runs before the server makes its demo data (e.g. to
    /// put another CA there).
    pub(crate) async fn start(prepare: impl FnOnce(&Path)) -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        prepare(&data);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = camr_server::ServerConfig::demo(data.clone(), addr);
        let state = camr_server::build_state(&config).await.unwrap();
        tokio::spawn(camr_server::serve(
            listener,
            state.clone(),
            std::future::pending(),
        ));
        Server {
            base: format!("http://{addr}"),
            data,
            state,
            _dir: dir,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The phone
// ---------------------------------------------------------------------------------------------

/// The simulator's terminal, kept for failure messages.
#[derive(Default)]
pub(crate) struct Lines(pub(crate) Vec<String>);

impl Ui for Lines {
    fn say(&mut self, line: &str) {
        self.0.push(line.to_string());
    }
    fn ask(&mut self, _prompt: &str) -> Option<String> {
        None
    }
}

/// What the app did with a QR.
pub(crate) struct Answer {
    pub(crate) result: Result<Outcome, SimError>,
    pub(crate) lines: Vec<String>,
}

impl Answer {
    pub(crate) fn show(&self) -> String {
        format!(
            "{:?}\napp said:\n  {}",
            self.result,
            self.lines.join("\n  ")
        )
    }

    /// A refusal that reading the live QR again cures: the rotating code or the QR went
    /// stale between the screenshot and the answer (a loaded machine).
    pub(crate) fn stale(&self) -> bool {
        matches!(&self.result, Err(e) if matches!(e.code, ErrorCode::QrStepStale | ErrorCode::QrExpired))
    }
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

pub(crate) fn screenshot_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap();
    let dir = root.join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The browser on one server.
#[derive(Clone)]
pub(crate) struct Page {
    pub(crate) client: Client,
    pub(crate) server: Arc<Server>,
}

/// A polling deadline whose failure names what was awaited and what the page shows.
pub(crate) struct Deadline {
    pub(crate) end: Instant,
}

impl Deadline {
    pub(crate) fn new() -> Self {
        Self {
            end: Instant::now() + WAIT,
        }
    }

    /// Sleeps one tick, or fails the test once the time is up.
    pub(crate) async fn tick(&self, page: &Page, what: &str) {
        if Instant::now() >= self.end {
            panic!(
                "{what}: not seen within {WAIT:?}; the page ({}) says in #status: {:?}",
                page.client
                    .current_url()
                    .await
                    .map_or_else(|e| e.to_string(), |u| u.to_string()),
                page.status().await
            );
        }
        tokio::time::sleep(TICK).await;
    }
}

impl Page {
    pub(crate) async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.server.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// Runs a script, returning its value.
    pub(crate) async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The text content of the first element matching `css` (also when hidden, e.g. in a
    /// closed `<details>`), `None` when there is none.
    pub(crate) async fn text(&self, css: &str) -> Option<String> {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            vec![json!(css)],
        )
        .await
        .as_str()
        .map(|s| s.trim().to_string())
    }

    /// The status line (`#status`).
    pub(crate) async fn status(&self) -> String {
        self.text("#status")
            .await
            .unwrap_or_else(|| "<no #status element>".into())
    }

    /// Waits until the status line satisfies `want`; fails at once if it ever contains any of
    /// `never`.
    pub(crate) async fn wait_status(
        &self,
        what: &str,
        want: impl Fn(&str) -> bool,
        never: &[&str],
    ) -> String {
        let deadline = Deadline::new();
        loop {
            let s = self.status().await;
            if let Some(bad) = never.iter().find(|n| s.contains(*n)) {
                panic!("{what}: the status shows {bad:?}, which it never may: {s:?}");
            }
            if want(&s) {
                return s;
            }
            deadline.tick(self, what).await;
        }
    }

    /// Waits until an element `css` is shown with an `attr` attribute (e.g. a link's href),
    /// and returns the attribute.
    pub(crate) async fn wait_attr(&self, css: &str, attr: &str) -> String {
        let deadline = Deadline::new();
        let what = format!("{css}[{attr}]");
        loop {
            let v = self
                .js(
                    "const e = document.querySelector(arguments[0]); \
                     return e && !e.hidden && e.getClientRects().length > 0 \
                       ? e.getAttribute(arguments[1]) : null;",
                    vec![json!(css), json!(attr)],
                )
                .await;
            if let Some(v) = v.as_str().filter(|v| !v.is_empty()) {
                return v.to_string();
            }
            deadline.tick(self, &what).await;
        }
    }

    /// Saves a screenshot of the whole page as `target/screenshots/<name>.png`.
    pub(crate) async fn save_screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("cannot take a screenshot: {e}"));
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Reads the QR for `operation` from the screen: waits until `#qr` shows a rendered code,
    /// screenshots that element, decodes the image and checks it against the payload text the
    /// page shows (`#payload`, when there is one) — the same transaction, operation, request
    /// URI and key, while signature and rotating code may have moved on since (the code is
    /// re-signed and rotates).
    pub(crate) async fn read_qr(
        &self,
        operation: Operation,
        not_tid: Option<&str>,
    ) -> (String, QrPayload) {
        let deadline = Deadline::new();
        let what = format!("a readable {operation:?} QR code in #qr");
        let mut last = String::from("no #qr with an <img> or <svg> yet");
        loop {
            let shown = self
                .js(
                    "const q = document.querySelector('#qr'); if (!q) return false; \
                     const img = q.tagName === 'IMG' ? q : q.querySelector('img'); \
                     if (img) return img.complete && img.naturalWidth > 0; \
                     return q.tagName.toLowerCase() === 'svg' || q.querySelector('svg') !== null;",
                    vec![],
                )
                .await;
            if shown == true {
                match self.decode_qr_element().await {
                    Ok((text, qr)) if qr.operation != operation => {
                        last = format!("the QR is for {:?}: {text}", qr.operation);
                    }
                    Ok((text, qr)) if Some(qr.tid.as_str()) == not_tid => {
                        last = format!("the QR still shows the earlier transaction: {text}");
                    }
                    Ok((text, qr)) => match self.text("#payload").await {
                        None => return (text, qr),
                        Some(p) => match camr::qr::parse(&p) {
                            Ok(shown)
                                if shown.tid == qr.tid
                                    && shown.operation == qr.operation
                                    && shown.request_uri == qr.request_uri
                                    && shown.key_id == qr.key_id =>
                            {
                                return (text, qr);
                            }
                            Ok(_) => {
                                last = format!(
                                    "#payload and the QR on screen disagree:\n  #payload: {p}\n  QR:       {text}"
                                );
                            }
                            Err(e) => last = format!("#payload is not a QR payload ({e}): {p:?}"),
                        },
                    },
                    Err(e) => last = e,
                }
            }
            deadline.tick(self, &format!("{what} (last: {last})")).await;
        }
    }

    /// Screenshots `#qr` and decodes it.
    pub(crate) async fn decode_qr_element(&self) -> Result<(String, QrPayload), String> {
        let el = self
            .client
            .find(Locator::Css("#qr"))
            .await
            .map_err(|e| format!("no #qr: {e}"))?;
        let png = el
            .screenshot()
            .await
            .map_err(|e| format!("cannot screenshot #qr: {e}"))?;
        let text = camr::qr::decode_image(&png)
            .map_err(|e| format!("the screenshot of #qr does not decode: {e}"))?;
        let qr = camr::qr::parse(&text)
            .map_err(|e| format!("the QR on screen is not camr1 ({e}): {text}"))?;
        Ok((text, qr))
    }

    /// Answers `qr_text` with the app simulator and the demo wallet, checking the QR against
    /// the demo trust list as a real app does; `reject` rejects with that reason.
    pub(crate) async fn answer(&self, qr_text: &str, reject: Option<&str>) -> Answer {
        self.answer_with(self.app_options(qr_text, reject)).await
    }

    /// The app simulator's options of [`Page::answer`].
    pub(crate) fn app_options(&self, qr_text: &str, reject: Option<&str>) -> ScanOptions {
        let data = self.server.data.clone();
        ScanOptions {
            qr: QrSource::Payload(qr_text.to_string()),
            wallet: data.join("wallet"),
            pin: Some(camr_server::demo::DEMO_PIN.into()),
            reject: reject.map(str::to_string),
            yes: true,
            platform_key: PlatformKeySource::Registry {
                list: data.join("registry.json"),
                authority: data.join("registry-authority.pub.pem"),
            },
            cert: None,
            delegation: None,
            wallets: Vec::new(),
            refuse_items: Vec::new(),
        }
    }

    /// Answers with the app simulator as `options` say.
    pub(crate) async fn answer_with(&self, options: ScanOptions) -> Answer {
        tokio::task::spawn_blocking(move || {
            let mut ui = Lines::default();
            let result = camr_app_sim::scan(&options, &mut ui);
            Answer {
                result,
                lines: ui.0,
            }
        })
        .await
        .unwrap()
    }

    /// Reads the live QR for `operation` from the screen and answers it; reads it again when
    /// the app found the code stale (slow machine).
    pub(crate) async fn scan_and_answer(
        &self,
        operation: Operation,
        not_tid: Option<&str>,
        reject: Option<&str>,
    ) -> (QrPayload, Outcome) {
        let mut tries = 0;
        loop {
            tries += 1;
            let (text, qr) = self.read_qr(operation, not_tid).await;
            let answer = self.answer(&text, reject).await;
            if answer.stale() && tries < 3 {
                continue;
            }
            match answer.result {
                Ok(outcome) => return (qr, outcome),
                Err(_) => panic!(
                    "the app could not answer the {operation:?} QR {text}: {}\n#status: {:?}",
                    answer.show(),
                    self.status().await
                ),
            }
        }
    }

    /// Marks the document, to tell later that it was not reloaded.
    pub(crate) async fn mark(&self) {
        self.js("window.__camrNoReload = 'still here'; return null;", vec![])
            .await;
    }

    pub(crate) async fn assert_not_reloaded(&self) {
        let v = self
            .js("return window.__camrNoReload || null;", vec![])
            .await;
        assert_eq!(v, "still here", "the page was reloaded or navigated away");
    }
}

/// Runs `body` against a fresh server and browser. The browser session is closed and
/// chromedriver killed whatever happens; a failing test leaves
/// `target/screenshots/<name>-failed.png`.
pub(crate) async fn with_browser<F, Fut>(name: &str, body: F)
where
    F: FnOnce(Page) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_browser_on(name, |_| {}, body).await;
}

/// [`with_browser`] on a server whose data folder `prepare` has seen first.
pub(crate) async fn with_browser_on<F, Fut>(name: &str, prepare: impl FnOnce(&Path), body: F)
where
    F: FnOnce(Page) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(tools) = tools() else {
        return;
    };
    let started = Instant::now();
    let server = Arc::new(Server::start(prepare).await);
    let driver = Driver::start(&tools).await;
    let client = driver.connect(&tools).await;
    let page = Page {
        client: client.clone(),
        server,
    };
    let outcome = tokio::spawn(body(page.clone())).await;
    if outcome.is_err()
        && let Ok(Ok(png)) =
            tokio::time::timeout(Duration::from_secs(10), client.screenshot()).await
    {
        let path = screenshot_dir().join(format!("{name}-failed.png"));
        let _ = std::fs::write(&path, png);
        let _ = writeln!(
            std::io::stderr(),
            "{name}: screenshot at {}",
            path.display()
        );
    }
    drop(page);
    let _ = tokio::time::timeout(Duration::from_secs(20), client.close()).await;
    drop(driver);
    match outcome {
        Ok(()) => {
            let _ = writeln!(
                std::io::stderr(),
                "{name}: passed in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("{name}: {e}"),
    }
}

pub(crate) fn contains_rejection(s: &str) -> bool {
    s.contains("拒绝") || s.to_lowercase().contains("reject")
}

pub(crate) fn contains_cancel(s: &str) -> bool {
    s.contains("取消") || s.to_lowercase().contains("cancel")
}

pub(crate) fn random_file(dir: &Path) -> (PathBuf, Vec<u8>) {
    let mut bytes = vec![0u8; 200 * 1024 + 17];
    camr::crypto::default_provider()
        .fill_random(&mut bytes)
        .unwrap();
    let path = dir.join("投标文件-bid.bin");
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

/// Fetches a download link the page shows (relative to the server, or absolute).
pub(crate) async fn download(page: &Page, href: &str) -> Vec<u8> {
    let url = if href.starts_with("http://") || href.starts_with("https://") {
        href.to_string()
    } else if href.starts_with('/') {
        format!("{}{href}", page.server.base)
    } else {
        format!("{}/{href}", page.server.base)
    };
    // Fetched outside the browser, so as the operator (the browser holds the owner cookie).
    let r = reqwest::Client::new()
        .get(&url)
        .bearer_auth(page.server.state.ops.admin_token())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.bytes().await.unwrap().to_vec();
    assert_eq!(
        status,
        200,
        "GET {url}: {}",
        String::from_utf8_lossy(&body[..body.len().min(500)])
    );
    body
}

/// Chooses `file` in the file input `input` and clicks `button`.
pub(crate) async fn upload(page: &Page, input: &str, file: &Path, button: &str) {
    let el = page
        .client
        .find(Locator::Css(input))
        .await
        .unwrap_or_else(|e| panic!("no {input} on the page: {e}"));
    el.send_keys(&file.display().to_string())
        .await
        .unwrap_or_else(|e| panic!("cannot choose {} in {input}: {e}", file.display()));
    page.client
        .find(Locator::Css(button))
        .await
        .unwrap_or_else(|e| panic!("no {button} on the page: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {button}: {e}"));
}

impl Page {
    /// Waits until the text of `css` satisfies `want`.
    pub(crate) async fn wait_text(&self, css: &str, want: impl Fn(&str) -> bool) -> String {
        let deadline = Deadline::new();
        loop {
            if let Some(t) = self.text(css).await
                && want(&t)
            {
                return t;
            }
            deadline.tick(self, css).await;
        }
    }

    pub(crate) async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }
}
