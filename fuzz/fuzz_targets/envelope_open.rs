//! A digital envelope (GM/T 0010 or CMS EnvelopedData): recipients, encrypted keys, and
//! opening with the fixed wallet's encryption key and with a content key.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = camr_fuzz::fixture();
    let p = f.provider.as_ref();
    let _ = camr::envelope::recipients(data);
    let _ = camr::envelope::encrypted_keys(data);
    let _ = camr::envelope::open(p, data, &f.enc_cert, &f.enc_key);
    let _ = camr::envelope::open_with_key(p, data, &[7u8; 16]);
});
