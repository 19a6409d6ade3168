//! Contact details as types: a mainland mobile number.

use std::fmt;

/// An 11-digit mainland China mobile number (`1[3-9]xxxxxxxxx`), stored without spaces,
/// dashes or a `+86` / `0086` prefix.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MobileNumber(String);

impl fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MobileNumber").field(&self.masked()).finish()
    }
}

impl MobileNumber {
    /// Parses a number as people type it: `138 1234 5678`, `138-1234-5678`, `+86 13812345678`.
    pub fn parse(input: &str) -> Option<MobileNumber> {
        let digits: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
            .collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .unwrap_or(&digits);
        let b = digits.as_bytes();
        let ok = b.len() == 11
            && b.iter().all(u8::is_ascii_digit)
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1]);
        ok.then(|| MobileNumber(digits.to_owned()))
    }

    /// The 11 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`: the form shown on pages and written to logs.
    pub fn masked(&self) -> String {
        format!(
            "{}****{}",
            self.0.get(..3).unwrap_or(""),
            self.0.get(7..).unwrap_or("")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_what_people_type() {
        for s in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 13812345678",
            "008613812345678",
        ] {
            assert_eq!(
                MobileNumber::parse(s).map(|m| m.0),
                Some("13812345678".into()),
                "{s}"
            );
        }
        for s in [
            "",
            "1381234567",
            "23812345678",
            "12812345678",
            "1381234567a",
            "138123456789",
        ] {
            assert!(MobileNumber::parse(s).is_none(), "{s}");
        }
        assert_eq!(
            MobileNumber::parse("13812345678").map(|m| m.masked()),
            Some("138****5678".into())
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_round_trips(s in "\\PC{0,20}", n in "1[3-9][0-9]{9}") {
            let _ = MobileNumber::parse(&s);
            let m = MobileNumber::parse(&n).unwrap();
            prop_assert_eq!(m.as_str(), n.as_str());
            prop_assert_eq!(MobileNumber::parse(m.as_str()), Some(m));
        }
    }
}
