//! `answer` for a login (binding signature + cached chain + memory-store writes) against a
//! bare SM2 verify, and the memory a pending transaction takes in the memory store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;

use camr::app::{App, Wallet};
use camr::ceremony::{Platform, PlatformIdentity, verify_signed_request};
use camr::crypto::{KeyAlgorithm, SignatureScheme, default_provider};
use camr::pki::{ChainValidator, TrustStore};
use camr::protocol::SystemCode;
use camr::softca::{Holder, SoftCa};
use camr::store::MemoryStore;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

/// The memory store's futures are ready at once.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

struct World {
    _dir: tempfile::TempDir,
    platform: Platform,
    app: App,
    wallet: Wallet,
}

fn world() -> World {
    let p = default_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(
        p.clone(),
        &dir.path().join("ca"),
        KeyAlgorithm::Sm2,
        "Bench CA",
    )
    .unwrap();
    let holder = Holder::personal("Bench");
    ca.issue(&holder, b"123456", &dir.path().join("w"), 30)
        .unwrap();
    let mut trust = TrustStore::new();
    trust.add(ca.root().clone());
    let identity = PlatformIdentity {
        system_code: SystemCode::parse("C1100005553").unwrap(),
        system_name: "Bench platform".into(),
        request_uri_prefix: "https://p.example/camr/v1/request/".into(),
        response_uri: "https://p.example/camr/v1/response".into(),
    };
    let platform = Platform::new(
        p.clone(),
        identity,
        p.generate_key(KeyAlgorithm::Sm2).unwrap(),
        None,
        Arc::new(MemoryStore::new()),
        Arc::new(ChainValidator::new(p.clone(), trust)),
    )
    .unwrap();
    World {
        platform,
        app: App::new(p, "SOFTCA"),
        wallet: Wallet::open(&dir.path().join("w"), b"123456").unwrap(),
        _dir: dir,
    }
}

fn answer(c: &mut Criterion) {
    let w = world();
    let p = default_provider();
    let prepare = || {
        let started = block_on(w.platform.start_login()).unwrap();
        let signed = block_on(w.platform.request(&started.transaction.tid)).unwrap();
        let request = verify_signed_request(p.as_ref(), &signed, &w.platform.public_key()).unwrap();
        let response = w.app.approve(&w.wallet, &signed, &request, &[]).unwrap();
        (started.transaction.tid, response)
    };
    // Warm the chain cache once, as repeated logins do.
    let (tid, r) = prepare();
    block_on(w.platform.answer(&tid, &r)).unwrap();
    let key = w.wallet.sign_cert.public_key().unwrap();
    // As long as a camr2 binding message (request hash, contents digest).
    let msg = b"camr2-answer:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let sig = p
        .sign(&w.wallet.sign_key, &SignatureScheme::sm2(), msg)
        .unwrap();
    let mut g = c.benchmark_group("login-answer");
    g.bench_function("bare-sm2-verify", |b| {
        b.iter(|| {
            p.verify(&key, &SignatureScheme::sm2(), black_box(msg), &sig)
                .unwrap()
        })
    });
    g.bench_function("camr-answer", |b| {
        b.iter_batched(
            prepare,
            |(tid, r)| block_on(w.platform.answer(&tid, &r)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn pending_memory(_c: &mut Criterion) {
    // Not a timing: the resident memory 20,000 pending logins add, per transaction.
    let w = world();
    let n = 20_000u64;
    let before = rss_kib();
    let mut tids = Vec::with_capacity(n as usize);
    for _ in 0..n {
        tids.push(block_on(w.platform.start_login()).unwrap().transaction.tid);
    }
    let after = rss_kib();
    let per_tx = (after.saturating_sub(before) * 1024) / n;
    println!(
        "memory per pending login transaction (memory store, incl. its audit entry): {per_tx} bytes ({n} transactions, RSS {before} KiB -> {after} KiB)"
    );
    black_box(tids);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(5));
    targets = answer, pending_memory
}
criterion_main!(benches);
