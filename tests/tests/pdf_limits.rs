//! Hostile PDFs against `camr::seal` (issue 8: "malformed PDFs … get a clear error, never a
//! panic"): object streams with enormous `/N` and `/First`, a decompression bomb in an object
//! stream, absurd `/Length` values, and arrays and dictionaries nested 100 000 deep.
//!
//! Every hostile file is a small variation of one valid file, written by hand (the catalog,
//! page tree and page in an object stream behind a cross-reference stream, or a classic file
//! with a cross-reference table); the control tests seal and verify the valid ones, so a
//! refusal below is caused by the one thing changed. For each, [`camr::seal::prepare`] (every
//! page) and [`camr::seal::verify`] must return an error with the code `PDF_MALFORMED`, not
//! panic, not overflow the stack, not exhaust memory. No timings are asserted: a test that
//! hangs fails by the test runner's timeout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;

use camr::crypto::{PublicKeyAlgorithm, default_provider};
use camr::protocol::ErrorCode;
use camr::seal::{self, Placement, SealError, SealOptions};

const NOW: i64 = 1_790_000_000;

// ---------------------------------------------------------------------------------------------
// Writing PDFs by hand
// ---------------------------------------------------------------------------------------------

/// The page content of every test file.
const PAGE_TEXT: &[u8] = b"BT /F1 24 Tf 72 760 Td (Bid for lot 7) Tj ET\n";

/// Objects 1-3 (catalog, page tree, page; the page's content is object 6) as the members of
/// an object stream: the index ("1 0 2 o2 3 o3 ") and the objects after it.
fn members() -> (Vec<u8>, Vec<u8>) {
    let objects: [&[u8]; 3] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 6 0 R \
           /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
    ];
    let mut index = String::new();
    let mut body = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        index.push_str(&format!("{} {} ", i + 1, body.len()));
        body.extend_from_slice(o);
        body.push(b'\n');
    }
    (index.into_bytes(), body)
}

/// A PDF 1.7 file whose catalog, page tree and page are in object stream 4 (with the extra
/// dictionary entries `dict` — `/N`, `/First`, `/Filter` — and the stream data `data`), the
/// page content is object 6, and cross-reference stream 5 finds them.
fn object_stream_pdf(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let off4 = out.len();
    write!(
        out,
        "4 0 obj\n<< /Type /ObjStm {dict} /Length {} >>\nstream\n",
        data.len()
    )
    .unwrap();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    let off6 = out.len();
    write!(out, "6 0 obj\n<< /Length {} >>\nstream\n", PAGE_TEXT.len()).unwrap();
    out.extend_from_slice(PAGE_TEXT);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    let off5 = out.len();
    // /W [1 4 2]: type, offset or object stream number, generation or index.
    let mut xref = Vec::new();
    let mut entry = |t: u8, a: usize, b: u16| {
        xref.push(t);
        xref.extend_from_slice(&u32::try_from(a).unwrap().to_be_bytes());
        xref.extend_from_slice(&b.to_be_bytes());
    };
    entry(0, 0, 0xffff);
    entry(2, 4, 0);
    entry(2, 4, 1);
    entry(2, 4, 2);
    entry(1, off4, 0);
    entry(1, off5, 0);
    entry(1, off6, 0);
    write!(
        out,
        "5 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length {} >>\nstream\n",
        xref.len()
    )
    .unwrap();
    out.extend_from_slice(&xref);
    write!(out, "\nendstream\nendobj\nstartxref\n{off5}\n%%EOF\n").unwrap();
    out
}

/// The valid object stream: `/N 3`, the right `/First`, no filter.
fn valid_object_stream_pdf() -> Vec<u8> {
    let (index, body) = members();
    let dict = format!("/N 3 /First {}", index.len());
    object_stream_pdf(&dict, &[index, body].concat())
}

/// A classic PDF 1.7 file (cross-reference table) of the numbered object bodies, in order
/// 1..=n, with `trailer_extra` added to the trailer dictionary.
fn classic_pdf(objects: &[Vec<u8>], trailer_extra: &[u8]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        writeln!(out, "{} 0 obj", i + 1).unwrap();
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).unwrap();
    for o in offsets {
        writeln!(out, "{o:010} 00000 n ").unwrap();
    }
    write!(out, "trailer\n<< /Size {} /Root 1 0 R ", objects.len() + 1).unwrap();
    out.extend_from_slice(trailer_extra);
    write!(out, " >>\nstartxref\n{xref}\n%%EOF\n").unwrap();
    out
}

/// The objects of the valid classic file: catalog (with `catalog_extra`), page tree, page,
/// and the page content stream (object 4) with the `/Length` written as `length`.
fn classic_objects(catalog_extra: &[u8], length: &str, content: &[u8]) -> Vec<Vec<u8>> {
    let mut catalog = b"<< /Type /Catalog /Pages 2 0 R ".to_vec();
    catalog.extend_from_slice(catalog_extra);
    catalog.extend_from_slice(b" >>");
    let mut stream = format!("<< /Length {length} >>\nstream\n").into_bytes();
    stream.extend_from_slice(content);
    stream.extend_from_slice(b"\nendstream");
    vec![
        catalog,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
           /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
            .to_vec(),
        stream,
    ]
}

fn valid_classic_pdf() -> Vec<u8> {
    classic_pdf(
        &classic_objects(b"", &PAGE_TEXT.len().to_string(), PAGE_TEXT),
        b"",
    )
}

/// `depth` opening brackets `open`, a `0`, and as many `close`.
fn nested(open: &[u8], close: &[u8], depth: usize) -> Vec<u8> {
    let mut v = open.repeat(depth);
    v.extend_from_slice(b" 0 ");
    v.extend_from_slice(&close.repeat(depth));
    v
}

/// zlib-compresses `zeros` zero bytes after `head`, in constant memory.
fn zlib_bomb(head: &[u8], zeros: u64) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(head).unwrap();
    let block = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        z.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    z.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

// ---------------------------------------------------------------------------------------------
// What camr must answer
// ---------------------------------------------------------------------------------------------

fn every_page() -> SealOptions {
    SealOptions::new(Placement::EveryPage {
        rect: [480.0, 40.0, 72.0, 72.0],
    })
}

fn prepare(pdf: &[u8], options: &SealOptions) -> Result<seal::PreparedPdf, SealError> {
    seal::prepare(
        default_provider().as_ref(),
        pdf,
        PublicKeyAlgorithm::Sm2,
        options,
    )
}

fn verify(pdf: &[u8]) -> Result<seal::PdfReport, SealError> {
    seal::verify(default_provider().as_ref(), pdf, None, NOW)
}

/// `prepare` (every page) and `verify` both refuse `pdf` with `PDF_MALFORMED`.
fn assert_malformed(pdf: &[u8], what: &str) {
    match prepare(pdf, &every_page()) {
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::PdfMalformed, "prepare, {what}: {e}");
            eprintln!("prepare, {what}: {}: {e}", e.code());
        }
        Ok(p) => panic!("prepare accepted {what} ({} bytes out)", p.bytes.len()),
    }
    match verify(pdf) {
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::PdfMalformed, "verify, {what}: {e}");
            eprintln!("verify, {what}: {}: {e}", e.code());
        }
        Ok(r) => panic!("verify accepted {what}: {}", r.human()),
    }
}

/// The file is prepared for a seal on every page (the earlier bytes kept), and verify reads
/// it: one page, no seals yet.
fn assert_seals(pdf: &[u8], what: &str) {
    let prepared = prepare(pdf, &every_page()).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(prepared.bytes.starts_with(pdf), "{what}");
    let report = verify(pdf).unwrap_or_else(|e| panic!("verify, {what}: {e}"));
    assert_eq!(report.pages, 1, "{what}");
    assert!(report.seals.is_empty(), "{what}");
}

/// Peak resident memory of this process so far, in bytes (Linux), if known.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Set in the child process of [`in_child`].
const CHILD: &str = "CAMR_PDF_LIMITS_CHILD";

/// Address space of the child process: a blow-up ends in a failed allocation there, not in
/// the machine's OOM killer.
const CHILD_ADDRESS_SPACE_KIB: u64 = 3 << 20;

/// Runs the test `name` again in a child process of this test binary, alone and under an
/// address-space limit, so its peak memory is its own (`cargo test` runs tests on threads of
/// one process) and a blow-up cannot take the machine down. In the parent: returns the
/// child's peak RSS in bytes after checking that it passed. In the child: runs `body`, prints
/// its peak RSS and returns `None`.
fn in_child(name: &str, body: impl FnOnce()) -> Option<u64> {
    if std::env::var_os(CHILD).is_some() {
        body();
        println!("\nPEAK_RSS={}", peak_rss().unwrap_or(0));
        return None;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {CHILD_ADDRESS_SPACE_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(exe)
        .args([
            "--exact",
            name,
            "--include-ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "{name} failed in its child process ({}; address space limited to {} MiB):\n{stdout}\n{stderr}",
        out.status,
        CHILD_ADDRESS_SPACE_KIB >> 10
    );
    let peak = stdout
        .lines()
        .find_map(|l| l.split("PEAK_RSS=").nth(1))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("{name}: the child printed no PEAK_RSS:\n{stdout}"));
    eprintln!("{name}: peak RSS {} MiB", peak >> 20);
    Some(peak)
}

// ---------------------------------------------------------------------------------------------
// Controls: the valid files seal
// ---------------------------------------------------------------------------------------------

#[test]
fn control_the_valid_files_seal_and_verify() {
    assert_seals(&valid_object_stream_pdf(), "the valid object-stream file");
    assert_seals(&valid_classic_pdf(), "the valid classic file");
    let (index, body) = members();
    let dict = format!("/N 3 /First {} /Filter /FlateDecode", index.len());
    let flate = object_stream_pdf(&dict, &zlib(&[index.clone(), body.clone()].concat()));
    assert_seals(&flate, "the valid compressed object stream");
    let dict = format!(
        "/N 3 /First {} /Filter [/FlateDecode /FlateDecode]",
        index.len()
    );
    let twice = object_stream_pdf(&dict, &zlib(&zlib(&[index, body].concat())));
    assert_seals(&twice, "the valid object stream compressed twice");
    // Nesting as deep as real files have it stays readable.
    let deep = classic_pdf(
        &classic_objects(
            &[b"/Deep ".as_slice(), &nested(b"[", b"]", 20)].concat(),
            &PAGE_TEXT.len().to_string(),
            PAGE_TEXT,
        ),
        b"",
    );
    assert_seals(&deep, "arrays nested 20 deep");
}

// ---------------------------------------------------------------------------------------------
// (a) Object streams with enormous /N and /First
// ---------------------------------------------------------------------------------------------

#[test]
fn an_object_stream_with_enormous_n_and_first_is_malformed() {
    let (index, body) = members();
    let data = [index.clone(), body].concat();
    for dict in [
        "/N 2147483648 /First 2147483647",
        "/N 4294967296 /First 4294967296",
        "/N 9223372036854775807 /First 9223372036854775807",
        "/N -1 /First -1",
        "/N 3 /First 2147483647",
        "/N 3 /First -5",
    ] {
        assert_malformed(&object_stream_pdf(dict, &data), dict);
    }
}

#[test]
fn an_object_stream_whose_n_alone_is_enormous_reads_only_the_objects_it_has() {
    // /N only tells how many pairs the index holds; lopdf reads the pairs that are there.
    // What must not happen is an allocation or a loop of /N: the file seals like the valid one.
    let (index, body) = members();
    let dict = format!("/N 2147483648 /First {}", index.len());
    assert_seals(
        &object_stream_pdf(&dict, &[index, body].concat()),
        "/N 2^31 with the right /First",
    );
}

#[test]
fn an_object_stream_whose_index_claims_objects_past_its_end_is_malformed() {
    // The index names offsets far beyond the data, and objects that are not there.
    let (_, body) = members();
    let index = b"1 4294967295 2 9999999999 3 18446744073709551615 ".to_vec();
    let dict = format!("/N 3 /First {}", index.len());
    assert_malformed(
        &object_stream_pdf(&dict, &[index, body].concat()),
        "index offsets past the end",
    );
}

// ---------------------------------------------------------------------------------------------
// (b) A decompression bomb in an object stream
// ---------------------------------------------------------------------------------------------

/// 2 GiB of zeros behind the real members, compressed twice: a few KiB in the file.
const BOMB_ZEROS: u64 = 2 << 30;

#[test]
fn an_object_stream_bomb_is_malformed_in_bounded_memory() {
    let peak = in_child(
        "an_object_stream_bomb_is_malformed_in_bounded_memory",
        || {
            let (index, body) = members();
            let head = [index.clone(), body].concat();
            let once = zlib_bomb(&head, BOMB_ZEROS);
            let twice = zlib(&once);
            eprintln!(
                "bomb: {BOMB_ZEROS} bytes of zeros -> {} bytes compressed once -> {} bytes twice",
                once.len(),
                twice.len()
            );
            assert!(twice.len() < 64 * 1024, "{} bytes", twice.len());
            let dict = format!(
                "/N 3 /First {} /Filter [/FlateDecode /FlateDecode]",
                index.len()
            );
            assert_malformed(
                &object_stream_pdf(&dict, &twice),
                "a 2 GiB bomb, Flate twice",
            );
            let dict = format!("/N 3 /First {} /Filter /FlateDecode", index.len());
            assert_malformed(&object_stream_pdf(&dict, &once), "a 2 GiB bomb, Flate once");
        },
    );
    // lopdf stops inflating each stream at 256 MiB (LoadOptions::max_decompressed_size),
    // so the peak is about that; the 2 GiB inflated would be far above the bound.
    if let Some(peak) = peak {
        assert!(peak < 1 << 30, "peak RSS {} MiB", peak >> 20);
    }
}

#[test]
fn a_page_content_bomb_is_refused_when_looking_for_a_keyword() {
    // Page content is decoded only to find a keyword (seal::locate, at most 64 MiB per
    // page); 2 GiB of zeros there must stop at that bound, not fill memory.
    let peak = in_child(
        "a_page_content_bomb_is_refused_when_looking_for_a_keyword",
        || {
            let content = zlib_bomb(
                b"BT /F1 24 Tf 72 760 Td (Bid for lot 7) Tj ET\n",
                BOMB_ZEROS,
            );
            let mut objects = classic_objects(b"", "0", b"");
            objects[3] = {
                let mut s = format!(
                    "<< /Length {} /Filter /FlateDecode >>\nstream\n",
                    content.len()
                )
                .into_bytes();
                s.extend_from_slice(&content);
                s.extend_from_slice(b"\nendstream");
                s
            };
            let pdf = classic_pdf(&objects, b"");
            let keyword = SealOptions::new(Placement::Keyword {
                keyword: "lot 7".into(),
                width: 72.0,
                height: 72.0,
            });
            match prepare(&pdf, &keyword) {
                Err(e) => {
                    eprintln!("keyword seal on a bomb page: {}: {e}", e.code());
                    assert_eq!(e.code(), ErrorCode::PdfMalformed, "{e}");
                }
                Ok(p) => panic!(
                    "keyword seal on a bomb page accepted ({} bytes)",
                    p.bytes.len()
                ),
            }
            // An every-page seal never decodes page content: the bomb is not in its way.
            assert!(prepare(&pdf, &every_page()).is_ok());
        },
    );
    if let Some(peak) = peak {
        assert!(peak < 512 << 20, "peak RSS {} MiB", peak >> 20);
    }
}

// ---------------------------------------------------------------------------------------------
// (b') Parse amplification: many tiny objects
// ---------------------------------------------------------------------------------------------

/// An object stream whose catalog holds `/Junk [unit unit …]` (`count` units), compressed
/// twice: under a kilobyte in the file.
fn many_objects_in_an_object_stream(unit: &[u8], count: usize) -> Vec<u8> {
    let others: [&[u8]; 2] = [
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>\n",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 6 0 R >>\n",
    ];
    let head = b"<< /Type /Catalog /Pages 2 0 R /Junk [".as_slice();
    let tail = b"] >>\n".as_slice();
    let o2 = head.len() + unit.len() * count + tail.len();
    let o3 = o2 + others[0].len();
    let index = format!("1 0 2 {o2} 3 {o3} ").into_bytes();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&index).unwrap();
    z.write_all(head).unwrap();
    let block = unit.repeat(1 << 16);
    let mut left = count;
    while left > 0 {
        let n = left.min(1 << 16);
        z.write_all(&block[..n * unit.len()]).unwrap();
        left -= n;
    }
    z.write_all(tail).unwrap();
    z.write_all(others[0]).unwrap();
    z.write_all(others[1]).unwrap();
    let once = z.finish().unwrap();
    let dict = format!(
        "/N 3 /First {} /Filter [/FlateDecode /FlateDecode]",
        index.len()
    );
    object_stream_pdf(&dict, &zlib(&once))
}

/// A file that decodes to millions of tiny objects is refused, or read, in bounded memory:
/// `prepare` and `verify` either refuse it with `PDF_MALFORMED` or read it, and the peak
/// stays under 512 MiB.
fn assert_bounded(pdf: &[u8], what: &str) {
    eprintln!("{what}: {} bytes", pdf.len());
    for (step, result) in [
        ("prepare", prepare(pdf, &every_page()).map(|_| ())),
        ("verify", verify(pdf).map(|_| ())),
    ] {
        match result {
            Ok(()) => eprintln!("{step}, {what}: read"),
            Err(e) => {
                eprintln!("{step}, {what}: {}: {e}", e.code());
                assert_eq!(e.code(), ErrorCode::PdfMalformed, "{step}, {what}: {e}");
            }
        }
    }
}

#[test]
fn an_object_stream_of_ten_million_empty_arrays_is_read_in_bounded_memory() {
    let peak = in_child(
        "an_object_stream_of_ten_million_empty_arrays_is_read_in_bounded_memory",
        || {
            let pdf = many_objects_in_an_object_stream(b"[] ", 10_000_000);
            assert!(pdf.len() < 2048, "{} bytes", pdf.len());
            assert_bounded(&pdf, "10 million empty arrays in an object stream");
        },
    );
    if let Some(peak) = peak {
        assert!(peak < 512 << 20, "peak RSS {} MiB", peak >> 20);
    }
}

#[test]
fn an_array_of_ten_million_integers_is_read_in_bounded_memory() {
    let peak = in_child(
        "an_array_of_ten_million_integers_is_read_in_bounded_memory",
        || {
            let junk = [b"/Junk [".as_slice(), &b"0 ".repeat(10_000_000), b"]"].concat();
            let pdf = classic_pdf(
                &classic_objects(&junk, &PAGE_TEXT.len().to_string(), PAGE_TEXT),
                b"",
            );
            assert_bounded(&pdf, "an array of 10 million integers");
        },
    );
    if let Some(peak) = peak {
        assert!(peak < 512 << 20, "peak RSS {} MiB", peak >> 20);
    }
}

// ---------------------------------------------------------------------------------------------
// (c) Absurd /Length values
// ---------------------------------------------------------------------------------------------

#[test]
fn an_object_stream_with_an_absurd_length_is_malformed() {
    // The object stream that holds the catalog claims 2^62 bytes (and other impossible sizes).
    let (index, body) = members();
    let data = [index.clone(), body].concat();
    for length in [
        "4611686018427387904",
        "9223372036854775807",
        "18446744073709551616",
        "-1",
    ] {
        let pdf = object_stream_pdf(&format!("/N 3 /First {}", index.len()), &data);
        let real = format!("/Length {} >>", data.len());
        let pdf = replace_once(
            &pdf,
            real.as_bytes(),
            format!("/Length {length} >>").as_bytes(),
        );
        check_length(&pdf, &format!("object stream /Length {length}"));
    }
}

#[test]
fn a_content_stream_with_an_absurd_length_is_read_to_endstream_or_refused() {
    for length in [
        "4611686018427387904",
        "9223372036854775807",
        "18446744073709551616",
        "-1",
    ] {
        let pdf = classic_pdf(&classic_objects(b"", length, PAGE_TEXT), b"");
        check_length(&pdf, &format!("content stream /Length {length}"));
    }
}

/// A wrong `/Length`: lopdf may recover the stream by finding `endstream` (then the file must
/// seal and verify like the valid one), or the file is refused as `PDF_MALFORMED`. Anything
/// else — another error code, a panic — fails.
fn check_length(pdf: &[u8], what: &str) {
    match prepare(pdf, &every_page()) {
        Ok(p) => {
            eprintln!("{what}: recovered, sealed");
            assert!(p.bytes.starts_with(pdf), "{what}");
            let r = verify(&p.bytes).unwrap_or_else(|e| panic!("verify, {what}: {e}"));
            assert_eq!(r.pages, 1, "{what}");
        }
        Err(e) => {
            eprintln!("{what}: {}: {e}", e.code());
            assert_eq!(e.code(), ErrorCode::PdfMalformed, "{what}: {e}");
            let v = verify(pdf).expect_err(what);
            assert_eq!(v.code(), ErrorCode::PdfMalformed, "verify, {what}: {v}");
        }
    }
}

fn replace_once(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = hay
        .windows(from.len())
        .position(|w| w == from)
        .expect("the text to replace");
    [&hay[..at], to, &hay[at + from.len()..]].concat()
}

// ---------------------------------------------------------------------------------------------
// (d) Deep nesting
// ---------------------------------------------------------------------------------------------

const DEEP: usize = 100_000;

#[test]
fn arrays_nested_100000_deep_in_the_catalog_are_malformed() {
    let pdf = classic_pdf(
        &classic_objects(
            &[b"/Deep ".as_slice(), &nested(b"[", b"]", DEEP)].concat(),
            &PAGE_TEXT.len().to_string(),
            PAGE_TEXT,
        ),
        b"",
    );
    assert_malformed(&pdf, "arrays nested 100 000 deep in the catalog");
}

#[test]
fn dictionaries_nested_100000_deep_in_the_catalog_are_malformed() {
    let pdf = classic_pdf(
        &classic_objects(
            &[b"/Deep ".as_slice(), &nested(b"<< /A ", b">> ", DEEP)].concat(),
            &PAGE_TEXT.len().to_string(),
            PAGE_TEXT,
        ),
        b"",
    );
    assert_malformed(&pdf, "dictionaries nested 100 000 deep in the catalog");
}

#[test]
fn unclosed_arrays_100000_deep_are_malformed() {
    // Only the opening brackets, as a truncated or hostile file would have them.
    let pdf = classic_pdf(
        &classic_objects(
            &[b"/Deep ".as_slice(), &b"[".repeat(DEEP)].concat(),
            &PAGE_TEXT.len().to_string(),
            PAGE_TEXT,
        ),
        b"",
    );
    assert_malformed(&pdf, "100 000 unclosed arrays in the catalog");
}

#[test]
fn nesting_100000_deep_in_an_object_stream_is_malformed() {
    let deep_catalog = [
        b"<< /Type /Catalog /Pages 2 0 R /Deep ".as_slice(),
        &nested(b"[", b"]", DEEP),
        b" >>\n",
    ]
    .concat();
    let others: [&[u8]; 2] = [
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>\n",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 6 0 R >>\n",
    ];
    let o2 = deep_catalog.len();
    let o3 = o2 + others[0].len();
    let index = format!("1 0 2 {o2} 3 {o3} ").into_bytes();
    let data = [index.as_slice(), &deep_catalog, others[0], others[1]].concat();
    let dict = format!("/N 3 /First {}", index.len());
    assert_malformed(
        &object_stream_pdf(&dict, &data),
        "arrays nested 100 000 deep in an object stream member",
    );
}

#[test]
fn nesting_100000_deep_in_the_trailer_is_malformed() {
    let objects = classic_objects(b"", &PAGE_TEXT.len().to_string(), PAGE_TEXT);
    let pdf = classic_pdf(
        &objects,
        &[b"/Deep ".as_slice(), &nested(b"[", b"]", DEEP)].concat(),
    );
    assert_malformed(&pdf, "arrays nested 100 000 deep in the trailer");
}

#[test]
fn nesting_100000_deep_in_page_content_is_refused_when_looking_for_a_keyword() {
    // Content streams are parsed by lopdf's content parser (seal::locate, keyword seals).
    let mut content = b"BT /F1 24 Tf 72 760 Td (Bid for lot 7) Tj ET\n".to_vec();
    content.extend_from_slice(&nested(b"[", b"]", DEEP));
    content.extend_from_slice(b" pop\n");
    let pdf = classic_pdf(
        &classic_objects(b"", &content.len().to_string(), &content),
        b"",
    );
    let keyword = SealOptions::new(Placement::Keyword {
        keyword: "lot 7".into(),
        width: 72.0,
        height: 72.0,
    });
    match prepare(&pdf, &keyword) {
        Err(e) => {
            eprintln!("keyword seal, deep content: {}: {e}", e.code());
            assert_eq!(e.code(), ErrorCode::PdfMalformed, "{e}");
        }
        Ok(p) => panic!(
            "keyword seal on deep content accepted ({} bytes)",
            p.bytes.len()
        ),
    }
}
