//! 修改密码: a signed-in staff member changes their own password (the current one is needed;
//! the identity service checks the policy and ends their other sessions).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use yiwang_services::ServiceError;
use yiwang_services::identity::staff as accounts;

use super::{AdminForm, chrome, client_ip, see_other};
use crate::Shared;
use crate::error::PageError;
use crate::pages::{Chrome, html};
use crate::session::{SESSION_COOKIE, StaffSession, cookie};

#[derive(Template)]
#[template(path = "admin/password.html")]
struct PasswordPage {
    chrome: Chrome,
    csrf: String,
    /// (field, message) of each problem.
    errors: Vec<(String, String)>,
}

impl PasswordPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// The posted change.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    old_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password2: String,
}

fn page(session: &StaffSession, errors: Vec<(String, String)>) -> PasswordPage {
    PasswordPage {
        chrome: chrome(session, session.lang.t("修改密码", "Change password")),
        csrf: session.csrf.clone(),
        errors,
    }
}

/// `GET /admin/password`.
pub(crate) async fn form(session: StaffSession) -> Response {
    html(StatusCode::OK, &page(&session, Vec::new()))
}

/// `POST /admin/password`.
pub(crate) async fn change(
    State(s): State<Shared>,
    session: StaffSession,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<PasswordForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let lang = session.lang;
    if f.new_password != f.new_password2 {
        let e = vec![(
            "new_password2".to_owned(),
            lang.t("两次输入的新密码不一致", "the new passwords differ")
                .to_owned(),
        )];
        return Ok(html(StatusCode::BAD_REQUEST, &page(&session, e)));
    }
    let Some(token) = cookie(&headers, SESSION_COOKIE) else {
        return Err(session.err(ServiceError::Unauthenticated));
    };
    let ip = client_ip(&ext).to_string();
    match accounts::change_password(&s.platform, &token, &f.old_password, &f.new_password, &ip)
        .await
    {
        Ok(()) => Ok(see_other("/admin?done=password")),
        Err(ServiceError::Invalid(errs)) => {
            let e = super::field_messages(lang, &errs);
            Ok(html(StatusCode::BAD_REQUEST, &page(&session, e)))
        }
        Err(e) => Err(session.err(e)),
    }
}
