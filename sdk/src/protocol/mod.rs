//! Wire types shared by platforms, CA apps and adapters (spec: `docs/protocol.md`).
//!
//! JSON is camelCase, as in the national docking documents. Every type derives `Serialize`,
//! `Deserialize` and `JsonSchema`; `schemas/` holds the generated schemas ([`crate::schemas::write`]),
//! and a test fails when they drift from the code.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub mod binding;
mod contact;
pub mod delegation;
mod errors;
mod ids;
mod messages;
mod records;
mod seals;

pub use contact::{is_email_address, is_mobile_number};
pub use errors::{ApiResult, ErrorCode};
pub use ids::{SystemCode, Tid};
pub use records::{
    CallbackEvent, CallbackKind, CertType, SharedRegistration, SubjectType, UsageRecord,
};
pub use seals::*;

/// Why a wire value was refused. Every variant maps to a stable [`ErrorCode`]
/// ([`ProtocolError::code`]); values echoed in messages are cut to 64 characters.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Not a system code.
    #[error(
        "system code (系统标识码) must be one uppercase letter and 10 digits, e.g. C1100005553; got `{value}`"
    )]
    InvalidSystemCode {
        /// The value given (shortened).
        value: String,
    },
    /// Not a tid.
    #[error(
        "tid must be a system code followed by 32 lowercase hex digits (43 characters); got `{value}`"
    )]
    InvalidTid {
        /// The value given (shortened).
        value: String,
    },
    /// Not one of the six operations.
    #[error(
        "operation must be one of login, messageSignature, signature, revokeSignature, encrypt, decrypt; got `{value}`"
    )]
    InvalidOperation {
        /// The value given (shortened).
        value: String,
    },
    /// Another field is invalid.
    #[error("field `{field}` is invalid: {reason}")]
    InvalidField {
        /// Field name.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

impl ProtocolError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidSystemCode { .. } => ErrorCode::SystemCodeInvalid,
            Self::InvalidTid { .. } => ErrorCode::TidInvalid,
            Self::InvalidOperation { .. } | Self::InvalidField { .. } => ErrorCode::InputMalformed,
        }
    }
}

/// Longest value echoed in an error message, in characters.
const ECHO_MAX: usize = 64;

/// Shortens a value echoed in an error, so 10 MB of garbage never lands in a message.
pub(crate) fn echo(s: &str) -> String {
    shorten(s, ECHO_MAX)
}

/// Keeps the first `max` characters of `s`, marking a cut with `…`.
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((end, _)) => {
            let mut t = s.get(..end).unwrap_or_default().to_string();
            t.push('…');
            t
        }
    }
}

/// The six operations (使用场景, usage scenes, `usageScene` in the national usage record).
///
/// On the wire exactly `login`, `messageSignature`, `signature`, `revokeSignature`,
/// `encrypt`, `decrypt`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Operation {
    /// 注册登录: login, incl. scan-bind and shared registration.
    Login,
    /// 消息签名: sign a message such as a price quote.
    MessageSignature,
    /// 签章: sign hashes or seal documents.
    Signature,
    /// 撤章: withdraw a seal.
    RevokeSignature,
    /// 加密: obtain the user's encryption certificate for a bid-file envelope.
    Encrypt,
    /// 解密: unwrap envelope keys at bid opening.
    Decrypt,
}

impl Operation {
    /// All six, in protocol order.
    pub const ALL: [Operation; 6] = [
        Self::Login,
        Self::MessageSignature,
        Self::Signature,
        Self::RevokeSignature,
        Self::Encrypt,
        Self::Decrypt,
    ];

    /// The wire name, e.g. `messageSignature`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::MessageSignature => "messageSignature",
            Self::Signature => "signature",
            Self::RevokeSignature => "revokeSignature",
            Self::Encrypt => "encrypt",
            Self::Decrypt => "decrypt",
        }
    }

    /// The letter used in `camr1` QR payloads.
    pub fn qr_letter(self) -> char {
        match self {
            Self::Login => 'L',
            Self::MessageSignature => 'M',
            Self::Signature => 'S',
            Self::RevokeSignature => 'R',
            Self::Encrypt => 'E',
            Self::Decrypt => 'D',
        }
    }

    /// The operation of a QR letter.
    pub fn from_qr_letter(c: char) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.qr_letter() == c)
    }

    /// The Chinese name shown to users.
    pub fn chinese_name(self) -> &'static str {
        match self {
            Self::Login => "注册登录",
            Self::MessageSignature => "消息签名",
            Self::Signature => "签章",
            Self::RevokeSignature => "撤章",
            Self::Encrypt => "加密",
            Self::Decrypt => "解密",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str() == s)
            .ok_or_else(|| ProtocolError::InvalidOperation { value: echo(s) })
    }
}

/// Bytes, as standard base64 text (RFC 4648, with padding) in JSON.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The bytes.
    pub fn into_inner(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({})", data_encoding::BASE64.encode(&self.0))
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Self(v)
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&data_encoding::BASE64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        data_encoding::BASE64
            .decode(s.as_bytes())
            .map(Bytes)
            .map_err(|e| serde::de::Error::custom(format!("not standard base64: {e}")))
    }
}

impl JsonSchema for Bytes {
    fn schema_name() -> Cow<'static, str> {
        "Bytes".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "contentEncoding": "base64", "description": "Bytes, standard base64." })
    }
}

/// Transaction states (交易状态): `created → scanned → approved | rejected`,
/// `approved → verified | failed`, and `expired` / `cancelled` from any state that is not
/// final. `rejected`, `verified`, `failed`, `expired` and `cancelled` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TransactionState {
    /// Started, QR shown.
    Created,
    /// The app fetched the request.
    Scanned,
    /// The user approved; the answer awaits verification.
    Approved,
    /// The user rejected (final).
    Rejected,
    /// Answer verified (final).
    Verified,
    /// Answer failed verification (final).
    Failed,
    /// Expired (final).
    Expired,
    /// Cancelled by the platform (final).
    Cancelled,
}

impl TransactionState {
    /// Every state, in lifecycle order.
    pub const ALL: [TransactionState; 8] = [
        Self::Created,
        Self::Scanned,
        Self::Approved,
        Self::Rejected,
        Self::Verified,
        Self::Failed,
        Self::Expired,
        Self::Cancelled,
    ];

    /// The wire name, e.g. `scanned`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Scanned => "scanned",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Verified => "verified",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether no further transition is possible.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Rejected | Self::Verified | Self::Failed | Self::Expired | Self::Cancelled
        )
    }

    /// Whether `self → next` is allowed.
    pub fn can_transition_to(self, next: Self) -> bool {
        use TransactionState::*;
        match (self, next) {
            (s, Expired | Cancelled) => !s.is_terminal(),
            (Created, Scanned) => true,
            (Scanned, Approved | Rejected) => true,
            (Approved, Verified | Failed) => true,
            _ => false,
        }
    }
}

impl fmt::Display for TransactionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transaction (one QR code, one operation, one answer) as a platform tracks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    /// Transaction id.
    pub tid: Tid,
    /// Platform system code.
    pub system_code: SystemCode,
    /// Operation.
    pub operation: Operation,
    /// State.
    pub state: TransactionState,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// CA vendor code, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_org_type: Option<String>,
    /// Reason of a failure or rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The rotating part of a QR payload (动态二维码, BankID style): changes every second.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QrRotation {
    /// Seconds since the transaction started.
    pub step: u32,
    /// Truncated HMAC-SM3(secret, tid ‖ step).
    pub mac: Bytes,
}

/// The fields of a `camr1` QR payload (互认二维码; text form in `docs/protocol.md`,
/// encoded and parsed by [`crate::qr`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QrPayload {
    /// Payload version (1).
    pub version: u8,
    /// Transaction id (carries the system code).
    pub tid: Tid,
    /// Operation.
    pub operation: Operation,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// Platform key id.
    pub key_id: String,
    /// Where the app fetches the request object.
    pub request_uri: String,
    /// Platform signature.
    pub signature: Bytes,
    /// Rotating code, when the page rotates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<QrRotation>,
}

impl QrPayload {
    /// The platform's system code (from the tid).
    pub fn system_code(&self) -> SystemCode {
        self.tid.system_code()
    }
}

/// Hash algorithms (杂凑算法) on the wire: `SM3` or `SHA256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum HashAlgorithm {
    /// SM3 (GB/T 32905).
    #[serde(rename = "SM3")]
    Sm3,
    /// SHA-256.
    #[serde(rename = "SHA256")]
    Sha256,
}

/// Public-key algorithm families (公钥算法, `publicKeyAlgorithm`): `SM2`, `RSA`, and
/// `ECDSA_P256`, which is camr's extension (the national usage record knows SM2 and RSA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum PublicKeyAlgorithm {
    /// SM2.
    #[serde(rename = "SM2")]
    Sm2,
    /// RSA.
    #[serde(rename = "RSA")]
    Rsa,
    /// ECDSA on P-256.
    #[serde(rename = "ECDSA_P256")]
    EcdsaP256,
}

/// What the app signs for a [`SignItem`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SignFormat {
    /// The hash bytes themselves, as a message (SM2: over SM3(Z_A ‖ hash); RSA/ECDSA: over
    /// SHA-256(hash)). The default; omitted on the wire.
    #[default]
    Hash,
    /// The CAdES signed attributes over the hash, for a detached CMS / GM/T 0010 signature
    /// such as a PDF seal (签章): the app builds
    /// [`crate::envelope::cades_signed_attributes`] (contentType, messageDigest = the hash,
    /// signingCertificateV2 = its own signing certificate) and signs their DER; the
    /// platform rebuilds the same bytes from the certificate in the answer and assembles the
    /// SignedData. The hash must be SM3 for SM2 keys and SHA-256 for RSA and ECDSA.
    CadesAttributes,
}

impl SignFormat {
    /// Whether this is the default ([`SignFormat::Hash`]).
    pub fn is_hash(&self) -> bool {
        *self == Self::Hash
    }
}

/// One hash to sign (待签数据), with the document it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignItem {
    /// Item id within the request.
    pub id: String,
    /// Document name shown to the user.
    pub name: String,
    /// The hash.
    pub hash: Bytes,
    /// Its algorithm.
    pub hash_algorithm: HashAlgorithm,
    /// What is signed: the hash (default) or CAdES signed attributes over it.
    #[serde(default, skip_serializing_if = "SignFormat::is_hash")]
    pub format: SignFormat,
}

impl SignItem {
    /// An item whose hash is signed as it is ([`SignFormat::Hash`]).
    pub fn hash(id: &str, name: &str, hash: Vec<u8>, hash_algorithm: HashAlgorithm) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            hash: Bytes(hash),
            hash_algorithm,
            format: SignFormat::Hash,
        }
    }
}

/// One digital-envelope key (数字信封密钥) to unwrap at bid opening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EncryptedKeyItem {
    /// Item id within the request.
    pub id: String,
    /// Serial (hex) of the encryption certificate the key was encrypted to.
    pub recipient_cert_sn: String,
    /// The encrypted content-encryption key.
    pub encrypted_key: Bytes,
}

/// What the operation needs from the app, tagged by `"type"` with the operation name,
/// e.g. `{"type":"messageSignature","message":"报价 100 万元"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum OperationPayload {
    /// Login.
    Login {
        /// Whether the platform asks for shared registration data (共享注册).
        #[serde(default)]
        share_registration: bool,
    },
    /// Sign a message.
    MessageSignature {
        /// The message, shown to the user.
        message: String,
    },
    /// Sign hashes (documents, batches).
    Signature {
        /// The items.
        items: Vec<SignItem>,
    },
    /// Withdraw a seal.
    RevokeSignature {
        /// The seal.
        seal_id: String,
        /// The document it is in.
        document_name: String,
        /// Why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// What the revocation itself signs, e.g. the revision that hides a PDF seal (a
        /// [`SignFormat::CadesAttributes`] item); empty when the platform only needs the
        /// signed consent.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        items: Vec<SignItem>,
    },
    /// Hand over the encryption certificate.
    Encrypt {},
    /// Unwrap envelope keys.
    Decrypt {
        /// The keys.
        items: Vec<EncryptedKeyItem>,
        /// SPKI DER of the per-transaction platform key the app encrypts the unwrapped keys to.
        platform_key: Bytes,
    },
    /// Authorise an interactive seal session (签章会话, NETCA: "手机出现等待画面，同时在签章页面
    /// 选择印章…拖动印章到指定位置"): the app answers with its certificate and the binding
    /// signature only, then waits at `wait_uri` while the user places seals on the PC page;
    /// each placement comes as a signature request bound to this session
    /// ([`RequestObject::session`]), signed with the same certificate. The operation is
    /// [`Operation::Signature`].
    SealSession {
        /// The document, shown to the user.
        document_name: String,
        /// SHA-256 of the document as uploaded.
        document_hash: Bytes,
        /// Its number of pages.
        pages: u32,
        /// Where the app waits for the session's next step: `GET {waitUri}?tid={tid}`
        /// answers a [`SessionStep`].
        wait_uri: String,
    },
}

/// The next step of a seal session, as the waiting app polls it (`GET {waitUri}?tid=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "step", rename_all = "camelCase")]
pub enum SessionStep {
    /// Nothing to sign yet: the user is placing a seal. Ask again after `retryAfterMs`.
    #[serde(rename_all = "camelCase")]
    Wait {
        /// Seals applied in this session so far (签章成功 each time it grows).
        sealed: u32,
        /// Until the session ends (Unix seconds).
        expires_at: i64,
        /// When to ask again, in milliseconds.
        retry_after_ms: u32,
    },
    /// A placement to sign: an ordinary signature request (platform-signed), bound to the
    /// session by [`RequestObject::session`]. Answer it at its `responseUri`.
    #[serde(rename_all = "camelCase")]
    Sign {
        /// The signed request.
        request: SignedRequest,
        /// Seals applied so far.
        sealed: u32,
    },
    /// The user finished the session on the PC page (完成签章).
    #[serde(rename_all = "camelCase")]
    Done {
        /// Seals applied in this session.
        sealed: u32,
    },
}

/// Binds a request to the seal session it belongs to: only the certificate that authorised
/// the session may answer it (else `SESSION_MISMATCH`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionBinding {
    /// The session's transaction.
    pub tid: Tid,
    /// SHA-256 of the DER certificate that authorised the session.
    pub certificate_sha256: Bytes,
}

/// The request object (请求对象) the app fetches from the request URI; the platform signs its
/// exact JSON bytes ([`SignedRequest`]), and the app binds its answer to the SM3 of those bytes
/// ([`Response::request_hash`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestObject {
    /// Transaction id.
    pub tid: Tid,
    /// Platform system code.
    pub system_code: SystemCode,
    /// Trading system name (交易系统名称), shown by the app.
    pub system_name: String,
    /// Operation.
    pub operation: Operation,
    /// Random nonce.
    pub nonce: Bytes,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Where the app posts its [`Response`].
    pub response_uri: String,
    /// Platform key id.
    pub key_id: String,
    /// What the operation needs.
    pub payload: OperationPayload,
    /// Which certificates the platform accepts for this request (本平台/全国版,
    /// 个人/机构证书), so the app offers only those; absent: any it trusts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<CertRequirement>,
    /// The seal session (签章会话) this request is a step of: answered by the certificate that
    /// authorised the session only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionBinding>,
}

/// The certificates a platform accepts for one request: the CA vendors, and a personal or an
/// organisation certificate. The platform refuses others with `CERT_NOT_ENTITLED`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertRequirement {
    /// CA vendors (`caOrgType`) accepted; empty: every vendor the platform trusts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_org_types: Vec<String>,
    /// `personal` or `org` when the operation requires one; absent: either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_type: Option<SubjectType>,
}

/// A request object with the platform's signature over its exact JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedRequest {
    /// Exact JSON text of the [`RequestObject`].
    pub request: String,
    /// Platform key id.
    pub key_id: String,
    /// Signature over the UTF-8 bytes of `request`.
    pub signature: Bytes,
}

impl SignedRequest {
    /// Parses the embedded request object.
    pub fn request_object(&self) -> Result<RequestObject, ProtocolError> {
        serde_json::from_str(&self.request).map_err(|e| ProtocolError::InvalidField {
            field: "request",
            reason: shorten(&e.to_string(), 200),
        })
    }
}

/// The user's answer (同意 / 拒绝): `approved` or `rejected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ResponseStatus {
    /// The user approved.
    Approved,
    /// The user rejected.
    Rejected,
}

/// A signature value (签名值) over one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemSignature {
    /// Item id (the request hash for login and message signatures).
    pub item_id: String,
    /// The signature value.
    pub signature_value: Bytes,
}

/// An unwrapped key, encrypted to the platform's per-transaction key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecryptedKey {
    /// Item id.
    pub item_id: String,
    /// The key, encrypted to the platform key.
    pub encrypted_to_platform: Bytes,
}

/// An item the user refused (拒签) in a batch that otherwise went ahead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemRejection {
    /// Item id.
    pub item_id: String,
    /// Why.
    pub reason: String,
}

/// Normalised evidence of an answer. The core re-verifies all of it; it never trusts an
/// adapter's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Algorithm family.
    pub algorithm: PublicKeyAlgorithm,
    /// DER certificates, signing certificate first.
    pub certificate_chain: Vec<Bytes>,
    /// Signatures.
    #[serde(default)]
    pub signatures: Vec<ItemSignature>,
    /// The encryption certificate (encrypt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_certificate: Option<Bytes>,
    /// Unwrapped keys (decrypt).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decrypted_keys: Vec<DecryptedKey>,
    /// Items refused in a batch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub item_rejections: Vec<ItemRejection>,
}

/// The answer (应答) the app posts to the response URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// Transaction id.
    pub tid: Tid,
    /// Operation.
    pub operation: Operation,
    /// CA vendor code (CA 机构代码, `caOrgType`).
    pub ca_org_type: String,
    /// Approved or rejected.
    pub status: ResponseStatus,
    /// Lower-case hex SM3 of the exact request bytes.
    pub request_hash: String,
    /// Why the user rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_reason: Option<String>,
    /// The staff member acting for an organisation certificate under a delegation (证书授权),
    /// as `name (identity number)`; absent when the holder acts for themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// The delegation (证书授权) the operator acts under, signed by the organisation
    /// certificate that signs this answer; the platform checks its scope itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation: Option<delegation::SignedDelegation>,
    /// Registration data the holder consented to share (共享注册), only when the login request
    /// asks for it; signed as the evidence item `registration` (see
    /// [`binding::registration_message`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<SharedRegistration>,
    /// The QR profile (二维码类型) of the code the app scanned: `camr1` (the national interop
    /// code, the default), `vendor1` (a vendor app code, 厂商码), `interlink`. Signed with the
    /// answer (the binding's contents digest, [`binding::AnswerContents`]); the platform
    /// refuses an answer that arrives through another profile's transport
    /// (`QR_PROFILE_MISMATCH`), so the transport cannot widen what the answer may do.
    #[serde(default = "default_qr_profile")]
    pub qr_profile: String,
    /// Evidence, when approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// The evidence in the vendor app's own wire format (厂商格式) instead of `evidence`: the
    /// platform hands these bytes to the adapter of `caOrgType`, which decodes them into
    /// [`Evidence`]; the core then verifies that as always. At most one of the two is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_evidence: Option<Bytes>,
}

fn default_qr_profile() -> String {
    binding::DEFAULT_QR_PROFILE.to_string()
}

#[cfg(test)]
mod tests;
