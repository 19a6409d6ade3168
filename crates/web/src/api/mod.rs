//! The REST API under `/api/v1`: items and master data for systems, and cases ([`cases`]) for
//! apps and department systems, described by an OpenAPI 3 document generated from this code
//! (`/api/v1/openapi.json`).
//!
//! Wire types live here, apart from the domain types: the API's shape is a promise to other
//! systems and changes only on purpose. Errors are RFC 9457 problem documents.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use yiwang_search::FacetCount;
use yiwang_services::ServiceError;
use yiwang_services::catalogue::{self, ItemSummary, PublishedItem};

pub mod cases;
pub mod licences;
pub mod performance;
pub mod ratings;
pub mod supervision;

use crate::Shared;
use crate::error::{ApiError, Problem, ProblemField};
use crate::query::SearchParams;

/// Routes of the API (nested under `/api/v1`).
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/items", get(list_items))
        .route("/items/{code}", get(get_item))
        .route("/regions", get(list_regions))
        .route("/organisations", get(list_organisations))
        .route("/themes", get(list_themes))
        .route("/openapi.json", get(openapi))
        .merge(cases::routes())
        .merge(licences::routes())
        .merge(supervision::routes())
        .merge(performance::routes())
        .merge(ratings::routes())
}

/// The OpenAPI document of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Yiwang 一网 — 政务服务事项 API",
        version = "1.0.0",
        description = "Service items (政务服务事项) and master data of the integrated online government service platform. Errors are RFC 9457 problem documents (application/problem+json)."
    ),
    paths(
        list_items, get_item, list_regions, list_organisations, list_themes,
        cases::list_mine, cases::start, cases::apply_at_once, cases::get_case, cases::save_form, cases::upload,
        cases::remove_file, cases::my_files, cases::reuse, cases::download, cases::submit, cases::resubmit, cases::withdraw,
        cases::choose_delivery, cases::queue, cases::register, cases::original_checked, cases::accept, cases::refuse,
        cases::corrections, cases::decide, cases::start_special, cases::end_special,
        cases::request_extension, cases::decide_extension,
        cases::deliver, cases::tasks, cases::claim, cases::complete, cases::send_back,
        licences::verify, licences::new_version, licences::library, licences::import, licences::mine, licences::document, licences::pdf, licences::uses, licences::list_shares, licences::share, licences::withdraw_share, licences::data, licences::set_status, licences::types,
        licences::define_type, licences::list_seals, licences::create_seal, licences::public_key,
        licences::rotate_seal, licences::revoke_seal, licences::seal_uses,
        supervision::board, supervision::list, supervision::one, supervision::appeal, supervision::decide,
        supervision::issue_order, supervision::orders, supervision::answer_order, supervision::rules,
        supervision::save_rules, supervision::sweep, supervision::clock, supervision::advance_clock,
        performance::report, performance::scoring, performance::save_scoring, performance::refresh,
        ratings::rate, ratings::list, ratings::one, ratings::follow_up, ratings::settings,
        ratings::save_settings, ratings::rectifications, ratings::rectification, ratings::answer,
        ratings::fix_rating, ratings::appeal, ratings::decide_appeal
    ),
    components(schemas(
        ItemList, ItemBrief, ItemDetail, Code, Named, FacetValue, ItemFacets, LegalBasisDto,
        MaterialDto, StepDto, FeeDto, PlaceDto, RegionDto, OrganisationDto, ThemeDto, Problem,
        ProblemField, cases::CaseDto, cases::CaseDetail, cases::CorrectionDto, cases::DeliveryDto,
        cases::FileDto, cases::RecordDto, cases::DocumentDto, cases::TaskDto, cases::StartCase,
        cases::FormValues, cases::Rev, cases::Withdraw, cases::ChooseDelivery, cases::Register,
        cases::Opinion, cases::Corrections, cases::Decision, cases::Special, cases::SpecialEnd, cases::ExtensionRequest, cases::ExtensionDecision,
        cases::Deliver, cases::Complete, cases::Completed, cases::SendBack, cases::MyFileDto, cases::Reuse,
        cases::Application, cases::ApplicationUpload, licences::StatusChange, licences::ImportRequest, licences::ShareRequest, supervision::Reason, supervision::Decision, supervision::NewOrder, supervision::OrderAnswer, supervision::NewRules, supervision::ClockState, supervision::Advance, performance::ScoringState, performance::NewScoring, licences::Revoke, licences::NewVersionAnswer,
        ratings::NewRating, ratings::RatingSettings, ratings::OrderAnswer, ratings::FixRating, ratings::AppealReason, ratings::AppealDecision
    )),
    modifiers(&BearerScheme),
    tags(
        (name = "items", description = "政务服务事项"),
        (name = "master-data", description = "基础数据"),
        (name = "cases", description = "办件：申请人（网上申报、补正、撤回、送达方式）"),
        (name = "window", description = "一窗受理：受理、不予受理、补正、即办、特别程序、送达"),
        (name = "tasks", description = "审批待办：签收、办理、退回"),
        (name = "licences", description = "电子证照与电子印章：验证、我的证照、证照目录、印章管理"),
        (name = "ratings", description = "好差评：评价、整改、申诉、回访率")
    )
)]
pub struct ApiDoc;

/// The `bearer` security scheme: an access token of this platform's OpenID Connect provider.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token from /oidc/token with the `cases` scope (citizen or staff).",
                    ))
                    .build(),
            ),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// A code with its label.
#[derive(Debug, Serialize, ToSchema)]
pub struct Code {
    /// National code.
    pub code: String,
    /// Chinese label.
    pub label: String,
}

/// A key with its name.
#[derive(Debug, Serialize, ToSchema)]
pub struct Named {
    /// Code or key.
    pub code: String,
    /// Name.
    pub name: String,
}

/// One facet value and how many matching items have it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FacetValue {
    /// The value (a code or key; see the filter of the same name).
    pub value: String,
    /// Matching items.
    pub count: u64,
}

/// Counts per filter value over all matching items.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemFacets {
    /// By region code of the implementing body.
    pub region: Vec<FacetValue>,
    /// By implementing organisation (credit code).
    pub department: Vec<FacetValue>,
    /// By 事项类型 code.
    #[serde(rename = "type")]
    pub item_type: Vec<FacetValue>,
    /// By 服务对象 code.
    pub service_object: Vec<FacetValue>,
    /// By theme key.
    pub theme: Vec<FacetValue>,
    /// By online capability ("true"/"false").
    pub online: Vec<FacetValue>,
    /// By 通办范围 code.
    pub scope: Vec<FacetValue>,
}

/// An item in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemBrief {
    /// 实施编码.
    pub code: String,
    /// 事项名称.
    pub name: String,
    /// 事项类型.
    #[serde(rename = "type")]
    pub item_type: Code,
    /// Implementing organisation.
    pub organisation: Named,
    /// Region of the implementing organisation.
    pub region: Named,
    /// 行使层级.
    pub level: Code,
    /// 服务对象 codes.
    pub service_objects: Vec<Code>,
    /// Whether it can be applied for online.
    pub online: bool,
    /// 承诺办结时限 in working days (0: 即办).
    pub promised_limit_days: u16,
    /// 到现场次数.
    pub visits: u8,
    /// 通办范围.
    pub scope: Code,
    /// Published version.
    pub version: i64,
    /// The guide page.
    pub url: String,
}

fn brief(s: &ItemSummary) -> ItemBrief {
    ItemBrief {
        code: s.code.clone(),
        name: s.name.clone(),
        item_type: Code {
            code: s.item_type.code().into(),
            label: s.item_type.label_zh().into(),
        },
        organisation: Named {
            code: s.org.clone(),
            name: s.org_name.clone(),
        },
        region: Named {
            code: s.region.clone(),
            name: s.region_name.clone(),
        },
        level: Code {
            code: s.level.code().into(),
            label: s.level.label_zh().into(),
        },
        service_objects: s
            .service_objects
            .iter()
            .map(|o| Code {
                code: o.code().into(),
                label: o.label_zh().into(),
            })
            .collect(),
        online: s.online,
        promised_limit_days: s.promised_limit_days,
        visits: s.visits,
        scope: Code {
            code: s.scope.code().into(),
            label: s.scope.label_zh().into(),
        },
        version: s.version,
        url: format!("/items/{}", s.code),
    }
}

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemList {
    /// Matching items in all.
    pub total: usize,
    /// This page, from 1.
    pub page: usize,
    /// Page size.
    pub per_page: usize,
    /// The items of this page, best match first.
    pub items: Vec<ItemBrief>,
    /// Counts per filter value.
    pub facets: ItemFacets,
}

fn facet(v: &[FacetCount]) -> Vec<FacetValue> {
    v.iter()
        .map(|c| FacetValue {
            value: c.value.clone(),
            count: c.count,
        })
        .collect()
}

/// Searches published items.
#[utoipa::path(
    get, path = "/api/v1/items", tag = "items",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of items with the total count and facet counts", body = ItemList),
        (status = 400, description = "A bad parameter; every bad one is named", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_items(
    State(s): State<Shared>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<ItemList>, ApiError> {
    let Query(params) = params.map_err(|e| {
        ServiceError::invalid(
            "query",
            &format!("查询参数无效：{e}"),
            "malformed query string",
        )
    })?;
    let q = params.to_query().map_err(ServiceError::Invalid)?;
    let res = catalogue::search(&s.platform, &q, true)?;
    let f = res.facets.unwrap_or_default();
    Ok(Json(ItemList {
        total: res.total,
        page: q.page,
        per_page: q.per_page,
        items: res.items.iter().map(|i| brief(i)).collect(),
        facets: ItemFacets {
            region: facet(&f.region),
            department: facet(&f.department),
            item_type: facet(&f.item_type),
            service_object: facet(&f.service_object),
            theme: facet(&f.theme),
            online: facet(&f.online),
            scope: facet(&f.scope),
        },
    }))
}

/// A legal basis.
#[derive(Debug, Serialize, ToSchema)]
pub struct LegalBasisDto {
    /// Law.
    pub law: String,
    /// Article.
    pub article: String,
    /// Text.
    pub text: String,
}

/// A material.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaterialDto {
    /// Name.
    pub name: String,
    /// 原件份数.
    pub originals: u8,
    /// 复印件份数.
    pub copies: u8,
    /// 材料形式.
    pub form: Code,
    /// 是否必要.
    pub required: bool,
    /// When a non-required material is needed.
    pub condition: Option<String>,
    /// 来源渠道.
    pub source: String,
    /// Notes.
    pub note: Option<String>,
    /// A blank form is provided.
    pub blank_form: bool,
    /// A sample is provided.
    pub sample: bool,
}

/// A process step.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepDto {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
}

/// A fee.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeeDto {
    /// Name.
    pub name: String,
    /// Amount.
    pub amount: String,
    /// Basis.
    pub basis: String,
}

/// A place with hours.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceDto {
    /// Name.
    pub name: String,
    /// Address.
    pub address: String,
    /// Hours.
    pub hours: String,
}

/// The complete guide of a published item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDetail {
    /// Summary fields.
    #[serde(flatten)]
    pub brief: ItemBrief,
    /// 基本编码.
    pub basic_code: String,
    /// `active`, `suspended` or `cancelled`.
    pub state: String,
    /// Why suspended or cancelled.
    pub state_reason: Option<String>,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Theme keys.
    pub themes: Vec<String>,
    /// 设定依据.
    pub legal_basis: Vec<LegalBasisDto>,
    /// 受理条件.
    pub conditions: Vec<String>,
    /// 申请材料.
    pub materials: Vec<MaterialDto>,
    /// 办理流程.
    pub process: Vec<StepDto>,
    /// 法定办结时限 (working days).
    pub statutory_limit_days: u16,
    /// 是否收费.
    pub charged: bool,
    /// 收费项目.
    pub fees: Vec<FeeDto>,
    /// 办理形式.
    pub handling_forms: Vec<Code>,
    /// 办件类型.
    pub case_type: Code,
    /// 网办深度.
    pub online_depth: Code,
    /// 办理结果.
    pub result: Named,
    /// 办理地点.
    pub places: Vec<PlaceDto>,
    /// 咨询电话.
    pub consult_phone: String,
    /// 投诉电话.
    pub complaint_phone: String,
    /// When the version was published.
    pub published_at: String,
}

fn detail(item: PublishedItem) -> ItemDetail {
    let g = item.guide;
    let code = |c: &str, l: &str| Code {
        code: c.into(),
        label: l.into(),
    };
    ItemDetail {
        brief: brief(&item.summary),
        basic_code: item.basic_code,
        state: item.summary.state.as_str().into(),
        state_reason: item.state_reason,
        aliases: g.aliases,
        themes: g.themes,
        legal_basis: g
            .legal_basis
            .into_iter()
            .map(|l| LegalBasisDto {
                law: l.law,
                article: l.article,
                text: l.text,
            })
            .collect(),
        conditions: g.conditions,
        materials: g
            .materials
            .into_iter()
            .map(|m| MaterialDto {
                form: code(m.form.code(), m.form.label_zh()),
                name: m.name,
                originals: m.original,
                copies: m.copies,
                required: m.required,
                condition: m.condition,
                source: m.source,
                note: m.note,
                blank_form: m.blank_form,
                sample: m.sample,
            })
            .collect(),
        process: g
            .process
            .into_iter()
            .map(|s| StepDto {
                name: s.name,
                description: s.description,
            })
            .collect(),
        statutory_limit_days: g.statutory_limit_days,
        charged: g.fees.as_ref().is_some_and(|f| !f.is_empty()),
        fees: g
            .fees
            .unwrap_or_default()
            .into_iter()
            .map(|f| FeeDto {
                name: f.name,
                amount: f.amount,
                basis: f.basis,
            })
            .collect(),
        handling_forms: g
            .handling_forms
            .iter()
            .map(|f| code(f.code(), f.label_zh()))
            .collect(),
        case_type: code(g.case_type.code(), g.case_type.label_zh()),
        online_depth: code(g.online_depth.code(), g.online_depth.label_zh()),
        result: Named {
            code: g.result.kind,
            name: g.result.name,
        },
        places: g
            .places
            .into_iter()
            .map(|p| PlaceDto {
                name: p.name,
                address: p.address,
                hours: p.hours,
            })
            .collect(),
        consult_phone: g.consult_phone,
        complaint_phone: g.complaint_phone,
        published_at: item.summary.published_at.clone(),
    }
}

/// The complete guide of one published item.
#[utoipa::path(
    get, path = "/api/v1/items/{code}", tag = "items",
    params(("code" = String, Path, description = "实施编码 (31 characters)")),
    responses(
        (status = 200, description = "The guide", body = ItemDetail),
        (status = 400, description = "Not a valid 实施编码", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published item with that code", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_item(
    State(s): State<Shared>,
    Path(code): Path<String>,
) -> Result<Json<ItemDetail>, ApiError> {
    let code = yiwang_domain::codes::ImplementationCode::parse(&code)
        .map_err(|e| ServiceError::invalid("code", &e.message_zh(), &e.message_en()))?;
    let item = catalogue::published(&s.platform, code.as_str()).await?;
    Ok(Json(detail(item)))
}

/// An administrative division.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionDto {
    /// GB/T 2260 code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Parent code.
    pub parent: Option<String>,
    /// province, prefecture or county.
    pub level: String,
    /// Government service centre.
    pub center: String,
    /// Its address.
    pub center_address: String,
    /// Its hours.
    pub hours: String,
}

/// Filters of the region list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionParams {
    /// Only the direct children of this region.
    pub parent: Option<String>,
}

/// Administrative divisions of the province (GB/T 2260).
#[utoipa::path(
    get, path = "/api/v1/regions", tag = "master-data", params(RegionParams),
    responses((status = 200, description = "Regions in code order", body = Vec<RegionDto>))
)]
async fn list_regions(
    State(s): State<Shared>,
    params: Result<Query<RegionParams>, QueryRejection>,
) -> Result<Json<Vec<RegionDto>>, ApiError> {
    let Query(params) = params.map_err(|e| {
        ServiceError::invalid(
            "query",
            &format!("查询参数无效：{e}"),
            "malformed query string",
        )
    })?;
    let master = s.platform.master.get();
    Ok(Json(
        master
            .regions
            .values()
            .filter(|r| params.parent.is_none() || r.parent == params.parent)
            .map(|r| RegionDto {
                code: r.code.clone(),
                name: r.name.clone(),
                parent: r.parent.clone(),
                level: r.level.clone(),
                center: r.center.clone(),
                center_address: r.center_address.clone(),
                hours: r.hours.clone(),
            })
            .collect(),
    ))
}

/// An organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationDto {
    /// 统一社会信用代码.
    pub credit_code: String,
    /// Name.
    pub name: String,
    /// Region code.
    pub region: String,
    /// 行使层级 code.
    pub level: String,
    /// Department kind key.
    pub department: Option<String>,
    /// Address.
    pub address: String,
    /// 咨询电话.
    pub consult_phone: String,
}

/// Filters of the organisation list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganisationParams {
    /// Region code (required: organisations are listed one region at a time).
    pub region: String,
}

/// Organisations of one region.
#[utoipa::path(
    get, path = "/api/v1/organisations", tag = "master-data", params(OrganisationParams),
    responses(
        (status = 200, description = "Organisations of the region, by name", body = Vec<OrganisationDto>),
        (status = 400, description = "Missing or bad region", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_organisations(
    State(s): State<Shared>,
    params: Result<Query<OrganisationParams>, QueryRejection>,
) -> Result<Json<Vec<OrganisationDto>>, ApiError> {
    let Query(params) = params.map_err(|_| {
        ServiceError::invalid(
            "region",
            "请提供行政区划代码 region",
            "the region parameter is required",
        )
    })?;
    let master = s.platform.master.get();
    if master.region(&params.region).is_none() {
        return Err(ServiceError::invalid(
            "region",
            &format!("没有行政区划 {}", params.region),
            &format!("no such region {}", params.region),
        )
        .into());
    }
    let mut orgs: Vec<OrganisationDto> = master
        .organisations
        .values()
        .filter(|o| o.region == params.region)
        .map(|o| OrganisationDto {
            credit_code: o.credit_code.clone(),
            name: o.name.clone(),
            region: o.region.clone(),
            level: o.level.clone(),
            department: o.department.clone(),
            address: o.address.clone(),
            consult_phone: o.consult_phone.clone(),
        })
        .collect();
    orgs.sort_by(|a, b| a.credit_code.cmp(&b.credit_code));
    Ok(Json(orgs))
}

/// A life-event theme.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThemeDto {
    /// Key (the `theme` filter).
    pub key: String,
    /// `person` or `legal`.
    pub object: String,
    /// Name.
    pub name: String,
}

/// Life-event themes.
#[utoipa::path(
    get, path = "/api/v1/themes", tag = "master-data",
    responses((status = 200, description = "Themes in display order", body = Vec<ThemeDto>))
)]
async fn list_themes(State(s): State<Shared>) -> Json<Vec<ThemeDto>> {
    Json(
        s.platform
            .master
            .get()
            .themes
            .iter()
            .map(|t| ThemeDto {
                key: t.key.clone(),
                object: t.object.clone(),
                name: t.name.clone(),
            })
            .collect(),
    )
}
