//! 双因素认证 (TOTP) for staff: enrolment and the code asked after the password.
//!
//! A session of an account with an administrative role stays incomplete after the password
//! until it passes TOTP; [`StaffSession`] sends it here from every other admin page. An account
//! without TOTP sees the enrolment page (a new secret in base32 and its `otpauth://` URI for an
//! authenticator app, then a code to confirm); one with TOTP sees only the code field. Other
//! staff may enrol voluntarily from the navigation. The service checks codes, counts wrong ones
//! towards the account's lock and refuses a code's replay.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use yiwang_services::ServiceError;
use yiwang_services::identity::totp::{self, Enrolment};

use super::{AdminForm, chrome, client_ip, see_other};
use crate::Shared;
use crate::error::PageError;
use crate::pages::html;
use crate::session::{SESSION_COOKIE, StaffSession, cookie, safe_path};

#[derive(Template)]
#[template(path = "admin/totp.html")]
struct TotpPage {
    chrome: crate::pages::Chrome,
    csrf: String,
    next: String,
    /// Set while enrolling.
    enrolment: Option<Enrolment>,
    /// TOTP already on and this session past it: nothing to do.
    done: bool,
    error: Option<String>,
}

/// `?next=` of the TOTP page.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// The posted code.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

/// Where to go after TOTP: `next` when it is an admin page other than sign-in and TOTP.
fn admin_next(next: &str) -> String {
    let next = safe_path(next, "/admin");
    let inside = next == "/admin" || next.starts_with("/admin/") || next.starts_with("/admin?");
    if inside && !next.starts_with("/admin/login") && !next.starts_with("/admin/totp") {
        next
    } else {
        "/admin".into()
    }
}

async fn render(
    s: &Shared,
    session: &StaffSession,
    token: &str,
    status: StatusCode,
    next: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let enrolment = if session.staff.totp_enabled {
        None
    } else {
        // The service needs the session itself, found again by the browser's token.
        let p = &s.platform;
        let full = yiwang_services::identity::staff::session(p, token)
            .await
            .map_err(|e| session.err(e))?
            .ok_or_else(|| session.err(ServiceError::Unauthenticated))?;
        Some(
            totp::begin_enrolment(p, &full)
                .await
                .map_err(|e| session.err(e))?,
        )
    };
    let page = TotpPage {
        chrome: chrome(session, lang.t("双因素认证", "Two-factor authentication")),
        csrf: session.csrf.clone(),
        next: admin_next(next),
        done: session.staff.totp_enabled && session.complete,
        enrolment,
        error,
    };
    Ok(html(status, &page))
}

/// `GET /admin/totp`.
pub(crate) async fn form(
    State(s): State<Shared>,
    session: StaffSession,
    headers: axum::http::HeaderMap,
    q: Result<Query<NextQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let next = super::query(q, session.lang)?.next.unwrap_or_default();
    // Nothing to do for an account with TOTP whose session is past it.
    if session.staff.totp_enabled && session.complete && !next.is_empty() {
        return Ok(see_other(&admin_next(&next)));
    }
    let Some(token) = cookie(&headers, SESSION_COOKIE) else {
        return Err(session.err(ServiceError::Unauthenticated));
    };
    render(&s, &session, &token, StatusCode::OK, &next, None).await
}

/// `POST /admin/totp`.
pub(crate) async fn verify(
    State(s): State<Shared>,
    session: StaffSession,
    headers: axum::http::HeaderMap,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<CodeForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let lang = session.lang;
    let Some(token) = cookie(&headers, SESSION_COOKIE) else {
        return Err(session.err(ServiceError::Unauthenticated));
    };
    let ip = client_ip(&ext).to_string();
    let enrolling = !session.staff.totp_enabled;
    match totp::verify(&s.platform, &token, &f.code, &ip).await {
        Ok(_) => {
            let next = admin_next(&f.next);
            if enrolling && next == "/admin" {
                Ok(see_other("/admin?done=totp_enabled"))
            } else {
                Ok(see_other(&next))
            }
        }
        Err(e @ (ServiceError::Invalid(_) | ServiceError::TooManyAttempts)) => {
            let status = if matches!(e, ServiceError::TooManyAttempts) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::BAD_REQUEST
            };
            let mut msg = match e {
                ServiceError::Invalid(errs) => errs
                    .iter()
                    .map(|e| lang.t(&e.message_zh, &e.message_en).to_string())
                    .collect::<Vec<_>>()
                    .join("；"),
                _ => lang
                    .t(
                        "尝试次数过多，账户已临时锁定，请稍后再试。",
                        "Too many wrong codes: the account is locked for a while.",
                    )
                    .to_string(),
            };
            if enrolling {
                msg.push_str(lang.t(
                    "已生成新的密钥，请在验证器中删除旧条目并重新添加。",
                    " A new secret was made: remove the old entry from the app and add this one.",
                ));
            }
            render(&s, &session, &token, status, &f.next, Some(msg)).await
        }
        Err(e) => Ok(session.err(e).into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_inside_admin_and_skips_sign_in() {
        assert_eq!(admin_next("/admin/items"), "/admin/items");
        assert_eq!(admin_next("/admin/totp"), "/admin");
        assert_eq!(admin_next("/admin/login"), "/admin");
        assert_eq!(admin_next("/items"), "/admin");
        assert_eq!(admin_next("//evil.example/admin"), "/admin");
    }
}
