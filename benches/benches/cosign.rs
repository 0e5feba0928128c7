//! Two-party SM2 (`camr::cosign`, 协同签名 / 协同解密) against plain SM2 with the same crates,
//! in the same run. The co-signing rows run both halves in process over a local transport:
//! every request and response is serialised to JSON and parsed back, as it would cross the
//! wire between the phone app and the vendor cloud (network latency not included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use camr::cosign::{
    ClientShare, DEFAULT_SM2_SIGNER_ID, DecryptRequest, DecryptResponse, KeygenRequest,
    KeygenResponse, ServerShare, SignRequest, SignResponse,
};
use camr::crypto::{
    KeyAlgorithm, PrivateKey, SignatureScheme, Sm2CiphertextForm, default_provider,
};
use criterion::{Criterion, criterion_group, criterion_main};
use serde::{Serialize, de::DeserializeOwned};
use signature::Signer;

/// Across the local transport: to JSON text and back.
fn wire<T: Serialize + DeserializeOwned>(msg: &T) -> T {
    let text = serde_json::to_string(msg).unwrap();
    serde_json::from_str(black_box(&text)).unwrap()
}

fn json_len<T: Serialize>(msg: &T) -> usize {
    serde_json::to_string(msg).unwrap().len()
}

fn keygen() -> (ClientShare, ServerShare) {
    let (pending, req) = ClientShare::keygen_start().unwrap();
    let (server, resp) = ServerShare::keygen(&wire::<KeygenRequest>(&req)).unwrap();
    let client = pending.finish(&wire::<KeygenResponse>(&resp)).unwrap();
    (client, server)
}

fn cosign(c: &mut Criterion) {
    let p = default_provider();
    let msg = b"C1100005553a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5 login nonce 1f2e3d4c";
    let id = DEFAULT_SM2_SIGNER_ID;
    let (client, server) = keygen();
    let public = client.public_key();

    // Wire cost, printed once.
    let (pending, req) = client.sign_start(msg, id).unwrap();
    let resp = server.sign(&req).unwrap();
    let sig = pending.finish(&resp).unwrap();
    p.verify(&public, &SignatureScheme::sm2(), msg, &sig)
        .unwrap();
    let ct = p
        .sm2_encrypt(&public, &[0x5a; 32], Sm2CiphertextForm::Asn1)
        .unwrap();
    let (dpending, dreq) = client.decrypt_start(&ct, Sm2CiphertextForm::Asn1).unwrap();
    let dresp = server.decrypt(&dreq).unwrap();
    assert_eq!(dpending.finish(&dresp).unwrap().as_slice(), &[0x5a; 32]);
    let (_kp, kreq) = ClientShare::keygen_start().unwrap();
    let (_ks, kresp) = ServerShare::keygen(&kreq).unwrap();
    eprintln!(
        "cosign wire (JSON bytes): keygen {} + {}, sign {} + {}, decrypt {} + {}",
        json_len(&kreq),
        json_len(&kresp),
        json_len(&req),
        json_len(&resp),
        json_len(&dreq),
        json_len(&dresp)
    );

    let key = p.generate_key(KeyAlgorithm::Sm2).unwrap();
    let PrivateKey::Sm2(sk) = &key else {
        unreachable!()
    };
    let scheme = SignatureScheme::sm2();
    let raw_signer = sm2::dsa::SigningKey::new(id, sk).unwrap();

    let mut g = c.benchmark_group("cosign-sign");
    g.bench_function("cosign/local-json", |b| {
        b.iter(|| {
            let (pending, req) = client.sign_start(black_box(msg), id).unwrap();
            let resp = server.sign(&wire::<SignRequest>(&req)).unwrap();
            pending.finish(&wire::<SignResponse>(&resp)).unwrap()
        })
    });
    g.bench_function("cosign/in-memory", |b| {
        b.iter(|| {
            let (pending, req) = client.sign_start(black_box(msg), id).unwrap();
            let resp = server.sign(&req).unwrap();
            pending.finish(&resp).unwrap()
        })
    });
    g.bench_function("cosign/server-half", |b| {
        b.iter(|| server.sign(black_box(&req)).unwrap())
    });
    g.bench_function("plain-sm2/camr", |b| {
        b.iter(|| p.sign(&key, &scheme, black_box(msg)).unwrap())
    });
    g.bench_function("plain-sm2/raw", |b| {
        b.iter(|| -> sm2::dsa::Signature { raw_signer.sign(black_box(msg)) })
    });
    g.finish();

    let plain_ct = p
        .sm2_encrypt(&key.public_key(), &[0x5a; 32], Sm2CiphertextForm::Asn1)
        .unwrap();
    let mut g = c.benchmark_group("cosign-decrypt-32B");
    g.bench_function("codecrypt/local-json", |b| {
        b.iter(|| {
            let (pending, req) = client
                .decrypt_start(black_box(&ct), Sm2CiphertextForm::Asn1)
                .unwrap();
            let resp = server.decrypt(&wire::<DecryptRequest>(&req)).unwrap();
            pending.finish(&wire::<DecryptResponse>(&resp)).unwrap()
        })
    });
    g.bench_function("plain-sm2/camr", |b| {
        b.iter(|| {
            p.sm2_decrypt(&key, black_box(&plain_ct), Sm2CiphertextForm::Asn1)
                .unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("cosign-keygen");
    g.bench_function("cosign/local-json", |b| b.iter(keygen));
    g.bench_function("plain-sm2/camr", |b| {
        b.iter(|| p.generate_key(KeyAlgorithm::Sm2).unwrap())
    });
    g.finish();
}

criterion_group!(benches, cosign);
criterion_main!(benches);
