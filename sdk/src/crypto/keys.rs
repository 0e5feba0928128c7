//! Private and public keys of the three families camr uses (SM2, ECDSA P-256, RSA), and
//! their import/export as PKCS#8 / SubjectPublicKeyInfo in PEM or DER.
//!
//! Secret scalars and RSA private exponents are held in RustCrypto types that zeroize
//! themselves on drop; every serialised private key is returned in a zeroizing buffer.

use std::fmt;

use der::pem::LineEnding;
use pkcs8::{
    DecodePrivateKey, EncodePrivateKey, EncryptedPrivateKeyInfoRef, ObjectIdentifier,
    PrivateKeyInfoRef,
    spki::{DecodePublicKey, EncodePublicKey, SubjectPublicKeyInfoRef},
};
use zeroize::Zeroizing;

use super::CryptoError;
use crate::protocol::PublicKeyAlgorithm;

/// Bytes that are wiped from memory when dropped (private keys, content keys, plaintexts).
pub type SecretBytes = Zeroizing<Vec<u8>>;

/// `id-ecPublicKey` (RFC 5480): the algorithm of both SM2 and P-256 keys in PKCS#8/SPKI.
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// The SM2 curve, GM/T 0006 `sm2p256v1`; OpenSSL 3 writes SM2 keys as `id-ecPublicKey` with it.
pub const OID_SM2_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
/// NIST P-256 (`prime256v1`).
const OID_P256_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// `rsaEncryption` (PKCS #1).
const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// PBKDF2-HMAC-SHA256 iterations for encrypted PKCS#8 keys written by camr. Readable by
/// OpenSSL 3 (`openssl pkey -passin`), Java and Go; high enough to slow down guessing of a
/// wallet password, low enough to open a key in well under a second.
pub const PKCS8_PBKDF2_ITERATIONS: u32 = 100_000;

/// Smallest and largest RSA modulus accepted, in bits.
pub const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits.
pub const RSA_MAX_BITS: usize = 4096;

/// Which kind of key to generate.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// SM2 on the GM/T 0003 recommended curve `sm2p256v1`.
    Sm2,
    /// ECDSA on NIST P-256.
    P256,
    /// RSA with a 2048-bit modulus.
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    Rsa4096,
}

impl KeyAlgorithm {
    /// The names accepted on the command line: `sm2`, `p256`, `rsa2048`, `rsa3072`, `rsa4096`.
    pub fn parse(s: &str) -> Result<Self, CryptoError> {
        match s.to_ascii_lowercase().as_str() {
            "sm2" => Ok(Self::Sm2),
            "p256" | "p-256" | "prime256v1" | "secp256r1" => Ok(Self::P256),
            "rsa2048" | "rsa" => Ok(Self::Rsa2048),
            "rsa3072" => Ok(Self::Rsa3072),
            "rsa4096" => Ok(Self::Rsa4096),
            other => Err(CryptoError::unsupported(format!(
                "key algorithm `{}` (use sm2, p256, rsa2048, rsa3072 or rsa4096)",
                truncate(other, 32)
            ))),
        }
    }
}

/// A private key. Its secret parts are zeroized on drop.
#[non_exhaustive]
#[derive(Clone)]
pub enum PrivateKey {
    /// SM2 (GM/T 0003).
    Sm2(sm2::SecretKey),
    /// ECDSA P-256.
    P256(p256::SecretKey),
    /// RSA, 2048 to 4096 bits.
    Rsa(Box<rsa::PrivateKey>),
}

/// A public key.
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// SM2 (GM/T 0003).
    Sm2(sm2::PublicKey),
    /// ECDSA P-256.
    P256(p256::PublicKey),
    /// RSA, 2048 to 4096 bits.
    Rsa(rsa::PublicKey),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print secret material, not even in debug logs.
        write!(f, "PrivateKey({:?}, <secret>)", self.algorithm())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spki = self.to_spki_der().unwrap_or_default();
        write!(
            f,
            "PublicKey({:?}, spki={})",
            self.algorithm(),
            data_encoding::HEXLOWER.encode(&spki)
        )
    }
}

/// Where a key came from, so that a decoding error can say what was expected.
fn pem_label(data: &[u8]) -> Option<&str> {
    if !data.trim_ascii_start().starts_with(b"-----BEGIN ") {
        return None;
    }
    der::pem::decode_label(data.trim_ascii_start()).ok()
}

fn decode_pem(data: &[u8]) -> Result<(String, Vec<u8>), CryptoError> {
    let (label, der) = der::pem::decode_vec(data.trim_ascii())
        .map_err(|e| CryptoError::key(format!("not a valid PEM document ({e})")))?;
    Ok((label.to_string(), der))
}

impl PrivateKey {
    /// The public-key algorithm family of this key.
    pub fn algorithm(&self) -> PublicKeyAlgorithm {
        match self {
            Self::Sm2(_) => PublicKeyAlgorithm::Sm2,
            Self::P256(_) => PublicKeyAlgorithm::EcdsaP256,
            Self::Rsa(_) => PublicKeyAlgorithm::Rsa,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Self::Sm2(k) => PublicKey::Sm2(k.public_key()),
            Self::P256(k) => PublicKey::P256(k.public_key()),
            Self::Rsa(k) => PublicKey::Rsa(k.to_public_key()),
        }
    }

    /// Decodes a private key from PEM or DER, encrypted or not.
    ///
    /// Accepts `PRIVATE KEY` (PKCS#8) and `ENCRYPTED PRIVATE KEY` (PKCS#8 with PBES2) PEM
    /// documents and their DER forms. An encrypted key without `password` fails with
    /// [`CryptoError::KeyPasswordRequired`].
    pub fn from_bytes(data: &[u8], password: Option<&[u8]>) -> Result<Self, CryptoError> {
        if data.is_empty() {
            return Err(CryptoError::key("the input is empty"));
        }
        match pem_label(data) {
            Some(_) => {
                let (label, der) = decode_pem(data)?;
                let der = Zeroizing::new(der);
                match label.as_str() {
                    "PRIVATE KEY" => Self::from_pkcs8_der(&der),
                    "ENCRYPTED PRIVATE KEY" => Self::from_encrypted_pkcs8_der(
                        &der,
                        password.ok_or(CryptoError::KeyPasswordRequired)?,
                    ),
                    "EC PRIVATE KEY" | "RSA PRIVATE KEY" => Err(CryptoError::key(format!(
                        "`{label}` (SEC1/PKCS#1) is a legacy format; convert it with `openssl pkcs8 -topk8 -nocrypt`"
                    ))),
                    other => Err(CryptoError::key(format!(
                        "expected a `PRIVATE KEY` or `ENCRYPTED PRIVATE KEY` PEM block, found `{}`",
                        truncate(other, 40)
                    ))),
                }
            }
            None => {
                if PrivateKeyInfoRef::try_from(data).is_ok() {
                    Self::from_pkcs8_der(data)
                } else if EncryptedPrivateKeyInfoRef::try_from(data).is_ok() {
                    Self::from_encrypted_pkcs8_der(
                        data,
                        password.ok_or(CryptoError::KeyPasswordRequired)?,
                    )
                } else {
                    Err(CryptoError::key(
                        "neither a PEM document nor a DER PKCS#8 private key",
                    ))
                }
            }
        }
    }

    /// Decodes an unencrypted PKCS#8 `PrivateKeyInfo` (DER).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let info = PrivateKeyInfoRef::try_from(der)
            .map_err(|e| CryptoError::key(format!("not a PKCS#8 PrivateKeyInfo ({e})")))?;
        match classify(info.algorithm.oid, info.algorithm.parameters_oid().ok())? {
            Family::Sm2 => sm2::SecretKey::from_pkcs8_der(der)
                .map(Self::Sm2)
                .map_err(|e| CryptoError::key(format!("bad SM2 private key ({e})"))),
            Family::P256 => p256::SecretKey::from_pkcs8_der(der)
                .map(Self::P256)
                .map_err(|e| CryptoError::key(format!("bad P-256 private key ({e})"))),
            Family::Rsa => {
                let key = rsa::PrivateKey::from_pkcs8_der(der)
                    .map_err(|e| CryptoError::key(format!("bad RSA private key ({e})")))?;
                check_rsa_size(rsa::traits::PublicKeyParts::size(&key) * 8)?;
                Ok(Self::Rsa(Box::new(key)))
            }
        }
    }

    /// Decodes an `EncryptedPrivateKeyInfo` (PKCS#8 + PBES2) with its password.
    pub fn from_encrypted_pkcs8_der(der: &[u8], password: &[u8]) -> Result<Self, CryptoError> {
        let info = EncryptedPrivateKeyInfoRef::try_from(der).map_err(|e| match e {
            // GmSSL, for one, writes PBKDF2-HMAC-SM3 + SM4-CBC: well-formed, but a scheme
            // the PKCS#5 implementation here does not offer.
            pkcs8::Error::Asn1(d) if matches!(d.kind(), der::ErrorKind::OidUnknown { .. }) => {
                CryptoError::unsupported(format!("encrypted key scheme ({d}); re-encrypt the key with PBES2/AES (`openssl pkcs8 -topk8 -v2 aes-256-cbc`)"))
            }
            other => CryptoError::key(format!("not a PKCS#8 EncryptedPrivateKeyInfo ({other})")),
        })?;
        let plain = info.decrypt(password).map_err(|e| match e {
            pkcs8::Error::EncryptedPrivateKey(
                pkcs8::pkcs5::Error::AlgorithmParametersInvalid { .. },
            )
            | pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::UnsupportedAlgorithm {
                ..
            }) => CryptoError::unsupported(format!("encrypted key scheme ({e})")),
            _ => CryptoError::KeyPasswordWrong,
        })?;
        // A wrong password usually fails the CBC padding check above; when it does not, the
        // decrypted bytes are garbage and fail here — report that as a wrong password too.
        Self::from_pkcs8_der(plain.as_bytes()).map_err(|_| CryptoError::KeyPasswordWrong)
    }

    /// Decodes a PEM `PRIVATE KEY` or `ENCRYPTED PRIVATE KEY` document.
    pub fn from_pem(pem: &str, password: Option<&[u8]>) -> Result<Self, CryptoError> {
        if pem_label(pem.as_bytes()).is_none() {
            return Err(CryptoError::key("not a PEM document (no -----BEGIN line)"));
        }
        Self::from_bytes(pem.as_bytes(), password)
    }

    /// Encodes as unencrypted PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> Result<SecretBytes, CryptoError> {
        let doc = match self {
            Self::Sm2(k) => k.to_pkcs8_der(),
            Self::P256(k) => k.to_pkcs8_der(),
            Self::Rsa(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| CryptoError::key(format!("cannot encode the key ({e})")))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// Encodes as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, CryptoError> {
        let der = self.to_pkcs8_der()?;
        der::pem::encode_string("PRIVATE KEY", LineEnding::LF, &der)
            .map(Zeroizing::new)
            .map_err(|e| CryptoError::key(format!("cannot encode PEM ({e})")))
    }

    /// Encodes as encrypted PKCS#8 DER: PBES2 with PBKDF2-HMAC-SHA256
    /// ([`PKCS8_PBKDF2_ITERATIONS`]) and AES-256-CBC, random salt and IV — the scheme that
    /// OpenSSL 3 writes with `openssl pkcs8 -topk8 -v2 aes-256-cbc` and reads back.
    pub fn to_encrypted_pkcs8_der(&self, password: &[u8]) -> Result<SecretBytes, CryptoError> {
        let plain = self.to_pkcs8_der()?;
        let info = PrivateKeyInfoRef::try_from(plain.as_slice())
            .map_err(|e| CryptoError::key(format!("cannot re-read the encoded key ({e})")))?;
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        super::os_random(&mut salt)?;
        super::os_random(&mut iv)?;
        let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
            PKCS8_PBKDF2_ITERATIONS,
            &salt,
            iv,
        )
        .map_err(|e| CryptoError::key(format!("cannot set up PBES2 ({e})")))?;
        let doc = info
            .encrypt_with_params(params, password)
            .map_err(|e| CryptoError::key(format!("cannot encrypt the key ({e})")))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// Encodes as encrypted PKCS#8 PEM (`-----BEGIN ENCRYPTED PRIVATE KEY-----`).
    pub fn to_encrypted_pkcs8_pem(
        &self,
        password: &[u8],
    ) -> Result<Zeroizing<String>, CryptoError> {
        let der = self.to_encrypted_pkcs8_der(password)?;
        der::pem::encode_string("ENCRYPTED PRIVATE KEY", LineEnding::LF, &der)
            .map(Zeroizing::new)
            .map_err(|e| CryptoError::key(format!("cannot encode PEM ({e})")))
    }
}

impl PublicKey {
    /// The public-key algorithm family of this key.
    pub fn algorithm(&self) -> PublicKeyAlgorithm {
        match self {
            Self::Sm2(_) => PublicKeyAlgorithm::Sm2,
            Self::P256(_) => PublicKeyAlgorithm::EcdsaP256,
            Self::Rsa(_) => PublicKeyAlgorithm::Rsa,
        }
    }

    /// Decodes a public key from a PEM `PUBLIC KEY` document or SPKI DER.
    pub fn from_bytes(data: &[u8]) -> Result<Self, CryptoError> {
        if data.is_empty() {
            return Err(CryptoError::key("the input is empty"));
        }
        match pem_label(data) {
            Some(_) => {
                let (label, der) = decode_pem(data)?;
                match label.as_str() {
                    "PUBLIC KEY" => Self::from_spki_der(&der),
                    "PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => Err(CryptoError::key(
                        "this is a private key; give the public key (`camr key pub` makes one)",
                    )),
                    other => Err(CryptoError::key(format!(
                        "expected a `PUBLIC KEY` PEM block, found `{}`",
                        truncate(other, 40)
                    ))),
                }
            }
            None => Self::from_spki_der(data),
        }
    }

    /// Decodes a DER `SubjectPublicKeyInfo`.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        let info = SubjectPublicKeyInfoRef::try_from(der)
            .map_err(|e| CryptoError::key(format!("not a SubjectPublicKeyInfo ({e})")))?;
        match classify(info.algorithm.oid, info.algorithm.parameters_oid().ok())? {
            Family::Sm2 => sm2::PublicKey::from_public_key_der(der)
                .map(Self::Sm2)
                .map_err(|e| CryptoError::key(format!("bad SM2 public key ({e})"))),
            Family::P256 => p256::PublicKey::from_public_key_der(der)
                .map(Self::P256)
                .map_err(|e| CryptoError::key(format!("bad P-256 public key ({e})"))),
            Family::Rsa => {
                let key = rsa::PublicKey::from_public_key_der(der)
                    .map_err(|e| CryptoError::key(format!("bad RSA public key ({e})")))?;
                check_rsa_size(rsa::traits::PublicKeyParts::size(&key) * 8)?;
                Ok(Self::Rsa(key))
            }
        }
    }

    /// Decodes a PEM `PUBLIC KEY` document.
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        if pem_label(pem.as_bytes()).is_none() {
            return Err(CryptoError::key("not a PEM document (no -----BEGIN line)"));
        }
        Self::from_bytes(pem.as_bytes())
    }

    /// Decodes an uncompressed/compressed SEC1 point as an SM2 public key.
    pub fn sm2_from_sec1(bytes: &[u8]) -> Result<Self, CryptoError> {
        sm2::PublicKey::from_sec1_bytes(bytes)
            .map(Self::Sm2)
            .map_err(|_| CryptoError::key("not a point on the SM2 curve"))
    }

    /// Encodes as DER `SubjectPublicKeyInfo`.
    pub fn to_spki_der(&self) -> Result<Vec<u8>, CryptoError> {
        let doc = match self {
            Self::Sm2(k) => k.to_public_key_der(),
            Self::P256(k) => k.to_public_key_der(),
            Self::Rsa(k) => k.to_public_key_der(),
        }
        .map_err(|e| CryptoError::key(format!("cannot encode the key ({e})")))?;
        Ok(doc.as_bytes().to_vec())
    }

    /// Encodes as PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn to_spki_pem(&self) -> Result<String, CryptoError> {
        let der = self.to_spki_der()?;
        der::pem::encode_string("PUBLIC KEY", LineEnding::LF, &der)
            .map_err(|e| CryptoError::key(format!("cannot encode PEM ({e})")))
    }
}

enum Family {
    Sm2,
    P256,
    Rsa,
}

fn classify(alg: ObjectIdentifier, curve: Option<ObjectIdentifier>) -> Result<Family, CryptoError> {
    if alg == OID_RSA_ENCRYPTION {
        return Ok(Family::Rsa);
    }
    if alg == OID_EC_PUBLIC_KEY {
        return match curve {
            Some(c) if c == OID_SM2_CURVE => Ok(Family::Sm2),
            Some(c) if c == OID_P256_CURVE => Ok(Family::P256),
            Some(c) => Err(CryptoError::unsupported(format!("elliptic curve {c}"))),
            None => Err(CryptoError::key("EC key without a named curve")),
        };
    }
    // Some GM/T toolkits write SM2 keys with the curve OID as the algorithm itself.
    if alg == OID_SM2_CURVE {
        return Err(CryptoError::unsupported(
            "SM2 key with algorithm 1.2.156.10197.1.301 instead of id-ecPublicKey; re-export it with `openssl pkey`",
        ));
    }
    Err(CryptoError::unsupported(format!(
        "public-key algorithm {alg}"
    )))
}

fn check_rsa_size(bits: usize) -> Result<(), CryptoError> {
    if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
        return Err(CryptoError::unsupported(format!(
            "RSA modulus of {bits} bits (camr accepts {RSA_MIN_BITS} to {RSA_MAX_BITS})"
        )));
    }
    Ok(())
}

/// Shortens text echoed into an error message, on a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}
