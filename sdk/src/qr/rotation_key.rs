//! The platform's rotation key: per-transaction secrets of rotating QR codes
//! ([`RotatingQr`]) derived from one key, HMAC-SM3(key, tid), so nothing more is stored per
//! transaction and every instance holding the key checks codes another one showed.

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::crypto::{CryptoProvider, HashAlgorithm};
use crate::protocol::{QrPayload, QrRotation, Transaction};

use super::{DEFAULT_ROTATION_WINDOW_SECS, QrError, RotatingQr};

/// Length of a rotation key, bytes.
pub const ROTATION_KEY_LEN: usize = 32;

/// The key and the window (how old a scanned code may be, seconds).
#[derive(Clone)]
pub struct RotationKey {
    provider: Arc<dyn CryptoProvider>,
    key: Arc<Zeroizing<Vec<u8>>>,
    window_secs: u32,
}

impl std::fmt::Debug for RotationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotationKey")
            .field("window_secs", &self.window_secs)
            .finish_non_exhaustive()
    }
}

impl RotationKey {
    /// A rotation key of [`ROTATION_KEY_LEN`] bytes, with the default window.
    pub fn new(provider: Arc<dyn CryptoProvider>, key: &[u8]) -> Result<Self, QrError> {
        if key.len() != ROTATION_KEY_LEN {
            return Err(QrError::RotationInvalid {
                reason: "a rotation key is 32 bytes",
            });
        }
        Ok(Self {
            provider,
            key: Arc::new(Zeroizing::new(key.to_vec())),
            window_secs: DEFAULT_ROTATION_WINDOW_SECS,
        })
    }

    /// A fresh random key (to be kept by the caller, e.g. in a file of mode 600).
    pub fn generate(
        provider: Arc<dyn CryptoProvider>,
    ) -> crate::Result<(Self, Zeroizing<Vec<u8>>)> {
        let mut k = Zeroizing::new(vec![0u8; ROTATION_KEY_LEN]);
        provider.fill_random(&mut k)?;
        let key = Self::new(provider, &k)?;
        Ok((key, k))
    }

    /// Changes the window, seconds.
    pub fn with_window(mut self, window_secs: u32) -> Self {
        self.window_secs = window_secs;
        self
    }

    /// How old a scanned code may be, seconds.
    pub fn window_secs(&self) -> u32 {
        self.window_secs
    }

    fn rotating(&self, payload: QrPayload, tx: &Transaction) -> RotatingQr {
        let secret = self
            .provider
            .hmac(HashAlgorithm::Sm3, &self.key, tx.tid.as_str().as_bytes());
        let mut s = Zeroizing::new([0u8; 32]);
        for (d, b) in s.iter_mut().zip(secret.iter()) {
            *d = *b;
        }
        RotatingQr::with_secret(self.provider.clone(), payload, tx.created_at, s)
            .with_window(self.window_secs)
    }

    /// The code to show at `now` for a signed payload of `tx`.
    pub fn code_now(&self, payload: QrPayload, tx: &Transaction, now: i64) -> QrPayload {
        self.rotating(payload, tx).code_now(now)
    }

    /// Checks the live part the app presented for `tx` (the MAC covers the tid and the
    /// step; the signed part is not needed).
    pub fn verify(&self, tx: &Transaction, rot: &QrRotation, now: i64) -> Result<(), QrError> {
        let payload = QrPayload {
            version: super::PAYLOAD_VERSION,
            tid: tx.tid.clone(),
            operation: tx.operation,
            expires_at: tx.expires_at,
            key_id: String::new(),
            request_uri: String::new(),
            signature: crate::protocol::Bytes(Vec::new()),
            rotation: None,
        };
        self.rotating(payload, tx).verify_rotation(rot, now)
    }
}
