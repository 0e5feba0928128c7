//! What a platform plugs around the core, each behind a small trait: the vendor adapters
//! that read an app's evidence ([`EvidenceDecoder`]), per-use billing ([`UsageSink`]) and
//! whoever follows transactions' states ([`StateObserver`]: status pages, webhooks; fed by
//! the store, see [`crate::store::open`]).
//!
//! `camr_plugin_host::PluginHost` implements the first two for adapter `.so` files; a
//! platform may as well plug statically linked adapters. The calls are blocking (an
//! adapter may talk to its vendor's cloud): the platform makes them off the async executor.

use crate::protocol::{ErrorCode, Evidence, Operation, UsageRecord};

/// A hook's failure: a stable error code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HookError {
    /// The stable error code (e.g. `ADAPTER_UNAVAILABLE`, `ADAPTER_TIMEOUT`).
    pub code: ErrorCode,
    /// What went wrong.
    pub message: String,
}

impl HookError {
    /// An error with its code.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Runs `call` off the async executor (it may block: an adapter waiting for its vendor's
/// cloud, a revocation source fetching a CRL); without a tokio runtime, here. `what` names
/// the call in the error if its thread fails.
pub(super) async fn off_executor<T: Send + 'static>(
    what: &str,
    call: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HookError> {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => tokio::task::spawn_blocking(call)
            .await
            .map_err(|e| HookError::new(ErrorCode::Internal, format!("{what} failed: {e}"))),
        Err(_) => Ok(call()),
    }
}

/// Reads a vendor app's answer (adapters translate, the core verifies): the vendor's own wire
/// format, or camr's evidence JSON, into [`Evidence`] that the platform then verifies itself.
/// With a decoder, every answer goes through the vendor's adapter, and a vendor without one is
/// refused.
pub trait EvidenceDecoder: Send + Sync + std::fmt::Debug {
    /// Translates `raw` (what the app sent for `operation`) through the adapter of vendor
    /// `ca_org_type` (CA 机构代码). Blocking; bounded by the decoder's own deadline.
    fn decode(
        &self,
        ca_org_type: &str,
        operation: Operation,
        raw: &[u8],
    ) -> Result<Evidence, HookError>;
}

/// Per-use billing (按量扣费): told of each use after the answer is verified and recorded.
pub trait UsageSink: Send + Sync + std::fmt::Debug {
    /// Whether uses of vendor `ca_org_type` are reported (its adapter is loaded and has a
    /// vendor cloud to bill).
    fn bills(&self, ca_org_type: &str) -> bool;

    /// Reports one use to the vendor. Blocking; the platform calls it off the request path
    /// ([`super::Billing`]).
    fn report(&self, ca_org_type: &str, record: &UsageRecord) -> Result<(), HookError>;
}

pub use crate::store::StateObserver;
