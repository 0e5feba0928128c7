//! A platform that embeds camr (examples/embed, no code from examples/server) runs a login
//! and a bid-file decrypt with camr-app, through the vendor adapter `.so`; a caller without
//! the owner credential is refused, and the bid's plaintext is handed out once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use camr::crypto::{KeyAlgorithm, default_provider};
use camr::pki::Certificate;
use camr::softca::{Holder, SoftCa};
use camr_app_sim::{PlatformKeySource, QrSource, ScanOptions, StdUi};
use serde_json::Value;

const PIN: &str = "1234";

fn softca_so() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let file = "libcamr_adapter_softca.so";
    [deps.join(file), deps.parent().unwrap().join(file)]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{file} is built before the tests"))
}

async fn scan(qr: &str, wallet: &Path, platform_key: &Path) {
    let options = ScanOptions {
        qr: QrSource::Payload(qr.to_string()),
        wallet: wallet.to_path_buf(),
        pin: Some(PIN.into()),
        reject: None,
        yes: true,
        platform_key: PlatformKeySource::File(platform_key.to_path_buf()),
        cert: None,
        delegation: None,
        wallets: Vec::new(),
        refuse_items: Vec::new(),
    };
    tokio::task::spawn_blocking(move || camr_app_sim::scan(&options, &mut StdUi))
        .await
        .unwrap()
        .unwrap();
}

async fn get(url: &str, owner: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(owner) = owner {
        request = request.header("x-camr-owner", owner);
    }
    request.send().await.unwrap()
}

fn error_code(body: &Value) -> &str {
    body["errorCode"]
        .as_str()
        .or(body["error"]["code"].as_str())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedding_platform_runs_a_login_and_a_bid_decrypt_with_camr_app() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let provider = default_provider();
    let mut ca = SoftCa::init(
        provider.clone(),
        &dir.path().join("ca"),
        KeyAlgorithm::Sm2,
        "Embed CA",
    )
    .unwrap();
    let holder = Holder::personal("张三");
    let wallet = dir.path().join("wallet");
    ca.issue(&holder, PIN.as_bytes(), &wallet, 30).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let platform_dir = dir.path().join("platform");
    std::fs::create_dir_all(&platform_dir).unwrap();
    let app = camr_embed::platform(&platform_dir, &url, ca.root().der(), &softca_so())
        .await
        .unwrap();
    let key_file = dir.path().join("platform-pub.pem");
    std::fs::write(&key_file, app.platform.public_key().to_spki_pem().unwrap()).unwrap();
    tokio::spawn(async move {
        axum::serve(listener, camr_embed::router(Arc::new(app)))
            .await
            .unwrap();
    });
    let client = reqwest::Client::new();

    // Login.
    let started: Value = client
        .post(format!("{url}/login"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (tid, owner) = (
        started["data"]["tid"].as_str().unwrap(),
        started["data"]["owner"].as_str().unwrap(),
    );
    scan(
        started["data"]["qrText"].as_str().unwrap(),
        &wallet,
        &key_file,
    )
    .await;
    let anonymous = get(&format!("{url}/login/{tid}"), None).await;
    assert_eq!(
        anonymous.status(),
        403,
        "a caller without the owner credential is refused"
    );
    let login: Value = get(&format!("{url}/login/{tid}"), Some(owner))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(login["data"]["name"], "张三", "{login}");

    // A bid sealed to the holder's encryption certificate, decrypted through the app.
    let enc = std::fs::read(wallet.join(camr::softca::wallet_files::ENC_CERT)).unwrap();
    let enc = Certificate::parse_one(&enc).unwrap();
    let bid = "投标报价: 1,000,000 CNY".as_bytes();
    let envelope = camr::envelope::seal(provider.as_ref(), &[enc], bid).unwrap();
    let started: Value = client
        .post(format!("{url}/decrypt"))
        .body(envelope)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (tid, owner) = (
        started["data"]["tid"].as_str().unwrap(),
        started["data"]["owner"].as_str().unwrap(),
    );
    scan(
        started["data"]["qrText"].as_str().unwrap(),
        &wallet,
        &key_file,
    )
    .await;
    let other = get(
        &format!("{url}/decrypt/{tid}"),
        Some("0".repeat(43).as_str()),
    )
    .await;
    assert!(
        other.status().is_client_error(),
        "another credential is refused"
    );
    let plain = get(&format!("{url}/decrypt/{tid}"), Some(owner)).await;
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.bytes().await.unwrap().as_ref(), bid);
    let again: Value = get(&format!("{url}/decrypt/{tid}"), Some(owner))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&again), "TX_ALREADY_TAKEN", "{again}");
}
