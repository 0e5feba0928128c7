//! The web pages: server-rendered HTML with Chinese and English labels and a little shared
//! JavaScript (`/static/camr.js`). Every page that shows a QR shows the system code and the
//! trading system name under it, as the apps do.
//!
//! | page | what |
//! |---|---|
//! | `/` | QR login (扫码登录): the QR refreshes each second; the logged-in name appears live (SSE) |
//! | `/sign` | sign a message or a file (签名) → QR → signature, verifiable on the spot |
//! | `/seal` | interactive seal session (签章会话): authorise on the phone, drag seals onto the page preview, the waiting phone signs each (连续签章, 多页签章), 完成签章 |
//! | `/bidfile` | bid file (投标文件): upload → scan → download the envelope; bid opening (开标): upload the envelope → scan → download the file |
//! | `/hall` | bid-opening hall (不见面开标大厅): countdown, sign-in (签到), decryption per bid, gated by both |
//! | `/verify` | verify a signature record (验签) or a sealed PDF (验章) |
//! | `/report` | scan report (扫码报告) with charts and CSV export |
//! | `/admin` | adapters, their health and breaker state; reload |
//! | `/register`, `/admin/accounts` | registration after a login of an unknown certificate (主体注册, 共享注册); pending registrations to approve (注册审核) |
//!
//! Any other address a browser asks for (it accepts `text/html`, outside `/api/` and
//! `/camr/`) gets an HTML 404 page ([`not_found_page`]); API clients get the JSON envelope.
//!
//! Errors: the shared script turns a failed answer into the code's sentence for people,
//! Chinese first, English beside it (one table, made from [`camr::protocol::ErrorCode`], served
//! before the script as `CAMR_MESSAGES`), and shows it where the user acted with the
//! particulars and the code in a small line under it.

mod admin;
mod hall;
mod login;
mod register;
mod seal;
mod tools;
mod verify;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

/// The page routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(login::login_page))
        .route("/sign", get(tools::sign_page))
        .route("/seal", get(seal::seal_page))
        .route("/bidfile", get(tools::bidfile_page))
        .route("/hall", get(hall::hall_page))
        .route("/verify", get(verify::verify_page))
        .route("/report", get(tools::report_page))
        .route("/admin", get(admin::admin_page))
        .route("/register", get(register::register_page))
        .route("/admin/accounts", get(register::accounts_page))
        .route("/static/camr.js", get(script))
}

const SCRIPT: &str = include_str!("../../static/camr.js");

/// The shared script, after the one table of error sentences: `CAMR_MESSAGES`, per
/// `errorCode` its Chinese and English sentence for people, made from
/// [`camr::protocol::ErrorCode`] (so a new code cannot miss its sentence on a page).
static SCRIPT_WITH_MESSAGES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "// Made by the server from camr::protocol::ErrorCode: per errorCode, [Chinese, English].\n\
         const CAMR_MESSAGES = {};\n{SCRIPT}",
        error_messages()
    )
});

/// `{"CODE": ["中文", "English"], ...}` for every [`camr::protocol::ErrorCode`].
pub fn error_messages() -> serde_json::Value {
    camr::protocol::ErrorCode::ALL
        .iter()
        .map(|c| {
            (
                c.as_str().to_string(),
                serde_json::json!([c.message_zh(), c.message_en()]),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

async fn script() -> Response {
    let mut r = SCRIPT_WITH_MESSAGES.as_str().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    r
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;background:#f4f6f8;margin:0;color:#222;line-height:1.5}
nav{background:#1d3557;padding:0 12px;display:flex;gap:2px;flex-wrap:wrap}
nav a{color:#fff;text-decoration:none;padding:10px 8px;font-size:14px;border-bottom:3px solid transparent}
nav a:hover,nav a:focus{text-decoration:underline}
nav a.on{border-bottom-color:#f4a3a8;font-weight:600}
main{max-width:860px;margin:24px auto;background:#fff;border-radius:8px;padding:24px;box-shadow:0 1px 4px #0002;box-sizing:border-box}
main.narrow{max-width:400px;text-align:center}
h1{font-size:22px;margin-top:0}h1 small{color:#555;font-weight:normal;font-size:15px}
h2{font-size:18px}
#qr img,#qr svg{width:240px;height:240px;max-width:100%}#qr.used img{opacity:.25}
.sys{color:#333;font-size:14px;line-height:1.6}
#status{margin-top:12px;font-weight:600;min-height:1.4em}.ok{color:#0a7d32}.bad{color:#b3261e}
.err-detail{display:block;font-weight:normal;color:#444}.err-detail small{font-size:12px}
details{margin-top:12px;font-size:12px;text-align:left;word-break:break-all}
.qrpanel{text-align:center;border:1px solid #e3e7eb;border-radius:6px;padding:16px;margin:16px 0}
fieldset{border:1px solid #e3e7eb;border-radius:6px;margin:12px 0;padding:12px 16px;min-width:0}
textarea{width:100%;min-height:80px;box-sizing:border-box}
input:not([type=radio]):not([type=checkbox]),select,textarea{max-width:100%;box-sizing:border-box}
pre{background:#f6f8fa;padding:12px;overflow:auto;font-size:12px;max-height:320px;white-space:pre-wrap;word-break:break-all}
code{word-break:break-all}
table{border-collapse:collapse;width:100%;font-size:14px}td,th{border-bottom:1px solid #eee;padding:6px;text-align:left;vertical-align:top}
.scroll{overflow-x:auto}
button{padding:6px 14px;cursor:pointer}progress{width:100%}
.next{display:inline-block;margin-top:8px;font-weight:600}
@media (max-width:600px){
 nav{padding:0 4px}nav a{padding:8px 5px;font-size:13px}nav a .en{display:none}
 main{margin:0;border-radius:0;padding:16px 12px;box-shadow:none}
 fieldset{padding:8px 10px}
 td,th{padding:4px;font-size:13px}
 table.cards thead{position:absolute;left:-9999px}
 table.cards tr{display:block;border-bottom:1px solid #ddd;padding:6px 0}
 table.cards td{display:block;border:0;padding:2px 4px}
 table.cards td[data-label]::before{content:attr(data-label) "：";font-weight:600;color:#444}
}
"#;

/// The menu: path, Chinese label, English label (hidden on a phone, so the menu takes at
/// most two rows at 390 px).
const NAV: &[(&str, &str, &str)] = &[
    ("/", "扫码登录", "Login"),
    ("/sign", "签名", "Sign"),
    ("/seal", "签章", "Seal"),
    ("/bidfile", "投标文件", "Bid file"),
    ("/hall", "开标大厅", "Bid opening"),
    ("/verify", "验签", "Verify"),
    ("/report", "扫码报告", "Report"),
    ("/admin", "管理", "Admin"),
];

/// A whole page: `title` (Chinese · English), the navigation with `active` marked, `body`
/// (HTML, already escaped where needed) and the page's own `script`.
pub fn layout(title: &str, active: &str, main_class: &str, body: &str, script: &str) -> Response {
    let nav: String = NAV
        .iter()
        .map(|(href, zh, en)| {
            let on = if *href == active {
                " class=\"on\" aria-current=\"page\""
            } else {
                ""
            };
            format!("<a href=\"{href}\"{on} lang=\"zh-CN\">{zh}<span class=\"en\" lang=\"en\"> {en}</span></a>")
        })
        .collect();
    let html = format!(
        "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style>\
         <script src=\"/static/camr.js\"></script></head><body><nav aria-label=\"主菜单 · Main menu\">{nav}</nav>\
         <main class=\"{main_class}\">{body}</main><script>{script}</script></body></html>"
    );
    let mut r = axum::response::Html(html).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The HTML 404 page (the JSON envelope's sentence, for a person who typed or followed an
/// address that does not exist), with links to the pages.
pub fn not_found_page(path: &str) -> Response {
    let body = format!(
        r#"<h1>页面不存在 <small>Page not found</small></h1>
<p>找不到地址 <b>{path}</b> 对应的页面，请检查地址或从菜单进入。<br>
<small>There is no page at this address; check it, or choose a page from the menu.</small></p>
<p><a class="next" href="/">返回首页（扫码登录）· Go to the start page (QR login)</a></p>"#,
        path = esc(&path.chars().take(200).collect::<String>()),
    );
    let mut r = layout("页面不存在 · Page not found", "", "", &body, "");
    *r.status_mut() = axum::http::StatusCode::NOT_FOUND;
    r
}

/// The QR panel: the QR, the system code and name under it, the status line, and the PNG
/// and payload for `camr-app` (hidden until a transaction is shown, unless `visible`).
pub fn qr_panel(
    state: &AppState,
    visible: bool,
    qr_html: &str,
    qr_text: &str,
    png: &str,
) -> String {
    let hidden = if visible { "" } else { " hidden" };
    format!(
        r#"<div class="qrpanel" id="qr-box"{hidden}>
<div id="qr" role="img" aria-label="二维码：请用 CA 移动证书 App 扫描 · QR code: scan it with your CA certificate app">{qr_html}</div>
<div class="sys">系统标识码 System code: <b id="system-code">{code}</b><br>交易系统名称 Trading system: <b id="system-name">{name}</b></div>
<p id="status" role="status" aria-live="polite">等待扫码 · Waiting for scan…</p>
<details><summary>二维码下载 / 内容 · QR download / payload</summary>
<p><a id="qr-png" href="{png}" download="qr.png">qr.png</a></p>
<p><code id="payload">{text}</code></p>
<p><code>camr-app scan --png qr.png --wallet data/wallet --pin 123456 --registry data/registry.json --registry-key data/registry-authority.pub.pem</code></p></details>
</div>"#,
        code = esc(&state.info.system_code),
        name = esc(&state.info.system_name),
        png = esc(png),
        text = esc(qr_text),
    )
}
