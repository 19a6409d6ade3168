//! Issuing a licence when its case is approved (the `licences.issue` consumer of
//! `case.approved`) and changing its status (暂扣, 注销/吊销, reinstated).

use base64ct::{Base64, Encoding};
use serde_json::{Map, Value, json};
use yiwang_domain::codes::{CreditCode, LicenceId};
use yiwang_store::{Batch, BatchError, fmt_time};

use super::{ISSUE, licence_type, local_today, seals, verify_url};
use crate::identity::staff::{Role, Staff};
use crate::{Platform, ServiceError};

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
    let codes = sqlx::query_scalar::<_, String>(
        "SELECT type_code FROM licence_type_items WHERE item_code = $1 ORDER BY type_code",
    )
    .bind(&c.item_code)
    .fetch_all(p.db.pool())
    .await?;
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
                .map(|y| local_today(now) + chrono::Months::new(12 * y) - chrono::Days::new(1));
            let mut fields = Map::new();
            for f in &t.fields {
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
                fields.insert(f.key.clone(), json!({ "label": f.label, "value": value }));
            }
            let code_type = match c.applicant_kind {
                crate::cases::ApplicantKind::Person => "111",
                crate::cases::ApplicantKind::Enterprise => "001",
            };
            let number = c.case_no.clone().unwrap_or_else(|| serial.clone());
            let data = json!({
                "id": id.as_str(),
                "type_code": t.code,
                "name": t.name,
                "number": number,
                "holder": { "name": c.applicant_name, "code": holder_code, "code_type": code_type },
                "issuer": { "name": org.name, "code": c.org },
                "issued_on": local_today(now).to_string(),
                "valid_from": local_today(now).to_string(),
                "valid_to": valid_to.map(|d| d.to_string()),
                "region": org.region,
                "fields": fields,
                "seal": seal.id,
                "case_no": c.case_no,
            })
            .to_string();
            let signature = Base64::encode_string(&key.sign(data.as_bytes()));
            let file_id = uuid::Uuid::now_v7().simple().to_string();
            let page = yiwang_documents::LicencePage {
                title: t.name.clone(),
                identifier: id.as_str().to_owned(),
                number: number.clone(),
                holder: c.applicant_name.clone(),
                holder_code: (
                    match c.applicant_kind {
                        crate::cases::ApplicantKind::Person => "公民身份号码",
                        crate::cases::ApplicantKind::Enterprise => "统一社会信用代码",
                    }
                    .to_owned(),
                    holder_code.clone(),
                ),
                fields: t
                    .fields
                    .iter()
                    .filter_map(|f| {
                        let v = fields.get(&f.key)?["value"].as_str()?.to_owned();
                        Some((f.label.clone(), v))
                    })
                    .collect(),
                issuer: org.name.clone(),
                issued_on: local_today(now),
                valid_from: local_today(now),
                valid_to,
                seal_text: org.name.clone(),
                seal_label: "电子证照专用章".into(),
                verify_url: verify_url(p, id.as_str()),
            };
            let pdf = render(page).await?;
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
                    format!("{}-{}.pdf", t.name, number).into(),
                    i64::try_from(stored.size).unwrap_or(i64::MAX).into(),
                    stored.sm3.into(),
                    at.as_str().into(),
                ],
            );
            let sealed = p
                .keys
                .pii
                .encrypt("licence.data", &data)
                .map_err(|e| ServiceError::internal(format!("sealing licence data: {e}")))?;
            b.push(
                "INSERT INTO licences (id, type_code, name, number, serial, version, holder_name, \
                 holder_code_type, holder_code_index, holder_user, issuer_name, issuer_code, region, \
                 issued_on, valid_from, valid_to, data_sealed, signature, seal_id, status, case_id, \
                 created_at, file_id) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $11, $12, \
                 $13, $13, $14, $15, $16, $17, 'valid', $18, $19, $20)",
                vec![
                    id.as_str().into(),
                    t.code.as_str().into(),
                    t.name.as_str().into(),
                    number.as_str().into(),
                    serial.as_str().into(),
                    c.applicant_name.as_str().into(),
                    code_type.into(),
                    p.keys.pii.blind_index("licence.holder", &holder_code).into(),
                    c.owner_user.clone().into(),
                    org.name.as_str().into(),
                    c.org.as_str().into(),
                    org.region.as_str().into(),
                    local_today(now).to_string().into(),
                    valid_to.map(|d| d.to_string()).into(),
                    sealed.into(),
                    signature.into(),
                    seal.id.as_str().into(),
                    c.id.as_str().into(),
                    at.as_str().into(),
                    file_id.as_str().into(),
                ],
            );
            seals::log_use(&mut b, &seal, "licence.issue", id.as_str(), "system", &at);
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
fn serial() -> String {
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
    let allowed = actor
        .assignments
        .iter()
        .any(|a| a.role == Role::SystemAdmin || (a.org == issuer && a.role == Role::DeptAdmin));
    if !allowed {
        return Err(ServiceError::Forbidden(
            "只有颁证单位的部门管理员可以变更证照状态 / only the issuer's department \
             administrators change a licence's status"
                .into(),
        ));
    }
    let from: &[&str] = match status {
        "suspended" => &["valid"],
        "revoked" => &["valid", "suspended"],
        "valid" => &["suspended"],
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
    .bind(from[0])
    .bind(from.get(1).copied().unwrap_or(from[0]))
    .execute(p.db.writer())
    .await?;
    if done.rows_affected() != 1 {
        return Err(ServiceError::Conflict(
            "证照当前状态不允许这一变更 / the licence's status does not allow this change".into(),
        ));
    }
    Ok(())
}
