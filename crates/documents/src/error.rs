//! The one error type of the crate: what can go wrong between a [`Notice`](crate::Notice) and its
//! PDF bytes. Nothing here panics; every failure is a [`DocumentError`].

use std::path::PathBuf;

/// Why a font could not be loaded or a notice could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// No CJK font at the configured path, or at none of the default locations.
    #[error(
        "no CJK font found (tried: {}); install the Debian package fonts-noto-cjk or pass a font path",
        display_paths(.tried)
    )]
    FontNotFound {
        /// Every path that was looked at, in order.
        tried: Vec<PathBuf>,
    },
    /// The font file exists but could not be read.
    #[error("cannot read font {path}: {source}")]
    FontRead {
        /// The font file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The data is not an OpenType/TrueType font or collection krilla and skrifa can use.
    #[error("{what} is not a usable OpenType font: {reason}")]
    FontInvalid {
        /// The font file, or "font data" when bytes were passed.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// The text to print has characters the font has no glyph for (they would print as empty
    /// boxes on an official document).
    #[error("the font has no glyph for: {chars}")]
    MissingGlyphs {
        /// The characters without glyphs, each once, in order of appearance.
        chars: String,
    },
    /// The notice lacks something every notice of its kind must print.
    #[error("invalid notice: {0}")]
    InvalidNotice(String),
    /// The query URL does not fit in a QR code.
    #[error("cannot encode the query URL as a QR code: {0}")]
    QrCode(String),
    /// A copy to watermark is not a readable PDF or image, or is too large.
    #[error("cannot watermark the copy: {0}")]
    Original(String),
    /// krilla refused to write the PDF.
    #[error("PDF export failed: {0}")]
    Pdf(String),
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
