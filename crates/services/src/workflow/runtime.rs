//! Process instances in the database: start (idempotent per business key), every transition
//! applied by the engine and written in one transaction (instance document, tasks, offers,
//! timers, history, outbox) guarded by the instance's `rev`, suspension and resumption (the
//! clock stops and deadlines move by the paused working time), messages, version migration,
//! and the views that explain an instance.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::{Any, Row, Transaction};
use yiwang_store::{fmt_time, parse_time};
use yiwang_workflow::engine::{HistoryKind, Instance, InstanceState};
use yiwang_workflow::model::Timer;
use yiwang_workflow::{Deployment, Escalation, Limit};

use super::{Definition, Rules, TaskRule, assign, parse_limit};
use crate::{Platform, ServiceError};

/// A deployed version, parsed and compiled once per process.
pub struct Loaded {
    /// The version.
    pub definition: Definition,
    /// Ready to run.
    pub deployment: Deployment,
}

/// Compiled deployments by definition id (deployments never change, so entries never go
/// stale), and the instances this node wrote last. A cached instance may be stale when another
/// node changed it: the `rev` guard of the next write then fails, and the caller reads it
/// afresh — the cache saves a read, it never decides anything.
#[derive(Default)]
pub struct Cache {
    deployments: RwLock<HashMap<String, Arc<Loaded>>>,
    instances: std::sync::Mutex<HashMap<String, Stored>>,
}

/// Most instances kept in memory per node.
const INSTANCE_CACHE: usize = 20_000;

impl Cache {
    fn instance(&self, id: &str) -> Option<Stored> {
        match self.instances.lock() {
            Ok(g) => g.get(id).cloned(),
            Err(p) => p.into_inner().get(id).cloned(),
        }
    }
    pub(crate) fn keep(&self, s: &Stored) {
        let mut g = match self.instances.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if g.len() >= INSTANCE_CACHE {
            g.clear();
        }
        if s.state == "running" {
            g.insert(s.id.clone(), s.clone());
        } else {
            g.remove(&s.id);
        }
    }
    /// After a note committed: the cached copy moves to the note's `rev` when it was the one
    /// just before (so the next transition need not meet a conflict and read again); any other
    /// copy is dropped.
    pub(super) fn noted(&self, id: &str, n: Noted) {
        let mut g = match self.instances.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match g.get_mut(id) {
            Some(s) if s.rev == n.rev - 1 => {
                s.rev = n.rev;
                s.hseq = n.hseq;
            }
            Some(_) => {
                g.remove(id);
            }
            None => {}
        }
    }
    pub(super) fn forget(&self, id: &str) {
        match self.instances.lock() {
            Ok(mut g) => g.remove(id),
            Err(p) => p.into_inner().remove(id),
        };
    }
    fn get(&self, id: &str) -> Option<Arc<Loaded>> {
        match self.deployments.read() {
            Ok(g) => g.get(id).cloned(),
            Err(p) => p.into_inner().get(id).cloned(),
        }
    }
    fn put(&self, l: Arc<Loaded>) {
        let id = l.definition.id.clone();
        match self.deployments.write() {
            Ok(mut g) => g.insert(id, l),
            Err(p) => p.into_inner().insert(id, l),
        };
    }
}

/// The compiled deployment of a definition id.
pub async fn load(p: &Platform, id: &str) -> Result<Arc<Loaded>, ServiceError> {
    if let Some(l) = p.workflow.get(id) {
        return Ok(l);
    }
    let (definition, xml) = super::definition_xml(p, id).await?;
    let deployment = yiwang_workflow::check(&xml).map_err(|e| {
        ServiceError::internal(format!("stored process {id} no longer deploys: {e}"))
    })?;
    let l = Arc::new(Loaded {
        definition,
        deployment,
    });
    p.workflow.put(l.clone());
    Ok(l)
}

/// The latest version of a process key.
pub async fn latest(p: &Platform, key: &str) -> Result<Arc<Loaded>, ServiceError> {
    let id: Option<String> = sqlx::query(
        "SELECT id FROM wf_definitions WHERE process_key = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(key)
    .fetch_optional(p.db.pool())
    .await?
    .map(|r| r.try_get("id"))
    .transpose()?;
    let id = id.ok_or_else(|| ServiceError::NotFound {
        what: "流程",
        key: key.to_owned(),
    })?;
    load(p, &id).await
}

/// What starts an instance.
#[derive(Debug, Clone)]
pub struct Start {
    /// The case number (办件编号) or another unique key; starting twice returns the first.
    pub business_key: String,
    /// The item whose binding chooses the process and rules (or `process_key`).
    pub item_code: Option<String>,
    /// A process key when no item is given.
    pub process_key: Option<String>,
    /// The implementing organisation of the case (credit code).
    pub org: String,
    /// Process variables.
    pub variables: Map<String, Value>,
    /// The item's 承诺时限 in working days.
    pub limit_days: Option<u32>,
}

/// One instance as stored.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Id.
    pub id: String,
    /// Definition id.
    pub definition_id: String,
    /// Business key.
    pub business_key: String,
    /// Item code.
    pub item_code: Option<String>,
    /// Implementing organisation.
    pub org: String,
    /// running, suspended, completed, terminated.
    pub state: String,
    /// The engine's document.
    pub inst: Instance,
    /// Binding rules, fixed at start.
    pub rules: Rules,
    /// Optimistic lock.
    pub rev: i64,
    /// Last history sequence number.
    pub hseq: i64,
    /// Instance deadline.
    pub due_at: Option<DateTime<Utc>>,
    /// Since when suspended.
    pub suspended_at: Option<DateTime<Utc>>,
}

const INSTANCE_COLUMNS: &str = "id, definition_id, business_key, item_code, org, state, data, \
    rules, rev, hseq, due_at, suspended_at";

fn stored(r: &yiwang_store::AnyRow) -> Result<Stored, ServiceError> {
    let data: String = r.try_get("data")?;
    let rules: String = r.try_get("rules")?;
    let t = |c: &str| -> Result<Option<DateTime<Utc>>, ServiceError> {
        Ok(r.try_get::<Option<String>, _>(c)?
            .as_deref()
            .and_then(parse_time))
    };
    Ok(Stored {
        id: r.try_get("id")?,
        definition_id: r.try_get("definition_id")?,
        business_key: r.try_get("business_key")?,
        item_code: r.try_get("item_code")?,
        org: r.try_get("org")?,
        state: r.try_get("state")?,
        inst: serde_json::from_str(&data)?,
        rules: serde_json::from_str(&rules)?,
        rev: r.try_get("rev")?,
        hseq: r.try_get("hseq")?,
        due_at: t("due_at")?,
        suspended_at: t("suspended_at")?,
    })
}

/// Read an instance.
pub async fn get(p: &Platform, id: &str) -> Result<Stored, ServiceError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {INSTANCE_COLUMNS} FROM wf_instances WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(|| ServiceError::NotFound {
        what: "流程实例",
        key: id.to_owned(),
    })?;
    stored(&r)
}

/// Read the instance of a business key.
pub async fn by_business_key(p: &Platform, key: &str) -> Result<Option<Stored>, ServiceError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {INSTANCE_COLUMNS} FROM wf_instances WHERE business_key = $1"
    )))
    .bind(key)
    .fetch_optional(p.db.pool())
    .await?;
    r.as_ref().map(stored).transpose()
}

/// A history row written besides the engine's own.
#[derive(Debug, Clone)]
pub struct Note {
    /// The node it is about ("" for the instance).
    pub node: String,
    /// What happened (`claimed`, `delegated`, `suspended`, …).
    pub kind: &'static str,
    /// Anything else (opinion, target, reason).
    pub detail: Value,
}

/// A task completed by this transition.
#[derive(Debug, Clone)]
pub struct Done {
    /// The task row id.
    pub task_id: String,
    /// Who (username or `system`).
    pub by: String,
    /// `approve`, `reject`, `send_back`, …
    pub outcome: String,
    /// The opinion.
    pub opinion: String,
    /// The completer takes a free task on the way (签收 and 办理 in one transition): the task
    /// must then be free or already theirs. Otherwise (escalations, a held task) whoever holds
    /// it does not matter.
    pub claims: bool,
}

/// The rule of one task: the binding's override over the declared one.
pub(super) fn step_limit(d: &Deployment, rules: &Rules, node: &str) -> Option<(Limit, Escalation)> {
    let n = d.process.node(node)?;
    let r: Option<&TaskRule> = rules.get(node);
    let limit = r
        .and_then(|r| r.limit.as_deref())
        .and_then(parse_limit)
        .or_else(|| n.step.as_ref().map(|s| s.limit))?;
    let escalation = r
        .and_then(|r| r.escalation.as_deref())
        .and_then(Escalation::parse)
        .or_else(|| n.step.as_ref().map(|s| s.escalation.clone()))
        .unwrap_or(Escalation::Notify);
    Some((limit, escalation))
}

/// When a BPMN timer armed at `at` is due (durations in calendar time, as ISO 8601 defines).
pub fn timer_due(timer: &Timer, at: DateTime<Utc>, round: u32) -> DateTime<Utc> {
    let add = |t: DateTime<Utc>, d: &yiwang_workflow::iso::Duration| -> DateTime<Utc> {
        let months = d.years.saturating_mul(12).saturating_add(d.months);
        let t = t
            .checked_add_months(chrono::Months::new(months))
            .unwrap_or(t);
        t + chrono::Duration::weeks(i64::from(d.weeks))
            + chrono::Duration::days(i64::from(d.days))
            + chrono::Duration::hours(i64::from(d.hours))
            + chrono::Duration::minutes(i64::from(d.minutes))
            + chrono::Duration::seconds(i64::from(d.seconds))
    };
    match timer {
        Timer::Duration(t) => yiwang_workflow::iso::duration(t)
            .map(|d| add(at, &d))
            .unwrap_or(at),
        Timer::Date(t) => parse_date(t).unwrap_or(at),
        Timer::Cycle(t) => match yiwang_workflow::iso::cycle_parts(t) {
            Ok(c) => match c.start.as_deref().and_then(parse_date) {
                Some(s) if round == 0 => s.max(at),
                _ => add(at, &c.every),
            },
            Err(_) => at,
        },
    }
}

fn parse_date(t: &str) -> Option<DateTime<Utc>> {
    let t = t.trim();
    if let Ok(x) = DateTime::parse_from_rfc3339(t) {
        return Some(x.with_timezone(&Utc));
    }
    let china = chrono::FixedOffset::east_opt(8 * 3600)?;
    let naive = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M"))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    naive
        .and_local_timezone(china)
        .single()
        .map(|x| x.with_timezone(&Utc))
}

fn history_kind(k: &HistoryKind) -> (&'static str, Value) {
    match k {
        HistoryKind::Entered => ("entered", json!({})),
        HistoryKind::Left => ("left", json!({})),
        HistoryKind::WorkItemCompleted { work_item } => {
            ("completed", json!({ "work_item": work_item }))
        }
        HistoryKind::Cancelled => ("cancelled", json!({})),
        HistoryKind::Action { action } => ("action", json!({ "action": action })),
        HistoryKind::SentBack { to } => ("sent_back", json!({ "to": to })),
        HistoryKind::Withdrawn => ("withdrawn", json!({})),
        HistoryKind::Migrated { from } => ("migrated", json!({ "from": from })),
    }
}

fn id_list(ids: impl Iterator<Item = u64>) -> String {
    let v: Vec<String> = ids.map(|i| i.to_string()).collect();
    if v.is_empty() {
        "-1".into()
    } else {
        v.join(", ")
    }
}

use yiwang_store::Bind as Arg;
use yiwang_store::batch::{Batch, BatchError, values};

/// The statements of one transition: the engine went from `before.inst` to `after`; `done` is
/// the task a person (or an escalation) completed; `notes` are history rows written before the
/// engine's (a `withdraw` note's `reopen_for` user holds the re-opened task at once). Every
/// statement goes in one [`Batch`], whose guards fail (a Conflict) when somebody else changed
/// the instance since it was read (its `rev`) or the completed task is no longer open.
/// What the first write of an instance needs besides the instance: its row is inserted (with
/// the instance limit and its timer) instead of updated.
struct Fresh {
    limit_days: Option<u32>,
}

async fn prepare(
    p: &Platform,
    before: &Stored,
    mut after: Instance,
    actor: &str,
    done: Option<&Done>,
    notes: Vec<Note>,
    fresh: Option<&Fresh>,
) -> Result<(Batch, Stored), ServiceError> {
    let now = p.now();
    let at = fmt_time(now);
    let loaded = load(p, &before.definition_id).await?;
    let d = &loaded.deployment;
    let engine_history = after.take_history();
    let mut b = Batch::default();
    let id = before.id.as_str();

    // History rows, numbered after the instance's last.
    let reopen_for: Option<(String, String)> =
        notes.iter().find(|n| n.kind == "withdraw").and_then(|n| {
            n.detail["reopen_for"]
                .as_str()
                .map(|u| (n.node.clone(), u.to_owned()))
        });
    let mut seq = before.hseq;
    let mut rows: Vec<(i64, String, &'static str, String)> = Vec::new();
    for n in notes {
        seq += 1;
        rows.push((seq, n.node, n.kind, n.detail.to_string()));
    }
    let first_engine_seq = seq + 1;
    let mut actions = Vec::new();
    for h in &engine_history {
        seq += 1;
        let (kind, mut detail) = history_kind(&h.kind);
        if let (HistoryKind::WorkItemCompleted { .. }, Some(done)) = (&h.kind, done) {
            detail["outcome"] = json!(done.outcome);
            detail["opinion"] = json!(done.opinion);
        }
        if let HistoryKind::Action { action } = &h.kind {
            actions.push((h.node.clone(), action.clone()));
        }
        rows.push((seq, h.node.clone(), kind, detail.to_string()));
    }
    let state = match after.state {
        InstanceState::Running => {
            if before.state == "suspended" {
                "suspended"
            } else {
                "running"
            }
        }
        InstanceState::Completed => "completed",
        InstanceState::Terminated => "terminated",
    };
    let ended = matches!(
        after.state,
        InstanceState::Completed | InstanceState::Terminated
    );
    if let Some(f) = fresh {
        b.push(
            "INSERT INTO wf_instances (id, definition_id, business_key, item_code, org, state, \
             data, rules, rev, hseq, started_at, started_by, limit_days, due_at, ended_at, \
             end_event) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $12, $13, $14, $15)",
            vec![
                id.into(),
                (&before.definition_id).into(),
                (&before.business_key).into(),
                before.item_code.clone().into(),
                (&before.org).into(),
                state.into(),
                serde_json::to_string(&after)?.into(),
                serde_json::to_string(&before.rules)?.into(),
                seq.into(),
                (&at).into(),
                actor.into(),
                f.limit_days.map(i64::from).into(),
                before.due_at.map(fmt_time).into(),
                ended.then(|| at.clone()).into(),
                after.end_event.clone().into(),
            ],
        );
    } else {
        b.guard(
            "UPDATE wf_instances SET data = $1, state = $2, rev = rev + 1, hseq = $3, \
             ended_at = $4, end_event = $5 WHERE id = $6 AND rev = $7 \
             RETURNING CAST('i' AS TEXT) AS k",
            vec![
                serde_json::to_string(&after)?.into(),
                state.into(),
                seq.into(),
                ended.then(|| at.clone()).into(),
                after.end_event.clone().into(),
                id.into(),
                before.rev.into(),
            ],
        );
    }
    if !rows.is_empty() {
        let mut args = Vec::with_capacity(rows.len() * 7);
        for (s, node, kind, detail) in &rows {
            args.extend([
                id.into(),
                (*s).into(),
                (&at).into(),
                node.into(),
                (*kind).into(),
                actor.into(),
                detail.into(),
            ]);
        }
        b.push(
            &format!(
                "INSERT INTO wf_history (instance_id, seq, at, node, kind, actor, detail) VALUES {}",
                values(rows.len(), 7)
            ),
            args,
        );
    }
    if let Some(done) = done {
        b.guard(
            if done.claims {
                "UPDATE wf_tasks SET state = 'done', done_at = $1, done_seq = $2, done_by = $3, \
                 outcome = $4, opinion = $5, assignee = $3 WHERE id = $6 AND state = 'open' \
                 AND (assignee IS NULL OR assignee = $3) RETURNING CAST('d' AS TEXT) AS k"
            } else {
                "UPDATE wf_tasks SET state = 'done', done_at = $1, done_seq = $2, done_by = $3, \
                 outcome = $4, opinion = $5 WHERE id = $6 AND state = 'open' RETURNING CAST('d' AS TEXT) AS k"
            },
            vec![
                (&at).into(),
                first_engine_seq.into(),
                (&done.by).into(),
                (&done.outcome).into(),
                (&done.opinion).into(),
                (&done.task_id).into(),
            ],
        );
        b.push(
            "UPDATE wf_offers SET live = 0 WHERE task_id = $1",
            vec![(&done.task_id).into()],
        );
    }
    // Tasks and timers that went away (the completed task excluded: it is done, not cancelled).
    let live_items: HashSet<u64> = after.work_items.iter().map(|w| w.id).collect();
    let gone: Vec<&yiwang_workflow::WorkItem> = before
        .inst
        .work_items
        .iter()
        .filter(|w| !live_items.contains(&w.id))
        .collect();
    let done_id = done.map(|x| x.task_id.clone()).unwrap_or_default();
    if gone.iter().any(|w| format!("{id}-{}", w.id) != done_id) {
        // The offers first: on SQLite the statements run in order, and this one finds the
        // tasks by their state before the next closes them.
        b.push(
            &format!(
                "UPDATE wf_offers SET live = 0 WHERE task_id IN (SELECT t.id FROM wf_tasks t \
                 WHERE t.instance_id = $1 AND t.state IN ('open', 'delegated') AND t.id <> $2 \
                 AND t.work_item NOT IN ({}))",
                id_list(live_items.iter().copied())
            ),
            vec![id.into(), done_id.clone().into()],
        );
        b.push(
            &format!(
                "UPDATE wf_tasks SET state = 'cancelled', done_at = $1 WHERE instance_id = $2 \
                 AND state IN ('open', 'delegated') AND id <> $3 AND work_item NOT IN ({})",
                id_list(live_items.iter().copied())
            ),
            vec![(&at).into(), id.into(), done_id.clone().into()],
        );
    }
    let live_timers: HashSet<u64> = after.timers.iter().map(|t| t.id).collect();
    let timers_gone = before
        .inst
        .timers
        .iter()
        .any(|t| !live_timers.contains(&t.id));
    let limits_gone = gone
        .iter()
        .any(|w| step_limit(d, &before.rules, &w.node).is_some());
    if ended {
        b.push(
            "UPDATE wf_timers SET state = 'cancelled' WHERE instance_id = $1 AND state = 'pending'",
            vec![id.into()],
        );
    } else if timers_gone || limits_gone {
        b.push(
            &format!(
                "UPDATE wf_timers SET state = 'cancelled' WHERE instance_id = $1 AND state = 'pending' \
                 AND ((kind = 'timer' AND timer NOT IN ({})) OR (kind = 'limit' AND work_item NOT IN ({})))",
                id_list(live_timers.iter().copied()),
                id_list(live_items.iter().copied()),
            ),
            vec![id.into()],
        );
    }
    // New tasks, their offers and step limits.
    let before_items: HashSet<u64> = before.inst.work_items.iter().map(|w| w.id).collect();
    let new_items: Vec<_> = after
        .work_items
        .iter()
        .filter(|w| !before_items.contains(&w.id))
        .collect();
    let mut timers: Vec<[Arg; 8]> = Vec::new();
    if !new_items.is_empty() {
        let master = p.master.get();
        let calendar = p.calendar();
        let mut task_args = Vec::new();
        let mut offer_args = Vec::new();
        let mut offers = 0;
        for w in &new_items {
            let task_id = format!("{id}-{}", w.id);
            let o = assign::offer(
                &master,
                &before.org,
                &w.assignment,
                before.rules.get(&w.node),
            );
            let due = step_limit(d, &before.rules, &w.node).map(|(l, _)| match l {
                Limit::WorkingDays(n) => calendar.add_working_days(now, n),
                Limit::WorkingHours(n) => calendar.add_working_hours(now, n),
            });
            for (org, role) in &o.pairs {
                offer_args.extend([(&task_id).into(), org.into(), role.into(), "".into()]);
                offers += 1;
            }
            for u in &o.users {
                offer_args.extend([(&task_id).into(), "".into(), "".into(), u.into()]);
                offers += 1;
            }
            if let Some(due) = due {
                timers.push([
                    format!("{task_id}-limit").into(),
                    id.into(),
                    "limit".into(),
                    Arg::Int(None),
                    Arg::Int(Some(w.id as i64)),
                    (&w.node).into(),
                    fmt_time(due).into(),
                    "pending".into(),
                ]);
            }
            let holder = match &reopen_for {
                Some((node, user)) if *node == w.node => Some(user.clone()),
                _ => o.assignee,
            };
            task_args.extend([
                task_id.into(),
                id.into(),
                (w.id as i64).into(),
                (&w.node).into(),
                w.name.clone().unwrap_or_else(|| w.node.clone()).into(),
                o.org.into(),
                "open".into(),
                holder.into(),
                (&at).into(),
                first_engine_seq.into(),
                due.map(fmt_time).into(),
                0_i64.into(),
            ]);
        }
        b.push(
            &format!(
                "INSERT INTO wf_tasks (id, instance_id, work_item, node, name, org, state, assignee, \
                 created_at, created_seq, due_at, overdue) VALUES {}",
                values(new_items.len(), 12)
            ),
            task_args,
        );
        if offers > 0 {
            b.push(
                &format!(
                    "INSERT INTO wf_offers (task_id, org, role, username) VALUES {}",
                    values(offers, 4)
                ),
                offer_args,
            );
        }
    }
    // The instance limit (承诺时限) of a new instance.
    if let (Some(_), Some(due), false) = (fresh, before.due_at, ended) {
        timers.push([
            format!("{id}-due").into(),
            id.into(),
            "due".into(),
            Arg::Int(None),
            Arg::Int(None),
            "".into(),
            fmt_time(due).into(),
            "pending".into(),
        ]);
    }
    // New BPMN timers.
    let before_timers: HashSet<u64> = before.inst.timers.iter().map(|t| t.id).collect();
    for t in after
        .timers
        .iter()
        .filter(|t| !before_timers.contains(&t.id))
    {
        timers.push([
            format!("{id}-t{}", t.id).into(),
            id.into(),
            "timer".into(),
            Arg::Int(Some(t.id as i64)),
            Arg::Int(None),
            (&t.node).into(),
            fmt_time(timer_due(&t.timer, now, t.round)).into(),
            "pending".into(),
        ]);
    }
    if !timers.is_empty() {
        let n = timers.len();
        b.push(
            &format!(
                "INSERT INTO wf_timers (id, instance_id, kind, timer, work_item, node, due_at, state) VALUES {}",
                values(n, 8)
            ),
            timers.into_iter().flatten().collect(),
        );
    }
    // Outbox: platform actions and the end.
    let mut events: Vec<(&str, Value)> = actions
        .into_iter()
        .map(|(node, action)| {
            (
                "workflow.action",
                json!({ "instance": id, "business_key": before.business_key, "node": node, "action": action, "org": before.org }),
            )
        })
        .collect();
    if ended {
        events.push((
            "workflow.ended",
            json!({ "instance": id, "business_key": before.business_key, "state": state, "end_event": after.end_event, "variables": after.variables }),
        ));
    }
    if !events.is_empty() {
        // The subject is the business key (a case's process: the case), so that the request
        // that ended the process can have the case decided at once.
        let subject = Some(before.business_key.clone()).filter(|k| !k.is_empty());
        let mut args = Vec::new();
        for (topic, payload) in &events {
            args.extend([
                uuid::Uuid::now_v7().to_string().into(),
                (*topic).into(),
                payload.to_string().into(),
                (&at).into(),
                Arg::Text(subject.clone()),
            ]);
        }
        b.push(
            &format!(
                "INSERT INTO outbox (id, topic, payload, created_at, subject) VALUES {}",
                values(events.len(), 5)
            ),
            args,
        );
    }
    Ok((
        b,
        Stored {
            state: state.to_owned(),
            inst: after,
            rev: before.rev + 1,
            hseq: seq,
            ..before.clone()
        },
    ))
}

/// [`prepare`] and run inside the caller's transaction.
pub(super) async fn write(
    p: &Platform,
    tx: &mut Transaction<'static, Any>,
    before: &Stored,
    after: Instance,
    actor: &str,
    done: Option<&Done>,
    notes: Vec<Note>,
) -> Result<Stored, ServiceError> {
    let (b, written) = prepare(p, before, after, actor, done, notes, None).await?;
    b.run(p.db.backend(), tx).await.map_err(batch_error)?;
    Ok(written)
}

pub(super) fn engine_error(e: yiwang_workflow::EngineError) -> ServiceError {
    use yiwang_workflow::EngineError as E;
    match e {
        E::BadTarget(_)
        | E::NothingToWithdraw(_)
        | E::NotRunning
        | E::UnknownWorkItem(_)
        | E::NoSubscription(_) => ServiceError::Conflict(e.to_string()),
        other => ServiceError::Invalid(vec![crate::FieldError::new(
            "process",
            format!("流程无法继续：{other}"),
            format!("the process cannot go on: {other}"),
        )]),
    }
}
pub(super) use engine_error as to_service_error;

/// Start an instance (idempotent: the same business key returns the running instance).
pub async fn start(p: &Platform, actor: &str, s: Start) -> Result<Stored, ServiceError> {
    let business_key = s.business_key.clone();
    let (batch, written) = prepare_start(p, actor, s).await?;
    match batch.commit_alone(&p.db).await.map_err(batch_error) {
        Ok(()) => {
            p.workflow.keep(&written);
            Ok(written)
        }
        // The business key exists: this start was a retry, or raced another.
        Err(ServiceError::Conflict(_)) => {
            by_business_key(p, &business_key).await?.ok_or_else(|| {
                ServiceError::Conflict("同时启动了同一办件的流程 / started concurrently".into())
            })
        }
        Err(e) => Err(e),
    }
}

/// The statements that start an instance, to commit with the change that starts it (a case's
/// acceptance), and the instance they write, for this node's cache after the commit. The batch is a
/// conflict when an instance with the business key exists.
pub(crate) async fn prepare_start(
    p: &Platform,
    actor: &str,
    s: Start,
) -> Result<(Batch, Stored), ServiceError> {
    let (loaded, rules) = match (&s.item_code, &s.process_key) {
        (Some(code), _) => {
            let b = super::binding(p, code).await?.ok_or_else(|| {
                ServiceError::Invalid(vec![crate::FieldError::new(
                    "item",
                    format!("事项 {code} 没有绑定审批流程"),
                    format!("item {code} is bound to no approval process"),
                )])
            })?;
            (latest(p, &b.process_key).await?, b.rules)
        }
        (None, Some(key)) => (latest(p, key).await?, Rules::new()),
        (None, None) => {
            return Err(ServiceError::Invalid(vec![crate::FieldError::new(
                "process",
                "请指定事项或流程",
                "name an item or a process",
            )]));
        }
    };
    if p.master.get().organisation(&s.org).is_none() {
        return Err(ServiceError::Invalid(vec![crate::FieldError::new(
            "org",
            format!("没有组织 {}", s.org),
            format!("no organisation {}", s.org),
        )]));
    }
    let now = p.now();
    let inst = loaded
        .deployment
        .start(s.variables.clone())
        .map_err(engine_error)?;
    // The instance limit: as given, else the item's 承诺办结时限 (working days; 0 = none).
    let limit_days = match (s.limit_days, &s.item_code) {
        (Some(n), _) => Some(n),
        (None, Some(code)) => match crate::catalogue::published(p, code).await {
            Ok(item) => Some(u32::from(item.guide.promised_limit_days)),
            Err(ServiceError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        },
        (None, None) => None,
    };
    let due = limit_days
        .filter(|n| *n > 0)
        .map(|n| p.calendar().add_working_days(now, n));
    let id = uuid::Uuid::now_v7().to_string();
    let mut empty = inst.clone();
    empty.work_items.clear();
    empty.timers.clear();
    empty.history.clear();
    let before = Stored {
        id: id.clone(),
        definition_id: loaded.definition.id.clone(),
        business_key: s.business_key.clone(),
        item_code: s.item_code.clone(),
        org: s.org.clone(),
        state: "running".into(),
        inst: empty,
        rules,
        rev: 0,
        hseq: 0,
        due_at: due,
        suspended_at: None,
    };
    let notes = vec![Note {
        node: String::new(),
        kind: "started",
        detail: json!({ "definition": loaded.definition.id, "variables": s.variables }),
    }];
    let fresh = Fresh { limit_days };
    prepare(p, &before, inst, actor, None, notes, Some(&fresh)).await
}

/// Apply an engine operation to an instance and write it. The instance comes from this node's
/// cache when it has it; when the write meets a newer `rev` (another node or a person's claim
/// wrote since), the operation is applied once more to a fresh read.
pub(super) async fn transition(
    p: &Platform,
    id: &str,
    actor: &str,
    done: Option<Done>,
    notes: Vec<Note>,
    op: impl Fn(&Deployment, &Stored, &mut Instance) -> Result<(), ServiceError>,
) -> Result<Stored, ServiceError> {
    let before = match p.workflow.instance(id) {
        Some(s) => s,
        None => get(p, id).await?,
    };
    // A conflict on a cached or a just-read copy (a claim or note moved `rev` meanwhile) is
    // retried once on a fresh read; the operation decides again on what is there now.
    match transition_from(p, before, actor, done.as_ref(), notes.clone(), &op).await {
        Err(ServiceError::Conflict(_)) => {
            p.workflow.forget(id);
            let fresh = get(p, id).await?;
            transition_from(p, fresh, actor, done.as_ref(), notes, &op).await
        }
        other => other,
    }
}

async fn transition_from(
    p: &Platform,
    before: Stored,
    actor: &str,
    done: Option<&Done>,
    notes: Vec<Note>,
    op: &impl Fn(&Deployment, &Stored, &mut Instance) -> Result<(), ServiceError>,
) -> Result<Stored, ServiceError> {
    // Nobody completes a task while the case's clock is stopped (checked again here: the case
    // may have been suspended since the caller looked).
    if done.is_some() && before.state != "running" {
        return Err(require_running(&before)
            .err()
            .unwrap_or_else(conflict_error));
    }
    let loaded = load(p, &before.definition_id).await?;
    let mut after = before.inst.clone();
    op(&loaded.deployment, &before, &mut after)?;
    let (batch, written) = prepare(p, &before, after, actor, done, notes, None).await?;
    batch.commit_alone(&p.db).await.map_err(batch_error)?;
    p.workflow.keep(&written);
    Ok(written)
}

fn batch_error(e: BatchError) -> ServiceError {
    match e {
        BatchError::Conflict => conflict_error(),
        BatchError::Store(e) => e.into(),
    }
}

fn conflict_error() -> ServiceError {
    ServiceError::Conflict(
        "流程已被他人办理，请刷新后重试 / the case or task was changed by someone else: reload and try again".into(),
    )
}

pub(super) fn require_running(s: &Stored) -> Result<(), ServiceError> {
    match s.state.as_str() {
        "running" => Ok(()),
        "suspended" => Err(ServiceError::Conflict(
            "办件已暂停计时（补正或特别程序中），恢复后才能办理 / the case is suspended".into(),
        )),
        _ => Err(ServiceError::Conflict(
            "流程已结束 / the process has ended".into(),
        )),
    }
}
pub(super) use require_running as running;

/// Deliver a message (e.g. `supplement_received`, 补正材料已收到) to an instance.
pub async fn message(
    p: &Platform,
    actor: &str,
    id: &str,
    name: &str,
) -> Result<Stored, ServiceError> {
    let note = Note {
        node: String::new(),
        kind: "message",
        detail: json!({ "message": name }),
    };
    transition(p, id, actor, None, vec![note], |d, s, i| {
        if s.state != "running" && s.state != "suspended" {
            return Err(ServiceError::Conflict(
                "流程已结束 / the process has ended".into(),
            ));
        }
        d.message(i, name).map_err(engine_error)
    })
    .await
}

/// Suspend an instance (补正, 特别程序): its clock stops, nothing can be completed, timers wait.
pub async fn suspend(
    p: &Platform,
    actor: &str,
    id: &str,
    reason: &str,
) -> Result<Stored, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::Invalid(vec![crate::FieldError::new(
            "reason",
            "请填写暂停原因",
            "give the reason",
        )]));
    }
    let s = get(p, id).await?;
    require_running(&s)?;
    let now = fmt_time(p.now());
    let mut tx = p.db.begin().await?;
    let n = sqlx::query(
        "UPDATE wf_instances SET state = 'suspended', suspended_at = $1, suspend_reason = $2, \
         rev = rev + 1, hseq = hseq + 1 WHERE id = $3 AND rev = $4 RETURNING hseq",
    )
    .bind(&now)
    .bind(reason)
    .bind(id)
    .bind(s.rev)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(n) = n else {
        return Err(ServiceError::Conflict(
            "流程已被他人办理 / changed by someone else".into(),
        ));
    };
    history_row(
        &mut tx,
        id,
        n.try_get("hseq")?,
        &now,
        "",
        "suspended",
        actor,
        json!({ "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    p.workflow.forget(id);
    get(p, id).await
}

/// Moves a running instance's deadline (its limit and the limit's timer) to `due` inside the
/// caller's transaction — 延长审批 of its case — with a history row; this node's cached copy
/// is dropped.
pub async fn extend_due(
    p: &Platform,
    tx: &mut Transaction<'static, Any>,
    id: &str,
    due: DateTime<Utc>,
    actor: &str,
    detail: Value,
) -> Result<(), ServiceError> {
    p.workflow.forget(id);
    let due = fmt_time(due);
    let r = sqlx::query(
        "UPDATE wf_instances SET due_at = $1, rev = rev + 1, hseq = hseq + 1 \
         WHERE id = $2 AND state = 'running' RETURNING hseq",
    )
    .bind(&due)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| ServiceError::Conflict("流程不在办理中 / the process is not running".into()))?;
    let hseq: i64 = r.try_get("hseq")?;
    sqlx::query(
        "UPDATE wf_timers SET due_at = $1 WHERE instance_id = $2 AND kind = 'due' AND state = 'pending'",
    )
    .bind(&due)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    history_row(
        tx,
        id,
        hseq,
        &fmt_time(p.now()),
        "",
        "limit_extended",
        actor,
        detail,
    )
    .await
}

/// Resume a suspended instance: every deadline (the instance's, each open task's, each step
/// limit) moves by the working time it was paused; calendar timers move by the wall time.
pub async fn resume(p: &Platform, actor: &str, id: &str) -> Result<Stored, ServiceError> {
    let s = get(p, id).await?;
    let Some(since) = s.suspended_at.filter(|_| s.state == "suspended") else {
        return Err(ServiceError::Conflict(
            "办件没有暂停 / the case is not suspended".into(),
        ));
    };
    let now = p.now();
    let cal = p.calendar();
    let paused = cal.working_time_between(since, now);
    let wall = now - since;
    let shift = |t: DateTime<Utc>| cal.shift_by_working_time(t, paused);
    let at = fmt_time(now);
    let mut tx = p.db.begin().await?;
    let n = sqlx::query(
        "UPDATE wf_instances SET state = 'running', suspended_at = NULL, suspend_reason = NULL, \
         due_at = $1, rev = rev + 1, hseq = hseq + 1 WHERE id = $2 AND rev = $3 RETURNING hseq",
    )
    .bind(s.due_at.map(|d| fmt_time(shift(d))))
    .bind(id)
    .bind(s.rev)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(n) = n else {
        return Err(ServiceError::Conflict(
            "流程已被他人办理 / changed by someone else".into(),
        ));
    };
    let hseq: i64 = n.try_get("hseq")?;
    let tasks = sqlx::query(
        "SELECT id, due_at FROM wf_tasks WHERE instance_id = $1 AND state IN ('open', 'delegated') \
         AND due_at IS NOT NULL",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    for r in tasks {
        let tid: String = r.try_get("id")?;
        let due: String = r.try_get("due_at")?;
        if let Some(d) = parse_time(&due) {
            sqlx::query("UPDATE wf_tasks SET due_at = $1 WHERE id = $2")
                .bind(fmt_time(shift(d)))
                .bind(&tid)
                .execute(&mut *tx)
                .await?;
        }
    }
    let timers = sqlx::query(
        "SELECT id, kind, due_at FROM wf_timers WHERE instance_id = $1 AND state = 'pending'",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    for r in timers {
        let tid: String = r.try_get("id")?;
        let kind: String = r.try_get("kind")?;
        let due: String = r.try_get("due_at")?;
        if let Some(d) = parse_time(&due) {
            // Limits (a step's, the instance's) count working time; BPMN timers calendar time.
            let moved = if kind == "timer" { d + wall } else { shift(d) };
            sqlx::query("UPDATE wf_timers SET due_at = $1 WHERE id = $2")
                .bind(fmt_time(moved))
                .bind(&tid)
                .execute(&mut *tx)
                .await?;
        }
    }
    history_row(
        &mut tx,
        id,
        hseq,
        &at,
        "",
        "resumed",
        actor,
        json!({ "paused_working_minutes": paused.num_minutes(), "paused_minutes": wall.num_minutes() }),
    )
    .await?;
    tx.commit().await?;
    p.workflow.forget(id);
    get(p, id).await
}

/// Add one history row about a person's action (claim, delegation…) without a transition.
pub(super) async fn note(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    at: &str,
    actor: &str,
    n: Note,
) -> Result<Noted, ServiceError> {
    let r = sqlx::query(
        "UPDATE wf_instances SET hseq = hseq + 1, rev = rev + 1 WHERE id = $1 RETURNING hseq, rev",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    let (seq, rev): (i64, i64) = (r.try_get("hseq")?, r.try_get("rev")?);
    history_row(tx, id, seq, at, &n.node, n.kind, actor, n.detail).await?;
    Ok(Noted { rev, hseq: seq })
}

/// Where a note left its instance: its new `rev` and history sequence.
#[derive(Debug, Clone, Copy)]
pub(super) struct Noted {
    rev: i64,
    hseq: i64,
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn history_row(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    seq: i64,
    at: &str,
    node: &str,
    kind: &str,
    actor: &str,
    detail: Value,
) -> Result<(), ServiceError> {
    sqlx::query(
        "INSERT INTO wf_history (instance_id, seq, at, node, kind, actor, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(seq)
    .bind(at)
    .bind(node)
    .bind(kind)
    .bind(actor)
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Move the running instances of `from` (a definition id) to `to` with an explicit activity
/// mapping (old node id → new node id). Every instance is validated first; any problem and
/// nothing moves. Returns how many moved.
pub async fn migrate(
    p: &Platform,
    actor: &crate::identity::staff::Staff,
    from: &str,
    to: &str,
    mapping: &HashMap<String, String>,
) -> Result<usize, ServiceError> {
    super::require_designer(actor)?;
    let (old, new) = (load(p, from).await?, load(p, to).await?);
    if old.definition.process_key != new.definition.process_key || from == to {
        return Err(ServiceError::Invalid(vec![crate::FieldError::new(
            "to",
            "只能迁移到同一流程的另一版本",
            "migrate only to another version of the same process",
        )]));
    }
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {INSTANCE_COLUMNS} FROM wf_instances WHERE definition_id = $1 \
         AND state IN ('running', 'suspended') ORDER BY id"
    )))
    .bind(from)
    .fetch_all(p.db.pool())
    .await?;
    let list: Vec<Stored> = rows.iter().map(stored).collect::<Result<_, _>>()?;
    let mut problems = Vec::new();
    let mut moved = Vec::new();
    for s in &list {
        let mut i = s.inst.clone();
        match new
            .deployment
            .migrate(&mut i, &old.deployment.process, mapping)
        {
            Ok(()) => moved.push((s, i)),
            Err(ps) => problems.extend(ps.into_iter().map(|mut pr| {
                pr.message_zh = format!("办件 {}：{}", s.business_key, pr.message_zh);
                pr.message_en = format!("case {}: {}", s.business_key, pr.message_en);
                pr
            })),
        }
    }
    if !problems.is_empty() {
        return Err(super::problems_error(problems));
    }
    let mut tx = p.db.begin().await?;
    for (s, i) in &moved {
        let n = sqlx::query(
            "UPDATE wf_instances SET definition_id = $1, rev = rev + 1 WHERE id = $2 AND rev = $3",
        )
        .bind(to)
        .bind(&s.id)
        .bind(s.rev)
        .execute(&mut *tx)
        .await?;
        if n.rows_affected() != 1 {
            return Err(ServiceError::Conflict(
                "迁移时办件被办理，请重试 / a case changed during migration".into(),
            ));
        }
        let mut s2 = (*s).clone();
        s2.definition_id = to.to_owned();
        s2.rev += 1;
        // Rename the open tasks' nodes to the new ids.
        for w in &i.work_items {
            sqlx::query("UPDATE wf_tasks SET node = $1 WHERE instance_id = $2 AND work_item = $3")
                .bind(&w.node)
                .bind(&s.id)
                .bind(w.id as i64)
                .execute(&mut *tx)
                .await?;
        }
        write(
            p,
            &mut tx,
            &s2,
            i.clone(),
            &actor.username,
            None,
            Vec::new(),
        )
        .await?;
    }
    crate::identity::audit::append(
        &mut tx,
        p.now(),
        &crate::identity::audit::Entry::success(
            &actor.username,
            "workflow.migrate",
            to,
            json!({ "from": from, "instances": moved.len(), "mapping": mapping }),
        ),
    )
    .await?;
    tx.commit().await?;
    for (s, _) in &moved {
        p.workflow.forget(&s.id);
    }
    Ok(moved.len())
}

/// One history row, for the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    /// Order.
    pub seq: i64,
    /// When.
    pub at: String,
    /// Node id.
    pub node: String,
    /// What happened.
    pub kind: String,
    /// Who.
    pub actor: String,
    /// Details (JSON).
    pub detail: Value,
}

/// An instance's full history.
pub async fn history(p: &Platform, id: &str) -> Result<Vec<HistoryRow>, ServiceError> {
    let rows = sqlx::query(
        "SELECT seq, at, node, kind, actor, detail FROM wf_history WHERE instance_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let detail: String = r.try_get("detail")?;
            Ok(HistoryRow {
                seq: r.try_get("seq")?,
                at: r.try_get("at")?,
                node: r.try_get("node")?,
                kind: r.try_get("kind")?,
                actor: r.try_get("actor")?,
                detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// Completed, active and overdue nodes of an instance, for the diagram.
pub async fn marks(
    p: &Platform,
    s: &Stored,
) -> Result<yiwang_workflow::diagram::Marks, ServiceError> {
    let h = history(p, &s.id).await?;
    let mut m = yiwang_workflow::diagram::Marks::default();
    for r in &h {
        if matches!(r.kind.as_str(), "left" | "completed") && !r.node.is_empty() {
            m.completed.insert(r.node.clone());
        }
    }
    for t in &s.inst.tokens {
        m.active.insert(t.node.clone());
        m.completed.remove(&t.node);
    }
    let now = fmt_time(p.now());
    let overdue = sqlx::query(
        "SELECT node FROM wf_tasks WHERE instance_id = $1 AND state IN ('open', 'delegated') \
         AND (overdue = 1 OR (due_at IS NOT NULL AND due_at < $2))",
    )
    .bind(&s.id)
    .bind(&now)
    .fetch_all(p.db.pool())
    .await?;
    for r in overdue {
        m.overdue.insert(r.try_get("node")?);
    }
    if s.state == "running" && s.due_at.is_some_and(|d| d < p.now()) {
        for w in &s.inst.work_items {
            m.overdue.insert(w.node.clone());
        }
    }
    Ok(m)
}

/// How many instances of a definition are still running or suspended.
pub async fn running_count(p: &Platform, definition: &str) -> Result<i64, ServiceError> {
    Ok(sqlx::query(
        "SELECT count(*) AS n FROM wf_instances WHERE definition_id = $1 AND state IN ('running', 'suspended')",
    )
    .bind(definition)
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?)
}
