//! `camr::cosign` (two-party SM2, 协同签名 / 协同解密) checked by independent tools:
//! a co-signature made by the two shares verifies in OpenSSL 3 (`pkeyutl -verify` and
//! `dgst -sm3 -verify`, signer ID 1234567812345678) and in GmSSL (`sm2verify`) under the joint
//! public key P exported as PEM; SM2 ciphertexts made by OpenSSL (and GmSSL) for P are opened
//! by the two shares together.
//!
//! Every check has a negative control (changed message, a share used alone, a changed
//! ciphertext). Without `openssl` the tests print `SKIPPED` and return; the GmSSL parts
//! follow `common/mod.rs` (`$CAMR_GMSSL`, else `target/tools/gmssl`, else skipped).
//!
//! OpenSSL's SM2 ciphertext is the ASN.1 `SM2Cipher` (C1C3C2, GM/T 0009), the form camr's
//! [`Sm2CiphertextForm::Asn1`] reads: no conversion is needed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::path::Path;
use std::process::{Command, Output};

use camr::cosign::{ClientShare, ServerShare};
use camr::crypto::{PrivateKey, PublicKey, SignatureScheme, Sm2CiphertextForm, default_provider};
use common::{gmssl, gmssl_ok, random, read, show, tmp, write};

const ID: &str = "1234567812345678";
const DISTID: &str = "distid:1234567812345678";

fn openssl_available() -> bool {
    match Command::new("openssl").arg("version").output() {
        Ok(o) if o.status.success() => true,
        _ => {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: openssl not found; the co-signing OpenSSL interop test did NOT \
                 run (install OpenSSL 3, e.g. `apt-get install openssl`) ***\n"
            );
            false
        }
    }
}

macro_rules! require_openssl {
    () => {
        if !openssl_available() {
            return;
        }
    };
}

fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl {args:?}: {e}"))
}

fn describe(args: &[&str], out: &Output) -> String {
    format!(
        "openssl {} ({}):\nstdout: {}\nstderr: {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn openssl_ok(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = openssl(dir, args);
    assert!(out.status.success(), "failed: {}", describe(args, &out));
    out.stdout
}

fn openssl_fails(dir: &Path, args: &[&str], why: &str) {
    let out = openssl(dir, args);
    assert!(
        !out.status.success(),
        "openssl accepted {why}: {}",
        describe(args, &out)
    );
}

/// Key generation by both halves, in process.
fn keygen() -> (ClientShare, ServerShare) {
    let (pending, req) = ClientShare::keygen_start().unwrap();
    let (server, resp) = ServerShare::keygen(&req).unwrap();
    let client = pending.finish(&resp).unwrap();
    (client, server)
}

fn cosign(client: &ClientShare, server: &ServerShare, msg: &[u8]) -> Vec<u8> {
    let (pending, req) = client.sign_start(msg, ID).unwrap();
    let resp = server.sign(&req).unwrap();
    pending.finish(&resp).unwrap()
}

/// The server's d2 taken out of its stored share (bytes 6..38 of the documented format) and
/// used as a whole SM2 key: what "the cloud alone" could sign with.
fn server_share_as_key(server: &ServerShare) -> PrivateKey {
    let bytes = server.to_bytes();
    PrivateKey::Sm2(sm2::SecretKey::from_slice(&bytes[6..38]).unwrap())
}

fn pkeyutl_verify(msg: &str) -> Vec<&str> {
    vec![
        "pkeyutl", "-verify", "-pubin", "-inkey", "p.pem", "-rawin", "-in", msg, "-sigfile",
        "sig.der", "-digest", "sm3", "-pkeyopt", DISTID,
    ]
}

fn dgst_verify(msg: &str) -> Vec<&str> {
    vec![
        "dgst",
        "-sm3",
        "-verify",
        "p.pem",
        "-sigopt",
        DISTID,
        "-signature",
        "sig.der",
        msg,
    ]
}

#[test]
fn cosignature_verifies_in_openssl_under_the_joint_key() {
    require_openssl!();
    let p = default_provider();
    let d = tmp();
    let dir = d.path();
    let (client, server) = keygen();
    let pem = client.public_key().to_spki_pem().unwrap();
    write(dir, "p.pem", &pem);
    // OpenSSL reads P back as the same key.
    let text = openssl_ok(dir, &["pkey", "-pubin", "-in", "p.pem", "-text", "-noout"]);
    assert!(
        String::from_utf8_lossy(&text).contains("SM2"),
        "OpenSSL does not see an SM2 key: {}",
        String::from_utf8_lossy(&text)
    );
    let back = openssl_ok(dir, &["pkey", "-pubin", "-in", "p.pem", "-outform", "DER"]);
    assert_eq!(back, client.public_key_spki_der().unwrap());

    for (i, len) in [0usize, 1, 32, 100, 1000, 65_537].into_iter().enumerate() {
        let msg = random(p.as_ref(), len);
        write(dir, "msg", &msg);
        let mut changed = msg.clone();
        match changed.first_mut() {
            Some(b) => *b ^= 0x01,
            None => changed.push(0),
        }
        write(dir, "changed", &changed);
        for _ in 0..3 {
            write(dir, "sig.der", cosign(&client, &server, &msg));
            let out = openssl_ok(dir, &pkeyutl_verify("msg"));
            assert!(
                String::from_utf8_lossy(&out).contains("Signature Verified Successfully"),
                "message {i}: {}",
                String::from_utf8_lossy(&out)
            );
            let out = openssl_ok(dir, &dgst_verify("msg"));
            assert!(String::from_utf8_lossy(&out).contains("Verified OK"));
            // Negative control: the wrong message fails in OpenSSL.
            openssl_fails(dir, &pkeyutl_verify("changed"), "a changed message");
            openssl_fails(dir, &dgst_verify("changed"), "a changed message (dgst)");
        }
    }

    // The cloud alone: d2 used as a whole key signs nothing that verifies under P.
    let msg = "投标文件 摘要".as_bytes();
    write(dir, "msg", msg);
    let alone = server_share_as_key(&server);
    let sig = p.sign(&alone, &SignatureScheme::sm2(), msg).unwrap();
    write(dir, "sig.der", &sig);
    openssl_fails(
        dir,
        &pkeyutl_verify("msg"),
        "a signature by the cloud's share alone",
    );
    // ... while a co-signature of the same message does.
    write(dir, "sig.der", cosign(&client, &server, msg));
    openssl_ok(dir, &pkeyutl_verify("msg"));
}

#[test]
fn openssl_signature_check_uses_the_signer_id() {
    require_openssl!();
    let d = tmp();
    let dir = d.path();
    let (client, server) = keygen();
    write(dir, "p.pem", client.public_key().to_spki_pem().unwrap());
    write(dir, "msg", b"signer id");
    let (pending, req) = client
        .sign_start(b"signer id", "ALICE123@YAHOO.COM")
        .unwrap();
    write(
        dir,
        "sig.der",
        pending.finish(&server.sign(&req).unwrap()).unwrap(),
    );
    openssl_fails(dir, &pkeyutl_verify("msg"), "the wrong signer ID");
    let args = [
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        "p.pem",
        "-rawin",
        "-in",
        "msg",
        "-sigfile",
        "sig.der",
        "-digest",
        "sm3",
        "-pkeyopt",
        "distid:ALICE123@YAHOO.COM",
    ];
    openssl_ok(dir, &args);
}

#[test]
fn cosignature_verifies_in_gmssl() {
    require_gmssl!();
    let p = default_provider();
    let d = tmp();
    let dir = d.path();
    let (client, server) = keygen();
    write(dir, "pub.pem", client.public_key().to_spki_pem().unwrap());
    let args = |msg: &'static str| {
        [
            "sm2verify",
            "-pubkey",
            "pub.pem",
            "-id",
            ID,
            "-in",
            msg,
            "-sig",
            "sig.der",
        ]
    };
    for len in [0usize, 32, 1000] {
        let msg = random(p.as_ref(), len);
        write(dir, "msg", &msg);
        let mut changed = msg.clone();
        changed.push(1);
        write(dir, "changed", &changed);
        for _ in 0..3 {
            write(dir, "sig.der", cosign(&client, &server, &msg));
            let out = gmssl_ok(dir, &args("msg"));
            assert!(
                String::from_utf8_lossy(&out).contains("success"),
                "unexpected gmssl output {}",
                String::from_utf8_lossy(&out)
            );
            let out = gmssl(dir, &args("changed"));
            assert!(
                !out.status.success(),
                "gmssl accepted a changed message: {}",
                show(&args("changed"), &out)
            );
        }
    }
    write(dir, "msg", b"m");
    let alone = server_share_as_key(&server);
    write(
        dir,
        "sig.der",
        p.sign(&alone, &SignatureScheme::sm2(), b"m").unwrap(),
    );
    let out = gmssl(dir, &args("msg"));
    assert!(
        !out.status.success(),
        "gmssl accepted the cloud's share alone"
    );
}

fn codecrypt(
    client: &ClientShare,
    server: &ServerShare,
    ct: &[u8],
) -> camr::cosign::Result<Vec<u8>> {
    let (pending, req) = client.decrypt_start(ct, Sm2CiphertextForm::Asn1)?;
    let resp = server.decrypt(&req)?;
    Ok(pending.finish(&resp)?.to_vec())
}

#[test]
fn openssl_ciphertext_is_codecrypted_by_the_two_shares() {
    require_openssl!();
    let p = default_provider();
    let d = tmp();
    let dir = d.path();
    let (client, server) = keygen();
    write(dir, "p.pem", client.public_key().to_spki_pem().unwrap());
    for len in [1usize, 16, 32, 100, 1000] {
        let pt = random(p.as_ref(), len);
        write(dir, "m", &pt);
        openssl_ok(
            dir,
            &[
                "pkeyutl", "-encrypt", "-pubin", "-inkey", "p.pem", "-in", "m", "-out", "c.der",
            ],
        );
        let ct = read(dir, "c.der");
        let back = codecrypt(&client, &server, &ct)
            .unwrap_or_else(|e| panic!("{len} bytes: OpenSSL's ciphertext refused: {e}"));
        assert_eq!(back, pt, "{len} bytes");
        // Negative control: the last byte (inside C2) changed fails the C3 check.
        let mut bad = ct.clone();
        *bad.last_mut().unwrap() ^= 0x01;
        let err = codecrypt(&client, &server, &bad).unwrap_err();
        assert_eq!(err.code(), "COSIGN_DECRYPTION_FAILED", "{len} bytes: {err}");
        // And the client's share with another key's server share fails too.
        let (_, other) = keygen();
        assert_eq!(
            codecrypt(&client, &other, &ct).unwrap_err().code(),
            "COSIGN_DECRYPTION_FAILED"
        );
    }
}

#[test]
fn gmssl_ciphertext_is_codecrypted_by_the_two_shares() {
    require_gmssl!();
    let p = default_provider();
    let d = tmp();
    let dir = d.path();
    let (client, server) = keygen();
    write(dir, "p.pem", client.public_key().to_spki_pem().unwrap());
    for len in [1usize, 32, 200] {
        let pt = random(p.as_ref(), len);
        write(dir, "m", &pt);
        gmssl_ok(
            dir,
            &[
                "sm2encrypt",
                "-pubkey",
                "p.pem",
                "-in",
                "m",
                "-out",
                "c.der",
            ],
        );
        let ct = read(dir, "c.der");
        assert_eq!(codecrypt(&client, &server, &ct).unwrap(), pt, "{len} bytes");
        let mut bad = ct.clone();
        *bad.last_mut().unwrap() ^= 0x01;
        assert!(codecrypt(&client, &server, &bad).is_err());
    }
}

/// The joint public key read back from the PEM camr exports is the key the shares sign for.
#[test]
fn exported_public_key_round_trips() {
    let (client, _server) = keygen();
    let pem = client.public_key().to_spki_pem().unwrap();
    assert_eq!(PublicKey::from_pem(&pem).unwrap(), client.public_key());
}
