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
use yiwang_store::{Batch, BatchError, Bind, Row, fmt_time};

use super::NewRecord;
use crate::{Platform, ServiceError};

pub(crate) const APPROVAL: &str = "cases.approval";
const DECISION: &str = "cases.decision";

/// Which pending events to look at.
#[derive(Clone, Copy)]
enum Scope<'a> {
    /// Every one, however old.
    All,
    /// Those about one subject (a case).
    Subject(&'a str),
}

/// The unhandled events of a topic for a consumer in `scope`, oldest first.
async fn pending(
    p: &Platform,
    consumer: &str,
    topic: &str,
    scope: Scope<'_>,
) -> Result<Vec<(String, Value)>, ServiceError> {
    let (filter, subject) = match scope {
        Scope::All => ("", None),
        Scope::Subject(s) => ("AND o.subject = $3 ", Some(s)),
    };
    let sql = format!(
        "SELECT o.id, o.payload FROM outbox o WHERE o.topic = $1 {filter}\
         AND NOT EXISTS (SELECT 1 FROM outbox_done d WHERE d.consumer = $2 AND d.event_id = o.id) \
         ORDER BY o.created_at, o.id LIMIT 200"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(topic)
        .bind(consumer);
    if let Some(s) = subject {
        q = q.bind(s);
    }
    let rows = q.fetch_all(p.db.pool()).await?;
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
    drain_scope(p, Scope::All).await
}

/// Handles the pending events about one case (its own and its approval process's), for
/// immediacy right after an action that may have emitted one (a case accepted, a task
/// completed): an indexed lookup of a few rows, so concurrent requests about different cases
/// never wait for each other. Two handlers racing for one event are safe: handling is marked in
/// `outbox_done` in the transaction that applies the effect, and starting a process is
/// idempotent by business key.
pub async fn drain_case(p: &Platform, case_id: &str) -> Result<usize, ServiceError> {
    drain_scope(p, Scope::Subject(case_id)).await
}

async fn drain_scope(p: &Platform, scope: Scope<'_>) -> Result<usize, ServiceError> {
    // One event failing (a process that cannot start, say) is logged and retried next round;
    // it never holds up the others.
    let mut n = 0;
    for (event, payload) in pending(p, APPROVAL, "case.accepted", scope).await? {
        match start_approval(p, &event, &payload).await {
            Ok(true) => n += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(event = %event, error = %e, "starting a case's process failed")
            }
        }
    }
    let (mut decided, mut licences) = (0, false);
    for (event, payload) in pending(p, DECISION, "workflow.ended", scope).await? {
        match decide_case(p, &event, &payload).await {
            Ok(Some(issue)) => {
                decided += 1;
                licences |= issue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(event = %event, error = %e, "deciding a case failed"),
        }
    }
    n += decided;
    // A case's approval comes from its decision: a request that decided nothing, or decided
    // without licences to issue, has none (the server's sweep of every case catches the rest,
    // e.g. a retry).
    if matches!(scope, Scope::Subject(_)) && !licences {
        return Ok(n);
    }
    let issue = crate::licences::ISSUE;
    for (event, payload) in pending(p, issue, "case.approved", scope).await? {
        let case_id = payload["case"].as_str().unwrap_or_default();
        match crate::licences::issue_for_event(p, &event, case_id).await {
            Ok(ids) => n += usize::from(!ids.is_empty()),
            Err(e) => tracing::warn!(event = %event, error = %e, "issuing a licence failed"),
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
    let mut b = Batch::default();
    b.push(DONE_INSERT, done_args(APPROVAL, event, &fmt_time(p.now())));
    if let Some(wf) = instance {
        b.push(
            "UPDATE cases SET wf_instance = $1 WHERE id = $2",
            vec![wf.into(), c.id.as_str().into()],
        );
    }
    match b.commit_alone(&p.db).await {
        Ok(()) => Ok(true),
        // Handled already (the event's row in outbox_done exists).
        Err(BatchError::Conflict) => Ok(false),
        Err(BatchError::Store(e)) => Err(e.into()),
    }
}

/// The variables a case's process starts with, for its conditions: the case's facts
/// (`case_no`, `item`, `applicant_kind`, `channel`, `promised_days`), the values of its form
/// (each under its field key), and `amount` — what the application involves in yuan, the form's
/// `amount` field when it has one, else 0 — which approval processes commonly route on.
pub(crate) async fn process_variables(
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

pub(crate) const DONE_INSERT: &str =
    "INSERT INTO outbox_done (consumer, event_id, done_at) VALUES ($1, $2, $3)";

pub(crate) fn done_args(consumer: &str, event: &str, now: &str) -> Vec<Bind> {
    vec![consumer.into(), event.into(), now.into()]
}

/// Whether `consumer` has handled the event.
async fn handled(p: &Platform, consumer: &str, event: &str) -> Result<bool, ServiceError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox_done WHERE consumer = $1 AND event_id = $2",
    )
    .bind(consumer)
    .bind(event)
    .fetch_one(p.db.pool())
    .await?;
    Ok(n > 0)
}

/// Records the event as handled by `consumer`; false when it already was.
async fn mark_done(
    tx: &mut yiwang_store::Transaction<'static, yiwang_store::Any>,
    consumer: &str,
    event: &str,
    now: &str,
) -> Result<bool, ServiceError> {
    let r = yiwang_store::bind_all(sqlx::query(DONE_INSERT), done_args(consumer, event, now))
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

/// Decides the case of an ended process: `Some(true)` when decided with licences left to
/// issue, `Some(false)` when decided without, `None` when nothing was decided (handled before,
/// or not a case's process).
async fn decide_case(
    p: &Platform,
    event: &str,
    payload: &Value,
) -> Result<Option<bool>, ServiceError> {
    let instance = payload["instance"].as_str().unwrap_or_default();
    let case_id = payload["business_key"].as_str().unwrap_or_default();
    let now = fmt_time(p.now());
    // Everything is read before the transaction, which holds the one writer on SQLite.
    let c = match super::load(p, case_id).await {
        Ok(c) if c.wf_instance.as_deref() == Some(instance) => c,
        Ok(_) | Err(ServiceError::NotFound { .. }) => {
            // Not a case's process (a test or a standalone process): nothing to decide.
            let mut tx = p.db.begin().await?;
            mark_done(&mut tx, DECISION, event, &now).await?;
            tx.commit().await?;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
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
    let mut b = Batch::default();
    b.push(DONE_INSERT, done_args(DECISION, event, &now));
    let change = super::window::decision(p, &c, approved, &opinion, (&by_name, &by_id), steps);
    if yiwang_domain::case::next(c.state, change.action).is_err() {
        // Another handler (the periodic drain, another node) decided the case between our read
        // of the pending events and our read of the case: handled, not a failure.
        if handled(p, DECISION, event).await? {
            return Ok(None);
        }
        return Err(ServiceError::Conflict(format!(
            "办件状态为“{}”，不能办结 / the case is {}",
            c.state.label_zh(),
            c.state.label_en()
        )));
    }
    // An approval for an item without licence types is handled by the licence issuer in the
    // same transaction (there is nothing to issue), instead of by a later round.
    let no_licence = approved && !crate::licences::issues_licences(p, &c.item_code).await?;
    let decided_at = p.now();
    let c = match change
        .commit_with(p, b, no_licence.then_some(crate::licences::ISSUE), |a| {
            a.decided_at = Some(decided_at);
            a.decision_opinion = opinion.clone();
            a.paused_at = None;
        })
        .await
    {
        Ok(c) => c,
        // Handled meanwhile (outbox_done), or the case moved since it was read: the next round
        // looks again if the event is still pending.
        Err(ServiceError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let result = if approved {
        "准予许可"
    } else {
        "不予许可"
    };
    super::notify_applicant(p, &c, &format!("已办结（{result}）")).await;
    Ok(Some(approved && !no_licence))
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
