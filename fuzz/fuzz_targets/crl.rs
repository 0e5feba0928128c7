//! A CRL: parse, read its entries, and validate the fixed wallet's chain with it (signature
//! over the CRL, freshness, entries) in place of the CA's own.
#![no_main]
use camr::pki::{ChainValidator, Crl, KeyPurpose, TrustStore};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(crl) = Crl::parse(data) else { return };
    let _ = (crl.issuer_name(), crl.entry_counts(), crl.updates());
    let f = camr_fuzz::fixture();
    let mut trust = TrustStore::new();
    trust.add(f.root.clone());
    let v = ChainValidator::new(f.provider.clone(), trust).with_crls(vec![crl]);
    let _ = v.validate_uncached(
        &f.enc_cert,
        &[f.issuing.clone()],
        KeyPurpose::Encrypt,
        f.now,
    );
});
