//! The licence and seal API: public verification of a licence and a seal's published key; the
//! holder's licences and their signed documents; seals and the licence catalogue for
//! administrators; a licence's status for its issuer.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use yiwang_services::ServiceError;
use yiwang_services::licences::{self, seals};

use super::cases::{Body, Caller, query_error};
use crate::Shared;
use crate::error::ApiError;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/licences/verify", get(verify))
        .route("/licences", get(mine))
        .route("/licences/library", get(library))
        .route(
            "/licences/import",
            post(import).layer(axum::extract::DefaultBodyLimit::max(IMPORT_MAX_BYTES)),
        )
        .route("/licences/{id}/document", get(document))
        .route("/licences/{id}/pdf", get(pdf))
        .route("/licences/{id}/uses", get(uses))
        .route("/licences/{id}/shares", get(list_shares).post(share))
        .route(
            "/licences/{id}/shares/{case_id}",
            axum::routing::delete(withdraw_share),
        )
        .route("/licences/{id}/data", get(data))
        .route("/licences/{id}/status", post(set_status))
        .route("/licences/{id}/versions", post(new_version))
        .route("/licence-types", get(types))
        .route("/licence-types/{code}", put(define_type))
        .route("/seals", get(list_seals).post(create_seal))
        .route("/seals/{id}/public-key.pem", get(public_key))
        .route("/seals/{id}/rotate", post(rotate_seal))
        .route("/seals/{id}/revoke", post(revoke_seal))
        .route("/seals/{id}/uses", get(seal_uses))
}

type Answer<T> = Result<Json<T>, ApiError>;

/// Largest import request (JSON with base64 documents).
const IMPORT_MAX_BYTES: usize = 64 * 1024 * 1024;

/// `POST /licences/import`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportRequest {
    /// The licences, at most 5,000: each `type_code`, `source_number` (its number in the old
    /// system, unique per type), `holder_name`, `holder_code`, `issuer_code`, `issued_on`,
    /// optional `valid_from` and `valid_to` (`YYYY-MM-DD`), `fields` (by key or label) and
    /// `document` (its PDF, base64; rendered when absent).
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<licences::import::ImportRow>,
}

/// Imports existing licences (存量证照) in bulk: system administrators for any issuer,
/// department administrators for their organisation. Each row is checked and imported on its
/// own; the answer reports every row: `imported` (with its new identifier), `duplicate`
/// (imported before, by type and `source_number`: nothing added) or `rejected` (with every
/// problem of the row).
#[utoipa::path(post, path = "/api/v1/licences/import", tag = "licences", request_body = ImportRequest,
    responses((status = 200, description = "The report: counts and every row's outcome"),
        (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn import(
    State(s): State<Shared>,
    who: Caller,
    Body(b): Body<ImportRequest>,
) -> Answer<licences::import::ImportReport> {
    let staff = who.staff()?;
    let rows = b
        .rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i + 1, r))
        .collect();
    Ok(Json(
        licences::import::import(&s.platform, staff, rows).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct VerifyQuery {
    /// 电子证照标识, e.g. `1.2.156.3005.2.….001.K`.
    id: String,
}

/// Verifies a licence by its identifier: anyone, no sign-in. The answer's `outcome` is
/// `valid`, `expired`, `suspended`, `revoked`, `superseded`, `forged`, `unknown` or `malformed`;
/// personal data is masked.
#[utoipa::path(get, path = "/api/v1/licences/verify", tag = "licences", params(VerifyQuery),
    responses((status = 200, description = "The verification (see `outcome`)"),
        (status = 400, body = crate::error::Problem)))]
async fn verify(
    State(s): State<Shared>,
    q: Result<Query<VerifyQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = q.map_err(|e| query_error(&e))?;
    let v = licences::verify(&s.platform, &q.id).await?;
    Ok(Json(v).into_response())
}

/// The licence library (电子证照库) for staff, within their authority: system administrators
/// all, supervisors their regions, others what their organisations issued. Filters:
/// `holder_code` (exact), `type_code`, `issuer_code`, `status`.
#[utoipa::path(get, path = "/api/v1/licences/library", tag = "licences",
    params(("holder_code" = Option<String>, Query, description = "持证主体代码"),
        ("type_code" = Option<String>, Query, description = "证照类型代码"),
        ("issuer_code" = Option<String>, Query, description = "颁证单位代码"),
        ("status" = Option<String>, Query, description = "valid, expired, suspended, revoked, superseded")),
    responses((status = 200, description = "At most 200 licences, newest first"),
        (status = 403, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn library(
    State(s): State<Shared>,
    who: Caller,
    q: Result<Query<licences::LibraryQuery>, QueryRejection>,
) -> Answer<Vec<licences::LibraryRow>> {
    let staff = who.staff()?;
    let Query(q) = q.map_err(|e| query_error(&e))?;
    Ok(Json(
        licences::search_library(&s.platform, staff, &q).await?,
    ))
}

/// The signed-in holder's licences (我的证照).
#[utoipa::path(get, path = "/api/v1/licences", tag = "licences",
    responses((status = 200, description = "The caller's licences, newest first"),
        (status = 401, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn mine(State(s): State<Shared>, who: Caller) -> Answer<Vec<licences::HeldLicence>> {
    let user = who.user()?;
    Ok(Json(licences::held_by(&s.platform, &user.id).await?))
}

/// A licence's signed document (`yiwang-licence/1`: the signed data, the DER signature and the
/// seal's PEM key), for its holder: verifiable offline with `yiwang licence verify` or OpenSSL.
#[utoipa::path(get, path = "/api/v1/licences/{id}/document", tag = "licences",
    params(("id" = String, Path, description = "电子证照标识")),
    responses((status = 200, description = "The licence document"),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn document(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
) -> Answer<licences::LicenceDocument> {
    let user = who.user()?;
    Ok(Json(
        licences::document_for_holder(&s.platform, &user.id, &id).await?,
    ))
}

/// A licence's printable PDF (seal and verification QR code), for its holder.
#[utoipa::path(get, path = "/api/v1/licences/{id}/pdf", tag = "licences",
    params(("id" = String, Path, description = "电子证照标识")),
    responses((status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn pdf(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let user = who.user()?;
    let (name, bytes) = licences::pdf_for_holder(&s.platform, &user.id, &id).await?;
    Ok(crate::admin::cases::file_response(&name, "pdf", bytes))
}

/// Every use of the caller's licence: their own applications, departments' fetches (who,
/// when, why).
#[utoipa::path(get, path = "/api/v1/licences/{id}/uses", tag = "licences",
    params(("id" = String, Path, description = "电子证照标识")),
    responses((status = 200, description = "Uses, newest first"),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn uses(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
) -> Answer<Vec<licences::LicenceUse>> {
    let user = who.user()?;
    Ok(Json(
        licences::uses_for_holder(&s.platform, &user.id, &id).await?,
    ))
}

/// `POST /licences/{id}/shares`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ShareRequest {
    /// The case number (办件编号) of the case to share the licence with.
    pub case_no: String,
}

/// The cases the caller's licence is or was shared with (授权用证), newest first.
#[utoipa::path(get, path = "/api/v1/licences/{id}/shares", tag = "licences",
    params(("id" = String, Path, description = "电子证照标识")),
    responses((status = 200, description = "Shares"), (status = 404, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn list_shares(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
) -> Answer<Vec<licences::LicenceShare>> {
    let user = who.user()?;
    Ok(Json(licences::shares(&s.platform, &user.id, &id).await?))
}

/// 授权用证: the holder shares their licence with one open case (named by its case number), so
/// that the department handling it may fetch the licence for it; logged as a use. Again: the
/// same share.
#[utoipa::path(post, path = "/api/v1/licences/{id}/shares", tag = "licences",
    params(("id" = String, Path, description = "电子证照标识")), request_body = ShareRequest,
    responses((status = 200, description = "The share"), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "The case is not being handled"),
        (status = 422, body = crate::error::Problem, description = "No case has this number")),
    security(("bearer" = ["cases"])))]
async fn share(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<ShareRequest>,
) -> Answer<licences::LicenceShare> {
    let user = who.user()?;
    Ok(Json(
        licences::share_with_case(&s.platform, (&user.id, &user.name), &id, &b.case_no).await?,
    ))
}

/// Withdraws a share: the department may no longer fetch the licence for that case.
#[utoipa::path(delete, path = "/api/v1/licences/{id}/shares/{case_id}", tag = "licences",
    params(("id" = String, Path, description = "电子证照标识"), ("case_id" = String, Path, description = "Case id")),
    responses((status = 204, description = "Withdrawn"), (status = 404, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn withdraw_share(
    State(s): State<Shared>,
    who: Caller,
    Path((id, case_id)): Path<(String, String)>,
) -> Result<axum::http::StatusCode, ApiError> {
    let user = who.user()?;
    licences::withdraw_share(&s.platform, &user.id, &id, &case_id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DataQuery {
    /// The holder's case the staff member handles (the holder's consent for that case).
    case_id: Option<String>,
    /// Or the legal basis, in words (supervisors and system administrators).
    basis: Option<String>,
}

/// A licence's full data for a department system or staff member: for the holder's case they
/// handle, or on a legal basis. Logged and shown to the holder.
#[utoipa::path(get, path = "/api/v1/licences/{id}/data", tag = "licences",
    params(("id" = String, Path, description = "电子证照标识"), DataQuery),
    responses((status = 200, description = "The licence data"),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn data(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    q: Result<Query<DataQuery>, QueryRejection>,
) -> Answer<serde_json::Value> {
    let staff = who.staff()?;
    let Query(q) = q.map_err(|e| query_error(&e))?;
    Ok(Json(
        licences::fetch_for_staff(
            &s.platform,
            staff,
            &id,
            q.case_id.as_deref().filter(|c| !c.trim().is_empty()),
            q.basis.as_deref(),
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusChange {
    /// `suspended` (暂扣), `revoked` (注销/吊销) or `valid` (back from suspended).
    status: String,
    /// Why (required).
    reason: String,
}

/// Suspends, revokes or reinstates a licence (the issuer's department administrators).
#[utoipa::path(post, path = "/api/v1/licences/{id}/status", tag = "licences",
    params(("id" = String, Path, description = "电子证照标识")), request_body = StatusChange,
    responses((status = 204), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn set_status(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<StatusChange>,
) -> Result<axum::http::StatusCode, ApiError> {
    let staff = who.staff()?;
    licences::set_status(&s.platform, staff, &id, &b.status, &b.reason).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct NewVersionAnswer {
    /// The new version's identifier.
    id: String,
}

/// Issues the next version of a valid licence: `{"kind": "amend", "fields": {"key": "new
/// value"}, "reason": "…"}` (变更) or `{"kind": "renew", "reason": "…"}` (延续). The old version
/// becomes `superseded` (the issuer's department administrators).
#[utoipa::path(post, path = "/api/v1/licences/{id}/versions", tag = "licences",
    params(("id" = String, Path, description = "电子证照标识")),
    responses((status = 201, body = NewVersionAnswer), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn new_version(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<licences::NewVersion>,
) -> Result<(axum::http::StatusCode, Json<NewVersionAnswer>), ApiError> {
    let staff = who.staff()?;
    let id = licences::new_version(&s.platform, staff, &id, b).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(NewVersionAnswer { id }),
    ))
}

/// The licence catalogue (证照目录): public.
#[utoipa::path(get, path = "/api/v1/licence-types", tag = "licences",
    responses((status = 200, description = "Every licence type")))]
async fn types(State(s): State<Shared>) -> Answer<Vec<licences::LicenceType>> {
    Ok(Json(licences::licence_types(&s.platform).await?))
}

/// Defines or replaces a licence type and the items it is bound to (system administrators).
#[utoipa::path(put, path = "/api/v1/licence-types/{code}", tag = "licences",
    params(("code" = String, Path, description = "证照类型代码 (21 characters)")),
    responses((status = 200, description = "The type as stored"),
        (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn define_type(
    State(s): State<Shared>,
    who: Caller,
    Path(code): Path<String>,
    Body(mut t): Body<licences::LicenceType>,
) -> Answer<licences::LicenceType> {
    let staff = who.staff()?;
    if t.code.trim() != code {
        return Err(ApiError(ServiceError::invalid(
            "code",
            "请求体中的类型代码与路径不一致",
            "the body's code differs from the path's",
        )));
    }
    t.code = code;
    Ok(Json(licences::define_type(&s.platform, staff, t).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SealsQuery {
    /// Only this organisation's seals (credit code).
    org: Option<String>,
}

/// Seals the caller administers, newest first (system administrators every organisation's,
/// department administrators their organisation's; the private keys never leave the server).
#[utoipa::path(get, path = "/api/v1/seals", tag = "licences", params(SealsQuery),
    responses((status = 200, description = "Seals")), security(("bearer" = ["cases"])))]
async fn list_seals(
    State(s): State<Shared>,
    who: Caller,
    q: Result<Query<SealsQuery>, QueryRejection>,
) -> Answer<Vec<seals::Seal>> {
    let staff = who.staff()?;
    let Query(q) = q.map_err(|e| query_error(&e))?;
    Ok(Json(
        seals::list_for(&s.platform, staff, q.org.as_deref()).await?,
    ))
}

/// Makes a seal with a new SM2 key pair (system administrators, or the organisation's
/// department administrators).
#[utoipa::path(post, path = "/api/v1/seals", tag = "licences",
    responses((status = 200, description = "The new seal"), (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn create_seal(
    State(s): State<Shared>,
    who: Caller,
    Body(b): Body<seals::NewSeal>,
) -> Answer<seals::Seal> {
    let staff = who.staff()?;
    Ok(Json(seals::create(&s.platform, staff, b).await?))
}

/// A seal's published public key (SubjectPublicKeyInfo PEM, for OpenSSL): anyone.
#[utoipa::path(get, path = "/api/v1/seals/{id}/public-key.pem", tag = "licences",
    params(("id" = String, Path, description = "Seal id")),
    responses((status = 200, description = "PEM", content_type = "application/x-pem-file"),
        (status = 404, body = crate::error::Problem)))]
async fn public_key(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let seal = seals::get(&s.platform, &id).await?;
    let pem = seals::public_key(&seal)?
        .to_pem()
        .map_err(|e| ApiError(ServiceError::internal(e.to_string())))?;
    Ok(([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response())
}

/// Retires a seal and makes its successor with a new key.
#[utoipa::path(post, path = "/api/v1/seals/{id}/rotate", tag = "licences",
    params(("id" = String, Path, description = "Seal id")),
    responses((status = 200, description = "The new seal"), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn rotate_seal(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
) -> Answer<seals::Seal> {
    let staff = who.staff()?;
    Ok(Json(seals::rotate(&s.platform, staff, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Revoke {
    /// Why (required).
    reason: String,
}

/// Revokes a seal: what it signs afterwards is refused, and so is all it signed if revoked
/// before signing.
#[utoipa::path(post, path = "/api/v1/seals/{id}/revoke", tag = "licences",
    params(("id" = String, Path, description = "Seal id")), request_body = Revoke,
    responses((status = 200, description = "The revoked seal"), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn revoke_seal(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
    Body(b): Body<Revoke>,
) -> Answer<seals::Seal> {
    let staff = who.staff()?;
    Ok(Json(
        seals::revoke(&s.platform, staff, &id, &b.reason).await?,
    ))
}

/// Every use of a seal, newest first.
#[utoipa::path(get, path = "/api/v1/seals/{id}/uses", tag = "licences",
    params(("id" = String, Path, description = "Seal id")),
    responses((status = 200, description = "Uses"), (status = 403, body = crate::error::Problem)),
    security(("bearer" = ["cases"])))]
async fn seal_uses(
    State(s): State<Shared>,
    who: Caller,
    Path(id): Path<String>,
) -> Answer<Vec<seals::SealUse>> {
    let staff = who.staff()?;
    Ok(Json(seals::uses(&s.platform, staff, &id).await?))
}
