//! Keyword seal placement (关键字签章) on a PDF: the text of every page searched for a keyword
//! (the first input line; the rest is the PDF), and the page geometry.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (keyword, pdf) = match data.iter().position(|b| *b == b'\n') {
        Some(i) if i <= 64 => (
            std::str::from_utf8(&data[..i]).unwrap_or("Seal"),
            &data[i + 1..],
        ),
        _ => ("Seal", data),
    };
    let _ = camr::seal::locate_keyword(pdf, keyword, 80.0, 80.0);
    let _ = camr::seal::page_sizes(pdf);
});
