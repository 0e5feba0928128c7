//! QR profiles (二维码类型): how a QR code's payload is written, read and checked, and how the
//! request and the answer travel. The ceremonies ([`crate::ceremony`]) and the app side
//! ([`crate::app`]) go through a `dyn QrProfile` and never look at the text themselves.
//!
//! - [`Camr1`] — the national interop code (全国互认码) as camr writes it, the default;
//! - [`super::Vendor1`] — a vendor's own app code (厂商码), modelled on the Epoint manual's
//!   "新点标证通 APP 二维码" shown beside the national one ("业务系统支持两种二维码类型").

use std::sync::Arc;

use crate::crypto::{CryptoProvider, PublicKey};
use crate::protocol::QrPayload;

use super::{QrError, QrFields, QrSigner, VerifyOptions};

/// One QR profile: encode, parse, verify, and the transport of request and answer.
///
/// Every profile signs with the platform key the registry lists, over bytes that start with
/// the profile's own context, so a code of one profile never verifies as another's.
pub trait QrProfile: std::fmt::Debug + Send + Sync {
    /// Stable short id (`camr1`, `vendor1`); also the value of the `qr` query parameter a
    /// non-default profile adds to the URIs the app calls.
    fn id(&self) -> &'static str;

    /// What the login page writes under the code (Chinese · English).
    fn caption(&self) -> &'static str;

    /// Whether this is the national interop code (全国互认码), which only national
    /// certificates (全国版证书) may answer; a vendor's own code (厂商码) also takes that
    /// vendor's platform-only certificates (本平台证书).
    fn national(&self) -> bool;

    /// Whether `text` is written in this profile (its prefix); [`QrProfile::parse`] decides
    /// whether it is well formed.
    fn recognises(&self, text: &str) -> bool;

    /// Makes and signs a payload with the platform's signer.
    fn sign(&self, signer: &QrSigner, fields: &QrFields) -> crate::Result<QrPayload>;

    /// The text that goes into the QR symbol.
    fn encode(&self, payload: &QrPayload) -> String;

    /// Parses text strictly (`QR_MALFORMED` for anything else, including another profile's
    /// code).
    fn parse(&self, text: &str) -> Result<QrPayload, QrError>;

    /// Verifies the platform signature with `key`, then the expiry (`QR_SIGNATURE_INVALID`,
    /// `QR_EXPIRED`).
    fn verify(
        &self,
        provider: &dyn CryptoProvider,
        payload: &QrPayload,
        key: &PublicKey,
        options: VerifyOptions,
    ) -> Result<(), QrError>;

    /// Transport of the request: the URI the app fetches the signed request object from
    /// (the signed request URI, plus a rotating code's live part, plus the profile's tag).
    fn request_fetch_uri(&self, payload: &QrPayload) -> String;

    /// Transport of the answer: the URI the app posts its answer to, given the request
    /// object's `responseUri`.
    fn response_post_uri(&self, response_uri: &str) -> String;

    /// Parses and verifies in one step.
    fn parse_and_verify(
        &self,
        provider: &dyn CryptoProvider,
        text: &str,
        key: &PublicKey,
        options: VerifyOptions,
    ) -> Result<QrPayload, QrError> {
        let payload = self.parse(text)?;
        self.verify(provider, &payload, key, options)?;
        Ok(payload)
    }
}

/// Appends `key=value` to `uri` with `?` or `&`.
pub(crate) fn with_query(uri: &str, key: &str, value: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{key}={value}")
}

/// The profile among `profiles` that recognises `text` (the first one), e.g. for an app
/// that scans either code.
pub fn find_profile(
    profiles: &[Arc<dyn QrProfile>],
    text: &str,
) -> Result<Arc<dyn QrProfile>, QrError> {
    profiles
        .iter()
        .find(|p| p.recognises(text))
        .cloned()
        .ok_or_else(|| QrError::Malformed {
            reason: format!(
                "not a code of any known QR profile ({}); starts with `{}`",
                profiles
                    .iter()
                    .map(|p| p.id())
                    .collect::<Vec<_>>()
                    .join(", "),
                crate::crypto::truncate(text, 12)
            ),
        })
}

/// The national interop code as camr writes it (`CAMR1:…`, `docs/protocol.md`): the
/// default profile. The request and answer travel to the signed URIs unchanged (a rotating
/// code adds `rot=` to the fetch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Camr1;

impl QrProfile for Camr1 {
    fn id(&self) -> &'static str {
        "camr1"
    }

    fn caption(&self) -> &'static str {
        "全国 CA 互认二维码 · national interop QR"
    }

    fn national(&self) -> bool {
        true
    }

    fn recognises(&self, text: &str) -> bool {
        text.starts_with(super::SCHEME_PREFIX)
    }

    fn sign(&self, signer: &QrSigner, fields: &QrFields) -> crate::Result<QrPayload> {
        signer.sign(fields)
    }

    fn encode(&self, payload: &QrPayload) -> String {
        super::encode(payload)
    }

    fn parse(&self, text: &str) -> Result<QrPayload, QrError> {
        super::parse(text)
    }

    fn verify(
        &self,
        provider: &dyn CryptoProvider,
        payload: &QrPayload,
        key: &PublicKey,
        options: VerifyOptions,
    ) -> Result<(), QrError> {
        super::verify(provider, payload, key, options)
    }

    fn request_fetch_uri(&self, payload: &QrPayload) -> String {
        match &payload.rotation {
            Some(rot) => with_query(&payload.request_uri, "rot", &super::rotation_query(rot)),
            None => payload.request_uri.clone(),
        }
    }

    fn response_post_uri(&self, response_uri: &str) -> String {
        response_uri.to_string()
    }
}
