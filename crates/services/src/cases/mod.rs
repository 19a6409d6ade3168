//! 办件: cases from application to delivery (运行管理 in the seed design).
//!
//! - [`apply`]: the applicant's side — drafts, the application form, materials, submission
//!   (idempotent), corrections, withdrawal, 我的办件.
//! - [`window`]: the window's side (一窗受理) — registering a case for an applicant, the queue
//!   of submissions, 受理 / 不予受理 / 补正, 即办件 decided on the spot, special procedures,
//!   delivery (送达).
//! - [`events`]: consumers of outbox events — an accepted 承诺件 starts its item's approval
//!   process; an ended process decides the case.
//! - [`notices`]: the notices and decisions as PDF (受理通知书, 补正材料通知书, 决定书, 送达回证).
//! - [`records`]: the 办件过程信息 (GB/T 39046), append-only and SM3-chained per case, and
//!   `verify`.
//!
//! **Invariant:** every state change of a case is one transaction that moves `state` by
//! [`yiwang_domain::case::next`] under the case's `rev` (a stale writer gets `Conflict`),
//! appends its process records to the case's chain and writes its outbox event. Personal data
//! (ID number, phone, form values) is encrypted at rest; views carry it masked unless the
//! reader may see it.

pub mod apply;
pub mod events;
pub mod extensions;
pub mod notices;
pub mod records;
pub mod window;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use yiwang_domain::case::{CaseAction, CaseState, RecordAction, RecordStatus};
use yiwang_store::{Any, Batch, BatchError, Bind, Row, Transaction, fmt_time, parse_time};

use crate::identity::staff::{Role, Staff};
use crate::{FieldError, Platform, ServiceError};

/// Who applies: a person (ID number) or an enterprise (credit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    /// 自然人.
    Person,
    /// 法人.
    Enterprise,
}

impl ApplicantKind {
    fn as_str(self) -> &'static str {
        match self {
            ApplicantKind::Person => "person",
            ApplicantKind::Enterprise => "enterprise",
        }
    }
}

/// One item of a correction notice (一次性告知): a material or a form field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// The material's position in the guide, when it is about a material.
    pub slot: Option<usize>,
    /// The form field's key, when it is about a field.
    pub field: Option<String>,
    /// What the material or field is (its name), for the notice.
    pub subject: String,
    /// What is wrong and what to hand in.
    pub problem: String,
}

/// How the result reaches the applicant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// `window` (窗口自取) or `post` (邮寄); empty until chosen.
    #[serde(default)]
    pub method: String,
    /// Postal address (for `post`); stored encrypted with the case's other personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Carrier, once posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// Tracking number, once posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_no: Option<String>,
}

/// A case as pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    /// Id (UUID).
    pub id: String,
    /// 办件编号 (none while a draft).
    pub case_no: Option<String>,
    /// 实施编码.
    pub item_code: String,
    /// The item version applied for.
    pub item_version: i64,
    /// Item name.
    pub item_name: String,
    /// Implementing organisation (credit code).
    pub org: String,
    /// 办件类型 code (1 即办件, 2 承诺件).
    pub case_type: String,
    /// 办理形式 code (1 窗口, 2 网上).
    pub channel: String,
    /// Person or enterprise.
    pub applicant_kind: ApplicantKind,
    /// The applying account, if any.
    pub owner_user: Option<String>,
    /// Applicant's name.
    pub applicant_name: String,
    /// Masked ID number or credit code.
    pub applicant_id_masked: String,
    /// Where it is.
    pub state: CaseState,
    /// Optimistic lock: pass it back with an action.
    pub rev: i64,
    /// The open correction list.
    pub corrections: Vec<Correction>,
    /// 承诺办结时限, working days.
    pub promised_days: i64,
    /// Promised completion, once accepted.
    pub due_at: Option<DateTime<Utc>>,
    /// Since when the clock is stopped.
    pub paused_at: Option<DateTime<Utc>>,
    /// The approval process instance.
    pub wf_instance: Option<String>,
    /// The decision's opinion or reasons (also the refusal reasons at acceptance).
    pub decision_opinion: String,
    /// Delivery choice and record (address decrypted only for readers who may see it).
    pub delivery: Delivery,
    /// Registered.
    pub created_at: DateTime<Utc>,
    /// Submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Accepted (or refused at acceptance).
    pub accepted_at: Option<DateTime<Utc>>,
    /// Decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Number of process records.
    pub rseq: i64,
    /// Head of the record chain.
    pub rhash: String,
}

/// What a case's reader may see: the applicant and staff handling it see the form and the
/// address; others (supervisors) the masked case only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The applicant's own account.
    Owner,
    /// Staff who handle it (window, approver of its organisation).
    Handler,
    /// Read-only oversight.
    Overseer,
}

pub(crate) const CASE_COLUMNS: &str = "id, case_no, item_code, item_version, item_name, org, \
    case_type, channel, applicant_kind, owner_user, applicant_name, applicant_id_masked, state, \
    rev, corrections, promised_days, due_at, paused_at, wf_instance, decision_opinion, delivery, \
    created_at, submitted_at, accepted_at, decided_at, delivered_at, rseq, rhash";

fn time(r: &yiwang_store::AnyRow, col: &str) -> Result<Option<DateTime<Utc>>, ServiceError> {
    let v: Option<String> = r.try_get(col)?;
    Ok(v.as_deref().and_then(parse_time))
}

pub(crate) fn case_row(p: &Platform, r: &yiwang_store::AnyRow) -> Result<Case, ServiceError> {
    let state: String = r.try_get("state")?;
    let kind: String = r.try_get("applicant_kind")?;
    let corrections: String = r.try_get("corrections")?;
    let delivery: String = r.try_get("delivery")?;
    let mut delivery: Delivery = serde_json::from_str(&delivery)?;
    if let Some(a) = &delivery.address {
        delivery.address = Some(
            p.keys
                .pii
                .decrypt("address", a)
                .map_err(|e| ServiceError::internal(format!("case address: {e}")))?,
        );
    }
    Ok(Case {
        id: r.try_get("id")?,
        case_no: r.try_get("case_no")?,
        item_code: r.try_get("item_code")?,
        item_version: r.try_get("item_version")?,
        item_name: r.try_get("item_name")?,
        org: r.try_get("org")?,
        case_type: r.try_get("case_type")?,
        channel: r.try_get("channel")?,
        applicant_kind: if kind == "enterprise" {
            ApplicantKind::Enterprise
        } else {
            ApplicantKind::Person
        },
        owner_user: r.try_get("owner_user")?,
        applicant_name: r.try_get("applicant_name")?,
        applicant_id_masked: r.try_get("applicant_id_masked")?,
        state: CaseState::parse(&state)
            .ok_or_else(|| ServiceError::internal(format!("case state {state}")))?,
        rev: r.try_get("rev")?,
        corrections: serde_json::from_str(&corrections)?,
        promised_days: r.try_get("promised_days")?,
        due_at: time(r, "due_at")?,
        paused_at: time(r, "paused_at")?,
        wf_instance: r.try_get("wf_instance")?,
        decision_opinion: r.try_get("decision_opinion")?,
        delivery,
        created_at: time(r, "created_at")?.unwrap_or_default(),
        submitted_at: time(r, "submitted_at")?,
        accepted_at: time(r, "accepted_at")?,
        decided_at: time(r, "decided_at")?,
        delivered_at: time(r, "delivered_at")?,
        rseq: r.try_get("rseq")?,
        rhash: r.try_get("rhash")?,
    })
}

/// A case by id, without an access check (callers check).
pub(crate) async fn load(p: &Platform, id: &str) -> Result<Case, ServiceError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(|| not_found(id))?;
    case_row(p, &r)
}

pub(crate) fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound {
        what: "办件",
        key: id.to_owned(),
    }
}

/// How a staff member may see a case: window clerks of the region of the case's organisation
/// (一窗受理: any window of the region), approvers of its organisation and supervisors of its
/// region; nobody else.
pub fn staff_access(p: &Platform, actor: &Staff, c: &Case) -> Option<Access> {
    let master = p.master.get();
    let region = master.organisation(&c.org).map(|o| o.region.clone())?;
    let in_region = crate::identity::authz::region_contains(&actor.region, &region);
    if (actor.has(Role::WindowClerk) && in_region)
        || (actor.has(Role::Approver) && actor.org == c.org)
    {
        Some(Access::Handler)
    } else if actor.has(Role::Supervisor) && in_region {
        Some(Access::Overseer)
    } else {
        None
    }
}

/// The case, if the staff member handles it (window, approver of its organisation): special
/// procedures, extensions.
pub(crate) async fn as_handler(
    p: &Platform,
    actor: &Staff,
    id: &str,
) -> Result<Case, ServiceError> {
    let (c, access) = for_staff(p, actor, id).await?;
    if access != Access::Handler {
        return Err(ServiceError::Forbidden(
            "无权办理该办件 / not yours to handle".into(),
        ));
    }
    Ok(c)
}

/// A case for a staff member who may see it (`NotFound` otherwise: no probing of ids).
pub async fn for_staff(
    p: &Platform,
    actor: &Staff,
    id: &str,
) -> Result<(Case, Access), ServiceError> {
    let c = load(p, id).await?;
    let a = staff_access(p, actor, &c).ok_or_else(|| not_found(id))?;
    Ok((c, a))
}

/// The applicant's decrypted ID number or credit code (for checks, never for display).
pub(crate) async fn applicant_id(p: &Platform, id: &str) -> Result<String, ServiceError> {
    let enc: String = sqlx::query_scalar("SELECT applicant_id_enc FROM cases WHERE id = $1")
        .bind(id)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or_else(|| not_found(id))?;
    p.keys
        .pii
        .decrypt("applicant_id", &enc)
        .map_err(|e| ServiceError::internal(format!("applicant id: {e}")))
}

/// The decrypted form values of a case (for its applicant and handlers).
pub async fn form_values(p: &Platform, id: &str) -> Result<Value, ServiceError> {
    let enc: String = sqlx::query_scalar("SELECT form_enc FROM cases WHERE id = $1")
        .bind(id)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or_else(|| not_found(id))?;
    let text = p
        .keys
        .pii
        .decrypt("case_form", &enc)
        .map_err(|e| ServiceError::internal(format!("case form: {e}")))?;
    Ok(serde_json::from_str(&text)?)
}

/// One process record to append, before it has its place in the chain.
#[derive(Debug, Clone)]
pub(crate) struct NewRecord {
    pub step: String,
    pub handler: String,
    pub handler_id: String,
    pub action: RecordAction,
    pub opinion: String,
    pub started_at: String,
    pub ended_at: String,
    pub status: RecordStatus,
}

impl NewRecord {
    /// A step done at `at` by `who` (display name, account id).
    pub(crate) fn done(
        action: CaseAction,
        who: (&str, &str),
        opinion: &str,
        started_at: &str,
        at: &str,
    ) -> NewRecord {
        NewRecord {
            step: action.step_zh().to_owned(),
            handler: who.0.to_owned(),
            handler_id: who.1.to_owned(),
            action: action.record_action(),
            opinion: opinion.to_owned(),
            started_at: started_at.to_owned(),
            ended_at: at.to_owned(),
            status: RecordStatus::Done,
        }
    }
}

/// One state change of a case, written by [`Change::commit`] or [`Change::write`].
pub(crate) struct Change<'a> {
    pub case: &'a Case,
    pub action: CaseAction,
    /// Columns to set besides state, rev and the chain head.
    pub sets: Vec<(&'static str, Bind)>,
    pub records: Vec<NewRecord>,
    /// The case number the records carry (the case's, or the one given in this change).
    pub case_no: Option<String>,
    /// Extra payload of the outbox event `case.<action>`.
    pub event: Value,
    /// A message to the applicant's account (title, body).
    pub message: Option<(String, String)>,
}

impl Change<'_> {
    /// Applies the change in its own transaction (on SQLite one script through the store's
    /// group commit); returns the case as it now is.
    pub(crate) async fn commit(self, p: &Platform) -> Result<Case, ServiceError> {
        let id = self.case.id.clone();
        self.into_batch(p, Batch::default())?
            .commit_alone(&p.db)
            .await
            .map_err(batch_error)?;
        load(p, &id).await
    }

    /// Applies the change in one transaction with `extra` (statements of the same step: a
    /// process started, an event handled) and the notice of the state it leads to, so that a
    /// step is one commit. `after` sets on a copy of the case what `sets` write, for the
    /// notice's content; `handled_by` names a consumer whose handling of this change's own
    /// event is part of the step. Returns the case as it now is.
    pub(crate) async fn commit_with(
        self,
        p: &Platform,
        extra: Batch,
        handled_by: Option<&str>,
        after: impl FnOnce(&mut Case),
    ) -> Result<Case, ServiceError> {
        let id = self.case.id.clone();
        let mut next = self.case.clone();
        next.state = yiwang_domain::case::next(next.state, self.action)
            .map_err(|e| ServiceError::Conflict(format!("{} / {e}", e.message_zh())))?;
        if let Some(no) = &self.case_no {
            next.case_no = Some(no.clone());
        }
        after(&mut next);
        let mut b = extra;
        let served_by = self.records.last().map(|r| r.handler.clone());
        notices::add_to(p, &next, served_by, &mut b).await;
        self.into_batch_marked(p, b, handled_by)?
            .commit_alone(&p.db)
            .await
            .map_err(batch_error)?;
        load(p, &id).await
    }

    /// `b` and the statements of the change: the process records, the case under its `rev`
    /// (the guard), the outbox event and the applicant's message.
    pub(crate) fn into_batch(self, p: &Platform, b: Batch) -> Result<Batch, ServiceError> {
        self.into_batch_marked(p, b, None)
    }

    /// [`Change::into_batch`], with the change's event marked handled by `handled_by`.
    fn into_batch_marked(
        self,
        p: &Platform,
        b: Batch,
        handled_by: Option<&str>,
    ) -> Result<Batch, ServiceError> {
        self.statements(p, b, handled_by, None)
    }

    /// The statements of a change that creates its case (`self.case` is `new.case`): the row
    /// is inserted as the change leaves it, then the records, the event and the message.
    /// Statements about the new case's other rows (its materials) go after these.
    pub(crate) fn into_insert(
        self,
        p: &Platform,
        new: apply::NewCase,
    ) -> Result<Batch, ServiceError> {
        self.statements(p, Batch::default(), None, Some(new))
    }

    fn statements(
        self,
        p: &Platform,
        mut b: Batch,
        handled_by: Option<&str>,
        insert: Option<apply::NewCase>,
    ) -> Result<Batch, ServiceError> {
        let c = self.case;
        let to = yiwang_domain::case::next(c.state, self.action)
            .map_err(|e| ServiceError::Conflict(format!("{} / {e}", e.message_zh())))?;
        let now = fmt_time(p.now());
        let case_no = self
            .case_no
            .clone()
            .or_else(|| c.case_no.clone())
            .unwrap_or_default();
        let mut recorded = Batch::default();
        let (rseq, rhash) = records::append(
            &mut recorded,
            &c.id,
            &case_no,
            c.rseq,
            &c.rhash,
            &self.records,
        );
        let mut sets = vec![
            ("state", Bind::from(to.as_str())),
            ("rseq", rseq.into()),
            ("rhash", rhash.into()),
        ];
        sets.extend(self.sets);
        match insert {
            // The row first: the records refer to it.
            Some(new) => {
                new.push(&mut b, sets);
                b.append(recorded);
            }
            None => {
                b.append(recorded);
                let (sql, binds) = guarded_update(c, &now, sets);
                b.guard(&format!("{sql} RETURNING CAST('c' AS TEXT) AS k"), binds);
            }
        }
        let mut payload = json!({
            "case": c.id, "case_no": case_no, "item": c.item_code, "org": c.org,
            "from": c.state.as_str(), "to": to.as_str(), "at": now,
        });
        if let (Value::Object(m), Value::Object(extra)) = (&mut payload, self.event) {
            m.extend(extra);
        }
        let event_id = uuid::Uuid::now_v7().to_string();
        if let Some(consumer) = handled_by {
            b.push(
                events::DONE_INSERT,
                events::done_args(consumer, &event_id, &now),
            );
        }
        b.push(
            "INSERT INTO outbox (id, topic, payload, created_at, subject) VALUES ($1, $2, $3, $4, $5)",
            vec![
                event_id.into(),
                format!("case.{}", action_name(self.action)).into(),
                payload.to_string().into(),
                now.as_str().into(),
                c.id.as_str().into(),
            ],
        );
        if let (Some(user), Some((title, body))) = (&c.owner_user, self.message) {
            b.push(
                MESSAGE_INSERT,
                message_args(user, Some(&c.id), &title, &body, &now),
            );
        }
        Ok(b)
    }
}

fn batch_error(e: BatchError) -> ServiceError {
    match e {
        BatchError::Conflict => conflict(),
        BatchError::Store(e) => e.into(),
    }
}

const MESSAGE_INSERT: &str = "INSERT INTO user_messages (id, user_id, case_id, title, body, \
     created_at) VALUES ($1, $2, $3, $4, $5, $6)";

/// Adds an in-site message to the applicant to a batch.
pub(crate) fn push_message(
    b: &mut Batch,
    user_id: &str,
    case_id: Option<&str>,
    title: &str,
    body: &str,
    now: &str,
) {
    b.push(
        MESSAGE_INSERT,
        message_args(user_id, case_id, title, body, now),
    );
}

fn message_args(
    user_id: &str,
    case_id: Option<&str>,
    title: &str,
    body: &str,
    now: &str,
) -> Vec<Bind> {
    vec![
        uuid::Uuid::now_v7().to_string().into(),
        user_id.into(),
        Bind::Text(case_id.map(str::to_owned)),
        title.into(),
        body.into(),
        now.into(),
    ]
}

/// Writes an in-site message (站内消息) to a citizen's account inside the caller's
/// transaction: the one way a use-case tells a citizen something on the site (a case that
/// moved, a question answered). Bodies are stored in clear, so they name what happened and
/// where to look, never personal data.
pub(crate) async fn post_message(
    tx: &mut Transaction<'static, Any>,
    user_id: &str,
    case_id: Option<&str>,
    title: &str,
    body: &str,
    now: &str,
) -> Result<(), ServiceError> {
    yiwang_store::bind_all(
        sqlx::query(MESSAGE_INSERT),
        message_args(user_id, case_id, title, body, now),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `UPDATE cases SET <sets>, rev = rev + 1, updated_at = now WHERE id = … AND rev = …` with
/// its binds: every write of a case goes through its `rev` (a stale writer changes no row).
fn guarded_update(c: &Case, now: &str, sets: Vec<(&'static str, Bind)>) -> (String, Vec<Bind>) {
    let mut sql = String::from("UPDATE cases SET rev = rev + 1, updated_at = $1");
    let mut binds: Vec<Bind> = vec![now.into()];
    for (col, v) in sets {
        binds.push(v);
        sql.push_str(&format!(", {col} = ${}", binds.len()));
    }
    binds.push(c.id.clone().into());
    binds.push(c.rev.into());
    sql.push_str(&format!(
        " WHERE id = ${} AND rev = ${}",
        binds.len() - 1,
        binds.len()
    ));
    (sql, binds)
}

/// Sets columns of a case that are not a move of its state (its form, the delivery choice),
/// under its `rev`; returns the case as it now is.
pub(crate) async fn update_fields(
    p: &Platform,
    c: &Case,
    sets: Vec<(&'static str, Bind)>,
) -> Result<Case, ServiceError> {
    let (sql, binds) = guarded_update(c, &fmt_time(p.now()), sets);
    let done = yiwang_store::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), binds)
        .execute(p.db.writer())
        .await?;
    if done.rows_affected() != 1 {
        return Err(conflict());
    }
    load(p, &c.id).await
}

/// The outbox topic suffix of an action.
pub fn action_name(a: CaseAction) -> &'static str {
    match a {
        CaseAction::Submit => "submitted",
        CaseAction::RequestCorrection => "correction_requested",
        CaseAction::Resubmit => "resubmitted",
        CaseAction::Accept => "accepted",
        CaseAction::Refuse => "not_accepted",
        CaseAction::StartSpecial => "special_started",
        CaseAction::EndSpecial => "special_ended",
        CaseAction::RequestExtension => "extension_requested",
        CaseAction::DecideExtension => "extension_decided",
        CaseAction::Approve => "approved",
        CaseAction::Reject => "rejected",
        CaseAction::Deliver => "delivered",
        CaseAction::Withdraw => "withdrawn",
    }
}

pub(crate) fn conflict() -> ServiceError {
    ServiceError::Conflict(
        "办件已被他人处理，请刷新后重试 / the case was changed by someone else: reload and try again"
            .into(),
    )
}

/// Requires `rev` (from the page the actor saw) to be the case's current one.
pub(crate) fn check_rev(c: &Case, rev: Option<i64>) -> Result<(), ServiceError> {
    match rev {
        Some(r) if r != c.rev => Err(conflict()),
        _ => Ok(()),
    }
}

/// A required text (opinion, reason) or a field error.
pub(crate) fn required_text(
    field: &str,
    v: &str,
    zh: &str,
    en: &str,
) -> Result<String, ServiceError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(ServiceError::Invalid(vec![FieldError::new(field, zh, en)]));
    }
    if t.chars().count() > 2000 {
        return Err(ServiceError::Invalid(vec![FieldError::new(
            field,
            "不能超过2000字",
            "at most 2,000 characters",
        )]));
    }
    Ok(t.to_owned())
}

/// Tells the applicant by SMS how their case moved (after the commit; a failure is logged, the
/// in-site message is already there).
pub(crate) async fn notify_applicant(p: &Platform, c: &Case, progress: &str) {
    let Some(user) = &c.owner_user else { return };
    let name = yiwang_crypto::mask::mask_name(&c.applicant_name);
    let params = [
        ("name", name.as_str()),
        ("item", c.item_name.as_str()),
        ("case", c.case_no.as_deref().unwrap_or("")),
        ("progress", progress),
    ];
    let (phone, email) = match crate::identity::users::notice_addresses(p, user).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(case = %c.id, error = %e, "case notification: no addresses");
            return;
        }
    };
    let mut to = vec![(yiwang_connectors::Channel::Sms, phone)];
    // E-mail besides SMS when the applicant confirmed an address (and a provider is set).
    if let Some(email) = email.filter(|_| {
        p.outside
            .notifier
            .is_configured(yiwang_connectors::Channel::Email)
    }) {
        to.push((yiwang_connectors::Channel::Email, email));
    }
    for (channel, address) in to {
        if let Err(e) = p
            .outside
            .notifier
            .send(channel, &address, "case_progress", &params)
            .await
        {
            tracing::warn!(case = %c.id, channel = channel.as_str(), error = %e, "case notification failed");
        }
    }
}

/// What anybody may learn of a case from its number and the last digits of the applicant's ID
/// number or credit code (办件查询): no name, no ID, no opinions, no handlers.
#[derive(Debug, Clone, Serialize)]
pub struct PublicStatus {
    /// 办件编号.
    pub case_no: String,
    /// Item name.
    pub item_name: String,
    /// Implementing organisation's name.
    pub org_name: String,
    /// Where the case is.
    pub state: CaseState,
    /// Submitted, accepted, decided, delivered.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Accepted (or refused at acceptance).
    pub accepted_at: Option<DateTime<Utc>>,
    /// Promised completion.
    pub due_at: Option<DateTime<Utc>>,
    /// Decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The steps so far: name and when it ended.
    pub steps: Vec<(String, String)>,
}

/// 办件查询: the status of a case by its number and the last 4–6 characters of the applicant's
/// ID number or credit code. A wrong pair and a missing case answer alike (`NotFound`).
pub async fn public_status(
    p: &Platform,
    case_no: &str,
    id_tail: &str,
) -> Result<PublicStatus, ServiceError> {
    let mut problems = Vec::new();
    let no = yiwang_domain::codes::CaseNumber::parse(case_no);
    if let Err(e) = &no {
        problems.push(FieldError::new("case_no", e.message_zh(), e.message_en()));
    }
    let tail = id_tail.trim().to_ascii_uppercase();
    if !(4..=6).contains(&tail.chars().count()) || !tail.chars().all(|c| c.is_ascii_alphanumeric())
    {
        problems.push(FieldError::new(
            "id_tail",
            "请输入申请人证件号码的后4至6位",
            "give the last 4 to 6 characters of the applicant's ID number or credit code",
        ));
    }
    let no = match no {
        Ok(n) if problems.is_empty() => n,
        _ => return Err(ServiceError::Invalid(problems)),
    };
    let missing = || ServiceError::NotFound {
        what: "办件",
        key: no.as_str().to_owned(),
    };
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CASE_COLUMNS}, applicant_id_enc FROM cases WHERE case_no = $1"
    )))
    .bind(no.as_str())
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(missing)?;
    let id = p
        .keys
        .pii
        .decrypt("applicant_id", &r.try_get::<String, _>("applicant_id_enc")?)
        .map_err(|e| ServiceError::internal(format!("applicant id: {e}")))?;
    let id = id.to_ascii_uppercase();
    let end = id
        .as_bytes()
        .get(id.len().saturating_sub(tail.len())..)
        .unwrap_or_default();
    if !yiwang_crypto::eq_constant_time(end, tail.as_bytes()) {
        return Err(missing());
    }
    let c = case_row(p, &r)?;
    let steps = records::of_case(p, &c.id)
        .await?
        .into_iter()
        .map(|r| (r.step, r.ended_at))
        .collect();
    let org_name = p
        .master
        .get()
        .organisation(&c.org)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    Ok(PublicStatus {
        case_no: no.as_str().to_owned(),
        item_name: c.item_name,
        org_name,
        state: c.state,
        submitted_at: c.submitted_at,
        accepted_at: c.accepted_at,
        due_at: c.due_at,
        decided_at: c.decided_at,
        delivered_at: c.delivered_at,
        steps,
    })
}

/// The demo province's application forms: 失业保险金申领 asks for the last employer, the date
/// employment ended (not in the future), why, the monthly benefit base and, when the reason is
/// 其他, an explanation; other items keep the default form.
pub(crate) async fn demo_forms(p: &Platform) -> Result<(), ServiceError> {
    const UNEMPLOYMENT: &str = r#"{"fields": [
      {"key": "employer", "label": "失业前工作单位", "kind": {"type": "text", "max_chars": 100}, "required": true},
      {"key": "ended_on", "label": "终止或解除劳动合同日期", "kind": {"type": "date", "not_after_today": true}, "required": true},
      {"key": "reason", "label": "失业原因", "kind": {"type": "choice", "options": [
        {"value": "contract_end", "label": "劳动合同期满终止"},
        {"value": "dismissed", "label": "用人单位解除劳动合同"},
        {"value": "other", "label": "其他"}]}, "required": true},
      {"key": "reason_detail", "label": "其他原因说明", "kind": {"type": "text", "max_chars": 500}, "required": true,
       "when": {"field": "reason", "equals": ["other"]}},
      {"key": "amount", "label": "缴费基数（元/月）", "kind": {"type": "number", "min": 0, "max": 100000, "decimals": 2}},
      {"key": "dependants", "label": "需供养的直系亲属", "help": "申领期间需要您供养的配偶、子女或父母，没有可不填",
       "kind": {"type": "table", "max_rows": 6, "columns": [
        {"key": "name", "label": "姓名", "kind": {"type": "text", "max_chars": 30}, "required": true},
        {"key": "relation", "label": "关系", "kind": {"type": "choice", "options": [
          {"value": "spouse", "label": "配偶"}, {"value": "child", "label": "子女"}, {"value": "parent", "label": "父母"}]}, "required": true},
        {"key": "id_number", "label": "居民身份证号码", "kind": {"type": "id_number"}, "required": true}]}},
      {"key": "note", "label": "申请事项说明", "kind": {"type": "text", "max_chars": 2000}}
    ]}"#;
    let spec = yiwang_domain::form::FormSpec::parse_spec(UNEMPLOYMENT).map_err(|e| {
        ServiceError::internal(format!(
            "demo form: {}",
            e.iter()
                .map(|x| x.message_en())
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    let codes: Vec<String> = sqlx::query_scalar(
        "SELECT i.code FROM items i JOIN item_versions v ON v.item_code = i.code \
         WHERE v.guide LIKE '%\"name\":\"失业保险金申领\"%' GROUP BY i.code",
    )
    .fetch_all(p.db.pool())
    .await?;
    let now = fmt_time(p.now());
    let text = serde_json::to_string(&spec)?;
    for code in codes {
        sqlx::query(
            "INSERT INTO item_forms (item_code, spec, updated_at, updated_by) VALUES ($1, $2, $3, 'demo') \
             ON CONFLICT (item_code) DO NOTHING",
        )
        .bind(&code)
        .bind(&text)
        .bind(&now)
        .execute(p.db.writer())
        .await?;
    }
    Ok(())
}

/// One in-site message (站内消息) to an applicant.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// Id.
    pub id: String,
    /// The case it is about.
    pub case_id: Option<String>,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// When (stored UTC timestamp).
    pub created_at: String,
    /// When read.
    pub read_at: Option<String>,
}

/// The applicant's newest `limit` in-site messages.
pub async fn messages(
    p: &Platform,
    user: &crate::identity::users::User,
    limit: i64,
) -> Result<Vec<Message>, ServiceError> {
    let rows = sqlx::query(
        "SELECT id, case_id, title, body, created_at, read_at FROM user_messages \
         WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(&user.id)
    .bind(limit.clamp(1, 200))
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Message {
                id: r.try_get("id")?,
                case_id: r.try_get("case_id")?,
                title: r.try_get("title")?,
                body: r.try_get("body")?,
                created_at: r.try_get("created_at")?,
                read_at: r.try_get("read_at")?,
            })
        })
        .collect()
}

/// Re-encrypts the personal data of cases and notices not yet under the current key (applicant
/// ID number with its blind index, phone, form, postal address; notice contents), one case per
/// transaction. A case's `key_id` names the oldest key any of its fields may be under. Returns
/// the number of rows rewritten.
pub(crate) async fn rotate_keys(p: &Platform) -> Result<u64, ServiceError> {
    let pii = &p.keys.pii;
    let current = pii.current_id().to_owned();
    let fail = |e: yiwang_crypto::CryptoError| ServiceError::internal(format!("rotate: {e}"));
    let mut done = 0u64;
    let rows = sqlx::query(
        "SELECT id, applicant_id_enc, phone_enc, form_enc, delivery FROM cases WHERE key_id <> $1",
    )
    .bind(&current)
    .fetch_all(p.db.pool())
    .await?;
    for r in rows {
        let id: String = r.try_get("id")?;
        let applicant_id = pii
            .decrypt("applicant_id", &r.try_get::<String, _>("applicant_id_enc")?)
            .map_err(fail)?;
        let rewrap = |field: &str, sealed: String| -> Result<String, ServiceError> {
            Ok(pii.rewrap(field, &sealed).map_err(fail)?.unwrap_or(sealed))
        };
        let phone = rewrap("phone", r.try_get("phone_enc")?)?;
        let form = rewrap("case_form", r.try_get("form_enc")?)?;
        let mut delivery: Value = serde_json::from_str(&r.try_get::<String, _>("delivery")?)?;
        if let Some(a) = delivery
            .get("address")
            .and_then(Value::as_str)
            .map(str::to_owned)
        {
            delivery["address"] = Value::String(rewrap("address", a)?);
        }
        sqlx::query(
            "UPDATE cases SET applicant_id_enc = $1, applicant_id_bidx = $2, phone_enc = $3, \
             form_enc = $4, delivery = $5, key_id = $6 WHERE id = $7",
        )
        .bind(pii.encrypt("applicant_id", &applicant_id).map_err(fail)?)
        .bind(pii.blind_index("applicant_id", &applicant_id))
        .bind(phone)
        .bind(form)
        .bind(delivery.to_string())
        .bind(&current)
        .bind(&id)
        .execute(p.db.writer())
        .await?;
        done += 1;
    }
    let notices = sqlx::query(
        "SELECT file_id, notice_enc FROM case_notices WHERE key_id <> $1 AND notice_enc <> ''",
    )
    .bind(&current)
    .fetch_all(p.db.pool())
    .await?;
    for r in notices {
        let sealed: String = r.try_get("notice_enc")?;
        let new = pii
            .rewrap("case_notice", &sealed)
            .map_err(fail)?
            .unwrap_or(sealed);
        sqlx::query("UPDATE case_notices SET notice_enc = $1, key_id = $2 WHERE file_id = $3")
            .bind(new)
            .bind(&current)
            .bind(r.try_get::<String, _>("file_id")?)
            .execute(p.db.writer())
            .await?;
        done += 1;
    }
    Ok(done)
}
