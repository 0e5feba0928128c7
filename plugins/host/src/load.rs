//! Loading one adapter library: pin check, abi_stable's checks, ABI version, `new_adapter`,
//! `info`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use abi_stable::library::{RootModule, lib_header_from_path};
use camr::protocol::{Operation, PublicKeyAlgorithm};
use camr_plugin_abi::{
    AdapterBox, AdapterError, AdapterImpl, AdapterInfo, AdapterModRef, CAMR_ADAPTER_ABI_VERSION,
    CertStatus, CertStatusReport, RSlice, RStr,
};
use sha2::{Digest, Sha256};

use crate::PluginError;
use crate::lane::{Lane, Outcome};

/// An adapter loaded from a shared library, usable as an [`AdapterImpl`] (every method
/// crosses the ABI).
pub struct DynamicAdapter {
    path: PathBuf,
    sha256: String,
    info: AdapterInfo,
    ffi: AdapterBox,
}

impl std::fmt::Debug for DynamicAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicAdapter")
            .field("path", &self.path)
            .field("sha256", &self.sha256)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl DynamicAdapter {
    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The SHA-256 of the file, lower-case hex (what to pin).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The FFI trait object, for calls in the ABI's own types (benchmarks, tests).
    pub fn ffi(&self) -> &AdapterBox {
        &self.ffi
    }
}

fn malformed_answer(method: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::failed(format!("`{method}` answered malformed JSON ({e})"))
}

impl AdapterImpl for DynamicAdapter {
    fn info(&self) -> AdapterInfo {
        self.info.clone()
    }

    fn configure(&self, config_json: &str) -> Result<(), AdapterError> {
        self.ffi
            .configure(RStr::from_str(config_json))
            .into_result()
    }

    fn decode_evidence(&self, operation: &str, raw: &[u8]) -> Result<String, AdapterError> {
        self.ffi
            .decode_evidence(RStr::from_str(operation), RSlice::from_slice(raw))
            .into_result()
            .map(|s| s.into_string())
    }

    fn fetch_encryption_cert(&self, subject_json: &str) -> Result<Vec<u8>, AdapterError> {
        self.ffi
            .fetch_encryption_cert(RStr::from_str(subject_json))
            .into_result()
            .map(|v| v.into_vec())
    }

    fn ping(&self) -> Result<(), AdapterError> {
        self.ffi.ping().into_result()
    }

    fn cert_status(&self, cert_der: &[u8]) -> Result<CertStatus, AdapterError> {
        let json = self
            .ffi
            .cert_status(RSlice::from_slice(cert_der))
            .into_result()?;
        serde_json::from_str::<CertStatusReport>(json.as_str())
            .map(|r| r.status)
            .map_err(|e| malformed_answer("cert_status", e))
    }

    fn push_task(&self, user_json: &str, request_json: &str) -> Result<String, AdapterError> {
        self.ffi
            .push_task(RStr::from_str(user_json), RStr::from_str(request_json))
            .into_result()
            .map(|s| s.into_string())
    }

    fn poll_task(&self, handle: &str) -> Result<String, AdapterError> {
        self.ffi
            .poll_task(RStr::from_str(handle))
            .into_result()
            .map(|s| s.into_string())
    }

    fn report_usage(&self, record_json: &str) -> Result<(), AdapterError> {
        self.ffi
            .report_usage(RStr::from_str(record_json))
            .into_result()
    }

    /// An adapter built before `list_seals` existed answers through the trait's default body
    /// (`ADAPTER_UNAVAILABLE`), see `camr_plugin_abi::Adapter::list_seals`.
    fn list_seals(&self, subject_json: &str) -> Result<String, AdapterError> {
        self.ffi
            .list_seals(RStr::from_str(subject_json))
            .into_result()
            .map(|s| s.into_string())
    }
}

/// SHA-256, lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Loads one adapter library.
///
/// - With `pin` (lower- or upper-case hex SHA-256), the file's bytes are hashed first and a
///   mismatch is refused before any of its code runs; the library is then loaded from a
///   private copy of exactly the bytes that were hashed, so that replacing the file between
///   the check and the load changes nothing.
/// - abi_stable checks its own header, the ABI crate's version and the layout of the root
///   module and every type it reaches; then `abi_version()` must equal
///   [`CAMR_ADAPTER_ABI_VERSION`].
/// - `new_adapter()` and `info()` run on a worker thread with `deadline`; a panic, an error,
///   a timeout or an invalid `info` refuses the adapter.
///
/// The library stays mapped for the rest of the process (abi_stable never unloads: the
/// adapter's code and statics may still be referenced).
///
/// The loading itself uses abi_stable's safe API: `lib_header_from_path` then
/// `init_root_module`, not `RootModule::load_from_file`, which caches the *first* library
/// loaded for a root-module type in a process-wide static and would hand every later file
/// the first adapter.
pub fn load_adapter_file(
    path: &Path,
    pin: Option<&str>,
    deadline: Duration,
) -> Result<DynamicAdapter, PluginError> {
    load_adapter_file_as(path, pin, deadline, false)
}

/// [`load_adapter_file`], always from a private copy when `always_copy` (a reload of a file
/// the process may have mapped already: the dynamic loader would hand back the old library
/// for the same path).
pub(crate) fn load_adapter_file_as(
    path: &Path,
    pin: Option<&str>,
    deadline: Duration,
    always_copy: bool,
) -> Result<DynamicAdapter, PluginError> {
    let bytes = std::fs::read(path).map_err(|e| PluginError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let sha256 = sha256_hex(&bytes);
    let private_copy = match pin {
        Some(expected) => {
            let expected = expected.trim().to_ascii_lowercase();
            if expected != sha256 {
                return Err(PluginError::PinMismatch {
                    path: path.to_path_buf(),
                    expected,
                    actual: sha256,
                });
            }
            Some(private_copy(path, &bytes)?)
        }
        None if always_copy => Some(private_copy(path, &bytes)?),
        None => None,
    };
    drop(bytes);
    let load_path = private_copy
        .as_ref()
        .map(|(_, p)| p.as_path())
        .unwrap_or(path);

    let header = lib_header_from_path(load_path).map_err(|e| PluginError::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let module =
        header
            .init_root_module::<AdapterModRef>()
            .map_err(|e| PluginError::Incompatible {
                path: path.to_path_buf(),
                reason: format!("{} ({e})", <AdapterModRef as RootModule>::NAME),
            })?;
    // The library is mapped; the private copy's file is no longer needed.
    drop(private_copy);

    let source = path.display().to_string();
    let bad = |reason: String| PluginError::BadAdapter {
        source_name: source.clone(),
        reason,
    };

    // Plugin code from here on: run it on a worker with the deadline.
    let lane = Lane::new("load", 1);
    let created = lane.run(deadline, move || {
        let version = (module.abi_version())();
        if version != CAMR_ADAPTER_ABI_VERSION {
            return Err(Err(version));
        }
        let ffi = (module.new_adapter())().into_result().map_err(Ok)?;
        let info = ffi.info().into_result().map(|s| s.into_string());
        Ok((ffi, info))
    });
    let (ffi, info_json) = match created {
        Outcome::Done(Ok(v)) => v,
        Outcome::Done(Err(Err(actual))) => {
            return Err(PluginError::AbiVersion {
                path: path.to_path_buf(),
                expected: CAMR_ADAPTER_ABI_VERSION,
                actual,
            });
        }
        Outcome::Done(Err(Ok(e))) => return Err(bad(format!("new_adapter failed: {e}"))),
        other => return Err(bad(load_outcome_text(&other, deadline))),
    };
    let info_json = info_json.map_err(|e| bad(format!("info failed: {e}")))?;
    let info: AdapterInfo = serde_json::from_str(&info_json)
        .map_err(|e| bad(format!("info answered malformed JSON ({e})")))?;
    validate_info(&info).map_err(bad)?;
    Ok(DynamicAdapter {
        path: path.to_path_buf(),
        sha256,
        info,
        ffi,
    })
}

pub(crate) fn load_outcome_text<T>(outcome: &Outcome<T>, deadline: Duration) -> String {
    match outcome {
        Outcome::Done(_) => "done".into(),
        Outcome::Panicked(m) => format!("it panicked: {m}"),
        Outcome::TimedOut => format!("it did not answer within {deadline:?}"),
        Outcome::Saturated(n) => format!("{n} calls still running"),
        Outcome::SpawnFailed(e) => format!("cannot start a worker thread: {e}"),
    }
}

/// A private folder holding a copy of the library's bytes.
fn private_copy(path: &Path, bytes: &[u8]) -> Result<(tempfile::TempDir, PathBuf), PluginError> {
    let io = |e: std::io::Error| PluginError::Io {
        path: path.to_path_buf(),
        reason: format!("cannot make a private copy to load ({e})"),
    };
    let dir = tempfile::Builder::new()
        .prefix("camr-plugin-")
        .tempdir()
        .map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "adapter.so".into());
    let copy = dir.path().join(name);
    std::fs::write(&copy, bytes).map_err(io)?;
    Ok((dir, copy))
}

/// Checks what `info()` claims: a usable vendor code, known operations and algorithms.
pub(crate) fn validate_info(info: &AdapterInfo) -> Result<(), String> {
    let code = &info.ca_org_type;
    if code.is_empty()
        || code.len() > 64
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(format!(
            "caOrgType must be 1-64 characters of A-Z, a-z, 0-9, `_`, `-`, `.`; got {code:?}"
        ));
    }
    if info.vendor_name.trim().is_empty() {
        return Err("vendorName is empty".into());
    }
    for op in &info.operations {
        op.parse::<Operation>()
            .map_err(|_| format!("unknown operation {op:?} in info"))?;
    }
    for alg in &info.algorithms {
        serde_json::from_value::<PublicKeyAlgorithm>(serde_json::Value::String(alg.clone()))
            .map_err(|_| format!("unknown algorithm {alg:?} in info"))?;
    }
    Ok(())
}
