//! Helpers shared by the GmSSL interop tests (`gmssl.rs`, `gmssl_cms.rs`): finding and running
//! the `gmssl` command, small file helpers, a minimal DER reader/writer, and the conversions of
//! SM2 private keys between camr and GmSSL's key file format.
//!
//! Where gmssl comes from: `$CAMR_GMSSL` if set (then it must exist), else
//! `target/tools/gmssl` in the workspace, which `scripts/build-gmssl.sh` builds (CI runs it).
//! When neither is there the tests print `SKIPPED` on stderr and return.
//!
//! GmSSL's private-key files: `gmssl sm2keygen -out` writes, and every gmssl command that takes
//! `-key … -pass …` reads, only an `ENCRYPTED PRIVATE KEY`: PKCS#8 PBES2 with PBKDF2-HMAC-SM3
//! and SM4-CBC, around a PrivateKeyInfo whose ECPrivateKey must carry both the curve (`[0]`)
//! and the public key (`[1]`). camr's key loader does not support that scheme, so
//! [`gmssl_key_to_camr`] decrypts such a file and [`camr_key_to_gmssl`] writes one, both with
//! camr's own HMAC-SM3 and SM4-CBC.
// Each test crate that includes this module uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use camr::crypto::{CryptoProvider, HashAlgorithm, PrivateKey, PublicKeyAlgorithm, SecretBytes};
use camr::softca::Holder;

/// The default SM2 signer ID (GM/T 0009).
pub const ID: &str = "1234567812345678";
/// Another signer ID (the GB/T 32918 example's).
pub const OTHER_ID: &str = "ALICE123@YAHOO.COM";
/// Password of the private-key files given to gmssl.
pub const PASS: &str = "P";

// ---------------------------------------------------------------------------------------------
// Finding and running gmssl
// ---------------------------------------------------------------------------------------------

/// The gmssl binary, or `None` (after a loud message) when there is none.
pub fn gmssl_path() -> Option<&'static Path> {
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(p) = std::env::var_os("CAMR_GMSSL").filter(|p| !p.is_empty()) {
            let p = PathBuf::from(p);
            // Asked for explicitly (CI sets it): a missing binary is an error, not a skip.
            assert!(
                runs(&p),
                "CAMR_GMSSL={} does not run `gmssl version`; run scripts/build-gmssl.sh",
                p.display()
            );
            return Some(p);
        }
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools/gmssl");
        if runs(&p) { Some(p) } else { None }
    })
    .as_deref()
}

fn runs(p: &Path) -> bool {
    Command::new(p)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Returns early from the test (after a loud message) when gmssl is not there.
///
/// The message goes straight to the process's stderr (not `eprintln!`, which the test
/// harness captures and hides for passing tests), so a skip shows in `cargo test` output.
macro_rules! require_gmssl {
    () => {
        if $crate::common::gmssl_path().is_none() {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: gmssl not found; run scripts/build-gmssl.sh (or set \
                 CAMR_GMSSL). A GmSSL interop test did NOT run. ***\n"
            );
            return;
        }
    };
}

/// Runs `gmssl args…` in `dir` and returns its output, whatever the exit status.
pub fn gmssl(dir: &Path, args: &[&str]) -> Output {
    let bin = gmssl_path().expect("gmssl checked by require_gmssl!");
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run gmssl {args:?}: {e}"))
}

/// The command line and everything it printed, for failure messages.
pub fn show(args: &[&str], out: &Output) -> String {
    format!(
        "gmssl {} ({}):\nstdout: {}\nstderr: {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `gmssl args…` in `dir`, fails the test unless it exits 0, returns stdout.
pub fn gmssl_ok(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = gmssl(dir, args);
    assert!(out.status.success(), "failed: {}", show(args, &out));
    out.stdout
}

/// Runs `gmssl args…` in `dir` and fails the test if it exits 0 (a negative control).
/// Returns the output (to check *why* it failed).
pub fn gmssl_fails(dir: &Path, args: &[&str], why: &str) -> Output {
    let out = gmssl(dir, args);
    assert!(
        !out.status.success(),
        "gmssl accepted {why}: {}",
        show(args, &out)
    );
    out
}

/// Repetitions of each randomised round trip: `default`, or `$CAMR_GMSSL_ROUNDS` for a
/// longer hunt (e.g. for r, s or coordinates with leading zero bytes, 1 in 256 each).
pub fn rounds(default: usize) -> usize {
    std::env::var("CAMR_GMSSL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn write(dir: &Path, name: &str, data: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), data).unwrap();
}

pub fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn random(p: &dyn CryptoProvider, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    p.fill_random(&mut v).unwrap();
    v
}

/// Concatenates PEM files, each ending in exactly one newline (certparse and certverify want
/// no blank lines between blocks).
pub fn cat_pem(parts: &[&Path]) -> String {
    parts
        .iter()
        .map(|p| {
            let s = std::fs::read_to_string(p).unwrap();
            format!("{}\n", s.trim())
        })
        .collect()
}

/// An organisation holder with UTF-8 names (as the national CAs issue them).
pub fn holder() -> Holder {
    Holder::org("张三", "某某建设有限公司", "91350100M000100Y43")
}

// ---------------------------------------------------------------------------------------------
// A minimal DER reader and writer (definite lengths only)
// ---------------------------------------------------------------------------------------------

/// `id-PBES2` 1.2.840.113549.1.5.13 (content octets).
pub const OID_PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
/// `id-PBKDF2` 1.2.840.113549.1.5.12.
pub const OID_PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
/// `hmacWithSM3` 1.2.156.10197.1.401.2.
pub const OID_HMAC_SM3: &[u8] = &[0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x11, 0x02];
/// `sm4-cbc` 1.2.156.10197.1.104.2.
pub const OID_SM4_CBC: &[u8] = &[0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x68, 0x02];
/// `id-ecPublicKey` 1.2.840.10045.2.1.
pub const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// `sm2p256v1` 1.2.156.10197.1.301.
pub const OID_SM2_CURVE: &[u8] = &[0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];

pub const TAG_INTEGER: u8 = 0x02;
pub const TAG_BIT_STRING: u8 = 0x03;
pub const TAG_OCTET_STRING: u8 = 0x04;
pub const TAG_OID: u8 = 0x06;
pub const TAG_SEQUENCE: u8 = 0x30;
pub const TAG_SET: u8 = 0x31;

/// Splits one DER TLV off `data`: (tag, content, rest). Definite lengths only.
pub fn tlv(data: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let (&tag, rest) = data.split_first().ok_or("truncated DER (tag)")?;
    let (&first, rest) = rest.split_first().ok_or("truncated DER (length)")?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(format!("bad DER length octet {first:#x}"));
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err("truncated DER (content)".into());
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// One DER element of a constructed value.
pub struct Element<'a> {
    pub tag: u8,
    /// The content octets.
    pub content: &'a [u8],
    /// The whole encoding: tag, length and content.
    pub whole: &'a [u8],
}

/// The elements of a constructed value's content octets, in order.
pub fn children(mut data: &[u8]) -> Result<Vec<Element<'_>>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (tag, content, rest) = tlv(data)?;
        out.push(Element {
            tag,
            content,
            whole: &data[..data.len() - rest.len()],
        });
        data = rest;
    }
    Ok(out)
}

pub fn expect_tlv<'a>(
    data: &'a [u8],
    want: u8,
    what: &str,
) -> Result<(&'a [u8], &'a [u8]), String> {
    let (tag, content, rest) = tlv(data)?;
    if tag != want {
        return Err(format!("{what}: tag {tag:#04x}, expected {want:#04x}"));
    }
    Ok((content, rest))
}

pub fn der_uint(bytes: &[u8]) -> Result<u32, String> {
    if bytes.is_empty() || bytes.len() > 5 {
        return Err("bad INTEGER".into());
    }
    let v = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    u32::try_from(v).map_err(|_| "INTEGER too large".into())
}

/// Encodes one DER element: `tag`, definite length, `content`.
pub fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// DER of a non-negative INTEGER.
pub fn der_uint_tlv(v: u32) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes
        .iter()
        .take_while(|b| **b == 0)
        .count()
        .min(bytes.len() - 1);
    let mut content = bytes[skip..].to_vec();
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    der_tlv(TAG_INTEGER, &content)
}

// ---------------------------------------------------------------------------------------------
// SM2 private keys between camr and GmSSL (PBES2 / PBKDF2-HMAC-SM3 / SM4-CBC, done with camr's
// primitives)
// ---------------------------------------------------------------------------------------------

/// PBKDF2 (RFC 8018) with HMAC-SM3 computed by camr.
pub fn pbkdf2_hmac_sm3(
    p: &dyn CryptoProvider,
    pass: &[u8],
    salt: &[u8],
    iter: u32,
    len: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut block = 1u32;
    while out.len() < len {
        let mut u = p.hmac(
            HashAlgorithm::Sm3,
            pass,
            &[salt, &block.to_be_bytes()[..]].concat(),
        );
        let mut t = u.clone();
        for _ in 1..iter {
            u = p.hmac(HashAlgorithm::Sm3, pass, &u);
            t.iter_mut().zip(&u).for_each(|(a, b)| *a ^= b);
        }
        out.extend_from_slice(&t);
        block += 1;
    }
    out.truncate(len);
    out
}

/// Decrypts GmSSL's `ENCRYPTED PRIVATE KEY` (PBES2, PBKDF2-HMAC-SM3, SM4-CBC) and loads the
/// inner PKCS#8 with camr. This is the "conversion step" camr needs for GmSSL key files.
pub fn gmssl_key_to_camr(
    p: &dyn CryptoProvider,
    pem: &[u8],
    pass: &[u8],
) -> Result<PrivateKey, String> {
    let (label, der) = der::pem::decode_vec(pem).map_err(|e| format!("PEM: {e}"))?;
    if label != "ENCRYPTED PRIVATE KEY" {
        return Err(format!("PEM label {label}"));
    }
    let (epki, _) = expect_tlv(&der, TAG_SEQUENCE, "EncryptedPrivateKeyInfo")?;
    let (alg, rest) = expect_tlv(epki, TAG_SEQUENCE, "encryptionAlgorithm")?;
    let (enc_data, _) = expect_tlv(rest, TAG_OCTET_STRING, "encryptedData")?;
    let (oid, params) = expect_tlv(alg, TAG_OID, "PBES2 OID")?;
    if oid != OID_PBES2 {
        return Err("not PBES2".into());
    }
    let (params, _) = expect_tlv(params, TAG_SEQUENCE, "PBES2-params")?;
    let (kdf, rest) = expect_tlv(params, TAG_SEQUENCE, "keyDerivationFunc")?;
    let (scheme, _) = expect_tlv(rest, TAG_SEQUENCE, "encryptionScheme")?;
    let (oid, kdf_params) = expect_tlv(kdf, TAG_OID, "KDF OID")?;
    if oid != OID_PBKDF2 {
        return Err("not PBKDF2".into());
    }
    let (kdf_params, _) = expect_tlv(kdf_params, TAG_SEQUENCE, "PBKDF2-params")?;
    let (salt, rest) = expect_tlv(kdf_params, TAG_OCTET_STRING, "salt")?;
    let (iter, mut rest) = expect_tlv(rest, TAG_INTEGER, "iterationCount")?;
    let iter = der_uint(iter)?;
    let mut key_len = 16usize;
    if rest.first() == Some(&TAG_INTEGER) {
        let (kl, r) = expect_tlv(rest, TAG_INTEGER, "keyLength")?;
        key_len = der_uint(kl)? as usize;
        rest = r;
    }
    let (prf, _) = expect_tlv(rest, TAG_SEQUENCE, "prf")?;
    let (prf_oid, _) = expect_tlv(prf, TAG_OID, "PRF OID")?;
    if prf_oid != OID_HMAC_SM3 {
        return Err("PRF is not hmacWithSM3".into());
    }
    let (oid, iv) = expect_tlv(scheme, TAG_OID, "cipher OID")?;
    if oid != OID_SM4_CBC {
        return Err("cipher is not SM4-CBC".into());
    }
    let (iv, _) = expect_tlv(iv, TAG_OCTET_STRING, "IV")?;
    if key_len != 16 {
        return Err(format!("SM4 key length {key_len}"));
    }
    let key = pbkdf2_hmac_sm3(p, pass, salt, iter, key_len);
    let plain = p
        .sm4_cbc_decrypt(&key, iv, enc_data)
        .map_err(|e| format!("SM4-CBC: {e}"))?;
    PrivateKey::from_pkcs8_der(&plain).map_err(|e| format!("inner PKCS#8: {e}"))
}

/// PBKDF2 iterations of the key files [`camr_key_to_gmssl`] writes (GmSSL itself writes
/// 65536; any count above zero is accepted when reading).
pub const GMSSL_KEY_ITERATIONS: u32 = 10_000;

/// The inverse of [`gmssl_key_to_camr`]: writes camr's SM2 `key` as GmSSL's
/// `ENCRYPTED PRIVATE KEY` PEM under `pass`, the way `gmssl sm2keygen` does:
///
/// ```text
/// EncryptedPrivateKeyInfo { PBES2 { PBKDF2 { salt(16), iterations, keyLength 16,
///                                            hmacWithSM3 },
///                                   sm4-cbc { iv(16) } },
///                           SM4-CBC(PKCS#7 padding) of
///   PrivateKeyInfo { 0, { id-ecPublicKey, sm2p256v1 },
///                    ECPrivateKey { 1, d(32), [0] sm2p256v1, [1] 04‖x‖y } } }
/// ```
///
/// The secret scalar is taken from camr's own PKCS#8 export, the public key from its SPKI
/// export; PBKDF2-HMAC-SM3 and SM4-CBC are camr's provider primitives.
pub fn camr_key_to_gmssl(
    p: &dyn CryptoProvider,
    key: &PrivateKey,
    pass: &[u8],
) -> Result<String, String> {
    if key.algorithm() != PublicKeyAlgorithm::Sm2 {
        return Err(format!(
            "{:?} key: GmSSL takes SM2 keys only",
            key.algorithm()
        ));
    }
    // The scalar: PrivateKeyInfo { version, algorithm, OCTET STRING { ECPrivateKey } }.
    let pkcs8 = key.to_pkcs8_der().map_err(|e| e.to_string())?;
    let (pki, _) = expect_tlv(&pkcs8, TAG_SEQUENCE, "PrivateKeyInfo")?;
    let (_version, rest) = expect_tlv(pki, TAG_INTEGER, "PrivateKeyInfo version")?;
    let (_alg, rest) = expect_tlv(rest, TAG_SEQUENCE, "privateKeyAlgorithm")?;
    let (ec, _) = expect_tlv(rest, TAG_OCTET_STRING, "privateKey")?;
    let (ec, _) = expect_tlv(ec, TAG_SEQUENCE, "ECPrivateKey")?;
    let (_version, rest) = expect_tlv(ec, TAG_INTEGER, "ECPrivateKey version")?;
    let (d, _) = expect_tlv(rest, TAG_OCTET_STRING, "ECPrivateKey privateKey")?;
    if d.len() != 32 {
        return Err(format!("SM2 private key of {} bytes", d.len()));
    }
    // The public key: SubjectPublicKeyInfo { algorithm, BIT STRING 00 04 x y }.
    let spki = key.public_key().to_spki_der().map_err(|e| e.to_string())?;
    let (spki, _) = expect_tlv(&spki, TAG_SEQUENCE, "SubjectPublicKeyInfo")?;
    let (_alg, rest) = expect_tlv(spki, TAG_SEQUENCE, "SPKI algorithm")?;
    let (point, _) = expect_tlv(rest, TAG_BIT_STRING, "subjectPublicKey")?;
    if point.len() != 66 || point[..2] != [0x00, 0x04] {
        return Err("the public key is not an uncompressed SM2 point".into());
    }

    let curve = der_tlv(TAG_OID, OID_SM2_CURVE);
    let ec_private_key = der_tlv(
        TAG_SEQUENCE,
        &[
            der_uint_tlv(1),
            der_tlv(TAG_OCTET_STRING, d),
            der_tlv(0xa0, &curve),
            der_tlv(0xa1, &der_tlv(TAG_BIT_STRING, point)),
        ]
        .concat(),
    );
    let private_key_info: SecretBytes = SecretBytes::new(der_tlv(
        TAG_SEQUENCE,
        &[
            der_uint_tlv(0),
            der_tlv(
                TAG_SEQUENCE,
                &[der_tlv(TAG_OID, OID_EC_PUBLIC_KEY), curve].concat(),
            ),
            der_tlv(TAG_OCTET_STRING, &ec_private_key),
        ]
        .concat(),
    ));

    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    p.fill_random(&mut salt).map_err(|e| e.to_string())?;
    p.fill_random(&mut iv).map_err(|e| e.to_string())?;
    let kek = pbkdf2_hmac_sm3(p, pass, &salt, GMSSL_KEY_ITERATIONS, 16);
    let encrypted = p
        .sm4_cbc_encrypt(&kek, &iv, &private_key_info)
        .map_err(|e| format!("SM4-CBC: {e}"))?;

    let pbkdf2 = der_tlv(
        TAG_SEQUENCE,
        &[
            der_tlv(TAG_OID, OID_PBKDF2),
            der_tlv(
                TAG_SEQUENCE,
                &[
                    der_tlv(TAG_OCTET_STRING, &salt),
                    der_uint_tlv(GMSSL_KEY_ITERATIONS),
                    der_uint_tlv(16),
                    der_tlv(TAG_SEQUENCE, &der_tlv(TAG_OID, OID_HMAC_SM3)),
                ]
                .concat(),
            ),
        ]
        .concat(),
    );
    let sm4_cbc = der_tlv(
        TAG_SEQUENCE,
        &[
            der_tlv(TAG_OID, OID_SM4_CBC),
            der_tlv(TAG_OCTET_STRING, &iv),
        ]
        .concat(),
    );
    let pbes2 = der_tlv(
        TAG_SEQUENCE,
        &[
            der_tlv(TAG_OID, OID_PBES2),
            der_tlv(TAG_SEQUENCE, &[pbkdf2, sm4_cbc].concat()),
        ]
        .concat(),
    );
    let epki = der_tlv(
        TAG_SEQUENCE,
        &[pbes2, der_tlv(TAG_OCTET_STRING, &encrypted)].concat(),
    );
    Ok(camr::pki::pem_encode("ENCRYPTED PRIVATE KEY", &epki))
}
