//! # camr-plugin-abi — the stable ABI between camr and CA-vendor adapter plugins
//!
//! A CA vendor (CA 机构) writes an *adapter*: a `cdylib` that turns the vendor's wire format into
//! camr's normalised evidence and answers the outbound calls only the vendor can answer
//! (encryption certificate, certificate status, push tasks, usage reports). The platform's
//! plugin host (`camr-plugin-host`) loads it at run time, without rebuilding the platform.
//!
//! Adapters *translate*; camr *verifies*: whatever an adapter answers, the core re-verifies
//! every signature, the chain, key usage, validity, revocation and the binding to the
//! transaction. A buggy or malicious adapter can cause a failure, never a false success.
//!
//! ## Writing an adapter
//!
//! ```ignore
//! use camr_plugin_abi::{AdapterError, AdapterImpl, AdapterInfo, export_adapter};
//!
//! #[derive(Default)]
//! struct MyVendor { /* endpoints, credentials: behind a Mutex/OnceLock, set by `configure` */ }
//!
//! impl AdapterImpl for MyVendor {
//!     fn info(&self) -> AdapterInfo { /* caOrgType, name, version, operations, algorithms */ }
//!     fn configure(&self, config_json: &str) -> Result<(), AdapterError> { Ok(()) }
//!     fn decode_evidence(&self, operation: &str, raw: &[u8]) -> Result<String, AdapterError> {
//!         // the vendor's wire format in, JSON of `camr::protocol::Evidence` out
//!     }
//!     // fetch_encryption_cert, cert_status, push_task, poll_task, report_usage, list_seals:
//!     // optional
//! }
//!
//! export_adapter!(MyVendor);
//! ```
//!
//! Build it with `crate-type = ["cdylib"]` and drop the `.so` into the platform's plugin
//! folder. No `unsafe` is needed in adapter code: [`export_adapter!`] defines the root module,
//! wraps the adapter in the FFI-safe trait object and catches panics at the boundary
//! (a panic becomes an [`codes::ADAPTER_FAILED`] error instead of unwinding into the host).
//!
//! ## The ABI
//!
//! - The root module [`AdapterModRef`] (abi_stable [`RootModule`]) exports
//!   `abi_version() -> u32` (must equal [`CAMR_ADAPTER_ABI_VERSION`]) and `new_adapter()`,
//!   which returns an [`AdapterBox`], a `#[sabi_trait]` object of [`Adapter`].
//! - Payloads are JSON ([`RString`]) of camr's protocol types, or bytes ([`RVec<u8>`] /
//!   [`RSlice<u8>`]) for DER and raw wire data; errors are [`AdapterError`] (a stable camr
//!   error code and a sentence) in an [`RResult`].
//! - abi_stable checks the layout of the root module and of every type reachable from it when
//!   the host loads the library; the host also checks `abi_version()`.
//! - **Compatible additions.** The trait's methods up to `report_usage` are its prefix
//!   (`#[sabi(last_prefix_field)]`): every adapter has them. Methods added later
//!   (`list_seals`, the user's seals 印章) are optional in the vtable and have a default
//!   body in the trait, which abi_stable runs when an adapter built before the addition is
//!   called: the caller gets `ADAPTER_UNAVAILABLE` ("does not offer `list_seals`"), never a
//!   panic, and [`CAMR_ADAPTER_ABI_VERSION`] stays the same.
//!
//! ## Unsafe code
//!
//! The workspace forbids `unsafe`. abi_stable's derive (`StableAbi`), `#[sabi_trait]` and
//! `#[export_root_module]` macros expand to `unsafe` blocks and to an exported `no_mangle`
//! static, so this crate *denies* `unsafe_code` instead of forbidding it and allows it only on
//! the modules holding those macro invocations ([`ffi`] items and the macro-generated export).
//! There is no hand-written `unsafe` block here.
#![deny(unused_must_use)]
#![warn(missing_docs)]

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

pub use abi_stable;
use abi_stable::library::RootModule;
pub use abi_stable::std_types::{RResult, RSlice, RStr, RString, RVec};
use serde::{Deserialize, Serialize};

pub use ffi::{
    Adapter, Adapter_TO, AdapterBox, AdapterError, AdapterMod, AdapterModRef, NewAdapterFn,
};

/// The ABI version of this crate. A host loads only adapters whose `abi_version()` equals its
/// own; it changes whenever the trait or the payload conventions change incompatibly.
///
/// Methods added after [`Adapter::report_usage`] (the trait's `last_prefix_field`) are
/// compatible additions and keep the version: `list_seals` (version 1, second edition) is
/// one. An adapter built before it still loads; calling the new method on it runs the
/// trait's default body (`ADAPTER_UNAVAILABLE`).
pub const CAMR_ADAPTER_ABI_VERSION: u32 = 1;

/// The stable error codes an adapter reports (camr's `ErrorCode` wire strings).
pub mod codes {
    /// The adapter failed (bug, panic, unexpected vendor answer).
    pub const ADAPTER_FAILED: &str = "ADAPTER_FAILED";
    /// The vendor's service cannot be reached, or the adapter does not offer the call.
    pub const ADAPTER_UNAVAILABLE: &str = "ADAPTER_UNAVAILABLE";
    /// The vendor's service did not answer in time.
    pub const ADAPTER_TIMEOUT: &str = "ADAPTER_TIMEOUT";
    /// The input (the app's raw answer, a JSON payload) is malformed: the caller's fault,
    /// not the adapter's.
    pub const INPUT_MALFORMED: &str = "INPUT_MALFORMED";
    /// A certificate handed to the adapter could not be decoded.
    pub const CERT_MALFORMED: &str = "CERT_MALFORMED";
    /// The algorithm is not supported by this vendor.
    pub const UNSUPPORTED_ALGORITHM: &str = "UNSUPPORTED_ALGORITHM";
}

/// The FFI-safe items. abi_stable's macros generate `unsafe` code here (layout constants,
/// vtables, transmutes of erased pointers); that is the reason for the `allow`. The
/// `non_local_definitions` allowance is for `#[sabi_trait]`, which puts trait impls inside a
/// `const` block.
#[allow(unsafe_code, non_local_definitions)]
mod ffi {
    use abi_stable::{
        StableAbi, declare_root_module_statics,
        library::RootModule,
        package_version_strings, sabi_trait,
        sabi_types::VersionStrings,
        std_types::{RBox, RResult, RSlice, RStr, RString, RVec},
    };

    /// An error crossing the ABI: a stable camr error code (see [`crate::codes`]) and a
    /// sentence for people.
    #[repr(C)]
    #[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
    pub struct AdapterError {
        /// Stable camr error code, e.g. `ADAPTER_FAILED`, `INPUT_MALFORMED`.
        pub code: RString,
        /// What went wrong, for logs and operators.
        pub message: RString,
    }

    /// The adapter as seen across the ABI (an FFI-safe trait object, [`AdapterBox`]).
    ///
    /// Adapter authors do not implement this trait: they implement [`crate::AdapterImpl`] and
    /// use [`crate::export_adapter!`], which implements it with panic catching.
    #[sabi_trait]
    pub trait Adapter: Send + Sync {
        /// JSON of [`crate::AdapterInfo`].
        fn info(&self) -> RResult<RString, AdapterError>;

        /// Applies a JSON configuration (endpoints, credentials, timeouts).
        fn configure(&self, config_json: RStr<'_>) -> RResult<(), AdapterError>;

        /// Decodes the app's raw answer for `operation` (a camr `Operation` wire name, e.g.
        /// `login`) into JSON of `camr::protocol::Evidence`.
        fn decode_evidence(
            &self,
            operation: RStr<'_>,
            raw: RSlice<'_, u8>,
        ) -> RResult<RString, AdapterError>;

        /// The DER encryption certificate of the subject (JSON of `camr::pki::Subject`-like
        /// fields: name, identity number, unified social credit code, certificate serial).
        fn fetch_encryption_cert(&self, subject_json: RStr<'_>) -> RResult<RVec<u8>, AdapterError>;

        /// The vendor's view of a certificate's status: JSON `{"status":"good"|"frozen"|
        /// "revoked"|"unknown"}`.
        fn cert_status(&self, cert_der: RSlice<'_, u8>) -> RResult<RString, AdapterError>;

        /// Liveness check without payload (no JSON on either side): the cheapest call
        /// through the boundary, used by health probes and to measure the ABI's own cost.
        fn ping(&self) -> RResult<(), AdapterError>;

        /// Pushes a signing task to a known user's app (vendor-initiated signing); returns a
        /// handle for [`Adapter::poll_task`].
        fn push_task(
            &self,
            user_json: RStr<'_>,
            request_json: RStr<'_>,
        ) -> RResult<RString, AdapterError>;

        /// The state of a pushed task, JSON.
        fn poll_task(&self, handle: RStr<'_>) -> RResult<RString, AdapterError>;

        /// Reports one use (JSON of `camr::protocol::UsageRecord`) for per-use billing.
        #[sabi(last_prefix_field)]
        fn report_usage(&self, record_json: RStr<'_>) -> RResult<(), AdapterError>;

        /// The seals (印章) the vendor keeps for the subject (JSON of `camr::pki::Subject`,
        /// as for [`Adapter::fetch_encryption_cert`]): a JSON array of
        /// `camr::protocol::SealInfo`.
        ///
        /// Added after [`Adapter::report_usage`], the last prefix field: an adapter built
        /// before this method existed has no vtable slot for it, and abi_stable then calls
        /// this default body, so the call is an `ADAPTER_UNAVAILABLE` error, not a panic.
        fn list_seals(&self, subject_json: RStr<'_>) -> RResult<RString, AdapterError> {
            let _ = subject_json;
            RResult::RErr(crate::AdapterError::unsupported("list_seals"))
        }
    }

    /// The owned, FFI-safe adapter trait object that `new_adapter` returns.
    pub type AdapterBox = Adapter_TO<'static, RBox<()>>;

    /// The type of the root module's `new_adapter` function.
    pub type NewAdapterFn = extern "C" fn() -> RResult<AdapterBox, AdapterError>;

    /// The root module every adapter library exports (through [`crate::export_adapter!`]).
    #[repr(C)]
    #[derive(StableAbi)]
    #[sabi(kind(Prefix(prefix_ref = AdapterModRef)))]
    #[sabi(missing_field(panic))]
    pub struct AdapterMod {
        /// The ABI version the library was built against ([`crate::CAMR_ADAPTER_ABI_VERSION`]).
        pub abi_version: extern "C" fn() -> u32,
        /// Creates the adapter (unconfigured).
        #[sabi(last_prefix_field)]
        pub new_adapter: extern "C" fn() -> RResult<AdapterBox, AdapterError>,
    }

    impl RootModule for AdapterModRef {
        declare_root_module_statics! {AdapterModRef}
        const BASE_NAME: &'static str = "camr_adapter";
        const NAME: &'static str = "camr_adapter";
        const VERSION_STRINGS: VersionStrings = package_version_strings!();
    }
}

impl AdapterError {
    /// An error with a code and a message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: RString::from(code),
            message: RString::from(message.into()),
        }
    }

    /// `ADAPTER_FAILED`: the adapter itself failed.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(codes::ADAPTER_FAILED, message)
    }

    /// `INPUT_MALFORMED`: the input handed to the adapter is malformed.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(codes::INPUT_MALFORMED, message)
    }

    /// `ADAPTER_UNAVAILABLE`: the vendor's service cannot be reached.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(codes::ADAPTER_UNAVAILABLE, message)
    }

    /// `ADAPTER_UNAVAILABLE`: this adapter does not offer `method`.
    pub fn unsupported(method: &str) -> Self {
        Self::new(
            codes::ADAPTER_UNAVAILABLE,
            format!("this adapter does not offer `{method}`"),
        )
    }

    /// The code.
    pub fn code(&self) -> &str {
        self.code.as_str()
    }

    /// The message.
    pub fn message(&self) -> &str {
        self.message.as_str()
    }
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AdapterError {}

/// What an adapter is: the JSON that `info()` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdapterInfo {
    /// The CA vendor code (CA 机构代码, `caOrgType`) this adapter answers for; the host routes
    /// by it and refuses two adapters claiming the same one.
    pub ca_org_type: String,
    /// The vendor's name, for people.
    pub vendor_name: String,
    /// The adapter's own version.
    pub adapter_version: String,
    /// Operations the vendor's app supports (camr `Operation` wire names: `login`,
    /// `messageSignature`, `signature`, `revokeSignature`, `encrypt`, `decrypt`).
    pub operations: Vec<String>,
    /// Key algorithms (`SM2`, `RSA`, `ECDSA_P256`).
    pub algorithms: Vec<String>,
}

/// A certificate's status as the vendor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CertStatus {
    /// Valid.
    Good,
    /// On hold (冻结).
    Frozen,
    /// Revoked.
    Revoked,
    /// The vendor does not know the certificate.
    Unknown,
}

/// The JSON form of `cert_status()`: `{"status":"good"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertStatusReport {
    /// The status.
    pub status: CertStatus,
}

/// The adapter trait in plain Rust types: what adapter authors implement.
///
/// Methods take `&self` because the host may call an adapter from several threads at once;
/// keep mutable state (configuration, tokens) behind a `Mutex`, `RwLock` or `OnceLock`.
/// Return errors, do not panic: a panic is caught at the boundary and reported as
/// `ADAPTER_FAILED`, and counts toward the vendor's circuit breaker.
pub trait AdapterImpl: Send + Sync + 'static {
    /// What this adapter is (vendor code, name, version, operations, algorithms).
    fn info(&self) -> AdapterInfo;

    /// Applies a JSON configuration (endpoints, credentials, timeouts).
    fn configure(&self, config_json: &str) -> Result<(), AdapterError>;

    /// The vendor's wire format in, JSON of `camr::protocol::Evidence` out.
    fn decode_evidence(&self, operation: &str, raw: &[u8]) -> Result<String, AdapterError>;

    /// The DER encryption certificate of a subject (JSON).
    fn fetch_encryption_cert(&self, subject_json: &str) -> Result<Vec<u8>, AdapterError> {
        let _ = subject_json;
        Err(AdapterError::unsupported("fetch_encryption_cert"))
    }

    /// The vendor's view of a certificate's status.
    fn cert_status(&self, cert_der: &[u8]) -> Result<CertStatus, AdapterError> {
        let _ = cert_der;
        Err(AdapterError::unsupported("cert_status"))
    }

    /// Liveness check; the default answers at once.
    fn ping(&self) -> Result<(), AdapterError> {
        Ok(())
    }

    /// Pushes a signing task to a known user's app; returns a handle.
    fn push_task(&self, user_json: &str, request_json: &str) -> Result<String, AdapterError> {
        let _ = (user_json, request_json);
        Err(AdapterError::unsupported("push_task"))
    }

    /// The state of a pushed task, JSON.
    fn poll_task(&self, handle: &str) -> Result<String, AdapterError> {
        let _ = handle;
        Err(AdapterError::unsupported("poll_task"))
    }

    /// Reports one use (JSON of `camr::protocol::UsageRecord`).
    fn report_usage(&self, record_json: &str) -> Result<(), AdapterError> {
        let _ = record_json;
        Err(AdapterError::unsupported("report_usage"))
    }

    /// The user's seals (印章): JSON of `camr::pki::Subject` in (the holder of the signing
    /// certificate), a JSON array of `camr::protocol::SealInfo` out. The default answers
    /// `ADAPTER_UNAVAILABLE` (the vendor keeps no seals).
    fn list_seals(&self, subject_json: &str) -> Result<String, AdapterError> {
        let _ = subject_json;
        Err(AdapterError::unsupported("list_seals"))
    }
}

impl<T: AdapterImpl + ?Sized> AdapterImpl for Box<T> {
    fn info(&self) -> AdapterInfo {
        (**self).info()
    }
    fn configure(&self, config_json: &str) -> Result<(), AdapterError> {
        (**self).configure(config_json)
    }
    fn decode_evidence(&self, operation: &str, raw: &[u8]) -> Result<String, AdapterError> {
        (**self).decode_evidence(operation, raw)
    }
    fn fetch_encryption_cert(&self, subject_json: &str) -> Result<Vec<u8>, AdapterError> {
        (**self).fetch_encryption_cert(subject_json)
    }
    fn cert_status(&self, cert_der: &[u8]) -> Result<CertStatus, AdapterError> {
        (**self).cert_status(cert_der)
    }
    fn ping(&self) -> Result<(), AdapterError> {
        (**self).ping()
    }
    fn push_task(&self, user_json: &str, request_json: &str) -> Result<String, AdapterError> {
        (**self).push_task(user_json, request_json)
    }
    fn poll_task(&self, handle: &str) -> Result<String, AdapterError> {
        (**self).poll_task(handle)
    }
    fn report_usage(&self, record_json: &str) -> Result<(), AdapterError> {
        (**self).report_usage(record_json)
    }
    fn list_seals(&self, subject_json: &str) -> Result<String, AdapterError> {
        (**self).list_seals(subject_json)
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}

/// Runs `f`, turning a panic into an `ADAPTER_FAILED` error naming `method`.
pub fn guard<T>(
    method: &str,
    f: impl FnOnce() -> Result<T, AdapterError>,
) -> Result<T, AdapterError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(AdapterError::failed(format!(
            "the adapter panicked in `{method}`: {}",
            panic_message(payload.as_ref())
        ))),
    }
}

/// Wraps an [`AdapterImpl`] into the FFI trait [`Adapter`], catching panics in every method.
#[derive(Debug)]
pub struct Guarded<T>(pub T);

fn to_json<T: Serialize>(method: &str, value: &T) -> Result<RString, AdapterError> {
    serde_json::to_string(value)
        .map(RString::from)
        .map_err(|e| AdapterError::failed(format!("cannot encode the answer of `{method}` ({e})")))
}

impl<T: AdapterImpl> Adapter for Guarded<T> {
    fn info(&self) -> RResult<RString, AdapterError> {
        guard("info", || to_json("info", &self.0.info())).into()
    }

    fn configure(&self, config_json: RStr<'_>) -> RResult<(), AdapterError> {
        guard("configure", || self.0.configure(config_json.as_str())).into()
    }

    fn decode_evidence(
        &self,
        operation: RStr<'_>,
        raw: RSlice<'_, u8>,
    ) -> RResult<RString, AdapterError> {
        guard("decode_evidence", || {
            self.0
                .decode_evidence(operation.as_str(), raw.as_slice())
                .map(RString::from)
        })
        .into()
    }

    fn fetch_encryption_cert(&self, subject_json: RStr<'_>) -> RResult<RVec<u8>, AdapterError> {
        guard("fetch_encryption_cert", || {
            self.0
                .fetch_encryption_cert(subject_json.as_str())
                .map(RVec::from)
        })
        .into()
    }

    fn ping(&self) -> RResult<(), AdapterError> {
        guard("ping", || self.0.ping()).into()
    }

    fn cert_status(&self, cert_der: RSlice<'_, u8>) -> RResult<RString, AdapterError> {
        guard("cert_status", || {
            let status = self.0.cert_status(cert_der.as_slice())?;
            to_json("cert_status", &CertStatusReport { status })
        })
        .into()
    }

    fn push_task(
        &self,
        user_json: RStr<'_>,
        request_json: RStr<'_>,
    ) -> RResult<RString, AdapterError> {
        guard("push_task", || {
            self.0
                .push_task(user_json.as_str(), request_json.as_str())
                .map(RString::from)
        })
        .into()
    }

    fn poll_task(&self, handle: RStr<'_>) -> RResult<RString, AdapterError> {
        guard("poll_task", || {
            self.0.poll_task(handle.as_str()).map(RString::from)
        })
        .into()
    }

    fn report_usage(&self, record_json: RStr<'_>) -> RResult<(), AdapterError> {
        guard("report_usage", || self.0.report_usage(record_json.as_str())).into()
    }

    fn list_seals(&self, subject_json: RStr<'_>) -> RResult<RString, AdapterError> {
        guard("list_seals", || {
            self.0.list_seals(subject_json.as_str()).map(RString::from)
        })
        .into()
    }
}

/// Builds the FFI trait object for an adapter value (what `new_adapter` returns). Also useful
/// to run an in-process adapter through the exact FFI path, e.g. in tests.
pub fn into_adapter_box<T: AdapterImpl>(adapter: T) -> AdapterBox {
    Adapter_TO::from_value(
        Guarded(adapter),
        abi_stable::type_level::downcasting::TD_Opaque,
    )
}

/// Runs an adapter constructor with panic catching and wraps the result. Used by
/// [`export_adapter!`]; not meant to be called directly.
#[doc(hidden)]
pub fn __new_adapter<T: AdapterImpl>(
    ctor: impl FnOnce() -> T,
) -> RResult<AdapterBox, AdapterError> {
    guard("new_adapter", || Ok(into_adapter_box(ctor()))).into()
}

/// What [`export_adapter!`] knows about the exported adapter. Implemented by the macro on a
/// marker type; not meant to be implemented by hand.
#[doc(hidden)]
pub trait __Export: 'static {
    /// The adapter type.
    type Adapter: AdapterImpl;
    /// The ABI version the library reports.
    const ABI_VERSION: u32;
    /// Constructs the adapter.
    fn create() -> Self::Adapter;
}

extern "C" fn export_abi_version<E: __Export>() -> u32 {
    E::ABI_VERSION
}

extern "C" fn export_new_adapter<E: __Export>() -> RResult<AdapterBox, AdapterError> {
    __new_adapter(E::create)
}

fn export_root_module<E: __Export>() -> AdapterModRef {
    use abi_stable::prefix_type::PrefixTypeTrait;
    AdapterMod {
        abi_version: export_abi_version::<E>,
        new_adapter: export_new_adapter::<E>,
    }
    .leak_into_prefix()
}

extern "C" fn export_erased_root_module<E: __Export>() -> abi_stable::library::RootModuleResult {
    // Catches panics and type-erases the root module, as `#[export_root_module]` does.
    abi_stable::library::__call_root_module_loader(export_root_module::<E>)
}

/// The library header an adapter exports under abi_stable's root-module symbol (what
/// `#[export_root_module]` would generate; written out so that adapter crates need no direct
/// abi_stable dependency). Used by [`export_adapter!`]; not meant to be called directly.
#[doc(hidden)]
#[allow(unsafe_code)]
pub const fn __lib_header<E: __Export>() -> abi_stable::library::LibHeader {
    // SAFETY: `from_constructor::<M>` requires the constructor to return a type-erased
    // `PrefixRef<M>`. `export_erased_root_module::<E>` erases exactly the `AdapterModRef`
    // that `export_root_module::<E>` returns, through abi_stable's own
    // `__call_root_module_loader`, as the `#[export_root_module]` expansion does.
    unsafe {
        abi_stable::library::LibHeader::from_constructor::<AdapterModRef>(
            export_erased_root_module::<E>,
            abi_stable::library::CheckTypeLayout::Yes,
        )
    }
}

/// The name of the root module type, for error messages.
pub fn root_module_name() -> &'static str {
    <AdapterModRef as RootModule>::NAME
}

/// Exports an adapter type from a `cdylib`: defines the root module, wraps the adapter in the
/// FFI trait object and catches panics at the boundary.
///
/// `export_adapter!(MyAdapter)` constructs it with `Default::default()`;
/// `export_adapter!(MyAdapter, MyAdapter::new)` with a constructor `fn() -> MyAdapter`.
/// Use it once per library, at the crate root. The adapter crate needs no `unsafe` and no
/// direct abi_stable dependency.
#[macro_export]
macro_rules! export_adapter {
    ($ty:ty) => {
        $crate::__export_adapter_with_abi_version!(
            $ty,
            <$ty as ::core::default::Default>::default,
            $crate::CAMR_ADAPTER_ABI_VERSION
        );
    };
    ($ty:ty, $ctor:expr) => {
        $crate::__export_adapter_with_abi_version!($ty, $ctor, $crate::CAMR_ADAPTER_ABI_VERSION);
    };
}

/// [`export_adapter!`] with an explicit ABI version. Only for the host's test fixtures (an
/// adapter "built against another ABI version"); adapters use [`export_adapter!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __export_adapter_with_abi_version {
    ($ty:ty, $ctor:expr, $version:expr) => {
        #[doc(hidden)]
        pub struct __CamrAdapterExport;

        impl $crate::__Export for __CamrAdapterExport {
            type Adapter = $ty;
            const ABI_VERSION: u32 = $version;
            fn create() -> $ty {
                ($ctor)()
            }
        }

        /// abi_stable's root-module symbol (`abi_stable::library::ROOT_MODULE_LOADER_NAME`,
        /// checked by a test of camr-plugin-abi). Exporting a symbol is an `unsafe` attribute;
        /// it is generated here so that adapter code itself stays free of `unsafe`.
        #[unsafe(no_mangle)]
        #[allow(non_upper_case_globals)]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::abi_stable::library::LibHeader =
            $crate::__lib_header::<__CamrAdapterExport>();
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[derive(Default)]
    struct Echo;

    impl AdapterImpl for Echo {
        fn info(&self) -> AdapterInfo {
            AdapterInfo {
                ca_org_type: "ECHO".into(),
                vendor_name: "Echo".into(),
                adapter_version: "1.0.0".into(),
                operations: vec!["login".into()],
                algorithms: vec!["SM2".into()],
            }
        }
        fn configure(&self, config_json: &str) -> Result<(), AdapterError> {
            if config_json == "boom" {
                panic!("configure exploded");
            }
            Ok(())
        }
        fn decode_evidence(&self, operation: &str, raw: &[u8]) -> Result<String, AdapterError> {
            if raw.is_empty() {
                return Err(AdapterError::malformed("empty"));
            }
            Ok(format!("{operation}:{}", raw.len()))
        }
        fn cert_status(&self, _cert_der: &[u8]) -> Result<CertStatus, AdapterError> {
            Ok(CertStatus::Frozen)
        }
    }

    #[test]
    fn the_ffi_object_forwards_calls_and_errors() {
        let a = into_adapter_box(Echo);
        let info: AdapterInfo = serde_json::from_str(a.info().unwrap().as_str()).unwrap();
        assert_eq!(info.ca_org_type, "ECHO");
        assert_eq!(
            a.decode_evidence(RStr::from("login"), RSlice::from(&b"abc"[..]))
                .unwrap()
                .as_str(),
            "login:3"
        );
        let e = a
            .decode_evidence(RStr::from("login"), RSlice::from(&b""[..]))
            .unwrap_err();
        assert_eq!(e.code(), codes::INPUT_MALFORMED);
        assert_eq!(
            a.cert_status(RSlice::from(&b"x"[..])).unwrap().as_str(),
            r#"{"status":"frozen"}"#
        );
        let e = a.push_task(RStr::from("{}"), RStr::from("{}")).unwrap_err();
        assert_eq!(e.code(), codes::ADAPTER_UNAVAILABLE);
        assert!(e.message().contains("push_task"), "{e}");
        // A method added after the last prefix field, not implemented: unsupported.
        let e = a.list_seals(RStr::from("{}")).unwrap_err();
        assert_eq!(e.code(), codes::ADAPTER_UNAVAILABLE);
        assert!(e.message().contains("list_seals"), "{e}");
    }

    struct Seals;

    impl AdapterImpl for Seals {
        fn info(&self) -> AdapterInfo {
            Echo.info()
        }
        fn configure(&self, _config_json: &str) -> Result<(), AdapterError> {
            Ok(())
        }
        fn decode_evidence(&self, _operation: &str, _raw: &[u8]) -> Result<String, AdapterError> {
            Err(AdapterError::malformed("no"))
        }
        fn list_seals(&self, subject_json: &str) -> Result<String, AdapterError> {
            if subject_json == "boom" {
                panic!("list_seals exploded");
            }
            Ok(format!("[{subject_json}]"))
        }
    }

    #[test]
    fn list_seals_crosses_the_boundary_and_its_panics_are_caught() {
        let a = into_adapter_box(Seals);
        assert_eq!(a.list_seals(RStr::from("1")).unwrap().as_str(), "[1]");
        let e = a.list_seals(RStr::from("boom")).unwrap_err();
        assert_eq!(e.code(), codes::ADAPTER_FAILED);
        assert!(e.message().contains("list_seals exploded"), "{e}");
        // Through a Box too.
        let boxed: Box<dyn AdapterImpl> = Box::new(Seals);
        assert_eq!(boxed.list_seals("2").unwrap(), "[2]");
    }

    #[test]
    fn a_panic_becomes_adapter_failed() {
        let a = into_adapter_box(Echo);
        let e = a.configure(RStr::from("boom")).unwrap_err();
        assert_eq!(e.code(), codes::ADAPTER_FAILED);
        assert!(e.message().contains("configure exploded"), "{e}");
        // The object still works after a caught panic.
        assert!(a.configure(RStr::from("{}")).is_ok());
    }

    #[test]
    fn a_panicking_constructor_is_an_error() {
        let RResult::RErr(e) = __new_adapter::<Echo>(|| panic!("no")) else {
            panic!("a panicking constructor returned an adapter");
        };
        assert_eq!(e.code(), codes::ADAPTER_FAILED);
        assert!(e.message().contains("new_adapter"));
    }
}
#[cfg(test)]
mod export_symbol {
    #[test]
    fn the_macro_exports_abi_stables_root_module_symbol() {
        // `__export_adapter_with_abi_version!` hard-codes this identifier.
        assert_eq!(
            abi_stable::library::ROOT_MODULE_LOADER_NAME,
            "_1as_0lib_1header_0root_bmodule_bloader"
        );
    }
}
