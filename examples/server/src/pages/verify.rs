//! `GET /verify`: verification for anyone holding a result — a signature record from the
//! signing page (验签; with the file for a file signature), and a sealed PDF (验章: every seal,
//! its signer, whether it is intact, trusted, revoked; `POST /api/v1/pdf/verify`).

use axum::response::Response;

use super::layout;

pub async fn verify_page() -> Response {
    let body = r##"<h1>验签 <small>Verify a signature or a sealed PDF</small></h1>
<fieldset><legend>签名记录 · A signature record</legend>
<p><label for="record">粘贴签名页给出的签名记录（JSON）；文件签名请同时选择原文件 · Paste a signature record from the signing page; for a file signature also choose the file.</label></p>
<textarea id="record" placeholder='{"message": "...", "signature": "...", "certificate": "..."}' style="min-height:160px"></textarea>
<p><label>原文件 · The signed file <input type="file" id="verify-file"></label> <button id="verify">验证 · Verify</button></p>
<p id="status" role="status" aria-live="polite"></p><pre id="detail" hidden></pre></fieldset>
<fieldset><legend>已签章的 PDF · A sealed PDF (验章)</legend>
<p><label>PDF 文件 · PDF file <input type="file" id="pdf-file" accept="application/pdf,.pdf"></label>
<button id="verify-pdf">验证印章 · Verify the seals</button></p>
<progress id="pdf-progress" hidden></progress>
<p id="pdf-status" role="status" aria-live="polite"></p>
<div class="scroll"><table id="pdf-seals" hidden><thead><tr><th>印章 · Seal</th><th>签章人 · Signer</th><th>结果 · Verdict</th>
<th>签章时间 · Signed</th><th>页 · Pages</th></tr></thead><tbody></tbody></table></div></fieldset>"##;
    const SCRIPT: &str = r##"
camr.$("verify").onclick = async () => {
  let rec;
  try { rec = JSON.parse(camr.$("record").value); }
  catch (e) { camr.fail("status", new Error("签名记录不是有效的 JSON，请粘贴签名页给出的完整记录 · The record is not valid JSON: paste the whole record")); return; }
  try {
    const body = { signature: rec.signature, certificate: rec.certificate, chain: rec.chain || [] };
    if (rec.message !== undefined) { body.message = rec.message; }
    else {
      const f = camr.$("verify-file").files[0];
      if (f) {
        const d = await camr.upload("/api/v1/files/digest?hash=" + (rec.hashAlgorithm || "SM3").toLowerCase(), f);
        if (rec.hash && d.hash !== rec.hash) { camr.fail("status", new Error("✘ 文件与签名记录不符 · The file is not the one signed (its hash differs)")); return; }
        body.hash = d.hash;
      } else { body.hash = rec.hash; }
    }
    const d = await camr.api("POST", "/api/v1/verify", body);
    if (d.verifySignatureResult) camr.status("✔ 验签成功 · Valid signature by " + d.subject.name, "ok");
    else camr.fail("status", camr.reason(d.reason, "✘ 验签失败 · Invalid: "));
    camr.$("detail").textContent = JSON.stringify(d, null, 2); camr.$("detail").hidden = false;
  } catch (e) { camr.fail("status", e); }
};
// 验章: one row per seal; the verdict in words, why not in the small line under it.
function verdict(s) {
  if (s.revoked) return ["已撤章 · Revoked" + (s.revoked.reason ? "（" + s.revoked.reason + "）" : ""), "bad", ""];
  if (s.revokes) return ["撤章签名 · Revokes " + s.revokes, "", ""];
  if (s.valid) return ["✔ 有效 · Valid" + (s.statusNow ? "（证书此后状态变化 · the certificate changed since）" : ""), "ok", s.statusNow || ""];
  if (!s.integrity) return ["✘ 文件已被改动或签名无效 · Changed or invalid", "bad", s.integrityError || ""];
  if (s.modifiedAfterSigning) return ["✘ 签章后文件被修改 · Modified after sealing", "bad", (s.modifications || []).join("; ")];
  if (s.trusted === false) return ["✘ 证书不受信任 · Certificate not trusted", "bad", s.chainError || ""];
  return ["✘ 无效 · Invalid", "bad", s.chainError || s.integrityError || ""];
}
camr.$("verify-pdf").onclick = async () => {
  const f = camr.$("pdf-file").files[0];
  const table = camr.$("pdf-seals"); table.hidden = true;
  camr.clear("pdf-status");
  if (!f) { camr.fail("pdf-status", new Error("请先选择要验证的 PDF 文件 · Choose the PDF to verify first")); return; }
  try {
    const r = await camr.upload("/api/v1/pdf/verify", f, camr.$("pdf-progress"));
    camr.$("pdf-progress").hidden = true;
    const body = table.tBodies[0]; body.textContent = "";
    for (const s of r.seals) {
      const tr = body.insertRow();
      tr.insertCell().textContent = s.fieldName;
      tr.insertCell().textContent = s.signer ? s.signer.name + (s.signer.organization ? " / " + s.signer.organization : "") : "—";
      const [text, cls, why] = verdict(s);
      const td = tr.insertCell(); td.className = cls; td.textContent = text;
      if (why) { const e = camr.reason(why); const d = document.createElement("small"); d.className = "detail"; d.textContent = e.message + (e.code ? " · " + e.code : ""); td.append(document.createElement("br"), d); }
      const at = s.validationTime ? s.validationTime.at : s.signingTime;
      tr.insertCell().textContent = at ? camr.when(at) : (s.claimedTime || "—");
      tr.insertCell().textContent = s.widgets.map((w) => w.page).filter((p) => p > 0).join(", ") || "—";
    }
    table.hidden = r.seals.length === 0;
    const m = camr.$("pdf-status"); m.hidden = false; m.removeAttribute("role");
    const about = f.name + "（" + camr.size(r.fileLength) + "，" + r.pages + " 页 · pages）";
    if (!r.seals.length) { m.className = "bad"; m.textContent = "✘ 未找到印章 · No seals in " + about; }
    else if (r.allValid) { m.className = "ok"; m.textContent = "✔ 全部 " + r.seals.length + " 个印章有效 · All " + r.seals.length + " seal(s) valid: " + about; }
    else { m.className = "bad"; m.textContent = "✘ 有印章无效或已撤章 · Not every seal is valid: " + about; }
  } catch (e) { camr.fail("pdf-status", e); }
};
"##;
    layout("验签 · Verify", "/verify", "", body, SCRIPT)
}
