//! What a page's text is and where each character stands, as a text extractor reads it — the
//! input of the keyword search ([`super::locate::find_keyword`]).
//!
//! Each page's content stream is interpreted: `q`/`Q`/`cm` for the current transformation
//! matrix, `BT`/`ET`, `Tf`, `Tc`, `Tw`, `Tz`, `TL`, `Ts`, `Tm`, `Td`, `TD`, `T*`, `Tj`, `TJ`,
//! `'` and `"` for the text matrix, `Do` of form XObjects (nested up to [`MAX_FORM_DEPTH`]),
//! and marked content (`BMC`, `BDC`, `EMC`).
//!
//! Characters are read the way text extractors (pdftotext, pdf.js) read them, because that is
//! what the user searched the document with:
//!
//! 1. `/ActualText` of a marked-content span (PDF 32000-1 §14.9.4) replaces the glyphs shown
//!    inside it, with their joint box: Chromium (Skia) prints CJK text drawn with a fallback
//!    font as one-glyph Type3 fonts wrapped in `/Span <</ActualText …>> BDC`.
//! 2. Otherwise the font's `/ToUnicode` CMap, whatever the font's `/Encoding` says (lopdf
//!    alone prefers `/Encoding`, which turns the glyph names and CIDs of subset CJK fonts into
//!    Latin letters or nothing).
//! 3. Otherwise the encoding: WinAnsi, Standard, MacRoman, `/Differences` for simple fonts;
//!    `UniGB-UCS2-H` / `UniGB-UTF16-H` for composite (Type0) fonts.
//!
//! Codes of composite fonts are two bytes (`Identity-H`, `UniGB-UCS2-H`, ...), or one or two
//! bytes for the EUC and GBK CMaps (`GBK-EUC-H`, `GB-EUC-H`: a lead byte from 0x81 starts a
//! two-byte code). Widths come from `/Widths` (simple fonts; Type3 widths through the font's
//! `/FontMatrix`), `/W` and `/DW` (CID fonts) or, for the standard 14 fonts without
//! `/Widths`, built-in Helvetica, Times and Courier metrics for ASCII.
//!
//! Not handled: vertical writing (`Identity-V`), text in annotations' appearances, text drawn
//! as paths or images (scanned pages), fonts whose only map to Unicode is inside the embedded
//! font program, and clipping (hidden text is found too). Box heights are estimated (0.2 em
//! below the baseline to 0.8 em above it). Interpretation is bounded: [`MAX_OPERATIONS`]
//! operators per page (forms included), [`MAX_FORM_DEPTH`] nested forms, [`MAX_CONTENT`]
//! bytes of content per stream, [`MAX_MARKED_DEPTH`] nested marked-content spans.

use std::collections::HashMap;
use std::rc::Rc;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Encoding, Object, ObjectId};

use super::SealError;
use super::locate::{PageGeometry, inherited};

/// Deepest nesting of form XObjects followed when looking for text.
pub const MAX_FORM_DEPTH: usize = 8;

/// Largest decompressed content of one page (or form) interpreted, in bytes.
pub const MAX_CONTENT: usize = 64 * 1024 * 1024;

/// Most content operators interpreted for one page, form XObjects included.
pub const MAX_OPERATIONS: usize = 4_000_000;

/// Deepest nesting of marked-content spans kept track of (deeper ones are read through).
pub const MAX_MARKED_DEPTH: usize = 256;

/// Most characters kept for one page.
const MAX_GLYPHS: usize = 2_000_000;

/// Longest `/ActualText` kept, in characters.
const MAX_ACTUAL_TEXT: usize = 4096;

type Matrix = [f32; 6];

const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `a × b` (apply a, then b), PDF's row-vector convention.
fn mul(a: &Matrix, b: &Matrix) -> Matrix {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]
}

fn apply(m: &Matrix, x: f32, y: f32) -> (f32, f32) {
    (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])
}

/// How a font's strings split into character codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codes {
    /// Simple fonts (Type1, TrueType, Type3): one byte.
    One,
    /// Composite fonts with a two-byte CMap (`Identity-H`, `UniGB-UCS2-H`, ...).
    Two,
    /// Composite fonts with an EUC or GBK CMap: bytes from 0x81 lead a two-byte code.
    Euc,
}

/// Font metrics and decoding, as far as a keyword search needs them.
struct FontInfo<'a> {
    /// The `/ToUnicode` CMap, which wins over `/Encoding` as in every text extractor.
    to_unicode: Option<Encoding<'static>>,
    encoding: Option<Encoding<'a>>,
    codes: Codes,
    /// Glyph space to text space: 1/1000, or a Type3 font's `/FontMatrix` scale.
    glyph_scale: f32,
    first_char: i64,
    widths: Vec<f32>,
    cid_widths: HashMap<u32, f32>,
    default_width: f32,
    standard: Option<&'static [u16; 95]>,
    monospace: bool,
}

impl FontInfo<'_> {
    /// The character codes of a shown string, as byte slices.
    fn split<'s>(&self, s: &'s [u8]) -> Vec<&'s [u8]> {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            let n = match self.codes {
                Codes::One => 1,
                Codes::Two => 2,
                Codes::Euc if s[i] >= 0x81 => 2,
                Codes::Euc => 1,
            };
            let end = (i + n).min(s.len());
            out.push(&s[i..end]);
            i = end;
        }
        out
    }

    /// The text of one code: `/ToUnicode` first, then the encoding.
    fn text(&self, code_bytes: &[u8]) -> String {
        if let Some(text) = self
            .to_unicode
            .as_ref()
            .and_then(|m| m.bytes_to_string(code_bytes).ok())
            .filter(|t| !t.is_empty() && !t.contains('\u{fffd}'))
        {
            return text;
        }
        match &self.encoding {
            Some(enc) => enc.bytes_to_string(code_bytes).unwrap_or_default(),
            None => String::from_utf8_lossy(code_bytes).into_owned(),
        }
    }

    /// Advance of a code in text space (ems).
    fn advance(&self, code: u32, text: &str) -> f32 {
        self.width(code, text) * self.glyph_scale
    }

    /// Width of a code in glyph space (thousandths of an em but for Type3 fonts).
    fn width(&self, code: u32, text: &str) -> f32 {
        if self.codes != Codes::One {
            return self
                .cid_widths
                .get(&code)
                .copied()
                .unwrap_or(self.default_width);
        }
        let idx = i64::from(code) - self.first_char;
        if let Some(w) = usize::try_from(idx).ok().and_then(|i| self.widths.get(i)) {
            return *w;
        }
        if self.monospace {
            return 600.0;
        }
        if let Some(table) = self.standard {
            let mut chars = text.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                let c = c as u32;
                if (32..127).contains(&c) {
                    return f32::from(table[(c - 32) as usize]);
                }
            }
        }
        self.default_width
    }
}

fn deref<'a>(doc: &'a Document, o: &'a Object) -> &'a Object {
    match o {
        Object::Reference(id) => doc.get_object(*id).unwrap_or(o),
        o => o,
    }
}

fn numbers(doc: &Document, o: &Object) -> Vec<f32> {
    deref(doc, o)
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| deref(doc, x).as_float().unwrap_or(0.0))
                .collect()
        })
        .unwrap_or_default()
}

fn font_info<'a>(doc: &'a Document, font: &'a Dictionary) -> FontInfo<'a> {
    let subtype = font
        .get(b"Subtype")
        .and_then(Object::as_name)
        .unwrap_or(b"");
    let base = font
        .get(b"BaseFont")
        .and_then(Object::as_name)
        .unwrap_or(b"");
    // Drop a subset prefix "ABCDEF+".
    let base = match base.iter().position(|&b| b == b'+') {
        Some(6) => &base[7..],
        _ => base,
    };
    let base = String::from_utf8_lossy(base).to_ascii_lowercase();
    let encoding = font.get_font_encoding_with_limit(doc, MAX_CONTENT).ok();
    let codes = if subtype != b"Type0" {
        Codes::One
    } else {
        match font
            .get(b"Encoding")
            .map(|o| deref(doc, o))
            .and_then(Object::as_name)
        {
            Ok(name) if is_euc_cmap(name) => Codes::Euc,
            _ => Codes::Two,
        }
    };
    let mut info = FontInfo {
        to_unicode: to_unicode(doc, font),
        encoding,
        codes,
        glyph_scale: 0.001,
        first_char: 0,
        widths: Vec::new(),
        cid_widths: HashMap::new(),
        default_width: 500.0,
        standard: None,
        monospace: false,
    };
    if codes != Codes::One {
        info.default_width = 1000.0;
        let descendant = font
            .get(b"DescendantFonts")
            .map(|o| deref(doc, o))
            .and_then(Object::as_array)
            .ok()
            .and_then(|a| a.first())
            .map(|o| deref(doc, o))
            .and_then(|o| o.as_dict().ok());
        if let Some(d) = descendant {
            if let Ok(dw) = d.get(b"DW").and_then(Object::as_float) {
                info.default_width = dw;
            }
            if let Ok(w) = d.get(b"W") {
                info.cid_widths = cid_widths(doc, deref(doc, w));
            }
        }
        return info;
    }
    info.first_char = font.get(b"FirstChar").and_then(Object::as_i64).unwrap_or(0);
    if let Ok(w) = font.get(b"Widths") {
        info.widths = numbers(doc, w);
    }
    if let Ok(mw) = font
        .get(b"FontDescriptor")
        .and_then(|fd| deref(doc, fd).as_dict())
        .and_then(|d| d.get(b"MissingWidth"))
        .and_then(Object::as_float)
    {
        info.default_width = mw;
    }
    if subtype == b"Type3" {
        // Type3 glyphs are drawn in their own space; `/FontMatrix` maps it to text space
        // (Chromium writes [1/256 0 0 -1/256 0 0]).
        let m = font
            .get(b"FontMatrix")
            .map(|m| numbers(doc, m))
            .unwrap_or_default();
        if let Some(a) = m.first().copied().filter(|a| a.is_finite() && *a != 0.0) {
            info.glyph_scale = a.abs();
        }
        return info;
    }
    if base.starts_with("courier") {
        info.monospace = info.widths.is_empty();
    } else if base.starts_with("times") {
        info.standard = Some(&TIMES_ROMAN);
    } else {
        // Helvetica, Arial and anything unknown: Helvetica's metrics are the usual fallback.
        info.standard = Some(&HELVETICA);
    }
    info
}

/// The predefined CMaps whose codes are one or two bytes (GB 2312 / GBK in EUC form).
fn is_euc_cmap(name: &[u8]) -> bool {
    let name = String::from_utf8_lossy(name);
    name.contains("EUC") || name.starts_with("GBK") || name.starts_with("GBT")
}

/// The font's `/ToUnicode` CMap, when it has one that parses (bounded by [`MAX_CONTENT`]).
/// lopdf reads `/ToUnicode` only for fonts without `/Encoding`, so it is read here from a
/// font dictionary that has nothing else.
fn to_unicode(doc: &Document, font: &Dictionary) -> Option<Encoding<'static>> {
    let cmap = font.get(b"ToUnicode").ok()?;
    let mut only = Dictionary::new();
    only.set("Type", Object::Name(b"Font".to_vec()));
    only.set("ToUnicode", cmap.clone());
    match only.get_font_encoding_with_limit(doc, MAX_CONTENT).ok()? {
        Encoding::UnicodeMapEncoding(cmap) => Some(Encoding::UnicodeMapEncoding(cmap)),
        _ => None,
    }
}

/// `/W` of a CID font: `c [w1 w2 …]` and `c_first c_last w` entries.
fn cid_widths(doc: &Document, w: &Object) -> HashMap<u32, f32> {
    let mut out = HashMap::new();
    let Ok(items) = w.as_array() else {
        return out;
    };
    // CIDs of two-byte codes are below 65536; a budget bounds the work on hostile arrays.
    let mut budget: usize = 1 << 18;
    let mut i = 0;
    while i < items.len() && budget > 0 {
        let Some(first) = deref(doc, &items[i])
            .as_i64()
            .ok()
            .and_then(|v| u32::try_from(v).ok())
        else {
            break;
        };
        match items.get(i + 1).map(|o| deref(doc, o)) {
            Some(Object::Array(ws)) => {
                for (k, w) in ws.iter().enumerate().take(budget.min(65_536)) {
                    let cid = first.saturating_add(u32::try_from(k).unwrap_or(u32::MAX));
                    out.insert(cid, deref(doc, w).as_float().unwrap_or(1000.0));
                    budget -= 1;
                }
                i += 2;
            }
            Some(last) => {
                let Some(last) = last.as_i64().ok().and_then(|v| u32::try_from(v).ok()) else {
                    break;
                };
                let width = items
                    .get(i + 2)
                    .and_then(|o| deref(doc, o).as_float().ok())
                    .unwrap_or(1000.0);
                for cid in first..=last.min(0xffff) {
                    if budget == 0 {
                        break;
                    }
                    out.insert(cid, width);
                    budget -= 1;
                }
                i += 3;
            }
            None => break,
        }
    }
    out
}

/// One shown character (or several, for a ligature) with its box in user space.
pub(super) struct Glyph {
    pub(super) text: String,
    pub(super) bbox: [f32; 4],
}

#[derive(Clone)]
struct GraphicsState {
    ctm: Matrix,
    char_spacing: f32,
    word_spacing: f32,
    scale: f32,
    leading: f32,
    rise: f32,
    font: Option<ObjectKey>,
    size: f32,
}

/// A font by object id, or by resource name when written directly into the resources.
#[derive(Clone, PartialEq, Eq, Hash)]
enum ObjectKey {
    Id(ObjectId),
    Direct(usize, Vec<u8>),
}

struct Interpreter<'a> {
    doc: &'a Document,
    fonts: HashMap<ObjectKey, Rc<FontInfo<'a>>>,
    glyphs: Vec<Glyph>,
    /// Decoded form XObjects, by id.
    forms: HashMap<ObjectId, Rc<Content>>,
    /// Operators left to interpret on this page (forms included): a form drawing itself
    /// many times must not take exponential time.
    ops_left: usize,
    /// Open marked-content spans, outermost first: `Some` for a span with `/ActualText`.
    marked: Vec<Option<ActualText>>,
}

/// An open `/ActualText` span: its text and the box of the glyphs shown in it so far.
struct ActualText {
    text: String,
    bbox: Option<[f32; 4]>,
}

fn union(a: [f32; 4], b: [f32; 4]) -> [f32; 4] {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

impl<'a> Interpreter<'a> {
    fn lookup_font(
        &mut self,
        resources: Option<&'a Dictionary>,
        depth: usize,
        name: &[u8],
    ) -> Option<ObjectKey> {
        let fonts = resources?.get(b"Font").ok().map(|o| deref(self.doc, o))?;
        let entry = fonts.as_dict().ok()?.get(name).ok()?;
        let (key, dict) = match entry {
            Object::Reference(id) => (ObjectKey::Id(*id), self.doc.get_dictionary(*id).ok()?),
            Object::Dictionary(d) => (ObjectKey::Direct(depth, name.to_vec()), d),
            _ => return None,
        };
        if !self.fonts.contains_key(&key) {
            self.fonts
                .insert(key.clone(), Rc::new(font_info(self.doc, dict)));
        }
        Some(key)
    }

    fn push(&mut self, glyph: Glyph) {
        if self.glyphs.len() < MAX_GLYPHS {
            self.glyphs.push(glyph);
        }
    }

    /// `BMC` / `BDC`: opens a span, with its `/ActualText` when the properties (inline, or
    /// named in the resources' `/Properties`) have one.
    fn begin_marked(&mut self, resources: Option<&'a Dictionary>, props: Option<&Object>) {
        let doc = self.doc;
        let dict = match props {
            Some(Object::Dictionary(d)) => Some(d),
            Some(Object::Name(name)) => resources
                .and_then(|r| r.get(b"Properties").ok())
                .map(|o| deref(doc, o))
                .and_then(|o| o.as_dict().ok())
                .and_then(|d| d.get(name).ok())
                .map(|o| deref(doc, o))
                .and_then(|o| o.as_dict().ok()),
            _ => None,
        };
        let actual = dict
            .and_then(|d| d.get(b"ActualText").ok())
            .map(|o| deref(doc, o))
            .and_then(|o| lopdf::decode_text_string(o).ok())
            .map(|text| ActualText {
                text: text.chars().take(MAX_ACTUAL_TEXT).collect(),
                bbox: None,
            });
        if self.marked.len() < MAX_MARKED_DEPTH {
            self.marked.push(actual);
        }
    }

    /// `EMC`: closes the innermost span; an `/ActualText` span that showed glyphs becomes one
    /// glyph with their joint box (nested spans inside one with `/ActualText` add nothing).
    fn end_marked(&mut self) {
        if let Some(Some(span)) = self.marked.pop()
            && let Some(bbox) = span.bbox
        {
            if let Some(outer) = self.marked.iter_mut().flatten().next() {
                outer.bbox = Some(outer.bbox.map_or(bbox, |b| union(b, bbox)));
            } else if !span.text.is_empty() {
                self.push(Glyph {
                    text: span.text,
                    bbox,
                });
            }
        }
    }

    fn run(
        &mut self,
        content: &Content,
        resources: Option<&'a Dictionary>,
        ctm: Matrix,
        depth: usize,
    ) -> Result<(), SealError> {
        let mut gs = GraphicsState {
            ctm,
            char_spacing: 0.0,
            word_spacing: 0.0,
            scale: 1.0,
            leading: 0.0,
            rise: 0.0,
            font: None,
            size: 0.0,
        };
        let mut stack: Vec<GraphicsState> = Vec::new();
        // Spans a form leaves open end with it.
        let marked_at_start = self.marked.len();
        let mut tm = IDENTITY;
        let mut tlm = IDENTITY;
        for op in &content.operations {
            self.ops_left = self.ops_left.checked_sub(1).ok_or_else(|| {
                SealError::malformed(format!(
                    "a page draws more than {MAX_OPERATIONS} content operators (forms included)"
                ))
            })?;
            let f = |i: usize| -> f32 {
                op.operands
                    .get(i)
                    .and_then(|o| o.as_float().ok())
                    .filter(|v| v.is_finite())
                    .unwrap_or(0.0)
            };
            match op.operator.as_str() {
                "q" if stack.len() < 1024 => stack.push(gs.clone()),
                "Q" => {
                    if let Some(s) = stack.pop() {
                        gs = s;
                    }
                }
                "cm" => gs.ctm = mul(&[f(0), f(1), f(2), f(3), f(4), f(5)], &gs.ctm),
                "BT" => {
                    tm = IDENTITY;
                    tlm = IDENTITY;
                }
                "Tc" => gs.char_spacing = f(0),
                "Tw" => gs.word_spacing = f(0),
                "Tz" => gs.scale = f(0) / 100.0,
                "TL" => gs.leading = f(0),
                "Ts" => gs.rise = f(0),
                "Tf" => {
                    gs.size = f(1);
                    gs.font = op
                        .operands
                        .first()
                        .and_then(|o| o.as_name().ok())
                        .and_then(|n| self.lookup_font(resources, depth, n));
                }
                "Td" => {
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, f(0), f(1)], &tlm);
                    tm = tlm;
                }
                "TD" => {
                    gs.leading = -f(1);
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, f(0), f(1)], &tlm);
                    tm = tlm;
                }
                "Tm" => {
                    tlm = [f(0), f(1), f(2), f(3), f(4), f(5)];
                    tm = tlm;
                }
                "T*" => {
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -gs.leading], &tlm);
                    tm = tlm;
                }
                "Tj" | "'" | "\"" => {
                    if op.operator == "\"" {
                        gs.word_spacing = f(0);
                        gs.char_spacing = f(1);
                    }
                    if op.operator != "Tj" {
                        tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -gs.leading], &tlm);
                        tm = tlm;
                    }
                    if let Some(Ok(s)) = op.operands.last().map(Object::as_str) {
                        self.show(&gs, &mut tm, s);
                    }
                }
                "TJ" => {
                    if let Some(Ok(items)) = op.operands.first().map(Object::as_array) {
                        for item in items {
                            match item {
                                Object::String(s, _) => self.show(&gs, &mut tm, s),
                                o => {
                                    let adj = o.as_float().unwrap_or(0.0);
                                    let tx = -adj / 1000.0 * gs.size * gs.scale;
                                    tm = mul(&[1.0, 0.0, 0.0, 1.0, tx, 0.0], &tm);
                                }
                            }
                        }
                    }
                }
                "BMC" => self.begin_marked(resources, None),
                "BDC" => self.begin_marked(resources, op.operands.get(1)),
                "EMC" if self.marked.len() > marked_at_start => self.end_marked(),
                "Do" if depth < MAX_FORM_DEPTH => {
                    if let Some(name) = op.operands.first().and_then(|o| o.as_name().ok()) {
                        self.form(resources, name, &gs.ctm, depth)?;
                    }
                }
                _ => {}
            }
        }
        while self.marked.len() > marked_at_start {
            self.end_marked();
        }
        Ok(())
    }

    fn form(
        &mut self,
        resources: Option<&'a Dictionary>,
        name: &[u8],
        ctm: &Matrix,
        depth: usize,
    ) -> Result<(), SealError> {
        let doc = self.doc;
        let Some(entry) = resources
            .and_then(|r| r.get(b"XObject").ok())
            .map(|o| deref(doc, o))
            .and_then(|o| o.as_dict().ok())
            .and_then(|d| d.get(name).ok())
        else {
            return Ok(());
        };
        let Ok(stream) = deref(doc, entry).as_stream() else {
            return Ok(());
        };
        if stream.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Form".as_slice()) {
            return Ok(());
        }
        let matrix = stream
            .dict
            .get(b"Matrix")
            .map(|m| numbers(doc, m))
            .ok()
            .filter(|m| m.len() == 6)
            .map_or(IDENTITY, |m| [m[0], m[1], m[2], m[3], m[4], m[5]]);
        let form_resources = stream
            .dict
            .get(b"Resources")
            .map(|o| deref(doc, o))
            .ok()
            .and_then(|o| o.as_dict().ok())
            .or(resources);
        let id = entry.as_reference().ok();
        let content = match id.and_then(|id| self.forms.get(&id)) {
            Some(c) => Rc::clone(c),
            None => {
                let bytes = stream
                    .get_plain_content_with_limit(MAX_CONTENT)
                    .map_err(|e| SealError::malformed(format!("unreadable form XObject ({e})")))?;
                let c = Rc::new(decode(&bytes)?);
                if let Some(id) = id {
                    self.forms.insert(id, Rc::clone(&c));
                }
                c
            }
        };
        self.run(&content, form_resources, mul(&matrix, ctm), depth + 1)
    }

    fn show(&mut self, gs: &GraphicsState, tm: &mut Matrix, s: &[u8]) {
        let Some(font) = gs.font.as_ref().and_then(|k| self.fonts.get(k)).cloned() else {
            return;
        };
        for code_bytes in font.split(s) {
            let code = code_bytes
                .iter()
                .fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
            let text = font.text(code_bytes);
            let w0 = font.advance(code, &text);
            let trm = mul(
                &[gs.size * gs.scale, 0.0, 0.0, gs.size, 0.0, gs.rise],
                &mul(tm, &gs.ctm),
            );
            let corners = [
                apply(&trm, 0.0, -0.2),
                apply(&trm, w0, -0.2),
                apply(&trm, 0.0, 0.8),
                apply(&trm, w0, 0.8),
            ];
            let mut bbox = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
            for (x, y) in corners {
                bbox = [
                    bbox[0].min(x),
                    bbox[1].min(y),
                    bbox[2].max(x),
                    bbox[3].max(y),
                ];
            }
            let space = if code_bytes.len() == 1 && code == 32 {
                gs.word_spacing
            } else {
                0.0
            };
            let tx = (w0 * gs.size + gs.char_spacing + space) * gs.scale;
            *tm = mul(&[1.0, 0.0, 0.0, 1.0, tx, 0.0], tm);
            if let Some(span) = self.marked.iter_mut().flatten().next() {
                // Inside an `/ActualText` span: the span's text stands for these glyphs.
                span.bbox = Some(span.bbox.map_or(bbox, |b| union(b, bbox)));
            } else if !text.is_empty() {
                self.push(Glyph { text, bbox });
            }
        }
    }
}

fn decode(content: &[u8]) -> Result<Content, SealError> {
    Content::decode(content)
        .map_err(|e| SealError::malformed(format!("unreadable content stream ({e})")))
}

fn page_resources<'a>(
    doc: &'a Document,
    page: &'a Dictionary,
) -> Result<Option<&'a Dictionary>, SealError> {
    Ok(inherited(doc, page, b"Resources")?.and_then(|o| o.as_dict().ok()))
}

/// The text of a page as shown characters with boxes, in content-stream order.
pub(super) fn page_glyphs(doc: &Document, page: &PageGeometry) -> Result<Vec<Glyph>, SealError> {
    let dict = doc
        .get_dictionary(page.id)
        .map_err(|e| SealError::malformed(format!("page {} ({e})", page.number)))?;
    let resources = page_resources(doc, dict)?;
    let content = doc
        .get_page_content_with_limit(page.id, MAX_CONTENT)
        .map_err(|e| {
            SealError::malformed(format!("page {}: unreadable content ({e})", page.number))
        })?;
    let mut it = Interpreter {
        doc,
        fonts: HashMap::new(),
        glyphs: Vec::new(),
        forms: HashMap::new(),
        ops_left: MAX_OPERATIONS,
        marked: Vec::new(),
    };
    it.run(&decode(&content)?, resources, IDENTITY, 0)?;
    Ok(it.glyphs)
}

/// Helvetica advance widths (AFM, thousandths of an em) for ASCII 32..=126.
#[rustfmt::skip]
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0..?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P.._
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `..o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,      // p..~
];

/// Times-Roman advance widths (AFM, thousandths of an em) for ASCII 32..=126.
#[rustfmt::skip]
const TIMES_ROMAN: [u16; 95] = [
    250, 333, 408, 500, 500, 833, 778, 180, 333, 333, 500, 564, 250, 333, 250, 278, // ' '../
    500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 278, 278, 564, 564, 564, 444, // 0..?
    921, 722, 667, 667, 722, 611, 556, 722, 722, 333, 389, 722, 611, 889, 722, 722, // @..O
    556, 722, 667, 556, 611, 722, 722, 944, 722, 722, 611, 333, 278, 333, 469, 500, // P.._
    333, 444, 500, 444, 500, 444, 333, 500, 500, 278, 278, 500, 278, 778, 500, 500, // `..o
    500, 500, 333, 389, 278, 500, 500, 722, 500, 500, 444, 480, 200, 480, 541,      // p..~
];
