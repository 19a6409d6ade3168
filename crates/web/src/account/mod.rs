//! 个人账号: citizens' registration, sign-in and account page on the portal, in Chinese with
//! English on `?lang=en`, usable without any JavaScript.
//!
//! A citizen's session is the `yw_user` cookie (HttpOnly, SameSite=Lax, Secure behind TLS),
//! which holds the token `identity::users::user_session` resolves. Forms shown before there is a
//! session (register, confirm, sign-in) carry a double-submit CSRF token (the `yw_account_csrf`
//! cookie echoed in a hidden field); forms of a session carry the session's CSRF token. Sign-in
//! attempts and every request that sends an SMS code are rate-limited per client address
//! ([`crate::AppState::account_limiter`]) on top of the identity service's own locks and
//! sending limits. Bad input shows the form again with every problem named (400); personal data
//! appear only masked, as the service gives them.
//!
//! The portal header shows 登录 | 注册, or the signed-in citizen's masked name and 退出: the
//! layout renders the anonymous links between `<!--yw:account-->` markers and [`header`]
//! replaces them for a signed-in citizen after the page is rendered, so that cached portal
//! pages never hold anyone's name. Forms on cached pages (the guide's 我要问) carry
//! [`CSRF_SLOT`] as their token, which [`header`] replaces with the citizen's.
//!
//! # URLs and form fields
//!
//! | method | path | form fields / query | result |
//! |---|---|---|---|
//! | GET | `/account/register` | | registration form; sets `yw_account_csrf` |
//! | POST | `/account/register` | `csrf`, `name`, `id_number`, `phone`, `password`, `password2` | 303 to `/account/confirm?u=<id>` (code sent); 400 every bad field; 403 bad csrf; 429 rate-limited |
//! | GET | `/account/confirm` | `u`, `sent` | the code form |
//! | POST | `/account/confirm` | `csrf`, `u`, `code` | 303 to `/account?done=registered`, `yw_user` set; 400 wrong code |
//! | POST | `/account/confirm/resend` | `csrf`, `u` | 303 to `/account/confirm?u=<id>&sent=1`; 429 too soon |
//! | GET | `/account/login` | `next` | 密码登录 and 短信验证码登录 forms |
//! | POST | `/account/login` | `csrf`, `account` (ID number or phone), `password`, `next` | 303 to `next` (same-site path) or `/account`; 400 wrong; 429 locked |
//! | POST | `/account/login/code/send` | `csrf`, `phone`, `next` | the sign-in page with the code field (200); 400 bad phone; 429 too soon |
//! | POST | `/account/login/code` | `csrf`, `phone`, `code`, `next` | 303 as the password sign-in; 400 wrong code |
//! | GET | `/account` | `done` | 我的账号 (masked data, level, how to reach the next levels) |
//! | POST | `/account/verify` | `csrf` | 303 to `/account?done=verified` or `?done=not_matched`; 503 library unavailable |
//! | POST | `/account/password` | `csrf`, `old_password`, `new_password`, `new_password2` | 303 to `/account?done=password`; 400 with the problems |
//! | POST | `/account/logout` | `csrf` | 303 to `/`, cookie expired |
//! | GET, POST | `/account/cases…`, `/cases/query` | see [`cases`] | 我的办件, 网上申报, 办件查询 |
//! | GET, POST | `/account/licences…` | see [`licences`] | 我的证照, 亮证, downloads, 授权用证 |
//! | GET, POST | `/account/questions…` | see [`questions`] | 我要问, 我的提问 |
//! | GET, POST | `/rate/{token}` | see [`ratings`] | 好差评 by the link of an SMS invitation (no account) |
//! | GET | `/account/enterprise` | `done` | 法人与经办人: enterprises the citizen represents with their grants, the bind and grant forms, grants held as an agent |
//! | POST | `/account/enterprise/bind` | `csrf`, `credit_code` | 303 `?done=bound`; 400 unknown/inactive code; 403 not the legal representative or below L2 |
//! | POST | `/account/enterprise/grant` | `csrf`, `credit_code`, `agent_name`, `agent_id_number`, `scope` (`all`/`items`), `items` (基本编码), `until` (YYYY-MM-DD) | 303 `?done=granted`; 400 with the problems; 404 not the citizen's enterprise |
//! | POST | `/account/enterprise/grants/{id}/revoke` | `csrf` | 303 `?done=revoked`; 404 not the citizen's grant; 409 already revoked |

mod cases;
mod enterprise;
mod licences;
mod login;
mod profile;
pub(crate) mod questions;
pub(crate) mod ratings;
mod register;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use yiwang_services::FieldError;
use yiwang_services::identity::staff::random_token;
use yiwang_services::identity::users::Level;

use crate::Shared;
use crate::i18n::Lang;
use crate::pages::Chrome;
use crate::session::{USER_COOKIE, UserSession, constant_time_eq, cookie, set_cookie};

/// The cookie of the double-submit CSRF token of forms shown before sign-in.
pub const ACCOUNT_CSRF_COOKIE: &str = "yw_account_csrf";

/// Routes of the citizens' account pages.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/account", get(profile::page))
        .route("/account/verify", post(profile::verify))
        .route("/account/password", post(profile::change_password))
        .route("/account/email/send", post(profile::send_email_code))
        .route("/account/email/confirm", post(profile::confirm_email))
        .route("/account/email/remove", post(profile::remove_email))
        .route("/account/logout", post(login::sign_out))
        .route("/account/cases", get(cases::list))
        .route(
            "/account/cases/new",
            get(cases::new_form).post(cases::start),
        )
        .route("/account/cases/{id}", get(cases::page))
        .route(
            "/account/cases/{id}/upload",
            post(cases::upload).layer(crate::admin::cases::material_body_limit()),
        )
        .route("/account/cases/{id}/files/{file}", get(cases::file))
        .route(
            "/account/cases/{id}/files/{file}/delete",
            post(cases::remove),
        )
        .route("/account/cases/{id}/{action}", post(cases::act))
        .route("/cases/query", get(cases::public_query))
        .route("/rate/{token}", get(ratings::form).post(ratings::rate))
        .route("/account/licences", get(licences::list))
        .route("/account/licences/{id}", get(licences::page))
        .route("/account/licences/{id}/pdf", get(licences::pdf))
        .route("/account/licences/{id}/document", get(licences::document))
        .route("/account/licences/{id}/shares", post(licences::share))
        .route(
            "/account/licences/{id}/shares/{case}/withdraw",
            post(licences::withdraw_share),
        )
        .route(
            "/account/questions",
            get(questions::list).post(questions::ask),
        )
        .route("/account/questions/new", get(questions::new_form))
        .route(
            "/account/questions/{id}/withdraw",
            post(questions::withdraw),
        )
        .route("/account/enterprise", get(enterprise::page))
        .route("/account/enterprise/bind", post(enterprise::bind))
        .route("/account/enterprise/grant", post(enterprise::grant))
        .route(
            "/account/enterprise/grants/{id}/revoke",
            post(enterprise::revoke),
        )
        .route(
            "/account/register",
            get(register::form).post(register::register),
        )
        .route(
            "/account/confirm",
            get(register::confirm_form).post(register::confirm),
        )
        .route("/account/confirm/resend", post(register::resend))
        .route("/account/login", get(login::form).post(login::password))
        .route("/account/login/code/send", post(login::send_code))
        .route("/account/login/code", post(login::code))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// The chrome of an account page.
pub(crate) fn chrome(lang: Lang, title: &str) -> Chrome {
    Chrome::new(lang, title)
}

/// The token of the browser's account-form cookie if it has a usable one.
pub(crate) fn form_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, ACCOUNT_CSRF_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a posted form's `csrf` equals the browser's account-form cookie.
pub(crate) fn form_csrf_ok(headers: &HeaderMap, field: &str) -> bool {
    form_token(headers)
        .is_some_and(|c| !field.is_empty() && constant_time_eq(c.as_bytes(), field.as_bytes()))
}

/// The token to put in a form: the browser's, or a new one.
pub(crate) fn token_for(headers: &HeaderMap) -> String {
    form_token(headers).unwrap_or_else(random_token)
}

/// Adds the account-form cookie to a response.
pub(crate) fn with_form_cookie(mut res: Response, token: &str, secure: bool) -> Response {
    if let Ok(v) = HeaderValue::from_str(&set_cookie(ACCOUNT_CSRF_COOKIE, token, secure, None)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// Adds the session cookie of a new citizen session to a response.
pub(crate) fn with_session_cookie(mut res: Response, token: &str, secure: bool) -> Response {
    for c in [
        set_cookie(USER_COOKIE, token, secure, None),
        set_cookie(ACCOUNT_CSRF_COOKIE, "", secure, Some(0)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// The message of a refused double-submit check.
pub(crate) fn csrf_message(lang: Lang) -> String {
    lang.t(
        "表单已过期或来源不明（CSRF 校验失败），请重新提交。",
        "The form expired or came from elsewhere (CSRF check failed). Please submit it again.",
    )
    .to_string()
}

/// The message of the per-address rate limit.
pub(crate) fn rate_message(lang: Lang) -> String {
    lang.t(
        "操作过于频繁，请 1 分钟后再试。",
        "Too many attempts from this address. Try again in a minute.",
    )
    .to_string()
}

/// The problems of a form, by field, in the page language; `form` is the whole form.
#[derive(Debug, Default)]
pub(crate) struct Errors {
    list: Vec<(String, String)>,
}

impl Errors {
    /// One problem not tied to a field.
    pub(crate) fn general(msg: String) -> Errors {
        Errors {
            list: vec![("form".into(), msg)],
        }
    }

    /// Adds the service's field errors, each prefixed by its field's label.
    pub(crate) fn extend(
        &mut self,
        lang: Lang,
        errs: &[FieldError],
        label: impl Fn(&str) -> &'static str,
    ) {
        for e in errs {
            let l = label(&e.field);
            let m = lang.t(&e.message_zh, &e.message_en);
            let text = if l.is_empty() {
                m.to_string()
            } else {
                format!("{l}{}{m}", lang.t("：", ": "))
            };
            self.list.push((e.field.clone(), text));
        }
    }

    /// The problems of a field, joined.
    pub fn get(&self, field: &str) -> Option<String> {
        let v: Vec<&str> = self
            .list
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect();
        (!v.is_empty()).then(|| v.join("；"))
    }

    /// Whether a field has a problem.
    pub fn has(&self, field: &str) -> bool {
        self.list.iter().any(|(f, _)| f == field)
    }

    /// Whether there is any problem.
    pub fn any(&self) -> bool {
        !self.list.is_empty()
    }

    /// Every problem: (field, message).
    pub fn all(&self) -> &[(String, String)] {
        &self.list
    }
}

/// A real-name level in the page language.
pub(crate) fn level_label(lang: Lang, l: Level) -> &'static str {
    lang.t(
        l.label_zh(),
        match l {
            Level::L1 => "L1 basic (format checked)",
            Level::L2 => "L2 checked with the population library",
            Level::L3 => "L3 verified in person at a service hall",
        },
    )
}

/// How to reach a level, in the page language.
pub(crate) fn level_how(lang: Lang, l: Level) -> &'static str {
    lang.t(
        l.how_zh(),
        match l {
            Level::L1 => "Register and confirm your mobile number.",
            Level::L2 => {
                "Start the population-library check on this page: your name and ID number must match the household register."
            }
            Level::L3 => "Bring your ID card to any service hall window, where staff check it in person.",
        },
    )
}

/// Escapes text for HTML.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The token of forms on pages rendered for everybody (and cached): the header middleware
/// puts the signed-in citizen's CSRF token in its place; anybody else sends it as it is, and
/// is sent to sign in.
pub const CSRF_SLOT: &str = "yw-csrf-slot";

const MARK_START: &str = "<!--yw:account-->";
const MARK_END: &str = "<!--/yw:account-->";

/// Largest page the header middleware rewrites.
const MAX_PAGE: usize = 8 * 1024 * 1024;

/// Middleware of the portal: finds the citizen session of a request that has a `yw_user` cookie
/// (once; account handlers take it from the request's extensions) and, on HTML pages, shows the
/// citizen's masked name and a sign-out button in place of 登录 | 注册.
pub async fn header(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let skip = path.starts_with("/api/")
        || path.starts_with("/static/")
        || path.starts_with("/admin")
        || path == "/healthz"
        || cookie(req.headers(), USER_COOKIE).is_none();
    if skip {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let user = match UserSession::of(&s, &parts).await {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "citizen session lookup failed");
            None
        }
    };
    if let Some(u) = &user {
        parts.extensions.insert(u.clone());
    }
    let res = next.run(Request::from_parts(parts, body)).await;
    match user {
        Some(u) => personalise(res, &u).await,
        None => res,
    }
}

/// Replaces the header's anonymous links with the citizen's name and 退出.
async fn personalise(res: Response, u: &UserSession) -> Response {
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "服务器内部错误 / Internal error",
        )
            .into_response();
    };
    let Ok(page) = std::str::from_utf8(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let (Some(start), Some(end)) = (page.find(MARK_START), page.find(MARK_END)) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if end < start {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let lang = u.lang;
    let me = format!(
        "<a href=\"/account/cases\">{}</a><span aria-hidden=\"true\"> | </span>\
         <a href=\"/account/questions\">{}</a><span aria-hidden=\"true\"> | </span>\
         <a class=\"me\" href=\"/account\"><span class=\"visually-hidden\">{}</span>{}</a>\
         <form class=\"signout\" method=\"post\" action=\"/account/logout\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\">{}</button></form>",
        lang.t("我的办件", "My cases"),
        lang.t("我的提问", "My questions"),
        lang.t("我的账号：", "My account: "),
        escape(&u.user.name_masked()),
        escape(&u.csrf),
        lang.t("退出", "Sign out"),
    );
    let mut out = String::with_capacity(page.len() + me.len());
    out.push_str(&page[..start + MARK_START.len()]);
    out.push_str(&me);
    out.push_str(&page[end..]);
    let out = if out.contains(CSRF_SLOT) {
        out.replace(CSRF_SLOT, &escape(&u.csrf))
    } else {
        out
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    // A personalised page is nobody else's.
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, Body::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_by_field() {
        let mut e = Errors::default();
        e.extend(
            Lang::Zh,
            &[
                FieldError::new("name", "请填写真实姓名", "name"),
                FieldError::new("phone", "请填写 11 位手机号码", "phone"),
            ],
            |f| if f == "name" { "姓名" } else { "" },
        );
        assert_eq!(e.get("name").as_deref(), Some("姓名：请填写真实姓名"));
        assert_eq!(e.get("phone").as_deref(), Some("请填写 11 位手机号码"));
        assert!(e.has("phone") && !e.has("code") && e.any());
        assert_eq!(escape("<a \"b\">&'"), "&lt;a &quot;b&quot;&gt;&amp;&#39;");
    }
}
