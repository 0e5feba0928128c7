//! The interactive seal page (签章会话, NETCA's flow): choose a PDF (and the seal kinds the
//! document needs) → scan and authorise on the phone → the phone waits while the user picks one
//! of their seals (from their CA) and drags it onto the page preview → 确认签章: the phone signs,
//! the preview shows the seal (签章成功) → more seals on this or other pages (连续签章), one page,
//! selected pages (多页签章) or every page → 完成签章 → download. Data from
//! [`crate::sealsession`].

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;

use super::{layout, qr_panel};
use crate::AppState;

pub async fn seal_page(State(s): State<Arc<AppState>>) -> Response {
    let kinds: String = camr::protocol::SealKind::ALL
        .iter()
        .map(|k| {
            format!(
                r#"<label><input type="checkbox" name="required" value="{v}"> {zh}</label> "#,
                v = k.as_str(),
                zh = k.label_zh()
            )
        })
        .collect();
    let body = format!(
        r##"<h1>签章 <small>Interactive seal session</small></h1>
<fieldset id="setup"><legend>1. 文件 · Document</legend>
<label for="pdf">要签章的 PDF · The PDF to seal</label> <input type="file" id="pdf" accept="application/pdf,.pdf">
<p><small>本文件需要的印章 · Seals this document needs:</small><br>{kinds}</p>
<button id="start">开始签章 · Start</button> <progress id="progress" hidden></progress>
<p id="setup-error" hidden></p></fieldset>
{panel}
<div id="workspace" hidden>
<fieldset><legend>2. 印章 · Your seals <small id="holder"></small></legend>
<div id="seals" style="display:flex;gap:12px;flex-wrap:wrap"></div>
<p><small>拖动印章到页面上的指定位置 · Drag a seal onto the page, then confirm.</small></p></fieldset>
<fieldset><legend>3. 位置 · Where</legend>
<label><input type="radio" name="mode" value="page" checked> 单页签章 · this page</label>
<label><input type="radio" name="mode" value="pages"> 多页签章 · these pages:</label> <span id="page-choice"></span>
<label><input type="radio" name="mode" value="every"> 每页 · every page</label>
<p><button id="prev" aria-label="上一页 · Previous page">◀</button> 第 <b id="page-no">1</b> / <span id="page-count">1</span> 页 <button id="next" aria-label="下一页 · Next page">▶</button>
<button id="confirm" disabled>确认签章 · Confirm</button>
<button id="finish">完成签章 · Finish</button>
<a id="download" hidden></a></p>
<p id="dead-end" hidden></p>
<p id="session-status" role="status" aria-live="polite"></p>
<p>已盖印章 · Applied: <span id="applied">—</span><br>尚缺 · Missing: <span id="missing">—</span></p>
<div id="sheet-wrap" style="overflow:auto;border:1px solid #ccc;background:#888;padding:8px">
<div id="sheet" style="position:relative;display:inline-block;line-height:0;touch-action:none">
<img id="page-img" alt="文件页面预览 · Page preview" draggable="false" style="display:block;background:#fff"></div></div>
<p><small id="preview-note"></small></p>
</div>"##,
        panel = qr_panel(&s, false, "", "", ""),
    );
    const SCRIPT: &str = r##"
const $ = camr.$;
let tx = null, pages = [], page = 1, seals = [], applied = 0, poll = null, placed = null, finished = false;
function say(text, cls) { const e = $("session-status"); e.textContent = text; e.className = cls || ""; }
function sess(p) { return "/api/v1/seal-sessions/" + tx.tid + (p || ""); }
function size(n) { return pages.find((p) => p.number === n) || { width: 595, height: 842 }; }
function showPage(n) {
  page = Math.min(Math.max(1, n), pages.length);
  $("page-no").textContent = page;
  const img = $("page-img"), s = size(page);
  img.width = Math.round(s.width); img.height = Math.round(s.height);
  img.src = sess("/pages/" + page + "/preview.png?t=" + Date.now());
  fetch(img.src, { method: "HEAD" }).then((r) => {
    $("preview-note").textContent = r.headers.get("x-camr-preview") === "blank"
      ? "预览不可用（需要 pdftoppm）· No preview renderer on the server (poppler-utils): a blank sheet of the page's size." : "";
  }).catch(() => {});
  if (placed && placed.page !== page) clearPlaced();
}
function clearPlaced() { if (placed) { placed.el.remove(); placed = null; } $("confirm").disabled = true; }
// The seal is centred on the pointer where it is dropped; one preview pixel is one point.
function drop(seal, clientX, clientY) {
  const r = $("sheet").getBoundingClientRect(), s = size(page);
  const w = seal.widthPt, h = seal.heightPt;
  let left = clientX - r.left - w / 2, top = clientY - r.top - h / 2;
  left = Math.min(Math.max(left, -w / 2), s.width - w / 2);
  top = Math.min(Math.max(top, -h / 2), s.height - h / 2);
  clearPlaced();
  const el = document.createElement("img");
  el.src = "data:image/png;base64," + seal.image; el.id = "placed"; el.className = "placed"; el.draggable = false;
  el.style.cssText = "position:absolute;opacity:.8;outline:2px dashed #1d3557;cursor:move;touch-action:none";
  el.style.left = left + "px"; el.style.top = top + "px"; el.style.width = w + "px"; el.style.height = h + "px";
  $("sheet").appendChild(el);
  placed = { el, seal, page, left, top };
  el.addEventListener("pointerdown", (e) => drag(seal, e));
  $("confirm").disabled = false;
  say("已放置 · Placed " + seal.kindLabel + "：确认签章 to sign it on the phone");
}
// Drags a seal (from the palette or the placed one) with pointer events.
function drag(seal, e) {
  e.preventDefault();
  const ghost = document.createElement("img");
  ghost.src = "data:image/png;base64," + seal.image; ghost.draggable = false;
  ghost.style.cssText = "position:fixed;pointer-events:none;opacity:.6;z-index:9";
  ghost.style.width = seal.widthPt + "px"; ghost.style.height = seal.heightPt + "px";
  const move = (ev) => { ghost.style.left = (ev.clientX - seal.widthPt / 2) + "px"; ghost.style.top = (ev.clientY - seal.heightPt / 2) + "px"; };
  move(e); document.body.appendChild(ghost);
  const up = (ev) => {
    document.removeEventListener("pointermove", move); document.removeEventListener("pointerup", up);
    ghost.remove();
    const r = $("sheet").getBoundingClientRect();
    if (ev.clientX >= r.left && ev.clientX <= r.right && ev.clientY >= r.top && ev.clientY <= r.bottom) drop(seal, ev.clientX, ev.clientY);
  };
  document.addEventListener("pointermove", move); document.addEventListener("pointerup", up);
}
function kinds(list) { return list.length ? list.map((k) => ({official:"公章",legalRepresentative:"法人章",finance:"财务专用章",contract:"合同专用章",personalName:"人名章",handwritten:"手写签名"})[k] || k).join("、") : "—"; }
async function refresh() {
  let v;
  try { v = await camr.api("GET", sess()); } catch (e) { camr.fail("session-status", e); return; }
  $("applied").textContent = v.applied.length
    ? v.applied.map((a) => kinds([a.kind]) + " (" + a.fieldName + ", p. " + a.pages.join(",") + ")").join("；") : "—";
  $("missing").textContent = kinds(v.missing);
  // A kind the holder's CA does not offer: say so before 完成签章, not when it fails.
  if (v.warning) { camr.fail("dead-end", new Error(v.warning)); $("finish").disabled = true; $("finish").title = v.warning; }
  if (v.state === "expired") { say("✘ 签章会话已超时 · The session timed out", "bad"); stop(); return; }
  if (v.state === "rejected") { say("✘ 已拒绝 · Refused on the phone", "bad"); stop(); return; }
  if (v.state === "waiting") return;
  if ($("workspace").hidden) await open(v);
  if (v.applied.length > applied) {
    applied = v.applied.length; clearPlaced(); showPage(page);
    say("✔ 签章成功 · Sealed (" + applied + ")", "ok");
  } else if (v.state === "signing") {
    say("等待手机签名 · Waiting for the phone to sign…");
  } else if (v.lastError) {
    say("✘ " + camr.tidy(v.lastError), "bad");
  }
  if (v.state === "finished" && !finished) {
    finished = true; stop();
    camr.download("download", sess("/document"), tx.name.replace(/\.pdf$/i, "") + "-sealed.pdf", "下载已签章文件 · Download the sealed PDF");
    say("✔ 签章完成 · Finished: " + v.applied.length + " seal(s)", "ok");
  }
}
function stop() { if (poll) { clearInterval(poll); poll = null; } }
async function open(v) {
  $("workspace").hidden = false;
  $("holder").textContent = "— " + (v.holder || "") + (v.caOrgType ? " (" + v.caOrgType + ")" : "");
  seals = await camr.api("GET", sess("/seals"));
  const box = $("seals"); box.innerHTML = "";
  for (const s of seals) {
    const fig = document.createElement("figure");
    fig.style.cssText = "margin:0;text-align:center;font-size:12px";
    const img = document.createElement("img");
    img.src = "data:image/png;base64," + s.image; img.className = "seal"; img.draggable = false;
    img.dataset.code = s.code; img.dataset.kind = s.kind; img.title = s.name; img.alt = s.kindLabel + "：" + s.name;
    img.style.cssText = "width:96px;height:96px;object-fit:contain;cursor:grab;touch-action:none;border:1px solid #eee";
    img.addEventListener("pointerdown", (e) => drag(s, e));
    fig.appendChild(img);
    const cap = document.createElement("figcaption"); cap.textContent = s.kindLabel + (s.source === "platform" ? " (平台默认 · platform default)" : "");
    fig.appendChild(cap); box.appendChild(fig);
  }
  $("page-choice").innerHTML = pages.map((p) => '<label><input type="checkbox" name="pagesel" value="' + p.number + '"' + (p.number === 1 ? " checked" : "") + "> " + p.number + "</label>").join(" ");
  showPage(1);
}
$("prev").onclick = () => showPage(page - 1);
$("next").onclick = () => showPage(page + 1);
$("start").onclick = async () => {
  const f = $("pdf").files[0];
  camr.clear("setup-error");
  if (!f) { camr.fail("setup-error", new Error("请先选择要签章的 PDF 文件 · Choose the PDF to seal first")); $("pdf").focus(); return; }
  if (!/\.pdf$/i.test(f.name) && f.type !== "application/pdf") {
    camr.fail("setup-error", new Error("所选文件不是 PDF：" + f.name + "。请选择 PDF 文件 · Not a PDF: choose a PDF file"));
    $("pdf").focus(); return;
  }
  const req = [...document.querySelectorAll("input[name=required]:checked")].map((i) => i.value).join(",");
  try {
    tx = await camr.upload("/api/v1/seal-sessions?name=" + encodeURIComponent(f.name) + "&required=" + encodeURIComponent(req), f, $("progress"));
  } catch (e) { camr.fail("setup-error", e); return; }
  tx.name = f.name; pages = tx.pages; $("page-count").textContent = pages.length;
  $("setup").disabled = true;
  camr.show(tx, {});
  poll = setInterval(refresh, 700);
};
$("confirm").onclick = async () => {
  if (!placed) return;
  const s = size(placed.page);
  const mode = document.querySelector("input[name=mode]:checked").value;
  const body = { sealCode: placed.seal.code, x: placed.left, y: s.height - placed.top - placed.seal.heightPt };
  if (mode === "every") body.everyPage = true;
  else if (mode === "pages") body.pages = [...document.querySelectorAll("input[name=pagesel]:checked")].map((i) => Number(i.value));
  else body.pages = [placed.page];
  $("confirm").disabled = true;
  try {
    await camr.api("POST", sess("/place"), body);
    say("等待手机签名 · Waiting for the phone to sign…");
  } catch (e) { $("confirm").disabled = false; camr.fail("session-status", e); }
};
$("finish").onclick = async () => {
  try { await camr.api("POST", sess("/finish")); await refresh(); }
  catch (e) { camr.fail("session-status", e); }
};
"##;
    layout("签章 · Seal", "/seal", "", &body, SCRIPT)
}
