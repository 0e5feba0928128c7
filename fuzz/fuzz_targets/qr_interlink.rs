//! The interlink code (中招互连 compatibility): parse, and what parses re-encodes to itself.
#![no_main]
use camr::qr::interlink::Interlink;
use camr::qr::{QrProfile, VerifyOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let f = camr_fuzz::fixture();
    if let Ok(p) = Interlink.parse(text) {
        assert_eq!(
            Interlink.parse(&Interlink.encode(&p)).ok(),
            Some(p.clone()),
            "interlink round trip"
        );
        let key = f.enc_cert.public_key().expect("fixture key");
        let _ = Interlink.verify(f.provider.as_ref(), &p, &key, VerifyOptions::at(f.now));
        let _ = Interlink.request_fetch_uri(&p);
    }
});
