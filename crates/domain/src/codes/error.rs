//! Why a code failed to parse: one error type for every code of [`crate::codes`].
//!
//! Each variant names the code ([`CodeKind`]) and what is wrong with it, so a form can tell the
//! user exactly what to fix. `Display` is English; [`CodeError::message_zh`] gives the Chinese
//! sentence shown on the portal and in the halls.

use std::fmt;

/// Which code an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// 公民身份号码 (GB 11643).
    IdCardNumber,
    /// 统一社会信用代码 (GB 32100).
    CreditCode,
    /// 组织机构代码 (GB 11714).
    OrgCode,
    /// 行政区划代码 (GB/T 2260).
    RegionCode,
    /// 事项基本编码.
    BasicCode,
    /// 事项实施编码.
    ImplementationCode,
    /// 业务办理项编码.
    BusinessItemCode,
    /// 电子证照标识 (GB/T 36904).
    LicenceId,
    /// 投资项目代码 (GB/T 40058).
    ProjectCode,
    /// 办件编号 (实施编码 + date + daily sequence).
    CaseNumber,
}

impl CodeKind {
    /// The Chinese name of the code, as the standards write it.
    pub fn label_zh(self) -> &'static str {
        match self {
            CodeKind::IdCardNumber => "公民身份号码",
            CodeKind::CreditCode => "统一社会信用代码",
            CodeKind::OrgCode => "组织机构代码",
            CodeKind::RegionCode => "行政区划代码",
            CodeKind::BasicCode => "事项基本编码",
            CodeKind::ImplementationCode => "事项实施编码",
            CodeKind::BusinessItemCode => "业务办理项编码",
            CodeKind::LicenceId => "电子证照标识",
            CodeKind::ProjectCode => "投资项目代码",
            CodeKind::CaseNumber => "办件编号",
        }
    }

    /// An English name of the code.
    pub fn label_en(self) -> &'static str {
        match self {
            CodeKind::IdCardNumber => "citizen ID number",
            CodeKind::CreditCode => "unified social credit code",
            CodeKind::OrgCode => "organisation code",
            CodeKind::RegionCode => "administrative region code",
            CodeKind::BasicCode => "item basic code",
            CodeKind::ImplementationCode => "item implementation code",
            CodeKind::BusinessItemCode => "business item code",
            CodeKind::LicenceId => "e-licence identifier",
            CodeKind::ProjectCode => "investment project code",
            CodeKind::CaseNumber => "case number",
        }
    }
}

impl fmt::Display for CodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_en())
    }
}

/// A part of a code whose value breaks a structural rule (see [`CodeError::InvalidPart`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodePart {
    /// The levels of a region code: a county needs a prefecture part, a township a county or
    /// prefecture part.
    RegionHierarchy,
    /// The 6-digit registration region of a credit code.
    RegistrationRegion,
    /// A 6-digit region part.
    Region,
    /// The 8-character body of an organisation code.
    OrgCodeBody,
    /// The 2-character area prefix of a basic code.
    Area,
    /// A 2-digit department code.
    Department,
    /// A sequence number.
    Sequence,
    /// The 3-character sub-item part of a basic code.
    SubItem,
    /// The root `1.2.156.3005.2` of an e-licence identifier.
    LicenceRoot,
    /// The five dot-separated fields of an e-licence identifier.
    LicenceFields,
    /// The 21-character licence type code.
    LicenceType,
    /// The serial number of an e-licence identifier.
    Serial,
    /// The 3-digit version of an e-licence identifier.
    Version,
    /// The time code (YYMM, or a year in the legacy form) of a project code.
    TimeCode,
    /// The project type of a project code.
    ProjectType,
    /// The random part of a project code.
    RandomPart,
}

impl CodePart {
    /// The Chinese name of the part, with the rule it must follow.
    pub fn label_zh(self) -> &'static str {
        match self {
            CodePart::RegionHierarchy => "行政区划层级（县级须有地级部分，乡级须有县级或地级部分）",
            CodePart::RegistrationRegion => "登记管理机关行政区划码（6位数字）",
            CodePart::Region => "地区代码（6位数字）",
            CodePart::OrgCodeBody => "组织机构代码本体（8位数字或大写字母）",
            CodePart::Area => "区域代码（00或省级行政区划代码前2位）",
            CodePart::Department => "部门代码（2位数字）",
            CodePart::Sequence => "序号",
            CodePart::SubItem => "子项编码（000、00Y或001-999）",
            CodePart::LicenceRoot => "电子证照根代码（1.2.156.3005.2）",
            CodePart::LicenceFields => "电子证照标识结构（根代码后应有5段，以“.”分隔）",
            CodePart::LicenceType => "证照类型代码（18位统一社会信用代码加3位数字）",
            CodePart::Serial => "流水号（1-64位数字或大写字母）",
            CodePart::Version => "版本号（3位数字）",
            CodePart::TimeCode => "时间代码（赋码年月YYMM，或旧代码的年份）",
            CodePart::ProjectType => "项目类型代码（旧代码为01审批、02核准、03备案）",
            CodePart::RandomPart => "随机码（5位数字）",
        }
    }

    /// An English name of the part, with the rule it must follow.
    pub fn label_en(self) -> &'static str {
        match self {
            CodePart::RegionHierarchy => {
                "region hierarchy (a county needs a prefecture part, a township a county or prefecture part)"
            }
            CodePart::RegistrationRegion => "registration region (6 digits)",
            CodePart::Region => "region code (6 digits)",
            CodePart::OrgCodeBody => "organisation code body (8 digits or capital letters)",
            CodePart::Area => "area prefix (00 or a province code)",
            CodePart::Department => "department code (2 digits)",
            CodePart::Sequence => "sequence number",
            CodePart::SubItem => "sub-item code (000, 00Y or 001-999)",
            CodePart::LicenceRoot => "licence root (1.2.156.3005.2)",
            CodePart::LicenceFields => {
                "identifier structure (five dot-separated fields after the root)"
            }
            CodePart::LicenceType => "licence type code (18-character credit code and 3 digits)",
            CodePart::Serial => "serial number (1 to 64 digits or capital letters)",
            CodePart::Version => "version (3 digits)",
            CodePart::TimeCode => "time code (YYMM, or a year in the legacy form)",
            CodePart::ProjectType => "project type (legacy form: 01, 02 or 03)",
            CodePart::RandomPart => "random part (5 digits)",
        }
    }
}

impl fmt::Display for CodePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_en())
    }
}

/// Why a string is not a valid code. Positions are 1-based character positions in the trimmed
/// input; for a code embedded in a longer one (the credit code inside an implementation code)
/// the position is in the longer code and `kind` names the embedded code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Nothing but whitespace was given.
    #[error("the {kind} is empty")]
    Empty {
        /// The code being parsed.
        kind: CodeKind,
    },
    /// The code has the wrong number of characters.
    #[error("the {kind} must be {} characters long, found {found}", lengths_en(.expected))]
    Length {
        /// The code being parsed.
        kind: CodeKind,
        /// The accepted lengths.
        expected: &'static [usize],
        /// The length found.
        found: usize,
    },
    /// A character is not allowed where it stands.
    #[error("character '{found}' at position {position} is not allowed in the {kind}")]
    InvalidChar {
        /// The code being parsed.
        kind: CodeKind,
        /// 1-based position of the character.
        position: usize,
        /// The character found.
        found: char,
    },
    /// The check character does not match the rest of the code (a typing error).
    #[error("the check character of the {kind} should be '{expected}', found '{found}'")]
    CheckMismatch {
        /// The code being parsed.
        kind: CodeKind,
        /// The check character the rest of the code calls for.
        expected: char,
        /// The check character found.
        found: char,
    },
    /// A date in the code does not exist or is out of the accepted range.
    #[error("the {kind} contains an impossible date {value}")]
    InvalidDate {
        /// The code being parsed.
        kind: CodeKind,
        /// The date digits as found (YYYYMMDD).
        value: String,
    },
    /// The first two digits are not a province-level region.
    #[error("'{code}' is not a province code (in the {kind})")]
    UnknownProvince {
        /// The code being parsed.
        kind: CodeKind,
        /// The two digits found.
        code: String,
    },
    /// The item type is not in GB/T 39046 table A.1.
    #[error("'{code}' is not an item type of GB/T 39046 (in the {kind})")]
    UnknownItemType {
        /// The code being parsed.
        kind: CodeKind,
        /// The two digits found.
        code: String,
    },
    /// The exercise level is not in GB/T 39046 table A.2.
    #[error("'{code}' is not an exercise level of GB/T 39046 (in the {kind})")]
    UnknownExerciseLevel {
        /// The code being parsed.
        kind: CodeKind,
        /// The character found.
        code: String,
    },
    /// A part of the code breaks a structural rule.
    #[error("the {part} '{value}' is not valid in the {kind}")]
    InvalidPart {
        /// The code being parsed.
        kind: CodeKind,
        /// Which part, with its rule.
        part: CodePart,
        /// The value found.
        value: String,
    },
}

fn lengths_en(lengths: &[usize]) -> String {
    join(lengths, " or ")
}

fn lengths_zh(lengths: &[usize]) -> String {
    join(lengths, "或")
}

fn join(lengths: &[usize], sep: &str) -> String {
    lengths
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

impl CodeError {
    /// The code the error is about.
    pub fn kind(&self) -> CodeKind {
        match self {
            CodeError::Empty { kind }
            | CodeError::Length { kind, .. }
            | CodeError::InvalidChar { kind, .. }
            | CodeError::CheckMismatch { kind, .. }
            | CodeError::InvalidDate { kind, .. }
            | CodeError::UnknownProvince { kind, .. }
            | CodeError::UnknownItemType { kind, .. }
            | CodeError::UnknownExerciseLevel { kind, .. }
            | CodeError::InvalidPart { kind, .. } => *kind,
        }
    }

    /// The message in English (the same as `Display`).
    pub fn message_en(&self) -> String {
        self.to_string()
    }

    /// The message in Chinese, for users.
    pub fn message_zh(&self) -> String {
        match self {
            CodeError::Empty { kind } => format!("{}不能为空", kind.label_zh()),
            CodeError::Length {
                kind,
                expected,
                found,
            } => {
                format!(
                    "{}应为{}位，实际为{}位",
                    kind.label_zh(),
                    lengths_zh(expected),
                    found
                )
            }
            CodeError::InvalidChar {
                kind,
                position,
                found,
            } => {
                format!(
                    "{}第{}位的字符“{}”不符合编码规则",
                    kind.label_zh(),
                    position,
                    found
                )
            }
            CodeError::CheckMismatch {
                kind,
                expected,
                found,
            } => format!(
                "{}校验码应为“{}”，实为“{}”，请检查是否输错",
                kind.label_zh(),
                expected,
                found
            ),
            CodeError::InvalidDate { kind, value } => {
                format!("{}中的日期“{}”不存在或超出允许范围", kind.label_zh(), value)
            }
            CodeError::UnknownProvince { kind, code } => {
                format!("{}中的“{}”不是省级行政区划代码", kind.label_zh(), code)
            }
            CodeError::UnknownItemType { kind, code } => {
                format!(
                    "{}中的“{}”不是GB/T 39046规定的事项类型代码",
                    kind.label_zh(),
                    code
                )
            }
            CodeError::UnknownExerciseLevel { kind, code } => {
                format!(
                    "{}中的“{}”不是GB/T 39046规定的行使层级代码",
                    kind.label_zh(),
                    code
                )
            }
            CodeError::InvalidPart { kind, part, value } => {
                format!("{}中的{}“{}”无效", kind.label_zh(), part.label_zh(), value)
            }
        }
    }

    /// Moves a character position by `by`, for an error found in a code embedded at offset `by`
    /// of a longer code.
    pub(crate) fn shifted(self, by: usize) -> Self {
        match self {
            CodeError::InvalidChar {
                kind,
                position,
                found,
            } => CodeError::InvalidChar {
                kind,
                position: position + by,
                found,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_in_both_languages() {
        let e = CodeError::Length {
            kind: CodeKind::IdCardNumber,
            expected: &[15, 18],
            found: 17,
        };
        assert_eq!(
            e.message_en(),
            "the citizen ID number must be 15 or 18 characters long, found 17"
        );
        assert_eq!(e.message_zh(), "公民身份号码应为15或18位，实际为17位");

        let e = CodeError::CheckMismatch {
            kind: CodeKind::CreditCode,
            expected: '3',
            found: '4',
        };
        assert_eq!(
            e.to_string(),
            "the check character of the unified social credit code should be '3', found '4'"
        );
        assert_eq!(
            e.message_zh(),
            "统一社会信用代码校验码应为“3”，实为“4”，请检查是否输错"
        );

        let e = CodeError::InvalidPart {
            kind: CodeKind::BasicCode,
            part: CodePart::SubItem,
            value: "0A1".into(),
        };
        assert_eq!(
            e.message_en(),
            "the sub-item code (000, 00Y or 001-999) '0A1' is not valid in the item basic code"
        );
        assert!(e.message_zh().contains("子项编码"));
        assert_eq!(e.kind(), CodeKind::BasicCode);
    }

    #[test]
    fn shifting_moves_only_positions() {
        let e = CodeError::InvalidChar {
            kind: CodeKind::CreditCode,
            position: 3,
            found: 'I',
        };
        assert_eq!(
            e.shifted(19),
            CodeError::InvalidChar {
                kind: CodeKind::CreditCode,
                position: 22,
                found: 'I'
            }
        );
        let e = CodeError::Empty {
            kind: CodeKind::OrgCode,
        };
        assert_eq!(e.clone().shifted(5), e);
    }
}
