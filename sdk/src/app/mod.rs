//! The app side (for CA vendors' apps and the app simulator): open a wallet, check a
//! platform's signed request, and answer it — approve with the signing certificate, or
//! reject with a reason. Every answer is bound to the exact request object (see
//! [`crate::ceremony`]).

use std::path::Path;
use std::sync::Arc;

use crate::crypto::{
    CryptoError, CryptoProvider, PrivateKey, PublicKey, PublicKeyAlgorithm, SecretBytes,
    SignatureScheme, Sm2CiphertextForm,
};
use crate::pki::{CertError, Certificate};
use crate::protocol::binding::{MESSAGE_ITEM, request_hash};
use crate::protocol::{
    Bytes, DecryptedKey, ErrorCode, Evidence, ItemRejection, ItemSignature, Operation,
    OperationPayload, RequestObject, Response, ResponseStatus, SessionStep, SignFormat, SignItem,
    SignedRequest, binding,
};

pub mod delegation;

pub use delegation::{Delegation, SignedDelegation};

/// Wallet file names.
pub mod wallet_files {
    /// Signing certificate.
    pub const SIGN_CERT: &str = "sign-cert.pem";
    /// Signing key, encrypted PKCS#8 under the PIN.
    pub const SIGN_KEY: &str = "sign-key.pem";
    /// Encryption certificate.
    pub const ENC_CERT: &str = "enc-cert.pem";
    /// Encryption key, encrypted PKCS#8 under the PIN.
    pub const ENC_KEY: &str = "enc-key.pem";
    /// Intermediate then root.
    pub const CHAIN: &str = "chain.pem";
}

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
    /// The platform could not be reached, or answered with something unreadable.
    #[error("{0}")]
    Transport(String),
    /// The platform refused, with its error code.
    #[error("the platform refused: {code}: {msg}")]
    Platform {
        /// The platform's `errorCode`.
        code: ErrorCode,
        /// Its sentence.
        msg: String,
    },
    /// The request object does not belong to the scanned QR code, or expired.
    #[error("{0}")]
    RequestMismatch(String),
    /// An organisation certificate used outside (or without) a delegation's scope.
    #[error("the organisation certificate may not be used for this: {0}")]
    OutOfScope(String),
    /// Too many wrong PINs: the wallet is locked.
    #[error("the wallet is locked after {0} wrong PINs; ask the CA to unlock it")]
    Locked(u32),
    /// A wrong PIN; `left` attempts remain before the wallet locks.
    #[error("wrong PIN; {left} attempt(s) left before the wallet locks")]
    WrongPin {
        /// Attempts left.
        left: u32,
    },
    /// The decrypt request names keys for certificates this wallet does not hold.
    #[error("this wallet's encryption certificate ({have}) is not a recipient; the envelope was made for: {}", wanted.join(", "))]
    NotARecipient {
        /// The wallet's encryption certificate serial.
        have: String,
        /// The serials the request names.
        wanted: Vec<String>,
    },
    /// The request asks for something this wallet cannot sign (e.g. an SM3 seal with an RSA
    /// key).
    #[error("cannot sign this: {0}")]
    Unsupported(String),
    /// A vendor's signer ([`ItemSigner`]) failed, e.g. its co-signing cloud refused or its
    /// half of a co-signature did not verify.
    #[error("the signer failed: {code}: {msg}")]
    Signer {
        /// The stable code (e.g. a `COSIGN_*` code's, `ADAPTER_UNAVAILABLE`).
        code: ErrorCode,
        /// A sentence.
        msg: String,
    },
}

impl From<crate::protocol::binding::SignedRequestError> for AppError {
    fn from(e: crate::protocol::binding::SignedRequestError) -> Self {
        use crate::protocol::binding::SignedRequestError;
        match e {
            SignedRequestError::SignatureInvalid => Self::Platform {
                code: ErrorCode::SignatureInvalid,
                msg: "the platform request signature does not verify with the signing \
                      certificate"
                    .into(),
            },
            SignedRequestError::Malformed(m) => Self::Platform {
                code: ErrorCode::InputMalformed,
                msg: format!("the answer is incomplete: {m}"),
            },
        }
    }
}

impl AppError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Wallet(_) => ErrorCode::InputMalformed,
            Self::Crypto(e) => e.code(),
            Self::Cert(e) => e.code(),
            Self::NotARecipient { .. } => ErrorCode::EnvelopeNoRecipient,
            Self::Locked(_) => ErrorCode::PinLocked,
            Self::OutOfScope(_) => ErrorCode::DelegationOutOfScope,
            Self::Transport(_) => ErrorCode::AdapterUnavailable,
            Self::Platform { code, .. } => *code,
            Self::RequestMismatch(_) => ErrorCode::TidMismatch,
            Self::WrongPin { .. } => ErrorCode::KeyPasswordWrong,
            Self::Unsupported(_) => ErrorCode::UnsupportedAlgorithm,
            Self::Signer { code, .. } => *code,
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

/// Wrong PINs allowed before a wallet locks (threat model #8).
pub const MAX_PIN_FAILURES: u32 = 5;
const PIN_STATE: &str = "pin-state.json";

impl Wallet {
    /// Opens a wallet folder with its PIN, counting wrong PINs in the folder: after
    /// [`MAX_PIN_FAILURES`] in a row the wallet is locked ([`AppError::Locked`]) and even the
    /// right PIN is refused. A right PIN resets the count.
    pub fn unlock(dir: &Path, pin: &[u8]) -> Result<Self, AppError> {
        let state_path = dir.join(PIN_STATE);
        let failures: u32 = std::fs::read_to_string(&state_path)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v.get("failures").and_then(serde_json::Value::as_u64))
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX));
        if failures >= MAX_PIN_FAILURES {
            return Err(AppError::Locked(failures));
        }
        let save = |n: u32| {
            std::fs::write(
                &state_path,
                serde_json::json!({ "failures": n }).to_string(),
            )
            .map_err(|e| AppError::Wallet(format!("{}: {e}", state_path.display())))
        };
        match Self::open(dir, pin) {
            Ok(w) => {
                if failures > 0 {
                    save(0)?;
                }
                Ok(w)
            }
            Err(AppError::Crypto(CryptoError::KeyPasswordWrong)) => {
                let n = failures + 1;
                save(n)?;
                if n >= MAX_PIN_FAILURES {
                    Err(AppError::Locked(n))
                } else {
                    Err(AppError::WrongPin {
                        left: MAX_PIN_FAILURES - n,
                    })
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Opens a wallet folder with its PIN (no PIN counting; see [`Wallet::unlock`]).
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

/// How the app uses a wallet's private keys: signs a message (the wallet's default scheme —
/// SM2 with SM3 and the default signer ID, ECDSA P-256 with SHA-256, RSA PKCS#1 v1.5 with
/// SHA-256 — the signature in the form camr's provider writes, DER for SM2 and ECDSA) and
/// opens an envelope key encrypted to the wallet's encryption certificate (SM2 ciphertext in
/// ASN.1 form, or RSA-OAEP). By default [`App`] uses the wallet's own keys
/// ([`WalletKeys`]); a vendor app whose key never exists whole plugs its own in with
/// [`App::with_signer`] — e.g. BJCA's co-signing (协同签名, [`crate::cosign`]), where the
/// wallet holds the share d1 and every signature and decryption also needs the vendor cloud.
pub trait ItemSigner: Send + Sync + std::fmt::Debug {
    /// Signs `message` for `wallet` (its signing certificate's key).
    fn sign(&self, wallet: &Wallet, message: &[u8]) -> Result<Vec<u8>, AppError>;
    /// Opens `ciphertext`, an envelope key encrypted to `wallet`'s encryption certificate.
    fn decrypt(&self, wallet: &Wallet, ciphertext: &[u8]) -> Result<SecretBytes, AppError>;
}

/// The default [`ItemSigner`]: the wallet's own private keys, through a crypto provider.
#[derive(Debug, Clone)]
pub struct WalletKeys(pub Arc<dyn CryptoProvider>);

impl ItemSigner for WalletKeys {
    fn sign(&self, wallet: &Wallet, message: &[u8]) -> Result<Vec<u8>, AppError> {
        let scheme = SignatureScheme::default_for(wallet.sign_key.algorithm());
        Ok(self.0.sign(&wallet.sign_key, &scheme, message)?)
    }

    fn decrypt(&self, wallet: &Wallet, ciphertext: &[u8]) -> Result<SecretBytes, AppError> {
        Ok(match wallet.enc_key.algorithm() {
            PublicKeyAlgorithm::Sm2 => {
                self.0
                    .sm2_decrypt(&wallet.enc_key, ciphertext, Sm2CiphertextForm::Asn1)?
            }
            _ => self.0.rsa_oaep_decrypt(&wallet.enc_key, ciphertext)?,
        })
    }
}

/// How an app reaches a platform (HTTP in the simulator; a vendor app plugs in its own
/// stack). Bodies are the platform's bytes as received.
pub trait Transport {
    /// GETs `uri`.
    fn get(&self, uri: &str) -> Result<Vec<u8>, AppError>;
    /// POSTs a JSON `body` to `uri`.
    fn post_json(&self, uri: &str, body: &[u8]) -> Result<Vec<u8>, AppError>;
}

/// Reads a platform answer: the `data` of a result envelope (`{code, success, data, msg,
/// errorCode}`), or the bare value; a failed envelope becomes [`AppError::Platform`].
fn envelope_data(body: &[u8]) -> Result<serde_json::Value, AppError> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| AppError::Transport(format!("the platform's answer is not JSON: {e}")))?;
    if v.get("success").is_some() && v.get("errorCode").is_some() {
        let env: crate::protocol::ApiResult<serde_json::Value> = serde_json::from_value(v)
            .map_err(|e| AppError::Transport(format!("bad result envelope: {e}")))?;
        if !env.success {
            return Err(AppError::Platform {
                code: env.error_code.unwrap_or(ErrorCode::Internal),
                msg: env.msg,
            });
        }
        return Ok(env.data.unwrap_or(serde_json::Value::Null));
    }
    Ok(v)
}

/// The app's answering logic.
#[derive(Debug, Clone)]
pub struct App {
    provider: Arc<dyn CryptoProvider>,
    ca_org_type: String,
    /// Who signs and decrypts; `None`: the wallet's own keys ([`WalletKeys`]).
    signer: Option<Arc<dyn ItemSigner>>,
    /// Id of the QR profile of the code being answered, signed into every answer.
    qr_profile: &'static str,
}

impl App {
    /// An app of the CA vendor `ca_org_type`.
    pub fn new(provider: Arc<dyn CryptoProvider>, ca_org_type: &str) -> Self {
        Self {
            provider,
            ca_org_type: ca_org_type.to_string(),
            signer: None,
            qr_profile: binding::DEFAULT_QR_PROFILE,
        }
    }

    /// This app answering a code of QR profile `profile` (二维码类型; the national interop
    /// code `camr1` when not set). The profile's id goes into every answer, inside the
    /// binding signature: the platform acts on the profile the user scanned, and refuses the
    /// answer through any other profile's transport (`QR_PROFILE_MISMATCH`).
    pub fn with_qr_profile(mut self, profile: &dyn crate::qr::QrProfile) -> Self {
        self.qr_profile = profile.id();
        self
    }

    /// This app with its signing and decryption going through `signer` instead of the
    /// wallet's own keys (every answer: approve, reject, batch items, seals, decrypt).
    pub fn with_signer(mut self, signer: Arc<dyn ItemSigner>) -> Self {
        self.signer = Some(signer);
        self
    }

    /// The vendor code (`caOrgType`) this app answers with.
    pub fn ca_org_type(&self) -> &str {
        &self.ca_org_type
    }

    fn keys(&self) -> Arc<dyn ItemSigner> {
        self.signer
            .clone()
            .unwrap_or_else(|| Arc::new(WalletKeys(self.provider.clone())))
    }

    fn sign(&self, wallet: &Wallet, item: &str, message: &[u8]) -> Result<ItemSignature, AppError> {
        let sig = self.keys().sign(wallet, message)?;
        Ok(ItemSignature {
            item_id: item.to_string(),
            signature_value: Bytes(sig),
        })
    }

    /// Signs one item: its hash, or the CAdES signed attributes over it (a PDF seal) built
    /// with this wallet's certificate — the same bytes the platform rebuilds.
    fn sign_item(&self, wallet: &Wallet, item: &SignItem) -> Result<ItemSignature, AppError> {
        match item.format {
            SignFormat::Hash => self.sign(wallet, &item.id, &item.hash),
            SignFormat::CadesAttributes => {
                let attrs = crate::envelope::cades_signed_attributes(
                    self.provider.as_ref(),
                    &item.hash,
                    item.hash_algorithm,
                    &wallet.sign_cert,
                )
                .map_err(|e| AppError::Unsupported(format!("item `{}`: {e}", item.id)))?;
                self.sign(wallet, &item.id, &attrs)
            }
        }
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

    /// Signs (or signs again) the binding of `response` (evidence item `request`) over its
    /// request hash and the digest of everything else in it
    /// ([`binding::binding_message`]): call it last, after any change to what the answer
    /// carries (encryption certificate, keys, refusals, delegation, operator, QR profile).
    pub fn sign_binding(&self, wallet: &Wallet, response: &mut Response) -> Result<(), AppError> {
        let message = binding::binding_message(self.provider.as_ref(), response);
        let sig = self.sign(wallet, binding::BINDING_ITEM, &message)?;
        let evidence = response
            .evidence
            .get_or_insert_with(|| self.evidence(wallet, Vec::new()));
        evidence
            .signatures
            .retain(|s| s.item_id != binding::BINDING_ITEM);
        // First, as apps have always sent it.
        evidence.signatures.insert(0, sig);
        Ok(())
    }

    /// Approves `request` (already checked with
    /// [`crate::ceremony::verify_signed_request`]): signs what the operation asks, binds the
    /// answer to the exact request text and its contents. `refuse_items` rejects single items
    /// of a batch.
    pub fn approve(
        &self,
        wallet: &Wallet,
        signed: &SignedRequest,
        request: &RequestObject,
        refuse_items: &[ItemRejection],
    ) -> Result<Response, AppError> {
        let mut response = self.approve_unbound(wallet, signed, request, refuse_items)?;
        self.sign_binding(wallet, &mut response)?;
        Ok(response)
    }

    /// [`App::approve`] without the binding signature, for callers that add to the answer
    /// before binding it.
    fn approve_unbound(
        &self,
        wallet: &Wallet,
        signed: &SignedRequest,
        request: &RequestObject,
        refuse_items: &[ItemRejection],
    ) -> Result<Response, AppError> {
        let hash = request_hash(self.provider.as_ref(), &signed.request);
        let mut signatures = Vec::new();
        let mut evidence_extra = (None, Vec::new());
        match &request.payload {
            // A seal session's authorisation signs the binding only; its seals come as
            // separate, session-bound requests (`App::session_step`).
            OperationPayload::Login { .. } | OperationPayload::SealSession { .. } => {}
            OperationPayload::MessageSignature { message } => {
                signatures.push(self.sign(wallet, MESSAGE_ITEM, message.as_bytes())?)
            }
            OperationPayload::Signature { items }
            | OperationPayload::RevokeSignature { items, .. } => {
                for item in items
                    .iter()
                    .filter(|i| !refuse_items.iter().any(|r| r.item_id == i.id))
                {
                    signatures.push(self.sign_item(wallet, item)?);
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
                    let cek = self.keys().decrypt(wallet, &item.encrypted_key)?;
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
            operator: None,
            delegation: None,
            registration: None,
            qr_profile: self.qr_profile.to_string(),
            evidence: Some(evidence),
            vendor_evidence: None,
        })
    }

    /// Approves a login that asks for shared registration data (共享注册), sharing `consented`
    /// — the data the app showed the user and the user agreed to share — signed with the
    /// answer (item `registration`, over [`binding::registration_message`]). When the
    /// request does not ask (`shareRegistration` false, or not a login) or `consented` is
    /// `None` (the user declined), nothing is shared: the answer is [`App::approve`]'s.
    pub fn approve_sharing(
        &self,
        wallet: &Wallet,
        signed: &SignedRequest,
        request: &RequestObject,
        consented: Option<&crate::protocol::SharedRegistration>,
    ) -> Result<Response, AppError> {
        let mut response = self.approve(wallet, signed, request, &[])?;
        let asks = matches!(
            request.payload,
            OperationPayload::Login {
                share_registration: true
            }
        );
        if let (true, Some(data)) = (asks, consented) {
            data.check().map_err(|e| AppError::Wallet(e.to_string()))?;
            let message = binding::registration_message(&response.request_hash, data)
                .map_err(|e| AppError::Wallet(e.to_string()))?;
            let sig = self.sign(wallet, binding::REGISTRATION_ITEM, &message)?;
            if let Some(ev) = response.evidence.as_mut() {
                ev.signatures.push(sig);
            }
            response.registration = Some(data.clone());
        }
        Ok(response)
    }

    /// Fetches the signed request object a scanned QR code points to and checks it: the
    /// platform's signature (with the key the registry lists), and that it names the QR's
    /// tid, operation and system code and has not expired.
    pub fn fetch_request(
        &self,
        transport: &dyn Transport,
        payload: &crate::protocol::QrPayload,
        platform_key: &PublicKey,
        now: i64,
    ) -> Result<(SignedRequest, RequestObject), AppError> {
        self.fetch_request_via(&crate::qr::Camr1, transport, payload, platform_key, now)
    }

    /// [`App::fetch_request`] for a code of QR profile `profile` (二维码类型): the profile
    /// says where the request is fetched ([`crate::qr::QrProfile::request_fetch_uri`]).
    pub fn fetch_request_via(
        &self,
        profile: &dyn crate::qr::QrProfile,
        transport: &dyn Transport,
        payload: &crate::protocol::QrPayload,
        platform_key: &PublicKey,
        now: i64,
    ) -> Result<(SignedRequest, RequestObject), AppError> {
        // A rotating code's live part goes with the fetch, so the platform can refuse a
        // relayed, stale screenshot of its QR (the signed part alone is not enough).
        let uri = profile.request_fetch_uri(payload);
        let data = envelope_data(&transport.get(&uri)?)?;
        let signed: SignedRequest = serde_json::from_value(data).map_err(|e| {
            AppError::Transport(format!("the request object is not a signed request: {e}"))
        })?;
        let request = crate::protocol::binding::check_signed_request(
            self.provider.as_ref(),
            &signed,
            platform_key,
        )
        .map_err(AppError::from)?;
        if request.tid != payload.tid
            || request.operation != payload.operation
            || request.system_code != payload.system_code()
        {
            return Err(AppError::RequestMismatch(
                "the request object does not match the QR code (tid, operation or system code)"
                    .into(),
            ));
        }
        if now > request.expires_at {
            return Err(AppError::RequestMismatch(format!(
                "the request expired at {}",
                request.expires_at
            )));
        }
        Ok((signed, request))
    }

    /// Waits for the next step of a seal session (签章会话) this app authorised
    /// (`session`: the session's request object): `GET {waitUri}?tid=`. A
    /// [`SessionStep::Sign`] is checked before it is returned: signed by the platform key,
    /// bound to this session and certificate, same platform and response URI, not expired.
    pub fn session_step(
        &self,
        transport: &dyn Transport,
        session: &RequestObject,
        wallet: &Wallet,
        platform_key: &PublicKey,
        now: i64,
    ) -> Result<(SessionStep, Option<RequestObject>), AppError> {
        let OperationPayload::SealSession { wait_uri, .. } = &session.payload else {
            return Err(AppError::RequestMismatch(
                "not a seal session request".into(),
            ));
        };
        let sep = if wait_uri.contains('?') { '&' } else { '?' };
        let uri = format!("{wait_uri}{sep}tid={}", session.tid);
        let data = envelope_data(&transport.get(&uri)?)?;
        let step: SessionStep = serde_json::from_value(data)
            .map_err(|e| AppError::Transport(format!("the session step is not understood: {e}")))?;
        let SessionStep::Sign {
            request: signed, ..
        } = &step
        else {
            return Ok((step, None));
        };
        let request = crate::protocol::binding::check_signed_request(
            self.provider.as_ref(),
            signed,
            platform_key,
        )
        .map_err(AppError::from)?;
        let fingerprint = self
            .provider
            .digest(crate::crypto::HashAlgorithm::Sha256, wallet.sign_cert.der());
        let bound = request
            .session
            .as_ref()
            .is_some_and(|b| b.tid == session.tid && b.certificate_sha256.0 == fingerprint);
        if !bound
            || request.operation != Operation::Signature
            || request.system_code != session.system_code
            || request.response_uri != session.response_uri
            || !matches!(request.payload, OperationPayload::Signature { .. })
        {
            return Err(AppError::RequestMismatch(
                "the session step is not a signature request of this session and certificate"
                    .into(),
            ));
        }
        if now > request.expires_at {
            return Err(AppError::RequestMismatch(format!(
                "the session step expired at {}",
                request.expires_at
            )));
        }
        Ok((step, Some(request)))
    }

    /// Posts an answer to the request's response URI; returns the envelope's `data`.
    pub fn post_response(
        &self,
        transport: &dyn Transport,
        request: &RequestObject,
        response: &Response,
    ) -> Result<serde_json::Value, AppError> {
        self.post_response_via(&crate::qr::Camr1, transport, request, response)
    }

    /// [`App::post_response`] for a code of QR profile `profile`, which says where the answer
    /// goes ([`crate::qr::QrProfile::response_post_uri`]).
    pub fn post_response_via(
        &self,
        profile: &dyn crate::qr::QrProfile,
        transport: &dyn Transport,
        request: &RequestObject,
        response: &Response,
    ) -> Result<serde_json::Value, AppError> {
        let body = serde_json::to_vec(response).map_err(|e| AppError::Transport(e.to_string()))?;
        envelope_data(
            &transport.post_json(&profile.response_post_uri(&request.response_uri), &body)?,
        )
    }

    /// Approves with an organisation certificate on a staff member's behalf: only when
    /// `delegation` (signed by the organisation) covers this platform, operation and time;
    /// the answer names the operator and carries the delegation for the platform to check.
    pub fn approve_as_staff(
        &self,
        org_wallet: &Wallet,
        delegation: &SignedDelegation,
        signed: &SignedRequest,
        request: &RequestObject,
        now: i64,
    ) -> Result<Response, AppError> {
        let d = delegation::check(
            self.provider.as_ref(),
            &org_wallet.sign_cert,
            delegation,
            &request.system_code,
            request.operation,
            now,
        )?;
        let mut response = self.approve_unbound(org_wallet, signed, request, &[])?;
        response.operator = Some(d.operator());
        // The platform checks the delegation itself; the operator it records comes from it.
        // Both are inside the binding, so nobody can drop or swap them on the way.
        response.delegation = Some(delegation.clone());
        self.sign_binding(org_wallet, &mut response)?;
        Ok(response)
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
        let mut response = Response {
            tid: request.tid.clone(),
            operation: request.operation,
            ca_org_type: self.ca_org_type.clone(),
            status: ResponseStatus::Rejected,
            request_hash: hash,
            reject_reason: Some(reason.to_string()),
            operator: None,
            delegation: None,
            registration: None,
            qr_profile: self.qr_profile.to_string(),
            evidence: Some(self.evidence(wallet, Vec::new())),
            vendor_evidence: None,
        };
        self.sign_binding(wallet, &mut response)?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests;
