//! The working-day calendar (工作日历) of the platform: which local dates count for time limits
//! (statutory holidays off, make-up working days on, regional days off), office hours, and the
//! deadline arithmetic the workflow engine, case handling and supervision use — N working days
//! from acceptance, N office hours, working time between two instants, and deadlines moved by
//! paused working time (补正, 特别程序).
//!
//! The statutory arrangements 2004–2026 come from the `chinese_holiday` crate
//! ([`Calendar::statutory`]); later years are entered by administrators when the State Council
//! publishes them each November ([`Calendar::set_year`]). Years without an arrangement fall back to
//! Monday–Friday and report [`Calendar::has_data`] false.
//!
//! No HTTP, no SQL, no async: a [`Calendar`] is plain serde data the platform stores and loads.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use yiwang_calendar::Calendar;
//!
//! let cal = Calendar::statutory();
//! // Accepted Tuesday 2025-09-30 10:00 (+08:00); 1 working day: National Day is off until
//! // 10-08, so the deadline is Thursday 10-09 17:30 (+08:00).
//! let accepted = Utc.with_ymd_and_hms(2025, 9, 30, 2, 0, 0).unwrap();
//! let deadline = cal.add_working_days(accepted, 1);
//! assert_eq!(deadline, Utc.with_ymd_and_hms(2025, 10, 9, 9, 30, 0).unwrap());
//! ```

mod calendar;
mod data;
mod error;
mod hours;

pub use calendar::Calendar;
pub use data::{DayKind, Holiday, YearDays};
pub use error::CalendarError;
pub use hours::WorkingHours;
