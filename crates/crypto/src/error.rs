//! The crate's one error type.

/// Everything that can go wrong in this crate.
///
/// All variants but [`CryptoError::Internal`] describe bad input (a wrong key specification, a
/// tampered or malformed ciphertext or token); messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// A key ring specification or key secret could not be parsed.
    #[error("invalid key specification: {0}")]
    KeySpec(String),
    /// A ciphertext names a key id the ring does not hold.
    #[error("unknown key id `{0}`")]
    UnknownKey(String),
    /// Text that should be a ciphertext, token or JWS is not well formed.
    #[error("malformed input: {0}")]
    Malformed(&'static str),
    /// An authenticated ciphertext failed to verify: tampered, wrong key or wrong field.
    #[error("authentication failed (tampered, wrong key or wrong field)")]
    Authentication,
    /// A token's MAC or a JWS signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// A JWS names an algorithm other than the one expected (`none`, `HS256`, ...).
    #[error("unsupported or mismatched algorithm `{0}`")]
    Algorithm(String),
    /// No key of the JWKS matches the token's `kid`.
    #[error("no usable key for kid `{0}`")]
    UnknownKid(String),
    /// Key material (PEM, JWK) is not a valid key.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A fault of ours or of the platform, not of the input.
    #[error("internal cryptographic fault: {0}")]
    Internal(&'static str),
}

impl CryptoError {
    /// Whether this error is an internal fault rather than bad input.
    pub fn is_internal(&self) -> bool {
        matches!(self, CryptoError::Internal(_))
    }
}
