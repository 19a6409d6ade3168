//! 人员管理 (staff administration): accounts, role assignments, disabling, password resets and
//! the Excel exchange of staff lists.
//!
//! # Who may manage whom
//!
//! Every function takes the acting [`Staff`] and decides authorization here:
//!
//! - a 系统管理员 ([`Role::SystemAdmin`], in the organisation the session acts in) manages every
//!   staff account and may grant any role in any organisation;
//! - a 部门管理员 ([`Role::DeptAdmin`]) manages the staff whose home organisation is the one the
//!   session acts in, and may grant or revoke only non-administrative roles, only in that
//!   organisation. Accounts holding an administrative role (部门管理员, 系统管理员) anywhere are
//!   shown to them but may be changed only by a system administrator (except their own
//!   non-administrative roles), so a department administrator can never lock out or take
//!   over an administrator;
//! - anyone else is `Forbidden`. A staff member outside the actor's scope is `NotFound`: whether
//!   an account exists elsewhere is not disclosed.
//!
//! The last 系统管理员 assignment held by an active account is never revoked nor its account
//! disabled (`Conflict`); nobody disables their own account. Disabling an account or resetting
//! its password ends its sessions.
//!
//! Each change is one transaction with its audit-log entry (`staff.create`,
//! `staff.role_grant`, `staff.role_revoke`, `staff.disable`, `staff.enable`,
//! `staff.password_reset`, `staff.import`); the actor is `staff:<id>`, the target
//! `staff:<id>`; passwords never appear in the log.
//!
//! # Excel
//!
//! [`export`] writes one sheet 人员: 用户名, 姓名, 所属单位统一社会信用代码, 角色 (Chinese role
//! labels separated by 、), 角色所在单位统一社会信用代码 (empty: the home organisation), 状态;
//! one row per staff member and organisation they hold roles in (a member with roles in two
//! organisations has two rows). [`template`] is the blank import workbook. [`import`] reads
//! sheet 人员 with columns 用户名, 姓名, 所属单位统一社会信用代码, 角色,
//! 角色所在单位统一社会信用代码 (optional) and 初始密码; columns are found by header text (extra
//! columns such as 状态 are ignored). Each row creates an account, or, for an existing user
//! name in the actor's scope, adds the role assignments it lacks (its 初始密码 must then be
//! empty: an import never changes a password). The whole file is checked first and rejected
//! as a whole with every bad cell ([`ServiceError::Import`]); otherwise one transaction writes
//! every row.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};
use serde::Serialize;
use yiwang_store::{Any, Row, Transaction, fmt_time};

use super::audit::{self, Entry, Outcome};
use super::passwords;
use super::staff::{Assignment, Role, Staff, create_staff, hash_password};
use crate::error::CellError;
use crate::{FieldError, Platform, ServiceError};

/// Staff members on one page of [`list`].
pub const PAGE_SIZE: i64 = 50;
/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 50;
/// The one data sheet of the staff workbook.
pub const SHEET: &str = "人员";

/// Column headers of the staff workbook.
pub mod columns {
    /// 用户名.
    pub const USERNAME: &str = "用户名";
    /// 姓名.
    pub const NAME: &str = "姓名";
    /// 所属单位统一社会信用代码.
    pub const HOME_ORG: &str = "所属单位统一社会信用代码";
    /// 角色.
    pub const ROLES: &str = "角色";
    /// 角色所在单位统一社会信用代码.
    pub const ROLE_ORG: &str = "角色所在单位统一社会信用代码";
    /// 初始密码 (import only).
    pub const PASSWORD: &str = "初始密码";
    /// 状态 (export only).
    pub const STATUS: &str = "状态";
}
use columns as col;

/// What the actor may manage ([`authz::StaffScope`], the rules' one home).
pub use super::authz::StaffScope as Scope;
use super::authz::StaffScope;

/// One staff account as administrators see it.
#[derive(Debug, Clone, Serialize)]
pub struct StaffRecord {
    /// Account id.
    pub id: String,
    /// Sign-in name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Home organisation's credit code.
    pub home_org: String,
    /// Its name.
    pub home_org_name: String,
    /// Every role assignment, ordered by organisation and role.
    pub assignments: Vec<Assignment>,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Whether TOTP is set up.
    pub totp_enabled: bool,
    /// When the account was created (stored UTC text).
    pub created_at: String,
    /// The mobile number the platform reaches them at (超时提醒), masked; `None` when unset.
    pub phone_masked: Option<String>,
}

impl StaffRecord {
    /// Whether the account holds an administrative role anywhere.
    pub fn is_administrator(&self) -> bool {
        self.assignments.iter().any(|a| a.role.is_administrative())
    }

    /// Whether it holds `role` in any organisation.
    pub fn holds_role(&self, role: Role) -> bool {
        self.assignments.iter().any(|a| a.role == role)
    }

    /// Whether it holds `role` in `org`.
    pub fn holds(&self, role: Role, org: &str) -> bool {
        self.assignments
            .iter()
            .any(|a| a.role == role && a.org == org)
    }
}

/// What [`list`] shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only staff of this home organisation (credit code).
    pub org: Option<String>,
    /// Only staff whose user name or display name contains this text.
    pub q: Option<String>,
    /// 1-based page (0 counts as 1).
    pub page: u32,
}

/// One page of staff.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    /// The staff on this page, by user name.
    pub rows: Vec<StaffRecord>,
    /// How many match the filter.
    pub total: i64,
    /// This page (1-based).
    pub page: u32,
    /// Pages in all (at least 1).
    pub pages: u32,
}

/// What the actor may grant: the roles and the organisations (credit code, name), for forms.
#[derive(Debug, Clone, Serialize)]
pub struct GrantOptions {
    /// Roles, in display order.
    pub roles: Vec<Role>,
    /// Organisations by name: also the home organisations new accounts may have.
    pub orgs: Vec<(String, String)>,
}

/// A new account.
#[derive(Debug, Clone, Default)]
pub struct NewStaff {
    /// Sign-in name: 3–32 of `a-z 0-9 . _ -`.
    pub username: String,
    /// Display name, 1–50 characters.
    pub display_name: String,
    /// Credit code of the home organisation.
    pub home_org: String,
    /// Role assignments (role, organisation credit code); at least one.
    pub roles: Vec<(Role, String)>,
    /// The first password (password policy applies).
    pub initial_password: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Accounts created.
    pub created: usize,
    /// Existing accounts that got new role assignments.
    pub updated: usize,
    /// Rows that changed nothing (every role already held).
    pub unchanged: usize,
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound {
        what: "人员",
        key: id.to_owned(),
    }
}

async fn assignments_of(p: &Platform, id: &str) -> Result<Vec<Assignment>, ServiceError> {
    let rows =
        sqlx::query("SELECT role, org FROM staff_roles WHERE staff_id = $1 ORDER BY org, role")
            .bind(id)
            .fetch_all(p.db.pool())
            .await?;
    let master = p.master.get();
    let mut out = Vec::new();
    for r in rows {
        let role: String = r.try_get("role")?;
        let org: String = r.try_get("org")?;
        if let Some(role) = Role::parse(&role) {
            let (org_name, region) = master
                .organisation(&org)
                .map(|o| (o.name.clone(), o.region.clone()))
                .unwrap_or_default();
            out.push(Assignment {
                role,
                org,
                org_name,
                region,
            });
        }
    }
    // Display order of roles within an organisation.
    out.sort_by_key(|a| {
        (
            a.org.clone(),
            Role::ALL.iter().position(|r| *r == a.role).unwrap_or(0),
        )
    });
    Ok(out)
}

async fn record_of(p: &Platform, r: &yiwang_store::AnyRow) -> Result<StaffRecord, ServiceError> {
    let id: String = r.try_get("id")?;
    let home_org: String = r.try_get("org")?;
    let home_org_name = p
        .master
        .get()
        .organisation(&home_org)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    Ok(StaffRecord {
        assignments: assignments_of(p, &id).await?,
        id,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        home_org,
        home_org_name,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        totp_enabled: r.try_get::<i64, _>("totp_enabled")? != 0,
        created_at: r.try_get("created_at")?,
        // Only the single-account query reads the encrypted number.
        phone_masked: r
            .try_get::<Option<String>, _>("phone_enc")
            .ok()
            .flatten()
            .and_then(|enc| p.keys.pii.decrypt("phone", &enc).ok())
            .map(|n| yiwang_crypto::mask::mask_phone(&n)),
    })
}

/// The mobile number of a staff member, decrypted, if one is set (for notifications).
pub async fn phone_of(p: &Platform, staff_id: &str) -> Result<Option<String>, ServiceError> {
    let enc: Option<String> = sqlx::query("SELECT phone_enc FROM staff WHERE id = $1")
        .bind(staff_id)
        .fetch_optional(p.db.pool())
        .await?
        .map(|r| r.try_get::<Option<String>, _>("phone_enc"))
        .transpose()?
        .flatten();
    enc.map(|e| {
        p.keys
            .pii
            .decrypt("phone", &e)
            .map_err(|e| ServiceError::internal(format!("decrypt phone: {e}")))
    })
    .transpose()
}

/// Texts a staff member at the number on file (template and its values, as the notifier
/// takes them). A member without a number is skipped; a failure is logged with `about`, never
/// returned: a reminder must not stop the sweep that sends it.
pub(crate) async fn text(
    p: &Platform,
    staff_id: &str,
    template: &str,
    vars: &[(&str, &str)],
    about: &str,
) {
    let phone = match phone_of(p, staff_id).await {
        Ok(Some(phone)) => phone,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(about, error = %e, "staff phone unreadable");
            return;
        }
    };
    if let Err(e) = p
        .outside
        .notifier
        .send(yiwang_connectors::Channel::Sms, &phone, template, vars)
        .await
    {
        tracing::warn!(about, error = %e, template, "staff notice failed");
    }
}

/// Sets the mobile number the platform reaches a staff member at (超时提醒 of approval steps),
/// encrypted at rest; an empty text removes it. Same scope as the other changes.
pub async fn set_phone(
    p: &Platform,
    actor: &Staff,
    staff_id: &str,
    phone: &str,
) -> Result<(), ServiceError> {
    let scope = Scope::of(actor)?;
    let t = target(p, &scope, staff_id).await?;
    check_changeable(&scope, actor, &t)?;
    let phone = phone.trim();
    let enc = if phone.is_empty() {
        None
    } else {
        let n = yiwang_connectors::notify::normalise_phone(phone).map_err(|_| {
            ServiceError::Invalid(vec![crate::FieldError::new(
                "phone",
                "手机号码应为 11 位中国大陆手机号",
                "a mainland mobile number has 11 digits, starting with 13-19",
            )])
        })?;
        Some(
            p.keys
                .pii
                .encrypt("phone", &n)
                .map_err(|e| ServiceError::internal(format!("encrypt phone: {e}")))?,
        )
    };
    let now = p.now();
    let mut tx = p.db.begin().await?;
    sqlx::query("UPDATE staff SET phone_enc = $1 WHERE id = $2")
        .bind(enc.clone())
        .bind(&t.id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            &actor_key(actor),
            "staff.phone",
            &format!("staff:{}", t.id),
            serde_json::json!({ "username": t.username, "set": enc.is_some() }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn load(p: &Platform, id: &str) -> Result<Option<StaffRecord>, ServiceError> {
    let row = sqlx::query(
        "SELECT id, username, display_name, org, disabled, totp_enabled, created_at, phone_enc \
         FROM staff WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?;
    match row {
        Some(r) => Ok(Some(record_of(p, &r).await?)),
        None => Ok(None),
    }
}

/// The target of a change: in scope, else `NotFound`.
async fn target(p: &Platform, scope: &Scope, id: &str) -> Result<StaffRecord, ServiceError> {
    match load(p, id).await? {
        Some(t) if scope.manages_home(&t.home_org) => Ok(t),
        _ => Err(not_found(id)),
    }
}

/// Department administrators may not change administrators' accounts (see the module doc).
fn check_changeable(scope: &Scope, actor: &Staff, t: &StaffRecord) -> Result<(), ServiceError> {
    if matches!(scope, StaffScope::Org(_)) && t.is_administrator() && t.id != actor.id {
        return Err(ServiceError::Forbidden(
            "管理员账号只能由系统管理员修改".into(),
        ));
    }
    Ok(())
}

/// `%text%` for `LIKE … ESCAPE '\'`, lower case.
fn like_pattern(q: &str) -> String {
    let mut s = String::from("%");
    for c in q.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

/// One page of the staff the actor manages, by user name.
pub async fn list(p: &Platform, actor: &Staff, filter: &Filter) -> Result<Listing, ServiceError> {
    let scope = Scope::of(actor)?;
    let wanted = filter
        .org
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty());
    let org = match (&scope, wanted) {
        (StaffScope::All, o) => o.unwrap_or_default().to_owned(),
        (StaffScope::Org(mine), None) => mine.clone(),
        (StaffScope::Org(mine), Some(o)) if o == mine => mine.clone(),
        (StaffScope::Org(_), Some(_)) => {
            return Ok(Listing {
                rows: Vec::new(),
                total: 0,
                page: 1,
                pages: 1,
            });
        }
    };
    let q = filter
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(like_pattern)
        .unwrap_or_default();
    let total: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM staff WHERE ($1 = '' OR org = $1) AND ($2 = '' \
         OR LOWER(username) LIKE $2 ESCAPE '\\' OR LOWER(display_name) LIKE $2 ESCAPE '\\')",
    )
    .bind(&org)
    .bind(&q)
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    let pages = u32::try_from(((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1)).unwrap_or(u32::MAX);
    let page = filter.page.clamp(1, pages);
    let rows = sqlx::query(
        "SELECT id, username, display_name, org, disabled, totp_enabled, created_at FROM staff \
         WHERE ($1 = '' OR org = $1) AND ($2 = '' OR LOWER(username) LIKE $2 ESCAPE '\\' \
         OR LOWER(display_name) LIKE $2 ESCAPE '\\') ORDER BY username LIMIT $3 OFFSET $4",
    )
    .bind(&org)
    .bind(&q)
    .bind(PAGE_SIZE)
    .bind(i64::from(page - 1) * PAGE_SIZE)
    .fetch_all(p.db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(record_of(p, r).await?);
    }
    Ok(Listing {
        rows: out,
        total,
        page,
        pages,
    })
}

/// One staff member the actor manages (`NotFound` outside the actor's scope).
pub async fn get(p: &Platform, actor: &Staff, id: &str) -> Result<StaffRecord, ServiceError> {
    let scope = Scope::of(actor)?;
    target(p, &scope, id).await
}

/// The roles and organisations the actor may grant (and give new accounts as home).
pub fn grant_options(p: &Platform, actor: &Staff) -> Result<GrantOptions, ServiceError> {
    let scope = Scope::of(actor)?;
    let master = p.master.get();
    let (roles, mut orgs): (Vec<Role>, Vec<(String, String)>) = match &scope {
        StaffScope::All => (
            Role::ALL.to_vec(),
            master
                .organisations
                .values()
                .map(|o| (o.credit_code.clone(), o.name.clone()))
                .collect(),
        ),
        StaffScope::Org(o) => (
            Role::ALL
                .into_iter()
                .filter(|r| !r.is_administrative())
                .collect(),
            master
                .organisation(o)
                .map(|x| (x.credit_code.clone(), x.name.clone()))
                .into_iter()
                .collect(),
        ),
    };
    orgs.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(GrantOptions { roles, orgs })
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the form and the workbook
// ---------------------------------------------------------------------------------------------

/// Why a user name is not acceptable (Chinese, English), if it is not.
fn username_problem(u: &str) -> Option<(String, String)> {
    let n = u.chars().count();
    if u.is_empty() {
        return Some(("请填写用户名".into(), "enter a user name".into()));
    }
    if !(3..=32).contains(&n)
        || !u
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        return Some((
            format!("用户名“{u}”无效：应为3～32位小写英文字母、数字、“.”、“_”或“-”"),
            "the user name needs 3–32 of a-z, 0-9, '.', '_', '-'".into(),
        ));
    }
    None
}

/// Why a display name is not acceptable, if it is not.
fn name_problem(name: &str) -> Option<(String, String)> {
    let n = name.chars().count();
    if n == 0 {
        Some(("请填写姓名".into(), "enter the name".into()))
    } else if n > MAX_NAME_CHARS {
        Some((
            format!("姓名最多{MAX_NAME_CHARS}个字"),
            format!("the name may have at most {MAX_NAME_CHARS} characters"),
        ))
    } else {
        None
    }
}

fn role_refused(role: Role, org: &str, org_name: &str) -> (String, String) {
    (
        format!(
            "无权在{}（{org}）授予“{}”角色",
            if org_name.is_empty() {
                "该单位"
            } else {
                org_name
            },
            role.label_zh()
        ),
        format!("you may not grant the {} role in {org}", role.label_en()),
    )
}

fn unknown_org(org: &str) -> (String, String) {
    (
        format!("没有统一社会信用代码为“{org}”的单位"),
        format!("no organisation with credit code {org}"),
    )
}

/// Finds a role by its Chinese label, English label or stored name.
pub fn role_by_label(s: &str) -> Option<Role> {
    let s = s.trim();
    Role::ALL
        .into_iter()
        .find(|r| r.label_zh() == s || r.as_str() == s || r.label_en().eq_ignore_ascii_case(s))
}

fn role_labels() -> String {
    Role::ALL
        .iter()
        .map(|r| r.label_zh())
        .collect::<Vec<_>>()
        .join("、")
}

async fn username_taken(p: &Platform, username: &str) -> Result<bool, ServiceError> {
    Ok(sqlx::query("SELECT id FROM staff WHERE username = $1")
        .bind(username)
        .fetch_optional(p.db.pool())
        .await?
        .is_some())
}

async fn active_system_admins_besides(
    tx: &mut Transaction<'static, Any>,
    staff_id: &str,
    org: Option<&str>,
) -> Result<i64, ServiceError> {
    // Assignments of system administrators on active accounts, other than the one going away
    // (`org` given: that one assignment; else every assignment of the account).
    let r = sqlx::query(
        "SELECT COUNT(*) AS n FROM staff_roles r JOIN staff s ON s.id = r.staff_id \
         WHERE r.role = 'system_admin' AND s.disabled = 0 \
         AND NOT (r.staff_id = $1 AND ($2 = '' OR r.org = $2))",
    )
    .bind(staff_id)
    .bind(org.unwrap_or_default())
    .fetch_one(&mut **tx)
    .await?;
    Ok(r.try_get("n")?)
}

fn actor_key(actor: &Staff) -> String {
    format!("staff:{}", actor.id)
}

// ---------------------------------------------------------------------------------------------
// Changes
// ---------------------------------------------------------------------------------------------

/// Creates an account with its role assignments; returns its id. Every bad field is reported
/// at once (`username`, `display_name`, `home_org`, `roles`, `initial_password`); a taken user
/// name is a `username` error.
pub async fn create(p: &Platform, actor: &Staff, new: NewStaff) -> Result<String, ServiceError> {
    let scope = Scope::of(actor)?;
    let username = new.username.trim().to_owned();
    let display_name = new.display_name.trim().to_owned();
    let home_org = new.home_org.trim().to_owned();
    let master = p.master.get();
    let mut errors = Vec::new();
    if let Some((zh, en)) = username_problem(&username) {
        errors.push(FieldError::new("username", zh, en));
    } else if username_taken(p, &username).await? {
        errors.push(taken(&username));
    }
    if let Some((zh, en)) = name_problem(&display_name) {
        errors.push(FieldError::new("display_name", zh, en));
    }
    if home_org.is_empty() {
        errors.push(FieldError::new(
            "home_org",
            "请选择所属单位",
            "choose the home organisation",
        ));
    } else if master.organisation(&home_org).is_none() || !scope.manages_home(&home_org) {
        // An organisation outside a department administrator's scope is refused like an
        // unknown one.
        let (zh, en) = if master.organisation(&home_org).is_none() {
            unknown_org(&home_org)
        } else {
            (
                "只能在本单位创建人员".into(),
                "you may only create staff of your own organisation".into(),
            )
        };
        errors.push(FieldError::new("home_org", zh, en));
    }
    let mut roles: Vec<(Role, String)> = Vec::new();
    for (role, org) in &new.roles {
        let org = if org.trim().is_empty() {
            home_org.clone()
        } else {
            org.trim().to_owned()
        };
        if org.is_empty() {
            continue;
        }
        match master.organisation(&org) {
            None => {
                let (zh, en) = unknown_org(&org);
                errors.push(FieldError::new("roles", zh, en));
            }
            Some(o) if !scope.may_grant(*role, &org) => {
                let (zh, en) = role_refused(*role, &org, &o.name);
                errors.push(FieldError::new("roles", zh, en));
            }
            Some(_) => {
                if !roles.iter().any(|(r, o)| r == role && *o == org) {
                    roles.push((*role, org));
                }
            }
        }
    }
    if new.roles.is_empty() {
        errors.push(FieldError::new(
            "roles",
            "请至少选择一个角色",
            "choose at least one role",
        ));
    }
    if let Err(ServiceError::Invalid(e)) =
        passwords::check_policy("initial_password", &new.initial_password, &[&username])
    {
        errors.extend(e);
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let hash = hash_password(&new.initial_password)?;
    let now = p.now();
    let mut tx = p.db.begin().await?;
    let id = match insert_account(
        &mut tx,
        now,
        actor,
        &username,
        &display_name,
        &home_org,
        &roles,
        &hash,
    )
    .await
    {
        Ok(id) => id,
        Err(e) => {
            drop(tx);
            // A concurrent create of the same name loses on the unique index.
            return Err(if username_taken(p, &username).await? {
                ServiceError::Invalid(vec![taken(&username)])
            } else {
                e
            });
        }
    };
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &actor_key(actor),
            action: "staff.create",
            target: &format!("staff:{id}"),
            outcome: Outcome::Success,
            ip: "",
            detail: serde_json::json!({
                "username": username,
                "home_org": home_org,
                "roles": roles_json(&roles),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

fn taken(username: &str) -> FieldError {
    FieldError::new(
        "username",
        format!("用户名“{username}”已被使用"),
        format!("the user name {username} is taken"),
    )
}

fn roles_json(roles: &[(Role, String)]) -> serde_json::Value {
    serde_json::Value::Array(
        roles
            .iter()
            .map(|(r, o)| serde_json::json!({ "role": r.as_str(), "org": o }))
            .collect(),
    )
}

#[allow(clippy::too_many_arguments)]
async fn insert_account(
    tx: &mut Transaction<'static, Any>,
    now: chrono::DateTime<chrono::Utc>,
    actor: &Staff,
    username: &str,
    display_name: &str,
    home_org: &str,
    roles: &[(Role, String)],
    hash: &str,
) -> Result<String, ServiceError> {
    let refs: Vec<(Role, &str)> = roles.iter().map(|(r, o)| (*r, o.as_str())).collect();
    let id = create_staff(tx, now, username, display_name, home_org, &refs, hash).await?;
    sqlx::query("UPDATE staff_roles SET granted_by = $1 WHERE staff_id = $2")
        .bind(&actor.id)
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

async fn insert_role(
    tx: &mut Transaction<'static, Any>,
    now: &str,
    actor: &Staff,
    staff_id: &str,
    role: Role,
    org: &str,
) -> Result<(), ServiceError> {
    sqlx::query(
        "INSERT INTO staff_roles (staff_id, role, org, granted_by, granted_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(staff_id)
    .bind(role.as_str())
    .bind(org)
    .bind(&actor.id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Grants `role` in `org` (credit code) to a staff member. `Conflict` when already held.
pub async fn grant(
    p: &Platform,
    actor: &Staff,
    staff_id: &str,
    role: Role,
    org: &str,
) -> Result<(), ServiceError> {
    let scope = Scope::of(actor)?;
    let t = target(p, &scope, staff_id).await?;
    check_changeable(&scope, actor, &t)?;
    let org = org.trim();
    let master = p.master.get();
    let Some(o) = master.organisation(org) else {
        let (zh, en) = unknown_org(org);
        return Err(ServiceError::invalid("org", &zh, &en));
    };
    if !scope.may_grant(role, org) {
        let (zh, _) = role_refused(role, org, &o.name);
        return Err(ServiceError::Forbidden(zh));
    }
    if t.holds(role, org) {
        return Err(ServiceError::Conflict(format!(
            "该人员在{}已有“{}”角色",
            o.name,
            role.label_zh()
        )));
    }
    let now = p.now();
    let mut tx = p.db.begin().await?;
    insert_role(&mut tx, &fmt_time(now), actor, &t.id, role, org).await?;
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            &actor_key(actor),
            "staff.role_grant",
            &format!("staff:{}", t.id),
            serde_json::json!({ "role": role.as_str(), "org": org }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes `role` in `org` from a staff member. The last 系统管理员 assignment of an active
/// account is never revoked (`Conflict`); an assignment not held is `NotFound`.
pub async fn revoke(
    p: &Platform,
    actor: &Staff,
    staff_id: &str,
    role: Role,
    org: &str,
) -> Result<(), ServiceError> {
    let scope = Scope::of(actor)?;
    let t = target(p, &scope, staff_id).await?;
    check_changeable(&scope, actor, &t)?;
    let org = org.trim();
    if !scope.may_grant(role, org) {
        let name = p
            .master
            .get()
            .organisation(org)
            .map(|o| o.name.clone())
            .unwrap_or_default();
        let (zh, _) = role_refused(role, org, &name);
        return Err(ServiceError::Forbidden(zh.replace("授予", "撤销")));
    }
    if !t.holds(role, org) {
        return Err(ServiceError::NotFound {
            what: "角色",
            key: format!("{} @ {org}", role.label_zh()),
        });
    }
    let now = p.now();
    let mut tx = p.db.begin().await?;
    // The audit append comes first: it takes the audit head's row lock, so concurrent staff
    // changes take turns and the count below sees every committed revocation.
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            &actor_key(actor),
            "staff.role_revoke",
            &format!("staff:{}", t.id),
            serde_json::json!({ "role": role.as_str(), "org": org }),
        ),
    )
    .await?;
    if role == Role::SystemAdmin
        && !t.disabled
        && active_system_admins_besides(&mut tx, &t.id, Some(org)).await? == 0
    {
        return Err(ServiceError::Conflict(
            "这是系统中最后一个系统管理员角色，不能撤销".into(),
        ));
    }
    let done =
        sqlx::query("DELETE FROM staff_roles WHERE staff_id = $1 AND role = $2 AND org = $3")
            .bind(&t.id)
            .bind(role.as_str())
            .bind(org)
            .execute(&mut *tx)
            .await?;
    if done.rows_affected() == 0 {
        return Err(ServiceError::Conflict("该角色已被撤销".into()));
    }
    tx.commit().await?;
    Ok(())
}

/// Disables (`true`) or enables (`false`) an account. Disabling ends its sessions; nobody
/// disables themselves, and the last active system administrator is never disabled. Setting
/// the state it already has changes nothing.
pub async fn set_disabled(
    p: &Platform,
    actor: &Staff,
    staff_id: &str,
    disabled: bool,
) -> Result<(), ServiceError> {
    let scope = Scope::of(actor)?;
    let t = target(p, &scope, staff_id).await?;
    if disabled && t.id == actor.id {
        return Err(ServiceError::Conflict("不能停用自己的账号".into()));
    }
    check_changeable(&scope, actor, &t)?;
    if t.disabled == disabled {
        return Ok(());
    }
    let now = p.now();
    let mut tx = p.db.begin().await?;
    // First, for the same reason as in `revoke`.
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &actor_key(actor),
            action: if disabled {
                "staff.disable"
            } else {
                "staff.enable"
            },
            target: &format!("staff:{}", t.id),
            outcome: Outcome::Success,
            ip: "",
            detail: serde_json::json!({ "username": t.username }),
        },
    )
    .await?;
    if disabled
        && t.holds_role(Role::SystemAdmin)
        && active_system_admins_besides(&mut tx, &t.id, None).await? == 0
    {
        return Err(ServiceError::Conflict(
            "这是系统中最后一个可用的系统管理员，不能停用".into(),
        ));
    }
    let done = sqlx::query("UPDATE staff SET disabled = $1 WHERE id = $2 AND disabled = $3")
        .bind(i64::from(disabled))
        .bind(&t.id)
        .bind(i64::from(!disabled))
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        // Changed meanwhile by someone else: already in the wanted state.
        return Ok(());
    }
    if disabled {
        sqlx::query("DELETE FROM sessions WHERE staff_id = $1")
            .bind(&t.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets a new password (policy applies, field `new_password`), clears the account's lock and
/// ends its sessions.
pub async fn reset_password(
    p: &Platform,
    actor: &Staff,
    staff_id: &str,
    new_password: &str,
) -> Result<(), ServiceError> {
    let scope = Scope::of(actor)?;
    let t = target(p, &scope, staff_id).await?;
    check_changeable(&scope, actor, &t)?;
    passwords::check_policy("new_password", new_password, &[&t.username])?;
    let hash = hash_password(new_password)?;
    let now = p.now();
    let mut tx = p.db.begin().await?;
    sqlx::query(
        "UPDATE staff SET password_hash = $1, password_changed_at = $2, failed_logins = 0, \
         locked_until = NULL WHERE id = $3",
    )
    .bind(&hash)
    .bind(fmt_time(now))
    .bind(&t.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM throttles WHERE key = $1")
        .bind(format!("staff:{}", t.id))
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE staff_id = $1")
        .bind(&t.id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        now,
        &Entry::success(
            &actor_key(actor),
            "staff.password_reset",
            &format!("staff:{}", t.id),
            serde_json::json!({ "username": t.username }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Excel
// ---------------------------------------------------------------------------------------------

const EXPORT_COLUMNS: [(&str, f64); 6] = [
    (col::USERNAME, 18.0),
    (col::NAME, 26.0),
    (col::HOME_ORG, 26.0),
    (col::ROLES, 26.0),
    (col::ROLE_ORG, 30.0),
    (col::STATUS, 10.0),
];

const IMPORT_COLUMNS: [(&str, f64); 6] = [
    (col::USERNAME, 18.0),
    (col::NAME, 26.0),
    (col::HOME_ORG, 26.0),
    (col::ROLES, 26.0),
    (col::ROLE_ORG, 30.0),
    (col::PASSWORD, 18.0),
];

fn xlsx_err(e: XlsxError) -> ServiceError {
    ServiceError::internal(format!("xlsx: {e}"))
}

fn write_sheet(columns: &[(&str, f64)], rows: &[Vec<String>]) -> Result<Vec<u8>, ServiceError> {
    write_named_sheet(SHEET, columns, rows)
}

/// A one-sheet workbook: a bold header row of `columns` (name, width) frozen above `rows`, every
/// cell text.
pub(crate) fn write_named_sheet(
    name: &str,
    columns: &[(&str, f64)],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, ServiceError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(name).map_err(xlsx_err)?;
    let header = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_background_color("#DDEBF7");
    let text = Format::new().set_num_format("@");
    for (c, (name, width)) in (0u16..).zip(columns) {
        sheet
            .set_column_width(c, *width)
            .map_err(xlsx_err)?
            .set_column_format(c, &text)
            .map_err(xlsx_err)?
            .write_string_with_format(0, c, *name, &header)
            .map_err(xlsx_err)?;
    }
    for (r, row) in (1u32..).zip(rows) {
        for (c, v) in (0u16..).zip(row) {
            sheet
                .write_string_with_format(r, c, v, &text)
                .map_err(xlsx_err)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
    workbook.save_to_buffer().map_err(xlsx_err)
}

/// The staff the actor manages as a workbook (see the module doc): one row per staff member
/// and organisation they hold roles in.
pub async fn export(p: &Platform, actor: &Staff) -> Result<Vec<u8>, ServiceError> {
    let scope = Scope::of(actor)?;
    let org = match &scope {
        StaffScope::All => String::new(),
        StaffScope::Org(o) => o.clone(),
    };
    let rows = sqlx::query(
        "SELECT id, username, display_name, org, disabled FROM staff \
         WHERE ($1 = '' OR org = $1) ORDER BY username",
    )
    .bind(&org)
    .fetch_all(p.db.pool())
    .await?;
    let roles = sqlx::query(
        "SELECT r.staff_id, r.role, r.org FROM staff_roles r JOIN staff s ON s.id = r.staff_id \
         WHERE ($1 = '' OR s.org = $1)",
    )
    .bind(&org)
    .fetch_all(p.db.pool())
    .await?;
    let mut by_staff: HashMap<String, BTreeMap<String, Vec<Role>>> = HashMap::new();
    for r in roles {
        if let Some(role) = Role::parse(&r.try_get::<String, _>("role")?) {
            by_staff
                .entry(r.try_get("staff_id")?)
                .or_default()
                .entry(r.try_get("org")?)
                .or_default()
                .push(role);
        }
    }
    let mut out = Vec::new();
    for r in rows {
        let id: String = r.try_get("id")?;
        let username: String = r.try_get("username")?;
        let name: String = r.try_get("display_name")?;
        let home: String = r.try_get("org")?;
        let status = if r.try_get::<i64, _>("disabled")? != 0 {
            "已停用"
        } else {
            "在用"
        };
        let mut groups: Vec<(String, Vec<Role>)> = by_staff
            .remove(&id)
            .unwrap_or_default()
            .into_iter()
            .collect();
        // The home organisation's roles first.
        groups.sort_by_key(|(o, _)| *o != home);
        if groups.is_empty() {
            groups.push((home.clone(), Vec::new()));
        }
        for (org, mut roles) in groups {
            roles.sort_by_key(|r| Role::ALL.iter().position(|x| x == r));
            let labels = roles
                .iter()
                .map(|r| r.label_zh())
                .collect::<Vec<_>>()
                .join("、");
            out.push(vec![
                username.clone(),
                name.clone(),
                home.clone(),
                labels,
                if org == home { String::new() } else { org },
                status.to_owned(),
            ]);
        }
    }
    write_sheet(&EXPORT_COLUMNS, &out)
}

/// The blank import workbook (sheet 人员 with the import columns), for anyone who may import.
pub fn template(actor: &Staff) -> Result<Vec<u8>, ServiceError> {
    Scope::of(actor)?;
    write_sheet(&IMPORT_COLUMNS, &[])
}

/// A cell's text: numbers without a trailing `.0`, everything trimmed.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string().trim().to_owned(),
    }
}

/// A header compared without spaces, `*` and parenthesised notes.
fn header_key(h: &str) -> String {
    let mut out = String::new();
    let mut depth = 0u32;
    for c in h.chars() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth = depth.saturating_sub(1),
            c if depth == 0 && !c.is_whitespace() && c != '*' => out.push(c),
            _ => {}
        }
    }
    out
}

/// One data row of an imported sheet.
struct SheetRow {
    /// Row as Excel shows it.
    row: u32,
    cells: HashMap<&'static str, String>,
}

impl SheetRow {
    fn get(&self, c: &str) -> &str {
        self.cells.get(c).map(String::as_str).unwrap_or_default()
    }
}

fn whole_file_error(message: String) -> ServiceError {
    ServiceError::Import(vec![CellError {
        sheet: String::new(),
        row: 0,
        column: String::new(),
        message,
    }])
}

fn read_sheet(bytes: &[u8]) -> Result<Vec<SheetRow>, ServiceError> {
    let mut wb = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| {
        whole_file_error(
            "上传的文件不是有效的 Excel 工作簿（.xlsx），请使用本系统提供的模板".into(),
        )
    })?;
    let names = wb.sheet_names();
    let Some(name) = names.iter().find(|n| n.trim() == SHEET).cloned() else {
        return Err(whole_file_error(format!(
            "工作簿缺少“{SHEET}”工作表，请使用本系统提供的模板"
        )));
    };
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| whole_file_error(format!("“{SHEET}”工作表无法读取：{e}")))?;
    let (top, _) = range.start().unwrap_or((0, 0));
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(cell_text).collect())
        .unwrap_or_default();
    let mut at: HashMap<&'static str, usize> = HashMap::new();
    for c in [
        col::USERNAME,
        col::NAME,
        col::HOME_ORG,
        col::ROLES,
        col::ROLE_ORG,
        col::PASSWORD,
    ] {
        if let Some(i) = header.iter().position(|h| header_key(h) == c) {
            at.insert(c, i);
        }
    }
    let missing: Vec<&str> = [col::USERNAME, col::NAME, col::HOME_ORG, col::ROLES]
        .into_iter()
        .filter(|c| !at.contains_key(c))
        .collect();
    if !missing.is_empty() {
        return Err(ServiceError::Import(
            missing
                .into_iter()
                .map(|c| CellError {
                    sheet: SHEET.into(),
                    row: top + 1,
                    column: c.into(),
                    message: format!("“{SHEET}”工作表缺少“{c}”列，请不要删除或修改表头"),
                })
                .collect(),
        ));
    }
    let mut out = Vec::new();
    for (i, r) in (1u32..).zip(rows) {
        let cells: HashMap<&'static str, String> = at
            .iter()
            .map(|(c, idx)| (*c, r.get(*idx).map(cell_text).unwrap_or_default()))
            .collect();
        if cells.values().all(String::is_empty) {
            continue;
        }
        out.push(SheetRow {
            row: top + i + 1,
            cells,
        });
    }
    Ok(out)
}

/// What one good row will do.
enum Plan {
    Create {
        username: String,
        display_name: String,
        home_org: String,
        roles: Vec<(Role, String)>,
        password: String,
    },
    AddRoles {
        id: String,
        username: String,
        roles: Vec<(Role, String)>,
    },
    Nothing,
}

/// Imports a staff workbook (see the module doc): every row is checked first; any bad cell
/// rejects the whole file with every problem ([`ServiceError::Import`]) and nothing is
/// written; otherwise one transaction creates the accounts and adds the assignments.
pub async fn import(
    p: &Platform,
    actor: &Staff,
    bytes: &[u8],
) -> Result<ImportSummary, ServiceError> {
    let scope = Scope::of(actor)?;
    let rows = read_sheet(bytes)?;
    if rows.is_empty() {
        return Err(whole_file_error(format!("“{SHEET}”工作表中没有数据行")));
    }
    let master = p.master.get();
    // Existing accounts by user name.
    let mut existing: HashMap<String, StaffRecord> = HashMap::new();
    for r in &rows {
        let u = r.get(col::USERNAME);
        if username_problem(u).is_none() && !existing.contains_key(u) {
            let row = sqlx::query(
                "SELECT id, username, display_name, org, disabled, totp_enabled, created_at \
                 FROM staff WHERE username = $1",
            )
            .bind(u)
            .fetch_optional(p.db.pool())
            .await?;
            if let Some(row) = row {
                existing.insert(u.to_owned(), record_of(p, &row).await?);
            }
        }
    }
    let mut errors: Vec<CellError> = Vec::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut plans = Vec::new();
    for r in &rows {
        let before = errors.len();
        let mut bad = |column: &str, message: String| {
            errors.push(CellError {
                sheet: SHEET.into(),
                row: r.row,
                column: column.into(),
                message,
            })
        };
        let username = r.get(col::USERNAME).to_owned();
        if let Some((zh, _)) = username_problem(&username) {
            bad(col::USERNAME, zh);
        } else if let Some(first) = seen.get(&username) {
            bad(
                col::USERNAME,
                format!("用户名“{username}”与第{first}行重复；同一人员在文件中只能占一行"),
            );
        } else {
            seen.insert(username.clone(), r.row);
        }
        let current = existing.get(&username);
        if let Some(t) = current {
            if !scope.manages_home(&t.home_org) {
                bad(col::USERNAME, format!("用户名“{username}”已被使用"));
            } else if check_changeable(&scope, actor, t).is_err() {
                bad(
                    col::USERNAME,
                    format!("“{username}”是管理员账号，只能由系统管理员修改"),
                );
            }
        }
        let display_name = r.get(col::NAME).to_owned();
        if current.is_none()
            && let Some((zh, _)) = name_problem(&display_name)
        {
            bad(col::NAME, zh);
        }
        let home_org = r.get(col::HOME_ORG).to_owned();
        if home_org.is_empty() {
            bad(col::HOME_ORG, "请填写所属单位的统一社会信用代码".into());
        } else if master.organisation(&home_org).is_none() {
            bad(col::HOME_ORG, unknown_org(&home_org).0);
        } else if !scope.manages_home(&home_org) {
            bad(
                col::HOME_ORG,
                format!("单位“{home_org}”不在您的管理范围内，只能导入本单位的人员"),
            );
        } else if let Some(t) = current
            && t.home_org != home_org
        {
            bad(
                col::HOME_ORG,
                format!(
                    "已有人员“{username}”的所属单位是 {}，与此不一致",
                    t.home_org
                ),
            );
        }
        let role_org = match r.get(col::ROLE_ORG) {
            "" => home_org.clone(),
            o => o.to_owned(),
        };
        let role_org_known = master.organisation(&role_org);
        if !r.get(col::ROLE_ORG).is_empty() && role_org_known.is_none() {
            bad(col::ROLE_ORG, unknown_org(&role_org).0);
        }
        let mut roles: Vec<(Role, String)> = Vec::new();
        let labels: Vec<&str> = r
            .get(col::ROLES)
            .split(['、', ',', '，', ';', '；', '/'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if labels.is_empty() {
            bad(col::ROLES, format!("请填写角色，可填：{}", role_labels()));
        }
        for label in labels {
            match role_by_label(label) {
                None => bad(
                    col::ROLES,
                    format!("没有“{label}”这个角色，可填：{}", role_labels()),
                ),
                Some(role) => {
                    if let Some(o) = role_org_known
                        && !scope.may_grant(role, &role_org)
                    {
                        bad(col::ROLES, role_refused(role, &role_org, &o.name).0);
                    } else if !roles.iter().any(|(x, _)| *x == role) {
                        roles.push((role, role_org.clone()));
                    }
                }
            }
        }
        let password = r.get(col::PASSWORD).to_owned();
        if current.is_some() {
            if !password.is_empty() {
                bad(
                    col::PASSWORD,
                    "该用户已存在，导入不会修改已有人员的密码，请将初始密码留空".into(),
                );
            }
        } else if password.is_empty() {
            bad(col::PASSWORD, "新人员须填写初始密码".into());
        } else if let Err(ServiceError::Invalid(e)) =
            passwords::check_policy(col::PASSWORD, &password, &[&username])
        {
            for fe in e {
                bad(col::PASSWORD, fe.message_zh);
            }
        }
        if errors.len() > before {
            continue;
        }
        plans.push(match current {
            None => Plan::Create {
                username,
                display_name,
                home_org,
                roles,
                password,
            },
            Some(t) => {
                let missing: Vec<(Role, String)> = roles
                    .into_iter()
                    .filter(|(role, org)| !t.holds(*role, org))
                    .collect();
                if missing.is_empty() {
                    Plan::Nothing
                } else {
                    Plan::AddRoles {
                        id: t.id.clone(),
                        username,
                        roles: missing,
                    }
                }
            }
        });
    }
    if !errors.is_empty() {
        return Err(ServiceError::Import(errors));
    }
    // Hash before the transaction: Argon2 is slow on purpose.
    let mut hashes = Vec::with_capacity(plans.len());
    for plan in &plans {
        hashes.push(match plan {
            Plan::Create { password, .. } => Some(hash_password(password)?),
            _ => None,
        });
    }
    let now = p.now();
    let now_text = fmt_time(now);
    let who = actor_key(actor);
    let mut summary = ImportSummary::default();
    let mut created_names = Vec::new();
    let mut tx = p.db.begin().await?;
    for (plan, hash) in plans.iter().zip(hashes) {
        match (plan, hash) {
            (
                Plan::Create {
                    username,
                    display_name,
                    home_org,
                    roles,
                    ..
                },
                Some(hash),
            ) => {
                let id = insert_account(
                    &mut tx,
                    now,
                    actor,
                    username,
                    display_name,
                    home_org,
                    roles,
                    &hash,
                )
                .await
                .map_err(|_| {
                    ServiceError::Conflict(format!(
                        "导入时用户名“{username}”已被他人同时创建，请重新导入"
                    ))
                })?;
                audit::append(
                    &mut tx,
                    now,
                    &Entry {
                        actor: &who,
                        action: "staff.create",
                        target: &format!("staff:{id}"),
                        outcome: Outcome::Success,
                        ip: "",
                        detail: serde_json::json!({
                            "username": username,
                            "home_org": home_org,
                            "roles": roles_json(roles),
                            "via": "import",
                        }),
                    },
                )
                .await?;
                created_names.push(username.clone());
                summary.created += 1;
            }
            (Plan::AddRoles { id, roles, .. }, _) => {
                for (role, org) in roles {
                    insert_role(&mut tx, &now_text, actor, id, *role, org).await?;
                    audit::append(
                        &mut tx,
                        now,
                        &Entry {
                            actor: &who,
                            action: "staff.role_grant",
                            target: &format!("staff:{id}"),
                            outcome: Outcome::Success,
                            ip: "",
                            detail: serde_json::json!({
                                "role": role.as_str(),
                                "org": org,
                                "via": "import",
                            }),
                        },
                    )
                    .await?;
                }
                summary.updated += 1;
            }
            _ => summary.unchanged += 1,
        }
    }
    let updated: Vec<&str> = plans
        .iter()
        .filter_map(|p| match p {
            Plan::AddRoles { username, .. } => Some(username.as_str()),
            _ => None,
        })
        .collect();
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &who,
            action: "staff.import",
            target: &match &scope {
                StaffScope::All => "staff:*".to_owned(),
                StaffScope::Org(o) => format!("org:{o}"),
            },
            outcome: Outcome::Success,
            ip: "",
            detail: serde_json::json!({
                "rows": rows.len(),
                "created": created_names,
                "updated": updated,
                "unchanged": summary.unchanged,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_follow_the_rule() {
        assert!(username_problem("wang.li_2-x").is_none());
        assert!(username_problem("ab").is_some());
        assert!(username_problem("Wang").is_some());
        assert!(username_problem(&"a".repeat(33)).is_some());
        assert!(username_problem("王磊abc").is_some());
        assert!(username_problem("").is_some());
    }

    #[test]
    fn scopes_decide_grants() {
        let dept = StaffScope::Org("A".into());
        assert!(dept.may_grant(Role::ItemManager, "A"));
        assert!(!dept.may_grant(Role::ItemManager, "B"));
        assert!(!dept.may_grant(Role::DeptAdmin, "A"));
        assert!(!dept.may_grant(Role::SystemAdmin, "A"));
        assert!(StaffScope::All.may_grant(Role::SystemAdmin, "B"));
        assert!(dept.manages_home("A") && !dept.manages_home("B"));
    }

    #[test]
    fn labels_and_patterns() {
        assert_eq!(role_by_label(" 事项管理员 "), Some(Role::ItemManager));
        assert_eq!(role_by_label("Item Manager"), Some(Role::ItemManager));
        assert_eq!(role_by_label("管理员"), None);
        assert_eq!(like_pattern("a_%B"), "%a\\_\\%b%");
        assert_eq!(header_key(" 角色（可多个）*"), "角色");
    }

    #[test]
    fn the_template_reads_back_empty() {
        let bytes = write_sheet(
            &IMPORT_COLUMNS,
            &[vec![
                "wang.li".into(),
                "王力".into(),
                "X".into(),
                "窗口人员".into(),
                String::new(),
                "Pw#12345a".into(),
            ]],
        )
        .unwrap();
        let rows = read_sheet(&bytes).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].get(col::ROLES), "窗口人员");
        let Err(ServiceError::Import(e)) = read_sheet(b"not a workbook") else {
            panic!("garbage accepted");
        };
        assert_eq!(e.len(), 1);
    }
}
