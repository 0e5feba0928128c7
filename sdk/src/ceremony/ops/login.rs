//! Login (注册登录): the binding signature is the proof; shared registration data (共享注册)
//! only when the login asked for it, signed by the holder with the answer.

use super::super::checks::Checked;
use super::super::{CResult, CeremonyError, LoginResult, Platform, REGISTRATION_ITEM};
use super::{Outcome, stored};
use crate::protocol::binding::registration_message;

pub(super) fn verify(p: &Platform, c: &Checked<'_>, share_registration: bool) -> CResult<Outcome> {
    let r = c.response;
    if let Some(data) = &r.registration {
        if !share_registration {
            return Err(CeremonyError::Incomplete(
                "the answer shares registration data, but this login did not ask for it".into(),
            ));
        }
        data.check()
            .map_err(|e| CeremonyError::Incomplete(e.to_string()))?;
        let message = registration_message(&c.rec.request_hash, data)
            .map_err(|e| CeremonyError::Incomplete(e.to_string()))?;
        c.verify(p, REGISTRATION_ITEM, &message)?;
    }
    stored(
        LoginResult {
            tid: c.tid.clone(),
            subject: c.subject.clone(),
            certificate: c.certificate(),
            ca_org_type: r.ca_org_type.clone(),
            revocation_checked: c.chain.revocation_checked,
            revocation: None,
            verified_at: c.now,
            registration: r.registration.clone(),
        },
        true,
    )
}
