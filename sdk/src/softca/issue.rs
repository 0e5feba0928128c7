//! Issuing: a holder's signing and encryption certificates, with keys the CA makes or keys
//! it is given.

use std::path::Path;

use super::*;

impl SoftCa {
    /// Issues a signing and an encryption certificate for `holder` into the folder `out`,
    /// with both private keys encrypted under `pin`.
    pub fn issue(
        &mut self,
        holder: &Holder,
        pin: &[u8],
        out: &Path,
        validity_days: u64,
    ) -> Result<Wallet, CaError> {
        check_holder(holder)?;
        if pin.len() < 4 {
            return Err(CaError::Input(
                "the PIN must have at least 4 characters".into(),
            ));
        }
        check_no_wallet(out)?;
        let algorithm = match self.ca_key.algorithm() {
            PublicKeyAlgorithm::Sm2 => KeyAlgorithm::Sm2,
            PublicKeyAlgorithm::EcdsaP256 => KeyAlgorithm::P256,
            PublicKeyAlgorithm::Rsa => KeyAlgorithm::Rsa2048,
        };
        let subject = holder_name(holder)?;
        let issuer = self.ca.x509().tbs_certificate().subject().clone();
        let sign_key = self.provider.generate_key(algorithm)?;
        let enc_key = self.provider.generate_key(algorithm)?;
        let sign = issue_cert(
            self.provider.as_ref(),
            &self.ca_key,
            &sign_key,
            &issuer,
            &subject,
            CertKind::SignLeaf,
            validity_days,
            &self.state.urls,
        )?;
        let enc = issue_cert(
            self.provider.as_ref(),
            &self.ca_key,
            &enc_key,
            &issuer,
            &subject,
            CertKind::EncLeaf,
            validity_days,
            &self.state.urls,
        )?;
        write_certificates(out, &sign, &enc)?;
        write_secret(
            &out.join(wallet_files::SIGN_KEY),
            sign_key.to_encrypted_pkcs8_pem(pin)?.as_bytes(),
        )?;
        write_secret(
            &out.join(wallet_files::ENC_KEY),
            enc_key.to_encrypted_pkcs8_pem(pin)?.as_bytes(),
        )?;
        self.finish_wallet(holder, out, &sign, &enc)
    }

    /// Issues a signing and an encryption certificate for `holder` for public keys the CA
    /// does not hold (DER `SubjectPublicKeyInfo`, of the CA's algorithm), e.g. the joint keys
    /// P of two-party SM2 (协同签名, [`crate::cosign`]) whose private key exists only as two
    /// shares. Writes the certificates and the chain into `out`, no key files (the caller
    /// stores its shares). The CA signs; the subject keys are the given ones.
    pub fn issue_for_public_keys(
        &mut self,
        holder: &Holder,
        sign_spki_der: &[u8],
        enc_spki_der: &[u8],
        out: &Path,
        validity_days: u64,
    ) -> Result<Wallet, CaError> {
        check_holder(holder)?;
        check_no_wallet(out)?;
        for (what, der) in [("signing", sign_spki_der), ("encryption", enc_spki_der)] {
            let key = crate::crypto::PublicKey::from_spki_der(der)
                .map_err(|e| CaError::Input(format!("the {what} public key: {e}")))?;
            if key.algorithm() != self.ca_key.algorithm() {
                return Err(CaError::Input(format!(
                    "the {what} public key is {:?}; this CA issues {:?} certificates",
                    key.algorithm(),
                    self.ca_key.algorithm()
                )));
            }
        }
        let subject = holder_name(holder)?;
        let issuer = self.ca.x509().tbs_certificate().subject().clone();
        let sign = issue_cert_for_spki(
            self.provider.as_ref(),
            &self.ca_key,
            sign_spki_der,
            &issuer,
            &subject,
            CertKind::SignLeaf,
            validity_days,
            &self.state.urls,
        )?;
        let enc = issue_cert_for_spki(
            self.provider.as_ref(),
            &self.ca_key,
            enc_spki_der,
            &issuer,
            &subject,
            CertKind::EncLeaf,
            validity_days,
            &self.state.urls,
        )?;
        write_certificates(out, &sign, &enc)?;
        self.finish_wallet(holder, out, &sign, &enc)
    }

    /// Writes the chain into the wallet `out`, lists the two certificates as issued (so they
    /// can be revoked) and saves the state.
    fn finish_wallet(
        &mut self,
        holder: &Holder,
        out: &Path,
        sign: &Certificate,
        enc: &Certificate,
    ) -> Result<Wallet, CaError> {
        write(
            &out.join(wallet_files::CHAIN),
            format!("{}{}", self.ca.to_pem(), self.root.to_pem()).as_bytes(),
        )?;
        for (cert, usage) in [(sign, "sign"), (enc, "encrypt")] {
            self.state.issued.push(IssuedRecord {
                serial: cert.serial_hex(),
                name: holder.name.clone(),
                usage: usage.into(),
                not_after: cert.validity().1,
            });
        }
        self.save()?;
        Ok(Wallet {
            dir: out.to_path_buf(),
            sign_serial: sign.serial_hex(),
            enc_serial: enc.serial_hex(),
        })
    }
}

/// Refuses a folder that already holds a wallet.
fn check_no_wallet(out: &Path) -> Result<(), CaError> {
    if out.join(wallet_files::SIGN_CERT).exists() {
        return Err(CaError::BadState(format!(
            "{} already holds a wallet",
            out.display()
        )));
    }
    Ok(())
}

/// Creates the wallet folder `out` and writes the two certificates into it.
fn write_certificates(out: &Path, sign: &Certificate, enc: &Certificate) -> Result<(), CaError> {
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    write(&out.join(wallet_files::SIGN_CERT), sign.to_pem().as_bytes())?;
    write(&out.join(wallet_files::ENC_CERT), enc.to_pem().as_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::crypto::default_provider;

    #[test]
    fn certificates_for_given_keys_carry_those_keys_and_bad_keys_are_refused() {
        let p = default_provider();
        let dir = tempfile::tempdir().unwrap();
        let mut ca = crate::softca::test_ca(dir.path(), "Joint CA");
        let holder = Holder::personal("张三");
        let (sign, enc) = (
            p.generate_key(KeyAlgorithm::Sm2).unwrap(),
            p.generate_key(KeyAlgorithm::Sm2).unwrap(),
        );
        let spki = |k: &PrivateKey| k.public_key().to_spki_der().unwrap();
        let out = dir.path().join("w");
        let w = ca
            .issue_for_public_keys(&holder, &spki(&sign), &spki(&enc), &out, 30)
            .unwrap();
        let read = |f: &str| Certificate::parse_one(&std::fs::read(out.join(f)).unwrap()).unwrap();
        let cert = read(wallet_files::SIGN_CERT);
        assert_eq!(cert.serial_hex(), w.sign_serial);
        assert_eq!(cert.public_key().unwrap(), sign.public_key());
        assert_eq!(
            read(wallet_files::ENC_CERT).public_key().unwrap(),
            enc.public_key()
        );
        assert_eq!(cert.common_name(), "张三");
        assert!(!out.join(wallet_files::SIGN_KEY).exists());
        // Listed by the CA (revocable), a second wallet in the folder refused.
        ca.revoke(
            &w.sign_serial,
            RevocationReason::KeyCompromise,
            crate::qr::unix_now(),
        )
        .unwrap();
        assert!(matches!(
            ca.issue_for_public_keys(&holder, &spki(&sign), &spki(&enc), &out, 30),
            Err(CaError::BadState(_))
        ));
        // A key of another algorithm, or no key at all.
        let p256 = p.generate_key(KeyAlgorithm::P256).unwrap();
        for (s, e) in [
            (spki(&p256), spki(&enc)),
            (spki(&sign), b"not a key".to_vec()),
        ] {
            assert!(matches!(
                ca.issue_for_public_keys(&holder, &s, &e, &dir.path().join("w2"), 30),
                Err(CaError::Input(_))
            ));
        }
    }
}
