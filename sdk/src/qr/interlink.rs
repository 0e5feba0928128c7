//! The interlink-compatible QR profile `interlink`, and the callback envelope of the
//! predecessor scheme (中招互连, whose platforms docked through a front-end processor,
//! 前置机) as camr defines its encryption. See `docs/interlink.md`.
//!
//! **QR content** — a URL whose query is base64, as the predecessor's older form:
//!
//! ```text
//! <request URI>?<BASE64( QRCodeType=<tt>;TId=<tid>;expireTime=<EXP>;keyId=<KID>;signValue=<SIG>;[step=<n>;stepMac=<MAC>;] )>
//! ```
//!
//! - the URL is the signed request URI (where the app fetches the request object);
//! - `QRCodeType`: two digits per operation ([`qr_code_type`]); `TId`: the tid — platform
//!   code (系统标识码, 11 characters) + 32 lower-case hex digits, i.e. camr's [`Tid`];
//! - `expireTime`, `keyId`: expiry (Unix seconds) and platform key id, as in `camr1`;
//! - `signValue`: standard base64 of the platform signature over the `camr1` signed bytes
//!   with the context `camr-interlink-qr`, so no other profile's signature verifies here;
//! - `step`, `stepMac`: a rotating code's live part (as in `camr1`, MAC in base64).
//!
//! Base64 is RFC 4648 standard with padding (what the predecessor's codes use); parsing is
//! strict (only the exact text [`Interlink`] writes is accepted).
//!
//! **Transport.** The request is fetched from the request URI as with `camr1` (no `qr` tag:
//! the interlink code is a national-interop code). The answer travels as an encrypted
//! callback ([`Callback`]) to the platform's `receiveScanData` endpoint, which hands the
//! decrypted camr [`crate::protocol::Response`] to
//! [`crate::ceremony::Platform::answer_via`] with this profile; an app that posts camr's
//! JSON answer directly uses the request object's `responseUri` unchanged.
//!
//! **Callback encryption** (ours; the predecessor's is not public): `desKey` = standard
//! base64 of the SM2 ciphertext (GM/T 0009 ASN.1, C1C3C2) of a fresh 16-byte SM4 key under
//! the platform's interlink encryption key; `encrypt` = standard base64 of
//! `nonce(12) ‖ SM4-GCM ciphertext ‖ tag(16)` (RFC 8998) of the JSON body, with the
//! additional data `camr-interlink-callback LF <type> LF <platformCode>`.

use data_encoding::BASE64;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::crypto::{
    AEAD_NONCE_LEN, AEAD_TAG_LEN, AeadAlgorithm, CryptoError, CryptoProvider, PrivateKey,
    PublicKey, SM4_KEY_LEN, SecretBytes, Sm2CiphertextForm, truncate,
};
use crate::protocol::{Bytes, Operation, QrPayload, QrRotation, Tid};

use super::profile::with_query;
use super::{
    MAX_PAYLOAD_LEN, PAYLOAD_VERSION, QrError, QrFields, QrProfile, QrSigner, ROTATION_MAC_LEN,
    VerifyOptions,
};

/// Domain separation of the signed bytes.
const INTERLINK_CONTEXT: &str = "camr-interlink-qr";
/// What the base64 query of every interlink code starts with, decoded.
const FIELDS_PREFIX: &str = "QRCodeType=";
/// Domain separation of the callback encryption (the AEAD's additional data).
const CALLBACK_CONTEXT: &str = "camr-interlink-callback";
/// Largest `encrypt` field accepted, in base64 characters (a decrypt answer with many keys
/// stays far below).
pub const MAX_CALLBACK_LEN: usize = 768 * 1024;

/// The interlink-compatible profile, see the module documentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Interlink;

/// The predecessor-style QR type code (`QRCodeType`) of an operation — our mapping, chosen
/// so that the four codes the callbacks share are equal to the callback type that answers
/// them: `02` login, `03` signature, `04` revokeSignature, `05` encrypt, `06` decrypt,
/// `07` messageSignature.
pub fn qr_code_type(operation: Operation) -> &'static str {
    match operation {
        Operation::Login => "02",
        Operation::Signature => "03",
        Operation::RevokeSignature => "04",
        Operation::Encrypt => "05",
        Operation::Decrypt => "06",
        Operation::MessageSignature => "07",
    }
}

/// The operation of a `QRCodeType` code ([`qr_code_type`]'s inverse).
pub fn operation_of_qr_code_type(code: &str) -> Option<Operation> {
    Operation::ALL
        .iter()
        .copied()
        .find(|op| qr_code_type(*op) == code)
}

/// The callback types (回调类型) of the predecessor scheme, as camr maps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackType {
    /// `01` scan status (扫码状态): the transaction becomes `scanned`.
    ScanStatus,
    /// `02` login user info (登录用户信息): the answer of a login.
    Login,
    /// `03` signature / withdraw-signature value (签名值/撤章): the answer of a
    /// messageSignature, signature or revokeSignature.
    Signature,
    /// `05` encryption certificate info (加密证书信息): the answer of an encrypt.
    EncryptionCertificate,
    /// `06` decryption result (解密结果): the answer of a decrypt.
    DecryptResult,
}

impl CallbackType {
    /// Every type.
    pub const ALL: [CallbackType; 5] = [
        Self::ScanStatus,
        Self::Login,
        Self::Signature,
        Self::EncryptionCertificate,
        Self::DecryptResult,
    ];

    /// The two-digit code on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Self::ScanStatus => "01",
            Self::Login => "02",
            Self::Signature => "03",
            Self::EncryptionCertificate => "05",
            Self::DecryptResult => "06",
        }
    }

    /// The type of a wire code; `None` for anything else (`04`, `1`, `01 `, …).
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The type whose callback carries the answer of `operation`.
    pub fn answering(operation: Operation) -> Self {
        match operation {
            Operation::Login => Self::Login,
            Operation::MessageSignature | Operation::Signature | Operation::RevokeSignature => {
                Self::Signature
            }
            Operation::Encrypt => Self::EncryptionCertificate,
            Operation::Decrypt => Self::DecryptResult,
        }
    }
}

/// A callback (回调) of the app side's server to the platform, in the predecessor's shape:
/// `{"type":"05","data":{"encrypt":"…","desKey":"…"},"platformCode":"C1100005553"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Callback {
    /// The callback type: `01` scan status, `02` login, `03` signature value, `05`
    /// encryption certificate, `06` decryption result.
    #[serde(rename = "type")]
    pub kind: String,
    /// The encrypted body.
    pub data: CallbackData,
    /// The platform's code (系统标识码), 11 characters; the tid starts with it.
    pub platform_code: String,
}

/// The encrypted body of a [`Callback`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackData {
    /// Standard base64 of `nonce(12) ‖ SM4-GCM ciphertext ‖ tag(16)` of the JSON body.
    pub encrypt: String,
    /// Standard base64 of the SM2 ciphertext (ASN.1, C1C3C2) of the 16-byte SM4 key, to the
    /// platform's interlink encryption key. Required by camr (optional in the predecessor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub des_key: Option<String>,
}

/// The body of a type `01` callback (scan status, 扫码状态), predecessor field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScanStatus {
    /// The transaction.
    #[serde(rename = "tId")]
    pub tid: Tid,
    /// `01` scanned, `00` not (yet) scanned.
    #[serde(rename = "isScaned")]
    pub is_scaned: String,
    /// The `QRCodeType` of the scanned code; when given it must fit the transaction.
    #[serde(
        rename = "qRCodeType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub qr_code_type: Option<String>,
    /// The organisation's transaction code on the national service platform (informative).
    #[serde(
        rename = "unifiedTransactionCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub unified_transaction_code: Option<String>,
    /// The person's transaction code on the national service platform (informative).
    #[serde(
        rename = "personalTransactionCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub personal_transaction_code: Option<String>,
}

fn additional_data(kind: &str, platform_code: &str) -> Vec<u8> {
    format!("{CALLBACK_CONTEXT}\n{kind}\n{platform_code}").into_bytes()
}

/// The app side: encrypts `body` (JSON) into a callback of type `kind` for the platform
/// `platform_code` whose interlink encryption key (SM2) is `platform_key`.
pub fn seal_callback(
    provider: &dyn CryptoProvider,
    platform_key: &PublicKey,
    kind: CallbackType,
    platform_code: &str,
    body: &[u8],
) -> crate::Result<Callback> {
    let mut key = zeroize::Zeroizing::new([0u8; SM4_KEY_LEN]);
    provider.fill_random(key.as_mut())?;
    let mut nonce = [0u8; AEAD_NONCE_LEN];
    provider.fill_random(&mut nonce)?;
    let sealed = provider.aead_seal(
        AeadAlgorithm::Sm4Gcm,
        key.as_ref(),
        &nonce,
        &additional_data(kind.code(), platform_code),
        body,
    )?;
    let mut encrypt = nonce.to_vec();
    encrypt.extend_from_slice(&sealed);
    let des_key = provider.sm2_encrypt(platform_key, key.as_ref(), Sm2CiphertextForm::Asn1)?;
    Ok(Callback {
        kind: kind.code().to_string(),
        data: CallbackData {
            encrypt: BASE64.encode(&encrypt),
            des_key: Some(BASE64.encode(&des_key)),
        },
        platform_code: platform_code.to_string(),
    })
}

/// The platform: decrypts a callback's body with its interlink encryption key. The type and
/// platform code are authenticated with it (moving a body to another type or platform fails).
/// `INPUT_MALFORMED` for bad base64 or lengths, `DECRYPTION_FAILED` for a wrong key or any
/// change to the ciphertext.
pub fn open_callback(
    provider: &dyn CryptoProvider,
    key: &PrivateKey,
    callback: &Callback,
) -> crate::Result<SecretBytes> {
    let malformed = |reason| CryptoError::CiphertextMalformed { reason };
    let des_key = callback.data.des_key.as_deref().ok_or(malformed(
        "`desKey` is missing: camr callbacks carry the SM2-wrapped SM4 key",
    ))?;
    if callback.data.encrypt.len() > MAX_CALLBACK_LEN || des_key.len() > 1024 {
        return Err(malformed("`encrypt` or `desKey` is too long").into());
    }
    let des_key = BASE64
        .decode(des_key.as_bytes())
        .map_err(|_| malformed("`desKey` is not standard base64"))?;
    let encrypt = BASE64
        .decode(callback.data.encrypt.as_bytes())
        .map_err(|_| malformed("`encrypt` is not standard base64"))?;
    if encrypt.len() < AEAD_NONCE_LEN + AEAD_TAG_LEN {
        return Err(malformed("`encrypt` is shorter than a nonce and a tag").into());
    }
    let sm4_key = provider.sm2_decrypt(key, &des_key, Sm2CiphertextForm::Asn1)?;
    if sm4_key.len() != SM4_KEY_LEN {
        return Err(CryptoError::DecryptionFailed {
            reason: "`desKey` does not hold a 16-byte SM4 key",
        }
        .into());
    }
    let (nonce, sealed) = encrypt.split_at(AEAD_NONCE_LEN);
    Ok(provider.aead_open(
        AeadAlgorithm::Sm4Gcm,
        &sm4_key,
        nonce,
        &additional_data(&callback.kind, &callback.platform_code),
        sealed,
    )?)
}

impl Interlink {
    fn malformed(reason: impl Into<String>) -> QrError {
        QrError::Malformed {
            reason: format!("interlink code: {}", reason.into()),
        }
    }

    /// The `key=value;` fields of the base64 query, in order.
    fn fields(payload: &QrPayload) -> String {
        let mut s = format!(
            "{FIELDS_PREFIX}{};TId={};expireTime={};keyId={};signValue={};",
            qr_code_type(payload.operation),
            payload.tid.as_str(),
            payload.expires_at,
            payload.key_id,
            BASE64.encode(&payload.signature),
        );
        if let Some(rot) = &payload.rotation {
            s.push_str(&format!(
                "step={};stepMac={};",
                rot.step,
                BASE64.encode(&rot.mac)
            ));
        }
        s
    }

    /// The request URI and the decoded fields text of an interlink code.
    fn split(text: &str) -> Option<(&str, String)> {
        let (uri, query) = text.rsplit_once('?')?;
        let fields = String::from_utf8(BASE64.decode(query.as_bytes()).ok()?).ok()?;
        Some((uri, fields))
    }
}

impl QrProfile for Interlink {
    fn id(&self) -> &'static str {
        "interlink"
    }

    fn caption(&self) -> &'static str {
        "互联互通二维码（前置机兼容）· interlink-compatible QR"
    }

    fn national(&self) -> bool {
        true
    }

    fn recognises(&self, text: &str) -> bool {
        (text.starts_with("https://") || text.starts_with("http://"))
            && Self::split(text).is_some_and(|(_, f)| f.starts_with(FIELDS_PREFIX))
    }

    fn sign(&self, signer: &QrSigner, fields: &QrFields) -> crate::Result<QrPayload> {
        signer.sign_in_context(INTERLINK_CONTEXT, fields)
    }

    fn encode(&self, payload: &QrPayload) -> String {
        format!(
            "{}?{}",
            payload.request_uri,
            BASE64.encode(Self::fields(payload).as_bytes())
        )
    }

    fn parse(&self, text: &str) -> Result<QrPayload, QrError> {
        if text.len() > MAX_PAYLOAD_LEN {
            return Err(Self::malformed(format!(
                "{} bytes, more than the {MAX_PAYLOAD_LEN} a QR payload can hold",
                text.len()
            )));
        }
        let (request_uri, fields) = Self::split(text).ok_or_else(|| {
            Self::malformed(format!(
                "not a URL with a base64 query (starts with `{}`)",
                truncate(text, 14)
            ))
        })?;
        super::check_request_uri(request_uri).map_err(|e| Self::malformed(e.to_string()))?;
        let body = fields.strip_suffix(';').ok_or_else(|| {
            Self::malformed("the fields must be `key=value;` pairs, each ending with `;`")
        })?;
        let pairs: Vec<(&str, &str)> = body
            .split(';')
            .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
            .collect();
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
        let rotating = match keys.as_slice() {
            ["QRCodeType", "TId", "expireTime", "keyId", "signValue"] => false,
            [
                "QRCodeType",
                "TId",
                "expireTime",
                "keyId",
                "signValue",
                "step",
                "stepMac",
            ] => true,
            _ => {
                return Err(Self::malformed(
                    "expected the fields QRCodeType, TId, expireTime, keyId, signValue (then \
                     step, stepMac when rotating) in this order",
                ));
            }
        };
        let value = |i: usize| pairs.get(i).map(|(_, v)| *v).unwrap_or_default();
        let operation = operation_of_qr_code_type(value(0)).ok_or_else(|| {
            Self::malformed(format!("unknown QRCodeType `{}`", truncate(value(0), 8)))
        })?;
        let tid = Tid::parse(value(1)).map_err(|e| Self::malformed(e.to_string()))?;
        let expires_at = super::parse_decimal(value(2), 12, "expiry")?;
        let key_id = value(3);
        super::check_key_id(key_id).map_err(|e| Self::malformed(e.to_string()))?;
        let b64 = |v: &str, what: &str| {
            BASE64
                .decode(v.as_bytes())
                .map_err(|_| Self::malformed(format!("the {what} is not standard base64")))
        };
        let signature = b64(value(4), "signature")?;
        if signature.is_empty() || signature.len() > 512 {
            return Err(Self::malformed("the signature has an impossible length"));
        }
        let rotation = if rotating {
            let step = super::parse_decimal(value(5), 6, "step")?;
            let mac = b64(value(6), "rotation MAC")?;
            if mac.len() != ROTATION_MAC_LEN {
                return Err(Self::malformed(format!(
                    "the rotation MAC must be {ROTATION_MAC_LEN} bytes"
                )));
            }
            Some(QrRotation {
                step: u32::try_from(step).map_err(|_| Self::malformed("step out of range"))?,
                mac: Bytes::from(mac),
            })
        } else {
            None
        };
        let payload = QrPayload {
            version: PAYLOAD_VERSION,
            tid,
            operation,
            expires_at,
            key_id: key_id.to_string(),
            request_uri: request_uri.to_string(),
            signature: Bytes::from(signature),
            rotation,
        };
        // Strict: only the exact text this profile writes is accepted.
        if self.encode(&payload) != text {
            return Err(Self::malformed("not in canonical form"));
        }
        Ok(payload)
    }

    fn verify(
        &self,
        provider: &dyn CryptoProvider,
        payload: &QrPayload,
        key: &PublicKey,
        options: VerifyOptions,
    ) -> Result<(), QrError> {
        super::verify_in_context(INTERLINK_CONTEXT, provider, payload, key, options)
    }

    fn request_fetch_uri(&self, payload: &QrPayload) -> String {
        match &payload.rotation {
            Some(rot) => with_query(&payload.request_uri, "rot", &super::rotation_query(rot)),
            None => payload.request_uri.clone(),
        }
    }

    fn response_post_uri(&self, response_uri: &str) -> String {
        response_uri.to_string()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::Arc;

    use super::*;
    use crate::crypto::{KeyAlgorithm, default_provider};
    use crate::protocol::{ErrorCode, SystemCode};
    use crate::qr::{Camr1, RotatingQr, Vendor1, find_profile};

    const NOW: i64 = 1_790_000_000;
    const URI: &str =
        "https://platform.example/camr/v1/request/M1100000034a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5";

    fn signer(alg: KeyAlgorithm) -> QrSigner {
        let p = default_provider();
        let key = p.generate_key(alg).unwrap();
        QrSigner::new(p, key, None).unwrap()
    }

    fn fields(op: Operation) -> QrFields {
        QrFields {
            // A platform code as in the predecessor's docking pages.
            tid: Tid::new(&SystemCode::parse("M1100000034").unwrap(), [0xa5; 16]),
            operation: op,
            request_uri: URI.to_string(),
            expires_at: NOW + 120,
        }
    }

    fn profiles() -> Vec<Arc<dyn QrProfile>> {
        vec![Arc::new(Camr1), Arc::new(Vendor1), Arc::new(Interlink)]
    }

    #[test]
    fn interlink_codes_round_trip_for_every_operation_and_key() {
        let p = default_provider();
        for alg in [KeyAlgorithm::Sm2, KeyAlgorithm::P256, KeyAlgorithm::Rsa2048] {
            let s = signer(alg);
            let pk = s.key.public_key();
            for op in Operation::ALL {
                let payload = Interlink.sign(&s, &fields(op)).unwrap();
                let text = Interlink.encode(&payload);
                assert!(Interlink.recognises(&text), "{text}");
                assert_eq!(find_profile(&profiles(), &text).unwrap().id(), "interlink");
                let parsed = Interlink.parse(&text).unwrap();
                assert_eq!(parsed, payload);
                Interlink
                    .verify(p.as_ref(), &parsed, &pk, VerifyOptions::at(NOW))
                    .unwrap();
                assert_eq!(
                    operation_of_qr_code_type(qr_code_type(op)),
                    Some(op),
                    "{op}"
                );
            }
        }
    }

    #[test]
    fn the_code_is_a_url_with_a_base64_query_naming_the_tid() {
        let s = signer(KeyAlgorithm::Sm2);
        let payload = Interlink.sign(&s, &fields(Operation::Encrypt)).unwrap();
        let text = Interlink.encode(&payload);
        let (uri, query) = text.rsplit_once('?').unwrap();
        assert_eq!(uri, URI);
        let fields = String::from_utf8(BASE64.decode(query.as_bytes()).unwrap()).unwrap();
        assert!(
            fields.starts_with(
                "QRCodeType=05;TId=M1100000034a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5;expireTime="
            ),
            "{fields}"
        );
        assert!(fields.ends_with(';'), "{fields}");
        // The request travels as with camr1; the answer to the request object's responseUri.
        assert_eq!(Interlink.request_fetch_uri(&payload), URI);
        assert_eq!(
            Interlink.response_post_uri("https://p.example/r"),
            "https://p.example/r"
        );
        assert!(Interlink.national());
    }

    #[test]
    fn every_changed_character_of_an_interlink_code_is_refused() {
        let p = default_provider();
        let s = signer(KeyAlgorithm::Sm2);
        let pk = s.key.public_key();
        let text = Interlink.encode(&Interlink.sign(&s, &fields(Operation::Login)).unwrap());
        for i in 0..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            let err = Interlink
                .parse_and_verify(p.as_ref(), &changed, &pk, VerifyOptions::at(NOW))
                .expect_err(&changed);
            assert!(
                matches!(
                    err.code(),
                    ErrorCode::QrMalformed | ErrorCode::QrSignatureInvalid
                ),
                "{changed}: {err}"
            );
        }
    }

    #[test]
    fn foreign_and_malformed_codes_are_refused() {
        let p = default_provider();
        let s = signer(KeyAlgorithm::Sm2);
        let pk = s.key.public_key();
        let national = Camr1.encode(&Camr1.sign(&s, &fields(Operation::Login)).unwrap());
        let interlink = Interlink.encode(&Interlink.sign(&s, &fields(Operation::Login)).unwrap());
        assert_eq!(
            Interlink.parse(&national).unwrap_err().code(),
            ErrorCode::QrMalformed
        );
        assert!(!Interlink.recognises(&national) && !Camr1.recognises(&interlink));
        assert!(!Vendor1.recognises(&interlink));
        // A plain URL is no interlink code.
        assert!(!Interlink.recognises("https://example.com/?x=1"));
        // Another profile's signature over the same fields does not verify here.
        let rewritten = Interlink.encode(&Camr1.parse(&national).unwrap());
        let err = Interlink
            .parse_and_verify(p.as_ref(), &rewritten, &pk, VerifyOptions::at(NOW))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::QrSignatureInvalid);
        // Fields out of order, unknown type, unknown extra field, missing final `;`,
        // non-canonical base64.
        let uri_of = |f: &str| format!("{URI}?{}", BASE64.encode(f.as_bytes()));
        let good = Interlink::fields(&Interlink.parse(&interlink).unwrap());
        for bad in [
            good.replacen("QRCodeType=02;", "", 1) + "QRCodeType=02;",
            good.replacen("QRCodeType=02", "QRCodeType=01", 1),
            good.clone() + "loginUserType=03;",
            good.trim_end_matches(';').to_string(),
            good.replacen("TId=M", "TId=m", 1),
        ] {
            let err = Interlink.parse(&uri_of(&bad)).unwrap_err();
            assert_eq!(err.code(), ErrorCode::QrMalformed, "{bad}: {err}");
        }
        let unpadded = format!(
            "{URI}?{}",
            BASE64.encode(good.as_bytes()).trim_end_matches('=')
        );
        if unpadded != uri_of(&good) {
            assert_eq!(
                Interlink.parse(&unpadded).unwrap_err().code(),
                ErrorCode::QrMalformed
            );
        }
        // Expired, and another platform's key.
        let err = Interlink
            .parse_and_verify(p.as_ref(), &interlink, &pk, VerifyOptions::at(NOW + 3600))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::QrExpired);
        let other = signer(KeyAlgorithm::Sm2).key.public_key();
        let err = Interlink
            .parse_and_verify(p.as_ref(), &interlink, &other, VerifyOptions::at(NOW))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::QrSignatureInvalid);
    }

    #[test]
    fn interlink_codes_rotate_too() {
        let p = default_provider();
        let s = signer(KeyAlgorithm::Sm2);
        let payload = Interlink.sign(&s, &fields(Operation::Login)).unwrap();
        let rot =
            RotatingQr::with_secret(p.clone(), payload, NOW, zeroize::Zeroizing::new([7u8; 32]));
        let text = Interlink.encode(&rot.code_at(2));
        let parsed = Interlink.parse(&text).unwrap();
        rot.verify_scan(&parsed, NOW + 3).unwrap();
        assert!(Interlink.request_fetch_uri(&parsed).contains("?rot=2."));
    }

    #[test]
    fn callbacks_open_only_with_the_platform_key_and_unchanged() {
        let p = default_provider();
        let key = p.generate_key(KeyAlgorithm::Sm2).unwrap();
        let body = br#"{"tId":"M1100000034a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5","isScaned":"01"}"#;
        let cb = seal_callback(
            p.as_ref(),
            &key.public_key(),
            CallbackType::ScanStatus,
            "M1100000034",
            body,
        )
        .unwrap();
        assert_eq!(cb.kind, "01");
        let json = serde_json::to_value(&cb).unwrap();
        assert_eq!(json["type"], "01");
        assert_eq!(json["platformCode"], "M1100000034");
        assert!(json["data"]["desKey"].is_string() && json["data"]["encrypt"].is_string());
        assert_eq!(
            open_callback(p.as_ref(), &key, &cb).unwrap().as_slice(),
            body
        );

        let code = |cb: &Callback| open_callback(p.as_ref(), &key, cb).unwrap_err().code();
        // Another platform's key.
        let other = p.generate_key(KeyAlgorithm::Sm2).unwrap();
        let err = open_callback(p.as_ref(), &other, &cb).unwrap_err();
        assert_eq!(err.code(), ErrorCode::DecryptionFailed);
        // Moved to another type or platform code: the additional data differs.
        let mut moved = cb.clone();
        moved.kind = "05".into();
        assert_eq!(code(&moved), ErrorCode::DecryptionFailed);
        let mut moved = cb.clone();
        moved.platform_code = "M1100000035".into();
        assert_eq!(code(&moved), ErrorCode::DecryptionFailed);
        // Every byte of the ciphertext and of the wrapped key is covered.
        let enc = BASE64.decode(cb.data.encrypt.as_bytes()).unwrap();
        for i in [0, AEAD_NONCE_LEN, enc.len() - 1] {
            let mut t = enc.clone();
            t[i] ^= 1;
            let mut tampered = cb.clone();
            tampered.data.encrypt = BASE64.encode(&t);
            assert_eq!(code(&tampered), ErrorCode::DecryptionFailed, "byte {i}");
        }
        let dk = BASE64
            .decode(cb.data.des_key.as_deref().unwrap().as_bytes())
            .unwrap();
        let mut t = dk.clone();
        let last = t.len() - 1;
        t[last] ^= 1;
        let mut tampered = cb.clone();
        tampered.data.des_key = Some(BASE64.encode(&t));
        assert!(matches!(
            code(&tampered),
            ErrorCode::DecryptionFailed | ErrorCode::InputMalformed
        ));
        // Missing key, not base64, too short.
        let mut bad = cb.clone();
        bad.data.des_key = None;
        assert_eq!(code(&bad), ErrorCode::InputMalformed);
        let mut bad = cb.clone();
        bad.data.encrypt = "***".into();
        assert_eq!(code(&bad), ErrorCode::InputMalformed);
        let mut bad = cb.clone();
        bad.data.encrypt = BASE64.encode(&[0u8; 20]);
        assert_eq!(code(&bad), ErrorCode::InputMalformed);
    }

    #[test]
    fn callback_types_parse_strictly_and_answer_every_operation() {
        for t in CallbackType::ALL {
            assert_eq!(CallbackType::parse(t.code()), Some(t));
        }
        for bad in ["04", "00", "1", "01 ", "", "０１"] {
            assert_eq!(CallbackType::parse(bad), None, "{bad}");
        }
        for op in Operation::ALL {
            assert_ne!(CallbackType::answering(op), CallbackType::ScanStatus);
        }
        assert_eq!(
            CallbackType::answering(Operation::Encrypt).code(),
            qr_code_type(Operation::Encrypt)
        );
    }
}
