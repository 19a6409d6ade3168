//! 我的账号: the signed-in citizen's masked data, real-name level and how to reach the higher
//! ones, the population-library check (L2), the password change and the e-mail address for
//! notices (confirmed with a code sent to it).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_services::ServiceError;
use yiwang_services::identity::users::{self, Level};

use super::enterprise::service_session;
use super::{Errors, chrome, level_how, level_label};
use crate::Shared;
use crate::admin::{AdminForm, CsrfForm, DoneQuery, client_ip, query, see_other};
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::UserSession;

/// A level above the citizen's, and how to reach it.
struct Higher {
    label: &'static str,
    how: &'static str,
}

#[derive(Template)]
#[template(path = "account/index.html")]
struct AccountPage {
    chrome: Chrome,
    csrf: String,
    name: String,
    id_number: String,
    phone: String,
    level: &'static str,
    level_no: u8,
    higher: Vec<Higher>,
    can_verify: bool,
    notice: Option<(&'static str, &'static str)>,
    errors: Errors,
    /// The confirmed e-mail address, masked.
    email: Option<String>,
    /// An address a code was just sent to, for the confirmation form.
    pending_email: Option<String>,
}

/// The posted e-mail forms.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct EmailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    code: String,
}

/// The posted password change.
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

/// The notice of `?done=`: (class, text).
fn notice(lang: Lang, done: Option<&str>) -> Option<(&'static str, &'static str)> {
    Some(match done? {
        "registered" => (
            "ok",
            lang.t(
                "注册成功，手机号码已验证。",
                "Registered: your mobile number is confirmed.",
            ),
        ),
        "verified" => (
            "ok",
            lang.t(
                "人口库核验通过，实名等级已更新。",
                "The population library confirmed your name and ID number.",
            ),
        ),
        "not_matched" => (
            "bad",
            lang.t(
                "人口库核验未通过：姓名与身份证号码与户籍登记不一致。如有疑问，请携带居民身份证到政务服务大厅窗口核验。",
                "The population library did not confirm your name and ID number. Bring your ID card to a service hall to be checked in person.",
            ),
        ),
        "password" => (
            "ok",
            lang.t(
                "密码已修改，其他设备上的登录已退出。",
                "Password changed; other sessions were signed out.",
            ),
        ),
        "email_sent" => (
            "ok",
            lang.t(
                "验证码已发送到该邮箱，请在5分钟内填写。",
                "A code was sent to that address: enter it within 5 minutes.",
            ),
        ),
        "email" => (
            "ok",
            lang.t(
                "邮箱已验证，办件进度将同时通过邮件通知您。",
                "Address confirmed: case progress is also sent by e-mail.",
            ),
        ),
        "email_removed" => (
            "ok",
            lang.t("邮箱已删除。", "The e-mail address was removed."),
        ),
        _ => return None,
    })
}

async fn render(
    s: &Shared,
    session: &UserSession,
    status: StatusCode,
    done: Option<&str>,
    errors: Errors,
    pending_email: Option<String>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let email = users::email_of(&s.platform, &session.user.id)
        .await
        .map_err(|e| session.err(e))?
        .map(|e| users::mask_email(&e));
    let u = &session.user;
    let higher = [Level::L2, Level::L3]
        .into_iter()
        .filter(|l| *l > u.level)
        .map(|l| Higher {
            label: level_label(lang, l),
            how: level_how(lang, l),
        })
        .collect();
    let page = AccountPage {
        chrome: chrome(lang, lang.t("我的账号", "My account")),
        csrf: session.csrf.clone(),
        name: u.name_masked(),
        id_number: u.id_number_masked.clone(),
        phone: u.phone_masked.clone(),
        level: level_label(lang, u.level),
        level_no: u.level as u8,
        higher,
        can_verify: u.level < Level::L2,
        notice: notice(lang, done),
        errors,
        email,
        pending_email,
    };
    Ok(html(status, &page))
}

/// `GET /account`.
pub(crate) async fn page(
    State(s): State<Shared>,
    session: UserSession,
    q: Result<Query<DoneQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q, session.lang)?;
    render(
        &s,
        &session,
        StatusCode::OK,
        q.done.as_deref(),
        Errors::default(),
        None,
    )
    .await
}

fn email_errors(lang: Lang, errs: &[yiwang_services::FieldError]) -> Errors {
    let mut e = Errors::default();
    e.extend(lang, errs, |f| match (f, lang) {
        ("email", Lang::Zh) => "电子邮箱",
        ("email", Lang::En) => "E-mail",
        (_, Lang::Zh) => "验证码",
        (_, Lang::En) => "Code",
    });
    e
}

/// `POST /account/email/send`: a code to the address; the page asks for it.
pub(crate) async fn send_email_code(
    State(s): State<Shared>,
    session: UserSession,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<EmailForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let ip = client_ip(&ext).to_string();
    match users::request_email(&s.platform, &service_session(&session), &f.email, &ip).await {
        Ok(()) => {
            let to = users::parse_email(&f.email).ok();
            render(
                &s,
                &session,
                StatusCode::OK,
                Some("email_sent"),
                Errors::default(),
                to,
            )
            .await
        }
        Err(ServiceError::Invalid(errs)) => {
            let errors = email_errors(session.lang, &errs);
            render(&s, &session, StatusCode::BAD_REQUEST, None, errors, None).await
        }
        Err(e) => Err(session.err(e)),
    }
}

/// `POST /account/email/confirm`.
pub(crate) async fn confirm_email(
    State(s): State<Shared>,
    session: UserSession,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<EmailForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let ip = client_ip(&ext).to_string();
    match users::confirm_email(
        &s.platform,
        &service_session(&session),
        &f.email,
        &f.code,
        &ip,
    )
    .await
    {
        Ok(()) => Ok(see_other("/account?done=email")),
        Err(ServiceError::Invalid(errs)) => {
            let errors = email_errors(session.lang, &errs);
            let pending = users::parse_email(&f.email).ok();
            render(&s, &session, StatusCode::BAD_REQUEST, None, errors, pending).await
        }
        Err(e) => Err(session.err(e)),
    }
}

/// `POST /account/email/remove`.
pub(crate) async fn remove_email(
    State(s): State<Shared>,
    session: UserSession,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let ip = client_ip(&ext).to_string();
    users::remove_email(&s.platform, &service_session(&session), &ip)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other("/account?done=email_removed"))
}

/// `POST /account/verify`: the population-library check.
pub(crate) async fn verify(
    State(s): State<Shared>,
    session: UserSession,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let ip = client_ip(&ext).to_string();
    let level = users::verify_with_population_library(&s.platform, &session.user.id, &ip)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other(if level >= Level::L2 {
        "/account?done=verified"
    } else {
        "/account?done=not_matched"
    }))
}

/// `POST /account/password`.
pub(crate) async fn change_password(
    State(s): State<Shared>,
    session: UserSession,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<PasswordForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let lang = session.lang;
    let labels = |field: &str| -> &'static str {
        match field {
            "old_password" => "原密码",
            "new_password" => "新密码",
            "new_password2" => "确认新密码",
            _ => "",
        }
    };
    let labels_en = |field: &str| -> &'static str {
        match field {
            "old_password" => "Current password",
            "new_password" => "New password",
            "new_password2" => "Repeat new password",
            _ => "",
        }
    };
    let field_errors = |errs: &[yiwang_services::FieldError]| {
        let mut e = Errors::default();
        match lang {
            Lang::Zh => e.extend(lang, errs, labels),
            Lang::En => e.extend(lang, errs, labels_en),
        }
        e
    };
    if f.new_password != f.new_password2 {
        let errs = [yiwang_services::FieldError::new(
            "new_password2",
            "两次输入的新密码不一致",
            "the new passwords differ",
        )];
        return render(
            &s,
            &session,
            StatusCode::BAD_REQUEST,
            None,
            field_errors(&errs),
            None,
        )
        .await;
    }
    let ip = client_ip(&ext).to_string();
    match users::change_password(
        &s.platform,
        &session.token,
        &f.old_password,
        &f.new_password,
        &ip,
    )
    .await
    {
        Ok(()) => Ok(see_other("/account?done=password")),
        Err(ServiceError::Invalid(errs)) => {
            render(
                &s,
                &session,
                StatusCode::BAD_REQUEST,
                None,
                field_errors(&errs),
                None,
            )
            .await
        }
        Err(e) => Err(session.err(e)),
    }
}
