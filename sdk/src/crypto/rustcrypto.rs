//! The default provider, on RustCrypto crates (`sm2`, `sm3`, `sm4`, `p256`, `rsa`, `aes-gcm`,
//! `cbc`, `hmac`, `sha2`). camr writes no primitive of its own.

use aes_gcm::{
    AesGcm,
    aead::{Aead, KeyInit, Payload, consts::U12},
};
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use getrandom::SysRng;
use hmac::{Hmac, Mac};
use rsa::{Oaep, Pkcs1v15Sign, Pss, traits::PublicKeyParts};
use sha2::{Digest, Sha256};
use signature::{Signer, Verifier};
use sm3::Sm3;
use zeroize::Zeroizing;

use super::{
    AEAD_NONCE_LEN, AeadAlgorithm, CryptoError, CryptoProvider, HashAlgorithm, Hasher,
    KeyAlgorithm, PrivateKey, PublicKey, SM4_KEY_LEN, SecretBytes, SignatureScheme,
    Sm2CiphertextForm,
};

/// PSS salt length used by camr: the SHA-256 output length, as RFC 8017 recommends and as
/// OpenSSL's `-pkeyopt rsa_pss_saltlen:digest` produces.
const PSS_SALT_LEN: usize = 32;

type Sm4Gcm = AesGcm<sm4::Sm4, U12>;
type Aes256Gcm = AesGcm<aes_gcm::aes::Aes256, U12>;

/// The default [`CryptoProvider`], built on RustCrypto.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCryptoProvider;

struct DigestHasher<D>(D);

impl<D: Digest + Send> Hasher for DigestHasher<D> {
    fn update(&mut self, data: &[u8]) {
        Digest::update(&mut self.0, data);
    }
    fn finalize(self: Box<Self>) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

fn mismatch(key: &'static str, scheme: &SignatureScheme) -> CryptoError {
    CryptoError::KeySchemeMismatch {
        key,
        scheme: scheme.name(),
    }
}

fn key_name(alg: crate::protocol::PublicKeyAlgorithm) -> &'static str {
    match alg {
        crate::protocol::PublicKeyAlgorithm::Sm2 => "SM2",
        crate::protocol::PublicKeyAlgorithm::EcdsaP256 => "P-256",
        crate::protocol::PublicKeyAlgorithm::Rsa => "RSA",
    }
}

fn check_len(what: &'static str, expected: usize, actual: usize) -> Result<(), CryptoError> {
    if expected != actual {
        return Err(CryptoError::InvalidLength {
            what,
            expected,
            actual,
        });
    }
    Ok(())
}

fn sm2_signer_id(id: &str) -> Result<(), CryptoError> {
    // Z_A stores ENTL, the ID length in bits, in two bytes (GB/T 32918.2, 5.5).
    if id.len() > 8191 {
        return Err(CryptoError::unsupported(
            "SM2 signer ID longer than 8191 bytes",
        ));
    }
    Ok(())
}

impl CryptoProvider for RustCryptoProvider {
    fn name(&self) -> &'static str {
        "rustcrypto"
    }

    fn fill_random(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        super::os_random(buf)
    }

    fn digest(&self, algorithm: HashAlgorithm, data: &[u8]) -> Vec<u8> {
        match algorithm {
            HashAlgorithm::Sm3 => Sm3::digest(data).to_vec(),
            HashAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    fn hasher(&self, algorithm: HashAlgorithm) -> Box<dyn Hasher> {
        match algorithm {
            HashAlgorithm::Sm3 => Box::new(DigestHasher(Sm3::new())),
            HashAlgorithm::Sha256 => Box::new(DigestHasher(Sha256::new())),
        }
    }

    fn hmac(&self, algorithm: HashAlgorithm, key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length (RFC 2104, 2), so `new_from_slice` cannot fail here;
        // the fallback keeps the function total without a panic path.
        match algorithm {
            HashAlgorithm::Sm3 => match Hmac::<Sm3>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(data);
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            },
            HashAlgorithm::Sha256 => match Hmac::<Sha256>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(data);
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            },
        }
    }

    fn generate_key(&self, algorithm: KeyAlgorithm) -> Result<PrivateKey, CryptoError> {
        use elliptic_curve::Generate;
        let mut rng = SysRng;
        match algorithm {
            KeyAlgorithm::Sm2 => sm2::SecretKey::try_generate_from_rng(&mut rng)
                .map(PrivateKey::Sm2)
                .map_err(|_| CryptoError::RandomFailed),
            KeyAlgorithm::P256 => p256::SecretKey::try_generate_from_rng(&mut rng)
                .map(PrivateKey::P256)
                .map_err(|_| CryptoError::RandomFailed),
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
                let bits = match algorithm {
                    KeyAlgorithm::Rsa2048 => 2048,
                    KeyAlgorithm::Rsa3072 => 3072,
                    _ => 4096,
                };
                rsa::PrivateKey::new(&mut rng, bits)
                    .map(|k| PrivateKey::Rsa(Box::new(k)))
                    .map_err(|e| {
                        CryptoError::unsupported(format!("RSA key generation failed ({e})"))
                    })
            }
        }
    }

    fn sign(
        &self,
        key: &PrivateKey,
        scheme: &SignatureScheme,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let failed = |e: signature::Error| CryptoError::SignatureMalformed {
            reason: format!("signing failed ({e})"),
        };
        match (key, scheme) {
            (PrivateKey::Sm2(sk), SignatureScheme::Sm2Sm3 { signer_id }) => {
                sm2_signer_id(signer_id)?;
                let signer = sm2::dsa::SigningKey::new(signer_id, sk).map_err(failed)?;
                // The sm2 crate derives k per RFC 6979 from the key and the hash
                // (deterministic); the signature is an ordinary SM2 signature either way.
                let sig: sm2::dsa::Signature = signer.try_sign(message).map_err(failed)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            (PrivateKey::P256(sk), SignatureScheme::EcdsaP256Sha256) => {
                let signer = p256::ecdsa::SigningKey::from(sk);
                let sig: p256::ecdsa::Signature = signer.try_sign(message).map_err(failed)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            (PrivateKey::Rsa(sk), SignatureScheme::RsaPkcs1v15Sha256) => {
                let hash = Sha256::digest(message);
                sk.sign(Pkcs1v15Sign::new::<Sha256>(), &hash).map_err(|e| {
                    CryptoError::SignatureMalformed {
                        reason: e.to_string(),
                    }
                })
            }
            (PrivateKey::Rsa(sk), SignatureScheme::RsaPssSha256) => {
                let hash = Sha256::digest(message);
                sk.sign_with_rng(
                    &mut SysRng,
                    Pss::<Sha256>::new_with_salt(PSS_SALT_LEN),
                    &hash,
                )
                .map_err(|e| CryptoError::SignatureMalformed {
                    reason: e.to_string(),
                })
            }
            (k, s) => Err(mismatch(key_name(k.algorithm()), s)),
        }
    }

    fn verify(
        &self,
        key: &PublicKey,
        scheme: &SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        match (key, scheme) {
            (PublicKey::Sm2(pk), SignatureScheme::Sm2Sm3 { signer_id }) => {
                sm2_signer_id(signer_id)?;
                let sig = sm2::dsa::Signature::from_der(signature).map_err(|_| {
                    CryptoError::SignatureMalformed {
                        reason: "not a DER SM2Signature (SEQUENCE of r and s)".into(),
                    }
                })?;
                let verifier = sm2::dsa::VerifyingKey::new(signer_id, *pk)
                    .map_err(|_| CryptoError::key("unusable SM2 public key"))?;
                verifier
                    .verify(message, &sig)
                    .map_err(|_| CryptoError::SignatureInvalid)
            }
            (PublicKey::P256(pk), SignatureScheme::EcdsaP256Sha256) => {
                let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| {
                    CryptoError::SignatureMalformed {
                        reason: "not a DER ECDSA-Sig-Value".into(),
                    }
                })?;
                p256::ecdsa::VerifyingKey::from(pk)
                    .verify(message, &sig)
                    .map_err(|_| CryptoError::SignatureInvalid)
            }
            (PublicKey::Rsa(pk), SignatureScheme::RsaPkcs1v15Sha256) => {
                check_len("RSA signature", pk.size(), signature.len())
                    .map_err(|_| CryptoError::SignatureInvalid)?;
                let hash = Sha256::digest(message);
                pk.verify(Pkcs1v15Sign::new::<Sha256>(), &hash, signature)
                    .map_err(|_| CryptoError::SignatureInvalid)
            }
            (PublicKey::Rsa(pk), SignatureScheme::RsaPssSha256) => {
                check_len("RSA signature", pk.size(), signature.len())
                    .map_err(|_| CryptoError::SignatureInvalid)?;
                let hash = Sha256::digest(message);
                pk.verify(Pss::<Sha256>::new_with_salt(PSS_SALT_LEN), &hash, signature)
                    .map_err(|_| CryptoError::SignatureInvalid)
            }
            (k, s) => Err(mismatch(key_name(k.algorithm()), s)),
        }
    }

    fn sm2_encrypt(
        &self,
        key: &PublicKey,
        plaintext: &[u8],
        form: Sm2CiphertextForm,
    ) -> Result<Vec<u8>, CryptoError> {
        let PublicKey::Sm2(pk) = key else {
            return Err(CryptoError::KeySchemeMismatch {
                key: key_name(key.algorithm()),
                scheme: "SM2 encryption",
            });
        };
        if plaintext.is_empty() {
            return Err(CryptoError::EncryptionFailed {
                reason: "SM2 cannot encrypt an empty message".into(),
            });
        }
        let ek = sm2::pke::EncryptingKey::new_with_mode(*pk, sm2::pke::Mode::C1C3C2);
        let mut rng = SysRng;
        match form {
            Sm2CiphertextForm::Asn1 => ek.encrypt_der(&mut rng, plaintext),
            Sm2CiphertextForm::Raw => ek.encrypt(&mut rng, plaintext),
        }
        .map_err(|e| CryptoError::EncryptionFailed {
            reason: e.to_string(),
        })
    }

    fn sm2_decrypt(
        &self,
        key: &PrivateKey,
        ciphertext: &[u8],
        form: Sm2CiphertextForm,
    ) -> Result<SecretBytes, CryptoError> {
        let PrivateKey::Sm2(sk) = key else {
            return Err(CryptoError::KeySchemeMismatch {
                key: key_name(key.algorithm()),
                scheme: "SM2 decryption",
            });
        };
        // Tell a malformed ciphertext (bad input) apart from one that fails its C3 check
        // (wrong key or tampering): callers report the two differently.
        let well_formed = match form {
            Sm2CiphertextForm::Asn1 => {
                <sm2::pke::Cipher<'_, sm2::Sm2, Sm3> as der::Decode<'_>>::from_der(ciphertext)
                    .is_ok()
            }
            Sm2CiphertextForm::Raw => sm2::pke::Cipher::<'_, sm2::Sm2, Sm3>::from_slice(
                ciphertext,
                sm2::pke::Mode::C1C3C2,
            )
            .is_ok(),
        };
        if !well_formed {
            return Err(CryptoError::CiphertextMalformed {
                reason: match form {
                    Sm2CiphertextForm::Asn1 => {
                        "not a DER SM2Cipher (GM/T 0009) with a point on the SM2 curve"
                    }
                    Sm2CiphertextForm::Raw => {
                        "not a raw 04‖C1‖C3‖C2 SM2 ciphertext with a point on the SM2 curve"
                    }
                },
            });
        }
        let dk =
            sm2::pke::DecryptingKey::new_with_mode(sk.to_nonzero_scalar(), sm2::pke::Mode::C1C3C2);
        let result = match form {
            Sm2CiphertextForm::Asn1 => dk.decrypt_der(ciphertext),
            Sm2CiphertextForm::Raw => dk.decrypt(ciphertext),
        };
        result
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::DecryptionFailed {
                reason: "the C3 check failed (wrong key, or the ciphertext was changed)",
            })
    }

    fn rsa_oaep_encrypt(&self, key: &PublicKey, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let PublicKey::Rsa(pk) = key else {
            return Err(CryptoError::KeySchemeMismatch {
                key: key_name(key.algorithm()),
                scheme: "RSA-OAEP",
            });
        };
        pk.encrypt(&mut SysRng, Oaep::<Sha256>::new(), plaintext)
            .map_err(|e| CryptoError::EncryptionFailed {
                reason: e.to_string(),
            })
    }

    fn rsa_oaep_decrypt(
        &self,
        key: &PrivateKey,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let PrivateKey::Rsa(sk) = key else {
            return Err(CryptoError::KeySchemeMismatch {
                key: key_name(key.algorithm()),
                scheme: "RSA-OAEP",
            });
        };
        sk.decrypt_blinded(&mut SysRng, Oaep::<Sha256>::new(), ciphertext)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::DecryptionFailed {
                reason: "RSA-OAEP decryption failed (wrong key or damaged ciphertext)",
            })
    }

    fn rsa_pkcs1v15_decrypt(
        &self,
        key: &PrivateKey,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let PrivateKey::Rsa(sk) = key else {
            return Err(CryptoError::KeySchemeMismatch {
                key: key_name(key.algorithm()),
                scheme: "RSAES-PKCS1-v1_5",
            });
        };
        sk.decrypt_blinded(&mut SysRng, rsa::Pkcs1v15Encrypt, ciphertext)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::DecryptionFailed {
                reason: "RSA PKCS#1 v1.5 decryption failed (wrong key or damaged ciphertext)",
            })
    }

    fn aes256_cbc_encrypt(
        &self,
        key: &[u8],
        iv: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        check_len("AES-256 key", 32, key.len())?;
        check_len("AES-CBC IV", 16, iv.len())?;
        cbc_encrypt::<aes_gcm::aes::Aes256>(key, iv, plaintext)
    }

    fn aes256_cbc_decrypt(
        &self,
        key: &[u8],
        iv: &[u8],
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        check_len("AES-256 key", 32, key.len())?;
        check_len("AES-CBC IV", 16, iv.len())?;
        cbc_decrypt::<aes_gcm::aes::Aes256>(key, iv, ciphertext)
    }

    fn sm4_cbc_encrypt(
        &self,
        key: &[u8],
        iv: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        check_len("SM4 key", SM4_KEY_LEN, key.len())?;
        check_len("SM4-CBC IV", SM4_KEY_LEN, iv.len())?;
        cbc_encrypt::<sm4::Sm4>(key, iv, plaintext)
    }

    fn sm4_cbc_decrypt(
        &self,
        key: &[u8],
        iv: &[u8],
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        check_len("SM4 key", SM4_KEY_LEN, key.len())?;
        check_len("SM4-CBC IV", SM4_KEY_LEN, iv.len())?;
        cbc_decrypt::<sm4::Sm4>(key, iv, ciphertext)
    }

    fn aead_seal(
        &self,
        algorithm: AeadAlgorithm,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        aead_apply(algorithm, key, nonce, aad, plaintext, true).map_err(|_| {
            CryptoError::EncryptionFailed {
                reason: "message too long for GCM".into(),
            }
        })?
    }

    fn aead_open(
        &self,
        algorithm: AeadAlgorithm,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        aead_apply(algorithm, key, nonce, aad, ciphertext, false)
            .map_err(|_| CryptoError::DecryptionFailed {
                reason: "the authentication tag does not verify (wrong key, nonce or data)",
            })?
            .map(Zeroizing::new)
    }
}

/// Seals (`encrypt`) or opens an AEAD message. The outer error is the AEAD's own failure
/// (tag mismatch, length limit); the inner one a bad key or nonce length.
#[allow(clippy::type_complexity)]
fn aead_apply(
    algorithm: AeadAlgorithm,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    msg: &[u8],
    encrypt: bool,
) -> Result<Result<Vec<u8>, CryptoError>, aes_gcm::Error> {
    fn run<C>(
        key: &[u8],
        nonce: &aes_gcm::Nonce<U12>,
        payload: Payload<'_, '_>,
        encrypt: bool,
    ) -> Option<Result<Vec<u8>, aes_gcm::Error>>
    where
        C: Aead + KeyInit + aes_gcm::AeadCore<NonceSize = U12>,
    {
        let cipher = C::new_from_slice(key).ok()?;
        Some(if encrypt {
            cipher.encrypt(nonce, payload)
        } else {
            cipher.decrypt(nonce, payload)
        })
    }
    if let Err(e) = check_len("AEAD key", algorithm.key_len(), key.len()).and(check_len(
        "AEAD nonce",
        AEAD_NONCE_LEN,
        nonce.len(),
    )) {
        return Ok(Err(e));
    }
    let bad_key = CryptoError::InvalidLength {
        what: "AEAD key",
        expected: algorithm.key_len(),
        actual: key.len(),
    };
    let Ok(nonce) = aes_gcm::Nonce::<U12>::try_from(nonce) else {
        return Ok(Err(CryptoError::InvalidLength {
            what: "AEAD nonce",
            expected: AEAD_NONCE_LEN,
            actual: nonce.len(),
        }));
    };
    let payload = Payload { msg, aad };
    let result = match algorithm {
        AeadAlgorithm::Sm4Gcm => run::<Sm4Gcm>(key, &nonce, payload, encrypt),
        AeadAlgorithm::Aes256Gcm => run::<Aes256Gcm>(key, &nonce, payload, encrypt),
    };
    match result {
        None => Ok(Err(bad_key)),
        Some(r) => r.map(Ok),
    }
}

/// CBC with PKCS#7 padding for a 16-byte block cipher (SM4, AES-256); lengths checked by the caller.
fn cbc_encrypt<C>(key: &[u8], iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError>
where
    C: cbc::cipher::BlockCipherEncrypt + cbc::cipher::KeyInit,
    cbc::Encryptor<C>: KeyIvInit + BlockModeEncrypt,
{
    let enc =
        cbc::Encryptor::<C>::new_from_slices(key, iv).map_err(|_| CryptoError::InvalidLength {
            what: "CBC key/IV",
            expected: 16,
            actual: iv.len(),
        })?;
    Ok(enc.encrypt_padded_vec::<Pkcs7>(plaintext))
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Result<SecretBytes, CryptoError>
where
    C: cbc::cipher::BlockCipherDecrypt + cbc::cipher::KeyInit,
    cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
{
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
        return Err(CryptoError::DecryptionFailed {
            reason: "CBC ciphertext length is not a positive multiple of 16",
        });
    }
    let dec =
        cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| CryptoError::InvalidLength {
            what: "CBC key/IV",
            expected: 16,
            actual: iv.len(),
        })?;
    dec.decrypt_padded_vec::<Pkcs7>(ciphertext)
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::DecryptionFailed {
            reason: "bad PKCS#7 padding (wrong key or damaged ciphertext)",
        })
}
