//! Figures of a run: per kind of job, throughput, latency percentiles, failures by code, and
//! the HTTP statuses (5xx and 429 apart).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::client::{Attempt, Kind};

/// The figures of one kind of job (or of all).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    /// Jobs run.
    pub jobs: usize,
    /// Jobs that succeeded end to end.
    pub ok: usize,
    /// Succeeded jobs per second of the whole run.
    pub per_second: f64,
    /// Latency of succeeded jobs, milliseconds.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// Failed jobs by error code.
    pub errors: BTreeMap<String, usize>,
}

/// HTTP statuses over every request of the run.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Statuses {
    /// Requests answered.
    pub requests: usize,
    /// Answers 500–599 (must be 0).
    pub server_errors: usize,
    /// 429 from the rate limiter (by design, counted apart).
    pub rate_limited: usize,
    /// Every status with its count.
    pub by_status: BTreeMap<u16, usize>,
}

/// Figures per kind, in total, and the statuses.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Per kind of job.
    pub kinds: BTreeMap<&'static str, Figures>,
    /// All jobs.
    pub total: Figures,
    /// HTTP statuses.
    pub http: Statuses,
}

/// The summary of `attempts` run in `elapsed`.
pub fn summarize(attempts: &[Attempt], elapsed: Duration) -> Summary {
    let mut kinds = BTreeMap::new();
    for kind in [Kind::Login, Kind::MessageSignature, Kind::BidFile] {
        let of: Vec<&Attempt> = attempts.iter().filter(|a| a.kind == kind).collect();
        if !of.is_empty() {
            kinds.insert(kind.name(), figures(&of, elapsed));
        }
    }
    let all: Vec<&Attempt> = attempts.iter().collect();
    let mut http = Statuses::default();
    for s in attempts.iter().flat_map(|a| a.statuses.iter().copied()) {
        http.requests += 1;
        *http.by_status.entry(s).or_default() += 1;
        if (500..600).contains(&s) {
            http.server_errors += 1;
        } else if s == 429 {
            http.rate_limited += 1;
        }
    }
    Summary {
        kinds,
        total: figures(&all, elapsed),
        http,
    }
}

fn figures(of: &[&Attempt], elapsed: Duration) -> Figures {
    let mut ms: Vec<f64> = of
        .iter()
        .filter(|a| a.outcome.is_ok())
        .map(|a| a.latency.as_secs_f64() * 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    let mut errors = BTreeMap::new();
    for a in of {
        if let Err(e) = &a.outcome {
            *errors.entry(e.to_string()).or_default() += 1;
        }
    }
    let secs = elapsed.as_secs_f64().max(1e-9);
    Figures {
        jobs: of.len(),
        ok: ms.len(),
        per_second: ms.len() as f64 / secs,
        p50_ms: percentile(&ms, 50.0),
        p95_ms: percentile(&ms, 95.0),
        p99_ms: percentile(&ms, 99.0),
        max_ms: ms.last().copied().unwrap_or(0.0),
        errors,
    }
}

/// Nearest-rank percentile of sorted values (0 for none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.clamp(1, sorted.len()) - 1)
        .copied()
        .unwrap_or(0.0)
}

/// The summary as a Markdown table (one row per kind and a total), then the statuses.
pub fn table(s: &Summary) -> String {
    let mut out = String::from(
        "| jobs | run | ok | per second | p50 ms | p95 ms | p99 ms | max ms | errors |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let rows = s.kinds.iter().map(|(k, f)| (*k, f));
    for (name, f) in rows.chain(std::iter::once(("**all**", &s.total))) {
        let errors = if f.errors.is_empty() {
            "none".to_string()
        } else {
            f.errors
                .iter()
                .map(|(code, n)| format!("{code} × {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out += &format!(
            "| {name} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {errors} |\n",
            f.jobs, f.ok, f.per_second, f.p50_ms, f.p95_ms, f.p99_ms, f.max_ms
        );
    }
    out += &format!(
        "\nHTTP: {} requests, {} × 5xx, {} × 429 (rate limiter, by design); statuses: {}\n",
        s.http.requests,
        s.http.server_errors,
        s.http.rate_limited,
        s.http
            .by_status
            .iter()
            .map(|(st, n)| format!("{st} × {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 95.0), 7.0);
        assert_eq!(percentile(&[], 95.0), 0.0);
    }
}
