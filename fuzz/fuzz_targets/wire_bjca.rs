//! The BJCA wire format's decoder (shared by the BJCA adapter and cloud): the answer bytes,
//! for the operation named by the first byte; what decodes encodes and decodes again alike.
#![no_main]
use camr::protocol::Operation;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((op, raw)) = data.split_first() else {
        return;
    };
    let op = Operation::ALL[usize::from(*op) % Operation::ALL.len()];
    if let Ok(evidence) = camr_bjca_wire::decode(op.as_str(), raw) {
        if let Ok(again) = camr_bjca_wire::encode(op, &evidence) {
            let _ = camr_bjca_wire::decode(op.as_str(), &again);
        }
    }
});
