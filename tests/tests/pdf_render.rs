//! Rendering of seal appearances (`camr::seal::appearance`, `camr::seal::locate`) with an
//! independent renderer, poppler's `pdftoppm` (Debian `poppler-utils`): the seal shows up
//! red at the requested place and nowhere else, a straddle seal (骑缝章) shows its slices at
//! the right edge of each page of the range and, laid side by side, the slices make the
//! whole seal; a keyword seal lands on the keyword.
//!
//! The appearances are drawn as the signer draws them — a form XObject painting the image
//! XObject with its `/SMask` — once straight into the page content of a fresh document, once
//! as widget annotations added by an incremental update.
//!
//! Where pdftoppm comes from: `$CAMR_PDFTOPPM` if set (then it must work), else
//! `/usr/bin/pdftoppm`. When neither is there the tests print `*** SKIPPED ***` on stderr
//! and return.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use camr::seal::appearance::{
    SealImage, appearance_form, default_seal, default_seal_png, straddle_forms,
};
use camr::seal::locate::{PageGeometry, every_page_rects, find_keyword, pages, straddle_rects};
use lopdf::{Dictionary, Document, IncrementalDocument, Object, ObjectId, Stream, dictionary};

/// A4 in points.
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;

fn pdftoppm_path() -> Option<&'static Path> {
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(p) = std::env::var_os("CAMR_PDFTOPPM").filter(|p| !p.is_empty()) {
            let p = PathBuf::from(p);
            // Asked for explicitly (CI sets it): a missing binary is an error, not a skip.
            assert!(
                runs(&p),
                "CAMR_PDFTOPPM={} does not run `pdftoppm -v`; apt-get install poppler-utils",
                p.display()
            );
            return Some(p);
        }
        let p = PathBuf::from("/usr/bin/pdftoppm");
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

/// Returns early from the test (after a loud message) when pdftoppm is not there.
macro_rules! require_pdftoppm {
    () => {
        if pdftoppm_path().is_none() {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: pdftoppm not found; apt-get install poppler-utils (or set \
                 CAMR_PDFTOPPM). A PDF rendering test did NOT run. ***\n"
            );
            return;
        }
    };
}

/// A rendered page at 72 dpi: one pixel per point, rows from the top.
struct Raster {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Raster {
    fn is_red(&self, x: u32, y: u32) -> bool {
        let i = (y * self.width + x) as usize * 3;
        let (r, g, b) = (self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]);
        r > 180 && g < 90 && b < 90
    }

    /// Red pixels inside and outside a PDF rectangle `[x, y, w, h]` (user space, y up),
    /// the rectangle grown by `margin` pixels for "inside" (anti-aliased edges).
    fn red_in_out(&self, rect: [f32; 4], margin: f32) -> (usize, usize) {
        let x0 = rect[0] - margin;
        let x1 = rect[0] + rect[2] + margin;
        let top = self.height as f32 - (rect[1] + rect[3]) - margin;
        let bottom = self.height as f32 - rect[1] + margin;
        let (mut inside, mut outside) = (0, 0);
        for y in 0..self.height {
            for x in 0..self.width {
                if !self.is_red(x, y) {
                    continue;
                }
                let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
                if px >= x0 && px <= x1 && py >= top && py <= bottom {
                    inside += 1;
                } else {
                    outside += 1;
                }
            }
        }
        (inside, outside)
    }

    /// The red mask of a PDF rectangle, rows from the top.
    fn red_mask(&self, rect: [f32; 4]) -> Vec<Vec<bool>> {
        let x0 = rect[0].round() as u32;
        let top = (self.height as f32 - rect[1] - rect[3]).round() as u32;
        (top..top + rect[3].round() as u32)
            .map(|y| {
                (x0..x0 + rect[2].round() as u32)
                    .map(|x| x < self.width && y < self.height && self.is_red(x, y))
                    .collect()
            })
            .collect()
    }
}

/// Renders page `page` (1-based) of `pdf` at 72 dpi.
fn render(pdf: &[u8], page: u32) -> Raster {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.pdf");
    std::fs::write(&input, pdf).unwrap();
    let prefix = dir.path().join("out");
    let out = Command::new(pdftoppm_path().unwrap())
        .args(["-r", "72", "-png", "-singlefile", "-f"])
        .arg(page.to_string())
        .arg("-l")
        .arg(page.to_string())
        .arg(&input)
        .arg(&prefix)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pdftoppm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(dir.path().join("out.png")).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    Raster {
        width: img.width(),
        height: img.height(),
        rgb: img.into_raw(),
    }
}

/// A fresh document of `n` A4 pages, each with a line of black Helvetica text (and the
/// keyword line on page 2), saved normally.
fn test_pdf(n: usize) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let mut kids = Vec::new();
    for i in 1..=n {
        let mut text = format!("BT /F1 14 Tf 72 780 Td (Tender document, page {i}) Tj ET");
        if i == 2 {
            text.push_str(" BT /F1 12 Tf 300 200 Td (Bidder seal: ) Tj (________) Tj ET");
        }
        let content = doc.add_object(Stream::new(dictionary! {}, text.into_bytes()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        });
        kids.push(Object::Reference(page));
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => n as i64,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(PAGE_W), Object::Real(PAGE_H)],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Draws form XObjects into page contents of a fresh document: `(page, rect, form)`, each
/// form painted with its lower-left corner at the rectangle's.
fn draw_into_content(
    pdf: &[u8],
    image: &SealImage,
    seals: &[(u32, [f32; 4], usize)],
    forms: impl Fn(ObjectId) -> Vec<Stream>,
) -> Vec<u8> {
    let mut doc = Document::load_mem(pdf).unwrap();
    let image_id = image.add_to(&mut doc).unwrap();
    let form_ids: Vec<ObjectId> = forms(image_id)
        .into_iter()
        .map(|f| doc.add_object(f))
        .collect();
    let page_ids = doc.get_pages();
    for (k, (page, rect, form)) in seals.iter().enumerate() {
        let page_id = page_ids[page];
        let name = format!("Seal{k}");
        let dict = doc.get_dictionary_mut(page_id).unwrap();
        let resources = dict.get_mut(b"Resources").unwrap().as_dict_mut().unwrap();
        if resources.get(b"XObject").is_err() {
            resources.set("XObject", Dictionary::new());
        }
        resources
            .get_mut(b"XObject")
            .unwrap()
            .as_dict_mut()
            .unwrap()
            .set(name.as_bytes(), Object::Reference(form_ids[*form]));
        let content = format!("q 1 0 0 1 {} {} cm /{name} Do Q", rect[0], rect[1]);
        doc.add_page_contents(page_id, content.into_bytes())
            .unwrap();
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Adds widget annotations (one field, as a signature field with kids) showing `forms` at
/// `(page, rect, form)` in an incremental update, as the signer does.
fn add_widgets(
    pdf: &[u8],
    image: &SealImage,
    seals: &[(u32, [f32; 4], usize)],
    forms: impl Fn(ObjectId) -> Vec<Stream>,
) -> Vec<u8> {
    let mut inc = IncrementalDocument::load_from(pdf).unwrap();
    let prev = inc.get_prev_documents().clone();
    let page_ids = prev.get_pages();
    let new = &mut inc.new_document;
    let image_id = image.add_to(new).unwrap();
    let form_ids: Vec<ObjectId> = forms(image_id)
        .into_iter()
        .map(|f| new.add_object(f))
        .collect();
    let field_id = new.new_object_id();
    let mut kids = Vec::new();
    for (page, rect, form) in seals {
        let page_id = page_ids[page];
        let widget = new.add_object(dictionary! {
            "Type" => "Annot", "Subtype" => "Widget", "Parent" => field_id, "P" => page_id,
            "F" => 4,
            "Rect" => vec![
                Object::Real(rect[0]), Object::Real(rect[1]),
                Object::Real(rect[0] + rect[2]), Object::Real(rect[1] + rect[3]),
            ],
            "AP" => dictionary! { "N" => form_ids[*form] },
        });
        kids.push(Object::Reference(widget));
        let mut page_dict = match new.get_object(page_id) {
            Ok(o) => o.as_dict().unwrap().clone(),
            Err(_) => prev.get_dictionary(page_id).unwrap().clone(),
        };
        let mut annots = page_dict
            .get(b"Annots")
            .and_then(Object::as_array)
            .cloned()
            .unwrap_or_default();
        annots.push(Object::Reference(widget));
        page_dict.set("Annots", annots);
        new.objects.insert(page_id, Object::Dictionary(page_dict));
    }
    new.objects.insert(
        field_id,
        Object::Dictionary(dictionary! {
            "FT" => "Sig", "T" => Object::string_literal("Seal1"), "Kids" => kids.clone(),
        }),
    );
    let root = prev.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let mut catalog = prev.get_dictionary(root).unwrap().clone();
    catalog.set(
        "AcroForm",
        dictionary! { "Fields" => vec![Object::Reference(field_id)], "SigFlags" => 3 },
    );
    new.objects.insert(root, Object::Dictionary(catalog));
    let mut out = Vec::new();
    inc.save_to(&mut out).unwrap();
    assert!(
        out.starts_with(pdf),
        "an incremental update keeps the earlier bytes"
    );
    out
}

fn geometry(pdf: &[u8]) -> Vec<PageGeometry> {
    pages(&Document::load_mem(pdf).unwrap()).unwrap()
}

/// The seal is red inside its rectangle and nowhere else; a good part of the box is red.
fn assert_seal_at(raster: &Raster, rect: [f32; 4], what: &str) {
    let (inside, outside) = raster.red_in_out(rect, 1.5);
    let area = rect[2] * rect[3];
    assert!(
        inside as f32 > area * 0.15,
        "{what}: only {inside} red pixels in the {area} px² of {rect:?}"
    );
    assert_eq!(outside, 0, "{what}: {outside} red pixels outside {rect:?}");
}

#[test]
fn single_seal_renders_at_the_requested_place() {
    require_pdftoppm!();
    let pdf = test_pdf(2);
    let image =
        SealImage::from_png(&default_seal_png("某某建设工程有限公司", 300).unwrap()).unwrap();
    let rect = [380.0, 120.0, 120.0, 120.0];
    for (how, sealed) in [
        (
            "page content",
            draw_into_content(&pdf, &image, &[(2, rect, 0)], |im| {
                vec![appearance_form(im, 120.0, 120.0).unwrap()]
            }),
        ),
        (
            "widget",
            add_widgets(&pdf, &image, &[(2, rect, 0)], |im| {
                vec![appearance_form(im, 120.0, 120.0).unwrap()]
            }),
        ),
    ] {
        let page2 = render(&sealed, 2);
        assert_eq!((page2.width, page2.height), (595, 842));
        assert_seal_at(&page2, rect, how);
        // The transparent corners of the seal image do not hide the page: the box's corner
        // is white, not black or red.
        let corner = (rect[0] as u32 + 3, (PAGE_H - rect[1] - rect[3]) as u32 + 3);
        let i = (corner.1 * page2.width + corner.0) as usize * 3;
        assert_eq!(
            &page2.rgb[i..i + 3],
            &[255, 255, 255],
            "{how}: the SMask keeps the corner transparent"
        );
        // Page 1 has no seal.
        let page1 = render(&sealed, 1);
        assert_eq!(
            page1.red_in_out([0.0, 0.0, 1.0, 1.0], 0.0),
            (0, 0),
            "{how}: page 1"
        );
    }
}

#[test]
fn every_page_seal_renders_on_each_page() {
    require_pdftoppm!();
    let pdf = test_pdf(3);
    let image = default_seal("另一家公司", 200);
    let rects = every_page_rects(&geometry(&pdf), [60.0, 60.0, 90.0, 90.0]).unwrap();
    let seals: Vec<_> = rects.iter().map(|(p, r)| (*p, *r, 0)).collect();
    let sealed = add_widgets(&pdf, &image, &seals, |im| {
        vec![appearance_form(im, 90.0, 90.0).unwrap()]
    });
    for (page, rect) in rects {
        assert_seal_at(&render(&sealed, page), rect, &format!("page {page}"));
    }
}

#[test]
fn straddle_seal_shows_a_slice_on_each_right_edge() {
    require_pdftoppm!();
    let pdf = test_pdf(4);
    let image = default_seal("骑缝章测试", 300);
    let (w, h, y) = (120.0, 120.0, 400.0);
    // Pages 1-3 carry the straddle seal; page 4 the whole seal, for comparison.
    let rects = straddle_rects(&geometry(&pdf), 1, 3, w, h, y).unwrap();
    assert_eq!(rects.len(), 3);
    let mut seals: Vec<_> = rects
        .iter()
        .enumerate()
        .map(|(i, (p, r))| (*p, *r, i))
        .collect();
    let whole = [200.0, y, w, h];
    seals.push((4, whole, 3));
    for (how, sealed) in [
        (
            "page content",
            draw_into_content(&pdf, &image, &seals, |im| {
                let mut f = straddle_forms(im, w, h, 3).unwrap();
                f.push(appearance_form(im, w, h).unwrap());
                f
            }),
        ),
        (
            "widget",
            add_widgets(&pdf, &image, &seals, |im| {
                let mut f = straddle_forms(im, w, h, 3).unwrap();
                f.push(appearance_form(im, w, h).unwrap());
                f
            }),
        ),
    ] {
        let reference = render(&sealed, 4);
        assert_seal_at(&reference, whole, how);
        let whole_mask = reference.red_mask(whole);
        let mut joined: Vec<Vec<bool>> = vec![Vec::new(); whole_mask.len()];
        for (page, rect) in &rects {
            let raster = render(&sealed, *page);
            // Flush with the right edge, red only there (none on the left half).
            assert!((rect[0] + rect[2] - PAGE_W).abs() < 0.01);
            assert_seal_at(&raster, *rect, &format!("{how}: page {page}"));
            let (left, _) = raster.red_in_out([0.0, 0.0, PAGE_W / 2.0, PAGE_H], 0.0);
            assert_eq!(left, 0, "{how}: page {page} has red on its left half");
            for (row, part) in joined.iter_mut().zip(raster.red_mask(*rect)) {
                row.extend(part);
            }
        }
        // The slices side by side are the whole seal (up to anti-aliasing at the cuts).
        let (mut same, mut total) = (0usize, 0usize);
        for (a, b) in joined.iter().zip(&whole_mask) {
            for (x, y) in a.iter().zip(b) {
                if *x || *y {
                    total += 1;
                    if x == y {
                        same += 1;
                    }
                }
            }
        }
        assert!(total > 1000, "{how}: {total} red pixels in the whole seal");
        assert!(
            same as f32 >= total as f32 * 0.95,
            "{how}: the slices match the whole seal on {same} of {total} red pixels"
        );
    }
}

#[test]
fn keyword_seal_lands_on_the_keyword() {
    require_pdftoppm!();
    let pdf = test_pdf(3);
    let doc = Document::load_mem(&pdf).unwrap();
    let hits = find_keyword(&doc, "Bidder seal:").unwrap();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert_eq!(hit.page, 2);
    assert!(
        (hit.x - 300.0).abs() < 0.5 && (hit.y - (200.0 - 2.4)).abs() < 0.5,
        "{hit:?}"
    );
    let rect = hit.centred_rect(100.0, 100.0);
    let image = default_seal("关键字", 200);
    let sealed = add_widgets(&pdf, &image, &[(hit.page, rect, 0)], |im| {
        vec![appearance_form(im, 100.0, 100.0).unwrap()]
    });
    let raster = render(&sealed, 2);
    assert_seal_at(&raster, rect, "keyword seal");
    // The keyword's text is under the seal: the rendered text's dark pixels lie within the
    // hit box (the renderer agrees with our text positions).
    let (mut dark_in, mut dark_total) = (0, 0);
    let top = PAGE_H - hit.y - hit.height;
    for y in (PAGE_H as u32 - 260)..(PAGE_H as u32 - 180) {
        for x in 290..(hit.x + hit.width) as u32 + 1 {
            let i = (y * raster.width + x) as usize * 3;
            let p = &raster.rgb[i..i + 3];
            if p.iter().all(|&c| c < 100) {
                dark_total += 1;
                let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
                if fx >= hit.x - 1.0
                    && fx <= hit.x + hit.width + 1.0
                    && fy >= top - 1.0
                    && fy <= top + hit.height + 1.0
                {
                    dark_in += 1;
                }
            }
        }
    }
    assert!(
        dark_total > 50,
        "the keyword is rendered ({dark_total} dark pixels)"
    );
    assert_eq!(
        dark_in, dark_total,
        "text drawn outside the box find_keyword reported"
    );
    let e = find_keyword(&doc, "Not in the text").unwrap_err();
    assert!(e.to_string().contains("Not in the text"), "{e}");
}

/// A P-256 signer from the reference software CA: (certificate, key, chain, tempdir).
fn p256_signer() -> (
    camr::pki::Certificate,
    camr::crypto::PrivateKey,
    Vec<camr::pki::Certificate>,
    tempfile::TempDir,
) {
    use camr::crypto::{KeyAlgorithm, PrivateKey, default_provider};
    use camr::pki::Certificate;
    use camr::softca::{Holder, SoftCa, wallet_files};
    let dir = tempfile::tempdir().unwrap();
    let mut ca = SoftCa::init(
        default_provider(),
        &dir.path().join("ca"),
        KeyAlgorithm::P256,
        "Render CA",
    )
    .unwrap();
    let holder = Holder::personal("张三");
    let w = dir.path().join("w");
    ca.issue(&holder, b"1234", &w, 30).unwrap();
    let read = |n: &str| std::fs::read(w.join(n)).unwrap();
    (
        Certificate::parse_one(&read(wallet_files::SIGN_CERT)).unwrap(),
        PrivateKey::from_bytes(&read(wallet_files::SIGN_KEY), Some(b"1234")).unwrap(),
        Certificate::parse_all(&read(wallet_files::CHAIN)).unwrap(),
        dir,
    )
}

/// The seal core's output (`camr::seal::seal_with_key`: a signed incremental update with the
/// widget and its appearance) renders at the requested place; a second seal keeps the first.
#[test]
fn signed_seals_render_at_the_requested_place() {
    use camr::seal::{Placement, SealOptions, seal_with_key};
    require_pdftoppm!();
    let provider = camr::crypto::default_provider();
    let (cert, key, chain, _dir) = p256_signer();
    let pdf = test_pdf(3);
    let one = [400.0, 100.0, 120.0, 120.0];
    let sealed = seal_with_key(
        provider.as_ref(),
        &pdf,
        &cert,
        &key,
        &chain,
        &SealOptions::new(Placement::Page { page: 2, rect: one }),
    )
    .unwrap();
    assert!(sealed.starts_with(&pdf));
    assert_seal_at(&render(&sealed, 2), one, "signed seal on page 2");
    assert_eq!(
        render(&sealed, 1).red_in_out([0.0, 0.0, 1.0, 1.0], 0.0),
        (0, 0)
    );

    let every = [60.0, 700.0, 80.0, 80.0];
    let twice = seal_with_key(
        provider.as_ref(),
        &sealed,
        &cert,
        &key,
        &chain,
        &SealOptions::new(Placement::EveryPage { rect: every }),
    )
    .unwrap();
    assert!(twice.starts_with(&sealed));
    for page in 1..=3 {
        let raster = render(&twice, page);
        let (inside, _) = raster.red_in_out(every, 1.5);
        assert!(
            inside as f32 > 80.0 * 80.0 * 0.15,
            "page {page}: {inside} red pixels"
        );
        if page == 2 {
            let (first, _) = raster.red_in_out(one, 1.5);
            assert!(
                first as f32 > 120.0 * 120.0 * 0.15,
                "the first seal is still shown"
            );
        } else {
            assert_seal_at(&raster, every, &format!("every-page seal, page {page}"));
        }
    }
}

/// On pages turned by `/Rotate`, the straddle slices lie along the edge the reader sees on
/// the right and stand upright ([`camr::seal::appearance::upright`]): the rendered slices,
/// side by side, still make the whole seal.
#[test]
fn straddle_seal_on_rotated_pages() {
    use camr::seal::appearance::upright;
    require_pdftoppm!();
    let rotations = [0u16, 90, 270, 180];
    let mut doc = Document::load_mem(&test_pdf(5)).unwrap();
    let ids = doc.get_pages();
    for (i, rot) in rotations.iter().enumerate() {
        let page = ids[&(i as u32 + 1)];
        doc.get_dictionary_mut(page)
            .unwrap()
            .set("Rotate", i64::from(*rot));
    }
    let mut pdf = Vec::new();
    doc.save_to(&mut pdf).unwrap();
    let geometry = geometry(&pdf);
    let (w, h, y) = (160.0, 160.0, 150.0);
    let rects = straddle_rects(&geometry, 1, 4, w, h, y).unwrap();
    let mut seals: Vec<_> = rects
        .iter()
        .enumerate()
        .map(|(i, (p, r))| (*p, *r, i))
        .collect();
    let whole = [100.0, y, w, h];
    seals.push((5, whole, 4));
    let image = default_seal("旋转页面", 320);
    let sealed = add_widgets(&pdf, &image, &seals, |im| {
        let mut f = straddle_forms(im, w, h, 4).unwrap();
        for (form, rot) in f.iter_mut().zip(rotations) {
            upright(form, rot);
        }
        f.push(appearance_form(im, w, h).unwrap());
        f
    });
    let reference = render(&sealed, 5);
    assert_seal_at(&reference, whole, "whole seal");
    let whole_mask = reference.red_mask(whole);
    let mut joined: Vec<Vec<bool>> = vec![Vec::new(); whole_mask.len()];
    let slice = w / 4.0;
    for (i, page) in geometry.iter().take(4).enumerate() {
        let raster = render(&sealed, page.number);
        assert_eq!(
            (raster.width as f32, raster.height as f32),
            (page.display_width(), page.display_height()),
            "page {} is shown turned by {}",
            page.number,
            rotations[i]
        );
        // As the reader sees it: flush with the right edge, y from the bottom.
        let shown = [page.display_width() - slice, y, slice, h];
        assert_seal_at(&raster, shown, &format!("rotated page {}", page.number));
        for (row, part) in joined.iter_mut().zip(raster.red_mask(shown)) {
            row.extend(part);
        }
    }
    let (mut same, mut total) = (0usize, 0usize);
    for (a, b) in joined.iter().zip(&whole_mask) {
        for (x, y) in a.iter().zip(b) {
            if *x || *y {
                total += 1;
                if x == y {
                    same += 1;
                }
            }
        }
    }
    assert!(total > 1000, "{total} red pixels in the whole seal");
    assert!(
        same as f32 >= total as f32 * 0.95,
        "upright slices match the whole seal on {same} of {total} red pixels"
    );
}

/// A revocation (撤章, `camr::seal::revoke_with_key`) hides every widget of the revoked seal
/// in poppler's rendering and leaves the other seal in place.
#[test]
fn a_revoked_seal_is_no_longer_rendered() {
    use camr::seal::{Placement, SealOptions, revoke_with_key, seal_with_key};
    require_pdftoppm!();
    let provider = camr::crypto::default_provider();
    let (cert, key, chain, _dir) = p256_signer();
    let pdf = test_pdf(2);
    let one = [400.0, 100.0, 120.0, 120.0];
    let every = [60.0, 700.0, 80.0, 80.0];
    let mut sealed = pdf.clone();
    for placement in [
        Placement::Page { page: 2, rect: one },
        Placement::EveryPage { rect: every },
    ] {
        sealed = seal_with_key(
            provider.as_ref(),
            &sealed,
            &cert,
            &key,
            &chain,
            &SealOptions::new(placement),
        )
        .unwrap();
    }
    let (before, _) = render(&sealed, 1).red_in_out(every, 1.5);
    assert!(before as f32 > 80.0 * 80.0 * 0.15, "{before} red pixels");
    let revoked = revoke_with_key(
        provider.as_ref(),
        &sealed,
        &cert,
        &key,
        &chain,
        &[],
        "Seal2",
        &SealOptions::new(Placement::Invisible),
    )
    .unwrap();
    assert_eq!(render(&revoked, 1).red_in_out(every, 1.5), (0, 0), "page 1");
    let page2 = render(&revoked, 2);
    assert_seal_at(&page2, one, "the first seal stays on page 2");
}
