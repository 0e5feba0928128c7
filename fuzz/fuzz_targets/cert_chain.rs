//! Certificates (PEM bundle or DER) and chain validation against the fixed CA: the first
//! certificate is the leaf, the rest (and the CA's issuing certificate) intermediates.
#![no_main]
use camr::pki::{Certificate, KeyPurpose};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(certs) = Certificate::parse_all(data) else {
        return;
    };
    let f = camr_fuzz::fixture();
    let Some((leaf, rest)) = certs.split_first() else {
        return;
    };
    let _ = (
        leaf.subject(),
        leaf.cert_type(),
        leaf.public_key(),
        leaf.serial_hex(),
    );
    let _ = leaf.check_purpose(KeyPurpose::Sign);
    let mut intermediates = rest.to_vec();
    intermediates.push(f.issuing.clone());
    for purpose in [KeyPurpose::Sign, KeyPurpose::Encrypt] {
        let _ = f
            .validator
            .validate_uncached(leaf, &intermediates, purpose, f.now);
    }
    let _ = f.validator.validate_at_signing_time(
        leaf,
        &intermediates,
        KeyPurpose::Sign,
        f.now - 3600,
        f.now,
    );
});
