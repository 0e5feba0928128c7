//! `seal::verify` on a PDF: every seal (签章) listed and checked, chains against the fixed CA.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = camr_fuzz::fixture();
    let _ = camr::seal::verify(f.provider.as_ref(), data, Some(f.validator.as_ref()), f.now);
});
