//! The working-day calendar (工作日历) the platform counts limits in: the shipped statutory
//! years, overridden and extended by the years administrators enter (the State Council
//! publishes next year's arrangement each November), regional days off and working hours,
//! kept in the database and held in memory as one immutable snapshot.

use std::sync::{Arc, RwLock};

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;
use yiwang_calendar::{Calendar, Holiday, WorkingHours, YearDays};
use yiwang_store::fmt_time;

use crate::identity::staff::Staff;
use crate::{FieldError, Platform, ServiceError};

/// The current calendar snapshot.
pub struct CalendarCache(RwLock<Arc<Calendar>>);

impl Default for CalendarCache {
    fn default() -> Self {
        CalendarCache(RwLock::new(Arc::new(Calendar::statutory())))
    }
}

impl CalendarCache {
    /// The current snapshot.
    pub fn get(&self) -> Arc<Calendar> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
    fn set(&self, c: Calendar) {
        let c = Arc::new(c);
        match self.0.write() {
            Ok(mut g) => *g = c,
            Err(p) => *p.into_inner() = c,
        }
    }
}

const REGIONAL: &str = "calendar.regional";
const HOURS: &str = "calendar.hours";

/// Rebuild the snapshot from the shipped data and the database.
pub async fn reload(p: &Platform) -> Result<(), ServiceError> {
    let mut c = Calendar::statutory();
    let rows = sqlx::query("SELECT data FROM calendar_years ORDER BY year")
        .fetch_all(p.db.pool())
        .await?;
    for r in rows {
        let data: String = r.try_get("data")?;
        let y: YearDays = serde_json::from_str(&data)?;
        c.set_year(y)
            .map_err(|e| ServiceError::internal(format!("stored calendar year: {e}")))?;
    }
    if let Some(v) = meta(p, REGIONAL).await? {
        let days: Vec<Holiday> = serde_json::from_str(&v)?;
        for d in days {
            c.add_regional(d)
                .map_err(|e| ServiceError::internal(format!("stored regional day: {e}")))?;
        }
    }
    if let Some(v) = meta(p, HOURS).await? {
        let h = WorkingHours::parse(&v)
            .map_err(|e| ServiceError::internal(format!("stored working hours: {e}")))?;
        c.set_working_hours(h);
    }
    p.calendar_cache.set(c);
    Ok(())
}

async fn meta(p: &Platform, key: &str) -> Result<Option<String>, ServiceError> {
    Ok(sqlx::query("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_optional(p.db.pool())
        .await?
        .map(|r| r.try_get("value"))
        .transpose()?)
}

/// One year as administrators see it.
#[derive(Debug, Clone, Serialize)]
pub struct YearInfo {
    /// The year.
    pub year: i32,
    /// `shipped` (from the statutory data this build carries) or `entered` (by an administrator).
    pub source: String,
    /// Days off.
    pub holidays: Vec<Holiday>,
    /// Make-up working days.
    pub workdays: Vec<NaiveDate>,
}

/// Every year the calendar knows, newest first, and the first year it lacks.
pub async fn years(p: &Platform, actor: &Staff) -> Result<(Vec<YearInfo>, i32), ServiceError> {
    super::require_designer(actor)?;
    let entered: Vec<i64> = sqlx::query("SELECT year FROM calendar_years")
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(|r| r.try_get("year"))
        .collect::<Result<_, _>>()?;
    let c = p.calendar();
    let mut out: Vec<YearInfo> = c
        .years()
        .map(|y| YearInfo {
            year: y.year,
            source: if entered.contains(&i64::from(y.year)) {
                "entered".into()
            } else {
                "shipped".into()
            },
            holidays: y.holidays.clone(),
            workdays: y.workdays.clone(),
        })
        .collect();
    out.sort_by_key(|y| std::cmp::Reverse(y.year));
    let next = out.first().map_or(2026, |y| y.year + 1);
    Ok((out, next))
}

fn bad(field: &str, zh: String, en: String) -> ServiceError {
    ServiceError::Invalid(vec![FieldError::new(field, zh, en)])
}

/// Parse the administrator's text: one day off per line, `2027-01-01 元旦` or a range
/// `2027-10-01~2027-10-07 国庆节`; make-up working days one date per line.
pub fn parse_year(year: i32, holidays: &str, workdays: &str) -> Result<YearDays, ServiceError> {
    let date = |field: &str, s: &str, line: usize| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
            bad(
                field,
                format!("第 {line} 行的日期 {s:?} 不是 YYYY-MM-DD"),
                format!("line {line}: {s:?} is not a YYYY-MM-DD date"),
            )
        })
    };
    let mut hs = Vec::new();
    for (i, l) in holidays.lines().enumerate() {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (days, name) = l.split_once(char::is_whitespace).ok_or_else(|| {
            bad(
                "holidays",
                format!("第 {} 行缺少节日名称（如 2027-01-01 元旦）", i + 1),
                format!(
                    "line {}: the holiday's name is missing (e.g. 2027-01-01 元旦)",
                    i + 1
                ),
            )
        })?;
        let (a, b) = match days.split_once(['~', '至']) {
            Some((a, b)) => (date("holidays", a, i + 1)?, date("holidays", b, i + 1)?),
            None => {
                let d = date("holidays", days, i + 1)?;
                (d, d)
            }
        };
        if b < a || (b - a).num_days() > 31 {
            return Err(bad(
                "holidays",
                format!("第 {} 行的日期范围不合理", i + 1),
                format!("line {}: the date range is not sensible", i + 1),
            ));
        }
        let mut d = a;
        loop {
            hs.push(Holiday::new(d, name.trim()));
            match d.succ_opt() {
                Some(n) if n <= b => d = n,
                _ => break,
            }
        }
    }
    let mut ws = Vec::new();
    for (i, l) in workdays.lines().enumerate() {
        let l = l.split_whitespace().next().unwrap_or("");
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        ws.push(date("workdays", l, i + 1)?);
    }
    YearDays {
        year,
        holidays: hs,
        workdays: ws,
    }
    .validated()
    .map_err(|e| {
        let t = e.to_string();
        let (zh, en) = t.split_once(" / ").unwrap_or((&t, &t));
        bad("holidays", zh.to_owned(), en.to_owned())
    })
}

/// Enter (or correct) a year's arrangement (系统管理员); applies at once to new deadlines.
pub async fn set_year(
    p: &Platform,
    actor: &Staff,
    year: i32,
    holidays: &str,
    workdays: &str,
) -> Result<YearDays, ServiceError> {
    super::require_designer(actor)?;
    let y = parse_year(year, holidays, workdays)?;
    let mut tx = p.db.begin().await?;
    sqlx::query("DELETE FROM calendar_years WHERE year = $1")
        .bind(i64::from(year))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO calendar_years (year, data, source, updated_at, updated_by) VALUES ($1, $2, 'entered', $3, $4)",
    )
    .bind(i64::from(year))
    .bind(serde_json::to_string(&y)?)
    .bind(fmt_time(p.now()))
    .bind(&actor.username)
    .execute(&mut *tx)
    .await?;
    crate::identity::audit::append(
        &mut tx,
        p.now(),
        &crate::identity::audit::Entry::success(
            &actor.username,
            "calendar.set_year",
            &year.to_string(),
            serde_json::json!({ "holidays": y.holidays.len(), "workdays": y.workdays.len() }),
        ),
    )
    .await?;
    tx.commit().await?;
    reload(p).await?;
    Ok(y)
}

/// Set regional days off (`2027-03-03 三月三` per line) and working hours (`09:00-12:00,13:30-17:30`).
pub async fn set_local(
    p: &Platform,
    actor: &Staff,
    regional: &str,
    hours: &str,
) -> Result<(), ServiceError> {
    super::require_designer(actor)?;
    let h = WorkingHours::parse(hours.trim()).map_err(|e| {
        let t = e.to_string();
        let (zh, en) = t.split_once(" / ").unwrap_or((&t, &t));
        bad("hours", zh.to_owned(), en.to_owned())
    })?;
    let mut days = Vec::new();
    let mut probe = Calendar::statutory();
    for (i, l) in regional.lines().enumerate() {
        let l = l.trim();
        if l.is_empty() {
            continue;
        }
        let (d, name) = l
            .split_once(char::is_whitespace)
            .unwrap_or((l, "地方休息日"));
        let d = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            bad(
                "regional",
                format!("第 {} 行的日期不是 YYYY-MM-DD", i + 1),
                format!("line {}: not a YYYY-MM-DD date", i + 1),
            )
        })?;
        let day = Holiday::new(d, name.trim());
        probe.add_regional(day.clone()).map_err(|e| {
            let t = e.to_string();
            let (zh, en) = t.split_once(" / ").unwrap_or((&t, &t));
            bad("regional", zh.to_owned(), en.to_owned())
        })?;
        days.push(day);
    }
    let mut tx = p.db.begin().await?;
    for (k, v) in [
        (REGIONAL, serde_json::to_string(&days)?),
        (HOURS, h.to_string()),
    ] {
        sqlx::query("DELETE FROM meta WHERE key = $1")
            .bind(k)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
            .bind(k)
            .bind(v)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    reload(p).await
}
