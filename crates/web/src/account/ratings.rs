//! 好差评 for the rater: the rating form shared by the citizen's case page, the invitation
//! link's page and the window's rating pad ([`RatingForm`], template
//! `cases/_rating_form.html`), and the page of an SMS invitation's link, which needs no
//! account: it shows the case (item, case number, the applicant's masked name) and rates it
//! through the `sms` channel, once. The form carries the double-submit CSRF token of forms
//! shown before sign-in and is rate-limited per client address like the other public forms.
//!
//! | method | path | form fields | result |
//! |---|---|---|---|
//! | GET | `/rate/{token}` | | the case and the form; a readable page for a used (409), expired (410) or unknown (404) link |
//! | POST | `/rate/{token}` | `csrf`, `level`, `score_guide`, `score_process`, `score_timeliness`, `score_attitude`, `score_result`, `comment` | 200 thanks; 400 the form again with every problem; 403 bad csrf; 409 used; 429 too often |

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use yiwang_services::ServiceError;
use yiwang_services::supervision::ratings::{
    self, INDICATORS, Invitation, InvitationStatus, LEVELS, RatingInput,
};

use super::{chrome, csrf_message, form_csrf_ok, rate_message, token_for, with_form_cookie};
use crate::Shared;
use crate::admin::{AdminForm, client_ip, field_messages};
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};

/// What the rating form shows: the choices in the page language and what was sent.
pub(crate) struct RatingForm {
    /// (value, label), best first.
    pub levels: Vec<(i64, &'static str)>,
    /// (key, label) of the indicators.
    pub indicators: Vec<(&'static str, &'static str)>,
    /// The level sent (0: none).
    pub level: i64,
    /// The scores sent.
    pub scores: BTreeMap<String, i64>,
    /// The comment sent.
    pub comment: String,
    /// Prefix of the fields' ids (two forms on one page stay apart).
    pub id: &'static str,
    /// The fields with a problem.
    pub invalid: Vec<String>,
}

impl RatingForm {
    /// An empty form in `lang`.
    pub(crate) fn new(lang: Lang, id: &'static str) -> RatingForm {
        RatingForm {
            levels: LEVELS
                .iter()
                .map(|(v, zh, en)| (*v, lang.t(zh, en)))
                .collect(),
            indicators: INDICATORS
                .iter()
                .map(|(k, zh, en)| (*k, lang.t(zh, en)))
                .collect(),
            level: 0,
            scores: BTreeMap::new(),
            comment: String::new(),
            id,
            invalid: Vec::new(),
        }
    }

    /// The form again with what was sent.
    pub(crate) fn with(mut self, sent: &RatingInput) -> RatingForm {
        self.level = sent.level.unwrap_or_default();
        self.scores = sent.scores.clone();
        self.comment = sent.comment.clone();
        self
    }

    /// The form with the fields that have a problem marked.
    pub(crate) fn marked(mut self, errors: &[(String, String)]) -> RatingForm {
        self.invalid = errors.iter().map(|(f, _)| f.clone()).collect();
        self
    }

    /// Whether a field has a problem.
    pub(crate) fn is_bad(&self, field: &str) -> bool {
        self.invalid.iter().any(|f| f == field)
    }

    /// Whether an indicator's score has a problem.
    pub(crate) fn is_bad_score(&self, key: &str) -> bool {
        self.is_bad(&format!("scores.{key}"))
    }

    /// The points of a score, best first.
    pub(crate) fn points(&self) -> &'static [i64] {
        &[5, 4, 3, 2, 1]
    }

    /// The score sent for an indicator (0: none).
    pub(crate) fn score(&self, key: &str) -> i64 {
        self.scores.get(key).copied().unwrap_or_default()
    }
}

/// The value of a posted field (empty when absent).
pub(crate) fn field<'a>(f: &'a [(String, String)], name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// A rating from form fields: `level`, `score_{indicator}` (empty: not given) and `comment`.
/// A value that is not a number is passed on as 0, which the service refuses by name.
pub(crate) fn input_from(f: &[(String, String)]) -> RatingInput {
    let number = |v: &str| v.trim().parse::<i64>().unwrap_or(0);
    let level = field(f, "level");
    let mut scores = BTreeMap::new();
    for (key, _, _) in INDICATORS {
        let v = field(f, &format!("score_{key}"));
        if !v.trim().is_empty() {
            scores.insert(key.to_owned(), number(v));
        }
    }
    RatingInput {
        level: (!level.trim().is_empty()).then(|| number(level)),
        scores,
        comment: field(f, "comment").to_owned(),
    }
}

#[derive(Template)]
#[template(path = "account/rate.html")]
struct RatePage {
    chrome: Chrome,
    csrf: String,
    token: String,
    inv: Option<Invitation>,
    /// Why the link cannot be used, when it cannot.
    refusal: String,
    errors: Vec<(String, String)>,
    done: bool,
    rating_form: RatingForm,
}

impl RatePage {
    fn new(lang: Lang, csrf: &str, token: &str) -> RatePage {
        RatePage {
            chrome: chrome(lang, lang.t("服务评价", "Rate the service")),
            csrf: csrf.to_owned(),
            token: token.to_owned(),
            inv: None,
            refusal: String::new(),
            errors: Vec::new(),
            done: false,
            rating_form: RatingForm::new(lang, "r"),
        }
    }
}

/// The readable refusal of an invitation that cannot be used, with its status.
fn refusal(lang: Lang, status: InvitationStatus) -> Option<(StatusCode, &'static str)> {
    match status {
        InvitationStatus::Open => None,
        InvitationStatus::Used => Some((
            StatusCode::CONFLICT,
            lang.t(
                "已评价：这个评价链接已经使用过，感谢您的评价。",
                "Already rated: this link was used. Thank you.",
            ),
        )),
        InvitationStatus::Expired => Some((
            StatusCode::GONE,
            lang.t(
                "这个评价链接已过期。您可以登录一网通办，在“我的办件”中评价。",
                "This link has expired. Sign in and rate the case under My cases.",
            ),
        )),
    }
}

fn unknown(lang: Lang) -> &'static str {
    lang.t(
        "评价链接无效：请核对短信中的链接是否完整。",
        "This rating link is not valid: check that the whole link from the SMS was opened.",
    )
}

/// `GET /rate/{token}`.
pub(crate) async fn form(
    State(s): State<Shared>,
    lang: Lang,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let csrf = token_for(&headers);
    let mut page = RatePage::new(lang, &csrf, &token);
    let status = match ratings::invitation(&s.platform, &token).await {
        Ok(inv) => {
            let status = match refusal(lang, inv.status) {
                Some((status, why)) => {
                    page.refusal = why.to_owned();
                    status
                }
                None => StatusCode::OK,
            };
            page.inv = Some(inv);
            status
        }
        Err(ServiceError::NotFound { .. }) => {
            page.refusal = unknown(lang).to_owned();
            StatusCode::NOT_FOUND
        }
        Err(e) => return Err(PageError::new(e, lang)),
    };
    Ok(with_form_cookie(
        html(status, &page),
        &csrf,
        s.config.secure_cookies,
    ))
}

/// `POST /rate/{token}`.
pub(crate) async fn rate(
    State(s): State<Shared>,
    lang: Lang,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    Path(token): Path<String>,
    AdminForm(f): AdminForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let csrf = token_for(&headers);
    let mut page = RatePage::new(lang, &csrf, &token);
    let input = input_from(&f);
    page.rating_form = RatingForm::new(lang, "r").with(&input);
    let respond = |page: &RatePage, status| {
        with_form_cookie(html(status, page), &csrf, s.config.secure_cookies)
    };
    let inv = match ratings::invitation(&s.platform, &token).await {
        Ok(inv) => inv,
        Err(ServiceError::NotFound { .. }) => {
            page.refusal = unknown(lang).to_owned();
            return Ok(respond(&page, StatusCode::NOT_FOUND));
        }
        Err(e) => return Err(PageError::new(e, lang)),
    };
    if let Some((status, why)) = refusal(lang, inv.status) {
        page.refusal = why.to_owned();
        page.inv = Some(inv);
        return Ok(respond(&page, status));
    }
    page.inv = Some(inv);
    if !form_csrf_ok(&headers, field(&f, "csrf")) {
        page.errors = vec![("form".into(), csrf_message(lang))];
        return Ok(respond(&page, StatusCode::FORBIDDEN));
    }
    if !s.account_limiter.allow(client_ip(&ext)) {
        page.errors = vec![("form".into(), rate_message(lang))];
        return Ok(respond(&page, StatusCode::TOO_MANY_REQUESTS));
    }
    match ratings::rate_by_invitation(&s.platform, &token, &input).await {
        Ok(_) => {
            page.done = true;
            Ok(respond(&page, StatusCode::OK))
        }
        Err(ServiceError::Invalid(errs)) => {
            page.errors = field_messages(lang, &errs);
            page.rating_form = RatingForm::new(lang, "r").with(&input).marked(&page.errors);
            Ok(respond(&page, StatusCode::BAD_REQUEST))
        }
        Err(ServiceError::Conflict(m)) => {
            page.refusal = m;
            Ok(respond(&page, StatusCode::CONFLICT))
        }
        Err(e) => Err(PageError::new(e, lang)),
    }
}

/// A rectification order as pages show it.
pub(crate) struct OrderView {
    pub id: String,
    pub number: String,
    pub status: String,
    pub status_label: &'static str,
    pub opened_at: String,
    pub due_at: String,
    pub late: bool,
    pub action_label: &'static str,
    pub outcome: String,
    pub answered_by: String,
    pub answered_at: String,
    /// 0 until the rater rated the fix.
    pub fix_level: i64,
    pub fix_level_label: &'static str,
    pub fix_comment: String,
    pub fix_rated_at: String,
    /// Empty, `pending`, `upheld`, `rejected`.
    pub appeal_status: String,
    pub appeal_label: &'static str,
    pub appeal_reason: String,
    pub appealed_by: String,
    pub appealed_at: String,
    pub appeal_decision: String,
    pub decided_by: String,
    pub decided_at: String,
}

/// A rating as pages show it.
pub(crate) struct RatingView {
    pub id: String,
    pub case_no: String,
    pub item_name: String,
    pub org_name: String,
    pub channel: &'static str,
    pub level_label: &'static str,
    pub bad: bool,
    /// (indicator, score) of the scores given.
    pub scores: Vec<(&'static str, i64)>,
    pub comment: String,
    pub real_name: bool,
    pub rated_at: String,
    pub excluded: bool,
    pub order: Option<OrderView>,
}

fn local(s: &str) -> String {
    crate::admin::local_time(s)
}

fn local_opt(s: Option<&String>) -> String {
    s.map(|s| local(s)).unwrap_or_default()
}

/// The page view of a rating in `lang`.
pub(crate) fn view(lang: Lang, r: &ratings::Rating) -> RatingView {
    let pick = |(zh, en): (&'static str, &'static str)| lang.t(zh, en);
    let order = r.rectification.as_ref().map(|x| OrderView {
        id: x.id.clone(),
        number: x.number.clone(),
        status: x.status.clone(),
        status_label: match x.status.as_str() {
            "open" => lang.t("待整改", "open"),
            "answered" => lang.t("已答复", "answered"),
            _ => lang.t("已关闭（申诉成立）", "closed (appeal upheld)"),
        },
        opened_at: local(&x.opened_at),
        due_at: local(&x.due_at),
        late: x.late,
        action_label: pick(ratings::action_label(x.action.as_deref().unwrap_or(""))),
        outcome: x.outcome.clone().unwrap_or_default(),
        answered_by: x.answered_by_name.clone().unwrap_or_default(),
        answered_at: local_opt(x.answered_at.as_ref()),
        fix_level: x.fix_level.unwrap_or_default(),
        fix_level_label: pick(ratings::level_label(x.fix_level.unwrap_or_default())),
        fix_comment: x.fix_comment.clone().unwrap_or_default(),
        fix_rated_at: local_opt(x.fix_rated_at.as_ref()),
        appeal_status: x.appeal_status.clone().unwrap_or_default(),
        appeal_label: match x.appeal_status.as_deref() {
            Some("pending") => lang.t("申诉待审核", "appeal pending"),
            Some("upheld") => lang.t("申诉成立，评价已剔除", "appeal upheld: rating excluded"),
            Some("rejected") => lang.t("申诉不成立", "appeal rejected"),
            _ => "",
        },
        appeal_reason: x.appeal_reason.clone().unwrap_or_default(),
        appealed_by: x.appealed_by_name.clone().unwrap_or_default(),
        appealed_at: local_opt(x.appealed_at.as_ref()),
        appeal_decision: x.appeal_decision.clone().unwrap_or_default(),
        decided_by: x.appeal_decided_by_name.clone().unwrap_or_default(),
        decided_at: local_opt(x.appeal_decided_at.as_ref()),
    });
    RatingView {
        id: r.id.clone(),
        case_no: r.case_no.clone(),
        item_name: r.item_name.clone(),
        org_name: r.org_name.clone(),
        channel: pick(ratings::channel_label(&r.channel)),
        level_label: pick(ratings::level_label(r.level)),
        bad: r.level <= 2,
        scores: INDICATORS
            .iter()
            .filter_map(|(k, zh, en)| r.scores.get(*k).map(|v| (lang.t(zh, en), *v)))
            .collect(),
        comment: r.comment.clone(),
        real_name: r.real_name,
        rated_at: local(&r.rated_at),
        excluded: r.status == "excluded",
        order,
    }
}

/// 好差评 on the citizen's case page.
pub(crate) struct CaseRatingView {
    /// The case has finished.
    pub finished: bool,
    /// The citizen may still rate it on the web.
    pub may_rate: bool,
    pub ratings: Vec<RatingView>,
    /// (value, label) of the fix rating.
    pub fix_levels: Vec<(i64, &'static str)>,
}

/// The citizen's view of their case's ratings.
pub(crate) async fn case_rating_view(
    p: &yiwang_services::Platform,
    lang: Lang,
    user: &yiwang_services::identity::users::User,
    case: &str,
) -> Result<CaseRatingView, ServiceError> {
    let r = ratings::for_case(p, user, case).await?;
    Ok(CaseRatingView {
        finished: r.finished,
        may_rate: r.open_channels.contains(&"web"),
        ratings: r.ratings.iter().map(|x| view(lang, x)).collect(),
        fix_levels: LEVELS
            .iter()
            .map(|(v, zh, en)| (*v, lang.t(zh, en)))
            .collect(),
    })
}
