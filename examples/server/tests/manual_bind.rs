//! Scan-bind and shared registration (Epoint 4.5.3 扫码绑定, NETCA 3.1 共享注册), end to end over
//! HTTP with the app simulator library playing the phone: a login of an unknown certificate
//! leads to a registration prefilled with the certificate's identity and the data the holder
//! consented to share; staff approve it (or the platform does at once); later logins — also
//! with a reissued certificate of the same holder — map to the account, another holder's do
//! not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use camr::app::Wallet;
use camr::pki::IdentityDocument;
use camr::protocol::{OperationPayload, SharedRegistration};
use camr::softca::{Holder, HolderType, SoftCa};
use camr_server::accounts::Approval;
use common::*;
use serde_json::{Value, json};

const TOKEN: &str = "registration-admin-token-0123456789";

fn shared() -> SharedRegistration {
    SharedRegistration {
        mobile: Some("13800138000".into()),
        email: Some("zhangsan@example.cn".into()),
        address: Some("福州市鼓楼区某某路 1 号".into()),
        contact: None,
    }
}

impl Harness {
    /// A login (asking for shared data when `share`), answered by `wallet` sharing
    /// `consent`; the answer's status and envelope, and the tid.
    async fn login(
        &self,
        wallet: &Wallet,
        share: bool,
        consent: Option<&SharedRegistration>,
    ) -> (String, u16, Value) {
        let (tid, qr) = self
            .start_tx(json!({"operation": "login", "shareRegistration": share}))
            .await;
        let (signed, request) = self.scan(&qr).await;
        assert_eq!(
            request.payload,
            OperationPayload::Login {
                share_registration: share
            }
        );
        let response = self
            .app
            .approve_sharing(wallet, &signed, &request, consent)
            .unwrap();
        // Shared only when asked and consented.
        assert_eq!(response.registration.is_some(), share && consent.is_some());
        let (s, v) = self.answer(&response).await;
        (tid, s, v)
    }

    /// A verified login's result.
    async fn logged_in(&self, wallet: &Wallet) -> (u16, Value) {
        let (tid, s, v) = self.login(wallet, false, None).await;
        assert_eq!(
            (s, v["data"]["state"].as_str()),
            (200, Some("verified")),
            "{v}"
        );
        self.get(&format!("/api/v1/transactions/{tid}/result"))
            .await
    }

    async fn admin_post(&self, path: &str, body: &Value, token: Option<&str>) -> (u16, Value) {
        let mut r = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn admin_get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut r = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    fn ca(&self) -> SoftCa {
        SoftCa::open(self.provider.clone(), &self.data.join("ca")).unwrap()
    }

    /// A new wallet issued by the server's CA for `holder`.
    fn issue(&self, holder: &Holder, name: &str) -> Wallet {
        let dir = self.data.join(name);
        self.ca().issue(holder, b"123456", &dir, 30).unwrap();
        Wallet::open(&dir, b"123456").unwrap()
    }
}

fn serial(w: &Wallet) -> String {
    w.sign_cert.serial_hex()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_certificate_registers_staff_approve_and_a_reissued_certificate_keeps_the_account()
 {
    let h = start_configured(|c, _| {
        c.registration.approval = Approval::Staff;
        c.admin_token = Some(camr_server::config::Secret::new(TOKEN));
    })
    .await;

    // 1. Login of a certificate the platform does not know, sharing registration data.
    let (tid, s, v) = h.login(&h.wallet, true, Some(&shared())).await;
    assert_eq!(
        (s, v["data"]["state"].as_str()),
        (200, Some("verified")),
        "{v}"
    );
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(s, 200, "{v}");
    let r = &v["data"];
    assert_eq!(r["subject"]["name"], "张三");
    assert_eq!(r["binding"]["status"], "unbound", "{v}");
    assert_eq!(
        r["binding"]["registrationUri"],
        format!("/register?tid={tid}")
    );
    assert!(r["binding"]["accountId"].is_null());
    assert_eq!(r["registration"]["mobile"], "13800138000", "{v}");

    // 2. The registration page, prefilled: identity from the certificate, shared data.
    let (s, v) = h.get(&format!("/api/v1/registrations/{tid}")).await;
    assert_eq!(s, 200, "{v}");
    let f = &v["data"];
    assert_eq!(f["identity"]["name"], "张三");
    assert_eq!(f["identity"]["organization"], "某某建设有限公司");
    assert_eq!(f["identity"]["uscc"], "91350100M000100Y43");
    assert_eq!(f["identity"]["subjectType"], "org");
    assert_eq!(f["identity"]["certSn"], serial(&h.wallet));
    assert_eq!(f["identity"]["caOrgType"], "SOFTCA");
    assert_eq!(f["shared"]["email"], "zhangsan@example.cn");
    assert_eq!(f["shared"]["address"], "福州市鼓楼区某某路 1 号");
    assert!(f["shared"]["contact"].is_null());
    assert_eq!(f["approval"], "staff");
    let page = h
        .client
        .get(format!("{}/register?tid={tid}", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("主体注册") && html.contains("/api/v1/registrations/"));

    // 3. Submitted (the user completed the contact person): pending staff approval.
    let (s, v) = h
        .post(
            "/api/v1/registrations",
            &json!({"tid": tid, "mobile": "13800138000", "email": "zhangsan@example.cn",
                    "address": "福州市鼓楼区某某路 1 号", "contact": "李经理"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let account = v["data"].clone();
    let id = account["id"].as_str().unwrap().to_string();
    assert_eq!(account["status"], "pending");
    assert_eq!(account["name"], "张三");
    assert_eq!(account["registration"]["contact"], "李经理");
    // Registering again, or logging in, while pending: ACCOUNT_PENDING.
    let (s, v) = h.post("/api/v1/registrations", &json!({"tid": tid})).await;
    assert_error(s, &v, 403, "ACCOUNT_PENDING");
    let (s, v) = h.logged_in(&h.wallet).await;
    assert_error(s, &v, 403, "ACCOUNT_PENDING");
    assert!(v["msg"].as_str().unwrap().contains("待平台后台审核"), "{v}");
    assert!(v["msg"].as_str().unwrap().contains(&id), "{v}");

    // 4. Staff: the list and the decision need the admin token.
    let (s, v) = h
        .admin_get("/api/v1/admin/accounts?status=pending", None)
        .await;
    assert_error(s, &v, 401, "UNAUTHORIZED");
    let (s, v) = h
        .admin_get("/api/v1/admin/accounts?status=pending", Some(TOKEN))
        .await;
    assert_eq!(s, 200, "{v}");
    let pending = v["data"].as_array().unwrap();
    assert_eq!(pending.len(), 1, "{v}");
    assert_eq!(pending[0]["id"], id.as_str());
    let (s, v) = h
        .admin_get("/api/v1/admin/accounts?status=maybe", Some(TOKEN))
        .await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let decide = "/api/v1/admin/accounts/decide";
    let (s, v) = h
        .admin_post(decide, &json!({"accountId": id, "approve": true}), None)
        .await;
    assert_error(s, &v, 401, "UNAUTHORIZED");
    let (s, v) = h
        .admin_post(
            decide,
            &json!({"accountId": id, "approve": true}),
            Some("wrong-token-0123456789"),
        )
        .await;
    assert_error(s, &v, 401, "UNAUTHORIZED");
    let (s, v) = h
        .admin_post(
            decide,
            &json!({"accountId": id, "approve": false}),
            Some(TOKEN),
        )
        .await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let (s, v) = h
        .admin_post(
            decide,
            &json!({"accountId": "A0", "approve": true}),
            Some(TOKEN),
        )
        .await;
    assert_error(s, &v, 404, "ACCOUNT_NOT_FOUND");
    // Still pending after all those refusals.
    let (s, v) = h.logged_in(&h.wallet).await;
    assert_error(s, &v, 403, "ACCOUNT_PENDING");
    let (s, v) = h
        .admin_post(
            decide,
            &json!({"accountId": id, "approve": true}),
            Some(TOKEN),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["status"], "active");
    let (s, v) = h
        .admin_post(
            decide,
            &json!({"accountId": id, "approve": false, "reason": "晚了"}),
            Some(TOKEN),
        )
        .await;
    assert_error(s, &v, 409, "ACCOUNT_EXISTS");

    // 5. Granted: the login maps to the account.
    let (s, v) = h.logged_in(&h.wallet).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["binding"]["status"], "bound", "{v}");
    assert_eq!(v["data"]["binding"]["accountId"], id.as_str());
    assert!(v["data"]["binding"]["registrationUri"].is_null());
    // A bound holder cannot register again.
    let (tid2, _, _) = h.login(&h.wallet, false, None).await;
    let (s, v) = h.post("/api/v1/registrations", &json!({"tid": tid2})).await;
    assert_error(s, &v, 409, "ACCOUNT_EXISTS");

    // 6. A reissued certificate of the same holder (new serial): the same account.
    let reissued = h.issue(&camr_server::demo::demo_holder(), "wallet-reissued");
    assert_ne!(serial(&reissued), serial(&h.wallet));
    let (s, v) = h.logged_in(&reissued).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["subject"]["certSn"], serial(&reissued));
    assert_eq!(v["data"]["binding"]["status"], "bound", "{v}");
    assert_eq!(v["data"]["binding"]["accountId"], id.as_str());

    // 7. Another holder of the same organisation does not get the account.
    let other = Holder {
        name: "李四".into(),
        ..camr_server::demo::demo_holder()
    };
    let other = h.issue(&other, "wallet-other");
    let (s, v) = h.logged_in(&other).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["subject"]["name"], "李四");
    assert_eq!(v["data"]["binding"]["status"], "unbound", "{v}");
    assert!(v["data"]["binding"]["accountId"].is_null());

    // Refused registrations may be made again.
    let (tid3, _, _) = h.login(&other, false, None).await;
    let (s, v) = h.post("/api/v1/registrations", &json!({"tid": tid3})).await;
    assert_eq!(
        (s, v["data"]["status"].as_str()),
        (200, Some("pending")),
        "{v}"
    );
    let other_id = v["data"]["id"].as_str().unwrap().to_string();
    assert!(v["data"]["registration"].is_null());
    let (s, v) = h
        .admin_post(
            decide,
            &json!({"accountId": other_id, "approve": false, "reason": "非本单位人员"}),
            Some(TOKEN),
        )
        .await;
    assert_eq!(
        (s, v["data"]["status"].as_str()),
        (200, Some("refused")),
        "{v}"
    );
    let (s, v) = h.logged_in(&other).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["binding"]["status"], "unbound");
    assert!(
        v["data"]["binding"]["note"]
            .as_str()
            .unwrap()
            .contains("非本单位人员"),
        "{v}"
    );
    assert_eq!(
        v["data"]["binding"]["registrationUri"],
        format!("/register?tid={}", v["data"]["tid"].as_str().unwrap())
    );
    let (s, v) = h.admin_get("/api/v1/admin/accounts", Some(TOKEN)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 2, "{v}");
    // The admin page lists them with approve/refuse buttons.
    let page = h
        .client
        .get(format!("{}/admin/accounts", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/api/v1/admin/accounts/decide") && html.contains("通过"));
}

/// The registration form's contact data must be contact data: a mobile `abc` and an e-mail
/// `not-an-email` are refused with a sentence naming the field, and nothing is registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_with_a_mobile_that_is_no_number_or_an_e_mail_that_is_no_address_is_refused()
{
    let h = start().await;
    let (tid, s, v) = h.login(&h.wallet, false, None).await;
    assert_eq!(s, 200, "{v}");
    for (body, words) in [
        (json!({"tid": tid, "mobile": "abc"}), "手机号格式不正确"),
        (
            json!({"tid": tid, "mobile": "13800138000", "email": "not-an-email"}),
            "电子邮箱格式不正确",
        ),
    ] {
        let (s, v) = h.post("/api/v1/registrations", &body).await;
        assert_error(s, &v, 400, "INPUT_MALFORMED");
        let msg = v["msg"].as_str().unwrap();
        assert!(
            msg.starts_with(words),
            "Chinese first, the field named: {v}"
        );
        assert!(!msg.contains('`'), "{v}");
    }
    // Nothing was registered: the same login registers with good data.
    let (s, v) = h
        .post(
            "/api/v1/registrations",
            &json!({"tid": tid, "mobile": "+86 138 0013 8000", "email": "zhangsan@example.cn"}),
        )
        .await;
    assert_eq!(
        (s, v["data"]["status"].as_str()),
        (200, Some("active")),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_data_travels_only_when_asked_and_consented_and_is_signed() {
    // The default: approved at once.
    let h = start().await;

    // Not asked: the app shares nothing, even with consent.
    let (tid, s, v) = h.login(&h.wallet, false, Some(&shared())).await;
    assert_eq!(s, 200, "{v}");
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert!(v["data"]["registration"].is_null(), "{v}");
    let (_, v) = h.get(&format!("/api/v1/registrations/{tid}")).await;
    assert!(v["data"]["shared"].is_null(), "{v}");
    assert_eq!(v["data"]["approval"], "auto");
    // Asked, declined: nothing.
    let (tid, _, _) = h.login(&h.wallet, true, None).await;
    let (_, v) = h.get(&format!("/api/v1/registrations/{tid}")).await;
    assert!(v["data"]["shared"].is_null(), "{v}");

    // Asked and consented, but changed on the way: the signature does not cover it.
    let (_, qr) = h
        .start_tx(json!({"operation": "login", "shareRegistration": true}))
        .await;
    let (signed, request) = h.scan(&qr).await;
    let honest = h
        .app
        .approve_sharing(&h.wallet, &signed, &request, Some(&shared()))
        .unwrap();
    let mut forged = honest.clone();
    forged.registration.as_mut().unwrap().mobile = Some("13999999999".into());
    let (s, v) = h.answer(&forged).await;
    assert_error(s, &v, 422, "SIGNATURE_INVALID");
    // Registration data without its signature.
    let mut unsigned = honest.clone();
    unsigned
        .evidence
        .as_mut()
        .unwrap()
        .signatures
        .retain(|s| s.item_id != "registration");
    let (s, v) = h.answer(&unsigned).await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let (s, v) = h.answer(&honest).await;
    assert_eq!(
        (s, v["data"]["state"].as_str()),
        (200, Some("verified")),
        "{v}"
    );

    // Shared data on a login that did not ask for it is refused.
    let (_, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (signed, request) = h.scan(&qr).await;
    let mut pushy = h.app.approve(&h.wallet, &signed, &request, &[]).unwrap();
    pushy.registration = Some(shared());
    let (s, v) = h.answer(&pushy).await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    assert!(v["msg"].as_str().unwrap().contains("did not ask"), "{v}");

    // Approved at once: the next login is bound.
    let (tid, _, _) = h.login(&h.wallet, true, Some(&shared())).await;
    let (s, v) = h
        .post(
            "/api/v1/registrations",
            &json!({"tid": tid, "mobile": "13800138000"}),
        )
        .await;
    assert_eq!(
        (s, v["data"]["status"].as_str()),
        (200, Some("active")),
        "{v}"
    );
    let id = v["data"]["id"].as_str().unwrap().to_string();
    let (s, v) = h.logged_in(&h.wallet).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["binding"]["accountId"], id.as_str(), "{v}");

    // Bad input: a bad tid, an unknown field, a field too long.
    let (s, v) = h
        .post("/api/v1/registrations", &json!({"tid": "nope"}))
        .await;
    assert_error(s, &v, 400, "TID_INVALID");
    let (s, v) = h
        .post("/api/v1/registrations", &json!({"tid": tid, "phone": "1"}))
        .await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");

    // A personal certificate stating no identity number cannot be bound.
    let anonymous = Holder::personal("无证件");
    let w = h.issue(&anonymous, "wallet-anonymous");
    let (s, v) = h.logged_in(&w).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["binding"]["status"], "unbound");
    assert!(v["data"]["binding"]["registrationUri"].is_null(), "{v}");
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    let (s, v) = h.post("/api/v1/registrations", &json!({"tid": tid})).await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let long = "地".repeat(201);
    // A personal certificate with an identity card binds by the document and name.
    let person = Holder {
        holder_type: HolderType::Personal,
        name: "王五".into(),
        organization: None,
        uscc: None,
        identity_number: Some(IdentityDocument::resident_id("110101199003074514").unwrap()),
    };
    let w = h.issue(&person, "wallet-person");
    let (tid, _, _) = h.login(&w, false, None).await;
    let (s, v) = h
        .post(
            "/api/v1/registrations",
            &json!({"tid": tid, "address": long}),
        )
        .await;
    assert_error(s, &v, 400, "INPUT_MALFORMED");
    let (s, v) = h
        .post(
            "/api/v1/registrations",
            &json!({"tid": tid, "contact": "王五"}),
        )
        .await;
    assert_eq!(
        (s, v["data"]["status"].as_str()),
        (200, Some("active")),
        "{v}"
    );
    let renewed = h.issue(&person, "wallet-person-renewed");
    let (s, v) = h.logged_in(&renewed).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["binding"]["status"], "bound", "{v}");
}

#[test]
fn registration_is_configured_by_file_and_environment() {
    use camr_server::config::{Flags, resolve};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("camr.toml");
    std::fs::write(
        &file,
        "[registration]\napproval = \"staff\"\nshare = true\n",
    )
    .unwrap();
    let c = resolve(Some(&file), &[], &Flags::default()).unwrap();
    assert_eq!(c.registration.approval, Approval::Staff);
    assert!(c.registration.share);
    let env = [(
        "CAMR_SERVER_REGISTRATION_APPROVAL".to_string(),
        "auto".to_string(),
    )];
    let c = resolve(Some(&file), &env, &Flags::default()).unwrap();
    assert_eq!(c.registration.approval, Approval::Auto);
    let c = resolve(None, &[], &Flags::default()).unwrap();
    assert_eq!(c.registration.approval, Approval::Auto);
    assert!(!c.registration.share);
    let env = [(
        "CAMR_SERVER_REGISTRATION_APPROVAL".to_string(),
        "sometimes".to_string(),
    )];
    let err = resolve(None, &env, &Flags::default()).unwrap_err();
    assert!(err.to_string().contains("registration.approval"), "{err}");
    std::fs::write(&file, "[registration]\nshare = \"yes\"\n").unwrap();
    let err = resolve(Some(&file), &[], &Flags::default()).unwrap_err();
    assert!(err.to_string().contains("registration.share"), "{err}");
}

#[derive(Default)]
struct Lines(Vec<String>, Option<String>);

impl camr_app_sim::Ui for Lines {
    fn say(&mut self, line: &str) {
        self.0.push(line.to_string());
    }
    fn ask(&mut self, prompt: &str) -> Option<String> {
        self.0.push(prompt.to_string());
        // The PIN, the approval, then the consent answer.
        if prompt.contains("PIN") {
            return Some("123456".into());
        }
        if prompt.contains("Approve?") {
            return Some("y".into());
        }
        self.1.clone()
    }
}

/// The `camr-app` simulator shows the registration data it holds and shares it only when the
/// login asks and the user agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_simulator_shows_the_data_and_shares_it_only_with_consent() {
    let h = start().await;
    std::fs::write(
        h.data.join("wallet").join(camr_app_sim::REGISTRATION_FILE),
        serde_json::to_vec(&shared()).unwrap(),
    )
    .unwrap();
    let sim = |qr: String, yes: bool, answer: Option<&str>| {
        let options = camr_app_sim::ScanOptions {
            qr: camr_app_sim::QrSource::Payload(qr),
            wallet: h.data.join("wallet"),
            wallets: Vec::new(),
            pin: Some("123456".into()),
            reject: None,
            yes,
            platform_key: camr_app_sim::PlatformKeySource::Registry {
                list: h.data.join("registry.json"),
                authority: h.data.join("registry-authority.pub.pem"),
            },
            cert: None,
            delegation: None,
            refuse_items: Vec::new(),
        };
        let answer = answer.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            let mut ui = Lines(Vec::new(), answer);
            let r = camr_app_sim::scan(&options, &mut ui);
            (r.map(|o| o.state), ui.0.join("\n"))
        })
    };
    // Asked, the user says no (interactive: approve yes, share no).
    let (tid, qr) = h
        .start_tx(json!({"operation": "login", "shareRegistration": true}))
        .await;
    let (state, out) = sim(qr, false, Some("n")).await.unwrap();
    assert_eq!(state.unwrap(), "verified", "{out}");
    assert!(out.contains("手机号 Mobile: 13800138000"), "{out}");
    assert!(out.contains("不共享 Not sharing it."), "{out}");
    let (_, v) = h.get(&format!("/api/v1/registrations/{tid}")).await;
    assert!(v["data"]["shared"].is_null(), "{v}");
    // Asked, agreed (--yes): shared, signed, on the registration page.
    let (tid, qr) = h
        .start_tx(json!({"operation": "login", "shareRegistration": true}))
        .await;
    let (state, out) = sim(qr, true, None).await.unwrap();
    assert_eq!(state.unwrap(), "verified", "{out}");
    assert!(out.contains("共享 Sharing it with the answer"), "{out}");
    let (_, v) = h.get(&format!("/api/v1/registrations/{tid}")).await;
    assert_eq!(v["data"]["shared"]["mobile"], "13800138000", "{v}");
    // Not asked: nothing shown, nothing shared.
    let (tid, qr) = h.start_tx(json!({"operation": "login"})).await;
    let (state, out) = sim(qr, true, None).await.unwrap();
    assert_eq!(state.unwrap(), "verified", "{out}");
    assert!(!out.contains("共享"), "{out}");
    let (_, v) = h.get(&format!("/api/v1/registrations/{tid}")).await;
    assert!(v["data"]["shared"].is_null(), "{v}");
}
