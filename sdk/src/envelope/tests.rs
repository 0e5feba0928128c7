#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::crypto::{KeyAlgorithm, PrivateKey, default_provider};
use crate::pki::{ChainValidator, TrustStore};
use crate::softca::{Holder, SoftCa, wallet_files};

struct Wallet {
    _dir: tempfile::TempDir,
    root: Certificate,
    chain: Vec<Certificate>,
    sign_cert: Certificate,
    sign_key: PrivateKey,
    enc_cert: Certificate,
    enc_key: PrivateKey,
}

fn wallet(alg: KeyAlgorithm) -> Wallet {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(default_provider(), &dir.path().join("ca"), alg, "Env CA").unwrap();
    let holder = Holder::personal("王五");
    let w = dir.path().join("w");
    ca.issue(&holder, b"1234", &w, 30).unwrap();
    let read = |n: &str| std::fs::read(w.join(n)).unwrap();
    Wallet {
        root: ca.root().clone(),
        chain: Certificate::parse_all(&read(wallet_files::CHAIN)).unwrap(),
        sign_cert: Certificate::parse_one(&read(wallet_files::SIGN_CERT)).unwrap(),
        sign_key: PrivateKey::from_bytes(&read(wallet_files::SIGN_KEY), Some(b"1234")).unwrap(),
        enc_cert: Certificate::parse_one(&read(wallet_files::ENC_CERT)).unwrap(),
        enc_key: PrivateKey::from_bytes(&read(wallet_files::ENC_KEY), Some(b"1234")).unwrap(),
        _dir: dir,
    }
}

fn validator(w: &Wallet) -> ChainValidator {
    let mut t = TrustStore::new();
    t.add(w.root.clone());
    ChainValidator::new(default_provider(), t)
}

#[test]
fn signed_data_round_trips_attached_and_detached_for_sm2_and_rsa() {
    let p = default_provider();
    for (alg, profile) in [
        (KeyAlgorithm::Sm2, EnvelopeProfile::GmT0010),
        (KeyAlgorithm::Rsa2048, EnvelopeProfile::Cms),
        (KeyAlgorithm::P256, EnvelopeProfile::Cms),
    ] {
        let w = wallet(alg);
        let content = "投标报价：1,280,000.00 元".as_bytes();
        let now = crate::qr::unix_now();
        let attached = sign(
            p.as_ref(),
            &w.sign_cert,
            &w.sign_key,
            &w.chain,
            content,
            SignOptions::default(),
        )
        .unwrap();
        let v = verify(p.as_ref(), &attached, None, &validator(&w), &[], now).unwrap();
        assert_eq!(v.content, content);
        assert_eq!(v.profile, profile);
        assert_eq!(v.signer.subject.name, "王五");
        assert!(v.signing_time.is_some_and(|t| (t - now).abs() < 5));
        let detached = sign(
            p.as_ref(),
            &w.sign_cert,
            &w.sign_key,
            &[],
            content,
            SignOptions {
                detached: true,
                signing_time: None,
            },
        )
        .unwrap();
        let v = verify(
            p.as_ref(),
            &detached,
            Some(content),
            &validator(&w),
            &w.chain,
            now,
        )
        .unwrap();
        assert_eq!(v.content, content);
        // Other content: the digest no longer matches.
        let e = verify(
            p.as_ref(),
            &detached,
            Some(b"other"),
            &validator(&w),
            &w.chain,
            now,
        )
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::SignatureInvalid, "{e}");
        let e = verify(p.as_ref(), &detached, None, &validator(&w), &w.chain, now).unwrap_err();
        assert_eq!(e.code(), ErrorCode::EnvelopeMalformed);
    }
}

#[test]
fn signed_data_refuses_wrong_certificates_and_tampering() {
    let p = default_provider();
    let w = wallet(KeyAlgorithm::Sm2);
    let now = crate::qr::unix_now();
    // The encryption certificate cannot sign.
    let e = sign(
        p.as_ref(),
        &w.enc_cert,
        &w.enc_key,
        &w.chain,
        b"x",
        SignOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertWrongUsage);
    // A key that is not the certificate's.
    let e = sign(
        p.as_ref(),
        &w.sign_cert,
        &w.enc_key,
        &w.chain,
        b"x",
        SignOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::EnvelopeMalformed);
    let good = sign(
        p.as_ref(),
        &w.sign_cert,
        &w.sign_key,
        &w.chain,
        b"price 100",
        SignOptions::default(),
    )
    .unwrap();
    // Unknown root.
    let other = wallet(KeyAlgorithm::Sm2);
    let e = verify(p.as_ref(), &good, None, &validator(&other), &[], now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertUntrusted);
    // Expired at the validation time.
    let e = verify(
        p.as_ref(),
        &good,
        None,
        &validator(&w),
        &[],
        now + 60 * 86_400,
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertExpired);
    // Change the content bytes inside the message ("100" -> "900").
    let pos = good.windows(9).position(|x| x == b"price 100").unwrap();
    let mut bad = good.clone();
    bad[pos + 6] = b'9';
    let e = verify(p.as_ref(), &bad, None, &validator(&w), &[], now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureInvalid);
    // Flip the last byte (inside the signature).
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(verify(p.as_ref(), &bad, None, &validator(&w), &[], now).is_err());
    for garbage in [&b""[..], b"garbage", &good[..good.len() / 2]] {
        let e = verify(p.as_ref(), garbage, None, &validator(&w), &[], now).unwrap_err();
        assert_eq!(e.code(), ErrorCode::EnvelopeMalformed, "{e}");
    }
}

#[test]
fn envelopes_open_for_each_recipient_and_list_recipients_otherwise() {
    let p = default_provider();
    for alg in [KeyAlgorithm::Sm2, KeyAlgorithm::Rsa2048] {
        let a = wallet(alg);
        let b = wallet(alg);
        let c = wallet(alg);
        let content = vec![0x42u8; 10_000];
        let env = seal(
            p.as_ref(),
            &[a.enc_cert.clone(), b.enc_cert.clone()],
            &content,
        )
        .unwrap();
        assert_eq!(
            *open(p.as_ref(), &env, &a.enc_cert, &a.enc_key).unwrap(),
            content
        );
        assert_eq!(
            *open(p.as_ref(), &env, &b.enc_cert, &b.enc_key).unwrap(),
            content
        );
        assert_eq!(recipients(&env).unwrap().len(), 2);
        let e = open(p.as_ref(), &env, &c.enc_cert, &c.enc_key).unwrap_err();
        assert_eq!(e.code(), ErrorCode::EnvelopeNoRecipient);
        assert!(e.to_string().contains(&a.enc_cert.serial_hex()), "{e}");
        // Signing certificates are not envelope recipients.
        let e = seal(p.as_ref(), std::slice::from_ref(&a.sign_cert), b"x").unwrap_err();
        assert_eq!(e.code(), ErrorCode::CertWrongUsage);
        // The content key alone opens it (the decrypt operation's path).
        let (serial, _) = encrypted_keys(&env).unwrap().into_iter().next().unwrap();
        assert!(serial == a.enc_cert.serial_hex() || serial == b.enc_cert.serial_hex());
        // Tampered ciphertext: padding or content fails; never the original content.
        let mut bad = env.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x80;
        match open(p.as_ref(), &bad, &a.enc_cert, &a.enc_key) {
            Ok(pt) => assert_ne!(*pt, content),
            Err(e) => assert_eq!(e.code(), ErrorCode::DecryptionFailed),
        }
    }
    let w = wallet(KeyAlgorithm::P256);
    assert_eq!(
        seal(p.as_ref(), std::slice::from_ref(&w.enc_cert), b"x")
            .unwrap_err()
            .code(),
        ErrorCode::UnsupportedAlgorithm
    );
}

fn seal_bytes(w: &Wallet, data: &[u8]) -> Vec<u8> {
    let p = default_provider();
    let mut out = Vec::new();
    let mut seen = 0;
    let n = seal_stream(
        p.as_ref(),
        std::slice::from_ref(&w.enc_cert),
        data,
        &mut out,
        &mut |d| seen = d,
    )
    .unwrap();
    assert_eq!(n, data.len() as u64);
    assert_eq!(seen, data.len() as u64);
    out
}

#[test]
fn bid_files_stream_round_trip_at_chunk_boundaries() {
    let p = default_provider();
    for alg in [KeyAlgorithm::Sm2, KeyAlgorithm::Rsa2048] {
        let w = wallet(alg);
        let c = CHUNK_SIZE as usize;
        for len in [0, 1, c - 1, c, c + 1, 3 * c] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let sealed = seal_bytes(&w, &data);
            let mut out = Vec::new();
            let n = open_stream(
                p.as_ref(),
                sealed.as_slice(),
                &mut out,
                KeySource::Wallet {
                    cert: &w.enc_cert,
                    key: &w.enc_key,
                },
                &mut |_| {},
            )
            .unwrap();
            assert_eq!(n, len as u64);
            assert_eq!(out, data, "{alg:?} {len}");
            let header = read_header(p.as_ref(), &mut sealed.as_slice()).unwrap();
            assert_eq!(header.recipients.len(), 1);
        }
    }
}

#[test]
fn bid_file_tampering_truncation_and_wrong_keys_are_refused() {
    let p = default_provider();
    let w = wallet(KeyAlgorithm::Sm2);
    let other = wallet(KeyAlgorithm::Sm2);
    let data = vec![7u8; 3 * CHUNK_SIZE as usize + 100];
    let sealed = seal_bytes(&w, &data);
    let open_with = |bytes: &[u8]| {
        let mut out = Vec::new();
        open_stream(
            p.as_ref(),
            bytes,
            &mut out,
            KeySource::Wallet {
                cert: &w.enc_cert,
                key: &w.enc_key,
            },
            &mut |_| {},
        )
    };
    open_with(&sealed).unwrap();
    let mut flipped = sealed.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 1;
    assert_eq!(
        open_with(&flipped).unwrap_err().code(),
        ErrorCode::SignatureInvalid
    );
    // Truncated at a chunk boundary (drop the final chunk of 100 bytes + 16-byte tag): detected.
    let truncated = &sealed[..sealed.len() - 116];
    assert_eq!(
        open_with(truncated).unwrap_err().code(),
        ErrorCode::SignatureInvalid
    );
    // Cut in the middle and extended: detected.
    assert!(open_with(&sealed[..sealed.len() - 50]).is_err());
    let mut extended = sealed.clone();
    extended.extend_from_slice(&[0u8; 20]);
    assert!(open_with(&extended).is_err());
    // Another wallet is not a recipient; a wrong content key fails authentication.
    let mut out = Vec::new();
    let e = open_stream(
        p.as_ref(),
        sealed.as_slice(),
        &mut out,
        KeySource::Wallet {
            cert: &other.enc_cert,
            key: &other.enc_key,
        },
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::EnvelopeNoRecipient);
    let e = open_stream(
        p.as_ref(),
        sealed.as_slice(),
        &mut Vec::new(),
        KeySource::ContentKey(&[0u8; 16]),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureInvalid);
    // Garbage and empty inputs.
    for bad in [
        &b""[..],
        b"CAMRBID1",
        b"CAMRBID1\xff\xff\xff\xff",
        b"garbage garbage",
    ] {
        assert_eq!(
            open_with(bad).unwrap_err().code(),
            ErrorCode::EnvelopeMalformed
        );
    }
}

#[test]
fn bid_file_streams_in_bounded_memory() {
    // A reader that hands out 5 MiB without holding it, and a writer that only counts:
    // sealing and opening must work through them (no whole-file buffers anywhere).
    struct Gen(u64);
    impl std::io::Read for Gen {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = (buf.len() as u64).min(self.0) as usize;
            buf[..n].fill(0x5a);
            self.0 -= n as u64;
            Ok(n)
        }
    }
    struct Tee(std::fs::File, u64);
    impl std::io::Write for Tee {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.1 = self.1.max(b.len() as u64);
            self.0.write(b)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.0.flush()
        }
    }
    let p = default_provider();
    let w = wallet(KeyAlgorithm::Sm2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bid.env");
    let mut tee = Tee(std::fs::File::create(&path).unwrap(), 0);
    let size = 5 * 1024 * 1024;
    seal_stream(
        p.as_ref(),
        std::slice::from_ref(&w.enc_cert),
        Gen(size),
        &mut tee,
        &mut |_| {},
    )
    .unwrap();
    assert!(
        tee.1 <= CHUNK_SIZE as u64 + 16 + 4096,
        "largest single write {} bytes",
        tee.1
    );
    let mut count = Tee(std::fs::File::create(dir.path().join("out")).unwrap(), 0);
    let n = open_stream(
        p.as_ref(),
        std::fs::File::open(&path).unwrap(),
        &mut count,
        KeySource::Wallet {
            cert: &w.enc_cert,
            key: &w.enc_key,
        },
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(n, size);
    assert!(
        count.1 <= CHUNK_SIZE as u64,
        "largest single write {} bytes",
        count.1
    );
}
