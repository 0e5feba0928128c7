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

use crate::crypto::{CryptoProvider, PrivateKey, PublicKey};
use crate::pki::ChainValidator;
use crate::protocol::{Operation, QrPayload, SystemCode, Tid, Transaction};
use crate::qr::{self, QrFields, QrProfile, QrSigner, RotationKey};
use crate::store::TransactionStore;

mod answer;
mod billing;
mod checks;
mod error;
mod finish;
mod hooks;
mod lifecycle;
mod live;
mod ops;
mod owner;
mod policy;
mod results;
mod revocation;
pub mod scope;
mod session;
mod start;
mod verify;

pub use billing::{BILLING_PAUSE, Billing};
pub use error::CeremonyError;
pub use hooks::{EvidenceDecoder, HookError, StateObserver, UsageSink};
pub use owner::OwnerToken;
pub use policy::{AllowAll, DecryptContext, DecryptPolicy, DecryptRefusal};
pub use results::{
    EncryptResult, ItemOutcome, ItemState, LoginResult, MessageSignatureResult, RevokeResult,
    SignResult, SignedItem,
};
pub use revocation::{LiveRevocation, LoginRevocation, RevocationRecord};
pub use scope::Entitlement;
pub use session::{DEFAULT_SEAL_SESSION_TTL, SealSession};
pub use verify::{
    SignedMessage, VerifySignatureData, algorithm_of, verify_data, verify_message,
    verify_signed_request,
};

pub use crate::protocol::binding::{
    BINDING_ITEM, MESSAGE_ITEM, REGISTRATION_ITEM, REGISTRATION_PREFIX, registration_message,
    request_hash,
};
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
    decoder: Option<Arc<dyn EvidenceDecoder>>,
    billing: Option<Billing>,
    rotation: Option<RotationKey>,
    revocation: Option<LiveRevocation>,
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
            clock: crate::time::unix_now,
            decrypt_policy: Arc::new(AllowAll),
            entitlement: Arc::default(),
            seal_session_ttl: DEFAULT_SEAL_SESSION_TTL,
            refused: Arc::default(),
            max_pending: None,
            decoder: None,
            billing: None,
            rotation: None,
            revocation: None,
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

    /// Caps the transactions waiting for an answer, on every instance sharing the store: a
    /// start beyond it is refused with `TOO_MANY_PENDING` (abandoned transactions stop
    /// counting when they expire). `None`: no cap.
    pub fn with_max_pending(mut self, max: Option<u64>) -> Self {
        self.max_pending = max;
        self
    }

    /// Vendor adapters read every answer (adapters translate, the core verifies): the
    /// vendor's own wire format (`vendorEvidence`) or camr's evidence JSON go through the
    /// vendor's adapter, off the async executor; a vendor without an adapter is refused.
    /// Without a decoder only camr's evidence is accepted.
    pub fn with_decoder(mut self, decoder: Arc<dyn EvidenceDecoder>) -> Self {
        self.decoder = Some(decoder);
        self
    }

    /// Per-use billing (按量扣费): each verified use is reported to the vendor after the
    /// answer is recorded, never on the request path ([`Billing`]).
    pub fn with_billing(mut self, billing: Billing) -> Self {
        self.billing = Some(billing);
        self
    }

    /// The store (transactions, usage records, audit log).
    pub fn store(&self) -> &Arc<dyn TransactionStore> {
        &self.store
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

#[cfg(test)]
mod tests;
