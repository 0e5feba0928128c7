//! Name constraints (RFC 5280 4.2.1.10 and 6.1.3 (b)-(c), 6.1.4 (g)).
//!
//! A CA whose certificate carries name constraints limits the names of every certificate
//! below it in the path: the subject distinguished name and the subjectAltName entries
//! (directoryName, dNSName, rfc822Name, iPAddress). Checking each constraining CA on its own
//! against every name below it is equivalent to the RFC's running intersection of permitted
//! subtrees and union of excluded ones, and it fits a search that adds one issuer at a time.

use x509_cert::ext::pkix::NameConstraints;
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use super::exts::Exts;
use super::names::{attr, within_subtree};
use super::{CertError, Certificate};

/// PKCS #9 emailAddress: 4.2.1.10 applies rfc822Name constraints to it when a certificate has
/// no subjectAltName.
const OID_EMAIL_ADDRESS: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");

/// Checks the names of `cert` (with its parsed extensions) against the name constraints of
/// the CA `ca`.
pub(crate) fn check(
    ca: &Certificate,
    nc: &NameConstraints,
    cert: &Certificate,
    exts: &Exts,
) -> Result<(), CertError> {
    let names = names_of(cert, exts);
    let violation = |name: &GeneralName, why: &str| CertError::Untrusted {
        subject: cert.common_name(),
        reason: format!(
            "its name {} {why} of the name constraints of `{}`",
            describe(name),
            ca.common_name()
        ),
    };
    for name in &names {
        for subtree in nc.excluded_subtrees.iter().flatten() {
            if same_form(&subtree.base, name) && matches(subtree, name, ca)? {
                return Err(violation(name, "is in an excluded subtree"));
            }
        }
        let permitted: Vec<&GeneralSubtree> = nc
            .permitted_subtrees
            .iter()
            .flatten()
            .filter(|s| same_form(&s.base, name))
            .collect();
        if permitted.is_empty() {
            continue;
        }
        let mut inside = false;
        for subtree in permitted {
            if matches(subtree, name, ca)? {
                inside = true;
                break;
            }
        }
        if !inside {
            return Err(violation(name, "is outside the permitted subtrees"));
        }
    }
    Ok(())
}

/// The names a constraint applies to: a non-empty subject DN, every subjectAltName entry, and
/// without a subjectAltName the subject's emailAddress attributes as rfc822Name.
fn names_of(cert: &Certificate, exts: &Exts) -> Vec<GeneralName> {
    let subject = cert.x509().tbs_certificate().subject();
    let mut names = Vec::new();
    if subject.iter_rdn().next().is_some() {
        names.push(GeneralName::DirectoryName(subject.clone()));
    }
    match &exts.subject_alt_names {
        Some(san) => names.extend(san.iter().cloned()),
        None => {
            if let Some(email) = attr(subject, OID_EMAIL_ADDRESS)
                && let Ok(ia5) = der::asn1::Ia5String::new(&email)
            {
                names.push(GeneralName::Rfc822Name(ia5));
            }
        }
    }
    names
}

fn same_form(a: &GeneralName, b: &GeneralName) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Whether `name` (of the same form as the subtree's base) lies in `subtree`. A constraint on
/// a name form camr does not implement is an error when that form occurs (4.2.1.10: "MUST
/// either process the constraint or reject the certificate").
fn matches(
    subtree: &GeneralSubtree,
    name: &GeneralName,
    ca: &Certificate,
) -> Result<bool, CertError> {
    let unsupported = || CertError::Untrusted {
        subject: ca.common_name(),
        reason: format!(
            "it constrains {} names, which camr cannot check, and a certificate below it has one",
            form_name(name)
        ),
    };
    match (&subtree.base, name) {
        (GeneralName::DirectoryName(base), GeneralName::DirectoryName(n)) => {
            Ok(within_subtree(base, n))
        }
        (GeneralName::DnsName(base), GeneralName::DnsName(n)) => {
            Ok(dns_within(base.as_ref(), n.as_ref()))
        }
        (GeneralName::Rfc822Name(base), GeneralName::Rfc822Name(n)) => {
            Ok(email_within(base.as_ref(), n.as_ref()))
        }
        (GeneralName::IpAddress(base), GeneralName::IpAddress(n)) => ip_within(
            base.as_bytes(),
            n.as_bytes(),
        )
        .ok_or_else(|| {
            CertError::malformed(format!(
                "an iPAddress name constraint of `{}` or an address below it has a wrong length",
                ca.common_name()
            ))
        }),
        _ => Err(unsupported()),
    }
}

/// dNSName: `example.com` covers itself and every name ending in `.example.com`; a leading
/// dot (a common, if non-standard, spelling) covers subdomains only; an empty base covers all.
fn dns_within(base: &str, name: &str) -> bool {
    let base = base.trim_end_matches('.').to_ascii_lowercase();
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if base.is_empty() {
        return true;
    }
    if base.starts_with('.') {
        return name.ends_with(&base);
    }
    name == base || name.ends_with(&format!(".{base}"))
}

/// rfc822Name: a full mailbox matches exactly (the host part case-insensitively); a host
/// matches mailboxes on that host; `.host` matches mailboxes on any host under it.
fn email_within(base: &str, name: &str) -> bool {
    let Some((local, host)) = name.rsplit_once('@') else {
        return false;
    };
    if let Some((base_local, base_host)) = base.rsplit_once('@') {
        return local == base_local && host.eq_ignore_ascii_case(base_host);
    }
    let host = host.to_ascii_lowercase();
    let base = base.to_ascii_lowercase();
    if base.starts_with('.') {
        host.ends_with(&base)
    } else {
        host == base
    }
}

/// iPAddress: the base is address ‖ mask (8 bytes for IPv4, 32 for IPv6). `None` when a
/// length is wrong; an IPv4 name never matches an IPv6 constraint.
fn ip_within(base: &[u8], name: &[u8]) -> Option<bool> {
    if !matches!(base.len(), 8 | 32) || !matches!(name.len(), 4 | 16) {
        return None;
    }
    if base.len() != 2 * name.len() {
        return Some(false);
    }
    let (addr, mask) = base.split_at(name.len());
    Some(
        name.iter()
            .zip(addr)
            .zip(mask)
            .all(|((n, a), m)| n & m == a & m),
    )
}

fn form_name(name: &GeneralName) -> &'static str {
    match name {
        GeneralName::OtherName(_) => "otherName",
        GeneralName::Rfc822Name(_) => "rfc822Name",
        GeneralName::DnsName(_) => "dNSName",
        GeneralName::DirectoryName(_) => "directoryName",
        GeneralName::EdiPartyName(_) => "ediPartyName",
        GeneralName::UniformResourceIdentifier(_) => "uniformResourceIdentifier",
        GeneralName::IpAddress(_) => "iPAddress",
        GeneralName::RegisteredId(_) => "registeredID",
    }
}

fn describe(name: &GeneralName) -> String {
    match name {
        GeneralName::DirectoryName(n) => format!("`{}`", dn_text(n)),
        GeneralName::DnsName(s) => format!("dNSName `{s}`"),
        GeneralName::Rfc822Name(s) => format!("rfc822Name `{s}`"),
        GeneralName::IpAddress(ip) => format!("iPAddress {}", ip_text(ip.as_bytes())),
        other => form_name(other).to_string(),
    }
}

fn dn_text(name: &Name) -> String {
    crate::crypto::truncate(&name.to_string(), 120)
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => bytes
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join("."),
        _ => data_encoding::HEXLOWER.encode(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_email_and_ip_subtrees_match_as_rfc_5280_describes() {
        assert!(dns_within("example.com", "example.com"));
        assert!(dns_within("example.com", "Host.Example.com"));
        assert!(!dns_within("example.com", "badexample.com"));
        assert!(dns_within(".example.com", "a.example.com"));
        assert!(!dns_within(".example.com", "example.com"));
        assert!(dns_within("", "anything.test"));
        assert!(email_within("ca.example", "a@CA.example"));
        assert!(!email_within("ca.example", "a@sub.ca.example"));
        assert!(email_within(".ca.example", "a@sub.ca.example"));
        assert!(email_within("a@ca.example", "a@ca.example"));
        assert!(!email_within("a@ca.example", "b@ca.example"));
        assert!(!email_within("ca.example", "no-at-sign"));
        assert_eq!(
            ip_within(&[10, 0, 0, 0, 255, 0, 0, 0], &[10, 1, 2, 3]),
            Some(true)
        );
        assert_eq!(
            ip_within(&[10, 0, 0, 0, 255, 0, 0, 0], &[11, 1, 2, 3]),
            Some(false)
        );
        assert_eq!(
            ip_within(&[10, 0, 0, 0, 255, 0, 0, 0], &[0; 16]),
            Some(false)
        );
        assert_eq!(ip_within(&[10, 0, 0, 0], &[10, 1, 2, 3]), None);
    }
}
