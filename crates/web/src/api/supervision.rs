//! The 电子监察 API: the live board, signals (申诉, 撤销, 维持), supervision orders (督办) and
//! the rule set with its versions; and, on a server started with `--simulated-clock`, the
//! clock that demos and tests move forward. Every call needs a staff token; what it shows and
//! allows is decided by `yiwang_services::supervision` (supervisors their region, system
//! administrators everywhere, other staff their organisation's).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_services::ServiceError;
use yiwang_services::supervision::rules::RuleSet;
use yiwang_services::supervision::signals::{self, BoardRow, Order, Signal, SignalQuery};
use yiwang_services::supervision::{self, RuleVersion, SweepRun};

use super::cases::{Body, Caller, query_error};
use crate::Shared;
use crate::error::ApiError;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/supervision/board", get(board))
        .route("/supervision/signals", get(list))
        .route("/supervision/signals/{id}", get(one))
        .route("/supervision/signals/{id}/appeal", post(appeal))
        .route("/supervision/signals/{id}/decision", post(decide))
        .route("/supervision/signals/{id}/orders", post(issue_order))
        .route("/supervision/orders", get(orders))
        .route("/supervision/orders/{id}/answer", post(answer_order))
        .route("/supervision/rules", get(rules).put(save_rules))
        .route("/supervision/sweep", post(sweep))
        .route("/supervision/clock", get(clock).post(advance_clock))
}

type Answer<T> = Result<Json<T>, ApiError>;

/// The live board of the caller's reach: by organisation, open cases in time, warned, overdue
/// and paused, and open irregularities.
#[utoipa::path(get, path = "/api/v1/supervision/board", tag = "supervision",
    responses((status = 200, description = "One row per organisation")), security(("bearer" = ["cases"])))]
async fn board(State(s): State<Shared>, who: Caller) -> Answer<Vec<BoardRow>> {
    Ok(Json(signals::board(&s.platform, who.staff()?).await?))
}

/// Signals within the caller's reach, newest first; `status`, `signal_type`, `case_id`,
/// `rule_no`, `org` and `case_no` filter.
#[utoipa::path(get, path = "/api/v1/supervision/signals", tag = "supervision",
    params(("status" = Option<String>, Query, description = "open, appealed, withdrawn, upheld"),
        ("signal_type" = Option<String>, Query, description = "warning, yellow, red, irregular"),
        ("case_id" = Option<String>, Query, description = "One case"),
        ("rule_no" = Option<String>, Query, description = "One rule (JC03)"),
        ("org" = Option<String>, Query, description = "One responsible organisation (credit code)"),
        ("case_no" = Option<String>, Query, description = "One case number")),
    responses((status = 200, description = "Signals")), security(("bearer" = ["cases"])))]
async fn list(
    State(s): State<Shared>,
    who: Caller,
    q: Result<Query<SignalQuery>, QueryRejection>,
) -> Answer<Vec<Signal>> {
    let Query(q) = q.map_err(|e| query_error(&e))?;
    Ok(Json(signals::list(&s.platform, who.staff()?, &q).await?))
}

/// One signal.
#[utoipa::path(get, path = "/api/v1/supervision/signals/{id}", tag = "supervision",
    params(("id" = String, Path, description = "Signal id")),
    responses((status = 200, description = "The signal"), (status = 404, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn one(State(s): State<Shared>, who: Caller, Path(id): Path<String>) -> Answer<Signal> {
    Ok(Json(signals::get(&s.platform, who.staff()?, &id).await?))
}

/// A reason.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Reason {
    /// Why (2 to 1000 characters).
    pub reason: String,
}

/// 申诉: the responsible organisation says the signal was raised wrongly.
#[utoipa::path(post, path = "/api/v1/supervision/signals/{id}/appeal", tag = "supervision",
    params(("id" = String, Path, description = "Signal id")), request_body = Reason,
    responses((status = 200, description = "Appealed"), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "Not open")),
    security(("bearer" = ["cases"])))]
async fn appeal(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<Reason>,
) -> Answer<Signal> {
    Ok(Json(
        signals::appeal(&s.platform, who.staff()?, &id, &b.reason).await?,
    ))
}

/// A supervisor's decision on a signal.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Decision {
    /// `withdraw` (raised wrongly) or `uphold` (an appeal refused).
    pub decision: String,
    /// Why.
    pub reason: String,
}

/// Withdraws a signal raised wrongly, or upholds it against an appeal (supervisors).
#[utoipa::path(post, path = "/api/v1/supervision/signals/{id}/decision", tag = "supervision",
    params(("id" = String, Path, description = "Signal id")), request_body = Decision,
    responses((status = 200, description = "Decided"), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn decide(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<Decision>,
) -> Answer<Signal> {
    let withdraw = match b.decision.as_str() {
        "withdraw" => true,
        "uphold" => false,
        _ => {
            return Err(ApiError(ServiceError::invalid(
                "decision",
                "decision 须为 withdraw 或 uphold",
                "decision is withdraw or uphold",
            )));
        }
    };
    Ok(Json(
        signals::decide(&s.platform, who.staff()?, &id, withdraw, &b.reason).await?,
    ))
}

/// `POST /supervision/signals/{id}/orders`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewOrder {
    /// What the organisation must do and answer.
    pub content: String,
    /// Working days to answer (1 to 30).
    pub days: u32,
}

/// 督办: a supervisor orders the responsible organisation to act on a signal and answer by a
/// deadline.
#[utoipa::path(post, path = "/api/v1/supervision/signals/{id}/orders", tag = "supervision",
    params(("id" = String, Path, description = "Signal id")), request_body = NewOrder,
    responses((status = 200, description = "The order"), (status = 403, body = crate::error::Problem),
        (status = 400, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn issue_order(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<NewOrder>,
) -> Answer<Order> {
    Ok(Json(
        signals::issue_order(&s.platform, who.staff()?, &id, &b.content, b.days).await?,
    ))
}

/// Supervision orders within the caller's reach.
#[utoipa::path(get, path = "/api/v1/supervision/orders", tag = "supervision",
    responses((status = 200, description = "Orders, newest first")), security(("bearer" = ["cases"])))]
async fn orders(State(s): State<Shared>, who: Caller) -> Answer<Vec<Order>> {
    Ok(Json(signals::orders(&s.platform, who.staff()?).await?))
}

/// An answer.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderAnswer {
    /// What was done.
    pub response: String,
}

/// The organisation an order is addressed to answers it, once.
#[utoipa::path(post, path = "/api/v1/supervision/orders/{id}/answer", tag = "supervision",
    params(("id" = String, Path, description = "Order id")), request_body = OrderAnswer,
    responses((status = 200, description = "Answered"), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn answer_order(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<OrderAnswer>,
) -> Answer<Order> {
    Ok(Json(
        signals::answer_order(&s.platform, who.staff()?, &id, &b.response).await?,
    ))
}

/// The rule set in force and every earlier version.
#[derive(Debug, Serialize)]
pub struct RulesAnswer {
    /// The version in force (0: the platform's standard rules, never changed).
    pub version: i64,
    /// Its rules.
    pub rules: RuleSet,
    /// Saved versions, newest first.
    pub history: Vec<RuleVersion>,
}

/// The rules (any staff may read them).
#[utoipa::path(get, path = "/api/v1/supervision/rules", tag = "supervision",
    responses((status = 200, description = "The rule set in force and its history")),
    security(("bearer" = ["cases"])))]
async fn rules(State(s): State<Shared>, who: Caller) -> Answer<RulesAnswer> {
    who.staff()?;
    let (version, rules) = supervision::current_rules(&s.platform).await?;
    let history = supervision::rule_versions(&s.platform).await?;
    Ok(Json(RulesAnswer {
        version,
        rules,
        history,
    }))
}

/// A new version of the rules.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRules {
    /// The rules: each `no`, `kind`, `enabled`, `days` (预警 only, 1 to 10), `items`, `regions`.
    #[schema(value_type = Object)]
    pub rules: RuleSet,
    /// What changed and why.
    pub note: String,
}

/// Saves a new version of the rules (system administrators); every problem at once.
#[utoipa::path(put, path = "/api/v1/supervision/rules", tag = "supervision", request_body = NewRules,
    responses((status = 200, description = "The new version number"),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn save_rules(State(s): State<Shared>, who: Caller, Body(b): Body<NewRules>) -> Answer<i64> {
    Ok(Json(
        supervision::save_rules(&s.platform, who.staff()?, b.rules, &b.note).await?,
    ))
}

/// Runs the deadline sweep now (supervisors and system administrators).
#[utoipa::path(post, path = "/api/v1/supervision/sweep", tag = "supervision",
    responses((status = 200, description = "What the sweep did"), (status = 403, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn sweep(State(s): State<Shared>, who: Caller) -> Answer<SweepRun> {
    supervision::may_supervise(who.staff()?)?;
    let run = supervision::sweep(&s.platform).await?;
    Ok(Json(run))
}

/// The simulated clock.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClockState {
    /// Now, on the platform's clock (RFC 3339).
    pub now: String,
    /// Whether the server runs on the simulated clock (`--simulated-clock`).
    pub simulated: bool,
}

/// The platform's clock.
#[utoipa::path(get, path = "/api/v1/supervision/clock", tag = "supervision",
    responses((status = 200, body = ClockState)), security(("bearer" = ["cases"])))]
async fn clock(State(s): State<Shared>, who: Caller) -> Answer<ClockState> {
    who.staff()?;
    Ok(Json(ClockState {
        now: yiwang_store::fmt_time(s.platform.now()),
        simulated: s.platform.simulated_clock().is_some(),
    }))
}

/// How far to move the simulated clock.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Advance {
    /// Hours forward (1 to 8760).
    #[serde(default)]
    pub hours: i64,
    /// Days forward (calendar days, 1 to 365).
    #[serde(default)]
    pub days: i64,
}

/// Moves the simulated clock forward (system administrators; only on a server started with
/// `--simulated-clock`, else 409); the sweep then runs at once.
#[utoipa::path(post, path = "/api/v1/supervision/clock", tag = "supervision", request_body = Advance,
    responses((status = 200, body = ClockState), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "Not a simulated clock")),
    security(("bearer" = ["cases"])))]
async fn advance_clock(
    State(s): State<Shared>,
    who: Caller,
    Body(b): Body<Advance>,
) -> Answer<ClockState> {
    let staff = who.staff()?;
    supervision::advance_clock(&s.platform, staff, b.days, b.hours).await?;
    Ok(Json(ClockState {
        now: yiwang_store::fmt_time(s.platform.now()),
        simulated: true,
    }))
}
