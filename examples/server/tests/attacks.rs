//! Issue 16 — the reference server attacked as an anonymous client and as a second certificate
//! holder, over real HTTP on loopback. One test per finding of the issue; each attack is
//! refused with its code, and the legitimate party's counterpart still works.
//!
//! Each finding runs twice: the attacker on the victim's instance, and on a second instance
//! sharing the victim's data folder and SQLite database (`…_on_another_instance`): what
//! guards a transaction lives in the store, not in one process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use camr::app::Wallet;
use camr::envelope::seal_stream;
use camr::protocol::{Bytes, SignedRequest};
use camr_server::hall::{HallConfig, Opening};
use common::{Harness, assert_error, start_configured};
use serde_json::{Value, json};

/// A client with no cookies and no credentials: the attacker.
fn anonymous() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get_as(client: &reqwest::Client, base: &str, path: &str) -> (u16, Value) {
    let r = client.get(format!("{base}{path}")).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post_as(client: &reqwest::Client, base: &str, path: &str, body: &Value) -> (u16, Value) {
    let r = client
        .post(format!("{base}{path}"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Refused with `TX_NOT_OWNER` and nothing in `data`: the result envelope, or the interlink
/// envelope (HTTP 200, the code in `header`, as the predecessor's front end expects).
fn assert_refused_owner(path: &str, v: &Value) {
    let code = if v["header"].is_object() {
        &v["header"]["errorCode"]
    } else {
        &v["errorCode"]
    };
    assert_eq!(code, "TX_NOT_OWNER", "{path}: {v}");
    assert!(v["data"].is_null(), "{path}: {v}");
}

/// The victim's server after `configure`, and where the attacker goes: the same instance, or
/// (`two`) a second instance configured alike on the same data folder and SQLite database.
async fn setup(
    two: bool,
    configure: impl Fn(&mut camr_server::ServerConfig) + Clone + Send + 'static,
) -> (Harness, String) {
    let first = configure.clone();
    let h = start_configured(move |c, dir| {
        c.database_url = Some(dir.join("camr.db").display().to_string());
        first(c);
    })
    .await;
    if !two {
        let base = h.base.clone();
        return (h, base);
    }
    let db = h.dir.path().join("camr.db").display().to_string();
    let other = h
        .another_instance(move |c| {
            c.database_url = Some(db);
            configure(c);
        })
        .await;
    (h, other)
}

/// The hall taking bids for an hour (free decrypts on: the key-taking test decrypts an
/// envelope outside the opening too); [`open_now`] starts the opening.
fn open_hall(c: &mut camr_server::ServerConfig) {
    c.hall = HallConfig {
        project: "攻击测试项目".into(),
        opening: Opening::AfterStart(3600),
        free_decrypts: true,
    };
}

/// The bid-opening time is reached (for every instance on the store): bids are decrypted,
/// no more are taken.
async fn open_now(h: &Harness) {
    h.state
        .hall
        .set_opens_at(camr::qr::unix_now())
        .await
        .unwrap();
}

/// Runs `$body(two)` as two tests: on one instance, and with the attacker on another.
macro_rules! both_instances {
    ($one:ident, $other:ident, $body:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $one() {
            $body(false).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $other() {
            $body(true).await;
        }
    };
}

/// The bidder (the demo wallet, through `h`'s browser) signs in for `bid`; the sign-in's
/// answer to the start.
async fn sign_in(h: &Harness, bid: &str) -> Value {
    let (s, v) = h
        .post(&format!("/api/v1/hall/signin?bid={bid}"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, answered) = h.approve(v["data"]["qrText"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{answered}");
    v
}

/// 李四, a holder of another organisation with a certificate of the same CA: the competitor.
fn competitor(h: &Harness) -> Wallet {
    let dir = h.dir.path().join("competitor");
    let mut ca = camr::softca::SoftCa::open(h.provider.clone(), &h.data.join("ca")).unwrap();
    let mut holder = camr_server::demo::demo_holder();
    holder.name = "李四".into();
    holder.organization = Some("竞争对手有限公司".into());
    holder.uscc = Some("91110000MA01ABCD2X".into());
    ca.issue(&holder, b"654321", &dir, 30).unwrap();
    Wallet::open(&dir, b"654321").unwrap()
}

/// A phone holding `wallet` scans `qr` (through `client`) and answers: approves, or rejects
/// with `reject`.
async fn answer_as(h: &Harness, wallet: &Wallet, qr: &str, reject: Option<&str>) -> (u16, Value) {
    let (signed, request) = h.scan(qr).await;
    let response = match reject {
        None => h.app.approve(wallet, &signed, &request, &[]).unwrap(),
        Some(reason) => h.app.reject(wallet, &signed, &request, reason).unwrap(),
    };
    h.answer(&response).await
}

/// 张三's bid for the hall: an encrypt transaction gives his encryption certificate, the bid
/// is sealed to it and submitted with that transaction, so it is bound to him.
async fn submit_bound_bid(h: &Harness, plain: &[u8]) -> String {
    let (tid, qr) = h.start_tx(json!({"operation": "encrypt"})).await;
    let (s, v) = h.approve(&qr).await;
    assert_eq!(s, 200, "{v}");
    let mut sealed = Vec::new();
    seal_stream(
        h.provider.as_ref(),
        std::slice::from_ref(&h.wallet.enc_cert),
        plain,
        &mut sealed,
        &mut |_| {},
    )
    .unwrap();
    let (s, v) = h
        .upload(
            &format!("/api/v1/hall/bids?name=bid.camrbid&encryptTid={tid}"),
            sealed,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["holder"]["name"], "张三", "{v}");
    v["data"]["id"].as_str().unwrap().to_string()
}

// Finding 1: a tid read from a report or a shoulder gives an anonymous client nothing — not
// the report, the status, the result, the registration prefill, nor an account.
both_instances!(
    finding1_anonymous_client_reads_no_report_result_identity_or_account,
    finding1_anonymous_client_reads_no_report_result_identity_or_account_on_another_instance,
    anonymous_reads
);

async fn anonymous_reads(two: bool) {
    let (h, other) = setup(two, |_| {}).await;
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (s, v) = h.approve(&qr).await;
    assert_eq!(s, 200, "{v}");
    let a = anonymous();
    for path in [
        "/api/v1/reports/usage.csv?by=record",
        "/api/v1/reports/usage",
    ] {
        let (s, v) = get_as(&a, &other, path).await;
        assert_error(s, &v, 401, "UNAUTHORIZED");
    }
    for path in [
        format!("/api/v1/transactions/{tid}"),
        format!("/api/v1/transactions/{tid}/result"),
        format!("/api/v1/transactions/{tid}/verification"),
        format!("/api/v1/registrations/{tid}"),
    ] {
        let (s, v) = get_as(&a, &other, &path).await;
        assert_error(s, &v, 403, "TX_NOT_OWNER");
    }
    let (s, v) = post_as(
        &a,
        &other,
        "/api/v1/registrations",
        &json!({"tid": tid, "mobile": "13800000000", "email": "attacker@example.com"}),
    )
    .await;
    assert_error(s, &v, 403, "TX_NOT_OWNER");
    // Another transaction's owner credential opens nothing either.
    let (_, foreign_tx) = h
        .post("/api/v1/transactions", &json!({"operation": "login"}))
        .await;
    let foreign = foreign_tx["data"]["ownerToken"].as_str().unwrap();
    let r = a
        .get(format!("{other}/api/v1/transactions/{tid}/result"))
        .header("x-camr-owner", foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // The owner (the browser that started it) and the operator still can.
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["subject"]["name"], "张三");
    let r = a
        .get(format!("{}/api/v1/reports/usage.csv?by=record", h.base))
        .bearer_auth(h.state.ops.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains(&tid));
}

// Finding 1, bid secrecy end to end: only the party that started a decrypt, after the gate,
// gets the plaintext — exactly once; the content keys likewise, once, to one of two callers.
both_instances!(
    finding1_only_the_decrypts_owner_gets_the_plaintext_exactly_once,
    finding1_only_the_decrypts_owner_gets_the_plaintext_exactly_once_on_another_instance,
    plaintext_once
);

async fn plaintext_once(two: bool) {
    let (h, other) = setup(two, open_hall).await;
    let plain = "报价 1,280,000.00 元".as_bytes().to_vec();
    let bid = submit_bound_bid(&h, &plain).await;
    open_now(&h).await;
    sign_in(&h, &bid).await;
    let a = anonymous();
    // The attacker cannot start the bid's decrypt: the plaintext would go to them.
    let (s, v) = post_as(
        &a,
        &other,
        &format!("/api/v1/hall/decrypt?bid={bid}"),
        &json!({}),
    )
    .await;
    assert_error(s, &v, 403, "TX_NOT_OWNER");
    let (s, v) = h
        .post(&format!("/api/v1/hall/decrypt?bid={bid}"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    let (s, v) = h.approve(v["data"]["qrText"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{v}");
    for path in [
        format!("/api/v1/bidfiles/{tid}/plain"),
        format!("/api/v1/bidfiles/{tid}/progress"),
        format!("/api/v1/transactions/{tid}/result"),
        format!("/interlink/sweepcodeController/getDecryptInfo?tId={tid}"),
    ] {
        let (_, v) = get_as(&a, &other, &path).await;
        assert_refused_owner(&path, &v);
    }
    let (s, v) = post_as(
        &a,
        &other,
        &format!("/api/v1/bidfiles/{tid}/work"),
        &json!({}),
    )
    .await;
    assert_error(s, &v, 403, "TX_NOT_OWNER");
    let (s, opened, _) = h.download(&format!("/api/v1/bidfiles/{tid}/plain")).await;
    assert_eq!((s, opened), (200, plain));
    let (s, _, _) = h.download(&format!("/api/v1/bidfiles/{tid}/plain")).await;
    assert_ne!(s, 200, "the plaintext is handed out once");

    // Through the API: two calls at once for the content keys, one gets them.
    let keys = vec![
        serde_json::to_value(camr::protocol::EncryptedKeyItem {
            id: "k1".into(),
            recipient_cert_sn: h.wallet.enc_cert.serial_hex(),
            encrypted_key: camr::protocol::Bytes(
                h.provider
                    .sm2_encrypt(
                        &h.wallet.enc_cert.public_key().unwrap(),
                        b"0123456789abcdef",
                        camr::crypto::Sm2CiphertextForm::Asn1,
                    )
                    .unwrap(),
            ),
        })
        .unwrap(),
    ];
    let (tid, qr) = h
        .start_tx(json!({"operation": "decrypt", "keys": keys}))
        .await;
    let (s, v) = h.approve(&qr).await;
    assert_eq!(s, 200, "{v}");
    let path = format!("/api/v1/transactions/{tid}/result");
    let (one, two) = tokio::join!(h.get(&path), h.get(&path));
    let mut codes = [one.0, two.0];
    codes.sort_unstable();
    assert_eq!(codes, [200, 409], "{one:?} {two:?}");
    let refused = if one.0 == 409 { one.1 } else { two.1 };
    assert_eq!(refused["errorCode"], "TX_ALREADY_TAKEN", "{refused}");
}

// Finding 2: a competitor neither sees pending sign-in tids nor replaces or takes the
// bidder's sign-in; the bid's decrypt is the bidder's.
both_instances!(
    finding2_a_competitor_cannot_hijack_the_bidders_sign_in,
    finding2_a_competitor_cannot_hijack_the_bidders_sign_in_on_another_instance,
    sign_in_hijack
);

async fn sign_in_hijack(two: bool) {
    let (h, other) = setup(two, open_hall).await;
    let rival = competitor(&h);
    let bid = submit_bound_bid(&h, b"bid of zhang san").await;
    open_now(&h).await;
    // The bidder's sign-in QR is pending: the hall does not publish its tid.
    let (s, mine) = h
        .post(&format!("/api/v1/hall/signin?bid={bid}"), &json!({}))
        .await;
    assert_eq!(s, 200, "{mine}");
    let mine_tid = mine["data"]["tid"].as_str().unwrap();
    let (_, view) = get_as(&anonymous(), &other, "/api/v1/hall").await;
    assert!(!view.to_string().contains(mine_tid), "{view}");
    // The competitor starts a sign-in for the bid and answers it with his own certificate:
    // the login verifies, but it is not the bid's holder, so it is not recorded.
    let attacker = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let (s, theirs) = post_as(
        &attacker,
        &other,
        &format!("/api/v1/hall/signin?bid={bid}"),
        &json!({}),
    )
    .await;
    assert_eq!(s, 200, "{theirs}");
    let (s, v) = answer_as(&h, &rival, theirs["data"]["qrText"].as_str().unwrap(), None).await;
    assert_eq!(s, 200, "{v}");
    let (_, view) = h.get("/api/v1/hall").await;
    let b = view["data"]["bids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == bid)
        .unwrap()
        .clone();
    assert!(b["signedIn"].is_null(), "{b}");
    // The bidder answers his own sign-in: recorded, and it stays his.
    let (s, v) = h.approve(mine["data"]["qrText"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{v}");
    let (_, view) = h.get("/api/v1/hall").await;
    let b = view["data"]["bids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == bid)
        .unwrap()
        .clone();
    assert_eq!(b["signedIn"]["name"], "张三", "{b}");
    assert_eq!(b["signIns"].as_array().unwrap().len(), 1, "{b}");
    // The competitor cannot start the bid's decrypt (he owns no sign-in of it).
    let (s, v) = post_as(
        &attacker,
        &other,
        &format!("/api/v1/hall/decrypt?bid={bid}"),
        &json!({}),
    )
    .await;
    assert_error(s, &v, 403, "TX_NOT_OWNER");
}

// Finding 3: another certificate holder cannot reject the bidder's decrypt; the bidder can,
// and the rejection names who rejected.
both_instances!(
    finding3_another_holder_cannot_reject_someone_elses_decrypt,
    finding3_another_holder_cannot_reject_someone_elses_decrypt_on_another_instance,
    foreign_rejection
);

async fn foreign_rejection(two: bool) {
    let (h, other) = setup(two, open_hall).await;
    let rival = competitor(&h);
    let bid = submit_bound_bid(&h, b"bid").await;
    open_now(&h).await;
    sign_in(&h, &bid).await;
    let (s, v) = h
        .post(&format!("/api/v1/hall/decrypt?bid={bid}"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    let qr = v["data"]["qrText"].as_str().unwrap().to_string();
    // The rival's phone posts its rejection (to the other instance, when there is one).
    let (signed, request) = h.scan(&qr).await;
    let rejection = h.app.reject(&rival, &signed, &request, "放弃解密").unwrap();
    let (s, v) = post_as(
        &anonymous(),
        &other,
        "/camr/v1/response",
        &serde_json::to_value(&rejection).unwrap(),
    )
    .await;
    assert_error(s, &v, 403, "BIDDER_NOT_SIGNED_IN");
    let (_, tx) = h.get(&format!("/api/v1/transactions/{tid}")).await;
    assert_eq!(
        tx["data"]["state"], "scanned",
        "the decrypt stays open: {tx}"
    );
    // The bidder himself may decline; the record says it was him.
    let (s, v) = answer_as(&h, &h.wallet, &qr, Some("放弃解密")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["state"], "rejected");
    let audit = h.state.store.audit().await.unwrap();
    let rejected = audit
        .iter()
        .find(|e| e.event == "rejected" && e.tid.as_deref() == Some(tid.as_str()))
        .unwrap();
    assert!(rejected.detail.contains("张三"), "{}", rejected.detail);
}

// Finding 7: a tid alone mints no live QR code, and an answer to a code nobody fetched is
// refused (a stale photo of a QR cannot be revived by answering directly).
both_instances!(
    finding7_a_tid_gives_no_live_code_and_unfetched_requests_take_no_answer,
    finding7_a_tid_gives_no_live_code_and_unfetched_requests_take_no_answer_on_another_instance,
    live_code
);

async fn live_code(two: bool) {
    let (h, other) = setup(two, |_| {}).await;
    let (tid, _qr) = h.start_tx(json!({"operation": "encrypt"})).await;
    let a = anonymous();
    for path in [
        format!("/api/v1/transactions/{tid}/qr.txt"),
        format!("/api/v1/transactions/{tid}/qr.png"),
        format!("/api/v1/transactions/{tid}/qr.svg"),
        format!("/api/v1/transactions/{tid}/events"),
        format!("/interlink/sweepcodeController/getQRCodeContent?tId={tid}"),
        format!("/interlink/sweepcodeController/getScanInfo?tId={tid}"),
    ] {
        let (_, v) = get_as(&a, &other, &path).await;
        assert_refused_owner(&path, &v);
    }
    let (s, text, _) = h
        .download(&format!("/api/v1/transactions/{tid}/qr.txt"))
        .await;
    assert_eq!(s, 200, "the owner sees the live code");
    camr::qr::parse(&String::from_utf8(text).unwrap()).unwrap();
    // The attacker knows the request object (e.g. from an earlier capture) but nobody
    // fetched it with a live code: his answer is refused.
    let parsed = camr::protocol::Tid::parse(&tid).unwrap();
    let rec = h.state.store.get(&parsed).await.unwrap().unwrap();
    let signed: SignedRequest = rec.request.clone();
    let request = signed.request_object().unwrap();
    let rival = competitor(&h);
    let response = h.app.approve(&rival, &signed, &request, &[]).unwrap();
    let (s, v) = h.answer(&response).await;
    assert_error(s, &v, 409, "TX_NOT_SCANNED");
}

// Finding 5: everything in an answer the platform acts on is inside its signature. A relay
// swaps the bidder's encryption certificate for the competitor's (the bid would be sealed to
// him), or posts the national-code answer with `?qr=vendor1`; an app of the old binding is
// told to update. The bidder's own answer still goes through.
both_instances!(
    finding5_answer_contents_and_the_qr_profile_are_signed,
    finding5_answer_contents_and_the_qr_profile_are_signed_on_another_instance,
    signed_contents
);

async fn signed_contents(two: bool) {
    let (h, other) = setup(two, |_| {}).await;
    let (tid, qr) = h.start_tx(json!({"operation": "encrypt"})).await;
    let (signed, request) = h.scan(&qr).await;
    let honest = h.app.approve(&h.wallet, &signed, &request, &[]).unwrap();
    let rival = competitor(&h);
    let mut swapped = honest.clone();
    swapped.evidence.as_mut().unwrap().encryption_certificate =
        Some(Bytes(rival.enc_cert.der().to_vec()));
    let relay = |r: &camr::protocol::Response| serde_json::to_value(r).unwrap();
    let (s, v) = post_as(&anonymous(), &other, "/camr/v1/response", &relay(&swapped)).await;
    assert_error(s, &v, 422, "SIGNATURE_INVALID");
    let (s, v) = post_as(
        &anonymous(),
        &other,
        "/camr/v1/response?qr=vendor1",
        &relay(&honest),
    )
    .await;
    assert_error(s, &v, 422, "QR_PROFILE_MISMATCH");
    let mut old = honest.clone();
    let camr1 = format!("camr1-answer:{}", old.request_hash);
    let sig = h
        .provider
        .sign(
            &h.wallet.sign_key,
            &camr::crypto::SignatureScheme::sm2(),
            camr1.as_bytes(),
        )
        .unwrap();
    old.evidence.as_mut().unwrap().signatures[0].signature_value = Bytes(sig);
    let (s, v) = post_as(&anonymous(), &other, "/camr/v1/response", &relay(&old)).await;
    assert_error(s, &v, 400, "ANSWER_VERSION_UNSUPPORTED");
    assert!(v["msg"].as_str().unwrap().contains("update the app"), "{v}");
    let (s, v) = h.answer(&honest).await;
    assert_eq!(
        (s, v["data"]["state"].as_str()),
        (200, Some("verified")),
        "{v}"
    );
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        common::b64(v["data"]["encryptionCertificate"].as_str().unwrap()),
        h.wallet.enc_cert.der(),
        "{v}"
    );
}

/// Finding 8: every route that starts work or takes an upload is rate-limited per client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding8_work_and_upload_routes_are_rate_limited() {
    let h = start_configured(|c, _| {
        c.rate_limit.per_minute = 1;
        c.rate_limit.burst = 2;
    })
    .await;
    for path in [
        "/api/v1/hall/signin?bid=nope",
        "/api/v1/hall/bids?name=x",
        "/api/v1/seal-sessions",
        "/api/v1/pdf/seal",
    ] {
        // The bucket is shared: the first two calls of the test pass the limiter (and fail
        // on their input), everything after is refused before the body is read.
        let _ = h.upload(path, b"x".to_vec()).await;
    }
    for path in ["/api/v1/bidfiles", "/api/v1/files/sign", "/api/v1/verify"] {
        let (s, v) = h.upload(path, b"x".to_vec()).await;
        assert_error(s, &v, 429, "RATE_LIMITED");
    }
}

// Every route of the OpenAPI document that names a transaction refuses an anonymous client.
both_instances!(
    every_documented_transaction_route_refuses_an_anonymous_client,
    every_documented_transaction_route_refuses_an_anonymous_client_on_another_instance,
    document_walk
);

async fn document_walk(two: bool) {
    let (h, other) = setup(two, |_| {}).await;
    let (tid, _) = h.start_tx(json!({"operation": "login"})).await;
    let (_, doc) = h.get("/api/openapi.json").await;
    let doc = if doc["openapi"].is_string() {
        doc
    } else {
        doc["data"].clone()
    };
    let paths = doc["paths"].as_object().expect("paths");
    let a = anonymous();
    let mut checked = 0;
    for (template, item) in paths {
        // The app-facing routes (`/camr/v1/…`) stay open: they reveal only what the app needs.
        let named = template.contains("{tid}") && !template.starts_with("/camr/");
        let reports = template.starts_with("/api/v1/reports/");
        if !named && !reports {
            continue;
        }
        let path = template.replace("{tid}", &tid).replace("{page}", "1");
        for method in item.as_object().unwrap().keys() {
            let req = match method.as_str() {
                "get" => a.get(format!("{other}{path}")),
                "post" => a.post(format!("{other}{path}")).json(&json!({})),
                _ => continue,
            };
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            let want = if reports {
                "UNAUTHORIZED"
            } else {
                "TX_NOT_OWNER"
            };
            assert_eq!(v["errorCode"], want, "{method} {template}: {status} {v}");
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} routes walked");
}

/// Finding 6: the decrypt gate fails closed — it recognises a bid by the content keys being
/// decrypted (not by a recipient label), refuses a decrypt that is no submitted bid, and its
/// bids and sign-ins live in the store, so another instance (or a restart) gates them too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding6_the_decrypt_gate_fails_closed_and_holds_on_another_instance() {
    let closed = |c: &mut camr_server::ServerConfig, db: &std::path::Path| {
        c.database_url = Some(db.join("camr.db").display().to_string());
        c.hall = HallConfig {
            project: "攻击测试项目".into(),
            opening: Opening::AfterStart(3600),
            free_decrypts: false,
        };
    };
    let h = start_configured(|c, dir| closed(c, dir)).await;
    let db_dir = h.dir.path().to_path_buf();
    // A decrypt of an envelope nobody submitted: refused, even when its label names the
    // recipient serial of a submitted bid.
    let bid = submit_bound_bid(&h, b"sealed bid").await;
    open_now(&h).await;
    let stray = |label: String| {
        json!([{
            "id": "k1",
            "recipientCertSn": label,
            "encryptedKey": camr::protocol::Bytes(
                h.provider
                    .sm2_encrypt(
                        &h.wallet.enc_cert.public_key().unwrap(),
                        b"another content key",
                        camr::crypto::Sm2CiphertextForm::Asn1,
                    )
                    .unwrap(),
            ),
        }])
    };
    for label in ["00ff".to_string(), h.wallet.enc_cert.serial_hex()] {
        let (s, v) = h
            .post(
                "/api/v1/transactions",
                &json!({"operation": "decrypt", "keys": stray(label)}),
            )
            .await;
        assert_error(s, &v, 403, "BID_NOT_SUBMITTED");
    }
    // The bidder signs in on the first instance.
    let v = sign_in(&h, &bid).await;
    let sign_in_owner = v["data"]["ownerToken"].as_str().unwrap().to_string();
    // Another instance on the same database sees the bid and the sign-in, gates the bid the
    // same way, and opens it for the owner of the sign-in only.
    let base = h.another_instance(|c| closed(c, &db_dir)).await;
    let other = reqwest::Client::new();
    let view: Value = other
        .get(format!("{base}/api/v1/hall"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b = view["data"]["bids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == bid)
        .unwrap()
        .clone();
    assert_eq!(b["signedIn"]["name"], "张三", "{b}");
    assert!(
        b["holder"]["identity"].is_null(),
        "no identity numbers in the view: {b}"
    );
    let r = other
        .post(format!("{base}/api/v1/hall/decrypt?bid={bid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let v: Value = other
        .post(format!("{base}/api/v1/hall/decrypt?bid={bid}"))
        .header("x-camr-owner", &sign_in_owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["operation"], "decrypt", "{v}");
    // The same file submitted again (the opening postponed, so bids are taken) is refused.
    h.state
        .hall
        .set_opens_at(camr::qr::unix_now() + 3600)
        .await
        .unwrap();
    let sealed = std::fs::read(h.data.join(format!("files/hall-{bid}.camrbid"))).unwrap();
    let (s, v) = h
        .upload("/api/v1/hall/bids?name=again.camrbid", sealed)
        .await;
    assert_error(s, &v, 409, "BID_EXISTS");
}

// Finding 8: transactions waiting for an answer are capped (over every instance on the
// store), so abandoned starts cannot pile up; an answered one makes room.
both_instances!(
    finding8_pending_transactions_are_capped,
    finding8_pending_transactions_are_capped_over_both_instances,
    pending_cap
);

async fn pending_cap(two: bool) {
    let (h, other) = setup(two, |c| c.max_pending = Some(2)).await;
    let (first, _) = h.start_tx(json!({"operation": "login"})).await;
    h.start_tx(json!({"operation": "login"})).await;
    // The cap counts the store: the other instance refuses the third start too.
    let (s, v) = post_as(
        &anonymous(),
        &other,
        "/api/v1/transactions",
        &json!({"operation": "login"}),
    )
    .await;
    assert_error(s, &v, 503, "TOO_MANY_PENDING");
    let (s, v) = h
        .post(&format!("/api/v1/transactions/{first}/cancel"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h
        .post("/api/v1/transactions", &json!({"operation": "login"}))
        .await;
    assert_eq!(s, 200, "{v}");
}

/// Finding 8: upload limits per route, enforced before the body is read when its declared
/// length says so; an empty bid file is refused like every other empty upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding8_uploads_have_per_route_limits_and_empty_bids_are_refused() {
    let h = common::start().await;
    let (s, v) = h.upload("/api/v1/bidfiles?name=bid.pdf", Vec::new()).await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    assert!(v["msg"].as_str().unwrap().contains("empty"), "{v}");
    // A PDF declared larger than the PDF limit: refused at once, before any of it is sent.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let over = camr_server::files::PDF_UPLOAD_LIMIT + 1;
    let addr = h.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/pdf/verify HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/pdf\r\n\
         content-length: {over}\r\nconnection: close\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tcp.read_to_end(&mut answer),
    )
    .await
    .expect("answered without waiting for the body")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("64 MiB"), "{answer}");
}

/// Issue 20, finding 1 (path building as a denial of service): answers whose chain offers a
/// leaf and 100 CA certificates with one name and one key are refused quickly through
/// `/camr/v1/response`, and other requests are served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_a_hundred_same_name_intermediates_is_refused_fast_and_stalls_nothing() {
    let h = common::start().await;
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../benches/data/path_budget/attack.pem"
    ))
    .unwrap();
    let chain: Vec<camr::protocol::Bytes> = camr::pki::Certificate::parse_all(&pem)
        .unwrap()
        .iter()
        .map(|c| camr::protocol::Bytes(c.der().to_vec()))
        .collect();
    assert_eq!(chain.len(), 101);
    let mut answers = Vec::new();
    for _ in 0..8 {
        let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
        let (signed, request) = h.scan(&qr).await;
        let mut r = h.app.approve(&h.wallet, &signed, &request, &[]).unwrap();
        if let Some(e) = r.evidence.as_mut() {
            e.certificate_chain = chain.clone();
        }
        answers.push(serde_json::to_value(&r).unwrap());
    }
    let started = std::time::Instant::now();
    let posts = answers.iter().map(|a| {
        let (client, base) = (anonymous(), h.base.clone());
        async move { post_as(&client, &base, "/camr/v1/response", a).await }
    });
    let health = async {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let t = std::time::Instant::now();
        let (s, _) = get_as(&anonymous(), &h.base, "/healthz").await;
        (s, t.elapsed())
    };
    let (refusals, (health_status, health_took)) =
        tokio::join!(futures_util::future::join_all(posts), health);
    for (s, v) in &refusals {
        assert_eq!(*s, 422, "{v}");
        let code = v["errorCode"].as_str().unwrap();
        assert!(
            code == "CERT_PATH_BUDGET_EXCEEDED" || code == "CERT_UNTRUSTED",
            "{v}"
        );
    }
    assert_eq!(health_status, 200);
    // Generous bounds (a debug build on a loaded 2-core machine): before the budget, one such
    // answer took minutes.
    assert!(
        health_took < std::time::Duration::from_secs(5),
        "{health_took:?}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

// Finding 4: where the vendor's organisation certificates are delegated, staff whose
// delegation was withdrawn (收回) can neither show it nor leave it out; refusals are counted
// in the metrics.
both_instances!(
    finding4_a_withdrawn_delegation_cannot_be_dropped,
    finding4_a_withdrawn_delegation_cannot_be_dropped_on_another_instance,
    dropped_delegation
);

async fn dropped_delegation(two: bool) {
    use camr::app::{Delegation, delegation};
    let (h, other) = setup(two, |c| {
        c.entitlement.delegated = Some(vec!["SOFTCA".into()])
    })
    .await;
    // The organisation certificate without a delegation: refused.
    let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (s, v) = h.approve(&qr).await;
    assert_error(s, &v, 403, "DELEGATION_OUT_OF_SCOPE");
    // Staff under the organisation's delegation: accepted.
    let now = camr::qr::unix_now();
    let d = Delegation {
        org_cert_sn: h.wallet.sign_cert.serial_hex(),
        staff_name: "王五".into(),
        staff_id: Some("110101199001011234".into()),
        trading_systems: vec![camr::protocol::SystemCode::parse("C1100005553").unwrap()],
        operations: vec![camr::protocol::Operation::Login],
        not_before: now - 60,
        not_after: now + 86_400,
    };
    let signed_d = delegation::issue(h.provider.as_ref(), &h.wallet, &d).unwrap();
    let staff_login = |qr: String| {
        let (h, other) = (&h, other.clone());
        let signed_d = signed_d.clone();
        async move {
            let (signed, request) = h.scan(&qr).await;
            let r = h
                .app
                .approve_as_staff(&h.wallet, &signed_d, &signed, &request, now)
                .unwrap();
            // The staff member's phone answers (through the other instance, when there is one).
            post_as(
                &anonymous(),
                &other,
                "/camr/v1/response",
                &serde_json::to_value(&r).unwrap(),
            )
            .await
        }
    };
    let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (s, v) = staff_login(qr).await;
    assert_eq!(s, 200, "{v}");
    // The organisation withdraws it; showing it or leaving it out are both refused.
    let id = delegation::id(h.provider.as_ref(), &signed_d);
    let r = anonymous()
        .post(format!("{}/api/v1/admin/delegations/withdraw", h.base))
        .bearer_auth(h.state.ops.admin_token())
        .json(&json!({"delegationId": id, "reason": "离职"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (s, v) = staff_login(qr.clone()).await;
    assert_error(s, &v, 403, "DELEGATION_OUT_OF_SCOPE");
    let (s, v) = h.approve(&qr).await;
    assert_error(s, &v, 403, "DELEGATION_OUT_OF_SCOPE");
    // Counted where they were refused: the staff answer on `other`, the plain one on `h`.
    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", h.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!(
            "camr_answers_refused_total {}",
            if two { 2 } else { 3 }
        )),
        "{metrics}"
    );
}
