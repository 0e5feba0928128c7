//! The server over real HTTP on loopback, with `camr::app` playing the phone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use camr::app::Wallet;
use camr::crypto::{PublicKey, default_provider};
use camr::envelope::{KeySource, open_stream, read_header, seal_stream};
use camr::pki::Certificate;
use camr::protocol::Bytes;
use common::{Harness, assert_error, b64, softca_so, start, start_configured};
use serde_json::{Value, json};

/// The demo server with the softca adapter loaded as a plugin.
async fn start_with_plugin() -> Harness {
    start_configured(|config, dir| {
        let folder = dir.join("plugins");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::copy(softca_so(), folder.join("libcamr_adapter_softca.so")).unwrap();
        config.plugins = Some(folder);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_end_to_end_over_http() {
    let h = start().await;
    let (s, v) = h.get("/healthz").await;
    assert_eq!((s, v["success"].clone()), (200, json!(true)));
    let (s, v) = h.get("/readyz").await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h.get("/api/v1/admin/adapters").await;
    assert_eq!((s, v["data"].clone()), (200, json!([])));

    let (tid, qr_text) = h.start_tx(json!({"operation": "login"})).await;
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}")).await;
    assert_eq!((s, v["data"]["state"].as_str()), (200, Some("created")));
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_error(s, &v, 409, "TX_PENDING");

    // The QR images decode to a payload for the same transaction, signed by the platform.
    let png = h
        .client
        .get(format!("{}/api/v1/transactions/{tid}/qr.png", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    let text = camr::qr::decode_image(&png.bytes().await.unwrap()).unwrap();
    let from_png = camr::qr::parse_and_verify(
        h.provider.as_ref(),
        &text,
        &h.key,
        camr::qr::VerifyOptions::at(camr::qr::unix_now()),
    )
    .unwrap();
    assert_eq!(from_png.tid.as_str(), tid);
    let svg = h
        .client
        .get(format!("{}/api/v1/transactions/{tid}/qr.svg", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));

    let (signed, request) = h.scan(&qr_text).await;
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}")).await;
    assert_eq!(v["data"]["state"], "scanned");
    let response = h.app.approve(&h.wallet, &signed, &request, &[]).unwrap();
    let (s, v) = h.answer(&response).await;
    assert_eq!(
        (s, v["data"]["state"].as_str()),
        (200, Some("verified")),
        "{v}"
    );
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["subject"]["name"], "张三");
    assert_eq!(v["data"]["subject"]["organization"], "某某建设有限公司");
    assert_eq!(v["data"]["subject"]["uscc"], "91350100M000100Y43");
    assert_eq!(v["data"]["caOrgType"], "SOFTCA");
    // The same answer twice: refused, the result stays.
    let (s, v) = h.answer(&response).await;
    assert_error(s, &v, 409, "TX_ALREADY_ANSWERED");
    // No QR for a finished transaction.
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/qr.svg")).await;
    assert_error(s, &v, 409, "TX_ALREADY_ANSWERED");

    // The login page shows a QR with the system code and name under it.
    let page = h.client.get(&h.base).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg"));
    assert!(html.contains("C1100005553"));
    assert!(html.contains("移动数字证书(CA)互认模拟测试系统"));
    assert!(html.contains("/api/v1/transactions/C1100005553"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_signature_verifies_with_openssl() {
    let h = start().await;
    let message = "投标报价：1,280,000.00 元";
    let (tid, qr) = h
        .start_tx(json!({"operation": "messageSignature", "message": message}))
        .await;
    let (s, v) = h.approve(&qr).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["message"], message);
    let sig = b64(v["data"]["signature"].as_str().unwrap());
    let cert_der = b64(v["data"]["certificate"].as_str().unwrap());
    let cert = Certificate::from_der(&cert_der).unwrap();
    let ok = default_provider().verify(
        &cert.public_key().unwrap(),
        &camr::crypto::SignatureScheme::sm2(),
        message.as_bytes(),
        &sig,
    );
    assert!(ok.is_ok());

    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: openssl is not installed; the signature was not checked outside camr");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (m, sg, c) = (
        dir.path().join("msg.txt"),
        dir.path().join("msg.sig"),
        dir.path().join("cert.pem"),
    );
    std::fs::write(&m, message).unwrap();
    std::fs::write(&sg, &sig).unwrap();
    std::fs::write(&c, cert.to_pem()).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["pkeyutl", "-verify", "-certin", "-inkey"])
        .arg(&c)
        .arg("-rawin")
        .arg("-in")
        .arg(&m)
        .arg("-sigfile")
        .arg(&sg)
        .args(["-digest", "sm3", "-pkeyopt", "distid:1234567812345678"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypt_then_decrypt_bid_files_of_1_mb_and_0_bytes() {
    let h = start().await;
    let (tid, qr) = h.start_tx(json!({"operation": "encrypt"})).await;
    let (s, v) = h.approve(&qr).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(s, 200, "{v}");
    let enc =
        Certificate::from_der(&b64(v["data"]["encryptionCertificate"].as_str().unwrap())).unwrap();
    assert_eq!(enc, h.wallet.enc_cert);
    let p = h.provider.clone();
    for size in [1024 * 1024usize, 0] {
        let bid: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut sealed = Vec::new();
        seal_stream(
            p.as_ref(),
            std::slice::from_ref(&enc),
            bid.as_slice(),
            &mut sealed,
            &mut |_| {},
        )
        .unwrap();
        // Bid opening: the envelope's encrypted keys go to the app through the server.
        let header = read_header(p.as_ref(), &mut sealed.as_slice()).unwrap();
        let keys: Vec<Value> = header
            .encrypted_keys
            .iter()
            .map(|(sn, k)| {
                json!({"id": "bid", "recipientCertSn": sn, "encryptedKey": Bytes(k.clone())})
            })
            .collect();
        let (tid, qr) = h
            .start_tx(json!({"operation": "decrypt", "keys": keys}))
            .await;
        let (s, v) = h.approve(&qr).await;
        assert_eq!(s, 200, "{v}");
        let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["data"]["keys"][0]["itemId"], "bid");
        let cek = b64(v["data"]["keys"][0]["contentKey"].as_str().unwrap());
        let mut out = Vec::new();
        open_stream(
            p.as_ref(),
            sealed.as_slice(),
            &mut out,
            KeySource::ContentKey(&cek),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(out, bid, "size {size}");
        // The content keys are handed out once.
        let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
        assert_ne!(s, 200, "{v}");
        assert_eq!(v["success"], false);
        assert!(v["data"].is_null());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_their_error_codes() {
    let h = start().await;
    // An answer moved to another transaction.
    let (tid_a, qr_a) = h.start_tx(json!({"operation": "login"})).await;
    let (tid_b, qr_b) = h.start_tx(json!({"operation": "login"})).await;
    let (signed_a, req_a) = h.scan(&qr_a).await;
    let (signed_b, req_b) = h.scan(&qr_b).await;
    let answer_a = h.app.approve(&h.wallet, &signed_a, &req_a, &[]).unwrap();
    let mut moved = answer_a.clone();
    moved.tid = camr::protocol::Tid::parse(&tid_b).unwrap();
    let (s, v) = h.answer(&moved).await;
    assert_error(s, &v, 422, "REQUEST_HASH_MISMATCH");
    moved.request_hash = camr::ceremony::request_hash(h.provider.as_ref(), &signed_b.request);
    let (s, v) = h.answer(&moved).await;
    assert_error(s, &v, 422, "SIGNATURE_INVALID");
    // B was not ended by the forgeries; A's own answer still works, once.
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid_b}")).await;
    assert_eq!(v["data"]["state"], "scanned");
    let (s, _) = h
        .answer(&h.app.approve(&h.wallet, &signed_b, &req_b, &[]).unwrap())
        .await;
    assert_eq!(s, 200);
    let (s, _) = h.answer(&answer_a).await;
    assert_eq!(s, 200);
    let (s, v) = h.answer(&answer_a).await;
    assert_error(s, &v, 409, "TX_ALREADY_ANSWERED");
    let _ = tid_a;

    // Cancelled, then answered late.
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed, request) = h.scan(&qr).await;
    let (s, v) = h
        .post(&format!("/api/v1/transactions/{tid}/cancel"), &json!({}))
        .await;
    assert_eq!(
        (s, v["data"]["state"].as_str()),
        (200, Some("cancelled")),
        "{v}"
    );
    let (s, v) = h
        .answer(&h.app.approve(&h.wallet, &signed, &request, &[]).unwrap())
        .await;
    assert_error(s, &v, 409, "TX_CANCELLED");
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/qr.png")).await;
    assert_error(s, &v, 409, "TX_CANCELLED");

    // The user rejects with a reason; the platform sees it.
    let (tid, qr) = h
        .start_tx(json!({"operation": "messageSignature", "message": "报价 100 元"}))
        .await;
    let (signed, request) = h.scan(&qr).await;
    let no = h
        .app
        .reject(&h.wallet, &signed, &request, "不是本人操作")
        .unwrap();
    let (s, v) = h.answer(&no).await;
    assert_eq!(
        (s, v["data"]["state"].as_str()),
        (200, Some("rejected")),
        "{v}"
    );
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_error(s, &v, 409, "TX_REJECTED");
    assert!(v["msg"].as_str().unwrap().contains("不是本人操作"), "{v}");

    // Garbage in: 4xx with INPUT_MALFORMED, never a 500.
    for (path, body, ct) in [
        ("/camr/v1/response", "not json at all", "application/json"),
        ("/camr/v1/response", "{\"tid\": 1}", "application/json"),
        ("/camr/v1/response", "", "application/json"),
        (
            "/api/v1/transactions",
            "{\"operation\":\"fly\"}",
            "application/json",
        ),
        (
            "/api/v1/transactions",
            "{\"operation\":\"messageSignature\"}",
            "application/json",
        ),
        (
            "/api/v1/transactions",
            "{\"operation\":\"signature\",\"items\":[]}",
            "application/json",
        ),
        ("/api/v1/transactions", "[1,2,3]", "application/json"),
    ] {
        let r = h
            .client
            .post(format!("{}{path}", h.base))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        assert_error(s, &v, 400, "INPUT_MALFORMED");
    }
    let r = h
        .client
        .post(format!("{}/camr/v1/response", h.base))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    assert_error(s, &r.json().await.unwrap(), 415, "INPUT_MALFORMED");
    // A client of its own: the server closes the connection of a refused oversized body,
    // which a pooled connection would otherwise carry into the next request.
    let r = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
        .post(format!("{}/camr/v1/response", h.base))
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    assert_error(s, &r.json().await.unwrap(), 413, "INPUT_MALFORMED");
    let (s, v) = h.get("/api/v1/transactions/not-a-tid").await;
    assert_error(s, &v, 400, "TID_INVALID");
    let unknown = format!("C1100005553{}", "0".repeat(32));
    let (s, v) = h.get(&format!("/api/v1/transactions/{unknown}")).await;
    assert_error(s, &v, 404, "TX_NOT_FOUND");
    let (s, v) = h.get(&format!("/camr/v1/request/{unknown}")).await;
    assert_error(s, &v, 404, "TX_NOT_FOUND");
    let (s, v) = h.get("/no/such/page").await;
    assert_error(s, &v, 404, "INPUT_MALFORMED");
    assert!(h.data.join("platform-pub.pem").exists());
}

#[tokio::test]
async fn evidence_goes_through_the_vendors_adapter_loaded_as_a_plugin() {
    let h = start_with_plugin().await;
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed, request) = h.scan(&qr).await;
    let response = h.app.approve(&h.wallet, &signed, &request, &[]).unwrap();
    let (status, v) = h.answer(&response).await;
    assert_eq!(status, 200, "{v}");
    let (_, result) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(result["data"]["subject"]["name"], "张三", "{result}");
    let (_, adapters) = h.get("/api/v1/admin/adapters").await;
    assert_eq!(adapters["data"][0]["caOrgType"], "SOFTCA", "{adapters}");
    assert!(
        adapters["data"][0]["calls"].as_u64().unwrap() >= 1,
        "{adapters}"
    );
    // A vendor with no adapter on this platform is refused before any verification.
    let (_, qr2) = h.start_tx(json!({"operation": "login"})).await;
    let (signed2, request2) = h.scan(&qr2).await;
    let mut stranger = h.app.approve(&h.wallet, &signed2, &request2, &[]).unwrap();
    stranger.ca_org_type = "NOPE".into();
    let (status, v) = h.answer(&stranger).await;
    assert_ne!(status, 200, "{v}");
    assert_eq!(v["errorCode"], "ADAPTER_UNAVAILABLE", "{v}");
    // The vendor's own wire format (`vendorEvidence`) goes to its adapter too — softca's is
    // camr's JSON. Both forms at once, or garbage in the vendor form, are refused.
    let (tid3, qr3) = h.start_tx(json!({"operation": "login"})).await;
    let (signed3, request3) = h.scan(&qr3).await;
    let mut native = h.app.approve(&h.wallet, &signed3, &request3, &[]).unwrap();
    let raw = serde_json::to_vec(native.evidence.as_ref().unwrap()).unwrap();
    native.vendor_evidence = Some(camr::protocol::Bytes(raw.clone()));
    let (status, v) = h.answer(&native).await;
    assert_error(status, &v, 400, "INPUT_MALFORMED");
    native.evidence = None;
    native.vendor_evidence = Some(camr::protocol::Bytes(b"<xml/>".to_vec()));
    let (status, v) = h.answer(&native).await;
    assert_eq!(v["errorCode"], "INPUT_MALFORMED", "{status} {v}");
    native.vendor_evidence = Some(camr::protocol::Bytes(raw));
    let (status, v) = h.answer(&native).await;
    assert_eq!(status, 200, "{v}");
    let (_, result) = h.get(&format!("/api/v1/transactions/{tid3}/result")).await;
    assert_eq!(result["data"]["subject"]["name"], "张三", "{result}");
}

/// Without adapters, an answer in a vendor's own format cannot be read.
#[tokio::test]
async fn a_vendor_format_answer_needs_the_vendors_adapter() {
    let h = common::start().await;
    let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed, request) = h.scan(&qr).await;
    let mut r = h.app.approve(&h.wallet, &signed, &request, &[]).unwrap();
    let raw = serde_json::to_vec(r.evidence.as_ref().unwrap()).unwrap();
    r.evidence = None;
    r.vendor_evidence = Some(camr::protocol::Bytes(raw));
    let (status, v) = h.answer(&r).await;
    assert_error(status, &v, 503, "ADAPTER_UNAVAILABLE");
}

#[tokio::test]
async fn a_batch_of_document_hashes_is_signed_through_the_adapter_and_checked_by_openssl() {
    let h = start_with_plugin().await;
    let p = h.provider.clone();
    let docs = ["投标函.pdf", "报价单.pdf"];
    let items: Vec<Value> = docs
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let hash = p.digest(camr::crypto::HashAlgorithm::Sm3, format!("document {i}").as_bytes());
            json!({"id": format!("d{i}"), "name": name, "hash": Bytes(hash), "hashAlgorithm": "SM3"})
        })
        .collect();
    let (tid, qr) = h
        .start_tx(json!({"operation": "signature", "items": items}))
        .await;
    let (s, v) = h.approve(&qr).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(s, 200, "{v}");
    let signed = v["data"]["signed"].as_array().unwrap();
    assert_eq!(signed.len(), 2, "{v}");
    let cert = Certificate::from_der(&b64(v["data"]["certificate"].as_str().unwrap())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pub_pem = dir.path().join("pub.pem");
    std::fs::write(&pub_pem, cert.public_key().unwrap().to_spki_pem().unwrap()).unwrap();
    for item in signed {
        let hash = b64(item["item"]["hash"].as_str().unwrap());
        let sig = b64(item["signature"].as_str().unwrap());
        let (hf, sf) = (dir.path().join("h"), dir.path().join("s"));
        std::fs::write(&hf, &hash).unwrap();
        std::fs::write(&sf, &sig).unwrap();
        let Ok(out) = std::process::Command::new("openssl")
            .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
            .arg(&pub_pem)
            .args(["-rawin", "-in"])
            .arg(&hf)
            .arg("-sigfile")
            .arg(&sf)
            .args(["-digest", "sm3", "-pkeyopt", "distid:1234567812345678"])
            .output()
        else {
            eprintln!("\n*** SKIPPED OpenSSL check: openssl not found ***\n");
            return;
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_six_operations_go_through_the_softca_adapter_loaded_as_a_plugin() {
    let h = start_with_plugin().await;
    let p = h.provider.clone();
    let hash = Bytes(p.digest(camr::crypto::HashAlgorithm::Sm3, b"document"));
    let mut done = Vec::new();
    for body in [
        json!({"operation": "login"}),
        json!({"operation": "messageSignature", "message": "报价 100 元"}),
        json!({"operation": "signature", "items": [{"id": "d1", "name": "投标函.pdf", "hash": hash, "hashAlgorithm": "SM3"}]}),
        json!({"operation": "revokeSignature", "sealId": "seal-1", "documentName": "投标函.pdf"}),
        json!({"operation": "encrypt"}),
    ] {
        let (tid, qr) = h.start_tx(body.clone()).await;
        let (s, v) = h.approve(&qr).await;
        assert_eq!(s, 200, "{body}: {v}");
        let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
        assert_eq!(s, 200, "{body}: {v}");
        done.push(v);
    }
    // Decrypt: seal a bid file to the encryption certificate the encrypt operation returned.
    let enc = Certificate::from_der(&b64(done[4]["data"]["encryptionCertificate"]
        .as_str()
        .unwrap()))
    .unwrap();
    let bid = b"bid file content".to_vec();
    let mut sealed = Vec::new();
    seal_stream(
        p.as_ref(),
        std::slice::from_ref(&enc),
        bid.as_slice(),
        &mut sealed,
        &mut |_| {},
    )
    .unwrap();
    let header = read_header(p.as_ref(), &mut sealed.as_slice()).unwrap();
    let keys: Vec<Value> = header
        .encrypted_keys
        .iter()
        .map(
            |(sn, k)| json!({"id": "bid", "recipientCertSn": sn, "encryptedKey": Bytes(k.clone())}),
        )
        .collect();
    let (tid, qr) = h
        .start_tx(json!({"operation": "decrypt", "keys": keys}))
        .await;
    let (s, v) = h.approve(&qr).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(s, 200, "{v}");
    let cek = b64(v["data"]["keys"][0]["contentKey"].as_str().unwrap());
    let mut out = Vec::new();
    open_stream(
        p.as_ref(),
        sealed.as_slice(),
        &mut out,
        KeySource::ContentKey(&cek),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(out, bid);
    let (_, adapters) = h.get("/api/v1/admin/adapters").await;
    assert_eq!(
        adapters["data"][0]["calls"].as_u64().unwrap(),
        6,
        "{adapters}"
    );
    assert_eq!(
        adapters["data"][0]["failures"].as_u64().unwrap(),
        0,
        "{adapters}"
    );
}

/// Reads Server-Sent Events from `r` until the stream ends: (event name, data) pairs.
async fn read_sse(mut r: reqwest::Response) -> Vec<(String, String)> {
    let mut buf = String::new();
    let mut out = Vec::new();
    while let Some(chunk) = tokio::time::timeout(std::time::Duration::from_secs(20), r.chunk())
        .await
        .expect("the event stream stalled")
        .unwrap()
    {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut name, mut data) = (String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if !name.is_empty() {
                out.push((name, data));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_follows_a_login_to_verified_and_ends() {
    let h = start().await;
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let r = h
        .client
        .get(format!("{}/api/v1/transactions/{tid}/events", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let reader = tokio::spawn(read_sse(r));
    let (s, v) = h.approve(&qr).await;
    assert_eq!(s, 200, "{v}");
    let events = reader.await.unwrap();
    let states: Vec<String> = events
        .iter()
        .map(|(name, data)| {
            assert_eq!(name, "state");
            let v: Value = serde_json::from_str(data).unwrap();
            assert_eq!(v["tid"], tid.as_str());
            v["state"].as_str().unwrap().to_string()
        })
        .collect();
    // Every state in order, each once, ending at the final one (the stream then closes).
    assert_eq!(states.first().map(String::as_str), Some("created"));
    assert_eq!(
        states.last().map(String::as_str),
        Some("verified"),
        "{states:?}"
    );
    let mut sorted = states.clone();
    sorted.dedup();
    assert_eq!(sorted, states);

    // A cancelled transaction's stream ends at `cancelled`.
    let (tid, _) = h.start_tx(json!({"operation": "login"})).await;
    let r = h
        .client
        .get(format!("{}/api/v1/transactions/{tid}/events", h.base))
        .send()
        .await
        .unwrap();
    let reader = tokio::spawn(read_sse(r));
    let (s, v) = h
        .post(&format!("/api/v1/transactions/{tid}/cancel"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let events = reader.await.unwrap();
    let last: Value = serde_json::from_str(&events.last().unwrap().1).unwrap();
    assert_eq!(last["state"], "cancelled");

    // A bad or unknown tid is an envelope, not a stream.
    let (s, v) = h.get("/api/v1/transactions/nonsense/events").await;
    assert_error(s, &v, 400, "TID_INVALID");
    let unknown = tid.replace(&tid[tid.len() - 4..], "0000");
    let (s, v) = h
        .get(&format!("/api/v1/transactions/{unknown}/events"))
        .await;
    assert_error(s, &v, 404, "TX_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bid_file_is_sealed_and_opened_through_the_upload_api() {
    let h = start().await;
    let bid: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let (s, v) = h
        .upload("/api/v1/bidfiles?name=标书.pdf", bid.clone())
        .await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    assert_eq!(v["data"]["operation"], "encrypt");
    // Not answered yet: no envelope.
    let (s, _, _) = h
        .download(&format!("/api/v1/bidfiles/{tid}/envelope"))
        .await;
    assert_eq!(s, 409);
    let (s, v) = h.approve(v["data"]["qrText"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{v}");
    // Sealing in the background, with progress (as the page does).
    let (s, v) = h
        .post(&format!("/api/v1/bidfiles/{tid}/work"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let progress = loop {
        let (s, p) = h.get(&format!("/api/v1/bidfiles/{tid}/progress")).await;
        assert_eq!(s, 200, "{p}");
        if p["data"]["finished"] == true {
            break p;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(progress["data"]["error"].is_null(), "{progress}");
    assert_eq!(progress["data"]["done"], bid.len() as u64, "{progress}");
    assert_eq!(progress["data"]["total"], bid.len() as u64, "{progress}");
    let (s, envelope, cd) = h
        .download(&format!("/api/v1/bidfiles/{tid}/envelope"))
        .await;
    assert_eq!(s, 200);
    assert!(
        cd.unwrap()
            .contains("filename*=UTF-8''%E6%A0%87%E4%B9%A6.pdf.camrbid")
    );
    assert!(envelope.starts_with(b"CAMRBID1"));
    assert!(
        !envelope.windows(64).any(|w| w == &bid[1000..1064]),
        "plaintext leaked"
    );
    // The envelope can be fetched again (same bytes); the plaintext is gone from the server.
    let (_, again, _) = h
        .download(&format!("/api/v1/bidfiles/{tid}/envelope"))
        .await;
    assert_eq!(again, envelope);
    assert!(!h.data.join("files").join(format!("{tid}.plain")).exists());

    // Bid opening.
    let (s, v) = h
        .upload(
            "/api/v1/bidfiles/open?name=标书.pdf.camrbid",
            envelope.clone(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let open_tid = v["data"]["tid"].as_str().unwrap().to_string();
    assert_eq!(v["data"]["operation"], "decrypt");
    let (s, v) = h.approve(v["data"]["qrText"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{v}");
    let (s, opened, cd) = h
        .download(&format!("/api/v1/bidfiles/{open_tid}/plain"))
        .await;
    assert_eq!(s, 200);
    assert!(cd.unwrap().contains("%E6%A0%87%E4%B9%A6.pdf"));
    assert_eq!(opened, bid);
    // Handed out once.
    let (s, body, _) = h
        .download(&format!("/api/v1/bidfiles/{open_tid}/plain"))
        .await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_error(s, &v, 409, "TX_ALREADY_ANSWERED");

    // Failure cases: not an envelope, an empty one, JSON to an upload route, a tid of the
    // wrong operation, an unknown tid, a bad hash name.
    let (s, v) = h
        .upload("/api/v1/bidfiles/open?name=x", b"not an envelope".to_vec())
        .await;
    assert_error(s, &v, 400, "ENVELOPE_MALFORMED");
    let (s, v) = h.upload("/api/v1/bidfiles/open", Vec::new()).await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let (s, v) = h.post("/api/v1/bidfiles", &json!({"file": "x"})).await;
    assert_error(s, &v, 415, "INPUT_MALFORMED");
    let (s, body, _) = h
        .download(&format!("/api/v1/bidfiles/{open_tid}/envelope"))
        .await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let (login_tid, _) = h.start_tx(json!({"operation": "login"})).await;
    let (s, body, _) = h
        .download(&format!("/api/v1/bidfiles/{login_tid}/plain"))
        .await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let (s, body, _) = h.download("/api/v1/bidfiles/../../etc/passwd/plain").await;
    assert!(s == 404 || s == 400, "{s}");
    let _ = body;
    let (s, v) = h
        .upload("/api/v1/files/digest?hash=md5", b"x".to_vec())
        .await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_signature_verifies_and_a_changed_file_does_not() {
    let h = start().await;
    let doc = b"%PDF-1.7 tender document".to_vec();
    let (s, v) = h
        .upload("/api/v1/files/sign?name=tender.pdf", doc.clone())
        .await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    let (s, v) = h.approve(v["data"]["qrText"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{v}");
    let (_, r) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    let item = &r["data"]["signed"][0];
    assert_eq!(item["item"]["name"], "tender.pdf");
    // The hash is SM3 of the file, computed independently here.
    let sm3 = h.provider.digest(camr::crypto::HashAlgorithm::Sm3, &doc);
    assert_eq!(b64(item["item"]["hash"].as_str().unwrap()), sm3);
    let (s, d) = h.upload("/api/v1/files/digest?hash=sm3", doc.clone()).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["data"]["hash"], item["item"]["hash"]);
    let body = json!({
        "hash": item["item"]["hash"], "signature": item["signature"],
        "certificate": r["data"]["certificate"],
    });
    let (s, v) = h.post("/api/v1/verify", &body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["verifySignatureResult"], true, "{v}");
    assert_eq!(v["data"]["subject"]["name"], "张三");
    // Another file's hash: the verdict is false, with the reason.
    let (_, other) = h
        .upload("/api/v1/files/digest", b"%PDF-1.7 changed".to_vec())
        .await;
    let mut bad = body.clone();
    bad["hash"] = other["data"]["hash"].clone();
    let (s, v) = h.post("/api/v1/verify", &bad).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["verifySignatureResult"], false, "{v}");
    assert!(
        v["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("SIGNATURE_INVALID"),
        "{v}"
    );
    // Neither or both of message and hash; a certificate that is not one.
    let mut both = body.clone();
    both["message"] = json!("x");
    let (s, v) = h.post("/api/v1/verify", &both).await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let mut junk = body.clone();
    junk["certificate"] = json!("AAAA");
    let (s, v) = h.post("/api/v1/verify", &junk).await;
    assert_error(s, &v, 400, "CERT_MALFORMED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_with_both_languages() {
    let h = start().await;
    for (path, zh, en) in [
        ("/", "扫码登录", "QR login"),
        ("/sign", "签名", "Sign"),
        ("/bidfile", "投标文件", "Bid file"),
        ("/verify", "验签", "Verify"),
        ("/report", "扫码报告", "Scan report"),
        ("/admin", "管理", "Admin"),
    ] {
        let r = h
            .client
            .get(format!("{}{path}", h.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = r.text().await.unwrap();
        assert!(html.contains(zh) && html.contains(en), "{path}");
        assert!(html.contains("/static/camr.js"), "{path}");
    }
    let js = h
        .client
        .get(format!("{}/static/camr.js", h.base))
        .send()
        .await
        .unwrap();
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.text().await.unwrap().contains("EventSource"));
    // The bid-file page carries the QR panel with the system code and name.
    let html = h
        .client
        .get(format!("{}/bidfile", h.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("C1100005553") && html.contains("移动数字证书(CA)互认模拟测试系统"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_codes_refuse_stale_stripped_and_forged_scans() {
    let h = start().await;
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let payload = camr::qr::parse(&qr).unwrap();
    let rot = payload
        .rotation
        .clone()
        .expect("the code the API gives out rotates");
    let request = |q: String| {
        let url = format!("{}/camr/v1/request/{tid}{q}", h.base);
        let client = h.client.clone();
        async move {
            let r = client.get(url).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    // Stripped of its live part: refused, and the transaction is not marked scanned.
    let (s, v) = request(String::new()).await;
    assert_error(s, &v, 422, "QR_SIGNATURE_INVALID");
    // A forged MAC, a malformed part.
    let mut forged = rot.clone();
    forged.mac.0[0] ^= 1;
    let (s, v) = request(format!("?rot={}", camr::qr::rotation_query(&forged))).await;
    assert_error(s, &v, 422, "QR_SIGNATURE_INVALID");
    let (s, v) = request("?rot=12".into()).await;
    assert_error(s, &v, 400, "QR_MALFORMED");
    let (s, v) = request("?bogus=1".into()).await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    // A step shown 120 s after the start is from the future (the stale case has its own
    // test with a 1 s window).
    let mut future = rot.clone();
    future.step += 120;
    let (s, v) = request(format!("?rot={}", camr::qr::rotation_query(&future))).await;
    assert_error(s, &v, 422, "QR_SIGNATURE_INVALID");
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}")).await;
    assert_eq!(v["data"]["state"], "created");
    // The live code scans.
    let (s, v) = h.approve(&qr).await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_older_than_the_window_is_stale() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = camr_server::ServerConfig::demo(dir.path().join("data"), addr);
    config.qr_rotation_window = Some(1);
    let state = camr_server::build_state(&config).await.unwrap();
    tokio::spawn(camr_server::serve(listener, state, std::future::pending()));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let v: Value = client
        .post(format!("http://{addr}/api/v1/transactions"))
        .json(&json!({"operation": "login"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let payload = camr::qr::parse(v["data"]["qrText"].as_str().unwrap()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let r = client
        .get(format!(
            "{}?rot={}",
            payload.request_uri,
            camr::qr::rotation_query(payload.rotation.as_ref().unwrap())
        ))
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    assert_error(s, &v, 410, "QR_STEP_STALE");
    // The live code of that moment works.
    let live = client
        .get(format!(
            "http://{addr}/api/v1/transactions/{}/qr.txt",
            payload.tid
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let live = camr::qr::parse(&live).unwrap();
    assert!(live.rotation.as_ref().unwrap().step >= 3);
    let r = client
        .get(format!(
            "{}?rot={}",
            live.request_uri,
            camr::qr::rotation_query(live.rotation.as_ref().unwrap())
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_after_expiry_is_refused_and_changes_nothing() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = camr_server::ServerConfig::demo(data.clone(), addr);
    config.transaction_ttl = Some(2);
    let state = camr_server::build_state(&config).await.unwrap();
    tokio::spawn(camr_server::serve(listener, state, std::future::pending()));
    let mut h = start().await;
    // The phone of the harness, pointed at this short-lived server.
    h.base = format!("http://{addr}");
    h.wallet = Wallet::open(&data.join("wallet"), b"123456").unwrap();
    let (_, info) = h.get("/api/v1/platform").await;
    h.key =
        PublicKey::from_spki_der(&b64(info["data"]["publicKeySpki"].as_str().unwrap())).unwrap();
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed, request) = h.scan(&qr).await;
    let response = h.app.approve(&h.wallet, &signed, &request, &[]).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    let (s, v) = h.answer(&response).await;
    assert_error(s, &v, 410, "TX_EXPIRED");
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}")).await;
    assert_eq!(v["data"]["state"], "expired", "{v}");
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_error(s, &v, 410, "TX_EXPIRED");
}

/// PDF seals through the server (签章, 撤章): upload → the app signs the CAdES attributes →
/// the sealed PDF downloads and verifies (camr::seal::verify, trusted); revocation by the
/// signer hides it; another holder's revocation answer is refused; bad uploads are typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_is_sealed_and_revoked_through_the_app() {
    use camr::seal;
    let h = start().await;
    let pdf = seal::sample_pdf(2).unwrap();
    let (s, v) = h
        .upload(
            "/api/v1/pdf/seal?name=投标文件.pdf&page=2&x=400&y=100&width=100&reason=投标",
            pdf.clone(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    let qr = v["data"]["qrText"].as_str().unwrap().to_string();
    // Before the answer: pending.
    let (s, v) = h.get(&format!("/api/v1/pdf/{tid}/report")).await;
    assert_error(s, &v, 409, "TX_PENDING");
    let (signed, request) = h.scan(&qr).await;
    let camr::protocol::OperationPayload::Signature { items } = &request.payload else {
        panic!("{request:?}")
    };
    assert_eq!(items[0].name, "投标文件.pdf");
    assert_eq!(items[0].format, camr::protocol::SignFormat::CadesAttributes);
    let answer = h.app.approve(&h.wallet, &signed, &request, &[]).unwrap();
    let (s, v) = h.answer(&answer).await;
    assert_eq!(s, 200, "{v}");
    let (s, sealed, cd) = h.download(&format!("/api/v1/pdf/{tid}/sealed")).await;
    assert_eq!(s, 200);
    assert!(cd.unwrap().contains("-sealed.pdf"));
    assert!(
        sealed.starts_with(&pdf),
        "an incremental update of the upload"
    );
    // Checked here with the platform's own root, independently of the server's report.
    let root =
        Certificate::parse_one(&std::fs::read(h.data.join("ca/root-cert.pem")).unwrap()).unwrap();
    let mut trust = camr::pki::TrustStore::new();
    trust.add(root);
    let validator = camr::pki::ChainValidator::new(h.provider.clone(), trust);
    let report = seal::verify(
        h.provider.as_ref(),
        &sealed,
        Some(&validator),
        camr::qr::unix_now(),
    )
    .unwrap();
    assert!(report.all_valid, "{}", report.human());
    assert_eq!(report.seals[0].widgets[0].page, 2);
    assert_eq!(report.seals[0].signer.as_ref().unwrap().name, "张三");
    let (s, v) = h.get(&format!("/api/v1/pdf/{tid}/report")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["seals"][0]["trusted"], true, "{v}");
    let (s, again, _) = h.download(&format!("/api/v1/pdf/{tid}/sealed")).await;
    assert_eq!((s, again == sealed), (200, true), "the same file again");

    // 撤章 by another holder of the same CA: the app may answer, the server refuses.
    let mut ca = camr::softca::SoftCa::open(h.provider.clone(), &h.data.join("ca")).unwrap();
    let other_dir = h.data.join("other-wallet");
    let holder = camr::softca::Holder::personal("王五");
    ca.issue(&holder, b"123456", &other_dir, 30).unwrap();
    let other = Wallet::open(&other_dir, b"123456").unwrap();
    let (s, v) = h
        .upload(
            "/api/v1/pdf/revoke?name=投标文件.pdf&field=Seal1&reason=报价有误",
            sealed.clone(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let tid2 = v["data"]["tid"].as_str().unwrap().to_string();
    let (signed, request) = h.scan(v["data"]["qrText"].as_str().unwrap()).await;
    let answer = h.app.approve(&other, &signed, &request, &[]).unwrap();
    assert_eq!(h.answer(&answer).await.0, 200);
    let (s, v) = h.get(&format!("/api/v1/pdf/{tid2}/report")).await;
    assert_error(s, &v, 403, "PDF_REVOKE_DENIED");
    // By the signer: the seal is reported revoked.
    let (_, v) = h
        .upload("/api/v1/pdf/revoke?field=Seal1", sealed.clone())
        .await;
    let tid3 = v["data"]["tid"].as_str().unwrap().to_string();
    assert_eq!(
        h.approve(v["data"]["qrText"].as_str().unwrap()).await.0,
        200
    );
    let (s, revoked, cd) = h.download(&format!("/api/v1/pdf/{tid3}/sealed")).await;
    assert_eq!(s, 200);
    assert!(cd.unwrap().contains("-revoked.pdf"));
    let (s, v) = h.upload("/api/v1/pdf/verify", revoked).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["data"]["seals"][0]["revoked"]["by"]["name"], "张三",
        "{v}"
    );
    assert_eq!(v["data"]["allValid"], false);

    // Refusals: not a PDF, a missing keyword, no placement, a bad alg, an unknown field.
    let (s, v) = h
        .upload("/api/v1/pdf/seal?page=1&x=1&y=1", b"not a pdf".to_vec())
        .await;
    assert_error(s, &v, 400, "PDF_MALFORMED");
    let (s, v) = h
        .upload("/api/v1/pdf/seal?keyword=没有这个词", pdf.clone())
        .await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    assert!(v["msg"].as_str().unwrap().contains("没有这个词"), "{v}");
    let (s, v) = h.upload("/api/v1/pdf/seal", pdf.clone()).await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let (s, v) = h
        .upload("/api/v1/pdf/seal?everyPage=true&alg=dsa", pdf.clone())
        .await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let (s, v) = h
        .upload("/api/v1/pdf/revoke?field=Seal9", sealed.clone())
        .await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let (s, v) = h
        .get("/api/v1/pdf/C1100005553ffffffffffffffffffffffffffffffff/sealed")
        .await;
    assert!(s == 404 || s == 400, "{s} {v}");
}
