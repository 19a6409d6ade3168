//! The population library (人口库): natural persons by 居民身份证号码.
//!
//! Unified identity asks it two things: whether an ID number is registered under the name a
//! user typed (real-name verification, 实名核验) and, for a verified user, the registered
//! record. [`PopulationLibrary`] answers from the built-in [`DemoLibrary`] or from a real library
//! over HTTP ([`HttpLibrary`]).
//!
//! An ID number that does not parse (GB 11643) is never sent anywhere: it cannot be registered,
//! so the answer is [`PersonCheck::NotFound`] / `None`.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use yiwang_domain::codes::IdCardNumber;

use crate::{ConnectorError, DemoLibrary, HttpLibrary};

/// 性别 as registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// 男 (odd sequence digit in the ID number).
    Male,
    /// 女 (even sequence digit).
    Female,
}

impl Gender {
    /// 男 or 女.
    pub fn label_zh(self) -> &'static str {
        match self {
            Gender::Male => "男",
            Gender::Female => "女",
        }
    }
}

/// One registered resident (人口基础信息).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    /// 公民身份号码, 18 characters, uppercase `X`.
    pub id_number: String,
    /// 姓名.
    pub name: String,
    /// 性别.
    pub gender: Gender,
    /// 出生日期 (`YYYY-MM-DD` in JSON).
    pub birth_date: NaiveDate,
    /// 户籍所在地: 6-digit GB/T 2260 county code.
    pub region: String,
    /// 住址.
    pub address: String,
}

/// The answer of real-name verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonCheck {
    /// The ID number is registered under this name.
    Match,
    /// The ID number is registered, under another name.
    NameMismatch,
    /// No such ID number is registered.
    NotFound,
}

/// The population library the platform is connected to.
#[derive(Debug, Clone)]
pub enum PopulationLibrary {
    /// The built-in demo library (development, tests, the demo province).
    BuiltIn(Arc<DemoLibrary>),
    /// A real library over HTTP.
    Http(HttpLibrary),
}

impl PopulationLibrary {
    /// Whether `id_number` is registered under `name` (both trimmed; `x` matches `X`).
    pub async fn verify_person(
        &self,
        id_number: &str,
        name: &str,
    ) -> Result<PersonCheck, ConnectorError> {
        let Some(id) = canonical_id(id_number) else {
            return Ok(PersonCheck::NotFound);
        };
        match self {
            PopulationLibrary::BuiltIn(demo) => Ok(demo.verify_person(id.as_str(), name)),
            PopulationLibrary::Http(http) => http.verify_person(&id, name.trim()).await,
        }
    }

    /// The registered record of `id_number`, or `None` when it is not registered.
    pub async fn person(&self, id_number: &str) -> Result<Option<PersonRecord>, ConnectorError> {
        let Some(id) = canonical_id(id_number) else {
            return Ok(None);
        };
        match self {
            PopulationLibrary::BuiltIn(demo) => Ok(demo.person(id.as_str()).cloned()),
            PopulationLibrary::Http(http) => http.person(&id).await,
        }
    }
}

/// The parsed ID number, or `None` for input that cannot be a registered number (including
/// legacy 15-digit numbers, which are converted).
fn canonical_id(input: &str) -> Option<IdCardNumber> {
    IdCardNumber::parse(input).ok()
}
