//! `GET /metrics` in the Prometheus text exposition format 0.0.4.
//!
//! Written by hand rather than with `prometheus-client`: that crate encodes OpenMetrics 1.0
//! (`# EOF`, `_total` rules of its own, `application/openmetrics-text`), not the 0.0.4 text
//! format asked for, and the set here is a dozen counters and gauges kept in a few maps.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `camr_build_info` | gauge (1) | `version`, `instance` |
//! | `camr_http_requests_total` | counter | `method`, `route` (the route template, `unmatched` for 404s), `status` |
//! | `camr_transactions_started_total` | counter | `operation` |
//! | `camr_transactions_finished_total` | counter | `operation`, `state` (answers: `verified`, `rejected`, `failed`; also `cancelled`, `expired`) |
//! | `camr_rate_limited_total` | counter | |
//! | `camr_webhook_deliveries_total` | counter | `result` (`delivered`, `failed`, `dropped`: queue full) |
//! | `camr_webhook_attempts_total` | counter | |
//! | `camr_events_missed_total` | counter | events this instance's consumer skipped because it lagged |
//! | `camr_adapter_up` | gauge | `ca_org_type` (1 when the breaker is closed) |
//! | `camr_adapter_calls_total`, `_failures_total`, `_timeouts_total`, `_panics_total`, `_refused_total` | counter | `ca_org_type` |
//! | `camr_adapter_in_flight` | gauge | `ca_org_type` |
//!
//! Transactions are counted from the instance's own committed changes (the event bus), so
//! several instances behind one database each count their own.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use camr_plugin_host::{AdapterHealth, BreakerState};

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Vec<(&'static str, String)>;

/// Counters of one family, by label values.
#[derive(Debug, Default)]
struct Family(Mutex<BTreeMap<Vec<String>, u64>>);

impl Family {
    fn inc(&self, values: Vec<String>) {
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(values)
            .or_insert(0) += 1;
    }

    fn snapshot(&self) -> Vec<(Vec<String>, u64)> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Family,
    started: Family,
    finished: Family,
    rate_limited: AtomicU64,
    webhook: Family,
    webhook_attempts: AtomicU64,
    events_missed: AtomicU64,
}

/// Escapes a label value (backslash, double quote, newline).
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// One unlabelled counter in the text format (its `# HELP` and `# TYPE` lines and value).
pub fn counter_text(name: &str, help: &str, value: u64) -> String {
    let mut out = String::new();
    header(&mut out, name, "counter", help);
    sample(&mut out, name, &Vec::new(), value);
    out
}

fn sample(out: &mut String, name: &str, labels: &Labels, value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn family(out: &mut String, name: &str, help: &str, keys: &[&'static str], f: &Family) {
    header(out, name, "counter", help);
    for (values, n) in f.snapshot() {
        let labels: Labels = keys.iter().copied().zip(values).collect();
        sample(out, name, &labels, n);
    }
}

impl Metrics {
    /// One answered HTTP request.
    pub fn request(&self, method: &str, route: &str, status: u16) {
        self.requests.inc(vec![
            method.to_string(),
            route.to_string(),
            status.to_string(),
        ]);
    }

    /// A transaction started here.
    pub fn started(&self, operation: &str) {
        self.started.inc(vec![operation.to_string()]);
    }

    /// A transaction of this instance reached a final state.
    pub fn finished(&self, operation: &str, state: &str) {
        self.finished
            .inc(vec![operation.to_string(), state.to_string()]);
    }

    /// A start refused by the rate limit.
    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// A webhook delivery ended: `delivered`, `failed` or `dropped`.
    pub fn webhook(&self, result: &'static str) {
        self.webhook.inc(vec![result.to_string()]);
    }

    /// One webhook attempt (a POST sent).
    pub fn webhook_attempt(&self) {
        self.webhook_attempts.fetch_add(1, Ordering::Relaxed);
    }

    /// Events skipped by a lagging consumer.
    pub fn events_missed(&self, n: u64) {
        self.events_missed.fetch_add(n, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self, version: &str, instance: &str, adapters: &[AdapterHealth]) -> String {
        let mut out = String::new();
        header(
            &mut out,
            "camr_build_info",
            "gauge",
            "Build and instance of this server.",
        );
        sample(
            &mut out,
            "camr_build_info",
            &vec![
                ("version", version.to_string()),
                ("instance", instance.to_string()),
            ],
            1,
        );
        family(
            &mut out,
            "camr_http_requests_total",
            "HTTP requests answered, by route template and status.",
            &["method", "route", "status"],
            &self.requests,
        );
        family(
            &mut out,
            "camr_transactions_started_total",
            "Transactions started on this instance, by operation.",
            &["operation"],
            &self.started,
        );
        family(
            &mut out,
            "camr_transactions_finished_total",
            "Transactions of this instance in a final state, by operation and state.",
            &["operation", "state"],
            &self.finished,
        );
        header(
            &mut out,
            "camr_rate_limited_total",
            "counter",
            "Transaction starts refused by the per-client rate limit.",
        );
        sample(
            &mut out,
            "camr_rate_limited_total",
            &Vec::new(),
            self.rate_limited.load(Ordering::Relaxed),
        );
        family(
            &mut out,
            "camr_webhook_deliveries_total",
            "Webhook deliveries ended, by result (delivered, failed, dropped).",
            &["result"],
            &self.webhook,
        );
        header(
            &mut out,
            "camr_webhook_attempts_total",
            "counter",
            "Webhook POSTs sent (first tries and retries).",
        );
        sample(
            &mut out,
            "camr_webhook_attempts_total",
            &Vec::new(),
            self.webhook_attempts.load(Ordering::Relaxed),
        );
        header(
            &mut out,
            "camr_events_missed_total",
            "counter",
            "Status events skipped by this instance's metrics and webhook consumer (it lagged).",
        );
        sample(
            &mut out,
            "camr_events_missed_total",
            &Vec::new(),
            self.events_missed.load(Ordering::Relaxed),
        );
        adapter_metrics(&mut out, adapters);
        out
    }
}

fn adapter_metrics(out: &mut String, adapters: &[AdapterHealth]) {
    let label = |a: &AdapterHealth| -> Labels { vec![("ca_org_type", a.ca_org_type.clone())] };
    header(
        out,
        "camr_adapter_up",
        "gauge",
        "1 when the adapter's circuit breaker is closed.",
    );
    for a in adapters {
        sample(
            out,
            "camr_adapter_up",
            &label(a),
            u8::from(a.breaker == BreakerState::Closed),
        );
    }
    header(
        out,
        "camr_adapter_in_flight",
        "gauge",
        "Adapter calls running now (hung ones included).",
    );
    for a in adapters {
        sample(out, "camr_adapter_in_flight", &label(a), a.in_flight);
    }
    type Counter = (&'static str, &'static str, fn(&AdapterHealth) -> u64);
    let counters: [Counter; 5] = [
        (
            "camr_adapter_calls_total",
            "Calls that reached the adapter.",
            |a| a.calls,
        ),
        (
            "camr_adapter_failures_total",
            "Failed adapter calls.",
            |a| a.failures,
        ),
        (
            "camr_adapter_timeouts_total",
            "Adapter calls past their deadline.",
            |a| a.timeouts,
        ),
        (
            "camr_adapter_panics_total",
            "Adapter calls that panicked.",
            |a| a.panics,
        ),
        (
            "camr_adapter_refused_total",
            "Adapter calls refused (breaker open, saturated).",
            |a| a.refused,
        ),
    ];
    for (name, help, value) in counters {
        header(out, name, "counter", help);
        for a in adapters {
            sample(out, name, &label(a), value(a));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn text_format_with_escaped_labels() {
        let m = Metrics::default();
        m.request("GET", "/a\"b\\c\nd", 200);
        m.request("GET", "/a\"b\\c\nd", 200);
        m.rate_limited();
        let text = m.render("0.1.0", "i1", &[]);
        assert!(text.contains("# TYPE camr_http_requests_total counter\n"));
        assert!(
            text.contains(
                "camr_http_requests_total{method=\"GET\",route=\"/a\\\"b\\\\c\\nd\",status=\"200\"} 2\n"
            ),
            "{text}"
        );
        assert!(text.contains("camr_rate_limited_total 1\n"));
        assert!(text.contains("camr_build_info{version=\"0.1.0\",instance=\"i1\"} 1\n"));
        for line in text.lines() {
            assert!(
                line.starts_with("# ") || line.starts_with("camr_"),
                "{line}"
            );
        }
    }
}
