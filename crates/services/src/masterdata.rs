//! Master data (基础数据): administrative divisions (GB/T 2260), organisations with their
//! 统一社会信用代码, departments and life-event themes.
//!
//! Master data is small (thousands of rows) and read on every page, so it is held in memory as
//! one immutable snapshot ([`MasterData`]) that is swapped whole after a change.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use serde::Serialize;
use yiwang_store::Row;

use crate::{Platform, ServiceError};

/// An administrative division.
#[derive(Debug, Clone, Serialize)]
pub struct Region {
    /// GB/T 2260 code.
    pub code: String,
    /// Full name (长沙市).
    pub name: String,
    /// Short name (长沙).
    pub short_name: String,
    /// Parent division's code.
    pub parent: Option<String>,
    /// province, prefecture or county.
    pub level: String,
    /// Telephone area code.
    pub phone_area: String,
    /// The division's government service centre.
    pub center: String,
    /// Its address.
    pub center_address: String,
    /// Its hours.
    pub hours: String,
}

/// An organisation that implements items or employs staff.
#[derive(Debug, Clone, Serialize)]
pub struct Organisation {
    /// 统一社会信用代码.
    pub credit_code: String,
    /// Name.
    pub name: String,
    /// Region code.
    pub region: String,
    /// 行使层级 code of the organisation (2 province, 3 prefecture, 4 county).
    pub level: String,
    /// Department key (None for organisations that implement no items).
    pub department: Option<String>,
    /// Address of its service window.
    pub address: String,
    /// Office hours.
    pub hours: String,
    /// 咨询电话.
    pub consult_phone: String,
    /// 投诉电话.
    pub complaint_phone: String,
}

/// A kind of department (市场监管, 公安…), with its guiding-department code.
#[derive(Debug, Clone, Serialize)]
pub struct Department {
    /// Key.
    pub key: String,
    /// Two-digit guiding-department code used in 基本编码.
    pub code: String,
    /// Name at province level.
    pub name: String,
}

/// A life-event theme (主题).
#[derive(Debug, Clone, Serialize)]
pub struct Theme {
    /// Key.
    pub key: String,
    /// `person` or `legal`.
    pub object: String,
    /// Name.
    pub name: String,
}

/// One immutable snapshot of the master data.
#[derive(Debug, Default)]
pub struct MasterData {
    /// Regions by code, in code order.
    pub regions: BTreeMap<String, Region>,
    /// Organisations by credit code.
    pub organisations: HashMap<String, Organisation>,
    /// Departments by key, in code order when listed.
    pub departments: Vec<Department>,
    /// Themes in display order.
    pub themes: Vec<Theme>,
}

impl MasterData {
    /// A region by code.
    pub fn region(&self, code: &str) -> Option<&Region> {
        self.regions.get(code)
    }

    /// The name of a region, or its code when unknown.
    pub fn region_name(&self, code: &str) -> String {
        self.region(code)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| code.to_string())
    }

    /// The chain of regions from the province down to `code`.
    pub fn region_path(&self, code: &str) -> Vec<String> {
        let mut path = Vec::new();
        let mut cur = self.region(code);
        while let Some(r) = cur {
            path.push(r.code.clone());
            cur = r.parent.as_deref().and_then(|p| self.region(p));
        }
        path.reverse();
        path
    }

    /// Direct children of a region.
    pub fn children(&self, code: &str) -> Vec<&Region> {
        self.regions
            .values()
            .filter(|r| r.parent.as_deref() == Some(code))
            .collect()
    }

    /// An organisation by credit code.
    pub fn organisation(&self, code: &str) -> Option<&Organisation> {
        self.organisations.get(code)
    }

    /// A theme by key.
    pub fn theme(&self, key: &str) -> Option<&Theme> {
        self.themes.iter().find(|t| t.key == key)
    }

    /// A department by key.
    pub fn department(&self, key: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.key == key)
    }
}

/// The shared, swappable snapshot.
#[derive(Debug, Default)]
pub struct MasterCache(RwLock<Arc<MasterData>>);

impl MasterCache {
    /// The current snapshot.
    pub fn get(&self) -> Arc<MasterData> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn set(&self, data: MasterData) {
        let data = Arc::new(data);
        match self.0.write() {
            Ok(mut g) => *g = data,
            Err(p) => *p.into_inner() = data,
        }
    }
}

/// Reads the master data from the database into the platform's snapshot.
pub async fn reload(p: &Platform) -> Result<(), ServiceError> {
    let pool = p.db.pool();
    let mut data = MasterData::default();
    for r in sqlx::query(
        "SELECT code, name, short_name, parent, level, phone_area, center, center_address, hours \
         FROM regions ORDER BY code",
    )
    .fetch_all(pool)
    .await?
    {
        let region = Region {
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            short_name: r.try_get("short_name")?,
            parent: r.try_get("parent")?,
            level: r.try_get("level")?,
            phone_area: r.try_get("phone_area")?,
            center: r.try_get("center")?,
            center_address: r.try_get("center_address")?,
            hours: r.try_get("hours")?,
        };
        data.regions.insert(region.code.clone(), region);
    }
    for r in sqlx::query(
        "SELECT credit_code, name, region, level, department, address, hours, consult_phone, \
         complaint_phone FROM organisations",
    )
    .fetch_all(pool)
    .await?
    {
        let o = Organisation {
            credit_code: r.try_get("credit_code")?,
            name: r.try_get("name")?,
            region: r.try_get("region")?,
            level: r.try_get("level")?,
            department: r.try_get("department")?,
            address: r.try_get("address")?,
            hours: r.try_get("hours")?,
            consult_phone: r.try_get("consult_phone")?,
            complaint_phone: r.try_get("complaint_phone")?,
        };
        data.organisations.insert(o.credit_code.clone(), o);
    }
    for r in sqlx::query("SELECT key, code, name FROM departments ORDER BY code")
        .fetch_all(pool)
        .await?
    {
        data.departments.push(Department {
            key: r.try_get("key")?,
            code: r.try_get("code")?,
            name: r.try_get("name")?,
        });
    }
    for r in sqlx::query("SELECT key, object, name FROM themes ORDER BY sort")
        .fetch_all(pool)
        .await?
    {
        data.themes.push(Theme {
            key: r.try_get("key")?,
            object: r.try_get("object")?,
            name: r.try_get("name")?,
        });
    }
    p.master.set(data);
    Ok(())
}
