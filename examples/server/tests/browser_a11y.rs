//! Issue 23, item 11, in a real browser (the harness and where its tools come from:
//! `browser.rs`): every page of the reference server, at a phone's width (390 px) and a
//! desktop's (1280 px),
//! - passes axe-core's automated accessibility rules with no `serious` or `critical`
//!   violation (axe-core 4.14.1, vendored in `tests/fixtures/axe-core/`, injected over
//!   WebDriver);
//! - does not scroll sideways, and its menu takes at most two rows;
//! - is screenshotted to `target/browser-artifacts/<page>-<width>.png` for a person to look at;
//! - and the same after a click that shows an error or a QR panel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_harness;

use std::path::PathBuf;

use browser_harness::*;
use serde_json::{Value, json};

/// The vendored axe-core and its digest (`tests/fixtures/axe-core/README.md`).
const AXE: &str = include_str!("fixtures/axe-core/axe.min.js");
const AXE_SHA256: &str = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c";

/// The pages: a name for the artifacts, the path.
const PAGES: &[(&str, &str)] = &[
    ("login", "/"),
    ("sign", "/sign"),
    ("seal", "/seal"),
    ("bidfile", "/bidfile"),
    ("hall", "/hall"),
    ("verify", "/verify"),
    ("report", "/report"),
    ("admin", "/admin"),
    ("register", "/register"),
    ("accounts", "/admin/accounts"),
    ("not-found", "/no-such-page"),
];

const WIDTHS: &[u32] = &[390, 1280];

/// States after a click, checked too: an error beside the button, a QR panel shown.
const STATES: &[(&str, &str, &str)] = &[
    ("verify-error", "/verify", "#verify"),
    ("seal-error", "/seal", "#start"),
    ("bidfile-error", "/bidfile", "#seal-start"),
    ("sign-error", "/sign", "#sign-message"),
    ("hall-error", "/hall", "#submit-bid"),
];

fn artifact_dir() -> PathBuf {
    let dir = screenshot_dir().parent().unwrap().join("browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_vendored_axe_core_is_the_published_file() {
    let digest = camr::crypto::default_provider()
        .digest(camr::crypto::HashAlgorithm::Sha256, AXE.as_bytes());
    assert_eq!(
        data_encoding::HEXLOWER.encode(&digest),
        AXE_SHA256,
        "tests/fixtures/axe-core/axe.min.js is not axe-core 4.14.1 as published"
    );
    assert!(AXE.starts_with("/*! axe v4.14.1"));
}

impl Page {
    /// Sets the viewport to `width` × `height` CSS pixels (the window less its frame, which
    /// headless Chromium may or may not count).
    async fn viewport(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
        let inner = self
            .js("return [window.innerWidth, window.outerWidth];", vec![])
            .await;
        let (iw, ow) = (inner[0].as_u64().unwrap(), inner[1].as_u64().unwrap());
        if iw != u64::from(width) {
            let frame = u32::try_from(ow.saturating_sub(iw)).unwrap();
            self.client
                .set_window_size(width + frame, height)
                .await
                .unwrap();
        }
        let iw = self.js("return window.innerWidth;", vec![]).await;
        assert_eq!(iw, json!(width), "cannot set the viewport to {width} px");
    }

    /// Runs axe-core on the page; the serious and critical violations, one line each.
    async fn axe(&self) -> Vec<String> {
        let loaded = self
            .js(
                "if (!window.axe) { (0, eval)(arguments[0]); } return typeof window.axe;",
                vec![json!(AXE)],
            )
            .await;
        assert_eq!(loaded, "object", "axe-core did not load");
        let out = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then((r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.map((n) => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\\s+/g, ' ')) }))))
                   .catch((e) => done({ error: String(e) }));",
                vec![],
            )
            .await
            .unwrap();
        assert!(out.get("error").is_none(), "axe-core failed: {out}");
        out.as_array()
            .unwrap()
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| {
                let nodes: Vec<&str> = v["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                format!(
                    "{} ({}): {}\n      {}",
                    v["id"].as_str().unwrap_or("?"),
                    v["impact"].as_str().unwrap_or("?"),
                    v["help"].as_str().unwrap_or(""),
                    nodes.join("\n      ")
                )
            })
            .collect()
    }

    /// Where the page is wider than the viewport (sideways scrolling), and how many rows the
    /// menu takes.
    async fn layout_problems(&self, width: u32) -> Vec<String> {
        let v = self
            .js(
                "const d = document.documentElement;
                 const wide = [...document.querySelectorAll('body *')]
                   .filter((e) => e.getBoundingClientRect().right > d.clientWidth + 1 && !e.closest('.scroll'))
                   .slice(0, 5).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + Math.round(e.getBoundingClientRect().right));
                 const tops = new Set([...document.querySelectorAll('nav a')].map((a) => Math.round(a.getBoundingClientRect().top)));
                 return { scroll: d.scrollWidth, client: d.clientWidth, wide, rows: tops.size };",
                vec![],
            )
            .await;
        let mut problems = Vec::new();
        if v["scroll"].as_u64() > v["client"].as_u64() {
            problems.push(format!(
                "scrolls sideways at {width} px: {} px wide; wider elements: {}",
                v["scroll"], v["wide"]
            ));
        }
        if v["rows"].as_u64().unwrap_or(0) > 2 {
            problems.push(format!("the menu takes {} rows at {width} px", v["rows"]));
        }
        problems
    }

    /// A screenshot of the whole page at the current width: the window made as tall as the
    /// page (at most 4,000 px).
    async fn full_screenshot(&self, name: &str, width: u32) {
        let (outer_w, _) = self.client.get_window_size().await.unwrap();
        let outer_w = u32::try_from(outer_w).unwrap();
        for _ in 0..3 {
            let v = self
                .js(
                    "return [document.documentElement.scrollHeight, window.innerHeight, window.outerHeight];",
                    vec![],
                )
                .await;
            let [page, inner, outer] =
                [0, 1, 2].map(|i| u32::try_from(v[i].as_u64().unwrap_or(900)).unwrap());
            let want = page.min(4000);
            if inner >= want {
                break;
            }
            self.client
                .set_window_size(outer_w, want + outer.saturating_sub(inner))
                .await
                .unwrap();
        }
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(artifact_dir().join(format!("{name}-{width}.png")), png).unwrap();
    }
}

/// A sealed bid in the hall, so the hall's table has a row to check.
async fn submit_bid(page: &Page) {
    let wallet = camr::app::Wallet::open(&page.server.data.join("wallet"), b"123456").unwrap();
    let mut sealed = Vec::new();
    camr::envelope::seal_stream(
        camr::crypto::default_provider().as_ref(),
        std::slice::from_ref(&wallet.enc_cert),
        b"bid".as_slice(),
        &mut sealed,
        &mut |_| {},
    )
    .unwrap();
    let r = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/hall/bids?name=%E6%A0%87%E4%B9%A6.pdf",
            page.server.base
        ))
        .header("content-type", "application/octet-stream")
        .body(sealed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{:?}", r.text().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_and_fits_a_phone_and_a_desktop() {
    with_browser("a11y", |page| async move {
        page.server
            .state
            .hall
            .set_opens_at(camr::qr::unix_now() + 3600)
            .await
            .unwrap();
        submit_bid(&page).await;
        // The checks catch what they look for: an input without a label (axe's `label`,
        // critical) and an element wider than the phone.
        page.viewport(390, 900).await;
        page.goto("/verify").await;
        page.js(
            "document.querySelector('main').insertAdjacentHTML('beforeend', \
             '<input id=\"probe-input\"><div id=\"probe-wide\" style=\"width:900px\">x</div>'); return null;",
            vec![],
        )
        .await;
        let found = page.axe().await;
        assert!(
            found.iter().any(|v| v.starts_with("label ") && v.contains("#probe-input")),
            "axe-core did not report an input without a label: {found:?}"
        );
        let found = page.layout_problems(390).await;
        assert!(
            found.iter().any(|p| p.contains("sideways") && p.contains("probe-wide")),
            "a page wider than the phone went unnoticed: {found:?}"
        );

        let mut problems = Vec::new();
        for &width in WIDTHS {
            page.viewport(width, 900).await;
            for &(name, path) in PAGES {
                page.goto(path).await;
                // The page's script has run (the shared script defines `camr`) and its first
                // fetches are answered.
                page.wait_text("main", |t| !t.is_empty()).await;
                tokio::time::sleep(std::time::Duration::from_millis(700)).await;
                for v in page.axe().await {
                    problems.push(format!("{path} at {width} px: {v}"));
                }
                for p in page.layout_problems(width).await {
                    problems.push(format!("{path}: {p}"));
                }
                page.full_screenshot(name, width).await;
                page.viewport(width, 900).await;
            }
        }
        for &width in WIDTHS {
            page.viewport(width, 900).await;
            for &(name, path, button) in STATES {
                page.goto(path).await;
                page.wait_text("main", |t| !t.is_empty()).await;
                page.click(button).await;
                tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
                for v in page.axe().await {
                    problems.push(format!("{path} after {button} at {width} px: {v}"));
                }
                for p in page.layout_problems(width).await {
                    problems.push(format!("{path} after {button}: {p}"));
                }
                page.full_screenshot(name, width).await;
                page.viewport(width, 900).await;
            }
        }
        assert!(
            problems.is_empty(),
            "{} problem(s) (screenshots in {}):\n  {}",
            problems.len(),
            artifact_dir().display(),
            problems.join("\n  ")
        );
    })
    .await;
}

/// Issue 23, item 10: an address that does not exist is an HTML page for a browser, the JSON
/// envelope for an API client; the shared script carries a sentence for every error code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_gets_an_html_404_page_and_the_script_every_error_sentence() {
    let server = Server::start(|_| {}).await;
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/no-such-page", server.base))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 404);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("页面不存在") && html.contains("href=\"/\""),
        "{html}"
    );
    for accept in ["application/json", "*/*"] {
        let api = http
            .get(format!("{}/no-such-page", server.base))
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(api.status().as_u16(), 404);
        let v: Value = api.json().await.unwrap();
        assert_eq!(v["errorCode"], "INPUT_MALFORMED", "{v}");
    }
    // Under /api/ a browser gets JSON too.
    let v: Value = http
        .get(format!("{}/api/v1/nothing", server.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["success"], false, "{v}");

    let script = http
        .get(format!("{}/static/camr.js", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let table = script
        .lines()
        .find_map(|l| l.strip_prefix("const CAMR_MESSAGES = "))
        .and_then(|l| l.strip_suffix(';'))
        .expect("the script starts with the table of error sentences");
    let table: Value = serde_json::from_str(table).unwrap();
    for code in camr::protocol::ErrorCode::ALL {
        let pair = &table[code.as_str()];
        assert_eq!(pair[0], code.message_zh(), "{code}");
        assert_eq!(pair[1], code.message_en(), "{code}");
    }
}
