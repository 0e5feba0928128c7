//! Issue 9, items 8 and 9 over HTTP: the interactive seal session (签章会话, NETCA: the phone
//! authorises and waits while the user places seals on the PC page) with the app simulator as
//! the phone, and seals from the CA (the softca adapter `.so` asking the softca cloud).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use camr::app::Wallet;
use camr::protocol::{SealKind, SessionStep, SignedRequest};
use common::seal::{code_of, open, phone, place, seals, until, verify};
use common::{Harness, assert_error, softca_so, start, start_configured};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_phone_signs_each_placed_seal_and_the_session_finishes_with_the_set() {
    let h = start().await;
    let (tid, qr, opened) = open(&h, 2, "official").await;
    assert_eq!(opened["pages"][1]["number"], 2);
    assert_eq!(opened["required"], json!(["official"]));
    // Before the scan there is nothing to place with.
    let (s, v) = place(
        &h,
        &tid,
        json!({"sealCode": "x", "pages": [1], "x": 10, "y": 10}),
    )
    .await;
    assert_error(s, &v, 409, "TX_PENDING");
    let phone = phone(&h, &qr);
    let v = until(&h, &tid, "authorised", |v| v["state"] == "authorised").await;
    assert_eq!(v["holder"], "张三");
    // No adapter: the platform's default seal for the organisation certificate (公章).
    let list = seals(&h, &tid).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["source"], "platform");
    let code = code_of(&list, "official");
    // The page preview: a PNG of the page (rendered by pdftoppm when the server has it, a
    // blank sheet of the page's size otherwise); no such page is refused.
    let r = h
        .client
        .get(format!(
            "{}/api/v1/seal-sessions/{tid}/pages/2/preview.png",
            h.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let how = r.headers()["x-camr-preview"].to_str().unwrap().to_string();
    let png = r.bytes().await.unwrap();
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!((img.width(), img.height()), (595, 842), "{how}");
    if std::path::Path::new("/usr/bin/pdftoppm").exists() {
        assert_eq!(how, "rendered");
    }
    let (s, v) = h
        .get(&format!("/api/v1/seal-sessions/{tid}/pages/3/preview.png"))
        .await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    // Finishing with nothing applied is refused.
    let (s, v) = h
        .post(&format!("/api/v1/seal-sessions/{tid}/finish"), &json!({}))
        .await;
    assert_error(s, &v, 422, "SEAL_SET_INCOMPLETE");

    // 单页签章, then 多页签章 on pages 1 and 2 (连续签章: one session, one authorisation).
    let (s, v) = place(
        &h,
        &tid,
        json!({"sealCode": code, "pages": [1], "x": 100, "y": 500}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    until(&h, &tid, "first seal", |v| {
        v["applied"].as_array().unwrap().len() == 1
    })
    .await;
    let (s, v) = place(
        &h,
        &tid,
        json!({"sealCode": code, "pages": [1, 2], "x": 300, "y": 80}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let v = until(&h, &tid, "second seal", |v| {
        v["applied"].as_array().unwrap().len() == 2
    })
    .await;
    assert_eq!(v["applied"][1]["pages"], json!([1, 2]));
    assert_eq!(v["missing"], json!([]));
    // The document is handed out once finished (完成签章), not before.
    let (s, _, _) = h
        .download(&format!("/api/v1/seal-sessions/{tid}/document"))
        .await;
    assert_eq!(s, 409);
    let (s, v) = h
        .post(&format!("/api/v1/seal-sessions/{tid}/finish"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["state"], "finished");
    let (out, lines) = phone.join().unwrap();
    let outcome = out.unwrap_or_else(|e| panic!("{e}\n{lines}"));
    assert_eq!(outcome.session_seals, 2, "{lines}");
    assert!(lines.contains("签章成功"), "{lines}");
    let (s, pdf, _) = h
        .download(&format!("/api/v1/seal-sessions/{tid}/document"))
        .await;
    assert_eq!(s, 200);
    let report = verify(&h, &pdf);
    assert!(report.all_valid, "{}", report.human());
    assert_eq!(report.seals.len(), 2, "{}", report.human());
    let pages: Vec<Vec<u32>> = report
        .seals
        .iter()
        .map(|s| s.widgets.iter().map(|w| w.page).collect())
        .collect();
    assert_eq!(pages, vec![vec![1], vec![1, 2]]);
    // The widget sits where it was placed (x, y in points from the lower left).
    let r = report.seals[0].widgets[0].rect;
    assert!(
        (r[0] - 100.0).abs() < 0.5 && (r[1] - 500.0).abs() < 0.5,
        "{r:?}"
    );
    // Each seal is one use of the certificate (the authorisation itself is none).
    let (_, v) = h
        .get(&format!(
            "/api/v1/transactions/{}/result",
            v["data"]["applied"][0]["tid"].as_str().unwrap()
        ))
        .await;
    assert_eq!(v["data"]["signed"].as_array().unwrap().len(), 1, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_times_out_while_the_phone_waits() {
    let h = start_configured(|c, _| c.seal_session.ttl_secs = 3).await;
    let (tid, qr, _) = open(&h, 1, "").await;
    let phone = phone(&h, &qr);
    until(&h, &tid, "authorised", |v| v["state"] == "authorised").await;
    // Nobody places a seal: the phone waits until the session ends.
    let (out, lines) = phone.join().unwrap();
    let e = out.expect_err("the phone stopped waiting without an error");
    assert_eq!(e.code, camr::protocol::ErrorCode::TxExpired, "{e}\n{lines}");
    assert!(e.to_string().contains("超时"), "{e}");
    let v = until(&h, &tid, "expired", |v| v["state"] == "expired").await;
    assert_eq!(v["applied"], json!([]));
    let (s, v) = place(
        &h,
        &tid,
        json!({"sealCode": "PLATFORM-official", "pages": [1], "x": 10, "y": 10}),
    )
    .await;
    assert_error(s, &v, 410, "TX_EXPIRED");
}

/// A personal wallet of the demo CA (another certificate than the session's).
fn other_wallet(h: &Harness) -> Wallet {
    let dir = h.data.join("personal");
    if !dir.exists() {
        let mut ca = camr::softca::SoftCa::open(h.provider.clone(), &h.data.join("ca")).unwrap();
        let holder = camr::softca::Holder::personal("李四");
        ca.issue(&holder, b"123456", &dir, 30).unwrap();
    }
    Wallet::open(&dir, b"123456").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_sessions_certificate_signs_its_seals_and_bad_input_is_refused() {
    let h = start().await;
    // Bad uploads and kinds.
    let (s, v) = h
        .upload(
            "/api/v1/seal-sessions?name=x.pdf",
            b"%PDF-1.7 not really".to_vec(),
        )
        .await;
    assert_error(s, &v, 400, "PDF_MALFORMED");
    let (s, v) = h
        .upload(
            "/api/v1/seal-sessions?required=official,bogus",
            camr::seal::sample_pdf(1).unwrap(),
        )
        .await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let (s, v) = h
        .get("/camr/v1/seal-session/wait?tid=C1100005553AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert!(s == 404 || s == 400, "{v}");

    let (tid, qr, _) = open(&h, 1, "").await;
    // The phone, by hand: authorise with the demo (organisation) wallet.
    let (signed, request) = h.scan(&qr).await;
    let auth = h.app.approve(&h.wallet, &signed, &request, &[]).unwrap();
    let (s, v) = h.answer(&auth).await;
    assert_eq!(s, 200, "{v}");
    let code = code_of(&seals(&h, &tid).await, "official");
    for (body, what) in [
        (
            json!({"sealCode": "nope", "pages": [1], "x": 10, "y": 10}),
            "unknown seal",
        ),
        (json!({"sealCode": code, "x": 10, "y": 10}), "no page"),
        (
            json!({"sealCode": code, "pages": [7], "x": 10, "y": 10}),
            "no such page",
        ),
        (
            json!({"sealCode": code, "pages": [1], "x": 9000, "y": 10}),
            "off the page",
        ),
        (
            json!({"sealCode": code, "pages": [1, 1], "x": 10, "y": 10}),
            "page twice",
        ),
    ] {
        let (s, v) = place(&h, &tid, body).await;
        assert_eq!(s, 400, "{what}: {v}");
        assert!(v["errorCode"] == "INPUT_MALFORMED", "{what}: {v}");
    }
    let (s, v) = place(
        &h,
        &tid,
        json!({"sealCode": code, "everyPage": true, "x": 50, "y": 50}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let step = v["data"]["tid"].as_str().unwrap().to_string();
    // One step at a time: the next placement waits for this one's signature.
    let (s, v) = place(
        &h,
        &tid,
        json!({"sealCode": code, "pages": [1], "x": 200, "y": 200}),
    )
    .await;
    assert_error(s, &v, 409, "TX_PENDING");
    let (s, v) = h
        .get(&format!("/camr/v1/seal-session/wait?tid={tid}"))
        .await;
    assert_eq!(s, 200, "{v}");
    let step_msg: SessionStep = serde_json::from_value(v["data"].clone()).unwrap();
    let SessionStep::Sign {
        request: signed, ..
    } = step_msg
    else {
        panic!("no signing step: {v}");
    };
    let req: camr::protocol::RequestObject = signed_request(&signed);
    assert_eq!(req.tid.to_string(), step);
    assert_eq!(req.session.as_ref().unwrap().tid.to_string(), tid);
    // Another certificate (a valid one of the same CA) cannot answer the session's step.
    let other = other_wallet(&h);
    let other_dir = h.data.join("personal");
    let forged = h.app.approve(&other, &signed, &req, &[]).unwrap();
    let (s, v) = h.answer(&forged).await;
    assert_error(s, &v, 403, "SESSION_MISMATCH");
    // The app refuses such a step too: it is not bound to its certificate.
    let (app, key, req0) = (h.app.clone(), h.key.clone(), request.clone());
    let e = tokio::task::spawn_blocking(move || {
        let transport = camr_app_sim::HttpTransport(camr_app_sim::http_client().unwrap());
        app.session_step(
            &transport,
            &req0,
            &other_wallet_at(&other_dir),
            &key,
            camr::qr::unix_now(),
        )
        .unwrap_err()
    })
    .await
    .unwrap();
    assert!(matches!(e, camr::app::AppError::RequestMismatch(_)), "{e}");
    // The session's own certificate does; the seal is applied.
    let good = h.app.approve(&h.wallet, &signed, &req, &[]).unwrap();
    let (s, v) = h.answer(&good).await;
    assert_eq!(s, 200, "{v}");
    let v = until(&h, &tid, "applied", |v| {
        v["applied"].as_array().unwrap().len() == 1
    })
    .await;
    assert!(v["lastError"].is_null(), "{v}");
}

fn other_wallet_at(dir: &std::path::Path) -> Wallet {
    Wallet::open(dir, b"123456").unwrap()
}

fn signed_request(signed: &SignedRequest) -> camr::protocol::RequestObject {
    signed.request_object().unwrap()
}

/// Seals from the CA (issue 9, item 9): the softca adapter, loaded as a `.so`, asks the softca
/// cloud, which serves the seals made for its wallets — an organisation certificate has 公章,
/// 法人章, 财务专用章 and 合同专用章. A document that needs 公章 and 法人章 cannot be finished
/// with one of them (SEAL_SET_INCOMPLETE naming the missing kind); with both it can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seals_come_from_the_ca_and_a_document_needing_two_is_not_finished_with_one() {
    let plugins = tempfile::tempdir().unwrap();
    std::fs::copy(
        softca_so(),
        plugins.path().join("libcamr_adapter_softca.so"),
    )
    .unwrap();
    let plugin_dir = plugins.path().to_path_buf();
    let h = start_configured(|c, dir| {
        // The CA exists before the server starts, so that its cloud can serve it; the server
        // then issues the demo wallet from it, which the cloud finds among `data/`.
        let data = dir.join("data");
        camr::softca::SoftCa::init(
            camr::crypto::default_provider(),
            &data.join("ca"),
            camr::crypto::KeyAlgorithm::Sm2,
            "camr Demo CA",
        )
        .unwrap();
        let (addr, _cloud) = softca_cloud::spawn(&data.join("ca"), Some(data.clone())).unwrap();
        c.plugins = Some(plugin_dir);
        c.plugins_config.insert(
            "SOFTCA".into(),
            json!({"cloudUrl": format!("http://{addr}")}),
        );
        c.seal_session.required = vec![SealKind::Official, SealKind::LegalRepresentative];
    })
    .await;
    let (tid, qr, opened) = open(&h, 2, "contract").await;
    // The platform's set always applies; the upload may add kinds (here 合同专用章), not drop
    // one.
    assert_eq!(
        opened["required"],
        json!(["official", "legalRepresentative", "contract"])
    );
    let phone = phone(&h, &qr);
    until(&h, &tid, "authorised", |v| v["state"] == "authorised").await;
    let list = seals(&h, &tid).await;
    let mut kinds: Vec<&str> = list.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        vec!["contract", "finance", "legalRepresentative", "official"],
        "{list:?}"
    );
    assert!(list.iter().all(|s| s["source"] == "ca"), "{list:?}");
    assert_eq!(list[0]["certSn"], h.wallet.sign_cert.serial_hex());

    // 公章 only: the session cannot be finished; 法人章 is named as missing.
    let official = code_of(&list, "official");
    let (s, v) = place(
        &h,
        &tid,
        json!({"sealCode": official, "pages": [1], "x": 300, "y": 120}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let v = until(&h, &tid, "公章", |v| {
        v["applied"].as_array().unwrap().len() == 1
    })
    .await;
    assert_eq!(v["missing"], json!(["legalRepresentative", "contract"]));
    let (s, v) = h
        .post(&format!("/api/v1/seal-sessions/{tid}/finish"), &json!({}))
        .await;
    assert_error(s, &v, 422, "SEAL_SET_INCOMPLETE");
    let msg = v["msg"].as_str().unwrap();
    assert!(msg.contains("法人章") && msg.contains("given 1"), "{msg}");

    // 法人章 on both pages (多页签章), then the set is complete.
    let legal = code_of(&list, "legalRepresentative");
    let (s, v) = place(
        &h,
        &tid,
        json!({"sealCode": legal, "everyPage": true, "x": 80, "y": 120}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    until(&h, &tid, "法人章", |v| {
        v["applied"].as_array().unwrap().len() == 2
    })
    .await;
    let (s, v) = h
        .post(&format!("/api/v1/seal-sessions/{tid}/finish"), &json!({}))
        .await;
    assert_error(s, &v, 422, "SEAL_SET_INCOMPLETE");
    let contract = code_of(&list, "contract");
    let (s, v) = place(
        &h,
        &tid,
        json!({"sealCode": contract, "pages": [2], "x": 300, "y": 400}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    until(&h, &tid, "合同专用章", |v| {
        v["applied"].as_array().unwrap().len() == 3
    })
    .await;
    let (s, v) = h
        .post(&format!("/api/v1/seal-sessions/{tid}/finish"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["missing"], json!([]));
    let (out, lines) = phone.join().unwrap();
    assert_eq!(
        out.unwrap_or_else(|e| panic!("{e}\n{lines}")).session_seals,
        3
    );
    let (_, pdf, _) = h
        .download(&format!("/api/v1/seal-sessions/{tid}/document"))
        .await;
    let report = verify(&h, &pdf);
    assert!(report.all_valid, "{}", report.human());
    assert_eq!(report.seals.len(), 3);
    // The CA's 法人章 is 20 mm square: 56.7 points.
    let r = report.seals[1].widgets[0].rect;
    assert!(((r[2] - r[0]) - 56.69).abs() < 0.1, "{r:?}");
}

/// Issue 23, bug 6: a document needing 法人章 when the holder's CA offers none (here no
/// adapter: the platform's default 公章 only) can never be finished — the session says so
/// as soon as the seals are listed, before 完成签章, and 完成签章 is refused with the same
/// sentence instead of waiting for the session to expire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_needing_a_seal_the_holders_ca_does_not_offer_is_flagged_before_finishing() {
    let h = start().await;
    let (tid, qr, opened) = open(&h, 1, "official,legalRepresentative").await;
    assert_eq!(
        opened["required"],
        json!(["official", "legalRepresentative"])
    );
    let _phone = phone(&h, &qr);
    let v = until(&h, &tid, "authorised", |v| v["state"] == "authorised").await;
    // Not known before the seals are listed.
    assert_eq!(v["unobtainable"], json!([]), "{v}");
    assert!(v.get("warning").is_none(), "{v}");
    let list = seals(&h, &tid).await;
    let kinds: Vec<&str> = list.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["official"], "{list:?}");
    let v = until(&h, &tid, "the warning", |v| v["warning"].is_string()).await;
    assert_eq!(v["unobtainable"], json!(["legalRepresentative"]), "{v}");
    let warning = v["warning"].as_str().unwrap();
    assert!(warning.starts_with("本文件需要法人章"), "{warning}");

    // 公章 applied: still flagged; 完成签章 refused with the sentence that says why.
    let official = code_of(&list, "official");
    let (s, v) = place(
        &h,
        &tid,
        json!({"sealCode": official, "pages": [1], "x": 300, "y": 120}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let v = until(&h, &tid, "公章", |v| {
        v["applied"].as_array().unwrap().len() == 1
    })
    .await;
    assert_eq!(v["unobtainable"], json!(["legalRepresentative"]), "{v}");
    let (s, v) = h
        .post(&format!("/api/v1/seal-sessions/{tid}/finish"), &json!({}))
        .await;
    assert_error(s, &v, 422, "SEAL_SET_INCOMPLETE");
    assert!(
        v["msg"].as_str().unwrap().contains("没有为您提供法人章"),
        "{v}"
    );
}
