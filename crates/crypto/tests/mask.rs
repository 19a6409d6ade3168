//! Masking never shows more than its rule allows and never panics, whatever the text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use yiwang_crypto::mask::{mask_credit_code, mask_id_number, mask_name, mask_phone};

/// Checks that `masked` has as many chars as `value`, equals it in at most the first `head`
/// and last `tail` positions, and is `*` everywhere else.
fn reveals_at_most(
    value: &str,
    masked: &str,
    head: usize,
    tail: usize,
) -> Result<(), TestCaseError> {
    let v: Vec<char> = value.chars().collect();
    let m: Vec<char> = masked.chars().collect();
    prop_assert_eq!(v.len(), m.len());
    let n = v.len();
    for i in 0..n {
        let visible = i < head || i + tail >= n;
        if visible {
            prop_assert!(m[i] == v[i] || m[i] == '*');
        } else {
            prop_assert_eq!(m[i], '*');
        }
    }
    // At least one character is hidden (unless it is a star itself).
    if n > 0 {
        prop_assert!(m.contains(&'*'), "{value:?} shown whole");
    }
    Ok(())
}

proptest! {
    #[test]
    fn id_number(value in any::<String>()) {
        reveals_at_most(&value, &mask_id_number(&value), 4, 4)?;
    }

    #[test]
    fn id_number_like(value in "[0-9]{6,20}[0-9X]?") {
        reveals_at_most(&value, &mask_id_number(&value), 4, 4)?;
    }

    #[test]
    fn phone(value in any::<String>()) {
        reveals_at_most(&value, &mask_phone(&value), 3, 4)?;
    }

    #[test]
    fn name(value in any::<String>()) {
        reveals_at_most(&value, &mask_name(&value), 1, 1)?;
    }

    #[test]
    fn chinese_name(value in "[\u{4e00}-\u{9fa5}·]{0,8}") {
        let masked = mask_name(&value);
        reveals_at_most(&value, &masked, 1, 1)?;
        let n = value.chars().count();
        if n >= 2 {
            prop_assert_eq!(masked.chars().next(), value.chars().next());
        }
    }

    #[test]
    fn credit_code(value in any::<String>()) {
        reveals_at_most(&value, &mask_credit_code(&value), 6, 4)?;
    }
}

#[test]
fn hides_at_least_half_of_typical_values() {
    assert_eq!(mask_id_number("430102900101123").matches('*').count(), 7);
    assert_eq!(mask_phone("+8613812345678"), "+86*******5678");
    assert_eq!(mask_name("阿卜杜拉·买买提"), "阿******提");
    assert_eq!(mask_name("John Smith"), "J********h");
}
