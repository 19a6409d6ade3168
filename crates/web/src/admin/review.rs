//! Review (审核) of submitted versions by the reviewers of the item's region: the queue, and for
//! one version its guide, every quality check, what it changes against the published version,
//! and the decision — 审核通过 (with an optional comment) or 退回 (with a required reason).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_domain::item::VersionStatus;
use yiwang_services::ServiceError;
use yiwang_services::catalogue::{self, ItemRecord};

use super::items::VersionRow;
use super::views::{DiffView, GuideView, QualityView};
use super::{
    AdminForm, DoneQuery, ReasonForm, chrome, done_notice, item_code, local_time_opt, see_other,
    version_no,
};
use crate::Shared;
use crate::error::PageError;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

/// One submitted version in the queue.
struct QueueRow {
    code: String,
    name: String,
    org: String,
    version: i64,
    kind: &'static str,
    author: String,
    submitted: String,
}

#[derive(Template)]
#[template(path = "admin/review_queue.html")]
struct QueuePage {
    chrome: Chrome,
    notice: Option<&'static str>,
    rows: Vec<QueueRow>,
}

/// `GET /admin/review`: versions waiting for the reviewer, oldest submission first.
pub(crate) async fn queue(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<DoneQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let q = super::query(q, lang)?;
    let p = &s.platform;
    let items = catalogue::review_queue(p, &session.staff)
        .await
        .map_err(|e| session.err(e))?;
    let mut rows = Vec::with_capacity(items.len());
    for it in items {
        // The queue lists items; the version says when and by whom it was submitted.
        let v = catalogue::version(p, &session.staff, &it.code, it.latest_version)
            .await
            .map_err(|e| session.err(e))?;
        rows.push(QueueRow {
            kind: super::kind_label(lang, v.change_kind),
            author: v.created_by,
            submitted: local_time_opt(v.submitted_at.as_deref()),
            version: it.latest_version,
            name: it.name,
            org: it.org_name,
            code: it.code,
        });
    }
    let page = QueuePage {
        chrome: chrome(&session, lang.t("事项审核", "Review")),
        notice: done_notice(lang, q.done.as_deref()),
        rows,
    };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "admin/review.html")]
struct ReviewPage {
    chrome: Chrome,
    rec: ItemRecord,
    v: VersionRow,
    gv: GuideView,
    quality: QualityView,
    /// The comparison with the published version, when there is one to compare with.
    diff: Option<DiffView>,
    /// Whether the version is waiting for review (else no decision forms).
    pending: bool,
    comment: String,
    reason: String,
    reason_error: Option<String>,
}

async fn render(
    s: &Shared,
    session: &StaffSession,
    code: &str,
    version: i64,
    form: (String, String, Option<String>),
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let p = &s.platform;
    let staff = &session.staff;
    let err = |e| session.err(e);
    let rec = catalogue::item(p, staff, code).await.map_err(err)?;
    let ver = catalogue::version(p, staff, code, version)
        .await
        .map_err(err)?;
    let report = catalogue::quality_of(p, staff, code, version)
        .await
        .map_err(err)?;
    let diff = match rec.published_version.filter(|pv| *pv != version) {
        Some(pv) => Some(DiffView::new(
            lang,
            pv,
            version,
            catalogue::compare(p, staff, code, pv, version)
                .await
                .map_err(err)?,
        )),
        None => None,
    };
    let (comment, reason, reason_error) = form;
    let page = ReviewPage {
        chrome: chrome(
            session,
            format!(
                "{}{} v{}",
                lang.t("审核：", "Review: "),
                ver.guide.name,
                version
            ),
        ),
        v: VersionRow::new(lang, &ver),
        pending: ver.status == VersionStatus::Submitted,
        gv: GuideView::new(lang, ver.guide, &p.master.get()),
        quality: QualityView::new(lang, &report),
        diff,
        comment,
        reason,
        reason_error,
        rec,
    };
    Ok(html(status, &page))
}

/// `GET /admin/review/{code}/{v}`.
pub(crate) async fn page(
    State(s): State<Shared>,
    session: StaffSession,
    Path((code, v)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let code = item_code(&code, session.lang)?;
    let v = version_no("v", &v, session.lang)?;
    render(
        &s,
        &session,
        &code,
        v,
        (String::new(), String::new(), None),
        StatusCode::OK,
    )
    .await
}

/// The approval form.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ApproveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    comment: String,
}

/// `POST /admin/review/{code}/{v}/approve`: publishes the version.
pub(crate) async fn approve(
    State(s): State<Shared>,
    session: StaffSession,
    Path((code, v)): Path<(String, String)>,
    AdminForm(f): AdminForm<ApproveForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let code = item_code(&code, session.lang)?;
    let v = version_no("v", &v, session.lang)?;
    let comment = Some(f.comment.trim()).filter(|c| !c.is_empty());
    catalogue::approve(&s.platform, &session.staff, &code, v, comment)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other("/admin/review?done=approved"))
}

/// `POST /admin/review/{code}/{v}/return`: returns the version with a reason; without one the
/// page is shown again with the reason marked (400).
pub(crate) async fn send_back(
    State(s): State<Shared>,
    session: StaffSession,
    Path((code, v)): Path<(String, String)>,
    AdminForm(f): AdminForm<ReasonForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let lang = session.lang;
    let code = item_code(&code, lang)?;
    let v = version_no("v", &v, lang)?;
    match catalogue::send_back(&s.platform, &session.staff, &code, v, &f.reason).await {
        Ok(()) => Ok(see_other("/admin/review?done=returned")),
        Err(ServiceError::Invalid(errs)) => {
            let msg = errs
                .iter()
                .map(|e| lang.t(&e.message_zh, &e.message_en).to_string())
                .collect::<Vec<_>>()
                .join("；");
            render(
                &s,
                &session,
                &code,
                v,
                (String::new(), f.reason, Some(msg)),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(session.err(e)),
    }
}
