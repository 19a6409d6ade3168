//! The case API (办件): the same operations as the applicant's, the window's and the approver's
//! pages, for apps and department systems. Every call carries an OpenID Connect access token
//! from this platform's provider (`Authorization: Bearer …`, scope `cases`); the token's subject
//! — a citizen (`user:…`) or a staff member (`staff:…`) — is authorized exactly as on the pages.
//!
//! | method | path | who | what |
//! |---|---|---|---|
//! | GET | `/cases` | citizen | my cases |
//! | POST | `/cases` | citizen | start a draft for an item (201) |
//! | POST | `/applications` | citizen | apply at once: form and files in one multipart request, submitted (201); `Idempotency-Key` |
//! | GET | `/cases/{id}` | owner, handling staff | the case with form, materials, records, documents |
//! | PUT | `/cases/{id}/form` | owner, window | save the form (draft or awaiting corrections) |
//! | PUT | `/cases/{id}/materials/{slot}?name=` | owner, window | add a file to a material; the body is the file |
//! | GET | `/me/files` | citizen | 我的材料: files handed in for earlier cases |
//! | POST | `/cases/{id}/materials/{slot}/reuse` | owner | hand in a file of 我的材料 again |
//! | DELETE | `/cases/{id}/files/{file}` | owner | remove a file of a draft |
//! | GET | `/cases/{id}/files/{file}` | owner, handling staff | a file (SM3 checked) |
//! | POST | `/cases/{id}/submit` | owner, window | submit; `Idempotency-Key` makes retries safe |
//! | POST | `/cases/{id}/resubmit` · `/withdraw` | owner | hand in corrections · withdraw |
//! | PUT | `/cases/{id}/delivery` | owner | how the result reaches the applicant |
//! | GET, POST | `/window/cases` | window | the acceptance queue · register a walk-in's case |
//! | POST | `/cases/{id}/accept` · `/refuse` · `/corrections` · `/decision` · `/special` · `/special/end` · `/deliver` | window (special: handlers) | the window's actions |
//! | GET | `/tasks` | approver | the inbox (`?case_id=`: one case's) |
//! | POST | `/tasks/{id}/claim` · `/complete` · `/send-back` | approver | work a task (completing claims a free task on the way and answers with the case's next tasks for the caller) |
//!
//! Actions that move a case take its `rev` (optimistic lock): a stale one gets 409. Errors are
//! RFC 9457 problem documents; a missing or bad token gets 401 with `WWW-Authenticate: Bearer`.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use yiwang_services::ServiceError;
use yiwang_services::cases::{self, Access, Case, apply, extensions, records, window};
use yiwang_services::identity::oidc::{self, Principal};
use yiwang_services::identity::staff::Staff;
use yiwang_services::identity::users::User;
use yiwang_services::workflow::inbox::{self, Outcome, Task};

use crate::Shared;
use crate::error::ApiError;

/// Routes of the case API (nested under `/api/v1`).
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/cases", get(list_mine).post(start))
        .route(
            "/applications",
            post(apply_at_once).layer(axum::extract::DefaultBodyLimit::max(MAX_APPLICATION)),
        )
        .route("/cases/{id}", get(get_case))
        .route("/cases/{id}/form", put(save_form))
        .route(
            "/cases/{id}/materials/{slot}",
            put(upload).layer(crate::admin::cases::material_body_limit()),
        )
        .route("/cases/{id}/materials/{slot}/reuse", post(reuse))
        .route("/me/files", get(my_files))
        .route(
            "/cases/{id}/files/{file}",
            get(download).delete(remove_file),
        )
        .route("/cases/{id}/submit", post(submit))
        .route("/cases/{id}/resubmit", post(resubmit))
        .route("/cases/{id}/withdraw", post(withdraw))
        .route("/cases/{id}/delivery", put(choose_delivery))
        .route("/cases/{id}/accept", post(accept))
        .route("/cases/{id}/refuse", post(refuse))
        .route("/cases/{id}/corrections", post(corrections))
        .route("/cases/{id}/decision", post(decide))
        .route("/cases/{id}/special", post(start_special))
        .route("/cases/{id}/special/end", post(end_special))
        .route("/cases/{id}/extension", post(request_extension))
        .route("/cases/{id}/extension/decision", post(decide_extension))
        .route("/cases/{id}/deliver", post(deliver))
        .route("/window/cases", get(queue).post(register))
        .route(
            "/cases/{id}/materials/{slot}/{file}/original-checked",
            post(original_checked),
        )
        .route("/tasks", get(tasks))
        .route("/tasks/{id}/claim", post(claim))
        .route("/tasks/{id}/complete", post(complete))
        .route("/tasks/{id}/send-back", post(send_back))
}

// --- the caller --------------------------------------------------------------------------------

/// The authenticated caller of a case API endpoint.
pub struct Caller(Principal);

impl FromRequestParts<Shared> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &Shared) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(ApiError(ServiceError::Unauthenticated))?;
        let org = parts
            .headers
            .get("yiwang-org")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty());
        Ok(Caller(
            oidc::api_principal(&s.platform, token, "cases", org).await?,
        ))
    }
}

fn bearer(h: &HeaderMap) -> Option<&str> {
    h.get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

impl Caller {
    pub(super) fn user(&self) -> Result<&User, ApiError> {
        match &self.0 {
            Principal::User(u) => Ok(u),
            Principal::Staff(_) => Err(ApiError(ServiceError::Forbidden(
                "此操作由申请人本人办理 / only the applicant can do this".into(),
            ))),
        }
    }

    pub(super) fn staff(&self) -> Result<&Staff, ApiError> {
        match &self.0 {
            Principal::Staff(s) => Ok(s),
            Principal::User(_) => Err(ApiError(ServiceError::Forbidden(
                "此操作由工作人员办理 / staff only".into(),
            ))),
        }
    }
}

/// A JSON body whose rejection is a problem document.
pub struct Body<T>(pub(super) T);

impl<T: DeserializeOwned> FromRequest<Shared> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &Shared) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, s).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(ApiError(body_error(&e))),
        }
    }
}

fn body_error(e: &JsonRejection) -> ServiceError {
    ServiceError::invalid(
        "body",
        &format!("请求体不是所需的 JSON：{}", e.body_text()),
        &format!("the body is not the JSON expected: {}", e.body_text()),
    )
}

pub(super) fn query_error(e: &QueryRejection) -> ApiError {
    ApiError(ServiceError::invalid(
        "query",
        &format!("查询参数有误：{}", e.body_text()),
        &format!("bad query parameters: {}", e.body_text()),
    ))
}

type Answer<T> = Result<Json<T>, ApiError>;

// --- wire types --------------------------------------------------------------------------------

/// A case.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDto {
    /// Id (UUID).
    pub id: String,
    /// 办件编号 (none while a draft).
    pub case_no: Option<String>,
    /// 实施编码.
    pub item_code: String,
    /// Item name.
    pub item_name: String,
    /// Implementing organisation (credit code).
    pub org: String,
    /// 办件类型: 1 即办件, 2 承诺件.
    pub case_type: String,
    /// 办理形式: 1 窗口, 2 网上.
    pub channel: String,
    /// `person` or `enterprise`.
    pub applicant_kind: String,
    /// Applicant's name.
    pub applicant_name: String,
    /// Masked ID number or credit code.
    pub applicant_id_masked: String,
    /// draft, submitted, correction, handling, special, approved, rejected, not_accepted,
    /// delivered, withdrawn.
    pub state: String,
    /// Pass it back with the next action.
    pub rev: i64,
    /// The open correction list (补正).
    pub corrections: Vec<CorrectionDto>,
    /// 承诺办结时限 in working days.
    pub promised_days: i64,
    /// Promised completion (RFC 3339), once accepted.
    pub due_at: Option<String>,
    /// Since when the clock is stopped.
    pub paused_at: Option<String>,
    /// Submitted.
    pub submitted_at: Option<String>,
    /// Accepted.
    pub accepted_at: Option<String>,
    /// Decided.
    pub decided_at: Option<String>,
    /// Delivered.
    pub delivered_at: Option<String>,
    /// The decision's opinion, or the reasons of a refusal.
    pub decision_opinion: String,
    /// Delivery: choice and record.
    pub delivery: DeliveryDto,
}

/// One item of a correction notice.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CorrectionDto {
    /// The material's position in the guide, when it is about a material.
    #[serde(default)]
    pub slot: Option<usize>,
    /// The form field's key, when it is about a field.
    #[serde(default)]
    pub field: Option<String>,
    /// What it is about (a name; filled in from the guide for a material).
    #[serde(default)]
    pub subject: String,
    /// What is wrong.
    pub problem: String,
}

/// How the result reaches the applicant.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    /// `window`, `post`, or empty until chosen.
    pub method: String,
    /// Postal address (only for the applicant and the staff handling the case).
    pub address: Option<String>,
    /// Carrier, once posted.
    pub carrier: Option<String>,
    /// Tracking number, once posted.
    pub tracking_no: Option<String>,
}

fn rfc3339(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn dto(c: Case, access: Access) -> CaseDto {
    let see_address = access != Access::Overseer;
    CaseDto {
        id: c.id,
        case_no: c.case_no,
        item_code: c.item_code,
        item_name: c.item_name,
        org: c.org,
        case_type: c.case_type,
        channel: c.channel,
        applicant_kind: match c.applicant_kind {
            cases::ApplicantKind::Person => "person",
            cases::ApplicantKind::Enterprise => "enterprise",
        }
        .into(),
        applicant_name: c.applicant_name,
        applicant_id_masked: c.applicant_id_masked,
        state: c.state.as_str().into(),
        rev: c.rev,
        corrections: c
            .corrections
            .into_iter()
            .map(|x| CorrectionDto {
                slot: x.slot,
                field: x.field,
                subject: x.subject,
                problem: x.problem,
            })
            .collect(),
        promised_days: c.promised_days,
        due_at: rfc3339(c.due_at),
        paused_at: rfc3339(c.paused_at),
        submitted_at: rfc3339(c.submitted_at),
        accepted_at: rfc3339(c.accepted_at),
        decided_at: rfc3339(c.decided_at),
        delivered_at: rfc3339(c.delivered_at),
        decision_opinion: c.decision_opinion,
        delivery: DeliveryDto {
            method: c.delivery.method,
            address: c.delivery.address.filter(|_| see_address),
            carrier: c.delivery.carrier,
            tracking_no: c.delivery.tracking_no,
        },
    }
}

/// A case with everything about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    /// The case.
    #[serde(flatten)]
    pub case: CaseDto,
    /// The application form's values (for the applicant and the staff handling it).
    #[schema(value_type = Object)]
    pub form: Option<Value>,
    /// The files handed in, by material.
    pub files: Vec<FileDto>,
    /// 办件过程信息, in order.
    pub records: Vec<RecordDto>,
    /// Issued notices and decisions.
    pub documents: Vec<DocumentDto>,
}

/// A file handed in for a material.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileDto {
    /// The material's position in the guide.
    pub slot: usize,
    /// The material's name.
    pub material: String,
    /// File id.
    pub file_id: String,
    /// Name as uploaded.
    pub name: String,
    /// Content found: pdf, jpeg, png, ofd.
    pub kind: String,
    /// Bytes.
    pub size: i64,
    /// SM3, hex.
    pub sm3: String,
    /// Trust level: A (an electronic licence from the library), B (checked against the
    /// original), C (uploaded), D (the applicant's promise).
    pub trust: String,
}

impl From<apply::MaterialFile> for FileDto {
    fn from(f: apply::MaterialFile) -> Self {
        FileDto {
            slot: f.slot,
            material: f.material,
            file_id: f.file_id,
            name: f.name,
            kind: f.kind,
            size: f.size,
            sm3: f.sm3,
            trust: f.trust,
        }
    }
}

/// One process record (GB/T 39046 办件过程信息).
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordDto {
    /// Position in the case's chain, from 1.
    pub seq: i64,
    /// 环节名称.
    pub step: String,
    /// 办理人.
    pub handler: String,
    /// 办理动作: 1 通过, 2 退回, 9 其他.
    pub action: String,
    /// 办理意见.
    pub opinion: String,
    /// 开始时间.
    pub started_at: String,
    /// 结束时间.
    pub ended_at: String,
    /// 状态: 1 待办, 2 已办.
    pub status: String,
}

/// An issued document.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentDto {
    /// acceptance, refusal, correction, decision, delivery.
    pub kind: String,
    /// 文号.
    pub doc_no: String,
    /// Title.
    pub title: String,
    /// The PDF: `GET /cases/{id}/files/{file_id}`.
    pub file_id: String,
    /// Issued.
    pub created_at: String,
}

async fn detail(s: &Shared, c: Case, access: Access) -> Result<CaseDetail, ServiceError> {
    let p = &s.platform;
    let form = match access {
        Access::Owner | Access::Handler => Some(cases::form_values(p, &c.id).await?),
        Access::Overseer => None,
    };
    let files = apply::materials(p, &c.id)
        .await?
        .into_iter()
        .map(FileDto::from)
        .collect();
    let records = records::of_case(p, &c.id)
        .await?
        .into_iter()
        .map(|r| RecordDto {
            seq: r.seq,
            step: r.step,
            handler: r.handler,
            action: r.action.code().into(),
            opinion: r.opinion,
            started_at: r.started_at,
            ended_at: r.ended_at,
            status: r.status.code().into(),
        })
        .collect();
    let documents = cases::notices::of_case(p, &c.id)
        .await?
        .into_iter()
        .map(|d| DocumentDto {
            kind: d.kind,
            doc_no: d.doc_no,
            title: d.title,
            file_id: d.file_id,
            created_at: d.created_at,
        })
        .collect();
    Ok(CaseDetail {
        case: dto(c, access),
        form,
        files,
        records,
        documents,
    })
}

/// The case as the caller may see it: the owner's own, or one the staff member handles.
async fn visible(s: &Shared, who: &Caller, id: &str) -> Result<(Case, Access), ServiceError> {
    match &who.0 {
        Principal::User(u) => Ok((apply::mine(&s.platform, u, id).await?, Access::Owner)),
        Principal::Staff(st) => cases::for_staff(&s.platform, st, id).await,
    }
}

fn owner(c: Case) -> Json<CaseDto> {
    Json(dto(c, Access::Owner))
}

fn handled(c: Case) -> Json<CaseDto> {
    Json(dto(c, Access::Handler))
}

// --- the applicant -----------------------------------------------------------------------------

/// `POST /cases`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StartCase {
    /// 实施编码 of the item applied for.
    pub item_code: String,
    /// Apply for this enterprise (统一社会信用代码) as its legal representative or agent;
    /// absent: for oneself.
    #[serde(default)]
    pub credit_code: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases",
    responses((status = 200, body = [CaseDto], description = "The caller's cases, newest first"),
        (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn list_mine(State(s): State<Shared>, who: Caller) -> Answer<Vec<CaseDto>> {
    let u = who.user()?;
    let list = apply::list_mine(&s.platform, u).await?;
    Ok(Json(
        list.into_iter().map(|c| dto(c, Access::Owner)).collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = StartCase,
    responses((status = 201, body = CaseDto, description = "A draft"),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem,
        description = "Real-name level too low, or not allowed to act for the enterprise"),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem,
        description = "The item takes no online applications")),
    security(("bearer" = ["cases"])))]
async fn start(
    State(s): State<Shared>,
    who: Caller,
    Body(b): Body<StartCase>,
) -> Result<(StatusCode, Json<CaseDto>), ApiError> {
    let as_ = apply::ApplyAs::from_field(b.credit_code.as_deref().unwrap_or_default());
    let c = apply::start_draft_as(&s.platform, who.user()?, b.item_code.trim(), as_).await?;
    Ok((StatusCode::CREATED, owner(c)))
}

/// The largest `POST /applications` request: the files of an application together.
const MAX_APPLICATION: usize = 64 * 1024 * 1024;

/// The `application` part of `POST /applications` (JSON).
#[derive(Debug, Deserialize, ToSchema)]
pub struct Application {
    /// 实施编码 of the item applied for.
    pub item_code: String,
    /// Apply for this enterprise (统一社会信用代码) as its legal representative or agent;
    /// absent: for oneself.
    #[serde(default)]
    pub credit_code: Option<String>,
    /// The application form: field key → value, as the item's form defines them.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: Map<String, Value>,
}

/// The multipart body of `POST /applications`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ApplicationUpload {
    /// JSON, as [`Application`].
    application: Application,
    /// One file part per file, named `material.{slot}` (the material's position in the
    /// item's guide, from 0; a slot may take several), with its file name: PDF, JPG, PNG or
    /// OFD, each at most 20 MiB, checked by content.
    #[schema(value_type = Vec<String>, format = Binary)]
    #[serde(rename = "material.{slot}")]
    material: Vec<Vec<u8>>,
}

/// Reads the parts of an application made at once.
async fn read_application(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(Application, Vec<(usize, String, Vec<u8>)>), ServiceError> {
    let bad = |field: &str, d: String| {
        ServiceError::invalid(
            field,
            &format!("请求无法读取：{d}"),
            &format!("the request could not be read: {d}"),
        )
    };
    let max_file = usize::try_from(yiwang_domain::upload::DEFAULT_MAX_BYTES).unwrap_or(usize::MAX);
    let mut m = multipart.map_err(|e| bad("body", e.body_text()))?;
    let mut application = None;
    let mut files = Vec::new();
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(bad("body", e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "application" {
            let text = field
                .text()
                .await
                .map_err(|e| bad("application", e.body_text()))?;
            application = Some(
                serde_json::from_str::<Application>(&text)
                    .map_err(|e| bad("application", e.to_string()))?,
            );
        } else if let Some(slot) = name.strip_prefix("material.") {
            let slot: usize = slot.parse().map_err(|_| {
                ServiceError::invalid(
                    &name,
                    "材料部分的名称应为 material.序号",
                    "a material part is named material.{slot}",
                )
            })?;
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let mut field = field;
            let mut bytes = Vec::new();
            while let Some(c) = field.chunk().await.map_err(|e| bad(&name, e.body_text()))? {
                if bytes.len() + c.len() > max_file {
                    return Err(ServiceError::invalid(
                        &name,
                        "文件超过 20 MB",
                        "the file is larger than 20 MiB",
                    ));
                }
                bytes.extend_from_slice(&c);
            }
            files.push((slot, file_name, bytes));
        }
    }
    let application = application.ok_or_else(|| {
        ServiceError::invalid(
            "application",
            "缺少 application 部分（JSON：item_code、values）",
            "the application part (JSON: item_code, values) is missing",
        )
    })?;
    Ok((application, files))
}

/// The `Idempotency-Key` header (empty when absent), at most 128 characters.
fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_owned();
    if key.len() > 128 {
        return Err(ApiError(ServiceError::invalid(
            "Idempotency-Key",
            "Idempotency-Key 不能超过 128 个字符",
            "Idempotency-Key is longer than 128 characters",
        )));
    }
    Ok(key)
}

#[utoipa::path(post, path = "/api/v1/applications", tag = "cases",
    request_body(content = ApplicationUpload, content_type = "multipart/form-data"),
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key again returns the case it submitted")),
    responses((status = 201, body = CaseDto, description = "Submitted, with its case number; materials the applicant holds as valid licences are taken from the library at trust level A (免证办) unless sent"),
        (status = 400, body = crate::error::Problem, description = "Every problem at once: form fields, files, missing materials; nothing kept"),
        (status = 403, body = crate::error::Problem, description = "Real-name level too low, or not allowed to act for the enterprise"),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem,
        description = "The item takes no online applications, or the key was used for another application")),
    security(("bearer" = ["cases"])))]
async fn apply_at_once(
    State(s): State<Shared>,
    who: Caller,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<CaseDto>), ApiError> {
    let user = who.user()?;
    let key = idempotency_key(&headers)?;
    let (a, files) = read_application(multipart).await?;
    let files: Vec<apply::NewFile<'_>> = files
        .iter()
        .map(|(slot, name, bytes)| apply::NewFile {
            slot: *slot,
            name,
            bytes,
        })
        .collect();
    let as_ = apply::ApplyAs::from_field(a.credit_code.as_deref().unwrap_or_default());
    let c = apply::apply_at_once(
        &s.platform,
        user,
        a.item_code.trim(),
        as_,
        &a.values,
        &files,
        &key,
    )
    .await?;
    Ok((StatusCode::CREATED, owner(c)))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDetail), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn get_case(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
) -> Answer<CaseDetail> {
    let (c, access) = visible(&s, &who, &id).await?;
    Ok(Json(detail(&s, c, access).await?))
}

/// `PUT /cases/{id}/form`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FormValues {
    /// Field key → value, as the item's form defines them (text, number, date `YYYY-MM-DD`,
    /// choice key, region code, ID number, credit code, address).
    #[schema(value_type = Object)]
    pub values: Map<String, Value>,
}

#[utoipa::path(put, path = "/api/v1/cases/{id}/form", tag = "cases", request_body = FormValues,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDto), (status = 400, body = crate::error::Problem,
        description = "Every bad field, by name"), (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn save_form(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<FormValues>,
) -> Answer<CaseDto> {
    let p = &s.platform;
    Ok(match &who.0 {
        Principal::User(u) => owner(apply::save_form(p, u, &id, &b.values).await?),
        Principal::Staff(st) => handled(window::save_form(p, st, &id, &b.values).await?),
    })
}

/// `?name=` of an upload.
#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The file's name (its extension must match its content).
    pub name: String,
}

#[utoipa::path(put, path = "/api/v1/cases/{id}/materials/{slot}", tag = "cases",
    params(("id" = String, Path, description = "Case id"),
        ("slot" = usize, Path, description = "The material's position in the guide, from 0"),
        UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The file: PDF, JPG, PNG or OFD, at most 20 MiB, checked by content"),
    responses((status = 201, body = FileDto), (status = 400, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 413, description = "Too large")),
    security(("bearer" = ["cases"])))]
async fn upload(
    State(s): State<Shared>,
    who: Caller,
    Path((id, slot)): Path<(String, usize)>,
    q: Result<Query<UploadQuery>, QueryRejection>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<FileDto>), ApiError> {
    let Query(q) = q.map_err(|e| query_error(&e))?;
    let p = &s.platform;
    let f = match &who.0 {
        Principal::User(u) => apply::attach(p, u, &id, slot, &q.name, &bytes).await?,
        Principal::Staff(st) => window::attach(p, st, &id, slot, &q.name, &bytes).await?,
    };
    Ok((StatusCode::CREATED, Json(f.into())))
}

/// A file of 我的材料.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyFileDto {
    /// File id (pass it to `…/reuse`).
    pub file_id: String,
    /// Name as uploaded.
    pub name: String,
    /// pdf, jpeg, png, ofd.
    pub kind: String,
    /// Bytes.
    pub size: i64,
    /// The material it was handed in for.
    pub material: String,
    /// That case's number.
    pub case_no: Option<String>,
    /// When.
    pub added_at: String,
}

#[utoipa::path(get, path = "/api/v1/me/files", tag = "cases",
    responses((status = 200, body = [MyFileDto], description = "Files of the caller's cases, newest first"),
        (status = 403, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn my_files(State(s): State<Shared>, who: Caller) -> Answer<Vec<MyFileDto>> {
    let list = apply::my_files(&s.platform, who.user()?).await?;
    Ok(Json(
        list.into_iter()
            .map(|f| MyFileDto {
                file_id: f.file_id,
                name: f.name,
                kind: f.kind,
                size: f.size,
                material: f.material,
                case_no: f.case_no,
                added_at: f.added_at,
            })
            .collect(),
    ))
}

/// `POST /cases/{id}/materials/{slot}/reuse`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Reuse {
    /// A file of `GET /me/files`.
    pub file_id: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/materials/{slot}/reuse", tag = "cases", request_body = Reuse,
    params(("id" = String, Path, description = "Case id"),
        ("slot" = usize, Path, description = "The material's position in the guide, from 0")),
    responses((status = 201, body = FileDto, description = "Linked (not copied): its SM3 is the one recorded"),
        (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn reuse(
    State(s): State<Shared>,
    who: Caller,
    Path((id, slot)): Path<(String, usize)>,
    Body(b): Body<Reuse>,
) -> Result<(StatusCode, Json<FileDto>), ApiError> {
    let f = apply::reuse(&s.platform, who.user()?, &id, slot, &b.file_id).await?;
    Ok((StatusCode::CREATED, Json(f.into())))
}

#[utoipa::path(delete, path = "/api/v1/cases/{id}/files/{file}", tag = "cases",
    params(("id" = String, Path, description = "Case id"), ("file" = String, Path, description = "File id")),
    responses((status = 204, description = "Removed"), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn remove_file(
    State(s): State<Shared>,
    who: Caller,
    Path((id, file)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    apply::detach(&s.platform, who.user()?, &id, &file).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/files/{file}", tag = "cases",
    params(("id" = String, Path, description = "Case id"), ("file" = String, Path, description = "File or document id")),
    responses((status = 200, description = "The file, SM3 checked; to staff, a material of trust level A or B is a watermarked PDF copy (水印副本)", content_type = "application/octet-stream"),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn download(
    State(s): State<Shared>,
    who: Caller,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    // The applicant gets their files as stored; staff get A and B materials as watermarked
    // copies (水印副本).
    let (name, kind, bytes) = match visible(&s, &who, &id).await?.1 {
        Access::Owner => apply::file(&s.platform, &id, &file).await?,
        _ => apply::staff_file(&s.platform, &id, &file).await?,
    };
    Ok(crate::admin::cases::file_response(&name, &kind, bytes))
}

/// The optimistic lock of an action.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Rev {
    /// The case's `rev` as last read; omit only when you accept acting on whatever is current.
    #[serde(default)]
    pub rev: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/submit", tag = "cases", request_body = Rev,
    params(("id" = String, Path, description = "Case id"),
        ("Idempotency-Key" = Option<String>, Header, description = "The same key again returns the same case instead of an error")),
    responses((status = 200, body = CaseDto), (status = 400, body = crate::error::Problem,
        description = "Everything missing: fields and materials"),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn submit(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(b): Body<Rev>,
) -> Answer<CaseDto> {
    let key = idempotency_key(&headers)?;
    let p = &s.platform;
    Ok(match &who.0 {
        Principal::User(u) => owner(apply::submit(p, u, &id, &key, b.rev).await?),
        Principal::Staff(st) => handled(window::submit(p, st, &id, &key, b.rev).await?),
    })
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/resubmit", tag = "cases", request_body = Rev,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDto), (status = 400, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn resubmit(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<Rev>,
) -> Answer<CaseDto> {
    Ok(owner(
        apply::resubmit(&s.platform, who.user()?, &id, b.rev).await?,
    ))
}

/// `POST /cases/{id}/withdraw`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Withdraw {
    /// Why (optional).
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/withdraw", tag = "cases", request_body = Withdraw,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDto), (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn withdraw(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<Withdraw>,
) -> Answer<CaseDto> {
    Ok(owner(
        apply::withdraw(&s.platform, who.user()?, &id, &b.reason).await?,
    ))
}

/// `PUT /cases/{id}/delivery`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChooseDelivery {
    /// `window` or `post`.
    pub method: String,
    /// Postal address, for `post`.
    #[serde(default)]
    pub address: String,
}

#[utoipa::path(put, path = "/api/v1/cases/{id}/delivery", tag = "cases", request_body = ChooseDelivery,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDto), (status = 400, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn choose_delivery(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<ChooseDelivery>,
) -> Answer<CaseDto> {
    Ok(owner(
        apply::choose_delivery(&s.platform, who.user()?, &id, &b.method, &b.address).await?,
    ))
}

// --- the window --------------------------------------------------------------------------------

/// `GET /window/cases`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    /// Only this applicant (ID number or credit code).
    pub applicant: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/window/cases", tag = "window", params(QueueQuery),
    responses((status = 200, body = [CaseDto], description = "Submitted cases and corrections handed in, oldest first"),
        (status = 403, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn queue(
    State(s): State<Shared>,
    who: Caller,
    q: Result<Query<QueueQuery>, QueryRejection>,
) -> Answer<Vec<CaseDto>> {
    let Query(q) = q.map_err(|e| query_error(&e))?;
    let list = window::queue(&s.platform, who.staff()?, q.applicant.as_deref()).await?;
    Ok(Json(
        list.into_iter().map(|c| dto(c, Access::Handler)).collect(),
    ))
}

/// `POST /window/cases`: a case for a walk-in applicant.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Register {
    /// 实施编码.
    pub item_code: String,
    /// `person` (default) or `enterprise`.
    #[serde(default)]
    pub applicant_kind: String,
    /// Name.
    pub applicant_name: String,
    /// ID number or credit code.
    pub applicant_id: String,
    /// Contact phone.
    #[serde(default)]
    pub phone: String,
}

#[utoipa::path(post, path = "/api/v1/window/cases", tag = "window", request_body = Register,
    responses((status = 201, body = CaseDto, description = "A draft the clerk completes and submits"),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn register(
    State(s): State<Shared>,
    who: Caller,
    Body(b): Body<Register>,
) -> Result<(StatusCode, Json<CaseDto>), ApiError> {
    let applicant = apply::NewApplicant {
        kind: match b.applicant_kind.as_str() {
            "" | "person" => cases::ApplicantKind::Person,
            "enterprise" => cases::ApplicantKind::Enterprise,
            _ => {
                return Err(ApiError(ServiceError::invalid(
                    "applicant_kind",
                    "申请人类型应为 person 或 enterprise",
                    "applicant_kind is person or enterprise",
                )));
            }
        },
        name: b.applicant_name,
        id: b.applicant_id.trim().to_owned(),
        phone: b.phone.trim().to_owned(),
        user_id: None,
    };
    let c = window::register(&s.platform, who.staff()?, b.item_code.trim(), applicant).await?;
    Ok((StatusCode::CREATED, handled(c)))
}

/// An action with an opinion.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Opinion {
    /// The case's `rev`.
    #[serde(default)]
    pub rev: Option<i64>,
    /// Opinion or reasons.
    #[serde(default)]
    pub opinion: String,
}

/// 核验原件: the window checked the original of an uploaded copy; its trust level goes from C
/// to B (reusable).
#[utoipa::path(post, path = "/api/v1/cases/{id}/materials/{slot}/{file}/original-checked",
    tag = "window",
    params(("id" = String, Path, description = "Case id"), ("slot" = usize, Path, description = "Material slot"),
        ("file" = String, Path, description = "File id")),
    responses((status = 200, body = FileDto), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn original_checked(
    State(s): State<Shared>,
    who: Caller,
    Path((id, slot, file)): Path<(String, usize, String)>,
) -> Answer<FileDto> {
    let staff = who.staff()?;
    Ok(Json(
        window::verify_original(&s.platform, staff, &id, slot, &file)
            .await?
            .into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/accept", tag = "window", request_body = Opinion,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDto, description = "受理: a 承诺件 starts its approval process"),
        (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn accept(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<Opinion>,
) -> Answer<CaseDto> {
    let c = window::accept(&s.platform, who.staff()?, &id, b.rev, &b.opinion).await?;
    Ok(handled(c))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/refuse", tag = "window", request_body = Opinion,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDto, description = "不予受理 (the opinion holds the reasons, required)"),
        (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn refuse(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<Opinion>,
) -> Answer<CaseDto> {
    let c = window::refuse(&s.platform, who.staff()?, &id, b.rev, &b.opinion).await?;
    Ok(handled(c))
}

/// `POST /cases/{id}/corrections`: 一次性告知.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Corrections {
    /// The case's `rev`.
    #[serde(default)]
    pub rev: Option<i64>,
    /// Everything to correct, at once.
    pub items: Vec<CorrectionDto>,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/corrections", tag = "window", request_body = Corrections,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDto, description = "补正: the clock stops until the applicant resubmits"),
        (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn corrections(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<Corrections>,
) -> Answer<CaseDto> {
    let items = b
        .items
        .into_iter()
        .map(|x| cases::Correction {
            slot: x.slot,
            field: x.field,
            subject: x.subject,
            problem: x.problem,
        })
        .collect();
    let c = window::request_correction(&s.platform, who.staff()?, &id, b.rev, items).await?;
    Ok(handled(c))
}

/// `POST /cases/{id}/decision`: a 即办件 decided at the window.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Decision {
    /// The case's `rev`.
    #[serde(default)]
    pub rev: Option<i64>,
    /// Approved, or refused (reasons in `opinion`, required).
    pub approved: bool,
    /// Opinion or reasons.
    #[serde(default)]
    pub opinion: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/decision", tag = "window", request_body = Decision,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDto), (status = 400, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "Not a 即办件, or stale")),
    security(("bearer" = ["cases"])))]
async fn decide(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<Decision>,
) -> Answer<CaseDto> {
    let c = window::decide_on_spot(
        &s.platform,
        who.staff()?,
        &id,
        b.rev,
        b.approved,
        &b.opinion,
    )
    .await?;
    Ok(handled(c))
}

/// `POST /cases/{id}/special`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Special {
    /// The case's `rev`.
    #[serde(default)]
    pub rev: Option<i64>,
    /// 听证, 检验检测, 专家评审 … (延长审批 has its own call: `POST /cases/{id}/extension`).
    pub kind: String,
    /// Why.
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/special", tag = "window", request_body = Special,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDto, description = "特别程序: the clock stops"),
        (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn start_special(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<Special>,
) -> Answer<CaseDto> {
    let c =
        window::start_special(&s.platform, who.staff()?, &id, b.rev, &b.kind, &b.reason).await?;
    Ok(handled(c))
}

/// `POST /cases/{id}/special/end`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SpecialEnd {
    /// The case's `rev`.
    #[serde(default)]
    pub rev: Option<i64>,
    /// What the procedure found.
    pub result: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/special/end", tag = "window", request_body = SpecialEnd,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDto, description = "The clock runs again; the deadline moved by the pause"),
        (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn end_special(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<SpecialEnd>,
) -> Answer<CaseDto> {
    let c = window::end_special(&s.platform, who.staff()?, &id, b.rev, &b.result).await?;
    Ok(handled(c))
}

/// `POST /cases/{id}/extension`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExtensionRequest {
    /// The case's `rev`.
    #[serde(default)]
    pub rev: Option<i64>,
    /// Working days to add to the promised deadline (1–30).
    pub days: u32,
    /// Why.
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/extension", tag = "window", request_body = ExtensionRequest,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDto, description = "申请延长审批: waiting for another approver of the organisation; the clock keeps running"),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "Not being handled, no deadline, a request already waiting, or a stale rev")),
    security(("bearer" = ["cases"])))]
async fn request_extension(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<ExtensionRequest>,
) -> Answer<CaseDto> {
    let c = extensions::request(
        &s.platform,
        who.staff()?,
        &id,
        b.rev,
        &b.days.to_string(),
        &b.reason,
    )
    .await?;
    Ok(handled(c))
}

/// `POST /cases/{id}/extension/decision`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExtensionDecision {
    /// The case's `rev`.
    #[serde(default)]
    pub rev: Option<i64>,
    /// Approve (true) or refuse (false).
    pub approve: bool,
    /// 审批意见 (required to refuse).
    #[serde(default)]
    pub opinion: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/extension/decision", tag = "window", request_body = ExtensionDecision,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDto, description = "延长审批 decided; approved, the deadlines moved"),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem, description = "Not an approver of the organisation, or the one who asked"),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn decide_extension(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<ExtensionDecision>,
) -> Answer<CaseDto> {
    let c =
        extensions::decide(&s.platform, who.staff()?, &id, b.rev, b.approve, &b.opinion).await?;
    Ok(handled(c))
}

/// `POST /cases/{id}/deliver`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Deliver {
    /// The case's `rev`.
    #[serde(default)]
    pub rev: Option<i64>,
    /// `window` (handed over) or `post`.
    pub method: String,
    /// Carrier, for `post`.
    #[serde(default)]
    pub carrier: String,
    /// Tracking number, for `post`.
    #[serde(default)]
    pub tracking_no: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/deliver", tag = "window", request_body = Deliver,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDto, description = "送达 recorded"),
        (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn deliver(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<Deliver>,
) -> Answer<CaseDto> {
    let c = window::deliver(
        &s.platform,
        who.staff()?,
        &id,
        b.rev,
        &b.method,
        &b.carrier,
        &b.tracking_no,
    )
    .await?;
    Ok(handled(c))
}

// --- the approver ------------------------------------------------------------------------------

/// An approval task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDto {
    /// Task id.
    pub id: String,
    /// The case id (the process instance's business key).
    pub case_id: String,
    /// 办件编号.
    pub case_no: Option<String>,
    /// 实施编码.
    pub item_code: Option<String>,
    /// Step id in the process.
    pub node: String,
    /// Step name.
    pub name: String,
    /// The organisation it belongs to.
    pub org: String,
    /// open, delegated, done, cancelled.
    pub state: String,
    /// Who holds it.
    pub assignee: Option<String>,
    /// Opened.
    pub created_at: String,
    /// Step deadline.
    pub due_at: Option<String>,
    /// Past its limit.
    pub overdue: bool,
    /// approve / reject, once done.
    pub outcome: Option<String>,
    /// Opinion, once done.
    pub opinion: Option<String>,
}

impl From<Task> for TaskDto {
    fn from(t: Task) -> Self {
        TaskDto {
            id: t.id,
            case_id: t.business_key,
            case_no: t.case_no,
            item_code: t.item_code,
            node: t.node,
            name: t.name,
            org: t.org,
            state: t.state,
            assignee: t.assignee,
            created_at: t.created_at,
            due_at: t.due_at,
            overdue: t.overdue,
            outcome: t.outcome,
            opinion: t.opinion,
        }
    }
}

/// `?case_id=` of the inbox.
#[derive(Debug, Deserialize, IntoParams)]
pub struct TasksQuery {
    /// Only the tasks of this case.
    #[serde(default)]
    pub case_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(TasksQuery),
    responses((status = 200, body = [TaskDto], description = "Held by the caller or offered to their roles, oldest deadline first"),
        (status = 403, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn tasks(
    State(s): State<Shared>,
    who: Caller,
    q: Result<Query<TasksQuery>, QueryRejection>,
) -> Answer<Vec<TaskDto>> {
    let Query(q) = q.map_err(|e| query_error(&e))?;
    let staff = who.staff()?;
    let list = match q
        .case_id
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(case) => inbox::inbox_of_case(&s.platform, staff, case).await?,
        None => inbox::inbox(&s.platform, staff).await?,
    };
    Ok(Json(list.into_iter().map(TaskDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/tasks/{id}/claim", tag = "tasks",
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, body = TaskDto), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "Someone else claimed it first")),
    security(("bearer" = ["cases"])))]
async fn claim(State(s): State<Shared>, who: Caller, Path(id): Path<String>) -> Answer<TaskDto> {
    Ok(Json(
        inbox::claim(&s.platform, who.staff()?, &id).await?.into(),
    ))
}

/// `POST /tasks/{id}/complete`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Complete {
    /// `approve` (通过) or `reject` (不予批准, opinion required).
    pub outcome: String,
    /// 办理意见.
    #[serde(default)]
    pub opinion: String,
}

/// A completed task and what follows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Completed {
    /// The task, done.
    #[serde(flatten)]
    pub task: TaskDto,
    /// The case's open tasks the caller may work now (the next step, when it is theirs).
    pub next: Vec<TaskDto>,
}

#[utoipa::path(post, path = "/api/v1/tasks/{id}/complete", tag = "tasks", request_body = Complete,
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, body = Completed, description = "Done (a free task offered to the caller is claimed on the way); when it ended the process, the case is decided"),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn complete(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<Complete>,
) -> Answer<Completed> {
    let outcome = Outcome::parse(&b.outcome).ok_or_else(|| {
        ApiError(ServiceError::invalid(
            "outcome",
            "结果应为 approve（通过）或 reject（不予批准）",
            "outcome is approve or reject",
        ))
    })?;
    let staff = who.staff()?;
    let t = inbox::complete(&s.platform, staff, &id, outcome, &b.opinion).await?;
    let next = if t.instance_state == "running" {
        inbox::inbox_of_case(&s.platform, staff, &t.business_key).await?
    } else {
        // A process that just ended decides its case now (the event loop would within seconds).
        if let Err(e) = cases::events::drain_case(&s.platform, &t.business_key).await {
            tracing::warn!(error = %e, "case events after a completion");
        }
        Vec::new()
    };
    Ok(Json(Completed {
        task: t.into(),
        next: next.into_iter().map(TaskDto::from).collect(),
    }))
}

/// `POST /tasks/{id}/send-back`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendBack {
    /// The earlier step's id (default: the most recent one leading here).
    #[serde(default)]
    pub target: Option<String>,
    /// Why (required).
    pub opinion: String,
}

#[utoipa::path(post, path = "/api/v1/tasks/{id}/send-back", tag = "tasks", request_body = SendBack,
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, body = TaskDto, description = "退回: the earlier step is open again"),
        (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn send_back(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<SendBack>,
) -> Answer<TaskDto> {
    let t = inbox::send_back(
        &s.platform,
        who.staff()?,
        &id,
        b.target.as_deref(),
        &b.opinion,
    )
    .await?;
    Ok(Json(t.into()))
}
