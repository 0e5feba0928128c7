//! Cryptography: the [`CryptoProvider`] trait and the default [`RustCryptoProvider`].
//!
//! Following rustls, nothing in camr reaches for a hidden global provider: every entry point
//! takes an `Arc<dyn CryptoProvider>`, so a platform can plug in an HSM- or vendor-backed
//! provider for the same operations. [`default_provider`] returns the RustCrypto one.
//!
//! Algorithms (Chinese commercial cryptography first):
//! - SM2 signatures with SM3 and a signer ID (default [`DEFAULT_SM2_SIGNER_ID`]),
//!   DER `SM2Signature` (GM/T 0009); SM2 public-key encryption, C1C3C2, in the ASN.1 form of
//!   GM/T 0009 (what OpenSSL 3 reads and writes) or the raw `04‖C1‖C3‖C2` form;
//! - SM3 (GB/T 32905), SM4 (GB/T 32907) in CBC with PKCS#7 padding and in GCM, HMAC-SM3;
//! - ECDSA P-256 with SHA-256 (DER), RSA 2048–4096 with PKCS#1 v1.5 or PSS (SHA-256,
//!   MGF1-SHA-256, salt of 32 bytes) and RSA-OAEP (SHA-256), AES-256-GCM, SHA-256.

use std::sync::Arc;

mod error;
mod keys;
mod rustcrypto;

pub use error::CryptoError;
pub(crate) use keys::truncate;
pub use keys::{
    KeyAlgorithm, OID_SM2_CURVE, PKCS8_PBKDF2_ITERATIONS, PrivateKey, PublicKey, RSA_MAX_BITS,
    RSA_MIN_BITS, SecretBytes,
};
pub use rustcrypto::RustCryptoProvider;

pub use crate::protocol::{HashAlgorithm, PublicKeyAlgorithm};

/// The default SM2 signer ID (用户身份标识 ID) of GM/T 0009: the ASCII string `1234567812345678`.
/// OpenSSL 3 has no default; pass `-pkeyopt distid:1234567812345678` there.
pub const DEFAULT_SM2_SIGNER_ID: &str = "1234567812345678";

/// A signature scheme: algorithm, hash and encoding of the signature value.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    /// SM2 with SM3 over `Z_A ‖ M`, where `Z_A` binds the signer ID and public key
    /// (GB/T 32918.2); the value is DER `SM2Signature ::= SEQUENCE { r INTEGER, s INTEGER }`.
    Sm2Sm3 {
        /// The signer ID; [`DEFAULT_SM2_SIGNER_ID`] unless a counterpart says otherwise.
        signer_id: String,
    },
    /// ECDSA on P-256 with SHA-256; DER `ECDSA-Sig-Value`.
    EcdsaP256Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1v15Sha256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt.
    RsaPssSha256,
}

impl SignatureScheme {
    /// SM2 with SM3 and the default signer ID.
    pub fn sm2() -> Self {
        Self::Sm2Sm3 {
            signer_id: DEFAULT_SM2_SIGNER_ID.to_string(),
        }
    }

    /// The usual scheme for a key family: SM2-SM3 (default ID), ECDSA-SHA256, RSA PKCS#1 v1.5.
    pub fn default_for(algorithm: PublicKeyAlgorithm) -> Self {
        match algorithm {
            PublicKeyAlgorithm::Sm2 => Self::sm2(),
            PublicKeyAlgorithm::EcdsaP256 => Self::EcdsaP256Sha256,
            PublicKeyAlgorithm::Rsa => Self::RsaPkcs1v15Sha256,
        }
    }

    /// A short human name, e.g. `SM2-SM3`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sm2Sm3 { .. } => "SM2-SM3",
            Self::EcdsaP256Sha256 => "ECDSA-P256-SHA256",
            Self::RsaPkcs1v15Sha256 => "RSA-PKCS1v15-SHA256",
            Self::RsaPssSha256 => "RSA-PSS-SHA256",
        }
    }

    /// The key family this scheme needs.
    pub fn key_algorithm(&self) -> PublicKeyAlgorithm {
        match self {
            Self::Sm2Sm3 { .. } => PublicKeyAlgorithm::Sm2,
            Self::EcdsaP256Sha256 => PublicKeyAlgorithm::EcdsaP256,
            Self::RsaPkcs1v15Sha256 | Self::RsaPssSha256 => PublicKeyAlgorithm::Rsa,
        }
    }
}

/// The form of an SM2 ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sm2CiphertextForm {
    /// ASN.1 `SM2Cipher ::= SEQUENCE { XCoordinate, YCoordinate, HASH OCTET STRING,
    /// CipherText OCTET STRING }` of GM/T 0009 (C1C3C2 order). OpenSSL 3 accepts only this.
    #[default]
    Asn1,
    /// Raw `04 ‖ x ‖ y ‖ C3 ‖ C2` (GB/T 32918.4 with the C1C3C2 order).
    Raw,
}

/// An authenticated cipher.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AeadAlgorithm {
    /// SM4 in GCM mode (RFC 8998), 16-byte key, 12-byte nonce, 16-byte tag.
    Sm4Gcm,
    /// AES-256 in GCM mode, 32-byte key, 12-byte nonce, 16-byte tag.
    Aes256Gcm,
}

impl AeadAlgorithm {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::Sm4Gcm => 16,
            Self::Aes256Gcm => 32,
        }
    }
}

/// Nonce length of both AEADs, in bytes.
pub const AEAD_NONCE_LEN: usize = 12;
/// Tag length of both AEADs, in bytes.
pub const AEAD_TAG_LEN: usize = 16;
/// SM4 key and block length, in bytes.
pub const SM4_KEY_LEN: usize = 16;

/// An incremental hash (SM3 or SHA-256), for data that does not fit in memory at once.
pub trait Hasher: Send {
    /// Feeds more data.
    fn update(&mut self, data: &[u8]);
    /// Returns the digest.
    fn finalize(self: Box<Self>) -> Vec<u8>;
}

/// The cryptographic operations camr needs, behind one object that is passed explicitly.
///
/// Implementations must be constant-time where the algorithm calls for it, must zeroize
/// secrets they create, and must return errors (never panic) on malformed input.
pub trait CryptoProvider: Send + Sync + std::fmt::Debug {
    /// A short name for logs, e.g. `rustcrypto`.
    fn name(&self) -> &'static str;

    /// Fills `buf` with cryptographically secure random bytes.
    fn fill_random(&self, buf: &mut [u8]) -> Result<(), CryptoError>;

    /// Hashes `data` in one call.
    fn digest(&self, algorithm: HashAlgorithm, data: &[u8]) -> Vec<u8>;

    /// Starts an incremental hash.
    fn hasher(&self, algorithm: HashAlgorithm) -> Box<dyn Hasher>;

    /// HMAC (RFC 2104) with SM3 or SHA-256.
    fn hmac(&self, algorithm: HashAlgorithm, key: &[u8], data: &[u8]) -> Vec<u8>;

    /// Generates a new private key.
    fn generate_key(&self, algorithm: KeyAlgorithm) -> Result<PrivateKey, CryptoError>;

    /// Signs `message` (the whole message; the scheme hashes it).
    fn sign(
        &self,
        key: &PrivateKey,
        scheme: &SignatureScheme,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError>;

    /// Verifies `signature` over `message`; `Ok(())` only when it is valid.
    fn verify(
        &self,
        key: &PublicKey,
        scheme: &SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>;

    /// SM2 public-key encryption (GB/T 32918.4, SM3, C1C3C2).
    fn sm2_encrypt(
        &self,
        key: &PublicKey,
        plaintext: &[u8],
        form: Sm2CiphertextForm,
    ) -> Result<Vec<u8>, CryptoError>;

    /// SM2 public-key decryption; checks C3 before returning anything.
    fn sm2_decrypt(
        &self,
        key: &PrivateKey,
        ciphertext: &[u8],
        form: Sm2CiphertextForm,
    ) -> Result<SecretBytes, CryptoError>;

    /// RSA-OAEP with SHA-256 and MGF1-SHA-256, empty label.
    fn rsa_oaep_encrypt(&self, key: &PublicKey, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError>;

    /// RSA-OAEP decryption (blinded).
    fn rsa_oaep_decrypt(
        &self,
        key: &PrivateKey,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError>;

    /// RSAES-PKCS1-v1_5 decryption (blinded), for envelopes made by other tools (OpenSSL's
    /// `cms -encrypt` default). camr itself encrypts keys with RSA-OAEP.
    fn rsa_pkcs1v15_decrypt(
        &self,
        key: &PrivateKey,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError>;

    /// AES-256-CBC with PKCS#7 padding (CMS content encryption).
    fn aes256_cbc_encrypt(
        &self,
        key: &[u8],
        iv: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError>;

    /// AES-256-CBC decryption; fails on bad length or bad padding.
    fn aes256_cbc_decrypt(
        &self,
        key: &[u8],
        iv: &[u8],
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError>;

    /// SM4-CBC with PKCS#7 padding.
    fn sm4_cbc_encrypt(
        &self,
        key: &[u8],
        iv: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError>;

    /// SM4-CBC decryption; fails on bad length or bad padding.
    fn sm4_cbc_decrypt(
        &self,
        key: &[u8],
        iv: &[u8],
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError>;

    /// AEAD encryption; returns `ciphertext ‖ tag`.
    fn aead_seal(
        &self,
        algorithm: AeadAlgorithm,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError>;

    /// AEAD decryption of `ciphertext ‖ tag`; fails when the tag does not verify.
    fn aead_open(
        &self,
        algorithm: AeadAlgorithm,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError>;
}

/// Whether `a` and `b` are equal, in time that does not depend on where they differ (MACs,
/// tokens, credential hashes). Their lengths are not secret.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use elliptic_curve::subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The default provider: pure-Rust RustCrypto implementations.
pub fn default_provider() -> Arc<dyn CryptoProvider> {
    Arc::new(RustCryptoProvider)
}

/// Converts a DER EC signature (SM2 or ECDSA P-256) into the fixed 64-byte `r ‖ s` form used
/// where space is tight (QR codes).
pub fn ec_signature_to_fixed(
    algorithm: PublicKeyAlgorithm,
    der: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let bad = |e: signature::Error| CryptoError::SignatureMalformed {
        reason: e.to_string(),
    };
    match algorithm {
        PublicKeyAlgorithm::Sm2 => Ok(sm2::dsa::Signature::from_der(der).map_err(bad)?.to_vec()),
        PublicKeyAlgorithm::EcdsaP256 => Ok(p256::ecdsa::Signature::from_der(der)
            .map_err(bad)?
            .to_bytes()
            .to_vec()),
        PublicKeyAlgorithm::Rsa => Err(CryptoError::unsupported(
            "fixed-size form of an RSA signature",
        )),
    }
}

/// Converts a fixed 64-byte `r ‖ s` EC signature back into DER.
pub fn ec_signature_from_fixed(
    algorithm: PublicKeyAlgorithm,
    fixed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let bad = |e: signature::Error| CryptoError::SignatureMalformed {
        reason: e.to_string(),
    };
    match algorithm {
        PublicKeyAlgorithm::Sm2 => Ok(sm2::dsa::Signature::from_slice(fixed)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec()),
        PublicKeyAlgorithm::EcdsaP256 => Ok(p256::ecdsa::Signature::from_slice(fixed)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec()),
        PublicKeyAlgorithm::Rsa => Err(CryptoError::unsupported(
            "fixed-size form of an RSA signature",
        )),
    }
}

/// Random bytes from the operating system (used where no provider is in reach, e.g. the
/// salt of an encrypted key file).
pub(crate) fn os_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    use rand_core::TryRng;
    getrandom::SysRng
        .try_fill_bytes(buf)
        .map_err(|_| CryptoError::RandomFailed)
}
