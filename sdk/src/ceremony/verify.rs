//! Checks of signatures kept by the platform, outside any transaction.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::crypto::{CryptoProvider, PublicKey, PublicKeyAlgorithm, SignatureScheme};
use crate::pki::{Certificate, ChainValidator, KeyPurpose, Subject};
use crate::protocol::{Bytes, ErrorCode, RequestObject, SignedRequest};

use super::{CResult, CeremonyError};

/// A message signature to check later (e.g. a price quote kept by the platform).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedMessage {
    /// The message as signed (UTF-8).
    pub message: String,
    /// The signature over its bytes.
    pub signature: Bytes,
    /// The signing certificate, DER.
    pub certificate: Bytes,
    /// Intermediates, DER.
    #[serde(default)]
    pub chain: Vec<Bytes>,
}

/// The verdict of [`verify_message`], in the shape the XJCA manual shows
/// (`{"verifySignatureResult": false}`), with the signer and the reason added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifySignatureData {
    /// Whether the signature and the signer's certificate are valid.
    pub verify_signature_result: bool,
    /// The signer, when the certificate validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// Why not, with its error code, when invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Verifies a message signature at time `at`. The call succeeds whenever the input could be
/// judged: `success` means the check ran, the verdict is `data.verifySignatureResult`
/// (验签成功 with `false` is a valid answer). Only unreadable input fails the call.
pub fn verify_message(
    provider: &dyn CryptoProvider,
    validator: &ChainValidator,
    signed: &SignedMessage,
    at: i64,
) -> crate::protocol::ApiResult<VerifySignatureData> {
    verify_data(
        provider,
        validator,
        signed.message.as_bytes(),
        &signed.signature,
        &signed.certificate,
        &signed.chain,
        at,
    )
}

/// Verifies a signature over `data` — a message's bytes, or a document hash signed through
/// the signature operation (the app signs the hash bytes as its message) — by the holder of
/// `certificate` (DER, with `chain` intermediates), the certificate valid for signing at
/// `at`. Same verdict shape as [`verify_message`].
pub fn verify_data(
    provider: &dyn CryptoProvider,
    validator: &ChainValidator,
    data: &[u8],
    signature: &[u8],
    certificate: &[u8],
    chain: &[Bytes],
    at: i64,
) -> crate::protocol::ApiResult<VerifySignatureData> {
    let verdict = (|| -> Result<Subject, crate::Error> {
        let cert = Certificate::from_der(certificate)?;
        let chain = chain
            .iter()
            .map(|c| Certificate::from_der(c))
            .collect::<Result<Vec<_>, _>>()?;
        let key = cert.public_key()?;
        provider.verify(
            &key,
            &SignatureScheme::default_for(key.algorithm()),
            data,
            signature,
        )?;
        Ok(validator
            .validate(&cert, &chain, KeyPurpose::Sign, at)?
            .subject)
    })();
    match verdict {
        Ok(subject) => crate::protocol::ApiResult::ok(VerifySignatureData {
            verify_signature_result: true,
            subject: Some(subject),
            reason: None,
        }),
        Err(e) if matches!(e.code(), ErrorCode::CertMalformed | ErrorCode::KeyMalformed) => {
            crate::protocol::ApiResult::error(e.code(), e.to_string())
        }
        Err(e) => crate::protocol::ApiResult::ok(VerifySignatureData {
            verify_signature_result: false,
            subject: None,
            reason: Some(format!("{}: {e}", e.code())),
        }),
    }
}

/// Verifies a platform's signature over a signed request (the app side does this before
/// showing anything). `platform_key` comes from the registry entry of the platform's key.
pub fn verify_signed_request(
    provider: &dyn CryptoProvider,
    signed: &SignedRequest,
    platform_key: &PublicKey,
) -> CResult<RequestObject> {
    crate::protocol::binding::check_signed_request(provider, signed, platform_key).map_err(|e| {
        match e {
            crate::protocol::binding::SignedRequestError::SignatureInvalid => {
                CeremonyError::SignatureInvalid {
                    what: "platform request".into(),
                }
            }
            crate::protocol::binding::SignedRequestError::Malformed(m) => {
                CeremonyError::Incomplete(m)
            }
        }
    })
}

/// The algorithm family of a key, for usage records.
pub fn algorithm_of(key: &PublicKey) -> PublicKeyAlgorithm {
    key.algorithm()
}
