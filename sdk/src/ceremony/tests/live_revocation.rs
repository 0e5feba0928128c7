//! Live revocation in the answer pipeline: revoked and frozen refuse, unknown refuses unless
//! a login is soft-fail, and what the source said is recorded with the transaction, the
//! usage record and the audit entry.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;

use super::*;
use crate::pki::{
    RevocationError, RevocationEvidence, RevocationSource, RevocationStatus, SourceKind,
};

/// A source whose answer the test sets: `None` = it cannot tell. With `leaf_only`, it knows
/// only the holder's certificate (the one the test wallet signs with).
#[derive(Debug, Default)]
struct Dial(Mutex<Option<RevocationStatus>>, Mutex<Option<String>>);

impl Dial {
    fn set(&self, status: Option<RevocationStatus>) {
        *self.0.lock().unwrap() = status;
    }

    fn leaf_only(&self, serial: String) {
        *self.1.lock().unwrap() = Some(serial);
    }
}

impl RevocationSource for Dial {
    fn status(
        &self,
        cert: &Certificate,
        _issuer: &Certificate,
        now: i64,
    ) -> Result<RevocationEvidence, RevocationError> {
        let other = self.1.lock().unwrap().clone();
        let known = other.is_none_or(|leaf| leaf == cert.serial_hex());
        let status = (*self.0.lock().unwrap()).filter(|_| known).ok_or_else(|| {
            RevocationError::Unavailable {
                url: "http://ocsp.test/".into(),
                reason: "connection refused".into(),
            }
        })?;
        Ok(RevocationEvidence {
            source: SourceKind::Ocsp,
            status,
            url: Some("http://ocsp.test/".into()),
            this_update: now - 5,
            next_update: Some(now + 3600),
            produced_at: Some(now - 5),
            crl_number: None,
            signer: format!("responder for {}", cert.common_name()),
        })
    }
}

fn live(w: &World, login: LoginRevocation) -> (Platform, Arc<Dial>) {
    live_with(w, login, crate::pki::RevocationPolicy::Require)
}

fn live_with(
    w: &World,
    login: LoginRevocation,
    ca_certificates: crate::pki::RevocationPolicy,
) -> (Platform, Arc<Dial>) {
    let dial = Arc::new(Dial::default());
    let platform = w.platform.clone().with_revocation(LiveRevocation {
        source: dial.clone(),
        per_vendor: std::collections::HashMap::new(),
        login,
        ca_certificates,
    });
    (platform, dial)
}

/// Starts a login and answers it with the test wallet.
fn login(w: &World, p: &Platform) -> (Tid, Result<TransactionState, CeremonyError>) {
    let started = block_on(p.start_login()).unwrap();
    let tid = started.transaction.tid.clone();
    let signed = block_on(p.request(&tid)).unwrap();
    let request =
        verify_signed_request(default_provider().as_ref(), &signed, &p.public_key()).unwrap();
    let answer = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    let outcome = block_on(p.answer(&tid, &answer));
    (tid, outcome)
}

fn audit_details(w: &World, tid: &Tid) -> Vec<String> {
    block_on(w.store.audit())
        .unwrap()
        .into_iter()
        .filter(|a| a.tid.as_deref() == Some(tid.as_str()))
        .map(|a| format!("{} {}", a.event, a.detail))
        .collect()
}

#[test]
fn a_good_status_is_recorded_with_the_login_and_its_audit_entry() {
    let w = world();
    let (p, dial) = live(&w, LoginRevocation::Require);
    dial.set(Some(RevocationStatus::Good));
    let (tid, outcome) = login(&w, &p);
    assert_eq!(outcome.unwrap(), TransactionState::Verified);
    let result = block_on(p.finish_login(&tid)).unwrap();
    assert!(result.revocation_checked);
    let record = result.revocation.expect("the live check is recorded");
    assert_eq!(
        record.evidence.len(),
        2,
        "the holder's and the issuing CA's"
    );
    assert_eq!(record.evidence[0].source, SourceKind::Ocsp);
    assert!(record.unchecked.is_empty());
    assert!(record.revocation_unknown.is_none());
    let audit = audit_details(&w, &tid);
    assert!(
        audit
            .iter()
            .any(|d| d.starts_with("verified revocation: Ocsp by responder for")),
        "{audit:?}"
    );
    assert!(!block_on(w.store.usage()).unwrap()[0].revocation_unknown);
}

#[test]
fn a_revoked_or_frozen_certificate_is_refused_and_accepted_again_after_unfreezing() {
    let w = world();
    let (p, dial) = live(&w, LoginRevocation::SoftFail);
    let past = crate::qr::unix_now() - 60;
    dial.set(Some(RevocationStatus::Revoked {
        at: past,
        reason: Some(1),
    }));
    let (tid, outcome) = login(&w, &p);
    assert_eq!(outcome.unwrap_err().code(), ErrorCode::CertRevoked);
    assert_eq!(
        block_on(p.status(&tid)).unwrap().state,
        TransactionState::Scanned,
        "a refusal leaves the transaction open"
    );
    assert!(
        audit_details(&w, &tid)
            .iter()
            .any(|d| d.starts_with("refused CERT_REVOKED")),
        "the refusal of a verified holder is audited"
    );
    dial.set(Some(RevocationStatus::Frozen { at: past }));
    assert_eq!(login(&w, &p).1.unwrap_err().code(), ErrorCode::CertFrozen);
    // A revocation dated after now does not count yet.
    dial.set(Some(RevocationStatus::Frozen { at: past + 3600 }));
    assert_eq!(login(&w, &p).1.unwrap(), TransactionState::Verified);
    dial.set(Some(RevocationStatus::Good));
    assert_eq!(login(&w, &p).1.unwrap(), TransactionState::Verified);
    assert!(block_on(w.store.usage()).unwrap().len() == 2);
}

#[test]
fn an_unknown_status_refuses_a_login_under_require() {
    let w = world();
    let (p, _dial) = live(&w, LoginRevocation::Require);
    let (tid, outcome) = login(&w, &p);
    let e = outcome.unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevocationUnknown, "{e}");
    assert!(e.to_string().contains("connection refused"), "{e}");
    assert_eq!(
        block_on(p.status(&tid)).unwrap().state,
        TransactionState::Scanned
    );
    assert!(block_on(w.store.usage()).unwrap().is_empty());
}

#[test]
fn a_soft_fail_login_goes_through_recorded_as_revocation_unknown() {
    let w = world();
    let (p, _dial) = live(&w, LoginRevocation::SoftFail);
    let (tid, outcome) = login(&w, &p);
    assert_eq!(outcome.unwrap(), TransactionState::Verified);
    let result = block_on(p.finish_login(&tid)).unwrap();
    assert!(!result.revocation_checked);
    let unknown = result.revocation.unwrap().revocation_unknown.unwrap();
    assert!(unknown.contains("connection refused"), "{unknown}");
    let usage = block_on(w.store.usage()).unwrap();
    assert!(usage[0].revocation_unknown, "billed as unknown");
    assert!(
        audit_details(&w, &tid)
            .iter()
            .any(|d| d.starts_with("verified revocationUnknown:")),
        "{:?}",
        audit_details(&w, &tid)
    );
}

#[test]
fn soft_fail_is_for_logins_only_a_message_signature_is_refused() {
    let w = world();
    let (p, dial) = live(&w, LoginRevocation::SoftFail);
    let m = block_on(p.start_message_signature("投标报价：1,280,000.00 元")).unwrap();
    let tid = m.transaction.tid.clone();
    let signed = block_on(p.request(&tid)).unwrap();
    let request =
        verify_signed_request(default_provider().as_ref(), &signed, &p.public_key()).unwrap();
    let answer = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    let e = block_on(p.answer(&tid, &answer)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevocationUnknown, "{e}");
    // The CA's responder is back: the same answer now verifies.
    dial.set(Some(RevocationStatus::Good));
    assert_eq!(
        block_on(p.answer(&tid, &answer)).unwrap(),
        TransactionState::Verified
    );
    let r = block_on(p.finish_message_signature(&tid)).unwrap();
    assert_eq!(r.message, "投标报价：1,280,000.00 元");
}

#[test]
fn a_ca_certificate_without_a_status_is_listed_unchecked_or_refused_as_configured() {
    let w = world();
    let serial = w.wallet.sign_cert.serial_hex();
    let (p, dial) = live_with(
        &w,
        LoginRevocation::Require,
        crate::pki::RevocationPolicy::BestEffort,
    );
    dial.set(Some(RevocationStatus::Good));
    dial.leaf_only(serial.clone());
    let (tid, outcome) = login(&w, &p);
    assert_eq!(outcome.unwrap(), TransactionState::Verified);
    let result = block_on(p.finish_login(&tid)).unwrap();
    let record = result.revocation.unwrap();
    assert_eq!(record.evidence.len(), 1);
    assert_eq!(record.unchecked, vec!["Ceremony CA Issuing CA".to_string()]);
    assert!(!result.revocation_checked, "not every link had a status");
    assert!(
        audit_details(&w, &tid)
            .iter()
            .any(|d| d.contains("unchecked: Ceremony CA Issuing CA")),
        "{:?}",
        audit_details(&w, &tid)
    );
    // Required for CA certificates too: refused, naming the CA.
    let (p, dial) = live(&w, LoginRevocation::Require);
    dial.set(Some(RevocationStatus::Good));
    dial.leaf_only(serial);
    let e = login(&w, &p).1.unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevocationUnknown, "{e}");
    assert!(e.to_string().contains("Ceremony CA Issuing CA"), "{e}");
}

#[test]
fn a_vendors_own_order_is_used_for_its_answers() {
    let w = world();
    // The platform-wide source cannot tell; the test vendor's (the app says SOFTCA) can.
    let everyone = Arc::new(Dial::default());
    let softca = Arc::new(Dial::default());
    softca.set(Some(RevocationStatus::Frozen {
        at: crate::qr::unix_now() - 5,
    }));
    let p = w.platform.clone().with_revocation(LiveRevocation {
        source: everyone.clone(),
        per_vendor: [(
            "SOFTCA".to_string(),
            softca.clone() as Arc<dyn RevocationSource>,
        )]
        .into_iter()
        .collect(),
        login: LoginRevocation::Require,
        ca_certificates: crate::pki::RevocationPolicy::Require,
    });
    assert_eq!(login(&w, &p).1.unwrap_err().code(), ErrorCode::CertFrozen);
    softca.set(Some(RevocationStatus::Good));
    assert_eq!(login(&w, &p).1.unwrap(), TransactionState::Verified);
}
