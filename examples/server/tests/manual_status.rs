//! What the CA apps' manuals say about certificate status, over real HTTP with `camr::app`
//! as the phone: frozen certificates (正常、冻结和失效; 冻结/解冻), identity documents other
//! than the resident identity card (护照, 港澳/台湾通行证, 外国人永久居留身份证), and
//! signing-time validity (不影响已使用的签章数据).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use camr::app::{App, Wallet};
use camr::ceremony::verify_signed_request;
use camr::crypto::{CryptoProvider, PublicKey, default_provider};
use camr::pki::{Certificate, IdentityDocument, IdentityType};
use camr::protocol::{Bytes, RequestObject, SignedRequest};
use camr::softca::{Holder, HolderType, RevocationReason, SoftCa, wallet_files};
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "manual-status-admin-token-0123456789";

struct Harness {
    base: String,
    client: reqwest::Client,
    data: PathBuf,
    _dir: tempfile::TempDir,
    provider: Arc<dyn CryptoProvider>,
    key: PublicKey,
    app: App,
    wallet: Wallet,
    state: Arc<camr_server::AppState>,
}

async fn start() -> Harness {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = camr_server::ServerConfig::demo(data.clone(), addr);
    config.admin_token = Some(camr_server::config::Secret::new(ADMIN_TOKEN));
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
    let spki = serde_json::from_value::<Bytes>(info["data"]["publicKeySpki"].clone())
        .unwrap()
        .0;
    let provider = default_provider();
    Harness {
        key: PublicKey::from_spki_der(&spki).unwrap(),
        app: App::new(provider.clone(), "SOFTCA"),
        wallet: Wallet::open(&data.join("wallet"), b"123456").unwrap(),
        provider,
        client,
        base,
        data,
        _dir: dir,
        state,
    }
}

impl Harness {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
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

    /// `POST /api/v1/admin/crls/reload` with (or without) the admin token.
    async fn reload_crls(&self, token: Option<&str>) -> (u16, Value) {
        let mut r = self
            .client
            .post(format!("{}/api/v1/admin/crls/reload", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn start_tx(&self, body: Value) -> (String, String) {
        let (status, v) = self.post("/api/v1/transactions", &body).await;
        assert_eq!(status, 200, "{v}");
        (
            v["data"]["tid"].as_str().unwrap().to_string(),
            v["data"]["qrText"].as_str().unwrap().to_string(),
        )
    }

    /// The phone: parse and verify the QR, fetch and verify the request object.
    async fn scan(&self, qr_text: &str) -> (SignedRequest, RequestObject) {
        let payload = camr::qr::parse_and_verify(
            self.provider.as_ref(),
            qr_text,
            &self.key,
            camr::qr::VerifyOptions::at(camr::qr::unix_now()),
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
        (signed, request)
    }

    /// Scans and approves with `wallet`; the server's answer to the phone.
    async fn approve_with(&self, wallet: &Wallet, qr_text: &str) -> (u16, Value) {
        let (signed, request) = self.scan(qr_text).await;
        let response = self.app.approve(wallet, &signed, &request, &[]).unwrap();
        self.post(
            "/camr/v1/response",
            &serde_json::to_value(&response).unwrap(),
        )
        .await
    }

    /// A login with `wallet`: the server's answer to the phone.
    async fn login_with(&self, wallet: &Wallet) -> (String, u16, Value) {
        let (tid, qr) = self.start_tx(json!({"operation": "login"})).await;
        let (s, v) = self.approve_with(wallet, &qr).await;
        (tid, s, v)
    }

    fn ca(&self) -> SoftCa {
        SoftCa::open(self.provider.clone(), &self.data.join("ca")).unwrap()
    }

    fn sign_serial(&self) -> String {
        Certificate::parse_one(
            &std::fs::read(self.data.join("wallet").join(wallet_files::SIGN_CERT)).unwrap(),
        )
        .unwrap()
        .serial_hex()
    }
}

fn assert_verified(s: u16, v: &Value) {
    assert_eq!(
        (s, v["data"]["state"].as_str()),
        (200, Some("verified")),
        "{v}"
    );
}

fn assert_refused(s: u16, v: &Value, code: &str) {
    assert!(s >= 400, "{s} {v}");
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["errorCode"], code, "{v}");
}

/// The app's certificate list shows 正常、冻结和失效: a certificate the CA freezes after the
/// platform started is refused on the next login once the platform reloads its CRLs, and
/// accepted again after the CA lifts the hold (解冻).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_certificate_is_refused_and_works_again_after_unfreezing() {
    let h = start().await;
    let (_, s, v) = h.login_with(&h.wallet).await;
    assert_verified(s, &v);

    let serial = h.sign_serial();
    h.ca()
        .revoke(
            &serial,
            RevocationReason::CertificateHold,
            camr::qr::unix_now(),
        )
        .unwrap();
    // The platform judges with the CRLs it has: until it reloads, the hold is unknown to it.
    let (_, s, v) = h.login_with(&h.wallet).await;
    assert_verified(s, &v);

    // Reloading is an admin call.
    let (s, v) = h.reload_crls(None).await;
    assert_refused(s, &v, "UNAUTHORIZED");
    let (s, v) = h.reload_crls(Some("wrong-token")).await;
    assert_refused(s, &v, "UNAUTHORIZED");
    let (s, v) = h.reload_crls(Some(ADMIN_TOKEN)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"][0]["source"], "demo CA", "{v}");
    assert_eq!(v["data"][0]["frozen"], 1, "{v}");
    assert_eq!(v["data"][0]["revoked"], 0, "{v}");

    let (tid, s, v) = h.login_with(&h.wallet).await;
    assert_refused(s, &v, "CERT_FROZEN");
    assert!(v["msg"].as_str().unwrap().contains(&serial), "{v}");
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}")).await;
    assert_ne!(v["data"]["state"], "verified", "{v}");

    // 解冻: the CA lifts the hold, the platform reloads, the certificate works again.
    h.ca().release_hold(&serial).unwrap();
    let (s, v) = h.reload_crls(Some(ADMIN_TOKEN)).await;
    assert_eq!((s, v["data"][0]["frozen"].clone()), (200, json!(0)), "{v}");
    let (_, s, v) = h.login_with(&h.wallet).await;
    assert_verified(s, &v);

    // A CRL file in <data>/crls/ that is not a CRL: the reload is refused, nothing changes.
    std::fs::create_dir_all(h.data.join("crls")).unwrap();
    std::fs::write(h.data.join("crls/broken.crl"), b"not a CRL").unwrap();
    let (s, v) = h.reload_crls(Some(ADMIN_TOKEN)).await;
    assert_refused(s, &v, "CERT_MALFORMED");
    assert!(v["msg"].as_str().unwrap().contains("broken.crl"), "{v}");
    let (_, s, v) = h.login_with(&h.wallet).await;
    assert_verified(s, &v);

    // When the platform learned of the freeze and of its lifting is in the audit log (the
    // two reloads that succeeded), which still verifies.
    let audit = h.state.store.audit().await.unwrap();
    camr::store::verify_audit(&audit).unwrap();
    let reloads: Vec<_> = audit
        .iter()
        .filter(|e| e.event == "crls-reloaded")
        .map(|e| e.detail.clone())
        .collect();
    assert_eq!(reloads.len(), 2, "{reloads:?}");
    assert!(reloads[0].contains("0 revoked, 1 frozen"), "{reloads:?}");
    assert!(reloads[1].contains("0 revoked, 0 frozen"), "{reloads:?}");
}

/// The CA apps register holders by 身份证, 港澳台居民居住证, 回乡证, 台胞证, 外国人永久居留身份证
/// and passports: the platform's login result names the document type and number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_name_the_identity_document_of_the_certificate() {
    let h = start().await;
    let docs = [
        IdentityDocument::passport("GB", "123456789").unwrap(),
        IdentityDocument::passport("CN", "E12345678").unwrap(),
        IdentityDocument::new(IdentityType::HkMacaoTravelPermit, "H12345678").unwrap(),
        IdentityDocument::new(IdentityType::TaiwanTravelPermit, "12345678").unwrap(),
        IdentityDocument::new(
            IdentityType::ForeignPermanentResidenceCard,
            "USA110079000017",
        )
        .unwrap(),
        IdentityDocument::new(IdentityType::ResidencePermit, "810000199001011230").unwrap(),
        IdentityDocument::resident_id("110101199003074514").unwrap(),
    ];
    let mut ca = h.ca();
    for (i, doc) in docs.iter().enumerate() {
        let dir = h.data.join(format!("wallet-id-{i}"));
        let holder = Holder {
            holder_type: HolderType::Personal,
            name: "持证人".into(),
            organization: None,
            uscc: None,
            identity_number: Some(doc.clone()),
        };
        ca.issue(&holder, b"123456", &dir, 30).unwrap();
        let wallet = Wallet::open(&dir, b"123456").unwrap();
        let (tid, s, v) = h.login_with(&wallet).await;
        assert_verified(s, &v);
        let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
        assert_eq!(s, 200, "{v}");
        let subject = &v["data"]["subject"];
        assert_eq!(subject["identityType"], json!(doc.id_type), "{v}");
        assert_eq!(subject["identityNumber"], doc.number.as_str(), "{v}");
        assert_eq!(subject["identityCountry"], json!(doc.country), "{v}");
        assert_eq!(subject["certType"], "personalCert", "{v}");
    }
    // The demo wallet's organisation certificate names no document.
    let (tid, s, v) = h.login_with(&h.wallet).await;
    assert_verified(s, &v);
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert!(v["data"]["subject"].get("identityType").is_none(), "{v}");
    // A bad number never reaches a certificate.
    let holder = Holder {
        holder_type: HolderType::Personal,
        name: "持证人".into(),
        organization: None,
        uscc: None,
        identity_number: Some(IdentityDocument {
            id_type: IdentityType::TaiwanTravelPermit,
            number: "1234".into(),
            country: None,
        }),
    };
    let e = ca
        .issue(&holder, b"123456", &h.data.join("wallet-bad"), 30)
        .unwrap_err();
    assert!(e.to_string().contains("台湾居民来往大陆通行证"), "{e}");
}

/// 不影响已使用的签章数据: a signature and a PDF seal the platform verified and recorded stay
/// valid at their signing time after the certificate is revoked; a new login or signature
/// with the revoked certificate fails with CERT_REVOKED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_and_seals_made_before_a_revocation_stay_valid_at_signing_time() {
    use camr::seal;
    let h = start().await;
    // A hash signature (签名), verified and recorded.
    let hash = h.provider.digest(camr::crypto::HashAlgorithm::Sm3, b"bid");
    let (sig_tid, qr) = h
        .start_tx(json!({"operation": "signature", "items": [
            {"id": "bid", "name": "投标文件.pdf", "hash": Bytes(hash), "hashAlgorithm": "SM3"}
        ]}))
        .await;
    let (s, v) = h.approve_with(&h.wallet, &qr).await;
    assert_verified(s, &v);
    // A PDF seal (签章), verified, embedded and recorded.
    let pdf = seal::sample_pdf(1).unwrap();
    let (s, v) = h
        .upload("/api/v1/pdf/seal?name=投标文件.pdf&page=1&x=400&y=100", pdf)
        .await;
    assert_eq!(s, 200, "{v}");
    let seal_tid = v["data"]["tid"].as_str().unwrap().to_string();
    let (s, v) = h
        .approve_with(&h.wallet, v["data"]["qrText"].as_str().unwrap())
        .await;
    assert_verified(s, &v);
    let (s, sealed) = h.download(&format!("/api/v1/pdf/{seal_tid}/sealed")).await;
    assert_eq!(s, 200);

    // Before any revocation: valid at the recorded signing time, nothing to say about now.
    let (s, v) = h
        .get(&format!("/api/v1/transactions/{sig_tid}/verification"))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["validAtSigningTime"], true, "{v}");
    assert_eq!(
        v["data"]["validationTime"]["evidence"], "platformRecord",
        "{v}"
    );
    assert!(v["data"].get("statusNow").is_none(), "{v}");
    let signed_at = v["data"]["validationTime"]["at"].as_i64().unwrap();
    assert!(
        v["data"]["validationTime"]["reference"]
            .as_str()
            .unwrap()
            .contains("audit #"),
        "{v}"
    );
    let (_, v) = h.get(&format!("/api/v1/pdf/{seal_tid}/report")).await;
    let seal_at = v["data"]["seals"][0]["validationTime"]["at"]
        .as_i64()
        .unwrap();

    // The CA revokes the certificate after both records (revocation dates are whole
    // seconds: wait until the clock has passed the later record).
    while camr::qr::unix_now() <= signed_at.max(seal_at) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    h.ca()
        .revoke(
            &h.sign_serial(),
            RevocationReason::KeyCompromise,
            camr::qr::unix_now(),
        )
        .unwrap();
    let (s, v) = h.reload_crls(Some(ADMIN_TOKEN)).await;
    assert_eq!((s, v["data"][0]["revoked"].clone()), (200, json!(1)), "{v}");

    // The recorded signature: valid at its signing time, revoked now.
    let (s, v) = h
        .get(&format!("/api/v1/transactions/{sig_tid}/verification"))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["validAtSigningTime"], true, "{v}");
    assert_eq!(v["data"]["validationTime"]["at"], signed_at, "{v}");
    assert_eq!(v["data"]["subject"]["name"], "张三", "{v}");
    assert!(
        v["data"]["statusNow"]
            .as_str()
            .unwrap()
            .starts_with("CERT_REVOKED"),
        "{v}"
    );

    // The sealed PDF: its own transaction's record makes it valid at signing time.
    let (s, v) = h.get(&format!("/api/v1/pdf/{seal_tid}/report")).await;
    assert_eq!(s, 200, "{v}");
    let seal = &v["data"]["seals"][0];
    assert_eq!(
        (seal["valid"].clone(), seal["trusted"].clone()),
        (json!(true), json!(true)),
        "{v}"
    );
    assert_eq!(seal["validationTime"]["evidence"], "platformRecord", "{v}");
    assert_eq!(seal["validationTime"]["at"], seal_at, "{v}");
    assert!(
        seal["statusNow"]
            .as_str()
            .unwrap()
            .starts_with("CERT_REVOKED"),
        "{v}"
    );
    // The same file uploaded without evidence is judged now: revoked.
    let (s, v) = h.upload("/api/v1/pdf/verify", sealed.clone()).await;
    assert_eq!(s, 200, "{v}");
    let seal = &v["data"]["seals"][0];
    assert_eq!(seal["valid"], false, "{v}");
    assert!(
        seal["chainError"]
            .as_str()
            .unwrap()
            .starts_with("CERT_REVOKED"),
        "{v}"
    );
    assert_eq!(
        seal["validationTime"]["evidence"], "verificationTime",
        "{v}"
    );
    // ... and with the seal transaction named as evidence: valid at signing time. The record
    // of another transaction (the hash signature) is no evidence for this seal.
    let (s, v) = h
        .upload(
            &format!("/api/v1/pdf/verify?tid={sig_tid},{seal_tid}"),
            sealed.clone(),
        )
        .await;
    assert_eq!(
        (s, v["data"]["allValid"].clone()),
        (200, json!(true)),
        "{v}"
    );
    let (_, v) = h
        .upload(&format!("/api/v1/pdf/verify?tid={sig_tid}"), sealed.clone())
        .await;
    assert_eq!(v["data"]["allValid"], false, "{v}");

    // New ones fail: login, signature and seal with the revoked certificate.
    let (_, s, v) = h.login_with(&h.wallet).await;
    assert_refused(s, &v, "CERT_REVOKED");
    let (_, qr) = h
        .start_tx(json!({"operation": "messageSignature", "message": "报价 1,280,000.00 元"}))
        .await;
    let (s, v) = h.approve_with(&h.wallet, &qr).await;
    assert_refused(s, &v, "CERT_REVOKED");
    let (s, v) = h
        .upload(
            "/api/v1/pdf/seal?page=1&x=400&y=100",
            seal::sample_pdf(1).unwrap(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h
        .approve_with(&h.wallet, v["data"]["qrText"].as_str().unwrap())
        .await;
    assert_refused(s, &v, "CERT_REVOKED");

    // Refusals: a login records no signature; an unknown tid; a pending one.
    let (login_tid, _) = h.start_tx(json!({"operation": "login"})).await;
    let (s, v) = h
        .get(&format!("/api/v1/transactions/{login_tid}/verification"))
        .await;
    assert_refused(s, &v, "TX_PENDING");
    let unknown = format!("{}0", &sig_tid[..sig_tid.len() - 1]);
    let unknown = if unknown == sig_tid {
        format!("{}1", &sig_tid[..sig_tid.len() - 1])
    } else {
        unknown
    };
    let (s, v) = h
        .get(&format!("/api/v1/transactions/{unknown}/verification"))
        .await;
    assert!(
        v["errorCode"] == "TX_NOT_FOUND" || v["errorCode"] == "TID_INVALID",
        "{s} {v}"
    );
    let (s, v) = h.upload("/api/v1/pdf/verify?tid=nonsense", sealed).await;
    assert_refused(s, &v, "TID_INVALID");
}
