//! What a notice says: the data the caller passes in (and may store as JSON to know later exactly
//! what was rendered). Plain serde data, no behaviour beyond titles, validation and the Chinese
//! date format.
//!
//! The caller decides every printed value: the applicant name is printed as given (mask it before
//! if the notice is public), and every date is passed in — the renderer never reads the clock.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::DocumentError;

/// One notice of a case (办件): the common header and what its kind adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Which notice, with the data only that kind prints.
    pub kind: NoticeKind,
    /// What every notice prints.
    pub header: NoticeHeader,
}

/// The data common to every notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeHeader {
    /// Issuing department (e.g. 长沙市岳麓区市场监督管理局): printed above the title and in the
    /// signature block.
    pub department: String,
    /// Document number (文号), e.g. 岳市监受字〔2026〕第0012号.
    pub document_number: String,
    /// Case number (办件编号).
    pub case_number: String,
    /// Name of the service item (事项名称).
    pub item_name: String,
    /// Applicant as printed (already masked where appropriate).
    pub applicant: String,
    /// Date the notice is issued (成文日期), printed in the signature block.
    pub issued_on: NaiveDate,
    /// Promised completion date (承诺办结时间); printed by the acceptance notice when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised_completion: Option<NaiveDate>,
    /// Where the applicant checks the case: printed in the query line and encoded in the QR code.
    pub query_url: String,
}

/// The kinds of notice, each with what only it prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NoticeKind {
    /// 受理通知书: the application is accepted.
    Acceptance(Acceptance),
    /// 不予受理通知书: the application is not accepted, with the reasons.
    Refusal(Refusal),
    /// 补正材料通知书: every material to add or correct, told at once (一次性告知), and the
    /// deadline.
    Correction(Correction),
    /// 准予许可决定书 or 不予许可决定书.
    Decision(Decision),
    /// 送达回证: proof that a document was delivered.
    DeliveryReceipt(DeliveryReceipt),
}

/// 受理通知书.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    /// Date the application was received (申请日期), when the wording should mention it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_on: Option<NaiveDate>,
    /// Materials received (材料接收清单); may be empty.
    #[serde(default)]
    pub materials: Vec<ReceivedMaterial>,
}

/// One received material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedMaterial {
    /// Material name.
    pub name: String,
    /// Number of copies (份数).
    pub copies: u32,
    /// Remark, e.g. 原件 / 复印件 / 电子材料.
    #[serde(default)]
    pub remark: String,
}

/// 不予受理通知书.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Every reason, one per numbered paragraph; at least one.
    pub reasons: Vec<String>,
    /// Where to apply instead (告知向有关行政机关申请), when the matter belongs to another body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refer_to: Option<String>,
    /// Administrative review and litigation bodies, when the notice tells the remedies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedies: Option<Remedies>,
}

/// 补正材料通知书 (一次性告知).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// Every material that is missing or wrong; at least one.
    pub items: Vec<CorrectionItem>,
    /// Last day to hand in the corrections.
    pub deadline: NaiveDate,
}

/// One material to add or correct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionItem {
    /// Material name.
    pub material: String,
    /// Missing or not in the required form.
    pub problem: MaterialProblem,
    /// What is wrong and what to hand in.
    pub requirement: String,
}

/// Why a material must be handed in again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialProblem {
    /// 缺少: not handed in.
    Missing,
    /// 需补正: handed in, but wrong or not in the legal form.
    Incorrect,
}

impl MaterialProblem {
    /// The word printed in the table.
    pub fn label(self) -> &'static str {
        match self {
            MaterialProblem::Missing => "缺少",
            MaterialProblem::Incorrect => "需补正",
        }
    }
}

/// 准予许可决定书 / 不予许可决定书.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Approved (with the result) or refused (with the reasons).
    pub outcome: DecisionOutcome,
    /// The review opinion (审查意见), printed as its own paragraph.
    pub opinion: String,
    /// Administrative review and litigation bodies; a refusal should always tell them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedies: Option<Remedies>,
}

/// The outcome of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DecisionOutcome {
    /// 准予许可.
    Approved {
        /// The result issued, e.g. 食品经营许可证.
        result_name: String,
        /// Its number (证照编号).
        result_number: String,
    },
    /// 不予许可.
    Refused {
        /// Every reason; at least one.
        reasons: Vec<String>,
    },
}

/// Where the applicant can seek administrative review (行政复议) or sue (行政诉讼).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remedies {
    /// The review body, e.g. 长沙市岳麓区人民政府.
    pub review_body: String,
    /// The court, e.g. 长沙市岳麓区人民法院.
    pub court: String,
}

/// 送达回证.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReceipt {
    /// The documents delivered; at least one.
    pub documents: Vec<DeliveredDocument>,
    /// How they were delivered.
    pub method: DeliveryMethod,
    /// Date of delivery (window) or of posting.
    pub delivered_on: NaiveDate,
    /// Staff member who delivered (送达人).
    pub served_by: String,
    /// Remark (备注); printed when not empty.
    #[serde(default)]
    pub remark: String,
}

/// One delivered document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveredDocument {
    /// Its title, e.g. 准予许可决定书.
    pub title: String,
    /// Its document number (文号).
    pub number: String,
}

/// How a document reached the applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeliveryMethod {
    /// 窗口送达: handed over at a service window; the recipient signs on paper.
    Window {
        /// The place, e.g. 岳麓区政务服务中心3号窗口.
        place: String,
    },
    /// 邮寄送达: posted.
    Post {
        /// Carrier, e.g. 中国邮政EMS.
        carrier: String,
        /// Tracking number (运单号).
        tracking_number: String,
        /// Postal address as printed (masked where appropriate).
        address: String,
    },
}

impl Notice {
    /// The title printed on the notice.
    pub fn title(&self) -> &'static str {
        match &self.kind {
            NoticeKind::Acceptance(_) => "受理通知书",
            NoticeKind::Refusal(_) => "不予受理通知书",
            NoticeKind::Correction(_) => "补正材料通知书",
            NoticeKind::Decision(d) => match d.outcome {
                DecisionOutcome::Approved { .. } => "准予许可决定书",
                DecisionOutcome::Refused { .. } => "不予许可决定书",
            },
            NoticeKind::DeliveryReceipt(_) => "送达回证",
        }
    }

    /// Checks that everything the notice must print is there.
    pub fn validate(&self) -> Result<(), DocumentError> {
        let h = &self.header;
        for (value, what) in [
            (&h.department, "department"),
            (&h.document_number, "document_number"),
            (&h.case_number, "case_number"),
            (&h.item_name, "item_name"),
            (&h.applicant, "applicant"),
            (&h.query_url, "query_url"),
        ] {
            required(value, what)?;
        }
        match &self.kind {
            NoticeKind::Acceptance(a) => {
                for m in &a.materials {
                    required(&m.name, "materials[].name")?;
                }
            }
            NoticeKind::Refusal(r) => non_empty_list(&r.reasons, "reasons")?,
            NoticeKind::Correction(c) => {
                if c.items.is_empty() {
                    return invalid("a correction notice lists at least one material");
                }
                for item in &c.items {
                    required(&item.material, "items[].material")?;
                    required(&item.requirement, "items[].requirement")?;
                }
                if c.deadline < h.issued_on {
                    return invalid("the correction deadline is before the issue date");
                }
            }
            NoticeKind::Decision(d) => {
                required(&d.opinion, "opinion")?;
                match &d.outcome {
                    DecisionOutcome::Approved {
                        result_name,
                        result_number,
                    } => {
                        required(result_name, "result_name")?;
                        required(result_number, "result_number")?;
                    }
                    DecisionOutcome::Refused { reasons } => non_empty_list(reasons, "reasons")?,
                }
            }
            NoticeKind::DeliveryReceipt(r) => {
                if r.documents.is_empty() {
                    return invalid("a delivery receipt names at least one document");
                }
                for d in &r.documents {
                    required(&d.title, "documents[].title")?;
                }
                required(&r.served_by, "served_by")?;
                match &r.method {
                    DeliveryMethod::Window { place } => required(place, "place")?,
                    DeliveryMethod::Post {
                        carrier,
                        tracking_number,
                        address,
                    } => {
                        required(carrier, "carrier")?;
                        required(tracking_number, "tracking_number")?;
                        required(address, "address")?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn required(value: &str, what: &str) -> Result<(), DocumentError> {
    if value.trim().is_empty() {
        invalid(&format!("{what} is empty"))
    } else {
        Ok(())
    }
}

fn non_empty_list(items: &[String], what: &str) -> Result<(), DocumentError> {
    if items.iter().all(|s| s.trim().is_empty()) {
        invalid(&format!("{what}: at least one is required"))
    } else {
        Ok(())
    }
}

fn invalid(message: &str) -> Result<(), DocumentError> {
    Err(DocumentError::InvalidNotice(message.to_owned()))
}

/// A date as official documents print it: `2026年11月27日` (Arabic numerals, no padding, as
/// GB/T 9704-2012 prescribes for the date of issue).
pub fn chinese_date(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_dates_are_not_padded() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        assert_eq!(chinese_date(d), "2026年1月5日");
    }
}
