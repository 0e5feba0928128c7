//! Two-party SM2 signing and decryption (SM2 协同签名 / 协同解密): the private key exists only
//! as two shares, d1 in the phone app ([`ClientShare`]) and d2 in the CA vendor's cloud
//! ([`ServerShare`]). The joint key is d = (d1·d2)⁻¹ − 1; nobody ever computes it. The
//! output is an ordinary SM2 signature (GB/T 32918.2, SM3 over Z ‖ M, DER `SM2Signature`)
//! that OpenSSL verifies under the joint public key P, and co-decryption opens an ordinary
//! SM2 ciphertext (GB/T 32918.4, C1C3C2) encrypted to P.
//!
//! The key split and key generation (P1 = d1⁻¹·G, P2 = d2⁻¹·G, P = d1⁻¹·P2 − G) are those
//! of Tongsuo's `crypto/sm2/sm2_threshold.c`; the signing flow (k1; k2, k3; r, s2, s3) and
//! the T1/T2 decryption are the ones of patent CN104243456 (林璟锵, 马原, 荆继武 et al.,
//! IIE CAS). `docs/cosign.md` gives it step by step, with the checks, the pitfalls and the
//! sources.
//!
//! Client side, two steps per operation (the request goes to the vendor cloud, the response
//! comes back):
//! - [`ClientShare::keygen_start`] → [`KeygenRequest`]; [`KeygenPending::finish`] checks
//!   P = d1⁻¹·P2 − G and returns the [`ClientShare`]. Run one test co-signature before
//!   asking for a certificate for P.
//! - [`ClientShare::sign_start`] → [`SignRequest`]; [`SignPending::finish`] checks r, s2, s3,
//!   computes s and **verifies (r, s) under P before releasing it**.
//! - [`ClientShare::decrypt_start`] → [`DecryptRequest`]; [`DecryptPending::finish`]
//!   computes d·C1 = T2 − C1, runs the KDF and checks C3 in constant time.
//!
//! Server side: [`ServerShare::keygen`], [`ServerShare::sign`] (or
//! [`ServerShare::sign_checked`] with a [`ReplayCache`] of Q1) and [`ServerShare::decrypt`].
//!
//! Every point received is checked to be on the curve and not the point at infinity, every
//! scalar to be in [1, n−1]; nonces come fresh from the operating system's CSPRNG for each
//! session and are never stored. Curve arithmetic is the RustCrypto `sm2` crate's.

use std::collections::{HashSet, VecDeque};
use std::fmt;

use elliptic_curve::{
    Generate, Group, PrimeField,
    ops::{Invert, LinearCombination, Reduce},
    point::AffineCoordinates,
    sec1::ToSec1Point,
    subtle::ConstantTimeEq,
};
use getrandom::SysRng;
use sm2::dsa::signature::hazmat::PrehashVerifier;
use sm2::{FieldBytes, NonZeroScalar, ProjectivePoint, Scalar};
use sm3::{Digest, Sm3};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::crypto::{PublicKey, SecretBytes, Sm2CiphertextForm};

mod error;
mod messages;

pub use error::CosignError;
pub use messages::{
    DecryptRequest, DecryptResponse, KeygenRequest, KeygenResponse, SignRequest, SignResponse,
};

pub use crate::crypto::DEFAULT_SM2_SIGNER_ID;

/// `Result` with a [`CosignError`].
pub type Result<T, E = CosignError> = std::result::Result<T, E>;

/// Version byte of the stored share format ([`ClientShare::to_bytes`]).
pub const SHARE_FORMAT_VERSION: u8 = 1;

/// Magic bytes at the start of a stored share.
const SHARE_MAGIC: &[u8; 4] = b"CMCS";
const ROLE_CLIENT: u8 = 1;
const ROLE_SERVER: u8 = 2;
/// magic ‖ version ‖ role ‖ share (32) ‖ P uncompressed (65).
const SHARE_LEN: usize = 4 + 1 + 1 + 32 + 65;

/// How often a step draws new nonces after a degenerate value (each has probability ~2⁻²⁵⁶)
/// before it gives up with [`CosignError::Retry`].
const MAX_TRIES: usize = 8;

/// Largest ciphertext body (C2) co-decryption accepts: envelope keys are 16 or 32 bytes.
pub const MAX_PLAINTEXT_LEN: usize = 64 * 1024;

/// SM2 curve coefficient a (GB/T 32918.5), for Z.
const CURVE_A: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFC,
];
/// SM2 curve coefficient b (GB/T 32918.5), for Z.
const CURVE_B: [u8; 32] = [
    0x28, 0xE9, 0xFA, 0x9E, 0x9D, 0x9F, 0x5E, 0x34, 0x4D, 0x5A, 0x9E, 0x4B, 0xCF, 0x65, 0x09, 0xA7,
    0xF3, 0x97, 0x89, 0xF5, 0x15, 0xAB, 0x8F, 0x92, 0xDD, 0xBC, 0xBD, 0x41, 0x4D, 0x94, 0x0E, 0x93,
];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A fresh scalar in [1, n−1] from the operating system's CSPRNG.
fn fresh_scalar() -> Result<NonZeroScalar> {
    NonZeroScalar::try_generate_from_rng(&mut SysRng).map_err(|_| CosignError::RandomFailed)
}

/// Decodes a SEC1 point (compressed or uncompressed) and checks that it is on the curve and
/// not the point at infinity.
fn decode_point(what: &'static str, bytes: &[u8]) -> Result<ProjectivePoint> {
    sm2::PublicKey::from_sec1_bytes(bytes)
        .map(|p| p.to_projective())
        .map_err(|_| CosignError::PointInvalid { what })
}

/// Uncompressed SEC1 encoding; refuses the point at infinity.
fn encode_point(what: &'static str, p: &ProjectivePoint) -> Result<Vec<u8>> {
    if bool::from(p.is_identity()) {
        return Err(CosignError::PointInvalid { what });
    }
    Ok(p.to_affine().to_sec1_point(false).as_bytes().to_vec())
}

fn field_bytes(what: &'static str, bytes: &[u8]) -> Result<FieldBytes> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| CosignError::ScalarInvalid { what })?;
    Ok(FieldBytes::from(arr))
}

/// Decodes a 32-byte big-endian scalar and checks that it lies in [1, n−1].
fn decode_scalar(what: &'static str, bytes: &[u8]) -> Result<NonZeroScalar> {
    Option::from(NonZeroScalar::from_repr(field_bytes(what, bytes)?))
        .ok_or(CosignError::ScalarInvalid { what })
}

fn scalar_bytes(s: &Scalar) -> Vec<u8> {
    s.to_repr().to_vec()
}

fn x_mod_n(p: &ProjectivePoint) -> Scalar {
    <Scalar as Reduce<FieldBytes>>::reduce(&p.to_affine().x())
}

/// Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) (GB/T 32918.2, 5.5).
fn z_value(id: &str, p: &sm2::PublicKey) -> Result<[u8; 32]> {
    let entl: u16 = id
        .len()
        .checked_mul(8)
        .and_then(|bits| u16::try_from(bits).ok())
        .ok_or_else(|| CosignError::malformed("signer ID", "longer than 8191 bytes"))?;
    let g = ProjectivePoint::generator().to_affine();
    let a = p.as_affine();
    let mut h = Sm3::new();
    h.update(entl.to_be_bytes());
    h.update(id.as_bytes());
    h.update(CURVE_A);
    h.update(CURVE_B);
    h.update(g.x());
    h.update(g.y());
    h.update(a.x());
    h.update(a.y());
    Ok(h.finalize().into())
}

/// e = SM3(Z ‖ M).
fn digest_e(id: &str, p: &sm2::PublicKey, msg: &[u8]) -> Result<[u8; 32]> {
    let z = z_value(id, p)?;
    let mut h = Sm3::new();
    h.update(z);
    h.update(msg);
    Ok(h.finalize().into())
}

fn share_to_bytes(role: u8, share: &NonZeroScalar, p: &sm2::PublicKey) -> SecretBytes {
    let mut out = Zeroizing::new(Vec::with_capacity(SHARE_LEN));
    out.extend_from_slice(SHARE_MAGIC);
    out.push(SHARE_FORMAT_VERSION);
    out.push(role);
    let mut repr = share.to_repr();
    out.extend_from_slice(&repr);
    repr.zeroize();
    out.extend_from_slice(p.to_sec1_point(false).as_bytes());
    out
}

fn share_from_bytes(role: u8, bytes: &[u8]) -> Result<(NonZeroScalar, sm2::PublicKey)> {
    let what = if role == ROLE_CLIENT {
        "stored client share"
    } else {
        "stored server share"
    };
    if bytes.len() != SHARE_LEN {
        return Err(CosignError::malformed(
            what,
            format!("expected {SHARE_LEN} bytes, got {}", bytes.len()),
        ));
    }
    if &bytes[..4] != SHARE_MAGIC {
        return Err(CosignError::malformed(
            what,
            "it does not start with the CMCS magic",
        ));
    }
    if bytes[4] != SHARE_FORMAT_VERSION {
        return Err(CosignError::malformed(
            what,
            format!(
                "format version {} (this camr reads {SHARE_FORMAT_VERSION})",
                bytes[4]
            ),
        ));
    }
    if bytes[5] != role {
        return Err(CosignError::malformed(
            what,
            "it is the other party's share (wrong role byte)",
        ));
    }
    let share = Option::<NonZeroScalar>::from(NonZeroScalar::from_repr(field_bytes(
        "share",
        &bytes[6..38],
    )?))
    .ok_or_else(|| CosignError::malformed(what, "the share is not in [1, n-1]"))?;
    let p = sm2::PublicKey::from_sec1_bytes(&bytes[38..])
        .map_err(|_| CosignError::PointInvalid { what: "stored P" })?;
    Ok((share, p))
}

// ---------------------------------------------------------------------------------------------
// Client (phone app): d1
// ---------------------------------------------------------------------------------------------

/// The phone app's share: d1 and the joint public key P. d1 is zeroized on drop.
///
/// Deliberately not stored: P1 and P2 — with P2 = d2⁻¹·G on the phone, a thief could test a
/// guessed (e.g. PIN-decrypted) d1 offline against P + G = d1⁻¹·P2.
#[derive(Clone)]
pub struct ClientShare {
    d1: NonZeroScalar,
    p: sm2::PublicKey,
}

/// Client key generation in progress: d1 drawn, waiting for the server's [`KeygenResponse`].
pub struct KeygenPending {
    d1: NonZeroScalar,
}

/// A co-signature in progress: k1 drawn, waiting for the server's [`SignResponse`].
pub struct SignPending {
    d1: NonZeroScalar,
    k1: NonZeroScalar,
    p: sm2::PublicKey,
    e: [u8; 32],
    id: String,
}

/// A co-decryption in progress: waiting for the server's [`DecryptResponse`].
pub struct DecryptPending {
    c1: ProjectivePoint,
    c2: Vec<u8>,
    c3: [u8; 32],
}

impl Drop for ClientShare {
    fn drop(&mut self) {
        self.d1.zeroize();
    }
}
impl ZeroizeOnDrop for ClientShare {}

impl Drop for KeygenPending {
    fn drop(&mut self) {
        self.d1.zeroize();
    }
}
impl ZeroizeOnDrop for KeygenPending {}

impl Drop for SignPending {
    fn drop(&mut self) {
        self.d1.zeroize();
        self.k1.zeroize();
    }
}
impl ZeroizeOnDrop for SignPending {}

impl fmt::Debug for ClientShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ClientShare(d1=<secret>, P={})",
            data_encoding::HEXLOWER.encode(&self.p.to_sec1_bytes())
        )
    }
}
impl fmt::Debug for KeygenPending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeygenPending(d1=<secret>)")
    }
}
impl fmt::Debug for SignPending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SignPending(e={}, <secret>)",
            data_encoding::HEXLOWER.encode(&self.e)
        )
    }
}
impl fmt::Debug for DecryptPending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DecryptPending(C2 of {} bytes)", self.c2.len())
    }
}

impl ClientShare {
    /// Starts key generation: draws d1 and returns P1 = d1⁻¹·G for the server.
    pub fn keygen_start() -> Result<(KeygenPending, KeygenRequest)> {
        let d1 = fresh_scalar()?;
        let d1_inv = Zeroizing::new(d1.invert());
        let p1 = ProjectivePoint::generator() * **d1_inv;
        let req = KeygenRequest {
            p1: encode_point("P1", &p1)?.into(),
        };
        Ok((KeygenPending { d1 }, req))
    }

    /// The joint public key P as a camr public key (for a CSR, a certificate, verification).
    pub fn public_key(&self) -> PublicKey {
        PublicKey::Sm2(self.p)
    }

    /// The joint public key P as DER `SubjectPublicKeyInfo`.
    pub fn public_key_spki_der(&self) -> Result<Vec<u8>> {
        self.public_key()
            .to_spki_der()
            .map_err(|e| CosignError::malformed("joint public key", e.to_string()))
    }

    /// e = SM3(Z ‖ M) under the joint key P and signer `id` (GB/T 32918.2): what the server
    /// signs. [`DEFAULT_SM2_SIGNER_ID`] is the usual ID.
    pub fn digest(&self, msg: &[u8], id: &str) -> Result<[u8; 32]> {
        digest_e(id, &self.p, msg)
    }

    /// Starts a co-signature of `msg` with signer `id`: computes e = SM3(Z ‖ M), draws a
    /// fresh k1 and returns Q1 = k1·G and e for the server.
    pub fn sign_start(&self, msg: &[u8], id: &str) -> Result<(SignPending, SignRequest)> {
        let e = self.digest(msg, id)?;
        self.start_sign(e, id)
    }

    /// Starts a co-signature of a digest e = SM3(Z ‖ M) computed elsewhere (hash signing:
    /// the platform sends e, not the document). `id` is the signer ID e was computed with;
    /// the result is verified against e only.
    pub fn sign_digest_start(&self, e: &[u8], id: &str) -> Result<(SignPending, SignRequest)> {
        let e: [u8; 32] = e
            .try_into()
            .map_err(|_| CosignError::malformed("digest e", "it must be 32 bytes (SM3)"))?;
        self.start_sign(e, id)
    }

    fn start_sign(&self, e: [u8; 32], id: &str) -> Result<(SignPending, SignRequest)> {
        let k1 = fresh_scalar()?;
        let q1 = ProjectivePoint::generator() * *k1;
        let req = SignRequest {
            q1: encode_point("Q1", &q1)?.into(),
            e: e.to_vec().into(),
        };
        let pending = SignPending {
            d1: self.d1,
            k1,
            p: self.p,
            e,
            id: id.to_string(),
        };
        Ok((pending, req))
    }

    /// Starts the co-decryption of an SM2 ciphertext (C1C3C2, ASN.1 or raw, as
    /// [`crate::crypto::CryptoProvider::sm2_encrypt`] and OpenSSL write it) encrypted to P:
    /// checks C1 and returns T1 = d1⁻¹·C1 for the server.
    pub fn decrypt_start(
        &self,
        ciphertext: &[u8],
        form: Sm2CiphertextForm,
    ) -> Result<(DecryptPending, DecryptRequest)> {
        let bad = |reason: &str| CosignError::malformed("SM2 ciphertext", reason.to_string());
        let cipher = match form {
            Sm2CiphertextForm::Asn1 => {
                <sm2::pke::Cipher<'_, sm2::Sm2, Sm3> as der::Decode<'_>>::from_der(ciphertext)
                    .map_err(|_| {
                        bad("not a DER SM2Cipher (GM/T 0009) with a point on the SM2 curve")
                    })?
            }
            Sm2CiphertextForm::Raw => sm2::pke::Cipher::<'_, sm2::Sm2, Sm3>::from_slice(
                ciphertext,
                sm2::pke::Mode::C1C3C2,
            )
            .map_err(|_| bad("not a raw 04‖C1‖C3‖C2 ciphertext with a point on the SM2 curve"))?,
        };
        let c1 = ProjectivePoint::from(*cipher.c1());
        // On the curve (checked by the parser) and not O; the cofactor is 1, so [h]C1 = C1.
        if bool::from(c1.is_identity()) {
            return Err(CosignError::PointInvalid { what: "C1" });
        }
        let c2 = cipher.c2();
        if c2.is_empty() {
            return Err(bad("C2 is empty"));
        }
        if c2.len() > MAX_PLAINTEXT_LEN {
            return Err(bad("C2 is longer than co-decryption accepts"));
        }
        let mut c3 = [0u8; 32];
        c3.copy_from_slice(cipher.c3());
        let d1_inv = Zeroizing::new(self.d1.invert());
        let t1 = c1 * **d1_inv;
        let req = DecryptRequest {
            t1: encode_point("T1", &t1)?.into(),
        };
        Ok((
            DecryptPending {
                c1,
                c2: c2.to_vec(),
                c3,
            },
            req,
        ))
    }

    /// The share in camr's small storage format (version [`SHARE_FORMAT_VERSION`]):
    /// `"CMCS" ‖ version ‖ role 1 ‖ d1 (32) ‖ P (65, uncompressed)`, 103 bytes. Encrypt it
    /// (e.g. under the wallet PIN) before it touches a disk.
    pub fn to_bytes(&self) -> SecretBytes {
        share_to_bytes(ROLE_CLIENT, &self.d1, &self.p)
    }

    /// Reads a share written by [`ClientShare::to_bytes`]. A damaged d1 that is still in
    /// range cannot be told here; the first co-signature refuses it
    /// ([`CosignError::SignatureInvalid`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (d1, p) = share_from_bytes(ROLE_CLIENT, bytes)?;
        Ok(Self { d1, p })
    }
}

impl KeygenPending {
    /// Finishes key generation: checks P and P2 (on the curve, not O) and that
    /// P = d1⁻¹·P2 − G, then returns the client's share.
    pub fn finish(self, resp: &KeygenResponse) -> Result<ClientShare> {
        let p = decode_point("P", &resp.p)?;
        let p2 = decode_point("P2", &resp.p2)?;
        let d1_inv = Zeroizing::new(self.d1.invert());
        let expected = p2 * **d1_inv - ProjectivePoint::generator();
        if expected != p {
            return Err(CosignError::ShareMismatch);
        }
        let p = sm2::PublicKey::from_affine(p.to_affine())
            .map_err(|_| CosignError::PointInvalid { what: "P" })?;
        Ok(ClientShare { d1: self.d1, p })
    }
}

impl SignPending {
    /// The digest e = SM3(Z ‖ M) being signed.
    pub fn digest(&self) -> [u8; 32] {
        self.e
    }

    /// Finishes a co-signature: checks r, s2, s3 ∈ [1, n−1], computes
    /// s = (d1·k1)·s2 + d1·s3 − r, refuses s = 0 and r + s ≡ 0, and verifies (r, s) under P
    /// before returning it as DER `SM2Signature` (SEQUENCE of two INTEGERs). The nonce k1 is
    /// wiped when this returns; a retry is a new [`ClientShare::sign_start`].
    pub fn finish(self, resp: &SignResponse) -> Result<Vec<u8>> {
        let sig = self.finish_signature(resp)?;
        Ok(sig.to_der().as_bytes().to_vec())
    }

    /// As [`SignPending::finish`], returning the fixed `r ‖ s` form (64 bytes).
    pub fn finish_fixed(self, resp: &SignResponse) -> Result<[u8; 64]> {
        let sig = self.finish_signature(resp)?;
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&sig.r_bytes());
        out[32..].copy_from_slice(&sig.s_bytes());
        Ok(out)
    }

    fn finish_signature(&self, resp: &SignResponse) -> Result<sm2::dsa::Signature> {
        let r = decode_scalar("r", &resp.r)?;
        let s2 = decode_scalar("s2", &resp.s2)?;
        let s3 = decode_scalar("s3", &resp.s3)?;
        let mut d1k1 = *self.d1 * *self.k1;
        let s = d1k1 * *s2 + *self.d1 * *s3 - *r;
        d1k1.zeroize();
        if bool::from(s.is_zero()) {
            return Err(CosignError::Retry { what: "s = 0" });
        }
        if bool::from((*r + s).is_zero()) {
            return Err(CosignError::Retry {
                what: "r + s = 0 mod n",
            });
        }
        let sig = sm2::dsa::Signature::from_scalars(r.to_repr(), s.to_repr())
            .map_err(|_| CosignError::SignatureInvalid)?;
        // The client's own check: a faulty or malicious server, or a damaged share, must not
        // produce a released signature.
        let verifier = sm2::dsa::VerifyingKey::new(&self.id, self.p)
            .map_err(|_| CosignError::malformed("signer ID", "unusable with this key"))?;
        verifier
            .verify_prehash(&self.e, &sig)
            .map_err(|_| CosignError::SignatureInvalid)?;
        Ok(sig)
    }
}

impl DecryptPending {
    /// Finishes a co-decryption: checks T2 (on the curve, not O), computes
    /// (x2, y2) = T2 − C1 = d·C1 (refusing O), t = KDF(x2 ‖ y2, klen) (refusing all zero),
    /// M = C2 ⊕ t, and releases M only when SM3(x2 ‖ M ‖ y2) equals C3 (constant-time
    /// comparison).
    pub fn finish(self, resp: &DecryptResponse) -> Result<SecretBytes> {
        let t2 = decode_point("T2", &resp.t2)?;
        let shared = t2 - self.c1;
        if bool::from(shared.is_identity()) {
            return Err(CosignError::DecryptionFailed {
                reason: "T2 − C1 is the point at infinity",
            });
        }
        let a = shared.to_affine();
        let (x2, y2) = (Zeroizing::new(a.x()), Zeroizing::new(a.y()));
        let klen = self.c2.len();
        let mut t = Zeroizing::new(Vec::with_capacity(klen + 32));
        let mut counter: u32 = 1;
        while t.len() < klen {
            let mut h = Sm3::new();
            h.update(x2.as_slice());
            h.update(y2.as_slice());
            h.update(counter.to_be_bytes());
            t.extend_from_slice(&h.finalize());
            counter = counter.wrapping_add(1);
        }
        t.truncate(klen);
        if t.iter().fold(0u8, |acc, b| acc | b) == 0 {
            return Err(CosignError::DecryptionFailed {
                reason: "the derived key stream t is all zero",
            });
        }
        let m: SecretBytes =
            Zeroizing::new(self.c2.iter().zip(t.iter()).map(|(c, k)| c ^ k).collect());
        let mut h = Sm3::new();
        h.update(x2.as_slice());
        h.update(m.as_slice());
        h.update(y2.as_slice());
        let u = h.finalize();
        if bool::from(u.as_slice().ct_eq(&self.c3)) {
            Ok(m)
        } else {
            Err(CosignError::DecryptionFailed {
                reason: "the C3 check failed (wrong or damaged share, or a changed T2 or ciphertext)",
            })
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Server (vendor cloud): d2
// ---------------------------------------------------------------------------------------------

/// The vendor cloud's share: d2 and the joint public key P. d2 is zeroized on drop.
///
/// The server signs any e it is sent and answers any T1: authenticate the user (PIN,
/// biometrics, device binding), log e, and rate-limit decryption (a static-DH oracle) in the
/// service around it.
#[derive(Clone)]
pub struct ServerShare {
    d2: NonZeroScalar,
    p: sm2::PublicKey,
}

impl Drop for ServerShare {
    fn drop(&mut self) {
        self.d2.zeroize();
    }
}
impl ZeroizeOnDrop for ServerShare {}

impl fmt::Debug for ServerShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ServerShare(d2=<secret>, P={})",
            data_encoding::HEXLOWER.encode(&self.p.to_sec1_bytes())
        )
    }
}

impl ServerShare {
    /// Server key generation: checks P1 (on the curve, not O), draws d2, computes the joint
    /// public key P = d2⁻¹·P1 − G (≠ O) and P2 = d2⁻¹·G, and returns its share with both.
    pub fn keygen(req: &KeygenRequest) -> Result<(ServerShare, KeygenResponse)> {
        let p1 = decode_point("P1", &req.p1)?;
        for _ in 0..MAX_TRIES {
            let d2 = fresh_scalar()?;
            let d2_inv = Zeroizing::new(d2.invert());
            let p = p1 * **d2_inv - ProjectivePoint::generator();
            if bool::from(p.is_identity()) {
                continue;
            }
            let p2 = ProjectivePoint::generator() * **d2_inv;
            let resp = KeygenResponse {
                p: encode_point("P", &p)?.into(),
                p2: encode_point("P2", &p2)?.into(),
            };
            let p = sm2::PublicKey::from_affine(p.to_affine())
                .map_err(|_| CosignError::PointInvalid { what: "P" })?;
            return Ok((ServerShare { d2, p }, resp));
        }
        Err(CosignError::Retry {
            what: "the joint public key came out as O",
        })
    }

    /// The joint public key P as a camr public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::Sm2(self.p)
    }

    /// The joint public key P as DER `SubjectPublicKeyInfo`.
    pub fn public_key_spki_der(&self) -> Result<Vec<u8>> {
        self.public_key()
            .to_spki_der()
            .map_err(|e| CosignError::malformed("joint public key", e.to_string()))
    }

    /// The server's half of a co-signature: checks Q1 (on the curve, not O) and that e is
    /// 32 bytes, draws fresh k2 and k3, computes (x1, y1) = k3·Q1 + k2·G,
    /// r = (e + x1) mod n (retrying on r = 0), s2 = d2·k3 and s3 = d2·(r + k2).
    ///
    /// Stateless: it does not notice a replayed Q1; [`ServerShare::sign_checked`] does.
    pub fn sign(&self, req: &SignRequest) -> Result<SignResponse> {
        let q1 = decode_point("Q1", &req.q1)?;
        self.sign_point(&q1, &req.e)
    }

    /// As [`ServerShare::sign`], but first refuses a Q1 that `cache` has seen
    /// ([`CosignError::Replay`]): a client that reuses k1 gives the server its share d1.
    pub fn sign_checked(&self, req: &SignRequest, cache: &mut ReplayCache) -> Result<SignResponse> {
        let q1 = decode_point("Q1", &req.q1)?;
        cache.insert(&q1)?;
        self.sign_point(&q1, &req.e)
    }

    fn sign_point(&self, q1: &ProjectivePoint, e: &[u8]) -> Result<SignResponse> {
        let e: [u8; 32] = e
            .try_into()
            .map_err(|_| CosignError::malformed("digest e", "it must be 32 bytes (SM3)"))?;
        let e = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(e));
        for _ in 0..MAX_TRIES {
            let k2 = Zeroizing::new(fresh_scalar()?);
            let k3 = Zeroizing::new(fresh_scalar()?);
            let r1 = ProjectivePoint::lincomb(&[(*q1, **k3), (ProjectivePoint::generator(), **k2)]);
            if bool::from(r1.is_identity()) {
                continue;
            }
            let r = e + x_mod_n(&r1);
            if bool::from(r.is_zero()) {
                continue;
            }
            let s2 = *self.d2 * **k3;
            let s3 = *self.d2 * (r + **k2);
            if bool::from(s3.is_zero()) {
                continue;
            }
            return Ok(SignResponse {
                r: scalar_bytes(&r).into(),
                s2: scalar_bytes(&s2).into(),
                s3: scalar_bytes(&s3).into(),
            });
        }
        Err(CosignError::Retry {
            what: "no usable server nonces",
        })
    }

    /// The server's half of a co-decryption: checks T1 (on the curve, not O) and returns
    /// T2 = d2⁻¹·T1. Rate-limit this per user: it is a static Diffie–Hellman oracle.
    pub fn decrypt(&self, req: &DecryptRequest) -> Result<DecryptResponse> {
        let t1 = decode_point("T1", &req.t1)?;
        let d2_inv = Zeroizing::new(self.d2.invert());
        let t2 = t1 * **d2_inv;
        Ok(DecryptResponse {
            t2: encode_point("T2", &t2)?.into(),
        })
    }

    /// The share in camr's storage format: `"CMCS" ‖ version ‖ role 2 ‖ d2 (32) ‖ P (65)`.
    pub fn to_bytes(&self) -> SecretBytes {
        share_to_bytes(ROLE_SERVER, &self.d2, &self.p)
    }

    /// Reads a share written by [`ServerShare::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (d2, p) = share_from_bytes(ROLE_SERVER, bytes)?;
        Ok(Self { d2, p })
    }
}

/// The Q1 values a server has answered, so a replayed Q1 (a client reusing its nonce k1) is
/// refused. Bounded: the oldest entries are forgotten first. Keep one per server process (or
/// back it with shared storage for several).
#[derive(Debug, Clone)]
pub struct ReplayCache {
    seen: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
    capacity: usize,
}

impl ReplayCache {
    /// A cache that remembers the last `capacity` Q1 values (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Records Q1; [`CosignError::Replay`] when it was there already.
    fn insert(&mut self, q1: &ProjectivePoint) -> Result<()> {
        // Keyed on the point itself, whatever its encoding (compressed or not).
        let key: [u8; 32] = Sm3::digest(q1.to_affine().to_sec1_point(false).as_bytes()).into();
        if !self.seen.insert(key) {
            return Err(CosignError::Replay);
        }
        self.order.push_back(key);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        Ok(())
    }

    /// How many Q1 values are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether nothing is remembered yet.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests;
