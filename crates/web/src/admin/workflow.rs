//! 审批流程 pages: process designers (系统管理员) upload BPMN files and see every problem by
//! element id, deploy versions, draw them from their BPMN DI, bind them to items and migrate
//! running instances; approvers work their inbox (待办) — claim, complete with outcome and
//! opinion, hand back, delegate, transfer, send back (退回), withdraw (撤回); anyone who may
//! see a case follows its instance on the diagram (done, active, overdue steps) and timeline;
//! administrators keep the working-day calendar. Authorization is decided by the services.
//!
//! | method | path | form fields | result |
//! |---|---|---|---|
//! | GET | `/admin/processes` | `done` | versions and the upload form (系统管理员) |
//! | POST | `/admin/processes` | multipart `csrf`, `file` (.bpmn ≤ 10 MB) | 303 to the new version; 422 with every problem |
//! | GET | `/admin/processes/{id}` | `done` | the version: diagram, tasks, bound items, bind and migrate forms |
//! | GET | `/admin/processes/{id}/diagram.svg` | `instance` | SVG (with the instance's marks) |
//! | POST | `/admin/processes/{id}/bind` | `csrf`, `items` (codes, one a line), `rules` (JSON, optional) | 303 `?done=bound`; 400 with problems |
//! | POST | `/admin/processes/{id}/migrate` | `csrf`, `to`, `mapping` (`old=new` a line) | 303 `?done=migrated`; 400 with problems |
//! | GET | `/admin/inbox` | `done` | 待办 and 已办 |
//! | GET | `/admin/tasks/{id}` | `done` | the task, its case's diagram and timeline, the actions |
//! | POST | `/admin/tasks/{id}/{action}` | `csrf`, `outcome`, `opinion`, `to`, `target` | claim, unclaim, complete, delegate, resolve, transfer, send_back, withdraw: 303 back |
//! | GET | `/admin/instances/{id}` | | the instance: diagram with marks, tasks, history |
//! | GET | `/admin/calendar` | `done` | years, regional days, working hours |
//! | POST | `/admin/calendar` | `csrf`, `year`, `holidays`, `workdays` | 303 `?done=calendar` |
//! | POST | `/admin/calendar/local` | `csrf`, `regional`, `hours` | 303 `?done=calendar` |

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use yiwang_services::workflow::{self, calendar, inbox, runtime};
use yiwang_services::{FieldError, ServiceError};

use super::{AdminForm, DoneQuery, chrome, field_messages, local_time, local_time_opt, see_other};
use crate::Shared;
use crate::error::PageError;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

fn notice(lang: crate::i18n::Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "deployed" => lang.t(
            "已部署为新版本。运行中的办件仍按原版本办理。",
            "Deployed as a new version; running cases keep their version.",
        ),
        "bound" => lang.t(
            "事项已绑定此流程，新办件将按最新版本办理。",
            "Items bound: new cases start on the latest version.",
        ),
        "migrated" => lang.t(
            "运行中的办件已迁移到新版本。",
            "Running cases moved to the new version.",
        ),
        "claimed" => lang.t("已签收。", "Claimed."),
        "unclaimed" => lang.t("已退回待签收。", "Handed back."),
        "completed" => lang.t("已办理。", "Done."),
        "delegated" => lang.t("已委派。", "Delegated."),
        "resolved" => lang.t("已办理并交还委派人。", "Resolved and returned."),
        "transferred" => lang.t("已转办。", "Transferred."),
        "sent_back" => lang.t("已退回。", "Sent back."),
        "withdrawn" => lang.t(
            "已撤回，任务重新回到您的待办。",
            "Withdrawn: the task is back in your inbox.",
        ),
        "calendar" => lang.t(
            "工作日历已更新，新计算的时限按新日历。",
            "Calendar updated; new deadlines use it.",
        ),
        _ => return None,
    })
}

// ---------------------------------------------------------------- processes

#[derive(Template)]
#[template(path = "admin/processes.html")]
struct ProcessesPage {
    chrome: Chrome,
    csrf: String,
    notice: Option<&'static str>,
    definitions: Vec<DefRow>,
    problems: Vec<(String, String)>,
    upload_error: Option<String>,
}

struct DefRow {
    id: String,
    key: String,
    version: i64,
    name: String,
    deployed_at: String,
    deployed_by: String,
    latest: bool,
}

async fn processes_page(s: &Shared, session: &StaffSession) -> Result<ProcessesPage, PageError> {
    let defs = workflow::definitions(&s.platform, &session.staff)
        .await
        .map_err(|e| session.err(e))?;
    let mut rows: Vec<DefRow> = Vec::new();
    for d in defs {
        let latest = !rows.iter().any(|r| r.key == d.process_key);
        rows.push(DefRow {
            id: d.id,
            key: d.process_key,
            version: d.version,
            name: d.name,
            deployed_at: local_time(&d.deployed_at),
            deployed_by: d.deployed_by,
            latest,
        });
    }
    Ok(ProcessesPage {
        chrome: chrome(session, session.lang.t("审批流程", "Approval processes")),
        csrf: session.csrf.clone(),
        notice: None,
        definitions: rows,
        problems: Vec::new(),
        upload_error: None,
    })
}

/// `GET /admin/processes`.
pub(crate) async fn processes(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let mut p = processes_page(&s, &session).await?;
    p.notice = notice(session.lang, q.done.as_deref());
    Ok(html(StatusCode::OK, &p))
}

/// `POST /admin/processes`: upload and deploy.
pub(crate) async fn deploy(
    State(s): State<Shared>,
    session: StaffSession,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let upload = super::excel::read_upload(&session, multipart).await?;
    let bytes = match upload {
        super::excel::Upload::File(b) => b,
        super::excel::Upload::TooLarge => {
            let mut p = processes_page(&s, &session).await?;
            p.upload_error = Some(
                lang.t("文件超过 10 MB。", "The file is larger than 10 MB.")
                    .into(),
            );
            return Ok(html(StatusCode::PAYLOAD_TOO_LARGE, &p));
        }
        super::excel::Upload::Missing => {
            let mut p = processes_page(&s, &session).await?;
            p.upload_error = Some(
                lang.t(
                    "请选择 BPMN 2.0 文件（.bpmn）。",
                    "Choose a BPMN 2.0 file (.bpmn).",
                )
                .into(),
            );
            return Ok(html(StatusCode::BAD_REQUEST, &p));
        }
    };
    let Ok(xml) = String::from_utf8(bytes) else {
        let mut p = processes_page(&s, &session).await?;
        p.upload_error = Some(
            lang.t(
                "文件不是 UTF-8 文本，不是 BPMN 2.0 文件。",
                "The file is not UTF-8 text: not a BPMN 2.0 file.",
            )
            .into(),
        );
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p));
    };
    match workflow::deploy(&s.platform, &session.staff, &xml).await {
        Ok(d) => Ok(see_other(&format!(
            "/admin/processes/{}?done=deployed",
            d.id
        ))),
        Err(ServiceError::Invalid(errs)) => {
            let mut p = processes_page(&s, &session).await?;
            p.problems = field_messages(lang, &errs);
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
        Err(e) => Err(session.err(e)),
    }
}

#[derive(Template)]
#[template(path = "admin/process.html")]
struct ProcessPage {
    chrome: Chrome,
    csrf: String,
    notice: Option<&'static str>,
    def: DefRow,
    svg: String,
    tasks: Vec<TaskRuleRow>,
    items: Vec<(String, String)>,
    versions: Vec<(String, i64)>,
    running: i64,
    errors: Vec<(String, String)>,
    items_text: String,
    rules_text: String,
    mapping_text: String,
}

struct TaskRuleRow {
    id: String,
    name: String,
    roles: String,
    orgs: String,
    limit: String,
    escalation: String,
    multi: String,
}

async fn process_page(
    s: &Shared,
    session: &StaffSession,
    id: &str,
) -> Result<ProcessPage, PageError> {
    let p = &s.platform;
    let (d, xml) = workflow::view(p, &session.staff, id)
        .await
        .map_err(|e| session.err(e))?;
    let loaded = runtime::load(p, id).await.map_err(|e| session.err(e))?;
    let svg = yiwang_workflow::diagram::render(&xml, &Default::default()).unwrap_or_else(|e| {
        format!(
            "<p class=\"notice\">{}</p>",
            askama::filters::escape(e.to_string(), askama::filters::Html)
                .map(|x| x.to_string())
                .unwrap_or_default()
        )
    });
    let mut tasks = Vec::new();
    for n in &loaded.deployment.process.nodes {
        if let yiwang_workflow::model::NodeKind::UserTask { assignment, multi } = &n.kind {
            tasks.push(TaskRuleRow {
                id: n.id.clone(),
                name: n.name.clone().unwrap_or_default(),
                roles: assignment.candidate_groups.join(", "),
                orgs: if assignment.candidate_orgs.is_empty() {
                    "case.department".into()
                } else {
                    assignment.candidate_orgs.join(", ")
                },
                limit: n
                    .step
                    .as_ref()
                    .map(|s| workflow::fmt_limit(s.limit))
                    .unwrap_or_default(),
                escalation: n
                    .step
                    .as_ref()
                    .map(|s| s.escalation.as_text())
                    .unwrap_or_default(),
                multi: match multi {
                    Some(m) if m.sequential => session.lang.t("依次会签", "sequential").into(),
                    Some(_) => session
                        .lang
                        .t("会签/或签", "parallel multi-instance")
                        .into(),
                    None => String::new(),
                },
            });
        }
    }
    let items = workflow::bound_items(p, &d.process_key)
        .await
        .map_err(|e| session.err(e))?;
    let versions: Vec<(String, i64)> = workflow::definitions(p, &session.staff)
        .await
        .map_err(|e| session.err(e))?
        .into_iter()
        .filter(|x| x.process_key == d.process_key && x.id != d.id)
        .map(|x| (x.id, x.version))
        .collect();
    let running = runtime::running_count(p, id)
        .await
        .map_err(|e| session.err(e))?;
    Ok(ProcessPage {
        chrome: chrome(session, format!("{} v{}", d.name, d.version)),
        csrf: session.csrf.clone(),
        notice: None,
        def: DefRow {
            id: d.id.clone(),
            key: d.process_key.clone(),
            version: d.version,
            name: d.name.clone(),
            deployed_at: local_time(&d.deployed_at),
            deployed_by: d.deployed_by.clone(),
            latest: false,
        },
        svg,
        tasks,
        items,
        versions,
        running,
        errors: Vec::new(),
        items_text: String::new(),
        rules_text: String::new(),
        mapping_text: String::new(),
    })
}

/// `GET /admin/processes/{id}`.
pub(crate) async fn process(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    q: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let mut p = process_page(&s, &session, &id).await?;
    p.notice = notice(session.lang, q.done.as_deref());
    Ok(html(StatusCode::OK, &p))
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct DiagramQuery {
    #[serde(default)]
    instance: Option<String>,
}

/// `GET /admin/processes/{id}/diagram.svg`: the drawing, with an instance's marks.
pub(crate) async fn diagram(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    q: Result<Query<DiagramQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let p = &s.platform;
    let (marks, xml) = match q.instance.as_deref() {
        Some(i) => {
            let inst = inbox::instance(p, &session.staff, i)
                .await
                .map_err(|e| session.err(e))?;
            if inst.definition_id != id {
                return Err(session.err(ServiceError::NotFound {
                    what: "流程实例",
                    key: i.to_owned(),
                }));
            }
            let marks = runtime::marks(p, &inst).await.map_err(|e| session.err(e))?;
            let (_, xml) = workflow::definition_xml(p, &id)
                .await
                .map_err(|e| session.err(e))?;
            (marks, xml)
        }
        None => {
            let (_, xml) = workflow::view(p, &session.staff, &id)
                .await
                .map_err(|e| session.err(e))?;
            (Default::default(), xml)
        }
    };
    let svg = yiwang_workflow::diagram::render(&xml, &marks).map_err(|e| {
        session.err(ServiceError::invalid(
            "diagram",
            &e.to_string(),
            "no diagram",
        ))
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct BindForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    items: String,
    #[serde(default)]
    rules: String,
}

/// `POST /admin/processes/{id}/bind`.
pub(crate) async fn bind(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<BindForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let lang = session.lang;
    let (d, _) = workflow::definition_xml(&s.platform, &id)
        .await
        .map_err(|e| session.err(e))?;
    let codes: Vec<String> = f
        .items
        .split(|c: char| c.is_whitespace() || c == ',' || c == '，')
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect();
    let rules: Result<workflow::Rules, _> = if f.rules.trim().is_empty() {
        Ok(Default::default())
    } else {
        serde_json::from_str(&f.rules)
    };
    let result = match rules {
        Ok(r) => workflow::bind(&s.platform, &session.staff, &codes, &d.process_key, r).await,
        Err(e) => Err(ServiceError::Invalid(vec![FieldError::new(
            "rules",
            format!("规则不是合法的 JSON：{e}"),
            format!("the rules are not valid JSON: {e}"),
        )])),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/admin/processes/{id}?done=bound"))),
        Err(ServiceError::Invalid(errs)) => {
            let mut p = process_page(&s, &session, &id).await?;
            p.errors = field_messages(lang, &errs);
            p.items_text = f.items;
            p.rules_text = f.rules;
            Ok(html(StatusCode::BAD_REQUEST, &p))
        }
        Err(e) => Err(session.err(e)),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct MigrateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    mapping: String,
}

/// `POST /admin/processes/{id}/migrate`: move this version's running instances to `to`.
pub(crate) async fn migrate(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<MigrateForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let mut mapping = HashMap::new();
    let mut bad = Vec::new();
    for (i, l) in f.mapping.lines().enumerate() {
        let l = l.trim();
        if l.is_empty() {
            continue;
        }
        match l.split_once(['=', '→']) {
            Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
                mapping.insert(a.trim().to_owned(), b.trim().to_owned());
            }
            _ => bad.push(FieldError::new(
                "mapping",
                format!("第 {} 行应为 旧环节ID=新环节ID", i + 1),
                format!("line {} should be OLD_ID=NEW_ID", i + 1),
            )),
        }
    }
    let result = if bad.is_empty() {
        runtime::migrate(&s.platform, &session.staff, &id, f.to.trim(), &mapping).await
    } else {
        Err(ServiceError::Invalid(bad))
    };
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/admin/processes/{}?done=migrated",
            f.to.trim()
        ))),
        Err(ServiceError::Invalid(errs)) => {
            let mut p = process_page(&s, &session, &id).await?;
            p.errors = field_messages(session.lang, &errs);
            p.mapping_text = f.mapping;
            Ok(html(StatusCode::BAD_REQUEST, &p))
        }
        Err(e) => Err(session.err(e)),
    }
}

// ---------------------------------------------------------------- inbox and tasks

struct TaskRow {
    id: String,
    /// What names the case: its 办件编号, else the instance's business key.
    business_key: String,
    /// The case id, when the instance is a case's approval (link to the case page).
    case_id: String,
    name: String,
    state: String,
    held: bool,
    created_at: String,
    due_at: String,
    overdue: bool,
    paused: bool,
    outcome: String,
    opinion: String,
    done_at: String,
}

fn task_row(t: &inbox::Task, me: &str, now: &str) -> TaskRow {
    TaskRow {
        id: t.id.clone(),
        business_key: t.case_no.clone().unwrap_or_else(|| t.business_key.clone()),
        case_id: if t.case_no.is_some() {
            t.business_key.clone()
        } else {
            String::new()
        },
        name: t.name.clone(),
        state: t.state.clone(),
        held: t.assignee.as_deref() == Some(me),
        created_at: local_time(&t.created_at),
        due_at: local_time_opt(t.due_at.as_deref().or(t.instance_due_at.as_deref())),
        overdue: t.overdue || t.due_at.as_deref().is_some_and(|d| d < now),
        paused: t.instance_state == "suspended",
        outcome: t.outcome.clone().unwrap_or_default(),
        opinion: t.opinion.clone().unwrap_or_default(),
        done_at: local_time_opt(t.done_at.as_deref()),
    }
}

#[derive(Template)]
#[template(path = "admin/inbox.html")]
struct InboxPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    open: Vec<TaskRow>,
    done: Vec<TaskRow>,
}

/// `GET /admin/inbox`: 待办 and 已办.
pub(crate) async fn inbox_page(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let p = &s.platform;
    let now = yiwang_store::fmt_time(p.now());
    let me = &session.staff.username;
    let open = inbox::inbox(p, &session.staff)
        .await
        .map_err(|e| session.err(e))?;
    let done = inbox::done_by(p, &session.staff, 50)
        .await
        .map_err(|e| session.err(e))?;
    let page = InboxPage {
        chrome: chrome(&session, session.lang.t("待办任务", "Inbox")),
        notice: notice(session.lang, q.done.as_deref()),
        open: open.iter().map(|t| task_row(t, me, &now)).collect(),
        done: done.iter().map(|t| task_row(t, me, &now)).collect(),
    };
    Ok(html(StatusCode::OK, &page))
}

/// Node id → name (the id when unnamed), for the timeline.
fn node_names(p: &yiwang_workflow::Process) -> HashMap<String, String> {
    p.nodes
        .iter()
        .map(|n| (n.id.clone(), n.name.clone().unwrap_or_else(|| n.id.clone())))
        .collect()
}

struct HistoryLine {
    at: String,
    node: String,
    what: String,
    actor: String,
    detail: String,
}

fn history_lines(
    lang: crate::i18n::Lang,
    rows: Vec<runtime::HistoryRow>,
    names: &HashMap<String, String>,
) -> Vec<HistoryLine> {
    rows.into_iter()
        .filter(|r| r.kind != "entered")
        .map(|r| {
            let what = match r.kind.as_str() {
                "started" => lang.t("启动流程", "started"),
                "left" => lang.t("环节结束", "step left"),
                "completed" => lang.t("办理", "completed"),
                "cancelled" => lang.t("取消", "cancelled"),
                "action" => lang.t("平台操作", "platform action"),
                "sent_back" | "send_back" => lang.t("退回", "sent back"),
                "withdrawn" | "withdraw" => lang.t("撤回", "withdrawn"),
                "migrated" => lang.t("迁移到新版本", "migrated"),
                "claimed" => lang.t("签收", "claimed"),
                "handed_back" => lang.t("退回待签收", "handed back"),
                "delegated" => lang.t("委派", "delegated"),
                "resolved" => lang.t("委派办理完毕", "resolved"),
                "transferred" => lang.t("转办", "transferred"),
                "suspended" => lang.t("暂停计时", "suspended"),
                "resumed" => lang.t("恢复计时", "resumed"),
                "timer" => lang.t("定时器触发", "timer fired"),
                "overdue" => lang.t("超过环节时限", "step limit passed"),
                "instance_overdue" => lang.t("超过承诺时限", "case limit passed"),
                "message" => lang.t("收到消息", "message"),
                other => other,
            }
            .to_string();
            let mut detail = Vec::new();
            for k in [
                "outcome",
                "opinion",
                "to",
                "reason",
                "action",
                "message",
                "escalation",
            ] {
                if let Some(v) = r.detail.get(k).and_then(|v| v.as_str())
                    && !v.is_empty()
                {
                    let v = match v {
                        "approve" => lang.t("通过", "approve"),
                        "reject" => lang.t("不予批准", "reject"),
                        "send_back" => lang.t("退回", "send back"),
                        x => x,
                    };
                    detail.push(v.to_string());
                }
            }
            HistoryLine {
                at: super::local_time_secs(&r.at),
                node: names.get(&r.node).cloned().unwrap_or(r.node),
                what,
                actor: r.actor,
                detail: detail.join("；"),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "admin/task.html")]
struct TaskPage {
    chrome: Chrome,
    csrf: String,
    notice: Option<&'static str>,
    task: TaskRow,
    task_state: String,
    assignee: String,
    owner: String,
    instance_id: String,
    definition_id: String,
    may_claim: bool,
    held: bool,
    delegated_to_me: bool,
    may_withdraw: bool,
    targets: Vec<(String, String)>,
    colleagues: Vec<(String, String)>,
    history: Vec<HistoryLine>,
    instance_state: String,
    instance_due: String,
    svg: String,
    errors: Vec<(String, String)>,
}

async fn task_page(s: &Shared, session: &StaffSession, id: &str) -> Result<TaskPage, PageError> {
    let p = &s.platform;
    let err = |e| session.err(e);
    let t = inbox::visible(p, &session.staff, id).await.map_err(err)?;
    let inst = runtime::get(p, &t.instance_id).await.map_err(err)?;
    let now = yiwang_store::fmt_time(p.now());
    let me = session.staff.username.clone();
    let held = t.state == "open" && t.assignee.as_deref() == Some(me.as_str());
    let targets = if held {
        inbox::send_back_targets(p, &t).await.map_err(err)?
    } else {
        Vec::new()
    };
    let colleagues = if held {
        inbox::colleagues(p, &t, &me).await.map_err(err)?
    } else {
        Vec::new()
    };
    let loaded = runtime::load(p, &inst.definition_id).await.map_err(err)?;
    let names = node_names(&loaded.deployment.process);
    let history = history_lines(
        session.lang,
        runtime::history(p, &inst.id).await.map_err(err)?,
        &names,
    );
    let (_, xml) = workflow::definition_xml(p, &inst.definition_id)
        .await
        .map_err(err)?;
    let marks = runtime::marks(p, &inst).await.map_err(err)?;
    let svg = yiwang_workflow::diagram::render(&xml, &marks).unwrap_or_default();
    Ok(TaskPage {
        chrome: chrome(session, format!("{} · {}", t.name, t.business_key)),
        csrf: session.csrf.clone(),
        notice: None,
        may_claim: t.state == "open" && t.assignee.is_none(),
        held,
        delegated_to_me: t.state == "delegated" && t.assignee.as_deref() == Some(me.as_str()),
        may_withdraw: t.state == "done"
            && t.done_by.as_deref() == Some(me.as_str())
            && inst.state == "running",
        task_state: t.state.clone(),
        assignee: t.assignee.clone().unwrap_or_default(),
        owner: t.owner.clone().unwrap_or_default(),
        instance_id: inst.id.clone(),
        definition_id: inst.definition_id.clone(),
        task: task_row(&t, &me, &now),
        targets,
        colleagues,
        history,
        instance_state: inst.state.clone(),
        instance_due: local_time_opt(inst.due_at.map(yiwang_store::fmt_time).as_deref()),
        svg,
        errors: Vec::new(),
    })
}

/// `GET /admin/tasks/{id}`.
pub(crate) async fn task(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    q: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let mut p = task_page(&s, &session, &id).await?;
    p.notice = notice(session.lang, q.done.as_deref());
    Ok(html(StatusCode::OK, &p))
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct TaskForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    opinion: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    target: String,
}

/// `POST /admin/tasks/{id}/{action}`.
pub(crate) async fn act(
    State(s): State<Shared>,
    session: StaffSession,
    Path((id, action)): Path<(String, String)>,
    AdminForm(f): AdminForm<TaskForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let p = &s.platform;
    let me = &session.staff;
    // The business key of a process that a completed task ended: its case is decided at once.
    let mut completed_key = None;
    let result = match action.as_str() {
        "claim" => inbox::claim(p, me, &id).await.map(|t| (t.id, "claimed")),
        "unclaim" => inbox::unclaim(p, me, &id)
            .await
            .map(|t| (t.id, "unclaimed")),
        "complete" => match inbox::Outcome::parse(&f.outcome) {
            Some(o) => inbox::complete(p, me, &id, o, &f.opinion).await.map(|t| {
                if t.instance_state != "running" {
                    completed_key = Some(t.business_key);
                }
                (t.id, "completed")
            }),
            None => Err(ServiceError::Invalid(vec![FieldError::new(
                "outcome",
                "请选择办理结果（通过或不予批准）",
                "choose an outcome (approve or reject)",
            )])),
        },
        "delegate" => inbox::delegate(p, me, &id, &f.to)
            .await
            .map(|t| (t.id, "delegated")),
        "resolve" => inbox::resolve(p, me, &id, &f.opinion)
            .await
            .map(|t| (t.id, "resolved")),
        "transfer" => inbox::transfer(p, me, &id, &f.to)
            .await
            .map(|t| (t.id, "transferred")),
        "send_back" => inbox::send_back(p, me, &id, Some(&f.target), &f.opinion)
            .await
            .map(|t| (t.id, "sent_back")),
        "withdraw" => inbox::withdraw(p, me, &id)
            .await
            .map(|t| (t.id, "withdrawn")),
        _ => Err(ServiceError::NotFound {
            what: "操作",
            key: action.clone(),
        }),
    };
    match result {
        Ok((tid, done))
            if matches!(
                done,
                "completed" | "sent_back" | "transferred" | "delegated"
            ) =>
        {
            let _ = tid;
            // A process that just ended decides its case at once (the server's event loop
            // would otherwise do it within seconds); a failure there is logged and retried.
            if let Some(key) = completed_key
                && let Err(e) = yiwang_services::cases::events::drain_case(&s.platform, &key).await
            {
                tracing::warn!(error = %e, "case events after a completion");
            }
            Ok(see_other(&format!("/admin/inbox?done={done}")))
        }
        Ok((tid, done)) => Ok(see_other(&format!("/admin/tasks/{tid}?done={done}"))),
        Err(ServiceError::Invalid(errs)) => {
            let mut page = task_page(&s, &session, &id).await?;
            page.errors = field_messages(session.lang, &errs);
            Ok(html(StatusCode::BAD_REQUEST, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

#[derive(Template)]
#[template(path = "admin/instance.html")]
struct InstancePage {
    chrome: Chrome,
    business_key: String,
    definition_id: String,
    state: String,
    due: String,
    svg: String,
    tasks: Vec<TaskRow>,
    history: Vec<HistoryLine>,
}

/// `GET /admin/instances/{id}`.
pub(crate) async fn instance(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let p = &s.platform;
    let err = |e| session.err(e);
    let inst = inbox::instance(p, &session.staff, &id).await.map_err(err)?;
    let loaded = runtime::load(p, &inst.definition_id).await.map_err(err)?;
    let names = node_names(&loaded.deployment.process);
    let (_, xml) = workflow::definition_xml(p, &inst.definition_id)
        .await
        .map_err(err)?;
    let marks = runtime::marks(p, &inst).await.map_err(err)?;
    let now = yiwang_store::fmt_time(p.now());
    let tasks = inbox::tasks_of(p, &id).await.map_err(err)?;
    let page = InstancePage {
        chrome: chrome(
            &session,
            format!(
                "{} · {}",
                session.lang.t("流程实例", "Instance"),
                inst.business_key
            ),
        ),
        business_key: inst.business_key.clone(),
        definition_id: inst.definition_id.clone(),
        state: inst.state.clone(),
        due: local_time_opt(inst.due_at.map(yiwang_store::fmt_time).as_deref()),
        svg: yiwang_workflow::diagram::render(&xml, &marks).unwrap_or_default(),
        tasks: tasks
            .iter()
            .map(|t| task_row(t, &session.staff.username, &now))
            .collect(),
        history: history_lines(
            session.lang,
            runtime::history(p, &id).await.map_err(err)?,
            &names,
        ),
    };
    Ok(html(StatusCode::OK, &page))
}

// ---------------------------------------------------------------- calendar

#[derive(Template)]
#[template(path = "admin/calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    csrf: String,
    notice: Option<&'static str>,
    years: Vec<YearRow>,
    next_year: i32,
    year: String,
    holidays: String,
    workdays: String,
    regional: String,
    hours: String,
    errors: Vec<(String, String)>,
}

struct YearRow {
    year: i32,
    entered: bool,
    holidays: usize,
    workdays: usize,
    summary: String,
}

async fn calendar_page(s: &Shared, session: &StaffSession) -> Result<CalendarPage, PageError> {
    let (years, next) = calendar::years(&s.platform, &session.staff)
        .await
        .map_err(|e| session.err(e))?;
    let cal = s.platform.calendar();
    let regional = cal
        .regional()
        .iter()
        .map(|h| format!("{} {}", h.date, h.name))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(CalendarPage {
        chrome: chrome(session, session.lang.t("工作日历", "Working-day calendar")),
        csrf: session.csrf.clone(),
        notice: None,
        years: years
            .iter()
            .map(|y| {
                let mut names: Vec<&str> = Vec::new();
                for h in &y.holidays {
                    if !names.contains(&h.name.as_str()) {
                        names.push(&h.name);
                    }
                }
                YearRow {
                    year: y.year,
                    entered: y.source == "entered",
                    holidays: y.holidays.len(),
                    workdays: y.workdays.len(),
                    summary: names.join("、"),
                }
            })
            .collect(),
        next_year: next,
        year: next.to_string(),
        holidays: String::new(),
        workdays: String::new(),
        regional,
        hours: cal.working_hours().to_string(),
        errors: Vec::new(),
    })
}

/// `GET /admin/calendar`.
pub(crate) async fn calendar_get(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let mut p = calendar_page(&s, &session).await?;
    p.notice = notice(session.lang, q.done.as_deref());
    Ok(html(StatusCode::OK, &p))
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct YearForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    holidays: String,
    #[serde(default)]
    workdays: String,
}

/// `POST /admin/calendar`: enter a year's arrangement.
pub(crate) async fn calendar_set(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(f): AdminForm<YearForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let result = match f.year.trim().parse::<i32>() {
        Ok(y) => calendar::set_year(&s.platform, &session.staff, y, &f.holidays, &f.workdays)
            .await
            .map(|_| ()),
        Err(_) => Err(ServiceError::Invalid(vec![FieldError::new(
            "year",
            "请填写年份",
            "enter the year",
        )])),
    };
    match result {
        Ok(()) => Ok(see_other("/admin/calendar?done=calendar")),
        Err(ServiceError::Invalid(errs)) => {
            let mut p = calendar_page(&s, &session).await?;
            p.errors = field_messages(session.lang, &errs);
            p.year = f.year;
            p.holidays = f.holidays;
            p.workdays = f.workdays;
            Ok(html(StatusCode::BAD_REQUEST, &p))
        }
        Err(e) => Err(session.err(e)),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct LocalForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    regional: String,
    #[serde(default)]
    hours: String,
}

/// `POST /admin/calendar/local`: regional days off and working hours.
pub(crate) async fn calendar_local(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(f): AdminForm<LocalForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    match calendar::set_local(&s.platform, &session.staff, &f.regional, &f.hours).await {
        Ok(()) => Ok(see_other("/admin/calendar?done=calendar")),
        Err(ServiceError::Invalid(errs)) => {
            let mut p = calendar_page(&s, &session).await?;
            p.errors = field_messages(session.lang, &errs);
            p.regional = f.regional;
            p.hours = f.hours;
            Ok(html(StatusCode::BAD_REQUEST, &p))
        }
        Err(e) => Err(session.err(e)),
    }
}
