//! Office hours (工作时间): the daily intervals during which hour-based time limits run, by
//! default 09:00–12:00 and 13:30–17:30. Day-based limits end at the end of the last interval.
//!
//! The value is stored and shown as the string administrators type, `09:00-12:00,13:30-17:30`,
//! so its serde form is that string and deserializing it checks it like [`WorkingHours::parse`].

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveTime, TimeDelta, Timelike};
use serde::{Deserialize, Serialize};

use crate::CalendarError;

/// Nanoseconds in a second.
const NANOS: i64 = 1_000_000_000;

/// The daily working-hours intervals: non-empty, each ending after it starts, in order and not
/// overlapping (touching is allowed). Built only by [`WorkingHours::new`] or
/// [`WorkingHours::parse`], so at least one positive interval always exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkingHours {
    intervals: Vec<(NaiveTime, NaiveTime)>,
}

impl WorkingHours {
    /// Checks and wraps a list of `(start, end)` intervals.
    ///
    /// # Errors
    /// [`CalendarError::NoHours`] for an empty list, [`CalendarError::HoursEmptyInterval`] when an
    /// interval does not end after it starts, [`CalendarError::HoursOverlap`] when intervals
    /// overlap or are out of order.
    pub fn new(intervals: Vec<(NaiveTime, NaiveTime)>) -> Result<Self, CalendarError> {
        if intervals.is_empty() {
            return Err(CalendarError::NoHours);
        }
        let mut previous_end: Option<NaiveTime> = None;
        for &(start, end) in &intervals {
            if end <= start {
                return Err(CalendarError::HoursEmptyInterval(show(start, end)));
            }
            if previous_end.is_some_and(|p| start < p) {
                return Err(CalendarError::HoursOverlap(show(start, end)));
            }
            previous_end = Some(end);
        }
        Ok(Self { intervals })
    }

    /// Parses `HH:MM-HH:MM` intervals separated by commas (spaces and the full-width comma
    /// `，` are accepted), e.g. `09:00-12:00,13:30-17:30`.
    ///
    /// # Errors
    /// [`CalendarError::HoursSyntax`] for text that is not of that form, then the checks of
    /// [`WorkingHours::new`].
    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let syntax = || CalendarError::HoursSyntax(text.to_string());
        let mut intervals = Vec::new();
        for part in text.split([',', '，']) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (start, end) = part.split_once('-').ok_or_else(syntax)?;
            let start = NaiveTime::parse_from_str(start.trim(), "%H:%M").map_err(|_| syntax())?;
            let end = NaiveTime::parse_from_str(end.trim(), "%H:%M").map_err(|_| syntax())?;
            intervals.push((start, end));
        }
        Self::new(intervals)
    }

    /// The intervals, in order.
    pub fn intervals(&self) -> &[(NaiveTime, NaiveTime)] {
        &self.intervals
    }

    /// Working time in one working day (7 hours by default).
    pub fn daily(&self) -> TimeDelta {
        TimeDelta::nanoseconds(self.daily_nanos())
    }

    /// The end of the last interval: when a working day, and so a day-based deadline, ends.
    pub fn day_end(&self) -> NaiveTime {
        // `new` guarantees at least one interval; midnight is never reached.
        self.intervals
            .last()
            .map_or(NaiveTime::MIN, |&(_, end)| end)
    }

    /// Working time in one day, in nanoseconds (positive: `new` rejects empty intervals).
    pub(crate) fn daily_nanos(&self) -> i64 {
        self.intervals
            .iter()
            .map(|&(s, e)| nanos_of(e) - nanos_of(s))
            .sum()
    }

    /// Working time of a day elapsed at local time `t`, in nanoseconds.
    pub(crate) fn elapsed_nanos(&self, t: NaiveTime) -> i64 {
        let t = nanos_of(t);
        self.intervals
            .iter()
            .map(|&(s, e)| (t.min(nanos_of(e)) - nanos_of(s)).max(0))
            .sum()
    }

    /// The local time at which `r` nanoseconds of the day's working time have elapsed, for
    /// `0 <= r <= daily`. Where that moment is both the end of one interval and the start of the
    /// next (12:00 and 13:30 for three hours), `at_start` picks the later, else the earlier.
    pub(crate) fn time_at(&self, mut r: i64, at_start: bool) -> NaiveTime {
        for &(s, e) in &self.intervals {
            let len = nanos_of(e) - nanos_of(s);
            if r < len || (r == len && !at_start) {
                return time_of(nanos_of(s) + r);
            }
            r -= len;
        }
        self.day_end()
    }
}

impl Default for WorkingHours {
    /// 09:00–12:00 and 13:30–17:30, the common office hours of government service halls.
    fn default() -> Self {
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
        Self {
            intervals: vec![(hm(9, 0), hm(12, 0)), (hm(13, 30), hm(17, 30))],
        }
    }
}

impl fmt::Display for WorkingHours {
    /// The form [`WorkingHours::parse`] reads: `09:00-12:00,13:30-17:30`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(s, e)) in self.intervals.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(&show(s, e))?;
        }
        Ok(())
    }
}

impl FromStr for WorkingHours {
    type Err = CalendarError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for WorkingHours {
    type Error = CalendarError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<WorkingHours> for String {
    fn from(h: WorkingHours) -> Self {
        h.to_string()
    }
}

/// One interval as `HH:MM-HH:MM`.
fn show(start: NaiveTime, end: NaiveTime) -> String {
    format!("{}-{}", start.format("%H:%M"), end.format("%H:%M"))
}

/// Nanoseconds since midnight; a leap second counts as the last nanosecond of its second.
pub(crate) fn nanos_of(t: NaiveTime) -> i64 {
    i64::from(t.num_seconds_from_midnight()) * NANOS + i64::from(t.nanosecond().min(999_999_999))
}

/// The time `n` nanoseconds after midnight, for `0 <= n < 24 h`.
fn time_of(n: i64) -> NaiveTime {
    let secs = u32::try_from(n.div_euclid(NANOS)).unwrap_or(0);
    let nano = u32::try_from(n.rem_euclid(NANOS)).unwrap_or(0);
    NaiveTime::from_num_seconds_from_midnight_opt(secs, nano).unwrap_or(NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn default_parses_and_displays() {
        let d = WorkingHours::default();
        assert_eq!(d.to_string(), "09:00-12:00,13:30-17:30");
        assert_eq!(WorkingHours::parse("09:00-12:00,13:30-17:30").unwrap(), d);
        assert_eq!(
            WorkingHours::parse(" 09:00 - 12:00 ， 13:30-17:30 ,").unwrap(),
            d
        );
        assert_eq!(d.daily(), TimeDelta::hours(7));
        assert_eq!(d.day_end(), t(17, 30));
    }

    #[test]
    fn rejects_bad_hours() {
        assert!(matches!(
            WorkingHours::parse(""),
            Err(CalendarError::NoHours)
        ));
        assert!(matches!(
            WorkingHours::parse("9点-12点"),
            Err(CalendarError::HoursSyntax(_))
        ));
        assert!(matches!(
            WorkingHours::parse("09:00-25:00"),
            Err(CalendarError::HoursSyntax(_))
        ));
        assert_eq!(
            WorkingHours::parse("12:00-09:00"),
            Err(CalendarError::HoursEmptyInterval("12:00-09:00".into()))
        );
        assert_eq!(
            WorkingHours::parse("09:00-12:00,11:00-17:00"),
            Err(CalendarError::HoursOverlap("11:00-17:00".into()))
        );
        // Touching intervals are fine.
        assert!(WorkingHours::parse("09:00-12:00,12:00-17:00").is_ok());
    }

    #[test]
    fn elapsed_and_time_at_are_inverse() {
        let d = WorkingHours::default();
        let h = 3_600 * NANOS;
        assert_eq!(d.elapsed_nanos(t(8, 0)), 0);
        assert_eq!(d.elapsed_nanos(t(10, 0)), h);
        assert_eq!(d.elapsed_nanos(t(13, 0)), 3 * h);
        assert_eq!(d.elapsed_nanos(t(18, 0)), 7 * h);
        assert_eq!(d.time_at(3 * h, false), t(12, 0));
        assert_eq!(d.time_at(3 * h, true), t(13, 30));
        assert_eq!(d.time_at(0, true), t(9, 0));
        assert_eq!(d.time_at(7 * h, false), t(17, 30));
        assert_eq!(d.time_at(4 * h, false), t(14, 30));
    }

    #[test]
    fn serde_is_the_string() {
        let d = WorkingHours::default();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, "\"09:00-12:00,13:30-17:30\"");
        assert_eq!(serde_json::from_str::<WorkingHours>(&json).unwrap(), d);
        assert!(serde_json::from_str::<WorkingHours>("\"17:00-09:00\"").is_err());
    }
}
