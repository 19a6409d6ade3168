//! 审批流程: the approval workflow of the platform, on the BPMN engine (`yiwang-workflow`).
//!
//! - this module: deploying process versions (every problem listed by element id), binding
//!   them to items with per-task rules, and the working-day calendar they count in;
//! - [`runtime`]: instances — start, every transition in one transaction with its history,
//!   suspension (the clock stops), version migration;
//! - [`inbox`]: approvers' work — claim, complete with outcome and opinion, hand back,
//!   delegate, transfer, send back (退回), withdraw (撤回);
//! - [`timers`]: durable timers and step limits, fired exactly once across platform nodes, and
//!   the escalation each step declares;
//! - [`assign`]: who a task is offered to (role + organisation rules);
//! - [`calendar`]: the working-day calendar kept in the database.
//!
//! **Invariant:** the engine's instance document, the task, offer and timer rows and the
//! history rows change together in one transaction, guarded by the instance's `rev`.

pub mod assign;
pub mod calendar;
pub mod inbox;
pub mod runtime;
pub mod simulate;
pub mod timers;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use yiwang_store::fmt_time;
use yiwang_workflow::model::NodeKind;
use yiwang_workflow::{Deployment, Escalation, Limit, Problem};

use crate::identity::staff::{Role, Staff};
use crate::{Platform, ServiceError};

/// Platform actions a service task may name (`camunda:delegateExpression="${notify}"`): each
/// is published as a `workflow.action` outbox event for its consumer.
pub const ACTIONS: &[(&str, &str)] = &[
    ("notify", "通知申请人和承办部门"),
    ("notifyOverdue", "超时催办通知"),
    ("notifyApplicant", "通知申请人"),
    ("issueLicence", "生成电子证照"),
    ("archive", "归档"),
];

/// A deployed process version.
#[derive(Debug, Clone, Serialize)]
pub struct Definition {
    /// `{process_key}:{version}`.
    pub id: String,
    /// The BPMN process id.
    pub process_key: String,
    /// Version, from 1.
    pub version: i64,
    /// The process name (or its key).
    pub name: String,
    /// SM3 of the file as deployed.
    pub sm3: String,
    /// When.
    pub deployed_at: String,
    /// By whom (username).
    pub deployed_by: String,
}

/// Per-task overrides of a binding (and the declared rules, when shown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRule {
    /// Candidate roles (`approver`, …); empty: as declared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Candidate organisation rules ([`assign::OrgRule`]); empty: as declared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orgs: Vec<String>,
    /// Step limit, e.g. `5WD` (working days) or `8WH` (working hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// Escalation (`notify`, `reassign:ROLE`, `complete:approved`, `complete:rejected`, `sendBack`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<String>,
}

/// Rules of a binding: user task id → overrides.
pub type Rules = BTreeMap<String, TaskRule>;

/// Parse `5WD` / `8WH`.
pub fn parse_limit(s: &str) -> Option<Limit> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u32 = n.parse().ok().filter(|n| *n > 0)?;
    match unit.trim() {
        "WD" | "wd" | "工作日" => Some(Limit::WorkingDays(n)),
        "WH" | "wh" | "工作小时" => Some(Limit::WorkingHours(n)),
        _ => None,
    }
}

/// Format a limit as `5WD` / `8WH`.
pub fn fmt_limit(l: Limit) -> String {
    match l {
        Limit::WorkingDays(n) => format!("{n}WD"),
        Limit::WorkingHours(n) => format!("{n}WH"),
    }
}

/// The platform's checks on top of the engine's: roles, organisation rules and actions exist.
fn platform_problems(process: &yiwang_workflow::Process, rules: &Rules) -> Vec<Problem> {
    let mut problems = Vec::new();
    for n in &process.nodes {
        match &n.kind {
            NodeKind::UserTask { assignment, .. } => {
                let rule = rules.get(&n.id);
                let roles = match rule.filter(|r| !r.roles.is_empty()) {
                    Some(r) => &r.roles,
                    None => &assignment.candidate_groups,
                };
                for r in roles {
                    if Role::parse(r).is_none() {
                        let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                        problems.push(Problem::new(
                            &n.id,
                            format!("候选角色 {r} 不是平台角色（可用：{}）", known.join("、")),
                            format!(
                                "candidate role {r} is not a platform role (use: {})",
                                known.join(", ")
                            ),
                        ));
                    }
                }
                let orgs = match rule.filter(|r| !r.orgs.is_empty()) {
                    Some(r) => &r.orgs,
                    None => &assignment.candidate_orgs,
                };
                for o in orgs {
                    if let Err(e) = assign::OrgRule::parse(o) {
                        problems.push(Problem::new(&n.id, e.0, e.1));
                    }
                }
                if let Some(r) = rule {
                    if let Some(l) = &r.limit
                        && parse_limit(l).is_none()
                    {
                        problems.push(Problem::new(
                            &n.id,
                            format!("时限 {l:?} 无法识别（如 5WD 表示 5 个工作日，8WH 表示 8 个工作小时）"),
                            format!("limit {l:?} is not known (e.g. 5WD for 5 working days, 8WH for 8 working hours)"),
                        ));
                    }
                    if let Some(e) = &r.escalation
                        && Escalation::parse(e).is_none()
                    {
                        problems.push(Problem::new(
                            &n.id,
                            format!("超时处理 {e:?} 无法识别"),
                            format!("escalation {e:?} is not known"),
                        ));
                    }
                }
                let escalation = rule
                    .and_then(|r| r.escalation.as_deref())
                    .and_then(Escalation::parse)
                    .or_else(|| n.step.as_ref().map(|s| s.escalation.clone()));
                if let Some(Escalation::Reassign(role)) = escalation
                    && Role::parse(&role).is_none()
                {
                    problems.push(Problem::new(
                        &n.id,
                        format!("超时转派的角色 {role} 不是平台角色"),
                        format!("the escalation role {role} is not a platform role"),
                    ));
                }
            }
            NodeKind::ServiceTask { action } if !ACTIONS.iter().any(|(a, _)| a == action) => {
                let known: Vec<&str> = ACTIONS.iter().map(|(a, _)| *a).collect();
                problems.push(Problem::new(
                    &n.id,
                    format!("平台没有操作 {action}（可用：{}）", known.join("、")),
                    format!(
                        "the platform has no action {action} (use: {})",
                        known.join(", ")
                    ),
                ));
            }
            _ => {}
        }
    }
    for id in rules.keys() {
        if !process
            .node(id)
            .is_some_and(|n| matches!(n.kind, NodeKind::UserTask { .. }))
        {
            problems.push(Problem::new(
                id,
                "绑定规则指向的不是流程中的人工任务",
                "the binding rule names no user task of the process",
            ));
        }
    }
    problems
}

/// Everything wrong with a file, engine and platform checks together (empty: deployable).
pub fn check(xml: &str) -> Result<Deployment, Vec<Problem>> {
    let parsed = yiwang_workflow::parse(xml)
        .map_err(|e| yiwang_workflow::DeployError::Parse(e).problems())?;
    let mut problems = yiwang_workflow::validate(&parsed);
    problems.extend(platform_problems(&parsed.process, &Rules::new()));
    if !problems.is_empty() {
        return Err(problems);
    }
    yiwang_workflow::Deployment::compile(parsed.process)
}

fn require_designer(actor: &Staff) -> Result<(), ServiceError> {
    actor.require(Role::SystemAdmin)
}

/// Problems as a user error (field = element id).
pub fn problems_error(problems: Vec<Problem>) -> ServiceError {
    ServiceError::Invalid(
        problems
            .into_iter()
            .map(|p| crate::FieldError::new(p.element_id, p.message_zh, p.message_en))
            .collect(),
    )
}

/// Deploy a BPMN file as the next version of its process (系统管理员). Nothing is stored when
/// any problem is found; the problems name their elements.
pub async fn deploy(p: &Platform, actor: &Staff, xml: &str) -> Result<Definition, ServiceError> {
    require_designer(actor)?;
    deploy_as(p, &actor.username, xml).await
}

/// Deploy on behalf of `by` (the demo loader and operator tools; no role check).
pub async fn deploy_as(p: &Platform, by: &str, xml: &str) -> Result<Definition, ServiceError> {
    let d = check(xml).map_err(problems_error)?;
    let key = d.process.id.clone();
    let name = d.process.name.clone().unwrap_or_else(|| key.clone());
    let sm3 = crate::identity::sm3_hex(xml);
    let now = fmt_time(p.now());
    let mut tx = p.db.begin().await?;
    let version: i64 = sqlx::query(
        "SELECT COALESCE(MAX(version), 0) + 1 AS v FROM wf_definitions WHERE process_key = $1",
    )
    .bind(&key)
    .fetch_one(&mut *tx)
    .await?
    .try_get("v")?;
    let id = format!("{key}:{version}");
    let inserted = sqlx::query(
        "INSERT INTO wf_definitions (id, process_key, version, name, xml, sm3, deployed_at, \
         deployed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&key)
    .bind(version)
    .bind(&name)
    .bind(xml)
    .bind(&sm3)
    .bind(&now)
    .bind(by)
    .execute(&mut *tx)
    .await;
    if let Err(e) = inserted {
        let e = yiwang_store::StoreError::from(e);
        return Err(if e.is_unique_violation() {
            ServiceError::Conflict(
                "同时部署了同一流程，请重试 / deployed concurrently, try again".into(),
            )
        } else {
            e.into()
        });
    }
    crate::identity::audit::append(
        &mut tx,
        p.now(),
        &crate::identity::audit::Entry::success(
            by,
            "workflow.deploy",
            &id,
            serde_json::json!({ "sm3": sm3 }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Definition {
        id,
        process_key: key,
        version,
        name,
        sm3,
        deployed_at: now,
        deployed_by: by.to_owned(),
    })
}

/// The mobile number of the demo approver `yl.scjg.approver` (overdue reminders).
pub const DEMO_APPROVER_PHONE: &str = "13900000010";

/// The demo province's approval process (`data/demo/approval.bpmn`, saved by the bpmn.io modeler):
/// deployed, bound to every item of 岳麓区市场监督管理局 and 岳麓区人社局 (the organisations of
/// the demo approvers), with three cases waiting in the market regulator's inbox.
pub async fn load_demo(p: &Platform) -> Result<(), ServiceError> {
    const XML: &str = include_str!("../../../../data/demo/approval.bpmn");
    let d = deploy_as(p, "demo", XML).await?;
    let org: Option<String> =
        sqlx::query("SELECT s.org FROM staff s WHERE s.username = 'yl.scjg.approver'")
            .fetch_optional(p.db.pool())
            .await?
            .map(|r| r.try_get("org"))
            .transpose()?;
    let Some(org) = org else {
        return Ok(());
    };
    // The demo approver is told by SMS (development outbox) when a step passes its limit.
    let enc = p
        .keys
        .pii
        .encrypt("phone", DEMO_APPROVER_PHONE)
        .map_err(|e| ServiceError::internal(format!("encrypt phone: {e}")))?;
    sqlx::query("UPDATE staff SET phone_enc = $1 WHERE username = 'yl.scjg.approver'")
        .bind(enc)
        .execute(p.db.writer())
        .await?;
    // Every item of the organisations the demo approvers work in (岳麓区市场监督管理局 and
    // 岳麓区人力资源和社会保障局).
    let codes: Vec<String> = sqlx::query(
        "SELECT i.code FROM items i WHERE i.org IN (SELECT r.org FROM staff_roles r \
         JOIN staff s ON s.id = r.staff_id WHERE r.role = 'approver' AND s.username LIKE 'yl.%') \
         ORDER BY i.code",
    )
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(|r| r.try_get("code"))
    .collect::<Result<_, _>>()?;
    let now = fmt_time(p.now());
    let mut tx = p.db.begin().await?;
    for code in &codes {
        sqlx::query(
            "INSERT INTO wf_bindings (item_code, process_key, rules, bound_at, bound_by) \
             VALUES ($1, $2, '{}', $3, 'demo')",
        )
        .bind(code)
        .bind(&d.process_key)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let day = p.now().format("%Y%m%d").to_string();
    for (k, (code, amount)) in codes.iter().zip([800, 5000, 12000]).enumerate() {
        let mut variables = serde_json::Map::new();
        variables.insert("amount".into(), amount.into());
        runtime::start(
            p,
            "demo",
            runtime::Start {
                business_key: format!("DEMO-{day}-{:04}", k + 1),
                item_code: Some(code.clone()),
                process_key: None,
                org: org.clone(),
                variables,
                limit_days: Some(20),
            },
        )
        .await?;
    }
    Ok(())
}

fn definition(r: &yiwang_store::AnyRow) -> Result<Definition, ServiceError> {
    Ok(Definition {
        id: r.try_get("id")?,
        process_key: r.try_get("process_key")?,
        version: r.try_get("version")?,
        name: r.try_get("name")?,
        sm3: r.try_get("sm3")?,
        deployed_at: r.try_get("deployed_at")?,
        deployed_by: r.try_get("deployed_by")?,
    })
}

/// Every deployed version, newest first per process (系统管理员).
pub async fn definitions(p: &Platform, actor: &Staff) -> Result<Vec<Definition>, ServiceError> {
    require_designer(actor)?;
    let rows = sqlx::query(
        "SELECT id, process_key, version, name, sm3, deployed_at, deployed_by FROM wf_definitions \
         ORDER BY process_key, version DESC",
    )
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(definition).collect()
}

/// One version with its file, for its designers (系统管理员).
pub async fn view(
    p: &Platform,
    actor: &Staff,
    id: &str,
) -> Result<(Definition, String), ServiceError> {
    require_designer(actor)?;
    definition_xml(p, id).await
}

/// One version with its file (no authorization: for the runtime and for pages that already
/// established that the reader may see one of its instances).
pub async fn definition_xml(p: &Platform, id: &str) -> Result<(Definition, String), ServiceError> {
    let r = sqlx::query(
        "SELECT id, process_key, version, name, sm3, deployed_at, deployed_by, xml \
         FROM wf_definitions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(|| ServiceError::NotFound {
        what: "流程版本",
        key: id.to_owned(),
    })?;
    Ok((definition(&r)?, r.try_get("xml")?))
}

/// An item's binding.
#[derive(Debug, Clone, Serialize)]
pub struct Binding {
    /// 实施编码.
    pub item_code: String,
    /// The process key new cases start on (latest version).
    pub process_key: String,
    /// Per-task overrides.
    pub rules: Rules,
    /// When and by whom.
    pub bound_at: String,
    /// Username.
    pub bound_by: String,
}

/// Bind items to a process (its latest version at each case's start) with per-task rules,
/// validated against that version. 系统管理员, or the 事项管理员 of every item's organisation.
pub async fn bind(
    p: &Platform,
    actor: &Staff,
    item_codes: &[String],
    process_key: &str,
    rules: Rules,
) -> Result<Vec<Binding>, ServiceError> {
    if item_codes.is_empty() {
        return Err(ServiceError::Invalid(vec![crate::FieldError::new(
            "items",
            "请至少选择一个事项",
            "choose at least one item",
        )]));
    }
    let latest = runtime::latest(p, process_key).await?;
    let problems = platform_problems(&latest.deployment.process, &rules);
    if !problems.is_empty() {
        return Err(problems_error(problems));
    }
    let now = fmt_time(p.now());
    let rules_json = serde_json::to_string(&rules)?;
    let mut tx = p.db.begin().await?;
    let mut out = Vec::new();
    for code in item_codes {
        let org: Option<String> = sqlx::query("SELECT org FROM items WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("org"))
            .transpose()?;
        let org = org.ok_or_else(|| ServiceError::NotFound {
            what: "事项",
            key: code.clone(),
        })?;
        if !(actor.has(Role::SystemAdmin) || crate::identity::authz::may_manage_items(actor, &org))
        {
            return Err(ServiceError::Forbidden(format!(
                "不能为事项 {code} 绑定流程"
            )));
        }
        sqlx::query("DELETE FROM wf_bindings WHERE item_code = $1")
            .bind(code)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO wf_bindings (item_code, process_key, rules, bound_at, bound_by) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code)
        .bind(process_key)
        .bind(&rules_json)
        .bind(&now)
        .bind(&actor.username)
        .execute(&mut *tx)
        .await?;
        out.push(Binding {
            item_code: code.clone(),
            process_key: process_key.to_owned(),
            rules: rules.clone(),
            bound_at: now.clone(),
            bound_by: actor.username.clone(),
        });
    }
    crate::identity::audit::append(
        &mut tx,
        p.now(),
        &crate::identity::audit::Entry::success(
            &actor.username,
            "workflow.bind",
            process_key,
            serde_json::json!({ "items": item_codes, "rules": rules }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// The binding of an item, if any.
pub async fn binding(p: &Platform, item_code: &str) -> Result<Option<Binding>, ServiceError> {
    let r = sqlx::query(
        "SELECT item_code, process_key, rules, bound_at, bound_by FROM wf_bindings WHERE item_code = $1",
    )
    .bind(item_code)
    .fetch_optional(p.db.pool())
    .await?;
    r.map(|r| {
        let rules: String = r.try_get("rules")?;
        Ok(Binding {
            item_code: r.try_get("item_code")?,
            process_key: r.try_get("process_key")?,
            rules: serde_json::from_str(&rules)?,
            bound_at: r.try_get("bound_at")?,
            bound_by: r.try_get("bound_by")?,
        })
    })
    .transpose()
}

/// Items bound to a process.
pub async fn bound_items(
    p: &Platform,
    process_key: &str,
) -> Result<Vec<(String, String)>, ServiceError> {
    let rows = sqlx::query(
        "SELECT b.item_code, i.name FROM wf_bindings b JOIN items i ON i.code = b.item_code \
         WHERE b.process_key = $1 ORDER BY b.item_code",
    )
    .bind(process_key)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("item_code")?, r.try_get("name")?)))
        .collect()
}
