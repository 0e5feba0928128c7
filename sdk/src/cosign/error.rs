use crate::protocol::ErrorCode;

/// Why a co-signing or co-decryption step was refused.
///
/// Every variant has a stable code ([`CosignError::code`], e.g. `COSIGN_POINT_INVALID`) and a
/// `Display` sentence; [`CosignError::error_code`] maps it onto the nearest camr wire
/// [`ErrorCode`] for result envelopes that only know those.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignError {
    /// A point received from the other party (P1, P, P2, Q1, T1, T2, C1) is not on the SM2
    /// curve, is badly encoded, or is the point at infinity.
    #[error("the {what} is not a point on the SM2 curve (or is the point at infinity)")]
    PointInvalid {
        /// Which point (`P1`, `Q1`, ...).
        what: &'static str,
    },
    /// A scalar received from the other party (r, s2, s3) is not a 32-byte integer in
    /// [1, n−1].
    #[error("the {what} is not a 32-byte integer in [1, n-1]")]
    ScalarInvalid {
        /// Which scalar (`r`, `s2`, `s3`).
        what: &'static str,
    },
    /// The server's joint public key P does not match its P2 and this client's share d1
    /// (P ≠ d1⁻¹·P2 − G): the server answered for another key or lied.
    #[error(
        "the joint public key P does not match P2 and this client's share; the key is not accepted"
    )]
    ShareMismatch,
    /// The co-signature does not verify under the joint public key, so it was not released:
    /// a share is wrong or damaged, or a response field was changed.
    #[error(
        "the co-signature does not verify under the joint public key and was not released (wrong or damaged share, or a changed response)"
    )]
    SignatureInvalid,
    /// Co-decryption failed: the C3 check did not pass (wrong or damaged share, changed T2
    /// or ciphertext), or the derived key stream was all zero.
    #[error("co-decryption failed: {reason}")]
    DecryptionFailed {
        /// What failed, without revealing key material.
        reason: &'static str,
    },
    /// A degenerate value came up (s = 0 or r + s ≡ 0 mod n, or no usable nonce after
    /// several tries); the caller starts a new session with fresh nonces.
    #[error("a degenerate value came up ({what}); start a new session with fresh nonces")]
    Retry {
        /// Which condition.
        what: &'static str,
    },
    /// The server has seen this Q1 before: the client reused its nonce k1, which would hand
    /// its share to the server.
    #[error("this Q1 was already used; the client must draw a fresh nonce k1 for every session")]
    Replay,
    /// A message, stored share or ciphertext is malformed (wrong length, version or
    /// structure).
    #[error("the {what} is malformed: {reason}")]
    Malformed {
        /// Which input.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    RandomFailed,
}

impl CosignError {
    /// The stable code of this failure, e.g. `COSIGN_POINT_INVALID`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PointInvalid { .. } => "COSIGN_POINT_INVALID",
            Self::ScalarInvalid { .. } => "COSIGN_SCALAR_INVALID",
            Self::ShareMismatch => "COSIGN_SHARE_MISMATCH",
            Self::SignatureInvalid => "COSIGN_SIGNATURE_INVALID",
            Self::DecryptionFailed { .. } => "COSIGN_DECRYPTION_FAILED",
            Self::Retry { .. } => "COSIGN_RETRY",
            Self::Replay => "COSIGN_REPLAY",
            Self::Malformed { .. } => "COSIGN_MALFORMED",
            Self::RandomFailed => "COSIGN_RANDOM_FAILED",
        }
    }

    /// The nearest camr wire error code (for a result envelope that carries only those).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::PointInvalid { .. }
            | Self::ScalarInvalid { .. }
            | Self::Malformed { .. }
            | Self::Retry { .. }
            | Self::Replay => ErrorCode::InputMalformed,
            Self::ShareMismatch => ErrorCode::KeyMalformed,
            Self::SignatureInvalid => ErrorCode::SignatureInvalid,
            Self::DecryptionFailed { .. } => ErrorCode::DecryptionFailed,
            Self::RandomFailed => ErrorCode::RandomFailed,
        }
    }

    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            what,
            reason: reason.into(),
        }
    }
}
