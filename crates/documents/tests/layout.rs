//! The layout without PDF: line breaking rules on real notices, page geometry, a text snapshot of
//! the acceptance notice, errors (missing font, not a font, missing glyphs, incomplete notices),
//! stable output and the serde form callers store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use yiwang_documents::{
    DocumentError, Item, Layout, Notice, NoticeKind, PAGE_HEIGHT, PAGE_WIDTH, Renderer,
};

fn renderer() -> &'static Renderer {
    static RENDERER: OnceLock<Renderer> = OnceLock::new();
    RENDERER.get_or_init(|| {
        Renderer::new(None).unwrap_or_else(|e| {
            panic!("{e} (Debian package fonts-noto-cjk; scripts/install-deps.sh installs it)")
        })
    })
}

/// Each text item: x, baseline, width, size, text.
fn texts(layout: &Layout) -> impl Iterator<Item = (f32, f32, f32, f32, &str)> {
    layout.pages.iter().flat_map(|p| {
        p.items.iter().filter_map(|i| match i {
            Item::Text {
                x,
                y,
                size,
                text,
                width,
                ..
            } => Some((*x, *y, *width, *size, text.as_str())),
            _ => None,
        })
    })
}

#[test]
fn renderer_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Renderer>();
}

#[test]
fn the_simplified_chinese_face_of_the_collection_is_used() {
    let family = renderer().font_family();
    assert!(family.ends_with(" SC"), "{family}");
}

#[test]
fn no_line_starts_with_closing_punctuation_and_all_stay_on_the_page() {
    let mut notices = common::all();
    notices.push(("long", common::long_acceptance(40)));
    for (name, notice) in notices {
        let layout = renderer().layout(&notice).unwrap();
        for (x, y, width, _, text) in texts(&layout) {
            let first = text.chars().next();
            assert!(
                !first.is_some_and(|c| "，。、；：？！）》".contains(c)),
                "{name}: line starts with closing punctuation: {text:?}"
            );
            assert!(!text.ends_with(['（', '《', '“']), "{name}: {text:?}");
            // Within the margins (the QR caption is centred under the code, whose quiet zone
            // reaches into the left margin).
            assert!(
                x >= 64.0 && y > 60.0 && y < PAGE_HEIGHT - 30.0,
                "{name}: {text:?} at {x},{y}"
            );
            assert!(
                x + width <= PAGE_WIDTH - 72.0 + 0.01,
                "{name}: {text:?} at x={x}, {width} wide, overflows"
            );
        }
    }
}

#[test]
fn paragraph_lines_are_filled_to_the_right_margin() {
    // The body of the correction notice wraps its first paragraph: each full line should end
    // within two em of the right margin (greedy breaking, no early breaks).
    let layout = renderer().layout(&common::correction()).unwrap();
    let body: Vec<_> = texts(&layout)
        .filter(|(.., size, t)| *size == 12.0 && t.starts_with("形式。根据"))
        .collect();
    assert_eq!(body.len(), 1, "{}", layout.text());
    let (x, _, width, size, text) = body[0];
    assert!(x + width > PAGE_WIDTH - 72.0 - 2.0 * size, "{text:?}");
}

#[test]
fn acceptance_notice_layout_snapshot() {
    let layout = renderer().layout(&common::acceptance()).unwrap();
    assert_eq!(layout.page_count(), 1);
    insta::assert_snapshot!(layout.text());
}

#[test]
fn long_lists_make_pages_with_page_numbers() {
    let layout = renderer().layout(&common::long_acceptance(40)).unwrap();
    let n = layout.page_count();
    assert!(n >= 2);
    let text = layout.text();
    for page in 1..=n {
        assert!(text.contains(&format!("第 {page} 页 共 {n} 页")), "{text}");
    }
    // Exactly one QR code, on the last page.
    let qr_pages: Vec<usize> = layout
        .pages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.items.iter().any(|i| matches!(i, Item::QrCode { .. })))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(qr_pages, [n - 1]);
}

#[test]
fn a_missing_font_is_an_error_naming_the_paths_tried() {
    let path = Path::new("/nonexistent/fonts/NoSuchFont.ttc");
    let err = Renderer::new(Some(path)).unwrap_err();
    match &err {
        DocumentError::FontNotFound { tried } => assert_eq!(tried, &[PathBuf::from(path)]),
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("/nonexistent/fonts/NoSuchFont.ttc"),
        "{message}"
    );
    assert!(message.contains("fonts-noto-cjk"), "{message}");
}

#[test]
fn a_file_that_is_not_a_font_is_an_error() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let err = Renderer::new(Some(&path)).unwrap_err();
    assert!(matches!(err, DocumentError::FontInvalid { .. }), "{err:?}");
    let err = Renderer::from_font_data(b"not a font".to_vec()).unwrap_err();
    assert!(matches!(err, DocumentError::FontInvalid { .. }), "{err:?}");
}

#[test]
fn characters_without_glyphs_are_refused_not_printed_as_boxes() {
    let mut notice = common::acceptance();
    // Private-use characters: no CJK font maps them.
    notice.header.applicant = "张\u{E000}明\u{E001}\u{E000}".into();
    let err = renderer().render(&notice).unwrap_err();
    match err {
        DocumentError::MissingGlyphs { chars } => assert_eq!(chars, "\u{E000}\u{E001}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn incomplete_notices_are_refused() {
    let mut notice = common::refusal();
    if let NoticeKind::Refusal(r) = &mut notice.kind {
        r.reasons = vec!["  ".into()];
    }
    assert!(matches!(
        renderer().render(&notice),
        Err(DocumentError::InvalidNotice(_))
    ));

    let mut notice = common::correction();
    if let NoticeKind::Correction(c) = &mut notice.kind {
        c.deadline = notice.header.issued_on.pred_opt().unwrap();
    }
    assert!(matches!(
        renderer().render(&notice),
        Err(DocumentError::InvalidNotice(_))
    ));

    let mut notice = common::acceptance();
    notice.header.case_number.clear();
    let err = renderer().render(&notice).unwrap_err();
    assert!(err.to_string().contains("case_number"), "{err}");
}

#[test]
fn the_same_notice_gives_the_same_bytes() {
    // No clock, no random document id: a stored notice renders again to the same file.
    let a = renderer().render(&common::denial()).unwrap();
    let b = renderer().render(&common::denial()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn notices_round_trip_through_json() {
    for (name, notice) in common::all() {
        let json = serde_json::to_string(&notice).unwrap();
        let back: Notice = serde_json::from_str(&json).unwrap();
        assert_eq!(back, notice, "{name}");
    }
    let json = serde_json::to_value(common::receipt_post()).unwrap();
    assert_eq!(json["kind"]["type"], "delivery_receipt");
    assert_eq!(json["kind"]["method"]["type"], "post");
    let json = serde_json::to_value(common::approval()).unwrap();
    assert_eq!(json["kind"]["type"], "decision");
    assert_eq!(json["kind"]["outcome"]["type"], "approved");
    assert_eq!(json["header"]["issued_on"], "2026-11-27");
}
