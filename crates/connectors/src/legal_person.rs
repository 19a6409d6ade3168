//! The legal-person library (法人库): registered enterprises by 统一社会信用代码.
//!
//! Unified identity uses it when an enterprise account is opened or an agent (经办人) is
//! authorised: the enterprise must exist, be 存续, and its legal representative must be the
//! person claiming to act for it. [`LegalPersonLibrary`] answers from the built-in
//! [`DemoLibrary`] or over HTTP ([`HttpLibrary`]).
//!
//! A credit code that does not parse (GB 32100) is never sent anywhere; the answer is `None`.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use yiwang_domain::codes::CreditCode;

use crate::{ConnectorError, DemoLibrary, HttpLibrary};

/// 登记状态 of an enterprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnterpriseStatus {
    /// 存续 (在营、开业): operating.
    Active,
    /// 吊销: licence revoked, not yet deregistered.
    Revoked,
    /// 注销: deregistered.
    Cancelled,
}

impl EnterpriseStatus {
    /// 存续, 吊销 or 注销.
    pub fn label_zh(self) -> &'static str {
        match self {
            EnterpriseStatus::Active => "存续",
            EnterpriseStatus::Revoked => "吊销",
            EnterpriseStatus::Cancelled => "注销",
        }
    }
}

/// One registered enterprise or individual business (市场主体登记信息).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseRecord {
    /// 统一社会信用代码, 18 characters.
    pub credit_code: String,
    /// 名称.
    pub name: String,
    /// 法定代表人 (for an individual business: 经营者) name.
    pub legal_rep_name: String,
    /// 法定代表人 ID number.
    pub legal_rep_id_number: String,
    /// 登记机关 region: 6-digit GB/T 2260 county code.
    pub region: String,
    /// 类型, e.g. 有限责任公司, 股份有限公司, 个体工商户.
    pub kind: String,
    /// 登记状态.
    pub status: EnterpriseStatus,
    /// 成立日期 (`YYYY-MM-DD` in JSON).
    pub established: NaiveDate,
    /// 住所 / 经营场所.
    pub address: String,
}

/// The legal-person library the platform is connected to.
#[derive(Debug, Clone)]
pub enum LegalPersonLibrary {
    /// The built-in demo library.
    BuiltIn(Arc<DemoLibrary>),
    /// A real library over HTTP.
    Http(HttpLibrary),
}

impl LegalPersonLibrary {
    /// The registered record of `credit_code` (trimmed, any case), or `None` when it is not
    /// registered.
    pub async fn enterprise(
        &self,
        credit_code: &str,
    ) -> Result<Option<EnterpriseRecord>, ConnectorError> {
        let Ok(code) = CreditCode::parse(credit_code) else {
            return Ok(None);
        };
        match self {
            LegalPersonLibrary::BuiltIn(demo) => Ok(demo.enterprise(code.as_str()).cloned()),
            LegalPersonLibrary::Http(http) => http.enterprise(&code).await,
        }
    }
}
