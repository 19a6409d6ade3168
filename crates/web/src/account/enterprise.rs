//! 法人账号与经办人授权: a citizen who is an enterprise's legal representative (according to the
//! legal-person library) binds the enterprise to their account, authorises agents (经办人) for
//! every item or for some items (基本编码) until a date, and revokes them; an agent sees the
//! authorisations they hold. Every rule (L2 or above, the library's legal representative,
//! scope, expiry, who may see which grant) is decided by `identity::enterprises`.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use yiwang_services::ServiceError;
use yiwang_services::identity::enterprises::{self, Grant, Scope};
use yiwang_services::identity::users;

use super::{Errors, chrome};
use crate::Shared;
use crate::admin::{AdminForm, DoneQuery, client_ip, local_time, query, see_other};
use crate::error::PageError;
use crate::pages::{Chrome, html};
use crate::session::UserSession;

/// One enterprise the citizen represents, with its grants.
struct Represented {
    credit_code: String,
    name: String,
    kind: String,
    grants: Vec<GrantRow>,
}

/// A grant as listed.
struct GrantRow {
    id: String,
    enterprise_name: String,
    agent: String,
    scope: String,
    until: String,
    live: bool,
}

#[derive(Template)]
#[template(path = "account/enterprise.html")]
struct EnterprisePage {
    chrome: Chrome,
    csrf: String,
    represented: Vec<Represented>,
    held: Vec<GrantRow>,
    errors: Errors,
    notice: Option<&'static str>,
}

fn row(lang: crate::i18n::Lang, g: Grant, now: chrono::DateTime<chrono::Utc>) -> GrantRow {
    let live = g.revoked_at.is_none()
        && chrono::DateTime::parse_from_rfc3339(&g.expires_at).is_ok_and(|t| t > now);
    GrantRow {
        id: g.id,
        enterprise_name: g.enterprise_name,
        agent: g.agent_name_masked,
        scope: match g.scope {
            Scope::All => lang.t("全部事项", "Every item").to_string(),
            Scope::Items(v) => v.join("、"),
        },
        until: local_time(&g.expires_at),
        live,
    }
}

/// The service layer's view of the web session.
pub(super) fn service_session(s: &UserSession) -> users::UserSession {
    users::UserSession {
        user: s.user.clone(),
        csrf: s.csrf.clone(),
    }
}

async fn render(
    s: &Shared,
    session: &UserSession,
    status: StatusCode,
    errors: Errors,
    notice: Option<&'static str>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let me = service_session(session);
    let p = &s.platform;
    let now = p.now();
    let mut represented = Vec::new();
    for e in enterprises::represented(p, &me)
        .await
        .map_err(|e| session.err(e))?
    {
        let grants = enterprises::grants_of(p, &me, &e.credit_code)
            .await
            .map_err(|e| session.err(e))?
            .into_iter()
            .map(|g| row(lang, g, now))
            .collect();
        represented.push(Represented {
            credit_code: e.credit_code,
            name: e.name,
            kind: e.kind,
            grants,
        });
    }
    let held = enterprises::my_grants(p, &me)
        .await
        .map_err(|e| session.err(e))?
        .into_iter()
        .map(|g| row(lang, g, now))
        .collect();
    let page = EnterprisePage {
        chrome: chrome(lang, lang.t("法人与经办人", "Enterprises and agents")),
        csrf: session.csrf.clone(),
        represented,
        held,
        errors,
        notice,
    };
    Ok(html(status, &page))
}

/// `GET /account/enterprise`.
pub(crate) async fn page(
    State(s): State<Shared>,
    session: UserSession,
    q: Result<Query<DoneQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let q = query(q, lang)?;
    let notice = match q.done.as_deref() {
        Some("bound") => Some(lang.t(
            "企业已绑定到您的账号。",
            "The enterprise is bound to your account.",
        )),
        Some("granted") => Some(lang.t(
            "已授权经办人，并已短信通知。",
            "The agent is authorised and was told by SMS.",
        )),
        Some("revoked") => Some(lang.t("授权已撤销。", "The authorisation is revoked.")),
        _ => None,
    };
    render(&s, &session, StatusCode::OK, Errors::default(), notice).await
}

/// The posted credit code.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct BindForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    credit_code: String,
}

/// Answers a refused action with the page and the problems (400), or the service's error page.
async fn refused(
    s: &Shared,
    session: &UserSession,
    e: ServiceError,
) -> Result<Response, PageError> {
    match e {
        ServiceError::Invalid(errs) => {
            let mut errors = Errors::default();
            errors.extend(session.lang, &errs, |_| "");
            render(s, session, StatusCode::BAD_REQUEST, errors, None).await
        }
        e => Err(session.err(e)),
    }
}

/// `POST /account/enterprise/bind`.
pub(crate) async fn bind(
    State(s): State<Shared>,
    session: UserSession,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<BindForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let ip = client_ip(&ext).to_string();
    match enterprises::bind(&s.platform, &service_session(&session), &f.credit_code, &ip).await {
        Ok(_) => Ok(see_other("/account/enterprise?done=bound")),
        Err(e) => refused(&s, &session, e).await,
    }
}

/// The posted authorisation.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct GrantForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    credit_code: String,
    #[serde(default)]
    agent_name: String,
    #[serde(default)]
    agent_id_number: String,
    /// `all`, or `items` with `items` listing 基本编码.
    #[serde(default)]
    scope: String,
    #[serde(default)]
    items: String,
    #[serde(default)]
    until: String,
}

/// `POST /account/enterprise/grant`.
pub(crate) async fn grant(
    State(s): State<Shared>,
    session: UserSession,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<GrantForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let ip = client_ip(&ext).to_string();
    let scope = if f.scope == "all" {
        Scope::All
    } else {
        Scope::Items(
            f.items
                .split([',', '，', '、', ' ', '\n'])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    };
    let Ok(until) = NaiveDate::parse_from_str(f.until.trim(), "%Y-%m-%d") else {
        return refused(
            &s,
            &session,
            ServiceError::invalid(
                "until",
                "请按“年-月-日”填写授权截止日期，如 2027-06-30",
                "enter the expiry as year-month-day, e.g. 2027-06-30",
            ),
        )
        .await;
    };
    match enterprises::grant(
        &s.platform,
        &service_session(&session),
        &f.credit_code,
        &f.agent_id_number,
        &f.agent_name,
        scope,
        until,
        &ip,
    )
    .await
    {
        Ok(_) => Ok(see_other("/account/enterprise?done=granted")),
        Err(e) => refused(&s, &session, e).await,
    }
}

/// A posted button.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ButtonForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /account/enterprise/grants/{id}/revoke`.
pub(crate) async fn revoke(
    State(s): State<Shared>,
    session: UserSession,
    Path(id): Path<String>,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<ButtonForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let ip = client_ip(&ext).to_string();
    enterprises::revoke(&s.platform, &service_session(&session), &id, &ip)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other("/account/enterprise?done=revoked"))
}
