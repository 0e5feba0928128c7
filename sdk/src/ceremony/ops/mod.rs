//! Each operation's own check of an answer that passed the shared ones
//! ([`super::checks`]): one verifier per operation, each returning the result to store and
//! whether the answer counts as a use (per-use billing).

use crate::protocol::{Operation, OperationPayload};

use super::checks::Checked;
use super::{CResult, CeremonyError, Platform};

mod decrypt;
mod encrypt;
mod login;
mod message;
mod revoke;
mod seal_session;
mod sign;

/// The result of an operation's check: the value stored with the transaction, and whether
/// the answer is counted as one use (a seal session's authorisation is not: its seals are).
pub(super) type Outcome = (serde_json::Value, bool);

/// The check of the answer's operation.
pub(super) fn verify(p: &Platform, c: &Checked<'_>) -> CResult<Outcome> {
    match (&c.request.payload, c.rec.transaction.operation) {
        (OperationPayload::Login { share_registration }, Operation::Login) => {
            login::verify(p, c, *share_registration)
        }
        (OperationPayload::MessageSignature { message }, Operation::MessageSignature) => {
            message::verify(p, c, message)
        }
        (OperationPayload::Signature { items }, Operation::Signature) => sign::verify(p, c, items),
        (OperationPayload::RevokeSignature { seal_id, items, .. }, Operation::RevokeSignature) => {
            revoke::verify(p, c, seal_id, items)
        }
        (payload @ OperationPayload::SealSession { .. }, Operation::Signature) => {
            seal_session::verify(c, payload)
        }
        (OperationPayload::Encrypt {}, Operation::Encrypt) => encrypt::verify(p, c),
        (OperationPayload::Decrypt { items, .. }, Operation::Decrypt) => decrypt::verify(c, items),
        _ => Err(CeremonyError::Misuse(
            "the request object does not fit the operation".into(),
        )),
    }
}

/// A result as the JSON value stored with the transaction.
fn stored<T: serde::Serialize>(result: T, counts: bool) -> CResult<Outcome> {
    serde_json::to_value(result)
        .map(|v| (v, counts))
        .map_err(|e| CeremonyError::Misuse(e.to_string()))
}
