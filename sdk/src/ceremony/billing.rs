//! Per-use billing (按量扣费) off the request path: after an answer is verified, its usage
//! record goes to the [`UsageSink`] in a task of its own. The user's operation never waits
//! for it and never fails because of it; a failed report is logged and the record stays in
//! the store, where the usage report (扫码报告) lists it for reconciliation.
//!
//! Reports to one vendor run one at a time; after a failed one, that vendor's reports pause
//! for [`BILLING_PAUSE`] (skipped, logged). So a billing outage costs at most one failed
//! adapter call per pause and cannot open the adapter's circuit breaker, which would also stop
//! its evidence decoding, i.e. the users' logins. At most [`MAX_QUEUED`] reports wait at
//! once; beyond that they are skipped (logged), so a stalled vendor cannot pile up tasks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::protocol::UsageRecord;

use super::hooks::UsageSink;

/// How long a vendor's reports pause after one failed.
pub const BILLING_PAUSE: Duration = Duration::from_secs(30);

/// Reports waiting or running at once, all vendors together.
const MAX_QUEUED: usize = 1024;

type Gate = Arc<tokio::sync::Mutex<Option<Instant>>>;

/// The usage sink and its per-vendor gates.
#[derive(Debug, Clone)]
pub struct Billing {
    sink: Arc<dyn UsageSink>,
    gates: Arc<Mutex<HashMap<String, Gate>>>,
    queued: Arc<AtomicUsize>,
    pause: Duration,
}

impl Billing {
    /// Billing through `sink`.
    pub fn new(sink: Arc<dyn UsageSink>) -> Self {
        Self {
            sink,
            gates: Arc::default(),
            queued: Arc::default(),
            pause: BILLING_PAUSE,
        }
    }

    /// Changes the pause after a failed report (tests).
    pub fn with_pause(mut self, pause: Duration) -> Self {
        self.pause = pause;
        self
    }

    fn gate(&self, vendor: &str) -> Gate {
        self.gates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(vendor.to_string())
            .or_default()
            .clone()
    }

    /// Reports `record` in a task of its own (fire and forget). Needs a tokio runtime; a
    /// record of a vendor the sink does not bill is left alone.
    pub fn report(&self, record: UsageRecord) {
        let vendor = record.ca_org_type.clone();
        if !self.sink.bills(&vendor) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(tid = %record.tid, vendor, "billing report skipped: no async runtime");
            return;
        };
        if self.queued.fetch_add(1, Ordering::SeqCst) >= MAX_QUEUED {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(tid = %record.tid, vendor, "billing report skipped: {MAX_QUEUED} reports are queued already; the record stays in the usage report");
            return;
        }
        let this = self.clone();
        runtime.spawn(async move {
            this.deliver(vendor, record).await;
            this.queued.fetch_sub(1, Ordering::SeqCst);
        });
    }

    async fn deliver(&self, vendor: String, record: UsageRecord) {
        let gate = self.gate(&vendor);
        let mut paused_until = gate.lock().await;
        let tid = record.tid.clone();
        if paused_until.is_some_and(|t| t > Instant::now()) {
            tracing::warn!(%tid, vendor, "billing report skipped: the vendor's last report failed; the record stays in the usage report");
            return;
        }
        let (sink, v) = (self.sink.clone(), vendor.clone());
        let outcome = tokio::task::spawn_blocking(move || sink.report(&v, &record)).await;
        match outcome {
            Ok(Ok(())) => {
                *paused_until = None;
                tracing::debug!(%tid, vendor, "usage reported");
            }
            Ok(Err(e)) => {
                *paused_until = Some(Instant::now() + self.pause);
                tracing::warn!(%tid, vendor, code = %e.code, error = %e, "billing report failed (the operation went ahead)");
            }
            Err(e) => {
                *paused_until = Some(Instant::now() + self.pause);
                tracing::warn!(%tid, vendor, error = %e, "billing report task failed");
            }
        }
    }
}
