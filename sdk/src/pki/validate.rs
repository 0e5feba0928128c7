//! Chain validation against a trust store at a given time: the public API, the path cache
//! and the CRL snapshot. The search itself is in `path.rs`, revocation in `revocation.rs`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use super::path::{DEFAULT_MAX_PATH_LEN, FoundPath, MAX_PATH_LEN_LIMIT, PathBudget, Search};
use super::revocation::SkippedCrl;
use super::{CertError, Certificate, Crl, KeyPurpose, Subject};
use crate::crypto::{CryptoProvider, HashAlgorithm};

/// Longest path accepted by default (leaf + intermediates + anchor); see
/// [`ChainValidator::with_max_depth`].
pub const MAX_PATH_LEN: usize = DEFAULT_MAX_PATH_LEN;
/// Width of the time bucket of the validation cache, seconds.
pub const CACHE_BUCKET_SECS: i64 = 300;
pub(crate) const CACHE_CAPACITY: usize = 4096;

/// The trusted root certificates.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    anchors: Vec<Certificate>,
}

impl TrustStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store with the certificates of a PEM bundle (or one DER certificate).
    pub fn from_pem_bundle(data: &[u8]) -> Result<Self, CertError> {
        Ok(Self {
            anchors: Certificate::parse_all(data)?,
        })
    }

    /// A store with every `*.pem`, `*.crt`, `*.cer` and `*.der` certificate of a folder.
    pub fn from_dir(dir: &Path) -> Result<Self, CertError> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| CertError::malformed(format!("cannot read {}: {e}", dir.display())))?;
        let mut store = Self::new();
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default()
                .to_ascii_lowercase();
            if matches!(ext.as_str(), "pem" | "crt" | "cer" | "der") {
                let data = std::fs::read(&path).map_err(|e| {
                    CertError::malformed(format!("cannot read {}: {e}", path.display()))
                })?;
                store.anchors.extend(Certificate::parse_all(&data)?);
            }
        }
        Ok(store)
    }

    /// Adds a root.
    pub fn add(&mut self, cert: Certificate) {
        self.anchors.push(cert);
    }

    /// The roots.
    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    pub(crate) fn contains(&self, cert: &Certificate) -> bool {
        self.anchors.iter().any(|a| a.der() == cert.der())
    }
}

/// How strictly revocation is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RevocationPolicy {
    /// Check against every CRL given; a certificate whose issuer has no CRL is accepted and
    /// the result says revocation was not checked.
    #[default]
    BestEffort,
    /// Every certificate below the root needs a valid, fresh CRL from its issuer.
    Require,
}

/// A chain that passed every check at `validated_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedChain {
    /// Leaf first, trust anchor last.
    pub chain: Vec<Certificate>,
    /// The leaf's identity.
    pub subject: Subject,
    /// Whether every certificate's revocation status was checked against a CRL.
    pub revocation_checked: bool,
    /// CRLs of an issuer in the chain that could not be used (wrong profile, bad signature,
    /// stale), with the reason. Under [`RevocationPolicy::BestEffort`] such a CRL does not
    /// fail the validation, but the caller should know it was there and ignored.
    pub skipped_crls: Vec<SkippedCrl>,
    /// The validation time, Unix seconds.
    pub validated_at: i64,
}

impl ValidatedChain {
    /// The leaf certificate.
    pub fn leaf(&self) -> Option<&Certificate> {
        self.chain.first()
    }
}

type CacheKey = Vec<u8>;

/// The time a certificate is judged at, and the time its CRLs must be usable at (the same,
/// except for validation at a past signing time).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Times {
    pub(crate) at: i64,
    pub(crate) crl_at: i64,
}

/// Validates certificate chains against a [`TrustStore`] and CRLs.
#[derive(Debug)]
pub struct ChainValidator {
    pub(crate) provider: Arc<dyn CryptoProvider>,
    pub(crate) trust: TrustStore,
    // Replaced as a whole when a platform reloads its CRLs (a certificate frozen or revoked
    // after start-up); each check reads one consistent snapshot.
    crls: RwLock<Arc<Vec<Crl>>>,
    pub(crate) policy: RevocationPolicy,
    pub(crate) max_depth: usize,
    pub(crate) budget: PathBudget,
    // Paths found, by (certificates sent, time bucket). Only successes are kept: a failure
    // costs at most the budget again, and caching it would pin a verdict that a new CRL or
    // the passing of time can change.
    cache: Mutex<HashMap<CacheKey, Vec<Certificate>>>,
    pub(crate) crl_checks: Mutex<HashMap<CacheKey, Result<(), String>>>,
}

impl ChainValidator {
    /// A validator over `trust`, with no CRLs and [`RevocationPolicy::BestEffort`].
    pub fn new(provider: Arc<dyn CryptoProvider>, trust: TrustStore) -> Self {
        Self {
            provider,
            trust,
            crls: RwLock::new(Arc::new(Vec::new())),
            policy: RevocationPolicy::default(),
            max_depth: DEFAULT_MAX_PATH_LEN,
            budget: PathBudget::default(),
            cache: Mutex::new(HashMap::new()),
            crl_checks: Mutex::new(HashMap::new()),
        }
    }

    /// Adds CRLs (their signatures and freshness are checked when used).
    pub fn with_crls(self, crls: Vec<Crl>) -> Self {
        self.replace_crls(crls);
        self
    }

    /// Replaces the CRLs (a platform picking up a newer CRL: a certificate frozen 冻结,
    /// unfrozen 解冻 or revoked since). Validations already running finish with the CRLs
    /// they started with.
    pub fn replace_crls(&self, crls: Vec<Crl>) {
        let mut guard = self.crls.write().unwrap_or_else(|e| e.into_inner());
        *guard = Arc::new(crls);
    }

    /// The CRLs in use.
    pub fn crls(&self) -> Arc<Vec<Crl>> {
        self.crls
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Sets the revocation policy.
    pub fn with_policy(mut self, policy: RevocationPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the longest path accepted, leaf and trust anchor included (default
    /// [`MAX_PATH_LEN`]; clamped to 1..=32).
    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth.clamp(1, MAX_PATH_LEN_LIMIT);
        self
    }

    /// Sets the work one validation may do before it fails with `CERT_PATH_BUDGET_EXCEEDED`
    /// (default [`PathBudget::default`]: 100 signature checks, 200 candidate issuers).
    pub fn with_budget(mut self, budget: PathBudget) -> Self {
        self.budget = budget;
        self
    }

    /// Number of cached results (for tests and metrics).
    pub fn cache_len(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Validates `leaf` for `purpose` at time `at` (Unix seconds), with `intermediates` as
    /// the app sent them.
    ///
    /// The expensive part — searching for a path and verifying its signatures — is cached by
    /// (certificates, 5-minute time bucket), and so is each CRL signature check; a cached
    /// path is re-checked on every call for everything that depends on time or CRLs
    /// (validity, revocation at `at`, CRL freshness) and for the purpose, so it never hides
    /// a revocation or expiry. If the cached path no longer passes, the search runs again.
    pub fn validate(
        &self,
        leaf: &Certificate,
        intermediates: &[Certificate],
        purpose: KeyPurpose,
        at: i64,
    ) -> Result<ValidatedChain, CertError> {
        let times = Times { at, crl_at: at };
        let key = self.cache_key(leaf, intermediates, at);
        let cached = self.cache.lock().ok().and_then(|c| c.get(&key).cloned());
        if let Some(path) = cached {
            let crls = self.crls();
            let rest = path.get(1..).unwrap_or_default();
            if let Ok(found) = Search::new(self, times, &crls, leaf, &[], rest).recheck() {
                return finish(found, purpose, at);
            }
        }
        let found = self.search(leaf, intermediates, times)?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(key, found.chain.clone());
        }
        finish(found, purpose, at)
    }

    /// Validates `leaf` as it stood at `signed_at`, a signing time the caller holds trusted
    /// evidence for (a time-stamp, the platform's own audit record of when it verified the
    /// signature — never a time the signer claims), judged with the CRLs known at `now`.
    ///
    /// Validity periods are checked at `signed_at`; a CRL must be usable at `now` (signed by
    /// the issuer, not stale then) and a CRL issued after `signed_at` is fine — it is the
    /// later revocation information; an entry counts only when its revocation date is at or
    /// before `signed_at`. So a seal made before its certificate was revoked or frozen stays
    /// valid ("不影响已使用的签章数据"), one made after it does not.
    pub fn validate_at_signing_time(
        &self,
        leaf: &Certificate,
        intermediates: &[Certificate],
        purpose: KeyPurpose,
        signed_at: i64,
        now: i64,
    ) -> Result<ValidatedChain, CertError> {
        let times = Times {
            at: signed_at,
            crl_at: now.max(signed_at),
        };
        finish(self.search(leaf, intermediates, times)?, purpose, signed_at)
    }

    fn cache_key(&self, leaf: &Certificate, intermediates: &[Certificate], at: i64) -> CacheKey {
        let mut h = self.provider.hasher(HashAlgorithm::Sm3);
        for c in std::iter::once(leaf).chain(intermediates) {
            h.update(&(c.der().len() as u64).to_be_bytes());
            h.update(c.der());
        }
        let mut key = h.finalize();
        key.extend_from_slice(&at.div_euclid(CACHE_BUCKET_SECS).to_be_bytes());
        key
    }

    /// Validation without the path cache.
    pub fn validate_uncached(
        &self,
        leaf: &Certificate,
        intermediates: &[Certificate],
        purpose: KeyPurpose,
        at: i64,
    ) -> Result<ValidatedChain, CertError> {
        let times = Times { at, crl_at: at };
        finish(self.search(leaf, intermediates, times)?, purpose, at)
    }

    fn search(
        &self,
        leaf: &Certificate,
        intermediates: &[Certificate],
        times: Times,
    ) -> Result<FoundPath, CertError> {
        let crls = self.crls();
        Search::new(
            self,
            times,
            &crls,
            leaf,
            self.trust.anchors(),
            intermediates,
        )
        .run()
    }
}

/// The purpose check (on the leaf alone, so after the path) and the result.
fn finish(found: FoundPath, purpose: KeyPurpose, at: i64) -> Result<ValidatedChain, CertError> {
    let leaf = found
        .chain
        .first()
        .ok_or_else(|| CertError::malformed("empty path"))?;
    leaf.check_purpose(purpose)?;
    Ok(ValidatedChain {
        subject: leaf.subject(),
        chain: found.chain,
        revocation_checked: found.revocation_checked,
        skipped_crls: found.skipped_crls,
        validated_at: at,
    })
}

/// The DER bytes (tag, length and value) of the first element of a signed SEQUENCE, exactly
/// as received: the tbsCertificate of a certificate, the tbsCertList of a CRL.
pub(crate) fn signed_tbs_bytes(der: &[u8]) -> Result<&[u8], String> {
    use der::{Decode, Header, Reader, SliceReader};
    let mut reader = SliceReader::new(der).map_err(|e| e.to_string())?;
    Header::decode(&mut reader).map_err(|e| e.to_string())?;
    reader.tlv_bytes().map_err(|e| e.to_string())
}
