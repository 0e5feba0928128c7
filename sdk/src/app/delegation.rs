//! Delegation of an organisation certificate to a staff member (证书授权, as in the GDCA and
//! BJCA apps): the organisation's signing key signs who may use it, on which trading systems,
//! for which operations and for how long. The app uses an organisation certificate on a
//! staff member's behalf only under a delegation that covers the request; the answer names
//! the operator so the platform's usage records can carry it.

use super::{AppError, Wallet};
use crate::crypto::{CryptoProvider, SignatureScheme};
use crate::pki::Certificate;
use crate::protocol::{Bytes, Operation, SystemCode};

pub use crate::protocol::delegation::{Delegation, SignedDelegation, id};

/// The organisation (holder of `org_wallet`) signs a delegation.
pub fn issue(
    provider: &dyn CryptoProvider,
    org_wallet: &Wallet,
    delegation: &Delegation,
) -> Result<SignedDelegation, AppError> {
    if delegation.org_cert_sn != org_wallet.sign_cert.serial_hex() {
        return Err(AppError::Wallet(
            "the delegation names another certificate than this wallet's signing certificate"
                .into(),
        ));
    }
    let text = serde_json::to_string(delegation).map_err(|e| AppError::Wallet(e.to_string()))?;
    let signature = provider.sign(
        &org_wallet.sign_key,
        &SignatureScheme::default_for(org_wallet.sign_key.algorithm()),
        text.as_bytes(),
    )?;
    Ok(SignedDelegation {
        delegation: text,
        signature: Bytes(signature),
    })
}

/// Checks that `signed` was signed by `org_cert`'s key and covers `system_code`, `operation`
/// and time `now`; returns the delegation or [`AppError::OutOfScope`] saying what it lacks.
pub fn check(
    provider: &dyn CryptoProvider,
    org_cert: &Certificate,
    signed: &SignedDelegation,
    system_code: &SystemCode,
    operation: Operation,
    now: i64,
) -> Result<Delegation, AppError> {
    let out = |why: String| AppError::OutOfScope(why);
    let key = org_cert.public_key()?;
    provider
        .verify(
            &key,
            &SignatureScheme::default_for(key.algorithm()),
            signed.delegation.as_bytes(),
            &signed.signature,
        )
        .map_err(|_| out("it is not signed by this organisation certificate".into()))?;
    let d: Delegation = serde_json::from_str(&signed.delegation)
        .map_err(|e| out(format!("it is unreadable ({e})")))?;
    if !d.org_cert_sn.eq_ignore_ascii_case(&org_cert.serial_hex()) {
        return Err(out(format!(
            "it delegates certificate {}, not {}",
            d.org_cert_sn,
            org_cert.serial_hex()
        )));
    }
    if now < d.not_before || now > d.not_after {
        return Err(out(format!(
            "it is valid from {} to {} only",
            d.not_before, d.not_after
        )));
    }
    if !d.trading_systems.contains(system_code) {
        return Err(out(format!(
            "it does not cover trading system {system_code}"
        )));
    }
    if !d.operations.contains(&operation) {
        return Err(out(format!(
            "it does not cover the operation {operation} ({})",
            operation.chinese_name()
        )));
    }
    Ok(d)
}
