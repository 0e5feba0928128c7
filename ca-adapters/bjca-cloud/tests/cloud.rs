//! The BJCA cloud in-process: co-signing and co-decryption over HTTP (协同签名/协同解密),
//! who may not sign, a tampered share, the task lists (待处理/已处理), and the BJCA adapter's
//! outbound calls against it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

// The conformance kit, compiled in: its cases run against the BJCA adapter `.so` through the
// real plugin host, with `bjca-cloud encode-evidence` as the encoder (BJCA's wire format).
#[path = "../../tck/src/cases.rs"]
mod cases;
#[path = "../../tck/src/config.rs"]
mod config;
#[path = "../../tck/src/vendor_kit.rs"]
mod vendor_kit;
#[path = "../../tck/src/world.rs"]
mod world;

use camr::app::Wallet;
use camr::cosign::{DecryptResponse, SignResponse};
use camr::crypto::{SignatureScheme, Sm2CiphertextForm, default_provider};
use camr::softca::{Holder, RevocationReason, SoftCa};
use camr_adapter_bjca::BjcaAdapter;
use camr_bjca_wire::{CosignDecrypt, CosignSign};
use camr_plugin_abi::{AdapterImpl, CertStatus, codes};
use serde_json::{Value, json};

fn holder(name: &str) -> Holder {
    Holder::personal(name)
}

fn client() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::new()
}

fn post(url: &str, body: &impl serde::Serialize) -> (u16, Value) {
    let r = client().post(url).json(body).send().unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

/// One co-signature of `msg` by the wallet's d1 and the cloud's d2 (token `token`).
fn cosign(
    base: &str,
    wallet: &Wallet,
    user: &str,
    token: &str,
    msg: &[u8],
) -> Result<Vec<u8>, String> {
    let share =
        camr_bjca_wire::client_share(&wallet.sign_key, &wallet.sign_cert.public_key().unwrap())
            .unwrap();
    let (pending, request) = share
        .sign_start(msg, camr::cosign::DEFAULT_SM2_SIGNER_ID)
        .unwrap();
    let call = CosignSign {
        user: user.into(),
        token: token.into(),
        request,
    };
    let (status, v) = post(&format!("{base}/cosign/sign"), &call);
    if status != 200 {
        return Err(format!("{status} {}", v["code"].as_str().unwrap_or("")));
    }
    let resp: SignResponse = serde_json::from_value(v).unwrap();
    pending.finish(&resp).map_err(|e| e.code().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_shares_sign_and_decrypt_and_neither_alone_does() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    bjca_cloud::init_ca(&ca).unwrap();
    let (addr, server) = bjca_cloud::spawn(&ca).unwrap();
    let base = format!("http://{addr}");
    let w1 = bjca_cloud::issue_wallet(
        &ca,
        &holder("张三"),
        b"123456",
        &dir.path().join("w1"),
        &base,
    )
    .unwrap();
    let w2 = bjca_cloud::issue_wallet(
        &ca,
        &holder("李四"),
        b"654321",
        &dir.path().join("w2"),
        &base,
    )
    .unwrap();
    // The wallet's vendor.json says whose app holds it and where its cloud is.
    let vendor: Value =
        serde_json::from_slice(&std::fs::read(w1.dir.join("vendor.json")).unwrap()).unwrap();
    assert_eq!(vendor["caOrgType"], "BJCA");
    assert_eq!(vendor["keyKind"], "cosign-d1");
    assert_eq!(vendor["user"], w1.user.as_str());
    let base2 = base.clone();
    let (w1c, w2c) = (w1.clone(), w2.clone());
    tokio::task::spawn_blocking(move || {
        let base = base2;
        let (w1, w2) = (w1c, w2c);
        let p = default_provider();
        let wallet = Wallet::unlock(&w1.dir, b"123456").unwrap();
        let cert_key = wallet.sign_cert.public_key().unwrap();
        let sig = cosign(&base, &wallet, &w1.user, &w1.token, b"hello BJCA").unwrap();
        p.verify(&cert_key, &SignatureScheme::sm2(), b"hello BJCA", &sig)
            .unwrap();
        assert!(
            p.verify(&cert_key, &SignatureScheme::sm2(), b"other", &sig)
                .is_err()
        );
        // The app alone: d1 used as if it were the key is no signature of the certificate.
        let alone = p
            .sign(&wallet.sign_key, &SignatureScheme::sm2(), b"hello BJCA")
            .unwrap();
        assert!(
            p.verify(&cert_key, &SignatureScheme::sm2(), b"hello BJCA", &alone)
                .is_err()
        );
        // The cloud without the user's token, or for another user's token, co-signs nothing.
        for (user, token) in [
            (w1.user.as_str(), ""),
            (w1.user.as_str(), w2.token.as_str()),
            ("00", w1.token.as_str()),
            ("../x", w1.token.as_str()),
        ] {
            let e = cosign(&base, &wallet, user, token, b"x").unwrap_err();
            assert_eq!(e, "401 COSIGN_UNAUTHORIZED", "{user}");
        }
        // A replayed Q1 is refused.
        let share = camr_bjca_wire::client_share(&wallet.sign_key, &cert_key).unwrap();
        let (_, request) = share.sign_start(b"once", "1234567812345678").unwrap();
        let call = CosignSign {
            user: w1.user.clone(),
            token: w1.token.clone(),
            request,
        };
        assert_eq!(post(&format!("{base}/cosign/sign"), &call).0, 200);
        let (status, v) = post(&format!("{base}/cosign/sign"), &call);
        assert_eq!(status, 400, "{v}");
        // Garbage is refused with a code.
        let (status, v) = post(
            &format!("{base}/cosign/sign"),
            &json!({"user": w1.user, "token": w1.token}),
        );
        assert_eq!(
            (status, v["code"].as_str()),
            (400, Some("COSIGN_MALFORMED"))
        );

        // Co-decryption of an envelope key encrypted to the encryption certificate.
        let enc_key = wallet.enc_cert.public_key().unwrap();
        let ct = p
            .sm2_encrypt(&enc_key, b"0123456789abcdef", Sm2CiphertextForm::Asn1)
            .unwrap();
        let share = camr_bjca_wire::client_share(&wallet.enc_key, &enc_key).unwrap();
        let (pending, request) = share.decrypt_start(&ct, Sm2CiphertextForm::Asn1).unwrap();
        let call = CosignDecrypt {
            user: w1.user.clone(),
            token: w1.token.clone(),
            request,
        };
        let (status, v) = post(&format!("{base}/cosign/decrypt"), &call);
        assert_eq!(status, 200, "{v}");
        let resp: DecryptResponse = serde_json::from_value(v).unwrap();
        assert_eq!(&pending.finish(&resp).unwrap()[..], b"0123456789abcdef");
        // d1 alone as a key opens nothing.
        assert!(
            p.sm2_decrypt(&wallet.enc_key, &ct, Sm2CiphertextForm::Asn1)
                .is_err()
        );

        // A tampered server share (another user's d2 in this user's record) is detected by
        // the phone: the co-signature does not verify under the certificate's key.
        let rec_path = |u: &str| ca_path(&w1.dir).join("cosign").join(format!("{u}.json"));
        let mut rec: Value =
            serde_json::from_slice(&std::fs::read(rec_path(&w1.user)).unwrap()).unwrap();
        let other: Value =
            serde_json::from_slice(&std::fs::read(rec_path(&w2.user)).unwrap()).unwrap();
        rec["signShare"] = other["signShare"].clone();
        std::fs::write(rec_path(&w1.user), serde_json::to_vec(&rec).unwrap()).unwrap();
        assert_eq!(
            cosign(&base, &wallet, &w1.user, &w1.token, b"x").unwrap_err(),
            "COSIGN_SIGNATURE_INVALID"
        );
        // A tampered client share likewise (w2's d1 against w1's certificate and cloud).
        let wallet2 = Wallet::unlock(&w2.dir, b"654321").unwrap();
        let mut mixed = wallet2.clone();
        mixed.sign_cert = Wallet::unlock(&w2.dir, b"654321").unwrap().sign_cert;
        assert_eq!(
            cosign(&base, &mixed, &w2.user, &w2.token, b"y").map(|_| ()),
            Ok(())
        );
        let mut wrong = wallet.clone();
        wrong.sign_key = wallet2.sign_key.clone();
        let e = cosign(&base, &wrong, &w2.user, &w2.token, b"y").unwrap_err();
        assert_eq!(e, "COSIGN_SIGNATURE_INVALID");
    })
    .await
    .unwrap();
    server.abort();
}

/// The CA folder of the tests (`<tmp>/ca`), from a wallet folder `<tmp>/wN`.
fn ca_path(wallet: &std::path::Path) -> std::path::PathBuf {
    wallet.parent().unwrap().join("ca")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_talks_to_the_bjca_cloud() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    bjca_cloud::init_ca(&ca).unwrap();
    let (addr, server) = bjca_cloud::spawn(&ca).unwrap();
    let base = format!("http://{addr}");
    let w = bjca_cloud::issue_wallet(
        &ca,
        &holder("王五"),
        b"123456",
        &dir.path().join("w1"),
        &base,
    )
    .unwrap();
    let ca2 = ca.clone();
    tokio::task::spawn_blocking(move || {
        let a = BjcaAdapter::new();
        a.configure(&json!({"cloudUrl": base, "timeoutMs": 3000}).to_string())
            .unwrap();
        // Tasks to a known user: the 待处理 list, answered, then 已处理.
        let id = a
            .push_task(
                &json!({"certSn": w.user}).to_string(),
                r#"{"qrText":"camr1://x"}"#,
            )
            .unwrap();
        let e = a.push_task(r#"{"certSn":"0BAD"}"#, "{}").unwrap_err();
        assert_eq!(e.code(), codes::INPUT_MALFORMED, "{e}");
        assert!(e.message().contains("USER_UNKNOWN"), "{e}");
        let polled: Value = serde_json::from_str(&a.poll_task(&id).unwrap()).unwrap();
        assert_eq!(polled["state"], "pending");
        let list = |state: &str| -> Vec<Value> {
            client()
                .get(format!("{base}/tasks?user={}&state={state}", w.user))
                .send()
                .unwrap()
                .json()
                .unwrap()
        };
        assert_eq!(list("pending").len(), 1);
        assert!(list("done").is_empty());
        let (status, _) = post(
            &format!("{base}/tasks/{id}/result"),
            &json!({"approved": false, "reason": "金额不对"}),
        );
        assert_eq!(status, 200);
        assert_eq!(
            post(&format!("{base}/tasks/{id}/result"), &json!({})).0,
            409
        );
        assert!(list("pending").is_empty());
        assert_eq!(list("done")[0]["result"]["reason"], "金额不对");
        let polled: Value = serde_json::from_str(&a.poll_task(&id).unwrap()).unwrap();
        assert_eq!(polled["state"], "done");
        assert_eq!(
            client()
                .get(format!("{base}/tasks?user=x&state=bogus"))
                .send()
                .unwrap()
                .status()
                .as_u16(),
            400
        );

        // Encryption certificate, status (good, then revoked), seals, usage.
        let enc = a
            .fetch_encryption_cert(&json!({"certSn": w.user}).to_string())
            .unwrap();
        assert_eq!(
            camr::pki::Certificate::from_der(&enc).unwrap().serial_hex(),
            w.enc_serial
        );
        assert!(a.fetch_encryption_cert(r#"{"certSn":"0BAD"}"#).is_err());
        let sign_der =
            camr::pki::Certificate::parse_one(&std::fs::read(w.dir.join("sign-cert.pem")).unwrap())
                .unwrap()
                .der()
                .to_vec();
        assert_eq!(a.cert_status(&sign_der).unwrap(), CertStatus::Good);
        let mut soft = SoftCa::open(default_provider(), &ca2).unwrap();
        soft.revoke(
            &w.user,
            RevocationReason::KeyCompromise,
            camr::qr::unix_now() - 5,
        )
        .unwrap();
        assert_eq!(a.cert_status(&sign_der).unwrap(), CertStatus::Revoked);
        let seals: Vec<Value> = serde_json::from_str(
            &a.list_seals(&json!({"certSn": w.user}).to_string())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(seals.len(), 2);
        assert!(a.list_seals(r#"{"certSn":"0BAD"}"#).is_err());
    })
    .await
    .unwrap();
    server.abort();
}

#[test]
fn the_encoder_writes_what_the_adapter_reads() {
    let bin = env!("CARGO_BIN_EXE_bjca-cloud");
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    bjca_cloud::init_ca(&ca).unwrap();
    let w = bjca_cloud::issue_wallet(
        &ca,
        &holder("赵六"),
        b"123456",
        &dir.path().join("w"),
        "http://127.0.0.1:1",
    )
    .unwrap();
    let wallet = Wallet::open(&w.dir, b"123456").unwrap();
    let evidence = camr::protocol::Evidence {
        algorithm: camr::protocol::PublicKeyAlgorithm::Sm2,
        certificate_chain: std::iter::once(&wallet.sign_cert)
            .chain(&wallet.chain)
            .map(|c| camr::protocol::Bytes(c.der().to_vec()))
            .collect(),
        signatures: vec![
            camr::protocol::ItemSignature {
                item_id: "request".into(),
                signature_value: camr::protocol::Bytes(vec![1, 2, 3]),
            },
            camr::protocol::ItemSignature {
                item_id: "1".into(),
                signature_value: camr::protocol::Bytes(vec![4]),
            },
        ],
        encryption_certificate: None,
        decrypted_keys: Vec::new(),
        item_rejections: vec![camr::protocol::ItemRejection {
            item_id: "2".into(),
            reason: "金额不对".into(),
        }],
    };
    let run = |args: &[&str]| {
        use std::io::Write;
        let mut child = std::process::Command::new(bin)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(&serde_json::to_vec(&evidence).unwrap())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(&["encode-evidence"]);
    assert!(out.status.success());
    let wire: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(wire["bizType"], "signHash");
    assert_eq!(wire["rejects"][0]["reason"], "金额不对");
    let back = camr_adapter_bjca::decode_strict("signature", &out.stdout).unwrap();
    assert_eq!(back, evidence);
    // The bizType must fit the operation.
    let e = camr_adapter_bjca::decode_strict("login", &out.stdout).unwrap_err();
    assert_eq!(e.code(), codes::INPUT_MALFORMED);
    let out = run(&["encode-evidence", "--operation", "revokeSignature"]);
    assert!(out.status.success());
    assert!(camr_adapter_bjca::decode_strict("revokeSignature", &out.stdout).is_ok());
    assert!(
        !run(&["encode-evidence", "--operation", "nope"])
            .status
            .success()
    );
}

/// The BJCA adapter built as a `.so` (a dev-dependency: cargo builds it first).
fn adapter_so() -> std::path::PathBuf {
    vendor_kit::adapter_so("libcamr_adapter_bjca.so")
}

#[test]
fn the_bjca_adapter_passes_the_kit_in_its_own_wire_format() {
    vendor_kit::passes_the_kit(
        &adapter_so(),
        serde_json::json!([env!("CARGO_BIN_EXE_bjca-cloud"), "encode-evidence"]),
        "BJCA",
        &["malformed: truncated", "push task then poll"],
    );
}
