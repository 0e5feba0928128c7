//! The seals camr draws when the caller gives no image: the default round red company seal
//! and the other kinds' stand-ins (contract, finance, personal chop, handwritten).

use image::ImageEncoder as _;

use super::{SEAL_RED, SealError, SealImage};
use crate::protocol::SealKind;

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

pub(super) fn default_seal_side(size_px: u32) -> u32 {
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
