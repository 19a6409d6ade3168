//! The in-memory, deterministic process engine. A [`Deployment`] is a validated process with its
//! conditions compiled; an [`Instance`] is plain serde data (tokens, open work items, timers,
//! history) that the platform persists. Every operation works on a copy (the append-only
//! history is moved, not copied, and cut back on failure) and replaces the instance only when
//! it succeeds, so a failed condition leaves the instance as it was.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::expr::{EvalError, Expr};
use crate::model::{Assignment, NodeKind, Problem, Process, Timer};

/// Most node arrivals one operation may make (guards against gateway loops without a wait state).
pub const STEP_LIMIT: usize = 10_000;
/// Most tokens an instance may hold (guards against parallel forks in a loop).
pub const TOKEN_LIMIT: usize = 1_000;

/// A run-time failure. The instance is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A condition or multi-instance expression could not be evaluated.
    #[error("元素 {element_id} 的表达式无法求值 / expression of {element_id} failed: {error}")]
    Expression {
        element_id: String,
        error: EvalError,
    },
    /// No outgoing flow could be taken.
    #[error("{0} 没有可走的出线 / no outgoing flow of {0} can be taken")]
    NoFlow(String),
    /// The instance is not running.
    #[error("流程实例已结束 / the instance has ended")]
    NotRunning,
    /// No open work item with this id.
    #[error("没有待办任务 {0} / no open work item {0}")]
    UnknownWorkItem(u64),
    /// No pending timer with this id.
    #[error("没有定时器 {0} / no pending timer {0}")]
    UnknownTimer(u64),
    /// Nothing waits for this message.
    #[error("没有等待消息 {0} 的节点 / nothing waits for message {0}")]
    NoSubscription(String),
    /// A multi-instance count that is not a non-negative integer.
    #[error(
        "{0} 的多实例数量不是非负整数 / multi-instance count of {0} is not a non-negative integer"
    )]
    BadCardinality(String),
    /// The target of a send-back (退回) is not an earlier user task of the same scope.
    #[error(
        "不能退回到 {0}：它不是本环节之前的人工任务 / cannot send back to {0}: not an earlier user task of this scope"
    )]
    BadTarget(String),
    /// Nothing after this step is open, so there is nothing to withdraw (撤回).
    #[error("{0} 之后没有未办理的环节，无法撤回 / nothing open after {0}: cannot withdraw")]
    NothingToWithdraw(String),
    /// The step limit was hit (a loop without a wait state).
    #[error(
        "超过步数上限，流程可能有死循环 / step or token limit exceeded: the process loops without waiting"
    )]
    StepLimit,
    /// The process has no start event (only for processes not built by `check`).
    #[error("流程没有开始事件 / the process has no start event")]
    NoStart,
}

/// A validated process ready to run.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The process graph.
    pub process: Process,
    conditions: HashMap<String, Expr>,
    completions: HashMap<String, Expr>,
    cardinalities: HashMap<String, Expr>,
}

/// Whether an instance runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstanceState {
    /// Tokens are active.
    Running,
    /// Every token reached an end.
    Completed,
    /// A terminate end event was reached.
    Terminated,
}

/// Multi-instance counters of a task token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiState {
    /// `nrOfInstances`.
    pub total: u64,
    /// `nrOfCompletedInstances`.
    pub completed: u64,
    /// `nrOfActiveInstances`.
    pub active: u64,
    /// Next loop counter to hand out (sequential).
    pub next: u64,
    /// Sequential instances.
    pub sequential: bool,
}

/// What a token waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Wait {
    /// Open work items of a user task.
    Task { multi: Option<MultiState> },
    /// A timer catch event.
    Timer,
    /// A message catch event.
    Message(String),
    /// An embedded sub-process; its inner scope id is this token's id.
    SubProcess,
    /// A converging parallel or inclusive gateway, arrived by `flow`.
    Join { flow: String },
}

/// A token at rest in a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// Token id.
    pub id: u64,
    /// The node it waits in.
    pub node: String,
    /// Scope: 0 for the process, else the id of the sub-process token.
    pub scope: u64,
    /// What it waits for.
    pub wait: Wait,
}

/// An open work item (待办) of a user task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkItem {
    /// Work item id.
    pub id: u64,
    /// The task token it belongs to.
    pub token: u64,
    /// The user task id.
    pub node: String,
    /// The user task name.
    pub name: Option<String>,
    /// Who may work on it.
    pub assignment: Assignment,
    /// `loopCounter` of a multi-instance task.
    pub loop_counter: Option<u64>,
    /// The collection element of a multi-instance task (`camunda:elementVariable`).
    pub element: Option<Value>,
}

/// A pending timer; the platform fires it when due ([`Deployment::fire_timer`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTimer {
    /// Timer id.
    pub id: u64,
    /// The timer catch event or boundary event.
    pub node: String,
    /// The waiting token (catch event) or the token of the activity it is attached to (boundary).
    pub token: u64,
    /// The timer text as written.
    pub timer: Timer,
    /// How many times this timer fired before (cycles re-arm with the next round).
    #[serde(default)]
    pub round: u32,
}

/// What happened, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HistoryKind {
    /// A token arrived at the node.
    Entered,
    /// The node was left (activity completed, gateway passed).
    Left,
    /// A work item was completed.
    WorkItemCompleted { work_item: u64 },
    /// The activity was cancelled (boundary timer, terminate end, multi-instance completion).
    Cancelled,
    /// A platform action was requested by a service task.
    Action { action: String },
    /// The case was sent back (退回) from this node to `to`.
    SentBack { to: String },
    /// The completion of this node was withdrawn (撤回) and the node entered again.
    Withdrawn,
    /// The instance was moved from version `from` of its process to the current one.
    Migrated { from: String },
}

/// One history record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The node.
    pub node: String,
    /// What happened.
    pub kind: HistoryKind,
}

/// A process instance: plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// The process id.
    pub process_id: String,
    /// Running, completed or terminated.
    pub state: InstanceState,
    /// Process variables.
    pub variables: Map<String, Value>,
    /// Tokens at rest.
    pub tokens: Vec<Token>,
    /// Open work items.
    pub work_items: Vec<WorkItem>,
    /// Pending timers.
    pub timers: Vec<PendingTimer>,
    /// History, in order.
    pub history: Vec<HistoryEntry>,
    /// The last end event reached in the process scope.
    pub end_event: Option<String>,
    next_id: u64,
}

impl Instance {
    /// Whether the instance still runs.
    pub fn is_live(&self) -> bool {
        self.state == InstanceState::Running
    }
    /// Takes the history recorded since the last call (the platform stores it row by row, so
    /// the instance document it keeps stays small).
    pub fn take_history(&mut self) -> Vec<HistoryEntry> {
        std::mem::take(&mut self.history)
    }

    /// Open work items of one user task.
    pub fn items_of<'a>(&'a self, node: &'a str) -> impl Iterator<Item = &'a WorkItem> + 'a {
        self.work_items.iter().filter(move |w| w.node == node)
    }
}

fn eval_err(id: &str) -> impl FnOnce(EvalError) -> EngineError + '_ {
    move |error| EngineError::Expression {
        element_id: id.to_owned(),
        error,
    }
}

impl Deployment {
    /// Compile the expressions of a process (validate it first, see [`crate::check`]).
    pub fn compile(process: Process) -> Result<Deployment, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut compile =
            |id: &str, text: &str, into: &mut HashMap<String, Expr>| match Expr::parse(text) {
                Ok(e) => {
                    into.insert(id.to_owned(), e);
                }
                Err(e) => problems.push(Problem::new(
                    id,
                    format!("表达式无法解析：{e}"),
                    format!("expression does not parse: {e}"),
                )),
            };
        let (mut conditions, mut completions, mut cardinalities) =
            (HashMap::new(), HashMap::new(), HashMap::new());
        for f in &process.flows {
            if let Some(c) = &f.condition {
                compile(&f.id, c, &mut conditions);
            }
        }
        for n in &process.nodes {
            if let NodeKind::UserTask { multi: Some(m), .. } = &n.kind {
                if let Some(c) = &m.completion {
                    compile(&n.id, c, &mut completions);
                }
                if let Some(c) = &m.cardinality {
                    compile(&n.id, c, &mut cardinalities);
                }
            }
        }
        if problems.is_empty() {
            Ok(Deployment {
                process,
                conditions,
                completions,
                cardinalities,
            })
        } else {
            Err(problems)
        }
    }

    /// Start an instance with variables.
    pub fn start(&self, variables: Map<String, Value>) -> Result<Instance, EngineError> {
        let start = self
            .process
            .starts(None)
            .next()
            .ok_or(EngineError::NoStart)?
            .id
            .clone();
        let mut inst = Instance {
            process_id: self.process.id.clone(),
            state: InstanceState::Running,
            variables,
            tokens: Vec::new(),
            work_items: Vec::new(),
            timers: Vec::new(),
            history: Vec::new(),
            end_event: None,
            next_id: 1,
        };
        self.run(&mut inst, |ex| {
            ex.queue.push_back(Arrival {
                node: start,
                scope: 0,
                via: None,
            });
            Ok(())
        })?;
        Ok(inst)
    }

    /// Complete an open work item with outcome variables (merged into the process variables).
    pub fn complete(
        &self,
        inst: &mut Instance,
        work_item: u64,
        outcome: Map<String, Value>,
    ) -> Result<(), EngineError> {
        self.run(inst, |ex| ex.complete(work_item, outcome))
    }

    /// Fire a pending timer.
    pub fn fire_timer(&self, inst: &mut Instance, timer: u64) -> Result<(), EngineError> {
        self.run(inst, |ex| ex.fire_timer(timer))
    }

    /// Deliver a message to every node waiting for it (e.g. 补正 received).
    pub fn message(&self, inst: &mut Instance, name: &str) -> Result<(), EngineError> {
        self.run(inst, |ex| ex.message(name))
    }

    /// Send the case back (退回) from an open work item to an earlier user task of its scope:
    /// everything the target leads to is cancelled and the target is entered again.
    pub fn send_back(
        &self,
        inst: &mut Instance,
        work_item: u64,
        target: &str,
    ) -> Result<(), EngineError> {
        self.run(inst, |ex| {
            let item =
                ex.i.work_items
                    .iter()
                    .find(|w| w.id == work_item)
                    .cloned()
                    .ok_or(EngineError::UnknownWorkItem(work_item))?;
            let p = &ex.d.process;
            let (from, to) = (p.node(&item.node), p.node(target));
            let ok = matches!((from, to), (Some(f), Some(t))
                if f.parent == t.parent
                    && f.id != t.id
                    && matches!(t.kind, NodeKind::UserTask { .. })
                    && can_reach(p, &t.id, &f.id));
            if !ok {
                return Err(EngineError::BadTarget(target.to_owned()));
            }
            let scope =
                ex.i.tokens
                    .iter()
                    .find(|t| t.id == item.token)
                    .map_or(0, |t| t.scope);
            ex.log(
                &item.node,
                HistoryKind::SentBack {
                    to: target.to_owned(),
                },
            );
            ex.rewind(scope, target);
            Ok(())
        })
    }

    /// Withdraw (撤回) the completion of `node`: the steps it led to, still open, are cancelled
    /// and `node` is entered again. The platform checks first that nobody acted on them.
    pub fn withdraw(&self, inst: &mut Instance, node: &str) -> Result<(), EngineError> {
        self.run(inst, |ex| {
            let p = &ex.d.process;
            let n = p
                .node(node)
                .filter(|n| matches!(n.kind, NodeKind::UserTask { .. }))
                .ok_or_else(|| EngineError::NothingToWithdraw(node.to_owned()))?;
            let scope = match &n.parent {
                None => Some(0),
                Some(sp) => {
                    ex.i.tokens
                        .iter()
                        .find(|t| &t.node == sp && t.wait == Wait::SubProcess)
                        .map(|t| t.id)
                }
            };
            let scope = scope.ok_or_else(|| EngineError::NothingToWithdraw(node.to_owned()))?;
            if ex.downstream(scope, node).is_empty() {
                return Err(EngineError::NothingToWithdraw(node.to_owned()));
            }
            ex.log(node, HistoryKind::Withdrawn);
            ex.rewind(scope, node);
            Ok(())
        })
    }

    /// Whether `inst` (of another version of this process) can be moved to this deployment
    /// with `mapping` (old node id → new node id; unmapped ids map to themselves). Every
    /// problem is listed by the old element id.
    pub fn migration_problems(
        &self,
        inst: &Instance,
        from: &Process,
        mapping: &HashMap<String, String>,
    ) -> Vec<Problem> {
        let map = |id: &str| mapping.get(id).map_or(id, String::as_str).to_owned();
        let mut problems = Vec::new();
        for t in &inst.tokens {
            let new_id = map(&t.node);
            let old = from.node(&t.node);
            let Some(new) = self.process.node(&new_id) else {
                problems.push(Problem::new(
                    &t.node,
                    format!("新版本中没有对应环节 {new_id}"),
                    format!("the new version has no node {new_id}"),
                ));
                continue;
            };
            let same_kind = old.is_some_and(|o| {
                std::mem::discriminant(&o.kind) == std::mem::discriminant(&new.kind)
                    && match (&o.kind, &new.kind) {
                        (
                            NodeKind::UserTask { multi: a, .. },
                            NodeKind::UserTask { multi: b, .. },
                        ) => a.is_some() == b.is_some(),
                        _ => true,
                    }
            });
            if !same_kind {
                problems.push(Problem::new(
                    &t.node,
                    format!("环节类型与新版本的 {new_id} 不同"),
                    format!("the node kind differs from {new_id} in the new version"),
                ));
            }
            let parent_ok = match (old.and_then(|o| o.parent.as_deref()), &new.parent) {
                (None, None) => true,
                (Some(a), Some(b)) => &map(a) == b,
                _ => false,
            };
            if !parent_ok {
                problems.push(Problem::new(
                    &t.node,
                    format!("{new_id} 在新版本中属于另一个子流程"),
                    format!("{new_id} is in another sub-process in the new version"),
                ));
            }
            if let Wait::Join { flow } = &t.wait
                && self.process.flow(flow).is_none_or(|f| f.target != new_id)
            {
                problems.push(Problem::new(
                    &t.node,
                    format!("汇聚网关的入线 {flow} 在新版本中不存在"),
                    format!(
                        "the incoming flow {flow} of the join does not exist in the new version"
                    ),
                ));
            }
        }
        problems
    }

    /// Move a running instance of another version of this process to this deployment
    /// (validated with [`Deployment::migration_problems`] first; nothing changes on a problem).
    /// Boundary timers the new version no longer has are dropped; new ones are armed.
    pub fn migrate(
        &self,
        inst: &mut Instance,
        from: &Process,
        mapping: &HashMap<String, String>,
    ) -> Result<(), Vec<Problem>> {
        if !inst.is_live() {
            return Err(vec![Problem::new(
                "",
                "流程实例已结束",
                "the instance has ended",
            )]);
        }
        let problems = self.migration_problems(inst, from, mapping);
        if !problems.is_empty() {
            return Err(problems);
        }
        let map = |id: &str| mapping.get(id).map_or(id, String::as_str).to_owned();
        let mut i = inst.clone();
        let old_process = std::mem::replace(&mut i.process_id, self.process.id.clone());
        for t in &mut i.tokens {
            t.node = map(&t.node);
        }
        for w in &mut i.work_items {
            w.node = map(&w.node);
            if let Some(NodeKind::UserTask { assignment, .. }) =
                self.process.node(&w.node).map(|n| &n.kind)
            {
                w.assignment = assignment.clone();
            }
            w.name = self.process.node(&w.node).and_then(|n| n.name.clone());
        }
        let p = &self.process;
        let tokens = i.tokens.clone();
        i.timers.retain_mut(|x| {
            x.node = map(&x.node);
            match p.node(&x.node).map(|n| &n.kind) {
                Some(NodeKind::BoundaryTimer { attached_to, .. }) => tokens
                    .iter()
                    .any(|t| t.id == x.token && &t.node == attached_to),
                Some(NodeKind::TimerCatch { .. }) => true,
                _ => false,
            }
        });
        let mut ex = Exec {
            d: self,
            i,
            queue: VecDeque::new(),
            steps: 0,
        };
        for t in tokens {
            if matches!(t.wait, Wait::Task { .. } | Wait::SubProcess) {
                let armed: Vec<String> =
                    ex.i.timers
                        .iter()
                        .filter(|x| x.token == t.id)
                        .map(|x| x.node.clone())
                        .collect();
                ex.arm_boundaries_except(&t.node, t.id, &armed);
            }
        }
        ex.log("", HistoryKind::Migrated { from: old_process });
        *inst = ex.i;
        Ok(())
    }

    fn run(
        &self,
        inst: &mut Instance,
        f: impl FnOnce(&mut Exec) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        if inst.state != InstanceState::Running {
            return Err(EngineError::NotRunning);
        }
        // History is append-only: move it into the copy instead of cloning it, and cut it back
        // to its old length if the operation fails.
        let history = std::mem::take(&mut inst.history);
        let len = history.len();
        let mut i = inst.clone();
        i.history = history;
        let mut ex = Exec {
            d: self,
            i,
            queue: VecDeque::new(),
            steps: 0,
        };
        match f(&mut ex).and_then(|()| ex.drain()) {
            Ok(()) => {
                *inst = ex.i;
                Ok(())
            }
            Err(e) => {
                let mut h = ex.i.history;
                h.truncate(len);
                inst.history = h;
                Err(e)
            }
        }
    }
}

#[derive(Debug)]
struct Arrival {
    node: String,
    scope: u64,
    via: Option<String>,
}

struct Exec<'d> {
    d: &'d Deployment,
    i: Instance,
    queue: VecDeque<Arrival>,
    steps: usize,
}

impl Exec<'_> {
    fn id(&mut self) -> u64 {
        let id = self.i.next_id;
        self.i.next_id += 1;
        id
    }

    fn log(&mut self, node: &str, kind: HistoryKind) {
        self.i.history.push(HistoryEntry {
            node: node.to_owned(),
            kind,
        });
    }

    fn drain(&mut self) -> Result<(), EngineError> {
        loop {
            while let Some(a) = self.queue.pop_front() {
                self.steps += 1;
                if self.steps > STEP_LIMIT || self.queue.len() + self.i.tokens.len() > TOKEN_LIMIT {
                    return Err(EngineError::StepLimit);
                }
                self.arrive(a)?;
            }
            self.steps += 1;
            if self.steps > STEP_LIMIT {
                return Err(EngineError::StepLimit);
            }
            if self.i.state != InstanceState::Running || !self.settle()? {
                break;
            }
        }
        if self.i.state == InstanceState::Running && self.i.tokens.is_empty() {
            self.i.state = InstanceState::Completed;
        }
        Ok(())
    }

    /// Fire inclusive joins no other token can still reach, and finish empty sub-process scopes.
    fn settle(&mut self) -> Result<bool, EngineError> {
        let p = &self.d.process;
        let joins: Vec<(String, u64)> = self
            .i
            .tokens
            .iter()
            .filter(|t| {
                matches!(t.wait, Wait::Join { .. })
                    && matches!(
                        p.node(&t.node).map(|n| &n.kind),
                        Some(NodeKind::InclusiveGateway { .. })
                    )
            })
            .map(|t| (t.node.clone(), t.scope))
            .collect();
        for (gw, scope) in joins {
            let blocked = self
                .i
                .tokens
                .iter()
                .any(|t| t.scope == scope && t.node != gw && can_reach(p, &t.node, &gw));
            if !blocked {
                self.i
                    .tokens
                    .retain(|t| !(t.node == gw && t.scope == scope));
                self.leave(&gw, scope)?;
                return Ok(true);
            }
        }
        let done: Option<Token> = self
            .i
            .tokens
            .iter()
            .find(|t| t.wait == Wait::SubProcess && !self.i.tokens.iter().any(|c| c.scope == t.id))
            .cloned();
        if let Some(t) = done {
            self.leave_activity(t.id)?;
            return Ok(true);
        }
        Ok(false)
    }

    fn arrive(&mut self, a: Arrival) -> Result<(), EngineError> {
        let d = self.d;
        let Some(node) = d.process.node(&a.node) else {
            return Err(EngineError::NoFlow(a.node));
        };
        self.log(&node.id, HistoryKind::Entered);
        let incoming = d.process.incoming(&node.id).count();
        match &node.kind {
            NodeKind::StartEvent
            | NodeKind::ExclusiveGateway { .. }
            | NodeKind::BoundaryTimer { .. } => self.leave(&node.id, a.scope),
            NodeKind::ServiceTask { action } => {
                self.log(
                    &node.id,
                    HistoryKind::Action {
                        action: action.clone(),
                    },
                );
                self.leave(&node.id, a.scope)
            }
            NodeKind::EndEvent { terminate } => {
                if *terminate {
                    if a.scope == 0 {
                        for t in self.i.tokens.clone() {
                            self.log(&t.node, HistoryKind::Cancelled);
                        }
                        self.i.tokens.clear();
                        self.i.work_items.clear();
                        self.i.timers.clear();
                        self.queue.clear();
                        self.i.state = InstanceState::Terminated;
                    } else {
                        let mut killed = HashSet::new();
                        self.kill_scope(a.scope, &mut killed);
                        self.queue.retain(|q| !killed.contains(&q.scope));
                    }
                }
                if a.scope == 0 {
                    self.i.end_event = Some(node.id.clone());
                }
                Ok(())
            }
            NodeKind::ParallelGateway if incoming > 1 => {
                let flow = a.via.unwrap_or_default();
                let id = self.id();
                self.i.tokens.push(Token {
                    id,
                    node: node.id.clone(),
                    scope: a.scope,
                    wait: Wait::Join { flow },
                });
                let flows: Vec<String> =
                    d.process.incoming(&node.id).map(|f| f.id.clone()).collect();
                let picks: Vec<Option<u64>> = flows
                    .iter()
                    .map(|f| {
                        self.i
                            .tokens
                            .iter()
                            .find(|t| {
                                t.node == node.id
                                    && t.scope == a.scope
                                    && matches!(&t.wait, Wait::Join { flow } if flow == f)
                            })
                            .map(|t| t.id)
                    })
                    .collect();
                if picks.iter().all(Option::is_some) {
                    let ids: HashSet<u64> = picks.into_iter().flatten().collect();
                    self.i.tokens.retain(|t| !ids.contains(&t.id));
                    self.leave(&node.id, a.scope)?;
                }
                Ok(())
            }
            NodeKind::InclusiveGateway { .. } if incoming > 1 => {
                let flow = a.via.unwrap_or_default();
                let id = self.id();
                self.i.tokens.push(Token {
                    id,
                    node: node.id.clone(),
                    scope: a.scope,
                    wait: Wait::Join { flow },
                });
                Ok(())
            }
            NodeKind::ParallelGateway | NodeKind::InclusiveGateway { .. } => {
                self.leave(&node.id, a.scope)
            }
            NodeKind::UserTask { assignment, multi } => {
                let id = self.id();
                let mut state = None;
                let mut elements: Option<Vec<Value>> = None;
                if let Some(m) = multi {
                    let total = if let Some(e) = d.cardinalities.get(&node.id) {
                        let v = e.eval(&self.i.variables).map_err(eval_err(&node.id))?;
                        v.as_u64().or_else(|| {
                            v.as_f64()
                                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e9)
                                .map(|f| f as u64)
                        })
                    } else if let Some(c) = &m.collection {
                        let e = Expr::parse(c)
                            .map_err(|_| EngineError::BadCardinality(node.id.clone()))?;
                        let v = e.eval(&self.i.variables).map_err(eval_err(&node.id))?;
                        let arr = v.as_array().cloned();
                        let n = arr.as_ref().map(|a| a.len() as u64);
                        elements = arr;
                        n
                    } else {
                        None
                    }
                    .ok_or_else(|| EngineError::BadCardinality(node.id.clone()))?;
                    if total == 0 {
                        return self.leave(&node.id, a.scope);
                    }
                    let first = if m.sequential { 1 } else { total };
                    state = Some(MultiState {
                        total,
                        completed: 0,
                        active: first,
                        next: first,
                        sequential: m.sequential,
                    });
                    for k in 0..first {
                        self.item(
                            id,
                            &node.id,
                            node.name.clone(),
                            assignment.clone(),
                            Some(k),
                            elements.as_ref().and_then(|e| e.get(k as usize).cloned()),
                        );
                    }
                } else {
                    self.item(
                        id,
                        &node.id,
                        node.name.clone(),
                        assignment.clone(),
                        None,
                        None,
                    );
                }
                self.i.tokens.push(Token {
                    id,
                    node: node.id.clone(),
                    scope: a.scope,
                    wait: Wait::Task { multi: state },
                });
                self.arm_boundaries(&node.id, id);
                Ok(())
            }
            NodeKind::TimerCatch { timer } => {
                let id = self.id();
                self.i.tokens.push(Token {
                    id,
                    node: node.id.clone(),
                    scope: a.scope,
                    wait: Wait::Timer,
                });
                let tid = self.id();
                self.i.timers.push(PendingTimer {
                    id: tid,
                    node: node.id.clone(),
                    token: id,
                    timer: timer.clone(),
                    round: 0,
                });
                Ok(())
            }
            NodeKind::MessageCatch { message } => {
                let id = self.id();
                self.i.tokens.push(Token {
                    id,
                    node: node.id.clone(),
                    scope: a.scope,
                    wait: Wait::Message(message.clone()),
                });
                Ok(())
            }
            NodeKind::SubProcess => {
                let id = self.id();
                self.i.tokens.push(Token {
                    id,
                    node: node.id.clone(),
                    scope: a.scope,
                    wait: Wait::SubProcess,
                });
                self.arm_boundaries(&node.id, id);
                let start = d
                    .process
                    .starts(Some(&node.id))
                    .next()
                    .map(|s| s.id.clone())
                    .ok_or(EngineError::NoStart)?;
                self.queue.push_back(Arrival {
                    node: start,
                    scope: id,
                    via: None,
                });
                Ok(())
            }
        }
    }

    fn item(
        &mut self,
        token: u64,
        node: &str,
        name: Option<String>,
        assignment: Assignment,
        loop_counter: Option<u64>,
        element: Option<Value>,
    ) {
        let id = self.id();
        self.i.work_items.push(WorkItem {
            id,
            token,
            node: node.to_owned(),
            name,
            assignment,
            loop_counter,
            element,
        });
    }

    fn arm_boundaries(&mut self, node: &str, token: u64) {
        self.arm_boundaries_except(node, token, &[]);
    }

    fn arm_boundaries_except(&mut self, node: &str, token: u64, except: &[String]) {
        let bs: Vec<(String, Timer)> = self
            .d
            .process
            .boundaries(node)
            .filter(|b| !except.contains(&b.id))
            .filter_map(|b| match &b.kind {
                NodeKind::BoundaryTimer { timer, .. } => Some((b.id.clone(), timer.clone())),
                _ => None,
            })
            .collect();
        for (b, timer) in bs {
            let id = self.id();
            self.i.timers.push(PendingTimer {
                id,
                node: b,
                token,
                timer,
                round: 0,
            });
        }
    }

    /// Send tokens out of `node` along the flows its kind selects.
    fn leave(&mut self, node_id: &str, scope: u64) -> Result<(), EngineError> {
        let d = self.d;
        self.log(node_id, HistoryKind::Left);
        let kind = d.process.node(node_id).map(|n| &n.kind);
        let outs: Vec<&crate::model::Flow> = d.process.outgoing(node_id).collect();
        if outs.is_empty() {
            return Ok(()); // implicit end
        }
        let test = |f: &crate::model::Flow| -> Result<bool, EngineError> {
            match d.conditions.get(&f.id) {
                Some(e) => e.test(&self.i.variables).map_err(eval_err(&f.id)),
                None => Ok(true),
            }
        };
        match kind {
            Some(NodeKind::ExclusiveGateway { default }) => {
                let mut chosen = None;
                for f in outs.iter().filter(|f| Some(&f.id) != default.as_ref()) {
                    if test(f)? {
                        chosen = Some(*f);
                        break;
                    }
                }
                let chosen = chosen
                    .or_else(|| {
                        default
                            .as_ref()
                            .and_then(|id| outs.iter().find(|f| &f.id == id).copied())
                    })
                    .ok_or_else(|| EngineError::NoFlow(node_id.to_owned()))?;
                self.queue.push_back(Arrival {
                    node: chosen.target.clone(),
                    scope,
                    via: Some(chosen.id.clone()),
                });
            }
            Some(NodeKind::InclusiveGateway { default }) => {
                let mut chosen = Vec::new();
                for f in outs.iter().filter(|f| Some(&f.id) != default.as_ref()) {
                    if test(f)? {
                        chosen.push(*f);
                    }
                }
                if chosen.is_empty()
                    && let Some(df) = default
                        .as_ref()
                        .and_then(|id| outs.iter().find(|f| &f.id == id))
                {
                    chosen.push(*df);
                }
                if chosen.is_empty() {
                    return Err(EngineError::NoFlow(node_id.to_owned()));
                }
                for f in chosen {
                    self.queue.push_back(Arrival {
                        node: f.target.clone(),
                        scope,
                        via: Some(f.id.clone()),
                    });
                }
            }
            Some(NodeKind::ParallelGateway) => {
                for f in outs {
                    self.queue.push_back(Arrival {
                        node: f.target.clone(),
                        scope,
                        via: Some(f.id.clone()),
                    });
                }
            }
            _ => {
                let mut any = false;
                for f in outs {
                    if test(f)? {
                        any = true;
                        self.queue.push_back(Arrival {
                            node: f.target.clone(),
                            scope,
                            via: Some(f.id.clone()),
                        });
                    }
                }
                if !any {
                    return Err(EngineError::NoFlow(node_id.to_owned()));
                }
            }
        }
        Ok(())
    }

    /// Remove a resting activity token and everything hanging on it, then leave its node.
    fn leave_activity(&mut self, token: u64) -> Result<(), EngineError> {
        let Some(pos) = self.i.tokens.iter().position(|t| t.id == token) else {
            return Ok(());
        };
        let t = self.i.tokens.remove(pos);
        self.i.work_items.retain(|w| w.token != token);
        self.i.timers.retain(|x| x.token != token);
        self.leave(&t.node, t.scope)
    }

    fn cancel_token(&mut self, token: u64, killed: &mut HashSet<u64>) {
        if let Some(pos) = self.i.tokens.iter().position(|t| t.id == token) {
            let t = self.i.tokens.remove(pos);
            self.log(&t.node, HistoryKind::Cancelled);
            if t.wait == Wait::SubProcess {
                self.kill_scope(t.id, killed);
            }
        }
        self.i.work_items.retain(|w| w.token != token);
        self.i.timers.retain(|x| x.token != token);
    }

    fn kill_scope(&mut self, scope: u64, killed: &mut HashSet<u64>) {
        killed.insert(scope);
        let inside: Vec<u64> = self
            .i
            .tokens
            .iter()
            .filter(|t| t.scope == scope)
            .map(|t| t.id)
            .collect();
        for t in inside {
            self.cancel_token(t, killed);
        }
    }

    /// Tokens of `scope` that `target` leads to: resting at a node it reaches, or waiting at
    /// a join on a flow whose source it reaches.
    fn downstream(&self, scope: u64, target: &str) -> Vec<u64> {
        let p = &self.d.process;
        let reached = |n: &str| n == target || can_reach(p, target, n);
        self.i
            .tokens
            .iter()
            .filter(|t| t.scope == scope)
            .filter(|t| match &t.wait {
                Wait::Join { flow } => p.flow(flow).is_some_and(|f| reached(&f.source)),
                _ => t.node != target && can_reach(p, target, &t.node),
            })
            .map(|t| t.id)
            .collect()
    }

    /// Cancel what `target` leads to in `scope` and enter `target` again.
    fn rewind(&mut self, scope: u64, target: &str) {
        let mut killed = HashSet::new();
        for t in self.downstream(scope, target) {
            self.cancel_token(t, &mut killed);
        }
        self.queue.retain(|q| !killed.contains(&q.scope));
        self.queue.push_back(Arrival {
            node: target.to_owned(),
            scope,
            via: None,
        });
    }

    fn complete(&mut self, work_item: u64, outcome: Map<String, Value>) -> Result<(), EngineError> {
        let pos = self
            .i
            .work_items
            .iter()
            .position(|w| w.id == work_item)
            .ok_or(EngineError::UnknownWorkItem(work_item))?;
        let item = self.i.work_items.remove(pos);
        self.i.variables.extend(outcome);
        self.log(&item.node, HistoryKind::WorkItemCompleted { work_item });
        let Some(tpos) = self.i.tokens.iter().position(|t| t.id == item.token) else {
            return Ok(());
        };
        let multi = match &mut self.i.tokens[tpos].wait {
            Wait::Task { multi: Some(m) } => {
                m.completed += 1;
                m.active = m.active.saturating_sub(1);
                Some(*m)
            }
            _ => None,
        };
        let Some(m) = multi else {
            return self.leave_activity(item.token);
        };
        let mut vars = self.i.variables.clone();
        vars.insert("nrOfInstances".into(), m.total.into());
        vars.insert("nrOfCompletedInstances".into(), m.completed.into());
        vars.insert("nrOfActiveInstances".into(), m.active.into());
        if let Some(l) = item.loop_counter {
            vars.insert("loopCounter".into(), l.into());
        }
        let cond = match self.d.completions.get(&item.node) {
            Some(e) => e.test(&vars).map_err(eval_err(&item.node))?,
            None => false,
        };
        if cond || m.completed >= m.total {
            if self.i.work_items.iter().any(|w| w.token == item.token) {
                self.log(&item.node, HistoryKind::Cancelled);
            }
            return self.leave_activity(item.token);
        }
        if m.sequential && m.next < m.total {
            let (assignment, elements) = match self.d.process.node(&item.node).map(|n| &n.kind) {
                Some(NodeKind::UserTask { assignment, multi }) => {
                    let el = multi
                        .as_ref()
                        .and_then(|mm| mm.collection.as_deref())
                        .and_then(|c| Expr::parse(c).ok())
                        .and_then(|e| e.eval(&self.i.variables).ok())
                        .and_then(|v| v.get(m.next as usize).cloned());
                    (assignment.clone(), el)
                }
                _ => (Assignment::default(), None),
            };
            if let Wait::Task { multi: Some(mm) } = &mut self.i.tokens[tpos].wait {
                mm.next += 1;
                mm.active += 1;
            }
            self.item(
                item.token,
                &item.node,
                item.name.clone(),
                assignment,
                Some(m.next),
                elements,
            );
        }
        Ok(())
    }

    fn fire_timer(&mut self, timer: u64) -> Result<(), EngineError> {
        let pos = self
            .i
            .timers
            .iter()
            .position(|t| t.id == timer)
            .ok_or(EngineError::UnknownTimer(timer))?;
        let t = self.i.timers.remove(pos);
        let d = self.d;
        match d.process.node(&t.node).map(|n| &n.kind) {
            Some(NodeKind::BoundaryTimer {
                cancel_activity, ..
            }) => {
                let scope = self
                    .i
                    .tokens
                    .iter()
                    .find(|x| x.id == t.token)
                    .map_or(0, |x| x.scope);
                if *cancel_activity {
                    let mut killed = HashSet::new();
                    self.cancel_token(t.token, &mut killed);
                } else if let Timer::Cycle(text) = &t.timer {
                    let more = crate::iso::cycle_parts(text)
                        .map(|c| c.repeat.is_none_or(|r| t.round + 1 < r))
                        .unwrap_or(false);
                    if more {
                        let id = self.id();
                        self.i.timers.push(PendingTimer {
                            id,
                            node: t.node.clone(),
                            token: t.token,
                            timer: t.timer.clone(),
                            round: t.round + 1,
                        });
                    }
                }
                self.queue.push_back(Arrival {
                    node: t.node,
                    scope,
                    via: None,
                });
                Ok(())
            }
            _ => self.leave_activity(t.token),
        }
    }

    fn message(&mut self, name: &str) -> Result<(), EngineError> {
        let waiting: Vec<u64> = self
            .i
            .tokens
            .iter()
            .filter(|t| matches!(&t.wait, Wait::Message(m) if m == name))
            .map(|t| t.id)
            .collect();
        if waiting.is_empty() {
            return Err(EngineError::NoSubscription(name.to_owned()));
        }
        for t in waiting {
            self.leave_activity(t)?;
        }
        Ok(())
    }
}

/// Whether a token resting at `from` may still arrive at `to` (flows and boundary events, same scope).
fn can_reach(p: &Process, from: &str, to: &str) -> bool {
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([from.to_owned()]);
    while let Some(n) = queue.pop_front() {
        if !seen.insert(n.clone()) {
            continue;
        }
        for f in p.outgoing(&n) {
            if f.target == to {
                return true;
            }
            queue.push_back(f.target.clone());
        }
        for b in p.boundaries(&n) {
            queue.push_back(b.id.clone());
        }
    }
    false
}

/// Result of [`simulate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulation {
    /// User task ids in the order their work items were completed (one entry per work item).
    pub completed: Vec<String>,
    /// The final instance.
    pub instance: Instance,
}

/// Run one instance to its end: complete every open work item (oldest first) with
/// `approved = true`, then fire timers and deliver awaited messages when nothing else is open.
pub fn simulate(d: &Deployment, variables: Map<String, Value>) -> Result<Simulation, EngineError> {
    let mut inst = d.start(variables)?;
    let mut completed = Vec::new();
    let mut outcome = Map::new();
    outcome.insert("approved".into(), Value::Bool(true));
    for _ in 0..STEP_LIMIT {
        if !inst.is_live() {
            break;
        }
        if let Some(w) = inst.work_items.iter().min_by_key(|w| w.id).cloned() {
            d.complete(&mut inst, w.id, outcome.clone())?;
            completed.push(w.node);
        } else if let Some(t) = inst.timers.iter().min_by_key(|t| t.id).cloned() {
            d.fire_timer(&mut inst, t.id)?;
        } else if let Some(m) = inst.tokens.iter().find_map(|t| match &t.wait {
            Wait::Message(m) => Some(m.clone()),
            _ => None,
        }) {
            d.message(&mut inst, &m)?;
        } else {
            break;
        }
    }
    Ok(Simulation {
        completed,
        instance: inst,
    })
}
