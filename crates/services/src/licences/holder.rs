//! The holder's licences (我的证照: list, signed document, PDF, uses), 免证办 (materials of a
//! new draft filled from the library) and departments' fetches of a licence, every use logged.

use serde::Serialize;
use serde_json::Value;
use yiwang_store::{Batch, BatchError, Row, fmt_time};

use super::issue::applicant_code;
use super::{DOCUMENT_FORMAT, LicenceDocument, batch_error, local_today};
use crate::identity::authz::LibraryScope;
use crate::identity::staff::Staff;
use crate::{Platform, ServiceError};

/// The PDF of a licence, for its holder: the file stored when it was issued (SM3 checked).
pub async fn pdf_for_holder(
    p: &Platform,
    user_id: &str,
    id: &str,
) -> Result<(String, Vec<u8>), ServiceError> {
    let row = sqlx::query(
        "SELECT l.holder_user, f.id AS file_id, f.name, f.sm3 FROM licences l \
         JOIN files f ON f.id = l.file_id WHERE l.id = $1",
    )
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?;
    let not_found = || ServiceError::NotFound {
        what: "证照",
        key: id.to_owned(),
    };
    let row = row.ok_or_else(not_found)?;
    let holder: Option<String> = row.try_get("holder_user")?;
    if holder.as_deref() != Some(user_id) {
        return Err(not_found());
    }
    let file_id: String = row.try_get("file_id")?;
    let sm3: String = row.try_get("sm3")?;
    let bytes = p
        .outside
        .files
        .get(&file_id, &sm3)
        .await
        .map_err(|e| ServiceError::Unavailable(format!("证照文件暂时无法读取：{e}")))?;
    Ok((row.try_get("name")?, bytes))
}

/// A summary of one of the holder's licences.
#[derive(Debug, Clone, Serialize)]
pub struct HeldLicence {
    /// 电子证照标识.
    pub id: String,
    /// 证照名称.
    pub name: String,
    /// 证照编号.
    pub number: String,
    /// 颁证单位.
    pub issuer_name: String,
    /// 颁证日期.
    pub issued_on: String,
    /// 有效期止.
    pub valid_to: Option<String>,
    /// `valid`, `suspended`, `revoked`, `superseded`.
    pub status: String,
}

/// The licences held by a signed-in applicant (我的证照), newest first.
pub async fn held_by(p: &Platform, user_id: &str) -> Result<Vec<HeldLicence>, ServiceError> {
    let rows = sqlx::query(
        "SELECT id, name, number, issuer_name, issued_on, valid_to, status FROM licences \
         WHERE holder_user = $1 ORDER BY issued_on DESC, id",
    )
    .bind(user_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HeldLicence {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                number: r.try_get("number")?,
                issuer_name: r.try_get("issuer_name")?,
                issued_on: r.try_get("issued_on")?,
                valid_to: r.try_get("valid_to")?,
                status: r.try_get("status")?,
            })
        })
        .collect()
}

/// The signed document of a licence, for its holder.
pub async fn document_for_holder(
    p: &Platform,
    user_id: &str,
    id: &str,
) -> Result<LicenceDocument, ServiceError> {
    let row = sqlx::query(
        "SELECT l.data_sealed, l.signature, l.holder_user, s.id AS seal_id, s.name, s.distid, \
         s.public_key FROM licences l JOIN seals s ON s.id = l.seal_id WHERE l.id = $1",
    )
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?;
    let not_found = || ServiceError::NotFound {
        what: "证照",
        key: id.to_owned(),
    };
    let row = row.ok_or_else(not_found)?;
    let holder: Option<String> = row.try_get("holder_user")?;
    if holder.as_deref() != Some(user_id) {
        // Not the holder's: as if it did not exist (no probing of identifiers).
        return Err(not_found());
    }
    let sealed: String = row.try_get("data_sealed")?;
    let data = super::open_data(p, &sealed)?;
    let distid: String = row.try_get("distid")?;
    let public: String = row.try_get("public_key")?;
    let pem = yiwang_crypto::seal::SealPublicKey::from_hex(&distid, &public)
        .and_then(|k| k.to_pem())
        .map_err(|e| ServiceError::internal(format!("seal key: {e}")))?;
    Ok(LicenceDocument {
        format: DOCUMENT_FORMAT.into(),
        data,
        signature: row.try_get("signature")?,
        seal_id: row.try_get("seal_id")?,
        seal_name: row.try_get("name")?,
        distid,
        public_key_pem: pem,
    })
}

/// A material of a guide the applicant holds as a licence (免证办).
#[derive(Debug, Clone)]
pub(crate) struct FromLibrary {
    /// The material's position in the guide.
    pub(crate) slot: usize,
    /// The material's name.
    pub(crate) material: String,
    /// The licence.
    pub(crate) licence: String,
    /// Its PDF.
    pub(crate) file: String,
}

/// 免证办: the materials of `item` that are licences `holder_code` holds in the library (valid,
/// not expired, with a document; the material's name and the licence's name match), newest
/// licence first.
pub(crate) async fn from_library(
    p: &Platform,
    item: &crate::catalogue::PublishedItem,
    holder_code: &str,
) -> Result<Vec<FromLibrary>, ServiceError> {
    let today = local_today(p).to_string();
    let rows = sqlx::query(
        "SELECT id, name, file_id FROM licences WHERE holder_code_index = $1 AND status = 'valid' \
         AND (valid_to IS NULL OR valid_to >= $2) AND file_id IS NOT NULL \
         ORDER BY issued_on DESC, id",
    )
    .bind(p.keys.pii.blind_index("licence.holder", holder_code))
    .bind(&today)
    .fetch_all(p.db.pool())
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut held = Vec::with_capacity(rows.len());
    for r in &rows {
        held.push((
            r.try_get::<String, _>("id")?,
            r.try_get::<String, _>("name")?,
            r.try_get::<String, _>("file_id")?,
        ));
    }
    Ok(item
        .guide
        .materials
        .iter()
        .enumerate()
        .filter_map(|(slot, m)| {
            let (lid, _, file) = held
                .iter()
                .find(|(_, name, _)| names_match(&m.name, name))?;
            Some(FromLibrary {
                slot,
                material: m.name.clone(),
                licence: lid.clone(),
                file: file.clone(),
            })
        })
        .collect())
}

/// Adds the library's licences to a case's materials at trust level A, each with its use
/// logged (the holder's consent: their own application).
pub(crate) fn push_from_library(
    b: &mut Batch,
    case_id: &str,
    found: &[FromLibrary],
    (user_id, user_name): (&str, &str),
    at: &str,
) {
    for f in found {
        b.push(
            "INSERT INTO case_materials (case_id, slot, file_id, material, added_at, added_by, \
             trust) VALUES ($1, $2, $3, $4, $5, $6, 'A')",
            vec![
                case_id.into(),
                i64::try_from(f.slot).unwrap_or(0).into(),
                f.file.as_str().into(),
                f.material.as_str().into(),
                at.into(),
                format!("licence:{}", f.licence).into(),
            ],
        );
        push_use(
            b,
            &f.licence,
            at,
            (user_id, user_name, None),
            Some(case_id),
            "holder",
            "持证人申请办事时使用（免证办）",
        );
    }
}

/// 免证办 for a new draft: fills its materials that are licences the applicant holds, in one
/// batch. Returns the slots filled.
pub(crate) async fn fill_from_library(
    p: &Platform,
    case_id: &str,
    item: &crate::catalogue::PublishedItem,
    holder_code: &str,
    user: (&str, &str),
) -> Result<Vec<usize>, ServiceError> {
    let found = from_library(p, item, holder_code).await?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let mut b = Batch::default();
    push_from_library(&mut b, case_id, &found, user, &fmt_time(p.now()));
    b.commit_alone(&p.db).await.map_err(batch_error)?;
    Ok(found.iter().map(|f| f.slot).collect())
}

/// Whether a material of a guide is the licence (`营业执照（副本）` and `营业执照`, not `执照`
/// and `营业执照`): one name holds the other, which has at least 4 characters.
fn names_match(material: &str, licence: &str) -> bool {
    let strip = |s: &str| -> String {
        s.chars()
            .take_while(|c| !matches!(c, '（' | '('))
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    let (m, l) = (strip(material), strip(licence));
    let shorter = m.chars().count().min(l.chars().count());
    shorter >= 4 && (m.contains(&l) || l.contains(&m))
}

fn push_use(
    b: &mut Batch,
    licence: &str,
    at: &str,
    (actor, actor_name, org): (&str, &str, Option<&str>),
    case_id: Option<&str>,
    basis: &str,
    reason: &str,
) {
    b.push(
        "INSERT INTO licence_uses (id, licence_id, used_at, actor, actor_name, org, case_id, \
         basis, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![
            uuid::Uuid::now_v7().to_string().into(),
            licence.into(),
            at.into(),
            actor.into(),
            actor_name.into(),
            org.map(str::to_owned).into(),
            case_id.map(str::to_owned).into(),
            basis.into(),
            reason.into(),
        ],
    );
}

/// One use of a licence, as its holder sees it.
#[derive(Debug, Clone, Serialize)]
pub struct LicenceUse {
    /// When.
    pub used_at: String,
    /// Who (name), and their organisation when staff.
    pub actor_name: String,
    /// Their organisation's credit code.
    pub org: Option<String>,
    /// The case it was used for.
    pub case_id: Option<String>,
    /// `holder` (the holder's own application), `case` (a department, for the holder's case),
    /// `legal` (a department on a legal basis).
    pub basis: String,
    /// Why, in words.
    pub reason: String,
}

/// Every use of a licence, newest first: for its holder only.
pub async fn uses_for_holder(
    p: &Platform,
    user_id: &str,
    id: &str,
) -> Result<Vec<LicenceUse>, ServiceError> {
    own(p, user_id, id).await?;
    let rows = sqlx::query(
        "SELECT used_at, actor_name, org, case_id, basis, reason FROM licence_uses \
         WHERE licence_id = $1 ORDER BY used_at DESC LIMIT 500",
    )
    .bind(id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LicenceUse {
                used_at: r.try_get("used_at")?,
                actor_name: r.try_get("actor_name")?,
                org: r.try_get("org")?,
                case_id: r.try_get("case_id")?,
                basis: r.try_get("basis")?,
                reason: r.try_get("reason")?,
            })
        })
        .collect()
}

/// A case a licence is shared with (授权用证), as its holder sees it.
#[derive(Debug, Clone, Serialize)]
pub struct LicenceShare {
    /// The case.
    pub case_id: String,
    /// Its case number.
    pub case_no: Option<String>,
    /// Its item.
    pub item_name: String,
    /// When it was shared.
    pub granted_at: String,
    /// When the holder withdrew it; `None` while in force.
    pub withdrawn_at: Option<String>,
}

/// The licence's holder (its `holder_user`), or `NotFound` for anybody else.
async fn own(p: &Platform, user_id: &str, id: &str) -> Result<(), ServiceError> {
    let holder: Option<Option<String>> =
        sqlx::query_scalar("SELECT holder_user FROM licences WHERE id = $1")
            .bind(id)
            .fetch_optional(p.db.pool())
            .await?;
    if holder.flatten().as_deref() == Some(user_id) {
        Ok(())
    } else {
        Err(ServiceError::NotFound {
            what: "证照",
            key: id.to_owned(),
        })
    }
}

/// 授权用证: the holder shares a licence with one case, named by its case number (another
/// person's application, say), so that the department handling it may fetch the licence for
/// it (see [`fetch_for_staff`]); logged as a use. Sharing again changes nothing. Only while
/// the case is open.
pub async fn share_with_case(
    p: &Platform,
    (user_id, user_name): (&str, &str),
    id: &str,
    case_no: &str,
) -> Result<LicenceShare, ServiceError> {
    own(p, user_id, id).await?;
    let case_no = case_no.trim();
    let row = sqlx::query("SELECT id, state FROM cases WHERE case_no = $1")
        .bind(case_no)
        .fetch_optional(p.db.pool())
        .await?;
    let Some(row) = row else {
        return Err(ServiceError::invalid(
            "case_no",
            "没有这个办件编号的办件",
            "no case has this number",
        ));
    };
    let case_id: String = row.try_get("id")?;
    let state: String = row.try_get("state")?;
    if !matches!(
        state.as_str(),
        "submitted" | "correction" | "handling" | "special"
    ) {
        return Err(ServiceError::Conflict(
            "该办件不在办理中，无需授权用证 / the case is not being handled".into(),
        ));
    }
    let at = fmt_time(p.now());
    let mut b = Batch::default();
    b.guard(
        "INSERT INTO licence_shares (licence_id, case_id, granted_by, granted_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (licence_id, case_id) DO UPDATE SET \
         withdrawn_at = NULL, granted_at = $4 WHERE licence_shares.withdrawn_at IS NOT NULL \
         RETURNING CAST('s' AS TEXT) AS k",
        vec![
            id.into(),
            case_id.as_str().into(),
            user_id.into(),
            at.as_str().into(),
        ],
    );
    push_use(
        &mut b,
        id,
        &at,
        (user_id, user_name, None),
        Some(&case_id),
        "consent",
        &format!("持证人授权用于办件 {case_no}"),
    );
    match b.commit_alone(&p.db).await {
        // Shared already: nothing new.
        Ok(()) | Err(BatchError::Conflict) => {}
        Err(BatchError::Store(e)) => return Err(e.into()),
    }
    shares(p, user_id, id)
        .await?
        .into_iter()
        .find(|s| s.case_id == case_id)
        .ok_or_else(|| ServiceError::internal("share just made is missing"))
}

/// Withdraws a share: the department may no longer fetch the licence for that case.
pub async fn withdraw_share(
    p: &Platform,
    user_id: &str,
    id: &str,
    case_id: &str,
) -> Result<(), ServiceError> {
    own(p, user_id, id).await?;
    let done = sqlx::query(
        "UPDATE licence_shares SET withdrawn_at = $1 WHERE licence_id = $2 AND case_id = $3 \
         AND withdrawn_at IS NULL",
    )
    .bind(fmt_time(p.now()))
    .bind(id)
    .bind(case_id)
    .execute(p.db.writer())
    .await?;
    if done.rows_affected() == 0 {
        return Err(ServiceError::NotFound {
            what: "授权",
            key: case_id.to_owned(),
        });
    }
    Ok(())
}

/// The cases a licence is or was shared with, newest first: for its holder only.
pub async fn shares(
    p: &Platform,
    user_id: &str,
    id: &str,
) -> Result<Vec<LicenceShare>, ServiceError> {
    own(p, user_id, id).await?;
    let rows = sqlx::query(
        "SELECT s.case_id, s.granted_at, s.withdrawn_at, c.case_no, c.item_name \
         FROM licence_shares s JOIN cases c ON c.id = s.case_id WHERE s.licence_id = $1 \
         ORDER BY s.granted_at DESC",
    )
    .bind(id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LicenceShare {
                case_id: r.try_get("case_id")?,
                case_no: r.try_get("case_no")?,
                item_name: r.try_get("item_name")?,
                granted_at: r.try_get("granted_at")?,
                withdrawn_at: r.try_get("withdrawn_at")?,
            })
        })
        .collect()
}

/// A licence's full data for a department: either for a named case that the staff member may
/// handle and whose applicant holds the licence (the holder applied: consent for that case) or
/// which the holder shared it with (授权用证), or on a legal basis
/// given in words by a supervisor or system administrator. Every fetch is logged and shown to
/// the holder.
pub async fn fetch_for_staff(
    p: &Platform,
    actor: &Staff,
    id: &str,
    case_id: Option<&str>,
    legal_basis: Option<&str>,
) -> Result<Value, ServiceError> {
    let row = sqlx::query("SELECT data_sealed, holder_code_index FROM licences WHERE id = $1")
        .bind(id)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or_else(|| ServiceError::NotFound {
            what: "证照",
            key: id.to_owned(),
        })?;
    let index: String = row.try_get("holder_code_index")?;
    let (basis, reason, case) = match (case_id, legal_basis.map(str::trim)) {
        (Some(case), _) => {
            // The staff member may handle the case, and its applicant holds the licence.
            let (c, _) = crate::cases::for_staff(p, actor, case).await?;
            let code = applicant_code(p, &c.id).await?;
            let shared: Option<String> = sqlx::query_scalar(
                "SELECT case_id FROM licence_shares WHERE licence_id = $1 AND case_id = $2 \
                 AND withdrawn_at IS NULL",
            )
            .bind(id)
            .bind(&c.id)
            .fetch_optional(p.db.pool())
            .await?;
            if p.keys.pii.blind_index("licence.holder", &code) != index && shared.is_none() {
                return Err(ServiceError::Forbidden(
                    "该证照不属于这个办件的申请人 / the licence is not the case applicant's".into(),
                ));
            }
            (
                "case",
                format!("办理办件 {}", c.case_no.clone().unwrap_or(c.id.clone())),
                Some(c.id),
            )
        }
        (None, Some(basis)) if !basis.is_empty() => {
            let allowed = crate::identity::authz::may_fetch_on_legal_basis(actor);
            if !allowed {
                return Err(ServiceError::Forbidden(
                    "依法调用证照须为监察人员或系统管理员 / fetching on a legal basis is for \
                     supervisors and system administrators"
                        .into(),
                ));
            }
            ("legal", basis.chars().take(500).collect(), None)
        }
        _ => {
            return Err(ServiceError::invalid(
                "case_id",
                "调用证照须指明办件（持证人授权）或法律依据",
                "name the holder's case (consent) or the legal basis",
            ));
        }
    };
    let sealed: String = row.try_get("data_sealed")?;
    let data = super::open_data(p, &sealed)?;
    let mut b = Batch::default();
    push_use(
        &mut b,
        id,
        &fmt_time(p.now()),
        (&actor.username, &actor.display_name, Some(&actor.org)),
        case.as_deref(),
        basis,
        &reason,
    );
    b.commit_alone(&p.db).await.map_err(batch_error)?;
    Ok(serde_json::from_str(&data)?)
}

#[cfg(test)]
mod tests {
    use super::names_match;

    #[test]
    fn a_material_is_a_licence_when_one_name_holds_the_other() {
        assert!(names_match("营业执照（副本）", "营业执照"));
        assert!(names_match("食品经营许可证复印件", "食品经营许可证"));
        assert!(names_match("申请人居民身份证", "申请人居民身份证"));
        // Too short to say, or different.
        assert!(!names_match("执照", "营业执照"));
        assert!(!names_match("营业执照", "食品经营许可证"));
        assert!(!names_match("", ""));
    }
}

/// What staff look for in the licence library (电子证照库); every part optional.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LibraryQuery {
    /// 持证主体代码: an ID number or credit code, matched exactly (through its blind index).
    pub holder_code: Option<String>,
    /// 证照类型代码.
    pub type_code: Option<String>,
    /// 颁证单位代码.
    pub issuer_code: Option<String>,
    /// `valid`, `suspended`, `revoked` or `superseded`.
    pub status: Option<String>,
}

/// One licence of the library with the catalogue fields of GB/T 36903 (the holder's code
/// masked).
#[derive(Debug, Clone, Serialize)]
pub struct LibraryRow {
    /// 电子证照标识.
    pub id: String,
    /// 证照名称.
    pub name: String,
    /// 证照类型代码.
    pub type_code: String,
    /// 证照编号.
    pub number: String,
    /// 持证主体.
    pub holder_name: String,
    /// 持证主体代码类型 (111 公民身份号码, 001 统一社会信用代码).
    pub holder_code_type: String,
    /// 颁证单位.
    pub issuer_name: String,
    /// 颁证单位代码.
    pub issuer_code: String,
    /// 颁证日期.
    pub issued_on: String,
    /// 有效期起.
    pub valid_from: String,
    /// 有效期止.
    pub valid_to: Option<String>,
    /// 属地编码.
    pub region: String,
    /// Status.
    pub status: String,
}

/// The licence library as a staff member may search it ([`LibraryScope`]): system
/// administrators everything; supervisors what was issued within their region; other staff
/// what their organisation issued. At most 200 rows, newest first.
pub async fn search_library(
    p: &Platform,
    actor: &Staff,
    q: &LibraryQuery,
) -> Result<Vec<LibraryRow>, ServiceError> {
    let mut sql = String::from(
        "SELECT id, name, type_code, number, holder_name, holder_code_type, issuer_name, \
         issuer_code, issued_on, valid_from, valid_to, region, status FROM licences WHERE 1 = 1",
    );
    let mut binds: Vec<String> = Vec::new();
    let mut add = |sql: &mut String, clause: &str, value: String| {
        binds.push(value);
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    };
    match crate::identity::authz::LibraryScope::of(actor) {
        LibraryScope::All => {}
        LibraryScope::RegionPrefix(prefix) => {
            add(&mut sql, " AND region LIKE ?", format!("{prefix}%"))
        }
        LibraryScope::Issuer(org) => add(&mut sql, " AND issuer_code = ?", org),
    }
    let filled = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if let Some(code) = filled(&q.holder_code) {
        let code = code.to_ascii_uppercase();
        add(
            &mut sql,
            " AND holder_code_index = ?",
            p.keys.pii.blind_index("licence.holder", &code),
        );
    }
    if let Some(t) = filled(&q.type_code) {
        add(&mut sql, " AND type_code = ?", t);
    }
    if let Some(i) = filled(&q.issuer_code) {
        add(&mut sql, " AND issuer_code = ?", i);
    }
    if let Some(s) = filled(&q.status) {
        if !matches!(
            s.as_str(),
            "valid" | "expired" | "suspended" | "revoked" | "superseded"
        ) {
            return Err(ServiceError::invalid(
                "status",
                "状态须为 valid、expired、suspended、revoked 或 superseded",
                "status is valid, expired, suspended, revoked or superseded",
            ));
        }
        add(&mut sql, " AND status = ?", s);
    }
    sql.push_str(" ORDER BY issued_on DESC, id LIMIT 200");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        query = query.bind(b);
    }
    let rows = query.fetch_all(p.db.pool()).await?;
    rows.iter()
        .map(|r| {
            Ok(LibraryRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                type_code: r.try_get("type_code")?,
                number: r.try_get("number")?,
                holder_name: r.try_get("holder_name")?,
                holder_code_type: r.try_get("holder_code_type")?,
                issuer_name: r.try_get("issuer_name")?,
                issuer_code: r.try_get("issuer_code")?,
                issued_on: r.try_get("issued_on")?,
                valid_from: r.try_get("valid_from")?,
                valid_to: r.try_get("valid_to")?,
                region: r.try_get("region")?,
                status: r.try_get("status")?,
            })
        })
        .collect()
}
