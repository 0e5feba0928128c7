//! Low-level PDF helpers shared by sealing and verifying: loading, byte search, dates and
//! text strings.

use lopdf::{Document, Object, StringFormat};

use super::MAX_PDF;
use super::SealError;

/// Reads a PDF for sealing or verifying: refuses non-PDFs, encrypted files and files whose
/// cross-references lopdf had to rebuild by scanning (an update would lose `/Prev`).
pub(crate) fn load(pdf: &[u8]) -> Result<Document, SealError> {
    if pdf.len() > MAX_PDF {
        return Err(SealError::malformed("larger than 512 MiB"));
    }
    let head = pdf.get(..1024.min(pdf.len())).unwrap_or_default();
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(SealError::malformed("no %PDF- header: not a PDF file"));
    }
    super::budget::check(pdf)?;
    let doc = match Document::load_mem(pdf) {
        Ok(d) => d,
        Err(e) => {
            if contains(pdf, b"/Encrypt") {
                return Err(SealError::Encrypted);
            }
            return Err(SealError::malformed(format!("cannot parse ({e})")));
        }
    };
    if doc.trailer.has(b"Encrypt") || doc.encryption_state.is_some() {
        return Err(SealError::Encrypted);
    }
    if doc.xref_start == 0 {
        return Err(SealError::malformed(
            "the cross-reference table is damaged or missing (truncated file?)",
        ));
    }
    if doc.get_pages().is_empty() {
        return Err(SealError::malformed("the document has no pages"));
    }
    Ok(doc)
}

pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle, 0).is_some()
}

pub(crate) fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

pub(super) fn pdf_err(e: lopdf::Error) -> SealError {
    SealError::malformed(e)
}

/// `D:YYYYMMDDHHmmSSZ` (ISO 32000 §7.9.4) in UTC.
pub(crate) fn pdf_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "D:{y:04}{m:02}{d:02}{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A PDF text string: ASCII as is, anything else UTF-16BE with a byte-order mark.
pub(crate) fn text_string(s: &str) -> Object {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xfe, 0xff];
        for unit in s.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// Decodes a PDF text string (UTF-16BE with BOM, UTF-8 with BOM, else Latin-1/ASCII).
pub(crate) fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    }
}
