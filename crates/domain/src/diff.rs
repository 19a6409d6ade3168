//! Side-by-side differences between two versions of a guide (版本比对).
//!
//! A guide is flattened into labelled sections of lines (one material a line, one legal basis a
//! line…); sections are compared line by line with a Myers diff, so a reviewer sees exactly which
//! material or article changed, left (old) beside right (new).

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use crate::item::Guide;

/// How a row of the side-by-side view changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    /// The same on both sides.
    Same,
    /// Only on the right (added).
    Added,
    /// Only on the left (removed).
    Removed,
    /// Different on each side (changed).
    Changed,
}

/// One row of the side-by-side view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// What happened to the row.
    pub kind: RowKind,
    /// Old text (empty when added).
    pub left: String,
    /// New text (empty when removed).
    pub right: String,
}

/// One labelled section (e.g. 申请材料) with its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    /// Section name in Chinese.
    pub label: &'static str,
    /// Whether anything in the section changed.
    pub changed: bool,
    /// The rows.
    pub rows: Vec<Row>,
}

/// Flattens a guide into labelled sections of lines, the unit of comparison.
pub fn sections(g: &Guide) -> Vec<(&'static str, Vec<String>)> {
    let join = |v: &[String]| v.join("、");
    vec![
        ("事项名称", vec![g.name.clone()]),
        ("别名", vec![join(&g.aliases)]),
        ("事项类型", vec![g.item_type.label_zh().to_string()]),
        (
            "服务对象",
            vec![
                g.service_objects
                    .iter()
                    .map(|o| o.label_zh())
                    .collect::<Vec<_>>()
                    .join("、"),
            ],
        ),
        ("主题", vec![join(&g.themes)]),
        (
            "设定依据",
            g.legal_basis
                .iter()
                .map(|l| format!("{}{}：{}", l.law, l.article, l.text))
                .collect(),
        ),
        ("受理条件", g.conditions.clone()),
        (
            "申请材料",
            g.materials
                .iter()
                .map(|m| {
                    format!(
                        "{}｜原件{}份｜复印件{}份｜{}｜{}{}",
                        m.name,
                        m.original,
                        m.copies,
                        m.form.label_zh(),
                        if m.required { "必要" } else { "非必要" },
                        m.condition
                            .as_deref()
                            .map(|c| format!("（{c}）"))
                            .unwrap_or_default()
                    )
                })
                .collect(),
        ),
        (
            "办理流程",
            g.process
                .iter()
                .map(|s| format!("{}：{}", s.name, s.description))
                .collect(),
        ),
        (
            "办结时限",
            vec![format!(
                "法定{}个工作日；承诺{}个工作日",
                g.statutory_limit_days, g.promised_limit_days
            )],
        ),
        (
            "收费",
            match &g.fees {
                None => vec!["未说明".to_string()],
                Some(f) if f.is_empty() => vec!["不收费".to_string()],
                Some(f) => f
                    .iter()
                    .map(|f| format!("{}｜{}｜{}", f.name, f.amount, f.basis))
                    .collect(),
            },
        ),
        (
            "办理形式",
            vec![
                g.handling_forms
                    .iter()
                    .map(|f| f.label_zh())
                    .collect::<Vec<_>>()
                    .join("、"),
            ],
        ),
        ("办件类型", vec![g.case_type.label_zh().to_string()]),
        ("网办深度", vec![g.online_depth.label_zh().to_string()]),
        ("到现场次数", vec![g.visits.to_string()]),
        ("实名等级要求", vec![g.min_level.label_zh().to_string()]),
        ("通办范围", vec![g.scope.label_zh().to_string()]),
        (
            "办理结果",
            vec![format!("{}（{}）", g.result.name, g.result.kind)],
        ),
        (
            "办理地点",
            g.places
                .iter()
                .map(|p| format!("{}｜{}｜{}", p.name, p.address, p.hours))
                .collect(),
        ),
        (
            "咨询投诉",
            vec![format!(
                "咨询：{}；投诉：{}",
                g.consult_phone, g.complaint_phone
            )],
        ),
    ]
}

/// Compares two guides section by section.
pub fn diff(old: &Guide, new: &Guide) -> Vec<Section> {
    sections(old)
        .into_iter()
        .zip(sections(new))
        .map(|((label, l), (_, r))| {
            let rows = diff_lines(&l, &r);
            Section {
                label,
                changed: rows.iter().any(|r| r.kind != RowKind::Same),
                rows,
            }
        })
        .collect()
}

/// Side-by-side rows of two line lists: a removed line followed by an added one pairs up as
/// one changed row.
fn diff_lines(left: &[String], right: &[String]) -> Vec<Row> {
    let l: Vec<&str> = left.iter().map(String::as_str).collect();
    let r: Vec<&str> = right.iter().map(String::as_str).collect();
    let d = TextDiff::from_slices(&l, &r);
    let mut rows: Vec<Row> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    let mut added: Vec<String> = Vec::new();
    let flush = |rows: &mut Vec<Row>, removed: &mut Vec<String>, added: &mut Vec<String>| {
        let n = removed.len().max(added.len());
        let mut rem = removed.drain(..);
        let mut add = added.drain(..);
        for _ in 0..n {
            match (rem.next(), add.next()) {
                (Some(a), Some(b)) => rows.push(Row {
                    kind: RowKind::Changed,
                    left: a,
                    right: b,
                }),
                (Some(a), None) => rows.push(Row {
                    kind: RowKind::Removed,
                    left: a,
                    right: String::new(),
                }),
                (None, Some(b)) => rows.push(Row {
                    kind: RowKind::Added,
                    left: String::new(),
                    right: b,
                }),
                (None, None) => {}
            }
        }
    };
    for change in d.iter_all_changes() {
        let text = change.value().to_string();
        match change.tag() {
            ChangeTag::Equal => {
                flush(&mut rows, &mut removed, &mut added);
                rows.push(Row {
                    kind: RowKind::Same,
                    left: text.clone(),
                    right: text,
                });
            }
            ChangeTag::Delete => removed.push(text),
            ChangeTag::Insert => added.push(text),
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::tests::good_guide;

    #[test]
    fn identical_guides_have_no_changes() {
        let g = good_guide();
        assert!(diff(&g, &g).iter().all(|s| !s.changed));
    }

    #[test]
    fn a_changed_material_and_limit_show_side_by_side() {
        let old = good_guide();
        let mut new = old.clone();
        new.materials[0].copies = 1;
        new.promised_limit_days = 5;
        let d = diff(&old, &new);
        let changed: Vec<&str> = d.iter().filter(|s| s.changed).map(|s| s.label).collect();
        assert_eq!(changed, ["申请材料", "办结时限"]);
        let m = d.iter().find(|s| s.label == "申请材料").unwrap();
        assert_eq!(m.rows.len(), 1);
        assert_eq!(m.rows[0].kind, RowKind::Changed);
        assert!(m.rows[0].left.contains("复印件0份"));
        assert!(m.rows[0].right.contains("复印件1份"));
    }

    #[test]
    fn added_material_is_an_added_row() {
        let old = good_guide();
        let mut new = old.clone();
        let mut m = new.materials[0].clone();
        m.name = "营业执照".into();
        new.materials.push(m);
        let d = diff(&old, &new);
        let s = d.iter().find(|s| s.label == "申请材料").unwrap();
        assert_eq!(
            s.rows.iter().map(|r| r.kind).collect::<Vec<_>>(),
            [RowKind::Same, RowKind::Added]
        );
    }
}
