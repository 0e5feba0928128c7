//! A parse budget checked before lopdf reads a file. lopdf parses every object up front and
//! each parsed object costs about 120 bytes (an array of nothing ~600, capacity for four),
//! so a file of millions of tiny objects — a 20 MB array of ten million integers, or a
//! 752-byte object stream that inflates to ten million `[]` — takes gigabytes before any
//! check of ours could run (measured: 2.4 GB and > 5 GB). This counts the syntax tokens
//! lopdf would build objects from, outside stream data and the classic cross-reference
//! table, and inside Flate-compressed object streams (inflated here, bounded), and refuses
//! a file past [`MAX_TOKENS`]. Written by hand because no crate offers a token count of a
//! PDF that stops early.

use std::io::Read;

use super::SealError;

/// Most syntax tokens (numbers, names, keywords, strings, brackets) a file may hold outside
/// its stream data: ~300 bytes each when parsed, so at most ~600 MB. A 200-page, 50 MB bid
/// document holds ~30 000 (most of a PDF is stream data).
pub const MAX_TOKENS: usize = 2_000_000;

/// Largest decompressed object stream considered, bytes (object streams hold dictionaries
/// and arrays, normally well under 1 MiB).
const MAX_OBJSTM: u64 = 64 * 1024 * 1024;

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn starts(bytes: &[u8], at: usize, word: &[u8]) -> bool {
    bytes.get(at..at + word.len()) == Some(word)
        && bytes
            .get(at + word.len())
            .is_none_or(|b| is_white(*b) || is_delim(*b))
}

/// Counts tokens of `bytes`; `objstm`: inside a decoded object stream (no streams, no xref).
struct Counter {
    tokens: usize,
    objstm_bytes: u64,
}

impl Counter {
    fn add(&mut self, n: usize) -> Result<(), SealError> {
        self.tokens += n;
        if self.tokens > MAX_TOKENS {
            return Err(SealError::malformed(format!(
                "more than {MAX_TOKENS} objects to parse (a file built to exhaust memory?)"
            )));
        }
        Ok(())
    }

    fn scan(&mut self, bytes: &[u8], top_level: bool) -> Result<(), SealError> {
        let mut i = 0;
        // Start of the dictionary that precedes a `stream` keyword (to find /ObjStm).
        let mut last_dict_start = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if is_white(b) {
                i += 1;
                continue;
            }
            match b {
                b'%' => {
                    while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                        i += 1;
                    }
                }
                b'(' => {
                    self.add(1)?;
                    let mut depth = 0usize;
                    while i < bytes.len() {
                        match bytes[i] {
                            b'\\' => i += 1,
                            b'(' => depth += 1,
                            b')' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        i += 1;
                    }
                    i += 1;
                }
                b'<' if bytes.get(i + 1) == Some(&b'<') => {
                    self.add(1)?;
                    last_dict_start = i;
                    i += 2;
                }
                b'<' => {
                    self.add(1)?;
                    while i < bytes.len() && bytes[i] != b'>' {
                        i += 1;
                    }
                    i += 1;
                }
                b'>' if bytes.get(i + 1) == Some(&b'>') => {
                    self.add(1)?;
                    i += 2;
                }
                b'[' | b']' | b'{' | b'}' | b'>' | b')' => {
                    self.add(1)?;
                    i += 1;
                }
                _ => {
                    if top_level && starts(bytes, i, b"stream") {
                        let dict = bytes.get(last_dict_start..i).unwrap_or_default();
                        i = self.stream(bytes, i + 6, dict)?;
                        continue;
                    }
                    if top_level && starts(bytes, i, b"xref") {
                        // A classic cross-reference table: 3 tokens per object, read by
                        // lopdf into its xref map, not as objects.
                        match super::pdf::find(bytes, b"trailer", i) {
                            Some(t) => i = t + 7,
                            None => i = bytes.len(),
                        }
                        continue;
                    }
                    // A name (`/` then regular characters), a number or a keyword.
                    self.add(1)?;
                    i += 1;
                    while i < bytes.len() && !is_white(bytes[i]) && !is_delim(bytes[i]) {
                        i += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Skips the data of a stream starting after the `stream` keyword at `from`; an object
    /// stream compressed with Flate alone is inflated (bounded) and counted. Returns the
    /// offset after `endstream`.
    fn stream(&mut self, bytes: &[u8], from: usize, dict: &[u8]) -> Result<usize, SealError> {
        let end = super::pdf::find(bytes, b"endstream", from).unwrap_or(bytes.len());
        let data = bytes.get(from..end).unwrap_or_default();
        // Flate applied once or several times (`/Filter [/FlateDecode /FlateDecode]`), no
        // other filter and no predictor: what object streams use.
        let flates = count(dict, b"/FlateDecode");
        let other_filter = count(dict, b"Decode") != flates || count(dict, b"/DecodeParms") > 0;
        if count(dict, b"/ObjStm") > 0 && (1..=4).contains(&flates) && !other_filter {
            let data = data.strip_prefix(b"\r").unwrap_or(data);
            let data = data.strip_prefix(b"\n").unwrap_or(data);
            let budget = MAX_OBJSTM.saturating_sub(self.objstm_bytes);
            let mut reader: Box<dyn Read + '_> = Box::new(data);
            for _ in 0..flates {
                reader = Box::new(flate2::read::ZlibDecoder::new(reader));
            }
            let mut inflated = Vec::new();
            // A stream that does not inflate is lopdf's to refuse; only the tokens count here.
            let _ = reader.take(budget + 1).read_to_end(&mut inflated);
            self.objstm_bytes += inflated.len() as u64;
            if self.objstm_bytes > MAX_OBJSTM {
                return Err(SealError::malformed(format!(
                    "object streams inflate to more than {} MiB",
                    MAX_OBJSTM >> 20
                )));
            }
            self.scan(&inflated, false)?;
        }
        Ok(end + 9)
    }
}

/// How often `needle` occurs in `hay`.
fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Refuses a file whose parse would cost more than [`MAX_TOKENS`] objects.
pub(crate) fn check(pdf: &[u8]) -> Result<(), SealError> {
    let mut c = Counter {
        tokens: 0,
        objstm_bytes: 0,
    };
    c.scan(pdf, true)
}

/// The token count of a file (for tests and measurements).
#[cfg(test)]
pub(crate) fn tokens(pdf: &[u8]) -> Result<usize, SealError> {
    let mut c = Counter {
        tokens: 0,
        objstm_bytes: 0,
    };
    c.scan(pdf, true)?;
    Ok(c.tokens)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn counts_tokens_outside_streams_and_the_xref_table() {
        let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Kids [1 2 (a (b) c) <00ff>] >> endobj\n\
                    2 0 obj << /Length 5 >> stream\n[[[[[\nendstream endobj\n\
                    xref\n0 1\n0000000000 65535 f \ntrailer << /Root 1 0 R >>\n%%EOF\n";
        // 1 0 obj << /Type /Catalog /Kids [ 1 2 (..) <..> ] >> endobj = 15;
        // 2 0 obj << /Length 5 >> endobj = 8 (the stream data is skipped); the xref table
        // and `trailer` are skipped, its dictionary << /Root 1 0 R >> = 6.
        assert_eq!(tokens(pdf).unwrap(), 15 + 8 + 6);
    }

    #[test]
    fn a_flood_of_tiny_objects_is_refused_and_so_is_one_in_an_object_stream() {
        let mut pdf = b"%PDF-1.7\n1 0 obj [".to_vec();
        pdf.extend(std::iter::repeat_n(&b"0 "[..], MAX_TOKENS + 1).flatten());
        pdf.extend(b"] endobj\n");
        let e = check(&pdf).unwrap_err();
        assert_eq!(e.code(), crate::protocol::ErrorCode::PdfMalformed);
        assert!(e.to_string().contains("objects to parse"), "{e}");

        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..MAX_TOKENS / 2 + 1 {
            z.write_all(b"[]").unwrap();
        }
        let data = z.finish().unwrap();
        let mut pdf = format!(
            "%PDF-1.7\n1 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length {} >> stream\n",
            data.len()
        )
        .into_bytes();
        pdf.extend(&data);
        pdf.extend(b"\nendstream endobj\n");
        assert!(pdf.len() < 64 * 1024, "{}", pdf.len());
        assert_eq!(
            check(&pdf).unwrap_err().code(),
            crate::protocol::ErrorCode::PdfMalformed
        );
        // The sample documents are far inside the budget.
        let sample = super::super::sample_pdf(200).unwrap();
        assert!(tokens(&sample).unwrap() < 20_000);
    }
}
