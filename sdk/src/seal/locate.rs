//! Where a seal goes: the pages' geometry, the rectangles of an every-page or straddle seal
//! (骑缝章), and the positions of a keyword in the text (关键字签章).
//!
//! Rectangles are `[x, y, width, height]` in PDF points in the page's default user space
//! (unrotated, as `/Rect` of an annotation is written).
//!
//! ## Finding text
//!
//! [`find_keyword`] searches the text of each page as `seal::text` reads it (what a text
//! extractor reads: `/ActualText`, `/ToUnicode` CMaps, Type0/CID and Type3 fonts). A keyword
//! matches the text in content-stream order with white space ignored on both sides (`投 标 人`
//! in a justified line matches `投标人`); text split across lines matches only if written in
//! that order with no other characters between.

use std::collections::HashMap;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::SealError;
use super::text::page_glyphs;
pub use super::text::{MAX_CONTENT, MAX_FORM_DEPTH, MAX_OPERATIONS};

/// The page size used when neither a page nor its ancestors have a `/MediaBox` (US Letter,
/// as most viewers do).
pub const DEFAULT_MEDIA_BOX: [f32; 4] = [0.0, 0.0, 612.0, 792.0];

const MAX_TREE_DEPTH: usize = 64;

/// One page: number, object id and boxes (normalised `[x0, y0, x1, y1]`, x0 < x1, y0 < y1).
#[derive(Debug, Clone, PartialEq)]
pub struct PageGeometry {
    /// 1-based page number.
    pub number: u32,
    /// The page object.
    pub id: ObjectId,
    /// `/MediaBox`, inherited from the page tree when the page has none.
    pub media_box: [f32; 4],
    /// `/CropBox` (inherited, clipped to the media box), the media box when absent: the
    /// visible part of the page.
    pub crop_box: [f32; 4],
    /// `/Rotate` (inherited), normalised to 0, 90, 180 or 270.
    pub rotate: u16,
}

impl PageGeometry {
    /// Width of the visible box, in points.
    pub fn width(&self) -> f32 {
        self.crop_box[2] - self.crop_box[0]
    }

    /// Height of the visible box, in points.
    pub fn height(&self) -> f32 {
        self.crop_box[3] - self.crop_box[1]
    }

    /// Width of the page as a reader sees it (turned by `/Rotate`).
    pub fn display_width(&self) -> f32 {
        if self.rotate % 180 == 90 {
            self.height()
        } else {
            self.width()
        }
    }

    /// Height of the page as a reader sees it (turned by `/Rotate`).
    pub fn display_height(&self) -> f32 {
        if self.rotate % 180 == 90 {
            self.width()
        } else {
            self.height()
        }
    }

    /// Maps a rectangle `[x, y, width, height]` as the reader sees the page (from the
    /// lower-left corner of the visible box after `/Rotate`) to the page's default user
    /// space, where `/Rect` is written. Width and height swap on pages turned by 90° or 270°;
    /// the appearance then needs [`super::appearance::upright`] to stand up straight.
    pub fn user_rect(&self, r: [f32; 4]) -> [f32; 4] {
        let [x0, y0, x1, y1] = self.crop_box;
        let [vx, vy, vw, vh] = r;
        match self.rotate {
            90 => [x1 - vy - vh, y0 + vx, vh, vw],
            180 => [x1 - vx - vw, y1 - vy - vh, vw, vh],
            270 => [x0 + vy, y1 - vx - vw, vh, vw],
            _ => [x0 + vx, y0 + vy, vw, vh],
        }
    }
}

/// Where a keyword occurs: page (1-based) and bounding box `x, y, width, height` in the
/// page's default user space.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// 1-based page number.
    pub page: u32,
    /// Left edge.
    pub x: f32,
    /// Bottom edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

impl Hit {
    /// The centre of the box.
    pub fn centre(&self) -> (f32, f32) {
        (self.x + self.width / 2.0, self.y + self.height / 2.0)
    }

    /// A `width`×`height` rectangle centred on the keyword (where a keyword seal goes).
    pub fn centred_rect(&self, width: f32, height: f32) -> [f32; 4] {
        let (cx, cy) = self.centre();
        [cx - width / 2.0, cy - height / 2.0, width, height]
    }
}

pub(super) fn inherited<'a>(
    doc: &'a Document,
    page: &'a Dictionary,
    key: &[u8],
) -> Result<Option<&'a Object>, SealError> {
    let mut node = page;
    for _ in 0..MAX_TREE_DEPTH {
        if let Ok(v) = node.get(key) {
            let v = match v {
                Object::Reference(id) => doc.get_object(*id).map_err(SealError::malformed)?,
                v => v,
            };
            return Ok(Some(v));
        }
        match node.get(b"Parent") {
            Ok(Object::Reference(id)) => {
                node = doc.get_dictionary(*id).map_err(|e| {
                    SealError::malformed(format!("a page's /Parent is not a dictionary ({e})"))
                })?;
            }
            _ => return Ok(None),
        }
    }
    Err(SealError::malformed(
        "the page tree is too deep or has a cycle",
    ))
}

fn rect_of(doc: &Document, obj: &Object) -> Option<[f32; 4]> {
    let arr = obj.as_array().ok()?;
    if arr.len() != 4 {
        return None;
    }
    let mut v = [0.0f32; 4];
    for (slot, o) in v.iter_mut().zip(arr) {
        let o = match o {
            Object::Reference(id) => doc.get_object(*id).ok()?,
            o => o,
        };
        *slot = o.as_float().ok()?;
        if !slot.is_finite() {
            return None;
        }
    }
    let r = [
        v[0].min(v[2]),
        v[1].min(v[3]),
        v[0].max(v[2]),
        v[1].max(v[3]),
    ];
    (r[2] > r[0] && r[3] > r[1]).then_some(r)
}

/// The pages in order with their boxes and rotation. A document without pages is malformed.
pub fn pages(doc: &Document) -> Result<Vec<PageGeometry>, SealError> {
    let ids = doc.get_pages();
    if ids.is_empty() {
        return Err(SealError::malformed("the document has no pages"));
    }
    let mut out = Vec::with_capacity(ids.len());
    for (number, id) in ids {
        let page = doc.get_dictionary(id).map_err(|e| {
            SealError::malformed(format!("page {number} is not a dictionary ({e})"))
        })?;
        let media_box = match inherited(doc, page, b"MediaBox")? {
            Some(o) => rect_of(doc, o).ok_or_else(|| {
                SealError::malformed(format!("page {number} has an unreadable /MediaBox"))
            })?,
            None => DEFAULT_MEDIA_BOX,
        };
        let crop_box = inherited(doc, page, b"CropBox")?
            .and_then(|o| rect_of(doc, o))
            .map(|c| {
                [
                    c[0].max(media_box[0]),
                    c[1].max(media_box[1]),
                    c[2].min(media_box[2]),
                    c[3].min(media_box[3]),
                ]
            })
            .filter(|c| c[2] > c[0] && c[3] > c[1])
            .unwrap_or(media_box);
        let rotate = inherited(doc, page, b"Rotate")?
            .and_then(|o| o.as_i64().ok())
            .unwrap_or(0)
            .rem_euclid(360);
        let rotate = u16::try_from(rotate - rotate % 90).unwrap_or(0);
        out.push(PageGeometry {
            number,
            id,
            media_box,
            crop_box,
            rotate,
        });
    }
    Ok(out)
}

fn check_rect_size(w: f32, h: f32) -> Result<(), SealError> {
    if !(w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0) {
        return Err(SealError::invalid(format!(
            "the seal size must be positive, got {w}×{h} points"
        )));
    }
    Ok(())
}

/// The same rectangle on every page: `rect` is `[x, y, width, height]` from the lower-left
/// corner of each page's visible box as the reader sees it (so pages whose boxes do not
/// start at 0,0, or that are turned by `/Rotate`, get it at the same visible place; see
/// [`PageGeometry::user_rect`]). Returns `(page number, rect in user space)`.
pub fn every_page_rects(
    pages: &[PageGeometry],
    rect: [f32; 4],
) -> Result<Vec<(u32, [f32; 4])>, SealError> {
    check_rect_size(rect[2], rect[3])?;
    if !(rect[0].is_finite() && rect[1].is_finite()) {
        return Err(SealError::invalid(
            "the seal position must be a finite number",
        ));
    }
    Ok(pages
        .iter()
        .map(|p| (p.number, p.user_rect(rect)))
        .collect())
}

/// The widgets of a straddle seal (骑缝章) `w`×`h` points over pages `from..=to` (1-based):
/// on the i-th page of the range a rectangle `w/N` wide (N = number of pages in the range)
/// flush with the right edge of the page's visible box, its bottom `y` points above the
/// box's bottom. Slice i of the image goes there ([`super::appearance::straddle_form`]).
///
/// Edges and `y` are as the reader sees the page: on a page turned by `/Rotate` the
/// rectangle (in user space, see [`PageGeometry::user_rect`]) lies along the edge shown on
/// the right, and the slice's form needs [`super::appearance::upright`] with the page's
/// rotation.
pub fn straddle_rects(
    pages: &[PageGeometry],
    from: u32,
    to: u32,
    w: f32,
    h: f32,
    y: f32,
) -> Result<Vec<(u32, [f32; 4])>, SealError> {
    check_rect_size(w, h)?;
    if !y.is_finite() {
        return Err(SealError::invalid(
            "the seal position must be a finite number",
        ));
    }
    let last = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    if from < 1 || to < from || to > last {
        return Err(SealError::invalid(format!(
            "straddle range {from}-{to} is not within pages 1-{last}"
        )));
    }
    if from == to {
        return Err(SealError::invalid(format!(
            "a straddle seal needs at least two pages, got {from}-{to}"
        )));
    }
    let selected: Vec<&PageGeometry> = pages
        .iter()
        .filter(|p| (from..=to).contains(&p.number))
        .collect();
    let n = selected.len();
    if n == 0 {
        return Err(SealError::invalid(format!("no pages in {from}-{to}")));
    }
    let slice = w / n as f32;
    Ok(selected
        .iter()
        .map(|p| {
            (
                p.number,
                p.user_rect([p.display_width() - slice, y, slice, h]),
            )
        })
        .collect())
}

/// The text of page `number` (1-based) as [`find_keyword`] sees it, for diagnostics.
pub fn page_text(doc: &Document, number: u32) -> Result<String, SealError> {
    let all = pages(doc)?;
    let page = all
        .iter()
        .find(|p| p.number == number)
        .ok_or_else(|| SealError::invalid(format!("no page {number}")))?;
    Ok(page_glyphs(doc, page)?
        .into_iter()
        .map(|g| g.text)
        .collect())
}

/// Every occurrence of `keyword` in the document's text, page by page (see the module
/// documentation for what is interpreted; white space is ignored). A keyword that does not
/// occur is an error naming it (code `INPUT_MALFORMED`).
pub fn find_keyword(doc: &Document, keyword: &str) -> Result<Vec<Hit>, SealError> {
    let needle: Vec<char> = keyword.chars().filter(|c| !c.is_whitespace()).collect();
    if needle.is_empty() {
        return Err(SealError::invalid("the keyword is empty"));
    }
    let mut hits = Vec::new();
    for page in pages(doc)? {
        let glyphs = page_glyphs(doc, &page)?;
        // Characters with the glyph each came from.
        let mut chars: Vec<(char, usize)> = Vec::new();
        for (gi, g) in glyphs.iter().enumerate() {
            chars.extend(
                g.text
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .map(|c| (c, gi)),
            );
        }
        let mut i = 0;
        while i + needle.len() <= chars.len() {
            let matches = chars[i..i + needle.len()]
                .iter()
                .zip(&needle)
                .all(|((c, _), n)| c == n);
            if !matches {
                i += 1;
                continue;
            }
            let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
            for (_, gi) in &chars[i..i + needle.len()] {
                if let Some(g) = glyphs.get(*gi) {
                    b = [
                        b[0].min(g.bbox[0]),
                        b[1].min(g.bbox[1]),
                        b[2].max(g.bbox[2]),
                        b[3].max(g.bbox[3]),
                    ];
                }
            }
            hits.push(Hit {
                page: page.number,
                x: b[0],
                y: b[1],
                width: b[2] - b[0],
                height: b[3] - b[1],
            });
            i += needle.len();
        }
    }
    if hits.is_empty() {
        return Err(SealError::invalid(format!(
            "the keyword \"{}\" does not occur in the document's text",
            crate::crypto::truncate(keyword, 100)
        )));
    }
    Ok(hits)
}

/// The rectangles of a keyword seal (关键字签章): a `w`×`h` rectangle (as the reader sees
/// the page; swapped in user space on pages turned by 90° or 270°, whose forms need
/// [`super::appearance::upright`]) centred on each occurrence of `keyword`
/// ([`find_keyword`]), as `(page, [x, y, width, height])` in user space. A keyword that does
/// not occur is an error naming it.
pub fn keyword_rects(
    doc: &Document,
    keyword: &str,
    w: f32,
    h: f32,
) -> Result<Vec<(u32, [f32; 4])>, SealError> {
    check_rect_size(w, h)?;
    let hits = find_keyword(doc, keyword)?;
    let turned: HashMap<u32, bool> = pages(doc)?
        .iter()
        .map(|p| (p.number, p.rotate % 180 == 90))
        .collect();
    Ok(hits
        .iter()
        .map(|hit| {
            let rect = if turned.get(&hit.page).copied().unwrap_or(false) {
                hit.centred_rect(h, w)
            } else {
                hit.centred_rect(w, h)
            };
            (hit.page, rect)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use lopdf::{Stream, StringFormat, dictionary};

    /// A document with one page per content string, Helvetica as /F1 (WinAnsi), pages of
    /// 595×842 unless `media` says otherwise.
    fn doc_with(contents: &[&str], media: Option<[i64; 4]>) -> Document {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
            "Encoding" => "WinAnsiEncoding",
        });
        let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font } });
        let mut kids = Vec::new();
        for c in contents {
            let content = doc.add_object(Stream::new(dictionary! {}, c.as_bytes().to_vec()));
            let page = doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "Contents" => content,
            });
            kids.push(Object::Reference(page));
        }
        let m = media.unwrap_or([0, 0, 595, 842]);
        let count = kids.len() as i64;
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources,
                "MediaBox" => vec![m[0].into(), m[1].into(), m[2].into(), m[3].into()],
            }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        doc
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 0.05
    }

    #[test]
    fn pages_inherit_boxes_and_rotation() {
        let mut doc = doc_with(&["", ""], Some([0, 0, 600, 800]));
        let ids = doc.get_pages();
        let second = ids[&2];
        let d = doc.get_dictionary_mut(second).unwrap();
        d.set(
            "CropBox",
            vec![10.into(), 20.into(), 590.into(), 900.into()],
        );
        d.set("Rotate", -90);
        let p = pages(&doc).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].media_box, [0.0, 0.0, 600.0, 800.0]);
        assert_eq!(p[0].crop_box, p[0].media_box);
        assert_eq!(p[0].rotate, 0);
        assert_eq!(
            p[1].crop_box,
            [10.0, 20.0, 590.0, 800.0],
            "clipped to the media box"
        );
        assert_eq!(p[1].rotate, 270);
        assert!(close(p[1].width(), 580.0) && close(p[1].height(), 780.0));
    }

    #[test]
    fn no_pages_is_malformed() {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.add_object(
            dictionary! { "Type" => "Pages", "Kids" => Vec::<Object>::new(), "Count" => 0 },
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let e = pages(&doc).unwrap_err();
        assert!(matches!(e, SealError::Malformed { .. }), "{e:?}");
        assert!(find_keyword(&doc, "x").is_err());
    }

    #[test]
    fn every_page_and_straddle_rects() {
        let doc = doc_with(&["", "", "", ""], Some([0, 0, 600, 800]));
        let p = pages(&doc).unwrap();
        let r = every_page_rects(&p, [400.0, 50.0, 120.0, 120.0]).unwrap();
        assert_eq!(r.len(), 4);
        assert!(
            r.iter()
                .all(|(_, rect)| *rect == [400.0, 50.0, 120.0, 120.0])
        );
        assert!(every_page_rects(&p, [0.0, 0.0, -1.0, 5.0]).is_err());

        let s = straddle_rects(&p, 2, 4, 120.0, 120.0, 300.0).unwrap();
        assert_eq!(s.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [2, 3, 4]);
        for (_, rect) in &s {
            assert!(close(rect[0], 560.0) && close(rect[2], 40.0), "{rect:?}");
            assert!(close(rect[0] + rect[2], 600.0), "flush with the right edge");
            assert_eq!((rect[1], rect[3]), (300.0, 120.0));
        }
        assert!(straddle_rects(&p, 0, 2, 120.0, 120.0, 0.0).is_err());
        assert!(straddle_rects(&p, 3, 5, 120.0, 120.0, 0.0).is_err());
        assert!(straddle_rects(&p, 3, 2, 120.0, 120.0, 0.0).is_err());
        assert!(straddle_rects(&p, 2, 2, 120.0, 120.0, 0.0).is_err());
        assert!(straddle_rects(&p, 1, 2, 0.0, 120.0, 0.0).is_err());
    }

    #[test]
    fn rects_follow_the_page_rotation() {
        let mut doc = doc_with(&["", "", "", ""], Some([0, 0, 600, 800]));
        let ids = doc.get_pages();
        for (n, rot) in [(2u32, 90i64), (3, 180), (4, 270)] {
            doc.get_dictionary_mut(ids[&n]).unwrap().set("Rotate", rot);
        }
        let p = pages(&doc).unwrap();
        assert_eq!(
            (p[1].display_width(), p[1].display_height()),
            (800.0, 600.0)
        );
        let r = [10.0, 20.0, 30.0, 40.0];
        assert_eq!(p[0].user_rect(r), [10.0, 20.0, 30.0, 40.0]);
        assert_eq!(p[1].user_rect(r), [540.0, 10.0, 40.0, 30.0]);
        assert_eq!(p[2].user_rect(r), [560.0, 740.0, 30.0, 40.0]);
        assert_eq!(p[3].user_rect(r), [20.0, 760.0, 40.0, 30.0]);
        // The straddle slice lies along the edge the reader sees on the right.
        let s = straddle_rects(&p, 1, 4, 120.0, 100.0, 300.0).unwrap();
        assert_eq!(s[0].1, [570.0, 300.0, 30.0, 100.0]);
        assert_eq!(
            s[1].1,
            [200.0, 770.0, 100.0, 30.0],
            "rotate 90: along the top"
        );
        assert_eq!(
            s[2].1,
            [0.0, 400.0, 30.0, 100.0],
            "rotate 180: along the left"
        );
        assert_eq!(
            s[3].1,
            [300.0, 0.0, 100.0, 30.0],
            "rotate 270: along the bottom"
        );
    }

    #[test]
    fn keyword_in_simple_text() {
        let doc = doc_with(
            &[
                "BT /F1 12 Tf 72 700 Td (Bid form) Tj 0 -20 Td (Signature: ) Tj (here) Tj ET",
                "q 1 0 0 1 100 0 cm BT /F1 10 Tf 2 0 0 2 50 400 Tm [(Sig) 250 (nature)] TJ ET Q",
            ],
            None,
        );
        let hits = find_keyword(&doc, "Signature").unwrap();
        assert_eq!(hits.len(), 2);
        let h = &hits[0];
        assert_eq!(h.page, 1);
        assert!(close(h.x, 72.0), "{h:?}");
        // "Signature" in Helvetica: S667 i222 g556 n556 a556 t278 u556 r333 e556 = 4280.
        assert!(close(h.width, 4.280 * 12.0), "{h:?}");
        assert!(
            close(h.y, 680.0 - 0.2 * 12.0) && close(h.height, 12.0),
            "{h:?}"
        );
        let h = &hits[1];
        assert_eq!(h.page, 2);
        // Tm scales by 2 and cm shifts by 100; the TJ adjustment of 250 adds -2.5 pt · 2.
        assert!(close(h.x, 150.0), "{h:?}");
        let want = (4.280 * 10.0 - 2.5) * 2.0;
        assert!(close(h.width, want), "{h:?} want width {want}");
        assert!(close(h.height, 20.0), "{h:?}");
        let (cx, cy) = h.centre();
        let r = h.centred_rect(100.0, 100.0);
        assert!(close(r[0] + 50.0, cx) && close(r[1] + 50.0, cy));

        // Every occurrence, across Tj operators on one line.
        let hits = find_keyword(&doc, "e").unwrap();
        assert!(hits.len() >= 4);
        let hits = find_keyword(&doc, ": here").unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(page_text(&doc, 1).unwrap(), "Bid formSignature: here");
    }

    #[test]
    fn quote_operators_leading_and_spacing() {
        let doc = doc_with(
            &["BT /F1 10 Tf 14 TL 100 500 Td (first) Tj (second) ' 3 1 (a b) \" ET"],
            None,
        );
        let h = &find_keyword(&doc, "second").unwrap()[0];
        assert!(close(h.x, 100.0) && close(h.y, 486.0 - 2.0), "{h:?}");
        let h = &find_keyword(&doc, "b").unwrap()[0];
        // Line 3 at y 472; "a"(556)+Tc 1, then " "(278)+Tc 1+Tw 3.
        assert!(close(h.y, 472.0 - 2.0), "{h:?}");
        assert!(close(h.x, 100.0 + 5.56 + 1.0 + 2.78 + 1.0 + 3.0), "{h:?}");
    }

    #[test]
    fn keyword_in_form_xobject() {
        let mut doc = doc_with(&["q 1 0 0 1 0 100 cm /Fm Do Q"], None);
        let page = doc.get_pages()[&1];
        let font = {
            let pages_id = doc
                .get_dictionary(page)
                .unwrap()
                .get(b"Parent")
                .unwrap()
                .as_reference()
                .unwrap();
            let res = doc
                .get_dictionary(pages_id)
                .unwrap()
                .get(b"Resources")
                .unwrap()
                .as_reference()
                .unwrap();
            doc.get_dictionary(res).unwrap().clone()
        };
        let form = doc.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 500.into(), 500.into()],
                "Matrix" => vec![1.into(), 0.into(), 0.into(), 1.into(), 20.into(), 0.into()],
                "Resources" => font,
            },
            b"BT /F1 10 Tf 30 40 Td (inside) Tj ET".to_vec(),
        ));
        doc.get_dictionary_mut(page).unwrap().set(
            "Resources",
            dictionary! { "XObject" => dictionary! { "Fm" => form } },
        );
        let h = &find_keyword(&doc, "inside").unwrap()[0];
        assert!(close(h.x, 50.0) && close(h.y, 140.0 - 2.0), "{h:?}");
    }

    #[test]
    fn keyword_rects_are_centred_on_each_hit() {
        let doc = doc_with(
            &[
                "BT /F1 10 Tf 100 100 Td (seal here) Tj ET",
                "BT /F1 10 Tf 200 300 Td (and seal here) Tj ET",
            ],
            None,
        );
        let rects = keyword_rects(&doc, "seal", 60.0, 40.0).unwrap();
        assert_eq!(rects.len(), 2);
        let hits = find_keyword(&doc, "seal").unwrap();
        for ((page, r), hit) in rects.iter().zip(&hits) {
            assert_eq!(*page, hit.page);
            let (cx, cy) = hit.centre();
            assert!(close(r[0] + 30.0, cx) && close(r[1] + 20.0, cy) && r[2] == 60.0);
        }
        assert!(keyword_rects(&doc, "seal", 0.0, 40.0).is_err());
        // On a page turned by 90°, width and height swap in user space.
        let mut turned = doc.clone();
        let page2 = turned.get_pages()[&2];
        turned.get_dictionary_mut(page2).unwrap().set("Rotate", 90);
        let rects = keyword_rects(&turned, "seal", 60.0, 40.0).unwrap();
        assert_eq!((rects[0].1[2], rects[0].1[3]), (60.0, 40.0));
        assert_eq!((rects[1].1[2], rects[1].1[3]), (40.0, 60.0));
        let e = keyword_rects(&doc, "盖章处", 60.0, 40.0).unwrap_err();
        assert!(e.to_string().contains("盖章处"), "{e}");
    }

    #[test]
    fn white_space_is_ignored() {
        let doc = doc_with(
            &["BT /F1 10 Tf 100 100 Td (Bid  der) Tj 0 -12 Td (Seal) Tj ET"],
            None,
        );
        let h = &find_keyword(&doc, "Bidder").unwrap()[0];
        assert!(close(h.x, 100.0), "{h:?}");
        // Across the two lines: both boxes.
        let h = &find_keyword(&doc, "der Seal").unwrap()[0];
        assert!(close(h.y, 88.0 - 2.0) && close(h.height, 22.0), "{h:?}");
    }

    #[test]
    fn a_form_drawing_itself_is_bounded() {
        // Each level draws the form 100 times: 100^8 without a budget.
        let mut doc = doc_with(&["/Fm Do"], None);
        let content = "/Fm Do ".repeat(100);
        let form = doc.new_object_id();
        doc.objects.insert(
            form,
            Object::Stream(Stream::new(
                dictionary! {
                    "Type" => "XObject", "Subtype" => "Form",
                    "BBox" => vec![0.into(), 0.into(), 10.into(), 10.into()],
                    "Resources" => dictionary! { "XObject" => dictionary! { "Fm" => form } },
                },
                content.into_bytes(),
            )),
        );
        let page = doc.get_pages()[&1];
        doc.get_dictionary_mut(page).unwrap().set(
            "Resources",
            dictionary! { "XObject" => dictionary! { "Fm" => form } },
        );
        let started = std::time::Instant::now();
        let e = find_keyword(&doc, "x").unwrap_err();
        assert!(matches!(e, SealError::Malformed { .. }), "{e:?}");
        assert!(started.elapsed().as_secs() < 60);
        // Garbage content is an error, not a panic.
        let doc = doc_with(&["BT /F1 12 Tf (unterminated"], None);
        let _ = find_keyword(&doc, "x");
        let doc = doc_with(&["] ] >> << BT ET Q Q Q cm Tm Tj TJ ' \" Do"], None);
        assert!(find_keyword(&doc, "x").is_err());
    }

    #[test]
    fn missing_keyword_is_an_error_naming_it() {
        let doc = doc_with(&["BT /F1 12 Tf 72 700 Td (hello) Tj ET"], None);
        let e = find_keyword(&doc, "投标人签章").unwrap_err();
        assert!(e.to_string().contains("投标人签章"), "{e}");
        assert!(matches!(e, SealError::InvalidArgument { .. }));
        assert!(find_keyword(&doc, "").is_err());
        assert!(find_keyword(&doc, "  ").is_err());
    }

    #[test]
    fn cid_font_with_to_unicode() {
        // Identity-H font: codes 0x0001 → 投, 0x0002 → 标, 0x0003 → 人; /W gives 1000 and
        // 500 for code 3.
        let cmap = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap \
                    /CMapName /Test def 1 begincodespacerange <0000> <FFFF> endcodespacerange \
                    3 beginbfchar <0001> <6295> <0002> <6807> <0003> <4EBA> endbfchar \
                    endcmap CMapName currentdict /CMap defineresource pop end end";
        let mut doc = doc_with(&[""], None);
        let to_unicode = doc.add_object(Stream::new(dictionary! {}, cmap.as_bytes().to_vec()));
        let descendant = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "CIDFontType2", "BaseFont" => "ABCDEF+SimSun",
            "CIDSystemInfo" => dictionary! { "Registry" => Object::string_literal("Adobe"), "Ordering" => Object::string_literal("Identity"), "Supplement" => 0 },
            "DW" => 1000,
            "W" => vec![3.into(), vec![Object::Integer(500)].into()],
        });
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "ABCDEF+SimSun",
            "Encoding" => "Identity-H", "DescendantFonts" => vec![descendant.into()],
            "ToUnicode" => to_unicode,
        });
        let page = doc.get_pages()[&1];
        let text = Object::String(vec![0, 1, 0, 2, 0, 3], StringFormat::Hexadecimal);
        let content = format!(
            "BT /F2 20 Tf 100 300 Td <{}> Tj ET",
            match &text {
                Object::String(b, _) => b.iter().map(|x| format!("{x:02X}")).collect::<String>(),
                _ => String::new(),
            }
        );
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
        let d = doc.get_dictionary_mut(page).unwrap();
        d.set("Contents", content_id);
        d.set(
            "Resources",
            dictionary! { "Font" => dictionary! { "F2" => font } },
        );
        let hits = find_keyword(&doc, "标人").unwrap();
        assert_eq!(hits.len(), 1);
        let h = &hits[0];
        assert!(close(h.x, 120.0) && close(h.width, 30.0), "{h:?}");
        assert_eq!(page_text(&doc, 1).unwrap(), "投标人");
    }
}
