//! Passwords of every account kind: Argon2id hashing with fixed, OWASP-level parameters, and
//! the password policy (密码策略).
//!
//! Parameters: Argon2id, 19 MiB of memory, 2 passes, 1 lane (the first of OWASP's
//! recommended configurations). Hashes are PHC strings, so the parameters travel with each
//! hash and can be raised later without invalidating old ones.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::{FieldError, ServiceError};

/// Memory cost in KiB.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Passes.
pub const PASSES: u32 = 2;
/// Lanes.
pub const LANES: u32 = 1;
/// Shortest acceptable password, in characters.
pub const MIN_LEN: usize = 8;
/// Longest acceptable password, in characters (hashing cost must stay bounded).
pub const MAX_LEN: usize = 128;

fn argon2() -> Result<Argon2<'static>, ServiceError> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|e| ServiceError::internal(format!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password (random salt).
pub fn hash(password: &str) -> Result<String, ServiceError> {
    argon2()?
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::internal(format!("argon2: {e}")))
}

/// Whether `password` matches the PHC `hash` (with the parameters stored in the hash).
pub fn verify(password: &str, hash: &str) -> bool {
    if password.chars().count() > MAX_LEN {
        return false;
    }
    PasswordHash::new(hash).ok().is_some_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Spends the time of one verification, so that an unknown account name answers as slowly as
/// a known one.
pub fn verify_dummy(password: &str) {
    let _ = verify(password, DUMMY_HASH);
}

/// A hash with the production parameters of a password nobody knows.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9Vd0uZQ3YQ1pd1CE6m7vYQk0kzxQ6kq1r1Yc3m0gS2A";

/// Passwords too common to allow whatever their length and mix.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "passw0rd",
    "p@ssw0rd",
    "12345678",
    "123456789",
    "1234567890",
    "qwerty123",
    "11111111",
    "88888888",
    "66666666",
    "abc12345",
    "abcd1234",
    "a1234567",
    "admin123",
    "admin@123",
    "iloveyou",
    "woaini1314",
    "1qaz2wsx",
    "qwertyuiop",
    "zxcvbnm123",
    "aa123456",
    "password@123",
    "welcome1",
    "yiwang@2026",
];

/// Checks a new password against the policy: 8–128 characters, at least three of lower case,
/// upper case, digits and other characters, not a common password, and not containing the
/// account's own identifiers (user name, phone number, ID number). Each failed rule is one
/// message naming the `field`.
pub fn check_policy(field: &str, password: &str, identifiers: &[&str]) -> Result<(), ServiceError> {
    let mut errors = Vec::new();
    let len = password.chars().count();
    if len < MIN_LEN {
        errors.push(FieldError::new(
            field,
            format!("密码至少 {MIN_LEN} 位"),
            format!("the password needs at least {MIN_LEN} characters"),
        ));
    }
    if len > MAX_LEN {
        errors.push(FieldError::new(
            field,
            format!("密码最多 {MAX_LEN} 位"),
            format!("the password may have at most {MAX_LEN} characters"),
        ));
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if classes < 3 {
        errors.push(FieldError::new(
            field,
            "密码须包含小写字母、大写字母、数字、符号中的至少三类",
            "use at least three of: lower case, upper case, digits, symbols",
        ));
    }
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        errors.push(FieldError::new(
            field,
            "这个密码太常见，请换一个",
            "this password is too common",
        ));
    }
    if identifiers
        .iter()
        .map(|i| i.trim().to_lowercase())
        .filter(|i| i.chars().count() >= 4)
        .any(|i| lower.contains(&i))
    {
        errors.push(FieldError::new(
            field,
            "密码不能包含用户名、手机号或证件号码",
            "the password must not contain your user name, phone or ID number",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_carry_their_parameters() {
        let h = hash("Secret#2026x").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("Secret#2026x", &h));
        assert!(!verify("Secret#2026y", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn the_policy_names_every_broken_rule() {
        assert!(check_policy("password", "Good#Pass1", &["wang"]).is_ok());
        let Err(ServiceError::Invalid(e)) = check_policy("password", "abc", &[]) else {
            panic!("short password accepted");
        };
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(check_policy("password", "Sunflower7", &[]).is_ok());
        assert!(check_policy("password", "Password1", &[]).is_err());
        assert!(check_policy("password", "P@ssw0rd", &[]).is_err());
        assert!(check_policy("password", "Wang#13812345678", &["13812345678"]).is_err());
        assert!(check_policy("password", &"Aa1!".repeat(40), &[]).is_err());
    }
}
