//! 电子印章: each organisation's seals with their SM2 keys. The private key is sealed under the
//! seal key ring (SM4-GCM, field `seal.secret`); the public key is published (hex and PEM).
//! Rotating a seal retires it (it still verifies what it signed) and makes a new one; revoking
//! it makes every signature it gave after the revocation fail. Every use is logged
//! (`seal_uses`, written in the same batch as what the seal signed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use yiwang_crypto::seal::{DEFAULT_DISTID, FastVerifier, SealKey, SealPublicKey};
use yiwang_store::{Batch, Row, fmt_time};

use crate::identity::staff::Staff;
use crate::{Platform, ServiceError};

/// The field label the seal ring binds sealed secrets to.
const SECRET_FIELD: &str = "seal.secret";

/// Seal types of GB/T 38540 (印章类型).
pub const SEAL_TYPES: [(&str, &str); 6] = [
    ("01", "法定名称章"),
    ("02", "财务专用章"),
    ("03", "发票专用章"),
    ("04", "合同专用章"),
    ("05", "名称章"),
    ("99", "其他类型印章"),
];

/// A seal as listed and published (never its private key).
#[derive(Debug, Clone, Serialize)]
pub struct Seal {
    /// Identifier.
    pub id: String,
    /// The owning organisation's credit code.
    pub org_code: String,
    /// 印章名称, e.g. `长沙市市场监督管理局电子证照专用章`.
    pub name: String,
    /// 印章类型 code ([`SEAL_TYPES`]).
    pub seal_type: String,
    /// The SM2 distinguishing ID its signatures bind.
    pub distid: String,
    /// The public key, uncompressed SEC1 in hexadecimal.
    pub public_key: String,
    /// Valid from (RFC 3339).
    pub valid_from: String,
    /// Valid until (RFC 3339).
    pub valid_to: String,
    /// `active`, `retired` or `revoked`.
    pub status: String,
    /// When it was made.
    pub created_at: String,
    /// When it was retired by a rotation.
    pub retired_at: Option<String>,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// Why.
    pub revoked_reason: Option<String>,
}

/// What makes a new seal.
#[derive(Debug, Clone, Deserialize)]
pub struct NewSeal {
    /// The owning organisation's credit code.
    pub org_code: String,
    /// 印章名称.
    pub name: String,
    /// 印章类型 code.
    pub seal_type: String,
    /// Years of validity from now (1 to 10).
    pub valid_years: u32,
    /// The SM2 distinguishing ID; `1234567812345678` when absent.
    #[serde(default)]
    pub distid: Option<String>,
}

/// Verifiers with their tables, one per seal, built on first use.
#[derive(Default)]
pub struct VerifierCache(Mutex<HashMap<String, Arc<FastVerifier>>>);

impl std::fmt::Debug for VerifierCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifierCache")
    }
}

const COLUMNS: &str = "id, org_code, name, seal_type, distid, public_key, valid_from, valid_to, \
     status, created_at, retired_at, revoked_at, revoked_reason";

fn seal_row(r: &yiwang_store::AnyRow) -> Result<Seal, ServiceError> {
    Ok(Seal {
        id: r.try_get("id")?,
        org_code: r.try_get("org_code")?,
        name: r.try_get("name")?,
        seal_type: r.try_get("seal_type")?,
        distid: r.try_get("distid")?,
        public_key: r.try_get("public_key")?,
        valid_from: r.try_get("valid_from")?,
        valid_to: r.try_get("valid_to")?,
        status: r.try_get("status")?,
        created_at: r.try_get("created_at")?,
        retired_at: r.try_get("retired_at")?,
        revoked_at: r.try_get("revoked_at")?,
        revoked_reason: r.try_get("revoked_reason")?,
    })
}

/// A system administrator manages every seal; a department administrator their organisation's.
fn may_manage(actor: &Staff, org: &str) -> Result<(), ServiceError> {
    if crate::identity::authz::may_administer_org(actor, org) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "只有系统管理员或本单位部门管理员可以管理印章 / only a system administrator or the \
             organisation's department administrator manages its seals"
                .into(),
        ))
    }
}

/// Makes a seal for an organisation, checked for the actor's authority.
pub async fn create(p: &Platform, actor: &Staff, new: NewSeal) -> Result<Seal, ServiceError> {
    may_manage(actor, new.org_code.trim())?;
    create_as(p, &actor.username, new).await
}

/// Makes a seal (for the demo loader and tools; [`create`] checks authority first).
pub async fn create_as(p: &Platform, by: &str, new: NewSeal) -> Result<Seal, ServiceError> {
    let org = new.org_code.trim();
    if p.master.get().organisation(org).is_none() {
        return Err(ServiceError::invalid(
            "org_code",
            "没有这个单位",
            "no such organisation",
        ));
    }
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ServiceError::invalid(
            "name",
            "印章名称须为1至60个字",
            "the seal's name must have 1 to 60 characters",
        ));
    }
    if !SEAL_TYPES.iter().any(|(c, _)| *c == new.seal_type) {
        return Err(ServiceError::invalid(
            "seal_type",
            "印章类型不在 GB/T 38540 的代码表中",
            "not a seal type code of GB/T 38540",
        ));
    }
    if !(1..=10).contains(&new.valid_years) {
        return Err(ServiceError::invalid(
            "valid_years",
            "有效期为1至10年",
            "validity must be 1 to 10 years",
        ));
    }
    let distid = new
        .distid
        .as_deref()
        .map(str::trim)
        .unwrap_or(DEFAULT_DISTID);
    let key = SealKey::generate(distid)
        .map_err(|e| ServiceError::invalid("distid", &e.to_string(), &e.to_string()))?;
    let now = p.now();
    let until = now + chrono::Duration::days(365 * i64::from(new.valid_years));
    let id = uuid::Uuid::now_v7().to_string();
    let sealed = p
        .keys
        .seal
        .encrypt(SECRET_FIELD, &key.secret_hex())
        .map_err(|e| ServiceError::internal(format!("sealing a seal key: {e}")))?;
    let mut b = Batch::default();
    b.push(
        "INSERT INTO seals (id, org_code, name, seal_type, distid, public_key, secret_sealed, \
         valid_from, valid_to, status, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $8, $10)",
        vec![
            id.as_str().into(),
            org.into(),
            name.into(),
            new.seal_type.as_str().into(),
            distid.into(),
            key.public_key().to_hex().into(),
            sealed.into(),
            fmt_time(now).into(),
            fmt_time(until).into(),
            by.into(),
        ],
    );
    b.commit_alone(&p.db).await.map_err(super::batch_error)?;
    get(p, &id).await
}

/// One seal.
pub async fn get(p: &Platform, id: &str) -> Result<Seal, ServiceError> {
    let sql = format!("SELECT {COLUMNS} FROM seals WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or_else(|| ServiceError::NotFound {
            what: "印章",
            key: id.to_owned(),
        })?;
    seal_row(&row)
}

/// Every seal of an organisation (all organisations when `None`), newest first.
pub async fn list(p: &Platform, org: Option<&str>) -> Result<Vec<Seal>, ServiceError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM seals WHERE ($1 IS NULL OR org_code = $1) \
         ORDER BY created_at DESC, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .fetch_all(p.db.pool())
        .await?;
    rows.iter().map(seal_row).collect()
}

/// The seals a staff member administers, newest first: a system administrator's every seal
/// (or one organisation's, `org`), a department administrator's those of the organisation the
/// session acts in (`org` naming another is refused); others are refused.
pub async fn list_for(
    p: &Platform,
    actor: &Staff,
    org: Option<&str>,
) -> Result<Vec<Seal>, ServiceError> {
    match crate::identity::authz::StaffScope::of(actor)? {
        crate::identity::authz::StaffScope::All => list(p, org).await,
        crate::identity::authz::StaffScope::Org(own) => {
            if org.is_some_and(|o| o != own) {
                return Err(ServiceError::Forbidden(
                    "只能查看本机构的电子印章 / only your organisation's seals".into(),
                ));
            }
            list(p, Some(&own)).await
        }
    }
}

/// Retires a seal and makes its successor with a new key (same organisation, name and type).
pub async fn rotate(p: &Platform, actor: &Staff, id: &str) -> Result<Seal, ServiceError> {
    let old = get(p, id).await?;
    may_manage(actor, &old.org_code)?;
    if old.status != "active" {
        return Err(ServiceError::Conflict(
            "只有在用的印章可以更换密钥 / only an active seal can be rotated".into(),
        ));
    }
    let years = years_between(&old.valid_from, &old.valid_to);
    let new = create_as(
        p,
        &actor.username,
        NewSeal {
            org_code: old.org_code.clone(),
            name: old.name.clone(),
            seal_type: old.seal_type.clone(),
            valid_years: years,
            distid: Some(old.distid.clone()),
        },
    )
    .await?;
    let done = sqlx::query(
        "UPDATE seals SET status = 'retired', retired_at = $1 WHERE id = $2 AND status = 'active'",
    )
    .bind(fmt_time(p.now()))
    .bind(id)
    .execute(p.db.writer())
    .await?;
    if done.rows_affected() != 1 {
        return Err(super::changed());
    }
    Ok(new)
}

fn years_between(from: &str, to: &str) -> u32 {
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match (parse(from), parse(to)) {
        (Some(a), Some(b)) => u32::try_from((b - a).num_days() / 365)
            .unwrap_or(1)
            .clamp(1, 10),
        _ => 1,
    }
}

/// Revokes a seal, with the reason (required).
pub async fn revoke(
    p: &Platform,
    actor: &Staff,
    id: &str,
    reason: &str,
) -> Result<Seal, ServiceError> {
    let old = get(p, id).await?;
    may_manage(actor, &old.org_code)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::invalid(
            "reason",
            "请填写吊销印章的原因",
            "give the reason for revoking the seal",
        ));
    }
    let done = sqlx::query(
        "UPDATE seals SET status = 'revoked', revoked_at = $1, revoked_reason = $2 \
         WHERE id = $3 AND status <> 'revoked'",
    )
    .bind(fmt_time(p.now()))
    .bind(reason)
    .bind(id)
    .execute(p.db.writer())
    .await?;
    if done.rows_affected() != 1 {
        return Err(ServiceError::Conflict(
            "印章已被吊销 / the seal is already revoked".into(),
        ));
    }
    get(p, id).await
}

/// The organisation's active seal valid now, with its signing key.
pub(crate) async fn signing_for(
    p: &Platform,
    org: &str,
) -> Result<Option<(Seal, SealKey)>, ServiceError> {
    let now = fmt_time(p.now());
    let sql = format!(
        "SELECT {COLUMNS}, secret_sealed FROM seals WHERE org_code = $1 AND status = 'active' \
         AND valid_from <= $2 AND valid_to > $2 ORDER BY created_at DESC LIMIT 1"
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(&now)
        .fetch_optional(p.db.pool())
        .await?
    else {
        return Ok(None);
    };
    let seal = seal_row(&row)?;
    let sealed: String = row.try_get("secret_sealed")?;
    let secret = p
        .keys
        .seal
        .decrypt(SECRET_FIELD, &sealed)
        .map_err(|e| ServiceError::internal(format!("opening seal {}: {e}", seal.id)))?;
    let key = SealKey::from_secret_hex(&seal.distid, &secret)
        .map_err(|e| ServiceError::internal(format!("seal {}: {e}", seal.id)))?;
    Ok(Some((seal, key)))
}

/// Logs one use of a seal in the batch that records what it signed.
pub(crate) fn log_use(
    b: &mut Batch,
    seal: &Seal,
    purpose: &str,
    subject: &str,
    actor: &str,
    at: &str,
) {
    b.push(
        "INSERT INTO seal_uses (id, seal_id, used_at, purpose, subject, actor) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            uuid::Uuid::now_v7().to_string().into(),
            seal.id.as_str().into(),
            at.into(),
            purpose.into(),
            subject.into(),
            actor.into(),
        ],
    );
}

/// The uses of a seal, newest first (at most 500).
pub async fn uses(p: &Platform, actor: &Staff, id: &str) -> Result<Vec<SealUse>, ServiceError> {
    let seal = get(p, id).await?;
    may_manage(actor, &seal.org_code)?;
    let rows = sqlx::query(
        "SELECT used_at, purpose, subject, actor FROM seal_uses WHERE seal_id = $1 \
         ORDER BY used_at DESC LIMIT 500",
    )
    .bind(id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SealUse {
                used_at: r.try_get("used_at")?,
                purpose: r.try_get("purpose")?,
                subject: r.try_get("subject")?,
                actor: r.try_get("actor")?,
            })
        })
        .collect()
}

/// One use of a seal.
#[derive(Debug, Clone, Serialize)]
pub struct SealUse {
    /// When.
    pub used_at: String,
    /// What for (`licence.issue`…).
    pub purpose: String,
    /// What was signed (a licence identifier…).
    pub subject: String,
    /// Who or what caused it.
    pub actor: String,
}

/// The published key of a seal.
pub fn public_key(seal: &Seal) -> Result<SealPublicKey, ServiceError> {
    SealPublicKey::from_hex(&seal.distid, &seal.public_key)
        .map_err(|e| ServiceError::internal(format!("seal {}: {e}", seal.id)))
}

/// The seal's verifier, its tables built once per process.
pub(crate) fn verifier(
    p: &Platform,
    seal_id: &str,
    distid: &str,
    public_hex: &str,
) -> Result<Arc<FastVerifier>, ServiceError> {
    let mut cache = p
        .licences
        .verifiers
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(v) = cache.get(seal_id) {
        return Ok(v.clone());
    }
    let key = SealPublicKey::from_hex(distid, public_hex)
        .map_err(|e| ServiceError::internal(format!("seal {seal_id}: {e}")))?;
    let v = Arc::new(FastVerifier::new(key));
    cache.insert(seal_id.to_owned(), v.clone());
    Ok(v)
}
