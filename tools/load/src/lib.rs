//! `camr-load`: how much a `camr-server` holds and what a crash in the middle of it loses.
//!
//! N client threads each run whole ceremonies over real HTTP against a server process this
//! crate starts: the platform side (start, result, bid-file download) as a browser or API
//! client would, the phone side with `camr::app` in process (QR signature checked, request
//! fetched, real SM2 signatures posted). Optionally the server is killed with SIGKILL at a
//! random moment and started again on the same port and store; afterwards the store itself is
//! read ([`check`]) to show that every answer the app saw `verified` is still there with its
//! usage record and audit entry, that the audit chain holds, and that no transaction is in a
//! state no sequence of the platform's writes could leave.
#![forbid(unsafe_code)]

pub mod check;
pub mod client;
pub mod pg;
pub mod run;
pub mod server;
pub mod stats;

pub use check::{CrashCheck, check_store};
pub use pg::FreshDatabase;
pub use run::{Kill, Plan, RunReport, run};
pub use server::{Server, ServerSpec, Store};

/// What can stop a load run (as opposed to a failed operation, which is counted).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The server binary could not be started.
    #[error("cannot start {bin}: {source} (build it with `cargo build -p camr-server`)")]
    Spawn {
        /// The binary.
        bin: String,
        /// Why.
        source: std::io::Error,
    },
    /// The server did not answer `/readyz` in time.
    #[error("camr-server on {base} was not ready after {secs} s; see its log {log}")]
    NotReady {
        /// Its URL.
        base: String,
        /// How long we waited.
        secs: u64,
        /// Its log file.
        log: String,
    },
    /// A file or the process table.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The demo data the server writes (wallet, platform key) is unusable.
    #[error("the server's data folder: {0}")]
    Data(String),
    /// The transaction store could not be read after the run.
    #[error("reading the store: {0}")]
    Store(#[from] camr::store::StoreError),
}

impl LoadError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }
}

/// A blocking HTTP client (rustls with ring, installed once per process).
pub(crate) fn http_client(
    timeout: std::time::Duration,
) -> Result<reqwest::blocking::Client, LoadError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| LoadError::Data(format!("HTTP client: {e}")))
}
