//! The certificate profile (see the module documentation of [`super`]) and the bridge from
//! camr's keys to the `x509-cert` builder.

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn issue_cert(
    provider: &dyn CryptoProvider,
    issuer_key: &PrivateKey,
    subject_key: &PrivateKey,
    issuer: &Name,
    subject: &Name,
    kind: CertKind,
    days: u64,
    urls: &CaUrls,
) -> Result<Certificate, CaError> {
    let spki_der = subject_key.public_key().to_spki_der()?;
    issue_cert_for_spki(
        provider, issuer_key, &spki_der, issuer, subject, kind, days, urls,
    )
}

/// [`issue_cert`] for a subject public key given as DER `SubjectPublicKeyInfo` (a key the CA
/// never sees the private half of, e.g. the joint key of co-signing).
#[allow(clippy::too_many_arguments)]
pub(super) fn issue_cert_for_spki(
    provider: &dyn CryptoProvider,
    issuer_key: &PrivateKey,
    spki_der: &[u8],
    issuer: &Name,
    subject: &Name,
    kind: CertKind,
    days: u64,
    urls: &CaUrls,
) -> Result<Certificate, CaError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der).map_err(build)?;
    let now = crate::qr::unix_now();
    // Back-date one hour for clock skew between CA and verifiers.
    let not_before = time_at(now.saturating_sub(3600))?;
    let not_after = time_at(
        now.saturating_add(i64::try_from(days.saturating_mul(86_400)).unwrap_or(i64::MAX)),
    )?;
    let profile = CamrProfile {
        issuer: issuer.clone(),
        subject: subject.clone(),
        kind,
        url_extensions: urls.extensions()?,
    };
    let mut builder = CertificateBuilder::new(
        profile,
        random_serial(provider)?,
        Validity::new(not_before, not_after),
        spki,
    )
    .map_err(build)?;
    let signer = KeySigner::new(provider, issuer_key)?;
    let tbs = builder.finalize(&signer).map_err(build)?;
    let sig = signer.sign(&tbs)?;
    let cert = builder
        .assemble(BitString::from_bytes(&sig).map_err(build)?, &signer)
        .map_err(build)?;
    Certificate::from_der(&cert.to_der().map_err(build)?).map_err(build)
}

struct CamrProfile {
    issuer: Name,
    subject: Name,
    kind: CertKind,
    /// cRLDistributionPoints and authorityInfoAccess (built before, as the builder's callback
    /// cannot return a `CaError`).
    url_extensions: Vec<Extension>,
}

/// RFC 7093 method 1: the leftmost 160 bits of SHA-256 of the subjectPublicKey bits.
pub(super) fn key_id(subject_public_key: &[u8]) -> Vec<u8> {
    let hash = crate::crypto::RustCryptoProvider.digest(HashAlgorithm::Sha256, subject_public_key);
    hash.get(..20).unwrap_or_default().to_vec()
}

pub(super) fn ext<T: Encode>(
    oid: ObjectIdentifier,
    critical: bool,
    value: &T,
) -> x509_cert::builder::Result<Extension> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

impl BuilderProfile for CamrProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        use der::oid::AssociatedOid;
        let (bc, ku) = match self.kind {
            CertKind::Root => (
                BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(1),
                },
                KeyUsages::KeyCertSign | KeyUsages::CRLSign,
            ),
            CertKind::Intermediate => (
                BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(0),
                },
                KeyUsages::KeyCertSign | KeyUsages::CRLSign,
            ),
            CertKind::SignLeaf => (
                BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
                KeyUsages::DigitalSignature | KeyUsages::NonRepudiation,
            ),
            CertKind::EncLeaf => (
                BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
                KeyUsages::KeyEncipherment | KeyUsages::DataEncipherment | KeyUsages::KeyAgreement,
            ),
            CertKind::Service(role) => (
                BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
                role.key_usage(),
            ),
        };
        let mut out = vec![
            ext(BasicConstraints::OID, true, &bc)?,
            ext(KeyUsage::OID, true, &KeyUsage(ku))?,
        ];
        if let CertKind::Service(role) = self.kind {
            out.push(role.extended_key_usage()?);
        }
        out.extend([ext(
            SubjectKeyIdentifier::OID,
            false,
            &SubjectKeyIdentifier(OctetString::new(key_id(
                spk.subject_public_key.raw_bytes(),
            ))?),
        )?]);
        out.extend(self.url_extensions.iter().cloned());
        if self.kind != CertKind::Root {
            let aki = AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(key_id(
                    issuer_spk.subject_public_key.raw_bytes(),
                ))?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            };
            out.push(ext(AuthorityKeyIdentifier::OID, false, &aki)?);
        }
        Ok(out)
    }
}

/// Bridges camr's provider and keys to the `x509-cert` builder, which wants a
/// `Keypair + DynSignatureAlgorithmIdentifier`; the signature itself is made by the provider
/// and passed to `assemble`, so SM2 signatures are DER-encoded as OpenSSL expects (the
/// builder's own `build` would write raw `r ‖ s` for SM2).
pub(crate) struct KeySigner<'a> {
    provider: &'a dyn CryptoProvider,
    key: &'a PrivateKey,
    spki: SpkiDer,
}

#[derive(Clone)]
pub(crate) struct SpkiDer(Vec<u8>);

impl EncodePublicKey for SpkiDer {
    fn to_public_key_der(&self) -> x509_cert::spki::Result<der::Document> {
        Ok(der::Document::try_from(self.0.as_slice())?)
    }
}

impl<'a> KeySigner<'a> {
    pub(crate) fn new(
        provider: &'a dyn CryptoProvider,
        key: &'a PrivateKey,
    ) -> Result<Self, CaError> {
        Ok(Self {
            provider,
            key,
            spki: SpkiDer(key.public_key().to_spki_der()?),
        })
    }

    pub(crate) fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, CaError> {
        Ok(self.provider.sign(
            self.key,
            &SignatureScheme::default_for(self.key.algorithm()),
            tbs,
        )?)
    }
}

impl signature::Keypair for KeySigner<'_> {
    type VerifyingKey = SpkiDer;
    fn verifying_key(&self) -> SpkiDer {
        self.spki.clone()
    }
}

impl DynSignatureAlgorithmIdentifier for KeySigner<'_> {
    fn signature_algorithm_identifier(&self) -> x509_cert::spki::Result<AlgorithmIdentifierOwned> {
        Ok(match self.key.algorithm() {
            PublicKeyAlgorithm::Sm2 => AlgorithmIdentifierOwned {
                oid: OID_SM3_WITH_SM2,
                parameters: None,
            },
            PublicKeyAlgorithm::EcdsaP256 => AlgorithmIdentifierOwned {
                oid: OID_ECDSA_WITH_SHA256,
                parameters: None,
            },
            PublicKeyAlgorithm::Rsa => AlgorithmIdentifierOwned {
                oid: OID_SHA256_WITH_RSA,
                parameters: Some(der::asn1::Null.into()),
            },
        })
    }
}
