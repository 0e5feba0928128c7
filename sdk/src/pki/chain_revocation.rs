//! A validated chain's revocation through a [`RevocationSource`]: the step the platform runs
//! after [`crate::pki::ChainValidator::validate`], per certificate below the trust anchor.

use super::crl_check::RevocationStatus;
use super::sources::{RevocationEvidence, RevocationSource};
use super::{CertError, RevocationPolicy, ValidatedChain};

/// Asks `source` about every certificate of `chain` below its anchor (leaf first), with the
/// status at `at` (a revocation dated after `at` does not count: a seal made before stays
/// valid): revoked → `CERT_REVOKED`, frozen → `CERT_FROZEN`. When the source cannot tell (or
/// does not know the certificate), [`RevocationPolicy::Require`] refuses with
/// `CERT_REVOCATION_UNKNOWN` and the source's reason; [`RevocationPolicy::BestEffort`] skips
/// the link. Returns the evidence of each link that was checked, to record.
pub fn check_chain_revocation(
    source: &dyn RevocationSource,
    chain: &ValidatedChain,
    at: i64,
    now: i64,
    policy: RevocationPolicy,
) -> Result<Vec<RevocationEvidence>, CertError> {
    check_chain_revocation_per_link(source, chain, at, now, [policy, policy]).map(|(e, _)| e)
}

/// [`check_chain_revocation`] with one policy for the leaf and another for the CA
/// certificates above it (`[leaf, CAs]`): a platform may require the holder's status and take
/// an intermediate CA's when a source has it (roots rarely publish an ARL). Returns the
/// evidence of each link checked and the common names of the links skipped.
pub fn check_chain_revocation_per_link(
    source: &dyn RevocationSource,
    chain: &ValidatedChain,
    at: i64,
    now: i64,
    [leaf_policy, ca_policy]: [RevocationPolicy; 2],
) -> Result<(Vec<RevocationEvidence>, Vec<String>), CertError> {
    let mut evidence = Vec::new();
    let mut skipped = Vec::new();
    for (i, pair) in chain.chain.windows(2).enumerate() {
        let policy = if i == 0 { leaf_policy } else { ca_policy };
        let [cert, issuer] = pair else { continue };
        let unknown = |reason: String| CertError::RevocationUnknown {
            subject: cert.common_name(),
            reason,
        };
        let found = match source.status(cert, issuer, now) {
            Ok(e) if e.status == RevocationStatus::Unknown => {
                Err(format!("{:?} does not know the certificate", e.source))
            }
            Ok(e) => Ok(e),
            Err(e) => Err(e.to_string()),
        };
        let e = match (found, policy) {
            (Ok(e), _) => e,
            (Err(reason), RevocationPolicy::Require) => return Err(unknown(reason)),
            (Err(_), RevocationPolicy::BestEffort) => {
                skipped.push(cert.common_name());
                continue;
            }
        };
        match e.status {
            RevocationStatus::Revoked { at: t, .. } if t <= at => {
                return Err(CertError::Revoked {
                    subject: cert.common_name(),
                    serial: cert.serial_hex(),
                    revoked_at: t,
                });
            }
            RevocationStatus::Frozen { at: t } if t <= at => {
                return Err(CertError::Frozen {
                    subject: cert.common_name(),
                    serial: cert.serial_hex(),
                    revoked_at: t,
                });
            }
            _ => evidence.push(e),
        }
    }
    Ok((evidence, skipped))
}
