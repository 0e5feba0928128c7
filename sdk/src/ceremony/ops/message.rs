//! Message signature (消息签名): the app signs the message's bytes as shown.

use super::super::checks::Checked;
use super::super::{CResult, MESSAGE_ITEM, MessageSignatureResult, Platform};
use super::{Outcome, stored};
use crate::protocol::Bytes;

pub(super) fn verify(p: &Platform, c: &Checked<'_>, message: &str) -> CResult<Outcome> {
    let signature = c.verify(p, MESSAGE_ITEM, message.as_bytes())?;
    stored(
        MessageSignatureResult {
            tid: c.tid.clone(),
            subject: c.subject.clone(),
            certificate: c.certificate(),
            message: message.to_string(),
            signature: Bytes(signature),
            verified_at: c.now,
        },
        true,
    )
}
