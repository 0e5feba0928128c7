//! The endpoint's state: the platform's interlink encryption key (`<data>/interlink-key.pem`)
//! and the callbacks received, kept as records in the store.

use std::path::Path;
use std::sync::Arc;

use camr::crypto::{CryptoProvider, KeyAlgorithm, PrivateKey, PublicKeyAlgorithm};
use camr::protocol::{ErrorCode, Tid};
use camr::store::{RecordStore, StoreError, Versioned};

use super::CallbackRecord;
use crate::api::ApiError;

/// How many callbacks of one transaction are kept for `getScanInfo`.
pub const MAX_CALLBACKS: usize = 64;
/// Days a transaction's callback record is kept.
pub const RECORD_DAYS: i64 = 7;
/// The record kind of callback records.
const CALLBACKS: &str = "interlink-callbacks";
/// File of the platform's interlink encryption key under the data folder.
pub const KEY_FILE: &str = "interlink-key.pem";

/// The state of the endpoint: the platform's interlink encryption key and the callbacks seen.
#[derive(Debug)]
pub struct Compat {
    key: Result<PrivateKey, String>,
    records: Arc<dyn RecordStore>,
}

impl Compat {
    /// Loads `<data>/interlink-key.pem` (SM2, PKCS#8 PEM), making it (mode 600) when absent;
    /// callbacks are recorded in `records`. A key failure is kept and answered by every call
    /// that needs the key.
    pub fn load(
        provider: &Arc<dyn CryptoProvider>,
        data: &Path,
        records: Arc<dyn RecordStore>,
    ) -> Self {
        Self {
            key: load_key(provider, &data.join(KEY_FILE)),
            records,
        }
    }

    pub(super) fn key(&self) -> Result<&PrivateKey, ApiError> {
        self.key.as_ref().map_err(|e| {
            ApiError::new(
                ErrorCode::Internal,
                format!("the interlink encryption key is unavailable: {e}"),
            )
        })
    }

    /// Appends a callback to the transaction's record (kept [`RECORD_DAYS`] days, the last
    /// [`MAX_CALLBACKS`]); a store failure is logged, never answered.
    pub(super) async fn record(&self, tid: &Tid, record: CallbackRecord) {
        let store = self.records.as_ref();
        let expires_at = record.received_at + RECORD_DAYS * 86_400;
        for _ in 0..3 {
            let appended = Versioned::<Vec<CallbackRecord>>::update(
                store,
                CALLBACKS,
                tid.as_str(),
                |_| expires_at,
                |list| {
                    list.push(record.clone());
                    if list.len() > MAX_CALLBACKS {
                        list.remove(0);
                    }
                    Ok::<_, StoreError>(())
                },
            )
            .await;
            let outcome = match appended {
                Ok(Some(_)) => return,
                Ok(None) => Versioned::create(
                    store,
                    CALLBACKS,
                    tid.as_str(),
                    vec![record.clone()],
                    expires_at,
                )
                .await
                .map(|_| ()),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(()) => return,
                // Another instance recorded one at the same moment: append to it.
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => {
                    tracing::warn!(%tid, error = %e, "interlink callback not recorded");
                    return;
                }
            }
        }
    }

    pub(super) async fn records(&self, tid: &Tid) -> Vec<CallbackRecord> {
        Versioned::<Vec<CallbackRecord>>::load(self.records.as_ref(), CALLBACKS, tid.as_str())
            .await
            .ok()
            .flatten()
            .map(|v| v.value)
            .unwrap_or_default()
    }
}

fn load_key(provider: &Arc<dyn CryptoProvider>, path: &Path) -> Result<PrivateKey, String> {
    let key = match std::fs::read(path) {
        Ok(pem) => PrivateKey::from_bytes(&pem, None)
            .map_err(|e| format!("{} cannot be read as a key: {e}", path.display()))?,
        Err(_) => {
            let k = provider
                .generate_key(KeyAlgorithm::Sm2)
                .map_err(|e| e.to_string())?;
            let pem = k.to_pkcs8_pem().map_err(|e| e.to_string())?;
            match crate::demo::write_secret(path, pem.as_bytes()) {
                Ok(()) => k,
                // Another router of this data folder made it meanwhile: use that one.
                Err(e) => std::fs::read(path)
                    .ok()
                    .and_then(|pem| PrivateKey::from_bytes(&pem, None).ok())
                    .ok_or(e.0)?,
            }
        }
    };
    if key.algorithm() != PublicKeyAlgorithm::Sm2 {
        return Err(format!(
            "{} is not an SM2 key; callbacks wrap their SM4 key with SM2",
            path.display()
        ));
    }
    Ok(key)
}
