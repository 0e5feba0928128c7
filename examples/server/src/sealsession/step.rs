//! The steps of a seal session: the holder's seals, a placement (a step for the phone), and
//! how a step's answer becomes a seal in the document ([`advance`]).

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes as BodyBytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use camr::ceremony::SealSession;
use camr::pki::Certificate;
use camr::protocol::{
    Bytes, ErrorCode, SealInfo, SealKind, SignFormat, SignItem, SubjectType, Tid, TransactionState,
};
use camr::seal::flow::{AppliedSeal, FlowStep, OfferedSeal, PreparedRef, SealFlow};
use camr::seal::{self, Placement, SealOptions};

use super::{
    Flow, MAX_SEALS, PT_PER_MM, PlaceIn, PlacedOut, SealOut, Sessions, Shared, authorised,
};
use crate::AppState;
use crate::api::{ApiError, json_body, ok, parse_tid};
use crate::owner::set_owner_cookie;
use crate::pdfseal::blocking;

/// Moves the step in progress on: a verified answer becomes a seal in the document (checked
/// with `camr::seal::verify` first); a refusal, an expiry or a bad signature ends the step
/// with `last_error`. Returns whether the session changed.
pub(super) async fn advance(
    s: &AppState,
    sessions: &Sessions,
    tid: &Tid,
    session: &mut SealFlow,
) -> Result<bool, ApiError> {
    let Some(step) = &session.step else {
        return Ok(false);
    };
    let tx = s.platform.status(&step.tid).await?;
    match tx.state {
        TransactionState::Created | TransactionState::Scanned | TransactionState::Approved => {
            return Ok(false);
        }
        TransactionState::Verified => {}
        other => {
            let why = match other {
                TransactionState::Rejected => format!(
                    "the phone refused the seal: {}",
                    tx.message.unwrap_or_default()
                ),
                TransactionState::Expired => "the step expired before the phone signed".into(),
                _ => format!("the step ended {other:?}"),
            };
            session.last_error = Some(why);
            session.step = None;
            return Ok(true);
        }
    }
    let Some(step) = session.step.take() else {
        return Ok(false);
    };
    match sealed_by(s, sessions, tid, &step).await? {
        Ok(document) => {
            session.document = document;
            session.last_error = None;
            session.applied.push(AppliedSeal {
                seal_code: step.seal.code.clone(),
                kind: step.seal.kind,
                field_name: step.prepared.field_name.clone(),
                pages: step.pages.clone(),
                tid: step.tid.to_string(),
            });
            tracing::info!(tid = %step.tid, kind = step.seal.kind.as_str(), "seal applied in session");
        }
        Err(why) => session.last_error = Some(why),
    }
    Ok(true)
}

/// The document with the verified step's signature embedded (its blob), or why not.
async fn sealed_by(
    s: &AppState,
    sessions: &Sessions,
    tid: &Tid,
    step: &FlowStep,
) -> Result<Result<String, String>, ApiError> {
    let result = match s.platform.finish_sign(&step.tid).await {
        Ok(r) => r,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let parse = |der: &Bytes| Certificate::from_der(der).map_err(ApiError::internal);
    let cert = parse(&result.certificate)?;
    let chain = result
        .chain
        .iter()
        .map(parse)
        .collect::<Result<Vec<_>, _>>()?;
    let Some(signature) = result.signed.into_iter().next().map(|i| i.signature.0) else {
        return Ok(Err(result
            .rejected
            .first()
            .map(|r| format!("the phone refused the seal: {}", r.reason))
            .unwrap_or_else(|| "the answer signed nothing".into())));
    };
    let prepared = step
        .prepared
        .load(&sessions.blobs, tid.as_str())
        .await
        .map_err(ApiError::from)?;
    let (provider, validator) = (s.platform.provider().clone(), s.validator.clone());
    let sealed = blocking(move || {
        crate::pdfseal::embed_checked(
            provider.as_ref(),
            &validator,
            prepared,
            &cert,
            &chain,
            signature,
        )
    })
    .await;
    match sealed {
        Ok(bytes) => Ok(Ok(sessions
            .blobs
            .put(tid.as_str(), &bytes)
            .await
            .map_err(ApiError::from)?)),
        Err(e) => Ok(Err(e.msg)),
    }
}

/// The holder's seals: from the CA's adapter; when the CA offers none (no adapter for the
/// vendor, or it does not list seals), one default seal the platform draws for the
/// certificate (公章 style for an organisation, 人名章 for a person).
async fn seals_of(s: &Arc<AppState>, auth: &SealSession) -> Result<Vec<OfferedSeal>, ApiError> {
    let listed = match s.plugins.clone() {
        None => None,
        Some(host) => {
            let (ca, subject) = (auth.ca_org_type.clone(), auth.subject.clone());
            let r = tokio::task::spawn_blocking(move || host.list_seals(&ca, &subject))
                .await
                .map_err(ApiError::internal)?;
            match r {
                Ok(list) => Some(list),
                Err(e) if e.code() == ErrorCode::AdapterUnavailable => None,
                Err(e) => return Err(ApiError::new(e.code(), e.to_string())),
            }
        }
    };
    let offered = |seal, source: &str| OfferedSeal {
        seal,
        source: source.into(),
    };
    if let Some(list) = listed.filter(|l| !l.is_empty()) {
        return Ok(list.into_iter().map(|x| offered(x, "ca")).collect());
    }
    let org = auth.subject.subject_type == SubjectType::Org;
    let holder = if org {
        auth.subject
            .organization
            .clone()
            .unwrap_or_else(|| auth.subject.name.clone())
    } else {
        auth.subject.name.clone()
    };
    let kind = if org {
        SealKind::Official
    } else {
        SealKind::PersonalName
    };
    let image = blocking(move || seal::appearance::seal_png(kind, &holder, 256)).await?;
    let seal = SealInfo {
        code: format!("PLATFORM-{}", kind.as_str()),
        kind,
        name: format!("{} (platform default)", kind.label_zh()),
        image: Bytes(image),
        width_mm: 40,
        height_mm: 40,
        cert_sn: auth.subject.cert_sn.clone(),
    };
    Ok(vec![offered(seal, "platform")])
}

/// The session's seals, listed once and kept with it (`flow` is then written back; after
/// another instance's write it is read again).
async fn offered(
    s: &Arc<AppState>,
    sessions: &Sessions,
    tid: &Tid,
    flow: &mut Flow,
    auth: &SealSession,
) -> Result<Vec<OfferedSeal>, ApiError> {
    if let Some(list) = &flow.value.seals {
        return Ok(list.clone());
    }
    let list = seals_of(s, auth).await?;
    flow.value.seals = Some(list.clone());
    match sessions.save(tid, flow).await {
        Ok(()) => {}
        // Another instance listed them (or moved the session on) at the same moment: fine,
        // continue from what it stored.
        Err(camr::store::StoreError::Conflict(_)) => *flow = sessions.advanced(s, tid).await?,
        Err(e) => return Err(e.into()),
    }
    Ok(list)
}

pub(super) async fn seals(
    State(s): Shared,
    Extension(sessions): Extension<Arc<Sessions>>,
    Path(tid): Path<String>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    // A tid that is no seal session is `TX_NOT_FOUND`, before anything else.
    let mut flow = sessions.advanced(&s, &tid).await?;
    let auth = authorised(&s, &tid).await?;
    let list = offered(&s, &sessions, &tid, &mut flow, &auth).await?;
    Ok(ok(list
        .into_iter()
        .map(|o| SealOut {
            kind_label: o.seal.kind.label_zh().to_string(),
            width_pt: o.seal.width_mm as f32 * PT_PER_MM,
            height_pt: o.seal.height_mm as f32 * PT_PER_MM,
            source: o.source,
            seal: o.seal,
        })
        .collect::<Vec<_>>()))
}

/// Whether a new seal may be placed now.
fn check_placeable(session: &SealFlow) -> Result<(), ApiError> {
    if session.finished {
        return Err(ApiError::new(
            ErrorCode::TxAlreadyAnswered,
            "this seal session is finished (完成签章)",
        ));
    }
    if let Some(step) = &session.step {
        return Err(ApiError::new(
            ErrorCode::TxPending,
            format!(
                "the phone is still signing the previous seal ({}); wait for 签章成功",
                step.tid
            ),
        ));
    }
    if session.applied.len() >= MAX_SEALS {
        return Err(ApiError::malformed(format!(
            "a session places at most {MAX_SEALS} seals"
        )));
    }
    Ok(())
}

/// The pages a placement names.
fn pages_of(input: &PlaceIn, session: &SealFlow) -> Result<Vec<u32>, ApiError> {
    if input.every_page {
        Ok(session.pages.iter().map(|p| p.number).collect())
    } else if input.pages.is_empty() {
        Err(ApiError::malformed(
            "say where the seal goes: `pages` (one or more) or `everyPage`",
        ))
    } else {
        Ok(input.pages.clone())
    }
}

pub(super) async fn place(
    State(s): Shared,
    Extension(sessions): Extension<Arc<Sessions>>,
    Path(tid): Path<String>,
    headers: HeaderMap,
    body: Result<BodyBytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let input: PlaceIn = json_body(&headers, body)?;
    let mut flow = sessions.advanced(&s, &tid).await?;
    check_placeable(&flow.value)?;
    let auth = authorised(&s, &tid).await?;
    let seals = offered(&s, &sessions, &tid, &mut flow, &auth).await?;
    // Listing the seals may have read another instance's newer state.
    check_placeable(&flow.value)?;
    let seal_info = seals
        .into_iter()
        .map(|o| o.seal)
        .find(|x| x.code == input.seal_code)
        .ok_or_else(|| {
            ApiError::malformed(format!(
                "`{}` is not one of the holder's seals",
                input.seal_code.chars().take(64).collect::<String>()
            ))
        })?;
    let pages = pages_of(&input, &flow.value)?;
    let (w, h) = (
        seal_info.width_mm as f32 * PT_PER_MM,
        seal_info.height_mm as f32 * PT_PER_MM,
    );
    let mut options = SealOptions::new(Placement::Pages {
        pages: pages.clone(),
        rect: [input.x, input.y, w, h],
    });
    options.reason = Some(format!("签章 {}", seal_info.kind.label_zh()));
    options.image =
        Some(seal::appearance::SealImage::from_png(&seal_info.image).map_err(ApiError::from)?);
    let provider = s.platform.provider().clone();
    let doc = sessions.document(&tid, &flow.value).await?;
    let key = auth.key_algorithm;
    let prepared = blocking(move || seal::prepare(provider.as_ref(), &doc, key, &options)).await?;
    let item = SignItem {
        format: SignFormat::CadesAttributes,
        ..SignItem::hash(
            "pdf",
            &format!("{} · {}", flow.value.name, seal_info.kind.label_zh()),
            prepared.digest.clone(),
            prepared.hash,
        )
    };
    let prepared = PreparedRef::store(&sessions.blobs, tid.as_str(), &prepared)
        .await
        .map_err(ApiError::from)?;
    let started = s.platform.start_session_sign(&tid, vec![item]).await?;
    let step_tid = started.transaction.tid.clone();
    let out = PlacedOut {
        tid: step_tid.to_string(),
        field_name: prepared.field_name.clone(),
        pages: pages.clone(),
    };
    flow.value.last_error = None;
    flow.value.step = Some(FlowStep {
        tid: step_tid.clone(),
        prepared,
        seal: seal_info,
        pages,
    });
    // Another instance placing a seal at the same moment: one placement wins, the other is
    // refused (its step transaction is never shown and expires).
    sessions.save(&tid, &mut flow).await?;
    // The session's owner owns its steps: the step's credential goes to the same browser.
    let token = started.owner.expose().to_string();
    let expires_at = started.transaction.expires_at;
    Ok(set_owner_cookie(
        &s,
        ok(out),
        &step_tid.to_string(),
        &token,
        expires_at,
    ))
}
