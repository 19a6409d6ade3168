//! Watermarked copies (水印副本) of case materials: a trust-level A or B copy is handed out only
//! with the national guide's text over every page, "此件由××机构提供，仅供办理政务服务事项时使用，
//! 有效期至…", so that a copy cannot be passed off as the original or reused elsewhere.
//!
//! A PDF keeps its pages: each is embedded unchanged (as a form XObject, vectors and text intact)
//! at its own size, and the watermark is drawn over it. A JPEG or PNG is placed, scaled to fit and
//! centred, on an A4 page (portrait or landscape, whichever suits it) under the same watermark.
//! The watermark is the text in grey at low opacity, repeated diagonally across the page, plus
//! one upright line at the top edge that stays readable however the page is cropped.
//!
//! The output is an ordinary PDF (not PDF/A: an embedded PDF may not meet PDF/A), dated with no
//! clock: the same input gives the same bytes.

use std::sync::Arc;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{Point, Size, Transform};
use krilla::image::Image;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::pdf::{Pdf, PdfDocument};
use krilla::surface::Surface;
use krilla::text::Font;

use crate::DocumentError;
use crate::font::Shaper;
use crate::layout::{PAGE_HEIGHT, PAGE_WIDTH};

/// The kinds of copy that can be watermarked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyKind {
    /// `application/pdf`.
    Pdf,
    /// `image/jpeg`.
    Jpeg,
    /// `image/png`.
    Png,
}

impl CopyKind {
    /// The kind of a media type, or `None` for one that cannot be watermarked (OFD, say).
    pub fn from_media_type(media_type: &str) -> Option<CopyKind> {
        match media_type {
            "application/pdf" => Some(CopyKind::Pdf),
            "image/jpeg" => Some(CopyKind::Jpeg),
            "image/png" => Some(CopyKind::Png),
            _ => None,
        }
    }
}

/// Most pages of a PDF that are copied (a bigger file is refused, not truncated).
pub const MAX_PAGES: usize = 500;

/// The watermark's text: "此件由{provider}提供，仅供办理政务服务事项时使用，有效期至{until}".
pub fn watermark_text(provider: &str, until: &str) -> String {
    format!("此件由{provider}提供，仅供办理政务服务事项时使用，有效期至{until}")
}

/// Renders `bytes` (of `kind`) as a PDF with `text` over every page.
pub(crate) fn watermark(
    font: &Font,
    shaper: &Shaper<'_>,
    kind: CopyKind,
    bytes: &[u8],
    text: &str,
) -> Result<Vec<u8>, DocumentError> {
    if text.trim().is_empty() {
        return Err(DocumentError::InvalidNotice(
            "a watermark needs its text".into(),
        ));
    }
    // Map the characters first: a text the font cannot print is refused before any work.
    shaper.width(text, 10.0);
    shaper.check_missing()?;
    let mut document = Document::new();
    match kind {
        CopyKind::Pdf => {
            let pdf = Pdf::new(Arc::new(bytes.to_vec()))
                .map_err(|e| DocumentError::Original(format!("not a readable PDF: {e:?}")))?;
            let pages = pdf.pages().len();
            if pages == 0 {
                return Err(DocumentError::Original("the PDF has no pages".into()));
            }
            if pages > MAX_PAGES {
                return Err(DocumentError::Original(format!(
                    "the PDF has {pages} pages, more than {MAX_PAGES}"
                )));
            }
            let sizes: Vec<(f32, f32)> =
                pdf.pages().iter().map(|p| p.render_dimensions()).collect();
            let embedded = PdfDocument::new(Arc::new(pdf));
            for (index, (w, h)) in sizes.into_iter().enumerate() {
                let (settings, size) = page_of(w, h)?;
                let mut page = document.start_page_with(settings);
                let mut surface = page.surface();
                surface.draw_pdf_page(&embedded, size, index);
                overlay(&mut surface, (w, h), text, font, shaper);
                surface.finish();
                page.finish();
            }
        }
        CopyKind::Jpeg | CopyKind::Png => {
            let data: krilla::Data = bytes.to_vec().into();
            let image = match kind {
                CopyKind::Jpeg => Image::from_jpeg(data, true),
                _ => Image::from_png(data, true),
            }
            .map_err(|e| DocumentError::Original(format!("not a readable image: {e}")))?;
            let (iw, ih) = image.size();
            if iw == 0 || ih == 0 {
                return Err(DocumentError::Original("the image is empty".into()));
            }
            // Landscape pictures go on a landscape page.
            let (w, h) = if iw > ih {
                (PAGE_HEIGHT, PAGE_WIDTH)
            } else {
                (PAGE_WIDTH, PAGE_HEIGHT)
            };
            let margin = 36.0;
            let scale = ((w - 2.0 * margin) / iw as f32).min((h - 2.0 * margin) / ih as f32);
            let (dw, dh) = (iw as f32 * scale, ih as f32 * scale);
            let (settings, _) = page_of(w, h)?;
            let mut page = document.start_page_with(settings);
            let mut surface = page.surface();
            let size = Size::from_wh(dw, dh)
                .ok_or_else(|| DocumentError::Original("the image is empty".into()))?;
            surface.push_transform(&Transform::from_translate((w - dw) / 2.0, (h - dh) / 2.0));
            surface.draw_image(image, size);
            surface.pop();
            overlay(&mut surface, (w, h), text, font, shaper);
            surface.finish();
            page.finish();
        }
    }
    document
        .finish()
        .map_err(|e| DocumentError::Original(format!("cannot copy it: {e:?}")))
}

fn page_of(w: f32, h: f32) -> Result<(PageSettings, Size), DocumentError> {
    let bad = || DocumentError::Original(format!("bad page size {w}×{h}"));
    let settings = PageSettings::from_wh(w, h).ok_or_else(bad)?;
    let size = Size::from_wh(w, h).ok_or_else(bad)?;
    Ok((settings, size))
}

/// Draws the watermark over a page of `w`×`h` points.
fn overlay(
    surface: &mut Surface<'_>,
    (w, h): (f32, f32),
    text: &str,
    font: &Font,
    shaper: &Shaper<'_>,
) {
    let glyphs = shaper.glyphs(text);
    // The diagonal lines: a size that puts the whole text across the page's diagonal.
    let diagonal = (w * w + h * h).sqrt();
    let width_at_1 = shaper.width(text, 1.0).max(1.0);
    let size = (diagonal * 0.8 / width_at_1).clamp(8.0, 28.0);
    let line_width = width_at_1 * size;
    surface.set_fill(Some(Fill {
        paint: rgb::Color::new(128, 128, 128).into(),
        opacity: NormalizedF32::new(0.28).unwrap_or(NormalizedF32::ONE),
        ..Fill::default()
    }));
    surface.set_stroke(None);
    // Rotated 30° up from the horizontal about the page's centre (y grows downwards here).
    surface.push_transform(&Transform::from_rotate_at(-30.0, w / 2.0, h / 2.0));
    let gap = (size * 6.0).max(h / 6.0);
    let mut y = h / 2.0 - gap * 3.0;
    while y <= h / 2.0 + gap * 3.0 {
        surface.draw_glyphs(
            Point::from_xy((w - line_width) / 2.0, y),
            &glyphs,
            font.clone(),
            text,
            size,
            false,
        );
        y += gap;
    }
    surface.pop();
    // The upright line at the top edge.
    let top = (w * 0.92 / width_at_1).clamp(4.0, 10.0);
    surface.set_fill(Some(Fill {
        paint: rgb::Color::new(160, 0, 0).into(),
        opacity: NormalizedF32::new(0.85).unwrap_or(NormalizedF32::ONE),
        ..Fill::default()
    }));
    surface.draw_glyphs(
        Point::from_xy((w - width_at_1 * top) / 2.0, top * 1.6),
        &glyphs,
        font.clone(),
        text,
        top,
        false,
    );
    surface.set_fill(None);
}
