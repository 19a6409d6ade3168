//! 监察规则 and 平台时钟: the rule set in force (supervisors read it, system administrators save
//! a new version with a note) with its versions, and the platform's clock — on a server
//! started with `serve --simulated-clock`, the form that moves it forward and runs the sweep.
//!
//! The rules form has one numbered row per rule, `rules[i][no|kind|enabled|days|items|
//! regions]` (items and regions separated by spaces, commas or new lines; a row with neither
//! number nor kind is dropped, so the spare row at the end adds a rule), and `note`. A form
//! with mistakes — a number that is not one, an unknown kind, or what
//! `RuleSet::check` finds impossible — is shown again with every problem marked on its row
//! and nothing saved (422).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_services::identity::staff::Role;
use yiwang_services::supervision::rules::{Rule, RuleKind, RuleSet};
use yiwang_services::supervision::{self, signals};
use yiwang_services::{FieldError, ServiceError};

use super::supervision::rule_kind;
use super::{AdminForm, chrome, field_messages, local_time, local_time_secs, see_other};
use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

/// Every rule kind, in the standard set's order.
const KINDS: [RuleKind; 9] = [
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

/// The stored code of a rule kind.
fn kind_code(k: RuleKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// One row of the rules form, as posted or as stored.
#[derive(Debug, Clone, Default)]
struct RuleRow {
    no: String,
    kind: String,
    enabled: bool,
    days: String,
    items: String,
    regions: String,
    /// Its problems, in the page language.
    error: Option<String>,
}

impl RuleRow {
    fn of(r: &Rule) -> RuleRow {
        RuleRow {
            no: r.no.clone(),
            kind: kind_code(r.kind),
            enabled: r.enabled,
            days: r.days.to_string(),
            items: r.items.join(" "),
            regions: r.regions.join(" "),
            error: None,
        }
    }

    fn is_blank(&self) -> bool {
        self.no.trim().is_empty() && self.kind.trim().is_empty()
    }
}

/// A rule as the table shows it.
struct RuleLine {
    no: String,
    name: &'static str,
    signal: &'static str,
    enabled: bool,
    days: u32,
    items: String,
    regions: String,
}

fn lines(lang: Lang, set: &RuleSet) -> Vec<RuleLine> {
    set.rules
        .iter()
        .map(|r| RuleLine {
            no: r.no.clone(),
            name: r.kind.label_zh(),
            signal: super::supervision::type_label(lang, r.kind.signal().as_str()),
            enabled: r.enabled,
            days: r.days,
            items: if r.items.is_empty() {
                lang.t("全部事项", "every item").to_owned()
            } else {
                r.items.join("、")
            },
            regions: if r.regions.is_empty() {
                lang.t("全部区划", "everywhere").to_owned()
            } else {
                r.regions.join("、")
            },
        })
        .collect()
}

/// A saved version as the list shows it.
struct VersionLine {
    version: i64,
    created_at: String,
    created_by: String,
    note: String,
    rules: Vec<RuleLine>,
}

#[derive(Template)]
#[template(path = "admin/supervision_rules.html")]
struct RulesPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    version: i64,
    rules: Vec<RuleLine>,
    versions: Vec<VersionLine>,
    may_edit: bool,
    /// The form's rows (the set in force and a spare row, or what was posted).
    rows: Vec<RuleRow>,
    note: String,
    note_error: Option<String>,
    /// Every problem, for the summary.
    errors: Vec<String>,
    kinds: Vec<(String, &'static str)>,
}

/// A refused rules form: its rows with their problems, the note, and every problem.
struct Refused {
    rows: Vec<RuleRow>,
    note: String,
    note_error: Option<String>,
    errors: Vec<String>,
}

async fn rules_page(
    s: &Shared,
    session: &StaffSession,
    done: Option<&str>,
    posted: Option<Refused>,
) -> Result<RulesPage, PageError> {
    let lang = session.lang;
    supervision::may_supervise(&session.staff).map_err(|e| session.err(e))?;
    let (version, set) = supervision::current_rules(&s.platform)
        .await
        .map_err(|e| session.err(e))?;
    let versions = supervision::rule_versions(&s.platform)
        .await
        .map_err(|e| session.err(e))?
        .into_iter()
        .map(|v| VersionLine {
            version: v.version,
            created_at: local_time(&v.created_at),
            created_by: v.created_by,
            note: v.note,
            rules: lines(lang, &v.rules),
        })
        .collect();
    let Refused {
        rows,
        note,
        note_error,
        errors,
    } = posted.unwrap_or_else(|| {
        let mut rows: Vec<RuleRow> = set.rules.iter().map(RuleRow::of).collect();
        rows.push(RuleRow::default());
        Refused {
            rows,
            note: String::new(),
            note_error: None,
            errors: Vec::new(),
        }
    });
    Ok(RulesPage {
        chrome: chrome(session, lang.t("监察规则", "Supervision rules")),
        notice: match done {
            Some("rules_saved") => Some(lang.t(
                "已保存为新版本，立即生效。",
                "Saved as a new version, in force now.",
            )),
            _ => None,
        },
        version,
        rules: lines(lang, &set),
        versions,
        may_edit: signals::may_configure_rules(&session.staff).is_ok(),
        rows,
        note,
        note_error,
        errors,
        kinds: KINDS
            .iter()
            .map(|k| (kind_code(*k), k.label_zh()))
            .collect(),
    })
}

/// `GET /admin/supervision/rules`.
pub(crate) async fn rules(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<super::DoneQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let page = rules_page(&s, &session, q.done.as_deref(), None).await?;
    Ok(html(StatusCode::OK, &page))
}

/// The rows of a posted form by index (`rules[3][days]`), in order.
fn posted_rows(f: &[(String, String)]) -> Vec<RuleRow> {
    let mut rows: std::collections::BTreeMap<usize, RuleRow> = Default::default();
    for (k, v) in f {
        let Some(rest) = k.strip_prefix("rules[") else {
            continue;
        };
        let Some((i, rest)) = rest.split_once("][") else {
            continue;
        };
        let (Ok(i), Some(field)) = (i.parse::<usize>(), rest.strip_suffix(']')) else {
            continue;
        };
        if i >= 200 {
            continue;
        }
        let row = rows.entry(i).or_default();
        match field {
            "no" => row.no = v.trim().to_owned(),
            "kind" => row.kind = v.trim().to_owned(),
            "enabled" => row.enabled = v == "1",
            "days" => row.days = v.trim().to_owned(),
            "items" => row.items = v.trim().to_owned(),
            "regions" => row.regions = v.trim().to_owned(),
            _ => {}
        }
    }
    rows.into_values().collect()
}

/// Codes separated by spaces, commas (also 、，) or new lines.
fn codes(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；'))
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The rule set of the form's rows, with the problems of each row (by row index) that stop it
/// from being read; blank rows dropped. Also returns which row each rule came from.
fn read_rows(rows: &[RuleRow]) -> (RuleSet, Vec<usize>, Vec<(usize, FieldError)>) {
    let mut set = RuleSet { rules: Vec::new() };
    let mut from = Vec::new();
    let mut problems = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if r.is_blank() {
            continue;
        }
        let field = format!("rules[{i}]");
        let kind = match rule_kind(&r.kind) {
            Some(k) => k,
            None => {
                problems.push((
                    i,
                    FieldError::new(&field, "请选择规则类型", "choose what the rule looks for"),
                ));
                RuleKind::OutOfOrder
            }
        };
        let days = if r.days.is_empty() {
            0
        } else {
            match r.days.parse::<u32>() {
                Ok(d) => d,
                Err(_) => {
                    problems.push((
                        i,
                        FieldError::new(
                            &field,
                            format!("工作日数“{}”须为0或正整数", r.days),
                            format!("days “{}” is not a whole number", r.days),
                        ),
                    ));
                    // Read as a possible number so that the other checks still run.
                    if kind == RuleKind::DeadlineWarning {
                        1
                    } else {
                        0
                    }
                }
            }
        };
        from.push(i);
        set.rules.push(Rule {
            no: r.no.clone(),
            kind,
            enabled: r.enabled,
            days,
            items: codes(&r.items),
            regions: codes(&r.regions),
        });
    }
    (set, from, problems)
}

/// `POST /admin/supervision/rules`: `csrf`, `note`, `rules[i][no|kind|enabled|days|items|
/// regions]`.
pub(crate) async fn save(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(f): AdminForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    session.check_csrf(super::cases::field(&f, "csrf"))?;
    // Who may save is decided before the form is read: a refusal never shows the form's
    // problems.
    signals::may_configure_rules(&session.staff).map_err(|e| session.err(e))?;
    let mut rows = posted_rows(&f);
    let note = super::cases::field(&f, "note").to_owned();
    let (set, from, mut problems) = read_rows(&rows);
    // The rest of what is wrong, all at once: the set's checks (on what could be read) and
    // the note.
    if let Err(ps) = set.check() {
        for p in ps {
            let at = p
                .field
                .strip_prefix("rules[")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.parse::<usize>().ok())
                .and_then(|i| from.get(i).copied());
            let field = at.map_or_else(|| "rules".to_owned(), |i| format!("rules[{i}]"));
            problems.push((
                at.unwrap_or(usize::MAX),
                FieldError::new(&field, p.message_zh, p.message_en),
            ));
        }
    }
    let note_error = (note.trim().is_empty() || note.trim().chars().count() > 500).then(|| {
        lang.t(
            "请说明这次修改（1至500字）",
            "say what changed (1 to 500 characters)",
        )
        .to_owned()
    });
    if problems.is_empty() && note_error.is_none() {
        match supervision::save_rules(&s.platform, &session.staff, set, &note).await {
            Ok(_) => return Ok(see_other("/admin/supervision/rules?done=rules_saved")),
            Err(ServiceError::Invalid(errs)) => {
                for e in errs {
                    problems.push((usize::MAX, e));
                }
            }
            Err(e) => return Err(session.err(e)),
        }
    }
    let mut summary = Vec::new();
    for (i, e) in &problems {
        let msg = lang.t(&e.message_zh, &e.message_en).to_owned();
        match rows.get_mut(*i) {
            Some(row) => {
                summary.push(format!("{}{}：{msg}", lang.t("第", "Row "), i + 1));
                row.error = Some(match row.error.take() {
                    Some(before) => format!("{before}；{msg}"),
                    None => msg,
                });
            }
            None => summary.push(msg),
        }
    }
    if let Some(e) = &note_error {
        summary.push(e.clone());
    }
    if rows.last().is_none_or(|r| !r.is_blank()) {
        rows.push(RuleRow::default());
    }
    let page = rules_page(
        &s,
        &session,
        None,
        Some(Refused {
            rows,
            note,
            note_error,
            errors: summary,
        }),
    )
    .await?;
    Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

// ---------------------------------------------------------------------------------------------
// The clock
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/supervision_clock.html")]
struct ClockPage {
    chrome: Chrome,
    notice: Option<String>,
    now: String,
    simulated: bool,
    /// How far ahead of the system clock, in words.
    ahead: String,
    may_move: bool,
    days: String,
    hours: String,
    errors: Vec<(String, String)>,
}

impl ClockPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// `GET /admin/supervision/clock` query: what the last move did.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ClockQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    signals: Option<u64>,
    #[serde(default)]
    deadlines: Option<u64>,
}

fn clock_page(
    s: &Shared,
    session: &StaffSession,
    notice: Option<String>,
    (days, hours): (String, String),
    errors: Vec<(String, String)>,
) -> Result<ClockPage, PageError> {
    let lang = session.lang;
    supervision::may_supervise(&session.staff).map_err(|e| session.err(e))?;
    let sim = s.platform.simulated_clock();
    let ahead = sim.map(|c| c.offset()).unwrap_or_default();
    Ok(ClockPage {
        chrome: chrome(session, lang.t("平台时钟", "Platform clock")),
        notice,
        now: local_time_secs(&yiwang_store::fmt_time(s.platform.now())),
        simulated: sim.is_some(),
        ahead: format!(
            "{}{}{}{}{}",
            lang.t("比系统时间快 ", "ahead of the system clock by "),
            ahead.num_days(),
            lang.t(" 天 ", " days "),
            ahead.num_hours() - ahead.num_days() * 24,
            lang.t(" 小时", " hours"),
        ),
        may_move: sim.is_some() && session.staff.has(Role::SystemAdmin),
        days,
        hours,
        errors,
    })
}

/// `GET /admin/supervision/clock`.
pub(crate) async fn clock(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<ClockQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let q = super::query(q, lang)?;
    let notice = (q.done.as_deref() == Some("clock_moved")).then(|| {
        format!(
            "{}{}{}{}{}",
            lang.t(
                "时钟已前进，监察扫描已运行：检查时限 ",
                "The clock moved and the sweep ran: "
            ),
            q.deadlines.unwrap_or(0),
            lang.t(" 个，新发出信号 ", " deadlines looked at, "),
            q.signals.unwrap_or(0),
            lang.t(" 条。", " new signals."),
        )
    });
    let page = clock_page(&s, &session, notice, ("0".into(), "0".into()), Vec::new())?;
    Ok(html(StatusCode::OK, &page))
}

/// The clock form.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ClockForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    hours: String,
}

/// `POST /admin/supervision/clock`: `csrf`, `days`, `hours` (whole numbers; empty is 0).
pub(crate) async fn advance(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(f): AdminForm<ClockForm>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    session.check_csrf(&f.csrf)?;
    let number = |field: &str, v: &str| -> Result<i64, FieldError> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(0);
        }
        v.parse::<i64>().map_err(|_| {
            FieldError::new(
                field,
                format!("“{v}”不是整数"),
                format!("“{v}” is not a whole number"),
            )
        })
    };
    let (days, hours) = (number("days", &f.days), number("hours", &f.hours));
    let result = match (days, hours) {
        (Ok(d), Ok(h)) => supervision::advance_clock(&s.platform, &session.staff, d, h).await,
        (d, h) => {
            // Who may move the clock, and whether it can move, come before the form's problems.
            if !session.staff.has(Role::SystemAdmin) || s.platform.simulated_clock().is_none() {
                supervision::advance_clock(&s.platform, &session.staff, 0, 0).await
            } else {
                Err(ServiceError::Invalid(
                    [d.err(), h.err()].into_iter().flatten().collect(),
                ))
            }
        }
    };
    match result {
        Ok(run) => Ok(see_other(&format!(
            "/admin/supervision/clock?done=clock_moved&signals={}&deadlines={}",
            run.signals, run.deadlines
        ))),
        Err(ServiceError::Invalid(errs)) => {
            let page = clock_page(
                &s,
                &session,
                None,
                (f.days, f.hours),
                field_messages(lang, &errs),
            )?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}
