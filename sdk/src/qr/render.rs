//! QR symbols: encoding with the `qrcode` crate (level M), rendering to PNG and SVG, and
//! reading a payload back from an image with the independent `rqrr` decoder.

use std::io::Cursor;

use image::{ImageEncoder, Luma, codecs::png::PngEncoder};
use qrcode::{EcLevel, QrCode};

use super::QrError;

/// Largest image file [`decode_image`] reads, in bytes.
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;
/// Largest image side [`decode_image`] decodes, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 8000;

/// Encodes `text` as a QR symbol at error-correction level M, in the smallest version that
/// holds it. The encoder picks modes per segment, so a `camr1` header goes in alphanumeric
/// mode and the request URI in byte mode.
pub fn to_qr_code(text: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|_| QrError::TooLarge { len: text.len() })
}

/// Renders `text` as a PNG (8-bit grey) with `module_px` pixels per module and the standard
/// 4-module quiet zone.
pub fn render_png(text: &str, module_px: u32) -> Result<Vec<u8>, QrError> {
    let code = to_qr_code(text)?;
    let module_px = module_px.clamp(1, 64);
    let img = code
        .render::<Luma<u8>>()
        .module_dimensions(module_px, module_px)
        .build();
    let mut out = Vec::new();
    PngEncoder::new(Cursor::new(&mut out))
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::L8,
        )
        .map_err(|e| QrError::Other(format!("PNG encoding failed: {e}")))?;
    Ok(out)
}

/// Renders `text` as an SVG document.
pub fn render_svg(text: &str) -> Result<String, QrError> {
    let code = to_qr_code(text)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .build())
}

/// Reads the payload text of the first QR code found in an image (PNG).
pub fn decode_image(bytes: &[u8]) -> Result<String, QrError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(QrError::malformed(format!(
            "the image is {} bytes, more than {MAX_IMAGE_BYTES}",
            bytes.len()
        )));
    }
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| QrError::malformed(format!("cannot read the image ({e})")))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| QrError::malformed(format!("not a readable PNG image ({e})")))?
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    let grid = grids
        .first()
        .ok_or_else(|| QrError::malformed("no QR code found in the image"))?;
    let (_meta, content) = grid.decode().map_err(|e| {
        QrError::malformed(format!("the QR code in the image cannot be decoded ({e})"))
    })?;
    Ok(content)
}
