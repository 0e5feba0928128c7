//! Seal-session helpers: the phone (`camr-app scan` in a thread, authorising then signing
//! every placement) and the page's calls.

use std::time::{Duration, Instant};

use camr_app_sim::{Outcome, PlatformKeySource, ScanOptions, SimError};
use serde_json::Value;

use super::Harness;
use super::sim::{Lines, scan_on, scan_options};

/// The phone: `camr-app scan` of the session's QR in a thread; it authorises, then waits and
/// signs every placement until the session is finished or ends.
pub fn phone(
    h: &Harness,
    qr: &str,
) -> std::thread::JoinHandle<(Result<Outcome, SimError>, String)> {
    let options = ScanOptions {
        platform_key: PlatformKeySource::Registry {
            list: h.data.join("registry.json"),
            authority: h.data.join("registry-authority.pub.pem"),
        },
        ..scan_options(qr, h.data.join("wallet"), "123456")
    };
    std::thread::spawn(move || scan_on(&options, Lines::default()))
}

/// Opens a session over a `pages`-page PDF; returns (tid, QR text, answer).
pub async fn open(h: &Harness, pages: u32, required: &str) -> (String, String, Value) {
    let pdf = camr::seal::sample_pdf(pages).unwrap();
    let (s, v) = h
        .upload(
            &format!("/api/v1/seal-sessions?name=标书.pdf&required={required}"),
            pdf,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    (
        v["data"]["tid"].as_str().unwrap().to_string(),
        v["data"]["qrText"].as_str().unwrap().to_string(),
        v["data"].clone(),
    )
}

/// Polls the session until `want` holds.
pub async fn until(h: &Harness, tid: &str, what: &str, want: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, v) = h.get(&format!("/api/v1/seal-sessions/{tid}")).await;
        assert_eq!(s, 200, "{v}");
        if want(&v["data"]) {
            return v["data"].clone();
        }
        assert!(Instant::now() < deadline, "{what}: {v}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

pub async fn place(h: &Harness, tid: &str, body: Value) -> (u16, Value) {
    h.post(&format!("/api/v1/seal-sessions/{tid}/place"), &body)
        .await
}

pub async fn seals(h: &Harness, tid: &str) -> Vec<Value> {
    let (s, v) = h.get(&format!("/api/v1/seal-sessions/{tid}/seals")).await;
    assert_eq!(s, 200, "{v}");
    v["data"].as_array().unwrap().clone()
}

pub fn code_of(seals: &[Value], kind: &str) -> String {
    seals
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} seal in {seals:?}"))["code"]
        .as_str()
        .unwrap()
        .to_string()
}

pub fn verify(h: &Harness, pdf: &[u8]) -> camr::seal::PdfReport {
    let root =
        camr::pki::Certificate::parse_one(&std::fs::read(h.data.join("ca/root-cert.pem")).unwrap())
            .unwrap();
    let mut trust = camr::pki::TrustStore::new();
    trust.add(root);
    let validator = camr::pki::ChainValidator::new(h.provider.clone(), trust);
    camr::seal::verify(
        h.provider.as_ref(),
        pdf,
        Some(&validator),
        camr::qr::unix_now(),
    )
    .unwrap()
}
