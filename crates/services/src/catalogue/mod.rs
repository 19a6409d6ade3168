//! 政务服务事项管理: the implementation list (实施清单), its versions, review and publication.
//!
//! Life of an item: an item manager (事项管理员) creates it from a provincial catalogue entry
//! (目录清单) as version 1 (新增), edits the draft, and submits it; submission runs the guide
//! quality checks. A reviewer (事项审核员) whose region contains the item approves it (the
//! version is published and immutable from then on) or returns it with a reason. A change (变更)
//! opens a new version copied from the published one; when approved it supersedes the old.
//! Items can be suspended (暂停), resumed and cancelled (取消). Every action is recorded in
//! `item_events` with who, when and why, in the same transaction as the change.
//!
//! Portal reads go through [`SummaryCache`] (small summaries of every published item) and the
//! search index; both are refreshed from the database after each committed change.

pub mod excel;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use yiwang_domain::codes::{ImplementationCode, RegionCode};
use yiwang_domain::dict::{CaseType, CrossRegionScope, ExerciseLevel, ItemType, ServiceObject};
use yiwang_domain::diff::{self, Section};
use yiwang_domain::item::{ChangeKind, Guide, ItemState, Place, VersionStatus, transitions};
use yiwang_domain::quality::{self, QualityReport};
use yiwang_search::{Facets, Filters, ItemDoc, SearchQuery};
use yiwang_store::{Any, Row, Transaction, fmt_time};

use crate::error::CellError;
use crate::identity::authz::{self, ItemAccess};
use crate::identity::staff::{Role, Staff};
use crate::masterdata::{MasterData, Organisation};
use crate::{FieldError, Platform, ServiceError};

/// What the portal needs to list an item without reading its guide.
#[derive(Debug, Clone, Serialize)]
pub struct ItemSummary {
    /// 实施编码.
    pub code: String,
    /// 事项名称.
    pub name: String,
    /// Implementing organisation's credit code.
    pub org: String,
    /// Its name.
    pub org_name: String,
    /// Region code of the implementing organisation.
    pub region: String,
    /// Region name.
    pub region_name: String,
    /// 行使层级.
    pub level: ExerciseLevel,
    /// 事项类型.
    pub item_type: ItemType,
    /// State of the item.
    pub state: ItemState,
    /// Published version number.
    pub version: i64,
    /// Whether it can be applied for online.
    pub online: bool,
    /// 承诺办结时限, working days.
    pub promised_limit_days: u16,
    /// 办件类型.
    pub case_type: CaseType,
    /// 到现场次数.
    pub visits: u8,
    /// 服务对象.
    pub service_objects: Vec<ServiceObject>,
    /// 通办范围.
    pub scope: CrossRegionScope,
    /// When the published version was published.
    pub published_at: String,
}

/// Summaries of every published item (active, suspended or cancelled), by code.
#[derive(Debug, Default)]
pub struct SummaryCache(RwLock<HashMap<String, Arc<ItemSummary>>>);

impl SummaryCache {
    /// The summary of an item, if it was ever published.
    pub fn get(&self, code: &str) -> Option<Arc<ItemSummary>> {
        match self.0.read() {
            Ok(g) => g.get(code).cloned(),
            Err(p) => p.into_inner().get(code).cloned(),
        }
    }

    /// Summaries of many codes, in the given order, skipping unknown ones.
    pub fn get_many(&self, codes: &[String]) -> Vec<Arc<ItemSummary>> {
        let map = match self.0.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        codes.iter().filter_map(|c| map.get(c).cloned()).collect()
    }

    /// How many items are published and active.
    pub fn active_count(&self) -> usize {
        match self.0.read() {
            Ok(g) => g.values().filter(|s| s.state == ItemState::Active).count(),
            Err(_) => 0,
        }
    }

    fn replace(&self, map: HashMap<String, Arc<ItemSummary>>) {
        match self.0.write() {
            Ok(mut g) => *g = map,
            Err(p) => *p.into_inner() = map,
        }
    }

    fn put(&self, s: ItemSummary) {
        let s = Arc::new(s);
        match self.0.write() {
            Ok(mut g) => {
                g.insert(s.code.clone(), s);
            }
            Err(p) => {
                p.into_inner().insert(s.code.clone(), s);
            }
        }
    }
}

/// A published item with its guide, as the portal shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedItem {
    /// The summary.
    pub summary: Arc<ItemSummary>,
    /// 基本编码.
    pub basic_code: String,
    /// The guide of the published version.
    pub guide: Guide,
    /// Why the item is suspended or cancelled, if it is.
    pub state_reason: Option<String>,
}

fn item_doc(master: &MasterData, s: &ItemSummary, guide: &Guide, popularity: i64) -> ItemDoc {
    ItemDoc {
        code: s.code.clone(),
        name: guide.name.clone(),
        aliases: guide.aliases.clone(),
        body: guide.body_text(),
        materials: guide.materials.iter().map(|m| m.name.clone()).collect(),
        legal_basis: guide.legal_text(),
        department: s.org.clone(),
        department_name: s.org_name.clone(),
        region: s.region.clone(),
        region_path: master.region_path(&s.region),
        level: s.level.code().to_string(),
        item_type: guide.item_type.code().to_string(),
        service_objects: guide
            .service_objects
            .iter()
            .map(|o| o.code().to_string())
            .collect(),
        themes: guide.themes.clone(),
        online: guide.online(),
        scope: guide.scope.code().to_string(),
        popularity: u32::try_from(popularity.max(0)).unwrap_or(u32::MAX),
    }
}

const PUBLISHED_SQL: &str = "SELECT i.code, i.org, i.region, i.level, i.state, i.state_reason, \
    i.basic_code, i.published_version, i.popularity, v.guide, v.published_at \
    FROM items i JOIN item_versions v ON v.item_code = i.code AND v.version = i.published_version";

struct PublishedRow {
    code: String,
    org: String,
    region: String,
    level: String,
    state: ItemState,
    state_reason: Option<String>,
    basic_code: String,
    version: i64,
    popularity: i64,
    guide: Guide,
    published_at: String,
}

fn published_row(r: &yiwang_store::AnyRow) -> Result<PublishedRow, ServiceError> {
    let state: String = r.try_get("state")?;
    let guide: String = r.try_get("guide")?;
    Ok(PublishedRow {
        code: r.try_get("code")?,
        org: r.try_get("org")?,
        region: r.try_get("region")?,
        level: r.try_get("level")?,
        state: ItemState::parse(&state)
            .ok_or_else(|| ServiceError::internal(format!("bad item state {state}")))?,
        state_reason: r.try_get("state_reason")?,
        basic_code: r.try_get("basic_code")?,
        version: r.try_get("published_version")?,
        popularity: r.try_get("popularity")?,
        guide: serde_json::from_str(&guide)?,
        published_at: r
            .try_get::<Option<String>, _>("published_at")?
            .unwrap_or_default(),
    })
}

impl PublishedRow {
    fn summary(&self, master: &MasterData) -> ItemSummary {
        let g = &self.guide;
        ItemSummary {
            code: self.code.clone(),
            name: g.name.clone(),
            org: self.org.clone(),
            org_name: master
                .organisation(&self.org)
                .map(|o| o.name.clone())
                .unwrap_or_default(),
            region: self.region.clone(),
            region_name: master.region_name(&self.region),
            level: ExerciseLevel::from_code(&self.level).unwrap_or(ExerciseLevel::Provincial),
            item_type: g.item_type,
            state: self.state,
            version: self.version,
            online: g.online(),
            promised_limit_days: g.promised_limit_days,
            case_type: g.case_type,
            visits: g.visits,
            service_objects: g.service_objects.clone(),
            scope: g.scope,
            published_at: self.published_at.clone(),
        }
    }
}

/// Rows read per page when rebuilding.
const REBUILD_PAGE: i64 = 2000;

/// Rebuilds the summaries and the search index from the database (at start and after bulk
/// loads). Only active items are searchable.
///
/// Memory stays bounded whatever the catalogue's size: rows are read a page at a time and
/// handed to the indexing thread through a small bounded channel, so no more than a few
/// thousand guides are in memory at once.
pub async fn rebuild_index(p: &Platform) -> Result<(), ServiceError> {
    let master = p.master.get();
    let (tx, rx) = std::sync::mpsc::sync_channel::<ItemDoc>(256);
    let index = p.search.clone();
    let indexer = std::thread::Builder::new()
        .name("yiwang-reindex".into())
        .spawn(move || index.replace_all(rx))
        .map_err(|e| ServiceError::internal(format!("starting the indexer: {e}")))?;
    let mut map = HashMap::new();
    let mut after = String::new();
    let sql = format!("{PUBLISHED_SQL} WHERE i.code > $1 ORDER BY i.code LIMIT {REBUILD_PAGE}");
    let fed: Result<(), ServiceError> = async {
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(&after)
                .fetch_all(p.db.pool())
                .await?;
            let n = rows.len();
            for r in &rows {
                let row = published_row(r)?;
                let s = row.summary(&master);
                if row.state == ItemState::Active
                    && tx
                        .send(item_doc(&master, &s, &row.guide, row.popularity))
                        .is_err()
                {
                    // The indexer stopped early; its error is reported below.
                    return Ok(());
                }
                after.clone_from(&s.code);
                map.insert(s.code.clone(), Arc::new(s));
            }
            if i64::try_from(n).unwrap_or(0) < REBUILD_PAGE {
                return Ok(());
            }
        }
    }
    .await;
    drop(tx);
    let indexed = indexer
        .join()
        .map_err(|_| ServiceError::internal("the indexer thread panicked"))?;
    fed?;
    indexed?;
    p.summaries.replace(map);
    Ok(())
}

/// Refreshes one item's summary and index entry after a committed change.
pub async fn refresh_item(p: &Platform, code: &str) -> Result<(), ServiceError> {
    let master = p.master.get();
    let sql = format!("{PUBLISHED_SQL} WHERE i.code = $1");
    let Some(r) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(code)
        .fetch_optional(p.db.pool())
        .await?
    else {
        p.search.remove(code)?;
        return Ok(());
    };
    let row = published_row(&r)?;
    let s = row.summary(&master);
    if row.state == ItemState::Active {
        p.search
            .upsert(item_doc(&master, &s, &row.guide, row.popularity))?;
    } else {
        p.search.remove(code)?;
    }
    p.summaries.put(s);
    Ok(())
}

/// The published guide of an item, for the portal and the API.
pub async fn published(p: &Platform, code: &str) -> Result<PublishedItem, ServiceError> {
    let not_found = || ServiceError::NotFound {
        what: "事项",
        key: code.to_string(),
    };
    let sql = format!("{PUBLISHED_SQL} WHERE i.code = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(code)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or_else(not_found)?;
    let row = published_row(&r)?;
    let summary = p
        .summaries
        .get(code)
        .filter(|s| s.version == row.version && s.state == row.state)
        .unwrap_or_else(|| Arc::new(row.summary(&p.master.get())));
    Ok(PublishedItem {
        summary,
        basic_code: row.basic_code,
        guide: row.guide,
        state_reason: row.state_reason,
    })
}

/// A portal or API search: text, filters and paging, as the user gave them.
#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    /// Free text; empty lists everything.
    pub q: String,
    /// Region of the implementing body (exactly that region).
    pub region: Option<String>,
    /// Implementing organisation's credit code.
    pub department: Option<String>,
    /// 事项类型 code.
    pub item_type: Option<String>,
    /// `person` (个人) or `legal` (法人).
    pub object: Option<String>,
    /// Theme key.
    pub theme: Option<String>,
    /// Online-capable only (or offline only).
    pub online: Option<bool>,
    /// 通办范围 code.
    pub scope: Option<String>,
    /// 1-based page.
    pub page: usize,
    /// Page size (1..=100).
    pub per_page: usize,
}

/// One page of search results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// Matching items in all.
    pub total: usize,
    /// This page's items.
    pub items: Vec<Arc<ItemSummary>>,
    /// Counts per filter value over all matches.
    pub facets: Option<Facets>,
}

/// Checks a query's filters; every bad one is reported.
pub fn check_query(master: &MasterData, q: &ItemQuery) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if q.q.chars().count() > 100 {
        errs.push(FieldError::new(
            "q",
            "搜索词不能超过100个字",
            "the search text is longer than 100 characters",
        ));
    }
    if let Some(r) = &q.region {
        match RegionCode::parse(r) {
            Ok(code) if master.region(code.as_str()).is_some() => {}
            Ok(_) => errs.push(FieldError::new(
                "region",
                format!("没有行政区划 {r}"),
                format!("no such region {r}"),
            )),
            Err(e) => errs.push(FieldError::new("region", e.message_zh(), e.message_en())),
        }
    }
    if let Some(t) = &q.item_type
        && ItemType::from_code(t).is_none()
    {
        errs.push(FieldError::new(
            "type",
            format!("事项类型代码 {t} 不存在（应为 01-10 或 20）"),
            format!("unknown item type {t} (01-10 or 20)"),
        ));
    }
    if let Some(o) = &q.object
        && o != "person"
        && o != "legal"
    {
        errs.push(FieldError::new(
            "object",
            "服务对象应为 person（个人）或 legal（法人）",
            "object must be person or legal",
        ));
    }
    if let Some(t) = &q.theme
        && master.theme(t).is_none()
    {
        errs.push(FieldError::new(
            "theme",
            format!("主题 {t} 不存在"),
            format!("no such theme {t}"),
        ));
    }
    if let Some(s) = &q.scope
        && CrossRegionScope::from_code(s).is_none()
    {
        errs.push(FieldError::new(
            "scope",
            format!("通办范围代码 {s} 不存在（应为 0-4）"),
            format!("unknown scope {s} (0-4)"),
        ));
    }
    if let Some(d) = &q.department
        && master.organisation(d).is_none()
    {
        errs.push(FieldError::new(
            "department",
            format!("实施主体 {d} 不存在"),
            format!("no such organisation {d}"),
        ));
    }
    if q.page == 0 || q.page > 10_000 {
        errs.push(FieldError::new(
            "page",
            "页码应在 1 到 10000 之间",
            "page must be between 1 and 10000",
        ));
    }
    if q.per_page == 0 || q.per_page > 100 {
        errs.push(FieldError::new(
            "per_page",
            "每页条数应在 1 到 100 之间",
            "per_page must be between 1 and 100",
        ));
    }
    errs
}

/// Searches published, active items.
pub fn search(p: &Platform, q: &ItemQuery, facets: bool) -> Result<SearchPage, ServiceError> {
    let errs = check_query(&p.master.get(), q);
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let filters = Filters {
        region: q.region.clone(),
        region_subtree: false,
        department: q.department.clone(),
        item_type: q.item_type.clone(),
        service_object: None,
        person: q.object.as_deref().map(|o| o == "person"),
        theme: q.theme.clone(),
        online: q.online,
        scope: q.scope.clone(),
    };
    let res = p.search.search(&SearchQuery {
        text: q.q.trim().to_string(),
        filters,
        offset: (q.page - 1) * q.per_page,
        limit: q.per_page,
        facets,
    })?;
    let codes: Vec<String> = res.hits.into_iter().map(|h| h.code).collect();
    Ok(SearchPage {
        total: res.total,
        items: p.summaries.get_many(&codes),
        facets: res.facets,
    })
}

// ---------------------------------------------------------------------------------------------
// Management

/// An implementation item as its managers see it.
#[derive(Debug, Clone, Serialize)]
pub struct ItemRecord {
    /// 实施编码.
    pub code: String,
    /// 基本编码.
    pub basic_code: String,
    /// Implementing organisation.
    pub org: String,
    /// Its name.
    pub org_name: String,
    /// Region code.
    pub region: String,
    /// 行使层级 code.
    pub level: String,
    /// State.
    pub state: ItemState,
    /// Reason of a suspension or cancellation.
    pub state_reason: Option<String>,
    /// Name of the latest version.
    pub name: String,
    /// Published version, if any.
    pub published_version: Option<i64>,
    /// Latest version.
    pub latest_version: i64,
    /// Status of the latest version.
    pub latest_status: VersionStatus,
    /// Last change.
    pub updated_at: String,
}

/// One version of an item.
#[derive(Debug, Clone, Serialize)]
pub struct VersionRecord {
    /// Version number, from 1.
    pub version: i64,
    /// Status.
    pub status: VersionStatus,
    /// 新增 or 变更.
    pub change_kind: ChangeKind,
    /// The guide.
    pub guide: Guide,
    /// Author (display name).
    pub created_by: String,
    /// Created at.
    pub created_at: String,
    /// Submitted at.
    pub submitted_at: Option<String>,
    /// Reviewer (display name).
    pub reviewed_by: Option<String>,
    /// Reviewed at.
    pub reviewed_at: Option<String>,
    /// The reviewer's comment or reason for returning.
    pub review_comment: Option<String>,
    /// Published at.
    pub published_at: Option<String>,
}

/// One history record: who did what and when.
#[derive(Debug, Clone, Serialize)]
pub struct ItemEvent {
    /// Version concerned.
    pub version: Option<i64>,
    /// Action (create, edit, submit, approve, return, change, suspend, resume, cancel, discard,
    /// import).
    pub action: String,
    /// Actor's display name.
    pub actor_name: String,
    /// Actor's organisation name.
    pub actor_org: String,
    /// Comment or reason.
    pub comment: Option<String>,
    /// When.
    pub at: String,
}

impl ItemEvent {
    /// The action in Chinese.
    pub fn action_zh(&self) -> &'static str {
        match self.action.as_str() {
            "create" => "新增",
            "edit" => "编辑",
            "submit" => "提交审核",
            "approve" => "审核通过并发布",
            "return" => "退回",
            "change" => "发起变更",
            "suspend" => "暂停",
            "resume" => "恢复",
            "cancel" => "取消",
            "discard" => "废弃草稿",
            "import" => "导入",
            "demo" => "演示数据装载",
            _ => "其他",
        }
    }
}

const ITEM_SQL: &str = "SELECT i.code, i.basic_code, i.org, i.region, i.level, i.state, \
    i.state_reason, i.name, i.published_version, i.latest_version, i.updated_at, \
    v.status AS latest_status FROM items i \
    JOIN item_versions v ON v.item_code = i.code AND v.version = i.latest_version";

fn item_record(master: &MasterData, r: &yiwang_store::AnyRow) -> Result<ItemRecord, ServiceError> {
    let state: String = r.try_get("state")?;
    let status: String = r.try_get("latest_status")?;
    let org: String = r.try_get("org")?;
    Ok(ItemRecord {
        code: r.try_get("code")?,
        basic_code: r.try_get("basic_code")?,
        org_name: master
            .organisation(&org)
            .map(|o| o.name.clone())
            .unwrap_or_default(),
        org,
        region: r.try_get("region")?,
        level: r.try_get("level")?,
        state: ItemState::parse(&state)
            .ok_or_else(|| ServiceError::internal(format!("bad state {state}")))?,
        state_reason: r.try_get("state_reason")?,
        name: r.try_get("name")?,
        published_version: r.try_get("published_version")?,
        latest_version: r.try_get("latest_version")?,
        latest_status: VersionStatus::parse(&status)
            .ok_or_else(|| ServiceError::internal(format!("bad status {status}")))?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// An item's record, for its managers and reviewers.
pub async fn item(p: &Platform, actor: &Staff, code: &str) -> Result<ItemRecord, ServiceError> {
    let rec = load_item(p, code).await?;
    authorize_read(actor, &rec)?;
    Ok(rec)
}

async fn load_item(p: &Platform, code: &str) -> Result<ItemRecord, ServiceError> {
    let sql = format!("{ITEM_SQL} WHERE i.code = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(code)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or_else(|| ServiceError::NotFound {
            what: "事项",
            key: code.to_string(),
        })?;
    item_record(&p.master.get(), &r)
}

fn may_review(actor: &Staff, region: &str) -> bool {
    authz::may_review_items(actor, region)
}

fn access(actor: &Staff, rec: &ItemRecord, what: ItemAccess) -> Result<(), ServiceError> {
    authz::item_access(
        actor,
        what,
        &rec.code,
        &rec.org,
        &rec.region,
        rec.state != ItemState::Draft,
    )
}

fn authorize_read(actor: &Staff, rec: &ItemRecord) -> Result<(), ServiceError> {
    access(actor, rec, ItemAccess::Read)
}

fn authorize_manage(actor: &Staff, rec: &ItemRecord) -> Result<(), ServiceError> {
    access(actor, rec, ItemAccess::Manage)
}

fn authorize_review(actor: &Staff, rec: &ItemRecord) -> Result<(), ServiceError> {
    access(actor, rec, ItemAccess::Review)
}

/// The versions of an item, newest first.
pub async fn versions(
    p: &Platform,
    actor: &Staff,
    code: &str,
) -> Result<Vec<VersionRecord>, ServiceError> {
    item(p, actor, code).await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{VERSION_SQL} WHERE v.item_code = $1 ORDER BY v.version DESC"
    )))
    .bind(code)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(version_record).collect()
}

const VERSION_SQL: &str = "SELECT v.version, v.status, v.change_kind, v.guide, \
    c.display_name AS created_by, v.created_at, v.submitted_at, r.display_name AS reviewed_by, \
    v.reviewed_at, v.review_comment, v.published_at FROM item_versions v \
    LEFT JOIN staff c ON c.id = v.created_by LEFT JOIN staff r ON r.id = v.reviewed_by";

fn version_record(r: &yiwang_store::AnyRow) -> Result<VersionRecord, ServiceError> {
    let status: String = r.try_get("status")?;
    let kind: String = r.try_get("change_kind")?;
    let guide: String = r.try_get("guide")?;
    Ok(VersionRecord {
        version: r.try_get("version")?,
        status: VersionStatus::parse(&status)
            .ok_or_else(|| ServiceError::internal(format!("bad status {status}")))?,
        change_kind: ChangeKind::parse(&kind)
            .ok_or_else(|| ServiceError::internal(format!("bad change kind {kind}")))?,
        guide: serde_json::from_str(&guide)?,
        created_by: r
            .try_get::<Option<String>, _>("created_by")?
            .unwrap_or_else(|| "系统".into()),
        created_at: r.try_get("created_at")?,
        submitted_at: r.try_get("submitted_at")?,
        reviewed_by: r.try_get("reviewed_by")?,
        reviewed_at: r.try_get("reviewed_at")?,
        review_comment: r.try_get("review_comment")?,
        published_at: r.try_get("published_at")?,
    })
}

/// One version of an item.
pub async fn version(
    p: &Platform,
    actor: &Staff,
    code: &str,
    version: i64,
) -> Result<VersionRecord, ServiceError> {
    item(p, actor, code).await?;
    load_version(p, code, version).await
}

pub(crate) async fn load_version(
    p: &Platform,
    code: &str,
    version: i64,
) -> Result<VersionRecord, ServiceError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{VERSION_SQL} WHERE v.item_code = $1 AND v.version = $2"
    )))
    .bind(code)
    .bind(version)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or_else(|| ServiceError::NotFound {
        what: "版本",
        key: format!("{code} v{version}"),
    })?;
    version_record(&r)
}

/// The history of an item, oldest first.
pub async fn history(
    p: &Platform,
    actor: &Staff,
    code: &str,
) -> Result<Vec<ItemEvent>, ServiceError> {
    item(p, actor, code).await?;
    let rows = sqlx::query(
        "SELECT version, action, actor_name, actor_org, comment, at FROM item_events \
         WHERE item_code = $1 ORDER BY at, id",
    )
    .bind(code)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ItemEvent {
                version: r.try_get("version")?,
                action: r.try_get("action")?,
                actor_name: r.try_get("actor_name")?,
                actor_org: r.try_get("actor_org")?,
                comment: r.try_get("comment")?,
                at: r.try_get("at")?,
            })
        })
        .collect()
}

/// Side-by-side differences between two versions.
pub async fn compare(
    p: &Platform,
    actor: &Staff,
    code: &str,
    from: i64,
    to: i64,
) -> Result<Vec<Section>, ServiceError> {
    item(p, actor, code).await?;
    let a = load_version(p, code, from).await?;
    let b = load_version(p, code, to).await?;
    Ok(diff::diff(&a.guide, &b.guide))
}

/// The quality report of a version's guide.
pub async fn quality_of(
    p: &Platform,
    actor: &Staff,
    code: &str,
    version: i64,
) -> Result<QualityReport, ServiceError> {
    let v = self::version(p, actor, code, version).await?;
    Ok(quality::check(&v.guide))
}

/// Items of the actor's organisation (item managers), newest change first.
pub async fn org_items(p: &Platform, actor: &Staff) -> Result<Vec<ItemRecord>, ServiceError> {
    actor.require(Role::ItemManager)?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ITEM_SQL} WHERE i.org = $1 ORDER BY i.updated_at DESC, i.code"
    )))
    .bind(&actor.org)
    .fetch_all(p.db.pool())
    .await?;
    let master = p.master.get();
    rows.iter().map(|r| item_record(&master, r)).collect()
}

/// Versions waiting for the actor's review (their region), oldest submission first.
pub async fn review_queue(p: &Platform, actor: &Staff) -> Result<Vec<ItemRecord>, ServiceError> {
    actor.require(Role::ItemReviewer)?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ITEM_SQL} WHERE v.status = 'submitted' ORDER BY v.submitted_at, i.code"
    )))
    .fetch_all(p.db.pool())
    .await?;
    let master = p.master.get();
    let mut out = Vec::new();
    for r in &rows {
        let rec = item_record(&master, r)?;
        if may_review(actor, &rec.region) {
            out.push(rec);
        }
    }
    Ok(out)
}

/// A provincial catalogue entry (目录清单条目) an organisation may implement.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueEntry {
    /// 基本编码.
    pub basic_code: String,
    /// Name.
    pub name: String,
    /// 事项类型.
    pub item_type: ItemType,
    /// Whether the actor's organisation already implements it.
    pub implemented: bool,
}

/// The catalogue entries of the actor's department.
pub async fn catalogue_for(
    p: &Platform,
    actor: &Staff,
) -> Result<Vec<CatalogueEntry>, ServiceError> {
    actor.require(Role::ItemManager)?;
    let master = p.master.get();
    let dept = master
        .organisation(&actor.org)
        .and_then(|o| o.department.clone())
        .unwrap_or_default();
    let rows = sqlx::query(
        "SELECT c.basic_code, c.name, c.item_type, \
         (SELECT count(*) FROM items i WHERE i.basic_code = c.basic_code AND i.org = $2) AS n \
         FROM catalogue_items c WHERE c.department = $1 ORDER BY c.basic_code",
    )
    .bind(&dept)
    .bind(&actor.org)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let t: String = r.try_get("item_type")?;
            Ok(CatalogueEntry {
                basic_code: r.try_get("basic_code")?,
                name: r.try_get("name")?,
                item_type: ItemType::from_code(&t).unwrap_or(ItemType::PublicService),
                implemented: r.try_get::<i64, _>("n")? > 0,
            })
        })
        .collect()
}

/// The guide an organisation starts from when it implements a catalogue entry: the entry's
/// template plus the organisation's place, hours and phones.
pub fn guide_for_org(template: &Guide, org: &Organisation, master: &MasterData) -> Guide {
    let mut g = template.clone();
    let center = master.region(&org.region);
    g.places = vec![Place {
        name: center
            .map(|c| c.center.clone())
            .unwrap_or_else(|| org.name.clone()),
        address: org.address.clone(),
        hours: org.hours.clone(),
    }];
    g.consult_phone = org.consult_phone.clone();
    g.complaint_phone = org.complaint_phone.clone();
    g
}

/// Structural checks on a guide before it is saved (quality checks come at submission).
pub fn validate_guide(master: &MasterData, g: &Guide) -> Vec<FieldError> {
    let mut e = Vec::new();
    let len = |s: &str| s.chars().count();
    if g.name.trim().is_empty() {
        e.push(FieldError::new(
            "name",
            "请填写事项名称",
            "name is required",
        ));
    } else if len(&g.name) > yiwang_domain::item::MAX_NAME_CHARS {
        e.push(FieldError::new(
            "name",
            "事项名称不能超过120个字",
            "name is longer than 120 characters",
        ));
    }
    if g.service_objects.is_empty() {
        e.push(FieldError::new(
            "service_objects",
            "请至少选择一个服务对象",
            "choose at least one service object",
        ));
    }
    if g.handling_forms.is_empty() {
        e.push(FieldError::new(
            "handling_forms",
            "请至少选择一种办理形式",
            "choose at least one handling form",
        ));
    }
    for t in &g.themes {
        if master.theme(t).is_none() {
            e.push(FieldError::new(
                "themes",
                format!("主题“{t}”不存在"),
                format!("no such theme {t}"),
            ));
        }
    }
    if g.statutory_limit_days > 365 || g.promised_limit_days > 365 {
        e.push(FieldError::new(
            "limits",
            "办结时限不能超过365个工作日",
            "time limits cannot exceed 365 working days",
        ));
    }
    if g.visits > 9 {
        e.push(FieldError::new(
            "visits",
            "到现场次数应在0到9之间",
            "visits must be 0 to 9",
        ));
    }
    for (i, m) in g.materials.iter().enumerate() {
        if m.name.trim().is_empty() {
            e.push(FieldError::new(
                format!("materials[{i}].name"),
                format!("第{}项材料缺少名称", i + 1),
                format!("material {} has no name", i + 1),
            ));
        }
        if len(&m.name) > 200 {
            e.push(FieldError::new(
                format!("materials[{i}].name"),
                "材料名称不能超过200个字",
                "material name is longer than 200 characters",
            ));
        }
    }
    let long = |s: &str| len(s) > 4000;
    if g.conditions.iter().any(|c| long(c))
        || g.legal_basis.iter().any(|l| long(&l.text))
        || g.process.iter().any(|s| long(&s.description))
    {
        e.push(FieldError::new(
            "text",
            "单项文字不能超过4000个字",
            "a text is longer than 4000 characters",
        ));
    }
    if len(&g.consult_phone) > 40 || len(&g.complaint_phone) > 40 {
        e.push(FieldError::new(
            "phones",
            "电话号码过长",
            "phone number too long",
        ));
    }
    e
}

async fn record_event(
    tx: &mut Transaction<'static, Any>,
    p: &Platform,
    code: &str,
    version: Option<i64>,
    action: &str,
    actor: &Staff,
    comment: Option<&str>,
) -> Result<(), ServiceError> {
    sqlx::query(
        "INSERT INTO item_events (id, item_code, version, action, actor, actor_name, actor_org, \
         comment, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(code)
    .bind(version)
    .bind(action)
    .bind(&actor.id)
    .bind(&actor.display_name)
    .bind(&actor.org_name)
    .bind(comment)
    .bind(fmt_time(p.now()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn outbox(
    tx: &mut Transaction<'static, Any>,
    p: &Platform,
    topic: &str,
    payload: serde_json::Value,
) -> Result<(), ServiceError> {
    sqlx::query("INSERT INTO outbox (id, topic, payload, created_at) VALUES ($1, $2, $3, $4)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(topic)
        .bind(payload.to_string())
        .bind(fmt_time(p.now()))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts a new item with its first version, inside a transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_item(
    tx: &mut Transaction<'static, Any>,
    now: &str,
    code: &ImplementationCode,
    org: &Organisation,
    guide: &Guide,
    status: VersionStatus,
    author: &str,
    popularity: i64,
) -> Result<(), ServiceError> {
    let published = status == VersionStatus::Published;
    sqlx::query(
        "INSERT INTO items (code, basic_code, org, region, level, state, state_reason, name, \
         published_version, latest_version, popularity, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, 1, $9, $10, $10)",
    )
    .bind(code.as_str())
    .bind(code.basic().as_str())
    .bind(&org.credit_code)
    .bind(&org.region)
    .bind(code.level().code())
    .bind(if published { "active" } else { "draft" })
    .bind(&guide.name)
    .bind(published.then_some(1_i64))
    .bind(popularity)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO item_versions (item_code, version, status, change_kind, guide, created_by, \
         created_at, updated_at, published_at) VALUES ($1, 1, $2, 'new', $3, $4, $5, $5, $6)",
    )
    .bind(code.as_str())
    .bind(status.as_str())
    .bind(serde_json::to_string(guide)?)
    .bind(author)
    .bind(now)
    .bind(published.then_some(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Creates an implementation item of the actor's organisation from a catalogue entry.
pub async fn create(
    p: &Platform,
    actor: &Staff,
    basic_code: &str,
) -> Result<ImplementationCode, ServiceError> {
    actor.require(Role::ItemManager)?;
    let master = p.master.get();
    let org = master
        .organisation(&actor.org)
        .ok_or_else(|| ServiceError::Forbidden("所在单位不存在".into()))?;
    let r = sqlx::query("SELECT template, department FROM catalogue_items WHERE basic_code = $1")
        .bind(basic_code)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or_else(|| {
            ServiceError::invalid(
                "basic_code",
                &format!("目录清单中没有基本编码 {basic_code}"),
                &format!("no catalogue entry {basic_code}"),
            )
        })?;
    let dept: String = r.try_get("department")?;
    if org.department.as_deref() != Some(dept.as_str()) {
        return Err(ServiceError::Forbidden("只能实施本部门的目录事项".into()));
    }
    let template: Guide = serde_json::from_str(&r.try_get::<String, _>("template")?)?;
    let credit = yiwang_domain::codes::CreditCode::parse(&org.credit_code)
        .map_err(|e| ServiceError::internal(e.message_en()))?;
    let basic = yiwang_domain::codes::BasicCode::parse(basic_code)
        .map_err(|e| ServiceError::invalid("basic_code", &e.message_zh(), &e.message_en()))?;
    let level = ExerciseLevel::from_code(&org.level).unwrap_or(ExerciseLevel::Provincial);
    let code = ImplementationCode::new(&credit, level, &basic);
    let guide = guide_for_org(&template, org, &master);
    let now = fmt_time(p.now());
    let mut tx = p.db.begin().await?;
    let exists = sqlx::query("SELECT code FROM items WHERE code = $1")
        .bind(code.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_some() {
        return Err(ServiceError::Conflict(format!(
            "本单位已实施该事项（实施编码 {code}）"
        )));
    }
    insert_item(
        &mut tx,
        &now,
        &code,
        org,
        &guide,
        VersionStatus::Draft,
        &actor.id,
        0,
    )
    .await?;
    record_event(&mut tx, p, code.as_str(), Some(1), "create", actor, None).await?;
    tx.commit().await?;
    Ok(code)
}

/// Saves the guide of an editable version.
pub async fn save(
    p: &Platform,
    actor: &Staff,
    code: &str,
    version: i64,
    guide: &Guide,
) -> Result<(), ServiceError> {
    let rec = load_item(p, code).await?;
    authorize_manage(actor, &rec)?;
    let errs = validate_guide(&p.master.get(), guide);
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let v = load_version(p, code, version).await?;
    transitions::edit(v.status)?;
    let now = fmt_time(p.now());
    let mut tx = p.db.begin().await?;
    let n = sqlx::query(
        "UPDATE item_versions SET guide = $1, updated_at = $2 \
         WHERE item_code = $3 AND version = $4 AND status IN ('draft', 'returned')",
    )
    .bind(serde_json::to_string(guide)?)
    .bind(&now)
    .bind(code)
    .bind(version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(ServiceError::Conflict(
            "该版本刚刚被他人修改，请刷新后重试".into(),
        ));
    }
    sqlx::query(
        "UPDATE items SET name = $1, updated_at = $2 WHERE code = $3 AND latest_version = $4",
    )
    .bind(&guide.name)
    .bind(&now)
    .bind(code)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    record_event(&mut tx, p, code, Some(version), "edit", actor, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves a version from one status to another, atomically; `Conflict` if someone was faster.
async fn set_status(
    tx: &mut Transaction<'static, Any>,
    code: &str,
    version: i64,
    from: VersionStatus,
    to: VersionStatus,
    extra_sql: &str,
    extra: &[Option<String>],
) -> Result<(), ServiceError> {
    let sql = format!(
        "UPDATE item_versions SET status = $1{extra_sql} WHERE item_code = $2 AND version = $3 \
         AND status = $4"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(to.as_str())
        .bind(code)
        .bind(version)
        .bind(from.as_str());
    for v in extra {
        q = q.bind(v.clone());
    }
    if q.execute(&mut **tx).await?.rows_affected() != 1 {
        return Err(ServiceError::Conflict(
            "该版本状态刚刚发生变化，请刷新后重试".into(),
        ));
    }
    Ok(())
}

/// Submits a version for review; refused with the quality report when a check fails.
pub async fn submit(
    p: &Platform,
    actor: &Staff,
    code: &str,
    version: i64,
) -> Result<(), ServiceError> {
    let rec = load_item(p, code).await?;
    authorize_manage(actor, &rec)?;
    let v = load_version(p, code, version).await?;
    let to = transitions::submit(v.status)?;
    let report = quality::check(&v.guide);
    if !report.passed() {
        return Err(ServiceError::Quality(report));
    }
    let now = fmt_time(p.now());
    let mut tx = p.db.begin().await?;
    set_status(
        &mut tx,
        code,
        version,
        v.status,
        to,
        ", submitted_by = $5, submitted_at = $6",
        &[Some(actor.id.clone()), Some(now.clone())],
    )
    .await?;
    sqlx::query("UPDATE items SET updated_at = $1 WHERE code = $2")
        .bind(&now)
        .bind(code)
        .execute(&mut *tx)
        .await?;
    record_event(&mut tx, p, code, Some(version), "submit", actor, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Approves a submitted version: it is published and supersedes the previous one.
pub async fn approve(
    p: &Platform,
    actor: &Staff,
    code: &str,
    version: i64,
    comment: Option<&str>,
) -> Result<(), ServiceError> {
    let rec = load_item(p, code).await?;
    authorize_review(actor, &rec)?;
    let v = load_version(p, code, version).await?;
    let to = transitions::approve(v.status)?;
    // The quality checks run again: the rules may have changed since submission.
    let report = quality::check(&v.guide);
    if !report.passed() {
        return Err(ServiceError::Quality(report));
    }
    let now = fmt_time(p.now());
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    let mut tx = p.db.begin().await?;
    set_status(
        &mut tx,
        code,
        version,
        v.status,
        to,
        ", reviewed_by = $5, reviewed_at = $6, review_comment = $7, published_at = $6",
        &[
            Some(actor.id.clone()),
            Some(now.clone()),
            comment.map(str::to_string),
        ],
    )
    .await?;
    if let Some(old) = rec.published_version {
        set_status(
            &mut tx,
            code,
            old,
            VersionStatus::Published,
            VersionStatus::Superseded,
            "",
            &[],
        )
        .await?;
    }
    let state = transitions::on_publish(rec.state);
    sqlx::query(
        "UPDATE items SET published_version = $1, state = $2, name = $3, updated_at = $4 \
         WHERE code = $5",
    )
    .bind(version)
    .bind(state.as_str())
    .bind(&v.guide.name)
    .bind(&now)
    .bind(code)
    .execute(&mut *tx)
    .await?;
    record_event(&mut tx, p, code, Some(version), "approve", actor, comment).await?;
    outbox(
        &mut tx,
        p,
        "item.published",
        serde_json::json!({ "code": code, "version": version }),
    )
    .await?;
    tx.commit().await?;
    refresh_item(p, code).await
}

fn required_reason(reason: &str) -> Result<&str, ServiceError> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(ServiceError::invalid(
            "reason",
            "请填写原因",
            "a reason is required",
        ));
    }
    if r.chars().count() > 1000 {
        return Err(ServiceError::invalid(
            "reason",
            "原因不能超过1000个字",
            "the reason is longer than 1000 characters",
        ));
    }
    Ok(r)
}

/// Returns a submitted version to its author with a reason.
pub async fn send_back(
    p: &Platform,
    actor: &Staff,
    code: &str,
    version: i64,
    reason: &str,
) -> Result<(), ServiceError> {
    let reason = required_reason(reason)?;
    let rec = load_item(p, code).await?;
    authorize_review(actor, &rec)?;
    let v = load_version(p, code, version).await?;
    let to = transitions::send_back(v.status)?;
    let now = fmt_time(p.now());
    let mut tx = p.db.begin().await?;
    set_status(
        &mut tx,
        code,
        version,
        v.status,
        to,
        ", reviewed_by = $5, reviewed_at = $6, review_comment = $7",
        &[
            Some(actor.id.clone()),
            Some(now.clone()),
            Some(reason.to_string()),
        ],
    )
    .await?;
    sqlx::query("UPDATE items SET updated_at = $1 WHERE code = $2")
        .bind(&now)
        .bind(code)
        .execute(&mut *tx)
        .await?;
    record_event(
        &mut tx,
        p,
        code,
        Some(version),
        "return",
        actor,
        Some(reason),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Opens a change (变更): a new draft version copied from the published one.
pub async fn start_change(p: &Platform, actor: &Staff, code: &str) -> Result<i64, ServiceError> {
    let rec = load_item(p, code).await?;
    authorize_manage(actor, &rec)?;
    transitions::start_change(rec.state)?;
    if matches!(
        rec.latest_status,
        VersionStatus::Draft | VersionStatus::Returned | VersionStatus::Submitted
    ) {
        return Err(ServiceError::Conflict(format!(
            "已有未完成的版本 v{}（{}），请先完成或废弃它",
            rec.latest_version,
            rec.latest_status.label_zh()
        )));
    }
    let published = rec
        .published_version
        .ok_or_else(|| ServiceError::Conflict("事项尚未发布".into()))?;
    let base = load_version(p, code, published).await?;
    let next = rec.latest_version + 1;
    let now = fmt_time(p.now());
    let mut tx = p.db.begin().await?;
    let n = sqlx::query(
        "UPDATE items SET latest_version = $1, updated_at = $2 WHERE code = $3 AND latest_version = $4",
    )
    .bind(next)
    .bind(&now)
    .bind(code)
    .bind(rec.latest_version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(ServiceError::Conflict(
            "事项刚刚被他人修改，请刷新后重试".into(),
        ));
    }
    sqlx::query(
        "INSERT INTO item_versions (item_code, version, status, change_kind, guide, created_by, \
         created_at, updated_at) VALUES ($1, $2, 'draft', 'change', $3, $4, $5, $5)",
    )
    .bind(code)
    .bind(next)
    .bind(serde_json::to_string(&base.guide)?)
    .bind(&actor.id)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    record_event(&mut tx, p, code, Some(next), "change", actor, None).await?;
    tx.commit().await?;
    Ok(next)
}

/// Abandons an unpublished draft. A never-published item's only draft cannot be discarded:
/// cancel the item instead.
pub async fn discard(
    p: &Platform,
    actor: &Staff,
    code: &str,
    version: i64,
) -> Result<(), ServiceError> {
    let rec = load_item(p, code).await?;
    authorize_manage(actor, &rec)?;
    let v = load_version(p, code, version).await?;
    let to = transitions::discard(v.status)?;
    if rec.published_version.is_none() {
        return Err(ServiceError::Conflict(
            "事项尚未发布，不能废弃唯一的版本；如不再实施，请取消事项".into(),
        ));
    }
    let now = fmt_time(p.now());
    let mut tx = p.db.begin().await?;
    set_status(&mut tx, code, version, v.status, to, "", &[]).await?;
    sqlx::query("UPDATE items SET updated_at = $1 WHERE code = $2")
        .bind(&now)
        .bind(code)
        .execute(&mut *tx)
        .await?;
    record_event(&mut tx, p, code, Some(version), "discard", actor, None).await?;
    tx.commit().await?;
    Ok(())
}

/// What happens to an item as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateAction {
    /// 暂停.
    Suspend,
    /// 恢复.
    Resume,
    /// 取消.
    Cancel,
}

/// Suspends, resumes or cancels an item, with a reason.
pub async fn change_state(
    p: &Platform,
    actor: &Staff,
    code: &str,
    action: StateAction,
    reason: &str,
) -> Result<(), ServiceError> {
    let reason = required_reason(reason)?;
    let rec = load_item(p, code).await?;
    authorize_manage(actor, &rec)?;
    let (to, name) = match action {
        StateAction::Suspend => (transitions::suspend(rec.state)?, "suspend"),
        StateAction::Resume => (transitions::resume(rec.state)?, "resume"),
        StateAction::Cancel => (transitions::cancel(rec.state)?, "cancel"),
    };
    let now = fmt_time(p.now());
    let mut tx = p.db.begin().await?;
    let n = sqlx::query(
        "UPDATE items SET state = $1, state_reason = $2, updated_at = $3 WHERE code = $4 AND state = $5",
    )
    .bind(to.as_str())
    .bind((to != ItemState::Active).then_some(reason))
    .bind(&now)
    .bind(code)
    .bind(rec.state.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(ServiceError::Conflict(
            "事项状态刚刚发生变化，请刷新后重试".into(),
        ));
    }
    if to == ItemState::Cancelled {
        // Open drafts die with the item.
        sqlx::query(
            "UPDATE item_versions SET status = 'discarded' WHERE item_code = $1 \
             AND status IN ('draft', 'returned', 'submitted')",
        )
        .bind(code)
        .execute(&mut *tx)
        .await?;
    }
    record_event(&mut tx, p, code, None, name, actor, Some(reason)).await?;
    outbox(
        &mut tx,
        p,
        "item.state",
        serde_json::json!({ "code": code, "state": to.as_str() }),
    )
    .await?;
    tx.commit().await?;
    refresh_item(p, code).await
}

// ---------------------------------------------------------------------------------------------
// Excel exchange

/// Exports the actor's organisation's items (latest version of each) as an .xlsx workbook.
pub async fn export(p: &Platform, actor: &Staff) -> Result<Vec<u8>, ServiceError> {
    let items = org_items(p, actor).await?;
    let mut rows = Vec::with_capacity(items.len());
    for it in items {
        let v = load_version(p, &it.code, it.latest_version).await?;
        rows.push(excel::ExportRow {
            code: it.code.clone(),
            organisation: it.org_name.clone(),
            state_zh: format!("{}／{}", it.state.label_zh(), v.status.label_zh()),
            version: it.latest_version,
            guide: v.guide,
        });
    }
    excel::export_workbook(&rows).map_err(|e| ServiceError::internal(e.to_string()))
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    /// New items created as drafts.
    pub created: usize,
    /// Items whose open draft was updated or that got a new change version.
    pub changed: usize,
    /// Items identical to what is stored.
    pub unchanged: usize,
}

/// Imports a workbook of the actor's organisation's items. Every row is checked first; if any
/// is bad nothing is written and every problem is reported. Otherwise one transaction creates
/// new items as drafts, updates open drafts, and opens change versions for published items
/// whose guide differs.
pub async fn import(
    p: &Platform,
    actor: &Staff,
    bytes: &[u8],
) -> Result<ImportSummary, ServiceError> {
    actor.require(Role::ItemManager)?;
    let rows = match excel::parse_workbook(bytes) {
        Ok(rows) => rows,
        Err(excel::ExcelError::Rows(errs)) => return Err(ServiceError::Import(errs)),
        Err(e) => {
            return Err(ServiceError::Import(vec![CellError {
                sheet: String::new(),
                row: 0,
                column: String::new(),
                message: e.to_string(),
            }]));
        }
    };
    let master = p.master.get();
    let org = master
        .organisation(&actor.org)
        .ok_or_else(|| ServiceError::Forbidden("所在单位不存在".into()))?
        .clone();
    let mut errs = Vec::new();
    let mut plan = Vec::new();
    let cell = |row: u32, column: &str, message: String| CellError {
        sheet: "事项".into(),
        row,
        column: column.into(),
        message,
    };
    for r in &rows {
        if r.code.credit_code().as_str() != actor.org {
            errs.push(cell(
                r.row,
                "实施编码",
                format!(
                    "实施编码中的统一社会信用代码 {} 不是本单位（{}），只能导入本单位的事项",
                    r.code.credit_code(),
                    actor.org
                ),
            ));
            continue;
        }
        for fe in validate_guide(&master, &r.guide) {
            errs.push(cell(r.row, &fe.field, fe.message_zh));
        }
        let cat = sqlx::query("SELECT department FROM catalogue_items WHERE basic_code = $1")
            .bind(r.code.basic().as_str())
            .fetch_optional(p.db.pool())
            .await?;
        match cat {
            None => errs.push(cell(
                r.row,
                "实施编码",
                format!("目录清单中没有基本编码 {}", r.code.basic()),
            )),
            Some(c)
                if org.department.as_deref()
                    != Some(c.try_get::<String, _>("department")?.as_str()) =>
            {
                errs.push(cell(r.row, "实施编码", "该目录事项不属于本部门".into()))
            }
            Some(_) => {}
        }
        let existing = match load_item(p, r.code.as_str()).await {
            Ok(rec) => Some(rec),
            Err(ServiceError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        if let Some(rec) = &existing {
            if rec.state == ItemState::Cancelled {
                errs.push(cell(r.row, "实施编码", "该事项已取消，不能再导入".into()));
            } else if rec.latest_status == VersionStatus::Submitted {
                errs.push(cell(
                    r.row,
                    "实施编码",
                    format!(
                        "该事项 v{} 正在审核中，审核结束后再导入",
                        rec.latest_version
                    ),
                ));
            }
        }
        plan.push((r, existing));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Import(errs));
    }
    let now = fmt_time(p.now());
    let mut summary = ImportSummary::default();
    let mut tx = p.db.begin().await?;
    for (r, existing) in plan {
        let code = r.code.as_str();
        match existing {
            None => {
                insert_item(
                    &mut tx,
                    &now,
                    &r.code,
                    &org,
                    &r.guide,
                    VersionStatus::Draft,
                    &actor.id,
                    0,
                )
                .await?;
                record_event(&mut tx, p, code, Some(1), "import", actor, Some("新增")).await?;
                summary.created += 1;
            }
            Some(rec) => {
                let latest = load_version(p, code, rec.latest_version).await?;
                if latest.guide == r.guide {
                    summary.unchanged += 1;
                    continue;
                }
                let guide = serde_json::to_string(&r.guide)?;
                if latest.status.editable() {
                    sqlx::query(
                        "UPDATE item_versions SET guide = $1, updated_at = $2 \
                         WHERE item_code = $3 AND version = $4",
                    )
                    .bind(&guide)
                    .bind(&now)
                    .bind(code)
                    .bind(rec.latest_version)
                    .execute(&mut *tx)
                    .await?;
                    record_event(
                        &mut tx,
                        p,
                        code,
                        Some(rec.latest_version),
                        "import",
                        actor,
                        Some("更新草稿"),
                    )
                    .await?;
                } else {
                    let next = rec.latest_version + 1;
                    sqlx::query(
                        "INSERT INTO item_versions (item_code, version, status, change_kind, guide, \
                         created_by, created_at, updated_at) VALUES ($1, $2, 'draft', 'change', $3, $4, $5, $5)",
                    )
                    .bind(code)
                    .bind(next)
                    .bind(&guide)
                    .bind(&actor.id)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("UPDATE items SET latest_version = $1 WHERE code = $2")
                        .bind(next)
                        .bind(code)
                        .execute(&mut *tx)
                        .await?;
                    record_event(&mut tx, p, code, Some(next), "import", actor, Some("变更"))
                        .await?;
                }
                sqlx::query("UPDATE items SET name = $1, updated_at = $2 WHERE code = $3")
                    .bind(&r.guide.name)
                    .bind(&now)
                    .bind(code)
                    .execute(&mut *tx)
                    .await?;
                summary.changed += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(summary)
}
