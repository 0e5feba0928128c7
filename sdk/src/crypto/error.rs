use crate::protocol::ErrorCode;

/// Why a cryptographic operation failed.
///
/// Every variant maps to a stable [`ErrorCode`] via [`CryptoError::code`]; the `Display`
/// text is a sentence meant for the person who has to fix the input.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// A key could not be decoded (bad PEM/DER, wrong structure, point not on the curve, ...).
    #[error("the key is malformed: {reason}")]
    KeyMalformed {
        /// What was wrong with it.
        reason: String,
    },
    /// The key is an encrypted PKCS#8 key and no password was given.
    #[error("the key is encrypted (ENCRYPTED PRIVATE KEY); give its password")]
    KeyPasswordRequired,
    /// The password does not open the encrypted key (or the encrypted key is damaged).
    #[error("the password does not decrypt this key, or the encrypted key is damaged")]
    KeyPasswordWrong,
    /// The algorithm, curve, key size or scheme is not supported by this provider.
    #[error("unsupported algorithm: {what}")]
    UnsupportedAlgorithm {
        /// Which algorithm or parameter.
        what: String,
    },
    /// The key and the requested scheme do not belong together (e.g. an SM2 key with RSA-PSS).
    #[error("the {key} key cannot be used with {scheme}")]
    KeySchemeMismatch {
        /// The key's algorithm.
        key: &'static str,
        /// The scheme asked for.
        scheme: &'static str,
    },
    /// A signature did not verify (wrong key, wrong data, wrong signer ID, or tampered).
    #[error("the signature does not verify for this key and data")]
    SignatureInvalid,
    /// A signature value is not well-formed for its algorithm (e.g. not DER `SM2Signature`).
    #[error("the signature value is malformed: {reason}")]
    SignatureMalformed {
        /// What was wrong with it.
        reason: String,
    },
    /// A ciphertext is not well-formed (truncated, wrong structure, point not on the curve).
    #[error("the ciphertext is malformed: {reason}")]
    CiphertextMalformed {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Decryption failed: wrong key, tampered or truncated ciphertext, or bad padding.
    #[error("decryption failed: {reason}")]
    DecryptionFailed {
        /// What failed, without revealing key material.
        reason: &'static str,
    },
    /// Encryption failed (e.g. the message is too long for RSA-OAEP with this key).
    #[error("encryption failed: {reason}")]
    EncryptionFailed {
        /// What failed.
        reason: String,
    },
    /// A key, IV or nonce has the wrong length.
    #[error("{what} must be {expected} bytes, got {actual}")]
    InvalidLength {
        /// Which parameter.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    RandomFailed,
}

impl CryptoError {
    /// The stable error code for this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::KeyMalformed { .. } => ErrorCode::KeyMalformed,
            Self::KeyPasswordRequired => ErrorCode::KeyPasswordRequired,
            Self::KeyPasswordWrong => ErrorCode::KeyPasswordWrong,
            Self::UnsupportedAlgorithm { .. } | Self::KeySchemeMismatch { .. } => {
                ErrorCode::UnsupportedAlgorithm
            }
            Self::SignatureInvalid => ErrorCode::SignatureInvalid,
            Self::SignatureMalformed { .. } | Self::CiphertextMalformed { .. } => {
                ErrorCode::InputMalformed
            }
            Self::DecryptionFailed { .. } => ErrorCode::DecryptionFailed,
            Self::EncryptionFailed { .. } | Self::InvalidLength { .. } => ErrorCode::InputMalformed,
            Self::RandomFailed => ErrorCode::RandomFailed,
        }
    }

    pub(crate) fn key(reason: impl std::fmt::Display) -> Self {
        Self::KeyMalformed {
            reason: reason.to_string(),
        }
    }

    pub(crate) fn unsupported(what: impl Into<String>) -> Self {
        Self::UnsupportedAlgorithm { what: what.into() }
    }
}
