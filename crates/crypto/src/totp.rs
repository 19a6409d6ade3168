//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1, 6 digits, 30-second
//! steps, the parameters every authenticator app understands.
//!
//! The caller passes the time (the services' injected clock), so verification is testable.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Seconds per step.
pub const STEP: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;

/// A new random 160-bit secret (RFC 4226 recommends 160 bits).
pub fn generate_secret() -> [u8; 20] {
    crate::random::random_bytes::<20>()
}

/// The HOTP code of `secret` at counter `step`.
pub fn code_at(secret: &[u8], step: u64) -> u32 {
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(secret) else {
        // HMAC accepts keys of any length; this branch is never taken.
        return u32::MAX;
    };
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h.last().copied().unwrap_or(0) & 0x0f);
    let bytes = [
        h.get(offset).copied().unwrap_or(0) & 0x7f,
        h.get(offset + 1).copied().unwrap_or(0),
        h.get(offset + 2).copied().unwrap_or(0),
        h.get(offset + 3).copied().unwrap_or(0),
    ];
    u32::from_be_bytes(bytes) % 10u32.pow(DIGITS)
}

/// The step of a Unix time.
pub fn step_of(unix_secs: i64) -> u64 {
    u64::try_from(unix_secs.max(0) / STEP).unwrap_or(0)
}

/// Checks a typed code against the steps within `window` of `unix_secs`; returns the
/// matching step (callers refuse steps already used, so a code works once).
pub fn verify(secret: &[u8], code: &str, unix_secs: i64, window: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let given: u32 = code.parse().ok()?;
    let now = step_of(unix_secs);
    let mut found = None;
    // Check every step of the window (no early exit), comparing in constant time.
    for step in now.saturating_sub(window)..=now.saturating_add(window) {
        let expected = format!("{:06}", code_at(secret, step));
        if crate::eq_constant_time(expected.as_bytes(), format!("{given:06}").as_bytes()) {
            found = Some(step);
        }
    }
    found
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (what authenticator apps take).
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for b in bytes {
        buffer = (buffer << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 (case-insensitive, spaces and padding ignored).
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.chars().filter(|c| !matches!(c, ' ' | '=' | '-')) {
        let v = BASE32
            .iter()
            .position(|x| char::from(*x) == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | v as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

fn uri_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `otpauth://totp/…` URI of the Key Uri Format that apps scan as a QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        uri_escape(issuer),
        uri_escape(account),
        base32(secret),
        uri_escape(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 6238 appendix B, SHA1 rows (8-digit codes there; the last 6 digits are ours).
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, code8) in [
            (59i64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(code_at(secret, step_of(t)), code8 % 1_000_000, "t={t}");
            assert_eq!(
                verify(secret, &format!("{:06}", code8 % 1_000_000), t, 0),
                Some(step_of(t))
            );
        }
    }

    #[test]
    fn window_and_bad_input() {
        let secret = b"12345678901234567890";
        let code = format!("{:06}", code_at(secret, step_of(1_000_000)));
        assert!(verify(secret, &code, 1_000_000 + 30, 1).is_some());
        assert!(verify(secret, &code, 1_000_000 + 90, 1).is_none());
        for bad in ["", "12345", "1234567", "abcdef", "12 345"] {
            assert!(verify(secret, bad, 1_000_000, 1).is_none());
        }
    }

    #[test]
    fn rfc4648_base32() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(from_base32("mzxw6ytboi======"), Some(b"foobar".to_vec()));
        assert!(from_base32("not base32!").is_none());
        let uri = otpauth_uri("一网通办", "admin", b"12345678901234567890");
        assert!(uri.starts_with("otpauth://totp/%E4%B8%80"));
        assert!(uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
    }

    proptest! {
        #[test]
        fn base32_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(from_base32(&base32(&bytes)), Some(bytes));
        }

        #[test]
        fn verify_never_panics(code in "\\PC{0,12}", t in any::<i64>()) {
            let _ = verify(b"k", &code, t, 1);
        }
    }
}
