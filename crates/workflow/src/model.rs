//! The process graph a BPMN 2.0 file is parsed into, and the [`Problem`] reported for it.

use serde::{Deserialize, Serialize};

/// One problem found in a process file, named by the element id (empty for the whole file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The `id` attribute of the element at fault.
    pub element_id: String,
    /// The message in Chinese, for process designers.
    pub message_zh: String,
    /// The same message in English.
    pub message_en: String,
}

impl Problem {
    /// A problem for `element_id` with both messages.
    pub fn new(element_id: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            element_id: element_id.to_owned(),
            message_zh: zh.into(),
            message_en: en.into(),
        }
    }
}

/// One executable process: nodes (flattened, with their scope) and sequence flows, in document order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Process {
    /// The process id.
    pub id: String,
    /// The process name, if any.
    pub name: Option<String>,
    /// Every flow node, including those inside embedded sub-processes.
    pub nodes: Vec<Node>,
    /// Every sequence flow.
    pub flows: Vec<Flow>,
}

impl Process {
    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }
    /// The flow with this id.
    pub fn flow(&self, id: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.id == id)
    }
    /// Flows leaving `node`, in document order.
    pub fn outgoing<'a>(&'a self, node: &'a str) -> impl Iterator<Item = &'a Flow> + 'a {
        self.flows.iter().filter(move |f| f.source == node)
    }
    /// Flows entering `node`, in document order.
    pub fn incoming<'a>(&'a self, node: &'a str) -> impl Iterator<Item = &'a Flow> + 'a {
        self.flows.iter().filter(move |f| f.target == node)
    }
    /// Boundary events attached to `node`.
    pub fn boundaries<'a>(&'a self, node: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.nodes.iter().filter(move |n| matches!(&n.kind, NodeKind::BoundaryTimer { attached_to, .. } if attached_to == node))
    }
    /// The start events directly in `scope` (`None`: the process itself).
    pub fn starts<'a>(&'a self, scope: Option<&'a str>) -> impl Iterator<Item = &'a Node> + 'a {
        self.nodes
            .iter()
            .filter(move |n| n.parent.as_deref() == scope && matches!(n.kind, NodeKind::StartEvent))
    }
}

/// A flow node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The element id.
    pub id: String,
    /// The element name, if any.
    pub name: Option<String>,
    /// The embedded sub-process this node is in (`None`: the process itself).
    pub parent: Option<String>,
    /// What the node does.
    pub kind: NodeKind,
    /// The step's time limit and what happens when it passes (user tasks only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepRule>,
}

/// A step's time limit (办理时限) and its escalation, declared on a user task with
/// `yiwang:limitWorkingDays` / `yiwang:limitWorkingHours` / `yiwang:escalation` or the same
/// names as `camunda:property` / `flowable:property` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRule {
    /// The limit, counted in the platform's working-day calendar.
    pub limit: Limit,
    /// What the platform does when the limit passes.
    pub escalation: Escalation,
}

/// A step limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Limit {
    /// N working days.
    WorkingDays(u32),
    /// N working hours.
    WorkingHours(u32),
}

/// What happens when a step's limit passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Escalation {
    /// `notify`: tell the holders of the task and their department (the default).
    Notify,
    /// `reassign:ROLE`: offer the task to another role of the same organisation.
    Reassign(String),
    /// `complete:approved` / `complete:rejected`: complete it with that outcome (e.g. 默认同意).
    Complete(bool),
    /// `sendBack`: send the case back to the step before.
    SendBack,
}

impl Escalation {
    /// Parse the declared text.
    pub fn parse(text: &str) -> Option<Escalation> {
        let t = text.trim();
        match t {
            "notify" => Some(Escalation::Notify),
            "sendBack" => Some(Escalation::SendBack),
            "complete:approved" => Some(Escalation::Complete(true)),
            "complete:rejected" => Some(Escalation::Complete(false)),
            _ => t
                .strip_prefix("reassign:")
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| Escalation::Reassign(r.to_owned())),
        }
    }

    /// The declared text.
    pub fn as_text(&self) -> String {
        match self {
            Escalation::Notify => "notify".into(),
            Escalation::SendBack => "sendBack".into(),
            Escalation::Complete(true) => "complete:approved".into(),
            Escalation::Complete(false) => "complete:rejected".into(),
            Escalation::Reassign(r) => format!("reassign:{r}"),
        }
    }
}

/// The supported kinds of flow node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NodeKind {
    /// A plain start event.
    StartEvent,
    /// An end event; `terminate` ends every token of its scope.
    EndEvent { terminate: bool },
    /// A user task: work items offered by the assignment rule.
    UserTask {
        assignment: Assignment,
        multi: Option<MultiInstance>,
    },
    /// A service task calling a named platform action.
    ServiceTask { action: String },
    /// Exclusive gateway (first true condition in document order, else the default flow).
    ExclusiveGateway { default: Option<String> },
    /// Parallel gateway (fork all, join all).
    ParallelGateway,
    /// Inclusive gateway (fork every true condition, join the tokens sent).
    InclusiveGateway { default: Option<String> },
    /// An intermediate timer catch event.
    TimerCatch { timer: Timer },
    /// An intermediate message catch event, waiting for the named message.
    MessageCatch { message: String },
    /// A timer boundary event on an activity.
    BoundaryTimer {
        attached_to: String,
        cancel_activity: bool,
        timer: Timer,
    },
    /// An embedded sub-process: its nodes have it as `parent`.
    SubProcess,
}

/// Who may work on a user task, from `camunda:`/`flowable:`/`activiti:` attributes
/// (`assignee`, `candidateUsers`, `candidateGroups`) and `yiwang:candidateOrgs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// A named assignee (may be an expression).
    pub assignee: Option<String>,
    /// Candidate users.
    pub candidate_users: Vec<String>,
    /// Candidate roles (groups).
    pub candidate_groups: Vec<String>,
    /// Candidate organisations (department rules such as `case.department`).
    pub candidate_orgs: Vec<String>,
}

impl Assignment {
    /// Whether any rule is declared.
    pub fn is_empty(&self) -> bool {
        self.assignee.is_none()
            && self.candidate_users.is_empty()
            && self.candidate_groups.is_empty()
            && self.candidate_orgs.is_empty()
    }
}

/// Multi-instance characteristics (会签 / 或签).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiInstance {
    /// One instance after another instead of all at once.
    pub sequential: bool,
    /// `loopCardinality` expression text.
    pub cardinality: Option<String>,
    /// `camunda:collection` variable name or expression whose array length gives the count.
    pub collection: Option<String>,
    /// `camunda:elementVariable`: each work item gets one element of the collection under this name.
    pub element_variable: Option<String>,
    /// `completionCondition` expression text.
    pub completion: Option<String>,
}

/// A timer definition, text kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Timer {
    /// `timeDuration`, e.g. `P5D`.
    Duration(String),
    /// `timeDate`, e.g. `2026-01-01T00:00:00Z`.
    Date(String),
    /// `timeCycle`, e.g. `R3/PT1H`.
    Cycle(String),
}

/// A sequence flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    /// The element id.
    pub id: String,
    /// The flow name, if any.
    pub name: Option<String>,
    /// Source node id.
    pub source: String,
    /// Target node id.
    pub target: String,
    /// `conditionExpression` text, if any.
    pub condition: Option<String>,
}
