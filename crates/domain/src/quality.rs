//! Guide quality checks (指南质量): what a guide must contain before it may be reviewed.
//!
//! A State Council spot check of 201 platforms found a third of guides missing limits, fees or
//! contacts and one in eight with vague materials. Every check here runs on every guide; an item
//! cannot be submitted while a blocking check fails, and the reviewer sees every result.

use serde::Serialize;

use crate::dict::CaseType;
use crate::item::Guide;

/// Wording that makes a material list vague (模糊表述), forbidden by the national guide rules.
pub const VAGUE_PHRASES: &[&str] = &[
    "其他材料",
    "其它材料",
    "相关材料",
    "根据相关规定需要提交的材料",
    "根据相关规定",
    "按规定需要提交",
    "有关材料",
    "等材料",
];

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Stable identifier, e.g. `legal_basis`.
    pub id: &'static str,
    /// What is checked, in Chinese.
    pub label_zh: &'static str,
    /// What is checked, in English.
    pub label_en: &'static str,
    /// Whether the guide passes.
    pub passed: bool,
    /// What is wrong, in Chinese (empty when passed).
    pub problems: Vec<String>,
}

/// The results of every check on one guide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QualityReport {
    /// One entry per check, in a fixed order.
    pub checks: Vec<CheckResult>,
}

impl QualityReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The failing checks.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| !c.passed)
    }
}

struct Check {
    id: &'static str,
    zh: &'static str,
    en: &'static str,
    run: fn(&Guide, &mut Vec<String>),
}

const CHECKS: &[Check] = &[
    Check {
        id: "legal_basis",
        zh: "设定依据完整（法律法规名称、条款、内容）",
        en: "legal basis present (law, article, text)",
        run: check_legal_basis,
    },
    Check {
        id: "conditions",
        zh: "受理条件明确",
        en: "conditions of acceptance stated",
        run: check_conditions,
    },
    Check {
        id: "materials",
        zh: "申请材料完整（名称、原件/复印件份数、形式）",
        en: "materials listed with counts and form",
        run: check_materials,
    },
    Check {
        id: "vague_wording",
        zh: "无模糊表述（如“其他材料”“根据相关规定需要提交的材料”或以“等”结尾）",
        en: "no vague wording in materials or conditions",
        run: check_vague,
    },
    Check {
        id: "time_limits",
        zh: "法定办结时限与承诺办结时限明确",
        en: "statutory and promised time limits set",
        run: check_limits,
    },
    Check {
        id: "fees",
        zh: "收费信息明确（收费项目、标准、依据，或“不收费”）",
        en: "fees stated, or stated free",
        run: check_fees,
    },
    Check {
        id: "place_hours",
        zh: "办理地点和办理时间明确",
        en: "place and office hours stated",
        run: check_places,
    },
    Check {
        id: "phones",
        zh: "咨询电话和监督投诉电话明确",
        en: "consultation and complaint phones stated",
        run: check_phones,
    },
    Check {
        id: "process",
        zh: "办理流程明确",
        en: "handling process described",
        run: check_process,
    },
    Check {
        id: "result",
        zh: "办理结果名称明确",
        en: "result named",
        run: check_result,
    },
];

/// Runs every check on a guide.
pub fn check(guide: &Guide) -> QualityReport {
    let checks = CHECKS
        .iter()
        .map(|c| {
            let mut problems = Vec::new();
            (c.run)(guide, &mut problems);
            CheckResult {
                id: c.id,
                label_zh: c.zh,
                label_en: c.en,
                passed: problems.is_empty(),
                problems,
            }
        })
        .collect();
    QualityReport { checks }
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn check_legal_basis(g: &Guide, p: &mut Vec<String>) {
    if g.legal_basis.is_empty() {
        p.push("未填写设定依据".into());
    }
    for (i, l) in g.legal_basis.iter().enumerate() {
        if blank(&l.law) {
            p.push(format!("第{}条设定依据缺少法律法规名称", i + 1));
        }
        if blank(&l.article) {
            p.push(format!("第{}条设定依据缺少条款号", i + 1));
        }
        if blank(&l.text) {
            p.push(format!("第{}条设定依据缺少条款内容", i + 1));
        }
    }
}

fn check_conditions(g: &Guide, p: &mut Vec<String>) {
    if g.conditions.iter().all(|c| blank(c)) {
        p.push("未填写受理条件".into());
    }
}

fn check_materials(g: &Guide, p: &mut Vec<String>) {
    if g.materials.is_empty() {
        p.push("未填写申请材料".into());
    }
    for (i, m) in g.materials.iter().enumerate() {
        if blank(&m.name) {
            p.push(format!("第{}项材料缺少名称", i + 1));
        }
        if m.original == 0 && m.copies == 0 {
            p.push(format!("材料“{}”未写明原件或复印件份数", m.name));
        }
        if !m.required && m.condition.as_deref().is_none_or(blank) {
            p.push(format!("非必要材料“{}”未写明何种情形下需要提交", m.name));
        }
    }
}

/// Whether a text is vague in the sense of the national guide rules.
pub fn is_vague(text: &str) -> bool {
    let t = text
        .trim()
        .trim_end_matches(['。', '；', ';', '.', '）', ')']);
    VAGUE_PHRASES.iter().any(|v| t.contains(v)) || t.ends_with('等')
}

fn check_vague(g: &Guide, p: &mut Vec<String>) {
    for m in &g.materials {
        if is_vague(&m.name) {
            p.push(format!("材料名称含模糊表述：“{}”", m.name));
        }
    }
    for c in &g.conditions {
        if VAGUE_PHRASES.iter().any(|v| c.contains(v)) {
            p.push(format!("受理条件含模糊表述：“{c}”"));
        }
    }
}

fn check_limits(g: &Guide, p: &mut Vec<String>) {
    let immediate = g.case_type == CaseType::Immediate;
    if !immediate && g.promised_limit_days == 0 {
        p.push("承诺件未写明承诺办结时限".into());
    }
    if !immediate && g.statutory_limit_days == 0 {
        p.push("承诺件未写明法定办结时限".into());
    }
    if g.statutory_limit_days > 0 && g.promised_limit_days > g.statutory_limit_days {
        p.push(format!(
            "承诺办结时限（{}个工作日）超过法定办结时限（{}个工作日）",
            g.promised_limit_days, g.statutory_limit_days
        ));
    }
}

fn check_fees(g: &Guide, p: &mut Vec<String>) {
    match &g.fees {
        None => p.push("未写明是否收费".into()),
        Some(fees) => {
            for f in fees {
                if blank(&f.name) || blank(&f.amount) || blank(&f.basis) {
                    p.push(format!("收费项目“{}”缺少名称、标准或依据", f.name));
                }
            }
        }
    }
}

fn check_places(g: &Guide, p: &mut Vec<String>) {
    if g.places.is_empty() {
        p.push("未填写办理地点".into());
    }
    for pl in &g.places {
        if blank(&pl.address) {
            p.push(format!("办理地点“{}”缺少地址", pl.name));
        }
        if blank(&pl.hours) {
            p.push(format!("办理地点“{}”缺少办理时间", pl.name));
        }
    }
}

/// Whether a phone number looks dialable: digits with an optional area code and extension.
pub fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    (5..=20).contains(&digits)
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '(' | ')' | '（' | '）' | '转'))
}

fn check_phones(g: &Guide, p: &mut Vec<String>) {
    if !is_phone(&g.consult_phone) {
        p.push("咨询电话缺失或格式不正确".into());
    }
    if !is_phone(&g.complaint_phone) {
        p.push("监督投诉电话缺失或格式不正确".into());
    }
}

fn check_process(g: &Guide, p: &mut Vec<String>) {
    if g.process.is_empty() {
        p.push("未填写办理流程".into());
    }
    for s in &g.process {
        if blank(&s.name) {
            p.push("办理流程有未命名的环节".into());
        }
    }
}

fn check_result(g: &Guide, p: &mut Vec<String>) {
    if blank(&g.result.name) {
        p.push("未写明办理结果名称".into());
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::dict::*;
    use crate::item::*;

    /// A complete guide that passes every check; tests break one element at a time.
    pub(crate) fn good_guide() -> Guide {
        Guide {
            name: "食品经营许可".into(),
            aliases: vec!["餐饮许可".into()],
            item_type: ItemType::Licensing,
            service_objects: vec![ServiceObject::Enterprise],
            themes: vec!["food_drug".into()],
            legal_basis: vec![LegalBasis {
                law: "《中华人民共和国食品安全法》".into(),
                article: "第三十五条".into(),
                text: "国家对食品生产经营实行许可制度。".into(),
            }],
            conditions: vec!["具有与经营的食品品种、数量相适应的经营场所".into()],
            materials: vec![Material {
                name: "食品经营许可申请书".into(),
                original: 1,
                copies: 0,
                form: MaterialForm::Both,
                required: true,
                condition: None,
                source: "申请人自备".into(),
                note: None,
                blank_form: true,
                sample: true,
            }],
            process: vec![ProcessStep {
                name: "受理".into(),
                description: "窗口受理申请。".into(),
            }],
            statutory_limit_days: 20,
            promised_limit_days: 10,
            fees: Some(vec![]),
            handling_forms: vec![HandlingForm::Window, HandlingForm::Online],
            case_type: CaseType::Promised,
            online_depth: OnlineDepth::FullyOnline,
            visits: 0,
            min_level: crate::identity::RealNameLevel::L2,
            scope: CrossRegionScope::Province,
            result: ItemResult {
                name: "食品经营许可证".into(),
                kind: "证照".into(),
            },
            places: vec![Place {
                name: "长沙市政务服务中心".into(),
                address: "长沙市岳麓区岳麓大道218号".into(),
                hours: "周一至周五 9:00-17:00".into(),
            }],
            consult_phone: "0731-88665000".into(),
            complaint_phone: "12345".into(),
        }
    }

    fn failing(g: &Guide) -> Vec<&'static str> {
        check(g).failures().map(|c| c.id).collect()
    }

    #[test]
    fn a_complete_guide_passes() {
        let r = check(&good_guide());
        assert!(r.passed(), "{r:?}");
        assert_eq!(r.checks.len(), CHECKS.len());
    }

    #[test]
    fn each_missing_element_is_named() {
        let mut g = good_guide();
        g.legal_basis.clear();
        assert_eq!(failing(&g), ["legal_basis"]);

        let mut g = good_guide();
        g.fees = None;
        assert_eq!(failing(&g), ["fees"]);

        let mut g = good_guide();
        g.promised_limit_days = 0;
        assert_eq!(failing(&g), ["time_limits"]);

        let mut g = good_guide();
        g.promised_limit_days = 30;
        assert_eq!(failing(&g), ["time_limits"]);

        let mut g = good_guide();
        g.complaint_phone = "".into();
        assert_eq!(failing(&g), ["phones"]);

        let mut g = good_guide();
        g.places[0].hours = " ".into();
        assert_eq!(failing(&g), ["place_hours"]);

        let mut g = good_guide();
        g.materials[0].original = 0;
        assert_eq!(failing(&g), ["materials"]);
    }

    #[test]
    fn vague_materials_are_refused() {
        for name in [
            "其他材料",
            "根据相关规定需要提交的材料",
            "身份证、户口簿等",
            "营业执照等。",
        ] {
            let mut g = good_guide();
            g.materials[0].name = name.into();
            assert_eq!(failing(&g), ["vague_wording"], "{name}");
        }
        assert!(!is_vague("居民身份证"));
        assert!(!is_vague("等级证书"));
    }

    #[test]
    fn immediate_items_need_no_promise() {
        let mut g = good_guide();
        g.case_type = CaseType::Immediate;
        g.promised_limit_days = 0;
        g.statutory_limit_days = 0;
        assert!(check(&g).passed());
    }

    #[test]
    fn phones() {
        assert!(is_phone("0731-88665000"));
        assert!(is_phone("12345"));
        assert!(is_phone("0731-8866 5000转8001"));
        assert!(!is_phone("请咨询窗口"));
        assert!(!is_phone("123"));
    }
}
