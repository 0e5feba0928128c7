//! The core's own check of what an adapter claims: "adapters translate, the core verifies".

use std::sync::Arc;

use camr::crypto::{CryptoProvider, SignatureScheme};
use camr::pki::{Certificate, KeyPurpose, Subject};
use camr::protocol::{Evidence, ProtocolError};

/// Verifies `evidence.signatures[0]` over `signed_bytes` — the bytes *the platform* expects to
/// be signed (e.g. the request object of this transaction), never bytes the adapter names —
/// with the public key of `evidence.certificate_chain[0]`, which must be a signing
/// certificate of the algorithm the evidence states. Returns the identity the certificate
/// states.
///
/// This is the signature check only. Before trusting the identity, validate the chain
/// against the trust list, validity and revocation with `camr::pki::ChainValidator`, and
/// check that the answer is bound to this transaction (request hash): the ceremony does all
/// of it. The SM2 signer ID is the default one (`1234567812345678`).
pub fn verify_evidence_signature(
    provider: &Arc<dyn CryptoProvider>,
    evidence: &Evidence,
    signed_bytes: &[u8],
) -> Result<Subject, camr::Error> {
    let leaf = evidence
        .certificate_chain
        .first()
        .ok_or_else(|| ProtocolError::InvalidField {
            field: "certificateChain",
            reason: "the evidence carries no certificate".into(),
        })?;
    let signature = evidence
        .signatures
        .first()
        .ok_or_else(|| ProtocolError::InvalidField {
            field: "signatures",
            reason: "the evidence carries no signature".into(),
        })?;
    let cert = Certificate::from_der(leaf)?;
    cert.check_purpose(KeyPurpose::Sign)?;
    let key = cert.public_key()?;
    if key.algorithm() != evidence.algorithm {
        return Err(ProtocolError::InvalidField {
            field: "algorithm",
            reason: format!(
                "the evidence says {:?} but the certificate's key is {:?}",
                evidence.algorithm,
                key.algorithm()
            ),
        }
        .into());
    }
    provider.verify(
        &key,
        &SignatureScheme::default_for(key.algorithm()),
        signed_bytes,
        &signature.signature_value,
    )?;
    Ok(cert.subject())
}
