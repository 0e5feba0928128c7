//! The softca cloud over loopback, and the softca adapter's outbound calls against it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use camr::crypto::{KeyAlgorithm, default_provider};
use camr::pki::Certificate;
use camr::protocol::{
    CertType, Operation, PublicKeyAlgorithm, SubjectType, SystemCode, Tid, UsageRecord,
};
use camr::softca::{Holder, RevocationReason, SoftCa, wallet_files};
use camr_adapter_softca::SoftCaAdapter;
use camr_plugin_abi::{AdapterImpl, CertStatus, codes};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn holder(name: &str) -> Holder {
    Holder::personal(name)
}

fn cert(dir: &std::path::Path, file: &str) -> Certificate {
    Certificate::parse_one(&std::fs::read(dir.join(file)).unwrap()).unwrap()
}

#[test]
fn the_adapter_talks_to_the_cloud() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let wallets = dir.path().join("wallets");
    let mut ca = SoftCa::init(default_provider(), &ca_dir, KeyAlgorithm::Sm2, "Cloud CA").unwrap();
    let good = ca
        .issue(&holder("张三"), b"123456", &wallets.join("good"), 30)
        .unwrap();
    let revoked = ca
        .issue(&holder("李四"), b"123456", &wallets.join("revoked"), 30)
        .unwrap();
    let held = ca
        .issue(&holder("王五"), b"123456", &wallets.join("held"), 30)
        .unwrap();
    let now = camr::qr::unix_now();
    ca.revoke(
        &revoked.sign_serial,
        RevocationReason::KeyCompromise,
        now - 10,
    )
    .unwrap();
    ca.revoke(
        &held.sign_serial,
        RevocationReason::CertificateHold,
        now - 10,
    )
    .unwrap();
    drop(ca);

    let mut child = Command::new(env!("CARGO_BIN_EXE_softca-cloud"))
        .arg("--ca")
        .arg(&ca_dir)
        .arg("--wallets")
        .arg(&wallets)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _server = Server(child);
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let url = format!("http://{addr}");

    let adapter = SoftCaAdapter::new();
    adapter
        .configure(&serde_json::json!({ "cloudUrl": url, "timeoutMs": 5000 }).to_string())
        .unwrap();

    // Status from the cloud's fresh CRL.
    let der = |w: &str, f: &str| cert(&wallets.join(w), f).der().to_vec();
    assert_eq!(
        adapter
            .cert_status(&der("good", wallet_files::SIGN_CERT))
            .unwrap(),
        CertStatus::Good
    );
    assert_eq!(
        adapter
            .cert_status(&der("revoked", wallet_files::SIGN_CERT))
            .unwrap(),
        CertStatus::Revoked
    );
    assert_eq!(
        adapter
            .cert_status(&der("held", wallet_files::SIGN_CERT))
            .unwrap(),
        CertStatus::Frozen
    );
    let e = adapter.cert_status(b"not a certificate").unwrap_err();
    assert_eq!(e.code(), codes::CERT_MALFORMED);

    // Encryption certificates by signing serial and by name.
    let enc = der("good", wallet_files::ENC_CERT);
    let by_serial = adapter
        .fetch_encryption_cert(&serde_json::json!({ "certSn": good.sign_serial }).to_string())
        .unwrap();
    assert_eq!(by_serial, enc);
    let by_name = adapter.fetch_encryption_cert(r#"{"name":"张三"}"#).unwrap();
    assert_eq!(by_name, enc);
    let e = adapter
        .fetch_encryption_cert(r#"{"name":"nobody"}"#)
        .unwrap_err();
    assert_eq!(e.code(), codes::INPUT_MALFORMED, "{e}");

    // Push a task; the app simulator pulls it, answers; the platform polls the result.
    let user = serde_json::json!({ "name": "张三", "certSn": good.sign_serial });
    let id = adapter
        .push_task(
            &user.to_string(),
            r#"{"operation":"signature","requestUri":"https://p/r/1"}"#,
        )
        .unwrap();
    let polled: serde_json::Value = serde_json::from_str(&adapter.poll_task(&id).unwrap()).unwrap();
    assert_eq!(polled["state"], "pending");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::blocking::Client::new();
    let pending: serde_json::Value = http
        .get(format!("{url}/tasks?user={}", good.sign_serial))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["id"], id.as_str());
    let r = http
        .post(format!("{url}/tasks/{id}/result"))
        .json(&serde_json::json!({"status":"approved"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("{url}/tasks/{id}/result"))
        .json(&serde_json::json!({"status":"approved"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 409);
    let polled: serde_json::Value = serde_json::from_str(&adapter.poll_task(&id).unwrap()).unwrap();
    assert_eq!(polled["state"], "done");
    assert_eq!(polled["result"]["status"], "approved");
    let pending: serde_json::Value = http
        .get(format!("{url}/tasks?user=张三"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(pending.as_array().unwrap().is_empty());
    assert_eq!(
        adapter.poll_task("task-999").unwrap_err().code(),
        codes::INPUT_MALFORMED
    );

    // Per-use billing.
    let record = UsageRecord {
        trading_system_code: SystemCode::parse("C1100005553").unwrap(),
        trading_system_name: "测试平台".into(),
        cert_sn: good.sign_serial.clone(),
        cert_name: "张三".into(),
        cert_type: CertType::PersonalCert,
        public_key_algorithm: PublicKeyAlgorithm::Sm2,
        subject_type: SubjectType::Personal,
        usage_scene: Operation::Login,
        tid: Tid::new(&SystemCode::parse("C1100005553").unwrap(), [7u8; 16]),
        used_at: now,
        ca_org_type: "SOFTCA".into(),
        operator: None,
        revocation_unknown: false,
    };
    adapter
        .report_usage(&serde_json::to_string(&record).unwrap())
        .unwrap();
    let usage: Vec<UsageRecord> = http
        .get(format!("{url}/usage"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(usage, vec![record]);
    let r = http.post(format!("{url}/usage")).body("{}").send().unwrap();
    assert_eq!(r.status(), 400);
    let crl = http
        .get(format!("{url}/crl"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    camr::pki::Crl::parse(&crl).unwrap();
}
