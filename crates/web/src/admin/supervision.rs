//! 电子监察看板: the supervisor's board of their region (system administrators: the province),
//! as `supervision::signals::board` counts it — each organisation's open cases in time, warned,
//! overdue and paused, and its open irregularities — grouped by the child regions of the region
//! shown (each a link that narrows the board to it, `?region=430100`), then by organisation,
//! with the follow-up rate of real-name bad ratings this quarter
//! (`supervision::ratings::follow_up`) and the open and appealed signals under it.
//!
//! Every count of an organisation links to the drill-down (`/admin/supervision/cases?org=…
//! &state=…`): that organisation's open cases in that state, each linking to the staff case
//! page with its timeline and signals. The numbers refresh in place: `/static/board.js` polls
//! `board.json` (the same counts, keyed as the page's `data-count` attributes, read with the
//! session cookie) every 15 seconds and says "已更新 HH:MM:SS" in a polite live region. Without
//! JavaScript the page reloads itself every 30 seconds (`<meta refresh>` inside `<noscript>`).
//!
//! The pages of signals, supervision orders, rules and the clock are in
//! [`super::supervision_signals`] and [`super::supervision_rules`].

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use yiwang_services::ServiceError;
use yiwang_services::identity::staff::Staff;
use yiwang_services::masterdata::MasterData;
use yiwang_services::supervision::rules::{RuleKind, SignalType};
use yiwang_services::supervision::signals::{
    self, BoardRow, BoardState, Reach, SignalQuery, region_prefix,
};

use super::{chrome, local_time};
use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

/// A signal type in the page language.
pub(crate) fn type_label(lang: Lang, code: &str) -> &'static str {
    match SignalType::parse(code) {
        Some(t) => lang.t(
            t.label_zh(),
            match t {
                SignalType::Warning => "warning",
                SignalType::Yellow => "yellow card",
                SignalType::Red => "red card",
                SignalType::Irregular => "irregularity",
            },
        ),
        None => "",
    }
}

/// The tag class of a signal type.
pub(crate) fn type_class(code: &str) -> &'static str {
    match code {
        "red" | "irregular" => "bad",
        "yellow" | "warning" => "warn",
        _ => "",
    }
}

/// A signal status in the page language.
pub(crate) fn status_label(lang: Lang, status: &str) -> &'static str {
    match status {
        "open" => lang.t("未处理", "open"),
        "appealed" => lang.t("申诉中", "appealed"),
        "withdrawn" => lang.t("已撤销", "withdrawn"),
        "upheld" => lang.t("已维持", "upheld"),
        _ => "",
    }
}

/// A rule kind by its stored code.
pub(crate) fn rule_kind(code: &str) -> Option<RuleKind> {
    serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
}

/// What a rule kind looks for, in Chinese (the stored code when unknown).
pub(crate) fn kind_label(code: &str) -> String {
    rule_kind(code).map_or_else(|| code.to_owned(), |k| k.label_zh().to_owned())
}

/// An organisation's name from the master data (its code when unknown).
pub(crate) fn org_name(master: &MasterData, code: &str) -> String {
    master
        .organisation(code)
        .map_or_else(|| code.to_owned(), |o| o.name.clone())
}

/// The reach in words.
pub(crate) fn reach_label(lang: Lang, master: &MasterData, actor: &Staff) -> String {
    match Reach::of(actor) {
        Reach::All => lang.t("全省", "the whole province").to_owned(),
        Reach::Region(_) => master.region_name(&actor.region),
        Reach::Org(o) => org_name(master, &o),
    }
}

/// The five counts of a row or a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    in_time: i64,
    warned: i64,
    overdue: i64,
    paused: i64,
    irregular: i64,
}

impl Counts {
    fn of(r: &BoardRow) -> Counts {
        Counts {
            in_time: r.in_time,
            warned: r.warned,
            overdue: r.overdue,
            paused: r.paused,
            irregular: r.irregular,
        }
    }

    fn add(&mut self, o: Counts) {
        self.in_time += o.in_time;
        self.warned += o.warned;
        self.overdue += o.overdue;
        self.paused += o.paused;
        self.irregular += o.irregular;
    }

    /// (state code, count), in the board's column order.
    fn cells(&self) -> [(&'static str, i64); 5] {
        [
            ("in_time", self.in_time),
            ("warned", self.warned),
            ("overdue", self.overdue),
            ("paused", self.paused),
            ("irregular", self.irregular),
        ]
    }
}

/// A child region of the region shown, its organisations' counts summed.
struct RegionGroup {
    /// Its code; empty for the organisations of the region shown itself (本级).
    code: String,
    name: String,
    counts: Counts,
}

/// An organisation's row.
struct OrgRow {
    org: String,
    name: String,
    region_name: String,
    counts: Counts,
}

/// The board of one region, as the page and `board.json` show it.
struct Board {
    /// The region shown (`None`: every province, for system administrators).
    region: Option<String>,
    region_name: String,
    /// Up one level, when that is still within reach.
    parent: Option<(String, String)>,
    totals: Counts,
    groups: Vec<RegionGroup>,
    orgs: Vec<OrgRow>,
}

impl Board {
    /// Every count by the key of its `data-count` attribute: `t:<state>` the totals,
    /// `r:<code>:<state>` a region group (`r::<state>` 本级), `o:<org>:<state>` an organisation.
    fn counts(&self) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for (state, n) in self.totals.cells() {
            out.insert(format!("t:{state}"), n);
        }
        for g in &self.groups {
            for (state, n) in g.counts.cells() {
                out.insert(format!("r:{}:{state}", g.code), n);
            }
        }
        for o in &self.orgs {
            for (state, n) in o.counts.cells() {
                out.insert(format!("o:{}:{state}", o.org), n);
            }
        }
        out
    }
}

/// `?region=` of the board.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct BoardQuery {
    /// A region code within reach (`430100`).
    #[serde(default)]
    region: Option<String>,
}

/// Whether a region is within the actor's reach.
fn region_in_reach(actor: &Staff, code: &str) -> bool {
    match Reach::of(actor) {
        Reach::All => true,
        Reach::Region(p) => region_prefix(code).starts_with(p.as_str()),
        Reach::Org(_) => false,
    }
}

/// Builds the board of the region asked for (the reach's own region by default).
async fn build(s: &Shared, session: &StaffSession, q: &BoardQuery) -> Result<Board, PageError> {
    let lang = session.lang;
    let actor = &session.staff;
    yiwang_services::supervision::may_supervise(actor).map_err(|e| session.err(e))?;
    let master = s.platform.master.get();
    let asked = q.region.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let region = match asked {
        Some(code) => {
            if master.region(code).is_none() {
                return Err(session.err(ServiceError::NotFound {
                    what: "行政区划",
                    key: code.to_owned(),
                }));
            }
            if !region_in_reach(actor, code) {
                return Err(session.err(ServiceError::Forbidden(
                    "该区划不在您的监察范围内 / that region is outside your reach".into(),
                )));
            }
            Some(code.to_owned())
        }
        None => match Reach::of(actor) {
            Reach::Region(_) => Some(actor.region.clone()),
            _ => {
                let roots: Vec<_> = master
                    .regions
                    .values()
                    .filter(|r| r.parent.is_none())
                    .collect();
                match roots.as_slice() {
                    [one] => Some(one.code.clone()),
                    _ => None,
                }
            }
        },
    };
    let rows = signals::board(&s.platform, actor)
        .await
        .map_err(|e| session.err(e))?;
    let prefix = region.as_deref().map(region_prefix).unwrap_or_default();
    let rows: Vec<BoardRow> = rows
        .into_iter()
        .filter(|r| r.region.starts_with(&prefix))
        .collect();
    let children: Vec<(String, String, String)> = match &region {
        Some(code) => master.children(code),
        None => master
            .regions
            .values()
            .filter(|r| r.parent.is_none())
            .collect(),
    }
    .into_iter()
    .map(|r| (region_prefix(&r.code), r.code.clone(), r.name.clone()))
    .collect();
    let mut groups: Vec<RegionGroup> = Vec::new();
    let mut totals = Counts::default();
    let mut orgs = Vec::new();
    for r in &rows {
        let c = Counts::of(r);
        totals.add(c);
        let (code, name) = children
            .iter()
            .find(|(p, _, _)| r.region.starts_with(p.as_str()))
            .map_or_else(
                || {
                    (
                        String::new(),
                        lang.t("本级单位", "At this level").to_owned(),
                    )
                },
                |(_, code, name)| (code.clone(), name.clone()),
            );
        match groups.iter_mut().find(|g| g.code == code) {
            Some(g) => g.counts.add(c),
            None => groups.push(RegionGroup {
                code,
                name,
                counts: c,
            }),
        }
        orgs.push(OrgRow {
            org: r.org.clone(),
            name: if r.org_name.is_empty() {
                r.org.clone()
            } else {
                r.org_name.clone()
            },
            region_name: master.region_name(&r.region),
            counts: c,
        });
    }
    // Every child region is listed, with or without open cases, 本级 first.
    for (_, code, name) in &children {
        if !groups.iter().any(|g| g.code == *code) {
            groups.push(RegionGroup {
                code: code.clone(),
                name: name.clone(),
                counts: Counts::default(),
            });
        }
    }
    groups.sort_by(|a, b| a.code.cmp(&b.code));
    orgs.sort_by(|a, b| {
        b.counts
            .overdue
            .cmp(&a.counts.overdue)
            .then(a.name.cmp(&b.name))
    });
    let parent = region
        .as_deref()
        .and_then(|c| master.region(c))
        .and_then(|r| r.parent.clone())
        .filter(|p| region_in_reach(actor, p))
        .map(|p| (master.region_name(&p), p));
    Ok(Board {
        region_name: region.as_deref().map_or_else(
            || lang.t("全部", "All").to_owned(),
            |c| master.region_name(c),
        ),
        region,
        parent,
        totals,
        groups,
        orgs,
    })
}

/// A signal as the board lists it.
struct SignalRow {
    id: String,
    number: String,
    type_label: &'static str,
    type_class: &'static str,
    rule_no: String,
    case_id: String,
    case_no: String,
    step: String,
    detail: String,
    raised_at: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "admin/supervision.html")]
struct BoardPage {
    chrome: Chrome,
    reach: String,
    as_of: String,
    board: Board,
    /// `board.json` with the region of the page.
    poll: String,
    signals: Vec<SignalRow>,
    follow: super::ratings::FollowView,
}

impl BoardPage {
    /// A count's column in the page language (for the accessible name of its link).
    fn state_label(&self, state: &str) -> &'static str {
        let lang = self.chrome.lang;
        match state {
            "in_time" => lang.t("按时办理", "in time"),
            "warned" => lang.t("预警", "warned"),
            "overdue" => lang.t("超期", "overdue"),
            "paused" => lang.t("暂停计时", "paused"),
            _ => lang.t("违规信号", "irregularities"),
        }
    }

    /// The drill-down of an organisation's count.
    fn drill(&self, org: &str, state: &str) -> String {
        if state == "irregular" {
            format!("/admin/supervision/signals?org={org}&signal_type=irregular")
        } else {
            format!("/admin/supervision/cases?org={org}&state={state}")
        }
    }
}

/// `GET /admin/supervision`.
pub(crate) async fn board(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<BoardQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let q = super::query(q, lang)?;
    let board = build(&s, &session, &q).await?;
    let mut open = Vec::new();
    for status in ["open", "appealed"] {
        let q = SignalQuery {
            status: Some(status.into()),
            ..Default::default()
        };
        open.extend(
            signals::list(&s.platform, &session.staff, &q)
                .await
                .map_err(|e| session.err(e))?,
        );
    }
    let prefix = board
        .region
        .as_deref()
        .map(region_prefix)
        .unwrap_or_default();
    open.retain(|x| x.region.starts_with(&prefix));
    open.sort_by(|a, b| b.raised_at.cmp(&a.raised_at));
    open.truncate(200);
    let signals = open
        .into_iter()
        .map(|x| SignalRow {
            type_label: type_label(lang, &x.signal_type),
            type_class: type_class(&x.signal_type),
            id: x.id,
            number: x.number,
            rule_no: x.rule_no,
            case_id: x.case_id,
            case_no: x.case_no.unwrap_or_default(),
            step: x.step,
            detail: x.detail,
            raised_at: local_time(&x.raised_at),
            status: status_label(lang, &x.status),
        })
        .collect();
    let master = s.platform.master.get();
    let follow = yiwang_services::supervision::ratings::follow_up(
        &s.platform,
        &session.staff,
        yiwang_services::supervision::ratings::Period::quarter_to_date(&s.platform),
    )
    .await
    .map_err(|e| session.err(e))?;
    let page = BoardPage {
        follow: super::ratings::follow_view(&follow),
        chrome: chrome(&session, lang.t("电子监察", "E-supervision")),
        reach: reach_label(lang, &master, &session.staff),
        as_of: local_time(&yiwang_store::fmt_time(s.platform.now())),
        poll: match &board.region {
            Some(r) => format!("/admin/supervision/board.json?region={r}"),
            None => "/admin/supervision/board.json".into(),
        },
        board,
        signals,
    };
    Ok(html(StatusCode::OK, &page))
}

/// `GET /admin/supervision/board.json`: the board's counts for the page's script, with the
/// session (the REST API takes Bearer tokens only).
pub(crate) async fn board_json(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<BoardQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let board = build(&s, &session, &q).await?;
    let now = s.platform.now();
    let rows: Vec<serde_json::Value> = board
        .orgs
        .iter()
        .map(|o| {
            serde_json::json!({
                "org": o.org, "org_name": o.name, "in_time": o.counts.in_time,
                "warned": o.counts.warned, "overdue": o.counts.overdue,
                "paused": o.counts.paused, "irregular": o.counts.irregular,
            })
        })
        .collect();
    let body = serde_json::json!({
        "as_of": yiwang_store::fmt_time(now),
        "as_of_local": super::local_time_secs(&yiwang_store::fmt_time(now)),
        "region": board.region,
        "counts": board.counts(),
        "rows": rows,
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response())
}

/// `?org=&state=` of the drill-down.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct DrillQuery {
    #[serde(default)]
    org: String,
    #[serde(default)]
    state: String,
}

/// A case of the drill-down.
struct DrillRow {
    id: String,
    case_no: String,
    item: String,
    item_code: String,
    state: &'static str,
    due_at: String,
    /// "剩余 3 个工作日", "超期 2 个工作日", or empty.
    days: String,
    late: bool,
    paused_at: String,
}

#[derive(Template)]
#[template(path = "admin/supervision_cases.html")]
struct DrillPage {
    chrome: Chrome,
    org_name: String,
    state_label: &'static str,
    rows: Vec<DrillRow>,
    back: String,
}

/// A board state in the page language.
fn board_state_label(lang: Lang, s: BoardState) -> &'static str {
    match s {
        BoardState::InTime => lang.t("按时办理", "in time"),
        BoardState::Warned => lang.t("预警", "warned"),
        BoardState::Overdue => lang.t("超期（红牌）", "overdue (red card)"),
        BoardState::Paused => lang.t("暂停计时", "clock stopped"),
    }
}

/// `GET /admin/supervision/cases?org=…&state=in_time|warned|overdue|paused`.
pub(crate) async fn drill(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<DrillQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let q = super::query(q, lang)?;
    yiwang_services::supervision::may_supervise(&session.staff).map_err(|e| session.err(e))?;
    let Some(state) = BoardState::parse(q.state.trim()) else {
        return Err(session.err(ServiceError::invalid(
            "state",
            "state 须为 in_time、warned、overdue 或 paused",
            "state is in_time, warned, overdue or paused",
        )));
    };
    let cases = signals::board_cases(&s.platform, &session.staff, q.org.trim(), state)
        .await
        .map_err(|e| session.err(e))?;
    let master = s.platform.master.get();
    let rows = cases
        .into_iter()
        .map(|c| {
            let case_state = yiwang_domain::case::CaseState::parse(&c.state);
            DrillRow {
                case_no: c.case_no.unwrap_or_default(),
                item: c.item_name,
                item_code: c.item_code,
                state: case_state.map_or("", |st| super::cases::state_label(lang, st)),
                due_at: super::local_time_opt(c.due_at.as_deref()),
                days: match c.working_days {
                    Some(d) if d < 0 => format!(
                        "{}{}{}",
                        lang.t("超期 ", "overdue by "),
                        -d,
                        lang.t(" 个工作日", " working days")
                    ),
                    Some(d) => format!(
                        "{}{d}{}",
                        lang.t("剩余 ", ""),
                        lang.t(" 个工作日", " working days left")
                    ),
                    None => String::new(),
                },
                late: c.working_days.is_some_and(|d| d < 0),
                paused_at: super::local_time_opt(c.paused_at.as_deref()),
                id: c.id,
            }
        })
        .collect();
    let org = master.organisation(q.org.trim());
    let back = match org {
        Some(o) if region_in_reach(&session.staff, &o.region) => {
            format!("/admin/supervision?region={}", o.region)
        }
        _ => "/admin/supervision".to_owned(),
    };
    let page = DrillPage {
        chrome: chrome(
            &session,
            format!(
                "{} · {}",
                lang.t("电子监察", "E-supervision"),
                board_state_label(lang, state)
            ),
        ),
        org_name: org_name(&master, q.org.trim()),
        state_label: board_state_label(lang, state),
        rows,
        back,
    };
    Ok(html(StatusCode::OK, &page))
}
