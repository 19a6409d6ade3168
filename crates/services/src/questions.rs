//! 我要问: citizens ask about an item, the implementing organisation answers within a limit in
//! working days, and good answers are published on the item's guide as 常见问题 (FAQ).
//!
//! - A signed-in citizen asks about a published item that is not cancelled ([`ask`]): 5 to
//!   1,000 characters, at most [`MAX_OPEN`] unanswered questions and [`MAX_PER_DAY`] new ones a
//!   day per account. The answer is due at the end of office hours of the [`ANSWER_DAYS`]th
//!   working day after the day of asking, on the platform's working-day calendar
//!   ([`Platform::calendar`]), from the injected clock.
//! - Staff of the item's organisation who answer questions (`identity::authz::question_access`:
//!   事项管理员, 审批人员) see their organisation's questions, open ones first by deadline so
//!   overdue ones lead ([`queue`]), answer ([`answer`]) or close one with a reason ([`close`]).
//!   The asker gets an in-site message (`cases::post_message`) in the same transaction.
//! - The organisation's item managers publish an answered question on the guide with the
//!   wording edited to remove personal details ([`publish`]; text that still holds an ID number
//!   or a mobile number is refused) and take it down again ([`unpublish`]). The guide reads
//!   the published entries from [`FaqCache`], refreshed after each commit.
//!
//! **Invariant:** every write is one transaction guarded by the question's `rev` (a stale
//! writer gets `Conflict`), with the audit entry of a staff action and the asker's message.
//! The question, the answer and the asker's phone are SM4-encrypted at rest; only the FAQ copy
//! staff publish is stored in clear; audit entries and messages carry no question text.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use yiwang_domain::item::ItemState;
use yiwang_store::{Any, Bind, Row, Transaction, fmt_time, parse_time};

use crate::identity::audit::{self, Entry};
use crate::identity::authz::{self, QuestionAccess};
use crate::identity::staff::{Role, Staff};
use crate::identity::users::User;
use crate::{FieldError, Platform, ServiceError};

/// Fewest characters of a question.
pub const MIN_CHARS: usize = 5;
/// Most characters of a question.
pub const MAX_CHARS: usize = 1000;
/// Most characters of an answer or a reason for closing.
pub const MAX_ANSWER_CHARS: usize = 2000;
/// Working days the organisation has to answer (counted from the day after asking).
pub const ANSWER_DAYS: u32 = 5;
/// Most unanswered questions one account may have at a time.
pub const MAX_OPEN: i64 = 10;
/// Most questions one account may ask in 24 hours.
pub const MAX_PER_DAY: i64 = 20;

/// Where a question is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionState {
    /// Waiting for the organisation's answer.
    Open,
    /// Answered (and possibly published).
    Answered,
    /// Withdrawn by the asker or closed by staff without an answer.
    Closed,
}

impl QuestionState {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionState::Open => "open",
            QuestionState::Answered => "answered",
            QuestionState::Closed => "closed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<QuestionState> {
        [
            QuestionState::Open,
            QuestionState::Answered,
            QuestionState::Closed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            QuestionState::Open => "待答复",
            QuestionState::Answered => "已答复",
            QuestionState::Closed => "已关闭",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            QuestionState::Open => "waiting for an answer",
            QuestionState::Answered => "answered",
            QuestionState::Closed => "closed",
        }
    }
}

/// A question as its asker and the answering staff see it (decrypted; the asker's name and
/// phone only masked).
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    /// Id (UUID v7).
    pub id: String,
    /// 实施编码 of the item asked about.
    pub item_code: String,
    /// The item's name when asked.
    pub item_name: String,
    /// Implementing organisation (credit code).
    pub org: String,
    /// The asking account.
    pub asker_user: String,
    /// The asker's name, masked.
    pub asker_name_masked: String,
    /// The asker's phone when asking, masked.
    pub contact_masked: String,
    /// The question.
    pub text: String,
    /// The answer, once answered.
    pub answer: Option<String>,
    /// Where it is.
    pub state: QuestionState,
    /// Working days allowed for the answer.
    pub limit_days: i64,
    /// Asked.
    pub asked_at: DateTime<Utc>,
    /// The answer is due by then.
    pub due_at: DateTime<Utc>,
    /// Who answered (display name).
    pub answered_by_name: Option<String>,
    /// Answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// Closed without an answer.
    pub closed_at: Option<DateTime<Utc>>,
    /// Withdrawn by the asker (rather than closed by staff).
    pub withdrawn: bool,
    /// Why staff closed it.
    pub close_reason: String,
    /// Shown on the guide as 常见问题.
    pub published: bool,
    /// The published question (personal details removed); empty until first published.
    pub faq_question: String,
    /// The published answer.
    pub faq_answer: String,
    /// Last published.
    pub published_at: Option<DateTime<Utc>>,
    /// Optimistic lock: pass it back with an action.
    pub rev: i64,
}

impl Question {
    /// Whether the answer is late at `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.state == QuestionState::Open && now > self.due_at
    }
}

const COLUMNS: &str = "id, item_code, item_name, org, asker_user, asker_name_masked, \
    contact_masked, question_enc, answer_enc, state, limit_days, asked_at, due_at, \
    answered_by_name, answered_at, closed_at, closed_by, close_reason, published, faq_question, \
    faq_answer, published_at, rev";

fn time(r: &yiwang_store::AnyRow, col: &str) -> Result<Option<DateTime<Utc>>, ServiceError> {
    let v: Option<String> = r.try_get(col)?;
    Ok(v.as_deref().and_then(parse_time))
}

fn decrypt(p: &Platform, field: &str, sealed: &str) -> Result<String, ServiceError> {
    p.keys
        .pii
        .decrypt(field, sealed)
        .map_err(|e| ServiceError::internal(format!("decrypt {field}: {e}")))
}

fn encrypt(p: &Platform, field: &str, v: &str) -> Result<String, ServiceError> {
    p.keys
        .pii
        .encrypt(field, v)
        .map_err(|e| ServiceError::internal(format!("encrypt {field}: {e}")))
}

fn row(p: &Platform, r: &yiwang_store::AnyRow) -> Result<Question, ServiceError> {
    let state: String = r.try_get("state")?;
    let answer: Option<String> = r.try_get("answer_enc")?;
    let closed_by: Option<String> = r.try_get("closed_by")?;
    Ok(Question {
        id: r.try_get("id")?,
        item_code: r.try_get("item_code")?,
        item_name: r.try_get("item_name")?,
        org: r.try_get("org")?,
        asker_user: r.try_get("asker_user")?,
        asker_name_masked: r.try_get("asker_name_masked")?,
        contact_masked: r.try_get("contact_masked")?,
        text: decrypt(p, TEXT, &r.try_get::<String, _>("question_enc")?)?,
        answer: answer.map(|a| decrypt(p, ANSWER, &a)).transpose()?,
        state: QuestionState::parse(&state)
            .ok_or_else(|| ServiceError::internal(format!("question state {state}")))?,
        limit_days: r.try_get("limit_days")?,
        asked_at: time(r, "asked_at")?.unwrap_or_default(),
        due_at: time(r, "due_at")?.unwrap_or_default(),
        answered_by_name: r.try_get("answered_by_name")?,
        answered_at: time(r, "answered_at")?,
        closed_at: time(r, "closed_at")?,
        withdrawn: closed_by.as_deref() == Some(ASKER),
        close_reason: r.try_get("close_reason")?,
        published: r.try_get::<i64, _>("published")? != 0,
        faq_question: r.try_get("faq_question")?,
        faq_answer: r.try_get("faq_answer")?,
        published_at: time(r, "published_at")?,
        rev: r.try_get("rev")?,
    })
}

/// Field names the encryption binds each value to.
const CONTACT: &str = "question.contact";
const TEXT: &str = "question.text";
const ANSWER: &str = "question.answer";
/// `closed_by` of a question its asker withdrew.
const ASKER: &str = "asker";

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound {
        what: "提问",
        key: id.to_owned(),
    }
}

fn conflict() -> ServiceError {
    ServiceError::Conflict(
        "该提问已被他人处理，请刷新后重试 / the question was changed meanwhile: reload and try again"
            .into(),
    )
}

async fn load(p: &Platform, id: &str) -> Result<Question, ServiceError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM questions WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(|| not_found(id))?;
    row(p, &r)
}

/// A text of a form: `\r\n` made `\n`, trimmed, `min..=max` characters, no control characters
/// but line breaks and tabs.
fn parse_text(field: &str, v: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let t = v.replace("\r\n", "\n");
    let t = t.trim();
    let n = t.chars().count();
    if n < min {
        return Err(if n == 0 {
            FieldError::new(field, "请填写内容", "this cannot be empty")
        } else {
            FieldError::new(
                field,
                format!("至少{min}个字"),
                format!("at least {min} characters"),
            )
        });
    }
    if n > max {
        return Err(FieldError::new(
            field,
            format!("不能超过{max}字（现有{n}字）"),
            format!("at most {max} characters (this has {n})"),
        ));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(
            field,
            "含有不可见的控制字符",
            "contains control characters",
        ));
    }
    Ok(t.to_owned())
}

/// Whether a text published on the guide would still carry a 居民身份证号码 or a mobile number
/// (a run of 18 characters that is a valid ID number, or of 11 digits that is a mobile number).
fn holds_personal_numbers(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|run| match run.len() {
            18 => yiwang_domain::codes::IdCardNumber::parse(run).is_ok(),
            11 => yiwang_domain::contact::MobileNumber::parse(run).is_some(),
            _ => false,
        })
}

/// `UPDATE questions SET <sets>, rev = rev + 1, updated_at = now WHERE id = … AND rev = …`
/// in the caller's transaction; `Conflict` when the question moved since it was read.
async fn guarded(
    tx: &mut Transaction<'static, Any>,
    q: &Question,
    now: &str,
    sets: Vec<(&'static str, Bind)>,
) -> Result<(), ServiceError> {
    let mut sql = String::from("UPDATE questions SET rev = rev + 1, updated_at = $1");
    let mut binds: Vec<Bind> = vec![now.into()];
    for (col, v) in sets {
        binds.push(v);
        sql.push_str(&format!(", {col} = ${}", binds.len()));
    }
    binds.push(q.id.clone().into());
    binds.push(q.rev.into());
    sql.push_str(&format!(
        " WHERE id = ${} AND rev = ${}",
        binds.len() - 1,
        binds.len()
    ));
    let done = yiwang_store::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), binds)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() != 1 {
        return Err(conflict());
    }
    Ok(())
}

/// Requires the `rev` the actor saw to be the question's current one.
fn check_rev(q: &Question, rev: i64) -> Result<(), ServiceError> {
    if q.rev == rev {
        Ok(())
    } else {
        Err(conflict())
    }
}

fn require_state(q: &Question, state: QuestionState) -> Result<(), ServiceError> {
    if q.state == state {
        return Ok(());
    }
    Err(ServiceError::Conflict(match state {
        QuestionState::Open => format!(
            "该提问{}，不能再答复或关闭 / the question is {} already",
            q.state.label_zh(),
            q.state.label_en()
        ),
        _ => format!(
            "只有已答复的提问可以发布为常见问题（该提问{}） / only answered questions are published",
            q.state.label_zh()
        ),
    }))
}

// ---------------------------------------------------------------------------------------------
// The asker's side

/// Asks a question about a published item that is not cancelled, as the signed-in citizen.
/// Bad input names each field (`item`, `text`); an unknown item is `NotFound`; more than
/// [`MAX_OPEN`] unanswered or [`MAX_PER_DAY`] new questions is `TooManyAttempts`.
pub async fn ask(
    p: &Platform,
    user: &User,
    item_code: &str,
    text: &str,
) -> Result<Question, ServiceError> {
    let mut problems = Vec::new();
    let code = yiwang_domain::codes::ImplementationCode::parse(item_code.trim());
    if let Err(e) = &code {
        problems.push(FieldError::new("item", e.message_zh(), e.message_en()));
    }
    let text = parse_text("text", text, MIN_CHARS, MAX_CHARS);
    if let Err(e) = &text {
        problems.push(e.clone());
    }
    let (Ok(code), Ok(text)) = (code, text) else {
        return Err(ServiceError::Invalid(problems));
    };
    let item = crate::catalogue::published(p, code.as_str()).await?;
    if item.summary.state == ItemState::Cancelled {
        return Err(ServiceError::Conflict(
            "该事项已取消，不再接受提问 / the item is cancelled".into(),
        ));
    }
    let phone = crate::identity::users::phone_of(p, &user.id).await?;
    let now = p.now();
    let at = fmt_time(now);
    let due = p.calendar().add_working_days(now, ANSWER_DAYS);
    let id = uuid::Uuid::now_v7().to_string();
    let mut tx = p.db.begin().await?;
    // Counted inside the transaction after a write to the asker's row: on SQLite writers take
    // turns, on PostgreSQL the row lock makes two asks of one account take turns, so the limits
    // hold exactly on both.
    sqlx::query("UPDATE users SET id = id WHERE id = $1")
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM questions WHERE asker_user = $1 AND state = 'open'",
    )
    .bind(&user.id)
    .fetch_one(&mut *tx)
    .await?;
    let today: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM questions WHERE asker_user = $1 AND asked_at > $2",
    )
    .bind(&user.id)
    .bind(fmt_time(now - Duration::hours(24)))
    .fetch_one(&mut *tx)
    .await?;
    if open >= MAX_OPEN || today >= MAX_PER_DAY {
        return Err(ServiceError::TooManyAttempts);
    }
    sqlx::query(
        "INSERT INTO questions (id, item_code, item_name, org, asker_user, asker_name_masked, \
         contact_enc, contact_masked, question_enc, key_id, state, limit_days, asked_at, due_at, \
         close_reason, published, faq_question, faq_answer, rev, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11, $12, $13, '', 0, '', '', 1, $12)",
    )
    .bind(&id)
    .bind(code.as_str())
    .bind(&item.guide.name)
    .bind(&item.summary.org)
    .bind(&user.id)
    .bind(user.name_masked())
    .bind(encrypt(p, CONTACT, phone.as_str())?)
    .bind(yiwang_crypto::mask::mask_phone(phone.as_str()))
    .bind(encrypt(p, TEXT, &text)?)
    .bind(p.keys.pii.current_id())
    .bind(i64::from(ANSWER_DAYS))
    .bind(&at)
    .bind(fmt_time(due))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    load(p, &id).await
}

/// The citizen's questions, newest first.
pub async fn list_mine(p: &Platform, user: &User) -> Result<Vec<Question>, ServiceError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM questions WHERE asker_user = $1 ORDER BY asked_at DESC, id DESC \
         LIMIT 200"
    )))
    .bind(&user.id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(|r| row(p, r)).collect()
}

/// The citizen's own question (`NotFound` for anybody else's).
pub async fn mine(p: &Platform, user: &User, id: &str) -> Result<Question, ServiceError> {
    let q = load(p, id).await?;
    if q.asker_user != user.id {
        return Err(not_found(id));
    }
    Ok(q)
}

/// The asker withdraws an unanswered question.
pub async fn withdraw(
    p: &Platform,
    user: &User,
    id: &str,
    rev: i64,
) -> Result<Question, ServiceError> {
    let q = mine(p, user, id).await?;
    check_rev(&q, rev)?;
    require_state(&q, QuestionState::Open)?;
    let at = fmt_time(p.now());
    let mut tx = p.db.begin().await?;
    guarded(
        &mut tx,
        &q,
        &at,
        vec![
            ("state", QuestionState::Closed.as_str().into()),
            ("closed_at", at.clone().into()),
            ("closed_by", ASKER.into()),
        ],
    )
    .await?;
    tx.commit().await?;
    load(p, id).await
}

// ---------------------------------------------------------------------------------------------
// The organisation's side

/// Which questions a staff list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueFilter {
    /// Waiting for an answer, the earliest deadline (so the overdue) first.
    #[default]
    Open,
    /// Answered, newest first.
    Answered,
    /// Closed, newest first.
    Closed,
    /// All: the open ones first by deadline, then the rest, newest first.
    All,
}

impl QueueFilter {
    /// From a query parameter (`open`, `answered`, `closed`, `all`); anything else is `Open`.
    pub fn parse(s: &str) -> QueueFilter {
        match s {
            "answered" => QueueFilter::Answered,
            "closed" => QueueFilter::Closed,
            "all" => QueueFilter::All,
            _ => QueueFilter::Open,
        }
    }

    /// The query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueFilter::Open => "open",
            QueueFilter::Answered => "answered",
            QueueFilter::Closed => "closed",
            QueueFilter::All => "all",
        }
    }
}

/// The questions about the items of the organisation the staff member acts in (事项管理员,
/// 审批人员), as the filter says; at most 500.
pub async fn queue(
    p: &Platform,
    actor: &Staff,
    filter: QueueFilter,
) -> Result<Vec<Question>, ServiceError> {
    if !actor.has(Role::ItemManager) && !actor.has(Role::Approver) {
        return Err(ServiceError::Forbidden(
            "需要“事项管理员”或“审批人员”角色 / item managers and approvers only".into(),
        ));
    }
    let (clause, order) = match filter {
        QueueFilter::Open => ("AND state = 'open'", "due_at, asked_at"),
        QueueFilter::Answered => ("AND state = 'answered'", "updated_at DESC"),
        QueueFilter::Closed => ("AND state = 'closed'", "updated_at DESC"),
        QueueFilter::All => (
            "",
            "CASE WHEN state = 'open' THEN 0 ELSE 1 END, \
             CASE WHEN state = 'open' THEN due_at ELSE '' END, updated_at DESC",
        ),
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM questions WHERE org = $1 {clause} ORDER BY {order} LIMIT 500"
    )))
    .bind(&actor.org)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(|r| row(p, r)).collect()
}

/// A question for staff who may answer it (see `authz::question_access`).
pub async fn for_staff(p: &Platform, actor: &Staff, id: &str) -> Result<Question, ServiceError> {
    let q = load(p, id).await;
    // Refuse by role before looking, so that ids cannot be probed by those who answer nothing.
    let org = match &q {
        Ok(q) => q.org.as_str(),
        Err(_) => "",
    };
    authz::question_access(actor, QuestionAccess::Answer, id, org)?;
    q
}

fn staff_actor(actor: &Staff) -> String {
    format!("staff:{}", actor.id)
}

/// The organisation's name, for messages.
fn org_name(p: &Platform, org: &str) -> String {
    p.master
        .get()
        .organisation(org)
        .map(|o| o.name.clone())
        .unwrap_or_default()
}

/// Ends an open question (answered or closed) in one transaction: the columns `sets` under its
/// `rev`, the asker's in-site message (`message`: title, and how the sentence "您关于…的提问已由
/// {organisation}…" ends) and the audit entry (`audit`: action, and detail besides the item and
/// organisation).
async fn conclude(
    p: &Platform,
    now: DateTime<Utc>,
    actor: &Staff,
    q: &Question,
    sets: Vec<(&'static str, Bind)>,
    message: (&str, &str),
    audit: (&str, Value),
) -> Result<(), ServiceError> {
    let at = fmt_time(now);
    let mut tx = p.db.begin().await?;
    guarded(&mut tx, q, &at, sets).await?;
    crate::cases::post_message(
        &mut tx,
        &q.asker_user,
        None,
        message.0,
        &format!(
            "您关于“{}”的提问已由{}{}。",
            q.item_name,
            org_name(p, &q.org),
            message.1
        ),
        &at,
    )
    .await?;
    let mut detail = json!({ "item": q.item_code, "org": q.org });
    if let (Value::Object(d), Value::Object(extra)) = (&mut detail, audit.1) {
        d.extend(extra);
    }
    audit::append(
        &mut tx,
        now,
        &Entry::success(&staff_actor(actor), audit.0, &q.id, detail),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Answers an open question: one transaction that stores the answer (encrypted), tells the
/// asker by in-site message and records the audit entry.
pub async fn answer(
    p: &Platform,
    actor: &Staff,
    id: &str,
    rev: i64,
    text: &str,
) -> Result<Question, ServiceError> {
    let q = for_staff(p, actor, id).await?;
    check_rev(&q, rev)?;
    require_state(&q, QuestionState::Open)?;
    let text = parse_text("answer", text, 1, MAX_ANSWER_CHARS)
        .map_err(|e| ServiceError::Invalid(vec![e]))?;
    let now = p.now();
    let at = fmt_time(now);
    conclude(
        p,
        now,
        actor,
        &q,
        vec![
            ("state", QuestionState::Answered.as_str().into()),
            ("answer_enc", encrypt(p, ANSWER, &text)?.into()),
            ("answered_by", actor.id.clone().into()),
            ("answered_by_name", actor.display_name.clone().into()),
            ("answered_at", at.into()),
        ],
        ("您的提问已答复", "答复，请到“我的提问”查看"),
        ("question.answer", json!({ "overdue": q.overdue(now) })),
    )
    .await?;
    let q = load(p, id).await?;
    notify_asker(p, &q).await;
    Ok(q)
}

/// Tells the asker by SMS (to the contact kept with the question) that the answer is there;
/// a failure is logged, the answer stands.
async fn notify_asker(p: &Platform, q: &Question) {
    let contact: Option<String> =
        sqlx::query_scalar("SELECT contact_enc FROM questions WHERE id = $1")
            .bind(&q.id)
            .fetch_optional(p.db.pool())
            .await
            .ok()
            .flatten();
    let Some(phone) = contact.and_then(|c| p.keys.pii.decrypt(CONTACT, &c).ok()) else {
        tracing::warn!(question = %q.id, "answer notice: no readable contact");
        return;
    };
    if let Err(e) = p
        .outside
        .notifier
        .send(
            yiwang_connectors::Channel::Sms,
            &phone,
            "question_answered",
            &[
                ("name", &q.asker_name_masked),
                ("item", &q.item_name),
                ("org", &org_name(p, &q.org)),
            ],
        )
        .await
    {
        tracing::warn!(question = %q.id, error = %e, "answer notice failed");
    }
}

/// Reminds the organisation of every open question past its answer deadline, once per
/// question: its 事项管理员 and 审批人员 (those with a phone) get an SMS. Each reminder is
/// claimed by a conditional update first, so with several nodes each is sent once. Returns how
/// many questions were reminded about.
pub async fn alert_overdue(p: &Platform) -> Result<usize, ServiceError> {
    let now = p.now();
    let at = fmt_time(now);
    let due: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT id, item_name, org, due_at FROM questions WHERE state = 'open' AND due_at < $1 \
         AND overdue_alerted_at IS NULL ORDER BY due_at LIMIT 200",
    )
    .bind(&at)
    .fetch_all(p.db.pool())
    .await?;
    let mut n = 0;
    for (id, item, org, due_at) in due {
        let claimed = sqlx::query(
            "UPDATE questions SET overdue_alerted_at = $1 WHERE id = $2 AND overdue_alerted_at IS NULL",
        )
        .bind(&at)
        .bind(&id)
        .execute(p.db.writer())
        .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        n += 1;
        let due_local = yiwang_store::parse_time(&due_at)
            .map(|t| {
                t.with_timezone(&p.calendar().offset())
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or(due_at);
        let staff: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT s.id, s.display_name FROM staff s JOIN staff_roles r ON r.staff_id = s.id \
             WHERE r.org = $1 AND r.role IN ('item_manager', 'approver') AND s.disabled = 0 \
             AND s.phone_enc IS NOT NULL ORDER BY s.id LIMIT 20",
        )
        .bind(&org)
        .fetch_all(p.db.pool())
        .await?;
        for (staff_id, name) in staff {
            crate::identity::staff_admin::text(
                p,
                &staff_id,
                "question_overdue",
                &[("name", &name), ("item", &item), ("due", &due_local)],
                &format!("question {id}"),
            )
            .await;
        }
    }
    Ok(n)
}

/// Runs [`alert_overdue`] every `every` until the process ends (started by `serve`).
pub async fn run(p: std::sync::Arc<Platform>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match alert_overdue(&p).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(questions = n, "overdue questions: organisations reminded"),
            Err(e) => tracing::warn!(error = %e, "overdue questions: will retry"),
        }
    }
}

/// Closes an open question without an answer (not about this item, a duplicate, abusive),
/// with the reason the asker sees.
pub async fn close(
    p: &Platform,
    actor: &Staff,
    id: &str,
    rev: i64,
    reason: &str,
) -> Result<Question, ServiceError> {
    let q = for_staff(p, actor, id).await?;
    check_rev(&q, rev)?;
    require_state(&q, QuestionState::Open)?;
    let reason =
        parse_text("reason", reason, 1, 500).map_err(|e| ServiceError::Invalid(vec![e]))?;
    let now = p.now();
    let at = fmt_time(now);
    conclude(
        p,
        now,
        actor,
        &q,
        vec![
            ("state", QuestionState::Closed.as_str().into()),
            ("closed_at", at.into()),
            ("closed_by", actor.id.clone().into()),
            ("close_reason", reason.into()),
        ],
        ("您的提问已关闭", "关闭，原因请到“我的提问”查看"),
        ("question.close", json!({})),
    )
    .await?;
    load(p, id).await
}

/// Publishes an answered question on its item's guide as 常见问题, in the wording given
/// (personal details removed; ID and mobile numbers are refused), or changes the wording of
/// one already published.
pub async fn publish(
    p: &Platform,
    actor: &Staff,
    id: &str,
    rev: i64,
    faq_question: &str,
    faq_answer: &str,
) -> Result<Question, ServiceError> {
    let q = for_staff(p, actor, id).await?;
    authz::question_access(actor, QuestionAccess::Publish, id, &q.org)?;
    check_rev(&q, rev)?;
    require_state(&q, QuestionState::Answered)?;
    let mut problems = Vec::new();
    let mut check =
        |field: &str, v: &str, min: usize, max: usize| match parse_text(field, v, min, max) {
            Ok(t) if holds_personal_numbers(&t) => {
                problems.push(FieldError::new(
                    field,
                    "公开内容不能含有身份证号码或手机号码，请删除个人信息",
                    "published text must not hold an ID or mobile number: remove personal details",
                ));
                String::new()
            }
            Ok(t) => t,
            Err(e) => {
                problems.push(e);
                String::new()
            }
        };
    let fq = check("faq_question", faq_question, MIN_CHARS, MAX_CHARS);
    let fa = check("faq_answer", faq_answer, 1, MAX_ANSWER_CHARS);
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let now = p.now();
    let at = fmt_time(now);
    let mut tx = p.db.begin().await?;
    guarded(
        &mut tx,
        &q,
        &at,
        vec![
            ("published", 1i64.into()),
            ("faq_question", fq.into()),
            ("faq_answer", fa.into()),
            ("published_at", at.clone().into()),
            ("published_by", actor.id.clone().into()),
        ],
    )
    .await?;
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            &staff_actor(actor),
            "question.publish",
            &q.id,
            json!({ "item": q.item_code, "org": q.org, "republished": q.published }),
        ),
    )
    .await?;
    tx.commit().await?;
    p.faq.refresh(p, &q.item_code).await?;
    load(p, id).await
}

/// Takes a published question off its item's guide (its wording is kept for next time).
pub async fn unpublish(
    p: &Platform,
    actor: &Staff,
    id: &str,
    rev: i64,
) -> Result<Question, ServiceError> {
    let q = for_staff(p, actor, id).await?;
    authz::question_access(actor, QuestionAccess::Publish, id, &q.org)?;
    check_rev(&q, rev)?;
    if !q.published {
        return Err(ServiceError::Conflict(
            "该提问未发布为常见问题 / the question is not published".into(),
        ));
    }
    let now = p.now();
    let at = fmt_time(now);
    let mut tx = p.db.begin().await?;
    guarded(&mut tx, &q, &at, vec![("published", 0i64.into())]).await?;
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            &staff_actor(actor),
            "question.unpublish",
            &q.id,
            json!({ "item": q.item_code, "org": q.org }),
        ),
    )
    .await?;
    tx.commit().await?;
    p.faq.refresh(p, &q.item_code).await?;
    load(p, id).await
}

// ---------------------------------------------------------------------------------------------
// 常见问题 on the guide

/// One published question and answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Faq {
    /// The question's id.
    pub id: String,
    /// The question as published.
    pub question: String,
    /// The answer as published.
    pub answer: String,
    /// When published (stored UTC timestamp).
    pub published_at: String,
}

/// The published questions of one item, oldest first, and a stamp that changes whenever
/// they do (part of the guide page's cache key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFaq {
    /// The entries.
    pub entries: Vec<Faq>,
    /// Changes with any entry (its id, wording or publication time).
    pub stamp: u64,
}

impl ItemFaq {
    fn new(entries: Vec<Faq>) -> ItemFaq {
        let mut h = DefaultHasher::new();
        entries.hash(&mut h);
        ItemFaq {
            stamp: if entries.is_empty() { 0 } else { h.finish() },
            entries,
        }
    }
}

/// The published 常见问题 of every item, derived from the database: loaded at start
/// ([`Platform::reload`]) and refreshed for one item after each commit that changes it.
#[derive(Default)]
pub struct FaqCache(RwLock<HashMap<String, Arc<ItemFaq>>>);

const FAQ_SQL: &str = "SELECT id, item_code, faq_question, faq_answer, published_at \
    FROM questions WHERE published = 1";

fn faq_row(r: &yiwang_store::AnyRow) -> Result<(String, Faq), ServiceError> {
    Ok((
        r.try_get("item_code")?,
        Faq {
            id: r.try_get("id")?,
            question: r.try_get("faq_question")?,
            answer: r.try_get("faq_answer")?,
            published_at: r
                .try_get::<Option<String>, _>("published_at")?
                .unwrap_or_default(),
        },
    ))
}

impl FaqCache {
    /// The published entries of an item (empty when none).
    pub fn get(&self, item_code: &str) -> Arc<ItemFaq> {
        let m = match self.0.read() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        };
        m.get(item_code).cloned().unwrap_or_default()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<ItemFaq>>> {
        match self.0.write() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        }
    }

    /// Rebuilds every item's entries from the database.
    pub async fn reload(&self, p: &Platform) -> Result<(), ServiceError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{FAQ_SQL} ORDER BY item_code, published_at, id"
        )))
        .fetch_all(p.db.pool())
        .await?;
        let mut by_item: HashMap<String, Vec<Faq>> = HashMap::new();
        for r in &rows {
            let (code, f) = faq_row(r)?;
            by_item.entry(code).or_default().push(f);
        }
        let fresh = by_item
            .into_iter()
            .map(|(k, v)| (k, Arc::new(ItemFaq::new(v))))
            .collect();
        *self.write() = fresh;
        Ok(())
    }

    /// Re-reads one item's entries (after a commit that changed them).
    pub async fn refresh(&self, p: &Platform, item_code: &str) -> Result<(), ServiceError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{FAQ_SQL} AND item_code = $1 ORDER BY published_at, id"
        )))
        .bind(item_code)
        .fetch_all(p.db.pool())
        .await?;
        let entries = rows
            .iter()
            .map(|r| faq_row(r).map(|(_, f)| f))
            .collect::<Result<Vec<_>, _>>()?;
        let mut m = self.write();
        if entries.is_empty() {
            m.remove(item_code);
        } else {
            m.insert(item_code.to_owned(), Arc::new(ItemFaq::new(entries)));
        }
        Ok(())
    }
}

/// The published 常见问题 of an item (public).
pub fn faq(p: &Platform, item_code: &str) -> Arc<ItemFaq> {
    p.faq.get(item_code)
}

/// Re-encrypts every question's personal data not yet under the ring's first key (part of
/// `identity::rotate_keys`); one question per transaction. Returns the number rewritten.
pub(crate) async fn rotate_keys(p: &Platform) -> Result<u64, ServiceError> {
    let pii = &p.keys.pii;
    let fail = |e: yiwang_crypto::CryptoError| ServiceError::internal(format!("rotate: {e}"));
    let rows = sqlx::query("SELECT id, contact_enc, question_enc, answer_enc FROM questions")
        .fetch_all(p.db.pool())
        .await?;
    let mut done = 0;
    for r in rows {
        let contact = pii
            .rewrap(CONTACT, &r.try_get::<String, _>("contact_enc")?)
            .map_err(fail)?;
        let text = pii
            .rewrap(TEXT, &r.try_get::<String, _>("question_enc")?)
            .map_err(fail)?;
        let answer = match r.try_get::<Option<String>, _>("answer_enc")? {
            Some(a) => pii.rewrap(ANSWER, &a).map_err(fail)?,
            None => None,
        };
        if contact.is_none() && text.is_none() && answer.is_none() {
            continue;
        }
        // COALESCE keeps what was already under the current key.
        sqlx::query(
            "UPDATE questions SET contact_enc = COALESCE($1, contact_enc), \
             question_enc = COALESCE($2, question_enc), answer_enc = COALESCE($3, answer_enc), \
             key_id = $4 WHERE id = $5",
        )
        .bind(contact)
        .bind(text)
        .bind(answer)
        .bind(pii.current_id())
        .bind(r.try_get::<String, _>("id")?)
        .execute(p.db.writer())
        .await?;
        done += 1;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_counted_in_characters_and_bounded() {
        assert_eq!(
            parse_text("t", "  请问需要带什么  ", 5, 10).as_deref(),
            Ok("请问需要带什么")
        );
        assert!(parse_text("t", "请问", 5, 10).is_err());
        assert!(parse_text("t", "   ", 1, 10).is_err());
        assert!(parse_text("t", &"问".repeat(11), 5, 10).is_err());
        assert_eq!(
            parse_text("t", "一\r\n二三四五", 5, 10).as_deref(),
            Ok("一\n二三四五")
        );
        assert!(parse_text("t", "一二三四五\u{7}", 5, 10).is_err());
    }

    #[test]
    fn published_text_must_not_hold_id_or_mobile_numbers() {
        assert!(holds_personal_numbers("我的身份证430104199005120135怎么办"));
        assert!(holds_personal_numbers("请致电13800000002联系"));
        assert!(!holds_personal_numbers("请携带身份证原件，电话0731-12345"));
        assert!(!holds_personal_numbers("办件编号12345678901234567890"));
    }

    #[test]
    fn filters_round_trip() {
        for f in [
            QueueFilter::Open,
            QueueFilter::Answered,
            QueueFilter::Closed,
            QueueFilter::All,
        ] {
            assert_eq!(QueueFilter::parse(f.as_str()), f);
        }
        assert_eq!(QueueFilter::parse("nonsense"), QueueFilter::Open);
    }
}
