//! The national interop code (`camr1`): parse, and what parses re-encodes to itself; the
//! rotating code's query.
#![no_main]
use camr::qr::{Camr1, QrProfile, VerifyOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let f = camr_fuzz::fixture();
    if let Ok(p) = Camr1.parse(text) {
        assert_eq!(
            Camr1.parse(&Camr1.encode(&p)).ok(),
            Some(p.clone()),
            "camr1 round trip"
        );
        let key = f.enc_cert.public_key().expect("fixture key");
        let _ = Camr1.verify(f.provider.as_ref(), &p, &key, VerifyOptions::at(f.now));
        let _ = Camr1.request_fetch_uri(&p);
    }
    let _ = camr::qr::parse(text);
    let _ = camr::qr::parse_rotation_query(text);
});
