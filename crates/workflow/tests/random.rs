#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Random process graphs: whatever passes the deployment checks runs without panics and keeps the
//! engine's invariants; a terminate end inside a sub-process ends only that sub-process.

mod common;

use common::{bpmn, cflow, flow, task, vars};
use proptest::prelude::*;
use yiwang_workflow::engine::Instance;
use yiwang_workflow::{InstanceState, check};

fn invariants(i: &Instance) {
    if i.is_live() {
        assert!(!i.tokens.is_empty(), "live instance without a token");
    } else {
        assert!(i.work_items.is_empty() && i.tokens.is_empty() && i.timers.is_empty());
    }
}

/// Node kinds: 0 task, 1 exclusive, 2 parallel, 3 inclusive; a spine N0 → N1 → … → E plus extra
/// edges (targets past the last node are the end `E` and the terminate end `T`).
fn graph(kinds: &[u8], edges: &[(usize, usize, u8)]) -> String {
    let n = kinds.len();
    let mut b = String::from(
        r#"<bpmn:startEvent id="S"/><bpmn:endEvent id="E"/><bpmn:endEvent id="T"><bpmn:terminateEventDefinition/></bpmn:endEvent>"#,
    );
    let name = |k: usize| match k {
        k if k < n => format!("N{k}"),
        k if k == n => "E".to_owned(),
        _ => "T".to_owned(),
    };
    for (k, kind) in kinds.iter().enumerate() {
        let id = name(k);
        b += &match kind % 4 {
            0 => task(&id),
            1 => format!(r#"<bpmn:exclusiveGateway id="{id}"/>"#),
            2 => format!(r#"<bpmn:parallelGateway id="{id}"/>"#),
            _ => format!(r#"<bpmn:inclusiveGateway id="{id}"/>"#),
        };
    }
    b += &flow("fs", "S", "N0");
    for k in 0..n {
        b += &flow(&format!("sp{k}"), &name(k), &name(k + 1));
    }
    for (e, (from, to, c)) in edges.iter().enumerate() {
        let (from, to) = (name(from % n), name(to % (n + 2)));
        let c = if kinds.get(e % n).is_some_and(|k| k % 4 == 2) {
            0
        } else {
            *c
        };
        b += &match c % 3 {
            0 => flow(&format!("f{e}"), &from, &to),
            1 => cflow(&format!("f{e}"), &from, &to, "x &gt; 1"),
            _ => cflow(&format!("f{e}"), &from, &to, "x &lt;= 1"),
        };
    }
    bpmn(&b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn deployable_random_graphs_run_without_panics(
        kinds in proptest::collection::vec(0u8..4, 1..8),
        edges in proptest::collection::vec((0usize..8, 0usize..10, 0u8..3), 0..10),
        x in 0i64..3,
        picks in proptest::collection::vec(0usize..100, 0..40),
    ) {
        let xml = graph(&kinds, &edges);
        let Ok(d) = check(&xml) else { return Ok(()) };
        let Ok(mut i) = d.start(vars(&format!(r#"{{"x": {x}}}"#))) else { return Ok(()) };
        invariants(&i);
        let mut p = picks.into_iter();
        for _ in 0..40 {
            if !i.is_live() || i.work_items.is_empty() {
                break;
            }
            let w = i.work_items[p.next().unwrap_or(0) % i.work_items.len()].id;
            let _ = d.complete(&mut i, w, vars("{}"));
            invariants(&i);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Completions mixed with send-backs (退回) and withdrawals (撤回) on random graphs: a failed
    /// operation changes nothing, and after every operation the invariants hold (a live
    /// instance has a token; an ended one has no token, work item or timer; every work item
    /// belongs to a resting task token).
    #[test]
    fn rework_keeps_the_invariants(
        kinds in proptest::collection::vec(0u8..4, 1..8),
        edges in proptest::collection::vec((0usize..8, 0usize..10, 0u8..3), 0..10),
        x in 0i64..3,
        ops in proptest::collection::vec((0u8..3, 0usize..100, 0usize..100), 0..16),
    ) {
        let xml = graph(&kinds, &edges);
        let Ok(d) = check(&xml) else { return Ok(()) };
        let Ok(mut i) = d.start(vars(&format!(r#"{{"x": {x}}}"#))) else { return Ok(()) };
        let tasks: Vec<String> = d
            .process
            .nodes
            .iter()
            .filter(|n| matches!(n.kind, yiwang_workflow::model::NodeKind::UserTask { .. }))
            .map(|n| n.id.clone())
            .collect();
        for (op, a, b) in ops {
            if !i.is_live() || i.work_items.is_empty() || tasks.is_empty() {
                break;
            }
            let w = i.work_items[a % i.work_items.len()].id;
            let before = i.clone();
            let r = match op {
                0 => d.complete(&mut i, w, vars("{}")),
                1 => d.send_back(&mut i, w, &tasks[b % tasks.len()]),
                _ => d.withdraw(&mut i, &tasks[b % tasks.len()]),
            };
            if r.is_err() {
                prop_assert_eq!(&i, &before, "a failed operation changed the instance");
            }
            invariants(&i);
            for wi in &i.work_items {
                prop_assert!(
                    i.tokens.iter().any(|t| t.id == wi.token && t.node == wi.node),
                    "work item {} has no task token", wi.id
                );
            }
        }
    }
}

#[test]
fn terminate_inside_subprocess_ends_only_the_subprocess() {
    let body = [
        r#"<bpmn:startEvent id="S"/><bpmn:endEvent id="E"/>"#,
        r#"<bpmn:subProcess id="Sub"><bpmn:startEvent id="S2"/><bpmn:parallelGateway id="F"/><bpmn:endEvent id="T"><bpmn:terminateEventDefinition/></bpmn:endEvent><bpmn:endEvent id="E2"/>"#,
        &task("A"),
        &task("B"),
        &flow("g0", "S2", "F"),
        &flow("g1", "F", "A"),
        &flow("g2", "F", "B"),
        &flow("g3", "A", "T"),
        &flow("g4", "B", "E2"),
        "</bpmn:subProcess>",
        &task("After"),
        &flow("f1", "S", "Sub"),
        &flow("f2", "Sub", "After"),
        &flow("f3", "After", "E"),
    ]
    .concat();
    let d = check(&bpmn(&body)).unwrap();
    let mut i = d.start(vars("{}")).unwrap();
    let a = i.items_of("A").next().unwrap().id;
    d.complete(&mut i, a, vars("{}")).unwrap();
    assert_eq!(i.state, InstanceState::Running);
    let open: Vec<&str> = i.work_items.iter().map(|w| w.node.as_str()).collect();
    assert_eq!(open, ["After"]);
}

#[test]
fn parallel_gateway_conditions_are_refused() {
    let body = [
        r#"<bpmn:startEvent id="S"/><bpmn:parallelGateway id="F"/><bpmn:endEvent id="E"/>"#
            .to_owned(),
        flow("a", "S", "F"),
        cflow("b", "F", "E", "x &gt; 1"),
    ]
    .concat();
    let parsed = yiwang_workflow::parse(&bpmn(&body)).unwrap();
    let ps = yiwang_workflow::validate(&parsed);
    assert!(ps.iter().any(|p| p.element_id == "F"), "{ps:?}");
}
