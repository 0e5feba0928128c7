//! What the CA apps' manuals require of the platform (issue 9), end to end over HTTP with the
//! app simulator as the phone: entitlement (本平台/全国版, 个人/机构证书), delegation scope
//! (证书授权, 收回) and mixed batches (批量签署或拒签). Each refusal is shown twice: the app
//! simulator refuses on the phone and says why, and an app that skips that check is refused
//! by the platform core itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use camr::app::{App, Delegation, SignedDelegation, Wallet};
use camr::crypto::{CryptoProvider, PublicKey, default_provider};
use camr::protocol::{
    Bytes, ErrorCode, ItemRejection, Operation, RequestObject, Response, SignedRequest,
    SubjectType, SystemCode,
};
use camr::registry::Requirement;
use camr_app_sim::{PlatformKeySource, ScanOptions, SimError};
use common::sim::{Lines, scan_options, sim_on};
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "manual-scope-admin-token-0123";
const SYSTEM_CODE: &str = "C1100005553";

struct Harness {
    base: String,
    client: reqwest::Client,
    data: PathBuf,
    _dir: tempfile::TempDir,
    provider: Arc<dyn CryptoProvider>,
    key: PublicKey,
    app: App,
    /// The demo wallet: an organisation certificate (张三, 某某建设有限公司).
    org: Wallet,
    /// A personal certificate from the same CA (李四), in `<data>/personal`.
    personal: Wallet,
    /// The operator's admin token (reports).
    admin: String,
}

async fn start(entitlement: camr_server::config::EntitlementConfig) -> Harness {
    start_with(|c| c.entitlement = entitlement).await
}

async fn start_with(configure: impl FnOnce(&mut camr_server::ServerConfig)) -> Harness {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = camr_server::ServerConfig::demo(data.clone(), addr);
    configure(&mut config);
    let data = config.data.clone();
    config.admin_token = Some(camr_server::config::Secret::new(ADMIN_TOKEN));
    let state = camr_server::build_state(&config).await.unwrap();
    let admin = state.ops.admin_token().to_string();
    tokio::spawn(camr_server::serve(listener, state, std::future::pending()));
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
    let mut ca = camr::softca::SoftCa::open(provider.clone(), &data.join("ca")).unwrap();
    let holder = camr::softca::Holder::personal("李四");
    if !data.join("personal").exists() {
        ca.issue(&holder, b"123456", &data.join("personal"), 30)
            .unwrap();
    }
    Harness {
        key: PublicKey::from_spki_der(&spki).unwrap(),
        app: App::new(provider.clone(), "SOFTCA"),
        org: Wallet::open(&data.join("wallet"), b"123456").unwrap(),
        personal: Wallet::open(&data.join("personal"), b"123456").unwrap(),
        provider,
        client,
        base,
        data,
        _dir: dir,
        admin,
    }
}

/// The app simulator's whole scan, off the runtime's threads, its prompts recorded too.
async fn sim(options: ScanOptions) -> (Result<camr_app_sim::Outcome, SimError>, String) {
    sim_on(options, Lines::with_prompts()).await
}

fn items(n: usize) -> Value {
    json!(
        (1..=n)
            .map(|i| json!({
                "id": format!("doc{i}"),
                "name": format!("投标文件第{i}册.pdf"),
                "hash": data_encoding::BASE64.encode(&[u8::try_from(i).unwrap(); 32]),
                "hashAlgorithm": "SM3",
            }))
            .collect::<Vec<_>>()
    )
}

impl Harness {
    fn scan_options(&self, qr: &str, wallets: &[&str]) -> ScanOptions {
        ScanOptions {
            wallets: wallets[1..].iter().map(|w| self.data.join(w)).collect(),
            platform_key: PlatformKeySource::Registry {
                list: self.data.join("registry.json"),
                authority: self.data.join("registry-authority.pub.pem"),
            },
            ..scan_options(qr, self.data.join(wallets[0]), "123456")
        }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> (u16, Value) {
        let mut r = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn start_tx(&self, body: Value) -> (String, String) {
        let (status, v) = self.post("/api/v1/transactions", &body, None).await;
        assert_eq!(status, 200, "{v}");
        (
            v["data"]["tid"].as_str().unwrap().to_string(),
            v["data"]["qrText"].as_str().unwrap().to_string(),
        )
    }

    async fn state(&self, tid: &str) -> String {
        let (_, v) = self.get(&format!("/api/v1/transactions/{tid}")).await;
        v["data"]["state"].as_str().unwrap().to_string()
    }

    /// A phone that skips the app's own checks: fetch and verify the request object only.
    async fn fetch(&self, qr_text: &str) -> (SignedRequest, RequestObject) {
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
        let request =
            camr::ceremony::verify_signed_request(self.provider.as_ref(), &signed, &self.key)
                .unwrap();
        (signed, request)
    }

    async fn answer(&self, response: &Response) -> (u16, Value) {
        self.post(
            "/camr/v1/response",
            &serde_json::to_value(response).unwrap(),
            None,
        )
        .await
    }

    /// An organisation delegation to 王五 (signed with the demo organisation wallet).
    fn delegation(
        &self,
        operations: &[Operation],
        not_before: i64,
        not_after: i64,
    ) -> SignedDelegation {
        let d = Delegation {
            org_cert_sn: self.org.sign_cert.serial_hex(),
            staff_name: "王五".into(),
            staff_id: Some("110101199001011234".into()),
            trading_systems: vec![SystemCode::parse(SYSTEM_CODE).unwrap()],
            operations: operations.to_vec(),
            not_before,
            not_after,
        };
        camr::app::delegation::issue(self.provider.as_ref(), &self.org, &d).unwrap()
    }

    fn delegation_file(&self, name: &str, d: &SignedDelegation) -> PathBuf {
        let path = self.data.join(name);
        std::fs::write(&path, serde_json::to_string(d).unwrap()).unwrap();
        path
    }

    /// The usage records as CSV, one per verified answer.
    async fn usage_csv(&self) -> String {
        self.client
            .get(format!("{}/api/v1/reports/usage.csv?by=record", self.base))
            .bearer_auth(&self.admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

fn assert_refused(status: u16, v: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{v}");
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["errorCode"], code, "{v}");
}

fn require(pairs: &[(Operation, SubjectType)]) -> camr_server::config::EntitlementConfig {
    camr_server::config::EntitlementConfig {
        delegated: None,
        platform_only: None,
        vendors: None,
        require: Some(
            pairs
                .iter()
                .map(|(operation, subject_type)| Requirement {
                    operation: *operation,
                    subject_type: *subject_type,
                })
                .collect(),
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_certificate_is_required_to_sign_and_a_personal_one_is_refused() {
    let h = start(require(&[(Operation::Signature, SubjectType::Org)])).await;
    // The registry the server publishes says so too.
    let registry: Value =
        serde_json::from_str(&std::fs::read_to_string(h.data.join("registry.json")).unwrap())
            .unwrap();
    let list: Value = serde_json::from_str(registry["trustList"].as_str().unwrap()).unwrap();
    assert_eq!(
        list["platforms"][0]["requirements"],
        json!([{"operation": "signature", "subjectType": "org"}])
    );

    // The bidder's app holds only a personal certificate: it offers none and says why.
    let (tid, qr) = h
        .start_tx(json!({"operation": "signature", "items": items(1)}))
        .await;
    let (r, shown) = sim(h.scan_options(&qr, &["personal"])).await;
    let e = r.unwrap_err();
    assert_eq!(e.code, ErrorCode::CertNotEntitled, "{e}");
    assert!(
        shown.contains("要求 Requires:") && shown.contains("机构证书"),
        "{shown}"
    );
    assert!(shown.contains("No certificate of this app fits"), "{shown}");
    assert!(
        shown.contains("李四")
            && shown.contains("the platform requires a 机构证书 organisation certificate"),
        "{shown}"
    );
    assert_eq!(h.state(&tid).await, "scanned", "nothing was sent");

    // An app that answers with the personal certificate anyway is refused by the platform.
    let (signed, request) = h.fetch(&qr).await;
    let requires = request.requires.clone().unwrap();
    assert_eq!(requires.subject_type, Some(SubjectType::Org));
    let answer = h.app.approve(&h.personal, &signed, &request, &[]).unwrap();
    let (s, v) = h.answer(&answer).await;
    assert_refused(s, &v, 403, "CERT_NOT_ENTITLED");
    assert!(
        v["msg"]
            .as_str()
            .unwrap()
            .contains("organisation certificate"),
        "{v}"
    );
    assert_eq!(
        h.state(&tid).await,
        "scanned",
        "a refused answer changes nothing"
    );

    // With both certificates (two wallets given), the app offers only the organisation one.
    let (r, shown) = sim(h.scan_options(&qr, &["personal", "wallet"])).await;
    let out = r.unwrap();
    assert_eq!(
        (out.tid.as_str(), out.state.as_str()),
        (tid.as_str(), "verified"),
        "{shown}"
    );
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(v["data"]["subject"]["subjectType"], "org", "{v}");

    // Login requires nothing: the personal certificate is fine there, and its request says
    // nothing is required.
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (_, request) = h.fetch(&qr).await;
    assert_eq!(request.requires, None);
    let (r, shown) = sim(h.scan_options(&qr, &["personal"])).await;
    assert_eq!(r.unwrap().state, "verified", "{shown}");
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(v["data"]["subject"]["name"], "李四", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_the_platform_does_not_accept_is_refused() {
    // This platform accepts only GDCA certificates (e.g. its own, 本平台), not SOFTCA's.
    let h = start(camr_server::config::EntitlementConfig {
        delegated: None,
        platform_only: None,
        vendors: Some(vec!["GDCA".into()]),
        require: None,
    })
    .await;
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (r, shown) = sim(h.scan_options(&qr, &["wallet"])).await;
    let e = r.unwrap_err();
    assert_eq!(e.code, ErrorCode::CertNotEntitled, "{e}");
    assert!(
        shown.contains("accepts certificates of GDCA only"),
        "{shown}"
    );
    assert_eq!(h.state(&tid).await, "scanned");

    let (signed, request) = h.fetch(&qr).await;
    assert_eq!(
        request.requires.as_ref().unwrap().ca_org_types,
        vec!["GDCA"]
    );
    // Answering as SOFTCA: not accepted.
    let answer = h.app.approve(&h.org, &signed, &request, &[]).unwrap();
    let (s, v) = h.answer(&answer).await;
    assert_refused(s, &v, 403, "CERT_NOT_ENTITLED");
    assert!(v["msg"].as_str().unwrap().contains("GDCA only"), "{v}");
    // Claiming to be GDCA with a SOFTCA certificate: its chain ends at SOFTCA's root.
    let liar = App::new(h.provider.clone(), "GDCA")
        .approve(&h.org, &signed, &request, &[])
        .unwrap();
    let (s, v) = h.answer(&liar).await;
    assert_refused(s, &v, 403, "CERT_NOT_ENTITLED");
    assert!(v["msg"].as_str().unwrap().contains("SOFTCA"), "{v}");
    assert_eq!(h.state(&tid).await, "scanned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegation_is_checked_by_the_platform_and_can_be_withdrawn() {
    let h = start(Default::default()).await;
    let now = camr::qr::unix_now();
    // GDCA: the staff member may log in, encrypt and decrypt with the organisation
    // certificate — not sign.
    let granted = [Operation::Login, Operation::Encrypt, Operation::Decrypt];
    let d = h.delegation(&granted, now - 60, now + 3600);
    let file = h.delegation_file("delegation.json", &d);

    // In scope: accepted, and the usage record carries the operator.
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (r, shown) = sim(ScanOptions {
        delegation: Some(file.clone()),
        ..h.scan_options(&qr, &["wallet"])
    })
    .await;
    assert_eq!(r.unwrap().state, "verified", "{shown}");
    assert!(
        shown.contains("Acting for the organisation as 王五"),
        "{shown}"
    );
    let csv = h.usage_csv().await;
    let row = csv.lines().find(|l| l.contains(&tid)).unwrap();
    assert!(row.contains("王五 (110101199001011234)"), "{row}");

    // Used for signing: the app refuses on the phone...
    let (tid, qr) = h
        .start_tx(json!({"operation": "signature", "items": items(1)}))
        .await;
    let (r, _) = sim(ScanOptions {
        delegation: Some(file.clone()),
        ..h.scan_options(&qr, &["wallet"])
    })
    .await;
    assert_eq!(r.unwrap_err().code, ErrorCode::DelegationOutOfScope);
    // ...and an app that sends it anyway (signed, the delegation inside its binding) is
    // refused by the platform.
    let (signed, request) = h.fetch(&qr).await;
    let mut answer = h.app.approve(&h.org, &signed, &request, &[]).unwrap();
    answer.operator = Some("王五 (110101199001011234)".into());
    answer.delegation = Some(d.clone());
    h.app.sign_binding(&h.org, &mut answer).unwrap();
    let (s, v) = h.answer(&answer).await;
    assert_refused(s, &v, 403, "DELEGATION_OUT_OF_SCOPE");
    assert!(v["msg"].as_str().unwrap().contains("signature"), "{v}");
    // Naming an operator without the delegation is refused too (the platform records only
    // operators it verified).
    answer.delegation = None;
    h.app.sign_binding(&h.org, &mut answer).unwrap();
    let (s, v) = h.answer(&answer).await;
    assert_refused(s, &v, 403, "DELEGATION_OUT_OF_SCOPE");
    assert_eq!(h.state(&tid).await, "scanned");

    // Expired.
    let expired = h.delegation(&granted, now - 7200, now - 3600);
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed, request) = h.fetch(&qr).await;
    let mut answer = h.app.approve(&h.org, &signed, &request, &[]).unwrap();
    answer.delegation = Some(expired);
    h.app.sign_binding(&h.org, &mut answer).unwrap();
    let (s, v) = h.answer(&answer).await;
    assert_refused(s, &v, 403, "DELEGATION_OUT_OF_SCOPE");
    assert!(v["msg"].as_str().unwrap().contains("valid from"), "{v}");
    assert_eq!(h.state(&tid).await, "scanned");

    // A delegation signed by another certificate (here: the personal one) is not the
    // organisation's.
    let mut forged = d.clone();
    forged.signature = Bytes(
        h.provider
            .sign(
                &h.personal.sign_key,
                &camr::crypto::SignatureScheme::default_for(h.personal.sign_key.algorithm()),
                forged.delegation.as_bytes(),
            )
            .unwrap(),
    );
    answer.delegation = Some(forged);
    h.app.sign_binding(&h.org, &mut answer).unwrap();
    let (s, v) = h.answer(&answer).await;
    assert_refused(s, &v, 403, "DELEGATION_OUT_OF_SCOPE");

    // Withdrawn (收回): only with the admin token; then the platform refuses answers under
    // it although the phone still holds it.
    let path = "/api/v1/admin/delegations/withdraw";
    let body = json!({"delegation": d, "reason": "员工离职"});
    let (s, v) = h.post(path, &body, None).await;
    assert_refused(s, &v, 401, "UNAUTHORIZED");
    let (s, v) = h.post(path, &body, Some("not-the-admin-token-000")).await;
    assert_refused(s, &v, 401, "UNAUTHORIZED");
    let (s, v) = h
        .post(path, &json!({"delegationId": "XYZ"}), Some(ADMIN_TOKEN))
        .await;
    assert_refused(s, &v, 400, "INPUT_MALFORMED");
    let (s, v) = h.post(path, &body, Some(ADMIN_TOKEN)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["data"]["delegationId"],
        camr::app::delegation::id(h.provider.as_ref(), &d)
    );
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (r, shown) = sim(ScanOptions {
        delegation: Some(file),
        ..h.scan_options(&qr, &["wallet"])
    })
    .await;
    let e = r.unwrap_err();
    assert_eq!(e.code, ErrorCode::DelegationOutOfScope, "{e}\n{shown}");
    assert!(e.msg.contains("withdrawn"), "{e}");
    assert_eq!(h.state(&tid).await, "scanned");
    // A new delegation to the same staff member is another one: accepted.
    let renewed = h.delegation(&granted, now - 30, now + 3600);
    let file = h.delegation_file("renewed.json", &renewed);
    let (r, shown) = sim(ScanOptions {
        delegation: Some(file),
        ..h.scan_options(&qr, &["wallet"])
    })
    .await;
    assert_eq!(r.unwrap().state, "verified", "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_five_with_two_refused_lists_each_items_outcome() {
    let h = start(Default::default()).await;
    let (tid, qr) = h
        .start_tx(json!({"operation": "signature", "items": items(5)}))
        .await;
    let refuse = |id: &str, reason: &str| ItemRejection {
        item_id: id.into(),
        reason: reason.into(),
    };
    // An item the batch does not have, or no reason: the app says so and sends nothing.
    let (r, _) = sim(ScanOptions {
        refuse_items: vec![refuse("doc9", "不是本项目")],
        ..h.scan_options(&qr, &["wallet"])
    })
    .await;
    let e = r.unwrap_err();
    assert_eq!(e.code, ErrorCode::InputMalformed);
    assert!(e.msg.contains("doc1, doc2, doc3, doc4, doc5"), "{e}");
    let (r, _) = sim(ScanOptions {
        refuse_items: vec![refuse("doc2", " ")],
        ..h.scan_options(&qr, &["wallet"])
    })
    .await;
    assert_eq!(r.unwrap_err().code, ErrorCode::InputMalformed);
    // The platform refuses such answers from any app as well.
    let (signed, request) = h.fetch(&qr).await;
    let bad = h
        .app
        .approve(&h.org, &signed, &request, &[refuse("doc9", "不是本项目")])
        .unwrap();
    let (s, v) = h.answer(&bad).await;
    assert_refused(s, &v, 400, "INPUT_MALFORMED");
    assert_eq!(h.state(&tid).await, "scanned");

    let (r, shown) = sim(ScanOptions {
        refuse_items: vec![
            refuse("doc2", "金额有误 wrong amount"),
            refuse("doc4", "非本人文件 not my document"),
        ],
        ..h.scan_options(&qr, &["wallet"])
    })
    .await;
    assert_eq!(r.unwrap().state, "verified", "{shown}");
    assert!(
        shown.contains("拒签 Refusing item [doc2]: 金额有误 wrong amount"),
        "{shown}"
    );
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(s, 200, "{v}");
    let outcomes: Vec<(String, String, Value)> = v["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["itemId"].as_str().unwrap().to_string(),
                i["outcome"].as_str().unwrap().to_string(),
                i["reason"].clone(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("doc1".into(), "signed".into(), Value::Null),
            (
                "doc2".into(),
                "rejected".into(),
                json!("金额有误 wrong amount")
            ),
            ("doc3".into(), "signed".into(), Value::Null),
            (
                "doc4".into(),
                "rejected".into(),
                json!("非本人文件 not my document")
            ),
            ("doc5".into(), "signed".into(), Value::Null),
        ]
    );
    assert_eq!(v["data"]["items"][0]["name"], "投标文件第1册.pdf");
    // The three signatures verify over their hashes with the signer's certificate.
    let signed_items = v["data"]["signed"].as_array().unwrap();
    assert_eq!(signed_items.len(), 3);
    assert_eq!(v["data"]["rejected"].as_array().unwrap().len(), 2);
    let cert: Bytes = serde_json::from_value(v["data"]["certificate"].clone()).unwrap();
    let key = camr::pki::Certificate::from_der(&cert)
        .unwrap()
        .public_key()
        .unwrap();
    for s in signed_items {
        let hash: Bytes = serde_json::from_value(s["item"]["hash"].clone()).unwrap();
        let sig: Bytes = serde_json::from_value(s["signature"].clone()).unwrap();
        h.provider
            .verify(
                &key,
                &camr::crypto::SignatureScheme::default_for(key.algorithm()),
                &hash,
                &sig,
            )
            .unwrap();
    }
}

#[test]
fn the_entitlement_comes_from_the_configuration_file_environment_and_example() {
    use camr_server::config::Settings;
    let file = std::path::Path::new("camr.toml");
    let c = Settings::from_toml(
        "[entitlement]\nvendors = [\"SOFTCA\", \"GDCA\"]\nrequire = { signature = \"org\", login = \"personal\" }\n",
        file,
    )
    .unwrap()
    .finish()
    .unwrap();
    assert_eq!(
        c.entitlement.vendors,
        Some(vec!["SOFTCA".to_string(), "GDCA".to_string()])
    );
    let mut require = c.entitlement.require.unwrap();
    require.sort_by_key(|r| r.operation.as_str());
    assert_eq!(
        require,
        vec![
            Requirement {
                operation: Operation::Login,
                subject_type: SubjectType::Personal
            },
            Requirement {
                operation: Operation::Signature,
                subject_type: SubjectType::Org
            },
        ]
    );
    let env = Settings::from_env([
        ("CAMR_SERVER_ENTITLEMENT_VENDORS", "GDCA, BJCA"),
        ("CAMR_SERVER_ENTITLEMENT_REQUIRE", "decrypt=org"),
    ])
    .unwrap()
    .finish()
    .unwrap();
    assert_eq!(
        env.entitlement.vendors,
        Some(vec!["GDCA".to_string(), "BJCA".to_string()])
    );
    assert_eq!(
        env.entitlement.require,
        Some(vec![Requirement {
            operation: Operation::Decrypt,
            subject_type: SubjectType::Org
        }])
    );
    // Unset: nothing required here (the trust list decides).
    let none = Settings::default().finish().unwrap();
    assert_eq!(none.entitlement, Default::default());
    // Mistakes name the key and what is wrong.
    for (text, want) in [
        (
            "[entitlement]\nrequire = { signature = \"company\" }\n",
            "must be \"personal\" or \"org\"",
        ),
        (
            "[entitlement]\nrequire = { sign = \"org\" }\n",
            "`sign` is not an operation",
        ),
        ("[entitlement]\nvendors = \"SOFTCA\"\n", ""),
        ("[entitlement]\nvendors = [1]\n", "expected strings"),
        (
            "[entitlement]\nholders = []\n",
            "unknown key `entitlement.holders`",
        ),
    ] {
        match Settings::from_toml(text, file) {
            // A single string is a list of one vendor.
            Ok(s) if want.is_empty() => {
                assert_eq!(
                    s.finish().unwrap().entitlement.vendors,
                    Some(vec!["SOFTCA".to_string()])
                );
            }
            Ok(_) => panic!("{text} was accepted"),
            Err(e) => assert!(e.0.contains(want) && !want.is_empty(), "{text}: {e}"),
        }
    }
    let e = Settings::from_env([("CAMR_SERVER_ENTITLEMENT_REQUIRE", "signature")]).unwrap_err();
    assert!(
        e.0.contains("CAMR_SERVER_ENTITLEMENT_REQUIRE") && e.0.contains("KEY=VALUE"),
        "{e}"
    );
    // The example file, with its optional lines switched on.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("camr.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let on: String = text
        .lines()
        .map(|l| l.strip_prefix("#~ ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let c = Settings::from_toml(&on, &path).unwrap().finish().unwrap();
    assert_eq!(c.entitlement.vendors, Some(vec!["SOFTCA".to_string()]));
    assert_eq!(
        c.entitlement.require,
        Some(vec![Requirement {
            operation: Operation::Signature,
            subject_type: SubjectType::Org
        }])
    );
    let c = Settings::from_file(&path).unwrap().finish().unwrap();
    assert_eq!(c.entitlement, Default::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trust_list_says_what_the_platform_accepts_unless_the_configuration_does() {
    use camr::registry::{PlatformEntry, TrustList, VendorEntry};
    // A trust list (注册表) in which this platform accepts SOFTCA and GDCA and requires an
    // organisation certificate to log in; GDCA is another CA (its own root).
    let p = default_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut gdca = camr::softca::SoftCa::init(
        p.clone(),
        &dir.path().join("gdca"),
        camr::crypto::KeyAlgorithm::Sm2,
        "GDCA Test CA",
    )
    .unwrap();
    let gdca_holder =
        camr::softca::Holder::org("赵六", "广州某某工程有限公司", "91440101MA5CXXXX1X");
    gdca.issue(&gdca_holder, b"123456", &dir.path().join("gdca-wallet"), 30)
        .unwrap();
    let authority = p.generate_key(camr::crypto::KeyAlgorithm::Sm2).unwrap();
    let now = camr::qr::unix_now();
    let list = TrustList {
        version: 1,
        issued_at: now,
        expires_at: now + 86_400,
        platforms: vec![PlatformEntry {
            system_code: SystemCode::parse(SYSTEM_CODE).unwrap(),
            system_name: "移动数字证书(CA)互认模拟测试系统".into(),
            keys: Vec::new(),
            request_uri_prefixes: Vec::new(),
            response_uris: Vec::new(),
            accepted_vendors: vec!["SOFTCA".into(), "GDCA".into()],
            requirements: vec![Requirement {
                operation: Operation::Login,
                subject_type: SubjectType::Org,
            }],
        }],
        vendors: vec![VendorEntry {
            ca_org_type: "GDCA".into(),
            name: "GDCA (test)".into(),
            roots: vec![Bytes(gdca.root().der().to_vec())],
            adapter: None,
            org_certs_delegated: false,
        }],
    };
    let signed = camr::registry::sign(p.as_ref(), &list, &authority, "TEST").unwrap();
    let list_path = dir.path().join("registry.json");
    std::fs::write(&list_path, serde_json::to_string(&signed).unwrap()).unwrap();
    let key_path = dir.path().join("authority.pub.pem");
    std::fs::write(&key_path, authority.public_key().to_spki_pem().unwrap()).unwrap();
    let trust_list = camr_server::config::TrustListConfig {
        path: list_path,
        authority_key: key_path,
    };

    let h = start_with(|c| {
        c.trust_list = Some(trust_list.clone());
        // GDCA's test CA publishes no revocation information: the live check is off here
        // (tested in live_revocation.rs).
        c.revocation.sources = Vec::new();
    })
    .await;
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed_req, request) = h.fetch(&qr).await;
    let requires = request.requires.clone().unwrap();
    assert_eq!(requires.ca_org_types, vec!["SOFTCA", "GDCA"]);
    assert_eq!(requires.subject_type, Some(SubjectType::Org));
    // The personal certificate is refused; the app simulator offers the organisation one.
    let answer = h
        .app
        .approve(&h.personal, &signed_req, &request, &[])
        .unwrap();
    let (s, v) = h.answer(&answer).await;
    assert_refused(s, &v, 403, "CERT_NOT_ENTITLED");
    let (r, shown) = sim(h.scan_options(&qr, &["personal", "wallet"])).await;
    assert_eq!(r.unwrap().state, "verified", "{shown}");
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(v["data"]["subject"]["name"], "张三", "{v}");
    // GDCA's certificate: accepted as GDCA, refused when its app claims to be SOFTCA.
    let gdca_wallet = Wallet::open(&dir.path().join("gdca-wallet"), b"123456").unwrap();
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed_req, request) = h.fetch(&qr).await;
    let claim = h
        .app
        .approve(&gdca_wallet, &signed_req, &request, &[])
        .unwrap();
    let (s, v) = h.answer(&claim).await;
    assert_refused(s, &v, 403, "CERT_NOT_ENTITLED");
    assert!(v["msg"].as_str().unwrap().contains("`GDCA`'s root"), "{v}");
    let honest = App::new(h.provider.clone(), "GDCA")
        .approve(&gdca_wallet, &signed_req, &request, &[])
        .unwrap();
    let (s, v) = h.answer(&honest).await;
    assert_eq!(s, 200, "{v}");
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(v["data"]["caOrgType"], "GDCA", "{v}");

    // The configuration overrides the list: personal certificates for login, SOFTCA only.
    let h = start_with(|c| {
        c.trust_list = Some(trust_list);
        c.entitlement = camr_server::config::EntitlementConfig {
            delegated: None,
            platform_only: None,
            vendors: Some(vec!["SOFTCA".into()]),
            require: Some(vec![Requirement {
                operation: Operation::Login,
                subject_type: SubjectType::Personal,
            }]),
        };
    })
    .await;
    let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (_, request) = h.fetch(&qr).await;
    let requires = request.requires.unwrap();
    assert_eq!(
        (requires.ca_org_types, requires.subject_type),
        (vec!["SOFTCA".to_string()], Some(SubjectType::Personal))
    );
    let (r, shown) = sim(h.scan_options(&qr, &["personal", "wallet"])).await;
    assert_eq!(r.unwrap().state, "verified", "{shown}");
}

/// The softca adapter built as a real `.so` (as in tests/http.rs).
fn softca_so() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let file = "libcamr_adapter_softca.so";
    [deps.join(file), deps.parent().unwrap().join(file)]
        .into_iter()
        .find(|p| p.exists())
        .expect("the softca adapter .so is built before the tests")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_vendors_adapter_plugin_too() {
    // Evidence goes through the softca adapter (.so) before the core checks it: refusals,
    // delegations and entitlement are the core's, whatever the adapter does.
    let plugins = tempfile::tempdir().unwrap();
    std::fs::copy(
        softca_so(),
        plugins.path().join("libcamr_adapter_softca.so"),
    )
    .unwrap();
    let h = start_with(|c| {
        c.plugins = Some(plugins.path().to_path_buf());
        c.entitlement = require(&[(Operation::Signature, SubjectType::Org)]);
    })
    .await;
    let (tid, qr) = h
        .start_tx(json!({"operation": "signature", "items": items(5)}))
        .await;
    let (signed, request) = h.fetch(&qr).await;
    let personal = h.app.approve(&h.personal, &signed, &request, &[]).unwrap();
    let (s, v) = h.answer(&personal).await;
    assert_refused(s, &v, 403, "CERT_NOT_ENTITLED");
    let refusals = [
        ItemRejection {
            item_id: "doc1".into(),
            reason: "重复 duplicate".into(),
        },
        ItemRejection {
            item_id: "doc5".into(),
            reason: "过期 outdated".into(),
        },
    ];
    let mixed = h.app.approve(&h.org, &signed, &request, &refusals).unwrap();
    let (s, v) = h.answer(&mixed).await;
    assert_eq!(s, 200, "{v}");
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    let outcomes: Vec<&str> = v["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["rejected", "signed", "signed", "signed", "rejected"],
        "{v}"
    );

    let now = camr::qr::unix_now();
    let d = h.delegation(&[Operation::Login], now - 60, now + 600);
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed, request) = h.fetch(&qr).await;
    let mut answer = h
        .app
        .approve_as_staff(&h.org, &d, &signed, &request, now)
        .unwrap();
    // Another delegation swapped in on the way (through the adapter): outside the signature
    // no longer, so the binding fails.
    answer.delegation = Some(h.delegation(&[Operation::Encrypt], now - 60, now + 600));
    let (s, v) = h.answer(&answer).await;
    assert_refused(s, &v, 422, "SIGNATURE_INVALID");
    answer.delegation = Some(d);
    let (s, v) = h.answer(&answer).await;
    assert_eq!(s, 200, "{v}");
    let csv = h.usage_csv().await;
    let row = csv.lines().find(|l| l.contains(&tid)).unwrap();
    assert!(row.contains("王五 (110101199001011234)"), "{row}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_is_kept_in_the_store_and_seen_by_every_instance() {
    // Two server instances on one SQLite store (as after a restart, or behind a balancer):
    // the delegation withdrawn through the first is refused by the second.
    let shared = tempfile::tempdir().unwrap();
    let data = shared.path().join("data");
    let db = format!(
        "sqlite://{}?mode=rwc",
        shared.path().join("camr.db").display()
    );
    let on_sqlite = |c: &mut camr_server::ServerConfig| {
        c.data = data.clone();
        c.database_url = Some(db.clone());
    };
    let a = start_with(on_sqlite).await;
    let now = camr::qr::unix_now();
    let d = a.delegation(&[Operation::Login], now - 60, now + 600);
    let id = camr::app::delegation::id(a.provider.as_ref(), &d);
    let (s, v) = a
        .post(
            "/api/v1/admin/delegations/withdraw",
            &json!({"delegationId": id, "reason": "收回"}),
            Some(ADMIN_TOKEN),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let b = start_with(on_sqlite).await;
    assert_ne!(a.base, b.base);
    let (tid, qr) = b.start_tx(json!({"operation": "login"})).await;
    let (signed, request) = b.fetch(&qr).await;
    let answer = b
        .app
        .approve_as_staff(&b.org, &d, &signed, &request, now)
        .unwrap();
    let (s, v) = b.answer(&answer).await;
    assert_refused(s, &v, 403, "DELEGATION_OUT_OF_SCOPE");
    assert!(v["msg"].as_str().unwrap().contains("withdrawn"), "{v}");
    assert_eq!(b.state(&tid).await, "scanned");
    // The holder acting for themselves is not affected.
    let own = b.app.approve(&b.org, &signed, &request, &[]).unwrap();
    let (s, v) = b.answer(&own).await;
    assert_eq!(s, 200, "{v}");
}
