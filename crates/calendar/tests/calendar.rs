//! Real dates: the 2025 National Day and 2026 Spring Festival arrangements from the shipped data,
//! ordinary weeks, a regional day off, an administrator-entered year, and the checks on entered
//! data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, TimeZone, Utc};
use yiwang_calendar::{Calendar, CalendarError, DayKind, Holiday, WorkingHours, YearDays};

/// A local (+08:00) moment as an instant.
fn at(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The deadline instant: end of office hours (17:30 local) of a date.
fn end(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    at(y, m, d, 17, 30)
}

#[test]
fn day_number_zero_is_a_monday() {
    // The index's weekday arithmetic assumes 0001-01-01 is a Monday (proleptic Gregorian).
    assert_eq!(
        NaiveDate::from_num_days_from_ce_opt(1)
            .unwrap()
            .format("%a")
            .to_string(),
        "Mon"
    );
}

#[test]
fn shipped_years_are_2004_to_2026_and_pass_the_admin_checks() {
    let cal = Calendar::statutory();
    assert_eq!(Calendar::shipped_years(), 2004..=2026);
    assert_eq!(cal.years().len(), 23);
    for y in cal.years() {
        assert_eq!(y.clone().validated().as_ref(), Ok(y), "{}", y.year);
        assert!(!y.holidays.is_empty());
    }
    assert!(cal.has_data(2004) && cal.has_data(2026));
    assert!(!cal.has_data(2003) && !cal.has_data(2027));
}

#[test]
fn national_day_2025() {
    let cal = Calendar::statutory();
    for d in 1..=8 {
        assert_eq!(
            cal.day_kind(day(2025, 10, d)),
            DayKind::Holiday("国庆节".into()),
            "10-{d}"
        );
        assert!(!cal.is_working_day(day(2025, 10, d)));
    }
    assert_eq!(cal.day_kind(day(2025, 9, 28)), DayKind::MakeUpWorkday); // Sunday
    assert_eq!(cal.day_kind(day(2025, 10, 11)), DayKind::MakeUpWorkday); // Saturday
    assert_eq!(cal.day_kind(day(2025, 10, 12)), DayKind::Weekend);
    assert_eq!(cal.day_kind(day(2025, 10, 9)), DayKind::Working);

    // Accepted Friday 09-26: the next working day is the make-up Sunday 09-28.
    assert_eq!(
        cal.add_working_days(at(2025, 9, 26, 10, 0), 1),
        end(2025, 9, 28)
    );
    // Accepted Tuesday 09-30: Thursday 10-09, Friday 10-10, make-up Saturday 10-11, Monday 10-13.
    let accepted = at(2025, 9, 30, 16, 0);
    assert_eq!(cal.add_working_days(accepted, 1), end(2025, 10, 9));
    assert_eq!(cal.add_working_days(accepted, 3), end(2025, 10, 11));
    assert_eq!(cal.add_working_days(accepted, 4), end(2025, 10, 13));
    assert_eq!(cal.working_days_between(accepted, end(2025, 10, 13)), 4);
    // Accepted during the holiday: counting starts after it.
    assert_eq!(
        cal.add_working_days(at(2025, 10, 3, 9, 0), 1),
        end(2025, 10, 9)
    );
    // 17:30 local is 09:30 UTC.
    assert_eq!(
        end(2025, 10, 9),
        Utc.with_ymd_and_hms(2025, 10, 9, 9, 30, 0).unwrap()
    );
}

#[test]
fn spring_festival_2026() {
    let cal = Calendar::statutory();
    assert_eq!(cal.day_kind(day(2026, 2, 14)), DayKind::MakeUpWorkday);
    for d in 15..=23 {
        assert_eq!(
            cal.day_kind(day(2026, 2, d)),
            DayKind::Holiday("春节".into())
        );
    }
    assert_eq!(cal.day_kind(day(2026, 2, 28)), DayKind::MakeUpWorkday);
    // Friday 02-13 + 1 = the make-up Saturday 02-14; from there, Tuesday 02-24.
    assert_eq!(
        cal.add_working_days(at(2026, 2, 13, 11, 0), 1),
        end(2026, 2, 14)
    );
    assert_eq!(
        cal.add_working_days(at(2026, 2, 14, 11, 0), 1),
        end(2026, 2, 24)
    );
    // 20 working days (行政许可法) from Tuesday 02-10: 02-11..13 (3), the make-up 02-14 (4),
    // 02-24..27 (8), the make-up 02-28 (9), 03-02..06 (14), 03-09..13 (19), Monday 03-16 (20).
    assert_eq!(
        cal.add_working_days(at(2026, 2, 10, 9, 0), 20),
        end(2026, 3, 16)
    );
}

#[test]
fn december_days_of_the_next_notice() {
    // The 2019 notice made Saturday 2018-12-29 a working day and 12-30/31 days off.
    let cal = Calendar::statutory();
    assert!(
        cal.year(2019)
            .unwrap()
            .workdays
            .contains(&day(2018, 12, 29))
    );
    assert_eq!(cal.day_kind(day(2018, 12, 29)), DayKind::MakeUpWorkday);
    assert_eq!(
        cal.day_kind(day(2018, 12, 31)),
        DayKind::Holiday("元旦".into())
    );
    assert_eq!(
        cal.day_kind(day(2015, 9, 3)),
        DayKind::Holiday("抗战胜利70周年纪念日".into())
    );
}

#[test]
fn friday_plus_one_is_monday() {
    let cal = Calendar::statutory();
    // 2025-03-07 is an ordinary Friday; late in the evening still counts as Friday.
    assert_eq!(
        cal.add_working_days(at(2025, 3, 7, 23, 59), 1),
        end(2025, 3, 10)
    );
    assert_eq!(
        cal.add_working_days(at(2025, 3, 7, 8, 0), 1),
        Utc.with_ymd_and_hms(2025, 3, 10, 9, 30, 0).unwrap()
    );
    // 00:30 local on Saturday is still Friday in UTC: the local date decides.
    assert_eq!(
        cal.add_working_days(at(2025, 3, 8, 0, 30), 1),
        end(2025, 3, 10)
    );
    // 即办件: the same working day, or the next one on a weekend.
    assert_eq!(
        cal.add_working_days(at(2025, 3, 7, 10, 0), 0),
        end(2025, 3, 7)
    );
    assert_eq!(
        cal.add_working_days(at(2025, 3, 8, 10, 0), 0),
        end(2025, 3, 10)
    );
    assert_eq!(
        cal.working_days_between(at(2025, 3, 7, 10, 0), at(2025, 3, 7, 17, 0)),
        0
    );
    assert_eq!(
        cal.working_days_between(at(2025, 3, 10, 10, 0), at(2025, 3, 7, 17, 0)),
        0
    );
}

#[test]
fn regional_day_off() {
    let mut cal = Calendar::statutory();
    // Test data: a made-up local day off on Monday 2025-03-10.
    cal.add_regional(Holiday::new(day(2025, 3, 10), "测试用地方假日"))
        .unwrap();
    assert_eq!(
        cal.day_kind(day(2025, 3, 10)),
        DayKind::Regional("测试用地方假日".into())
    );
    assert_eq!(
        cal.add_working_days(at(2025, 3, 7, 10, 0), 1),
        end(2025, 3, 11)
    );
    assert_eq!(
        cal.add_regional(Holiday::new(day(2025, 3, 10), "again")),
        Err(CalendarError::RegionalExists(day(2025, 3, 10)))
    );
    assert_eq!(
        cal.add_regional(Holiday::new(day(2025, 3, 11), " ")),
        Err(CalendarError::EmptyName(day(2025, 3, 11)))
    );
    // A regional day off on a make-up working day takes the day off; on a statutory holiday the
    // holiday's name stays.
    cal.add_regional(Holiday::new(day(2025, 9, 28), "测试用地方假日"))
        .unwrap();
    assert!(!cal.is_working_day(day(2025, 9, 28)));
    cal.add_regional(Holiday::new(day(2025, 10, 2), "测试用地方假日"))
        .unwrap();
    assert_eq!(
        cal.day_kind(day(2025, 10, 2)),
        DayKind::Holiday("国庆节".into())
    );
    assert!(cal.remove_regional(day(2025, 3, 10)).is_some());
    assert_eq!(
        cal.add_working_days(at(2025, 3, 7, 10, 0), 1),
        end(2025, 3, 10)
    );
    assert_eq!(cal.regional().len(), 2);
}

/// TEST DATA, not the real 2027 arrangement: made-up dates to show an administrator's entry
/// replacing the Monday–Friday fallback.
fn fabricated_2027() -> YearDays {
    YearDays {
        year: 2027,
        holidays: vec![
            Holiday::new(day(2027, 1, 1), "元旦（测试数据）"),
            Holiday::new(day(2027, 1, 4), "元旦（测试数据）"),
        ],
        workdays: vec![day(2027, 1, 9)], // a Saturday
    }
}

#[test]
fn admin_entered_year_overrides_the_fallback() {
    let mut cal = Calendar::statutory();
    assert!(!cal.has_data(2027));
    assert!(cal.year(2027).is_none());
    // Fallback: Friday 2027-01-01 counts before the arrangement is entered.
    assert_eq!(cal.day_kind(day(2027, 1, 1)), DayKind::Working);
    assert_eq!(
        cal.add_working_days(at(2026, 12, 31, 10, 0), 1),
        end(2027, 1, 1)
    );

    cal.set_year(fabricated_2027()).unwrap();
    assert!(cal.has_data(2027));
    assert_eq!(
        cal.day_kind(day(2027, 1, 1)),
        DayKind::Holiday("元旦（测试数据）".into())
    );
    assert_eq!(cal.day_kind(day(2027, 1, 9)), DayKind::MakeUpWorkday);
    // Thursday 12-31: Friday 01-01 and Monday 01-04 are off, so Tuesday 01-05.
    assert_eq!(
        cal.add_working_days(at(2026, 12, 31, 10, 0), 1),
        end(2027, 1, 5)
    );
    // 01-05..08 are four working days, then the make-up Saturday 01-09.
    assert_eq!(
        cal.add_working_days(at(2026, 12, 31, 10, 0), 5),
        end(2027, 1, 9)
    );
    // Days after the entered data fall back again.
    assert_eq!(
        cal.add_working_days(at(2027, 3, 5, 10, 0), 1),
        end(2027, 3, 8)
    );

    assert!(cal.remove_year(2027).is_some());
    assert_eq!(
        cal.add_working_days(at(2026, 12, 31, 10, 0), 1),
        end(2027, 1, 1)
    );
}

#[test]
fn entered_years_are_checked() {
    let mut cal = Calendar::statutory();
    let with = |f: &dyn Fn(&mut YearDays)| {
        let mut y = fabricated_2027();
        f(&mut y);
        y
    };
    assert_eq!(
        cal.set_year(with(&|y| y
            .holidays
            .push(Holiday::new(day(2028, 1, 1), "x")))),
        Err(CalendarError::DateOutsideYear {
            year: 2027,
            date: day(2028, 1, 1)
        })
    );
    assert_eq!(
        cal.set_year(with(&|y| y.workdays.push(day(2026, 11, 28)))),
        Err(CalendarError::DateOutsideYear {
            year: 2027,
            date: day(2026, 11, 28)
        })
    );
    assert_eq!(
        cal.set_year(with(&|y| y.workdays.push(day(2027, 1, 4)))),
        Err(CalendarError::HolidayAndWorkday(day(2027, 1, 4)))
    );
    assert_eq!(
        cal.set_year(with(&|y| y.workdays.push(day(2027, 1, 8)))),
        Err(CalendarError::MakeUpNotWeekend(day(2027, 1, 8)))
    );
    assert_eq!(
        cal.set_year(with(&|y| y
            .holidays
            .push(Holiday::new(day(2027, 1, 1), "again")))),
        Err(CalendarError::DuplicateDate(day(2027, 1, 1)))
    );
    assert_eq!(
        cal.set_year(with(&|y| y.holidays[0].name = String::new())),
        Err(CalendarError::EmptyName(day(2027, 1, 1)))
    );
    assert_eq!(
        cal.set_year(with(&|y| y.holidays.clear())),
        Err(CalendarError::NoHolidays(2027))
    );
    assert_eq!(
        cal.set_year(YearDays {
            year: 12_000,
            holidays: vec![],
            workdays: vec![]
        }),
        Err(CalendarError::YearOutOfRange(12_000))
    );
    assert!(!cal.has_data(2027), "rejected entries leave no trace");
    // December of the year before is allowed (test data), and the later notice wins.
    cal.set_year(with(&|y| {
        y.holidays
            .push(Holiday::new(day(2026, 12, 31), "元旦（测试数据）"))
    }))
    .unwrap();
    assert_eq!(
        cal.day_kind(day(2026, 12, 31)),
        DayKind::Holiday("元旦（测试数据）".into())
    );
    // Stored sorted.
    let dates: Vec<_> = cal
        .year(2027)
        .unwrap()
        .holidays
        .iter()
        .map(|h| h.date)
        .collect();
    assert_eq!(dates, [day(2026, 12, 31), day(2027, 1, 1), day(2027, 1, 4)]);
}

#[test]
fn error_messages_are_bilingual() {
    let e = CalendarError::MakeUpNotWeekend(day(2027, 1, 8));
    assert_eq!(
        e.to_string(),
        "调休上班日 2027-01-08 不是周六或周日 / make-up working day 2027-01-08 is not a Saturday or Sunday"
    );
}

#[test]
fn working_hours_limits() {
    let cal = Calendar::statutory();
    // Friday 16:30 + 2 h: one hour on Friday, one on Monday from 09:00.
    assert_eq!(
        cal.add_working_hours(at(2025, 3, 7, 16, 30), 2),
        at(2025, 3, 10, 10, 0)
    );
    // The lunch break does not count.
    assert_eq!(
        cal.add_working_hours(at(2025, 3, 10, 11, 30), 1),
        at(2025, 3, 10, 14, 0)
    );
    // A morning's worth ends at 12:00, a day's worth at 17:30.
    assert_eq!(
        cal.add_working_hours(at(2025, 3, 10, 9, 0), 3),
        at(2025, 3, 10, 12, 0)
    );
    assert_eq!(
        cal.add_working_hours(at(2025, 3, 10, 9, 0), 7),
        at(2025, 3, 10, 17, 30)
    );
    // A start outside office hours counts from the next interval's start.
    assert_eq!(
        cal.add_working_hours(at(2025, 3, 8, 10, 0), 1),
        at(2025, 3, 10, 10, 0)
    );
    assert_eq!(
        cal.add_working_hours(at(2025, 3, 10, 12, 40), 1),
        at(2025, 3, 10, 14, 30)
    );
    assert_eq!(
        cal.add_working_hours(at(2025, 3, 10, 12, 40), 0),
        at(2025, 3, 10, 13, 30)
    );
    assert_eq!(
        cal.add_working_hours(at(2025, 3, 10, 18, 0), 0),
        at(2025, 3, 11, 9, 0)
    );
    assert_eq!(
        cal.add_working_hours(at(2025, 3, 10, 10, 15), 0),
        at(2025, 3, 10, 10, 15)
    );
    // Over National Day 2025: Tuesday 09-30 17:00 + 1 h = Thursday 10-09 09:30.
    assert_eq!(
        cal.add_working_hours(at(2025, 9, 30, 17, 0), 1),
        at(2025, 10, 9, 9, 30)
    );
    assert_eq!(
        cal.working_time_between(at(2025, 9, 30, 17, 0), at(2025, 10, 9, 9, 30)),
        TimeDelta::hours(1)
    );
    assert_eq!(
        cal.working_time_between(at(2025, 3, 7, 0, 0), at(2025, 3, 10, 23, 0)),
        TimeDelta::hours(14)
    );
}

#[test]
fn other_office_hours() {
    let mut cal = Calendar::statutory();
    cal.set_working_hours(WorkingHours::parse("08:30-12:00,14:30-18:00").unwrap());
    assert_eq!(
        cal.add_working_days(at(2025, 3, 7, 10, 0), 1),
        at(2025, 3, 10, 18, 0)
    );
    assert_eq!(
        cal.add_working_hours(at(2025, 3, 7, 17, 0), 2),
        at(2025, 3, 10, 9, 30)
    );
}

#[test]
fn a_pause_moves_the_deadline() {
    let cal = Calendar::statutory();
    // 5-working-day limit accepted Monday 2025-03-03: deadline Monday 03-10 17:30.
    let deadline = cal.add_working_days(at(2025, 3, 3, 10, 0), 5);
    assert_eq!(deadline, end(2025, 3, 10));
    // 补正 from Tuesday 10:00 to Thursday 10:00: two working days of office hours.
    let paused = cal.working_time_between(at(2025, 3, 4, 10, 0), at(2025, 3, 6, 10, 0));
    assert_eq!(paused, TimeDelta::hours(14));
    assert_eq!(
        cal.shift_by_working_time(deadline, paused),
        end(2025, 3, 12)
    );
    // Half a day moves it into the next morning.
    assert_eq!(
        cal.shift_by_working_time(deadline, TimeDelta::hours(3)),
        at(2025, 3, 11, 12, 0)
    );
    assert_eq!(
        cal.shift_by_working_time(deadline, TimeDelta::zero()),
        deadline
    );
    assert_eq!(
        cal.shift_by_working_time(end(2025, 3, 12), -paused),
        end(2025, 3, 10)
    );
}

#[test]
fn serde_round_trip_and_checks() {
    let mut cal = Calendar::statutory();
    cal.set_year(fabricated_2027()).unwrap();
    cal.add_regional(Holiday::new(day(2025, 3, 10), "测试用地方假日"))
        .unwrap();
    let json = serde_json::to_value(&cal).unwrap();
    assert_eq!(json["utc_offset"], "+08:00");
    assert_eq!(json["working_hours"], "09:00-12:00,13:30-17:30");
    let back: Calendar = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, cal);
    assert_eq!(
        back.add_working_days(at(2025, 3, 7, 10, 0), 1),
        end(2025, 3, 11)
    );

    let mut bad = json.clone();
    bad["years"][0]["workdays"] = serde_json::json!(["2004-01-19"]); // a Monday
    let err = serde_json::from_value::<Calendar>(bad).unwrap_err();
    assert!(err.to_string().contains("2004-01-19"), "{err}");
    let mut bad = json;
    bad["utc_offset"] = serde_json::json!("CST");
    assert!(serde_json::from_value::<Calendar>(bad).is_err());
}

#[test]
fn other_offsets_and_empty_calendar() {
    let mut cal = Calendar::empty();
    assert_eq!(cal.years().len(), 0);
    assert!(
        cal.is_working_day(day(2025, 10, 1)),
        "no data: Monday–Friday"
    );
    cal.set_offset(FixedOffset::east_opt(0).unwrap());
    assert_eq!(
        cal.add_working_days(Utc.with_ymd_and_hms(2025, 3, 7, 23, 0, 0).unwrap(), 1),
        Utc.with_ymd_and_hms(2025, 3, 10, 17, 30, 0).unwrap()
    );
    assert_eq!(cal.offset(), FixedOffset::east_opt(0).unwrap());
}

#[test]
fn extreme_inputs_saturate_without_panicking() {
    let cal = Calendar::statutory();
    let max = DateTime::<Utc>::MAX_UTC;
    let min = DateTime::<Utc>::MIN_UTC;
    assert_eq!(cal.add_working_days(max, 1), max);
    assert_eq!(cal.add_working_days(at(2025, 1, 1, 0, 0), u32::MAX), max);
    assert_eq!(cal.add_working_hours(max, 5), max);
    assert_eq!(cal.shift_by_working_time(max, TimeDelta::hours(1)), max);
    assert_eq!(cal.shift_by_working_time(min, -TimeDelta::hours(1)), min);
    let _ = cal.working_time_between(min, max);
    let _ = cal.working_days_between(min, max);
    let _ = cal.day_kind(NaiveDate::MIN);
    let _ = cal.add_working_days(min, 3);
}
