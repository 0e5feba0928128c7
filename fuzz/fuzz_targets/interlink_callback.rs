//! An interlink callback (回调) as the platform receives it: JSON, then `open_callback` with
//! the platform's interlink key (SM2-wrapped SM4 key, SM4-GCM body).
#![no_main]
use camr::qr::interlink::{Callback, open_callback};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(callback) = serde_json::from_slice::<Callback>(data) else {
        return;
    };
    let f = camr_fuzz::fixture();
    if let Ok(body) = open_callback(f.provider.as_ref(), &f.enc_key, &callback) {
        let _ = serde_json::from_slice::<camr::protocol::Response>(&body);
    }
});
