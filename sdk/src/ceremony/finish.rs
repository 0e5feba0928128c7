//! `finish_*`: the verified results.

use crate::crypto::{PrivateKey, SecretBytes, Sm2CiphertextForm};
use crate::protocol::{Operation, Tid, TransactionState};
use crate::store::{StoreError, TxRecord};

use super::{
    CResult, CeremonyError, EncryptResult, LoginResult, MessageSignatureResult, Platform,
    RevokeResult, SignResult,
};

impl Platform {
    pub(super) async fn verified_result<T: serde::de::DeserializeOwned>(
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
}
