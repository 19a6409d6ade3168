//! Access tokens: round trips, any change to a token is rejected, garbage never panics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use yiwang_crypto::{CryptoError, TokenKey};

fn key() -> TokenKey {
    TokenKey::from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").unwrap()
}

#[test]
fn hex_secrets_are_checked() {
    assert!(TokenKey::from_hex("00").is_err());
    assert!(TokenKey::from_hex(&"zz".repeat(32)).is_err());
    let a = key().sign(b"x");
    let mut secret = [0u8; 32];
    for (i, b) in secret.iter_mut().enumerate() {
        *b = i as u8;
    }
    assert_eq!(TokenKey::from_secret(&secret).sign(b"x"), a);
}

proptest! {
    #[test]
    fn round_trip(payload in any::<Vec<u8>>()) {
        let token = key().sign(&payload);
        prop_assert!(token.is_ascii());
        prop_assert_eq!(key().verify(&token).unwrap(), payload);
    }

    #[test]
    fn any_changed_character_is_rejected(
        payload in any::<Vec<u8>>(),
        pos in any::<prop::sample::Index>(),
        c in "[A-Za-z0-9_.-]",
    ) {
        let token = key().sign(&payload);
        let i = pos.index(token.len());
        let mut bytes = token.clone().into_bytes();
        let c = c.as_bytes()[0];
        prop_assume!(bytes[i] != c);
        bytes[i] = c;
        let changed = String::from_utf8(bytes).unwrap();
        // A changed last tag character may only touch base64's unused low bits, which a strict
        // decoder rejects as non-canonical: either way it must not verify.
        prop_assert!(key().verify(&changed).is_err(), "{changed}");
    }

    #[test]
    fn garbage_never_panics(text in any::<String>()) {
        let r = key().verify(&text);
        prop_assert!(r.is_err() || text.starts_with("yw1."));
    }
}

#[test]
fn wrong_key_is_bad_signature() {
    let token = key().sign(br#"{"exp":1}"#);
    assert_eq!(
        TokenKey::from_secret(&[1u8; 32]).verify(&token),
        Err(CryptoError::BadSignature)
    );
}
