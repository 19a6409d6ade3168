//! The service item (政务服务事项) and its guide (办事指南), as GB/T 39046 and the national guide
//! standard describe them.
//!
//! An *implementation item* (实施清单条目) is identified by its 实施编码 and has numbered versions;
//! each version carries one [`Guide`]. A published version never changes: a change (变更) makes a
//! new version that replaces it only once reviewed. [`ItemState`] is the item's life,
//! [`VersionStatus`] the life of one version. The transitions are pure functions here so that
//! the service layer and the tests agree on them.

use serde::{Deserialize, Serialize};

use crate::dict::{
    CaseType, CrossRegionScope, HandlingForm, ItemType, MaterialForm, OnlineDepth, ServiceObject,
};

/// Longest item name accepted (characters).
pub const MAX_NAME_CHARS: usize = 120;

/// The complete guide of one item version: every element of DOMAIN.md §2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guide {
    /// 事项名称.
    pub name: String,
    /// Other names and abbreviations the public uses (searchable).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// 事项类型.
    pub item_type: ItemType,
    /// 服务对象.
    pub service_objects: Vec<ServiceObject>,
    /// Life-event theme keys (主题分类).
    #[serde(default)]
    pub themes: Vec<String>,
    /// 设定依据.
    pub legal_basis: Vec<LegalBasis>,
    /// 受理条件, one condition a line.
    pub conditions: Vec<String>,
    /// 申请材料.
    pub materials: Vec<Material>,
    /// 办理流程.
    pub process: Vec<ProcessStep>,
    /// 法定办结时限, working days (0: the law sets none, handled on the spot).
    pub statutory_limit_days: u16,
    /// 承诺办结时限, working days (0 for 即办件).
    pub promised_limit_days: u16,
    /// 收费: `None` when the guide does not say; `Some(vec![])` means 不收费.
    pub fees: Option<Vec<Fee>>,
    /// 办理形式.
    pub handling_forms: Vec<HandlingForm>,
    /// 办件类型.
    pub case_type: CaseType,
    /// 网上办理深度.
    pub online_depth: OnlineDepth,
    /// 到现场次数.
    pub visits: u8,
    /// The lowest real-name level an applicant needs to apply online (实名等级要求); guides
    /// written before it existed read as L2, the usual requirement for online applications.
    #[serde(default = "default_min_level")]
    pub min_level: crate::identity::RealNameLevel,
    /// 通办范围.
    pub scope: CrossRegionScope,
    /// 办理结果.
    pub result: ItemResult,
    /// 办理地点 and hours.
    pub places: Vec<Place>,
    /// 咨询电话.
    pub consult_phone: String,
    /// 监督投诉电话.
    pub complaint_phone: String,
}

fn default_min_level() -> crate::identity::RealNameLevel {
    crate::identity::RealNameLevel::L2
}

/// One legal basis (设定依据): a law or regulation and the article that sets the item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalBasis {
    /// Name of the law, with its 《》.
    pub law: String,
    /// Article, e.g. 第三十五条.
    pub article: String,
    /// The article's text.
    pub text: String,
}

/// One required or conditional material (申请材料).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    /// 材料名称.
    pub name: String,
    /// 原件份数.
    pub original: u8,
    /// 复印件份数.
    pub copies: u8,
    /// 材料形式.
    pub form: MaterialForm,
    /// 是否必要: true for 必要, false for 非必要 / 容缺 / conditional.
    pub required: bool,
    /// When a conditional material is needed (e.g. 委托他人办理的).
    #[serde(default)]
    pub condition: Option<String>,
    /// 来源渠道 (申请人自备, 政府部门核发…).
    #[serde(default)]
    pub source: String,
    /// 填报须知 / notes.
    #[serde(default)]
    pub note: Option<String>,
    /// A blank form (空白表格) is provided.
    #[serde(default)]
    pub blank_form: bool,
    /// A filled sample (示例样表) is provided.
    #[serde(default)]
    pub sample: bool,
}

/// One step of the handling process (办理流程).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessStep {
    /// Step name (申请, 受理, 审查, 决定, 送达…).
    pub name: String,
    /// What happens in the step.
    pub description: String,
}

/// One fee (收费项目).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    /// 收费项目名称.
    pub name: String,
    /// 收费标准, as written (e.g. 20元/证).
    pub amount: String,
    /// 收费依据.
    pub basis: String,
}

/// 办理结果.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemResult {
    /// 结果名称 (e.g. 食品经营许可证).
    pub name: String,
    /// 结果类型: 证照, 批文 or 其他.
    pub kind: String,
}

/// 办理地点 with its hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// Name of the hall or window.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Office hours.
    pub hours: String,
}

impl Guide {
    /// Whether the item can be applied for online (网上办理 or 移动端).
    pub fn online(&self) -> bool {
        self.handling_forms
            .iter()
            .any(|f| matches!(f, HandlingForm::Online | HandlingForm::Mobile))
    }

    /// Whether the item serves natural persons (个人).
    pub fn serves_persons(&self) -> bool {
        self.service_objects.iter().any(|o| o.is_person())
    }

    /// Whether the item serves legal persons or organisations (法人).
    pub fn serves_legal_persons(&self) -> bool {
        self.service_objects.iter().any(|o| !o.is_person())
    }

    /// Whether the item charges a fee; `None` when the guide does not say.
    pub fn charged(&self) -> Option<bool> {
        self.fees.as_ref().map(|f| !f.is_empty())
    }

    /// The searchable free text of the guide: conditions, process, result and notes.
    pub fn body_text(&self) -> String {
        let mut out = String::new();
        for c in &self.conditions {
            out.push_str(c);
            out.push('\n');
        }
        for s in &self.process {
            out.push_str(&s.name);
            out.push(' ');
            out.push_str(&s.description);
            out.push('\n');
        }
        out.push_str(&self.result.name);
        out.push('\n');
        for m in &self.materials {
            if let Some(n) = &m.note {
                out.push_str(n);
                out.push('\n');
            }
        }
        out
    }

    /// The legal basis as one searchable text.
    pub fn legal_text(&self) -> String {
        self.legal_basis
            .iter()
            .map(|l| format!("{}{} {}", l.law, l.article, l.text))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The life of an implementation item as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Created, never published.
    Draft,
    /// Published and in force (在用).
    Active,
    /// Temporarily not handled (暂停).
    Suspended,
    /// Cancelled for good (取消); terminal.
    Cancelled,
}

impl ItemState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Draft => "draft",
            ItemState::Active => "active",
            ItemState::Suspended => "suspended",
            ItemState::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => ItemState::Draft,
            "active" => ItemState::Active,
            "suspended" => ItemState::Suspended,
            "cancelled" => ItemState::Cancelled,
            _ => return None,
        })
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            ItemState::Draft => "未发布",
            ItemState::Active => "在用",
            ItemState::Suspended => "暂停",
            ItemState::Cancelled => "已取消",
        }
    }
}

/// The life of one version of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// Being edited by the item manager.
    Draft,
    /// Submitted, waiting for the reviewer (待审核).
    Submitted,
    /// Returned by the reviewer with a reason (退回), editable again.
    Returned,
    /// Published and in force: immutable from now on.
    Published,
    /// Was published, replaced by a later version (历史版本).
    Superseded,
    /// A draft abandoned by its author (废弃).
    Discarded,
}

impl VersionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Draft => "draft",
            VersionStatus::Submitted => "submitted",
            VersionStatus::Returned => "returned",
            VersionStatus::Published => "published",
            VersionStatus::Superseded => "superseded",
            VersionStatus::Discarded => "discarded",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => VersionStatus::Draft,
            "submitted" => VersionStatus::Submitted,
            "returned" => VersionStatus::Returned,
            "published" => VersionStatus::Published,
            "superseded" => VersionStatus::Superseded,
            "discarded" => VersionStatus::Discarded,
            _ => return None,
        })
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            VersionStatus::Draft => "草稿",
            VersionStatus::Submitted => "待审核",
            VersionStatus::Returned => "已退回",
            VersionStatus::Published => "已发布",
            VersionStatus::Superseded => "历史版本",
            VersionStatus::Discarded => "已废弃",
        }
    }

    /// Whether the item manager may still edit the version.
    pub fn editable(self) -> bool {
        matches!(self, VersionStatus::Draft | VersionStatus::Returned)
    }
}

/// What a version changes (变更类型), as the national catalogue rules name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// 新增.
    New,
    /// 变更.
    Change,
}

impl ChangeKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::New => "new",
            ChangeKind::Change => "change",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "new" => Some(ChangeKind::New),
            "change" => Some(ChangeKind::Change),
            _ => None,
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            ChangeKind::New => "新增",
            ChangeKind::Change => "变更",
        }
    }
}

/// Why an action on an item or version is not allowed now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The version is not in a state that allows the action.
    #[error("version is {from:?}; {action} needs {needs}")]
    VersionState {
        /// Current status.
        from: VersionStatus,
        /// The attempted action.
        action: &'static str,
        /// What it needs, in words.
        needs: &'static str,
    },
    /// The item is not in a state that allows the action.
    #[error("item is {from:?}; {action} needs {needs}")]
    ItemState {
        /// Current state.
        from: ItemState,
        /// The attempted action.
        action: &'static str,
        /// What it needs, in words.
        needs: &'static str,
    },
}

impl TransitionError {
    /// The error in Chinese, for pages and problem documents.
    pub fn message_zh(&self) -> String {
        match self {
            TransitionError::VersionState { from, action, .. } => {
                format!(
                    "当前版本状态为“{}”，不能{}",
                    from.label_zh(),
                    action_zh(action)
                )
            }
            TransitionError::ItemState { from, action, .. } => {
                format!(
                    "事项当前状态为“{}”，不能{}",
                    from.label_zh(),
                    action_zh(action)
                )
            }
        }
    }
}

fn action_zh(action: &str) -> &'static str {
    match action {
        "edit" => "编辑",
        "submit" => "提交审核",
        "approve" => "审核通过",
        "return" => "退回",
        "change" => "发起变更",
        "suspend" => "暂停",
        "resume" => "恢复",
        "cancel" => "取消",
        "discard" => "废弃草稿",
        _ => "执行该操作",
    }
}

/// The version-status transitions. Each returns the new status or why it is refused.
pub mod transitions {
    use super::{ItemState, TransitionError, VersionStatus};

    fn need_version(
        from: VersionStatus,
        ok: bool,
        action: &'static str,
        needs: &'static str,
        to: VersionStatus,
    ) -> Result<VersionStatus, TransitionError> {
        if ok {
            Ok(to)
        } else {
            Err(TransitionError::VersionState {
                from,
                action,
                needs,
            })
        }
    }

    /// Editing keeps the status; only drafts and returned versions are editable.
    pub fn edit(from: VersionStatus) -> Result<VersionStatus, TransitionError> {
        need_version(from, from.editable(), "edit", "draft or returned", from)
    }

    /// Submitting for review (quality checks are the caller's business).
    pub fn submit(from: VersionStatus) -> Result<VersionStatus, TransitionError> {
        need_version(
            from,
            from.editable(),
            "submit",
            "draft or returned",
            VersionStatus::Submitted,
        )
    }

    /// The reviewer approves: the version is published.
    pub fn approve(from: VersionStatus) -> Result<VersionStatus, TransitionError> {
        need_version(
            from,
            from == VersionStatus::Submitted,
            "approve",
            "submitted",
            VersionStatus::Published,
        )
    }

    /// The reviewer returns the version with a reason.
    pub fn send_back(from: VersionStatus) -> Result<VersionStatus, TransitionError> {
        need_version(
            from,
            from == VersionStatus::Submitted,
            "return",
            "submitted",
            VersionStatus::Returned,
        )
    }

    /// The author abandons an unpublished draft.
    pub fn discard(from: VersionStatus) -> Result<VersionStatus, TransitionError> {
        need_version(
            from,
            from.editable(),
            "discard",
            "draft or returned",
            VersionStatus::Discarded,
        )
    }

    fn need_item(
        from: ItemState,
        ok: bool,
        action: &'static str,
        needs: &'static str,
        to: ItemState,
    ) -> Result<ItemState, TransitionError> {
        if ok {
            Ok(to)
        } else {
            Err(TransitionError::ItemState {
                from,
                action,
                needs,
            })
        }
    }

    /// A change (变更) can start from a published item, active or suspended.
    pub fn start_change(from: ItemState) -> Result<ItemState, TransitionError> {
        need_item(
            from,
            matches!(from, ItemState::Active | ItemState::Suspended),
            "change",
            "active or suspended",
            from,
        )
    }

    /// 暂停.
    pub fn suspend(from: ItemState) -> Result<ItemState, TransitionError> {
        need_item(
            from,
            from == ItemState::Active,
            "suspend",
            "active",
            ItemState::Suspended,
        )
    }

    /// 恢复 after a suspension.
    pub fn resume(from: ItemState) -> Result<ItemState, TransitionError> {
        need_item(
            from,
            from == ItemState::Suspended,
            "resume",
            "suspended",
            ItemState::Active,
        )
    }

    /// 取消: final.
    pub fn cancel(from: ItemState) -> Result<ItemState, TransitionError> {
        need_item(
            from,
            from != ItemState::Cancelled,
            "cancel",
            "not cancelled",
            ItemState::Cancelled,
        )
    }

    /// Publishing a version makes a draft item active; other states stay.
    pub fn on_publish(from: ItemState) -> ItemState {
        match from {
            ItemState::Draft => ItemState::Active,
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::transitions::*;
    use super::*;

    #[test]
    fn a_published_version_is_immutable() {
        assert!(edit(VersionStatus::Published).is_err());
        assert!(submit(VersionStatus::Published).is_err());
        assert!(edit(VersionStatus::Superseded).is_err());
        assert!(approve(VersionStatus::Published).is_err());
    }

    #[test]
    fn review_cycle() {
        let s = submit(VersionStatus::Draft).unwrap();
        assert_eq!(s, VersionStatus::Submitted);
        let r = send_back(s).unwrap();
        assert_eq!(edit(r).unwrap(), VersionStatus::Returned);
        let s = submit(r).unwrap();
        assert_eq!(approve(s).unwrap(), VersionStatus::Published);
    }

    #[test]
    fn cancelled_is_final() {
        assert!(suspend(ItemState::Cancelled).is_err());
        assert!(resume(ItemState::Cancelled).is_err());
        assert!(start_change(ItemState::Cancelled).is_err());
        assert!(cancel(ItemState::Cancelled).is_err());
        assert!(start_change(ItemState::Draft).is_err());
        assert_eq!(suspend(ItemState::Active).unwrap(), ItemState::Suspended);
    }

    #[test]
    fn every_status_round_trips() {
        for s in [
            VersionStatus::Draft,
            VersionStatus::Submitted,
            VersionStatus::Returned,
            VersionStatus::Published,
            VersionStatus::Superseded,
            VersionStatus::Discarded,
        ] {
            assert_eq!(VersionStatus::parse(s.as_str()), Some(s));
        }
        for s in [
            ItemState::Draft,
            ItemState::Active,
            ItemState::Suspended,
            ItemState::Cancelled,
        ] {
            assert_eq!(ItemState::parse(s.as_str()), Some(s));
        }
    }
}
