//! The case (办件) and its life, as DOMAIN.md §3 describes it: 申请 → 预审 → 受理 / 不予受理 /
//! 补正 → 办理 → 办结 (准予 / 不予许可) → 送达, with 特别程序 pausing the clock.
//!
//! [`CaseState`] is where a case is; [`next`] is the only way to move it, a pure function the
//! service layer and the tests share. [`ProcessRecord`] is one 办件过程信息 entry with the
//! GB/T 39046 fields; its [`ProcessRecord::chain_bytes`] are what the per-case SM3 chain hashes.

use serde::{Deserialize, Serialize};

/// Where a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// 草稿: the applicant is still filling it in (no case number yet).
    Draft,
    /// 待受理: submitted online or registered at a window, waiting for the window's decision.
    Submitted,
    /// 待补正: the window asked for corrections; the clock is stopped.
    Correction,
    /// 办理中: accepted and being approved.
    Handling,
    /// 特别程序: a special procedure (延长审批, 听证, 检验检测, 专家评审) stopped the clock.
    Special,
    /// 准予许可 / 办结 (approved), waiting for delivery.
    Approved,
    /// 不予许可 (refused after examination), waiting for delivery of the decision.
    Rejected,
    /// 不予受理: refused at acceptance. Final.
    NotAccepted,
    /// 已送达: the result reached the applicant. Final.
    Delivered,
    /// 已撤回: the applicant withdrew it before acceptance. Final.
    Withdrawn,
}

impl CaseState {
    /// Every state.
    pub const ALL: &'static [CaseState] = &[
        CaseState::Draft,
        CaseState::Submitted,
        CaseState::Correction,
        CaseState::Handling,
        CaseState::Special,
        CaseState::Approved,
        CaseState::Rejected,
        CaseState::NotAccepted,
        CaseState::Delivered,
        CaseState::Withdrawn,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Draft => "draft",
            CaseState::Submitted => "submitted",
            CaseState::Correction => "correction",
            CaseState::Handling => "handling",
            CaseState::Special => "special",
            CaseState::Approved => "approved",
            CaseState::Rejected => "rejected",
            CaseState::NotAccepted => "not_accepted",
            CaseState::Delivered => "delivered",
            CaseState::Withdrawn => "withdrawn",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<CaseState> {
        CaseState::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    /// What the applicant and staff read.
    pub fn label_zh(self) -> &'static str {
        match self {
            CaseState::Draft => "草稿",
            CaseState::Submitted => "待受理",
            CaseState::Correction => "待补正",
            CaseState::Handling => "办理中",
            CaseState::Special => "特别程序中",
            CaseState::Approved => "已办结（准予）",
            CaseState::Rejected => "已办结（不予许可）",
            CaseState::NotAccepted => "不予受理",
            CaseState::Delivered => "已送达",
            CaseState::Withdrawn => "已撤回",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            CaseState::Draft => "draft",
            CaseState::Submitted => "awaiting acceptance",
            CaseState::Correction => "awaiting corrections",
            CaseState::Handling => "being handled",
            CaseState::Special => "special procedure",
            CaseState::Approved => "decided: approved",
            CaseState::Rejected => "decided: refused",
            CaseState::NotAccepted => "not accepted",
            CaseState::Delivered => "delivered",
            CaseState::Withdrawn => "withdrawn",
        }
    }

    /// Whether nothing can happen to the case any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CaseState::NotAccepted | CaseState::Delivered | CaseState::Withdrawn
        )
    }

    /// Whether the promised time limit is running (accepted, not paused, not decided).
    pub fn clock_running(self) -> bool {
        self == CaseState::Handling
    }
}

/// What somebody does to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseAction {
    /// The applicant (or a window clerk on their behalf) submits: 申请.
    Submit,
    /// The window asks for corrections, listing them all at once: 补正（一次性告知）.
    RequestCorrection,
    /// The applicant hands in the corrections.
    Resubmit,
    /// The window accepts: 受理.
    Accept,
    /// The window refuses to accept, with reasons: 不予受理.
    Refuse,
    /// A special procedure starts (the clock stops).
    StartSpecial,
    /// The special procedure ends (the clock runs again).
    EndSpecial,
    /// A handler asks for the promised deadline to be extended: 申请延长审批.
    RequestExtension,
    /// The extension is approved or refused by another approver: 延长审批.
    DecideExtension,
    /// The examination ends in approval: 准予.
    Approve,
    /// The examination ends in refusal: 不予许可.
    Reject,
    /// The result reaches the applicant: 送达.
    Deliver,
    /// The applicant withdraws the application.
    Withdraw,
}

impl CaseAction {
    /// Every action.
    pub const ALL: &'static [CaseAction] = &[
        CaseAction::Submit,
        CaseAction::RequestCorrection,
        CaseAction::Resubmit,
        CaseAction::Accept,
        CaseAction::Refuse,
        CaseAction::StartSpecial,
        CaseAction::EndSpecial,
        CaseAction::RequestExtension,
        CaseAction::DecideExtension,
        CaseAction::Approve,
        CaseAction::Reject,
        CaseAction::Deliver,
        CaseAction::Withdraw,
    ];

    /// The step name the process record carries (步骤名称).
    pub fn step_zh(self) -> &'static str {
        match self {
            CaseAction::Submit => "申请",
            CaseAction::RequestCorrection => "补正告知",
            CaseAction::Resubmit => "补正提交",
            CaseAction::Accept => "受理",
            CaseAction::Refuse => "不予受理",
            CaseAction::StartSpecial => "特别程序开始",
            CaseAction::EndSpecial => "特别程序结束",
            CaseAction::RequestExtension => "申请延长审批",
            CaseAction::DecideExtension => "延长审批",
            CaseAction::Approve | CaseAction::Reject => "办结",
            CaseAction::Deliver => "送达",
            CaseAction::Withdraw => "撤回申请",
        }
    }

    /// The record's action (处理动作).
    pub fn record_action(self) -> RecordAction {
        match self {
            CaseAction::RequestCorrection | CaseAction::Refuse | CaseAction::Reject => {
                RecordAction::Return
            }
            CaseAction::Accept | CaseAction::Approve => RecordAction::Pass,
            _ => RecordAction::Other,
        }
    }
}

/// An action the case's state does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a case that is {} cannot be {action:?}", .state.label_en())]
pub struct NotAllowed {
    /// Where the case is.
    pub state: CaseState,
    /// What was attempted.
    pub action: CaseAction,
}

impl NotAllowed {
    /// The Chinese sentence shown to staff and applicants.
    pub fn message_zh(&self) -> String {
        format!(
            "办件当前状态为“{}”，不能进行“{}”",
            self.state.label_zh(),
            self.action.step_zh()
        )
    }
}

/// The state after `action`, or why it is not allowed.
pub fn next(state: CaseState, action: CaseAction) -> Result<CaseState, NotAllowed> {
    use CaseAction as A;
    use CaseState as S;
    let to = match (state, action) {
        (S::Draft, A::Submit) => S::Submitted,
        (S::Submitted, A::RequestCorrection) => S::Correction,
        (S::Correction, A::Resubmit) => S::Submitted,
        (S::Submitted, A::Accept) => S::Handling,
        (S::Submitted, A::Refuse) => S::NotAccepted,
        (S::Handling, A::StartSpecial) => S::Special,
        (S::Special, A::EndSpecial) => S::Handling,
        (S::Handling, A::RequestExtension | A::DecideExtension) => S::Handling,
        (S::Handling, A::Approve) => S::Approved,
        (S::Handling, A::Reject) => S::Rejected,
        (S::Approved | S::Rejected, A::Deliver) => S::Delivered,
        (S::Draft | S::Submitted | S::Correction, A::Withdraw) => S::Withdrawn,
        _ => return Err(NotAllowed { state, action }),
    };
    Ok(to)
}

/// 处理动作 of a process record (GB/T 39046: 通过 / 退回 / 其他).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecordAction {
    /// 通过.
    #[serde(rename = "1")]
    Pass,
    /// 退回 (also 不予受理, 补正, 不予许可: the case goes back to the applicant).
    #[serde(rename = "2")]
    Return,
    /// 其他.
    #[serde(rename = "9")]
    Other,
}

impl RecordAction {
    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            RecordAction::Pass => "1",
            RecordAction::Return => "2",
            RecordAction::Other => "9",
        }
    }

    /// Parses a code.
    pub fn from_code(c: &str) -> Option<RecordAction> {
        match c {
            "1" => Some(RecordAction::Pass),
            "2" => Some(RecordAction::Return),
            "9" => Some(RecordAction::Other),
            _ => None,
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            RecordAction::Pass => "通过",
            RecordAction::Return => "退回",
            RecordAction::Other => "其他",
        }
    }
}

/// 办理状态 of a process record: 1 待办, 2 已办.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecordStatus {
    /// 待办: the step has started and is not done.
    #[serde(rename = "1")]
    Pending,
    /// 已办: the step is done.
    #[serde(rename = "2")]
    Done,
}

impl RecordStatus {
    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            RecordStatus::Pending => "1",
            RecordStatus::Done => "2",
        }
    }

    /// Parses a code.
    pub fn from_code(c: &str) -> Option<RecordStatus> {
        match c {
            "1" => Some(RecordStatus::Pending),
            "2" => Some(RecordStatus::Done),
            _ => None,
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            RecordStatus::Pending => "待办",
            RecordStatus::Done => "已办",
        }
    }
}

/// One 办件过程信息 entry (GB/T 39046): append-only; a step that starts and later ends is two
/// entries (待办, then 已办).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRecord {
    /// 办件编号 (empty for records of a draft, which has none yet).
    pub case_no: String,
    /// Position in the case's chain, from 1.
    pub seq: i64,
    /// 步骤名称.
    pub step: String,
    /// 处理人 (display name; the applicant's masked name for the applicant's own steps).
    pub handler: String,
    /// The handler's account id (staff or user id; `system` for the platform itself).
    pub handler_id: String,
    /// 处理动作.
    pub action: RecordAction,
    /// 处理意见.
    pub opinion: String,
    /// 开始时间 (stored UTC timestamp text).
    pub started_at: String,
    /// 结束时间 (empty while 待办).
    pub ended_at: String,
    /// 办理状态.
    pub status: RecordStatus,
}

impl ProcessRecord {
    /// The bytes the chain hashes: the fields in a fixed order, each length-prefixed, so no two
    /// different records share them.
    pub fn chain_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        for f in [
            self.case_no.as_str(),
            &self.seq.to_string(),
            &self.step,
            &self.handler,
            &self.handler_id,
            self.action.code(),
            &self.opinion,
            &self.started_at,
            &self.ended_at,
            self.status.code(),
        ] {
            out.extend_from_slice(&(f.len() as u64).to_be_bytes());
            out.extend_from_slice(f.as_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_happy_path_and_the_correction_loop() {
        let mut s = CaseState::Draft;
        for a in [
            CaseAction::Submit,
            CaseAction::RequestCorrection,
            CaseAction::Resubmit,
            CaseAction::Accept,
            CaseAction::StartSpecial,
            CaseAction::EndSpecial,
            CaseAction::Approve,
            CaseAction::Deliver,
        ] {
            s = next(s, a).unwrap_or_else(|e| unreachable!("{e}"));
        }
        assert_eq!(s, CaseState::Delivered);
    }

    #[test]
    fn out_of_order_is_refused_with_a_chinese_reason() {
        let e = next(CaseState::Draft, CaseAction::Accept).unwrap_err();
        assert_eq!(e.message_zh(), "办件当前状态为“草稿”，不能进行“受理”");
        assert!(next(CaseState::Handling, CaseAction::Withdraw).is_err());
        assert!(next(CaseState::Special, CaseAction::Approve).is_err());
    }

    #[test]
    fn names_round_trip() {
        for s in CaseState::ALL {
            assert_eq!(CaseState::parse(s.as_str()), Some(*s));
        }
        for a in [
            RecordAction::Pass,
            RecordAction::Return,
            RecordAction::Other,
        ] {
            assert_eq!(RecordAction::from_code(a.code()), Some(a));
        }
    }

    fn state() -> impl Strategy<Value = CaseState> {
        proptest::sample::select(CaseState::ALL)
    }
    fn action() -> impl Strategy<Value = CaseAction> {
        proptest::sample::select(CaseAction::ALL)
    }

    proptest! {
        /// Nothing leaves a final state; only the clock states are entered by special
        /// procedures; a decision is only ever reached from handling.
        #[test]
        fn invariants(s in state(), actions in proptest::collection::vec(action(), 0..30)) {
            let mut cur = s;
            for a in actions {
                match next(cur, a) {
                    Ok(to) => {
                        prop_assert!(!cur.is_final());
                        if matches!(to, CaseState::Approved | CaseState::Rejected) {
                            prop_assert_eq!(cur, CaseState::Handling);
                        }
                        if to == CaseState::Delivered {
                            prop_assert!(matches!(cur, CaseState::Approved | CaseState::Rejected));
                        }
                        cur = to;
                    }
                    Err(e) => prop_assert_eq!(e.state, cur),
                }
            }
        }

        #[test]
        fn chain_bytes_differ_when_any_field_differs(a in "\\PC{0,8}", b in "\\PC{0,8}") {
            let r = |step: &str, opinion: &str| ProcessRecord {
                case_no: String::new(), seq: 1, step: step.into(), handler: "h".into(),
                handler_id: "u".into(), action: RecordAction::Other, opinion: opinion.into(),
                started_at: "t".into(), ended_at: String::new(), status: RecordStatus::Done,
            };
            // Moving text from one field to the next must change the bytes.
            let x = r(&format!("{a}{b}"), "");
            let y = r(&a, &b);
            if !b.is_empty() {
                prop_assert_ne!(x.chain_bytes(), y.chain_bytes());
            }
        }
    }
}
