//! # camr — national CA mutual recognition (全国 CA 互认) for e-tendering platforms
//!
//! `camr` lets a trading platform (交易平台) accept the mobile certificate app of any
//! participating CA vendor through the national interop QR code, instead of one USB key or
//! app per platform and region.
//!
//! - [`crypto`]: the [`crypto::CryptoProvider`] trait and the default RustCrypto provider
//!   (SM2/SM3/SM4, P-256, RSA, AES-GCM, HMAC); no hidden global, every entry point takes a
//!   provider explicitly.
//! - [`protocol`]: the wire types (serde + JSON Schema) shared by platforms, apps and adapters.
//! - [`qr`]: the `camr1:` QR payload — make, sign, parse, verify, rotate, render.
//! - [`pki`]: certificates, CRLs, identity extraction and chain validation.
//! - [`envelope`]: GM/T 0010 / CMS signed data and envelopes, and streaming bid files.
//! - [`ceremony`]: the six operations on the platform side (start, answer, finish), and
//!   [`app`]: the same on the app side; [`store`]: where transactions, usage and audit live.
//! - [`softca`]: the reference software CA (root, issuing CA, dual certificates, CRLs).
//! - `seal` (feature `pdf`, default): document seals (签章) on PDF files, incremental
//!   updates with CMS / GM/T 0010 signatures, and their verification.
//!
//! Nothing here panics on input from the network, a file or a plugin: every failure is an
//! [`Error`] with a stable [`protocol::ErrorCode`] and a sentence.
#![forbid(unsafe_code)]
#![deny(unused_must_use)]
#![warn(missing_docs)]

pub mod app;
pub mod ceremony;
pub mod cosign;
pub mod crypto;
pub mod envelope;
mod error;
pub mod hall;
pub mod pki;
pub mod protocol;
pub mod qr;
pub mod registry;
pub mod schemas;
#[cfg(feature = "pdf")]
pub mod seal;
pub mod softca;
pub mod store;
pub mod time;
pub mod timestamp;

pub use error::{Error, Result};
