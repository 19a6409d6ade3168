//! 绩效评估: the performance report page, its Excel export and the scoring formula page, over
//! `yiwang_services::supervision::performance` (supervisors their region, system
//! administrators everywhere, department administrators their organisation; 403 otherwise).
//!
//! The report page is a GET form (period, grouping, region, organisation) over a table of
//! every unit's indicators, score and grade, the scope's total, and two charts drawn by
//! ECharts from the platform's own copy (`/static/echarts-5.6.0.min.js`, `/static/charts.js`; the
//! options are in a `data-chart` attribute, since the page's policy allows no inline script).
//! Without JavaScript the table says everything the charts show. The export is the same report
//! as a workbook. The scoring page shows the formula in force, the indicators it may use and
//! every version; system administrators save a new version there (422 with each problem
//! marked, nothing saved) and may run the rollup at once.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use yiwang_services::ServiceError;
use yiwang_services::identity::staff::Role;
use yiwang_services::supervision::formula::{Grade, Scoring, VARIABLES};
use yiwang_services::supervision::performance::{self, By, Report, ScoringVersion};

use super::{AdminForm, CsrfForm, DoneQuery, chrome, done_notice, local_time, query, see_other};
use crate::Shared;
use crate::api::performance::ReportParams;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

/// A unit as the table shows it (numbers already formatted).
struct Line {
    name: String,
    key: String,
    finished: i64,
    on_time: String,
    early: String,
    overdue: i64,
    online: String,
    days: String,
    visits: String,
    ratings: i64,
    satisfaction: String,
    followup: String,
    signals: String,
    score: String,
    grade: &'static str,
    grade_class: &'static str,
    /// The report narrowed to this unit's region (when grouped by region).
    drill: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/performance.html")]
struct ReportPage {
    chrome: Chrome,
    period: String,
    by: &'static str,
    region: String,
    org: String,
    quarters: Vec<(String, String)>,
    scope_name: String,
    rolled_at: String,
    total: Line,
    lines: Vec<Line>,
    /// The grade counts: 优秀, 良好, 合格, 不合格.
    grades: [usize; 4],
    score_chart: String,
    trend_chart: String,
    export: String,
    scoring_version: i64,
    formula: String,
    errors: Vec<(String, String)>,
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}%"))
}

fn dec(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}"))
}

fn grade_label(lang: Lang, g: Option<Grade>) -> (&'static str, &'static str) {
    match g {
        None => ("—", ""),
        Some(g) => (
            if lang.is_en() {
                g.label_en()
            } else {
                g.label_zh()
            },
            match g {
                Grade::Excellent => "good",
                Grade::Good => "ok",
                Grade::Pass => "",
                Grade::Fail => "bad",
            },
        ),
    }
}

fn line(lang: Lang, r: &performance::ReportRow, by: By, q: &ReportParams) -> Line {
    let i = &r.indicators;
    let t = &r.totals;
    let (grade, grade_class) = grade_label(lang, r.grade);
    let drill = (by == By::Region).then(|| {
        let prefix = yiwang_services::supervision::signals::region_prefix(&r.key);
        format!(
            "/admin/performance?period={}&by=org&region={}",
            crate::session::urlencode(q.period.as_deref().unwrap_or("")),
            prefix
        )
    });
    Line {
        name: r.name.clone(),
        key: r.key.clone(),
        finished: t.finished,
        on_time: pct(i.on_time_rate),
        early: pct(i.early_rate),
        overdue: t.overdue,
        online: pct(i.online_rate),
        days: dec(i.avg_days),
        visits: dec(i.avg_visits),
        ratings: t.ratings,
        satisfaction: pct(i.satisfaction_rate),
        followup: pct(i.followup_rate),
        signals: format!("{}/{}/{}/{}", t.warnings, t.yellow, t.red, t.irregular),
        score: r
            .score
            .map_or_else(|| "—".to_owned(), |s| format!("{s:.2}")),
        grade,
        grade_class,
        drill,
    }
}

/// The last eight quarters, newest first: (value, label).
fn quarters(p: &yiwang_services::Platform) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut q = performance::Period::quarter_of(p.calendar_cache.get().local_date(p.now()));
    for _ in 0..8 {
        let label = q.label();
        out.push((label.clone(), label));
        match q.from.pred_opt() {
            Some(d) => q = performance::Period::quarter_of(d),
            None => break,
        }
    }
    out
}

/// The bar chart of the units' scores (the 30 best) and the trend of the scope's rates.
fn charts(lang: Lang, r: &Report) -> (String, String) {
    let shown: Vec<_> = r
        .rows
        .iter()
        .filter(|u| u.score.is_some())
        .take(30)
        .collect();
    let names: Vec<&str> = shown.iter().map(|u| u.name.as_str()).collect();
    let scores: Vec<f64> = shown.iter().filter_map(|u| u.score).collect();
    let score = json!({
        "title": {"text": lang.t("各单位得分", "Scores"), "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 8, "right": 16, "bottom": 8, "containLabel": true},
        "xAxis": {"type": "value", "min": 0, "max": 100},
        "yAxis": {"type": "category", "inverse": true, "data": names,
                  "axisLabel": {"width": 160, "overflow": "truncate"}},
        "series": [{"type": "bar", "name": lang.t("得分", "Score"), "data": scores,
                    "itemStyle": {"color": "#1d5fa7"}, "label": {"show": true, "position": "right"}}],
    });
    let months: Vec<&str> = r.months.iter().map(|m| m.0.as_str()).collect();
    let series = |name: &str, f: fn(&performance::Indicators) -> Option<f64>| {
        json!({"type": "line", "name": name,
               "data": r.months.iter().map(|m| f(&m.2).map(|v| (v * 10.0).round() / 10.0)).collect::<Vec<_>>()})
    };
    let trend = json!({
        "title": {"text": lang.t("按月趋势（%）", "Month by month (%)"), "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 8, "right": 16, "bottom": 40, "containLabel": true},
        "xAxis": {"type": "category", "data": months},
        "yAxis": {"type": "value", "min": 0, "max": 100},
        "series": [
            series(lang.t("按时办结率", "On time"), |i| i.on_time_rate),
            series(lang.t("全程网办率", "Fully online"), |i| i.online_rate),
            series(lang.t("满意率", "Satisfaction"), |i| i.satisfaction_rate),
        ],
    });
    (score.to_string(), trend.to_string())
}

/// `GET /admin/performance`.
pub(crate) async fn report(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let params = query(q, lang)?;
    let parsed = params.parse(&s.platform);
    let (report, errors) = match parsed {
        Ok(rq) => match performance::report(&s.platform, &session.staff, &rq).await {
            Ok(r) => (Some(r), Vec::new()),
            Err(ServiceError::Invalid(es)) => (None, es),
            Err(e) => return Err(session.err(e)),
        },
        Err(ServiceError::Invalid(es)) => (None, es),
        Err(e) => return Err(session.err(e)),
    };
    let Some(report) = report else {
        // Check who may read before telling them their query is wrong.
        may_read(&session)?;
        let page = page(&s, &session, &params, None, &errors);
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let page = page(&s, &session, &params, Some(&report), &[]);
    Ok(html(StatusCode::OK, &page))
}

fn page(
    s: &Shared,
    session: &StaffSession,
    params: &ReportParams,
    report: Option<&Report>,
    errors: &[yiwang_services::FieldError],
) -> ReportPage {
    let lang = session.lang;
    let by = report.map_or(By::Org, |r| r.by);
    let period = report.map_or_else(
        || params.period.clone().unwrap_or_default(),
        |r| r.period.label(),
    );
    let shown = ReportParams {
        period: Some(period.clone()),
        ..params.clone()
    };
    let mut grades = [0usize; 4];
    let (lines, total, charts_json, rolled_at, scope_name, version, formula) = match report {
        Some(r) => {
            for u in &r.rows {
                match u.grade {
                    Some(Grade::Excellent) => grades[0] += 1,
                    Some(Grade::Good) => grades[1] += 1,
                    Some(Grade::Pass) => grades[2] += 1,
                    Some(Grade::Fail) => grades[3] += 1,
                    None => {}
                }
            }
            (
                r.rows.iter().map(|u| line(lang, u, by, &shown)).collect(),
                line(lang, &r.total, By::Org, &shown),
                charts(lang, r),
                r.rolled_at
                    .as_deref()
                    .map(local_time)
                    .unwrap_or_else(|| lang.t("尚未汇总", "not rolled up yet").to_owned()),
                r.total.name.clone(),
                r.scoring_version,
                r.scoring.formula.clone(),
            )
        }
        None => (
            Vec::new(),
            line(
                lang,
                &performance::ReportRow {
                    key: String::new(),
                    name: String::new(),
                    region: String::new(),
                    totals: Default::default(),
                    indicators: Default::default(),
                    score: None,
                    grade: None,
                },
                By::Org,
                &shown,
            ),
            (String::new(), String::new()),
            String::new(),
            String::new(),
            0,
            String::new(),
        ),
    };
    let enc = |v: &Option<String>| crate::session::urlencode(v.as_deref().unwrap_or(""));
    let export = format!(
        "/admin/performance/export.xlsx?period={}&by={}&region={}&org={}",
        crate::session::urlencode(&period),
        by_code(by),
        enc(&params.region),
        enc(&params.org)
    );
    ReportPage {
        chrome: chrome(session, lang.t("绩效评估", "Performance")),
        period,
        by: by_code(by),
        region: params.region.clone().unwrap_or_default(),
        org: params.org.clone().unwrap_or_default(),
        quarters: quarters(&s.platform),
        scope_name,
        rolled_at,
        total,
        lines,
        grades,
        score_chart: charts_json.0,
        trend_chart: charts_json.1,
        export,
        scoring_version: version,
        formula,
        errors: super::field_messages(lang, errors),
    }
}

fn by_code(by: By) -> &'static str {
    match by {
        By::Org => "org",
        By::Region => "region",
        By::Window => "window",
    }
}

/// `GET /admin/performance/export.xlsx`: the report as a workbook.
pub(crate) async fn export(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let params = query(q, lang)?;
    let rq = params.parse(&s.platform).map_err(|e| session.err(e))?;
    let r = performance::report(&s.platform, &session.staff, &rq)
        .await
        .map_err(|e| session.err(e))?;
    let bytes = performance::workbook(&r, lang.is_en()).map_err(|e| session.err(e))?;
    let label = r.period.label().replace("..", "_");
    Ok(super::excel::xlsx(
        bytes,
        &format!("performance-{label}.xlsx"),
        &format!("绩效评估-{label}.xlsx"),
    ))
}

struct VersionLine {
    version: i64,
    formula: String,
    thresholds: String,
    note: String,
    created_at: String,
    created_by: String,
}

#[derive(Template)]
#[template(path = "admin/performance_scoring.html")]
struct ScoringPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    may_edit: bool,
    version: i64,
    formula: String,
    excellent: String,
    good: String,
    pass: String,
    note: String,
    variables: Vec<(&'static str, &'static str)>,
    versions: Vec<VersionLine>,
    errors: Vec<(String, String)>,
    rolled_at: String,
}

impl ScoringPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// The scoring form.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ScoringForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    formula: String,
    #[serde(default)]
    excellent: String,
    #[serde(default)]
    good: String,
    #[serde(default)]
    pass: String,
    #[serde(default)]
    note: String,
}

fn may_read(session: &StaffSession) -> Result<(), PageError> {
    performance::may_evaluate(&session.staff)
        .map(|_| ())
        .map_err(|e| session.err(e))
}

async fn scoring_page(
    s: &Shared,
    session: &StaffSession,
    form: Option<(&ScoringForm, &[yiwang_services::FieldError])>,
    notice: Option<&'static str>,
) -> Result<ScoringPage, PageError> {
    let lang = session.lang;
    let versions: Vec<ScoringVersion> = performance::scoring_versions(&s.platform)
        .await
        .map_err(|e| session.err(e))?;
    let (version, current) = performance::in_force(&versions);
    let rolled_at = performance::rolled_at(&s.platform)
        .await
        .map_err(|e| session.err(e))?
        .as_deref()
        .map(local_time)
        .unwrap_or_else(|| lang.t("尚未汇总", "not rolled up yet").to_owned());
    let (formula, excellent, good, pass, note, errors) = match form {
        Some((f, errs)) => (
            f.formula.clone(),
            f.excellent.clone(),
            f.good.clone(),
            f.pass.clone(),
            f.note.clone(),
            super::field_messages(lang, errs),
        ),
        None => (
            current.formula.clone(),
            current.excellent.to_string(),
            current.good.to_string(),
            current.pass.to_string(),
            String::new(),
            Vec::new(),
        ),
    };
    Ok(ScoringPage {
        chrome: chrome(session, lang.t("评分公式", "Scoring")),
        notice,
        may_edit: session.staff.has(Role::SystemAdmin),
        version,
        formula,
        excellent,
        good,
        pass,
        note,
        variables: VARIABLES.to_vec(),
        versions: versions
            .into_iter()
            .map(|v| VersionLine {
                version: v.version,
                thresholds: format!(
                    "{} / {} / {}",
                    v.scoring.excellent, v.scoring.good, v.scoring.pass
                ),
                formula: v.scoring.formula,
                note: v.note,
                created_at: local_time(&v.created_at),
                created_by: v.created_by,
            })
            .collect(),
        errors,
        rolled_at,
    })
}

/// `GET /admin/performance/scoring`.
pub(crate) async fn scoring(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<DoneQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    may_read(&session)?;
    let done = query(q, session.lang)?;
    let notice = match done.done.as_deref() {
        Some("scoring_saved") => Some(session.lang.t(
            "评分公式已保存为新版本。",
            "The scoring is saved as a new version.",
        )),
        Some("rolled") => Some(session.lang.t("已重新汇总。", "Rolled up.")),
        other => done_notice(session.lang, other),
    };
    let page = scoring_page(&s, &session, None, notice).await?;
    Ok(html(StatusCode::OK, &page))
}

/// `POST /admin/performance/scoring` (system administrators).
pub(crate) async fn save_scoring(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(f): AdminForm<ScoringForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    // A threshold that is not a number goes to the service as NaN, which names it among the
    // other problems (every mistake at once).
    let num = |v: &str| v.trim().parse::<f64>().unwrap_or(f64::NAN);
    let scoring = Scoring {
        formula: f.formula.clone(),
        excellent: num(&f.excellent),
        good: num(&f.good),
        pass: num(&f.pass),
    };
    let saved = performance::save_scoring(&s.platform, &session.staff, scoring, &f.note).await;
    match saved {
        Ok(_) => Ok(see_other("/admin/performance/scoring?done=scoring_saved")),
        Err(ServiceError::Invalid(errors)) => {
            let page = scoring_page(&s, &session, Some((&f, &errors)), None).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

/// `POST /admin/performance/refresh` (system administrators): rolls up at once.
pub(crate) async fn refresh(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(f): AdminForm<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    performance::may_refresh(&session.staff).map_err(|e| session.err(e))?;
    performance::refresh(&s.platform)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other("/admin/performance/scoring?done=rolled"))
}
