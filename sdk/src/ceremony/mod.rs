//! The platform side of the six operations, webauthn-rs style: `start_*` opens a
//! transaction and returns the QR code; the app fetches the signed request object
//! ([`Platform::request`]) and posts its answer ([`Platform::answer`]), which camr verifies
//! itself; `finish_*` returns a typed, verified result.
//!
//! Binding (threat model #3): the platform signs the exact JSON text of each request object
//! (tid, system code, operation, nonce, expiry, payload); the app signs
//! `camr2-answer:<SM3 of that text, hex>:<contents digest>` with its *signing* certificate,
//! the digest covering everything else the platform acts on (encryption certificate, returned
//! keys, item refusals, delegation, operator, QR profile; [`crate::protocol::binding`]). An
//! answer therefore cannot be moved to another transaction, platform or operation, nor its
//! contents swapped, and a tid is answered at most once (a compare-and-set in the store). A failed verification does not change the
//! transaction (a forged answer cannot end the real user's transaction); it is audited.

use std::collections::HashMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::crypto::{
    CryptoError, CryptoProvider, HashAlgorithm, KeyAlgorithm, PrivateKey, PublicKey,
    PublicKeyAlgorithm, SecretBytes, SignatureScheme, Sm2CiphertextForm,
};
use crate::pki::{CertError, Certificate, ChainValidator, KeyPurpose, Subject};
use crate::protocol::{
    Bytes, EncryptedKeyItem, ErrorCode, ItemRejection, Operation, OperationPayload, QrPayload,
    RequestObject, Response, ResponseStatus, SignFormat, SignItem, SignedRequest, SystemCode, Tid,
    Transaction, TransactionState, UsageRecord, binding,
};
use crate::qr::{self, QrFields, QrProfile, QrSigner};
use crate::store::{StoreError, TransactionStore, TxPatch, TxRecord};

mod policy;
pub use policy::{AllowAll, DecryptContext, DecryptPolicy, DecryptRefusal};

mod owner;
pub use owner::OwnerToken;

mod session;
pub use session::{DEFAULT_SEAL_SESSION_TTL, SealSession};

pub mod scope;

pub use scope::Entitlement;

pub use crate::protocol::binding::{
    BINDING_ITEM, REGISTRATION_ITEM, REGISTRATION_PREFIX, registration_message,
};
/// Item id of the message signature.
pub const MESSAGE_ITEM: &str = "message";

/// Lower-case hex SM3 of the exact request text.
pub fn request_hash(provider: &dyn CryptoProvider, request_text: &str) -> String {
    data_encoding::HEXLOWER.encode(&provider.digest(HashAlgorithm::Sm3, request_text.as_bytes()))
}

/// Why a ceremony step failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CeremonyError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A certificate was refused.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// A cryptographic step failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The transaction expired.
    #[error("transaction {tid} expired at {expires_at}")]
    Expired {
        /// The transaction.
        tid: String,
        /// Its expiry.
        expires_at: i64,
    },
    /// The answer names another transaction or operation.
    #[error("the answer is for {found}, not for {expected}")]
    TidMismatch {
        /// What the answer names.
        found: String,
        /// What was expected.
        expected: String,
    },
    /// The answer is not bound to this exact request object.
    #[error("the answer's request hash does not match the request object of this transaction")]
    RequestHashMismatch,
    /// The answer lacks what the operation needs.
    #[error("the answer is incomplete: {0}")]
    Incomplete(String),
    /// A signature in the answer does not verify.
    #[error("the {what} signature does not verify with the signing certificate")]
    SignatureInvalid {
        /// Which signature.
        what: String,
    },
    /// The binding signature is over the retired `camr1` message, which covered the request
    /// hash only.
    #[error(
        "the answer is signed in the retired binding version camr1 (`camr1-answer:<request hash>`), \
         which does not cover the answer's contents; update the app to one that signs camr2 \
         (`camr2-answer:<request hash>:<contents digest>`, docs/protocol.md)"
    )]
    AnswerVersionUnsupported,
    /// The answer came through another QR profile's transport than the one it signed.
    #[error(
        "the answer was signed for a code of QR profile `{signed}` but arrived through `{via}`; \
         post it to the URI of the profile the app scanned"
    )]
    QrProfileMismatch {
        /// The profile in the signed answer (shortened).
        signed: String,
        /// The profile whose transport it came through.
        via: &'static str,
    },
    /// The encryption certificate handed over is not the signing certificate's pair.
    #[error("the encryption certificate is not the signing certificate's pair: {0}")]
    EncryptionCertMismatch(String),
    /// The answer failed verification earlier (the transaction is final).
    #[error("transaction {tid} failed verification: {reason}")]
    Failed {
        /// The transaction.
        tid: String,
        /// Why (as recorded).
        reason: String,
    },
    /// The user rejected the request.
    #[error("the user rejected the request: {reason}")]
    Rejected {
        /// The reason the user gave.
        reason: String,
    },
    /// No verified result yet.
    #[error("transaction {tid} has no verified result yet (it is {state:?})")]
    Pending {
        /// The transaction.
        tid: String,
        /// Its state.
        state: TransactionState,
    },
    /// A `finish_*` that does not fit the transaction's operation, or bad arguments.
    #[error("{0}")]
    Misuse(String),
    /// The platform's decrypt policy refused to start a decrypt (开标时间、签到).
    #[error(transparent)]
    DecryptRefused(#[from] DecryptRefusal),
    /// The platform does not accept this certificate for this operation (vendor, or
    /// personal vs organisation certificate).
    #[error("this certificate is not accepted here: {0}")]
    NotEntitled(String),
    /// An organisation certificate used outside (or without) its delegation's scope.
    #[error("the organisation certificate may not be used for this: {0}")]
    DelegationOutOfScope(String),
    /// A seal session (签章会话) step answered by another certificate than the session's, or
    /// a step for a session that is not authorised.
    #[error("seal session: {0}")]
    SessionMismatch(String),
    /// An answer to a transaction that is not waiting for one (never scanned, or final).
    #[error("transaction {tid} is {state:?}: {why}")]
    NotScanned {
        /// The transaction.
        tid: String,
        /// Its state.
        state: TransactionState,
        /// Why that refuses the answer.
        why: &'static str,
    },
    /// The platform's cap on transactions waiting for an answer is reached.
    #[error(
        "{max} transactions are waiting for an answer already (the platform's cap): try again when some are answered or expired"
    )]
    TooManyPending {
        /// The cap.
        max: u64,
    },
    /// The caller is not the transaction's owner (no owner credential, or another one).
    #[error("{0}")]
    NotOwner(String),
    /// A one-time secret of the transaction (a decrypt's content keys) was handed out
    /// already, to this caller or another.
    #[error("transaction {tid}: {what} was handed out already (once, to one caller)")]
    AlreadyTaken {
        /// The transaction.
        tid: String,
        /// What was taken.
        what: String,
    },
}

impl CeremonyError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Store(e) => e.code(),
            Self::Cert(e) => e.code(),
            Self::Crypto(e) => e.code(),
            Self::Expired { .. } => ErrorCode::TxExpired,
            Self::TidMismatch { .. } => ErrorCode::TidMismatch,
            Self::RequestHashMismatch => ErrorCode::RequestHashMismatch,
            Self::Incomplete(_) | Self::Misuse(_) => ErrorCode::InputMalformed,
            Self::SignatureInvalid { .. } => ErrorCode::SignatureInvalid,
            Self::AnswerVersionUnsupported => ErrorCode::AnswerVersionUnsupported,
            Self::QrProfileMismatch { .. } => ErrorCode::QrProfileMismatch,
            Self::EncryptionCertMismatch(_) => ErrorCode::EncryptionCertMismatch,
            Self::Rejected { .. } => ErrorCode::TxRejected,
            Self::Failed { .. } => ErrorCode::TxFailed,
            Self::Pending { .. } => ErrorCode::TxPending,
            Self::DecryptRefused(r) => r.code(),
            Self::NotEntitled(_) => ErrorCode::CertNotEntitled,
            Self::DelegationOutOfScope(_) => ErrorCode::DelegationOutOfScope,
            Self::SessionMismatch(_) => ErrorCode::SessionMismatch,
            Self::NotOwner(_) => ErrorCode::TxNotOwner,
            Self::TooManyPending { .. } => ErrorCode::TooManyPending,
            Self::NotScanned { state, .. } => match state {
                TransactionState::Created => ErrorCode::TxNotScanned,
                TransactionState::Expired => ErrorCode::TxExpired,
                TransactionState::Cancelled => ErrorCode::TxCancelled,
                _ => ErrorCode::TxAlreadyAnswered,
            },
            Self::AlreadyTaken { .. } => ErrorCode::TxAlreadyTaken,
        }
    }
}

type CResult<T> = Result<T, CeremonyError>;

/// Who the platform is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformIdentity {
    /// System code (系统标识码).
    pub system_code: SystemCode,
    /// Trading system name (交易系统名称), shown by the app.
    pub system_name: String,
    /// The request URI is this prefix followed by the tid.
    pub request_uri_prefix: String,
    /// Where apps post answers.
    pub response_uri: String,
}

/// What `start_*` returns: the transaction and the QR code to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The new transaction.
    pub transaction: Transaction,
    /// The signed QR payload.
    pub qr: QrPayload,
    /// Its text (what goes into the QR symbol).
    pub qr_text: String,
    /// The owner credential: hand it to whoever started the transaction, and only to them
    /// (see [`Platform::authorize`]). Only its hash is stored.
    pub owner: OwnerToken,
}

/// A verified login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    /// The transaction.
    pub tid: Tid,
    /// Who logged in, from the signing certificate.
    pub subject: Subject,
    /// The signing certificate, DER.
    pub certificate: Bytes,
    /// CA vendor code.
    pub ca_org_type: String,
    /// Whether revocation was checked for the whole chain.
    pub revocation_checked: bool,
    /// Unix seconds.
    pub verified_at: i64,
    /// Registration data the holder shared (共享注册), its signature verified; only when the
    /// request asked for it ([`Platform::start_login_sharing`]) and the user consented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<crate::protocol::SharedRegistration>,
}

/// A verified message signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageSignatureResult {
    /// The transaction.
    pub tid: Tid,
    /// The signer.
    pub subject: Subject,
    /// The signing certificate, DER.
    pub certificate: Bytes,
    /// The message as shown to the user.
    pub message: String,
    /// The signature over the message's UTF-8 bytes (SM2: DER, signer ID 1234567812345678).
    pub signature: Bytes,
    /// Unix seconds.
    pub verified_at: i64,
}

/// One signed item of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedItem {
    /// The item as requested.
    pub item: SignItem,
    /// The signature over the hash bytes, or over `signed_attributes` for a
    /// [`crate::protocol::SignFormat::CadesAttributes`] item.
    pub signature: Bytes,
    /// For a CAdES item: the DER signed attributes the signature covers (rebuilt by the
    /// platform from the hash and the certificate), for `camr::seal::assemble_cms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_attributes: Option<Bytes>,
}

/// A verified (possibly mixed) batch of hash signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignResult {
    /// The transaction.
    pub tid: Tid,
    /// The signer.
    pub subject: Subject,
    /// The signing certificate, DER.
    pub certificate: Bytes,
    /// The intermediates the app sent with it (validated), DER.
    #[serde(default)]
    pub chain: Vec<Bytes>,
    /// Signed items.
    pub signed: Vec<SignedItem>,
    /// Items the user refused, with reasons.
    pub rejected: Vec<ItemRejection>,
    /// Every item of the request, in its order, with its outcome (批量签署或拒签).
    #[serde(default)]
    pub items: Vec<ItemOutcome>,
    /// Unix seconds.
    pub verified_at: i64,
}

/// What became of one item of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemOutcome {
    /// Item id.
    pub item_id: String,
    /// Document name.
    pub name: String,
    /// `signed` or `rejected` (拒签).
    pub outcome: ItemState,
    /// The user's reason, for a rejected item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The outcome of one item of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ItemState {
    /// Signed, the signature verified.
    Signed,
    /// Refused by the user, with a reason.
    Rejected,
}

/// A verified encryption-certificate hand-over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EncryptResult {
    /// The transaction.
    pub tid: Tid,
    /// The holder (from the signing certificate).
    pub subject: Subject,
    /// The encryption certificate to seal the bid file to, DER.
    pub encryption_certificate: Bytes,
    /// Unix seconds.
    pub verified_at: i64,
}

/// A verified seal revocation (撤章) authorisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokeResult {
    /// The transaction.
    pub tid: Tid,
    /// Who authorised it.
    pub subject: Subject,
    /// The seal.
    pub seal_id: String,
    /// The revoker's signing certificate, DER.
    #[serde(default)]
    pub certificate: Bytes,
    /// The intermediates the app sent with it (validated), DER.
    #[serde(default)]
    pub chain: Vec<Bytes>,
    /// What the revocation signed (e.g. the PDF revision hiding the seal).
    #[serde(default)]
    pub signed: Vec<SignedItem>,
    /// Unix seconds.
    pub verified_at: i64,
}

/// Each item has a unique id (not the binding item's) and a 32-byte hash.
fn check_items(items: &[SignItem]) -> CResult<()> {
    let mut ids = std::collections::HashSet::new();
    for item in items {
        let len = match item.hash_algorithm {
            crate::protocol::HashAlgorithm::Sm3 | crate::protocol::HashAlgorithm::Sha256 => 32,
        };
        if item.hash.len() != len || !ids.insert(item.id.clone()) || item.id == BINDING_ITEM {
            return Err(CeremonyError::Misuse(format!(
                "item `{}` needs a unique id and a 32-byte hash",
                crate::crypto::truncate(&item.id, 40)
            )));
        }
    }
    Ok(())
}

/// Every item in request order with its outcome: rejected with the user's reason, else signed
/// (an approved answer has verified every item it did not refuse).
fn item_outcomes(items: &[SignItem], rejected: &[ItemRejection]) -> Vec<ItemOutcome> {
    items
        .iter()
        .map(|i| {
            let reason = rejected
                .iter()
                .find(|r| r.item_id == i.id)
                .map(|r| r.reason.clone());
            ItemOutcome {
                item_id: i.id.clone(),
                name: i.name.clone(),
                outcome: if reason.is_some() {
                    ItemState::Rejected
                } else {
                    ItemState::Signed
                },
                reason,
            }
        })
        .collect()
}

/// Whether a refused answer is written to the audit log: refusals of a holder that verified
/// but may not act (entitlement, delegation, seal session, decrypt gate, revoked or frozen
/// certificate). Malformed answers and bad signatures are only counted.
fn audited_refusal(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::CertNotEntitled
            | ErrorCode::DelegationOutOfScope
            | ErrorCode::SessionMismatch
            | ErrorCode::BidderNotSignedIn
            | ErrorCode::BidOpeningNotReached
            | ErrorCode::CertRevoked
            | ErrorCode::CertFrozen
            | ErrorCode::QrProfileMismatch
            | ErrorCode::EncryptionCertMismatch
    )
}

/// Per-transaction platform key for decrypt answers: SM2, so keys travel SM2-encrypted.
const DECRYPT_KEY_ALGORITHM: KeyAlgorithm = KeyAlgorithm::Sm2;

/// The platform side of the ceremonies.
#[derive(Debug, Clone)]
pub struct Platform {
    provider: Arc<dyn CryptoProvider>,
    identity: PlatformIdentity,
    key: PrivateKey,
    signer: QrSigner,
    qr_profile: Arc<dyn QrProfile>,
    store: Arc<dyn TransactionStore>,
    validator: Arc<ChainValidator>,
    ttl: HashMap<Operation, i64>,
    clock: fn() -> i64,
    decrypt_policy: Arc<dyn DecryptPolicy>,
    entitlement: Arc<Entitlement>,
    seal_session_ttl: i64,
    refused: Arc<std::sync::atomic::AtomicU64>,
    max_pending: Option<u64>,
}

fn default_ttl(op: Operation) -> i64 {
    match op {
        Operation::Login => 120,
        Operation::MessageSignature | Operation::RevokeSignature | Operation::Encrypt => 300,
        // Seal sessions and bid opening wait for people: minutes, not seconds.
        Operation::Signature | Operation::Decrypt => 600,
    }
}

impl Platform {
    /// A platform with its identity, QR/request signing key, store and certificate validator
    /// (trusting only the roots of the CA vendors it accepts).
    pub fn new(
        provider: Arc<dyn CryptoProvider>,
        identity: PlatformIdentity,
        key: PrivateKey,
        key_id: Option<&str>,
        store: Arc<dyn TransactionStore>,
        validator: Arc<ChainValidator>,
    ) -> crate::Result<Self> {
        let signer = QrSigner::new(provider.clone(), key.clone(), key_id)?;
        Ok(Self {
            provider,
            identity,
            key,
            signer,
            qr_profile: Arc::new(qr::Camr1),
            store,
            validator,
            ttl: Operation::ALL
                .iter()
                .map(|op| (*op, default_ttl(*op)))
                .collect(),
            clock: qr::unix_now,
            decrypt_policy: Arc::new(AllowAll),
            entitlement: Arc::default(),
            seal_session_ttl: DEFAULT_SEAL_SESSION_TTL,
            refused: Arc::default(),
            max_pending: None,
        })
    }

    /// Sets which certificates the platform accepts (vendors, personal or organisation
    /// certificate per operation), e.g. [`Entitlement::from_registry`].
    pub fn with_entitlement(mut self, entitlement: Entitlement) -> Self {
        self.entitlement = Arc::new(entitlement);
        self
    }

    /// Which certificates the platform accepts.
    pub fn entitlement(&self) -> &Entitlement {
        &self.entitlement
    }

    /// Withdraws (收回) the delegation with id `id` ([`crate::app::delegation::id`]): answers
    /// under it are refused from now on. Recorded in the hash-chained audit log, which every
    /// instance of the platform shares.
    pub async fn withdraw_delegation(&self, id: &str, reason: &str) -> CResult<()> {
        if !scope::is_delegation_id(id) {
            return Err(CeremonyError::Misuse(
                "a delegation id is 64 lower-case hex digits (SM3 of the signed delegation text)"
                    .into(),
            ));
        }
        let now = self.now();
        self.store
            .withdraw_delegation(id, now, reason.trim())
            .await?;
        self.store
            .append_audit(
                now,
                None,
                scope::WITHDRAWN_EVENT,
                &scope::withdrawal_detail(id, reason),
            )
            .await?;
        Ok(())
    }

    /// Whether the delegation with id `id` was withdrawn (an indexed lookup in the store).
    pub async fn delegation_withdrawn(&self, id: &str) -> CResult<bool> {
        Ok(self.store.delegation_withdrawn(id).await?)
    }

    /// Installs the policy [`Platform::start_decrypt`] consults first (bid-opening time,
    /// sign-in: "投标人已完成签到，开标时间已到"); the default allows every decrypt.
    pub fn with_decrypt_policy(mut self, policy: Arc<dyn DecryptPolicy>) -> Self {
        self.decrypt_policy = policy;
        self
    }

    /// Sets the QR profile (二维码类型) of the codes `start_*` returns; the default is
    /// [`qr::Camr1`], the national interop code.
    pub fn with_qr_profile(mut self, profile: Arc<dyn QrProfile>) -> Self {
        self.qr_profile = profile;
        self
    }

    /// The QR profile of the codes `start_*` returns.
    pub fn qr_profile(&self) -> &Arc<dyn QrProfile> {
        &self.qr_profile
    }

    /// The code of transaction `transaction` in another QR profile (a page that shows a
    /// vendor's app code beside the national one): same tid, operation, request URI and
    /// expiry, signed for `profile`. Returns the payload and its text.
    pub fn code_for(
        &self,
        profile: &dyn QrProfile,
        transaction: &Transaction,
    ) -> CResult<(QrPayload, String)> {
        let payload = profile
            .sign(
                &self.signer,
                &self.qr_fields(
                    &transaction.tid,
                    transaction.operation,
                    transaction.expires_at,
                ),
            )
            .map_err(|e| CeremonyError::Misuse(e.to_string()))?;
        let text = profile.encode(&payload);
        Ok((payload, text))
    }

    fn qr_fields(&self, tid: &Tid, operation: Operation, expires_at: i64) -> QrFields {
        QrFields {
            tid: tid.clone(),
            operation,
            request_uri: format!("{}{}", self.identity.request_uri_prefix, tid),
            expires_at,
        }
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the lifetime of an operation's transactions, seconds.
    pub fn with_ttl(mut self, op: Operation, secs: u32) -> Self {
        self.ttl.insert(op, i64::from(secs));
        self
    }

    /// The key id apps look up in the registry.
    pub fn key_id(&self) -> &str {
        self.signer.key_id()
    }

    /// The platform's public key (for the registry).
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    async fn audit(&self, tid: Option<&Tid>, event: &str, detail: &str) {
        // The audit log must not lose an event silently, but a failing audit write must not
        // turn a verified answer into a failure either: it is reported on stderr.
        if let Err(e) = self
            .store
            .append_audit(self.now(), tid, event, detail)
            .await
        {
            tracing::error!(event, "camr: audit write failed: {e}");
        }
    }

    async fn start(
        &self,
        operation: Operation,
        payload: OperationPayload,
        secret: Option<Vec<u8>>,
    ) -> CResult<Started> {
        let expires_at = self.now() + self.ttl.get(&operation).copied().unwrap_or(120);
        self.start_bound(operation, payload, secret, None, expires_at)
            .await
    }

    /// [`Platform::start`] with an explicit expiry and, for a step of a seal session, the
    /// session it is bound to.
    async fn start_bound(
        &self,
        operation: Operation,
        payload: OperationPayload,
        secret: Option<Vec<u8>>,
        session: Option<crate::protocol::SessionBinding>,
        expires_at: i64,
    ) -> CResult<Started> {
        let now = self.now();
        if let Some(max) = self.max_pending {
            let pending = self.store.count_pending(now).await?;
            if pending >= max {
                return Err(CeremonyError::TooManyPending { max });
            }
        }
        let mut random = [0u8; 16];
        self.provider.fill_random(&mut random)?;
        let tid = Tid::new(&self.identity.system_code, random);
        let mut nonce = vec![0u8; 16];
        self.provider.fill_random(&mut nonce)?;
        let request = RequestObject {
            tid: tid.clone(),
            system_code: self.identity.system_code.clone(),
            system_name: self.identity.system_name.clone(),
            operation,
            nonce: Bytes(nonce),
            issued_at: now,
            expires_at,
            response_uri: self.identity.response_uri.clone(),
            key_id: self.signer.key_id().to_string(),
            payload,
            requires: self.entitlement.requirement(operation),
            session,
        };
        let text =
            serde_json::to_string(&request).map_err(|e| CeremonyError::Misuse(e.to_string()))?;
        let signature = self.provider.sign(
            &self.key,
            &SignatureScheme::default_for(self.key.algorithm()),
            text.as_bytes(),
        )?;
        let signed = SignedRequest {
            request: text,
            key_id: self.signer.key_id().to_string(),
            signature: Bytes(signature),
        };
        let transaction = Transaction {
            tid: tid.clone(),
            system_code: self.identity.system_code.clone(),
            operation,
            state: TransactionState::Created,
            created_at: now,
            expires_at,
            ca_org_type: None,
            message: None,
        };
        let qr = self
            .qr_profile
            .sign(&self.signer, &self.qr_fields(&tid, operation, expires_at))
            .map_err(|e| CeremonyError::Misuse(e.to_string()))?;
        let owner = OwnerToken::generate(self.provider.as_ref())?;
        let record = TxRecord {
            transaction: transaction.clone(),
            request_hash: request_hash(self.provider.as_ref(), &signed.request),
            request: signed,
            secret,
            result: None,
            owner_hash: Some(owner.hash(self.provider.as_ref())),
        };
        self.store.insert(record).await?;
        self.audit(Some(&tid), "started", operation.as_str()).await;
        Ok(Started {
            transaction,
            qr_text: self.qr_profile.encode(&qr),
            qr,
            owner,
        })
    }

    /// Starts a login (注册登录).
    pub async fn start_login(&self) -> CResult<Started> {
        self.start(
            Operation::Login,
            OperationPayload::Login {
                share_registration: false,
            },
            None,
        )
        .await
    }

    /// Starts a login that asks the app for shared registration data (共享注册) when
    /// `share_registration` is true; the user may decline.
    pub async fn start_login_sharing(&self, share_registration: bool) -> CResult<Started> {
        self.start(
            Operation::Login,
            OperationPayload::Login { share_registration },
            None,
        )
        .await
    }

    /// Starts a message signature (消息签名) over `message`, shown to the user.
    pub async fn start_message_signature(&self, message: &str) -> CResult<Started> {
        if message.is_empty() || message.len() > 64 * 1024 {
            return Err(CeremonyError::Misuse(
                "the message must be 1 byte to 64 KiB".into(),
            ));
        }
        self.start(
            Operation::MessageSignature,
            OperationPayload::MessageSignature {
                message: message.into(),
            },
            None,
        )
        .await
    }

    /// Starts signing one hash or a batch (签章), each with its document name.
    /// A [`crate::protocol::SignFormat::CadesAttributes`] item (a PDF seal: the byte-range
    /// digest from `camr::seal::prepare`) makes the app sign CAdES signed attributes; the
    /// result then carries them for `camr::seal::assemble_cms`.
    pub async fn start_sign(&self, items: Vec<SignItem>) -> CResult<Started> {
        if items.is_empty() || items.len() > 1000 {
            return Err(CeremonyError::Misuse(
                "a signing request needs 1 to 1000 items".into(),
            ));
        }
        check_items(&items)?;
        self.start(
            Operation::Signature,
            OperationPayload::Signature { items },
            None,
        )
        .await
    }

    /// Starts a seal revocation (撤章).
    pub async fn start_revoke_signature(
        &self,
        seal_id: &str,
        document_name: &str,
        reason: Option<&str>,
    ) -> CResult<Started> {
        self.start_revoke_seal(seal_id, document_name, reason, Vec::new())
            .await
    }

    /// Starts a seal revocation (撤章) whose consent also signs `items`: for a PDF, the
    /// revision from `camr::seal::prepare_revoke` (one CAdES item). Whether the revoker may
    /// revoke that seal is the platform's check on the result (`camr::seal::may_revoke`).
    pub async fn start_revoke_seal(
        &self,
        seal_id: &str,
        document_name: &str,
        reason: Option<&str>,
        items: Vec<SignItem>,
    ) -> CResult<Started> {
        if seal_id.is_empty() || items.len() > 16 {
            return Err(CeremonyError::Misuse(
                "a revocation names its seal and signs at most 16 items".into(),
            ));
        }
        check_items(&items)?;
        self.start(
            Operation::RevokeSignature,
            OperationPayload::RevokeSignature {
                seal_id: seal_id.into(),
                document_name: document_name.into(),
                reason: reason.map(Into::into),
                items,
            },
            None,
        )
        .await
    }

    /// Starts obtaining the user's encryption certificate (加密).
    pub async fn start_encrypt(&self) -> CResult<Started> {
        self.start(Operation::Encrypt, OperationPayload::Encrypt {}, None)
            .await
    }

    /// Starts a decrypt (解密) of the envelopes' encrypted keys; the app returns them
    /// encrypted to a fresh per-transaction platform key that only this record holds.
    /// The platform's [`DecryptPolicy`] is asked first; a refusal is
    /// [`CeremonyError::DecryptRefused`] and starts nothing.
    pub async fn start_decrypt(&self, items: Vec<EncryptedKeyItem>) -> CResult<Started> {
        self.start_decrypt_for(None, items).await
    }

    /// [`Platform::start_decrypt`] for the bidder the platform names (its own reference,
    /// e.g. the certificate serial of the bidder's sign-in), passed to the policy.
    pub async fn start_decrypt_for(
        &self,
        bidder: Option<&str>,
        items: Vec<EncryptedKeyItem>,
    ) -> CResult<Started> {
        if items.is_empty() {
            return Err(CeremonyError::Misuse(
                "a decrypt request needs at least one key".into(),
            ));
        }
        let ctx = DecryptContext {
            bidder,
            items: &items,
            now: self.now(),
        };
        if let Err(refusal) = self.decrypt_policy.check(ctx).await {
            self.audit(None, "decrypt-refused", &refusal.to_string())
                .await;
            return Err(refusal.into());
        }
        let key = self.provider.generate_key(DECRYPT_KEY_ALGORITHM)?;
        let platform_key = Bytes(key.public_key().to_spki_der()?);
        let secret = key.to_pkcs8_der()?.to_vec();
        self.start(
            Operation::Decrypt,
            OperationPayload::Decrypt {
                items,
                platform_key,
            },
            Some(secret),
        )
        .await
    }

    async fn live_record(&self, tid: &Tid) -> CResult<TxRecord> {
        let rec = self
            .store
            .get(tid)
            .await?
            .ok_or_else(|| StoreError::NotFound(tid.to_string()))?;
        let state = rec.transaction.state;
        if !state.is_terminal() && self.now() > rec.transaction.expires_at {
            let _ = self
                .store
                .transition(
                    tid,
                    &[
                        TransactionState::Created,
                        TransactionState::Scanned,
                        TransactionState::Approved,
                    ],
                    TransactionState::Expired,
                    TxPatch::default(),
                )
                .await;
            self.audit(Some(tid), "expired", "").await;
            return Err(CeremonyError::Expired {
                tid: tid.to_string(),
                expires_at: rec.transaction.expires_at,
            });
        }
        Ok(rec)
    }

    /// The app fetches the signed request object; the transaction becomes `scanned`.
    pub async fn request(&self, tid: &Tid) -> CResult<SignedRequest> {
        let rec = self.live_record(tid).await?;
        match rec.transaction.state {
            TransactionState::Created => {
                self.store
                    .transition(
                        tid,
                        &[TransactionState::Created],
                        TransactionState::Scanned,
                        TxPatch::default(),
                    )
                    .await?;
                self.audit(Some(tid), "scanned", "").await;
            }
            TransactionState::Scanned => {}
            actual => {
                return Err(StoreError::WrongState {
                    tid: tid.to_string(),
                    actual,
                    expected: vec![TransactionState::Created, TransactionState::Scanned],
                }
                .into());
            }
        }
        Ok(rec.request)
    }

    /// The transaction as it stands (expiry applied).
    pub async fn status(&self, tid: &Tid) -> CResult<Transaction> {
        match self.live_record(tid).await {
            Ok(rec) => Ok(rec.transaction),
            Err(CeremonyError::Expired { .. }) => Ok(self
                .store
                .get(tid)
                .await?
                .ok_or_else(|| StoreError::NotFound(tid.to_string()))?
                .transaction),
            Err(e) => Err(e),
        }
    }

    /// Cancels a pending transaction.
    pub async fn cancel(&self, tid: &Tid) -> CResult<()> {
        self.store
            .transition(
                tid,
                &[TransactionState::Created, TransactionState::Scanned],
                TransactionState::Cancelled,
                TxPatch {
                    clear_secret: true,
                    ..TxPatch::default()
                },
            )
            .await?;
        self.audit(Some(tid), "cancelled", "").await;
        Ok(())
    }

    /// Verifies and records an app's answer. On success the transaction is `verified` (or
    /// `rejected` when the user said no); on failure it is left as it was and the refusal
    /// is audited.
    pub async fn answer(&self, tid: &Tid, response: &Response) -> CResult<TransactionState> {
        self.answer_via(self.qr_profile.clone().as_ref(), tid, response)
            .await
    }

    /// [`Platform::answer`] for an answer that came through a code of QR profile `via`
    /// (二维码类型; the profile's transport tells, e.g. `qr=vendor1` on the answer's URI). The
    /// profile that counts is the one the app signed (`qrProfile`, inside the binding): an
    /// answer whose signed profile is not `via` is refused with `QR_PROFILE_MISMATCH`, so a
    /// transport tag cannot turn a national-code answer into a vendor-code one. A
    /// platform-only certificate (本平台证书, [`Entitlement::platform_only_vendors`]) is
    /// refused with `CERT_NOT_ENTITLED` through the national interop code.
    pub async fn answer_via(
        &self,
        via: &dyn QrProfile,
        tid: &Tid,
        response: &Response,
    ) -> CResult<TransactionState> {
        let rec = self.live_record(tid).await?;
        // Signatures first: the withdrawal list is read only for an answer that verified, so
        // bogus answers carrying a delegation cost one signature check, not a lookup.
        let mut checked = self.check_answer(&rec, tid, response, false, via);
        if let (Ok(_), Some(d)) = (&checked, &response.delegation) {
            let id = scope::delegation_id(self.provider.as_ref(), d);
            if self.delegation_withdrawn(&id).await? {
                checked = self.check_answer(&rec, tid, response, true, via);
            }
        }
        let checked = match checked {
            Ok(checked) => self.check_decrypt_answerer(&rec, checked).await,
            Err(e) => Err(e),
        };
        match checked {
            Ok((state, patch, usage)) => {
                // `approved` keeps the state machine's rule (scanned → approved → verified).
                // Every step is a compare-and-set.
                let next = if state == TransactionState::Verified {
                    self.store
                        .transition(
                            tid,
                            &[TransactionState::Scanned],
                            TransactionState::Approved,
                            TxPatch::default(),
                        )
                        .await?;
                    self.store
                        .transition(
                            tid,
                            &[TransactionState::Approved],
                            TransactionState::Verified,
                            patch,
                        )
                        .await?
                } else {
                    self.store
                        .transition(
                            tid,
                            &[TransactionState::Scanned],
                            TransactionState::Rejected,
                            patch,
                        )
                        .await?
                };
                let reason = next.transaction.message.as_deref().unwrap_or("");
                match (state, usage) {
                    (TransactionState::Verified, Some(u)) => {
                        self.store.append_usage(u).await?;
                        self.audit(Some(tid), "verified", reason).await;
                    }
                    (TransactionState::Verified, None) => {
                        self.audit(Some(tid), "verified", reason).await;
                    }
                    (_, by) => {
                        let by = by
                            .map(|u| format!(" (by {}, certificate {})", u.cert_name, u.cert_sn))
                            .unwrap_or_default();
                        self.audit(Some(tid), "rejected", &format!("{reason}{by}"))
                            .await;
                    }
                }
                Ok(next.transaction.state)
            }
            Err(e) => {
                // Counted, not each written to the audit log (anyone can post answers); the
                // audit keeps refusals of a certificate that verified but may not act.
                self.refused
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(%tid, code = %e.code(), "answer refused: {e}");
                if audited_refusal(e.code()) {
                    self.audit(Some(tid), "refused", &format!("{}: {e}", e.code()))
                        .await;
                }
                Err(e)
            }
        }
    }

    fn check_answer(
        &self,
        rec: &TxRecord,
        tid: &Tid,
        r: &Response,
        delegation_withdrawn: bool,
        via: &dyn QrProfile,
    ) -> CResult<(TransactionState, TxPatch, Option<UsageRecord>)> {
        let state = rec.transaction.state;
        // Only after the app fetched the request object (with the live rotating part, where
        // codes rotate): an answer to a code that was never scanned is refused.
        if state != TransactionState::Scanned {
            let why = match state {
                TransactionState::Created => {
                    "the request object of this transaction was never fetched: scan the live \
                     QR code first"
                }
                _ => "the transaction is not waiting for an answer",
            };
            return Err(CeremonyError::NotScanned {
                tid: tid.to_string(),
                state,
                why,
            });
        }
        if &r.tid != tid {
            return Err(CeremonyError::TidMismatch {
                found: r.tid.to_string(),
                expected: tid.to_string(),
            });
        }
        if r.operation != rec.transaction.operation {
            return Err(CeremonyError::TidMismatch {
                found: r.operation.to_string(),
                expected: rec.transaction.operation.to_string(),
            });
        }
        if r.request_hash != rec.request_hash {
            return Err(CeremonyError::RequestHashMismatch);
        }
        let evidence = r.evidence.as_ref().ok_or_else(|| {
            CeremonyError::Incomplete("no evidence (even a rejection is signed)".into())
        })?;
        let leaf_der = evidence
            .certificate_chain
            .first()
            .ok_or_else(|| CeremonyError::Incomplete("no signing certificate".into()))?;
        let leaf = Certificate::from_der(leaf_der)?;
        let intermediates = evidence
            .certificate_chain
            .iter()
            .skip(1)
            .map(|c| Certificate::from_der(c))
            .collect::<Result<Vec<_>, _>>()?;
        let now = self.now();
        let chain = self
            .validator
            .validate(&leaf, &intermediates, KeyPurpose::Sign, now)?;
        let key = leaf.public_key()?;
        let scheme = SignatureScheme::default_for(key.algorithm());
        let sig_of = |item: &str| {
            evidence
                .signatures
                .iter()
                .find(|s| s.item_id == item)
                .map(|s| s.signature_value.as_ref())
        };
        let verify = |item: &str, message: &[u8]| -> CResult<Vec<u8>> {
            let sig = sig_of(item)
                .ok_or_else(|| CeremonyError::Incomplete(format!("no `{item}` signature")))?;
            self.provider
                .verify(&key, &scheme, message, sig)
                .map_err(|_| CeremonyError::SignatureInvalid {
                    what: item.to_string(),
                })?;
            Ok(sig.to_vec())
        };
        let subject = chain.subject.clone();
        let chain_der: Vec<Bytes> = evidence.certificate_chain.iter().skip(1).cloned().collect();
        // The items of a signature (or a revocation's own items): each signed over its hash,
        // or over the CAdES signed attributes rebuilt here from the hash and the certificate;
        // `allow_rejections`: a batch may refuse single items (批量拒签).
        let sign_items = |items: &[SignItem],
                          allow_rejections: bool|
         -> CResult<(Vec<SignedItem>, Vec<ItemRejection>)> {
            let mut signed = Vec::new();
            let mut rejected = Vec::new();
            // 拒签 records a reason, and only for items of this request.
            for rej in &evidence.item_rejections {
                if !items.iter().any(|i| i.id == rej.item_id) || rej.reason.trim().is_empty() {
                    return Err(CeremonyError::Incomplete(format!(
                        "the refusal of item `{}` must name an item of this request and give a reason",
                        crate::crypto::truncate(&rej.item_id, 40)
                    )));
                }
            }
            for item in items {
                if let Some(rej) = evidence
                    .item_rejections
                    .iter()
                    .find(|x| x.item_id == item.id)
                {
                    if !allow_rejections {
                        return Err(CeremonyError::Incomplete(format!(
                            "item `{}` was refused; a revocation is signed whole or rejected",
                            item.id
                        )));
                    }
                    rejected.push(rej.clone());
                    continue;
                }
                let (message, attrs) = match item.format {
                    SignFormat::Hash => (item.hash.0.clone(), None),
                    SignFormat::CadesAttributes => {
                        let attrs = crate::envelope::cades_signed_attributes(
                            self.provider.as_ref(),
                            &item.hash,
                            item.hash_algorithm,
                            &leaf,
                        )
                        .map_err(|e| {
                            CeremonyError::Incomplete(format!("item `{}`: {e}", item.id))
                        })?;
                        (attrs.clone(), Some(Bytes(attrs)))
                    }
                };
                let signature = verify(&item.id, &message)?;
                signed.push(SignedItem {
                    item: item.clone(),
                    signature: Bytes(signature),
                    signed_attributes: attrs,
                });
            }
            Ok((signed, rejected))
        };
        let rejected = r.status == ResponseStatus::Rejected;
        let reason = r.reject_reason.clone().unwrap_or_default();
        // The binding covers the request hash (checked equal to this transaction's above) and
        // the digest of everything else acted on below: certificate, keys, refusals,
        // delegation, operator, QR profile.
        if let Err(e) = verify(
            BINDING_ITEM,
            &binding::binding_message(self.provider.as_ref(), r),
        ) {
            // A valid signature over the camr1 message: an app that predates the contents
            // digest. Tried only after the camr2 check failed, so current answers pay nothing.
            let legacy = sig_of(BINDING_ITEM).is_some_and(|sig| {
                self.provider
                    .verify(&key, &scheme, &binding::legacy_message(r), sig)
                    .is_ok()
            });
            return Err(if legacy {
                CeremonyError::AnswerVersionUnsupported
            } else {
                e
            });
        }
        // The signed profile decides, never the transport's tag alone.
        if r.qr_profile != via.id() {
            return Err(CeremonyError::QrProfileMismatch {
                signed: crate::crypto::truncate(&r.qr_profile, 20),
                via: via.id(),
            });
        }
        let national = via.national();
        // Entitlement, delegation scope and the seal-session binding are checked for a
        // rejection as for an approval: a refusal ends the transaction, so only someone who
        // could have approved it may refuse it.
        let anchor = chain.chain.last().map(Certificate::der).unwrap_or_default();
        if let Some(why) =
            self.entitlement
                .refusal(&r.ca_org_type, anchor, &subject, rec.transaction.operation)
        {
            return Err(CeremonyError::NotEntitled(why));
        }
        if let Some(why) = self.entitlement.profile_refusal(&r.ca_org_type, national) {
            return Err(CeremonyError::NotEntitled(why));
        }
        let operator = scope::check_delegation(
            self.provider.as_ref(),
            &leaf,
            &subject,
            r,
            &self.identity.system_code,
            rec.transaction.operation,
            now,
            delegation_withdrawn,
            self.entitlement
                .delegated_vendors
                .iter()
                .any(|v| v == &r.ca_org_type),
        )?;
        let request = rec
            .request
            .request_object()
            .map_err(|e| CeremonyError::Misuse(e.to_string()))?;
        // A step of a seal session (签章会话): only the certificate that authorised it.
        if let Some(binding) = &request.session {
            let fingerprint = self.provider.digest(HashAlgorithm::Sha256, leaf.der());
            if fingerprint != binding.certificate_sha256.0 {
                return Err(CeremonyError::SessionMismatch(format!(
                    "session {} was authorised with another certificate",
                    binding.tid
                )));
            }
        }
        let usage = UsageRecord {
            trading_system_code: self.identity.system_code.clone(),
            trading_system_name: self.identity.system_name.clone(),
            cert_sn: subject.cert_sn.clone(),
            cert_name: subject.name.clone(),
            cert_type: subject.cert_type,
            public_key_algorithm: key.algorithm(),
            subject_type: subject.subject_type,
            usage_scene: rec.transaction.operation,
            tid: tid.clone(),
            used_at: now,
            ca_org_type: r.ca_org_type.clone(),
            // From the delegation verified above (证书授权), never from the app's word.
            operator,
        };
        if rejected {
            // Who refused is kept with the transaction (and audited), not only the reason.
            let patch = TxPatch {
                ca_org_type: Some(r.ca_org_type.clone()),
                message: Some(reason),
                result: Some(serde_json::json!({ "rejectedBy": subject })),
                clear_secret: true,
            };
            return Ok((TransactionState::Rejected, patch, Some(usage)));
        }
        let mut usage_counts = true;
        let result = match (&request.payload, rec.transaction.operation) {
            (OperationPayload::Login { share_registration }, Operation::Login) => {
                // 共享注册: only when asked, and signed by the holder with the answer.
                if let Some(data) = &r.registration {
                    if !share_registration {
                        return Err(CeremonyError::Incomplete("the answer shares registration data, but this login did not ask for it".into()));
                    }
                    data.check().map_err(|e| CeremonyError::Incomplete(e.to_string()))?;
                    let message = registration_message(&rec.request_hash, data).map_err(|e| CeremonyError::Incomplete(e.to_string()))?;
                    verify(REGISTRATION_ITEM, &message)?;
                }
                serde_json::to_value(LoginResult {
                    tid: tid.clone(),
                    subject: subject.clone(),
                    certificate: Bytes(leaf.der().to_vec()),
                    ca_org_type: r.ca_org_type.clone(),
                    revocation_checked: chain.revocation_checked,
                    verified_at: now,
                    registration: r.registration.clone(),
                })
            }
            (OperationPayload::MessageSignature { message }, Operation::MessageSignature) => {
                let signature = verify(MESSAGE_ITEM, message.as_bytes())?;
                serde_json::to_value(MessageSignatureResult {
                    tid: tid.clone(),
                    subject: subject.clone(),
                    certificate: Bytes(leaf.der().to_vec()),
                    message: message.clone(),
                    signature: Bytes(signature),
                    verified_at: now,
                })
            }
            (OperationPayload::Signature { items }, Operation::Signature) => {
                let (signed, rejected) = sign_items(items, true)?;
                let outcomes = item_outcomes(items, &rejected);
                serde_json::to_value(SignResult { tid: tid.clone(), subject: subject.clone(), certificate: Bytes(leaf.der().to_vec()), chain: chain_der.clone(), signed, rejected, items: outcomes, verified_at: now })
            }
            (OperationPayload::RevokeSignature { seal_id, items, .. }, Operation::RevokeSignature) => {
                let (signed, _) = sign_items(items, false)?;
                serde_json::to_value(RevokeResult { tid: tid.clone(), subject: subject.clone(), seal_id: seal_id.clone(), certificate: Bytes(leaf.der().to_vec()), chain: chain_der.clone(), signed, verified_at: now })
            }
            (OperationPayload::SealSession { document_name, document_hash, pages, .. }, Operation::Signature) => {
                // The authorisation signs nothing but the binding: its seals are counted as
                // they are signed, one usage record each.
                usage_counts = false;
                serde_json::to_value(SealSession {
                    tid: tid.clone(),
                    subject: subject.clone(),
                    certificate: Bytes(leaf.der().to_vec()),
                    chain: chain_der.clone(),
                    ca_org_type: r.ca_org_type.clone(),
                    key_algorithm: key.algorithm(),
                    document_name: document_name.clone(),
                    document_hash: document_hash.clone(),
                    pages: *pages,
                    authorised_at: now,
                    expires_at: rec.transaction.expires_at,
                })
            }
            (OperationPayload::Encrypt {}, Operation::Encrypt) => {
                let enc_der = evidence.encryption_certificate.as_ref().ok_or_else(|| CeremonyError::Incomplete("no encryption certificate".into()))?;
                let enc = Certificate::from_der(enc_der)?;
                let enc_chain = self.validator.validate(&enc, &intermediates, KeyPurpose::Encrypt, now)?;
                // The encryption certificate must be the same holder's (GM/T 0015 dual
                // certificates share the subject), so an app cannot hand over someone else's.
                if enc.x509().tbs_certificate().subject() != leaf.x509().tbs_certificate().subject() {
                    return Err(CeremonyError::EncryptionCertMismatch("it names another subject than the signing certificate".into()));
                }
                // ... and issued by the same CA: a subject DN is no identity across CAs (any
                // trusted CA may issue a certificate with the same name), so both chains must
                // end at the same trust anchor.
                if enc_chain.chain.last().map(Certificate::der) != chain.chain.last().map(Certificate::der) {
                    return Err(CeremonyError::EncryptionCertMismatch("it chains to another trust anchor (CA) than the signing certificate; a dual-certificate pair is issued by one CA".into()));
                }
                serde_json::to_value(EncryptResult { tid: tid.clone(), subject: subject.clone(), encryption_certificate: Bytes(enc.der().to_vec()), verified_at: now })
            }
            (OperationPayload::Decrypt { items, .. }, Operation::Decrypt) => {
                for item in items {
                    if !evidence.decrypted_keys.iter().any(|k| k.item_id == item.id) {
                        return Err(CeremonyError::Incomplete(format!("no key for item `{}`", item.id)));
                    }
                }
                // Only the encrypted keys are kept; they are opened in `finish_decrypt`.
                serde_json::to_value(&evidence.decrypted_keys)
            }
            _ => return Err(CeremonyError::Misuse("the request object does not fit the operation".into())),
        }
        .map_err(|e| CeremonyError::Misuse(e.to_string()))?;
        let patch = TxPatch {
            ca_org_type: Some(r.ca_org_type.clone()),
            result: Some(result),
            ..TxPatch::default()
        };
        Ok((
            TransactionState::Verified,
            patch,
            usage_counts.then_some(usage),
        ))
    }

    async fn verified_result<T: serde::de::DeserializeOwned>(
        &self,
        tid: &Tid,
        op: Operation,
    ) -> CResult<(TxRecord, T)> {
        let rec = self
            .store
            .get(tid)
            .await?
            .ok_or_else(|| StoreError::NotFound(tid.to_string()))?;
        if rec.transaction.operation != op {
            return Err(CeremonyError::Misuse(format!(
                "transaction {tid} is a {}, not a {op}",
                rec.transaction.operation
            )));
        }
        match rec.transaction.state {
            TransactionState::Verified => {}
            TransactionState::Rejected => {
                return Err(CeremonyError::Rejected {
                    reason: rec.transaction.message.clone().unwrap_or_default(),
                });
            }
            TransactionState::Failed => {
                return Err(CeremonyError::Failed {
                    tid: tid.to_string(),
                    reason: rec.transaction.message.clone().unwrap_or_default(),
                });
            }
            TransactionState::Cancelled => {
                return Err(StoreError::WrongState {
                    tid: tid.to_string(),
                    actual: TransactionState::Cancelled,
                    expected: vec![TransactionState::Verified],
                }
                .into());
            }
            state => {
                if state == TransactionState::Expired
                    || (!state.is_terminal() && self.now() > rec.transaction.expires_at)
                {
                    return Err(CeremonyError::Expired {
                        tid: tid.to_string(),
                        expires_at: rec.transaction.expires_at,
                    });
                }
                return Err(CeremonyError::Pending {
                    tid: tid.to_string(),
                    state,
                });
            }
        }
        let value = rec.result.clone().ok_or_else(|| CeremonyError::Pending {
            tid: tid.to_string(),
            state: rec.transaction.state,
        })?;
        let out = serde_json::from_value(value)
            .map_err(|e| CeremonyError::Misuse(format!("stored result unreadable: {e}")))?;
        Ok((rec, out))
    }

    /// The verified login.
    pub async fn finish_login(&self, tid: &Tid) -> CResult<LoginResult> {
        Ok(self.verified_result(tid, Operation::Login).await?.1)
    }

    /// The verified message signature.
    pub async fn finish_message_signature(&self, tid: &Tid) -> CResult<MessageSignatureResult> {
        Ok(self
            .verified_result(tid, Operation::MessageSignature)
            .await?
            .1)
    }

    /// The verified batch of hash signatures.
    pub async fn finish_sign(&self, tid: &Tid) -> CResult<SignResult> {
        Ok(self.verified_result(tid, Operation::Signature).await?.1)
    }

    /// The verified seal revocation.
    pub async fn finish_revoke_signature(&self, tid: &Tid) -> CResult<RevokeResult> {
        Ok(self
            .verified_result(tid, Operation::RevokeSignature)
            .await?
            .1)
    }

    /// The verified encryption certificate.
    pub async fn finish_encrypt(&self, tid: &Tid) -> CResult<EncryptResult> {
        Ok(self.verified_result(tid, Operation::Encrypt).await?.1)
    }

    /// The content keys, per item id, opened with the per-transaction platform key (which
    /// is then dropped from the store). Keys are returned, never stored in clear.
    pub async fn finish_decrypt(&self, tid: &Tid) -> CResult<Vec<(String, SecretBytes)>> {
        let (_, keys): (TxRecord, Vec<crate::protocol::DecryptedKey>) =
            self.verified_result(tid, Operation::Decrypt).await?;
        // Taken with compare-and-set: of two callers at once, one gets the key, the other
        // `TX_ALREADY_TAKEN`; the key is gone from the store before anything is decrypted.
        let secret =
            self.store
                .take_secret(tid)
                .await?
                .ok_or_else(|| CeremonyError::AlreadyTaken {
                    tid: tid.to_string(),
                    what: "the content keys of this decrypt".into(),
                })?;
        let secret = SecretBytes::new(secret);
        let platform_key = PrivateKey::from_pkcs8_der(&secret)?;
        let mut out = Vec::new();
        for k in keys {
            let cek = self.provider.sm2_decrypt(
                &platform_key,
                &k.encrypted_to_platform,
                Sm2CiphertextForm::Asn1,
            )?;
            out.push((k.item_id, cek));
        }
        self.audit(Some(tid), "keys-taken", "").await;
        Ok(out)
    }

    /// Caps the transactions waiting for an answer, on every instance sharing the store: a
    /// start beyond it is refused with `TOO_MANY_PENDING` (abandoned transactions stop
    /// counting when they expire). `None`: no cap.
    pub fn with_max_pending(mut self, max: Option<u64>) -> Self {
        self.max_pending = max;
        self
    }

    /// Answers refused since this platform was made (malformed, unverifiable, not allowed):
    /// a metric for operators.
    pub fn refused_answers(&self) -> u64 {
        self.refused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The provider in use.
    pub fn provider(&self) -> &Arc<dyn CryptoProvider> {
        &self.provider
    }
}

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
/// showing anything). `algorithm` comes from the registry entry of the platform's key.
pub fn verify_signed_request(
    provider: &dyn CryptoProvider,
    signed: &SignedRequest,
    platform_key: &PublicKey,
) -> CResult<RequestObject> {
    provider
        .verify(
            platform_key,
            &SignatureScheme::default_for(platform_key.algorithm()),
            signed.request.as_bytes(),
            &signed.signature,
        )
        .map_err(|_| CeremonyError::SignatureInvalid {
            what: "platform request".into(),
        })?;
    signed
        .request_object()
        .map_err(|e| CeremonyError::Incomplete(e.to_string()))
}

/// The algorithm family of a key, for usage records.
pub fn algorithm_of(key: &PublicKey) -> PublicKeyAlgorithm {
    key.algorithm()
}

#[cfg(test)]
mod tests;
