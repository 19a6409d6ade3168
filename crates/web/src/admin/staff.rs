//! 人员管理: system administrators manage every staff account, department administrators
//! the staff of the organisation they act in (list, create, grant and revoke roles, disable
//! and enable, reset passwords, Excel export and import).
//!
//! Who may do what is decided by `yiwang_services::identity::staff_admin`; these pages only
//! offer what it allows (the role and organisation selects come from `grant_options`) and
//! show its answers: 403 for anyone else, 404 for an account outside the actor's scope, 409
//! for the last system administrator, 400 for bad fields (the form again, fields marked), 422
//! for a rejected workbook (the row-by-row report, nothing imported).
//!
//! | method | path | form fields / query | result |
//! |---|---|---|---|
//! | GET | `/admin/staff` | `org`, `q`, `page`, `done` | the staff list |
//! | GET | `/admin/staff/new` | | the new-account form |
//! | POST | `/admin/staff/new` | `csrf`, `username`, `display_name`, `home_org`, `roles` (repeated role names, granted in the home organisation), `initial_password` | 303 to `/admin/staff/{id}?done=created`; 400 the form with every bad field |
//! | GET | `/admin/staff/export` | | .xlsx of the staff in scope |
//! | GET | `/admin/staff/template` | | the blank import workbook |
//! | GET | `/admin/staff/import` | `done=imported&created=&updated=&unchanged=` | upload form |
//! | POST | `/admin/staff/import` | multipart `csrf`, `file` | 303 to the form with counts; 422 report; 400 no file; 413 too large |
//! | GET | `/admin/staff/{id}` | `done` | details, grant/revoke, disable/enable, password reset |
//! | POST | `/admin/staff/{id}/grant` | `csrf`, `role`, `org` | 303 `?done=granted` |
//! | POST | `/admin/staff/{id}/revoke` | `csrf`, `role`, `org` | 303 `?done=revoked` |
//! | POST | `/admin/staff/{id}/disable` | `csrf` | 303 `?done=disabled` |
//! | POST | `/admin/staff/{id}/enable` | `csrf` | 303 `?done=enabled` |
//! | POST | `/admin/staff/{id}/password` | `csrf`, `new_password` | 303 `?done=password_reset`; 400 the page with the policy's message |

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_services::error::CellError;
use yiwang_services::identity::staff::Role;
use yiwang_services::identity::staff_admin::{
    self as admin, Filter, GrantOptions, ImportSummary, NewStaff, StaffRecord,
};
use yiwang_services::{FieldError, ServiceError};

use super::{AdminForm, CsrfForm, chrome, field_messages, local_time, role_label, see_other};
use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::{Chrome, html};
use crate::session::{StaffSession, urlencode};

/// The notice shown for `?done=<what>` on these pages.
fn notice(lang: Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => lang.t("已创建人员账号。", "Account created."),
        "granted" => lang.t("已授予角色。", "Role granted."),
        "revoked" => lang.t("已撤销角色。", "Role revoked."),
        "disabled" => lang.t(
            "账号已停用，其登录会话已全部结束。",
            "Account disabled; its sessions have ended.",
        ),
        "enabled" => lang.t("账号已启用。", "Account enabled."),
        "password_reset" => lang.t(
            "密码已重置，其登录会话已全部结束。",
            "Password reset; the account's sessions have ended.",
        ),
        "imported" => lang.t("导入完成。", "Import finished."),
        "phone" => lang.t("提醒手机号已保存。", "Notification number saved."),
        _ => return None,
    })
}

fn assignments_text(lang: Lang, r: &StaffRecord) -> String {
    r.assignments
        .iter()
        .map(|a| format!("{}（{}）", role_label(lang, a.role), a.org_name))
        .collect::<Vec<_>>()
        .join(lang.t("、", ", "))
}

// ---------------------------------------------------------------------------------------------
// List
// ---------------------------------------------------------------------------------------------

struct ListRow {
    id: String,
    username: String,
    display_name: String,
    home_org_name: String,
    assignments: String,
    disabled: bool,
    totp: bool,
}

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct ListPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    rows: Vec<ListRow>,
    total: i64,
    page: u32,
    pages: u32,
    q: String,
    /// (credit code, name, selected) of the organisation filter; empty when only one.
    orgs: Vec<(String, String, bool)>,
    prev: Option<String>,
    next: Option<String>,
}

/// `?org=&q=&page=&done=` of the list.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// `GET /admin/staff`.
pub(crate) async fn list(
    State(s): State<Shared>,
    session: StaffSession,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let q = super::query(q, lang)?;
    let page = match q.page.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => 1,
        Some(p) => p.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            session.err(ServiceError::invalid(
                "page",
                "页码应为正整数",
                "page must be a positive whole number",
            ))
        })?,
    };
    let org = q
        .org
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned);
    let text = q.q.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let filter = Filter {
        org: org.clone(),
        q: Some(text.clone()).filter(|t| !t.is_empty()),
        page,
    };
    let listing = admin::list(&s.platform, &session.staff, &filter)
        .await
        .map_err(|e| session.err(e))?;
    let options = admin::grant_options(&s.platform, &session.staff).map_err(|e| session.err(e))?;
    let orgs = if options.orgs.len() > 1 {
        options
            .orgs
            .into_iter()
            .map(|(code, name)| {
                let on = org.as_deref() == Some(code.as_str());
                (code, name, on)
            })
            .collect()
    } else {
        Vec::new()
    };
    let link = |p: u32| {
        format!(
            "/admin/staff?org={}&q={}&page={p}",
            urlencode(org.as_deref().unwrap_or_default()),
            urlencode(&text)
        )
    };
    let page = ListPage {
        chrome: chrome(&session, lang.t("人员管理", "Staff")),
        notice: notice(lang, q.done.as_deref()),
        rows: listing
            .rows
            .iter()
            .map(|r| ListRow {
                id: r.id.clone(),
                username: r.username.clone(),
                display_name: r.display_name.clone(),
                home_org_name: r.home_org_name.clone(),
                assignments: assignments_text(lang, r),
                disabled: r.disabled,
                totp: r.totp_enabled,
            })
            .collect(),
        total: listing.total,
        page: listing.page,
        pages: listing.pages,
        prev: (listing.page > 1).then(|| link(listing.page - 1)),
        next: (listing.page < listing.pages).then(|| link(listing.page + 1)),
        q: text.clone(),
        orgs,
    };
    Ok(html(StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------
// New account
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/staff_new.html")]
struct NewPage {
    chrome: Chrome,
    username: String,
    display_name: String,
    /// (credit code, name, selected).
    orgs: Vec<(String, String, bool)>,
    /// (stored name, label, checked).
    roles: Vec<(&'static str, &'static str, bool)>,
    /// (field, message) of every bad field.
    errors: Vec<(String, String)>,
}

impl NewPage {
    /// The message of a field, if it is bad.
    fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Every message of a field, joined.
    fn errs(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join("；")
    }
}

fn new_page(
    session: &StaffSession,
    options: &GrantOptions,
    form: &NewStaff,
    errors: Vec<(String, String)>,
) -> NewPage {
    let lang = session.lang;
    let home = if form.home_org.is_empty() && options.orgs.len() == 1 {
        options.orgs[0].0.clone()
    } else {
        form.home_org.clone()
    };
    NewPage {
        chrome: chrome(session, lang.t("新增人员", "New staff account")),
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        orgs: options
            .orgs
            .iter()
            .map(|(c, n)| (c.clone(), n.clone(), *c == home))
            .collect(),
        roles: options
            .roles
            .iter()
            .map(|r| {
                (
                    r.as_str(),
                    role_label(lang, *r),
                    form.roles.iter().any(|(x, _)| x == r),
                )
            })
            .collect(),
        errors,
    }
}

/// `GET /admin/staff/new`.
pub(crate) async fn new_form(
    State(s): State<Shared>,
    session: StaffSession,
) -> Result<Response, PageError> {
    let options = admin::grant_options(&s.platform, &session.staff).map_err(|e| session.err(e))?;
    let page = new_page(&session, &options, &NewStaff::default(), Vec::new());
    Ok(html(StatusCode::OK, &page))
}

/// `POST /admin/staff/new`: fields as pairs (`roles` repeats).
pub(crate) async fn create(
    State(s): State<Shared>,
    session: StaffSession,
    AdminForm(pairs): AdminForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    session.check_csrf(&get("csrf"))?;
    let lang = session.lang;
    let home_org = get("home_org").trim().to_owned();
    let mut errors = Vec::new();
    let mut roles = Vec::new();
    for (_, v) in pairs.iter().filter(|(n, _)| n == "roles") {
        match Role::parse(v.trim()) {
            Some(r) => roles.push((r, home_org.clone())),
            None => errors.push(FieldError::new(
                "roles",
                format!("没有“{v}”这个角色"),
                format!("unknown role {v}"),
            )),
        }
    }
    let form = NewStaff {
        username: get("username"),
        display_name: get("display_name"),
        home_org,
        roles,
        initial_password: get("initial_password"),
    };
    let p = &s.platform;
    let options = admin::grant_options(p, &session.staff).map_err(|e| session.err(e))?;
    if !errors.is_empty() {
        let page = new_page(&session, &options, &form, field_messages(lang, &errors));
        return Ok(html(StatusCode::BAD_REQUEST, &page));
    }
    match admin::create(p, &session.staff, form.clone()).await {
        Ok(id) => Ok(see_other(&format!("/admin/staff/{id}?done=created"))),
        Err(ServiceError::Invalid(errors)) => {
            let page = new_page(&session, &options, &form, field_messages(lang, &errors));
            Ok(html(StatusCode::BAD_REQUEST, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// One account
// ---------------------------------------------------------------------------------------------

struct AssignmentView {
    role: &'static str,
    label: &'static str,
    org: String,
    org_name: String,
    revocable: bool,
}

#[derive(Template)]
#[template(path = "admin/staff_detail.html")]
struct DetailPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    s: StaffRecord,
    created: String,
    assignments: Vec<AssignmentView>,
    /// (stored name, label) of the roles the actor may grant.
    roles: Vec<(&'static str, &'static str)>,
    /// (credit code, name) of the organisations the actor may grant in.
    orgs: Vec<(String, String)>,
    /// Whether the actor may change this account (else the page is read-only).
    changeable: bool,
    is_self: bool,
    /// A problem with the last form, shown on the page.
    error: Option<String>,
}

async fn detail_page(
    s: &Shared,
    session: &StaffSession,
    id: &str,
    done: Option<&str>,
    error: Option<String>,
) -> Result<DetailPage, PageError> {
    let lang = session.lang;
    let p = &s.platform;
    let rec = admin::get(p, &session.staff, id)
        .await
        .map_err(|e| session.err(e))?;
    let options = admin::grant_options(p, &session.staff).map_err(|e| session.err(e))?;
    let system = session.staff.has(Role::SystemAdmin);
    let is_self = rec.id == session.staff.id;
    let changeable = system || !rec.is_administrator() || is_self;
    let scope = admin::Scope::of(&session.staff).map_err(|e| session.err(e))?;
    Ok(DetailPage {
        chrome: chrome(session, rec.display_name.clone()),
        notice: notice(lang, done),
        created: local_time(&rec.created_at),
        assignments: rec
            .assignments
            .iter()
            .map(|a| AssignmentView {
                role: a.role.as_str(),
                label: role_label(lang, a.role),
                org: a.org.clone(),
                org_name: a.org_name.clone(),
                revocable: changeable && scope.may_grant(a.role, &a.org),
            })
            .collect(),
        roles: options
            .roles
            .iter()
            .map(|r| (r.as_str(), role_label(lang, *r)))
            .collect(),
        orgs: options.orgs,
        changeable,
        is_self,
        error,
        s: rec,
    })
}

/// `GET /admin/staff/{id}`.
pub(crate) async fn page(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    q: Result<Query<super::DoneQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    let page = detail_page(&s, &session, &id, q.done.as_deref(), None).await?;
    Ok(html(StatusCode::OK, &page))
}

/// A posted role and organisation.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct RoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org: String,
}

fn parse_role(session: &StaffSession, role: &str) -> Result<Role, PageError> {
    Role::parse(role.trim())
        .ok_or_else(|| session.err(ServiceError::invalid("role", "请选择角色", "choose a role")))
}

/// `POST /admin/staff/{id}/grant`.
pub(crate) async fn grant(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<RoleForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let role = parse_role(&session, &f.role)?;
    admin::grant(&s.platform, &session.staff, &id, role, &f.org)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other(&format!("/admin/staff/{id}?done=granted")))
}

/// `POST /admin/staff/{id}/revoke`.
pub(crate) async fn revoke(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<RoleForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let role = parse_role(&session, &f.role)?;
    admin::revoke(&s.platform, &session.staff, &id, role, &f.org)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other(&format!("/admin/staff/{id}?done=revoked")))
}

/// `POST /admin/staff/{id}/disable`.
pub(crate) async fn disable(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    admin::set_disabled(&s.platform, &session.staff, &id, true)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other(&format!("/admin/staff/{id}?done=disabled")))
}

/// `POST /admin/staff/{id}/enable`.
pub(crate) async fn enable(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    admin::set_disabled(&s.platform, &session.staff, &id, false)
        .await
        .map_err(|e| session.err(e))?;
    Ok(see_other(&format!("/admin/staff/{id}?done=enabled")))
}

/// The posted new password.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    new_password: String,
}

/// `POST /admin/staff/{id}/password`.
pub(crate) async fn reset_password(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<PasswordForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let r = admin::reset_password(&s.platform, &session.staff, &id, &f.new_password).await;
    answer_change(&s, &session, &id, r, "password_reset").await
}

/// The answer to a change on a staff member's page: 303 back with `done`, or the page again
/// (400) with the bad fields' messages.
async fn answer_change(
    s: &Shared,
    session: &StaffSession,
    id: &str,
    result: Result<(), ServiceError>,
    done: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/staff/{id}?done={done}"))),
        Err(ServiceError::Invalid(errors)) => {
            let msg = field_messages(session.lang, &errors)
                .into_iter()
                .map(|(_, m)| m)
                .collect::<Vec<_>>()
                .join("；");
            let page = detail_page(s, session, id, None, Some(msg)).await?;
            Ok(html(StatusCode::BAD_REQUEST, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}

/// The posted mobile number.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct PhoneForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
}

/// `POST /admin/staff/{id}/phone`: the number for 超时提醒 (empty: remove it).
pub(crate) async fn set_phone(
    State(s): State<Shared>,
    session: StaffSession,
    Path(id): Path<String>,
    AdminForm(f): AdminForm<PhoneForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&f.csrf)?;
    let r = admin::set_phone(&s.platform, &session.staff, &id, &f.phone).await;
    answer_change(&s, &session, &id, r, "phone").await
}

// ---------------------------------------------------------------------------------------------
// Excel
// ---------------------------------------------------------------------------------------------

/// `GET /admin/staff/export`.
pub(crate) async fn export(
    State(s): State<Shared>,
    session: StaffSession,
) -> Result<Response, PageError> {
    let bytes = admin::export(&s.platform, &session.staff)
        .await
        .map_err(|e| session.err(e))?;
    Ok(super::excel::xlsx(bytes, "staff.xlsx", "人员.xlsx"))
}

/// `GET /admin/staff/template`.
pub(crate) async fn template(session: StaffSession) -> Result<Response, PageError> {
    let bytes = admin::template(&session.staff).map_err(|e| session.err(e))?;
    Ok(super::excel::xlsx(
        bytes,
        "staff-template.xlsx",
        "人员导入模板.xlsx",
    ))
}

#[derive(Template)]
#[template(path = "admin/staff_import.html")]
struct ImportPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    summary: Option<ImportSummary>,
    errors: Vec<CellError>,
    upload_error: Option<String>,
}

/// The result of an import, carried in the redirect's query.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ImportQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    created: Option<usize>,
    #[serde(default)]
    updated: Option<usize>,
    #[serde(default)]
    unchanged: Option<usize>,
}

fn import_page(session: &StaffSession) -> ImportPage {
    ImportPage {
        chrome: chrome(session, session.lang.t("导入人员", "Import staff")),
        notice: None,
        summary: None,
        errors: Vec::new(),
        upload_error: None,
    }
}

/// `GET /admin/staff/import`.
pub(crate) async fn import_form(
    session: StaffSession,
    q: Result<Query<ImportQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = super::query(q, session.lang)?;
    // Only those who may import see the form.
    admin::Scope::of(&session.staff).map_err(|e| session.err(e))?;
    let mut page = import_page(&session);
    page.notice = notice(session.lang, q.done.as_deref());
    page.summary = (q.done.as_deref() == Some("imported")).then(|| ImportSummary {
        created: q.created.unwrap_or(0),
        updated: q.updated.unwrap_or(0),
        unchanged: q.unchanged.unwrap_or(0),
    });
    Ok(html(StatusCode::OK, &page))
}

/// `POST /admin/staff/import`: multipart with `csrf` and `file`.
pub(crate) async fn import(
    State(s): State<Shared>,
    session: StaffSession,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    let mut page = import_page(&session);
    let bytes = match super::excel::read_upload(&session, multipart)
        .await?
        .file(session.lang)
    {
        Ok(b) => b,
        Err((status, msg)) => {
            page.upload_error = Some(msg);
            return Ok(html(status, &page));
        }
    };
    match admin::import(&s.platform, &session.staff, &bytes).await {
        Ok(sum) => Ok(see_other(&format!(
            "/admin/staff/import?done=imported&created={}&updated={}&unchanged={}",
            sum.created, sum.updated, sum.unchanged
        ))),
        Err(ServiceError::Import(errors)) => {
            page.errors = errors;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(session.err(e)),
    }
}
