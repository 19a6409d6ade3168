//! 好差评 (国办发〔2019〕51号): the applicant rates a finished case, once per channel; a bad
//! rating opens a rectification order (整改) for the handling organisation; a malicious rating
//! can be appealed; unrated cases are invited by SMS; the follow-up rate of real-name bad
//! ratings is counted for the supervision board.
//!
//! - **Rate.** [`rate`]: a case that finished (准予, 不予许可, 不予受理, 送达) is rated by its
//!   applicant's account on the web or mobile channel, or at the window (评价器) by a window
//!   clerk who handles the case, for the applicant present; [`rate_by_invitation`] by the link
//!   of an SMS invitation, without signing in. Five levels (5 非常满意 … 1 非常不满意), the five
//!   national indicators scored 1–5 (optional), a comment (required for 不满意 and 非常不满意).
//!   `UNIQUE (case_id, channel)` keeps one rating per channel whatever races.
//! - **Rectify.** A rating of level 1 or 2 opens, in the same transaction, a rectification
//!   order for the handling organisation, due in [`rectification_days`] working days (a stored
//!   setting, default 5) on the working-day calendar; the organisation's approvers and
//!   department administrators are told by SMS. The organisation answers once ([`answer`]:
//!   回访, 整改 or 说明, with the outcome); the rater is told (SMS and an in-site message) and may
//!   rate the fix once ([`rate_fix`]).
//! - **Appeal.** The organisation appeals a bad rating as malicious ([`appeal`]); a supervisor
//!   within reach upholds it — the rating is `excluded` and its order `closed`, in one
//!   transaction — or rejects it, with the reason ([`decide_appeal`]).
//! - **Invite.** [`invite`] (every supervision sweep, and when the simulated clock moves) finds
//!   the cases that finished three or more days ago with no rating and no invitation, and sends
//!   each applicant one SMS with a link `/rate/{token}`; only the token's SHA-256 is stored.
//! - **Follow up.** [`follow_up`]: real-name bad ratings within reach, how many were answered,
//!   the rate (the national requirement is 100%) and the late ones.
//!
//! Who sees what follows [`Reach`]: system administrators everything, supervisors their region,
//! other staff their organisation's. Staff actions are written to the audit log in the
//! transaction that makes them; the rows keep who and when besides.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use yiwang_domain::case::CaseState;
use yiwang_store::{Row, fmt_time, parse_time};

use super::signals::Reach;
use crate::cases::{Access, Case};
use crate::identity::audit::{self, Entry};
use crate::identity::staff::{Role, Staff};
use crate::identity::users::User;
use crate::{FieldError, Platform, ServiceError};

/// The national indicators (评价指标): key, Chinese and English names.
pub const INDICATORS: [(&str, &str, &str); 5] = [
    ("guide", "办事指南", "Service guide"),
    ("process", "办理流程", "Process"),
    ("timeliness", "办理时限", "Time taken"),
    ("attitude", "服务态度", "Attitude"),
    ("result", "办理结果", "Result"),
];

/// The levels, best first: value, Chinese and English names.
pub const LEVELS: [(i64, &str, &str); 5] = [
    (5, "非常满意", "very satisfied"),
    (4, "满意", "satisfied"),
    (3, "基本满意", "fairly satisfied"),
    (2, "不满意", "dissatisfied"),
    (1, "非常不满意", "very dissatisfied"),
];

/// The channels a rating comes through.
pub const CHANNELS: [&str; 4] = ["web", "mobile", "window", "sms"];

/// The answers a unit gives to a rectification order: key, Chinese and English names.
pub const ACTIONS: [(&str, &str, &str); 3] = [
    ("return_visit", "回访", "return visit"),
    ("rectified", "整改", "rectified"),
    ("explained", "说明", "explained"),
];

/// A comment's longest length (characters).
pub const COMMENT_MAX: usize = 500;

/// Working days a rectification order is due in until an administrator sets another number.
pub const DEFAULT_RECTIFICATION_DAYS: u32 = 5;

/// Days after a case finished when its applicant is invited to rate it.
pub const INVITE_AFTER_DAYS: i64 = 3;

/// Days an invitation link stays valid.
pub const INVITATION_VALID_DAYS: i64 = 30;

/// How far back the first invitation sweep looks (and any sweep after a long stop): cases
/// that finished longer ago than this before the 3 days are not invited.
const INVITE_LOOKBACK_DAYS: i64 = 30;

/// How far behind its cursor the invitation sweep reads again (a decision that committed late).
const INVITE_OVERLAP_MINUTES: i64 = 60;

/// Cases the invitation sweep handles per query and round.
const INVITE_PAGE: i64 = 2_000;

/// The sweep's cursor in `supervision_cursor`.
const INVITE_CURSOR: &str = "ratings.invitations";

/// The setting of the rectification deadline in `meta`.
const DAYS_SETTING: &str = "ratings.rectification_days";

/// The Chinese and English names of a level (empty for a value that is none).
pub fn level_label(level: i64) -> (&'static str, &'static str) {
    LEVELS
        .iter()
        .find(|(v, _, _)| *v == level)
        .map_or(("", ""), |(_, zh, en)| (*zh, *en))
}

/// The Chinese and English names of an answer's action.
pub fn action_label(action: &str) -> (&'static str, &'static str) {
    ACTIONS
        .iter()
        .find(|(k, _, _)| *k == action)
        .map_or(("", ""), |(_, zh, en)| (*zh, *en))
}

/// The Chinese and English names of a channel.
pub fn channel_label(channel: &str) -> (&'static str, &'static str) {
    match channel {
        "web" => ("网站", "web"),
        "mobile" => ("移动端", "mobile"),
        "window" => ("窗口评价器", "window pad"),
        "sms" => ("短信", "SMS"),
        _ => ("", ""),
    }
}

/// Whether a case has finished (办结): it may be rated.
pub fn finished(state: CaseState) -> bool {
    matches!(
        state,
        CaseState::Approved | CaseState::Rejected | CaseState::NotAccepted | CaseState::Delivered
    )
}

/// What a rater submits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RatingInput {
    /// 1 to 5 (`None`: not chosen).
    pub level: Option<i64>,
    /// Indicator scores by key ([`INDICATORS`]), each 1 to 5; those not given are absent.
    pub scores: BTreeMap<String, i64>,
    /// The comment (required for levels 1 and 2).
    pub comment: String,
}

/// Who rates, and through which channel.
#[derive(Debug, Clone, Copy)]
pub enum Rater<'a> {
    /// The applicant's account: `channel` is `web` or `mobile`.
    Citizen {
        /// The signed-in citizen.
        user: &'a User,
        /// `web` or `mobile`.
        channel: &'a str,
    },
    /// The rating pad at the window (评价器): a window clerk who handles the case submits it
    /// for the applicant present; `identified` when the clerk checked the applicant's identity
    /// (the rating is then real-name).
    Window {
        /// The clerk.
        clerk: &'a Staff,
        /// Whether the applicant was identified.
        identified: bool,
    },
}

/// A rating with its rectification order, if it has one.
#[derive(Debug, Clone, Serialize)]
pub struct Rating {
    /// Id.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// 办件编号.
    pub case_no: String,
    /// 实施编码.
    pub item_code: String,
    /// The item's name.
    pub item_name: String,
    /// The handling organisation (credit code).
    pub org: String,
    /// Its name.
    pub org_name: String,
    /// Its region.
    pub region: String,
    /// `web`, `mobile`, `window`, `sms`.
    pub channel: String,
    /// 5 非常满意 … 1 非常不满意.
    pub level: i64,
    /// The indicator scores given, by key.
    pub scores: BTreeMap<String, i64>,
    /// The comment.
    pub comment: String,
    /// Whether the rater is identified (实名).
    pub real_name: bool,
    /// The rater's account, when known.
    pub rater_user: Option<String>,
    /// When.
    pub rated_at: String,
    /// `valid`, or `excluded` (found malicious on appeal).
    pub status: String,
    /// The rectification order a bad rating opened.
    pub rectification: Option<Rectification>,
}

/// A rectification order (整改) with its appeal.
#[derive(Debug, Clone, Serialize)]
pub struct Rectification {
    /// Id.
    pub id: String,
    /// 整改编号.
    pub number: String,
    /// The rating.
    pub rating_id: String,
    /// The case.
    pub case_id: String,
    /// The organisation that must act.
    pub org: String,
    /// Its region.
    pub region: String,
    /// Whether the rating is real-name.
    pub real_name: bool,
    /// Opened (when the rating was given).
    pub opened_at: String,
    /// Due by.
    pub due_at: String,
    /// `open`, `answered`, `closed` (the rating was excluded on appeal).
    pub status: String,
    /// `return_visit` 回访, `rectified` 整改, `explained` 说明.
    pub action: Option<String>,
    /// What was done, as told to the rater.
    pub outcome: Option<String>,
    /// Who answered (staff id) and their name.
    pub answered_by: Option<String>,
    /// The answerer's name.
    pub answered_by_name: Option<String>,
    /// When.
    pub answered_at: Option<String>,
    /// The rater's rating of the fix (1 to 5).
    pub fix_level: Option<i64>,
    /// Its comment.
    pub fix_comment: Option<String>,
    /// When.
    pub fix_rated_at: Option<String>,
    /// Why the unit says the rating is malicious.
    pub appeal_reason: Option<String>,
    /// `pending`, `upheld` (rating excluded), `rejected`.
    pub appeal_status: Option<String>,
    /// Who appealed (staff id).
    pub appealed_by: Option<String>,
    /// Their name.
    pub appealed_by_name: Option<String>,
    /// When.
    pub appealed_at: Option<String>,
    /// The supervisor's reason.
    pub appeal_decision: Option<String>,
    /// Who decided (staff id).
    pub appeal_decided_by: Option<String>,
    /// Their name.
    pub appeal_decided_by_name: Option<String>,
    /// When.
    pub appeal_decided_at: Option<String>,
    /// Answered after the deadline, or still open past it (at the time of reading).
    pub late: bool,
}

const SELECT: &str = "SELECT r.id, r.case_id, r.case_no, r.item_code, c.item_name, r.org, \
     r.region, r.channel, r.level, r.scores, r.comment, r.real_name, r.rater_user, r.rated_at, \
     r.status, x.id AS x_id, x.number AS x_number, x.opened_at AS x_opened_at, \
     x.due_at AS x_due_at, x.status AS x_status, x.action AS x_action, x.outcome AS x_outcome, \
     x.answered_by AS x_answered_by, sa.display_name AS x_answered_name, \
     x.answered_at AS x_answered_at, x.fix_level AS x_fix_level, \
     x.fix_comment AS x_fix_comment, x.fix_rated_at AS x_fix_rated_at, \
     x.appeal_reason AS x_appeal_reason, x.appeal_status AS x_appeal_status, \
     x.appealed_by AS x_appealed_by, sp.display_name AS x_appealed_name, \
     x.appealed_at AS x_appealed_at, x.appeal_decision AS x_appeal_decision, \
     x.appeal_decided_by AS x_decided_by, sd.display_name AS x_decided_name, \
     x.appeal_decided_at AS x_decided_at \
     FROM ratings r JOIN cases c ON c.id = r.case_id";

const JOINS: &str = "LEFT JOIN staff sa ON sa.id = x.answered_by \
     LEFT JOIN staff sp ON sp.id = x.appealed_by \
     LEFT JOIN staff sd ON sd.id = x.appeal_decided_by";

/// The ratings query with every rating (`LEFT JOIN`) or only those with an order.
fn select(with_order_only: bool) -> String {
    let join = if with_order_only { "JOIN" } else { "LEFT JOIN" };
    format!("{SELECT} {join} rectifications x ON x.rating_id = r.id {JOINS}")
}

fn rating_row(
    p: &Platform,
    r: &yiwang_store::AnyRow,
    now: DateTime<Utc>,
) -> Result<Rating, ServiceError> {
    let scores: String = r.try_get("scores")?;
    let org: String = r.try_get("org")?;
    let region: String = r.try_get("region")?;
    let real_name = r.try_get::<i64, _>("real_name")? != 0;
    let rectification = match r.try_get::<Option<String>, _>("x_id")? {
        None => None,
        Some(id) => {
            let due_at: String = r.try_get("x_due_at")?;
            let status: String = r.try_get("x_status")?;
            let answered_at: Option<String> = r.try_get("x_answered_at")?;
            let late = match &answered_at {
                Some(a) => a > &due_at,
                None => status == "open" && fmt_time(now) > due_at,
            };
            Some(Rectification {
                id,
                number: r.try_get("x_number")?,
                rating_id: r.try_get("id")?,
                case_id: r.try_get("case_id")?,
                org: org.clone(),
                region: region.clone(),
                real_name,
                opened_at: r.try_get("x_opened_at")?,
                due_at,
                status,
                action: r.try_get("x_action")?,
                outcome: r.try_get("x_outcome")?,
                answered_by: r.try_get("x_answered_by")?,
                answered_by_name: r.try_get("x_answered_name")?,
                answered_at,
                fix_level: r.try_get("x_fix_level")?,
                fix_comment: r.try_get("x_fix_comment")?,
                fix_rated_at: r.try_get("x_fix_rated_at")?,
                appeal_reason: r.try_get("x_appeal_reason")?,
                appeal_status: r.try_get("x_appeal_status")?,
                appealed_by: r.try_get("x_appealed_by")?,
                appealed_by_name: r.try_get("x_appealed_name")?,
                appealed_at: r.try_get("x_appealed_at")?,
                appeal_decision: r.try_get("x_appeal_decision")?,
                appeal_decided_by: r.try_get("x_decided_by")?,
                appeal_decided_by_name: r.try_get("x_decided_name")?,
                appeal_decided_at: r.try_get("x_decided_at")?,
                late,
            })
        }
    };
    Ok(Rating {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        case_no: r.try_get("case_no")?,
        item_code: r.try_get("item_code")?,
        item_name: r.try_get("item_name")?,
        org_name: org_name(p, &org),
        org,
        region,
        channel: r.try_get("channel")?,
        level: r.try_get("level")?,
        scores: serde_json::from_str(&scores)?,
        comment: r.try_get("comment")?,
        real_name,
        rater_user: r.try_get("rater_user")?,
        rated_at: r.try_get("rated_at")?,
        status: r.try_get("status")?,
        rectification,
    })
}

fn org_name(p: &Platform, org: &str) -> String {
    p.master
        .get()
        .organisation(org)
        .map(|o| o.name.clone())
        .unwrap_or_default()
}

// --- settings ----------------------------------------------------------------------------------

/// Working days a new rectification order is due in (the stored setting, else 5).
pub async fn rectification_days(p: &Platform) -> Result<u32, ServiceError> {
    let v: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(DAYS_SETTING)
        .fetch_optional(p.db.pool())
        .await?;
    Ok(v.and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|d| (1..=30).contains(d))
        .unwrap_or(DEFAULT_RECTIFICATION_DAYS))
}

/// Sets the working days a new rectification order is due in (system administrators; 1 to
/// 30; orders already open keep their deadline).
pub async fn set_rectification_days(
    p: &Platform,
    actor: &Staff,
    days: u32,
) -> Result<u32, ServiceError> {
    if !actor.has(Role::SystemAdmin) {
        return Err(ServiceError::Forbidden(
            "只有系统管理员可以设置整改时限 / only system administrators set the deadline".into(),
        ));
    }
    if !(1..=30).contains(&days) {
        return Err(ServiceError::invalid(
            "days",
            "整改时限须为1至30个工作日",
            "the deadline is 1 to 30 working days",
        ));
    }
    let now = p.now();
    let mut tx = p.db.begin().await?;
    sqlx::query("DELETE FROM meta WHERE key = $1")
        .bind(DAYS_SETTING)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
        .bind(DAYS_SETTING)
        .bind(days.to_string())
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            &staff_actor(actor),
            "ratings.settings",
            DAYS_SETTING,
            json!({ "days": days }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(days)
}

fn staff_actor(actor: &Staff) -> String {
    format!("staff:{}", actor.id)
}

// --- rating ------------------------------------------------------------------------------------

/// Checks what a rater submitted: every problem at once. Returns the trimmed comment.
fn check_input(input: &RatingInput) -> Result<String, ServiceError> {
    let mut errors = Vec::new();
    match input.level {
        None => errors.push(FieldError::new(
            "level",
            "请选择评价等级（1至5）",
            "choose a level (1 to 5)",
        )),
        Some(l) if !(1..=5).contains(&l) => errors.push(FieldError::new(
            "level",
            format!("评价等级须为1至5，收到{l}"),
            format!("the level is 1 to 5, not {l}"),
        )),
        Some(_) => {}
    }
    for (key, score) in &input.scores {
        let Some((_, zh, en)) = INDICATORS.iter().find(|(k, _, _)| k == key) else {
            errors.push(FieldError::new(
                format!("scores.{key}"),
                format!("没有名为“{key}”的评价指标"),
                format!("there is no indicator '{key}'"),
            ));
            continue;
        };
        if !(1..=5).contains(score) {
            errors.push(FieldError::new(
                format!("scores.{key}"),
                format!("“{zh}”的评分须为1至5"),
                format!("the score of '{en}' is 1 to 5"),
            ));
        }
    }
    let comment = input.comment.trim();
    if comment.chars().count() > COMMENT_MAX {
        errors.push(FieldError::new(
            "comment",
            format!("评价内容不能超过{COMMENT_MAX}字"),
            format!("the comment has at most {COMMENT_MAX} characters"),
        ));
    } else if input.level.is_some_and(|l| l <= 2) && comment.is_empty() {
        errors.push(FieldError::new(
            "comment",
            "“不满意”或“非常不满意”的评价请说明原因",
            "say why when you are dissatisfied",
        ));
    }
    if errors.is_empty() {
        Ok(comment.to_owned())
    } else {
        Err(ServiceError::Invalid(errors))
    }
}

/// A case by its id or its 办件编号 (`NotFound` otherwise).
async fn case_by_key(p: &Platform, key: &str) -> Result<Case, ServiceError> {
    let key = key.trim();
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM cases WHERE id = $1 OR case_no = $1",
        crate::cases::CASE_COLUMNS
    )))
    .bind(key)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(|| crate::cases::not_found(key))?;
    crate::cases::case_row(p, &r)
}

/// Rates a finished case (see the module docs): the citizen their own case (`NotFound` for
/// anybody else's), a window clerk who handles it for the applicant present. `case` is the
/// case's id or its 办件编号. A case not finished and a channel already used are `Conflict`;
/// bad values are `Invalid`, with every field, and nothing is stored.
pub async fn rate(
    p: &Platform,
    rater: Rater<'_>,
    case: &str,
    input: &RatingInput,
) -> Result<Rating, ServiceError> {
    let c = case_by_key(p, case).await?;
    let (channel, real_name, rater_user) = match rater {
        Rater::Citizen { user, channel } => {
            if c.owner_user.as_deref() != Some(user.id.as_str()) {
                return Err(crate::cases::not_found(case));
            }
            if !matches!(channel, "web" | "mobile") {
                return Err(ServiceError::invalid(
                    "channel",
                    "评价渠道须为 web 或 mobile",
                    "the channel is web or mobile",
                ));
            }
            (channel, true, Some(user.id.clone()))
        }
        Rater::Window { clerk, identified } => {
            match crate::cases::staff_access(p, clerk, &c) {
                None => return Err(crate::cases::not_found(case)),
                Some(Access::Handler) if clerk.has(Role::WindowClerk) => {}
                Some(_) => {
                    return Err(ServiceError::Forbidden(
                        "只有办理该办件的窗口人员可以提交评价器评价 / only a window clerk who \
                         handles the case submits a window rating"
                            .into(),
                    ));
                }
            }
            ("window", identified, c.owner_user.clone())
        }
    };
    store_rating(p, &c, channel, real_name, rater_user, input).await
}

/// The state check, the input check, and the rating (with its order, when bad) in one
/// transaction; the organisation's staff are told of a new order after the commit.
async fn store_rating(
    p: &Platform,
    c: &Case,
    channel: &str,
    real_name: bool,
    rater_user: Option<String>,
    input: &RatingInput,
) -> Result<Rating, ServiceError> {
    if !finished(c.state) {
        return Err(ServiceError::Conflict(format!(
            "办件尚未办结（{}），办结后才能评价 / the case is not finished yet ({}): rate it once \
             it is decided",
            c.state.label_zh(),
            c.state.label_en()
        )));
    }
    let comment = check_input(input)?;
    let level = input.level.unwrap_or_default();
    let region = p
        .master
        .get()
        .organisation(&c.org)
        .map(|o| o.region.clone())
        .unwrap_or_default();
    let now = p.now();
    let at = fmt_time(now);
    let id = uuid::Uuid::now_v7().to_string();
    let days = if level <= 2 {
        rectification_days(p).await?
    } else {
        0
    };
    let mut tx = p.db.begin().await?;
    let done = sqlx::query(
        "INSERT INTO ratings (id, case_id, case_no, item_code, org, region, channel, level, \
         scores, comment, real_name, rater_user, rated_at, status) VALUES ($1, $2, $3, $4, $5, \
         $6, $7, $8, $9, $10, $11, $12, $13, 'valid') ON CONFLICT (case_id, channel) DO NOTHING",
    )
    .bind(&id)
    .bind(&c.id)
    .bind(c.case_no.clone().unwrap_or_default())
    .bind(&c.item_code)
    .bind(&c.org)
    .bind(&region)
    .bind(channel)
    .bind(level)
    .bind(serde_json::to_string(&input.scores)?)
    .bind(&comment)
    .bind(i64::from(real_name))
    .bind(rater_user.clone())
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(ServiceError::Conflict(format!(
            "已评价：该办件已通过“{}”渠道评价，每个渠道只能评价一次 / already rated through this \
             channel ({})",
            channel_label(channel).0,
            channel_label(channel).1
        )));
    }
    let mut order = None;
    if level <= 2 {
        let due = p.calendar().add_working_days(now, days);
        let number = format!(
            "ZG{}{}",
            now.with_timezone(&p.calendar().offset()).format("%Y%m%d"),
            &uuid::Uuid::now_v7().simple().to_string()[20..]
        )
        .to_uppercase();
        sqlx::query(
            "INSERT INTO rectifications (id, number, rating_id, case_id, org, region, real_name, \
             opened_at, due_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open')",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&number)
        .bind(&id)
        .bind(&c.id)
        .bind(&c.org)
        .bind(&region)
        .bind(i64::from(real_name))
        .bind(&at)
        .bind(fmt_time(due))
        .execute(&mut *tx)
        .await?;
        order = Some((number, due));
    }
    tx.commit().await?;
    if let Some((number, due)) = order {
        tell_org(p, c, level, &number, due).await;
    }
    load(p, &id).await
}

/// Tells the organisation's approvers and department administrators (those with a number on
/// file) of a new rectification order; a failure is logged (the order is stored).
async fn tell_org(p: &Platform, c: &Case, level: i64, number: &str, due: DateTime<Utc>) {
    let staff: Result<Vec<(String, String)>, _> = sqlx::query_as(
        "SELECT DISTINCT s.id, s.display_name FROM staff s JOIN staff_roles r ON r.staff_id = s.id \
         WHERE r.org = $1 AND r.role IN ('approver', 'dept_admin') AND s.disabled = 0 \
         AND s.phone_enc IS NOT NULL ORDER BY s.id LIMIT 20",
    )
    .bind(&c.org)
    .fetch_all(p.db.pool())
    .await;
    let staff = match staff {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(case = %c.id, error = %e, "rectification notice: no staff");
            return;
        }
    };
    let due = due
        .with_timezone(&p.calendar().offset())
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let case_no = c.case_no.clone().unwrap_or_default();
    for (id, name) in staff {
        crate::identity::staff_admin::text(
            p,
            &id,
            "rating_rectification",
            &[
                ("name", &name),
                ("case", &case_no),
                ("item", &c.item_name),
                ("level", level_label(level).0),
                ("number", number),
                ("due", &due),
            ],
            &format!("rectification {number}"),
        )
        .await;
    }
}

/// One rating by id, without a reach check.
async fn load(p: &Platform, id: &str) -> Result<Rating, ServiceError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{} WHERE r.id = $1",
        select(false)
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(|| ServiceError::NotFound {
        what: "评价",
        key: id.to_owned(),
    })?;
    rating_row(p, &row, p.now())
}

/// The ratings of a case.
async fn of_case(p: &Platform, case_id: &str) -> Result<Vec<Rating>, ServiceError> {
    let now = p.now();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{} WHERE r.case_id = $1 ORDER BY r.rated_at, r.id",
        select(false)
    )))
    .bind(case_id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(|r| rating_row(p, r, now))
    .collect()
}

/// A case's ratings as its applicant sees them.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRatings {
    /// Whether the case has finished (it may be rated).
    pub finished: bool,
    /// The ratings given, oldest first, each with its order.
    pub ratings: Vec<Rating>,
    /// The channels the applicant may still rate through on their own (`web`, `mobile`).
    pub open_channels: Vec<&'static str>,
}

/// The ratings of the citizen's own case (`NotFound` for anybody else's); `case` is its id or
/// 办件编号.
pub async fn for_case(p: &Platform, user: &User, case: &str) -> Result<CaseRatings, ServiceError> {
    let c = case_by_key(p, case).await?;
    if c.owner_user.as_deref() != Some(user.id.as_str()) {
        return Err(crate::cases::not_found(case));
    }
    let ratings = of_case(p, &c.id).await?;
    let done = finished(c.state);
    let open_channels = ["web", "mobile"]
        .into_iter()
        .filter(|ch| done && !ratings.iter().any(|r| r.channel == *ch))
        .collect();
    Ok(CaseRatings {
        finished: done,
        ratings,
        open_channels,
    })
}

// --- staff: lists -----------------------------------------------------------------------------

/// Filters of the rating list.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RatingQuery {
    /// Only this level (1 to 5).
    #[serde(default)]
    pub level: Option<i64>,
    /// Only bad ratings (levels 1 and 2).
    #[serde(default)]
    pub bad: Option<bool>,
    /// Only this channel.
    #[serde(default)]
    pub channel: Option<String>,
    /// Only this status (`valid`, `excluded`).
    #[serde(default)]
    pub status: Option<String>,
    /// Only this case (办件编号).
    #[serde(default)]
    pub case_no: Option<String>,
    /// Only this organisation (credit code).
    #[serde(default)]
    pub org: Option<String>,
}

/// The ratings within the actor's reach, newest first (at most 500).
pub async fn list(
    p: &Platform,
    actor: &Staff,
    q: &RatingQuery,
) -> Result<Vec<Rating>, ServiceError> {
    let (cond, bind) = Reach::of(actor).condition("r", 1);
    let mut binds: Vec<yiwang_store::Bind> = bind.into_iter().map(Into::into).collect();
    let mut sql = format!("{} WHERE {cond}", select(false));
    let mut add = |column: &str, value: Option<yiwang_store::Bind>, binds: &mut Vec<_>| {
        if let Some(v) = value {
            binds.push(v);
            sql.push_str(&format!(" AND r.{column} = ${}", binds.len()));
        }
    };
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| yiwang_store::Bind::from(v.to_owned()))
    };
    add("level", q.level.map(Into::into), &mut binds);
    add("channel", text(&q.channel), &mut binds);
    add("status", text(&q.status), &mut binds);
    add("case_no", text(&q.case_no), &mut binds);
    add("org", text(&q.org), &mut binds);
    if q.bad == Some(true) {
        sql.push_str(" AND r.level <= 2");
    }
    sql.push_str(" ORDER BY r.rated_at DESC, r.id LIMIT 500");
    let now = p.now();
    yiwang_store::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), binds)
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(|r| rating_row(p, r, now))
        .collect()
}

/// One rating within the actor's reach (`NotFound` otherwise).
pub async fn get(p: &Platform, actor: &Staff, id: &str) -> Result<Rating, ServiceError> {
    match load(p, id).await {
        Ok(r) if Reach::of(actor).covers(&r.org, &r.region) => Ok(r),
        Ok(_) | Err(ServiceError::NotFound { .. }) => Err(ServiceError::NotFound {
            what: "评价",
            key: id.to_owned(),
        }),
        Err(e) => Err(e),
    }
}

/// Filters of the rectification list.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RectificationQuery {
    /// Only this status (`open`, `answered`, `closed`).
    #[serde(default)]
    pub status: Option<String>,
    /// Only this appeal status (`pending`, `upheld`, `rejected`).
    #[serde(default)]
    pub appeal_status: Option<String>,
}

/// The rectification orders within the actor's reach, each with its rating (the order in
/// `rectification`): open ones first by deadline, then the newest (at most 500).
pub async fn rectifications(
    p: &Platform,
    actor: &Staff,
    q: &RectificationQuery,
) -> Result<Vec<Rating>, ServiceError> {
    let (cond, bind) = Reach::of(actor).condition("x", 1);
    let mut binds: Vec<String> = bind.into_iter().collect();
    let mut sql = format!("{} WHERE {cond}", select(true));
    for (column, value) in [("status", &q.status), ("appeal_status", &q.appeal_status)] {
        if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            binds.push(v.to_owned());
            sql.push_str(&format!(" AND x.{column} = ${}", binds.len()));
        }
    }
    sql.push_str(
        " ORDER BY CASE WHEN x.status = 'open' THEN 0 ELSE 1 END, \
         CASE WHEN x.status = 'open' THEN x.due_at ELSE '' END, x.opened_at DESC, x.id LIMIT 500",
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        query = query.bind(b);
    }
    let now = p.now();
    query
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(|r| rating_row(p, r, now))
        .collect()
}

/// One rectification order within the actor's reach, with its rating (`NotFound` otherwise).
pub async fn get_rectification(
    p: &Platform,
    actor: &Staff,
    id: &str,
) -> Result<Rating, ServiceError> {
    let r = load_by_order(p, id).await?;
    if Reach::of(actor).covers(&r.org, &r.region) {
        Ok(r)
    } else {
        Err(order_not_found(id))
    }
}

fn order_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound {
        what: "整改单",
        key: id.to_owned(),
    }
}

async fn load_by_order(p: &Platform, id: &str) -> Result<Rating, ServiceError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{} WHERE x.id = $1",
        select(true)
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(|| order_not_found(id))?;
    rating_row(p, &row, p.now())
}

fn order_of(r: Rating) -> Result<Rectification, ServiceError> {
    r.rectification
        .ok_or_else(|| ServiceError::internal("a rectification's row without its order"))
}

// --- rectification -----------------------------------------------------------------------------

/// The handling organisation answers an open rectification order, once: `action` is
/// `return_visit`, `rectified` or `explained`, `outcome` what was done (2 to 1000 characters).
/// The rater is told by in-site message in the same transaction, and by SMS after it.
pub async fn answer(
    p: &Platform,
    actor: &Staff,
    id: &str,
    action: &str,
    outcome: &str,
) -> Result<Rectification, ServiceError> {
    let r = get_rectification(p, actor, id).await?;
    if actor.org != r.org {
        return Err(ServiceError::Forbidden(
            "只有被评价的办理单位可以答复整改单 / only the organisation rated answers".into(),
        ));
    }
    let mut errors = Vec::new();
    let action = action.trim();
    if !ACTIONS.iter().any(|(k, _, _)| *k == action) {
        errors.push(FieldError::new(
            "action",
            "请选择处理方式：回访（return_visit）、整改（rectified）或说明（explained）",
            "choose return_visit, rectified or explained",
        ));
    }
    let outcome = outcome.trim();
    if outcome.chars().count() < 2 || outcome.chars().count() > 1000 {
        errors.push(FieldError::new(
            "outcome",
            "请填写处理结果（2至1000字）",
            "write the outcome (2 to 1000 characters)",
        ));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let now = p.now();
    let at = fmt_time(now);
    let mut tx = p.db.begin().await?;
    let done = sqlx::query(
        "UPDATE rectifications SET status = 'answered', action = $1, outcome = $2, \
         answered_by = $3, answered_at = $4 WHERE id = $5 AND status = 'open'",
    )
    .bind(action)
    .bind(outcome)
    .bind(&actor.id)
    .bind(&at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(ServiceError::Conflict(
            "整改单已答复或已关闭 / the order is answered or closed already".into(),
        ));
    }
    let action_zh = action_label(action).0;
    if let Some(user) = &r.rater_user {
        crate::cases::post_message(
            &mut tx,
            user,
            Some(&r.case_id),
            "您的评价已处理",
            &format!(
                "您对“{}”（办件编号{}）的评价已由{}处理（{}）：{}。您可以在“我的办件”中对处理结果进行评价。",
                r.item_name, r.case_no, r.org_name, action_zh, outcome
            ),
            &at,
        )
        .await?;
    }
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            &staff_actor(actor),
            "ratings.answer",
            id,
            json!({ "rating": r.id, "case": r.case_id, "org": r.org, "action": action }),
        ),
    )
    .await?;
    tx.commit().await?;
    tell_rater(p, &r, action_zh, outcome).await;
    order_of(load_by_order(p, id).await?)
}

/// Tells the rater the outcome by SMS: at the account's number, else at the case's contact
/// number; a failure is logged (the answer is stored).
async fn tell_rater(p: &Platform, r: &Rating, action: &str, outcome: &str) {
    let Some((name, phone)) = applicant_contact(p, &r.case_id).await else {
        return;
    };
    let mut short: String = outcome.chars().take(60).collect();
    if outcome.chars().count() > 60 {
        short.push('…');
    }
    if let Err(e) = p
        .outside
        .notifier
        .send(
            yiwang_connectors::Channel::Sms,
            &phone,
            "rating_outcome",
            &[
                ("name", &name),
                ("item", &r.item_name),
                ("case", &r.case_no),
                ("org", &r.org_name),
                ("action", action),
                ("outcome", &short),
            ],
        )
        .await
    {
        tracing::warn!(rating = %r.id, error = %e, "rating outcome notice failed");
    }
}

/// The applicant's masked name and mobile number: the owning account's, else the contact
/// number given for the case; `None` when there is none (logged).
async fn applicant_contact(p: &Platform, case_id: &str) -> Option<(String, String)> {
    let row = sqlx::query("SELECT applicant_name, owner_user, phone_enc FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_optional(p.db.pool())
        .await;
    let r = match row {
        Ok(Some(r)) => r,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(case = %case_id, error = %e, "applicant contact unreadable");
            return None;
        }
    };
    let name = yiwang_crypto::mask::mask_name(&r.try_get::<String, _>("applicant_name").ok()?);
    if let Ok(Some(user)) = r.try_get::<Option<String>, _>("owner_user") {
        match crate::identity::users::notice_addresses(p, &user).await {
            Ok((phone, _)) => return Some((name, phone)),
            Err(e) => tracing::warn!(case = %case_id, error = %e, "applicant account unreadable"),
        }
    }
    let enc: String = r.try_get("phone_enc").ok()?;
    match p.keys.pii.decrypt("phone", &enc) {
        Ok(phone) if !phone.trim().is_empty() => Some((name, phone)),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(case = %case_id, error = %e, "case phone unreadable");
            None
        }
    }
}

/// The rater rates the fix of an answered order, once (`fix_level` 1 to 5; a comment of at
/// most 500 characters, required for 1 and 2). `NotFound` for anybody but the rater.
pub async fn rate_fix(
    p: &Platform,
    user: &User,
    id: &str,
    fix_level: Option<i64>,
    comment: &str,
) -> Result<Rectification, ServiceError> {
    let r = load_by_order(p, id).await?;
    if r.rater_user.as_deref() != Some(user.id.as_str()) {
        return Err(order_not_found(id));
    }
    let comment = check_input(&RatingInput {
        level: fix_level,
        scores: BTreeMap::new(),
        comment: comment.to_owned(),
    })
    .map_err(|e| match e {
        ServiceError::Invalid(errs) => ServiceError::Invalid(
            errs.into_iter()
                .map(|mut f| {
                    if f.field == "level" {
                        f.field = "fix_level".into();
                    }
                    f
                })
                .collect(),
        ),
        e => e,
    })?;
    let done = sqlx::query(
        "UPDATE rectifications SET fix_level = $1, fix_comment = $2, fix_rated_at = $3 \
         WHERE id = $4 AND status = 'answered' AND fix_level IS NULL",
    )
    .bind(fix_level.unwrap_or_default())
    .bind(comment)
    .bind(fmt_time(p.now()))
    .bind(id)
    .execute(p.db.writer())
    .await?;
    if done.rows_affected() != 1 {
        return Err(ServiceError::Conflict(
            "整改结果尚未答复，或已评价过 / the outcome is not answered yet, or was rated already"
                .into(),
        ));
    }
    order_of(load_by_order(p, id).await?)
}

// --- appeal ------------------------------------------------------------------------------------

/// 申诉: the organisation rated says a bad rating is malicious, once. Only a rating with a
/// rectification order (a bad one) may be appealed.
pub async fn appeal(
    p: &Platform,
    actor: &Staff,
    rating_id: &str,
    reason: &str,
) -> Result<Rectification, ServiceError> {
    let r = get(p, actor, rating_id).await?;
    if actor.org != r.org {
        return Err(ServiceError::Forbidden(
            "只有被评价的办理单位可以申诉 / only the organisation rated appeals".into(),
        ));
    }
    let Some(order) = &r.rectification else {
        return Err(ServiceError::Conflict(
            "只有差评可以申诉 / only a bad rating is appealed".into(),
        ));
    };
    let reason = super::signals::reason_of(reason)?;
    let now = p.now();
    let mut tx = p.db.begin().await?;
    let done = sqlx::query(
        "UPDATE rectifications SET appeal_status = 'pending', appeal_reason = $1, \
         appealed_by = $2, appealed_at = $3 WHERE id = $4 AND appeal_status IS NULL \
         AND status <> 'closed'",
    )
    .bind(&reason)
    .bind(&actor.id)
    .bind(fmt_time(now))
    .bind(&order.id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(ServiceError::Conflict(
            "该评价已申诉过 / the rating was appealed already".into(),
        ));
    }
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            &staff_actor(actor),
            "ratings.appeal",
            rating_id,
            json!({ "order": order.id, "case": r.case_id, "org": r.org }),
        ),
    )
    .await?;
    tx.commit().await?;
    order_of(load_by_order(p, &order.id).await?)
}

/// A supervisor within reach decides a pending appeal, with the reason: upheld, the rating is
/// `excluded` and its order `closed` (one transaction); rejected, both stay as they are.
pub async fn decide_appeal(
    p: &Platform,
    actor: &Staff,
    rating_id: &str,
    uphold: bool,
    reason: &str,
) -> Result<Rectification, ServiceError> {
    super::may_supervise(actor)?;
    let r = get(p, actor, rating_id).await?;
    let Some(order) = &r.rectification else {
        return Err(ServiceError::Conflict(
            "该评价没有待处理的申诉 / the rating has no pending appeal".into(),
        ));
    };
    let reason = super::signals::reason_of(reason)?;
    let now = p.now();
    let at = fmt_time(now);
    let mut tx = p.db.begin().await?;
    let to = if uphold { "upheld" } else { "rejected" };
    let done = sqlx::query(
        "UPDATE rectifications SET appeal_status = $1, appeal_decision = $2, \
         appeal_decided_by = $3, appeal_decided_at = $4 WHERE id = $5 \
         AND appeal_status = 'pending'",
    )
    .bind(to)
    .bind(&reason)
    .bind(&actor.id)
    .bind(&at)
    .bind(&order.id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(ServiceError::Conflict(
            "该评价没有待处理的申诉 / the rating has no pending appeal".into(),
        ));
    }
    if uphold {
        sqlx::query("UPDATE rectifications SET status = 'closed' WHERE id = $1")
            .bind(&order.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE ratings SET status = 'excluded' WHERE id = $1")
            .bind(rating_id)
            .execute(&mut *tx)
            .await?;
    }
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            &staff_actor(actor),
            if uphold {
                "ratings.appeal_upheld"
            } else {
                "ratings.appeal_rejected"
            },
            rating_id,
            json!({ "order": order.id, "case": r.case_id, "org": r.org }),
        ),
    )
    .await?;
    tx.commit().await?;
    order_of(load_by_order(p, &order.id).await?)
}

// --- invitations -------------------------------------------------------------------------------

fn token_hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sends the invitations due (see the module docs); returns how many were sent. Cases are read
/// by their finish time after the sweep's cursor (with an hour's overlap), so a sweep reads
/// only what finished since the last one: `decided_at` for decided cases, `accepted_at` for
/// those refused at acceptance (不予受理 records its time there, not in `decided_at`).
pub async fn invite(p: &Platform) -> Result<usize, ServiceError> {
    let now = p.now();
    let until = now - chrono::Duration::days(INVITE_AFTER_DAYS);
    let floor = until - chrono::Duration::days(INVITE_LOOKBACK_DAYS);
    let cursor: Option<String> =
        sqlx::query_scalar("SELECT created_at FROM supervision_cursor WHERE consumer = $1")
            .bind(INVITE_CURSOR)
            .fetch_optional(p.db.pool())
            .await?;
    let from = cursor
        .as_deref()
        .and_then(parse_time)
        .map(|c| (c - chrono::Duration::minutes(INVITE_OVERLAP_MINUTES)).max(floor))
        .unwrap_or(floor);
    if from >= until {
        return Ok(0);
    }
    let (from_s, until_s) = (fmt_time(from), fmt_time(until));
    let unrated = "NOT EXISTS (SELECT 1 FROM ratings r WHERE r.case_id = c.id) \
         AND NOT EXISTS (SELECT 1 FROM rating_invitations i WHERE i.case_id = c.id)";
    let mut next = until_s.clone();
    let mut sent = 0;
    for (column, states) in [
        ("decided_at", "('approved', 'rejected', 'delivered')"),
        ("accepted_at", "('not_accepted')"),
    ] {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.id, c.case_no, c.item_name, c.{column} AS finished_at FROM cases c \
             WHERE c.{column} > $1 AND c.{column} <= $2 AND c.state IN {states} AND {unrated} \
             ORDER BY c.{column}, c.id LIMIT $3"
        )))
        .bind(&from_s)
        .bind(&until_s)
        .bind(INVITE_PAGE)
        .fetch_all(p.db.pool())
        .await?;
        // A full page: the cursor stops at its last case, the rest come next round.
        if i64::try_from(rows.len()).unwrap_or(i64::MAX) >= INVITE_PAGE
            && let Some(last) = rows.last()
        {
            let at: String = last.try_get("finished_at")?;
            if at < next {
                next = at;
            }
        }
        for r in &rows {
            let id: String = r.try_get("id")?;
            let case_no: Option<String> = r.try_get("case_no")?;
            let item: String = r.try_get("item_name")?;
            if send_invitation(p, &id, case_no.as_deref().unwrap_or(""), &item, now).await? {
                sent += 1;
            }
        }
    }
    sqlx::query(
        "INSERT INTO supervision_cursor (consumer, created_at) VALUES ($1, $2) \
         ON CONFLICT (consumer) DO UPDATE SET created_at = $2",
    )
    .bind(INVITE_CURSOR)
    .bind(&next)
    .execute(p.db.writer())
    .await?;
    Ok(sent)
}

/// Stores one case's invitation (once: the case is its key) and sends it. A case whose
/// applicant has no mobile number gets none.
async fn send_invitation(
    p: &Platform,
    case_id: &str,
    case_no: &str,
    item: &str,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let Some((name, phone)) = applicant_contact(p, case_id).await else {
        return Ok(false);
    };
    let token = crate::identity::staff::random_token();
    let done = sqlx::query(
        "INSERT INTO rating_invitations (case_id, token_hash, sent_at, expires_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (case_id) DO NOTHING",
    )
    .bind(case_id)
    .bind(token_hash(&token))
    .bind(fmt_time(now))
    .bind(fmt_time(
        now + chrono::Duration::days(INVITATION_VALID_DAYS),
    ))
    .execute(p.db.writer())
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    let link = format!("{}/rate/{token}", p.oidc.issuer().trim_end_matches('/'));
    if let Err(e) = p
        .outside
        .notifier
        .send(
            yiwang_connectors::Channel::Sms,
            &phone,
            "rating_invitation",
            &[
                ("name", &name),
                ("item", item),
                ("case", case_no),
                ("link", &link),
                ("days", &INVITATION_VALID_DAYS.to_string()),
            ],
        )
        .await
    {
        tracing::warn!(case = %case_id, error = %e, "rating invitation failed");
    }
    Ok(true)
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    /// It may be used to rate.
    Open,
    /// The case was rated through it.
    Used,
    /// Past its expiry.
    Expired,
}

/// What the invitation link's page shows: nothing personal but the masked name.
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    /// Open, used or expired.
    pub status: InvitationStatus,
    /// 办件编号.
    pub case_no: String,
    /// The item's name.
    pub item_name: String,
    /// The handling organisation's name.
    pub org_name: String,
    /// The applicant's masked name.
    pub applicant_masked: String,
    /// When the link expires.
    pub expires_at: String,
}

/// The invitation of a link's token (`NotFound` for a token that is none).
pub async fn invitation(p: &Platform, token: &str) -> Result<Invitation, ServiceError> {
    let (inv, _) = invitation_case(p, token).await?;
    Ok(inv)
}

async fn invitation_case(p: &Platform, token: &str) -> Result<(Invitation, Case), ServiceError> {
    let missing = || ServiceError::NotFound {
        what: "评价邀请",
        key: "-".into(),
    };
    let token = token.trim();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(missing());
    }
    let row =
        sqlx::query("SELECT case_id, expires_at FROM rating_invitations WHERE token_hash = $1")
            .bind(token_hash(token))
            .fetch_optional(p.db.pool())
            .await?
            .ok_or_else(missing)?;
    let case_id: String = row.try_get("case_id")?;
    let expires_at: String = row.try_get("expires_at")?;
    let c = crate::cases::load(p, &case_id).await?;
    let used: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ratings WHERE case_id = $1 AND channel = 'sms'")
            .bind(&case_id)
            .fetch_one(p.db.pool())
            .await?;
    let status = if used > 0 {
        InvitationStatus::Used
    } else if fmt_time(p.now()) > expires_at {
        InvitationStatus::Expired
    } else {
        InvitationStatus::Open
    };
    Ok((
        Invitation {
            status,
            case_no: c.case_no.clone().unwrap_or_default(),
            item_name: c.item_name.clone(),
            org_name: org_name(p, &c.org),
            applicant_masked: yiwang_crypto::mask::mask_name(&c.applicant_name),
            expires_at,
        },
        c,
    ))
}

/// Rates the case of an invitation link through the `sms` channel, without signing in: once
/// (a used link is `Conflict`), before it expires (`Conflict`).
pub async fn rate_by_invitation(
    p: &Platform,
    token: &str,
    input: &RatingInput,
) -> Result<Rating, ServiceError> {
    let (inv, c) = invitation_case(p, token).await?;
    match inv.status {
        InvitationStatus::Open => {}
        InvitationStatus::Used => {
            return Err(ServiceError::Conflict(
                "已评价：该评价链接已使用 / already rated: the link was used".into(),
            ));
        }
        InvitationStatus::Expired => {
            return Err(ServiceError::Conflict(
                "该评价链接已过期 / the link has expired".into(),
            ));
        }
    }
    let owner = c.owner_user.clone();
    store_rating(p, &c, "sms", true, owner, input).await
}

// --- follow-up ---------------------------------------------------------------------------------

/// A span of time: orders opened from `from` (inclusive) to `to` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Start.
    pub from: DateTime<Utc>,
    /// End.
    pub to: DateTime<Utc>,
}

impl Period {
    /// The current quarter up to now, in the calendar's time zone.
    pub fn quarter_to_date(p: &Platform) -> Period {
        let now = p.now();
        let offset = p.calendar().offset();
        let local = now.with_timezone(&offset).date_naive();
        let month = (local.month0() / 3) * 3 + 1;
        let from = chrono::NaiveDate::from_ymd_opt(local.year(), month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|d| d.and_local_timezone(offset).single())
            .map_or(now - chrono::Duration::days(92), |d| d.with_timezone(&Utc));
        Period {
            from,
            to: now + chrono::Duration::seconds(1),
        }
    }
}

/// One organisation's follow-up of real-name bad ratings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FollowUpRow {
    /// The organisation.
    pub org: String,
    /// Its name.
    pub org_name: String,
    /// Its region.
    pub region: String,
    /// Real-name bad ratings (not excluded on appeal).
    pub bad: i64,
    /// Of those, answered (followed up).
    pub answered: i64,
    /// Still open.
    pub open: i64,
    /// Open past their deadline.
    pub overdue: i64,
    /// Answered after their deadline.
    pub answered_late: i64,
}

impl FollowUpRow {
    /// The follow-up rate in percent (100 when there is nothing to follow up).
    pub fn rate(&self) -> f64 {
        if self.bad == 0 {
            100.0
        } else {
            // Counts are far below 2^52: the conversion is exact.
            #[allow(clippy::cast_precision_loss)]
            let r = self.answered as f64 * 100.0 / self.bad as f64;
            r
        }
    }
}

/// The follow-up rate within reach over a period.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUp {
    /// Start of the period.
    pub from: String,
    /// End of the period.
    pub to: String,
    /// The totals.
    pub total: FollowUpRow,
    /// The follow-up rate in percent (the national requirement: 100).
    pub rate: f64,
    /// By organisation.
    pub rows: Vec<FollowUpRow>,
}

/// 回访率: the real-name bad ratings within the actor's reach whose order opened in `period`,
/// how many were answered, the rate, and the late ones (supervisors and system
/// administrators their reach; other staff their organisation).
pub async fn follow_up(
    p: &Platform,
    actor: &Staff,
    period: Period,
) -> Result<FollowUp, ServiceError> {
    let (cond, bind) = Reach::of(actor).condition("x", 4);
    let sql = format!(
        "SELECT x.org, x.region, COUNT(*) AS bad, \
         SUM(CASE WHEN x.status = 'answered' THEN 1 ELSE 0 END) AS answered, \
         SUM(CASE WHEN x.status = 'open' THEN 1 ELSE 0 END) AS open_n, \
         SUM(CASE WHEN x.status = 'open' AND x.due_at < $3 THEN 1 ELSE 0 END) AS overdue, \
         SUM(CASE WHEN x.status = 'answered' AND x.answered_at > x.due_at THEN 1 ELSE 0 END) \
         AS late FROM rectifications x WHERE x.real_name = 1 \
         AND x.status IN ('open', 'answered') AND x.opened_at >= $1 AND x.opened_at < $2 \
         AND {cond} GROUP BY x.org, x.region ORDER BY x.org"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(fmt_time(period.from))
        .bind(fmt_time(period.to))
        .bind(fmt_time(p.now()));
    if let Some(b) = bind {
        q = q.bind(b);
    }
    let mut rows = Vec::new();
    let mut total = FollowUpRow::default();
    for r in q.fetch_all(p.db.pool()).await? {
        let org: String = r.try_get("org")?;
        let row = FollowUpRow {
            org_name: org_name(p, &org),
            org,
            region: r.try_get("region")?,
            bad: r.try_get("bad")?,
            answered: r.try_get("answered")?,
            open: r.try_get("open_n")?,
            overdue: r.try_get("overdue")?,
            answered_late: r.try_get("late")?,
        };
        total.bad += row.bad;
        total.answered += row.answered;
        total.open += row.open;
        total.overdue += row.overdue;
        total.answered_late += row.answered_late;
        rows.push(row);
    }
    Ok(FollowUp {
        from: fmt_time(period.from),
        to: fmt_time(period.to),
        rate: total.rate(),
        total,
        rows,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn input(level: Option<i64>, scores: &[(&str, i64)], comment: &str) -> RatingInput {
        RatingInput {
            level,
            scores: scores.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            comment: comment.into(),
        }
    }

    fn fields(e: ServiceError) -> Vec<String> {
        match e {
            ServiceError::Invalid(f) => f.into_iter().map(|f| f.field).collect(),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn input_is_checked_field_by_field() {
        assert_eq!(check_input(&input(Some(5), &[], "  好 ")).unwrap(), "好");
        assert!(check_input(&input(Some(3), &[("guide", 1), ("result", 5)], "")).is_ok());
        assert_eq!(
            fields(check_input(&input(None, &[], "")).unwrap_err()),
            ["level"]
        );
        assert_eq!(
            fields(check_input(&input(Some(6), &[("speed", 3), ("attitude", 0)], "")).unwrap_err()),
            ["level", "scores.attitude", "scores.speed"]
        );
        // A bad rating says why.
        assert_eq!(
            fields(check_input(&input(Some(2), &[], " ")).unwrap_err()),
            ["comment"]
        );
        assert_eq!(
            fields(check_input(&input(Some(5), &[], &"好".repeat(501))).unwrap_err()),
            ["comment"]
        );
        assert!(check_input(&input(Some(1), &[], &"差".repeat(500))).is_ok());
    }

    #[test]
    fn labels_and_hashes() {
        assert_eq!(level_label(5), ("非常满意", "very satisfied"));
        assert_eq!(level_label(1).0, "非常不满意");
        assert_eq!(level_label(0), ("", ""));
        assert_eq!(action_label("return_visit").0, "回访");
        assert!(finished(CaseState::NotAccepted) && !finished(CaseState::Handling));
        assert!(!finished(CaseState::Withdrawn));
        // SHA-256 of "abc".
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
