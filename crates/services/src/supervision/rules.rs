//! The rules engine of 电子监察: data in, signals out — no database, no clock, no HTTP.
//!
//! A rule set is versioned configuration (numbered rules, each on or off, with its threshold
//! and the items or regions it covers). Two inputs reach it:
//!
//! - **A case's process records** ([`CaseView`], [`evaluate_records`]), from the platform or
//!   reported by a department's own system: the rules see only the GB/T 39046 fields of each
//!   record (step, handler, action, opinion, time) and the few facts of the case and its item
//!   the irregularity rules need, so where a record came from makes no difference.
//! - **Deadlines** ([`Deadline`], [`evaluate_deadline`]): a case's promised completion or a
//!   step's limit against the current time and the working-day calendar, for 预警, 黄牌 and 红牌.
//!
//! Every [`Hit`] carries a key that names what it is about (rule, case, and the step or
//! record), so that the same facts seen twice — an event replayed, a sweep run again — give
//! the same key and the store keeps one signal.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What kind of signal a rule raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalType {
    /// 预警: a deadline is near.
    Warning,
    /// 黄牌: a step is past its limit.
    Yellow,
    /// 红牌: the case is past its promised limit.
    Red,
    /// 违规: an irregularity in how the case was handled.
    Irregular,
}

impl SignalType {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalType::Warning => "warning",
            SignalType::Yellow => "yellow",
            SignalType::Red => "red",
            SignalType::Irregular => "irregular",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Option<SignalType> {
        [
            SignalType::Warning,
            SignalType::Yellow,
            SignalType::Red,
            SignalType::Irregular,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    /// 预警, 黄牌, 红牌, 违规.
    pub fn label_zh(self) -> &'static str {
        match self {
            SignalType::Warning => "预警",
            SignalType::Yellow => "黄牌",
            SignalType::Red => "红牌",
            SignalType::Irregular => "违规",
        }
    }
}

/// What a rule looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A case's or step's deadline within `days` working days.
    DeadlineWarning,
    /// A step past its limit.
    StepOverdue,
    /// A case past its promised limit.
    CaseOverdue,
    /// 不予受理 or 不予许可 without reasons.
    RefusedWithoutReason,
    /// An application refused although complete at once (no correction asked, every required
    /// material there): a qualifying application refused.
    QualifiedRefused,
    /// Accepted with required materials missing.
    AcceptedIncomplete,
    /// Steps out of order (approval before acceptance, a decision without acceptance, …).
    OutOfOrder,
    /// An item that can be handled wholly online handled at a window.
    OfflineHandling,
    /// A fee charged where the item has none.
    UnauthorisedFee,
}

impl RuleKind {
    /// The signal it raises.
    pub fn signal(self) -> SignalType {
        match self {
            RuleKind::DeadlineWarning => SignalType::Warning,
            RuleKind::StepOverdue => SignalType::Yellow,
            RuleKind::CaseOverdue => SignalType::Red,
            _ => SignalType::Irregular,
        }
    }

    /// What it means, in Chinese.
    pub fn label_zh(self) -> &'static str {
        match self {
            RuleKind::DeadlineWarning => "临近办理时限",
            RuleKind::StepOverdue => "环节超时",
            RuleKind::CaseOverdue => "办件超过承诺时限",
            RuleKind::RefusedWithoutReason => "不予受理或不予许可未说明理由",
            RuleKind::QualifiedRefused => "符合条件的申请不予受理",
            RuleKind::AcceptedIncomplete => "申请材料不齐全即受理",
            RuleKind::OutOfOrder => "办理环节顺序异常",
            RuleKind::OfflineHandling => "可全程网办事项线下办理",
            RuleKind::UnauthorisedFee => "无收费依据收费",
        }
    }
}

/// One rule of a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Its number, e.g. `JC01` (unique in the set).
    pub no: String,
    /// What it looks for.
    pub kind: RuleKind,
    /// On or off.
    #[serde(default = "on")]
    pub enabled: bool,
    /// 预警: working days before the deadline (1 to 10); other rules: 0.
    #[serde(default)]
    pub days: u32,
    /// Only these items (实施编码); empty: every item.
    #[serde(default)]
    pub items: Vec<String>,
    /// Only these regions (区划代码 prefixes: `43`, `4301`, `430104`); empty: everywhere.
    #[serde(default)]
    pub regions: Vec<String>,
}

fn on() -> bool {
    true
}

/// A rule set: every rule the engine applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    /// The rules.
    pub rules: Vec<Rule>,
}

/// A problem with a rule set: the rule (its position) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleProblem {
    /// `rules[i]`, or `rules` for the set.
    pub field: String,
    /// In Chinese.
    pub message_zh: String,
    /// In English.
    pub message_en: String,
}

impl RuleSet {
    /// The platform's rules: every kind once, all on, 预警 one working day before.
    pub fn standard() -> RuleSet {
        let kinds = [
            RuleKind::DeadlineWarning,
            RuleKind::StepOverdue,
            RuleKind::CaseOverdue,
            RuleKind::RefusedWithoutReason,
            RuleKind::QualifiedRefused,
            RuleKind::AcceptedIncomplete,
            RuleKind::OutOfOrder,
            RuleKind::OfflineHandling,
            RuleKind::UnauthorisedFee,
        ];
        RuleSet {
            rules: kinds
                .into_iter()
                .enumerate()
                .map(|(i, kind)| Rule {
                    no: format!("JC{:02}", i + 1),
                    kind,
                    enabled: true,
                    days: u32::from(kind == RuleKind::DeadlineWarning),
                    items: Vec::new(),
                    regions: Vec::new(),
                })
                .collect(),
        }
    }

    /// Checks a rule set: every problem at once.
    pub fn check(&self) -> Result<(), Vec<RuleProblem>> {
        let mut problems = Vec::new();
        let mut nos = HashSet::new();
        let problem = |i: Option<usize>, zh: &str, en: &str| RuleProblem {
            field: i.map_or_else(|| "rules".to_owned(), |i| format!("rules[{i}]")),
            message_zh: zh.to_owned(),
            message_en: en.to_owned(),
        };
        if self.rules.is_empty() || self.rules.len() > 100 {
            problems.push(problem(
                None,
                "规则集须有1至100条规则",
                "a rule set has 1 to 100 rules",
            ));
        }
        for (i, r) in self.rules.iter().enumerate() {
            let no_ok = (2..=20).contains(&r.no.len())
                && r.no.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !no_ok || !nos.insert(r.no.clone()) {
                problems.push(problem(
                    Some(i),
                    "规则编号须为2至20位字母、数字或连字符，且不重复",
                    "a rule number is 2 to 20 letters, digits or hyphens, and unique",
                ));
            }
            match (r.kind, r.days) {
                (RuleKind::DeadlineWarning, 1..=10) => {}
                (RuleKind::DeadlineWarning, _) => problems.push(problem(
                    Some(i),
                    "预警须在时限前1至10个工作日",
                    "a warning comes 1 to 10 working days before the deadline",
                )),
                (_, 0) => {}
                (_, _) => problems.push(problem(
                    Some(i),
                    "只有预警规则设工作日数",
                    "only warning rules have a number of days",
                )),
            }
            if r.items.iter().any(|c| c.trim().is_empty() || c.len() > 40) {
                problems.push(problem(
                    Some(i),
                    "事项须为实施编码",
                    "items are implementation codes",
                ));
            }
            let region_ok = |c: &String| {
                (2..=9).contains(&c.len())
                    && c.len().is_multiple_of(2)
                    && c.bytes().all(|b| b.is_ascii_digit())
            };
            if !r.regions.iter().all(region_ok) {
                problems.push(problem(
                    Some(i),
                    "区划须为2、4、6或8位数字的区划代码前缀",
                    "regions are code prefixes of 2, 4, 6 or 8 digits",
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The enabled rules of `kind` that cover the item in the region.
    pub fn covering<'a>(
        &'a self,
        kind: RuleKind,
        item: &'a str,
        region: &'a str,
    ) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules.iter().filter(move |r| {
            r.enabled
                && r.kind == kind
                && (r.items.is_empty() || r.items.iter().any(|i| i == item))
                && (r.regions.is_empty() || r.regions.iter().any(|p| region.starts_with(p)))
        })
    }
}

/// One process record (办件过程信息) as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its position in the case's records.
    pub seq: i64,
    /// 环节名称: 申请, 受理, 不予受理, 补正告知, 承办, 审核, 批准, 办结, 送达, ….
    pub step: String,
    /// 处理动作 code: `1` 通过, `2` 退回 (不予受理, 补正, 不予许可), `9` 其他.
    pub action: String,
    /// 处理意见.
    pub opinion: String,
    /// The handler's id.
    pub handler_id: String,
    /// When the step ended.
    pub at: DateTime<Utc>,
    /// A fee charged at this step, in fen (reported by a department system).
    pub fee_fen: Option<i64>,
}

/// A case as the record rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseView {
    /// Case id.
    pub case_id: String,
    /// 实施编码.
    pub item_code: String,
    /// The handling organisation's region code.
    pub region: String,
    /// Applied at a window (not online).
    pub at_window: bool,
    /// The item can be handled wholly online (全程网办).
    pub item_fully_online: bool,
    /// The item charges fees.
    pub item_charged: bool,
    /// Required materials that had no file when the window decided on the application
    /// (accepted or refused it), by name.
    pub missing_at_accept: Vec<String>,
    /// Its records, in order.
    pub records: Vec<Record>,
}

/// A rule's finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The rule's number.
    pub rule_no: String,
    /// The rule's kind.
    pub kind: RuleKind,
    /// What it is about, the same however often it is found: rule, case and step or record.
    pub key: String,
    /// The step it is about.
    pub step: String,
    /// The person responsible, when known (the handler).
    pub person: Option<String>,
    /// What was found, in Chinese.
    pub detail: String,
    /// When it happened (the record's time or the deadline passed).
    pub at: DateTime<Utc>,
}

/// Where a step sits in a case's life: 1 application, 2 acceptance, 3 approval, 4 decision,
/// 5 delivery; `None` for steps that may come at any time (corrections resubmitted, special
/// procedures, extensions, withdrawal) or are unknown.
fn stage(step: &str) -> Option<u8> {
    match step {
        "申请" => Some(1),
        "受理" | "不予受理" | "补正告知" => Some(2),
        "办结" => Some(4),
        "送达" => Some(5),
        "补正提交" | "特别程序开始" | "特别程序结束" | "申请延长审批" | "延长审批" | "撤回申请" => {
            None
        }
        _ => Some(3),
    }
}

fn is_refusal(r: &Record) -> bool {
    r.step == "不予受理" || (r.step == "办结" && r.action == "2")
}

/// The findings of the record rules for a case (see [`RuleKind`]).
pub fn evaluate_records(rules: &RuleSet, c: &CaseView) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut hit = |rule: &Rule, what: &str, r: &Record, detail: String| {
        hits.push(Hit {
            rule_no: rule.no.clone(),
            kind: rule.kind,
            key: format!("{}:{}:{what}", rule.no, c.case_id),
            step: r.step.clone(),
            person: (!r.handler_id.is_empty()).then(|| r.handler_id.clone()),
            detail,
            at: r.at,
        });
    };
    let covering = |kind| rules.covering(kind, &c.item_code, &c.region);
    for r in c.records.iter().filter(|r| is_refusal(r)) {
        if r.opinion.trim().chars().count() < 2 {
            for rule in covering(RuleKind::RefusedWithoutReason) {
                hit(
                    rule,
                    &r.seq.to_string(),
                    r,
                    format!("“{}”未说明理由", r.step),
                );
            }
        }
    }
    // Refused at acceptance although nothing was asked to be corrected and nothing missing.
    let corrected = c.records.iter().any(|r| r.step == "补正告知");
    if let Some(r) = c.records.iter().find(|r| r.step == "不予受理")
        && !corrected
        && c.missing_at_accept.is_empty()
    {
        for rule in covering(RuleKind::QualifiedRefused) {
            hit(
                rule,
                &r.seq.to_string(),
                r,
                "材料齐全且未要求补正，但不予受理".into(),
            );
        }
    }
    if let Some(r) = c.records.iter().find(|r| r.step == "受理")
        && !c.missing_at_accept.is_empty()
    {
        for rule in covering(RuleKind::AcceptedIncomplete) {
            hit(
                rule,
                "accept",
                r,
                format!("受理时缺少：{}", c.missing_at_accept.join("、")),
            );
        }
    }
    // Out of order: a step of an earlier stage after a later one, or approval, a decision or
    // delivery without acceptance.
    let mut highest = 0u8;
    let mut accepted = false;
    for r in &c.records {
        let Some(s) = stage(&r.step) else { continue };
        let wrong = if s < highest && !(s == 2 && highest == 2) {
            Some(format!("“{}”出现在后续环节之后", r.step))
        } else if s >= 3 && !accepted && !(s == 4 && is_refusal(r)) {
            Some(format!("未受理即“{}”", r.step))
        } else {
            None
        };
        if let Some(detail) = wrong {
            for rule in covering(RuleKind::OutOfOrder) {
                hit(rule, &r.seq.to_string(), r, detail.clone());
            }
        }
        accepted |= r.step == "受理";
        highest = highest.max(s);
    }
    if c.at_window
        && c.item_fully_online
        && let Some(r) = c.records.first()
    {
        for rule in covering(RuleKind::OfflineHandling) {
            hit(rule, "channel", r, "可全程网办的事项在窗口办理".into());
        }
    }
    if !c.item_charged {
        for r in c
            .records
            .iter()
            .filter(|r| r.fee_fen.is_some_and(|f| f > 0))
        {
            for rule in covering(RuleKind::UnauthorisedFee) {
                let fen = r.fee_fen.unwrap_or(0);
                hit(
                    rule,
                    &r.seq.to_string(),
                    r,
                    format!("收取费用 {}.{:02} 元，事项不收费", fen / 100, fen % 100),
                );
            }
        }
    }
    hits
}

/// A deadline the sweep looks at: a case's promised completion or an open step's limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// Case id.
    pub case_id: String,
    /// `None`: the case's promised limit; `Some(step)`: a step (its task id and name).
    pub step: Option<(String, String)>,
    /// 实施编码.
    pub item_code: String,
    /// Region code.
    pub region: String,
    /// The person responsible (the step's assignee), when known.
    pub person: Option<String>,
    /// When it falls due.
    pub due_at: DateTime<Utc>,
}

/// The deadline findings at `now`: 红牌 or 黄牌 once past, 预警 when within a rule's working
/// days (`working_days_left` counts the working days from now to the deadline, as the
/// calendar says).
pub fn evaluate_deadline(
    rules: &RuleSet,
    d: &Deadline,
    now: DateTime<Utc>,
    working_days_left: impl Fn(DateTime<Utc>) -> i64,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    let (what, step_name) = match &d.step {
        Some((id, name)) => (format!("step:{id}"), name.clone()),
        None => ("case".to_owned(), "承诺时限".to_owned()),
    };
    let mut hit = |rule: &Rule, detail: String, at: DateTime<Utc>| {
        hits.push(Hit {
            rule_no: rule.no.clone(),
            kind: rule.kind,
            key: format!("{}:{}:{what}", rule.no, d.case_id),
            step: step_name.clone(),
            person: d.person.clone(),
            detail,
            at,
        });
    };
    if now > d.due_at {
        let kind = if d.step.is_some() {
            RuleKind::StepOverdue
        } else {
            RuleKind::CaseOverdue
        };
        for rule in rules.covering(kind, &d.item_code, &d.region) {
            hit(rule, format!("“{step_name}”已超过时限"), d.due_at);
        }
    } else {
        let left = working_days_left(d.due_at);
        for rule in rules.covering(RuleKind::DeadlineWarning, &d.item_code, &d.region) {
            if left <= i64::from(rule.days) {
                hit(
                    rule,
                    format!("“{step_name}”距时限不足{}个工作日", rule.days),
                    now,
                );
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use proptest::prelude::*;

    fn t(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).unwrap()
    }

    fn rec(seq: i64, step: &str, action: &str, opinion: &str) -> Record {
        Record {
            seq,
            step: step.into(),
            action: action.into(),
            opinion: opinion.into(),
            handler_id: format!("h{seq}"),
            at: t(seq),
            fee_fen: None,
        }
    }

    fn case(records: Vec<Record>) -> CaseView {
        CaseView {
            case_id: "c1".into(),
            item_code: "ITEM".into(),
            region: "430104".into(),
            at_window: false,
            item_fully_online: false,
            item_charged: false,
            missing_at_accept: Vec::new(),
            records,
        }
    }

    fn kinds(hits: &[Hit]) -> Vec<RuleKind> {
        hits.iter().map(|h| h.kind).collect()
    }

    #[test]
    fn a_regular_case_raises_nothing() {
        let c = case(vec![
            rec(1, "申请", "9", ""),
            rec(2, "受理", "1", "材料齐全"),
            rec(3, "承办", "1", "同意"),
            rec(4, "审核", "1", "同意"),
            rec(5, "批准", "1", "同意"),
            rec(6, "办结", "1", "准予许可"),
            rec(7, "送达", "9", ""),
        ]);
        assert_eq!(evaluate_records(&RuleSet::standard(), &c), vec![]);
    }

    #[test]
    fn each_irregularity_is_found_once_with_its_rule() {
        let rules = RuleSet::standard();
        let c = case(vec![rec(1, "申请", "9", ""), rec(2, "不予受理", "2", "")]);
        assert_eq!(
            kinds(&evaluate_records(&rules, &c)),
            [RuleKind::RefusedWithoutReason, RuleKind::QualifiedRefused]
        );
        let mut c = case(vec![
            rec(1, "申请", "9", ""),
            rec(2, "补正告知", "2", "缺身份证"),
            rec(3, "不予受理", "2", "逾期未补正"),
        ]);
        assert_eq!(evaluate_records(&rules, &c), vec![]);
        c.records = vec![rec(1, "申请", "9", ""), rec(2, "受理", "1", "")];
        c.missing_at_accept = vec!["身份证".into()];
        let hits = evaluate_records(&rules, &c);
        assert_eq!(kinds(&hits), [RuleKind::AcceptedIncomplete]);
        assert!(hits[0].detail.contains("身份证"));
        assert_eq!(hits[0].person.as_deref(), Some("h2"));
        let c = case(vec![rec(1, "申请", "9", ""), rec(2, "批准", "1", "同意")]);
        assert_eq!(kinds(&evaluate_records(&rules, &c)), [RuleKind::OutOfOrder]);
        let c = case(vec![
            rec(1, "申请", "9", ""),
            rec(2, "受理", "1", ""),
            rec(3, "办结", "1", ""),
            rec(4, "审核", "1", ""),
        ]);
        assert_eq!(kinds(&evaluate_records(&rules, &c)), [RuleKind::OutOfOrder]);
        let mut c = case(vec![rec(1, "申请", "9", ""), rec(2, "受理", "1", "")]);
        c.at_window = true;
        c.item_fully_online = true;
        c.records[1].fee_fen = Some(5_000);
        assert_eq!(
            kinds(&evaluate_records(&rules, &c)),
            [RuleKind::OfflineHandling, RuleKind::UnauthorisedFee]
        );
        c.item_charged = true;
        c.at_window = false;
        assert_eq!(evaluate_records(&rules, &c), vec![]);
    }

    #[test]
    fn rules_off_or_scoped_elsewhere_raise_nothing() {
        let mut rules = RuleSet::standard();
        let c = case(vec![rec(1, "申请", "9", ""), rec(2, "不予受理", "2", "")]);
        for r in &mut rules.rules {
            r.enabled = r.kind != RuleKind::RefusedWithoutReason;
            if r.kind == RuleKind::QualifiedRefused {
                r.regions = vec!["4303".into()];
            }
        }
        assert_eq!(evaluate_records(&rules, &c), vec![]);
        rules.rules[4].regions = vec!["4301".into()];
        assert_eq!(
            kinds(&evaluate_records(&rules, &c)),
            [RuleKind::QualifiedRefused]
        );
    }

    #[test]
    fn deadlines_give_warning_then_yellow_or_red() {
        let rules = RuleSet::standard();
        let d = Deadline {
            case_id: "c1".into(),
            step: None,
            item_code: "ITEM".into(),
            region: "430104".into(),
            person: None,
            due_at: t(100),
        };
        // Three working days left: nothing; one: 预警; past: 红牌.
        assert_eq!(evaluate_deadline(&rules, &d, t(0), |_| 3), vec![]);
        let w = evaluate_deadline(&rules, &d, t(90), |_| 1);
        assert_eq!(kinds(&w), [RuleKind::DeadlineWarning]);
        let r = evaluate_deadline(&rules, &d, t(101), |_| 0);
        assert_eq!(kinds(&r), [RuleKind::CaseOverdue]);
        assert_eq!(r[0].key, "JC03:c1:case");
        let step = Deadline {
            step: Some(("task-9".into(), "审核".into())),
            ..d
        };
        let y = evaluate_deadline(&rules, &step, t(101), |_| 0);
        assert_eq!(kinds(&y), [RuleKind::StepOverdue]);
        assert_eq!(y[0].key, "JC02:c1:step:task-9");
    }

    #[test]
    fn impossible_rule_sets_are_refused_with_every_problem() {
        let mut rules = RuleSet::standard();
        rules.rules[0].days = 0;
        rules.rules[1].days = 3;
        rules.rules[2].no = rules.rules[3].no.clone();
        rules.rules[5].regions = vec!["43a".into()];
        let problems = rules.check().unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["rules[0]", "rules[1]", "rules[3]", "rules[5]"]);
        assert!(RuleSet { rules: vec![] }.check().is_err());
        assert!(RuleSet::standard().check().is_ok());
    }

    fn any_step() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "申请",
            "受理",
            "不予受理",
            "补正告知",
            "补正提交",
            "承办",
            "审核",
            "批准",
            "办结",
            "送达",
            "特别程序开始",
            "特别程序结束",
            "撤回申请",
        ])
        .prop_map(str::to_owned)
    }

    proptest! {
        /// The same records give the same findings, each key once: replaying never duplicates.
        #[test]
        fn findings_are_deterministic_and_keys_unique(
            steps in prop::collection::vec((any_step(), prop::sample::select(vec!["1", "2", "9"]), ".{0,3}"), 0..12),
            window in any::<bool>(), online in any::<bool>(), missing in any::<bool>(),
        ) {
            let mut c = case(steps.iter().enumerate().map(|(i, (s, a, o))| {
                rec(i64::try_from(i).unwrap() + 1, s, a, o)
            }).collect());
            c.at_window = window;
            c.item_fully_online = online;
            if missing { c.missing_at_accept = vec!["材料".into()]; }
            let rules = RuleSet::standard();
            let a = evaluate_records(&rules, &c);
            prop_assert_eq!(&a, &evaluate_records(&rules, &c));
            let keys: HashSet<&str> = a.iter().map(|h| h.key.as_str()).collect();
            prop_assert_eq!(keys.len(), a.len());
        }
    }
}
