//! Hybrid check character systems of ISO/IEC 7064 (GB/T 17710): MOD 11,10 and MOD 37,36.
//!
//! A hybrid system MOD (M+1),M runs a state `P` through the characters: start with `P = M`;
//! for each character of value `a`, `S = (P + a) mod M` (a result of 0 counts as `M`) and
//! `P = 2S mod (M+1)`. The check character is the `c` that makes `(P + c) mod M = 1`.
//! Every step is a bijection of the state, so any single substituted character (the check
//! character included) changes the result: single substitution errors are always detected.
//!
//! - MOD 37,36 over `0-9A-Z` is the check character of the e-licence identifier
//!   (电子证照标识, GB/T 36904) in the implementations we have seen.
//! - MOD 11,10 over `0-9` is the check digit of the GB/T 40058-2021 investment project code
//!   (verified against published codes, see [`crate::codes::ProjectCode`]).
//!
//! Published vectors (python-stdnum's doctests of the standard): MOD 37,36 of
//! `A12425GABC1234002` is `M`; MOD 11,10 of `0794` is `5` and of `00200667308` is `5`.

const ALPHANUMERIC: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The check value (0..M) of a hybrid MOD (M+1),M system over `values` (each in 0..M).
fn hybrid_check_value(values: impl IntoIterator<Item = u32>, modulus: u32) -> u32 {
    let mut p = modulus;
    for value in values {
        let mut s = (p + value) % modulus;
        if s == 0 {
            s = modulus;
        }
        p = (s * 2) % (modulus + 1);
    }
    (modulus + 1 - p) % modulus
}

/// The value of a `0-9A-Z` character (case-insensitive), `None` for anything else.
pub(crate) fn alphanumeric_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 10),
        _ => None,
    }
}

/// The ISO/IEC 7064 MOD 37,36 check character of `s` (digits and letters, case-insensitive),
/// or `None` if `s` has another character.
///
/// ```
/// use yiwang_domain::codes::mod37_36_check_char;
/// assert_eq!(mod37_36_check_char("A12425GABC1234002"), Some('M'));
/// ```
pub fn mod37_36_check_char(s: &str) -> Option<char> {
    let values = s
        .bytes()
        .map(alphanumeric_value)
        .collect::<Option<Vec<u32>>>()?;
    let check = hybrid_check_value(values, 36);
    ALPHANUMERIC
        .get(usize::try_from(check).ok()?)
        .map(|&b| char::from(b))
}

/// The ISO/IEC 7064 MOD 11,10 check digit of `s` (decimal digits), or `None` if `s` has
/// another character.
///
/// ```
/// use yiwang_domain::codes::mod11_10_check_digit;
/// assert_eq!(mod11_10_check_digit("0794"), Some('5'));
/// ```
pub fn mod11_10_check_digit(s: &str) -> Option<char> {
    let values = s
        .bytes()
        .map(|b| b.is_ascii_digit().then(|| u32::from(b - b'0')))
        .collect::<Option<Vec<u32>>>()?;
    char::from_digit(hybrid_check_value(values, 10), 10)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn published_vectors() {
        // python-stdnum, stdnum/iso7064/mod_37_36.py and tests/test_iso7064.doctest.
        assert_eq!(mod37_36_check_char("A12425GABC1234002"), Some('M'));
        assert_eq!(mod37_36_check_char("a12425gabc1234002"), Some('M'));
        assert_eq!(mod11_10_check_digit("0794"), Some('5'));
        assert_eq!(mod11_10_check_digit("00200667308"), Some('5'));
        assert_eq!(mod11_10_check_digit("00200667309"), Some('3'));
        assert_eq!(mod11_10_check_digit("00200667310"), Some('8'));
        assert_eq!(mod11_10_check_digit("00200667311"), Some('6'));
        assert_eq!(mod11_10_check_digit("00200667312"), Some('4'));
        assert_eq!(mod11_10_check_digit("1232"), Some('3'));
        assert_eq!(mod11_10_check_digit("54679"), Some('4'));
    }

    #[test]
    fn foreign_characters_have_no_check() {
        assert_eq!(mod37_36_check_char("AB-12"), None);
        assert_eq!(mod37_36_check_char("中"), None);
        assert_eq!(mod11_10_check_digit("12A"), None);
    }

    /// Whether `s` followed by its own check character satisfies the hybrid system.
    fn valid_37_36(full: &str) -> bool {
        let (body, check) = full.split_at(full.len() - 1);
        mod37_36_check_char(body).map(String::from) == Some(check.to_string())
    }

    proptest! {
        #[test]
        fn mod37_36_detects_every_single_substitution(
            body in "[0-9A-Z]{1,60}",
            at in any::<prop::sample::Index>(),
            by in 1usize..36,
        ) {
            let check = mod37_36_check_char(&body).unwrap();
            let mut full: Vec<u8> = format!("{body}{check}").into_bytes();
            prop_assert!(valid_37_36(std::str::from_utf8(&full).unwrap()));
            let i = at.index(full.len());
            let old = alphanumeric_value(full[i]).unwrap() as usize;
            full[i] = ALPHANUMERIC[(old + by) % 36];
            prop_assert!(!valid_37_36(std::str::from_utf8(&full).unwrap()));
        }

        #[test]
        fn mod11_10_detects_every_single_substitution(
            body in "[0-9]{1,40}",
            at in any::<prop::sample::Index>(),
            by in 1u8..10,
        ) {
            let check = mod11_10_check_digit(&body).unwrap();
            let mut full: Vec<u8> = format!("{body}{check}").into_bytes();
            let i = at.index(full.len());
            full[i] = b'0' + (full[i] - b'0' + by) % 10;
            let (b, c) = full.split_at(full.len() - 1);
            let b = std::str::from_utf8(b).unwrap();
            prop_assert_ne!(mod11_10_check_digit(b), Some(char::from(c[0])));
        }

        #[test]
        fn never_panics(s in ".*") {
            let _ = mod37_36_check_char(&s);
            let _ = mod11_10_check_digit(&s);
        }
    }
}
