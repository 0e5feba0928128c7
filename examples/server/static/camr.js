// camr reference server: the few lines of JavaScript every page shares.
// - camr.api(method, url, body): calls the JSON API, resolves with `data`, rejects with
//   Error(message) carrying `.code` (the stable errorCode) for a failed envelope.
// - camr.show(tx, opts): shows a transaction's QR (refreshed every second, as the app
//   scans a live code), its payload text and the system code/name, follows its state over
//   Server-Sent Events, calls opts.onState(state) on each state and opts.onFinal(state, tx)
//   once it is final.
// - camr.fail(id, error) / camr.clear(id): an error shown where the user acted (beside the
//   button or field), the sentence first and the stable code in a small detail line.
"use strict";
const camr = (() => {
  const $ = (id) => document.getElementById(id);
  const FINAL = ["verified", "rejected", "failed", "expired", "cancelled"];
  const LABELS = {
    created: "等待扫码 · Waiting for scan…",
    scanned: "已扫码，请在手机上确认 · Scanned, confirm on your phone…",
    approved: "正在验证 · Verifying…",
    verified: "已完成 · Done",
    rejected: "已拒绝 · Rejected",
    failed: "验证失败 · Verification failed",
    expired: "二维码已过期 · QR expired",
    cancelled: "已取消 · Cancelled",
  };

  async function api(method, url, body, headers) {
    const init = { method, headers: headers || {} };
    if (body instanceof Blob || body instanceof ArrayBuffer) {
      init.body = body;
      init.headers["content-type"] = init.headers["content-type"] || "application/octet-stream";
    } else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["content-type"] = "application/json";
    }
    const r = await fetch(url, init);
    let j;
    try { j = await r.json(); } catch (e) { throw new Error("HTTP " + r.status); }
    if (!j.success) { const e = new Error(j.msg || ("HTTP " + r.status)); e.code = j.errorCode; throw e; }
    return j.data;
  }

  // Uploads a file with a progress bar (fetch has no upload progress; XMLHttpRequest does).
  function upload(url, file, bar) {
    return new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open("POST", url);
      x.setRequestHeader("content-type", "application/octet-stream");
      if (bar) { bar.hidden = false; bar.value = 0; bar.max = file.size || 1; }
      x.upload.onprogress = (e) => { if (bar && e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; } };
      // A refused upload leaves no full progress bar behind (it would read as success).
      const refuse = (e) => { if (bar) bar.hidden = true; reject(e); };
      x.onload = () => {
        let j = null;
        try { j = JSON.parse(x.responseText); } catch (e) { refuse(new Error("HTTP " + x.status)); return; }
        if (!j.success) { const e = new Error(j.msg); e.code = j.errorCode; refuse(e); return; }
        resolve(j.data);
      };
      x.onerror = () => refuse(new Error("上传失败，请检查网络后重试 · Upload failed"));
      x.send(file);
    });
  }

  function status(text, cls) {
    const s = $("status");
    if (s) { s.textContent = text; s.className = cls || ""; }
  }

  function fail(id, e) {
    const el = $(id);
    if (!el) return;
    el.hidden = false; el.className = "bad"; el.setAttribute("role", "alert");
    el.textContent = (e && e.message) || String(e);
    if (e && e.code) {
      const d = document.createElement("small");
      d.className = "code"; d.textContent = "错误码 · Code " + e.code;
      el.append(document.createElement("br"), d);
    }
  }

  function clear(id) {
    const el = $(id);
    if (el) { el.textContent = ""; el.hidden = true; }
  }

  function show(tx, opts) {
    opts = opts || {};
    const box = $("qr-box");
    if (box) box.hidden = false;
    $("qr").innerHTML = "";
    const img = new Image();
    img.alt = "QR"; img.width = 240; img.height = 240; img.id = "qr-img";
    img.src = tx.qrSvg;
    $("qr").appendChild(img);
    if ($("payload")) $("payload").textContent = tx.qrText;
    if ($("qr-png")) $("qr-png").href = tx.qrPng;
    if ($("system-code")) $("system-code").textContent = tx.systemCode;
    if ($("system-name")) $("system-name").textContent = tx.systemName;
    status(LABELS.created);
    let live = true, n = 0;
    // A fresh code every second: load it off-screen, swap when it has loaded (no flicker).
    const timer = setInterval(async () => {
      if (!live) return;
      n += 1;
      const next = new Image();
      next.onload = () => { if (live) img.src = next.src; };
      next.src = tx.qrSvg + "?n=" + n;
      if ($("payload")) {
        try { const r = await fetch(tx.status + "/qr.txt", { cache: "no-store" }); if (r.ok && live) $("payload").textContent = await r.text(); } catch (e) {}
      }
    }, 1000);
    const stop = () => { live = false; clearInterval(timer); };
    const es = new EventSource(tx.status + "/events");
    let done = false;
    es.addEventListener("state", (e) => {
      const t = JSON.parse(e.data);
      const st = t.state;
      if (st !== "created") { stop(); $("qr").classList.add("used"); }
      if (opts.onState) opts.onState(st);
      status(LABELS[st] || st, FINAL.includes(st) && st !== "verified" ? "bad" : "");
      if (FINAL.includes(st) && !done) {
        done = true; es.close();
        if (opts.onFinal) opts.onFinal(st, t);
      }
    });
    es.addEventListener("error", (e) => {
      if (done) return;
      if (e.data) { try { const j = JSON.parse(e.data); status(j.msg, "bad"); } catch (x) {} done = true; es.close(); stop(); return; }
      status("连接中断，重试中 · Connection lost, retrying…", "bad");
    });
    return { stop: () => { stop(); es.close(); } };
  }

  function download(id, href, name, label) {
    const a = $(id);
    a.href = href; a.download = name || ""; a.textContent = label; a.hidden = false;
  }

  return { $, api, upload, show, status, fail, clear, download, FINAL, LABELS };
})();
