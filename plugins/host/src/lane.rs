//! Per-vendor worker threads: every adapter call runs on one, and the caller waits at most
//! the deadline.
//!
//! A call that passes its deadline cannot be killed inside one process: its worker is
//! abandoned and keeps its slot until the call returns (if ever). A vendor has at most
//! `max` calls in flight, hung ones included; past that, calls are refused without starting
//! a thread. So a vendor holds at most `max` worker threads (idle workers are reused and are
//! never more than `max` either), and hung adapters leak at most `max` threads per vendor.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use camr_plugin_abi::panic_message;

/// Work for a worker: runs the call and returns the delivery of its result.
type Job = Box<dyn FnOnce() -> Delivery + Send>;
/// Sends a finished call's result to its caller (who may have given up).
type Delivery = Box<dyn FnOnce() + Send>;

/// What became of a call.
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    /// It returned.
    Done(T),
    /// It panicked (message).
    Panicked(String),
    /// It passed the deadline; the worker was abandoned.
    TimedOut,
    /// `max` calls are still running; nothing was started.
    Saturated(usize),
    /// No thread could be started.
    SpawnFailed(String),
}

#[derive(Debug, Default)]
struct LaneState {
    busy: usize,
    idle: Vec<mpsc::Sender<Job>>,
    threads: usize,
}

/// The workers of one vendor.
#[derive(Debug)]
pub(crate) struct Lane {
    name: String,
    max: usize,
    state: Mutex<LaneState>,
}

impl Lane {
    pub(crate) fn new(name: &str, max: usize) -> Arc<Self> {
        Arc::new(Self {
            name: name
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(24)
                .collect(),
            max: max.max(1),
            state: Mutex::new(LaneState::default()),
        })
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Calls running now (hung ones included).
    pub(crate) fn in_flight(&self) -> usize {
        self.state.lock().map(|s| s.busy).unwrap_or(self.max)
    }

    /// Worker threads alive (busy or idle).
    pub(crate) fn threads(&self) -> usize {
        self.state.lock().map(|s| s.threads).unwrap_or(0)
    }

    /// Runs `f` on a worker and waits at most `deadline`.
    pub(crate) fn run<T, F>(self: &Arc<Self>, deadline: Duration, f: F) -> Outcome<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let idle = {
            let Ok(mut st) = self.state.lock() else {
                return Outcome::SpawnFailed("worker state lock poisoned".into());
            };
            if st.busy >= self.max {
                return Outcome::Saturated(st.busy);
            }
            st.busy += 1;
            st.idle.pop()
        };

        let (reply_tx, reply_rx) = mpsc::sync_channel::<Result<T, String>>(1);
        let job: Job = Box::new(move || {
            let result = catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(p.as_ref()));
            Box::new(move || {
                // The caller may have given up (deadline): then nobody listens.
                let _ = reply_tx.send(result);
            })
        });

        let job = match idle {
            Some(worker) => match worker.send(job) {
                Ok(()) => None,
                // The idle worker is gone (cannot happen while it is in the idle list, but a
                // lost worker must not lose the call): start a new one.
                Err(mpsc::SendError(job)) => Some(job),
            },
            None => Some(job),
        };
        if let Some(job) = job {
            if let Ok(mut st) = self.state.lock() {
                st.threads += 1;
            }
            let lane = Arc::downgrade(self);
            let spawned = std::thread::Builder::new()
                .name(format!("camr-adapter-{}", self.name))
                .spawn(move || worker_loop(job, lane));
            if let Err(e) = spawned {
                if let Ok(mut st) = self.state.lock() {
                    st.busy = st.busy.saturating_sub(1);
                    st.threads = st.threads.saturating_sub(1);
                }
                return Outcome::SpawnFailed(e.to_string());
            }
        }

        match reply_rx.recv_timeout(deadline) {
            Ok(Ok(v)) => Outcome::Done(v),
            Ok(Err(message)) => Outcome::Panicked(message),
            Err(RecvTimeoutError::Timeout) => Outcome::TimedOut,
            Err(RecvTimeoutError::Disconnected) => {
                Outcome::Panicked("the worker thread ended without an answer".into())
            }
        }
    }

    /// A worker finished a call: frees its slot and, if there is room, parks it as idle.
    fn release(&self, park: mpsc::Sender<Job>) -> bool {
        let Ok(mut st) = self.state.lock() else {
            return false;
        };
        st.busy = st.busy.saturating_sub(1);
        if st.idle.len() < self.max {
            st.idle.push(park);
            true
        } else {
            st.threads = st.threads.saturating_sub(1);
            false
        }
    }

    fn thread_ended(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.threads = st.threads.saturating_sub(1);
        }
    }
}

fn worker_loop(mut job: Job, lane: Weak<Lane>) {
    loop {
        let deliver = job();
        // Free the slot *before* answering, so that a caller's next call finds it free.
        let (park, next) = mpsc::channel::<Job>();
        let parked = match lane.upgrade() {
            Some(l) => l.release(park),
            None => false,
        };
        deliver();
        if !parked {
            return;
        }
        // Idle. The lane's idle list holds the only sender: when the host (and so the lane)
        // is dropped, `recv` fails and the thread ends.
        job = match next.recv() {
            Ok(j) => j,
            Err(_) => {
                if let Some(l) = lane.upgrade() {
                    l.thread_ended();
                }
                return;
            }
        };
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use std::time::Instant;

    const LONG: Duration = Duration::from_secs(5);

    #[test]
    fn runs_and_reuses_one_worker_for_sequential_calls() {
        let lane = Lane::new("t", 1);
        for i in 0..50 {
            match lane.run(LONG, move || i * 2) {
                Outcome::Done(v) => assert_eq!(v, i * 2),
                o => panic!("{o:?}"),
            }
        }
        assert_eq!(lane.threads(), 1);
        assert_eq!(lane.in_flight(), 0);
    }

    #[test]
    fn a_panic_is_an_outcome_and_the_lane_survives() {
        let lane = Lane::new("t", 2);
        match lane.run(LONG, || -> u8 { panic!("kaboom") }) {
            Outcome::Panicked(m) => assert!(m.contains("kaboom")),
            o => panic!("{o:?}"),
        }
        assert!(matches!(lane.run(LONG, || 7), Outcome::Done(7)));
        assert_eq!(lane.in_flight(), 0);
    }

    #[test]
    fn hung_calls_time_out_then_saturate_without_new_threads() {
        let lane = Lane::new("t", 2);
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        for _ in 0..2 {
            let rx = release_rx.clone();
            let t = Instant::now();
            let o = lane.run(Duration::from_millis(50), move || {
                let _ = rx.lock().unwrap().recv();
            });
            assert!(matches!(o, Outcome::TimedOut), "{o:?}");
            assert!(t.elapsed() < Duration::from_secs(2));
        }
        assert_eq!(lane.in_flight(), 2);
        assert!(matches!(lane.run(LONG, || 1), Outcome::Saturated(2)));
        assert_eq!(lane.threads(), 2);
        // The hung calls return: their workers come back and serve again.
        release_tx.send(()).unwrap();
        release_tx.send(()).unwrap();
        let t = Instant::now();
        while lane.in_flight() > 0 && t.elapsed() < LONG {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(matches!(lane.run(LONG, || 1), Outcome::Done(1)));
        assert_eq!(lane.threads(), 2);
    }
}
