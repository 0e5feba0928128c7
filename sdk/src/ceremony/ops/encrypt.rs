//! Encrypt (加密): the holder hands over its encryption certificate, which must be the
//! signing certificate's pair (GM/T 0015 dual certificates: same subject, same CA).

use super::super::checks::Checked;
use super::super::{CResult, CeremonyError, EncryptResult, Platform};
use super::{Outcome, stored};
use crate::pki::{Certificate, KeyPurpose};
use crate::protocol::Bytes;

pub(super) fn verify(p: &Platform, c: &Checked<'_>) -> CResult<Outcome> {
    let enc_der = c
        .evidence
        .encryption_certificate
        .as_ref()
        .ok_or_else(|| CeremonyError::Incomplete("no encryption certificate".into()))?;
    let enc = Certificate::from_der(enc_der)?;
    let enc_chain = p
        .validator
        .validate(&enc, &c.intermediates, KeyPurpose::Encrypt, c.now)?;
    // The same holder's, so an app cannot hand over someone else's.
    if enc.x509().tbs_certificate().subject() != c.leaf.x509().tbs_certificate().subject() {
        return Err(CeremonyError::EncryptionCertMismatch(
            "it names another subject than the signing certificate".into(),
        ));
    }
    // ... and issued by the same CA: a subject DN is no identity across CAs (any trusted CA
    // may issue a certificate with the same name), so both chains must end at the same
    // trust anchor.
    if enc_chain.chain.last().map(Certificate::der) != c.chain.chain.last().map(Certificate::der) {
        return Err(CeremonyError::EncryptionCertMismatch(
            "it chains to another trust anchor (CA) than the signing certificate; a \
             dual-certificate pair is issued by one CA"
                .into(),
        ));
    }
    stored(
        EncryptResult {
            tid: c.tid.clone(),
            subject: c.subject.clone(),
            encryption_certificate: Bytes(enc.der().to_vec()),
            verified_at: c.now,
        },
        true,
    )
}
