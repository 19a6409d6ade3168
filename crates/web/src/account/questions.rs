//! 我要问 for citizens: the question form (on every guide page, in the guide's `#ask` section,
//! and on its own page), 我的提问 with the answers, and withdrawing an unanswered question.
//!
//! The guide page is rendered once for everybody and cached, so its form carries the
//! placeholder [`super::CSRF_SLOT`] as its token; the portal's header middleware puts the
//! signed-in citizen's session token there (the page is then `no-store`). A visitor who is not
//! signed in and sends the form is sent to sign in, and then to this item's question page.
//!
//! | method | path | form fields | result |
//! |---|---|---|---|
//! | GET | `/account/questions` | `done` | 我的提问: every question with its state, deadline and answer |
//! | GET | `/account/questions/new` | `item` | the question form for an item (404 unknown item) |
//! | POST | `/account/questions` | `csrf`, `item`, `text` | 303 `/account/questions?done=asked`; 400 the form again with the problem; 409 item cancelled; 429 too many open questions; without a session 303 to sign in |
//! | POST | `/account/questions/{id}/withdraw` | `csrf`, `rev` | 303 `/account/questions?done=withdrawn`; 404 not the citizen's; 409 answered or changed meanwhile |

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_services::ServiceError;
use yiwang_services::questions::{self, Question, QuestionState};

use super::chrome;
use crate::Shared;
use crate::admin::{AdminForm, DoneQuery, field_messages, local_time, query, see_other};
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::{UserSession, urlencode};

/// A question's state in the page language.
pub(crate) fn state_label(lang: Lang, s: QuestionState) -> &'static str {
    lang.t(s.label_zh(), s.label_en())
}

/// The tag class of a question's state (overdue questions are `bad`).
pub(crate) fn state_class(q: &Question, now: chrono::DateTime<chrono::Utc>) -> &'static str {
    match q.state {
        QuestionState::Open if q.overdue(now) => "bad",
        QuestionState::Open => "warn",
        QuestionState::Answered => "ok",
        QuestionState::Closed => "",
    }
}

/// A timestamp in Beijing time.
pub(crate) fn at(t: chrono::DateTime<chrono::Utc>) -> String {
    local_time(&yiwang_store::fmt_time(t))
}

fn notice(lang: Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "asked" => lang.t(
            "提问已提交。部门将在5个工作日内答复，答复后会给您发送站内消息。",
            "Question sent. The department answers within 5 working days; you get a site message then.",
        ),
        "withdrawn" => lang.t("提问已撤回。", "Question withdrawn."),
        _ => return None,
    })
}

/// One question as the asker's list shows it.
struct Row {
    id: String,
    item_code: String,
    item_name: String,
    text: String,
    state: &'static str,
    class: &'static str,
    asked_at: String,
    due_at: String,
    answer: String,
    answered_at: String,
    closed: String,
    open: bool,
    rev: i64,
}

#[derive(Template)]
#[template(path = "account/questions.html")]
struct ListPage {
    chrome: Chrome,
    csrf: String,
    notice: Option<&'static str>,
    rows: Vec<Row>,
}

/// `GET /account/questions`.
pub(crate) async fn list(
    State(s): State<Shared>,
    session: UserSession,
    q: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let q = query(q, lang)?;
    let p = &s.platform;
    let now = p.now();
    let mine = questions::list_mine(p, &session.user)
        .await
        .map_err(|e| session.err(e))?;
    let rows = mine
        .iter()
        .map(|x| Row {
            id: x.id.clone(),
            item_code: x.item_code.clone(),
            item_name: x.item_name.clone(),
            text: x.text.clone(),
            state: if x.overdue(now) {
                lang.t("已超期，待答复", "overdue")
            } else {
                state_label(lang, x.state)
            },
            class: state_class(x, now),
            asked_at: at(x.asked_at),
            due_at: at(x.due_at),
            answer: x.answer.clone().unwrap_or_default(),
            answered_at: x.answered_at.map(at).unwrap_or_default(),
            closed: match (x.state, x.withdrawn) {
                (QuestionState::Closed, true) => {
                    lang.t("您已撤回该提问。", "You withdrew it.").into()
                }
                (QuestionState::Closed, false) => format!(
                    "{}{}",
                    lang.t("部门已关闭该提问，原因：", "Closed by the department: "),
                    x.close_reason
                ),
                _ => String::new(),
            },
            open: x.state == QuestionState::Open,
            rev: x.rev,
        })
        .collect();
    let page = ListPage {
        chrome: chrome(lang, lang.t("我的提问", "My questions")),
        csrf: session.csrf.clone(),
        notice: notice(lang, q.done.as_deref()),
        rows,
    };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "account/question_new.html")]
struct NewPage {
    chrome: Chrome,
    csrf: String,
    code: String,
    name: String,
    org: String,
    text: String,
    errors: Vec<(String, String)>,
    days: u32,
    min: usize,
    max: usize,
}

/// `?item=`.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ItemQuery {
    #[serde(default)]
    item: String,
}

async fn new_page(
    s: &Shared,
    session: &UserSession,
    item: &str,
    text: &str,
    errors: Vec<(String, String)>,
) -> Result<NewPage, PageError> {
    let lang = session.lang;
    let code = crate::portal::path_code(item.trim(), lang)?;
    let item = yiwang_services::catalogue::published(&s.platform, &code)
        .await
        .map_err(|e| session.err(e))?;
    Ok(NewPage {
        chrome: chrome(lang, lang.t("我要问", "Ask a question")),
        csrf: session.csrf.clone(),
        code,
        name: item.guide.name.clone(),
        org: item.summary.org_name.clone(),
        text: text.to_owned(),
        errors,
        days: questions::ANSWER_DAYS,
        min: questions::MIN_CHARS,
        max: questions::MAX_CHARS,
    })
}

/// `GET /account/questions/new?item=`.
pub(crate) async fn new_form(
    State(s): State<Shared>,
    session: UserSession,
    q: Result<Query<ItemQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q, session.lang)?;
    let page = new_page(&s, &session, &q.item, "", Vec::new()).await?;
    Ok(html(StatusCode::OK, &page))
}

/// The posted question.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct AskForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    text: String,
}

/// `POST /account/questions`. The form may come from a cached guide page, so a visitor
/// without a session is sent to sign in (and then to this item's question page) rather than
/// refused.
pub(crate) async fn ask(
    State(s): State<Shared>,
    parts: axum::http::request::Parts,
    AdminForm(f): AdminForm<AskForm>,
) -> Result<Response, PageError> {
    let lang = Lang::of(&parts);
    let session = UserSession::of(&s, &parts)
        .await
        .map_err(|e| PageError::new(e, lang))?;
    let Some(session) = session else {
        let code = crate::portal::path_code(f.item.trim(), lang)?;
        let next = format!("/account/questions/new?item={code}");
        return Ok(see_other(&format!(
            "/account/login?next={}",
            urlencode(&next)
        )));
    };
    session.check_csrf(&f.csrf)?;
    let errors = match questions::ask(&s.platform, &session.user, &f.item, &f.text).await {
        Ok(_) => return Ok(see_other("/account/questions?done=asked")),
        Err(ServiceError::Invalid(errs)) => (StatusCode::BAD_REQUEST, field_messages(lang, &errs)),
        Err(ServiceError::TooManyAttempts) => (
            StatusCode::TOO_MANY_REQUESTS,
            vec![(
                "text".to_owned(),
                lang.t(
                    "您的待答复提问或今天的提问已达上限（待答复最多10个，每天最多20个），请等部门答复后再提问。",
                    "You have too many questions waiting (10) or asked today (20): wait for the answers first.",
                )
                .to_owned(),
            )],
        ),
        Err(e) => return Err(session.err(e)),
    };
    let (status, errors) = errors;
    let page = new_page(&s, &session, &f.item, &f.text, errors).await?;
    Ok(html(status, &page))
}

/// The posted withdrawal.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct RevForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    rev: String,
}

/// `POST /account/questions/{id}/withdraw`.
pub(crate) async fn withdraw(
    State(s): State<Shared>,
    session: UserSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<RevForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let rev = f.rev.trim().parse::<i64>().unwrap_or(-1);
    questions::withdraw(&s.platform, &session.user, &id, rev)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other("/account/questions?done=withdrawn"))
}
