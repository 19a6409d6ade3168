//! Staff accounts, roles and sessions: who may do what in the management platform.
//!
//! A staff member has a home organisation and holds role assignments (窗口人员, 审批人员,
//! 部门管理员, 事项管理员, 事项审核员, 监察人员, 系统管理员), each in one organisation; one person
//! may hold several in several organisations. A session acts in one organisation at a time
//! (the home one if it has an assignment there), and [`Staff`] shows the roles held in it.
//! Passwords are Argon2id ([`super::passwords`]); repeated failures lock the account and the
//! client address with back-off ([`super::throttle`]); every sign-in, failure and lock is
//! audited ([`super::audit`]). Sessions are random tokens of which only the SM3 hash is
//! stored, each with its own CSRF token, an idle timeout and an absolute timeout. Holders of
//! administrative roles must pass TOTP before their session may do anything.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use yiwang_store::{Row, fmt_time, parse_time};

use super::audit::{self, Entry, Outcome};
use super::{passwords, throttle};
use crate::{Platform, ServiceError};

/// Failed sign-ins before an account is locked (the first lock lasts 15 minutes).
pub const MAX_FAILURES: i64 = throttle::ACCOUNT.threshold;
/// A session ends after this much inactivity.
pub const IDLE_MINUTES: i64 = 30;
/// A session ends this long after sign-in, whatever happens.
pub const ABSOLUTE_HOURS: i64 = 12;

/// A staff role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 窗口人员: receives applications at a hall window.
    WindowClerk,
    /// 审批人员: decides cases of their organisation.
    Approver,
    /// 部门管理员: manages the staff of their organisation.
    DeptAdmin,
    /// 事项管理员: maintains their organisation's implementation items.
    ItemManager,
    /// 事项审核员: reviews items of organisations within their region.
    ItemReviewer,
    /// 监察人员: e-supervision of organisations within their region.
    Supervisor,
    /// 系统管理员.
    SystemAdmin,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 7] = [
        Role::WindowClerk,
        Role::Approver,
        Role::DeptAdmin,
        Role::ItemManager,
        Role::ItemReviewer,
        Role::Supervisor,
        Role::SystemAdmin,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::WindowClerk => "window_clerk",
            Role::Approver => "approver",
            Role::DeptAdmin => "dept_admin",
            Role::ItemManager => "item_manager",
            Role::ItemReviewer => "item_reviewer",
            Role::Supervisor => "supervisor",
            Role::SystemAdmin => "system_admin",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::WindowClerk => "窗口人员",
            Role::Approver => "审批人员",
            Role::DeptAdmin => "部门管理员",
            Role::ItemManager => "事项管理员",
            Role::ItemReviewer => "事项审核员",
            Role::Supervisor => "监察人员",
            Role::SystemAdmin => "系统管理员",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Role::WindowClerk => "window clerk",
            Role::Approver => "approver",
            Role::DeptAdmin => "department administrator",
            Role::ItemManager => "item manager",
            Role::ItemReviewer => "item reviewer",
            Role::Supervisor => "supervisor",
            Role::SystemAdmin => "system administrator",
        }
    }

    /// Administrative roles: their holders must sign in with a second factor (TOTP).
    pub fn is_administrative(self) -> bool {
        matches!(self, Role::DeptAdmin | Role::SystemAdmin)
    }
}

/// One role held in one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    /// The role.
    pub role: Role,
    /// Organisation's credit code.
    pub org: String,
    /// Organisation's name.
    pub org_name: String,
    /// Organisation's region code.
    pub region: String,
}

/// A signed-in staff member: the actor of every management use-case.
#[derive(Debug, Clone, Serialize)]
pub struct Staff {
    /// Account id.
    pub id: String,
    /// Sign-in name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// The organisation this session acts in (credit code).
    pub org: String,
    /// Its name.
    pub org_name: String,
    /// Its region code.
    pub region: String,
    /// Roles held in that organisation.
    pub roles: Vec<Role>,
    /// Every assignment, in every organisation.
    pub assignments: Vec<Assignment>,
    /// Whether sign-in needs a second factor (an administrative role anywhere).
    pub mfa_required: bool,
    /// Whether the TOTP second factor is set up.
    pub totp_enabled: bool,
}

impl Staff {
    /// Whether the staff member holds a role.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Fails with Forbidden unless the role is held.
    pub fn require(&self, role: Role) -> Result<(), ServiceError> {
        if self.has(role) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "需要“{}”角色",
                role.label_zh()
            )))
        }
    }
}

/// A session as the web edge sees it.
#[derive(Debug, Clone)]
pub struct Session {
    /// The staff member.
    pub staff: Staff,
    /// The CSRF token every form of this session must carry.
    pub csrf: String,
    /// Whether the second factor was passed in this session.
    pub mfa_passed: bool,
}

impl Session {
    /// Whether the session may act: signed in, and past TOTP when the account needs it.
    pub fn complete(&self) -> bool {
        self.mfa_passed || !self.staff.mfa_required
    }
}

/// Hashes a password with Argon2id ([`passwords::hash`]).
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    passwords::hash(password)
}

/// A new random token: 256 bits from the OS, as 64 lower-case hex digits (the form the web
/// edge accepts in its cookies).
pub fn random_token() -> String {
    yiwang_crypto::random::random_bytes::<32>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn token_hash(token: &str) -> String {
    super::sm3_hex(token)
}

/// Creates a staff account with its role assignments (used by the demo loader and
/// administrators). `assignments` are (role, organisation credit code).
pub async fn create_staff(
    tx: &mut yiwang_store::Transaction<'static, yiwang_store::Any>,
    now: DateTime<Utc>,
    username: &str,
    display_name: &str,
    home_org: &str,
    assignments: &[(Role, &str)],
    password_hash: &str,
) -> Result<String, ServiceError> {
    let id = uuid::Uuid::now_v7().to_string();
    let home_roles = assignments
        .iter()
        .filter(|(_, o)| *o == home_org)
        .map(|(r, _)| r.as_str())
        .collect::<Vec<_>>()
        .join(",");
    sqlx::query(
        "INSERT INTO staff (id, username, display_name, org, roles, password_hash, disabled, \
         failed_logins, locked_until, created_at, password_changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, 0, NULL, $7, $7)",
    )
    .bind(&id)
    .bind(username)
    .bind(display_name)
    .bind(home_org)
    .bind(home_roles)
    .bind(password_hash)
    .bind(fmt_time(now))
    .execute(&mut **tx)
    .await?;
    for (role, org) in assignments {
        sqlx::query(
            "INSERT INTO staff_roles (staff_id, role, org, granted_by, granted_at) \
             VALUES ($1, $2, $3, NULL, $4)",
        )
        .bind(&id)
        .bind(role.as_str())
        .bind(*org)
        .bind(fmt_time(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

/// Loads a staff member acting in `active_org` (when they hold a role there), else in their
/// home organisation, else in the first organisation they hold a role in.
pub(crate) async fn load_staff(
    p: &Platform,
    id: &str,
    active_org: Option<&str>,
) -> Result<Option<Staff>, ServiceError> {
    // The account and its roles in one read: one row per role (one with no role when none).
    let rows = sqlx::query(
        "SELECT s.id, s.username, s.display_name, s.org, s.totp_enabled, r.role, \
         r.org AS role_org FROM staff s LEFT JOIN staff_roles r ON r.staff_id = s.id \
         WHERE s.id = $1 AND s.disabled = 0 ORDER BY r.org, r.role",
    )
    .bind(id)
    .fetch_all(p.db.pool())
    .await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let home: String = r.try_get("org")?;
    let master = p.master.get();
    let org_of = |code: &str| {
        master
            .organisation(code)
            .map(|o| (o.name.clone(), o.region.clone()))
            .unwrap_or_default()
    };
    let mut assignments = Vec::new();
    for row in &rows {
        let (Some(role), Some(org)) = (
            row.try_get::<Option<String>, _>("role")?,
            row.try_get::<Option<String>, _>("role_org")?,
        ) else {
            continue;
        };
        if let Some(role) = Role::parse(&role) {
            let (org_name, region) = org_of(&org);
            assignments.push(Assignment {
                role,
                org,
                org_name,
                region,
            });
        }
    }
    let holds = |o: &str| assignments.iter().any(|a| a.org == o);
    let org = active_org
        .filter(|o| holds(o))
        .map(str::to_owned)
        .or_else(|| holds(&home).then(|| home.clone()))
        .or_else(|| assignments.first().map(|a| a.org.clone()))
        .unwrap_or(home);
    let (org_name, region) = org_of(&org);
    let roles = assignments
        .iter()
        .filter(|a| a.org == org)
        .map(|a| a.role)
        .collect();
    Ok(Some(Staff {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        org,
        org_name,
        region,
        roles,
        mfa_required: assignments.iter().any(|a| a.role.is_administrative()),
        totp_enabled: r.try_get::<i64, _>("totp_enabled")? != 0,
        assignments,
    }))
}

/// Signs in with username and password from client address `ip`; returns the new session
/// token and the session (which may still need TOTP: see [`Session::complete`]).
///
/// Wrong passwords count towards a lock of the account and of the address, with back-off;
/// a locked account or address answers `TooManyAttempts` even for the right password until
/// the lock ends. The error for an unknown user and a wrong password is the same, and takes
/// the same time. Every outcome is audited.
pub async fn sign_in(
    p: &Platform,
    username: &str,
    password: &str,
    ip: &str,
) -> Result<(String, Session), ServiceError> {
    let now = p.now();
    let username = username.trim();
    let wrong = || {
        ServiceError::invalid(
            "password",
            "用户名或密码不正确",
            "wrong user name or password",
        )
    };
    let ip_key = format!("ip:{ip}");
    let row =
        sqlx::query("SELECT id, password_hash FROM staff WHERE username = $1 AND disabled = 0")
            .bind(username)
            .fetch_optional(p.db.pool())
            .await?;
    let account_key = row
        .as_ref()
        .and_then(|r| r.try_get::<String, _>("id").ok())
        .map(|id| format!("staff:{id}"));
    let mut keys = vec![ip_key.as_str()];
    keys.extend(account_key.as_deref());
    if throttle::check(p, &keys).await.is_err() {
        audit::record_event(
            p,
            &Entry {
                actor: account_key.as_deref().unwrap_or("anonymous"),
                action: "staff.sign_in",
                target: username,
                outcome: Outcome::Locked,
                ip,
                detail: serde_json::json!({}),
            },
        )
        .await?;
        return Err(ServiceError::TooManyAttempts);
    }
    let ok = match &row {
        Some(r) => passwords::verify(password, &r.try_get::<String, _>("password_hash")?),
        None => {
            passwords::verify_dummy(password);
            false
        }
    };
    let mut tx = p.db.begin().await?;
    if !ok {
        let mut locked = throttle::fail(&mut tx, now, &ip_key, throttle::ADDRESS).await?;
        if let Some(k) = &account_key {
            locked = throttle::fail(&mut tx, now, k, throttle::ACCOUNT)
                .await?
                .or(locked);
        }
        audit::append(
            &mut tx,
            now,
            &Entry {
                actor: account_key.as_deref().unwrap_or("anonymous"),
                action: "staff.sign_in",
                target: username,
                outcome: Outcome::Failure,
                ip,
                detail: serde_json::json!({ "known_user": account_key.is_some() }),
            },
        )
        .await?;
        if let Some(until) = locked {
            audit::append(
                &mut tx,
                now,
                &Entry {
                    actor: "system",
                    action: "staff.lockout",
                    target: account_key.as_deref().unwrap_or(&ip_key),
                    outcome: Outcome::Locked,
                    ip,
                    detail: serde_json::json!({ "until": fmt_time(until) }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        return Err(wrong());
    }
    let (Some(r), Some(account_key)) = (row, account_key) else {
        return Err(wrong());
    };
    let id: String = r.try_get("id")?;
    throttle::succeed(&mut tx, &account_key).await?;
    throttle::succeed(&mut tx, &ip_key).await?;
    let token = random_token();
    let csrf = random_token();
    sqlx::query(
        "INSERT INTO sessions (id_hash, staff_id, csrf, created_at, last_seen, active_org, mfa) \
         VALUES ($1, $2, $3, $4, $4, NULL, 0)",
    )
    .bind(token_hash(&token))
    .bind(&id)
    .bind(&csrf)
    .bind(fmt_time(now))
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &account_key,
            action: "staff.sign_in",
            target: username,
            outcome: Outcome::Success,
            ip,
            detail: serde_json::json!({ "method": "password" }),
        },
    )
    .await?;
    tx.commit().await?;
    let staff = load_staff(p, &id, None)
        .await?
        .ok_or(ServiceError::Unauthenticated)?;
    Ok((
        token,
        Session {
            staff,
            csrf,
            mfa_passed: false,
        },
    ))
}

/// Finds the live session of a token and marks it used; `None` when unknown or expired.
pub async fn session(p: &Platform, token: &str) -> Result<Option<Session>, ServiceError> {
    let now = p.now();
    let hash = token_hash(token);
    let Some(r) = sqlx::query(
        "SELECT staff_id, csrf, created_at, last_seen, active_org, mfa FROM sessions \
         WHERE id_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(p.db.pool())
    .await?
    else {
        return Ok(None);
    };
    let Some(touch) = session_age(&r, now)? else {
        sign_out(p, token).await?;
        return Ok(None);
    };
    if touch {
        sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
            .bind(fmt_time(now))
            .bind(&hash)
            .execute(p.db.writer())
            .await?;
    }
    let staff_id: String = r.try_get("staff_id")?;
    let csrf: String = r.try_get("csrf")?;
    let active_org: Option<String> = r.try_get("active_org")?;
    let mfa_passed = r.try_get::<i64, _>("mfa")? != 0;
    Ok(load_staff(p, &staff_id, active_org.as_deref())
        .await?
        .map(|staff| Session {
            staff,
            csrf,
            mfa_passed,
        }))
}

/// Whether a stored session (`created_at`, `last_seen`) is still live at `now`: `None` once
/// the idle or the absolute timeout has passed, else whether to record this use (at most once
/// a minute, so that reads do not become writes). Shared by staff and citizen sessions.
pub(crate) fn session_age(
    r: &yiwang_store::AnyRow,
    now: DateTime<Utc>,
) -> Result<Option<bool>, ServiceError> {
    let created = parse_time(&r.try_get::<String, _>("created_at")?);
    let seen = parse_time(&r.try_get::<String, _>("last_seen")?);
    Ok(match (created, seen) {
        (Some(c), Some(s))
            if now - c <= Duration::hours(ABSOLUTE_HOURS)
                && now - s <= Duration::minutes(IDLE_MINUTES) =>
        {
            Some(now - s > Duration::minutes(1))
        }
        _ => None,
    })
}

/// Switches the organisation a session acts in; the staff member must hold a role there.
pub async fn switch_org(p: &Platform, token: &str, org: &str) -> Result<Session, ServiceError> {
    let s = session(p, token)
        .await?
        .ok_or(ServiceError::Unauthenticated)?;
    if !s.staff.assignments.iter().any(|a| a.org == org) {
        return Err(ServiceError::Forbidden("在该单位没有角色".into()));
    }
    sqlx::query("UPDATE sessions SET active_org = $1 WHERE id_hash = $2")
        .bind(org)
        .bind(token_hash(token))
        .execute(p.db.writer())
        .await?;
    session(p, token)
        .await?
        .ok_or(ServiceError::Unauthenticated)
}

/// Changes the signed-in staff member's own password (the current one must be given); their
/// other sessions end.
pub async fn change_password(
    p: &Platform,
    token: &str,
    old: &str,
    new: &str,
    ip: &str,
) -> Result<(), ServiceError> {
    let s = session(p, token)
        .await?
        .ok_or(ServiceError::Unauthenticated)?;
    super::change_own_password(
        p,
        &super::STAFF,
        &s.staff.id,
        &token_hash(token),
        old,
        new,
        &[s.staff.username.as_str()],
        ip,
    )
    .await
}

/// Marks a session as past its second factor (inside the caller's transaction).
pub(crate) async fn mark_mfa_passed(
    tx: &mut yiwang_store::Transaction<'static, yiwang_store::Any>,
    token: &str,
) -> Result<(), ServiceError> {
    sqlx::query("UPDATE sessions SET mfa = 1 WHERE id_hash = $1")
        .bind(token_hash(token))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ends a session.
pub async fn sign_out(p: &Platform, token: &str) -> Result<(), ServiceError> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(token_hash(token))
        .execute(p.db.writer())
        .await?;
    Ok(())
}

/// The newest audit-log entries, newest first (at most `limit`, before `before` when given):
/// for system administrators only.
pub async fn audit_log(
    p: &Platform,
    staff: &Staff,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<audit::LogLine>, ServiceError> {
    super::authz::require_system_admin(staff)?;
    audit::recent(p, before, limit).await
}

/// Recomputes the audit log's hash chain ([`audit::verify`]): for system administrators only.
pub async fn audit_verify(
    p: &Platform,
    staff: &Staff,
) -> Result<audit::Verification, ServiceError> {
    super::authz::require_system_admin(staff)?;
    audit::verify(p).await
}
