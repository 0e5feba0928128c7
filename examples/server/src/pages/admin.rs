//! `GET /admin`: the operator's page — the CA adapters as a table people read (vendor,
//! status, breaker, calls, failures), reloading plugins, withdrawing a delegation. The admin
//! token is typed once and remembered for the browser session (`sessionStorage`, shared with
//! the report and registration pages), never in a cookie or on disk.

use axum::response::Response;

use super::layout;

pub async fn admin_page() -> Response {
    let body = r##"<h1>管理 <small>Administration</small></h1>
<p><label>管理令牌 Admin token <input type="password" id="token" size="40" autocomplete="off"></label>
<small>（本浏览器会话内记住 · remembered for this browser session）</small></p>
<h2>CA 适配器 · Adapters</h2>
<div class="scroll"><table id="adapters" class="cards"><thead><tr><th>厂商 · Vendor</th><th>状态 · Status</th><th>熔断器 · Breaker</th>
<th>调用 · Calls</th><th>失败 · Failures</th><th>版本 · Version</th></tr></thead><tbody></tbody></table></div>
<p><button id="reload">重新加载插件 · Reload plugins</button></p>
<p id="status" role="status" aria-live="polite"></p>
<h2>收回授权 · Withdraw a delegation (证书授权)</h2>
<p><small>粘贴签名的授权书（JSON）或其 id；此后以它作出的应答均被拒绝 · Paste the signed delegation (JSON) or its id; answers under it are refused from then on.</small></p>
<p><label for="delegation">授权书 · Delegation</label><br><textarea id="delegation" rows="4"></textarea></p>
<p><label>原因 · Reason <input id="withdraw-reason" value="员工离职"></label>
<button id="withdraw">收回 · Withdraw</button></p>
<p id="withdraw-result" role="status" aria-live="polite"></p>
<h2>注册审核 · Registrations</h2><p><a id="accounts-link" href="/admin/accounts">待审核的注册 · Pending registrations (扫码绑定/共享注册)</a></p>
<h2>接口 · Endpoints</h2>
<p><a href="/metrics">/metrics</a> · <a href="/readyz">/readyz</a> · <a href="/api/v1/platform">/api/v1/platform</a> · <a href="/api/openapi.json">/api/openapi.json</a></p>"##;
    const SCRIPT: &str = r##"
const token = camr.$("token");
token.value = sessionStorage.getItem("camr-admin-token") || "";
token.addEventListener("change", () => sessionStorage.setItem("camr-admin-token", token.value.trim()));
function auth() { sessionStorage.setItem("camr-admin-token", token.value.trim()); return { authorization: "Bearer " + token.value.trim() }; }
const BREAKER = { closed: ["闭合 · closed", "ok"], open: ["断开 · open", "bad"], halfOpen: ["试探 · half-open", ""] };
function health(a) {
  if (a.breaker === "open") return ["暂停调用 · Paused (too many failures)", "bad"];
  if (a.breaker === "halfOpen") return ["恢复中 · Recovering", ""];
  if (a.consecutiveFailures > 0) return ["最近失败 " + a.consecutiveFailures + " 次 · Failing", "bad"];
  return ["正常 · OK", "ok"];
}
const HEADS = [...document.querySelectorAll("#adapters thead th")].map((th) => th.textContent);
function cell(tr, text, cls) {
  const td = tr.insertCell(); td.textContent = text; if (cls) td.className = cls;
  td.dataset.label = HEADS[td.cellIndex] || ""; return td;
}
async function load() {
  try {
    const list = await camr.api("GET", "/api/v1/admin/adapters");
    const body = camr.$("adapters").tBodies[0];
    body.textContent = "";
    for (const a of list) {
      const tr = body.insertRow();
      cell(tr, a.vendorName + " (" + a.caOrgType + ")");
      const [h, hc] = health(a); cell(tr, h, hc);
      const [b, bc] = BREAKER[a.breaker] || [String(a.breaker), ""]; cell(tr, b, bc);
      cell(tr, String(a.calls) + (a.inFlight ? "（进行中 " + a.inFlight + " · " + a.inFlight + " running）" : ""));
      const other = [a.timeouts ? "超时 " + a.timeouts + " timed out" : "", a.panics ? "崩溃 " + a.panics + " panicked" : "",
        a.refused ? "拒绝 " + a.refused + " refused" : ""].filter(Boolean).join("，");
      cell(tr, String(a.failures) + (other ? "（" + other + "）" : ""), a.failures ? "bad" : "");
      cell(tr, a.adapterVersion);
    }
    if (!list.length) {
      const tr = body.insertRow(), td = tr.insertCell(); td.colSpan = 6;
      td.textContent = "未加载适配器（以 --plugins 启动）· No adapters loaded (start the server with --plugins)";
    }
  } catch (e) { camr.fail("status", e); }
}
camr.$("reload").onclick = async () => {
  try {
    await camr.api("POST", "/api/v1/admin/adapters/reload", {}, auth());
    camr.status("已重新加载 · Reloaded", "ok"); load();
  } catch (e) { camr.fail("status", e); }
};
camr.$("withdraw").onclick = async () => {
  const out = camr.$("withdraw-result");
  const text = camr.$("delegation").value.trim();
  let body;
  try { body = text.startsWith("{") ? { delegation: JSON.parse(text) } : { delegationId: text }; }
  catch (e) { camr.fail(out, new Error("授权书不是有效的 JSON · The delegation is not valid JSON")); return; }
  body.reason = camr.$("withdraw-reason").value;
  try {
    const r = await camr.api("POST", "/api/v1/admin/delegations/withdraw", body, auth());
    out.removeAttribute("role"); out.textContent = "已收回 · Withdrawn: " + r.delegationId; out.className = "ok";
  } catch (e) { camr.fail(out, e); }
};
load(); setInterval(load, 5000);
"##;
    layout("管理 · Admin", "/admin", "", body, SCRIPT)
}
