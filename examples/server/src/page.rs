//! The QR login page (`GET /`): server-rendered, one small template, a few lines of
//! JavaScript that poll the status each second and show who logged in.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::api::ApiError;

const TEMPLATE: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>扫码登录 · QR login — {{SYSTEM_NAME}}</title>
<style>
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;background:#f4f6f8;margin:0}
main{max-width:380px;margin:40px auto;background:#fff;border-radius:8px;padding:24px;text-align:center;box-shadow:0 1px 4px #0002}
.qr svg{width:240px;height:240px}.sys{color:#333;font-size:14px;line-height:1.6}
#status{margin-top:12px;font-weight:600}#status.ok{color:#0a7d32}#status.bad{color:#b3261e}
details{margin-top:12px;font-size:12px;text-align:left;word-break:break-all}
</style></head><body><main>
<h1>扫码登录 <small>QR login</small></h1>
<p>请使用 CA 移动证书 App 扫描二维码<br><small>Scan with your CA vendor's certificate app</small></p>
<div class="qr" id="qr">{{QR_SVG}}</div>
<div class="sys">系统标识码 System code: <b id="code">{{SYSTEM_CODE}}</b><br>交易系统名称 Trading system: <b>{{SYSTEM_NAME}}</b></div>
<p id="status">等待扫码 · Waiting for scan…</p>
<details><summary>二维码下载 / 内容 · QR download / payload</summary>
<p><a href="/api/v1/transactions/{{TID}}/qr.png" download="login.png">login.png</a></p>
<p><code id="payload">{{QR_TEXT}}</code></p>
<p><code>camr-app scan --png login.png --wallet data/wallet --trust-platform-url</code></p></details>
</main>
<script>
const tid = "{{TID}}";
const line = document.getElementById("status");
const labels = {created:"等待扫码 · Waiting for scan…", scanned:"已扫码，请在手机上确认 · Scanned, confirm on your phone…",
  approved:"正在验证 · Verifying…", expired:"二维码已过期，请刷新 · QR expired, reload the page",
  cancelled:"已取消 · Cancelled", failed:"验证失败 · Verification failed"};
function show(text, cls){ line.textContent = text; line.className = cls || ""; }
async function poll(){
  try {
    const j = await (await fetch("/api/v1/transactions/" + tid)).json();
    if (!j.success) { show(j.msg, "bad"); return; }
    const st = j.data.state;
    if (st === "verified" || st === "rejected") {
      const r = await (await fetch("/api/v1/transactions/" + tid + "/result")).json();
      if (r.success) {
        const s = r.data.subject;
        show("已登录 · Logged in: " + s.name + (s.organization ? " / " + s.organization : ""), "ok");
      } else { show("已拒绝 · Rejected: " + r.msg, "bad"); }
      return;
    }
    show(labels[st] || st, (st === "expired" || st === "cancelled" || st === "failed") ? "bad" : "");
    if (labels[st] && ["expired","cancelled","failed"].includes(st)) return;
  } catch (e) { show("连接中断，重试中 · Connection lost, retrying…", "bad"); }
  setTimeout(poll, 1000);
}
setTimeout(poll, 1000);
</script></body></html>
"#;

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
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

/// `GET /`: starts a login and shows its QR.
pub(crate) async fn login_page(State(s): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let started = s.platform.start_login().await?;
    let svg = camr::qr::render_svg(&started.qr_text)
        .map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    // Inline SVG: drop the XML declaration the renderer puts first.
    let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
    // The tid is [A-Z0-9a-f] only (checked by `Tid`), safe in the script string.
    let html = TEMPLATE
        .replace("{{SYSTEM_NAME}}", &esc(&s.info.system_name))
        .replace("{{SYSTEM_CODE}}", &esc(&s.info.system_code))
        .replace("{{TID}}", started.transaction.tid.as_str())
        .replace("{{QR_TEXT}}", &esc(&started.qr_text))
        .replace("{{QR_SVG}}", svg);
    let mut r = axum::response::Html(html).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
