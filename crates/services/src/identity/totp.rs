//! Time-based one-time passwords (TOTP, RFC 6238) as the staff's second factor.
//!
//! Holders of administrative roles must set it up and pass it at every sign-in; other staff
//! may enrol. The shared secret is stored encrypted like personal data. A code is accepted
//! within one 30-second step of the clock, and each step only once (a code seen by a shoulder
//! surfer cannot be replayed). Wrong codes count towards the account's lock.

use yiwang_crypto::totp;
use yiwang_store::{Row, fmt_time};

use super::audit::{self, Entry, Outcome};
use super::staff::{self, Session};
use super::throttle;
use crate::{Platform, ServiceError};

/// The issuer name authenticator apps show.
pub const ISSUER: &str = "一网通办";

/// Field name binding TOTP secrets' ciphertexts.
const FIELD: &str = "staff.totp_secret";

/// What an authenticator app needs to enrol.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base32 (to type in).
    pub secret_base32: String,
    /// The `otpauth://` URI (to scan as a QR code).
    pub uri: String,
}

/// Starts (or restarts) enrolment of a signed-in staff member who has not enabled TOTP yet:
/// a new secret, stored encrypted and not yet active.
pub async fn begin_enrolment(p: &Platform, s: &Session) -> Result<Enrolment, ServiceError> {
    if s.staff.totp_enabled {
        return Err(ServiceError::Conflict("已启用双因素认证".into()));
    }
    let secret = totp::generate_secret();
    let sealed = p
        .keys
        .pii
        .encrypt(FIELD, &totp::base32(&secret))
        .map_err(|e| ServiceError::internal(format!("encrypt: {e}")))?;
    sqlx::query("UPDATE staff SET totp_secret_enc = $1 WHERE id = $2 AND totp_enabled = 0")
        .bind(&sealed)
        .bind(&s.staff.id)
        .execute(p.db.writer())
        .await?;
    Ok(Enrolment {
        secret_base32: totp::base32(&secret),
        uri: totp::otpauth_uri(ISSUER, &s.staff.username, &secret),
    })
}

/// Checks `code` for the session's staff member and, when right, marks the session as past
/// its second factor (and enables TOTP if this was the enrolment's confirmation).
pub async fn verify(
    p: &Platform,
    token: &str,
    code: &str,
    ip: &str,
) -> Result<Session, ServiceError> {
    let s = staff::session(p, token)
        .await?
        .ok_or(ServiceError::Unauthenticated)?;
    let id = s.staff.id.clone();
    let key = format!("staff:{id}");
    throttle::check(p, &[&key]).await?;
    let r = sqlx::query(
        "SELECT totp_secret_enc, totp_enabled, totp_last_step FROM staff WHERE id = $1",
    )
    .bind(&id)
    .fetch_one(p.db.pool())
    .await?;
    let sealed: Option<String> = r.try_get("totp_secret_enc")?;
    let enabled = r.try_get::<i64, _>("totp_enabled")? != 0;
    let last_step: i64 = r.try_get("totp_last_step")?;
    let Some(sealed) = sealed else {
        return Err(ServiceError::Conflict("尚未设置双因素认证".into()));
    };
    let secret = p
        .keys
        .pii
        .decrypt(FIELD, &sealed)
        .map_err(|e| ServiceError::internal(format!("decrypt: {e}")))?;
    let secret = totp::from_base32(&secret)
        .ok_or_else(|| ServiceError::internal("stored TOTP secret is not base32"))?;
    let now = p.now();
    let step = totp::verify(&secret, code.trim(), now.timestamp(), 1)
        .map(|s| s as i64)
        .filter(|s| *s > last_step);
    let mut tx = p.db.begin().await?;
    let action = if enabled {
        "staff.totp"
    } else {
        "staff.totp_enrol"
    };
    let Some(step) = step else {
        let locked = throttle::fail(&mut tx, now, &key, throttle::ACCOUNT).await?;
        audit::append(
            &mut tx,
            now,
            &Entry {
                actor: &key,
                action,
                target: &s.staff.username,
                outcome: Outcome::Failure,
                ip,
                detail: serde_json::json!({ "locked_until": locked.map(fmt_time) }),
            },
        )
        .await?;
        tx.commit().await?;
        return Err(ServiceError::invalid(
            "code",
            "动态验证码不正确或已使用",
            "wrong or already used authenticator code",
        ));
    };
    sqlx::query("UPDATE staff SET totp_enabled = 1, totp_last_step = $1 WHERE id = $2")
        .bind(step)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    staff::mark_mfa_passed(&mut tx, token).await?;
    throttle::succeed(&mut tx, &key).await?;
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &key,
            action,
            target: &s.staff.username,
            outcome: Outcome::Success,
            ip,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    staff::session(p, token)
        .await?
        .ok_or(ServiceError::Unauthenticated)
}
