//! A per-vendor circuit breaker: closed → open after N consecutive failures → half-open
//! (one trial call) after the cool-down → closed on success, open again on failure.

use std::time::{Duration, Instant};

use serde::Serialize;

/// The state of a vendor's circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused until the cool-down has passed.
    Open,
    /// The cool-down has passed: one trial call goes through; its outcome closes or reopens
    /// the breaker.
    HalfOpen,
}

/// How a call was admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Normal,
    Trial,
}

#[derive(Debug)]
pub(crate) struct Breaker {
    state: BreakerState,
    consecutive_failures: u32,
    opened_at: Option<Instant>,
    trial_running: bool,
}

impl Breaker {
    pub(crate) fn new() -> Self {
        Self {
            state: BreakerState::Closed,
            consecutive_failures: 0,
            opened_at: None,
            trial_running: false,
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        self.state
    }

    pub(crate) fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// Admits a call, or says how long until a trial call will be let through.
    pub(crate) fn admit(
        &mut self,
        now: Instant,
        cooldown: Duration,
    ) -> Result<Admission, Duration> {
        match self.state {
            BreakerState::Closed => Ok(Admission::Normal),
            BreakerState::Open => {
                let opened = self.opened_at.unwrap_or(now);
                let elapsed = now.saturating_duration_since(opened);
                if elapsed >= cooldown {
                    self.state = BreakerState::HalfOpen;
                    self.trial_running = true;
                    Ok(Admission::Trial)
                } else {
                    Err(cooldown - elapsed)
                }
            }
            BreakerState::HalfOpen => {
                if self.trial_running {
                    Err(Duration::ZERO)
                } else {
                    self.trial_running = true;
                    Ok(Admission::Trial)
                }
            }
        }
    }

    /// A trial call that was admitted but never ran (e.g. the vendor was saturated).
    pub(crate) fn cancel(&mut self, admission: Admission) {
        if admission == Admission::Trial {
            self.trial_running = false;
        }
    }

    /// Records the outcome of an admitted call.
    pub(crate) fn record(
        &mut self,
        admission: Admission,
        failed: bool,
        now: Instant,
        threshold: u32,
    ) {
        if admission == Admission::Trial {
            self.trial_running = false;
        }
        if !failed {
            self.state = BreakerState::Closed;
            self.consecutive_failures = 0;
            self.opened_at = None;
            return;
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        // A failed trial reopens at once. A normal call admitted while the breaker was closed
        // may finish after a trial reopened it: it only restarts the cool-down then.
        if admission == Admission::Trial
            || self.state != BreakerState::Closed
            || self.consecutive_failures >= threshold.max(1)
        {
            self.state = BreakerState::Open;
            self.opened_at = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    const COOL: Duration = Duration::from_millis(100);

    #[test]
    fn opens_after_threshold_and_recovers_through_one_trial() {
        let mut b = Breaker::new();
        let t0 = Instant::now();
        for _ in 0..2 {
            let a = b.admit(t0, COOL).unwrap();
            b.record(a, true, t0, 3);
            assert_eq!(b.state(), BreakerState::Closed);
        }
        let a = b.admit(t0, COOL).unwrap();
        b.record(a, true, t0, 3);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.admit(t0 + COOL / 2, COOL).is_err());
        let trial = b.admit(t0 + COOL, COOL).unwrap();
        assert_eq!(trial, Admission::Trial);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        // Only one trial at a time.
        assert!(b.admit(t0 + COOL, COOL).is_err());
        b.record(trial, false, t0 + COOL, 3);
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.consecutive_failures(), 0);
    }

    #[test]
    fn a_failed_trial_reopens_and_restarts_the_cooldown() {
        let mut b = Breaker::new();
        let t0 = Instant::now();
        let a = b.admit(t0, COOL).unwrap();
        b.record(a, true, t0, 1);
        let t1 = t0 + COOL;
        let trial = b.admit(t1, COOL).unwrap();
        b.record(trial, true, t1, 1);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.admit(t1 + COOL / 2, COOL), Err(COOL / 2));
        assert!(b.admit(t1 + COOL, COOL).is_ok());
    }

    #[test]
    fn a_success_resets_the_count() {
        let mut b = Breaker::new();
        let t0 = Instant::now();
        for failed in [true, true, false, true, true] {
            let a = b.admit(t0, COOL).unwrap();
            b.record(a, failed, t0, 3);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.consecutive_failures(), 2);
    }

    #[test]
    fn a_cancelled_trial_lets_the_next_call_try() {
        let mut b = Breaker::new();
        let t0 = Instant::now();
        let a = b.admit(t0, COOL).unwrap();
        b.record(a, true, t0, 1);
        let trial = b.admit(t0 + COOL, COOL).unwrap();
        b.cancel(trial);
        assert_eq!(b.admit(t0 + COOL, COOL), Ok(Admission::Trial));
    }
}
