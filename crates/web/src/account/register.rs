//! 注册: the registration form, then the SMS code that confirms the phone (and, through the
//! service, the population-library check that makes the account L2). Confirming signs the
//! citizen in.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use yiwang_domain::codes::IdCardNumber;
use yiwang_domain::contact::MobileNumber;
use yiwang_services::identity::users::{self, Registration};
use yiwang_services::{FieldError, ServiceError};

use super::{
    Errors, chrome, csrf_message, form_csrf_ok, rate_message, token_for, with_form_cookie,
    with_session_cookie,
};
use crate::Shared;
use crate::admin::{AdminForm, client_ip, query, see_other};
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::UserSession;

#[derive(Template)]
#[template(path = "account/register.html")]
struct RegisterPage {
    chrome: Chrome,
    csrf: String,
    name: String,
    id_number: String,
    phone: String,
    errors: Errors,
}

/// The posted registration form.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
}

/// The label of a registration field, for the list of problems.
fn label(field: &str) -> &'static str {
    match field {
        "name" => "姓名",
        "id_number" => "居民身份证号码",
        "phone" => "手机号码",
        "password" => "密码",
        "password2" => "确认密码",
        "code" => "短信验证码",
        _ => "",
    }
}

fn label_en(field: &str) -> &'static str {
    match field {
        "name" => "Name",
        "id_number" => "ID card number",
        "phone" => "Mobile number",
        "password" => "Password",
        "password2" => "Repeat password",
        "code" => "SMS code",
        _ => "",
    }
}

fn labeller(lang: Lang) -> fn(&str) -> &'static str {
    match lang {
        Lang::Zh => label,
        Lang::En => label_en,
    }
}

fn render_register(
    s: &Shared,
    lang: Lang,
    status: StatusCode,
    token: &str,
    f: &RegisterForm,
    errors: Errors,
) -> Response {
    let page = RegisterPage {
        chrome: chrome(lang, lang.t("个人用户注册", "Register")),
        csrf: token.to_string(),
        name: f.name.trim().to_string(),
        id_number: f.id_number.trim().to_string(),
        phone: f.phone.trim().to_string(),
        errors,
    };
    with_form_cookie(html(status, &page), token, s.config.secure_cookies)
}

/// `GET /account/register`.
pub(crate) async fn form(
    State(s): State<Shared>,
    lang: Lang,
    headers: HeaderMap,
    parts: axum::http::request::Parts,
) -> Response {
    if let Ok(Some(_)) = UserSession::of(&s, &parts).await {
        return see_other("/account");
    }
    let token = token_for(&headers);
    render_register(
        &s,
        lang,
        StatusCode::OK,
        &token,
        &RegisterForm::default(),
        Errors::default(),
    )
}

/// `POST /account/register`.
pub(crate) async fn register(
    State(s): State<Shared>,
    lang: Lang,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<RegisterForm>,
) -> Response {
    let token = token_for(&headers);
    if !form_csrf_ok(&headers, &f.csrf) {
        return render_register(
            &s,
            lang,
            StatusCode::FORBIDDEN,
            &token,
            &f,
            Errors::general(csrf_message(lang)),
        );
    }
    let ip = client_ip(&ext);
    if !s.account_limiter.allow(ip) {
        return render_register(
            &s,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &token,
            &f,
            Errors::general(rate_message(lang)),
        );
    }
    if f.password != f.password2 {
        // Nothing is registered; the other fields' format is still checked, so that every
        // problem shows at once.
        let mut errs = Vec::new();
        if let Err(e) = IdCardNumber::parse(&f.id_number) {
            errs.push(FieldError::new("id_number", e.message_zh(), e.message_en()));
        }
        if MobileNumber::parse(&f.phone).is_none() {
            errs.push(FieldError::new(
                "phone",
                "请填写 11 位手机号码",
                "enter an 11-digit mobile number",
            ));
        }
        errs.push(FieldError::new(
            "password2",
            "两次输入的密码不一致",
            "the passwords differ",
        ));
        let mut errors = Errors::default();
        errors.extend(lang, &errs, labeller(lang));
        return render_register(&s, lang, StatusCode::BAD_REQUEST, &token, &f, errors);
    }
    let r = Registration {
        name: f.name.clone(),
        id_number: f.id_number.trim().to_string(),
        phone: f.phone.trim().to_string(),
        password: f.password.clone(),
    };
    match users::register(&s.platform, &r, &ip.to_string()).await {
        Ok(id) => see_other(&format!(
            "/account/confirm?u={}",
            crate::session::urlencode(&id)
        )),
        Err(ServiceError::Invalid(errs)) => {
            let mut errors = Errors::default();
            errors.extend(lang, &errs, labeller(lang));
            render_register(&s, lang, StatusCode::BAD_REQUEST, &token, &f, errors)
        }
        Err(ServiceError::Conflict(m)) => render_register(
            &s,
            lang,
            StatusCode::CONFLICT,
            &token,
            &f,
            Errors::general(m),
        ),
        Err(ServiceError::TooManyAttempts) => render_register(
            &s,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &token,
            &f,
            Errors::general(rate_message(lang)),
        ),
        Err(e) => PageError::new(e, lang).into_response(),
    }
}

#[derive(Template)]
#[template(path = "account/confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    csrf: String,
    user_id: String,
    phone_masked: String,
    sent: bool,
    errors: Errors,
}

/// `?u=&sent=` of the confirmation page.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ConfirmQuery {
    #[serde(default)]
    u: String,
    #[serde(default)]
    sent: Option<String>,
}

/// The posted code (and the resend form, without it).
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    u: String,
    #[serde(default)]
    code: String,
}

/// The pending account of `u`; `Err` is the response when it is unknown (404) or already
/// confirmed (on to sign-in).
async fn pending(s: &Shared, lang: Lang, u: &str) -> Result<users::User, Response> {
    match users::load_user(&s.platform, u.trim()).await {
        Ok(Some(user)) if user.status == "pending" => Ok(user),
        Ok(Some(_)) => Err(see_other("/account/login")),
        Ok(None) => Err(PageError::new(
            ServiceError::NotFound {
                what: "待确认的注册",
                key: u.chars().take(40).collect(),
            },
            lang,
        )
        .into_response()),
        Err(e) => Err(PageError::new(e, lang).into_response()),
    }
}

fn render_confirm(
    s: &Shared,
    lang: Lang,
    status: StatusCode,
    token: &str,
    user: &users::User,
    sent: bool,
    errors: Errors,
) -> Response {
    let page = ConfirmPage {
        chrome: chrome(lang, lang.t("验证手机号码", "Confirm your mobile number")),
        csrf: token.to_string(),
        user_id: user.id.clone(),
        phone_masked: user.phone_masked.clone(),
        sent,
        errors,
    };
    with_form_cookie(html(status, &page), token, s.config.secure_cookies)
}

/// `GET /account/confirm?u=<id>`.
pub(crate) async fn confirm_form(
    State(s): State<Shared>,
    lang: Lang,
    headers: HeaderMap,
    q: Result<Query<ConfirmQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q, lang)?;
    let user = match pending(&s, lang, &q.u).await {
        Ok(u) => u,
        Err(res) => return Ok(res),
    };
    let token = token_for(&headers);
    Ok(render_confirm(
        &s,
        lang,
        StatusCode::OK,
        &token,
        &user,
        q.sent.is_some(),
        Errors::default(),
    ))
}

/// `POST /account/confirm`: checks the code, activates the account and signs the citizen in.
pub(crate) async fn confirm(
    State(s): State<Shared>,
    lang: Lang,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<ConfirmForm>,
) -> Response {
    let token = token_for(&headers);
    let user = match pending(&s, lang, &f.u).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    if !form_csrf_ok(&headers, &f.csrf) {
        return render_confirm(
            &s,
            lang,
            StatusCode::FORBIDDEN,
            &token,
            &user,
            false,
            Errors::general(csrf_message(lang)),
        );
    }
    let ip = client_ip(&ext).to_string();
    match users::confirm_phone(&s.platform, &user.id, f.code.trim(), &ip).await {
        Ok((session_token, _)) => with_session_cookie(
            see_other("/account?done=registered"),
            &session_token,
            s.config.secure_cookies,
        ),
        Err(ServiceError::Invalid(errs)) => {
            let mut errors = Errors::default();
            errors.extend(lang, &errs, labeller(lang));
            render_confirm(
                &s,
                lang,
                StatusCode::BAD_REQUEST,
                &token,
                &user,
                false,
                errors,
            )
        }
        Err(ServiceError::TooManyAttempts) => render_confirm(
            &s,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &token,
            &user,
            false,
            Errors::general(rate_message(lang)),
        ),
        Err(e) => PageError::new(e, lang).into_response(),
    }
}

/// `POST /account/confirm/resend`: a new code to the phone (rate-limited).
pub(crate) async fn resend(
    State(s): State<Shared>,
    lang: Lang,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<ConfirmForm>,
) -> Response {
    let token = token_for(&headers);
    let user = match pending(&s, lang, &f.u).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    if !form_csrf_ok(&headers, &f.csrf) {
        return render_confirm(
            &s,
            lang,
            StatusCode::FORBIDDEN,
            &token,
            &user,
            false,
            Errors::general(csrf_message(lang)),
        );
    }
    let ip = client_ip(&ext);
    let too_many = || {
        Errors::general(
            lang.t(
                "验证码发送过于频繁，请 1 分钟后再试。",
                "Codes are sent at most once a minute. Try again shortly.",
            )
            .to_string(),
        )
    };
    if !s.account_limiter.allow(ip) {
        return render_confirm(
            &s,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &token,
            &user,
            false,
            too_many(),
        );
    }
    match users::resend_registration_code(&s.platform, &user.id, &ip.to_string()).await {
        Ok(()) => see_other(&format!(
            "/account/confirm?u={}&sent=1",
            crate::session::urlencode(&user.id)
        )),
        Err(ServiceError::TooManyAttempts) => render_confirm(
            &s,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &token,
            &user,
            false,
            too_many(),
        ),
        Err(e) => PageError::new(e, lang).into_response(),
    }
}
