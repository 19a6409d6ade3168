//! 我的办件 and 网上申报: the signed-in citizen starts an application from an item's guide,
//! fills the item's form, uploads each material (checked by content), saves and resumes, and
//! submits (once: a retried submission finds the same case); follows every case with its
//! process records, answers a correction notice and resubmits, withdraws before acceptance and
//! downloads files. 办件查询 (`/cases/query`) needs no account: the case number and the last
//! digits of the applicant's ID number show the status, nothing personal, rate-limited.
//!
//! | method | path | form fields | result |
//! |---|---|---|---|
//! | GET | `/account/cases` | `done` | 我的办件 and the site messages |
//! | GET | `/account/cases/new` | `item` | what is about to be applied for, and 开始申请 |
//! | POST | `/account/cases/new` | `csrf`, `item` | 303 to the new draft; 403 level too low; 409 not online |
//! | GET | `/account/cases/{id}` | `done` | the case: form, materials, records, actions |
//! | POST | `/account/cases/{id}/save` | `csrf`, the form's fields | 303 `?done=saved`; 400 with every bad field |
//! | POST | `/account/cases/{id}/upload` | multipart `csrf`, `slot`, `file` | 303 `?done=uploaded`; 400 wrong type; 413 too large |
//! | POST | `/account/cases/{id}/files/{file}/delete` | `csrf` | 303 `?done=removed` |
//! | POST | `/account/cases/{id}/submit` | `csrf`, `rev`, `key` | 303 `?done=submitted`; 400 with everything missing |
//! | POST | `/account/cases/{id}/resubmit` | `csrf`, `rev` | 303 `?done=resubmitted` |
//! | POST | `/account/cases/{id}/withdraw` | `csrf`, `reason` | 303 `?done=withdrawn` |
//! | POST | `/account/cases/{id}/reuse` | `csrf`, `slot`, `file` | 303 `?done=uploaded`: a file of 我的材料 handed in again |
//! | POST | `/account/cases/{id}/delivery` | `csrf`, `method` (`window`/`post`), `address` | 303 `?done=delivery`; 400 without a full address |
//! | POST | `/account/cases/{id}/rate` | `csrf`, `level`, `score_guide`, `score_process`, `score_timeliness`, `score_attitude`, `score_result`, `comment` | 好差评 of a finished case (channel `web`): 303 `?done=rated`; 400 with every bad field; 409 not finished or rated already |
//! | POST | `/account/cases/{id}/fix` | `csrf`, `order`, `fix_level`, `fix_comment` | the rating of a rectification's outcome: 303 `?done=fix_rated`; 400; 409 not answered or rated already |
//! | GET | `/account/cases/{id}/files/{file}` | | the file (SM3 checked) |
//! | GET | `/cases/query` | `case_no`, `id_tail` | 办件查询 form and result; 429 when asked too often |

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_services::ServiceError;
use yiwang_services::cases::{self, apply};

use super::chrome;
use crate::Shared;
use crate::admin::cases::{
    CaseView, field, form_pairs, read_material, state_label, upload_problem, view,
};
use crate::admin::{AdminForm, DoneQuery, client_ip, field_messages, query, see_other};
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::UserSession;

fn notice(lang: Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "started" => lang.t(
            "已创建申请草稿：请填写申请表、上传材料，然后提交。草稿会自动保留。",
            "Draft created: fill in the form, add the materials, then submit. The draft is kept.",
        ),
        "saved" => lang.t("申请表已保存。", "Form saved."),
        "uploaded" => lang.t("材料已上传。", "Material added."),
        "removed" => lang.t("文件已删除。", "File removed."),
        "submitted" => lang.t(
            "申请已提交，请等待窗口受理。办件编号见下方。",
            "Submitted: the window will decide on it. Your case number is below.",
        ),
        "resubmitted" => lang.t("补正材料已提交。", "Corrections handed in."),
        "withdrawn" => lang.t("申请已撤回。", "Application withdrawn."),
        "delivery" => lang.t("送达方式已保存。", "Delivery choice saved."),
        "rated" => lang.t(
            "感谢您的评价！如您不满意，办理单位将在规定时限内回访并告知处理结果。",
            "Thank you for rating! If you were dissatisfied, the office will follow up and tell you the outcome.",
        ),
        "fix_rated" => lang.t("已评价整改结果。", "Outcome rated."),
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "account/cases.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<(String, String, String, &'static str, String)>,
    messages: Vec<(String, String, String)>,
}

/// `GET /account/cases`.
pub(crate) async fn list(
    State(s): State<Shared>,
    session: UserSession,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let mine = apply::list_mine(&s.platform, &session.user)
        .await
        .map_err(|e| session.err(e))?;
    let messages = cases::messages(&s.platform, &session.user, 20)
        .await
        .map_err(|e| session.err(e))?;
    let page = ListPage {
        chrome: chrome(lang, lang.t("我的办件", "My cases")),
        rows: mine
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.case_no
                        .clone()
                        .unwrap_or_else(|| lang.t("（草稿）", "(draft)").into()),
                    c.item_name.clone(),
                    state_label(lang, c.state),
                    crate::admin::local_time(&yiwang_store::fmt_time(
                        c.submitted_at.unwrap_or(c.created_at),
                    )),
                )
            })
            .collect(),
        messages: messages
            .into_iter()
            .map(|m| (m.title, m.body, crate::admin::local_time(&m.created_at)))
            .collect(),
    };
    Ok(html(StatusCode::OK, &page))
}

/// `?item=`.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ItemQuery {
    #[serde(default)]
    item: String,
}

#[derive(Template)]
#[template(path = "account/case_new.html")]
struct NewPage {
    chrome: Chrome,
    csrf: String,
    code: String,
    name: String,
    org: String,
    /// Whether the item serves persons (一个人办事).
    for_persons: bool,
    /// The enterprises the citizen may act for, when the item serves legal persons:
    /// (credit code, name).
    enterprises: Vec<(String, String)>,
}

/// `GET /account/cases/new?item=`.
pub(crate) async fn new_form(
    State(s): State<Shared>,
    session: UserSession,
    q: Result<Query<ItemQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let q = query(q, lang)?;
    let item = yiwang_services::catalogue::published(&s.platform, q.item.trim())
        .await
        .map_err(|e| session.err(e))?;
    let objects = &item.guide.service_objects;
    let enterprises = if objects.iter().any(|o| !o.is_person()) {
        yiwang_services::identity::enterprises::acting_for(&s.platform, &session.user.id)
            .await
            .map_err(|e| session.err(e))?
            .into_iter()
            .map(|e| (e.credit_code, e.name))
            .collect()
    } else {
        Vec::new()
    };
    let page = NewPage {
        chrome: chrome(lang, lang.t("在线办理", "Apply online")),
        csrf: session.csrf.clone(),
        code: item.summary.code.clone(),
        name: item.guide.name.clone(),
        org: item.summary.org_name.clone(),
        for_persons: objects.iter().any(|o| o.is_person()),
        enterprises,
    };
    Ok(html(StatusCode::OK, &page))
}

/// The posted start form.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct StartForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    item: String,
    /// `self`, or the credit code of the enterprise applied for.
    #[serde(default)]
    applicant: String,
}

/// `POST /account/cases/new`.
pub(crate) async fn start(
    State(s): State<Shared>,
    session: UserSession,
    AdminForm(f): AdminForm<StartForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let as_ = apply::ApplyAs::from_field(&f.applicant);
    let c = apply::start_draft_as(&s.platform, &session.user, f.item.trim(), as_)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other(&format!("/account/cases/{}?done=started", c.id)))
}

#[derive(Template)]
#[template(path = "account/case.html")]
struct CasePage {
    chrome: Chrome,
    csrf: String,
    notice: Option<&'static str>,
    errors: Vec<(String, String)>,
    c: CaseView,
    submit_key: String,
    /// 我的材料 offered for reuse: (file id, label).
    my_files: Vec<(String, String)>,
    /// 好差评 of the case.
    rating: super::ratings::CaseRatingView,
    /// The rating form.
    rating_form: super::ratings::RatingForm,
}

async fn case_page(
    s: &Shared,
    session: &UserSession,
    id: &str,
    done: Option<&str>,
    errors: Vec<(String, String)>,
) -> Result<CasePage, PageError> {
    let lang = session.lang;
    let c = apply::mine(&s.platform, &session.user, id)
        .await
        .map_err(|e| session.err(e))?;
    let v = view(
        &s.platform,
        lang,
        &c,
        &errors,
        &format!("/account/cases/{id}/files"),
    )
    .await
    .map_err(|e| session.err(e))?;
    let my_files = if matches!(v.state, "draft" | "correction") {
        apply::my_files(&s.platform, &session.user)
            .await
            .map_err(|e| session.err(e))?
            .into_iter()
            .filter(|f| {
                !v.materials
                    .iter()
                    .any(|m| m.files.iter().any(|x| x.file_id == f.file_id))
            })
            .map(|f| {
                let label = format!(
                    "{} — {}{}",
                    f.name,
                    f.material,
                    f.case_no.map(|n| format!("（{n}）")).unwrap_or_default()
                );
                (f.file_id, label)
            })
            .collect()
    } else {
        Vec::new()
    };
    let rating = super::ratings::case_rating_view(&s.platform, lang, &session.user, id)
        .await
        .map_err(|e| session.err(e))?;
    Ok(CasePage {
        rating,
        rating_form: super::ratings::RatingForm::new(lang, "rate").marked(&errors),
        my_files,
        chrome: Chrome::new(
            lang,
            format!("{} · {}", lang.t("我的办件", "My case"), v.item_name),
        ),
        csrf: session.csrf.clone(),
        notice: notice(lang, done),
        errors,
        c: v,
        submit_key: yiwang_services::identity::staff::random_token(),
    })
}

/// `GET /account/cases/{id}`.
pub(crate) async fn page(
    State(s): State<Shared>,
    session: UserSession,
    Path(id): Path<String>,
    q: Result<Query<DoneQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q, session.lang)?;
    let page = case_page(&s, &session, &id, q.done.as_deref(), Vec::new()).await?;
    Ok(html(StatusCode::OK, &page))
}

/// `POST /account/cases/{id}/{action}` (save, submit, resubmit, withdraw).
pub(crate) async fn act(
    State(s): State<Shared>,
    session: UserSession,
    Path((id, action)): Path<(String, String)>,
    AdminForm(f): AdminForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    session.check_csrf(field(&f, "csrf"))?;
    let p = &s.platform;
    let u = &session.user;
    let rev = field(&f, "rev").parse::<i64>().ok();
    let (r, done) = match action.as_str() {
        "save" => {
            let c = apply::mine(p, u, &id).await.map_err(|e| session.err(e))?;
            let r = match apply::values_from_pairs(p, &c.item_code, &form_pairs(&f)).await {
                Ok(values) => apply::save_form(p, u, &id, &values).await.map(|_| ()),
                Err(e) => Err(e),
            };
            (r, "saved")
        }
        "submit" => (
            apply::submit(p, u, &id, field(&f, "key"), rev)
                .await
                .map(|_| ()),
            "submitted",
        ),
        "resubmit" => (
            apply::resubmit(p, u, &id, rev).await.map(|_| ()),
            "resubmitted",
        ),
        "withdraw" => (
            apply::withdraw(p, u, &id, field(&f, "reason"))
                .await
                .map(|_| ()),
            "withdrawn",
        ),
        "rate" => (
            yiwang_services::supervision::ratings::rate(
                p,
                yiwang_services::supervision::ratings::Rater::Citizen {
                    user: u,
                    channel: "web",
                },
                &id,
                &super::ratings::input_from(&f),
            )
            .await
            .map(|_| ()),
            "rated",
        ),
        "fix" => {
            let level = field(&f, "fix_level");
            (
                yiwang_services::supervision::ratings::rate_fix(
                    p,
                    u,
                    field(&f, "order"),
                    (!level.trim().is_empty()).then(|| level.trim().parse::<i64>().unwrap_or(0)),
                    field(&f, "fix_comment"),
                )
                .await
                .map(|_| ()),
                "fix_rated",
            )
        }
        "reuse" => (
            match field(&f, "slot").parse::<usize>() {
                Ok(slot) => apply::reuse(p, u, &id, slot, field(&f, "file"))
                    .await
                    .map(|_| ()),
                Err(_) => Err(ServiceError::invalid(
                    "slot",
                    "请选择材料",
                    "choose the material",
                )),
            },
            "uploaded",
        ),
        _ => {
            return Err(session.err(ServiceError::NotFound {
                what: "操作",
                key: action,
            }));
        }
    };
    match r {
        Ok(()) => Ok(see_other(&format!("/account/cases/{id}?done={done}"))),
        Err(ServiceError::Invalid(errs)) => {
            let mut page =
                case_page(&s, &session, &id, None, field_messages(session.lang, &errs)).await?;
            if action == "rate" {
                page.rating_form = super::ratings::RatingForm::new(session.lang, "rate")
                    .with(&super::ratings::input_from(&f))
                    .marked(&page.errors);
            }
            Ok(html(StatusCode::BAD_REQUEST, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

/// `POST /account/cases/{id}/upload`.
pub(crate) async fn upload(
    State(s): State<Shared>,
    session: UserSession,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    let m = read_material(multipart).await.map_err(|e| session.err(e))?;
    session.check_csrf(&m.csrf)?;
    let err = match upload_problem(&m) {
        Some((status, e)) => Some((status, vec![e])),
        None => match apply::attach(
            &s.platform,
            &session.user,
            &id,
            m.slot.unwrap_or(0),
            &m.name,
            &m.bytes,
        )
        .await
        {
            Ok(_) => None,
            Err(ServiceError::Invalid(e)) => Some((StatusCode::BAD_REQUEST, e)),
            Err(e) => return Err(session.err(e)),
        },
    };
    match err {
        None => Ok(see_other(&format!("/account/cases/{id}?done=uploaded"))),
        Some((status, errs)) => {
            let page =
                case_page(&s, &session, &id, None, field_messages(session.lang, &errs)).await?;
            Ok(html(status, &page))
        }
    }
}

/// `POST /account/cases/{id}/files/{file}/delete`.
pub(crate) async fn remove(
    State(s): State<Shared>,
    session: UserSession,
    Path((id, file)): Path<(String, String)>,
    AdminForm(f): AdminForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    session.check_csrf(field(&f, "csrf"))?;
    apply::detach(&s.platform, &session.user, &id, &file)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other(&format!("/account/cases/{id}?done=removed")))
}

/// `GET /account/cases/{id}/files/{file}`.
pub(crate) async fn file(
    State(s): State<Shared>,
    session: UserSession,
    Path((id, file_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    apply::mine(&s.platform, &session.user, &id)
        .await
        .map_err(|e| session.err(e))?;
    let (name, kind, bytes) = apply::file(&s.platform, &id, &file_id)
        .await
        .map_err(|e| session.err(e))?;
    Ok(crate::admin::cases::file_response(&name, &kind, bytes))
}

#[derive(Template)]
#[template(path = "portal/case_query.html")]
struct QueryPage {
    chrome: Chrome,
    case_no: String,
    id_tail: String,
    error: String,
    result: Option<QueryResult>,
}

struct QueryResult {
    case_no: String,
    item_name: String,
    org_name: String,
    state: &'static str,
    submitted_at: String,
    accepted_at: String,
    due_at: String,
    decided_at: String,
    delivered_at: String,
    steps: Vec<(String, String)>,
}

/// `?case_no=&id_tail=`.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct PublicQuery {
    #[serde(default)]
    case_no: String,
    #[serde(default)]
    id_tail: String,
}

/// `GET /cases/query`: 办件查询.
pub(crate) async fn public_query(
    State(s): State<Shared>,
    parts: axum::http::request::Parts,
    q: Result<Query<PublicQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let lang = Lang::of(&parts);
    let ext = &parts.extensions;
    let q = query(q, lang)?;
    let mut page = QueryPage {
        chrome: Chrome::new(lang, lang.t("办件查询", "Case status")),
        case_no: q.case_no.trim().to_owned(),
        id_tail: String::new(),
        error: String::new(),
        result: None,
    };
    if q.case_no.trim().is_empty() && q.id_tail.trim().is_empty() {
        return Ok(html(StatusCode::OK, &page));
    }
    if !s.account_limiter.allow(client_ip(ext)) {
        page.error = lang
            .t(
                "查询过于频繁，请稍后再试。",
                "Too many queries: try again later.",
            )
            .into();
        return Ok(html(StatusCode::TOO_MANY_REQUESTS, &page));
    }
    let t = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map(|d| crate::admin::local_time(&yiwang_store::fmt_time(d)))
            .unwrap_or_default()
    };
    match cases::public_status(&s.platform, &q.case_no, &q.id_tail).await {
        Ok(st) => {
            page.result = Some(QueryResult {
                case_no: st.case_no,
                item_name: st.item_name,
                org_name: st.org_name,
                state: state_label(lang, st.state),
                submitted_at: t(st.submitted_at),
                accepted_at: t(st.accepted_at),
                due_at: t(st.due_at),
                decided_at: t(st.decided_at),
                delivered_at: t(st.delivered_at),
                steps: st
                    .steps
                    .into_iter()
                    .map(|(step, at)| (step, crate::admin::local_time(&at)))
                    .collect(),
            });
            Ok(html(StatusCode::OK, &page))
        }
        Err(ServiceError::Invalid(errs)) => {
            page.error = field_messages(lang, &errs)
                .into_iter()
                .map(|(_, m)| m)
                .collect::<Vec<_>>()
                .join("；");
            Ok(html(StatusCode::BAD_REQUEST, &page))
        }
        Err(ServiceError::NotFound { .. }) => {
            page.error = lang
                .t(
                    "没有找到该办件：请核对办件编号和证件号码后几位。",
                    "No such case: check the case number and the last digits of the ID number.",
                )
                .into();
            Ok(html(StatusCode::NOT_FOUND, &page))
        }
        Err(e) => Err(PageError::new(e, lang)),
    }
}
