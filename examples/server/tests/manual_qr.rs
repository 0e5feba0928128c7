//! QR profiles (二维码类型, Epoint: "业务系统支持两种二维码类型"): the login page shows the
//! national interop code (全国互认码, `camr1`) and, with platform-only vendors configured, the
//! vendor app code (厂商码, `vendor1`) of the same transaction. A platform-only certificate
//! (本平台证书) is accepted only through the vendor code; a national one (全国版) through both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use camr::ceremony::verify_signed_request;
use camr::protocol::{RequestObject, SignedRequest};
use camr::qr::{Camr1, QrProfile, Vendor1, VerifyOptions, find_profile, unix_now};
use serde_json::Value;
use std::sync::Arc;

/// The login page's national and vendor payloads (the vendor one empty when not shown).
async fn login_page(h: &Harness) -> (String, Option<String>, String) {
    let html = h
        .client
        .get(format!("{}/", h.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let code = |id: &str| {
        let start = format!(r#"<code id="{id}">"#);
        html.split_once(&start).map(|(_, rest)| {
            rest.split_once("</code>")
                .unwrap()
                .0
                .replace("&amp;", "&")
                .replace("&quot;", "\"")
        })
    };
    (code("payload").unwrap(), code("vendor-payload"), html)
}

/// The app side of a scan through `profile`: check the code, fetch the request where the
/// profile says.
async fn scan_via(
    h: &Harness,
    profile: &dyn QrProfile,
    text: &str,
) -> (SignedRequest, RequestObject) {
    let payload = profile
        .parse_and_verify(
            h.provider.as_ref(),
            text,
            &h.key,
            VerifyOptions::at(unix_now()),
        )
        .unwrap();
    let r = h
        .client
        .get(profile.request_fetch_uri(&payload))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    let signed: SignedRequest = serde_json::from_value(v["data"].clone()).unwrap();
    let request = verify_signed_request(h.provider.as_ref(), &signed, &h.key).unwrap();
    assert_eq!(request.tid, payload.tid);
    (signed, request)
}

/// Scan, approve with the demo wallet (vendor SOFTCA), post the answer where the profile says.
async fn approve_via(h: &Harness, profile: &dyn QrProfile, text: &str) -> (u16, Value) {
    let (signed, request) = scan_via(h, profile, text).await;
    // The app signs the profile of the code it scanned into the answer.
    let response = h
        .app
        .clone()
        .with_qr_profile(profile)
        .approve(&h.wallet, &signed, &request, &[])
        .unwrap();
    let r = h
        .client
        .post(profile.response_post_uri(&request.response_uri))
        .json(&response)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_platform_only_certificate_is_accepted_only_through_the_vendor_code() {
    let h = start_configured(|c, _| {
        c.entitlement.platform_only = Some(vec!["SOFTCA".into()]);
    })
    .await;
    let (national, vendor, html) = login_page(&h).await;
    let vendor = vendor.expect("the page shows the vendor code beside the national one");
    assert!(html.contains("id=\"vendor-qr\""), "{html}");
    assert!(html.contains("本平台证书"), "{html}");
    // Both codes are of the same transaction, each in its own profile.
    let profiles: Vec<Arc<dyn QrProfile>> = vec![Arc::new(Camr1), Arc::new(Vendor1)];
    assert_eq!(find_profile(&profiles, &national).unwrap().id(), "camr1");
    assert_eq!(find_profile(&profiles, &vendor).unwrap().id(), "vendor1");
    let (a, b) = (
        Camr1.parse(&national).unwrap(),
        Vendor1.parse(&vendor).unwrap(),
    );
    assert_eq!(a.tid, b.tid);

    // The national code: refused, with a sentence that says which code to scan.
    let (status, v) = approve_via(&h, &Camr1, &national).await;
    assert_error(status, &v, 403, "CERT_NOT_ENTITLED");
    let msg = v["msg"].as_str().unwrap();
    assert!(
        msg.contains("本平台证书") && msg.contains("厂商码"),
        "{msg}"
    );
    // Naming the national profile explicitly changes nothing; an unknown profile is refused.
    let (signed, request) = scan_via(&h, &Camr1, &national).await;
    let response = h.app.approve(&h.wallet, &signed, &request, &[]).unwrap();
    let (status, v) = h
        .post(
            "/camr/v1/response?qr=camr1",
            &serde_json::to_value(&response).unwrap(),
        )
        .await;
    assert_error(status, &v, 403, "CERT_NOT_ENTITLED");
    let (status, v) = h
        .post(
            "/camr/v1/response?qr=epoint9",
            &serde_json::to_value(&response).unwrap(),
        )
        .await;
    assert_error(status, &v, 400, "QR_MALFORMED");
    // The national answer posted with the vendor code's tag: the profile the app signed
    // decides, so the tag does not get a platform-only certificate past the national code.
    let (status, v) = h
        .post(
            "/camr/v1/response?qr=vendor1",
            &serde_json::to_value(&response).unwrap(),
        )
        .await;
    assert_error(status, &v, 422, "QR_PROFILE_MISMATCH");

    // The vendor code: accepted, and the login is verified.
    let (status, v) = approve_via(&h, &Vendor1, &vendor).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["state"], "verified", "{v}");
    let (_, t) = h.get(&format!("/api/v1/transactions/{}", a.tid)).await;
    assert_eq!(t["data"]["state"], "verified", "{t}");
}

#[tokio::test]
async fn a_national_certificate_is_accepted_through_both_codes() {
    // Another vendor is platform-only: SOFTCA's certificates are national (全国版).
    let h = start_configured(|c, _| {
        c.entitlement.platform_only = Some(vec!["OTHERCA".into()]);
    })
    .await;
    let (national, _, _) = login_page(&h).await;
    let (status, v) = approve_via(&h, &Camr1, &national).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["state"], "verified", "{v}");

    let (_, vendor, _) = login_page(&h).await;
    let (status, v) = approve_via(&h, &Vendor1, &vendor.unwrap()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["state"], "verified", "{v}");
}

#[tokio::test]
async fn without_platform_only_vendors_the_page_shows_the_national_code_alone() {
    let h = start().await;
    let (national, vendor, _) = login_page(&h).await;
    assert!(vendor.is_none());
    // The harness's own scan (camr1) still works as before.
    let (status, v) = h.approve(&national).await;
    assert_eq!(status, 200, "{v}");
}
