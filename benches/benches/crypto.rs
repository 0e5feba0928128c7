//! camr's provider against the raw RustCrypto calls it wraps, in the same run.
//! `benches/compare-openssl.sh` adds OpenSSL's figures for the same primitives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use aes_gcm::aead::{Aead, KeyInit};
use camr::crypto::{
    AeadAlgorithm, HashAlgorithm, KeyAlgorithm, PrivateKey, SignatureScheme, Sm2CiphertextForm,
    default_provider,
};
use cbc::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use signature::{Signer, Verifier};
use sm3::Digest;

const MIB: usize = 1024 * 1024;

fn sm2(c: &mut Criterion) {
    let p = default_provider();
    let key = p.generate_key(KeyAlgorithm::Sm2).unwrap();
    let PrivateKey::Sm2(sk) = &key else {
        unreachable!()
    };
    let public = key.public_key();
    let msg = b"C1100005553a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5 login nonce 1f2e3d4c";
    let scheme = SignatureScheme::sm2();
    let sig = p.sign(&key, &scheme, msg).unwrap();
    let raw_signer = sm2::dsa::SigningKey::new(camr::crypto::DEFAULT_SM2_SIGNER_ID, sk).unwrap();
    let raw_sig: sm2::dsa::Signature = raw_signer.sign(msg);
    let raw_verifier = raw_signer.verifying_key().clone();

    let mut g = c.benchmark_group("sm2");
    g.bench_function("sign/camr", |b| {
        b.iter(|| p.sign(&key, &scheme, black_box(msg)).unwrap())
    });
    g.bench_function("sign/raw", |b| {
        b.iter(|| -> sm2::dsa::Signature { raw_signer.sign(black_box(msg)) })
    });
    g.bench_function("verify/camr", |b| {
        b.iter(|| p.verify(&public, &scheme, black_box(msg), &sig).unwrap())
    });
    g.bench_function("verify/raw", |b| {
        b.iter(|| raw_verifier.verify(black_box(msg), &raw_sig).unwrap())
    });
    let secret = [0x5au8; 32];
    g.bench_function("encrypt+decrypt-32B/camr", |b| {
        b.iter(|| {
            let ct = p
                .sm2_encrypt(&public, black_box(&secret), Sm2CiphertextForm::Asn1)
                .unwrap();
            p.sm2_decrypt(&key, &ct, Sm2CiphertextForm::Asn1).unwrap()
        })
    });
    let ek = sm2::pke::EncryptingKey::new_with_mode(sk.public_key(), sm2::pke::Mode::C1C3C2);
    let dk = sm2::pke::DecryptingKey::new_with_mode(sk.to_nonzero_scalar(), sm2::pke::Mode::C1C3C2);
    g.bench_function("encrypt+decrypt-32B/raw", |b| {
        b.iter(|| {
            let ct = ek
                .encrypt_der(&mut getrandom::SysRng, black_box(&secret))
                .unwrap();
            dk.decrypt_der(&ct).unwrap()
        })
    });
    g.finish();
}

fn bulk(c: &mut Criterion) {
    let p = default_provider();
    let data = vec![0x42u8; MIB];
    let key16 = [7u8; 16];
    let key32 = [7u8; 32];
    let iv = [9u8; 16];
    let nonce = [3u8; 12];

    let mut g = c.benchmark_group("sm3-1MiB");
    g.throughput(Throughput::Bytes(MIB as u64));
    g.bench_function("camr", |b| {
        b.iter(|| p.digest(HashAlgorithm::Sm3, black_box(&data)))
    });
    g.bench_function("raw", |b| b.iter(|| sm3::Sm3::digest(black_box(&data))));
    g.finish();

    let mut g = c.benchmark_group("sm4-cbc-1MiB");
    g.throughput(Throughput::Bytes(MIB as u64));
    g.bench_function("camr", |b| {
        b.iter(|| p.sm4_cbc_encrypt(&key16, &iv, black_box(&data)).unwrap())
    });
    g.bench_function("raw", |b| {
        b.iter(|| {
            cbc::Encryptor::<sm4::Sm4>::new_from_slices(&key16, &iv)
                .unwrap()
                .encrypt_padded_vec::<Pkcs7>(black_box(&data))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("aes256-gcm-1MiB");
    g.throughput(Throughput::Bytes(MIB as u64));
    g.bench_function("camr", |b| {
        b.iter(|| {
            p.aead_seal(
                AeadAlgorithm::Aes256Gcm,
                &key32,
                &nonce,
                b"",
                black_box(&data),
            )
            .unwrap()
        })
    });
    let raw = aes_gcm::Aes256Gcm::new_from_slice(&key32).unwrap();
    let raw_nonce = aes_gcm::Nonce::try_from(&nonce[..]).unwrap();
    g.bench_function("raw", |b| {
        b.iter(|| raw.encrypt(&raw_nonce, black_box(&data[..])).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("sm4-gcm-1MiB");
    g.throughput(Throughput::Bytes(MIB as u64));
    g.bench_function("camr", |b| {
        b.iter(|| {
            p.aead_seal(AeadAlgorithm::Sm4Gcm, &key16, &nonce, b"", black_box(&data))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = sm2, bulk
}
criterion_main!(benches);
