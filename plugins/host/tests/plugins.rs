//! The plugin host against real `.so` fixture adapters: loading, pinning, routing, isolation
//! (panic, hang, saturation), the circuit breaker, and camr's own check of a lying adapter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use camr::crypto::{KeyAlgorithm, default_provider};
use camr::protocol::{Bytes, ErrorCode, Operation, PublicKeyAlgorithm, SealInfo, SealKind};
use camr::seal::appearance::seal_png;
use camr::softca::{Holder, SoftCa};
use camr_plugin_host::{
    AdapterError, AdapterImpl, AdapterInfo, BreakerState, CertStatus, HostConfig, PluginError,
    PluginHost, load_adapter_file, sha256_hex, verify_evidence_signature,
};
use common::{copy, fixture, folder, place};

const GOOD: &str = "FIXTURE_GOOD";
use camr_fixture_good::{RAW_BAD_OUTPUT, RAW_FAIL};
/// `camr_fixture_lying::SIGNED_INSTEAD`, copied: a test binary may link at most one fixture
/// crate, since each exports the same root-module symbol.
const LYING_SIGNED_INSTEAD: &[u8] = b"camr-fixture-lying: not the bytes the platform asked for";

fn host_with(dir: &std::path::Path, config: HostConfig) -> PluginHost {
    PluginHost::new(HostConfig {
        dir: Some(dir.to_path_buf()),
        ..config
    })
}

/// The good fixture's vendor answer.
fn vendor_answer(certs: &[&[u8]], sig: &[u8]) -> Vec<u8> {
    let certs: Vec<Bytes> = certs.iter().map(|c| Bytes(c.to_vec())).collect();
    serde_json::to_vec(&serde_json::json!({
        "alg": "SM2",
        "certs": certs,
        "sigs": [{ "id": "request", "value": Bytes(sig.to_vec()) }],
    }))
    .unwrap()
}

fn health_of(host: &PluginHost, code: &str) -> camr_plugin_host::AdapterHealth {
    host.health()
        .into_iter()
        .find(|h| h.ca_org_type == code)
        .unwrap_or_else(|| panic!("no health for {code}"))
}

/// A statically linked adapter used to show that other vendors are not affected.
struct Other {
    panic_in_decode: bool,
}

impl AdapterImpl for Other {
    fn info(&self) -> AdapterInfo {
        AdapterInfo {
            ca_org_type: if self.panic_in_decode {
                "STATIC_PANICS".into()
            } else {
                "STATIC_OTHER".into()
            },
            vendor_name: "Static test CA".into(),
            adapter_version: "0.1.0".into(),
            operations: vec!["login".into()],
            algorithms: vec!["SM2".into()],
        }
    }
    fn configure(&self, _config_json: &str) -> Result<(), AdapterError> {
        Ok(())
    }
    fn decode_evidence(&self, _operation: &str, _raw: &[u8]) -> Result<String, AdapterError> {
        if self.panic_in_decode {
            // Not caught by export_adapter!: the host's worker must contain it.
            panic!("static adapter panic");
        }
        Ok(r#"{"algorithm":"SM2","certificateChain":[]}"#.into())
    }
}

#[test]
fn good_adapter_loads_routes_and_reports_health() {
    let dir = folder();
    let path = place(dir.path(), "good");
    let mut host = host_with(dir.path(), HostConfig::default());
    assert_eq!(host.load_dir().unwrap(), vec![GOOD.to_string()]);
    assert_eq!(host.vendors(), vec![GOOD.to_string()]);

    let info = host.info(GOOD).unwrap();
    assert_eq!(info.vendor_name, "Fixture Good CA");
    assert_eq!(info.operations.len(), 6);
    assert_eq!(host.probe(GOOD).unwrap(), info);

    // decode_evidence: the vendor's format in, camr's Evidence out.
    let ev = host
        .decode_evidence(
            GOOD,
            Operation::Login,
            &vendor_answer(&[b"cert-der"], b"sig"),
        )
        .unwrap();
    assert_eq!(ev.algorithm, PublicKeyAlgorithm::Sm2);
    assert_eq!(ev.certificate_chain, vec![Bytes(b"cert-der".to_vec())]);
    assert_eq!(ev.signatures[0].item_id, "request");
    assert_eq!(ev.signatures[0].signature_value, Bytes(b"sig".to_vec()));

    // The outbound calls.
    assert_eq!(
        host.cert_status(GOOD, b"\x30\x00").unwrap(),
        CertStatus::Good
    );
    let handle = host
        .push_task(
            GOOD,
            &serde_json::json!({"name": "张三"}),
            &serde_json::json!({}),
        )
        .unwrap();
    assert_eq!(handle, "task-1");
    assert_eq!(host.poll_task(GOOD, &handle).unwrap()["state"], "pending");
    let subject: camr::pki::Subject = serde_json::from_value(serde_json::json!({
        "name": "张三", "organization": null, "certType": "personalCert",
        "subjectType": "personal", "identityNumber": null, "uscc": null,
        "certSn": "01", "issuer": "Fixture Good CA", "notBefore": 0, "notAfter": 1
    }))
    .unwrap();
    let e = host.fetch_encryption_cert(GOOD, &subject).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AdapterUnavailable, "{e}");
    host.configure(GOOD, r#"{"encryptionCert":"MAA="}"#)
        .unwrap();
    assert_eq!(
        host.fetch_encryption_cert(GOOD, &subject).unwrap(),
        b"\x30\x00"
    );

    // Bad input is the caller's fault: INPUT_MALFORMED, not counted as a failure.
    let e = host
        .decode_evidence(GOOD, Operation::Login, b"not a vendor answer")
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InputMalformed, "{e}");
    // Malformed evidence JSON from the plugin: ADAPTER_FAILED with a message, no panic.
    let e = host
        .decode_evidence(GOOD, Operation::Login, RAW_BAD_OUTPUT)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AdapterFailed);
    assert!(
        matches!(&e, PluginError::BadOutput { reason, .. } if reason.contains("not evidence JSON")),
        "{e:?}"
    );

    // Unknown vendor.
    let e = host
        .decode_evidence("NOBODY", Operation::Login, b"{}")
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AdapterUnavailable);
    assert!(matches!(e, PluginError::NoAdapter { .. }));

    let h = health_of(&host, GOOD);
    assert_eq!(h.vendor_name, "Fixture Good CA");
    assert_eq!(h.adapter_version, "1.2.3");
    assert_eq!(h.source, path.display().to_string());
    assert_eq!(
        h.sha256.as_deref(),
        Some(sha256_hex(&std::fs::read(&path).unwrap()).as_str())
    );
    // probe, decode, cert_status, push, poll, fetch ×2, configure, decode ×2
    assert_eq!(h.calls, 10);
    assert_eq!(
        h.failures, 2,
        "unavailable fetch + bad output; bad input does not count"
    );
    assert_eq!(h.breaker, BreakerState::Closed);
    assert_eq!(h.in_flight, 0);
    assert!(h.worker_threads <= h.max_in_flight);

    let json = serde_json::to_value(host.health()).unwrap();
    assert_eq!(json[0]["caOrgType"], GOOD);
    assert_eq!(json[0]["breaker"], "closed");
    assert_eq!(json[0]["source"], path.display().to_string());
}

#[test]
fn panicky_adapter_is_adapter_failed_and_the_process_survives() {
    let dir = folder();
    place(dir.path(), "panicky");
    place(dir.path(), "good");
    let mut host = host_with(dir.path(), HostConfig::default());
    host.load_dir().unwrap();
    for _ in 0..3 {
        let e = host
            .decode_evidence("FIXTURE_PANICKY", Operation::Login, b"x")
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::AdapterFailed, "{e}");
        assert!(e.to_string().contains("panicked"), "{e}");
        assert!(e.to_string().contains("fixture panic"), "{e}");
    }
    // Still alive, and so are the adapter and its neighbour.
    assert!(host.probe("FIXTURE_PANICKY").is_ok());
    assert!(
        host.decode_evidence(GOOD, Operation::Login, &vendor_answer(&[b"c"], b"s"))
            .is_ok()
    );
    assert_eq!(health_of(&host, "FIXTURE_PANICKY").failures, 3);
    assert_eq!(health_of(&host, GOOD).failures, 0);
}

#[test]
fn a_panic_the_macro_did_not_catch_is_contained_by_the_host() {
    let mut host = PluginHost::new(HostConfig::default());
    host.register_static(Box::new(Other {
        panic_in_decode: true,
    }))
    .unwrap();
    let e = host
        .decode_evidence("STATIC_PANICS", Operation::Login, b"x")
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AdapterFailed);
    assert!(
        matches!(&e, PluginError::Panicked { message, .. } if message.contains("static adapter panic")),
        "{e:?}"
    );
    let h = health_of(&host, "STATIC_PANICS");
    assert_eq!((h.panics, h.failures, h.source.as_str()), (1, 1, "static"));
    assert!(host.probe("STATIC_PANICS").is_ok());
}

#[test]
fn hanging_adapter_times_out_then_saturates_without_new_threads() {
    let deadline = Duration::from_millis(600);
    let dir = folder();
    place(dir.path(), "hanging");
    let mut host = host_with(
        dir.path(),
        HostConfig {
            per_adapter_deadline: HashMap::from([("FIXTURE_HANGING".to_string(), deadline)]),
            max_in_flight_per_vendor: 2,
            breaker_threshold: 100,
            ..HostConfig::default()
        },
    );
    host.load_dir().unwrap();
    host.register_static(Box::new(Other {
        panic_in_decode: false,
    }))
    .unwrap();

    for _ in 0..2 {
        let t = Instant::now();
        let e = host
            .decode_evidence("FIXTURE_HANGING", Operation::Login, b"x")
            .unwrap_err();
        let took = t.elapsed();
        assert_eq!(e.code(), ErrorCode::AdapterTimeout, "{e}");
        assert!(took >= deadline, "gave up early: {took:?}");
        assert!(
            took < deadline + Duration::from_millis(500),
            "took {took:?}"
        );
    }
    // Two hung calls hold both slots: the third is refused at once, without a new thread.
    let t = Instant::now();
    let e = host
        .decode_evidence("FIXTURE_HANGING", Operation::Login, b"x")
        .unwrap_err();
    assert!(
        t.elapsed() < Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(e.code(), ErrorCode::AdapterUnavailable, "{e}");
    assert!(
        matches!(
            e,
            PluginError::Saturated {
                in_flight: 2,
                max: 2,
                ..
            }
        ),
        "{e:?}"
    );
    let h = health_of(&host, "FIXTURE_HANGING");
    assert_eq!((h.timeouts, h.in_flight, h.worker_threads), (2, 2, 2));
    assert_eq!(h.refused, 1);
    // Another vendor is not affected.
    assert!(
        host.decode_evidence("STATIC_OTHER", Operation::Login, b"x")
            .is_ok()
    );
}

#[test]
fn timeouts_count_toward_the_breaker() {
    let dir = folder();
    place(dir.path(), "hanging");
    let mut host = host_with(
        dir.path(),
        HostConfig {
            default_deadline: Duration::from_millis(100),
            breaker_threshold: 2,
            max_in_flight_per_vendor: 4,
            ..HostConfig::default()
        },
    );
    host.load_dir().unwrap();
    for _ in 0..2 {
        let e = host
            .decode_evidence("FIXTURE_HANGING", Operation::Login, b"x")
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::AdapterTimeout);
    }
    let e = host
        .decode_evidence("FIXTURE_HANGING", Operation::Login, b"x")
        .unwrap_err();
    assert!(matches!(e, PluginError::BreakerOpen { .. }), "{e:?}");
    assert_eq!(
        health_of(&host, "FIXTURE_HANGING").breaker,
        BreakerState::Open
    );
}

#[test]
fn breaker_opens_after_n_failures_for_that_vendor_only_and_recovers_after_the_cooldown() {
    // Short, but long enough that the checks right after opening run within it on a loaded
    // machine.
    let cooldown = Duration::from_millis(400);
    let dir = folder();
    place(dir.path(), "good");
    let mut host = host_with(
        dir.path(),
        HostConfig {
            breaker_threshold: 3,
            breaker_cooldown: cooldown,
            ..HostConfig::default()
        },
    );
    host.load_dir().unwrap();
    host.register_static(Box::new(Other {
        panic_in_decode: false,
    }))
    .unwrap();
    let valid = vendor_answer(&[b"c"], b"s");

    let open_it = |host: &PluginHost| {
        for i in 0..3 {
            assert_eq!(health_of(host, GOOD).breaker, BreakerState::Closed, "{i}");
            let e = host
                .decode_evidence(GOOD, Operation::Login, RAW_FAIL)
                .unwrap_err();
            assert_eq!(e.code(), ErrorCode::AdapterFailed, "{e}");
        }
        assert_eq!(health_of(host, GOOD).breaker, BreakerState::Open);
    };
    open_it(&host);

    // Open: refused without calling the adapter, ADAPTER_UNAVAILABLE.
    let calls = health_of(&host, GOOD).calls;
    let e = host
        .decode_evidence(GOOD, Operation::Login, &valid)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AdapterUnavailable);
    assert!(matches!(e, PluginError::BreakerOpen { .. }), "{e:?}");
    assert_eq!(
        health_of(&host, GOOD).calls,
        calls,
        "the adapter was called"
    );
    assert_eq!(health_of(&host, GOOD).refused, 1);
    // Other vendors are not affected.
    assert!(
        host.decode_evidence("STATIC_OTHER", Operation::Login, b"x")
            .is_ok()
    );

    // After the cool-down one trial goes through; success closes the breaker.
    std::thread::sleep(cooldown + Duration::from_millis(50));
    host.decode_evidence(GOOD, Operation::Login, &valid)
        .unwrap();
    let h = health_of(&host, GOOD);
    assert_eq!(
        (h.breaker, h.consecutive_failures),
        (BreakerState::Closed, 0)
    );
    host.decode_evidence(GOOD, Operation::Login, &valid)
        .unwrap();

    // A failed trial reopens it at once.
    open_it(&host);
    std::thread::sleep(cooldown + Duration::from_millis(50));
    let e = host
        .decode_evidence(GOOD, Operation::Login, RAW_FAIL)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AdapterFailed, "the trial went through");
    assert_eq!(health_of(&host, GOOD).breaker, BreakerState::Open);
    let e = host
        .decode_evidence(GOOD, Operation::Login, &valid)
        .unwrap_err();
    assert!(matches!(e, PluginError::BreakerOpen { .. }), "{e:?}");
}

#[test]
fn wrong_abi_version_is_a_load_error() {
    let dir = folder();
    let path = place(dir.path(), "wrong-abi");
    let mut host = host_with(dir.path(), HostConfig::default());
    let e = host.load_dir().unwrap_err();
    assert!(e.is_load_error());
    assert_eq!(e.code(), ErrorCode::AdapterUnavailable);
    assert_eq!(
        e,
        PluginError::AbiVersion {
            path,
            expected: camr_plugin_abi::CAMR_ADAPTER_ABI_VERSION,
            actual: camr_plugin_abi::CAMR_ADAPTER_ABI_VERSION + 1,
        }
    );
    assert!(host.vendors().is_empty());
}

#[test]
fn two_adapters_claiming_one_vendor_code_is_a_load_error() {
    let dir = folder();
    let dup = place(dir.path(), "duplicate");
    let good = place(dir.path(), "good");
    let mut host = host_with(dir.path(), HostConfig::default());
    let e = host.load_dir().unwrap_err();
    // File-name order: the duplicate comes first, the good one is refused.
    assert_eq!(
        e,
        PluginError::DuplicateVendor {
            ca_org_type: GOOD.into(),
            first: dup.display().to_string(),
            second: good.display().to_string(),
        }
    );
    assert!(e.is_load_error());
    assert!(host.vendors().is_empty(), "all or nothing");

    // Also across load calls, and against a static registration.
    let mut host = PluginHost::new(HostConfig::default());
    assert_eq!(host.load_file(&good).unwrap(), GOOD);
    let e = host.load_file(&dup).unwrap_err();
    assert!(matches!(e, PluginError::DuplicateVendor { .. }), "{e:?}");
    let e = host
        .register_static(Box::new(camr_fixture_good::GoodAdapter::new()))
        .unwrap_err();
    assert!(
        matches!(&e, PluginError::DuplicateVendor { second, .. } if second == "static"),
        "{e:?}"
    );
    assert_eq!(health_of(&host, GOOD).vendor_name, "Fixture Good CA");
}

#[test]
fn a_changed_pinned_file_is_refused_at_load() {
    let dir = folder();
    let path = copy(dir.path(), "panicky");
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let right = sha256_hex(&std::fs::read(&path).unwrap());
    let pinned = |hash: &str| HostConfig {
        dir: Some(dir.path().to_path_buf()),
        pins: HashMap::from([(name.clone(), hash.to_string())]),
        ..HostConfig::default()
    };

    // The right pin (any case) loads.
    let mut host = PluginHost::new(pinned(&right.to_uppercase()));
    assert_eq!(
        host.load_dir().unwrap(),
        vec!["FIXTURE_PANICKY".to_string()]
    );
    assert_eq!(
        health_of(&host, "FIXTURE_PANICKY").sha256.as_deref(),
        Some(right.as_str())
    );

    // A wrong pin is refused, naming the file, the expected and the actual hash.
    let wrong = "00".repeat(32);
    let e = PluginHost::new(pinned(&wrong)).load_dir().unwrap_err();
    assert_eq!(
        e,
        PluginError::PinMismatch {
            path: path.clone(),
            expected: wrong.clone(),
            actual: right.clone(),
        }
    );
    let text = e.to_string();
    assert!(
        text.contains(&name) && text.contains(&wrong) && text.contains(&right),
        "{text}"
    );

    // The file changes (one byte appended): the old pin refuses it.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.push(0);
    std::fs::write(&path, &bytes).unwrap();
    let e = PluginHost::new(pinned(&right)).load_dir().unwrap_err();
    assert!(
        matches!(&e, PluginError::PinMismatch { actual, .. } if *actual == sha256_hex(&bytes)),
        "{e:?}"
    );
    assert_eq!(e.code(), ErrorCode::AdapterUnavailable);

    // With pins configured, an unpinned file is refused too.
    let other = place(dir.path(), "hanging");
    let mut host = PluginHost::new(pinned(&sha256_hex(&bytes)));
    let e = host.load_dir().unwrap_err();
    assert_eq!(e, PluginError::Unpinned { path: other });

    // The low-level loader with the right pin.
    let a = load_adapter_file(
        &fixture("good"),
        Some(&sha256_hex(&std::fs::read(fixture("good")).unwrap())),
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(a.info().ca_org_type, GOOD);
    // The payload-free liveness call crosses the boundary too.
    a.ping().unwrap();
    // A panicking adapter's ping is contained like any other call (its default ping is fine).
    let p = load_adapter_file(&fixture("panicky"), None, Duration::from_secs(10)).unwrap();
    p.ping().unwrap();
}

#[test]
fn a_lying_adapters_evidence_is_refused_by_camrs_own_check() {
    let provider = default_provider();
    let tmp = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(
        provider.clone(),
        &tmp.path().join("ca"),
        KeyAlgorithm::Sm2,
        "Lying Test CA",
    )
    .unwrap();
    let wallet_dir = tmp.path().join("wallet");
    ca.issue(&Holder::personal("王五"), b"135790", &wallet_dir, 30)
        .unwrap();

    let dir = folder();
    place(dir.path(), "lying");
    let mut host = host_with(dir.path(), HostConfig::default());
    host.load_dir().unwrap();
    host.configure(
        "FIXTURE_LYING",
        &serde_json::json!({"walletDir": wallet_dir, "pin": "135790"}).to_string(),
    )
    .unwrap();

    // What the platform asked to be signed (this transaction's request bytes).
    let request = br#"{"tid":"C1100005553...","operation":"login","nonce":"n-1"}"#;
    let evidence = host
        .decode_evidence("FIXTURE_LYING", Operation::Login, request)
        .unwrap();
    // The host accepted the translation: it is well-formed, with a real certificate...
    assert_eq!(evidence.certificate_chain.len(), 3);
    // ...but camr's own check refuses it.
    let e = verify_evidence_signature(&provider, &evidence, request).unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureInvalid, "{e}");

    // Control: the same check accepts the signature over the bytes it really covers, so the
    // refusal above is about the bytes, not a broken certificate or check.
    let subject = verify_evidence_signature(&provider, &evidence, LYING_SIGNED_INSTEAD).unwrap();
    assert_eq!(subject.name, "王五");

    // And a signature by another key over the right bytes is refused as well.
    let mut forged = evidence.clone();
    forged.signatures[0].signature_value.0[10] ^= 1;
    assert!(verify_evidence_signature(&provider, &forged, LYING_SIGNED_INSTEAD).is_err());
}

#[test]
fn a_static_adapter_with_invalid_info_is_refused() {
    struct Bad;
    impl AdapterImpl for Bad {
        fn info(&self) -> AdapterInfo {
            AdapterInfo {
                ca_org_type: "BAD".into(),
                vendor_name: "Bad".into(),
                adapter_version: "1".into(),
                operations: vec!["teleport".into()],
                algorithms: vec!["SM2".into()],
            }
        }
        fn configure(&self, _: &str) -> Result<(), AdapterError> {
            Ok(())
        }
        fn decode_evidence(&self, _: &str, _: &[u8]) -> Result<String, AdapterError> {
            Ok(String::new())
        }
    }
    let mut host = PluginHost::new(HostConfig::default());
    let e = host.register_static(Box::new(Bad)).unwrap_err();
    assert!(
        matches!(&e, PluginError::BadAdapter { reason, .. } if reason.contains("teleport")),
        "{e:?}"
    );
    assert!(host.vendors().is_empty());
}

#[test]
fn a_file_that_is_not_an_adapter_is_a_load_error() {
    let dir = folder();
    std::fs::write(dir.path().join("libnot_an_adapter.so"), b"not an ELF file").unwrap();
    let mut host = host_with(dir.path(), HostConfig::default());
    let e = host.load_dir().unwrap_err();
    assert!(matches!(e, PluginError::Open { .. }), "{e:?}");
    assert!(e.is_load_error());
}

#[test]
fn reload_picks_up_new_changed_and_removed_files_and_keeps_unchanged_ones() {
    let dir = folder();
    let host = host_with(dir.path(), HostConfig::default());
    // An empty folder: nothing served.
    assert!(host.reload().unwrap().is_empty());

    // A new file is loaded.
    let good = copy(dir.path(), "good");
    assert_eq!(host.reload().unwrap(), vec![GOOD.to_string()]);
    host.probe(GOOD).unwrap();
    assert_eq!(health_of(&host, GOOD).calls, 1);

    // Unchanged: the same adapter stays, counters and all.
    assert_eq!(host.reload().unwrap(), vec![GOOD.to_string()]);
    assert_eq!(health_of(&host, GOOD).calls, 1);

    // Changed in place (another build claiming the same vendor code): the new library is
    // loaded, not the one already mapped from that path.
    std::fs::copy(fixture("duplicate"), &good).unwrap();
    assert_eq!(host.reload().unwrap(), vec![GOOD.to_string()]);
    let h = health_of(&host, GOOD);
    assert_eq!(h.vendor_name, "Fixture Impostor CA");
    assert_eq!(h.calls, 0);
    assert_eq!(
        h.sha256.as_deref(),
        Some(sha256_hex(&std::fs::read(&good).unwrap()).as_str())
    );

    // A refused file leaves the set as it was (all or nothing).
    std::fs::write(dir.path().join("zz-not-an-adapter.so"), b"not a library").unwrap();
    let e = host.reload().unwrap_err();
    assert!(e.is_load_error(), "{e:?}");
    assert_eq!(host.vendors(), vec![GOOD.to_string()]);
    assert_eq!(health_of(&host, GOOD).vendor_name, "Fixture Impostor CA");
    std::fs::remove_file(dir.path().join("zz-not-an-adapter.so")).unwrap();

    // Removed: no longer served; a statically registered adapter stays.
    let mut host = host;
    host.register_static(Box::new(Other {
        panic_in_decode: false,
    }))
    .unwrap();
    std::fs::remove_file(&good).unwrap();
    assert_eq!(host.reload().unwrap(), vec!["STATIC_OTHER".to_string()]);
    let e = host.probe(GOOD).unwrap_err();
    assert!(matches!(e, PluginError::NoAdapter { .. }), "{e:?}");

    // No folder configured: an error, nothing changes.
    let bare = PluginHost::new(HostConfig::default());
    assert!(matches!(bare.reload(), Err(PluginError::Io { .. })));
}

/// A personal subject as `camr::pki::Subject` serialises it.
fn seal_subject() -> camr::pki::Subject {
    serde_json::from_value(serde_json::json!({
        "name": "张三", "organization": "某某建设有限公司", "certType": "orgCert",
        "subjectType": "org", "identityNumber": null, "uscc": null,
        "certSn": "7F01", "issuer": "Fixture Good CA", "notBefore": 0, "notAfter": 1
    }))
    .unwrap()
}

fn seal_info(kind: SealKind, code: &str, image: Vec<u8>) -> SealInfo {
    SealInfo {
        code: code.into(),
        kind,
        name: format!("某某建设有限公司{}", kind.label_zh()),
        image: Bytes(image),
        width_mm: 40,
        height_mm: 40,
        cert_sn: "7F01".into(),
    }
}

fn configure_seals(host: &PluginHost, seals_json: &str) {
    host.configure(
        GOOD,
        &serde_json::json!({ "sealsJson": seals_json }).to_string(),
    )
    .unwrap();
}

#[test]
fn the_vendors_seals_are_listed_and_a_bad_list_is_adapter_failed() {
    let dir = folder();
    place(dir.path(), "good");
    let mut host = host_with(dir.path(), HostConfig::default());
    host.load_dir().unwrap();
    let subject = seal_subject();

    // The vendor keeps no seals for this user yet: its own ADAPTER_UNAVAILABLE.
    let e = host.list_seals(GOOD, &subject).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AdapterUnavailable, "{e}");

    // A company's official and legal-representative seals.
    let png = |kind| seal_png(kind, "某某建设有限公司", 64).unwrap();
    let good = vec![
        seal_info(SealKind::Official, "GOOD-1", png(SealKind::Official)),
        seal_info(
            SealKind::LegalRepresentative,
            "GOOD-2",
            png(SealKind::LegalRepresentative),
        ),
    ];
    configure_seals(&host, &serde_json::to_string(&good).unwrap());
    assert_eq!(host.list_seals(GOOD, &subject).unwrap(), good);
    configure_seals(&host, "[]");
    assert!(host.list_seals(GOOD, &subject).unwrap().is_empty());

    // Malformed JSON from the plugin: ADAPTER_FAILED, BadOutput, with the reason.
    let bad_output = |host: &PluginHost, want: &str| {
        let e = host.list_seals(GOOD, &subject).unwrap_err();
        assert_eq!(e.code(), ErrorCode::AdapterFailed, "{e}");
        assert!(
            matches!(&e, PluginError::BadOutput { method: "list_seals", reason, .. } if reason.contains(want)),
            "{want}: {e:?}"
        );
    };
    configure_seals(&host, r#"[{"code":"GOOD-1","kind":"#);
    bad_output(&host, "not a JSON array of seals");
    configure_seals(&host, r#"{"seals":[]}"#);
    bad_output(&host, "not a JSON array of seals");
    configure_seals(&host, r#"[{"code":"X","kind":"stamp"}]"#);
    bad_output(&host, "not a JSON array of seals");

    // A PNG that does not decode.
    let mut broken = png(SealKind::Official);
    broken.truncate(40);
    let list = vec![
        good[0].clone(),
        seal_info(SealKind::Finance, "GOOD-3", broken),
    ];
    configure_seals(&host, &serde_json::to_string(&list).unwrap());
    bad_output(&host, "seal 1: field `image`");

    // A seal of 0 mm, and more than MAX_SEALS seals.
    let list = vec![SealInfo {
        width_mm: 0,
        ..good[0].clone()
    }];
    configure_seals(&host, &serde_json::to_string(&list).unwrap());
    bad_output(&host, "widthMm");
    let many: Vec<SealInfo> = (0..=camr_plugin_host::MAX_SEALS)
        .map(|i| SealInfo {
            code: format!("GOOD-{i}"),
            ..good[0].clone()
        })
        .collect();
    configure_seals(&host, &serde_json::to_string(&many).unwrap());
    bad_output(&host, "at most 64");
    // Each bad answer counted as a failure; the good ones and the adapter's own refusal not
    // among them (ADAPTER_UNAVAILABLE counts, as for fetch_encryption_cert).
    assert_eq!(health_of(&host, GOOD).failures, 7);
}

#[test]
fn an_adapter_that_does_not_offer_list_seals_is_adapter_unavailable() {
    let dir = folder();
    place(dir.path(), "duplicate");
    let mut host = host_with(dir.path(), HostConfig::default());
    host.load_dir().unwrap();
    let e = host.list_seals(GOOD, &seal_subject()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AdapterUnavailable, "{e}");
    assert!(
        matches!(&e, PluginError::Adapter { method: "list_seals", message, .. } if message.contains("does not offer `list_seals`")),
        "{e:?}"
    );
    // An unknown vendor is ADAPTER_UNAVAILABLE too, without a call.
    let e = host.list_seals("NOBODY", &seal_subject()).unwrap_err();
    assert!(matches!(e, PluginError::NoAdapter { .. }), "{e:?}");
}
