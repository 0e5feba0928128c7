#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::*;
use crate::crypto::{KeyAlgorithm, default_provider};
use crate::softca::{CaUrls, Holder, RevocationReason, SoftCa, wallet_files};

/// The CA's cloud without a network: GET …/crl signs a CRL, POST …/ocsp answers, as
/// softca-cloud does; `down` makes every call fail; `calls` counts them.
#[derive(Debug)]
struct FakeCloud {
    ca_dir: PathBuf,
    down: AtomicBool,
    calls: AtomicUsize,
    /// Serve this CRL instead of a fresh one.
    crl_override: Mutex<Option<Vec<u8>>>,
}

impl HttpFetch for FakeCloud {
    fn fetch(&self, request: &HttpRequest<'_>) -> Result<Vec<u8>, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err("connection refused".into());
        }
        let mut ca = SoftCa::open(default_provider(), &self.ca_dir).unwrap();
        let now = crate::qr::unix_now();
        match request.post {
            None if request.url.ends_with("/crl") => {
                if let Some(der) = self.crl_override.lock().unwrap().clone() {
                    return Ok(der);
                }
                Ok(ca.crl(now).unwrap().der().to_vec())
            }
            Some(("application/ocsp-request", body)) if request.url.ends_with("/ocsp") => {
                Ok(ca.ocsp_response(body, now))
            }
            _ => Err(format!("404 {}", request.url)),
        }
    }
}

struct World {
    _dir: tempfile::TempDir,
    cloud: Arc<FakeCloud>,
    leaf: Certificate,
    issuer: Certificate,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let mut ca = SoftCa::init(default_provider(), &ca_dir, KeyAlgorithm::Sm2, "Source CA").unwrap();
    ca.set_urls(CaUrls {
        crl_url: Some("http://ca.example/crl".into()),
        ocsp_url: Some("http://ca.example/ocsp".into()),
        ca_issuers_url: Some("http://ca.example/ca.cer".into()),
    })
    .unwrap();
    let holder = Holder::personal("张三");
    let w = dir.path().join("w");
    ca.issue(&holder, b"123456", &w, 30).unwrap();
    let leaf =
        Certificate::parse_one(&std::fs::read(w.join(wallet_files::SIGN_CERT)).unwrap()).unwrap();
    World {
        issuer: ca.issuing_ca().clone(),
        cloud: Arc::new(FakeCloud {
            ca_dir,
            down: AtomicBool::new(false),
            calls: AtomicUsize::new(0),
            crl_override: Mutex::new(None),
        }),
        leaf,
        _dir: dir,
    }
}

fn now() -> i64 {
    crate::qr::unix_now()
}

impl World {
    fn revoke(&self, reason: RevocationReason) {
        let mut ca = SoftCa::open(default_provider(), &self.cloud.ca_dir).unwrap();
        ca.revoke(&self.leaf.serial_hex(), reason, now() - 5)
            .unwrap();
    }
}

#[test]
fn issued_certificates_name_the_cas_urls() {
    let w = world();
    assert_eq!(w.leaf.crl_urls(), ["http://ca.example/crl"]);
    assert_eq!(w.leaf.ocsp_urls(), ["http://ca.example/ocsp"]);
    assert_eq!(w.leaf.ca_issuers_urls(), ["http://ca.example/ca.cer"]);
    assert!(w.issuer.crl_urls().is_empty());
}

#[test]
fn the_crl_distribution_point_says_good_then_revoked_after_its_cache_runs_out() {
    let w = world();
    let source = CrlDpSource::new(w.cloud.clone(), default_provider());
    let e = source.status(&w.leaf, &w.issuer, now()).unwrap();
    assert_eq!(e.status, RevocationStatus::Good);
    assert_eq!(e.source, SourceKind::CrlDistributionPoint);
    assert_eq!(e.url.as_deref(), Some("http://ca.example/crl"));
    assert!(e.crl_number.is_some());
    w.revoke(RevocationReason::KeyCompromise);
    // Cached until nextUpdate: one fetch so far, the cached CRL still says good.
    assert_eq!(
        source.status(&w.leaf, &w.issuer, now()).unwrap().status,
        RevocationStatus::Good
    );
    assert_eq!(w.cloud.calls.load(Ordering::SeqCst), 1);
    // Near nextUpdate (refresh_before), a new CRL is fetched and says revoked.
    let next = e.next_update.unwrap();
    let e = source.status(&w.leaf, &w.issuer, next - 10).unwrap();
    assert!(
        matches!(e.status, RevocationStatus::Revoked { .. }),
        "{e:?}"
    );
}

#[test]
fn a_crl_signed_by_another_key_or_past_next_update_is_not_used() {
    let w = world();
    let source = CrlDpSource::new(w.cloud.clone(), default_provider());
    let stranger = tempfile::tempdir().unwrap();
    // Another CA with the same name: same issuer DN, another key.
    let mut other = SoftCa::init(
        default_provider(),
        stranger.path(),
        KeyAlgorithm::Sm2,
        "Source CA",
    )
    .unwrap();
    *w.cloud.crl_override.lock().unwrap() = Some(other.crl(now()).unwrap().der().to_vec());
    let e = source.status(&w.leaf, &w.issuer, now()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CrlSignatureInvalid, "{e}");
    // The CA's own CRL, judged after its nextUpdate: stale; with a grace that covers it, used.
    *w.cloud.crl_override.lock().unwrap() = None;
    let later = now() + crate::softca::CRL_VALIDITY_SECS as i64 + 3600;
    let mut ca = SoftCa::open(default_provider(), &w.cloud.ca_dir).unwrap();
    let crl = ca.crl(now()).unwrap();
    *w.cloud.crl_override.lock().unwrap() = Some(crl.der().to_vec());
    let e = source.status(&w.leaf, &w.issuer, later).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CrlStale, "{e}");
    let mut lenient = CrlDpSource::new(w.cloud.clone(), default_provider());
    lenient.grace_secs = 2 * 3600;
    assert_eq!(
        lenient.status(&w.leaf, &w.issuer, later).unwrap().status,
        RevocationStatus::Good
    );
}

#[test]
fn ocsp_then_crl_falls_back_and_an_unreachable_ca_leaves_the_status_unknown() {
    let w = world();
    let provider = default_provider();
    let ocsp = Arc::new(OcspSource::new(w.cloud.clone(), provider.clone()));
    let crl_dp = Arc::new(CrlDpSource::new(w.cloud.clone(), provider.clone()));
    let sources = OrderedSources(vec![ocsp.clone(), crl_dp]);
    let e = sources.status(&w.leaf, &w.issuer, now()).unwrap();
    assert_eq!(e.source, SourceKind::Ocsp);
    assert_eq!(e.status, RevocationStatus::Good);
    assert!(e.produced_at.is_some());
    // Frozen at the CA: a fresh source sees it (the cached answer holds until nextUpdate).
    w.revoke(RevocationReason::CertificateHold);
    let fresh = OcspSource::new(w.cloud.clone(), provider.clone());
    assert!(matches!(
        fresh.status(&w.leaf, &w.issuer, now()).unwrap().status,
        RevocationStatus::Frozen { .. }
    ));
    // The CA is down: nothing cached in new sources, every source fails → unknown.
    w.cloud.down.store(true, Ordering::SeqCst);
    let cold = OrderedSources(vec![
        Arc::new(OcspSource::new(w.cloud.clone(), provider.clone())),
        Arc::new(CrlDpSource::new(w.cloud.clone(), provider.clone())),
        Arc::new(CrlFileSource::new(provider.clone(), vec![], 0)),
    ]);
    let e = cold.status(&w.leaf, &w.issuer, now()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevocationUnknown, "{e}");
    assert!(e.to_string().contains("connection refused"), "{e}");
    let single = OcspSource::new(w.cloud.clone(), provider);
    assert_eq!(
        single.status(&w.leaf, &w.issuer, now()).unwrap_err().code(),
        ErrorCode::RevocationSourceUnavailable
    );
}

#[test]
fn configured_crl_files_are_checked_like_fetched_ones() {
    let w = world();
    let provider = default_provider();
    let mut ca = SoftCa::open(provider.clone(), &w.cloud.ca_dir).unwrap();
    ca.revoke(
        &w.leaf.serial_hex(),
        RevocationReason::KeyCompromise,
        now() - 5,
    )
    .unwrap();
    let files = CrlFileSource::new(provider, vec![ca.crl(now()).unwrap()], 0);
    let e = files.status(&w.leaf, &w.issuer, now()).unwrap();
    assert_eq!(e.source, SourceKind::CrlFile);
    assert!(
        matches!(
            e.status,
            RevocationStatus::Revoked {
                reason: Some(1),
                ..
            }
        ),
        "{e:?}"
    );
    files.replace(vec![]);
    assert_eq!(
        files.status(&w.leaf, &w.issuer, now()).unwrap_err().code(),
        ErrorCode::CertRevocationUnknown
    );
}

#[test]
fn a_validated_chain_is_refused_once_its_leaf_is_revoked_and_a_seal_before_stays_valid() {
    use crate::pki::{
        ChainValidator, KeyPurpose, RevocationPolicy, TrustStore, check_chain_revocation,
    };
    let w = world();
    let provider = default_provider();
    let ca = SoftCa::open(provider.clone(), &w.cloud.ca_dir).unwrap();
    let mut trust = TrustStore::new();
    trust.add(ca.root().clone());
    let validator = ChainValidator::new(provider.clone(), trust);
    let chain = validator
        .validate(
            &w.leaf,
            std::slice::from_ref(&w.issuer),
            KeyPurpose::Sign,
            now(),
        )
        .unwrap();
    let ocsp = OcspSource::new(w.cloud.clone(), provider.clone());
    // The intermediate names no responder (the root publishes nothing): best effort checks
    // the leaf only, Require refuses.
    let evidence =
        check_chain_revocation(&ocsp, &chain, now(), now(), RevocationPolicy::BestEffort).unwrap();
    assert_eq!(evidence.len(), 1, "{evidence:?}");
    assert_eq!(evidence[0].status, RevocationStatus::Good);
    let e =
        check_chain_revocation(&ocsp, &chain, now(), now(), RevocationPolicy::Require).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevocationUnknown, "{e}");
    let sources = OrderedSources(vec![
        Arc::new(OcspSource::new(w.cloud.clone(), provider.clone())),
        Arc::new(CrlFileSource::new(provider.clone(), vec![], 0)),
    ]);
    let before = now() - 100;
    w.revoke(RevocationReason::KeyCompromise);
    let e = check_chain_revocation(&sources, &chain, now(), now(), RevocationPolicy::Require)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevoked, "{e}");
    // A signature made before the revocation: still valid at its time.
    let ok = check_chain_revocation(
        &sources,
        &chain,
        before,
        now(),
        RevocationPolicy::BestEffort,
    );
    assert!(ok.is_ok_and(|e| e.len() == 1));
    w.cloud.down.store(true, Ordering::SeqCst);
    let cold = OcspSource::new(w.cloud.clone(), provider);
    let e =
        check_chain_revocation(&cold, &chain, now(), now(), RevocationPolicy::Require).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevocationUnknown, "{e}");
    assert!(
        check_chain_revocation(&cold, &chain, now(), now(), RevocationPolicy::BestEffort)
            .unwrap()
            .is_empty()
    );
}
