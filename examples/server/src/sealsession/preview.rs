//! Page previews of a seal session: page `n` as it stands (seals applied so far included), 1
//! pixel per point, through `pdftoppm`; a blank sheet of the page's size without it.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use camr::seal::PageSize;

use super::{Sessions, Shared};
use crate::api::{ApiError, parse_tid};

pub(super) async fn preview(
    State(s): Shared,
    Extension(sessions): Extension<Arc<Sessions>>,
    Path((tid, page)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let tid = parse_tid(&tid)?;
    let page: u32 = page.parse().map_err(|_| {
        ApiError::malformed(format!(
            "`{}` is not a page number",
            page.chars().take(20).collect::<String>()
        ))
    })?;
    let (doc, size) = {
        let flow = sessions.load(&tid).await?.value;
        let session = &flow;
        let size = session
            .pages
            .iter()
            .find(|p| p.number == page)
            .copied()
            .ok_or_else(|| {
                ApiError::malformed(format!(
                    "page {page} does not exist (the document has {} pages)",
                    session.pages.len()
                ))
            })?;
        (sessions.document(&tid, &flow).await?, size)
    };
    let rendered = match &sessions.pdftoppm {
        Some(tool) => {
            tokio::fs::create_dir_all(&s.files_dir)
                .await
                .map_err(ApiError::internal)?;
            let root = crate::files::temp_path(&s)?.with_extension("");
            render_page(tool, doc, page, root).await
        }
        None => None,
    };
    let (png, how) = match rendered {
        Some(png) => (png, "rendered"),
        None => (blank_page(size)?, "blank"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-store"),
            (header::HeaderName::from_static("x-camr-preview"), how),
        ],
        png,
    )
        .into_response())
}

/// Page `page` at 72 dpi (one pixel per point) through `pdftoppm`, its crop box as a reader
/// sees it; `None` when the tool fails (the page then gets a blank sheet). The PDF goes in on
/// stdin; the image comes out as `<root>.png` (pdftoppm 22 cannot write PNG to stdout).
async fn render_page(
    tool: &std::path::Path,
    pdf: Vec<u8>,
    page: u32,
    root: std::path::PathBuf,
) -> Option<Vec<u8>> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(tool)
        .args(["-f", &page.to_string(), "-l", &page.to_string()])
        .args(["-r", "72", "-cropbox", "-png", "-singlefile", "-"])
        .arg(&root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&pdf).await;
    });
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .ok()?
        .ok()?;
    let _ = writer.await;
    let file = root.with_extension("png");
    let png = tokio::fs::read(&file).await.ok();
    let _ = tokio::fs::remove_file(&file).await;
    png.filter(|p| status.success() && p.starts_with(b"\x89PNG"))
}

/// A white sheet of the page's size with a grey border.
fn blank_page(size: PageSize) -> Result<Vec<u8>, ApiError> {
    let w = (size.width.round() as u32).clamp(1, 4000);
    let h = (size.height.round() as u32).clamp(1, 4000);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
            image::Rgb([180, 180, 180])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(ApiError::internal)?;
    Ok(out.into_inner())
}
