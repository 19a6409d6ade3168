//! The implementation list (实施清单) of an organisation: dashboard, list with a status filter,
//! new items from the catalogue, the item page (versions, history, quality, actions), a
//! version's guide and the comparison of two versions.
//!
//! The item page is the hub: it shows what the item is, who did what and when, and exactly the
//! actions its state allows. When an action is refused for a reason the manager can fix (a
//! missing reason, a failed quality check), the page is shown again with the problem marked
//! instead of an error page.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_domain::item::{ItemState, VersionStatus};
use yiwang_domain::quality::QualityReport;
use yiwang_services::ServiceError;
use yiwang_services::catalogue::{self, ItemEvent, ItemRecord, StateAction, VersionRecord};
use yiwang_services::identity::staff::Role;

use super::views::{DiffView, GuideView, QualityView, code_label};
use super::{
    AdminForm, CsrfForm, DoneQuery, ReasonForm, chrome, done_notice, event_label, item_code,
    kind_label, local_time, local_time_opt, may_manage, parse_version, role_label, see_other,
    state_class, state_label, status_class, status_label, version_no,
};
use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

// ---------------------------------------------------------------------------------------------
// Dashboard

/// One count on the dashboard, linking to the filtered list.
struct Count {
    label: &'static str,
    count: usize,
    href: String,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    name: String,
    org_name: String,
    roles: Vec<&'static str>,
    manager: bool,
    total: usize,
    counts: Vec<Count>,
    reviewer: bool,
    queue: usize,
}

/// `GET /admin`: who am I, my organisation's items by state, my review queue.
pub(crate) async fn dashboard(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<DoneQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let q = super::query(q, lang)?;
    let staff = &session.staff;
    let p = &s.platform;
    let manager = staff.has(Role::ItemManager);
    let reviewer = staff.has(Role::ItemReviewer);
    let mut counts = Vec::new();
    let mut total = 0;
    if manager {
        let items = catalogue::org_items(p, staff)
            .await
            .map_err(|e| session.err(e))?;
        total = items.len();
        for st in [
            ItemState::Draft,
            ItemState::Active,
            ItemState::Suspended,
            ItemState::Cancelled,
        ] {
            counts.push(Count {
                label: state_label(lang, st),
                count: items.iter().filter(|i| i.state == st).count(),
                href: format!("/admin/items?status={}", st.as_str()),
            });
        }
        for vs in [VersionStatus::Submitted, VersionStatus::Returned] {
            counts.push(Count {
                label: match vs {
                    VersionStatus::Submitted => lang.t("待审核", "Awaiting review"),
                    _ => lang.t("被退回待修改", "Returned for changes"),
                },
                count: items.iter().filter(|i| i.latest_status == vs).count(),
                href: format!("/admin/items?status={}", vs.as_str()),
            });
        }
    }
    let queue = if reviewer {
        catalogue::review_queue(p, staff)
            .await
            .map_err(|e| session.err(e))?
            .len()
    } else {
        0
    };
    let page = DashboardPage {
        chrome: chrome(&session, lang.t("工作台", "Dashboard")),
        notice: done_notice(lang, q.done.as_deref()),
        name: staff.display_name.clone(),
        org_name: staff.org_name.clone(),
        roles: staff.roles.iter().map(|r| role_label(lang, *r)).collect(),
        manager,
        total,
        counts,
        reviewer,
        queue,
    };
    Ok(html(StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------
// Item list

/// One row of the item list.
struct ItemRow {
    code: String,
    name: String,
    state: &'static str,
    state_class: &'static str,
    version: i64,
    version_status: &'static str,
    version_class: &'static str,
    updated: String,
}

impl ItemRow {
    fn new(lang: Lang, r: &ItemRecord) -> ItemRow {
        ItemRow {
            code: r.code.clone(),
            name: r.name.clone(),
            state: state_label(lang, r.state),
            state_class: state_class(r.state),
            version: r.latest_version,
            version_status: status_label(lang, r.latest_status),
            version_class: status_class(r.latest_status),
            updated: local_time(&r.updated_at),
        }
    }
}

/// One option of a select.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "admin/items.html")]
struct ListPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    org_name: String,
    rows: Vec<ItemRow>,
    total: usize,
    filters: Vec<Choice>,
    filtered: bool,
}

/// `?status=` of the item list.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// What the list can be filtered by: an item state or the latest version's status.
enum Filter {
    All,
    State(ItemState),
    Latest(VersionStatus),
}

impl Filter {
    fn parse(s: &str, lang: Lang) -> Result<Filter, PageError> {
        Ok(match s.trim() {
            "" | "all" => Filter::All,
            "submitted" => Filter::Latest(VersionStatus::Submitted),
            "returned" => Filter::Latest(VersionStatus::Returned),
            other => match ItemState::parse(other) {
                Some(st) => Filter::State(st),
                None => {
                    return Err(PageError::new(
                        ServiceError::invalid(
                            "status",
                            &format!(
                                "状态“{other}”无效，应为 draft、active、suspended、cancelled、submitted 或 returned"
                            ),
                            &format!("unknown status {other}"),
                        ),
                        lang,
                    ));
                }
            },
        })
    }

    fn keeps(&self, r: &ItemRecord) -> bool {
        match self {
            Filter::All => true,
            Filter::State(s) => r.state == *s,
            Filter::Latest(v) => r.latest_status == *v,
        }
    }
}

/// `GET /admin/items`: the organisation's items.
pub(crate) async fn list(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let q = super::query(q, lang)?;
    let current = q.status.clone().unwrap_or_default();
    let filter = Filter::parse(&current, lang)?;
    let items = catalogue::org_items(&s.platform, &session.staff)
        .await
        .map_err(|e| session.err(e))?;
    let total = items.len();
    let rows: Vec<ItemRow> = items
        .iter()
        .filter(|r| filter.keeps(r))
        .map(|r| ItemRow::new(lang, r))
        .collect();
    let mut filters = vec![Choice {
        value: String::new(),
        label: lang.t("全部", "All").into(),
        on: matches!(filter, Filter::All),
    }];
    for st in [
        ItemState::Draft,
        ItemState::Active,
        ItemState::Suspended,
        ItemState::Cancelled,
    ] {
        filters.push(Choice {
            value: st.as_str().into(),
            label: state_label(lang, st).into(),
            on: matches!(filter, Filter::State(x) if x == st),
        });
    }
    for vs in [VersionStatus::Submitted, VersionStatus::Returned] {
        filters.push(Choice {
            value: vs.as_str().into(),
            label: format!(
                "{}{}",
                lang.t("最新版本", "Latest version "),
                status_label(lang, vs)
            ),
            on: matches!(filter, Filter::Latest(x) if x == vs),
        });
    }
    let page = ListPage {
        chrome: chrome(&session, lang.t("实施清单", "Implementation list")),
        notice: done_notice(lang, q.done.as_deref()),
        org_name: session.staff.org_name.clone(),
        filtered: !matches!(filter, Filter::All),
        rows,
        total,
        filters,
    };
    Ok(html(StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------
// New item from the catalogue

struct EntryRow {
    basic_code: String,
    name: String,
    item_type: &'static str,
    /// Whether the organisation already implements the entry.
    implemented: bool,
    /// The organisation's item for the entry, if it has one.
    code: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/new.html")]
struct NewPage {
    chrome: Chrome,
    org_name: String,
    entries: Vec<EntryRow>,
}

/// `GET /admin/items/new`: the catalogue entries of the organisation's department.
pub(crate) async fn new_form(
    State(s): State<Shared>,
    session: StaffSession,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let p = &s.platform;
    let entries = catalogue::catalogue_for(p, &session.staff)
        .await
        .map_err(|e| session.err(e))?;
    let mine = catalogue::org_items(p, &session.staff)
        .await
        .map_err(|e| session.err(e))?;
    let page = NewPage {
        chrome: chrome(&session, lang.t("新增事项", "New item")),
        org_name: session.staff.org_name.clone(),
        entries: entries
            .into_iter()
            .map(|e| EntryRow {
                code: mine
                    .iter()
                    .find(|i| i.basic_code == e.basic_code)
                    .map(|i| i.code.clone()),
                item_type: code_label(lang, e.item_type),
                implemented: e.implemented,
                basic_code: e.basic_code,
                name: e.name,
            })
            .collect(),
    };
    Ok(html(StatusCode::OK, &page))
}

/// The posted catalogue entry to implement.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    basic_code: String,
}

/// `POST /admin/items/new`: implements a catalogue entry.
pub(crate) async fn create(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(f): AdminForm<CreateForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let code = catalogue::create(&s.platform, &session.staff, f.basic_code.trim())
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other(&format!("/admin/items/{code}?done=created")))
}

// ---------------------------------------------------------------------------------------------
// The item page

/// A version as a table row.
pub(crate) struct VersionRow {
    pub version: i64,
    pub kind: &'static str,
    pub status: &'static str,
    pub status_class: &'static str,
    pub author: String,
    pub created: String,
    pub submitted: String,
    pub reviewer: String,
    pub reviewed: String,
    pub comment: String,
    pub published: String,
}

impl VersionRow {
    pub(crate) fn new(lang: Lang, v: &VersionRecord) -> VersionRow {
        VersionRow {
            version: v.version,
            kind: kind_label(lang, v.change_kind),
            status: status_label(lang, v.status),
            status_class: status_class(v.status),
            author: v.created_by.clone(),
            created: local_time(&v.created_at),
            submitted: local_time_opt(v.submitted_at.as_deref()),
            reviewer: v.reviewed_by.clone().unwrap_or_default(),
            reviewed: local_time_opt(v.reviewed_at.as_deref()),
            comment: v.review_comment.clone().unwrap_or_default(),
            published: local_time_opt(v.published_at.as_deref()),
        }
    }
}

/// A history record as a table row.
struct EventRow {
    at: String,
    actor: String,
    org: String,
    action: &'static str,
    version: String,
    comment: String,
}

impl EventRow {
    fn new(lang: Lang, e: &ItemEvent) -> EventRow {
        EventRow {
            at: super::local_time_secs(&e.at),
            actor: e.actor_name.clone(),
            org: e.actor_org.clone(),
            action: event_label(lang, e),
            version: e.version.map(|v| format!("v{v}")).unwrap_or_default(),
            comment: e.comment.clone().unwrap_or_default(),
        }
    }
}

/// One of 暂停 / 恢复 / 取消, each a form with a required reason.
struct StateForm {
    action: &'static str,
    label: &'static str,
    hint: &'static str,
    danger: bool,
    error: Option<String>,
    value: String,
}

/// The choices of the compare form.
pub(crate) struct CompareForm {
    pub versions: Vec<i64>,
    pub from: i64,
    pub to: i64,
}

impl CompareForm {
    pub(crate) fn new(
        versions: &[VersionRecord],
        published: Option<i64>,
        latest: i64,
    ) -> Option<CompareForm> {
        if versions.len() < 2 {
            return None;
        }
        let mut list: Vec<i64> = versions.iter().map(|v| v.version).collect();
        list.sort_unstable();
        let from = published
            .filter(|p| *p != latest)
            .or_else(|| list.iter().rev().nth(1).copied())
            .unwrap_or(latest);
        Some(CompareForm {
            versions: list,
            from,
            to: latest,
        })
    }
}

#[derive(Template)]
#[template(path = "admin/item.html")]
struct ItemPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    rec: ItemRecord,
    level: String,
    state: &'static str,
    state_class: &'static str,
    latest_status: &'static str,
    latest_class: &'static str,
    versions: Vec<VersionRow>,
    history: Vec<EventRow>,
    compare: Option<CompareForm>,
    manage: bool,
    editable: bool,
    can_discard: bool,
    can_change: bool,
    state_forms: Vec<StateForm>,
    review_link: bool,
    quality: Option<QualityView>,
    /// The checks a refused submission failed (the page is a 422).
    failed: Vec<&'static str>,
}

/// What a refused action adds to the item page.
#[derive(Default)]
struct Refusal {
    /// A submission refused by the quality checks.
    quality: Option<QualityReport>,
    /// A state change refused for its reason: action, message, posted reason.
    reason: Option<(&'static str, String, String)>,
}

async fn render_item(
    s: &Shared,
    session: &StaffSession,
    code: &str,
    done: Option<&str>,
    refusal: Refusal,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let p = &s.platform;
    let staff = &session.staff;
    let err = |e| session.err(e);
    let rec = catalogue::item(p, staff, code).await.map_err(err)?;
    let versions = catalogue::versions(p, staff, code).await.map_err(err)?;
    let history = catalogue::history(p, staff, code).await.map_err(err)?;
    let manage = may_manage(session, &rec.org);
    let editable = rec.latest_status.editable();
    let quality = match (&refusal.quality, editable) {
        (Some(r), _) => Some(QualityView::new(lang, r)),
        (None, true) => Some(QualityView::new(
            lang,
            &catalogue::quality_of(p, staff, code, rec.latest_version)
                .await
                .map_err(err)?,
        )),
        (None, false) => None,
    };
    let failed = refusal
        .quality
        .as_ref()
        .map(|r| {
            r.failures()
                .map(|c| lang.t(c.label_zh, c.label_en))
                .collect()
        })
        .unwrap_or_default();
    let open = matches!(
        rec.latest_status,
        VersionStatus::Draft | VersionStatus::Returned | VersionStatus::Submitted
    );
    let mut state_forms = Vec::new();
    if manage {
        let mut add = |action: &'static str, label, hint, danger| {
            let (error, value) = match &refusal.reason {
                Some((a, msg, value)) if *a == action => (Some(msg.clone()), value.clone()),
                _ => (None, String::new()),
            };
            state_forms.push(StateForm {
                action,
                label,
                hint,
                danger,
                error,
                value,
            });
        };
        if rec.state == ItemState::Active {
            add(
                "suspend",
                lang.t("暂停", "Suspend"),
                lang.t(
                    "暂停后门户显示“已暂停办理”，可随时恢复。",
                    "The portal shows the item as suspended until it is resumed.",
                ),
                false,
            );
        }
        if rec.state == ItemState::Suspended {
            add(
                "resume",
                lang.t("恢复", "Resume"),
                lang.t("恢复后事项重新可办。", "The item can be applied for again."),
                false,
            );
        }
        if rec.state != ItemState::Cancelled {
            add(
                "cancel",
                lang.t("取消", "Cancel"),
                lang.t(
                    "取消不可撤销，未完成的版本一并废弃。",
                    "Cancelling is final; open versions are discarded.",
                ),
                true,
            );
        }
    }
    let page = ItemPage {
        chrome: chrome(session, rec.name.clone()),
        notice: done_notice(lang, done),
        level: yiwang_domain::dict::ExerciseLevel::from_code(&rec.level)
            .map(|l| lang.t(l.label_zh(), l.label_en()))
            .unwrap_or_default()
            .to_string(),
        state: state_label(lang, rec.state),
        state_class: state_class(rec.state),
        latest_status: status_label(lang, rec.latest_status),
        latest_class: status_class(rec.latest_status),
        compare: CompareForm::new(&versions, rec.published_version, rec.latest_version),
        versions: versions.iter().map(|v| VersionRow::new(lang, v)).collect(),
        history: history
            .iter()
            .rev()
            .map(|e| EventRow::new(lang, e))
            .collect(),
        manage,
        editable: manage && editable,
        can_discard: manage && editable && rec.published_version.is_some(),
        can_change: manage
            && matches!(rec.state, ItemState::Active | ItemState::Suspended)
            && !open,
        state_forms,
        review_link: session.staff.has(Role::ItemReviewer)
            && rec.latest_status == VersionStatus::Submitted,
        quality,
        failed,
        rec,
    };
    Ok(html(status, &page))
}

/// `GET /admin/items/{code}`.
pub(crate) async fn page(
    State(s): State<Shared>,
    session: StaffSession,
    Path(code): Path<String>,
    q: Result<Query<DoneQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let code = item_code(&code, session.lang)?;
    render_item(
        &s,
        &session,
        &code,
        q.done.as_deref(),
        Refusal::default(),
        StatusCode::OK,
    )
    .await
}

fn item_done(code: &str, done: &str) -> Response {
    see_other(&format!("/admin/items/{code}?done={done}"))
}

/// `POST /admin/items/{code}/versions/{v}/submit`: submits a version for review; a failed
/// quality check shows the item page again with the failures (422).
pub(crate) async fn submit(
    State(s): State<Shared>,
    session: StaffSession,
    Path((code, v)): Path<(String, String)>,
    AdminForm(f): AdminForm<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let code = item_code(&code, session.lang)?;
    let v = version_no("v", &v, session.lang)?;
    match catalogue::submit(&s.platform, &session.staff, &code, v).await {
        Ok(()) => Ok(item_done(&code, "submitted")),
        Err(ServiceError::Quality(report)) => {
            let refusal = Refusal {
                quality: Some(report),
                reason: None,
            };
            render_item(
                &s,
                &session,
                &code,
                None,
                refusal,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(session.err(e)),
    }
}

/// `POST /admin/items/{code}/versions/{v}/discard`.
pub(crate) async fn discard(
    State(s): State<Shared>,
    session: StaffSession,
    Path((code, v)): Path<(String, String)>,
    AdminForm(f): AdminForm<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let code = item_code(&code, session.lang)?;
    let v = version_no("v", &v, session.lang)?;
    catalogue::discard(&s.platform, &session.staff, &code, v)
        .await
        .map_err(|e| session.err(e))?;
    Ok(item_done(&code, "discarded"))
}

/// `POST /admin/items/{code}/change`: opens a change version.
pub(crate) async fn start_change(
    State(s): State<Shared>,
    session: StaffSession,
    Path(code): Path<String>,
    AdminForm(f): AdminForm<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let code = item_code(&code, session.lang)?;
    catalogue::start_change(&s.platform, &session.staff, &code)
        .await
        .map_err(|e| session.err(e))?;
    Ok(item_done(&code, "change_started"))
}

async fn change_state(
    s: Shared,
    session: StaffSession,
    code: String,
    f: ReasonForm,
    action: StateAction,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let code = item_code(&code, session.lang)?;
    let (name, done) = match action {
        StateAction::Suspend => ("suspend", "suspended"),
        StateAction::Resume => ("resume", "resumed"),
        StateAction::Cancel => ("cancel", "cancelled"),
    };
    match catalogue::change_state(&s.platform, &session.staff, &code, action, &f.reason).await {
        Ok(()) => Ok(item_done(&code, done)),
        Err(ServiceError::Invalid(errs)) => {
            let lang = session.lang;
            let msg = errs
                .iter()
                .map(|e| lang.t(&e.message_zh, &e.message_en).to_string())
                .collect::<Vec<_>>()
                .join("；");
            let refusal = Refusal {
                quality: None,
                reason: Some((name, msg, f.reason.clone())),
            };
            render_item(&s, &session, &code, None, refusal, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(session.err(e)),
    }
}

/// `POST /admin/items/{code}/suspend`.
pub(crate) async fn suspend(
    State(s): State<Shared>,
    session: StaffSession,
    Path(code): Path<String>,
    AdminForm(f): AdminForm<ReasonForm>,
) -> Result<Response, PageError> {
    change_state(s, session, code, f, StateAction::Suspend).await
}

/// `POST /admin/items/{code}/resume`.
pub(crate) async fn resume(
    State(s): State<Shared>,
    session: StaffSession,
    Path(code): Path<String>,
    AdminForm(f): AdminForm<ReasonForm>,
) -> Result<Response, PageError> {
    change_state(s, session, code, f, StateAction::Resume).await
}

/// `POST /admin/items/{code}/cancel`.
pub(crate) async fn cancel(
    State(s): State<Shared>,
    session: StaffSession,
    Path(code): Path<String>,
    AdminForm(f): AdminForm<ReasonForm>,
) -> Result<Response, PageError> {
    change_state(s, session, code, f, StateAction::Cancel).await
}

// ---------------------------------------------------------------------------------------------
// One version, read-only

#[derive(Template)]
#[template(path = "admin/version.html")]
struct VersionPage {
    chrome: Chrome,
    rec: ItemRecord,
    v: VersionRow,
    gv: GuideView,
    can_edit: bool,
    /// The published version to compare with, when it is another one.
    compare_with: Option<i64>,
    review_link: bool,
}

/// `GET /admin/items/{code}/versions/{v}`: the guide of a version.
pub(crate) async fn version(
    State(s): State<Shared>,
    session: StaffSession,
    Path((code, v)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let code = item_code(&code, lang)?;
    let v = version_no("v", &v, lang)?;
    let p = &s.platform;
    let rec = catalogue::item(p, &session.staff, &code)
        .await
        .map_err(|e| session.err(e))?;
    let ver = catalogue::version(p, &session.staff, &code, v)
        .await
        .map_err(|e| session.err(e))?;
    let page = VersionPage {
        chrome: chrome(&session, format!("{} v{}", ver.guide.name, ver.version)),
        v: VersionRow::new(lang, &ver),
        can_edit: may_manage(&session, &rec.org) && ver.status.editable(),
        compare_with: rec.published_version.filter(|p| *p != v),
        review_link: session.staff.has(Role::ItemReviewer)
            && ver.status == VersionStatus::Submitted,
        gv: GuideView::new(lang, ver.guide, &p.master.get()),
        rec,
    };
    Ok(html(StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------
// Comparison

#[derive(Template)]
#[template(path = "admin/diff.html")]
struct DiffPage {
    chrome: Chrome,
    rec: ItemRecord,
    diff: DiffView,
    compare: Option<CompareForm>,
}

/// `?from=&to=` of the comparison.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct DiffQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// `GET /admin/items/{code}/diff?from=A&to=B`.
pub(crate) async fn diff(
    State(s): State<Shared>,
    session: StaffSession,
    Path(code): Path<String>,
    q: Result<Query<DiffQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let code = item_code(&code, lang)?;
    let q = super::query(q, lang)?;
    // Both numbers are checked, and both named when bad.
    let from = parse_version("from", q.from.as_deref().unwrap_or(""));
    let to = parse_version("to", q.to.as_deref().unwrap_or(""));
    let (from, to) = match (from, to) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            let errs = [a.err(), b.err()].into_iter().flatten().collect();
            return Err(session.err(ServiceError::Invalid(errs)));
        }
    };
    let p = &s.platform;
    let rec = catalogue::item(p, &session.staff, &code)
        .await
        .map_err(|e| session.err(e))?;
    let sections = catalogue::compare(p, &session.staff, &code, from, to)
        .await
        .map_err(|e| session.err(e))?;
    let versions = catalogue::versions(p, &session.staff, &code)
        .await
        .map_err(|e| session.err(e))?;
    let compare =
        CompareForm::new(&versions, rec.published_version, rec.latest_version).map(|mut c| {
            c.from = from;
            c.to = to;
            c
        });
    let page = DiffPage {
        chrome: chrome(&session, format!("{} v{from} → v{to}", rec.name)),
        diff: DiffView::new(lang, from, to, sections),
        compare,
        rec,
    };
    Ok(html(StatusCode::OK, &page))
}
