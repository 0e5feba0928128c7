//! `GET /`: the QR login page. A login transaction is started per page view; the QR is
//! refreshed each second and the logged-in name appears over SSE without a reload.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;

use super::{esc, layout, qr_panel};
use crate::AppState;
use crate::api::{ApiError, StartedOut, started_out};
use crate::owner::with_owner_cookie;

pub async fn login_page(State(s): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let started = s.platform.start_login_sharing(s.registration.share).await?;
    let vendor = vendor_code(&s, &started)?;
    let out: StartedOut = started_out(&s, camr::protocol::Operation::Login, started);
    let svg = camr::qr::render_svg(&out.qr_text)?;
    let body = format!(
        r#"<h1>扫码登录 <small>QR login</small></h1>
<p>请使用 CA 移动证书 App 扫描二维码<br><small>Scan with your CA vendor's certificate app</small></p>
<p id="qr-countdown" role="timer" aria-live="off"></p>
<p id="qr-done" class="ok" role="status" hidden></p>
{panel}{vendor}
<p id="again" hidden><button onclick="location.reload()">刷新二维码 · New QR</button></p>"#,
        panel = qr_panel(&s, true, &svg, &out.qr_text, &out.qr_png),
    );
    let tx = serde_json::to_string(&out).map_err(ApiError::internal)?;
    let script = format!(
        r#"const tx = {tx};
// The QR's validity, by the server's clock; an expired code renews itself (a new login per
// page view). After the scan the code gives way to what happens on the phone.
const skew = {now} - Math.floor(Date.now() / 1000);
let scanned = false;
function countdown() {{
  if (scanned) return;
  const left = tx.expiresAt - (Math.floor(Date.now() / 1000) + skew), c = camr.$("qr-countdown");
  if (left > 0) {{
    c.textContent = "二维码 " + Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") + " 后失效 · Valid for " + left + " s";
  }} else {{ c.textContent = "二维码已过期，正在更新 · Expired, renewing…"; clearInterval(ticker); location.reload(); }}
}}
const ticker = setInterval(countdown, 1000); countdown();
function collapse(text) {{
  scanned = true; clearInterval(ticker);
  camr.$("qr").hidden = true; camr.$("qr-countdown").hidden = true;
  const d = camr.$("qr-done"); d.textContent = text; d.hidden = false;
}}
camr.show(tx, {{ onState: (st) => {{
  if (st === "scanned") collapse("✔ 已扫码，请在手机上确认 · Scanned: confirm on your phone");
  if (st === "approved" || st === "verified") collapse("✔ 已授权 · Authorised");
  if (["rejected", "failed", "expired", "cancelled"].includes(st)) camr.$("qr-done").hidden = true;
}}, onFinal: async (st) => {{
  if (st === "verified" || st === "rejected") {{
    try {{
      const r = await camr.api("GET", tx.result);
      const s = r.subject;
      camr.status("已登录 · Logged in: " + s.name + (s.organization ? " / " + s.organization : ""), "ok");
      document.title = s.name + " · " + document.title;
      const b = r.binding || {{}};
      if (b.registrationUri) {{
        const a = document.createElement("a"); a.id = "register"; a.className = "next"; a.href = b.registrationUri;
        a.textContent = "未绑定账号，去注册 → · No account yet: register";
        camr.$("status").after(a);
      }} else if (st === "verified") {{
        // The next step: where the person came from (?next=/path on this site), else the hall.
        const want = new URLSearchParams(location.search).get("next") || "";
        const a = document.createElement("a"); a.id = "continue"; a.className = "next";
        a.href = /^\/(?![\/\\])/.test(want) ? want : "/hall";
        a.textContent = "继续 → · Continue";
        camr.$("status").after(a);
      }}
    }} catch (e) {{ camr.fail("status", e); }}
  }}
  if (st !== "verified") camr.$("again").hidden = false;
}} }});"#,
        tx = tx.replace("</", "<\\/"),
        now = camr::qr::unix_now(),
    );
    let page = layout(
        &format!("扫码登录 · QR login — {}", esc(&s.info.system_name)),
        "/",
        "narrow",
        &body,
        &script,
    );
    Ok(with_owner_cookie(&s, page, &out))
}

/// With platform-only vendors configured (`entitlement.platform_only`, 本平台证书), the
/// vendor app code (厂商码, profile `vendor1`) of the same transaction, shown beside the
/// national one ("业务系统支持两种二维码类型"); empty otherwise. With rotation on, it carries
/// the live part of the moment the page was made (the page refreshes the national code
/// only).
fn vendor_code(s: &AppState, started: &camr::ceremony::Started) -> Result<String, ApiError> {
    if s.platform.entitlement().platform_only_vendors.is_empty() {
        return Ok(String::new());
    }
    let profile = camr::qr::Vendor1;
    let text = s
        .platform
        .live_code_of(&started.transaction, Some(&profile))?;
    let svg = camr::qr::render_svg(&text)?;
    Ok(format!(
        r#"
<div class="qrpanel" id="vendor-qr-box">
<p>本平台证书请扫 · Platform-only certificates: <b>{caption}</b></p>
<div id="vendor-qr">{svg}</div>
<p>全国版证书扫上方全国 CA 互认二维码 · National certificates: the national interop QR above</p>
<details><summary>二维码内容 · payload</summary><p><code id="vendor-payload">{text}</code></p></details>
</div>"#,
        caption = esc(camr::qr::QrProfile::caption(&profile)),
        text = esc(&text),
    ))
}
