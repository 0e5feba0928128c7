#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use crate::crypto::{KeyAlgorithm, default_provider};
use crate::softca::Holder;

/// A vendor signer for the tests: the wallet's keys (or `other`'s), counting its calls,
/// or failing.
#[derive(Debug)]
struct Counting {
    keys: WalletKeys,
    other: Option<Wallet>,
    fail: bool,
    calls: std::sync::atomic::AtomicUsize,
}

impl ItemSigner for Counting {
    fn sign(&self, wallet: &Wallet, message: &[u8]) -> Result<Vec<u8>, AppError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if self.fail {
            return Err(AppError::Signer {
                code: ErrorCode::AdapterUnavailable,
                msg: "the vendor cloud is down".into(),
            });
        }
        self.keys
            .sign(self.other.as_ref().unwrap_or(wallet), message)
    }
    fn decrypt(&self, wallet: &Wallet, ciphertext: &[u8]) -> Result<SecretBytes, AppError> {
        self.keys.decrypt(wallet, ciphertext)
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[test]
fn a_vendor_signer_makes_every_signature_and_its_failure_stops_the_answer() {
    use crate::ceremony::{Platform, PlatformIdentity, verify_signed_request};
    let p = default_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut ca = crate::softca::test_ca(dir.path(), "Signer CA");
    let holder = |name: &str| Holder::personal(name);
    ca.issue(&holder("张三"), b"123456", &dir.path().join("w"), 30)
        .unwrap();
    ca.issue(&holder("李四"), b"123456", &dir.path().join("w2"), 30)
        .unwrap();
    let wallet = Wallet::open(&dir.path().join("w"), b"123456").unwrap();
    let other = Wallet::open(&dir.path().join("w2"), b"123456").unwrap();
    let mut trust = crate::pki::TrustStore::new();
    trust.add(ca.root().clone());
    let platform = Platform::new(
        p.clone(),
        PlatformIdentity {
            system_code: crate::protocol::SystemCode::parse("C1100005553").unwrap(),
            system_name: "测试平台".into(),
            request_uri_prefix: "https://platform.example/camr/v1/request/".into(),
            response_uri: "https://platform.example/camr/v1/response".into(),
        },
        p.generate_key(KeyAlgorithm::Sm2).unwrap(),
        None,
        std::sync::Arc::new(crate::store::MemoryStore::new()),
        std::sync::Arc::new(crate::pki::ChainValidator::new(p.clone(), trust)),
    )
    .unwrap();
    let scan = || {
        let started = block_on(platform.start_message_signature("报价 100 元")).unwrap();
        let signed = block_on(platform.request(&started.transaction.tid)).unwrap();
        let request = verify_signed_request(p.as_ref(), &signed, &platform.public_key()).unwrap();
        (started.transaction.tid, signed, request)
    };
    let signer = |other: Option<Wallet>, fail: bool| {
        Arc::new(Counting {
            keys: WalletKeys(p.clone()),
            other,
            fail,
            calls: std::sync::atomic::AtomicUsize::new(0),
        })
    };
    // The binding and the message both go through the signer; the platform accepts.
    let counting = signer(None, false);
    let app = App::new(p.clone(), "SOFTCA").with_signer(counting.clone());
    assert_eq!(app.ca_org_type(), "SOFTCA");
    let (tid, signed, request) = scan();
    let answer = app.approve(&wallet, &signed, &request, &[]).unwrap();
    assert_eq!(counting.calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    block_on(platform.answer(&tid, &answer)).unwrap();
    // A signer whose signatures are not the certificate's key's: refused by the platform.
    let wrong = App::new(p.clone(), "SOFTCA").with_signer(signer(Some(other), false));
    let (tid, signed, request) = scan();
    let answer = wrong.approve(&wallet, &signed, &request, &[]).unwrap();
    let e = block_on(platform.answer(&tid, &answer)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureInvalid);
    // A failing signer: no answer at all, approve and reject alike, with its code.
    let failing = App::new(p.clone(), "SOFTCA").with_signer(signer(None, true));
    let (_, signed, request) = scan();
    for e in [
        failing
            .approve(&wallet, &signed, &request, &[])
            .unwrap_err(),
        failing
            .reject(&wallet, &signed, &request, "不同意")
            .unwrap_err(),
    ] {
        assert_eq!(e.code(), ErrorCode::AdapterUnavailable, "{e}");
        assert!(e.to_string().contains("cloud is down"), "{e}");
    }
}

#[test]
fn five_wrong_pins_lock_the_wallet_and_a_right_pin_resets_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = crate::softca::test_ca(dir.path(), "PIN CA");
    let holder = Holder::personal("赵六");
    let w = dir.path().join("w");
    ca.issue(&holder, b"135790", &w, 30).unwrap();
    for left in [4, 3] {
        assert_eq!(
            Wallet::unlock(&w, b"000000").unwrap_err(),
            AppError::WrongPin { left }
        );
    }
    Wallet::unlock(&w, b"135790").unwrap();
    for left in [4, 3, 2, 1] {
        assert_eq!(
            Wallet::unlock(&w, b"000000").unwrap_err(),
            AppError::WrongPin { left }
        );
    }
    let e = Wallet::unlock(&w, b"000000").unwrap_err();
    assert_eq!(e.code(), ErrorCode::PinLocked);
    // Locked: even the right PIN is refused now.
    assert_eq!(
        Wallet::unlock(&w, b"135790").unwrap_err().code(),
        ErrorCode::PinLocked
    );
    assert!(matches!(
        Wallet::unlock(&dir.path().join("none"), b"1").unwrap_err(),
        AppError::Wallet(_)
    ));
}
