//! Seal revocation (撤章): the consent, and the revocation's own items (for a PDF, the
//! revision that records it) signed whole. Whether the revoker may revoke that seal is the
//! platform's check on the result (`camr::seal::may_revoke`).

use super::super::checks::Checked;
use super::super::{CResult, Platform, RevokeResult};
use super::sign::sign_items;
use super::{Outcome, stored};
use crate::protocol::SignItem;

pub(super) fn verify(
    p: &Platform,
    c: &Checked<'_>,
    seal_id: &str,
    items: &[SignItem],
) -> CResult<Outcome> {
    let (signed, _) = sign_items(p, c, items, false)?;
    stored(
        RevokeResult {
            tid: c.tid.clone(),
            subject: c.subject.clone(),
            seal_id: seal_id.to_string(),
            certificate: c.certificate(),
            chain: c.chain_der.clone(),
            signed,
            verified_at: c.now,
        },
        true,
    )
}
