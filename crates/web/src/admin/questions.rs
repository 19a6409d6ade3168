//! 我要问 for the department: the queue of citizens' questions about the items of the
//! organisation the session acts in (open ones first by deadline, overdue marked), one question
//! with the answer and close forms, and publishing the answer on the guide as 常见问题 with the
//! wording edited to remove personal details. Who may do what is decided by the services
//! (`identity::authz::question_access`); every POST carries the session's CSRF token and the
//! question's `rev` as shown.
//!
//! | method | path | form fields | result |
//! |---|---|---|---|
//! | GET | `/admin/questions` | `state` (`open`, `answered`, `closed`, `all`), `done` | the queue (事项管理员, 审批人员; else 403) |
//! | GET | `/admin/questions/{id}` | `done` | the question and its forms; 404 another organisation's |
//! | POST | `/admin/questions/{id}/answer` | `csrf`, `rev`, `answer` | 303 `?done=answered`; 400 the page again with the problem; 409 answered meanwhile or stale `rev` |
//! | POST | `/admin/questions/{id}/close` | `csrf`, `rev`, `reason` | 303 `?done=closed`; 400; 409 |
//! | POST | `/admin/questions/{id}/publish` | `csrf`, `rev`, `faq_question`, `faq_answer` | 303 `?done=published`; 400 (also for ID or mobile numbers left in); 403 not an item manager; 409 not answered or stale |
//! | POST | `/admin/questions/{id}/unpublish` | `csrf`, `rev` | 303 `?done=unpublished`; 403; 409 not published or stale |

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_services::ServiceError;
use yiwang_services::identity::authz;
use yiwang_services::questions::{self, Question, QuestionState, QueueFilter};

use super::{AdminForm, DoneQuery, chrome, field_messages, see_other};
use crate::Shared;
use crate::account::questions::{at, state_class, state_label};
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

fn notice(lang: Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "answered" => lang.t(
            "已答复，提问人会收到站内消息。",
            "Answered; the asker gets a site message.",
        ),
        "closed" => lang.t("提问已关闭。", "Question closed."),
        "published" => lang.t(
            "已发布到办事指南的常见问题。",
            "Published in the guide's FAQ.",
        ),
        "unpublished" => lang.t("已从常见问题中撤下。", "Taken off the FAQ."),
        _ => return None,
    })
}

/// The first characters of a text, for a list.
fn excerpt(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

/// One question as the queue shows it.
struct Row {
    id: String,
    item_name: String,
    excerpt: String,
    asker: String,
    asked_at: String,
    due_at: String,
    overdue: bool,
    state: &'static str,
    class: &'static str,
    published: bool,
}

#[derive(Template)]
#[template(path = "admin/questions.html")]
struct QueuePage {
    chrome: Chrome,
    filter: &'static str,
    filters: Vec<(&'static str, &'static str)>,
    rows: Vec<Row>,
    overdue: usize,
}

/// `?state=&done=`.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct QueueQuery {
    #[serde(default)]
    state: String,
}

/// `GET /admin/questions`.
pub(crate) async fn queue(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let q = super::query(q, lang)?;
    let filter = QueueFilter::parse(q.state.trim());
    let p = &s.platform;
    let list = questions::queue(p, &session.staff, filter)
        .await
        .map_err(|e| session.err(e))?;
    let now = p.now();
    let rows: Vec<Row> = list
        .iter()
        .map(|x| Row {
            id: x.id.clone(),
            item_name: x.item_name.clone(),
            excerpt: excerpt(&x.text, 40),
            asker: x.asker_name_masked.clone(),
            asked_at: at(x.asked_at),
            due_at: at(x.due_at),
            overdue: x.overdue(now),
            state: state_label(lang, x.state),
            class: state_class(x, now),
            published: x.published,
        })
        .collect();
    let page = QueuePage {
        chrome: chrome(&session, lang.t("我要问", "Questions")),
        filter: filter.as_str(),
        filters: vec![
            ("open", lang.t("待答复", "Waiting")),
            ("answered", lang.t("已答复", "Answered")),
            ("closed", lang.t("已关闭", "Closed")),
            ("all", lang.t("全部", "All")),
        ],
        overdue: rows.iter().filter(|r| r.overdue).count(),
        rows,
    };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "admin/question.html")]
struct QuestionPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    errors: Vec<(String, String)>,
    q: Question,
    state: &'static str,
    class: &'static str,
    overdue: bool,
    asked_at: String,
    due_at: String,
    answered_at: String,
    published_at: String,
    may_publish: bool,
    /// What the forms show: the last attempt, else the stored texts.
    answer: String,
    reason: String,
    faq_question: String,
    faq_answer: String,
}

/// What a failed form sent, to show again.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    rev: String,
    #[serde(default)]
    answer: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    faq_question: Option<String>,
    #[serde(default)]
    faq_answer: Option<String>,
}

async fn question_page(
    s: &Shared,
    session: &StaffSession,
    id: &str,
    done: Option<&str>,
    errors: Vec<(String, String)>,
    sent: &ActForm,
) -> Result<QuestionPage, PageError> {
    let lang = session.lang;
    let p = &s.platform;
    let q = questions::for_staff(p, &session.staff, id)
        .await
        .map_err(|e| session.err(e))?;
    let now = p.now();
    let (fq, fa) = if q.faq_question.is_empty() {
        (q.text.clone(), q.answer.clone().unwrap_or_default())
    } else {
        (q.faq_question.clone(), q.faq_answer.clone())
    };
    Ok(QuestionPage {
        chrome: chrome(
            session,
            format!("{} · {}", lang.t("我要问", "Question"), q.item_name),
        ),
        notice: notice(lang, done),
        errors,
        state: state_label(lang, q.state),
        class: state_class(&q, now),
        overdue: q.overdue(now),
        asked_at: at(q.asked_at),
        due_at: at(q.due_at),
        answered_at: q.answered_at.map(at).unwrap_or_default(),
        published_at: q.published_at.map(at).unwrap_or_default(),
        may_publish: authz::may_publish_faq(&session.staff, &q.org),
        answer: sent.answer.clone().unwrap_or_default(),
        reason: sent.reason.clone().unwrap_or_default(),
        faq_question: sent.faq_question.clone().unwrap_or(fq),
        faq_answer: sent.faq_answer.clone().unwrap_or(fa),
        q,
    })
}

/// `GET /admin/questions/{id}`.
pub(crate) async fn page(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    q: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let page = question_page(
        &s,
        &session,
        &id,
        q.done.as_deref(),
        Vec::new(),
        &ActForm::default(),
    )
    .await?;
    Ok(html(StatusCode::OK, &page))
}

/// `POST /admin/questions/{id}/{action}` (answer, close, publish, unpublish).
pub(crate) async fn act(
    State(s): State<Shared>,
    session: StaffSession,
    Path((id, action)): Path<(String, String)>,
    AdminForm(f): AdminForm<ActForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let p = &s.platform;
    let actor = &session.staff;
    // A missing or malformed revision is a stale page: the service answers 409.
    let rev = f.rev.trim().parse::<i64>().unwrap_or(-1);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let (r, done) = match action.as_str() {
        "answer" => (
            questions::answer(p, actor, &id, rev, &text(&f.answer)).await,
            "answered",
        ),
        "close" => (
            questions::close(p, actor, &id, rev, &text(&f.reason)).await,
            "closed",
        ),
        "publish" => (
            questions::publish(
                p,
                actor,
                &id,
                rev,
                &text(&f.faq_question),
                &text(&f.faq_answer),
            )
            .await,
            "published",
        ),
        "unpublish" => (
            questions::unpublish(p, actor, &id, rev).await,
            "unpublished",
        ),
        _ => {
            return Err(session.err(ServiceError::NotFound {
                what: "操作",
                key: action,
            }));
        }
    };
    match r {
        Ok(_) => Ok(see_other(&format!("/admin/questions/{id}?done={done}"))),
        Err(ServiceError::Invalid(errs)) => {
            let errors = field_messages(session.lang, &errs);
            let page = question_page(&s, &session, &id, None, errors, &f).await?;
            Ok(html(StatusCode::BAD_REQUEST, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

impl QuestionPage {
    fn is_open(&self) -> bool {
        self.q.state == QuestionState::Open
    }

    fn is_closed(&self) -> bool {
        self.q.state == QuestionState::Closed
    }

    fn is_answered(&self) -> bool {
        self.q.state == QuestionState::Answered
    }

    fn error(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join("；")
    }
}
