//! Issue 9, item 6 — the decrypt gate (Epoint manual 4.5.7 扫码解密投标文件: "前置条件：投标人
//! 已完成签到，开标时间已到"): the reference server's bid-opening hall (不见面开标大厅) over real
//! HTTP on loopback, with `camr::app` playing the bidder's phone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use camr::app::{App, Wallet};
use camr::ceremony::verify_signed_request;
use camr::crypto::{CryptoProvider, PublicKey, default_provider};
use camr::envelope::seal_stream;
use camr::protocol::{Bytes, SignedRequest};
use camr_server::AppState;
use camr_server::hall::{HallConfig, Opening};
use serde_json::{Value, json};

struct Hall {
    base: String,
    client: reqwest::Client,
    state: Arc<AppState>,
    provider: Arc<dyn CryptoProvider>,
    key: PublicKey,
    app: App,
    wallet: Wallet,
    _dir: tempfile::TempDir,
}

/// The demo server in-process, its hall opening at `opening`.
async fn start(opening: Opening) -> Hall {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data: PathBuf = dir.path().join("data");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = camr_server::ServerConfig::demo(data.clone(), addr);
    config.hall = HallConfig {
        project: "测试项目（第一标段）".into(),
        opening,
        // Envelopes outside the opening are decrypted too (bid-file page).
        free_decrypts: true,
    };
    let state = camr_server::build_state(&config).await.unwrap();
    tokio::spawn(camr_server::serve(
        listener,
        state.clone(),
        std::future::pending(),
    ));
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let info: Value = client
        .get(format!("{base}/api/v1/platform"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let spki: Bytes = serde_json::from_value(info["data"]["publicKeySpki"].clone()).unwrap();
    let provider = default_provider();
    Hall {
        key: PublicKey::from_spki_der(&spki).unwrap(),
        app: App::new(provider.clone(), "SOFTCA"),
        wallet: Wallet::open(&data.join("wallet"), b"123456").unwrap(),
        provider,
        client,
        base,
        state,
        _dir: dir,
    }
}

fn now() -> i64 {
    camr::qr::unix_now()
}

impl Hall {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn post(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn upload(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn download(&self, path: &str) -> (u16, Vec<u8>) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }

    /// The bidder's phone scans `qr_text` and approves with the demo wallet.
    async fn scan_and_approve(&self, qr_text: &str) -> Value {
        let (status, v) = self.answer_with(&self.wallet, qr_text).await;
        assert_eq!(status, 200, "{v}");
        v
    }

    /// A phone with `wallet` scans `qr_text` and approves; the platform's answer.
    async fn answer_with(&self, wallet: &Wallet, qr_text: &str) -> (u16, Value) {
        let payload = camr::qr::parse_and_verify(
            self.provider.as_ref(),
            qr_text,
            &self.key,
            camr::qr::VerifyOptions::at(now()),
        )
        .unwrap();
        let uri = match &payload.rotation {
            Some(rot) => format!(
                "{}?rot={}",
                payload.request_uri,
                camr::qr::rotation_query(rot)
            ),
            None => payload.request_uri.clone(),
        };
        let v: Value = self
            .client
            .get(&uri)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let signed: SignedRequest = serde_json::from_value(v["data"].clone()).unwrap();
        let request = verify_signed_request(self.provider.as_ref(), &signed, &self.key).unwrap();
        let response = self.app.approve(wallet, &signed, &request, &[]).unwrap();
        let r = self
            .client
            .post(format!("{}/camr/v1/response", self.base))
            .json(&response)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// A bid file sealed to the demo wallet's encryption certificate (as the bidder's tool
    /// made it before the opening).
    fn seal(&self, bid: &[u8]) -> Vec<u8> {
        let mut sealed = Vec::new();
        seal_stream(
            self.provider.as_ref(),
            std::slice::from_ref(&self.wallet.enc_cert),
            bid,
            &mut sealed,
            &mut |_| {},
        )
        .unwrap();
        sealed
    }

    /// Submits a sealed bid to the hall (递交投标文件); returns its id.
    async fn submit(&self, sealed: Vec<u8>) -> String {
        let (s, v) = self
            .upload("/api/v1/hall/bids?name=标书.pdf.camrbid", sealed)
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["data"]["name"], "标书.pdf");
        assert_eq!(
            v["data"]["recipients"],
            json!([self.wallet.enc_cert.serial_hex().to_ascii_lowercase()])
        );
        v["data"]["id"].as_str().unwrap().to_string()
    }

    /// The bidder signs in (签到) for `bid` by scanning the hall's login QR.
    async fn sign_in(&self, bid: &str) {
        self.sign_in_with(&self.wallet, bid).await;
    }

    /// Whoever holds `wallet` signs in for `bid`.
    async fn sign_in_with(&self, wallet: &Wallet, bid: &str) {
        let (s, v) = self.post(&format!("/api/v1/hall/signin?bid={bid}")).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["data"]["operation"], "login");
        let (s, answered) = self
            .answer_with(wallet, v["data"]["qrText"].as_str().unwrap())
            .await;
        assert_eq!(s, 200, "{answered}");
        assert_eq!(answered["data"]["state"], "verified", "{answered}");
    }

    fn bid_of<'a>(view: &'a Value, bid: &str) -> &'a Value {
        view["data"]["bids"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == bid)
            .unwrap()
    }
}

fn assert_refused(status: u16, v: &Value, code: &str, words: &str) {
    assert_eq!(status, 403, "{v}");
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["errorCode"], code, "{v}");
    assert!(v["data"].is_null(), "{v}");
    assert!(v["msg"].as_str().unwrap().contains(words), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bid_opens_only_after_the_opening_time_and_the_bidders_sign_in() {
    let h = start(Opening::AfterStart(3600)).await;
    let (s, view) = h.get("/api/v1/hall").await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["data"]["project"], "测试项目（第一标段）");
    assert_eq!(view["data"]["opened"], false);
    let opens_at = view["data"]["opensAt"].as_i64().unwrap();
    assert!(opens_at > now() + 3000, "{view}");

    let bid_file: Vec<u8> = (0..200_000u32).map(|i| (i * 13 % 256) as u8).collect();
    let sealed = h.seal(&bid_file);
    let bid = h.submit(sealed.clone()).await;

    // Before the opening time: refused, in the hall and through the generic routes alike.
    let (s, v) = h.post(&format!("/api/v1/hall/decrypt?bid={bid}")).await;
    assert_refused(s, &v, "BID_OPENING_NOT_REACHED", "开标时间未到");
    let (s, v) = h
        .upload(
            "/api/v1/bidfiles/open?name=标书.pdf.camrbid",
            sealed.clone(),
        )
        .await;
    assert_refused(s, &v, "BID_OPENING_NOT_REACHED", "开标时间未到");

    // The opening time is reached, but the bidder has not signed in.
    h.state.hall.set_opens_at(now() - 1).await.unwrap();
    let (_, view) = h.get("/api/v1/hall").await;
    assert_eq!(view["data"]["opened"], true);
    assert!(
        Hall::bid_of(&view, &bid).get("signedIn").is_none(),
        "{view}"
    );
    let (s, v) = h.post(&format!("/api/v1/hall/decrypt?bid={bid}")).await;
    assert_refused(s, &v, "BIDDER_NOT_SIGNED_IN", "投标人未签到");
    let (s, v) = h
        .upload(
            "/api/v1/bidfiles/open?name=标书.pdf.camrbid",
            sealed.clone(),
        )
        .await;
    assert_refused(s, &v, "BIDDER_NOT_SIGNED_IN", "投标人未签到");

    // A sign-in that is started but not answered does not count.
    let (s, v) = h.post(&format!("/api/v1/hall/signin?bid={bid}")).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h.post(&format!("/api/v1/hall/decrypt?bid={bid}")).await;
    assert_refused(s, &v, "BIDDER_NOT_SIGNED_IN", "投标人未签到");

    // The bidder signs in (签到): the hall shows the certificate holder.
    h.sign_in(&bid).await;
    let (_, view) = h.get("/api/v1/hall").await;
    let signed_in = &Hall::bid_of(&view, &bid)["signedIn"];
    assert_eq!(signed_in["name"], "张三", "{view}");
    assert_eq!(signed_in["organization"], "某某建设有限公司", "{view}");
    assert_eq!(
        signed_in["certSn"],
        h.wallet.sign_cert.serial_hex().to_ascii_lowercase()
    );

    // Signed in and the time reached: decrypt QR → the phone unwraps the key → the file.
    let (s, v) = h.post(&format!("/api/v1/hall/decrypt?bid={bid}")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["operation"], "decrypt");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    let answered = h
        .scan_and_approve(v["data"]["qrText"].as_str().unwrap())
        .await;
    assert_eq!(answered["data"]["state"], "verified", "{answered}");
    let (s, opened) = h.download(&format!("/api/v1/bidfiles/{tid}/plain")).await;
    assert_eq!(s, 200);
    assert!(
        opened == bid_file,
        "the opened bid file differs from the one sealed"
    );
    // Handed out once.
    let (s, _) = h.download(&format!("/api/v1/bidfiles/{tid}/plain")).await;
    assert_ne!(s, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_elses_sign_in_does_not_let_the_bid_be_decrypted_until_its_bidder_signs_in() {
    let h = start(Opening::AfterStart(3600)).await;
    // 李四, another holder of the same CA, signs in for 张三's bid.
    let other_dir = h._dir.path().join("other-wallet");
    let mut ca =
        camr::softca::SoftCa::open(h.provider.clone(), &h._dir.path().join("data/ca")).unwrap();
    let mut holder = camr_server::demo::demo_holder();
    holder.name = "李四".into();
    ca.issue(&holder, b"654321", &other_dir, 30).unwrap();
    let other = Wallet::open(&other_dir, b"654321").unwrap();
    let bid_file = b"bid of zhang san".to_vec();
    let bid = h.submit(h.seal(&bid_file)).await;
    h.state.hall.set_opens_at(now()).await.unwrap();
    h.sign_in_with(&other, &bid).await;
    let (_, view) = h.get("/api/v1/hall").await;
    assert_eq!(Hall::bid_of(&view, &bid)["signedIn"]["name"], "李四");

    // The decrypt starts (the bid has a sign-in), but 张三's answer is not 李四's: refused,
    // and the transaction stays open.
    let (s, v) = h.post(&format!("/api/v1/hall/decrypt?bid={bid}")).await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    let qr = v["data"]["qrText"].as_str().unwrap().to_string();
    let (s, v) = h.answer_with(&h.wallet, &qr).await;
    assert_refused(s, &v, "BIDDER_NOT_SIGNED_IN", "投标人未签到");
    assert!(v["msg"].as_str().unwrap().contains("张三"), "{v}");
    let (_, tx) = h.get(&format!("/api/v1/transactions/{tid}")).await;
    assert_eq!(tx["data"]["state"], "scanned", "{tx}");
    let (s, _) = h.download(&format!("/api/v1/bidfiles/{tid}/plain")).await;
    assert_ne!(s, 200);

    // 张三 signs in himself; his answer to the same decrypt QR now opens the bid.
    h.sign_in(&bid).await;
    let (s, v) = h.answer_with(&h.wallet, &qr).await;
    assert_eq!(s, 200, "{v}");
    let (s, opened) = h.download(&format!("/api/v1/bidfiles/{tid}/plain")).await;
    assert_eq!((s, opened), (200, bid_file));
}

/// 逾期送达的投标文件应当拒收: from the opening time on, the hall takes no bid — the second
/// of the opening included, a bid that finished arriving late included — and says so with its
/// own code and the opening time as people read it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bid_delivered_from_the_opening_time_on_is_refused_as_late() {
    let h = start(Opening::AfterStart(3600)).await;
    let on_time = h.submit(h.seal(b"on time")).await;

    let opens_at = now();
    h.state.hall.set_opens_at(opens_at).await.unwrap();
    for late in [h.seal(b"late"), h.seal(b"on time")] {
        let (s, v) = h
            .upload("/api/v1/hall/bids?name=迟到.pdf.camrbid", late)
            .await;
        assert_refused(s, &v, "BID_SUBMISSION_CLOSED", "逾期送达的投标文件不予接收");
        let msg = v["msg"].as_str().unwrap();
        assert!(msg.contains(&camr::time::format_time(opens_at)), "{v}");
        assert!(!msg.contains(&opens_at.to_string()), "no unix seconds: {v}");
    }
    // Another instance (or the agent) moved the opening: the store's time counts.
    h.state.hall.set_opens_at(now() - 3600).await.unwrap();
    let (s, v) = h
        .upload("/api/v1/hall/bids?name=x.camrbid", h.seal(b"later"))
        .await;
    assert_refused(s, &v, "BID_SUBMISSION_CLOSED", "投标已截止");
    // Only the bid delivered in time is in the hall.
    let (_, view) = h.get("/api/v1/hall").await;
    let bids = view["data"]["bids"].as_array().unwrap();
    assert_eq!(bids.len(), 1, "{view}");
    assert_eq!(bids[0]["id"], on_time.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_early_does_not_open_the_bid_before_the_opening_time() {
    let h = start(Opening::At(now() + 86_400)).await;
    let bid_file = "投标报价 1,280,000.00 元".as_bytes().to_vec();
    let bid = h.submit(h.seal(&bid_file)).await;
    h.sign_in(&bid).await;
    let (s, v) = h.post(&format!("/api/v1/hall/decrypt?bid={bid}")).await;
    assert_refused(s, &v, "BID_OPENING_NOT_REACHED", "开标时间未到");

    // The opening is brought forward to now: the signed-in bidder opens the bid through the
    // generic bid-opening route as well.
    h.state.hall.set_opens_at(now()).await.unwrap();
    let (s, v) = h
        .upload(
            "/api/v1/bidfiles/open?name=标书.txt.camrbid",
            h.seal(&bid_file),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    h.scan_and_approve(v["data"]["qrText"].as_str().unwrap())
        .await;
    let (s, opened) = h.download(&format!("/api/v1/bidfiles/{tid}/plain")).await;
    assert_eq!((s, opened), (200, bid_file));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelopes_not_submitted_to_the_opening_are_not_gated_and_bad_input_is_refused() {
    let h = start(Opening::AfterStart(3600)).await;
    // Another envelope, sealed for the same bidder but not submitted to this opening.
    let (s, v) = h
        .upload("/api/v1/bidfiles/open?name=other.camrbid", h.seal(b"other"))
        .await;
    assert_eq!(s, 200, "{v}");

    let (s, v) = h.post("/api/v1/hall/decrypt?bid=nope").await;
    assert_eq!(
        (s, v["errorCode"].as_str()),
        (404, Some("BID_NOT_FOUND")),
        "{v}"
    );
    let (s, v) = h.post("/api/v1/hall/signin").await;
    assert_eq!(
        (s, v["errorCode"].as_str()),
        (400, Some("INPUT_MALFORMED")),
        "{v}"
    );
    let (s, v) = h
        .upload("/api/v1/hall/bids?name=x", b"not an envelope".to_vec())
        .await;
    assert_eq!(
        (s, v["errorCode"].as_str()),
        (400, Some("ENVELOPE_MALFORMED")),
        "{v}"
    );
    let (_, view) = h.get("/api/v1/hall").await;
    assert_eq!(view["data"]["bids"], json!([]));
}

/// Several tenders (招标项目) in one hall: each takes bids and opens them at its own time;
/// only the operator adds a tender.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tender_takes_and_opens_its_bids_at_its_own_time() {
    let h = start(Opening::AfterStart(3600)).await;
    let tender = json!({"id": "ZB-2026-002", "project": "第二标段", "opensAt": now() + 86_400});
    let add = |token: Option<&str>, body: Value| {
        let mut r = h
            .client
            .post(format!("{}/api/v1/hall/tenders", h.base))
            .json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move {
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    // Anonymous, or with a wrong token: refused.
    for token in [None, Some("not-the-token")] {
        let (s, v) = add(token, tender.clone()).await;
        assert_eq!(
            (s, v["errorCode"].as_str()),
            (401, Some("UNAUTHORIZED")),
            "{v}"
        );
    }
    let admin = h.state.ops.admin_token().to_string();
    let (s, v) = add(Some(&admin), tender.clone()).await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = add(Some(&admin), tender.clone()).await;
    assert_eq!(s, 200, "the same tender again changes nothing");
    let mut other = tender.clone();
    other["project"] = json!("另一个项目");
    let (s, v) = add(Some(&admin), other).await;
    assert_eq!(
        (s, v["errorCode"].as_str()),
        (409, Some("TENDER_EXISTS")),
        "{v}"
    );
    let (_, list) = h.get("/api/v1/hall/tenders").await;
    assert_eq!(
        list["data"]["defaultTender"], "测试项目（第一标段）",
        "{list}"
    );
    assert_eq!(
        list["data"]["tenders"].as_array().unwrap().len(),
        2,
        "{list}"
    );

    // The configured tender opens now: its submission closes, the second one's does not.
    h.state.hall.set_opens_at(now() - 1).await.unwrap();
    let (s, v) = h
        .upload("/api/v1/hall/bids?name=a.camrbid", h.seal(b"a"))
        .await;
    assert_refused(s, &v, "BID_SUBMISSION_CLOSED", "投标已截止");
    let (s, v) = h
        .upload(
            "/api/v1/hall/bids?tender=ZB-2026-002&name=b.camrbid",
            h.seal(b"second"),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["tender"], "ZB-2026-002");
    let bid = v["data"]["id"].as_str().unwrap().to_string();
    let (_, view) = h.get("/api/v1/hall?tender=ZB-2026-002").await;
    assert_eq!(view["data"]["project"], "第二标段");
    assert_eq!(view["data"]["bids"][0]["id"], bid.as_str(), "{view}");
    let (_, view) = h.get("/api/v1/hall").await;
    assert_eq!(view["data"]["bids"], json!([]), "{view}");

    // Its bid waits for its own tender's opening, not the configured one's.
    h.sign_in(&bid).await;
    // A certificate holder (this browser now owns the bidder's sign-in) adds no tender either.
    let (s, v) = add(
        None,
        json!({"id": "ZB-X", "project": "x", "opensAt": now()}),
    )
    .await;
    assert_eq!(
        (s, v["errorCode"].as_str()),
        (401, Some("UNAUTHORIZED")),
        "{v}"
    );
    let (s, v) = h.post(&format!("/api/v1/hall/decrypt?bid={bid}")).await;
    assert_refused(s, &v, "BID_OPENING_NOT_REACHED", "开标时间未到");
    h.state
        .hall
        .sdk
        .set_opens_at("ZB-2026-002", now())
        .await
        .unwrap();
    let (s, v) = h.post(&format!("/api/v1/hall/decrypt?bid={bid}")).await;
    assert_eq!(s, 200, "{v}");

    let (s, v) = h.get("/api/v1/hall?tender=nope").await;
    assert_eq!(
        (s, v["errorCode"].as_str()),
        (404, Some("TENDER_NOT_FOUND")),
        "{v}"
    );
    let (s, v) = h
        .upload("/api/v1/hall/bids?tender=nope&name=c", h.seal(b"c"))
        .await;
    assert_eq!(
        (s, v["errorCode"].as_str()),
        (404, Some("TENDER_NOT_FOUND")),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hall_page_shows_the_project_the_countdown_and_is_in_the_menu() {
    let h = start(Opening::AfterStart(60)).await;
    let r = h
        .client
        .get(format!("{}/hall", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    for want in [
        "不见面开标大厅",
        "Bid-opening hall",
        "测试项目（第一标段）",
        "投标人已完成签到，开标时间已到",
        "id=\"countdown\"",
        "/api/v1/hall/signin",
        "/api/v1/hall/decrypt",
        "系统标识码",
        "href=\"/hall\" class=\"on\"",
    ] {
        assert!(html.contains(want), "missing {want}");
    }
    let login = h
        .client
        .get(format!("{}/", h.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("href=\"/hall\""));
}

#[test]
fn the_opening_time_is_configured_by_file_and_environment() {
    use camr_server::config::{Flags, resolve};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("camr.toml");
    std::fs::write(
        &file,
        "[hall]\nproject = \"某某工程\"\nopening_in_secs = 600\n",
    )
    .unwrap();
    let c = resolve(Some(&file), &[], &Flags::default()).unwrap();
    assert_eq!(c.hall.project, "某某工程");
    assert_eq!(c.hall.opening, Opening::AfterStart(600));
    let env = [(
        "CAMR_SERVER_HALL_OPENING_AT".to_string(),
        "1780000000".to_string(),
    )];
    let c = resolve(Some(&file), &env, &Flags::default()).unwrap();
    assert_eq!(c.hall.opening, Opening::At(1_780_000_000));
    // The demo default: a minute after the start.
    let c = resolve(None, &[], &Flags::default()).unwrap();
    assert_eq!(c.hall.opening, Opening::AfterStart(60));
    let env = [(
        "CAMR_SERVER_HALL_OPENING_IN_SECS".to_string(),
        "soon".to_string(),
    )];
    let err = resolve(None, &env, &Flags::default()).unwrap_err();
    assert!(err.to_string().contains("hall.opening_in_secs"), "{err}");
}
