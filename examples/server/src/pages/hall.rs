//! The bid-opening hall page (不见面开标大厅): the project and a countdown to the opening
//! time, the bids with a sign-in (签到) button each — the login QR; the signed-in name appears
//! once the state stream says verified — and decryption per bid (解密): decrypt QR → the
//! server opens the envelope → download. Decrypt is disabled, with the reason beside it,
//! until it can work (the opening time reached, the bidder signed in); submission closes on
//! the page at the opening time. A refusal the server still gives is shown beside the
//! button that asked. The data comes from `GET /api/v1/hall` ([`crate::hall`]), polled.

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
<label for="bid-envelope">数字信封 · Sealed bid</label> <input type="file" id="bid-envelope" accept=".camrbid"> <button id="submit-bid">递交 · Submit</button>
<small id="submit-closed" class="bad" hidden>投标已截止：开标时间已到，不再接收投标文件 · Submission closed at the opening time</small></fieldset>
<p id="hall-msg" hidden></p>
<div class="scroll"><table id="bids" class="cards"><thead><tr><th>投标文件 · Bid</th><th>状态 · Status</th><th>签到 · Sign-in</th><th>解密 · Decrypt</th></tr></thead><tbody></tbody></table></div>
<p id="no-bids" hidden>尚无投标文件 · No bids yet</p>
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
  el.textContent = camr.when(opensAt);
}
setOpening(Number(el.dataset.opensAt), Number(el.dataset.now));
function secondsLeft() { return opensAt - (Math.floor(Date.now() / 1000) + skew); }
function tick() {
  const left = secondsLeft();
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
  for (const id in bids) gate(id);
}
// Per bid, what has happened: 已递交 and 已签到 from the server, 已解密 and 已下载 on this page.
const done = {}, bids = {};
function stateOf(b) {
  const d = done[b.id] || {};
  return ["已递交 · submitted"].concat(b.signedIn ? ["已签到 · signed in"] : [],
    d.decrypted ? ["已解密 · opened"] : [], d.downloaded ? ["已下载 · downloaded"] : []).join(" → ");
}
function row(id) { return document.getElementById("bid-" + id); }
function mark(id, what) {
  done[id] = Object.assign(done[id] || {}, { [what]: true });
  const r = row(id);
  if (r && bids[id]) r.querySelector(".bid-state").textContent = stateOf(bids[id]);
}
// Decrypt works from the opening time on, for a bid whose bidder has signed in: until then
// its button is disabled and the reason is beside it.
function gate(id) {
  const r = row(id), b = bids[id];
  if (!r || !b) return;
  const button = r.querySelector("button.decrypt"), why = r.querySelector(".decrypt-reason");
  let reason = "";
  if (secondsLeft() > 0) reason = "开标时间未到，" + camr.when(opensAt) + " 后可解密 · Decrypt opens at the bid-opening time";
  else if (!b.signedIn) reason = "投标人未签到，请先签到 · Sign in first";
  button.disabled = reason !== "";
  why.textContent = reason; why.hidden = reason === "";
}
function newRow(b) {
  const tr = document.createElement("tr"); tr.id = "bid-" + b.id;
  // Labelled cells: on a phone the rows are cards, each value under its column's name.
  const [name, state, signIn, td] = ["投标文件 · Bid", "状态 · Status", "签到 · Sign-in", "解密 · Decrypt"].map((label) => {
    const c = tr.insertCell(); c.dataset.label = label; return c;
  });
  name.append(b.name, " ", Object.assign(document.createElement("small"), { textContent: "(" + camr.size(b.size) + ")" }));
  state.innerHTML = '<span class="bid-state"></span>';
  signIn.className = "sign-in-cell";
  td.innerHTML = '<button class="decrypt" aria-describedby="why-' + b.id + '">扫码解密 · Decrypt</button> <small class="decrypt-reason" id="why-' + b.id + '"></small> <a class="download" hidden></a> <span class="refusal" hidden></span>';
  td.querySelector("button").onclick = () => decrypt(b.id, td);
  return tr;
}
function update(b) {
  let tr = row(b.id);
  if (!tr) { tr = newRow(b); camr.$("bids").tBodies[0].appendChild(tr); }
  bids[b.id] = b;
  tr.querySelector(".bid-state").textContent = stateOf(b);
  const si = tr.querySelector(".sign-in-cell");
  if (b.signedIn && !si.querySelector(".signed-in")) {
    const who = b.signedIn.name + (b.signedIn.organization ? " / " + b.signedIn.organization : "");
    si.innerHTML = '<span class="ok signed-in"></span>';
    si.firstChild.textContent = "✔ " + who + " 已签到 · signed in";
  } else if (!b.signedIn && !si.querySelector("button")) {
    si.innerHTML = '<button class="sign-in">签到 · Sign in</button>';
    si.querySelector("button").onclick = () => signIn(b.id);
  }
  gate(b.id);
}
// The hall as the server has it, again every few seconds: sign-ins and a moved opening time
// show without a reload.
async function load() {
  const h = await camr.api("GET", "/api/v1/hall?" + tenderQ);
  setOpening(h.opensAt, h.now);
  for (const b of h.bids) update(b);
  camr.$("no-bids").hidden = h.bids.length > 0;
  tick();
}
// The QR panel and the progress bar go into a row of their own just under the bid that asked.
function nearBid(id) {
  const tr = row(id);
  if (!tr) return;
  let qrRow = camr.$("qr-row");
  if (!qrRow) {
    qrRow = document.createElement("tr"); qrRow.id = "qr-row";
    const cell = qrRow.insertCell(); cell.colSpan = 4; cell.dataset.label = "扫码 · Scan";
  }
  tr.after(qrRow);
  for (const box of ["qr-box", "progress"]) { const b = camr.$(box); if (b) qrRow.cells[0].appendChild(b); }
}
async function signIn(id) {
  camr.clear("hall-msg"); nearBid(id);
  try {
    const tx = await camr.api("POST", "/api/v1/hall/signin?bid=" + encodeURIComponent(id));
    camr.show(tx, { onFinal: async (st) => {
      await load();
      if (st === "verified") camr.status("已签到 · Signed in", "ok");
    }});
  } catch (e) { camr.fail("hall-msg", e); }
}
async function decrypt(id, td) {
  camr.clear("hall-msg"); camr.clear(td.querySelector(".refusal")); nearBid(id);
  let tx;
  try { tx = await camr.api("POST", "/api/v1/hall/decrypt?bid=" + encodeURIComponent(id)); }
  catch (e) { camr.fail(td.querySelector(".refusal"), e); return; }
  camr.show(tx, { onFinal: async (st) => {
    if (st !== "verified") return;
    const base = "/api/v1/bidfiles/" + tx.tid;
    const bar = camr.$("progress");
    try {
      await camr.api("POST", base + "/work", {});
      for (;;) {
        const p = await camr.api("GET", base + "/progress");
        bar.hidden = false; bar.max = p.total || 1; bar.value = p.done;
        if (p.finished) { if (p.error) throw new Error(camr.tidy(p.error)); break; }
        await new Promise((r) => setTimeout(r, 300));
      }
      bar.hidden = true;
      camr.status("已解密 · Opened", "ok");
      mark(id, "decrypted");
      const a = td.querySelector(".download");
      a.href = base + "/plain"; a.textContent = "下载解密文件 · Download (once)"; a.hidden = false;
      a.onclick = () => mark(id, "downloaded");
    } catch (e) { bar.hidden = true; camr.fail("status", e); }
  }});
}
camr.$("submit-bid").onclick = async () => {
  const f = camr.$("bid-envelope").files[0];
  camr.clear("hall-msg");
  if (!f) { camr.fail("hall-msg", new Error("请先选择数字信封文件 · Choose the sealed bid (.camrbid) first")); return; }
  try {
    await camr.upload("/api/v1/hall/bids?" + tenderQ + "&name=" + encodeURIComponent(f.name), f, camr.$("progress"));
    camr.$("progress").hidden = true;
    camr.status("", "");
    const m = camr.$("hall-msg"); m.hidden = false; m.removeAttribute("role"); m.className = "ok";
    m.textContent = "已递交 · Submitted: " + f.name;
    await load();
  } catch (e) { camr.fail("hall-msg", e); }
};
tick();
load().catch((e) => camr.fail("hall-msg", e));
setInterval(() => load().catch(() => {}), 3000);
setInterval(tick, 1000);
"##;
    Ok(layout(
        "不见面开标大厅 · Bid-opening hall",
        "/hall",
        "",
        &body,
        SCRIPT,
    ))
}
