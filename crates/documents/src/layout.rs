//! Page layout: measured, wrapped and paginated A4 pages of positioned text, rules and the QR
//! code — everything the PDF writer draws, as plain data.
//!
//! The flow of a notice ([`Flow`] items from [`compose`](crate::compose)) becomes blocks of known
//! height (one per wrapped line, one per table row), and blocks fill pages top to bottom. A table
//! row is never split, a table's header row is repeated at the top of a continuation page, and a
//! line that introduces what follows stays with it. Continuation pages get a running header; every
//! page gets "第 i 页 共 n 页". The closing band — QR code bottom left, department and date bottom
//! right — sits at the bottom of the last page, which is a new page when the band does not fit.
//!
//! [`Layout::text`] prints the lines page by page, for previews and tests (PDF bytes are not a
//! stable thing to compare).

use crate::font::Shaper;
use crate::wrap::wrap;

/// A4 width in points.
pub const PAGE_WIDTH: f32 = 595.28;
/// A4 height in points.
pub const PAGE_HEIGHT: f32 = 841.89;
/// Left and right margins.
const MARGIN_X: f32 = 72.0;
/// Top margin (first line of the first page).
const MARGIN_TOP: f32 = 64.0;
/// Where the body ends; the page number sits below.
const BODY_BOTTOM: f32 = PAGE_HEIGHT - 64.0;
/// Baseline of the page number.
const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 34.0;
/// Top of the body on continuation pages, below the running header.
const CONTINUATION_TOP: f32 = MARGIN_TOP + 28.0;
/// Height of the closing band (QR code and signature).
const CLOSING_HEIGHT: f32 = 118.0;
/// Side of the QR code, quiet zone included.
const QR_SIZE: f32 = 96.0;

/// Body text size (小四).
pub(crate) const BODY_SIZE: f32 = 12.0;
/// Table and small print size (五号).
pub(crate) const SMALL_SIZE: f32 = 10.5;
/// Size of the title (二号).
pub(crate) const TITLE_SIZE: f32 = 22.0;
/// Size of the department line above the title (三号).
pub(crate) const DEPARTMENT_SIZE: f32 = 16.0;
const FOOTER_SIZE: f32 = 9.0;
const CELL_PADDING: f32 = 4.0;

/// The laid-out pages of one notice.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The pages, first to last.
    pub pages: Vec<PageLayout>,
    /// Document title for the PDF metadata (title and document number).
    pub title: String,
}

/// One A4 page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageLayout {
    /// What is drawn, in drawing order.
    pub items: Vec<Item>,
}

/// One thing drawn on a page. Coordinates are points from the top-left corner, y downwards.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A line of text starting at `x` on the baseline `y`.
    Text {
        /// Left edge.
        x: f32,
        /// Baseline.
        y: f32,
        /// Font size in points.
        size: f32,
        /// Drawn heavier (filled and stroked).
        bold: bool,
        /// The text.
        text: String,
        /// Its advance width in points.
        width: f32,
    },
    /// A straight rule.
    Rule {
        /// Start x.
        x1: f32,
        /// Start y.
        y1: f32,
        /// End x.
        x2: f32,
        /// End y.
        y2: f32,
        /// Stroke width.
        width: f32,
    },
    /// A QR code of `data`, quiet zone included, in the square at (`x`, `y`) of side `size`.
    QrCode {
        /// Left edge.
        x: f32,
        /// Top edge.
        y: f32,
        /// Side of the square.
        size: f32,
        /// What the code encodes.
        data: String,
    },
    /// A round official seal in red centred at (`cx`, `cy`): a ring, `text` along the upper
    /// arc, a five-pointed star and `label` across its foot.
    Seal {
        /// Centre x.
        cx: f32,
        /// Centre y.
        cy: f32,
        /// Outer radius.
        radius: f32,
        /// The text around (the organisation's name).
        text: String,
        /// The text across the foot (the seal's use).
        label: String,
    },
}

impl Layout {
    /// Number of pages.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The text of every page, line by line (items on one baseline joined left to right with
    /// " | "), each page introduced by `--- page N ---`.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (n, page) in self.pages.iter().enumerate() {
            out.push_str(&format!("--- page {} ---\n", n + 1));
            let mut texts: Vec<(f32, f32, &str)> = page
                .items
                .iter()
                .filter_map(|item| match item {
                    Item::Text { x, y, text, .. } => Some((*y, *x, text.as_str())),
                    _ => None,
                })
                .collect();
            texts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
            let mut line_y: Option<f32> = None;
            for (y, _, text) in texts {
                match line_y {
                    Some(ly) if (y - ly).abs() < 0.5 => out.push_str(" | "),
                    Some(_) => out.push('\n'),
                    None => {}
                }
                out.push_str(text);
                line_y = Some(y);
            }
            out.push('\n');
        }
        out
    }
}

/// What a notice is made of, top to bottom, before measuring.
#[derive(Debug, Clone)]
pub(crate) enum Flow {
    /// Centred text, wrapped if too long.
    Centered { text: String, size: f32, bold: bool },
    /// A paragraph; `indent` em on the first line (2 for body text, 0 for a salutation).
    Paragraph {
        text: String,
        size: f32,
        indent: f32,
        /// Keep on one page with the next flow item (a line introducing a table or list).
        keep_with_next: bool,
    },
    /// A label and its text with a hanging indent: wrapped lines align after the label
    /// ("办件编号：…", "1．…").
    Labelled {
        label: String,
        text: String,
        size: f32,
        /// Left indent of the label, in em.
        indent: f32,
    },
    /// Vertical space in points.
    Space(f32),
    /// A thin rule across the text width.
    Rule,
    /// A bordered table.
    Table(Table),
}

/// A bordered table; cells wrap.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub columns: Vec<Column>,
    /// Print the column titles as a header row (repeated on continuation pages).
    pub header: bool,
    pub rows: Vec<Vec<String>>,
}

/// A table column.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub title: String,
    /// Share of the text width (the shares are normalised).
    pub weight: f32,
    /// Centre the cells (numbers, short words) instead of left-aligning them.
    pub centered: bool,
}

impl Column {
    pub(crate) fn new(title: &str, weight: f32, centered: bool) -> Column {
        Column {
            title: title.to_owned(),
            weight,
            centered,
        }
    }
}

/// What every page and the last one show besides the flow.
pub(crate) struct Frame {
    /// Running header on continuation pages: left and right-aligned parts.
    pub running_header: (String, String),
    /// Department and date, bottom right of the last page.
    pub signature: Vec<String>,
    /// QR data and the caption under it.
    pub qr: (String, String),
    /// Title for the PDF metadata.
    pub title: String,
}

/// A measured piece of the flow: items relative to the block's top.
#[derive(Debug, Clone)]
struct Block {
    height: f32,
    items: Vec<Item>,
    keep_with_next: bool,
    /// Index of the table this row belongs to.
    table: Option<usize>,
    table_header: bool,
}

impl Block {
    fn new(height: f32) -> Block {
        Block {
            height,
            items: Vec::new(),
            keep_with_next: false,
            table: None,
            table_header: false,
        }
    }
}

const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;

fn line_height(size: f32) -> f32 {
    size * 1.75
}

/// Baseline of a line of `size` centred vertically in a slot of `height` starting at `top`.
/// CJK ideographs span about 0.88 em above and 0.12 em below the baseline.
fn baseline(top: f32, height: f32, size: f32) -> f32 {
    top + height / 2.0 + size * 0.38
}

fn text(x: f32, y: f32, size: f32, bold: bool, text: String, width: f32) -> Item {
    Item::Text {
        x,
        y,
        size,
        bold,
        text,
        width,
    }
}

fn rule(x1: f32, y1: f32, x2: f32, y2: f32) -> Item {
    Item::Rule {
        x1,
        y1,
        x2,
        y2,
        width: 0.6,
    }
}

/// Lays out `flow` in pages with `frame`.
pub(crate) fn lay_out(flow: &[Flow], frame: &Frame, shaper: &Shaper<'_>) -> Layout {
    let blocks = measure(flow, shaper);
    let mut pagination = paginate(&blocks, None);
    if pagination.end + CLOSING_HEIGHT > BODY_BOTTOM {
        // The closing band does not fit under the last line. Rather than a last page with the
        // signature alone (which GB/T 9704 tells to avoid), the last few lines go along.
        let tail = blocks.len().saturating_sub(TAIL_BLOCKS);
        let k = tail.max(pagination.last_page_start + 1);
        if k < blocks.len() {
            pagination = paginate(&blocks, Some(k));
        }
        // Still no room (the last line did not move, or what moved is a very tall table row):
        // the band gets a page of its own.
        if pagination.end + CLOSING_HEIGHT > BODY_BOTTOM {
            pagination.pages.push(PageLayout::default());
        }
    }
    let mut pages = pagination.pages;
    add_closing(&mut pages, frame, shaper);
    let count = pages.len();
    for (n, page) in pages.iter_mut().enumerate() {
        if n > 0 {
            let (left, right) = &frame.running_header;
            page.items.push(text(
                MARGIN_X,
                MARGIN_TOP + FOOTER_SIZE,
                FOOTER_SIZE,
                false,
                left.clone(),
                shaper.width(left, FOOTER_SIZE),
            ));
            let right_width = shaper.width(right, FOOTER_SIZE);
            page.items.push(text(
                MARGIN_X + CONTENT_WIDTH - right_width,
                MARGIN_TOP + FOOTER_SIZE,
                FOOTER_SIZE,
                false,
                right.clone(),
                right_width,
            ));
            page.items.push(rule(
                MARGIN_X,
                MARGIN_TOP + 14.0,
                PAGE_WIDTH - MARGIN_X,
                MARGIN_TOP + 14.0,
            ));
        }
        let number = format!("第 {} 页 共 {} 页", n + 1, count);
        let w = shaper.width(&number, FOOTER_SIZE);
        page.items.push(text(
            (PAGE_WIDTH - w) / 2.0,
            FOOTER_BASELINE,
            FOOTER_SIZE,
            false,
            number,
            w,
        ));
    }
    Layout {
        pages,
        title: frame.title.clone(),
    }
}

fn measure(flow: &[Flow], shaper: &Shaper<'_>) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut tables = 0;
    for item in flow {
        match item {
            Flow::Centered {
                text: t,
                size,
                bold,
            } => {
                for line in wrap(t, CONTENT_WIDTH, CONTENT_WIDTH, |c| {
                    shaper.advance(c, *size)
                }) {
                    let lh = line_height(*size);
                    let mut b = Block::new(lh);
                    let x = MARGIN_X + (CONTENT_WIDTH - line.width) / 2.0;
                    b.items.push(text(
                        x,
                        baseline(0.0, lh, *size),
                        *size,
                        *bold,
                        line.text,
                        line.width,
                    ));
                    blocks.push(b);
                }
            }
            Flow::Paragraph {
                text: t,
                size,
                indent,
                keep_with_next,
            } => {
                let indent = indent * size;
                let lines = wrap(t, CONTENT_WIDTH - indent, CONTENT_WIDTH, |c| {
                    shaper.advance(c, *size)
                });
                let last = lines.len().saturating_sub(1);
                for (i, line) in lines.into_iter().enumerate() {
                    let lh = line_height(*size);
                    let mut b = Block::new(lh);
                    let x = MARGIN_X + if line.first { indent } else { 0.0 };
                    b.items.push(text(
                        x,
                        baseline(0.0, lh, *size),
                        *size,
                        false,
                        line.text,
                        line.width,
                    ));
                    b.keep_with_next = *keep_with_next && i == last;
                    blocks.push(b);
                }
            }
            Flow::Labelled {
                label,
                text: t,
                size,
                indent,
            } => {
                let left = MARGIN_X + indent * size;
                let label_width = shaper.width(label, *size);
                let avail = MARGIN_X + CONTENT_WIDTH - left - label_width;
                let lh = line_height(*size);
                for (i, line) in wrap(t, avail, avail, |c| shaper.advance(c, *size))
                    .into_iter()
                    .enumerate()
                {
                    let mut b = Block::new(lh);
                    let y = baseline(0.0, lh, *size);
                    if i == 0 {
                        b.items
                            .push(text(left, y, *size, false, label.clone(), label_width));
                    }
                    b.items.push(text(
                        left + label_width,
                        y,
                        *size,
                        false,
                        line.text,
                        line.width,
                    ));
                    blocks.push(b);
                }
            }
            Flow::Space(h) => blocks.push(Block::new(*h)),
            Flow::Rule => {
                let mut b = Block::new(10.0);
                b.items
                    .push(rule(MARGIN_X, 5.0, MARGIN_X + CONTENT_WIDTH, 5.0));
                blocks.push(b);
            }
            Flow::Table(table) => {
                measure_table(table, tables, shaper, &mut blocks);
                tables += 1;
            }
        }
    }
    blocks
}

fn measure_table(table: &Table, id: usize, shaper: &Shaper<'_>, blocks: &mut Vec<Block>) {
    let total: f32 = table.columns.iter().map(|c| c.weight).sum();
    let total = if total > 0.0 { total } else { 1.0 };
    let mut edges = vec![MARGIN_X];
    for c in &table.columns {
        let last = edges.last().copied().unwrap_or(MARGIN_X);
        edges.push(last + CONTENT_WIDTH * c.weight / total);
    }
    let size = SMALL_SIZE;
    let lh = size * 1.5;
    let row_block = |cells: Vec<&str>, header: bool| -> Block {
        let wrapped: Vec<_> = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let width = edges[i + 1] - edges[i] - 2.0 * CELL_PADDING;
                wrap(cell, width, width, |c| shaper.advance(c, size))
            })
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let height = lines as f32 * lh + 2.0 * CELL_PADDING;
        let mut b = Block::new(height);
        for (i, cell) in wrapped.into_iter().enumerate() {
            let centered = header || table.columns[i].centered;
            // Cells with fewer lines than the row are centred vertically.
            let top = CELL_PADDING + (lines - cell.len()) as f32 * lh / 2.0;
            for (j, line) in cell.into_iter().enumerate() {
                let x = if centered {
                    (edges[i] + edges[i + 1] - line.width) / 2.0
                } else {
                    edges[i] + CELL_PADDING
                };
                let y = baseline(top + j as f32 * lh, lh, size);
                b.items
                    .push(text(x, y, size, header, line.text, line.width));
            }
        }
        let right = edges.last().copied().unwrap_or(MARGIN_X);
        b.items.push(rule(MARGIN_X, 0.0, right, 0.0));
        b.items.push(rule(MARGIN_X, height, right, height));
        for x in &edges {
            b.items.push(rule(*x, 0.0, *x, height));
        }
        b.table = Some(id);
        b.table_header = header;
        b.keep_with_next = header;
        b
    };
    if table.header {
        let titles = table.columns.iter().map(|c| c.title.as_str()).collect();
        blocks.push(row_block(titles, true));
    }
    for row in &table.rows {
        let mut cells: Vec<&str> = row.iter().map(String::as_str).collect();
        cells.resize(table.columns.len(), "");
        blocks.push(row_block(cells, false));
    }
}

/// Pages filled with blocks, where the last block ends and which block starts the last page.
struct Pagination {
    pages: Vec<PageLayout>,
    end: f32,
    last_page_start: usize,
}

/// How many blocks at the end go to a new page with the closing band when it does not fit.
const TAIL_BLOCKS: usize = 4;

/// Fills pages with `blocks`, starting a new page before block `break_before` if given.
fn paginate(blocks: &[Block], break_before: Option<usize>) -> Pagination {
    let mut pages = vec![PageLayout::default()];
    let mut y = MARGIN_TOP;
    let mut page_top = MARGIN_TOP;
    let mut last_page_start = 0;
    for (i, block) in blocks.iter().enumerate() {
        // A block that keeps with the next one moves with it; chains of them are rare (a line
        // introducing a table whose header row keeps with its first row) and short.
        let mut need = block.height;
        let mut j = i;
        while blocks[j].keep_with_next && j + 1 < blocks.len() {
            j += 1;
            need += blocks[j].height;
        }
        if (y + need > BODY_BOTTOM || break_before == Some(i)) && y > page_top {
            pages.push(PageLayout::default());
            y = CONTINUATION_TOP;
            page_top = y;
            last_page_start = i;
            if let (Some(table), false) = (block.table, block.table_header)
                && let Some(header) = blocks[..i]
                    .iter()
                    .rev()
                    .find(|b| b.table == Some(table) && b.table_header)
            {
                place(pages.last_mut(), header, y);
                y += header.height;
            }
        }
        // A leading space on a new page is dropped.
        if block.items.is_empty() && y == page_top {
            continue;
        }
        place(pages.last_mut(), block, y);
        y += block.height;
    }
    Pagination {
        pages,
        end: y,
        last_page_start,
    }
}

fn place(page: Option<&mut PageLayout>, block: &Block, top: f32) {
    let Some(page) = page else { return };
    for item in &block.items {
        page.items.push(match item.clone() {
            Item::Text {
                x,
                y,
                size,
                bold,
                text,
                width,
            } => Item::Text {
                x,
                y: y + top,
                size,
                bold,
                text,
                width,
            },
            Item::Rule {
                x1,
                y1,
                x2,
                y2,
                width,
            } => Item::Rule {
                x1,
                y1: y1 + top,
                x2,
                y2: y2 + top,
                width,
            },
            Item::QrCode { x, y, size, data } => Item::QrCode {
                x,
                y: y + top,
                size,
                data,
            },
            Item::Seal {
                cx,
                cy,
                radius,
                text,
                label,
            } => Item::Seal {
                cx,
                cy: cy + top,
                radius,
                text,
                label,
            },
        });
    }
}

/// QR code bottom left with its caption, department and date bottom right.
fn add_closing(pages: &mut [PageLayout], frame: &Frame, shaper: &Shaper<'_>) {
    let Some(page) = pages.last_mut() else { return };
    let top = BODY_BOTTOM - CLOSING_HEIGHT;
    page.items.push(Item::QrCode {
        x: MARGIN_X - 8.0,
        y: top,
        size: QR_SIZE,
        data: frame.qr.0.clone(),
    });
    let caption_width = shaper.width(&frame.qr.1, FOOTER_SIZE);
    page.items.push(text(
        MARGIN_X - 8.0 + (QR_SIZE - caption_width) / 2.0,
        top + QR_SIZE + 12.0,
        FOOTER_SIZE,
        false,
        frame.qr.1.clone(),
        caption_width,
    ));
    // The signature lines are centred on each other, their block two em from the right edge
    // (the seal goes over them).
    let size = BODY_SIZE;
    let widths: Vec<f32> = frame
        .signature
        .iter()
        .map(|s| shaper.width(s, size))
        .collect();
    let block_width = widths.iter().copied().fold(0.0, f32::max);
    let right = MARGIN_X + CONTENT_WIDTH - 2.0 * size;
    let left = right - block_width;
    for (i, (line, w)) in frame.signature.iter().zip(widths).enumerate() {
        page.items.push(text(
            left + (block_width - w) / 2.0,
            top + 40.0 + i as f32 * line_height(size),
            size,
            false,
            line.clone(),
            w,
        ));
    }
}
