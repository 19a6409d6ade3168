//! One-time codes (验证码): by SMS to confirm a phone at registration, to sign in without a
//! password, to reset a password; by e-mail to confirm an address for notices.
//!
//! A code is 6 random digits, valid for [`VALID_MINUTES`], good for one use and at most
//! [`MAX_ATTEMPTS`] guesses; only its SM3 hash is stored, keyed to the blind index of the phone
//! number. Sending is limited per phone (one a minute, [`MAX_PER_DAY`] a day) and per client
//! address, so the platform cannot be used to flood someone's phone.

use chrono::Duration;
use yiwang_domain::contact::MobileNumber;
use yiwang_store::{Row, fmt_time, parse_time};

use super::audit::{self, Entry, Outcome};
use super::throttle;
use crate::{Platform, ServiceError};

/// How long a code stays valid.
pub const VALID_MINUTES: i64 = 5;
/// Wrong guesses that void a code.
pub const MAX_ATTEMPTS: i64 = 5;
/// Codes one phone may receive in 24 hours.
pub const MAX_PER_DAY: i64 = 10;

/// Why a code is sent; each purpose has its own codes and message template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirm the phone of a new account.
    Register,
    /// Sign in with a code instead of a password.
    SignIn,
    /// Reset a forgotten password.
    Reset,
    /// Confirm an e-mail address (sent to that address).
    Email,
}

/// Where a code goes: a mobile number (SMS) or an e-mail address (already normalised).
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// By SMS.
    Phone(&'a MobileNumber),
    /// By e-mail.
    Email(&'a str),
}

impl Target<'_> {
    /// The blind-index field, the channel, the value and how the audit log names it.
    fn parts(
        &self,
    ) -> (
        &'static str,
        yiwang_connectors::notify::Channel,
        &str,
        String,
    ) {
        use yiwang_connectors::notify::Channel;
        match self {
            Target::Phone(m) => ("phone", Channel::Sms, m.as_str(), m.masked()),
            Target::Email(e) => (
                "email",
                Channel::Email,
                e,
                yiwang_connectors::notify::mask(e),
            ),
        }
    }
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::SignIn => "sign_in",
            Purpose::Reset => "reset",
            Purpose::Email => "email",
        }
    }

    fn template(self) -> &'static str {
        match self {
            Purpose::Register => "otp_register",
            Purpose::SignIn => "otp_sign_in",
            Purpose::Reset => "otp_reset",
            Purpose::Email => "otp_email",
        }
    }
}

fn code_hash(id: &str, code: &str) -> String {
    super::sm3_hex(&format!("{id}:{code}"))
}

/// A new random 6-digit code.
fn new_code() -> String {
    let b = yiwang_crypto::random::random_bytes::<4>();
    format!("{:06}", u32::from_le_bytes(b) % 1_000_000)
}

/// Sends a new code for `purpose` to `phone`, after checking the sending limits.
pub async fn send(
    p: &Platform,
    purpose: Purpose,
    phone: &MobileNumber,
    ip: &str,
) -> Result<(), ServiceError> {
    send_to(p, purpose, Target::Phone(phone), ip).await
}

/// Sends a new code for `purpose` to `target`, after checking the sending limits (per target
/// and per client address).
pub async fn send_to(
    p: &Platform,
    purpose: Purpose,
    target: Target<'_>,
    ip: &str,
) -> Result<(), ServiceError> {
    let (field, channel, to, masked) = target.parts();
    let now = p.now();
    let bidx = p.keys.pii.blind_index(field, to);
    let ip_key = format!("otp-ip:{ip}");
    throttle::check(p, &[&ip_key]).await?;
    let recent = sqlx::query(
        "SELECT created_at FROM otp_codes WHERE target_bidx = $1 AND created_at > $2 \
         ORDER BY created_at DESC",
    )
    .bind(&bidx)
    .bind(fmt_time(now - Duration::hours(24)))
    .fetch_all(p.db.pool())
    .await?;
    let last = recent
        .first()
        .and_then(|r| r.try_get::<String, _>("created_at").ok())
        .as_deref()
        .and_then(parse_time);
    if last.is_some_and(|t| now - t < Duration::seconds(60)) || recent.len() as i64 >= MAX_PER_DAY {
        return Err(ServiceError::TooManyAttempts);
    }
    let id = uuid::Uuid::now_v7().to_string();
    let code = new_code();
    let mut tx = p.db.begin().await?;
    sqlx::query(
        "INSERT INTO otp_codes (id, purpose, target_bidx, code_hash, attempts, expires_at, \
         used_at, created_at) VALUES ($1, $2, $3, $4, 0, $5, NULL, $6)",
    )
    .bind(&id)
    .bind(purpose.as_str())
    .bind(&bidx)
    .bind(code_hash(&id, &code))
    .bind(fmt_time(now + Duration::minutes(VALID_MINUTES)))
    .bind(fmt_time(now))
    .execute(&mut *tx)
    .await?;
    // Every code sent counts against the address; twenty an hour is far beyond a person's need.
    throttle::fail(
        &mut tx,
        now,
        &ip_key,
        throttle::Policy {
            threshold: 20,
            base: Duration::hours(1),
        },
    )
    .await?;
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: "anonymous",
            action: "otp.send",
            target: &masked,
            outcome: Outcome::Success,
            ip,
            detail: serde_json::json!({ "purpose": purpose.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    let minutes = VALID_MINUTES.to_string();
    p.outside
        .notifier
        .send(
            channel,
            to,
            purpose.template(),
            &[("code", code.as_str()), ("minutes", minutes.as_str())],
        )
        .await
        .map_err(|e| ServiceError::internal(format!("sending the code: {e}")))?;
    Ok(())
}

/// Checks and uses up a code: the newest unused, unexpired code of `purpose` for `phone`. A
/// wrong guess is counted (and committed) even though the caller's action fails.
pub async fn consume(
    p: &Platform,
    purpose: Purpose,
    phone: &MobileNumber,
    code: &str,
) -> Result<(), ServiceError> {
    consume_for(p, purpose, Target::Phone(phone), code).await
}

/// [`consume`] for any target.
pub async fn consume_for(
    p: &Platform,
    purpose: Purpose,
    target: Target<'_>,
    code: &str,
) -> Result<(), ServiceError> {
    let (field, _, to, _) = target.parts();
    let now = p.now();
    let wrong = || {
        ServiceError::invalid(
            "code",
            "验证码不正确或已过期，请重新获取",
            "the code is wrong or expired; ask for a new one",
        )
    };
    let bidxs = p.keys.pii.blind_indexes(field, to);
    let mut newest = None;
    for bidx in &bidxs {
        let r = sqlx::query(
            "SELECT id, code_hash, attempts, expires_at FROM otp_codes WHERE target_bidx = $1 \
             AND purpose = $2 AND used_at IS NULL ORDER BY created_at DESC LIMIT 1",
        )
        .bind(bidx)
        .bind(purpose.as_str())
        .fetch_optional(p.db.pool())
        .await?;
        if r.is_some() {
            newest = r;
            break;
        }
    }
    let Some(r) = newest else {
        return Err(wrong());
    };
    let id: String = r.try_get("id")?;
    let attempts: i64 = r.try_get("attempts")?;
    let expired = parse_time(&r.try_get::<String, _>("expires_at")?).is_none_or(|t| t <= now);
    if expired || attempts >= MAX_ATTEMPTS {
        return Err(wrong());
    }
    let stored: String = r.try_get("code_hash")?;
    let given = code_hash(&id, code.trim());
    if !yiwang_crypto::eq_constant_time(stored.as_bytes(), given.as_bytes()) {
        sqlx::query("UPDATE otp_codes SET attempts = attempts + 1 WHERE id = $1")
            .bind(&id)
            .execute(p.db.writer())
            .await?;
        return Err(wrong());
    }
    // Conditional: of two requests racing with the same code, one wins.
    let used = sqlx::query("UPDATE otp_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(fmt_time(now))
        .bind(&id)
        .execute(p.db.writer())
        .await?;
    if used.rows_affected() != 1 {
        return Err(wrong());
    }
    Ok(())
}
