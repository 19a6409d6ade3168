//! 投资项目代码 (fixed-asset investment project code), GB/T 40058-2021 and its legacy form.
//!
//! Both forms are 24 characters: 20 digits in five hyphen-separated groups `4-6-2-2-6`
//! ("24位" counts the hyphens).
//!
//! - **GB/T 40058-2021** (固定资产投资项目代码管理规范, 发改投资〔2020〕1439号, in use from
//!   November 2020): `YYMM-AAAAAA-DD-TT-RRRRRC`: 时间代码 (year and month the code was
//!   assigned), 地区代码 (GB/T 2260), 中央业务指导部门代码, 项目类型代码, 5-digit 随机码 and a
//!   校验码. The standard's text was not available to us; the check digit is ISO/IEC 7064
//!   MOD 11,10 ([`mod11_10_check_digit`]) over the 19 preceding digits, established from
//!   published codes: `2505-330354-04-01-274607` (Zhejiang platform), `2411-130202-89-01-637015`,
//!   `2509-140602-89-05-864976` and `2603-141124-89-05-346948` (tender notices) all check, and a
//!   chance match of four is 1 in 10,000. The department and project type tables are not
//!   checked (we do not have them).
//! - **Legacy** (2016-2020): `YYYY-AAAAAA-II-TT-NNNNNN`: year, region, 国民经济行业 code, project
//!   kind (`01` 审批, `02` 核准, `03` 备案: [`ApprovalKind`]) and a 6-digit serial; no check
//!   digit (e.g. `2019-330391-47-03-831266`).
//!
//! Telling them apart: the first four digits are a new-form time code when they read as
//! `YYMM` with `YY >= 20` and `MM` in 01-12 (2001-2012, 2101-2112, …); otherwise they must be a
//! legacy year in 2000-2030. A legacy year 2010-2012 cannot be written (it would read as a
//! month of 2020), which is harmless: the legacy scheme began in 2016. Because of this overlap a
//! single typing error in a new-form time code can turn it into a valid-looking legacy code
//! (`2505…` → `2015…`); every other single substitution is caught by the check digit.
//!
//! The code parses with or without hyphens and is stored with them.

use super::{CodeError, CodeKind, CodePart, RegionCode, check_length, code_newtype};
use super::{digits_value, mod11_10_check_digit, normalise, slice};

const KIND: CodeKind = CodeKind::ProjectCode;
/// Byte offsets of the hyphens in the 24-character form.
const HYPHENS: [usize; 4] = [4, 11, 14, 17];
const LEGACY_YEARS: std::ops::RangeInclusive<u32> = 2000..=2030;

/// The approval route of a legacy project code (its 项目类型 part).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApprovalKind {
    /// `01` 审批 (government-invested projects).
    Approval,
    /// `02` 核准 (enterprise projects on the approval catalogue).
    Confirmation,
    /// `03` 备案 (other enterprise projects).
    Filing,
}

impl ApprovalKind {
    /// The two-digit code.
    pub fn code(self) -> &'static str {
        match self {
            ApprovalKind::Approval => "01",
            ApprovalKind::Confirmation => "02",
            ApprovalKind::Filing => "03",
        }
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            ApprovalKind::Approval => "审批",
            ApprovalKind::Confirmation => "核准",
            ApprovalKind::Filing => "备案",
        }
    }

    /// Parses the two-digit code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code.trim() {
            "01" => Some(ApprovalKind::Approval),
            "02" => Some(ApprovalKind::Confirmation),
            "03" => Some(ApprovalKind::Filing),
            _ => None,
        }
    }
}

/// A valid investment project code, stored as `XXXX-XXXXXX-XX-XX-XXXXXX`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProjectCode(String);

code_newtype!(ProjectCode);

/// Whether a 4-digit time code is a new-form `YYMM`.
fn is_new_time_code(time: u32) -> bool {
    time / 100 >= 20 && (1..=12).contains(&(time % 100))
}

impl ProjectCode {
    /// Parses a code in either form, with or without hyphens.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let s = normalise(input, KIND)?;
        check_length(&s, KIND, &[20, 24])?;
        let digits = if s.len() == 24 {
            for (i, _) in s.bytes().enumerate() {
                if HYPHENS.contains(&i) {
                    super::require_chars(&s, i..i + 1, KIND, |b| b == b'-')?;
                } else {
                    super::require_digits(&s, i..i + 1, KIND)?;
                }
            }
            s.replace('-', "")
        } else {
            super::require_digits(&s, 0..20, KIND)?;
            s
        };
        let time_code = slice(&digits, 0..4);
        let time = digits_value(time_code);
        if is_new_time_code(time) {
            let expected = mod11_10_check_digit(slice(&digits, 0..19)).unwrap_or('?');
            let found = char::from(digits.as_bytes().get(19).copied().unwrap_or(b'?'));
            if expected != found {
                return Err(CodeError::CheckMismatch {
                    kind: KIND,
                    expected,
                    found,
                });
            }
        } else if LEGACY_YEARS.contains(&time) {
            let kind = slice(&digits, 12..14);
            if ApprovalKind::from_code(kind).is_none() {
                return Err(CodeError::InvalidPart {
                    kind: KIND,
                    part: CodePart::ProjectType,
                    value: kind.to_string(),
                });
            }
        } else {
            return Err(CodeError::InvalidPart {
                kind: KIND,
                part: CodePart::TimeCode,
                value: time_code.to_string(),
            });
        }
        Ok(ProjectCode(format!(
            "{}-{}-{}-{}-{}",
            slice(&digits, 0..4),
            slice(&digits, 4..10),
            slice(&digits, 10..12),
            slice(&digits, 12..14),
            slice(&digits, 14..20)
        )))
    }

    /// Builds a GB/T 40058 code, computing its check digit: `year` 2020-2099, `month` 1-12,
    /// `random` 0-99999.
    ///
    /// ```
    /// use yiwang_domain::codes::ProjectCode;
    /// let code = ProjectCode::new(2025, 5, "330354", "04", "01", 27460).unwrap();
    /// assert_eq!(code.as_str(), "2505-330354-04-01-274607");
    /// ```
    pub fn new(
        year: u16,
        month: u8,
        region6: &str,
        department2: &str,
        project_type2: &str,
        random: u32,
    ) -> Result<ProjectCode, CodeError> {
        let part = |part: CodePart, value: String| CodeError::InvalidPart {
            kind: KIND,
            part,
            value,
        };
        if !(2020..=2099).contains(&year) || !(1..=12).contains(&month) {
            return Err(part(CodePart::TimeCode, format!("{year}-{month:02}")));
        }
        let is_digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !is_digits(region6, 6) {
            return Err(part(CodePart::Region, region6.to_string()));
        }
        if !is_digits(department2, 2) {
            return Err(part(CodePart::Department, department2.to_string()));
        }
        if !is_digits(project_type2, 2) {
            return Err(part(CodePart::ProjectType, project_type2.to_string()));
        }
        if random > 99_999 {
            return Err(part(CodePart::RandomPart, random.to_string()));
        }
        let body = format!(
            "{:02}{month:02}{region6}{department2}{project_type2}{random:05}",
            year % 100
        );
        let check = mod11_10_check_digit(&body).unwrap_or('?');
        Self::parse(&format!("{body}{check}"))
    }

    fn part(&self, range: std::ops::Range<usize>) -> &str {
        slice(&self.0, range)
    }

    /// Whether the code is of the legacy 2016-2020 form.
    pub fn is_legacy(&self) -> bool {
        !is_new_time_code(digits_value(self.part(0..4)))
    }

    /// The year the code was assigned.
    pub fn year(&self) -> u16 {
        let time = digits_value(self.part(0..4));
        let year = if self.is_legacy() {
            time
        } else {
            2000 + time / 100
        };
        u16::try_from(year).unwrap_or(0)
    }

    /// The month the code was assigned (GB/T 40058 form only).
    pub fn month(&self) -> Option<u8> {
        if self.is_legacy() {
            None
        } else {
            u8::try_from(digits_value(self.part(2..4))).ok()
        }
    }

    /// The 6-digit 地区代码 as written.
    pub fn region_code(&self) -> &str {
        self.part(5..11)
    }

    /// The region, when the 地区代码 is a valid [`RegionCode`] (codes of central projects may
    /// use a non-regional value).
    pub fn region(&self) -> Option<RegionCode> {
        RegionCode::parse(self.region_code()).ok()
    }

    /// 中央业务指导部门代码 (GB/T 40058 form only).
    pub fn department_code(&self) -> Option<&str> {
        (!self.is_legacy()).then(|| self.part(12..14))
    }

    /// 国民经济行业 code (legacy form only).
    pub fn industry_code(&self) -> Option<&str> {
        self.is_legacy().then(|| self.part(12..14))
    }

    /// The 项目类型 part as written.
    pub fn project_type(&self) -> &str {
        self.part(15..17)
    }

    /// The approval route of a legacy code (`None` for the GB/T 40058 form, whose project type
    /// is a different table).
    pub fn approval_kind(&self) -> Option<ApprovalKind> {
        if self.is_legacy() {
            ApprovalKind::from_code(self.project_type())
        } else {
            None
        }
    }

    /// The last group: 5 random digits and the check digit, or the legacy 6-digit serial.
    pub fn serial(&self) -> &str {
        self.part(18..24)
    }

    /// The 20 digits without hyphens.
    pub fn compact(&self) -> String {
        self.0.replace('-', "")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::codes::testgen;
    use proptest::prelude::*;

    /// Published GB/T 40058 codes (platform page and tender notices quoted in public code).
    const PUBLISHED_NEW: &[&str] = &[
        "2505-330354-04-01-274607",
        "2411-130202-89-01-637015",
        "2509-140602-89-05-864976",
        "2603-141124-89-05-346948",
    ];

    /// Published legacy codes.
    const PUBLISHED_LEGACY: &[&str] = &[
        "2019-330391-47-03-831266",
        "2020-330391-48-03-158734",
        "2020-330327-48-01-167360",
        "2020-451421-88-03-016343",
    ];

    #[test]
    fn published_new_codes_check() {
        for code in PUBLISHED_NEW {
            let parsed = ProjectCode::parse(code).unwrap();
            assert_eq!(parsed.as_str(), *code);
            assert!(!parsed.is_legacy());
        }
        let code = ProjectCode::parse("2505-330354-04-01-274607").unwrap();
        assert_eq!(code.year(), 2025);
        assert_eq!(code.month(), Some(5));
        assert_eq!(code.region_code(), "330354");
        assert_eq!(
            code.region().unwrap().prefecture().unwrap().as_str(),
            "330300"
        );
        assert_eq!(code.department_code(), Some("04"));
        assert_eq!(code.industry_code(), None);
        assert_eq!(code.project_type(), "01");
        assert_eq!(code.approval_kind(), None);
        assert_eq!(code.serial(), "274607");
        assert_eq!(code.compact(), "25053303540401274607");
        assert_eq!(ProjectCode::parse("25053303540401274607").unwrap(), code);
    }

    #[test]
    fn published_legacy_codes() {
        for code in PUBLISHED_LEGACY {
            let parsed = ProjectCode::parse(code).unwrap();
            assert_eq!(parsed.as_str(), *code);
            assert!(parsed.is_legacy());
        }
        let code = ProjectCode::parse("2019-330391-47-03-831266").unwrap();
        assert_eq!(code.year(), 2019);
        assert_eq!(code.month(), None);
        assert_eq!(code.industry_code(), Some("47"));
        assert_eq!(code.department_code(), None);
        assert_eq!(code.approval_kind(), Some(ApprovalKind::Filing));
        assert_eq!(
            code.approval_kind().map(ApprovalKind::label_zh),
            Some("备案")
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            ProjectCode::parse("2505-330354-04-01-274608").unwrap_err(),
            CodeError::CheckMismatch {
                kind: KIND,
                expected: '7',
                found: '8'
            }
        );
        assert!(matches!(
            ProjectCode::parse("2019-330391-47-04-831266"),
            Err(CodeError::InvalidPart {
                part: CodePart::ProjectType,
                ..
            })
        ));
        assert!(matches!(
            ProjectCode::parse("1999-330391-47-03-831266"),
            Err(CodeError::InvalidPart {
                part: CodePart::TimeCode,
                ..
            })
        ));
        assert_eq!(
            ProjectCode::parse("2505-330354-04_01-274607").unwrap_err(),
            CodeError::InvalidChar {
                kind: KIND,
                position: 15,
                found: '_'
            }
        );
        assert!(matches!(
            ProjectCode::parse("2505-33035-04-01-274607"),
            Err(CodeError::Length { .. })
        ));
        assert!(ProjectCode::new(2019, 5, "330354", "04", "01", 1).is_err());
        assert!(ProjectCode::new(2025, 13, "330354", "04", "01", 1).is_err());
        assert!(ProjectCode::new(2025, 5, "33035", "04", "01", 1).is_err());
        assert!(ProjectCode::new(2025, 5, "330354", "4", "01", 1).is_err());
        assert!(ProjectCode::new(2025, 5, "330354", "04", "1A", 1).is_err());
        assert!(ProjectCode::new(2025, 5, "330354", "04", "01", 100_000).is_err());
    }

    #[test]
    fn serde() {
        let code: ProjectCode = serde_json::from_str("\"25053303540401274607\"").unwrap();
        assert_eq!(
            serde_json::to_string(&code).unwrap(),
            "\"2505-330354-04-01-274607\""
        );
        assert!(serde_json::from_str::<ProjectCode>("\"2505-330354-04-01-274600\"").is_err());
    }

    proptest! {
        #[test]
        fn generated_codes_round_trip(
            (year, month, region, dept, ty, random) in testgen::project_parts(),
        ) {
            let code = ProjectCode::new(year, month, &region, &dept, &ty, random).unwrap();
            prop_assert_eq!(ProjectCode::parse(code.as_str()).unwrap(), code.clone());
            prop_assert_eq!(ProjectCode::parse(&code.compact()).unwrap(), code.clone());
            prop_assert!(!code.is_legacy());
            prop_assert_eq!(code.year(), year);
            prop_assert_eq!(code.month(), Some(month));
            prop_assert_eq!(code.region_code(), region.as_str());
        }

        #[test]
        fn legacy_codes_round_trip(code in testgen::legacy_project_code()) {
            let parsed = ProjectCode::parse(&code).unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
            prop_assert!(parsed.is_legacy());
            prop_assert!(parsed.approval_kind().is_some());
        }

        #[test]
        fn single_substitutions_are_rejected_or_become_legacy(
            (year, month, region, dept, ty, random) in testgen::project_parts(),
            at in 0usize..20,
            by in 1u8..10,
        ) {
            let code = ProjectCode::new(year, month, &region, &dept, &ty, random).unwrap();
            let mut digits = code.compact().into_bytes();
            digits[at] = b'0' + (digits[at] - b'0' + by) % 10;
            let mutated = ProjectCode::parse(std::str::from_utf8(&digits).unwrap());
            if at >= 4 {
                // Outside the time code the check digit sees every change.
                prop_assert!(mutated.is_err());
            } else {
                // In the time code a change can only be accepted as a legacy code.
                prop_assert!(mutated.map_or(true, |c| c.is_legacy()));
            }
        }

        #[test]
        fn random_input_never_panics(s in ".{0,30}", t in "[0-9-]{18,26}") {
            let _ = ProjectCode::parse(&s);
            let _ = ProjectCode::parse(&t);
        }
    }
}
