//! The 好差评 API: rating a finished case (the applicant's token: channel `web` or `mobile`;
//! a window clerk's token: the window's rating pad), the ratings and rectification orders
//! within the caller's reach, the organisation's answer, the rater's rating of the fix, the
//! appeal of a malicious rating and the supervisor's decision, the follow-up rate, and the
//! rectification deadline setting. What each caller sees and may do is decided by
//! `yiwang_services::supervision::ratings`.
//!
//! Problems are RFC 9457 documents. Values that are well-formed JSON but wrong (a level of 6,
//! a score of 0, an unknown channel, a bad comment) answer **422** with every field named;
//! a body that is not the JSON expected answers 400, as elsewhere in the API.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_services::ServiceError;
use yiwang_services::supervision::ratings::{
    self, FollowUp, Period, Rater, Rating, RatingInput, RatingQuery, Rectification,
    RectificationQuery,
};

use super::cases::{Body, Caller, query_error};
use crate::Shared;
use crate::error::{ApiError, Problem};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/cases/{case_no}/ratings", post(rate))
        .route("/ratings", get(list))
        .route("/ratings/follow-up", get(follow_up))
        .route("/ratings/settings", get(settings).put(save_settings))
        .route("/ratings/{id}", get(one))
        .route("/ratings/{id}/appeal", post(appeal))
        .route("/ratings/{id}/appeal-decision", post(decide_appeal))
        .route("/rectifications", get(rectifications))
        .route("/rectifications/{id}", get(rectification))
        .route("/rectifications/{id}/answer", post(answer))
        .route("/rectifications/{id}/fix-rating", post(fix_rating))
}

/// The errors of this API: [`ApiError`]'s problem documents, with 422 for invalid values.
#[derive(Debug)]
pub struct RatingsError(ServiceError);

impl From<ServiceError> for RatingsError {
    fn from(e: ServiceError) -> Self {
        RatingsError(e)
    }
}

impl From<ApiError> for RatingsError {
    fn from(e: ApiError) -> Self {
        RatingsError(e.0)
    }
}

impl IntoResponse for RatingsError {
    fn into_response(self) -> Response {
        if !matches!(self.0, ServiceError::Invalid(_)) {
            return ApiError(self.0).into_response();
        }
        let mut problem = Problem::of(&self.0);
        problem.status = StatusCode::UNPROCESSABLE_ENTITY.as_u16();
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            [(header::CONTENT_TYPE, "application/problem+json")],
            Json(problem),
        )
            .into_response()
    }
}

type Answer<T> = Result<Json<T>, RatingsError>;

/// `POST /cases/{case_no}/ratings`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewRating {
    /// 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.
    #[serde(default)]
    pub level: Option<i64>,
    /// Indicator scores, each 1 to 5, all optional: `guide` 办事指南, `process` 办理流程,
    /// `timeliness` 办理时限, `attitude` 服务态度, `result` 办理结果.
    #[serde(default)]
    pub scores: Option<BTreeMap<String, i64>>,
    /// Up to 500 characters; required for levels 1 and 2.
    #[serde(default)]
    pub comment: Option<String>,
    /// A citizen's channel: `web` (default) or `mobile`. Staff rate at the window only
    /// (`window`, or leave it out).
    #[serde(default)]
    pub channel: Option<String>,
    /// At the window: whether the clerk identified the applicant present (a real-name rating).
    #[serde(default)]
    pub identified: Option<bool>,
}

fn input_of(b: NewRating) -> RatingInput {
    RatingInput {
        level: b.level,
        scores: b.scores.unwrap_or_default(),
        comment: b.comment.unwrap_or_default(),
    }
}

/// Rates a finished case once per channel: its applicant (channel `web` or `mobile`), or a
/// window clerk who handles it, for the applicant present (channel `window`). A bad rating
/// (1 or 2) opens a rectification order for the handling organisation.
#[utoipa::path(post, path = "/api/v1/cases/{case_no}/ratings", tag = "ratings",
    params(("case_no" = String, Path, description = "办件编号 (or the case id)")), request_body = NewRating,
    responses((status = 201, description = "The rating, with its rectification order if it is bad"),
        (status = 404, body = crate::error::Problem, description = "No such case of the caller's"),
        (status = 409, body = crate::error::Problem, description = "Not finished, or rated through this channel already"),
        (status = 422, body = crate::error::Problem, description = "Bad level, score, channel or comment")),
    security(("bearer" = ["cases"])))]
async fn rate(
    State(s): State<Shared>,
    who: Caller,
    Path(case_no): Path<String>,
    Body(b): Body<NewRating>,
) -> Result<(StatusCode, Json<Rating>), RatingsError> {
    let p = &s.platform;
    let channel = b.channel.clone();
    let identified = b.identified.unwrap_or(false);
    let input = input_of(b);
    let rating = if let Ok(user) = who.user() {
        let channel = channel.as_deref().map(str::trim).unwrap_or("web");
        ratings::rate(p, Rater::Citizen { user, channel }, &case_no, &input).await?
    } else {
        let clerk = who.staff()?;
        if channel
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty() && c.trim() != "window")
        {
            return Err(RatingsError(ServiceError::invalid(
                "channel",
                "工作人员只能提交窗口评价器评价（window）",
                "staff submit window ratings only (window)",
            )));
        }
        ratings::rate(p, Rater::Window { clerk, identified }, &case_no, &input).await?
    };
    Ok((StatusCode::CREATED, Json(rating)))
}

/// Ratings within the caller's reach (staff), newest first; filters `level`, `bad=true`,
/// `channel`, `status`, `case_no`, `org`.
#[utoipa::path(get, path = "/api/v1/ratings", tag = "ratings",
    params(("level" = Option<i64>, Query, description = "1 to 5"),
        ("bad" = Option<bool>, Query, description = "Levels 1 and 2 only"),
        ("channel" = Option<String>, Query, description = "web, mobile, window, sms"),
        ("status" = Option<String>, Query, description = "valid, excluded"),
        ("case_no" = Option<String>, Query, description = "One case"),
        ("org" = Option<String>, Query, description = "One organisation (credit code)")),
    responses((status = 200, description = "Ratings, each with its rectification order")),
    security(("bearer" = ["cases"])))]
async fn list(
    State(s): State<Shared>,
    who: Caller,
    q: Result<Query<RatingQuery>, QueryRejection>,
) -> Answer<Vec<Rating>> {
    let Query(q) = q.map_err(|e| query_error(&e))?;
    Ok(Json(ratings::list(&s.platform, who.staff()?, &q).await?))
}

/// One rating within the caller's reach.
#[utoipa::path(get, path = "/api/v1/ratings/{id}", tag = "ratings",
    params(("id" = String, Path, description = "Rating id")),
    responses((status = 200, description = "The rating"), (status = 404, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn one(State(s): State<Shared>, who: Caller, Path(id): Path<String>) -> Answer<Rating> {
    Ok(Json(ratings::get(&s.platform, who.staff()?, &id).await?))
}

/// `?from=&to=` of the follow-up rate.
#[derive(Debug, Default, Deserialize)]
pub struct FollowUpQuery {
    /// First day (YYYY-MM-DD, Beijing time); default: the first day of this quarter.
    #[serde(default)]
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD), included; default: today.
    #[serde(default)]
    pub to: Option<String>,
}

/// The period of `?from=&to=`, days in the calendar's time zone.
fn period(s: &Shared, q: &FollowUpQuery) -> Result<Period, ServiceError> {
    let p = &s.platform;
    let mut period = Period::quarter_to_date(p);
    let offset = p.calendar().offset();
    let mut errors = Vec::new();
    let day = |field: &str, v: &str, errors: &mut Vec<_>| match chrono::NaiveDate::parse_from_str(
        v.trim(),
        "%Y-%m-%d",
    )
    .ok()
    .and_then(|d| d.and_hms_opt(0, 0, 0))
    .and_then(|d| d.and_local_timezone(offset).single())
    {
        Some(t) => Some(t.with_timezone(&chrono::Utc)),
        None => {
            errors.push(yiwang_services::FieldError::new(
                field,
                "日期格式应为 YYYY-MM-DD",
                "a date is YYYY-MM-DD",
            ));
            None
        }
    };
    if let Some(v) = q.from.as_deref().filter(|v| !v.trim().is_empty())
        && let Some(t) = day("from", v, &mut errors)
    {
        period.from = t;
    }
    if let Some(v) = q.to.as_deref().filter(|v| !v.trim().is_empty())
        && let Some(t) = day("to", v, &mut errors)
    {
        period.to = t + chrono::Duration::days(1);
    }
    if errors.is_empty() && period.to <= period.from {
        errors.push(yiwang_services::FieldError::new(
            "to",
            "结束日期不能早于开始日期",
            "the last day is not before the first",
        ));
    }
    if errors.is_empty() {
        Ok(period)
    } else {
        Err(ServiceError::Invalid(errors))
    }
}

/// 回访率: real-name bad ratings within the caller's reach whose rectification order opened in
/// the period, how many were answered, the rate (the national requirement is 100%) and the
/// late ones, by organisation.
#[utoipa::path(get, path = "/api/v1/ratings/follow-up", tag = "ratings",
    params(("from" = Option<String>, Query, description = "YYYY-MM-DD; default: the quarter's first day"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD, included; default: today")),
    responses((status = 200, description = "Totals, rate and rows by organisation"),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn follow_up(
    State(s): State<Shared>,
    who: Caller,
    q: Result<Query<FollowUpQuery>, QueryRejection>,
) -> Answer<FollowUp> {
    let Query(q) = q.map_err(|e| query_error(&e))?;
    let staff = who.staff()?;
    let period = period(&s, &q)?;
    Ok(Json(ratings::follow_up(&s.platform, staff, period).await?))
}

/// The rectification deadline setting.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RatingSettings {
    /// Working days a new rectification order is due in (1 to 30; default 5).
    pub rectification_days: u32,
}

/// The rectification deadline (any staff).
#[utoipa::path(get, path = "/api/v1/ratings/settings", tag = "ratings",
    responses((status = 200, body = RatingSettings)), security(("bearer" = ["cases"])))]
async fn settings(State(s): State<Shared>, who: Caller) -> Answer<RatingSettings> {
    who.staff()?;
    Ok(Json(RatingSettings {
        rectification_days: ratings::rectification_days(&s.platform).await?,
    }))
}

/// Sets the rectification deadline (system administrators); open orders keep theirs.
#[utoipa::path(put, path = "/api/v1/ratings/settings", tag = "ratings", request_body = RatingSettings,
    responses((status = 200, body = RatingSettings), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn save_settings(
    State(s): State<Shared>,
    who: Caller,
    Body(b): Body<RatingSettings>,
) -> Answer<RatingSettings> {
    let days =
        ratings::set_rectification_days(&s.platform, who.staff()?, b.rectification_days).await?;
    Ok(Json(RatingSettings {
        rectification_days: days,
    }))
}

/// Rectification orders within the caller's reach, each in its rating (`rectification`):
/// open ones first by deadline; `status` (`open`, `answered`, `closed`) and `appeal_status`
/// (`pending`, `upheld`, `rejected`) filter.
#[utoipa::path(get, path = "/api/v1/rectifications", tag = "ratings",
    params(("status" = Option<String>, Query, description = "open, answered, closed"),
        ("appeal_status" = Option<String>, Query, description = "pending, upheld, rejected")),
    responses((status = 200, description = "Ratings with their orders")),
    security(("bearer" = ["cases"])))]
async fn rectifications(
    State(s): State<Shared>,
    who: Caller,
    q: Result<Query<RectificationQuery>, QueryRejection>,
) -> Answer<Vec<Rating>> {
    let Query(q) = q.map_err(|e| query_error(&e))?;
    Ok(Json(
        ratings::rectifications(&s.platform, who.staff()?, &q).await?,
    ))
}

/// One rectification order within the caller's reach, in its rating.
#[utoipa::path(get, path = "/api/v1/rectifications/{id}", tag = "ratings",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, description = "The rating with its order"), (status = 404, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn rectification(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
) -> Answer<Rating> {
    Ok(Json(
        ratings::get_rectification(&s.platform, who.staff()?, &id).await?,
    ))
}

/// The organisation's answer to a rectification order.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderAnswer {
    /// `return_visit` 回访, `rectified` 整改 or `explained` 说明.
    #[serde(default)]
    pub action: String,
    /// What was done (2 to 1000 characters); sent to the rater.
    #[serde(default)]
    pub outcome: String,
}

/// The organisation rated answers the order, once; the rater is told by SMS and in-site
/// message.
#[utoipa::path(post, path = "/api/v1/rectifications/{id}/answer", tag = "ratings",
    params(("id" = String, Path, description = "Order id")), request_body = OrderAnswer,
    responses((status = 200, description = "The answered order"), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn answer(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<OrderAnswer>,
) -> Answer<Rectification> {
    Ok(Json(
        ratings::answer(&s.platform, who.staff()?, &id, &b.action, &b.outcome).await?,
    ))
}

/// The rater's rating of the fix.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FixRating {
    /// 1 to 5.
    #[serde(default)]
    pub fix_level: Option<i64>,
    /// Up to 500 characters; required for 1 and 2.
    #[serde(default)]
    pub comment: Option<String>,
}

/// The rater rates the outcome of an answered order, once.
#[utoipa::path(post, path = "/api/v1/rectifications/{id}/fix-rating", tag = "ratings",
    params(("id" = String, Path, description = "Order id")), request_body = FixRating,
    responses((status = 200, description = "The order with the fix rated"),
        (status = 404, body = crate::error::Problem, description = "Not the caller's rating"),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn fix_rating(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<FixRating>,
) -> Answer<Rectification> {
    let user = who.user()?;
    Ok(Json(
        ratings::rate_fix(
            &s.platform,
            user,
            &id,
            b.fix_level,
            b.comment.as_deref().unwrap_or(""),
        )
        .await?,
    ))
}

/// A reason.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AppealReason {
    /// Why (2 to 1000 characters).
    #[serde(default)]
    pub reason: String,
}

/// 申诉: the organisation rated says a bad rating is malicious, once.
#[utoipa::path(post, path = "/api/v1/ratings/{id}/appeal", tag = "ratings",
    params(("id" = String, Path, description = "Rating id")), request_body = AppealReason,
    responses((status = 200, description = "The order with the appeal pending"),
        (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn appeal(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<AppealReason>,
) -> Answer<Rectification> {
    Ok(Json(
        ratings::appeal(&s.platform, who.staff()?, &id, &b.reason).await?,
    ))
}

/// A supervisor's decision on an appeal.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AppealDecision {
    /// `uphold` (the rating is excluded) or `reject`.
    #[serde(default)]
    pub decision: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// A supervisor within reach decides a pending appeal: upheld, the rating is `excluded` and
/// its order `closed`.
#[utoipa::path(post, path = "/api/v1/ratings/{id}/appeal-decision", tag = "ratings",
    params(("id" = String, Path, description = "Rating id")), request_body = AppealDecision,
    responses((status = 200, description = "The order with the decision"),
        (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn decide_appeal(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<AppealDecision>,
) -> Answer<Rectification> {
    let staff = who.staff()?;
    yiwang_services::supervision::may_supervise(staff)?;
    let uphold = match b.decision.trim() {
        "uphold" => true,
        "reject" => false,
        _ => {
            return Err(RatingsError(ServiceError::invalid(
                "decision",
                "decision 须为 uphold 或 reject",
                "decision is uphold or reject",
            )));
        }
    };
    Ok(Json(
        ratings::decide_appeal(&s.platform, staff, &id, uphold, &b.reason).await?,
    ))
}
