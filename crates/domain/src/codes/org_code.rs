//! 组织机构代码 (organisation code), GB 11714-1997.
//!
//! 9 characters: an 8-character body of digits and capital letters and a check character
//! `C9 = 11 - (Σ Cᵢ·Wᵢ mod 11)` with weights 3,7,9,10,5,8,4,2, where a letter counts as
//! 10..35 (`A` = 10) and a result of 10 is written `X`, 11 is written `0`. It is often written
//! `XXXXXXXX-X`; both forms parse, and the canonical form has no hyphen.
//!
//! Since 2015 the organisation code lives on as characters 9-17 of the
//! [`CreditCode`](crate::codes::CreditCode).
//!
//! A weakness of the standard, not of this code: letter values reach 35, so replacing a
//! character by one whose value differs by 11, 22 or 33 (`0` by `B`, `1` by `C`…) is not
//! detected. Substitutions among digits, and of the check character, always are.

use super::{CodeError, CodeKind, check_length, code_newtype, normalise, slice};
use crate::codes::iso7064::alphanumeric_value;

const KIND: CodeKind = CodeKind::OrgCode;
const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// A valid 9-character 组织机构代码 (GB 11714), stored without hyphen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgCode(String);

code_newtype!(OrgCode);

impl OrgCode {
    /// Parses `XXXXXXXXC` or `XXXXXXXX-C`.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let s = normalise(input, KIND)?;
        check_length(&s, KIND, &[9, 10])?;
        if s.len() == 10 {
            super::require_chars(&s, 8..9, KIND, |b| b == b'-')?;
            super::require_chars(&s, 9..10, KIND, is_check_byte)?;
            Self::from_normalised(format!("{}{}", slice(&s, 0..8), slice(&s, 9..10))).map_err(|e| {
                match e {
                    // The check character stands at position 10 in the hyphenated input.
                    CodeError::InvalidChar {
                        kind,
                        position: 9,
                        found,
                    } => CodeError::InvalidChar {
                        kind,
                        position: 10,
                        found,
                    },
                    other => other,
                }
            })
        } else {
            Self::from_normalised(s)
        }
    }

    /// Validates a 9-character, already uppercased code (also used for the code embedded in a
    /// credit code).
    pub(crate) fn from_normalised(s: String) -> Result<Self, CodeError> {
        check_length(&s, KIND, &[9])?;
        super::require_chars(&s, 0..8, KIND, |b| {
            b.is_ascii_digit() || b.is_ascii_uppercase()
        })?;
        super::require_chars(&s, 8..9, KIND, is_check_byte)?;
        let expected = Self::check_char(slice(&s, 0..8)).unwrap_or('?');
        let found = char::from(s.as_bytes().get(8).copied().unwrap_or(b'?'));
        if expected != found {
            return Err(CodeError::CheckMismatch {
                kind: KIND,
                expected,
                found,
            });
        }
        Ok(OrgCode(s))
    }

    /// Wraps a string already known to be a valid code.
    pub(crate) fn from_valid(s: &str) -> Self {
        OrgCode(s.to_string())
    }

    /// The check character (`0`-`9` or `X`) of an 8-character body of digits and letters
    /// (lowercase accepted), or `None` for any other input.
    pub fn check_char(body8: &str) -> Option<char> {
        if body8.len() != 8 {
            return None;
        }
        let mut sum = 0u32;
        for (b, w) in body8.bytes().zip(WEIGHTS) {
            sum += alphanumeric_value(b)? * w;
        }
        match 11 - sum % 11 {
            10 => Some('X'),
            11 => Some('0'),
            c => char::from_digit(c, 10),
        }
    }

    /// The 8-character body (without the check character).
    pub fn body(&self) -> &str {
        slice(&self.0, 0..8)
    }

    /// The code in its printed form `XXXXXXXX-X`.
    pub fn hyphenated(&self) -> String {
        format!("{}-{}", slice(&self.0, 0..8), slice(&self.0, 8..9))
    }
}

fn is_check_byte(b: u8) -> bool {
    b.is_ascii_digit() || b == b'X'
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::codes::testgen;
    use proptest::prelude::*;

    #[test]
    fn published_examples() {
        // Characters 9-17 of GB 32100's example credit code 91350100M000100Y43.
        let code = OrgCode::parse("M000100Y-4").unwrap();
        assert_eq!(code.as_str(), "M000100Y4");
        assert_eq!(code.hyphenated(), "M000100Y-4");
        assert_eq!(code.body(), "M000100Y");
        // Characters 9-17 of credit codes in published e-licence identifiers.
        for code in [
            "000013338",
            "00001366-1",
            "00612224-4",
            "004504644",
            "00250028-7",
        ] {
            assert!(OrgCode::parse(code).is_ok(), "{code}");
        }
        assert_eq!(OrgCode::parse("m000100y4").unwrap().as_str(), "M000100Y4");
    }

    #[test]
    fn check_char_rules() {
        assert_eq!(OrgCode::check_char("M000100Y"), Some('4'));
        assert_eq!(OrgCode::check_char("m000100y"), Some('4'));
        assert_eq!(OrgCode::check_char("M000100"), None);
        assert_eq!(OrgCode::check_char("M000100-"), None);
        // Sum 0 gives 11 -> '0'; sum ≡ 1 gives 10 -> 'X'.
        assert_eq!(OrgCode::check_char("00000000"), Some('0'));
        assert_eq!(OrgCode::check_char("00000003"), Some('5'));
        assert_eq!(OrgCode::check_char("00000006"), Some('X'));
    }

    #[test]
    fn errors() {
        assert_eq!(
            OrgCode::parse("M000100Y-5").unwrap_err(),
            CodeError::CheckMismatch {
                kind: KIND,
                expected: '4',
                found: '5'
            }
        );
        assert_eq!(
            OrgCode::parse("M000100Y_4").unwrap_err(),
            CodeError::InvalidChar {
                kind: KIND,
                position: 9,
                found: '_'
            }
        );
        assert_eq!(
            OrgCode::parse("M000100Y-A").unwrap_err(),
            CodeError::InvalidChar {
                kind: KIND,
                position: 10,
                found: 'A'
            }
        );
        assert_eq!(
            OrgCode::parse("M0001*0Y4").unwrap_err(),
            CodeError::InvalidChar {
                kind: KIND,
                position: 6,
                found: '*'
            }
        );
        assert!(matches!(
            OrgCode::parse("M000100Y45"),
            Err(CodeError::InvalidChar { .. })
        ));
        assert!(matches!(
            OrgCode::parse("M00"),
            Err(CodeError::Length { .. })
        ));
    }

    #[test]
    fn letters_eleven_apart_are_a_known_blind_spot() {
        // 0 (value 0) and B (value 11): the standard's MOD 11 cannot tell them apart.
        let body = "00000000";
        let check = OrgCode::check_char(body).unwrap();
        assert_eq!(OrgCode::check_char("B0000000"), Some(check));
    }

    proptest! {
        #[test]
        fn generated_codes_round_trip(code in testgen::org_code()) {
            let parsed = OrgCode::parse(&code).unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
            prop_assert_eq!(OrgCode::parse(&parsed.hyphenated()).unwrap(), parsed.clone());
            prop_assert_eq!(OrgCode::parse(parsed.as_str()).unwrap(), parsed);
        }

        #[test]
        fn digit_and_check_substitutions_are_rejected(
            code in testgen::org_code(),
            at in any::<prop::sample::Index>(),
            by in any::<prop::sample::Index>(),
        ) {
            let mut bytes = code.into_bytes();
            // Only digit positions and the check character (letters can hide a change of 11,
            // see the module doc); the check position is always a candidate.
            let positions: Vec<usize> =
                (0..9).filter(|&i| i == 8 || bytes[i].is_ascii_digit()).collect();
            let at = positions[at.index(positions.len())];
            let alphabet: &[u8] = if at == 8 { b"0123456789X" } else { b"0123456789" };
            let old = alphabet.iter().position(|&b| b == bytes[at]).unwrap();
            let shift = 1 + by.index(alphabet.len() - 1);
            bytes[at] = alphabet[(old + shift) % alphabet.len()];
            prop_assert!(OrgCode::parse(std::str::from_utf8(&bytes).unwrap()).is_err());
        }

        #[test]
        fn random_input_never_panics(s in ".{0,20}", t in "[0-9A-Za-z-]{7,11}") {
            let _ = OrgCode::parse(&s);
            let _ = OrgCode::parse(&t);
        }
    }
}
