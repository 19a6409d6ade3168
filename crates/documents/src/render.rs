//! The [`Renderer`]: loads the CJK font once and renders any number of notices with it, from
//! several threads at once if need be (it is `Send + Sync` and rendering takes `&self`).

use std::path::Path;

use crate::DocumentError;
use crate::compose::compose;
use crate::font::{FontFace, Shaper};
use crate::layout::{Layout, lay_out};
use crate::notice::Notice;
use crate::pdf;

/// Renders notices as PDF with one loaded CJK font.
pub struct Renderer {
    font: FontFace,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("font_family", &self.font.family())
            .field("font_path", &self.font.path())
            .finish()
    }
}

impl Renderer {
    /// Loads the font at `font_path`, or else the first of
    /// [`DEFAULT_FONT_PATHS`](crate::DEFAULT_FONT_PATHS) that exists. In a collection (`.ttc`)
    /// the simplified-Chinese face is taken.
    ///
    /// Fails with [`DocumentError::FontNotFound`] (listing the paths tried) when there is no
    /// font, and [`DocumentError::FontInvalid`] when the file is not a usable CJK font.
    pub fn new(font_path: Option<&Path>) -> Result<Renderer, DocumentError> {
        Ok(Renderer {
            font: FontFace::locate(font_path)?,
        })
    }

    /// Uses a font given as bytes (a font shipped with the application, say).
    pub fn from_font_data(data: Vec<u8>) -> Result<Renderer, DocumentError> {
        Ok(Renderer {
            font: FontFace::from_data(data, "font data")?,
        })
    }

    /// The family name of the face in use, e.g. "Noto Sans CJK SC".
    pub fn font_family(&self) -> &str {
        self.font.family()
    }

    /// The font file in use, when the font came from a file.
    pub fn font_path(&self) -> Option<&Path> {
        self.font.path()
    }

    /// Lays the notice out without writing PDF: the positioned lines of every page.
    pub fn layout(&self, notice: &Notice) -> Result<Layout, DocumentError> {
        Ok(self.lay_out(notice)?.0)
    }

    /// Renders the notice as the bytes of a PDF file.
    pub fn render(&self, notice: &Notice) -> Result<Vec<u8>, DocumentError> {
        let (layout, shaper) = self.lay_out(notice)?;
        pdf::write(
            &layout,
            &self.font.pdf_font(),
            &shaper,
            notice.header.issued_on,
        )
    }

    /// Renders a licence page (电子证照) as the bytes of a one-page PDF, with the issuer's seal.
    pub fn render_licence(&self, page: &crate::LicencePage) -> Result<Vec<u8>, DocumentError> {
        page.validate()?;
        let shaper = self.font.shaper()?;
        let layout = crate::licence::lay_out(page, &shaper);
        // The seal's characters are drawn one by one: map them too.
        for item in layout.pages.iter().flat_map(|p| &p.items) {
            if let crate::Item::Seal { text, label, .. } = item {
                shaper.width(text, 10.0);
                shaper.width(label, 10.0);
            }
        }
        shaper.check_missing()?;
        pdf::write(&layout, &self.font.pdf_font(), &shaper, page.issued_on)
    }

    /// A watermarked copy (水印副本) of a case material: `bytes` of `kind` as a PDF with `text`
    /// over every page (see [`watermark_text`](crate::watermark_text)).
    pub fn watermark(
        &self,
        kind: crate::CopyKind,
        bytes: &[u8],
        text: &str,
    ) -> Result<Vec<u8>, DocumentError> {
        let shaper = self.font.shaper()?;
        crate::watermark::watermark(&self.font.pdf_font(), &shaper, kind, bytes, text)
    }

    /// Validates, composes and lays out; fails if the font lacks a character of the notice.
    fn lay_out(&self, notice: &Notice) -> Result<(Layout, Shaper<'_>), DocumentError> {
        notice.validate()?;
        let shaper = self.font.shaper()?;
        let (flow, frame) = compose(notice);
        let layout = lay_out(&flow, &frame, &shaper);
        shaper.check_missing()?;
        Ok((layout, shaper))
    }
}
