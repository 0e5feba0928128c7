//! What verifying a PDF's seals reports: each seal, its widgets and its revocation.

use schemars::JsonSchema;
use serde::Serialize;

use crate::pki::{Subject, TimeEvidence, ValidationTime};

/// Where one widget of a seal is.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SealWidget {
    /// Page number, 1-based (0 when the widget is on no page of the document).
    pub page: u32,
    /// `[x1, y1, x2, y2]` in points.
    pub rect: [f32; 4],
}

/// One seal (signature field) of a PDF.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SealReport {
    /// The field's fully qualified name.
    pub field_name: String,
    /// `/SubFilter`.
    pub sub_filter: String,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/M` as written (claimed by the signer, not trusted).
    pub claimed_time: Option<String>,
    /// The signingTime attribute, Unix seconds, if the CMS has one (PAdES has none).
    pub signing_time: Option<i64>,
    /// The signer certificate's identity (from the CMS), if it could be read.
    pub signer: Option<Subject>,
    /// The widgets: page and rectangle.
    pub widgets: Vec<SealWidget>,
    /// `/ByteRange`.
    pub byte_range: Vec<u64>,
    /// The digest of the byte ranges matches and the signature verifies.
    pub integrity: bool,
    /// Why integrity failed.
    pub integrity_error: Option<String>,
    /// Chain to the given trust roots: `Some(true)` trusted, `Some(false)` not, `None` when no
    /// roots were given.
    pub trusted: Option<bool>,
    /// Why the chain was refused (error code and sentence).
    pub chain_error: Option<String>,
    /// The time the chain was validated at and the evidence for it (with trust roots): the
    /// verification time, or the signing time a platform record proves (signing-time
    /// validity, 不影响已使用的签章数据).
    pub validation_time: Option<ValidationTime>,
    /// When the chain was validated at a recorded signing time: its verdict at the
    /// verification time if that differs, e.g. `CERT_REVOKED: …` — revoked since, the seal
    /// stays valid.
    pub status_now: Option<String>,
    /// The signature covers the whole file.
    pub covers_whole_file: bool,
    /// Revisions appended after the signed one.
    pub later_revisions: usize,
    /// A later revision changed more than annotations, form fields and signatures.
    pub modified_after_signing: bool,
    /// What later revisions changed beyond that.
    pub modifications: Vec<String>,
    /// This signature revokes (撤章) the seal in the named field.
    pub revokes: Option<String>,
    /// The seal was revoked by a later, valid revocation signed by its signer or an
    /// authority; its widgets are hidden.
    pub revoked: Option<Revocation>,
    /// Integrity, not modified after signing, trusted when roots were given, not revoked.
    pub valid: bool,
}

/// Who revoked a seal (撤章), when and why.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Revocation {
    /// The field of the revoking signature.
    pub by_field: String,
    /// The revoker's identity.
    pub by: Option<Subject>,
    /// The revoker is a configured authority, not the seal's signer.
    pub by_authority: bool,
    /// `/M` of the revocation (claimed).
    pub claimed_time: Option<String>,
    /// `/Reason` of the revocation.
    pub reason: Option<String>,
}

/// Every seal of a PDF.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PdfReport {
    /// File size in bytes.
    pub file_length: usize,
    /// Number of pages.
    pub pages: usize,
    /// Number of revisions (`%%EOF` markers).
    pub revisions: usize,
    /// The seals, in the order of their byte ranges.
    pub seals: Vec<SealReport>,
    /// There is at least one seal and every seal is valid.
    pub all_valid: bool,
}

impl PdfReport {
    /// A short human report, one paragraph per seal.
    pub fn human(&self) -> String {
        let mut s = format!(
            "{} bytes, {} page(s), {} revision(s), {} seal(s)\n",
            self.file_length,
            self.pages,
            self.revisions,
            self.seals.len()
        );
        for seal in &self.seals {
            let verdict = match (seal.valid, &seal.revoked) {
                (_, Some(_)) => "REVOKED",
                (true, None) => "VALID",
                (false, None) => "INVALID",
            };
            s.push_str(&format!(
                "\n{} [{verdict}] {}\n",
                seal.field_name, seal.sub_filter
            ));
            if let Some(subject) = &seal.signer {
                let org = subject
                    .organization
                    .as_deref()
                    .map(|o| format!(", {o}"))
                    .unwrap_or_default();
                s.push_str(&format!(
                    "  signer: {}{org} (serial {}, issuer {})\n",
                    subject.name, subject.cert_sn, subject.issuer
                ));
            }
            for w in &seal.widgets {
                s.push_str(&format!(
                    "  page {} at [{:.1} {:.1} {:.1} {:.1}]\n",
                    w.page, w.rect[0], w.rect[1], w.rect[2], w.rect[3]
                ));
            }
            if let Some(t) = &seal.claimed_time {
                s.push_str(&format!("  time (claimed): {t}\n"));
            }
            if let Some(r) = &seal.reason {
                s.push_str(&format!("  reason: {r}\n"));
            }
            match &seal.integrity_error {
                None => s.push_str(
                    "  integrity: the signed bytes are intact and the signature verifies\n",
                ),
                Some(e) => s.push_str(&format!("  integrity: FAILED: {e}\n")),
            }
            match (seal.trusted, &seal.chain_error) {
                (Some(true), _) => s.push_str("  chain: trusted\n"),
                (Some(false), e) => s.push_str(&format!(
                    "  chain: NOT trusted: {}\n",
                    e.as_deref().unwrap_or("")
                )),
                (None, _) => s.push_str("  chain: not checked (no trust roots given)\n"),
            }
            if let Some(t) = &seal.validation_time
                && t.evidence == TimeEvidence::PlatformRecord
            {
                s.push_str(&format!(
                    "  validated at the signing time {} ({})\n",
                    t.at,
                    t.reference.as_deref().unwrap_or("platform record")
                ));
            }
            if let Some(now) = &seal.status_now {
                s.push_str(&format!("  certificate now: {now}\n"));
            }
            if seal.covers_whole_file {
                s.push_str("  coverage: the whole file\n");
            } else {
                s.push_str(&format!(
                    "  coverage: {} later revision(s)\n",
                    seal.later_revisions
                ));
            }
            if let Some(field) = &seal.revokes {
                s.push_str(&format!("  revokes (撤章): {field}\n"));
            }
            if let Some(r) = &seal.revoked {
                let by = r.by.as_ref().map(|s| s.name.as_str()).unwrap_or("?");
                let role = if r.by_authority {
                    "authority"
                } else {
                    "signer"
                };
                s.push_str(&format!(
                    "  REVOKED (撤章) by {by} ({role}) in {}{}{}\n",
                    r.by_field,
                    r.claimed_time
                        .as_deref()
                        .map(|t| format!(" at {t}"))
                        .unwrap_or_default(),
                    r.reason
                        .as_deref()
                        .map(|t| format!(": {t}"))
                        .unwrap_or_default()
                ));
            }
            if seal.modified_after_signing {
                s.push_str(&format!(
                    "  MODIFIED AFTER SIGNING: {}\n",
                    seal.modifications.join("; ")
                ));
            }
        }
        s
    }
}
