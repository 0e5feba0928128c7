//! The RFC 5280 rules of issue 20 with certificates made for each: trust anchors, the CRL
//! profile, strict extensions, name constraints. Each refusal has its valid counterpart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use der::asn1::{Ia5String, OctetString};
use der::oid::AssociatedOid;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    NameConstraints, SubjectAltName,
};

use super::testca::{Spec, ca_exts, crl, crl_number, ext, key, leaf_exts, name, now, raw_ext};
use super::*;
use crate::crypto::{PrivateKey, default_provider};
use crate::protocol::ErrorCode;

/// A root with `root_exts`, an issuing CA with `ca_extra` added to its CA extensions, a leaf
/// with `leaf_extra` added to its end-entity extensions.
struct Chain {
    root: Certificate,
    root_key: PrivateKey,
    ca: Certificate,
    ca_key: PrivateKey,
    leaf: Certificate,
}

fn chain_with(
    root_exts: Vec<Extension>,
    ca_exts_: Vec<Extension>,
    leaf_subject: &str,
    leaf_extra: Vec<Extension>,
) -> Chain {
    let root_key = key();
    let root = Spec::new("CN=Root", &root_key, "CN=Root", &root_key, root_exts).issue();
    let ca_key = key();
    let ca = Spec::new("CN=Issuing CA", &ca_key, "CN=Root", &root_key, ca_exts_).issue();
    let lk = key();
    let mut exts = leaf_exts();
    exts.extend(leaf_extra);
    let leaf = Spec::new(leaf_subject, &lk, "CN=Issuing CA", &ca_key, exts).issue();
    Chain {
        root,
        root_key,
        ca,
        ca_key,
        leaf,
    }
}

fn plain(leaf_extra: Vec<Extension>) -> Chain {
    chain_with(ca_exts(None), ca_exts(Some(0)), "CN=Bidder", leaf_extra)
}

impl Chain {
    fn validator(&self) -> ChainValidator {
        let mut trust = TrustStore::new();
        trust.add(self.root.clone());
        ChainValidator::new(default_provider(), trust)
    }

    fn check(&self, v: &ChainValidator) -> Result<ValidatedChain, CertError> {
        v.validate(
            &self.leaf,
            std::slice::from_ref(&self.ca),
            KeyPurpose::Sign,
            now(),
        )
    }

    fn refused(&self, code: ErrorCode, says: &str) {
        let e = self.check(&self.validator()).unwrap_err();
        assert_eq!(e.code(), code, "{e}");
        assert!(e.to_string().contains(says), "`{e}` should say `{says}`");
    }
}

const OID_UNKNOWN: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");

fn unknown(critical: bool) -> Extension {
    raw_ext(OID_UNKNOWN, critical, vec![0x05, 0x00])
}

// --- Trust anchors -------------------------------------------------------------------------

#[test]
fn a_root_with_an_unknown_critical_extension_is_refused_and_a_non_critical_one_is_not() {
    let mut exts = ca_exts(None);
    exts.push(unknown(true));
    chain_with(exts, ca_exts(Some(0)), "CN=Bidder", vec![]).refused(
        ErrorCode::CertUntrusted,
        "trust anchor has a critical extension camr does not understand",
    );
    let mut exts = ca_exts(None);
    exts.push(unknown(false));
    let c = chain_with(exts, ca_exts(Some(0)), "CN=Bidder", vec![]);
    c.check(&c.validator()).unwrap();
}

#[test]
fn a_root_that_is_not_a_ca_or_may_not_sign_certificates_is_refused() {
    // No extensions at all (an old v1-style root).
    chain_with(vec![], ca_exts(Some(0)), "CN=Bidder", vec![])
        .refused(ErrorCode::CertUntrusted, "a trust anchor must state cA");
    // cA, but keyUsage cRLSign only.
    let exts = vec![
        ext(
            BasicConstraints::OID,
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: None,
            },
        ),
        ext(KeyUsage::OID, true, &KeyUsage(KeyUsages::CRLSign.into())),
    ];
    chain_with(exts, ca_exts(Some(0)), "CN=Bidder", vec![]).refused(
        ErrorCode::CertUntrusted,
        "trust anchor's keyUsage lacks keyCertSign",
    );
    // keyCertSign without cA: inconsistent.
    let exts = vec![ext(
        KeyUsage::OID,
        true,
        &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
    )];
    chain_with(exts, ca_exts(Some(0)), "CN=Bidder", vec![]).refused(
        ErrorCode::CertUntrusted,
        "asserts keyCertSign but it is not a CA",
    );
    // A root's pathLenConstraint counts too: 0 leaves no room for the issuing CA.
    chain_with(ca_exts(Some(0)), ca_exts(Some(0)), "CN=Bidder", vec![])
        .refused(ErrorCode::CertUntrusted, "pathLenConstraint 0");
    // The valid counterpart.
    let c = plain(vec![]);
    c.check(&c.validator()).unwrap();
}

// --- CRL profile ---------------------------------------------------------------------------

#[test]
fn a_crl_without_crl_number_or_with_a_critical_one_is_not_used_and_best_effort_says_so() {
    for (extensions, says) in [
        (vec![], "no cRLNumber"),
        (vec![crl_number(true)], "cRLNumber is critical"),
    ] {
        let c = plain(vec![]);
        let bad = crl(&c.ca, &c.ca_key, &[&c.leaf], extensions);
        // Best effort: accepted, and the result names the CRL that was ignored.
        let v = c.validator().with_crls(vec![bad.clone()]);
        let ok = c.check(&v).unwrap();
        assert!(!ok.revocation_checked);
        assert_eq!(ok.skipped_crls.len(), 1, "{:?}", ok.skipped_crls);
        assert_eq!(ok.skipped_crls[0].issuer, "Issuing CA");
        assert_eq!(ok.skipped_crls[0].certificate, "Bidder");
        assert!(
            ok.skipped_crls[0].reason.contains(says),
            "{:?}",
            ok.skipped_crls
        );
        // Required: revocation unknown, with the reason.
        let v = c
            .validator()
            .with_crls(vec![bad])
            .with_policy(RevocationPolicy::Require);
        let e = c.check(&v).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CertRevocationUnknown, "{e}");
        assert!(e.to_string().contains(says), "{e}");
    }
    // The well-formed CRL is used: the leaf is revoked.
    let c = plain(vec![]);
    let good = crl(&c.ca, &c.ca_key, &[&c.leaf], vec![crl_number(false)]);
    let e = c.check(&c.validator().with_crls(vec![good])).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevoked, "{e}");
}

#[test]
fn a_crl_from_an_issuer_without_crl_sign_is_recorded_as_skipped() {
    let ca = vec![
        ext(
            BasicConstraints::OID,
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            },
        ),
        ext(
            KeyUsage::OID,
            true,
            &KeyUsage(KeyUsages::KeyCertSign.into()),
        ),
    ];
    let c = chain_with(ca_exts(None), ca, "CN=Bidder", vec![]);
    let list = crl(&c.ca, &c.ca_key, &[], vec![crl_number(false)]);
    let ok = c
        .check(&c.validator().with_crls(vec![list.clone()]))
        .unwrap();
    assert!(!ok.revocation_checked);
    assert!(
        ok.skipped_crls[0].reason.contains("cRLSign"),
        "{:?}",
        ok.skipped_crls
    );
    // The root's CRL for the issuing CA is fine; the issuing CA's own is the skipped one.
    let root_crl = crl(&c.root, &c.root_key, &[], vec![crl_number(false)]);
    let e = c
        .check(
            &c.validator()
                .with_crls(vec![list, root_crl])
                .with_policy(RevocationPolicy::Require),
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertRevocationUnknown, "{e}");
    assert!(e.to_string().contains("cRLSign"), "{e}");
}

// --- Strict extensions ---------------------------------------------------------------------

fn dns(s: &str) -> GeneralName {
    GeneralName::DnsName(Ia5String::new(s).unwrap())
}

fn san(names: Vec<GeneralName>) -> Extension {
    ext(SubjectAltName::OID, false, &SubjectAltName(names))
}

#[test]
fn malformed_empty_or_duplicated_extensions_are_malformed_even_when_unused() {
    let aia_oid = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
    let cases: Vec<(Vec<Extension>, &str)> = vec![
        (
            vec![raw_ext(SubjectAltName::OID, false, vec![0x30, 0x03, 0x01])],
            "subjectAltName",
        ),
        (
            vec![
                san(vec![dns("a.example.cn")]),
                san(vec![dns("b.example.cn")]),
            ],
            "twice",
        ),
        (
            vec![raw_ext(ExtendedKeyUsage::OID, false, vec![0x30, 0x00])],
            "extKeyUsage",
        ),
        (
            vec![raw_ext(aia_oid, false, vec![0x30, 0x02, 0x05, 0x00])],
            "authorityInfoAccess",
        ),
        (
            vec![ext(
                AuthorityKeyIdentifier::OID,
                true,
                &AuthorityKeyIdentifier {
                    key_identifier: Some(OctetString::new(vec![1; 20]).unwrap()),
                    authority_cert_issuer: None,
                    authority_cert_serial_number: None,
                },
            )],
            "authorityKeyIdentifier",
        ),
    ];
    for (extra, says) in cases {
        plain(extra).refused(ErrorCode::CertMalformed, says);
    }
    // The same extensions, well formed, pass.
    let eku = ExtendedKeyUsage(vec![der::asn1::ObjectIdentifier::new_unwrap(
        "1.3.6.1.5.5.7.3.4",
    )]);
    let c = plain(vec![
        san(vec![dns("a.example.cn")]),
        ext(ExtendedKeyUsage::OID, false, &eku),
    ]);
    c.check(&c.validator()).unwrap();
    // A malformed extension in the issuing CA: that candidate fails as malformed.
    let mut ca = ca_exts(Some(0));
    ca.push(raw_ext(ExtendedKeyUsage::OID, false, vec![0x30, 0x00]));
    chain_with(ca_exts(None), ca, "CN=Bidder", vec![])
        .refused(ErrorCode::CertMalformed, "extKeyUsage");
}

#[test]
fn an_end_entity_claiming_key_cert_sign_or_carrying_name_constraints_is_refused() {
    let signer_leaf = vec![ext(
        KeyUsage::OID,
        true,
        &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::KeyCertSign),
    )];
    // Replace the leaf's keyUsage (leaf_exts has one; a second would be a duplicate).
    let c = chain_with(ca_exts(None), ca_exts(Some(0)), "CN=Bidder", vec![]);
    let lk = key();
    let mut exts = vec![leaf_exts().remove(0)];
    exts.extend(signer_leaf);
    let leaf = Spec::new("CN=Bidder", &lk, "CN=Issuing CA", &c.ca_key, exts).issue();
    let e = c
        .validator()
        .validate(&leaf, std::slice::from_ref(&c.ca), KeyPurpose::Sign, now())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertUntrusted, "{e}");
    assert!(
        e.to_string().contains("keyCertSign but it is not a CA"),
        "{e}"
    );
    plain(vec![permit_dns("example.cn")]).refused(
        ErrorCode::CertUntrusted,
        "end-entity certificate with name constraints",
    );
}

// --- Name constraints ----------------------------------------------------------------------

fn subtree(base: GeneralName) -> GeneralSubtree {
    GeneralSubtree {
        base,
        minimum: 0,
        maximum: None,
    }
}

fn nc(permitted: Vec<GeneralName>, excluded: Vec<GeneralName>) -> Extension {
    let list = |v: Vec<GeneralName>| (!v.is_empty()).then(|| v.into_iter().map(subtree).collect());
    ext(
        NameConstraints::OID,
        true,
        &NameConstraints {
            permitted_subtrees: list(permitted),
            excluded_subtrees: list(excluded),
        },
    )
}

fn permit_dns(d: &str) -> Extension {
    nc(vec![dns(d)], vec![])
}

fn email(s: &str) -> GeneralName {
    GeneralName::Rfc822Name(Ia5String::new(s).unwrap())
}

fn ip(bytes: &[u8]) -> GeneralName {
    GeneralName::IpAddress(OctetString::new(bytes.to_vec()).unwrap())
}

/// An issuing CA constrained to O=Good Org, *.example.cn, 10.0.0.0/8, not mail at evil.cn.
fn constrained_ca() -> Vec<Extension> {
    let mut exts = ca_exts(Some(0));
    exts.push(nc(
        vec![
            GeneralName::DirectoryName(name("O=Good Org")),
            dns("example.cn"),
            ip(&[10, 0, 0, 0, 255, 0, 0, 0]),
        ],
        vec![email("evil.cn")],
    ));
    exts
}

#[test]
fn a_constrained_hierarchy_accepts_names_inside_and_refuses_names_outside() {
    let inside = vec![san(vec![
        dns("www.example.cn"),
        ip(&[10, 1, 2, 3]),
        email("bid@good.cn"),
    ])];
    let c = chain_with(
        ca_exts(None),
        constrained_ca(),
        "CN=Bidder,O=Good Org",
        inside,
    );
    c.check(&c.validator()).unwrap();
    let outside: Vec<(&str, Vec<GeneralName>, &str)> = vec![
        (
            "CN=Bidder,O=Good Org",
            vec![dns("www.evil.cn")],
            "dNSName `www.evil.cn`",
        ),
        (
            "CN=Bidder,O=Good Org",
            vec![ip(&[192, 168, 1, 1])],
            "iPAddress 192.168.1.1",
        ),
        (
            "CN=Bidder,O=Good Org",
            vec![email("x@evil.cn")],
            "excluded subtree",
        ),
        (
            "CN=Bidder,O=Other Org",
            vec![dns("www.example.cn")],
            "outside the permitted",
        ),
    ];
    for (subject, names, says) in outside {
        chain_with(ca_exts(None), constrained_ca(), subject, vec![san(names)])
            .refused(ErrorCode::CertUntrusted, says);
    }
    // A constraint on a form camr does not check (URI), with such a name below: refused.
    let mut ca = ca_exts(Some(0));
    let uri = GeneralName::UniformResourceIdentifier(Ia5String::new("http://example.cn").unwrap());
    ca.push(nc(vec![uri.clone()], vec![]));
    chain_with(ca_exts(None), ca, "CN=Bidder", vec![san(vec![uri])])
        .refused(ErrorCode::CertUntrusted, "cannot check");
}

#[test]
fn name_constraints_in_a_trust_anchor_are_enforced() {
    let mut root = ca_exts(None);
    root.push(permit_dns("example.cn"));
    let c = chain_with(
        root.clone(),
        ca_exts(Some(0)),
        "CN=Bidder",
        vec![san(vec![dns("a.example.cn")])],
    );
    c.check(&c.validator()).unwrap();
    chain_with(
        root,
        ca_exts(Some(0)),
        "CN=Bidder",
        vec![san(vec![dns("a.other.cn")])],
    )
    .refused(ErrorCode::CertUntrusted, "name constraints of `Root`");
}
