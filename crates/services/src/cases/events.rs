//! Consumers of outbox events that move cases along (the transactional outbox: the event was
//! written with the change it announces; handling it is recorded in `outbox_done` in the
//! transaction that applies its effect, so each event is handled once even with several nodes).
//!
//! - `case.accepted` of a 承诺件 → the item's approval process starts (business key: the case
//!   id; starting is idempotent) and the case remembers its instance.
//! - `workflow.ended` of a case's process → the case is decided: approved when the last
//!   decision was 通过 (`approved` variable), refused otherwise, with every approval step
//!   appended to the case's process records.

use serde_json::{Map, Value, json};
use yiwang_domain::case::{RecordAction, RecordStatus};
use yiwang_store::{Row, fmt_time};

use super::NewRecord;
use crate::{Platform, ServiceError};

const APPROVAL: &str = "cases.approval";
const DECISION: &str = "cases.decision";

/// The unhandled events of a topic for a consumer, oldest first, created at `since` or later.
async fn pending(
    p: &Platform,
    consumer: &str,
    topic: &str,
    since: &str,
) -> Result<Vec<(String, Value)>, ServiceError> {
    let rows = sqlx::query(
        "SELECT o.id, o.payload FROM outbox o WHERE o.topic = $1 AND o.created_at >= $3 \
         AND NOT EXISTS (SELECT 1 FROM outbox_done d WHERE d.consumer = $2 AND d.event_id = o.id) \
         ORDER BY o.created_at, o.id LIMIT 200",
    )
    .bind(topic)
    .bind(consumer)
    .bind(since)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let payload: String = r.try_get("payload")?;
            Ok((r.try_get("id")?, serde_json::from_str(&payload)?))
        })
        .collect()
}

/// Handles every pending event, however old; returns how many were handled. The server runs
/// it periodically ([`run`]), so an event is handled even when the request that emitted it
/// could not.
pub async fn drain(p: &Platform) -> Result<usize, ServiceError> {
    drain_since(p, "").await
}

/// How far back [`drain_recent`] looks.
const RECENT_MINUTES: i64 = 10;

/// Handles the events of the last minutes, for immediacy right after an action that emitted
/// one (a case accepted, a task completed): the index on (topic, created_at) keeps this cheap
/// however long the outbox grows, and one drain at a time runs in this process, so concurrent
/// requests queue behind one scan instead of racing for the same events. Older stragglers are
/// [`drain`]'s.
pub async fn drain_recent(p: &Platform) -> Result<usize, ServiceError> {
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let since = fmt_time(p.now() - chrono::Duration::minutes(RECENT_MINUTES));
    let _turn = ONE_AT_A_TIME.lock().await;
    drain_since(p, &since).await
}

async fn drain_since(p: &Platform, since: &str) -> Result<usize, ServiceError> {
    // One event failing (a process that cannot start, say) is logged and retried next round;
    // it never holds up the others.
    let mut n = 0;
    for (event, payload) in pending(p, APPROVAL, "case.accepted", since).await? {
        match start_approval(p, &event, &payload).await {
            Ok(true) => n += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(event = %event, error = %e, "starting a case's process failed")
            }
        }
    }
    for (event, payload) in pending(p, DECISION, "workflow.ended", since).await? {
        match decide_case(p, &event, &payload).await {
            Ok(true) => n += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(event = %event, error = %e, "deciding a case failed"),
        }
    }
    Ok(n)
}

async fn start_approval(p: &Platform, event: &str, payload: &Value) -> Result<bool, ServiceError> {
    let case_id = payload["case"].as_str().unwrap_or_default();
    let c = super::load(p, case_id).await?;
    // The process starts first (idempotent by business key; on SQLite it needs the writer
    // connection, so never inside our transaction), then the case remembers it and the event
    // is marked handled in one transaction.
    let mut instance = None;
    if c.case_type == "2" && c.wf_instance.is_none() {
        let vars = process_variables(p, &c).await?;
        let s = crate::workflow::runtime::start(
            p,
            "system",
            crate::workflow::runtime::Start {
                business_key: c.id.clone(),
                item_code: Some(c.item_code.clone()),
                process_key: None,
                org: c.org.clone(),
                variables: vars,
                limit_days: u32::try_from(c.promised_days).ok(),
            },
        )
        .await?;
        instance = Some(s.id);
    }
    let now = fmt_time(p.now());
    let mut tx = p.db.begin().await?;
    if !mark_done(&mut tx, APPROVAL, event, &now).await? {
        return Ok(false);
    }
    if let Some(wf) = instance {
        sqlx::query("UPDATE cases SET wf_instance = $1 WHERE id = $2")
            .bind(&wf)
            .bind(&c.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// The variables a case's process starts with, for its conditions: the case's facts
/// (`case_no`, `item`, `applicant_kind`, `channel`, `promised_days`), the values of its form
/// (each under its field key), and `amount` — what the application involves in yuan, the form's
/// `amount` field when it has one, else 0 — which approval processes commonly route on.
async fn process_variables(
    p: &Platform,
    c: &super::Case,
) -> Result<Map<String, Value>, ServiceError> {
    let mut vars = match super::form_values(p, &c.id).await? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    vars.insert("case_no".into(), json!(c.case_no));
    vars.insert("item".into(), json!(c.item_code));
    vars.insert("applicant_kind".into(), json!(c.applicant_kind));
    vars.insert("channel".into(), json!(c.channel));
    vars.insert("promised_days".into(), json!(c.promised_days));
    if !vars.get("amount").is_some_and(Value::is_number) {
        vars.insert("amount".into(), json!(0));
    }
    Ok(vars)
}

/// Records the event as handled by `consumer`; false when it already was.
async fn mark_done(
    tx: &mut yiwang_store::Transaction<'static, yiwang_store::Any>,
    consumer: &str,
    event: &str,
    now: &str,
) -> Result<bool, ServiceError> {
    let r =
        sqlx::query("INSERT INTO outbox_done (consumer, event_id, done_at) VALUES ($1, $2, $3)")
            .bind(consumer)
            .bind(event)
            .bind(now)
            .execute(&mut **tx)
            .await;
    match r {
        Ok(_) => Ok(true),
        Err(e) => {
            let e = yiwang_store::StoreError::from(e);
            if e.is_unique_violation() {
                Ok(false)
            } else {
                Err(e.into())
            }
        }
    }
}

async fn decide_case(p: &Platform, event: &str, payload: &Value) -> Result<bool, ServiceError> {
    let instance = payload["instance"].as_str().unwrap_or_default();
    let case_id = payload["business_key"].as_str().unwrap_or_default();
    let now = fmt_time(p.now());
    let found =
        sqlx::query_scalar::<_, String>("SELECT id FROM cases WHERE id = $1 AND wf_instance = $2")
            .bind(case_id)
            .bind(instance)
            .fetch_optional(p.db.pool())
            .await?;
    let mut tx = p.db.begin().await?;
    if !mark_done(&mut tx, DECISION, event, &now).await? {
        return Ok(false);
    }
    let Some(case_id) = found else {
        // Not a case's process (a test or a standalone process): nothing to decide.
        tx.commit().await?;
        return Ok(true);
    };
    let c = super::load(p, &case_id).await?;
    let vars = &payload["variables"];
    let approved = payload["state"] == "completed" && vars["approved"] == Value::Bool(true);
    let opinion = vars["opinion"].as_str().unwrap_or_default().to_owned();
    let steps = approval_steps(p, instance).await?;
    let (by_name, by_id) = steps
        .last()
        .map(|s| (s.handler.clone(), s.handler_id.clone()))
        .unwrap_or_else(|| ("审批流程".into(), "system".into()));
    let opinion = if opinion.trim().is_empty() {
        if approved {
            "经审查，准予许可".to_owned()
        } else {
            "经审查，不予许可".to_owned()
        }
    } else {
        opinion
    };
    super::window::decision(p, &c, approved, &opinion, (&by_name, &by_id), steps)
        .write(p, &mut tx)
        .await?;
    tx.commit().await?;
    let c = super::load(p, &case_id).await?;
    let result = if approved {
        "准予许可"
    } else {
        "不予许可"
    };
    super::notify_applicant(p, &c, &format!("已办结（{result}）")).await;
    super::notices::issue_for_state(p, &c).await;
    Ok(true)
}

/// The done steps of an approval process, as process records (承办, 审核, 批准…).
async fn approval_steps(p: &Platform, instance: &str) -> Result<Vec<NewRecord>, ServiceError> {
    let rows = sqlx::query(
        "SELECT t.name, t.done_by, t.outcome, t.opinion, t.created_at, t.done_at, \
         s.display_name, s.id AS staff_id FROM wf_tasks t LEFT JOIN staff s ON s.username = t.done_by \
         WHERE t.instance_id = $1 AND t.state = 'done' ORDER BY t.done_seq",
    )
    .bind(instance)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let outcome: Option<String> = r.try_get("outcome")?;
            let done_by: Option<String> = r.try_get("done_by")?;
            let display: Option<String> = r.try_get("display_name")?;
            let staff_id: Option<String> = r.try_get("staff_id")?;
            Ok(NewRecord {
                step: r.try_get("name")?,
                handler: display.or_else(|| done_by.clone()).unwrap_or_default(),
                handler_id: staff_id.or(done_by).unwrap_or_default(),
                action: match outcome.as_deref() {
                    Some("approve") | Some("approved") => RecordAction::Pass,
                    Some("reject") | Some("rejected") | Some("sent_back") => RecordAction::Return,
                    _ => RecordAction::Other,
                },
                opinion: r
                    .try_get::<Option<String>, _>("opinion")?
                    .unwrap_or_default(),
                started_at: r.try_get("created_at")?,
                ended_at: r
                    .try_get::<Option<String>, _>("done_at")?
                    .unwrap_or_default(),
                status: RecordStatus::Done,
            })
        })
        .collect()
}

/// Drain the events every `every` until the process ends (started by `serve`); failures are
/// logged and retried on the next round.
pub async fn run(p: std::sync::Arc<Platform>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match drain(&p).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, "case events handled"),
            Err(e) => tracing::warn!(error = %e, "case events: will retry"),
        }
    }
}
