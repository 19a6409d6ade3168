//! The audit log (审计日志): every sign-in, failure, lockout, password change, role change and
//! client change, append-only and hash-chained with SM3.
//!
//! Entry `n` stores `hash_n = SM3(hash_{n-1} ‖ 0x00 ‖ record_n)` (see `yiwang_crypto::chain`),
//! where `record_n` is the canonical JSON array of the entry's fields. Changing, deleting or
//! reordering any stored entry breaks the chain at that entry, and [`verify`] names it.
//!
//! Appends take turns through the one-row `audit_head` table (sequence number and last hash),
//! inside the caller's transaction: the entry is committed with the change it records, or not
//! at all, and concurrent transactions on any node never fork the chain.

use chrono::{DateTime, Utc};
use serde::Serialize;
use yiwang_store::{Any, Row, Transaction, fmt_time};

use crate::{Platform, ServiceError};

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done.
    Success,
    /// Refused: wrong credentials, bad input.
    Failure,
    /// Refused because the account or address is locked or throttled.
    Locked,
}

impl Outcome {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Locked => "locked",
        }
    }
}

/// One entry to append. `actor` and `target` are stable identifiers such as `staff:<id>`,
/// `user:<id>`, `client:<id>` or a masked name; never a password, code or full ID number.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// Who acted (`anonymous` before sign-in).
    pub actor: &'a str,
    /// What was done, e.g. `staff.sign_in`, `user.password_change`, `oidc.client_add`.
    pub action: &'a str,
    /// What it was done to.
    pub target: &'a str,
    /// How it ended.
    pub outcome: Outcome,
    /// The client address, or empty.
    pub ip: &'a str,
    /// Anything else worth keeping (JSON object).
    pub detail: serde_json::Value,
}

impl<'a> Entry<'a> {
    /// A successful action with no client address (an administrator's change, a system step).
    pub fn success(
        actor: &'a str,
        action: &'a str,
        target: &'a str,
        detail: serde_json::Value,
    ) -> Entry<'a> {
        Entry {
            actor,
            action,
            target,
            outcome: Outcome::Success,
            ip: "",
            detail,
        }
    }
}

/// The canonical bytes of an entry: what the chain hashes.
fn record(
    seq: i64,
    at: &str,
    e: (&str, &str, &str, &str, &str),
    detail: &str,
) -> Result<Vec<u8>, ServiceError> {
    let (actor, action, target, outcome, ip) = e;
    Ok(serde_json::to_vec(&(
        seq, at, actor, action, target, outcome, ip, detail,
    ))?)
}

/// Appends an entry inside the caller's transaction; returns its sequence number.
pub async fn append(
    tx: &mut Transaction<'static, Any>,
    now: DateTime<Utc>,
    e: &Entry<'_>,
) -> Result<i64, ServiceError> {
    // Taking the head row's write lock first makes concurrent appends wait their turn.
    sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut **tx)
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev: String = head.try_get("hash")?;
    let at = fmt_time(now);
    let detail = serde_json::to_string(&e.detail)?;
    let bytes = record(
        seq,
        &at,
        (e.actor, e.action, e.target, e.outcome.as_str(), e.ip),
        &detail,
    )?;
    let hash = yiwang_crypto::chain::link(&prev, &bytes);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, target, outcome, ip, detail, prev_hash, \
         hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(seq)
    .bind(&at)
    .bind(e.actor)
    .bind(e.action)
    .bind(e.target)
    .bind(e.outcome.as_str())
    .bind(e.ip)
    .bind(&detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    Ok(seq)
}

/// Appends an entry in a transaction of its own (for events that change nothing else).
pub async fn record_event(p: &Platform, e: &Entry<'_>) -> Result<i64, ServiceError> {
    let mut tx = p.db.begin().await?;
    let seq = append(&mut tx, p.now(), e).await?;
    tx.commit().await?;
    Ok(seq)
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Entries checked.
    pub entries: u64,
    /// The first entry that does not match the chain, if any.
    pub first_bad: Option<BadEntry>,
}

/// An entry whose stored hash is not what the chain says it should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadEntry {
    /// Its sequence number.
    pub seq: i64,
    /// Why: the hash recomputed from the chain, the hash stored, or a gap in the sequence.
    pub reason: String,
}

/// Recomputes the whole chain from the first entry, page by page, and reports the first entry
/// that was changed, removed or inserted. The head row must agree with the last entry too.
pub async fn verify(p: &Platform) -> Result<Verification, ServiceError> {
    const PAGE: i64 = 5_000;
    let mut prev = yiwang_crypto::chain::GENESIS.to_owned();
    let mut expected_seq = 1i64;
    let mut entries = 0u64;
    loop {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, target, outcome, ip, detail, prev_hash, hash \
             FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(expected_seq)
        .bind(PAGE)
        .fetch_all(p.db.pool())
        .await?;
        let done = (rows.len() as i64) < PAGE;
        for r in rows {
            let seq: i64 = r.try_get("seq")?;
            let bad = |reason: String| {
                Ok(Verification {
                    entries,
                    first_bad: Some(BadEntry { seq, reason }),
                })
            };
            if seq != expected_seq {
                return bad(format!("entry {expected_seq} is missing (next is {seq})"));
            }
            let stored_prev: String = r.try_get("prev_hash")?;
            let stored: String = r.try_get("hash")?;
            let bytes = record(
                seq,
                &r.try_get::<String, _>("at")?,
                (
                    &r.try_get::<String, _>("actor")?,
                    &r.try_get::<String, _>("action")?,
                    &r.try_get::<String, _>("target")?,
                    &r.try_get::<String, _>("outcome")?,
                    &r.try_get::<String, _>("ip")?,
                ),
                &r.try_get::<String, _>("detail")?,
            )?;
            let recomputed = yiwang_crypto::chain::link(&prev, &bytes);
            if stored_prev != prev {
                return bad("its link to the previous entry was changed".into());
            }
            if recomputed != stored {
                return bad(format!(
                    "content changed: recomputed hash {recomputed}, stored {stored}"
                ));
            }
            prev = stored;
            expected_seq += 1;
            entries += 1;
        }
        if done {
            break;
        }
    }
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(p.db.pool())
        .await?;
    let head_seq: i64 = head.try_get("seq")?;
    let head_hash: String = head.try_get("hash")?;
    if head_seq != expected_seq - 1 || head_hash != prev {
        return Ok(Verification {
            entries,
            first_bad: Some(BadEntry {
                seq: expected_seq,
                reason: format!(
                    "entries after {} were removed (the chain head is at {head_seq})",
                    expected_seq - 1
                ),
            }),
        });
    }
    Ok(Verification {
        entries,
        first_bad: None,
    })
}

/// One entry as administrators read it.
#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    /// Sequence number.
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub target: String,
    /// Outcome.
    pub outcome: String,
    /// Client address.
    pub ip: String,
    /// Details (JSON).
    pub detail: String,
}

/// The newest entries, newest first (at most `limit`, before `before` when given).
pub async fn recent(
    p: &Platform,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LogLine>, ServiceError> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, target, outcome, ip, detail FROM audit_log \
         WHERE seq < $1 ORDER BY seq DESC LIMIT $2",
    )
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, 500))
    .fetch_all(p.db.pool())
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(LogLine {
                seq: r.try_get("seq")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                target: r.try_get("target")?,
                outcome: r.try_get("outcome")?,
                ip: r.try_get("ip")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}
