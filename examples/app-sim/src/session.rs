//! The phone's wait in a seal session (手机等待画面).

use super::*;

/// The phone's wait in a seal session (手机等待画面): polls the platform's wait URI and signs
/// each seal the user places on the PC page with the certificate that authorised the session
/// (no second PIN: the session is the authorisation), until the user finishes (完成签章) or
/// the session ends. Returns the number of seals signed.
/// What the waiting phone answers with in a seal session.
pub(crate) struct SessionPhone<'a> {
    pub(crate) app: &'a App,
    pub(crate) transport: &'a HttpTransport,
    pub(crate) profile: &'a dyn camr::qr::QrProfile,
    pub(crate) wallet: &'a camr::app::Wallet,
    pub(crate) key: &'a PublicKey,
    pub(crate) vendor_answer: &'a dyn Fn(Response) -> Result<Response, SimError>,
}

pub(crate) fn wait_in_session(
    phone: &SessionPhone<'_>,
    session: &RequestObject,
    ui: &mut dyn Ui,
) -> Result<u32, SimError> {
    let OperationPayload::SealSession { wait_uri, .. } = &session.payload else {
        return Ok(0);
    };
    // The wait goes to the platform that answered, nowhere else.
    if origin_of(wait_uri)? != origin_of(&session.response_uri)? {
        return Err(SimError::new(
            ErrorCode::PlatformUnknown,
            format!("the session's wait URI {wait_uri} is not on the platform"),
        ));
    }
    ui.say("等待中 Waiting: place your seal on the PC page (不要退出等待画面)…");
    let mut signed = 0u32;
    let mut shown = 0u32;
    loop {
        let now = camr::qr::unix_now();
        let (step, request) = phone
            .app
            .session_step(phone.transport, session, phone.wallet, phone.key, now)
            .map_err(|e| match e {
                AppError::Platform {
                    code: ErrorCode::TxExpired,
                    msg,
                } => SimError::new(
                    ErrorCode::TxExpired,
                    format!(
                        "签章会话已超时 the seal session timed out while the phone waited: {msg}"
                    ),
                ),
                other => other.into(),
            })?;
        let sealed_now = match &step {
            SessionStep::Wait { sealed, .. }
            | SessionStep::Sign { sealed, .. }
            | SessionStep::Done { sealed } => *sealed,
        };
        if sealed_now > shown {
            ui.say(&format!("签章成功 Sealed ({sealed_now} in this session)"));
            shown = sealed_now;
        }
        match (step, request) {
            (SessionStep::Done { sealed }, _) => {
                ui.say(&format!("签章完成 Session finished: {sealed} seal(s)"));
                return Ok(signed);
            }
            (
                SessionStep::Sign {
                    request: signed_request,
                    ..
                },
                Some(request),
            ) => {
                for line in describe(&request, now).into_iter().skip(5) {
                    ui.say(&line);
                }
                let response = (phone.vendor_answer)(phone.app.approve(
                    phone.wallet,
                    &signed_request,
                    &request,
                    &[],
                )?)?;
                let state = phone
                    .app
                    .post_response_via(phone.profile, phone.transport, &request, &response)?
                    .get("state")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string();
                ui.say(&format!(
                    "签章 Signed the placed seal → the platform says `{state}`"
                ));
                signed += 1;
            }
            (SessionStep::Wait { retry_after_ms, .. }, _) => {
                std::thread::sleep(std::time::Duration::from_millis(u64::from(
                    retry_after_ms.clamp(100, 5_000),
                )));
            }
            (SessionStep::Sign { .. }, None) => {
                return Err(SimError::new(
                    ErrorCode::Internal,
                    "a signing step came without its checked request",
                ));
            }
        }
    }
}
