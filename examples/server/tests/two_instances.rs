//! Issue 17, item 3: two `camr-server` processes on one PostgreSQL database and one data
//! folder, behind a round-robin proxy that sends each request to the other instance (the QR
//! codes' URIs point at the proxy). Through it, with `camr-app` as the phone: a login whose
//! status stream listens on one instance while the app answers through the proxy; a seal
//! session with two placements, the phone and the page alternating instances; a bid opening
//! (decrypt refused before the opening time, sign-in and decrypt on different instances);
//! then one instance is killed with SIGKILL in the middle of a seal session and the other
//! finishes it. Each step is printed; `scripts/two-instances.sh` runs this test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use camr_app_sim::{PlatformKeySource, QrSource, ScanOptions, Ui};
use common::procs::{
    Device, DropDb, Proxy, client, free_port, postgres_database, spawn_with, sse_states,
    start_login,
};
use serde_json::{Value, json};

fn step(text: &str) {
    eprintln!("two-instances: {text}");
}

/// The phone's screen, dropped.
struct Quiet;

impl Ui for Quiet {
    fn say(&mut self, _line: &str) {}
    fn ask(&mut self, _prompt: &str) -> Option<String> {
        None
    }
}

/// `camr-app scan` of `qr` in a thread: it authorises, then waits and signs every placement.
fn phone(data: &Path, qr: &str) -> std::thread::JoinHandle<Result<camr_app_sim::Outcome, String>> {
    let options = ScanOptions {
        qr: QrSource::Payload(qr.to_string()),
        wallet: data.join("wallet"),
        pin: Some("123456".into()),
        reject: None,
        yes: true,
        platform_key: PlatformKeySource::File(data.join("platform-pub.pem")),
        cert: None,
        delegation: None,
        wallets: Vec::new(),
        refuse_items: Vec::new(),
    };
    std::thread::spawn(move || camr_app_sim::scan(&options, &mut Quiet).map_err(|e| e.to_string()))
}

struct Page {
    c: reqwest::blocking::Client,
    base: String,
}

impl Page {
    fn get(&self, path: &str) -> Value {
        self.c
            .get(format!("{}{path}", self.base))
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.c
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    fn post_empty(&self, path: &str) -> Value {
        self.c
            .post(format!("{}{path}", self.base))
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    fn upload(&self, path: &str, body: Vec<u8>) -> Value {
        self.c
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    fn bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let r = self.c.get(format!("{}{path}", self.base)).send().unwrap();
        (r.status().as_u16(), r.bytes().unwrap().to_vec())
    }

    /// Polls the seal session until `want` holds.
    fn until(&self, tid: &str, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.get(&format!("/api/v1/seal-sessions/{tid}"));
            if want(&v["data"]) {
                return v["data"].clone();
            }
            assert!(Instant::now() < deadline, "{what}: {v}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Opens a seal session over a one-page PDF; the phone authorises it; returns the tid,
    /// the phone and the code of the seal offered.
    #[allow(clippy::type_complexity)]
    fn seal_session(
        &self,
        data: &Path,
    ) -> (
        String,
        std::thread::JoinHandle<Result<camr_app_sim::Outcome, String>>,
        String,
    ) {
        let v = self.upload(
            "/api/v1/seal-sessions?name=合同.pdf",
            camr::seal::sample_pdf(1).unwrap(),
        );
        assert_eq!(v["success"], true, "{v}");
        let tid = v["data"]["tid"].as_str().unwrap().to_string();
        let phone = phone(data, v["data"]["qrText"].as_str().unwrap());
        self.until(&tid, "authorised", |v| v["state"] == "authorised");
        let seals = self.get(&format!("/api/v1/seal-sessions/{tid}/seals"));
        let code = seals["data"][0]["code"].as_str().unwrap().to_string();
        (tid, phone, code)
    }

    /// Places a seal and waits until the phone signed it (`n` seals applied).
    fn place(&self, tid: &str, code: &str, y: u32, n: usize) {
        let v = self.post(
            &format!("/api/v1/seal-sessions/{tid}/place"),
            json!({"sealCode": code, "pages": [1], "x": 80, "y": y}),
        );
        assert_eq!(v["success"], true, "{v}");
        self.until(tid, "the seal signed", |v| {
            v["applied"].as_array().is_some_and(|a| a.len() == n)
        });
    }

    /// Finishes the session and checks its document holds `n` valid seals.
    fn finish(&self, tid: &str, n: usize, data: &Path) {
        let v = self.post(&format!("/api/v1/seal-sessions/{tid}/finish"), json!({}));
        assert_eq!(v["data"]["state"], "finished", "{v}");
        let (s, pdf) = self.bytes(&format!("/api/v1/seal-sessions/{tid}/document"));
        assert_eq!(s, 200);
        let root = camr::pki::Certificate::parse_one(
            &std::fs::read(data.join("ca/root-cert.pem")).unwrap(),
        )
        .unwrap();
        let mut trust = camr::pki::TrustStore::new();
        trust.add(root);
        let provider = camr::crypto::default_provider();
        let validator = camr::pki::ChainValidator::new(provider.clone(), trust);
        let report = camr::seal::verify(
            provider.as_ref(),
            &pdf,
            Some(&validator),
            camr::qr::unix_now(),
        )
        .unwrap();
        assert!(report.all_valid, "{}", report.human());
        assert_eq!(report.seals.len(), n, "{}", report.human());
    }
}

#[test]
fn two_instances_behind_a_round_robin_proxy_continue_each_others_work() {
    let Some((admin, url)) = postgres_database() else {
        return;
    };
    let _cleanup = DropDb(admin, url.clone());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let proxy_port = free_port();
    let public = format!("http://127.0.0.1:{proxy_port}");
    let opens_at = camr::qr::unix_now() + 45;
    let env = [
        ("CAMR_SERVER_HALL_OPENING_AT", opens_at.to_string()),
        ("CAMR_SERVER_REGISTRATION_APPROVAL", "staff".to_string()),
    ];
    let a = spawn_with(&data, &url, Some(&public), &env);
    let b = spawn_with(&data, &url, Some(&public), &env);
    let proxy = Proxy::start(proxy_port, vec![a.base.clone(), b.base.clone()]);
    step(&format!(
        "instances {} and {} on one database, proxy {}",
        a.base, b.base, proxy.base
    ));
    let page = Page {
        c: client(),
        base: proxy.base.clone(),
    };

    step("1. login: the status stream listens on A; the app fetches and answers through the proxy");
    let (tid, qr) = start_login(&page.c, &proxy.base);
    // The stream is the owner's: the page's credential (a cookie for the host) goes to A.
    let stream = page
        .c
        .get(format!("{}/api/v1/transactions/{tid}/events", a.base))
        .send()
        .unwrap();
    assert!(stream.status().is_success(), "{}", stream.status());
    let follower = std::thread::spawn(move || sse_states(stream));
    std::thread::sleep(Duration::from_millis(200));
    let v = Device::new(&data).approve(&qr, &proxy.base).unwrap();
    assert_eq!(v["state"], "verified", "{v}");
    let states = follower.join().unwrap();
    assert_eq!(
        states.last().map(String::as_str),
        Some("verified"),
        "{states:?}"
    );
    let v = page.get(&format!("/api/v1/transactions/{tid}/result"));
    assert_eq!(v["data"]["subject"]["name"], "张三", "{v}");
    // The attacker: another browser (no owner credential) through the proxy, on either
    // instance, reads no identity.
    let stranger = Page {
        c: client(),
        base: proxy.base.clone(),
    };
    for _ in 0..2 {
        let v = stranger.get(&format!("/api/v1/transactions/{tid}/result"));
        assert_eq!(v["errorCode"], "TX_NOT_OWNER", "{v}");
        assert!(v["data"].is_null(), "{v}");
    }
    step(
        "   verified; A's stream ended with `verified`; the owner reads the result through either instance, a stranger through neither",
    );

    step(
        "   registration: the holder registers through one instance, staff approve it on the other",
    );
    let v = page.post(
        "/api/v1/registrations",
        json!({"tid": tid, "mobile": "13800138000", "contact": "李经理"}),
    );
    assert_eq!(v["data"]["status"], "pending", "{v}");
    let account = v["data"]["id"].as_str().unwrap().to_string();
    let decided: Value = page
        .c
        .post(format!("{}/api/v1/admin/accounts/decide", proxy.base))
        .bearer_auth(common::procs::ADMIN_TOKEN)
        .json(&json!({"accountId": account, "approve": true}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(decided["data"]["status"], "active", "{decided}");
    for base in [&a.base, &b.base] {
        let listed: Value = page
            .c
            .get(format!("{base}/api/v1/admin/accounts?status=active"))
            .bearer_auth(common::procs::ADMIN_TOKEN)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(listed["data"][0]["id"], account.as_str(), "{listed}");
    }
    step("   approved; both instances list the account as active");

    step("2. seal session: two placements, the phone and the page alternating instances");
    let (tid, phone1, code) = page.seal_session(&data);
    page.place(&tid, &code, 600, 1);
    page.place(&tid, &code, 200, 2);
    page.finish(&tid, 2, &data);
    let outcome = phone1.join().unwrap().unwrap();
    assert_eq!(outcome.session_seals, 2);
    step("   two seals signed by the phone, the sealed PDF verifies");

    step(
        "3. bid opening: three bids to two tenders; decrypt refused before the opening time; sign-in and decrypt on different instances",
    );
    // The second tender, added by the operator through one instance, seen by both.
    let v: Value = page
        .c
        .post(format!("{}/api/v1/hall/tenders", proxy.base))
        .bearer_auth(common::procs::ADMIN_TOKEN)
        .json(&json!({"id": "ZB-2", "project": "第二标段", "opensAt": opens_at}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["success"], true, "{v}");
    for _ in 0..2 {
        let v = page.get("/api/v1/hall/tenders");
        assert_eq!(v["data"]["tenders"].as_array().unwrap().len(), 2, "{v}");
    }
    let device = Device::new(&data);
    let mut bids = Vec::new();
    for i in 0..3 {
        let tender = if i == 2 { "tender=ZB-2&" } else { "" };
        let mut sealed = Vec::new();
        camr::envelope::seal_stream(
            camr::crypto::default_provider().as_ref(),
            std::slice::from_ref(&device.wallet.enc_cert),
            format!("投标文件 {i}").as_bytes(),
            &mut sealed,
            &mut |_| {},
        )
        .unwrap();
        let v = page.upload(
            &format!("/api/v1/hall/bids?{tender}name=标书{i}.pdf.camrbid"),
            sealed,
        );
        assert_eq!(v["success"], true, "{v}");
        bids.push(v["data"]["id"].as_str().unwrap().to_string());
    }
    let v = page.post_empty(&format!("/api/v1/hall/decrypt?bid={}", bids[0]));
    assert_eq!(v["errorCode"], "BID_OPENING_NOT_REACHED", "{v}");
    for bid in &bids[..2] {
        let v = page.post_empty(&format!("/api/v1/hall/signin?bid={bid}"));
        let answered = device
            .approve(v["data"]["qrText"].as_str().unwrap(), &proxy.base)
            .unwrap();
        assert_eq!(answered["state"], "verified", "{answered}");
    }
    while camr::qr::unix_now() <= opens_at {
        std::thread::sleep(Duration::from_millis(500));
    }
    for (i, bid) in bids[..2].iter().enumerate() {
        let v = page.post_empty(&format!("/api/v1/hall/decrypt?bid={bid}"));
        assert_eq!(v["success"], true, "{v}");
        let tid = v["data"]["tid"].as_str().unwrap().to_string();
        let answered = device
            .approve(v["data"]["qrText"].as_str().unwrap(), &proxy.base)
            .unwrap();
        assert_eq!(answered["state"], "verified", "{answered}");
        // Nobody but the decrypt's owner gets the plaintext, whichever instance asks.
        let (s, _) = stranger.bytes(&format!("/api/v1/bidfiles/{tid}/plain"));
        assert_eq!(s, 403);
        let (s, plain) = page.bytes(&format!("/api/v1/bidfiles/{tid}/plain"));
        assert_eq!(s, 200);
        assert_eq!(plain, format!("投标文件 {i}").into_bytes());
    }
    let v = page.post_empty(&format!("/api/v1/hall/decrypt?bid={}", bids[2]));
    assert_eq!(v["errorCode"], "BIDDER_NOT_SIGNED_IN", "{v}");
    step(
        "   two bids opened after the opening time (a stranger gets no plaintext), the second tender's bid refused (no sign-in)",
    );

    step("4. kill -9 of A in the middle of a seal session; B finishes it");
    let (tid, phone2, code) = page.seal_session(&data);
    page.place(&tid, &code, 600, 1);
    drop(a);
    page.place(&tid, &code, 200, 2);
    page.finish(&tid, 2, &data);
    let outcome = phone2.join().unwrap().unwrap();
    assert_eq!(outcome.session_seals, 2);
    drop(b);
    step("   A killed after the first seal; the second seal and 完成签章 went through B");
}
