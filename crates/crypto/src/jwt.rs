//! ID tokens for OpenID Connect relying parties: JWS compact serialization (RFC 7515) with
//! ES256 (ECDSA on P-256 with SHA-256, RFC 7518 §3.4: the signature is `r ‖ s`, 64 bytes).
//!
//! ES256 rather than an HMAC because relying parties are other organisations' systems: they
//! verify with our public key from the JWKS and can never mint tokens themselves. ES256 is
//! supported by every OIDC client library (authlib, jose, Spring, ...), its keys and signatures
//! are short, and signing is fast. SM2 would be our own national choice, but no standard JOSE
//! algorithm identifier exists for it, so standard clients could not verify it.
//!
//! Signing uses RFC 6979 deterministic nonces (no dependence on a good RNG at signing time).

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::CryptoError;
use crate::random::random_bytes;

/// The JWS algorithm this module signs and accepts.
pub const ALG: &str = "ES256";

/// A P-256 private key that signs ID tokens, with its key id (the RFC 7638 thumbprint).
/// `Debug` shows the kid only.
#[derive(Clone)]
pub struct EcSigningKey {
    key: SigningKey,
    kid: String,
    x: String,
    y: String,
}

impl fmt::Debug for EcSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcSigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl EcSigningKey {
    /// A new random key from the OS random source.
    pub fn generate() -> EcSigningKey {
        loop {
            // A random 256-bit string is a valid scalar (non-zero, below the group order) except
            // with probability about 2^-32; try again then.
            let mut bytes = random_bytes::<32>();
            let key = SigningKey::from_slice(&bytes);
            zeroize::Zeroize::zeroize(&mut bytes);
            if let Ok(key) = key {
                return EcSigningKey::from_key(key);
            }
        }
    }

    /// Reads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`), as written by
    /// [`EcSigningKey::to_pkcs8_pem`] or `openssl genpkey -algorithm EC -pkeyopt
    /// ec_paramgen_curve:P-256`.
    pub fn from_pkcs8_pem(pem: &str) -> Result<EcSigningKey, CryptoError> {
        SigningKey::from_pkcs8_pem(pem)
            .map(EcSigningKey::from_key)
            .map_err(|_| CryptoError::InvalidKey("not a PKCS#8 PEM P-256 private key".to_owned()))
    }

    /// The private key as PKCS#8 PEM, for storing it (encrypted) in the database.
    pub fn to_pkcs8_pem(&self) -> Result<String, CryptoError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.as_str().to_owned())
            .map_err(|_| CryptoError::Internal("PKCS#8 encoding failed"))
    }

    /// The public key as SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_key_pem(&self) -> Result<String, CryptoError> {
        self.key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| CryptoError::Internal("SPKI encoding failed"))
    }

    fn from_key(key: SigningKey) -> EcSigningKey {
        let point = key.verifying_key().to_sec1_point(false);
        // Uncompressed SEC1 is always 0x04 ‖ x (32 bytes) ‖ y (32 bytes) for a valid key.
        let (x, y) = match point.as_bytes() {
            [4, xy @ ..] if xy.len() == 64 => xy.split_at(32),
            _ => (&[][..], &[][..]),
        };
        let x = Base64UrlUnpadded::encode_string(x);
        let y = Base64UrlUnpadded::encode_string(y);
        let kid = thumbprint(&x, &y);
        EcSigningKey { key, kid, x, y }
    }

    /// The key id: the RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK for the JWKS document:
    /// `{"kty":"EC","crv":"P-256","x":..,"y":..,"kid":..,"use":"sig","alg":"ES256"}`.
    pub fn public_jwk(&self) -> Value {
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": self.x,
            "y": self.y,
            "kid": self.kid,
            "use": "sig",
            "alg": ALG,
        })
    }

    /// Signs `claims` (a JSON object) as a compact JWS with the header
    /// `{"alg":"ES256","typ":"JWT","kid":..}`.
    pub fn sign(&self, claims: &Value) -> Result<String, CryptoError> {
        if !claims.is_object() {
            return Err(CryptoError::Malformed("JWT claims must be a JSON object"));
        }
        let header = format!(r#"{{"alg":"{ALG}","typ":"JWT","kid":"{}"}}"#, self.kid);
        let payload = serde_json::to_vec(claims)
            .map_err(|_| CryptoError::Internal("claims do not serialize"))?;
        let mut out = Base64UrlUnpadded::encode_string(header.as_bytes());
        out.push('.');
        out.push_str(&Base64UrlUnpadded::encode_string(&payload));
        let sig: Signature = self.key.sign(out.as_bytes());
        out.push('.');
        out.push_str(&Base64UrlUnpadded::encode_string(&sig.to_bytes()));
        Ok(out)
    }
}

/// RFC 7638 thumbprint of an EC public key: SHA-256 over the required members in
/// lexicographic order without whitespace, base64url.
fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    Base64UrlUnpadded::encode_string(&Sha256::digest(canonical.as_bytes()))
}

fn decode_json_object(part: &str, what: &'static str) -> Result<Map<String, Value>, CryptoError> {
    let bytes = Base64UrlUnpadded::decode_vec(part).map_err(|_| CryptoError::Malformed(what))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(CryptoError::Malformed(what)),
    }
}

/// The verifying key of a JWK, if it is a P-256 EC key usable for ES256 signatures.
fn jwk_key(jwk: &Value) -> Option<VerifyingKey> {
    let s = |name: &str| jwk.get(name).and_then(Value::as_str);
    if s("kty") != Some("EC") || s("crv") != Some("P-256") {
        return None;
    }
    if jwk.get("alg").is_some_and(|a| a.as_str() != Some(ALG)) {
        return None;
    }
    if jwk.get("use").is_some_and(|u| u.as_str() != Some("sig")) {
        return None;
    }
    let x = Base64UrlUnpadded::decode_vec(s("x")?).ok()?;
    let y = Base64UrlUnpadded::decode_vec(s("y")?).ok()?;
    if x.len() != 32 || y.len() != 32 {
        return None;
    }
    let mut sec1 = Vec::with_capacity(65);
    sec1.push(4);
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    VerifyingKey::from_sec1_bytes(&sec1).ok()
}

/// Verifies an ES256 compact JWS against a JWKS (`keys` array members) and returns its claims.
///
/// The key is chosen by the header's `kid` (without a `kid`, the JWKS must hold exactly one
/// key). Rejected: any `alg` but `ES256` (`none`, `HS256`, `RS256`, ...), a `crit` header,
/// malformed base64url or JSON, a signature that is not 64 bytes or does not verify, and
/// claims that are not a JSON object. Time claims (`exp`, `nbf`, `iat`) are the caller's.
pub fn verify_es256(token: &str, jwks: &[Value]) -> Result<Value, CryptoError> {
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CryptoError::Malformed("JWS: not three dot-separated parts"));
    };
    let header = decode_json_object(h64, "JWS header: not base64url JSON object")?;
    match header.get("alg").and_then(Value::as_str) {
        Some(ALG) => {}
        Some(other) => return Err(CryptoError::Algorithm(other.to_owned())),
        None => return Err(CryptoError::Algorithm(String::new())),
    }
    if header.contains_key("crit") {
        return Err(CryptoError::Malformed(
            "JWS: critical header parameters unsupported",
        ));
    }
    let key = match header.get("kid") {
        Some(Value::String(kid)) => jwks
            .iter()
            .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
            .and_then(jwk_key)
            .ok_or_else(|| CryptoError::UnknownKid(kid.clone()))?,
        Some(_) => return Err(CryptoError::Malformed("JWS header: kid is not a string")),
        None => match jwks {
            [only] => jwk_key(only).ok_or_else(|| CryptoError::UnknownKid(String::new()))?,
            _ => return Err(CryptoError::UnknownKid(String::new())),
        },
    };
    let mut sig_bytes = [0u8; 64];
    match Base64UrlUnpadded::decode(s64, &mut sig_bytes) {
        Ok(s) if s.len() == 64 => {}
        _ => {
            return Err(CryptoError::Malformed(
                "JWS signature: not 64 bytes of base64url",
            ));
        }
    }
    let sig = Signature::from_slice(&sig_bytes).map_err(|_| CryptoError::BadSignature)?;
    let signing_input = &token[..h64.len() + 1 + p64.len()];
    key.verify(signing_input.as_bytes(), &sig)
        .map_err(|_| CryptoError::BadSignature)?;
    decode_json_object(p64, "JWS payload: not base64url JSON object").map(Value::Object)
}
