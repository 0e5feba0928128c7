//! Per-client token buckets for the routes that start work (`crate::ops::LIMITED_ROUTES`).
//!
//! A small keyed bucket rather than the `governor` crate: the server needs one limiter with
//! an exact `Retry-After`, a hard cap on the number of clients remembered and pruning of
//! idle ones, which is about a hundred lines here, against governor's dependency tree
//! (dashmap, quanta, ...) for the same behaviour.
//!
//! Memory is bounded: a client whose bucket has refilled completely is indistinguishable from
//! one never seen, so such entries are dropped every [`PRUNE_EVERY`] checks and whenever the
//! map reaches `max_clients`; if it is still full after that (that many clients active within
//! one refill period), the least recently seen client is forgotten (it starts again with a
//! full bucket).
//!
//! IPv6 clients are keyed by their /64 prefix (one host can use a whole /64).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Checks between two prunings of refilled buckets.
pub const PRUNE_EVERY: u64 = 1024;

/// `[rate_limit]` of the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitConfig {
    /// Transaction starts per client and minute, sustained; 0 turns the limit off.
    pub per_minute: u32,
    /// Starts a client may make at once (the bucket's size), at least 1.
    pub burst: u32,
    /// Clients remembered at most.
    pub max_clients: usize,
}

impl Default for RateLimitConfig {
    /// The demo default: 120 starts a minute, bursts of 30, 100 000 clients.
    fn default() -> Self {
        Self {
            per_minute: 120,
            burst: 30,
            max_clients: 100_000,
        }
    }
}

/// The default of the `/interlink/` routes' own bucket (`rate_limit.interlink_*`): a
/// platform's front end polls them for every login it shows, from one address.
pub const INTERLINK_DEFAULT: RateLimitConfig = RateLimitConfig {
    per_minute: 600,
    burst: 120,
    max_clients: 100_000,
};

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A token bucket per client address.
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimitConfig,
    per_second: f64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    buckets: HashMap<IpAddr, Bucket>,
    checks: u64,
}

/// The key of a client address: IPv4 as is, IPv6 by its /64.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl RateLimiter {
    /// A limiter with `config`.
    pub fn new(config: RateLimitConfig) -> Self {
        Self {
            per_second: f64::from(config.per_minute) / 60.0,
            config: RateLimitConfig {
                burst: config.burst.max(1),
                max_clients: config.max_clients.max(1),
                ..config
            },
            state: Mutex::new(State::default()),
        }
    }

    /// Whether the limit is on.
    pub fn enabled(&self) -> bool {
        self.config.per_minute > 0
    }

    /// Takes one token for `ip` at `now`; `Err(wait)` when there is none, with the time until
    /// there is one.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        if !self.enabled() {
            return Ok(());
        }
        let burst = f64::from(self.config.burst);
        let key = client_key(ip);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.checks = state.checks.wrapping_add(1);
        if state.checks.is_multiple_of(PRUNE_EVERY) {
            self.prune(&mut state.buckets, now);
        }
        if !state.buckets.contains_key(&key) && state.buckets.len() >= self.config.max_clients {
            self.prune(&mut state.buckets, now);
            if state.buckets.len() >= self.config.max_clients {
                let oldest = state
                    .buckets
                    .iter()
                    .min_by_key(|(_, b)| b.last)
                    .map(|(k, _)| *k);
                if let Some(k) = oldest {
                    state.buckets.remove(&k);
                }
            }
        }
        let bucket = state.buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.per_second;
            Err(Duration::from_secs_f64(wait.clamp(0.0, 86_400.0)))
        }
    }

    /// Drops the buckets that have refilled completely by `now`.
    fn prune(&self, buckets: &mut HashMap<IpAddr, Bucket>, now: Instant) {
        let burst = f64::from(self.config.burst);
        let per_second = self.per_second;
        buckets.retain(|_, b| {
            let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
            b.tokens + elapsed * per_second < burst
        });
    }

    /// Clients remembered now.
    pub fn clients(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .buckets
            .len()
    }
}

/// `Retry-After` seconds for a wait (rounded up, at least 1).
pub fn retry_after_secs(wait: Duration) -> u64 {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    whole.max(1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::from(n))
    }

    #[test]
    fn a_burst_then_one_per_refill_interval() {
        let rl = RateLimiter::new(RateLimitConfig {
            per_minute: 60,
            burst: 3,
            max_clients: 10,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            rl.check(ip(1), t0).unwrap();
        }
        let wait = rl.check(ip(1), t0).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        assert_eq!(retry_after_secs(wait), 1);
        // Another client is not affected.
        rl.check(ip(2), t0).unwrap();
        // One token back after a second.
        rl.check(ip(1), t0 + Duration::from_secs(1)).unwrap();
        rl.check(ip(1), t0 + Duration::from_secs(1)).unwrap_err();
    }

    #[test]
    fn memory_stays_bounded_and_refilled_clients_are_forgotten() {
        let rl = RateLimiter::new(RateLimitConfig {
            per_minute: 60,
            burst: 2,
            max_clients: 100,
        });
        let t0 = Instant::now();
        for n in 0..10_000 {
            let _ = rl.check(ip(n), t0);
        }
        assert!(rl.clients() <= 100, "{}", rl.clients());
        // Two seconds later every bucket is full again: the next new client prunes them.
        let later = t0 + Duration::from_secs(3);
        for n in 20_000..20_100 {
            rl.check(ip(n), later).unwrap();
        }
        assert!(rl.clients() <= 100);
        rl.check(ip(20_000), later).unwrap();
        rl.check(ip(20_000), later).unwrap_err();
    }

    #[test]
    fn ipv6_clients_share_their_64_and_zero_turns_the_limit_off() {
        let rl = RateLimiter::new(RateLimitConfig {
            per_minute: 1,
            burst: 1,
            max_clients: 10,
        });
        let t0 = Instant::now();
        rl.check("2001:db8::1".parse().unwrap(), t0).unwrap();
        rl.check("2001:db8::2".parse().unwrap(), t0).unwrap_err();
        rl.check("2001:db8:0:1::1".parse().unwrap(), t0).unwrap();
        let off = RateLimiter::new(RateLimitConfig {
            per_minute: 0,
            ..RateLimitConfig::default()
        });
        for _ in 0..1000 {
            off.check(ip(1), t0).unwrap();
        }
        assert_eq!(off.clients(), 0);
    }
}
