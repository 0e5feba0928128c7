//! The vendor app code (`vendor1`, 厂商码): parse, and what parses re-encodes to itself.
#![no_main]
use camr::qr::{QrProfile, Vendor1, VerifyOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let f = camr_fuzz::fixture();
    if let Ok(p) = Vendor1.parse(text) {
        assert_eq!(
            Vendor1.parse(&Vendor1.encode(&p)).ok(),
            Some(p.clone()),
            "vendor1 round trip"
        );
        let key = f.enc_cert.public_key().expect("fixture key");
        let _ = Vendor1.verify(f.provider.as_ref(), &p, &key, VerifyOptions::at(f.now));
        let _ = Vendor1.request_fetch_uri(&p);
    }
});
