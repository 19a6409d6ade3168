//! Citizen accounts (自然人用户): registration, phone confirmation, sign-in by password or by
//! SMS code, sessions, and real-name levels (实名等级).
//!
//! - **L1** 格式校验: the 居民身份证号码 is well-formed (GB 11643) and the phone confirmed.
//! - **L2** 人口库核验: name and ID number match the population library (checked when the
//!   phone is confirmed, and again on request).
//! - **L3** 窗口核验: a window clerk saw the person and their ID card.
//!
//! The ID number and phone are stored only encrypted (SM4), found through keyed blind indexes,
//! and shown masked. Sessions work as the staff's: random tokens stored as SM3 hashes, CSRF
//! token, idle and absolute timeouts.

use chrono::{DateTime, Utc};
use serde::Serialize;
use yiwang_connectors::population::PersonCheck;
use yiwang_domain::codes::IdCardNumber;
use yiwang_domain::contact::MobileNumber;
use yiwang_store::{Row, fmt_time};

use super::audit::{self, Entry, Outcome};
use super::otp::{self, Purpose};
use super::staff::{Role, Staff, random_token};
use super::{passwords, throttle};
use crate::{FieldError, Platform, ServiceError};

/// The longest name accepted (characters).
pub const MAX_NAME: usize = 50;

/// A real-name level (the domain's [`RealNameLevel`]).
pub use yiwang_domain::identity::RealNameLevel as Level;

/// A citizen as pages and use-cases see them: never the full ID number or phone.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// Account id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Masked ID number (`4301**********1234`).
    pub id_number_masked: String,
    /// Masked phone (`138****5678`).
    pub phone_masked: String,
    /// Real-name level.
    pub level: Level,
    /// `pending` until the phone is confirmed, then `active`.
    pub status: String,
}

/// A citizen's live session.
#[derive(Debug, Clone)]
pub struct UserSession {
    /// The user.
    pub user: User,
    /// CSRF token of the session's forms.
    pub csrf: String,
}

/// What a registration form holds.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    /// 姓名.
    pub name: String,
    /// 居民身份证号码.
    pub id_number: String,
    /// 手机号码.
    pub phone: String,
    /// 密码.
    pub password: String,
}

fn token_hash(token: &str) -> String {
    super::sm3_hex(token)
}

fn seal(p: &Platform, field: &str, value: &str) -> Result<String, ServiceError> {
    p.keys
        .pii
        .encrypt(field, value)
        .map_err(|e| ServiceError::internal(format!("encrypt {field}: {e}")))
}

/// Parses a name: 1–50 characters, letters (any script), `·` and spaces inside.
fn parse_name(name: &str) -> Option<String> {
    let name = name.trim();
    let n = name.chars().count();
    ((1..=MAX_NAME).contains(&n)
        && name
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '·' | '•' | ' ')))
    .then(|| name.to_owned())
}

/// Registers a citizen: checks every field (all problems at once), refuses an ID number or
/// phone already registered, stores the account as `pending` and sends a code to the phone.
/// Returns the new account's id.
pub async fn register(p: &Platform, r: &Registration, ip: &str) -> Result<String, ServiceError> {
    let now = p.now();
    let mut errors = Vec::new();
    let name = parse_name(&r.name);
    if name.is_none() {
        errors.push(FieldError::new(
            "name",
            format!("请填写真实姓名（{MAX_NAME} 个字以内）"),
            format!("enter your legal name (at most {MAX_NAME} characters)"),
        ));
    }
    let id_number = match IdCardNumber::parse(&r.id_number) {
        Ok(n) if n.birth_date() <= now.date_naive() => Some(n),
        Ok(_) => {
            errors.push(FieldError::new(
                "id_number",
                "身份证号码中的出生日期晚于今天",
                "the birth date in the ID number is in the future",
            ));
            None
        }
        Err(e) => {
            errors.push(FieldError::new("id_number", e.message_zh(), e.message_en()));
            None
        }
    };
    let phone = MobileNumber::parse(&r.phone);
    if phone.is_none() {
        errors.push(FieldError::new(
            "phone",
            "请填写 11 位手机号码",
            "enter an 11-digit mobile number",
        ));
    }
    let ids: Vec<&str> = [r.phone.as_str(), r.id_number.as_str()]
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect();
    if let Err(ServiceError::Invalid(e)) = passwords::check_policy("password", &r.password, &ids) {
        errors.extend(e);
    }
    let (Some(name), Some(id_number), Some(phone), true) =
        (name, id_number, phone, errors.is_empty())
    else {
        return Err(ServiceError::Invalid(errors));
    };
    let pii = &p.keys.pii;
    let taken = |field: &str, bidxs: Vec<String>, column: &'static str| {
        let field = field.to_owned();
        async move {
            for b in bidxs {
                let q = format!("SELECT id FROM users WHERE {column} = $1");
                if sqlx::query(sqlx::AssertSqlSafe(q))
                    .bind(&b)
                    .fetch_optional(p.db.pool())
                    .await?
                    .is_some()
                {
                    return Ok::<_, ServiceError>(Some(field));
                }
            }
            Ok(None)
        }
    };
    let mut conflicts = Vec::new();
    if taken(
        "id_number",
        pii.blind_indexes("id_number", id_number.as_str()),
        "id_number_bidx",
    )
    .await?
    .is_some()
    {
        conflicts.push(FieldError::new(
            "id_number",
            "该身份证号码已注册，请直接登录或找回密码",
            "this ID number is already registered; sign in or reset the password",
        ));
    }
    if taken(
        "phone",
        pii.blind_indexes("phone", phone.as_str()),
        "phone_bidx",
    )
    .await?
    .is_some()
    {
        conflicts.push(FieldError::new(
            "phone",
            "该手机号码已被其他账号使用",
            "this mobile number is used by another account",
        ));
    }
    if !conflicts.is_empty() {
        return Err(ServiceError::Invalid(conflicts));
    }
    let hash = passwords::hash(&r.password)?;
    let mut tx = p.db.begin().await?;
    let id = insert_user(
        p,
        &mut tx,
        now,
        (&name, &id_number, &phone),
        &hash,
        ("pending", Level::L1),
    )
    .await?;
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &format!("user:{id}"),
            action: "user.register",
            target: &id_number.masked(),
            outcome: Outcome::Success,
            ip,
            detail: serde_json::json!({ "phone": phone.masked() }),
        },
    )
    .await?;
    tx.commit().await?;
    otp::send(p, Purpose::Register, &phone, ip).await?;
    Ok(id)
}

/// Stores a new account: ID number and phone encrypted, with their blind indexes and masked
/// forms. `state` is the status and the level it starts at. Returns its id.
pub(crate) async fn insert_user(
    p: &Platform,
    tx: &mut yiwang_store::Transaction<'static, yiwang_store::Any>,
    now: DateTime<Utc>,
    person: (&str, &IdCardNumber, &MobileNumber),
    password_hash: &str,
    state: (&str, Level),
) -> Result<String, ServiceError> {
    let (name, id_number, phone) = person;
    let pii = &p.keys.pii;
    let id = uuid::Uuid::now_v7().to_string();
    let level = state.1 as i64;
    sqlx::query(
        "INSERT INTO users (id, name, id_number_enc, id_number_bidx, id_number_masked, phone_enc, \
         phone_bidx, phone_masked, key_id, password_hash, status, level, level_at, level_by, \
         failed_logins, locked_until, password_changed_at, created_at) VALUES ($1, $2, $3, $4, \
         $5, $6, $7, $8, $9, $10, $11, $12, NULL, NULL, 0, NULL, $13, $13)",
    )
    .bind(&id)
    .bind(name)
    .bind(seal(p, "id_number", id_number.as_str())?)
    .bind(pii.blind_index("id_number", id_number.as_str()))
    .bind(id_number.masked())
    .bind(seal(p, "phone", phone.as_str())?)
    .bind(pii.blind_index("phone", phone.as_str()))
    .bind(phone.masked())
    .bind(pii.current_id())
    .bind(password_hash)
    .bind(state.0)
    .bind(level)
    .bind(fmt_time(now))
    .execute(&mut **tx)
    .await
    .map_err(|e| match yiwang_store::StoreError::from(e) {
        e if e.is_unique_violation() => ServiceError::Conflict("该证件号码或手机号已注册".into()),
        e => e.into(),
    })?;
    Ok(id)
}

/// The name, full ID number and phone of an account (decrypted, one read), for an
/// application in its name.
pub(crate) async fn identity_of(
    p: &Platform,
    user_id: &str,
) -> Result<(String, String, String), ServiceError> {
    let r = sqlx::query("SELECT name, id_number_enc, phone_enc FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or(ServiceError::NotFound {
            what: "用户",
            key: user_id.into(),
        })?;
    let decrypt = |field: &str, col: &str| -> Result<String, ServiceError> {
        p.keys
            .pii
            .decrypt(field, &r.try_get::<String, _>(col)?)
            .map_err(|e| ServiceError::internal(format!("decrypt {field}: {e}")))
    };
    Ok((
        r.try_get("name")?,
        decrypt("id_number", "id_number_enc")?,
        decrypt("phone", "phone_enc")?,
    ))
}

/// The phone number of an account (decrypted), for sending it codes and notices.
pub(crate) async fn phone_of(p: &Platform, user_id: &str) -> Result<MobileNumber, ServiceError> {
    let r = sqlx::query("SELECT phone_enc FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or(ServiceError::NotFound {
            what: "用户",
            key: user_id.into(),
        })?;
    let phone = p
        .keys
        .pii
        .decrypt("phone", &r.try_get::<String, _>("phone_enc")?)
        .map_err(|e| ServiceError::internal(format!("decrypt phone: {e}")))?;
    MobileNumber::parse(&phone).ok_or_else(|| ServiceError::internal("stored phone unparsable"))
}

/// Where an account's notices go, in one read: its phone and its confirmed e-mail address (if
/// any), decrypted.
pub(crate) async fn notice_addresses(
    p: &Platform,
    user_id: &str,
) -> Result<(String, Option<String>), ServiceError> {
    let r = sqlx::query(
        "SELECT phone_enc, CASE WHEN email_verified_at IS NULL THEN NULL ELSE email_enc END AS email_enc \
         FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(ServiceError::NotFound {
        what: "用户",
        key: user_id.into(),
    })?;
    let decrypt = |field: &str, v: &str| {
        p.keys
            .pii
            .decrypt(field, v)
            .map_err(|e| ServiceError::internal(format!("decrypt {field}: {e}")))
    };
    let phone = decrypt("phone", &r.try_get::<String, _>("phone_enc")?)?;
    let email = r
        .try_get::<Option<String>, _>("email_enc")?
        .map(|e| decrypt("email", &e))
        .transpose()?;
    Ok((phone, email))
}

/// The confirmed e-mail address of an account, if it has one (decrypted), for notices.
pub async fn email_of(p: &Platform, user_id: &str) -> Result<Option<String>, ServiceError> {
    Ok(notice_addresses(p, user_id).await?.1)
}

/// An e-mail address with its middle hidden, for pages (`z***@example.cn`).
pub fn mask_email(email: &str) -> String {
    yiwang_connectors::notify::mask(email)
}

/// An e-mail address as stored (trimmed, checked), or a field error.
pub fn parse_email(email: &str) -> Result<String, ServiceError> {
    yiwang_connectors::notify::normalise_email(email).map_err(|_| {
        ServiceError::invalid(
            "email",
            "请填写正确的电子邮箱地址",
            "give a valid e-mail address",
        )
    })
}

/// Sends a code to `email` so that the signed-in citizen can confirm it (limits as for SMS
/// codes: one a minute and ten a day per address, twenty an hour per client address). Only a
/// signed-in citizen (`_s`) may ask.
pub async fn request_email(
    p: &Platform,
    _s: &UserSession,
    email: &str,
    ip: &str,
) -> Result<(), ServiceError> {
    let email = parse_email(email)?;
    otp::send_to(p, Purpose::Email, otp::Target::Email(&email), ip).await
}

/// Confirms `email` with the code sent to it and keeps it (encrypted) for notices; the old
/// address, if any, is replaced.
pub async fn confirm_email(
    p: &Platform,
    s: &UserSession,
    email: &str,
    code: &str,
    ip: &str,
) -> Result<(), ServiceError> {
    let email = parse_email(email)?;
    otp::consume_for(p, Purpose::Email, otp::Target::Email(&email), code).await?;
    let now = p.now();
    let enc = p
        .keys
        .pii
        .encrypt("email", &email)
        .map_err(|e| ServiceError::internal(format!("encrypt email: {e}")))?;
    let mut tx = p.db.begin().await?;
    sqlx::query("UPDATE users SET email_enc = $1, email_verified_at = $2 WHERE id = $3")
        .bind(enc)
        .bind(fmt_time(now))
        .bind(&s.user.id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &format!("user:{}", s.user.id),
            action: "user.email",
            target: &yiwang_connectors::notify::mask(&email),
            outcome: Outcome::Success,
            ip,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes the account's e-mail address: notices go by SMS and in-site message only.
pub async fn remove_email(p: &Platform, s: &UserSession, ip: &str) -> Result<(), ServiceError> {
    let now = p.now();
    let mut tx = p.db.begin().await?;
    sqlx::query("UPDATE users SET email_enc = NULL, email_verified_at = NULL WHERE id = $1")
        .bind(&s.user.id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &format!("user:{}", s.user.id),
            action: "user.email_removed",
            target: "",
            outcome: Outcome::Success,
            ip,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sends the registration code again.
pub async fn resend_registration_code(
    p: &Platform,
    user_id: &str,
    ip: &str,
) -> Result<(), ServiceError> {
    let phone = phone_of(p, user_id).await?;
    otp::send(p, Purpose::Register, &phone, ip).await
}

/// Confirms a new account's phone with the code sent to it, activates the account and checks
/// the name and ID number against the population library (L2 when they match; the account
/// stays L1 when the library is unreachable or disagrees). Returns the new session's token.
pub async fn confirm_phone(
    p: &Platform,
    user_id: &str,
    code: &str,
    ip: &str,
) -> Result<(String, UserSession), ServiceError> {
    let phone = phone_of(p, user_id).await?;
    otp::consume(p, Purpose::Register, &phone, code).await?;
    let now = p.now();
    let mut tx = p.db.begin().await?;
    sqlx::query("UPDATE users SET status = 'active' WHERE id = $1 AND status = 'pending'")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let token = new_session(&mut tx, now, user_id, "otp").await?;
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &format!("user:{user_id}"),
            action: "user.phone_confirmed",
            target: &phone.masked(),
            outcome: Outcome::Success,
            ip,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    if let Err(e) = verify_with_population_library(p, user_id, ip).await {
        tracing::warn!(error = %e, "population library check after registration failed");
    }
    let s = user_session(p, &token)
        .await?
        .ok_or(ServiceError::Unauthenticated)?;
    Ok((token, s))
}

/// Checks the account's name and ID number against the population library and raises the
/// account to L2 when they match. Returns the level afterwards.
pub async fn verify_with_population_library(
    p: &Platform,
    user_id: &str,
    ip: &str,
) -> Result<Level, ServiceError> {
    let r = sqlx::query("SELECT name, id_number_enc, level FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(p.db.pool())
        .await?;
    let level = Level::from_i64(r.try_get("level")?);
    if level >= Level::L2 {
        return Ok(level);
    }
    let name: String = r.try_get("name")?;
    let id_number = p
        .keys
        .pii
        .decrypt("id_number", &r.try_get::<String, _>("id_number_enc")?)
        .map_err(|e| ServiceError::internal(format!("decrypt id: {e}")))?;
    let check = p
        .outside
        .population
        .verify_person(&id_number, &name)
        .await
        .map_err(|e| ServiceError::Unavailable(format!("人口库暂时无法访问：{e}")))?;
    let now = p.now();
    let mut tx = p.db.begin().await?;
    let outcome = if check == PersonCheck::Match {
        sqlx::query(
            "UPDATE users SET level = 2, level_at = $1, level_by = 'population-library' \
             WHERE id = $2 AND level < 2",
        )
        .bind(fmt_time(now))
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        Outcome::Success
    } else {
        Outcome::Failure
    };
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &format!("user:{user_id}"),
            action: "user.level_l2",
            target: &format!("user:{user_id}"),
            outcome,
            ip,
            detail: serde_json::json!({ "result": format!("{check:?}") }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(if outcome == Outcome::Success {
        Level::L2
    } else {
        level
    })
}

/// A window clerk raises a citizen to L3 after seeing them and their ID card in person. The
/// clerk types the ID number from the card; it must be the account's.
pub async fn verify_in_person(
    p: &Platform,
    clerk: &Staff,
    id_number: &str,
    ip: &str,
) -> Result<User, ServiceError> {
    clerk.require(Role::WindowClerk)?;
    let id = IdCardNumber::parse(id_number).map_err(|e| {
        ServiceError::Invalid(vec![FieldError::new(
            "id_number",
            e.message_zh(),
            e.message_en(),
        )])
    })?;
    let user = find_by_id_number(p, &id)
        .await?
        .ok_or(ServiceError::NotFound {
            what: "用户",
            key: id.masked(),
        })?;
    let now = p.now();
    let mut tx = p.db.begin().await?;
    sqlx::query(
        "UPDATE users SET level = 3, level_at = $1, level_by = $2 WHERE id = $3 AND status = 'active'",
    )
    .bind(fmt_time(now))
    .bind(format!("staff:{}", clerk.id))
    .bind(&user.id)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &format!("staff:{}", clerk.id),
            action: "user.level_l3",
            target: &format!("user:{}", user.id),
            outcome: Outcome::Success,
            ip,
            detail: serde_json::json!({ "org": clerk.org }),
        },
    )
    .await?;
    tx.commit().await?;
    load_user(p, &user.id).await?.ok_or(ServiceError::NotFound {
        what: "用户",
        key: user.id,
    })
}

fn user_from_row(r: &yiwang_store::AnyRow) -> Result<User, ServiceError> {
    Ok(User {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        id_number_masked: r.try_get("id_number_masked")?,
        phone_masked: r.try_get("phone_masked")?,
        level: Level::from_i64(r.try_get("level")?),
        status: r.try_get("status")?,
    })
}

const USER_COLUMNS: &str = "id, name, id_number_masked, phone_masked, level, status";

/// A user by account id.
pub async fn load_user(p: &Platform, id: &str) -> Result<Option<User>, ServiceError> {
    let q = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(id)
        .fetch_optional(p.db.pool())
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
}

/// A user by ID number (through the blind indexes of every key in the ring).
pub async fn find_by_id_number(
    p: &Platform,
    id: &IdCardNumber,
) -> Result<Option<User>, ServiceError> {
    find_by(
        p,
        "id_number_bidx",
        p.keys.pii.blind_indexes("id_number", id.as_str()),
    )
    .await
}

async fn find_by(
    p: &Platform,
    column: &'static str,
    bidxs: Vec<String>,
) -> Result<Option<User>, ServiceError> {
    for b in bidxs {
        let q = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = $1");
        if let Some(r) = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(&b)
            .fetch_optional(p.db.pool())
            .await?
        {
            return user_from_row(&r).map(Some);
        }
    }
    Ok(None)
}

async fn new_session(
    tx: &mut yiwang_store::Transaction<'static, yiwang_store::Any>,
    now: DateTime<Utc>,
    user_id: &str,
    method: &str,
) -> Result<String, ServiceError> {
    let token = random_token();
    sqlx::query(
        "INSERT INTO user_sessions (id_hash, user_id, csrf, acting_for, auth_method, created_at, \
         last_seen) VALUES ($1, $2, $3, NULL, $4, $5, $5)",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(random_token())
    .bind(method)
    .bind(fmt_time(now))
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

/// Signs a citizen in with ID number or phone (`account`) and password. Failures count
/// towards locks of the account and the address; every outcome is audited.
pub async fn sign_in_password(
    p: &Platform,
    account: &str,
    password: &str,
    ip: &str,
) -> Result<(String, UserSession), ServiceError> {
    let wrong =
        || ServiceError::invalid("password", "账号或密码不正确", "wrong account or password");
    let user = match (MobileNumber::parse(account), IdCardNumber::parse(account)) {
        (Some(phone), _) => {
            find_by(
                p,
                "phone_bidx",
                p.keys.pii.blind_indexes("phone", phone.as_str()),
            )
            .await?
        }
        (None, Ok(id)) => find_by_id_number(p, &id).await?,
        (None, Err(_)) => None,
    };
    let hash = match &user {
        Some(u) => sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(&u.id)
            .fetch_one(p.db.pool())
            .await?
            .try_get::<String, _>("password_hash")
            .ok(),
        None => None,
    };
    complete_sign_in(p, user, ip, "password", |_| match &hash {
        Some(h) => passwords::verify(password, h),
        None => {
            passwords::verify_dummy(password);
            false
        }
    })
    .await
    .map_err(|e| match e {
        ServiceError::Invalid(_) => wrong(),
        e => e,
    })
}

/// Sends a sign-in code to a registered, active phone. For an unknown phone nothing is sent,
/// but the answer is the same, so the form does not reveal who has an account.
pub async fn send_sign_in_code(p: &Platform, phone: &str, ip: &str) -> Result<(), ServiceError> {
    let Some(phone) = MobileNumber::parse(phone) else {
        return Err(ServiceError::invalid(
            "phone",
            "请填写 11 位手机号码",
            "enter an 11-digit mobile number",
        ));
    };
    let user = find_by(
        p,
        "phone_bidx",
        p.keys.pii.blind_indexes("phone", phone.as_str()),
    )
    .await?;
    match user {
        Some(u) if u.status == "active" => otp::send(p, Purpose::SignIn, &phone, ip).await,
        _ => Ok(()),
    }
}

/// Signs a citizen in with the code sent to their phone.
pub async fn sign_in_code(
    p: &Platform,
    phone: &str,
    code: &str,
    ip: &str,
) -> Result<(String, UserSession), ServiceError> {
    let phone = MobileNumber::parse(phone).ok_or_else(|| {
        ServiceError::invalid(
            "phone",
            "请填写 11 位手机号码",
            "enter an 11-digit mobile number",
        )
    })?;
    let user = find_by(
        p,
        "phone_bidx",
        p.keys.pii.blind_indexes("phone", phone.as_str()),
    )
    .await?;
    let good = match &user {
        Some(_) => otp::consume(p, Purpose::SignIn, &phone, code).await.is_ok(),
        None => false,
    };
    complete_sign_in(p, user, ip, "otp", |_| good)
        .await
        .map_err(|e| match e {
            ServiceError::Invalid(_) => ServiceError::invalid(
                "code",
                "验证码不正确或已过期，请重新获取",
                "the code is wrong or expired; ask for a new one",
            ),
            e => e,
        })
}

/// The shared end of both sign-in methods: throttling, the check, the session, the audit.
async fn complete_sign_in(
    p: &Platform,
    user: Option<User>,
    ip: &str,
    method: &str,
    check: impl FnOnce(&User) -> bool,
) -> Result<(String, UserSession), ServiceError> {
    let now = p.now();
    let ip_key = format!("ip:{ip}");
    let account_key = user.as_ref().map(|u| format!("user:{}", u.id));
    let mut keys = vec![ip_key.as_str()];
    keys.extend(account_key.as_deref());
    let actor = account_key.clone().unwrap_or_else(|| "anonymous".into());
    if throttle::check(p, &keys).await.is_err() {
        audit::record_event(
            p,
            &Entry {
                actor: &actor,
                action: "user.sign_in",
                target: &actor,
                outcome: Outcome::Locked,
                ip,
                detail: serde_json::json!({ "method": method }),
            },
        )
        .await?;
        return Err(ServiceError::TooManyAttempts);
    }
    let ok =
        user.as_ref().is_some_and(|u| u.status == "active") && user.as_ref().is_some_and(check);
    let mut tx = p.db.begin().await?;
    let (Some(user), Some(account_key), true) = (user, account_key.clone(), ok) else {
        let mut locked = throttle::fail(&mut tx, now, &ip_key, throttle::ADDRESS).await?;
        let mut account_lock = None;
        if let Some(k) = &account_key {
            account_lock = throttle::fail(&mut tx, now, k, throttle::ACCOUNT).await?;
            locked = account_lock.or(locked);
        }
        audit::append(
            &mut tx,
            now,
            &Entry {
                actor: &actor,
                action: "user.sign_in",
                target: &actor,
                outcome: Outcome::Failure,
                ip,
                detail: serde_json::json!({ "method": method, "locked_until": locked.map(fmt_time) }),
            },
        )
        .await?;
        tx.commit().await?;
        // Tell the account's owner that it was locked (someone may be guessing).
        if let (Some(until), Some(id)) = (
            account_lock,
            account_key.as_deref().and_then(|k| k.strip_prefix("user:")),
        ) {
            tell_locked(p, id, until).await;
        }
        return Err(ServiceError::invalid(
            "password",
            "账号或密码不正确",
            "wrong credentials",
        ));
    };
    throttle::succeed(&mut tx, &account_key).await?;
    throttle::succeed(&mut tx, &ip_key).await?;
    let token = new_session(&mut tx, now, &user.id, method).await?;
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &account_key,
            action: "user.sign_in",
            target: &account_key,
            outcome: Outcome::Success,
            ip,
            detail: serde_json::json!({ "method": method }),
        },
    )
    .await?;
    tx.commit().await?;
    let s = user_session(p, &token)
        .await?
        .ok_or(ServiceError::Unauthenticated)?;
    Ok((token, s))
}

/// Sends the `account_locked` SMS; a failure is logged, not passed on (the lock stands).
async fn tell_locked(p: &Platform, user_id: &str, until: DateTime<Utc>) {
    let Ok(phone) = phone_of(p, user_id).await else {
        return;
    };
    let unlock = (until + chrono::Duration::hours(8))
        .format("%m月%d日 %H:%M")
        .to_string();
    let attempts = throttle::ACCOUNT.threshold.to_string();
    if let Err(e) = p
        .outside
        .notifier
        .send(
            yiwang_connectors::Channel::Sms,
            phone.as_str(),
            "account_locked",
            &[
                ("attempts", attempts.as_str()),
                ("unlock_at", unlock.as_str()),
            ],
        )
        .await
    {
        tracing::warn!(error = %e, "could not send the account-locked SMS");
    }
}

/// The live session of a token, or `None` when unknown or expired.
pub async fn user_session(p: &Platform, token: &str) -> Result<Option<UserSession>, ServiceError> {
    let now = p.now();
    let hash = token_hash(token);
    let Some(r) = sqlx::query(
        "SELECT user_id, csrf, created_at, last_seen FROM user_sessions WHERE id_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(p.db.pool())
    .await?
    else {
        return Ok(None);
    };
    let Some(touch) = super::staff::session_age(&r, now)? else {
        sign_out(p, token).await?;
        return Ok(None);
    };
    if touch {
        sqlx::query("UPDATE user_sessions SET last_seen = $1 WHERE id_hash = $2")
            .bind(fmt_time(now))
            .bind(&hash)
            .execute(p.db.writer())
            .await?;
    }
    let user_id: String = r.try_get("user_id")?;
    let csrf: String = r.try_get("csrf")?;
    Ok(load_user(p, &user_id)
        .await?
        .filter(|u| u.status == "active")
        .map(|user| UserSession { user, csrf }))
}

/// Ends a citizen's session.
pub async fn sign_out(p: &Platform, token: &str) -> Result<(), ServiceError> {
    sqlx::query("DELETE FROM user_sessions WHERE id_hash = $1")
        .bind(token_hash(token))
        .execute(p.db.writer())
        .await?;
    Ok(())
}

/// Changes a signed-in citizen's password (the old one must be given); ends their other
/// sessions.
pub async fn change_password(
    p: &Platform,
    token: &str,
    old: &str,
    new: &str,
    ip: &str,
) -> Result<(), ServiceError> {
    let s = user_session(p, token)
        .await?
        .ok_or(ServiceError::Unauthenticated)?;
    let phone = phone_of(p, &s.user.id).await?;
    super::change_own_password(
        p,
        &super::USERS,
        &s.user.id,
        &token_hash(token),
        old,
        new,
        &[phone.as_str()],
        ip,
    )
    .await
}

impl User {
    /// The name masked for display (`王小明` → `王*明`), as headers and staff pages show it.
    pub fn name_masked(&self) -> String {
        yiwang_crypto::mask::mask_name(&self.name)
    }
}
