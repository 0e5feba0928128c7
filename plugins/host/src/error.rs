//! [`PluginError`]: every refusal of the plugin host, with a stable [`ErrorCode`].

use std::path::PathBuf;
use std::time::Duration;

use camr::protocol::ErrorCode;

/// An error of the plugin host: loading an adapter, or a call to one.
///
/// [`PluginError::code`] gives the stable wire code: load errors and refusals without a call
/// are `ADAPTER_UNAVAILABLE`, a call past its deadline is `ADAPTER_TIMEOUT`, a panic or a
/// malformed answer is `ADAPTER_FAILED`, and an error the adapter reported keeps its code
/// (normalised to a camr code, see [`PluginError::Adapter`]).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// The plugin folder or a plugin file could not be read.
    #[error("cannot read {}: {reason}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Pins are configured and this file has none: only pinned files load.
    #[error("{} is not pinned (the host pins plugin hashes, and this file is not in the list)", path.display())]
    Unpinned {
        /// The file.
        path: PathBuf,
    },
    /// The file's SHA-256 differs from its pin: the file changed.
    #[error("{} was refused: its SHA-256 is {actual}, but the pin says {expected}", path.display())]
    PinMismatch {
        /// The file.
        path: PathBuf,
        /// The pinned hash (lower-case hex).
        expected: String,
        /// The file's hash (lower-case hex).
        actual: String,
    },
    /// The library could not be opened as an abi_stable library (not a shared object,
    /// missing root-module symbol, incompatible abi_stable).
    #[error("cannot open {} as a camr adapter: {reason}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// abi_stable's layout check (or its version check of the ABI crate) refused the root
    /// module: the adapter was built against an incompatible `camr-plugin-abi`.
    #[error("{} is not ABI-compatible: {reason}", path.display())]
    Incompatible {
        /// The file.
        path: PathBuf,
        /// abi_stable's report.
        reason: String,
    },
    /// The adapter reports another ABI version.
    #[error("{} speaks adapter ABI version {actual}; this host speaks version {expected}", path.display())]
    AbiVersion {
        /// The file.
        path: PathBuf,
        /// The host's version.
        expected: u32,
        /// The adapter's version.
        actual: u32,
    },
    /// The adapter could not be created or described (its `new_adapter` or `info` failed,
    /// panicked, timed out, or `info` is invalid).
    #[error("adapter {source_name} is unusable: {reason}")]
    BadAdapter {
        /// The file path, or `static`.
        source_name: String,
        /// Why.
        reason: String,
    },
    /// Two adapters claim one vendor code.
    #[error("two adapters claim caOrgType `{ca_org_type}`: {first} and {second}")]
    DuplicateVendor {
        /// The vendor code.
        ca_org_type: String,
        /// The adapter already registered (file path or `static`).
        first: String,
        /// The adapter refused.
        second: String,
    },
    /// No adapter is registered for the vendor code.
    #[error("no adapter is loaded for caOrgType `{ca_org_type}`")]
    NoAdapter {
        /// The vendor code.
        ca_org_type: String,
    },
    /// The vendor's circuit breaker is open after repeated failures.
    #[error(
        "the adapter for `{ca_org_type}` is paused after repeated failures; next try in {retry_in:?}"
    )]
    BreakerOpen {
        /// The vendor code.
        ca_org_type: String,
        /// Time until a trial call is let through.
        retry_in: Duration,
    },
    /// Too many calls to the vendor are still running (hung calls hold their worker).
    #[error(
        "the adapter for `{ca_org_type}` has {in_flight} calls still running (at most {max} at a time)"
    )]
    Saturated {
        /// The vendor code.
        ca_org_type: String,
        /// Calls still running.
        in_flight: usize,
        /// The limit.
        max: usize,
    },
    /// The call did not finish before its deadline; its worker thread was abandoned.
    #[error("`{method}` of the adapter for `{ca_org_type}` did not answer within {deadline:?}")]
    Timeout {
        /// The vendor code.
        ca_org_type: String,
        /// The adapter method.
        method: &'static str,
        /// The deadline.
        deadline: Duration,
    },
    /// The adapter panicked (caught at the boundary by `export_adapter!`, or on the host's
    /// worker thread for statically linked adapters).
    #[error("`{method}` of the adapter for `{ca_org_type}` panicked: {message}")]
    Panicked {
        /// The vendor code.
        ca_org_type: String,
        /// The adapter method.
        method: &'static str,
        /// The panic message.
        message: String,
    },
    /// The adapter answered something that is not what the ABI promises (e.g. malformed
    /// evidence JSON).
    #[error("`{method}` of the adapter for `{ca_org_type}` answered malformed output: {reason}")]
    BadOutput {
        /// The vendor code.
        ca_org_type: String,
        /// The adapter method.
        method: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The adapter reported an error. `code` is the adapter's code when it is one a caller can
    /// act on (`INPUT_MALFORMED`, `CERT_MALFORMED`, `UNSUPPORTED_ALGORITHM`,
    /// `ADAPTER_UNAVAILABLE`, `ADAPTER_TIMEOUT`), else `ADAPTER_FAILED`.
    #[error("`{method}` of the adapter for `{ca_org_type}` failed: {code}: {message}")]
    Adapter {
        /// The vendor code.
        ca_org_type: String,
        /// The adapter method.
        method: &'static str,
        /// The normalised code.
        code: ErrorCode,
        /// The adapter's message (with its original code when it was normalised).
        message: String,
    },
    /// The host could not start a worker thread.
    #[error("cannot start a worker thread: {reason}")]
    Spawn {
        /// Why.
        reason: String,
    },
}

impl PluginError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Timeout { .. } => ErrorCode::AdapterTimeout,
            Self::Panicked { .. } | Self::BadOutput { .. } => ErrorCode::AdapterFailed,
            Self::Adapter { code, .. } => *code,
            Self::Spawn { .. } => ErrorCode::Internal,
            Self::Io { .. }
            | Self::Unpinned { .. }
            | Self::PinMismatch { .. }
            | Self::Open { .. }
            | Self::Incompatible { .. }
            | Self::AbiVersion { .. }
            | Self::BadAdapter { .. }
            | Self::DuplicateVendor { .. }
            | Self::NoAdapter { .. }
            | Self::BreakerOpen { .. }
            | Self::Saturated { .. } => ErrorCode::AdapterUnavailable,
        }
    }

    /// Whether this error came from loading or registering an adapter (as opposed to a call).
    pub fn is_load_error(&self) -> bool {
        matches!(
            self,
            Self::Io { .. }
                | Self::Unpinned { .. }
                | Self::PinMismatch { .. }
                | Self::Open { .. }
                | Self::Incompatible { .. }
                | Self::AbiVersion { .. }
                | Self::BadAdapter { .. }
                | Self::DuplicateVendor { .. }
        )
    }
}

/// Adapter error codes a caller can act on, kept as they are. Codes of the first group are
/// the caller's fault (bad input) and do not count toward the vendor's circuit breaker.
pub(crate) fn normalise_adapter_code(code: &str) -> (ErrorCode, bool) {
    match code.parse::<ErrorCode>() {
        Ok(
            c @ (ErrorCode::InputMalformed
            | ErrorCode::CertMalformed
            | ErrorCode::UnsupportedAlgorithm),
        ) => (c, false),
        Ok(c @ (ErrorCode::AdapterUnavailable | ErrorCode::AdapterTimeout)) => (c, true),
        _ => (ErrorCode::AdapterFailed, true),
    }
}
