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
use crate::protocol::SealKind;

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

/// The default seal as a PNG: see [`default_seal`].
pub fn default_seal_png(org_name: &str, size_px: u32) -> Result<Vec<u8>, SealError> {
    to_png(&default_seal(org_name, size_px))
}

/// Encodes a seal image as an RGBA PNG.
fn to_png(seal: &SealImage) -> Result<Vec<u8>, SealError> {
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
    rasterise(size, size, SEAL_RED, inside)
}

/// Paints the shape `inside` (image coordinates, y down) in `colour` on a transparent
/// `width`×`height` image, with 4×4 supersampling for smooth edges.
fn rasterise(
    width: u32,
    height: u32,
    colour: [u8; 3],
    inside: impl Fn(f32, f32) -> bool,
) -> SealImage {
    const SS: u32 = 4;
    let pixels = width as usize * height as usize;
    let mut rgb = Vec::with_capacity(pixels * 3);
    let mut alpha = Vec::with_capacity(pixels);
    for py in 0..height {
        for px in 0..width {
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
            rgb.extend_from_slice(&colour);
            alpha.push(((hits * 255 + SS * SS / 2) / (SS * SS)) as u8);
        }
    }
    SealImage {
        width,
        height,
        rgb,
        alpha,
    }
}

/// The ink of a handwritten signature (R, G, B): a dark blue pen.
pub const INK_BLUE: [u8; 3] = [24, 36, 110];

/// The seal image of `kind` for `holder` as a PNG: see [`seal_image`].
pub fn seal_png(kind: SealKind, holder: &str, size_px: u32) -> Result<Vec<u8>, SealError> {
    to_png(&seal_image(kind, holder, size_px))
}

/// A seal image of `kind` for `holder` (the organisation or the person), `size_px` wide
/// (clamped to 32..=[`MAX_DEFAULT_SEAL_SIDE`]), transparent background, deterministic for a
/// given kind, holder and size. The kinds look different at a glance, as the real ones do:
///
/// - 公章 ([`SealKind::Official`]): [`default_seal`], round with a star;
/// - 合同专用章 ([`SealKind::Contract`]): round, a double inner ring, a smaller star;
/// - 财务专用章 ([`SealKind::Finance`]): an oval (wider than high) with an inner ring and a
///   bar of cells across the middle;
/// - 法人章 ([`SealKind::LegalRepresentative`]): a square chop with a thick border, quartered
///   like a four-character name seal;
/// - 人名章 ([`SealKind::PersonalName`]): a square chop with a double border;
/// - 手写签名 ([`SealKind::Handwritten`]): a dark-blue pen stroke, twice as wide as high.
///
/// As in [`default_seal`], no text is drawn (no CJK font is bundled): marks encoding a hash of
/// `holder` make the seals of different holders differ visibly.
pub fn seal_image(kind: SealKind, holder: &str, size_px: u32) -> SealImage {
    let size = default_seal_side(size_px);
    let hash = fnv1a(holder.as_bytes());
    match kind {
        SealKind::Official => default_seal(holder, size),
        SealKind::Contract => contract_seal(hash, size),
        SealKind::Finance => finance_seal(hash, size),
        SealKind::LegalRepresentative => square_chop(hash, size, true),
        SealKind::PersonalName => square_chop(hash, size, false),
        SealKind::Handwritten => handwritten(hash, size),
    }
}

/// Whether (`nx`, `ny`) (relative to the centre, in units of the seal's size, y down) lies on
/// one of 32 radial marks of the upper arc from 160° to 20°, between radii `r0` and `r1`,
/// where the matching bit of `hash` is 1.
fn arc_mark(nx: f32, ny: f32, r0: f32, r1: f32, half: f32, hash: u64) -> bool {
    let r = (nx * nx + ny * ny).sqrt();
    if !(r0..=r1).contains(&r) || ny >= 0.0 {
        return false;
    }
    let angle = (-ny).atan2(nx).to_degrees();
    if !(20.0..=160.0).contains(&angle) {
        return false;
    }
    let step = 140.0 / 31.0;
    let k = ((160.0 - angle) / step).round();
    let (sin, cos) = (160.0 - k * step).to_radians().sin_cos();
    let bit = k as u32;
    (nx * sin + ny * cos).abs() <= half && bit < 32 && (hash >> bit) & 1 == 1
}

/// Whether `u` in 0..1 falls in a filled cell of a row of `cells` cells whose bits come from
/// `bits` (a gap at the start of each cell keeps neighbours apart).
fn cell_filled(u: f32, cells: u32, bits: u64) -> bool {
    if !(0.0..1.0).contains(&u) {
        return false;
    }
    let pos = u * cells as f32;
    let cell = pos as u32;
    pos - cell as f32 > 0.15 && (bits >> cell.min(63)) & 1 == 1
}

/// 合同专用章: an outer ring, two thin inner rings, marks on the upper arc, a smaller star.
fn contract_seal(hash: u64, size: u32) -> SealImage {
    let s = size as f32;
    let c = s / 2.0;
    let star_r = 0.14 * s;
    let star = star_polygon(c, c + 0.02 * s, star_r, star_r * 0.382);
    rasterise(size, size, SEAL_RED, |x, y| {
        let (nx, ny) = ((x - c) / s, (y - c) / s);
        let r = (nx * nx + ny * ny).sqrt();
        (0.44..=0.48).contains(&r)
            || (0.405..=0.418).contains(&r)
            || (0.378..=0.391).contains(&r)
            || arc_mark(nx, ny, 0.27, 0.34, 0.012, hash)
            || point_in_polygon(&star, x, y)
    })
}

/// 财务专用章: an oval ring, a thin inner oval, marks on the upper arc and a bar of cells.
fn finance_seal(hash: u64, size: u32) -> SealImage {
    let width = size;
    let height = (size * 2 / 3).max(22);
    let (w, h) = (width as f32, height as f32);
    let (cx, cy) = (w / 2.0, h / 2.0);
    let (a, b) = (0.48 * w, 0.48 * h);
    rasterise(width, height, SEAL_RED, |x, y| {
        // Normalised so that the outer edge of the oval is the unit circle.
        let (nx, ny) = ((x - cx) / a, (y - cy) / b);
        let rho = (nx * nx + ny * ny).sqrt();
        if (0.9..=1.0).contains(&rho) || (0.8..=0.83).contains(&rho) {
            return true;
        }
        if arc_mark(nx, ny, 0.55, 0.7, 0.025, hash) {
            return true;
        }
        // A bar of 16 cells across the middle, from the hash's high half.
        ((-0.08..=0.08).contains(&ny) && cell_filled(nx + 0.5, 16, hash >> 32))
            || ((0.08..=0.11).contains(&ny) && (-0.5..0.5).contains(&nx))
    })
}

/// 法人章 (`quartered`) or 人名章: a square chop. The legal representative's has a thick
/// border and a cross making four fields of 4×4 cells (one per character of a four-character
/// name seal); the personal one a double border around 5×5 cells.
fn square_chop(hash: u64, size: u32, quartered: bool) -> SealImage {
    let s = size as f32;
    rasterise(size, size, SEAL_RED, |x, y| {
        let (u, v) = (x / s, y / s);
        // Distance from the nearest edge, in units of the size.
        let edge = u.min(v).min(1.0 - u).min(1.0 - v);
        if quartered {
            if (0.04..=0.12).contains(&edge) {
                return true;
            }
            if edge < 0.12 {
                return false;
            }
            if (u - 0.5).abs() <= 0.02 || (v - 0.5).abs() <= 0.02 {
                return true;
            }
            // Four fields, each 4×4 cells: 16 bits of the hash per field.
            let field = u32::from(u > 0.5) + 2 * u32::from(v > 0.5);
            let fu = if u > 0.5 {
                (u - 0.52) / 0.32
            } else {
                (u - 0.16) / 0.32
            };
            let fv = if v > 0.5 {
                (v - 0.52) / 0.32
            } else {
                (v - 0.16) / 0.32
            };
            if !(0.0..1.0).contains(&fv) {
                return false;
            }
            let row = (fv * 4.0) as u32;
            let within = fv * 4.0 - row as f32;
            within > 0.2 && cell_filled(fu, 4, hash >> (16 * field + 4 * row))
        } else {
            if (0.04..=0.09).contains(&edge) || (0.125..=0.145).contains(&edge) {
                return true;
            }
            let (fu, fv) = ((u - 0.2) / 0.6, (v - 0.2) / 0.6);
            if !(0.0..1.0).contains(&fv) {
                return false;
            }
            let row = (fv * 5.0) as u32;
            let within = fv * 5.0 - row as f32;
            within > 0.15 && cell_filled(fu, 5, hash >> (5 * row))
        }
    })
}

/// 手写签名: a pen stroke, tapered at both ends, whose waves come from the hash; twice as wide
/// as high, in [`INK_BLUE`].
fn handwritten(hash: u64, size: u32) -> SealImage {
    let width = size;
    let height = (size / 2).max(16);
    let (w, h) = (width as f32, height as f32);
    let unit = |shift: u32| ((hash >> shift) & 0xff) as f32 / 255.0;
    let tau = std::f32::consts::TAU;
    let a1 = (0.16 + 0.1 * unit(0)) * h;
    let f1 = tau * (2.0 + 0.5 * ((hash >> 8) & 7) as f32) / w;
    let p1 = tau * unit(16);
    let a2 = (0.03 + 0.06 * unit(24)) * h;
    let f2 = f1 * (2.5 + unit(32));
    let p2 = tau * unit(40);
    let slope = (unit(48) - 0.5) * 0.3;
    let (x0, x1) = (0.06 * w, 0.94 * w);
    let half = 0.045 * h;
    rasterise(width, height, INK_BLUE, |x, y| {
        if !(x0..=x1).contains(&x) {
            return false;
        }
        let t = x - x0;
        let centre = h / 2.0
            + slope * (t - (x1 - x0) / 2.0)
            + a1 * (f1 * t + p1).sin()
            + a2 * (f2 * t + p2).sin();
        let dy = slope + a1 * f1 * (f1 * t + p1).cos() + a2 * f2 * (f2 * t + p2).cos();
        // Pen pressure: thin at both ends.
        let along = t / (x1 - x0);
        let pressure = (std::f32::consts::PI * along).sin().max(0.0).sqrt();
        (y - centre).abs() / (1.0 + dy * dy).sqrt() <= half * (0.25 + 0.75 * pressure)
    })
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
