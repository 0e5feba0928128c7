//! Transaction ownership: who may see a transaction's live QR, result, keys and files.
//!
//! A tid is not a secret: it is printed in QR codes, logs, reports and the app's screens.
//! Whoever starts a transaction therefore gets an [`OwnerToken`] — 256 random bits — and only
//! its SHA-256 is stored with the transaction. [`Platform::authorize`] compares a presented
//! token with that hash in constant time; the platform hands the token to the party that
//! started the transaction (the reference server: an HttpOnly, SameSite cookie, or the
//! `X-Camr-Owner` header for API clients) and asks for it on every route that shows the
//! transaction. The app-facing routes (request fetch, answer) need no token: they reveal
//! nothing beyond what the app needs.

use std::fmt;

use super::{CResult, CeremonyError, Platform};
use crate::crypto::{CryptoProvider, HashAlgorithm};
use crate::protocol::Tid;
use crate::store::StoreError;

/// Random bytes in a token: 256 bits, out of reach of guessing.
const TOKEN_BYTES: usize = 32;

/// The owner credential of one transaction (a secret: never logged; `Debug` hides it).
#[derive(Clone, PartialEq, Eq)]
pub struct OwnerToken(String);

impl fmt::Debug for OwnerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnerToken(…)")
    }
}

impl OwnerToken {
    /// A fresh token from the provider's random source.
    pub fn generate(provider: &dyn CryptoProvider) -> CResult<Self> {
        let mut random = [0u8; TOKEN_BYTES];
        provider.fill_random(&mut random)?;
        Ok(Self(data_encoding::BASE64URL_NOPAD.encode(&random)))
    }

    /// A token as presented by a caller (cookie or header). Anything that is not the text of
    /// a token is refused here, so it never reaches a comparison.
    pub fn parse(text: &str) -> CResult<Self> {
        let text = text.trim();
        match data_encoding::BASE64URL_NOPAD.decode(text.as_bytes()) {
            Ok(bytes) if bytes.len() == TOKEN_BYTES => Ok(Self(text.to_string())),
            _ => Err(CeremonyError::NotOwner(
                "the owner credential presented is not one this platform issues".into(),
            )),
        }
    }

    /// The token's text, to hand to the owner (and only to the owner).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps: lower-case hex SHA-256 of the token's text.
    pub fn hash(&self, provider: &dyn CryptoProvider) -> String {
        data_encoding::HEXLOWER.encode(&provider.digest(HashAlgorithm::Sha256, self.0.as_bytes()))
    }
}

impl Platform {
    /// Checks that `token` is the owner credential of transaction `tid`: `TX_NOT_OWNER` when
    /// it is missing or another one, `TX_NOT_FOUND` for an unknown tid. A transaction stored
    /// without an owner (made before ownership existed) is nobody's: refused too.
    pub async fn authorize(&self, tid: &Tid, token: Option<&OwnerToken>) -> CResult<()> {
        let rec = self
            .store
            .get(tid)
            .await?
            .ok_or_else(|| StoreError::NotFound(tid.to_string()))?;
        let token = token.ok_or_else(|| {
            CeremonyError::NotOwner(format!(
                "transaction {tid} can only be seen by whoever started it: present its owner \
                 credential"
            ))
        })?;
        let presented = token.hash(self.provider.as_ref());
        let matches = rec
            .owner_hash
            .as_deref()
            .is_some_and(|stored| crate::crypto::ct_eq(stored.as_bytes(), presented.as_bytes()));
        if matches {
            Ok(())
        } else {
            Err(CeremonyError::NotOwner(format!(
                "the owner credential presented is not the one of transaction {tid}"
            )))
        }
    }
}
