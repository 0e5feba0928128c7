//! Revocation sources, per certificate, behind one trait ([`RevocationSource`]): the CRL at
//! the certificate's distribution point, the OCSP responder in its authorityInfoAccess,
//! configured CRL files, and an ordered list of those with fallbacks (`docs/revocation.md`).
//!
//! HTTP stays out of the verification: the sources fetch through [`HttpFetch`] (a blocking
//! call with a size and time limit), which the platform supplies — `camr::pki::http` with the
//! `http` feature, or its own client. Every answer is verified (CRL signature by the issuer
//! and freshness, OCSP responder and nonce) before it is cached or believed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::crl_check::{RevocationStatus, check_crl, crl_number, crl_status};
use super::ocsp::{CertIdHash, OcspAnswer, OcspCertStatus, OcspPolicy, OcspQuery};
use super::{Certificate, Crl};
use crate::crypto::CryptoProvider;
use crate::protocol::ErrorCode;

/// The default refresh interval of the fetching sources, seconds: how long a fetched CRL or
/// OCSP answer is used before the source is asked again.
pub const DEFAULT_REFRESH_SECS: i64 = 300;

/// Limits on one fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// Largest body accepted, bytes.
    pub max_bytes: usize,
    /// Time for the whole exchange.
    pub timeout: Duration,
}

impl FetchLimits {
    /// CRLs: 16 MiB, 10 s.
    pub const CRL: Self = Self {
        max_bytes: 16 * 1024 * 1024,
        timeout: Duration::from_secs(10),
    };
    /// OCSP: 64 KiB, 5 s.
    pub const OCSP: Self = Self {
        max_bytes: 64 * 1024,
        timeout: Duration::from_secs(5),
    };
}

/// One HTTP exchange: a GET, or a POST of `body` with its content type.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    /// The http(s) URL.
    pub url: &'a str,
    /// `Some((content type, body))` for a POST.
    pub post: Option<(&'a str, &'a [u8])>,
    /// Size and time limits.
    pub limits: FetchLimits,
}

/// A blocking HTTP client for the sources: returns the body of a 200 answer within the
/// limits, or why not. Implementations must honour the limits (stop reading past
/// `max_bytes`); the sources do not retry.
pub trait HttpFetch: Send + Sync + std::fmt::Debug {
    /// Performs the exchange.
    fn fetch(&self, request: &HttpRequest<'_>) -> Result<Vec<u8>, String>;
}

/// Which kind of source answered.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum SourceKind {
    /// An OCSP responder (RFC 6960).
    Ocsp,
    /// The CRL at the certificate's distribution point.
    CrlDistributionPoint,
    /// A CRL file the platform was configured with.
    CrlFile,
    /// The vendor's own status service, through its adapter (`cert_status`).
    VendorStatus,
}

/// What a source said about a certificate, and what to record with the transaction.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct RevocationEvidence {
    /// Which kind of source.
    pub source: SourceKind,
    /// The status.
    pub status: RevocationStatus,
    /// Where it came from (the CRL distribution point or responder URL), if fetched.
    pub url: Option<String>,
    /// The CRL's thisUpdate, or the OCSP answer's.
    pub this_update: i64,
    /// nextUpdate: how long the information may be cached.
    pub next_update: Option<i64>,
    /// The OCSP response's producedAt.
    pub produced_at: Option<i64>,
    /// The CRL's cRLNumber (hex).
    pub crl_number: Option<String>,
    /// Common name of the CRL's issuer or the OCSP responder.
    pub signer: String,
}

/// Why no source could tell.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevocationError {
    /// The source has nothing for this certificate (no URL in it, no CRL of its issuer).
    #[error("no revocation information for `{subject}`: {reason}")]
    NoInformation {
        /// Common name of the certificate.
        subject: String,
        /// Why.
        reason: String,
    },
    /// The source could not be reached, or answered outside its limits.
    #[error("the revocation source {url} is unavailable: {reason}")]
    Unavailable {
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
    /// The CRL fetched or configured is not usable (signature, freshness, profile).
    #[error(transparent)]
    Crl(#[from] super::CrlError),
    /// The OCSP response was refused.
    #[error(transparent)]
    Ocsp(#[from] super::ocsp::OcspError),
    /// Every source of an [`OrderedSources`] failed; each reason, in order.
    #[error("revocation status of `{subject}` is unknown: {}", reasons.join("; "))]
    AllFailed {
        /// Common name of the certificate.
        subject: String,
        /// Each source's failure.
        reasons: Vec<String>,
    },
}

impl RevocationError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NoInformation { .. } | Self::AllFailed { .. } => ErrorCode::CertRevocationUnknown,
            Self::Unavailable { .. } => ErrorCode::RevocationSourceUnavailable,
            Self::Crl(e) => e.code(),
            Self::Ocsp(e) => e.code(),
        }
    }
}

/// Tells the revocation status of a certificate issued by `issuer`, at `now`.
pub trait RevocationSource: Send + Sync + std::fmt::Debug {
    /// The status, with what to record; an error when this source cannot tell.
    fn status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: i64,
    ) -> Result<RevocationEvidence, RevocationError>;
}

fn crl_evidence(
    source: SourceKind,
    crl: &Crl,
    cert: &Certificate,
    url: Option<&str>,
    now: i64,
) -> RevocationEvidence {
    let (this_update, next_update) = crl.updates();
    RevocationEvidence {
        source,
        status: crl_status(crl, cert, now),
        url: url.map(str::to_string),
        this_update,
        next_update,
        produced_at: None,
        crl_number: crl_number(crl),
        signer: crl.issuer_name(),
    }
}

/// CRLs the platform was configured with (files dropped in its data folder, as before), each
/// checked against the issuer and for freshness (nextUpdate plus `grace_secs`) when used.
#[derive(Debug, Default)]
pub struct CrlFileSource {
    crls: RwLock<Arc<Vec<Crl>>>,
    provider: Option<Arc<dyn CryptoProvider>>,
    grace_secs: i64,
}

impl CrlFileSource {
    /// A source over `crls`, with a grace after nextUpdate of `grace_secs` (default 0).
    pub fn new(provider: Arc<dyn CryptoProvider>, crls: Vec<Crl>, grace_secs: i64) -> Self {
        Self {
            crls: RwLock::new(Arc::new(crls)),
            provider: Some(provider),
            grace_secs,
        }
    }

    /// Replaces the CRLs (the reload "now" button).
    pub fn replace(&self, crls: Vec<Crl>) {
        *self.crls.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(crls);
    }
}

impl RevocationSource for CrlFileSource {
    fn status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: i64,
    ) -> Result<RevocationEvidence, RevocationError> {
        let crls = self
            .crls
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|e| e.into_inner().clone());
        let provider = self
            .provider
            .clone()
            .unwrap_or_else(crate::crypto::default_provider);
        let mut last_error = None;
        for crl in crls.iter().filter(|c| {
            super::names_match(
                &c.x509().tbs_cert_list.issuer,
                cert.x509().tbs_certificate().issuer(),
            )
        }) {
            match check_crl(provider.as_ref(), crl, issuer, now, self.grace_secs) {
                Ok(()) => return Ok(crl_evidence(SourceKind::CrlFile, crl, cert, None, now)),
                Err(e) => last_error = Some(e),
            }
        }
        Err(match last_error {
            Some(e) => e.into(),
            None => RevocationError::NoInformation {
                subject: cert.common_name(),
                reason: format!("no CRL file of `{}`", issuer.common_name()),
            },
        })
    }
}

/// The CRL at the certificate's distribution point (HTTP, DER or PEM): fetched within
/// [`FetchLimits::CRL`], checked against the issuer, cached per URL until nextUpdate and
/// fetched again from `refresh_before` seconds before it, or once it is `refresh_secs` old,
/// whichever comes first (the cached one stays in use while a refetch fails and it is still
/// fresh); past nextUpdate plus `grace_secs` it is not used.
#[derive(Debug)]
pub struct CrlDpSource {
    http: Arc<dyn HttpFetch>,
    provider: Arc<dyn CryptoProvider>,
    /// Seconds after nextUpdate a CRL may still be used (default 0).
    pub grace_secs: i64,
    /// Seconds before nextUpdate a new CRL is fetched (default 300).
    pub refresh_before: i64,
    /// The refresh interval: a CRL is fetched again once it was fetched this many seconds
    /// ago, even before its nextUpdate (default 300) — how soon a freeze or revocation at the
    /// CA counts on every instance of the platform.
    pub refresh_secs: i64,
    /// Limits of one fetch.
    pub limits: FetchLimits,
    /// Per URL: the CRL and when it was fetched.
    cache: Mutex<HashMap<String, (Crl, i64)>>,
}

impl CrlDpSource {
    /// A source fetching through `http`.
    pub fn new(http: Arc<dyn HttpFetch>, provider: Arc<dyn CryptoProvider>) -> Self {
        Self {
            http,
            provider,
            grace_secs: 0,
            refresh_before: 300,
            refresh_secs: DEFAULT_REFRESH_SECS,
            limits: FetchLimits::CRL,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, url: &str) -> Option<(Crl, i64)> {
        self.cache.lock().ok().and_then(|c| c.get(url).cloned())
    }

    /// A CRL for `url` usable for `issuer` at `now`: the cached one while it needs no
    /// refresh, else a new one (or the cached one if fetching fails and it is still usable).
    fn crl_for(&self, url: &str, issuer: &Certificate, now: i64) -> Result<Crl, RevocationError> {
        let cached = self.cached(url).filter(|(c, _)| {
            check_crl(self.provider.as_ref(), c, issuer, now, self.grace_secs).is_ok()
        });
        if let Some((crl, fetched_at)) = &cached {
            let due = crl.updates().1.map(|n| n - self.refresh_before);
            let aged = now.saturating_sub(*fetched_at) >= self.refresh_secs;
            if !aged && due.is_none_or(|d| now < d) {
                return Ok(crl.clone());
            }
        }
        match self.fetch(url, issuer, now) {
            Ok(crl) => {
                if let Ok(mut c) = self.cache.lock() {
                    c.insert(url.to_string(), (crl.clone(), now));
                }
                Ok(crl)
            }
            Err(e) => cached.map(|(c, _)| c).ok_or(e),
        }
    }

    fn fetch(&self, url: &str, issuer: &Certificate, now: i64) -> Result<Crl, RevocationError> {
        let body = self
            .http
            .fetch(&HttpRequest {
                url,
                post: None,
                limits: self.limits,
            })
            .map_err(|reason| RevocationError::Unavailable {
                url: url.to_string(),
                reason,
            })?;
        let crl = Crl::parse(&body).map_err(|e| RevocationError::Unavailable {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        check_crl(self.provider.as_ref(), &crl, issuer, now, self.grace_secs)?;
        Ok(crl)
    }
}

impl RevocationSource for CrlDpSource {
    fn status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: i64,
    ) -> Result<RevocationEvidence, RevocationError> {
        let urls = cert.crl_urls();
        let mut last = None;
        for url in &urls {
            match self.crl_for(url, issuer, now) {
                Ok(crl) => {
                    return Ok(crl_evidence(
                        SourceKind::CrlDistributionPoint,
                        &crl,
                        cert,
                        Some(url),
                        now,
                    ));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| RevocationError::NoInformation {
            subject: cert.common_name(),
            reason: "the certificate names no http CRL distribution point".into(),
        }))
    }
}

/// The OCSP responder named in the certificate's authorityInfoAccess: a request with a fresh
/// nonce (POST, [`FetchLimits::OCSP`]), the answer verified ([`OcspQuery::verify`]) and cached
/// per certificate until its nextUpdate (at most `max_cache_secs` when it has none), asked
/// again once it is `refresh_secs` old (the cached answer stays in use while asking fails and
/// it is before its nextUpdate).
#[derive(Debug)]
pub struct OcspSource {
    http: Arc<dyn HttpFetch>,
    provider: Arc<dyn CryptoProvider>,
    /// Freshness and nonce rules.
    pub policy: OcspPolicy,
    /// Longest an answer without nextUpdate is cached, seconds (default 300).
    pub max_cache_secs: i64,
    /// The refresh interval: the responder is asked again once the cached answer is this
    /// many seconds old (default 300).
    pub refresh_secs: i64,
    /// Limits of one exchange.
    pub limits: FetchLimits,
    /// Per (issuer, certificate): the evidence, until when it may be used, when it was asked.
    cache: Mutex<HashMap<Vec<u8>, (RevocationEvidence, i64, i64)>>,
}

impl OcspSource {
    /// A source posting through `http`.
    pub fn new(http: Arc<dyn HttpFetch>, provider: Arc<dyn CryptoProvider>) -> Self {
        Self {
            http,
            provider,
            policy: OcspPolicy::default(),
            max_cache_secs: 300,
            refresh_secs: DEFAULT_REFRESH_SECS,
            limits: FetchLimits::OCSP,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn ask(
        &self,
        url: &str,
        cert: &Certificate,
        issuer: &Certificate,
        now: i64,
    ) -> Result<OcspAnswer, RevocationError> {
        let query = OcspQuery::new(
            self.provider.as_ref(),
            cert,
            issuer,
            CertIdHash::for_issuer(issuer),
        )?;
        let body = self
            .http
            .fetch(&HttpRequest {
                url,
                post: Some(("application/ocsp-request", query.der())),
                limits: self.limits,
            })
            .map_err(|reason| RevocationError::Unavailable {
                url: url.to_string(),
                reason,
            })?;
        Ok(query.verify(self.provider.as_ref(), issuer, &body, now, &self.policy)?)
    }
}

impl RevocationSource for OcspSource {
    fn status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: i64,
    ) -> Result<RevocationEvidence, RevocationError> {
        let key = [issuer.der(), cert.der()].concat();
        let hit = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned())
            .filter(|(_, until, _)| now < *until);
        if let Some((evidence, _, asked_at)) = &hit
            && now.saturating_sub(*asked_at) < self.refresh_secs
        {
            return Ok(evidence.clone());
        }
        let urls = cert.ocsp_urls();
        let mut last = None;
        for url in &urls {
            match self.ask(url, cert, issuer, now) {
                Ok(answer) => {
                    let evidence = ocsp_evidence(&answer, url);
                    let until = answer
                        .next_update
                        .unwrap_or(answer.this_update.saturating_add(self.max_cache_secs));
                    if let Ok(mut c) = self.cache.lock() {
                        c.insert(key, (evidence.clone(), until, now));
                    }
                    return Ok(evidence);
                }
                Err(e) => last = Some(e),
            }
        }
        if let Some((evidence, _, _)) = hit {
            return Ok(evidence);
        }
        Err(last.unwrap_or_else(|| RevocationError::NoInformation {
            subject: cert.common_name(),
            reason: "the certificate names no http OCSP responder".into(),
        }))
    }
}

fn ocsp_evidence(answer: &OcspAnswer, url: &str) -> RevocationEvidence {
    RevocationEvidence {
        source: SourceKind::Ocsp,
        status: match answer.status {
            OcspCertStatus::Good => RevocationStatus::Good,
            OcspCertStatus::Revoked { at, reason } => RevocationStatus::Revoked { at, reason },
            OcspCertStatus::Frozen { at } => RevocationStatus::Frozen { at },
            OcspCertStatus::Unknown => RevocationStatus::Unknown,
        },
        url: Some(url.to_string()),
        this_update: answer.this_update,
        next_update: answer.next_update,
        produced_at: Some(answer.produced_at),
        crl_number: None,
        signer: answer.responder.clone(),
    }
}

/// Sources tried in order (e.g. OCSP, then the CRL distribution point, then CRL files): the
/// first that knows the certificate answers; `Unknown` and failures fall through to the next;
/// when none can tell, [`RevocationError::AllFailed`] lists why (`CERT_REVOCATION_UNKNOWN`).
#[derive(Debug, Default)]
pub struct OrderedSources(pub Vec<Arc<dyn RevocationSource>>);

impl RevocationSource for OrderedSources {
    fn status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: i64,
    ) -> Result<RevocationEvidence, RevocationError> {
        let mut reasons = Vec::new();
        for source in &self.0 {
            match source.status(cert, issuer, now) {
                Ok(e) if e.status != RevocationStatus::Unknown => return Ok(e),
                Ok(e) => reasons.push(format!(
                    "{:?}: the certificate is unknown to {}",
                    e.source, e.signer
                )),
                Err(e) => reasons.push(e.to_string()),
            }
        }
        Err(RevocationError::AllFailed {
            subject: cert.common_name(),
            reasons,
        })
    }
}

#[cfg(test)]
mod tests;
