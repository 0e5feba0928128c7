//! Path building under attack and with alternatives: the budget, backtracking, the most
//! telling error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use super::testca::{DAY, Spec, ca_exts, key, leaf_exts, now};
use super::*;
use crate::crypto::{PrivateKey, default_provider};
use crate::protocol::ErrorCode;

/// A root "CN=Root" and a validator trusting it.
fn root() -> (PrivateKey, Certificate) {
    let k = key();
    let cert = Spec::new("CN=Root", &k, "CN=Root", &k, ca_exts(None)).issue();
    (k, cert)
}

fn validator(root: &Certificate) -> ChainValidator {
    let mut trust = TrustStore::new();
    trust.add(root.clone());
    ChainValidator::new(default_provider(), trust)
}

/// An attacker's chain: `n` CA certificates named "CN=Loop CA", issued by "CN=Loop CA" with
/// one key (each a valid signature, distinct serials), and a leaf issued by that name and
/// key. No path reaches the root; before the budget a depth-limited search tried every
/// ordering of them (9 of them took over a minute).
fn loop_chain(n: usize) -> (Certificate, Vec<Certificate>) {
    let k = key();
    let pool = (0..n)
        .map(|_| Spec::new("CN=Loop CA", &k, "CN=Loop CA", &k, ca_exts(None)).issue())
        .collect();
    let leaf_key = key();
    let leaf = Spec::new("CN=Bidder", &leaf_key, "CN=Loop CA", &k, leaf_exts()).issue();
    (leaf, pool)
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

#[test]
fn a_hundred_intermediates_with_one_name_and_key_are_refused_within_the_budget_quickly() {
    let (_, root) = root();
    let (leaf, pool) = loop_chain(100);
    let v = validator(&root);
    let (result, took) = timed(|| v.validate(&leaf, &pool, KeyPurpose::Any, now()));
    let e = result.unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertPathBudgetExceeded, "{e}");
    println!("100 same-name same-key intermediates: {e} in {took:?}");
    // Generous for a debug build on a shared machine; the release figure is in the
    // path_budget benchmark.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // And again (a failure is not cached: it costs the bounded search once more).
    let (result, took) = timed(|| v.validate(&leaf, &pool, KeyPurpose::Any, now()));
    assert_eq!(
        result.unwrap_err().code(),
        ErrorCode::CertPathBudgetExceeded
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn nine_intermediates_with_one_name_and_key_are_refused_as_untrusted_quickly() {
    let (_, root) = root();
    let (leaf, pool) = loop_chain(9);
    let (result, took) = timed(|| validator(&root).validate(&leaf, &pool, KeyPurpose::Any, now()));
    let e = result.unwrap_err();
    // 9 candidates at the first level, each a loop one level up: 90 candidates, within the
    // budget, and no path.
    assert_eq!(e.code(), ErrorCode::CertUntrusted, "{e}");
    println!("9 same-name same-key intermediates: {e} in {took:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn many_same_name_issuers_with_their_own_keys_exhaust_the_signature_budget() {
    let (_, root) = root();
    // 150 CAs named like the leaf's issuer, each with its own key: every one is a
    // signature verification (that fails) for the leaf.
    let keys: Vec<PrivateKey> = (0..150).map(|_| key()).collect();
    let pool: Vec<Certificate> = keys
        .iter()
        .map(|k| Spec::new("CN=Many CA", k, "CN=Root", k, ca_exts(None)).issue())
        .collect();
    let (leaf_key, other) = (key(), key());
    let leaf = Spec::new("CN=Bidder", &leaf_key, "CN=Many CA", &other, leaf_exts()).issue();
    let (result, took) = timed(|| validator(&root).validate(&leaf, &pool, KeyPurpose::Any, now()));
    let e = result.unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertPathBudgetExceeded, "{e}");
    assert!(e.to_string().contains("100 signature checks"), "{e}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// Root → "CN=Issuing CA" → leaf, the honest chain.
struct Honest {
    root: Certificate,
    ca: Certificate,
    leaf: Certificate,
}

fn honest() -> Honest {
    let (rk, root) = root();
    let ck = key();
    let ca = Spec::new("CN=Issuing CA", &ck, "CN=Root", &rk, ca_exts(Some(0))).issue();
    let lk = key();
    let leaf = Spec::new("CN=Bidder", &lk, "CN=Issuing CA", &ck, leaf_exts()).issue();
    Honest { root, ca, leaf }
}

#[test]
fn the_budget_and_the_depth_are_configurable() {
    let h = honest();
    let chain = [h.ca.clone()];
    // Two signatures (leaf, issuing CA): a budget of 2 is enough, 1 is not.
    let tight = |n| {
        validator(&h.root).with_budget(PathBudget {
            max_signature_checks: n,
            max_candidates: DEFAULT_MAX_CANDIDATES,
        })
    };
    tight(2)
        .validate(&h.leaf, &chain, KeyPurpose::Sign, now())
        .unwrap();
    let e = tight(1)
        .validate(&h.leaf, &chain, KeyPurpose::Sign, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertPathBudgetExceeded, "{e}");
    // Two candidates (the issuing CA, then the root) are enough, one is not.
    let few = |n| {
        validator(&h.root).with_budget(PathBudget {
            max_signature_checks: DEFAULT_MAX_SIGNATURE_CHECKS,
            max_candidates: n,
        })
    };
    few(2)
        .validate(&h.leaf, &chain, KeyPurpose::Sign, now())
        .unwrap();
    let e = few(1)
        .validate(&h.leaf, &chain, KeyPurpose::Sign, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertPathBudgetExceeded, "{e}");
    // The path is three certificates long.
    let short = validator(&h.root).with_max_depth(2);
    let e = short
        .validate(&h.leaf, &chain, KeyPurpose::Sign, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertUntrusted, "{e}");
    assert!(e.to_string().contains("longer than 2"), "{e}");
    validator(&h.root)
        .with_max_depth(3)
        .validate(&h.leaf, &chain, KeyPurpose::Sign, now())
        .unwrap();
}

/// The issuing CA issued twice with one key: once long expired, once valid.
fn duplicate_issuing_ca(both_expired: bool) -> (Certificate, Certificate, Vec<Certificate>) {
    let (rk, root) = root();
    let ck = key();
    let expired = Spec::new("CN=Issuing CA", &ck, "CN=Root", &rk, ca_exts(Some(0)))
        .valid(now() - 800 * DAY, now() - 400 * DAY)
        .issue();
    let second = Spec::new("CN=Issuing CA", &ck, "CN=Root", &rk, ca_exts(Some(0)));
    let second = if both_expired {
        second.valid(now() - 700 * DAY, now() - 300 * DAY)
    } else {
        second
    }
    .issue();
    let lk = key();
    let leaf = Spec::new("CN=Bidder", &lk, "CN=Issuing CA", &ck, leaf_exts())
        .valid(now() - DAY, now() + 30 * DAY)
        .issue();
    (root, leaf, vec![expired, second])
}

#[test]
fn an_expired_copy_of_the_issuing_ca_offered_first_is_passed_over_for_the_valid_one() {
    let (root, leaf, pool) = duplicate_issuing_ca(false);
    let v = validator(&root);
    let ok = v.validate(&leaf, &pool, KeyPurpose::Sign, now()).unwrap();
    assert_eq!(ok.chain.len(), 3);
    assert_eq!(ok.chain[1], pool[1], "the valid copy is in the path");
    // Whatever the order.
    let reversed: Vec<_> = pool.iter().rev().cloned().collect();
    let ok = v
        .validate(&leaf, &reversed, KeyPurpose::Sign, now())
        .unwrap();
    assert_eq!(ok.chain[1], pool[1]);
}

#[test]
fn when_every_copy_of_the_issuing_ca_is_expired_the_refusal_says_expired() {
    let (root, leaf, pool) = duplicate_issuing_ca(true);
    let e = validator(&root)
        .validate(&leaf, &pool, KeyPurpose::Sign, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertExpired, "{e}");
    assert!(e.to_string().contains("Issuing CA"), "{e}");
}

#[test]
fn a_stranger_with_the_issuers_name_is_passed_over_and_duplicates_are_tried_once() {
    let h = honest();
    let sk = key();
    // Same name as the issuing CA, another key, offered first and several times.
    let stranger = Spec::new("CN=Issuing CA", &sk, "CN=Root", &sk, ca_exts(Some(0))).issue();
    let pool = vec![
        stranger.clone(),
        stranger.clone(),
        stranger,
        h.ca.clone(),
        h.ca.clone(),
    ];
    let ok = validator(&h.root)
        .validate(&h.leaf, &pool, KeyPurpose::Sign, now())
        .unwrap();
    assert_eq!(ok.chain[1], h.ca);
    // Without the real issuing CA: the stranger's signature failure is the reason.
    let e = validator(&h.root)
        .validate(&h.leaf, &pool[..3], KeyPurpose::Sign, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertUntrusted, "{e}");
    assert!(e.to_string().contains("does not verify"), "{e}");
}

#[test]
fn a_cached_path_that_no_longer_passes_is_searched_again() {
    // Two valid copies of the issuing CA, the first one expiring in a minute: once it has,
    // the cached path through it fails its re-check and the search finds the other.
    let (rk, root) = root();
    let ck = key();
    let t = now();
    let short = Spec::new("CN=Issuing CA", &ck, "CN=Root", &rk, ca_exts(Some(0)))
        .valid(t - DAY, t + 60)
        .issue();
    let long = Spec::new("CN=Issuing CA", &ck, "CN=Root", &rk, ca_exts(Some(0))).issue();
    let lk = key();
    let leaf = Spec::new("CN=Bidder", &lk, "CN=Issuing CA", &ck, leaf_exts()).issue();
    let pool = vec![short.clone(), long.clone()];
    let v = validator(&root);
    let first = v.validate(&leaf, &pool, KeyPurpose::Sign, t).unwrap();
    assert_eq!(first.chain[1], short);
    let later = v.validate(&leaf, &pool, KeyPurpose::Sign, t + 120).unwrap();
    assert_eq!(later.chain[1], long);
}

#[test]
fn a_revoked_copy_of_the_issuing_ca_is_passed_over_for_one_that_is_not() {
    let (rk, root) = root();
    let ck = key();
    let revoked = Spec::new("CN=Issuing CA", &ck, "CN=Root", &rk, ca_exts(Some(0))).issue();
    let kept = Spec::new("CN=Issuing CA", &ck, "CN=Root", &rk, ca_exts(Some(0))).issue();
    let lk = key();
    let leaf = Spec::new("CN=Bidder", &lk, "CN=Issuing CA", &ck, leaf_exts()).issue();
    let root_crl = super::testca::crl(
        &root,
        &rk,
        &[&revoked],
        vec![super::testca::crl_number(false)],
    );
    let v = validator(&root).with_crls(vec![root_crl]);
    let ok = v
        .validate(
            &leaf,
            &[revoked.clone(), kept.clone()],
            KeyPurpose::Sign,
            now(),
        )
        .unwrap();
    assert_eq!(ok.chain[1], kept);
    let e = v
        .validate(&leaf, &[revoked], KeyPurpose::Sign, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevoked, "{e}");
}

#[test]
fn thousands_of_unrelated_certificates_sent_along_cost_a_lookup_not_a_search() {
    let h = honest();
    let k = key();
    let mut pool: Vec<Certificate> = (0..2000)
        .map(|i| {
            let subject = format!("CN=Noise {i}");
            Spec::new(&subject, &k, &subject, &k, ca_exts(None)).issue()
        })
        .collect();
    pool.push(h.ca.clone());
    let (result, took) =
        timed(|| validator(&h.root).validate(&h.leaf, &pool, KeyPurpose::Sign, now()));
    assert_eq!(result.unwrap().chain[1], h.ca);
    println!("honest chain among 2000 unrelated certificates: {took:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}
