//! [`PluginHost`]: the registry of adapters, routing by `caOrgType`, and isolated calls.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use camr::pki::Subject;
use camr::protocol::{Evidence, Operation, SealInfo, UsageRecord};
use camr_plugin_abi::{AdapterError, AdapterImpl, AdapterInfo, CertStatus};
use serde::Serialize;

use crate::breaker::{Breaker, BreakerState};
use crate::error::normalise_adapter_code;
use crate::lane::{Lane, Outcome};
use crate::load::{load_adapter_file, load_adapter_file_as, load_outcome_text, validate_info};
use crate::{HostConfig, PluginError};

/// Where an adapter came from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    File { path: PathBuf, sha256: String },
    Static,
}

impl Source {
    fn name(&self) -> String {
        match self {
            Self::File { path, .. } => path.display().to_string(),
            Self::Static => "static".into(),
        }
    }
}

#[derive(Debug, Default)]
struct Stats {
    calls: AtomicU64,
    failures: AtomicU64,
    timeouts: AtomicU64,
    panics: AtomicU64,
    refused: AtomicU64,
}

struct Entry {
    info: AdapterInfo,
    source: Source,
    adapter: Arc<dyn AdapterImpl>,
    deadline: Duration,
    breaker: Mutex<Breaker>,
    lane: Arc<Lane>,
    stats: Stats,
}

/// One adapter's health, for the server's admin page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdapterHealth {
    /// Vendor code.
    pub ca_org_type: String,
    /// Vendor name.
    pub vendor_name: String,
    /// Adapter version.
    pub adapter_version: String,
    /// The file it was loaded from, or `static`.
    pub source: String,
    /// SHA-256 of the file (lower-case hex), for loaded files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Operations it supports.
    pub operations: Vec<String>,
    /// Algorithms it supports.
    pub algorithms: Vec<String>,
    /// Calls that reached the adapter.
    pub calls: u64,
    /// Calls that failed (adapter errors other than bad input, panics, timeouts, malformed
    /// answers): what the breaker counts.
    pub failures: u64,
    /// Calls past their deadline.
    pub timeouts: u64,
    /// Calls that panicked.
    pub panics: u64,
    /// Calls refused without reaching the adapter (breaker open, saturated).
    pub refused: u64,
    /// Calls running now, hung ones included.
    pub in_flight: usize,
    /// Worker threads the vendor holds (busy or idle); at most `maxInFlight`.
    pub worker_threads: usize,
    /// The limit on calls in flight.
    pub max_in_flight: usize,
    /// The call deadline, milliseconds.
    pub deadline_ms: u64,
    /// Breaker state.
    pub breaker: BreakerState,
    /// Consecutive failures counted by the breaker.
    pub consecutive_failures: u32,
}

/// What went wrong inside a call, before it is turned into a [`PluginError`].
enum Fault {
    Adapter(AdapterError),
    BadOutput(String),
}

impl From<AdapterError> for Fault {
    fn from(e: AdapterError) -> Self {
        Self::Adapter(e)
    }
}

/// Loads adapters, routes calls by `caOrgType` and contains them.
///
/// Every call runs on a worker thread of the vendor's own pool and the caller waits at most
/// the vendor's deadline. A panic becomes `ADAPTER_FAILED`, a call past its deadline
/// `ADAPTER_TIMEOUT`; consecutive failures open the vendor's circuit breaker
/// (`ADAPTER_UNAVAILABLE` until a trial call after the cool-down succeeds); a vendor with
/// `max_in_flight_per_vendor` calls still running (hung) is refused without starting a
/// thread. Other vendors are not affected by any of it.
///
/// The host never trusts an adapter's verdict: [`PluginHost::decode_evidence`] only parses
/// what the adapter translated; verify it with [`crate::verify_evidence_signature`] and the
/// chain validation of `camr::pki`.
///
/// The set of adapters can be replaced while calls run ([`PluginHost::reload`]): a call holds
/// its adapter's entry until it returns, and the set itself is swapped in one step.
pub struct PluginHost {
    config: HostConfig,
    adapters: RwLock<HashMap<String, Arc<Entry>>>,
    /// Vendors whose adapter took a configuration ([`PluginHost::configure`]): those have a
    /// vendor cloud, so their uses are billed ([`camr::ceremony::UsageSink`]).
    configured: RwLock<std::collections::HashSet<String>>,
    /// Held for the whole of a [`PluginHost::reload`], so two reloads do not interleave.
    reloading: Mutex<()>,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let vendors = self.vendors();
        f.debug_struct("PluginHost")
            .field("config", &self.config)
            .field("vendors", &vendors)
            .finish()
    }
}

impl PluginHost {
    /// A host with no adapters yet.
    pub fn new(config: HostConfig) -> Self {
        Self {
            config,
            adapters: RwLock::new(HashMap::new()),
            configured: RwLock::default(),
            reloading: Mutex::new(()),
        }
    }

    /// The adapters (a poisoned lock is recovered: the map is only ever swapped or extended
    /// in one step, so it is never half-written).
    fn adapters(&self) -> RwLockReadGuard<'_, HashMap<String, Arc<Entry>>> {
        self.adapters.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn adapters_mut(&mut self) -> &mut HashMap<String, Arc<Entry>> {
        self.adapters
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn entry_of(&self, ca_org_type: &str) -> Option<Arc<Entry>> {
        self.adapters().get(ca_org_type).cloned()
    }

    /// The configuration.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// Loads every `*.so` of the configured folder (in file-name order) and returns the
    /// vendor codes loaded.
    ///
    /// All or nothing: if any file is refused (unreadable, unpinned or changed while pins
    /// are configured, not a camr adapter, ABI or layout mismatch, failing `new_adapter` or
    /// `info`, a vendor code already taken), no adapter of the folder is registered and the
    /// first error is returned. Libraries opened before the error stay mapped (they cannot be
    /// unloaded safely) but are never called again.
    pub fn load_dir(&mut self) -> Result<Vec<String>, PluginError> {
        let dir = self.config.dir.clone().ok_or_else(|| PluginError::Io {
            path: PathBuf::new(),
            reason: "no plugin folder configured".into(),
        })?;
        let files = so_files(&dir)?;
        let mut prepared: Vec<Entry> = Vec::new();
        for path in files {
            let entry = self.prepare_file(&path)?;
            if let Some(first) = prepared
                .iter()
                .find(|e| e.info.ca_org_type == entry.info.ca_org_type)
            {
                return Err(PluginError::DuplicateVendor {
                    ca_org_type: entry.info.ca_org_type.clone(),
                    first: first.source.name(),
                    second: entry.source.name(),
                });
            }
            self.check_free(&entry)?;
            prepared.push(entry);
        }
        let mut loaded = Vec::new();
        let adapters = self.adapters_mut();
        for entry in prepared {
            loaded.push(entry.info.ca_org_type.clone());
            adapters.insert(entry.info.ca_org_type.clone(), Arc::new(entry));
        }
        Ok(loaded)
    }

    /// Loads one adapter file (same checks as [`PluginHost::load_dir`]; the pin is looked up
    /// by file name) and returns its vendor code.
    pub fn load_file(&mut self, path: &Path) -> Result<String, PluginError> {
        let entry = self.prepare_file(path)?;
        self.insert(entry)
    }

    /// Registers a statically linked adapter through the same checks as a loaded one
    /// (`info` on a worker with the deadline, valid info, vendor code not taken) and returns
    /// its vendor code.
    pub fn register_static(
        &mut self,
        adapter: Box<dyn AdapterImpl>,
    ) -> Result<String, PluginError> {
        let adapter: Arc<dyn AdapterImpl> = Arc::from(adapter);
        let probe = adapter.clone();
        let deadline = self.config.default_deadline;
        let info = match Lane::new("static", 1).run(deadline, move || probe.info()) {
            Outcome::Done(info) => info,
            other => {
                return Err(PluginError::BadAdapter {
                    source_name: "static".into(),
                    reason: format!("info failed: {}", load_outcome_text(&other, deadline)),
                });
            }
        };
        validate_info(&info).map_err(|reason| PluginError::BadAdapter {
            source_name: "static".into(),
            reason,
        })?;
        let entry = self.entry(info, Source::Static, adapter);
        self.insert(entry)
    }

    /// Re-scans the configured folder and replaces the adapters loaded from files with what
    /// it holds now; returns the vendor codes served afterwards (statically registered
    /// adapters stay).
    ///
    /// - A file already loaded, unchanged (same path, same SHA-256), keeps its adapter, with
    ///   its counters, breaker and workers.
    /// - A new or changed file goes through every check of [`PluginHost::load_dir`] (pins
    ///   included) and is loaded from a private copy, so that the dynamic loader cannot hand
    ///   back the library it already mapped from that path.
    /// - An adapter whose file is gone is no longer served (calls running on it finish; its
    ///   library stays mapped, as libraries are never unloaded).
    ///
    /// All or nothing, like [`PluginHost::load_dir`]: on any error the adapters stay as they
    /// were. Calls keep running during a reload; they see the old set or the new one.
    pub fn reload(&self) -> Result<Vec<String>, PluginError> {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let dir = self.config.dir.clone().ok_or_else(|| PluginError::Io {
            path: PathBuf::new(),
            reason: "no plugin folder configured".into(),
        })?;
        let current: Vec<Arc<Entry>> = self.adapters().values().cloned().collect();
        let mut next: HashMap<String, Arc<Entry>> = current
            .iter()
            .filter(|e| e.source == Source::Static)
            .map(|e| (e.info.ca_org_type.clone(), e.clone()))
            .collect();
        for path in so_files(&dir)? {
            let bytes = std::fs::read(&path).map_err(|e| PluginError::Io {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let sha256 = crate::load::sha256_hex(&bytes);
            drop(bytes);
            let same = Source::File {
                path: path.clone(),
                sha256,
            };
            let entry = match current.iter().find(|e| e.source == same) {
                Some(kept) => kept.clone(),
                None => Arc::new(self.prepare_file_as(&path, true)?),
            };
            if let Some(first) = next.get(&entry.info.ca_org_type) {
                return Err(PluginError::DuplicateVendor {
                    ca_org_type: entry.info.ca_org_type.clone(),
                    first: first.source.name(),
                    second: entry.source.name(),
                });
            }
            next.insert(entry.info.ca_org_type.clone(), entry);
        }
        let mut vendors: Vec<String> = next.keys().cloned().collect();
        vendors.sort();
        *self
            .adapters
            .write()
            .unwrap_or_else(PoisonError::into_inner) = next;
        Ok(vendors)
    }

    fn prepare_file(&self, path: &Path) -> Result<Entry, PluginError> {
        self.prepare_file_as(path, false)
    }

    fn prepare_file_as(&self, path: &Path, private_copy: bool) -> Result<Entry, PluginError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pin = self.config.pins.get(&name).map(String::as_str);
        if pin.is_none() && !self.config.pins.is_empty() {
            return Err(PluginError::Unpinned {
                path: path.to_path_buf(),
            });
        }
        let adapter = if private_copy {
            load_adapter_file_as(path, pin, self.config.default_deadline, true)?
        } else {
            load_adapter_file(path, pin, self.config.default_deadline)?
        };
        let info = adapter.info();
        let source = Source::File {
            path: path.to_path_buf(),
            sha256: adapter.sha256().to_string(),
        };
        Ok(self.entry(info, source, Arc::new(adapter)))
    }

    fn entry(&self, info: AdapterInfo, source: Source, adapter: Arc<dyn AdapterImpl>) -> Entry {
        let deadline = self.config.deadline_for(&info.ca_org_type);
        let lane = Lane::new(&info.ca_org_type, self.config.max_in_flight_per_vendor);
        Entry {
            info,
            source,
            adapter,
            deadline,
            breaker: Mutex::new(Breaker::new()),
            lane,
            stats: Stats::default(),
        }
    }

    fn check_free(&self, entry: &Entry) -> Result<(), PluginError> {
        match self.adapters().get(&entry.info.ca_org_type) {
            Some(first) => Err(PluginError::DuplicateVendor {
                ca_org_type: entry.info.ca_org_type.clone(),
                first: first.source.name(),
                second: entry.source.name(),
            }),
            None => Ok(()),
        }
    }

    fn insert(&mut self, entry: Entry) -> Result<String, PluginError> {
        self.check_free(&entry)?;
        let code = entry.info.ca_org_type.clone();
        self.adapters_mut().insert(code.clone(), Arc::new(entry));
        Ok(code)
    }

    /// The vendor codes served, sorted.
    pub fn vendors(&self) -> Vec<String> {
        let mut v: Vec<String> = self.adapters().keys().cloned().collect();
        v.sort();
        v
    }

    /// What the adapter for `ca_org_type` said about itself at load (a copy: the set of
    /// adapters can change, see [`PluginHost::reload`]).
    pub fn info(&self, ca_org_type: &str) -> Option<AdapterInfo> {
        self.adapters().get(ca_org_type).map(|e| e.info.clone())
    }

    /// Health of every adapter, sorted by vendor code.
    pub fn health(&self) -> Vec<AdapterHealth> {
        let mut out: Vec<AdapterHealth> = self
            .adapters()
            .values()
            .map(|e| {
                let (breaker, consecutive_failures) = e
                    .breaker
                    .lock()
                    .map(|b| (b.state(), b.consecutive_failures()))
                    .unwrap_or((BreakerState::Open, 0));
                AdapterHealth {
                    ca_org_type: e.info.ca_org_type.clone(),
                    vendor_name: e.info.vendor_name.clone(),
                    adapter_version: e.info.adapter_version.clone(),
                    source: e.source.name(),
                    sha256: match &e.source {
                        Source::File { sha256, .. } => Some(sha256.clone()),
                        Source::Static => None,
                    },
                    operations: e.info.operations.clone(),
                    algorithms: e.info.algorithms.clone(),
                    calls: e.stats.calls.load(Ordering::Relaxed),
                    failures: e.stats.failures.load(Ordering::Relaxed),
                    timeouts: e.stats.timeouts.load(Ordering::Relaxed),
                    panics: e.stats.panics.load(Ordering::Relaxed),
                    refused: e.stats.refused.load(Ordering::Relaxed),
                    in_flight: e.lane.in_flight(),
                    worker_threads: e.lane.threads(),
                    max_in_flight: e.lane.max(),
                    deadline_ms: u64::try_from(e.deadline.as_millis()).unwrap_or(u64::MAX),
                    breaker,
                    consecutive_failures,
                }
            })
            .collect();
        out.sort_by(|a, b| a.ca_org_type.cmp(&b.ca_org_type));
        out
    }

    /// Calls `info()` on the adapter itself (through the isolation, unlike
    /// [`PluginHost::info`]): a liveness probe.
    pub fn probe(&self, ca_org_type: &str) -> Result<AdapterInfo, PluginError> {
        self.call(ca_org_type, "info", |a| Ok(a.info()))
    }

    /// Applies a JSON configuration (endpoints, credentials, timeouts).
    pub fn configure(&self, ca_org_type: &str, config_json: &str) -> Result<(), PluginError> {
        let config = config_json.to_string();
        self.call(ca_org_type, "configure", move |a| {
            a.configure(&config).map_err(Fault::from)
        })?;
        self.configured
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(ca_org_type.to_string());
        Ok(())
    }

    /// Whether the vendor's adapter took a configuration.
    pub fn is_configured(&self, ca_org_type: &str) -> bool {
        self.configured
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(ca_org_type)
    }

    /// Has the vendor's adapter translate the app's raw answer into [`Evidence`].
    ///
    /// The evidence is *not* verified: it is what the adapter claims. Malformed evidence
    /// JSON is `ADAPTER_FAILED` ([`PluginError::BadOutput`]).
    pub fn decode_evidence(
        &self,
        ca_org_type: &str,
        operation: Operation,
        raw: &[u8],
    ) -> Result<Evidence, PluginError> {
        let raw = raw.to_vec();
        self.call(ca_org_type, "decode_evidence", move |a| {
            let json = a.decode_evidence(operation.as_str(), &raw)?;
            serde_json::from_str::<Evidence>(&json)
                .map_err(|e| Fault::BadOutput(format!("not evidence JSON ({e})")))
        })
    }

    /// The DER encryption certificate of `subject` (the holder's signing-certificate
    /// identity), from the vendor. Verify it (chain, key usage) before sealing anything to it.
    pub fn fetch_encryption_cert(
        &self,
        ca_org_type: &str,
        subject: &Subject,
    ) -> Result<Vec<u8>, PluginError> {
        let json = to_json(ca_org_type, "fetch_encryption_cert", subject)?;
        self.call(ca_org_type, "fetch_encryption_cert", move |a| {
            a.fetch_encryption_cert(&json).map_err(Fault::from)
        })
    }

    /// The vendor's view of a certificate's status (one input among others: camr checks
    /// CRLs itself).
    pub fn cert_status(
        &self,
        ca_org_type: &str,
        cert_der: &[u8],
    ) -> Result<CertStatus, PluginError> {
        let der = cert_der.to_vec();
        self.call(ca_org_type, "cert_status", move |a| {
            a.cert_status(&der).map_err(Fault::from)
        })
    }

    /// Pushes a signing task to a known user's app (vendor-initiated signing); returns the
    /// vendor's handle.
    pub fn push_task(
        &self,
        ca_org_type: &str,
        user: &impl Serialize,
        request: &impl Serialize,
    ) -> Result<String, PluginError> {
        let user = to_json(ca_org_type, "push_task", user)?;
        let request = to_json(ca_org_type, "push_task", request)?;
        self.call(ca_org_type, "push_task", move |a| {
            a.push_task(&user, &request).map_err(Fault::from)
        })
    }

    /// The state of a pushed task (the vendor's JSON).
    pub fn poll_task(
        &self,
        ca_org_type: &str,
        handle: &str,
    ) -> Result<serde_json::Value, PluginError> {
        let handle = handle.to_string();
        self.call(ca_org_type, "poll_task", move |a| {
            let json = a.poll_task(&handle)?;
            serde_json::from_str(&json).map_err(|e| Fault::BadOutput(format!("not JSON ({e})")))
        })
    }

    /// The user's seals (印章) the vendor keeps for `subject` (the holder of the signing
    /// certificate): at most [`MAX_SEALS`], each checked with [`SealInfo::check`] (code,
    /// name, a PNG that decodes, printed size). An answer that is not a JSON array of seals,
    /// holds too many or a bad one is `ADAPTER_FAILED` ([`PluginError::BadOutput`]); an
    /// adapter that keeps no seals, or was built before the method existed, answers
    /// `ADAPTER_UNAVAILABLE`.
    pub fn list_seals(
        &self,
        ca_org_type: &str,
        subject: &Subject,
    ) -> Result<Vec<SealInfo>, PluginError> {
        let json = to_json(ca_org_type, "list_seals", subject)?;
        self.call(ca_org_type, "list_seals", move |a| {
            let answer = a.list_seals(&json)?;
            parse_seals(&answer).map_err(Fault::BadOutput)
        })
    }

    /// Reports one use for per-use billing.
    pub fn report_usage(&self, ca_org_type: &str, record: &UsageRecord) -> Result<(), PluginError> {
        let json = to_json(ca_org_type, "report_usage", record)?;
        self.call(ca_org_type, "report_usage", move |a| {
            a.report_usage(&json).map_err(Fault::from)
        })
    }

    /// Routes, admits, runs on the vendor's worker with the deadline, classifies, records.
    fn call<T, F>(&self, ca_org_type: &str, method: &'static str, f: F) -> Result<T, PluginError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn AdapterImpl) -> Result<T, Fault> + Send + 'static,
    {
        let entry = self
            .entry_of(ca_org_type)
            .ok_or_else(|| PluginError::NoAdapter {
                ca_org_type: ca_org_type.to_string(),
            })?;
        let entry = entry.as_ref();
        let cooldown = self.config.breaker_cooldown;
        let admission = {
            let mut breaker = lock_breaker(entry);
            match breaker.admit(Instant::now(), cooldown) {
                Ok(a) => a,
                Err(retry_in) => {
                    entry.stats.refused.fetch_add(1, Ordering::Relaxed);
                    return Err(PluginError::BreakerOpen {
                        ca_org_type: ca_org_type.to_string(),
                        retry_in,
                    });
                }
            }
        };

        let adapter = entry.adapter.clone();
        let outcome = entry.lane.run(entry.deadline, move || f(adapter.as_ref()));

        let code = ca_org_type.to_string();
        let (result, failed) = match outcome {
            Outcome::Saturated(in_flight) => {
                lock_breaker(entry).cancel(admission);
                entry.stats.refused.fetch_add(1, Ordering::Relaxed);
                return Err(PluginError::Saturated {
                    ca_org_type: code,
                    in_flight,
                    max: entry.lane.max(),
                });
            }
            Outcome::SpawnFailed(reason) => {
                lock_breaker(entry).cancel(admission);
                return Err(PluginError::Spawn { reason });
            }
            Outcome::Done(Ok(v)) => (Ok(v), false),
            Outcome::Done(Err(Fault::Adapter(e))) => {
                let (code_norm, counts) = normalise_adapter_code(e.code());
                let message = if code_norm.as_str() == e.code() {
                    e.message().to_string()
                } else {
                    format!("{}: {}", e.code(), e.message())
                };
                (
                    Err(PluginError::Adapter {
                        ca_org_type: code,
                        method,
                        code: code_norm,
                        message,
                    }),
                    counts,
                )
            }
            Outcome::Done(Err(Fault::BadOutput(reason))) => (
                Err(PluginError::BadOutput {
                    ca_org_type: code,
                    method,
                    reason,
                }),
                true,
            ),
            Outcome::Panicked(message) => {
                entry.stats.panics.fetch_add(1, Ordering::Relaxed);
                (
                    Err(PluginError::Panicked {
                        ca_org_type: code,
                        method,
                        message,
                    }),
                    true,
                )
            }
            Outcome::TimedOut => {
                entry.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                (
                    Err(PluginError::Timeout {
                        ca_org_type: code,
                        method,
                        deadline: entry.deadline,
                    }),
                    true,
                )
            }
        };
        entry.stats.calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            entry.stats.failures.fetch_add(1, Ordering::Relaxed);
        }
        lock_breaker(entry).record(
            admission,
            failed,
            Instant::now(),
            self.config.breaker_threshold,
        );
        result
    }
}

/// Most seals one `list_seals` answer may hold.
pub const MAX_SEALS: usize = 64;

/// Parses and checks a `list_seals` answer.
fn parse_seals(answer: &str) -> Result<Vec<SealInfo>, String> {
    let seals: Vec<SealInfo> =
        serde_json::from_str(answer).map_err(|e| format!("not a JSON array of seals ({e})"))?;
    if seals.len() > MAX_SEALS {
        return Err(format!(
            "{} seals in one answer; at most {MAX_SEALS}",
            seals.len()
        ));
    }
    for (i, seal) in seals.iter().enumerate() {
        seal.check().map_err(|e| format!("seal {i}: {e}"))?;
    }
    Ok(seals)
}

fn lock_breaker(entry: &Entry) -> std::sync::MutexGuard<'_, Breaker> {
    // The breaker's methods do not panic; recover from poisoning anyway.
    entry
        .breaker
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn to_json(
    ca_org_type: &str,
    method: &'static str,
    value: &impl Serialize,
) -> Result<String, PluginError> {
    serde_json::to_string(value).map_err(|e| PluginError::Adapter {
        ca_org_type: ca_org_type.to_string(),
        method,
        code: camr::protocol::ErrorCode::InputMalformed,
        message: format!("cannot encode the input ({e})"),
    })
}

/// The `*.so` files of a folder, sorted by name.
fn so_files(dir: &Path) -> Result<Vec<PathBuf>, PluginError> {
    let io = |e: std::io::Error| PluginError::Io {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    };
    let mut files = Vec::new();
    for item in std::fs::read_dir(dir).map_err(io)? {
        let path = item.map_err(io)?.path();
        if path.extension().is_some_and(|e| e == "so") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn hook_error(e: PluginError) -> camr::ceremony::HookError {
    camr::ceremony::HookError::new(e.code(), e.to_string())
}

/// The platform's evidence decoder: each answer through its vendor's adapter, with the
/// host's deadline, breaker and isolation.
impl camr::ceremony::EvidenceDecoder for PluginHost {
    fn decode(
        &self,
        ca_org_type: &str,
        operation: Operation,
        raw: &[u8],
    ) -> Result<Evidence, camr::ceremony::HookError> {
        self.decode_evidence(ca_org_type, operation, raw)
            .map_err(hook_error)
    }
}

/// Per-use billing through the adapters that took a configuration (a vendor cloud to bill).
impl camr::ceremony::UsageSink for PluginHost {
    fn bills(&self, ca_org_type: &str) -> bool {
        self.is_configured(ca_org_type) && self.entry_of(ca_org_type).is_some()
    }

    fn report(
        &self,
        ca_org_type: &str,
        record: &UsageRecord,
    ) -> Result<(), camr::ceremony::HookError> {
        self.report_usage(ca_org_type, record).map_err(hook_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<PluginHost>();
        shared::<AdapterHealth>();
    }
}
