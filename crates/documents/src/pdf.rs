//! Writes a [`Layout`] as PDF with krilla: embedded (subset) CJK font with a ToUnicode map so the
//! text can be searched and extracted, vector rules, and the QR code as filled squares (no raster
//! image, so it stays sharp at any zoom and print resolution).
//!
//! The output is PDF/A-2u (archival, every glyph mapped to Unicode): notices are records the
//! government keeps. Its dates come from the notice (the issue date), never from the clock, so the
//! same notice gives the same bytes.

use chrono::Datelike;
use krilla::Document;
use krilla::color::luma;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::Font;
use qrcode::{Color, EcLevel, QrCode};

use crate::DocumentError;
use crate::font::Shaper;
use crate::layout::{Item, Layout, PAGE_HEIGHT, PAGE_WIDTH};

/// Quiet zone around the QR code, in modules (the standard asks for 4).
const QR_QUIET_MODULES: usize = 4;

/// Serialises `layout`. `issued_on` is the document date of the PDF metadata.
pub(crate) fn write(
    layout: &Layout,
    font: &Font,
    shaper: &Shaper<'_>,
    issued_on: chrono::NaiveDate,
) -> Result<Vec<u8>, DocumentError> {
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_U)
        .finish()
        .map_err(|e| DocumentError::Pdf(format!("{e:?}")))?;
    let settings = krilla::SerializeSettings {
        configuration,
        ..Default::default()
    };
    let mut document = Document::new_with(settings);
    let date = DateTime::new(u16::try_from(issued_on.year()).unwrap_or(2000))
        .month(u8::try_from(issued_on.month()).unwrap_or(1))
        .day(u8::try_from(issued_on.day()).unwrap_or(1))
        .utc_offset_hour(8);
    document.set_metadata(
        Metadata::new()
            .title(layout.title.clone())
            .language("zh-CN".into())
            .creator("Yiwang".into())
            .creation_date(date),
    );
    let size = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
        .ok_or_else(|| DocumentError::Pdf("bad page size".into()))?;
    for page_layout in &layout.pages {
        let mut page = document.start_page_with(size.clone());
        let mut surface = page.surface();
        for item in &page_layout.items {
            draw(&mut surface, item, font, shaper)?;
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| DocumentError::Pdf(format!("{e:?}")))
}

fn black_fill() -> Fill {
    Fill {
        paint: luma::Color::black().into(),
        ..Fill::default()
    }
}

fn draw(
    surface: &mut Surface<'_>,
    item: &Item,
    font: &Font,
    shaper: &Shaper<'_>,
) -> Result<(), DocumentError> {
    match item {
        Item::Text {
            x,
            y,
            size,
            bold,
            text,
            ..
        } => {
            let glyphs = shaper.glyphs(text);
            surface.set_fill(Some(black_fill()));
            // One regular face: heavier text is the same glyphs filled and thinly stroked.
            surface.set_stroke(bold.then(|| Stroke {
                width: size * 0.035,
                ..Stroke::default()
            }));
            surface.draw_glyphs(
                Point::from_xy(*x, *y),
                &glyphs,
                font.clone(),
                text,
                *size,
                false,
            );
            surface.set_stroke(None);
        }
        Item::Rule {
            x1,
            y1,
            x2,
            y2,
            width,
        } => {
            let mut pb = PathBuilder::new();
            pb.move_to(*x1, *y1);
            pb.line_to(*x2, *y2);
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    width: *width,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
        Item::QrCode { x, y, size, data } => draw_qr(surface, *x, *y, *size, data)?,
    }
    Ok(())
}

/// Draws the dark modules, merged into horizontal runs, as one filled path.
fn draw_qr(
    surface: &mut Surface<'_>,
    x: f32,
    y: f32,
    size: f32,
    data: &str,
) -> Result<(), DocumentError> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| DocumentError::QrCode(e.to_string()))?;
    let width = code.width();
    let module = size / (width + 2 * QR_QUIET_MODULES) as f32;
    let origin = |n: usize| (n + QR_QUIET_MODULES) as f32 * module;
    let colors = code.to_colors();
    let mut pb = PathBuilder::new();
    for (row, cells) in colors.chunks(width).enumerate() {
        let mut col = 0;
        while col < width {
            if cells[col] == Color::Dark {
                let start = col;
                while col < width && cells[col] == Color::Dark {
                    col += 1;
                }
                if let Some(rect) = Rect::from_xywh(
                    x + origin(start),
                    y + origin(row),
                    (col - start) as f32 * module,
                    module,
                ) {
                    pb.push_rect(rect);
                }
            } else {
                col += 1;
            }
        }
    }
    if let Some(path) = pb.finish() {
        surface.set_stroke(None);
        surface.set_fill(Some(black_fill()));
        surface.draw_path(&path);
    }
    Ok(())
}
