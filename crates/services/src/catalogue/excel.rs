//! The Excel (.xlsx) form of an implementation list (实施清单): item managers export their
//! organisation's items, edit them in Excel or WPS, and import them back.
//!
//! The module is pure — bytes in, bytes out — and knows nothing of the database or of HTTP.
//!
//! # Layout
//!
//! | sheet | one row per | columns |
//! |---|---|---|
//! | 说明 | — | how to fill the workbook, generated from the column table below |
//! | 事项 | item | 实施编码, 实施主体*, 状态*, 版本*, 事项名称, 别名, 事项类型, 服务对象, 主题, 受理条件, 法定/承诺办结时限（工作日）, 是否收费, 办理形式, 办件类型, 网办深度, 到现场次数, 通办范围, 结果名称, 结果类型, 咨询电话, 投诉电话 |
//! | 申请材料 | material | 实施编码, 序号, 材料名称, 原件份数, 复印件份数, 材料形式, 是否必要, 需要提交的情形, 来源渠道, 填报须知, 空白表格, 示例样表 |
//! | 设定依据 | legal basis | 实施编码, 序号, 法律法规名称, 条款号, 条款内容 |
//! | 办理流程 | step | 实施编码, 序号, 环节名称, 环节说明 |
//! | 收费项目 | fee | 实施编码, 序号, 项目名称, 收费标准, 收费依据 |
//! | 办理地点 | place | 实施编码, 序号, 地点名称, 地址, 办理时间 |
//!
//! (*) export only: shown for reference, ignored on import.
//!
//! Every sheet's first non-empty row is its header. Columns are found by header text, so their
//! order does not matter and extra columns (a manager's own notes) are ignored; header text is
//! compared without spaces, `*` and parenthesised units, so `承诺办结时限` finds
//! `承诺办结时限（工作日）`. List sheets are joined to the 事项 sheet by 实施编码 and ordered by
//! 序号 (then by row).
//!
//! # Import contract
//!
//! [`parse_workbook`] reads every row of every sheet and collects *all* problems, each with its
//! sheet, Excel row, column header and a Chinese message that says what is wrong and what is
//! expected; if there is any, it returns [`ExcelError::Rows`] and no item at all, so a
//! workbook is imported whole or not at all. Whether a guide is *good* (vague wording, missing
//! elements) is not checked here: that is the quality check on submission.
//!
//! Architecture invariant: the Excel layout is defined once, in the `*_SHEET` tables below; the
//! writer, the reader and the 说明 sheet all derive from them.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Range, Reader, Sheets, open_workbook_auto_from_rs};
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, Format, FormatAlign,
    FormatBorder, Workbook, Worksheet, XlsxError,
};
use yiwang_domain::codes::ImplementationCode;
use yiwang_domain::dict::{
    CaseType, CrossRegionScope, HandlingForm, ItemType, MaterialForm, OnlineDepth, ServiceObject,
};
use yiwang_domain::identity::RealNameLevel;
use yiwang_domain::item::{
    Fee, Guide, ItemResult, LegalBasis, MAX_NAME_CHARS, Material, Place, ProcessStep,
};

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// One item to export: its current version's guide and the facts shown for reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    /// 实施编码 (31 characters).
    pub code: String,
    /// 实施主体: the implementing organisation's name (export only).
    pub organisation: String,
    /// The item's state in Chinese, e.g. 在用 (export only).
    pub state_zh: String,
    /// The exported version's number (export only).
    pub version: i64,
    /// The guide of that version.
    pub guide: Guide,
}

/// One item read from a workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// 实施编码, parsed.
    pub code: ImplementationCode,
    /// The complete guide as the workbook gives it.
    pub guide: Guide,
    /// 1-based row of the item on the 事项 sheet, as Excel shows it.
    pub row: u32,
}

/// One bad cell of an imported workbook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{sheet}”表第{row}行“{column}”列：{message}")]
pub struct CellError {
    /// Sheet name, e.g. 事项.
    pub sheet: String,
    /// 1-based row, as Excel shows it.
    pub row: u32,
    /// Column header text, e.g. 承诺办结时限（工作日）.
    pub column: String,
    /// What is wrong and what is expected, in Chinese.
    pub message: String,
}

/// Why a workbook could not be written or read.
///
/// Every variant except [`ExcelError::Write`] is the uploader's mistake, and its `Display` is
/// a Chinese sentence that can be shown as is; `Write` is an internal fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExcelError {
    /// The bytes are not an Excel workbook (the reader's explanation attached).
    #[error("上传的文件不是有效的 Excel 工作簿（.xlsx），请使用本系统导出的模板")]
    NotAWorkbook(String),
    /// A required sheet is absent.
    #[error("工作簿缺少“{0}”工作表，请使用本系统导出的模板，不要删除或重命名工作表")]
    MissingSheet(String),
    /// A required column is absent from a sheet's header row.
    #[error("“{sheet}”工作表缺少“{column}”列，请不要删除或修改表头")]
    MissingColumn {
        /// Sheet name.
        sheet: String,
        /// Header text of the missing column.
        column: String,
    },
    /// Bad cells: every one of them, in sheet, row and column order.
    #[error("工作簿中有{}处错误，未导入任何事项", .0.len())]
    Rows(Vec<CellError>),
    /// The workbook could not be written (internal fault).
    #[error("failed to write the workbook: {0}")]
    Write(String),
}

impl From<XlsxError> for ExcelError {
    fn from(e: XlsxError) -> Self {
        ExcelError::Write(e.to_string())
    }
}

/// Writes the implementation list as a workbook (see the module doc for the layout).
///
/// With no rows it is the blank import template.
pub fn export_workbook(rows: &[ExportRow]) -> Result<Vec<u8>, ExcelError> {
    let styles = Styles::new();
    let mut workbook = Workbook::new();

    write_readme(workbook.add_worksheet(), &styles)?;

    let items = workbook.add_worksheet();
    prepare_sheet(items, &ITEM_SHEET, &styles)?;
    for (i, r) in rows.iter().enumerate() {
        write_row(items, data_row(i)?, &ITEM_SHEET, &item_values(r), &styles)?;
    }
    finish_sheet(items, &ITEM_SHEET, rows.len())?;

    write_list(
        workbook.add_worksheet(),
        &MATERIAL_SHEET,
        rows,
        &styles,
        |g| g.materials.iter().map(material_values).collect(),
    )?;
    write_list(workbook.add_worksheet(), &LEGAL_SHEET, rows, &styles, |g| {
        g.legal_basis
            .iter()
            .map(|l| vec![text(&l.law), text(&l.article), text(&l.text)])
            .collect()
    })?;
    write_list(
        workbook.add_worksheet(),
        &PROCESS_SHEET,
        rows,
        &styles,
        |g| {
            g.process
                .iter()
                .map(|s| vec![text(&s.name), text(&s.description)])
                .collect()
        },
    )?;
    write_list(workbook.add_worksheet(), &FEE_SHEET, rows, &styles, |g| {
        g.fees
            .iter()
            .flatten()
            .map(|f| vec![text(&f.name), text(&f.amount), text(&f.basis)])
            .collect()
    })?;
    write_list(workbook.add_worksheet(), &PLACE_SHEET, rows, &styles, |g| {
        g.places
            .iter()
            .map(|p| vec![text(&p.name), text(&p.address), text(&p.hours)])
            .collect()
    })?;

    Ok(workbook.save_to_buffer()?)
}

/// Reads a workbook back into guides, or reports every problem at once (see the module doc).
///
/// Items come back in the order of the 事项 sheet.
pub fn parse_workbook(bytes: &[u8]) -> Result<Vec<ImportRow>, ExcelError> {
    let mut workbook = open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| ExcelError::NotAWorkbook(e.to_string()))?;
    let names = workbook.sheet_names();

    // Structure first: a missing sheet or column makes row-by-row messages meaningless.
    let items = Table::read(&mut workbook, &names, &ITEM_SHEET)?;
    let materials = Table::read(&mut workbook, &names, &MATERIAL_SHEET)?;
    let legal = Table::read(&mut workbook, &names, &LEGAL_SHEET)?;
    let process = Table::read(&mut workbook, &names, &PROCESS_SHEET)?;
    let fees = Table::read(&mut workbook, &names, &FEE_SHEET)?;
    let places = Table::read(&mut workbook, &names, &PLACE_SHEET)?;

    let mut problems = Problems::default();

    let mut drafts: Vec<ItemDraft> = Vec::new();
    let mut keys: HashMap<String, usize> = HashMap::new();
    for row in items.data_rows() {
        let mut cells = Cells::new(&items, row, &mut problems);
        let draft = read_item(&mut cells);
        match keys.get(&draft.key) {
            Some(&first) if !draft.key.is_empty() => {
                let first_row = drafts.get(first).map_or(0, |d| excel_row(d.row));
                cells.report(
                    h::CODE,
                    format!(
                        "实施编码“{}”与第{}行重复；同一事项在“事项”表中只能占一行",
                        draft.key, first_row
                    ),
                );
            }
            _ => {
                if !draft.key.is_empty() {
                    keys.insert(draft.key.clone(), drafts.len());
                }
                drafts.push(draft);
            }
        }
    }

    let n = drafts.len();
    let materials = read_list(&materials, &keys, n, &mut problems, read_material);
    let legal = read_list(&legal, &keys, n, &mut problems, read_legal_basis);
    let process = read_list(&process, &keys, n, &mut problems, read_step);
    let fee_rows = read_list(&fees, &keys, n, &mut problems, read_fee);
    let places = read_list(&places, &keys, n, &mut problems, read_place);

    let mut out = Vec::with_capacity(n);
    let lists = materials
        .into_iter()
        .zip(legal)
        .zip(process)
        .zip(fee_rows)
        .zip(places);
    for (draft, ((((materials, legal), process), fee_rows), places)) in
        drafts.into_iter().zip(lists)
    {
        let fee_list = check_fees(&items, draft.row, draft.charged, &fee_rows, &mut problems);
        if let (Some(code), Some(mut guide), Some(fee_list)) = (draft.code, draft.guide, fee_list) {
            guide.materials = values(materials);
            guide.legal_basis = values(legal);
            guide.process = values(process);
            guide.places = values(places);
            guide.fees = fee_list;
            out.push(ImportRow {
                code,
                guide,
                row: excel_row(draft.row),
            });
        }
    }

    problems.into_result(out)
}

// ---------------------------------------------------------------------------------------------
// The layout: sheets, columns and what each column accepts
// ---------------------------------------------------------------------------------------------

/// Header texts, shared by the writer, the reader and the 说明 sheet.
mod h {
    pub const CODE: &str = "实施编码";
    pub const SEQ: &str = "序号";

    pub const ORGANISATION: &str = "实施主体";
    pub const STATE: &str = "状态";
    pub const VERSION: &str = "版本";
    pub const NAME: &str = "事项名称";
    pub const ALIASES: &str = "别名";
    pub const ITEM_TYPE: &str = "事项类型";
    pub const SERVICE_OBJECTS: &str = "服务对象";
    pub const THEMES: &str = "主题";
    pub const CONDITIONS: &str = "受理条件";
    pub const STATUTORY: &str = "法定办结时限（工作日）";
    pub const PROMISED: &str = "承诺办结时限（工作日）";
    pub const CHARGED: &str = "是否收费";
    pub const FORMS: &str = "办理形式";
    pub const CASE_TYPE: &str = "办件类型";
    pub const DEPTH: &str = "网办深度";
    pub const VISITS: &str = "到现场次数";
    pub const MIN_LEVEL: &str = "实名等级要求";
    pub const SCOPE: &str = "通办范围";
    pub const RESULT_NAME: &str = "结果名称";
    pub const RESULT_KIND: &str = "结果类型";
    pub const CONSULT: &str = "咨询电话";
    pub const COMPLAINT: &str = "投诉电话";

    pub const M_NAME: &str = "材料名称";
    pub const M_ORIGINAL: &str = "原件份数";
    pub const M_COPIES: &str = "复印件份数";
    pub const M_FORM: &str = "材料形式";
    pub const M_REQUIRED: &str = "是否必要";
    pub const M_CONDITION: &str = "需要提交的情形";
    pub const M_SOURCE: &str = "来源渠道";
    pub const M_NOTE: &str = "填报须知";
    pub const M_BLANK: &str = "空白表格";
    pub const M_SAMPLE: &str = "示例样表";

    pub const L_LAW: &str = "法律法规名称";
    pub const L_ARTICLE: &str = "条款号";
    pub const L_TEXT: &str = "条款内容";

    pub const P_NAME: &str = "环节名称";
    pub const P_DESCRIPTION: &str = "环节说明";

    pub const F_NAME: &str = "项目名称";
    pub const F_AMOUNT: &str = "收费标准";
    pub const F_BASIS: &str = "收费依据";

    pub const PL_NAME: &str = "地点名称";
    pub const PL_ADDRESS: &str = "地址";
    pub const PL_HOURS: &str = "办理时间";
}

/// Whether a cell must be filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// The cell must not be empty.
    Required,
    /// The cell may be empty.
    Optional,
    /// Written for reference, ignored on import (the column may even be deleted).
    ExportOnly,
}

/// What a column holds, which decides its cell format and its drop-down.
#[derive(Clone, Copy)]
enum Kind {
    /// Short text, kept as text (“@” format) so Excel does not turn codes or phones into numbers.
    Text,
    /// Long text, wrapped.
    Wrap,
    /// A whole number ≥ 0.
    Count,
    /// 序号: a whole number ≥ 1; the column itself is optional.
    Seq,
    /// A value picked from a list. `strict`: Excel refuses other values (otherwise it warns).
    Pick {
        values: fn() -> Vec<&'static str>,
        strict: bool,
    },
}

/// One column of a sheet.
struct Column {
    header: &'static str,
    need: Need,
    kind: Kind,
    width: f64,
    /// How to fill it, for the 说明 sheet and the header's tooltip (≤ 255 characters).
    help: &'static str,
}

/// One sheet of the workbook.
struct SheetSpec {
    name: &'static str,
    /// Position among the data sheets, to sort problems.
    order: usize,
    /// What one row is, for the 说明 sheet.
    about: &'static str,
    columns: &'static [Column],
}

impl SheetSpec {
    fn column_index(&self, header: &str) -> usize {
        self.columns
            .iter()
            .position(|c| c.header == header)
            .unwrap_or(usize::MAX)
    }
}

const fn col(
    header: &'static str,
    need: Need,
    kind: Kind,
    width: f64,
    help: &'static str,
) -> Column {
    Column {
        header,
        need,
        kind,
        width,
        help,
    }
}

const fn pick(values: fn() -> Vec<&'static str>) -> Kind {
    Kind::Pick {
        values,
        strict: true,
    }
}

const fn suggest(values: fn() -> Vec<&'static str>) -> Kind {
    Kind::Pick {
        values,
        strict: false,
    }
}

use Kind::{Count, Seq, Text, Wrap};
use Need::{ExportOnly, Optional, Required};

const CODE_HELP: &str = "该行所属事项的实施编码（31位），须与“事项”表中的一致。";
const SEQ_HELP: &str = "同一事项内的顺序，从1开始的整数；留空则按行的先后。";

#[rustfmt::skip]
const ITEM_SHEET: SheetSpec = SheetSpec {
    name: "事项",
    order: 0,
    about: "每行一个实施清单事项。",
    columns: &[
        col(h::CODE, Required, Text, 34.0,
            "31位实施编码：18位统一社会信用代码＋1位行使层级＋12位基本编码。请保持“文本”格式，以免被Excel变成科学计数法。同一编码只能出现一次。"),
        col(h::ORGANISATION, ExportOnly, Wrap, 24.0,
            "实施主体名称，仅供查看，导入时忽略。"),
        col(h::STATE, ExportOnly, Text, 8.0,
            "事项状态，仅供查看，导入时忽略。"),
        col(h::VERSION, ExportOnly, Count, 6.0,
            "导出的版本号，仅供查看，导入时忽略。"),
        col(h::NAME, Required, Wrap, 28.0,
            "事项的规范名称，不超过120个字。"),
        col(h::ALIASES, Optional, Wrap, 18.0,
            "群众常用的其他叫法或简称，多个用顿号“、”分隔。"),
        col(h::ITEM_TYPE, Required, pick(labels::<ItemType>), 14.0,
            "从下拉框选择，如“行政许可”；也可填国家标准代码，如“01”。"),
        col(h::SERVICE_OBJECTS, Optional, Wrap, 20.0,
            "可填：自然人、企业法人、事业法人、社会组织法人、行政机关、其他组织；多个用顿号“、”分隔。"),
        col(h::THEMES, Optional, Wrap, 16.0,
            "主题分类的键，多个用顿号“、”分隔。"),
        col(h::CONDITIONS, Optional, Wrap, 50.0,
            "每行一条受理条件（单元格内换行：Alt+Enter）。"),
        col(h::STATUTORY, Required, Count, 12.0,
            "法律法规规定的办结时限，填不小于0的整数（工作日）；法律未规定时限的填0。"),
        col(h::PROMISED, Required, Count, 12.0,
            "承诺的办结时限，填不小于0的整数（工作日），不得超过法定办结时限；即办件填0。"),
        col(h::CHARGED, Optional, pick(yes_no), 10.0,
            "填“是”时须在“收费项目”表中填写收费项目；填“否”时“收费项目”表中不能有该事项的记录；留空表示未说明。"),
        col(h::FORMS, Optional, Wrap, 24.0,
            "可填：窗口办理、网上办理（电脑端）、移动端办理、快递申请、其他；多个用顿号“、”分隔。"),
        col(h::CASE_TYPE, Required, pick(labels::<CaseType>), 10.0,
            "从下拉框选择：即办件、承诺件、其他。"),
        col(h::DEPTH, Required, pick(labels::<OnlineDepth>), 30.0,
            "从下拉框选择，也可只填级别数字1～4。"),
        col(h::VISITS, Required, Count, 10.0,
            "办事人需到现场的次数，不小于0的整数。"),
        col(h::MIN_LEVEL, Optional, Count, 10.0,
            "网上申请所需的最低实名等级：1（基础实名）、2（人口库核验）、3（窗口核验）；留空为2。"),
        col(h::SCOPE, Required, pick(labels::<CrossRegionScope>), 12.0,
            "从下拉框选择：不通办、跨县通办、跨市通办、全省通办、跨省通办。"),
        col(h::RESULT_NAME, Optional, Wrap, 24.0,
            "办理结果的名称，如“食品经营许可证”。"),
        col(h::RESULT_KIND, Optional, suggest(result_kinds), 10.0,
            "一般为证照、批文或其他。"),
        col(h::CONSULT, Optional, Text, 16.0,
            "咨询电话，如0731-88665000。"),
        col(h::COMPLAINT, Optional, Text, 16.0,
            "监督投诉电话，如12345。"),
    ],
};

#[rustfmt::skip]
const MATERIAL_SHEET: SheetSpec = SheetSpec {
    name: "申请材料",
    order: 1,
    about: "每行一份申请材料。",
    columns: &[
        col(h::CODE, Required, Text, 34.0, CODE_HELP),
        col(h::SEQ, Optional, Seq, 6.0, SEQ_HELP),
        col(h::M_NAME, Required, Wrap, 30.0, "材料的名称。"),
        col(h::M_ORIGINAL, Optional, Count, 10.0,
            "需提交的原件份数，不小于0的整数；留空视为0。"),
        col(h::M_COPIES, Optional, Count, 10.0,
            "需提交的复印件份数，不小于0的整数；留空视为0。"),
        col(h::M_FORM, Required, pick(labels::<MaterialForm>), 12.0,
            "从下拉框选择：纸质、电子、纸质或电子。"),
        col(h::M_REQUIRED, Required, pick(needed), 10.0,
            "从下拉框选择：必要、非必要。按情形提交的材料选“非必要”并填写需要提交的情形。"),
        col(h::M_CONDITION, Optional, Wrap, 24.0,
            "按情形提交的材料，写明在什么情形下需要提交，如“委托他人办理的”。"),
        col(h::M_SOURCE, Optional, suggest(sources), 14.0,
            "如申请人自备、政府部门核发。"),
        col(h::M_NOTE, Optional, Wrap, 30.0, "填写要求或注意事项。"),
        col(h::M_BLANK, Optional, pick(yes_no), 10.0,
            "是否提供空白表格：是或否；留空视为否。"),
        col(h::M_SAMPLE, Optional, pick(yes_no), 10.0,
            "是否提供示例样表：是或否；留空视为否。"),
    ],
};

#[rustfmt::skip]
const LEGAL_SHEET: SheetSpec = SheetSpec {
    name: "设定依据",
    order: 2,
    about: "每行一条设定依据。",
    columns: &[
        col(h::CODE, Required, Text, 34.0, CODE_HELP),
        col(h::SEQ, Optional, Seq, 6.0, SEQ_HELP),
        col(h::L_LAW, Required, Wrap, 30.0,
            "法律法规的全称，带书名号，如《中华人民共和国食品安全法》。"),
        col(h::L_ARTICLE, Optional, Text, 14.0,
            "条款号，如“第三十五条”。"),
        col(h::L_TEXT, Optional, Wrap, 60.0, "条款的原文。"),
    ],
};

#[rustfmt::skip]
const PROCESS_SHEET: SheetSpec = SheetSpec {
    name: "办理流程",
    order: 3,
    about: "每行一个办理环节。",
    columns: &[
        col(h::CODE, Required, Text, 34.0, CODE_HELP),
        col(h::SEQ, Optional, Seq, 6.0, SEQ_HELP),
        col(h::P_NAME, Required, Text, 14.0,
            "环节名称，如申请、受理、审查、决定、送达。"),
        col(h::P_DESCRIPTION, Optional, Wrap, 60.0,
            "该环节做什么、由谁办、多长时间。"),
    ],
};

#[rustfmt::skip]
const FEE_SHEET: SheetSpec = SheetSpec {
    name: "收费项目",
    order: 4,
    about: "每行一个收费项目；“事项”表中是否收费为“是”的事项至少要有一行。",
    columns: &[
        col(h::CODE, Required, Text, 34.0, CODE_HELP),
        col(h::SEQ, Optional, Seq, 6.0, SEQ_HELP),
        col(h::F_NAME, Required, Wrap, 24.0, "收费项目的名称。"),
        col(h::F_AMOUNT, Optional, Wrap, 20.0, "收费标准，如“20元/证”。"),
        col(h::F_BASIS, Optional, Wrap, 40.0,
            "收费依据的文件名称和文号。"),
    ],
};

#[rustfmt::skip]
const PLACE_SHEET: SheetSpec = SheetSpec {
    name: "办理地点",
    order: 5,
    about: "每行一个办理地点。",
    columns: &[
        col(h::CODE, Required, Text, 34.0, CODE_HELP),
        col(h::SEQ, Optional, Seq, 6.0, SEQ_HELP),
        col(h::PL_NAME, Required, Wrap, 24.0, "办事大厅或窗口的名称。"),
        col(h::PL_ADDRESS, Optional, Wrap, 36.0, "详细地址。"),
        col(h::PL_HOURS, Optional, Wrap, 28.0,
            "办理时间，如“周一至周五 9:00-12:00，13:30-17:00（法定节假日除外）”。"),
    ],
};

/// The data sheets, in workbook order.
const DATA_SHEETS: [&SheetSpec; 6] = [
    &ITEM_SHEET,
    &MATERIAL_SHEET,
    &LEGAL_SHEET,
    &PROCESS_SHEET,
    &FEE_SHEET,
    &PLACE_SHEET,
];

const README_SHEET: &str = "说明";

const YES: &str = "是";
const NO: &str = "否";
const NEEDED: &str = "必要";
const NOT_NEEDED: &str = "非必要";

fn yes_no() -> Vec<&'static str> {
    vec![YES, NO]
}

fn needed() -> Vec<&'static str> {
    vec![NEEDED, NOT_NEEDED]
}

fn result_kinds() -> Vec<&'static str> {
    vec!["证照", "批文", "其他"]
}

fn sources() -> Vec<&'static str> {
    vec!["申请人自备", "政府部门核发", "其他"]
}

/// A national code table of `yiwang_domain::dict`, seen uniformly.
trait CodeTable: Copy + PartialEq + 'static {
    fn all() -> &'static [Self];
    fn code(self) -> &'static str;
    fn label(self) -> &'static str;
}

macro_rules! code_tables {
    ($($t:ty),+) => {$(
        impl CodeTable for $t {
            fn all() -> &'static [Self] { <$t>::ALL }
            fn code(self) -> &'static str { <$t>::code(self) }
            fn label(self) -> &'static str { <$t>::label_zh(self) }
        }
    )+};
}

code_tables!(
    ItemType,
    ServiceObject,
    HandlingForm,
    CaseType,
    OnlineDepth,
    CrossRegionScope,
    MaterialForm
);

fn labels<T: CodeTable>() -> Vec<&'static str> {
    T::all().iter().map(|v| v.label()).collect()
}

/// Finds a code-table value by its label, its national code, or either half of a label written
/// `A（B）` (so `四级`, `全程网办` and `4` all find `四级（全程网办）`).
fn lookup<T: CodeTable>(input: &str) -> Option<T> {
    let s = input.trim().replace('(', "（").replace(')', "）");
    let by_text = T::all().iter().copied().find(|v| {
        v.code() == s || v.label() == s || {
            let (outer, inner) = label_halves(v.label());
            outer == s || inner == Some(s.as_str())
        }
    });
    // A two-digit code typed as a number comes back as `1`, not `01`.
    by_text.or_else(|| {
        let padded = format!("0{s}");
        (s.len() == 1)
            .then(|| T::all().iter().copied().find(|v| v.code() == padded))
            .flatten()
    })
}

/// `A（B）` → (`A`, `Some(B)`); other labels → (label, `None`).
fn label_halves(label: &str) -> (&str, Option<&str>) {
    match label.strip_suffix('）').and_then(|l| l.split_once('（')) {
        Some((outer, inner)) => (outer, Some(inner)),
        None => (label, None),
    }
}

/// The allowed values of a table, for messages.
fn allowed<T: CodeTable>() -> String {
    let labels = T::all()
        .iter()
        .map(|v| v.label())
        .collect::<Vec<_>>()
        .join("、");
    let codes = T::all()
        .iter()
        .map(|v| v.code())
        .collect::<Vec<_>>()
        .join("、");
    format!("可填：{labels}（也可填对应代码 {codes}）")
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// The last row a drop-down covers (Excel's last row, 0-based).
const LAST_ROW: u32 = 1_048_575;

/// Cell formats, built once per workbook.
struct Styles {
    title: Format,
    section: Format,
    header_required: Format,
    header_optional: Format,
    header_export_only: Format,
    text: Format,
    wrap: Format,
    number: Format,
    info: Format,
    info_number: Format,
    readme_text: Format,
}

impl Styles {
    fn new() -> Self {
        let header = Format::new()
            .set_bold()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap();
        let text = Format::new()
            .set_num_format("@")
            .set_align(FormatAlign::Top);
        Styles {
            title: Format::new().set_bold().set_font_size(16),
            section: Format::new()
                .set_bold()
                .set_font_size(12)
                .set_align(FormatAlign::Top),
            header_required: header.clone().set_background_color(Color::RGB(0xFCE4D6)),
            header_optional: header.clone().set_background_color(Color::RGB(0xDDEBF7)),
            header_export_only: header.set_background_color(Color::RGB(0xD9D9D9)),
            wrap: text.clone().set_text_wrap(),
            number: Format::new().set_align(FormatAlign::Top),
            info: text
                .clone()
                .set_text_wrap()
                .set_font_color(Color::RGB(0x595959)),
            info_number: Format::new()
                .set_align(FormatAlign::Top)
                .set_font_color(Color::RGB(0x595959)),
            text,
            readme_text: Format::new().set_text_wrap().set_align(FormatAlign::Top),
        }
    }

    fn header(&self, need: Need) -> &Format {
        match need {
            Need::Required => &self.header_required,
            Need::Optional => &self.header_optional,
            Need::ExportOnly => &self.header_export_only,
        }
    }

    fn cell(&self, column: &Column) -> &Format {
        match (column.need, column.kind) {
            (Need::ExportOnly, Kind::Count | Kind::Seq) => &self.info_number,
            (Need::ExportOnly, _) => &self.info,
            (_, Kind::Count | Kind::Seq) => &self.number,
            (_, Kind::Wrap) => &self.wrap,
            (_, Kind::Text | Kind::Pick { .. }) => &self.text,
        }
    }
}

/// A value to write into one cell.
enum Value {
    Text(String),
    Number(f64),
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn number(n: impl Into<f64>) -> Value {
    Value::Number(n.into())
}

fn flag(b: bool, yes: &str, no: &str) -> Value {
    text(if b { yes } else { no })
}

fn joined<T>(values: &[T], f: impl Fn(&T) -> &str) -> Value {
    Value::Text(values.iter().map(f).collect::<Vec<_>>().join("、"))
}

/// The cells of an item's row on the 事项 sheet, in [`ITEM_SHEET`] column order.
fn item_values(r: &ExportRow) -> Vec<Value> {
    let g = &r.guide;
    // Integers up to 2^53 are exact in an f64; a version number never comes near.
    #[allow(clippy::cast_precision_loss)]
    let version = r.version as f64;
    vec![
        text(&r.code),
        text(&r.organisation),
        text(&r.state_zh),
        number(version),
        text(&g.name),
        joined(&g.aliases, |s| s),
        text(g.item_type.label_zh()),
        joined(&g.service_objects, |o| o.label_zh()),
        joined(&g.themes, |s| s),
        Value::Text(g.conditions.join("\n")),
        number(g.statutory_limit_days),
        number(g.promised_limit_days),
        match g.charged() {
            Some(charged) => flag(charged, YES, NO),
            None => text(""),
        },
        joined(&g.handling_forms, |f| f.label_zh()),
        text(g.case_type.label_zh()),
        text(g.online_depth.label_zh()),
        number(g.visits),
        number(g.min_level.number()),
        text(g.scope.label_zh()),
        text(&g.result.name),
        text(&g.result.kind),
        text(&g.consult_phone),
        text(&g.complaint_phone),
    ]
}

/// The cells of a material after 实施编码 and 序号, in [`MATERIAL_SHEET`] column order.
fn material_values(m: &Material) -> Vec<Value> {
    vec![
        text(&m.name),
        number(m.original),
        number(m.copies),
        text(m.form.label_zh()),
        flag(m.required, NEEDED, NOT_NEEDED),
        text(m.condition.as_deref().unwrap_or("")),
        text(&m.source),
        text(m.note.as_deref().unwrap_or("")),
        flag(m.blank_form, YES, NO),
        flag(m.sample, YES, NO),
    ]
}

/// The worksheet row of the `i`-th data row (row 0 is the header).
fn data_row(i: usize) -> Result<u32, ExcelError> {
    u32::try_from(i)
        .ok()
        .and_then(|i| i.checked_add(1))
        .filter(|&r| r <= LAST_ROW)
        .ok_or_else(|| ExcelError::Write(format!("too many rows for one sheet: {i}")))
}

/// A column index as rust_xlsxwriter wants it.
fn col_num(i: usize) -> Result<u16, ExcelError> {
    u16::try_from(i).map_err(|_| ExcelError::Write(format!("too many columns: {i}")))
}

/// Names the sheet, writes its header, widths, formats and drop-downs.
fn prepare_sheet(ws: &mut Worksheet, spec: &SheetSpec, styles: &Styles) -> Result<(), ExcelError> {
    ws.set_name(spec.name)?;
    ws.set_row_height(0, 32)?;
    ws.set_freeze_panes(1, 0)?;
    // Printed, a sheet is as wide as a landscape page and repeats its header on every page.
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(0, 0)?;
    for (i, column) in spec.columns.iter().enumerate() {
        let c = col_num(i)?;
        ws.set_column_width(c, column.width)?;
        ws.set_column_format(c, styles.cell(column))?;
        // A unit goes on a line of its own; the reader ignores the line break.
        let header = column.header.replacen('（', "\n（", 1);
        ws.write_string_with_format(0, c, header, styles.header(column.need))?;
        // The header's tooltip says how to fill the column.
        let tip = DataValidation::new()
            .allow_any_value()
            .set_input_title(column.header)?
            .set_input_message(column.help)?;
        ws.add_data_validation(0, c, 0, c, &tip)?;
        if let Some(rule) = validation(column)? {
            ws.add_data_validation(1, c, LAST_ROW, c, &rule)?;
        }
    }
    Ok(())
}

/// The drop-down or number rule of a column's data cells, if it has one.
fn validation(column: &Column) -> Result<Option<DataValidation>, ExcelError> {
    let rule = match column.kind {
        Kind::Pick { values, strict } => {
            let rule = DataValidation::new()
                .allow_list_strings(&values())?
                .set_error_title(column.header)?
                .set_error_message(column.help)?;
            if strict {
                rule
            } else {
                rule.set_error_style(DataValidationErrorStyle::Information)
            }
        }
        Kind::Count if column.need != Need::ExportOnly => DataValidation::new()
            .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
            .set_error_title(column.header)?
            .set_error_message("请填写不小于0的整数。")?,
        Kind::Seq => DataValidation::new()
            .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(1))
            .set_error_title(column.header)?
            .set_error_message("请填写从1开始的整数。")?,
        Kind::Count | Kind::Text | Kind::Wrap => return Ok(None),
    };
    Ok(Some(rule))
}

/// Adds the filter buttons once the rows are written.
fn finish_sheet(ws: &mut Worksheet, spec: &SheetSpec, rows: usize) -> Result<(), ExcelError> {
    let last_row = if rows == 0 { 0 } else { data_row(rows - 1)? };
    let last_col = col_num(spec.columns.len().saturating_sub(1))?;
    ws.autofilter(0, 0, last_row, last_col)?;
    Ok(())
}

fn write_row(
    ws: &mut Worksheet,
    row: u32,
    spec: &SheetSpec,
    values: &[Value],
    styles: &Styles,
) -> Result<(), ExcelError> {
    let mut lines = 1;
    for (i, (column, value)) in spec.columns.iter().zip(values).enumerate() {
        let c = col_num(i)?;
        let format = styles.cell(column);
        match value {
            Value::Text(s) if s.is_empty() => ws.write_blank(row, c, format)?,
            Value::Text(s) => {
                if matches!(column.kind, Kind::Wrap) {
                    lines = lines.max(wrapped_lines(s, column.width));
                }
                ws.write_string_with_format(row, c, s, format)?
            }
            Value::Number(n) => ws.write_number_with_format(row, c, *n, format)?,
        };
    }
    // Excel keeps the default height for rows it did not write, which would hide all but the
    // first line of wrapped text.
    if lines > 1 {
        let height = u32::try_from(lines).unwrap_or(u32::MAX).saturating_mul(15);
        ws.set_row_height(row, f64::from(height.min(405)) + 3.0)?;
    }
    Ok(())
}

/// How many lines `text` takes wrapped in a column `width` characters wide (a Chinese
/// character is as wide as two Latin ones).
fn wrapped_lines(text: &str, width: f64) -> usize {
    // Column widths are small positive constants; the usable width is at least one unit.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let usable = (width - 1.0).max(1.0) as usize;
    text.split('\n')
        .map(|line| {
            let units: usize = line.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
            units.div_ceil(usable).max(1)
        })
        .sum()
}

/// Writes a list sheet: for each item, its entries with 实施编码 and 序号 in front.
fn write_list(
    ws: &mut Worksheet,
    spec: &SheetSpec,
    rows: &[ExportRow],
    styles: &Styles,
    entries: impl Fn(&Guide) -> Vec<Vec<Value>>,
) -> Result<(), ExcelError> {
    prepare_sheet(ws, spec, styles)?;
    let mut n = 0;
    for r in rows {
        for (seq, mut values) in (1u32..).zip(entries(&r.guide)) {
            values.splice(0..0, [text(&r.code), number(seq)]);
            write_row(ws, data_row(n)?, spec, &values, styles)?;
            n += 1;
        }
    }
    finish_sheet(ws, spec, n)
}

/// General rules of the 说明 sheet; the per-column help follows them.
const README_RULES: &[&str] = &[
    "本工作簿用于批量导出、修改和导入本单位的实施清单。“事项”表每行一个事项；“申请材料”“设定依据”“办理流程”“收费项目”“办理地点”表每行一条明细，用“实施编码”列关联到“事项”表中的事项，用“序号”列排定同一事项内的先后顺序。",
    "表头颜色：橙色为必填列，蓝色为选填列，灰色列（实施主体、状态、版本）仅供查看，导入时忽略。点击表头可看到该列的填写说明。",
    "请勿修改表头文字，也不要删除或重命名工作表；列的先后顺序可以调整，也可以增加自己的备注列，导入时会忽略不认识的列。",
    "有下拉框的列请从下拉框选择；事项类型、办件类型、网办深度、通办范围、材料形式也可以填国家标准代码（如“01”表示行政许可）。",
    "别名、服务对象、主题、办理形式可填多个，用顿号“、”分隔；受理条件每行一条，在单元格内按 Alt+Enter 换行。",
    "时限、份数、次数填不小于0的整数；承诺办结时限不得超过法定办结时限（法定办结时限为0表示法律未规定时限）。",
    "是否收费填“是”的事项，须在“收费项目”表中至少填写一项；填“否”的事项，“收费项目”表中不能有它的记录；留空表示未说明。",
    "实施编码为31位：18位统一社会信用代码＋1位行使层级＋12位基本编码。这些列已设为“文本”格式，请勿改为“常规”或“数值”，以免编码被变成科学计数法。",
    "完全空白的行会被忽略；要删除一条明细，删除它所在的整行即可。",
    "导入时会检查所有工作表的每一行，一次列出全部问题（工作表、行号、列名和原因）。只要有一处问题，就不会导入任何事项；请按提示改正后重新导入。",
];

fn write_readme(ws: &mut Worksheet, styles: &Styles) -> Result<(), ExcelError> {
    ws.set_name(README_SHEET)?;
    ws.set_print_fit_to_pages(1, 0);
    ws.set_column_width(0, 24)?;
    ws.set_column_width(1, 10)?;
    ws.set_column_width(2, 90)?;
    ws.write_string_with_format(0, 0, "实施清单 Excel 导入导出说明", &styles.title)?;
    ws.set_row_height(0, 28)?;

    let mut row = 2;
    ws.write_string_with_format(row, 0, "一、填写规则", &styles.section)?;
    row += 1;
    for (i, rule) in README_RULES.iter().enumerate() {
        ws.write_string_with_format(row, 0, format!("{}.", i + 1), &styles.readme_text)?;
        write_paragraph(ws, row, rule, styles)?;
        row += 1;
    }

    row += 1;
    ws.write_string_with_format(row, 0, "二、各工作表的列", &styles.section)?;
    row += 1;
    for spec in DATA_SHEETS {
        row += 1;
        ws.write_string_with_format(row, 0, format!("“{}”表", spec.name), &styles.section)?;
        write_paragraph(ws, row, spec.about, styles)?;
        row += 1;
        ws.write_string_with_format(row, 0, "列名", &styles.header_optional)?;
        ws.write_string_with_format(row, 1, "是否必填", &styles.header_optional)?;
        ws.write_string_with_format(row, 2, "填写说明", &styles.header_optional)?;
        row += 1;
        for column in spec.columns {
            let need = match column.need {
                Need::Required => "必填",
                Need::Optional => "选填",
                Need::ExportOnly => "仅供查看",
            };
            ws.write_string_with_format(row, 0, column.header, &styles.readme_text)?;
            ws.write_string_with_format(row, 1, need, &styles.readme_text)?;
            write_paragraph(ws, row, column.help, styles)?;
            row += 1;
        }
    }
    Ok(())
}

/// Writes wrapped text into column C and makes the row tall enough for it (Excel does not
/// grow rows on opening a file).
fn write_paragraph(
    ws: &mut Worksheet,
    row: u32,
    text: &str,
    styles: &Styles,
) -> Result<(), ExcelError> {
    // About 44 Chinese characters fit a line of the 90-wide column.
    let lines = text.chars().count().div_ceil(44).max(1);
    let lines = u16::try_from(lines).unwrap_or(u16::MAX);
    ws.write_string_with_format(row, 2, text, &styles.readme_text)?;
    ws.set_row_height(row, f64::from(lines) * 15.0 + 3.0)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

static EMPTY: Data = Data::Empty;

/// One data sheet as read: its cells and where each known column is.
struct Table {
    spec: &'static SheetSpec,
    range: Range<Data>,
    /// Absolute 0-based row of the header.
    header_row: u32,
    /// Header of a known column → its absolute 0-based column.
    columns: HashMap<&'static str, u32>,
}

impl Table {
    fn read(
        workbook: &mut Sheets<Cursor<&[u8]>>,
        names: &[String],
        spec: &'static SheetSpec,
    ) -> Result<Table, ExcelError> {
        let name = names
            .iter()
            .find(|n| n.trim() == spec.name)
            .ok_or_else(|| ExcelError::MissingSheet(spec.name.to_owned()))?;
        let range = workbook
            .worksheet_range(name)
            .map_err(|e| ExcelError::NotAWorkbook(e.to_string()))?;

        // The header is the first non-empty row, so a title row above it is harmless.
        let (header_row, first_col) = range.start().unwrap_or((0, 0));
        let last_col = range.end().map_or(0, |(_, c)| c);
        let mut columns = HashMap::new();
        for c in first_col..=last_col {
            let Some(Data::String(header)) = range.get_value((header_row, c)) else {
                continue;
            };
            let key = header_key(header);
            if let Some(column) = spec.columns.iter().find(|k| header_key(k.header) == key) {
                columns.entry(column.header).or_insert(c);
            }
        }
        let missing = spec.columns.iter().find(|c| {
            c.need != Need::ExportOnly
                && !matches!(c.kind, Kind::Seq)
                && !columns.contains_key(c.header)
        });
        if let Some(column) = missing {
            return Err(ExcelError::MissingColumn {
                sheet: spec.name.to_owned(),
                column: column.header.to_owned(),
            });
        }
        Ok(Table {
            spec,
            range,
            header_row,
            columns,
        })
    }

    fn cell(&self, row: u32, header: &str) -> &Data {
        self.columns
            .get(header)
            .and_then(|&c| self.range.get_value((row, c)))
            .unwrap_or(&EMPTY)
    }

    /// The absolute rows below the header that have something in a known column.
    fn data_rows(&self) -> Vec<u32> {
        let last = self.range.end().map_or(0, |(r, _)| r);
        (self.header_row.saturating_add(1)..=last)
            .filter(|&r| {
                self.columns
                    .values()
                    .any(|&c| self.range.get_value((r, c)).is_some_and(|d| !blank(d)))
            })
            .collect()
    }
}

/// A header as compared on import: no spaces, no `*`, no parenthesised part.
fn header_key(header: &str) -> String {
    let mut out = String::new();
    let mut depth = 0u32;
    for c in header.chars() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth = depth.saturating_sub(1),
            '*' | '＊' => {}
            c if c.is_whitespace() => {}
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn blank(d: &Data) -> bool {
    match d {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// 0-based absolute row → the row number Excel shows.
fn excel_row(row: u32) -> u32 {
    row.saturating_add(1)
}

/// Every problem found so far, with a sort key (sheet, row, column).
#[derive(Default)]
struct Problems {
    list: Vec<((usize, u32, usize), CellError)>,
}

impl Problems {
    fn push(&mut self, spec: &SheetSpec, row: u32, header: &'static str, message: String) {
        let key = (spec.order, row, spec.column_index(header));
        self.list.push((
            key,
            CellError {
                sheet: spec.name.to_owned(),
                row: excel_row(row),
                column: header.to_owned(),
                message,
            },
        ));
    }

    fn into_result<T>(mut self, value: T) -> Result<T, ExcelError> {
        if self.list.is_empty() {
            return Ok(value);
        }
        self.list.sort_by_key(|(key, _)| *key);
        Err(ExcelError::Rows(
            self.list.into_iter().map(|(_, e)| e).collect(),
        ))
    }
}

/// The cells of one row, read with their problems recorded.
///
/// Each reader returns `None` after recording a problem, so a row is read to its end and every
/// bad cell is reported.
struct Cells<'a> {
    table: &'a Table,
    row: u32,
    problems: &'a mut Problems,
}

impl<'a> Cells<'a> {
    fn new(table: &'a Table, row: u32, problems: &'a mut Problems) -> Self {
        Cells {
            table,
            row,
            problems,
        }
    }

    fn report(&mut self, header: &'static str, message: String) {
        self.problems
            .push(self.table.spec, self.row, header, message);
    }

    /// The cell as text: trimmed, numbers without a useless `.0`, line breaks as `\n`.
    fn text(&mut self, header: &'static str) -> Option<String> {
        match self.table.cell(self.row, header) {
            Data::Empty => Some(String::new()),
            Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Some(
                s.replace("\r\n", "\n")
                    .replace('\r', "\n")
                    .trim()
                    .to_owned(),
            ),
            Data::Int(i) => Some(i.to_string()),
            Data::Float(f) => Some(float_text(*f)),
            Data::Bool(b) => Some(if *b { YES } else { NO }.to_owned()),
            Data::DateTime(_) => {
                self.report(
                    header,
                    "该单元格被 Excel 识别成了日期或时间；请将单元格格式设为“文本”后重新填写"
                        .into(),
                );
                None
            }
            Data::Error(e) => {
                self.report(header, format!("该单元格是错误值（{e}），请改为实际内容"));
                None
            }
        }
    }

    /// Text that must not be empty; `what` says what to write.
    fn required(&mut self, header: &'static str, what: &str) -> Option<String> {
        let s = self.text(header)?;
        if s.is_empty() {
            self.report(header, format!("不能为空，请填写{what}"));
            return None;
        }
        Some(s)
    }

    /// Text that may be empty, `None` inside when it is.
    fn optional(&mut self, header: &'static str) -> Option<Option<String>> {
        let s = self.text(header)?;
        Some((!s.is_empty()).then_some(s))
    }

    /// One value per line of the cell.
    fn lines(&mut self, header: &'static str) -> Option<Vec<String>> {
        let s = self.text(header)?;
        Some(
            s.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Several values separated by 、 (commas, semicolons and line breaks are accepted too).
    fn list(&mut self, header: &'static str) -> Option<Vec<String>> {
        let s = self.text(header)?;
        Some(
            s.split(['、', ',', '，', ';', '；', '\n'])
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// A whole number in `min..=max`; `empty` is the value of an empty cell, `None` if it must
    /// be filled.
    fn number(
        &mut self,
        header: &'static str,
        min: u64,
        max: u64,
        empty: Option<u64>,
    ) -> Option<u64> {
        let expected = if min == 0 {
            "请填写不小于0的整数".to_owned()
        } else {
            format!("请填写不小于{min}的整数")
        };
        let value = match self.table.cell(self.row, header) {
            Data::Int(i) => Ok(*i as f64),
            Data::Float(f) => Ok(*f),
            _ => {
                let s = self.text(header)?;
                if s.is_empty() {
                    return match empty {
                        Some(v) => Some(v),
                        None => {
                            self.report(header, format!("不能为空，{expected}"));
                            None
                        }
                    };
                }
                s.parse::<f64>().map_err(|_| s)
            }
        };
        let message = match value {
            Err(s) => format!("“{s}”不是数字，{expected}"),
            Ok(v) if !v.is_finite() || v.fract() != 0.0 => {
                format!("“{}”不是整数，{expected}", float_text(v))
            }
            Ok(v) if v < 0.0 => format!("“{}”是负数，{expected}", float_text(v)),
            Ok(v) if v < min as f64 => format!("“{}”太小，{expected}", float_text(v)),
            Ok(v) if v > max as f64 => {
                format!("“{}”太大，最大为{max}", float_text(v))
            }
            // In range and whole, so the conversion is exact.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(v) => return Some(v as u64),
        };
        self.report(header, message);
        None
    }

    fn count<T: TryFrom<u64> + Into<u64> + Copy>(
        &mut self,
        header: &'static str,
        max: T,
        empty: Option<u64>,
    ) -> Option<T> {
        self.number(header, 0, max.into(), empty)
            .and_then(|v| T::try_from(v).ok())
    }

    /// 序号: optional, ≥ 1.
    fn seq(&mut self) -> Option<Option<u32>> {
        if !self.table.columns.contains_key(h::SEQ) || blank(self.table.cell(self.row, h::SEQ)) {
            return Some(None);
        }
        self.number(h::SEQ, 1, u64::from(u32::MAX), None)
            .and_then(|v| u32::try_from(v).ok())
            .map(Some)
    }

    /// One value of a code table, required.
    fn pick<T: CodeTable>(&mut self, header: &'static str) -> Option<T> {
        let s = self.text(header)?;
        if s.is_empty() {
            self.report(header, format!("不能为空；{}", allowed::<T>()));
            return None;
        }
        let found = lookup::<T>(&s);
        if found.is_none() {
            self.report(
                header,
                format!("“{s}”不是有效的{header}；{}", allowed::<T>()),
            );
        }
        found
    }

    /// Several values of a code table, separated by 、; unknown ones reported together.
    fn picks<T: CodeTable>(&mut self, header: &'static str) -> Option<Vec<T>> {
        let mut found = Vec::new();
        let mut unknown = Vec::new();
        for v in self.list(header)? {
            match lookup::<T>(&v) {
                Some(t) if !found.contains(&t) => found.push(t),
                Some(_) => {}
                None => unknown.push(format!("“{v}”")),
            }
        }
        if unknown.is_empty() {
            return Some(found);
        }
        self.report(
            header,
            format!(
                "{}不是有效的{header}；{}，多个用顿号“、”分隔",
                unknown.join("、"),
                allowed::<T>()
            ),
        );
        None
    }

    /// A yes/no cell written `yes`/`no` (是/否 and TRUE/FALSE are accepted too); `None` inside
    /// when empty.
    fn flag(&mut self, header: &'static str, yes: &str, no: &str) -> Option<Option<bool>> {
        let s = self.text(header)?;
        let upper = s.to_uppercase();
        match upper.as_str() {
            "" => Some(None),
            _ if s == yes || s == YES || upper == "TRUE" || upper == "Y" => Some(Some(true)),
            _ if s == no || s == NO || upper == "FALSE" || upper == "N" => Some(Some(false)),
            _ => {
                self.report(header, format!("“{s}”无法识别，请填“{yes}”或“{no}”"));
                None
            }
        }
    }

    /// The 实施编码 as a join key: trimmed and uppercased, empty when the cell is bad or empty
    /// (the problem is then reported).
    fn code_key(&mut self) -> String {
        match self.table.cell(self.row, h::CODE) {
            Data::Int(_) | Data::Float(_) => {
                self.report(
                    h::CODE,
                    "实施编码被 Excel 当成了数字（可能已变成科学计数法），无法还原；请将该列设为“文本”格式后重新填写31位实施编码".into(),
                );
                String::new()
            }
            _ => {
                let key = self.text(h::CODE).unwrap_or_default().to_uppercase();
                if key.is_empty() {
                    self.report(h::CODE, "不能为空，请填写31位实施编码".into());
                }
                key
            }
        }
    }
}

/// A float as a person would write it: `3.0` → `3`.
fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

/// An item row of the 事项 sheet, before its lists are joined.
struct ItemDraft {
    /// Absolute 0-based row.
    row: u32,
    /// Join key of its 实施编码 (empty when the cell is empty or a number).
    key: String,
    code: Option<ImplementationCode>,
    /// The guide without its lists and fees; `None` when a cell is bad.
    guide: Option<Guide>,
    /// 是否收费: `Some(None)` when empty, `None` when unreadable.
    charged: Option<Option<bool>>,
}

fn read_item(c: &mut Cells<'_>) -> ItemDraft {
    let key = c.code_key();
    let code = if key.is_empty() {
        None
    } else {
        match ImplementationCode::parse(&key) {
            Ok(code) => Some(code),
            Err(e) => {
                c.report(h::CODE, format!("实施编码“{key}”无效：{}", e.message_zh()));
                None
            }
        }
    };

    let name = c.required(h::NAME, "事项名称").and_then(|name| {
        let chars = name.chars().count();
        if chars > MAX_NAME_CHARS {
            c.report(
                h::NAME,
                format!("事项名称有{chars}个字，超过了{MAX_NAME_CHARS}个字的上限，请精简"),
            );
            return None;
        }
        Some(name)
    });
    let aliases = c.list(h::ALIASES);
    let item_type = c.pick::<ItemType>(h::ITEM_TYPE);
    let service_objects = c.picks::<ServiceObject>(h::SERVICE_OBJECTS);
    let themes = c.list(h::THEMES);
    let conditions = c.lines(h::CONDITIONS);
    let statutory = c.count(h::STATUTORY, u16::MAX, None);
    let promised = c.count(h::PROMISED, u16::MAX, None);
    if let (Some(s), Some(p)) = (statutory, promised)
        && s > 0
        && p > s
    {
        c.report(
            h::PROMISED,
            format!("承诺办结时限（{p}个工作日）超过了法定办结时限（{s}个工作日），承诺时限不得超过法定时限"),
        );
    }
    let charged = c.flag(h::CHARGED, YES, NO);
    let handling_forms = c.picks::<HandlingForm>(h::FORMS);
    let case_type = c.pick::<CaseType>(h::CASE_TYPE);
    let online_depth = c.pick::<OnlineDepth>(h::DEPTH);
    let visits = c.count(h::VISITS, u8::MAX, None);
    let min_level = c
        .number(h::MIN_LEVEL, 1, 3, Some(2))
        .map(|n| RealNameLevel::from_i64(n as i64));
    let scope = c.pick::<CrossRegionScope>(h::SCOPE);
    let result_name = c.text(h::RESULT_NAME);
    let result_kind = c.text(h::RESULT_KIND);
    let consult_phone = c.text(h::CONSULT);
    let complaint_phone = c.text(h::COMPLAINT);

    let guide = (|| {
        Some(Guide {
            name: name?,
            aliases: aliases?,
            item_type: item_type?,
            service_objects: service_objects?,
            themes: themes?,
            legal_basis: Vec::new(),
            conditions: conditions?,
            materials: Vec::new(),
            process: Vec::new(),
            statutory_limit_days: statutory?,
            promised_limit_days: promised?,
            fees: None,
            handling_forms: handling_forms?,
            case_type: case_type?,
            online_depth: online_depth?,
            visits: visits?,
            min_level: min_level?,
            scope: scope?,
            result: ItemResult {
                name: result_name?,
                kind: result_kind?,
            },
            places: Vec::new(),
            consult_phone: consult_phone?,
            complaint_phone: complaint_phone?,
        })
    })();

    ItemDraft {
        row: c.row,
        key,
        code,
        guide,
        charged,
    }
}

fn read_material(c: &mut Cells<'_>) -> Option<Material> {
    let name = c.required(h::M_NAME, "材料名称");
    let original = c.count(h::M_ORIGINAL, u8::MAX, Some(0));
    let copies = c.count(h::M_COPIES, u8::MAX, Some(0));
    let form = c.pick::<MaterialForm>(h::M_FORM);
    let required = c.flag(h::M_REQUIRED, NEEDED, NOT_NEEDED).and_then(|f| {
        if f.is_none() {
            c.report(
                h::M_REQUIRED,
                format!("不能为空，请填“{NEEDED}”或“{NOT_NEEDED}”"),
            );
        }
        f
    });
    let condition = c.optional(h::M_CONDITION);
    let source = c.text(h::M_SOURCE);
    let note = c.optional(h::M_NOTE);
    let blank_form = c.flag(h::M_BLANK, YES, NO);
    let sample = c.flag(h::M_SAMPLE, YES, NO);
    Some(Material {
        name: name?,
        original: original?,
        copies: copies?,
        form: form?,
        required: required?,
        condition: condition?,
        source: source?,
        note: note?,
        blank_form: blank_form?.unwrap_or(false),
        sample: sample?.unwrap_or(false),
    })
}

fn read_legal_basis(c: &mut Cells<'_>) -> Option<LegalBasis> {
    let law = c.required(h::L_LAW, "法律法规名称");
    let article = c.text(h::L_ARTICLE);
    let text = c.text(h::L_TEXT);
    Some(LegalBasis {
        law: law?,
        article: article?,
        text: text?,
    })
}

fn read_step(c: &mut Cells<'_>) -> Option<ProcessStep> {
    let name = c.required(h::P_NAME, "环节名称");
    let description = c.text(h::P_DESCRIPTION);
    Some(ProcessStep {
        name: name?,
        description: description?,
    })
}

fn read_fee(c: &mut Cells<'_>) -> Option<Fee> {
    let name = c.required(h::F_NAME, "收费项目名称");
    let amount = c.text(h::F_AMOUNT);
    let basis = c.text(h::F_BASIS);
    Some(Fee {
        name: name?,
        amount: amount?,
        basis: basis?,
    })
}

fn read_place(c: &mut Cells<'_>) -> Option<Place> {
    let name = c.required(h::PL_NAME, "地点名称");
    let address = c.text(h::PL_ADDRESS);
    let hours = c.text(h::PL_HOURS);
    Some(Place {
        name: name?,
        address: address?,
        hours: hours?,
    })
}

/// One row of a list sheet.
struct Entry<T> {
    seq: Option<u32>,
    /// Absolute 0-based row.
    row: u32,
    value: T,
}

/// Reads a list sheet into one ordered list per item (by index into the 事项 rows).
fn read_list<T>(
    table: &Table,
    keys: &HashMap<String, usize>,
    items: usize,
    problems: &mut Problems,
    read: fn(&mut Cells<'_>) -> Option<T>,
) -> Vec<Vec<Entry<T>>> {
    let mut lists: Vec<Vec<Entry<T>>> = (0..items).map(|_| Vec::new()).collect();
    for row in table.data_rows() {
        let mut c = Cells::new(table, row, problems);
        let key = c.code_key();
        let item = keys.get(&key).copied();
        if item.is_none() && !key.is_empty() {
            c.report(
                h::CODE,
                format!("实施编码“{key}”不在“事项”表中；请核对编码，或先在“事项”表中添加该事项"),
            );
        }
        let seq = c.seq();
        let value = read(&mut c);
        if let (Some(list), Some(seq), Some(value)) =
            (item.and_then(|i| lists.get_mut(i)), seq, value)
        {
            list.push(Entry { seq, row, value });
        }
    }

    for list in &mut lists {
        list.sort_by_key(|e| (e.seq.unwrap_or(u32::MAX), e.row));
        for pair in list.windows(2) {
            if let [a, b] = pair
                && a.seq.is_some()
                && a.seq == b.seq
            {
                let seq = a.seq.unwrap_or_default();
                problems.push(
                    table.spec,
                    b.row,
                    h::SEQ,
                    format!(
                        "序号{seq}与第{}行重复；同一事项的{}序号不能重复",
                        excel_row(a.row),
                        table.spec.name
                    ),
                );
            }
        }
    }
    lists
}

fn values<T>(entries: Vec<Entry<T>>) -> Vec<T> {
    entries.into_iter().map(|e| e.value).collect()
}

/// Checks 是否收费 against the item's rows on the 收费项目 sheet; `None` when they disagree.
fn check_fees(
    items: &Table,
    row: u32,
    charged: Option<Option<bool>>,
    fees: &[Entry<Fee>],
    problems: &mut Problems,
) -> Option<Option<Vec<Fee>>> {
    let fee_rows = || {
        fees.iter()
            .map(|f| excel_row(f.row).to_string())
            .collect::<Vec<_>>()
            .join("、")
    };
    let message = match charged? {
        Some(true) if fees.is_empty() => format!(
            "是否收费为“{YES}”，但“{}”表中没有该事项的收费项目；请在“{}”表中填写，或改为“{NO}”",
            FEE_SHEET.name, FEE_SHEET.name
        ),
        Some(false) if !fees.is_empty() => format!(
            "是否收费为“{NO}”，但“{}”表第{}行是该事项的收费项目；请改为“{YES}”，或删除这些收费项目",
            FEE_SHEET.name,
            fee_rows()
        ),
        None if !fees.is_empty() => format!(
            "是否收费为空，但“{}”表第{}行是该事项的收费项目；请填“{YES}”",
            FEE_SHEET.name,
            fee_rows()
        ),
        Some(true) => {
            return Some(Some(fees.iter().map(|f| f.value.clone()).collect()));
        }
        Some(false) => return Some(Some(Vec::new())),
        None => return Some(None),
    };
    problems.push(items.spec, row, h::CHARGED, message);
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_xlsxwriter::Format;

    /// The credit code of the 湖南省市场监督管理局 stand-in used by the domain tests.
    const CREDIT: &str = "11430000006122244L";

    /// A valid 实施编码 of `CREDIT`, distinct for each `n` (< 100000).
    fn code(n: u32) -> String {
        format!("{CREDIT}24301{n:05}000")
    }

    fn export_row(code: String, guide: Guide) -> ExportRow {
        ExportRow {
            code,
            organisation: "湖南省市场监督管理局".into(),
            state_zh: "在用".into(),
            version: 3,
            guide,
        }
    }

    fn material(name: &str) -> Material {
        Material {
            name: name.into(),
            original: 1,
            copies: 0,
            form: MaterialForm::Both,
            required: true,
            condition: None,
            source: "申请人自备".into(),
            note: None,
            blank_form: false,
            sample: false,
        }
    }

    fn place(name: &str, address: &str) -> Place {
        Place {
            name: name.into(),
            address: address.into(),
            hours: "周一至周五 9:00-12:00，13:30-17:00（法定节假日除外）".into(),
        }
    }

    /// A licence with conditional materials, several places and multi-line conditions, free.
    fn food_licence() -> Guide {
        Guide {
            name: "食品经营许可（新办）".into(),
            aliases: vec!["餐饮许可".into(), "食品经营许可证办理".into()],
            item_type: ItemType::Licensing,
            service_objects: vec![ServiceObject::Enterprise, ServiceObject::OtherOrganisation],
            themes: vec!["food_drug".into(), "start_business".into()],
            legal_basis: vec![
                LegalBasis {
                    law: "《中华人民共和国食品安全法》".into(),
                    article: "第三十五条".into(),
                    text: "国家对食品生产经营实行许可制度。从事食品生产、食品销售、餐饮服务，应当依法取得许可。".into(),
                },
                LegalBasis {
                    law: "《食品经营许可和备案管理办法》".into(),
                    article: "第五条".into(),
                    text: String::new(),
                },
            ],
            conditions: vec![
                "具有与经营的食品品种、数量相适应的经营场所".into(),
                "有专职或者兼职的食品安全管理人员".into(),
                "具有合理的设备布局和工艺流程".into(),
            ],
            materials: vec![
                Material {
                    blank_form: true,
                    sample: true,
                    note: Some("须由法定代表人签字并加盖公章".into()),
                    ..material("食品经营许可申请书")
                },
                Material {
                    copies: 1,
                    form: MaterialForm::Paper,
                    source: "政府部门核发".into(),
                    ..material("营业执照")
                },
                Material {
                    required: false,
                    condition: Some("委托他人办理的".into()),
                    form: MaterialForm::Paper,
                    ..material("授权委托书")
                },
            ],
            process: vec![
                ProcessStep {
                    name: "申请".into(),
                    description: "申请人通过湖南政务服务网或窗口提交申请材料。".into(),
                },
                ProcessStep {
                    name: "受理".into(),
                    description: "材料齐全、符合法定形式的，当场受理。".into(),
                },
                ProcessStep {
                    name: "决定".into(),
                    description: String::new(),
                },
            ],
            statutory_limit_days: 20,
            promised_limit_days: 10,
            fees: Some(vec![]),
            handling_forms: vec![HandlingForm::Window, HandlingForm::Online, HandlingForm::Mobile],
            case_type: CaseType::Promised,
            online_depth: OnlineDepth::FullyOnline,
            visits: 0,
            min_level: RealNameLevel::L2,
            scope: CrossRegionScope::Province,
            result: ItemResult {
                name: "食品经营许可证".into(),
                kind: "证照".into(),
            },
            places: vec![
                place("长沙市政务服务中心3号窗口", "长沙市岳麓区岳麓大道218号"),
                place("湖南省政务服务大厅", "长沙市天心区湘府西路8号"),
            ],
            consult_phone: "0731-88665000".into(),
            complaint_phone: "12345".into(),
        }
    }

    /// A charged item with two fees.
    fn motor_registration() -> Guide {
        Guide {
            name: "机动车注册登记".into(),
            aliases: vec![],
            item_type: ItemType::Confirmation,
            service_objects: vec![ServiceObject::NaturalPerson, ServiceObject::Enterprise],
            themes: vec![],
            legal_basis: vec![LegalBasis {
                law: "《中华人民共和国道路交通安全法》".into(),
                article: "第八条".into(),
                text: "国家对机动车实行登记制度。".into(),
            }],
            conditions: vec!["机动车经检验合格".into()],
            materials: vec![
                material("机动车注册登记申请表"),
                material("机动车所有人身份证明"),
            ],
            process: vec![ProcessStep {
                name: "受理".into(),
                description: "查验机动车，审查材料。".into(),
            }],
            statutory_limit_days: 2,
            promised_limit_days: 1,
            fees: Some(vec![
                Fee {
                    name: "机动车号牌工本费".into(),
                    amount: "100元/副".into(),
                    basis: "《关于公安交通管理收费标准的通知》（湘价费〔2004〕103号）".into(),
                },
                Fee {
                    name: "机动车行驶证工本费".into(),
                    amount: "10元/本".into(),
                    basis: "同上".into(),
                },
            ]),
            handling_forms: vec![HandlingForm::Window],
            case_type: CaseType::Promised,
            online_depth: OnlineDepth::Appointment,
            visits: 1,
            min_level: RealNameLevel::L2,
            scope: CrossRegionScope::CrossCity,
            result: ItemResult {
                name: "机动车登记证书".into(),
                kind: "证照".into(),
            },
            places: vec![place("车辆管理所", "长沙市雨花区")],
            consult_phone: "0731-12345678".into(),
            complaint_phone: "0731-12345679".into(),
        }
    }

    /// A bare on-the-spot item: no lists, fees unsaid, no time limit.
    fn bare_item() -> Guide {
        Guide {
            name: "政务服务咨询".into(),
            aliases: vec![],
            item_type: ItemType::PublicService,
            service_objects: vec![],
            themes: vec![],
            legal_basis: vec![],
            conditions: vec![],
            materials: vec![],
            process: vec![],
            statutory_limit_days: 0,
            promised_limit_days: 0,
            fees: None,
            handling_forms: vec![],
            case_type: CaseType::Immediate,
            online_depth: OnlineDepth::Information,
            visits: 0,
            min_level: RealNameLevel::L2,
            scope: CrossRegionScope::None,
            result: ItemResult {
                name: String::new(),
                kind: String::new(),
            },
            places: vec![],
            consult_phone: String::new(),
            complaint_phone: String::new(),
        }
    }

    fn assert_round_trip(rows: &[ExportRow]) {
        let bytes = export_workbook(rows).unwrap();
        let back = parse_workbook(&bytes).unwrap();
        assert_eq!(back.len(), rows.len());
        for (i, (row, imported)) in rows.iter().zip(&back).enumerate() {
            assert_eq!(imported.code.as_str(), row.code);
            assert_eq!(imported.guide, row.guide);
            assert_eq!(imported.row, u32::try_from(i).unwrap() + 2);
        }
    }

    #[test]
    fn export_then_parse_gives_the_same_guides() {
        assert_round_trip(&[
            export_row(code(1), food_licence()),
            export_row(code(2), motor_registration()),
            export_row(code(3), bare_item()),
        ]);
    }

    #[test]
    fn the_blank_template_parses_to_nothing() {
        let bytes = export_workbook(&[]).unwrap();
        assert_eq!(parse_workbook(&bytes).unwrap(), vec![]);
    }

    #[test]
    fn the_workbook_opens_on_the_readme_and_has_every_sheet() {
        let bytes = export_workbook(&[export_row(code(1), food_licence())]).unwrap();
        let workbook = open_workbook_auto_from_rs(Cursor::new(bytes.as_slice())).unwrap();
        assert_eq!(
            workbook.sheet_names(),
            [
                "说明",
                "事项",
                "申请材料",
                "设定依据",
                "办理流程",
                "收费项目",
                "办理地点"
            ]
        );
    }

    #[test]
    fn garbage_is_not_a_workbook() {
        assert!(matches!(
            parse_workbook(b"PK\x03\x04 definitely not a zip"),
            Err(ExcelError::NotAWorkbook(_))
        ));
        assert!(matches!(
            parse_workbook(b""),
            Err(ExcelError::NotAWorkbook(_))
        ));
        assert!(matches!(
            parse_workbook("实施编码,事项名称\n".as_bytes()),
            Err(ExcelError::NotAWorkbook(_))
        ));
    }

    // --- Hand-built workbooks ------------------------------------------------------------------

    /// A cell of a hand-built workbook.
    #[derive(Clone)]
    enum V {
        S(&'static str),
        N(f64),
        /// A number shown as a time, which Excel users get by typing `9:00`.
        Time(f64),
    }
    use V::{N, S};

    /// A sheet of a hand-built workbook: header texts and rows of (header, value).
    struct Sheet {
        name: &'static str,
        headers: Vec<&'static str>,
        rows: Vec<Vec<(&'static str, V)>>,
    }

    impl Sheet {
        /// A sheet with every column of `spec`, in the template's order.
        fn like(spec: &SheetSpec, rows: Vec<Vec<(&'static str, V)>>) -> Sheet {
            Sheet {
                name: spec.name,
                headers: spec.columns.iter().map(|c| c.header).collect(),
                rows,
            }
        }
    }

    fn build(sheets: &[Sheet]) -> Vec<u8> {
        let mut workbook = Workbook::new();
        let time = Format::new().set_num_format("hh:mm");
        for sheet in sheets {
            let ws = workbook.add_worksheet();
            ws.set_name(sheet.name).unwrap();
            for (c, header) in sheet.headers.iter().enumerate() {
                ws.write_string(0, c as u16, *header).unwrap();
            }
            for (r, row) in sheet.rows.iter().enumerate() {
                let r = r as u32 + 1;
                for (header, value) in row {
                    let Some(c) = sheet.headers.iter().position(|h| h == header) else {
                        continue;
                    };
                    let c = c as u16;
                    match value {
                        S(s) => ws.write_string(r, c, *s).map(|_| ()),
                        N(n) => ws.write_number(r, c, *n).map(|_| ()),
                        V::Time(t) => ws.write_number_with_format(r, c, *t, &time).map(|_| ()),
                    }
                    .unwrap();
                }
            }
        }
        workbook.save_to_buffer().unwrap()
    }

    /// A valid 事项 row for `code`, with `changes` applied on top.
    fn item(code: &'static str, changes: &[(&'static str, V)]) -> Vec<(&'static str, V)> {
        let mut row = vec![
            (h::CODE, S(code)),
            (h::NAME, S("食品经营许可")),
            (h::ITEM_TYPE, S("行政许可")),
            (h::SERVICE_OBJECTS, S("企业法人")),
            (h::STATUTORY, N(20.0)),
            (h::PROMISED, N(10.0)),
            (h::CASE_TYPE, S("承诺件")),
            (h::DEPTH, S("四级（全程网办）")),
            (h::VISITS, N(0.0)),
            (h::SCOPE, S("全省通办")),
        ];
        for (header, value) in changes {
            row.retain(|(h, _)| h != header);
            row.push((header, value.clone()));
        }
        row
    }

    /// The empty list sheets, except those given.
    fn workbook_with(items: Sheet, mut lists: Vec<Sheet>) -> Vec<u8> {
        let mut sheets = vec![items];
        for spec in &DATA_SHEETS[1..] {
            if let Some(i) = lists.iter().position(|s| s.name == spec.name) {
                sheets.push(lists.remove(i));
            } else {
                sheets.push(Sheet::like(spec, vec![]));
            }
        }
        build(&sheets)
    }

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    fn where_(errors: &[CellError]) -> Vec<(&str, u32, &str)> {
        errors
            .iter()
            .map(|e| (e.sheet.as_str(), e.row, e.column.as_str()))
            .collect()
    }

    #[test]
    fn every_bad_cell_of_every_sheet_is_reported() {
        let a = leak(code(1));
        let b = leak(code(2));
        let c = leak(code(3));
        let unknown = leak(code(4));

        // The 事项 columns in reverse order, and 承诺办结时限 without its unit: columns are
        // found by header text.
        let mut items = Sheet::like(
            &ITEM_SHEET,
            vec![
                // Row 2: unknown type; promised (a string) over statutory.
                item(
                    a,
                    &[(h::ITEM_TYPE, S("行政许可证")), (h::PROMISED, S("25"))],
                ),
                // Row 3: bad code, no name, negative visits.
                item("123", &[(h::NAME, S("  ")), (h::VISITS, N(-1.0))]),
                // Row 4: the code of row 2 again.
                item(a, &[]),
                // Row 5: empty, ignored.
                vec![],
                // Row 6: unknown service object, fractional limit, charged without fees.
                item(
                    b,
                    &[
                        (h::SERVICE_OBJECTS, S("自然人、外星人")),
                        (h::STATUTORY, S("3.5")),
                        (h::CHARGED, S("是")),
                    ],
                ),
                // Row 7: free but with a fee row.
                item(c, &[(h::CHARGED, S("否"))]),
            ],
        );
        items.headers.reverse();
        for header in &mut items.headers {
            if *header == h::PROMISED {
                *header = "承诺办结时限";
            }
        }
        for row in &mut items.rows {
            for (header, _) in row.iter_mut() {
                if *header == h::PROMISED {
                    *header = "承诺办结时限";
                }
            }
        }

        let materials = Sheet::like(
            &MATERIAL_SHEET,
            vec![
                // Row 2: four bad cells.
                vec![
                    (h::CODE, S(a)),
                    (h::SEQ, N(1.0)),
                    (h::M_ORIGINAL, S("两份")),
                    (h::M_FORM, S("纸")),
                    (h::M_REQUIRED, S("可能")),
                ],
                // Row 3: an item that is not on the 事项 sheet.
                vec![
                    (h::CODE, S(unknown)),
                    (h::M_NAME, S("申请书")),
                    (h::M_FORM, S("纸质")),
                    (h::M_REQUIRED, S("必要")),
                ],
                // Rows 4 and 5: the same 序号 twice for one item.
                vec![
                    (h::CODE, S(a)),
                    (h::SEQ, N(2.0)),
                    (h::M_NAME, S("营业执照")),
                    (h::M_FORM, S("1")),
                    (h::M_REQUIRED, S("必要")),
                ],
                vec![
                    (h::CODE, S(a)),
                    (h::SEQ, S("2")),
                    (h::M_NAME, S("身份证")),
                    (h::M_FORM, N(2.0)),
                    (h::M_REQUIRED, S("非必要")),
                ],
            ],
        );
        let legal = Sheet::like(
            &LEGAL_SHEET,
            vec![vec![(h::CODE, S(a)), (h::L_ARTICLE, S("第八条"))]],
        );
        let fees = Sheet::like(
            &FEE_SHEET,
            vec![
                vec![
                    (h::CODE, S(c)),
                    (h::F_NAME, S("工本费")),
                    (h::F_AMOUNT, S("10元")),
                ],
                vec![(h::CODE, S(a)), (h::F_AMOUNT, S("10元"))],
            ],
        );
        let places = Sheet::like(
            &PLACE_SHEET,
            vec![
                vec![(h::CODE, S(b)), (h::PL_ADDRESS, S("长沙市岳麓区"))],
                vec![
                    (h::CODE, S(b)),
                    (h::PL_NAME, S("大厅")),
                    (h::PL_HOURS, V::Time(0.375)),
                ],
            ],
        );
        let bytes = workbook_with(items, vec![materials, legal, fees, places]);

        let Err(ExcelError::Rows(errors)) = parse_workbook(&bytes) else {
            panic!("expected row errors");
        };
        assert_eq!(
            where_(&errors),
            [
                ("事项", 2, "事项类型"),
                ("事项", 2, "承诺办结时限（工作日）"),
                ("事项", 3, "实施编码"),
                ("事项", 3, "事项名称"),
                ("事项", 3, "到现场次数"),
                ("事项", 4, "实施编码"),
                ("事项", 6, "服务对象"),
                ("事项", 6, "法定办结时限（工作日）"),
                ("事项", 6, "是否收费"),
                ("事项", 7, "是否收费"),
                ("申请材料", 2, "材料名称"),
                ("申请材料", 2, "原件份数"),
                ("申请材料", 2, "材料形式"),
                ("申请材料", 2, "是否必要"),
                ("申请材料", 3, "实施编码"),
                ("申请材料", 5, "序号"),
                ("设定依据", 2, "法律法规名称"),
                ("收费项目", 3, "项目名称"),
                ("办理地点", 2, "地点名称"),
                ("办理地点", 3, "办理时间"),
            ],
            "{errors:#?}"
        );

        let message = |sheet: &str, row: u32, column: &str| {
            errors
                .iter()
                .find(|e| e.sheet == sheet && e.row == row && e.column == column)
                .map(|e| e.message.clone())
                .unwrap()
        };
        assert!(message("事项", 2, "事项类型").contains("行政许可、行政处罚"));
        assert!(message("事项", 2, "承诺办结时限（工作日）").contains("超过了法定办结时限"));
        let bad_code = ImplementationCode::parse("123").unwrap_err().message_zh();
        assert!(message("事项", 3, "实施编码").contains(&bad_code));
        assert!(message("事项", 3, "到现场次数").contains("负数"));
        assert!(message("事项", 4, "实施编码").contains("与第2行重复"));
        assert!(message("事项", 6, "服务对象").contains("“外星人”"));
        assert!(message("事项", 6, "法定办结时限（工作日）").contains("不是整数"));
        assert!(message("事项", 6, "是否收费").contains("没有该事项的收费项目"));
        assert!(message("事项", 7, "是否收费").contains("第2行"));
        assert!(message("申请材料", 2, "原件份数").contains("“两份”不是数字"));
        assert!(message("申请材料", 3, "实施编码").contains("不在“事项”表中"));
        assert!(message("申请材料", 5, "序号").contains("与第4行重复"));
        assert!(message("办理地点", 3, "办理时间").contains("日期或时间"));
    }

    #[test]
    fn numbers_codes_and_short_labels_are_accepted() {
        let a = leak(code(1));
        let items = Sheet::like(
            &ITEM_SHEET,
            vec![item(
                a,
                &[
                    (h::ITEM_TYPE, N(1.0)),
                    (h::STATUTORY, S(" 20 ")),
                    (h::PROMISED, N(10.0)),
                    (h::CASE_TYPE, S("2")),
                    (h::DEPTH, N(3.0)),
                    (h::SCOPE, S("全省通办")),
                    (h::FORMS, S("窗口办理、网上办理(电脑端)，2")),
                    (h::SERVICE_OBJECTS, S("1、企业法人")),
                    (h::CHARGED, S("是")),
                    (h::CONSULT, N(12345.0)),
                    (h::CONDITIONS, S("第一条\r\n\r\n 第二条 ")),
                ],
            )],
        );
        let fees = Sheet::like(
            &FEE_SHEET,
            vec![
                vec![(h::CODE, S(a)), (h::SEQ, N(2.0)), (h::F_NAME, S("乙"))],
                vec![(h::CODE, S(a)), (h::SEQ, N(1.0)), (h::F_NAME, S("甲"))],
            ],
        );
        let materials = Sheet::like(
            &MATERIAL_SHEET,
            vec![vec![
                (h::CODE, S(leak(code(1).to_lowercase()))),
                (h::M_NAME, S("申请书")),
                (h::M_FORM, S("纸质或电子")),
                (h::M_REQUIRED, S("是")),
                (h::M_BLANK, S("是")),
            ]],
        );
        let rows = parse_workbook(&workbook_with(items, vec![fees, materials])).unwrap();
        let [row] = rows.as_slice() else {
            panic!("{rows:?}")
        };
        let g = &row.guide;
        assert_eq!(g.item_type, ItemType::Licensing);
        assert_eq!(g.case_type, CaseType::Promised);
        assert_eq!(g.online_depth, OnlineDepth::Submission);
        assert_eq!(g.statutory_limit_days, 20);
        assert_eq!(
            g.handling_forms,
            [HandlingForm::Window, HandlingForm::Online]
        );
        assert_eq!(
            g.service_objects,
            [ServiceObject::NaturalPerson, ServiceObject::Enterprise]
        );
        assert_eq!(g.consult_phone, "12345");
        assert_eq!(g.conditions, ["第一条", "第二条"]);
        let fee_names: Vec<_> = g.fees.iter().flatten().map(|f| f.name.as_str()).collect();
        assert_eq!(fee_names, ["甲", "乙"]);
        assert_eq!(g.materials.len(), 1);
        assert!(g.materials[0].required && g.materials[0].blank_form && !g.materials[0].sample);
        assert_eq!((g.materials[0].original, g.materials[0].copies), (0, 0));
    }

    #[test]
    fn a_code_turned_into_a_number_is_explained() {
        let items = Sheet::like(&ITEM_SHEET, vec![item("x", &[(h::CODE, N(1.143e30))])]);
        let Err(ExcelError::Rows(errors)) = parse_workbook(&workbook_with(items, vec![])) else {
            panic!("expected row errors");
        };
        assert_eq!(where_(&errors), [("事项", 2, "实施编码")]);
        assert!(errors[0].message.contains("文本"), "{}", errors[0].message);
    }

    #[test]
    fn a_missing_sheet_is_reported() {
        let items = Sheet::like(&ITEM_SHEET, vec![item(leak(code(1)), &[])]);
        let sheets: Vec<Sheet> = std::iter::once(items)
            .chain(
                DATA_SHEETS[1..]
                    .iter()
                    .filter(|s| s.name != "办理流程")
                    .map(|s| Sheet::like(s, vec![])),
            )
            .collect();
        assert_eq!(
            parse_workbook(&build(&sheets)),
            Err(ExcelError::MissingSheet("办理流程".into()))
        );
    }

    #[test]
    fn a_missing_column_is_reported() {
        let mut items = Sheet::like(&ITEM_SHEET, vec![item(leak(code(1)), &[])]);
        items.headers.retain(|h| *h != h::ITEM_TYPE);
        assert_eq!(
            parse_workbook(&workbook_with(items, vec![])),
            Err(ExcelError::MissingColumn {
                sheet: "事项".into(),
                column: "事项类型".into()
            })
        );

        // Export-only columns and 序号 may go.
        let mut items = Sheet::like(&ITEM_SHEET, vec![item(leak(code(1)), &[])]);
        items
            .headers
            .retain(|h| ![h::ORGANISATION, h::STATE, h::VERSION].contains(h));
        let mut places = Sheet::like(&PLACE_SHEET, vec![]);
        places.headers.retain(|h| *h != h::SEQ);
        assert!(parse_workbook(&workbook_with(items, vec![places])).is_ok());
    }

    #[test]
    fn lookups_accept_labels_codes_and_halves() {
        assert_eq!(
            lookup::<OnlineDepth>("四级"),
            Some(OnlineDepth::FullyOnline)
        );
        assert_eq!(
            lookup::<OnlineDepth>("全程网办"),
            Some(OnlineDepth::FullyOnline)
        );
        assert_eq!(lookup::<OnlineDepth>("4"), Some(OnlineDepth::FullyOnline));
        assert_eq!(lookup::<ItemType>("01"), Some(ItemType::Licensing));
        assert_eq!(lookup::<ItemType>("1"), Some(ItemType::Licensing));
        assert_eq!(lookup::<ItemType>("20"), Some(ItemType::PublicService));
        assert_eq!(
            lookup::<HandlingForm>("网上办理(电脑端)"),
            Some(HandlingForm::Online)
        );
        assert_eq!(lookup::<ItemType>("许可"), None);
        assert_eq!(header_key(" 承诺办结时限（工作日）*"), "承诺办结时限");
        assert_eq!(header_key("承诺办结时限(工作日)"), "承诺办结时限");
        assert_eq!(header_key("承诺办结时限\n（工作日）"), "承诺办结时限");
    }

    // --- Property: any guide survives the round trip ------------------------------------------

    fn word() -> impl Strategy<Value = String> {
        "[一-龥a-z0-9]{1,8}"
    }

    fn phrase() -> impl Strategy<Value = String> {
        "[一-龥a-z0-9]{1,6}( [一-龥a-z0-9（）《》：、，]{1,6}){0,3}"
    }

    fn maybe_phrase() -> impl Strategy<Value = String> {
        prop_oneof![Just(String::new()), phrase()]
    }

    fn pick_one<T: CodeTable + std::fmt::Debug>() -> impl Strategy<Value = T> {
        prop::sample::select(T::all())
    }

    fn some_of<T: CodeTable + std::fmt::Debug>() -> impl Strategy<Value = Vec<T>> {
        prop::sample::subsequence(T::all(), 0..=T::all().len().min(3))
    }

    fn material_strategy() -> impl Strategy<Value = Material> {
        (
            (
                phrase(),
                any::<u8>(),
                any::<u8>(),
                pick_one::<MaterialForm>(),
                any::<bool>(),
            ),
            (
                prop::option::of(phrase()),
                maybe_phrase(),
                prop::option::of(phrase()),
                any::<bool>(),
                any::<bool>(),
            ),
        )
            .prop_map(
                |(
                    (name, original, copies, form, required),
                    (condition, source, note, blank_form, sample),
                )| {
                    Material {
                        name,
                        original,
                        copies,
                        form,
                        required,
                        condition,
                        source,
                        note,
                        blank_form,
                        sample,
                    }
                },
            )
    }

    fn limits() -> impl Strategy<Value = (u16, u16)> {
        (0u16..=400).prop_flat_map(|s| (Just(s), if s == 0 { 0..=30 } else { 0..=s }))
    }

    fn guide_strategy() -> impl Strategy<Value = Guide> {
        let head = (
            phrase(),
            prop::collection::vec(word(), 0..3),
            pick_one::<ItemType>(),
            some_of::<ServiceObject>(),
            prop::collection::vec("[a-z][a-z_]{0,9}", 0..3),
            prop::collection::vec(phrase(), 0..4),
            limits(),
            any::<u8>(),
        );
        let lists = (
            prop::collection::vec(
                (phrase(), maybe_phrase(), maybe_phrase())
                    .prop_map(|(law, article, text)| LegalBasis { law, article, text }),
                0..3,
            ),
            prop::collection::vec(material_strategy(), 0..4),
            prop::collection::vec(
                (phrase(), maybe_phrase())
                    .prop_map(|(name, description)| ProcessStep { name, description }),
                0..4,
            ),
            prop_oneof![
                Just(None),
                Just(Some(vec![])),
                prop::collection::vec(
                    (phrase(), maybe_phrase(), maybe_phrase()).prop_map(|(name, amount, basis)| {
                        Fee {
                            name,
                            amount,
                            basis,
                        }
                    }),
                    1..3,
                )
                .prop_map(Some),
            ],
            prop::collection::vec(
                (phrase(), maybe_phrase(), maybe_phrase()).prop_map(|(name, address, hours)| {
                    Place {
                        name,
                        address,
                        hours,
                    }
                }),
                0..3,
            ),
        );
        let tail = (
            some_of::<HandlingForm>(),
            pick_one::<CaseType>(),
            pick_one::<OnlineDepth>(),
            pick_one::<CrossRegionScope>(),
            (maybe_phrase(), maybe_phrase()),
            prop_oneof![Just(String::new()), "[0-9]{3,4}-[0-9]{7,8}", "[0-9]{5}"],
            maybe_phrase(),
        );
        (head, lists, tail).prop_map(
            |(
                (
                    name,
                    aliases,
                    item_type,
                    service_objects,
                    themes,
                    conditions,
                    (statutory, promised),
                    visits,
                ),
                (legal_basis, materials, process, fees, places),
                (
                    handling_forms,
                    case_type,
                    online_depth,
                    scope,
                    (result_name, result_kind),
                    consult_phone,
                    complaint_phone,
                ),
            )| Guide {
                name,
                aliases,
                item_type,
                service_objects,
                themes,
                legal_basis,
                conditions,
                materials,
                process,
                statutory_limit_days: statutory,
                promised_limit_days: promised,
                fees,
                handling_forms,
                case_type,
                online_depth,
                visits,
                min_level: RealNameLevel::L2,
                scope,
                result: ItemResult {
                    name: result_name,
                    kind: result_kind,
                },
                places,
                consult_phone,
                complaint_phone,
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn any_guides_survive_the_round_trip(guides in prop::collection::vec(guide_strategy(), 1..4)) {
            let rows: Vec<ExportRow> = (1u32..)
                .zip(guides)
                .map(|(n, g)| export_row(code(n), g))
                .collect();
            let back = parse_workbook(&export_workbook(&rows).unwrap()).unwrap();
            prop_assert_eq!(back.len(), rows.len());
            for (row, imported) in rows.iter().zip(&back) {
                prop_assert_eq!(imported.code.as_str(), row.code.as_str());
                prop_assert_eq!(&imported.guide, &row.guide);
            }
        }
    }
}
