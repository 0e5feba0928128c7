//! Issue 17, item 2: a server keeps no business state in its memory. After a restart (the
//! process's memory gone, the same SQLite database and data folder) a seal session goes on
//! where it was — the phone keeps waiting and signs the next placement — and the hall still
//! knows its bids and their sign-ins.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use camr::envelope::seal_stream;
use common::seal::{code_of, open, phone, place, seals, until, verify};
use common::start_configured;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seal_session_and_the_halls_sign_ins_survive_a_restart() {
    let mut h = start_configured(|c, dir| {
        c.database_url = Some(format!("sqlite://{}", dir.join("camr.db").display()));
    })
    .await;

    // A session with one seal applied before the restart.
    let (tid, qr, _) = open(&h, 1, "").await;
    let phone = phone(&h, &qr);
    until(&h, &tid, "authorised", |v| v["state"] == "authorised").await;
    let code = code_of(&seals(&h, &tid).await, "official");
    let (s, v) = place(
        &h,
        &tid,
        json!({"sealCode": code, "pages": [1], "x": 60, "y": 600}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    until(&h, &tid, "first seal", |v| {
        v["applied"].as_array().unwrap().len() == 1
    })
    .await;

    // A bid in the hall, its bidder signed in.
    let mut sealed = Vec::new();
    seal_stream(
        h.provider.as_ref(),
        std::slice::from_ref(&h.wallet.enc_cert),
        "投标报价".as_bytes(),
        &mut sealed,
        &mut |_| {},
    )
    .unwrap();
    let (s, v) = h
        .upload("/api/v1/hall/bids?name=标书.pdf.camrbid", sealed)
        .await;
    assert_eq!(s, 200, "{v}");
    let bid = v["data"]["id"].as_str().unwrap().to_string();
    let (s, v) = h
        .post(&format!("/api/v1/hall/signin?bid={bid}"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h.approve(v["data"]["qrText"].as_str().unwrap()).await;
    assert_eq!((s, &v["data"]["state"]), (200, &json!("verified")), "{v}");

    h.restart().await;

    // The hall: the bid and its sign-in are there.
    let (s, v) = h.get("/api/v1/hall").await;
    assert_eq!(s, 200, "{v}");
    let shown = v["data"]["bids"].as_array().unwrap();
    let shown = shown.iter().find(|b| b["id"] == bid.as_str()).unwrap();
    assert_eq!(shown["signedIn"]["name"], "张三", "{v}");

    // The session: as it was, and it goes on — the phone, still waiting, signs the next
    // placement; the session finishes with both seals.
    let v = until(&h, &tid, "the session after the restart", |v| {
        v["state"] == "authorised"
    })
    .await;
    assert_eq!(v["applied"].as_array().unwrap().len(), 1, "{v}");
    let (s, v) = place(
        &h,
        &tid,
        json!({"sealCode": code, "pages": [1], "x": 300, "y": 80}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    until(&h, &tid, "second seal", |v| {
        v["applied"].as_array().unwrap().len() == 2
    })
    .await;
    let (s, v) = h
        .post(&format!("/api/v1/seal-sessions/{tid}/finish"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (out, lines) = phone.join().unwrap();
    let outcome = out.unwrap_or_else(|e| panic!("{e}\n{lines}"));
    assert_eq!(outcome.session_seals, 2, "{lines}");
    let (s, pdf, _) = h
        .download(&format!("/api/v1/seal-sessions/{tid}/document"))
        .await;
    assert_eq!(s, 200);
    let report = verify(&h, &pdf);
    assert!(report.all_valid, "{}", report.human());
    assert_eq!(report.seals.len(), 2, "{}", report.human());
}
