//! Opening transactions: `start_*` signs a request object, stores it and returns the QR.

use crate::crypto::{KeyAlgorithm, SignatureScheme};
use crate::protocol::{
    Bytes, EncryptedKeyItem, Operation, OperationPayload, RequestObject, SignItem, SignedRequest,
    Tid, Transaction, TransactionState,
};
use crate::store::TxRecord;

use super::results::check_items;
use super::{CResult, CeremonyError, DecryptContext, OwnerToken, Platform, Started, request_hash};

/// Per-transaction platform key for decrypt answers: SM2, so keys travel SM2-encrypted.
const DECRYPT_KEY_ALGORITHM: KeyAlgorithm = KeyAlgorithm::Sm2;

impl Platform {
    pub(super) async fn start(
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
    pub(super) async fn start_bound(
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
        // With rotation on, even the first code carries the live part (a static code would
        // let a relay strip it).
        let qr = self.live_payload(qr, &transaction);
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
}
