//! The answer pipeline: checks, then the compare-and-set transitions, the usage record and
//! the audit entry.

use crate::protocol::{ErrorCode, Response, Tid, TransactionState, UsageRecord};
use crate::qr::QrProfile;
use crate::store::{AnswerWrite, TxRecord};

use super::checks::Verdict;
use super::{CResult, CeremonyError, HookError, Platform, scope};

/// certificate). Malformed answers and bad signatures are only counted.
fn audited_refusal(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::CertNotEntitled
            | ErrorCode::DelegationOutOfScope
            | ErrorCode::SessionMismatch
            | ErrorCode::BidderNotSignedIn
            | ErrorCode::BidOpeningNotReached
            | ErrorCode::CertRevoked
            | ErrorCode::CertFrozen
            | ErrorCode::QrProfileMismatch
            | ErrorCode::EncryptionCertMismatch
    )
}

impl Platform {
    /// Verifies and records an app's answer. On success the transaction is `verified` (or
    /// `rejected` when the user said no); on failure it is left as it was and the refusal
    /// is counted (and audited when a verified holder may not act).
    pub async fn answer(&self, tid: &Tid, response: &Response) -> CResult<TransactionState> {
        self.answer_via(self.qr_profile.clone().as_ref(), tid, response)
            .await
    }

    /// [`Platform::answer`] for an answer that came through a code of QR profile `via`
    /// (二维码类型; the profile's transport tells, e.g. `qr=vendor1` on the answer's URI). The
    /// profile that counts is the one the app signed (`qrProfile`, inside the binding): an
    /// answer whose signed profile is not `via` is refused with `QR_PROFILE_MISMATCH`, so a
    /// transport tag cannot turn a national-code answer into a vendor-code one. A
    /// platform-only certificate (本平台证书, [`super::Entitlement::platform_only_vendors`])
    /// is refused with `CERT_NOT_ENTITLED` through the national interop code.
    ///
    /// The one pipeline of every answer: decoded by the vendor's adapter (when the platform
    /// has a decoder), checked, recorded with compare-and-set, audited, and billed off the
    /// request path.
    pub async fn answer_via(
        &self,
        via: &dyn QrProfile,
        tid: &Tid,
        response: &Response,
    ) -> CResult<TransactionState> {
        let decoded = match self.decode(response).await {
            Ok(decoded) => decoded,
            Err(e) => return Err(self.refusal(tid, e).await),
        };
        let response = decoded.as_ref().unwrap_or(response);
        let rec = self.live_record(tid).await?;
        match self.verdict(&rec, tid, response, via).await {
            Ok((verdict, revocation)) => self.record(tid, verdict, revocation).await,
            Err(e) => Err(self.refusal(tid, e).await),
        }
    }

    /// The answer with its evidence read by the vendor's adapter, when the platform has a
    /// decoder (`None`: use the answer as it is).
    async fn decode(&self, r: &Response) -> CResult<Option<Response>> {
        let raw = match (&r.vendor_evidence, &r.evidence, &self.decoder) {
            (Some(_), Some(_), _) => {
                return Err(CeremonyError::Incomplete(
                    "an answer carries `evidence` or `vendorEvidence`, not both".into(),
                ));
            }
            (Some(_), None, None) => {
                return Err(HookError::new(
                    ErrorCode::AdapterUnavailable,
                    format!(
                        "the answer is in the {} app's own format, and no adapter is loaded to read it",
                        crate::crypto::truncate(&r.ca_org_type, 40)
                    ),
                )
                .into());
            }
            (_, _, None) | (None, None, Some(_)) => return Ok(None),
            (Some(vendor), None, Some(_)) => vendor.0.clone(),
            (None, Some(evidence), Some(_)) => {
                serde_json::to_vec(evidence).map_err(|e| CeremonyError::Misuse(e.to_string()))?
            }
        };
        let Some(decoder) = self.decoder.clone() else {
            return Ok(None);
        };
        let (vendor, operation) = (r.ca_org_type.clone(), r.operation);
        let call = move || decoder.decode(&vendor, operation, &raw);
        let evidence = super::hooks::off_executor("the adapter call", call).await??;
        let mut out = r.clone();
        out.vendor_evidence = None;
        out.evidence = Some(evidence);
        Ok(Some(out))
    }

    /// The checks, with the delegation withdrawal list, the decrypt policy and the live
    /// revocation step; the verdict and the revocation line for the audit entry.
    async fn verdict(
        &self,
        rec: &TxRecord,
        tid: &Tid,
        response: &Response,
        via: &dyn QrProfile,
    ) -> CResult<(Verdict, Option<String>)> {
        // Signatures first: the withdrawal list is read only for an answer that verified, so
        // bogus answers carrying a delegation cost one signature check, not a lookup.
        let mut checked = self.check_answer(rec, tid, response, false, via);
        if let (Ok(_), Some(d)) = (&checked, &response.delegation) {
            let id = scope::delegation_id(self.provider.as_ref(), d);
            if self.delegation_withdrawn(&id).await? {
                checked = self.check_answer(rec, tid, response, true, via);
            }
        }
        let (verdict, chain) = checked?;
        let mut verdict = self.check_decrypt_answerer(rec, verdict).await?;
        // Last: a source may be asked over the network, only for an answer that passed.
        let line = self
            .check_live_revocation(
                rec.transaction.operation,
                &response.ca_org_type,
                chain,
                &mut verdict,
            )
            .await?;
        Ok((verdict, line))
    }

    /// Records a verdict: `approved` keeps the state machine's rule (scanned → approved →
    /// verified), every step a compare-and-set, written with the usage record and the audit
    /// entry as one store transaction ([`crate::store::TransactionStore::record_answer`]: a
    /// crash leaves the answer wholly recorded or not at all); then the billing report.
    async fn record(
        &self,
        tid: &Tid,
        (state, patch, usage): Verdict,
        revocation: Option<String>,
    ) -> CResult<TransactionState> {
        let message = patch.message.clone().unwrap_or_default();
        let reason = match &revocation {
            Some(line) if message.is_empty() => line.clone(),
            Some(line) => format!("{message} ({line})"),
            None => message,
        };
        let verified = state == TransactionState::Verified;
        let (event, detail) = if verified {
            ("verified", reason)
        } else {
            let by = usage
                .as_ref()
                .map(|u| format!(" (by {}, certificate {})", u.cert_name, u.cert_sn))
                .unwrap_or_default();
            ("rejected", format!("{reason}{by}"))
        };
        let usage = usage.filter(|_| verified);
        let next = self
            .store
            .record_answer(AnswerWrite {
                tid,
                from: &[TransactionState::Scanned],
                via: verified.then_some(TransactionState::Approved),
                to: state,
                patch,
                usage: usage.clone(),
                audit: (self.now(), event, detail),
            })
            .await?;
        if let Some(u) = usage {
            self.bill(u);
        }
        Ok(next.transaction.state)
    }

    fn bill(&self, usage: UsageRecord) {
        if let Some(billing) = &self.billing {
            billing.report(usage);
        }
    }

    /// A refused answer: counted, not each written to the audit log (anyone can post
    /// answers); the audit keeps refusals of a certificate that verified but may not act.
    async fn refusal(&self, tid: &Tid, e: CeremonyError) -> CeremonyError {
        self.refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(%tid, code = %e.code(), "answer refused: {e}");
        if audited_refusal(e.code()) {
            self.audit(Some(tid), "refused", &format!("{}: {e}", e.code()))
                .await;
        }
        e
    }
}
