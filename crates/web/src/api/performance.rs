//! The 绩效评估 API: reports over any period by organisation, region or window with each unit's
//! indicators, score and grade (`GET /api/v1/performance`), the scoring formula with its
//! versions, and a rollup run on demand. What a caller sees is decided by
//! `yiwang_services::supervision::performance` (supervisors their region, system
//! administrators everywhere, department administrators their organisation).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_services::supervision::formula::{Scoring, VARIABLES};
use yiwang_services::supervision::performance::{
    self, By, Period, Report, ReportQuery, RollupRun, ScoringVersion,
};
use yiwang_services::{FieldError, ServiceError};

use super::cases::{Body, Caller, query_error};
use crate::Shared;
use crate::error::ApiError;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/performance", get(report))
        .route("/performance/scoring", get(scoring).put(save_scoring))
        .route("/performance/refresh", post(refresh))
}

type Answer<T> = Result<Json<T>, ApiError>;

/// The query of a report, as pages and the API take it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportParams {
    /// `2026Q3`, `2026`, `2026-07` or `2026-07-01..2026-09-30`; default: the last quarter.
    #[serde(default)]
    pub period: Option<String>,
    /// `org` (default), `region` or `window`.
    #[serde(default)]
    pub by: Option<String>,
    /// Region code prefix.
    #[serde(default)]
    pub region: Option<String>,
    /// One organisation (统一社会信用代码).
    #[serde(default)]
    pub org: Option<String>,
}

impl ReportParams {
    /// The service's query, every mistake named at once.
    pub fn parse(&self, p: &yiwang_services::Platform) -> Result<ReportQuery, ServiceError> {
        let mut problems = Vec::new();
        let period = match self
            .period
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Some(performance::last_quarter(p)),
            Some(s) => Period::parse(s),
        };
        if period.is_none() {
            problems.push(FieldError::new(
                "period",
                "统计期间应为 2026Q3、2026、2026-07 或 2026-07-01..2026-09-30（不超过三年）",
                "a period is 2026Q3, 2026, 2026-07 or 2026-07-01..2026-09-30 (at most three years)",
            ));
        }
        let by = match self.by.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(By::Org),
            Some(s) => By::parse(s),
        };
        if by.is_none() {
            problems.push(FieldError::new(
                "by",
                "分组应为 org（部门）、region（区划）或 window（窗口）",
                "group by org, region or window",
            ));
        }
        let blank = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        match (period, by) {
            (Some(period), Some(by)) if problems.is_empty() => Ok(ReportQuery {
                period,
                by,
                region: blank(&self.region),
                org: blank(&self.org),
            }),
            _ => Err(ServiceError::Invalid(problems)),
        }
    }
}

/// A performance report: each unit's counts, indicators (rates in percent), score and grade,
/// best first, the scope's total and its months. Computed from the daily rollup (see
/// `rolled_at`).
#[utoipa::path(get, path = "/api/v1/performance", tag = "supervision",
    params(("period" = Option<String>, Query, description = "2026Q3, 2026, 2026-07 or 2026-07-01..2026-09-30; default the last quarter"),
        ("by" = Option<String>, Query, description = "org (default), region or window"),
        ("region" = Option<String>, Query, description = "Region code prefix"),
        ("org" = Option<String>, Query, description = "One organisation")),
    responses((status = 200, description = "The report"), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn report(
    State(s): State<Shared>,
    who: Caller,
    q: Result<Query<ReportParams>, QueryRejection>,
) -> Answer<Report> {
    let Query(q) = q.map_err(|e| query_error(&e))?;
    let q = q.parse(&s.platform)?;
    Ok(Json(
        performance::report(&s.platform, who.staff()?, &q).await?,
    ))
}

/// The scoring in force, the indicators a formula may use, and every version.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoringState {
    /// Version in force (0: the standard scoring).
    pub version: i64,
    /// The formula and the lowest scores of 优秀, 良好, 合格.
    #[schema(value_type = Object)]
    pub scoring: Scoring,
    /// Indicator names and what they mean.
    pub variables: Vec<(String, String)>,
    /// Saved versions, newest first.
    #[schema(value_type = Vec<Object>)]
    pub versions: Vec<ScoringVersion>,
}

/// The scoring formula and grade thresholds in force, with their versions.
#[utoipa::path(get, path = "/api/v1/performance/scoring", tag = "supervision",
    responses((status = 200, description = "The scoring", body = ScoringState)),
    security(("bearer" = ["cases"])))]
async fn scoring(State(s): State<Shared>, who: Caller) -> Answer<ScoringState> {
    who.staff()?;
    let versions = performance::scoring_versions(&s.platform).await?;
    let (version, scoring) = performance::in_force(&versions);
    Ok(Json(ScoringState {
        version,
        scoring,
        variables: VARIABLES
            .iter()
            .map(|(n, d)| ((*n).to_owned(), (*d).to_owned()))
            .collect(),
        versions,
    }))
}

/// A new scoring.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewScoring {
    /// The formula (see `variables` of the GET).
    pub formula: String,
    /// Lowest score of 优秀.
    pub excellent: f64,
    /// Lowest score of 良好.
    pub good: f64,
    /// Lowest score of 合格.
    pub pass: f64,
    /// Why it changes.
    pub note: String,
}

/// Saves a new version of the scoring (system administrators); every problem named at once.
#[utoipa::path(put, path = "/api/v1/performance/scoring", tag = "supervision",
    request_body = NewScoring,
    responses((status = 200, description = "Saved", body = ScoringState),
        (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn save_scoring(
    State(s): State<Shared>,
    who: Caller,
    Body(b): Body<NewScoring>,
) -> Answer<ScoringState> {
    let actor = who.staff()?;
    let new = Scoring {
        formula: b.formula,
        excellent: b.excellent,
        good: b.good,
        pass: b.pass,
    };
    performance::save_scoring(&s.platform, actor, new, &b.note).await?;
    scoring(State(s), who).await
}

/// Runs the daily rollup now (system administrators; `serve` runs it every 10 minutes).
#[utoipa::path(post, path = "/api/v1/performance/refresh", tag = "supervision",
    responses((status = 200, description = "Days and rows rolled"), (status = 403, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn refresh(State(s): State<Shared>, who: Caller) -> Answer<RollupRun> {
    performance::may_refresh(who.staff()?)?;
    Ok(Json(performance::refresh(&s.platform).await?))
}
