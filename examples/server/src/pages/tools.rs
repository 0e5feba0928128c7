//! The signing, bid-file and report pages. Each is static HTML plus a page
//! script calling the JSON API ([`crate::api`], [`crate::files`]); the QR panel and the
//! status follow a transaction through `camr.show` (shared script).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;

use super::{layout, qr_panel};
use crate::AppState;

pub async fn sign_page(State(s): State<Arc<AppState>>) -> Response {
    let body = format!(
        r##"<h1>签名 <small>Sign a message, a file or a PDF (签章)</small></h1>
<fieldset><legend>消息签名 · Message signature</legend>
<label for="message">要签名的消息 · The message to sign</label>
<textarea id="message" placeholder="例如：报价 100 万元 · e.g. a price quote"></textarea>
<p><button id="sign-message">扫码签名 · Sign with the app</button></p></fieldset>
<fieldset><legend>文件签名 · File signature (SM3 hash of the file)</legend>
<label for="sign-file">文件 · File</label> <input type="file" id="sign-file"> <button id="sign-file-start">扫码签名 · Sign with the app</button>
<progress id="progress" hidden></progress></fieldset>
<fieldset><legend>批量签署 · Sign several files as one batch (the phone may refuse single files: 拒签)</legend>
<label for="batch-files">文件（可多选）· Files</label> <input type="file" id="batch-files" multiple> <button id="batch-start">扫码批量签署 · Sign with the app</button>
<table id="batch-result" hidden><thead><tr><th>文件 · File</th><th>结果 · Outcome</th><th>理由 · Reason</th></tr></thead><tbody></tbody></table></fieldset>
{panel}
<div id="result-box" hidden><h2>签名结果 · Signature</h2>
<p id="signer"></p><pre id="result"></pre>
<p><button id="copy-record">复制记录 · Copy the record</button> <a id="save-record" href="#" download="signature-record.json">下载记录 · Download (.json)</a> <span id="copied" role="status"></span></p>
<p><button id="verify-now">验证此签名 · Verify it</button> <span id="verdict" role="status" aria-live="polite"></span></p>
<p><small>此记录可在 <a href="/verify">验签</a> 页再次验证 · Keep this record to verify it later on the <a href="/verify">verify page</a>.</small></p></div>
<fieldset><legend>PDF 签章 · Seal a PDF (the app signs; the seal is embedded here)</legend>
<p><label>PDF 文件 · PDF file <input type="file" id="pdf-file" accept="application/pdf"></label></p>
<p><label><input type="radio" name="pdf-place" value="page" checked> 指定位置 · Page</label>
<label>页 page <input id="pdf-page" type="number" value="1" min="1" style="width:4em"></label> <label>x <input id="pdf-x" type="number" value="400" style="width:5em"></label> <label>y <input id="pdf-y" type="number" value="100" style="width:5em"></label><br>
<label><input type="radio" name="pdf-place" value="every"> 多页签章 · Every page</label><br>
<label><input type="radio" name="pdf-place" value="straddle"> 骑缝章 · Straddle pages</label> <input id="pdf-straddle" value="1-2" style="width:5em" aria-label="骑缝页 · Straddled pages"><br>
<label><input type="radio" name="pdf-place" value="keyword"> 关键字签章 · Keyword</label> <input id="pdf-keyword" value="投标人（盖章）" aria-label="关键字 · Keyword"></p>
<p><label for="pdf-alg">证书算法 · Key</label> <select id="pdf-alg"><option value="sm2">SM2 (SM3)</option><option value="rsa">RSA / ECDSA P-256 (SHA-256)</option></select>
<label>宽度 · Width <input id="pdf-width" type="number" value="120" style="width:5em"></label>
<button id="pdf-seal-start">扫码签章 · Seal with the app</button></p>
<p><label>撤章 · Revoke: 印章域 field <input id="pdf-field" value="Seal1" style="width:8em"></label> <label>原因 · Reason <input id="pdf-reason" value="报价有误"></label>
<button id="pdf-revoke-start">扫码撤章 · Revoke with the app</button> <small>(选择已签章的 PDF · choose the sealed PDF above)</small></p>
<progress id="pdf-progress" hidden></progress>
<p><a id="pdf-download" hidden></a></p><pre id="pdf-report" hidden></pre></fieldset>"##,
        panel = qr_panel(&s, false, "", "", ""),
    );
    const SCRIPT: &str = r##"
let record = null;
function follow(tx, toRecord) {
  camr.$("result-box").hidden = true;
  camr.show(tx, { onFinal: async (st) => {
    if (st !== "verified" && st !== "rejected") return;
    try {
      const r = await camr.api("GET", tx.result);
      record = toRecord(r);
      camr.$("signer").textContent = "签名人 · Signer: " + r.subject.name + (r.subject.organization ? " / " + r.subject.organization : "");
      camr.$("result").textContent = JSON.stringify(record, null, 2);
      const save = camr.$("save-record");
      if (save.href.startsWith("blob:")) URL.revokeObjectURL(save.href);
      save.href = URL.createObjectURL(new Blob([JSON.stringify(record, null, 2)], { type: "application/json" }));
      camr.$("copied").textContent = "";
      camr.$("result-box").hidden = false;
      camr.status("签名成功 · Signed", "ok");
    } catch (e) { camr.fail("status", e); }
  }});
}
camr.$("sign-message").onclick = async () => {
  camr.near(camr.$("sign-message"));
  const message = camr.$("message").value;
  if (!message.trim()) { camr.$("qr-box").hidden = false; camr.fail("status", new Error("请先输入要签名的消息 · Type the message to sign first")); camr.$("message").focus(); return; }
  try {
    const tx = await camr.api("POST", "/api/v1/transactions", { operation: "messageSignature", message });
    follow(tx, (r) => ({ message: r.message, signature: r.signature, certificate: r.certificate, chain: [] }));
  } catch (e) { camr.$("qr-box").hidden = false; camr.fail("status", e); }
};
camr.$("sign-file-start").onclick = async () => {
  camr.near(camr.$("sign-file-start"));
  const f = camr.$("sign-file").files[0];
  if (!f) { camr.$("qr-box").hidden = false; camr.status("请选择文件 · Choose a file", "bad"); return; }
  try {
    const tx = await camr.upload("/api/v1/files/sign?name=" + encodeURIComponent(f.name), f, camr.$("progress"));
    follow(tx, (r) => {
      const it = r.signed[0];
      return { fileName: it.item.name, hashAlgorithm: it.item.hashAlgorithm, hash: it.item.hash, signature: it.signature, certificate: r.certificate, chain: [] };
    });
  } catch (e) { camr.$("qr-box").hidden = false; camr.fail("status", e); }
};
// 批量签署或拒签: one signature request for several files (SHA-256 of each, computed here);
// the result lists each file's outcome, refused ones with the user's reason.
camr.$("batch-start").onclick = async () => {
  camr.near(camr.$("batch-start"));
  const files = Array.from(camr.$("batch-files").files);
  if (!files.length) { camr.$("qr-box").hidden = false; camr.status("请选择文件 · Choose files", "bad"); return; }
  if (!window.crypto || !crypto.subtle) { camr.$("qr-box").hidden = false; camr.status("需要 https 或 localhost · Hashing in the browser needs https or localhost", "bad"); return; }
  try {
    const items = [];
    for (const [i, f] of files.entries()) {
      const d = new Uint8Array(await crypto.subtle.digest("SHA-256", await f.arrayBuffer()));
      let bin = ""; for (const b of d) bin += String.fromCharCode(b);
      items.push({ id: "f" + (i + 1), name: f.name, hash: btoa(bin), hashAlgorithm: "SHA256" });
    }
    const tx = await camr.api("POST", "/api/v1/transactions", { operation: "signature", items });
    camr.$("batch-result").hidden = true;
    camr.show(tx, { onFinal: async (st) => {
      if (st !== "verified") return;
      try {
        const r = await camr.api("GET", tx.result);
        const body = camr.$("batch-result").tBodies[0];
        body.textContent = "";
        for (const it of r.items) {
          const row = body.insertRow();
          row.insertCell().textContent = it.name;
          row.insertCell().textContent = it.outcome === "signed" ? "已签署 · signed" : "拒签 · rejected";
          row.insertCell().textContent = it.reason || "";
        }
        camr.$("batch-result").hidden = false;
        const n = r.items.filter((i) => i.outcome === "signed").length;
        camr.status("已签署 " + n + "/" + r.items.length + " · Signed " + n + " of " + r.items.length, "ok");
      } catch (e) { camr.fail("status", e); }
    }});
  } catch (e) { camr.$("qr-box").hidden = false; camr.fail("status", e); }
};
function pdfFollow(tx) {
  camr.$("pdf-download").hidden = true; camr.$("pdf-report").hidden = true;
  camr.show(tx, { onFinal: async (st) => {
    if (st !== "verified") return;
    const base = "/api/v1/pdf/" + encodeURIComponent(tx.tid);
    try {
      const report = await camr.api("GET", base + "/report");
      camr.download("pdf-download", base + "/sealed", "", "下载 · Download the PDF (" + report.seals.length + " seal(s))");
      const lines = report.seals.map((s) => s.fieldName + ": " + (s.revoked ? "已撤章 REVOKED" : s.valid ? "有效 VALID" : "无效 INVALID") +
        (s.signer ? " — " + s.signer.name + (s.signer.organization ? " / " + s.signer.organization : "") : "") +
        " — pages " + s.widgets.map((w) => w.page).join(","));
      camr.$("pdf-report").textContent = lines.join("\n");
      camr.$("pdf-report").hidden = false;
      camr.status("签章成功 · Sealed", "ok");
    } catch (e) { camr.fail("status", e); }
  }});
}
function pdfShown() { camr.$("qr-box").scrollIntoView({ block: "center" }); }
function pdfFile() {
  const f = camr.$("pdf-file").files[0];
  if (!f) { camr.$("qr-box").hidden = false; camr.status("请选择 PDF · Choose a PDF", "bad"); }
  return f;
}
camr.$("pdf-seal-start").onclick = async () => {
  camr.near(camr.$("pdf-seal-start"));
  const f = pdfFile(); if (!f) return;
  const q = new URLSearchParams({ name: f.name, alg: camr.$("pdf-alg").value, width: camr.$("pdf-width").value });
  const place = document.querySelector("input[name=pdf-place]:checked").value;
  if (place === "page") { q.set("page", camr.$("pdf-page").value); q.set("x", camr.$("pdf-x").value); q.set("y", camr.$("pdf-y").value); }
  if (place === "every") { q.set("everyPage", "true"); q.set("x", camr.$("pdf-x").value); q.set("y", camr.$("pdf-y").value); }
  if (place === "straddle") q.set("straddle", camr.$("pdf-straddle").value);
  if (place === "keyword") q.set("keyword", camr.$("pdf-keyword").value);
  try { pdfFollow(await camr.upload("/api/v1/pdf/seal?" + q, f, camr.$("pdf-progress"))); pdfShown(); }
  catch (e) { camr.$("qr-box").hidden = false; camr.fail("status", e); }
};
camr.$("pdf-revoke-start").onclick = async () => {
  camr.near(camr.$("pdf-revoke-start"));
  const f = pdfFile(); if (!f) return;
  const q = new URLSearchParams({ name: f.name, field: camr.$("pdf-field").value, reason: camr.$("pdf-reason").value });
  try { pdfFollow(await camr.upload("/api/v1/pdf/revoke?" + q, f, camr.$("pdf-progress"))); pdfShown(); }
  catch (e) { camr.$("qr-box").hidden = false; camr.fail("status", e); }
};
// The record, to keep: copied (the clipboard needs https or localhost; else it is selected
// for the person to copy) or downloaded as a file.
camr.$("copy-record").onclick = async () => {
  const out = camr.$("copied");
  try { await navigator.clipboard.writeText(camr.$("result").textContent); out.textContent = "已复制 · Copied"; out.className = "ok"; }
  catch (e) {
    const r = document.createRange(); r.selectNodeContents(camr.$("result"));
    const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r);
    out.textContent = "已选中，请按 Ctrl+C 复制 · Selected: press Ctrl+C"; out.className = "";
  }
};
camr.$("verify-now").onclick = async () => {
  const v = camr.$("verdict");
  try {
    const body = { signature: record.signature, certificate: record.certificate, chain: record.chain };
    if (record.message !== undefined) body.message = record.message; else body.hash = record.hash;
    const d = await camr.api("POST", "/api/v1/verify", body);
    if (d.verifySignatureResult) { v.textContent = "✔ 验签成功 · Valid (" + d.subject.name + ")"; v.className = "ok"; }
    else camr.fail(v, camr.reason(d.reason, "✘ 验签失败 · Invalid: "));
  } catch (e) { camr.fail(v, e); }
};
"##;
    layout("签名 · Sign", "/sign", "", &body, SCRIPT)
}

pub async fn bidfile_page(State(s): State<Arc<AppState>>) -> Response {
    let body = format!(
        r##"<h1>投标文件 <small>Bid file: seal, then open at bid opening</small></h1>
<fieldset><legend>1. 加密投标文件 · Seal a bid file</legend>
<p><small>扫码获取您的加密证书，文件在服务器上用它封装成数字信封 · Scan to hand over your encryption certificate; the file is sealed to it.</small></p>
<label for="bid-file">投标文件 · Bid file</label> <input type="file" id="bid-file"> <button id="seal-start">上传并扫码加密 · Upload and scan</button>
<p><a id="download-envelope" hidden></a> <a id="to-hall" class="next" href="/hall" hidden>下一步：到开标大厅递交 → · Next: submit it in the bid-opening hall</a></p></fieldset>
<fieldset><legend>2. 开标解密 · Bid opening: open an envelope</legend>
<p><small>扫码用您的加密私钥解开数字信封的密钥 · Scan to unwrap the envelope's key with your phone.</small></p>
<label for="envelope-file">数字信封 · Envelope</label> <input type="file" id="envelope-file"> <button id="open-start">上传并扫码解密 · Upload and scan</button>
<p><a id="download-plain" hidden></a></p></fieldset>
{panel}<progress id="progress" hidden></progress>"##,
        panel = qr_panel(&s, false, "", "", ""),
    );
    const SCRIPT: &str = r##"
async function run(input, url, linkId, label, working, done) {
  const f = camr.$(input).files[0];
  camr.near(camr.$(input));
  camr.$("qr-box").hidden = false;
  if (!f) { camr.status("请选择文件 · Choose a file", "bad"); return; }
  camr.$(linkId).hidden = true; camr.$("to-hall").hidden = true;
  camr.status("上传中 · Uploading…");
  try {
    const tx = await camr.upload(url + "?name=" + encodeURIComponent(f.name), f, camr.$("progress"));
    camr.$("progress").hidden = true;
    camr.show(tx, { onFinal: async (st) => {
      if (st !== "verified") return;
      // Sealing or opening runs on the server; show its progress, then the download.
      const base = "/api/v1/bidfiles/" + tx.tid;
      const bar = camr.$("progress");
      try {
        await camr.api("POST", base + "/work", {});
        for (;;) {
          const p = await camr.api("GET", base + "/progress");
          bar.hidden = false; bar.max = p.total || 1; bar.value = p.done;
          camr.status(working + " " + (p.total ? Math.min(100, Math.floor(100 * p.done / p.total)) : 0) + "%");
          if (p.finished) { if (p.error) throw new Error(camr.tidy(p.error)); break; }
          await new Promise((r) => setTimeout(r, 300));
        }
        bar.hidden = true;
        camr.status(done, "ok");
        camr.download(linkId, base + (tx.operation === "encrypt" ? "/envelope" : "/plain"), "", label);
        if (tx.operation === "encrypt") camr.$("to-hall").hidden = false;
      } catch (e) { camr.fail("status", e); }
    }});
  } catch (e) { camr.fail("status", e); }
}
camr.$("seal-start").onclick = () => run("bid-file", "/api/v1/bidfiles", "download-envelope",
  "下载数字信封 · Download the envelope", "加密中 · Sealing…", "已加密 · Sealed");
camr.$("open-start").onclick = () => run("envelope-file", "/api/v1/bidfiles/open", "download-plain",
  "下载解密文件 · Download the opened file (once)", "解密中 · Opening…", "已解密 · Opened");
"##;
    layout("投标文件 · Bid file", "/bidfile", "", &body, SCRIPT)
}

pub async fn report_page() -> Response {
    let body = r##"<h1>扫码报告 <small>Scan report</small></h1>
<p><label>从 From <input type="date" id="from"></label> <label>到 To <input type="date" id="to"></label>
<label>按 By <select id="by"><option value="day">日期 day</option><option value="system">交易系统 system</option>
<option value="cert">证书 certificate</option><option value="scene">场景 scene</option></select></label>
<label>管理令牌 Admin token <input type="password" id="token" size="24" autocomplete="off"></label>
<button id="load">查询 · Show</button> <a id="csv" href="/api/v1/reports/usage.csv">CSV</a></p>
<p id="status" role="status" aria-live="polite"></p>
<p><small>报告含各交易的证书持有人，仅限平台管理员查看 · The report names certificate holders: operators only (admin token).</small></p>
<p id="summary"></p>
<div id="chart" class="scroll"></div><div class="scroll"><table id="rows"></table></div>"##;
    const SCRIPT: &str = r##"
function query() {
  const q = new URLSearchParams();
  for (const k of ["from", "to", "by"]) { const v = camr.$(k).value; if (v) q.set(k, v); }
  return q.toString();
}
function auth() {
  const t = camr.$("token").value.trim();
  if (t) sessionStorage.setItem("camr-admin-token", t);
  return { authorization: "Bearer " + t };
}
camr.$("token").value = sessionStorage.getItem("camr-admin-token") || "";
camr.$("csv").onclick = async (ev) => {
  ev.preventDefault();
  try {
    const r = await fetch("/api/v1/reports/usage.csv?" + query(), { headers: auth() });
    if (!r.ok) { let j = null; try { j = await r.json(); } catch (x) {} throw camr.refusal(j, r.status); }
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob()); a.download = "camr-usage.csv"; a.click();
  } catch (e) { camr.fail("status", e); }
};
// A query's result replaces the last one; a failed query leaves none behind (an old chart
// next to an error reads as the answer to the new query).
function clearResult() { camr.$("chart").innerHTML = ""; camr.$("rows").innerHTML = ""; camr.$("summary").textContent = ""; }
let asked = 0;
async function load() {
  const mine = ++asked;
  clearResult();
  if (!camr.$("token").value.trim()) { camr.status("请输入管理令牌 · Enter the admin token", "bad"); return; }
  camr.status("查询中 · Loading…");
  try {
    const d = await camr.api("GET", "/api/v1/reports/usage?" + query(), undefined, auth());
    if (mine !== asked) return; // a later query answers for the page
    const rows = Array.isArray(d) ? d : (d.rows || []);
    const max = Math.max(1, ...rows.map((r) => r.count));
    const w = 640, bar = 22;
    let svg = '<svg xmlns="http://www.w3.org/2000/svg" width="' + w + '" height="' + (rows.length * (bar + 6) + 6) + '">';
    rows.forEach((r, i) => {
      const y = 6 + i * (bar + 6), len = Math.round((w - 260) * r.count / max);
      const label = String(r.label || r.key).replace(/[<&"]/g, (c) => ({ "<": "&lt;", "&": "&amp;", '"': "&quot;" }[c]));
      svg += '<text x="0" y="' + (y + 16) + '" font-size="12">' + label.slice(0, 34) + '</text>';
      svg += '<rect x="220" y="' + y + '" width="' + len + '" height="' + bar + '" fill="#1d3557"></rect>';
      svg += '<text x="' + (226 + len) + '" y="' + (y + 16) + '" font-size="12">' + r.count + '</text>';
    });
    camr.$("chart").innerHTML = svg + "</svg>";
    const t = camr.$("rows"); t.innerHTML = "<tr><th>分组 Key</th><th>次数 Count</th></tr>";
    for (const r of rows) { const tr = t.insertRow(); tr.insertCell().textContent = r.label || r.key; tr.insertCell().textContent = r.count; }
    // The range and the total the rows add up to, above the chart.
    const total = d.total !== undefined ? d.total : rows.reduce((n, r) => n + r.count, 0);
    const range = (d.from || "…") + " 至 " + (d.to || "…");
    camr.$("summary").textContent = "统计范围 · Range: " + range + (d.timezone ? "（UTC" + d.timezone + "）" : "") +
      "；共 " + total + " 次扫码 · " + total + " scan(s) in total" + (rows.length ? "，" + rows.length + " 组 · " + rows.length + " group(s)" : "");
    camr.status(rows.length ? "" : "暂无记录 · No usage recorded yet");
  } catch (e) { if (mine === asked) { clearResult(); camr.fail("status", e); } }
}
camr.$("load").onclick = load;
if (camr.$("token").value) load(); else camr.status("请输入管理令牌后查询 · Enter the admin token, then Show");
"##;
    layout("扫码报告 · Scan report", "/report", "", body, SCRIPT)
}
