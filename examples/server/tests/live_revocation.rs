//! Issue 19, through the server: the demo CA's certificates name its cloud's OCSP responder
//! and CRL; a freeze, an unfreeze and a revocation at the CA count on two server instances
//! within the refresh interval, with no reload; with the responder down, `require` refuses
//! with `CERT_REVOCATION_UNKNOWN` and a soft-fail login goes through, recorded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use camr::crypto::{KeyAlgorithm, default_provider};
use camr::softca::{CaUrls, RevocationReason, SoftCa};
use camr_server::revocation::live::SourceName;
use common::{Harness, start_configured};
use serde_json::{Value, json};

/// The refresh interval the instances run with.
const REFRESH: Duration = Duration::from_secs(1);

/// A login started on the instance at `base`, approved by the demo wallet, answered there.
async fn login_on(h: &Harness, base: &str) -> (u16, Value) {
    answer_on(h, base, json!({"operation": "login"})).await
}

/// A transaction `start` started on the instance at `base`, approved by the demo wallet,
/// answered there.
async fn answer_on(h: &Harness, base: &str, start: Value) -> (u16, Value) {
    let started: Value = h
        .client
        .post(format!("{base}/api/v1/transactions"))
        .json(&start)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let qr = started["data"]["qrText"].as_str().unwrap();
    let (signed, request) = h.scan(qr).await;
    let answer = h.app.approve(&h.wallet, &signed, &request, &[]).unwrap();
    let r = h
        .client
        .post(format!("{base}/camr/v1/response"))
        .json(&answer)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The error code of a refused answer, or `verified`.
fn outcome(v: &(u16, Value)) -> String {
    match v.1["errorCode"].as_str().filter(|c| !c.is_empty()) {
        Some(code) => code.to_string(),
        None => v.1["data"]["state"].as_str().unwrap_or("?").to_string(),
    }
}

/// The demo CA, made before the server starts so that the wallet the server issues names
/// the cloud at `cloud` for its CRL and OCSP.
fn demo_ca_pointing_at(dir: &std::path::Path, cloud: &str) {
    let mut ca = SoftCa::init(
        default_provider(),
        &dir.join("data").join("ca"),
        KeyAlgorithm::Sm2,
        "camr Demo CA",
    )
    .unwrap();
    ca.set_urls(CaUrls {
        crl_url: Some(format!("{cloud}/crl")),
        ocsp_url: Some(format!("{cloud}/ocsp")),
        ca_issuers_url: Some(format!("{cloud}/ca.cer")),
    })
    .unwrap();
}

fn live(c: &mut camr_server::ServerConfig, sources: Vec<SourceName>) {
    c.revocation.sources = sources;
    c.revocation.refresh_secs = 1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freezing_and_revoking_at_the_ca_count_on_both_instances_without_a_reload() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cloud = format!("http://{}", listener.local_addr().unwrap());
    let h = start_configured(|c, dir| {
        demo_ca_pointing_at(dir, &cloud);
        live(c, vec![SourceName::Ocsp, SourceName::CrlDp]);
    })
    .await;
    let ca_dir = h.data.join("ca");
    let app = softca_cloud::app(&ca_dir, None).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let other = h
        .another_instance(|c| live(c, vec![SourceName::CrlDp, SourceName::Ocsp]))
        .await;
    let instances = [h.base.clone(), other];

    // Good: each instance asked the CA, and says what it used.
    for base in &instances {
        let v = login_on(&h, base).await;
        assert_eq!(outcome(&v), "verified", "{v:?}");
    }
    let tid = {
        let (_, v) = h
            .post("/api/v1/transactions", &json!({"operation": "login"}))
            .await;
        let tid = v["data"]["tid"].as_str().unwrap().to_string();
        let (s, a) = h.approve(v["data"]["qrText"].as_str().unwrap()).await;
        assert_eq!(s, 200, "{a}");
        tid
    };
    let (s, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    assert_eq!(s, 200, "{v}");
    let evidence = &v["data"]["revocation"]["evidence"][0];
    assert_eq!(evidence["source"], "ocsp", "{v}");
    assert_eq!(evidence["status"]["status"], "good", "{v}");
    // The issuing CA's certificate names no responder or distribution point: the live
    // sources configured here (OCSP, CRL DP) list it as unchecked
    // (revocation.ca_certificates = best_effort); the chain validator's configured CRLs (the
    // demo root's among them) did check it, so the chain as a whole was checked.
    assert_eq!(
        v["data"]["revocation"]["unchecked"],
        json!(["camr Demo CA Issuing CA"]),
        "{v}"
    );
    assert_eq!(v["data"]["revocationChecked"], true, "{v}");

    let serial = h.wallet.sign_cert.serial_hex();
    let ca = || SoftCa::open(default_provider(), &ca_dir).unwrap();
    let now = camr::qr::unix_now();

    // Frozen (冻结) at the CA: refused on both, within the refresh interval.
    ca().revoke(&serial, RevocationReason::CertificateHold, now - 1)
        .unwrap();
    tokio::time::sleep(REFRESH + Duration::from_millis(200)).await;
    for base in &instances {
        let v = login_on(&h, base).await;
        assert_eq!(outcome(&v), "CERT_FROZEN", "{base}: {v:?}");
    }
    // Unfrozen (解冻): accepted again.
    ca().release_hold(&serial).unwrap();
    tokio::time::sleep(REFRESH + Duration::from_millis(200)).await;
    for base in &instances {
        let v = login_on(&h, base).await;
        assert_eq!(outcome(&v), "verified", "{base}: {v:?}");
    }
    // Revoked: refused on both.
    ca().revoke(&serial, RevocationReason::KeyCompromise, now)
        .unwrap();
    tokio::time::sleep(REFRESH + Duration::from_millis(200)).await;
    for base in &instances {
        let v = login_on(&h, base).await;
        assert_eq!(outcome(&v), "CERT_REVOKED", "{base}: {v:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_responder_down_require_refuses_and_a_soft_fail_login_is_recorded() {
    // Nothing listens here: the responder is down.
    let cloud = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let h = start_configured(|c, dir| {
        demo_ca_pointing_at(dir, &cloud);
        live(c, vec![SourceName::Ocsp, SourceName::CrlDp]);
        // One database for both instances: the soft-fail one's records are read below.
        c.database_url = Some(format!("sqlite://{}", dir.join("camr.db").display()));
    })
    .await;
    let v = login_on(&h, &h.base).await;
    assert_eq!(outcome(&v), "CERT_REVOCATION_UNKNOWN", "{v:?}");
    let message = v.1["msg"].as_str().unwrap_or_default();
    assert!(message.contains("unavailable"), "{message}");

    let database_url = h.config.database_url.clone();
    let soft = h
        .another_instance(|c| {
            c.database_url = database_url;
            live(c, vec![SourceName::Ocsp, SourceName::CrlDp]);
            c.revocation.login = camr::ceremony::LoginRevocation::SoftFail;
        })
        .await;
    let v = login_on(&h, &soft).await;
    assert_eq!(outcome(&v), "verified", "{v:?}");
    // Recorded: in the usage record and the audit log.
    let usage = h.state.store.usage().await.unwrap();
    let last = usage.last().unwrap();
    assert!(last.revocation_unknown, "{last:?}");
    let audit = h.state.store.audit().await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.event == "verified" && a.detail.starts_with("revocationUnknown:")),
        "{audit:?}"
    );
    // A message signature is not soft-fail: refused on the same instance.
    let start = json!({"operation": "messageSignature", "message": "报价"});
    let (_, v) = answer_on(&h, &soft, start).await;
    assert_eq!(v["errorCode"], "CERT_REVOCATION_UNKNOWN", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendors_status_service_through_its_adapter_decides_first() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cloud_url = format!("http://{}", listener.local_addr().unwrap());
    // The wallet names no responder: only the vendor (SOFTCA's adapter, asking its cloud's
    // CRL) can tell.
    let h = start_configured(move |c, dir| {
        let folder = dir.join("plugins");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::copy(
            common::softca_so(),
            folder.join("libcamr_adapter_softca.so"),
        )
        .unwrap();
        c.plugins = Some(folder);
        c.plugins_config
            .insert("SOFTCA".into(), json!({ "cloudUrl": cloud_url }));
        live(c, vec![SourceName::Vendor, SourceName::Ocsp]);
    })
    .await;
    let app = softca_cloud::app(&h.data.join("ca"), None).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (_, v) = h
        .post("/api/v1/transactions", &json!({"operation": "login"}))
        .await;
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    let (s, a) = h.approve(v["data"]["qrText"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{a}");
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    let evidence = &v["data"]["revocation"]["evidence"][0];
    assert_eq!(evidence["source"], "vendorStatus", "{v}");
    assert_eq!(evidence["signer"], "SOFTCA", "{v}");

    let serial = h.wallet.sign_cert.serial_hex();
    SoftCa::open(default_provider(), &h.data.join("ca"))
        .unwrap()
        .revoke(
            &serial,
            RevocationReason::KeyCompromise,
            camr::qr::unix_now(),
        )
        .unwrap();
    let v = login_on(&h, &h.base).await;
    assert_eq!(outcome(&v), "CERT_REVOKED", "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_every_link_has_a_status_from_the_demo_cas_crls() {
    let h = common::start().await;
    let (_, v) = h
        .post("/api/v1/transactions", &json!({"operation": "login"}))
        .await;
    let tid = v["data"]["tid"].as_str().unwrap().to_string();
    let (s, a) = h.approve(v["data"]["qrText"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{a}");
    let (_, v) = h.get(&format!("/api/v1/transactions/{tid}/result")).await;
    let record = &v["data"]["revocation"];
    // The wallet's certificate by the issuing CA's CRL, the issuing CA's by the root's.
    assert_eq!(record["evidence"][0]["source"], "crlFile", "{v}");
    assert_eq!(
        record["evidence"][0]["signer"], "camr Demo CA Issuing CA",
        "{v}"
    );
    assert_eq!(record["evidence"][1]["source"], "crlFile", "{v}");
    assert_eq!(
        record["evidence"][1]["signer"], "camr Demo CA Root CA",
        "{v}"
    );
    assert!(record.get("unchecked").is_none(), "{v}");
    assert_eq!(v["data"]["revocationChecked"], true, "{v}");
}
