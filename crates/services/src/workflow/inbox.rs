//! 待办: the approvers' inbox. Tasks are offered to a role in an organisation (or to named
//! users); an approver claims one, completes it with an outcome and opinion, hands it back,
//! delegates it (委派: the colleague resolves it and it returns), transfers it (转办), sends
//! the case back to an earlier step (退回) or withdraws a completion nobody acted on (撤回).
//! Two people acting on one task: one wins, the other gets a Conflict.

use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::Row;
use yiwang_store::fmt_time;
use yiwang_workflow::model::NodeKind;

use super::runtime::{self, Done, Note};
use crate::identity::staff::Staff;
use crate::{FieldError, Platform, ServiceError};

/// One task as an approver sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    /// Task id.
    pub id: String,
    /// Instance id.
    pub instance_id: String,
    /// The case number.
    pub business_key: String,
    /// The 办件编号 when the instance is a case's approval (its business key is the case id).
    pub case_no: Option<String>,
    /// The item, if any.
    pub item_code: Option<String>,
    /// The user task id.
    pub node: String,
    /// Its name.
    pub name: String,
    /// The organisation it belongs to.
    pub org: String,
    /// open, delegated, done, cancelled.
    pub state: String,
    /// Who holds it (username).
    pub assignee: Option<String>,
    /// Who delegated it.
    pub owner: Option<String>,
    /// When it was opened.
    pub created_at: String,
    /// Step deadline.
    pub due_at: Option<String>,
    /// Whether its limit passed.
    pub overdue: bool,
    /// The instance's state (running, suspended, …).
    pub instance_state: String,
    /// The instance deadline (承诺时限).
    pub instance_due_at: Option<String>,
    /// The outcome, once done.
    pub outcome: Option<String>,
    /// The opinion, once done.
    pub opinion: Option<String>,
    /// Who did it.
    pub done_by: Option<String>,
    /// When.
    pub done_at: Option<String>,
}

const COLUMNS: &str = "t.id, t.instance_id, i.business_key, i.item_code, t.node, t.name, t.org, \
    t.state, t.assignee, t.owner, t.created_at, t.due_at, t.overdue, i.state AS instance_state, \
    i.due_at AS instance_due_at, t.outcome, t.opinion, t.done_by, t.done_at, \
    (SELECT c.case_no FROM cases c WHERE c.id = i.business_key) AS case_no";

fn task(r: &yiwang_store::AnyRow) -> Result<Task, ServiceError> {
    Ok(Task {
        id: r.try_get("id")?,
        instance_id: r.try_get("instance_id")?,
        business_key: r.try_get("business_key")?,
        case_no: r.try_get("case_no")?,
        item_code: r.try_get("item_code")?,
        node: r.try_get("node")?,
        name: r.try_get("name")?,
        org: r.try_get("org")?,
        state: r.try_get("state")?,
        assignee: r.try_get("assignee")?,
        owner: r.try_get("owner")?,
        created_at: r.try_get("created_at")?,
        due_at: r.try_get("due_at")?,
        overdue: r.try_get::<i64, _>("overdue")? != 0,
        instance_state: r.try_get("instance_state")?,
        instance_due_at: r.try_get("instance_due_at")?,
        outcome: r.try_get("outcome")?,
        opinion: r.try_get("opinion")?,
        done_by: r.try_get("done_by")?,
        done_at: r.try_get("done_at")?,
    })
}

/// The open tasks of an approver: held by them, or offered to a role they hold in the
/// organisation they act in (or to them by name) and not yet claimed. Oldest deadline first.
pub async fn inbox(p: &Platform, actor: &Staff) -> Result<Vec<Task>, ServiceError> {
    open_to(p, actor, None).await
}

/// The open tasks of one case's process (by its business key, the case id) that the approver
/// may work: held by them, or offered to them and not yet claimed.
pub async fn inbox_of_case(
    p: &Platform,
    actor: &Staff,
    business_key: &str,
) -> Result<Vec<Task>, ServiceError> {
    open_to(p, actor, Some(business_key)).await
}

/// The approver's roles as an SQL list of literals (the roles are the fixed names of
/// [`crate::identity::staff::Role`], never user input).
fn role_list(actor: &Staff) -> String {
    if actor.roles.is_empty() {
        return "''".to_owned();
    }
    actor
        .roles
        .iter()
        .map(|r| format!("'{}'", r.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn open_to(
    p: &Platform,
    actor: &Staff,
    business_key: Option<&str>,
) -> Result<Vec<Task>, ServiceError> {
    let role_list = role_list(actor);
    // One case's: its few tasks, each offer looked up by the task (the primary key's prefix).
    // Everybody's: the live offers to the caller's roles first (the list of task ids).
    let (of_case, offered) = if business_key.is_some() {
        (
            "AND i.business_key = $3 ",
            format!(
                "EXISTS (SELECT 1 FROM wf_offers o WHERE o.task_id = t.id AND \
                 ((o.org = $2 AND o.role IN ({role_list})) OR o.username = $1))"
            ),
        )
    } else {
        (
            "",
            format!(
                "t.id IN (SELECT o.task_id FROM wf_offers o WHERE o.live = 1 AND \
                 ((o.org = $2 AND o.role IN ({role_list})) OR o.username = $1))"
            ),
        )
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM wf_tasks t JOIN wf_instances i ON i.id = t.instance_id \
         WHERE t.state IN ('open', 'delegated') {of_case}AND (t.assignee = $1 OR (t.assignee IS NULL AND \
         {offered})) ORDER BY COALESCE(t.due_at, i.due_at, '9999'), t.created_at LIMIT 500"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&actor.username)
        .bind(&actor.org);
    if let Some(k) = business_key {
        q = q.bind(k);
    }
    let rows = q.fetch_all(p.db.pool()).await?;
    rows.iter().map(task).collect()
}

/// Tasks an approver completed (已办), newest first.
pub async fn done_by(p: &Platform, actor: &Staff, limit: i64) -> Result<Vec<Task>, ServiceError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM wf_tasks t JOIN wf_instances i ON i.id = t.instance_id \
         WHERE t.done_by = $1 AND t.state = 'done' ORDER BY t.done_at DESC LIMIT $2"
    )))
    .bind(&actor.username)
    .bind(limit)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(task).collect()
}

/// Every task of an instance, in order.
pub async fn tasks_of(p: &Platform, instance: &str) -> Result<Vec<Task>, ServiceError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM wf_tasks t JOIN wf_instances i ON i.id = t.instance_id \
         WHERE t.instance_id = $1 ORDER BY t.created_seq, t.id"
    )))
    .bind(instance)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(task).collect()
}

/// One task.
pub async fn get(p: &Platform, id: &str) -> Result<Task, ServiceError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM wf_tasks t JOIN wf_instances i ON i.id = t.instance_id WHERE t.id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(|| ServiceError::NotFound {
        what: "任务",
        key: id.to_owned(),
    })?;
    task(&r)
}

/// Whether the task is offered to the approver (role in the organisation they act in, or by name).
async fn offered(p: &Platform, actor: &Staff, task_id: &str) -> Result<bool, ServiceError> {
    let rows = sqlx::query("SELECT org, role, username FROM wf_offers WHERE task_id = $1")
        .bind(task_id)
        .fetch_all(p.db.pool())
        .await?;
    for r in rows {
        let (org, role, user): (String, String, String) = (
            r.try_get("org")?,
            r.try_get("role")?,
            r.try_get("username")?,
        );
        if user == actor.username
            || (org == actor.org && actor.roles.iter().any(|x| x.as_str() == role))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A task the approver may see: held by them, delegated by them, or offered to them.
pub async fn visible(p: &Platform, actor: &Staff, id: &str) -> Result<Task, ServiceError> {
    // The task and whether it is offered to the approver, in one read.
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, EXISTS (SELECT 1 FROM wf_offers o WHERE o.task_id = t.id AND \
         ((o.org = $2 AND o.role IN ({})) OR o.username = $3)) AS offered \
         FROM wf_tasks t JOIN wf_instances i ON i.id = t.instance_id WHERE t.id = $1",
        role_list(actor)
    )))
    .bind(id)
    .bind(&actor.org)
    .bind(&actor.username)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(|| ServiceError::NotFound {
        what: "任务",
        key: id.to_owned(),
    })?;
    let t = task(&r)?;
    let offered = match r.try_get::<i64, _>("offered") {
        Ok(n) => n != 0,
        Err(_) => r.try_get::<bool, _>("offered")?,
    };
    let mine = t.assignee.as_deref() == Some(&actor.username)
        || t.owner.as_deref() == Some(&actor.username)
        || t.done_by.as_deref() == Some(&actor.username);
    if mine || offered {
        Ok(t)
    } else {
        Err(ServiceError::Forbidden(
            "这不是您的任务 / not your task".into(),
        ))
    }
}

/// An instance, for staff who may see it: system administrators, staff of its organisation,
/// and anyone who holds, held, delegated or was offered one of its tasks.
pub async fn instance(
    p: &Platform,
    actor: &Staff,
    id: &str,
) -> Result<runtime::Stored, ServiceError> {
    let inst = runtime::get(p, id).await?;
    if actor.has(crate::identity::staff::Role::SystemAdmin)
        || actor.assignments.iter().any(|a| a.org == inst.org)
    {
        return Ok(inst);
    }
    let role_list = role_list(actor);
    let involved = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT 1 AS one FROM wf_tasks t WHERE t.instance_id = $1 AND (t.assignee = $2 \
         OR t.owner = $2 OR t.done_by = $2 OR EXISTS (SELECT 1 FROM wf_offers o \
         WHERE o.task_id = t.id AND (o.username = $2 OR (o.org = $3 AND o.role IN ({role_list}))))) \
         LIMIT 1"
    )))
    .bind(id)
    .bind(&actor.username)
    .bind(&actor.org)
    .fetch_optional(p.db.pool())
    .await?;
    if involved.is_some() {
        Ok(inst)
    } else {
        Err(ServiceError::Forbidden(
            "无权查看此办件 / not yours to see".into(),
        ))
    }
}

/// A task the approver holds (claiming it on the way when it is offered to them and free).
async fn held(p: &Platform, actor: &Staff, id: &str) -> Result<Task, ServiceError> {
    let t = workable(p, actor, id).await?;
    if t.assignee.is_none() {
        claim(p, actor, id).await?;
        return get(p, id).await;
    }
    Ok(t)
}

/// An open task the approver holds, or one offered to them that nobody holds.
async fn workable(p: &Platform, actor: &Staff, id: &str) -> Result<Task, ServiceError> {
    let t = visible(p, actor, id).await?;
    if t.state != "open" {
        return Err(ServiceError::Conflict(format!(
            "任务已{}，不能再办理 / the task is {}",
            state_zh(&t.state),
            t.state
        )));
    }
    match t.assignee.as_deref() {
        Some(a) if a == actor.username => Ok(t),
        Some(_) => Err(ServiceError::Conflict(
            "任务已由他人签收 / another approver holds the task".into(),
        )),
        None => Ok(t),
    }
}

fn state_zh(s: &str) -> &'static str {
    match s {
        "open" => "待办",
        "delegated" => "委派他人",
        "done" => "办结",
        _ => "取消",
    }
}

async fn simple_update(
    p: &Platform,
    sql: &'static str,
    binds: &[Option<&str>],
    instance: &str,
    actor: &Staff,
    note: Note,
) -> Result<(), ServiceError> {
    let mut tx = p.db.begin().await?;
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(b.map(str::to_owned));
    }
    let n = q.execute(&mut *tx).await?;
    if n.rows_affected() != 1 {
        return Err(ServiceError::Conflict(
            "任务状态已变化，请刷新 / the task changed: reload".into(),
        ));
    }
    let noted = runtime::note(&mut tx, instance, &fmt_time(p.now()), &actor.username, note).await?;
    tx.commit().await?;
    p.workflow.noted(instance, noted);
    Ok(())
}

/// Claim (签收) an offered task. Exactly one of two approvers claiming at once wins.
pub async fn claim(p: &Platform, actor: &Staff, id: &str) -> Result<Task, ServiceError> {
    let t = get(p, id).await?;
    if !offered(p, actor, id).await? {
        return Err(ServiceError::Forbidden(
            "任务没有分派给您 / not offered to you".into(),
        ));
    }
    simple_update(
        p,
        "UPDATE wf_tasks SET assignee = $1 WHERE id = $2 AND state = 'open' AND assignee IS NULL",
        &[Some(&actor.username), Some(id)],
        &t.instance_id,
        actor,
        Note {
            node: t.node.clone(),
            kind: "claimed",
            detail: json!({ "task": id }),
        },
    )
    .await?;
    get(p, id).await
}

/// Hand a claimed task back to the pool (退回待签收).
pub async fn unclaim(p: &Platform, actor: &Staff, id: &str) -> Result<Task, ServiceError> {
    let t = visible(p, actor, id).await?;
    simple_update(
        p,
        "UPDATE wf_tasks SET assignee = NULL, owner = NULL WHERE id = $1 AND state = 'open' AND assignee = $2",
        &[Some(id), Some(&actor.username)],
        &t.instance_id,
        actor,
        Note {
            node: t.node.clone(),
            kind: "handed_back",
            detail: json!({ "task": id }),
        },
    )
    .await?;
    get(p, id).await
}

/// Whether `username` holds one of the roles the task is offered to, in its organisation.
async fn qualifies(p: &Platform, task_id: &str, username: &str) -> Result<bool, ServiceError> {
    let n: i64 = sqlx::query(
        "SELECT count(*) AS n FROM wf_offers o JOIN staff s ON s.username = $2 \
         LEFT JOIN staff_roles r ON r.staff_id = s.id AND r.org = o.org AND r.role = o.role \
         WHERE o.task_id = $1 AND s.disabled = 0 AND (r.staff_id IS NOT NULL OR o.username = $2)",
    )
    .bind(task_id)
    .bind(username)
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    Ok(n > 0)
}

async fn colleague(p: &Platform, id: &str, to: &str, me: &str) -> Result<String, ServiceError> {
    let to = to.trim();
    if to.is_empty() || to == me {
        return Err(ServiceError::Invalid(vec![FieldError::new(
            "to",
            "请选择另一位办理人",
            "choose another approver",
        )]));
    }
    if !qualifies(p, id, to).await? {
        return Err(ServiceError::Invalid(vec![FieldError::new(
            "to",
            format!("{to} 没有办理此任务的角色"),
            format!("{to} holds no role this task is offered to"),
        )]));
    }
    Ok(to.to_owned())
}

/// Delegate (委派) a held task to a colleague who may do it; it comes back to the delegator
/// when the colleague resolves it.
pub async fn delegate(
    p: &Platform,
    actor: &Staff,
    id: &str,
    to: &str,
) -> Result<Task, ServiceError> {
    let t = held(p, actor, id).await?;
    let to = colleague(p, id, to, &actor.username).await?;
    simple_update(
        p,
        "UPDATE wf_tasks SET state = 'delegated', owner = $1, assignee = $2 WHERE id = $3 \
         AND state = 'open' AND assignee = $1",
        &[Some(&actor.username), Some(&to), Some(id)],
        &t.instance_id,
        actor,
        Note {
            node: t.node.clone(),
            kind: "delegated",
            detail: json!({ "task": id, "to": to }),
        },
    )
    .await?;
    get(p, id).await
}

/// Resolve a delegated task with an opinion: it returns to the delegator.
pub async fn resolve(
    p: &Platform,
    actor: &Staff,
    id: &str,
    opinion: &str,
) -> Result<Task, ServiceError> {
    let t = get(p, id).await?;
    if t.state != "delegated" || t.assignee.as_deref() != Some(&actor.username) {
        return Err(ServiceError::Conflict(
            "没有委派给您的此任务 / not delegated to you".into(),
        ));
    }
    simple_update(
        p,
        "UPDATE wf_tasks SET state = 'open', assignee = owner, owner = NULL WHERE id = $1 \
         AND state = 'delegated' AND assignee = $2",
        &[Some(id), Some(&actor.username)],
        &t.instance_id,
        actor,
        Note {
            node: t.node.clone(),
            kind: "resolved",
            detail: json!({ "task": id, "opinion": opinion.trim() }),
        },
    )
    .await?;
    get(p, id).await
}

/// Transfer (转办) a held task to a colleague who may do it.
pub async fn transfer(
    p: &Platform,
    actor: &Staff,
    id: &str,
    to: &str,
) -> Result<Task, ServiceError> {
    let t = held(p, actor, id).await?;
    let to = colleague(p, id, to, &actor.username).await?;
    simple_update(
        p,
        "UPDATE wf_tasks SET assignee = $1 WHERE id = $2 AND state = 'open' AND assignee = $3",
        &[Some(&to), Some(id), Some(&actor.username)],
        &t.instance_id,
        actor,
        Note {
            node: t.node.clone(),
            kind: "transferred",
            detail: json!({ "task": id, "to": to }),
        },
    )
    .await?;
    get(p, id).await
}

/// What an approver decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 通过.
    Approve,
    /// 不予批准.
    Reject,
}

impl Outcome {
    /// Parse `approve` / `reject`.
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "approve" => Some(Outcome::Approve),
            "reject" => Some(Outcome::Reject),
            _ => None,
        }
    }
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approve => "approve",
            Outcome::Reject => "reject",
        }
    }
}

fn opinion_required(opinion: &str) -> Result<String, ServiceError> {
    let o = opinion.trim();
    if o.is_empty() {
        return Err(ServiceError::Invalid(vec![FieldError::new(
            "opinion",
            "请填写意见",
            "give your opinion",
        )]));
    }
    if o.chars().count() > 2000 {
        return Err(ServiceError::Invalid(vec![FieldError::new(
            "opinion",
            "意见不能超过 2000 字",
            "the opinion is longer than 2,000 characters",
        )]));
    }
    Ok(o.to_owned())
}

/// Complete a task with an outcome and opinion (an opinion is required to refuse). Sets the
/// process variables `approved` (bool), `outcome` and `opinion` for the gateways that follow.
/// A free task offered to the approver is claimed in the same transition: of two approvers
/// completing it at once, one wins and the other gets a Conflict.
pub async fn complete(
    p: &Platform,
    actor: &Staff,
    id: &str,
    outcome: Outcome,
    opinion: &str,
) -> Result<Task, ServiceError> {
    let opinion = match outcome {
        Outcome::Reject => opinion_required(opinion)?,
        Outcome::Approve if opinion.trim().is_empty() => "同意".to_owned(),
        Outcome::Approve => opinion_required(opinion)?,
    };
    let t = workable(p, actor, id).await?;
    // Whether the instance is running (not suspended, not ended) is checked by the transition
    // itself, on the copy it writes against.
    finish(
        p,
        &t.instance_id,
        &t.id,
        (&actor.username, true),
        outcome,
        &opinion,
    )
    .await?;
    get(p, id).await
}

/// Complete a task on someone's behalf, without the inbox checks: escalations (`by` =
/// `system`), department systems reporting a decision, and benchmarks. Returns the instance.
pub async fn complete_as(
    p: &Platform,
    instance_id: &str,
    task_id: &str,
    by: &str,
    outcome: Outcome,
    opinion: &str,
) -> Result<runtime::Stored, ServiceError> {
    finish(p, instance_id, task_id, (by, false), outcome, opinion).await
}

/// Completes a task by `by`, claiming it on the way when `claims` (see [`Done::claims`]).
async fn finish(
    p: &Platform,
    instance_id: &str,
    task_id: &str,
    (by, claims): (&str, bool),
    outcome: Outcome,
    opinion: &str,
) -> Result<runtime::Stored, ServiceError> {
    let mut vars = Map::new();
    vars.insert("approved".into(), Value::Bool(outcome == Outcome::Approve));
    vars.insert("outcome".into(), Value::String(outcome.as_str().into()));
    vars.insert("opinion".into(), Value::String(opinion.to_owned()));
    let work_item = work_item_of(task_id)?;
    let done = Done {
        task_id: task_id.to_owned(),
        by: by.to_owned(),
        outcome: outcome.as_str().into(),
        opinion: opinion.to_owned(),
        claims,
    };
    runtime::transition(p, instance_id, by, Some(done), Vec::new(), |d, _, i| {
        d.complete(i, work_item, vars.clone())
            .map_err(runtime::to_service_error)
    })
    .await
}

fn work_item_of(task_id: &str) -> Result<u64, ServiceError> {
    task_id
        .rsplit('-')
        .next()
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| ServiceError::internal(format!("task id {task_id} has no work item")))
}

/// The earlier steps a task may be sent back to: user tasks of its scope done before, that
/// lead to it (id, name), most recent first.
pub async fn send_back_targets(
    p: &Platform,
    t: &Task,
) -> Result<Vec<(String, String)>, ServiceError> {
    let s = runtime::get(p, &t.instance_id).await?;
    let d = runtime::load(p, &s.definition_id).await?;
    let proc_ = &d.deployment.process;
    let Some(me) = proc_.node(&t.node) else {
        return Ok(Vec::new());
    };
    let rows = sqlx::query(
        "SELECT node FROM wf_tasks WHERE instance_id = $1 AND state = 'done' ORDER BY done_seq DESC",
    )
    .bind(&t.instance_id)
    .fetch_all(p.db.pool())
    .await?;
    let mut out: Vec<(String, String)> = Vec::new();
    for r in rows {
        let node: String = r.try_get("node")?;
        if node == t.node || out.iter().any(|(n, _)| *n == node) {
            continue;
        }
        if let Some(n) = proc_.node(&node)
            && n.parent == me.parent
            && matches!(n.kind, NodeKind::UserTask { .. })
            && reaches(proc_, &node, &t.node)
        {
            out.push((node.clone(), n.name.clone().unwrap_or(node)));
        }
    }
    Ok(out)
}

fn reaches(p: &yiwang_workflow::Process, from: &str, to: &str) -> bool {
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![from.to_owned()];
    while let Some(n) = stack.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        for f in p.outgoing(&n) {
            if f.target == to {
                return true;
            }
            stack.push(f.target.clone());
        }
    }
    false
}

/// Send the case back (退回) from a held task to an earlier step (default: the latest one),
/// with an opinion.
pub async fn send_back(
    p: &Platform,
    actor: &Staff,
    id: &str,
    target: Option<&str>,
    opinion: &str,
) -> Result<Task, ServiceError> {
    let opinion = opinion_required(opinion)?;
    let t = held(p, actor, id).await?;
    let s = runtime::get(p, &t.instance_id).await?;
    runtime::running(&s)?;
    send_back_as(p, &t, &actor.username, target, &opinion).await?;
    get(p, id).await
}

pub(super) async fn send_back_as(
    p: &Platform,
    t: &Task,
    by: &str,
    target: Option<&str>,
    opinion: &str,
) -> Result<(), ServiceError> {
    let targets = send_back_targets(p, t).await?;
    let target = match target.map(str::trim).filter(|x| !x.is_empty()) {
        Some(x) => targets
            .iter()
            .find(|(n, _)| n == x)
            .map(|(n, _)| n.clone())
            .ok_or_else(|| {
                ServiceError::Invalid(vec![FieldError::new(
                    "target",
                    format!("不能退回到 {x}"),
                    format!("cannot send back to {x}"),
                )])
            })?,
        None => targets.first().map(|(n, _)| n.clone()).ok_or_else(|| {
            ServiceError::Invalid(vec![FieldError::new(
                "target",
                "这是第一个环节，没有可退回的环节",
                "this is the first step: there is nothing to send back to",
            )])
        })?,
    };
    let work_item = work_item_of(&t.id)?;
    let done = Done {
        task_id: t.id.clone(),
        by: by.to_owned(),
        outcome: "send_back".into(),
        opinion: opinion.to_owned(),
        claims: false,
    };
    let target2 = target.clone();
    runtime::transition(
        p,
        &t.instance_id,
        by,
        Some(done),
        vec![Note {
            node: t.node.clone(),
            kind: "send_back",
            detail: json!({ "task": t.id, "to": target, "opinion": opinion }),
        }],
        move |d, _, i| {
            d.send_back(i, work_item, &target2)
                .map_err(runtime::to_service_error)
        },
    )
    .await
    .map(|_| ())
}

/// Withdraw (撤回) a completion: allowed to the approver who completed the task while the
/// instance runs and nobody has claimed or completed anything since.
pub async fn withdraw(p: &Platform, actor: &Staff, id: &str) -> Result<Task, ServiceError> {
    let t = get(p, id).await?;
    if t.state != "done" || t.done_by.as_deref() != Some(&actor.username) {
        return Err(ServiceError::Conflict(
            "只能撤回本人办结的任务 / only your own completed task can be withdrawn".into(),
        ));
    }
    let s = runtime::get(p, &t.instance_id).await?;
    runtime::running(&s)?;
    let seq: i64 = sqlx::query("SELECT done_seq FROM wf_tasks WHERE id = $1")
        .bind(id)
        .fetch_one(p.db.pool())
        .await?
        .try_get::<Option<i64>, _>("done_seq")?
        .unwrap_or(0);
    let acted: i64 = sqlx::query(
        "SELECT count(*) AS n FROM wf_tasks WHERE instance_id = $1 AND id <> $2 AND \
         ((created_seq >= $3 AND (assignee IS NOT NULL OR state IN ('done', 'delegated'))) \
         OR (done_seq IS NOT NULL AND done_seq > $3))",
    )
    .bind(&t.instance_id)
    .bind(id)
    .bind(seq)
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    if acted > 0 {
        return Err(ServiceError::Conflict(
            "下一环节已有人办理，不能撤回 / the next step was already acted on: cannot withdraw"
                .into(),
        ));
    }
    let node = t.node.clone();
    let after = runtime::transition(
        p,
        &t.instance_id,
        &actor.username,
        None,
        vec![Note {
            node: node.clone(),
            kind: "withdraw",
            detail: json!({ "task": id, "reopen_for": actor.username }),
        }],
        move |d, _, i| d.withdraw(i, &node).map_err(runtime::to_service_error),
    )
    .await?;
    // The re-opened task went straight back to the approver who withdrew it (in the same
    // transaction: see `runtime::write`).
    let reopened = after
        .inst
        .work_items
        .iter()
        .filter(|w| w.node == t.node)
        .map(|w| format!("{}-{}", t.instance_id, w.id))
        .collect::<Vec<_>>();
    match reopened.first() {
        Some(r) => get(p, r).await,
        None => get(p, id).await,
    }
}

/// Colleagues a held task may be delegated or transferred to: active staff holding a role the
/// task is offered to in its organisation (username, display name), the holder excluded.
pub async fn colleagues(
    p: &Platform,
    t: &Task,
    me: &str,
) -> Result<Vec<(String, String)>, ServiceError> {
    let rows = sqlx::query(
        "SELECT DISTINCT s.username, s.display_name FROM wf_offers o \
         JOIN staff_roles r ON r.org = o.org AND r.role = o.role \
         JOIN staff s ON s.id = r.staff_id \
         WHERE o.task_id = $1 AND s.disabled = 0 AND s.username <> $2 ORDER BY s.username LIMIT 200",
    )
    .bind(&t.id)
    .bind(me)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("username")?, r.try_get("display_name")?)))
        .collect()
}
