//! 监察信号 and 督办: the signals within the session's reach (supervisors their region, system
//! administrators everywhere, other staff their organisation's), filtered and paged; one
//! signal with every field it carries, its case, its appeal and decision and its orders; and
//! the supervision orders with the answer form.
//!
//! Each form is shown only to whom may use it — 申诉 to the responsible organisation's staff
//! while the signal is open, 撤销/维持 and 督办 to supervisors and system administrators — and
//! `yiwang_services::supervision::signals` decides again on every POST. A refused form shows
//! the page again with the problem marked and nothing saved (422); a refusal of the person or
//! the state is a readable page (403, 404, 409). Success answers `303` to the page with
//! `?done=`.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_services::ServiceError;
use yiwang_services::identity::staff::Role;
use yiwang_services::supervision::signals::{self, Order, Reach, Signal, SignalQuery, Trail};

use super::supervision::{kind_label, org_name, reach_label, status_label, type_class, type_label};
use super::{AdminForm, chrome, field_messages, local_time, local_time_opt, see_other};
use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

/// Signals a page.
const PER_PAGE: u32 = 50;

fn notice(lang: Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "appealed" => lang.t(
            "已提交申诉，等待监察人员处理。",
            "Appealed: a supervisor decides.",
        ),
        "withdrawn" => lang.t("信号已撤销。", "Signal withdrawn."),
        "upheld" => lang.t("已维持该信号。", "Signal upheld."),
        "ordered" => lang.t("已发出督办。", "Supervision order issued."),
        "answered" => lang.t("督办已答复。", "Order answered."),
        _ => return None,
    })
}

/// A supervisor or system administrator.
fn supervises(s: &StaffSession) -> bool {
    s.staff.has(Role::Supervisor) || s.staff.has(Role::SystemAdmin)
}

// ---------------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------------

/// `GET /admin/supervision/signals` query.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    signal_type: String,
    #[serde(default)]
    rule_no: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    case_no: String,
    #[serde(default)]
    page: Option<String>,
}

struct ListRow {
    id: String,
    number: String,
    type_label: &'static str,
    type_class: &'static str,
    rule_no: String,
    case_id: String,
    case_no: String,
    org_name: String,
    step: String,
    detail: String,
    raised_at: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "admin/supervision_signals.html")]
struct ListPage {
    chrome: Chrome,
    reach: String,
    q: ListQuery,
    /// (value, label, selected) of each select.
    statuses: Vec<(&'static str, &'static str, bool)>,
    types: Vec<(&'static str, &'static str, bool)>,
    orgs: Vec<(String, String, bool)>,
    rows: Vec<ListRow>,
    total: i64,
    page: u32,
    pages: u32,
    /// The query string without `page`, for the pager.
    base: String,
    supervisor: bool,
}

/// `?a=1&b=2` of the filters that are set.
fn query_string(q: &ListQuery) -> String {
    let enc = crate::session::urlencode;
    [
        ("status", &q.status),
        ("signal_type", &q.signal_type),
        ("rule_no", &q.rule_no),
        ("org", &q.org),
        ("case_no", &q.case_no),
    ]
    .iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| format!("{k}={}", enc(v.trim())))
    .collect::<Vec<_>>()
    .join("&")
}

/// `GET /admin/supervision/signals`.
pub(crate) async fn list(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let q = super::query(q, lang)?;
    let page = match q.page.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => 1,
        Some(p) => match p.parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(session.err(ServiceError::invalid(
                    "page",
                    "页码须为正整数",
                    "the page is a positive whole number",
                )));
            }
        },
    };
    let opt = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let filter = SignalQuery {
        status: opt(&q.status),
        signal_type: opt(&q.signal_type),
        case_id: None,
        rule_no: opt(&q.rule_no),
        org: opt(&q.org),
        case_no: opt(&q.case_no),
    };
    let found = signals::page(&s.platform, &session.staff, &filter, page, PER_PAGE)
        .await
        .map_err(|e| session.err(e))?;
    let master = s.platform.master.get();
    let reach = Reach::of(&session.staff);
    let mut orgs: Vec<(String, String, bool)> = master
        .organisations
        .values()
        .filter(|o| reach.covers(&o.credit_code, &o.region))
        .map(|o| {
            (
                o.credit_code.clone(),
                o.name.clone(),
                o.credit_code == q.org.trim(),
            )
        })
        .collect();
    orgs.sort_by(|a, b| a.1.cmp(&b.1));
    let statuses = ["open", "appealed", "withdrawn", "upheld"]
        .into_iter()
        .map(|v| (v, status_label(lang, v), q.status.trim() == v))
        .collect();
    let types = ["warning", "yellow", "red", "irregular"]
        .into_iter()
        .map(|v| (v, type_label(lang, v), q.signal_type.trim() == v))
        .collect();
    let rows = found
        .signals
        .into_iter()
        .map(|x| ListRow {
            type_label: type_label(lang, &x.signal_type),
            type_class: type_class(&x.signal_type),
            status: status_label(lang, &x.status),
            org_name: org_name(&master, &x.org),
            raised_at: local_time(&x.raised_at),
            id: x.id,
            number: x.number,
            rule_no: x.rule_no,
            case_id: x.case_id,
            case_no: x.case_no.unwrap_or_default(),
            step: x.step,
            detail: x.detail,
        })
        .collect();
    let pages = u32::try_from((found.total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE))
        .unwrap_or(u32::MAX)
        .max(1);
    let view = ListPage {
        chrome: chrome(&session, lang.t("监察信号", "Signals")),
        reach: reach_label(lang, &master, &session.staff),
        base: query_string(&q),
        q,
        statuses,
        types,
        orgs,
        rows,
        total: found.total,
        page,
        pages,
        supervisor: supervises(&session),
    };
    Ok(html(StatusCode::OK, &view))
}

// ---------------------------------------------------------------------------------------------
// One signal
// ---------------------------------------------------------------------------------------------

/// What was posted to one of the signal page's forms, shown again with its problems.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct SignalForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    days: String,
}

/// An order as a page shows it.
struct OrderRow {
    id: String,
    number: String,
    signal_id: String,
    case_id: String,
    org_name: String,
    content: String,
    issued_at: String,
    due_at: String,
    late: bool,
    answered: bool,
    response: String,
    answered_at: String,
    /// The form's problem and posted answer, after a refused answer.
    error: Option<String>,
    value: String,
    may_answer: bool,
}

fn order_row(
    master: &yiwang_services::masterdata::MasterData,
    session: &StaffSession,
    o: Order,
) -> OrderRow {
    OrderRow {
        may_answer: o.status == "issued" && session.staff.org == o.org,
        org_name: org_name(master, &o.org),
        issued_at: local_time(&o.issued_at),
        due_at: local_time(&o.due_at),
        answered_at: local_time_opt(o.answered_at.as_deref()),
        answered: o.status == "answered",
        late: o.late,
        id: o.id,
        number: o.number,
        signal_id: o.signal_id.unwrap_or_default(),
        case_id: o.case_id,
        content: o.content,
        response: o.response.unwrap_or_default(),
        error: None,
        value: String::new(),
    }
}

#[derive(Template)]
#[template(path = "admin/supervision_signal.html")]
struct SignalPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    s: Signal,
    trail: Trail,
    type_label: &'static str,
    type_class: &'static str,
    status_label: &'static str,
    kind_label: String,
    org_name: String,
    region_name: String,
    item_name: String,
    occurred_at: String,
    raised_at: String,
    appealed_at: String,
    decided_at: String,
    orders: Vec<OrderRow>,
    may_appeal: bool,
    may_decide: bool,
    may_uphold: bool,
    may_order: bool,
    /// Which form was refused (`appeal`, `decision`, `order`), its problems and values.
    failed: &'static str,
    errors: Vec<(String, String)>,
    form: SignalForm,
}

impl SignalPage {
    /// The problem of a field of the refused form, if that form is `which`.
    fn error(&self, which: &str, field: &str) -> Option<&str> {
        if self.failed != which {
            return None;
        }
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

async fn signal_page(
    s: &Shared,
    session: &StaffSession,
    id: &str,
    done: Option<&str>,
    failed: &'static str,
    errors: Vec<(String, String)>,
    form: SignalForm,
) -> Result<SignalPage, PageError> {
    let lang = session.lang;
    let p = &s.platform;
    let sig = signals::get(p, &session.staff, id)
        .await
        .map_err(|e| session.err(e))?;
    let trail = signals::trail_of(p, &sig)
        .await
        .map_err(|e| session.err(e))?;
    let master = p.master.get();
    let orders = signals::orders(p, &session.staff)
        .await
        .map_err(|e| session.err(e))?
        .into_iter()
        .filter(|o| o.signal_id.as_deref() == Some(id))
        .map(|o| order_row(&master, session, o))
        .collect();
    let item_name = yiwang_services::catalogue::published(p, &sig.item_code)
        .await
        .map(|i| i.summary.name.clone())
        .unwrap_or_default();
    let supervisor = supervises(session);
    Ok(SignalPage {
        chrome: chrome(
            session,
            format!("{} {}", lang.t("监察信号", "Signal"), sig.number),
        ),
        notice: notice(lang, done),
        type_label: type_label(lang, &sig.signal_type),
        type_class: type_class(&sig.signal_type),
        status_label: status_label(lang, &sig.status),
        kind_label: kind_label(&sig.kind),
        org_name: org_name(&master, &sig.org),
        region_name: master.region_name(&sig.region),
        item_name,
        occurred_at: local_time(&sig.occurred_at),
        raised_at: local_time(&sig.raised_at),
        appealed_at: local_time_opt(trail.appealed_at.as_deref()),
        decided_at: local_time_opt(trail.decided_at.as_deref()),
        orders,
        may_appeal: sig.status == "open" && session.staff.org == sig.org,
        may_decide: supervisor && (sig.status == "open" || sig.status == "appealed"),
        may_uphold: supervisor && sig.status == "appealed",
        may_order: supervisor,
        failed,
        errors,
        form,
        trail,
        s: sig,
    })
}

/// `GET /admin/supervision/signals/{id}`.
pub(crate) async fn page(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    q: Result<Query<super::DoneQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let page = signal_page(
        &s,
        &session,
        &id,
        q.done.as_deref(),
        "",
        Vec::new(),
        SignalForm::default(),
    )
    .await?;
    Ok(html(StatusCode::OK, &page))
}

/// The answer to a form: `303` to the page with `done`, the page again with the problems
/// (422), or the refusal's page.
async fn after(
    s: &Shared,
    session: &StaffSession,
    id: &str,
    which: &'static str,
    form: SignalForm,
    r: Result<&'static str, ServiceError>,
) -> Result<Response, PageError> {
    match r {
        Ok(done) => Ok(see_other(&format!(
            "/admin/supervision/signals/{id}?done={done}"
        ))),
        Err(ServiceError::Invalid(errs)) => {
            let errors = field_messages(session.lang, &errs);
            let page = signal_page(s, session, id, None, which, errors, form).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

/// `POST /admin/supervision/signals/{id}/appeal`: `csrf`, `reason`.
pub(crate) async fn appeal(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<SignalForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let r = signals::appeal(&s.platform, &session.staff, &id, &f.reason)
        .await
        .map(|_| "appealed");
    after(&s, &session, &id, "appeal", f, r).await
}

/// `POST /admin/supervision/signals/{id}/decision`: `csrf`, `decision` (`withdraw` |
/// `uphold`), `reason`.
pub(crate) async fn decide(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<SignalForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let withdraw = match f.decision.as_str() {
        "withdraw" => Some(true),
        "uphold" => Some(false),
        _ => None,
    };
    let r = match withdraw {
        Some(w) => signals::decide(&s.platform, &session.staff, &id, w, &f.reason)
            .await
            .map(|_| if w { "withdrawn" } else { "upheld" }),
        None => {
            // Who may decide is checked first: a refusal of the person wins over the form.
            yiwang_services::supervision::may_supervise(&session.staff)
                .map_err(|e| session.err(e))?;
            Err(ServiceError::invalid(
                "decision",
                "请选择撤销或维持",
                "choose to withdraw or to uphold",
            ))
        }
    };
    after(&s, &session, &id, "decision", f, r).await
}

/// `POST /admin/supervision/signals/{id}/orders`: `csrf`, `content`, `days` (working days,
/// 1 to 30).
pub(crate) async fn issue_order(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<SignalForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    // A number that is not one is 0 working days: the services name the problem.
    let days = f.days.trim().parse::<u32>().unwrap_or(0);
    let r = signals::issue_order(&s.platform, &session.staff, &id, &f.content, days)
        .await
        .map(|_| "ordered");
    after(&s, &session, &id, "order", f, r).await
}

// ---------------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/supervision_orders.html")]
struct OrdersPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    reach: String,
    orders: Vec<OrderRow>,
}

async fn orders_page(
    s: &Shared,
    session: &StaffSession,
    done: Option<&str>,
    failed: Option<(&str, String, String)>,
) -> Result<OrdersPage, PageError> {
    let lang = session.lang;
    let master = s.platform.master.get();
    let mut orders: Vec<OrderRow> = signals::orders(&s.platform, &session.staff)
        .await
        .map_err(|e| session.err(e))?
        .into_iter()
        .map(|o| order_row(&master, session, o))
        .collect();
    if let Some((id, error, value)) = failed {
        for o in orders.iter_mut().filter(|o| o.id == id) {
            o.error = Some(error.clone());
            o.value = value.clone();
        }
    }
    Ok(OrdersPage {
        chrome: chrome(session, lang.t("督办", "Supervision orders")),
        notice: notice(lang, done),
        reach: reach_label(lang, &master, &session.staff),
        orders,
    })
}

/// `GET /admin/supervision/orders`.
pub(crate) async fn orders(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<super::DoneQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let page = orders_page(&s, &session, q.done.as_deref(), None).await?;
    Ok(html(StatusCode::OK, &page))
}

/// The answer form.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct AnswerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    response: String,
}

/// `POST /admin/supervision/orders/{id}/answer`: `csrf`, `response`.
pub(crate) async fn answer(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<AnswerForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    match signals::answer_order(&s.platform, &session.staff, &id, &f.response).await {
        Ok(_) => Ok(see_other("/admin/supervision/orders?done=answered")),
        Err(ServiceError::Invalid(errs)) => {
            let msg = field_messages(session.lang, &errs)
                .into_iter()
                .map(|(_, m)| m)
                .collect::<Vec<_>>()
                .join("；");
            let page = orders_page(&s, &session, None, Some((&id, msg, f.response))).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

/// The signals of a case within the session's reach, for the case page's 监察信号 section.
pub(crate) async fn of_case(
    s: &Shared,
    session: &StaffSession,
    case_id: &str,
) -> Result<Vec<CaseSignal>, ServiceError> {
    let lang = session.lang;
    let q = SignalQuery {
        case_id: Some(case_id.to_owned()),
        ..Default::default()
    };
    Ok(signals::list(&s.platform, &session.staff, &q)
        .await?
        .into_iter()
        .map(|x| CaseSignal {
            type_label: type_label(lang, &x.signal_type),
            type_class: type_class(&x.signal_type),
            status: status_label(lang, &x.status),
            raised_at: local_time(&x.raised_at),
            id: x.id,
            number: x.number,
            rule_no: x.rule_no,
            step: x.step,
            detail: x.detail,
        })
        .collect())
}

/// A signal as the case page lists it.
pub(crate) struct CaseSignal {
    pub id: String,
    pub number: String,
    pub type_label: &'static str,
    pub type_class: &'static str,
    pub rule_no: String,
    pub step: String,
    pub detail: String,
    pub raised_at: String,
    pub status: &'static str,
}
