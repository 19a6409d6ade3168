//! 登录 and 退出 for citizens: by ID number or phone with password, or by phone with an SMS
//! code (first 获取验证码, then the code). `next` leads back to a same-site path only.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use yiwang_domain::contact::MobileNumber;
use yiwang_services::ServiceError;
use yiwang_services::identity::users;

use super::{
    Errors, chrome, csrf_message, form_csrf_ok, rate_message, token_for, with_form_cookie,
    with_session_cookie,
};
use crate::Shared;
use crate::admin::{AdminForm, CsrfForm, client_ip, query, see_other};
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::{USER_COOKIE, UserSession, safe_path, set_cookie};

#[derive(Template)]
#[template(path = "account/login.html")]
struct LoginPage {
    chrome: Chrome,
    csrf: String,
    next: String,
    account: String,
    /// The phone a sign-in code was sent to (the code form is shown then).
    code_phone: Option<String>,
    code_phone_masked: String,
    /// The phone typed in the first step of the code form.
    phone: String,
    errors: Errors,
    notice: Option<String>,
}

/// `?next=` of the sign-in page.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// The posted password sign-in.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// The posted code request or code sign-in.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: a same-site path other than the sign-in pages, else `/account`.
fn account_next(next: &str) -> String {
    let next = safe_path(next, "/account");
    if next.starts_with("/account/login") || next.starts_with("/account/logout") {
        "/account".into()
    } else {
        next
    }
}

fn label(lang: Lang, field: &str) -> &'static str {
    match (lang, field) {
        (Lang::Zh, "phone") => "手机号码",
        (Lang::Zh, "code") => "短信验证码",
        (Lang::En, "phone") => "Mobile number",
        (Lang::En, "code") => "SMS code",
        _ => "",
    }
}

/// The page state to render.
#[derive(Default)]
struct View {
    next: String,
    account: String,
    code_phone: Option<String>,
    phone: String,
    errors: Errors,
    notice: Option<String>,
}

fn render(s: &Shared, lang: Lang, status: StatusCode, token: &str, v: View) -> Response {
    let code_phone_masked = v
        .code_phone
        .as_deref()
        .and_then(MobileNumber::parse)
        .map(|m| m.masked())
        .unwrap_or_default();
    let page = LoginPage {
        chrome: chrome(lang, lang.t("个人用户登录", "Sign in")),
        csrf: token.to_string(),
        next: account_next(&v.next),
        account: v.account,
        code_phone: v.code_phone,
        code_phone_masked,
        phone: v.phone,
        errors: v.errors,
        notice: v.notice,
    };
    with_form_cookie(html(status, &page), token, s.config.secure_cookies)
}

fn field_errors(lang: Lang, errs: &[yiwang_services::FieldError]) -> Errors {
    let mut e = Errors::default();
    match lang {
        Lang::Zh => e.extend(lang, errs, |f| label(Lang::Zh, f)),
        Lang::En => e.extend(lang, errs, |f| label(Lang::En, f)),
    }
    e
}

/// `GET /account/login`.
pub(crate) async fn form(
    State(s): State<Shared>,
    lang: Lang,
    headers: HeaderMap,
    parts: axum::http::request::Parts,
    q: Result<Query<NextQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let next = query(q, lang)?.next.unwrap_or_default();
    if let Ok(Some(_)) = UserSession::of(&s, &parts).await {
        return Ok(see_other(&account_next(&next)));
    }
    let token = token_for(&headers);
    Ok(render(
        &s,
        lang,
        StatusCode::OK,
        &token,
        View {
            next,
            ..View::default()
        },
    ))
}

/// The checks every sign-in POST starts with: the double-submit token, then the rate limit.
fn gate(
    s: &Shared,
    lang: Lang,
    headers: &HeaderMap,
    ext: &axum::http::Extensions,
    csrf: &str,
) -> Result<(), (StatusCode, Errors)> {
    if !form_csrf_ok(headers, csrf) {
        return Err((StatusCode::FORBIDDEN, Errors::general(csrf_message(lang))));
    }
    if !s.account_limiter.allow(client_ip(ext)) {
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            Errors::general(rate_message(lang)),
        ));
    }
    Ok(())
}

/// The answer to a successful sign-in: the session cookie and on to `next`.
fn signed_in(s: &Shared, token: &str, next: &str) -> Response {
    with_session_cookie(
        see_other(&account_next(next)),
        token,
        s.config.secure_cookies,
    )
}

/// The page for a refused sign-in.
fn refused(lang: Lang, e: ServiceError) -> Result<(StatusCode, Errors), ServiceError> {
    match e {
        ServiceError::Invalid(errs) => Ok((StatusCode::BAD_REQUEST, field_errors(lang, &errs))),
        ServiceError::TooManyAttempts => Ok((
            StatusCode::TOO_MANY_REQUESTS,
            Errors::general(
                lang.t(
                    "尝试次数过多，账号已临时锁定，请稍后再试。",
                    "Too many failed attempts: the account is locked for a while.",
                )
                .to_string(),
            ),
        )),
        e => Err(e),
    }
}

/// `POST /account/login`: password sign-in.
pub(crate) async fn password(
    State(s): State<Shared>,
    lang: Lang,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<PasswordForm>,
) -> Response {
    let token = token_for(&headers);
    let view = |errors: Errors| View {
        next: f.next.clone(),
        account: f.account.trim().to_string(),
        errors,
        ..View::default()
    };
    if let Err((status, errors)) = gate(&s, lang, &headers, &ext, &f.csrf) {
        return render(&s, lang, status, &token, view(errors));
    }
    let ip = client_ip(&ext).to_string();
    match users::sign_in_password(&s.platform, f.account.trim(), &f.password, &ip).await {
        Ok((session_token, _)) => signed_in(&s, &session_token, &f.next),
        Err(e) => match refused(lang, e) {
            Ok((status, errors)) => render(&s, lang, status, &token, view(errors)),
            Err(e) => PageError::new(e, lang).into_response(),
        },
    }
}

/// `POST /account/login/code/send`: sends a sign-in code (the same answer whether or not the
/// phone has an account), then shows the code field.
pub(crate) async fn send_code(
    State(s): State<Shared>,
    lang: Lang,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<CodeForm>,
) -> Response {
    let token = token_for(&headers);
    let phone = f.phone.trim().to_string();
    let view = |errors: Errors| View {
        next: f.next.clone(),
        phone: phone.clone(),
        errors,
        ..View::default()
    };
    if let Err((status, errors)) = gate(&s, lang, &headers, &ext, &f.csrf) {
        return render(&s, lang, status, &token, view(errors));
    }
    let ip = client_ip(&ext).to_string();
    match users::send_sign_in_code(&s.platform, &phone, &ip).await {
        Ok(()) => render(
            &s,
            lang,
            StatusCode::OK,
            &token,
            View {
                next: f.next.clone(),
                code_phone: Some(phone.clone()),
                notice: Some(
                    lang.t(
                        "如该手机号码已注册，验证码已发送，5 分钟内有效。",
                        "If this number has an account, a code was sent; it is valid for 5 minutes.",
                    )
                    .to_string(),
                ),
                ..View::default()
            },
        ),
        Err(ServiceError::Invalid(errs)) => render(
            &s,
            lang,
            StatusCode::BAD_REQUEST,
            &token,
            view(field_errors(lang, &errs)),
        ),
        Err(ServiceError::TooManyAttempts) => render(
            &s,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &token,
            view(Errors::general(
                lang.t(
                    "验证码发送过于频繁，请 1 分钟后再试。",
                    "Codes are sent at most once a minute. Try again shortly.",
                )
                .to_string(),
            )),
        ),
        Err(e) => PageError::new(e, lang).into_response(),
    }
}

/// `POST /account/login/code`: sign-in with the code.
pub(crate) async fn code(
    State(s): State<Shared>,
    lang: Lang,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<CodeForm>,
) -> Response {
    let token = token_for(&headers);
    let phone = f.phone.trim().to_string();
    let view = |errors: Errors| View {
        next: f.next.clone(),
        code_phone: Some(phone.clone()),
        errors,
        ..View::default()
    };
    if let Err((status, errors)) = gate(&s, lang, &headers, &ext, &f.csrf) {
        return render(&s, lang, status, &token, view(errors));
    }
    let ip = client_ip(&ext).to_string();
    match users::sign_in_code(&s.platform, &phone, f.code.trim(), &ip).await {
        Ok((session_token, _)) => signed_in(&s, &session_token, &f.next),
        Err(e) => match refused(lang, e) {
            Ok((status, errors)) => render(&s, lang, status, &token, view(errors)),
            Err(e) => PageError::new(e, lang).into_response(),
        },
    }
}

/// `POST /account/logout`: ends the session and expires its cookie.
pub(crate) async fn sign_out(
    State(s): State<Shared>,
    session: UserSession,
    AdminForm(f): AdminForm<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    users::sign_out(&s.platform, &session.token)
        .await
        .map_err(|e| session.err(e))?;
    Ok((
        AppendHeaders([(
            header::SET_COOKIE,
            set_cookie(USER_COOKIE, "", s.config.secure_cookies, Some(0)),
        )]),
        see_other("/"),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_same_site_path() {
        assert_eq!(account_next("/items?q=1"), "/items?q=1");
        assert_eq!(account_next("https://evil.example/"), "/account");
        assert_eq!(account_next("//evil.example/"), "/account");
        assert_eq!(account_next("/account/login"), "/account");
        assert_eq!(account_next(""), "/account");
    }
}
