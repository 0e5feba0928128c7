use crate::ceremony::CeremonyError;
use crate::crypto::CryptoError;
use crate::envelope::EnvelopeError;
use crate::pki::CertError;
use crate::protocol::{ErrorCode, ProtocolError};
use crate::qr::QrError;
use crate::registry::RegistryError;
use crate::softca::CaError;

/// Any error camr returns. Nested per area, as rustls does, so callers can match on the
/// part they care about; [`Error::code`] gives the stable wire code for all of them.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A cryptographic operation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A QR payload was refused.
    #[error(transparent)]
    Qr(#[from] QrError),
    /// A wire value (system code, tid, ...) was invalid.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A certificate, CRL or chain was refused.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// A software-CA operation failed.
    #[error(transparent)]
    Ca(#[from] CaError),
    /// A signed message or envelope was refused.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A ceremony step was refused.
    #[error(transparent)]
    Ceremony(#[from] CeremonyError),
    /// A trust-list check failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A PDF could not be sealed or read.
    #[cfg(feature = "pdf")]
    #[error(transparent)]
    Seal(#[from] crate::seal::SealError),
}

impl Error {
    /// The stable error code (`errorCode` in the result envelope).
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Crypto(e) => e.code(),
            Self::Qr(e) => e.code(),
            Self::Protocol(e) => e.code(),
            Self::Cert(e) => e.code(),
            Self::Ca(e) => e.code(),
            Self::Envelope(e) => e.code(),
            Self::Ceremony(e) => e.code(),
            Self::Registry(e) => e.code(),
            #[cfg(feature = "pdf")]
            Self::Seal(e) => e.code(),
        }
    }
}

/// `Result` with camr's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
