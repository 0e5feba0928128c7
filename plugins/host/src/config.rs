//! [`HostConfig`]: where plugins live, their pins, deadlines, breaker and concurrency limits.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// Configuration of a [`crate::PluginHost`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    /// The plugin folder: [`crate::PluginHost::load_dir`] loads every `*.so` in it.
    pub dir: Option<PathBuf>,
    /// SHA-256 pins, lower-case (or upper-case) hex, by file name (e.g.
    /// `libvendor_adapter.so`). When the map is not empty, every file loaded must have a pin
    /// and match it; a changed or unpinned file is refused.
    pub pins: HashMap<String, String>,
    /// How long a caller waits for an adapter call (also for `new_adapter` and `info` at load).
    pub default_deadline: Duration,
    /// Deadlines by vendor code (`caOrgType`), overriding [`HostConfig::default_deadline`].
    pub per_adapter_deadline: HashMap<String, Duration>,
    /// Consecutive failures (errors, panics, timeouts) that open a vendor's breaker
    /// (at least 1).
    pub breaker_threshold: u32,
    /// How long an open breaker refuses calls before letting one trial call through.
    pub breaker_cooldown: Duration,
    /// Calls running at once per vendor, hung ones included; also the number of worker
    /// threads a vendor can hold, and so the bound on threads a hung vendor leaks (at least 1).
    pub max_in_flight_per_vendor: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            dir: None,
            pins: HashMap::new(),
            default_deadline: Duration::from_secs(10),
            per_adapter_deadline: HashMap::new(),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
            max_in_flight_per_vendor: 4,
        }
    }
}

impl HostConfig {
    /// The deadline of calls to `ca_org_type`.
    pub fn deadline_for(&self, ca_org_type: &str) -> Duration {
        self.per_adapter_deadline
            .get(ca_org_type)
            .copied()
            .unwrap_or(self.default_deadline)
    }
}
