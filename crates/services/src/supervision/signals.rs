//! Signals, appeals and supervision orders (督办) as people see and act on them, each within
//! the actor's reach: system administrators everywhere; supervisors (监察人员) in the region
//! their session acts in and every region under it; other staff their organisation's.

use chrono::{DateTime, Utc};
use serde::Serialize;
use yiwang_store::{Row, fmt_time};

use crate::identity::staff::{Role, Staff};
use crate::{Platform, ServiceError};

/// Whose signals a staff member sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Every region (系统管理员).
    All,
    /// Region codes starting with this prefix (监察人员: `43` a province, `4301` a prefecture,
    /// `430104` a county).
    Region(String),
    /// One organisation (its own staff).
    Org(String),
}

impl Reach {
    /// The actor's reach.
    pub fn of(actor: &Staff) -> Reach {
        if actor.has(Role::SystemAdmin) {
            Reach::All
        } else if actor.has(Role::Supervisor) {
            Reach::Region(region_prefix(&actor.region))
        } else {
            Reach::Org(actor.org.clone())
        }
    }

    /// Whether a signal or order of `org` in `region` is within reach.
    pub fn covers(&self, org: &str, region: &str) -> bool {
        match self {
            Reach::All => true,
            Reach::Region(p) => region.starts_with(p.as_str()),
            Reach::Org(o) => o == org,
        }
    }

    /// The SQL condition on `{t}.org` and `{t}.region`, with its bind (`$n`).
    pub(crate) fn condition(&self, t: &str, n: usize) -> (String, Option<String>) {
        match self {
            Reach::All => ("1 = 1".into(), None),
            Reach::Region(p) => (format!("{t}.region LIKE ${n}"), Some(format!("{p}%"))),
            Reach::Org(o) => (format!("{t}.org = ${n}"), Some(o.clone())),
        }
    }
}

/// A region code without its trailing zero pairs: `430000` → `43`, `430100` → `4301`.
pub fn region_prefix(code: &str) -> String {
    let mut s = code.trim().to_owned();
    while s.len() > 2 && s.ends_with("00") {
        s.truncate(s.len() - 2);
    }
    s
}

/// A signal of the supervision database.
#[derive(Debug, Clone, Serialize)]
pub struct Signal {
    /// Id.
    pub id: String,
    /// 信号编号.
    pub number: String,
    /// 规则编号.
    pub rule_no: String,
    /// The rule set's version that raised it.
    pub rule_version: i64,
    /// The rule's kind (`case_overdue`, `refused_without_reason`, …).
    pub kind: String,
    /// `warning` 预警, `yellow` 黄牌, `red` 红牌, `irregular` 违规.
    pub signal_type: String,
    /// The case.
    pub case_id: String,
    /// 办件编号.
    pub case_no: Option<String>,
    /// 实施编码.
    pub item_code: String,
    /// 责任单位.
    pub org: String,
    /// Its region.
    pub region: String,
    /// 责任人 (staff id), when known.
    pub person: Option<String>,
    /// The step.
    pub step: String,
    /// What was found.
    pub detail: String,
    /// When it happened.
    pub occurred_at: String,
    /// When it was raised.
    pub raised_at: String,
    /// `open`, `appealed`, `withdrawn`, `upheld`.
    pub status: String,
    /// 申诉理由.
    pub appeal_reason: Option<String>,
    /// The supervisor's reason for withdrawing or upholding it.
    pub decision_reason: Option<String>,
}

const COLUMNS: &str = "id, number, rule_no, rule_version, kind, signal_type, case_id, case_no, \
     item_code, org, region, person, step, detail, occurred_at, raised_at, status, \
     appeal_reason, decision_reason";

fn signal_row(r: &yiwang_store::AnyRow) -> Result<Signal, ServiceError> {
    Ok(Signal {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        rule_no: r.try_get("rule_no")?,
        rule_version: r.try_get("rule_version")?,
        kind: r.try_get("kind")?,
        signal_type: r.try_get("signal_type")?,
        case_id: r.try_get("case_id")?,
        case_no: r.try_get("case_no")?,
        item_code: r.try_get("item_code")?,
        org: r.try_get("org")?,
        region: r.try_get("region")?,
        person: r.try_get("person")?,
        step: r.try_get("step")?,
        detail: r.try_get("detail")?,
        occurred_at: r.try_get("occurred_at")?,
        raised_at: r.try_get("raised_at")?,
        status: r.try_get("status")?,
        appeal_reason: r.try_get("appeal_reason")?,
        decision_reason: r.try_get("decision_reason")?,
    })
}

/// Filters of the signal list.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SignalQuery {
    /// Only this status.
    #[serde(default)]
    pub status: Option<String>,
    /// Only this type (`warning`, `yellow`, `red`, `irregular`).
    #[serde(default)]
    pub signal_type: Option<String>,
    /// Only this case.
    #[serde(default)]
    pub case_id: Option<String>,
    /// Only this rule (`JC03`).
    #[serde(default)]
    pub rule_no: Option<String>,
    /// Only this responsible organisation (统一社会信用代码).
    #[serde(default)]
    pub org: Option<String>,
    /// Only this case number (办件编号).
    #[serde(default)]
    pub case_no: Option<String>,
}

/// The `WHERE` clause of a signal query within reach, and its binds.
fn signal_filter(actor: &Staff, q: &SignalQuery) -> (String, Vec<String>) {
    let (cond, bind) = Reach::of(actor).condition("s", 1);
    let mut sql = format!(" WHERE {cond}");
    let mut binds: Vec<String> = bind.into_iter().collect();
    for (column, value) in [
        ("status", &q.status),
        ("signal_type", &q.signal_type),
        ("case_id", &q.case_id),
        ("rule_no", &q.rule_no),
        ("org", &q.org),
        ("case_no", &q.case_no),
    ] {
        if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            binds.push(v.to_owned());
            sql.push_str(&format!(" AND s.{column} = ${}", binds.len()));
        }
    }
    (sql, binds)
}

/// The signals within the actor's reach, newest first (at most 500).
pub async fn list(
    p: &Platform,
    actor: &Staff,
    q: &SignalQuery,
) -> Result<Vec<Signal>, ServiceError> {
    let (filter, binds) = signal_filter(actor, q);
    let sql = format!(
        "SELECT {COLUMNS} FROM signals s{filter} ORDER BY s.raised_at DESC, s.id LIMIT 500"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        query = query.bind(b);
    }
    let rows = query.fetch_all(p.db.pool()).await?;
    rows.iter().map(signal_row).collect()
}

/// One page of the signals a query finds within reach, and how many it finds in all.
#[derive(Debug, Clone, Serialize)]
pub struct SignalPage {
    /// The signals of the page, newest first.
    pub signals: Vec<Signal>,
    /// All the signals the query finds.
    pub total: i64,
}

/// The `page`-th page (from 1) of `per_page` signals (1 to 200) the query finds within reach.
pub async fn page(
    p: &Platform,
    actor: &Staff,
    q: &SignalQuery,
    page: u32,
    per_page: u32,
) -> Result<SignalPage, ServiceError> {
    let per_page = per_page.clamp(1, 200);
    let offset = u64::from(page.max(1) - 1) * u64::from(per_page);
    let (filter, binds) = signal_filter(actor, q);
    let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM signals s{filter}"
    )));
    for b in &binds {
        count = count.bind(b);
    }
    let total = count.fetch_one(p.db.pool()).await?;
    let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM signals s{filter} ORDER BY s.raised_at DESC, s.id \
         LIMIT {per_page} OFFSET {offset}"
    )));
    for b in &binds {
        query = query.bind(b);
    }
    let rows = query.fetch_all(p.db.pool()).await?;
    Ok(SignalPage {
        signals: rows.iter().map(signal_row).collect::<Result<_, _>>()?,
        total,
    })
}

/// One signal within the actor's reach (`NotFound` otherwise).
pub async fn get(p: &Platform, actor: &Staff, id: &str) -> Result<Signal, ServiceError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM signals WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?;
    let s = row.as_ref().map(signal_row).transpose()?;
    match s {
        Some(s) if Reach::of(actor).covers(&s.org, &s.region) => Ok(s),
        _ => Err(ServiceError::NotFound {
            what: "监察信号",
            key: id.to_owned(),
        }),
    }
}

/// Who was involved in a signal and when: its responsible person, the appeal and the decision
/// (names as the staff directory gives them).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trail {
    /// The responsible person's name, when known.
    pub person_name: Option<String>,
    /// When it was appealed.
    pub appealed_at: Option<String>,
    /// Who appealed it.
    pub appealed_by: Option<String>,
    /// When a supervisor decided on it.
    pub decided_at: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
}

/// The [`Trail`] of a signal within the actor's reach (`NotFound` otherwise).
pub async fn trail(p: &Platform, actor: &Staff, id: &str) -> Result<Trail, ServiceError> {
    trail_of(p, &get(p, actor, id).await?).await
}

/// The trail of a signal the caller has already read (within their reach).
pub async fn trail_of(p: &Platform, s: &Signal) -> Result<Trail, ServiceError> {
    let row = sqlx::query(
        "SELECT s.appealed_at, s.decided_at, a.display_name AS appealer, \
         d.display_name AS decider, r.display_name AS person_name FROM signals s \
         LEFT JOIN staff a ON a.id = s.appealed_by LEFT JOIN staff d ON d.id = s.decided_by \
         LEFT JOIN staff r ON r.id = s.person OR r.username = s.person WHERE s.id = $1",
    )
    .bind(&s.id)
    .fetch_optional(p.db.pool())
    .await?;
    let Some(r) = row else {
        return Ok(Trail::default());
    };
    Ok(Trail {
        person_name: r.try_get("person_name")?,
        appealed_at: r.try_get("appealed_at")?,
        appealed_by: r.try_get("appealer")?,
        decided_at: r.try_get("decided_at")?,
        decided_by: r.try_get("decider")?,
    })
}

/// Whether the actor may save a new version of the rules: system administrators only (the
/// rule `supervision::save_rules` applies; pages ask it before reading a form).
pub fn may_configure_rules(actor: &Staff) -> Result<(), ServiceError> {
    if actor.has(Role::SystemAdmin) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "只有系统管理员可以配置监察规则 / only system administrators configure the rules"
                .into(),
        ))
    }
}

/// A reason, trimmed: 2 to 1000 characters.
pub(crate) fn reason_of(reason: &str) -> Result<String, ServiceError> {
    let r = reason.trim();
    if r.chars().count() < 2 || r.chars().count() > 1000 {
        return Err(ServiceError::invalid(
            "reason",
            "请填写理由（2至1000字）",
            "give the reason (2 to 1000 characters)",
        ));
    }
    Ok(r.to_owned())
}

/// 申诉: the responsible organisation's staff say a signal was raised wrongly.
pub async fn appeal(
    p: &Platform,
    actor: &Staff,
    id: &str,
    reason: &str,
) -> Result<Signal, ServiceError> {
    let s = get(p, actor, id).await?;
    if actor.org != s.org {
        return Err(ServiceError::Forbidden(
            "只有责任单位可以申诉 / only the responsible organisation appeals".into(),
        ));
    }
    let reason = reason_of(reason)?;
    let done = sqlx::query(
        "UPDATE signals SET status = 'appealed', appeal_reason = $1, appealed_at = $2, \
         appealed_by = $3 WHERE id = $4 AND status = 'open'",
    )
    .bind(reason)
    .bind(fmt_time(p.now()))
    .bind(&actor.id)
    .bind(id)
    .execute(p.db.writer())
    .await?;
    if done.rows_affected() != 1 {
        return Err(ServiceError::Conflict(
            "只有未处理的信号可以申诉 / only an open signal is appealed".into(),
        ));
    }
    get(p, actor, id).await
}

/// A supervisor decides on a signal: `withdraw` (raised wrongly; an open or appealed signal)
/// or uphold an appeal, with the reason.
pub async fn decide(
    p: &Platform,
    actor: &Staff,
    id: &str,
    withdraw: bool,
    reason: &str,
) -> Result<Signal, ServiceError> {
    if !(actor.has(Role::Supervisor) || actor.has(Role::SystemAdmin)) {
        return Err(ServiceError::Forbidden(
            "只有监察人员可以撤销或维持信号 / only supervisors decide on signals".into(),
        ));
    }
    get(p, actor, id).await?;
    let reason = reason_of(reason)?;
    let (to, from) = if withdraw {
        ("withdrawn", "status IN ('open', 'appealed')")
    } else {
        ("upheld", "status = 'appealed'")
    };
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE signals SET status = $1, decision_reason = $2, decided_at = $3, decided_by = $4 \
         WHERE id = $5 AND {from}"
    )))
    .bind(to)
    .bind(reason)
    .bind(fmt_time(p.now()))
    .bind(&actor.id)
    .bind(id)
    .execute(p.db.writer())
    .await?;
    if done.rows_affected() != 1 {
        return Err(ServiceError::Conflict(
            "信号当前状态不允许这一处理 / the signal's status does not allow this".into(),
        ));
    }
    get(p, actor, id).await
}

/// A supervision order (督办).
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    /// Id.
    pub id: String,
    /// 督办编号.
    pub number: String,
    /// The signal it follows, if any.
    pub signal_id: Option<String>,
    /// The case.
    pub case_id: String,
    /// The organisation that must answer.
    pub org: String,
    /// Its region.
    pub region: String,
    /// What is required.
    pub content: String,
    /// Who issued it (staff id).
    pub issued_by: String,
    /// When.
    pub issued_at: String,
    /// The answer is due by.
    pub due_at: String,
    /// The answer.
    pub response: Option<String>,
    /// When it was answered.
    pub answered_at: Option<String>,
    /// `issued` or `answered`.
    pub status: String,
    /// Answered late, or not yet answered and past due (at the time of reading).
    pub late: bool,
}

fn order_row(r: &yiwang_store::AnyRow, now: DateTime<Utc>) -> Result<Order, ServiceError> {
    let due_at: String = r.try_get("due_at")?;
    let answered_at: Option<String> = r.try_get("answered_at")?;
    let late = match &answered_at {
        Some(a) => a > &due_at,
        None => fmt_time(now) > due_at,
    };
    Ok(Order {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        signal_id: r.try_get("signal_id")?,
        case_id: r.try_get("case_id")?,
        org: r.try_get("org")?,
        region: r.try_get("region")?,
        content: r.try_get("content")?,
        issued_by: r.try_get("issued_by")?,
        issued_at: r.try_get("issued_at")?,
        due_at,
        response: r.try_get("response")?,
        answered_at,
        status: r.try_get("status")?,
        late,
    })
}

const ORDER_COLUMNS: &str = "id, number, signal_id, case_id, org, region, content, issued_by, \
     issued_at, due_at, response, answered_at, status";

/// Issues a supervision order about a signal within the supervisor's reach: the responsible
/// organisation must answer within `days` working days (1 to 30).
pub async fn issue_order(
    p: &Platform,
    actor: &Staff,
    signal_id: &str,
    content: &str,
    days: u32,
) -> Result<Order, ServiceError> {
    if !(actor.has(Role::Supervisor) || actor.has(Role::SystemAdmin)) {
        return Err(ServiceError::Forbidden(
            "只有监察人员可以督办 / only supervisors issue supervision orders".into(),
        ));
    }
    let s = get(p, actor, signal_id).await?;
    let mut errors = Vec::new();
    let content = content.trim();
    if content.chars().count() < 2 || content.chars().count() > 2000 {
        errors.push(crate::FieldError::new(
            "content",
            "督办内容须为2至2000字",
            "the order says what is required (2 to 2000 characters)",
        ));
    }
    if !(1..=30).contains(&days) {
        errors.push(crate::FieldError::new(
            "days",
            "答复时限须为1至30个工作日",
            "the answer is due in 1 to 30 working days",
        ));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let now = p.now();
    let due = p.calendar().add_working_days(now, days);
    let id = uuid::Uuid::now_v7().to_string();
    let number = format!(
        "DB{}{}",
        now.with_timezone(&p.calendar().offset()).format("%Y%m%d"),
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    )
    .to_uppercase();
    sqlx::query(
        "INSERT INTO supervision_orders (id, number, signal_id, case_id, org, region, content, \
         issued_by, issued_at, due_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         'issued')",
    )
    .bind(&id)
    .bind(number)
    .bind(&s.id)
    .bind(&s.case_id)
    .bind(&s.org)
    .bind(&s.region)
    .bind(content)
    .bind(&actor.id)
    .bind(fmt_time(now))
    .bind(fmt_time(due))
    .execute(p.db.writer())
    .await?;
    get_order(p, actor, &id).await
}

/// One order within the actor's reach.
pub async fn get_order(p: &Platform, actor: &Staff, id: &str) -> Result<Order, ServiceError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM supervision_orders WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?;
    let o = row.as_ref().map(|r| order_row(r, p.now())).transpose()?;
    match o {
        Some(o) if Reach::of(actor).covers(&o.org, &o.region) => Ok(o),
        _ => Err(ServiceError::NotFound {
            what: "督办",
            key: id.to_owned(),
        }),
    }
}

/// The orders within the actor's reach, newest first.
pub async fn orders(p: &Platform, actor: &Staff) -> Result<Vec<Order>, ServiceError> {
    let (cond, bind) = Reach::of(actor).condition("o", 1);
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM supervision_orders o WHERE {cond} \
         ORDER BY o.issued_at DESC, o.id LIMIT 500"
    )));
    if let Some(b) = bind {
        q = q.bind(b);
    }
    let now = p.now();
    q.fetch_all(p.db.pool())
        .await?
        .iter()
        .map(|r| order_row(r, now))
        .collect()
}

/// The responsible organisation answers an order, once.
pub async fn answer_order(
    p: &Platform,
    actor: &Staff,
    id: &str,
    response: &str,
) -> Result<Order, ServiceError> {
    let o = get_order(p, actor, id).await?;
    if actor.org != o.org {
        return Err(ServiceError::Forbidden(
            "只有被督办单位可以答复 / only the organisation it is addressed to answers".into(),
        ));
    }
    let response = reason_of(response).map_err(|_| {
        ServiceError::invalid(
            "response",
            "请填写答复（2至1000字）",
            "write the answer (2 to 1000 characters)",
        )
    })?;
    let done = sqlx::query(
        "UPDATE supervision_orders SET response = $1, answered_by = $2, answered_at = $3, \
         status = 'answered' WHERE id = $4 AND status = 'issued'",
    )
    .bind(response)
    .bind(&actor.id)
    .bind(fmt_time(p.now()))
    .bind(id)
    .execute(p.db.writer())
    .await?;
    if done.rows_affected() != 1 {
        return Err(ServiceError::Conflict(
            "该督办已答复 / the order is answered already".into(),
        ));
    }
    get_order(p, actor, id).await
}

/// One row of the live board: an organisation's open cases and signals.
#[derive(Debug, Clone, Serialize)]
pub struct BoardRow {
    /// The organisation.
    pub org: String,
    /// Its name.
    pub org_name: String,
    /// Its region.
    pub region: String,
    /// Cases being handled with the clock running and no deadline signal.
    pub in_time: i64,
    /// Of those, with an open 预警.
    pub warned: i64,
    /// Cases past their promised limit (an open 红牌).
    pub overdue: i64,
    /// Cases whose clock is stopped (补正, 特别程序).
    pub paused: i64,
    /// Open irregularity signals.
    pub irregular: i64,
}

/// The live board within the actor's reach: every organisation with open cases or signals.
pub async fn board(p: &Platform, actor: &Staff) -> Result<Vec<BoardRow>, ServiceError> {
    let reach = Reach::of(actor);
    let (cond, bind) = reach.condition("o", 1);
    let sql = format!(
        "SELECT o.credit_code AS org, o.name, o.region, \
         SUM(CASE WHEN c.state = 'handling' AND c.paused_at IS NULL THEN 1 ELSE 0 END) AS running, \
         SUM(CASE WHEN c.state IN ('correction', 'special') OR c.paused_at IS NOT NULL THEN 1 ELSE 0 END) AS paused \
         FROM cases c JOIN organisations o ON o.credit_code = c.org \
         WHERE c.state IN ('handling', 'correction', 'special') AND {} GROUP BY o.credit_code, o.name, o.region",
        cond.replace("o.org", "o.credit_code")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    if let Some(b) = &bind {
        q = q.bind(b);
    }
    let mut rows: std::collections::BTreeMap<String, BoardRow> = Default::default();
    for r in q.fetch_all(p.db.pool()).await? {
        let org: String = r.try_get("org")?;
        rows.insert(
            org.clone(),
            BoardRow {
                org,
                org_name: r.try_get("name")?,
                region: r.try_get("region")?,
                in_time: r.try_get("running")?,
                warned: 0,
                overdue: 0,
                paused: r.try_get("paused")?,
                irregular: 0,
            },
        );
    }
    let (cond, bind) = reach.condition("s", 1);
    let sql = format!(
        "SELECT s.org, s.signal_type, COUNT(DISTINCT s.case_id) AS n FROM signals s \
         JOIN cases c ON c.id = s.case_id WHERE s.status IN ('open', 'appealed', 'upheld') \
         AND (s.signal_type = 'irregular' OR c.state = 'handling') AND {cond} \
         GROUP BY s.org, s.signal_type"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    if let Some(b) = &bind {
        q = q.bind(b);
    }
    let master = p.master.get();
    for r in q.fetch_all(p.db.pool()).await? {
        let org: String = r.try_get("org")?;
        let n: i64 = r.try_get("n")?;
        let row = rows.entry(org.clone()).or_insert_with(|| {
            let o = master.organisation(&org);
            BoardRow {
                org_name: o.map(|o| o.name.clone()).unwrap_or_default(),
                region: o.map(|o| o.region.clone()).unwrap_or_default(),
                org,
                in_time: 0,
                warned: 0,
                overdue: 0,
                paused: 0,
                irregular: 0,
            }
        });
        match r.try_get::<String, _>("signal_type")?.as_str() {
            "warning" => row.warned += n,
            "red" => row.overdue += n,
            "irregular" => row.irregular += n,
            _ => {}
        }
    }
    // A case with a 红牌 is overdue, not in time.
    for row in rows.values_mut() {
        row.in_time = (row.in_time - row.overdue).max(0);
    }
    Ok(rows.into_values().collect())
}

/// A state a board count stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardState {
    /// Handling, the clock running, no 红牌 ([`BoardRow::in_time`]).
    InTime,
    /// Handling with an open 预警 ([`BoardRow::warned`]).
    Warned,
    /// Handling with a 红牌 ([`BoardRow::overdue`]).
    Overdue,
    /// The clock stopped ([`BoardRow::paused`]).
    Paused,
}

impl BoardState {
    /// Parses `in_time`, `warned`, `overdue` or `paused`.
    pub fn parse(s: &str) -> Option<BoardState> {
        match s {
            "in_time" => Some(BoardState::InTime),
            "warned" => Some(BoardState::Warned),
            "overdue" => Some(BoardState::Overdue),
            "paused" => Some(BoardState::Paused),
            _ => None,
        }
    }

    /// The code [`BoardState::parse`] reads.
    pub fn as_str(self) -> &'static str {
        match self {
            BoardState::InTime => "in_time",
            BoardState::Warned => "warned",
            BoardState::Overdue => "overdue",
            BoardState::Paused => "paused",
        }
    }
}

/// An open case behind a board count.
#[derive(Debug, Clone, Serialize)]
pub struct BoardCase {
    /// Case id.
    pub id: String,
    /// 办件编号.
    pub case_no: Option<String>,
    /// 实施编码.
    pub item_code: String,
    /// The item's name.
    pub item_name: String,
    /// The case's state (`handling`, `correction`, `special`).
    pub state: String,
    /// Its promised limit, if it has one.
    pub due_at: Option<String>,
    /// When its clock stopped, if it is stopped.
    pub paused_at: Option<String>,
    /// Working days left before the promised limit (0 on its last day); negative: working
    /// days past it. `None` without a limit.
    pub working_days: Option<i64>,
}

/// The open cases of one organisation behind one count of its board row (the same rules as
/// [`board`]: 预警 and 红牌 by the signal's organisation), oldest deadline first, at most 500.
/// `NotFound` for an organisation outside the actor's reach.
pub async fn board_cases(
    p: &Platform,
    actor: &Staff,
    org: &str,
    state: BoardState,
) -> Result<Vec<BoardCase>, ServiceError> {
    let region = p
        .master
        .get()
        .organisation(org)
        .map(|o| o.region.clone())
        .unwrap_or_default();
    if region.is_empty() || !Reach::of(actor).covers(org, &region) {
        return Err(ServiceError::NotFound {
            what: "单位",
            key: org.to_owned(),
        });
    }
    const LIVE: &str = "s.status IN ('open', 'appealed', 'upheld')";
    let sql = match state {
        BoardState::InTime => format!(
            "SELECT c.id, c.case_no, c.item_code, c.item_name, c.state, c.due_at, c.paused_at \
             FROM cases c WHERE c.org = $1 AND c.state = 'handling' AND c.paused_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM signals s WHERE s.case_id = c.id \
             AND s.signal_type = 'red' AND {LIVE})"
        ),
        BoardState::Paused => "SELECT c.id, c.case_no, c.item_code, c.item_name, c.state, \
             c.due_at, c.paused_at FROM cases c WHERE c.org = $1 AND (c.state IN \
             ('correction', 'special') OR (c.state = 'handling' AND c.paused_at IS NOT NULL))"
            .to_owned(),
        BoardState::Warned | BoardState::Overdue => format!(
            "SELECT c.id, c.case_no, c.item_code, c.item_name, c.state, c.due_at, c.paused_at \
             FROM cases c WHERE c.state = 'handling' AND c.id IN (SELECT s.case_id FROM \
             signals s WHERE s.org = $1 AND s.signal_type = '{}' AND {LIVE})",
            if state == BoardState::Warned {
                "warning"
            } else {
                "red"
            }
        ),
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{sql} ORDER BY c.due_at, c.id LIMIT 500"
    )))
    .bind(org)
    .fetch_all(p.db.pool())
    .await?;
    let now = p.now();
    let calendar = p.calendar();
    rows.iter()
        .map(|r| {
            let due_at: Option<String> = r.try_get("due_at")?;
            let working_days = due_at
                .as_deref()
                .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                .map(|d| {
                    let due = d.with_timezone(&Utc);
                    if due >= now {
                        i64::from(calendar.working_days_between(now, due))
                    } else {
                        -i64::from(calendar.working_days_between(due, now)).max(1)
                    }
                });
            Ok(BoardCase {
                id: r.try_get("id")?,
                case_no: r.try_get("case_no")?,
                item_code: r.try_get("item_code")?,
                item_name: r.try_get("item_name")?,
                state: r.try_get("state")?,
                due_at,
                paused_at: r.try_get("paused_at")?,
                working_days,
            })
        })
        .collect()
}
