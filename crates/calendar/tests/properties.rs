//! Property tests: the closed-form arithmetic agrees with day-by-day reference counting built
//! from the calendar's data alone, and the deadline functions are monotone, land on working days
//! and round-trip with the "between" functions. Instants range over 2003–2031, across the edges
//! of the shipped data (2004–2026), an entered year after a gap, and regional days off.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc, Weekday,
};
use proptest::prelude::*;
use yiwang_calendar::{Calendar, Holiday, YearDays};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Calendars under test: shipped data; shipped data plus regional days off and a (fabricated,
/// test-only) 2030 arrangement after three years without data; no data at all.
fn calendars() -> Vec<Calendar> {
    let mut extended = Calendar::statutory();
    for (date, name) in [
        (day(2003, 12, 31), "测试地方假日"),
        (day(2025, 9, 28), "测试地方假日"),
        (day(2025, 10, 2), "测试地方假日"),
        (day(2025, 3, 10), "测试地方假日"),
        (day(2028, 7, 7), "测试地方假日"),
    ] {
        extended.add_regional(Holiday::new(date, name)).unwrap();
    }
    extended
        .set_year(YearDays {
            year: 2030,
            holidays: vec![
                Holiday::new(day(2029, 12, 31), "测试元旦"),
                Holiday::new(day(2030, 1, 1), "测试元旦"),
                Holiday::new(day(2030, 10, 1), "测试国庆"),
            ],
            workdays: vec![day(2029, 12, 29), day(2030, 10, 12)],
        })
        .unwrap();
    vec![Calendar::statutory(), extended, Calendar::empty()]
}

/// Whether a date counts, worked out from the calendar's data alone.
fn reference_working(cal: &Calendar, d: NaiveDate) -> bool {
    let regional = cal.regional().iter().any(|h| h.date == d);
    for y in [d.year() + 1, d.year()] {
        if let Some(yd) = cal.year(y) {
            if yd.holidays.iter().any(|h| h.date == d) {
                return false;
            }
            if yd.workdays.contains(&d) {
                return !regional;
            }
        }
    }
    !regional && !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn local(t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .naive_local()
}

/// Office-hours time between two instants, summed day by day.
fn reference_time(cal: &Calendar, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
    let (la, lb) = (local(a), local(b));
    let mut total = TimeDelta::zero();
    let mut d = la.date();
    while d <= lb.date() {
        if reference_working(cal, d) {
            for &(s, e) in cal.working_hours().intervals() {
                let (s, e) = (d.and_time(s).max(la), d.and_time(e).min(lb));
                if e > s {
                    total += e - s;
                }
            }
        }
        d = d.succ_opt().unwrap();
    }
    total
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let lo = Utc
        .with_ymd_and_hms(2003, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let hi = Utc
        .with_ymd_and_hms(2031, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    (lo..hi, prop_oneof![Just(0u32), 0u32..1_000_000_000])
        .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap())
}

fn which() -> impl Strategy<Value = usize> {
    0usize..3
}

thread_local! {
    static CALENDARS: Vec<Calendar> = calendars();
}

fn with<R>(i: usize, f: impl FnOnce(&Calendar) -> R) -> R {
    CALENDARS.with(|c| f(&c[i]))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn day_kinds_match_the_data(i in which(), t in instant()) {
        with(i, |cal| {
            let d = local(t).date();
            prop_assert_eq!(cal.is_working_day(d), reference_working(cal, d));
            prop_assert_eq!(cal.day_kind(d).is_working(), cal.is_working_day(d));
            Ok(())
        })?;
    }

    #[test]
    fn add_working_days_counts_like_stepping(i in which(), t in instant(), n in 1u32..120) {
        with(i, |cal| {
            let mut d = local(t).date();
            let mut left = n;
            while left > 0 {
                d = d.succ_opt().unwrap();
                if reference_working(cal, d) {
                    left -= 1;
                }
            }
            let deadline = cal.add_working_days(t, n);
            prop_assert_eq!(deadline, cal.day_end(d));
            prop_assert_eq!(local(deadline).time(), cal.working_hours().day_end());
            prop_assert!(cal.is_working_day(local(deadline).date()));
            prop_assert_eq!(cal.working_days_between(t, deadline), n);
            Ok(())
        })?;
    }

    #[test]
    fn add_working_days_is_monotone(i in which(), t in instant(), n in 0u32..400) {
        with(i, |cal| {
            let a = cal.add_working_days(t, n);
            let b = cal.add_working_days(t, n + 1);
            prop_assert!(a <= b);
            if n > 0 {
                prop_assert!(a < b);
            }
            prop_assert!(a >= t || local(a).date() == local(t).date());
            prop_assert!(cal.is_working_day(local(a).date()));
            Ok(())
        })?;
    }

    #[test]
    fn working_days_between_counts_like_stepping(i in which(), a in instant(), span in 0i64..200 * 86_400) {
        with(i, |cal| {
            let b = a + TimeDelta::seconds(span);
            let (da, db) = (local(a).date(), local(b).date());
            let expected = da.iter_days().skip(1).take_while(|d| *d <= db)
                .filter(|d| reference_working(cal, *d)).count() as u32;
            prop_assert_eq!(cal.working_days_between(a, b), expected);
            prop_assert_eq!(cal.working_days_between(b, a), 0);
            Ok(())
        })?;
    }

    #[test]
    fn working_time_between_sums_like_stepping(i in which(), a in instant(), span in 0i64..40 * 86_400) {
        with(i, |cal| {
            let b = a + TimeDelta::seconds(span);
            prop_assert_eq!(cal.working_time_between(a, b), reference_time(cal, a, b));
            Ok(())
        })?;
    }

    #[test]
    fn working_time_is_additive(i in which(), a in instant(), s1 in 0i64..20 * 86_400, s2 in 0i64..20 * 86_400) {
        with(i, |cal| {
            let b = a + TimeDelta::seconds(s1);
            let c = b + TimeDelta::seconds(s2);
            prop_assert_eq!(
                cal.working_time_between(a, b) + cal.working_time_between(b, c),
                cal.working_time_between(a, c)
            );
            Ok(())
        })?;
    }

    #[test]
    fn add_working_hours_round_trips(i in which(), t in instant(), h in 0u32..2_000) {
        with(i, |cal| {
            let end = cal.add_working_hours(t, h);
            prop_assert!(end >= t);
            prop_assert_eq!(cal.working_time_between(t, end), TimeDelta::hours(i64::from(h)));
            prop_assert!(cal.is_working_day(local(end).date()));
            let time = local(end).time();
            prop_assert!(cal.working_hours().intervals().iter().any(|&(s, e)| s <= time && time <= e));
            // Nothing earlier has used up the hours.
            if h > 0 {
                let earlier = end - TimeDelta::nanoseconds(1);
                prop_assert!(cal.working_time_between(t, earlier) < TimeDelta::hours(i64::from(h)));
            }
            Ok(())
        })?;
    }

    #[test]
    fn shifting_by_paused_time_is_consistent(
        i in which(), d in instant(), a in instant(), span in 0i64..30 * 86_400, extra in 0i64..30 * 86_400,
    ) {
        with(i, |cal| {
            let paused = cal.working_time_between(a, a + TimeDelta::seconds(span));
            let moved = cal.shift_by_working_time(d, paused);
            prop_assert!(moved >= d);
            prop_assert_eq!(cal.working_time_between(d, moved), paused);
            // Two pauses move a deadline as far as their sum.
            let more = cal.working_time_between(a, a + TimeDelta::seconds(extra));
            prop_assert_eq!(
                cal.shift_by_working_time(moved, more),
                cal.shift_by_working_time(d, paused + more)
            );
            // A deadline at the end of a working day moved by whole days stays at a day's end.
            let deadline = cal.add_working_days(d, 3);
            let days = cal.working_hours().daily() * i32::try_from(span % 17).unwrap();
            let moved = cal.shift_by_working_time(deadline, days);
            prop_assert_eq!(local(moved).time(), cal.working_hours().day_end());
            prop_assert_eq!(cal.working_days_between(deadline, moved), u32::try_from(span % 17).unwrap());
            // Moving back undoes it.
            prop_assert_eq!(cal.shift_by_working_time(moved, -days), deadline);
            Ok(())
        })?;
    }
}
