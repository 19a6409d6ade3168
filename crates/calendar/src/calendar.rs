//! [`Calendar`]: which days count, and the time-limit arithmetic built on it.
//!
//! # Counting rule
//!
//! DOMAIN.md §3 (办件 lifecycle): "Time limits are in working days (statutory holidays off,
//! make-up working days on); counting starts the day after acceptance; 补正 and 特别程序 stop the
//! clock." So an N-working-day limit accepted at any moment of day D ends at the end of office
//! hours of the Nth working day after D ([`Calendar::add_working_days`]). The paused time moves
//! a deadline later by the same amount of working time ([`Calendar::shift_by_working_time`]).
//!
//! # How it is fast
//!
//! Every question reduces to two monotone functions, computed without walking day by day:
//! the number of working days up to a date (`count`: a prefix sum over the dates that have data,
//! closed-form Monday-to-Friday arithmetic before and after them), and the working time before
//! an instant (`position`: working days before its local date times the daily hours, plus the
//! hours elapsed on its own day). A deadline is the earliest instant at which `position` reaches
//! a target (`locate`), found by a binary search in the prefix sums. Nothing allocates.
//!
//! # Days without data
//!
//! A date that no arrangement and no regional day off mentions counts as a working day from
//! Monday to Friday and as a weekend otherwise. For a whole year without an arrangement (next
//! year before the State Council publishes it) that fallback is all there is: [`Calendar::has_data`]
//! is false for it, so pages can warn that its deadlines may still move.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, Utc,
};
use serde::{Deserialize, Serialize};

use crate::data::{self, YEARS};
use crate::{CalendarError, DayKind, Holiday, WorkingHours, YearDays};

/// Nanoseconds in a second.
const NANOS: i128 = 1_000_000_000;

/// The working-day calendar: statutory arrangements per year, regional days off, office hours
/// and the local time zone (China Standard Time, UTC+08:00, by default). Instants are UTC;
/// days are local dates in the calendar's offset.
///
/// Serialized as its data (arrangements, regional days off, hours as `09:00-12:00,13:30-17:30`,
/// offset as `+08:00`); deserializing checks that data like [`Calendar::set_year`] does.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CalendarData", into = "CalendarData")]
pub struct Calendar {
    years: BTreeMap<i32, YearDays>,
    regional: Vec<Holiday>,
    hours: WorkingHours,
    offset: FixedOffset,
    index: DayIndex,
}

impl Calendar {
    /// A calendar without any arrangement: Monday to Friday count, default office hours, UTC+08:00.
    pub fn empty() -> Self {
        Self {
            years: BTreeMap::new(),
            regional: Vec::new(),
            hours: WorkingHours::default(),
            offset: china_standard_time(),
            index: DayIndex::default(),
        }
    }

    /// The calendar seeded with every arrangement `chinese_holiday` ships
    /// ([`Calendar::shipped_years`]), default office hours, UTC+08:00, no regional days off.
    pub fn statutory() -> Self {
        let mut calendar = Self::empty();
        for year in data::shipped() {
            calendar.years.insert(year.year, year);
        }
        calendar.reindex();
        calendar
    }

    /// The years whose arrangements [`Calendar::statutory`] contains: 2004 to 2026.
    pub fn shipped_years() -> std::ops::RangeInclusive<i32> {
        data::shipped_years()
    }

    /// Enters (or replaces) one year's arrangement, as an administrator does each November when
    /// the State Council publishes next year's. The lists are stored sorted by date. Where two
    /// notices mention the same date (year Y's notice moving days in December of Y-1), the later
    /// notice wins.
    ///
    /// # Errors
    /// The checks of [`YearDays::validated`]: year in 1900–9999, at least one holiday, dates in
    /// that year or the December before, named holidays, no date twice, no date both off and on,
    /// make-up working days on weekends only.
    pub fn set_year(&mut self, year: YearDays) -> Result<(), CalendarError> {
        let year = year.validated()?;
        self.years.insert(year.year, year);
        self.reindex();
        Ok(())
    }

    /// Removes a year's arrangement; its dates fall back to Monday–Friday.
    pub fn remove_year(&mut self, year: i32) -> Option<YearDays> {
        let removed = self.years.remove(&year);
        if removed.is_some() {
            self.reindex();
        }
        removed
    }

    /// The arrangement of one year, if entered.
    pub fn year(&self, year: i32) -> Option<&YearDays> {
        self.years.get(&year)
    }

    /// All arrangements, by year.
    pub fn years(&self) -> impl ExactSizeIterator<Item = &YearDays> {
        self.years.values()
    }

    /// Whether the year has an arrangement. When false its dates use the Monday–Friday fallback,
    /// and pages should warn that deadlines in it may move once the arrangement is entered.
    pub fn has_data(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// Adds a regional day off (e.g. a city's local holiday). It does not count even when it
    /// falls on a make-up working day.
    ///
    /// # Errors
    /// [`CalendarError::EmptyName`], [`CalendarError::RegionalExists`] for a date already entered,
    /// [`CalendarError::YearOutOfRange`] outside 1900–9999.
    pub fn add_regional(&mut self, day: Holiday) -> Result<(), CalendarError> {
        if !YEARS.contains(&day.date.year()) {
            return Err(CalendarError::YearOutOfRange(day.date.year()));
        }
        if day.name.trim().is_empty() {
            return Err(CalendarError::EmptyName(day.date));
        }
        match self.regional.binary_search_by_key(&day.date, |h| h.date) {
            Ok(_) => Err(CalendarError::RegionalExists(day.date)),
            Err(at) => {
                self.regional.insert(at, day);
                self.reindex();
                Ok(())
            }
        }
    }

    /// Removes the regional day off on a date.
    pub fn remove_regional(&mut self, date: NaiveDate) -> Option<Holiday> {
        let at = self.regional.binary_search_by_key(&date, |h| h.date).ok()?;
        let removed = self.regional.remove(at);
        self.reindex();
        Some(removed)
    }

    /// The regional days off, by date.
    pub fn regional(&self) -> &[Holiday] {
        &self.regional
    }

    /// The office hours hour-based limits count.
    pub fn working_hours(&self) -> &WorkingHours {
        &self.hours
    }

    /// Replaces the office hours.
    pub fn set_working_hours(&mut self, hours: WorkingHours) {
        self.hours = hours;
    }

    /// The local time zone's fixed offset from UTC (+08:00 unless changed).
    pub fn offset(&self) -> FixedOffset {
        self.offset
    }

    /// Replaces the local offset (for tests or a deployment outside China Standard Time).
    pub fn set_offset(&mut self, offset: FixedOffset) {
        self.offset = offset;
    }

    /// Whether time limits count this local date.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.index.is_working(day_number(date))
    }

    /// What kind of day a local date is, with the holiday's name.
    pub fn day_kind(&self, date: NaiveDate) -> DayKind {
        match self.index.code(day_number(date)) {
            HOLIDAY => DayKind::Holiday(self.holiday_name(date)),
            MAKEUP => DayKind::MakeUpWorkday,
            REGIONAL => DayKind::Regional(
                self.regional
                    .binary_search_by_key(&date, |h| h.date)
                    .ok()
                    .and_then(|at| self.regional.get(at))
                    .map_or_else(String::new, |h| h.name.clone()),
            ),
            _ if data::is_weekend(date) => DayKind::Weekend,
            _ => DayKind::Working,
        }
    }

    /// The local date of an instant.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        self.local(t).map_or(t.date_naive(), |l| l.date())
    }

    /// The end of office hours of a local date, as an instant: when a day-based limit ending on
    /// that date expires.
    pub fn day_end(&self, date: NaiveDate) -> DateTime<Utc> {
        self.to_utc(date, self.hours.day_end())
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The deadline of an `n`-working-day limit that starts at `start` (the moment of
    /// acceptance): the end of office hours of the nth working day after `start`'s local date.
    /// The day of acceptance never counts, whatever its hour (DOMAIN.md §3: "counting starts the
    /// day after acceptance"). For `n = 0` (即办件, done the same day) the deadline is the end of
    /// `start`'s day if that is a working day, else of the next working day.
    /// Saturates at [`DateTime::<Utc>::MAX_UTC`] beyond chrono's range.
    pub fn add_working_days(&self, start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let Some(local) = self.local(start) else {
            return DateTime::<Utc>::MAX_UTC;
        };
        let z = day_number(local.date());
        let target = if n == 0 {
            // The first working day from `z` on.
            self.index.nth(self.index.count(z - 1) + 1)
        } else {
            self.index.nth(self.index.count(z) + i64::from(n))
        };
        from_day_number(target).map_or(DateTime::<Utc>::MAX_UTC, |d| self.day_end(d))
    }

    /// The deadline of an `hours`-hour limit that starts at `start`: counting only office hours
    /// of working days. A start outside office hours counts from the next interval's start; for
    /// `hours = 0` the result is that snapped start. A limit that uses up a morning ends at the
    /// morning's end (12:00), not at the afternoon's start.
    pub fn add_working_hours(&self, start: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
        let Some(p) = self.position(start) else {
            return DateTime::<Utc>::MAX_UTC;
        };
        if hours == 0 {
            return self.locate(p, true).unwrap_or(DateTime::<Utc>::MAX_UTC);
        }
        self.locate(p + i128::from(hours) * 3_600 * NANOS, false)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Whole working days after `a`'s local date up to and including `b`'s; 0 if `b <= a`.
    /// For `n >= 1`, `working_days_between(t, add_working_days(t, n)) == n`.
    pub fn working_days_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> u32 {
        if b <= a {
            return 0;
        }
        let (Some(la), Some(lb)) = (self.local(a), self.local(b)) else {
            return 0;
        };
        let days =
            self.index.count(day_number(lb.date())) - self.index.count(day_number(la.date()));
        u32::try_from(days.max(0)).unwrap_or(u32::MAX)
    }

    /// Office-hours time of working days between two instants; zero if `b <= a`. This is how
    /// long a paused case (补正, 特别程序) was paused.
    pub fn working_time_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
        if b <= a {
            return TimeDelta::zero();
        }
        match (self.position(a), self.position(b)) {
            (Some(pa), Some(pb)) => delta(pb - pa),
            _ => TimeDelta::zero(),
        }
    }

    /// Moves a deadline later by `paused` office-hours time (earlier for a negative amount):
    /// the earliest instant whose working time after `deadline` equals `paused`. A deadline at
    /// the end of a working day moved by whole working days stays at the end of a working day.
    /// A zero amount returns `deadline` unchanged.
    pub fn shift_by_working_time(
        &self,
        deadline: DateTime<Utc>,
        paused: TimeDelta,
    ) -> DateTime<Utc> {
        if paused.is_zero() {
            return deadline;
        }
        let saturated = if paused > TimeDelta::zero() {
            DateTime::<Utc>::MAX_UTC
        } else {
            DateTime::<Utc>::MIN_UTC
        };
        let Some(p) = self.position(deadline) else {
            return saturated;
        };
        self.locate(p + nanos(paused), false).unwrap_or(saturated)
    }

    /// Rebuilds the day index after the data changed.
    fn reindex(&mut self) {
        let statutory = self.years.values().flat_map(|y| {
            y.holidays
                .iter()
                .map(|h| (h.date, HOLIDAY))
                .chain(y.workdays.iter().map(|&d| (d, MAKEUP)))
        });
        let regional = self.regional.iter().map(|h| (h.date, REGIONAL));
        self.index = DayIndex::build(statutory.chain(regional).collect());
    }

    /// The name of the statutory holiday on a date: from the latest notice that lists it.
    fn holiday_name(&self, date: NaiveDate) -> String {
        [date.year() + 1, date.year()]
            .iter()
            .filter_map(|y| self.years.get(y))
            .flat_map(|y| y.holidays.iter())
            .find(|h| h.date == date)
            .map_or_else(String::new, |h| h.name.clone())
    }

    /// The local date and time of an instant.
    fn local(&self, t: DateTime<Utc>) -> Option<NaiveDateTime> {
        t.naive_utc()
            .checked_add_signed(TimeDelta::seconds(i64::from(self.offset.local_minus_utc())))
    }

    /// The instant of a local date and time.
    fn to_utc(&self, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
        date.and_time(time)
            .checked_sub_signed(TimeDelta::seconds(i64::from(self.offset.local_minus_utc())))
            .map(|n| n.and_utc())
    }

    /// Working time (nanoseconds) from an arbitrary origin to the instant: monotone, and
    /// increasing exactly during office hours of working days.
    fn position(&self, t: DateTime<Utc>) -> Option<i128> {
        let local = self.local(t)?;
        let z = day_number(local.date());
        let before = i128::from(self.index.count(z - 1)) * i128::from(self.hours.daily_nanos());
        let today = if self.index.is_working(z) {
            self.hours.elapsed_nanos(local.time())
        } else {
            0
        };
        Some(before + i128::from(today))
    }

    /// The earliest instant whose position is `p` (`at_start = false`: a deadline ends at 12:00
    /// or 17:30), or the latest (`at_start = true`: work resumes at 13:30 or the next 09:00).
    fn locate(&self, p: i128, at_start: bool) -> Option<DateTime<Utc>> {
        let daily = i128::from(self.hours.daily_nanos());
        let (q, r) = (p.div_euclid(daily), p.rem_euclid(daily));
        let (nth, r) = if r == 0 && !at_start {
            (q, daily)
        } else {
            (q + 1, r)
        };
        let z = self.index.nth(i64::try_from(nth).ok()?);
        let time = self.hours.time_at(i64::try_from(r).ok()?, at_start);
        self.to_utc(from_day_number(z)?, time)
    }
}

impl fmt::Debug for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("years", &self.years.keys().collect::<Vec<_>>())
            .field("regional", &self.regional)
            .field("hours", &self.hours.to_string())
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

/// The serde form of a [`Calendar`]: its data without the derived index.
#[derive(Serialize, Deserialize)]
struct CalendarData {
    years: Vec<YearDays>,
    regional: Vec<Holiday>,
    working_hours: WorkingHours,
    utc_offset: String,
}

impl From<Calendar> for CalendarData {
    fn from(c: Calendar) -> Self {
        Self {
            years: c.years.into_values().collect(),
            regional: c.regional,
            working_hours: c.hours,
            utc_offset: c.offset.to_string(),
        }
    }
}

impl TryFrom<CalendarData> for Calendar {
    type Error = CalendarError;

    fn try_from(d: CalendarData) -> Result<Self, Self::Error> {
        let mut c = Self::empty();
        c.offset = d
            .utc_offset
            .parse()
            .map_err(|_| CalendarError::Offset(d.utc_offset.clone()))?;
        c.hours = d.working_hours;
        for year in d.years {
            let year = year.validated()?;
            c.years.insert(year.year, year);
        }
        for day in d.regional {
            c.add_regional(day)?;
        }
        c.reindex();
        Ok(c)
    }
}

/// UTC+08:00 (China Standard Time, no daylight saving).
fn china_standard_time() -> FixedOffset {
    FixedOffset::east_opt(8 * 3_600).unwrap_or(Utc.fix())
}

/// A duration in nanoseconds (i128 so that any chrono duration fits).
fn nanos(d: TimeDelta) -> i128 {
    i128::from(d.num_seconds()) * NANOS + i128::from(d.subsec_nanos())
}

/// A duration from nanoseconds, saturating at chrono's limits.
fn delta(n: i128) -> TimeDelta {
    let secs = i64::try_from(n.div_euclid(NANOS)).ok();
    let rest = i64::try_from(n.rem_euclid(NANOS)).unwrap_or(0);
    secs.and_then(TimeDelta::try_seconds)
        .and_then(|s| s.checked_add(&TimeDelta::nanoseconds(rest)))
        .unwrap_or(if n < 0 {
            TimeDelta::MIN
        } else {
            TimeDelta::MAX
        })
}

/// Day number of a date: 0 is Monday 0001-01-01, so `z mod 7` is the weekday from Monday.
fn day_number(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce()) - 1
}

/// The date of a day number, if chrono can represent it.
fn from_day_number(z: i64) -> Option<NaiveDate> {
    i32::try_from(z + 1)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// Number of Mondays-to-Fridays among day numbers `0..=z` (negative and decreasing for `z < -1`,
/// so that differences count weekdays anywhere).
fn weekdays_through(z: i64) -> i64 {
    let m = z + 1;
    5 * m.div_euclid(7) + m.rem_euclid(7).min(5)
}

/// The smallest day number `z` with `weekdays_through(z) >= t`: the inverse of the above.
fn nth_weekday(t: i64) -> i64 {
    7 * (t - 1).div_euclid(5) + (t - 1).rem_euclid(5)
}

/// Day codes in the index.
const PLAIN: u8 = 0;
const HOLIDAY: u8 = 1;
const MAKEUP: u8 = 2;
const REGIONAL: u8 = 3;

/// Dense per-day codes over the span of dates that have data, with prefix sums of working days.
#[derive(Clone, Default, PartialEq, Eq)]
struct DayIndex {
    /// Day number of `codes[0]`.
    start: i64,
    /// One code per day from `start`.
    codes: Vec<u8>,
    /// `cum[k]`: working days among `codes[..k]`; one longer than `codes`.
    cum: Vec<u32>,
}

impl DayIndex {
    /// Builds the index from `(date, code)` in priority order: a later entry replaces an earlier
    /// one, except that a regional day off does not replace a statutory holiday.
    fn build(entries: Vec<(NaiveDate, u8)>) -> Self {
        let numbers = entries.iter().map(|&(d, _)| day_number(d));
        let (Some(first), Some(last)) = (numbers.clone().min(), numbers.max()) else {
            return Self::default();
        };
        let mut codes = vec![PLAIN; usize::try_from(last - first + 1).unwrap_or(0)];
        for (d, code) in entries {
            let at = usize::try_from(day_number(d) - first).ok();
            if let Some(slot) = at.and_then(|at| codes.get_mut(at))
                && !(code == REGIONAL && *slot == HOLIDAY)
            {
                *slot = code;
            }
        }
        let mut cum = Vec::with_capacity(codes.len() + 1);
        let mut total = 0u32;
        cum.push(total);
        for (i, &code) in codes.iter().enumerate() {
            total += u32::from(works(code, first + i as i64));
            cum.push(total);
        }
        Self {
            start: first,
            codes,
            cum,
        }
    }

    /// Day number one past the last indexed day.
    fn end(&self) -> i64 {
        self.start + self.codes.len() as i64
    }

    /// Working days among the indexed days.
    fn total(&self) -> i64 {
        i64::from(self.cum.last().copied().unwrap_or(0))
    }

    /// The code of a day; [`PLAIN`] outside the index.
    fn code(&self, z: i64) -> u8 {
        usize::try_from(z - self.start)
            .ok()
            .and_then(|i| self.codes.get(i))
            .copied()
            .unwrap_or(PLAIN)
    }

    /// Whether day `z` counts.
    fn is_working(&self, z: i64) -> bool {
        works(self.code(z), z)
    }

    /// Working days among day numbers up to and including `z`, from a fixed origin: steps by one
    /// exactly on working days.
    fn count(&self, z: i64) -> i64 {
        let base = weekdays_through(self.start - 1);
        if z < self.start {
            weekdays_through(z)
        } else if z < self.end() {
            let k = usize::try_from(z - self.start + 1).unwrap_or(0);
            base + i64::from(self.cum.get(k).copied().unwrap_or(0))
        } else {
            base + self.total() + weekdays_through(z) - weekdays_through(self.end() - 1)
        }
    }

    /// The working day `z` with `count(z) == t`: the smallest `z` with `count(z) >= t`.
    fn nth(&self, t: i64) -> i64 {
        let base = weekdays_through(self.start - 1);
        if t <= base {
            nth_weekday(t)
        } else if t <= base + self.total() {
            let k = self.cum.partition_point(|&c| base + i64::from(c) < t);
            self.start + k as i64 - 1
        } else {
            nth_weekday(t - base - self.total() + weekdays_through(self.end() - 1))
        }
    }
}

/// Whether a day with this code and day number counts.
fn works(code: u8, z: i64) -> bool {
    match code {
        HOLIDAY | REGIONAL => false,
        MAKEUP => true,
        _ => z.rem_euclid(7) < 5,
    }
}
