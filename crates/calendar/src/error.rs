//! The calendar's one error type. Every variant is an administrator's or caller's mistake (a
//! date that does not belong to the year being entered, a malformed working-hours string…):
//! the calendar has no internal faults to report. Messages are Chinese, then English, so the
//! web edge can show them to administrators as they are.

use chrono::NaiveDate;

/// Why calendar data was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The year is outside the range the calendar accepts (1900–9999).
    #[error("年份 {0} 超出范围（1900-9999） / year {0} is out of range (1900-9999)")]
    YearOutOfRange(i32),
    /// A date of a year's arrangement lies outside that year and outside the December before it.
    #[error(
        "{date} 不属于 {year} 年的节假日安排（只能是该年或上一年 12 月的日期） / \
         {date} is outside the {year} arrangement (only dates of that year or of the December before)"
    )]
    DateOutsideYear {
        /// The arrangement's year.
        year: i32,
        /// The offending date.
        date: NaiveDate,
    },
    /// A date is listed both as a day off and as a make-up working day.
    #[error(
        "{0} 同时被列为放假日和调休上班日 / {0} is listed both as a holiday and as a make-up working day"
    )]
    HolidayAndWorkday(NaiveDate),
    /// A make-up working day (调休上班) falls on Monday to Friday, which are working days anyway.
    #[error("调休上班日 {0} 不是周六或周日 / make-up working day {0} is not a Saturday or Sunday")]
    MakeUpNotWeekend(NaiveDate),
    /// The same date appears twice in one list.
    #[error("{0} 重复出现 / {0} appears more than once")]
    DuplicateDate(NaiveDate),
    /// A holiday or regional day off has an empty name.
    #[error("{0} 的假日名称为空 / the day off on {0} has no name")]
    EmptyName(NaiveDate),
    /// A year's arrangement lists no holiday at all: almost certainly an incomplete entry.
    #[error("{0} 年的安排没有任何放假日期 / the {0} arrangement lists no holidays")]
    NoHolidays(i32),
    /// A regional day off is entered twice.
    #[error("地方放假日 {0} 已存在 / a regional day off on {0} already exists")]
    RegionalExists(NaiveDate),
    /// A working-hours string is not of the form `09:00-12:00,13:30-17:30`.
    #[error(
        "工作时间格式应为 09:00-12:00,13:30-17:30，而不是“{0}” / \
         working hours must look like 09:00-12:00,13:30-17:30, not \"{0}\""
    )]
    HoursSyntax(String),
    /// A working-hours interval does not end after it starts.
    #[error(
        "工作时段 {0} 的结束时间不晚于开始时间 / working-hours interval {0} does not end after it starts"
    )]
    HoursEmptyInterval(String),
    /// Working-hours intervals overlap or are out of order.
    #[error(
        "工作时段 {0} 与前一时段重叠或早于前一时段 / working-hours interval {0} overlaps or precedes the one before it"
    )]
    HoursOverlap(String),
    /// No working-hours interval was given.
    #[error("至少需要一个工作时段 / at least one working-hours interval is needed")]
    NoHours,
    /// A stored UTC offset is not of the form `+08:00`.
    #[error("时区偏移“{0}”无效，应形如 +08:00 / invalid UTC offset \"{0}\", expected e.g. +08:00")]
    Offset(String),
}
