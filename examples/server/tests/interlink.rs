//! The interlink-compatible endpoint (`/interlink/…`, docs/interlink.md) over real HTTP: the
//! test plays the app side's server (前置机 / the app's service), which scans the interlink QR
//! content, fetches camr's request, lets `camr::app` answer, and posts the answer as an
//! encrypted callback in the predecessor's shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use camr::ceremony::verify_signed_request;
use camr::crypto::PublicKey;
use camr::envelope::{KeySource, open_stream, read_header, seal_stream};
use camr::pki::Certificate;
use camr::protocol::{Bytes, QrPayload, Response, SignedRequest};
use camr::qr::QrProfile;
use camr::qr::interlink::{Callback, CallbackType, Interlink, seal_callback};
use common::{Harness, b64, start};
use serde_json::{Value, json};

const CALLBACK: &str = "/interlink/receiveAppLogController/receiveScanData";
const PLATFORM: &str = "C1100005553";

/// The platform's interlink encryption key, as the app side fetches it.
async fn platform_enc_key(h: &Harness) -> PublicKey {
    let (s, v) = h.get("/interlink/sweepcodeController/getEncryptKey").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["header"]["returnCode"], "0", "{v}");
    assert_eq!(v["data"]["platformCode"], PLATFORM);
    assert_eq!(v["data"]["algorithm"], "SM2");
    PublicKey::from_spki_der(&b64(v["data"]["publicKeySpki"].as_str().unwrap())).unwrap()
}

/// The interlink QR content of `tid`, parsed and verified with the platform key.
async fn interlink_code(h: &Harness, tid: &str) -> QrPayload {
    let (s, v) = h
        .get(&format!(
            "/interlink/sweepcodeController/getQRCodeContent?tId={tid}"
        ))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["header"]["returnCode"], "0", "{v}");
    assert_eq!(v["header"]["msg"], "获取成功");
    assert!(v["data"]["pid"].is_null());
    let content = v["data"]["content"].as_str().unwrap();
    assert!(content.starts_with(&format!("{}/camr/v1/request/{tid}?", h.base)));
    let payload = Interlink
        .parse_and_verify(
            h.provider.as_ref(),
            content,
            &h.key,
            camr::qr::VerifyOptions::at(camr::qr::unix_now()),
        )
        .unwrap();
    assert_eq!(payload.tid.as_str(), tid);
    assert_eq!(
        v["data"]["qRCodeType"],
        camr::qr::interlink::qr_code_type(payload.operation)
    );
    payload
}

/// The app fetches camr's signed request where the interlink code says.
async fn fetch(h: &Harness, payload: &QrPayload) -> (SignedRequest, camr::protocol::RequestObject) {
    let r = h
        .client
        .get(Interlink.request_fetch_uri(payload))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    let signed: SignedRequest = serde_json::from_value(v["data"].clone()).unwrap();
    let request = verify_signed_request(h.provider.as_ref(), &signed, &h.key).unwrap();
    (signed, request)
}

async fn post_callback(h: &Harness, cb: &Callback) -> Value {
    let (s, v) = h.post(CALLBACK, &serde_json::to_value(cb).unwrap()).await;
    assert_eq!(s, 200, "{v}");
    assert!(v["data"].is_null(), "{v}");
    v
}

fn seal(key: &PublicKey, h: &Harness, kind: CallbackType, body: &Value) -> Callback {
    seal_callback(
        h.provider.as_ref(),
        key,
        kind,
        PLATFORM,
        &serde_json::to_vec(body).unwrap(),
    )
    .unwrap()
}

/// Type 01 (scanned), then the app's answer as type 02/03/05/06; both applied.
async fn scan_and_answer(h: &Harness, key: &PublicKey, tid: &str) -> Response {
    let payload = interlink_code(h, tid).await;
    let code = camr::qr::interlink::qr_code_type(payload.operation);
    let v = post_callback(
        h,
        &seal(
            key,
            h,
            CallbackType::ScanStatus,
            &json!({"tId": tid, "isScaned": "01", "qRCodeType": code}),
        ),
    )
    .await;
    assert_eq!(v["header"]["ret"], "0", "{v}");
    let (_, v) = h
        .get(&format!(
            "/interlink/sweepcodeController/getScanInfo?tId={tid}"
        ))
        .await;
    assert_eq!(v["header"]["returnCode"], "0", "{v}");
    assert_eq!(v["data"]["isScaned"], "01", "{v}");
    assert_eq!(v["data"]["state"], "scanned", "{v}");
    let (signed, request) = fetch(h, &payload).await;
    // The app signs the profile of the code it scanned: the interlink code.
    let response = h
        .app
        .clone()
        .with_qr_profile(&Interlink)
        .approve(&h.wallet, &signed, &request, &[])
        .unwrap();
    let kind = CallbackType::answering(response.operation);
    let v = post_callback(
        h,
        &seal(key, h, kind, &serde_json::to_value(&response).unwrap()),
    )
    .await;
    assert_eq!(
        (
            v["header"]["ret"].as_str(),
            v["header"]["errorCode"].as_str()
        ),
        (Some("0"), None),
        "{v}"
    );
    assert!(
        v["header"]["msg"].as_str().unwrap().contains("verified"),
        "{v}"
    );
    response
}

async fn refused(h: &Harness, cb: &Value, code: &str, words: &str) {
    let (s, v) = h.post(CALLBACK, cb).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["header"]["ret"], "1", "{v}");
    assert_eq!(v["header"]["errorCode"], code, "{v}");
    assert!(
        v["header"]["msg"].as_str().unwrap().contains(words),
        "`{words}` not in {v}"
    );
    assert!(v["data"].is_null(), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interlink_callback_sequence_seals_and_opens_a_bid_file() {
    let h = start().await;
    let key = platform_enc_key(&h).await;
    let bid: Vec<u8> = (0..200_000u32).map(|i| (i * 13 % 256) as u8).collect();

    // The platform uploads the bid file (an encrypt transaction); 01 → 05 through the
    // interlink endpoint hand over the encryption certificate.
    let (s, v) = h
        .upload("/api/v1/bidfiles?name=标书.pdf", bid.clone())
        .await;
    assert_eq!(s, 200, "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    scan_and_answer(&h, &key, &tid).await;
    let (s, v) = h
        .post(&format!("/api/v1/bidfiles/{tid}/work"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    loop {
        let (_, p) = h.get(&format!("/api/v1/bidfiles/{tid}/progress")).await;
        if p["data"]["finished"] == true {
            assert!(p["data"]["error"].is_null(), "{p}");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (s, envelope, _) = h
        .download(&format!("/api/v1/bidfiles/{tid}/envelope"))
        .await;
    assert_eq!(s, 200);
    assert!(envelope.starts_with(b"CAMRBID1"));

    // Bid opening: 01 → 06 through the interlink endpoint, then the platform opens the file.
    let (s, v) = h
        .upload("/api/v1/bidfiles/open?name=标书.pdf.camrbid", envelope)
        .await;
    assert_eq!(s, 200, "{v}");
    let open_tid = v["data"]["tid"].as_str().unwrap().to_string();
    let response = scan_and_answer(&h, &key, &open_tid).await;
    assert_eq!(response.operation, camr::protocol::Operation::Decrypt);
    let (s, opened, _) = h
        .download(&format!("/api/v1/bidfiles/{open_tid}/plain"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(opened, bid);

    // Query by tid: the state and both callbacks, in order.
    let (s, v) = h
        .get(&format!(
            "/interlink/sweepcodeController/getScanInfo?tId={open_tid}&platformCode={PLATFORM}"
        ))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["header"]["returnCode"], "0", "{v}");
    assert_eq!(v["header"]["msg"], "查询成功");
    assert_eq!(v["data"]["tid"], open_tid.as_str());
    assert_eq!(v["data"]["operation"], "decrypt");
    assert_eq!(v["data"]["qRCodeType"], "06");
    assert_eq!(v["data"]["state"], "verified");
    assert_eq!(v["data"]["caOrgType"], "SOFTCA");
    let kinds: Vec<(&str, &str)> = v["data"]["callbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["type"].as_str().unwrap(), c["ret"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("01", "0"), ("06", "0")], "{v}");
    // The same answer again is refused (the transaction is answered).
    let again = seal(
        &key,
        &h,
        CallbackType::DecryptResult,
        &serde_json::to_value(&response).unwrap(),
    );
    refused(
        &h,
        &serde_json::to_value(&again).unwrap(),
        "TX_ALREADY_ANSWERED",
        "",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decrypt_keys_are_handed_out_once_by_get_decrypt_info() {
    let h = start().await;
    let key = platform_enc_key(&h).await;
    // An encrypt started the predecessor's way: platform code and QR type 05.
    let (_, v) = h
        .get(&format!(
            "/interlink/sweepcodeController/getQRCodeContent?platformCode={PLATFORM}&qRCodeType=05"
        ))
        .await;
    assert_eq!(v["header"]["returnCode"], "0", "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    assert!(tid.starts_with(PLATFORM) && tid.len() == 43, "{tid}");
    scan_and_answer(&h, &key, &tid).await;
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(s, 200, "{v}");
    let enc =
        Certificate::from_der(&b64(v["data"]["encryptionCertificate"].as_str().unwrap())).unwrap();

    // The platform's own tool seals the bid locally; the decrypt goes through 06.
    let p = h.provider.clone();
    let bid = b"tender price 1,280,000.00".to_vec();
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
        .map(|(sn, k)| json!({"id": "bid-1", "recipientCertSn": sn, "encryptedKey": Bytes(k.clone())}))
        .collect();
    let (tid, _) = h
        .start_tx(json!({"operation": "decrypt", "keys": keys}))
        .await;
    let path = format!("/interlink/sweepcodeController/getDecryptInfo?tId={tid}");
    let (_, v) = h.get(&path).await;
    assert_eq!(v["header"]["returnCode"], "1", "{v}");
    assert_eq!(v["header"]["errorCode"], "TX_PENDING", "{v}");
    scan_and_answer(&h, &key, &tid).await;
    let (s, v) = h.get(&path).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["header"]["returnCode"], "0", "{v}");
    assert_eq!(v["header"]["size"], 1, "{v}");
    let item = &v["data"][0];
    assert_eq!(item["decryptKey"], "bid-1");
    assert_eq!(item["decryptStatus"], "0");
    assert_eq!(item["decryptStatusInfo"], "解密成功");
    let cek = b64(item["decryptStr"].as_str().unwrap());
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
    // Once.
    let (_, v) = h.get(&path).await;
    assert_eq!(v["header"]["returnCode"], "1", "{v}");
    assert!(v["data"].is_null(), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_types_wrong_platforms_and_bad_encryption_are_refused() {
    let h = start().await;
    let key = platform_enc_key(&h).await;
    let (tid, _) = h.start_tx(json!({"operation": "encrypt"})).await;
    let payload = interlink_code(&h, &tid).await;
    let scan = json!({"tId": tid, "isScaned": "01"});
    let good = seal(&key, &h, CallbackType::ScanStatus, &scan);

    // Malformed type codes.
    for kind in ["04", "1", "", "AA", "001", "01 "] {
        let mut cb = serde_json::to_value(&good).unwrap();
        cb["type"] = json!(kind);
        refused(&h, &cb, "INPUT_MALFORMED", "callback type").await;
    }
    // Wrong platform codes: in the callback, and a tid of another platform inside.
    let mut cb = serde_json::to_value(&good).unwrap();
    cb["platformCode"] = json!("C1100005554");
    refused(&h, &cb, "PLATFORM_UNKNOWN", "C1100005554").await;
    let foreign = seal_callback(
        h.provider.as_ref(),
        &key,
        CallbackType::ScanStatus,
        "M1100000034",
        &serde_json::to_vec(&scan).unwrap(),
    )
    .unwrap();
    refused(
        &h,
        &serde_json::to_value(&foreign).unwrap(),
        "PLATFORM_UNKNOWN",
        "M1100000034",
    )
    .await;
    let other_tid = format!("M1100000034{}", &tid[11..]);
    let cb = seal(
        &key,
        &h,
        CallbackType::ScanStatus,
        &json!({"tId": other_tid, "isScaned": "01"}),
    );
    refused(
        &h,
        &serde_json::to_value(&cb).unwrap(),
        "PLATFORM_UNKNOWN",
        "M1100000034",
    )
    .await;

    // Bad encryption: another key, a changed ciphertext, a body moved to another type, no
    // desKey, not base64.
    let other_key = h
        .provider
        .generate_key(camr::crypto::KeyAlgorithm::Sm2)
        .unwrap()
        .public_key();
    let cb = seal(&other_key, &h, CallbackType::ScanStatus, &scan);
    refused(
        &h,
        &serde_json::to_value(&cb).unwrap(),
        "DECRYPTION_FAILED",
        "decrypt",
    )
    .await;
    let mut bytes = b64(&good.data.encrypt);
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let mut cb = serde_json::to_value(&good).unwrap();
    cb["data"]["encrypt"] = serde_json::to_value(Bytes(bytes)).unwrap();
    refused(&h, &cb, "DECRYPTION_FAILED", "decrypt").await;
    let mut cb = serde_json::to_value(&good).unwrap();
    cb["type"] = json!("05");
    refused(&h, &cb, "DECRYPTION_FAILED", "decrypt").await;
    let mut cb = serde_json::to_value(&good).unwrap();
    cb["data"].as_object_mut().unwrap().remove("desKey");
    refused(&h, &cb, "INPUT_MALFORMED", "desKey").await;
    let mut cb = serde_json::to_value(&good).unwrap();
    cb["data"]["encrypt"] = json!("not base64!");
    refused(&h, &cb, "INPUT_MALFORMED", "base64").await;
    // Not the predecessor's shape at all.
    refused(&h, &json!({"type": "01"}), "INPUT_MALFORMED", "JSON").await;
    // Bodies of the wrong form: isScaned out of range, a QR type of another operation.
    for (body, words) in [
        (json!({"tId": tid, "isScaned": "02"}), "isScaned"),
        (
            json!({"tId": tid, "isScaned": "01", "qRCodeType": "02"}),
            "qRCodeType",
        ),
        (json!({"isScaned": "01"}), "tId"),
    ] {
        let cb = seal(&key, &h, CallbackType::ScanStatus, &body);
        refused(
            &h,
            &serde_json::to_value(&cb).unwrap(),
            "INPUT_MALFORMED",
            words,
        )
        .await;
    }
    // None of this touched the transaction.
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}")).await;
    assert_eq!(v["data"]["state"], "created", "{v}");

    // An answer under the wrong type, and a forged answer inside good encryption: the core
    // verifies what the callback carries.
    let (signed, request) = fetch(&h, &payload).await;
    // The app signs the profile of the code it scanned: the interlink code.
    let response = h
        .app
        .clone()
        .with_qr_profile(&Interlink)
        .approve(&h.wallet, &signed, &request, &[])
        .unwrap();
    let body = serde_json::to_value(&response).unwrap();
    let cb = seal(&key, &h, CallbackType::DecryptResult, &body);
    refused(
        &h,
        &serde_json::to_value(&cb).unwrap(),
        "INPUT_MALFORMED",
        "type 06",
    )
    .await;
    let mut forged = response.clone();
    forged.request_hash = "0".repeat(64);
    let cb = seal(
        &key,
        &h,
        CallbackType::EncryptionCertificate,
        &serde_json::to_value(&forged).unwrap(),
    );
    refused(
        &h,
        &serde_json::to_value(&cb).unwrap(),
        "REQUEST_HASH_MISMATCH",
        "",
    )
    .await;
    // An answer signed for the national code (camr1) cannot come in as an interlink one.
    let national = h.app.approve(&h.wallet, &signed, &request, &[]).unwrap();
    let cb = seal(
        &key,
        &h,
        CallbackType::EncryptionCertificate,
        &serde_json::to_value(&national).unwrap(),
    );
    refused(
        &h,
        &serde_json::to_value(&cb).unwrap(),
        "QR_PROFILE_MISMATCH",
        "",
    )
    .await;
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}")).await;
    assert_eq!(v["data"]["state"], "scanned", "{v}");
    // The real answer still works.
    let cb = seal(&key, &h, CallbackType::EncryptionCertificate, &body);
    let v = post_callback(&h, &cb).await;
    assert_eq!(v["header"]["ret"], "0", "{v}");

    // Queries: no tid, a malformed one, an unknown one, another platform, a wrong QR type.
    let q = "/interlink/sweepcodeController/getScanInfo";
    let unknown = format!("{PLATFORM}{}", "0".repeat(32));
    for (path, code) in [
        (q.to_string(), "INPUT_MALFORMED"),
        (format!("{q}?tId=nope"), "TID_INVALID"),
        (format!("{q}?tId={unknown}"), "TX_NOT_FOUND"),
        (
            format!("{q}?tId={tid}&platformCode=C1100005554"),
            "PLATFORM_UNKNOWN",
        ),
        (
            "/interlink/sweepcodeController/getQRCodeContent?platformCode=C1100005553&qRCodeType=03"
                .to_string(),
            "INPUT_MALFORMED",
        ),
        (
            format!("/interlink/sweepcodeController/getQRCodeContent?tId={tid}"),
            "TX_ALREADY_ANSWERED",
        ),
        (
            format!("/interlink/sweepcodeController/getDecryptInfo?tId={tid}"),
            "INPUT_MALFORMED",
        ),
    ] {
        let (s, v) = h.get(&path).await;
        assert_eq!(s, 200, "{path}: {v}");
        assert_eq!(v["header"]["returnCode"], "1", "{path}: {v}");
        assert_eq!(v["header"]["errorCode"], code, "{path}: {v}");
        assert!(!v["header"]["msg"].as_str().unwrap().is_empty(), "{v}");
        assert!(v["data"].is_null(), "{path}: {v}");
    }
    // The refusals of this tid's callbacks are on record too.
    let (_, v) = h.get(&format!("{q}?tId={tid}")).await;
    let rets: Vec<&str> = v["data"]["callbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["ret"].as_str().unwrap())
        .collect();
    assert!(rets.contains(&"1") && rets.last() == Some(&"0"), "{v}");
}
