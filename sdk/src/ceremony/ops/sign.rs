//! Signature (签章, one hash or a batch): each item signed over its hash, or over the CAdES
//! signed attributes rebuilt here from the hash and the certificate; a batch may refuse
//! single items (批量拒签). [`sign_items`] also serves a revocation's own items.

use super::super::checks::Checked;
use super::super::results::item_outcomes;
use super::super::{CResult, CeremonyError, Platform, SignResult, SignedItem};
use super::{Outcome, stored};
use crate::protocol::{Bytes, ItemRejection, SignFormat, SignItem};

pub(super) fn verify(p: &Platform, c: &Checked<'_>, items: &[SignItem]) -> CResult<Outcome> {
    let (signed, rejected) = sign_items(p, c, items, true)?;
    let outcomes = item_outcomes(items, &rejected);
    stored(
        SignResult {
            tid: c.tid.clone(),
            subject: c.subject.clone(),
            certificate: c.certificate(),
            chain: c.chain_der.clone(),
            signed,
            rejected,
            items: outcomes,
            verified_at: c.now,
        },
        true,
    )
}

/// The signed items of `items` and the refused ones; `allow_rejections`: whether a refused
/// item is accepted (a batch) or refuses the answer (a revocation is signed whole).
pub(super) fn sign_items(
    p: &Platform,
    c: &Checked<'_>,
    items: &[SignItem],
    allow_rejections: bool,
) -> CResult<(Vec<SignedItem>, Vec<ItemRejection>)> {
    let refusals = &c.evidence.item_rejections;
    // 拒签 records a reason, and only for items of this request.
    for rej in refusals {
        if !items.iter().any(|i| i.id == rej.item_id) || rej.reason.trim().is_empty() {
            return Err(CeremonyError::Incomplete(format!(
                "the refusal of item `{}` must name an item of this request and give a reason",
                crate::crypto::truncate(&rej.item_id, 40)
            )));
        }
    }
    let mut signed = Vec::new();
    let mut rejected = Vec::new();
    for item in items {
        if let Some(rej) = refusals.iter().find(|x| x.item_id == item.id) {
            if !allow_rejections {
                return Err(CeremonyError::Incomplete(format!(
                    "item `{}` was refused; a revocation is signed whole or rejected",
                    item.id
                )));
            }
            rejected.push(rej.clone());
            continue;
        }
        signed.push(sign_item(p, c, item)?);
    }
    Ok((signed, rejected))
}

fn sign_item(p: &Platform, c: &Checked<'_>, item: &SignItem) -> CResult<SignedItem> {
    let (message, attrs) = match item.format {
        SignFormat::Hash => (item.hash.0.clone(), None),
        SignFormat::CadesAttributes => {
            let attrs = crate::envelope::cades_signed_attributes(
                p.provider.as_ref(),
                &item.hash,
                item.hash_algorithm,
                &c.leaf,
            )
            .map_err(|e| CeremonyError::Incomplete(format!("item `{}`: {e}", item.id)))?;
            (attrs.clone(), Some(Bytes(attrs)))
        }
    };
    let signature = c.verify(p, &item.id, &message)?;
    Ok(SignedItem {
        item: item.clone(),
        signature: Bytes(signature),
        signed_attributes: attrs,
    })
}
