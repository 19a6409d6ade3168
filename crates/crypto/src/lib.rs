//! The cryptography engine of Yiwang: field encryption of personal data at rest (SM4-GCM) with
//! blind indexes, display masking, the audit log's SM3 hash chain, compact HMAC-SM3 access
//! tokens, ES256 ID tokens for OpenID Connect relying parties, TOTP second factors (RFC 6238),
//! SM2 seal signatures with a fast table-driven verifier, and OS randomness.
//!
//! Like every engine this crate knows nothing of HTTP, SQL or async runtimes: it turns bytes and
//! text into bytes and text. Keys come in as text (hex secrets, PKCS#8 PEM) so the services
//! can keep them in configuration or in the database. Every fallible function returns
//! [`CryptoError`]; nothing panics on bad input.

pub mod chain;
mod error;
pub mod jwt;
pub mod mask;
pub mod pii;
pub mod random;
pub mod seal;
pub mod token;
pub mod totp;

mod kdf;

pub use chain::ChainBreak;
pub use error::CryptoError;
pub use jwt::{EcSigningKey, verify_es256};
pub use pii::KeyRing;
pub use token::TokenKey;

/// Compares two byte strings in constant time (for codes, tags and tokens).
pub fn eq_constant_time(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
