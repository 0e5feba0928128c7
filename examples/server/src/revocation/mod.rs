//! Certificate status (证书状态: 正常、冻结、失效) after start-up, and signing-time validity
//! (不影响已使用的签章数据).
//!
//! | method and path | what |
//! |---|---|
//! | `POST /api/v1/admin/crls/reload` | re-read the CRLs: a fresh one from the demo CA (`<data>/ca`, as `camr ca revoke` left it) and every file in `<data>/crls/`; answers what is in use (`Authorization: Bearer <admin token>`) |
//! | `GET /api/v1/transactions/{tid}/verification` | re-verify the signatures a verified `signature`, `messageSignature` or `revokeSignature` transaction recorded, at the time the platform's audit log says it verified them |
//!
//! Live revocation ([`live`], `revocation.*`): every answer's chain is asked about at the
//! certificate's OCSP responder and CRL distribution point, then the configured CRLs, so a
//! freeze (CRL reason certificateHold), an unfreeze or a revocation at the CA counts on every
//! instance within the refresh interval. The configured CRLs (the demo CA's and
//! `<data>/crls/`) are kept until the next reload, the "now" button: a reload that cannot read
//! a CRL changes nothing; one that succeeds is an audit entry `crls-reloaded` (issuer,
//! thisUpdate, revoked and frozen counts).
//!
//! Signing-time validity: the platform's evidence of when a signature existed is its own
//! record — the transaction's result and the hash-chained audit entry `verified` of that tid
//! (the chain is checked before the entry is used). The chain is then validated at that time
//! with the CRLs known now ([`camr::pki::ChainValidator::validate_at_signing_time`]): a
//! revocation dated after it leaves the signature valid, one before it does not. PDF seals:
//! `GET /api/v1/pdf/{tid}/report` uses the record of its own transaction, `POST
//! /api/v1/pdf/verify?tid=…` the records named (see [`crate::pdfseal`]).

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use camr::ceremony::{MessageSignatureResult, RevokeResult, SignResult};
use camr::crypto::{CryptoProvider, SignatureScheme};
use camr::pki::{
    Certificate, Crl, KeyPurpose, RecordedSignature, Subject, TimeEvidence, ValidationTime,
};
use camr::protocol::{Bytes, ErrorCode, Operation, Tid, TransactionState};
use camr::softca::SoftCa;
use serde::Serialize;

use crate::api::{ApiError, ok, parse_tid};

pub mod live;
use crate::{AppState, ServerError};

type Shared = State<Arc<AppState>>;

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/admin/crls/reload", post(reload))
        .route("/api/v1/transactions/{tid}/verification", get(verification))
}

/// Where the server's CRLs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlSources {
    /// The demo CA's folder (`<data>/ca`): a fresh CRL is signed from its state.
    pub demo_ca: PathBuf,
    /// A folder of CRL files (`<data>/crls`, DER or PEM; `*.crl`, `*.der`, `*.pem`).
    pub dir: PathBuf,
}

impl CrlSources {
    /// The sources under the data folder.
    pub fn under(data: &FsPath) -> Self {
        Self {
            demo_ca: data.join("ca"),
            dir: data.join("crls"),
        }
    }

    /// Every CRL of the folder, with its file name. A file that is not a CRL is an error
    /// naming it.
    pub fn files(&self) -> Result<Vec<(String, Crl)>, ServerError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ServerError(format!("{}: {e}", self.dir.display()))),
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        let mut out = Vec::new();
        for path in paths {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !matches!(ext.as_str(), "crl" | "der" | "pem") {
                continue;
            }
            let data = std::fs::read(&path)
                .map_err(|e| ServerError(format!("{}: {e}", path.display())))?;
            let crl =
                Crl::parse(&data).map_err(|e| ServerError(format!("{}: {e}", path.display())))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push((name, crl));
        }
        Ok(out)
    }

    /// A fresh CRL of the demo CA (when its folder holds one) and the folder's CRLs.
    pub fn load(
        &self,
        provider: &Arc<dyn CryptoProvider>,
        now: i64,
    ) -> Result<Vec<(String, Crl)>, ServerError> {
        let mut out = Vec::new();
        if self.demo_ca.join("state.json").exists() {
            let mut ca = SoftCa::open(provider.clone(), &self.demo_ca)
                .map_err(|e| ServerError(format!("cannot open the demo CA: {e}")))?;
            let mut crls = demo_crls(&mut ca, now)?.into_iter();
            out.extend(crls.next().map(|crl| ("demo CA".to_string(), crl)));
            out.extend(crls.map(|crl| ("demo CA root".to_string(), crl)));
        }
        out.extend(self.files()?);
        Ok(out)
    }
}

/// Fresh CRLs of the demo CA: its issuing CA's (the holders' certificates), then its root's
/// (the issuing CA's certificate), so that every link below the root has a status.
pub fn demo_crls(ca: &mut SoftCa, now: i64) -> Result<Vec<Crl>, ServerError> {
    let crl = ca
        .crl(now)
        .map_err(|e| ServerError(format!("cannot make the demo CA's CRL: {e}")))?;
    let root = ca
        .root_crl(now)
        .map_err(|e| ServerError(format!("cannot make the demo root's CRL: {e}")))?;
    Ok(vec![crl, root])
}

/// One CRL in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrlInfo {
    /// `demo CA` or the file name in `<data>/crls/`.
    pub source: String,
    /// The issuer's common name.
    pub issuer: String,
    /// thisUpdate, Unix seconds.
    pub this_update: i64,
    /// nextUpdate, Unix seconds.
    pub next_update: Option<i64>,
    /// Entries: revoked certificates.
    pub revoked: usize,
    /// Entries with reason certificateHold: frozen certificates (冻结).
    pub frozen: usize,
}

fn info(source: &str, crl: &Crl) -> CrlInfo {
    let (entries, frozen) = crl.entry_counts();
    let (this_update, next_update) = crl.updates();
    CrlInfo {
        source: source.to_string(),
        issuer: crl.issuer_name(),
        this_update,
        next_update,
        revoked: entries.saturating_sub(frozen),
        frozen,
    }
}

async fn reload(State(s): Shared, headers: HeaderMap) -> Result<Response, ApiError> {
    crate::ops::check_admin(&s, &headers)?;
    let sources = s.crl_sources.clone();
    let provider = s.platform.provider().clone();
    let loaded = tokio::task::spawn_blocking(move || sources.load(&provider, camr::qr::unix_now()))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| {
            tracing::error!("CRL reload refused, the CRLs stay as they were: {e}");
            ApiError::new(
                ErrorCode::CertMalformed,
                format!("reload refused, nothing changed: {e}"),
            )
        })?;
    let infos: Vec<CrlInfo> = loaded.iter().map(|(src, crl)| info(src, crl)).collect();
    let crls: Vec<Crl> = loaded.into_iter().map(|(_, crl)| crl).collect();
    s.crl_files.replace(crls.clone());
    s.validator.replace_crls(crls);
    tracing::info!(crls = infos.len(), "CRLs reloaded");
    // When the platform learned of a freeze or revocation is part of its record.
    let detail = infos
        .iter()
        .map(|i| {
            format!(
                "{} ({}): thisUpdate {}, {} revoked, {} frozen",
                i.issuer, i.source, i.this_update, i.revoked, i.frozen
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    s.store
        .append_audit(camr::qr::unix_now(), None, "crls-reloaded", &detail)
        .await?;
    Ok(ok(infos))
}

/// The verdict of `GET /api/v1/transactions/{tid}/verification`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordVerification {
    /// The transaction.
    pub tid: String,
    /// Its operation.
    pub operation: Operation,
    /// Every recorded signature verifies and the signer's chain was valid at the signing
    /// time (the platform's record).
    pub valid_at_signing_time: bool,
    /// The time the chain was validated at, and the record that says so.
    pub validation_time: ValidationTime,
    /// The signer.
    pub subject: Subject,
    /// Signatures checked.
    pub signatures: usize,
    /// Why not valid (error code and sentence).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The chain's verdict now, when it differs: e.g. `CERT_REVOKED: …` for a certificate
    /// revoked since (the signature stays valid: 不影响已使用的签章数据).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_now: Option<String>,
}

/// What a verified transaction recorded: signer, chain and (data, signature) pairs.
struct Recorded {
    operation: Operation,
    subject: Subject,
    certificate: Bytes,
    chain: Vec<Bytes>,
    signed: Vec<(Vec<u8>, Vec<u8>)>,
}

fn recorded(operation: Operation, result: &serde_json::Value) -> Result<Recorded, ApiError> {
    let bad = |e: serde_json::Error| ApiError::internal(format!("the stored result: {e}"));
    let items = |signed: Vec<camr::ceremony::SignedItem>| {
        signed
            .into_iter()
            .map(|i| {
                // A CAdES item's signature covers the signed attributes, a plain one the hash.
                let data = i.signed_attributes.map(|a| a.0).unwrap_or(i.item.hash.0);
                (data, i.signature.0)
            })
            .collect()
    };
    Ok(match operation {
        Operation::Signature => {
            let r: SignResult = serde_json::from_value(result.clone()).map_err(bad)?;
            Recorded {
                operation,
                subject: r.subject,
                certificate: r.certificate,
                chain: r.chain,
                signed: items(r.signed),
            }
        }
        Operation::RevokeSignature => {
            let r: RevokeResult = serde_json::from_value(result.clone()).map_err(bad)?;
            Recorded {
                operation,
                subject: r.subject,
                certificate: r.certificate,
                chain: r.chain,
                signed: items(r.signed),
            }
        }
        Operation::MessageSignature => {
            let r: MessageSignatureResult = serde_json::from_value(result.clone()).map_err(bad)?;
            Recorded {
                operation,
                subject: r.subject,
                certificate: r.certificate,
                chain: Vec::new(),
                signed: vec![(r.message.into_bytes(), r.signature.0)],
            }
        }
        other => {
            return Err(ApiError::malformed(format!(
                "a {} transaction records no signature to verify (signature, messageSignature and revokeSignature do)",
                other.as_str()
            )));
        }
    })
}

/// The platform's record of a verified transaction: its result and the time of its audit
/// entry `verified` (the audit chain is checked first).
async fn platform_record(s: &AppState, tid: &Tid) -> Result<(Recorded, ValidationTime), ApiError> {
    let store_err = |e: camr::store::StoreError| ApiError::new(e.code(), e.to_string());
    let rec = s
        .store
        .get(tid)
        .await
        .map_err(store_err)?
        .ok_or_else(|| ApiError::new(ErrorCode::TxNotFound, format!("no transaction {tid}")))?;
    let result = match (rec.transaction.state, rec.result) {
        (TransactionState::Verified, Some(r)) => r,
        (state, _) => {
            return Err(ApiError::new(
                ErrorCode::TxPending,
                format!("transaction {tid} is {state:?}, not verified: it records no signature"),
            ));
        }
    };
    let recorded = recorded(rec.transaction.operation, &result)?;
    let audit = s.store.audit().await.map_err(store_err)?;
    camr::store::verify_audit(&audit).map_err(store_err)?;
    let entry = audit
        .iter()
        .find(|e| e.tid.as_deref() == Some(tid.as_str()) && e.event == "verified")
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::AuditBroken,
                format!("the audit log has no `verified` entry for {tid}"),
            )
        })?;
    Ok((
        recorded,
        ValidationTime {
            at: entry.at,
            evidence: TimeEvidence::PlatformRecord,
            reference: Some(format!("tid {tid}, audit #{}", entry.seq)),
        },
    ))
}

/// The signatures a verified transaction recorded, as signing-time evidence for PDF seals.
pub async fn recorded_signatures(
    s: &AppState,
    tid: &Tid,
) -> Result<Vec<RecordedSignature>, ApiError> {
    let (recorded, time) = platform_record(s, tid).await?;
    Ok(recorded
        .signed
        .into_iter()
        .map(|(_, signature)| RecordedSignature {
            signature,
            at: time.at,
            reference: time.reference.clone().unwrap_or_default(),
        })
        .collect())
}

async fn verification(State(s): Shared, Path(tid): Path<String>) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let (recorded, time) = platform_record(&s, &tid).await?;
    let now = camr::qr::unix_now();
    let provider = s.platform.provider();
    let leaf = Certificate::from_der(&recorded.certificate)
        .map_err(|e| ApiError::internal(format!("the stored certificate: {e}")))?;
    let chain = recorded
        .chain
        .iter()
        .chain(s.intermediates.iter())
        .filter_map(|c| Certificate::from_der(c).ok())
        .collect::<Vec<_>>();
    let mut reason = None;
    let key = leaf.public_key().map_err(ApiError::internal)?;
    let scheme = SignatureScheme::default_for(key.algorithm());
    for (data, signature) in &recorded.signed {
        if provider.verify(&key, &scheme, data, signature).is_err() {
            reason = Some(format!(
                "{}: a recorded signature does not verify with the recorded certificate",
                ErrorCode::SignatureInvalid
            ));
        }
    }
    if reason.is_none()
        && let Err(e) =
            s.validator
                .validate_at_signing_time(&leaf, &chain, KeyPurpose::Sign, time.at, now)
    {
        reason = Some(format!("{}: {e}", e.code()));
    }
    let status_now = match s.validator.validate(&leaf, &chain, KeyPurpose::Sign, now) {
        Err(e) if reason.is_none() => Some(format!("{}: {e}", e.code())),
        _ => None,
    };
    Ok(ok(RecordVerification {
        tid: tid.to_string(),
        operation: recorded.operation,
        valid_at_signing_time: reason.is_none(),
        validation_time: time,
        subject: recorded.subject,
        signatures: recorded.signed.len(),
        reason,
        status_now,
    }))
}
