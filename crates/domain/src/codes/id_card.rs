//! 公民身份号码 (citizen ID number), GB 11643-1999.
//!
//! 18 characters: 6-digit address code (the county of first registration, GB/T 2260; it need
//! not be a current region, and residence permits of Hong Kong, Macao and Taiwan residents use
//! 810000/820000/830000, the 2023 foreigner's permanent residence card starts with 9, so only a
//! leading `0` is refused), 8-digit birth date `YYYYMMDD`, 3-digit sequence (odd for men, even
//! for women) and a check character: `"10X98765432"[Σ aᵢ·wᵢ mod 11]` with weights
//! 7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2 (ISO 7064 MOD 11-2).
//!
//! Legacy 15-digit numbers (6 address, `YYMMDD`, 3 sequence) are accepted and converted to the
//! 18-character form by inserting `19` before the year and computing the check character.
//!
//! The birth date must be a real calendar date with a year in
//! [`MIN_BIRTH_YEAR`]..=[`MAX_BIRTH_YEAR`]: the domain has no clock, so "not in the future" is
//! left to the caller. The lower bound is 1800 because GB 11643's own example
//! `440524188001010014` is born in 1880.
//!
//! An ID number is personal information: `Debug` prints it masked ([`IdCardNumber::masked`]),
//! so it never reaches a log in full by accident; `Display`/`as_str` give the full number.

use std::fmt;

use chrono::NaiveDate;

use super::{CodeError, CodeKind, check_length, code_newtype, digits_value, normalise, slice};

const KIND: CodeKind = CodeKind::IdCardNumber;
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// The earliest birth year accepted.
pub const MIN_BIRTH_YEAR: i32 = 1800;
/// The latest birth year accepted (a far-future guard; the caller compares with today).
pub const MAX_BIRTH_YEAR: i32 = 2100;

/// A valid 18-character 公民身份号码 (GB 11643), uppercase `X`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdCardNumber(String);

code_newtype!(IdCardNumber);

impl fmt::Debug for IdCardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdCardNumber").field(&self.masked()).finish()
    }
}

impl IdCardNumber {
    /// Parses an 18-character number, or converts a legacy 15-digit one.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let s = normalise(input, KIND)?;
        check_length(&s, KIND, &[15, 18])?;
        if s.len() == 15 {
            Self::from_legacy(&s)
        } else {
            Self::from_normalised(s)
        }
    }

    fn from_normalised(s: String) -> Result<Self, CodeError> {
        super::require_digits(&s, 0..17, KIND)?;
        super::require_chars(&s, 17..18, KIND, |b| b.is_ascii_digit() || b == b'X')?;
        check_area(&s)?;
        check_birth_date(slice(&s, 6..14))?;
        let expected = Self::check_char(slice(&s, 0..17)).unwrap_or('?');
        let found = char::from(s.as_bytes().get(17).copied().unwrap_or(b'?'));
        if expected != found {
            return Err(CodeError::CheckMismatch {
                kind: KIND,
                expected,
                found,
            });
        }
        Ok(IdCardNumber(s))
    }

    fn from_legacy(s: &str) -> Result<Self, CodeError> {
        super::require_digits(s, 0..15, KIND)?;
        check_area(s)?;
        let first17 = format!("{}19{}", slice(s, 0..6), slice(s, 6..15));
        check_birth_date(slice(&first17, 6..14))?;
        let check = Self::check_char(&first17).unwrap_or('?');
        Self::from_normalised(format!("{first17}{check}"))
    }

    /// The check character (`0`-`9` or `X`) for the first 17 digits, or `None` unless `first17`
    /// is exactly 17 ASCII digits.
    pub fn check_char(first17: &str) -> Option<char> {
        if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let sum: u32 = first17
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        let index = usize::try_from(sum % 11).ok()?;
        CHECK_CHARS.get(index).map(|&b| char::from(b))
    }

    /// Builds a valid number from its parts, computing the check character (for demo and test
    /// data): `area6` is the 6-digit address code, `sequence` the 3-digit 顺序码 (0-999; odd
    /// for men, even for women).
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use yiwang_domain::codes::IdCardNumber;
    /// let birth = NaiveDate::from_ymd_opt(1949, 12, 31).unwrap();
    /// let id = IdCardNumber::generate("110105", birth, 2).unwrap();
    /// assert_eq!(id.as_str(), "11010519491231002X");
    /// assert!(!id.is_male());
    /// ```
    pub fn generate(area6: &str, birth: NaiveDate, sequence: u16) -> Result<Self, CodeError> {
        if area6.len() != 6 || !area6.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::InvalidPart {
                kind: KIND,
                part: super::CodePart::Region,
                value: area6.to_string(),
            });
        }
        if sequence > 999 {
            return Err(CodeError::InvalidPart {
                kind: KIND,
                part: super::CodePart::Sequence,
                value: sequence.to_string(),
            });
        }
        let first17 = format!("{area6}{}{sequence:03}", birth.format("%Y%m%d"));
        if first17.len() != 17 {
            // A year outside 0-9999 does not fit the 8-digit date part.
            return Err(CodeError::InvalidDate {
                kind: KIND,
                value: birth.format("%Y%m%d").to_string(),
            });
        }
        let check = Self::check_char(&first17).unwrap_or('?');
        Self::parse(&format!("{first17}{check}"))
    }

    /// The birth date (characters 7-14).
    pub fn birth_date(&self) -> NaiveDate {
        // Validated by parse; the fallback is never taken.
        birth_date_of(slice(&self.0, 6..14)).unwrap_or(NaiveDate::MIN)
    }

    /// Whether the holder is a man (odd 17th digit).
    pub fn is_male(&self) -> bool {
        digits_value(slice(&self.0, 16..17)) % 2 == 1
    }

    /// The 6-digit address code (the county where the number was first issued; it need not be
    /// a current region).
    pub fn area_code(&self) -> &str {
        slice(&self.0, 0..6)
    }

    /// The number with all but the first 4 and last 4 characters replaced by `*`, e.g.
    /// `1101**********002X`: the masking used on receipts, pages and logs.
    pub fn masked(&self) -> String {
        format!(
            "{}{}{}",
            slice(&self.0, 0..4),
            "*".repeat(10),
            slice(&self.0, 14..18)
        )
    }

    /// Whether the number ends with `suffix` (trimmed, `x` matches `X`), for "last N digits"
    /// checks such as identity confirmation by the last 4 or 6 characters. An empty suffix
    /// never matches.
    pub fn ends_with_digits(&self, suffix: &str) -> bool {
        let suffix = suffix.trim();
        !suffix.is_empty()
            && suffix.len() <= self.0.len()
            && self
                .0
                .get(self.0.len() - suffix.len()..)
                .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
    }
}

fn check_area(s: &str) -> Result<(), CodeError> {
    if s.starts_with('0') {
        return Err(CodeError::UnknownProvince {
            kind: KIND,
            code: slice(s, 0..2).to_string(),
        });
    }
    Ok(())
}

fn birth_date_of(yyyymmdd: &str) -> Option<NaiveDate> {
    let year = i32::try_from(digits_value(slice(yyyymmdd, 0..4))).ok()?;
    let date = NaiveDate::from_ymd_opt(
        year,
        digits_value(slice(yyyymmdd, 4..6)),
        digits_value(slice(yyyymmdd, 6..8)),
    )?;
    (MIN_BIRTH_YEAR..=MAX_BIRTH_YEAR)
        .contains(&year)
        .then_some(date)
}

fn check_birth_date(yyyymmdd: &str) -> Result<NaiveDate, CodeError> {
    birth_date_of(yyyymmdd).ok_or_else(|| CodeError::InvalidDate {
        kind: KIND,
        value: yyyymmdd.to_string(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::codes::testgen;
    use proptest::prelude::*;

    #[test]
    fn standard_examples() {
        // GB 11643-1999, the two examples of the standard's check-character annex.
        let id = IdCardNumber::parse("11010519491231002X").unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert!(!id.is_male());
        assert_eq!(id.area_code(), "110105");
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(format!("{id:?}"), "IdCardNumber(\"1101**********002X\")");
        assert_eq!(id.to_string(), "11010519491231002X");

        let id = IdCardNumber::parse("440524188001010014").unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1880, 1, 1).unwrap()
        );
        assert!(id.is_male());
    }

    #[test]
    fn lowercase_x_and_whitespace() {
        let id = IdCardNumber::parse("  11010519491231002x\t").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert!(id.ends_with_digits("002x"));
        assert!(id.ends_with_digits("1231002X"));
        assert!(!id.ends_with_digits("003X"));
        assert!(!id.ends_with_digits(""));
        assert!(!id.ends_with_digits("911010519491231002X"));
    }

    #[test]
    fn legacy_15_digit_numbers_are_converted() {
        // 340524800101001 -> 34052419800101001X (the 18-digit form is the example of
        // sndnvaps/CheckID_card's README).
        let id = IdCardNumber::parse("340524800101001").unwrap();
        assert_eq!(id.as_str(), "34052419800101001X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1980, 1, 1).unwrap()
        );
        assert!(id.is_male());
        assert_eq!(
            IdCardNumber::parse("340524800230001").unwrap_err().kind(),
            KIND
        );
    }

    #[test]
    fn check_char_of_first_17() {
        assert_eq!(IdCardNumber::check_char("11010519491231002"), Some('X'));
        assert_eq!(IdCardNumber::check_char("44052418800101001"), Some('4'));
        assert_eq!(IdCardNumber::check_char("4405241880010100"), None);
        assert_eq!(IdCardNumber::check_char("4405241880010100A"), None);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            IdCardNumber::parse("110105194912310021").unwrap_err(),
            CodeError::CheckMismatch {
                kind: KIND,
                expected: 'X',
                found: '1'
            }
        );
        assert_eq!(
            IdCardNumber::parse("11010519491231002").unwrap_err(),
            CodeError::Length {
                kind: KIND,
                expected: &[15, 18],
                found: 17
            }
        );
        assert_eq!(
            IdCardNumber::parse("1101051949123100AX").unwrap_err(),
            CodeError::InvalidChar {
                kind: KIND,
                position: 17,
                found: 'A'
            }
        );
        assert_eq!(
            IdCardNumber::parse("11010519490231002X").unwrap_err(),
            CodeError::InvalidDate {
                kind: KIND,
                value: "19490231".into()
            }
        );
        assert!(matches!(
            IdCardNumber::parse("01010519491231002X").unwrap_err(),
            CodeError::UnknownProvince { .. }
        ));
        // Year 2101 is past the far-future guard (the check character is right).
        let first17 = "11010521010101001";
        let full = format!("{first17}{}", IdCardNumber::check_char(first17).unwrap());
        assert!(matches!(
            IdCardNumber::parse(&full),
            Err(CodeError::InvalidDate { .. })
        ));
        assert_eq!(
            IdCardNumber::parse(" ").unwrap_err(),
            CodeError::Empty { kind: KIND }
        );
    }

    #[test]
    fn generate_builds_valid_numbers() {
        let birth = NaiveDate::from_ymd_opt(1880, 1, 1).unwrap();
        assert_eq!(
            IdCardNumber::generate("440524", birth, 1).unwrap().as_str(),
            "440524188001010014"
        );
        let birth = NaiveDate::from_ymd_opt(1990, 2, 28).unwrap();
        let man = IdCardNumber::generate("430104", birth, 37).unwrap();
        assert!(man.is_male());
        assert_eq!(man.area_code(), "430104");
        assert_eq!(man.birth_date(), birth);
        assert!(
            !IdCardNumber::generate("430104", birth, 998)
                .unwrap()
                .is_male()
        );
        assert!(matches!(
            IdCardNumber::generate("43010", birth, 1),
            Err(CodeError::InvalidPart { .. })
        ));
        assert!(matches!(
            IdCardNumber::generate("43010A", birth, 1),
            Err(CodeError::InvalidPart { .. })
        ));
        assert!(matches!(
            IdCardNumber::generate("430104", birth, 1000),
            Err(CodeError::InvalidPart { .. })
        ));
        assert!(matches!(
            IdCardNumber::generate("030104", birth, 1),
            Err(CodeError::UnknownProvince { .. })
        ));
        let too_old = NaiveDate::from_ymd_opt(1799, 12, 31).unwrap();
        assert!(matches!(
            IdCardNumber::generate("430104", too_old, 1),
            Err(CodeError::InvalidDate { .. })
        ));
    }

    #[test]
    fn serde_round_trip_and_rejection() {
        let id: IdCardNumber = serde_json::from_str("\"11010519491231002x\"").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"11010519491231002X\""
        );
        assert!(serde_json::from_str::<IdCardNumber>("\"110105194912310021\"").is_err());
    }

    proptest! {
        #[test]
        fn generated_numbers_round_trip(id in testgen::id_card()) {
            let parsed = IdCardNumber::parse(&id).unwrap();
            prop_assert_eq!(parsed.as_str(), id.as_str());
            prop_assert_eq!(IdCardNumber::parse(parsed.as_str()).unwrap(), parsed.clone());
            prop_assert_eq!(parsed.is_male(), (id.as_bytes()[16] - b'0') % 2 == 1);
        }

        #[test]
        fn every_single_substitution_is_rejected(
            id in testgen::id_card(),
            at in 0usize..18,
            by in any::<prop::sample::Index>(),
        ) {
            // Any other digit, or X at the check position: MOD 11-2 sees every such change.
            let alphabet: &[u8] = if at == 17 { b"0123456789X" } else { b"0123456789" };
            let mut bytes = id.clone().into_bytes();
            let old = alphabet.iter().position(|&b| b == bytes[at]).unwrap();
            let shift = 1 + by.index(alphabet.len() - 1);
            bytes[at] = alphabet[(old + shift) % alphabet.len()];
            prop_assert!(IdCardNumber::parse(std::str::from_utf8(&bytes).unwrap()).is_err());
        }

        #[test]
        fn generate_agrees_with_the_independent_generator(id in testgen::id_card()) {
            let parsed = IdCardNumber::parse(&id).unwrap();
            let sequence: u16 = id[14..17].parse().unwrap();
            let again = IdCardNumber::generate(&id[0..6], parsed.birth_date(), sequence).unwrap();
            prop_assert_eq!(again, parsed);
        }

        #[test]
        fn legacy_numbers_convert(id in testgen::id_card_19xx()) {
            let legacy = format!("{}{}", &id[0..6], &id[8..17]);
            let parsed = IdCardNumber::parse(&legacy).unwrap();
            prop_assert_eq!(parsed.as_str(), id.as_str());
        }

        #[test]
        fn random_input_never_panics(s in ".{0,40}") {
            let _ = IdCardNumber::parse(&s);
        }

        #[test]
        fn near_miss_input_never_panics(s in "[0-9Xx ]{13,20}") {
            let _ = IdCardNumber::parse(&s);
        }
    }
}
