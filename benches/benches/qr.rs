//! What the QR layer costs: make + sign + encode + render PNG, against a bare `qrcode`
//! encode + render of the same payload text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::io::Cursor;

use camr::crypto::{KeyAlgorithm, default_provider};
use camr::protocol::{Operation, SystemCode, Tid};
use camr::qr::{self, QrFields, QrSigner};
use criterion::{Criterion, criterion_group, criterion_main};
use image::{ImageEncoder, Luma, codecs::png::PngEncoder};

const URI: &str = "https://ggzy.example-province.gov.cn/tradingsystem/camr/v1/request/C1100005553a3f9c0e1b2d4f6a8c0e2b4d6f8a0c2e4?lng=zh-CN";

fn bare_png(text: &str) -> Vec<u8> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).unwrap();
    let img = code.render::<Luma<u8>>().module_dimensions(8, 8).build();
    let mut out = Vec::new();
    PngEncoder::new(Cursor::new(&mut out))
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::L8,
        )
        .unwrap();
    out
}

fn qr_bench(c: &mut Criterion) {
    let p = default_provider();
    let key = p.generate_key(KeyAlgorithm::Sm2).unwrap();
    let signer = QrSigner::new(p.clone(), key, None).unwrap();
    let tid = Tid::new(&SystemCode::parse("C1100005553").unwrap(), [0xa5; 16]);
    let fields = QrFields {
        tid,
        operation: Operation::Login,
        request_uri: URI.to_string(),
        expires_at: 1_790_000_120,
    };
    let text = qr::encode(&signer.sign(&fields).unwrap());

    let mut g = c.benchmark_group("qr-login-png");
    g.bench_function("camr-make-sign-render", |b| {
        b.iter(|| {
            let payload = signer.sign(black_box(&fields)).unwrap();
            qr::render_png(&qr::encode(&payload), 8).unwrap()
        })
    });
    g.bench_function("bare-encode-render", |b| {
        b.iter(|| bare_png(black_box(&text)))
    });
    g.bench_function("camr-sign-only", |b| {
        b.iter(|| signer.sign(black_box(&fields)).unwrap())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = qr_bench
}
criterion_main!(benches);
