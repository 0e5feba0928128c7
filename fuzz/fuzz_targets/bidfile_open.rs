//! A bid file (投标文件, camr's streamed envelope): the header alone, then the streamed open
//! with the fixed wallet's encryption key into a sink.
#![no_main]
use camr::envelope::{KeySource, open_stream, read_header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = camr_fuzz::fixture();
    let p = f.provider.as_ref();
    if read_header(p, &mut &data[..]).is_err() {
        return;
    }
    let key = KeySource::Wallet {
        cert: &f.enc_cert,
        key: &f.enc_key,
    };
    let _ = open_stream(p, data, std::io::sink(), key, &mut |_| {});
});
