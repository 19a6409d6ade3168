//! The codes of the national standards, as types.
//!
//! Every code here is a newtype over a private `String` that can only be built by `parse` (also
//! `FromStr`, `TryFrom<&str>`, `TryFrom<String>` and serde `Deserialize`), so holding a value
//! means holding a valid code: the layers above never re-check a string.
//!
//! | type | code | standard |
//! |---|---|---|
//! | [`IdCardNumber`] | 公民身份号码 | GB 11643-1999 |
//! | [`OrgCode`] | 组织机构代码 | GB 11714-1997 |
//! | [`CreditCode`] | 统一社会信用代码 | GB 32100-2015 |
//! | [`RegionCode`] | 行政区划代码 | GB/T 2260 (and the statistical 9/12-digit extension) |
//! | [`BasicCode`], [`ImplementationCode`], [`BusinessItemCode`] | 事项基本编码 / 实施编码 / 业务办理项编码 | GB/T 39046-2020, ZWFW C0109 |
//! | [`LicenceId`] | 电子证照标识 | GB/T 36904-2018, check by ISO/IEC 7064 MOD 37,36 |
//! | [`ProjectCode`] | 投资项目代码 | GB/T 40058-2021 and the 2017 legacy form |
//!
//! Parsing is forgiving about presentation and strict about content: surrounding whitespace is
//! trimmed and lowercase letters are accepted and stored uppercase, but every character, part
//! and check character is verified. Errors are [`CodeError`] values that say what is wrong and
//! where (1-based character positions in the trimmed input), in English (`Display`) and Chinese
//! ([`CodeError::message_zh`]).

mod case_number;
mod credit_code;
mod error;
mod id_card;
pub mod iso7064;
mod item_code;
mod licence;
mod org_code;
mod project;
mod region;

#[cfg(test)]
mod testgen;

pub use case_number::{CaseNumber, MAX_DAILY_SEQUENCE};
pub use credit_code::CreditCode;
pub use error::{CodeError, CodeKind, CodePart};
pub use id_card::{IdCardNumber, MAX_BIRTH_YEAR, MIN_BIRTH_YEAR};
pub use iso7064::{mod11_10_check_digit, mod37_36_check_char};
pub use item_code::{BasicCode, BusinessItemCode, ImplementationCode, SubItem};
pub use licence::{LICENCE_ROOT, LicenceId};
pub use org_code::OrgCode;
pub use project::{ApprovalKind, ProjectCode};
pub use region::{PROVINCE_CODES, RegionCode, RegionLevel};

/// Implements the shared surface of a code newtype: `as_str`, `Display`, `AsRef<str>`,
/// `FromStr`, `TryFrom<&str>`, `TryFrom<String>`, `From<Self> for String`, and serde as a string
/// (deserialising parses, so an invalid code fails to deserialise).
///
/// The type must be a tuple struct over a `String` with an associated
/// `fn parse(&str) -> Result<Self, CodeError>`.
macro_rules! code_newtype {
    ($name:ident) => {
        impl $name {
            /// The code as its canonical string (trimmed, uppercase, no separators unless the
            /// code's canonical form has them).
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::codes::CodeError;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                $name::parse(s)
            }
        }

        impl ::std::convert::TryFrom<&str> for $name {
            type Error = $crate::codes::CodeError;

            fn try_from(s: &str) -> ::std::result::Result<Self, Self::Error> {
                $name::parse(s)
            }
        }

        impl ::std::convert::TryFrom<String> for $name {
            type Error = $crate::codes::CodeError;

            fn try_from(s: String) -> ::std::result::Result<Self, Self::Error> {
                $name::parse(&s)
            }
        }

        impl ::std::convert::From<$name> for String {
            fn from(code: $name) -> String {
                code.0
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(
                    deserializer,
                )?;
                $name::parse(&s).map_err(<D::Error as ::serde::de::Error>::custom)
            }
        }
    };
}
pub(crate) use code_newtype;

/// Trims the input, rejects an empty or non-ASCII code and uppercases ASCII letters.
///
/// After this every byte is one ASCII character, so byte offsets are character positions.
pub(crate) fn normalise(input: &str, kind: CodeKind) -> Result<String, CodeError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(CodeError::Empty { kind });
    }
    let mut out = String::with_capacity(trimmed.len());
    for (index, c) in trimmed.chars().enumerate() {
        if !c.is_ascii() {
            return Err(CodeError::InvalidChar {
                kind,
                position: index + 1,
                found: c,
            });
        }
        out.push(c.to_ascii_uppercase());
    }
    Ok(out)
}

/// Fails with [`CodeError::Length`] unless `s` has one of the `expected` lengths.
pub(crate) fn check_length(
    s: &str,
    kind: CodeKind,
    expected: &'static [usize],
) -> Result<(), CodeError> {
    if expected.contains(&s.len()) {
        Ok(())
    } else {
        Err(CodeError::Length {
            kind,
            expected,
            found: s.chars().count(),
        })
    }
}

/// Fails with [`CodeError::InvalidChar`] at the first byte of `s[range]` that is not an ASCII
/// digit. Positions are reported 1-based relative to the start of `s`.
pub(crate) fn require_digits(
    s: &str,
    range: std::ops::Range<usize>,
    kind: CodeKind,
) -> Result<(), CodeError> {
    require_chars(s, range, kind, |b| b.is_ascii_digit())
}

/// Fails with [`CodeError::InvalidChar`] at the first byte of `s[range]` that `ok` rejects.
pub(crate) fn require_chars(
    s: &str,
    range: std::ops::Range<usize>,
    kind: CodeKind,
    ok: impl Fn(u8) -> bool,
) -> Result<(), CodeError> {
    let bytes = s.as_bytes();
    for index in range {
        match bytes.get(index) {
            Some(&b) if ok(b) => {}
            Some(&b) => {
                return Err(CodeError::InvalidChar {
                    kind,
                    position: index + 1,
                    found: char::from(b),
                });
            }
            None => {
                return Err(CodeError::Length {
                    kind,
                    expected: &[],
                    found: bytes.len(),
                });
            }
        }
    }
    Ok(())
}

/// The decimal value of a run of ASCII digits (already validated; anything else counts as 0).
pub(crate) fn digits_value(s: &str) -> u32 {
    s.bytes().fold(0u32, |acc, b| {
        acc.saturating_mul(10)
            .saturating_add(u32::from(b.saturating_sub(b'0')).min(9))
    })
}

/// `s[range]`, or `""` when the range does not fit (never the case for a validated code; this
/// keeps accessors free of panics).
pub(crate) fn slice(s: &str, range: std::ops::Range<usize>) -> &str {
    s.get(range).unwrap_or("")
}
