//! EnvelopedData: sealing to recipients' encryption certificates and opening.

use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::crypto::{
    CryptoProvider, PrivateKey, PublicKeyAlgorithm, SecretBytes, Sm2CiphertextForm,
};
use crate::pki::{Certificate, KeyPurpose};

use super::*;

/// The content cipher of an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentCipher {
    Sm4Cbc,
    Aes256Cbc,
    Sm4Gcm,
    Aes256Gcm,
}

impl ContentCipher {
    pub(crate) fn key_len(self) -> usize {
        match self {
            Self::Sm4Cbc | Self::Sm4Gcm => 16,
            Self::Aes256Cbc | Self::Aes256Gcm => 32,
        }
    }
}

pub(crate) fn profile_for(recipients: &[Certificate]) -> Result<EnvelopeProfile, EnvelopeError> {
    let mut profile = None;
    for r in recipients {
        r.check_purpose(KeyPurpose::Encrypt)?;
        let p = match r.public_key()?.algorithm() {
            PublicKeyAlgorithm::Sm2 => EnvelopeProfile::GmT0010,
            PublicKeyAlgorithm::Rsa => EnvelopeProfile::Cms,
            PublicKeyAlgorithm::EcdsaP256 => {
                return Err(EnvelopeError::Unsupported {
                    what: "P-256 encryption certificates (key agreement is not implemented)".into(),
                });
            }
        };
        if profile.is_some_and(|q| q != p) {
            return Err(EnvelopeError::Unsupported {
                what: "recipients mixing SM2 and RSA certificates in one envelope".into(),
            });
        }
        profile = Some(p);
    }
    profile.ok_or_else(|| EnvelopeError::malformed("no recipient given"))
}

/// Builds the recipient infos: the content-encryption key transported to each recipient.
pub(crate) fn recipient_infos(
    provider: &dyn CryptoProvider,
    profile: EnvelopeProfile,
    recipients: &[Certificate],
    cek: &[u8],
) -> Result<RecipientInfos, EnvelopeError> {
    let bad = |e: der::Error| EnvelopeError::malformed(format!("cannot encode ({e})"));
    let mut infos = SetOfVec::new();
    for r in recipients {
        let key = r.public_key()?;
        let (key_enc_alg, enc_key) = match profile {
            EnvelopeProfile::GmT0010 => (
                alg(oid::SM2_ENCRYPT, None),
                provider.sm2_encrypt(&key, cek, Sm2CiphertextForm::Asn1)?,
            ),
            EnvelopeProfile::Cms => (
                alg(
                    oid::RSAES_OAEP,
                    Some(Any::from_der(OAEP_SHA256_PARAMS).map_err(bad)?),
                ),
                provider.rsa_oaep_encrypt(&key, cek)?,
            ),
        };
        infos
            .insert(RecipientInfo::Ktri(KeyTransRecipientInfo {
                version: CmsVersion::V0,
                rid: RecipientIdentifier::IssuerAndSerialNumber(issuer_and_serial(r)),
                key_enc_alg,
                enc_key: OctetString::new(enc_key).map_err(bad)?,
            }))
            .map_err(bad)?;
    }
    Ok(RecipientInfos(infos))
}

/// Encrypts `content` to every certificate in `recipients` (their encryption certificates):
/// GM/T 0010 EnvelopedData (SM2 key transport, SM4-CBC) for SM2 certificates, CMS
/// EnvelopedData (RSA-OAEP-SHA256, AES-256-CBC) for RSA ones. Returns DER.
pub fn seal(
    provider: &dyn CryptoProvider,
    recipients: &[Certificate],
    content: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let profile = profile_for(recipients)?;
    let cipher = match profile {
        EnvelopeProfile::GmT0010 => ContentCipher::Sm4Cbc,
        EnvelopeProfile::Cms => ContentCipher::Aes256Cbc,
    };
    let mut cek = zeroize::Zeroizing::new(vec![0u8; cipher.key_len()]);
    provider.fill_random(&mut cek)?;
    let mut iv = [0u8; 16];
    provider.fill_random(&mut iv)?;
    let ciphertext = match cipher {
        ContentCipher::Sm4Cbc => provider.sm4_cbc_encrypt(&cek, &iv, content)?,
        _ => provider.aes256_cbc_encrypt(&cek, &iv, content)?,
    };
    let bad = |e: der::Error| EnvelopeError::malformed(format!("cannot encode ({e})"));
    let (data_oid, env_oid, cipher_oid) = match profile {
        EnvelopeProfile::GmT0010 => (oid::GM_DATA, oid::GM_ENVELOPED_DATA, oid::SM4_CBC),
        EnvelopeProfile::Cms => (oid::DATA, oid::ENVELOPED_DATA, oid::AES256_CBC),
    };
    let ed = EnvelopedData {
        version: CmsVersion::V0,
        originator_info: None,
        recip_infos: recipient_infos(provider, profile, recipients, &cek)?,
        encrypted_content: EncryptedContentInfo {
            content_type: data_oid,
            content_enc_alg: alg(
                cipher_oid,
                Some(Any::encode_from(&OctetString::new(iv.to_vec()).map_err(bad)?).map_err(bad)?),
            ),
            encrypted_content: Some(OctetString::new(ciphertext).map_err(bad)?),
        },
        unprotected_attrs: None,
    };
    ContentInfo {
        content_type: env_oid,
        content: Any::encode_from(&ed).map_err(bad)?,
    }
    .to_der()
    .map_err(bad)
}

pub(crate) fn decode_enveloped(
    ci: &ContentInfo,
) -> Result<(EnvelopeProfile, EnvelopedData), EnvelopeError> {
    let profile = if ci.content_type == oid::GM_ENVELOPED_DATA {
        EnvelopeProfile::GmT0010
    } else if ci.content_type == oid::ENVELOPED_DATA {
        EnvelopeProfile::Cms
    } else {
        return Err(EnvelopeError::malformed(format!(
            "content type {} is not envelopedData",
            ci.content_type
        )));
    };
    let ed = ci
        .content
        .decode_as()
        .map_err(|e| EnvelopeError::malformed(format!("bad EnvelopedData ({e})")))?;
    Ok((profile, ed))
}

/// The recipients of an envelope, as `issuer / serial HEX`, so an app can pick the right
/// encryption certificate.
pub fn recipients(data: &[u8]) -> Result<Vec<String>, EnvelopeError> {
    let (_, ed) = decode_enveloped(&parse_content_info(data)?)?;
    Ok(recipient_list(&ed))
}

pub(crate) fn recipient_list(ed: &EnvelopedData) -> Vec<String> {
    ed.recip_infos
        .0
        .iter()
        .map(|ri| match ri {
            RecipientInfo::Ktri(k) => match &k.rid {
                RecipientIdentifier::IssuerAndSerialNumber(ias) => describe(ias),
                RecipientIdentifier::SubjectKeyIdentifier(ski) => format!(
                    "subjectKeyIdentifier {}",
                    data_encoding::HEXUPPER.encode(ski.0.as_bytes())
                ),
            },
            _ => "a non key-transport recipient (not supported)".to_string(),
        })
        .collect()
}

/// Finds `cert` among the recipients and unwraps the content-encryption key with `key`.
pub(crate) fn unwrap_cek(
    provider: &dyn CryptoProvider,
    ed: &EnvelopedData,
    cert: &Certificate,
    key: &PrivateKey,
) -> Result<SecretBytes, EnvelopeError> {
    for ri in ed.recip_infos.0.iter() {
        let RecipientInfo::Ktri(k) = ri else { continue };
        let RecipientIdentifier::IssuerAndSerialNumber(ias) = &k.rid else {
            continue;
        };
        if !matches(ias, cert) {
            continue;
        }
        let enc = k.enc_key.as_bytes();
        let a = &k.key_enc_alg;
        return Ok(
            // GmSSL 3 writes 1.2.156.10197.1.301.2 (assigned to SM2 key exchange in GM/T
            // 0006) for SM2 key transport; the ciphertext is an ordinary SM2Cipher.
            if a.oid == oid::SM2_ENCRYPT
                || a.oid == oid::SM2_KEY_EXCHANGE
                || a.oid == crate::crypto::OID_SM2_CURVE
            {
                provider.sm2_decrypt(key, enc, Sm2CiphertextForm::Asn1)?
            } else if a.oid == oid::RSA_ENCRYPTION {
                provider.rsa_pkcs1v15_decrypt(key, enc)?
            } else if a.oid == oid::RSAES_OAEP {
                let params = a
                    .parameters
                    .as_ref()
                    .map(|p| p.to_der())
                    .transpose()
                    .map_err(|e| EnvelopeError::malformed(e.to_string()))?;
                if params.as_deref() != Some(OAEP_SHA256_PARAMS)
                    && params.as_deref() != Some(OAEP_SHA256_PARAMS_NULL)
                {
                    return Err(EnvelopeError::Unsupported {
                        what: "RSA-OAEP parameters other than SHA-256 with MGF1-SHA-256".into(),
                    });
                }
                provider.rsa_oaep_decrypt(key, enc)?
            } else {
                return Err(EnvelopeError::Unsupported {
                    what: format!("key transport {}", a.oid),
                });
            },
        );
    }
    Err(EnvelopeError::NoRecipient {
        wanted: describe(&issuer_and_serial(cert)),
        recipients: recipient_list(ed),
    })
}

pub(crate) fn content_cipher(
    a: &AlgorithmIdentifierOwned,
) -> Result<(ContentCipher, Vec<u8>), EnvelopeError> {
    let cipher = if a.oid == oid::SM4_CBC {
        ContentCipher::Sm4Cbc
    } else if a.oid == oid::AES256_CBC {
        ContentCipher::Aes256Cbc
    } else if a.oid == oid::SM4_GCM {
        ContentCipher::Sm4Gcm
    } else if a.oid == oid::AES256_GCM {
        ContentCipher::Aes256Gcm
    } else {
        return Err(EnvelopeError::Unsupported {
            what: format!("content cipher {}", a.oid),
        });
    };
    let iv = match cipher {
        ContentCipher::Sm4Cbc | ContentCipher::Aes256Cbc => a
            .parameters
            .as_ref()
            .ok_or_else(|| EnvelopeError::malformed("CBC without an IV"))?
            .decode_as::<OctetString>()
            .map_err(|e| EnvelopeError::malformed(format!("bad IV ({e})")))?
            .into_bytes(),
        // GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 }
        ContentCipher::Sm4Gcm | ContentCipher::Aes256Gcm => {
            let p = a
                .parameters
                .as_ref()
                .ok_or_else(|| EnvelopeError::malformed("GCM without parameters"))?;
            let seq: Vec<Any> = p
                .decode_as()
                .map_err(|e| EnvelopeError::malformed(format!("bad GCM parameters ({e})")))?;
            seq.first()
                .ok_or_else(|| EnvelopeError::malformed("GCM parameters without a nonce"))?
                .decode_as::<OctetString>()
                .map_err(|e| EnvelopeError::malformed(format!("bad GCM nonce ({e})")))?
                .into_bytes()
        }
    };
    Ok((cipher, iv.into_vec()))
}

/// Opens an envelope (GM/T 0010 or CMS, DER or PEM, camr's or another tool's) with one of
/// the wallet's encryption certificates and its private key.
pub fn open(
    provider: &dyn CryptoProvider,
    data: &[u8],
    cert: &Certificate,
    key: &PrivateKey,
) -> Result<SecretBytes, EnvelopeError> {
    let (_, ed) = decode_enveloped(&parse_content_info(data)?)?;
    let cek = unwrap_cek(provider, &ed, cert, key)?;
    decrypt_content(provider, &ed, &cek)
}

/// Opens an envelope with its content-encryption key (as the decrypt operation hands it
/// back from the app).
pub fn open_with_key(
    provider: &dyn CryptoProvider,
    data: &[u8],
    cek: &[u8],
) -> Result<SecretBytes, EnvelopeError> {
    let (_, ed) = decode_enveloped(&parse_content_info(data)?)?;
    decrypt_content(provider, &ed, cek)
}

fn decrypt_content(
    provider: &dyn CryptoProvider,
    ed: &EnvelopedData,
    cek: &[u8],
) -> Result<SecretBytes, EnvelopeError> {
    let (cipher, iv) = content_cipher(&ed.encrypted_content.content_enc_alg)?;
    let ct = ed
        .encrypted_content
        .encrypted_content
        .as_ref()
        .ok_or_else(|| {
            EnvelopeError::malformed(
                "the envelope has no encrypted content (a bid-file header? use open_stream)",
            )
        })?;
    if cek.len() != cipher.key_len() {
        return Err(EnvelopeError::malformed(format!(
            "the content key must be {} bytes, got {}",
            cipher.key_len(),
            cek.len()
        )));
    }
    Ok(match cipher {
        ContentCipher::Sm4Cbc => provider.sm4_cbc_decrypt(cek, &iv, ct.as_bytes())?,
        ContentCipher::Aes256Cbc => provider.aes256_cbc_decrypt(cek, &iv, ct.as_bytes())?,
        _ => {
            return Err(EnvelopeError::Unsupported {
                what: "GCM content outside the bid-file format".into(),
            });
        }
    })
}

/// The encrypted content-encryption keys of an envelope, per recipient certificate serial —
/// what the platform sends to the app in a decrypt request.
pub fn encrypted_keys(data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, EnvelopeError> {
    let ci = parse_content_info(data)?;
    let (_, ed) = decode_enveloped(&ci)?;
    Ok(encrypted_keys_of(&ed))
}

pub(crate) fn encrypted_keys_of(ed: &EnvelopedData) -> Vec<(String, Vec<u8>)> {
    ed.recip_infos
        .0
        .iter()
        .filter_map(|ri| match ri {
            RecipientInfo::Ktri(k) => match &k.rid {
                RecipientIdentifier::IssuerAndSerialNumber(ias) => Some((
                    crate::pki::serial_hex(&ias.serial_number),
                    k.enc_key.as_bytes().to_vec(),
                )),
                _ => None,
            },
            _ => None,
        })
        .collect()
}
