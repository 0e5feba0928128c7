//! The software CA's CRLs: the issuing CA's (its holders' certificates) and the root's (an
//! authority revocation list over the issuing CA).

use std::time::Duration;

use der::Encode;
use der::asn1::{BitString, OctetString};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlReason};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::DynSignatureAlgorithmIdentifier;

use super::*;

impl SoftCa {
    /// Signs a fresh CRL of the issuing CA, valid from `now` for [`CRL_VALIDITY_SECS`].
    pub fn crl(&mut self, now: i64) -> Result<Crl, CaError> {
        self.state.crl_number += 1;
        let crl = sign_crl(
            self.provider.as_ref(),
            &self.ca,
            &self.ca_key,
            self.state.crl_number,
            &self.state.revoked,
            now,
        )?;
        self.save()?;
        Ok(crl)
    }

    /// Signs a fresh CRL of the root (an authority revocation list, ARL), valid from `now` for
    /// [`CRL_VALIDITY_SECS`]: what a platform checks the issuing CA's certificate against.
    /// The software CA never revokes its issuing CA, so the list is empty.
    pub fn root_crl(&mut self, now: i64) -> Result<Crl, CaError> {
        let path = self.dir.join(ROOT_KEY);
        let pem = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        let root_key = PrivateKey::from_pem(&pem, None)?;
        self.state.crl_number += 1;
        let crl = sign_crl(
            self.provider.as_ref(),
            &self.root,
            &root_key,
            self.state.crl_number,
            &[],
            now,
        )?;
        self.save()?;
        Ok(crl)
    }
}

/// A CRL of `issuer` signed with `key`: number `number`, the entries `revoked`.
fn sign_crl(
    provider: &dyn CryptoProvider,
    issuer: &Certificate,
    key: &PrivateKey,
    number: u64,
    revoked_records: &[RevokedRecord],
    now: i64,
) -> Result<Crl, CaError> {
    let this_update = time_at(now)?;
    let next_update = time_at(now.saturating_add(CRL_VALIDITY_SECS as i64))?;
    let mut revoked: Vec<x509_cert::crl::RevokedCert> = Vec::new();
    for r in revoked_records {
        let serial_bytes = data_encoding::HEXUPPER
            .decode(r.serial.as_bytes())
            .map_err(build)?;
        let reason = match r.reason {
            RevocationReason::Unspecified => CrlReason::Unspecified,
            RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
            RevocationReason::Superseded => CrlReason::Superseded,
            RevocationReason::CertificateHold => CrlReason::CertificateHold,
        };
        let ext = (&reason)
            .to_extension(issuer.x509().tbs_certificate().subject(), &[])
            .map_err(build)?;
        let mut extensions = vec![ext];
        if let Some(d) = r.invalidity_date {
            let secs = u64::try_from(d)
                .map_err(|_| CaError::Input("invalidity date before 1970".into()))?;
            let t = der::asn1::GeneralizedTime::from_unix_duration(Duration::from_secs(secs))
                .map_err(build)?;
            extensions.push(Extension {
                extn_id: OID_INVALIDITY_DATE,
                critical: false,
                extn_value: OctetString::new(t.to_der().map_err(build)?).map_err(build)?,
            });
        }
        revoked.push(x509_cert::crl::RevokedCert {
            serial_number: SerialNumber::new(&serial_bytes).map_err(build)?,
            revocation_date: time_at(r.revoked_at)?,
            crl_entry_extensions: Some(extensions),
        });
    }
    // The TBS is assembled here rather than with `x509_cert::builder::CrlBuilder`: its
    // 0.3.0 release copies the issuer's *authorityKeyIdentifier* into the CRL, where RFC
    // 5280 (5.2.1) wants the issuer's own key id; OpenSSL then cannot find the CRL.
    use der::oid::AssociatedOid;
    let signer = KeySigner::new(provider, key)?;
    let algorithm = signer.signature_algorithm_identifier().map_err(build)?;
    let ca_spki = issuer.x509().tbs_certificate().subject_public_key_info();
    let ca_key_id = key_id(ca_spki.subject_public_key.raw_bytes());
    let crl_number = x509_cert::ext::pkix::CrlNumber::try_from(number).map_err(build)?;
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(ca_key_id).map_err(build)?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let tbs = x509_cert::crl::TbsCertList {
        version: x509_cert::Version::V2,
        signature: algorithm.clone(),
        issuer: issuer.x509().tbs_certificate().subject().clone(),
        this_update,
        next_update: Some(next_update),
        revoked_certificates: if revoked.is_empty() {
            None
        } else {
            Some(revoked)
        },
        crl_extensions: Some(vec![
            ext(x509_cert::ext::pkix::CrlNumber::OID, false, &crl_number).map_err(build)?,
            ext(AuthorityKeyIdentifier::OID, false, &aki).map_err(build)?,
        ]),
    };
    let tbs_der = tbs.to_der().map_err(build)?;
    let sig = signer.sign(&tbs_der)?;
    let crl = x509_cert::crl::CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(&sig).map_err(build)?,
    };
    Crl::parse(&crl.to_der().map_err(build)?).map_err(build)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::crypto::{KeyAlgorithm, default_provider};
    use crate::pki::{CrlFileSource, RevocationSource, RevocationStatus};
    use crate::softca::SoftCa;

    #[test]
    fn the_roots_crl_gives_the_issuing_ca_a_status_and_only_for_it() {
        let p = default_provider();
        let dir = tempfile::tempdir().unwrap();
        let mut ca = SoftCa::init(p.clone(), dir.path(), KeyAlgorithm::Sm2, "ARL CA").unwrap();
        let now = crate::qr::unix_now();
        let (root, issuing) = (ca.root().clone(), ca.issuing_ca().clone());
        let arl = ca.root_crl(now).unwrap();
        assert_eq!(arl.issuer_name(), root.common_name());
        let with_arl = CrlFileSource::new(p.clone(), vec![arl.clone()], 0);
        let e = with_arl.status(&issuing, &root, now).unwrap();
        assert_eq!(e.status, RevocationStatus::Good);
        // The holders' CRL does not speak for the issuing CA …
        let holders = CrlFileSource::new(p.clone(), vec![ca.crl(now).unwrap()], 0);
        assert!(holders.status(&issuing, &root, now).is_err());
        // … and the ARL is not believed for another issuer (signature by the root's key).
        let other = SoftCa::init(
            p.clone(),
            &dir.path().join("other"),
            KeyAlgorithm::Sm2,
            "ARL CA",
        )
        .unwrap();
        let e = with_arl
            .status(other.issuing_ca(), other.root(), now)
            .unwrap_err();
        assert_eq!(
            e.code(),
            crate::protocol::ErrorCode::CrlSignatureInvalid,
            "{e}"
        );
    }
}
