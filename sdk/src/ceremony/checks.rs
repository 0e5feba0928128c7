//! The steps every answer passes before its operation's own check (`ops/`): state, tid,
//! request hash, certificate chain, binding signature, QR profile, entitlement, delegation
//! and seal-session binding. What they establish is a [`Checked`] answer.

use crate::crypto::{HashAlgorithm, PublicKey, SignatureScheme};
use crate::pki::{Certificate, KeyPurpose, Subject, ValidatedChain};
use crate::protocol::{
    Bytes, Evidence, RequestObject, Response, ResponseStatus, Tid, TransactionState, UsageRecord,
    binding,
};
use crate::qr::QrProfile;
use crate::store::{TxPatch, TxRecord};

use super::{BINDING_ITEM, CResult, CeremonyError, Platform, ops, scope};

/// An answer that passed the shared checks: who signed it, with which verified chain, for
/// which request.
pub(super) struct Checked<'a> {
    pub rec: &'a TxRecord,
    pub tid: &'a Tid,
    pub response: &'a Response,
    pub evidence: &'a Evidence,
    pub leaf: Certificate,
    pub intermediates: Vec<Certificate>,
    pub chain: ValidatedChain,
    pub key: PublicKey,
    pub scheme: SignatureScheme,
    pub subject: Subject,
    /// The intermediates as the app sent them (DER), for results that carry the chain.
    pub chain_der: Vec<Bytes>,
    pub request: RequestObject,
    pub now: i64,
}

/// What checking an answer decided: the state to move to, the patch, the usage to record.
pub(super) type Verdict = (TransactionState, TxPatch, Option<UsageRecord>);

impl Checked<'_> {
    /// The app's signature over item `item`, if it sent one.
    pub fn signature_of(&self, item: &str) -> Option<&[u8]> {
        self.evidence
            .signatures
            .iter()
            .find(|s| s.item_id == item)
            .map(|s| s.signature_value.as_ref())
    }

    /// Verifies the signature over `message` of item `item` with the signing certificate;
    /// returns the signature.
    pub fn verify(&self, p: &Platform, item: &str, message: &[u8]) -> CResult<Vec<u8>> {
        let sig = self
            .signature_of(item)
            .ok_or_else(|| CeremonyError::Incomplete(format!("no `{item}` signature")))?;
        p.provider
            .verify(&self.key, &self.scheme, message, sig)
            .map_err(|_| CeremonyError::SignatureInvalid {
                what: item.to_string(),
            })?;
        Ok(sig.to_vec())
    }

    /// The signing certificate, DER.
    pub fn certificate(&self) -> Bytes {
        Bytes(self.leaf.der().to_vec())
    }

    /// The usage record (per-use billing, 扫码报告) of this answer; `operator` from the
    /// verified delegation (证书授权), never from the app's word.
    fn usage(&self, p: &Platform, operator: Option<String>) -> UsageRecord {
        UsageRecord {
            trading_system_code: p.identity.system_code.clone(),
            trading_system_name: p.identity.system_name.clone(),
            cert_sn: self.subject.cert_sn.clone(),
            cert_name: self.subject.name.clone(),
            cert_type: self.subject.cert_type,
            public_key_algorithm: self.key.algorithm(),
            subject_type: self.subject.subject_type,
            usage_scene: self.rec.transaction.operation,
            tid: self.tid.clone(),
            used_at: self.now,
            ca_org_type: self.response.ca_org_type.clone(),
            operator,
            revocation_unknown: false,
        }
    }
}

impl Platform {
    /// Checks an answer: the shared steps, then its operation's own ([`ops::verify`]).
    /// Returns the verdict and the signer's validated chain (for the live revocation step).
    pub(super) fn check_answer(
        &self,
        rec: &TxRecord,
        tid: &Tid,
        r: &Response,
        delegation_withdrawn: bool,
        via: &dyn QrProfile,
    ) -> CResult<(Verdict, ValidatedChain)> {
        check_waiting(rec, tid, r)?;
        let c = self.check_signer(rec, tid, r)?;
        self.check_binding(&c, via)?;
        let operator = self.check_may_act(&c, via, delegation_withdrawn)?;
        let usage = c.usage(self, operator);
        if r.status == ResponseStatus::Rejected {
            // Who refused is kept with the transaction (and audited), not only the reason.
            let patch = TxPatch {
                ca_org_type: Some(r.ca_org_type.clone()),
                message: Some(r.reject_reason.clone().unwrap_or_default()),
                result: Some(serde_json::json!({ "rejectedBy": c.subject })),
                clear_secret: true,
            };
            return Ok(((TransactionState::Rejected, patch, Some(usage)), c.chain));
        }
        let (result, usage_counts) = ops::verify(self, &c)?;
        let patch = TxPatch {
            ca_org_type: Some(r.ca_org_type.clone()),
            result: Some(result),
            ..TxPatch::default()
        };
        let verdict = (
            TransactionState::Verified,
            patch,
            usage_counts.then_some(usage),
        );
        Ok((verdict, c.chain))
    }

    /// The certificate chain of the answer, validated for signing now, and the request.
    fn check_signer<'a>(
        &self,
        rec: &'a TxRecord,
        tid: &'a Tid,
        r: &'a Response,
    ) -> CResult<Checked<'a>> {
        let evidence = r.evidence.as_ref().ok_or_else(|| {
            CeremonyError::Incomplete("no evidence (even a rejection is signed)".into())
        })?;
        let leaf_der = evidence
            .certificate_chain
            .first()
            .ok_or_else(|| CeremonyError::Incomplete("no signing certificate".into()))?;
        let leaf = Certificate::from_der(leaf_der)?;
        let intermediates = evidence
            .certificate_chain
            .iter()
            .skip(1)
            .map(|c| Certificate::from_der(c))
            .collect::<Result<Vec<_>, _>>()?;
        let now = self.now();
        let chain = self
            .validator
            .validate(&leaf, &intermediates, KeyPurpose::Sign, now)?;
        let key = leaf.public_key()?;
        let request = rec
            .request
            .request_object()
            .map_err(|e| CeremonyError::Misuse(e.to_string()))?;
        Ok(Checked {
            rec,
            tid,
            response: r,
            evidence,
            scheme: SignatureScheme::default_for(key.algorithm()),
            subject: chain.subject.clone(),
            chain_der: evidence.certificate_chain.iter().skip(1).cloned().collect(),
            leaf,
            intermediates,
            chain,
            key,
            request,
            now,
        })
    }

    /// The binding signature (camr2) and the QR profile it names. The binding covers the
    /// request hash (checked equal to this transaction's) and the digest of everything else
    /// acted on: certificate, keys, refusals, delegation, operator, QR profile.
    fn check_binding(&self, c: &Checked<'_>, via: &dyn QrProfile) -> CResult<()> {
        let r = c.response;
        if let Err(e) = c.verify(
            self,
            BINDING_ITEM,
            &binding::binding_message(self.provider.as_ref(), r),
        ) {
            // A valid signature over the camr1 message: an app that predates the contents
            // digest. Tried only after the camr2 check failed, so current answers pay nothing.
            let legacy = c.signature_of(BINDING_ITEM).is_some_and(|sig| {
                self.provider
                    .verify(&c.key, &c.scheme, &binding::legacy_message(r), sig)
                    .is_ok()
            });
            return Err(if legacy {
                CeremonyError::AnswerVersionUnsupported
            } else {
                e
            });
        }
        // The signed profile decides, never the transport's tag alone.
        if r.qr_profile != via.id() {
            return Err(CeremonyError::QrProfileMismatch {
                signed: crate::crypto::truncate(&r.qr_profile, 20),
                via: via.id(),
            });
        }
        Ok(())
    }

    /// Whether the signer may act: entitlement, delegation scope and the seal-session
    /// binding — checked for a rejection as for an approval, since a refusal ends the
    /// transaction, so only someone who could have approved it may refuse it. Returns the
    /// operator of a delegated organisation certificate.
    fn check_may_act(
        &self,
        c: &Checked<'_>,
        via: &dyn QrProfile,
        delegation_withdrawn: bool,
    ) -> CResult<Option<String>> {
        let (r, operation) = (c.response, c.rec.transaction.operation);
        let anchor = c
            .chain
            .chain
            .last()
            .map(Certificate::der)
            .unwrap_or_default();
        if let Some(why) = self
            .entitlement
            .refusal(&r.ca_org_type, anchor, &c.subject, operation)
        {
            return Err(CeremonyError::NotEntitled(why));
        }
        if let Some(why) = self
            .entitlement
            .profile_refusal(&r.ca_org_type, via.national())
        {
            return Err(CeremonyError::NotEntitled(why));
        }
        let operator = scope::check_delegation(
            self.provider.as_ref(),
            &c.leaf,
            &c.subject,
            r,
            &self.identity.system_code,
            operation,
            c.now,
            delegation_withdrawn,
            self.entitlement
                .delegated_vendors
                .iter()
                .any(|v| v == &r.ca_org_type),
        )?;
        // A step of a seal session (签章会话): only the certificate that authorised it.
        if let Some(binding) = &c.request.session {
            let fingerprint = self.provider.digest(HashAlgorithm::Sha256, c.leaf.der());
            if fingerprint != binding.certificate_sha256.0 {
                return Err(CeremonyError::SessionMismatch(format!(
                    "session {} was authorised with another certificate",
                    binding.tid
                )));
            }
        }
        Ok(operator)
    }
}

/// The transaction waits for this answer: scanned (an answer to a code that was never
/// scanned is refused), and the answer names it, its operation and its request object.
fn check_waiting(rec: &TxRecord, tid: &Tid, r: &Response) -> CResult<()> {
    let state = rec.transaction.state;
    if state != TransactionState::Scanned {
        let why = match state {
            TransactionState::Created => {
                "the request object of this transaction was never fetched: scan the live \
                 QR code first"
            }
            _ => "the transaction is not waiting for an answer",
        };
        return Err(CeremonyError::NotScanned {
            tid: tid.to_string(),
            state,
            why,
        });
    }
    if &r.tid != tid {
        return Err(CeremonyError::TidMismatch {
            found: r.tid.to_string(),
            expected: tid.to_string(),
        });
    }
    if r.operation != rec.transaction.operation {
        return Err(CeremonyError::TidMismatch {
            found: r.operation.to_string(),
            expected: rec.transaction.operation.to_string(),
        });
    }
    if r.request_hash != rec.request_hash {
        return Err(CeremonyError::RequestHashMismatch);
    }
    Ok(())
}
