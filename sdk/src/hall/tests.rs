#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use super::*;
use crate::ceremony::{DecryptContext, DecryptPolicy, DecryptRefusal};
use crate::crypto::default_provider;
use crate::protocol::Bytes;
use crate::store::MemoryStore;

fn hall_on(store: Arc<MemoryStore>) -> Hall {
    Hall::new(default_provider(), store.clone(), store.clone(), store)
}

fn hall() -> Hall {
    hall_on(Arc::new(MemoryStore::new()))
}

fn items(seed: u8) -> Vec<EncryptedKeyItem> {
    vec![EncryptedKeyItem {
        id: "key1".into(),
        recipient_cert_sn: format!("0A{seed:02X}"),
        encrypted_key: Bytes(vec![seed; 48]),
    }]
}

fn submission(name: &str, seed: u8) -> Submission {
    Submission {
        name: name.into(),
        size: 1024,
        items: items(seed),
        made_by: None,
        made_by_ca: String::new(),
    }
}

fn tender(id: &str, opens_at: i64) -> Tender {
    Tender {
        id: id.into(),
        project: format!("项目 {id}"),
        opens_at,
    }
}

fn a_tid() -> Tid {
    Tid::parse("C11000055530123456789abcdef0123456789abcdef").unwrap()
}

fn now() -> i64 {
    crate::time::unix_now()
}

fn ctx(items: &[EncryptedKeyItem], now: i64) -> DecryptContext<'_> {
    DecryptContext {
        bidder: None,
        items,
        now,
    }
}

#[tokio::test]
async fn tenders_are_created_once_listed_and_moved() {
    let h = hall();
    let a = h.create_tender(tender("ZB-1", 100)).await.unwrap();
    assert_eq!(h.create_tender(a.clone()).await.unwrap(), a, "idempotent");
    let e = h.create_tender(tender("ZB-1", 200)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::TenderExists);
    h.create_tender(tender("ZB-2", 300)).await.unwrap();
    let ids: Vec<String> = h
        .tenders()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["ZB-1", "ZB-2"]);
    assert_eq!(h.set_opens_at("ZB-1", 150).await.unwrap().opens_at, 150);
    assert_eq!(h.tender("ZB-1").await.unwrap().opens_at, 150);
    let e = h.tender("ZB-9").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::TenderNotFound);
    for bad in ["", " padded", "a/b", "a\\b", "tab\there"] {
        let e = h.create_tender(tender(bad, 1)).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InputMalformed, "{bad:?}");
    }
}

#[tokio::test]
async fn a_configured_tender_keeps_its_time_after_start_and_moves_when_fixed() {
    let h = hall();
    let first = h
        .ensure_tender("P", "某工程", Opening::AfterStart(600))
        .await
        .unwrap();
    assert!((first.opens_at - now() - 600).abs() <= 2);
    // A restart (or a second instance) a minute later keeps the time the first start set.
    let again = h
        .ensure_tender("P", "某工程", Opening::AfterStart(60))
        .await
        .unwrap();
    assert_eq!(again.opens_at, first.opens_at);
    let fixed = h
        .ensure_tender("P", "某工程", Opening::At(1_780_000_000))
        .await
        .unwrap();
    assert_eq!(fixed.opens_at, 1_780_000_000);
    assert_eq!(h.tender("P").await.unwrap().opens_at, 1_780_000_000);
}

#[tokio::test]
async fn an_opening_time_kept_before_tenders_were_records_is_still_read() {
    let store = Arc::new(MemoryStore::new());
    Versioned::create(
        store.as_ref(),
        LEGACY_OPENING,
        "老项目",
        1_700_000_000i64,
        i64::MAX,
    )
    .await
    .unwrap();
    let h = hall_on(store);
    let t = h.tender("老项目").await.unwrap();
    assert_eq!((t.project.as_str(), t.opens_at), ("老项目", 1_700_000_000));
    let kept = h
        .ensure_tender("老项目", "老项目", Opening::AfterStart(60))
        .await
        .unwrap();
    assert_eq!(kept.opens_at, 1_700_000_000);
    let moved = h.set_opens_at("老项目", 1_800_000_000).await.unwrap();
    assert_eq!(h.tender("老项目").await.unwrap(), moved);
}

#[tokio::test]
async fn each_tender_closes_submission_at_its_own_opening_time() {
    let h = hall();
    let t = now();
    h.create_tender(tender("open", t - 1)).await.unwrap();
    h.create_tender(tender("later", t + 3600)).await.unwrap();
    let e = h
        .submit("open", submission("late", 1), t)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BidSubmissionClosed);
    // The second the opening starts is already late.
    let e = h
        .submit("later", submission("edge", 2), t + 3600)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BidSubmissionClosed);
    let bid = h.submit("later", submission("ok", 3), t).await.unwrap();
    assert_eq!(bid.tender, "later");
    assert_eq!(bid.recipients, ["0a03"]);
    let view = h.view("later", t).await.unwrap();
    assert_eq!((view.bids.len(), view.opened), (1, false));
    assert!(h.view("open", t).await.unwrap().bids.is_empty());
    let e = h.submit("nope", submission("x", 4), t).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::TenderNotFound);
}

#[tokio::test]
async fn empty_duplicate_and_unknown_bids_are_refused() {
    let h = hall();
    let t = now();
    h.create_tender(tender("A", t + 60)).await.unwrap();
    h.create_tender(tender("B", t + 60)).await.unwrap();
    let mut empty = submission("empty", 1);
    empty.items.clear();
    let e = h.submit("A", empty, t).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::EnvelopeMalformed);
    h.submit("A", submission("one", 5), t).await.unwrap();
    // The same content keys again, even to another tender.
    let e = h.submit("B", submission("again", 5), t).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::BidExists);
    let e = h.bid("ffffffffffff").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::BidNotFound);
    let tid = a_tid();
    let e = h.add_sign_in("ffffffffffff", &tid, t).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::BidNotFound);
}

#[tokio::test]
async fn the_gate_opens_each_bid_at_its_tenders_time_and_only_after_a_sign_in() {
    let h = hall();
    let t = now();
    h.create_tender(tender("early", t + 10)).await.unwrap();
    h.create_tender(tender("late", t + 3600)).await.unwrap();
    h.submit("early", submission("e", 7), t).await.unwrap();
    h.submit("late", submission("l", 8), t).await.unwrap();
    let (early, late) = (items(7), items(8));
    // Past the early tender's opening, before the late one's.
    let at = t + 20;
    match h.check(ctx(&late, at)).await {
        Err(DecryptRefusal::BidOpeningNotReached { opens_at, .. }) => {
            assert_eq!(opens_at, t + 3600)
        }
        other => panic!("{other:?}"),
    }
    match h.check(ctx(&early, at)).await {
        Err(DecryptRefusal::BidderNotSignedIn { who }) => assert!(who.contains("`e`"), "{who}"),
        other => panic!("{other:?}"),
    }
    // A decrypt of both bids waits for the later opening.
    let both: Vec<EncryptedKeyItem> = early.iter().chain(late.iter()).cloned().collect();
    assert!(matches!(
        h.check(ctx(&both, at)).await,
        Err(DecryptRefusal::BidOpeningNotReached { .. })
    ));
}

#[tokio::test]
async fn an_envelope_that_is_no_bid_is_refused_unless_free_decrypts_are_allowed() {
    let store = Arc::new(MemoryStore::new());
    let strange = items(9);
    let closed = hall_on(store.clone());
    assert_eq!(
        closed.check(ctx(&strange, now())).await,
        Err(DecryptRefusal::NotABid)
    );
    let free = hall_on(store).with_free_decrypts(true);
    assert_eq!(free.check(ctx(&strange, now())).await, Ok(()));
}

#[test]
fn a_sign_in_by_another_holder_than_the_bids_is_dropped() {
    let subject = |name: &str, uscc: &str| crate::pki::Subject {
        name: name.into(),
        organization: Some(name.into()),
        cert_type: crate::protocol::CertType::OrgCert,
        subject_type: crate::protocol::SubjectType::Org,
        identity_number: None,
        identity_type: None,
        identity_country: None,
        uscc: Some(uscc.into()),
        cert_sn: "0ABC".into(),
        issuer: "CA".into(),
        not_before: 0,
        not_after: i64::MAX,
    };
    let login = |s: crate::pki::Subject| LoginResult {
        tid: a_tid(),
        subject: s,
        certificate: Bytes(Vec::new()),
        ca_org_type: "CA01".into(),
        revocation_checked: true,
        revocation: None,
        verified_at: 5,
        registration: None,
    };
    let holder = subject("某某公司", "91350100M000100Y43");
    let mut bid = Bid {
        id: "b1".into(),
        tender: "T".into(),
        name: "n".into(),
        size: 1,
        recipients: Vec::new(),
        submitted_at: 1,
        holder: Some(BidHolder {
            name: holder.name.clone(),
            ca_org_type: "CA01".into(),
            identity: identity_of(&holder),
        }),
        signed_in: None,
        sign_ins: Vec::new(),
    };
    let own = sign_in_of(&bid, &login(holder.clone()), "t1").unwrap();
    assert_eq!((own.cert_sn.as_str(), own.signed_in_at), ("0abc", 5));
    let other = subject("某某公司", "91350100M000200Y43");
    assert!(sign_in_of(&bid, &login(other.clone()), "t2").is_none());
    // A bid whose holder is not known takes any holder's sign-in.
    bid.holder = None;
    assert!(sign_in_of(&bid, &login(other), "t3").is_some());
}
