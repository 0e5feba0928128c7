//! `cargo xtask big-pdf --pages 200 --mb 50 --out FILE [--seed N] [--xref-stream]`: writes a
//! large, realistic PDF for the seal benchmark (`benches/pdf-seal-rss.sh`).
//!
//! Each A4 page has a compressed text content stream (a heading and a few dozen lines of a
//! bid document) and one image XObject of incompressible data (8-bit RGB noise, no filter —
//! the size of a scanned page), so the file size is close to `--mb` MiB and no part of it
//! shrinks when a tool recompresses it. The noise comes from a seeded splitmix64, so the same
//! arguments give the same bytes. The default is a classic cross-reference table;
//! `--xref-stream` writes object streams and a cross-reference stream instead.

use std::path::PathBuf;

use lopdf::{Document, Object, Stream, dictionary};

/// What to generate.
#[derive(Debug)]
struct Options {
    pages: u32,
    mib: u64,
    out: PathBuf,
    seed: u64,
    xref_stream: bool,
}

/// Bytes per page that are not the image (objects, content stream, cross-reference entries).
const PAGE_OVERHEAD: u64 = 2_000;

/// Image width in pixels; the height follows from the size per page.
const IMAGE_WIDTH: u64 = 600;

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        pages: 200,
        mib: 50,
        out: PathBuf::new(),
        seed: 8,
        xref_stream: false,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value"))
                .cloned()
        };
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: `{v}` is not a number"))
        };
        match flag.as_str() {
            "--pages" => {
                o.pages = u32::try_from(number(value()?)?)
                    .map_err(|_| "--pages is too large".to_string())?;
            }
            "--mb" => o.mib = number(value()?)?,
            "--seed" => o.seed = number(value()?)?,
            "--out" => o.out = PathBuf::from(value()?),
            "--xref-stream" => o.xref_stream = true,
            other => return Err(format!("big-pdf: unknown argument `{other}`")),
        }
    }
    if o.out.as_os_str().is_empty() {
        return Err("big-pdf needs --out FILE".into());
    }
    if o.pages == 0 || o.pages > 100_000 {
        return Err("--pages must be 1..=100000".into());
    }
    if o.mib > 4096 {
        return Err("--mb must be at most 4096".into());
    }
    Ok(o)
}

/// splitmix64: fast, seeded, and its output does not compress.
struct Noise(u64);

impl Noise {
    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let bytes = z.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// The text of page `n` of `pages`: a heading and lines of a bid document.
fn page_text(n: u32, pages: u32) -> Vec<u8> {
    let mut c = String::new();
    c.push_str(&format!(
        "BT /F1 16 Tf 56 800 Td (Bid document - section {n} of {pages}) Tj ET\n"
    ));
    c.push_str("BT /F1 9 Tf 56 780 Td 11 TL\n");
    for line in 0..40 {
        c.push_str(&format!(
            "(Item {n}.{line}: supply, installation and acceptance as in the tender, clause {}, \
             unit price per the schedule.) '\n",
            (u64::from(n) * 41 + line) % 997
        ));
    }
    c.push_str("ET\n");
    c.push_str("q 483 0 0 300 56 100 cm /Im1 Do Q\n");
    c.into_bytes()
}

fn generate(o: &Options) -> Result<Vec<u8>, String> {
    let per_page = (o.mib * 1024 * 1024) / u64::from(o.pages);
    let image_bytes = per_page.saturating_sub(PAGE_OVERHEAD).max(IMAGE_WIDTH * 3);
    let height = (image_bytes / (IMAGE_WIDTH * 3)).max(1);
    let image_len = usize::try_from(IMAGE_WIDTH * height * 3)
        .map_err(|_| "the image is too large for this machine".to_string())?;
    let width = i64::try_from(IMAGE_WIDTH).map_err(|e| e.to_string())?;
    let height = i64::try_from(height).map_err(|e| e.to_string())?;

    let mut doc = Document::with_version("1.7");
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    });
    let mut noise = Noise(o.seed);
    let mut kids = Vec::with_capacity(o.pages as usize);
    for n in 1..=o.pages {
        let mut pixels = vec![0u8; image_len];
        noise.fill(&mut pixels);
        let image = doc.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => width,
                "Height" => height,
                "ColorSpace" => "DeviceRGB",
                "BitsPerComponent" => 8,
            },
            pixels,
        ));
        let mut content = Stream::new(dictionary! {}, page_text(n, o.pages));
        content.compress().map_err(|e| e.to_string())?;
        let content = doc.add_object(content);
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Contents" => content,
            "Resources" => dictionary! {
                "Font" => dictionary! { "F1" => font },
                "XObject" => dictionary! { "Im1" => image },
            },
        });
        kids.push(Object::Reference(page));
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => i64::from(o.pages),
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::with_capacity(usize::try_from(o.mib * 1024 * 1024 + 65_536).unwrap_or(0));
    if o.xref_stream {
        doc.save_modern(&mut out).map_err(|e| e.to_string())?;
    } else {
        doc.save_to(&mut out).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Runs `big-pdf` with the arguments after the task name.
pub fn big_pdf(args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    let bytes = generate(&o)?;
    std::fs::write(&o.out, &bytes).map_err(|e| format!("cannot write {}: {e}", o.out.display()))?;
    eprintln!(
        "big-pdf: {} pages, {} bytes ({:.1} MiB) written to {}",
        o.pages,
        bytes.len(),
        bytes.len() as f64 / 1_048_576.0,
        o.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_small_file_has_the_pages_and_size_asked_for() {
        let o = parse(&[
            "--pages".into(),
            "3".into(),
            "--mb".into(),
            "1".into(),
            "--out".into(),
            "x.pdf".into(),
        ])
        .unwrap();
        let bytes = generate(&o).unwrap();
        let mib = bytes.len() as f64 / 1_048_576.0;
        assert!((0.95..1.05).contains(&mib), "{mib} MiB");
        let doc = Document::load_mem(&bytes).unwrap();
        assert_eq!(doc.get_pages().len(), 3);
        // The same arguments give the same bytes.
        assert_eq!(generate(&o).unwrap(), bytes);
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["--pages".into(), "0".into(), "--out".into(), "x".into()]).is_err());
        assert!(parse(&["--pages".into()]).is_err());
        assert!(parse(&["--colour".into()]).is_err());
    }
}
