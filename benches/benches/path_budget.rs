//! The worst case of path building (issue 20): a leaf with 100 CA certificates that share one
//! name and one key and lead nowhere, against the honest 3-certificate chain in the same run.
//! Before the budget, 9 such certificates took over a minute; now the search gives up with
//! `CERT_PATH_BUDGET_EXCEEDED` after a bounded number of candidates and signature checks.
//! Certificates: `benches/data/path_budget/make.sh` (P-256, OpenSSL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;

use camr::crypto::default_provider;
use camr::pki::{Certificate, ChainValidator, KeyPurpose, TrustStore};
use camr::protocol::ErrorCode;
use criterion::{Criterion, criterion_group, criterion_main};

fn load(name: &str) -> Vec<Certificate> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/path_budget")
        .join(name);
    Certificate::parse_all(&std::fs::read(path).unwrap()).unwrap()
}

fn path_budget(c: &mut Criterion) {
    let trust = TrustStore::from_pem_bundle(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/path_budget/root.pem"))
            .unwrap(),
    )
    .unwrap();
    let v = ChainValidator::new(default_provider(), trust);
    let now = camr::qr::unix_now();
    let honest = load("honest.pem");
    let (leaf, chain) = honest.split_first().unwrap();
    let attack = load("attack.pem");
    let (bad_leaf, pool) = attack.split_first().unwrap();
    assert_eq!(pool.len(), 100);
    v.validate_uncached(leaf, chain, KeyPurpose::Sign, now)
        .unwrap();
    let e = v
        .validate_uncached(bad_leaf, pool, KeyPurpose::Sign, now)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertPathBudgetExceeded, "{e}");

    let mut g = c.benchmark_group("path_budget");
    g.bench_function("honest-3-certificates", |b| {
        b.iter(|| {
            v.validate_uncached(black_box(leaf), chain, KeyPurpose::Sign, now)
                .unwrap()
        })
    });
    g.bench_function("100-same-name-same-key-refused", |b| {
        b.iter(|| {
            v.validate_uncached(black_box(bad_leaf), pool, KeyPurpose::Sign, now)
                .unwrap_err()
        })
    });
    g.finish();
}

criterion_group!(benches, path_budget);
criterion_main!(benches);
