//! The app side (for CA vendors' apps and the app simulator): open a wallet, check a
//! platform's signed request, and answer it — approve with the signing certificate, or
//! reject with a reason. Every answer is bound to the exact request object (see
//! [`crate::ceremony`]).

use std::path::Path;
use std::sync::Arc;

use crate::ceremony::{BINDING_ITEM, MESSAGE_ITEM, answer_message, reject_message, request_hash};
use crate::crypto::{
    CryptoError, CryptoProvider, PrivateKey, PublicKey, PublicKeyAlgorithm, SignatureScheme,
    Sm2CiphertextForm,
};
use crate::pki::{CertError, Certificate};
use crate::protocol::{
    Bytes, DecryptedKey, ErrorCode, Evidence, ItemRejection, ItemSignature, OperationPayload,
    RequestObject, Response, ResponseStatus, SignedRequest,
};
use crate::softca::wallet_files;

/// Why the app could not answer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// A wallet file is missing or unreadable.
    #[error("{0}")]
    Wallet(String),
    /// A key could not be opened (wrong PIN, ...).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A certificate is unreadable.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// The decrypt request names keys for certificates this wallet does not hold.
    #[error("this wallet's encryption certificate ({have}) is not a recipient; the envelope was made for: {}", wanted.join(", "))]
    NotARecipient {
        /// The wallet's encryption certificate serial.
        have: String,
        /// The serials the request names.
        wanted: Vec<String>,
    },
}

impl AppError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Wallet(_) => ErrorCode::InputMalformed,
            Self::Crypto(e) => e.code(),
            Self::Cert(e) => e.code(),
            Self::NotARecipient { .. } => ErrorCode::EnvelopeNoRecipient,
        }
    }
}

/// A wallet: the holder's dual certificates and keys (as `camr ca issue` writes them).
#[derive(Debug, Clone)]
pub struct Wallet {
    /// Signing certificate.
    pub sign_cert: Certificate,
    /// Signing key.
    pub sign_key: PrivateKey,
    /// Encryption certificate.
    pub enc_cert: Certificate,
    /// Encryption key.
    pub enc_key: PrivateKey,
    /// Intermediate (and root) certificates.
    pub chain: Vec<Certificate>,
}

impl Wallet {
    /// Opens a wallet folder with its PIN.
    pub fn open(dir: &Path, pin: &[u8]) -> Result<Self, AppError> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| AppError::Wallet(format!("{}: {e}", dir.join(name).display())))
        };
        Ok(Self {
            sign_cert: Certificate::parse_one(&read(wallet_files::SIGN_CERT)?)?,
            sign_key: PrivateKey::from_bytes(
                &zeroize::Zeroizing::new(read(wallet_files::SIGN_KEY)?),
                Some(pin),
            )?,
            enc_cert: Certificate::parse_one(&read(wallet_files::ENC_CERT)?)?,
            enc_key: PrivateKey::from_bytes(
                &zeroize::Zeroizing::new(read(wallet_files::ENC_KEY)?),
                Some(pin),
            )?,
            chain: Certificate::parse_all(&read(wallet_files::CHAIN)?)?,
        })
    }
}

/// The app's answering logic.
#[derive(Debug, Clone)]
pub struct App {
    provider: Arc<dyn CryptoProvider>,
    ca_org_type: String,
}

impl App {
    /// An app of the CA vendor `ca_org_type`.
    pub fn new(provider: Arc<dyn CryptoProvider>, ca_org_type: &str) -> Self {
        Self {
            provider,
            ca_org_type: ca_org_type.to_string(),
        }
    }

    fn sign(&self, wallet: &Wallet, item: &str, message: &[u8]) -> Result<ItemSignature, AppError> {
        let scheme = SignatureScheme::default_for(wallet.sign_key.algorithm());
        let sig = self.provider.sign(&wallet.sign_key, &scheme, message)?;
        Ok(ItemSignature {
            item_id: item.to_string(),
            signature_value: Bytes(sig),
        })
    }

    fn evidence(&self, wallet: &Wallet, signatures: Vec<ItemSignature>) -> Evidence {
        Evidence {
            algorithm: wallet.sign_key.algorithm(),
            certificate_chain: std::iter::once(&wallet.sign_cert)
                .chain(&wallet.chain)
                .map(|c| Bytes(c.der().to_vec()))
                .collect(),
            signatures,
            encryption_certificate: None,
            decrypted_keys: Vec::new(),
            item_rejections: Vec::new(),
        }
    }

    /// Approves `request` (already checked with
    /// [`crate::ceremony::verify_signed_request`]): signs what the operation asks, binds the
    /// answer to the exact request text. `refuse_items` rejects single items of a batch.
    pub fn approve(
        &self,
        wallet: &Wallet,
        signed: &SignedRequest,
        request: &RequestObject,
        refuse_items: &[ItemRejection],
    ) -> Result<Response, AppError> {
        let hash = request_hash(self.provider.as_ref(), &signed.request);
        let mut signatures = vec![self.sign(wallet, BINDING_ITEM, &answer_message(&hash))?];
        let mut evidence_extra = (None, Vec::new());
        match &request.payload {
            OperationPayload::Login { .. } | OperationPayload::RevokeSignature { .. } => {}
            OperationPayload::MessageSignature { message } => {
                signatures.push(self.sign(wallet, MESSAGE_ITEM, message.as_bytes())?)
            }
            OperationPayload::Signature { items } => {
                for item in items
                    .iter()
                    .filter(|i| !refuse_items.iter().any(|r| r.item_id == i.id))
                {
                    signatures.push(self.sign(wallet, &item.id, &item.hash)?);
                }
            }
            OperationPayload::Encrypt {} => {
                evidence_extra.0 = Some(Bytes(wallet.enc_cert.der().to_vec()))
            }
            OperationPayload::Decrypt {
                items,
                platform_key,
            } => {
                let mine = wallet.enc_cert.serial_hex();
                let platform = PublicKey::from_spki_der(platform_key)?;
                for item in items {
                    if !item.recipient_cert_sn.eq_ignore_ascii_case(&mine) {
                        return Err(AppError::NotARecipient {
                            have: mine,
                            wanted: items.iter().map(|i| i.recipient_cert_sn.clone()).collect(),
                        });
                    }
                    let cek = match wallet.enc_key.algorithm() {
                        PublicKeyAlgorithm::Sm2 => self.provider.sm2_decrypt(
                            &wallet.enc_key,
                            &item.encrypted_key,
                            Sm2CiphertextForm::Asn1,
                        )?,
                        _ => self
                            .provider
                            .rsa_oaep_decrypt(&wallet.enc_key, &item.encrypted_key)?,
                    };
                    // The key travels encrypted to the per-transaction platform key, so no
                    // cloud in between sees it (threat model #6).
                    let sealed =
                        self.provider
                            .sm2_encrypt(&platform, &cek, Sm2CiphertextForm::Asn1)?;
                    evidence_extra.1.push(DecryptedKey {
                        item_id: item.id.clone(),
                        encrypted_to_platform: Bytes(sealed),
                    });
                }
            }
        }
        let mut evidence = self.evidence(wallet, signatures);
        evidence.encryption_certificate = evidence_extra.0;
        evidence.decrypted_keys = evidence_extra.1;
        evidence.item_rejections = refuse_items.to_vec();
        Ok(Response {
            tid: request.tid.clone(),
            operation: request.operation,
            ca_org_type: self.ca_org_type.clone(),
            status: ResponseStatus::Approved,
            request_hash: hash,
            reject_reason: None,
            evidence: Some(evidence),
        })
    }

    /// Rejects `request` with a reason, signed so that nobody else can reject in the user's
    /// name.
    pub fn reject(
        &self,
        wallet: &Wallet,
        signed: &SignedRequest,
        request: &RequestObject,
        reason: &str,
    ) -> Result<Response, AppError> {
        let hash = request_hash(self.provider.as_ref(), &signed.request);
        let signatures = vec![self.sign(wallet, BINDING_ITEM, &reject_message(&hash, reason))?];
        Ok(Response {
            tid: request.tid.clone(),
            operation: request.operation,
            ca_org_type: self.ca_org_type.clone(),
            status: ResponseStatus::Rejected,
            request_hash: hash,
            reject_reason: Some(reason.to_string()),
            evidence: Some(self.evidence(wallet, signatures)),
        })
    }
}
