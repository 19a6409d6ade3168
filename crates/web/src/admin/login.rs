//! Signing in and out of the management pages.
//!
//! The sign-in form has no session yet, so its CSRF protection is a double-submit token: a
//! random `yw_login_csrf` cookie set with the form and echoed in a hidden field; a POST whose
//! field does not equal its cookie is refused. Attempts are rate-limited per client address
//! (on top of the per-account lock of the accounts service), and `next` only ever leads back
//! into `/admin`, so the form cannot be used to send people elsewhere.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use yiwang_services::ServiceError;
use yiwang_services::identity::staff::{self as accounts, random_token};

use super::{AdminForm, CsrfForm, client_ip, see_other};
use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::{SESSION_COOKIE, StaffSession, constant_time_eq, cookie, set_cookie};

/// The cookie of the sign-in form's double-submit CSRF token.
pub const LOGIN_CSRF_COOKIE: &str = "yw_login_csrf";

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    chrome: Chrome,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
}

/// `?next=` of the sign-in page.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// The posted sign-in form.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: `next` when it stays inside `/admin` or returns to the OpenID
/// Connect authorization endpoint (a department's system asked for the sign-in), else the
/// dashboard.
fn safe_next(next: &str) -> String {
    let inside = next == "/admin"
        || next.starts_with("/admin/")
        || next.starts_with("/admin?")
        || next.starts_with("/oidc/authorize?");
    let clean = !next.contains(['\\', '\r', '\n']) && !next.starts_with("/admin/login");
    if inside && clean && HeaderValue::from_str(next).is_ok() {
        next.to_string()
    } else {
        "/admin".to_string()
    }
}

/// The token of the browser's sign-in cookie if it has a usable one.
fn login_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Renders the sign-in form with a (re)issued token cookie.
fn render(
    s: &Shared,
    lang: Lang,
    status: StatusCode,
    token: String,
    next: &str,
    username: &str,
    error: Option<String>,
) -> Response {
    let page = LoginPage {
        chrome: {
            let mut c = Chrome::new(lang, lang.t("工作人员登录", "Staff sign-in"));
            c.section = "admin";
            c
        },
        next: safe_next(next),
        username: username.to_string(),
        error,
        csrf: token.clone(),
    };
    let mut res = html(status, &page);
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        LOGIN_CSRF_COOKIE,
        &token,
        s.config.secure_cookies,
        None,
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /admin/login`: the sign-in form (straight on to `next` when already signed in).
pub(crate) async fn form(
    State(s): State<Shared>,
    lang: Lang,
    headers: HeaderMap,
    q: Result<Query<NextQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let next = super::query(q, lang)?.next.unwrap_or_default();
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Ok(Some(_)) = accounts::session(&s.platform, &token).await
    {
        return Ok(see_other(&safe_next(&next)));
    }
    let token = login_token(&headers).unwrap_or_else(random_token);
    Ok(render(&s, lang, StatusCode::OK, token, &next, "", None))
}

/// `POST /admin/login`.
pub(crate) async fn sign_in(
    State(s): State<Shared>,
    lang: Lang,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<LoginForm>,
) -> Response {
    // The double-submit check comes first: a forged form gets nowhere.
    let cookie_token = login_token(&headers);
    let csrf_ok = cookie_token
        .as_deref()
        .is_some_and(|c| !f.csrf.is_empty() && constant_time_eq(c.as_bytes(), f.csrf.as_bytes()));
    if !csrf_ok {
        return render(
            &s,
            lang,
            StatusCode::FORBIDDEN,
            random_token(),
            &f.next,
            &f.username,
            Some(
                lang.t(
                    "表单已过期或来源不明（CSRF 校验失败），请重新登录。",
                    "The form expired or came from elsewhere (CSRF check failed). Please sign in again.",
                )
                .into(),
            ),
        );
    }
    let token = cookie_token.unwrap_or_else(random_token);
    if !s.limiter.allow(client_ip(&ext)) {
        return render(
            &s,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            token,
            &f.next,
            &f.username,
            Some(
                lang.t(
                    "登录尝试过于频繁，请1分钟后再试。",
                    "Too many sign-in attempts from this address. Try again in a minute.",
                )
                .into(),
            ),
        );
    }
    let ip = client_ip(&ext).to_string();
    match accounts::sign_in(&s.platform, &f.username, &f.password, &ip).await {
        Ok((session_token, session)) => {
            // An account that needs a second factor continues on the TOTP page.
            let next = if session.complete() {
                safe_next(&f.next)
            } else {
                format!(
                    "/admin/totp?next={}",
                    crate::session::urlencode(&safe_next(&f.next))
                )
            };
            let secure = s.config.secure_cookies;
            (
                AppendHeaders([
                    (
                        header::SET_COOKIE,
                        set_cookie(SESSION_COOKIE, &session_token, secure, None),
                    ),
                    (
                        header::SET_COOKIE,
                        set_cookie(LOGIN_CSRF_COOKIE, "", secure, Some(0)),
                    ),
                ]),
                see_other(&next),
            )
                .into_response()
        }
        Err(ServiceError::TooManyAttempts) => render(
            &s,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            token,
            &f.next,
            &f.username,
            Some(
                lang.t(
                    "尝试次数过多，账户已临时锁定，请15分钟后再试",
                    "Too many failed attempts: the account is locked for 15 minutes.",
                )
                .into(),
            ),
        ),
        Err(ServiceError::Invalid(errs)) => {
            let msg = errs
                .iter()
                .map(|e| lang.t(&e.message_zh, &e.message_en).to_string())
                .collect::<Vec<_>>()
                .join("；");
            render(
                &s,
                lang,
                StatusCode::BAD_REQUEST,
                token,
                &f.next,
                &f.username,
                Some(msg),
            )
        }
        Err(e) => PageError::new(e, lang).into_response(),
    }
}

/// `POST /admin/logout`: ends the session and expires its cookie.
pub(crate) async fn sign_out(
    State(s): State<Shared>,
    session: StaffSession,
    headers: HeaderMap,
    AdminForm(f): AdminForm<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        accounts::sign_out(&s.platform, &token)
            .await
            .map_err(|e| session.err(e))?;
    }
    Ok((
        AppendHeaders([(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, "", s.config.secure_cookies, Some(0)),
        )]),
        see_other("/"),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_inside_admin() {
        assert_eq!(
            safe_next("/admin/items?status=draft"),
            "/admin/items?status=draft"
        );
        assert_eq!(safe_next("/admin"), "/admin");
        assert_eq!(safe_next("https://evil.example/admin"), "/admin");
        assert_eq!(safe_next("//evil.example/admin"), "/admin");
        assert_eq!(safe_next("/administrator"), "/admin");
        assert_eq!(safe_next("/admin/\\evil"), "/admin");
        assert_eq!(safe_next("/admin/login"), "/admin");
        assert_eq!(safe_next(""), "/admin");
    }
}
