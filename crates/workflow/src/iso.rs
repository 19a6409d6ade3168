//! ISO 8601 time texts of BPMN timers: durations (`P3D`, `PT4H`, `P1W`), dates and cycles (`R3/PT1H`).

use serde::{Deserialize, Serialize};

/// A parsed ISO 8601 duration (calendar parts kept separate: a month is not a fixed length).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duration {
    /// Years.
    pub years: u32,
    /// Months.
    pub months: u32,
    /// Weeks.
    pub weeks: u32,
    /// Days.
    pub days: u32,
    /// Hours.
    pub hours: u32,
    /// Minutes.
    pub minutes: u32,
    /// Seconds.
    pub seconds: u32,
}

/// A time text that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("不是合法的 ISO 8601 时间 / not a valid ISO 8601 {what}: {text:?}")]
pub struct IsoError {
    /// `duration`, `date` or `cycle`.
    pub what: &'static str,
    /// The text as written.
    pub text: String,
}

/// Parse `PnYnMnWnDTnHnMnS` (integer parts).
pub fn duration(text: &str) -> Result<Duration, IsoError> {
    let err = || IsoError {
        what: "duration",
        text: text.to_owned(),
    };
    let rest = text.trim().strip_prefix('P').ok_or_else(err)?;
    let mut d = Duration::default();
    let mut in_time = false;
    let mut digits = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            'T' if !in_time && digits.is_empty() => in_time = true,
            _ => {
                let n: u32 = digits.parse().map_err(|_| err())?;
                digits.clear();
                let slot = match (in_time, c) {
                    (false, 'Y') => &mut d.years,
                    (false, 'M') => &mut d.months,
                    (false, 'W') => &mut d.weeks,
                    (false, 'D') => &mut d.days,
                    (true, 'H') => &mut d.hours,
                    (true, 'M') => &mut d.minutes,
                    (true, 'S') => &mut d.seconds,
                    _ => return Err(err()),
                };
                *slot = n;
                any = true;
            }
        }
    }
    if !digits.is_empty() || !any {
        return Err(err());
    }
    Ok(d)
}

/// Check a date-time `YYYY-MM-DD[Thh:mm[:ss][Z|±hh:mm]]`.
pub fn date(text: &str) -> Result<(), IsoError> {
    let err = || IsoError {
        what: "date",
        text: text.to_owned(),
    };
    let t = text.trim();
    let b = t.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let ok_date = b.len() >= 10
        && (0..4).all(digit)
        && b[4] == b'-'
        && digit(5)
        && digit(6)
        && b[7] == b'-'
        && digit(8)
        && digit(9);
    if !ok_date {
        return Err(err());
    }
    let month: u32 = t[5..7].parse().map_err(|_| err())?;
    let day: u32 = t[8..10].parse().map_err(|_| err())?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(err());
    }
    let rest = &t[10..];
    if rest.is_empty() {
        return Ok(());
    }
    let r = rest.strip_prefix('T').ok_or_else(err)?;
    let ok = r
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ':' | 'Z' | '+' | '-' | '.'))
        && r.len() >= 5
        && r.as_bytes().get(2) == Some(&b':');
    if ok { Ok(()) } else { Err(err()) }
}

/// A parsed cycle `R[n]/…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    /// How many times it fires (`None`: `R` without a count, unbounded).
    pub repeat: Option<u32>,
    /// The first firing, when the cycle names a start (`R/start/duration`).
    pub start: Option<String>,
    /// The interval.
    pub every: Duration,
}

/// Parse a cycle `R[n]/duration`, `R[n]/start/duration` or `R[n]/duration/end`.
pub fn cycle_parts(text: &str) -> Result<Cycle, IsoError> {
    let err = || IsoError {
        what: "cycle",
        text: text.to_owned(),
    };
    let parts: Vec<&str> = text.trim().split('/').collect();
    let rep = parts
        .first()
        .and_then(|p| p.strip_prefix('R'))
        .ok_or_else(err)?;
    let repeat = if rep.is_empty() {
        None
    } else {
        Some(rep.parse::<u32>().map_err(|_| err())?)
    };
    let (start, every) = match parts.as_slice() {
        [_, d] => (None, duration(d).map_err(|_| err())?),
        [_, a, b] if a.starts_with('P') => {
            date(b).map_err(|_| err())?;
            (None, duration(a).map_err(|_| err())?)
        }
        [_, a, b] => {
            date(a).map_err(|_| err())?;
            (Some((*a).to_owned()), duration(b).map_err(|_| err())?)
        }
        _ => return Err(err()),
    };
    Ok(Cycle {
        repeat,
        start,
        every,
    })
}

/// Check a cycle `R[n]/duration`, `R[n]/start/duration` or `R[n]/duration/end`.
pub fn cycle(text: &str) -> Result<(), IsoError> {
    cycle_parts(text).map(|_| ())
}
