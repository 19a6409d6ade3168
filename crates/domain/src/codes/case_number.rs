//! 办件编号: the case number, as observed in production (DOMAIN.md §2): the item's 31-character
//! 实施编码, the date the case was registered (`yyyyMMdd`, local date) and a 4-digit daily
//! sequence per item (0001–9999), 43 characters in all.

use chrono::NaiveDate;

use super::{CodeError, CodeKind, CodePart, ImplementationCode, check_length, normalise, slice};

/// The largest daily sequence a case number can carry.
pub const MAX_DAILY_SEQUENCE: u16 = 9999;

/// A valid 43-character 办件编号.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseNumber(String);

super::code_newtype!(CaseNumber);

impl CaseNumber {
    /// Parses a case number: a valid implementation code, an existing date and a sequence
    /// from 0001.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let kind = CodeKind::CaseNumber;
        let s = normalise(input, kind)?;
        check_length(&s, kind, &[43])?;
        ImplementationCode::parse(slice(&s, 0..31)).map_err(|e| match e {
            CodeError::Length { .. } | CodeError::Empty { .. } => CodeError::Length {
                kind,
                expected: &[43],
                found: s.chars().count(),
            },
            other => other,
        })?;
        super::require_digits(&s, 31..43, kind)?;
        let date = slice(&s, 31..39);
        if NaiveDate::parse_from_str(date, "%Y%m%d").is_err() {
            return Err(CodeError::InvalidDate {
                kind,
                value: date.to_string(),
            });
        }
        if slice(&s, 39..43) == "0000" {
            return Err(CodeError::InvalidPart {
                kind,
                part: CodePart::Sequence,
                value: "0000".to_string(),
            });
        }
        Ok(CaseNumber(s))
    }

    /// The case number of the `sequence`-th case (1-based) of an item on a date; `None` past
    /// [`MAX_DAILY_SEQUENCE`] or for 0.
    pub fn new(item: &ImplementationCode, date: NaiveDate, sequence: u16) -> Option<Self> {
        if sequence == 0 || sequence > MAX_DAILY_SEQUENCE {
            return None;
        }
        Some(CaseNumber(format!(
            "{}{}{:04}",
            item.as_str(),
            date.format("%Y%m%d"),
            sequence
        )))
    }

    /// The item's implementation code (characters 1-31).
    pub fn item(&self) -> &str {
        slice(&self.0, 0..31)
    }

    /// The registration date.
    pub fn date(&self) -> NaiveDate {
        // Validated by parse; the fallback is never taken.
        NaiveDate::parse_from_str(slice(&self.0, 31..39), "%Y%m%d").unwrap_or_default()
    }

    /// The daily sequence.
    pub fn sequence(&self) -> u16 {
        slice(&self.0, 39..43).parse().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ITEM: &str = "11430104MB1234567X4430109000000";

    fn item() -> ImplementationCode {
        let credit = crate::codes::CreditCode::generate('1', '1', "430104", "M000100Y")
            .unwrap_or_else(|e| unreachable!("{e}"));
        let basic = crate::codes::BasicCode::new(
            "43",
            crate::dict::ItemType::Licensing,
            "05",
            7,
            crate::codes::SubItem::None,
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        ImplementationCode::new(&credit, crate::dict::ExerciseLevel::County, &basic)
    }

    #[test]
    fn builds_and_reads_back() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
        let n = CaseNumber::new(&item(), d, 12).unwrap_or_else(|| unreachable!());
        assert_eq!(n.as_str().len(), 43);
        assert_eq!(n.date(), d);
        assert_eq!(n.sequence(), 12);
        assert_eq!(n.item(), item().as_str());
        assert_eq!(CaseNumber::parse(&n.as_str().to_lowercase()), Ok(n));
    }

    #[test]
    fn refuses_bad_parts() {
        let base = format!("{}20261127", item().as_str());
        assert!(matches!(
            CaseNumber::parse(&format!("{base}0000")),
            Err(CodeError::InvalidPart {
                part: CodePart::Sequence,
                ..
            })
        ));
        let bad_date = format!("{}202602300001", item().as_str());
        assert!(matches!(
            CaseNumber::parse(&bad_date),
            Err(CodeError::InvalidDate { .. })
        ));
        assert!(matches!(
            CaseNumber::parse(&format!("{base}001")),
            Err(CodeError::Length { .. })
        ));
        assert!(CaseNumber::parse(&format!("{ITEM}202611270001")).is_err());
        assert!(CaseNumber::new(&item(), NaiveDate::MIN, 0).is_none());
        assert!(CaseNumber::new(&item(), NaiveDate::MIN, 10_000).is_none());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = CaseNumber::parse(&s);
        }

        #[test]
        fn every_built_number_parses_back(days in 0i64..40_000, seq in 1u16..=MAX_DAILY_SEQUENCE) {
            let d = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default() + chrono::Duration::days(days);
            let n = CaseNumber::new(&item(), d, seq).unwrap_or_else(|| unreachable!());
            let back = CaseNumber::parse(n.as_str());
            prop_assert_eq!(back.as_ref().map(|b| (b.date(), b.sequence())), Ok((d, seq)));
        }
    }
}
