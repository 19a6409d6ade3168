//! 电子证照标识 (e-licence identifier), GB/T 36904-2018.
//!
//! `1.2.156.3005.2.{证照类型代码}.{颁发机构代码}.{流水号}.{版本号}.{校验位}`:
//!
//! - `1.2.156.3005.2`: the root OID of e-licences ([`LICENCE_ROOT`]).
//! - 证照类型代码, 21 characters: the [`CreditCode`] of the authority that defines the licence
//!   type + 3 digits (e.g. `11100000000013338W011`).
//! - 颁发机构代码: the issuer's [`CreditCode`].
//! - 流水号: a serial assigned by the issuing system. Implementations differ (11 digits
//!   `20230000403`, 10 digits `2025052201`, 20 random capitals and digits, a 32-character
//!   hexadecimal UUID), so any 1 to 64 digits or capital letters are accepted (lowercase is
//!   uppercased, as the check alphabet is case-insensitive).
//! - 版本号: 3 digits (`001` for the first issue).
//! - 校验位: ISO/IEC 7064 MOD 37,36 ([`mod37_36_check_char`]) over the four fields joined
//!   without dots.
//!
//! The check algorithm is the one of the e-licence implementations we found (an
//! `ISO_7064_MOD_37_HYBRID_36` call over `type + issuer + serial + version`), and it reproduces
//! the check characters of identifiers published by 住房和城乡建设部 documentation and the
//! Zhejiang investment project platform (see the tests). Identifiers whose issuer field is not
//! a credit code (seen in some test data, e.g. a region code) are refused.

use super::{CodeError, CodeKind, CodePart, CreditCode, code_newtype, digits_value};
use super::{mod37_36_check_char, normalise, slice};

const KIND: CodeKind = CodeKind::LicenceId;

/// The root OID of e-licence identifiers.
pub const LICENCE_ROOT: &str = "1.2.156.3005.2";

const MAX_SERIAL_LEN: usize = 64;

/// A valid 电子证照标识.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LicenceId(String);

code_newtype!(LicenceId);

fn invalid(part: CodePart, value: &str) -> CodeError {
    CodeError::InvalidPart {
        kind: KIND,
        part,
        value: value.to_string(),
    }
}

impl LicenceId {
    /// Parses an identifier with its root and five fields.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let s = normalise(input, KIND)?;
        let root = format!("{LICENCE_ROOT}.");
        let Some(rest) = s.strip_prefix(&root) else {
            let shown: String = s.chars().take(root.len()).collect();
            return Err(invalid(CodePart::LicenceRoot, &shown));
        };
        let fields: Vec<&str> = rest.split('.').collect();
        let [type_code, issuer, serial, version, check] = fields.as_slice() else {
            return Err(invalid(CodePart::LicenceFields, &s));
        };
        // Byte offsets of each field in `s`, for error positions.
        let type_at = root.len();
        let issuer_at = type_at + type_code.len() + 1;
        let serial_at = issuer_at + issuer.len() + 1;
        let version_at = serial_at + serial.len() + 1;
        let check_at = version_at + version.len() + 1;

        if type_code.len() != 21 {
            return Err(invalid(CodePart::LicenceType, type_code));
        }
        CreditCode::from_normalised(slice(type_code, 0..18).to_string())
            .map_err(|e| e.shifted(type_at))?;
        super::require_digits(&s, type_at + 18..type_at + 21, KIND)?;
        CreditCode::from_normalised((*issuer).to_string()).map_err(|e| e.shifted(issuer_at))?;
        if serial.is_empty() || serial.len() > MAX_SERIAL_LEN {
            return Err(invalid(CodePart::Serial, serial));
        }
        super::require_chars(&s, serial_at..serial_at + serial.len(), KIND, |b| {
            b.is_ascii_digit() || b.is_ascii_uppercase()
        })?;
        if version.len() != 3 {
            return Err(invalid(CodePart::Version, version));
        }
        super::require_digits(&s, version_at..version_at + 3, KIND)?;
        if check.len() != 1 {
            return Err(invalid(CodePart::LicenceFields, &s));
        }
        super::require_chars(&s, check_at..check_at + 1, KIND, |b| {
            b.is_ascii_digit() || b.is_ascii_uppercase()
        })?;
        let expected =
            mod37_36_check_char(&format!("{type_code}{issuer}{serial}{version}")).unwrap_or('?');
        let found = check.chars().next().unwrap_or('?');
        if expected != found {
            return Err(CodeError::CheckMismatch {
                kind: KIND,
                expected,
                found,
            });
        }
        Ok(LicenceId(s))
    }

    /// Builds an identifier, computing its check character. `type_code` is the 21-character
    /// licence type code, `serial` 1 to 64 digits or letters, `version` 0-999.
    pub fn new(
        type_code: &str,
        issuer: &CreditCode,
        serial: &str,
        version: u16,
    ) -> Result<LicenceId, CodeError> {
        if version > 999 {
            return Err(invalid(CodePart::Version, &version.to_string()));
        }
        let type_code = type_code.trim().to_ascii_uppercase();
        let serial = serial.trim().to_ascii_uppercase();
        let body = format!("{type_code}{issuer}{serial}{version:03}");
        // A character outside the alphabet has no check; parse then reports it precisely.
        let check = mod37_36_check_char(&body).unwrap_or('0');
        Self::parse(&format!(
            "{LICENCE_ROOT}.{type_code}.{issuer}.{serial}.{version:03}.{check}"
        ))
    }

    fn field(&self, index: usize) -> &str {
        // Root has 5 dot-separated parts; fields follow. Validated by parse.
        self.0.split('.').nth(5 + index).unwrap_or("")
    }

    /// 证照类型代码 (21 characters).
    pub fn type_code(&self) -> &str {
        self.field(0)
    }

    /// The credit code of the authority that defines the licence type (first 18 characters of
    /// the type code).
    pub fn type_authority(&self) -> CreditCode {
        CreditCode::from_valid(slice(self.type_code(), 0..18))
    }

    /// 颁发机构代码: the issuer's credit code.
    pub fn issuer(&self) -> CreditCode {
        CreditCode::from_valid(self.field(1))
    }

    /// 流水号.
    pub fn serial(&self) -> &str {
        self.field(2)
    }

    /// 版本号.
    pub fn version(&self) -> u16 {
        u16::try_from(digits_value(self.field(3))).unwrap_or(0)
    }

    /// 校验位.
    pub fn check_character(&self) -> char {
        self.field(4).chars().next().unwrap_or('?')
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::codes::testgen;
    use proptest::prelude::*;

    /// Published identifiers whose check character matches MOD 37,36.
    const PUBLISHED: &[&str] = &[
        // Format reference for 建筑施工企业安全生产管理人员考核合格证书 (住房和城乡建设部
        // data exchange standard, quoted in a public C# client).
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
        // A licence file name on the Zhejiang investment project platform (tzxm.zjzwfw.gov.cn).
        "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
    ];

    #[test]
    fn published_identifiers() {
        let id = LicenceId::parse(PUBLISHED[0]).unwrap();
        assert_eq!(id.type_code(), "11100000000013338W011");
        assert_eq!(id.type_authority().as_str(), "11100000000013338W");
        assert_eq!(id.issuer().as_str(), "11430000006122244L");
        assert_eq!(id.serial(), "20230000403");
        assert_eq!(id.version(), 1);
        assert_eq!(id.check_character(), 'U');
        assert_eq!(id.as_str(), PUBLISHED[0]);

        let id = LicenceId::parse(PUBLISHED[1]).unwrap();
        assert_eq!(id.version(), 2);
        assert_eq!(id.check_character(), '0');

        let rebuilt = LicenceId::new(
            "11100000000013338w011",
            &CreditCode::parse("11430000006122244L").unwrap(),
            "20230000403",
            1,
        )
        .unwrap();
        assert_eq!(rebuilt.as_str(), PUBLISHED[0]);
    }

    #[test]
    fn a_published_example_with_a_wrong_check_is_refused() {
        // An API documentation example (serial a hex UUID) whose check character does not fit:
        // MOD 37,36 gives 'D', the example says 'M'.
        let example = "1.2.156.3005.2.11100000000013661B006.113700000045046442.\
                       209FA4E88F9E4C878F3E9BED2CE7EA49.001.M";
        assert_eq!(
            LicenceId::parse(example).unwrap_err(),
            CodeError::CheckMismatch {
                kind: KIND,
                expected: 'D',
                found: 'M'
            }
        );
        let fixed = example.replace(".001.M", ".001.d");
        let id = LicenceId::parse(&fixed).unwrap();
        assert_eq!(id.serial(), "209FA4E88F9E4C878F3E9BED2CE7EA49");
    }

    #[test]
    fn errors() {
        assert!(matches!(
            LicenceId::parse("1.2.156.3005.3.11100000000013338W011.11430000006122244L.1.001.U"),
            Err(CodeError::InvalidPart {
                part: CodePart::LicenceRoot,
                ..
            })
        ));
        assert!(matches!(
            LicenceId::parse("1.2.156.3005.2.11100000000013338W011.11430000006122244L.001.U"),
            Err(CodeError::InvalidPart {
                part: CodePart::LicenceFields,
                ..
            })
        ));
        // Issuer that is a region code, as in some test data.
        assert!(
            LicenceId::parse("1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9")
                .is_err()
        );
        // Position of a bad serial character in the whole identifier.
        let bad = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.2023_0000403.001.U";
        assert_eq!(
            LicenceId::parse(bad).unwrap_err(),
            CodeError::InvalidChar {
                kind: KIND,
                position: 61,
                found: '_'
            }
        );
        assert!(matches!(
            LicenceId::parse(
                "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.01.U"
            ),
            Err(CodeError::InvalidPart {
                part: CodePart::Version,
                ..
            })
        ));
        let issuer = CreditCode::parse("11430000006122244L").unwrap();
        assert!(LicenceId::new("11100000000013338W011", &issuer, "", 1).is_err());
        assert!(LicenceId::new("11100000000013338W011", &issuer, "1", 1000).is_err());
        assert!(LicenceId::new("11100000000013338W01", &issuer, "1", 1).is_err());
        assert!(LicenceId::new("11100000000013338W011", &issuer, &"1".repeat(65), 1).is_err());
    }

    #[test]
    fn serde() {
        let json = format!("\"{}\"", PUBLISHED[0]);
        let id: LicenceId = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), json);
        assert!(serde_json::from_str::<LicenceId>(&json.replace(".U\"", ".V\"")).is_err());
    }

    proptest! {
        #[test]
        fn generated_identifiers_round_trip(
            (authority, suffix, issuer, serial, version) in testgen::licence_parts(),
        ) {
            let issuer = CreditCode::parse(&issuer).unwrap();
            let type_code = format!("{authority}{suffix}");
            let id = LicenceId::new(&type_code, &issuer, &serial, version).unwrap();
            prop_assert_eq!(LicenceId::parse(id.as_str()).unwrap(), id.clone());
            prop_assert_eq!(id.type_code(), type_code.as_str());
            prop_assert_eq!(id.issuer(), issuer);
            prop_assert_eq!(id.serial(), serial.to_ascii_uppercase());
            prop_assert_eq!(id.version(), version);
        }

        #[test]
        fn every_single_substitution_is_rejected(
            (authority, suffix, issuer, serial, version) in testgen::licence_parts(),
            at in any::<prop::sample::Index>(),
            by in 1usize..36,
        ) {
            let issuer = CreditCode::parse(&issuer).unwrap();
            let id = LicenceId::new(&format!("{authority}{suffix}"), &issuer, &serial, version)
                .unwrap();
            let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
            let mut bytes = id.as_str().as_bytes().to_vec();
            // Any character after the root, other than a dot, replaced by another of 0-9A-Z.
            let positions: Vec<usize> = (LICENCE_ROOT.len() + 1..bytes.len())
                .filter(|&i| bytes[i] != b'.')
                .collect();
            let i = positions[at.index(positions.len())];
            let old = alphabet.iter().position(|&b| b == bytes[i]).unwrap();
            bytes[i] = alphabet[(old + by) % 36];
            prop_assert!(LicenceId::parse(std::str::from_utf8(&bytes).unwrap()).is_err());
        }

        #[test]
        fn random_input_never_panics(s in ".{0,100}", t in "1\\.2\\.156\\.3005\\.2\\.[0-9A-Z.]{0,80}") {
            let _ = LicenceId::parse(&s);
            let _ = LicenceId::parse(&t);
        }
    }
}
