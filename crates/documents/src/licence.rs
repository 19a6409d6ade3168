//! The printable document of an electronic licence (电子证照), one A4 page: a double border,
//! the licence's name, its number, the holder and every field of the licence as a two-column
//! table, the period of validity, a QR code of the verification page (bottom left, with the
//! identifier under it), and the issuer with the date of issue under the issuer's seal in red
//! (bottom right). The signed data is what counts; this page is its faithful rendering.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::DocumentError;
use crate::font::Shaper;
use crate::layout::{Item, Layout, PAGE_HEIGHT, PAGE_WIDTH, PageLayout};
use crate::notice::chinese_date;
use crate::wrap::wrap;

/// What a licence page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicencePage {
    /// 证照名称, the page title.
    pub title: String,
    /// 电子证照标识.
    pub identifier: String,
    /// 证照编号.
    pub number: String,
    /// 持证主体.
    pub holder: String,
    /// Its label and code (`("统一社会信用代码", "91430104MA4L7R2K16")`).
    pub holder_code: (String, String),
    /// The licence's fields in order: (label, value).
    pub fields: Vec<(String, String)>,
    /// 颁证单位.
    pub issuer: String,
    /// 颁证日期.
    pub issued_on: NaiveDate,
    /// 有效期起.
    pub valid_from: NaiveDate,
    /// 有效期止; `None`: 长期.
    pub valid_to: Option<NaiveDate>,
    /// The text around the seal (the issuer's name).
    pub seal_text: String,
    /// The text across the seal's foot (`电子证照专用章`).
    pub seal_label: String,
    /// What the QR code opens (the verification page with the identifier).
    pub verify_url: String,
}

impl LicencePage {
    /// Checks that the page can be drawn: a title, an identifier, a holder and an issuer.
    pub fn validate(&self) -> Result<(), DocumentError> {
        for (what, v) in [
            ("title", &self.title),
            ("identifier", &self.identifier),
            ("holder", &self.holder),
            ("issuer", &self.issuer),
            ("verify_url", &self.verify_url),
        ] {
            if v.trim().is_empty() {
                return Err(DocumentError::InvalidNotice(format!(
                    "the licence's {what} is empty"
                )));
            }
        }
        if self.fields.len() > 24 {
            return Err(DocumentError::InvalidNotice(
                "a licence page holds at most 24 fields".into(),
            ));
        }
        Ok(())
    }
}

const BORDER: f32 = 34.0;
const LEFT: f32 = 78.0;
const RIGHT: f32 = PAGE_WIDTH - 78.0;
const LABEL_WIDTH: f32 = 128.0;
const ROW_SIZE: f32 = 12.5;
const ROW_GAP: f32 = 10.0;
const QR_SIZE: f32 = 108.0;
const SEAL_RADIUS: f32 = 58.0;

/// Lays the licence out on one page.
pub(crate) fn lay_out(page: &LicencePage, shaper: &Shaper<'_>) -> Layout {
    let mut items = Vec::new();
    // Double border.
    for (inset, width) in [(BORDER, 2.2_f32), (BORDER + 5.0, 0.6)] {
        let (l, t, r, b) = (inset, inset, PAGE_WIDTH - inset, PAGE_HEIGHT - inset);
        for (x1, y1, x2, y2) in [(l, t, r, t), (r, t, r, b), (r, b, l, b), (l, b, l, t)] {
            items.push(Item::Rule {
                x1,
                y1,
                x2,
                y2,
                width,
            });
        }
    }
    let centred = |items: &mut Vec<Item>, text: &str, y: f32, size: f32, bold: bool| {
        let width = shaper.width(text, size);
        items.push(Item::Text {
            x: (PAGE_WIDTH - width) / 2.0,
            y,
            size,
            bold,
            text: text.to_owned(),
            width,
        });
    };
    centred(&mut items, "中华人民共和国", 104.0, 14.0, false);
    centred(&mut items, &page.title, 146.0, 28.0, true);
    centred(
        &mut items,
        &format!("证照编号：{}", page.number),
        178.0,
        11.0,
        false,
    );
    items.push(Item::Rule {
        x1: LEFT,
        y1: 196.0,
        x2: RIGHT,
        y2: 196.0,
        width: 0.6,
    });
    let validity = match page.valid_to {
        Some(to) => format!("{} 至 {}", chinese_date(page.valid_from), chinese_date(to)),
        None => format!("{} 起长期有效", chinese_date(page.valid_from)),
    };
    let mut rows = vec![
        ("持证主体".to_owned(), page.holder.clone()),
        page.holder_code.clone(),
    ];
    rows.extend(page.fields.iter().cloned());
    rows.push(("有效期限".to_owned(), validity));
    let value_x = LEFT + LABEL_WIDTH + 12.0;
    let mut y = 228.0;
    for (label, value) in &rows {
        let label_width = shaper.width(label, ROW_SIZE);
        items.push(Item::Text {
            x: LEFT + LABEL_WIDTH - label_width,
            y,
            size: ROW_SIZE,
            bold: true,
            text: label.clone(),
            width: label_width,
        });
        let avail = RIGHT - value_x;
        for line in wrap(value, avail, avail, |c| shaper.advance(c, ROW_SIZE)) {
            items.push(Item::Text {
                x: value_x,
                y,
                size: ROW_SIZE,
                bold: false,
                text: line.text,
                width: line.width,
            });
            y += ROW_SIZE + 6.0;
        }
        y += ROW_GAP;
    }
    // The closing band: QR code with the identifier at the left, issuer, date and seal at the
    // right; at the page's foot however long the table was (24 short rows fit above it).
    let band = PAGE_HEIGHT - BORDER - 200.0;
    items.push(Item::QrCode {
        x: LEFT - 8.0,
        y: band,
        size: QR_SIZE,
        data: page.verify_url.clone(),
    });
    let small = 8.0;
    let caption = "扫码验证真伪与状态";
    items.push(Item::Text {
        x: LEFT,
        y: band + QR_SIZE + 10.0,
        size: 9.0,
        bold: false,
        text: caption.into(),
        width: shaper.width(caption, 9.0),
    });
    let mut id_y = band + QR_SIZE + 24.0;
    let id_width = 250.0;
    for line in wrap(&page.identifier, id_width, id_width, |c| {
        shaper.advance(c, small)
    }) {
        items.push(Item::Text {
            x: LEFT,
            y: id_y,
            size: small,
            bold: false,
            text: line.text,
            width: line.width,
        });
        id_y += small + 3.0;
    }
    let right_text = |items: &mut Vec<Item>, text: &str, y: f32, size: f32| {
        let width = shaper.width(text, size);
        items.push(Item::Text {
            x: RIGHT - width,
            y,
            size,
            bold: false,
            text: text.to_owned(),
            width,
        });
    };
    let issuer_y = band + 64.0;
    right_text(
        &mut items,
        &format!("颁证单位：{}", page.issuer),
        issuer_y,
        12.0,
    );
    right_text(
        &mut items,
        &chinese_date(page.issued_on),
        issuer_y + 22.0,
        12.0,
    );
    // The seal over the issuer and date, as a stamped seal is.
    items.push(Item::Seal {
        cx: RIGHT - 70.0,
        cy: issuer_y - 2.0,
        radius: SEAL_RADIUS,
        text: page.seal_text.clone(),
        label: page.seal_label.clone(),
    });
    Layout {
        pages: vec![PageLayout { items }],
        title: format!("{} {}", page.title, page.number),
    }
}
