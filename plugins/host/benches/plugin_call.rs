//! A call through a loaded adapter `.so` vs the same adapter linked statically as
//! `Box<dyn AdapterImpl>`: an empty-ish call (`cert_status`) and a 1 KiB evidence decode,
//! directly and through the `PluginHost` (which adds the worker-thread isolation).
//!
//! `cargo bench -p camr-plugin-host` (the `good` fixture is a dev-dependency, so cargo builds
//! its `.so` in the bench profile next to this binary).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use camr::protocol::{Bytes, Operation};
use camr_fixture_good::GoodAdapter;
use camr_plugin_abi::{AdapterImpl, RSlice, RStr, into_adapter_box};
use camr_plugin_host::{HostConfig, PluginHost, load_adapter_file};
use criterion::{Criterion, criterion_group, criterion_main};

fn good_so() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    for dir in [deps, deps.parent().unwrap()] {
        let p = dir.join("libcamr_fixture_good.so");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "libcamr_fixture_good.so not found next to {}",
        exe.display()
    );
}

/// A vendor answer of 1 KiB: a certificate-sized blob and a signature.
fn raw_1kib() -> Vec<u8> {
    let mut cert_len = 700;
    loop {
        let raw = serde_json::to_vec(&serde_json::json!({
            "alg": "SM2",
            "certs": [Bytes(vec![0x5a; cert_len])],
            "sigs": [{ "id": "request", "value": Bytes(vec![0xa5; 72]) }],
        }))
        .unwrap();
        if raw.len() >= 1024 {
            return raw;
        }
        cert_len += 1;
    }
}

fn bench(c: &mut Criterion) {
    let dynamic = load_adapter_file(&good_so(), None, Duration::from_secs(10)).unwrap();
    let statik: Box<dyn AdapterImpl> = Box::new(GoodAdapter::new());
    let in_process_ffi = into_adapter_box(GoodAdapter::new());
    let raw = raw_1kib();
    assert_eq!(
        dynamic.decode_evidence("login", &raw).unwrap(),
        statik.decode_evidence("login", &raw).unwrap()
    );

    let mut g = c.benchmark_group("empty_call_ping");
    g.bench_function("static_box_dyn", |b| {
        b.iter(|| black_box(&statik).ping().unwrap())
    });
    g.bench_function("so_adapter_impl", |b| {
        b.iter(|| black_box(&dynamic).ping().unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("empty_call_cert_status");
    g.bench_function("static_box_dyn", |b| {
        b.iter(|| statik.cert_status(black_box(b"\x30\x00")).unwrap())
    });
    g.bench_function("so_adapter_impl", |b| {
        b.iter(|| dynamic.cert_status(black_box(b"\x30\x00")).unwrap())
    });
    g.bench_function("so_ffi_raw", |b| {
        b.iter(|| {
            dynamic
                .ffi()
                .cert_status(RSlice::from_slice(black_box(b"\x30\x00")))
                .unwrap()
        })
    });
    g.bench_function("in_process_ffi_raw", |b| {
        b.iter(|| {
            in_process_ffi
                .cert_status(RSlice::from_slice(black_box(b"\x30\x00")))
                .unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("decode_evidence_1KiB");
    g.bench_function("static_box_dyn", |b| {
        b.iter(|| statik.decode_evidence("login", black_box(&raw)).unwrap())
    });
    g.bench_function("so_adapter_impl", |b| {
        b.iter(|| dynamic.decode_evidence("login", black_box(&raw)).unwrap())
    });
    g.bench_function("so_ffi_raw", |b| {
        b.iter(|| {
            dynamic
                .ffi()
                .decode_evidence(RStr::from_str("login"), RSlice::from_slice(black_box(&raw)))
                .unwrap()
        })
    });
    g.finish();

    // Through the host: routing, breaker, worker thread, deadline, Evidence parsing.
    let mut so_host = PluginHost::new(HostConfig::default());
    so_host.load_file(&good_so()).unwrap();
    let mut static_host = PluginHost::new(HostConfig::default());
    static_host
        .register_static(Box::new(GoodAdapter::new()))
        .unwrap();
    let mut g = c.benchmark_group("host");
    for (name, host) in [("so", &so_host), ("static", &static_host)] {
        g.bench_function(format!("{name}_cert_status"), |b| {
            b.iter(|| {
                host.cert_status("FIXTURE_GOOD", black_box(b"\x30\x00"))
                    .unwrap()
            })
        });
        g.bench_function(format!("{name}_decode_evidence_1KiB"), |b| {
            b.iter(|| {
                host.decode_evidence("FIXTURE_GOOD", Operation::Login, black_box(&raw))
                    .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
