//! 行政区划代码 (administrative region code), GB/T 2260, with the township and village
//! extension of the statistical division codes (统计用区划代码).
//!
//! - 6 digits: province 2 + prefecture 2 + county 2. `430000` is a province (湖南省), `430100` a
//!   prefecture (长沙市), `430102` a county (芙蓉区). A prefecture part of `00` with a non-zero
//!   county part does not exist and is refused.
//! - 9 digits: a county (or a prefecture without counties, such as 东莞 441900) + a 3-digit
//!   township (乡镇/街道).
//! - 12 digits: a township + a 3-digit village (村/社区).
//!
//! The statistical tables pad every code to 12 digits (`430100000000`); such padded forms are
//! accepted and stored short (`430100`), so a parsed code has one canonical spelling.
//!
//! The province part must be one of [`PROVINCE_CODES`]; the rest is not checked against a
//! current list (codes of abolished areas still appear in old records and ID numbers).

use super::{CodeError, CodeKind, check_length, code_newtype, normalise, slice};

const KIND: CodeKind = CodeKind::RegionCode;

/// The two-digit codes of the province-level divisions (GB/T 2260): 11-15, 21-23, 31-37,
/// 41-46, 50-54, 61-65, 71 (台湾), 81 (香港), 82 (澳门).
pub const PROVINCE_CODES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// The level of a region in the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegionLevel {
    /// 省级 (`PP0000`).
    Province,
    /// 地级 (`PPCC00`).
    Prefecture,
    /// 县级 (`PPCCXX`).
    County,
    /// 乡级 (9 digits).
    Township,
    /// 村级 (12 digits).
    Village,
}

/// A valid region code: 6, 9 or 12 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

code_newtype!(RegionCode);

impl RegionCode {
    /// Parses a 6-, 9- or 12-digit code; trailing all-zero township or village parts are
    /// dropped.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let s = normalise(input, KIND)?;
        Self::from_normalised(s)
    }

    fn from_normalised(mut s: String) -> Result<Self, CodeError> {
        check_length(&s, KIND, &[6, 9, 12])?;
        super::require_digits(&s, 0..s.len(), KIND)?;
        let province = slice(&s, 0..2);
        if !PROVINCE_CODES.contains(&province) {
            return Err(CodeError::UnknownProvince {
                kind: KIND,
                code: province.to_string(),
            });
        }
        // Drop statistical padding: 430100000000 -> 430100.
        while s.len() > 6 && s.ends_with("000") {
            s.truncate(s.len() - 3);
        }
        let hierarchy_error = |s: &str| CodeError::InvalidPart {
            kind: KIND,
            part: super::CodePart::RegionHierarchy,
            value: s.to_string(),
        };
        let prefecture = slice(&s, 2..4);
        let county = slice(&s, 4..6);
        if prefecture == "00" && county != "00" {
            return Err(hierarchy_error(&s));
        }
        if s.len() > 6 && prefecture == "00" {
            // A township directly under a province does not exist.
            return Err(hierarchy_error(&s));
        }
        if s.len() == 12 && slice(&s, 6..9) == "000" {
            // A village needs its township.
            return Err(hierarchy_error(&s));
        }
        Ok(RegionCode(s))
    }

    fn from_valid(s: String) -> Self {
        RegionCode(s)
    }

    /// The level of the region.
    pub fn level(&self) -> RegionLevel {
        match self.0.len() {
            12 => RegionLevel::Village,
            9 => RegionLevel::Township,
            _ if slice(&self.0, 2..6) == "0000" => RegionLevel::Province,
            _ if slice(&self.0, 4..6) == "00" => RegionLevel::Prefecture,
            _ => RegionLevel::County,
        }
    }

    /// The region one level up, `None` for a province. The parent of a township is the
    /// 6-digit code it extends (a county, or a prefecture without counties).
    pub fn parent(&self) -> Option<RegionCode> {
        let s = &self.0;
        match self.level() {
            RegionLevel::Province => None,
            RegionLevel::Prefecture => Some(Self::from_valid(format!("{}0000", slice(s, 0..2)))),
            RegionLevel::County => Some(Self::from_valid(format!("{}00", slice(s, 0..4)))),
            RegionLevel::Township => Some(Self::from_valid(slice(s, 0..6).to_string())),
            RegionLevel::Village => Some(Self::from_valid(slice(s, 0..9).to_string())),
        }
    }

    /// The province the region belongs to (itself for a province).
    pub fn province(&self) -> RegionCode {
        Self::from_valid(format!("{}0000", slice(&self.0, 0..2)))
    }

    /// The prefecture the region belongs to (itself for a prefecture), `None` for a province.
    pub fn prefecture(&self) -> Option<RegionCode> {
        match self.level() {
            RegionLevel::Province => None,
            _ => Some(Self::from_valid(format!("{}00", slice(&self.0, 0..4)))),
        }
    }

    /// The county the region belongs to (itself for a county), `None` above county level and
    /// for townships of a prefecture without counties.
    pub fn county(&self) -> Option<RegionCode> {
        match self.level() {
            RegionLevel::Province | RegionLevel::Prefecture => None,
            _ if slice(&self.0, 4..6) == "00" => None,
            _ => Some(Self::from_valid(slice(&self.0, 0..6).to_string())),
        }
    }

    /// The chain from the province down to this region, both included:
    /// `430102` gives `[430000, 430100, 430102]`.
    pub fn ancestors(&self) -> Vec<RegionCode> {
        let mut chain = vec![self.clone()];
        let mut current = self.clone();
        while let Some(parent) = current.parent() {
            chain.push(parent.clone());
            current = parent;
        }
        chain.reverse();
        chain
    }

    /// Whether `self` is `other` or one of its ancestors (a province contains its
    /// prefectures, counties, townships and villages).
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.ancestors().iter().any(|a| a == self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::codes::testgen;
    use proptest::prelude::*;

    fn r(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn levels_of_hunan() {
        assert_eq!(r("430000").level(), RegionLevel::Province);
        assert_eq!(r("430100").level(), RegionLevel::Prefecture);
        assert_eq!(r("431100").level(), RegionLevel::Prefecture);
        assert_eq!(r("430102").level(), RegionLevel::County);
        assert_eq!(r("430102001").level(), RegionLevel::Township);
        assert_eq!(r("430102001001").level(), RegionLevel::Village);
    }

    #[test]
    fn hierarchy() {
        assert_eq!(r("430102").parent(), Some(r("430100")));
        assert_eq!(r("430100").parent(), Some(r("430000")));
        assert_eq!(r("430000").parent(), None);
        assert_eq!(r("430102001").parent(), Some(r("430102")));
        assert_eq!(r("430102001002").parent(), Some(r("430102001")));
        assert_eq!(r("430902").province(), r("430000"));
        assert_eq!(r("430902").prefecture(), Some(r("430900")));
        assert_eq!(r("430900").prefecture(), Some(r("430900")));
        assert_eq!(r("430000").prefecture(), None);
        assert_eq!(r("430102001").county(), Some(r("430102")));
        assert_eq!(
            r("430102001").ancestors(),
            vec![r("430000"), r("430100"), r("430102"), r("430102001")]
        );
        assert!(r("430000").contains(&r("430102001")));
        assert!(r("430100").contains(&r("430100")));
        assert!(!r("430100").contains(&r("430300")));
        assert!(!r("430102").contains(&r("430100")));
        assert!(!r("430000").contains(&r("440300")));
    }

    #[test]
    fn prefecture_without_counties() {
        // 东莞市 441900 has townships directly.
        let town = r("441900003");
        assert_eq!(town.parent(), Some(r("441900")));
        assert_eq!(town.prefecture(), Some(r("441900")));
        assert_eq!(town.county(), None);
        assert_eq!(
            town.ancestors(),
            vec![r("440000"), r("441900"), town.clone()]
        );
    }

    #[test]
    fn padded_statistical_codes_are_shortened() {
        assert_eq!(r("430100000000").as_str(), "430100");
        assert_eq!(r(" 430102001000 ").as_str(), "430102001");
        assert_eq!(r("430102000").as_str(), "430102");
    }

    #[test]
    fn errors() {
        assert_eq!(
            RegionCode::parse("990000").unwrap_err(),
            CodeError::UnknownProvince {
                kind: KIND,
                code: "99".into()
            }
        );
        assert!(matches!(
            RegionCode::parse("16"),
            Err(CodeError::Length { .. })
        ));
        assert!(matches!(
            RegionCode::parse("4301A2"),
            Err(CodeError::InvalidChar { position: 5, .. })
        ));
        assert!(matches!(
            RegionCode::parse("430012"),
            Err(CodeError::InvalidPart { .. })
        ));
        assert!(matches!(
            RegionCode::parse("430000001"),
            Err(CodeError::InvalidPart { .. })
        ));
        assert!(matches!(
            RegionCode::parse("430102000001"),
            Err(CodeError::InvalidPart { .. })
        ));
        // Taiwan, Hong Kong and Macao are province-level codes.
        for code in ["710000", "810000", "820000"] {
            assert_eq!(r(code).level(), RegionLevel::Province);
        }
    }

    proptest! {
        #[test]
        fn generated_codes_round_trip(code in testgen::region_code()) {
            let parsed = RegionCode::parse(&code).unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
            prop_assert_eq!(RegionCode::parse(parsed.as_str()).unwrap(), parsed);
        }

        #[test]
        fn ancestors_are_valid_and_contain(code in testgen::region_code()) {
            let region = RegionCode::parse(&code).unwrap();
            let chain = region.ancestors();
            prop_assert_eq!(chain.first(), Some(&region.province()));
            prop_assert_eq!(chain.last(), Some(&region));
            for pair in chain.windows(2) {
                prop_assert!(pair[0].level() < pair[1].level());
                prop_assert_eq!(pair[1].parent(), Some(pair[0].clone()));
            }
            for a in &chain {
                prop_assert_eq!(RegionCode::parse(a.as_str()), Ok(a.clone()));
                prop_assert!(a.contains(&region));
                prop_assert_eq!(region.contains(a), a == &region);
            }
        }

        #[test]
        fn random_input_never_panics(s in ".{0,20}", t in "[0-9]{5,13}") {
            let _ = RegionCode::parse(&s);
            let _ = RegionCode::parse(&t);
        }
    }
}
