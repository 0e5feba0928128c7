//! A signed message (GM/T 0010 or CMS SignedData, DER or PEM): digest, signature and the
//! signer's chain against the fixed CA; attached, and detached over a fixed content.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = camr_fuzz::fixture();
    let p = f.provider.as_ref();
    let _ = camr::envelope::verify(p, data, None, &f.validator, &[], f.now);
    let _ = camr::envelope::verify(
        p,
        data,
        Some(b"camr fuzz content\n"),
        &f.validator,
        &[],
        f.now,
    );
});
