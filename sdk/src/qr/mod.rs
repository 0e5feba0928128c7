//! The national interop QR code as camr makes it: payload `camr1` (spec: `docs/protocol.md`).
//!
//! ```text
//! CAMR1:<TID>.<OP>.<EXP>.<KID>.<SIG>[.<STEP>.<MAC>] <REQUEST-URI>
//! ```
//!
//! The header (everything before the space) uses only the QR *alphanumeric* character set
//! (`0-9 A-Z $%*+-./:` and space), so a QR encoder stores it at 5.5 bits a character instead
//! of 8; the request URI follows in byte mode. That is what keeps a signed payload with a
//! 120-character request URI and a rotating code inside QR version 12 at level M.
//!
//! - `TID`: the transaction id, system code + 32 hex digits, written in upper case here;
//! - `OP`: one letter per operation (`L M S R E D`, see [`Operation::qr_letter`]);
//! - `EXP`: expiry, Unix seconds;
//! - `KID`: the platform key id (`[A-Z0-9]{1,16}`) the app looks up in the registry;
//! - `SIG`: base32 (RFC 4648, no padding) of the platform signature over the canonical
//!   encoding ([`signed_bytes`]); SM2 and P-256 signatures in the fixed 64-byte `r ‖ s` form,
//!   RSA signatures as they are;
//! - `STEP`, `MAC`: only in rotating mode — seconds since the transaction started, and
//!   base32 of the first [`ROTATION_MAC_LEN`] bytes of HMAC-SM3(secret, tid ‖ step). The
//!   platform alone holds the secret and checks the code the app presents ([`RotatingQr`]).
//!
//! Parsing is strict: any character that is not exactly what [`encode`] writes is refused,
//! so a changed character either fails to parse or fails the signature.

use std::sync::Arc;

use data_encoding::BASE32_NOPAD;
use zeroize::Zeroizing;

use crate::crypto::{
    CryptoProvider, HashAlgorithm, PrivateKey, PublicKey, PublicKeyAlgorithm, SignatureScheme,
    ec_signature_from_fixed, ec_signature_to_fixed, truncate,
};
use crate::protocol::{Bytes, ErrorCode, Operation, QrPayload, QrRotation, Tid};

pub mod interlink;
mod profile;
mod render;
mod rotation_key;
mod vendor;

pub use profile::{Camr1, QrProfile, find_profile};
pub use rotation_key::{ROTATION_KEY_LEN, RotationKey};
pub use vendor::{VENDOR_PREFIX, Vendor1};

pub use render::{
    MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, decode_image, render_png, render_svg, to_qr_code,
};

/// The scheme and version prefix, as written in the code.
pub const SCHEME_PREFIX: &str = "CAMR1:";
/// The payload version this module writes and reads.
pub const PAYLOAD_VERSION: u8 = 1;
/// Longest request URI accepted, in bytes.
pub const MAX_REQUEST_URI_LEN: usize = 512;
/// Longest payload text accepted by [`parse`], in bytes (a QR code holds at most 2,953).
pub const MAX_PAYLOAD_LEN: usize = 3000;
/// Bytes of HMAC-SM3 kept in a rotating code: 64 bits, ample for a code that lives seconds.
pub const ROTATION_MAC_LEN: usize = 8;
/// Default tolerance for clock differences between platform and app, in seconds.
pub const DEFAULT_CLOCK_SKEW_SECS: u32 = 30;
/// Default age after which a rotating code is refused, in seconds (BankID uses about 1 s of
/// display per code; 3 s leaves room for a slow camera and network).
pub const DEFAULT_ROTATION_WINDOW_SECS: u32 = 3;
/// Domain separation for the signed bytes, so a QR signature is never valid as anything else.
const SIGNED_CONTEXT: &str = "camr1-qr";

/// Why a QR payload was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The text is not a well-formed `camr1` payload.
    #[error("the QR payload is malformed: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
    /// The payload expired.
    #[error("the QR code expired at {expires_at} (now {now}); ask the platform for a new one")]
    Expired {
        /// Expiry in the payload, Unix seconds.
        expires_at: i64,
        /// The verifier's time, Unix seconds.
        now: i64,
    },
    /// The platform signature does not verify with the given key.
    #[error("the QR code's platform signature does not verify with the platform key `{key_id}`")]
    SignatureInvalid {
        /// Key id named in the payload.
        key_id: String,
    },
    /// The rotating code is older than the window (a relayed screenshot, or a slow scan).
    #[error(
        "the rotating QR code is {age} s old, more than the {window} s allowed; scan the live code"
    )]
    StepStale {
        /// How old the scanned step is, in seconds.
        age: i64,
        /// The allowed age.
        window: u32,
    },
    /// The rotating code's MAC is wrong, missing, or from the future.
    #[error("the rotating QR code is not valid for this transaction: {reason}")]
    RotationInvalid {
        /// What is wrong.
        reason: &'static str,
    },
    /// The payload does not fit a QR code at level M.
    #[error("the payload of {len} bytes does not fit a QR code at error-correction level M")]
    TooLarge {
        /// Payload length.
        len: usize,
    },
    /// Signing, rendering or image decoding failed.
    #[error("{0}")]
    Other(String),
}

impl QrError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Malformed { .. } => ErrorCode::QrMalformed,
            Self::Expired { .. } => ErrorCode::QrExpired,
            Self::SignatureInvalid { .. } | Self::RotationInvalid { .. } => {
                ErrorCode::QrSignatureInvalid
            }
            Self::StepStale { .. } => ErrorCode::QrStepStale,
            Self::TooLarge { .. } => ErrorCode::QrTooLarge,
            Self::Other(_) => ErrorCode::Internal,
        }
    }

    fn malformed(reason: impl Into<String>) -> Self {
        Self::Malformed {
            reason: reason.into(),
        }
    }
}

/// What a platform puts in a QR code, before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrFields {
    /// The transaction.
    pub tid: Tid,
    /// The operation (usage scene).
    pub operation: Operation,
    /// Absolute `https://` (or `http://` for local development) URI of the request object.
    pub request_uri: String,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
}

/// Checks and time settings for verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The verifier's time, Unix seconds.
    pub now: i64,
    /// Tolerated clock difference, seconds.
    pub clock_skew_secs: u32,
}

impl VerifyOptions {
    /// Options at time `now` with the default clock skew.
    pub fn at(now: i64) -> Self {
        Self {
            now,
            clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS,
        }
    }
}

pub use crate::time::unix_now;

/// Signs QR payloads with a platform key.
#[derive(Debug, Clone)]
pub struct QrSigner {
    provider: Arc<dyn CryptoProvider>,
    key: PrivateKey,
    key_id: String,
}

impl QrSigner {
    /// A signer with `key`; `key_id` defaults to [`default_key_id`] of its public key.
    pub fn new(
        provider: Arc<dyn CryptoProvider>,
        key: PrivateKey,
        key_id: Option<&str>,
    ) -> crate::Result<Self> {
        let key_id = match key_id {
            Some(k) => {
                check_key_id(k)?;
                k.to_string()
            }
            None => default_key_id(provider.as_ref(), &key.public_key())?,
        };
        Ok(Self {
            provider,
            key,
            key_id,
        })
    }

    /// The key id written into payloads.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Makes and signs a `camr1` payload.
    pub fn sign(&self, fields: &QrFields) -> crate::Result<QrPayload> {
        self.sign_in_context(SIGNED_CONTEXT, fields)
    }

    /// Makes and signs a payload whose signed bytes start with `context` (each QR profile has
    /// its own, so a signature made for one profile never verifies as another's).
    pub(crate) fn sign_in_context(
        &self,
        context: &str,
        fields: &QrFields,
    ) -> crate::Result<QrPayload> {
        check_request_uri(&fields.request_uri)?;
        if fields.expires_at < 0 {
            return Err(QrError::malformed("expiry before 1970").into());
        }
        let algorithm = self.key.algorithm();
        let message = signed_bytes_of(
            context,
            &fields.tid,
            fields.operation,
            fields.expires_at,
            &self.key_id,
            &fields.request_uri,
        );
        let der = self.provider.sign(
            &self.key,
            &SignatureScheme::default_for(algorithm),
            &message,
        )?;
        let signature = match algorithm {
            PublicKeyAlgorithm::Rsa => der,
            ec => ec_signature_to_fixed(ec, &der)?,
        };
        Ok(QrPayload {
            version: PAYLOAD_VERSION,
            tid: fields.tid.clone(),
            operation: fields.operation,
            expires_at: fields.expires_at,
            key_id: self.key_id.clone(),
            request_uri: fields.request_uri.clone(),
            signature: Bytes::from(signature),
            rotation: None,
        })
    }
}

/// The default key id: the first 4 bytes of SM3(SubjectPublicKeyInfo DER), upper-case hex.
pub fn default_key_id(provider: &dyn CryptoProvider, key: &PublicKey) -> crate::Result<String> {
    let spki = key.to_spki_der()?;
    let hash = provider.digest(HashAlgorithm::Sm3, &spki);
    Ok(data_encoding::HEXUPPER.encode(hash.get(..4).unwrap_or_default()))
}

/// The exact bytes the platform signs for a payload (see `docs/protocol.md`):
/// `"camr1-qr" LF tid LF operation LF expiry LF key-id LF request-uri`, UTF-8, with the tid
/// in its canonical lower-case form and the operation's full name.
pub fn signed_bytes(payload: &QrPayload) -> Vec<u8> {
    signed_bytes_in_context(SIGNED_CONTEXT, payload)
}

pub(crate) fn signed_bytes_in_context(context: &str, payload: &QrPayload) -> Vec<u8> {
    signed_bytes_of(
        context,
        &payload.tid,
        payload.operation,
        payload.expires_at,
        &payload.key_id,
        &payload.request_uri,
    )
}

fn signed_bytes_of(
    context: &str,
    tid: &Tid,
    op: Operation,
    expires_at: i64,
    key_id: &str,
    uri: &str,
) -> Vec<u8> {
    format!(
        "{context}\n{}\n{}\n{expires_at}\n{key_id}\n{uri}",
        tid.as_str(),
        op.as_str()
    )
    .into_bytes()
}

/// Writes the payload text that goes into the QR code.
pub fn encode(payload: &QrPayload) -> String {
    let mut s = String::with_capacity(200 + payload.request_uri.len());
    s.push_str(SCHEME_PREFIX);
    s.push_str(&payload.tid.as_str().to_ascii_uppercase());
    s.push('.');
    s.push(payload.operation.qr_letter());
    s.push('.');
    s.push_str(&payload.expires_at.to_string());
    s.push('.');
    s.push_str(&payload.key_id);
    s.push('.');
    s.push_str(&BASE32_NOPAD.encode(&payload.signature));
    if let Some(rot) = &payload.rotation {
        s.push('.');
        s.push_str(&rot.step.to_string());
        s.push('.');
        s.push_str(&BASE32_NOPAD.encode(&rot.mac));
    }
    s.push(' ');
    s.push_str(&payload.request_uri);
    s
}

/// Parses payload text strictly. Checks the form only; call [`verify`] for the signature.
pub fn parse(text: &str) -> Result<QrPayload, QrError> {
    if text.len() > MAX_PAYLOAD_LEN {
        return Err(QrError::malformed(format!(
            "{} bytes, more than the {MAX_PAYLOAD_LEN} a QR payload can hold",
            text.len()
        )));
    }
    let rest = text.strip_prefix(SCHEME_PREFIX).ok_or_else(|| {
        QrError::malformed(format!(
            "does not start with `{SCHEME_PREFIX}` (starts with `{}`)",
            truncate(text, 12)
        ))
    })?;
    let (header, request_uri) = rest
        .split_once(' ')
        .ok_or_else(|| QrError::malformed("no space between the header and the request URI"))?;
    let fields: Vec<&str> = header.split('.').collect();
    if fields.len() != 5 && fields.len() != 7 {
        return Err(QrError::malformed(format!(
            "the header has {} dot-separated fields; expected 5, or 7 with a rotating code",
            fields.len()
        )));
    }
    let (tid_text, op_text, exp_text, key_id, sig_text) =
        (fields[0], fields[1], fields[2], fields[3], fields[4]);

    if tid_text.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err(QrError::malformed(
            "the tid must be written in upper case in the code",
        ));
    }
    // Only the hex part is written in upper case; the system code keeps its form.
    let canonical_tid = match (tid_text.get(..11), tid_text.get(11..)) {
        (Some(code), Some(hex)) => format!("{code}{}", hex.to_ascii_lowercase()),
        _ => tid_text.to_string(),
    };
    let tid = Tid::parse(&canonical_tid).map_err(|e| QrError::malformed(e.to_string()))?;

    let mut op_chars = op_text.chars();
    let operation = match (op_chars.next(), op_chars.next()) {
        (Some(c), None) => Operation::from_qr_letter(c),
        _ => None,
    }
    .ok_or_else(|| {
        QrError::malformed(format!(
            "unknown operation letter `{}`",
            truncate(op_text, 8)
        ))
    })?;

    let expires_at = parse_decimal(exp_text, 12, "expiry")?;
    check_key_id(key_id).map_err(|e| match e {
        crate::Error::Qr(q) => q,
        other => QrError::malformed(other.to_string()),
    })?;
    let signature = decode_base32(sig_text, "signature")?;
    if signature.is_empty() || signature.len() > 512 {
        return Err(QrError::malformed(
            "the signature field has an impossible length",
        ));
    }
    let rotation = if fields.len() == 7 {
        let step = parse_decimal(fields[5], 6, "step")?;
        let mac = decode_base32(fields[6], "rotation MAC")?;
        if mac.len() != ROTATION_MAC_LEN {
            return Err(QrError::malformed(format!(
                "the rotation MAC must be {ROTATION_MAC_LEN} bytes, got {}",
                mac.len()
            )));
        }
        Some(QrRotation {
            step: u32::try_from(step).map_err(|_| QrError::malformed("step out of range"))?,
            mac: Bytes::from(mac),
        })
    } else {
        None
    };
    check_request_uri(request_uri).map_err(|e| match e {
        crate::Error::Qr(q) => q,
        other => QrError::malformed(other.to_string()),
    })?;
    Ok(QrPayload {
        version: PAYLOAD_VERSION,
        tid,
        operation,
        expires_at,
        key_id: key_id.to_string(),
        request_uri: request_uri.to_string(),
        signature: Bytes::from(signature),
        rotation,
    })
}

/// Verifies the platform signature with `key`, then the expiry.
///
/// The caller chooses `key` by the payload's system code and key id in the registry; this
/// function only checks that the signature is the platform's.
pub fn verify(
    provider: &dyn CryptoProvider,
    payload: &QrPayload,
    key: &PublicKey,
    options: VerifyOptions,
) -> Result<(), QrError> {
    verify_in_context(SIGNED_CONTEXT, provider, payload, key, options)
}

/// [`verify`] with the signed bytes of another profile's `context`.
pub(crate) fn verify_in_context(
    context: &str,
    provider: &dyn CryptoProvider,
    payload: &QrPayload,
    key: &PublicKey,
    options: VerifyOptions,
) -> Result<(), QrError> {
    let bad_sig = || QrError::SignatureInvalid {
        key_id: payload.key_id.clone(),
    };
    let algorithm = key.algorithm();
    let signature = match algorithm {
        PublicKeyAlgorithm::Rsa => payload.signature.to_vec(),
        ec => ec_signature_from_fixed(ec, &payload.signature).map_err(|_| bad_sig())?,
    };
    provider
        .verify(
            key,
            &SignatureScheme::default_for(algorithm),
            &signed_bytes_in_context(context, payload),
            &signature,
        )
        .map_err(|_| bad_sig())?;
    if options.now
        > payload
            .expires_at
            .saturating_add(i64::from(options.clock_skew_secs))
    {
        return Err(QrError::Expired {
            expires_at: payload.expires_at,
            now: options.now,
        });
    }
    Ok(())
}

/// Parses and verifies payload text in one step.
pub fn parse_and_verify(
    provider: &dyn CryptoProvider,
    text: &str,
    key: &PublicKey,
    options: VerifyOptions,
) -> Result<QrPayload, QrError> {
    let payload = parse(text)?;
    verify(provider, &payload, key, options)?;
    Ok(payload)
}

/// A signed payload in rotating mode (BankID style): the code shown changes every second,
/// and the platform refuses a code older than a few seconds, so a relayed screenshot dies
/// quickly. The secret never leaves the platform.
pub struct RotatingQr {
    provider: Arc<dyn CryptoProvider>,
    payload: QrPayload,
    secret: Zeroizing<[u8; 32]>,
    started_at: i64,
    window_secs: u32,
}

impl std::fmt::Debug for RotatingQr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatingQr")
            .field("tid", &self.payload.tid)
            .field("started_at", &self.started_at)
            .field("window_secs", &self.window_secs)
            .finish_non_exhaustive()
    }
}

impl RotatingQr {
    /// Starts rotation for a signed payload at `started_at` (Unix seconds) with a fresh
    /// random secret and the default window.
    pub fn new(
        provider: Arc<dyn CryptoProvider>,
        payload: QrPayload,
        started_at: i64,
    ) -> crate::Result<Self> {
        let mut secret = Zeroizing::new([0u8; 32]);
        provider.fill_random(secret.as_mut())?;
        Ok(Self::with_secret(provider, payload, started_at, secret))
    }

    /// Rotation with a given secret (for a platform that keeps the secret in its store).
    pub fn with_secret(
        provider: Arc<dyn CryptoProvider>,
        mut payload: QrPayload,
        started_at: i64,
        secret: Zeroizing<[u8; 32]>,
    ) -> Self {
        payload.rotation = None;
        Self {
            provider,
            payload,
            secret,
            started_at,
            window_secs: DEFAULT_ROTATION_WINDOW_SECS,
        }
    }

    /// Changes how old a scanned code may be, in seconds.
    pub fn with_window(mut self, window_secs: u32) -> Self {
        self.window_secs = window_secs;
        self
    }

    /// The static signed payload (what the app verifies).
    pub fn payload(&self) -> &QrPayload {
        &self.payload
    }

    /// The secret, for storing with the transaction.
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    fn mac(&self, step: u32) -> Vec<u8> {
        let mut data = self.payload.tid.as_str().as_bytes().to_vec();
        data.extend_from_slice(&step.to_be_bytes());
        let mut mac = self
            .provider
            .hmac(HashAlgorithm::Sm3, self.secret.as_ref(), &data);
        mac.truncate(ROTATION_MAC_LEN);
        mac
    }

    /// The payload shown at `step` seconds after the start.
    pub fn code_at(&self, step: u32) -> QrPayload {
        let mut p = self.payload.clone();
        p.rotation = Some(QrRotation {
            step,
            mac: Bytes::from(self.mac(step)),
        });
        p
    }

    /// The payload to show at time `now` (Unix seconds).
    pub fn code_now(&self, now: i64) -> QrPayload {
        let step = now
            .saturating_sub(self.started_at)
            .clamp(0, i64::from(u32::MAX));
        self.code_at(u32::try_from(step).unwrap_or(u32::MAX))
    }

    /// Checks a scanned code presented by the app at time `now`: it must be this
    /// transaction's, carry a correct MAC, and be at most the window old.
    pub fn verify_scan(&self, scanned: &QrPayload, now: i64) -> Result<(), QrError> {
        if scanned.tid != self.payload.tid || scanned.signature != self.payload.signature {
            return Err(QrError::RotationInvalid {
                reason: "it belongs to another transaction",
            });
        }
        let rot = scanned.rotation.as_ref().ok_or(QrError::RotationInvalid {
            reason: "the code carries no rotating part",
        })?;
        self.verify_rotation(rot, now)
    }

    /// Checks the rotating part alone (the app presents it beside the tid, e.g. as the
    /// request URI's `rot` query — see [`rotation_query`]): a correct MAC for this
    /// transaction, at most the window old.
    pub fn verify_rotation(&self, rot: &QrRotation, now: i64) -> Result<(), QrError> {
        let expected = self.mac(rot.step);
        if !crate::crypto::ct_eq(&expected, &rot.mac) {
            return Err(QrError::RotationInvalid {
                reason: "its MAC does not match",
            });
        }
        let shown_at = self.started_at.saturating_add(i64::from(rot.step));
        let age = now.saturating_sub(shown_at);
        if age < -1 {
            return Err(QrError::RotationInvalid {
                reason: "it is from the future",
            });
        }
        if age > i64::from(self.window_secs) {
            return Err(QrError::StepStale {
                age,
                window: self.window_secs,
            });
        }
        Ok(())
    }
}

/// The rotating part as the app presents it when fetching the request object:
/// `STEP.MAC` (MAC in base32, as in the QR text), sent as the `rot` query parameter.
pub fn rotation_query(rot: &QrRotation) -> String {
    format!("{}.{}", rot.step, BASE32_NOPAD.encode(&rot.mac))
}

/// Parses [`rotation_query`]'s form.
pub fn parse_rotation_query(text: &str) -> Result<QrRotation, QrError> {
    let (step, mac) = text
        .split_once('.')
        .ok_or_else(|| QrError::malformed("the rotating code must be STEP.MAC"))?;
    let step = parse_decimal(step, 6, "step")?;
    let mac = decode_base32(mac, "rotation MAC")?;
    if mac.len() != ROTATION_MAC_LEN {
        return Err(QrError::malformed(format!(
            "the rotation MAC must be {ROTATION_MAC_LEN} bytes, got {}",
            mac.len()
        )));
    }
    Ok(QrRotation {
        step: u32::try_from(step).map_err(|_| QrError::malformed("step out of range"))?,
        mac: Bytes::from(mac),
    })
}

fn check_key_id(key_id: &str) -> crate::Result<()> {
    if key_id.is_empty()
        || key_id.len() > 16
        || !key_id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(QrError::malformed(format!(
            "key id `{}` must be 1 to 16 characters of A-Z and 0-9",
            truncate(key_id, 20)
        ))
        .into());
    }
    Ok(())
}

fn check_request_uri(uri: &str) -> crate::Result<()> {
    if uri.is_empty() || uri.len() > MAX_REQUEST_URI_LEN {
        return Err(QrError::malformed(format!(
            "the request URI must be 1 to {MAX_REQUEST_URI_LEN} bytes"
        ))
        .into());
    }
    if !(uri.starts_with("https://") || uri.starts_with("http://")) {
        return Err(
            QrError::malformed("the request URI must start with https:// or http://").into(),
        );
    }
    if !uri.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(QrError::malformed(
            "the request URI must be printable ASCII without spaces (percent-encode the rest)",
        )
        .into());
    }
    Ok(())
}

fn parse_decimal(text: &str, max_digits: usize, what: &str) -> Result<i64, QrError> {
    let canonical = !text.is_empty()
        && text.len() <= max_digits
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return Err(QrError::malformed(format!(
            "the {what} must be a decimal number of at most {max_digits} digits without leading zeros"
        )));
    }
    text.parse::<i64>()
        .map_err(|_| QrError::malformed(format!("the {what} is out of range")))
}

fn decode_base32(text: &str, what: &str) -> Result<Vec<u8>, QrError> {
    BASE32_NOPAD
        .decode(text.as_bytes())
        .map_err(|e| QrError::malformed(format!("the {what} is not canonical base32 ({e})")))
}

#[cfg(test)]
mod profile_tests;
#[cfg(test)]
mod tests;
