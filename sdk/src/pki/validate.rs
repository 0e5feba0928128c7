//! Path building and validation (RFC 5280 section 6, the parts camr needs), with a cache.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use der::asn1::ObjectIdentifier;
use x509_cert::ext::pkix::KeyUsages;

use super::names::{common_name, names_match};
use super::{CertError, Certificate, Crl, KeyPurpose, Subject, time_secs, verify_signed};
use crate::crypto::{CryptoProvider, HashAlgorithm};

/// Longest path accepted (leaf + intermediates + anchor).
pub const MAX_PATH_LEN: usize = 8;
/// Width of the time bucket of the validation cache, seconds.
pub const CACHE_BUCKET_SECS: i64 = 300;
const CACHE_CAPACITY: usize = 4096;
/// Tolerance for a CRL's thisUpdate being slightly in the future, seconds.
const CRL_CLOCK_SKEW: i64 = 300;

/// Extensions camr understands; a critical extension outside this list makes the
/// certificate unusable (RFC 5280, 4.2).
const KNOWN_EXTENSIONS: &[&str] = &[
    "2.5.29.14",         // subjectKeyIdentifier
    "2.5.29.15",         // keyUsage
    "2.5.29.17",         // subjectAltName
    "2.5.29.18",         // issuerAltName
    "2.5.29.19",         // basicConstraints
    "2.5.29.31",         // cRLDistributionPoints
    "2.5.29.32",         // certificatePolicies (any policy is acceptable: no policy constraints)
    "2.5.29.35",         // authorityKeyIdentifier
    "2.5.29.37",         // extKeyUsage
    "1.3.6.1.5.5.7.1.1", // authorityInfoAccess
];
/// CRL extensions camr understands.
const KNOWN_CRL_EXTENSIONS: &[&str] = &["2.5.29.20", "2.5.29.35"]; // cRLNumber, AKI
const OID_REASON_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
/// CRL entry invalidityDate (RFC 5280, 5.3.2): since when the key is known or suspected to
/// be compromised, which can be before the revocation date.
const OID_INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
/// CRLReason certificateHold (RFC 5280, 5.3.1): the certificate is frozen (冻结), not revoked.
const REASON_CERTIFICATE_HOLD: u8 = 6;
const REASON_REMOVE_FROM_CRL: u8 = 8;

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

    fn contains(&self, cert: &Certificate) -> bool {
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

/// Validates certificate chains against a [`TrustStore`] and CRLs.
#[derive(Debug)]
pub struct ChainValidator {
    provider: Arc<dyn CryptoProvider>,
    trust: TrustStore,
    // Replaced as a whole when a platform reloads its CRLs (a certificate frozen or revoked
    // after start-up); each check reads one consistent snapshot.
    crls: RwLock<Arc<Vec<Crl>>>,
    policy: RevocationPolicy,
    cache: Mutex<HashMap<CacheKey, Result<Vec<Certificate>, CertError>>>,
    crl_checks: Mutex<HashMap<CacheKey, Result<(), String>>>,
}

impl ChainValidator {
    /// A validator over `trust`, with no CRLs and [`RevocationPolicy::BestEffort`].
    pub fn new(provider: Arc<dyn CryptoProvider>, trust: TrustStore) -> Self {
        Self {
            provider,
            trust,
            crls: RwLock::new(Arc::new(Vec::new())),
            policy: RevocationPolicy::default(),
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

    /// Number of cached results (for tests and metrics).
    pub fn cache_len(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Validates `leaf` for `purpose` at time `at` (Unix seconds), with `intermediates` as
    /// the app sent them.
    ///
    /// The expensive part — building the path and verifying every certificate signature — is
    /// cached by (certificates, 5-minute time bucket), and so is each CRL signature check;
    /// the time-dependent checks (validity, revocation at `at`, CRL freshness) and the
    /// purpose check run on every call, so a cached path never hides a revocation or expiry.
    pub fn validate(
        &self,
        leaf: &Certificate,
        intermediates: &[Certificate],
        purpose: KeyPurpose,
        at: i64,
    ) -> Result<ValidatedChain, CertError> {
        let key = self.cache_key(leaf, intermediates, at);
        let cached = self.cache.lock().ok().and_then(|c| c.get(&key).cloned());
        let path = match cached {
            Some(path) => path,
            None => {
                let path = self.build_path(leaf, intermediates);
                if let Ok(mut cache) = self.cache.lock() {
                    if cache.len() >= CACHE_CAPACITY {
                        cache.clear();
                    }
                    cache.insert(key, path.clone());
                }
                path
            }
        };
        self.check_path(path?, purpose, Times { at, crl_at: at })
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
        let path = self.build_path(leaf, intermediates)?;
        self.check_path(
            path,
            purpose,
            Times {
                at: signed_at,
                crl_at: now.max(signed_at),
            },
        )
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
        let path = self.build_path(leaf, intermediates)?;
        self.check_path(path, purpose, Times { at, crl_at: at })
    }

    fn check_path(
        &self,
        chain: Vec<Certificate>,
        purpose: KeyPurpose,
        times: Times,
    ) -> Result<ValidatedChain, CertError> {
        let at = times.at;
        let mut revocation_checked = true;
        // The anchor is trusted as configured; check its validity period only.
        if let Some(anchor) = chain.last() {
            check_validity(anchor, at)?;
        }
        // Non-self-issued intermediates between the current certificate and the leaf: RFC 5280
        // 6.1.4 (l) does not count self-issued certificates against pathLenConstraint.
        let mut below = 0usize;
        for (k, cert) in chain.iter().enumerate().take(chain.len().saturating_sub(1)) {
            check_validity(cert, at)?;
            check_critical_extensions(cert)?;
            if k > 0 {
                check_ca(cert, below)?;
                if !is_self_issued(cert) {
                    below += 1;
                }
            }
            let issuer = chain
                .get(k + 1)
                .ok_or_else(|| untrusted(cert, "no issuer in the path"))?;
            if !self.check_revocation(cert, issuer, times)? {
                revocation_checked = false;
            }
        }
        let leaf = chain
            .first()
            .ok_or_else(|| CertError::malformed("empty path"))?;
        leaf.check_purpose(purpose)?;
        Ok(ValidatedChain {
            subject: leaf.subject(),
            chain,
            revocation_checked,
            validated_at: at,
        })
    }

    fn build_path(
        &self,
        leaf: &Certificate,
        intermediates: &[Certificate],
    ) -> Result<Vec<Certificate>, CertError> {
        if self.trust.contains(leaf) {
            return Ok(vec![leaf.clone()]);
        }
        let mut path = vec![leaf.clone()];
        let mut last_error = None;
        if self.extend(&mut path, intermediates, &mut last_error) {
            return Ok(path);
        }
        Err(last_error.unwrap_or_else(|| untrusted(leaf, "no path to a trusted root (issuer not found among the roots and the certificates sent)")))
    }

    /// Depth-first search for an issuer chain ending at a trust anchor.
    fn extend(
        &self,
        path: &mut Vec<Certificate>,
        pool: &[Certificate],
        last_error: &mut Option<CertError>,
    ) -> bool {
        let Some(current) = path.last().cloned() else {
            return false;
        };
        if path.len() >= MAX_PATH_LEN {
            *last_error = Some(untrusted(&current, "the path is too long"));
            return false;
        }
        let issuer_name = current.x509().tbs_certificate().issuer();
        let anchors = self.trust.anchors().iter().map(|c| (c, true));
        let others = pool.iter().map(|c| (c, false));
        for (candidate, is_anchor) in anchors.chain(others) {
            if !names_match(candidate.x509().tbs_certificate().subject(), issuer_name) {
                continue;
            }
            if path.iter().any(|p| p.der() == candidate.der()) {
                continue;
            }
            if let Err(reason) = self.check_signature(&current, candidate) {
                *last_error = Some(untrusted(
                    &current,
                    &format!(
                        "its signature does not verify with the key of `{}` ({reason})",
                        candidate.common_name()
                    ),
                ));
                continue;
            }
            path.push(candidate.clone());
            if is_anchor || self.extend(path, pool, last_error) {
                return true;
            }
            path.pop();
        }
        false
    }

    fn check_signature(&self, cert: &Certificate, issuer: &Certificate) -> Result<(), String> {
        let x = cert.x509();
        if x.signature_algorithm() != x.tbs_certificate().signature() {
            return Err("the outer and inner signature algorithms differ".into());
        }
        let key = issuer.public_key().map_err(|e| e.to_string())?;
        // Verify over the TBS bytes as issued: a re-encoding can differ (x509-cert's Rfc5280
        // profile rewrites GeneralizedTime before 2050 as UTCTime).
        let tbs = signed_tbs_bytes(cert.der())?;
        let sig = x
            .signature()
            .as_bytes()
            .ok_or("signature BIT STRING has unused bits")?;
        verify_signed(
            self.provider.as_ref(),
            &key,
            x.signature_algorithm(),
            tbs,
            sig,
        )
    }

    /// `Ok(true)` if checked and good, `Ok(false)` if no usable CRL under best effort.
    fn check_revocation(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        times: Times,
    ) -> Result<bool, CertError> {
        let Times { at, crl_at } = times;
        let mut reasons = Vec::new();
        // Every usable CRL of the issuer is consulted: a revocation listed on any of them
        // counts, not only on the first one found.
        let mut checked = false;
        let crls = self.crls();
        for crl in crls.iter() {
            let t = &crl.x509().tbs_cert_list;
            if !names_match(&t.issuer, cert.x509().tbs_certificate().issuer()) {
                continue;
            }
            if let Err(reason) = self.usable_crl(crl, issuer, crl_at) {
                reasons.push(reason);
                continue;
            }
            let serial = cert.x509().tbs_certificate().serial_number();
            for entry in t.revoked_certificates.iter().flatten() {
                if entry.serial_number != *serial {
                    continue;
                }
                // A signature made after the key was compromised is not saved by an earlier
                // revocation date: the earlier of the two counts.
                let revoked_at = time_secs(&entry.revocation_date)
                    .min(invalidity_date(entry).unwrap_or(i64::MAX));
                if revoked_at > at {
                    // Revoked after the time of use: valid then (a seal stays valid).
                    continue;
                }
                let reason = entry_reason(entry);
                if reason == Some(REASON_REMOVE_FROM_CRL) {
                    continue;
                }
                let subject = cert.common_name();
                let serial = cert.serial_hex();
                return Err(if reason == Some(REASON_CERTIFICATE_HOLD) {
                    CertError::Frozen {
                        subject,
                        serial,
                        revoked_at,
                    }
                } else {
                    CertError::Revoked {
                        subject,
                        serial,
                        revoked_at,
                    }
                });
            }
            checked = true;
        }
        if checked {
            return Ok(true);
        }
        match self.policy {
            RevocationPolicy::BestEffort => Ok(false),
            RevocationPolicy::Require => Err(CertError::RevocationUnknown {
                subject: cert.common_name(),
                reason: if reasons.is_empty() {
                    format!(
                        "no CRL from `{}`",
                        common_name(cert.x509().tbs_certificate().issuer())
                    )
                } else {
                    reasons.join("; ")
                },
            }),
        }
    }

    fn usable_crl(&self, crl: &Crl, issuer: &Certificate, at: i64) -> Result<(), String> {
        let x = crl.x509();
        let t = &x.tbs_cert_list;
        if let Some(ku) = issuer.key_usage().map_err(|e| e.to_string())?
            && !ku.0.contains(KeyUsages::CRLSign)
        {
            return Err(format!(
                "`{}` may not sign CRLs (keyUsage lacks cRLSign)",
                issuer.common_name()
            ));
        }
        for ext in t.crl_extensions.iter().flatten() {
            if ext.critical && !KNOWN_CRL_EXTENSIONS.contains(&ext.extn_id.to_string().as_str()) {
                return Err(format!(
                    "the CRL has a critical extension camr does not process ({})",
                    ext.extn_id
                ));
            }
        }
        for entry in t.revoked_certificates.iter().flatten() {
            for ext in entry.crl_entry_extensions.iter().flatten() {
                if ext.critical && ext.extn_id != OID_REASON_CODE {
                    return Err(format!(
                        "a CRL entry has a critical extension camr does not process ({})",
                        ext.extn_id
                    ));
                }
            }
        }
        if x.signature_algorithm != t.signature {
            return Err("the CRL's outer and inner signature algorithms differ".into());
        }
        let key = issuer.public_key().map_err(|e| e.to_string())?;
        let tbs = signed_tbs_bytes(crl.der())?;
        let sig = x
            .signature
            .as_bytes()
            .ok_or("CRL signature has unused bits")?;
        let mut h = self.provider.hasher(HashAlgorithm::Sm3);
        h.update(crl.der());
        h.update(issuer.der());
        let memo_key = h.finalize();
        let memo = self
            .crl_checks
            .lock()
            .ok()
            .and_then(|m| m.get(&memo_key).cloned());
        let checked = match memo {
            Some(r) => r,
            None => {
                let r = verify_signed(
                    self.provider.as_ref(),
                    &key,
                    &x.signature_algorithm,
                    tbs,
                    sig,
                )
                .map_err(|e| format!("the CRL signature does not verify ({e})"));
                if let Ok(mut m) = self.crl_checks.lock() {
                    if m.len() >= CACHE_CAPACITY {
                        m.clear();
                    }
                    m.insert(memo_key, r.clone());
                }
                r
            }
        };
        checked?;
        let (this_update, next_update) = crl.updates();
        if this_update > at + CRL_CLOCK_SKEW {
            return Err("the CRL is from the future".into());
        }
        match next_update {
            Some(next) if next < at => {
                Err(format!("the CRL is stale (nextUpdate {next} before {at})"))
            }
            _ => Ok(()),
        }
    }
}

/// Whether a CRL entry's reason is certificateHold (冻结).
pub(super) fn is_on_hold(entry: &x509_cert::crl::RevokedCert) -> bool {
    entry_reason(entry) == Some(REASON_CERTIFICATE_HOLD)
}

fn invalidity_date(entry: &x509_cert::crl::RevokedCert) -> Option<i64> {
    use der::Decode;
    entry
        .crl_entry_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == OID_INVALIDITY_DATE)
        .and_then(|e| der::asn1::GeneralizedTime::from_der(e.extn_value.as_bytes()).ok())
        .map(|t| i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX))
}

fn entry_reason(entry: &x509_cert::crl::RevokedCert) -> Option<u8> {
    entry
        .crl_entry_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == OID_REASON_CODE)
        .and_then(|e| e.extn_value.as_bytes().get(2).copied())
}

/// The time a certificate is judged at, and the time its CRLs must be usable at (the same,
/// except for validation at a past signing time).
#[derive(Debug, Clone, Copy)]
struct Times {
    at: i64,
    crl_at: i64,
}

/// Whether subject and issuer are the same name (RFC 5280 6.1: a self-issued certificate).
fn is_self_issued(cert: &Certificate) -> bool {
    let tbs = cert.x509().tbs_certificate();
    names_match(tbs.subject(), tbs.issuer())
}

/// The DER bytes (tag, length and value) of the first element of a signed SEQUENCE, exactly
/// as received: the tbsCertificate of a certificate, the tbsCertList of a CRL.
fn signed_tbs_bytes(der: &[u8]) -> Result<&[u8], String> {
    use der::{Decode, Header, Reader, SliceReader};
    let mut reader = SliceReader::new(der).map_err(|e| e.to_string())?;
    Header::decode(&mut reader).map_err(|e| e.to_string())?;
    reader.tlv_bytes().map_err(|e| e.to_string())
}

fn untrusted(cert: &Certificate, reason: &str) -> CertError {
    CertError::Untrusted {
        subject: cert.common_name(),
        reason: reason.to_string(),
    }
}

fn check_validity(cert: &Certificate, at: i64) -> Result<(), CertError> {
    let (not_before, not_after) = cert.validity();
    if at < not_before {
        return Err(CertError::NotYetValid {
            subject: cert.common_name(),
            not_before,
            at,
        });
    }
    if at > not_after {
        return Err(CertError::Expired {
            subject: cert.common_name(),
            not_after,
            at,
        });
    }
    Ok(())
}

fn check_critical_extensions(cert: &Certificate) -> Result<(), CertError> {
    for ext in cert
        .x509()
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
    {
        if ext.critical && !KNOWN_EXTENSIONS.contains(&ext.extn_id.to_string().as_str()) {
            return Err(untrusted(
                cert,
                &format!(
                    "it has a critical extension camr does not understand ({})",
                    ext.extn_id
                ),
            ));
        }
    }
    Ok(())
}

/// `below` = number of intermediate CA certificates between this CA and the leaf.
fn check_ca(cert: &Certificate, below: usize) -> Result<(), CertError> {
    let bc = cert.basic_constraints()?;
    match bc {
        Some(bc) if bc.ca => {
            if let Some(len) = bc.path_len_constraint
                && below > usize::from(len)
            {
                return Err(untrusted(
                    cert,
                    &format!(
                        "pathLenConstraint {len} allows fewer CA certificates below it than the {below} in the path"
                    ),
                ));
            }
        }
        _ => {
            return Err(untrusted(
                cert,
                "it issued a certificate but is not a CA (basicConstraints cA is not true)",
            ));
        }
    }
    if let Some(ku) = cert.key_usage()?
        && !ku.0.contains(KeyUsages::KeyCertSign)
    {
        return Err(untrusted(
            cert,
            "it issued a certificate but its keyUsage lacks keyCertSign",
        ));
    }
    Ok(())
}
