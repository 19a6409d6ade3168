//! Expiry on schedule: a sweep (started by `serve`, every ten minutes, on the platform's clock)
//! tells each holder once when a licence expires within [`NOTICE_DAYS`] days, so that it can be
//! renewed (延续) in time, and marks a licence whose last day has passed `expired`, telling the
//! holder. Verification reports an expired licence from its date at once, sweep or not; the
//! sweep makes the library's status and the holder's list say so too.
//!
//! Each licence changes in its own guarded update (a licence renewed, suspended or revoked
//! meanwhile is left alone), with its message, so a sweep cut short is simply continued by the
//! next one and nothing is told twice.

use yiwang_store::{Batch, BatchError, Row, fmt_time};

use super::local_today;
use crate::{Platform, ServiceError};

/// Days before the last day of validity when the holder is told.
pub const NOTICE_DAYS: u64 = 30;

/// Licences looked at per query.
const PAGE: i64 = 500;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpiryRun {
    /// Licences marked `expired`.
    pub expired: usize,
    /// Holders told that a licence expires soon.
    pub reminded: usize,
}

/// Marks expired licences and sends the reminders that are due (see the module docs).
pub async fn sweep(p: &Platform) -> Result<ExpiryRun, ServiceError> {
    let today = local_today(p);
    // The last day has passed.
    let expired = step(
        p,
        "SELECT id, name, holder_user, case_id, valid_to FROM licences WHERE status = 'valid' \
         AND valid_to IS NOT NULL AND valid_to < $1 ORDER BY valid_to, id LIMIT $2",
        &[today.to_string()],
        |id, at| {
            (
                "UPDATE licences SET status = 'expired', status_reason = '有效期届满', \
                 status_at = $1 WHERE id = $2 AND status = 'valid' \
                 RETURNING CAST('e' AS TEXT) AS k",
                vec![at.into(), id.into()],
            )
        },
        |name, to| {
            (
                "电子证照已到期".to_owned(),
                format!("您的“{name}”有效期至{to}，已到期失效。如需继续使用，请申请办理。"),
            )
        },
    )
    .await?;
    // The last day is near, and the holder was not told yet.
    let horizon = today + chrono::Days::new(NOTICE_DAYS);
    let reminded = step(
        p,
        "SELECT id, name, holder_user, case_id, valid_to FROM licences WHERE status = 'valid' \
         AND expiry_notice IS NULL AND valid_to IS NOT NULL AND valid_to >= $1 \
         AND valid_to <= $2 ORDER BY valid_to, id LIMIT $3",
        &[today.to_string(), horizon.to_string()],
        |id, _| {
            (
                "UPDATE licences SET expiry_notice = 'soon' WHERE id = $1 AND status = 'valid' \
                 AND expiry_notice IS NULL RETURNING CAST('r' AS TEXT) AS k",
                vec![id.into()],
            )
        },
        |name, to| {
            (
                "电子证照即将到期".to_owned(),
                format!("您的“{name}”有效期至{to}，请在到期前办理延续。"),
            )
        },
    )
    .await?;
    Ok(ExpiryRun { expired, reminded })
}

type Update = (&'static str, Vec<yiwang_store::Bind>);

/// Pages through the licences `select` finds (binds: `bounds`, then the page size), changing each
/// with `update` (binds made from its id and the time) and its holder's message.
async fn step(
    p: &Platform,
    select: &'static str,
    bounds: &[String],
    update: impl Fn(&str, &str) -> Update,
    message: impl Fn(&str, &str) -> (String, String),
) -> Result<usize, ServiceError> {
    let mut done = 0;
    loop {
        let mut query = sqlx::query(select);
        for b in bounds {
            query = query.bind(b);
        }
        let rows = query.bind(PAGE).fetch_all(p.db.pool()).await?;
        let mut changed = 0;
        for r in &rows {
            let id: String = r.try_get("id")?;
            let at = fmt_time(p.now());
            let mut b = Batch::default();
            let (sql, args) = update(&id, &at);
            b.guard(sql, args);
            if let Some(user) = r.try_get::<Option<String>, _>("holder_user")? {
                let name: String = r.try_get("name")?;
                let to: String = r
                    .try_get::<Option<String>, _>("valid_to")?
                    .unwrap_or_default();
                let (title, body) = message(&name, &to);
                let case_id: Option<String> = r.try_get("case_id")?;
                crate::cases::push_message(&mut b, &user, case_id.as_deref(), &title, &body, &at);
            }
            match b.commit_alone(&p.db).await {
                Ok(()) => changed += 1,
                // Changed meanwhile (renewed, suspended, swept by another node): left alone.
                Err(BatchError::Conflict) => {}
                Err(BatchError::Store(e)) => return Err(e.into()),
            }
        }
        done += changed;
        // A page where nothing changed would be found again: stop (the next sweep retries).
        if rows.len() < usize::try_from(PAGE).unwrap_or(usize::MAX) || changed == 0 {
            return Ok(done);
        }
    }
}

/// Runs [`sweep`] every `every` until the process ends (started by `serve`).
pub async fn run(p: std::sync::Arc<Platform>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match sweep(&p).await {
            Ok(ExpiryRun {
                expired: 0,
                reminded: 0,
            }) => {}
            Ok(r) => tracing::info!(
                expired = r.expired,
                reminded = r.reminded,
                "licence expiry: holders told"
            ),
            Err(e) => tracing::warn!(error = %e, "licence expiry: will retry"),
        }
    }
}
