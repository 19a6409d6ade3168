//! Field encryption and blind indexes: round trips, tamper detection, key rotation, errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64ct::{Base64UrlUnpadded, Encoding};
use proptest::prelude::*;
use yiwang_crypto::{CryptoError, KeyRing};

const K1: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
const K2: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn ring_old() -> KeyRing {
    KeyRing::parse(&format!("k1:{K1}")).unwrap()
}

fn ring_new() -> KeyRing {
    KeyRing::parse(&format!("k2:{K2},k1:{K1}")).unwrap()
}

#[test]
fn format_is_key_id_dollar_base64url() {
    let ring = ring_new();
    let sealed = ring.encrypt("citizen.phone", "13812345678").unwrap();
    let (id, body) = sealed.split_once('$').unwrap();
    assert_eq!(id, "k2");
    assert!(sealed.is_ascii());
    let raw = Base64UrlUnpadded::decode_vec(body).unwrap();
    assert_eq!(raw.len(), 12 + 11 + 16, "nonce + ciphertext + tag");
    assert_eq!(KeyRing::key_id_of(&sealed), Some("k2"));
    assert_eq!(ring.current_id(), "k2");
    // Random nonces: the same plaintext never seals to the same text twice.
    assert_ne!(
        sealed,
        ring.encrypt("citizen.phone", "13812345678").unwrap()
    );
}

#[test]
fn rotation_old_values_decrypt_and_need_rewrap() {
    let old = ring_old()
        .encrypt("citizen.id_number", "430102199001011234")
        .unwrap();
    let ring = ring_new();
    assert_eq!(
        ring.decrypt("citizen.id_number", &old).unwrap(),
        "430102199001011234"
    );
    assert!(ring.needs_rewrap(&old));
    let new = ring.rewrap("citizen.id_number", &old).unwrap().unwrap();
    assert!(!ring.needs_rewrap(&new));
    assert_eq!(ring.rewrap("citizen.id_number", &new).unwrap(), None);
    // The old ring does not know k2.
    assert_eq!(
        ring_old().decrypt("citizen.id_number", &new),
        Err(CryptoError::UnknownKey("k2".to_owned()))
    );
}

#[test]
fn wrong_field_and_garbage_are_errors() {
    let ring = ring_new();
    let sealed = ring
        .encrypt("citizen.id_number", "430102199001011234")
        .unwrap();
    assert_eq!(
        ring.decrypt("citizen.phone", &sealed),
        Err(CryptoError::Authentication)
    );
    // Same id, different secret: authentication fails.
    let impostor = KeyRing::parse(&format!("k2:{K1}")).unwrap();
    assert_eq!(
        impostor.decrypt("citizen.id_number", &sealed),
        Err(CryptoError::Authentication)
    );
    for bad in [
        "",
        "$",
        "k2$",
        "k2$AAAA",
        "k2$!!!!",
        "K2$AAAA",
        "nodollar",
        "k2$€€€",
    ] {
        assert!(ring.decrypt("citizen.id_number", bad).is_err(), "{bad}");
    }
    assert_eq!(KeyRing::key_id_of("Bad$x"), None);
    assert!(ring.needs_rewrap("garbage"));
}

#[test]
fn parse_rejects_bad_specs_without_echoing_secrets() {
    for bad in [
        "",
        "k1",
        &format!("k1:{}", &K1[..62]),
        &format!("K1:{K1}"),
        &format!("k1:{K1},k1:{K2}"),
        &format!("abcdefghijklmnopq:{K1}"),
        &format!("k1:{K1},"),
        &format!("k1:{}zz", &K1[..62]),
    ] {
        let err = KeyRing::parse(bad).unwrap_err();
        assert!(matches!(err, CryptoError::KeySpec(_)), "{bad}: {err:?}");
        assert!(!err.to_string().contains(&K1[..16]), "{err}");
    }
    let spaced = KeyRing::parse(&format!(" k2:{K2} , k1:{K1} ")).unwrap();
    assert_eq!(spaced.key_ids().collect::<Vec<_>>(), ["k2", "k1"]);
    let secret = KeyRing::generate_secret_hex();
    assert_eq!(secret.len(), 64);
    assert!(KeyRing::parse(&format!("a0:{secret}")).is_ok());
}

#[test]
fn blind_indexes_follow_the_ring() {
    let ring = ring_new();
    let bi = ring.blind_index("citizen.id_number", "430102199001011234");
    assert_eq!(bi.len(), 64);
    assert!(
        bi.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(
        bi,
        ring.blind_index("citizen.id_number", "430102199001011234")
    );
    assert_ne!(bi, ring.blind_index("citizen.phone", "430102199001011234"));
    let all = ring.blind_indexes("citizen.id_number", "430102199001011234");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], bi);
    // The old key's index is what rows written before the rotation carry.
    assert_eq!(
        all[1],
        ring_old().blind_index("citizen.id_number", "430102199001011234")
    );
}

proptest! {
    #[test]
    fn round_trip(field in "[a-z_.]{0,24}", plain in any::<String>()) {
        let ring = ring_new();
        let sealed = ring.encrypt(&field, &plain).unwrap();
        prop_assert_eq!(ring.decrypt(&field, &sealed).unwrap(), plain);
    }

    #[test]
    fn any_bit_flip_is_detected(plain in ".{0,40}", pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let ring = ring_new();
        let sealed = ring.encrypt("f", &plain).unwrap();
        let (id, body) = sealed.split_once('$').unwrap();
        let mut raw = Base64UrlUnpadded::decode_vec(body).unwrap();
        let i = pos.index(raw.len());
        raw[i] ^= 1 << bit;
        let tampered = format!("{id}${}", Base64UrlUnpadded::encode_string(&raw));
        prop_assert_eq!(ring.decrypt("f", &tampered), Err(CryptoError::Authentication));
    }

    #[test]
    fn truncation_is_detected(plain in ".{0,40}", cut in 1usize..60) {
        let ring = ring_new();
        let sealed = ring.encrypt("f", &plain).unwrap();
        let (id, body) = sealed.split_once('$').unwrap();
        let mut raw = Base64UrlUnpadded::decode_vec(body).unwrap();
        raw.truncate(raw.len().saturating_sub(cut));
        let tampered = format!("{id}${}", Base64UrlUnpadded::encode_string(&raw));
        prop_assert!(ring.decrypt("f", &tampered).is_err());
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let ring = ring_new();
        let _ = ring.decrypt("f", &text);
        let _ = KeyRing::key_id_of(&text);
        let _ = ring.needs_rewrap(&text);
        let _ = KeyRing::parse(&text);
    }
}
