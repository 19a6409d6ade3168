//! Randomness from the operating system (getrandom, the same crate `rand` uses here).

use base64ct::{Base64UrlUnpadded, Encoding};

use crate::CryptoError;

/// `N` random bytes from the OS, or an error when the OS cannot provide them.
pub fn try_random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| CryptoError::Internal("the OS random source failed"))?;
    Ok(buf)
}

/// `N` random bytes from the OS.
///
/// # Panics
/// When the operating system's random source fails (on Linux: never after boot). Going on
/// with predictable keys or nonces would be worse; this is the same choice `rand` makes.
#[allow(clippy::panic)]
pub fn random_bytes<const N: usize>() -> [u8; N] {
    match try_random_bytes::<N>() {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    }
}

/// A new random token: 32 bytes (256 bits) from the OS, base64url without padding (43 chars).
pub fn random_token() -> String {
    Base64UrlUnpadded::encode_string(&random_bytes::<32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_chars_and_differ() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
        assert_ne!(random_bytes::<16>(), [0u8; 16]);
    }
}
