//! The applicant's side of a case (网上申报, 我的办件): a draft for an item, its form and
//! materials, submission with a case number, corrections, withdrawal.
//!
//! Submission is idempotent: the caller sends a key (one per form page load); a retried request
//! with the same key finds the case it submitted instead of making a second.

use serde::Serialize;
use serde_json::{Map, Value, json};
use yiwang_domain::case::{CaseAction, CaseState};
use yiwang_domain::codes::{CaseNumber, ImplementationCode, MAX_DAILY_SEQUENCE};
use yiwang_domain::dict::HandlingForm;
use yiwang_domain::form::FormSpec;
use yiwang_domain::upload::UploadPolicy;
use yiwang_store::{Bind, Row, fmt_time};

use super::{ApplicantKind, Case, Change, NewRecord, check_rev, load, not_found};
use crate::catalogue::PublishedItem;
use crate::identity::users::User;
use crate::{FieldError, Platform, ServiceError};

/// Who a new case is for.
#[derive(Debug, Clone)]
pub struct NewApplicant {
    /// Person or enterprise.
    pub kind: ApplicantKind,
    /// Name.
    pub name: String,
    /// ID number (person) or credit code (enterprise), already parsed.
    pub id: String,
    /// Contact phone (may be empty).
    pub phone: String,
    /// The applicant's account, when there is one.
    pub user_id: Option<String>,
}

/// The published, active item a case is for.
pub(crate) async fn item_for_case(p: &Platform, code: &str) -> Result<PublishedItem, ServiceError> {
    let item = crate::catalogue::published(p, code).await?;
    if item.summary.state != yiwang_domain::item::ItemState::Active {
        return Err(ServiceError::Conflict(format!(
            "该事项当前不受理申请（{}） / the item takes no applications now",
            item.state_reason.clone().unwrap_or_default()
        )));
    }
    Ok(item)
}

/// A case about to be inserted: its row's columns, and the case as [`load`] will read it.
pub(crate) struct NewCase {
    /// The case as inserted (a draft, unless a change inserts it; see
    /// [`super::Change::into_insert`]).
    pub case: Case,
    columns: Vec<(&'static str, Bind)>,
}

impl NewCase {
    /// Adds the row's insertion to `b`, with `sets` in place of (or besides) its columns.
    pub(crate) fn push(self, b: &mut yiwang_store::Batch, sets: Vec<(&'static str, Bind)>) {
        let mut columns = self.columns;
        for (col, v) in sets {
            match columns.iter_mut().find(|(c, _)| *c == col) {
                Some(slot) => slot.1 = v,
                None => columns.push((col, v)),
            }
        }
        let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
        b.push(
            &format!(
                "INSERT INTO cases ({}) VALUES {}",
                names.join(", "),
                yiwang_store::batch::values(1, columns.len())
            ),
            columns.into_iter().map(|(_, v)| v).collect(),
        );
    }
}

/// A new draft case of `a` for the item (its row not yet written).
pub(crate) fn new_case(
    p: &Platform,
    item: &PublishedItem,
    a: &NewApplicant,
    channel: HandlingForm,
    created_by: &str,
    form: &Value,
) -> Result<NewCase, ServiceError> {
    let pii = &p.keys.pii;
    let enc = |field: &str, v: &str| {
        pii.encrypt(field, v)
            .map_err(|e| ServiceError::internal(format!("encrypt {field}: {e}")))
    };
    let masked = match a.kind {
        ApplicantKind::Person => yiwang_crypto::mask::mask_id_number(&a.id),
        ApplicantKind::Enterprise => yiwang_crypto::mask::mask_credit_code(&a.id),
    };
    let id = uuid::Uuid::now_v7().to_string();
    let at = p.now();
    let now = fmt_time(at);
    let g = &item.guide;
    let case = Case {
        id: id.clone(),
        case_no: None,
        item_code: item.summary.code.clone(),
        item_version: item.summary.version,
        item_name: g.name.clone(),
        org: item.summary.org.clone(),
        case_type: g.case_type.code().to_owned(),
        channel: channel.code().to_owned(),
        applicant_kind: a.kind,
        owner_user: a.user_id.clone(),
        applicant_name: a.name.clone(),
        applicant_id_masked: masked.clone(),
        state: CaseState::Draft,
        rev: 1,
        corrections: Vec::new(),
        promised_days: i64::from(g.promised_limit_days),
        due_at: None,
        paused_at: None,
        wf_instance: None,
        decision_opinion: String::new(),
        delivery: super::Delivery::default(),
        created_at: yiwang_store::parse_time(&now).unwrap_or(at),
        submitted_at: None,
        accepted_at: None,
        decided_at: None,
        delivered_at: None,
        rseq: 0,
        rhash: yiwang_crypto::chain::GENESIS.to_owned(),
    };
    let columns: Vec<(&'static str, Bind)> = vec![
        ("id", id.as_str().into()),
        ("item_code", item.summary.code.as_str().into()),
        ("item_version", item.summary.version.into()),
        ("item_name", g.name.as_str().into()),
        ("org", item.summary.org.as_str().into()),
        ("case_type", g.case_type.code().into()),
        ("channel", channel.code().into()),
        ("applicant_kind", a.kind.as_str().into()),
        ("owner_user", a.user_id.clone().into()),
        ("applicant_name", a.name.as_str().into()),
        ("applicant_id_enc", enc("applicant_id", &a.id)?.into()),
        (
            "applicant_id_bidx",
            pii.blind_index("applicant_id", &a.id).into(),
        ),
        ("applicant_id_masked", masked.into()),
        ("phone_enc", enc("phone", &a.phone)?.into()),
        ("form_enc", enc("case_form", &form.to_string())?.into()),
        ("key_id", pii.current_id().into()),
        ("state", CaseState::Draft.as_str().into()),
        ("rev", 1_i64.into()),
        ("corrections", "[]".into()),
        ("promised_days", i64::from(g.promised_limit_days).into()),
        ("decision_opinion", "".into()),
        ("delivery", "{}".into()),
        ("created_at", now.as_str().into()),
        ("created_by", created_by.into()),
        ("updated_at", now.as_str().into()),
        ("rseq", 0_i64.into()),
        ("rhash", yiwang_crypto::chain::GENESIS.into()),
    ];
    Ok(NewCase { case, columns })
}

/// Inserts a new case row (a draft) as a transaction of its own; returns the case's id.
pub(crate) async fn insert_case(
    p: &Platform,
    item: &PublishedItem,
    a: &NewApplicant,
    channel: HandlingForm,
    created_by: &str,
) -> Result<String, ServiceError> {
    let mut b = yiwang_store::Batch::default();
    let new = new_case(p, item, a, channel, created_by, &json!({}))?;
    let id = new.case.id.clone();
    new.push(&mut b, Vec::new());
    commit_new(p, b).await?;
    Ok(id)
}

/// Commits a batch that only inserts new rows under fresh ids.
async fn commit_new(p: &Platform, b: yiwang_store::Batch) -> Result<(), ServiceError> {
    b.commit_alone(&p.db).await.map_err(|e| match e {
        // Fresh ids are unique: nothing can clash.
        yiwang_store::BatchError::Conflict => ServiceError::internal("new id clash"),
        yiwang_store::BatchError::Store(e) => e.into(),
    })
}

/// Whom a signed-in citizen applies for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyAs<'a> {
    /// Themself (个人办事).
    Myself,
    /// An enterprise, by 统一社会信用代码, as its legal representative or its agent (法人办事).
    Enterprise(&'a str),
}

impl<'a> ApplyAs<'a> {
    /// From a form or request field: empty or `self` for oneself, else a credit code.
    pub fn from_field(v: &'a str) -> ApplyAs<'a> {
        match v.trim() {
            "" | "self" => ApplyAs::Myself,
            code => ApplyAs::Enterprise(code),
        }
    }
}

/// Starts a draft application of the signed-in citizen, for themself, for an item that is
/// handled online.
pub async fn start_draft(p: &Platform, user: &User, item_code: &str) -> Result<Case, ServiceError> {
    start_draft_as(p, user, item_code, ApplyAs::Myself).await
}

/// The applicant of an online application by `user` as `who`: the citizen themself when the
/// item serves persons, or an enterprise they may act for on this item when it serves legal
/// persons (its name and credit code; the contact phone is the acting citizen's).
async fn online_applicant(
    p: &Platform,
    user: &User,
    item: &PublishedItem,
    who: ApplyAs<'_>,
) -> Result<NewApplicant, ServiceError> {
    let g = &item.guide;
    let (name, id_number, phone) = crate::identity::users::identity_of(p, &user.id).await?;
    match who {
        ApplyAs::Myself => {
            if !g.service_objects.iter().any(|o| o.is_person()) {
                return Err(ServiceError::Conflict(
                    "该事项面向法人，请以企业身份办理 / this item is for legal persons: apply for an enterprise"
                        .into(),
                ));
            }
            Ok(NewApplicant {
                kind: ApplicantKind::Person,
                name,
                id: id_number,
                phone,
                user_id: Some(user.id.clone()),
            })
        }
        ApplyAs::Enterprise(code) => {
            let code = yiwang_domain::codes::CreditCode::parse(code.trim()).map_err(|_| {
                ServiceError::invalid(
                    "credit_code",
                    "统一社会信用代码格式不正确",
                    "not a unified social credit code",
                )
            })?;
            if !g.service_objects.iter().any(|o| !o.is_person()) {
                return Err(ServiceError::Conflict(
                    "该事项面向个人，请以个人身份办理 / this item is for persons: apply for yourself"
                        .into(),
                ));
            }
            let enterprise = crate::identity::enterprises::enterprise(p, code.as_str()).await?;
            let allowed = match &enterprise {
                Some(_) => {
                    crate::identity::enterprises::may_act_for(
                        p,
                        &user.id,
                        code.as_str(),
                        Some(&item.basic_code),
                    )
                    .await?
                }
                None => false,
            };
            match enterprise {
                Some(e) if allowed => Ok(NewApplicant {
                    kind: ApplicantKind::Enterprise,
                    name: e.name,
                    id: code.as_str().to_owned(),
                    phone,
                    user_id: Some(user.id.clone()),
                }),
                _ => Err(ServiceError::Forbidden(
                    "您不是该企业的法定代表人，也没有该企业办理此事项的授权 / you may not act for this enterprise on this item"
                        .into(),
                )),
            }
        }
    }
}

/// The published item for an online application by `user`: it must be handled online and
/// `user`'s real-name level must be high enough.
async fn online_item(
    p: &Platform,
    user: &User,
    item_code: &str,
) -> Result<PublishedItem, ServiceError> {
    let item = item_for_case(p, item_code).await?;
    let g = &item.guide;
    if !g.handling_forms.contains(&HandlingForm::Online) {
        return Err(ServiceError::Conflict(
            "该事项不支持网上办理，请到窗口办理 / this item is not handled online: apply at a window"
                .into(),
        ));
    }
    if user.level < g.min_level {
        return Err(ServiceError::Forbidden(format!(
            "办理该事项需要{}实名认证，请先完成认证 / this item needs real-name level {:?}",
            g.min_level.label_zh(),
            g.min_level
        )));
    }
    Ok(item)
}

/// One file of an application made at once ([`apply_at_once`]).
#[derive(Debug, Clone, Copy)]
pub struct NewFile<'a> {
    /// The material's position in the item's guide.
    pub slot: usize,
    /// The file's name as the applicant has it.
    pub name: &'a str,
    /// Its content.
    pub bytes: &'a [u8],
}

/// Applies online in one step (一次提交), as department systems and apps do: the form and the
/// files of every required material, submitted at once. Everything is checked before anything
/// is written — every problem of the form, the files and the missing materials reported
/// together, nothing kept — then the case is created with its form and files in one
/// transaction and submitted in the next (a case number, the first process record). A material
/// the applicant holds as a valid licence need not be sent: it is taken from the library at
/// trust level A (免证办). The same non-empty `submit_key` again returns the case it submitted.
pub async fn apply_at_once(
    p: &Platform,
    user: &User,
    item_code: &str,
    who: ApplyAs<'_>,
    values: &Map<String, Value>,
    files: &[NewFile<'_>],
    submit_key: &str,
) -> Result<Case, ServiceError> {
    if let Some(c) = submitted_by_key(p, user, submit_key).await? {
        return Ok(c);
    }
    let item = online_item(p, user, item_code).await?;
    let a = online_applicant(p, user, &item, who).await?;
    let mut problems = Vec::new();
    let form = match check_form(p, &item.summary.code, values, false).await {
        Ok(v) => v,
        Err(ServiceError::Invalid(mut e)) => {
            problems.append(&mut e);
            Value::Null
        }
        Err(e) => return Err(e),
    };
    let materials = &item.guide.materials;
    let mut kinds = Vec::with_capacity(files.len());
    for (k, f) in files.iter().enumerate() {
        if f.slot >= materials.len() {
            problems.push(FieldError::new(
                format!("files[{k}]"),
                format!("没有第{}项申请材料", f.slot + 1),
                format!("there is no material {}", f.slot),
            ));
            continue;
        }
        match check_upload(f.name, f.bytes) {
            Ok(kind) => kinds.push(kind),
            Err(ServiceError::Invalid(e)) => problems.extend(
                e.into_iter()
                    .map(|e| FieldError::new(format!("files[{k}]"), e.message_zh, e.message_en)),
            ),
            Err(e) => return Err(e),
        }
    }
    // 免证办: a material the applicant holds as a licence and did not upload comes from the
    // library (trust level A).
    let mut library = crate::licences::from_library(p, &item, &a.id).await?;
    library.retain(|l| !files.iter().any(|f| f.slot == l.slot));
    problems.extend(missing_materials(&item, |i| {
        files.iter().any(|f| f.slot == i) || library.iter().any(|l| l.slot == i)
    }));
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    // The files go to the object store first: a failure after it leaves objects nothing
    // refers to, never a row without its object.
    let mut stored = Vec::with_capacity(files.len());
    for (f, kind) in files.iter().zip(kinds) {
        let (id, s) = put_file(p, f.bytes).await?;
        stored.push((id, kind, s));
    }
    // The case is inserted as submitted, with its number, first record and materials: one
    // transaction (its number is drawn first, on its own; see `submit_as`).
    let no = next_case_number(p, &item.summary.code).await?;
    let now = fmt_time(p.now());
    let new = new_case(p, &item, &a, HandlingForm::Online, &user.id, &form)?;
    let draft = new.case.clone();
    let id = draft.id.clone();
    let masked = yiwang_crypto::mask::mask_name(&draft.applicant_name);
    let mut b = submission(
        &draft,
        &no,
        (&masked, &user.id),
        "网上申报",
        submit_key,
        &now,
    )
    .into_insert(p, new)?;
    for (f, (file_id, kind, s)) in files.iter().zip(&stored) {
        push_material(
            &mut b,
            &id,
            f.slot,
            &materials[f.slot].name,
            (file_id, &clean_name(f.name), kind, s),
            &user.id,
            &now,
        );
    }
    crate::licences::push_from_library(&mut b, &id, &library, (&user.id, &a.name), &now);
    match b.commit_alone(&p.db).await {
        Ok(()) => {}
        // The same key was submitted at the same time by another request: its case.
        Err(yiwang_store::BatchError::Conflict) => {
            return match submitted_by_key(p, user, submit_key).await? {
                Some(c) => Ok(c),
                None => Err(super::conflict()),
            };
        }
        Err(yiwang_store::BatchError::Store(e)) => return Err(e.into()),
    }
    let c = load(p, &id).await?;
    super::notify_applicant(p, &c, "已提交，等待受理").await;
    Ok(c)
}

/// The case `user` submitted with `submit_key`, if any; a key of somebody else's submission is
/// a conflict.
async fn submitted_by_key(
    p: &Platform,
    user: &User,
    submit_key: &str,
) -> Result<Option<Case>, ServiceError> {
    let key = submit_key_value(submit_key);
    let Bind::Text(Some(key)) = key else {
        return Ok(None);
    };
    let id = sqlx::query_scalar::<_, String>("SELECT id FROM cases WHERE submit_key = $1")
        .bind(&key)
        .fetch_optional(p.db.pool())
        .await?;
    let Some(id) = id else {
        return Ok(None);
    };
    let c = load(p, &id).await?;
    if c.owner_user.as_deref() != Some(user.id.as_str()) {
        return Err(ServiceError::Conflict(
            "该 Idempotency-Key 已用于其他申请 / the Idempotency-Key was used for another application"
                .into(),
        ));
    }
    Ok(Some(c))
}

/// Starts a draft application of the signed-in citizen for `who` (themself or an enterprise
/// they may act for) for an item that is handled online.
pub async fn start_draft_as(
    p: &Platform,
    user: &User,
    item_code: &str,
    who: ApplyAs<'_>,
) -> Result<Case, ServiceError> {
    let item = online_item(p, user, item_code).await?;
    let a = online_applicant(p, user, &item, who).await?;
    let id = insert_case(p, &item, &a, HandlingForm::Online, &user.id).await?;
    // 免证办: materials that are licences the applicant holds are filled in from the library.
    crate::licences::fill_from_library(p, &id, &item, &a.id, (&user.id, &a.name)).await?;
    load(p, &id).await
}

/// The applicant's own case (`NotFound` for anybody else's).
pub async fn mine(p: &Platform, user: &User, id: &str) -> Result<Case, ServiceError> {
    let c = load(p, id).await?;
    if c.owner_user.as_deref() != Some(user.id.as_str()) {
        return Err(not_found(id));
    }
    Ok(c)
}

/// Every case of the applicant, newest first.
pub async fn list_mine(p: &Platform, user: &User) -> Result<Vec<Case>, ServiceError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM cases WHERE owner_user = $1 ORDER BY updated_at DESC LIMIT 500",
        super::CASE_COLUMNS
    )))
    .bind(&user.id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(|r| super::case_row(p, r)).collect()
}

/// The form used for items without one of their own: a free-text statement of what is applied
/// for (申请事项说明), optional.
pub const DEFAULT_FORM: &str = r#"{"fields": [{"key": "note", "label": "申请事项说明", "kind": {"type": "text", "max_chars": 2000}, "help": "简要说明申请的内容和理由"}]}"#;

/// The application form of an item: its own (`item_forms`), else [`DEFAULT_FORM`].
pub async fn form_spec(p: &Platform, item_code: &str) -> Result<FormSpec, ServiceError> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT spec FROM item_forms WHERE item_code = $1")
            .bind(item_code)
            .fetch_optional(p.db.pool())
            .await?;
    FormSpec::parse_spec(text.as_deref().unwrap_or(DEFAULT_FORM)).map_err(|e| {
        ServiceError::internal(format!(
            "the stored form of {item_code} does not parse: {}",
            e.iter()
                .map(|x| x.message_en())
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })
}

/// Sets an item's application form from its JSON definition (事项管理员 of the item's
/// organisation); every problem of the definition is reported, nothing is stored then.
pub async fn set_form_spec(
    p: &Platform,
    actor: &crate::identity::staff::Staff,
    item_code: &str,
    spec: &str,
) -> Result<FormSpec, ServiceError> {
    let item = crate::catalogue::published(p, item_code).await?;
    if !crate::identity::authz::may_manage_items(actor, &item.summary.org) {
        return Err(ServiceError::Forbidden(
            "只有该事项所属部门的事项管理员可以设置申请表单 / only the item's managers set its form".into(),
        ));
    }
    let parsed = FormSpec::parse_spec(spec).map_err(|problems| {
        ServiceError::Invalid(
            problems
                .iter()
                .map(|x| {
                    FieldError::new(
                        format!("spec.{}", x.field.clone().unwrap_or_default()),
                        x.message_zh(),
                        x.message_en(),
                    )
                })
                .collect(),
        )
    })?;
    let at = p.now();
    let now = fmt_time(at);
    let mut tx = p.db.begin().await?;
    sqlx::query(
        "INSERT INTO item_forms (item_code, spec, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (item_code) DO UPDATE SET spec = $2, updated_at = $3, updated_by = $4",
    )
    .bind(item_code)
    .bind(serde_json::to_string(&parsed)?)
    .bind(&now)
    .bind(&actor.id)
    .execute(&mut *tx)
    .await?;
    crate::identity::audit::append(
        &mut tx,
        at,
        &crate::identity::audit::Entry::success(
            &actor.username,
            "item.form_set",
            item_code,
            serde_json::json!({ "fields": parsed.fields().len() }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(parsed)
}

/// Checks and normalises form values against the item's form (all problems at once); `draft`
/// accepts missing required values. Returns the normalised values as stored.
pub(crate) async fn check_form(
    p: &Platform,
    item_code: &str,
    values: &Map<String, Value>,
    draft: bool,
) -> Result<Value, ServiceError> {
    let spec = form_spec(p, item_code).await?;
    let today = p.now().with_timezone(&p.calendar().offset()).date_naive();
    let parsed = if draft {
        spec.parse_draft(values, today)
    } else {
        spec.parse_values(values, today)
    };
    parsed.map(|d| d.to_json()).map_err(|errs| {
        ServiceError::Invalid(
            errs.iter()
                .map(|e| {
                    FieldError::new(format!("form.{}", e.name()), e.message_zh(), e.message_en())
                })
                .collect(),
        )
    })
}

/// Form values from an HTML form's pairs (the page's own fields removed), as a draft: malformed
/// values are refused, missing ones are fine. The JSON the other functions take.
pub async fn values_from_pairs(
    p: &Platform,
    item_code: &str,
    pairs: &[(String, String)],
) -> Result<Map<String, Value>, ServiceError> {
    let spec = form_spec(p, item_code).await?;
    let today = p.now().with_timezone(&p.calendar().offset()).date_naive();
    spec.parse_draft_pairs(pairs, today)
        .map(|d| d.to_json_map())
        .map_err(|errs| {
            ServiceError::Invalid(
                errs.iter()
                    .map(|e| {
                        FieldError::new(
                            format!("form.{}", e.name()),
                            e.message_zh(),
                            e.message_en(),
                        )
                    })
                    .collect(),
            )
        })
}

/// Saves the form of a draft (or of a case awaiting corrections).
pub async fn save_form(
    p: &Platform,
    user: &User,
    id: &str,
    values: &Map<String, Value>,
) -> Result<Case, ServiceError> {
    let c = mine(p, user, id).await?;
    store_form(p, &c, values).await
}

/// Checks (as a draft) and stores the form of a case still open to changes (a draft, or one
/// awaiting corrections), under its `rev`.
pub(crate) async fn store_form(
    p: &Platform,
    c: &Case,
    values: &Map<String, Value>,
) -> Result<Case, ServiceError> {
    if !matches!(c.state, CaseState::Draft | CaseState::Correction) {
        return Err(ServiceError::Conflict(
            "办件已提交，不能修改 / the case was submitted and cannot be changed".into(),
        ));
    }
    let form = check_form(p, &c.item_code, values, true).await?;
    let enc = p
        .keys
        .pii
        .encrypt("case_form", &form.to_string())
        .map_err(|e| ServiceError::internal(format!("encrypt form: {e}")))?;
    // `key_id` stays: it names the oldest key the row's fields may be under (see
    // `rotate_keys`), and the new form is under the current one.
    super::update_fields(p, c, vec![("form_enc", enc.into())]).await
}

/// One file handed in for a material.
#[derive(Debug, Clone, Serialize)]
pub struct MaterialFile {
    /// The material's position in the guide.
    pub slot: usize,
    /// The material's name.
    pub material: String,
    /// File id.
    pub file_id: String,
    /// File name as uploaded.
    pub name: String,
    /// Content type found (`pdf`, `jpeg`, `png`, `ofd`).
    pub kind: String,
    /// Size in bytes.
    pub size: i64,
    /// SM3.
    pub sm3: String,
    /// Trust level: `A` (an electronic licence from the library), `B` (checked against the
    /// original at a window), `C` (uploaded), `D` (the applicant's promise).
    pub trust: String,
}

/// The files of a case, by material (the caller has checked access).
pub async fn materials(p: &Platform, case_id: &str) -> Result<Vec<MaterialFile>, ServiceError> {
    let rows = sqlx::query(
        "SELECT m.slot, m.material, m.trust, f.id, f.name, f.kind, f.size, f.sm3 \
         FROM case_materials m JOIN files f ON f.id = m.file_id WHERE m.case_id = $1 \
         ORDER BY m.slot, m.added_at",
    )
    .bind(case_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MaterialFile {
                slot: usize::try_from(r.try_get::<i64, _>("slot")?).unwrap_or(0),
                material: r.try_get("material")?,
                file_id: r.try_get("id")?,
                name: r.try_get("name")?,
                kind: r.try_get("kind")?,
                size: r.try_get("size")?,
                sm3: r.try_get("sm3")?,
                trust: r.try_get("trust")?,
            })
        })
        .collect()
}

/// A file's bytes, checked against its recorded SM3 (the caller has checked access to the
/// case); only files of that case.
/// A notice not yet read is rendered now (see [`super::notices`]).
pub async fn file(
    p: &Platform,
    case_id: &str,
    file_id: &str,
) -> Result<(String, String, Vec<u8>), ServiceError> {
    let r = sqlx::query(
        "SELECT f.name, f.kind, f.sm3 FROM files f WHERE f.id = $1 AND (EXISTS (SELECT 1 FROM \
         case_materials m WHERE m.case_id = $2 AND m.file_id = f.id) OR EXISTS (SELECT 1 FROM \
         case_notices d WHERE d.case_id = $2 AND d.file_id = f.id))",
    )
    .bind(file_id)
    .bind(case_id)
    .fetch_optional(p.db.pool())
    .await?;
    let Some(r) = r else {
        return super::notices::render_pending(p, case_id, file_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                what: "文件",
                key: file_id.to_owned(),
            });
    };
    let sm3: String = r.try_get("sm3")?;
    let bytes = p
        .outside
        .files
        .get(file_id, &sm3)
        .await
        .map_err(|e| ServiceError::internal(format!("file {file_id}: {e}")))?;
    Ok((r.try_get("name")?, r.try_get("kind")?, bytes))
}

/// How long a watermarked copy of a material checked against its original (trust B) is valid.
const CHECKED_COPY_MONTHS: u32 = 12;

/// A file of a case as staff receive it: a material of trust level A (a licence from the
/// library) or B (checked against its original) is a watermarked copy (水印副本, a PDF with
/// "此件由××机构提供，仅供办理政务服务事项时使用，有效期至…" on every page): the licence's issuer and
/// validity, or the handling organisation and a year from the check. Other files (uploads not
/// checked, notices, OFD files, which cannot be stamped) are as stored. The caller has checked
/// access to the case.
pub async fn staff_file(
    p: &Platform,
    case_id: &str,
    file_id: &str,
) -> Result<(String, String, Vec<u8>), ServiceError> {
    let (name, kind, bytes) = file(p, case_id, file_id).await?;
    let row = sqlx::query(
        "SELECT m.trust, m.added_by, m.verified_at FROM case_materials m WHERE m.case_id = $1 \
         AND m.file_id = $2 AND m.trust IN ('A', 'B') ORDER BY m.trust LIMIT 1",
    )
    .bind(case_id)
    .bind(file_id)
    .fetch_optional(p.db.pool())
    .await?;
    let media = match kind.as_str() {
        "pdf" => "application/pdf",
        "jpeg" => "image/jpeg",
        "png" => "image/png",
        _ => "",
    };
    let (Some(row), Some(copy_kind)) = (row, yiwang_documents::CopyKind::from_media_type(media))
    else {
        return Ok((name, kind, bytes));
    };
    let trust: String = row.try_get("trust")?;
    let date = |d: chrono::NaiveDate| yiwang_documents::chinese_date(d);
    let (provider, until) = if trust == "A" {
        let added_by: String = row.try_get("added_by")?;
        let licence = added_by.strip_prefix("licence:").unwrap_or_default();
        let l = sqlx::query("SELECT issuer_name, valid_to FROM licences WHERE id = $1")
            .bind(licence)
            .fetch_optional(p.db.pool())
            .await?
            .ok_or_else(|| ServiceError::internal(format!("material of licence {licence}")))?;
        let valid_to: Option<String> = l.try_get("valid_to")?;
        let until = valid_to
            .and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
            .map_or_else(|| "长期".to_owned(), date);
        (l.try_get::<String, _>("issuer_name")?, until)
    } else {
        let c = super::load(p, case_id).await?;
        let org = p
            .master
            .get()
            .organisation(&c.org)
            .map_or_else(|| c.org.clone(), |o| o.name.clone());
        let checked: Option<String> = row.try_get("verified_at")?;
        let checked = checked
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map_or_else(|| p.now(), |t| t.with_timezone(&chrono::Utc));
        let day = checked.with_timezone(&p.calendar().offset()).date_naive();
        (
            org,
            date(day + chrono::Months::new(CHECKED_COPY_MONTHS) - chrono::Days::new(1)),
        )
    };
    let text = yiwang_documents::watermark_text(&provider, &until);
    let renderer = super::notices::renderer()
        .as_ref()
        .map_err(|e| ServiceError::Unavailable(format!("副本无法生成（字体）：{e}")))?
        .clone();
    let (copy, bytes) =
        tokio::task::spawn_blocking(move || (renderer.watermark(copy_kind, &bytes, &text), bytes))
            .await
            .map_err(|e| ServiceError::internal(format!("watermark task: {e}")))?;
    match copy {
        Ok(copy) => {
            let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
            Ok((format!("{stem}（副本）.pdf"), "pdf".into(), copy))
        }
        // A file our reader cannot take apart (it passed the upload checks) is still needed to
        // handle the case: it is handed over as stored, and the failure logged.
        Err(e) => {
            tracing::warn!(case = case_id, file = file_id, error = %e, "no watermarked copy");
            Ok((name, kind, bytes))
        }
    }
}

/// Checks an upload's content (type by content, size) and stores it; returns (file id, kind).
pub(crate) async fn store_upload(
    p: &Platform,
    owner: &str,
    name: &str,
    bytes: &[u8],
) -> Result<(String, String, yiwang_connectors::objects::Stored), ServiceError> {
    let kind = check_upload(name, bytes)?;
    let (id, stored) = put_file(p, bytes).await?;
    let _ = owner;
    Ok((id, kind, stored))
}

/// Stores checked bytes in the object store under a new file id.
async fn put_file(
    p: &Platform,
    bytes: &[u8],
) -> Result<(String, yiwang_connectors::objects::Stored), ServiceError> {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let stored = p
        .outside
        .files
        .put(&id, bytes)
        .await
        .map_err(|e| ServiceError::Unavailable(format!("文件存储暂时无法使用：{e}")))?;
    Ok((id, stored))
}

/// The content type of an upload (by its bytes, never its name: PDF, JPEG, PNG or OFD, at most
/// 20 MiB, an extension that does not contradict the content), or why it is refused.
pub(crate) fn check_upload(name: &str, bytes: &[u8]) -> Result<String, ServiceError> {
    UploadPolicy::default()
        .check(name, bytes)
        .map(|k| k.name().to_ascii_lowercase())
        .map_err(|e| {
            ServiceError::Invalid(vec![FieldError::new(
                "file",
                e.message_zh(),
                e.message_en(),
            )])
        })
}

/// Adds a file to a material of the applicant's draft (or of a case awaiting corrections).
pub async fn attach(
    p: &Platform,
    user: &User,
    id: &str,
    slot: usize,
    name: &str,
    bytes: &[u8],
) -> Result<MaterialFile, ServiceError> {
    let c = mine(p, user, id).await?;
    if !matches!(c.state, CaseState::Draft | CaseState::Correction) {
        return Err(ServiceError::Conflict(
            "办件已提交，不能再上传材料 / the case was submitted: no more uploads".into(),
        ));
    }
    attach_as(p, &c, &user.id, slot, name, bytes).await
}

/// Adds a file to a material of a case (applicant or window), checked and stored.
pub(crate) async fn attach_as(
    p: &Platform,
    c: &Case,
    by: &str,
    slot: usize,
    name: &str,
    bytes: &[u8],
) -> Result<MaterialFile, ServiceError> {
    let item = crate::catalogue::published(p, &c.item_code).await?;
    let Some(material) = item.guide.materials.get(slot) else {
        return Err(ServiceError::Invalid(vec![FieldError::new(
            "slot",
            "没有这项申请材料",
            "no such material",
        )]));
    };
    let name = clean_name(name);
    let (file_id, kind, stored) = store_upload(p, by, &name, bytes).await?;
    let now = fmt_time(p.now());
    let mut b = yiwang_store::Batch::default();
    push_material(
        &mut b,
        &c.id,
        slot,
        &material.name,
        (&file_id, &name, &kind, &stored),
        by,
        &now,
    );
    // A fresh file id is unique and a slot takes several files: nothing else can clash.
    commit_new(p, b).await?;
    Ok(MaterialFile {
        slot,
        material: material.name.clone(),
        file_id,
        name,
        kind,
        size: i64::try_from(stored.size).unwrap_or(i64::MAX),
        sm3: stored.sm3,
        trust: "C".into(),
    })
}

/// Adds the rows of a stored file handed in for material `slot` of case `case_id` to `b`:
/// the file (id, name, kind, object) and its place among the case's materials.
fn push_material(
    b: &mut yiwang_store::Batch,
    case_id: &str,
    slot: usize,
    material: &str,
    (file_id, name, kind, stored): (&str, &str, &str, &yiwang_connectors::objects::Stored),
    by: &str,
    now: &str,
) {
    b.push(
        "INSERT INTO files (id, name, kind, size, sm3, owner, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            file_id.into(),
            name.into(),
            kind.into(),
            i64::try_from(stored.size).unwrap_or(i64::MAX).into(),
            stored.sm3.as_str().into(),
            by.into(),
            now.into(),
        ],
    );
    b.push(
        "INSERT INTO case_materials (case_id, slot, file_id, material, added_at, added_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            case_id.into(),
            i64::try_from(slot).unwrap_or(0).into(),
            file_id.into(),
            material.into(),
            now.into(),
            by.into(),
        ],
    );
}

/// A file the applicant handed in for one of their cases (我的材料), offered for a new one.
#[derive(Debug, Clone, Serialize)]
pub struct MyFile {
    /// File id.
    pub file_id: String,
    /// File name as uploaded.
    pub name: String,
    /// Content type found.
    pub kind: String,
    /// Size in bytes.
    pub size: i64,
    /// The material it was handed in for.
    pub material: String,
    /// The case's number (none for a draft).
    pub case_no: Option<String>,
    /// When it was handed in.
    pub added_at: String,
}

/// 我的材料: the files of the applicant's cases, newest first, each once (at most 200).
pub async fn my_files(p: &Platform, user: &User) -> Result<Vec<MyFile>, ServiceError> {
    let rows = sqlx::query(
        "SELECT f.id, f.name, f.kind, f.size, m.material, c.case_no, m.added_at \
         FROM case_materials m JOIN cases c ON c.id = m.case_id JOIN files f ON f.id = m.file_id \
         WHERE c.owner_user = $1 ORDER BY m.added_at DESC, f.id LIMIT 1000",
    )
    .bind(&user.id)
    .fetch_all(p.db.pool())
    .await?;
    let mut out: Vec<MyFile> = Vec::new();
    for r in rows {
        let file_id: String = r.try_get("id")?;
        if out.iter().any(|f| f.file_id == file_id) {
            continue;
        }
        out.push(MyFile {
            file_id,
            name: r.try_get("name")?,
            kind: r.try_get("kind")?,
            size: r.try_get("size")?,
            material: r.try_get("material")?,
            case_no: r.try_get("case_no")?,
            added_at: r.try_get("added_at")?,
        });
        if out.len() == 200 {
            break;
        }
    }
    Ok(out)
}

/// Hands in a file from 我的材料 for a material of the applicant's draft (or of a case awaiting
/// corrections) instead of uploading it again: the file must belong to one of the applicant's
/// cases; it is linked, not copied, so its recorded SM3 still vouches for it.
pub async fn reuse(
    p: &Platform,
    user: &User,
    id: &str,
    slot: usize,
    file_id: &str,
) -> Result<MaterialFile, ServiceError> {
    let c = mine(p, user, id).await?;
    if !matches!(c.state, CaseState::Draft | CaseState::Correction) {
        return Err(ServiceError::Conflict(
            "办件已提交，不能再添加材料 / the case was submitted: no more materials".into(),
        ));
    }
    let item = crate::catalogue::published(p, &c.item_code).await?;
    let Some(material) = item.guide.materials.get(slot) else {
        return Err(ServiceError::invalid(
            "slot",
            "没有这项申请材料",
            "no such material",
        ));
    };
    let Some(f) = sqlx::query(
        "SELECT f.id, f.name, f.kind, f.size, f.sm3 FROM files f WHERE f.id = $1 AND EXISTS \
         (SELECT 1 FROM case_materials m JOIN cases c ON c.id = m.case_id \
          WHERE m.file_id = f.id AND c.owner_user = $2)",
    )
    .bind(file_id)
    .bind(&user.id)
    .fetch_optional(p.db.pool())
    .await?
    else {
        return Err(ServiceError::invalid(
            "file",
            "“我的材料”中没有这个文件",
            "no such file among your materials",
        ));
    };
    sqlx::query(
        "INSERT INTO case_materials (case_id, slot, file_id, material, added_at, added_by) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id, slot, file_id) DO NOTHING",
    )
    .bind(&c.id)
    .bind(i64::try_from(slot).unwrap_or(0))
    .bind(file_id)
    .bind(&material.name)
    .bind(fmt_time(p.now()))
    .bind(&user.id)
    .execute(p.db.writer())
    .await?;
    Ok(MaterialFile {
        slot,
        material: material.name.clone(),
        file_id: f.try_get("id")?,
        name: f.try_get("name")?,
        kind: f.try_get("kind")?,
        size: f.try_get("size")?,
        sm3: f.try_get("sm3")?,
        trust: "C".into(),
    })
}

/// A file name fit to show and to send back in a download header: no path, no control
/// characters, at most 100 characters.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let s: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(100)
        .collect();
    if s.trim().is_empty() {
        "材料".into()
    } else {
        s
    }
}

/// Removes a file from a material of the applicant's draft (or correction).
pub async fn detach(
    p: &Platform,
    user: &User,
    id: &str,
    file_id: &str,
) -> Result<(), ServiceError> {
    let c = mine(p, user, id).await?;
    if !matches!(c.state, CaseState::Draft | CaseState::Correction) {
        return Err(ServiceError::Conflict(
            "办件已提交，不能删除材料 / the case was submitted".into(),
        ));
    }
    sqlx::query("DELETE FROM case_materials WHERE case_id = $1 AND file_id = $2")
        .bind(id)
        .bind(file_id)
        .execute(p.db.writer())
        .await?;
    Ok(())
}

/// Every problem keeping a case from being submitted: form values and required materials.
pub(crate) async fn completeness(p: &Platform, c: &Case) -> Result<Value, ServiceError> {
    let item = crate::catalogue::published(p, &c.item_code).await?;
    let values = super::form_values(p, &c.id).await?;
    let empty = Map::new();
    let mut problems = Vec::new();
    let form = match check_form(p, &c.item_code, values.as_object().unwrap_or(&empty), false).await
    {
        Ok(v) => v,
        Err(ServiceError::Invalid(mut e)) => {
            problems.append(&mut e);
            Value::Null
        }
        Err(e) => return Err(e),
    };
    let have: Vec<usize> = materials(p, &c.id).await?.iter().map(|m| m.slot).collect();
    problems.extend(missing_materials(&item, |i| have.contains(&i)));
    if problems.is_empty() {
        Ok(form)
    } else {
        Err(ServiceError::Invalid(problems))
    }
}

/// A field error for each material the item requires unconditionally that `have` lacks.
fn missing_materials(item: &PublishedItem, have: impl Fn(usize) -> bool) -> Vec<FieldError> {
    item.guide
        .materials
        .iter()
        .enumerate()
        .filter(|(i, m)| m.required && m.condition.is_none() && !have(*i))
        .map(|(i, m)| {
            FieldError::new(
                format!("material[{i}]"),
                format!("请上传“{}”", m.name),
                format!("upload \u{201c}{}\u{201d}", m.name),
            )
        })
        .collect()
}

/// Allocates the next case number of an item for today (China time), committed at once.
pub(crate) async fn next_case_number(
    p: &Platform,
    item_code: &str,
) -> Result<CaseNumber, ServiceError> {
    let item = ImplementationCode::parse(item_code)
        .map_err(|e| ServiceError::internal(format!("item code {item_code}: {e}")))?;
    let date = p.now().with_timezone(&p.calendar().offset()).date_naive();
    let prefix = format!("{}{}", item.as_str(), date.format("%Y%m%d"));
    let mut b = yiwang_store::Batch::default();
    b.guard(
        "INSERT INTO case_sequences (prefix, last) VALUES ($1, 1) ON CONFLICT (prefix) \
         DO UPDATE SET last = case_sequences.last + 1 RETURNING last AS k",
        vec![prefix.into()],
    );
    let last = b.next_value(&p.db).await.map_err(|e| match e {
        yiwang_store::BatchError::Store(e) => ServiceError::from(e),
        yiwang_store::BatchError::Conflict => ServiceError::internal("case number: no row"),
    })?;
    u16::try_from(last)
        .ok()
        .filter(|n| *n <= MAX_DAILY_SEQUENCE)
        .and_then(|n| CaseNumber::new(&item, date, n))
        .ok_or_else(|| {
            ServiceError::Unavailable(format!(
                "该事项今日办件编号已用完（{MAX_DAILY_SEQUENCE}件） / today's case numbers of this item are used up"
            ))
        })
}

/// Submits the applicant's draft: the form and every required material must be complete.
/// `submit_key` identifies this submission: the same key again returns the same case.
pub async fn submit(
    p: &Platform,
    user: &User,
    id: &str,
    submit_key: &str,
    rev: Option<i64>,
) -> Result<Case, ServiceError> {
    let c = mine(p, user, id).await?;
    if c.applicant_kind == ApplicantKind::Enterprise && c.state == CaseState::Draft {
        // A grant may have been revoked, or may have lapsed, since the draft was started.
        let code = super::applicant_id(p, &c.id).await?;
        let item = crate::catalogue::published(p, &c.item_code).await?;
        if !crate::identity::enterprises::may_act_for(p, &user.id, &code, Some(&item.basic_code))
            .await?
        {
            return Err(ServiceError::Forbidden(
                "您已不再有该企业办理此事项的授权 / you may no longer act for this enterprise on this item"
                    .into(),
            ));
        }
    }
    let who = yiwang_crypto::mask::mask_name(&c.applicant_name);
    let c = submit_as(p, c, (&who, &user.id), "网上申报", submit_key, rev).await?;
    super::notify_applicant(p, &c, "已提交，等待受理").await;
    Ok(c)
}

/// Submits a draft (online or at a window): the same `submit_key` again returns the case it
/// submitted; otherwise every problem of the form and the materials is reported, or the case
/// gets its number and its first process record (申请) by `who` with `how` as the opinion.
pub(crate) async fn submit_as(
    p: &Platform,
    c: Case,
    who: (&str, &str),
    how: &str,
    submit_key: &str,
    rev: Option<i64>,
) -> Result<Case, ServiceError> {
    if c.state != CaseState::Draft {
        if c.state == CaseState::Submitted && submitted_with(p, &c.id, submit_key).await? {
            return Ok(c);
        }
        return Err(ServiceError::Conflict(format!(
            "办件当前状态为“{}”，不能提交 / the case is {}",
            c.state.label_zh(),
            c.state.label_en()
        )));
    }
    check_rev(&c, rev)?;
    completeness(p, &c).await?;
    let now = fmt_time(p.now());
    // The number is taken first, on its own: the change then goes to the database as one
    // batch (on SQLite through the group commit, never holding the one writer across round
    // trips). A number is never given twice; a submission that loses a race for the draft (a
    // stale `rev`) leaves its number unused.
    let no = next_case_number(p, &c.item_code).await?;
    submission(&c, &no, who, how, submit_key, &now)
        .commit(p)
        .await
}

/// The change that submits a draft under the number `no`.
fn submission<'a>(
    c: &'a Case,
    no: &CaseNumber,
    who: (&str, &str),
    how: &str,
    submit_key: &str,
    now: &str,
) -> Change<'a> {
    Change {
        case: c,
        action: CaseAction::Submit,
        sets: vec![
            ("case_no", Bind::from(no.as_str())),
            ("submitted_at", now.into()),
            ("submit_key", submit_key_value(submit_key)),
        ],
        records: vec![NewRecord::done(
            CaseAction::Submit,
            who,
            how,
            &fmt_time(c.created_at),
            now,
        )],
        case_no: Some(no.as_str().to_owned()),
        event: json!({ "channel": c.channel }),
        message: Some((
            "申请已提交".into(),
            format!(
                "您申请的“{}”已提交，办件编号{}，请等待窗口受理。",
                c.item_name,
                no.as_str()
            ),
        )),
    }
}

fn submit_key_value(key: &str) -> Bind {
    let k = key.trim();
    if k.is_empty() {
        Bind::Text(None)
    } else {
        Bind::from(k.chars().take(64).collect::<String>())
    }
}

async fn submitted_with(p: &Platform, id: &str, key: &str) -> Result<bool, ServiceError> {
    if key.trim().is_empty() {
        return Ok(false);
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE id = $1 AND submit_key = $2")
        .bind(id)
        .bind(key.trim())
        .fetch_one(p.db.pool())
        .await?;
    Ok(n > 0)
}

/// Hands in the corrections the window asked for: the form and materials must now be complete.
pub async fn resubmit(
    p: &Platform,
    user: &User,
    id: &str,
    rev: Option<i64>,
) -> Result<Case, ServiceError> {
    let c = mine(p, user, id).await?;
    check_rev(&c, rev)?;
    if c.state != CaseState::Correction {
        return Err(ServiceError::Conflict(format!(
            "办件当前状态为“{}”，无需补正 / the case is {}",
            c.state.label_zh(),
            c.state.label_en()
        )));
    }
    completeness(p, &c).await?;
    let now = fmt_time(p.now());
    let who = yiwang_crypto::mask::mask_name(&c.applicant_name);
    let list: Vec<String> = c.corrections.iter().map(|x| x.subject.clone()).collect();
    let c = Change {
        case: &c,
        action: CaseAction::Resubmit,
        sets: vec![("corrections", Bind::from("[]"))],
        records: vec![NewRecord::done(
            CaseAction::Resubmit,
            (&who, &user.id),
            &format!("已补正：{}", list.join("、")),
            &now,
            &now,
        )],
        case_no: None,
        event: json!({}),
        message: None,
    }
    .commit(p)
    .await?;
    Ok(c)
}

/// Withdraws an application not yet accepted.
pub async fn withdraw(
    p: &Platform,
    user: &User,
    id: &str,
    reason: &str,
) -> Result<Case, ServiceError> {
    let c = mine(p, user, id).await?;
    let now = fmt_time(p.now());
    let who = yiwang_crypto::mask::mask_name(&c.applicant_name);
    Change {
        case: &c,
        action: CaseAction::Withdraw,
        sets: Vec::new(),
        records: vec![NewRecord::done(
            CaseAction::Withdraw,
            (&who, &user.id),
            reason.trim(),
            &now,
            &now,
        )],
        case_no: None,
        event: json!({}),
        message: None,
    }
    .commit(p)
    .await
}

/// The applicant chooses how the result reaches them: collected at the window, or posted to an
/// address (5–200 characters, encrypted at rest), any time before delivery.
pub async fn choose_delivery(
    p: &Platform,
    user: &User,
    id: &str,
    method: &str,
    address: &str,
) -> Result<Case, ServiceError> {
    let c = mine(p, user, id).await?;
    if c.state.is_final() {
        return Err(ServiceError::Conflict(format!(
            "办件当前状态为“{}”，不能再选择送达方式 / the case is {}",
            c.state.label_zh(),
            c.state.label_en()
        )));
    }
    let mut d = c.delivery.clone();
    match method {
        "window" => {
            d.method = "window".into();
            d.address = None;
        }
        "post" => {
            let a = address.trim();
            let n = a.chars().count();
            if !(5..=200).contains(&n) || a.chars().any(char::is_control) {
                return Err(ServiceError::Invalid(vec![FieldError::new(
                    "address",
                    "请填写完整的邮寄地址（5至200字）",
                    "give the full postal address (5 to 200 characters)",
                )]));
            }
            d.method = "post".into();
            d.address = Some(
                p.keys
                    .pii
                    .encrypt("address", a)
                    .map_err(|e| ServiceError::internal(format!("encrypt address: {e}")))?,
            );
        }
        _ => {
            return Err(ServiceError::Invalid(vec![FieldError::new(
                "method",
                "请选择送达方式（窗口领取或邮寄）",
                "choose window or post",
            )]));
        }
    }
    super::update_fields(p, &c, vec![("delivery", serde_json::to_string(&d)?.into())]).await
}
