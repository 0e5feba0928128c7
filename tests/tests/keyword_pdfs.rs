//! Keyword seals (关键字签章) on Chinese text as real producers write it: the keyword search
//! (`camr::seal::locate`) must read what a text extractor reads, and the seal must land on
//! the keyword.
//!
//! The documents (`tests/data/keyword/`):
//! - `chromium-skia.pdf`: Chromium's print to PDF (Skia/PDF m156) of an HTML 投标函 — the
//!   heading in one-glyph Type3 fonts (`/FontMatrix` 1/256, flipped), the body in Type0
//!   `Identity-H` fonts, both with `/ToUnicode`;
//! - `libreoffice-writer.pdf`: LibreOffice 7.4 Writer's export of the same text — a subset
//!   CFF font with a built-in encoding and `/ToUnicode` (lopdf alone reads its codes through
//!   the encoding, not the CMap);
//! - one built here with lopdf as Word-like CJK producers write it: a Type0/CID font
//!   (`Identity-H`, `/W`, `/ToUnicode`), a simple font whose `/Differences` name glyphs
//!   `/g1`, `/g2` with `/ToUnicode`, and one-glyph Type3 fonts without `/ToUnicode` inside
//!   `/Span <</ActualText …>> BDC` (what the issue saw from Chromium).
//!
//! The fixtures were made with `chromium --headless --print-to-pdf` and `soffice --headless
//! --convert-to pdf` (Debian `libreoffice-writer-nogui`, `fonts-noto-cjk`) and are committed,
//! as CI has neither. Where each keyword is, is asked of an independent extractor, poppler's
//! `pdftotext -bbox`: `$CAMR_PDFTOTEXT` if set (then it must work), else
//! `/usr/bin/pdftotext`; when neither is there those checks print `*** SKIPPED ***` on stderr
//! (the checks against the positions the built document was written with always run).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use camr::seal::locate::{find_keyword, page_text};
use lopdf::{Document, Object, Stream, dictionary};

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/keyword")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn pdftotext_path() -> Option<&'static Path> {
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(p) = std::env::var_os("CAMR_PDFTOTEXT").filter(|p| !p.is_empty()) {
            let p = PathBuf::from(p);
            // Asked for explicitly (CI sets it): a missing binary is an error, not a skip.
            assert!(
                runs(&p),
                "CAMR_PDFTOTEXT={} does not run `pdftotext -v`; apt-get install poppler-utils",
                p.display()
            );
            return Some(p);
        }
        let p = PathBuf::from("/usr/bin/pdftotext");
        if runs(&p) { Some(p) } else { None }
    })
    .as_deref()
}

fn runs(p: &Path) -> bool {
    Command::new(p)
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A word as `pdftotext -bbox` reports it: text and box, y from the top of the page.
#[derive(Debug)]
struct Word {
    text: String,
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
}

fn attr(line: &str, name: &str) -> f32 {
    let start = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let end = start + line[start..].find('"').unwrap();
    line[start..end].parse().unwrap()
}

/// Page 1's words and height by pdftotext, or `None` (after a loud message) without it.
fn pdftotext_words(pdf: &[u8]) -> Option<(f32, Vec<Word>)> {
    let Some(tool) = pdftotext_path() else {
        eprintln!(
            "\n*** SKIPPED: pdftotext not found; apt-get install poppler-utils (or set \
             CAMR_PDFTOTEXT). The check against an independent extractor did NOT run. ***\n"
        );
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new(tool)
        .args(["-bbox", "-f", "1", "-l", "1"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let html = String::from_utf8(out.stdout).unwrap();
    let page = html.lines().find(|l| l.contains("<page ")).unwrap();
    let height = attr(page, "height");
    let words = html
        .lines()
        .filter(|l| l.trim_start().starts_with("<word "))
        .map(|l| {
            let text_start = l.find('>').unwrap() + 1;
            let text_end = l.rfind("</word>").unwrap();
            Word {
                text: l[text_start..text_end].to_string(),
                x0: attr(l, "xMin"),
                y0: attr(l, "yMin"),
                x1: attr(l, "xMax"),
                y1: attr(l, "yMax"),
            }
        })
        .collect();
    Some((height, words))
}

/// Where `keyword` is by pdftotext, as `[x0, y0, x1, y1]` in PDF user space (y up): the word
/// containing it, narrowed to the keyword's characters (all full-width here, one em each).
fn extractor_box(height: f32, words: &[Word], keyword: &str) -> [f32; 4] {
    let w = words
        .iter()
        .find(|w| w.text.contains(keyword))
        .unwrap_or_else(|| panic!("pdftotext finds no word with {keyword}: {words:?}"));
    let chars: Vec<char> = w.text.chars().collect();
    let kw: Vec<char> = keyword.chars().collect();
    let at = (0..chars.len())
        .find(|&i| chars[i..].starts_with(&kw))
        .unwrap();
    let per = (w.x1 - w.x0) / chars.len() as f32;
    [
        w.x0 + per * at as f32,
        height - w.y1,
        w.x0 + per * (at + kw.len()) as f32,
        height - w.y0,
    ]
}

/// The keyword is found once, and its box and the seal's rectangle (what sealing places,
/// `camr::seal::locate_keyword`) are centred on where the extractor says it is: along the
/// line within `tolerance` points, across it within the extractor's box.
fn lands_on(pdf: &[u8], keyword: &str, expected: [f32; 4], tolerance: f32) {
    let doc = Document::load_mem(pdf).unwrap();
    let hits = find_keyword(&doc, keyword).unwrap_or_else(|e| {
        panic!(
            "{keyword}: {e}; the page reads {:?}",
            page_text(&doc, 1).unwrap()
        )
    });
    assert_eq!(hits.len(), 1, "{keyword}: {hits:?}");
    let hit = &hits[0];
    let (cx, cy) = hit.centre();
    let ex = (expected[0] + expected[2]) / 2.0;
    // Across the line: the centre within the extractor's box (extractors size Type3 glyphs
    // from `/FontBBox`, taller than the 0.2 em below / 0.8 em above the baseline here).
    let inside = |y: f32| y >= expected[1] - tolerance && y <= expected[3] + tolerance;
    assert!(
        (cx - ex).abs() <= tolerance && inside(cy),
        "{keyword}: found at {hit:?} (centre {cx},{cy}), the extractor says {expected:?}"
    );
    let width = expected[2] - expected[0];
    assert!(
        (hit.width - width).abs() <= tolerance,
        "{keyword}: {hit:?} vs {expected:?}"
    );
    let rects = camr::seal::locate_keyword(pdf, keyword, 60.0, 60.0).unwrap();
    assert_eq!(rects.len(), 1);
    let (page, [x, y, w, h]) = rects[0];
    assert_eq!(page, 1);
    assert!(
        (x + w / 2.0 - ex).abs() <= tolerance && inside(y + h / 2.0),
        "{keyword}: the seal at {:?} is not on {expected:?}",
        rects[0].1
    );
}

fn check_against_pdftotext(pdf: &[u8], keywords: &[&str]) {
    let Some((height, words)) = pdftotext_words(pdf) else {
        return;
    };
    for keyword in keywords {
        lands_on(pdf, keyword, extractor_box(height, &words, keyword), 2.0);
    }
}

const KEYWORDS: &[&str] = &["投标函", "报价", "招标人", "盖章", "某某建设有限公司"];

#[test]
fn chromium_print_type3_and_cid_fonts_keywords_are_found_where_pdftotext_sees_them() {
    let pdf = fixture("chromium-skia.pdf");
    let doc = Document::load_mem(&pdf).unwrap();
    let text = page_text(&doc, 1).unwrap();
    for keyword in KEYWORDS {
        assert!(text.contains(keyword), "{keyword} not in {text:?}");
    }
    check_against_pdftotext(&pdf, KEYWORDS);
}

#[test]
fn libreoffice_export_keywords_are_read_through_to_unicode_not_the_builtin_encoding() {
    let pdf = fixture("libreoffice-writer.pdf");
    let doc = Document::load_mem(&pdf).unwrap();
    let text = page_text(&doc, 1).unwrap();
    for keyword in KEYWORDS {
        assert!(text.contains(keyword), "{keyword} not in {text:?}");
    }
    check_against_pdftotext(&pdf, KEYWORDS);
}

/// A ToUnicode CMap of `(code, character)` pairs for codes of `bytes` bytes.
fn to_unicode(doc: &mut Document, bytes: usize, map: &[(u32, char)]) -> Object {
    let hex = |c: u32| format!("{c:0width$X}", width = bytes * 2);
    let mut cmap = format!(
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
         /CMapName /Adobe-Identity-UCS def /CMapType 2 def\n\
         1 begincodespacerange <{}> <{}> endcodespacerange\n{} beginbfchar\n",
        hex(0),
        hex(if bytes == 1 { 0xff } else { 0xffff }),
        map.len()
    );
    for (code, ch) in map {
        cmap.push_str(&format!("<{}> <{:04X}>\n", hex(*code), *ch as u32));
    }
    cmap.push_str("endbfchar endcmap CMapName currentdict /CMap defineresource pop end end\n");
    Object::Reference(doc.add_object(Stream::new(dictionary! {}, cmap.into_bytes())))
}

/// One-glyph Type3 font (glyph space 1/256 of an em, as Chromium writes them), no ToUnicode.
fn type3(doc: &mut Document) -> Object {
    let proc = doc.add_object(Stream::new(
        dictionary! {},
        b"256 0 0 0 256 256 d1 0 0 256 256 re f".to_vec(),
    ));
    Object::Reference(doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type3",
        "FontMatrix" => vec![(1.0f32 / 256.0).into(), 0.into(), 0.into(),
                             (1.0f32 / 256.0).into(), 0.into(), 0.into()],
        "FontBBox" => vec![0.into(), 0.into(), 256.into(), 256.into()],
        "FirstChar" => 1, "LastChar" => 1, "Widths" => vec![256.into()],
        "Encoding" => dictionary! { "Differences" => vec![1.into(), Object::Name(b"g1".to_vec())] },
        "CharProcs" => dictionary! { "g1" => proc },
        "Resources" => dictionary! {},
    }))
}

/// A Word-like CJK document (A4): 投标报价 in a Type0/CID font at (100, 700), 盖章 in a simple
/// font with `/Differences` glyph names at (100, 650), 签字 as two one-glyph Type3 fonts in
/// an `/ActualText` span at (100, 600); 12 pt, one em per character.
fn word_like() -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let cid_map = to_unicode(
        &mut doc,
        2,
        &[
            (0x0101, '投'),
            (0x0102, '标'),
            (0x0103, '报'),
            (0x0104, '价'),
        ],
    );
    let descendant = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "CIDFontType2", "BaseFont" => "ABCDEF+SimSun",
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"), "Supplement" => 0,
        },
        "DW" => 1000,
        "W" => vec![0x0101.into(), Object::Array(vec![1000.into(), 1000.into()])],
    });
    let cid = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "ABCDEF+SimSun",
        "Encoding" => "Identity-H", "DescendantFonts" => vec![descendant.into()],
        "ToUnicode" => cid_map,
    });
    let simple_map = to_unicode(&mut doc, 1, &[(1, '盖'), (2, '章')]);
    let simple = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "TrueType", "BaseFont" => "BCDEFG+SimHei",
        "FirstChar" => 1, "LastChar" => 2, "Widths" => vec![1000.into(), 1000.into()],
        "Encoding" => dictionary! {
            "Type" => "Encoding", "BaseEncoding" => "WinAnsiEncoding",
            "Differences" => vec![1.into(), Object::Name(b"g1".to_vec()), Object::Name(b"g2".to_vec())],
        },
        "ToUnicode" => simple_map,
    });
    let t3a = type3(&mut doc);
    let t3b = type3(&mut doc);
    let content = "BT /F1 12 Tf 1 0 0 1 100 700 Tm <0101010201030104> Tj ET\n\
                   BT /F2 12 Tf 100 650 Td <0102> Tj ET\n\
                   /Span <</ActualText <FEFF7B7E5B57>>> BDC\n\
                   BT /F3 12 Tf 100 600 Td <01> Tj /F4 12 Tf 12 0 Td <01> Tj ET\n\
                   EMC\n";
    let content = doc.add_object(Stream::new(dictionary! {}, content.as_bytes().to_vec()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "Resources" => dictionary! { "Font" => dictionary! {
            "F1" => cid, "F2" => simple, "F3" => t3a, "F4" => t3b,
        } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[test]
fn word_like_cid_differences_and_actual_text_keywords_land_where_they_were_written() {
    let pdf = word_like();
    // Where the text was written: x from the origin, one 12 pt em per character; y 0.2 em
    // below to 0.8 em above the baseline.
    let line = |x0: f32, chars: f32, base: f32| [x0, base - 2.4, x0 + 12.0 * chars, base + 9.6];
    lands_on(&pdf, "投标报价", line(100.0, 4.0, 700.0), 0.5);
    lands_on(&pdf, "报价", line(124.0, 2.0, 700.0), 0.5);
    lands_on(&pdf, "盖章", line(100.0, 2.0, 650.0), 0.5);
    lands_on(&pdf, "签字", line(100.0, 2.0, 600.0), 0.5);
    // The ActualText stands for its glyphs: the glyphs' own codes add nothing.
    let doc = Document::load_mem(&pdf).unwrap();
    assert_eq!(
        page_text(&doc, 1).unwrap().replace(char::is_whitespace, ""),
        "投标报价盖章签字"
    );
    check_against_pdftotext(&pdf, &["投标报价", "盖章", "签字"]);
}
