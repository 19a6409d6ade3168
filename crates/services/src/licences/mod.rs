//! 电子证照 (GB/T 36901-36906): the licence catalogue (证照目录), issuing a licence when a case
//! is approved, the licence library (电子证照库), public verification and the holder's licences.
//!
//! A licence is a signed document: its data (canonical JSON, the exact bytes signed) is signed
//! with the issuing organisation's active seal (SM2 with SM3, [`seals`]) and stored sealed under
//! the personal-data ring, with the DER signature beside it. Verification reads the row, opens
//! the data, checks the signature with the seal's table-driven verifier and reports the
//! licence's state: a licence is never "valid" unless its signature verifies under a seal that
//! was not revoked before it was issued, its status is `valid` and it has not expired.
//!
//! Issuing is an outbox consumer (`licences.issue` of `case.approved`): idempotent, one batch
//! (the licence row, the seal's use, the holder's message, the event marked done).

pub mod seals;

use std::collections::HashMap;
use std::sync::Mutex;

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use yiwang_domain::codes::{CreditCode, LicenceId};
use yiwang_store::{Batch, BatchError, Row, fmt_time};

use crate::identity::staff::{Role, Staff};
use crate::{Platform, ServiceError};

/// The consumer name of licence issuing in `outbox_done`.
pub(crate) const ISSUE: &str = "licences.issue";

/// What the licence system keeps in memory.
#[derive(Debug, Default)]
pub struct Caches {
    /// Seal verifiers with their tables.
    pub verifiers: seals::VerifierCache,
    /// Signatures already verified: (licence id, signature) → the data they sign is authentic.
    verified: Mutex<HashMap<(String, String), bool>>,
}

/// The most verified signatures remembered.
const VERIFIED_MAX: usize = 100_000;

/// One field of a licence type: its key in the licence data, its label, where its value comes
/// from (`form:<key>` a field of the application form, `case:applicant_name`, `case:item_name`,
/// `case:case_no`, `text:<fixed text>`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TypeField {
    /// Key in the licence data.
    pub key: String,
    /// Label printed and shown.
    pub label: String,
    /// Where its value comes from.
    pub source: String,
}

/// A licence type of the catalogue (证照目录).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LicenceType {
    /// 证照类型代码: the defining authority's credit code + 3 digits.
    pub code: String,
    /// 证照名称.
    pub name: String,
    /// `person` (持证主体为自然人, code type 111) or `legal_person` (001).
    pub holder_kind: String,
    /// Its fields.
    pub fields: Vec<TypeField>,
    /// Years of validity from issue; `None`: no expiry (长期).
    pub validity_years: Option<u32>,
    /// The document layout (title, field order, seal and QR positions).
    #[serde(default)]
    pub layout: Value,
    /// The items whose approved cases produce it.
    #[serde(default)]
    pub items: Vec<String>,
}

fn may_define(actor: &Staff) -> Result<(), ServiceError> {
    if actor
        .assignments
        .iter()
        .any(|a| a.role == Role::SystemAdmin)
    {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "只有系统管理员可以维护证照目录 / only a system administrator maintains the licence \
             catalogue"
                .into(),
        ))
    }
}

/// Parses and checks a licence type: every problem at once.
fn check_type(t: &LicenceType) -> Result<(), ServiceError> {
    let mut errors = Vec::new();
    let code = t.code.trim();
    let code_ok = code.len() == 21
        && code
            .get(18..)
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
        && code.get(..18).is_some_and(|c| CreditCode::parse(c).is_ok());
    if !code_ok {
        errors.push(crate::FieldError::new(
            "code",
            "证照类型代码须为定义机构的统一社会信用代码加3位数字（共21位）",
            "the type code is the defining authority's credit code and 3 digits (21 characters)",
        ));
    }
    if t.name.trim().is_empty() || t.name.chars().count() > 60 {
        errors.push(crate::FieldError::new(
            "name",
            "证照名称须为1至60个字",
            "the name must have 1 to 60 characters",
        ));
    }
    if !matches!(t.holder_kind.as_str(), "person" | "legal_person") {
        errors.push(crate::FieldError::new(
            "holder_kind",
            "持证主体类型须为 person 或 legal_person",
            "the holder kind is person or legal_person",
        ));
    }
    if t.validity_years.is_some_and(|y| !(1..=100).contains(&y)) {
        errors.push(crate::FieldError::new(
            "validity_years",
            "有效期须为1至100年，长期有效请留空",
            "validity is 1 to 100 years; leave it empty for no expiry",
        ));
    }
    let mut keys = std::collections::HashSet::new();
    for (i, f) in t.fields.iter().enumerate() {
        let field = format!("fields[{i}]");
        let key_ok = !f.key.is_empty()
            && f.key.len() <= 40
            && f.key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !key_ok || !keys.insert(f.key.clone()) {
            errors.push(crate::FieldError::new(
                &field,
                "字段键须为不重复的字母、数字或下划线",
                "a field key is unique letters, digits or underscores",
            ));
        }
        if f.label.trim().is_empty() {
            errors.push(crate::FieldError::new(
                &field,
                "字段须有名称",
                "a field needs a label",
            ));
        }
        let source_ok = match f.source.split_once(':') {
            Some(("form", k)) => !k.is_empty(),
            Some(("case", k)) => {
                matches!(
                    k,
                    "applicant_name" | "item_name" | "case_no" | "applicant_id"
                )
            }
            Some(("text", _)) => true,
            _ => false,
        };
        if !source_ok {
            errors.push(crate::FieldError::new(
                &field,
                "字段来源须为 form:键、case:applicant_name|item_name|case_no|applicant_id 或 text:文字",
                "a field's source is form:<key>, case:applicant_name|item_name|case_no|applicant_id or text:<text>",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Invalid(errors))
    }
}

/// Defines or replaces a licence type and its item bindings (system administrators).
pub async fn define_type(
    p: &Platform,
    actor: &Staff,
    t: LicenceType,
) -> Result<LicenceType, ServiceError> {
    may_define(actor)?;
    define_type_as(p, t).await
}

/// Defines or replaces a licence type (the demo loader; [`define_type`] checks authority).
pub async fn define_type_as(p: &Platform, t: LicenceType) -> Result<LicenceType, ServiceError> {
    check_type(&t)?;
    let code = t.code.trim().to_owned();
    let now = fmt_time(p.now());
    let fields = serde_json::to_string(&t.fields)?;
    let layout = t.layout.to_string();
    let mut b = Batch::default();
    b.push(
        "DELETE FROM licence_type_items WHERE type_code = $1",
        vec![code.as_str().into()],
    );
    b.push(
        "INSERT INTO licence_types (code, name, holder_kind, fields, validity_years, layout, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (code) DO UPDATE SET name = $2, holder_kind = $3, fields = $4, \
         validity_years = $5, layout = $6, updated_at = $7",
        vec![
            code.as_str().into(),
            t.name.trim().into(),
            t.holder_kind.as_str().into(),
            fields.into(),
            t.validity_years.map(i64::from).into(),
            layout.into(),
            now.into(),
        ],
    );
    for item in &t.items {
        b.push(
            "INSERT INTO licence_type_items (type_code, item_code) VALUES ($1, $2)",
            vec![code.as_str().into(), item.trim().into()],
        );
    }
    b.commit_alone(&p.db).await.map_err(batch_error)?;
    licence_type(p, &code).await
}

/// One licence type with its items.
pub async fn licence_type(p: &Platform, code: &str) -> Result<LicenceType, ServiceError> {
    let row = sqlx::query(
        "SELECT code, name, holder_kind, fields, validity_years, layout FROM licence_types \
         WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(|| ServiceError::NotFound {
        what: "证照类型",
        key: code.to_owned(),
    })?;
    let items = sqlx::query_scalar::<_, String>(
        "SELECT item_code FROM licence_type_items WHERE type_code = $1 ORDER BY item_code",
    )
    .bind(code)
    .fetch_all(p.db.pool())
    .await?;
    type_row(&row, items)
}

fn type_row(r: &yiwang_store::AnyRow, items: Vec<String>) -> Result<LicenceType, ServiceError> {
    let fields: String = r.try_get("fields")?;
    let layout: String = r.try_get("layout")?;
    let years: Option<i64> = r.try_get("validity_years")?;
    Ok(LicenceType {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        holder_kind: r.try_get("holder_kind")?,
        fields: serde_json::from_str(&fields)?,
        validity_years: years.and_then(|y| u32::try_from(y).ok()),
        layout: serde_json::from_str(&layout).unwrap_or(Value::Null),
        items,
    })
}

/// Every licence type, by code.
pub async fn licence_types(p: &Platform) -> Result<Vec<LicenceType>, ServiceError> {
    let codes = sqlx::query_scalar::<_, String>("SELECT code FROM licence_types ORDER BY code")
        .fetch_all(p.db.pool())
        .await?;
    let mut out = Vec::with_capacity(codes.len());
    for c in codes {
        out.push(licence_type(p, &c).await?);
    }
    Ok(out)
}

pub(crate) fn batch_error(e: BatchError) -> ServiceError {
    match e {
        BatchError::Conflict => changed(),
        BatchError::Store(e) => e.into(),
    }
}

pub(crate) fn changed() -> ServiceError {
    ServiceError::Conflict(
        "数据已被他人修改，请刷新后重试 / changed by someone else: reload and try again".into(),
    )
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

/// Today in China (UTC+8): licences are dated as the issuer's calendar says.
fn local_today(now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    (now + chrono::Duration::hours(8)).date_naive()
}

/// The public verification page of a licence (what its QR code opens).
fn verify_url(p: &Platform, id: &str) -> String {
    format!("{}/licences/verify?id={id}", p.oidc.issuer())
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

/// 20 random capitals and digits (one of the serial forms in use; no counter to contend for).
fn serial() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    yiwang_crypto::random::random_bytes::<20>()
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

async fn applicant_code(p: &Platform, case_id: &str) -> Result<String, ServiceError> {
    let enc: String = sqlx::query_scalar("SELECT applicant_id_enc FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(p.db.pool())
        .await?;
    p.keys
        .pii
        .decrypt("applicant_id", &enc)
        .map_err(|e| ServiceError::internal(format!("applicant id: {e}")))
}

/// What a verification found.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Authentic, in force.
    Valid,
    /// Authentic, past its validity.
    Expired,
    /// Authentic, suspended (暂扣).
    Suspended,
    /// Authentic, revoked (注销/吊销).
    Revoked,
    /// Authentic, replaced by a newer version (变更).
    Superseded,
    /// The signature does not verify, or the seal was revoked before it signed: not authentic.
    Forged,
    /// No licence has this identifier.
    Unknown,
    /// Not an identifier (wrong form or check character).
    Malformed,
}

impl Outcome {
    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Outcome::Valid => "有效",
            Outcome::Expired => "已过期",
            Outcome::Suspended => "已暂扣",
            Outcome::Revoked => "已注销",
            Outcome::Superseded => "已变更（有新版本）",
            Outcome::Forged => "验证失败：签名无效",
            Outcome::Unknown => "未找到该证照",
            Outcome::Malformed => "证照标识格式或校验位错误",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Outcome::Valid => "valid",
            Outcome::Expired => "expired",
            Outcome::Suspended => "suspended",
            Outcome::Revoked => "revoked",
            Outcome::Superseded => "superseded by a newer version",
            Outcome::Forged => "verification failed: the signature is not valid",
            Outcome::Unknown => "no licence has this identifier",
            Outcome::Malformed => "not a licence identifier (form or check character)",
        }
    }
}

/// The public answer of a verification: no unmasked personal data.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// The identifier as asked (normalised when it parsed).
    pub id: String,
    /// What was found.
    pub outcome: Outcome,
    /// The reason when the identifier did not parse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The licence, when found and authentic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence: Option<PublicLicence>,
}

/// What anyone may see of an authentic licence.
#[derive(Debug, Clone, Serialize)]
pub struct PublicLicence {
    /// 证照名称.
    pub name: String,
    /// 证照类型代码.
    pub type_code: String,
    /// 证照编号.
    pub number: String,
    /// 持证主体, masked.
    pub holder_name: String,
    /// 持证主体代码, masked.
    pub holder_code: String,
    /// 颁证单位.
    pub issuer_name: String,
    /// 颁证单位代码.
    pub issuer_code: String,
    /// 颁证日期.
    pub issued_on: String,
    /// 有效期起.
    pub valid_from: String,
    /// 有效期止 (`None`: 长期).
    pub valid_to: Option<String>,
    /// The licence's fields in order: (label, value).
    pub fields: Vec<(String, String)>,
    /// The status reason (suspension, revocation).
    pub status_reason: Option<String>,
    /// The seal that signed it.
    pub seal_id: String,
    /// Its name.
    pub seal_name: String,
}

/// Verifies a licence by its identifier (the public page and API).
pub async fn verify(p: &Platform, id: &str) -> Result<Verification, ServiceError> {
    let id = match LicenceId::parse(id) {
        Ok(id) => id,
        Err(e) => {
            return Ok(Verification {
                id: id.trim().chars().take(200).collect(),
                outcome: Outcome::Malformed,
                problem: Some(e.to_string()),
                licence: None,
            });
        }
    };
    let row = sqlx::query(
        "SELECT l.data_sealed, l.signature, l.status, l.status_reason, l.valid_to, l.created_at, \
         l.seal_id, s.name AS seal_name, s.distid, s.public_key, s.valid_from AS seal_from, \
         s.valid_to AS seal_to, s.status AS seal_status, s.org_code AS seal_org, \
         s.created_at AS seal_created, s.revoked_at, s.retired_at, s.revoked_reason \
         FROM licences l JOIN seals s ON s.id = l.seal_id WHERE l.id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(p.db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(Verification {
            id: id.as_str().to_owned(),
            outcome: Outcome::Unknown,
            problem: None,
            licence: None,
        });
    };
    let forged = || Verification {
        id: id.as_str().to_owned(),
        outcome: Outcome::Forged,
        problem: None,
        licence: None,
    };
    let sealed: String = row.try_get("data_sealed")?;
    let signature: String = row.try_get("signature")?;
    let Ok(data) = p.keys.pii.decrypt("licence.data", &sealed) else {
        return Ok(forged());
    };
    let seal = seals::Seal {
        id: row.try_get("seal_id")?,
        org_code: row.try_get("seal_org")?,
        name: row.try_get("seal_name")?,
        seal_type: String::new(),
        distid: row.try_get("distid")?,
        public_key: row.try_get("public_key")?,
        valid_from: row.try_get("seal_from")?,
        valid_to: row.try_get("seal_to")?,
        status: row.try_get("seal_status")?,
        created_at: row.try_get("seal_created")?,
        retired_at: row.try_get("retired_at")?,
        revoked_at: row.try_get("revoked_at")?,
        revoked_reason: row.try_get("revoked_reason")?,
    };
    let created: String = row.try_get("created_at")?;
    if !authentic(p, id.as_str(), &data, &signature, &seal, &created)? {
        return Ok(forged());
    }
    let doc: Value = serde_json::from_str(&data)?;
    // The data must be about this identifier (a row's data swapped for another's is forged).
    if doc["id"] != id.as_str() {
        return Ok(forged());
    }
    let status: String = row.try_get("status")?;
    let valid_to: Option<String> = row.try_get("valid_to")?;
    let today = local_today(p.now()).to_string();
    let outcome = match status.as_str() {
        "suspended" => Outcome::Suspended,
        "revoked" => Outcome::Revoked,
        "superseded" => Outcome::Superseded,
        _ if valid_to.as_deref().is_some_and(|to| to < today.as_str()) => Outcome::Expired,
        _ => Outcome::Valid,
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let holder_code = text(&doc["holder"]["code"]);
    let holder_name = text(&doc["holder"]["name"]);
    let person = doc["holder"]["code_type"] == "111";
    let masked_name = if person {
        yiwang_crypto::mask::mask_name(&holder_name)
    } else {
        holder_name.clone()
    };
    let masked_code = if person {
        yiwang_crypto::mask::mask_id_number(&holder_code)
    } else {
        yiwang_crypto::mask::mask_credit_code(&holder_code)
    };
    // A field repeating the holder's name or code is masked like them.
    let field_value = |v: String| {
        if v == holder_code {
            masked_code.clone()
        } else if v == holder_name {
            masked_name.clone()
        } else {
            v
        }
    };
    let fields = doc["fields"]
        .as_object()
        .map(|m| {
            m.values()
                .map(|f| (text(&f["label"]), field_value(text(&f["value"]))))
                .collect()
        })
        .unwrap_or_default();
    Ok(Verification {
        id: id.as_str().to_owned(),
        outcome,
        problem: None,
        licence: Some(PublicLicence {
            name: text(&doc["name"]),
            type_code: text(&doc["type_code"]),
            number: text(&doc["number"]),
            holder_name: masked_name.clone(),
            holder_code: masked_code.clone(),
            issuer_name: text(&doc["issuer"]["name"]),
            issuer_code: text(&doc["issuer"]["code"]),
            issued_on: text(&doc["issued_on"]),
            valid_from: text(&doc["valid_from"]),
            valid_to: doc["valid_to"].as_str().map(str::to_owned),
            fields,
            status_reason: row.try_get("status_reason")?,
            seal_id: seal.id.clone(),
            seal_name: seal.name.clone(),
        }),
    })
}

/// Whether `signature` over `data` verifies under the seal, which had not been revoked when the
/// licence was made; remembered per (licence, signature).
fn authentic(
    p: &Platform,
    id: &str,
    data: &str,
    signature: &str,
    seal: &seals::Seal,
    created: &str,
) -> Result<bool, ServiceError> {
    if seal.revoked_at.as_deref().is_some_and(|r| r <= created) {
        return Ok(false);
    }
    let key = (id.to_owned(), signature.to_owned());
    let cache = &p.licences.verified;
    if let Some(ok) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(*ok);
    }
    let ok = match Base64::decode_vec(signature) {
        Ok(sig) => seals::verifier(p, seal)?
            .verify(data.as_bytes(), &sig)
            .is_ok(),
        Err(_) => false,
    };
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= VERIFIED_MAX {
        cache.clear();
    }
    cache.insert(key, ok);
    Ok(ok)
}

/// A licence document for offline verification (`yiwang licence verify FILE`, OpenSSL): the
/// exact signed bytes, the signature and the seal's published key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LicenceDocument {
    /// Format marker: `yiwang-licence/1`.
    pub format: String,
    /// The signed data (canonical JSON text).
    pub data: String,
    /// DER signature, Base64.
    pub signature: String,
    /// The signing seal.
    pub seal_id: String,
    /// Its name.
    pub seal_name: String,
    /// The SM2 distinguishing ID.
    pub distid: String,
    /// The seal's public key as SubjectPublicKeyInfo PEM.
    pub public_key_pem: String,
}

/// The format marker of [`LicenceDocument`].
pub const DOCUMENT_FORMAT: &str = "yiwang-licence/1";

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
    let data = p
        .keys
        .pii
        .decrypt("licence.data", &sealed)
        .map_err(|e| ServiceError::internal(format!("licence data: {e}")))?;
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

/// Checks a licence document offline, with no database: the signature over its data under the
/// key it names, or under `trusted_pem` (the seal's key as published) when given. Returns the
/// licence data.
pub fn verify_document(doc: &str, trusted_pem: Option<&str>) -> Result<Value, String> {
    let doc: LicenceDocument =
        serde_json::from_str(doc).map_err(|e| format!("not a licence document: {e}"))?;
    if doc.format != DOCUMENT_FORMAT {
        return Err(format!("unknown format {:?}", doc.format));
    }
    let pem = trusted_pem.unwrap_or(&doc.public_key_pem);
    let key = yiwang_crypto::seal::SealPublicKey::from_pem(&doc.distid, pem)
        .map_err(|e| format!("the seal's key: {e}"))?;
    if trusted_pem.is_some() {
        let named = yiwang_crypto::seal::SealPublicKey::from_pem(&doc.distid, &doc.public_key_pem)
            .map_err(|e| format!("the document's key: {e}"))?;
        if named != key {
            return Err("the document names another key than the trusted one".into());
        }
    }
    let sig = Base64::decode_vec(&doc.signature).map_err(|_| "the signature is not Base64")?;
    yiwang_crypto::seal::FastVerifier::new(key)
        .verify(doc.data.as_bytes(), &sig)
        .map_err(|_| {
            "the signature does not verify: the document was altered or forged".to_owned()
        })?;
    let data: Value =
        serde_json::from_str(&doc.data).map_err(|e| format!("the signed data: {e}"))?;
    if LicenceId::parse(data["id"].as_str().unwrap_or_default()).is_err() {
        return Err("the signed data has no valid licence identifier".into());
    }
    Ok(data)
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

/// The demo's seals and licence catalogue: a 电子证照专用章 for each organisation the demo
/// approvers work in, and a 食品经营许可证 bound to its 食品经营许可 items.
pub async fn load_demo(p: &Platform) -> Result<(), ServiceError> {
    let orgs = sqlx::query_scalar::<_, String>(
        "SELECT DISTINCT r.org FROM staff_roles r JOIN staff s ON s.id = r.staff_id \
         WHERE r.role = 'approver' AND s.username LIKE 'yl.%' ORDER BY r.org",
    )
    .fetch_all(p.db.pool())
    .await?;
    let master = p.master.get();
    for org in &orgs {
        let Some(o) = master.organisation(org) else {
            continue;
        };
        seals::create_as(
            p,
            "demo",
            seals::NewSeal {
                org_code: org.clone(),
                name: format!("{}电子证照专用章", o.name),
                seal_type: "99".into(),
                valid_years: 5,
                distid: None,
            },
        )
        .await?;
        let items = sqlx::query_scalar::<_, String>(
            "SELECT code FROM items WHERE org = $1 AND name = '食品经营许可' ORDER BY code",
        )
        .bind(org)
        .fetch_all(p.db.pool())
        .await?;
        if items.is_empty() {
            continue;
        }
        let field = |key: &str, label: &str, source: &str| TypeField {
            key: key.into(),
            label: label.into(),
            source: source.into(),
        };
        define_type_as(
            p,
            LicenceType {
                code: format!("{org}001"),
                name: "食品经营许可证".into(),
                holder_kind: "legal_person".into(),
                fields: vec![
                    field("operator", "经营者名称", "case:applicant_name"),
                    field("code", "社会信用代码（身份证号码）", "case:applicant_id"),
                    field("premises", "经营场所", "form:address"),
                    field("business", "主体业态", "text:食品销售经营者"),
                    field("case_no", "办件编号", "case:case_no"),
                ],
                validity_years: Some(5),
                layout: json!({ "title": "食品经营许可证", "seal": "bottom-right", "qr": "bottom-left" }),
                items,
            },
        )
        .await?;
    }
    Ok(())
}

/// 免证办: fills the materials of a new draft that are licences the applicant holds in the
/// library (valid, not expired; the material's name and the licence's name match), with
/// the licence's PDF at trust level A, and logs each use (the holder's consent: their own
/// application). One batch. Returns the slots filled.
pub(crate) async fn fill_from_library(
    p: &Platform,
    case_id: &str,
    item: &crate::catalogue::PublishedItem,
    holder_code: &str,
    (user_id, user_name): (&str, &str),
) -> Result<Vec<usize>, ServiceError> {
    let today = local_today(p.now()).to_string();
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
    let at = fmt_time(p.now());
    let mut b = Batch::default();
    let mut filled = Vec::new();
    for (slot, m) in item.guide.materials.iter().enumerate() {
        let Some((lid, _, file)) = held.iter().find(|(_, name, _)| names_match(&m.name, name))
        else {
            continue;
        };
        b.push(
            "INSERT INTO case_materials (case_id, slot, file_id, material, added_at, added_by, \
             trust) VALUES ($1, $2, $3, $4, $5, $6, 'A')",
            vec![
                case_id.into(),
                i64::try_from(slot).unwrap_or(0).into(),
                file.as_str().into(),
                m.name.as_str().into(),
                at.as_str().into(),
                format!("licence:{lid}").into(),
            ],
        );
        push_use(
            &mut b,
            lid,
            &at,
            (user_id, user_name, None),
            Some(case_id),
            "holder",
            "持证人申请办事时使用（免证办）",
        );
        filled.push(slot);
    }
    if !filled.is_empty() {
        b.commit_alone(&p.db).await.map_err(batch_error)?;
    }
    Ok(filled)
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
    let holder: Option<Option<String>> =
        sqlx::query_scalar("SELECT holder_user FROM licences WHERE id = $1")
            .bind(id)
            .fetch_optional(p.db.pool())
            .await?;
    if holder.flatten().as_deref() != Some(user_id) {
        return Err(ServiceError::NotFound {
            what: "证照",
            key: id.to_owned(),
        });
    }
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

/// A licence's full data for a department: either for a named case of the holder that the
/// staff member may handle (the holder applied: consent for that case), or on a legal basis
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
            if p.keys.pii.blind_index("licence.holder", &code) != index {
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
            let allowed = actor
                .assignments
                .iter()
                .any(|a| matches!(a.role, Role::Supervisor | Role::SystemAdmin));
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
    let data = p
        .keys
        .pii
        .decrypt("licence.data", &sealed)
        .map_err(|e| ServiceError::internal(format!("licence data: {e}")))?;
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
