#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::crypto::{KeyAlgorithm, PrivateKey, SignatureScheme, default_provider};
use crate::pki::{Certificate, ChainValidator, TrustStore};
use crate::softca::{Holder, SoftCa, wallet_files};
use lopdf::dictionary;

struct Wallet {
    _dir: tempfile::TempDir,
    root: Certificate,
    chain: Vec<Certificate>,
    cert: Certificate,
    key: PrivateKey,
}

fn wallet(alg: KeyAlgorithm, name: &str) -> Wallet {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(default_provider(), &dir.path().join("ca"), alg, "Seal CA").unwrap();
    let holder = Holder::personal(name);
    let w = dir.path().join("w");
    ca.issue(&holder, b"1234", &w, 30).unwrap();
    let read = |n: &str| std::fs::read(w.join(n)).unwrap();
    Wallet {
        root: ca.root().clone(),
        chain: Certificate::parse_all(&read(wallet_files::CHAIN)).unwrap(),
        cert: Certificate::parse_one(&read(wallet_files::SIGN_CERT)).unwrap(),
        key: PrivateKey::from_bytes(&read(wallet_files::SIGN_KEY), Some(b"1234")).unwrap(),
        _dir: dir,
    }
}

fn validator(roots: &[&Certificate]) -> ChainValidator {
    let mut t = TrustStore::new();
    for r in roots {
        t.add((*r).clone());
    }
    ChainValidator::new(default_provider(), t)
}

fn at(page: u32) -> SealOptions {
    let mut o = SealOptions::new(Placement::Page {
        page,
        rect: [400.0, 100.0, 120.0, 120.0],
    });
    o.reason = Some("投标文件签章".into());
    o
}

fn seal(w: &Wallet, pdf: &[u8], options: &SealOptions) -> Vec<u8> {
    seal_with_key(
        default_provider().as_ref(),
        pdf,
        &w.cert,
        &w.key,
        &w.chain,
        options,
    )
    .unwrap()
}

#[test]
fn seals_verify_for_sm2_rsa_and_p256_and_keep_earlier_bytes() {
    let p = default_provider();
    let pdf = sample_pdf(2).unwrap();
    for alg in [KeyAlgorithm::Sm2, KeyAlgorithm::Rsa2048, KeyAlgorithm::P256] {
        let w = wallet(alg, "张三");
        let sealed = seal(&w, &pdf, &at(2));
        assert_eq!(&sealed[..pdf.len()], pdf.as_slice(), "{alg:?}");
        let report = verify(
            p.as_ref(),
            &sealed,
            Some(&validator(&[&w.root])),
            crate::qr::unix_now(),
        )
        .unwrap();
        assert_eq!(report.seals.len(), 1, "{alg:?}");
        let s = &report.seals[0];
        assert!(
            s.valid && s.integrity && s.covers_whole_file,
            "{alg:?}: {s:?}"
        );
        assert_eq!(s.trusted, Some(true));
        assert_eq!(s.field_name, "Seal1");
        assert_eq!(s.reason.as_deref(), Some("投标文件签章"));
        assert_eq!(s.signer.as_ref().unwrap().name, "张三");
        assert_eq!(s.signing_time, None, "PAdES: no signingTime");
        assert_eq!(
            s.widgets,
            vec![SealWidget {
                page: 2,
                rect: [400.0, 100.0, 520.0, 220.0]
            }]
        );
        let expected = if alg == KeyAlgorithm::Sm2 {
            "ETSI.CAdES.detached"
        } else {
            "adbe.pkcs7.detached"
        };
        assert_eq!(s.sub_filter, expected);
        assert!(report.all_valid);
        assert!(report.human().contains("[VALID]"));
        // Without roots: integrity only.
        let r = verify(p.as_ref(), &sealed, None, crate::qr::unix_now()).unwrap();
        assert_eq!(r.seals[0].trusted, None);
        assert!(r.seals[0].valid);
        // Roots of another CA: untrusted.
        let other = wallet(alg, "李四");
        let r = verify(
            p.as_ref(),
            &sealed,
            Some(&validator(&[&other.root])),
            crate::qr::unix_now(),
        )
        .unwrap();
        assert_eq!(r.seals[0].trusted, Some(false));
        assert!(
            r.seals[0]
                .chain_error
                .as_deref()
                .unwrap()
                .starts_with("CERT_UNTRUSTED")
        );
        assert!(!r.all_valid);
    }
}

#[test]
fn a_second_seal_keeps_the_first_valid() {
    let p = default_provider();
    let a = wallet(KeyAlgorithm::P256, "张三");
    let b = wallet(KeyAlgorithm::Sm2, "李四");
    let once = seal(&a, &sample_pdf(1).unwrap(), &at(1));
    let twice = seal(&b, &once, &at(1));
    assert_eq!(&twice[..once.len()], once.as_slice());
    let report = verify(
        p.as_ref(),
        &twice,
        Some(&validator(&[&a.root, &b.root])),
        crate::qr::unix_now(),
    )
    .unwrap();
    assert_eq!(report.revisions, 3);
    let [first, second] = report.seals.as_slice() else {
        panic!("{report:?}")
    };
    assert_eq!(
        (first.field_name.as_str(), second.field_name.as_str()),
        ("Seal1", "Seal2")
    );
    assert!(
        first.valid && !first.covers_whole_file && first.later_revisions == 1,
        "{first:?}"
    );
    assert!(!first.modified_after_signing, "{:?}", first.modifications);
    assert!(second.valid && second.covers_whole_file);
    assert!(report.all_valid);
}

#[test]
fn every_page_is_one_signature_with_a_widget_on_each_page() {
    let w = wallet(KeyAlgorithm::Rsa2048, "张三");
    let options = SealOptions::new(Placement::EveryPage {
        rect: [500.0, 50.0, 60.0, 60.0],
    });
    let sealed = seal(&w, &sample_pdf(3).unwrap(), &options);
    let report = verify(
        default_provider().as_ref(),
        &sealed,
        None,
        crate::qr::unix_now(),
    )
    .unwrap();
    assert_eq!(report.seals.len(), 1);
    let pages: Vec<u32> = report.seals[0].widgets.iter().map(|w| w.page).collect();
    assert_eq!(pages, vec![1, 2, 3]);
    assert!(report.seals[0].valid);
}

#[test]
fn a_changed_signed_byte_breaks_integrity() {
    let w = wallet(KeyAlgorithm::Sm2, "张三");
    let mut sealed = seal(&w, &sample_pdf(1).unwrap(), &at(1));
    let at_text = crate::seal::pdf::find(&sealed, b"camr test page 1", 0).unwrap();
    sealed[at_text + 5] = b'X';
    let report = verify(
        default_provider().as_ref(),
        &sealed,
        None,
        crate::qr::unix_now(),
    )
    .unwrap();
    let s = &report.seals[0];
    assert!(!s.integrity && !s.valid);
    assert!(
        s.integrity_error
            .as_deref()
            .unwrap()
            .contains("messageDigest"),
        "{s:?}"
    );
}

#[test]
fn an_appended_change_of_page_content_is_reported() {
    let w = wallet(KeyAlgorithm::P256, "张三");
    let sealed = seal(&w, &sample_pdf(1).unwrap(), &at(1));
    let mut inc = lopdf::IncrementalDocument::load_from(sealed.as_slice()).unwrap();
    let page = inc.get_prev_documents().get_pages()[&1];
    let content = inc.get_prev_documents().get_page_contents(page)[0];
    inc.opt_clone_object_to_new_document(content).unwrap();
    let stream = inc
        .new_document
        .get_object_mut(content)
        .unwrap()
        .as_stream_mut()
        .unwrap();
    stream.set_plain_content(b"BT /F1 24 Tf 72 760 Td (price 1 yuan) Tj ET\n".to_vec());
    let mut changed = Vec::new();
    inc.save_to(&mut changed).unwrap();
    let report = verify(
        default_provider().as_ref(),
        &changed,
        None,
        crate::qr::unix_now(),
    )
    .unwrap();
    let s = &report.seals[0];
    assert!(s.integrity, "the signed revision itself is intact");
    assert!(s.modified_after_signing && !s.valid, "{s:?}");
    assert!(
        s.modifications[0].contains("stream"),
        "{:?}",
        s.modifications
    );
    assert!(report.human().contains("MODIFIED AFTER SIGNING"));
}

#[test]
fn malformed_encrypted_and_empty_pdfs_get_clear_errors() {
    let p = default_provider();
    let pdf = sample_pdf(1).unwrap();
    let prep =
        |bytes: &[u8]| prepare(p.as_ref(), bytes, PublicKeyAlgorithm::Sm2, &at(1)).unwrap_err();
    assert_eq!(prep(b"hello").code(), ErrorCode::PdfMalformed);
    assert_eq!(prep(b"").code(), ErrorCode::PdfMalformed);
    assert_eq!(prep(&pdf[..pdf.len() / 2]).code(), ErrorCode::PdfMalformed);
    assert_eq!(
        verify(p.as_ref(), &pdf[..pdf.len() / 2], None, 0)
            .unwrap_err()
            .code(),
        ErrorCode::PdfMalformed
    );
    // No pages.
    let mut doc = lopdf::Document::load_mem(&pdf).unwrap();
    let pages = doc
        .catalog()
        .unwrap()
        .get(b"Pages")
        .unwrap()
        .as_reference()
        .unwrap();
    let d = doc.get_dictionary_mut(pages).unwrap();
    d.set("Kids", Vec::<lopdf::Object>::new());
    d.set("Count", 0);
    let mut empty = Vec::new();
    doc.save_to(&mut empty).unwrap();
    let e = prep(&empty);
    assert_eq!(e.code(), ErrorCode::PdfMalformed);
    assert!(e.to_string().contains("no pages"), "{e}");
    // Encrypted (RC4, empty user password).
    let mut doc = lopdf::Document::load_mem(&pdf).unwrap();
    doc.trailer.set(
        "ID",
        vec![
            lopdf::Object::string_literal("0123456789abcdef"),
            lopdf::Object::string_literal("0123456789abcdef"),
        ],
    );
    let state = lopdf::EncryptionState::try_from(lopdf::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: "",
        key_length: 128,
        permissions: lopdf::Permissions::all(),
    });
    let state = state.unwrap();
    doc.encrypt(&state).unwrap();
    let mut enc = Vec::new();
    doc.save_to(&mut enc).unwrap();
    assert_eq!(prep(&enc).code(), ErrorCode::PdfEncrypted);
    assert_eq!(
        verify(p.as_ref(), &enc, None, 0).unwrap_err().code(),
        ErrorCode::PdfEncrypted
    );
    // Page out of range, empty rectangle.
    assert_eq!(
        prep_at(&pdf, 5, [1.0, 1.0, 10.0, 10.0]).code(),
        ErrorCode::InputMalformed
    );
    assert_eq!(
        prep_at(&pdf, 1, [1.0, 1.0, 0.0, 10.0]).code(),
        ErrorCode::InputMalformed
    );
}

fn prep_at(pdf: &[u8], page: u32, rect: [f32; 4]) -> SealError {
    let options = SealOptions::new(Placement::Page { page, rect });
    prepare(
        default_provider().as_ref(),
        pdf,
        PublicKeyAlgorithm::Rsa,
        &options,
    )
    .unwrap_err()
}

#[test]
fn hash_first_signs_only_the_attributes_and_refuses_a_too_large_signature() {
    let p = default_provider();
    let w = wallet(KeyAlgorithm::Sm2, "张三");
    let prepared = prepare(
        p.as_ref(),
        &sample_pdf(1).unwrap(),
        PublicKeyAlgorithm::Sm2,
        &at(1),
    )
    .unwrap();
    assert_eq!(prepared.hash, crate::crypto::HashAlgorithm::Sm3);
    let [(s0, e0), (s1, e1)] = prepared.digest_input_ranges;
    let mut both = prepared.bytes[s0..e0].to_vec();
    both.extend_from_slice(&prepared.bytes[s1..e1]);
    assert_eq!(
        prepared.digest,
        p.digest(crate::crypto::HashAlgorithm::Sm3, &both)
    );
    let mut seen = Vec::new();
    let cms = sign_prepared(p.as_ref(), &prepared, &w.cert, &w.chain, |attrs| {
        seen = attrs.to_vec();
        // The app's side: SM2 over Z ‖ DER(attrs).
        Ok(p.sign(&w.key, &SignatureScheme::sm2(), attrs)?)
    })
    .unwrap();
    assert_eq!(
        seen,
        signed_attributes(p.as_ref(), &prepared, &w.cert).unwrap()
    );
    let sealed = embed(prepared.clone(), &cms).unwrap();
    assert!(verify(p.as_ref(), &sealed, None, 0).unwrap().all_valid);
    let e = embed(prepared, &vec![0x30; DEFAULT_RESERVED + 1]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::PdfSignatureTooLarge);
    // Wrong key kind for the prepared file.
    let rsa = wallet(KeyAlgorithm::Rsa2048, "李四");
    let prepared = prepare(
        p.as_ref(),
        &sample_pdf(1).unwrap(),
        PublicKeyAlgorithm::Sm2,
        &at(1),
    )
    .unwrap();
    assert!(signed_attributes(p.as_ref(), &prepared, &rsa.cert).is_err());
}

#[test]
fn pdf_dates_are_utc() {
    assert_eq!(pdf::pdf_date(0), "D:19700101000000Z");
    assert_eq!(pdf::pdf_date(1_767_225_600), "D:20260101000000Z");
    assert_eq!(pdf::pdf_date(951_825_599), "D:20000229115959Z");
}

use crate::crypto::PublicKeyAlgorithm;
use crate::protocol::ErrorCode;

#[test]
fn an_expired_signer_certificate_is_reported() {
    let w = wallet(KeyAlgorithm::P256, "张三");
    let sealed = seal(&w, &sample_pdf(1).unwrap(), &at(1));
    let later = w.cert.validity().1 + 86_400;
    let report = verify(
        default_provider().as_ref(),
        &sealed,
        Some(&validator(&[&w.root])),
        later,
    )
    .unwrap();
    let s = &report.seals[0];
    assert!(s.integrity && !s.valid && s.trusted == Some(false), "{s:?}");
    assert!(
        s.chain_error
            .as_deref()
            .unwrap()
            .starts_with("CERT_EXPIRED"),
        "{s:?}"
    );
}

#[test]
fn a_pdf_certified_with_no_changes_allowed_is_refused() {
    let pdf = sample_pdf(1).unwrap();
    let mut doc = lopdf::Document::load_mem(&pdf).unwrap();
    let sig = doc.add_object(dictionary! {
        "Type" => "Sig",
        "Reference" => vec![lopdf::Object::Dictionary(dictionary! {
            "TransformMethod" => "DocMDP",
            "TransformParams" => dictionary! { "P" => 1 },
        })],
    });
    doc.catalog_mut()
        .unwrap()
        .set("Perms", dictionary! { "DocMDP" => sig });
    let mut certified = Vec::new();
    doc.save_to(&mut certified).unwrap();
    let e = prepare(
        default_provider().as_ref(),
        &certified,
        PublicKeyAlgorithm::Rsa,
        &at(1),
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PdfLocked);
}

#[test]
fn damaged_sealed_files_never_panic() {
    let p = default_provider();
    let w = wallet(KeyAlgorithm::P256, "张三");
    let sealed = seal(&w, &sample_pdf(2).unwrap(), &at(1));
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..400 {
        let mut bytes = sealed.clone();
        match i % 4 {
            0 => bytes.truncate((next() as usize) % bytes.len()),
            1 => {
                for _ in 0..8 {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] = next() as u8;
                }
            }
            2 => {
                // Damage digits (offsets, lengths, /ByteRange numbers).
                let digits: Vec<usize> = (0..bytes.len())
                    .filter(|&i| bytes[i].is_ascii_digit())
                    .collect();
                for _ in 0..4 {
                    let at = digits[(next() as usize) % digits.len()];
                    bytes[at] = b'0' + (next() % 10) as u8;
                }
            }
            _ => {
                let at = (next() as usize) % bytes.len();
                bytes.insert(at, b' ');
            }
        }
        // Errors are fine; panics are not.
        let _ = verify(p.as_ref(), &bytes, None, 0);
        let _ = prepare(p.as_ref(), &bytes, PublicKeyAlgorithm::EcdsaP256, &at(1));
    }
}

#[test]
fn straddle_and_keyword_seals_are_one_signature_with_several_widgets() {
    let p = default_provider();
    let w = wallet(KeyAlgorithm::Sm2, "张三");
    let pdf = sample_pdf(3).unwrap();
    let straddle = SealOptions::new(Placement::Straddle {
        from: 1,
        to: 3,
        width: 90.0,
        height: 90.0,
        y: 300.0,
    });
    let sealed = seal(&w, &pdf, &straddle);
    let keyword = SealOptions::new(Placement::Keyword {
        keyword: "test page 2".into(),
        width: 60.0,
        height: 60.0,
    });
    let sealed = seal(&w, &sealed, &keyword);
    let report = verify(
        p.as_ref(),
        &sealed,
        Some(&validator(&[&w.root])),
        crate::qr::unix_now(),
    )
    .unwrap();
    assert!(report.all_valid, "{report:?}");
    let [s, k] = report.seals.as_slice() else {
        panic!("{report:?}")
    };
    let pages: Vec<u32> = s.widgets.iter().map(|w| w.page).collect();
    assert_eq!(pages, vec![1, 2, 3]);
    for wd in &s.widgets {
        assert!(
            (wd.rect[2] - 595.0).abs() < 0.01 && (wd.rect[2] - wd.rect[0] - 30.0).abs() < 0.01,
            "{wd:?}"
        );
    }
    assert_eq!(k.widgets.len(), 1);
    assert_eq!(k.widgets[0].page, 2);
    let missing = SealOptions::new(Placement::Keyword {
        keyword: "招标人盖章".into(),
        width: 60.0,
        height: 60.0,
    });
    let e = prepare(p.as_ref(), &pdf, PublicKeyAlgorithm::Sm2, &missing).unwrap_err();
    assert!(e.to_string().contains("招标人盖章"), "{e}");
}

fn report_of(pdf: &[u8], authorities: &[Certificate]) -> PdfReport {
    verify_with_authorities(
        default_provider().as_ref(),
        pdf,
        None,
        crate::qr::unix_now(),
        authorities,
    )
    .unwrap()
}

fn seal_named<'r>(r: &'r PdfReport, name: &str) -> &'r SealReport {
    r.seals.iter().find(|s| s.field_name == name).unwrap()
}

/// The `/F` flags of every widget of the field `name` in the newest revision.
fn widget_flags(pdf: &[u8], name: &str) -> Vec<i64> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let widgets = super::sign::tests_support::widgets_of(&doc, name);
    widgets
        .iter()
        .map(|id| {
            doc.get_dictionary(*id)
                .unwrap()
                .get(b"F")
                .unwrap()
                .as_i64()
                .unwrap()
        })
        .collect()
}

#[test]
fn the_signer_revokes_a_seal_which_is_hidden_and_reported_revoked() {
    let p = default_provider();
    let a = wallet(KeyAlgorithm::Sm2, "张三");
    let b = wallet(KeyAlgorithm::Rsa2048, "李四");
    let every = SealOptions::new(Placement::EveryPage {
        rect: [500.0, 50.0, 60.0, 60.0],
    });
    let one = seal(&a, &sample_pdf(2).unwrap(), &every);
    let two = seal(&b, &one, &at(1));
    assert_eq!(widget_flags(&two, "Seal1"), vec![4, 4]);
    let mut options = SealOptions::new(Placement::Invisible);
    options.reason = Some("撤章: 报价有误".into());
    let revoked = revoke_with_key(
        p.as_ref(),
        &two,
        &a.cert,
        &a.key,
        &a.chain,
        &[],
        "Seal1",
        &options,
    )
    .unwrap();
    assert_eq!(
        &revoked[..two.len()],
        two.as_slice(),
        "an incremental update"
    );
    assert_eq!(
        widget_flags(&revoked, "Seal1"),
        vec![2, 2],
        "hidden, not printed"
    );
    let r = report_of(&revoked, &[]);
    assert_eq!(r.seals.len(), 3);
    let first = seal_named(&r, "Seal1");
    assert!(
        first.integrity && !first.modified_after_signing,
        "{first:?}"
    );
    let rev = first.revoked.as_ref().expect("revoked");
    assert_eq!(rev.by_field, "Revoke1-Seal1");
    assert_eq!(rev.by.as_ref().unwrap().name, "张三");
    assert!(!rev.by_authority);
    assert_eq!(rev.reason.as_deref(), Some("撤章: 报价有误"));
    assert!(!first.valid);
    // The other bidder's seal and the revocation itself stay valid.
    let second = seal_named(&r, "Seal2");
    assert!(second.valid && second.revoked.is_none(), "{second:?}");
    let revocation = seal_named(&r, "Revoke1-Seal1");
    assert!(revocation.valid, "{revocation:?}");
    assert_eq!(revocation.revokes.as_deref(), Some("Seal1"));
    assert_eq!(
        revocation.widgets,
        vec![SealWidget {
            page: 1,
            rect: [0.0; 4]
        }]
    );
    assert!(!r.all_valid);
    let human = r.human();
    assert!(human.contains("Seal1 [REVOKED]"), "{human}");
    assert!(
        human.contains("REVOKED (撤章) by 张三 (signer) in Revoke1-Seal1"),
        "{human}"
    );
    // A revoked seal cannot be found twice under another name; an unknown one is named.
    let e = revoke_with_key(
        p.as_ref(),
        &revoked,
        &a.cert,
        &a.key,
        &a.chain,
        &[],
        "Seal9",
        &options,
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InputMalformed);
    assert!(e.to_string().contains("`Seal9`"), "{e}");
}

#[test]
fn only_the_signer_or_an_authority_may_revoke() {
    let p = default_provider();
    let a = wallet(KeyAlgorithm::P256, "张三");
    let other = wallet(KeyAlgorithm::P256, "王五");
    let sealed = seal(&a, &sample_pdf(1).unwrap(), &at(1));
    let options = SealOptions::new(Placement::Invisible);
    let revoke = |w: &Wallet, authorities: &[Certificate]| {
        revoke_with_key(
            p.as_ref(),
            &sealed,
            &w.cert,
            &w.key,
            &w.chain,
            authorities,
            "Seal1",
            &options,
        )
    };
    let e = revoke(&other, &[]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::PdfRevokeDenied);
    assert!(
        e.to_string().contains("王五") && e.to_string().contains("张三"),
        "{e}"
    );
    // A configured authority may.
    let by_authority = revoke(&other, std::slice::from_ref(&other.cert)).unwrap();
    let r = report_of(&by_authority, std::slice::from_ref(&other.cert));
    let rev = seal_named(&r, "Seal1").revoked.as_ref().expect("revoked");
    assert!(rev.by_authority);
    // A verifier that does not know that authority does not honour the revocation: the
    // hidden widget is a modification of a signed seal, named as a refused revocation.
    let r = report_of(&by_authority, &[]);
    let s = seal_named(&r, "Seal1");
    assert!(
        s.revoked.is_none() && !s.valid && s.modified_after_signing,
        "{s:?}"
    );
    assert!(
        s.modifications
            .iter()
            .any(|m| m.contains("tried to revoke")),
        "{:?}",
        s.modifications
    );
    assert!(
        s.modifications
            .iter()
            .any(|m| m.contains("widget of a signed signature field")),
        "{:?}",
        s.modifications
    );
    // The same forged by hand (prepare_revoke has no check; verify does).
    let prepared = prepare_revoke(
        p.as_ref(),
        &sealed,
        other.key.algorithm(),
        "Seal1",
        &options,
    )
    .unwrap();
    let cms = sign_prepared(p.as_ref(), &prepared, &other.cert, &other.chain, |attrs| {
        Ok(p.sign(&other.key, &SignatureScheme::EcdsaP256Sha256, attrs)?)
    })
    .unwrap();
    let forged = embed(prepared, &cms).unwrap();
    let s = report_of(&forged, &[]).seals.remove(0);
    assert!(s.revoked.is_none() && !s.valid, "{s:?}");
}

#[test]
fn an_unsigned_update_hiding_a_widget_of_a_seal_is_reported() {
    let w = wallet(KeyAlgorithm::Rsa2048, "张三");
    let every = SealOptions::new(Placement::EveryPage {
        rect: [500.0, 50.0, 60.0, 60.0],
    });
    let sealed = seal(&w, &sample_pdf(2).unwrap(), &every);
    let doc = lopdf::Document::load_mem(&sealed).unwrap();
    let kid = super::sign::tests_support::widgets_of(&doc, "Seal1")[1];
    let mut inc = lopdf::IncrementalDocument::load_from(sealed.as_slice()).unwrap();
    inc.opt_clone_object_to_new_document(kid).unwrap();
    inc.new_document
        .get_object_mut(kid)
        .unwrap()
        .as_dict_mut()
        .unwrap()
        .set("F", 2);
    let mut changed = Vec::new();
    inc.save_to(&mut changed).unwrap();
    let s = report_of(&changed, &[]).seals.remove(0);
    assert!(s.integrity && !s.valid && s.revoked.is_none(), "{s:?}");
    assert!(
        s.modifications[0].contains("widget of a signed signature field"),
        "{:?}",
        s.modifications
    );
}

#[test]
fn a_seal_made_before_a_revocation_stays_valid_at_its_recorded_signing_time() {
    use crate::pki::{Crl, RecordedSignature, TimeEvidence};
    use crate::softca::RevocationReason;
    let p = default_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut ca = crate::softca::test_ca(dir.path(), "CA");
    let holder = Holder::personal("张三");
    let w = dir.path().join("w");
    ca.issue(&holder, b"1234", &w, 30).unwrap();
    let read = |n: &str| std::fs::read(w.join(n)).unwrap();
    let cert = Certificate::parse_one(&read(wallet_files::SIGN_CERT)).unwrap();
    let chain = Certificate::parse_all(&read(wallet_files::CHAIN)).unwrap();
    let key = PrivateKey::from_bytes(&read(wallet_files::SIGN_KEY), Some(b"1234")).unwrap();
    let prepared = prepare(
        p.as_ref(),
        &sample_pdf(1).unwrap(),
        PublicKeyAlgorithm::Sm2,
        &at(1),
    )
    .unwrap();
    let mut signature = Vec::new();
    let cms = sign_prepared(p.as_ref(), &prepared, &cert, &chain, |attrs| {
        signature = p.sign(&key, &SignatureScheme::sm2(), attrs)?;
        Ok(signature.clone())
    })
    .unwrap();
    let sealed = embed(prepared, &cms).unwrap();
    let now = crate::qr::unix_now();
    let signed_at = now - 1200;
    ca.revoke(
        &cert.serial_hex(),
        RevocationReason::KeyCompromise,
        now - 600,
    )
    .unwrap();
    let crl: Crl = ca.crl(now - 60).unwrap();
    let v = validator(&[ca.root()]).with_crls(vec![crl]);
    let record = |at: i64, sig: &[u8]| RecordedSignature {
        signature: sig.to_vec(),
        at,
        reference: "tid T, audit #7".into(),
    };
    // No record: judged now, revoked.
    let r = verify_with_records(p.as_ref(), &sealed, Some(&v), now, &[], &[]).unwrap();
    let s = &r.seals[0];
    assert!(!s.valid);
    assert!(
        s.chain_error
            .as_deref()
            .unwrap()
            .starts_with("CERT_REVOKED"),
        "{s:?}"
    );
    assert_eq!(
        s.validation_time.as_ref().unwrap().evidence,
        TimeEvidence::VerificationTime
    );
    // The platform's record of the signing time, before the revocation: valid then.
    let r = verify_with_records(
        p.as_ref(),
        &sealed,
        Some(&v),
        now,
        &[],
        &[record(signed_at, &signature)],
    )
    .unwrap();
    let s = &r.seals[0];
    assert!(s.valid, "{}", r.human());
    let t = s.validation_time.as_ref().unwrap();
    assert_eq!(
        (t.at, t.evidence),
        (signed_at, TimeEvidence::PlatformRecord)
    );
    assert_eq!(t.reference.as_deref(), Some("tid T, audit #7"));
    assert!(
        s.status_now.as_deref().unwrap().starts_with("CERT_REVOKED"),
        "{s:?}"
    );
    assert!(
        r.human().contains("validated at the signing time"),
        "{}",
        r.human()
    );
    // A record after the revocation does not help; a record of another signature is ignored.
    let r = verify_with_records(
        p.as_ref(),
        &sealed,
        Some(&v),
        now,
        &[],
        &[record(now - 300, &signature)],
    )
    .unwrap();
    assert!(!r.seals[0].valid);
    assert!(
        r.seals[0]
            .chain_error
            .as_deref()
            .unwrap()
            .starts_with("CERT_REVOKED")
    );
    let r = verify_with_records(
        p.as_ref(),
        &sealed,
        Some(&v),
        now,
        &[],
        &[record(signed_at, b"other")],
    )
    .unwrap();
    assert!(!r.seals[0].valid);
    assert_eq!(
        r.seals[0].validation_time.as_ref().unwrap().evidence,
        TimeEvidence::VerificationTime
    );
}
