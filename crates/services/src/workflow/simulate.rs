//! Simulated runs for process designers (`yiwang process simulate`): one instance runs in
//! simulated time on the working-day calendar. Every user task is completed as approved when
//! its time is up — its step limit when it declares one, otherwise one working day — timers
//! fire at their due time (a boundary timer shorter than its task fires first), and awaited
//! messages arrive when nothing else is pending. Events happen in time order, so parallel
//! branches overlap as they would in a department.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use yiwang_calendar::Calendar;
use yiwang_workflow::engine::Wait;
use yiwang_workflow::{Deployment, EngineError, Limit};

use super::runtime::timer_due;

/// One thing that happened in the simulated run.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The node.
    pub node: String,
    /// Its name.
    pub name: String,
    /// `task` (a work item completed), `timer` or `message`.
    pub kind: &'static str,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Working days since the start (the day of the start not counted).
    pub working_day: u32,
}

/// The result of a simulated run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// Start time.
    pub started: DateTime<Utc>,
    /// What happened, in order.
    pub steps: Vec<Step>,
    /// `completed`, `terminated` or `stuck` (something waits that nothing will deliver).
    pub state: &'static str,
    /// The end event reached in the process scope.
    pub end_event: Option<String>,
    /// When it ended.
    pub ended: DateTime<Utc>,
    /// Working days used.
    pub working_days: u32,
}

/// Run one instance from `start` with `variables`.
pub fn run(
    d: &Deployment,
    variables: Map<String, Value>,
    cal: &Calendar,
    start: DateTime<Utc>,
) -> Result<Run, EngineError> {
    let mut inst = d.start(variables)?;
    let mut now = start;
    let mut steps = Vec::new();
    // (id, due) for open work items and timers, set when first seen.
    let mut item_due: Vec<(u64, DateTime<Utc>)> = Vec::new();
    let mut timer_dues: Vec<(u64, DateTime<Utc>)> = Vec::new();
    let mut approved = Map::new();
    approved.insert("approved".into(), Value::Bool(true));
    approved.insert("outcome".into(), Value::String("approve".into()));
    let name_of = |id: &str| {
        d.process
            .node(id)
            .and_then(|n| n.name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    for _ in 0..yiwang_workflow::engine::STEP_LIMIT {
        if !inst.is_live() {
            break;
        }
        for w in &inst.work_items {
            if !item_due.iter().any(|(i, _)| *i == w.id) {
                let limit = d
                    .process
                    .node(&w.node)
                    .and_then(|n| n.step.as_ref())
                    .map(|s| s.limit);
                let due = match limit {
                    Some(Limit::WorkingHours(h)) => cal.add_working_hours(now, h),
                    Some(Limit::WorkingDays(n)) => cal.add_working_days(now, n),
                    None => cal.add_working_days(now, 1),
                };
                item_due.push((w.id, due));
            }
        }
        for t in &inst.timers {
            if !timer_dues.iter().any(|(i, _)| *i == t.id) {
                timer_dues.push((t.id, timer_due(&t.timer, now, t.round)));
            }
        }
        item_due.retain(|(i, _)| inst.work_items.iter().any(|w| w.id == *i));
        timer_dues.retain(|(i, _)| inst.timers.iter().any(|t| t.id == *i));
        let next_item = item_due.iter().min_by_key(|(i, due)| (*due, *i)).copied();
        let next_timer = timer_dues.iter().min_by_key(|(i, due)| (*due, *i)).copied();
        match (next_item, next_timer) {
            // A timer due before the next task (or with no task open) fires first.
            (item, Some((t, b))) if item.is_none_or(|(_, a)| b < a) => {
                now = now.max(b);
                let node = inst
                    .timers
                    .iter()
                    .find(|x| x.id == t)
                    .map(|x| x.node.clone());
                d.fire_timer(&mut inst, t)?;
                if let Some(node) = node {
                    steps.push(step(cal, start, now, &node, name_of(&node), "timer"));
                }
            }
            (Some((w, a)), _) => {
                now = now.max(a);
                let node = inst
                    .work_items
                    .iter()
                    .find(|x| x.id == w)
                    .map(|x| x.node.clone());
                d.complete(&mut inst, w, approved.clone())?;
                if let Some(node) = node {
                    steps.push(step(cal, start, now, &node, name_of(&node), "task"));
                }
            }
            (None, _) => {
                let waiting = inst.tokens.iter().find_map(|t| match &t.wait {
                    Wait::Message(m) => Some((t.node.clone(), m.clone())),
                    _ => None,
                });
                match waiting {
                    Some((node, m)) => {
                        d.message(&mut inst, &m)?;
                        steps.push(step(cal, start, now, &node, name_of(&node), "message"));
                    }
                    None => break,
                }
            }
        }
    }
    let state = match inst.state {
        yiwang_workflow::InstanceState::Completed => "completed",
        yiwang_workflow::InstanceState::Terminated => "terminated",
        yiwang_workflow::InstanceState::Running => "stuck",
    };
    Ok(Run {
        started: start,
        steps,
        state,
        end_event: inst.end_event.clone(),
        ended: now,
        working_days: cal.working_days_between(start, now),
    })
}

fn step(
    cal: &Calendar,
    start: DateTime<Utc>,
    at: DateTime<Utc>,
    node: &str,
    name: String,
    kind: &'static str,
) -> Step {
    Step {
        node: node.to_owned(),
        name,
        kind,
        at,
        working_day: cal.working_days_between(start, at),
    }
}
