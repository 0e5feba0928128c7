//! Interactive seal sessions (签章会话), as NETCA's app runs them: "此时手机出现等待画面，同时在
//! 签章页面选择印章进行确认，拖动印章到指定位置" — the phone authorises once, then waits while
//! the user picks seals and drags them into place on the PC page; each placement is signed by
//! the waiting phone; several seals go into one session (连续签章).
//!
//! In protocol terms a session is one transaction plus one per placement:
//!
//! 1. [`Platform::start_seal_session`] — a [`Operation::Signature`] transaction whose payload is
//!    [`OperationPayload::SealSession`] (document name, hash, pages, where the app waits). The
//!    app answers it like a login: certificate chain and the binding signature. The verified
//!    result is a [`SealSession`]: who authorised, with which certificate, until when.
//! 2. For each placement the platform prepares the PDF revision (the seal image and position
//!    are inside the signed byte range, so the choice comes first) and calls
//!    [`Platform::start_session_sign`]: an ordinary signature transaction bound to the session
//!    ([`RequestObject::session`], the SHA-256 of the session's certificate). The waiting app
//!    gets it as a [`crate::protocol::SessionStep::Sign`] and answers it; the core refuses an
//!    answer from any other certificate with `SESSION_MISMATCH`.
//!
//! The session lives [`Platform::with_seal_session_ttl`] seconds (default
//! [`DEFAULT_SEAL_SESSION_TTL`]) from its start: minutes, because people drag seals. Each
//! placement expires with the session.
//!
//! [`RequestObject::session`]: crate::protocol::RequestObject::session

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::results::check_items;
use super::{CResult, CeremonyError, Platform, Started};
use crate::crypto::{HashAlgorithm, PublicKeyAlgorithm};
use crate::pki::Subject;
use crate::protocol::{
    Bytes, Operation, OperationPayload, SessionBinding, SignItem, Tid, TransactionState,
};

/// Default lifetime of a seal session: 15 minutes.
pub const DEFAULT_SEAL_SESSION_TTL: i64 = 900;

/// An authorised seal session (签章会话): the verified result of the session's transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SealSession {
    /// The session's transaction.
    pub tid: Tid,
    /// Who authorised it.
    pub subject: Subject,
    /// The certificate that authorised it (DER): every seal of the session is signed with it.
    pub certificate: Bytes,
    /// The intermediates the app sent with it (validated), DER.
    #[serde(default)]
    pub chain: Vec<Bytes>,
    /// The CA vendor (`caOrgType`) of the app that answered.
    pub ca_org_type: String,
    /// The key algorithm of the certificate (which hash the PDF revisions use).
    pub key_algorithm: PublicKeyAlgorithm,
    /// The document, as the app was shown it.
    pub document_name: String,
    /// SHA-256 of the document as uploaded.
    pub document_hash: Bytes,
    /// Its number of pages.
    pub pages: u32,
    /// When the app authorised the session (Unix seconds).
    pub authorised_at: i64,
    /// When the session ends (Unix seconds).
    pub expires_at: i64,
}

impl Platform {
    /// Sets how long a seal session lives, from its start (seconds, at least 1).
    pub fn with_seal_session_ttl(mut self, secs: u32) -> Self {
        self.seal_session_ttl = i64::from(secs.max(1));
        self
    }

    /// Starts an interactive seal session (签章会话) over a document: the QR the user scans.
    /// `document_hash` is the SHA-256 of the document (32 bytes); `wait_uri` is where the
    /// app waits for the session's steps (`GET {wait_uri}?tid=`).
    pub async fn start_seal_session(
        &self,
        document_name: &str,
        document_hash: &[u8],
        pages: u32,
        wait_uri: &str,
    ) -> CResult<Started> {
        if document_name.trim().is_empty() || document_name.chars().count() > 256 {
            return Err(CeremonyError::Misuse(
                "a seal session needs a document name of 1 to 256 characters".into(),
            ));
        }
        if document_hash.len() != 32 || pages == 0 || wait_uri.is_empty() {
            return Err(CeremonyError::Misuse(
                "a seal session needs the document's SHA-256, at least one page and a wait URI"
                    .into(),
            ));
        }
        let expires_at = self.now() + self.seal_session_ttl;
        self.start_bound(
            Operation::Signature,
            OperationPayload::SealSession {
                document_name: document_name.into(),
                document_hash: Bytes(document_hash.to_vec()),
                pages,
                wait_uri: wait_uri.into(),
            },
            None,
            None,
            expires_at,
        )
        .await
    }

    /// The authorised session: `TX_PENDING` while the app has not authorised it, `TX_EXPIRED`
    /// once it ended, `TX_REJECTED` when the user said no.
    pub async fn seal_session(&self, tid: &Tid) -> CResult<SealSession> {
        let rec = self.live_record(tid).await?;
        let request = rec
            .request
            .request_object()
            .map_err(|e| CeremonyError::Misuse(e.to_string()))?;
        if !matches!(request.payload, OperationPayload::SealSession { .. }) {
            return Err(CeremonyError::Misuse(format!(
                "transaction {tid} is not a seal session"
            )));
        }
        let (_, session): (_, SealSession) =
            self.verified_result(tid, Operation::Signature).await?;
        if self.now() > session.expires_at {
            return Err(CeremonyError::Expired {
                tid: tid.to_string(),
                expires_at: session.expires_at,
            });
        }
        Ok(session)
    }

    /// Starts one step of an authorised seal session: a signature request over `items`
    /// (usually one CAdES item from `camr::seal::prepare`) that only the session's
    /// certificate may answer; it expires with the session. Finish it with
    /// [`Platform::finish_sign`].
    pub async fn start_session_sign(
        &self,
        session: &Tid,
        items: Vec<SignItem>,
    ) -> CResult<Started> {
        let s = match self.seal_session(session).await {
            Ok(s) => s,
            Err(CeremonyError::Pending { state, .. }) => {
                return Err(CeremonyError::SessionMismatch(format!(
                    "session {session} is not authorised yet (it is {})",
                    state_name(state)
                )));
            }
            Err(e) => return Err(e),
        };
        if items.is_empty() || items.len() > 64 {
            return Err(CeremonyError::Misuse(
                "a session step signs 1 to 64 items".into(),
            ));
        }
        check_items(&items)?;
        let binding = SessionBinding {
            tid: session.clone(),
            certificate_sha256: Bytes(
                self.provider
                    .digest(HashAlgorithm::Sha256, &s.certificate.0),
            ),
        };
        self.start_bound(
            Operation::Signature,
            OperationPayload::Signature { items },
            None,
            Some(binding),
            s.expires_at,
        )
        .await
    }
}

fn state_name(state: TransactionState) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{state:?}"))
}
