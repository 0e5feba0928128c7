//! The streaming bid-file (投标文件) format: an EnvelopedData header, then the content in
//! authenticated chunks, sealed and opened in constant memory (spec: `docs/envelope.md`).
//!
//! ```text
//! "CAMRBID1" | u32 header length | header (DER ContentInfo: GM/T 0010 or CMS EnvelopedData,
//! content cipher SM4-GCM or AES-256-GCM, encryptedContent absent) | u32 chunk size |
//! chunk* (ciphertext ‖ 16-byte tag)
//! ```
//!
//! Chunks follow the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015): the
//! nonce of chunk i is `prefix(7) ‖ u32be(i) ‖ last(1)`, every chunk's associated data is
//! SM3 of everything before the first chunk, and exactly the final chunk is shorter than a
//! full one (possibly empty) and flagged last — so reordering, truncation, extension and
//! header swaps all fail authentication.

use std::io::{Read, Write};

use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{EncryptedContentInfo, EnvelopedData};
use der::asn1::OctetString;
use der::{Any, Decode, Encode};

use super::{
    ContentCipher, EnvelopeError, EnvelopeProfile, alg, content_cipher, decode_enveloped,
    encrypted_keys_of, oid, profile_for, recipient_infos, recipient_list, unwrap_cek,
};
use crate::crypto::{AeadAlgorithm, CryptoProvider, HashAlgorithm, PrivateKey, SecretBytes};
use crate::pki::Certificate;

/// The first 8 bytes of a bid file.
pub const BID_FILE_MAGIC: &[u8; 8] = b"CAMRBID1";
/// Plaintext bytes per chunk written by camr.
pub const CHUNK_SIZE: u32 = 64 * 1024;
const TAG_LEN: usize = 16;
const NONCE_PREFIX_LEN: usize = 7;
const MAX_HEADER_LEN: u32 = 1024 * 1024;
const MIN_CHUNK: u32 = 4 * 1024;
const MAX_CHUNK: u32 = 16 * 1024 * 1024;

fn io(e: std::io::Error) -> EnvelopeError {
    EnvelopeError::Io(format!("I/O error: {e}"))
}

fn aead_of(cipher: ContentCipher) -> Result<AeadAlgorithm, EnvelopeError> {
    match cipher {
        ContentCipher::Sm4Gcm => Ok(AeadAlgorithm::Sm4Gcm),
        ContentCipher::Aes256Gcm => Ok(AeadAlgorithm::Aes256Gcm),
        _ => Err(EnvelopeError::Unsupported {
            what: "a CBC cipher in a bid file (chunks need an AEAD)".into(),
        }),
    }
}

fn nonce(prefix: &[u8], counter: u32, last: bool) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..NONCE_PREFIX_LEN].copy_from_slice(
        prefix
            .get(..NONCE_PREFIX_LEN)
            .unwrap_or(&[0; NONCE_PREFIX_LEN]),
    );
    n[NONCE_PREFIX_LEN..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    n
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn fill(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, EnvelopeError> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        }
    }
    Ok(n)
}

fn preamble_aad(
    provider: &dyn CryptoProvider,
    header: &[u8],
    chunk_size: u32,
) -> Result<Vec<u8>, EnvelopeError> {
    let len =
        u32::try_from(header.len()).map_err(|_| EnvelopeError::malformed("header too large"))?;
    let mut h = provider.hasher(HashAlgorithm::Sm3);
    h.update(BID_FILE_MAGIC);
    h.update(&len.to_be_bytes());
    h.update(header);
    h.update(&chunk_size.to_be_bytes());
    Ok(h.finalize())
}

/// Seals a bid file from `input` to `output` for `recipients` (encryption certificates),
/// in constant memory; `progress` gets the plaintext bytes done so far. Returns the
/// plaintext length.
pub fn seal_stream<R: Read, W: Write>(
    provider: &dyn CryptoProvider,
    recipients: &[Certificate],
    mut input: R,
    mut output: W,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, EnvelopeError> {
    let profile = profile_for(recipients)?;
    let (cipher, cipher_oid, data_oid, env_oid) = match profile {
        EnvelopeProfile::GmT0010 => (
            ContentCipher::Sm4Gcm,
            oid::SM4_GCM,
            oid::GM_DATA,
            oid::GM_ENVELOPED_DATA,
        ),
        EnvelopeProfile::Cms => (
            ContentCipher::Aes256Gcm,
            oid::AES256_GCM,
            oid::DATA,
            oid::ENVELOPED_DATA,
        ),
    };
    let aead = aead_of(cipher)?;
    let mut cek = zeroize::Zeroizing::new(vec![0u8; cipher.key_len()]);
    provider.fill_random(&mut cek)?;
    let mut prefix = [0u8; NONCE_PREFIX_LEN];
    provider.fill_random(&mut prefix)?;
    let bad = |e: der::Error| EnvelopeError::malformed(format!("cannot encode ({e})"));
    // GCMParameters ::= SEQUENCE { nonce OCTET STRING, icvLen INTEGER } (RFC 5084); the
    // nonce field holds the 7-byte STREAM prefix.
    let params: Vec<Any> = vec![
        Any::encode_from(&OctetString::new(prefix.to_vec()).map_err(bad)?).map_err(bad)?,
        Any::encode_from(&(TAG_LEN as u8)).map_err(bad)?,
    ];
    let ed = EnvelopedData {
        version: CmsVersion::V0,
        originator_info: None,
        recip_infos: recipient_infos(provider, profile, recipients, &cek)?,
        encrypted_content: EncryptedContentInfo {
            content_type: data_oid,
            content_enc_alg: alg(cipher_oid, Some(Any::encode_from(&params).map_err(bad)?)),
            encrypted_content: None,
        },
        unprotected_attrs: None,
    };
    let header = ContentInfo {
        content_type: env_oid,
        content: Any::encode_from(&ed).map_err(bad)?,
    }
    .to_der()
    .map_err(bad)?;
    let header_len =
        u32::try_from(header.len()).map_err(|_| EnvelopeError::malformed("header too large"))?;
    output.write_all(BID_FILE_MAGIC).map_err(io)?;
    output.write_all(&header_len.to_be_bytes()).map_err(io)?;
    output.write_all(&header).map_err(io)?;
    output.write_all(&CHUNK_SIZE.to_be_bytes()).map_err(io)?;
    let aad = preamble_aad(provider, &header, CHUNK_SIZE)?;
    let mut buf = zeroize::Zeroizing::new(vec![0u8; CHUNK_SIZE as usize]);
    let mut counter: u32 = 0;
    let mut done: u64 = 0;
    loop {
        let n = fill(&mut input, &mut buf)?;
        let last = n < buf.len();
        let sealed =
            provider.aead_seal(aead, &cek, &nonce(&prefix, counter, last), &aad, &buf[..n])?;
        output.write_all(&sealed).map_err(io)?;
        done += n as u64;
        progress(done);
        if last {
            break;
        }
        counter = counter
            .checked_add(1)
            .ok_or_else(|| EnvelopeError::malformed("bid file too large for one envelope"))?;
    }
    output.flush().map_err(io)?;
    Ok(done)
}

/// The header of a bid file: who can open it and with which encrypted keys.
#[derive(Debug, Clone)]
pub struct BidFileHeader {
    /// GM/T 0010 or CMS.
    pub profile: EnvelopeProfile,
    /// Recipients, `issuer / serial HEX`.
    pub recipients: Vec<String>,
    /// (recipient certificate serial, encrypted content key), for a decrypt request.
    pub encrypted_keys: Vec<(String, Vec<u8>)>,
    ed: EnvelopedData,
    cipher: ContentCipher,
    prefix: Vec<u8>,
    chunk_size: u32,
    aad: Vec<u8>,
}

/// Reads the header of a bid file (and nothing more).
pub fn read_header<R: Read>(
    provider: &dyn CryptoProvider,
    input: &mut R,
) -> Result<BidFileHeader, EnvelopeError> {
    let mut magic = [0u8; 8];
    if fill(input, &mut magic)? != 8 || &magic != BID_FILE_MAGIC {
        return Err(EnvelopeError::malformed(
            "not a camr bid file (no CAMRBID1 magic)",
        ));
    }
    let mut len = [0u8; 4];
    if fill(input, &mut len)? != 4 {
        return Err(EnvelopeError::malformed("truncated bid-file header"));
    }
    let len = u32::from_be_bytes(len);
    if len == 0 || len > MAX_HEADER_LEN {
        return Err(EnvelopeError::malformed(format!(
            "bid-file header length {len} out of range"
        )));
    }
    let mut header = vec![0u8; len as usize];
    if fill(input, &mut header)? != header.len() {
        return Err(EnvelopeError::malformed("truncated bid-file header"));
    }
    let mut cs = [0u8; 4];
    if fill(input, &mut cs)? != 4 {
        return Err(EnvelopeError::malformed("truncated bid-file header"));
    }
    let chunk_size = u32::from_be_bytes(cs);
    if !(MIN_CHUNK..=MAX_CHUNK).contains(&chunk_size) {
        return Err(EnvelopeError::malformed(format!(
            "chunk size {chunk_size} out of range"
        )));
    }
    let ci = ContentInfo::from_der(&header)
        .map_err(|e| EnvelopeError::malformed(format!("bad header ({e})")))?;
    let (profile, ed) = decode_enveloped(&ci)?;
    let (cipher, prefix) = content_cipher(&ed.encrypted_content.content_enc_alg)?;
    aead_of(cipher)?;
    if prefix.len() != NONCE_PREFIX_LEN {
        return Err(EnvelopeError::malformed("the nonce prefix must be 7 bytes"));
    }
    Ok(BidFileHeader {
        profile,
        recipients: recipient_list(&ed),
        encrypted_keys: encrypted_keys_of(&ed),
        aad: preamble_aad(provider, &header, chunk_size)?,
        ed,
        cipher,
        prefix,
        chunk_size,
    })
}

/// How to get the content key of a bid file.
#[derive(Debug, Clone, Copy)]
pub enum KeySource<'a> {
    /// A wallet's encryption certificate and private key.
    Wallet {
        /// The encryption certificate.
        cert: &'a Certificate,
        /// Its private key.
        key: &'a PrivateKey,
    },
    /// The content key itself (the decrypt operation's result).
    ContentKey(&'a [u8]),
}

/// Opens a bid file from `input` to `output` in constant memory. On an error the output is
/// incomplete and must be discarded (every chunk is authenticated before it is written, but
/// truncation is only known at the end).
pub fn open_stream<R: Read, W: Write>(
    provider: &dyn CryptoProvider,
    mut input: R,
    mut output: W,
    key: KeySource<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, EnvelopeError> {
    let header = read_header(provider, &mut input)?;
    let cek: SecretBytes = match key {
        KeySource::Wallet { cert, key } => unwrap_cek(provider, &header.ed, cert, key)?,
        KeySource::ContentKey(k) => zeroize::Zeroizing::new(k.to_vec()),
    };
    if cek.len() != header.cipher.key_len() {
        return Err(EnvelopeError::malformed(format!(
            "the content key must be {} bytes",
            header.cipher.key_len()
        )));
    }
    let aead = aead_of(header.cipher)?;
    let record = header.chunk_size as usize + TAG_LEN;
    let mut buf = vec![0u8; record];
    let mut counter: u32 = 0;
    let mut done: u64 = 0;
    loop {
        let n = fill(&mut input, &mut buf)?;
        let last = n < record;
        if n < TAG_LEN {
            return Err(EnvelopeError::SignatureInvalid {
                reason: "the bid file is truncated (no final chunk)".into(),
            });
        }
        let plain = provider
            .aead_open(aead, &cek, &nonce(&header.prefix, counter, last), &header.aad, &buf[..n])
            .map_err(|_| EnvelopeError::SignatureInvalid {
                reason: format!("chunk {counter} does not authenticate (tampered, reordered, truncated, or wrong key)"),
            })?;
        output.write_all(&plain).map_err(io)?;
        done += plain.len() as u64;
        progress(done);
        if last {
            let mut extra = [0u8; 1];
            if fill(&mut input, &mut extra)? != 0 {
                return Err(EnvelopeError::SignatureInvalid {
                    reason: "data after the final chunk".into(),
                });
            }
            break;
        }
        counter = counter
            .checked_add(1)
            .ok_or_else(|| EnvelopeError::malformed("too many chunks"))?;
    }
    output.flush().map_err(io)?;
    Ok(done)
}
