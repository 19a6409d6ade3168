//! The demo province: Hunan (430000) with its real divisions, a department of each kind at every
//! level, the provincial catalogue written as realistic guides, the items implemented in a few
//! prefectures and counties, and one staff account for each role.
//!
//! The data files live in `data/demo/` (see its README) and are compiled into the binary, so
//! `yiwang serve --demo` needs nothing but itself. Loading is one transaction and happens once
//! per database (recorded in `meta`); the items are published directly, as a migration from a
//! legacy system would bring them.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use yiwang_domain::codes::{BasicCode, CreditCode, IdCardNumber, ImplementationCode, SubItem};
use yiwang_domain::dict::{
    CaseType, CrossRegionScope, ExerciseLevel, HandlingForm, ItemType, MaterialForm, OnlineDepth,
    ServiceObject,
};
use yiwang_domain::identity::RealNameLevel;
use yiwang_domain::item::{
    Fee, Guide, ItemResult, LegalBasis, Material, ProcessStep, VersionStatus,
};
use yiwang_store::fmt_time;

use crate::catalogue::{guide_for_org, insert_item};
use crate::identity::staff::{self as accounts, Role};
use crate::identity::users::{self, Level};
use crate::masterdata::{MasterData, Organisation, Region};
use crate::{Platform, ServiceError};
use yiwang_connectors::DemoLibrary;
use yiwang_domain::contact::MobileNumber;

/// The password of every demo account (documented in the README; demo only).
pub const DEMO_PASSWORD: &str = "Yiwang@2026";

/// A demo staff account: user name, display name, home organisation (department key,
/// region) and role assignments (department key, region, role).
pub type DemoStaff = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, Role)],
);

/// The demo staff accounts, one or more for every staff role (passwords: [`DEMO_PASSWORD`]).
pub const DEMO_STAFF: &[DemoStaff] = &[
    (
        "admin",
        "系统管理员",
        "zhengwu",
        "430000",
        &[("zhengwu", "430000", Role::SystemAdmin)],
    ),
    (
        "reviewer",
        "省事项审核员 周敏",
        "zhengwu",
        "430000",
        &[("zhengwu", "430000", Role::ItemReviewer)],
    ),
    (
        "cs.reviewer",
        "长沙市事项审核员 陈静",
        "zhengwu",
        "430100",
        // Also a supervisor in 岳麓区: one person, two roles, two organisations.
        &[
            ("zhengwu", "430100", Role::ItemReviewer),
            ("zhengwu", "430104", Role::Supervisor),
        ],
    ),
    (
        "scjg.manager",
        "省市场监管局事项管理员 刘洋",
        "shichang",
        "430000",
        &[("shichang", "430000", Role::ItemManager)],
    ),
    (
        "cs.scjg.manager",
        "长沙市市场监管局事项管理员 王磊",
        "shichang",
        "430100",
        &[("shichang", "430100", Role::ItemManager)],
    ),
    (
        "yl.scjg.manager",
        "岳麓区市场监管局事项管理员 李娜",
        "shichang",
        "430104",
        &[("shichang", "430104", Role::ItemManager)],
    ),
    (
        "cs.gaj.manager",
        "长沙市公安局事项管理员 张伟",
        "gongan",
        "430100",
        &[("gongan", "430100", Role::ItemManager)],
    ),
    (
        "yl.rsj.manager",
        "岳麓区人社局事项管理员 赵丽",
        "renshe",
        "430104",
        &[("renshe", "430104", Role::ItemManager)],
    ),
    (
        "yl.window",
        "岳麓区政务服务中心窗口人员 孙悦",
        "zhengwu",
        "430104",
        &[("zhengwu", "430104", Role::WindowClerk)],
    ),
    (
        "yl.scjg.approver",
        "岳麓区市场监管局审批人员 黄涛",
        "shichang",
        "430104",
        &[("shichang", "430104", Role::Approver)],
    ),
    (
        "yl.rsj.approver",
        "岳麓区人社局审批人员 周敏",
        "renshe",
        "430104",
        &[("renshe", "430104", Role::Approver)],
    ),
    (
        "cs.scjg.admin",
        "长沙市市场监管局部门管理员 吴刚",
        "shichang",
        "430100",
        &[("shichang", "430100", Role::DeptAdmin)],
    ),
    (
        "supervisor",
        "省政务管理服务局监察人员 郑华",
        "zhengwu",
        "430000",
        &[("zhengwu", "430000", Role::Supervisor)],
    ),
];

const REGIONS: &str = include_str!("../../../data/demo/regions.json");
const DEPARTMENTS: &str = include_str!("../../../data/demo/departments.json");
const THEMES: &str = include_str!("../../../data/demo/themes.json");
const CATALOGUE_PERSON: &str = include_str!("../../../data/demo/catalogue-person.json");
const CATALOGUE_LEGAL: &str = include_str!("../../../data/demo/catalogue-legal.json");
const SCOPE: &str = include_str!("../../../data/demo/scope.json");

#[derive(Deserialize)]
struct RegionIn {
    code: String,
    name: String,
    short: String,
    parent: Option<String>,
    level: String,
    phone_area: String,
    center: String,
    center_address: String,
    hours: String,
}

impl From<RegionIn> for Region {
    fn from(r: RegionIn) -> Region {
        Region {
            code: r.code,
            name: r.name,
            short_name: r.short,
            parent: r.parent,
            level: r.level,
            phone_area: r.phone_area,
            center: r.center,
            center_address: r.center_address,
            hours: r.hours,
        }
    }
}

#[derive(Deserialize)]
struct DepartmentIn {
    key: String,
    code: String,
    province: String,
    city: Option<String>,
    county: Option<String>,
    levels: Vec<String>,
    #[serde(default = "yes")]
    implements: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct ThemeIn {
    key: String,
    object: String,
    name: String,
}

#[derive(Deserialize)]
struct ScopeIn {
    prefectures: Vec<String>,
    counties: Vec<String>,
}

#[derive(Deserialize)]
struct FeeIn {
    name: String,
    amount: String,
    basis: String,
}

#[derive(Deserialize)]
struct MaterialIn {
    name: String,
    original: u8,
    copies: u8,
    form: String,
    required: bool,
    condition: Option<String>,
    #[serde(default)]
    source: String,
    note: Option<String>,
    #[serde(default)]
    blank_form: bool,
    #[serde(default)]
    sample: bool,
}

#[derive(Deserialize)]
struct ResultIn {
    name: String,
    kind: String,
}

/// One catalogue entry as written in `data/demo/catalogue-*.json`.
#[derive(Deserialize)]
pub struct EntryIn {
    key: String,
    department: String,
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    /// Everyday queries that must find the entry first (search-quality benchmark).
    #[serde(default)]
    pub phrases: Vec<String>,
    item_type: String,
    levels: Vec<String>,
    service_objects: Vec<String>,
    #[serde(default)]
    themes: Vec<String>,
    legal_basis: Vec<LegalBasis>,
    conditions: Vec<String>,
    materials: Vec<MaterialIn>,
    process: Vec<ProcessStep>,
    statutory_limit_days: u16,
    promised_limit_days: u16,
    fees: Vec<FeeIn>,
    handling_forms: Vec<String>,
    case_type: String,
    online_depth: String,
    visits: u8,
    /// The real-name level the item requires (L2 unless the entry says otherwise).
    #[serde(default = "l2")]
    min_level: RealNameLevel,
    scope: String,
    result: ResultIn,
}

impl EntryIn {
    /// The entry's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn template(&self) -> Result<Guide, ServiceError> {
        let bad = |what: &str, v: &str| {
            ServiceError::internal(format!("demo entry {}: bad {what} {v}", self.key))
        };
        let item_type = ItemType::from_code(&self.item_type)
            .ok_or_else(|| bad("item_type", &self.item_type))?;
        let service_objects = self
            .service_objects
            .iter()
            .map(|c| ServiceObject::from_code(c).ok_or_else(|| bad("service_object", c)))
            .collect::<Result<_, _>>()?;
        let handling_forms = self
            .handling_forms
            .iter()
            .map(|c| HandlingForm::from_code(c).ok_or_else(|| bad("handling_form", c)))
            .collect::<Result<_, _>>()?;
        let materials = self
            .materials
            .iter()
            .map(|m| {
                Ok(Material {
                    name: m.name.clone(),
                    original: m.original,
                    copies: m.copies,
                    form: MaterialForm::from_code(&m.form)
                        .ok_or_else(|| bad("material form", &m.form))?,
                    required: m.required,
                    condition: m.condition.clone(),
                    source: m.source.clone(),
                    note: m.note.clone(),
                    blank_form: m.blank_form,
                    sample: m.sample,
                })
            })
            .collect::<Result<_, ServiceError>>()?;
        Ok(Guide {
            name: self.name.clone(),
            aliases: self.aliases.clone(),
            item_type,
            service_objects,
            themes: self.themes.clone(),
            legal_basis: self.legal_basis.clone(),
            conditions: self.conditions.clone(),
            materials,
            process: self.process.clone(),
            statutory_limit_days: self.statutory_limit_days,
            promised_limit_days: self.promised_limit_days,
            fees: Some(
                self.fees
                    .iter()
                    .map(|f| Fee {
                        name: f.name.clone(),
                        amount: f.amount.clone(),
                        basis: f.basis.clone(),
                    })
                    .collect(),
            ),
            handling_forms,
            case_type: CaseType::from_code(&self.case_type)
                .ok_or_else(|| bad("case_type", &self.case_type))?,
            online_depth: OnlineDepth::from_code(&self.online_depth)
                .ok_or_else(|| bad("online_depth", &self.online_depth))?,
            visits: self.visits,
            min_level: self.min_level,
            scope: CrossRegionScope::from_code(&self.scope)
                .ok_or_else(|| bad("scope", &self.scope))?,
            result: ItemResult {
                name: self.result.name.clone(),
                kind: self.result.kind.clone(),
            },
            places: Vec::new(),
            consult_phone: String::new(),
            complaint_phone: String::new(),
        })
    }
}

/// Every catalogue entry of the demo province, persons' items first.
pub fn catalogue_entries() -> Result<Vec<EntryIn>, ServiceError> {
    let mut all: Vec<EntryIn> = serde_json::from_str(CATALOGUE_PERSON)?;
    all.extend(serde_json::from_str::<Vec<EntryIn>>(CATALOGUE_LEGAL)?);
    Ok(all)
}

/// A stable pseudo-random number from a text (FNV-1a), for phone numbers and popularity.
fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn level_code(region_level: &str) -> &'static str {
    match region_level {
        "province" => "2",
        "prefecture" => "3",
        _ => "4",
    }
}

fn org_name(d: &DepartmentIn, r: &Region) -> Option<String> {
    let template = match r.level.as_str() {
        "province" => Some(&d.province),
        "prefecture" => d.city.as_ref(),
        _ => d.county.as_ref(),
    }?;
    d.levels
        .iter()
        .any(|l| l == level_code(&r.level))
        .then(|| template.replace("{region}", &r.name))
}

fn local_phone(area: &str, seed: &str) -> String {
    let h = stable_hash(seed);
    // Changsha's local numbers have eight digits, the other prefectures' seven.
    if area == "0731" {
        format!("{area}-8{:07}", h % 10_000_000)
    } else {
        format!("{area}-{}{:06}", 2 + h % 7, (h >> 8) % 1_000_000)
    }
}

/// Builds the organisations of the demo province: one of each department kind at every level
/// where it exists, each with a valid 统一社会信用代码 (机关: 11).
fn organisations(
    regions: &[Region],
    departments: &[DepartmentIn],
) -> Result<Vec<Organisation>, ServiceError> {
    let mut out = Vec::new();
    for r in regions {
        for d in departments {
            let Some(name) = org_name(d, r) else { continue };
            // Organisation code body: 00 + the region's prefecture and county digits + the
            // department code, unique in the province.
            let body = format!("00{}{}", &r.code[2..6], d.code);
            let credit = CreditCode::generate('1', '1', &r.code, &body)
                .map_err(|e| ServiceError::internal(e.to_string()))?;
            out.push(Organisation {
                credit_code: credit.as_str().to_string(),
                name,
                region: r.code.clone(),
                level: level_code(&r.level).to_string(),
                department: Some(d.key.clone()),
                address: r.center_address.clone(),
                hours: r.hours.clone(),
                consult_phone: local_phone(&r.phone_area, &format!("{}{}", r.code, d.key)),
                complaint_phone: format!("{}-12345", r.phone_area),
            });
        }
    }
    Ok(out)
}

/// Inserts the item an organisation implements from a catalogue entry, published as version 1
/// (demo and scale data arrive as a migration from a legacy system would bring them).
async fn publish_for_org(
    tx: &mut yiwang_store::Transaction<'static, yiwang_store::Any>,
    now: &str,
    org: &Organisation,
    template: &Guide,
    basic: &BasicCode,
    master: &MasterData,
) -> Result<ImplementationCode, ServiceError> {
    let credit =
        CreditCode::parse(&org.credit_code).map_err(|e| ServiceError::internal(e.to_string()))?;
    let level = ExerciseLevel::from_code(&org.level).unwrap_or(ExerciseLevel::County);
    let code = ImplementationCode::new(&credit, level, basic);
    let guide = guide_for_org(template, org, master);
    let popularity = i64::try_from(stable_hash(code.as_str()) % 1000).unwrap_or(0);
    insert_item(
        tx,
        now,
        &code,
        org,
        &guide,
        VersionStatus::Published,
        "system",
        popularity,
    )
    .await?;
    Ok(code)
}

/// Whether the demo province is already in this database.
pub async fn is_loaded(p: &Platform) -> Result<bool, ServiceError> {
    Ok(sqlx::query("SELECT value FROM meta WHERE key = 'demo'")
        .fetch_optional(p.db.pool())
        .await?
        .is_some())
}

/// What the loader wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct DemoCounts {
    /// Regions.
    pub regions: usize,
    /// Organisations.
    pub organisations: usize,
    /// Catalogue entries.
    pub catalogue: usize,
    /// Implementation items.
    pub items: usize,
    /// Staff accounts.
    pub staff: usize,
    /// Citizen accounts.
    pub citizens: usize,
}

/// Loads the demo province once, in one transaction, then reloads the platform's views and
/// deploys the demo approval process with three waiting cases.
pub async fn load(p: &Platform) -> Result<Option<DemoCounts>, ServiceError> {
    if is_loaded(p).await? {
        return Ok(None);
    }
    let now = fmt_time(p.now());
    let regions_in: Vec<RegionIn> = serde_json::from_str(REGIONS)?;
    let departments: Vec<DepartmentIn> = serde_json::from_str(DEPARTMENTS)?;
    let themes: Vec<ThemeIn> = serde_json::from_str(THEMES)?;
    let scope: ScopeIn = serde_json::from_str(SCOPE)?;
    let entries = catalogue_entries()?;
    let regions: Vec<Region> = regions_in.into_iter().map(Region::from).collect();
    let orgs = organisations(&regions, &departments)?;
    let mut master = MasterData::default();
    for r in &regions {
        master.regions.insert(r.code.clone(), r.clone());
    }
    for o in &orgs {
        master
            .organisations
            .insert(o.credit_code.clone(), o.clone());
    }
    let mut counts = DemoCounts {
        regions: regions.len(),
        organisations: orgs.len(),
        ..DemoCounts::default()
    };

    let mut tx = p.db.begin().await?;
    for r in &regions {
        sqlx::query(
            "INSERT INTO regions (code, name, short_name, parent, level, phone_area, center, \
             center_address, hours) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&r.code)
        .bind(&r.name)
        .bind(&r.short_name)
        .bind(&r.parent)
        .bind(&r.level)
        .bind(&r.phone_area)
        .bind(&r.center)
        .bind(&r.center_address)
        .bind(&r.hours)
        .execute(&mut *tx)
        .await?;
    }
    for d in &departments {
        sqlx::query("INSERT INTO departments (key, code, name) VALUES ($1, $2, $3)")
            .bind(&d.key)
            .bind(&d.code)
            .bind(&d.province)
            .execute(&mut *tx)
            .await?;
    }
    for (i, t) in themes.iter().enumerate() {
        sqlx::query("INSERT INTO themes (key, object, name, sort) VALUES ($1, $2, $3, $4)")
            .bind(&t.key)
            .bind(&t.object)
            .bind(&t.name)
            .bind(i64::try_from(i).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
    }
    for o in &orgs {
        sqlx::query(
            "INSERT INTO organisations (credit_code, name, region, level, department, address, \
             hours, consult_phone, complaint_phone) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&o.credit_code)
        .bind(&o.name)
        .bind(&o.region)
        .bind(&o.level)
        .bind(&o.department)
        .bind(&o.address)
        .bind(&o.hours)
        .bind(&o.consult_phone)
        .bind(&o.complaint_phone)
        .execute(&mut *tx)
        .await?;
    }

    // Organisations by (department, region), to find the implementing bodies.
    let by_dept_region: HashMap<(&str, &str), &Organisation> = orgs
        .iter()
        .filter_map(|o| o.department.as_deref().map(|d| ((d, o.region.as_str()), o)))
        .collect();
    let dept_by_key: HashMap<&str, &DepartmentIn> =
        departments.iter().map(|d| (d.key.as_str(), d)).collect();
    let mut seq: BTreeMap<&str, u16> = BTreeMap::new();
    for e in &entries {
        let dept = dept_by_key
            .get(e.department.as_str())
            .filter(|d| d.implements)
            .ok_or_else(|| {
                ServiceError::internal(format!("demo entry {}: unknown department", e.key))
            })?;
        let n = seq.entry(dept.key.as_str()).or_insert(0);
        *n += 1;
        let template = e.template()?;
        let basic = BasicCode::new("43", template.item_type, &dept.code, *n, SubItem::None)
            .map_err(|err| ServiceError::internal(err.to_string()))?;
        sqlx::query(
            "INSERT INTO catalogue_items (basic_code, name, item_type, department, levels, template, \
             phrases, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(basic.as_str())
        .bind(&e.name)
        .bind(template.item_type.code())
        .bind(&dept.key)
        .bind(e.levels.join(","))
        .bind(serde_json::to_string(&template)?)
        .bind(serde_json::to_string(&e.phrases)?)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        counts.catalogue += 1;

        for level in &e.levels {
            let regions_at: Vec<&str> = match level.as_str() {
                "2" => vec!["430000"],
                "3" => scope.prefectures.iter().map(String::as_str).collect(),
                _ => scope.counties.iter().map(String::as_str).collect(),
            };
            for region in regions_at {
                let Some(org) = by_dept_region.get(&(dept.key.as_str(), region)) else {
                    continue;
                };
                let code = publish_for_org(&mut tx, &now, org, &template, &basic, &master).await?;
                sqlx::query(
                    "INSERT INTO item_events (id, item_code, version, action, actor, actor_name, \
                     actor_org, comment, at) VALUES ($1, $2, 1, 'demo', 'system', '系统', $3, $4, $5)",
                )
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(code.as_str())
                .bind("湖南省政务管理服务局")
                .bind("演示省份数据装载（如同从旧系统迁移）")
                .bind(&now)
                .execute(&mut *tx)
                .await?;
                counts.items += 1;
            }
        }
    }

    // One hash for every demo account: they share the documented demo password.
    let hash = accounts::hash_password(DEMO_PASSWORD)?;
    for (username, display, dept, region, roles) in DEMO_STAFF {
        let org_of = |dept: &str, region: &str| {
            by_dept_region
                .get(&(dept, region))
                .map(|o| o.credit_code.as_str())
                .ok_or_else(|| {
                    ServiceError::internal(format!(
                        "demo staff {username}: no organisation {dept} in {region}"
                    ))
                })
        };
        let home = org_of(dept, region)?;
        let assignments = roles
            .iter()
            .map(|(d, r, role)| Ok((*role, org_of(d, r)?)))
            .collect::<Result<Vec<_>, ServiceError>>()?;
        accounts::create_staff(
            &mut tx,
            p.now(),
            username,
            display,
            home,
            &assignments,
            &hash,
        )
        .await?;
        counts.staff += 1;
    }
    counts.citizens = load_citizens(p, &mut tx, &hash).await?;
    sqlx::query("INSERT INTO meta (key, value) VALUES ('demo', $1)")
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    p.reload().await?;
    crate::workflow::load_demo(p).await?;
    crate::cases::demo_forms(p).await?;
    crate::licences::load_demo(p).await?;
    Ok(Some(counts))
}

/// The handling situations (情形) a catalogue entry is split into for the scale data set.
const SITUATIONS: &[&str] = &[
    "新办", "变更", "延续", "补办", "注销", "迁入", "迁出", "更正",
];

/// Adds synthetic load-test items until the catalogue has at least `target` active items: every
/// demo catalogue entry is split into handling situations (子项: 新办, 变更, 延续…, basic codes
/// with sub-item numbers) implemented by every organisation of its department in the province.
/// For benchmarks only (`yiwang demo --scale N`); written in batches of one transaction each.
pub async fn load_scale(p: &Platform, target: usize) -> Result<usize, ServiceError> {
    use yiwang_store::Row;
    let count = |r: yiwang_store::AnyRow| -> Result<i64, ServiceError> { Ok(r.try_get("n")?) };
    let existing = count(
        sqlx::query("SELECT count(*) AS n FROM items WHERE state = 'active'")
            .fetch_one(p.db.pool())
            .await?,
    )?;
    let mut remaining = target.saturating_sub(usize::try_from(existing).unwrap_or(0));
    if remaining == 0 {
        return Ok(0);
    }
    let master = p.master.get();
    let mut orgs_by_dept: BTreeMap<String, Vec<Organisation>> = BTreeMap::new();
    for o in master.organisations.values() {
        if let Some(d) = &o.department {
            orgs_by_dept.entry(d.clone()).or_default().push(o.clone());
        }
    }
    for v in orgs_by_dept.values_mut() {
        v.sort_by(|a, b| a.credit_code.cmp(&b.credit_code));
    }
    let rows = sqlx::query(
        "SELECT basic_code, department, template FROM catalogue_items WHERE basic_code LIKE '%000' \
         ORDER BY basic_code",
    )
    .fetch_all(p.db.pool())
    .await?;
    let now = fmt_time(p.now());
    let mut written = 0usize;
    'outer: for (k, situation) in SITUATIONS.iter().enumerate() {
        let mut tx = p.db.begin().await?;
        for r in &rows {
            let basic: String = r.try_get("basic_code")?;
            let dept: String = r.try_get("department")?;
            let mut template: Guide = serde_json::from_str(&r.try_get::<String, _>("template")?)?;
            let base =
                BasicCode::parse(&basic).map_err(|e| ServiceError::internal(e.to_string()))?;
            let sub = BasicCode::new(
                base.area(),
                base.item_type(),
                base.department(),
                base.sequence(),
                SubItem::Sub(u16::try_from(k + 1).unwrap_or(1)),
            )
            .map_err(|e| ServiceError::internal(e.to_string()))?;
            template.name = format!("{}（{situation}）", template.name);
            sqlx::query(
                "INSERT INTO catalogue_items (basic_code, name, item_type, department, levels, \
                 template, phrases, created_at) VALUES ($1, $2, $3, $4, '2,3,4', $5, '[]', $6) \
                 ON CONFLICT (basic_code) DO NOTHING",
            )
            .bind(sub.as_str())
            .bind(&template.name)
            .bind(template.item_type.code())
            .bind(&dept)
            .bind(serde_json::to_string(&template)?)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            for org in orgs_by_dept
                .get(&dept)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                publish_for_org(&mut tx, &now, org, &template, &sub, &master).await?;
                written += 1;
                remaining -= 1;
                if remaining == 0 {
                    tx.commit().await?;
                    break 'outer;
                }
            }
        }
        tx.commit().await?;
    }
    p.reload().await?;
    Ok(written)
}

/// The demo citizens (password [`DEMO_PASSWORD`]; sign in with the phone or the ID number):
/// name, 居民身份证号码 (from the built-in population library), phone, real-name level.
pub const DEMO_CITIZENS: &[(&str, &str, &str, Level)] = &[
    (
        "李华",
        yiwang_connectors::demo::LI_HUA_ID,
        "13800000001",
        Level::L1,
    ),
    (
        "王小明",
        yiwang_connectors::demo::WANG_XIAOMING_ID,
        "13800000002",
        Level::L2,
    ),
    (
        "陈静",
        yiwang_connectors::demo::CHEN_JING_ID,
        "13800000003",
        Level::L3,
    ),
    // Legal representative of 湖南湘江智能科技有限公司.
    (
        "张伟",
        yiwang_connectors::demo::ZHANG_WEI_ID,
        "13800000004",
        Level::L2,
    ),
    // That enterprise's agent (经办人) for every item.
    (
        "刘芳",
        yiwang_connectors::demo::LIU_FANG_ID,
        "13800000005",
        Level::L2,
    ),
];

/// Creates the demo citizens, the demo enterprise account and its agent's grant.
async fn load_citizens(
    p: &Platform,
    tx: &mut yiwang_store::Transaction<'static, yiwang_store::Any>,
    hash: &str,
) -> Result<usize, ServiceError> {
    let now = p.now();
    let mut ids = HashMap::new();
    for (name, id, phone, level) in DEMO_CITIZENS {
        let id_number = IdCardNumber::parse(id)
            .map_err(|e| ServiceError::internal(format!("demo citizen {name}: {e}")))?;
        let phone = MobileNumber::parse(phone)
            .ok_or_else(|| ServiceError::internal(format!("demo citizen {name}: phone")))?;
        let uid = users::insert_user(
            p,
            tx,
            now,
            (name, &id_number, &phone),
            hash,
            ("active", *level),
        )
        .await?;
        if *level > Level::L1 {
            sqlx::query("UPDATE users SET level_at = $1, level_by = 'demo' WHERE id = $2")
                .bind(fmt_time(now))
                .bind(&uid)
                .execute(&mut **tx)
                .await?;
        }
        ids.insert(*name, uid);
    }
    let (Some(rep), Some(agent)) = (ids.get("张伟"), ids.get("刘芳")) else {
        return Err(ServiceError::internal("demo enterprise: people missing"));
    };
    let enterprise = yiwang_connectors::fixed_enterprises()
        .into_iter()
        .find(|e| e.credit_code == yiwang_connectors::demo::XIANGJIANG_TECH_CREDIT_CODE)
        .ok_or_else(|| ServiceError::internal("demo enterprise missing from the library"))?;
    sqlx::query(
        "INSERT INTO enterprises (credit_code, name, kind, region, legal_rep_user, verified_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&enterprise.credit_code)
    .bind(&enterprise.name)
    .bind(&enterprise.kind)
    .bind(&enterprise.region)
    .bind(rep)
    .bind(fmt_time(now))
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        r#"INSERT INTO agent_grants (id, enterprise, agent_user, scope, expires_at, granted_by,
         granted_at, revoked_at, revoked_by) VALUES ($1, $2, $3, '["*"]', $4, $5, $6, NULL, NULL)"#,
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&enterprise.credit_code)
    .bind(agent)
    .bind(fmt_time(now + chrono::Duration::days(365)))
    .bind(rep)
    .bind(fmt_time(now))
    .execute(&mut **tx)
    .await?;
    Ok(DEMO_CITIZENS.len())
}

fn l2() -> RealNameLevel {
    RealNameLevel::L2
}

/// Residents the built-in demo population library generates (besides the fixed demo people).
pub const DEMO_RESIDENTS: usize = 5_000;
/// Enterprises the built-in demo legal-person library generates.
pub const DEMO_ENTERPRISES: usize = 2_000;

/// The built-in population and legal-person library of the demo province: the fixed demo
/// people and enterprises plus generated ones in every county (full names such as 长沙市岳麓区).
pub fn demo_library(residents: usize, enterprises: usize) -> Result<DemoLibrary, ServiceError> {
    let regions: Vec<RegionIn> = serde_json::from_str(REGIONS)?;
    let name_of: HashMap<&str, &str> = regions
        .iter()
        .map(|r| (r.code.as_str(), r.name.as_str()))
        .collect();
    let counties: Vec<(String, String)> = regions
        .iter()
        .filter(|r| r.level == "county")
        .map(|r| {
            let prefecture = r
                .parent
                .as_deref()
                .and_then(|p| name_of.get(p).copied())
                .unwrap_or("");
            (r.code.clone(), format!("{prefecture}{}", r.name))
        })
        .collect();
    Ok(DemoLibrary::generate(
        &counties,
        residents,
        enterprises,
        2026,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_files_parse_and_every_entry_makes_a_template() {
        let entries = catalogue_entries().unwrap();
        assert!(entries.len() >= 150, "{}", entries.len());
        for e in &entries {
            e.template().unwrap();
        }
        let regions: Vec<RegionIn> = serde_json::from_str(REGIONS).unwrap();
        assert_eq!(
            regions.iter().filter(|r| r.level == "prefecture").count(),
            14
        );
    }

    #[test]
    fn demo_organisations_have_valid_unique_codes() {
        let regions: Vec<Region> = serde_json::from_str::<Vec<RegionIn>>(REGIONS)
            .unwrap()
            .into_iter()
            .map(Region::from)
            .collect();
        let depts: Vec<DepartmentIn> = serde_json::from_str(DEPARTMENTS).unwrap();
        let orgs = organisations(&regions, &depts).unwrap();
        let mut codes = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for o in &orgs {
            CreditCode::parse(&o.credit_code).unwrap();
            assert!(codes.insert(o.credit_code.clone()), "{}", o.credit_code);
            assert!(names.insert(o.name.clone()), "{}", o.name);
            assert!(
                yiwang_domain::quality::is_phone(&o.consult_phone),
                "{}",
                o.consult_phone
            );
        }
        assert!(orgs.len() > 2000);
    }
}
