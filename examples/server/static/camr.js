// camr reference server: the few lines of JavaScript every page shares.
// - camr.api(method, url, body): calls the JSON API, resolves with `data`, rejects with
//   camr.refusal(envelope) for a failed one: an Error whose message is the code's sentence
//   for people (Chinese, then English), `.code` the stable errorCode and `.detail` the
//   server's particulars (`msg`) with dates and sizes made readable.
// - CAMR_MESSAGES (served before this script, made from camr::protocol::ErrorCode): per
//   errorCode its [Chinese, English] sentence — the one table of them.
// - camr.show(tx, opts): shows a transaction's QR (refreshed every second, as the app
//   scans a live code), its payload text and the system code/name, follows its state over
//   Server-Sent Events, calls opts.onState(state) on each state and opts.onFinal(state, tx)
//   once it is final.
// - camr.fail(id, error) / camr.clear(id): an error shown where the user acted (beside the
//   button or field), the sentence first and the particulars and the stable code in a
//   small detail line; `id` may be an element.
// - camr.near(el): moves the QR panel and the result box to just after the fieldset holding
//   el (the button that started them), so the outcome shows beside it.
// - camr.when(unix), camr.size(bytes): a time (北京时间) and a size as people read them.
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

  const MESSAGES = typeof CAMR_MESSAGES === "undefined" ? {} : CAMR_MESSAGES;

  // 2026-12-08 10:00:00 (北京时间): the platforms' users live in China Standard Time.
  function when(unix) {
    const d = new Date(Number(unix) * 1000);
    const p = (n) => String(n).padStart(2, "0");
    const t = new Date(d.getTime() + 8 * 3600 * 1000);
    return t.getUTCFullYear() + "-" + p(t.getUTCMonth() + 1) + "-" + p(t.getUTCDate()) + " " +
      p(t.getUTCHours()) + ":" + p(t.getUTCMinutes()) + ":" + p(t.getUTCSeconds()) + " (北京时间)";
  }
  function size(bytes) {
    const n = Number(bytes);
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(n < 10240 ? 1 : 0) + " KB";
    if (n < 1024 * 1024 * 1024) return (n / 1048576).toFixed(1) + " MB";
    return (n / 1073741824).toFixed(1) + " GB";
  }
  function duration(s) {
    s = Number(s);
    if (s < 60) return s + " 秒 s";
    const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
    return (h ? h + " 小时 h " : "") + m + " 分钟 min";
  }
  // The server's particulars as people read them: no backticks, Unix seconds or byte counts.
  function tidy(text) {
    return String(text || "")
      .replace(/`([^`]*)`/g, "“$1”")
      .replace(/\b(\d{9,11}) \(unix seconds\)/gi, (m, s) => when(s))
      .replace(/\b(\d+) s from now\b/g, (m, s) => "in " + duration(s))
      .replace(/\b(\d{4,}) bytes\b/g, (m, n) => size(n));
  }
  // A failed envelope ({msg, errorCode}) as an Error for people.
  function refusal(j, httpStatus) {
    const code = (j && j.errorCode) || "";
    const m = MESSAGES[code];
    const detail = tidy(j && j.msg);
    const e = new Error(m ? m[0] + " " + m[1] : (detail || "请求失败，请稍后重试 · The request failed (HTTP " + httpStatus + ")"));
    e.code = code; e.detail = m ? detail : "";
    return e;
  }

  // A verdict's reason, "CODE: particulars" (e.g. a signature that does not verify), as an
  // Error for people, its message after `prefix`.
  function reason(text, prefix) {
    const m = /^([A-Z][A-Z0-9_]+): ([\s\S]*)$/.exec(String(text || ""));
    const e = m ? refusal({ errorCode: m[1], msg: m[2] }) : new Error(tidy(text));
    e.message = (prefix || "") + e.message;
    return e;
  }

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
    try { j = await r.json(); } catch (e) { throw refusal(null, r.status); }
    if (!j.success) throw refusal(j, r.status);
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
        try { j = JSON.parse(x.responseText); } catch (e) { refuse(refusal(null, x.status)); return; }
        if (!j.success) { refuse(refusal(j, x.status)); return; }
        resolve(j.data);
      };
      x.onerror = () => refuse(new Error("上传失败，请检查网络后重试 · Upload failed"));
      x.send(file);
    });
  }

  function status(text, cls) {
    const s = $("status");
    // A status after an error is news again, not an alert (fail() made it one).
    if (s) { s.textContent = text; s.className = cls || ""; s.hidden = false; s.setAttribute("role", "status"); }
  }

  function fail(id, e) {
    const el = typeof id === "string" ? $(id) : id;
    if (!el) return;
    el.hidden = false; el.classList.remove("ok"); el.classList.add("bad"); el.setAttribute("role", "alert");
    el.textContent = (e && e.message) || String(e);
    if (e && (e.code || e.detail)) {
      const line = document.createElement("span"); line.className = "err-detail";
      if (e.detail && e.detail !== e.message) {
        const d = document.createElement("small"); d.className = "detail"; d.textContent = e.detail;
        line.append(d, " ");
      }
      if (e.code) {
        const c = document.createElement("small"); c.className = "code"; c.textContent = "错误码 · Code " + e.code;
        line.append(c);
      }
      el.append(line);
    }
  }

  function clear(id) {
    const el = typeof id === "string" ? $(id) : id;
    if (el) { el.textContent = ""; el.hidden = true; }
  }

  const QR_ALT = "二维码：请用 CA 移动证书 App 扫描，每秒刷新 · QR code: scan it with your CA certificate app (renewed each second)";

  function show(tx, opts) {
    opts = opts || {};
    const box = $("qr-box");
    if (box) box.hidden = false;
    $("qr").innerHTML = "";
    const img = new Image();
    img.alt = QR_ALT; img.width = 240; img.height = 240; img.id = "qr-img";
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
      // Why, when the platform says: a failed answer's code as a sentence, a rejection's reason.
      if (st === "failed" && t.message) fail("status", reason(t.message, LABELS.failed + "："));
      if (st === "rejected" && t.message) status(LABELS.rejected + "：" + tidy(t.message), "bad");
      if (FINAL.includes(st) && !done) {
        done = true; es.close();
        if (opts.onFinal) opts.onFinal(st, t);
      }
    });
    es.addEventListener("error", (e) => {
      if (done) return;
      if (e.data) { try { fail("status", refusal(JSON.parse(e.data))); } catch (x) {} done = true; es.close(); stop(); return; }
      status("连接中断，重试中 · Connection lost, retrying…", "bad");
    });
    return { stop: () => { stop(); es.close(); } };
  }

  // Results beside the button that started them: the QR panel (its status line) and the
  // result box move to just after the part of the page (fieldset) holding `el`.
  function near(el) {
    const anchor = el && (el.closest("fieldset") || el);
    if (!anchor) return;
    let after = anchor;
    for (const id of ["qr-box", "progress", "result-box"]) {
      const box = $(id);
      if (box && !anchor.contains(box)) { after.after(box); after = box; }
    }
  }

  function download(id, href, name, label) {
    const a = $(id);
    a.href = href; a.download = name || ""; a.textContent = label; a.hidden = false;
  }

  return { $, api, upload, show, status, fail, clear, download, near, refusal, reason, tidy, when, size, FINAL, LABELS, MESSAGES };
})();
