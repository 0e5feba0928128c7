//! The authorisation of a seal session (签章会话): it signs nothing but the binding; its
//! seals are counted as they are signed, one usage record each, so it counts no use.

use super::super::checks::Checked;
use super::super::{CResult, CeremonyError, SealSession};
use super::{Outcome, stored};
use crate::protocol::OperationPayload;

pub(super) fn verify(c: &Checked<'_>, payload: &OperationPayload) -> CResult<Outcome> {
    let OperationPayload::SealSession {
        document_name,
        document_hash,
        pages,
        ..
    } = payload
    else {
        return Err(CeremonyError::Misuse("not a seal session".into()));
    };
    stored(
        SealSession {
            tid: c.tid.clone(),
            subject: c.subject.clone(),
            certificate: c.certificate(),
            chain: c.chain_der.clone(),
            ca_org_type: c.response.ca_org_type.clone(),
            key_algorithm: c.key.algorithm(),
            document_name: document_name.clone(),
            document_hash: document_hash.clone(),
            pages: *pages,
            authorised_at: c.now,
            expires_at: c.rec.transaction.expires_at,
        },
        false,
    )
}
