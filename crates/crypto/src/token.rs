//! Compact self-contained MAC tokens for the access tokens the platform issues and verifies
//! itself: `"yw1.<base64url payload>.<base64url HMAC-SM3 tag>"`.
//!
//! The tag is HMAC-SM3 (32 bytes) over the ASCII text `"yw1.<base64url payload>"`, under a key
//! derived from the 32-byte secret with HKDF-SM3 (label `token/hmac-sm3`). The payload is
//! opaque here; callers put JSON claims (`exp`, `sub`, ...) in it and check them after
//! [`TokenKey::verify`]. A symmetric MAC is right when issuer and verifier are the same
//! service: it is two orders of magnitude faster than a signature and the tokens are shorter.

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, Mac};
use sm3::Sm3;
use zeroize::Zeroize;

use crate::CryptoError;
use crate::kdf::derive;

const PREFIX: &str = "yw1.";
const TAG_LEN: usize = 32;
/// base64url length of a 32-byte tag.
const TAG_B64_LEN: usize = 43;

/// The key that signs and verifies access tokens. `Debug` does not print it.
#[derive(Clone)]
pub struct TokenKey {
    /// HMAC-SM3 already keyed; cloned per use, which saves hashing the key for each token.
    mac: Hmac<Sm3>,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// A token key from a 32-byte secret (e.g. [`crate::random::random_bytes`]).
    pub fn from_secret(secret: &[u8; 32]) -> TokenKey {
        let mut key = derive::<32>(secret, "token/hmac-sm3");
        let mac = crate::kdf::hmac_sm3(&key);
        key.zeroize();
        TokenKey { mac }
    }

    /// A token key from a secret written as 64 hex digits (configuration).
    pub fn from_hex(secret_hex: &str) -> Result<TokenKey, CryptoError> {
        let mut secret = [0u8; 32];
        hex::decode_to_slice(secret_hex.trim(), &mut secret).map_err(|_| {
            CryptoError::KeySpec("a token secret is 64 hex digits (32 bytes)".to_owned())
        })?;
        let key = TokenKey::from_secret(&secret);
        secret.zeroize();
        Ok(key)
    }

    /// `"yw1.<base64url payload>.<base64url tag>"`.
    pub fn sign(&self, payload: &[u8]) -> String {
        let mut out =
            String::with_capacity(PREFIX.len() + payload.len() * 4 / 3 + 2 + TAG_B64_LEN + 1);
        out.push_str(PREFIX);
        out.push_str(&Base64UrlUnpadded::encode_string(payload));
        let mut mac = self.mac.clone();
        mac.update(out.as_bytes());
        let tag = mac.finalize().into_bytes();
        out.push('.');
        out.push_str(&Base64UrlUnpadded::encode_string(&tag));
        out
    }

    /// Checks the tag (in constant time) and returns the payload.
    pub fn verify(&self, token: &str) -> Result<Vec<u8>, CryptoError> {
        if !token.starts_with(PREFIX) {
            return Err(CryptoError::Malformed("token: not a yw1 token"));
        }
        let (signed, tag_b64) = token
            .rsplit_once('.')
            .ok_or(CryptoError::Malformed("token: no tag"))?;
        let payload_b64 = signed
            .get(PREFIX.len()..)
            .ok_or(CryptoError::Malformed("token: no payload"))?;
        if payload_b64.contains('.') || tag_b64.len() != TAG_B64_LEN {
            return Err(CryptoError::Malformed("token: wrong shape"));
        }
        let mut tag = [0u8; TAG_LEN];
        Base64UrlUnpadded::decode(tag_b64, &mut tag)
            .map_err(|_| CryptoError::Malformed("token: bad base64url tag"))?;
        let mut mac = self.mac.clone();
        mac.update(signed.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| CryptoError::BadSignature)?;
        Base64UrlUnpadded::decode_vec(payload_b64)
            .map_err(|_| CryptoError::Malformed("token: bad base64url payload"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_reject() {
        let key = TokenKey::from_secret(&[7u8; 32]);
        let t = key.sign(br#"{"sub":"u1","exp":1900000000}"#);
        assert!(t.starts_with("yw1."));
        assert_eq!(t.split('.').count(), 3);
        assert_eq!(key.verify(&t).unwrap(), br#"{"sub":"u1","exp":1900000000}"#);
        let other = TokenKey::from_secret(&[8u8; 32]);
        assert_eq!(other.verify(&t), Err(CryptoError::BadSignature));
        assert!(key.verify("yw1..").is_err());
        assert!(key.verify("").is_err());
        assert!(key.verify("yw2.e30.AAAA").is_err());
        assert_eq!(key.verify(&key.sign(b"")).unwrap(), b"");
        assert_eq!(format!("{key:?}"), "TokenKey(..)");
    }
}
