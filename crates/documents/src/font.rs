//! The CJK font: where it is looked for, which face of a collection is taken, and how text is
//! turned into glyphs and measured.
//!
//! Chinese text needs no shaping beyond the character map: each character is one glyph with its
//! horizontal advance. So krilla's `simple-text` feature (rustybuzz) is off and this module maps
//! and measures with skrifa, the font reader krilla itself is built on; the glyphs and their text
//! ranges go to krilla's `draw_glyphs`, which writes the ToUnicode map that makes the PDF text
//! searchable and extractable.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::raw::FileRef;
use skrifa::string::StringId;
use skrifa::{FontRef, MetadataProvider};

use crate::DocumentError;

/// Where a CJK font is looked for when no path is configured, in order: Noto Sans CJK and Noto
/// Serif CJK (Debian `fonts-noto-cjk`), then WenQuanYi Micro Hei (`fonts-wqy-microhei`).
pub const DEFAULT_FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
];

/// A loaded face: the bytes (shared with krilla, never copied again), the face index in the
/// collection and krilla's font object for the PDF.
pub(crate) struct FontFace {
    data: Arc<Vec<u8>>,
    index: u32,
    pdf_font: Font,
    family: String,
    path: Option<PathBuf>,
}

impl FontFace {
    /// Loads the font at `path`, or the first default font that exists.
    pub(crate) fn locate(path: Option<&Path>) -> Result<FontFace, DocumentError> {
        FontFace::locate_in(match path {
            Some(p) => vec![p.to_path_buf()],
            None => DEFAULT_FONT_PATHS.iter().map(PathBuf::from).collect(),
        })
    }

    /// Loads the first of `candidates` that exists.
    fn locate_in(candidates: Vec<PathBuf>) -> Result<FontFace, DocumentError> {
        let Some(found) = candidates.iter().find(|p| p.is_file()) else {
            return Err(DocumentError::FontNotFound { tried: candidates });
        };
        let data = std::fs::read(found).map_err(|source| DocumentError::FontRead {
            path: found.clone(),
            source,
        })?;
        let mut face = FontFace::from_data(data, &found.display().to_string())?;
        face.path = Some(found.clone());
        Ok(face)
    }

    /// Loads a font from bytes; `what` names it in errors.
    pub(crate) fn from_data(data: Vec<u8>, what: &str) -> Result<FontFace, DocumentError> {
        let invalid = |reason: String| DocumentError::FontInvalid {
            what: what.to_owned(),
            reason,
        };
        let (index, family) = {
            let file = FileRef::new(&data).map_err(|e| invalid(e.to_string()))?;
            // (index in the collection, face): a face that does not parse keeps its index taken.
            let faces: Vec<(u32, FontRef<'_>)> = (0u32..)
                .zip(file.fonts())
                .filter_map(|(i, f)| Some((i, f.ok()?)))
                .collect();
            let (index, face) =
                pick_face(&faces).ok_or_else(|| invalid("no readable face".into()))?;
            // Collections of CJK fonts hold one face per region (Noto: JP, KR, SC, TC, HK): the
            // simplified-Chinese one has the mainland glyph forms and punctuation placement.
            if face.charmap().map('中').is_none_or(|g| g.to_u32() == 0) {
                return Err(invalid("the font has no Chinese glyphs".into()));
            }
            (index, family_name(face))
        };
        let data = Arc::new(data);
        let pdf_font = Font::new(data.clone().into(), index)
            .ok_or_else(|| invalid(format!("krilla cannot use face {index}")))?;
        Ok(FontFace {
            data,
            index,
            pdf_font,
            family,
            path: None,
        })
    }

    /// krilla's font, cheap to clone.
    pub(crate) fn pdf_font(&self) -> Font {
        self.pdf_font.clone()
    }

    /// The family name of the face in use (e.g. "Noto Sans CJK SC").
    pub(crate) fn family(&self) -> &str {
        &self.family
    }

    /// The file the font came from, if it came from a file.
    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A glyph mapper and measurer for one rendering.
    pub(crate) fn shaper(&self) -> Result<Shaper<'_>, DocumentError> {
        let font = FontRef::from_index(&self.data, self.index).map_err(|e| {
            DocumentError::FontInvalid {
                what: self.family.clone(),
                reason: e.to_string(),
            }
        })?;
        let upem = f32::from(
            font.metrics(Size::unscaled(), LocationRef::default())
                .units_per_em,
        );
        Ok(Shaper {
            charmap: font.charmap(),
            metrics: font.glyph_metrics(Size::unscaled(), LocationRef::default()),
            upem: if upem > 0.0 { upem } else { 1000.0 },
            missing: RefCell::new(String::new()),
        })
    }
}

/// Prefers the simplified-Chinese proportional face of a collection ("Noto Sans CJK SC"); else
/// the first face.
fn pick_face<'a, 'f>(faces: &'a [(u32, FontRef<'f>)]) -> Option<(u32, &'a FontRef<'f>)> {
    let names: Vec<String> = faces.iter().map(|(_, f)| family_name(f)).collect();
    let sc = |n: &str| n.ends_with(" SC") || n.contains(" SC ") || n.contains("GB");
    let at = names
        .iter()
        .position(|n| sc(n) && !n.contains("Mono"))
        .or_else(|| names.iter().position(|n| sc(n)))
        .unwrap_or(0);
    faces.get(at).map(|(i, f)| (*i, f))
}

fn family_name(face: &FontRef<'_>) -> String {
    face.localized_strings(StringId::FAMILY_NAME)
        .english_or_first()
        .map(|s| s.chars().collect())
        .unwrap_or_default()
}

/// Maps characters to glyphs and measures them for one rendering; remembers the characters the
/// font lacks so the whole notice can be refused with one list.
pub(crate) struct Shaper<'a> {
    charmap: skrifa::charmap::Charmap<'a>,
    metrics: GlyphMetrics<'a>,
    upem: f32,
    missing: RefCell<String>,
}

impl Shaper<'_> {
    /// The glyph and its advance in em, or `None` (remembered) when the font lacks it.
    fn glyph(&self, c: char) -> Option<(GlyphId, f32)> {
        match self.charmap.map(c) {
            Some(g) if g.to_u32() != 0 => {
                let mut advance = self.metrics.advance_width(g).unwrap_or(self.upem) / self.upem;
                if c == ' ' {
                    // A half-width space: "申 请 人" lines up with "办件编号", and text
                    // extractors (pdftotext) see the gap as a word break, which they do not for
                    // the narrow Latin space of CJK fonts (0.224 em in Noto).
                    advance = advance.max(0.5);
                }
                Some((GlyphId::new(g.to_u32()), advance))
            }
            _ => {
                let mut missing = self.missing.borrow_mut();
                if !c.is_control() && !missing.contains(c) {
                    missing.push(c);
                }
                None
            }
        }
    }

    /// The advance of one character at `size` points (0 for characters the font lacks).
    pub(crate) fn advance(&self, c: char, size: f32) -> f32 {
        self.glyph(c).map_or(0.0, |(_, a)| a * size)
    }

    /// The width of `text` at `size` points.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c, size)).sum()
    }

    /// The glyphs of `text`, one per character, with their byte ranges in `text`.
    pub(crate) fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .filter_map(|(i, c)| {
                let (id, advance) = self.glyph(c)?;
                Some(KrillaGlyph::new(
                    id,
                    advance,
                    0.0,
                    0.0,
                    0.0,
                    i..i + c.len_utf8(),
                    None,
                ))
            })
            .collect()
    }

    /// Fails with the characters the font had no glyph for, if any were met.
    pub(crate) fn check_missing(&self) -> Result<(), DocumentError> {
        let missing = self.missing.borrow();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(DocumentError::MissingGlyphs {
                chars: missing.clone(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_font_at_any_candidate_lists_them_all() {
        let candidates = vec![
            PathBuf::from("/nonexistent/a.ttc"),
            PathBuf::from("/nonexistent/b.ttf"),
        ];
        match FontFace::locate_in(candidates.clone()) {
            Err(DocumentError::FontNotFound { tried }) => assert_eq!(tried, candidates),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("found a font at a nonexistent path"),
        }
    }
}
