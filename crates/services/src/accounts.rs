//! Staff accounts, roles and sessions: who may do what in the management platform.
//!
//! This is the foundation the unified identity system (统一身份认证) builds on: staff belong to
//! one organisation and hold roles; passwords are hashed with Argon2id; repeated failures lock
//! the account for a while; sessions are random tokens of which only the SM3 hash is stored,
//! each with its own CSRF token, an idle timeout and an absolute timeout.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sm3::{Digest, Sm3};
use yiwang_store::{Row, fmt_time, parse_time};

use crate::{Platform, ServiceError};

/// Failed sign-ins before an account is locked.
pub const MAX_FAILURES: i64 = 5;
/// How long a lock lasts.
pub const LOCK_MINUTES: i64 = 15;
/// A session ends after this much inactivity.
pub const IDLE_MINUTES: i64 = 30;
/// A session ends this long after sign-in, whatever happens.
pub const ABSOLUTE_HOURS: i64 = 12;

/// A staff role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 事项管理员: maintains their organisation's implementation items.
    ItemManager,
    /// 事项审核员: reviews items of organisations within their region.
    ItemReviewer,
    /// 系统管理员.
    SystemAdmin,
}

impl Role {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::ItemManager => "item_manager",
            Role::ItemReviewer => "item_reviewer",
            Role::SystemAdmin => "system_admin",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "item_manager" => Some(Role::ItemManager),
            "item_reviewer" => Some(Role::ItemReviewer),
            "system_admin" => Some(Role::SystemAdmin),
            _ => None,
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::ItemManager => "事项管理员",
            Role::ItemReviewer => "事项审核员",
            Role::SystemAdmin => "系统管理员",
        }
    }
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
    /// Organisation's credit code.
    pub org: String,
    /// Organisation's name.
    pub org_name: String,
    /// Organisation's region code.
    pub region: String,
    /// Roles held.
    pub roles: Vec<Role>,
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
}

/// Hashes a password with Argon2id (default parameters, random salt).
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::internal(format!("argon2: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).ok().is_some_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A new random token (256 bits, hex).
pub fn random_token() -> String {
    let a = uuid::Uuid::new_v4();
    let b = uuid::Uuid::new_v4();
    format!("{}{}", a.simple(), b.simple())
}

fn token_hash(token: &str) -> String {
    let d = Sm3::digest(token.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a staff account (used by the demo loader and administrators).
pub async fn create_staff(
    tx: &mut yiwang_store::Transaction<'static, yiwang_store::Any>,
    now: DateTime<Utc>,
    username: &str,
    display_name: &str,
    org: &str,
    roles: &[Role],
    password_hash: &str,
) -> Result<String, ServiceError> {
    let id = uuid::Uuid::now_v7().to_string();
    let roles = roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",");
    sqlx::query(
        "INSERT INTO staff (id, username, display_name, org, roles, password_hash, disabled, \
         failed_logins, locked_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, 0, NULL, $7)",
    )
    .bind(&id)
    .bind(username)
    .bind(display_name)
    .bind(org)
    .bind(roles)
    .bind(password_hash)
    .bind(fmt_time(now))
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

async fn load_staff(p: &Platform, id: &str) -> Result<Option<Staff>, ServiceError> {
    let Some(r) = sqlx::query(
        "SELECT id, username, display_name, org, roles FROM staff WHERE id = $1 AND disabled = 0",
    )
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    else {
        return Ok(None);
    };
    let org: String = r.try_get("org")?;
    let master = p.master.get();
    let (org_name, region) = master
        .organisation(&org)
        .map(|o| (o.name.clone(), o.region.clone()))
        .unwrap_or_default();
    let roles: String = r.try_get("roles")?;
    Ok(Some(Staff {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        org,
        org_name,
        region,
        roles: roles.split(',').filter_map(Role::parse).collect(),
    }))
}

/// Signs in with username and password; returns the new session token and the session.
///
/// Wrong passwords count towards a lock; a locked account answers `TooManyAttempts` even for
/// the right password until the lock ends. The error for an unknown user and a wrong password
/// is the same.
pub async fn sign_in(
    p: &Platform,
    username: &str,
    password: &str,
) -> Result<(String, Session), ServiceError> {
    let now = p.now();
    let wrong = || {
        ServiceError::invalid(
            "password",
            "用户名或密码不正确",
            "wrong user name or password",
        )
    };
    let Some(r) = sqlx::query(
        "SELECT id, password_hash, failed_logins, locked_until FROM staff \
         WHERE username = $1 AND disabled = 0",
    )
    .bind(username.trim())
    .fetch_optional(p.db.pool())
    .await?
    else {
        // Spend the same time as a real check, so timing does not reveal which names exist.
        let _ = verify_password(password, DUMMY_HASH);
        return Err(wrong());
    };
    let id: String = r.try_get("id")?;
    let hash: String = r.try_get("password_hash")?;
    let failures: i64 = r.try_get("failed_logins")?;
    let locked_until: Option<String> = r.try_get("locked_until")?;
    if locked_until
        .as_deref()
        .and_then(parse_time)
        .is_some_and(|t| t > now)
    {
        return Err(ServiceError::TooManyAttempts);
    }
    if !verify_password(password, &hash) {
        let failures = failures + 1;
        let lock =
            (failures >= MAX_FAILURES).then(|| fmt_time(now + Duration::minutes(LOCK_MINUTES)));
        sqlx::query("UPDATE staff SET failed_logins = $1, locked_until = $2 WHERE id = $3")
            .bind(if lock.is_some() { 0 } else { failures })
            .bind(lock)
            .bind(&id)
            .execute(p.db.pool())
            .await?;
        return Err(wrong());
    }
    let token = random_token();
    let csrf = random_token();
    let mut tx = p.db.begin().await?;
    sqlx::query("UPDATE staff SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO sessions (id_hash, staff_id, csrf, created_at, last_seen) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(token_hash(&token))
    .bind(&id)
    .bind(&csrf)
    .bind(fmt_time(now))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let staff = load_staff(p, &id)
        .await?
        .ok_or(ServiceError::Unauthenticated)?;
    Ok((token, Session { staff, csrf }))
}

/// Finds the live session of a token and marks it used; `None` when unknown or expired.
pub async fn session(p: &Platform, token: &str) -> Result<Option<Session>, ServiceError> {
    let now = p.now();
    let hash = token_hash(token);
    let Some(r) = sqlx::query(
        "SELECT staff_id, csrf, created_at, last_seen FROM sessions WHERE id_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(p.db.pool())
    .await?
    else {
        return Ok(None);
    };
    let created: Option<DateTime<Utc>> = parse_time(&r.try_get::<String, _>("created_at")?);
    let seen: Option<DateTime<Utc>> = parse_time(&r.try_get::<String, _>("last_seen")?);
    let expired = match (created, seen) {
        (Some(c), Some(s)) => {
            now - c > Duration::hours(ABSOLUTE_HOURS) || now - s > Duration::minutes(IDLE_MINUTES)
        }
        _ => true,
    };
    if expired {
        sign_out(p, token).await?;
        return Ok(None);
    }
    // Touch at most once a minute, so reads do not become writes.
    if seen.is_some_and(|s| now - s > Duration::minutes(1)) {
        sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
            .bind(fmt_time(now))
            .bind(&hash)
            .execute(p.db.pool())
            .await?;
    }
    let staff_id: String = r.try_get("staff_id")?;
    let csrf: String = r.try_get("csrf")?;
    Ok(load_staff(p, &staff_id)
        .await?
        .map(|staff| Session { staff, csrf }))
}

/// Ends a session.
pub async fn sign_out(p: &Platform, token: &str) -> Result<(), ServiceError> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(token_hash(token))
        .execute(p.db.pool())
        .await?;
    Ok(())
}

/// A valid Argon2id hash of a random password, verified against when the user is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9Vd0uZQ3YQ1pd1CE6m7vYQk0kzxQ6kq1r1Yc3m0gS2A";
