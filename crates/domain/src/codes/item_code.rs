//! Service item codes (政务服务事项编码) of GB/T 39046-2020 and ZWFW C0109.
//!
//! - [`BasicCode`] 基本编码, 12 characters: area prefix 2 (`00` the national catalogue, else a
//!   province code such as `43`) + 事项类型 2 (GB/T 39046 table A.1, [`ItemType`]) + 主项 5
//!   (guiding-department 2 + sequence 3) + 子项 3 (`000` no sub-items, `00Y` has sub-items,
//!   `001`-`999` a sub-item).
//! - [`ImplementationCode`] 实施编码, 31 characters: the implementing body's
//!   [`CreditCode`] 18 + 行使层级 1 (table A.2, [`ExerciseLevel`]) + basic code 12.
//! - [`BusinessItemCode`] 业务办理项编码, 33 characters: implementation code + sequence
//!   `01`-`99`.
//!
//! None of these has a check character of its own; the credit code inside an implementation
//! code does. The department and sequence parts are not checked against a table (the
//! department list belongs to each catalogue).

use super::{CodeError, CodeKind, CodePart, CreditCode, check_length, code_newtype, digits_value};
use super::{PROVINCE_CODES, normalise, slice};
use crate::dict::{ExerciseLevel, ItemType};

/// The 子项 part of a [`BasicCode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubItem {
    /// `000`: the item has no sub-items.
    None,
    /// `00Y`: the item is split into sub-items.
    HasSubItems,
    /// `001`-`999`: this is sub-item N.
    Sub(u16),
}

impl SubItem {
    /// The 3-character code of the part, or `None` for `Sub(0)` or `Sub(n > 999)`.
    pub fn code(self) -> Option<String> {
        match self {
            SubItem::None => Some("000".to_string()),
            SubItem::HasSubItems => Some("00Y".to_string()),
            SubItem::Sub(n @ 1..=999) => Some(format!("{n:03}")),
            SubItem::Sub(_) => None,
        }
    }
}

/// A valid 12-character 事项基本编码.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BasicCode(String);

code_newtype!(BasicCode);

impl BasicCode {
    /// Parses a 12-character basic code.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        Self::from_normalised(normalise(input, CodeKind::BasicCode)?, CodeKind::BasicCode)
    }

    /// Validates an already normalised code; `kind` is the code being parsed, for errors of an
    /// embedded basic code.
    fn from_normalised(s: String, kind: CodeKind) -> Result<Self, CodeError> {
        check_length(&s, kind, &[12])?;
        super::require_digits(&s, 0..9, kind)?;
        let area = slice(&s, 0..2);
        if area != "00" && !PROVINCE_CODES.contains(&area) {
            return Err(CodeError::UnknownProvince {
                kind,
                code: area.to_string(),
            });
        }
        let item_type = slice(&s, 2..4);
        if ItemType::from_code(item_type).is_none() {
            return Err(CodeError::UnknownItemType {
                kind,
                code: item_type.to_string(),
            });
        }
        let sub = slice(&s, 9..12);
        if sub != "00Y" {
            super::require_digits(&s, 9..12, kind)?;
        }
        Ok(BasicCode(s))
    }

    /// Builds a basic code from its parts.
    ///
    /// ```
    /// use yiwang_domain::codes::{BasicCode, SubItem};
    /// use yiwang_domain::dict::ItemType;
    /// let code = BasicCode::new("43", ItemType::Licensing, "05", 7, SubItem::HasSubItems).unwrap();
    /// assert_eq!(code.as_str(), "43010500700Y");
    /// ```
    pub fn new(
        area2: &str,
        item_type: ItemType,
        dept2: &str,
        seq: u16,
        sub: SubItem,
    ) -> Result<BasicCode, CodeError> {
        let kind = CodeKind::BasicCode;
        let area2 = area2.trim();
        if area2.len() != 2 {
            return Err(CodeError::InvalidPart {
                kind,
                part: CodePart::Area,
                value: area2.into(),
            });
        }
        let dept2 = dept2.trim();
        if dept2.len() != 2 || !dept2.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::InvalidPart {
                kind,
                part: CodePart::Department,
                value: dept2.into(),
            });
        }
        if seq > 999 {
            return Err(CodeError::InvalidPart {
                kind,
                part: CodePart::Sequence,
                value: seq.to_string(),
            });
        }
        let sub_code = sub.code().ok_or_else(|| CodeError::InvalidPart {
            kind,
            part: CodePart::SubItem,
            value: format!("{sub:?}"),
        })?;
        Self::parse(&format!(
            "{area2}{}{dept2}{seq:03}{sub_code}",
            item_type.code()
        ))
    }

    /// The area prefix: `00` for the national catalogue, else a province code.
    pub fn area(&self) -> &str {
        slice(&self.0, 0..2)
    }

    /// Whether the code belongs to the national catalogue (area `00`).
    pub fn is_national(&self) -> bool {
        self.area() == "00"
    }

    /// 事项类型.
    pub fn item_type(&self) -> ItemType {
        // Validated by parse; the fallback is never taken.
        ItemType::from_code(slice(&self.0, 2..4)).unwrap_or(ItemType::OtherPower)
    }

    /// The guiding-department code (first 2 digits of the 主项).
    pub fn department(&self) -> &str {
        slice(&self.0, 4..6)
    }

    /// The sequence of the main item within its department and type (last 3 digits of the 主项).
    pub fn sequence(&self) -> u16 {
        u16::try_from(digits_value(slice(&self.0, 6..9))).unwrap_or(0)
    }

    /// The 5-digit 主项 (department + sequence).
    pub fn main_item(&self) -> &str {
        slice(&self.0, 4..9)
    }

    /// The 子项 part.
    pub fn sub_item(&self) -> SubItem {
        match slice(&self.0, 9..12) {
            "000" => SubItem::None,
            "00Y" => SubItem::HasSubItems,
            digits => SubItem::Sub(u16::try_from(digits_value(digits)).unwrap_or(0)),
        }
    }
}

/// A valid 31-character 事项实施编码.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImplementationCode(String);

code_newtype!(ImplementationCode);

impl ImplementationCode {
    /// Parses a 31-character implementation code.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let kind = CodeKind::ImplementationCode;
        Self::from_normalised(normalise(input, kind)?, kind)
    }

    fn from_normalised(s: String, kind: CodeKind) -> Result<Self, CodeError> {
        check_length(&s, kind, &[31])?;
        CreditCode::from_normalised(slice(&s, 0..18).to_string())?;
        let level = slice(&s, 18..19);
        if ExerciseLevel::from_code(level).is_none() {
            return Err(CodeError::UnknownExerciseLevel {
                kind,
                code: level.to_string(),
            });
        }
        BasicCode::from_normalised(slice(&s, 19..31).to_string(), CodeKind::BasicCode)
            .map_err(|e| e.shifted(19))?;
        Ok(ImplementationCode(s))
    }

    /// Builds the implementation code of a basic item implemented by a body at a level.
    pub fn new(credit_code: &CreditCode, level: ExerciseLevel, basic: &BasicCode) -> Self {
        ImplementationCode(format!(
            "{}{}{}",
            credit_code.as_str(),
            level.code(),
            basic.as_str()
        ))
    }

    /// The implementing body's credit code (characters 1-18).
    pub fn credit_code(&self) -> CreditCode {
        CreditCode::from_valid(slice(&self.0, 0..18))
    }

    /// 行使层级 (character 19).
    pub fn level(&self) -> ExerciseLevel {
        // Validated by parse; the fallback is never taken.
        ExerciseLevel::from_code(slice(&self.0, 18..19)).unwrap_or(ExerciseLevel::Tiered)
    }

    /// The basic code (characters 20-31).
    pub fn basic(&self) -> BasicCode {
        BasicCode(slice(&self.0, 19..31).to_string())
    }
}

/// A valid 33-character 业务办理项编码.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BusinessItemCode(String);

code_newtype!(BusinessItemCode);

impl BusinessItemCode {
    /// Parses a 33-character business item code.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let kind = CodeKind::BusinessItemCode;
        let s = normalise(input, kind)?;
        check_length(&s, kind, &[33])?;
        ImplementationCode::from_normalised(slice(&s, 0..31).to_string(), kind)?;
        super::require_digits(&s, 31..33, kind)?;
        if slice(&s, 31..33) == "00" {
            return Err(CodeError::InvalidPart {
                kind,
                part: CodePart::Sequence,
                value: "00".to_string(),
            });
        }
        Ok(BusinessItemCode(s))
    }

    /// Builds business item `sequence` (1-99) of an implementation code.
    pub fn new(implementation: &ImplementationCode, sequence: u8) -> Result<Self, CodeError> {
        if !(1..=99).contains(&sequence) {
            return Err(CodeError::InvalidPart {
                kind: CodeKind::BusinessItemCode,
                part: CodePart::Sequence,
                value: sequence.to_string(),
            });
        }
        Ok(BusinessItemCode(format!(
            "{}{sequence:02}",
            implementation.as_str()
        )))
    }

    /// The implementation code (characters 1-31).
    pub fn implementation(&self) -> ImplementationCode {
        ImplementationCode(slice(&self.0, 0..31).to_string())
    }

    /// The business item sequence (characters 32-33), 1-99.
    pub fn sequence(&self) -> u8 {
        u8::try_from(digits_value(slice(&self.0, 31..33))).unwrap_or(0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::codes::testgen;
    use proptest::prelude::*;

    #[test]
    fn basic_code_parts() {
        let code = BasicCode::parse("000105007000").unwrap();
        assert!(code.is_national());
        assert_eq!(code.item_type(), ItemType::Licensing);
        assert_eq!(code.department(), "05");
        assert_eq!(code.sequence(), 7);
        assert_eq!(code.main_item(), "05007");
        assert_eq!(code.sub_item(), SubItem::None);

        let code = BasicCode::parse("432011003 00y".replace(' ', "").as_str()).unwrap();
        assert_eq!(code.as_str(), "43201100300Y");
        assert_eq!(code.area(), "43");
        assert_eq!(code.item_type(), ItemType::PublicService);
        assert_eq!(code.sub_item(), SubItem::HasSubItems);

        let code = BasicCode::new("43", ItemType::Confirmation, "12", 34, SubItem::Sub(5)).unwrap();
        assert_eq!(code.as_str(), "430712034005");
        assert_eq!(code.sub_item(), SubItem::Sub(5));
    }

    #[test]
    fn basic_code_errors() {
        let kind = CodeKind::BasicCode;
        assert_eq!(
            BasicCode::parse("001105007000").unwrap_err(),
            CodeError::UnknownItemType {
                kind,
                code: "11".into()
            }
        );
        assert_eq!(
            BasicCode::parse("990105007000").unwrap_err(),
            CodeError::UnknownProvince {
                kind,
                code: "99".into()
            }
        );
        assert_eq!(
            BasicCode::parse("00010500700X").unwrap_err(),
            CodeError::InvalidChar {
                kind,
                position: 12,
                found: 'X'
            }
        );
        assert!(BasicCode::new("43", ItemType::Licensing, "05", 1000, SubItem::None).is_err());
        assert!(BasicCode::new("43", ItemType::Licensing, "05", 1, SubItem::Sub(0)).is_err());
        assert!(BasicCode::new("43", ItemType::Licensing, "05", 1, SubItem::Sub(1000)).is_err());
        assert!(BasicCode::new("43", ItemType::Licensing, "5", 1, SubItem::None).is_err());
        assert!(BasicCode::new("4", ItemType::Licensing, "05", 1, SubItem::None).is_err());
        assert!(BasicCode::new("16", ItemType::Licensing, "05", 1, SubItem::None).is_err());
    }

    #[test]
    fn implementation_and_business_codes() {
        let credit = CreditCode::parse("11430000006122244L").unwrap();
        let basic = BasicCode::parse("000105007000").unwrap();
        let code = ImplementationCode::new(&credit, ExerciseLevel::Provincial, &basic);
        assert_eq!(code.as_str(), "11430000006122244L2000105007000");
        assert_eq!(ImplementationCode::parse(code.as_str()).unwrap(), code);
        assert_eq!(code.credit_code(), credit);
        assert_eq!(code.level(), ExerciseLevel::Provincial);
        assert_eq!(code.basic(), basic);

        let item = BusinessItemCode::new(&code, 3).unwrap();
        assert_eq!(item.as_str(), "11430000006122244L200010500700003");
        assert_eq!(BusinessItemCode::parse(item.as_str()).unwrap(), item);
        assert_eq!(item.implementation(), code);
        assert_eq!(item.sequence(), 3);
        assert!(BusinessItemCode::new(&code, 0).is_err());
        assert!(BusinessItemCode::new(&code, 100).is_err());
        assert!(matches!(
            BusinessItemCode::parse("11430000006122244L200010500700000"),
            Err(CodeError::InvalidPart {
                part: CodePart::Sequence,
                ..
            })
        ));
    }

    #[test]
    fn errors_inside_an_implementation_code_point_at_the_part() {
        assert_eq!(
            ImplementationCode::parse("11430000006122244L8000105007000").unwrap_err(),
            CodeError::UnknownExerciseLevel {
                kind: CodeKind::ImplementationCode,
                code: "8".into()
            }
        );
        assert_eq!(
            ImplementationCode::parse("11430000006122244M2000105007000").unwrap_err(),
            CodeError::CheckMismatch {
                kind: CodeKind::CreditCode,
                expected: 'L',
                found: 'M'
            }
        );
        assert_eq!(
            ImplementationCode::parse("11430000006122244L200010500700A").unwrap_err(),
            CodeError::InvalidChar {
                kind: CodeKind::BasicCode,
                position: 31,
                found: 'A'
            }
        );
        assert_eq!(
            BusinessItemCode::parse("11430000006122244L2000105007000").unwrap_err(),
            CodeError::Length {
                kind: CodeKind::BusinessItemCode,
                expected: &[33],
                found: 31
            }
        );
    }

    #[test]
    fn serde() {
        let json = "\"11430000006122244l2000105007000\"";
        let code: ImplementationCode = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), json.to_uppercase());
        assert!(serde_json::from_str::<BasicCode>("\"001105007000\"").is_err());
    }

    proptest! {
        #[test]
        fn basic_codes_round_trip((area, item_type, dept, seq, sub) in testgen::basic_parts()) {
            let code = BasicCode::new(&area, item_type, &dept, seq, sub).unwrap();
            prop_assert_eq!(BasicCode::parse(code.as_str()).unwrap(), code.clone());
            prop_assert_eq!(code.area(), area.as_str());
            prop_assert_eq!(code.item_type(), item_type);
            prop_assert_eq!(code.department(), dept.as_str());
            prop_assert_eq!(code.sequence(), seq);
            prop_assert_eq!(code.sub_item(), sub);
        }

        #[test]
        fn implementation_codes_round_trip(
            credit in testgen::credit_code(),
            level in prop::sample::select(ExerciseLevel::ALL),
            (area, item_type, dept, seq, sub) in testgen::basic_parts(),
            n in 1u8..=99,
        ) {
            let credit = CreditCode::parse(&credit).unwrap();
            let basic = BasicCode::new(&area, item_type, &dept, seq, sub).unwrap();
            let code = ImplementationCode::new(&credit, level, &basic);
            prop_assert_eq!(ImplementationCode::parse(code.as_str()).unwrap(), code.clone());
            prop_assert_eq!(code.credit_code(), credit);
            prop_assert_eq!(code.level(), level);
            prop_assert_eq!(code.basic(), basic);
            let item = BusinessItemCode::new(&code, n).unwrap();
            prop_assert_eq!(BusinessItemCode::parse(item.as_str()).unwrap(), item.clone());
            prop_assert_eq!(item.implementation(), code);
            prop_assert_eq!(item.sequence(), n);
        }

        #[test]
        fn a_substitution_in_the_credit_code_part_is_rejected(
            credit in testgen::credit_code(),
            at in 0usize..18,
            by in 1usize..31,
        ) {
            let code = format!("{credit}2000105007000");
            let mutated = testgen::substitute_credit_char(&code, at, by);
            prop_assert!(ImplementationCode::parse(&mutated).is_err());
            let business = format!("{mutated}01");
            prop_assert!(BusinessItemCode::parse(&business).is_err());
        }

        #[test]
        fn random_input_never_panics(s in ".{0,40}", t in "[0-9A-Za-z]{10,34}") {
            let _ = BasicCode::parse(&s);
            let _ = ImplementationCode::parse(&s);
            let _ = BusinessItemCode::parse(&s);
            let _ = BasicCode::parse(&t);
            let _ = ImplementationCode::parse(&t);
            let _ = BusinessItemCode::parse(&t);
        }
    }
}
