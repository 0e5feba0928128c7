//! The binding signature (evidence item `request`): the message an app signs to approve or
//! reject a request object, and the digest of every other part of the answer the platform
//! acts on. The app ([`crate::app`]) and the platform ([`crate::ceremony`]) both build the
//! message here, so the two cannot drift apart.
//!
//! Version `camr2` (issue 16, finding 5). `camr1` signed only `camr1-answer:<request hash>`,
//! so anyone relaying an answer (a vendor cloud, a proxy, a browser extension) could swap the
//! encryption certificate a bid is sealed to, a returned content key, an item refusal, the
//! delegation or the QR profile the answer came through, and every signature still verified.
//! `camr2` signs
//!
//! ```text
//! camr2-answer:<request hash>:<contents digest>
//! camr2-reject:<request hash>:<contents digest>:<reason>
//! ```
//!
//! where the request hash is the lower-case hex SM3 of the exact request text and the
//! contents digest the lower-case hex SM3 of [`AnswerContents::encode`]. Answers signed the
//! `camr1` way are recognised ([`legacy_message`]) only to be refused with
//! `ANSWER_VERSION_UNSUPPORTED`, so an out-of-date app is told to update rather than that its
//! signature is forged.

use crate::crypto::{CryptoProvider, HashAlgorithm, PublicKey, SignatureScheme};

use super::{
    DecryptedKey, ItemRejection, ProtocolError, RequestObject, Response, ResponseStatus,
    SignedRequest,
};

/// Item id of the message signature.
pub const MESSAGE_ITEM: &str = "message";

/// Lower-case hex SM3 of the exact request text.
pub fn request_hash(provider: &dyn CryptoProvider, request_text: &str) -> String {
    data_encoding::HEXLOWER.encode(&provider.digest(HashAlgorithm::Sm3, request_text.as_bytes()))
}

/// Why a signed request was refused by [`check_signed_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedRequestError {
    /// The platform's signature does not verify.
    SignatureInvalid,
    /// The signed text is not a request object.
    Malformed(String),
}

/// Verifies a platform's signature over a signed request (the app does this before showing
/// anything) and reads the request object. `platform_key` comes from the registry entry of
/// the platform's key.
pub fn check_signed_request(
    provider: &dyn CryptoProvider,
    signed: &SignedRequest,
    platform_key: &PublicKey,
) -> Result<RequestObject, SignedRequestError> {
    provider
        .verify(
            platform_key,
            &SignatureScheme::default_for(platform_key.algorithm()),
            signed.request.as_bytes(),
            &signed.signature,
        )
        .map_err(|_| SignedRequestError::SignatureInvalid)?;
    signed
        .request_object()
        .map_err(|e| SignedRequestError::Malformed(e.to_string()))
}

/// Item id of the binding signature in [`super::Evidence::signatures`].
pub const BINDING_ITEM: &str = "request";
/// The binding version this crate signs and accepts.
pub const BINDING_VERSION: &str = "camr2";
/// Prefix of the message an app signs to approve a request.
pub const ANSWER_PREFIX: &str = "camr2-answer:";
/// Prefix of the message an app signs to reject a request.
pub const REJECT_PREFIX: &str = "camr2-reject:";
/// The first bytes of [`AnswerContents::encode`]: a digest of the contents can never be
/// mistaken for the digest of another camr structure (domain separation).
pub const CONTENTS_TAG: &[u8] = b"camr2-contents\n";
/// The QR profile of an answer that names none: the national interop code.
pub const DEFAULT_QR_PROFILE: &str = "camr1";

/// Item id of the signature over shared registration data (共享注册).
pub const REGISTRATION_ITEM: &str = "registration";
/// Prefix of the message an app signs to share registration data. It has its own signature
/// (made only when the user consents) bound to the request hash, so it is not part of the
/// contents digest.
pub const REGISTRATION_PREFIX: &str = "camr1-registration:";

/// Prefixes of the retired `camr1` binding, recognised only to refuse it clearly.
const LEGACY_ANSWER_PREFIX: &str = "camr1-answer:";
const LEGACY_REJECT_PREFIX: &str = "camr1-reject:";

/// Everything in an answer besides the request hash that the platform acts on, in the order
/// it is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerContents<'a> {
    /// The encryption certificate handed over (encrypt), DER.
    pub encryption_certificate: Option<&'a [u8]>,
    /// The returned content keys (decrypt), in the answer's order.
    pub decrypted_keys: &'a [DecryptedKey],
    /// The refused items of a batch (拒签), in the answer's order.
    pub item_rejections: &'a [ItemRejection],
    /// The id of the delegation (证书授权) the operator acts under
    /// ([`crate::app::delegation::id`]): SM3 of its exact signed text.
    pub delegation_id: Option<String>,
    /// The operator named in the answer.
    pub operator: Option<&'a str>,
    /// The QR profile (二维码类型) the app scanned: `camr1`, `vendor1`, `interlink`, ….
    pub qr_profile: &'a str,
}

impl<'a> AnswerContents<'a> {
    /// The contents of `response` (its `evidence`; none: nothing handed over).
    pub fn of(provider: &dyn CryptoProvider, response: &'a Response) -> Self {
        let evidence = response.evidence.as_ref();
        Self {
            encryption_certificate: evidence
                .and_then(|e| e.encryption_certificate.as_ref())
                .map(|c| c.0.as_slice()),
            decrypted_keys: evidence.map_or(&[], |e| e.decrypted_keys.as_slice()),
            item_rejections: evidence.map_or(&[], |e| e.item_rejections.as_slice()),
            delegation_id: response
                .delegation
                .as_ref()
                .map(|d| super::delegation::id(provider, d)),
            operator: response.operator.as_deref(),
            qr_profile: &response.qr_profile,
        }
    }

    /// The canonical encoding the digest is taken over. Every variable part is
    /// length-prefixed, so no two different contents encode alike (a reason cannot absorb
    /// the next item id, an absent certificate differs from an empty one):
    ///
    /// ```text
    /// "camr2-contents\n"
    /// opt(encryption certificate DER)
    /// u64(number of keys)        then per key:       bytes(item id) bytes(encryptedToPlatform)
    /// u64(number of refusals)    then per refusal:   bytes(item id) bytes(reason)
    /// opt(delegation id)
    /// opt(operator)
    /// bytes(QR profile id)
    /// ```
    ///
    /// `u64(n)`: 8 bytes, big-endian; `bytes(x)`: `u64(len x)` then x (text as UTF-8);
    /// `opt(x)`: the byte 0x00 when absent, else 0x01 then `bytes(x)`.
    pub fn encode(&self) -> Vec<u8> {
        fn count(out: &mut Vec<u8>, n: usize) {
            // usize → u64 is lossless on every platform Rust supports.
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
        fn bytes(out: &mut Vec<u8>, x: &[u8]) {
            count(out, x.len());
            out.extend_from_slice(x);
        }
        fn opt(out: &mut Vec<u8>, x: Option<&[u8]>) {
            match x {
                None => out.push(0),
                Some(x) => {
                    out.push(1);
                    bytes(out, x);
                }
            }
        }
        let mut out = CONTENTS_TAG.to_vec();
        opt(&mut out, self.encryption_certificate);
        count(&mut out, self.decrypted_keys.len());
        for k in self.decrypted_keys {
            bytes(&mut out, k.item_id.as_bytes());
            bytes(&mut out, &k.encrypted_to_platform);
        }
        count(&mut out, self.item_rejections.len());
        for r in self.item_rejections {
            bytes(&mut out, r.item_id.as_bytes());
            bytes(&mut out, r.reason.as_bytes());
        }
        opt(&mut out, self.delegation_id.as_deref().map(str::as_bytes));
        opt(&mut out, self.operator.map(str::as_bytes));
        bytes(&mut out, self.qr_profile.as_bytes());
        out
    }

    /// Lower-case hex SM3 of [`AnswerContents::encode`].
    pub fn digest(&self, provider: &dyn CryptoProvider) -> String {
        data_encoding::HEXLOWER.encode(&provider.digest(HashAlgorithm::Sm3, &self.encode()))
    }
}

/// The message an app signs to approve the request whose SM3 hash is `request_hash` (hex),
/// with contents whose digest is `contents_digest`.
pub fn answer_message(request_hash: &str, contents_digest: &str) -> Vec<u8> {
    format!("{ANSWER_PREFIX}{request_hash}:{contents_digest}").into_bytes()
}

/// The message an app signs to reject, with its reason (last, so it may hold any text).
pub fn reject_message(request_hash: &str, contents_digest: &str, reason: &str) -> Vec<u8> {
    format!("{REJECT_PREFIX}{request_hash}:{contents_digest}:{reason}").into_bytes()
}

/// The message the binding signature of `response` covers: [`answer_message`] for an
/// approval, [`reject_message`] (with `rejectReason`, empty when absent) for a rejection,
/// over `response.requestHash` and the digest of its [`AnswerContents`].
pub fn binding_message(provider: &dyn CryptoProvider, response: &Response) -> Vec<u8> {
    let digest = AnswerContents::of(provider, response).digest(provider);
    match response.status {
        ResponseStatus::Approved => answer_message(&response.request_hash, &digest),
        ResponseStatus::Rejected => reject_message(
            &response.request_hash,
            &digest,
            response.reject_reason.as_deref().unwrap_or_default(),
        ),
    }
}

/// What a `camr1` app signed for `response` (`camr1-answer:<hash>`, or
/// `camr1-reject:<hash>:<reason>`). Never accepted: a binding signature over it means the app
/// is out of date (`ANSWER_VERSION_UNSUPPORTED`).
pub fn legacy_message(response: &Response) -> Vec<u8> {
    match response.status {
        ResponseStatus::Approved => {
            format!("{LEGACY_ANSWER_PREFIX}{}", response.request_hash).into_bytes()
        }
        ResponseStatus::Rejected => format!(
            "{LEGACY_REJECT_PREFIX}{}:{}",
            response.request_hash,
            response.reject_reason.as_deref().unwrap_or_default()
        )
        .into_bytes(),
    }
}

/// The message an app signs to share `data` with the login whose request hash is
/// `request_hash`: `camr1-registration:<hash>:<data as compact JSON>`.
pub fn registration_message(
    request_hash: &str,
    data: &super::SharedRegistration,
) -> Result<Vec<u8>, ProtocolError> {
    let json = serde_json::to_string(data).map_err(|e| ProtocolError::InvalidField {
        field: "registration",
        reason: e.to_string(),
    })?;
    Ok(format!("{REGISTRATION_PREFIX}{request_hash}:{json}").into_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::crypto::default_provider;
    use crate::protocol::Bytes;

    fn contents<'a>(
        keys: &'a [DecryptedKey],
        rejections: &'a [ItemRejection],
    ) -> AnswerContents<'a> {
        AnswerContents {
            encryption_certificate: None,
            decrypted_keys: keys,
            item_rejections: rejections,
            delegation_id: None,
            operator: None,
            qr_profile: DEFAULT_QR_PROFILE,
        }
    }

    #[test]
    fn the_contents_digest_has_a_fixed_vector() {
        // Pinned so that a change of the encoding (which every vendor app must follow) is a
        // deliberate version bump, not an accident; docs/protocol.md quotes this vector.
        let keys = [DecryptedKey {
            item_id: "bid-1".into(),
            encrypted_to_platform: Bytes(vec![1, 2, 3]),
        }];
        let rejections = [ItemRejection {
            item_id: "d2".into(),
            reason: "重复".into(),
        }];
        let c = AnswerContents {
            encryption_certificate: Some(&[0x30, 0x00]),
            operator: Some("王五 (110101199001011234)"),
            qr_profile: "vendor1",
            ..contents(&keys, &rejections)
        };
        let mut expected = b"camr2-contents\n\x01".to_vec();
        expected.extend_from_slice(&2u64.to_be_bytes());
        expected.extend_from_slice(&[0x30, 0x00]);
        expected.extend_from_slice(&1u64.to_be_bytes());
        expected.extend_from_slice(&5u64.to_be_bytes());
        expected.extend_from_slice(b"bid-1");
        expected.extend_from_slice(&3u64.to_be_bytes());
        expected.extend_from_slice(&[1, 2, 3]);
        expected.extend_from_slice(&1u64.to_be_bytes());
        expected.extend_from_slice(&2u64.to_be_bytes());
        expected.extend_from_slice(b"d2");
        expected.extend_from_slice(&6u64.to_be_bytes());
        expected.extend_from_slice("重复".as_bytes());
        expected.push(0);
        expected.push(1);
        let op = "王五 (110101199001011234)".as_bytes();
        expected.extend_from_slice(&(op.len() as u64).to_be_bytes());
        expected.extend_from_slice(op);
        expected.extend_from_slice(&7u64.to_be_bytes());
        expected.extend_from_slice(b"vendor1");
        assert_eq!(c.encode(), expected);
        // SM3 of those bytes, computed independently (OpenSSL's SM3).
        assert_eq!(
            c.digest(default_provider().as_ref()),
            "d67c3ca27d272fdc2f1c4b6ff37fff7adf6caa6103cd3d493bc8889f6ae007b6"
        );
        assert_eq!(
            answer_message("ab", "cd"),
            b"camr2-answer:ab:cd".to_vec(),
            "the approve message"
        );
        assert_eq!(
            reject_message("ab", "cd", "价格: 不对"),
            "camr2-reject:ab:cd:价格: 不对".as_bytes().to_vec()
        );
    }

    #[test]
    fn contents_that_differ_anywhere_encode_differently() {
        let p = default_provider();
        let key = |id: &str, b: &[u8]| DecryptedKey {
            item_id: id.into(),
            encrypted_to_platform: Bytes(b.to_vec()),
        };
        let rej = |id: &str, r: &str| ItemRejection {
            item_id: id.into(),
            reason: r.into(),
        };
        let (k1, k2) = ([key("a", b"xy")], [key("ax", b"y")]);
        let (r1, r2) = ([rej("a", "bc")], [rej("ab", "c")]);
        let two = [key("a", b"1"), key("b", b"2")];
        let swapped = [key("b", b"2"), key("a", b"1")];
        let base = contents(&[], &[]);
        let variants = [
            base.clone(),
            AnswerContents {
                encryption_certificate: Some(&[]),
                ..base.clone()
            },
            contents(&k1, &[]),
            contents(&k2, &[]),
            contents(&two, &[]),
            contents(&swapped, &[]),
            contents(&[], &r1),
            contents(&[], &r2),
            AnswerContents {
                delegation_id: Some(String::new()),
                ..base.clone()
            },
            AnswerContents {
                operator: Some(""),
                ..base.clone()
            },
            AnswerContents {
                qr_profile: "vendor1",
                ..base.clone()
            },
        ];
        let digests: std::collections::HashSet<String> =
            variants.iter().map(|c| c.digest(p.as_ref())).collect();
        assert_eq!(digests.len(), variants.len());
    }
}
