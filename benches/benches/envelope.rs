//! Bid-file sealing/opening throughput and certificate-chain validation, cold vs cached.
//! `benches/compare-openssl.sh` sets the bid-file figures against `openssl enc -sm4-cbc`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use camr::crypto::{KeyAlgorithm, PrivateKey, default_provider};
use camr::envelope::{KeySource, open_stream, seal_stream};
use camr::pki::{Certificate, ChainValidator, KeyPurpose, TrustStore};
use camr::softca::{Holder, SoftCa, wallet_files};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SIZE: usize = 8 * 1024 * 1024;

struct Fixture {
    _dir: tempfile::TempDir,
    root: Certificate,
    chain: Vec<Certificate>,
    sign: Certificate,
    enc: Certificate,
    enc_key: PrivateKey,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(
        default_provider(),
        &dir.path().join("ca"),
        KeyAlgorithm::Sm2,
        "Bench CA",
    )
    .unwrap();
    let holder = Holder::personal("Bench");
    let w = dir.path().join("w");
    ca.issue(&holder, b"1234", &w, 30).unwrap();
    let read = |n: &str| std::fs::read(w.join(n)).unwrap();
    Fixture {
        root: ca.root().clone(),
        chain: Certificate::parse_all(&read(wallet_files::CHAIN)).unwrap(),
        sign: Certificate::parse_one(&read(wallet_files::SIGN_CERT)).unwrap(),
        enc: Certificate::parse_one(&read(wallet_files::ENC_CERT)).unwrap(),
        enc_key: PrivateKey::from_bytes(&read(wallet_files::ENC_KEY), Some(b"1234")).unwrap(),
        _dir: dir,
    }
}

fn bid_file(c: &mut Criterion) {
    let p = default_provider();
    let f = fixture();
    let data = vec![0x33u8; SIZE];
    let mut sealed = Vec::with_capacity(SIZE + SIZE / 1000 + 4096);
    seal_stream(
        p.as_ref(),
        std::slice::from_ref(&f.enc),
        data.as_slice(),
        &mut sealed,
        &mut |_| {},
    )
    .unwrap();
    let mut g = c.benchmark_group("bidfile-8MiB");
    g.throughput(Throughput::Bytes(SIZE as u64));
    g.sample_size(10);
    g.bench_function("seal-sm2", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(SIZE + 65536);
            seal_stream(
                p.as_ref(),
                std::slice::from_ref(&f.enc),
                black_box(data.as_slice()),
                &mut out,
                &mut |_| {},
            )
            .unwrap()
        })
    });
    g.bench_function("open-sm2", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(SIZE);
            open_stream(
                p.as_ref(),
                black_box(sealed.as_slice()),
                &mut out,
                KeySource::Wallet {
                    cert: &f.enc,
                    key: &f.enc_key,
                },
                &mut |_| {},
            )
            .unwrap()
        })
    });
    g.finish();
}

fn chain(c: &mut Criterion) {
    let f = fixture();
    let mut trust = TrustStore::new();
    trust.add(f.root.clone());
    let v = ChainValidator::new(default_provider(), trust);
    let now = camr::qr::unix_now();
    let mut g = c.benchmark_group("chain-validation-sm2");
    g.bench_function("cold", |b| {
        b.iter(|| {
            v.validate_uncached(black_box(&f.sign), &f.chain, KeyPurpose::Sign, now)
                .unwrap()
        })
    });
    v.validate(&f.sign, &f.chain, KeyPurpose::Sign, now)
        .unwrap();
    g.bench_function("cached", |b| {
        b.iter(|| {
            v.validate(black_box(&f.sign), &f.chain, KeyPurpose::Sign, now)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bid_file, chain
}
criterion_main!(benches);
