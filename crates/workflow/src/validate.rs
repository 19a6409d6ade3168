//! Deployment checks: every problem of a process at once, each with its element id, so a process
//! designer can fix them all in one pass. [`check`] parses, validates and compiles a file.

use std::collections::{BTreeMap, HashSet, VecDeque};

use crate::engine::Deployment;
use crate::expr::Expr;
use crate::iso;
use crate::model::{NodeKind, Problem, Process, Timer};
use crate::parse::{ParseError, Parsed, parse};

/// Why a file cannot be deployed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DeployError {
    /// The file is not a BPMN document.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The process has problems (all of them listed).
    #[error("流程有 {} 个问题 / the process has {} problem(s)", .0.len(), .0.len())]
    Invalid(Vec<Problem>),
}

impl DeployError {
    /// Every problem, a file that is not BPMN being one problem of the whole file.
    pub fn problems(self) -> Vec<Problem> {
        match self {
            DeployError::Parse(e) => vec![Problem::new(
                "",
                format!("文件不是可读的 BPMN 2.0：{e}"),
                format!("the file is not readable BPMN 2.0: {e}"),
            )],
            DeployError::Invalid(p) => p,
        }
    }
}

/// Parse, validate and compile a BPMN file into a deployable process.
pub fn check(xml: &str) -> Result<Deployment, DeployError> {
    let parsed = parse(xml)?;
    let problems = validate(&parsed);
    if !problems.is_empty() {
        return Err(DeployError::Invalid(problems));
    }
    Deployment::compile(parsed.process).map_err(DeployError::Invalid)
}

/// Every problem of a parsed process: refused elements, no start event, unreachable nodes, nodes
/// that cannot reach an end, gateways whose conditions can all fail with no default, user tasks
/// without an assignee rule, conditions and timer texts that do not parse.
pub fn validate(parsed: &Parsed) -> Vec<Problem> {
    let p = &parsed.process;
    let mut out = parsed.problems.clone();
    structure(p, &mut out);
    expressions(p, &mut out);
    reachability(p, &mut out);
    out
}

fn structure(p: &Process, out: &mut Vec<Problem>) {
    let mut seen = HashSet::new();
    for id in p
        .nodes
        .iter()
        .map(|n| &n.id)
        .chain(p.flows.iter().map(|f| &f.id))
    {
        if id.is_empty() {
            out.push(Problem::new("", "有元素缺少 id", "an element has no id"));
        } else if !seen.insert(id.as_str()) {
            out.push(Problem::new(id, "id 重复", "duplicate id"));
        }
    }
    if p.starts(None).count() == 0 {
        out.push(Problem::new(
            &p.id,
            "流程没有开始事件",
            "the process has no start event",
        ));
    }
    if p.starts(None).count() > 1 {
        out.push(Problem::new(
            &p.id,
            "流程有多个开始事件",
            "the process has more than one start event",
        ));
    }
    for f in &p.flows {
        for end in [&f.source, &f.target] {
            if p.node(end).is_none() {
                out.push(Problem::new(
                    &f.id,
                    format!("连线指向不存在或不支持的元素 {end}"),
                    format!("flow refers to a missing or unsupported element {end}"),
                ));
            }
        }
        if let (Some(s), Some(t)) = (p.node(&f.source), p.node(&f.target))
            && s.parent != t.parent
        {
            out.push(Problem::new(
                &f.id,
                "连线跨越了子流程边界",
                "flow crosses a sub-process boundary",
            ));
        }
    }
    for n in &p.nodes {
        match &n.kind {
            NodeKind::SubProcess => {
                let c = p.starts(Some(&n.id)).count();
                if c != 1 {
                    out.push(Problem::new(&n.id, "子流程必须有且只有一个开始事件", "a sub-process needs exactly one start event"));
                }
            }
            NodeKind::StartEvent if p.incoming(&n.id).next().is_some() => {
                out.push(Problem::new(&n.id, "开始事件不能有进入的连线", "a start event cannot have incoming flows"));
            }
            NodeKind::EndEvent { .. } if p.outgoing(&n.id).next().is_some() => {
                out.push(Problem::new(&n.id, "结束事件不能有离开的连线", "an end event cannot have outgoing flows"));
            }
            NodeKind::UserTask { assignment, .. } if assignment.is_empty() => out.push(Problem::new(
                &n.id,
                "用户任务没有办理人规则（assignee、candidateUsers、candidateGroups 或 yiwang:candidateOrgs）",
                "user task has no assignee rule (assignee, candidateUsers, candidateGroups or yiwang:candidateOrgs)",
            )),
            NodeKind::ExclusiveGateway { default } | NodeKind::InclusiveGateway { default } => {
                let outs: Vec<_> = p.outgoing(&n.id).collect();
                if let Some(d) = default
                    && !outs.iter().any(|f| &f.id == d)
                {
                    out.push(Problem::new(&n.id, format!("默认连线 {d} 不是此网关的出线"), format!("default flow {d} does not leave this gateway")));
                }
                if default.is_none() && !outs.is_empty() && outs.iter().all(|f| f.condition.is_some()) {
                    out.push(Problem::new(
                        &n.id,
                        "网关的出线都有条件但没有默认连线：条件可能全部不满足",
                        "every outgoing flow of the gateway has a condition and there is no default flow: all may fail",
                    ));
                }
            }
            NodeKind::ParallelGateway if p.outgoing(&n.id).any(|f| f.condition.is_some()) => out.push(Problem::new(
                &n.id,
                "并行网关的出线不能带条件（请改用包容网关）",
                "outgoing flows of a parallel gateway cannot have conditions (use an inclusive gateway)",
            )),
            NodeKind::BoundaryTimer { attached_to, .. } => {
                let ok = p.node(attached_to).is_some_and(|a| {
                    matches!(a.kind, NodeKind::UserTask { .. } | NodeKind::ServiceTask { .. } | NodeKind::SubProcess) && a.parent == n.parent
                });
                if !ok {
                    out.push(Problem::new(&n.id, format!("边界事件附着的 {attached_to} 不是任务或子流程"), format!("boundary event is attached to {attached_to}, which is not a task or sub-process")));
                }
                if p.incoming(&n.id).next().is_some() {
                    out.push(Problem::new(&n.id, "边界事件不能有进入的连线", "a boundary event cannot have incoming flows"));
                }
            }
            _ => {}
        }
    }
}

fn expr_problem(out: &mut Vec<Problem>, id: &str, what_zh: &str, what_en: &str, text: &str) {
    if let Err(e) = Expr::parse(text) {
        out.push(Problem::new(
            id,
            format!("{what_zh}无法解析：{e}"),
            format!("{what_en} does not parse: {e}"),
        ));
    }
}

fn expressions(p: &Process, out: &mut Vec<Problem>) {
    for f in &p.flows {
        if let Some(c) = &f.condition {
            expr_problem(out, &f.id, "条件", "condition", c);
        }
    }
    for n in &p.nodes {
        match &n.kind {
            NodeKind::UserTask { multi: Some(m), .. } => {
                if let Some(c) = &m.completion {
                    expr_problem(out, &n.id, "完成条件", "completion condition", c);
                }
                if let Some(c) = &m.cardinality {
                    expr_problem(out, &n.id, "实例数", "loop cardinality", c);
                }
                if let Some(c) = &m.collection {
                    expr_problem(out, &n.id, "集合", "collection", c);
                }
                if m.cardinality.is_none() && m.collection.is_none() {
                    out.push(Problem::new(
                        &n.id,
                        "多实例任务没有实例数（loopCardinality 或 collection）",
                        "multi-instance task has neither loopCardinality nor collection",
                    ));
                }
            }
            NodeKind::TimerCatch { timer } | NodeKind::BoundaryTimer { timer, .. } => {
                let (text, r) = match timer {
                    Timer::Duration(t) => (t, iso::duration(t).map(|_| ())),
                    Timer::Date(t) => (t, iso::date(t)),
                    Timer::Cycle(t) => (t, iso::cycle(t)),
                };
                if text.starts_with("${") || text.starts_with("#{") {
                    expr_problem(out, &n.id, "定时表达式", "timer expression", text);
                } else if let Err(e) = r {
                    out.push(Problem::new(&n.id, e.to_string(), e.to_string()));
                }
            }
            _ => {}
        }
    }
}

/// Successors of a node in the reachability sense: outgoing flow targets, attached boundary
/// events and, for a sub-process, its start event.
fn successors(p: &Process, id: &str) -> Vec<String> {
    let mut s: Vec<String> = p.outgoing(id).map(|f| f.target.clone()).collect();
    s.extend(p.boundaries(id).map(|b| b.id.clone()));
    if matches!(p.node(id).map(|n| &n.kind), Some(NodeKind::SubProcess)) {
        s.extend(p.starts(Some(id)).map(|n| n.id.clone()));
    }
    s
}

fn reachability(p: &Process, out: &mut Vec<Problem>) {
    let mut reached: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<String> = p.starts(None).map(|n| n.id.clone()).collect();
    while let Some(id) = queue.pop_front() {
        if reached.insert(id.clone()) {
            queue.extend(successors(p, &id));
        }
    }
    // Can finish: an end event, or a node with a successor (along flows or boundaries) that can;
    // inside a sub-process an end event finishes the scope, after which the sub-process continues.
    let mut finishes: BTreeMap<&str, bool> = p
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), matches!(n.kind, NodeKind::EndEvent { .. })))
        .collect();
    loop {
        let mut changed = false;
        for n in &p.nodes {
            if finishes.get(n.id.as_str()) == Some(&true) {
                continue;
            }
            let via_flow = p
                .outgoing(&n.id)
                .any(|f| finishes.get(f.target.as_str()) == Some(&true));
            let via_boundary = p
                .boundaries(&n.id)
                .any(|b| finishes.get(b.id.as_str()) == Some(&true));
            if via_flow || via_boundary {
                finishes.insert(&n.id, true);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for n in &p.nodes {
        if !reached.contains(&n.id) {
            out.push(Problem::new(
                &n.id,
                "从开始事件无法到达此节点",
                "node cannot be reached from the start event",
            ));
        } else if finishes.get(n.id.as_str()) != Some(&true) {
            out.push(Problem::new(
                &n.id,
                "此节点无法到达结束事件",
                "node cannot reach an end event",
            ));
        }
    }
}
