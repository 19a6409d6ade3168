//! Failure counters with back-off (登录失败锁定): per account and per client address, in the
//! database so that every node sees the same counts.
//!
//! A key (`staff:<id>`, `user:<id>`, `ip:<address>`, `otp:<blind index>`) collects failures;
//! at the policy's threshold it is locked, for the base duration the first time and twice as
//! long each time after (capped at a day), and its failure count starts again. A success
//! clears the key's failures, not its lock history, so a patient attacker still backs off.

use chrono::{DateTime, Duration, Utc};
use yiwang_store::{Any, Row, Transaction, fmt_time, parse_time};

use crate::{Platform, ServiceError};

/// When a key locks, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures that lock the key.
    pub threshold: i64,
    /// First lock's length.
    pub base: Duration,
}

/// Accounts: 5 wrong passwords lock for 15 minutes, then 30, 60…
pub const ACCOUNT: Policy = Policy {
    threshold: 5,
    base: Duration::minutes(15),
};

/// Client addresses: 20 failures (over any accounts) lock the address for 5 minutes, then 10…
pub const ADDRESS: Policy = Policy {
    threshold: 20,
    base: Duration::minutes(5),
};

/// Longest lock.
const MAX_LOCK: Duration = Duration::hours(24);

/// When the key is locked until, if it is locked now.
pub async fn locked_until(p: &Platform, key: &str) -> Result<Option<DateTime<Utc>>, ServiceError> {
    let now = p.now();
    let r = sqlx::query("SELECT locked_until FROM throttles WHERE key = $1")
        .bind(key)
        .fetch_optional(p.db.pool())
        .await?;
    Ok(r.and_then(|r| {
        r.try_get::<Option<String>, _>("locked_until")
            .ok()
            .flatten()
    })
    .as_deref()
    .and_then(parse_time)
    .filter(|t| *t > now))
}

/// Fails with `TooManyAttempts` when any of the keys is locked.
pub async fn check(p: &Platform, keys: &[&str]) -> Result<(), ServiceError> {
    for key in keys {
        if locked_until(p, key).await?.is_some() {
            return Err(ServiceError::TooManyAttempts);
        }
    }
    Ok(())
}

/// Counts a failure; returns the end of the lock when this failure locked the key.
pub async fn fail(
    tx: &mut Transaction<'static, Any>,
    now: DateTime<Utc>,
    key: &str,
    policy: Policy,
) -> Result<Option<DateTime<Utc>>, ServiceError> {
    let r = sqlx::query("SELECT failures, locks FROM throttles WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?;
    let (failures, locks) = match r {
        Some(r) => (
            r.try_get::<i64, _>("failures")?,
            r.try_get::<i64, _>("locks")?,
        ),
        None => (0, 0),
    };
    let failures = failures + 1;
    let (failures, locks, until) = if failures >= policy.threshold {
        let factor = 1i32 << locks.clamp(0, 10);
        let length = (policy.base * factor).min(MAX_LOCK);
        (0, locks + 1, Some(now + length))
    } else {
        (failures, locks, None)
    };
    sqlx::query(
        "INSERT INTO throttles (key, failures, locks, locked_until, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO UPDATE SET failures = $2, \
         locks = $3, locked_until = COALESCE($4, throttles.locked_until), updated_at = $5",
    )
    .bind(key)
    .bind(failures)
    .bind(locks)
    .bind(until.map(fmt_time))
    .bind(fmt_time(now))
    .execute(&mut **tx)
    .await?;
    Ok(until)
}

/// Clears a key's failure count after a success (its lock history stays).
pub async fn succeed(tx: &mut Transaction<'static, Any>, key: &str) -> Result<(), ServiceError> {
    sqlx::query("UPDATE throttles SET failures = 0, locked_until = NULL WHERE key = $1")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
