//! Path building (RFC 5280 6.1 with the search of RFC 4158): a depth-first search from the
//! leaf towards a trust anchor in which every check of a link is made on each candidate
//! issuer — validity, extensions, CA flag, path length, key usage, name constraints,
//! signature, revocation — so a candidate that fails leads to the next one (backtracking),
//! and the whole search runs under a budget.
//!
//! Why a budget: the certificates come from the network (an app's answer carries its chain),
//! and N intermediates sharing one name make a depth-limited search try up to N^depth paths.
//! Like rustls-webpki, the search counts signature checks and candidate issuers and gives up
//! with `CERT_PATH_BUDGET_EXCEEDED` when either runs out; duplicates (same DER) are dropped
//! and a candidate with the same name and key as a certificate already in the path is a loop
//! (RFC 4158 5.2), not a new path.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use der::Encode;
use x509_cert::ext::pkix::KeyUsages;

use super::exts::{self, Exts};
use super::name_constraints;
use super::names::{NameKey, names_match};
use super::revocation::{LinkRevocation, SkippedCrl};
use super::validate::{ChainValidator, Times, signed_tbs_bytes};
use super::{CertError, Certificate, Crl, verify_signed};

/// Default largest number of signature checks (certificates and CRLs) in one validation. An
/// honest path of the longest allowed length needs at most 14 (7 links, each a certificate
/// and a CRL signature); 100 leaves room for cross-certified alternatives and is the default
/// of rustls-webpki. At the ~1,500 SM2 verifications per second of this hardware it caps a
/// validation's signature work at well under 0.1 s.
pub const DEFAULT_MAX_SIGNATURE_CHECKS: u32 = 100;
/// Default largest number of candidate issuers (certificates whose subject matches the
/// issuer name being looked for) examined in one validation. An honest chain examines one or
/// two per link; 200 allows 25 same-name alternatives at each of 8 levels. A candidate costs
/// a name comparison and a few field checks, so the bound matters for time only together
/// with the signature budget, but it ends a search over many same-name, same-key copies,
/// which the signature cache makes cheap in signatures.
pub const DEFAULT_MAX_CANDIDATES: u32 = 200;
/// Default longest path accepted (leaf + intermediates + anchor).
pub const DEFAULT_MAX_PATH_LEN: usize = 8;
/// Upper bound for a configured path length (the search recurses once per level).
pub const MAX_PATH_LEN_LIMIT: usize = 32;

/// The work one validation may do before it gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathBudget {
    /// Signature verifications (certificate and CRL signatures not already verified).
    pub max_signature_checks: u32,
    /// Candidate issuers examined.
    pub max_candidates: u32,
}

impl Default for PathBudget {
    fn default() -> Self {
        Self {
            max_signature_checks: DEFAULT_MAX_SIGNATURE_CHECKS,
            max_candidates: DEFAULT_MAX_CANDIDATES,
        }
    }
}

/// Counts the work of one validation against its [`PathBudget`].
#[derive(Debug)]
pub(crate) struct Meter {
    budget: PathBudget,
    signatures: u32,
    candidates: u32,
    leaf: String,
}

impl Meter {
    fn new(budget: PathBudget, leaf: &Certificate) -> Self {
        Self {
            budget,
            signatures: 0,
            candidates: 0,
            leaf: leaf.common_name(),
        }
    }

    /// Accounts for one signature verification about to be made.
    pub(crate) fn signature(&mut self) -> Result<(), CertError> {
        if self.signatures >= self.budget.max_signature_checks {
            return Err(self.exceeded(format!(
                "more than {} signature checks",
                self.budget.max_signature_checks
            )));
        }
        self.signatures += 1;
        Ok(())
    }

    fn candidate(&mut self) -> Result<(), CertError> {
        if self.candidates >= self.budget.max_candidates {
            return Err(self.exceeded(format!(
                "more than {} candidate issuers",
                self.budget.max_candidates
            )));
        }
        self.candidates += 1;
        Ok(())
    }

    fn exceeded(&self, what: String) -> CertError {
        CertError::PathBudgetExceeded {
            subject: self.leaf.clone(),
            reason: format!(
                "{what}; the certificates offered are not an ordinary chain (many with the \
                 same issuer name?)"
            ),
        }
    }
}

/// How telling a candidate's failure is, to report the best one when no path is found:
/// a revocation beats an expiry, which beats a structural fault, which beats a signature
/// that does not verify (a stranger with the right name), which beats nothing found.
fn rank(e: &CertError) -> u8 {
    match e {
        CertError::Revoked { .. } | CertError::Frozen { .. } => 50,
        CertError::Expired { .. } | CertError::NotYetValid { .. } => 40,
        CertError::RevocationUnknown { .. } => 30,
        CertError::Malformed { .. }
        | CertError::WrongUsage { .. }
        | CertError::Untrusted { .. }
        | CertError::PathBudgetExceeded { .. } => RANK_STRUCTURE,
    }
}
const RANK_LOOP: u8 = 5;
const RANK_SIGNATURE: u8 = 10;
const RANK_STRUCTURE: u8 = 20;

/// A certificate the search may use, with what it has learnt about it.
struct Node<'a> {
    cert: &'a Certificate,
    anchor: bool,
    subject: NameKey,
    exts: OnceCell<Result<Exts, CertError>>,
    spki: OnceCell<Vec<u8>>,
}

impl<'a> Node<'a> {
    fn new(cert: &'a Certificate, anchor: bool) -> Self {
        Self {
            cert,
            anchor,
            subject: NameKey::of(cert.x509().tbs_certificate().subject()),
            exts: OnceCell::new(),
            spki: OnceCell::new(),
        }
    }

    fn exts(&self) -> Result<&Exts, CertError> {
        self.exts
            .get_or_init(|| exts::parse(self.cert))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn spki(&self) -> &[u8] {
        self.spki.get_or_init(|| {
            self.cert
                .x509()
                .tbs_certificate()
                .subject_public_key_info()
                .to_der()
                .unwrap_or_default()
        })
    }
}

/// One certificate of the path being built, and what the CRLs said about the link to the
/// certificate below it.
struct Step {
    node: usize,
    revocation: LinkRevocation,
}

/// A path found: leaf first, anchor last.
pub(crate) struct FoundPath {
    pub(crate) chain: Vec<Certificate>,
    pub(crate) revocation_checked: bool,
    pub(crate) skipped_crls: Vec<SkippedCrl>,
}

/// A candidate failed (try the next one), or the search must stop.
enum Failure {
    Candidate(u8, CertError),
    Fatal(CertError),
}

impl From<CertError> for Failure {
    fn from(e: CertError) -> Self {
        match e {
            CertError::PathBudgetExceeded { .. } => Self::Fatal(e),
            other => Self::Candidate(rank(&other), other),
        }
    }
}

/// One validation's search.
pub(crate) struct Search<'a> {
    validator: &'a ChainValidator,
    times: Times,
    crls: &'a [Crl],
    max_depth: usize,
    /// Node 0 is the leaf; then the candidates, trust anchors first.
    nodes: Vec<Node<'a>>,
    /// Candidates (not the leaf) by subject, in node order: looking for an issuer costs a
    /// lookup, not a comparison with every certificate sent, however many there are.
    by_subject: HashMap<NameKey, Vec<usize>>,
    meter: Meter,
    /// Signature results by (certificate node, issuer SubjectPublicKeyInfo): a certificate
    /// is verified once per issuer key, however many certificates carry that key.
    signatures: HashMap<(usize, Vec<u8>), Result<(), String>>,
    path: Vec<Step>,
    best: Option<(u8, usize, CertError)>,
}

impl<'a> Search<'a> {
    /// A search from `leaf` over the validator's trust anchors and `pool`.
    pub(crate) fn new(
        validator: &'a ChainValidator,
        times: Times,
        crls: &'a [Crl],
        leaf: &'a Certificate,
        anchors: &'a [Certificate],
        pool: &'a [Certificate],
    ) -> Self {
        let mut nodes = vec![Node::new(leaf, false)];
        let mut seen: HashSet<&[u8]> = HashSet::from([leaf.der()]);
        let mut by_subject: HashMap<NameKey, Vec<usize>> = HashMap::new();
        for (cert, anchor) in anchors
            .iter()
            .map(|c| (c, true))
            .chain(pool.iter().map(|c| (c, false)))
        {
            // Duplicates by DER (including a copy of an anchor or of the leaf) are dropped:
            // they would only multiply the paths to try.
            if !seen.insert(cert.der()) {
                continue;
            }
            let node = Node::new(cert, anchor);
            by_subject
                .entry(node.subject.clone())
                .or_default()
                .push(nodes.len());
            nodes.push(node);
        }
        Self {
            validator,
            times,
            crls,
            max_depth: validator.max_depth,
            nodes,
            by_subject,
            meter: Meter::new(validator.budget, leaf),
            signatures: HashMap::new(),
            path: Vec::new(),
            best: None,
        }
    }

    /// Searches for a path; on failure the most telling error met on the way.
    pub(crate) fn run(mut self) -> Result<FoundPath, CertError> {
        self.check_leaf()?;
        self.path.push(Step {
            node: 0,
            revocation: LinkRevocation::default(),
        });
        if !self.leaf_is_anchor() {
            match self.extend() {
                Ok(true) => {}
                Ok(false) => return Err(self.failure()),
                Err(fatal) => return Err(fatal),
            }
        }
        self.check_leaf_time()?;
        Ok(self.found())
    }

    /// Re-checks a path found earlier (the nodes are that path, in order) at a new time and
    /// with the current CRLs. Signatures are not verified again: they do not depend on time
    /// and were verified when the path was found.
    pub(crate) fn recheck(mut self) -> Result<FoundPath, CertError> {
        if self.nodes.len() > 1
            && let Some(last) = self.nodes.last_mut()
        {
            last.anchor = true;
        }
        self.check_leaf()?;
        self.path.push(Step {
            node: 0,
            revocation: LinkRevocation::default(),
        });
        for next in 1..self.nodes.len() {
            match self.check_link(next, false) {
                Ok(revocation) => self.path.push(Step {
                    node: next,
                    revocation,
                }),
                Err(Failure::Candidate(_, e) | Failure::Fatal(e)) => return Err(e),
            }
        }
        self.check_leaf_time()?;
        Ok(self.found())
    }

    fn leaf_is_anchor(&self) -> bool {
        self.nodes
            .first()
            .is_some_and(|n| self.validator.trust.contains(n.cert))
    }

    /// What does not depend on the path: the leaf's extensions decode and agree with each
    /// other.
    fn check_leaf(&self) -> Result<(), CertError> {
        let leaf = self.node(0)?;
        let exts = leaf.exts()?;
        exts::check_consistency(leaf.cert, exts)
    }

    /// The leaf's validity and critical extensions, once a path exists (a path failure is
    /// reported first, as before the search was bounded).
    fn check_leaf_time(&self) -> Result<(), CertError> {
        let leaf = self.node(0)?;
        check_validity(leaf.cert, self.times.at)?;
        if let Some(oid) = leaf.exts()?.unknown_critical {
            return Err(untrusted(
                leaf.cert,
                &format!("it has a critical extension camr does not understand ({oid})"),
            ));
        }
        Ok(())
    }

    fn node(&self, i: usize) -> Result<&Node<'a>, CertError> {
        self.nodes
            .get(i)
            .ok_or_else(|| CertError::malformed("internal: no such certificate in the search"))
    }

    fn found(self) -> FoundPath {
        let mut chain = Vec::with_capacity(self.path.len());
        let mut revocation_checked = true;
        let mut skipped_crls = Vec::new();
        for (k, step) in self.path.into_iter().enumerate() {
            if let Some(node) = self.nodes.get(step.node) {
                chain.push(node.cert.clone());
            }
            // Step k > 0 holds the revocation of the certificate below it.
            if k > 0 && !step.revocation.checked {
                revocation_checked = false;
            }
            skipped_crls.extend(step.revocation.skipped);
        }
        FoundPath {
            chain,
            revocation_checked,
            skipped_crls,
        }
    }

    fn failure(&mut self) -> CertError {
        match self.best.take() {
            Some((_, _, e)) => e,
            None => {
                let leaf = self.nodes.first().map(|n| n.cert.common_name());
                CertError::Untrusted {
                    subject: leaf.unwrap_or_default(),
                    reason: "no path to a trusted root (issuer not found among the roots and the \
                             certificates sent)"
                        .into(),
                }
            }
        }
    }

    fn record(&mut self, rank: u8, error: CertError) {
        let depth = self.path.len();
        let better = match &self.best {
            None => true,
            Some((r, d, _)) => (rank, depth) > (*r, *d),
        };
        if better {
            self.best = Some((rank, depth, error));
        }
    }

    /// Extends the path from its top certificate; `Ok(true)` when it reached an anchor.
    fn extend(&mut self) -> Result<bool, CertError> {
        let Some(top) = self.path.last().map(|s| s.node) else {
            return Ok(false);
        };
        let issuer_name = NameKey::of(self.node(top)?.cert.x509().tbs_certificate().issuer());
        let candidates = self
            .by_subject
            .get(&issuer_name)
            .cloned()
            .unwrap_or_default();
        for cand in candidates {
            self.meter.candidate()?;
            if self.in_path(cand)? {
                let issuer = self.node(cand)?.cert;
                self.record(
                    RANK_LOOP,
                    untrusted(
                        issuer,
                        "it has the name and key of a certificate already in the path (a loop, \
                         RFC 4158 5.2), and no other issuer leads to a trusted root",
                    ),
                );
                continue;
            }
            match self.check_link(cand, true) {
                Ok(revocation) => {
                    let anchor = self.node(cand)?.anchor;
                    self.path.push(Step {
                        node: cand,
                        revocation,
                    });
                    if anchor || self.extend()? {
                        return Ok(true);
                    }
                    self.path.pop();
                }
                Err(Failure::Candidate(rank, e)) => self.record(rank, e),
                Err(Failure::Fatal(e)) => return Err(e),
            }
        }
        Ok(false)
    }

    /// Whether `cand` is already in the path, or (for an intermediate) has the name and key
    /// of a certificate in it: RFC 4158 5.2, such a path loops.
    fn in_path(&self, cand: usize) -> Result<bool, CertError> {
        let node = self.node(cand)?;
        for step in &self.path {
            if step.node == cand {
                return Ok(true);
            }
            let other = self.node(step.node)?;
            if !node.anchor && other.subject == node.subject && other.spki() == node.spki() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Every check of the link "the path's top certificate was issued by `cand`", cheapest
    /// first so a doomed candidate costs no signature.
    fn check_link(&mut self, cand: usize, verify: bool) -> Result<LinkRevocation, Failure> {
        let top = self.path.last().map(|s| s.node).unwrap_or(0);
        let below: &'a Certificate = self.node(top)?.cert;
        let issuer: &'a Certificate = self.node(cand)?.cert;
        if self.path.len() + 1 > self.max_depth {
            return Err(Failure::Candidate(
                RANK_STRUCTURE,
                untrusted(
                    issuer,
                    &format!(
                        "the path would be longer than {} certificates",
                        self.max_depth
                    ),
                ),
            ));
        }
        {
            let exts = self.node(cand)?.exts()?;
            exts::check_consistency(issuer, exts)?;
            check_validity(issuer, self.times.at)?;
            self.check_ca(cand, exts)?;
            if let Some(nc) = &exts.name_constraints {
                self.check_name_constraints(issuer, nc)?;
            }
        }
        if verify {
            self.check_signature(top, cand)?;
        }
        let revocation = self.validator.check_revocation(
            below,
            issuer,
            self.times,
            self.crls,
            &mut self.meter,
        )?;
        Ok(revocation)
    }

    /// The issuer is a CA allowed to sign certificates, with room below it for the path.
    /// Trust anchors get the same checks as intermediates (policy, see `docs/pki.md`): a
    /// root is a CA certificate like any other, and a root that does not say it is one, or
    /// says it must not sign certificates, was not meant to anchor this path.
    fn check_ca(&self, cand: usize, exts: &Exts) -> Result<(), CertError> {
        let node = self.node(cand)?;
        let cert = node.cert;
        let role = if node.anchor { "trust anchor" } else { "CA" };
        if let Some(oid) = exts.unknown_critical {
            return Err(untrusted(
                cert,
                &format!("this {role} has a critical extension camr does not understand ({oid})"),
            ));
        }
        let Some(bc) = exts.basic_constraints.as_ref().filter(|bc| bc.ca) else {
            return Err(untrusted(
                cert,
                &format!(
                    "it issued a certificate but is not a CA (basicConstraints cA is not true); \
                     a {role} must state cA"
                ),
            ));
        };
        // RFC 5280 6.1.4 (l): self-issued certificates below do not count.
        let mut below = 0usize;
        for step in self.path.iter().skip(1) {
            if !is_self_issued(self.node(step.node)?.cert) {
                below += 1;
            }
        }
        if let Some(len) = bc.path_len_constraint
            && below > usize::from(len)
        {
            return Err(untrusted(
                cert,
                &format!(
                    "pathLenConstraint {len} allows fewer CA certificates below it than the \
                     {below} in the path"
                ),
            ));
        }
        if let Some(ku) = &exts.key_usage
            && !ku.0.contains(KeyUsages::KeyCertSign)
        {
            return Err(untrusted(
                cert,
                &format!("it issued a certificate but this {role}'s keyUsage lacks keyCertSign"),
            ));
        }
        Ok(())
    }

    /// The names of every certificate below `ca` in the path lie within its constraints;
    /// self-issued intermediates are exempt, the leaf never (RFC 5280 6.1.3 (b)).
    fn check_name_constraints(
        &self,
        ca: &Certificate,
        nc: &x509_cert::ext::pkix::NameConstraints,
    ) -> Result<(), CertError> {
        for (k, step) in self.path.iter().enumerate() {
            let node = self.node(step.node)?;
            if k > 0 && is_self_issued(node.cert) {
                continue;
            }
            name_constraints::check(ca, nc, node.cert, node.exts()?)?;
        }
        Ok(())
    }

    fn check_signature(&mut self, top: usize, cand: usize) -> Result<(), Failure> {
        let key = (top, self.node(cand)?.spki().to_vec());
        let result = match self.signatures.get(&key) {
            Some(r) => r.clone(),
            None => {
                self.meter.signature()?;
                let r =
                    verify_certificate(self.validator, self.node(top)?.cert, self.node(cand)?.cert);
                self.signatures.insert(key, r.clone());
                r
            }
        };
        result.map_err(|reason| {
            let below = self.nodes.get(top).map(|n| n.cert);
            let issuer = self.nodes.get(cand).map(|n| n.cert.common_name());
            Failure::Candidate(
                RANK_SIGNATURE,
                CertError::Untrusted {
                    subject: below.map(Certificate::common_name).unwrap_or_default(),
                    reason: format!(
                        "its signature does not verify with the key of `{}` ({reason})",
                        issuer.unwrap_or_default()
                    ),
                },
            )
        })
    }
}

fn verify_certificate(
    validator: &ChainValidator,
    cert: &Certificate,
    issuer: &Certificate,
) -> Result<(), String> {
    let x = cert.x509();
    if x.signature_algorithm() != x.tbs_certificate().signature() {
        return Err("the outer and inner signature algorithms differ".into());
    }
    // Verify over the TBS bytes as issued: a re-encoding can differ (x509-cert's Rfc5280
    // profile rewrites GeneralizedTime before 2050 as UTCTime).
    let tbs = signed_tbs_bytes(cert.der())?;
    let sig = x
        .signature()
        .as_bytes()
        .ok_or("signature BIT STRING has unused bits")?;
    verify_signed(
        validator.provider.as_ref(),
        issuer,
        x.signature_algorithm(),
        tbs,
        sig,
    )
}

/// Whether subject and issuer are the same name (RFC 5280 6.1: a self-issued certificate).
fn is_self_issued(cert: &Certificate) -> bool {
    let tbs = cert.x509().tbs_certificate();
    names_match(tbs.subject(), tbs.issuer())
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
