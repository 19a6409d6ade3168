//! Enterprise accounts (法人用户) and their agents (经办人).
//!
//! An enterprise account is bound to a 统一社会信用代码 by its legal representative: the
//! legal-person library (法人库) must know the code, list the enterprise as 存续, and name the
//! signed-in citizen (by ID number, at real-name level L2 or above) as its legal
//! representative. The representative then authorises agents — other citizens at L2 or above —
//! for a scope of items (基本编码, or every item) until an expiry date, and can revoke them. A
//! session acts for an enterprise only when its user is the representative or holds a live
//! grant, and an agent acts only within the grant's scope ([`may_act_for`]).

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Serialize;
use yiwang_connectors::EnterpriseStatus;
use yiwang_domain::codes::{BasicCode, CreditCode, IdCardNumber};
use yiwang_store::{Row, fmt_time, parse_time};

use super::audit::{self, Entry, Outcome};
use super::users::{self, Level, UserSession};
use crate::{FieldError, Platform, ServiceError};

/// The longest authorisation, in days.
pub const MAX_GRANT_DAYS: i64 = 3 * 366;

/// An enterprise account.
#[derive(Debug, Clone, Serialize)]
pub struct Enterprise {
    /// 统一社会信用代码.
    pub credit_code: String,
    /// Name.
    pub name: String,
    /// Kind (有限责任公司, 个体工商户…).
    pub kind: String,
    /// Region code.
    pub region: String,
    /// The legal representative's account.
    pub legal_rep_user: String,
}

/// Which items a grant covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Scope {
    /// Every item.
    All,
    /// These catalogue entries (基本编码).
    Items(Vec<String>),
}

impl Scope {
    fn to_json(&self) -> Result<String, ServiceError> {
        Ok(match self {
            Scope::All => serde_json::to_string(&["*"])?,
            Scope::Items(v) => serde_json::to_string(v)?,
        })
    }

    fn from_json(s: &str) -> Scope {
        let v: Vec<String> = serde_json::from_str(s).unwrap_or_default();
        if v.iter().any(|x| x == "*") {
            Scope::All
        } else {
            Scope::Items(v)
        }
    }

    /// Whether the scope covers the catalogue entry `basic_code`.
    pub fn covers(&self, basic_code: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Items(v) => v.iter().any(|x| x == basic_code),
        }
    }
}

/// An agent authorisation.
#[derive(Debug, Clone, Serialize)]
pub struct Grant {
    /// Id.
    pub id: String,
    /// The enterprise.
    pub enterprise: String,
    /// The enterprise's name.
    pub enterprise_name: String,
    /// The agent's account.
    pub agent_user: String,
    /// The agent's name (masked).
    pub agent_name_masked: String,
    /// Items covered.
    pub scope: Scope,
    /// Last day (inclusive, UTC end of day stored).
    pub expires_at: String,
    /// Revoked when.
    pub revoked_at: Option<String>,
}

fn parse_credit_code(s: &str) -> Result<CreditCode, ServiceError> {
    CreditCode::parse(s).map_err(|e| {
        ServiceError::Invalid(vec![FieldError::new(
            "credit_code",
            e.message_zh(),
            e.message_en(),
        )])
    })
}

async fn user_id_number(p: &Platform, user_id: &str) -> Result<String, ServiceError> {
    let r = sqlx::query("SELECT id_number_enc FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(p.db.pool())
        .await?;
    p.keys
        .pii
        .decrypt("id_number", &r.try_get::<String, _>("id_number_enc")?)
        .map_err(|e| ServiceError::internal(format!("decrypt id: {e}")))
}

async fn agent_phone(p: &Platform, user_id: &str) -> Result<String, ServiceError> {
    let r = sqlx::query("SELECT phone_enc FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(p.db.pool())
        .await?;
    p.keys
        .pii
        .decrypt("phone", &r.try_get::<String, _>("phone_enc")?)
        .map_err(|e| ServiceError::internal(format!("decrypt phone: {e}")))
}

fn require_l2(s: &UserSession) -> Result<(), ServiceError> {
    if s.user.level < Level::L2 {
        return Err(ServiceError::Forbidden(
            "需要实名等级 L2 或以上：请先在“我的账号”完成人口库核验".into(),
        ));
    }
    Ok(())
}

/// Binds an enterprise to the signed-in citizen, who must be its legal representative
/// according to the legal-person library.
pub async fn bind(
    p: &Platform,
    s: &UserSession,
    credit_code: &str,
    ip: &str,
) -> Result<Enterprise, ServiceError> {
    require_l2(s)?;
    let code = parse_credit_code(credit_code)?;
    let record = p
        .outside
        .legal
        .enterprise(code.as_str())
        .await
        .map_err(|e| ServiceError::Unavailable(format!("法人库暂时无法访问：{e}")))?
        .ok_or_else(|| {
            ServiceError::invalid(
                "credit_code",
                "法人库中没有这个统一社会信用代码",
                "the legal-person library does not know this credit code",
            )
        })?;
    if record.status != EnterpriseStatus::Active {
        return Err(ServiceError::invalid(
            "credit_code",
            &format!("该主体状态为“{}”，不能绑定", record.status.label_zh()),
            "the enterprise is not active",
        ));
    }
    let mine = user_id_number(p, &s.user.id).await?;
    if record.legal_rep_id_number != mine {
        return Err(ServiceError::Forbidden(
            "法人库登记的法定代表人不是您，不能绑定该企业".into(),
        ));
    }
    let now = p.now();
    let mut tx = p.db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO enterprises (credit_code, name, kind, region, legal_rep_user, verified_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (credit_code) DO NOTHING",
    )
    .bind(code.as_str())
    .bind(&record.name)
    .bind(&record.kind)
    .bind(&record.region)
    .bind(&s.user.id)
    .bind(fmt_time(now))
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(ServiceError::Conflict("该企业已绑定法人账号".into()));
    }
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &format!("user:{}", s.user.id),
            action: "enterprise.bind",
            target: code.as_str(),
            outcome: Outcome::Success,
            ip,
            detail: serde_json::json!({ "name": record.name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Enterprise {
        credit_code: code.as_str().to_owned(),
        name: record.name,
        kind: record.kind,
        region: record.region,
        legal_rep_user: s.user.id.clone(),
    })
}

/// An enterprise by credit code.
pub async fn enterprise(
    p: &Platform,
    credit_code: &str,
) -> Result<Option<Enterprise>, ServiceError> {
    let r = sqlx::query(
        "SELECT credit_code, name, kind, region, legal_rep_user FROM enterprises \
         WHERE credit_code = $1",
    )
    .bind(credit_code)
    .fetch_optional(p.db.pool())
    .await?;
    r.map(|r| {
        Ok(Enterprise {
            credit_code: r.try_get("credit_code")?,
            name: r.try_get("name")?,
            kind: r.try_get("kind")?,
            region: r.try_get("region")?,
            legal_rep_user: r.try_get("legal_rep_user")?,
        })
    })
    .transpose()
}

/// The enterprise of which the session's user is the legal representative, or Forbidden.
async fn own_enterprise(
    p: &Platform,
    s: &UserSession,
    credit_code: &str,
) -> Result<Enterprise, ServiceError> {
    match enterprise(p, credit_code).await? {
        Some(e) if e.legal_rep_user == s.user.id => Ok(e),
        // Whether someone else's enterprise exists is not the caller's business.
        _ => Err(ServiceError::NotFound {
            what: "企业",
            key: credit_code.into(),
        }),
    }
}

/// The legal representative authorises an agent (by ID number and name, checked against the
/// registered account) for `scope` until the end of `until` (Beijing date).
#[allow(clippy::too_many_arguments)]
pub async fn grant(
    p: &Platform,
    rep: &UserSession,
    credit_code: &str,
    agent_id_number: &str,
    agent_name: &str,
    scope: Scope,
    until: NaiveDate,
    ip: &str,
) -> Result<Grant, ServiceError> {
    let e = own_enterprise(p, rep, credit_code).await?;
    let now = p.now();
    let mut errors = Vec::new();
    let id = IdCardNumber::parse(agent_id_number);
    if let Err(err) = &id {
        errors.push(FieldError::new(
            "agent_id_number",
            err.message_zh(),
            err.message_en(),
        ));
    }
    if let Scope::Items(v) = &scope {
        if v.is_empty() {
            errors.push(FieldError::new(
                "scope",
                "请至少选择一个事项，或选择“全部事项”",
                "choose at least one item, or all items",
            ));
        }
        for code in v {
            if BasicCode::parse(code).is_err() {
                errors.push(FieldError::new(
                    "scope",
                    format!("“{code}”不是有效的事项基本编码"),
                    format!("{code} is not a valid basic item code"),
                ));
            }
        }
    }
    // The grant ends at the end of the chosen Beijing day.
    let end = until.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default())
        - chrono::Duration::hours(8);
    let end = Utc.from_utc_datetime(&end);
    if end <= now || end > now + chrono::Duration::days(MAX_GRANT_DAYS) {
        errors.push(FieldError::new(
            "until",
            "授权截止日期须在今天之后、三年以内",
            "the expiry must be after today and within three years",
        ));
    }
    let Ok(id) = id else {
        return Err(ServiceError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let agent = users::find_by_id_number(p, &id)
        .await?
        .filter(|u| u.name == agent_name.trim() && u.status == "active")
        .ok_or_else(|| {
            ServiceError::invalid(
                "agent_id_number",
                "没有姓名与身份证号码都一致的已注册用户：请经办人先注册",
                "no registered user has this name and ID number",
            )
        })?;
    if agent.level < Level::L2 {
        return Err(ServiceError::invalid(
            "agent_id_number",
            "经办人的实名等级须为 L2 或以上",
            "the agent must be verified at level L2 or above",
        ));
    }
    if agent.id == rep.user.id {
        return Err(ServiceError::invalid(
            "agent_id_number",
            "法定代表人无需授权自己",
            "the legal representative needs no grant",
        ));
    }
    let gid = uuid::Uuid::now_v7().to_string();
    let mut tx = p.db.begin().await?;
    sqlx::query(
        "INSERT INTO agent_grants (id, enterprise, agent_user, scope, expires_at, granted_by, \
         granted_at, revoked_at, revoked_by) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)",
    )
    .bind(&gid)
    .bind(&e.credit_code)
    .bind(&agent.id)
    .bind(scope.to_json()?)
    .bind(fmt_time(end))
    .bind(&rep.user.id)
    .bind(fmt_time(now))
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &format!("user:{}", rep.user.id),
            action: "enterprise.grant",
            target: &format!("user:{}", agent.id),
            outcome: Outcome::Success,
            ip,
            detail: serde_json::json!({ "enterprise": e.credit_code, "until": until.to_string() }),
        },
    )
    .await?;
    tx.commit().await?;
    // Tell the agent; a failed message does not undo the grant.
    if let Ok(phone) = agent_phone(p, &agent.id).await {
        let until_text = until.format("%Y年%m月%d日").to_string();
        if let Err(err) = p
            .outside
            .notifier
            .send(
                yiwang_connectors::Channel::Sms,
                &phone,
                "agent_authorised",
                &[
                    ("agent_name", agent.name.as_str()),
                    ("enterprise_name", e.name.as_str()),
                    ("valid_until", until_text.as_str()),
                ],
            )
            .await
        {
            tracing::warn!(error = %err, "agent notification failed");
        }
    }
    Ok(Grant {
        id: gid,
        enterprise: e.credit_code,
        enterprise_name: e.name,
        agent_user: agent.id,
        agent_name_masked: yiwang_crypto::mask::mask_name(&agent.name),
        scope,
        expires_at: fmt_time(end),
        revoked_at: None,
    })
}

/// The legal representative revokes a grant of their enterprise.
pub async fn revoke(
    p: &Platform,
    rep: &UserSession,
    grant_id: &str,
    ip: &str,
) -> Result<(), ServiceError> {
    let r = sqlx::query("SELECT enterprise FROM agent_grants WHERE id = $1")
        .bind(grant_id)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or(ServiceError::NotFound {
            what: "授权",
            key: grant_id.into(),
        })?;
    let e = own_enterprise(p, rep, &r.try_get::<String, _>("enterprise")?).await?;
    let now = p.now();
    let mut tx = p.db.begin().await?;
    let done = sqlx::query(
        "UPDATE agent_grants SET revoked_at = $1, revoked_by = $2 WHERE id = $3 \
         AND revoked_at IS NULL",
    )
    .bind(fmt_time(now))
    .bind(&rep.user.id)
    .bind(grant_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ServiceError::Conflict("该授权已撤销".into()));
    }
    // Sessions acting for the enterprise through this grant stop acting for it.
    sqlx::query(
        "UPDATE user_sessions SET acting_for = NULL WHERE acting_for = $1 AND user_id = \
         (SELECT agent_user FROM agent_grants WHERE id = $2)",
    )
    .bind(&e.credit_code)
    .bind(grant_id)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        now,
        &Entry {
            actor: &format!("user:{}", rep.user.id),
            action: "enterprise.revoke",
            target: grant_id,
            outcome: Outcome::Success,
            ip,
            detail: serde_json::json!({ "enterprise": e.credit_code }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn grant_from_row(r: &yiwang_store::AnyRow) -> Result<Grant, ServiceError> {
    Ok(Grant {
        id: r.try_get("id")?,
        enterprise: r.try_get("enterprise")?,
        enterprise_name: r.try_get("enterprise_name")?,
        agent_user: r.try_get("agent_user")?,
        agent_name_masked: yiwang_crypto::mask::mask_name(&r.try_get::<String, _>("agent_name")?),
        scope: Scope::from_json(&r.try_get::<String, _>("scope")?),
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

const GRANT_SELECT: &str = "SELECT g.id, g.enterprise, e.name AS enterprise_name, g.agent_user, \
     u.name AS agent_name, g.scope, g.expires_at, g.revoked_at FROM agent_grants g \
     JOIN enterprises e ON e.credit_code = g.enterprise JOIN users u ON u.id = g.agent_user";

/// Every grant of an enterprise (for its legal representative), newest first.
pub async fn grants_of(
    p: &Platform,
    rep: &UserSession,
    credit_code: &str,
) -> Result<Vec<Grant>, ServiceError> {
    let e = own_enterprise(p, rep, credit_code).await?;
    let q = format!("{GRANT_SELECT} WHERE g.enterprise = $1 ORDER BY g.granted_at DESC");
    sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(&e.credit_code)
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(grant_from_row)
        .collect()
}

/// The live grants a citizen holds as an agent.
pub async fn my_grants(p: &Platform, s: &UserSession) -> Result<Vec<Grant>, ServiceError> {
    let q = format!(
        "{GRANT_SELECT} WHERE g.agent_user = $1 AND g.revoked_at IS NULL AND g.expires_at > $2 \
         ORDER BY g.granted_at DESC"
    );
    sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(&s.user.id)
        .bind(fmt_time(p.now()))
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(grant_from_row)
        .collect()
}

/// Whether the citizen may act for the enterprise on the catalogue entry `basic_code` (any
/// item when `None`): as its legal representative, or within a live grant's scope.
pub async fn may_act_for(
    p: &Platform,
    user_id: &str,
    credit_code: &str,
    basic_code: Option<&str>,
) -> Result<bool, ServiceError> {
    if enterprise(p, credit_code)
        .await?
        .is_some_and(|e| e.legal_rep_user == user_id)
    {
        return Ok(true);
    }
    let rows = sqlx::query(
        "SELECT scope, expires_at FROM agent_grants WHERE enterprise = $1 AND agent_user = $2 \
         AND revoked_at IS NULL",
    )
    .bind(credit_code)
    .bind(user_id)
    .fetch_all(p.db.pool())
    .await?;
    let now = p.now();
    for r in rows {
        let live = parse_time(&r.try_get::<String, _>("expires_at")?).is_some_and(|t| t > now);
        let scope = Scope::from_json(&r.try_get::<String, _>("scope")?);
        if live && basic_code.is_none_or(|c| scope.covers(c)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The enterprises whose legal representative the citizen is.
pub async fn represented(p: &Platform, s: &UserSession) -> Result<Vec<Enterprise>, ServiceError> {
    sqlx::query(
        "SELECT credit_code, name, kind, region, legal_rep_user FROM enterprises \
         WHERE legal_rep_user = $1 ORDER BY name",
    )
    .bind(&s.user.id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(enterprise_row)
    .collect()
}

/// The enterprises the citizen may act for on some item: as legal representative, or under a
/// live grant (whose scope [`may_act_for`] checks item by item). By name.
pub async fn acting_for(p: &Platform, user_id: &str) -> Result<Vec<Enterprise>, ServiceError> {
    sqlx::query(
        "SELECT e.credit_code, e.name, e.kind, e.region, e.legal_rep_user FROM enterprises e \
         WHERE e.legal_rep_user = $1 OR EXISTS (SELECT 1 FROM agent_grants g \
         WHERE g.enterprise = e.credit_code AND g.agent_user = $1 AND g.revoked_at IS NULL \
         AND g.expires_at > $2) ORDER BY e.name",
    )
    .bind(user_id)
    .bind(fmt_time(p.now()))
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(enterprise_row)
    .collect()
}

fn enterprise_row(r: &yiwang_store::AnyRow) -> Result<Enterprise, ServiceError> {
    Ok(Enterprise {
        credit_code: r.try_get("credit_code")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        region: r.try_get("region")?,
        legal_rep_user: r.try_get("legal_rep_user")?,
    })
}
