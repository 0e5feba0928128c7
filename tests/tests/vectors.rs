//! Standard test vectors against camr's default provider: GB/T 32905 (SM3), GB/T 32907 (SM4),
//! GM/T 0003.5 / GB/T 32918.5 (SM2 on the recommended curve) and Google's Wycheproof sets
//! (ECDSA P-256, RSA PKCS#1 v1.5 / PSS / OAEP, AES-256-GCM, SM4-GCM, HMAC-SHA256, HMAC-SM3).
//!
//! The expected values come from the standards or from Wycheproof, never from camr itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use camr::crypto::{
    AeadAlgorithm, CryptoProvider, HashAlgorithm, PrivateKey, PublicKey, SignatureScheme,
    Sm2CiphertextForm, default_provider,
};
use camr::protocol::ErrorCode;
use wycheproof::TestResult;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex in test vector {s}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// SM3, GB/T 32905-2016 Appendix A
// ---------------------------------------------------------------------------------------------

#[test]
fn sm3_gbt32905_examples() {
    let p = default_provider();
    assert_eq!(
        hex::encode(p.digest(HashAlgorithm::Sm3, b"abc")),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
    // Example 2: "abcd" repeated 16 times (512 bits).
    let m = b"abcd".repeat(16);
    assert_eq!(m.len(), 64);
    assert_eq!(
        hex::encode(p.digest(HashAlgorithm::Sm3, &m)),
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    );
    // The incremental hasher must agree with the one-shot digest, also across odd splits.
    let mut hs = p.hasher(HashAlgorithm::Sm3);
    hs.update(&m[..7]);
    hs.update(&m[7..63]);
    hs.update(&m[63..]);
    assert_eq!(
        hex::encode(hs.finalize()),
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    );
}

#[test]
fn sha256_fips180_examples() {
    let p = default_provider();
    assert_eq!(
        hex::encode(p.digest(HashAlgorithm::Sha256, b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex::encode(p.digest(HashAlgorithm::Sha256, b"")),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

// ---------------------------------------------------------------------------------------------
// SM4, GB/T 32907-2016 Appendix A
// ---------------------------------------------------------------------------------------------

const SM4_KEY: &str = "0123456789abcdeffedcba9876543210";

/// ECB of one block through camr's CBC API: with a zero IV the first CBC ciphertext block is
/// the block cipher applied to the first plaintext block (the second block is the padding).
fn sm4_block_via_camr(p: &dyn CryptoProvider, key: &[u8], block: &[u8; 16]) -> [u8; 16] {
    let ct = p.sm4_cbc_encrypt(key, &[0u8; 16], block).unwrap();
    assert_eq!(
        ct.len(),
        32,
        "one full block plus one block of PKCS#7 padding"
    );
    ct[..16].try_into().unwrap()
}

fn sm4_block_via_crate(cipher: &sm4::Sm4, block: &[u8; 16]) -> [u8; 16] {
    use sm4::cipher::BlockCipherEncrypt;
    let mut b = sm4::cipher::Array::from(*block);
    cipher.encrypt_block(&mut b);
    b.into()
}

fn sm4_crate_cipher(key: &[u8]) -> sm4::Sm4 {
    use sm4::cipher::KeyInit;
    sm4::Sm4::new_from_slice(key).unwrap()
}

#[test]
fn sm4_gbt32907_example1_one_block() {
    let p = default_provider();
    let key = h(SM4_KEY);
    let pt: [u8; 16] = h(SM4_KEY).try_into().unwrap();
    let ct = sm4_block_via_camr(p.as_ref(), &key, &pt);
    assert_eq!(hex::encode(ct), "681edf34d206965e86b3e94f536e4246");

    // And camr decrypts it back (full CBC round trip of the two-block message).
    let full = p.sm4_cbc_encrypt(&key, &[0u8; 16], &pt).unwrap();
    let back = p.sm4_cbc_decrypt(&key, &[0u8; 16], &full).unwrap();
    assert_eq!(back.as_slice(), pt.as_slice());
}

/// Example 2 (1,000,000 encryptions) through camr's own API. camr has no raw-block API, so
/// each step is a one-block CBC encryption with a zero IV (see [`sm4_block_via_camr`]).
#[test]
fn sm4_gbt32907_example2_million_iterations_via_camr() {
    let p = default_provider();
    let key = h(SM4_KEY);
    let mut block: [u8; 16] = h(SM4_KEY).try_into().unwrap();
    let start = Instant::now();
    for _ in 0..1_000_000 {
        block = sm4_block_via_camr(p.as_ref(), &key, &block);
    }
    eprintln!(
        "SM4 example 2 via camr sm4_cbc_encrypt: 1,000,000 iterations in {:.2?}",
        start.elapsed()
    );
    assert_eq!(hex::encode(block), "595298c7c6fd271f0402f804c33d3f66");
}

/// The same million iterations on the `sm4` crate's raw block cipher (what camr uses
/// underneath), plus a step-by-step cross check of camr against it for 1000 iterations.
#[test]
fn sm4_gbt32907_example2_crate_and_cross_check() {
    let p = default_provider();
    let key = h(SM4_KEY);
    let cipher = sm4_crate_cipher(&key);
    let start: [u8; 16] = h(SM4_KEY).try_into().unwrap();

    let mut a = start;
    let mut b = start;
    for i in 0..1000 {
        a = sm4_block_via_camr(p.as_ref(), &key, &a);
        b = sm4_block_via_crate(&cipher, &b);
        assert_eq!(a, b, "camr and the sm4 crate differ at iteration {i}");
    }

    let mut x = start;
    for _ in 0..1_000_000 {
        x = sm4_block_via_crate(&cipher, &x);
    }
    assert_eq!(hex::encode(x), "595298c7c6fd271f0402f804c33d3f66");
}

// ---------------------------------------------------------------------------------------------
// SM2, GM/T 0003.5-2012 / GB/T 32918.5-2017 examples on the recommended curve
// ---------------------------------------------------------------------------------------------

const SM2_D: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
const SM2_X: &str = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020";
const SM2_Y: &str = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
const SM2_R: &str = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
const SM2_S: &str = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";
// C1 = [k]G (x1, y1), C3 = SM3(x2 ‖ M ‖ y2), C2 = M xor KDF(x2 ‖ y2), from the standard's
// encryption example with M = "encryption standard" and k = 59276E27...DEAC1BC21.
const SM2_C1_X: &str = "04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73";
const SM2_C1_Y: &str = "E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0";
const SM2_C3: &str = "59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766";
const SM2_C2: &str = "21886CA989CA9C7D58087307CA93092D651EFA";

fn sm2_standard_private_key() -> PrivateKey {
    PrivateKey::Sm2(sm2::SecretKey::from_slice(&h(SM2_D)).unwrap())
}

fn sm2_standard_public_key() -> PublicKey {
    PublicKey::sm2_from_sec1(&h(&format!("04{SM2_X}{SM2_Y}"))).unwrap()
}

#[test]
fn sm2_standard_key_pair() {
    // d·G must be the published public key (x, y).
    let sk = sm2::SecretKey::from_slice(&h(SM2_D)).unwrap();
    let expected = h(&format!("04{SM2_X}{SM2_Y}"));
    let encoded = sm2::elliptic_curve::sec1::ToSec1Point::to_sec1_point(&sk.public_key(), false);
    assert_eq!(encoded.as_bytes(), expected.as_slice());
    // camr sees the same key through its own types.
    assert_eq!(
        sm2_standard_private_key().public_key(),
        sm2_standard_public_key()
    );
    // And through PKCS#8 export and re-import.
    let pem = sm2_standard_private_key().to_pkcs8_pem().unwrap();
    let back = PrivateKey::from_bytes(pem.as_bytes(), None).unwrap();
    assert_eq!(back.public_key(), sm2_standard_public_key());
}

/// The standard's signature over "message digest" with ID "1234567812345678".
///
/// Only the verifying direction can be checked: the standard uses a fixed random k
/// (59276E27...DEAC1BC21), whereas the `sm2` crate derives k deterministically (RFC 6979)
/// from the key and the message hash, so camr's own signature over the same message is a
/// different (equally valid) value and the signing direction of the example cannot be
/// reproduced.
#[test]
fn sm2_standard_signature_verifies() {
    let p = default_provider();
    let pk = sm2_standard_public_key();
    let r: [u8; 32] = h(SM2_R).try_into().unwrap();
    let s: [u8; 32] = h(SM2_S).try_into().unwrap();
    let sig = sm2::dsa::Signature::from_scalars(r, s).unwrap();
    let der = sig.to_der().as_bytes().to_vec();

    p.verify(&pk, &SignatureScheme::sm2(), b"message digest", &der)
        .expect("the GM/T 0003.5 example signature must verify");

    // Negative controls: other message, other ID, other r.
    let e = p
        .verify(&pk, &SignatureScheme::sm2(), b"message digesT", &der)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureInvalid);
    let other_id = SignatureScheme::Sm2Sm3 {
        signer_id: "ALICE123@YAHOO.COM".into(),
    };
    assert!(p.verify(&pk, &other_id, b"message digest", &der).is_err());
    let mut r2 = r;
    r2[31] ^= 1;
    let bad = sm2::dsa::Signature::from_scalars(r2, s).unwrap().to_der();
    assert!(
        p.verify(
            &pk,
            &SignatureScheme::sm2(),
            b"message digest",
            bad.as_bytes()
        )
        .is_err()
    );

    // camr's own signature (RFC 6979 k) over the same message verifies with the same key.
    let own = p
        .sign(
            &sm2_standard_private_key(),
            &SignatureScheme::sm2(),
            b"message digest",
        )
        .unwrap();
    p.verify(&pk, &SignatureScheme::sm2(), b"message digest", &own)
        .unwrap();
}

#[test]
fn sm2_standard_ciphertext_decrypts() {
    let p = default_provider();
    let sk = sm2_standard_private_key();

    // Raw form 04 ‖ x1 ‖ y1 ‖ C3 ‖ C2.
    let raw = h(&format!("04{SM2_C1_X}{SM2_C1_Y}{SM2_C3}{SM2_C2}"));
    let pt = p.sm2_decrypt(&sk, &raw, Sm2CiphertextForm::Raw).unwrap();
    assert_eq!(pt.as_slice(), b"encryption standard");

    // The same values in the GM/T 0009 ASN.1 form (as in OpenSSL's sm2_internal_test.c):
    // y1 has its top bit set, so its DER INTEGER carries a leading 00.
    let asn1 = h(&format!(
        "307C0220{SM2_C1_X}022100{SM2_C1_Y}0420{SM2_C3}0413{SM2_C2}"
    ));
    let pt = p.sm2_decrypt(&sk, &asn1, Sm2CiphertextForm::Asn1).unwrap();
    assert_eq!(pt.as_slice(), b"encryption standard");

    // A changed C2 byte must fail the C3 check.
    let mut bad = raw.clone();
    *bad.last_mut().unwrap() ^= 0x01;
    let e = p
        .sm2_decrypt(&sk, &bad, Sm2CiphertextForm::Raw)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::DecryptionFailed);
}

// ---------------------------------------------------------------------------------------------
// Wycheproof
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Counts {
    valid: usize,
    invalid: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    skipped: usize,
}

impl Counts {
    /// Records one outcome; returns an error text when it contradicts the expectation.
    fn record(&mut self, expected: TestResult, ok: bool) -> Option<&'static str> {
        match (expected, ok) {
            (TestResult::Valid, true) => self.valid += 1,
            (TestResult::Invalid, false) => self.invalid += 1,
            (TestResult::Acceptable, true) => self.acceptable_accepted += 1,
            (TestResult::Acceptable, false) => self.acceptable_rejected += 1,
            (TestResult::Valid, false) => return Some("a valid case was rejected"),
            (TestResult::Invalid, true) => return Some("an invalid case was accepted"),
        }
        None
    }

    fn ran(&self) -> usize {
        self.valid + self.invalid + self.acceptable_accepted + self.acceptable_rejected
    }

    fn report(&self, name: &str, failures: &[String]) {
        eprintln!(
            "wycheproof {name}: ran {} (valid {}, invalid {}, acceptable accepted {} / rejected {}), skipped {}, failures {}",
            self.ran(),
            self.valid,
            self.invalid,
            self.acceptable_accepted,
            self.acceptable_rejected,
            self.skipped,
            failures.len()
        );
        assert!(
            failures.is_empty(),
            "{name}: {} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
        assert!(self.ran() > 0, "{name}: no test case ran");
    }
}

#[test]
fn wycheproof_ecdsa_p256_sha256_der() {
    use wycheproof::ecdsa::{TestName, TestSet};
    let p = default_provider();
    let set = TestSet::load(TestName::EcdsaSecp256r1Sha256).unwrap();
    let mut c = Counts::default();
    let mut failures = Vec::new();
    for g in &set.test_groups {
        assert_eq!(g.hash, wycheproof::HashFunction::Sha2_256);
        let key = PublicKey::from_bytes(&g.der)
            .unwrap_or_else(|e| panic!("Wycheproof P-256 key does not load: {e}"));
        for t in &g.tests {
            let ok = p
                .verify(&key, &SignatureScheme::EcdsaP256Sha256, &t.msg, &t.sig)
                .is_ok();
            if let Some(why) = c.record(t.result, ok) {
                failures.push(format!("tcId {} ({}): {why}", t.tc_id, t.comment));
            }
        }
    }
    c.report("ecdsa_secp256r1_sha256", &failures);
}

/// Loads a Wycheproof RSA public key, or `None` (counted as skipped) for moduli camr rejects
/// by design (outside 2048..=4096 bits). Any other load failure is an error.
fn rsa_key(der: &[u8], key_size: usize) -> Option<PublicKey> {
    let in_range = (2048..=4096).contains(&key_size);
    match PublicKey::from_bytes(der) {
        Ok(k) => {
            assert!(in_range, "camr accepted a {key_size}-bit RSA key");
            Some(k)
        }
        Err(e) => {
            assert!(!in_range, "a {key_size}-bit RSA key does not load: {e}");
            assert_eq!(e.code(), ErrorCode::UnsupportedAlgorithm);
            None
        }
    }
}

#[test]
fn wycheproof_rsa_pkcs1v15_2048_sha256() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    let p = default_provider();
    let set = TestSet::load(TestName::Rsa2048Sha256).unwrap();
    let mut c = Counts::default();
    let mut skipped_groups = 0;
    let mut failures = Vec::new();
    for g in &set.test_groups {
        assert_eq!(g.hash, wycheproof::HashFunction::Sha2_256);
        let Some(key) = rsa_key(&g.der, g.key_size) else {
            skipped_groups += 1;
            c.skipped += g.tests.len();
            continue;
        };
        for t in &g.tests {
            let ok = p
                .verify(&key, &SignatureScheme::RsaPkcs1v15Sha256, &t.msg, &t.sig)
                .is_ok();
            if let Some(why) = c.record(t.result, ok) {
                failures.push(format!("tcId {} ({}): {why}", t.tc_id, t.comment));
            }
        }
    }
    eprintln!("wycheproof rsa_signature_2048_sha256: {skipped_groups} groups skipped for key size");
    c.report("rsa_signature_2048_sha256", &failures);
}

#[test]
fn wycheproof_rsa_pss_2048_sha256_mgf1_32() {
    use wycheproof::rsa_pss_verify::{TestName, TestSet};
    let p = default_provider();
    let set = TestSet::load(TestName::RsaPss2048Sha256Mgf1SaltLen32).unwrap();
    let mut c = Counts::default();
    let mut skipped_groups = 0;
    let mut failures = Vec::new();
    for g in &set.test_groups {
        let params_match = g.hash == wycheproof::HashFunction::Sha2_256
            && g.mgf == wycheproof::Mgf::Mgf1
            && g.mgf_hash == Some(wycheproof::HashFunction::Sha2_256)
            && g.salt_size == 32;
        assert!(params_match, "unexpected PSS parameters in the set");
        let Some(key) = rsa_key(&g.der, g.key_size) else {
            skipped_groups += 1;
            c.skipped += g.tests.len();
            continue;
        };
        for t in &g.tests {
            let ok = p
                .verify(&key, &SignatureScheme::RsaPssSha256, &t.msg, &t.sig)
                .is_ok();
            if let Some(why) = c.record(t.result, ok) {
                failures.push(format!("tcId {} ({}): {why}", t.tc_id, t.comment));
            }
        }
    }
    eprintln!(
        "wycheproof rsa_pss_2048_sha256_mgf1_32: {skipped_groups} groups skipped for key size"
    );
    c.report("rsa_pss_2048_sha256_mgf1_32", &failures);
}

/// Wycheproof's OAEP case whose encoded message starts with 01 instead of 00 (tcId 23 in
/// `rsa_oaep_2048_sha256_mgf1sha256`, flag `InvalidOaepPadding`). RFC 8017 7.1.2 step 3g says
/// to reject it, and OpenSSL does; the `rsa` 0.10 crate under camr deliberately ignores the
/// first octet (its own unit test `decrypt_ignores_first_octet`, and its Wycheproof runner
/// turns this case into "valid", citing draft-irtf-cfrg-rsa-guidance §7 on Manger-style
/// side channels). lHash, the zero padding and the 01 separator are still checked, so this is
/// a conformance deviation rather than a padding-oracle bug: it is not counted as a failure,
/// it is printed on every run, and the test checks that the exception covers this case only.
const OAEP_FIRST_BYTE_CASE: &str = "First byte is 1";

#[test]
fn wycheproof_rsa_oaep_2048_sha256_mgf1sha256() {
    use wycheproof::rsa_oaep::{TestName, TestSet};
    let p = default_provider();
    let set = TestSet::load(TestName::Rsa2048Sha256Mgf1Sha256).unwrap();
    let mut c = Counts::default();
    let mut labelled = 0;
    let mut first_byte_cases = 0;
    let mut failures = Vec::new();
    for g in &set.test_groups {
        assert_eq!(g.hash, wycheproof::HashFunction::Sha2_256);
        assert_eq!(g.mgf_hash, wycheproof::HashFunction::Sha2_256);
        let key = PrivateKey::from_bytes(&g.pkcs8, None).unwrap_or_else(|e| {
            panic!(
                "Wycheproof {}-bit PKCS#8 key does not load: {e}",
                g.key_size
            )
        });
        for t in &g.tests {
            // camr's RSA-OAEP uses the empty label only; cases with a label are skipped.
            if !t.label.is_empty() {
                labelled += 1;
                c.skipped += 1;
                continue;
            }
            let out = p.rsa_oaep_decrypt(&key, &t.ct);
            if t.result == TestResult::Invalid && t.comment == OAEP_FIRST_BYTE_CASE {
                // See OAEP_FIRST_BYTE_CASE: a known, deliberate deviation of the rsa crate.
                first_byte_cases += 1;
                match &out {
                    Ok(pt) => eprintln!(
                        "wycheproof OAEP tcId {} ({}): ACCEPTED (plaintext {}) — RFC 8017 says reject; rsa 0.10 ignores the first octet",
                        t.tc_id,
                        t.comment,
                        if pt.as_slice() == t.pt.as_slice() {
                            "as encrypted"
                        } else {
                            "different"
                        }
                    ),
                    Err(e) => eprintln!(
                        "wycheproof OAEP tcId {} ({}): rejected ({e})",
                        t.tc_id, t.comment
                    ),
                }
                c.skipped += 1;
                continue;
            }
            let ok = match &out {
                Ok(pt) => {
                    if pt.as_slice() != t.pt.as_slice() && t.result != TestResult::Invalid {
                        failures.push(format!("tcId {} ({}): wrong plaintext", t.tc_id, t.comment));
                    }
                    true
                }
                Err(e) => {
                    if e.code() != ErrorCode::DecryptionFailed {
                        failures.push(format!(
                            "tcId {} ({}): error code {} instead of DECRYPTION_FAILED",
                            t.tc_id,
                            t.comment,
                            e.code()
                        ));
                    }
                    false
                }
            };
            if let Some(why) = c.record(t.result, ok) {
                failures.push(format!("tcId {} ({}): {why}", t.tc_id, t.comment));
            }
        }
    }
    eprintln!(
        "wycheproof rsa_oaep_2048_sha256_mgf1sha256: {labelled} cases with a non-empty label skipped"
    );
    // The exception must stay narrow: exactly the one Wycheproof case, nothing else.
    assert_eq!(
        first_byte_cases, 1,
        "the first-octet exception matched {first_byte_cases} cases"
    );
    c.report("rsa_oaep_2048_sha256_mgf1sha256", &failures);
}

/// Runs a Wycheproof AEAD set through camr for one algorithm: key/nonce/tag sizes other than
/// camr's (key_bits, 96, 128) are skipped and counted. Valid cases must open to the plaintext
/// and seal to exactly `ct ‖ tag`; invalid cases must not open.
fn wycheproof_aead(name: wycheproof::aead::TestName, alg: AeadAlgorithm, key_bits: usize) {
    let p = default_provider();
    let set = wycheproof::aead::TestSet::load(name).unwrap();
    let mut c = Counts::default();
    let mut failures = Vec::new();
    for g in &set.test_groups {
        if g.key_size != key_bits || g.nonce_size != 96 || g.tag_size != 128 {
            c.skipped += g.tests.len();
            continue;
        }
        for t in &g.tests {
            let mut sealed = t.ct.to_vec();
            sealed.extend_from_slice(&t.tag);
            let opened = p.aead_open(alg, &t.key, &t.nonce, &t.aad, &sealed);
            let ok = match &opened {
                Ok(pt) => {
                    if pt.as_slice() != t.pt.as_slice() {
                        failures.push(format!("tcId {} ({}): wrong plaintext", t.tc_id, t.comment));
                    }
                    true
                }
                Err(e) => {
                    if e.code() != ErrorCode::DecryptionFailed {
                        failures.push(format!(
                            "tcId {} ({}): error code {} instead of DECRYPTION_FAILED",
                            t.tc_id,
                            t.comment,
                            e.code()
                        ));
                    }
                    false
                }
            };
            if let Some(why) = c.record(t.result, ok) {
                failures.push(format!("tcId {} ({}): {why}", t.tc_id, t.comment));
            }
            if t.result == TestResult::Valid {
                match p.aead_seal(alg, &t.key, &t.nonce, &t.aad, &t.pt) {
                    Ok(ct) if ct == sealed => {}
                    Ok(_) => {
                        failures.push(format!("tcId {} ({}): seal differs", t.tc_id, t.comment))
                    }
                    Err(e) => failures.push(format!(
                        "tcId {} ({}): seal failed: {e}",
                        t.tc_id, t.comment
                    )),
                }
            }
        }
    }
    c.report(&format!("{name:?}"), &failures);
}

#[test]
fn wycheproof_aes256_gcm() {
    wycheproof_aead(
        wycheproof::aead::TestName::AesGcm,
        AeadAlgorithm::Aes256Gcm,
        256,
    );
}

#[test]
fn wycheproof_sm4_gcm() {
    wycheproof_aead(
        wycheproof::aead::TestName::Sm4Gcm,
        AeadAlgorithm::Sm4Gcm,
        128,
    );
}

/// Runs a Wycheproof HMAC set. Full-length tags are compared whole; truncated tags (the
/// set's groups with a smaller `tagSize`) are compared against the prefix of camr's HMAC,
/// which is how a truncated-HMAC verifier works.
fn wycheproof_hmac(name: wycheproof::mac::TestName, alg: HashAlgorithm) {
    let p = default_provider();
    let set = wycheproof::mac::TestSet::load(name).unwrap();
    let mut c = Counts::default();
    let mut truncated = 0;
    let mut failures = Vec::new();
    for g in &set.test_groups {
        for t in &g.tests {
            let mac = p.hmac(alg, &t.key, &t.msg);
            assert_eq!(mac.len(), 32);
            let tag_bytes = g.tag_size / 8;
            if tag_bytes != 32 {
                truncated += 1;
            }
            let ok =
                tag_bytes <= mac.len() && t.tag.len() == tag_bytes && mac[..tag_bytes] == t.tag[..];
            if let Some(why) = c.record(t.result, ok) {
                failures.push(format!(
                    "tcId {} ({}, tag {} bits): {why}",
                    t.tc_id, t.comment, g.tag_size
                ));
            }
        }
    }
    eprintln!("wycheproof {name:?}: {truncated} of the cases use truncated tags (prefix compared)");
    c.report(&format!("{name:?}"), &failures);
}

#[test]
fn wycheproof_hmac_sha256() {
    wycheproof_hmac(wycheproof::mac::TestName::HmacSha256, HashAlgorithm::Sha256);
}

#[test]
fn wycheproof_hmac_sm3() {
    wycheproof_hmac(wycheproof::mac::TestName::HmacSm3, HashAlgorithm::Sm3);
}
