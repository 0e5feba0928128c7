//! `GET /register?tid=…`: the registration page (主体注册) after a login of a certificate the
//! platform does not know (扫码绑定, 共享注册), prefilled with the certificate's identity
//! (read-only) and the data the holder shared; `GET /admin/accounts`: pending registrations
//! with approve/refuse buttons (平台后台审核, admin token). See [`crate::accounts`].

use axum::response::Response;

use super::layout;

pub async fn register_page() -> Response {
    let body = r##"<h1>主体注册 <small>Registration</small></h1>
<p>证书身份信息来自已验证的证书，共享的注册信息来自 App（经您同意）。<br><small>The identity comes from the verified certificate; the shared data from your app, with your consent.</small></p>
<table id="identity"></table>
<form id="form" novalidate><fieldset><legend>注册信息 · Registration data <span id="shared-note"></span></legend>
<p><label>手机号 Mobile <input id="mobile" name="mobile" inputmode="tel" autocomplete="tel" aria-describedby="mobile-error"></label>
<small id="mobile-error" class="bad" role="alert" hidden></small></p>
<p><label>电子邮箱 E-mail <input id="email" name="email" type="email" autocomplete="email" aria-describedby="email-error"></label>
<small id="email-error" class="bad" role="alert" hidden></small></p>
<p><label>联系地址 Address <input id="address" name="address" size="40"></label></p>
<p><label>联系人 Contact <input id="contact" name="contact"></label></p>
</fieldset><button type="submit" id="submit">提交 · Submit</button></form>
<p id="status" role="status" aria-live="polite"></p>"##;
    const SCRIPT: &str = r##"
const tid = new URLSearchParams(location.search).get("tid") || "";
// The server's rules (camr::protocol::is_mobile_number, is_email_address), checked here too
// so the person sees the mistake beside the field before sending.
function isMobile(v) {
  const plus = v.startsWith("+"), rest = plus ? v.slice(1) : v;
  if (!/^[0-9](?:[0-9 -]*[0-9])?$/.test(rest)) return false;
  const d = rest.replace(/[ -]/g, ""), mainland = (x) => /^1[3-9][0-9]{9}$/.test(x);
  if (d.startsWith("86") && mainland(d.slice(2))) return true;
  return plus ? d.length >= 6 && d.length <= 15 && !d.startsWith("86") : mainland(d);
}
function isEmail(v) {
  const at = v.indexOf("@");
  if (at < 1 || at !== v.lastIndexOf("@")) return false;
  const local = v.slice(0, at), labels = v.slice(at + 1).split(".");
  return local.length <= 64 && !/^\.|\.$|\.\.|[\s<>()\[\]\\,;:"]/.test(local) && labels.length >= 2 &&
    labels.every((l) => /^[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?$/u.test(l));
}
const checks = {
  mobile: [isMobile, "手机号格式不正确：请填写 11 位手机号（如 13800138000），境外号码以 + 开头 · Not a mobile number"],
  email: [isEmail, "电子邮箱格式不正确：请填写如 name@example.cn 的地址 · Not an e-mail address"],
};
function checkField(k) {
  const el = camr.$(k), v = el.value.trim(), [ok, msg] = checks[k];
  const bad = v !== "" && !ok(v);
  el.setAttribute("aria-invalid", bad ? "true" : "false");
  if (bad) camr.fail(k + "-error", new Error(msg)); else camr.clear(k + "-error");
  return !bad;
}
for (const k of Object.keys(checks)) camr.$(k).addEventListener("change", () => checkField(k));
const labels = { subjectType: "主体类型 Type", name: "姓名/名称 Name", organization: "单位 Organisation", uscc: "统一社会信用代码 USCC",
  identityType: "证件类型 Document", identityNumber: "证件号码 Number", identityCountry: "国家 Country", certSn: "证书序列号 Serial", caOrgType: "CA" };
async function load() {
  if (!tid) {
    // Reached without a login (a bookmark, a typed address): say what to do, not "no such endpoint".
    const s = camr.$("status");
    s.className = "bad"; s.setAttribute("role", "alert");
    s.textContent = "此页用于扫码登录后注册，缺少登录信息。请先";
    const a = document.createElement("a"); a.href = "/"; a.id = "login-link"; a.textContent = "扫码登录";
    s.append(a, "，未注册的证书会自动转到此页。This page follows a QR login: log in first.");
    camr.$("submit").disabled = true;
    return;
  }
  try {
    const f = await camr.api("GET", "/api/v1/registrations/" + encodeURIComponent(tid));
    const t = camr.$("identity");
    for (const [k, v] of Object.entries(f.identity)) { const tr = t.insertRow(); tr.insertCell().textContent = labels[k] || k; tr.insertCell().textContent = v; }
    const sh = f.shared || {};
    for (const k of ["mobile", "email", "address", "contact"]) if (sh[k]) camr.$(k).value = sh[k];
    camr.$("shared-note").textContent = f.shared ? "（已由 App 共享 · shared by the app）" : "（App 未共享 · not shared）";
    camr.status(f.approval === "staff" ? "提交后待平台后台审核 · Staff approve registrations" : "提交后自动审核通过 · Approved at once");
  } catch (e) { camr.fail("status", e); camr.$("submit").disabled = true; }
}
camr.$("form").onsubmit = async (ev) => {
  ev.preventDefault();
  const fine = Object.keys(checks).map(checkField).every(Boolean);
  if (!fine) { document.querySelector("[aria-invalid=true]").focus(); return; }
  const body = { tid };
  for (const k of ["mobile", "email", "address", "contact"]) body[k] = camr.$(k).value;
  try {
    const a = await camr.api("POST", "/api/v1/registrations", body);
    camr.status(a.status === "active" ? "注册成功，绑定成功 · Registered and bound: " + a.id : "已提交，待平台后台审核 · Submitted, waiting for approval: " + a.id, "ok");
    camr.$("submit").disabled = true;
  } catch (e) { camr.fail("status", e); }
};
load();
"##;
    layout("主体注册 · Registration", "/", "", body, SCRIPT)
}

pub async fn accounts_page() -> Response {
    let body = r##"<h1>注册审核 <small>Registrations</small></h1>
<p><label>管理令牌 Admin token <input type="password" id="token" size="40" autocomplete="off"></label>
<button id="load">待审核 · Pending</button></p>
<div class="scroll"><table id="accounts"></table></div>
<p id="status" role="status" aria-live="polite"></p>"##;
    const SCRIPT: &str = r##"
// The admin token, remembered for the browser session (shared with /admin and /report).
camr.$("token").value = sessionStorage.getItem("camr-admin-token") || "";
function auth() {
  const t = camr.$("token").value.trim();
  sessionStorage.setItem("camr-admin-token", t);
  return { authorization: "Bearer " + t };
}
async function load() {
  try {
    const list = await camr.api("GET", "/api/v1/admin/accounts?status=pending", undefined, auth());
    const t = camr.$("accounts"); t.innerHTML = "";
    const head = t.insertRow(); for (const c of ["账号 Account", "姓名 Name", "单位 Organisation", "证书 Serial", "共享 Shared", ""]) { const th = document.createElement("th"); th.textContent = c; head.appendChild(th); }
    for (const a of list) {
      const tr = t.insertRow();
      const reg = a.registration || {}, names = { mobile: "手机 Mobile", email: "邮箱 E-mail", address: "地址 Address", contact: "联系人 Contact" };
      const shared = Object.keys(names).filter((k) => reg[k]).map((k) => names[k] + "：" + reg[k]).join("；") || "—";
      for (const v of [a.id, a.name, a.organization || "", a.subject.certSn, shared]) tr.insertCell().textContent = v;
      const td = tr.insertCell();
      const ok = document.createElement("button"); ok.textContent = "通过 · Approve"; ok.onclick = () => decide(a.id, true);
      const no = document.createElement("button"); no.textContent = "拒绝 · Refuse"; no.onclick = () => decide(a.id, false);
      td.append(ok, " ", no);
    }
    camr.status(list.length ? "" : "没有待审核的注册 · Nothing pending");
  } catch (e) { camr.fail("status", e); }
}
async function decide(id, approve) {
  const reason = approve ? "" : prompt("拒绝理由 · Reason");
  if (!approve && !reason) return;
  try { await camr.api("POST", "/api/v1/admin/accounts/decide", { accountId: id, approve, reason }, auth()); load(); }
  catch (e) { camr.fail("status", e); }
}
camr.$("load").onclick = load;
if (camr.$("token").value) load();
"##;
    layout("注册审核 · Registrations", "/admin", "", body, SCRIPT)
}
