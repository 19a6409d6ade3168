//! The calendar's data: one year's holiday arrangement as the State Council publishes it
//! (国务院办公厅关于××年部分节假日安排的通知), named days off, and what kind of day a date is.
//! Also the seed: the arrangements 2004–2026 shipped in the `chinese_holiday` crate.
//!
//! A year's arrangement is keyed by the year of its notice, not by the calendar year of each date:
//! the notice for year Y sometimes moves days at the end of December of Y-1 (the 2019 notice made
//! 2018-12-29 a working day and 2018-12-30/31 days off). So a [`YearDays`] of year Y may hold dates
//! of Y and of December of Y-1, nothing else.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::CalendarError;

/// Years the calendar accepts, for arrangements and regional days off.
pub(crate) const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// A named day off: a statutory holiday (节假日) or a regional day off (地方放假日).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Holiday {
    /// The local date (China Standard Time).
    pub date: NaiveDate,
    /// Its name as shown to people, e.g. `国庆节`.
    pub name: String,
}

impl Holiday {
    /// A named day off.
    pub fn new(date: NaiveDate, name: impl Into<String>) -> Self {
        Self {
            date,
            name: name.into(),
        }
    }
}

/// One year's arrangement: the days off (including the weekends inside a holiday period, as the
/// notices list them) and the make-up working days (调休上班) that fall on weekends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearDays {
    /// The year of the notice.
    pub year: i32,
    /// Days off, each with the holiday's name.
    pub holidays: Vec<Holiday>,
    /// Make-up working days (调休上班), each a Saturday or Sunday.
    pub workdays: Vec<NaiveDate>,
}

impl YearDays {
    /// Checks the arrangement and returns it with both lists sorted by date.
    ///
    /// # Errors
    /// [`CalendarError::YearOutOfRange`], [`CalendarError::NoHolidays`],
    /// [`CalendarError::DateOutsideYear`] (a date not in the year or the December before),
    /// [`CalendarError::EmptyName`], [`CalendarError::DuplicateDate`],
    /// [`CalendarError::HolidayAndWorkday`], [`CalendarError::MakeUpNotWeekend`].
    pub fn validated(mut self) -> Result<Self, CalendarError> {
        let year = self.year;
        if !YEARS.contains(&year) {
            return Err(CalendarError::YearOutOfRange(year));
        }
        if self.holidays.is_empty() {
            return Err(CalendarError::NoHolidays(year));
        }
        let belongs = |d: NaiveDate| d.year() == year || (d.year() == year - 1 && d.month() == 12);
        let mut off = HashSet::new();
        for h in &self.holidays {
            if !belongs(h.date) {
                return Err(CalendarError::DateOutsideYear { year, date: h.date });
            }
            if h.name.trim().is_empty() {
                return Err(CalendarError::EmptyName(h.date));
            }
            if !off.insert(h.date) {
                return Err(CalendarError::DuplicateDate(h.date));
            }
        }
        let mut on = HashSet::new();
        for &d in &self.workdays {
            if !belongs(d) {
                return Err(CalendarError::DateOutsideYear { year, date: d });
            }
            if off.contains(&d) {
                return Err(CalendarError::HolidayAndWorkday(d));
            }
            if !is_weekend(d) {
                return Err(CalendarError::MakeUpNotWeekend(d));
            }
            if !on.insert(d) {
                return Err(CalendarError::DuplicateDate(d));
            }
        }
        self.holidays.sort_by_key(|h| h.date);
        self.workdays.sort_unstable();
        Ok(self)
    }
}

/// What kind of day a date is, for display and for deciding whether it counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DayKind {
    /// Monday to Friday with nothing special: counts.
    Working,
    /// Saturday or Sunday with nothing special: does not count.
    Weekend,
    /// A statutory day off (法定节假日 and the days moved next to it), with its name.
    Holiday(String),
    /// A weekend day made a working day (调休上班): counts.
    MakeUpWorkday,
    /// A regional day off (地方放假日), with its name: does not count.
    Regional(String),
}

impl DayKind {
    /// Whether time limits count this day.
    pub fn is_working(&self) -> bool {
        matches!(self, Self::Working | Self::MakeUpWorkday)
    }
}

/// Saturday or Sunday.
pub(crate) fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// First and last date `chinese_holiday` answers for; it asserts (panics) outside them, so it is
/// only ever asked about dates in this range.
const SHIPPED_FIRST: (u16, u8, u8) = (2004, 1, 1);
const SHIPPED_LAST: (u16, u8, u8) = (2026, 12, 25);

/// The years whose arrangements `chinese_holiday` ships.
pub(crate) fn shipped_years() -> std::ops::RangeInclusive<i32> {
    i32::from(SHIPPED_FIRST.0)..=i32::from(SHIPPED_LAST.0)
}

/// Every shipped arrangement, read out of `chinese_holiday` day by day (its table is private).
///
/// New Year's Day entries in December belong to the next year's notice; every other entry to its
/// own year. Weekdays off and weekend working days that the crate marks as "normal" are plain
/// weekdays and weekends and are not listed.
pub(crate) fn shipped() -> Vec<YearDays> {
    use chinese_holiday::{DayKind as K, Ymd};

    let mut years: Vec<YearDays> = shipped_years()
        .map(|year| YearDays {
            year,
            holidays: Vec::new(),
            workdays: Vec::new(),
        })
        .collect();
    let first = date(SHIPPED_FIRST);
    let last = date(SHIPPED_LAST);
    let (Some(first), Some(last)) = (first, last) else {
        return Vec::new();
    };
    for d in first.iter_days().take_while(|d| *d <= last) {
        let (Ok(y), Ok(m), Ok(day)) = (
            u16::try_from(d.year()),
            u8::try_from(d.month()),
            u8::try_from(d.day()),
        ) else {
            continue;
        };
        let kind = chinese_holiday::chinese_holiday(Ymd::new(y, m, day));
        let name = match kind {
            K::NormalWorkday | K::NormalHoliday => continue,
            K::NewYearsDayHoliday | K::NewYearsDayWorkday => "元旦",
            K::SpringFestivalHoliday | K::SpringFestivalWorkday => "春节",
            K::ChingMingFestivalHoliday | K::ChingMingFestivalWorkday => "清明节",
            K::InternationalWorkersDayHoliday | K::InternationalWorkersDayWorkday => "劳动节",
            K::DragonBoatFestivalHoliday | K::DragonBoatFestivalWorkday => "端午节",
            K::MidAutumnFestivalHoliday | K::MidAutumnFestivalWorkday => "中秋节",
            K::NationalDayHoliday | K::NationalDayWorkday => "国庆节",
            // The only such days: 2015-09-03..05 (and the working 09-06).
            K::OtherHoliday | K::OtherWorkday => "抗战胜利70周年纪念日",
        };
        let notice = if d.month() == 12 && name == "元旦" {
            d.year() + 1
        } else {
            d.year()
        };
        let Some(entry) = years.iter_mut().find(|y| y.year == notice) else {
            continue;
        };
        if kind.is_holiday() {
            entry.holidays.push(Holiday::new(d, name));
        } else {
            entry.workdays.push(d);
        }
    }
    years
}

fn date((y, m, d): (u16, u8, u8)) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))
}
