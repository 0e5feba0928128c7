//! The XJCA adapter's strict wire decoder: the vendor app's answer bytes, for the operation
//! named by the first byte.
#![no_main]
use camr::protocol::Operation;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((op, raw)) = data.split_first() else {
        return;
    };
    let op = Operation::ALL[usize::from(*op) % Operation::ALL.len()];
    let _ = camr_adapter_xjca::decode_strict(op.as_str(), raw);
});
