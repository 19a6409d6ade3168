//! Key derivation: HKDF (RFC 5869) over SM3, one distinct label per use of a secret.

use hkdf::Hkdf;
use sm3::Sm3;

/// The HKDF salt shared by every derivation of this crate (a version tag, not a secret).
const SALT: &[u8] = b"yiwang-crypto/v1";

/// Derives a 32-byte key for `label` from a 32-byte secret.
pub(crate) fn derive<const N: usize>(secret: &[u8], label: &str) -> [u8; N] {
    let hk = Hkdf::<Sm3>::new(Some(SALT), secret);
    let mut out = [0u8; N];
    // N is at most a few dozen bytes, far below HKDF's limit of 255 × 32; the error cannot occur.
    if hk.expand(label.as_bytes(), &mut out).is_err() {
        out = [0u8; N];
    }
    out
}

/// HMAC-SM3 keyed with a 32-byte key. HMAC pads keys shorter than the hash's 64-byte block with
/// zeros (RFC 2104), so keying with the padded block is the same MAC, without a fallible call.
pub(crate) fn hmac_sm3(key: &[u8; 32]) -> hmac::Hmac<Sm3> {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let mac = <hmac::Hmac<Sm3> as hmac::KeyInit>::new((&block).into());
    zeroize::Zeroize::zeroize(&mut block);
    mac
}

#[cfg(test)]
mod tests {
    use hmac::{KeyInit, Mac};

    #[test]
    fn padded_key_is_the_same_hmac() {
        let key = [0x5au8; 32];
        let mut a = super::hmac_sm3(&key);
        let mut b = <hmac::Hmac<sm3::Sm3> as KeyInit>::new_from_slice(&key).unwrap();
        a.update(b"message");
        b.update(b"message");
        assert_eq!(a.finalize().into_bytes(), b.finalize().into_bytes());
    }

    #[test]
    fn labels_give_different_keys() {
        let s = [1u8; 32];
        assert_ne!(super::derive::<32>(&s, "a"), super::derive::<32>(&s, "b"));
    }
}
