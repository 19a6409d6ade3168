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
use krilla::geom::{PathBuilder, Point, Rect, Transform};
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
        Item::Seal {
            cx,
            cy,
            radius,
            text,
            label,
        } => draw_seal(surface, (*cx, *cy, *radius), text, label, font, shaper),
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

/// The red of a stamped seal.
fn seal_red() -> krilla::color::rgb::Color {
    krilla::color::rgb::Color::new(212, 32, 39)
}

/// Draws an official round seal: a thick ring, the text along the upper arc with each character
/// upright to the centre, a five-pointed star in the middle and a label across its foot.
fn draw_seal(
    surface: &mut Surface<'_>,
    seal: (f32, f32, f32),
    text: &str,
    label: &str,
    font: &Font,
    shaper: &Shaper<'_>,
) {
    let (cx, cy, r) = seal;
    let red = Fill {
        paint: seal_red().into(),
        ..Fill::default()
    };
    // The ring.
    let mut pb = PathBuilder::new();
    push_circle(&mut pb, cx, cy, r);
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: seal_red().into(),
            width: r * 0.055,
            ..Stroke::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
    // The star.
    let mut pb = PathBuilder::new();
    let (outer, inner) = (r * 0.3, r * 0.3 * 0.382);
    for k in 0..10 {
        let radius = if k % 2 == 0 { outer } else { inner };
        let angle = std::f32::consts::FRAC_PI_2 + k as f32 * std::f32::consts::PI / 5.0;
        let (x, y) = (cx + radius * angle.cos(), cy - radius * angle.sin());
        if k == 0 {
            pb.move_to(x, y);
        } else {
            pb.line_to(x, y);
        }
    }
    pb.close();
    if let Some(path) = pb.finish() {
        surface.set_fill(Some(red.clone()));
        surface.draw_path(&path);
    }
    // The text on the arc, left to right over the top.
    let chars: Vec<char> = text.chars().collect();
    if !chars.is_empty() {
        // At most about 220° of the ring, so that the label below stays clear.
        const MAX_SPAN: f32 = 3.85;
        let n = chars.len() as f32;
        let size = (r * 0.26).min(r * 0.66 * MAX_SPAN / (n * 1.1));
        let text_radius = r - r * 0.1 - size * 0.85;
        let span = (n * size * 1.1 / text_radius).min(MAX_SPAN);
        let step = if chars.len() > 1 {
            span / (chars.len() - 1) as f32
        } else {
            0.0
        };
        let start = std::f32::consts::FRAC_PI_2 + span / 2.0;
        surface.set_fill(Some(red.clone()));
        for (i, c) in chars.iter().enumerate() {
            let theta = start - step * i as f32;
            let (x, y) = (
                cx + text_radius * theta.cos(),
                cy - text_radius * theta.sin(),
            );
            // Rotate so the character's top points away from the centre.
            let phi = std::f32::consts::FRAC_PI_2 - theta;
            let (s, co) = phi.sin_cos();
            surface.push_transform(&Transform::from_row(co, s, -s, co, x, y));
            let glyph = c.to_string();
            let w = shaper.width(&glyph, size);
            surface.draw_glyphs(
                Point::from_xy(-w / 2.0, size * 0.36),
                &shaper.glyphs(&glyph),
                font.clone(),
                &glyph,
                size,
                false,
            );
            surface.pop();
        }
    }
    // The label across the foot.
    if !label.is_empty() {
        let size = (r * 0.16).min(r * 1.2 / label.chars().count().max(1) as f32);
        let w = shaper.width(label, size);
        surface.set_fill(Some(red));
        surface.draw_glyphs(
            Point::from_xy(cx - w / 2.0, cy + r * 0.56),
            &shaper.glyphs(label),
            font.clone(),
            label,
            size,
            false,
        );
    }
    surface.set_fill(Some(black_fill()));
}

/// A circle as four cubic Béziers.
fn push_circle(pb: &mut PathBuilder, cx: f32, cy: f32, r: f32) {
    const K: f32 = 0.552_284_8;
    let k = r * K;
    pb.move_to(cx + r, cy);
    pb.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    pb.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    pb.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    pb.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    pb.close();
}
