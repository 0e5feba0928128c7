//! Kit case: delegation out of scope (证书授权, GDCA's 数信签: an organisation certificate used
//! by a staff member for some operations only). The scope is the core's to check, whatever the
//! adapter does; the case shows that the adapter's decoding does not get in the way:
//!
//! * in scope — a staff member logs in under a delegation granting `login`
//!   (`App::approve_as_staff`), through the adapter: accepted;
//! * out of scope — under the same delegation, a signature answer (an app that answers anyway):
//!   refused with `DELEGATION_OUT_OF_SCOPE`;
//! * expired — a login under a delegation whose period has ended: refused the same way.
//!
//! Delegations are of organisation certificates; a kit wallet holding a personal one passes
//! as not applicable.

use camr::app::{Delegation, SignedDelegation};
use camr::protocol::{CertType, ErrorCode, Operation, SystemCode};

use super::{Kit, Which};

/// The platform the kit's world plays.
const SYSTEM_CODE: &str = "C1100005553";

fn grant(
    kit: &Kit<'_>,
    operations: Vec<Operation>,
    not_before: i64,
    not_after: i64,
) -> Result<SignedDelegation, String> {
    let d = Delegation {
        org_cert_sn: kit.world.wallet.sign_cert.serial_hex(),
        staff_name: "王五".into(),
        staff_id: Some("110101199001011234".into()),
        trading_systems: vec![SystemCode::parse(SYSTEM_CODE).map_err(|e| e.to_string())?],
        operations,
        not_before,
        not_after,
    };
    camr::app::delegation::issue(kit.world.provider.as_ref(), &kit.world.wallet, &d)
        .map_err(|e| format!("cannot sign the delegation: {e}"))
}

/// An answer to a fresh `op` transaction under `d`: by the app's staff flow when `staff`, else
/// as an app that attaches the delegation to an ordinary answer; the core's verdict.
fn answer(
    kit: &Kit<'_>,
    op: Operation,
    d: &SignedDelegation,
    staff: bool,
) -> Result<Result<(), ErrorCode>, String> {
    let s = kit.world.scan(Which::Normal, op)?;
    let wallet = &kit.world.wallet;
    let response = if staff {
        kit.world
            .app
            .approve_as_staff(wallet, d, &s.signed, &s.request, camr::qr::unix_now())
    } else {
        // The delegation and operator are inside the binding: the app signs it again after
        // attaching them, so the platform's scope check is what decides.
        let app = &kit.world.app;
        app.approve(wallet, &s.signed, &s.request, &[])
            .and_then(|mut r| {
                r.operator = Some("王五 (110101199001011234)".into());
                r.delegation = Some(d.clone());
                app.sign_binding(wallet, &mut r)?;
                Ok(r)
            })
    }
    .map_err(|e| format!("the app cannot answer: {e}"))?;
    let response = kit.through_adapter(op, response)?;
    Ok(kit
        .world
        .block_on(
            kit.world
                .platform(Which::Normal)
                .answer(&s.started.transaction.tid, &response),
        )
        .map(|_| ())
        .map_err(|e| e.code()))
}

/// The case.
pub(super) fn delegation_out_of_scope(kit: &Kit<'_>) -> Result<String, String> {
    if kit.world.wallet.sign_cert.cert_type() != CertType::OrgCert {
        return Ok(
            "not applicable: the kit's wallet holds a personal certificate (only organisation certificates are delegated)"
                .into(),
        );
    }
    let now = camr::qr::unix_now();
    let login_only = grant(kit, vec![Operation::Login], now - 60, now + 3600)?;
    answer(kit, Operation::Login, &login_only, true)?
        .map_err(|c| format!("a login in scope was refused with {}", c.as_str()))?;
    let refused = |what: &str, verdict: Result<(), ErrorCode>| match verdict {
        Err(ErrorCode::DelegationOutOfScope) => Ok(()),
        Ok(()) => Err(format!("{what} was ACCEPTED")),
        Err(c) => Err(format!(
            "{what} was refused with {} instead of DELEGATION_OUT_OF_SCOPE",
            c.as_str()
        )),
    };
    refused(
        "a signature under a login-only delegation",
        answer(kit, Operation::Signature, &login_only, false)?,
    )?;
    let expired = grant(kit, vec![Operation::Login], now - 7200, now - 3600)?;
    refused(
        "a login under an expired delegation",
        answer(kit, Operation::Login, &expired, false)?,
    )?;
    Ok("login in scope accepted; signature out of scope and an expired delegation refused: DELEGATION_OUT_OF_SCOPE".into())
}
