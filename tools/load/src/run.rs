//! A run: N client threads take jobs from one list until it is empty; the main thread shows
//! progress and, when asked, kills the server with SIGKILL at a random job count and starts
//! it again; then the store is checked.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::LoadError;
use crate::check::{CrashCheck, check_store};
use crate::client::{Attempt, Client, Failure, Kind, Shared};
use crate::server::Server;
use crate::stats::{Summary, summarize};

/// When to kill the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kill {
    /// After a random number of finished jobs, between a fifth and four fifths of the run.
    AtRandom,
    /// After exactly this many finished jobs.
    AfterJobs(usize),
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Logins.
    pub logins: usize,
    /// Message signatures.
    pub messages: usize,
    /// Small bid files sealed to the app's encryption certificate.
    pub bidfiles: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// A kill -9 in the middle, if any.
    pub kill: Option<Kill>,
}

/// What a kill did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KillReport {
    /// Jobs finished when the server was killed.
    pub after_jobs: usize,
    /// From the kill until the restarted server was ready, milliseconds.
    pub down_ms: f64,
    /// Jobs that lost their server in the middle (no answer): the crash's casualties.
    pub interrupted: usize,
}

/// Everything a run measured and found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// `SQLite` or `PostgreSQL`.
    pub store: &'static str,
    /// Concurrent clients.
    pub clients: usize,
    /// Wall time of the run, seconds.
    pub elapsed_s: f64,
    /// The figures.
    pub summary: Summary,
    /// The kill, if there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kill: Option<KillReport>,
    /// The store after the run.
    pub check: CrashCheck,
}

impl RunReport {
    /// Nothing lost or impossible, no 5xx, and no failure other than the crash's own
    /// (`UNREACHABLE` while the server was down) or the rate limiter's.
    pub fn holds(&self) -> bool {
        let crashed = self.kill.is_some();
        let by_design =
            |code: &String| code == "RATE_LIMITED" || (crashed && code == "UNREACHABLE");
        self.check.holds()
            && self.summary.http.server_errors == 0
            && self.summary.total.errors.keys().all(by_design)
    }
}

/// The jobs of `plan`, the kinds spread evenly over the list.
pub fn jobs(plan: &Plan) -> Vec<Kind> {
    let want = [
        (Kind::Login, plan.logins),
        (Kind::MessageSignature, plan.messages),
        (Kind::BidFile, plan.bidfiles),
    ];
    let total: usize = want.iter().map(|(_, n)| n).sum();
    let mut done = [0usize; 3];
    (0..total)
        .filter_map(|i| {
            // The kind furthest behind its share so far.
            let behind =
                |k: usize| want[k].1 as f64 * (i + 1) as f64 / total as f64 - done[k] as f64;
            let k = (0..3)
                .filter(|&k| done[k] < want[k].1)
                .max_by(|&a, &b| behind(a).total_cmp(&behind(b)))?;
            done[k] += 1;
            Some(want[k].0)
        })
        .collect()
}

struct Progress<'a> {
    jobs: &'a [Kind],
    next: AtomicUsize,
    finished: AtomicUsize,
    verified: AtomicUsize,
    down: AtomicBool,
    /// Jobs from this index on wait until the kill is done, so a slow main thread cannot let
    /// the run end before it (`usize::MAX`: no kill).
    gate: usize,
    killed: AtomicBool,
}

/// Runs `plan` against `server`, reporting progress lines to `say`.
pub fn run(
    server: &mut Server,
    plan: &Plan,
    say: &mut dyn FnMut(&str),
) -> Result<RunReport, LoadError> {
    let shared = Shared::open(server.data(), &server.base)?;
    let jobs = jobs(plan);
    let kill_at = plan.kill.map(|k| kill_point(k, jobs.len()));
    let p = Progress {
        jobs: &jobs,
        next: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
        verified: AtomicUsize::new(0),
        down: AtomicBool::new(false),
        gate: kill_at.map_or(usize::MAX, |k| k + plan.clients.max(1)),
        killed: AtomicBool::new(false),
    };
    let t0 = Instant::now();
    let (attempts, kill) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..plan.clients.max(1))
            .map(|_| {
                let shared = shared.clone();
                let p = &p;
                scope.spawn(move || worker(shared, p))
            })
            .collect();
        let kill = watch(server, &p, kill_at, &workers, say);
        let mut attempts = Vec::with_capacity(jobs.len());
        for w in workers {
            let done = w
                .join()
                .map_err(|_| LoadError::Data("a client thread panicked".into()))??;
            attempts.extend(done);
        }
        Ok::<_, LoadError>((attempts, kill?))
    })?;
    let elapsed = t0.elapsed();
    say(&format!(
        "{} jobs in {:.1} s; reading the store",
        attempts.len(),
        elapsed.as_secs_f64()
    ));
    let check = check_store(server.spec(), &attempts)?;
    let kill = kill.map(|(after_jobs, down_ms)| KillReport {
        after_jobs,
        down_ms,
        interrupted: attempts
            .iter()
            .filter(|a| a.outcome == Err(Failure::Unreachable))
            .count(),
    });
    Ok(RunReport {
        store: server.spec().store.name(),
        clients: plan.clients,
        elapsed_s: elapsed.as_secs_f64(),
        summary: summarize(&attempts, elapsed),
        kill,
        check,
    })
}

fn kill_point(kill: Kill, total: usize) -> usize {
    match kill {
        Kill::AfterJobs(n) => n.min(total.saturating_sub(1)),
        Kill::AtRandom => {
            let mut b = [0u8; 8];
            let r = match camr::crypto::default_provider().fill_random(&mut b) {
                Ok(()) => u64::from_le_bytes(b),
                Err(_) => u64::from(std::process::id()),
            };
            let span = (total * 3 / 5).max(1) as u64;
            total / 5 + (r % span) as usize
        }
    }
}

/// One client: jobs until none are left; after a job that found no server, it waits until
/// the server is back rather than burning the list.
fn worker(shared: Shared, p: &Progress<'_>) -> Result<Vec<Attempt>, LoadError> {
    let client = Client::new(shared)?;
    let mut out = Vec::new();
    loop {
        let i = p.next.fetch_add(1, Ordering::SeqCst);
        let Some(&kind) = p.jobs.get(i) else {
            return Ok(out);
        };
        while i >= p.gate && !p.killed.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let a = client.run(kind, i);
        if a.seen_verified {
            p.verified.fetch_add(1, Ordering::Relaxed);
        }
        let unreachable = a.outcome == Err(Failure::Unreachable);
        out.push(a);
        p.finished.fetch_add(1, Ordering::SeqCst);
        while unreachable && p.down.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The main thread while the clients run: progress every two seconds, and the kill.
fn watch<T>(
    server: &mut Server,
    p: &Progress<'_>,
    kill_at: Option<usize>,
    workers: &[std::thread::ScopedJoinHandle<'_, T>],
    say: &mut dyn FnMut(&str),
) -> Result<Option<(usize, f64)>, LoadError> {
    let mut killed = None;
    let mut last = Instant::now();
    while !workers.iter().all(|w| w.is_finished()) {
        std::thread::sleep(Duration::from_millis(20));
        let finished = p.finished.load(Ordering::SeqCst);
        if killed.is_none() && kill_at.is_some_and(|k| finished >= k) {
            say(&format!("kill -9 of camr-server after {finished} jobs"));
            p.down.store(true, Ordering::SeqCst);
            let t = Instant::now();
            let restarted = server.restart();
            p.down.store(false, Ordering::SeqCst);
            p.killed.store(true, Ordering::SeqCst);
            restarted?;
            let down_ms = t.elapsed().as_secs_f64() * 1000.0;
            say(&format!(
                "camr-server restarted, ready after {down_ms:.0} ms"
            ));
            killed = Some((finished, down_ms));
        }
        if last.elapsed() >= Duration::from_secs(2) {
            last = Instant::now();
            say(&format!(
                "{finished}/{} jobs, {} answers seen verified",
                p.jobs.len(),
                p.verified.load(Ordering::Relaxed)
            ));
        }
    }
    Ok(killed)
}

#[cfg(test)]
mod tests {
    use super::{Kind, Plan, jobs};

    #[test]
    fn the_kinds_are_spread_over_the_run() {
        let plan = Plan {
            logins: 8,
            messages: 2,
            bidfiles: 2,
            clients: 1,
            kill: None,
        };
        let j = jobs(&plan);
        assert_eq!(j.len(), 12);
        assert_eq!(j.iter().filter(|k| **k == Kind::BidFile).count(), 2);
        // Not all at the end: one of each extra kind in each half.
        assert!(j[..6].contains(&Kind::MessageSignature));
        assert!(j[6..].contains(&Kind::BidFile));
    }
}
