//! The bid-opening hall page (不见面开标大厅): the project and a countdown to the opening
//! time, the bids with a sign-in (签到) button each — the login QR; the signed-in name appears
//! once the state stream says verified — and decryption per bid (解密): decrypt QR → the
//! server opens the envelope → download. Refusals (too early, not signed in) are shown as
//! the server words them. The data comes from `GET /api/v1/hall` ([`crate::hall`]).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;

use super::{esc, layout, qr_panel};
use crate::AppState;

/// `/hall[?tender=T]`: the configured tender when none is named.
pub async fn hall_page(
    State(s): State<Arc<AppState>>,
    q: Result<Query<crate::hall::TenderQuery>, QueryRejection>,
) -> Result<Response, crate::api::ApiError> {
    let tender = q.ok().and_then(|Query(q)| q.tender);
    let tender = tender.as_deref().unwrap_or(&s.hall.tender);
    let view = s.hall.sdk.view(tender, camr::qr::unix_now()).await?;
    let body = format!(
        r##"<h1>不见面开标大厅 <small>Bid-opening hall</small></h1>
<p>招标项目 · Project: <b id="project" data-tender="{tender}">{project}</b><br>
开标时间 · Opening time: <b id="opens-at" data-opens-at="{opens_at}" data-now="{now}"></b><br>
<span id="countdown"></span></p>
<p><small>解密条件 · Decryption needs: 投标人已完成签到，开标时间已到 · the bidder has signed in and the opening time is reached.</small></p>
<fieldset><legend>递交投标文件 · Submit a sealed bid (<code>.camrbid</code>, see <a href="/bidfile">投标文件</a>)</legend>
<input type="file" id="bid-envelope"> <button id="submit-bid">递交 · Submit</button>
<small id="submit-closed" class="bad" hidden>投标已截止：开标时间已到，不再接收投标文件 · Submission closed at the opening time</small></fieldset>
<table id="bids"><thead><tr><th>投标文件 · Bid</th><th>状态 · Status</th><th>签到 · Sign-in</th><th>解密 · Decrypt</th></tr></thead><tbody></tbody></table>
<p id="hall-msg"></p>
<progress id="progress" hidden></progress>
{panel}"##,
        project = esc(&view.project),
        tender = esc(&view.tender),
        opens_at = view.opens_at,
        now = view.now,
        panel = qr_panel(&s, false, "", "", ""),
    );
    const SCRIPT: &str = r##"
const el = camr.$("opens-at");
const tenderQ = "tender=" + encodeURIComponent(camr.$("project").dataset.tender);
let opensAt = 0, skew = 0;
// The opening time as the server has it (it may be moved); `now` corrects this clock.
function setOpening(at, now) {
  opensAt = at; skew = now - Math.floor(Date.now() / 1000);
  el.textContent = new Date(opensAt * 1000).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false }) + " (UTC+8)";
}
setOpening(Number(el.dataset.opensAt), Number(el.dataset.now));
function tick() {
  const left = opensAt - (Math.floor(Date.now() / 1000) + skew);
  const c = camr.$("countdown");
  if (left > 0) {
    const h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    c.textContent = "距开标 · Opening in " + (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    c.className = "";
  } else { c.textContent = "开标时间已到 · The bid opening has started"; c.className = "ok"; }
  // Late bids are refused (BID_SUBMISSION_CLOSED): the page closes submission at the same time.
  const closed = left <= 0;
  camr.$("submit-bid").disabled = closed; camr.$("bid-envelope").disabled = closed;
  camr.$("submit-closed").hidden = !closed;
}
tick(); setInterval(tick, 1000);
function msg(text, cls) { const m = camr.$("hall-msg"); m.textContent = text; m.className = cls || ""; }
function cell(row, html) { const td = document.createElement("td"); td.innerHTML = html; row.appendChild(td); return td; }
function esc(s) { const d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
// Per bid, what has happened: 已递交 and 已签到 from the server, 已解密 and 已下载 on this page.
const done = {};
function stateOf(b) {
  const d = done[b.id] || {};
  return ["已递交 · submitted"].concat(b.signedIn ? ["已签到 · signed in"] : [],
    d.decrypted ? ["已解密 · opened"] : [], d.downloaded ? ["已下载 · downloaded"] : []).join(" → ");
}
function mark(id, what) {
  done[id] = Object.assign(done[id] || {}, { [what]: true });
  const st = document.querySelector("#bid-" + id + " .bid-state");
  if (st && bids[id]) st.textContent = stateOf(bids[id]);
}
const bids = {};
async function load() {
  const h = await camr.api("GET", "/api/v1/hall?" + tenderQ);
  setOpening(h.opensAt, h.now); tick();
  const body = camr.$("bids").tBodies[0];
  body.innerHTML = "";
  for (const b of h.bids) {
    const tr = document.createElement("tr"); tr.id = "bid-" + b.id;
    bids[b.id] = b;
    cell(tr, esc(b.name) + " <small>(" + b.size + " B)</small>");
    cell(tr, '<span class="bid-state"></span>').firstChild.textContent = stateOf(b);
    if (b.signedIn) {
      cell(tr, '<span class="ok signed-in">✔ ' + esc(b.signedIn.name) + (b.signedIn.organization ? " / " + esc(b.signedIn.organization) : "") + " 已签到 · signed in</span>");
    } else {
      const td = cell(tr, '<button class="sign-in">签到 · Sign in</button>');
      td.querySelector("button").onclick = () => signIn(b.id);
    }
    const td = cell(tr, '<button class="decrypt">扫码解密 · Decrypt</button> <a class="download" hidden></a> <span class="refusal bad"></span>');
    td.querySelector("button").onclick = () => decrypt(b.id, td);
    body.appendChild(tr);
  }
}
async function signIn(id) {
  msg("");
  try {
    const tx = await camr.api("POST", "/api/v1/hall/signin?bid=" + encodeURIComponent(id));
    camr.show(tx, { onFinal: async (st) => {
      await load();
      if (st === "verified") camr.status("已签到 · Signed in", "ok");
    }});
  } catch (e) { msg(e.message, "bad"); }
}
async function decrypt(id, td) {
  msg(""); td.querySelector(".refusal").textContent = "";
  let tx;
  try { tx = await camr.api("POST", "/api/v1/hall/decrypt?bid=" + encodeURIComponent(id)); }
  catch (e) { td.querySelector(".refusal").textContent = e.message; msg((e.code ? e.code + ": " : "") + e.message, "bad"); return; }
  camr.show(tx, { onFinal: async (st) => {
    if (st !== "verified") return;
    const base = "/api/v1/bidfiles/" + tx.tid;
    const bar = camr.$("progress");
    try {
      await camr.api("POST", base + "/work", {});
      for (;;) {
        const p = await camr.api("GET", base + "/progress");
        bar.hidden = false; bar.max = p.total || 1; bar.value = p.done;
        if (p.finished) { if (p.error) throw new Error(p.error); break; }
        await new Promise((r) => setTimeout(r, 300));
      }
      bar.hidden = true;
      camr.status("已解密 · Opened", "ok");
      mark(id, "decrypted");
      const a = td.querySelector(".download");
      a.href = base + "/plain"; a.textContent = "下载解密文件 · Download (once)"; a.hidden = false;
      a.onclick = () => mark(id, "downloaded");
    } catch (e) { camr.status(e.message, "bad"); }
  }});
}
camr.$("submit-bid").onclick = async () => {
  const f = camr.$("bid-envelope").files[0];
  if (!f) { msg("请选择数字信封 · Choose an envelope", "bad"); return; }
  try {
    await camr.upload("/api/v1/hall/bids?" + tenderQ + "&name=" + encodeURIComponent(f.name), f, camr.$("progress"));
    camr.$("progress").hidden = true;
    msg("已递交 · Submitted", "ok");
    await load();
  } catch (e) { msg(e.message, "bad"); }
};
load().catch((e) => msg(e.message, "bad"));
"##;
    Ok(layout(
        "不见面开标大厅 · Bid-opening hall",
        "/hall",
        "",
        &body,
        SCRIPT,
    ))
}
