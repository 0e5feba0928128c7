//! The reference server's pages in a real browser: headless Chromium driven through
//! chromedriver (WebDriver, `fantoccini`), with the app simulator (`camr_app_sim::scan`)
//! playing the phone. The QR is read from the screen — a screenshot of the `#qr` element,
//! decoded with `rqrr` — not from the HTML, and the page must show the outcome without a reload.
//!
//! chromedriver: `CAMR_CHROMEDRIVER` when set (CI sets it; then a missing or broken driver
//! fails the tests), else `/usr/bin/chromedriver` (Debian's `chromium-driver`), else the tests
//! are skipped with a loud message. Chromium: `CAMR_CHROMIUM`, else `/usr/bin/chromium`.
//!
//! Screenshots go to `target/screenshots/` (`login.png`, the login page with its QR; and
//! `<test>-failed.png` when a test fails).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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
const WAIT: Duration = Duration::from_secs(30);
/// How long chromedriver gets to come up.
const DRIVER_START: Duration = Duration::from_secs(30);
/// Poll interval.
const TICK: Duration = Duration::from_millis(200);
/// The demo wallet's holder (`camr_server::demo::demo_holder`).
const HOLDER: &str = "张三";

// ---------------------------------------------------------------------------------------------
// chromedriver and Chromium
// ---------------------------------------------------------------------------------------------

/// The chromedriver and Chromium binaries.
struct Tools {
    chromedriver: PathBuf,
    chromium: PathBuf,
}

fn runs(bin: &Path) -> bool {
    Command::new(bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The tools, or `None` after a loud message when there are none and none were asked for.
fn tools() -> Option<Tools> {
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
fn skip(why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: {why}. A real-browser test of the server's pages did NOT run. ***\n"
    );
}

/// A chromedriver child process in its own process group; the group (chromedriver and the
/// browsers it started) is killed on drop, also when the test failed.
struct Driver {
    child: Child,
    url: String,
    log: PathBuf,
    /// Chromium's profile and the driver's log.
    dir: tempfile::TempDir,
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
const WATCHDOG: &str = r#"watch=$1; shift
( while kill -0 "$watch" 2>/dev/null; do sleep 1; done; kill -KILL 0 ) </dev/null &
exec "$@""#;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it says it is ready.
    async fn start(tools: &Tools) -> Driver {
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

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A WebDriver session with headless Chromium.
    async fn connect(&self, tools: &Tools) -> Client {
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
struct Server {
    base: String,
    data: PathBuf,
    state: Arc<camr_server::AppState>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// The demo server; `prepare(data)` runs before the server makes its demo data (e.g. to
    /// put another CA there).
    async fn start(prepare: impl FnOnce(&Path)) -> Server {
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
struct Lines(Vec<String>);

impl Ui for Lines {
    fn say(&mut self, line: &str) {
        self.0.push(line.to_string());
    }
    fn ask(&mut self, _prompt: &str) -> Option<String> {
        None
    }
}

/// What the app did with a QR.
struct Answer {
    result: Result<Outcome, SimError>,
    lines: Vec<String>,
}

impl Answer {
    fn show(&self) -> String {
        format!(
            "{:?}\napp said:\n  {}",
            self.result,
            self.lines.join("\n  ")
        )
    }

    /// A refusal that reading the live QR again cures: the rotating code or the QR went
    /// stale between the screenshot and the answer (a loaded machine).
    fn stale(&self) -> bool {
        matches!(&self.result, Err(e) if matches!(e.code, ErrorCode::QrStepStale | ErrorCode::QrExpired))
    }
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

fn screenshot_dir() -> PathBuf {
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
struct Page {
    client: Client,
    server: Arc<Server>,
}

/// A polling deadline whose failure names what was awaited and what the page shows.
struct Deadline {
    end: Instant,
}

impl Deadline {
    fn new() -> Self {
        Self {
            end: Instant::now() + WAIT,
        }
    }

    /// Sleeps one tick, or fails the test once the time is up.
    async fn tick(&self, page: &Page, what: &str) {
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
    async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.server.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// Runs a script, returning its value.
    async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The text content of the first element matching `css` (also when hidden, e.g. in a
    /// closed `<details>`), `None` when there is none.
    async fn text(&self, css: &str) -> Option<String> {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            vec![json!(css)],
        )
        .await
        .as_str()
        .map(|s| s.trim().to_string())
    }

    /// The status line (`#status`).
    async fn status(&self) -> String {
        self.text("#status")
            .await
            .unwrap_or_else(|| "<no #status element>".into())
    }

    /// Waits until the status line satisfies `want`; fails at once if it ever contains any of
    /// `never`.
    async fn wait_status(&self, what: &str, want: impl Fn(&str) -> bool, never: &[&str]) -> String {
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
    async fn wait_attr(&self, css: &str, attr: &str) -> String {
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
    async fn save_screenshot(&self, name: &str) -> PathBuf {
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
    async fn read_qr(&self, operation: Operation, not_tid: Option<&str>) -> (String, QrPayload) {
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
    async fn decode_qr_element(&self) -> Result<(String, QrPayload), String> {
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
    async fn answer(&self, qr_text: &str, reject: Option<&str>) -> Answer {
        self.answer_with(self.app_options(qr_text, reject)).await
    }

    /// The app simulator's options of [`Page::answer`].
    fn app_options(&self, qr_text: &str, reject: Option<&str>) -> ScanOptions {
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
    async fn answer_with(&self, options: ScanOptions) -> Answer {
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
    async fn scan_and_answer(
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
    async fn mark(&self) {
        self.js("window.__camrNoReload = 'still here'; return null;", vec![])
            .await;
    }

    async fn assert_not_reloaded(&self) {
        let v = self
            .js("return window.__camrNoReload || null;", vec![])
            .await;
        assert_eq!(v, "still here", "the page was reloaded or navigated away");
    }
}

/// Runs `body` against a fresh server and browser. The browser session is closed and
/// chromedriver killed whatever happens; a failing test leaves
/// `target/screenshots/<name>-failed.png`.
async fn with_browser<F, Fut>(name: &str, body: F)
where
    F: FnOnce(Page) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_browser_on(name, |_| {}, body).await;
}

/// [`with_browser`] on a server whose data folder `prepare` has seen first.
async fn with_browser_on<F, Fut>(name: &str, prepare: impl FnOnce(&Path), body: F)
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

fn contains_rejection(s: &str) -> bool {
    s.contains("拒绝") || s.to_lowercase().contains("reject")
}

fn contains_cancel(s: &str) -> bool {
    s.contains("取消") || s.to_lowercase().contains("cancel")
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_page_shows_the_name_after_the_app_answers_the_qr_on_screen() {
    with_browser("login", |page| async move {
        page.goto("/").await;
        let (text, qr) = page.read_qr(Operation::Login, None).await;
        assert_eq!(qr.system_code().as_str(), "C1100005553", "{text}");
        assert!(
            qr.request_uri.starts_with(&page.server.base),
            "the QR sends the app elsewhere: {text}"
        );
        let shot = page.save_screenshot("login").await;
        assert!(std::fs::metadata(&shot).unwrap().len() > 1000);
        let waiting = page.status().await;
        assert!(!waiting.contains(HOLDER), "{waiting:?}");

        page.mark().await;
        let (answered, outcome) = page.scan_and_answer(Operation::Login, None, None).await;
        assert_eq!(answered.tid, qr.tid, "the page changed its transaction");
        assert_eq!(outcome.state, "verified", "{outcome:?}");
        let shown = page
            .wait_status("the logged-in name", |s| s.contains(HOLDER), &[])
            .await;
        assert!(!contains_rejection(&shown), "{shown:?}");
        page.assert_not_reloaded().await;
        page.save_screenshot("login-verified").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_page_shows_a_rejection_or_cancellation_and_never_the_name() {
    with_browser("login-refused", |page| async move {
        // The user rejects on the phone.
        page.goto("/").await;
        page.mark().await;
        let (_, outcome) = page
            .scan_and_answer(Operation::Login, None, Some("不是本人操作"))
            .await;
        assert_eq!(outcome.state, "rejected", "{outcome:?}");
        assert!(!outcome.approved);
        let shown = page
            .wait_status("the rejection", contains_rejection, &[HOLDER])
            .await;
        // It stays that way (the page's own polling has stopped or keeps saying so).
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            let s = page.status().await;
            assert!(!s.contains(HOLDER), "after {shown:?} the page shows {s:?}");
            assert!(
                contains_rejection(&s),
                "after {shown:?} the page shows {s:?}"
            );
            tokio::time::sleep(TICK).await;
        }
        page.assert_not_reloaded().await;

        // The platform cancels; an approval that comes late is refused and not shown.
        page.goto("/").await;
        page.mark().await;
        let (text, qr) = page.read_qr(Operation::Login, None).await;
        let r = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap()
            .post(format!(
                "{}/api/v1/transactions/{}/cancel",
                page.server.base, qr.tid
            ))
            // The operator cancels (this client did not start the transaction).
            .bearer_auth(page.server.state.ops.admin_token())
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{:?}", r.text().await);
        page.wait_status("the cancellation", contains_cancel, &[HOLDER])
            .await;
        let late = page.answer(&text, None).await;
        assert!(
            matches!(&late.result, Err(e) if e.code == ErrorCode::TxCancelled),
            "a late approval of a cancelled QR: {}",
            late.show()
        );
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            let s = page.status().await;
            assert!(
                !s.contains(HOLDER),
                "after the cancellation the page shows {s:?}"
            );
            tokio::time::sleep(TICK).await;
        }
        page.assert_not_reloaded().await;
    })
    .await;
}

/// ~200 KiB of random bytes in a file.
fn random_file(dir: &Path) -> (PathBuf, Vec<u8>) {
    let mut bytes = vec![0u8; 200 * 1024 + 17];
    camr::crypto::default_provider()
        .fill_random(&mut bytes)
        .unwrap();
    let path = dir.join("投标文件-bid.bin");
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

/// Fetches a download link the page shows (relative to the server, or absolute).
async fn download(page: &Page, href: &str) -> Vec<u8> {
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
async fn upload(page: &Page, input: &str, file: &Path, button: &str) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bid_file_page_seals_to_the_apps_certificate_and_opens_with_the_app() {
    with_browser("bidfile", |page| async move {
        let dir = tempfile::tempdir().unwrap();
        let (plain_path, plain) = random_file(dir.path());

        // Sealing: upload, the app hands over its encryption certificate, download.
        page.goto("/bidfile").await;
        page.mark().await;
        upload(&page, "#bid-file", &plain_path, "#seal-start").await;
        let (sealed_qr, outcome) = page.scan_and_answer(Operation::Encrypt, None, None).await;
        assert_eq!(outcome.state, "verified", "{outcome:?}");
        let href = page.wait_attr("a#download-envelope", "href").await;
        page.assert_not_reloaded().await;
        let envelope = download(&page, &href).await;
        assert_ne!(envelope, plain, "the envelope is the plaintext");
        assert!(
            !envelope.windows(64).any(|w| w == &plain[1000..1064]),
            "the envelope carries the plaintext"
        );
        assert!(envelope.len() >= plain.len(), "{} bytes", envelope.len());
        let envelope_path = dir.path().join("投标文件-bid.bin.env");
        std::fs::write(&envelope_path, &envelope).unwrap();

        // Opening: upload the envelope, the app unwraps the key, download the plaintext.
        page.goto("/bidfile").await;
        page.mark().await;
        upload(&page, "#envelope-file", &envelope_path, "#open-start").await;
        let (_, outcome) = page
            .scan_and_answer(Operation::Decrypt, Some(sealed_qr.tid.as_str()), None)
            .await;
        assert_eq!(outcome.state, "verified", "{outcome:?}");
        let href = page.wait_attr("a#download-plain", "href").await;
        page.assert_not_reloaded().await;
        let opened = download(&page, &href).await;
        assert_eq!(opened.len(), plain.len(), "the opened file's length");
        assert!(opened == plain, "the opened file differs from the original");
        page.save_screenshot("bidfile-opened").await;
    })
    .await;
}

impl Page {
    /// Waits until the text of `css` satisfies `want`.
    async fn wait_text(&self, css: &str, want: impl Fn(&str) -> bool) -> String {
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

    async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_page_shows_a_message_signature_that_verifies_and_a_changed_one_that_does_not() {
    with_browser("sign", |page| async move {
        page.goto("/sign").await;
        page.mark().await;
        let message = "报价 1,280,000.00 元";
        page.client
            .find(Locator::Css("#message"))
            .await
            .unwrap()
            .send_keys(message)
            .await
            .unwrap();
        page.click("#sign-message").await;
        let (_, outcome) = page
            .scan_and_answer(Operation::MessageSignature, None, None)
            .await;
        assert_eq!(outcome.state, "verified", "{outcome:?}");
        let signer = page.wait_text("#signer", |t| t.contains("张三")).await;
        assert!(signer.contains("某某建设有限公司"), "{signer}");
        let record: Value =
            serde_json::from_str(&page.wait_text("#result", |t| t.starts_with('{')).await).unwrap();
        assert_eq!(record["message"], message);
        page.click("#verify-now").await;
        let verdict = page.wait_text("#verdict", |t| !t.is_empty()).await;
        assert!(
            verdict.contains("验签成功") && verdict.contains("张三"),
            "{verdict}"
        );
        page.assert_not_reloaded().await;

        // The record with one character of the message changed, on the verify page.
        let mut changed = record.clone();
        changed["message"] = json!("报价 9,280,000.00 元");
        page.goto("/verify").await;
        page.js(
            "document.getElementById('record').value = arguments[0]; return null;",
            vec![json!(changed.to_string())],
        )
        .await;
        page.click("#verify").await;
        let s = page
            .wait_status(
                "the verdict on a changed message",
                |s| s.contains("验签"),
                &["验签成功"],
            )
            .await;
        assert!(
            s.contains("验签失败") && s.contains("SIGNATURE_INVALID"),
            "{s}"
        );
        // And the original record verifies there too.
        page.js(
            "document.getElementById('record').value = arguments[0]; return null;",
            vec![json!(record.to_string())],
        )
        .await;
        page.click("#verify").await;
        page.wait_status(
            "the verdict on the signed message",
            |s| s.contains("验签成功"),
            &[],
        )
        .await;
    })
    .await;
}

/// PDF 签章 on the signing page: choose a PDF and "every page", scan, the app signs; the page
/// offers the sealed PDF with each seal's verdict, and the downloaded file verifies (trusted,
/// a widget on each page) with `camr::seal::verify`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_page_seals_a_pdf_with_the_app_and_offers_the_sealed_file() {
    with_browser("sign-pdf", |page| async move {
        let dir = tempfile::tempdir().unwrap();
        let pdf = camr::seal::sample_pdf(2).unwrap();
        let path = dir.path().join("投标文件.pdf");
        std::fs::write(&path, &pdf).unwrap();
        page.goto("/sign").await;
        page.mark().await;
        page.click("input[name=pdf-place][value=every]").await;
        upload(&page, "#pdf-file", &path, "#pdf-seal-start").await;
        let (_, outcome) = page.scan_and_answer(Operation::Signature, None, None).await;
        assert_eq!(outcome.state, "verified", "{outcome:?}");
        let report = page.wait_text("#pdf-report", |t| t.contains("VALID")).await;
        assert!(
            report.contains("张三") && report.contains("pages 1,2"),
            "{report}"
        );
        let href = page.wait_attr("a#pdf-download", "href").await;
        page.assert_not_reloaded().await;
        let sealed = download(&page, &href).await;
        assert!(
            sealed.starts_with(&pdf),
            "an incremental update of the upload"
        );
        let provider = camr::crypto::default_provider();
        let root = camr::pki::Certificate::parse_one(
            &std::fs::read(page.server.data.join("ca/root-cert.pem")).unwrap(),
        )
        .unwrap();
        let mut trust = camr::pki::TrustStore::new();
        trust.add(root);
        let validator = camr::pki::ChainValidator::new(provider.clone(), trust);
        let r = camr::seal::verify(
            provider.as_ref(),
            &sealed,
            Some(&validator),
            camr::qr::unix_now(),
        )
        .unwrap();
        assert!(r.all_valid, "{}", r.human());
        let pages: Vec<u32> = r.seals[0].widgets.iter().map(|w| w.page).collect();
        assert_eq!(pages, vec![1, 2]);
        page.save_screenshot("sign-pdf").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hall_page_refuses_too_early_and_unsigned_then_signs_in_and_opens_the_bid() {
    with_browser("hall", |page| async move {
        // A bid sealed to the demo wallet's encryption certificate, as the bidder's tool made it.
        let dir = tempfile::tempdir().unwrap();
        let (_, plain) = random_file(dir.path());
        let wallet = camr::app::Wallet::open(&page.server.data.join("wallet"), b"123456").unwrap();
        let mut sealed = Vec::new();
        camr::envelope::seal_stream(
            camr::crypto::default_provider().as_ref(),
            std::slice::from_ref(&wallet.enc_cert),
            plain.as_slice(),
            &mut sealed,
            &mut |_| {},
        )
        .unwrap();
        let envelope = dir.path().join("标书.pdf.camrbid");
        std::fs::write(&envelope, &sealed).unwrap();
        let hall = &page.server.state.hall;
        hall.set_opens_at(camr::qr::unix_now() + 3600)
            .await
            .unwrap();

        page.goto("/hall").await;
        page.mark().await;
        page.wait_text("#countdown", |t| t.contains("距开标")).await;
        upload(&page, "#bid-envelope", &envelope, "#submit-bid").await;
        page.wait_text("#bids tbody", |t| t.contains("标书.pdf"))
            .await;

        // Too early: the refusal sentence, no QR.
        page.click("#bids tbody button.decrypt").await;
        page.wait_text("#bids tbody .refusal", |t| t.contains("开标时间未到"))
            .await;
        // The time is reached, nobody signed in.
        hall.set_opens_at(camr::qr::unix_now() - 1).await.unwrap();
        page.click("#bids tbody button.decrypt").await;
        page.wait_text("#bids tbody .refusal", |t| t.contains("投标人未签到"))
            .await;

        // 签到: the login QR on screen, the app answers, the name appears in the row.
        page.click("#bids tbody button.sign-in").await;
        let (login, outcome) = page.scan_and_answer(Operation::Login, None, None).await;
        assert_eq!(outcome.state, "verified", "{outcome:?}");
        page.wait_text("#bids tbody .signed-in", |t| t.contains(HOLDER))
            .await;
        // The page took the moved opening time from the server.
        page.wait_text("#countdown", |t| t.contains("开标时间已到"))
            .await;

        // 解密: the decrypt QR, the app unwraps the key, the opened bid downloads.
        page.click("#bids tbody button.decrypt").await;
        let (_, outcome) = page
            .scan_and_answer(Operation::Decrypt, Some(login.tid.as_str()), None)
            .await;
        assert_eq!(outcome.state, "verified", "{outcome:?}");
        let href = page.wait_attr("#bids tbody a.download", "href").await;
        page.assert_not_reloaded().await;
        let opened = download(&page, &href).await;
        assert!(
            opened == plain,
            "the opened bid differs from the one sealed"
        );
        page.save_screenshot("hall-opened").await;
    })
    .await;
}

/// 批量签署/拒签 on the signing page: three files as one batch; the phone refuses the second
/// with a reason; the page lists each file's outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_page_signs_a_batch_of_files_and_shows_the_one_refused() {
    with_browser("sign-batch", |page| async move {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<String> = (1..=3)
            .map(|i| {
                let p = dir.path().join(format!("报价单{i}.txt"));
                std::fs::write(&p, format!("报价 {i}00 万元")).unwrap();
                p.display().to_string()
            })
            .collect();
        page.goto("/sign").await;
        page.mark().await;
        page.client
            .find(Locator::Css("#batch-files"))
            .await
            .unwrap()
            .send_keys(&paths.join("\n"))
            .await
            .unwrap();
        page.click("#batch-start").await;
        let mut tries = 0;
        let outcome = loop {
            tries += 1;
            let (text, _) = page.read_qr(Operation::Signature, None).await;
            let answer = page
                .answer_with(ScanOptions {
                    refuse_items: vec![camr::protocol::ItemRejection {
                        item_id: "f2".into(),
                        reason: "金额有误".into(),
                    }],
                    ..page.app_options(&text, None)
                })
                .await;
            if answer.stale() && tries < 3 {
                continue;
            }
            match answer.result {
                Ok(o) => break o,
                Err(_) => panic!("the app could not answer: {}", answer.show()),
            }
        };
        assert_eq!(outcome.state, "verified", "{outcome:?}");
        let table = page
            .wait_text("#batch-result", |t| t.contains("拒签"))
            .await;
        let rows: Vec<&str> = table.lines().collect();
        assert!(
            rows.iter()
                .any(|r| r.contains("报价单1.txt") && r.contains("已签署"))
                && rows.iter().any(|r| r.contains("报价单2.txt")
                    && r.contains("拒签")
                    && r.contains("金额有误"))
                && rows
                    .iter()
                    .any(|r| r.contains("报价单3.txt") && r.contains("已签署")),
            "{table}"
        );
        page.wait_status("the batch outcome", |s| s.contains("2/3"), &[])
            .await;
        page.assert_not_reloaded().await;
    })
    .await;
}

/// 收回 on the admin page: with the admin token the signed delegation is withdrawn, and the
/// staff member's app is then refused by the platform (DELEGATION_OUT_OF_SCOPE).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_page_withdraws_a_delegation_and_the_platform_then_refuses_it() {
    with_browser("admin-withdraw", |page| async move {
        let provider = camr::crypto::default_provider();
        let data = page.server.data.clone();
        let org = camr::app::Wallet::open(&data.join("wallet"), b"123456").unwrap();
        let now = camr::qr::unix_now();
        let d = camr::app::Delegation {
            org_cert_sn: org.sign_cert.serial_hex(),
            staff_name: "王五".into(),
            staff_id: None,
            trading_systems: vec![camr::protocol::SystemCode::parse("C1100005553").unwrap()],
            operations: vec![Operation::Login],
            not_before: now - 60,
            not_after: now + 3600,
        };
        let signed = camr::app::delegation::issue(provider.as_ref(), &org, &d).unwrap();
        let id = camr::app::delegation::id(provider.as_ref(), &signed);
        let file = data.join("delegation.json");
        std::fs::write(&file, serde_json::to_string(&signed).unwrap()).unwrap();

        page.goto("/admin").await;
        page.js(
            "document.getElementById('delegation').value = arguments[0]; \
             document.getElementById('token').value = 'not-the-admin-token-0000'; return null;",
            vec![json!(serde_json::to_string(&signed).unwrap())],
        )
        .await;
        page.click("#withdraw").await;
        let t = page.wait_text("#withdraw-result", |t| !t.is_empty()).await;
        assert!(t.contains("wrong admin token"), "{t}");
        page.js(
            "document.getElementById('token').value = arguments[0]; \
             document.getElementById('withdraw-result').textContent = ''; return null;",
            vec![json!(page.server.state.ops.admin_token())],
        )
        .await;
        page.click("#withdraw").await;
        let t = page
            .wait_text("#withdraw-result", |t| t.contains("已收回"))
            .await;
        assert!(t.contains(&id), "{t}");

        // The staff member's app still holds the delegation; the platform refuses it.
        let v: Value = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap()
            .post(format!("{}/api/v1/transactions", page.server.base))
            .json(&json!({"operation": "login"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let qr = v["data"]["qrText"].as_str().unwrap();
        let answer = page
            .answer_with(ScanOptions {
                delegation: Some(file),
                ..page.app_options(qr, None)
            })
            .await;
        match answer.result {
            Err(e) => assert_eq!(e.code, ErrorCode::DelegationOutOfScope, "{e}"),
            Ok(o) => panic!("a withdrawn delegation was accepted: {o:?}"),
        }
    })
    .await;
}

/// The interactive seal session (签章会话) in the browser, with an RSA wallet: upload a PDF,
/// the phone authorises and waits, Chromium drags the seal from the palette onto the page
/// preview and confirms, the waiting phone signs, the page shows 签章成功, 完成签章, download.
/// The downloaded PDF has the seal where it was dropped — its widget rectangle, and the red
/// pixels of the page rendered by `pdftoppm` — and `pdfsig` (NSS) finds the signature valid
/// and, with the demo root in its database, trusted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seal_page_drags_the_seal_onto_the_page_and_the_waiting_phone_signs_it() {
    // The demo CA as an RSA CA: the demo wallet (张三) is then an RSA wallet, which pdfsig
    // can check (it knows no SM2).
    let prepare = |data: &Path| {
        camr::softca::SoftCa::init(
            camr::crypto::default_provider(),
            &data.join("ca"),
            camr::crypto::KeyAlgorithm::Rsa2048,
            "camr Demo CA (RSA)",
        )
        .unwrap();
    };
    with_browser_on("seal-session", prepare, |page| async move {
        page.client.set_window_size(1400, 2400).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pdf = camr::seal::sample_pdf(2).unwrap();
        let path = dir.path().join("合同.pdf");
        std::fs::write(&path, &pdf).unwrap();
        page.goto("/seal").await;
        page.mark().await;
        upload(&page, "#pdf", &path, "#start").await;
        let (text, _) = page.read_qr(Operation::Signature, None).await;
        // The phone authorises and then waits until the session is finished.
        let phone = {
            let page = page.clone();
            tokio::spawn(async move { page.answer(&text, None).await })
        };
        page.wait_attr("#seals img.seal", "data-code").await;
        page.wait_attr("#page-img", "src").await;
        // pdftoppm is there (CI installs it): a real preview, not the blank stand-in.
        let note = page.text("#preview-note").await.unwrap_or_default();
        assert!(note.is_empty(), "{note}");
        // Drop the seal so that its centre lands at (200, 300) on the 595 × 842 pt page.
        let (cx, cy) = (200.0_f64, 300.0_f64);
        let sheet = page.js(
            "const r = document.getElementById('sheet').getBoundingClientRect(); return [r.width, r.height];",
            vec![],
        )
        .await;
        let (sw, sh) = (sheet[0].as_f64().unwrap(), sheet[1].as_f64().unwrap());
        assert!((sw - 595.0).abs() < 1.0 && (sh - 842.0).abs() < 1.0, "preview {sw} × {sh}");
        let seal_el = page.client.find(Locator::Css("#seals img.seal")).await.unwrap();
        let sheet_el = page.client.find(Locator::Css("#sheet")).await.unwrap();
        use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
        let drag = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement { element: seal_el, duration: None, x: 0.0, y: 0.0 })
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
            .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(100)), x: 30.0, y: 30.0 })
            .then(PointerAction::MoveToElement {
                element: sheet_el,
                duration: Some(Duration::from_millis(200)),
                x: cx - sw / 2.0,
                y: cy - sh / 2.0,
            })
            .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
        page.client.perform_actions(drag).await.unwrap();
        page.wait_attr("#placed", "src").await;
        page.save_screenshot("seal-session-placed").await;
        page.click("#confirm").await;
        page.wait_text("#session-status", |t| t.contains("签章成功")).await;
        let applied = page.wait_text("#applied", |t| t.contains("公章")).await;
        assert!(applied.contains("p. 1"), "{applied}");
        page.click("#finish").await;
        let href = page.wait_attr("a#download", "href").await;
        page.assert_not_reloaded().await;
        page.save_screenshot("seal-session-finished").await;
        let answer = phone.await.unwrap();
        let outcome = answer.result.as_ref().unwrap_or_else(|e| panic!("{e}\n{}", answer.show()));
        assert_eq!(outcome.session_seals, 1, "{}", answer.show());
        assert!(answer.show().contains("签章成功"), "{}", answer.show());
        let sealed = download(&page, &href).await;
        assert!(sealed.starts_with(&pdf), "an incremental update of the upload");
        let sealed_path = dir.path().join("sealed.pdf");
        std::fs::write(&sealed_path, &sealed).unwrap();

        // Where it was dropped: the widget's rectangle (points from the lower left)…
        let provider = camr::crypto::default_provider();
        let root_pem = std::fs::read(page.server.data.join("ca/root-cert.pem")).unwrap();
        let root = camr::pki::Certificate::parse_one(&root_pem).unwrap();
        let mut trust = camr::pki::TrustStore::new();
        trust.add(root);
        let validator = camr::pki::ChainValidator::new(provider.clone(), trust);
        let r = camr::seal::verify(provider.as_ref(), &sealed, Some(&validator), camr::qr::unix_now())
            .unwrap();
        assert!(r.all_valid, "{}", r.human());
        let w = &r.seals[0].widgets[0];
        assert_eq!(w.page, 1);
        let [x, y, x1, y1] = w.rect;
        let (sw_pt, sh_pt) = (x1 - x, y1 - y);
        let want = (cx as f32 - sw_pt / 2.0, 842.0 - cy as f32 - sh_pt / 2.0);
        assert!(
            (x - want.0).abs() <= 2.0 && (y - want.1).abs() <= 2.0,
            "widget at ({x}, {y}), dropped for ({}, {})",
            want.0,
            want.1
        );
        // …and the red of the seal in the page as pdftoppm renders it (72 dpi: 1 px = 1 pt).
        let pdftoppm = std::env::var_os("CAMR_PDFTOPPM")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/bin/pdftoppm"));
        let out = Command::new(&pdftoppm)
            .args(["-f", "1", "-l", "1", "-r", "72", "-cropbox", "-png", "-singlefile"])
            .arg(&sealed_path)
            .arg(dir.path().join("page1"))
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", pdftoppm.display()));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let img = image::open(dir.path().join("page1.png")).unwrap().to_rgb8();
        let (mut x0, mut y0, mut xm, mut ym) = (u32::MAX, u32::MAX, 0, 0);
        for (px, py, p) in img.enumerate_pixels() {
            let [r, g, b] = p.0;
            if r > 150 && g < 110 && b < 110 {
                x0 = x0.min(px);
                y0 = y0.min(py);
                xm = xm.max(px);
                ym = ym.max(py);
            }
        }
        assert!(x0 != u32::MAX, "no red seal on the rendered page");
        let top = 842.0 - (want.1 + sh_pt);
        assert!(
            (x0 as f32 - want.0).abs() <= 6.0 && (y0 as f32 - top).abs() <= 6.0,
            "red from ({x0}, {y0}) to ({xm}, {ym}); the seal was dropped at ({}, {top})",
            want.0
        );
        assert!(
            (xm as f32 - (want.0 + sw_pt)).abs() <= 6.0 && (ym as f32 - (top + sh_pt)).abs() <= 6.0,
            "red from ({x0}, {y0}) to ({xm}, {ym}); seal {sw_pt} × {sh_pt}"
        );
        // pdfsig (poppler, NSS): the RSA signature is valid; trusted with the demo root.
        let pdfsig = std::env::var_os("CAMR_PDFSIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/bin/pdfsig"));
        let mut args: Vec<String> = Vec::new();
        let certutil = Path::new("/usr/bin/certutil");
        if certutil.exists() {
            let db = dir.path().join("nss");
            std::fs::create_dir_all(&db).unwrap();
            let db_arg = format!("sql:{}", db.display());
            for a in [
                vec!["-N", "-d", &db_arg, "--empty-password"],
                vec![
                    "-A", "-d", &db_arg, "-n", "camr-demo-root", "-t", "CT,C,C", "-i",
                    page.server.data.join("ca/root-cert.pem").to_str().unwrap(),
                ],
            ] {
                let o = Command::new(certutil).args(&a).output().unwrap();
                assert!(o.status.success(), "certutil {a:?}: {}", String::from_utf8_lossy(&o.stderr));
            }
            args = vec!["-nssdir".into(), db_arg];
        }
        let out = Command::new(&pdfsig)
            .args(&args)
            .arg(&sealed_path)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", pdfsig.display()));
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "pdfsig: {text}{}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains("Signature is Valid."), "{text}");
        if !args.is_empty() {
            assert!(text.contains("Certificate is Trusted."), "{text}");
        }
    })
    .await;
}
