//! Per-use billing (按量扣费): after an answer is verified, the usage record the core stored
//! for it is reported to the vendor's adapter (`report_usage`) — off the request path, in a
//! task of its own. The user's operation never waits for it and never fails because of it: a
//! failing report is logged (`warn`), and the record stays in the platform's store, where the
//! usage report (扫码报告, `GET /api/v1/reports/usage.csv`) lists it for reconciliation.
//!
//! Only adapters given a configuration (`plugins.config`) are reported to: an adapter without
//! one has no vendor cloud to bill.
//!
//! Reports to one vendor run one at a time; after a failed one, that vendor's reports pause
//! for [`PAUSE`] (skipped, logged). So a billing outage costs at most one failed adapter call
//! per pause, and cannot pile up the consecutive failures that would open the plugin host's
//! circuit breaker for the vendor — which would also stop its `decode_evidence`, i.e. the
//! users' logins.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use camr::protocol::Tid;

use crate::AppState;

/// How long a vendor's reports pause after one failed.
pub const PAUSE: Duration = Duration::from_secs(30);

type Gate = Arc<tokio::sync::Mutex<Option<Instant>>>;

/// The vendors reported to and one gate per vendor (reports in turn, the pause).
#[derive(Debug, Default)]
pub struct Billing {
    vendors: Vec<String>,
    gates: Mutex<HashMap<String, Gate>>,
}

impl Billing {
    /// Reports go to the adapters of `vendors` (those with a configuration).
    pub fn new(vendors: impl IntoIterator<Item = String>) -> Self {
        Self {
            vendors: vendors.into_iter().collect(),
            gates: Mutex::new(HashMap::new()),
        }
    }

    fn gate(&self, vendor: &str) -> Gate {
        self.gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(vendor.to_string())
            .or_default()
            .clone()
    }
}

/// Reports the usage record of the verified transaction `tid` to the adapter of `vendor`,
/// when one is loaded, in a task of its own (fire and forget).
pub fn report_verified(state: &Arc<AppState>, tid: &Tid, vendor: &str) {
    let Some(host) = &state.plugins else {
        return;
    };
    if !state.billing.vendors.iter().any(|v| v == vendor)
        || !host.vendors().iter().any(|v| v == vendor)
    {
        return;
    }
    let (state, tid, vendor) = (state.clone(), tid.clone(), vendor.to_string());
    tokio::spawn(async move {
        let gate = state.billing.gate(&vendor);
        let mut paused_until = gate.lock().await;
        let record = match state.store.usage().await {
            Ok(records) => records.into_iter().rev().find(|r| r.tid == tid),
            Err(e) => {
                tracing::warn!(%tid, vendor, error = %e, "usage record not read; not reported");
                return;
            }
        };
        // A seal session's authorisation, say, counts no use.
        let Some(record) = record else {
            return;
        };
        if paused_until.is_some_and(|t| t > Instant::now()) {
            tracing::warn!(%tid, vendor, "billing report skipped: the vendor's last report failed; the record stays in the usage report");
            return;
        }
        let reporter = state.clone();
        let v = vendor.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            reporter
                .plugins
                .as_ref()
                .map(|host| host.report_usage(&v, &record))
        })
        .await;
        match outcome {
            Ok(Some(Ok(()))) => {
                *paused_until = None;
                tracing::debug!(%tid, vendor, "usage reported");
            }
            Ok(Some(Err(e))) => {
                *paused_until = Some(Instant::now() + PAUSE);
                tracing::warn!(%tid, vendor, error = %e, "billing report failed (the operation went ahead)");
            }
            Ok(None) => {}
            Err(e) => {
                *paused_until = Some(Instant::now() + PAUSE);
                tracing::warn!(%tid, vendor, error = %e, "billing report task failed");
            }
        }
    });
}
