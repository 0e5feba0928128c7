//! Everything the platform acts on is signed (issue 16, finding 5): the binding covers the
//! answer's contents and QR profile, old-version answers are refused by name, and the
//! encryption certificate must come from the signing certificate's CA.

use super::*;
use crate::app::{Delegation, delegation};
use crate::protocol::ItemSignature;
use crate::qr::{Camr1, Vendor1};

fn code(r: CResult<TransactionState>) -> ErrorCode {
    r.unwrap_err().code()
}

/// An encrypt transaction scanned by the app: its tid and the app's honest answer.
fn encrypt_answer(w: &World) -> (Tid, Response) {
    let e = block_on(w.platform.start_encrypt()).unwrap();
    let (signed, request) = scan(w, &e);
    let r = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    (e.transaction.tid, r)
}

#[test]
fn an_answer_whose_contents_changed_after_signing_is_refused() {
    let w = world();
    let p = default_provider();
    let check = |tid: &Tid, honest: &Response, tampered: Response, what: &str| {
        assert_ne!(&tampered, honest, "{what}: nothing was changed");
        assert_eq!(
            code(block_on(w.platform.answer(tid, &tampered))),
            ErrorCode::SignatureInvalid,
            "{what}"
        );
        // The refusal left the transaction open: the honest answer still goes through, so
        // only the change was refused.
        assert_eq!(
            block_on(w.platform.answer(tid, honest)).unwrap(),
            TransactionState::Verified,
            "{what}"
        );
    };

    // The encryption certificate (a bid would be sealed to it).
    let (tid, honest) = encrypt_answer(&w);
    let mut swapped = honest.clone();
    if let Some(ev) = swapped.evidence.as_mut() {
        ev.encryption_certificate = Some(Bytes(w.stranger.enc_cert.der().to_vec()));
    }
    check(&tid, &honest, swapped, "encryption certificate");

    // A returned content key (the platform would open the bid with another key).
    let cek = [7u8; 16];
    let enc_key = w.wallet.enc_cert.public_key().unwrap();
    let items = vec![EncryptedKeyItem {
        id: "bid".into(),
        recipient_cert_sn: w.wallet.enc_cert.serial_hex(),
        encrypted_key: Bytes(
            p.sm2_encrypt(&enc_key, &cek, Sm2CiphertextForm::Asn1)
                .unwrap(),
        ),
    }];
    let d = block_on(w.platform.start_decrypt(items)).unwrap();
    let (signed, request) = scan(&w, &d);
    let honest = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    let OperationPayload::Decrypt { platform_key, .. } = &request.payload else {
        panic!("not a decrypt request");
    };
    let platform_key = PublicKey::from_spki_der(platform_key).unwrap();
    let mut swapped = honest.clone();
    if let Some(ev) = swapped.evidence.as_mut() {
        ev.decrypted_keys[0].encrypted_to_platform = Bytes(
            p.sm2_encrypt(&platform_key, &[9u8; 16], Sm2CiphertextForm::Asn1)
                .unwrap(),
        );
    }
    check(&d.transaction.tid, &honest, swapped, "returned key");
    let keys = block_on(w.platform.finish_decrypt(&d.transaction.tid)).unwrap();
    assert_eq!(keys[0].1.as_slice(), &cek[..]);

    // A refused item (拒签) of a batch: its reason, or which item was refused.
    let items: Vec<SignItem> = (1..=2)
        .map(|i| SignItem {
            id: format!("doc{i}"),
            name: format!("投标文件{i}.pdf"),
            hash: Bytes(p.digest(HashAlgorithm::Sm3, format!("document {i}").as_bytes())),
            hash_algorithm: crate::protocol::HashAlgorithm::Sm3,
            format: SignFormat::Hash,
        })
        .collect();
    let s = block_on(w.platform.start_sign(items)).unwrap();
    let (signed, request) = scan(&w, &s);
    let refuse = [ItemRejection {
        item_id: "doc2".into(),
        reason: "金额有误".into(),
    }];
    let honest = w
        .app
        .approve(&w.wallet, &signed, &request, &refuse)
        .unwrap();
    let mut reworded = honest.clone();
    if let Some(ev) = reworded.evidence.as_mut() {
        ev.item_rejections[0].reason = "同意放弃投标".into();
    }
    assert_eq!(
        code(block_on(w.platform.answer(&s.transaction.tid, &reworded))),
        ErrorCode::SignatureInvalid,
        "refusal reason"
    );
    let mut dropped = honest.clone();
    if let Some(ev) = dropped.evidence.as_mut() {
        ev.item_rejections.clear();
        // The refused item "signed" with the other item's signature cannot verify anyway;
        // what matters is that the refusal itself cannot be removed silently.
        let sig = ev.signatures[1].clone();
        ev.signatures.push(ItemSignature {
            item_id: "doc2".into(),
            ..sig
        });
    }
    assert_eq!(
        code(block_on(w.platform.answer(&s.transaction.tid, &dropped))),
        ErrorCode::SignatureInvalid,
        "refusal dropped"
    );
    check(
        &s.transaction.tid,
        &honest,
        {
            let mut added = honest.clone();
            if let Some(ev) = added.evidence.as_mut() {
                ev.item_rejections.insert(
                    0,
                    ItemRejection {
                        item_id: "doc1".into(),
                        reason: "不签".into(),
                    },
                );
                ev.signatures.retain(|s| s.item_id != "doc1");
            }
            added
        },
        "refusal added",
    );

    // The delegation (证书授权) and the operator: swapped for a wider one, or dropped.
    let now = test_clock();
    let grant = |ops: Vec<Operation>, staff: &str| {
        delegation::issue(
            p.as_ref(),
            &w.wallet,
            &Delegation {
                org_cert_sn: w.wallet.sign_cert.serial_hex(),
                staff_name: staff.into(),
                staff_id: None,
                trading_systems: vec![SystemCode::parse("C1100005553").unwrap()],
                operations: ops,
                not_before: now - 60,
                not_after: now + 3600,
            },
        )
        .unwrap()
    };
    let login_only = grant(vec![Operation::Login], "李四");
    let wider = grant(vec![Operation::Login, Operation::Decrypt], "王五");
    let l = block_on(w.platform.start_login()).unwrap();
    let (signed, request) = scan(&w, &l);
    let honest = w
        .app
        .approve_as_staff(&w.wallet, &login_only, &signed, &request, now)
        .unwrap();
    let tid = &l.transaction.tid;
    for (what, tampered) in [
        (
            "delegation swapped",
            Response {
                delegation: Some(wider.clone()),
                operator: Some("王五".into()),
                ..honest.clone()
            },
        ),
        (
            "delegation dropped",
            Response {
                delegation: None,
                operator: None,
                ..honest.clone()
            },
        ),
        (
            "operator renamed",
            Response {
                operator: Some("王五".into()),
                ..honest.clone()
            },
        ),
    ] {
        assert_eq!(
            code(block_on(w.platform.answer(tid, &tampered))),
            ErrorCode::SignatureInvalid,
            "{what}"
        );
    }
    check(
        tid,
        &honest,
        Response {
            delegation: None,
            ..honest.clone()
        },
        "delegation removed, operator kept",
    );
    assert_eq!(
        block_on(w.store.usage())
            .unwrap()
            .last()
            .unwrap()
            .operator
            .as_deref(),
        Some("李四")
    );

    // The QR profile, rewritten together with the transport it arrives through.
    let l = block_on(w.platform.start_login()).unwrap();
    let (signed, request) = scan(&w, &l);
    let honest = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    assert_eq!(honest.qr_profile, "camr1");
    let rewritten = Response {
        qr_profile: "vendor1".into(),
        ..honest.clone()
    };
    assert_eq!(
        code(block_on(w.platform.answer_via(
            &Vendor1,
            &l.transaction.tid,
            &rewritten
        ))),
        ErrorCode::SignatureInvalid
    );
    check(&l.transaction.tid, &honest, rewritten, "QR profile");
}

#[test]
fn an_answer_signed_in_the_old_camr1_binding_is_refused_with_its_own_code() {
    let w = world();
    let p = default_provider();
    let key = w.wallet.sign_key.clone();
    let resign = |r: &mut Response, message: &[u8]| {
        let sig = p.sign(&key, &SignatureScheme::sm2(), message).unwrap();
        let ev = r.evidence.as_mut().unwrap();
        let binding = ev
            .signatures
            .iter_mut()
            .find(|s| s.item_id == BINDING_ITEM)
            .unwrap();
        binding.signature_value = Bytes(sig);
    };
    // An approval signed the camr1 way: `camr1-answer:<request hash>`.
    let l = block_on(w.platform.start_login()).unwrap();
    let (signed, request) = scan(&w, &l);
    let tid = &l.transaction.tid;
    let mut old = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    let hash = old.request_hash.clone();
    resign(&mut old, format!("camr1-answer:{hash}").as_bytes());
    let e = block_on(w.platform.answer(tid, &old)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AnswerVersionUnsupported, "{e}");
    assert_eq!(e.code().default_http_status(), 400);
    assert!(e.to_string().contains("update the app"), "{e}");
    // A rejection signed the camr1 way: `camr1-reject:<request hash>:<reason>`.
    let mut old_no = w
        .app
        .reject(&w.wallet, &signed, &request, "不是我")
        .unwrap();
    resign(
        &mut old_no,
        format!("camr1-reject:{hash}:不是我").as_bytes(),
    );
    assert_eq!(
        code(block_on(w.platform.answer(tid, &old_no))),
        ErrorCode::AnswerVersionUnsupported
    );
    // A signature over anything else is a plain invalid signature, not an old app.
    let mut forged = old.clone();
    resign(
        &mut forged,
        format!("camr1-answer:{}", "0".repeat(64)).as_bytes(),
    );
    assert_eq!(
        code(block_on(w.platform.answer(tid, &forged))),
        ErrorCode::SignatureInvalid
    );
    // Nothing of that ended the transaction; the current app's answer is accepted.
    let current = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    let message = crate::protocol::binding::binding_message(p.as_ref(), &current);
    assert!(message.starts_with(format!("camr2-answer:{hash}:").as_bytes()));
    assert_eq!(
        block_on(w.platform.answer(tid, &current)).unwrap(),
        TransactionState::Verified
    );
}

#[test]
fn an_encryption_certificate_of_another_ca_with_the_same_subject_is_refused() {
    let w = world();
    let p = default_provider();
    // A platform that trusts both CAs: the other CA's certificate is valid on its own.
    let mut trust = TrustStore::new();
    for wallet in [&w.wallet, &w.stranger] {
        trust.add(wallet.chain.last().unwrap().clone());
    }
    let platform = Platform::new(
        p.clone(),
        PlatformIdentity {
            system_code: SystemCode::parse("C1100005553").unwrap(),
            system_name: "移动数字证书(CA)互认模拟测试系统".into(),
            request_uri_prefix: "https://platform.example/camr/v1/request/".into(),
            response_uri: "https://platform.example/camr/v1/response".into(),
        },
        p.generate_key(KeyAlgorithm::Sm2).unwrap(),
        None,
        Arc::new(MemoryStore::new()),
        Arc::new(ChainValidator::new(p.clone(), trust)),
    )
    .unwrap();
    let start = || {
        let e = block_on(platform.start_encrypt()).unwrap();
        let signed = block_on(platform.request(&e.transaction.tid)).unwrap();
        let request = verify_signed_request(p.as_ref(), &signed, &platform.public_key()).unwrap();
        (e.transaction.tid, signed, request)
    };
    // Same subject DN, other CA: only the trust anchor tells them apart.
    assert_eq!(
        w.stranger.enc_cert.x509().tbs_certificate().subject(),
        w.wallet.sign_cert.x509().tbs_certificate().subject()
    );
    assert_ne!(w.stranger.chain.last(), w.wallet.chain.last());
    let (tid, signed, request) = start();
    let mut r = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    if let Some(ev) = r.evidence.as_mut() {
        ev.encryption_certificate = Some(Bytes(w.stranger.enc_cert.der().to_vec()));
        // The other CA's intermediate, so its certificate validates.
        ev.certificate_chain
            .extend(w.stranger.chain.iter().map(|c| Bytes(c.der().to_vec())));
    }
    // Signed by the holder's own key: the binding is fine, the pair is not.
    w.app.sign_binding(&w.wallet, &mut r).unwrap();
    let e = block_on(platform.answer(&tid, &r)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::EncryptionCertMismatch, "{e}");
    assert!(e.to_string().contains("trust anchor"), "{e}");
    // The holder's own pair, through the same platform, is accepted.
    let honest = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    block_on(platform.answer(&tid, &honest)).unwrap();
    let enc = block_on(platform.finish_encrypt(&tid)).unwrap();
    assert_eq!(enc.encryption_certificate.0, w.wallet.enc_cert.der());
}

#[test]
fn a_vendor_code_tag_on_the_answer_uri_does_not_override_the_signed_profile() {
    let w = world();
    // SOFTCA certificates are platform-only (本平台证书): the vendor code alone takes them.
    let platform = w.platform.clone().with_entitlement(Entitlement {
        platform_only_vendors: vec!["SOFTCA".into()],
        ..Entitlement::default()
    });
    let l = block_on(platform.start_login()).unwrap();
    let signed = block_on(platform.request(&l.transaction.tid)).unwrap();
    let request =
        verify_signed_request(default_provider().as_ref(), &signed, &platform.public_key())
            .unwrap();
    let tid = &l.transaction.tid;
    // Scanned the national code (camr1), posted with `?qr=vendor1`: refused, not let through.
    let national = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
    let e = block_on(platform.answer_via(&Vendor1, tid, &national)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::QrProfileMismatch, "{e}");
    assert!(e.to_string().contains("`camr1`"), "{e}");
    // Through its own transport it is what it is: a platform-only certificate on the
    // national code.
    assert_eq!(
        code(block_on(platform.answer_via(&Camr1, tid, &national))),
        ErrorCode::CertNotEntitled
    );
    // A vendor-code answer posted to the national URI (no tag): refused the same way.
    let vendor_app = w.app.clone().with_qr_profile(&Vendor1);
    let vendor = vendor_app
        .approve(&w.wallet, &signed, &request, &[])
        .unwrap();
    assert_eq!(vendor.qr_profile, "vendor1");
    assert_eq!(
        code(block_on(platform.answer(tid, &vendor))),
        ErrorCode::QrProfileMismatch
    );
    // The app that scanned the vendor code, through the vendor code's transport: accepted.
    assert_eq!(
        block_on(platform.answer_via(&Vendor1, tid, &vendor)).unwrap(),
        TransactionState::Verified
    );
}
