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

use image::ImageEncoder as _;
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::SealError;

/// The name of the seal image in the appearance form's `/Resources /XObject`.
pub const IMAGE_RESOURCE: &str = "Im";

/// Largest seal image accepted, in pixels per side.
pub const MAX_IMAGE_SIDE: u32 = 4096;

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

/// The default seal as a PNG: see [`default_seal`].
pub fn default_seal_png(org_name: &str, size_px: u32) -> Result<Vec<u8>, SealError> {
    let seal = default_seal(org_name, size_px);
    let mut rgba = Vec::with_capacity(seal.alpha.len() * 4);
    for (px, a) in seal.rgb.chunks_exact(3).zip(&seal.alpha) {
        rgba.extend_from_slice(px);
        rgba.push(*a);
    }
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            &rgba,
            seal.width,
            seal.height,
            image::ExtendedColorType::Rgba8,
        )
        .map_err(|e| SealError::invalid(format!("cannot encode the seal PNG ({e})")))?;
    Ok(out)
}

/// The default round red company seal (公章 style), `size_px` square (clamped to
/// 32..=[`MAX_DEFAULT_SEAL_SIDE`]), transparent background, deterministic for a given name and size:
///
/// - a thick red ring;
/// - a five-pointed star in the middle;
/// - along the upper arc, where a real seal carries the organisation's name, a row of radial
///   marks encoding a 32-bit FNV-1a hash of `org_name` (a mark where a bit is 1), and below
///   the star a bar with a 16-bit serial in the same notation — so seals of different
///   organisations differ visibly.
///
/// **The organisation's name itself is not drawn.** Chinese text along the ring needs a CJK
/// font and a glyph rasteriser; no font is bundled with camr, so platforms that want the
/// name on the seal pass their own image (usually the registered seal's scan).
pub fn default_seal(org_name: &str, size_px: u32) -> SealImage {
    let size = default_seal_side(size_px);
    let s = size as f32;
    let c = s / 2.0;
    let hash = fnv1a(org_name.as_bytes());
    // Geometry in pixels, image coordinates (y down).
    let r_out = 0.48 * s;
    let r_in = 0.43 * s;
    let star_r = 0.20 * s;
    let star = star_polygon(c, c, star_r, star_r * 0.382);
    let mark_r0 = 0.33 * s;
    let mark_r1 = 0.40 * s;
    let mark_half = 0.012 * s;
    let bar_y0 = c + 0.25 * s;
    let bar_y1 = c + 0.29 * s;
    let bar_x0 = c - 0.16 * s;
    let bar_x1 = c + 0.16 * s;
    let inside = |x: f32, y: f32| -> bool {
        let dx = x - c;
        let dy = y - c;
        let r = (dx * dx + dy * dy).sqrt();
        if (r_in..=r_out).contains(&r) {
            return true;
        }
        if point_in_polygon(&star, x, y) {
            return true;
        }
        // Marks: 32 positions on the upper arc from 160° to 20° (counter-clockwise from +x,
        // y up), one per bit of the hash.
        if (mark_r0..=mark_r1).contains(&r) && dy < 0.0 {
            let angle = (-dy).atan2(dx).to_degrees(); // 0..180, y up
            if (20.0..=160.0).contains(&angle) {
                let step = 140.0 / 31.0;
                let k = ((160.0 - angle) / step).round();
                let centre = (160.0 - k * step).to_radians();
                // Distance from the mark's centre line.
                let (sin, cos) = centre.sin_cos();
                let across = (dx * sin + dy * cos).abs();
                let bit = k as u32;
                if across <= mark_half && bit < 32 && (hash >> bit) & 1 == 1 {
                    return true;
                }
            }
        }
        // Serial bar: 16 cells below the star, filled where a bit of the hash's high half is 1.
        if (bar_y0..=bar_y1).contains(&y) && (bar_x0..bar_x1).contains(&x) {
            let cell = ((x - bar_x0) / (bar_x1 - bar_x0) * 16.0) as u32;
            let within = (x - bar_x0) / (bar_x1 - bar_x0) * 16.0 - cell as f32;
            if within > 0.15 && (hash >> (32 + cell.min(15))) & 1 == 1 {
                return true;
            }
            // A thin baseline under the cells so an all-zero serial still shows a bar.
            if y >= bar_y1 - 0.008 * s {
                return true;
            }
        }
        false
    };
    // 4×4 supersampling for smooth edges.
    const SS: u32 = 4;
    let pixels = size as usize * size as usize;
    let mut rgb = Vec::with_capacity(pixels * 3);
    let mut alpha = Vec::with_capacity(pixels);
    for py in 0..size {
        for px in 0..size {
            let mut hits = 0u32;
            for sy in 0..SS {
                for sx in 0..SS {
                    let x = px as f32 + (sx as f32 + 0.5) / SS as f32;
                    let y = py as f32 + (sy as f32 + 0.5) / SS as f32;
                    if inside(x, y) {
                        hits += 1;
                    }
                }
            }
            rgb.extend_from_slice(&SEAL_RED);
            alpha.push(((hits * 255 + SS * SS / 2) / (SS * SS)) as u8);
        }
    }
    SealImage {
        width: size,
        height: size,
        rgb,
        alpha,
    }
}

/// Largest default seal, in pixels per side (a 40 mm seal at 600 dpi is about 945).
pub const MAX_DEFAULT_SEAL_SIDE: u32 = 1024;

fn default_seal_side(size_px: u32) -> u32 {
    size_px.clamp(32, MAX_DEFAULT_SEAL_SIDE)
}

/// 64-bit FNV-1a: a fixed, dependency-free hash for the seal's marks (not security).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The ten vertices of a five-pointed star pointing up (image coordinates, y down).
fn star_polygon(cx: f32, cy: f32, r_outer: f32, r_inner: f32) -> Vec<(f32, f32)> {
    (0..10)
        .map(|i| {
            let r = if i % 2 == 0 { r_outer } else { r_inner };
            let a = (-90.0 + 36.0 * i as f32).to_radians();
            (cx + r * a.cos(), cy + r * a.sin())
        })
        .collect()
}

/// Even-odd point-in-polygon test.
fn point_in_polygon(poly: &[(f32, f32)], x: f32, y: f32) -> bool {
    let mut inside = false;
    let prev = poly.iter().cycle().skip(poly.len().saturating_sub(1));
    for (&(xi, yi), &(xj, yj)) in poly.iter().zip(prev) {
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

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
