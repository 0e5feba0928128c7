//! Entitlement and delegation scope on the reference server (see
//! [`camr::ceremony::scope`]).
//!
//! - Which certificates the platform accepts: the configuration keys `entitlement.vendors`
//!   and `entitlement.require` ([`crate::config`]); a key left unset comes from this
//!   platform's entry in the configured trust list. The vendors' roots (the demo CA as
//!   [`DEMO_VENDOR`], and the trust list's vendors) let the core refuse an answer whose
//!   `caOrgType` is not the vendor its chain ends at.
//! - `POST /api/v1/admin/delegations/withdraw` (`Authorization: Bearer <admin token>`):
//!   withdraw (收回) a delegation (证书授权) — by its id, or the signed delegation itself;
//!   answers under it are refused with `DELEGATION_OUT_OF_SCOPE` from then on. The
//!   withdrawal is an entry in the store's hash-chained audit log, so every instance sees it.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use camr::ceremony::Entitlement;
use camr::protocol::{Operation, SubjectType, SystemCode};
use camr::registry::{Registry, Requirement};
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, json_body, ok};
use crate::{AppState, ServerConfig, ServerError};

/// The demo CA's vendor code (`caOrgType`).
pub const DEMO_VENDOR: &str = "SOFTCA";

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/api/v1/admin/delegations/withdraw", post(withdraw))
}

/// `entitlement.vendors`: non-empty vendor codes.
pub(crate) fn vendors_setting(list: Vec<String>) -> Result<Vec<String>, String> {
    for v in &list {
        if v.is_empty() || v.len() > 64 || !v.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "`{}` is not a CA vendor code (caOrgType)",
                v.chars().take(60).collect::<String>()
            ));
        }
    }
    Ok(list)
}

/// `entitlement.require`: operation → `personal` or `org`.
pub(crate) fn require_setting(pairs: Vec<(String, String)>) -> Result<Vec<Requirement>, String> {
    let mut out: Vec<Requirement> = Vec::new();
    for (op, subject) in pairs {
        let operation: Operation = op.parse().map_err(|_| {
            format!(
                "`{}` is not an operation (login, messageSignature, signature, revokeSignature, encrypt, decrypt)",
                op.chars().take(40).collect::<String>()
            )
        })?;
        let subject_type = match subject.as_str() {
            "personal" => SubjectType::Personal,
            "org" => SubjectType::Org,
            other => {
                return Err(format!(
                    "{op}: must be \"personal\" or \"org\", not `{}`",
                    other.chars().take(40).collect::<String>()
                ));
            }
        };
        if out.iter().any(|r| r.operation == operation) {
            return Err(format!("{op} is given twice"));
        }
        out.push(Requirement {
            operation,
            subject_type,
        });
    }
    Ok(out)
}

/// The platform's entitlement: this platform's trust-list entry (when a trust list is
/// configured and names it), the configured keys over it, the demo CA's root as
/// [`DEMO_VENDOR`].
pub(crate) fn entitlement(
    config: &ServerConfig,
    registry: Option<&Registry>,
    system_code: &SystemCode,
    demo_root: &camr::pki::Certificate,
) -> Result<Entitlement, ServerError> {
    let mut e = match registry {
        Some(r) => match Entitlement::from_registry(r, system_code) {
            Ok(e) => e,
            // A list that does not name this platform still brings its vendors' roots.
            Err(_) => Entitlement {
                vendor_roots: Entitlement::roots_of(r),
                ..Entitlement::default()
            },
        },
        None => Entitlement::default(),
    };
    e.vendor_roots
        .entry(DEMO_VENDOR.to_string())
        .or_default()
        .push(demo_root.der().to_vec());
    if let Some(v) = &config.entitlement.vendors {
        e.accepted_vendors = v.clone();
    }
    if let Some(r) = &config.entitlement.require {
        e.requirements = r.clone();
    }
    if let Some(v) = &config.entitlement.platform_only {
        e.platform_only_vendors = v.clone();
    }
    if let Some(v) = &config.entitlement.delegated {
        e.delegated_vendors.extend(v.iter().cloned());
    }
    if !e.accepted_vendors.is_empty() || !e.requirements.is_empty() {
        tracing::info!(vendors = ?e.accepted_vendors, requirements = ?e.requirements, "entitlement");
    }
    Ok(e)
}

/// Body of `POST /api/v1/admin/delegations/withdraw`: the delegation's id or the signed
/// delegation, and why.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WithdrawBody {
    /// The delegation's id: lower-case hex SM3 of its signed text
    /// (`camr::app::delegation::id`).
    #[serde(default)]
    pub delegation_id: Option<String>,
    /// Or the signed delegation itself (`SignedDelegation`).
    #[serde(default)]
    pub delegation: Option<camr::app::SignedDelegation>,
    /// Why (recorded in the audit log).
    #[serde(default)]
    pub reason: Option<String>,
}

/// What the withdrawal answers.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawnOut {
    /// The delegation's id.
    pub delegation_id: String,
    /// Always true: answers under it are refused from now on.
    pub withdrawn: bool,
}

async fn withdraw(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    crate::ops::check_admin(&s, &headers)?;
    let b: WithdrawBody = json_body(&headers, body)?;
    let id = match (b.delegation_id, &b.delegation) {
        (Some(id), None) => id,
        (None, Some(d)) => camr::app::delegation::id(s.platform.provider().as_ref(), d),
        _ => {
            return Err(ApiError::new(
                camr::protocol::ErrorCode::InputMalformed,
                "give either `delegationId` or `delegation`",
            ));
        }
    };
    let reason = b.reason.unwrap_or_default();
    s.platform.withdraw_delegation(&id, &reason).await?;
    tracing::info!(delegation = %id, "delegation withdrawn (收回)");
    Ok(ok(WithdrawnOut {
        delegation_id: id,
        withdrawn: true,
    }))
}
