//! Identity pages of the management platform: the organisation switcher of the header,
//! 窗口实名核验 (a window clerk raises a citizen to L3 after seeing them and their ID card) and
//! 审计日志 (system administrators read the audit log and check its SM3 hash chain).
//!
//! Who may do what is decided by the service functions (`verify_in_person` requires the window
//! clerk role; `audit_log` and `audit_verify` the system administrator role); the pages only
//! show their answers. Personal data appear masked only.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use yiwang_services::ServiceError;
use yiwang_services::identity::audit::{LogLine, Verification};
use yiwang_services::identity::staff::{self as accounts, Role};
use yiwang_services::identity::users;

use super::{AdminForm, chrome, client_ip, local_time_secs, see_other};
use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::{SESSION_COOKIE, StaffSession, cookie};

/// Audit-log entries on one page.
const PAGE: i64 = 50;

/// The posted organisation switch.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct OrgForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    org: String,
}

/// `POST /admin/org`: act in another organisation the staff member holds a role in.
pub(crate) async fn switch_org(
    State(s): State<Shared>,
    session: StaffSession,
    headers: axum::http::HeaderMap,
    AdminForm(f): AdminForm<OrgForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let Some(token) = cookie(&headers, SESSION_COOKIE) else {
        return Err(session.err(ServiceError::Unauthenticated));
    };
    accounts::switch_org(&s.platform, &token, f.org.trim())
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other("/admin?done=org_switched"))
}

/// A verified citizen as the clerk sees them.
struct Verified {
    name: String,
    id_number: String,
    phone: String,
    level: String,
}

#[derive(Template)]
#[template(path = "admin/identity_verify.html")]
struct VerifyPage {
    chrome: Chrome,
    csrf: String,
    id_number: String,
    error: Option<String>,
    verified: Option<Verified>,
}

/// The posted ID number.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct VerifyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id_number: String,
}

fn level_label(lang: Lang, l: users::Level) -> &'static str {
    lang.t(
        l.label_zh(),
        match l {
            users::Level::L1 => "L1 basic (format checked)",
            users::Level::L2 => "L2 checked with the population library",
            users::Level::L3 => "L3 verified in person",
        },
    )
}

fn verify_page(session: &StaffSession) -> VerifyPage {
    VerifyPage {
        chrome: chrome(
            session,
            session.lang.t("窗口实名核验", "In-person identity check"),
        ),
        csrf: session.csrf.clone(),
        id_number: String::new(),
        error: None,
        verified: None,
    }
}

/// `GET /admin/identity/verify`: the form, for window clerks.
pub(crate) async fn verify_form(session: StaffSession) -> Result<Response, PageError> {
    session
        .staff
        .require(Role::WindowClerk)
        .map_err(|e| session.err(e))?;
    Ok(html(StatusCode::OK, &verify_page(&session)))
}

/// `POST /admin/identity/verify`: raises the citizen with this ID number to L3.
pub(crate) async fn verify(
    State(s): State<Shared>,
    session: StaffSession,
    ext: axum::http::Extensions,
    AdminForm(f): AdminForm<VerifyForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let lang = session.lang;
    let ip = client_ip(&ext).to_string();
    let mut page = verify_page(&session);
    match users::verify_in_person(&s.platform, &session.staff, &f.id_number, &ip).await {
        Ok(u) => {
            page.verified = Some(Verified {
                name: u.name_masked(),
                id_number: u.id_number_masked.clone(),
                phone: u.phone_masked.clone(),
                level: level_label(lang, u.level).to_string(),
            });
            Ok(html(StatusCode::OK, &page))
        }
        Err(ServiceError::Invalid(errs)) => {
            page.id_number = f.id_number.trim().to_string();
            page.error = Some(
                errs.iter()
                    .map(|e| lang.t(&e.message_zh, &e.message_en).to_string())
                    .collect::<Vec<_>>()
                    .join("；"),
            );
            Ok(html(StatusCode::BAD_REQUEST, &page))
        }
        Err(ServiceError::NotFound { .. }) => {
            page.id_number = f.id_number.trim().to_string();
            page.error = Some(
                lang.t(
                    "没有使用该身份证号码注册的用户，请办事人先在网上注册。",
                    "No account is registered with this ID number; ask the person to register online first.",
                )
                .to_string(),
            );
            Ok(html(StatusCode::NOT_FOUND, &page))
        }
        Err(e) => Ok(session.err(e).into_response()),
    }
}

/// One audit-log line with its time in Beijing time.
struct Line {
    l: LogLine,
    at: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: Chrome,
    lines: Vec<Line>,
    /// The `before` of the next (older) page, when there is one.
    older: Option<i64>,
    /// Whether this is not the newest page.
    paged: bool,
    check: Option<Verification>,
}

/// `?before=&verify=` of the audit page.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    verify: Option<String>,
}

/// `GET /admin/audit`: the newest entries, paged by `before`; `verify=1` also checks the chain.
pub(crate) async fn audit(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let before = match q.before.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        None => None,
        Some(b) => Some(b.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            session.err(ServiceError::invalid(
                "before",
                "序号应为正整数",
                "before must be a positive whole number",
            ))
        })?),
    };
    let p = &s.platform;
    let lines = accounts::audit_log(p, &session.staff, before, PAGE)
        .await
        .map_err(|e| session.err(e))?;
    let check = if q.verify.is_some() {
        Some(
            accounts::audit_verify(p, &session.staff)
                .await
                .map_err(|e| session.err(e))?,
        )
    } else {
        None
    };
    let older = (lines.len() as i64 == PAGE)
        .then(|| lines.last().map(|l| l.seq))
        .flatten()
        .filter(|s| *s > 1);
    let page = AuditPage {
        chrome: chrome(&session, session.lang.t("审计日志", "Audit log")),
        lines: lines
            .into_iter()
            .map(|l| Line {
                at: local_time_secs(&l.at),
                l,
            })
            .collect(),
        older,
        paged: before.is_some(),
        check,
    };
    Ok(html(StatusCode::OK, &page))
}
