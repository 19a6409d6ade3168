//! 绩效评估: performance of departments, regions and windows over any period, scored by the
//! formula administrators configure ([`super::formula`]) and graded 优秀/良好/合格/不合格.
//!
//! - **Rollup.** [`refresh`] (every 10 minutes under `serve`, and on demand) counts each local
//!   day into `perf_daily`, one row per organisation and window (the staff member who accepted
//!   the case): cases finished that day (on time, early, overdue, fully online, working days,
//!   visits), ratings given that day, signals raised that day, rectifications opened that day.
//!   It rolls the days from the first one not yet final up to today, and again any earlier day
//!   where something changed since the last run (a case delivered, a signal withdrawn, a
//!   rectification answered or a rating excluded on appeal), found through indexes on those
//!   moments. A day is written in one transaction: deleted and inserted again, so rolling it
//!   twice changes nothing; the same transaction writes the day summed over windows into
//!   `perf_daily_org`, which the reports by department and by region read.
//! - **Report.** [`report`] sums the rollup over a period, grouped by organisation, by the
//!   child regions of the scope, or by window, within the actor's reach, and computes each
//!   unit's indicators, score and grade, with a monthly series for the scope — in one pass
//!   over the rollup grouped by unit and month. A province-year by department is some 550,000
//!   rows of `perf_daily_org` (1,500 organisations × 365 days), not ten million cases.
//!
//! Definitions (every rate a percentage; an empty denominator gives no rate and no score):
//! - 按时办结: decided at or before the due time (cases without one are on time);
//! - 提前办结: decided at least one working day before the deadline's day;
//! - 全程网办: applied online or on mobile, and the result not fetched at a window;
//! - 办理时间: working days from acceptance to decision (the day of acceptance not counted);
//! - 跑动次数: one for an application at a window, one for fetching the result there;
//! - 满意率: ratings 基本满意 or better among valid ratings (those found malicious excluded);
//! - 实名差评整改率: real-name bad ratings whose rectification was answered.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use yiwang_store::{Row, fmt_time, parse_time};

use super::formula::{Formula, Grade, Scoring, Values};
use super::signals::Reach;
use crate::identity::staff::{Role, Staff};
use crate::{FieldError, Platform, ServiceError};

/// The name of the rollup's row in `perf_rollup_state`.
const ROLLUP: &str = "perf_daily";

/// How far before the last run changes are looked for again (commits that land late).
const OVERLAP_SECS: i64 = 5;

/// What one unit (or one day of one unit) counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// 办结件数.
    pub finished: i64,
    /// 按时办结.
    pub on_time: i64,
    /// 提前办结.
    pub early: i64,
    /// 超期办结.
    pub overdue: i64,
    /// 全程网办.
    pub fully_online: i64,
    /// Working days from acceptance to decision, summed.
    pub days_sum: i64,
    /// 跑动次数, summed.
    pub visits: i64,
    /// Valid ratings.
    pub ratings: i64,
    /// Of those, 基本满意 or better.
    pub satisfied: i64,
    /// Of those, 不满意 or 非常不满意.
    pub bad: i64,
    /// Real-name bad ratings (rectification opened).
    pub bad_real_name: i64,
    /// Of those, answered (followed up).
    pub followed: i64,
    /// 预警.
    pub warnings: i64,
    /// 黄牌.
    pub yellow: i64,
    /// 红牌.
    pub red: i64,
    /// Irregularities.
    pub irregular: i64,
}

const COUNTS: &[&str] = &[
    "finished",
    "on_time",
    "early",
    "overdue",
    "fully_online",
    "days_sum",
    "visits",
    "ratings",
    "satisfied",
    "bad",
    "bad_real_name",
    "followed",
    "warnings",
    "yellow",
    "red",
    "irregular",
];

impl Totals {
    fn fields_mut(&mut self) -> [&mut i64; 16] {
        [
            &mut self.finished,
            &mut self.on_time,
            &mut self.early,
            &mut self.overdue,
            &mut self.fully_online,
            &mut self.days_sum,
            &mut self.visits,
            &mut self.ratings,
            &mut self.satisfied,
            &mut self.bad,
            &mut self.bad_real_name,
            &mut self.followed,
            &mut self.warnings,
            &mut self.yellow,
            &mut self.red,
            &mut self.irregular,
        ]
    }

    fn fields(mut self) -> [i64; 16] {
        self.fields_mut().map(|x| *x)
    }

    /// Adds another unit's counts.
    pub fn add(&mut self, o: &Totals) {
        for (a, b) in self.fields_mut().into_iter().zip(o.fields()) {
            *a += b;
        }
    }

    fn from_row(r: &yiwang_store::AnyRow) -> Result<Totals, ServiceError> {
        let mut t = Totals::default();
        for (slot, name) in t.fields_mut().into_iter().zip(COUNTS) {
            // SUM() is NUMERIC on PostgreSQL: the query casts it back to BIGINT.
            *slot = r.try_get::<Option<i64>, _>(*name)?.unwrap_or(0);
        }
        Ok(t)
    }

    /// The indicators (rates in percent; `None` where the denominator is empty).
    pub fn indicators(&self) -> Indicators {
        let pct = |n: i64, d: i64| (d > 0).then(|| 100.0 * n as f64 / d as f64);
        let avg = |n: i64, d: i64| (d > 0).then(|| n as f64 / d as f64);
        Indicators {
            on_time_rate: pct(self.on_time, self.finished),
            early_rate: pct(self.early, self.finished),
            overdue_rate: pct(self.overdue, self.finished),
            online_rate: pct(self.fully_online, self.finished),
            avg_days: avg(self.days_sum, self.finished),
            avg_visits: avg(self.visits, self.finished),
            satisfaction_rate: pct(self.satisfied, self.ratings),
            followup_rate: pct(self.followed, self.bad_real_name),
        }
    }

    /// The formula's inputs. A rate with no denominator counts as 100 (nothing went wrong:
    /// a unit without ratings is not punished for the missing ones); an average as 0.
    pub fn values(&self) -> Values {
        let i = self.indicators();
        let mut v = Values::default();
        let counts = [
            ("finished", self.finished),
            ("overdue", self.overdue),
            ("ratings", self.ratings),
            ("bad_ratings", self.bad),
            ("warnings", self.warnings),
            ("yellow", self.yellow),
            ("red", self.red),
            ("irregular", self.irregular),
            (
                "signals",
                self.warnings + self.yellow + self.red + self.irregular,
            ),
        ];
        for (n, x) in counts {
            v.set(n, x as f64);
        }
        let rates = [
            ("on_time_rate", i.on_time_rate, 100.0),
            ("early_rate", i.early_rate, 0.0),
            ("overdue_rate", i.overdue_rate, 0.0),
            ("online_rate", i.online_rate, 0.0),
            ("avg_days", i.avg_days, 0.0),
            ("avg_visits", i.avg_visits, 0.0),
            ("satisfaction_rate", i.satisfaction_rate, 100.0),
            ("followup_rate", i.followup_rate, 100.0),
        ];
        for (n, x, empty) in rates {
            v.set(n, x.unwrap_or(empty));
        }
        v
    }
}

/// A unit's indicators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Indicators {
    /// 按时办结率 (%).
    pub on_time_rate: Option<f64>,
    /// 提前办结率 (%).
    pub early_rate: Option<f64>,
    /// 超期率 (%).
    pub overdue_rate: Option<f64>,
    /// 全程网办率 (%).
    pub online_rate: Option<f64>,
    /// 平均办理时间 (working days).
    pub avg_days: Option<f64>,
    /// 平均跑动次数.
    pub avg_visits: Option<f64>,
    /// 满意率 (%).
    pub satisfaction_rate: Option<f64>,
    /// 实名差评整改率 (%).
    pub followup_rate: Option<f64>,
}

// ---------------------------------------------------------------------------------------------
// Rollup

/// What a rollup run did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RollupRun {
    /// Days rolled.
    pub days: usize,
    /// Rows written.
    pub rows: usize,
}

/// The instant a local day starts.
fn day_start(p: &Platform, day: NaiveDate) -> DateTime<Utc> {
    let offset = p.calendar_cache.get().offset();
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(offset).single())
        .map_or_else(
            || day.and_time(chrono::NaiveTime::MIN).and_utc(),
            |t| t.with_timezone(&Utc),
        )
}

fn local_day(p: &Platform, t: &str) -> Option<NaiveDate> {
    parse_time(t).map(|t| p.calendar_cache.get().local_date(t))
}

/// Rolls the days not yet final and the days changed since the last run.
pub async fn refresh(p: &Platform) -> Result<RollupRun, ServiceError> {
    let now = p.now();
    let cal = p.calendar_cache.get();
    let today = cal.local_date(now);
    let state = sqlx::query("SELECT open_from, ran_at FROM perf_rollup_state WHERE name = $1")
        .bind(ROLLUP)
        .fetch_optional(p.db.pool())
        .await?;
    let mut days: HashSet<NaiveDate> = HashSet::new();
    let open_from = match &state {
        Some(r) => {
            let open_from: String = r.try_get("open_from")?;
            let ran_at: String = r.try_get("ran_at")?;
            let since = parse_time(&ran_at).map_or(ran_at.clone(), |t| {
                fmt_time(t - TimeDelta::seconds(OVERLAP_SECS))
            });
            days.extend(changed_days(p, &since).await?);
            NaiveDate::parse_from_str(&open_from, "%Y-%m-%d").unwrap_or(today)
        }
        // First run: from the first day anything was decided, rated or raised.
        None => first_day(p).await?.unwrap_or(today).min(today),
    };
    let mut d = open_from;
    while d <= today {
        days.insert(d);
        match d.succ_opt() {
            Some(next) => d = next,
            None => break,
        }
    }
    days.insert(today);
    let mut days: Vec<NaiveDate> = days.into_iter().filter(|d| *d <= today).collect();
    days.sort();
    let mut run = RollupRun::default();
    for day in &days {
        run.rows += roll_day(p, *day).await?;
        run.days += 1;
    }
    // Today stays open (it is still filling); everything before it is final until it changes.
    sqlx::query(
        "INSERT INTO perf_rollup_state (name, open_from, ran_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET open_from = excluded.open_from, ran_at = excluded.ran_at",
    )
    .bind(ROLLUP)
    .bind(today.format("%Y-%m-%d").to_string())
    .bind(fmt_time(now))
    .execute(p.db.writer())
    .await?;
    Ok(run)
}

/// When the rollup last ran, if ever.
pub async fn rolled_at(p: &Platform) -> Result<Option<String>, ServiceError> {
    Ok(
        sqlx::query_scalar("SELECT ran_at FROM perf_rollup_state WHERE name = $1")
            .bind(ROLLUP)
            .fetch_optional(p.db.pool())
            .await?,
    )
}

async fn first_day(p: &Platform) -> Result<Option<NaiveDate>, ServiceError> {
    let mut first: Option<NaiveDate> = None;
    for sql in [
        "SELECT MIN(decided_at) FROM cases",
        "SELECT MIN(rated_at) FROM ratings",
        "SELECT MIN(raised_at) FROM signals",
    ] {
        let t: Option<String> = sqlx::query_scalar(sql).fetch_one(p.db.pool()).await?;
        if let Some(d) = t.as_deref().and_then(|t| local_day(p, t)) {
            first = Some(first.map_or(d, |f| f.min(d)));
        }
    }
    Ok(first)
}

/// The days of anything that changed after `since`: cases delivered (their decision's day),
/// signals withdrawn or upheld, rectifications answered or appealed (their opening day and
/// their rating's day).
async fn changed_days(p: &Platform, since: &str) -> Result<HashSet<NaiveDate>, ServiceError> {
    let mut out = HashSet::new();
    for sql in [
        "SELECT decided_at AS d FROM cases WHERE delivered_at > $1 AND decided_at IS NOT NULL",
        "SELECT raised_at AS d FROM signals WHERE decided_at > $1",
        "SELECT x.opened_at AS d FROM rectifications x WHERE x.answered_at > $1 \
         UNION SELECT g.rated_at AS d FROM rectifications x JOIN ratings g ON g.id = x.rating_id \
         WHERE x.appeal_decided_at > $1 \
         UNION SELECT x.opened_at AS d FROM rectifications x WHERE x.appeal_decided_at > $1",
    ] {
        let rows: Vec<String> = sqlx::query_scalar(sql)
            .bind(since)
            .fetch_all(p.db.pool())
            .await?;
        out.extend(rows.iter().filter_map(|t| local_day(p, t)));
    }
    Ok(out)
}

/// The accepting staff member of the case `{alias}.case_id` (or `{alias}.id` for cases).
fn window_of(case_id: &str) -> String {
    format!(
        "(SELECT MIN(r.handler_id) FROM case_records r WHERE r.case_id = {case_id} \
         AND r.step = '受理')"
    )
}

/// Counts one local day and writes its rows (in one transaction: the day's old rows deleted,
/// the new ones inserted).
pub async fn roll_day(p: &Platform, day: NaiveDate) -> Result<usize, ServiceError> {
    let cal = p.calendar_cache.get();
    let from = fmt_time(day_start(p, day));
    let to = fmt_time(day_start(p, day + TimeDelta::days(1)));
    let mut units: HashMap<(String, String), Totals> = HashMap::new();

    let sql = format!(
        "SELECT c.org, c.channel, c.accepted_at, c.decided_at, c.due_at, c.delivery, {} AS w \
         FROM cases c WHERE c.decided_at >= $1 AND c.decided_at < $2",
        window_of("c.id")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&from)
        .bind(&to)
        .fetch_all(p.db.pool())
        .await?;
    for r in &rows {
        let org: String = r.try_get("org")?;
        let w: Option<String> = r.try_get("w")?;
        let channel: String = r.try_get("channel")?;
        let delivery: String = r.try_get("delivery")?;
        let decided: String = r.try_get("decided_at")?;
        let Some(decided) = parse_time(&decided) else {
            continue;
        };
        let accepted = r
            .try_get::<Option<String>, _>("accepted_at")?
            .as_deref()
            .and_then(parse_time);
        let due = r
            .try_get::<Option<String>, _>("due_at")?
            .as_deref()
            .and_then(parse_time);
        let t = units.entry((org, w.unwrap_or_default())).or_default();
        t.finished += 1;
        let on_time = due.is_none_or(|due| decided <= due);
        if on_time {
            t.on_time += 1;
        } else {
            t.overdue += 1;
        }
        if due.is_some_and(|due| cal.working_days_between(decided, due) >= 1) {
            t.early += 1;
        }
        let pickup = delivery.contains("\"method\":\"window\"");
        let online = channel == "2" || channel == "3";
        if online && !pickup {
            t.fully_online += 1;
        }
        t.visits += i64::from(channel == "1") + i64::from(pickup);
        if let Some(a) = accepted {
            t.days_sum += i64::from(cal.working_days_between(a, decided));
        }
    }

    let sql = format!(
        "SELECT g.org, g.level, {} AS w FROM ratings g WHERE g.status = 'valid' \
         AND g.rated_at >= $1 AND g.rated_at < $2",
        window_of("g.case_id")
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&from)
        .bind(&to)
        .fetch_all(p.db.pool())
        .await?
    {
        let key = (
            r.try_get::<String, _>("org")?,
            r.try_get::<Option<String>, _>("w")?.unwrap_or_default(),
        );
        let level: i64 = r.try_get("level")?;
        let t = units.entry(key).or_default();
        t.ratings += 1;
        if level >= 3 {
            t.satisfied += 1;
        } else {
            t.bad += 1;
        }
    }

    let sql = format!(
        "SELECT x.org, x.answered_at, {} AS w FROM rectifications x \
         JOIN ratings g ON g.id = x.rating_id WHERE x.real_name = 1 AND g.status = 'valid' \
         AND x.opened_at >= $1 AND x.opened_at < $2",
        window_of("x.case_id")
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&from)
        .bind(&to)
        .fetch_all(p.db.pool())
        .await?
    {
        let key = (
            r.try_get::<String, _>("org")?,
            r.try_get::<Option<String>, _>("w")?.unwrap_or_default(),
        );
        let answered: Option<String> = r.try_get("answered_at")?;
        let t = units.entry(key).or_default();
        t.bad_real_name += 1;
        if answered.is_some() {
            t.followed += 1;
        }
    }

    let sql = format!(
        "SELECT s.org, s.signal_type, {} AS w FROM signals s WHERE s.status <> 'withdrawn' \
         AND s.raised_at >= $1 AND s.raised_at < $2",
        window_of("s.case_id")
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&from)
        .bind(&to)
        .fetch_all(p.db.pool())
        .await?
    {
        let key = (
            r.try_get::<String, _>("org")?,
            r.try_get::<Option<String>, _>("w")?.unwrap_or_default(),
        );
        let t = units.entry(key).or_default();
        match r.try_get::<String, _>("signal_type")?.as_str() {
            "warning" => t.warnings += 1,
            "yellow" => t.yellow += 1,
            "red" => t.red += 1,
            _ => t.irregular += 1,
        }
    }

    let master = p.master.get();
    let day_text = day.format("%Y-%m-%d").to_string();
    let mut tx = p.db.begin().await?;
    sqlx::query("DELETE FROM perf_daily WHERE day = $1")
        .bind(&day_text)
        .execute(&mut *tx)
        .await?;
    let units: Vec<_> = units.into_iter().collect();
    const COLS: usize = 20;
    for chunk in units.chunks(40) {
        let sql = format!(
            "INSERT INTO perf_daily (day, org, window_staff, region, {}) VALUES {}",
            COUNTS.join(", "),
            yiwang_store::batch::values(chunk.len(), COLS)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((org, w), t) in chunk {
            let region = master
                .organisation(org)
                .map(|o| o.region.clone())
                .unwrap_or_default();
            q = q.bind(&day_text).bind(org).bind(w).bind(region);
            for x in t.fields() {
                q = q.bind(x);
            }
        }
        q.execute(&mut *tx).await?;
    }
    // The same day summed over windows, which the reports by department and region read.
    sqlx::query("DELETE FROM perf_daily_org WHERE day = $1")
        .bind(&day_text)
        .execute(&mut *tx)
        .await?;
    let sql = format!(
        "INSERT INTO perf_daily_org (day, org, region, {cols}) SELECT day, org, MIN(region), {} \
         FROM perf_daily WHERE day = $1 GROUP BY day, org",
        COUNTS
            .iter()
            .map(|c| format!("SUM({c})"))
            .collect::<Vec<_>>()
            .join(", "),
        cols = COUNTS.join(", ")
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&day_text)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(units.len())
}

/// Runs the rollup every `every` (under `serve`).
pub async fn run(p: std::sync::Arc<Platform>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match refresh(&p).await {
            Ok(r) if r.days > 1 => {
                tracing::info!(days = r.days, rows = r.rows, "performance rollup")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "performance rollup: will retry"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scoring configuration

/// The scoring in force and its version (the standard one, version 0, until an administrator
/// saves one).
pub async fn current_scoring(p: &Platform) -> Result<(i64, Scoring), ServiceError> {
    let row =
        sqlx::query("SELECT version, scoring FROM perf_scoring ORDER BY version DESC LIMIT 1")
            .fetch_optional(p.db.pool())
            .await?;
    match row {
        None => Ok((0, Scoring::standard())),
        Some(r) => {
            let text: String = r.try_get("scoring")?;
            Ok((r.try_get("version")?, serde_json::from_str(&text)?))
        }
    }
}

/// A saved version of the scoring.
#[derive(Debug, Clone, Serialize)]
pub struct ScoringVersion {
    /// Version number.
    pub version: i64,
    /// The formula and thresholds.
    pub scoring: Scoring,
    /// Why it changed.
    pub note: String,
    /// When.
    pub created_at: String,
    /// By whom (user name).
    pub created_by: String,
}

/// The scoring in force among `versions` (newest first, as [`scoring_versions`] lists them):
/// its version and formula, or `(0, standard)` when none was saved.
pub fn in_force(versions: &[ScoringVersion]) -> (i64, Scoring) {
    versions.first().map_or_else(
        || (0, Scoring::standard()),
        |v| (v.version, v.scoring.clone()),
    )
}

/// Every saved version, newest first.
pub async fn scoring_versions(p: &Platform) -> Result<Vec<ScoringVersion>, ServiceError> {
    let rows = sqlx::query(
        "SELECT version, scoring, note, created_at, created_by FROM perf_scoring \
         ORDER BY version DESC LIMIT 200",
    )
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let text: String = r.try_get("scoring")?;
            Ok(ScoringVersion {
                version: r.try_get("version")?,
                scoring: serde_json::from_str(&text)?,
                note: r.try_get("note")?,
                created_at: r.try_get("created_at")?,
                created_by: r.try_get("created_by")?,
            })
        })
        .collect()
}

/// Saves a new version of the scoring (system administrators): checked first, every problem
/// at once; earlier versions stay on record.
pub async fn save_scoring(
    p: &Platform,
    actor: &Staff,
    scoring: Scoring,
    note: &str,
) -> Result<i64, ServiceError> {
    if !actor.has(Role::SystemAdmin) {
        return Err(ServiceError::Forbidden(
            "只有系统管理员可以配置评分公式 / only system administrators configure the scoring"
                .into(),
        ));
    }
    let problems: Vec<FieldError> = match scoring.check() {
        Ok(_) => Vec::new(),
        Err(ps) => ps
            .into_iter()
            .map(|(f, zh)| {
                let en = match f {
                    "formula" => "the formula is wrong: see the Chinese message",
                    _ => "thresholds must be finite and descend: excellent > good > pass",
                };
                FieldError::new(f, zh, en)
            })
            .collect(),
    };
    let (version, _) = current_scoring(p).await?;
    let text = serde_json::to_string(&scoring)?;
    super::store_version(
        p,
        actor,
        "perf_scoring",
        "scoring",
        version,
        &text,
        note,
        problems,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Report

/// How a report groups its units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    /// 部门 (handling organisation).
    #[default]
    Org,
    /// The child regions of the scope (a province's prefectures, a prefecture's counties).
    Region,
    /// 窗口: the staff member who accepted the cases.
    Window,
}

impl By {
    /// Parses `org`, `region` or `window`.
    pub fn parse(s: &str) -> Option<By> {
        match s {
            "org" => Some(By::Org),
            "region" => Some(By::Region),
            "window" => Some(By::Window),
            _ => None,
        }
    }
}

/// A period: whole local days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

impl Period {
    /// A quarter (1–4) of a year.
    pub fn quarter(year: i32, q: u32) -> Option<Period> {
        if !(1..=4).contains(&q) {
            return None;
        }
        let from = NaiveDate::from_ymd_opt(year, 3 * q - 2, 1)?;
        let next = if q == 4 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, 3 * q + 1, 1)?
        };
        Some(Period {
            from,
            to: next.pred_opt()?,
        })
    }

    /// The quarter a day is in.
    pub fn quarter_of(d: NaiveDate) -> Period {
        let q = (d.month() - 1) / 3 + 1;
        Period::quarter(d.year(), q).unwrap_or(Period { from: d, to: d })
    }

    /// Parses `2026Q3`, `2026` (a year), `2026-07` (a month) or `2026-07-01..2026-09-30`.
    pub fn parse(s: &str) -> Option<Period> {
        let s = s.trim();
        if let Some((a, b)) = s.split_once("..") {
            let from = NaiveDate::parse_from_str(a.trim(), "%Y-%m-%d").ok()?;
            let to = NaiveDate::parse_from_str(b.trim(), "%Y-%m-%d").ok()?;
            return (from <= to && (to - from).num_days() <= 3 * 366)
                .then_some(Period { from, to });
        }
        if let Some((y, q)) = s.split_once(['Q', 'q']) {
            return Period::quarter(y.parse().ok()?, q.parse().ok()?);
        }
        if let Some((y, m)) = s.split_once('-') {
            let from = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)?;
            let next = from.checked_add_months(chrono::Months::new(1))?;
            return Some(Period {
                from,
                to: next.pred_opt()?,
            });
        }
        if s.len() == 4 {
            let y: i32 = s.parse().ok()?;
            return Some(Period {
                from: NaiveDate::from_ymd_opt(y, 1, 1)?,
                to: NaiveDate::from_ymd_opt(y, 12, 31)?,
            });
        }
        None
    }

    /// `2026Q3` for a whole quarter, else `from..to`.
    pub fn label(&self) -> String {
        let q = Period::quarter_of(self.from);
        if q == *self {
            format!("{}Q{}", self.from.year(), (self.from.month() - 1) / 3 + 1)
        } else {
            format!("{}..{}", self.from, self.to)
        }
    }
}

/// What a report asks for.
#[derive(Debug, Clone)]
pub struct ReportQuery {
    /// The period.
    pub period: Period,
    /// How to group.
    pub by: By,
    /// Narrow to regions starting with this code prefix (within the actor's reach).
    pub region: Option<String>,
    /// Narrow to one organisation (within the actor's reach).
    pub org: Option<String>,
}

/// One unit of a report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    /// Organisation code, region code or staff id.
    pub key: String,
    /// Its name.
    pub name: String,
    /// The organisation's or window's region (the region itself when grouped by region).
    pub region: String,
    /// The counts.
    pub totals: Totals,
    /// The indicators.
    pub indicators: Indicators,
    /// The score (none for a unit with nothing finished and nothing rated).
    pub score: Option<f64>,
    /// Its grade.
    pub grade: Option<Grade>,
}

/// A report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The period.
    pub period: Period,
    /// How it is grouped.
    pub by: By,
    /// The region prefix it covers (`""`: everywhere).
    pub scope: String,
    /// The units, best score first.
    pub rows: Vec<ReportRow>,
    /// The whole scope.
    pub total: ReportRow,
    /// The scope month by month (`2026-07`, totals).
    pub months: Vec<(String, Totals, Indicators)>,
    /// The scoring version used.
    pub scoring_version: i64,
    /// The scoring used.
    pub scoring: Scoring,
    /// When the rollup last ran.
    pub rolled_at: Option<String>,
}

fn sums() -> String {
    COUNTS
        .iter()
        .map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Who may roll up at once: system administrators.
pub fn may_refresh(actor: &Staff) -> Result<(), ServiceError> {
    if actor.has(Role::SystemAdmin) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "只有系统管理员可以重新汇总 / system administrators only".into(),
        ))
    }
}

/// Who may read reports: supervisors and system administrators (their reach), department
/// administrators (their organisation).
pub fn may_evaluate(actor: &Staff) -> Result<Reach, ServiceError> {
    if actor.has(Role::Supervisor) || actor.has(Role::SystemAdmin) || actor.has(Role::DeptAdmin) {
        Ok(Reach::of(actor))
    } else {
        Err(ServiceError::Forbidden(
            "需要“监察人员”“系统管理员”或“部门管理员”角色 / supervisors and administrators only"
                .into(),
        ))
    }
}

/// The report of a period within the actor's reach.
pub async fn report(p: &Platform, actor: &Staff, q: &ReportQuery) -> Result<Report, ServiceError> {
    let reach = may_evaluate(actor)?;
    let mut problems = Vec::new();
    let region = q.region.as_deref().map(super::signals::region_prefix);
    if let Some(r) = &region
        && (r.is_empty() || !r.bytes().all(|b| b.is_ascii_digit()) || r.len() > 6)
    {
        problems.push(FieldError::new(
            "region",
            "区划代码应为2至6位数字",
            "a region code is 2 to 6 digits",
        ));
    }
    if (q.period.to - q.period.from).num_days() > 3 * 366 {
        problems.push(FieldError::new(
            "period",
            "统计期间不能超过三年",
            "a period is at most three years",
        ));
    }
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    // The scope: the reach narrowed by the query.
    let mut conds = vec!["d.day >= $1".to_owned(), "d.day <= $2".to_owned()];
    let mut binds = vec![q.period.from.to_string(), q.period.to.to_string()];
    let mut scope = match &reach {
        Reach::All => String::new(),
        Reach::Region(p) => p.clone(),
        Reach::Org(_) => String::new(),
    };
    if let Reach::Org(o) = &reach {
        binds.push(o.clone());
        conds.push(format!("d.org = ${}", binds.len()));
    }
    if let Some(r) = region {
        if !r.starts_with(&scope) && !scope.starts_with(&r) {
            return Err(ServiceError::Forbidden(
                "该区划不在您的监察范围内 / that region is outside your reach".into(),
            ));
        }
        if r.len() > scope.len() {
            scope = r;
        }
    }
    if !scope.is_empty() {
        binds.push(format!("{scope}%"));
        conds.push(format!("d.region LIKE ${}", binds.len()));
    }
    if let Some(o) = &q.org {
        if let Reach::Org(mine) = &reach
            && mine != o
        {
            return Err(ServiceError::Forbidden(
                "只能查看本单位的绩效 / your own organisation only".into(),
            ));
        }
        binds.push(o.clone());
        conds.push(format!("d.org = ${}", binds.len()));
    }
    let cond = conds.join(" AND ");
    // One pass over the rollup, by unit and month: the units and the months are summed from it.
    // Departments and regions read the rollup summed over windows (a quarter of the rows).
    let (select, group, table) = match q.by {
        By::Org | By::Region => (
            "d.org, d.region, '' AS window_staff",
            "d.org, d.region",
            "perf_daily_org",
        ),
        By::Window => (
            "d.org, d.region, d.window_staff",
            "d.org, d.region, d.window_staff",
            "perf_daily",
        ),
    };
    let sql = format!(
        "SELECT {select}, SUBSTR(d.day, 1, 7) AS month, {} FROM {table} d WHERE {cond} \
         GROUP BY {group}, SUBSTR(d.day, 1, 7)",
        sums()
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        query = query.bind(b);
    }
    let rows = query.fetch_all(p.db.pool()).await?;
    let master = p.master.get();
    let level = (scope.len().max(2) + 2).min(6);
    let mut units: BTreeMap<String, (String, String, Totals)> = BTreeMap::new();
    let mut months: BTreeMap<String, Totals> = BTreeMap::new();
    for r in &rows {
        let org: String = r.try_get("org")?;
        let region: String = r.try_get("region")?;
        let w: String = r.try_get("window_staff")?;
        let t = Totals::from_row(r)?;
        months.entry(r.try_get("month")?).or_default().add(&t);
        let (key, region_of) = match q.by {
            By::Org => (org.clone(), region.clone()),
            By::Window => (format!("{org}/{w}"), region.clone()),
            By::Region => {
                let mut k: String = region.chars().take(level).collect();
                while k.len() < 6 {
                    k.push('0');
                }
                (k.clone(), k)
            }
        };
        let e = units.entry(key).or_insert_with(|| {
            let name = match q.by {
                By::Org => master
                    .organisation(&org)
                    .map_or_else(|| org.clone(), |o| o.name.clone()),
                By::Region => master.region_name(&region_of),
                By::Window => w.clone(),
            };
            (name, region_of, Totals::default())
        });
        e.2.add(&t);
    }
    if q.by == By::Window {
        let names = staff_names(
            p,
            units.keys().filter_map(|k| k.split_once('/')).map(|x| x.1),
        )
        .await?;
        for (k, v) in units.iter_mut() {
            let (org, w) = k.split_once('/').unwrap_or(("", ""));
            let org_name = master
                .organisation(org)
                .map_or_else(|| org.to_owned(), |o| o.name.clone());
            let who = if w.is_empty() {
                "（无受理人）".to_owned()
            } else {
                names.get(w).cloned().unwrap_or_else(|| w.to_owned())
            };
            v.0 = format!("{org_name} · {who}");
        }
    }
    let (scoring_version, scoring) = current_scoring(p).await?;
    let formula = scoring.check().map_err(|ps| {
        ServiceError::Invalid(
            ps.into_iter()
                .map(|(f, m)| FieldError::new(f, m, "the saved scoring is wrong"))
                .collect(),
        )
    })?;
    let score = |t: &Totals| unit_score(&formula, &scoring, t);
    let mut total = Totals::default();
    let mut out: Vec<ReportRow> = units
        .into_iter()
        .map(|(key, (name, region, t))| {
            total.add(&t);
            let (score, grade) = score(&t);
            ReportRow {
                key,
                name,
                region,
                indicators: t.indicators(),
                totals: t,
                score,
                grade,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.score.unwrap_or(f64::NEG_INFINITY))
            .then_with(|| a.key.cmp(&b.key))
    });
    let (ts, tg) = score(&total);
    let total_row = ReportRow {
        key: scope.clone(),
        name: if scope.is_empty() {
            "合计".into()
        } else {
            let mut k = scope.clone();
            while k.len() < 6 {
                k.push('0');
            }
            master.region_name(&k)
        },
        region: scope.clone(),
        indicators: total.indicators(),
        totals: total,
        score: ts,
        grade: tg,
    };
    let months = months
        .into_iter()
        .map(|(m, t)| {
            let i = t.indicators();
            (m, t, i)
        })
        .collect();
    Ok(Report {
        period: q.period,
        by: q.by,
        scope,
        rows: out,
        total: total_row,
        months,
        scoring_version,
        scoring,
        rolled_at: rolled_at(p).await?,
    })
}

/// A unit's score and grade: none for a unit with nothing finished and nothing rated.
fn unit_score(formula: &Formula, scoring: &Scoring, t: &Totals) -> (Option<f64>, Option<Grade>) {
    if t.finished == 0 && t.ratings == 0 {
        return (None, None);
    }
    let s = (formula.eval(&t.values()) * 100.0).round() / 100.0;
    (Some(s), Some(scoring.grade(s)))
}

async fn staff_names<'a>(
    p: &Platform,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, String>, ServiceError> {
    let ids: Vec<&str> = ids.filter(|s| !s.is_empty()).collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(200) {
        let sql = format!(
            "SELECT id, display_name FROM staff WHERE id IN ({})",
            (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            out.insert(r.try_get("id")?, r.try_get("display_name")?);
        }
    }
    Ok(out)
}

/// A report as an Excel workbook: one row per unit then the total, numbers as numbers (rates
/// in percent with one decimal), the period, grouping and scoring version in the sheet's
/// title rows.
pub fn workbook(r: &Report, lang_en: bool) -> Result<Vec<u8>, ServiceError> {
    use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
    let t = |zh: &'static str, en: &'static str| if lang_en { en } else { zh };
    let xlsx = |e: rust_xlsxwriter::XlsxError| ServiceError::Internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(t("绩效评估", "Performance")).map_err(xlsx)?;
    let header = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_text_wrap()
        .set_background_color("#DDEBF7");
    let pct = Format::new().set_num_format("0.0");
    let num = Format::new().set_num_format("0.00");
    let bold = Format::new().set_bold();
    let title = format!(
        "{} {} · {} · {} {}",
        t("绩效评估", "Performance"),
        r.period.label(),
        match r.by {
            By::Org => t("按部门", "by organisation"),
            By::Region => t("按区划", "by region"),
            By::Window => t("按窗口", "by window"),
        },
        t("评分公式版本", "scoring version"),
        r.scoring_version
    );
    ws.write_string_with_format(0, 0, &title, &bold)
        .map_err(xlsx)?;
    ws.write_string(
        1,
        0,
        format!("{} {}", t("公式：", "Formula: "), r.scoring.formula),
    )
    .map_err(xlsx)?;
    let columns: [(&str, f64); 20] = [
        (t("单位", "Unit"), 34.0),
        (t("代码", "Code"), 22.0),
        (t("区划", "Region"), 9.0),
        (t("办结件数", "Finished"), 10.0),
        (t("按时办结率%", "On time %"), 10.0),
        (t("提前办结率%", "Early %"), 10.0),
        (t("超期件数", "Overdue"), 9.0),
        (t("全程网办率%", "Fully online %"), 10.0),
        (t("平均办理工作日", "Avg working days"), 10.0),
        (t("平均跑动次数", "Avg visits"), 10.0),
        (t("评价数", "Ratings"), 9.0),
        (t("满意率%", "Satisfaction %"), 10.0),
        (t("差评数", "Bad ratings"), 9.0),
        (t("实名差评整改率%", "Follow-up %"), 10.0),
        (t("预警", "Warnings"), 8.0),
        (t("黄牌", "Yellow"), 8.0),
        (t("红牌", "Red"), 8.0),
        (t("违规", "Irregular"), 8.0),
        (t("得分", "Score"), 8.0),
        (t("等级", "Grade"), 8.0),
    ];
    for (c, (name, width)) in (0u16..).zip(columns) {
        ws.set_column_width(c, width).map_err(xlsx)?;
        ws.write_string_with_format(3, c, name, &header)
            .map_err(xlsx)?;
    }
    for (row, u) in (4u32..).zip(r.rows.iter().chain(std::iter::once(&r.total))) {
        let i = &u.indicators;
        let x = &u.totals;
        ws.write_string(row, 0, &u.name).map_err(xlsx)?;
        ws.write_string(row, 1, &u.key).map_err(xlsx)?;
        ws.write_string(row, 2, &u.region).map_err(xlsx)?;
        let cells: [(Option<f64>, &Format); 17] = [
            (Some(x.finished as f64), &num),
            (i.on_time_rate, &pct),
            (i.early_rate, &pct),
            (Some(x.overdue as f64), &num),
            (i.online_rate, &pct),
            (i.avg_days, &num),
            (i.avg_visits, &num),
            (Some(x.ratings as f64), &num),
            (i.satisfaction_rate, &pct),
            (Some(x.bad as f64), &num),
            (i.followup_rate, &pct),
            (Some(x.warnings as f64), &num),
            (Some(x.yellow as f64), &num),
            (Some(x.red as f64), &num),
            (Some(x.irregular as f64), &num),
            (u.score, &num),
            (None, &num),
        ];
        for (c, (v, f)) in (3u16..).zip(cells) {
            if let Some(v) = v {
                let f = if c == 3 || matches!(c, 6 | 10 | 12 | 14..=17) {
                    &Format::new()
                } else {
                    f
                };
                ws.write_number_with_format(row, c, v, f).map_err(xlsx)?;
            }
        }
        if let Some(g) = u.grade {
            ws.write_string(row, 19, if lang_en { g.label_en() } else { g.label_zh() })
                .map_err(xlsx)?;
        }
    }
    ws.set_freeze_panes(4, 1).map_err(xlsx)?;
    wb.save_to_buffer().map_err(xlsx)
}

/// The quarter before the one `now` is in (the quarter a grade is given for).
pub fn last_quarter(p: &Platform) -> Period {
    let today = p.calendar_cache.get().local_date(p.now());
    let this = Period::quarter_of(today);
    Period::quarter_of(this.from.pred_opt().unwrap_or(this.from))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn periods_parse() {
        let q = Period::parse("2026Q3").unwrap();
        assert_eq!(q.from.to_string(), "2026-07-01");
        assert_eq!(q.to.to_string(), "2026-09-30");
        assert_eq!(q.label(), "2026Q3");
        let q4 = Period::parse("2026q4").unwrap();
        assert_eq!(q4.to.to_string(), "2026-12-31");
        let y = Period::parse("2025").unwrap();
        assert_eq!(
            (y.from.to_string(), y.to.to_string()),
            ("2025-01-01".into(), "2025-12-31".into())
        );
        let m = Period::parse("2024-02").unwrap();
        assert_eq!(m.to.to_string(), "2024-02-29");
        let r = Period::parse("2026-01-05..2026-02-01").unwrap();
        assert_eq!(r.label(), "2026-01-05..2026-02-01");
        for bad in [
            "",
            "2026Q5",
            "2026Q0",
            "2026-13",
            "2026-02-01..2026-01-01",
            "abc",
            "1..2",
        ] {
            assert!(Period::parse(bad).is_none(), "{bad}");
        }
        assert!(Period::parse("2020-01-01..2026-01-01").is_none());
    }

    #[test]
    fn indicators_and_values() {
        let t = Totals {
            finished: 200,
            on_time: 190,
            early: 50,
            overdue: 10,
            fully_online: 100,
            days_sum: 600,
            visits: 150,
            ratings: 40,
            satisfied: 38,
            bad: 2,
            bad_real_name: 2,
            followed: 1,
            red: 1,
            ..Default::default()
        };
        let i = t.indicators();
        assert_eq!(i.on_time_rate, Some(95.0));
        assert_eq!(i.online_rate, Some(50.0));
        assert_eq!(i.avg_days, Some(3.0));
        assert_eq!(i.avg_visits, Some(0.75));
        assert_eq!(i.satisfaction_rate, Some(95.0));
        assert_eq!(i.followup_rate, Some(50.0));
        let empty = Totals::default().indicators();
        assert_eq!(empty.on_time_rate, None);
        let f = Formula::parse("on_time_rate + satisfaction_rate + followup_rate").unwrap();
        // No ratings: the rates that need them count as 100, not as 0.
        let t2 = Totals {
            finished: 10,
            on_time: 5,
            ..Default::default()
        };
        assert_eq!(f.eval(&t2.values()), 250.0);
        let (s, g) = unit_score(&f, &Scoring::standard(), &Totals::default());
        assert_eq!((s, g), (None, None));
    }
}
