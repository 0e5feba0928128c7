//! # camr-plugin-host — loads, pins, routes and contains CA-vendor adapters
//!
//! A platform drops a vendor's adapter `.so` (built with `camr-plugin-abi`'s
//! `export_adapter!`) into a folder; [`PluginHost::load_dir`] loads it, and calls are routed
//! by the vendor code (`caOrgType`):
//!
//! ```no_run
//! # fn main() -> Result<(), camr_plugin_host::PluginError> {
//! use camr_plugin_host::{HostConfig, PluginHost};
//! let mut host = PluginHost::new(HostConfig {
//!     dir: Some("/etc/camr/adapters".into()),
//!     ..HostConfig::default()
//! });
//! host.load_dir()?;
//! let raw_answer = b"...";
//! let evidence = host.decode_evidence("BJCA", camr::protocol::Operation::Login, raw_answer)?;
//! // `evidence` is a claim: verify it (verify_evidence_signature, camr::pki chain checks).
//! # let _ = evidence; Ok(()) }
//! ```
//!
//! Loading checks abi_stable's header and layout, the adapter ABI version, an optional
//! SHA-256 pin per file, and refuses two adapters claiming one vendor code. Calls are
//! isolated: each runs on the vendor's worker threads with a deadline (`ADAPTER_TIMEOUT`),
//! panics become `ADAPTER_FAILED`, consecutive failures open the vendor's circuit breaker
//! (`ADAPTER_UNAVAILABLE`, half-open retry after the cool-down), and hung calls can hold at
//! most `max_in_flight_per_vendor` threads per vendor. See `docs/plugins.md`.
//!
//! The host never trusts an adapter's verdict: evidence is re-verified by the core
//! ([`verify_evidence_signature`] for the signature, `camr::pki` for the chain).
//!
//! No `unsafe` here: loading uses abi_stable's safe `lib_header_from_path` and
//! `init_root_module` (which check the library before any of its code is called through the
//! ABI). Loading a shared library runs its initialisers, which is why only files from the
//! configured folder, optionally pinned, are loaded.
#![forbid(unsafe_code)]
#![deny(unused_must_use)]
#![warn(missing_docs)]

mod breaker;
mod config;
mod error;
mod host;
mod lane;
mod load;
mod status;
mod verify;

pub use breaker::BreakerState;
pub use camr_plugin_abi::{AdapterError, AdapterImpl, AdapterInfo, CertStatus};
pub use config::HostConfig;
pub use error::PluginError;
pub use host::{AdapterHealth, MAX_SEALS, PluginHost};
pub use load::{DynamicAdapter, load_adapter_file, sha256_hex};
pub use status::VendorStatusSource;
pub use verify::verify_evidence_signature;
