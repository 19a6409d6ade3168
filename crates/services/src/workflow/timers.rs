//! Durable timers: BPMN timer events and step limits, stored as rows and fired by whichever
//! platform node finds them due. A node claims a timer by moving it out of `pending` in the
//! same transaction that applies it (on PostgreSQL the candidates are picked with
//! `FOR UPDATE SKIP LOCKED`, so two nodes never wait on each other); a timer fires exactly once.
//! Timers of suspended instances wait until the instance resumes (their due time moves).
//!
//! A step limit that passes marks the task overdue and applies the step's escalation: notify,
//! reassign to a role, complete with a configured outcome (默认同意 / 默认不同意), or send back.

use serde_json::json;
use sqlx::Row;
use yiwang_store::{Backend, fmt_time};
use yiwang_workflow::Escalation;

use super::inbox::{self, Outcome};
use super::runtime::{self, Note};
use crate::{Platform, ServiceError};

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    /// BPMN timers fired.
    pub timers: usize,
    /// Step limits that passed (escalations applied).
    pub limits: usize,
    /// Instance limits (承诺时限) that passed.
    pub instances: usize,
    /// Timers skipped this time (another node holds them, or the instance changed meanwhile).
    pub skipped: usize,
}

/// Fire every timer due now (at most `batch`), as platform node `node`.
pub async fn fire_due(p: &Platform, node: &str, batch: i64) -> Result<Fired, ServiceError> {
    let now = fmt_time(p.now());
    let sql = "SELECT t.id, t.instance_id, t.kind, t.timer, t.work_item, t.node FROM wf_timers t \
               JOIN wf_instances i ON i.id = t.instance_id \
               WHERE t.state = 'pending' AND t.due_at <= $1 AND i.state = 'running' \
               ORDER BY t.due_at LIMIT $2";
    let rows = sqlx::query(sql)
        .bind(&now)
        .bind(batch)
        .fetch_all(p.db.pool())
        .await?;
    let mut out = Fired::default();
    for r in rows {
        let id: String = r.try_get("id")?;
        let instance: String = r.try_get("instance_id")?;
        let kind: String = r.try_get("kind")?;
        let timer: Option<i64> = r.try_get("timer")?;
        let work_item: Option<i64> = r.try_get("work_item")?;
        let task_node: String = r.try_get("node")?;
        let fired = match kind.as_str() {
            "timer" => fire_timer(p, node, &id, &instance, timer.unwrap_or(-1)).await,
            "due" => fire_instance_due(p, node, &id, &instance).await,
            _ => fire_limit(p, node, &id, &instance, work_item.unwrap_or(-1), &task_node).await,
        };
        match fired {
            Ok(true) if kind == "timer" => out.timers += 1,
            Ok(true) if kind == "due" => out.instances += 1,
            Ok(true) => out.limits += 1,
            Ok(false) | Err(ServiceError::Conflict(_)) => out.skipped += 1,
            Err(e) => {
                tracing::warn!(timer = %id, error = %e, "timer could not fire; it stays pending");
                out.skipped += 1;
            }
        }
    }
    Ok(out)
}

/// Claim a pending timer inside `tx`: true when this node got it.
async fn claim(
    p: &Platform,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: &str,
    node: &str,
) -> Result<bool, ServiceError> {
    if p.db.backend() == Backend::Postgres {
        let locked = sqlx::query(
            "SELECT id FROM wf_timers WHERE id = $1 AND state = 'pending' FOR UPDATE SKIP LOCKED",
        )
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        if locked.is_none() {
            return Ok(false);
        }
    }
    let n = sqlx::query(
        "UPDATE wf_timers SET state = 'fired', fired_at = $1, fired_by = $2 WHERE id = $3 AND state = 'pending'",
    )
    .bind(fmt_time(p.now()))
    .bind(node)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(n.rows_affected() == 1)
}

async fn fire_timer(
    p: &Platform,
    node: &str,
    id: &str,
    instance: &str,
    timer: i64,
) -> Result<bool, ServiceError> {
    let before = runtime::get(p, instance).await?;
    if before.state != "running" {
        return Ok(false);
    }
    let loaded = runtime::load(p, &before.definition_id).await?;
    let mut after = before.inst.clone();
    let mut tx = p.db.begin().await?;
    if !claim(p, &mut tx, id, node).await? {
        return Ok(false);
    }
    if !after.timers.iter().any(|t| t.id as i64 == timer) {
        tx.commit().await?; // the engine no longer has it: consumed
        return Ok(false);
    }
    loaded
        .deployment
        .fire_timer(&mut after, timer as u64)
        .map_err(runtime::to_service_error)?;
    let note = Note {
        node: String::new(),
        kind: "timer",
        detail: json!({ "timer": id, "node": node }),
    };
    runtime::write(p, &mut tx, &before, after, "system", None, vec![note]).await?;
    tx.commit().await?;
    Ok(true)
}

/// The instance's 承诺时限 passed: recorded and announced (supervision turns it into a 红牌).
async fn fire_instance_due(
    p: &Platform,
    node: &str,
    id: &str,
    instance: &str,
) -> Result<bool, ServiceError> {
    let s = runtime::get(p, instance).await?;
    let at = fmt_time(p.now());
    let mut tx = p.db.begin().await?;
    if !claim(p, &mut tx, id, node).await? {
        return Ok(false);
    }
    runtime::note(
        &mut tx,
        instance,
        &at,
        "system",
        Note {
            node: String::new(),
            kind: "instance_overdue",
            detail: json!({ "due_at": s.due_at.map(fmt_time) }),
        },
    )
    .await?;
    sqlx::query("INSERT INTO outbox (id, topic, payload, created_at) VALUES ($1, $2, $3, $4)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind("workflow.instance_overdue")
        .bind(
            json!({ "instance": instance, "business_key": s.business_key, "org": s.org,
                    "due_at": s.due_at.map(fmt_time) })
            .to_string(),
        )
        .bind(&at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

async fn fire_limit(
    p: &Platform,
    node: &str,
    id: &str,
    instance: &str,
    work_item: i64,
    task_node: &str,
) -> Result<bool, ServiceError> {
    let task_id = format!("{instance}-{work_item}");
    let before = runtime::get(p, instance).await?;
    let loaded = runtime::load(p, &before.definition_id).await?;
    let escalation = runtime::step_limit(&loaded.deployment, &before.rules, task_node)
        .map(|(_, e)| e)
        .unwrap_or(Escalation::Notify);
    let at = fmt_time(p.now());
    // Claim the timer, mark the task overdue, record the escalation — one transaction.
    let mut tx = p.db.begin().await?;
    if !claim(p, &mut tx, id, node).await? {
        return Ok(false);
    }
    sqlx::query("UPDATE wf_tasks SET overdue = 1 WHERE id = $1")
        .bind(&task_id)
        .execute(&mut *tx)
        .await?;
    runtime::note(
        &mut tx,
        instance,
        &at,
        "system",
        Note {
            node: task_node.to_owned(),
            kind: "overdue",
            detail: json!({ "task": task_id, "escalation": escalation.as_text() }),
        },
    )
    .await?;
    let task = inbox::get(p, &task_id).await?;
    sqlx::query("INSERT INTO outbox (id, topic, payload, created_at) VALUES ($1, $2, $3, $4)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind("workflow.overdue")
        .bind(
            json!({ "instance": instance, "business_key": before.business_key, "task": task_id,
                    "node": task_node, "org": task.org, "assignee": task.assignee,
                    "escalation": escalation.as_text() })
            .to_string(),
        )
        .bind(&at)
        .execute(&mut *tx)
        .await?;
    if let Escalation::Reassign(role) = &escalation {
        sqlx::query("DELETE FROM wf_offers WHERE task_id = $1")
            .bind(&task_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO wf_offers (task_id, org, role, username) VALUES ($1, $2, $3, '')")
            .bind(&task_id)
            .bind(&task.org)
            .bind(role)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE wf_tasks SET assignee = NULL, owner = NULL, state = 'open' WHERE id = $1 AND state IN ('open', 'delegated')")
            .bind(&task_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    notify_overdue(p, &task, &before.business_key).await;
    // Escalations that move the process are transitions of their own.
    let open = task.state == "open" || task.state == "delegated";
    match escalation {
        Escalation::Complete(approved) if open => {
            let (outcome, opinion) = if approved {
                (Outcome::Approve, "超过办理时限，按规定视为同意（默认同意）")
            } else {
                (Outcome::Reject, "超过办理时限，按规定视为不同意")
            };
            inbox::complete_as(p, instance, &task_id, "system", outcome, opinion).await?;
        }
        Escalation::SendBack if open => {
            if let Err(e) =
                inbox::send_back_as(p, &task, "system", None, "超过办理时限，自动退回上一环节")
                    .await
            {
                tracing::info!(task = %task_id, error = %e, "overdue task could not be sent back; notified only");
            }
        }
        _ => {}
    }
    Ok(true)
}

/// Tell the people who can act on an overdue task (its holder, else everyone it is offered to,
/// at most 20) by SMS, where the platform has their mobile number. A failed message is logged;
/// the overdue mark, history row and outbox event are already committed.
async fn notify_overdue(p: &Platform, task: &inbox::Task, case: &str) {
    let who = match &task.assignee {
        Some(u) => {
            sqlx::query("SELECT id, display_name FROM staff WHERE username = $1 AND disabled = 0")
                .bind(u)
                .fetch_all(p.db.pool())
                .await
        }
        None => {
            sqlx::query(
                "SELECT DISTINCT s.id, s.display_name FROM wf_offers o \
             JOIN staff_roles r ON r.org = o.org AND r.role = o.role \
             JOIN staff s ON s.id = r.staff_id \
             WHERE o.task_id = $1 AND s.disabled = 0 AND s.phone_enc IS NOT NULL LIMIT 20",
            )
            .bind(&task.id)
            .fetch_all(p.db.pool())
            .await
        }
    };
    let Ok(rows) = who else {
        tracing::warn!(task = %task.id, "overdue: recipients could not be read");
        return;
    };
    let due = task
        .due_at
        .as_deref()
        .and_then(yiwang_store::parse_time)
        .map(|t| {
            t.with_timezone(&p.calendar().offset())
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    for r in rows {
        let (Ok(id), Ok(name)) = (
            r.try_get::<String, _>("id"),
            r.try_get::<String, _>("display_name"),
        ) else {
            continue;
        };
        crate::identity::staff_admin::text(
            p,
            &id,
            "task_overdue",
            &[
                ("name", &name),
                ("case", case),
                ("step", &task.name),
                ("due", &due),
            ],
            &format!("task {}", task.id),
        )
        .await;
    }
}

/// Run the sweep every `every` until the process ends (started by `serve`).
pub async fn run(p: std::sync::Arc<Platform>, node: String, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        loop {
            match fire_due(&p, &node, 200).await {
                Ok(f) if f.timers + f.limits + f.instances == 200 => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "timer sweep failed");
                    break;
                }
            }
        }
    }
}
