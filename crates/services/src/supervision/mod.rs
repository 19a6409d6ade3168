//! 电子监察: the rules engine ([`rules`]) fed by the cases' outbox events and by a sweep of
//! deadlines, and the supervision database (电子监察库): versioned rule sets, signals, appeals
//! and supervision orders (督办).
//!
//! - **Events.** [`run`] polls the outbox every 200 ms for case events (`case.*`, however the
//!   case reached the platform) and evaluates the rules on each case they name: its process
//!   records and the facts of its item ([`case_view`]). A signal's `dedupe` key (rule, case and
//!   step or record) is unique, so an event read twice — after a restart, by two nodes, or in
//!   the overlap the consumer keeps for commits that land late — never raises a signal twice.
//! - **Sweep.** [`sweep`] (every minute, and on demand) reads the open cases and open steps
//!   whose deadline is near or past through the `(state, due_at)` indexes — however many closed
//!   cases there are — and raises 预警, 黄牌 and 红牌.
//! - **Act.** The responsible organisation appeals a signal (申诉) with a reason; a supervisor
//!   withdraws it (raised wrongly) or upholds it, with a reason. A supervisor issues a
//!   supervision order (督办) with a response deadline; the organisation answers it.
//!
//! Supervisors see and act on their region (the session's region and everything under it);
//! system administrators everywhere; an organisation's staff see its own signals and orders.

pub mod formula;
pub mod performance;
pub mod ratings;
pub mod rules;
pub mod signals;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;
use yiwang_store::{Row, fmt_time};

use crate::identity::staff::{Role, Staff};
use crate::{FieldError, Platform, ServiceError};
use rules::{CaseView, Deadline, Hit, Record, RuleSet};

/// The consumer name of the rules in `supervision_cursor`.
const CONSUMER: &str = "supervision.rules";

/// How far behind its cursor the consumer reads again: a transaction that began before the
/// cursor's time may commit after it.
const OVERLAP_SECS: i64 = 3;

/// Events read per round after the cursor.
const PAGE: i64 = 2_000;

/// Events read again at most per round from the overlap before the cursor.
const OVERLAP_PAGE: i64 = 10_000;

/// Cases evaluated at once by the consumer.
const LANES: usize = 4;

/// What the rules consumer keeps between rounds.
#[derive(Debug, Default)]
pub struct Consumer {
    /// Events handled recently (the overlap is read again; these are skipped).
    seen: Mutex<(HashSet<String>, VecDeque<String>)>,
    /// What the rules need of each item version (a published version never changes).
    items: Mutex<HashMap<(String, i64), std::sync::Arc<ItemFacts>>>,
}

/// What the record rules need of an item version.
#[derive(Debug)]
struct ItemFacts {
    /// The names of the materials every application needs, by slot (`None`: optional or
    /// conditional).
    required: Vec<Option<String>>,
    fully_online: bool,
    charged: bool,
}

const ITEMS_MAX: usize = 20_000;

/// The facts of an item version, from the consumer's memory or the catalogue.
async fn item_facts(
    p: &Platform,
    code: &str,
    version: i64,
) -> Result<std::sync::Arc<ItemFacts>, ServiceError> {
    let key = (code.to_owned(), version);
    if let Some(f) = p
        .supervision
        .items
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        return Ok(f.clone());
    }
    let guide = crate::catalogue::load_version(p, code, version)
        .await?
        .guide;
    let facts = std::sync::Arc::new(ItemFacts {
        required: guide
            .materials
            .iter()
            .map(|m| (m.required && m.condition.is_none()).then(|| m.name.clone()))
            .collect(),
        fully_online: guide.online_depth == yiwang_domain::dict::OnlineDepth::FullyOnline,
        charged: guide.fees.as_ref().is_some_and(|f| !f.is_empty()),
    });
    let mut items = p
        .supervision
        .items
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if items.len() >= ITEMS_MAX {
        items.clear();
    }
    items.insert(key, facts.clone());
    Ok(facts)
}

const SEEN_MAX: usize = 50_000;

impl Consumer {
    fn is_new(&self, id: &str) -> bool {
        let mut guard = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let (set, order) = &mut *guard;
        if !set.insert(id.to_owned()) {
            return false;
        }
        order.push_back(id.to_owned());
        while order.len() > SEEN_MAX {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
        true
    }
}

/// The rule set in force and its version (the standard set, version 0, until an administrator
/// saves one).
pub async fn current_rules(p: &Platform) -> Result<(i64, RuleSet), ServiceError> {
    let row =
        sqlx::query("SELECT version, rules FROM supervision_rules ORDER BY version DESC LIMIT 1")
            .fetch_optional(p.db.pool())
            .await?;
    match row {
        None => Ok((0, RuleSet::standard())),
        Some(r) => {
            let text: String = r.try_get("rules")?;
            let set: RuleSet = serde_json::from_str(&text)?;
            Ok((r.try_get("version")?, set))
        }
    }
}

/// A saved version of the rules.
#[derive(Debug, Clone, Serialize)]
pub struct RuleVersion {
    /// Version number.
    pub version: i64,
    /// The rules.
    pub rules: RuleSet,
    /// Why it changed.
    pub note: String,
    /// When.
    pub created_at: String,
    /// By whom (user name).
    pub created_by: String,
}

/// Every saved version, newest first.
pub async fn rule_versions(p: &Platform) -> Result<Vec<RuleVersion>, ServiceError> {
    let rows = sqlx::query(
        "SELECT version, rules, note, created_at, created_by FROM supervision_rules \
         ORDER BY version DESC LIMIT 200",
    )
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let text: String = r.try_get("rules")?;
            Ok(RuleVersion {
                version: r.try_get("version")?,
                rules: serde_json::from_str(&text)?,
                note: r.try_get("note")?,
                created_at: r.try_get("created_at")?,
                created_by: r.try_get("created_by")?,
            })
        })
        .collect()
}

/// Saves a new version of the rules (system administrators): checked first, every problem at
/// once; the version before stays on record.
pub async fn save_rules(
    p: &Platform,
    actor: &Staff,
    set: RuleSet,
    note: &str,
) -> Result<i64, ServiceError> {
    signals::may_configure_rules(actor)?;
    let problems: Vec<FieldError> = match set.check() {
        Ok(()) => Vec::new(),
        Err(ps) => ps
            .into_iter()
            .map(|x| FieldError::new(x.field, x.message_zh, x.message_en))
            .collect(),
    };
    let (version, _) = current_rules(p).await?;
    let text = serde_json::to_string(&set)?;
    store_version(
        p,
        actor,
        "supervision_rules",
        "rules",
        version,
        &text,
        note,
        problems,
    )
    .await
}

/// Stores version `current + 1` of a versioned configuration (`supervision_rules`,
/// `perf_scoring`: `version`, the value's `column`, `note`, `created_at`, `created_by`) after
/// the caller's `problems` and the note's own, every one at once; a version saved meanwhile by
/// someone else is a conflict and nothing is stored.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn store_version(
    p: &Platform,
    actor: &Staff,
    table: &'static str,
    column: &'static str,
    current: i64,
    value: &str,
    note: &str,
    mut problems: Vec<FieldError>,
) -> Result<i64, ServiceError> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 500 {
        problems.push(FieldError::new(
            "note",
            "请说明这次修改（1至500字）",
            "say what changed (1 to 500 characters)",
        ));
    }
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let next = current + 1;
    let sql = format!(
        "INSERT INTO {table} (version, {column}, note, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (version) DO NOTHING"
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(next)
        .bind(value)
        .bind(note)
        .bind(fmt_time(p.now()))
        .bind(&actor.username)
        .execute(p.db.writer())
        .await?;
    if done.rows_affected() != 1 {
        return Err(ServiceError::Conflict(
            "已被他人修改，请刷新后重试 / changed meanwhile by someone else: reload".into(),
        ));
    }
    Ok(next)
}

/// The rules' view of a case: its records and the facts of its item, or `None` for a case
/// that does not exist.
pub async fn case_view(
    p: &Platform,
    case_id: &str,
) -> Result<Option<(CaseView, CaseFacts)>, ServiceError> {
    let c = match crate::cases::load(p, case_id).await {
        Ok(c) => c,
        Err(ServiceError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let item = item_facts(p, &c.item_code, c.item_version).await?;
    let region = p
        .master
        .get()
        .organisation(&c.org)
        .map(|o| o.region.clone())
        .unwrap_or_default();
    let records = sqlx::query(
        "SELECT seq, step, action, opinion, handler_id, ended_at FROM case_records \
         WHERE case_id = $1 ORDER BY seq",
    )
    .bind(case_id)
    .fetch_all(p.db.pool())
    .await?;
    let mut out = Vec::with_capacity(records.len());
    for r in &records {
        let at: String = r.try_get("ended_at")?;
        out.push(Record {
            seq: r.try_get("seq")?,
            step: r.try_get("step")?,
            action: r.try_get("action")?,
            opinion: r.try_get("opinion")?,
            handler_id: r.try_get("handler_id")?,
            at: parse_time(&at).unwrap_or_else(|| p.now()),
            fee_fen: None,
        });
    }
    // The required materials without a file when the window decided (accepted or refused).
    let decided_at = records
        .iter()
        .zip(&out)
        .find(|(_, r)| r.step == "受理" || r.step == "不予受理")
        .and_then(|(row, _)| row.try_get::<String, _>("ended_at").ok());
    let mut missing = Vec::new();
    if let Some(at) = &decided_at {
        let have: HashSet<i64> = sqlx::query_scalar(
            "SELECT slot FROM case_materials WHERE case_id = $1 AND added_at <= $2",
        )
        .bind(case_id)
        .bind(at)
        .fetch_all(p.db.pool())
        .await?
        .into_iter()
        .collect();
        for (i, name) in item.required.iter().enumerate() {
            if let Some(name) = name
                && !have.contains(&i64::try_from(i).unwrap_or(-1))
            {
                missing.push(name.clone());
            }
        }
    }
    let view = CaseView {
        case_id: c.id.clone(),
        item_code: c.item_code.clone(),
        region: region.clone(),
        at_window: c.channel == yiwang_domain::dict::HandlingForm::Window.code(),
        item_fully_online: item.fully_online,
        item_charged: item.charged,
        missing_at_accept: missing,
        records: out,
    };
    let facts = CaseFacts {
        case_no: c.case_no.clone(),
        item_code: c.item_code,
        org: c.org,
        region,
    };
    Ok(Some((view, facts)))
}

/// What a signal records of its case besides the rule's finding.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    /// 办件编号.
    pub case_no: Option<String>,
    /// 实施编码.
    pub item_code: String,
    /// The responsible organisation.
    pub org: String,
    /// Its region.
    pub region: String,
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Signals stored per statement.
const RAISE_CHUNK: usize = 200;

/// Stores the hits as signals, each once (many rows a statement); returns how many were new.
/// The responsible people of the new ones are told.
async fn raise(
    p: &Platform,
    version: i64,
    found: &[(&CaseFacts, &str, &Hit)],
) -> Result<usize, ServiceError> {
    let now = p.now();
    let day = now
        .with_timezone(&p.calendar().offset())
        .format("%Y%m%d")
        .to_string();
    let raised_at = fmt_time(now);
    let mut new = 0;
    for chunk in found.chunks(RAISE_CHUNK) {
        let mut args: Vec<yiwang_store::Bind> = Vec::with_capacity(chunk.len() * 17);
        for (facts, case_id, h) in chunk {
            let id = uuid::Uuid::now_v7().simple().to_string();
            args.extend([
                id.as_str().into(),
                format!("JC{day}{}", &id[20..]).to_uppercase().into(),
                h.key.as_str().into(),
                h.rule_no.as_str().into(),
                version.into(),
                kind_code(h.kind).into(),
                h.kind.signal().as_str().into(),
                (*case_id).into(),
                facts.case_no.clone().into(),
                facts.item_code.as_str().into(),
                facts.org.as_str().into(),
                facts.region.as_str().into(),
                h.person.clone().into(),
                h.step.as_str().into(),
                h.detail.as_str().into(),
                fmt_time(h.at).into(),
                raised_at.as_str().into(),
            ]);
        }
        // Each row: its 17 values, then the status.
        let rows: Vec<String> = (0..chunk.len())
            .map(|r| {
                let cols: Vec<String> = (1..=17).map(|c| format!("${}", r * 17 + c)).collect();
                format!("({}, 'open')", cols.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO signals (id, number, dedupe, rule_no, rule_version, kind, signal_type, \
             case_id, case_no, item_code, org, region, person, step, detail, occurred_at, \
             raised_at, status) VALUES {} ON CONFLICT (dedupe) DO NOTHING \
             RETURNING id, person, signal_type, detail, case_no",
            rows.join(", ")
        );
        let q = yiwang_store::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), args);
        let rows = q.fetch_all(p.db.writer()).await?;
        new += rows.len();
        for r in &rows {
            if let Some(person) = r.try_get::<Option<String>, _>("person")? {
                let kind = rules::SignalType::parse(&r.try_get::<String, _>("signal_type")?)
                    .map_or("监察信号", |t| t.label_zh());
                let case_no: Option<String> = r.try_get("case_no")?;
                let detail: String = r.try_get("detail")?;
                tell(p, &person, kind, case_no.as_deref().unwrap_or("-"), &detail).await;
            }
        }
    }
    Ok(new)
}

/// The stored code of a rule kind (its serde name).
fn kind_code(kind: rules::RuleKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Tells the person responsible (a staff id or user name) of a new signal by SMS, where the
/// platform has their mobile number; a failure is logged (the signal is stored).
async fn tell(p: &Platform, person: &str, kind: &str, case_no: &str, detail: &str) {
    let row = sqlx::query(
        "SELECT id, display_name FROM staff WHERE (id = $1 OR username = $1) AND disabled = 0 \
         AND phone_enc IS NOT NULL",
    )
    .bind(person)
    .fetch_optional(p.db.pool())
    .await;
    let Ok(Some(r)) = row else { return };
    let (Ok(id), Ok(name)) = (
        r.try_get::<String, _>("id"),
        r.try_get::<String, _>("display_name"),
    ) else {
        return;
    };
    crate::identity::staff_admin::text(
        p,
        &id,
        "supervision_signal",
        &[
            ("name", &name),
            ("signal", kind),
            ("case", case_no),
            ("detail", detail),
        ],
        &format!("signal for {case_no}"),
    )
    .await;
}

/// Evaluates the record rules on one case and stores what they find; returns the new signals.
pub async fn check_case(p: &Platform, case_id: &str) -> Result<usize, ServiceError> {
    let (version, set) = current_rules(p).await?;
    check_case_with(p, (version, &set), case_id).await
}

async fn check_case_with(
    p: &Platform,
    (version, set): (i64, &RuleSet),
    case_id: &str,
) -> Result<usize, ServiceError> {
    let Some((view, facts)) = case_view(p, case_id).await? else {
        return Ok(0);
    };
    let hits = rules::evaluate_records(set, &view);
    if hits.is_empty() {
        return Ok(0);
    }
    let found: Vec<_> = hits.iter().map(|h| (&facts, case_id, h)).collect();
    raise(p, version, &found).await
}

/// One round of the rules consumer: the case events since the cursor (and those of the overlap
/// before it not yet handled), each case evaluated once; the cursor moves to the newest event
/// read. Returns the new signals.
pub async fn consume(p: &Platform) -> Result<usize, ServiceError> {
    let cursor: Option<String> =
        sqlx::query_scalar("SELECT created_at FROM supervision_cursor WHERE consumer = $1")
            .bind(CONSUMER)
            .fetch_optional(p.db.pool())
            .await?;
    // First the overlap: events up to OVERLAP_SECS older than the cursor (a transaction that
    // began earlier may have committed since), skipping those handled; then the events after
    // the cursor, which moves to the newest of them. However many events arrive a second, the
    // cursor moves on.
    let mut rows = Vec::new();
    if let Some(at) = cursor.as_deref().and_then(parse_time) {
        rows = sqlx::query(
            "SELECT id, subject, created_at FROM outbox WHERE created_at >= $1 \
             AND created_at <= $2 AND topic LIKE 'case.%' ORDER BY created_at, id LIMIT $3",
        )
        .bind(fmt_time(at - chrono::Duration::seconds(OVERLAP_SECS)))
        .bind(cursor.clone())
        .bind(OVERLAP_PAGE)
        .fetch_all(p.db.pool())
        .await?;
    }
    let after = sqlx::query(
        "SELECT id, subject, created_at FROM outbox WHERE created_at > $1 \
         AND topic LIKE 'case.%' ORDER BY created_at, id LIMIT $2",
    )
    .bind(cursor.clone().unwrap_or_default())
    .bind(PAGE)
    .fetch_all(p.db.pool())
    .await?;
    let newest: Option<String> = after.last().map(|r| r.try_get("created_at")).transpose()?;
    rows.extend(after);
    let mut cases: Vec<String> = Vec::new();
    let mut named = HashSet::new();
    for r in &rows {
        let id: String = r.try_get("id")?;
        if !p.supervision.is_new(&id) {
            continue;
        }
        if let Some(case) = r.try_get::<Option<String>, _>("subject")?
            && named.insert(case.clone())
        {
            cases.push(case);
        }
    }
    if cases.is_empty() && newest.is_none() {
        return Ok(0);
    }
    let (version, set) = current_rules(p).await?;
    // Four cases at a time: each evaluation waits on a few reads.
    let work = |lane: usize| {
        let cases = &cases;
        let set = &set;
        async move {
            let mut new = 0;
            for case in cases.iter().skip(lane).step_by(LANES) {
                match check_case_with(p, (version, set), case).await {
                    Ok(n) => new += n,
                    Err(e) => tracing::warn!(case = %case, error = %e, "supervision rules failed"),
                }
            }
            new
        }
    };
    let (a, b, c, d) = tokio::join!(work(0), work(1), work(2), work(3));
    let new = a + b + c + d;
    let Some(newest) = newest else {
        return Ok(new);
    };
    sqlx::query(
        "INSERT INTO supervision_cursor (consumer, created_at) VALUES ($1, $2) \
         ON CONFLICT (consumer) DO UPDATE SET created_at = $2",
    )
    .bind(CONSUMER)
    .bind(&newest)
    .execute(p.db.writer())
    .await?;
    Ok(new)
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepRun {
    /// Deadlines looked at (open cases and steps near or past due).
    pub deadlines: usize,
    /// New signals.
    pub signals: usize,
}

/// Raises the deadline signals due now (see the module docs).
pub async fn sweep(p: &Platform) -> Result<SweepRun, ServiceError> {
    let (version, set) = current_rules(p).await?;
    let now = p.now();
    let calendar = p.calendar();
    // The furthest a warning looks ahead: the end of the `days`-th working day from now.
    let days = set
        .rules
        .iter()
        .filter(|r| r.enabled && r.kind == rules::RuleKind::DeadlineWarning)
        .map(|r| r.days)
        .max()
        .unwrap_or(0);
    let horizon = if days == 0 {
        now
    } else {
        calendar.add_working_days(now, days)
    };
    // Working days left before a deadline: those after today up to its day.
    let left = |due: DateTime<Utc>| i64::from(calendar.working_days_between(now, due));
    let master = p.master.get();
    let region_of = |org: &str| {
        master
            .organisation(org)
            .map(|o| o.region.clone())
            .unwrap_or_default()
    };
    let mut run = SweepRun::default();
    // Every finding with the facts of its case and the organisation responsible.
    let mut found: Vec<(CaseFacts, String, Hit)> = Vec::new();
    let mut look = |d: Deadline, org: String, case_no: Option<String>| {
        run.deadlines += 1;
        for h in rules::evaluate_deadline(&set, &d, now, left) {
            let facts = CaseFacts {
                case_no: case_no.clone(),
                item_code: d.item_code.clone(),
                org: org.clone(),
                region: d.region.clone(),
            };
            found.push((facts, d.case_id.clone(), h));
        }
    };
    // Cases: in handling, their clock running, due within the horizon or past.
    let rows = sqlx::query(
        "SELECT id, case_no, item_code, org, due_at FROM cases WHERE state = 'handling' \
         AND due_at IS NOT NULL AND due_at <= $1 AND paused_at IS NULL",
    )
    .bind(fmt_time(horizon))
    .fetch_all(p.db.pool())
    .await?;
    for r in &rows {
        let due: String = r.try_get("due_at")?;
        let Some(due) = parse_time(&due) else {
            continue;
        };
        let org: String = r.try_get("org")?;
        let d = Deadline {
            case_id: r.try_get("id")?,
            step: None,
            item_code: r.try_get("item_code")?,
            region: region_of(&org),
            person: None,
            due_at: due,
        };
        look(d, org, r.try_get("case_no")?);
    }
    // Open steps of the cases' processes (the step's organisation responsible), due within the
    // horizon or past.
    let rows = sqlx::query(
        "SELECT t.id, t.name, t.org, t.assignee, t.due_at, c.id AS case_id, c.case_no, \
         c.item_code FROM wf_tasks t JOIN wf_instances i ON i.id = t.instance_id \
         JOIN cases c ON c.id = i.business_key WHERE t.state IN ('open', 'delegated') \
         AND t.due_at IS NOT NULL AND t.due_at <= $1 AND c.paused_at IS NULL",
    )
    .bind(fmt_time(horizon))
    .fetch_all(p.db.pool())
    .await?;
    for r in &rows {
        let due: String = r.try_get("due_at")?;
        let Some(due) = parse_time(&due) else {
            continue;
        };
        let org: String = r.try_get("org")?;
        let d = Deadline {
            case_id: r.try_get("case_id")?,
            step: Some((r.try_get("id")?, r.try_get("name")?)),
            item_code: r.try_get("item_code")?,
            region: region_of(&org),
            person: r.try_get("assignee")?,
            due_at: due,
        };
        look(d, org, r.try_get("case_no")?);
    }
    let found: Vec<_> = found
        .iter()
        .map(|(facts, case_id, h)| (facts, case_id.as_str(), h))
        .collect();
    run.signals = raise(p, version, &found).await?;
    Ok(run)
}

/// Runs the consumer every 200 ms and the sweep every `sweep_every` until the process ends
/// (started by `serve`).
pub async fn run(p: std::sync::Arc<Platform>, sweep_every: std::time::Duration) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_sweep: Option<tokio::time::Instant> = None;
    loop {
        tick.tick().await;
        if let Err(e) = consume(&p).await {
            tracing::warn!(error = %e, "supervision consumer: will retry");
        }
        if last_sweep.is_none_or(|t| t.elapsed() >= sweep_every) {
            last_sweep = Some(tokio::time::Instant::now());
            match sweep(&p).await {
                Ok(SweepRun { signals: 0, .. }) => {}
                Ok(r) => tracing::info!(signals = r.signals, "supervision sweep"),
                Err(e) => tracing::warn!(error = %e, "supervision sweep: will retry"),
            }
            match ratings::invite(&p).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(invitations = n, "rating invitations sent"),
                Err(e) => tracing::warn!(error = %e, "rating invitations: will retry"),
            }
        }
    }
}

/// Supervisors and system administrators.
pub fn may_supervise(actor: &Staff) -> Result<(), ServiceError> {
    if actor.has(Role::Supervisor) || actor.has(Role::SystemAdmin) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "需要“监察人员”或“系统管理员”角色 / supervisors and system administrators only".into(),
        ))
    }
}

/// Moves the simulated clock forward by `days` and `hours` (system administrators; only when
/// the server runs on the simulated clock), then runs the sweep so that deadlines passed on
/// purpose raise their signals at once, and sends the rating invitations now due
/// ([`ratings::invite`]).
pub async fn advance_clock(
    p: &Platform,
    actor: &Staff,
    days: i64,
    hours: i64,
) -> Result<SweepRun, ServiceError> {
    if !actor.has(Role::SystemAdmin) {
        return Err(ServiceError::Forbidden(
            "只有系统管理员可以调整模拟时钟 / only system administrators move the clock".into(),
        ));
    }
    let Some(clock) = p.clock.simulated() else {
        return Err(ServiceError::Conflict(
            "服务器未以 --simulated-clock 启动，时钟不可调整 / the server does not run on a \
             simulated clock"
                .into(),
        ));
    };
    if !(0..=365).contains(&days) || !(0..=8760).contains(&hours) || days + hours == 0 {
        return Err(ServiceError::invalid(
            "days",
            "前进0至365天、0至8760小时，且不能都为0",
            "move 0 to 365 days and 0 to 8760 hours forward, not both 0",
        ));
    }
    clock.advance(chrono::Duration::days(days) + chrono::Duration::hours(hours));
    tracing::warn!(now = %p.now(), by = %actor.username, "simulated clock moved forward");
    let run = sweep(p).await?;
    if let Err(e) = ratings::invite(p).await {
        tracing::warn!(error = %e, "rating invitations: will retry");
    }
    Ok(run)
}
