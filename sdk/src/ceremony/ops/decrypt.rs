//! Decrypt (解密): a key for every item; only the keys as encrypted to the per-transaction
//! platform key are kept, opened once in `finish_decrypt`. Who may answer a decrypt is the
//! policy's check (`check_decrypt_answerer`).

use super::super::checks::Checked;
use super::super::{CResult, CeremonyError};
use super::{Outcome, stored};
use crate::protocol::EncryptedKeyItem;

pub(super) fn verify(c: &Checked<'_>, items: &[EncryptedKeyItem]) -> CResult<Outcome> {
    let keys = &c.evidence.decrypted_keys;
    if let Some(item) = items
        .iter()
        .find(|item| !keys.iter().any(|k| k.item_id == item.id))
    {
        return Err(CeremonyError::Incomplete(format!(
            "no key for item `{}`",
            item.id
        )));
    }
    stored(keys, true)
}
