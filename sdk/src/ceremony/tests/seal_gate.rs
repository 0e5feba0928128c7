//! A PDF seal and its revocation through the ceremony; the decrypt gate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

/// A PDF seal through the ceremony (签章 with documents): the platform prepares the PDF, the
/// app signs CAdES attributes over the byte-range digest, the platform embeds; then the
/// same holder revokes it (撤章) through `start_revoke_seal`.
#[cfg(feature = "pdf")]
#[test]
fn a_pdf_seal_and_its_revocation_through_the_ceremony() {
    use crate::protocol::SignFormat;
    use crate::seal::{self, Placement, SealOptions};
    let w = world();
    let p = default_provider();
    let pdf = seal::sample_pdf(2).unwrap();
    let options = SealOptions::new(Placement::Page {
        page: 1,
        rect: [400.0, 100.0, 100.0, 100.0],
    });
    let prepared = seal::prepare(
        p.as_ref(),
        &pdf,
        crate::crypto::PublicKeyAlgorithm::Sm2,
        &options,
    )
    .unwrap();
    let item = SignItem {
        id: "pdf".into(),
        name: "投标文件.pdf".into(),
        hash: Bytes(prepared.digest.clone()),
        hash_algorithm: crate::protocol::HashAlgorithm::Sm3,
        format: SignFormat::CadesAttributes,
    };
    let s = block_on(w.platform.start_sign(vec![item.clone()])).unwrap();
    let (signed, request) = scan(&w, &s);
    // An app that signs the bare hash instead of the attributes is refused.
    let mut raw = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    let good = raw.clone();
    let ev = raw.evidence.as_mut().unwrap();
    let sig = ev
        .signatures
        .iter_mut()
        .find(|s| s.item_id == "pdf")
        .unwrap();
    sig.signature_value = Bytes(
        p.sign(&w.wallet.sign_key, &SignatureScheme::sm2(), &item.hash)
            .unwrap(),
    );
    assert_eq!(
        block_on(w.platform.answer(&s.transaction.tid, &raw))
            .unwrap_err()
            .code(),
        ErrorCode::SignatureInvalid
    );
    block_on(w.platform.answer(&s.transaction.tid, &good)).unwrap();
    let r = block_on(w.platform.finish_sign(&s.transaction.tid)).unwrap();
    let done = &r.signed[0];
    let cert = Certificate::from_der(&r.certificate).unwrap();
    let chain: Vec<Certificate> = r
        .chain
        .iter()
        .map(|c| Certificate::from_der(c).unwrap())
        .collect();
    assert_eq!(
        done.signed_attributes.as_ref().unwrap().0,
        seal::signed_attributes(p.as_ref(), &prepared, &cert).unwrap()
    );
    let cms = seal::sign_prepared(p.as_ref(), &prepared, &cert, &chain, |_| {
        Ok(done.signature.0.clone())
    })
    .unwrap();
    let sealed = seal::embed(prepared, &cms).unwrap();
    let report = seal::verify(p.as_ref(), &sealed, None, crate::qr::unix_now()).unwrap();
    assert!(report.all_valid, "{}", report.human());
    assert_eq!(
        report.seals[0].signer.as_ref().unwrap().cert_sn,
        r.subject.cert_sn
    );

    // 撤章 by the same holder.
    let target = seal::signer_of(p.as_ref(), &sealed, "Seal1").unwrap();
    let key_alg = target.public_key().unwrap().algorithm();
    let prepared = seal::prepare_revoke(
        p.as_ref(),
        &sealed,
        key_alg,
        "Seal1",
        &SealOptions::new(Placement::Invisible),
    )
    .unwrap();
    let item = SignItem {
        format: SignFormat::CadesAttributes,
        ..SignItem::hash(
            "revoke",
            "投标文件.pdf",
            prepared.digest.clone(),
            seal::hash_for(key_alg),
        )
    };
    let s = block_on(w.platform.start_revoke_seal(
        "Seal1",
        "投标文件.pdf",
        Some("报价有误"),
        vec![item],
    ))
    .unwrap();
    let (signed, request) = scan(&w, &s);
    // A revocation is signed whole: refusing its item is no answer.
    let partial = w
        .app
        .approve(
            &w.wallet,
            &signed,
            &request,
            &[ItemRejection {
                item_id: "revoke".into(),
                reason: "no".into(),
            }],
        )
        .unwrap();
    assert_eq!(
        block_on(w.platform.answer(&s.transaction.tid, &partial))
            .unwrap_err()
            .code(),
        ErrorCode::InputMalformed
    );
    let answer = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    block_on(w.platform.answer(&s.transaction.tid, &answer)).unwrap();
    let r = block_on(w.platform.finish_revoke_signature(&s.transaction.tid)).unwrap();
    let revoker = Certificate::from_der(&r.certificate).unwrap();
    assert!(seal::may_revoke(&target, &revoker, &[]));
    assert!(!seal::may_revoke(&target, &w.stranger.sign_cert, &[]));
    let cms = seal::sign_prepared(p.as_ref(), &prepared, &revoker, &[], |_| {
        Ok(r.signed[0].signature.0.clone())
    })
    .unwrap();
    let revoked = seal::embed(prepared, &cms).unwrap();
    let report = seal::verify(p.as_ref(), &revoked, None, crate::qr::unix_now()).unwrap();
    let first = report
        .seals
        .iter()
        .find(|s| s.field_name == "Seal1")
        .unwrap();
    assert!(first.revoked.is_some(), "{}", report.human());

    // A request for an SM3 seal cannot be signed with an RSA wallet.
    let mismatched = SignItem {
        format: SignFormat::CadesAttributes,
        ..SignItem::hash(
            "x",
            "a.pdf",
            vec![7; 32],
            crate::protocol::HashAlgorithm::Sha256,
        )
    };
    let s = block_on(w.platform.start_sign(vec![mismatched])).unwrap();
    let (signed, request) = scan(&w, &s);
    let e = w
        .app
        .approve(&w.wallet, &signed, &request, &[])
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnsupportedAlgorithm);
    assert!(e.to_string().contains("SM2 goes with SM3"), "{e}");
}

/// A bid-opening gate as a platform would write one: an opening time and the certificate
/// serials of the bidders who signed in (签到).
#[derive(Debug, Default)]
struct OpeningGate {
    opens_at: AtomicI64,
    signed_in: std::sync::Mutex<Vec<String>>,
}

impl DecryptPolicy for OpeningGate {
    fn check<'a>(
        &'a self,
        ctx: DecryptContext<'a>,
    ) -> crate::store::BoxFuture<'a, Result<(), DecryptRefusal>> {
        Box::pin(async move {
            let opens_at = self.opens_at.load(Ordering::SeqCst);
            if ctx.now < opens_at {
                return Err(DecryptRefusal::BidOpeningNotReached {
                    opens_at,
                    now: ctx.now,
                });
            }
            let who = ctx.bidder.unwrap_or("an unnamed bidder").to_string();
            match ctx.bidder {
                Some(b) if self.signed_in.lock().unwrap().iter().any(|s| s == b) => Ok(()),
                _ => Err(DecryptRefusal::BidderNotSignedIn { who }),
            }
        })
    }

    fn check_answer<'a>(
        &'a self,
        _: DecryptContext<'a>,
        answered_by: &'a UsageRecord,
    ) -> crate::store::BoxFuture<'a, Result<(), DecryptRefusal>> {
        Box::pin(async move {
            if self
                .signed_in
                .lock()
                .unwrap()
                .contains(&answered_by.cert_sn)
            {
                return Ok(());
            }
            Err(DecryptRefusal::AnsweredByAnother {
                cert_sn: answered_by.cert_sn.clone(),
                name: answered_by.cert_name.clone(),
            })
        })
    }
}

#[test]
fn decrypt_waits_for_the_opening_time_and_the_bidders_sign_in() {
    use crate::envelope::{read_header, seal_stream};
    let w = world();
    let p = default_provider();
    let gate = Arc::new(OpeningGate::default());
    gate.opens_at
        .store(crate::qr::unix_now() + 3600, Ordering::SeqCst);
    let platform = w.platform.clone().with_decrypt_policy(gate.clone());
    let mut sealed = Vec::new();
    seal_stream(
        p.as_ref(),
        std::slice::from_ref(&w.wallet.enc_cert),
        &b"bid"[..],
        &mut sealed,
        &mut |_| {},
    )
    .unwrap();
    let header = read_header(p.as_ref(), &mut sealed.as_slice()).unwrap();
    let items: Vec<EncryptedKeyItem> = header
        .encrypted_keys
        .iter()
        .map(|(sn, k)| EncryptedKeyItem {
            id: "bid".into(),
            recipient_cert_sn: sn.clone(),
            encrypted_key: Bytes(k.clone()),
        })
        .collect();

    // The bidder signs in with the login QR; the platform records the certificate serial.
    let login = block_on(platform.start_login()).unwrap();
    let (signed, request) = scan(&w, &login);
    block_on(platform.answer(
        &login.transaction.tid,
        &w.app.approve(&w.wallet, &signed, &request, &[]).unwrap(),
    ))
    .unwrap();
    let bidder = block_on(platform.finish_login(&login.transaction.tid))
        .unwrap()
        .subject
        .cert_sn;

    // Before the opening time: refused, even for a signed-in bidder, and nothing starts.
    gate.signed_in.lock().unwrap().push(bidder.clone());
    let err = block_on(platform.start_decrypt_for(Some(&bidder), items.clone())).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BidOpeningNotReached, "{err}");
    assert!(err.to_string().contains("开标时间未到"), "{err}");
    // The default platform (no policy installed) is not gated.
    assert!(block_on(w.platform.start_decrypt(items.clone())).is_ok());

    // The time is reached, but this bidder has not signed in (or the caller names nobody).
    gate.opens_at
        .store(crate::qr::unix_now() - 1, Ordering::SeqCst);
    gate.signed_in.lock().unwrap().clear();
    let err = block_on(platform.start_decrypt_for(Some(&bidder), items.clone())).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BidderNotSignedIn, "{err}");
    assert!(err.to_string().contains(&bidder), "{err}");
    let err = block_on(platform.start_decrypt(items.clone())).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BidderNotSignedIn, "{err}");

    // Signed in and the time reached: the decrypt runs to the content key.
    gate.signed_in.lock().unwrap().push(bidder.clone());
    let d = block_on(platform.start_decrypt_for(Some(&bidder), items)).unwrap();
    let (signed, request) = scan(&w, &d);
    let answer = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    // Had the sign-in been withdrawn meanwhile, the answer is refused and changes nothing.
    gate.signed_in.lock().unwrap().clear();
    let err = block_on(platform.answer(&d.transaction.tid, &answer)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BidderNotSignedIn, "{err}");
    assert_eq!(
        block_on(platform.status(&d.transaction.tid)).unwrap().state,
        TransactionState::Scanned
    );
    gate.signed_in.lock().unwrap().push(bidder.clone());
    block_on(platform.answer(&d.transaction.tid, &answer)).unwrap();
    assert_eq!(
        block_on(platform.finish_decrypt(&d.transaction.tid))
            .unwrap()
            .len(),
        1
    );

    // Each refusal is audited, and the audit chain still verifies.
    let audit = block_on(w.store.audit()).unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.event == "decrypt-refused")
            .count(),
        3
    );
    verify_audit(&audit).unwrap();
}
