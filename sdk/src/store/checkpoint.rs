//! Audit-log anchoring: the platform signs the head of its hash chain (`seq`, `hash`) into an
//! [`AuditCheckpoint`] that a second party keeps (an auditor, the supervising authority, a
//! write-once bucket).
//!
//! The hash chain alone ([`verify_audit`]) catches an edited or removed entry *inside* the log,
//! but not a log whose newest entries were deleted (a shorter chain is still a chain), nor one
//! rebuilt from scratch with fresh hashes by someone holding the database (threat model #9).
//! A checkpoint kept elsewhere catches both: a log must be at least as long as every checkpoint
//! and hold, at the checkpoint's position, the very hash the platform signed
//! ([`verify_audit_against`]).
//!
//! The signature is over the UTF-8 text
//! `camr-audit-checkpoint-1 LF system code LF seq LF hash LF signedAt`, with the platform key's
//! usual scheme (SM2-SM3 with the default signer ID for an SM2 key).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AUDIT_GENESIS, AuditEntry, StoreError, verify_audit};
use crate::crypto::{CryptoError, CryptoProvider, PrivateKey, PublicKey, SignatureScheme};
use crate::protocol::{Bytes, ErrorCode, SystemCode};

/// The format tag of [`AuditCheckpoint`] and the first line of its signed text.
pub const CHECKPOINT_FORMAT: &str = "camr-audit-checkpoint-1";

/// A signed statement of the platform: "my audit log had `seq` entries, the last with hash
/// `hash`, at `signedAt`" (审计日志锚点).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditCheckpoint {
    /// Always `camr-audit-checkpoint-1`.
    pub format: String,
    /// The platform (系统标识码) whose log this is.
    pub system_code: SystemCode,
    /// How many entries the log had: the `seq` of its newest entry (0 for an empty log).
    pub seq: u64,
    /// The newest entry's `hash`, lower-case hex (64 zeros for an empty log).
    pub hash: String,
    /// When the platform signed, Unix seconds.
    pub signed_at: i64,
    /// The platform key that signed, SubjectPublicKeyInfo DER.
    pub public_key: Bytes,
    /// The signature over [`AuditCheckpoint::signed_text`].
    pub signature: Bytes,
}

/// Why a checkpoint was refused (the log itself is judged by [`verify_audit_against`]).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// Not a checkpoint of this format (JSON, fields, hash form).
    #[error("the audit checkpoint is malformed: {0}")]
    Malformed(String),
    /// Its signature does not verify, or it was signed by another key than the one expected.
    #[error("the audit checkpoint's signature is not valid: {0}")]
    SignatureInvalid(String),
    /// Signing or reading the key failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl CheckpointError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Malformed(_) => ErrorCode::InputMalformed,
            Self::SignatureInvalid(_) => ErrorCode::SignatureInvalid,
            Self::Crypto(e) => e.code(),
        }
    }
}

impl AuditCheckpoint {
    /// The exact text the platform signs.
    pub fn signed_text(system_code: &SystemCode, seq: u64, hash: &str, signed_at: i64) -> String {
        format!("{CHECKPOINT_FORMAT}\n{system_code}\n{seq}\n{hash}\n{signed_at}")
    }

    /// Signs the head of a log — `head` is its newest entry, `None` for an empty log — with
    /// the platform key, at `now`.
    pub fn sign(
        provider: &dyn CryptoProvider,
        key: &PrivateKey,
        system_code: &SystemCode,
        head: Option<&AuditEntry>,
        now: i64,
    ) -> Result<Self, CheckpointError> {
        let (seq, hash) = match head {
            Some(e) => (e.seq, e.hash.clone()),
            None => (0, AUDIT_GENESIS.to_string()),
        };
        check_hash(&hash)?;
        let text = Self::signed_text(system_code, seq, &hash, now);
        let scheme = SignatureScheme::default_for(key.algorithm());
        let signature = provider.sign(key, &scheme, text.as_bytes())?;
        Ok(Self {
            format: CHECKPOINT_FORMAT.to_string(),
            system_code: system_code.clone(),
            seq,
            hash,
            signed_at: now,
            public_key: Bytes(key.public_key().to_spki_der()?),
            signature: Bytes(signature),
        })
    }

    /// Reads a checkpoint from its JSON text and checks its form (not yet its signature).
    pub fn from_json(text: &str) -> Result<Self, CheckpointError> {
        let c: Self = serde_json::from_str(text).map_err(|e| {
            CheckpointError::Malformed(crate::crypto::truncate(&e.to_string(), 200))
        })?;
        if c.format != CHECKPOINT_FORMAT {
            return Err(CheckpointError::Malformed(format!(
                "its format is `{}`, not `{CHECKPOINT_FORMAT}`",
                crate::crypto::truncate(&c.format, 64)
            )));
        }
        check_hash(&c.hash)?;
        if c.seq == 0 && c.hash != AUDIT_GENESIS {
            return Err(CheckpointError::Malformed(
                "a checkpoint of an empty log (seq 0) must carry 64 zeros as its hash".into(),
            ));
        }
        Ok(c)
    }

    /// Verifies the signature; with `expected`, the signer must be that key (the platform's
    /// public key as the second party knows it, e.g. `platform-pub.pem` or the trust list).
    /// Returns the key that signed.
    pub fn verify_signature(
        &self,
        provider: &dyn CryptoProvider,
        expected: Option<&PublicKey>,
    ) -> Result<PublicKey, CheckpointError> {
        let key = PublicKey::from_spki_der(&self.public_key).map_err(|e| {
            CheckpointError::Malformed(format!("its public key cannot be read: {e}"))
        })?;
        if let Some(expected) = expected {
            let want = expected.to_spki_der()?;
            if !crate::crypto::ct_eq(&want, &self.public_key) {
                return Err(CheckpointError::SignatureInvalid(
                    "it was signed by another key than the platform key given".into(),
                ));
            }
        }
        let text = Self::signed_text(&self.system_code, self.seq, &self.hash, self.signed_at);
        provider
            .verify(
                &key,
                &SignatureScheme::default_for(key.algorithm()),
                text.as_bytes(),
                &self.signature,
            )
            .map_err(|_| {
                CheckpointError::SignatureInvalid(
                    "the signature does not verify over its seq, hash and time".into(),
                )
            })?;
        Ok(key)
    }
}

fn check_hash(hash: &str) -> Result<(), CheckpointError> {
    let ok = hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CheckpointError::Malformed(
            "its hash must be 64 lower-case hex digits".into(),
        ))
    }
}

/// Checks a log against a checkpoint whose signature was verified: the chain must hold
/// ([`verify_audit`]), the log must be at least as long as the checkpoint (else its newest
/// entries were deleted), and its entry at the checkpoint's `seq` must have the signed hash
/// (else the chain was rebuilt). Returns the number of entries. Either failure is
/// `AUDIT_BROKEN`, naming the first entry that is missing or differs.
pub fn verify_audit_against(
    entries: &[AuditEntry],
    checkpoint: &AuditCheckpoint,
) -> Result<u64, StoreError> {
    let n = verify_audit(entries)?;
    if n < checkpoint.seq {
        return Err(StoreError::AuditBroken {
            seq: n + 1,
            problem: format!(
                "is missing: the checkpoint signed at {} names {} entries, the log has {n} \
                 (its newest entries were deleted)",
                checkpoint.signed_at, checkpoint.seq
            ),
        });
    }
    let at_checkpoint = match checkpoint.seq {
        0 => AUDIT_GENESIS,
        seq => usize::try_from(seq - 1)
            .ok()
            .and_then(|i| entries.get(i))
            .map(|e| e.hash.as_str())
            .unwrap_or(""),
    };
    if at_checkpoint != checkpoint.hash {
        return Err(StoreError::AuditBroken {
            seq: checkpoint.seq,
            problem: format!(
                "differs from the checkpoint signed at {}: the chain was rewritten after it \
                 (hash {} there, {} signed)",
                checkpoint.signed_at,
                short(at_checkpoint),
                short(&checkpoint.hash)
            ),
        });
    }
    Ok(n)
}

fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

#[cfg(test)]
#[path = "checkpoint_tests.rs"]
mod tests;
