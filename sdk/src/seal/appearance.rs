//! What a seal looks like: the seal image as PDF objects, the appearance form XObjects of a
//! widget (one seal, or the slices of a straddle seal 骑缝章), and the default round red
//! company seal drawn when the caller gives no image.
//!
//! The objects follow `shared/docs/pdf-signing.md`:
//!
//! - an image XObject (`/DeviceRGB`, 8 bits per component, `/FlateDecode`) whose `/SMask`
//!   is a gray image XObject made from the PNG's alpha channel (lopdf's own image helper
//!   drops the alpha, so a transparent seal would paint a white or black square);
//! - an appearance form XObject with `/BBox [0 0 w h]` whose content
//!   `q w 0 0 h 0 0 cm /Im Do Q` scales the image (a unit square) to the box;
//! - for a straddle seal over N pages, N forms each `w/N` wide whose content translates the
//!   image by `−i·w/N`, so page i shows slice i and the slices, laid edge to edge, make the
//!   whole seal. All of them reuse one image XObject.
//!
//! Everything here builds objects; adding them to a document (in the signing revision) is
//! [`SealImage::add_to`] plus `Document::add_object` for the forms.

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::SealError;

mod drawn;

#[cfg(test)]
use drawn::default_seal_side;
pub use drawn::{
    INK_BLUE, MAX_DEFAULT_SEAL_SIDE, default_seal, default_seal_png, seal_image, seal_png,
};

/// The name of the seal image in the appearance form's `/Resources /XObject`.
pub const IMAGE_RESOURCE: &str = "Im";

/// Largest seal image accepted, in pixels per side.
pub const MAX_IMAGE_SIDE: u32 = crate::protocol::MAX_SEAL_IMAGE_SIDE;

/// The red of the default seal (R, G, B).
pub const SEAL_RED: [u8; 3] = [214, 24, 32];

/// A decoded seal image: 8-bit RGB and 8-bit alpha kept apart, rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealImage {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    alpha: Vec<u8>,
}

impl SealImage {
    /// Decodes a PNG (any bit depth and colour type; palettes and gray are expanded to RGB,
    /// a missing alpha channel becomes opaque).
    pub fn from_png(png: &[u8]) -> Result<Self, SealError> {
        let decoded =
            image::load_from_memory_with_format(png, image::ImageFormat::Png).map_err(|e| {
                SealError::invalid(format!("the seal image is not a readable PNG ({e})"))
            })?;
        let rgba = decoded.to_rgba8();
        Self::from_rgba(rgba.width(), rgba.height(), rgba.as_raw())
    }

    /// An image from raw RGBA pixels (`width * height * 4` bytes, rows top to bottom).
    pub fn from_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<Self, SealError> {
        if width == 0 || height == 0 {
            return Err(SealError::invalid("the seal image is empty (0 pixels)"));
        }
        if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
            return Err(SealError::invalid(format!(
                "the seal image is {width}×{height} pixels; at most {MAX_IMAGE_SIDE} per side"
            )));
        }
        let pixels = width as usize * height as usize;
        if rgba.len() != pixels * 4 {
            return Err(SealError::invalid(format!(
                "{} bytes of RGBA for a {width}×{height} image (expected {})",
                rgba.len(),
                pixels * 4
            )));
        }
        let mut rgb = Vec::with_capacity(pixels * 3);
        let mut alpha = Vec::with_capacity(pixels);
        for px in rgba.chunks_exact(4) {
            rgb.extend_from_slice(&px[..3]);
            alpha.push(px[3]);
        }
        Ok(Self {
            width,
            height,
            rgb,
            alpha,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// RGB samples, 3 bytes per pixel.
    pub fn rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// Alpha samples, 1 byte per pixel (0 transparent, 255 opaque).
    pub fn alpha(&self) -> &[u8] {
        &self.alpha
    }

    /// Whether any pixel is not fully opaque (then the image gets an `/SMask`).
    pub fn has_transparency(&self) -> bool {
        self.alpha.iter().any(|&a| a != 255)
    }

    /// The gray `/SMask` image XObject made from the alpha channel (`/DeviceGray`, 8 bpc,
    /// `/FlateDecode`).
    pub fn smask_xobject(&self) -> Result<Stream, SealError> {
        image_stream(
            self.width,
            self.height,
            "DeviceGray",
            self.alpha.clone(),
            None,
        )
    }

    /// The RGB image XObject; `smask` is the id of [`SealImage::smask_xobject`] once added.
    pub fn image_xobject(&self, smask: Option<ObjectId>) -> Result<Stream, SealError> {
        image_stream(
            self.width,
            self.height,
            "DeviceRGB",
            self.rgb.clone(),
            smask,
        )
    }

    /// Adds the image XObject (and its `/SMask` when the image has transparency) to `doc`
    /// and returns the image's id, for [`appearance_form`] and [`straddle_forms`].
    pub fn add_to(&self, doc: &mut Document) -> Result<ObjectId, SealError> {
        let smask = if self.has_transparency() {
            Some(doc.add_object(self.smask_xobject()?))
        } else {
            None
        };
        Ok(doc.add_object(self.image_xobject(smask)?))
    }
}

fn image_stream(
    width: u32,
    height: u32,
    color_space: &str,
    samples: Vec<u8>,
    smask: Option<ObjectId>,
) -> Result<Stream, SealError> {
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"XObject".to_vec()));
    dict.set("Subtype", Object::Name(b"Image".to_vec()));
    dict.set("Width", i64::from(width));
    dict.set("Height", i64::from(height));
    dict.set("ColorSpace", Object::Name(color_space.as_bytes().to_vec()));
    dict.set("BitsPerComponent", 8);
    if let Some(id) = smask {
        dict.set("SMask", Object::Reference(id));
    }
    let mut stream = Stream::new(dict, samples);
    // lopdf keeps the raw samples when deflating would not make them smaller (never the
    // case for a real seal); either form is a valid image.
    stream
        .compress()
        .map_err(|e| SealError::invalid(format!("cannot compress the seal image ({e})")))?;
    Ok(stream)
}

/// A PDF number: at most 4 decimals, no trailing zeros, no exponent.
pub(crate) fn num(v: f32) -> String {
    if !v.is_finite() {
        return "0".to_owned();
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

fn check_size(width: f32, height: f32) -> Result<(), SealError> {
    if !(width.is_finite() && height.is_finite() && width > 0.0 && height > 0.0) {
        return Err(SealError::invalid(format!(
            "the seal size must be positive, got {width}×{height} points"
        )));
    }
    Ok(())
}

fn form(image: ObjectId, bbox_width: f32, height: f32, content: String) -> Stream {
    let mut xobjects = Dictionary::new();
    xobjects.set(IMAGE_RESOURCE, Object::Reference(image));
    let mut resources = Dictionary::new();
    resources.set("XObject", Object::Dictionary(xobjects));
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"XObject".to_vec()));
    dict.set("Subtype", Object::Name(b"Form".to_vec()));
    dict.set("FormType", 1);
    dict.set(
        "BBox",
        Object::Array(vec![
            0.into(),
            0.into(),
            Object::Real(bbox_width),
            Object::Real(height),
        ]),
    );
    dict.set("Resources", Object::Dictionary(resources));
    Stream::new(dict, content.into_bytes())
}

/// The appearance form XObject of a seal `width`×`height` points: `/BBox [0 0 w h]`, content
/// `q w 0 0 h 0 0 cm /Im Do Q`, resources naming `image` (from [`SealImage::add_to`]).
/// Use it as the widget's `/AP << /N … >>`, with a `/Rect` of the same size.
pub fn appearance_form(image: ObjectId, width: f32, height: f32) -> Result<Stream, SealError> {
    check_size(width, height)?;
    let content = format!(
        "q {} 0 0 {} 0 0 cm /{IMAGE_RESOURCE} Do Q",
        num(width),
        num(height)
    );
    Ok(form(image, width, height, content))
}

/// Slice `index` (0-based) of a straddle seal over `count` pages: `/BBox [0 0 w/N h]`, and
/// the image (`width` wide) translated by `−index·w/N`, so that the slice shows the part of
/// the seal between `index·w/N` and `(index+1)·w/N`. The widget's `/Rect` is `w/N` wide,
/// flush with its page's right edge (see [`super::locate::straddle_rects`]).
pub fn straddle_form(
    image: ObjectId,
    width: f32,
    height: f32,
    index: usize,
    count: usize,
) -> Result<Stream, SealError> {
    check_size(width, height)?;
    if count == 0 || index >= count {
        return Err(SealError::invalid(format!(
            "straddle slice {index} of {count}: the index must be below the page count"
        )));
    }
    let slice = width / count as f32;
    let shift = -(index as f32) * slice;
    let content = format!(
        "q {} 0 0 {} {} 0 cm /{IMAGE_RESOURCE} Do Q",
        num(width),
        num(height),
        num(shift)
    );
    Ok(form(image, slice, height, content))
}

/// The `count` appearance forms of a straddle seal (骑缝章), slice i for the i-th page of the
/// range; all reuse one image XObject. See [`straddle_form`].
pub fn straddle_forms(
    image: ObjectId,
    width: f32,
    height: f32,
    count: usize,
) -> Result<Vec<Stream>, SealError> {
    if count == 0 {
        return Err(SealError::invalid(
            "a straddle seal needs at least one page",
        ));
    }
    (0..count)
        .map(|i| straddle_form(image, width, height, i, count))
        .collect()
}

/// Turns an appearance form so that it stands upright on a page with `/Rotate` `rotate`
/// (0, 90, 180, 270; others are taken modulo 360 and rounded down to a quarter turn):
/// annotation appearances turn with the page, so the form gets the opposite turn as its
/// `/Matrix`. Use it with a `/Rect` from [`super::locate::PageGeometry::user_rect`], whose
/// width and height are swapped on pages turned by 90° or 270°.
pub fn upright(form: &mut Stream, rotate: u16) {
    let m: [i64; 4] = match (rotate % 360) / 90 {
        1 => [0, 1, -1, 0],
        2 => [-1, 0, 0, -1],
        3 => [0, -1, 1, 0],
        _ => [1, 0, 0, 1],
    };
    if m == [1, 0, 0, 1] {
        form.dict.remove(b"Matrix");
        return;
    }
    form.dict.set(
        "Matrix",
        Object::Array(vec![
            m[0].into(),
            m[1].into(),
            m[2].into(),
            m[3].into(),
            0.into(),
            0.into(),
        ]),
    );
}

/// Adds `image` (with its `/SMask`) and a `width`×`height` appearance form painting it to
/// `doc` (for a signing revision: `IncrementalDocument::new_document`); returns the form's
/// id for the widget's `/AP << /N … >>`.
pub fn add_appearance(
    doc: &mut Document,
    image: &SealImage,
    width: f32,
    height: f32,
) -> Result<ObjectId, SealError> {
    let form = appearance_form(image.add_to(doc)?, width, height)?;
    Ok(doc.add_object(form))
}

/// Adds `image` once and the `count` slice forms of a straddle seal `width`×`height` to
/// `doc`; returns the forms' ids, slice i for the i-th page of the range (with the rects of
/// [`super::locate::straddle_rects`]).
pub fn add_straddle_appearances(
    doc: &mut Document,
    image: &SealImage,
    width: f32,
    height: f32,
    count: usize,
) -> Result<Vec<ObjectId>, SealError> {
    let forms = straddle_forms(image.add_to(doc)?, width, height, count)?;
    Ok(forms.into_iter().map(|f| doc.add_object(f)).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::protocol::SealKind;

    fn red_count(img: &SealImage) -> usize {
        img.alpha.iter().filter(|&&a| a > 128).count()
    }

    #[test]
    fn default_seal_is_deterministic_round_and_transparent() {
        let a = default_seal_png("某某建设工程有限公司", 160).unwrap();
        let b = default_seal_png("某某建设工程有限公司", 160).unwrap();
        assert_eq!(a, b, "same name and size, same bytes");
        let c = default_seal_png("另一家公司", 160).unwrap();
        assert_ne!(a, c, "another organisation gets other marks");
        let img = SealImage::from_png(&a).unwrap();
        assert_eq!((img.width(), img.height()), (160, 160));
        assert!(img.has_transparency());
        // Corners are transparent, the ring and the star's centre are opaque red.
        let at = |x: u32, y: u32| img.alpha[(y * 160 + x) as usize];
        assert_eq!(at(0, 0), 0);
        assert_eq!(at(159, 159), 0);
        assert_eq!(at(80, 80), 255, "star centre");
        assert_eq!(at(80, 4), 255, "ring top (r = 0.455 s)");
        assert_eq!(at(4, 80), 255, "ring left");
        let i = (80 * 160 + 80) as usize * 3;
        assert_eq!(&img.rgb[i..i + 3], &SEAL_RED);
        // Between ring and star near the bottom-left is empty.
        assert_eq!(at(40, 100), 0);
        let n = red_count(&img);
        assert!(n > 160 * 160 / 6 && n < 160 * 160 / 2, "{n} opaque pixels");
    }

    #[test]
    fn every_kind_decodes_is_transparent_and_in_its_colour() {
        for kind in SealKind::ALL {
            let png = seal_png(kind, "某某建设有限公司", 120).unwrap();
            let img = SealImage::from_png(&png).unwrap();
            assert_eq!(img.width(), 120, "{kind}");
            assert!(img.has_transparency(), "{kind}");
            // The corners are transparent (a round, oval or bordered seal, a pen stroke).
            assert_eq!(img.alpha()[0], 0, "{kind}");
            assert_eq!(*img.alpha().last().unwrap(), 0, "{kind}");
            let n = red_count(&img);
            let area = (img.width() * img.height()) as usize;
            assert!(
                n > area / 40 && n < area * 2 / 3,
                "{kind}: {n} of {area} opaque"
            );
            let want = if kind == SealKind::Handwritten {
                INK_BLUE
            } else {
                SEAL_RED
            };
            assert!(img.rgb().chunks_exact(3).all(|px| px == want), "{kind}");
        }
        // The official seal is the default seal; the oval and the signature are wider than high.
        assert_eq!(
            seal_png(SealKind::Official, "x", 64).unwrap(),
            default_seal_png("x", 64).unwrap()
        );
        for kind in [SealKind::Finance, SealKind::Handwritten] {
            let img = seal_image(kind, "x", 150);
            assert!(img.height() < img.width(), "{kind}");
        }
    }

    #[test]
    fn kinds_differ_holders_differ_and_images_are_deterministic() {
        let holder = "某某建设有限公司";
        let mut seen: Vec<(SealKind, SealImage)> = Vec::new();
        for kind in SealKind::ALL {
            let a = seal_png(kind, holder, 96).unwrap();
            assert_eq!(a, seal_png(kind, holder, 96).unwrap(), "{kind}");
            let img = seal_image(kind, holder, 96);
            let other = seal_image(kind, "另一家公司", 96);
            let changed = img
                .alpha()
                .iter()
                .zip(other.alpha())
                .filter(|(x, y)| x != y)
                .count();
            assert!(
                changed > 20,
                "{kind}: {changed} pixels differ between holders"
            );
            for (k, earlier) in &seen {
                let differ = earlier.width() != img.width()
                    || earlier.height() != img.height()
                    || earlier
                        .alpha()
                        .iter()
                        .zip(img.alpha())
                        .filter(|(x, y)| x.abs_diff(**y) > 128)
                        .count()
                        > 200;
                assert!(differ, "{kind} looks like {k}");
            }
            seen.push((kind, img));
        }
    }

    #[test]
    fn square_chops_have_their_border_and_the_legal_one_its_cross() {
        let at = |img: &SealImage, x: u32, y: u32| img.alpha()[(y * img.width() + x) as usize];
        let legal = seal_image(SealKind::LegalRepresentative, "张三", 100);
        let personal = seal_image(SealKind::PersonalName, "张三", 100);
        for img in [&legal, &personal] {
            assert_eq!(at(img, 6, 50), 255, "border");
            assert_eq!(at(img, 1, 1), 0, "margin");
        }
        assert_eq!(at(&legal, 50, 14), 255, "the cross");
        assert_eq!(at(&personal, 50, 11), 0, "no thick border there");
        assert_eq!(at(&personal, 50, 13), 255, "the inner border");
    }

    #[test]
    #[ignore = "writes target/seal-<kind>.png to look at"]
    fn write_seal_pngs() {
        for kind in SealKind::ALL {
            let png = seal_png(kind, "某某建设工程有限公司", 240).unwrap();
            let path = format!(
                "{}/../target/seal-{}.png",
                env!("CARGO_MANIFEST_DIR"),
                kind.as_str()
            );
            std::fs::write(path, png).unwrap();
        }
    }

    #[test]
    #[ignore = "writes target/default-seal.png to look at"]
    fn write_default_seal_png() {
        let png = default_seal_png("某某建设工程有限公司", 240).unwrap();
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/default-seal.png"),
            png,
        )
        .unwrap();
    }

    #[test]
    fn size_is_clamped() {
        assert_eq!(default_seal("x", 1).width(), 32);
        assert_eq!(default_seal_side(100_000), MAX_DEFAULT_SEAL_SIDE);
        assert_eq!(default_seal_side(300), 300);
    }

    #[test]
    fn png_keeps_alpha_apart_and_bad_input_is_refused() {
        let rgba = [255, 0, 0, 0, 0, 255, 0, 128, 0, 0, 255, 255, 1, 2, 3, 4];
        let img = SealImage::from_rgba(2, 2, &rgba).unwrap();
        assert_eq!(img.rgb(), &[255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3]);
        assert_eq!(img.alpha(), &[0, 128, 255, 4]);
        assert!(SealImage::from_rgba(2, 2, &rgba[..12]).is_err());
        assert!(SealImage::from_rgba(0, 2, &[]).is_err());
        let e = SealImage::from_png(b"not a png").unwrap_err();
        assert!(e.to_string().contains("PNG"), "{e}");
        assert!(SealImage::from_png(&[]).is_err());
    }

    #[test]
    fn image_objects_have_an_smask_from_the_alpha() {
        let img = default_seal("测试", 64);
        let mut doc = Document::with_version("1.7");
        let id = img.add_to(&mut doc).unwrap();
        let stream = doc.get_object(id).unwrap().as_stream().unwrap();
        let d = &stream.dict;
        assert_eq!(d.get(b"Subtype").unwrap().as_name().unwrap(), b"Image");
        assert_eq!(
            d.get(b"ColorSpace").unwrap().as_name().unwrap(),
            b"DeviceRGB"
        );
        assert_eq!(d.get(b"BitsPerComponent").unwrap().as_i64().unwrap(), 8);
        assert_eq!(d.get(b"Filter").unwrap().as_name().unwrap(), b"FlateDecode");
        assert_eq!(stream.decompressed_content().unwrap(), img.rgb());
        let smask_id = d.get(b"SMask").unwrap().as_reference().unwrap();
        let smask = doc.get_object(smask_id).unwrap().as_stream().unwrap();
        assert_eq!(
            smask.dict.get(b"ColorSpace").unwrap().as_name().unwrap(),
            b"DeviceGray"
        );
        assert_eq!(smask.decompressed_content().unwrap(), img.alpha());
        // An opaque image has no SMask.
        let opaque = SealImage::from_rgba(1, 1, &[1, 2, 3, 255]).unwrap();
        let id = opaque.add_to(&mut doc).unwrap();
        let d = &doc.get_object(id).unwrap().as_stream().unwrap().dict;
        assert!(d.get(b"SMask").is_err());
    }

    #[test]
    fn appearance_and_straddle_forms() {
        let image = (7, 0);
        let f = appearance_form(image, 120.0, 90.5).unwrap();
        assert_eq!(f.content, b"q 120 0 0 90.5 0 0 cm /Im Do Q");
        assert_eq!(f.dict.get(b"Subtype").unwrap().as_name().unwrap(), b"Form");
        let bbox = f.dict.get(b"BBox").unwrap().as_array().unwrap();
        let bbox: Vec<f32> = bbox.iter().map(|o| o.as_float().unwrap()).collect();
        assert_eq!(bbox, [0.0, 0.0, 120.0, 90.5]);
        let res = f.dict.get(b"Resources").unwrap().as_dict().unwrap();
        let xo = res.get(b"XObject").unwrap().as_dict().unwrap();
        assert_eq!(xo.get(b"Im").unwrap().as_reference().unwrap(), image);

        let forms = straddle_forms(image, 120.0, 120.0, 3).unwrap();
        assert_eq!(forms.len(), 3);
        for (i, f) in forms.iter().enumerate() {
            let bbox = f.dict.get(b"BBox").unwrap().as_array().unwrap();
            assert_eq!(bbox[2].as_float().unwrap(), 40.0);
            let want = format!("q 120 0 0 120 {} 0 cm /Im Do Q", num(-40.0 * i as f32));
            assert_eq!(String::from_utf8_lossy(&f.content), want);
        }
        assert!(straddle_forms(image, 120.0, 120.0, 0).is_err());
        assert!(straddle_form(image, 120.0, 120.0, 3, 3).is_err());
        assert!(appearance_form(image, 0.0, 10.0).is_err());
        assert!(appearance_form(image, f32::NAN, 10.0).is_err());
    }

    #[test]
    fn appearances_are_added_to_a_document() {
        let img = default_seal("测试", 48);
        let mut doc = Document::with_version("1.7");
        let form = add_appearance(&mut doc, &img, 100.0, 100.0).unwrap();
        let f = doc.get_object(form).unwrap().as_stream().unwrap();
        let res = f.dict.get(b"Resources").unwrap().as_dict().unwrap();
        let im = res
            .get(b"XObject")
            .unwrap()
            .as_dict()
            .unwrap()
            .get(b"Im")
            .unwrap();
        let im = doc
            .get_object(im.as_reference().unwrap())
            .unwrap()
            .as_stream()
            .unwrap();
        assert!(im.dict.get(b"SMask").is_ok());
        let before = doc.objects.len();
        let slices = add_straddle_appearances(&mut doc, &img, 90.0, 90.0, 3).unwrap();
        assert_eq!(slices.len(), 3);
        // One image (+ SMask) shared by the three slices.
        assert_eq!(doc.objects.len(), before + 2 + 3);
        assert!(add_straddle_appearances(&mut doc, &img, 90.0, 90.0, 0).is_err());
    }

    #[test]
    fn upright_sets_the_opposite_turn() {
        let mut f = appearance_form((1, 0), 10.0, 20.0).unwrap();
        upright(&mut f, 90);
        let m: Vec<i64> = f
            .dict
            .get(b"Matrix")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_i64().unwrap())
            .collect();
        assert_eq!(m, [0, 1, -1, 0, 0, 0]);
        upright(&mut f, 450);
        assert!(f.dict.get(b"Matrix").is_ok());
        upright(&mut f, 0);
        assert!(f.dict.get(b"Matrix").is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(-40.0), "-40");
        assert_eq!(num(33.333_332), "33.3333");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(f32::INFINITY), "0");
    }
}
