//! The simulator against the reference server, in-process on loopback: the library with a
//! scripted terminal, and the `camr-app` binary itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use camr::protocol::ErrorCode;
use camr_app_sim::{PlatformKeySource, QrSource, ScanOptions, Ui, scan};
use serde_json::{Value, json};

struct Server {
    base: String,
    data: PathBuf,
    /// The platform's own browser: it keeps the owner cookie (`camr_owner_<tid>`) the server
    /// sets when a transaction starts, so it may read the transaction's result and live QR.
    client: reqwest::blocking::Client,
    _dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

fn server() -> Server {
    server_with(|_| {})
}

/// The demo server after `configure(config)`.
fn server_with(configure: impl FnOnce(&mut camr_server::ServerConfig)) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = camr_server::ServerConfig::demo(data.clone(), addr);
        configure(&mut config);
        let state = camr_server::build_state(&config).await.unwrap();
        tokio::spawn(camr_server::serve(listener, state, std::future::pending()));
        addr
    });
    let _ = rustls::crypto::ring::default_provider().install_default();
    Server {
        base: format!("http://{addr}"),
        data,
        client: reqwest::blocking::Client::builder()
            .cookie_store(true)
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .unwrap(),
        _dir: dir,
        _rt: rt,
    }
}

impl Server {
    fn start(&self, body: Value) -> (String, String) {
        let v: Value = self
            .client
            .post(format!("{}/api/v1/transactions", self.base))
            .json(&body)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(v["success"], true, "{v}");
        (
            v["data"]["tid"].as_str().unwrap().into(),
            v["data"]["qrText"].as_str().unwrap().into(),
        )
    }

    fn get(&self, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    fn wallet(&self) -> PathBuf {
        self.data.join("wallet")
    }
}

/// A terminal that answers from a script and records what it was shown.
#[derive(Default)]
struct Script {
    answers: Vec<String>,
    shown: Vec<String>,
}

impl Ui for Script {
    fn say(&mut self, line: &str) {
        self.shown.push(line.to_string());
    }
    fn ask(&mut self, prompt: &str) -> Option<String> {
        self.shown.push(prompt.to_string());
        if self.answers.is_empty() {
            None
        } else {
            Some(self.answers.remove(0))
        }
    }
}

fn options(qr: &str, wallet: &Path) -> ScanOptions {
    ScanOptions {
        qr: QrSource::Payload(qr.to_string()),
        wallet: wallet.to_path_buf(),
        pin: Some("123456".into()),
        reject: None,
        yes: true,
        platform_key: PlatformKeySource::TrustPlatformUrl,
        cert: None,
        delegation: None,
        wallets: Vec::new(),
        refuse_items: Vec::new(),
    }
}

#[test]
fn the_library_logs_in_signs_a_batch_and_rejects_with_a_reason() {
    let s = server();
    let (tid, qr) = s.start(json!({"operation": "login"}));
    let mut ui = Script::default();
    let out = scan(&options(&qr, &s.wallet()), &mut ui).unwrap();
    assert_eq!(
        (out.tid.as_str(), out.state.as_str(), out.approved),
        (tid.as_str(), "verified", true)
    );
    let shown = ui.shown.join("\n");
    assert!(shown.contains("DEVELOPMENT SHORTCUT"), "{shown}");
    assert!(
        shown.contains("系统标识码 System code:      C1100005553"),
        "{shown}"
    );
    assert!(
        shown.contains("移动数字证书(CA)互认模拟测试系统"),
        "{shown}"
    );
    let r = s.get(&format!("/api/v1/transactions/{tid}/result"));
    assert_eq!(r["data"]["subject"]["name"], "张三", "{r}");

    // A batch: the document names and hashes are shown; asked to confirm, the user says yes.
    let hash = camr::protocol::Bytes(vec![7u8; 32]);
    let (tid, qr) = s.start(json!({"operation": "signature", "items": [
        {"id": "d1", "name": "投标函.pdf", "hash": hash, "hashAlgorithm": "SM3"},
        {"id": "d2", "name": "报价表.pdf", "hash": hash, "hashAlgorithm": "SM3"}]}));
    let mut ui = Script {
        answers: vec!["y".into()],
        ..Script::default()
    };
    let out = scan(
        &ScanOptions {
            yes: false,
            platform_key: PlatformKeySource::File(s.data.join("platform-pub.pem")),
            ..options(&qr, &s.wallet())
        },
        &mut ui,
    )
    .unwrap();
    assert_eq!(out.state, "verified");
    let shown = ui.shown.join("\n");
    assert!(
        shown.contains("投标函.pdf") && shown.contains("报价表.pdf"),
        "{shown}"
    );
    assert!(shown.contains(&"07".repeat(32)), "{shown}");
    assert!(!shown.contains("DEVELOPMENT SHORTCUT"));
    let r = s.get(&format!("/api/v1/transactions/{tid}/result"));
    assert_eq!(r["data"]["signed"].as_array().unwrap().len(), 2, "{r}");

    // Rejected with a reason: the platform sees it.
    let (tid, qr) = s.start(json!({"operation": "messageSignature", "message": "报价 100 元"}));
    let mut ui = Script::default();
    let out = scan(
        &ScanOptions {
            reject: Some("金额有误".into()),
            ..options(&qr, &s.wallet())
        },
        &mut ui,
    )
    .unwrap();
    assert_eq!((out.state.as_str(), out.approved), ("rejected", false));
    assert!(ui.shown.join("\n").contains("报价 100 元"));
    let r = s.get(&format!("/api/v1/transactions/{tid}/result"));
    assert_eq!(r["errorCode"], "TX_REJECTED", "{r}");
    assert!(r["msg"].as_str().unwrap().contains("金额有误"), "{r}");

    // Answering the same QR again: the platform refuses.
    let e = scan(&options(&qr, &s.wallet()), &mut Script::default()).unwrap_err();
    assert_eq!(e.code, ErrorCode::TxAlreadyAnswered, "{e}");
}

#[test]
fn five_wrong_pins_lock_the_wallet_and_nothing_is_sent() {
    let s = server();
    let wallet = s.data.join("wallet-copy");
    std::fs::create_dir_all(&wallet).unwrap();
    for f in std::fs::read_dir(s.wallet()).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), wallet.join(f.file_name())).unwrap();
    }
    let (tid, qr) = s.start(json!({"operation": "login"}));
    let mut ui = Script {
        answers: vec!["000000".into(); 6],
        ..Script::default()
    };
    let e = scan(
        &ScanOptions {
            pin: None,
            ..options(&qr, &wallet)
        },
        &mut ui,
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::PinLocked, "{e}");
    assert_eq!(ui.answers.len(), 1, "asked exactly five times");
    // Locked: even the right PIN is refused now.
    let e = scan(&options(&qr, &wallet), &mut Script::default()).unwrap_err();
    assert_eq!(e.code, ErrorCode::PinLocked);
    let v = s.get(&format!("/api/v1/transactions/{tid}"));
    assert_eq!(v["data"]["state"], "scanned", "{v}");
}

#[test]
fn the_binary_scans_a_png_and_refuses_a_foreign_platform_key() {
    let s = server();
    let (tid, _) = s.start(json!({"operation": "login"}));
    let png = s
        .client
        .get(format!("{}/api/v1/transactions/{tid}/qr.png", s.base))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let png_path = s.data.join("login.png");
    std::fs::write(&png_path, &png).unwrap();

    // A key that is not the platform's: the QR signature does not verify, nothing is sent.
    let other = camr::crypto::default_provider()
        .generate_key(camr::crypto::KeyAlgorithm::Sm2)
        .unwrap();
    let other_path = s.data.join("other-pub.pem");
    std::fs::write(&other_path, other.public_key().to_spki_pem().unwrap()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_camr-app"))
        .args(["scan", "--png"])
        .arg(&png_path)
        .arg("--wallet")
        .arg(s.wallet())
        .args(["--pin", "123456", "--yes", "--platform-key"])
        .arg(&other_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("QR_SIGNATURE_INVALID"), "{err}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_camr-app"))
        .args(["scan", "--png"])
        .arg(&png_path)
        .arg("--wallet")
        .arg(s.wallet())
        .args(["--pin", "123456", "--yes", "--platform-key"])
        .arg(s.data.join("platform-pub.pem"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("C1100005553"), "{stdout}");
    assert!(
        stdout.contains("移动数字证书(CA)互认模拟测试系统"),
        "{stdout}"
    );
    assert!(stdout.contains("`verified`"), "{stdout}");
    let r = s.get(&format!("/api/v1/transactions/{tid}/result"));
    assert_eq!(
        r["data"]["subject"]["organization"], "某某建设有限公司",
        "{r}"
    );

    // --vendor plays one vendor's app: the demo wallet is softca's, not BJCA's; an unknown
    // vendor is named with the ones played. Both are usage errors (exit 2), nothing sent.
    for (vendor, want) in [
        ("bjca", "no BJCA wallet"),
        ("nope", "does not play the app"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_camr-app"))
            .args(["scan", "--png"])
            .arg(&png_path)
            .arg("--wallet")
            .arg(s.wallet())
            .args([
                "--pin",
                "123456",
                "--yes",
                "--vendor",
                vendor,
                "--platform-key",
            ])
            .arg(s.data.join("platform-pub.pem"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{vendor}: {err}");
        assert!(err.contains(want), "{vendor}: {err}");
    }

    // Usage errors exit 2.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_camr-app"))
        .args(["scan", "--payload", "garbage", "--wallet"])
        .arg(s.wallet())
        .args(["--pin", "1", "--trust-platform-url"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn with_the_signed_registry_only_listed_platforms_are_answered() {
    let a = server();
    let b = server();
    let registry = |s: &Server| PlatformKeySource::Registry {
        list: s.data.join("registry.json"),
        authority: s.data.join("registry-authority.pub.pem"),
    };
    // A's QR checked against A's registry: the platform is listed, the answer goes through.
    let (tid, qr) = a.start(json!({"operation": "login"}));
    let mut ui = Script::default();
    let out = scan(
        &ScanOptions {
            platform_key: registry(&a),
            ..options(&qr, &a.wallet())
        },
        &mut ui,
    )
    .unwrap();
    assert_eq!(
        (out.tid.as_str(), out.state.as_str()),
        (tid.as_str(), "verified")
    );
    let shown = ui.shown.join("\n");
    assert!(
        shown.contains("注册表 Registry: C1100005553 is listed"),
        "{shown}"
    );
    assert!(!shown.contains("DEVELOPMENT SHORTCUT"), "{shown}");
    // A's QR against B's registry: same system code, but A's key is not the listed one —
    // a phishing copy as far as the app can tell. Nothing is sent.
    let (tid, qr) = a.start(json!({"operation": "login"}));
    let e = scan(
        &ScanOptions {
            platform_key: registry(&b),
            ..options(&qr, &a.wallet())
        },
        &mut Script::default(),
    )
    .unwrap_err();
    assert_eq!(e.code, camr::protocol::ErrorCode::PlatformUnknown, "{e}");
    assert_eq!(
        a.get(&format!("/api/v1/transactions/{tid}"))["data"]["state"],
        "created"
    );
    // B's registry checked with A's authority key: the list itself is refused.
    let forged = PlatformKeySource::Registry {
        list: b.data.join("registry.json"),
        authority: a.data.join("registry-authority.pub.pem"),
    };
    let e = scan(
        &ScanOptions {
            platform_key: forged,
            ..options(&qr, &a.wallet())
        },
        &mut Script::default(),
    )
    .unwrap_err();
    assert_eq!(e.code, camr::protocol::ErrorCode::RegistryInvalid, "{e}");
}

#[test]
fn pushed_tasks_are_answered_like_scans_and_reported_back_to_the_cloud() {
    use std::sync::{Arc, Mutex};
    let s = server();
    let serial = camr::pki::Certificate::parse_one(
        &std::fs::read(s.wallet().join("sign-cert.pem")).unwrap(),
    )
    .unwrap()
    .serial_hex();
    let (tid, qr) = s.start(json!({"operation": "login"}));
    // A minimal vendor cloud: two pending tasks for this user (one without a QR text), and
    // the results the app reports.
    let tasks = json!([
        {"id": "task-1", "state": "pending", "user": {"certSn": serial}, "request": {"qrText": qr}},
        {"id": "task-2", "state": "pending", "user": {"certSn": serial}, "request": {"note": "no QR"}},
    ]);
    let results: Arc<Mutex<Vec<(String, Value)>>> = Arc::new(Mutex::new(Vec::new()));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let cloud = format!("http://{}", listener.local_addr().unwrap());
    let (want, seen) = (serial.clone(), results.clone());
    let app = axum::Router::new()
        .route(
            "/tasks",
            axum::routing::get(
                move |q: axum::extract::Query<std::collections::HashMap<String, String>>| {
                    let t = tasks.clone();
                    let ok = q.get("user") == Some(&want);
                    async move { axum::Json(if ok { t } else { json!([]) }) }
                },
            ),
        )
        .route(
            "/tasks/{id}/result",
            axum::routing::post(
                move |axum::extract::Path(id): axum::extract::Path<String>,
                      axum::Json(v): axum::Json<Value>| {
                    seen.lock().unwrap().push((id, v));
                    async { axum::Json(json!({"ok": true})) }
                },
            ),
        );
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    let template = ScanOptions {
        qr: QrSource::Payload(String::new()),
        ..options("", &s.wallet())
    };
    let mut ui = Script::default();
    let outcomes = camr_app_sim::tasks(&cloud, &template, &mut ui).unwrap();
    assert_eq!(outcomes.len(), 1, "{}", ui.shown.join("\n"));
    assert_eq!(
        (outcomes[0].tid.as_str(), outcomes[0].state.as_str()),
        (tid.as_str(), "verified")
    );
    let reported = results.lock().unwrap().clone();
    assert_eq!(reported.len(), 2, "{reported:?}");
    assert_eq!(reported[0].0, "task-1");
    assert_eq!(reported[0].1["approved"], true);
    assert_eq!(reported[1].0, "task-2");
    assert_eq!(reported[1].1["approved"], false);
    let r = s.get(&format!("/api/v1/transactions/{tid}/result"));
    assert_eq!(r["data"]["subject"]["name"], "张三", "{r}");
}

#[test]
fn a_wallet_with_personal_and_org_certificates_asks_which_and_org_use_needs_a_delegation() {
    use camr_app_sim::CertChoice;
    let s = server();
    let p = camr::crypto::default_provider();
    // One app, two certificates: the server's organisation wallet and a personal one from
    // the same CA.
    let multi = s.data.join("multi");
    std::fs::create_dir_all(multi.join("org")).unwrap();
    for f in [
        "sign-cert.pem",
        "sign-key.pem",
        "enc-cert.pem",
        "enc-key.pem",
        "chain.pem",
    ] {
        std::fs::copy(s.wallet().join(f), multi.join("org").join(f)).unwrap();
    }
    let mut ca = camr::softca::SoftCa::open(p.clone(), &s.data.join("ca")).unwrap();
    let holder = camr::softca::Holder::personal("李四");
    ca.issue(&holder, b"123456", &multi.join("personal"), 30)
        .unwrap();
    let (_, qr) = s.start(json!({"operation": "login"}));
    let e = scan(&options(&qr, &multi), &mut Script::default()).unwrap_err();
    assert!(e.msg.contains("--cert personal|org"), "{e}");
    let out = scan(
        &ScanOptions {
            cert: Some(CertChoice::Personal),
            ..options(&qr, &multi)
        },
        &mut Script::default(),
    )
    .unwrap();
    assert_eq!(out.state, "verified");
    let r = s.get(&format!("/api/v1/transactions/{}/result", out.tid));
    assert_eq!(r["data"]["subject"]["name"], "李四", "{r}");
    // The organisation certificate, used by a staff member under a delegation for login only.
    let org = camr::app::Wallet::open(&multi.join("org"), b"123456").unwrap();
    let now = camr::qr::unix_now();
    let d = camr::app::Delegation {
        org_cert_sn: org.sign_cert.serial_hex(),
        staff_name: "王五".into(),
        staff_id: None,
        trading_systems: vec![camr::protocol::SystemCode::parse("C1100005553").unwrap()],
        operations: vec![camr::protocol::Operation::Login],
        not_before: now - 60,
        not_after: now + 3600,
    };
    let signed = camr::app::delegation::issue(p.as_ref(), &org, &d).unwrap();
    let file = s.data.join("delegation.json");
    std::fs::write(&file, serde_json::to_string(&signed).unwrap()).unwrap();
    let (_, qr) = s.start(json!({"operation": "login"}));
    let mut ui = Script::default();
    let out = scan(
        &ScanOptions {
            cert: Some(CertChoice::Org),
            delegation: Some(file.clone()),
            ..options(&qr, &multi)
        },
        &mut ui,
    )
    .unwrap();
    assert_eq!(out.state, "verified");
    assert!(
        ui.shown
            .join("\n")
            .contains("Acting for the organisation as 王五"),
        "{:?}",
        ui.shown
    );
    // The same delegation does not cover a message signature: refused in the app, nothing sent.
    let (tid, qr) = s.start(json!({"operation": "messageSignature", "message": "报价"}));
    let e = scan(
        &ScanOptions {
            cert: Some(CertChoice::Org),
            delegation: Some(file),
            ..options(&qr, &multi)
        },
        &mut Script::default(),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::DelegationOutOfScope, "{e}");
    assert_eq!(
        s.get(&format!("/api/v1/transactions/{tid}"))["data"]["state"],
        "scanned"
    );
}

#[test]
fn the_binary_takes_several_wallets_and_refuses_chosen_items_of_a_batch() {
    let s = server();
    let p = camr::crypto::default_provider();
    let mut ca = camr::softca::SoftCa::open(p, &s.data.join("ca")).unwrap();
    let holder = camr::softca::Holder::personal("李四");
    ca.issue(&holder, b"123456", &s.data.join("personal"), 30)
        .unwrap();
    let items: Vec<Value> = (1..=3)
        .map(|i| {
            json!({"id": format!("doc{i}"), "name": format!("第{i}册.pdf"),
                "hash": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "hashAlgorithm": "SM3"})
        })
        .collect();
    let (tid, qr) = s.start(json!({"operation": "signature", "items": items}));
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_camr-app"))
            .args(["scan", "--payload", &qr, "--wallet"])
            .arg(s.wallet())
            .arg("--wallet")
            .arg(s.data.join("personal"))
            .args(["--pin", "123456", "--yes", "--trust-platform-url"])
            .args(extra)
            .output()
            .unwrap()
    };
    // Two certificates fit (nothing is required here): the user must choose.
    let out = run(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("several certificates fit") && err.contains("李四"),
        "{err}"
    );
    // A refusal without a reason is a usage error.
    let out = run(&["--cert", "org", "--refuse-item", "doc2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ITEM_ID=REASON"));
    let out = run(&["--cert", "org", "--refuse-item", "doc2=金额有误"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("拒签 Refusing item [doc2]: 金额有误"),
        "{stdout}"
    );
    let r = s.get(&format!("/api/v1/transactions/{tid}/result"));
    let outcomes: Vec<&str> = r["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["signed", "rejected", "signed"], "{r}");
    assert_eq!(r["data"]["items"][1]["reason"], "金额有误");
    assert_eq!(r["data"]["subject"]["organization"], "某某建设有限公司");
}

/// 证件类型: the app shows which identity document its certificate names (a passport here),
/// and the platform's login result carries it.
#[test]
fn a_passport_holder_sees_the_document_and_logs_in_with_it() {
    let s = server();
    let p = camr::crypto::default_provider();
    let mut ca = camr::softca::SoftCa::open(p, &s.data.join("ca")).unwrap();
    let holder = camr::softca::Holder {
        holder_type: camr::softca::HolderType::Personal,
        name: "John Smith".into(),
        organization: None,
        uscc: None,
        identity_number: Some(camr::pki::IdentityDocument::passport("GB", "123456789").unwrap()),
    };
    let dir = s.data.join("passport-wallet");
    ca.issue(&holder, b"123456", &dir, 30).unwrap();
    let (_, qr) = s.start(json!({"operation": "login"}));
    let mut ui = Script::default();
    let out = scan(&options(&qr, &dir), &mut ui).unwrap();
    assert_eq!(out.state, "verified");
    assert!(
        ui.shown
            .iter()
            .any(|l| l == "证件 Identity document: 护照 passport (GB) 123456789"),
        "{:?}",
        ui.shown
    );
    let r = s.get(&format!("/api/v1/transactions/{}/result", out.tid));
    assert_eq!(r["data"]["subject"]["identityType"], "passport", "{r}");
    assert_eq!(r["data"]["subject"]["identityCountry"], "GB", "{r}");
}

#[test]
fn the_binary_writes_a_delegation_and_a_staff_member_logs_in_under_it() {
    let s = server();
    let file = s.data.join("delegation.json");
    let delegate = |ops: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_camr-app"))
            .args(["delegate", "--wallet"])
            .arg(s.wallet())
            .args([
                "--pin",
                "123456",
                "--staff",
                "王五",
                "--staff-id",
                "110101199001011234",
                "--systems",
                "C1100005553",
                "--operations",
                ops,
                "--days",
                "1",
                "--out",
            ])
            .arg(&file)
            .output()
            .unwrap()
    };
    let out = delegate("login,sign");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`sign` is not an operation"));
    let out = delegate("login,encrypt,decrypt");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signed: camr::app::SignedDelegation =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let id = camr::app::delegation::id(camr::crypto::default_provider().as_ref(), &signed);
    assert!(
        stdout.contains(&id) && stdout.contains("王五 (110101199001011234)"),
        "{stdout}"
    );

    let scan_as_staff = |qr: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_camr-app"))
            .args(["scan", "--payload", qr, "--wallet"])
            .arg(s.wallet())
            .args([
                "--pin",
                "123456",
                "--yes",
                "--trust-platform-url",
                "--delegation",
            ])
            .arg(&file)
            .output()
            .unwrap()
    };
    let (tid, qr) = s.start(json!({"operation": "login"}));
    let out = scan_as_staff(&qr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Acting for the organisation as 王五"),
        "{stdout}"
    );
    assert_eq!(
        s.get(&format!("/api/v1/transactions/{tid}"))["data"]["state"],
        "verified"
    );
    // Not for a message signature: refused on the phone, exit 1.
    let (_, qr) = s.start(json!({"operation": "messageSignature", "message": "报价"}));
    let out = scan_as_staff(&qr);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DELEGATION_OUT_OF_SCOPE"));
}

/// The login page's payload with element id `id` (`payload`: national, `vendor-payload`).
fn page_code(s: &Server, id: &str) -> String {
    let html = s
        .client
        .get(format!("{}/", s.base))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let start = format!(r#"<code id="{id}">"#);
    let (_, rest) = html.split_once(&start).expect(id);
    rest.split_once("</code>").unwrap().0.replace("&amp;", "&")
}

#[test]
fn the_simulator_scans_either_code_and_a_platform_only_certificate_needs_the_vendor_code() {
    let s = server_with(|c| c.entitlement.platform_only = Some(vec!["SOFTCA".into()]));
    let registry = PlatformKeySource::Registry {
        list: s.data.join("registry.json"),
        authority: s.data.join("registry-authority.pub.pem"),
    };
    // The national code (全国互认码): the platform refuses the platform-only certificate.
    let national = page_code(&s, "payload");
    let mut ui = Script::default();
    let e = scan(
        &ScanOptions {
            platform_key: registry.clone(),
            ..options(&national, &s.wallet())
        },
        &mut ui,
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::CertNotEntitled, "{e}");
    assert!(
        ui.shown
            .join("\n")
            .contains("QR profile: 全国 CA 互认二维码")
    );
    // The vendor code (厂商码) of a new page: checked against the trust list, answered.
    let vendor = page_code(&s, "vendor-payload");
    assert!(vendor.starts_with(camr::qr::VENDOR_PREFIX), "{vendor}");
    let mut ui = Script::default();
    let out = scan(
        &ScanOptions {
            platform_key: registry,
            ..options(&vendor, &s.wallet())
        },
        &mut ui,
    )
    .unwrap();
    assert_eq!(out.state, "verified");
    let shown = ui.shown.join("\n");
    assert!(shown.contains("QR profile: 厂商 APP 二维码"), "{shown}");
    assert!(
        shown.contains("注册表 Registry: C1100005553 is listed"),
        "{shown}"
    );
}
