//! 统一社会信用代码 (unified social credit code), GB 32100-2015.
//!
//! 18 characters over the 31-character alphabet `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O,
//! S, V, Z):
//!
//! | chars | part |
//! |---|---|
//! | 1 | 登记管理部门代码 (registration authority: 1 机构编制, 5 民政, 9 工商, Y 其他…) |
//! | 2 | 机构类别代码 (category within the authority) |
//! | 3-8 | 登记管理机关行政区划码 (6 digits; `100000` for national bodies, so not a [`RegionCode`](crate::codes::RegionCode)) |
//! | 9-17 | 主体标识码: a GB 11714 [`OrgCode`] with its own check character |
//! | 18 | check: `alphabet[(31 - Σ vᵢ·wᵢ mod 31) mod 31]`, weights 3ⁱ mod 31 = 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28 |
//!
//! The authority and category characters are only checked against the alphabet: their tables
//! grow (A 中央军委改革和编制办公室, N 农业…), and a new one must not lock an organisation out.
//! Because 31 is prime and every weight is non-zero, any single substituted character is
//! detected by the final check character.

use super::{CodeError, CodeKind, OrgCode, check_length, code_newtype, normalise, slice};

const KIND: CodeKind = CodeKind::CreditCode;
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A valid 18-character 统一社会信用代码 (GB 32100).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

code_newtype!(CreditCode);

fn value(b: u8) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&a| a == b)
        .and_then(|i| u32::try_from(i).ok())
}

impl CreditCode {
    /// Parses an 18-character credit code.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        Self::from_normalised(normalise(input, KIND)?)
    }

    /// Validates an already trimmed and uppercased code (also used for credit codes embedded
    /// in longer codes; the caller shifts positions).
    pub(crate) fn from_normalised(s: String) -> Result<Self, CodeError> {
        check_length(&s, KIND, &[18])?;
        super::require_chars(&s, 0..18, KIND, |b| value(b).is_some())?;
        super::require_digits(&s, 2..8, KIND)?;
        let expected = Self::check_char(slice(&s, 0..17)).unwrap_or('?');
        let found = char::from(s.as_bytes().get(17).copied().unwrap_or(b'?'));
        if expected != found {
            return Err(CodeError::CheckMismatch {
                kind: KIND,
                expected,
                found,
            });
        }
        OrgCode::from_normalised(slice(&s, 8..17).to_string()).map_err(|e| e.shifted(8))?;
        Ok(CreditCode(s))
    }

    /// Wraps a string already known to be a valid code.
    pub(crate) fn from_valid(s: &str) -> Self {
        CreditCode(s.to_string())
    }

    /// The check character for the first 17 characters (lowercase accepted), or `None` unless
    /// they are 17 characters of the code's alphabet.
    pub fn check_char(first17: &str) -> Option<char> {
        if first17.len() != 17 {
            return None;
        }
        let mut sum = 0u32;
        for (b, w) in first17.bytes().zip(WEIGHTS) {
            sum += value(b.to_ascii_uppercase())? * w;
        }
        let index = usize::try_from((31 - sum % 31) % 31).ok()?;
        ALPHABET.get(index).map(|&b| char::from(b))
    }

    /// Builds a valid code from its parts, computing both the organisation code's and the
    /// credit code's check characters (for demo and test data).
    ///
    /// ```
    /// use yiwang_domain::codes::CreditCode;
    /// let code = CreditCode::generate('9', '1', "350100", "M000100Y").unwrap();
    /// assert_eq!(code.as_str(), "91350100M000100Y43");
    /// ```
    pub fn generate(
        authority: char,
        category: char,
        region6: &str,
        org_body8: &str,
    ) -> Result<CreditCode, CodeError> {
        if region6.len() != 6 || !region6.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::InvalidPart {
                kind: KIND,
                part: super::CodePart::RegistrationRegion,
                value: region6.to_string(),
            });
        }
        let org_check = OrgCode::check_char(org_body8).ok_or_else(|| CodeError::InvalidPart {
            kind: KIND,
            part: super::CodePart::OrgCodeBody,
            value: org_body8.to_string(),
        })?;
        let first17 =
            format!("{authority}{category}{region6}{org_body8}{org_check}").to_ascii_uppercase();
        let check = Self::check_char(&first17).unwrap_or('?');
        Self::parse(&format!("{first17}{check}"))
    }

    /// 登记管理部门代码 (character 1).
    pub fn registration_authority(&self) -> char {
        char::from(self.0.as_bytes().first().copied().unwrap_or(b'?'))
    }

    /// 机构类别代码 (character 2).
    pub fn org_category(&self) -> char {
        char::from(self.0.as_bytes().get(1).copied().unwrap_or(b'?'))
    }

    /// 登记管理机关行政区划码 (characters 3-8).
    pub fn region_code(&self) -> &str {
        slice(&self.0, 2..8)
    }

    /// The organisation code (characters 9-17).
    pub fn org_code(&self) -> OrgCode {
        OrgCode::from_valid(slice(&self.0, 8..17))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::codes::testgen;
    use proptest::prelude::*;

    /// Published codes, each checked here against both check characters.
    const PUBLISHED: &[&str] = &[
        // GB 32100-2015's own example.
        "91350100M000100Y43",
        // Type-defining authorities and issuers in published e-licence identifiers
        // (住房和城乡建设部 licence types; provincial issuers in Hunan, Shandong, Zhejiang).
        "11100000000013338W",
        "11100000000013661B",
        "11430000006122244L",
        "113700000045046442",
        "11330105002500287C",
    ];

    #[test]
    fn published_codes_are_valid() {
        for code in PUBLISHED {
            let parsed = CreditCode::parse(code).unwrap();
            assert_eq!(parsed.as_str(), *code);
        }
        let code = CreditCode::parse("91350100m000100y43").unwrap();
        assert_eq!(code.registration_authority(), '9');
        assert_eq!(code.org_category(), '1');
        assert_eq!(code.region_code(), "350100");
        assert_eq!(code.org_code().as_str(), "M000100Y4");
        assert_eq!(CreditCode::check_char("91350100M000100Y4"), Some('3'));
    }

    #[test]
    fn errors() {
        assert_eq!(
            CreditCode::parse("91350100M000100Y44").unwrap_err(),
            CodeError::CheckMismatch {
                kind: KIND,
                expected: '3',
                found: '4'
            }
        );
        // I is not in the alphabet.
        assert_eq!(
            CreditCode::parse("91350100I000100Y43").unwrap_err(),
            CodeError::InvalidChar {
                kind: KIND,
                position: 9,
                found: 'I'
            }
        );
        // The region part must be digits.
        assert_eq!(
            CreditCode::parse("9135010AM000100Y43").unwrap_err(),
            CodeError::InvalidChar {
                kind: KIND,
                position: 8,
                found: 'A'
            }
        );
        assert!(matches!(
            CreditCode::parse("91350100M000100Y4"),
            Err(CodeError::Length { .. })
        ));
    }

    #[test]
    fn embedded_org_code_must_check() {
        // Body M000100Y with a wrong org check '5', then a credit check that fits: only the
        // organisation code's own check catches it.
        let first17 = "91350100M000100Y5";
        let code = format!("{first17}{}", CreditCode::check_char(first17).unwrap());
        assert_eq!(
            CreditCode::parse(&code).unwrap_err(),
            CodeError::CheckMismatch {
                kind: CodeKind::OrgCode,
                expected: '4',
                found: '5'
            }
        );
    }

    #[test]
    fn generate_validates_parts() {
        assert!(matches!(
            CreditCode::generate('9', '1', "35010", "M000100Y"),
            Err(CodeError::InvalidPart {
                part: super::super::CodePart::RegistrationRegion,
                ..
            })
        ));
        assert!(matches!(
            CreditCode::generate('9', '1', "350100", "M000100"),
            Err(CodeError::InvalidPart {
                part: super::super::CodePart::OrgCodeBody,
                ..
            })
        ));
        // O is a valid GB 11714 letter but not in the credit code alphabet.
        assert!(matches!(
            CreditCode::generate('9', '1', "350100", "O0000000"),
            Err(CodeError::InvalidChar { position: 9, .. })
        ));
        assert!(CreditCode::generate('i', '1', "350100", "M000100Y").is_err());
    }

    #[test]
    fn serde() {
        let code: CreditCode = serde_json::from_str("\"91350100M000100Y43\"").unwrap();
        assert_eq!(serde_json::to_value(&code).unwrap(), "91350100M000100Y43");
        assert!(serde_json::from_str::<CreditCode>("\"91350100M000100Y44\"").is_err());
        assert!(serde_json::from_str::<CreditCode>("42").is_err());
    }

    proptest! {
        #[test]
        fn generated_codes_round_trip(code in testgen::credit_code()) {
            let parsed = CreditCode::parse(&code).unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
            prop_assert_eq!(CreditCode::parse(parsed.as_str()).unwrap(), parsed.clone());
            prop_assert_eq!(
                CreditCode::generate(
                    parsed.registration_authority(),
                    parsed.org_category(),
                    parsed.region_code(),
                    parsed.org_code().body(),
                ).unwrap(),
                parsed
            );
        }

        #[test]
        fn every_single_substitution_is_rejected(
            code in testgen::credit_code(),
            at in 0usize..18,
            by in 1usize..31,
        ) {
            let mut bytes = code.into_bytes();
            let old = ALPHABET.iter().position(|&b| b == bytes[at]).unwrap();
            bytes[at] = ALPHABET[(old + by) % 31];
            prop_assert!(CreditCode::parse(std::str::from_utf8(&bytes).unwrap()).is_err());
        }

        #[test]
        fn random_input_never_panics(s in ".{0,30}", t in "[0-9A-Za-z]{16,19}") {
            let _ = CreditCode::parse(&s);
            let _ = CreditCode::parse(&t);
        }
    }
}
