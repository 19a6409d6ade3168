//! View models shared by several admin pages: a guide as read-only text, a quality report and a
//! side-by-side comparison, each with its labels already in the page language so that the
//! partial templates (`admin/_guide.html`, `admin/_quality.html`, `admin/_diff.html`) stay
//! simple.

use yiwang_domain::diff::{RowKind, Section};
use yiwang_domain::item::{Fee, Guide};
use yiwang_domain::quality::QualityReport;
use yiwang_services::masterdata::MasterData;

use super::guide_form::CodeTable;
use crate::i18n::Lang;

/// A code table value in the page language.
pub(crate) fn code_label<T: CodeTable>(lang: Lang, t: T) -> &'static str {
    lang.t(t.label_zh(), t.label_en())
}

fn join<T: CodeTable>(lang: Lang, v: &[T]) -> String {
    v.iter()
        .map(|t| code_label(lang, *t))
        .collect::<Vec<_>>()
        .join(lang.t("、", ", "))
}

/// A material with its labels.
pub(crate) struct MaterialView {
    pub name: String,
    pub original: u8,
    pub copies: u8,
    pub form: &'static str,
    pub required: bool,
    pub condition: String,
    pub source: String,
    pub note: String,
    pub blank_form: bool,
    pub sample: bool,
}

/// A guide, read-only, with its codes as labels.
pub(crate) struct GuideView {
    pub g: Guide,
    pub item_type: &'static str,
    pub objects: String,
    pub themes: String,
    pub forms: String,
    pub case_type: &'static str,
    pub depth: &'static str,
    pub scope: &'static str,
    pub online: bool,
    pub materials: Vec<MaterialView>,
    /// `unstated`, `free` or `charged`.
    pub fees_state: &'static str,
    pub fees: Vec<Fee>,
}

impl GuideView {
    /// The view of a guide; theme keys are shown by their names.
    pub(crate) fn new(lang: Lang, g: Guide, master: &MasterData) -> GuideView {
        let themes = g
            .themes
            .iter()
            .map(|k| {
                master
                    .theme(k)
                    .map(|t| t.name.clone())
                    .unwrap_or_else(|| k.clone())
            })
            .collect::<Vec<_>>()
            .join(lang.t("、", ", "));
        let materials = g
            .materials
            .iter()
            .map(|m| MaterialView {
                name: m.name.clone(),
                original: m.original,
                copies: m.copies,
                form: code_label(lang, m.form),
                required: m.required,
                condition: m.condition.clone().unwrap_or_default(),
                source: m.source.clone(),
                note: m.note.clone().unwrap_or_default(),
                blank_form: m.blank_form,
                sample: m.sample,
            })
            .collect();
        let (fees_state, fees) = match &g.fees {
            None => ("unstated", Vec::new()),
            Some(f) if f.is_empty() => ("free", Vec::new()),
            Some(f) => ("charged", f.clone()),
        };
        GuideView {
            item_type: code_label(lang, g.item_type),
            objects: join(lang, &g.service_objects),
            themes,
            forms: join(lang, &g.handling_forms),
            case_type: code_label(lang, g.case_type),
            depth: code_label(lang, g.online_depth),
            scope: code_label(lang, g.scope),
            online: g.online(),
            materials,
            fees_state,
            fees,
            g,
        }
    }
}

/// One quality check with its label.
pub(crate) struct CheckView {
    pub passed: bool,
    pub label: &'static str,
    pub problems: Vec<String>,
}

/// A quality report: every check, passed or not.
pub(crate) struct QualityView {
    pub passed: bool,
    pub failures: usize,
    pub checks: Vec<CheckView>,
}

impl QualityView {
    pub(crate) fn new(lang: Lang, r: &QualityReport) -> QualityView {
        QualityView {
            passed: r.passed(),
            failures: r.failures().count(),
            checks: r
                .checks
                .iter()
                .map(|c| CheckView {
                    passed: c.passed,
                    label: lang.t(c.label_zh, c.label_en),
                    problems: c.problems.clone(),
                })
                .collect(),
        }
    }
}

/// One row of a comparison.
pub(crate) struct DiffRow {
    /// CSS class of the changed cells: `changed`, `added`, `removed` or "".
    pub class: &'static str,
    /// What happened, in words (for those who do not see colours).
    pub what: &'static str,
    pub left: String,
    pub right: String,
}

/// One section of a comparison.
pub(crate) struct DiffSection {
    pub label: &'static str,
    pub changed: bool,
    pub rows: Vec<DiffRow>,
}

/// A side-by-side comparison of two versions.
pub(crate) struct DiffView {
    pub from: i64,
    pub to: i64,
    pub sections: Vec<DiffSection>,
    /// Sections with a change.
    pub changed: usize,
}

/// A comparison section's label in the page language.
fn section_label(lang: Lang, zh: &'static str) -> &'static str {
    lang.t(
        zh,
        match zh {
            "事项名称" => "Name",
            "别名" => "Aliases",
            "事项类型" => "Item type",
            "服务对象" => "Service objects",
            "主题" => "Themes",
            "设定依据" => "Legal basis",
            "受理条件" => "Conditions",
            "申请材料" => "Materials",
            "办理流程" => "Process",
            "办结时限" => "Time limits",
            "收费" => "Fees",
            "办理形式" => "Handling forms",
            "办件类型" => "Case type",
            "网办深度" => "Online depth",
            "到现场次数" => "Visits",
            "通办范围" => "Scope",
            "办理结果" => "Result",
            "办理地点" => "Places",
            "咨询投诉" => "Contacts",
            other => other,
        },
    )
}

impl DiffView {
    pub(crate) fn new(lang: Lang, from: i64, to: i64, sections: Vec<Section>) -> DiffView {
        let sections: Vec<DiffSection> = sections
            .into_iter()
            .map(|s| DiffSection {
                label: section_label(lang, s.label),
                changed: s.changed,
                rows: s
                    .rows
                    .into_iter()
                    .map(|r| {
                        let (class, what) = match r.kind {
                            RowKind::Same => ("", lang.t("未变", "same")),
                            RowKind::Changed => ("changed", lang.t("修改", "changed")),
                            RowKind::Added => ("added", lang.t("新增", "added")),
                            RowKind::Removed => ("removed", lang.t("删除", "removed")),
                        };
                        DiffRow {
                            class,
                            what,
                            left: r.left,
                            right: r.right,
                        }
                    })
                    .collect(),
            })
            .collect();
        DiffView {
            from,
            to,
            changed: sections.iter().filter(|s| s.changed).count(),
            sections,
        }
    }
}
