//! Official notices of a case (办件) and electronic licences (电子证照) as PDF — data in, bytes
//! out: no HTTP, no database, no clock.
//!
//! Six documents, one [`Notice`] type: 受理通知书 ([`NoticeKind::Acceptance`]), 不予受理通知书
//! ([`NoticeKind::Refusal`]), 补正材料通知书 ([`NoticeKind::Correction`], 一次性告知),
//! 准予许可决定书 and 不予许可决定书 ([`NoticeKind::Decision`]) and 送达回证
//! ([`NoticeKind::DeliveryReceipt`]). Every notice prints the same header (department, document
//! number, case number, item, applicant), a query line with a QR code of the query URL (bottom
//! left) and the department and date of issue (bottom right, 2026年11月27日).
//!
//! A [`Renderer`] loads a CJK font once (Noto Sans/Serif CJK or WenQuanYi Micro Hei from Debian's
//! packages, or a path or bytes given) and renders A4 pages: Chinese text wrapped at character
//! boundaries with the font's advances, closing punctuation kept off line starts, bordered tables
//! for material lists that continue on further pages with their header row, and "第 1 页 共 2 页"
//! on every page. The PDF is PDF/A-2u with the font subset embedded: its text is searchable and
//! extractable (`pdftotext`), its QR code readable by any scanner.
//!
//! [`Notice`] is serde data, so the caller can store exactly what was rendered.
//!
//! A licence is one [`LicencePage`] ([`Renderer::render_licence`]): a double border, the
//! licence's name and number, the holder and every field, the period of validity, a QR code of
//! its verification page with the identifier, and the issuer and date under the issuer's
//! round seal drawn in red (ring, star, the name along the arc).
//!
//! ```no_run
//! use chrono::NaiveDate;
//! use yiwang_documents::{Acceptance, Notice, NoticeHeader, NoticeKind, Renderer};
//!
//! let renderer = Renderer::new(None)?; // once, at start-up
//! let notice = Notice {
//!     kind: NoticeKind::Acceptance(Acceptance::default()),
//!     header: NoticeHeader {
//!         department: "长沙市岳麓区市场监督管理局".into(),
//!         document_number: "岳市监受字〔2026〕第0012号".into(),
//!         case_number: "11430104MB1C79810Q4430111900100012026112700".into(),
//!         item_name: "食品经营许可".into(),
//!         applicant: "长沙某某餐饮有限公司".into(),
//!         issued_on: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
//!         promised_completion: NaiveDate::from_ymd_opt(2026, 12, 11),
//!         query_url: "https://zwfw.example.gov.cn/q/4301040000".into(),
//!     },
//! };
//! let pdf: Vec<u8> = renderer.render(&notice)?;
//! # Ok::<(), yiwang_documents::DocumentError>(())
//! ```

mod compose;
mod error;
mod font;
mod layout;
mod licence;
mod notice;
mod pdf;
mod render;
mod watermark;
mod wrap;

pub use error::DocumentError;
pub use font::DEFAULT_FONT_PATHS;
pub use layout::{Item, Layout, PAGE_HEIGHT, PAGE_WIDTH, PageLayout};
pub use licence::LicencePage;
pub use notice::{
    Acceptance, Correction, CorrectionItem, Decision, DecisionOutcome, DeliveredDocument,
    DeliveryMethod, DeliveryReceipt, MaterialProblem, Notice, NoticeHeader, NoticeKind,
    ReceivedMaterial, Refusal, Remedies, chinese_date,
};
pub use render::Renderer;
pub use watermark::{CopyKind, MAX_PAGES, watermark_text};
