//! Issuing a licence when its case is approved (the `licences.issue` consumer of
//! `case.approved`) and changing its status (暂扣, 注销/吊销, reinstated).

use base64ct::{Base64, Encoding};
use serde_json::{Map, Value, json};
use yiwang_domain::codes::{CreditCode, LicenceId};
use yiwang_store::{Batch, BatchError, fmt_time};

use super::{ISSUE, licence_type, local_today, seals, verify_url};
use crate::identity::staff::Staff;
use crate::{Platform, ServiceError};

/// Everything one version of a licence says, before it is signed.
pub(super) struct Content {
    pub(super) id: LicenceId,
    pub(super) type_code: String,
    pub(super) name: String,
    pub(super) number: String,
    pub(super) serial: String,
    pub(super) version: u16,
    pub(super) holder_name: String,
    pub(super) holder_code: String,
    /// `111` 公民身份号码 or `001` 统一社会信用代码.
    pub(super) code_type: String,
    pub(super) holder_user: Option<String>,
    pub(super) issuer_name: String,
    pub(super) issuer_code: String,
    pub(super) region: String,
    pub(super) issued_on: chrono::NaiveDate,
    pub(super) valid_from: chrono::NaiveDate,
    pub(super) valid_to: Option<chrono::NaiveDate>,
    /// key → `{label, value}`, in the type's order.
    pub(super) fields: Map<String, Value>,
    pub(super) case_id: Option<String>,
    pub(super) case_no: Option<String>,
    /// Its number in the system it was imported from (not signed; first version only).
    pub(super) source_number: Option<String>,
}

impl Content {
    /// The signed data: canonical JSON, the exact bytes the seal signs.
    fn data(&self, seal_id: &str) -> String {
        json!({
            "id": self.id.as_str(),
            "type_code": self.type_code,
            "name": self.name,
            "number": self.number,
            "version": self.version,
            "holder": { "name": self.holder_name, "code": self.holder_code, "code_type": self.code_type },
            "issuer": { "name": self.issuer_name, "code": self.issuer_code },
            "issued_on": self.issued_on.to_string(),
            "valid_from": self.valid_from.to_string(),
            "valid_to": self.valid_to.map(|d| d.to_string()),
            "region": self.region,
            "fields": self.fields,
            "seal": seal_id,
            "case_no": self.case_no,
        })
        .to_string()
    }

    /// The content of a stored licence's data, to make its next version from.
    pub(super) fn from_data(
        data: &Value,
        holder_user: Option<String>,
        case_id: Option<String>,
    ) -> Result<Content, ServiceError> {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let date = |v: &Value| {
            chrono::NaiveDate::parse_from_str(v.as_str().unwrap_or_default(), "%Y-%m-%d").ok()
        };
        let bad = || ServiceError::internal("stored licence data lacks a field");
        let id = LicenceId::parse(&text(&data["id"]))
            .map_err(|e| ServiceError::internal(format!("stored licence id: {e}")))?;
        Ok(Content {
            serial: id.serial().to_owned(),
            version: u16::try_from(data["version"].as_u64().unwrap_or(1)).unwrap_or(1),
            id,
            type_code: text(&data["type_code"]),
            name: text(&data["name"]),
            number: text(&data["number"]),
            holder_name: text(&data["holder"]["name"]),
            holder_code: text(&data["holder"]["code"]),
            code_type: text(&data["holder"]["code_type"]),
            holder_user,
            issuer_name: text(&data["issuer"]["name"]),
            issuer_code: text(&data["issuer"]["code"]),
            region: text(&data["region"]),
            issued_on: date(&data["issued_on"]).ok_or_else(bad)?,
            valid_from: date(&data["valid_from"]).ok_or_else(bad)?,
            valid_to: date(&data["valid_to"]),
            fields: data["fields"].as_object().cloned().unwrap_or_default(),
            case_id,
            case_no: data["case_no"].as_str().map(str::to_owned),
            source_number: None,
        })
    }
}

/// Signs `c` with the seal, stores its PDF (`document`, or else rendered), and adds the file,
/// the licence row (status `valid`) and the seal's use to `b`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn sign_into(
    p: &Platform,
    b: &mut Batch,
    c: &Content,
    (seal, key): (&seals::Seal, &yiwang_crypto::seal::SealKey),
    purpose: &str,
    actor: &str,
    at: &str,
    document: Option<Vec<u8>>,
) -> Result<(), ServiceError> {
    let data = c.data(&seal.id);
    let signature = Base64::encode_string(&key.sign(data.as_bytes()));
    let file_id = uuid::Uuid::now_v7().simple().to_string();
    let page = yiwang_documents::LicencePage {
        title: c.name.clone(),
        identifier: c.id.as_str().to_owned(),
        number: c.number.clone(),
        holder: c.holder_name.clone(),
        holder_code: (
            if c.code_type == "111" {
                "公民身份号码"
            } else {
                "统一社会信用代码"
            }
            .to_owned(),
            c.holder_code.clone(),
        ),
        fields: super::ordered_fields(&c.fields),
        issuer: c.issuer_name.clone(),
        issued_on: c.issued_on,
        valid_from: c.valid_from,
        valid_to: c.valid_to,
        seal_text: c.issuer_name.clone(),
        seal_label: "电子证照专用章".into(),
        verify_url: verify_url(p, c.id.as_str()),
    };
    let pdf = match document {
        Some(pdf) => pdf,
        None => render(page).await?,
    };
    let stored = p
        .outside
        .files
        .put(&file_id, &pdf)
        .await
        .map_err(|e| ServiceError::Unavailable(format!("文件存储暂时无法使用：{e}")))?;
    b.push(
        "INSERT INTO files (id, name, kind, size, sm3, owner, created_at) \
         VALUES ($1, $2, 'pdf', $3, $4, 'system', $5)",
        vec![
            file_id.as_str().into(),
            format!("{}-{}.pdf", c.name, c.number).into(),
            i64::try_from(stored.size).unwrap_or(i64::MAX).into(),
            stored.sm3.into(),
            at.into(),
        ],
    );
    let sealed = p
        .keys
        .pii
        .encrypt(super::DATA_FIELD, &data)
        .map_err(|e| ServiceError::internal(format!("sealing licence data: {e}")))?;
    b.push(
        "INSERT INTO licences (id, type_code, name, number, serial, version, holder_name, \
         holder_code_type, holder_code_index, holder_user, issuer_name, issuer_code, region, \
         issued_on, valid_from, valid_to, data_sealed, signature, seal_id, status, case_id, \
         created_at, file_id, source_number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, 'valid', $20, $21, $22, $23)",
        vec![
            c.id.as_str().into(),
            c.type_code.as_str().into(),
            c.name.as_str().into(),
            c.number.as_str().into(),
            c.serial.as_str().into(),
            i64::from(c.version).into(),
            c.holder_name.as_str().into(),
            c.code_type.as_str().into(),
            p.keys
                .pii
                .blind_index("licence.holder", &c.holder_code)
                .into(),
            c.holder_user.clone().into(),
            c.issuer_name.as_str().into(),
            c.issuer_code.as_str().into(),
            c.region.as_str().into(),
            c.issued_on.to_string().into(),
            c.valid_from.to_string().into(),
            c.valid_to.map(|d| d.to_string()).into(),
            sealed.into(),
            signature.into(),
            seal.id.as_str().into(),
            c.case_id.clone().into(),
            at.into(),
            file_id.as_str().into(),
            c.source_number.clone().into(),
        ],
    );
    seals::log_use(b, seal, purpose, c.id.as_str(), actor, at);
    Ok(())
}

/// The licence types an approval of the item issues.
async fn type_codes(p: &Platform, item_code: &str) -> Result<Vec<String>, ServiceError> {
    Ok(sqlx::query_scalar::<_, String>(
        "SELECT type_code FROM licence_type_items WHERE item_code = $1 ORDER BY type_code",
    )
    .bind(item_code)
    .fetch_all(p.db.pool())
    .await?)
}

/// Whether an approval of the item issues any licence.
pub(crate) async fn issues_licences(p: &Platform, item_code: &str) -> Result<bool, ServiceError> {
    Ok(!type_codes(p, item_code).await?.is_empty())
}

/// Issues the licences of an approved case (one per licence type bound to its item), once
/// (the consumer of `case.approved`; public for the benchmark and tools):
/// the event is marked done in the same batch. Returns the identifiers issued.
pub async fn issue_for_event(
    p: &Platform,
    event: &str,
    case_id: &str,
) -> Result<Vec<String>, ServiceError> {
    let c = crate::cases::load(p, case_id).await?;
    let now = p.now();
    let at = fmt_time(now);
    let codes = type_codes(p, &c.item_code).await?;
    let mut b = Batch::default();
    b.push(
        "INSERT INTO outbox_done (consumer, event_id, done_at) VALUES ($1, $2, $3)",
        vec![ISSUE.into(), event.into(), at.as_str().into()],
    );
    let mut issued = Vec::new();
    if !codes.is_empty() {
        let Some((seal, key)) = seals::signing_for(p, &c.org).await? else {
            return Err(ServiceError::Conflict(format!(
                "{} 没有有效的电子印章，无法签发证照 / the organisation has no valid seal to sign with",
                c.org
            )));
        };
        let form = crate::cases::form_values(p, case_id).await?;
        let holder_code = applicant_code(p, case_id).await?;
        let master = p.master.get();
        let org = master
            .organisation(&c.org)
            .ok_or_else(|| ServiceError::internal(format!("unknown organisation {}", c.org)))?;
        let issuer = CreditCode::parse(&c.org)
            .map_err(|e| ServiceError::internal(format!("issuer code {}: {e}", c.org)))?;
        for code in codes {
            let t = licence_type(p, &code).await?;
            let serial = serial();
            let id = LicenceId::new(&t.code, &issuer, &serial, 1)
                .map_err(|e| ServiceError::internal(format!("licence id: {e}")))?;
            let valid_to = t
                .validity_years
                .map(|y| local_today(p) + chrono::Months::new(12 * y) - chrono::Days::new(1));
            let mut fields = Map::new();
            for (order, f) in t.fields.iter().enumerate() {
                let value = match f.source.split_once(':') {
                    Some(("form", k)) => match &form[k] {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    },
                    Some(("case", "applicant_name")) => c.applicant_name.clone(),
                    Some(("case", "item_name")) => c.item_name.clone(),
                    Some(("case", "case_no")) => c.case_no.clone().unwrap_or_default(),
                    Some(("case", "applicant_id")) => holder_code.clone(),
                    Some(("text", text)) => text.to_owned(),
                    _ => String::new(),
                };
                fields.insert(
                    f.key.clone(),
                    json!({ "label": f.label, "value": value, "order": order }),
                );
            }
            let code_type = match c.applicant_kind {
                crate::cases::ApplicantKind::Person => "111",
                crate::cases::ApplicantKind::Enterprise => "001",
            };
            let content = Content {
                number: c.case_no.clone().unwrap_or_else(|| serial.clone()),
                id,
                type_code: t.code.clone(),
                name: t.name.clone(),
                serial,
                version: 1,
                holder_name: c.applicant_name.clone(),
                holder_code: holder_code.clone(),
                code_type: code_type.into(),
                holder_user: c.owner_user.clone(),
                issuer_name: org.name.clone(),
                issuer_code: c.org.clone(),
                region: org.region.clone(),
                issued_on: local_today(p),
                valid_from: local_today(p),
                valid_to,
                fields,
                case_id: Some(c.id.clone()),
                case_no: c.case_no.clone(),
                source_number: None,
            };
            sign_into(
                p,
                &mut b,
                &content,
                (&seal, &key),
                "licence.issue",
                "system",
                &at,
                None,
            )
            .await?;
            let id = content.id;
            if let Some(user) = &c.owner_user {
                crate::cases::push_message(
                    &mut b,
                    user,
                    Some(&c.id),
                    "电子证照已签发",
                    &format!(
                        "您的“{}”已签发（证照标识 {}），可在“我的证照”中查看、下载和亮证。",
                        t.name,
                        id.as_str()
                    ),
                    &at,
                );
            }
            issued.push(id.as_str().to_owned());
        }
    }
    match b.commit_alone(&p.db).await {
        Ok(()) => Ok(issued),
        // Issued meanwhile by another drain: nothing more to do.
        Err(BatchError::Conflict) => Ok(Vec::new()),
        Err(BatchError::Store(e)) => Err(e.into()),
    }
}

/// Renders a licence page off the async threads.
async fn render(page: yiwang_documents::LicencePage) -> Result<Vec<u8>, ServiceError> {
    let renderer = match crate::cases::notices::renderer() {
        Ok(r) => r.clone(),
        Err(e) => {
            return Err(ServiceError::Unavailable(format!(
                "证照文件无法生成（字体）：{e}"
            )));
        }
    };
    tokio::task::spawn_blocking(move || renderer.render_licence(&page))
        .await
        .map_err(|e| ServiceError::internal(format!("rendering task: {e}")))?
        .map_err(|e| ServiceError::internal(format!("licence page: {e}")))
}

/// 20 random capitals and digits (one of the serial forms in use; no counter to contend for).
pub(super) fn serial() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    yiwang_crypto::random::random_bytes::<20>()
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

pub(super) async fn applicant_code(p: &Platform, case_id: &str) -> Result<String, ServiceError> {
    let enc: String = sqlx::query_scalar("SELECT applicant_id_enc FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(p.db.pool())
        .await?;
    p.keys
        .pii
        .decrypt("applicant_id", &enc)
        .map_err(|e| ServiceError::internal(format!("applicant id: {e}")))
}

/// Changes a licence's status (暂扣 `suspended`, 注销/吊销 `revoked`, back to `valid` from
/// suspended), with the reason: the issuing organisation's department administrators and system
/// administrators.
pub async fn set_status(
    p: &Platform,
    actor: &Staff,
    id: &str,
    status: &str,
    reason: &str,
) -> Result<(), ServiceError> {
    let issuer: Option<String> =
        sqlx::query_scalar("SELECT issuer_code FROM licences WHERE id = $1")
            .bind(id)
            .fetch_optional(p.db.pool())
            .await?;
    let issuer = issuer.ok_or_else(|| ServiceError::NotFound {
        what: "证照",
        key: id.to_owned(),
    })?;
    may_change(actor, &issuer)?;
    // The statuses each change may start from.
    let (from, or_from) = match status {
        "suspended" => ("valid", "valid"),
        "revoked" => ("valid", "suspended"),
        "valid" => ("suspended", "suspended"),
        _ => {
            return Err(ServiceError::invalid(
                "status",
                "状态须为 suspended、revoked 或 valid",
                "status is suspended, revoked or valid",
            ));
        }
    };
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::invalid(
            "reason",
            "请填写原因",
            "give the reason",
        ));
    }
    let done = sqlx::query(
        "UPDATE licences SET status = $1, status_reason = $2, status_at = $3 \
         WHERE id = $4 AND (status = $5 OR status = $6)",
    )
    .bind(status)
    .bind(reason)
    .bind(fmt_time(p.now()))
    .bind(id)
    .bind(from)
    .bind(or_from)
    .execute(p.db.writer())
    .await?;
    if done.rows_affected() != 1 {
        return Err(ServiceError::Conflict(
            "证照当前状态不允许这一变更 / the licence's status does not allow this change".into(),
        ));
    }
    Ok(())
}

/// What a new version of a licence changes.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewVersion {
    /// `amend` (变更: some fields change, the validity stays) or `renew` (延续: the validity
    /// starts again from today, by the type's rule).
    pub kind: String,
    /// The fields' new values, by key (amend).
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
    /// Why (required).
    pub reason: String,
}

/// The issuer's department administrators, or a system administrator.
fn may_change(actor: &Staff, issuer: &str) -> Result<(), ServiceError> {
    if crate::identity::authz::may_administer_org(actor, issuer) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "只有颁证单位的部门管理员可以变更证照 / only the issuer's department administrators \
             change a licence"
                .into(),
        ))
    }
}

/// Issues the next version of a valid licence (变更 or 延续), signed by the issuer's active seal
/// with its PDF; the old version becomes `superseded`, in the same batch (a concurrent change
/// of the old one gets `Conflict`). Returns the new identifier (same serial, version + 1).
pub async fn new_version(
    p: &Platform,
    actor: &Staff,
    id: &str,
    change: NewVersion,
) -> Result<String, ServiceError> {
    let row = sqlx::query(
        "SELECT data_sealed, status, issuer_code, holder_user, case_id, type_code FROM licences \
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(|| ServiceError::NotFound {
        what: "证照",
        key: id.to_owned(),
    })?;
    use yiwang_store::Row;
    let issuer: String = row.try_get("issuer_code")?;
    may_change(actor, &issuer)?;
    let reason = change.reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::invalid(
            "reason",
            "请填写原因",
            "give the reason",
        ));
    }
    let status: String = row.try_get("status")?;
    // A licence past its validity may still be renewed (延续), not amended.
    if !(status == "valid" || (status == "expired" && change.kind == "renew")) {
        return Err(ServiceError::Conflict(
            "只有有效的证照可以变更，有效或已到期的证照可以延续 / only a valid licence is amended, \
             a valid or expired one renewed"
                .into(),
        ));
    }
    let sealed: String = row.try_get("data_sealed")?;
    let data: Value = serde_json::from_str(&super::open_data(p, &sealed)?)?;
    let mut c = Content::from_data(&data, row.try_get("holder_user")?, row.try_get("case_id")?)?;
    let today = local_today(p);
    match change.kind.as_str() {
        "amend" => {
            if change.fields.is_empty() {
                return Err(ServiceError::invalid(
                    "fields",
                    "请给出要变更的字段",
                    "give the fields to change",
                ));
            }
            let mut errors = Vec::new();
            for (key, value) in &change.fields {
                let value = value.trim();
                match c.fields.get_mut(key) {
                    Some(f) if !value.is_empty() && value.chars().count() <= 500 => {
                        f["value"] = Value::String(value.to_owned());
                    }
                    Some(_) => errors.push(crate::FieldError::new(
                        format!("fields.{key}"),
                        "新值须为1至500个字",
                        "a new value has 1 to 500 characters",
                    )),
                    None => errors.push(crate::FieldError::new(
                        format!("fields.{key}"),
                        "该证照没有这个字段",
                        "the licence has no such field",
                    )),
                }
            }
            if !errors.is_empty() {
                return Err(ServiceError::Invalid(errors));
            }
        }
        "renew" => {
            let t = licence_type(p, &c.type_code).await?;
            let Some(years) = t.validity_years else {
                return Err(ServiceError::Conflict(
                    "长期有效的证照无需延续 / a licence without expiry is not renewed".into(),
                ));
            };
            c.valid_from = today;
            c.valid_to = Some(today + chrono::Months::new(12 * years) - chrono::Days::new(1));
        }
        _ => {
            return Err(ServiceError::invalid(
                "kind",
                "kind 须为 amend（变更）或 renew（延续）",
                "kind is amend or renew",
            ));
        }
    }
    let Some((seal, key)) = seals::signing_for(p, &issuer).await? else {
        return Err(ServiceError::Conflict(
            "颁证单位没有有效的电子印章 / the issuer has no valid seal to sign with".into(),
        ));
    };
    let issuer_code = CreditCode::parse(&issuer)
        .map_err(|e| ServiceError::internal(format!("issuer code {issuer}: {e}")))?;
    c.version = c.version.saturating_add(1);
    c.id = LicenceId::new(&c.type_code, &issuer_code, &c.serial, c.version)
        .map_err(|e| ServiceError::invalid("version", &e.to_string(), &e.to_string()))?;
    c.issued_on = today;
    let at = fmt_time(p.now());
    let mut b = Batch::default();
    b.guard(
        "UPDATE licences SET status = 'superseded', status_reason = $1, status_at = $2 \
         WHERE id = $3 AND status = $4 RETURNING CAST('l' AS TEXT) AS k",
        vec![
            format!("{reason}（新版本 {}）", c.id.as_str()).into(),
            at.as_str().into(),
            id.into(),
            status.as_str().into(),
        ],
    );
    let purpose = if change.kind == "renew" {
        "licence.renew"
    } else {
        "licence.amend"
    };
    sign_into(
        p,
        &mut b,
        &c,
        (&seal, &key),
        purpose,
        &actor.username,
        &at,
        None,
    )
    .await?;
    if let Some(user) = &c.holder_user {
        crate::cases::push_message(
            &mut b,
            user,
            c.case_id.as_deref(),
            "电子证照已更新",
            &format!(
                "您的“{}”已{}（新证照标识 {}），原版本已失效。",
                c.name,
                if change.kind == "renew" {
                    "延续"
                } else {
                    "变更"
                },
                c.id.as_str()
            ),
            &at,
        );
    }
    b.commit_alone(&p.db).await.map_err(super::batch_error)?;
    Ok(c.id.as_str().to_owned())
}
