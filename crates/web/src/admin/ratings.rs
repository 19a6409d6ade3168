//! 好差评 for staff: the ratings and rectification orders (整改) within the session's reach —
//! the organisation's own for its staff, the region's for supervisors, everything for system
//! administrators — with the follow-up rate of the quarter; one rating with the answer form
//! and the appeal form for the organisation rated, and the decision form for supervisors; the
//! window's rating pad (评价器) for window clerks; the rectification deadline for system
//! administrators. Who may do what is decided by `supervision::ratings`; every POST carries
//! the session's CSRF token.
//!
//! | method | path | form fields | result |
//! |---|---|---|---|
//! | GET | `/admin/ratings` | `done` | orders (open first, late marked), recent ratings, follow-up rate, the pad and setting forms |
//! | GET | `/admin/ratings/{id}` | `done` | one rating with its order and forms; 404 out of reach |
//! | POST | `/admin/ratings/{id}/answer` | `csrf`, `action` (`return_visit`, `rectified`, `explained`), `outcome` | 303 `?done=answered`; 400 the page with the problems; 403 not the organisation rated; 409 answered |
//! | POST | `/admin/ratings/{id}/appeal` | `csrf`, `reason` | 303 `?done=appealed`; 400; 403; 409 appealed already or not a bad rating |
//! | POST | `/admin/ratings/{id}/decide` | `csrf`, `decision` (`uphold`, `reject`), `reason` | 303 `?done=decided`; 400; 403 not a supervisor; 409 nothing pending |
//! | POST | `/admin/ratings/window` | `csrf`, `case_no`, `identified` (`1`), `level`, `score_*`, `comment` | 303 `/admin/ratings?done=rated`; 400 the list page with the problems; 404 a case the clerk does not handle; 409 not finished or rated at the window already |
//! | POST | `/admin/ratings/settings` | `csrf`, `days` | 303 `?done=settings`; 400; 403 not a system administrator |

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_services::ServiceError;
use yiwang_services::identity::staff::Role;
use yiwang_services::supervision::ratings::{
    self, ACTIONS, FollowUp, Period, Rater, RatingQuery, RectificationQuery,
};
use yiwang_services::supervision::signals::Reach;

use super::{AdminForm, DoneQuery, chrome, field_messages, see_other};
use crate::Shared;
use crate::account::ratings::{RatingForm, RatingView, field, input_from, view};
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

fn notice(lang: Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "answered" => lang.t(
            "已答复，评价人会收到短信和站内消息。",
            "Answered; the rater gets an SMS and a site message.",
        ),
        "appealed" => lang.t(
            "申诉已提交，等待监察人员审核。",
            "Appeal sent to the supervisors.",
        ),
        "decided" => lang.t("申诉已审核。", "Appeal decided."),
        "rated" => lang.t("评价器评价已保存。", "Window rating saved."),
        "settings" => lang.t("整改时限已保存。", "Deadline saved."),
        _ => return None,
    })
}

/// The follow-up rate as the pages show it.
pub(crate) struct FollowView {
    /// (org name, bad, answered, rate, overdue, answered late).
    pub rows: Vec<(String, i64, i64, String, i64, i64)>,
    pub bad: i64,
    pub answered: i64,
    pub rate: String,
    pub overdue: i64,
    pub late: i64,
    pub from: String,
}

/// The page view of a follow-up count.
pub(crate) fn follow_view(f: &FollowUp) -> FollowView {
    FollowView {
        rows: f
            .rows
            .iter()
            .map(|r| {
                (
                    r.org_name.clone(),
                    r.bad,
                    r.answered,
                    format!("{:.1}%", r.rate()),
                    r.overdue,
                    r.answered_late,
                )
            })
            .collect(),
        bad: f.total.bad,
        answered: f.total.answered,
        rate: format!("{:.1}%", f.rate),
        overdue: f.total.overdue,
        late: f.total.answered_late,
        from: super::local_time(&f.from),
    }
}

#[derive(Template)]
#[template(path = "admin/ratings.html")]
struct ListPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    errors: Vec<(String, String)>,
    reach: String,
    orders: Vec<RatingView>,
    recent: Vec<RatingView>,
    follow: FollowView,
    clerk: bool,
    admin: bool,
    days: u32,
    case_no: String,
    rating_form: RatingForm,
}

async fn list_page(
    s: &Shared,
    session: &StaffSession,
    done: Option<&str>,
    errors: Vec<(String, String)>,
) -> Result<ListPage, PageError> {
    let lang = session.lang;
    let p = &s.platform;
    let actor = &session.staff;
    let orders = ratings::rectifications(p, actor, &RectificationQuery::default())
        .await
        .map_err(|e| session.err(e))?;
    let mut recent = ratings::list(p, actor, &RatingQuery::default())
        .await
        .map_err(|e| session.err(e))?;
    recent.truncate(100);
    let follow = ratings::follow_up(p, actor, Period::quarter_to_date(p))
        .await
        .map_err(|e| session.err(e))?;
    let days = ratings::rectification_days(p)
        .await
        .map_err(|e| session.err(e))?;
    let reach = match Reach::of(actor) {
        Reach::All => lang.t("全省", "the whole province").to_owned(),
        Reach::Region(prefix) => format!(
            "{}{prefix}",
            lang.t("区划代码以此开头：", "region codes starting ")
        ),
        Reach::Org(_) => actor.org_name.clone(),
    };
    Ok(ListPage {
        chrome: chrome(session, lang.t("好差评", "Ratings")),
        notice: notice(lang, done),
        rating_form: RatingForm::new(lang, "pad").marked(&errors),
        errors,
        reach,
        orders: orders.iter().map(|r| view(lang, r)).collect(),
        recent: recent.iter().map(|r| view(lang, r)).collect(),
        follow: follow_view(&follow),
        clerk: actor.has(Role::WindowClerk),
        admin: actor.has(Role::SystemAdmin),
        days,
        case_no: String::new(),
    })
}

/// `GET /admin/ratings`.
pub(crate) async fn list(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let page = list_page(&s, &session, q.done.as_deref(), Vec::new()).await?;
    Ok(html(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "admin/rating.html")]
struct RatingPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    errors: Vec<(String, String)>,
    r: RatingView,
    /// (key, label) of the answers.
    actions: Vec<(&'static str, &'static str)>,
    may_answer: bool,
    may_appeal: bool,
    may_decide: bool,
    /// What a failed form sent.
    action: String,
    outcome: String,
    reason: String,
}

async fn rating_page(
    s: &Shared,
    session: &StaffSession,
    id: &str,
    done: Option<&str>,
    errors: Vec<(String, String)>,
    sent: &[(String, String)],
) -> Result<RatingPage, PageError> {
    let lang = session.lang;
    let actor = &session.staff;
    let r = ratings::get(&s.platform, actor, id)
        .await
        .map_err(|e| session.err(e))?;
    let own = actor.org == r.org;
    let order = r.rectification.as_ref();
    let may_answer = own && order.is_some_and(|o| o.status == "open");
    let may_appeal =
        own && order.is_some_and(|o| o.appeal_status.is_none() && o.status != "closed");
    let may_decide = (actor.has(Role::Supervisor) || actor.has(Role::SystemAdmin))
        && order.is_some_and(|o| o.appeal_status.as_deref() == Some("pending"));
    Ok(RatingPage {
        chrome: chrome(
            session,
            format!("{} · {}", lang.t("好差评", "Rating"), r.item_name),
        ),
        notice: notice(lang, done),
        errors,
        r: view(lang, &r),
        actions: ACTIONS
            .iter()
            .map(|(k, zh, en)| (*k, lang.t(zh, en)))
            .collect(),
        may_answer,
        may_appeal,
        may_decide,
        action: field(sent, "action").to_owned(),
        outcome: field(sent, "outcome").to_owned(),
        reason: field(sent, "reason").to_owned(),
    })
}

/// `GET /admin/ratings/{id}`.
pub(crate) async fn page(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    q: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let page = rating_page(&s, &session, &id, q.done.as_deref(), Vec::new(), &[]).await?;
    Ok(html(StatusCode::OK, &page))
}

/// `POST /admin/ratings/{id}/{action}` (answer, appeal, decide).
pub(crate) async fn act(
    State(s): State<Shared>,
    session: StaffSession,
    Path((id, action)): Path<(String, String)>,
    AdminForm(f): AdminForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    session.check_csrf(field(&f, "csrf"))?;
    let p = &s.platform;
    let actor = &session.staff;
    let (r, done) = match action.as_str() {
        "answer" => {
            // The order of the rating (a rating without one has nothing to answer).
            let r = ratings::get(p, actor, &id)
                .await
                .map_err(|e| session.err(e))?;
            let Some(order) = r.rectification else {
                return Err(session.err(ServiceError::Conflict(
                    "该评价没有整改单 / the rating has no rectification order".into(),
                )));
            };
            (
                ratings::answer(
                    p,
                    actor,
                    &order.id,
                    field(&f, "action"),
                    field(&f, "outcome"),
                )
                .await
                .map(|_| ()),
                "answered",
            )
        }
        "appeal" => (
            ratings::appeal(p, actor, &id, field(&f, "reason"))
                .await
                .map(|_| ()),
            "appealed",
        ),
        "decide" => {
            let uphold = match field(&f, "decision") {
                "uphold" => Some(true),
                "reject" => Some(false),
                _ => None,
            };
            (
                match uphold {
                    Some(uphold) => {
                        ratings::decide_appeal(p, actor, &id, uphold, field(&f, "reason"))
                            .await
                            .map(|_| ())
                    }
                    None => Err(ServiceError::invalid(
                        "decision",
                        "请选择申诉成立或不成立",
                        "choose uphold or reject",
                    )),
                },
                "decided",
            )
        }
        _ => {
            return Err(session.err(ServiceError::NotFound {
                what: "操作",
                key: action,
            }));
        }
    };
    match r {
        Ok(()) => Ok(see_other(&format!("/admin/ratings/{id}?done={done}"))),
        Err(ServiceError::Invalid(errs)) => {
            let errors = field_messages(session.lang, &errs);
            let page = rating_page(&s, &session, &id, None, errors, &f).await?;
            Ok(html(StatusCode::BAD_REQUEST, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

/// `POST /admin/ratings/window`: the rating pad at the window.
pub(crate) async fn window(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(f): AdminForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    session.check_csrf(field(&f, "csrf"))?;
    let input = input_from(&f);
    let case_no = field(&f, "case_no").trim().to_owned();
    let r = if case_no.is_empty() {
        Err(ServiceError::invalid(
            "case_no",
            "请填写办件编号",
            "give the case number",
        ))
    } else {
        ratings::rate(
            &s.platform,
            Rater::Window {
                clerk: &session.staff,
                identified: field(&f, "identified") == "1",
            },
            &case_no,
            &input,
        )
        .await
    };
    match r {
        // The clerk's own organisation (the service hall) is usually not the one rated, so
        // the rating itself may be out of the clerk's reach: back to the list.
        Ok(_) => Ok(see_other("/admin/ratings?done=rated")),
        Err(ServiceError::Invalid(errs)) => {
            let errors = field_messages(session.lang, &errs);
            let mut page = list_page(&s, &session, None, errors).await?;
            page.rating_form = page.rating_form.with(&input);
            page.case_no = case_no;
            Ok(html(StatusCode::BAD_REQUEST, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

/// `POST /admin/ratings/settings`.
pub(crate) async fn settings(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(f): AdminForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    session.check_csrf(field(&f, "csrf"))?;
    let days = field(&f, "days").trim().parse::<u32>().unwrap_or(0);
    match ratings::set_rectification_days(&s.platform, &session.staff, days).await {
        Ok(_) => Ok(see_other("/admin/ratings?done=settings")),
        Err(ServiceError::Invalid(errs)) => {
            let errors = field_messages(session.lang, &errs);
            let page = list_page(&s, &session, None, errors).await?;
            Ok(html(StatusCode::BAD_REQUEST, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}
