//! The window's side of a case (一窗受理): register a case for an applicant at any window of
//! the region, the queue of cases waiting for a decision, 受理 / 不予受理 / 补正 (every problem
//! at once), 即办件 decided on the spot, special procedures (特别程序) that stop the clock, and
//! delivery (送达).
//!
//! Every action needs the window-clerk role in a region that contains the case's organisation
//! (special procedures: an approver of the organisation too), and the case's `rev` as the
//! actor saw it; out-of-order actions are refused by the case's state machine.

use serde_json::json;
use yiwang_domain::case::{CaseAction, CaseState};
use yiwang_domain::dict::HandlingForm;
use yiwang_store::{Batch, Bind, fmt_time};

use super::apply::NewApplicant;
use super::{
    Access, Case, Change, Correction, Delivery, NewRecord, check_rev, load, required_text,
};
use crate::identity::staff::{Role, Staff};
use crate::{FieldError, Platform, ServiceError};

/// The case, if the clerk may act on it as a window.
async fn as_window(p: &Platform, actor: &Staff, id: &str) -> Result<Case, ServiceError> {
    let (c, access) = super::for_staff(p, actor, id).await?;
    if access != Access::Handler || !actor.has(Role::WindowClerk) {
        return Err(ServiceError::Forbidden(
            "只有窗口人员可以办理受理、补正和送达 / only window clerks do this".into(),
        ));
    }
    Ok(c)
}

fn who(actor: &Staff) -> (&str, &str) {
    (&actor.display_name, &actor.id)
}

/// Cases waiting for a window (submitted, or back from corrections), oldest first, for the
/// organisations of the clerk's region; `applicant_id` narrows to one applicant (ID number or
/// credit code, matched by its blind index).
pub async fn queue(
    p: &Platform,
    actor: &Staff,
    applicant_id: Option<&str>,
) -> Result<Vec<Case>, ServiceError> {
    if !actor.has(Role::WindowClerk) {
        return Err(ServiceError::Forbidden(
            "只有窗口人员可以查看受理队列 / window clerks only".into(),
        ));
    }
    let master = p.master.get();
    let orgs: Vec<String> = master
        .organisations
        .values()
        .filter(|o| crate::identity::authz::region_contains(&actor.region, &o.region))
        .map(|o| o.credit_code.clone())
        .collect();
    if orgs.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = format!(
        "SELECT {} FROM cases WHERE state IN ('submitted', 'correction') AND org IN ({})",
        super::CASE_COLUMNS,
        (0..orgs.len())
            .map(|i| format!("${}", i + 1))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut binds: Vec<Bind> = orgs.into_iter().map(Bind::from).collect();
    if let Some(a) = applicant_id.map(str::trim).filter(|a| !a.is_empty()) {
        let normalised = a.to_ascii_uppercase();
        binds.push(p.keys.pii.blind_index("applicant_id", &normalised).into());
        sql.push_str(&format!(" AND applicant_id_bidx = ${}", binds.len()));
    }
    sql.push_str(" ORDER BY submitted_at LIMIT 500");
    let rows = yiwang_store::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), binds)
        .fetch_all(p.db.pool())
        .await?;
    rows.iter().map(|r| super::case_row(p, r)).collect()
}

/// Registers a case at the window for an applicant (its account, if the applicant has one, can
/// follow it online). It starts as a draft the clerk completes and submits.
pub async fn register(
    p: &Platform,
    actor: &Staff,
    item_code: &str,
    applicant: NewApplicant,
) -> Result<Case, ServiceError> {
    if !actor.has(Role::WindowClerk) {
        return Err(ServiceError::Forbidden(
            "只有窗口人员可以代为申请 / window clerks only".into(),
        ));
    }
    let item = super::apply::item_for_case(p, item_code).await?;
    let region = p
        .master
        .get()
        .organisation(&item.summary.org)
        .map(|o| o.region.clone())
        .unwrap_or_default();
    if !crate::identity::authz::region_contains(&actor.region, &region) {
        return Err(ServiceError::Forbidden(
            "该事项不在本窗口的受理范围 / the item is outside this window's region".into(),
        ));
    }
    let mut applicant = applicant;
    applicant.name = required_text(
        "applicant_name",
        &applicant.name,
        "请填写申请人姓名或名称",
        "give the applicant's name",
    )?;
    if applicant.kind == super::ApplicantKind::Person && applicant.user_id.is_none() {
        let n = yiwang_domain::codes::IdCardNumber::parse(&applicant.id).map_err(|e| {
            ServiceError::Invalid(vec![FieldError::new(
                "applicant_id",
                e.message_zh(),
                e.message_en(),
            )])
        })?;
        applicant.id = n.as_str().to_owned();
        applicant.user_id = crate::identity::users::find_by_id_number(p, &n)
            .await?
            .map(|u| u.id);
    } else if applicant.kind == super::ApplicantKind::Enterprise {
        let n = yiwang_domain::codes::CreditCode::parse(&applicant.id).map_err(|e| {
            ServiceError::Invalid(vec![FieldError::new(
                "applicant_id",
                e.message_zh(),
                e.message_en(),
            )])
        })?;
        applicant.id = n.as_str().to_owned();
    }
    let id =
        super::apply::insert_case(p, &item, &applicant, HandlingForm::Window, &actor.id).await?;
    load(p, &id).await
}

/// The clerk saves the form of a case registered at the window.
pub async fn save_form(
    p: &Platform,
    actor: &Staff,
    id: &str,
    values: &serde_json::Map<String, serde_json::Value>,
) -> Result<Case, ServiceError> {
    let c = as_window(p, actor, id).await?;
    if c.state != CaseState::Draft {
        return Err(ServiceError::Conflict(
            "办件已提交，不能修改 / already submitted".into(),
        ));
    }
    super::apply::store_form(p, &c, values).await
}

/// The clerk adds a material file to a case registered at the window.
pub async fn attach(
    p: &Platform,
    actor: &Staff,
    id: &str,
    slot: usize,
    name: &str,
    bytes: &[u8],
) -> Result<super::apply::MaterialFile, ServiceError> {
    let c = as_window(p, actor, id).await?;
    if c.state != CaseState::Draft {
        return Err(ServiceError::Conflict(
            "办件已提交，不能再上传材料 / already submitted".into(),
        ));
    }
    super::apply::attach_as(p, &c, &actor.id, slot, name, bytes).await
}

/// The clerk submits a case registered at the window (it gets its case number).
pub async fn submit(
    p: &Platform,
    actor: &Staff,
    id: &str,
    submit_key: &str,
    rev: Option<i64>,
) -> Result<Case, ServiceError> {
    let c = as_window(p, actor, id).await?;
    super::apply::submit_as(p, c, who(actor), "窗口收件", submit_key, rev).await
}

/// 受理: accepts a submitted case. A 承诺件 gets its promised completion date and starts its
/// item's approval process (through the `case.accepted` event); a 即办件 is then decided on
/// the spot ([`decide_on_spot`]).
pub async fn accept(
    p: &Platform,
    actor: &Staff,
    id: &str,
    rev: Option<i64>,
    opinion: &str,
) -> Result<Case, ServiceError> {
    let c = as_window(p, actor, id).await?;
    check_rev(&c, rev)?;
    if c.case_type == "2" && crate::workflow::binding(p, &c.item_code).await?.is_none() {
        return Err(ServiceError::Conflict(
            "该事项尚未绑定审批流程，请联系事项管理员 / the item has no approval process bound: ask its administrator"
                .into(),
        ));
    }
    let now = p.now();
    let at = fmt_time(now);
    let promised = u32::try_from(c.promised_days).unwrap_or(0);
    let due =
        (c.case_type == "2" && promised > 0).then(|| p.calendar().add_working_days(now, promised));
    let opinion = if opinion.trim().is_empty() {
        "材料齐全，符合法定形式，予以受理"
    } else {
        opinion.trim()
    };
    let started = c.submitted_at.map(fmt_time).unwrap_or_else(|| at.clone());
    // A 承诺件's approval process starts in the acceptance's own transaction, which also
    // marks the acceptance's event handled by the process starter (the event consumer would
    // otherwise start it shortly).
    let mut extra = Batch::default();
    let mut process = None;
    if c.case_type == "2" && c.wf_instance.is_none() {
        let variables = super::events::process_variables(p, &c).await?;
        let (b, written) = crate::workflow::runtime::prepare_start(
            p,
            "system",
            crate::workflow::runtime::Start {
                business_key: c.id.clone(),
                item_code: Some(c.item_code.clone()),
                process_key: None,
                org: c.org.clone(),
                variables,
                limit_days: Some(promised),
            },
        )
        .await?;
        extra = b;
        process = Some(written);
    }
    let wf_instance = process.as_ref().map(|s| s.id.clone());
    let mut sets = vec![
        ("accepted_at", at.clone().into()),
        ("due_at", Bind::Text(due.map(fmt_time))),
    ];
    if let Some(wf) = &wf_instance {
        sets.push(("wf_instance", wf.clone().into()));
    }
    let accepted = Change {
        case: &c,
        action: CaseAction::Accept,
        sets,
        records: vec![NewRecord::done(
            CaseAction::Accept,
            who(actor),
            opinion,
            &started,
            &at,
        )],
        case_no: None,
        event: json!({ "case_type": c.case_type, "promised_days": c.promised_days,
                       "due_at": due.map(fmt_time) }),
        message: Some((
            "申请已受理".into(),
            match &due {
                Some(_) => format!(
                    "您申请的“{}”（办件编号{}）已受理，承诺{}个工作日内办结。",
                    c.item_name,
                    c.case_no.clone().unwrap_or_default(),
                    promised
                ),
                None => format!(
                    "您申请的“{}”（办件编号{}）已受理。",
                    c.item_name,
                    c.case_no.clone().unwrap_or_default()
                ),
            },
        )),
    }
    .commit_with(
        p,
        extra,
        process.is_some().then_some(super::events::APPROVAL),
        |a| {
            a.accepted_at = Some(now);
            a.due_at = due;
            a.wf_instance = wf_instance.clone();
        },
    )
    .await?;
    if let Some(written) = &process {
        p.workflow.keep(written);
    }
    super::notify_applicant(p, &accepted, "已受理").await;
    Ok(accepted)
}

/// 不予受理, with the reasons (required).
pub async fn refuse(
    p: &Platform,
    actor: &Staff,
    id: &str,
    rev: Option<i64>,
    reasons: &str,
) -> Result<Case, ServiceError> {
    let c = as_window(p, actor, id).await?;
    check_rev(&c, rev)?;
    let reasons = required_text(
        "reasons",
        reasons,
        "请填写不予受理的理由",
        "give the reasons for refusing",
    )?;
    let now = p.now();
    let at = fmt_time(now);
    let started = c.submitted_at.map(fmt_time).unwrap_or_else(|| at.clone());
    let c = Change {
        case: &c,
        action: CaseAction::Refuse,
        sets: vec![
            ("accepted_at", at.clone().into()),
            ("decision_opinion", reasons.clone().into()),
        ],
        records: vec![NewRecord::done(
            CaseAction::Refuse,
            who(actor),
            &reasons,
            &started,
            &at,
        )],
        case_no: None,
        event: json!({ "reasons": reasons }),
        message: Some((
            "申请不予受理".into(),
            format!("您申请的“{}”不予受理，理由：{}", c.item_name, reasons),
        )),
    }
    .commit_with(p, Batch::default(), None, |a| {
        a.accepted_at = Some(now);
        a.decision_opinion = reasons.clone();
    })
    .await?;
    super::notify_applicant(p, &c, "不予受理，请查看理由").await;
    Ok(c)
}

/// 补正: asks for corrections, every one at once (一次性告知); the case goes back to the
/// applicant with the list.
pub async fn request_correction(
    p: &Platform,
    actor: &Staff,
    id: &str,
    rev: Option<i64>,
    items: Vec<Correction>,
) -> Result<Case, ServiceError> {
    let c = as_window(p, actor, id).await?;
    check_rev(&c, rev)?;
    let item = crate::catalogue::published(p, &c.item_code).await?;
    let mut problems = Vec::new();
    let mut list = Vec::new();
    for (i, mut x) in items.into_iter().enumerate() {
        x.problem = x.problem.trim().to_owned();
        if let Some(slot) = x.slot {
            match item.guide.materials.get(slot) {
                Some(m) => x.subject = m.name.clone(),
                None => problems.push(FieldError::new(
                    format!("corrections[{i}].slot"),
                    "没有这项申请材料",
                    "no such material",
                )),
            }
        }
        if x.subject.trim().is_empty() {
            problems.push(FieldError::new(
                format!("corrections[{i}].subject"),
                "请写明需要补正的材料或事项",
                "name what must be corrected",
            ));
        }
        if x.problem.is_empty() {
            problems.push(FieldError::new(
                format!("corrections[{i}].problem"),
                format!("请写明“{}”需要如何补正", x.subject),
                "say what is wrong and what to hand in",
            ));
        }
        list.push(x);
    }
    if list.is_empty() {
        problems.push(FieldError::new(
            "corrections",
            "请至少列出一项需要补正的内容",
            "list at least one correction",
        ));
    }
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let at = fmt_time(p.now());
    let summary: Vec<String> = list
        .iter()
        .map(|x| format!("{}：{}", x.subject, x.problem))
        .collect();
    let started = c.submitted_at.map(fmt_time).unwrap_or_else(|| at.clone());
    let c = Change {
        case: &c,
        action: CaseAction::RequestCorrection,
        sets: vec![("corrections", serde_json::to_string(&list)?.into())],
        records: vec![NewRecord::done(
            CaseAction::RequestCorrection,
            who(actor),
            &summary.join("；"),
            &started,
            &at,
        )],
        case_no: None,
        event: json!({ "corrections": list }),
        message: Some((
            "请补正申请材料".into(),
            format!(
                "您申请的“{}”需要补正：{}。请登录后在“我的办件”中补正并重新提交。",
                c.item_name,
                summary.join("；")
            ),
        )),
    }
    .commit_with(p, Batch::default(), None, |a| a.corrections = list.clone())
    .await?;
    super::notify_applicant(p, &c, "需要补正材料，请一次补齐后重新提交").await;
    Ok(c)
}

/// Decides a 即办件 at the window right after acceptance: approved, or refused with reasons.
pub async fn decide_on_spot(
    p: &Platform,
    actor: &Staff,
    id: &str,
    rev: Option<i64>,
    approved: bool,
    opinion: &str,
) -> Result<Case, ServiceError> {
    let c = as_window(p, actor, id).await?;
    check_rev(&c, rev)?;
    if c.case_type != "1" || c.wf_instance.is_some() {
        return Err(ServiceError::Conflict(
            "只有即办件可以当场办结，承诺件请在审批流程中办理 / only immediate cases are decided at the window"
                .into(),
        ));
    }
    let opinion = if approved && opinion.trim().is_empty() {
        "符合条件，准予办理".to_owned()
    } else {
        required_text(
            "opinion",
            opinion,
            "不予许可须填写理由",
            "give the reasons for refusing",
        )?
    };
    decide(p, &c, approved, &opinion, who(actor), Vec::new()).await
}

/// Writes the decision of a case (the window's for a 即办件) and tells the applicant.
pub(crate) async fn decide(
    p: &Platform,
    c: &Case,
    approved: bool,
    opinion: &str,
    by: (&str, &str),
    steps: Vec<NewRecord>,
) -> Result<Case, ServiceError> {
    let result = if approved {
        "准予许可"
    } else {
        "不予许可"
    };
    let decided_at = p.now();
    let c = decision(p, c, approved, opinion, by, steps)
        .commit_with(p, Batch::default(), None, |a| {
            a.decided_at = Some(decided_at);
            a.decision_opinion = opinion.to_owned();
            a.paused_at = None;
        })
        .await?;
    super::notify_applicant(p, &c, &format!("已办结（{result}）")).await;
    Ok(c)
}

/// The change that decides a case: the approval steps' records, then the decision's.
pub(crate) fn decision<'a>(
    p: &Platform,
    c: &'a Case,
    approved: bool,
    opinion: &str,
    by: (&str, &str),
    mut steps: Vec<NewRecord>,
) -> Change<'a> {
    let at = fmt_time(p.now());
    let action = if approved {
        CaseAction::Approve
    } else {
        CaseAction::Reject
    };
    let started = c.accepted_at.map(fmt_time).unwrap_or_else(|| at.clone());
    steps.push(NewRecord::done(action, by, opinion, &started, &at));
    let result = if approved {
        "准予许可"
    } else {
        "不予许可"
    };
    Change {
        case: c,
        action,
        sets: vec![
            ("decided_at", at.clone().into()),
            ("decision_opinion", opinion.to_owned().into()),
            ("paused_at", Bind::Text(None)),
        ],
        records: steps,
        case_no: None,
        event: json!({ "approved": approved }),
        message: Some((
            format!("办件已办结（{result}）"),
            format!(
                "您申请的“{}”（办件编号{}）已办结：{}。{}",
                c.item_name,
                c.case_no.clone().unwrap_or_default(),
                result,
                opinion
            ),
        )),
    }
}

/// Starts a special procedure (特别程序: 延长审批, 听证, 检验检测, 专家评审…): the clock stops
/// until it ends. A reason is required.
pub async fn start_special(
    p: &Platform,
    actor: &Staff,
    id: &str,
    rev: Option<i64>,
    kind: &str,
    reason: &str,
) -> Result<Case, ServiceError> {
    let c = super::as_handler(p, actor, id).await?;
    check_rev(&c, rev)?;
    let kind = required_text("kind", kind, "请选择特别程序种类", "choose the procedure")?;
    if kind == "延长审批" {
        return Err(ServiceError::invalid(
            "kind",
            "延长审批不暂停计时，须经批准：请使用“申请延长”",
            "an extension does not stop the clock and needs approval: ask for an extension",
        ));
    }
    let reason = required_text(
        "reason",
        reason,
        "请填写启动特别程序的理由",
        "give the reason",
    )?;
    if let Some(wf) = &c.wf_instance {
        crate::workflow::runtime::suspend(p, &actor.username, wf, &format!("{kind}：{reason}"))
            .await?;
    }
    let at = fmt_time(p.now());
    let opinion = format!("{kind}：{reason}");
    Change {
        case: &c,
        action: CaseAction::StartSpecial,
        sets: vec![("paused_at", at.clone().into())],
        records: vec![NewRecord::done(
            CaseAction::StartSpecial,
            who(actor),
            &opinion,
            &at,
            &at,
        )],
        case_no: None,
        event: json!({ "kind": kind, "reason": reason }),
        message: Some((
            "办件进入特别程序".into(),
            format!(
                "您申请的“{}”进入特别程序（{}），期间不计入办理时限。",
                c.item_name, opinion
            ),
        )),
    }
    .commit(p)
    .await
}

/// Ends the special procedure: the clock runs again and the promised date moves by the
/// working time it was stopped.
pub async fn end_special(
    p: &Platform,
    actor: &Staff,
    id: &str,
    rev: Option<i64>,
    result: &str,
) -> Result<Case, ServiceError> {
    let c = super::as_handler(p, actor, id).await?;
    check_rev(&c, rev)?;
    let result = required_text("result", result, "请填写特别程序的结果", "give the outcome")?;
    let now = p.now();
    let due = match (&c.wf_instance, c.due_at, c.paused_at) {
        (Some(wf), _, _) => {
            crate::workflow::runtime::resume(p, &actor.username, wf)
                .await?
                .due_at
        }
        (None, Some(due), Some(since)) => {
            let cal = p.calendar();
            Some(cal.shift_by_working_time(due, cal.working_time_between(since, now)))
        }
        (None, due, _) => due,
    };
    let at = fmt_time(now);
    let started = c.paused_at.map(fmt_time).unwrap_or_else(|| at.clone());
    Change {
        case: &c,
        action: CaseAction::EndSpecial,
        sets: vec![
            ("paused_at", Bind::Text(None)),
            ("due_at", Bind::Text(due.map(fmt_time))),
        ],
        records: vec![NewRecord::done(
            CaseAction::EndSpecial,
            who(actor),
            &result,
            &started,
            &at,
        )],
        case_no: None,
        event: json!({ "result": result }),
        message: None,
    }
    .commit(p)
    .await
}

/// 送达: the result reached the applicant — handed over at the window, or posted (carrier and
/// tracking number required).
pub async fn deliver(
    p: &Platform,
    actor: &Staff,
    id: &str,
    rev: Option<i64>,
    method: &str,
    carrier: &str,
    tracking_no: &str,
) -> Result<Case, ServiceError> {
    let c = as_window(p, actor, id).await?;
    check_rev(&c, rev)?;
    let mut d: Delivery = c.delivery.clone();
    let opinion = match method {
        "window" => {
            d.method = "window".into();
            "窗口领取".to_owned()
        }
        "post" => {
            let carrier = required_text("carrier", carrier, "请填写快递公司", "give the carrier")?;
            let tracking = required_text(
                "tracking_no",
                tracking_no,
                "请填写快递单号",
                "give the tracking number",
            )?;
            d.method = "post".into();
            d.carrier = Some(carrier.clone());
            d.tracking_no = Some(tracking.clone());
            format!("邮寄送达：{carrier} {tracking}")
        }
        _ => {
            return Err(ServiceError::Invalid(vec![FieldError::new(
                "method",
                "请选择送达方式（窗口领取或邮寄）",
                "choose window or post",
            )]));
        }
    };
    // The case as it will read (the address in clear), for the delivery receipt.
    let shown = d.clone();
    if let Some(a) = &d.address {
        d.address = Some(
            p.keys
                .pii
                .encrypt("address", a)
                .map_err(|e| ServiceError::internal(format!("encrypt address: {e}")))?,
        );
    }
    let delivered_at = p.now();
    let at = fmt_time(delivered_at);
    let started = c.decided_at.map(fmt_time).unwrap_or_else(|| at.clone());
    let c = Change {
        case: &c,
        action: CaseAction::Deliver,
        sets: vec![
            ("delivered_at", at.clone().into()),
            ("delivery", serde_json::to_string(&d)?.into()),
        ],
        records: vec![NewRecord::done(
            CaseAction::Deliver,
            who(actor),
            &opinion,
            &started,
            &at,
        )],
        case_no: None,
        event: json!({ "method": d.method }),
        message: Some((
            "办理结果已送达".into(),
            format!("您申请的“{}”的办理结果已送达（{}）。", c.item_name, opinion),
        )),
    }
    .commit_with(p, Batch::default(), None, |a| {
        a.delivered_at = Some(delivered_at);
        a.delivery = shown;
    })
    .await?;
    super::notify_applicant(p, &c, "办理结果已送达").await;
    Ok(c)
}

/// 核验原件: window staff checked the original of an uploaded copy (trust level C) and raise it
/// to B (verified against the original, reusable). Only for a case the clerk handles that is
/// not yet decided; the clerk is recorded.
pub async fn verify_original(
    p: &Platform,
    actor: &Staff,
    id: &str,
    slot: usize,
    file_id: &str,
) -> Result<super::apply::MaterialFile, ServiceError> {
    let c = as_window(p, actor, id).await?;
    if matches!(
        c.state,
        CaseState::Approved
            | CaseState::Rejected
            | CaseState::NotAccepted
            | CaseState::Delivered
            | CaseState::Withdrawn
    ) {
        return Err(ServiceError::Conflict(
            "办件已办结，不能再核验材料 / the case is closed".into(),
        ));
    }
    let done = sqlx::query(
        "UPDATE case_materials SET trust = 'B', verified_by = $1, verified_at = $5 \
         WHERE case_id = $2 AND slot = $3 AND file_id = $4 AND trust = 'C'",
    )
    .bind(&actor.id)
    .bind(id)
    .bind(i64::try_from(slot).unwrap_or(-1))
    .bind(file_id)
    .bind(fmt_time(p.now()))
    .execute(p.db.writer())
    .await?;
    let files = super::apply::materials(p, id).await?;
    let Some(f) = files
        .into_iter()
        .find(|f| f.slot == slot && f.file_id == file_id)
    else {
        return Err(ServiceError::NotFound {
            what: "材料",
            key: file_id.to_owned(),
        });
    };
    if done.rows_affected() != 1 && f.trust != "B" {
        return Err(ServiceError::Conflict(format!(
            "该材料的可信级别为 {}，只有上传的复印件（C）可经核验原件升为 B / only an uploaded copy \
             (C) is raised to B",
            f.trust
        )));
    }
    Ok(f)
}
