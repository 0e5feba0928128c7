//! A vendor-native QR profile (厂商码), `vendor1`: the kind of code a CA vendor's own app
//! scans, shown beside the national one. Modelled on the Epoint manual, whose login page
//! offers "新点标证通 APP 二维码" for platform-only certificates (本平台证书) next to the
//! "全国 CA 互认二维码" for national ones (全国版证书) — "业务系统支持两种二维码类型".
//!
//! ```text
//! camrv1://scan?t=<tid>&o=<operation>&e=<expiry>&k=<key id>&u=<request URI>&s=<signature>[&n=<step>&m=<mac>]
//! ```
//!
//! - `t`: the tid, canonical (lower-case hex); `o`: the operation's full name (`login`, …);
//!   `e`: expiry, Unix seconds; `k`: the platform key id;
//! - `u`: base64url (no padding) of the request URI; `s`: base64url of the platform
//!   signature (SM2/P-256 `r ‖ s`, RSA as it is) over the `camr1` signed bytes with the
//!   context `camr-vendor1-qr` instead of `camr1-qr`, so neither code's signature is valid
//!   as the other's;
//! - `n`, `m`: a rotating code's step and MAC (as in `camr1`).
//!
//! Transport: the app fetches the request and posts its answer with `qr=vendor1` added, so
//! the platform knows which code was scanned (and can accept platform-only certificates
//! only through it). Parsing is strict: the text must be exactly what [`Vendor1`] writes.

use data_encoding::BASE64URL_NOPAD;

use crate::crypto::{CryptoProvider, PublicKey, truncate};
use crate::protocol::{Bytes, Operation, QrPayload, QrRotation, Tid};

use super::profile::with_query;
use super::{
    MAX_PAYLOAD_LEN, PAYLOAD_VERSION, QrError, QrFields, QrProfile, QrSigner, ROTATION_MAC_LEN,
    VerifyOptions,
};

/// The scheme and path every `vendor1` code starts with.
pub const VENDOR_PREFIX: &str = "camrv1://scan?";
/// Domain separation of the signed bytes.
const VENDOR_CONTEXT: &str = "camr-vendor1-qr";

/// The vendor-native profile (厂商码), see the module documentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Vendor1;

impl Vendor1 {
    fn malformed(reason: impl Into<String>) -> QrError {
        QrError::Malformed {
            reason: format!("vendor1 code: {}", reason.into()),
        }
    }
}

impl QrProfile for Vendor1 {
    fn id(&self) -> &'static str {
        "vendor1"
    }

    fn caption(&self) -> &'static str {
        "厂商 APP 二维码（本平台证书）· vendor app QR (platform-only certificates)"
    }

    fn national(&self) -> bool {
        false
    }

    fn recognises(&self, text: &str) -> bool {
        text.starts_with(VENDOR_PREFIX)
    }

    fn sign(&self, signer: &QrSigner, fields: &QrFields) -> crate::Result<QrPayload> {
        signer.sign_in_context(VENDOR_CONTEXT, fields)
    }

    fn encode(&self, payload: &QrPayload) -> String {
        let mut s = format!(
            "{VENDOR_PREFIX}t={}&o={}&e={}&k={}&u={}&s={}",
            payload.tid.as_str(),
            payload.operation.as_str(),
            payload.expires_at,
            payload.key_id,
            BASE64URL_NOPAD.encode(payload.request_uri.as_bytes()),
            BASE64URL_NOPAD.encode(&payload.signature),
        );
        if let Some(rot) = &payload.rotation {
            s.push_str(&format!(
                "&n={}&m={}",
                rot.step,
                BASE64URL_NOPAD.encode(&rot.mac)
            ));
        }
        s
    }

    fn parse(&self, text: &str) -> Result<QrPayload, QrError> {
        if text.len() > MAX_PAYLOAD_LEN {
            return Err(Self::malformed(format!(
                "{} bytes, more than the {MAX_PAYLOAD_LEN} a QR payload can hold",
                text.len()
            )));
        }
        let query = text.strip_prefix(VENDOR_PREFIX).ok_or_else(|| {
            Self::malformed(format!(
                "does not start with `{VENDOR_PREFIX}` (starts with `{}`)",
                truncate(text, 14)
            ))
        })?;
        let pairs: Vec<(&str, &str)> = query
            .split('&')
            .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
            .collect();
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
        let rotating = match keys.as_slice() {
            ["t", "o", "e", "k", "u", "s"] => false,
            ["t", "o", "e", "k", "u", "s", "n", "m"] => true,
            _ => {
                return Err(Self::malformed(
                    "expected the fields t, o, e, k, u, s (then n, m when rotating) in this order",
                ));
            }
        };
        let value = |i: usize| pairs.get(i).map(|(_, v)| *v).unwrap_or_default();
        let tid = Tid::parse(value(0)).map_err(|e| Self::malformed(e.to_string()))?;
        let operation = Operation::ALL
            .iter()
            .copied()
            .find(|op| op.as_str() == value(1))
            .ok_or_else(|| {
                Self::malformed(format!("unknown operation `{}`", truncate(value(1), 20)))
            })?;
        let expires_at = super::parse_decimal(value(2), 12, "expiry")?;
        let key_id = value(3);
        super::check_key_id(key_id).map_err(|e| Self::malformed(e.to_string()))?;
        let b64 = |v: &str, what: &str| {
            BASE64URL_NOPAD
                .decode(v.as_bytes())
                .map_err(|_| Self::malformed(format!("the {what} is not base64url")))
        };
        let request_uri = String::from_utf8(b64(value(4), "request URI")?)
            .map_err(|_| Self::malformed("the request URI is not UTF-8"))?;
        super::check_request_uri(&request_uri).map_err(|e| Self::malformed(e.to_string()))?;
        let signature = b64(value(5), "signature")?;
        if signature.is_empty() || signature.len() > 512 {
            return Err(Self::malformed("the signature has an impossible length"));
        }
        let rotation = if rotating {
            let step = super::parse_decimal(value(6), 6, "step")?;
            let mac = b64(value(7), "rotation MAC")?;
            if mac.len() != ROTATION_MAC_LEN {
                return Err(Self::malformed(format!(
                    "the rotation MAC must be {ROTATION_MAC_LEN} bytes"
                )));
            }
            Some(QrRotation {
                step: u32::try_from(step).map_err(|_| Self::malformed("step out of range"))?,
                mac: Bytes::from(mac),
            })
        } else {
            None
        };
        let payload = QrPayload {
            version: PAYLOAD_VERSION,
            tid,
            operation,
            expires_at,
            key_id: key_id.to_string(),
            request_uri,
            signature: Bytes::from(signature),
            rotation,
        };
        // Strict: only the exact text this profile writes (canonical base64url, no extra
        // characters) is accepted.
        if self.encode(&payload) != text {
            return Err(Self::malformed("not in canonical form"));
        }
        Ok(payload)
    }

    fn verify(
        &self,
        provider: &dyn CryptoProvider,
        payload: &QrPayload,
        key: &PublicKey,
        options: VerifyOptions,
    ) -> Result<(), QrError> {
        super::verify_in_context(VENDOR_CONTEXT, provider, payload, key, options)
    }

    fn request_fetch_uri(&self, payload: &QrPayload) -> String {
        let base = match &payload.rotation {
            Some(rot) => with_query(&payload.request_uri, "rot", &super::rotation_query(rot)),
            None => payload.request_uri.clone(),
        };
        with_query(&base, "qr", self.id())
    }

    fn response_post_uri(&self, response_uri: &str) -> String {
        with_query(response_uri, "qr", self.id())
    }
}
