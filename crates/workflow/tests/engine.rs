#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Engine behaviour and invariants.

mod common;

use common::{bpmn, cflow, flow, task, vars};
use proptest::prelude::*;
use serde_json::json;
use yiwang_workflow::engine::{HistoryKind, Instance};
use yiwang_workflow::{Deployment, EngineError, InstanceState, check, simulate};

const APPROVAL: &str = include_str!("data/approval.bpmn");

fn deploy(body: &str) -> Deployment {
    check(&bpmn(body)).unwrap()
}

fn open(i: &Instance) -> Vec<&str> {
    i.work_items.iter().map(|w| w.node.as_str()).collect()
}

fn done(d: &Deployment, i: &mut Instance, node: &str, out: &str) {
    let w = i
        .items_of(node)
        .next()
        .unwrap_or_else(|| panic!("no item at {node}: {:?}", open(i)))
        .id;
    d.complete(i, w, vars(out)).unwrap();
}

fn left(i: &Instance, node: &str) -> usize {
    i.history
        .iter()
        .filter(|h| h.node == node && h.kind == HistoryKind::Left)
        .count()
}

fn parallel(n: usize, k: usize) -> Deployment {
    let mut b = String::from(
        r#"<bpmn:startEvent id="S"/><bpmn:parallelGateway id="F"/><bpmn:parallelGateway id="J"/><bpmn:endEvent id="E"/>"#,
    );
    b += &task("D");
    b += &flow("s", "S", "F");
    for br in 0..n {
        for s in 0..k {
            b += &task(&format!("T{br}_{s}"));
            let from = if s == 0 {
                "F".to_owned()
            } else {
                format!("T{br}_{}", s - 1)
            };
            b += &flow(&format!("f{br}_{s}"), &from, &format!("T{br}_{s}"));
        }
        b += &flow(&format!("j{br}"), &format!("T{br}_{}", k - 1), "J");
    }
    b += &flow("jd", "J", "D");
    b += &flow("de", "D", "E");
    deploy(&b)
}

#[test]
fn sequential_approval_small_amount() {
    let d = check(APPROVAL).unwrap();
    let mut i = d.start(vars(r#"{"amount": 500}"#)).unwrap();
    assert_eq!(open(&i), ["Task_Handle"]);
    assert_eq!(i.timers.len(), 1);
    done(&d, &mut i, "Task_Handle", "{}");
    assert!(i.timers.is_empty(), "boundary timer goes with its task");
    done(&d, &mut i, "Task_Review", r#"{"approved": true}"#);
    assert_eq!(open(&i), ["Task_Approve"]);
    done(&d, &mut i, "Task_Approve", "{}");
    assert_eq!(i.state, InstanceState::Completed);
    assert_eq!(i.end_event.as_deref(), Some("End_Done"));
    assert!(i.tokens.is_empty() && i.work_items.is_empty());
    assert_eq!(
        d.complete(&mut i, 1, vars("{}")),
        Err(EngineError::NotRunning)
    );
}

#[test]
fn countersign_all_and_early_rejection() {
    let d = check(APPROVAL).unwrap();
    let mut i = d.start(vars(r#"{"amount": 5000}"#)).unwrap();
    done(&d, &mut i, "Task_Handle", "{}");
    done(&d, &mut i, "Task_Review", "{}");
    assert_eq!(open(&i), ["Task_Countersign"; 3]);
    done(&d, &mut i, "Task_Countersign", r#"{"approved": true}"#);
    done(&d, &mut i, "Task_Countersign", r#"{"approved": true}"#);
    assert_eq!(open(&i), ["Task_Countersign"]);
    done(&d, &mut i, "Task_Countersign", r#"{"approved": true}"#);
    assert_eq!(open(&i), ["Task_Approve"]);

    let mut i = d.start(vars(r#"{"amount": 5000}"#)).unwrap();
    done(&d, &mut i, "Task_Handle", "{}");
    done(&d, &mut i, "Task_Review", "{}");
    done(&d, &mut i, "Task_Countersign", r#"{"approved": false}"#);
    assert_eq!(
        open(&i),
        ["Task_Approve"],
        "completion condition ends the countersign early"
    );
}

#[test]
fn non_interrupting_boundary_timer_runs_action_and_keeps_task() {
    let d = check(APPROVAL).unwrap();
    let mut i = d.start(vars(r#"{"amount": 1}"#)).unwrap();
    let t = i.timers[0].id;
    d.fire_timer(&mut i, t).unwrap();
    assert!(i.history.iter().any(|h| h.kind
        == HistoryKind::Action {
            action: "notifyOverdue".into()
        }));
    assert_eq!(open(&i), ["Task_Handle"]);
    assert_eq!(d.fire_timer(&mut i, t), Err(EngineError::UnknownTimer(t)));
}

#[test]
fn missing_variable_at_gateway_is_reported_and_instance_unchanged() {
    let d = check(APPROVAL).unwrap();
    let mut i = d.start(vars("{}")).unwrap();
    done(&d, &mut i, "Task_Handle", "{}");
    let before = i.clone();
    let w = i.items_of("Task_Review").next().unwrap().id;
    let err = d.complete(&mut i, w, vars("{}")).unwrap_err();
    assert!(
        matches!(err, EngineError::Expression { ref element_id, .. } if element_id == "Flow_Big"),
        "{err}"
    );
    assert_eq!(i, before);
}

#[test]
fn parallel_join_fires_once() {
    let d = parallel(3, 1);
    let mut i = d.start(vars("{}")).unwrap();
    assert_eq!(open(&i), ["T0_0", "T1_0", "T2_0"]);
    done(&d, &mut i, "T1_0", "{}");
    done(&d, &mut i, "T0_0", "{}");
    assert!(open(&i) == ["T2_0"]);
    done(&d, &mut i, "T2_0", "{}");
    assert_eq!(open(&i), ["D"]);
    assert_eq!(left(&i, "J"), 1);
}

#[test]
fn inclusive_join_waits_only_for_tokens_sent() {
    let body = [
        r#"<bpmn:startEvent id="S"/><bpmn:inclusiveGateway id="F" default="fc"/><bpmn:inclusiveGateway id="J"/><bpmn:endEvent id="E"/>"#.to_owned(),
        task("A"),
        task("B"),
        task("C"),
        task("D"),
        flow("s", "S", "F"),
        cflow("fa", "F", "A", "a &gt; 1"),
        cflow("fb", "F", "B", "b &gt; 1"),
        flow("fc", "F", "C"),
        flow("ja", "A", "J"),
        flow("jb", "B", "J"),
        flow("jc", "C", "J"),
        flow("jd", "J", "D"),
        flow("de", "D", "E"),
    ]
    .concat();
    let d = deploy(&body);
    let mut i = d.start(vars(r#"{"a": 2, "b": 0}"#)).unwrap();
    assert_eq!(open(&i), ["A"]);
    done(&d, &mut i, "A", "{}");
    assert_eq!(open(&i), ["D"]);
    let mut i = d.start(vars(r#"{"a": 2, "b": 2}"#)).unwrap();
    assert_eq!(open(&i), ["A", "B"]);
    done(&d, &mut i, "B", "{}");
    assert_eq!(open(&i), ["A"], "join waits for A");
    done(&d, &mut i, "A", "{}");
    assert_eq!(open(&i), ["D"]);
    assert_eq!(left(&i, "J"), 1);
    let i = d.start(vars(r#"{"a": 0, "b": 0}"#)).unwrap();
    assert_eq!(open(&i), ["C"], "default flow");
}

#[test]
fn exclusive_takes_first_true_in_document_order() {
    let body = [
        r#"<bpmn:startEvent id="S"/><bpmn:exclusiveGateway id="G" default="fc"/><bpmn:endEvent id="E"/>"#.to_owned(),
        task("A"),
        task("B"),
        task("C"),
        flow("s", "S", "G"),
        cflow("fa", "G", "A", "${x &gt; 1}"),
        cflow("fb", "G", "B", "${x &gt; 0}"),
        flow("fc", "G", "C"),
        flow("a", "A", "E"),
        flow("b", "B", "E"),
        flow("c", "C", "E"),
    ]
    .concat();
    let d = deploy(&body);
    assert_eq!(open(&d.start(vars(r#"{"x": 5}"#)).unwrap()), ["A"]);
    assert_eq!(open(&d.start(vars(r#"{"x": 1}"#)).unwrap()), ["B"]);
    assert_eq!(open(&d.start(vars(r#"{"x": 0}"#)).unwrap()), ["C"]);
}

#[test]
fn terminate_end_kills_everything() {
    let body = [
        r#"<bpmn:startEvent id="S"/><bpmn:parallelGateway id="F"/><bpmn:endEvent id="T"><bpmn:terminateEventDefinition/></bpmn:endEvent><bpmn:endEvent id="E"/>"#.to_owned(),
        task("A"),
        task("B"),
        flow("s", "S", "F"),
        flow("fa", "F", "A"),
        flow("fb", "F", "B"),
        flow("at", "A", "T"),
        flow("be", "B", "E"),
    ]
    .concat();
    let d = deploy(&body);
    let mut i = d.start(vars("{}")).unwrap();
    done(&d, &mut i, "A", "{}");
    assert_eq!(i.state, InstanceState::Terminated);
    assert!(i.work_items.is_empty() && i.tokens.is_empty() && i.timers.is_empty());
    assert_eq!(i.end_event.as_deref(), Some("T"));
}

#[test]
fn sequential_or_sign_with_collection() {
    let body = [
        r#"<bpmn:startEvent id="S"/><bpmn:endEvent id="E"/>"#,
        r#"<bpmn:userTask id="M" camunda:assignee="${leader}"><bpmn:multiInstanceLoopCharacteristics isSequential="true" camunda:collection="leaders" camunda:elementVariable="leader"><bpmn:completionCondition>${nrOfCompletedInstances &gt;= 1 &amp;&amp; approved}</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"#,
        &task("After"),
        &flow("s", "S", "M"),
        &flow("m", "M", "After"),
        &flow("a", "After", "E"),
    ]
    .concat();
    let d = deploy(&body);
    let mut i = d
        .start(vars(r#"{"leaders": ["zhang", "li", "wang"]}"#))
        .unwrap();
    assert_eq!(i.work_items.len(), 1);
    assert_eq!(i.work_items[0].element, Some(json!("zhang")));
    done(&d, &mut i, "M", r#"{"approved": false}"#);
    assert_eq!(i.work_items[0].element, Some(json!("li")));
    assert_eq!(i.work_items[0].loop_counter, Some(1));
    done(&d, &mut i, "M", r#"{"approved": true}"#);
    assert_eq!(open(&i), ["After"]);
}

#[test]
fn subprocess_with_interrupting_timer_and_message() {
    let body = [
        r#"<bpmn:startEvent id="S"/><bpmn:endEvent id="E"/><bpmn:endEvent id="Late"/>"#,
        r#"<bpmn:subProcess id="Sub"><bpmn:startEvent id="S2"/><bpmn:endEvent id="E2"/>"#,
        &task("In1"),
        &task("In2"),
        &flow("g1", "S2", "In1"),
        &flow("g2", "In1", "In2"),
        &flow("g3", "In2", "E2"),
        "</bpmn:subProcess>",
        r#"<bpmn:boundaryEvent id="B" attachedToRef="Sub"><bpmn:timerEventDefinition><bpmn:timeDuration>P20D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>"#,
        r#"<bpmn:intermediateCatchEvent id="Wait"><bpmn:messageEventDefinition messageRef="Msg_1"/></bpmn:intermediateCatchEvent>"#,
        &flow("f1", "S", "Sub"),
        &flow("f2", "Sub", "Wait"),
        &flow("f3", "Wait", "E"),
        &flow("f4", "B", "Late"),
    ]
    .concat();
    let d = deploy(&body);
    let mut i = d.start(vars("{}")).unwrap();
    done(&d, &mut i, "In1", "{}");
    done(&d, &mut i, "In2", "{}");
    assert!(i.work_items.is_empty() && i.timers.is_empty());
    assert_eq!(
        d.message(&mut i, "other"),
        Err(EngineError::NoSubscription("other".into()))
    );
    d.message(&mut i, "supplement_received").unwrap();
    assert_eq!(i.state, InstanceState::Completed);
    assert_eq!(i.end_event.as_deref(), Some("E"));

    let mut i = d.start(vars("{}")).unwrap();
    done(&d, &mut i, "In1", "{}");
    let t = i.timers[0].id;
    d.fire_timer(&mut i, t).unwrap();
    assert_eq!(i.state, InstanceState::Completed);
    assert_eq!(i.end_event.as_deref(), Some("Late"));
    assert!(i.work_items.is_empty());
}

#[test]
fn intermediate_timer_waits() {
    let body = [
        r#"<bpmn:startEvent id="S"/><bpmn:endEvent id="E"/>"#,
        r#"<bpmn:intermediateCatchEvent id="W"><bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"#,
        &flow("a", "S", "W"),
        &flow("b", "W", "E"),
    ]
    .concat();
    let d = deploy(&body);
    let mut i = d.start(vars("{}")).unwrap();
    assert!(i.is_live() && i.tokens.len() == 1);
    let t = i.timers[0].id;
    d.fire_timer(&mut i, t).unwrap();
    assert_eq!(i.state, InstanceState::Completed);
}

#[test]
fn instance_is_plain_serde_data() {
    let d = check(APPROVAL).unwrap();
    let mut i = d.start(vars(r#"{"amount": 5000}"#)).unwrap();
    done(&d, &mut i, "Task_Handle", "{}");
    let text = serde_json::to_string(&i).unwrap();
    let mut back: Instance = serde_json::from_str(&text).unwrap();
    assert_eq!(back, i);
    done(&d, &mut back, "Task_Review", "{}");
    assert_eq!(open(&back).len(), 3);
}

#[test]
fn simulate_completes_everything_approved() {
    let d = check(APPROVAL).unwrap();
    let s = simulate(&d, vars(r#"{"amount": 5000}"#)).unwrap();
    assert_eq!(s.instance.state, InstanceState::Completed);
    assert_eq!(s.instance.end_event.as_deref(), Some("End_Done"));
    assert_eq!(
        s.completed,
        [
            "Task_Handle",
            "Task_Review",
            "Task_Countersign",
            "Task_Countersign",
            "Task_Countersign",
            "Task_Approve"
        ]
    );
    let s = simulate(&d, vars(r#"{"amount": 1}"#)).unwrap();
    assert_eq!(s.completed, ["Task_Handle", "Task_Review", "Task_Approve"]);
}

fn invariants(i: &Instance) {
    if i.is_live() {
        assert!(!i.tokens.is_empty(), "live instance without a token");
    } else {
        assert!(
            i.work_items.is_empty() && i.tokens.is_empty() && i.timers.is_empty(),
            "finished instance with open work"
        );
    }
    for w in &i.work_items {
        assert!(
            i.tokens.iter().any(|t| t.id == w.token),
            "work item without its token"
        );
    }
}

proptest! {
    #[test]
    fn parallel_join_fires_exactly_once(n in 2usize..5, k in 1usize..4, picks in proptest::collection::vec(0usize..100, 0..20)) {
        let d = parallel(n, k);
        let mut i = d.start(vars("{}")).unwrap();
        let mut p = picks.into_iter();
        while i.work_items.iter().any(|w| w.node != "D") {
            let branch: Vec<u64> = i.work_items.iter().filter(|w| w.node != "D").map(|w| w.id).collect();
            let w = branch[p.next().unwrap_or(0) % branch.len()];
            d.complete(&mut i, w, vars("{}")).unwrap();
            invariants(&i);
            prop_assert!(left(&i, "J") <= 1);
        }
        prop_assert_eq!(left(&i, "J"), 1);
        prop_assert_eq!(open(&i), vec!["D"]);
        let w = i.work_items[0].id;
        d.complete(&mut i, w, vars("{}")).unwrap();
        prop_assert_eq!(i.state, InstanceState::Completed);
        invariants(&i);
    }

    #[test]
    fn random_runs_keep_invariants(amount in 0i64..3000, approve in proptest::collection::vec(any::<bool>(), 0..30), picks in proptest::collection::vec(0usize..100, 0..30)) {
        let d = check(APPROVAL).unwrap();
        let mut i = d.start(vars(&format!(r#"{{"amount": {amount}}}"#))).unwrap();
        invariants(&i);
        let mut a = approve.into_iter();
        let mut p = picks.into_iter();
        for _ in 0..40 {
            if !i.is_live() { break; }
            let choice = p.next().unwrap_or(0);
            if choice % 7 == 0 && !i.timers.is_empty() {
                let t = i.timers[choice % i.timers.len()].id;
                d.fire_timer(&mut i, t).unwrap();
            } else if !i.work_items.is_empty() {
                let w = i.work_items[choice % i.work_items.len()].id;
                let out = json!({"approved": a.next().unwrap_or(true)});
                d.complete(&mut i, w, out.as_object().cloned().unwrap()).unwrap();
            }
            invariants(&i);
        }
        if i.state != InstanceState::Running {
            prop_assert!(i.work_items.is_empty());
        }
    }
}
