//! The guide editor (办事指南编辑): one form for every element of a guide, without JavaScript.
//!
//! Lists are numbered rows with two spare empty rows; the `add_rows` button posts the form and
//! shows it again with three more, saving nothing. A form with mistakes is shown again with
//! every posted value kept, each bad field marked (`aria-invalid`, its message beside it) and
//! a summary at the top (`role="alert"`), and nothing is saved (400). 保存并提交审核 saves the
//! draft and then submits it; when the quality checks refuse the submission the editor is
//! shown again with the failed checks (422), the draft saved.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_domain::dict::{
    CaseType, CrossRegionScope, HandlingForm, ItemType, MaterialForm, OnlineDepth, ServiceObject,
};
use yiwang_domain::item::transitions;
use yiwang_domain::quality::QualityReport;
use yiwang_services::catalogue::{self, validate_guide};
use yiwang_services::masterdata::MasterData;
use yiwang_services::{FieldError, ServiceError};

use super::guide_form::{
    CHARGED_NO, CHARGED_YES, CodeTable, FEES, GuideForm, LEGAL, MATERIALS, PLACES, PROCESS,
    RESULT_KINDS, RowSection, form_fields, row_name,
};
use super::views::QualityView;
use super::{AdminForm, chrome, item_code, may_manage, see_other, status_label, version_no};
use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

/// Spare empty rows shown under every list.
const SPARE_ROWS: usize = 2;
/// Rows added by the `add_rows` button.
const ADDED_ROWS: usize = 3;

/// One option of a select or of a checkbox/radio group.
pub(crate) struct Opt {
    pub id: String,
    pub value: String,
    pub label: String,
    pub on: bool,
}

/// One input of the editor with its label, value and error.
pub(crate) struct Widget {
    /// `input`, `textarea`, `select` or `checkbox`.
    pub kind: &'static str,
    /// For `input`: `text`, `number` or `tel`.
    pub input_type: &'static str,
    pub name: String,
    pub id: String,
    pub label: String,
    pub value: String,
    pub error: Option<String>,
    pub hint: String,
    /// Ids for `aria-describedby` (error, hint), or "".
    pub described_by: String,
    pub options: Vec<Opt>,
    pub checked: bool,
    /// Takes the whole width of the grid.
    pub wide: bool,
}

impl Widget {
    /// An input of `kind` (`input` of `input_type`, `textarea`, `select`, `checkbox`) named
    /// `name`, with its label, value, error and hint; a select's options are added after.
    pub(crate) fn new(
        kind: &'static str,
        input_type: &'static str,
        name: String,
        value: String,
        label: String,
        error: Option<String>,
        hint: &str,
    ) -> Widget {
        let id = field_id(&name);
        let mut described = Vec::new();
        if error.is_some() {
            described.push(format!("{id}-err"));
        }
        if !hint.is_empty() {
            described.push(format!("{id}-hint"));
        }
        Widget {
            kind,
            input_type,
            checked: kind == "checkbox" && !value.trim().is_empty(),
            described_by: described.join(" "),
            wide: kind == "textarea",
            name,
            id,
            label,
            value,
            error,
            hint: hint.to_string(),
            options: Vec::new(),
        }
    }
}

/// A checkbox or radio group in a fieldset.
pub(crate) struct Group {
    /// `checkbox` or `radio`.
    pub kind: &'static str,
    pub name: String,
    pub id: String,
    pub legend: String,
    pub error: Option<String>,
    pub options: Vec<Opt>,
}

/// One numbered row of a list.
pub(crate) struct RowBlock {
    pub legend: String,
    /// A problem with the row as a whole.
    pub error: Option<String>,
    pub widgets: Vec<Widget>,
}

/// A list of rows (materials, places…).
pub(crate) struct ListBlock {
    pub id: String,
    pub title: String,
    pub hint: String,
    pub error: Option<String>,
    pub rows: Vec<RowBlock>,
}

/// One entry of the error summary.
pub(crate) struct SummaryItem {
    /// The bad field's id, when the form has it.
    pub href: Option<String>,
    pub label: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "admin/editor.html")]
struct EditorPage {
    chrome: Chrome,
    code: String,
    item_name: String,
    version: i64,
    status: &'static str,
    summary: Vec<SummaryItem>,
    quality: Option<QualityView>,
    /// The draft was saved but the submission refused.
    saved: bool,
    /// The form was shown again with more rows.
    rows_added: bool,
    basics: Vec<Widget>,
    objects: Group,
    themes: Group,
    legal: ListBlock,
    conditions: Widget,
    materials: ListBlock,
    process: ListBlock,
    limits: Vec<Widget>,
    charged: Group,
    fees: ListBlock,
    forms: Group,
    handling: Vec<Widget>,
    result: Vec<Widget>,
    places: ListBlock,
    phones: Vec<Widget>,
}

/// The id of a form field: `materials[3][name]` → `f-materials-3-name`.
fn field_id(name: &str) -> String {
    let mut id = String::from("f-");
    for c in name.chars() {
        match c {
            '[' => id.push('-'),
            ']' => {}
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' => id.push(c),
            _ => id.push('_'),
        }
    }
    id
}

/// How one field of a row is edited.
enum Cell {
    Text,
    Number,
    Area,
    Check,
    Form,
}

/// The fields of each list: name, how, label (zh, en), whether it takes the whole width.
fn row_spec(section: RowSection) -> &'static [(&'static str, CellKind)] {
    match section.key {
        "legal_basis" => &[
            (
                "law",
                CellKind(Cell::Text, "法律法规名称", "Law or regulation", false),
            ),
            ("article", CellKind(Cell::Text, "条款号", "Article", false)),
            (
                "text",
                CellKind(Cell::Area, "条款内容", "Text of the article", true),
            ),
        ],
        "materials" => &[
            ("name", CellKind(Cell::Text, "材料名称", "Material", true)),
            (
                "original",
                CellKind(Cell::Number, "原件份数", "Originals", false),
            ),
            (
                "copies",
                CellKind(Cell::Number, "复印件份数", "Copies", false),
            ),
            ("form", CellKind(Cell::Form, "材料形式", "Form", false)),
            (
                "required",
                CellKind(Cell::Check, "必要材料", "Required", false),
            ),
            (
                "condition",
                CellKind(
                    Cell::Text,
                    "需要提交的情形（非必要材料填写）",
                    "When it is needed (optional materials)",
                    true,
                ),
            ),
            ("source", CellKind(Cell::Text, "来源渠道", "Source", false)),
            ("note", CellKind(Cell::Area, "填报须知", "Notes", true)),
            (
                "blank_form",
                CellKind(Cell::Check, "提供空白表格", "Blank form provided", false),
            ),
            (
                "sample",
                CellKind(Cell::Check, "提供示例样表", "Sample provided", false),
            ),
        ],
        "process" => &[
            ("name", CellKind(Cell::Text, "环节名称", "Step", false)),
            (
                "description",
                CellKind(Cell::Area, "环节说明", "What happens", true),
            ),
        ],
        "fees" => &[
            ("name", CellKind(Cell::Text, "收费项目名称", "Fee", false)),
            ("amount", CellKind(Cell::Text, "收费标准", "Amount", false)),
            ("basis", CellKind(Cell::Text, "收费依据", "Basis", false)),
        ],
        _ => &[
            ("name", CellKind(Cell::Text, "地点名称", "Place", false)),
            ("address", CellKind(Cell::Text, "地址", "Address", true)),
            (
                "hours",
                CellKind(Cell::Text, "办理时间", "Office hours", false),
            ),
        ],
    }
}

/// How a row field is edited, its label (zh, en) and whether it is wide.
struct CellKind(Cell, &'static str, &'static str, bool);

struct Builder<'a> {
    lang: Lang,
    form: &'a GuideForm,
    errors: HashMap<String, Vec<String>>,
    /// Every field's id and full label, for the summary.
    labels: HashMap<String, (String, String)>,
}

impl Builder<'_> {
    fn error(&self, name: &str) -> Option<String> {
        self.errors.get(name).map(|v| v.join("；"))
    }

    #[allow(clippy::too_many_arguments)]
    fn widget(
        &mut self,
        kind: &'static str,
        input_type: &'static str,
        name: String,
        value: String,
        label: String,
        full_label: String,
        hint: &str,
    ) -> Widget {
        let error = self.error(&name);
        let w = Widget::new(kind, input_type, name, value, label, error, hint);
        self.labels
            .insert(w.name.clone(), (w.id.clone(), full_label));
        w
    }

    fn text(&mut self, name: &str, label: &str, hint: &str) -> Widget {
        let value = self.form.get(name).to_string();
        self.widget(
            "input",
            "text",
            name.into(),
            value,
            label.into(),
            label.into(),
            hint,
        )
    }

    fn tel(&mut self, name: &str, label: &str) -> Widget {
        let value = self.form.get(name).to_string();
        self.widget(
            "input",
            "tel",
            name.into(),
            value,
            label.into(),
            label.into(),
            "",
        )
    }

    fn textarea(&mut self, name: &str, label: &str, hint: &str) -> Widget {
        let value = self.form.get(name).to_string();
        self.widget(
            "textarea",
            "",
            name.into(),
            value,
            label.into(),
            label.into(),
            hint,
        )
    }

    /// A number field; a value that is not a number is shown in a text field, as typed.
    fn number(&mut self, name: &str, label: &str, hint: &str) -> Widget {
        let value = self.form.get(name).to_string();
        let t = number_type(&value);
        self.widget(
            "input",
            t,
            name.into(),
            value,
            label.into(),
            label.into(),
            hint,
        )
    }

    fn options<T: CodeTable>(&self, id: &str, current: &str) -> Vec<Opt> {
        let choices: Vec<(&str, &str)> = T::all()
            .iter()
            .map(|t| (t.code(), self.lang.t(t.label_zh(), t.label_en())))
            .collect();
        options(self.lang, id, current, &choices)
    }

    fn select<T: CodeTable>(&mut self, name: &str, label: &str) -> Widget {
        let value = self.form.get(name).to_string();
        let mut w = self.widget(
            "select",
            "",
            name.into(),
            value.clone(),
            label.into(),
            label.into(),
            "",
        );
        w.options = self.options::<T>(&w.id, &value);
        w
    }

    fn result_kind(&mut self, label: &str) -> Widget {
        let value = self.form.get("result_kind").trim().to_string();
        let mut w = self.widget(
            "select",
            "",
            "result_kind".into(),
            value.clone(),
            label.into(),
            label.into(),
            "",
        );
        let lang = self.lang;
        if !RESULT_KINDS.contains(&value.as_str()) {
            w.options.push(Opt {
                id: String::new(),
                label: if value.is_empty() {
                    lang.t("（请选择）", "(choose)").to_string()
                } else {
                    format!("“{value}”{}", lang.t("（无效）", " (invalid)"))
                },
                value: value.clone(),
                on: true,
            });
        }
        for (k, en) in RESULT_KINDS.iter().zip(["licence", "approval", "other"]) {
            w.options.push(Opt {
                id: String::new(),
                value: (*k).to_string(),
                label: lang.t(k, en).to_string(),
                on: *k == value,
            });
        }
        w
    }

    fn group(
        &mut self,
        kind: &'static str,
        name: &str,
        legend: &str,
        options: Vec<(String, String)>,
    ) -> Group {
        let id = field_id(name);
        let posted = self.form.all(name);
        let mut opts: Vec<Opt> = options
            .into_iter()
            .enumerate()
            .map(|(i, (value, label))| Opt {
                id: format!("{id}-{i}"),
                on: posted.iter().any(|p| p.trim() == value),
                value,
                label,
            })
            .collect();
        // Posted values the list does not know stay visible (and ticked) so nothing is lost.
        for p in posted {
            let p = p.trim();
            if !p.is_empty() && !opts.iter().any(|o| o.value == p) {
                opts.push(Opt {
                    id: format!("{id}-{}", opts.len()),
                    value: p.to_string(),
                    label: format!("“{p}”{}", self.lang.t("（无效）", " (invalid)")),
                    on: true,
                });
            }
        }
        self.labels
            .insert(name.to_string(), (id.clone(), legend.to_string()));
        Group {
            kind,
            name: name.to_string(),
            error: self.error(name),
            legend: legend.to_string(),
            id,
            options: opts,
        }
    }

    fn code_group<T: CodeTable>(&mut self, name: &str, legend: &str) -> Group {
        let options = T::all()
            .iter()
            .map(|t| {
                (
                    t.code().to_string(),
                    self.lang.t(t.label_zh(), t.label_en()).to_string(),
                )
            })
            .collect();
        self.group("checkbox", name, legend, options)
    }

    fn list(
        &mut self,
        section: RowSection,
        title: &str,
        item: (&str, &str),
        hint: &str,
    ) -> ListBlock {
        let lang = self.lang;
        let rows = self.form.rows(section).to_vec();
        let mut blocks = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let legend = match lang {
                Lang::Zh => format!("{}第{}项", item.0, i + 1),
                Lang::En => format!("{} {}", item.1, i + 1),
            };
            let mut widgets = Vec::new();
            for (field, CellKind(how, zh, en, wide)) in row_spec(section) {
                let name = row_name(section.key, i, field);
                let value = r.get(field).cloned().unwrap_or_default();
                let label = lang.t(zh, en).to_string();
                let full = format!("{legend} {label}");
                let mut w = match how {
                    Cell::Text => self.widget("input", "text", name, value, label, full, ""),
                    Cell::Number => {
                        let t = number_type(&value);
                        self.widget("input", t, name, value, label, full, "")
                    }
                    Cell::Area => self.widget("textarea", "", name, value, label, full, ""),
                    Cell::Check => self.widget("checkbox", "", name, value, label, full, ""),
                    Cell::Form => {
                        let mut w = self.widget("select", "", name, value.clone(), label, full, "");
                        w.options = self.options::<MaterialForm>(&w.id, &value);
                        w
                    }
                };
                w.wide = *wide;
                widgets.push(w);
            }
            blocks.push(RowBlock {
                legend,
                error: None,
                widgets,
            });
        }
        ListBlock {
            id: field_id(section.key),
            title: title.to_string(),
            hint: hint.to_string(),
            error: self.error(section.key),
            rows: blocks,
        }
    }

    /// The summary: every error, in the order given, linked to its field when the form has it.
    fn summary(&self, errors: &[FieldError]) -> Vec<SummaryItem> {
        errors
            .iter()
            .map(|e| {
                let (href, label) = match self.labels.get(&e.field) {
                    Some((id, label)) => (Some(id.clone()), label.clone()),
                    None => (None, general_label(self.lang, &e.field)),
                };
                SummaryItem {
                    href,
                    label,
                    message: self.lang.t(&e.message_zh, &e.message_en).to_string(),
                }
            })
            .collect()
    }
}

/// The options of the select `id`: `choices` (value, label) with `current` chosen. A value
/// the list does not know stays visible and chosen, marked invalid, so nothing is lost.
pub(crate) fn options(lang: Lang, id: &str, current: &str, choices: &[(&str, &str)]) -> Vec<Opt> {
    let current = current.trim();
    let mut out = Vec::new();
    if !choices.iter().any(|(v, _)| *v == current) {
        out.push(Opt {
            id: format!("{id}-none"),
            value: current.to_string(),
            label: if current.is_empty() {
                lang.t("（请选择）", "(choose)").to_string()
            } else {
                format!("“{current}”{}", lang.t("（无效）", " (invalid)"))
            },
            on: true,
        });
    }
    out.extend(choices.iter().map(|(value, label)| Opt {
        id: format!("{id}-{value}"),
        value: (*value).to_string(),
        label: (*label).to_string(),
        on: *value == current,
    }));
    out
}

/// `number` when the text is a number (or empty), else `text`, so a mistyped value stays visible.
pub(crate) fn number_type(v: &str) -> &'static str {
    let v = v.trim();
    if v.is_empty() || v.parse::<u32>().is_ok() {
        "number"
    } else {
        "text"
    }
}

/// The label of an error about no single field.
fn general_label(lang: Lang, field: &str) -> String {
    match field {
        "text" => lang.t("文字长度", "Text length"),
        "limits" => lang.t("办结时限", "Time limits"),
        "phones" => lang.t("电话", "Phones"),
        _ => lang.t("表单", "Form"),
    }
    .to_string()
}

/// Everything the editor page needs besides the form.
struct Context<'a> {
    code: &'a str,
    item_name: &'a str,
    version: i64,
    status: &'static str,
}

/// Why the editor is shown.
enum Shown<'a> {
    /// To edit the stored guide.
    Editing,
    /// Again, with more empty rows, nothing saved.
    RowsAdded,
    /// Again, with these errors (form field names), nothing saved.
    Invalid(&'a [FieldError]),
    /// Again after saving, the submission refused by these checks.
    NotSubmitted(&'a QualityReport),
}

fn render(
    session: &StaffSession,
    master: &MasterData,
    ctx: Context<'_>,
    form: &GuideForm,
    shown: Shown<'_>,
    status: StatusCode,
) -> Response {
    let lang = session.lang;
    let (errors, quality, rows_added) = match shown {
        Shown::Editing => (&[][..], None, false),
        Shown::RowsAdded => (&[][..], None, true),
        Shown::Invalid(errors) => (errors, None, false),
        Shown::NotSubmitted(report) => (&[][..], Some(report), false),
    };
    let t = |zh: &'static str, en: &'static str| lang.t(zh, en);
    let mut errs: HashMap<String, Vec<String>> = HashMap::new();
    for e in errors {
        errs.entry(e.field.clone())
            .or_default()
            .push(lang.t(&e.message_zh, &e.message_en).to_string());
    }
    let mut b = Builder {
        lang,
        form,
        errors: errs,
        labels: HashMap::new(),
    };
    let mut name = b.text("name", t("事项名称（必填）", "Name (required)"), "");
    name.wide = true;
    let basics = vec![
        name,
        b.textarea(
            "aliases",
            t("别名", "Aliases"),
            t(
                "每行一个，群众常用的叫法或简称。",
                "One a line: names people use.",
            ),
        ),
        b.select::<ItemType>("item_type", t("事项类型", "Item type")),
    ];
    let objects = b.code_group::<ServiceObject>(
        "service_objects",
        t("服务对象（至少选一项）", "Service objects (at least one)"),
    );
    let theme_options = master
        .themes
        .iter()
        .map(|th| {
            let who = if th.object == "person" {
                t("个人", "individuals")
            } else {
                t("法人", "businesses")
            };
            (
                th.key.clone(),
                format!("{}{}{who}{}", th.name, t("（", " ("), t("）", ")")),
            )
        })
        .collect();
    let themes = b.group(
        "checkbox",
        "themes",
        t("主题分类", "Life-event themes"),
        theme_options,
    );
    let legal = b.list(
        LEGAL,
        t("设定依据", "Legal basis"),
        ("设定依据", "Legal basis"),
        t(
            "法律法规名称为空的行不保存。",
            "Rows without a law are not saved.",
        ),
    );
    let conditions = b.textarea(
        "conditions",
        t("受理条件", "Conditions of acceptance"),
        t("每行一条。", "One a line."),
    );
    let materials = b.list(
        MATERIALS,
        t("申请材料", "Materials"),
        ("材料", "Material"),
        t(
            "材料名称为空的行不保存；非必要材料请写明需要提交的情形。",
            "Rows without a name are not saved; say when an optional material is needed.",
        ),
    );
    let process = b.list(
        PROCESS,
        t("办理流程", "Process"),
        ("环节", "Step"),
        t(
            "环节名称为空的行不保存。",
            "Rows without a step name are not saved.",
        ),
    );
    let limits = vec![
        b.number(
            "statutory_limit_days",
            t("法定办结时限（工作日）", "Statutory limit (working days)"),
            t("0 表示即办。", "0: handled on the spot."),
        ),
        b.number(
            "promised_limit_days",
            t("承诺办结时限（工作日）", "Promised limit (working days)"),
            t(
                "不得超过法定时限；即办件填 0。",
                "No longer than the statutory limit; 0 for immediate items.",
            ),
        ),
    ];
    let charged = b.group(
        "radio",
        "charged",
        t("是否收费", "Fees"),
        vec![
            (CHARGED_NO.into(), t("不收费", "Free of charge").into()),
            (
                CHARGED_YES.into(),
                t(
                    "收费（请填写下面的收费项目）",
                    "Charged (list the fees below)",
                )
                .into(),
            ),
        ],
    );
    let fees = b.list(
        FEES,
        t("收费项目", "Fees"),
        ("收费项目", "Fee"),
        t(
            "选择“收费”时至少填写一项；项目名称为空的行不保存。",
            "List at least one fee when charged; rows without a name are not saved.",
        ),
    );
    let forms = b.code_group::<HandlingForm>(
        "handling_forms",
        t("办理形式（至少选一项）", "Handling forms (at least one)"),
    );
    let handling = vec![
        b.select::<CaseType>("case_type", t("办件类型", "Case type")),
        b.select::<OnlineDepth>("online_depth", t("网上办理深度", "Online depth")),
        b.number(
            "visits",
            t("到现场次数", "Visits"),
            t("0 到 9。", "0 to 9."),
        ),
        b.number(
            "min_level",
            t("实名等级要求", "Real-name level required"),
            t(
                "网上申请所需最低实名等级：1 基础实名，2 人口库核验，3 窗口核验。",
                "Lowest level to apply online: 1 basic, 2 population register, 3 in person.",
            ),
        ),
        b.select::<CrossRegionScope>("scope", t("通办范围", "Scope")),
    ];
    let result = vec![
        b.text("result_name", t("办理结果名称", "Result"), ""),
        b.result_kind(t("结果类型", "Result kind")),
    ];
    let places = b.list(
        PLACES,
        t("办理地点", "Places"),
        ("办理地点", "Place"),
        t(
            "地点名称为空的行不保存。",
            "Rows without a name are not saved.",
        ),
    );
    let phones = vec![
        b.tel("consult_phone", t("咨询电话", "Consultation phone")),
        b.tel("complaint_phone", t("监督投诉电话", "Complaint phone")),
    ];
    let summary = b.summary(errors);
    let page = EditorPage {
        chrome: chrome(
            session,
            format!(
                "{}{} v{}",
                t("编辑：", "Edit: "),
                ctx.item_name,
                ctx.version
            ),
        ),
        code: ctx.code.to_string(),
        item_name: ctx.item_name.to_string(),
        version: ctx.version,
        status: ctx.status,
        summary,
        quality: quality.map(|q| QualityView::new(lang, q)),
        saved: quality.is_some(),
        rows_added,
        basics,
        objects,
        themes,
        legal,
        conditions,
        materials,
        process,
        limits,
        charged,
        fees,
        forms,
        handling,
        result,
        places,
        phones,
    };
    html(status, &page)
}

/// `GET /admin/items/{code}/versions/{v}/edit`: the editor of an editable version.
pub(crate) async fn form(
    State(s): State<Shared>,
    session: StaffSession,
    Path((code, v)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let code = item_code(&code, lang)?;
    let v = version_no("v", &v, lang)?;
    let p = &s.platform;
    let rec = catalogue::item(p, &session.staff, &code)
        .await
        .map_err(|e| session.err(e))?;
    if !may_manage(&session, &rec.org) {
        return Err(session.err(ServiceError::Forbidden(
            "只能编辑本单位的事项（需要“事项管理员”角色）".into(),
        )));
    }
    let ver = catalogue::version(p, &session.staff, &code, v)
        .await
        .map_err(|e| session.err(e))?;
    transitions::edit(ver.status).map_err(|e| session.err(e.into()))?;
    let form = GuideForm::from_guide(&ver.guide).with_spare_rows(SPARE_ROWS);
    let ctx = Context {
        code: &code,
        item_name: &rec.name,
        version: v,
        status: status_label(lang, ver.status),
    };
    Ok(render(
        &session,
        &p.master.get(),
        ctx,
        &form,
        Shown::Editing,
        StatusCode::OK,
    ))
}

/// Merges error lists, dropping repeats of the same message on the same field.
fn merge(mut a: Vec<FieldError>, b: Vec<FieldError>) -> Vec<FieldError> {
    for e in b {
        if !a
            .iter()
            .any(|x| x.field == e.field && x.message_zh == e.message_zh)
        {
            a.push(e);
        }
    }
    a
}

/// Service-side field errors renamed to the form's fields.
fn to_form_errors(
    errs: Vec<FieldError>,
    kept: &HashMap<&'static str, Vec<usize>>,
) -> Vec<FieldError> {
    errs.into_iter()
        .flat_map(|e| {
            form_fields(&e.field, kept)
                .into_iter()
                .map(move |f| FieldError::new(f, e.message_zh.clone(), e.message_en.clone()))
        })
        .collect()
}

/// `POST /admin/items/{code}/versions/{v}/edit`: `action` = `save`, `submit` or `add_rows`.
pub(crate) async fn post(
    State(s): State<Shared>,
    session: StaffSession,
    Path((code, v)): Path<(String, String)>,
    AdminForm(pairs): AdminForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    session.check_csrf(&field("csrf"))?;
    let action = field("action");
    let lang = session.lang;
    let code = item_code(&code, lang)?;
    let v = version_no("v", &v, lang)?;
    let action = match action.trim() {
        "" | "save" => "save",
        "submit" => "submit",
        "add_rows" => "add_rows",
        other => {
            return Err(session.err(ServiceError::invalid(
                "action",
                &format!("未知的操作“{other}”，应为 save、submit 或 add_rows"),
                &format!("unknown action {other}"),
            )));
        }
    };
    let p = &s.platform;
    let staff = &session.staff;
    let master = p.master.get();
    let mut form = GuideForm::from_pairs(pairs);
    // The page's header needs the item and the version; these reads also check access.
    let rec = catalogue::item(p, staff, &code)
        .await
        .map_err(|e| session.err(e))?;
    // As for the form itself: reading an item is not editing it (else 增加行 or a form with
    // mistakes would show the editor to its reviewers).
    if !may_manage(&session, &rec.org) {
        return Err(session.err(ServiceError::Forbidden(
            "只能编辑本单位的事项（需要“事项管理员”角色）".into(),
        )));
    }
    let ver = catalogue::version(p, staff, &code, v)
        .await
        .map_err(|e| session.err(e))?;
    let ctx = Context {
        code: &code,
        item_name: &rec.name,
        version: v,
        status: status_label(lang, ver.status),
    };

    if action == "add_rows" {
        form.add_empty_rows(ADDED_ROWS);
        return Ok(render(
            &session,
            &master,
            ctx,
            &form,
            Shown::RowsAdded,
            StatusCode::OK,
        ));
    }

    let parsed = form.parse();
    if !parsed.errors.is_empty() {
        // Show every problem at once: what could not be read, and what the save would refuse.
        let more = to_form_errors(validate_guide(&master, &parsed.guide), &parsed.kept);
        let errors = merge(parsed.errors, more);
        let form = form.with_spare_rows(SPARE_ROWS);
        return Ok(render(
            &session,
            &master,
            ctx,
            &form,
            Shown::Invalid(&errors),
            StatusCode::BAD_REQUEST,
        ));
    }
    match catalogue::save(p, staff, &code, v, &parsed.guide).await {
        Ok(()) => {}
        Err(ServiceError::Invalid(errs)) => {
            let errors = to_form_errors(errs, &parsed.kept);
            let form = form.with_spare_rows(SPARE_ROWS);
            return Ok(render(
                &session,
                &master,
                ctx,
                &form,
                Shown::Invalid(&errors),
                StatusCode::BAD_REQUEST,
            ));
        }
        Err(e) => return Err(session.err(e)),
    }
    if action == "save" {
        return Ok(see_other(&format!("/admin/items/{code}?done=saved")));
    }
    match catalogue::submit(p, staff, &code, v).await {
        Ok(()) => Ok(see_other(&format!("/admin/items/{code}?done=submitted"))),
        Err(ServiceError::Quality(report)) => {
            let form = form.with_spare_rows(SPARE_ROWS);
            let ctx = Context {
                item_name: &parsed.guide.name,
                ..ctx
            };
            Ok(render(
                &session,
                &master,
                ctx,
                &form,
                Shown::NotSubmitted(&report),
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        Err(e) => Err(session.err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_safe() {
        assert_eq!(field_id("materials[3][name]"), "f-materials-3-name");
        assert_eq!(field_id("statutory_limit_days"), "f-statutory_limit_days");
        assert_eq!(field_id("a b\"c"), "f-a_b_c");
    }

    #[test]
    fn mistyped_numbers_stay_visible() {
        assert_eq!(number_type("12"), "number");
        assert_eq!(number_type(""), "number");
        assert_eq!(number_type("二十"), "text");
        assert_eq!(number_type("-1"), "text");
    }
}
