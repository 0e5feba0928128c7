//! Rotating QR codes (threat 2, real-time QR relay): the platform ([`camr::qr::RotationKey`],
//! [`camr::ceremony::Platform::with_rotation`]) gives every code a live part that changes
//! each second and refuses a request fetch with a code older than the window. This server
//! keeps the key in `<data>/qr-rotation.key` (32 random bytes, mode 600), so every instance
//! that shares the data folder checks codes another one showed.

use std::path::Path;
use std::sync::Arc;

use camr::crypto::CryptoProvider;
use camr::qr::{ROTATION_KEY_LEN, RotationKey};

use crate::ServerError;

/// Loads `<data>/qr-rotation.key`, making it when absent.
pub fn load_or_create(
    provider: Arc<dyn CryptoProvider>,
    data: &Path,
    window_secs: u32,
) -> Result<RotationKey, ServerError> {
    let path = data.join("qr-rotation.key");
    let key = match std::fs::read(&path) {
        Ok(k) if k.len() == ROTATION_KEY_LEN => RotationKey::new(provider, &k),
        Ok(k) => {
            return Err(ServerError(format!(
                "{} holds {} bytes; a QR rotation key is {ROTATION_KEY_LEN} bytes (delete it to make a new one)",
                path.display(),
                k.len()
            )));
        }
        Err(_) => {
            let (key, bytes) = RotationKey::generate(provider)
                .map_err(|e| ServerError(format!("cannot make the QR rotation key: {e}")))?;
            crate::demo::write_secret(&path, &bytes)?;
            Ok(key)
        }
    };
    key.map(|k| k.with_window(window_secs))
        .map_err(|e| ServerError(format!("{}: {e}", path.display())))
}
