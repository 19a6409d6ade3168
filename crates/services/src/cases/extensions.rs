//! 延长审批: extending a case's promised deadline (承诺时限), with approval.
//!
//! A handler of a case in 办理中 asks for a number of working days with a reason (申请延长审批);
//! another 审批人员 of the case's organisation — never the one who asked — approves or refuses
//! it with an opinion (延长审批). Approved, the case's deadline and its approval process's limit
//! (and the limit's timer) move by those working days on the calendar, and the applicant is told
//! the reason and the new date. Unlike the other special procedures (听证, 检验检测, 专家评审),
//! an extension does not stop the clock. Each step is a process record of the case; one request
//! at a time may be pending (a unique index), and every write is one transaction under the
//! case's `rev`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use yiwang_domain::case::{CaseAction, CaseState, RecordAction, RecordStatus};
use yiwang_store::{Batch, BatchError, Bind, Row, fmt_time};

use super::{Case, Change, NewRecord, check_rev, conflict, load, required_text};
use crate::identity::staff::{Role, Staff};
use crate::{FieldError, Platform, ServiceError};

/// The most working days one request may add.
pub const MAX_DAYS: u32 = 30;

/// One request to extend a case's deadline.
#[derive(Debug, Clone, Serialize)]
pub struct Extension {
    /// Id.
    pub id: String,
    /// Working days asked for.
    pub days: i64,
    /// Why.
    pub reason: String,
    /// Who asked (display name).
    pub requested_name: String,
    /// Their staff id.
    pub requested_by: String,
    /// When.
    pub requested_at: String,
    /// pending, approved or refused.
    pub state: String,
    /// Who decided (display name).
    pub decided_name: Option<String>,
    /// When.
    pub decided_at: Option<String>,
    /// The decision's opinion.
    pub opinion: Option<String>,
    /// The deadline before, and after when approved.
    pub old_due: Option<String>,
    /// The deadline after an approval.
    pub new_due: Option<String>,
}

const COLUMNS: &str = "id, days, reason, requested_name, requested_by, requested_at, state, \
    decided_name, decided_at, opinion, old_due, new_due";

fn row(r: &yiwang_store::AnyRow) -> Result<Extension, ServiceError> {
    Ok(Extension {
        id: r.try_get("id")?,
        days: r.try_get("days")?,
        reason: r.try_get("reason")?,
        requested_name: r.try_get("requested_name")?,
        requested_by: r.try_get("requested_by")?,
        requested_at: r.try_get("requested_at")?,
        state: r.try_get("state")?,
        decided_name: r.try_get("decided_name")?,
        decided_at: r.try_get("decided_at")?,
        opinion: r.try_get("opinion")?,
        old_due: r.try_get("old_due")?,
        new_due: r.try_get("new_due")?,
    })
}

/// Every extension request of a case, oldest first (for its handlers and overseers).
pub async fn of_case(p: &Platform, case_id: &str) -> Result<Vec<Extension>, ServiceError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM case_extensions WHERE case_id = $1 ORDER BY requested_at, id"
    )))
    .bind(case_id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(row)
    .collect()
}

async fn pending(p: &Platform, case_id: &str) -> Result<Option<Extension>, ServiceError> {
    Ok(of_case(p, case_id)
        .await?
        .into_iter()
        .find(|e| e.state == "pending"))
}

/// Whether `actor` may decide `e` on case `c`: an approver of the case's organisation who did
/// not ask for it.
pub fn may_decide(actor: &Staff, c: &Case, e: &Extension) -> bool {
    actor.has(Role::Approver) && actor.org == c.org && e.requested_by != actor.id
}

fn parse_days(days: &str) -> Result<u32, FieldError> {
    match days.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_DAYS).contains(&n) => Ok(n),
        _ => Err(FieldError::new(
            "days",
            format!("延长天数应为 1 至 {MAX_DAYS} 个工作日"),
            format!("days is a whole number from 1 to {MAX_DAYS}"),
        )),
    }
}

fn batch_error(e: BatchError) -> ServiceError {
    match e {
        BatchError::Conflict => conflict(),
        BatchError::Store(e) => e.into(),
    }
}

/// Asks for the case's deadline to be extended by `days` working days (申请延长审批).
pub async fn request(
    p: &Platform,
    actor: &Staff,
    id: &str,
    rev: Option<i64>,
    days: &str,
    reason: &str,
) -> Result<Case, ServiceError> {
    let c = super::as_handler(p, actor, id).await?;
    check_rev(&c, rev)?;
    if c.state != CaseState::Handling {
        return Err(ServiceError::Conflict(format!(
            "办件当前状态为“{}”，只有办理中的办件可以申请延长 / only a case being handled can be extended",
            c.state.label_zh()
        )));
    }
    let Some(due) = c.due_at else {
        return Err(ServiceError::Conflict(
            "该办件没有承诺时限，无需延长 / the case has no deadline to extend".into(),
        ));
    };
    // Every problem of the form at once.
    let days = parse_days(days);
    let reason = reason.trim();
    let mut errors: Vec<FieldError> = days.clone().err().into_iter().collect();
    if reason.is_empty() {
        errors.push(FieldError::new(
            "reason",
            "请填写延长审批的理由",
            "give the reason",
        ));
    }
    let days = match days {
        Ok(d) if errors.is_empty() => d,
        _ => return Err(ServiceError::Invalid(errors)),
    };
    if pending(p, &c.id).await?.is_some() {
        return Err(ServiceError::Conflict(
            "该办件已有待审批的延长申请 / an extension request is already waiting".into(),
        ));
    }
    let at = fmt_time(p.now());
    let mut b = Batch::default();
    b.push(
        "INSERT INTO case_extensions (id, case_id, days, reason, requested_by, requested_name, \
         requested_at, state, old_due) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)",
        vec![
            uuid::Uuid::now_v7().to_string().into(),
            c.id.as_str().into(),
            i64::from(days).into(),
            reason.into(),
            actor.id.as_str().into(),
            actor.display_name.as_str().into(),
            at.as_str().into(),
            fmt_time(due).into(),
        ],
    );
    let b = Change {
        case: &c,
        action: CaseAction::RequestExtension,
        sets: Vec::new(),
        records: vec![NewRecord {
            step: CaseAction::RequestExtension.step_zh().to_owned(),
            handler: actor.display_name.clone(),
            handler_id: actor.id.clone(),
            action: RecordAction::Other,
            opinion: format!("申请延长{days}个工作日：{reason}"),
            started_at: at.clone(),
            ended_at: at.clone(),
            status: RecordStatus::Done,
        }],
        case_no: None,
        event: json!({ "days": days, "reason": reason }),
        message: None,
    }
    .into_batch(p, b)?;
    b.commit_alone(&p.db).await.map_err(batch_error)?;
    load(p, &c.id).await
}

/// Approves (`approve`) or refuses the case's pending extension request (延长审批); an opinion
/// is required to refuse. Approved, the deadlines move by the requested working days.
pub async fn decide(
    p: &Platform,
    actor: &Staff,
    id: &str,
    rev: Option<i64>,
    approve: bool,
    opinion: &str,
) -> Result<Case, ServiceError> {
    let c = super::as_handler(p, actor, id).await?;
    let Some(e) = pending(p, &c.id).await? else {
        return Err(ServiceError::Conflict(
            "该办件没有待审批的延长申请 / no extension request is waiting".into(),
        ));
    };
    if e.requested_by == actor.id {
        return Err(ServiceError::Forbidden(
            "不能审批自己提出的延长申请 / you cannot decide your own request".into(),
        ));
    }
    if !may_decide(actor, &c, &e) {
        return Err(ServiceError::Forbidden(
            "只有本部门的审批人员可以审批延长申请 / only an approver of the organisation decides"
                .into(),
        ));
    }
    check_rev(&c, rev)?;
    let opinion = if approve {
        let t = opinion.trim();
        if t.is_empty() {
            "同意延长".to_owned()
        } else {
            t.to_owned()
        }
    } else {
        required_text(
            "opinion",
            opinion,
            "不批准延长时请填写意见",
            "give the opinion when refusing",
        )?
    };
    let days = u32::try_from(e.days).unwrap_or(0);
    let old_due: Option<DateTime<Utc>> = c.due_at;
    let new_due = match (approve, old_due) {
        (true, Some(d)) => Some(p.calendar().add_working_days(d, days)),
        _ => None,
    };
    let at = fmt_time(p.now());
    let mut b = Batch::default();
    b.guard(
        "UPDATE case_extensions SET state = $1, decided_by = $2, decided_name = $3, \
         decided_at = $4, opinion = $5, new_due = $6 WHERE id = $7 AND state = 'pending' \
         RETURNING CAST('e' AS TEXT) AS k",
        vec![
            if approve { "approved" } else { "refused" }.into(),
            actor.id.as_str().into(),
            actor.display_name.as_str().into(),
            at.as_str().into(),
            opinion.as_str().into(),
            Bind::Text(new_due.map(fmt_time)),
            e.id.as_str().into(),
        ],
    );
    let cal = p.calendar();
    let local = |t: DateTime<Utc>| cal.local_date(t).format("%Y年%m月%d日").to_string();
    let message = new_due.map(|d| {
        (
            "办理时限已延长".to_owned(),
            format!(
                "您申请的“{}”（办件编号{}）经批准延长办理时限{}个工作日，理由：{}。预计办结日期：{}。",
                c.item_name,
                c.case_no.clone().unwrap_or_default(),
                days,
                e.reason,
                local(d)
            ),
        )
    });
    let change = Change {
        case: &c,
        action: CaseAction::DecideExtension,
        sets: match new_due {
            Some(d) => vec![("due_at", fmt_time(d).into())],
            None => Vec::new(),
        },
        records: vec![NewRecord {
            step: CaseAction::DecideExtension.step_zh().to_owned(),
            handler: actor.display_name.clone(),
            handler_id: actor.id.clone(),
            action: if approve {
                RecordAction::Pass
            } else {
                RecordAction::Return
            },
            opinion: if approve {
                format!("批准延长{days}个工作日：{opinion}")
            } else {
                format!("不批准延长：{opinion}")
            },
            started_at: e.requested_at.clone(),
            ended_at: at.clone(),
            status: RecordStatus::Done,
        }],
        case_no: None,
        event: json!({ "approved": approve, "days": days, "due_at": new_due.map(fmt_time) }),
        message,
    };
    let b = change.into_batch(p, b)?;
    let mut tx = p.db.begin().await?;
    b.run(p.db.backend(), &mut tx).await.map_err(batch_error)?;
    if let (Some(d), Some(wf)) = (new_due, &c.wf_instance) {
        crate::workflow::runtime::extend_due(
            p,
            &mut tx,
            wf,
            d,
            &actor.username,
            json!({ "days": days, "case": c.id, "extension": e.id }),
        )
        .await?;
    }
    tx.commit().await?;
    let c = load(p, &c.id).await?;
    if approve {
        super::notify_applicant(p, &c, &format!("办理时限延长{days}个工作日")).await;
    }
    Ok(c)
}
