//! Rotating QR codes (threat 2, real-time QR relay): every QR the server shows carries a
//! live part — the seconds since the transaction started and an HMAC-SM3 over the tid and
//! that step — that changes each second ([`camr::qr::RotatingQr`]). The app sends the part
//! it scanned with its request fetch (`GET /camr/v1/request/{tid}?rot=STEP.MAC`), and the
//! server refuses a code older than the window, so a screenshot relayed to a victim dies
//! quickly. The signed part of the QR is unchanged, so apps that verify it still do.
//!
//! Per-transaction secrets are derived from one server key (`<data>/qr-rotation.key`,
//! HMAC-SM3(key, tid)), so nothing more is stored per transaction and every instance that
//! shares the key (same data folder or key file) checks codes another one showed.

use std::path::Path;
use std::sync::Arc;

use camr::crypto::{CryptoProvider, HashAlgorithm};
use camr::protocol::{QrPayload, QrRotation, Transaction};
use camr::qr::{QrError, RotatingQr};
use zeroize::Zeroizing;

use crate::ServerError;

/// The rotation key and policy.
pub struct Rotation {
    provider: Arc<dyn CryptoProvider>,
    key: Zeroizing<Vec<u8>>,
    /// How old a scanned code may be, seconds.
    pub window_secs: u32,
}

impl std::fmt::Debug for Rotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rotation")
            .field("window_secs", &self.window_secs)
            .finish_non_exhaustive()
    }
}

impl Rotation {
    /// Loads `<data>/qr-rotation.key`, making it (32 random bytes, mode 600) when absent.
    pub fn load_or_create(
        provider: Arc<dyn CryptoProvider>,
        data: &Path,
        window_secs: u32,
    ) -> Result<Self, ServerError> {
        let path = data.join("qr-rotation.key");
        let key = match std::fs::read(&path) {
            Ok(k) if k.len() == 32 => k,
            Ok(k) => {
                return Err(ServerError(format!(
                    "{} holds {} bytes; a QR rotation key is 32 bytes (delete it to make a new one)",
                    path.display(),
                    k.len()
                )));
            }
            Err(_) => {
                let mut k = vec![0u8; 32];
                provider
                    .fill_random(&mut k)
                    .map_err(|e| ServerError(format!("cannot make the QR rotation key: {e}")))?;
                crate::demo::write_secret(&path, &k)?;
                k
            }
        };
        Ok(Self {
            provider,
            key: Zeroizing::new(key),
            window_secs,
        })
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

    /// The code to show now for a signed payload of `tx`.
    pub fn code_now(&self, payload: QrPayload, tx: &Transaction, now: i64) -> QrPayload {
        self.rotating(payload, tx).code_now(now)
    }

    /// Checks the live part the app presented for `tx`.
    pub fn verify(
        &self,
        payload: QrPayload,
        tx: &Transaction,
        rot: &QrRotation,
        now: i64,
    ) -> Result<(), QrError> {
        self.rotating(payload, tx).verify_rotation(rot, now)
    }
}
