//! Proptest generators of valid codes, shared by the tests of the code modules.
//!
//! Each generator builds a code from its parts with an independent implementation of the
//! check algorithm where it is short, so a bug in a parser is not mirrored by its generator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Days, NaiveDate};
use proptest::prelude::*;

use super::PROVINCE_CODES;
use crate::dict::ItemType;

use super::SubItem;

const USCI_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9]{{{n}}}")).unwrap()
}

fn province() -> impl Strategy<Value = &'static str> {
    prop::sample::select(PROVINCE_CODES)
}

/// An 18-character ID number born between `from` and `to`.
fn id_card_between(from: NaiveDate, to: NaiveDate) -> impl Strategy<Value = String> {
    let span = (to - from).num_days() as u64;
    (province(), digits(4), 0..=span, digits(3)).prop_map(move |(p, area, day, seq)| {
        let date = from.checked_add_days(Days::new(day)).unwrap();
        let first17 = format!("{p}{area}{}{seq}", date.format("%Y%m%d"));
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = first17
            .bytes()
            .zip(weights)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        let check = b"10X98765432"[(sum % 11) as usize] as char;
        format!("{first17}{check}")
    })
}

/// A valid 18-character ID number (birth years 1800-2100).
pub fn id_card() -> impl Strategy<Value = String> {
    id_card_between(
        NaiveDate::from_ymd_opt(1800, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2100, 12, 31).unwrap(),
    )
}

/// A valid 18-character ID number born in the 1900s (convertible from 15 digits).
pub fn id_card_19xx() -> impl Strategy<Value = String> {
    id_card_between(
        NaiveDate::from_ymd_opt(1900, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(1999, 12, 31).unwrap(),
    )
}

fn org_check(body: &str) -> char {
    let weights = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(weights)
        .map(|(b, w)| (b as char).to_digit(36).unwrap() * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        c => char::from_digit(c, 10).unwrap(),
    }
}

/// A valid 9-character organisation code (body of digits and any capital letters).
pub fn org_code() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[0-9A-Z]{8}")
        .unwrap()
        .prop_map(|body| format!("{body}{}", org_check(&body)))
}

fn usci_char() -> impl Strategy<Value = char> {
    prop::sample::select(USCI_ALPHABET.as_slice()).prop_map(char::from)
}

/// A valid 18-character credit code.
pub fn credit_code() -> impl Strategy<Value = String> {
    (
        usci_char(),
        usci_char(),
        digits(6),
        prop::collection::vec(usci_char(), 8),
    )
        .prop_map(|(a, c, region, body)| {
            let body: String = body.into_iter().collect();
            let first17 = format!("{a}{c}{region}{body}{}", org_check(&body));
            let weights = [
                1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
            ];
            let sum: u32 = first17
                .bytes()
                .zip(weights)
                .map(|(b, w)| USCI_ALPHABET.iter().position(|&x| x == b).unwrap() as u32 * w)
                .sum();
            let check = USCI_ALPHABET[((31 - sum % 31) % 31) as usize] as char;
            format!("{first17}{check}")
        })
}

/// `code` with its character `at` (in the leading credit code) moved `by` places along the
/// credit code alphabet.
pub fn substitute_credit_char(code: &str, at: usize, by: usize) -> String {
    let mut bytes = code.as_bytes().to_vec();
    let old = USCI_ALPHABET.iter().position(|&b| b == bytes[at]).unwrap();
    bytes[at] = USCI_ALPHABET[(old + by) % 31];
    String::from_utf8(bytes).unwrap()
}

/// A valid region code of any level, canonical (no zero padding).
pub fn region_code() -> impl Strategy<Value = String> {
    let nonzero2 = (1u32..100).prop_map(|n| format!("{n:02}"));
    let nonzero3 = (1u32..1000).prop_map(|n| format!("{n:03}"));
    (
        province(),
        nonzero2.clone(),
        nonzero2,
        nonzero3.clone(),
        nonzero3,
        0usize..6,
    )
        .prop_map(|(p, pref, county, town, village, shape)| match shape {
            0 => format!("{p}0000"),
            1 => format!("{p}{pref}00"),
            2 => format!("{p}{pref}{county}"),
            3 => format!("{p}{pref}{county}{town}"),
            4 => format!("{p}{pref}00{town}"),
            _ => format!("{p}{pref}{county}{town}{village}"),
        })
}

/// Parts of a valid basic code: area, item type, department, sequence, sub-item.
pub fn basic_parts() -> impl Strategy<Value = (String, ItemType, String, u16, SubItem)> {
    let area = prop_oneof![Just("00"), province()].prop_map(String::from);
    let sub = prop_oneof![
        Just(SubItem::None),
        Just(SubItem::HasSubItems),
        (1u16..=999).prop_map(SubItem::Sub),
    ];
    (
        area,
        prop::sample::select(ItemType::ALL),
        digits(2),
        0u16..=999,
        sub,
    )
}

/// Parts of a valid e-licence identifier: type authority credit code, 3-digit type suffix,
/// issuer credit code, serial (mixed case) and version.
pub fn licence_parts() -> impl Strategy<Value = (String, String, String, String, u16)> {
    (
        credit_code(),
        digits(3),
        credit_code(),
        proptest::string::string_regex("[0-9A-Za-z]{1,64}").unwrap(),
        0u16..=999,
    )
}

/// Parts of a valid GB/T 40058 project code: year, month, region, department, type, random.
pub fn project_parts() -> impl Strategy<Value = (u16, u8, String, String, String, u32)> {
    (
        2020u16..=2099,
        1u8..=12,
        digits(6),
        digits(2),
        digits(2),
        0u32..=99_999,
    )
}

/// A valid legacy project code (years 2013-2030, whose last two digits are not a month).
pub fn legacy_project_code() -> impl Strategy<Value = String> {
    (2013u32..=2030, digits(6), digits(2), 1u32..=3, digits(6)).prop_map(
        |(year, region, industry, kind, serial)| {
            format!("{year}-{region}-{industry}-{kind:02}-{serial}")
        },
    )
}
