#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Send-back (退回), withdrawal (撤回), version migration, cycle timers and step rules.

mod common;

use std::collections::HashMap;

use common::{bpmn, flow, task, vars};
use yiwang_workflow::engine::{HistoryKind, Instance};
use yiwang_workflow::{Deployment, EngineError, Escalation, Limit, check, parse};

fn deploy(body: &str) -> Deployment {
    check(&bpmn(body)).unwrap()
}

fn open(i: &Instance) -> Vec<&str> {
    let mut v: Vec<&str> = i.work_items.iter().map(|w| w.node.as_str()).collect();
    v.sort_unstable();
    v
}

fn done(d: &Deployment, i: &mut Instance, node: &str) {
    let w = i.items_of(node).next().unwrap().id;
    d.complete(i, w, vars("{}")).unwrap();
}

fn item(i: &Instance, node: &str) -> u64 {
    i.items_of(node).next().unwrap().id
}

fn sequence() -> Deployment {
    deploy(&format!(
        r#"<bpmn:startEvent id="S"/>{}{}{}<bpmn:endEvent id="E"/>{}{}{}{}"#,
        task("A"),
        task("B"),
        task("C"),
        flow("f1", "S", "A"),
        flow("f2", "A", "B"),
        flow("f3", "B", "C"),
        flow("f4", "C", "E"),
    ))
}

/// A → fork → (B1 → B2 | C) → join → D
fn branches() -> Deployment {
    deploy(&format!(
        r#"<bpmn:startEvent id="S"/><bpmn:parallelGateway id="F"/><bpmn:parallelGateway id="J"/><bpmn:endEvent id="E"/>{}{}{}{}{}{}{}{}{}{}{}{}{}"#,
        task("A"),
        task("B1"),
        task("B2"),
        task("C"),
        task("D"),
        flow("s", "S", "A"),
        flow("a", "A", "F"),
        flow("fb", "F", "B1"),
        flow("b", "B1", "B2"),
        flow("fc", "F", "C"),
        flow("bj", "B2", "J"),
        flow("cj", "C", "J"),
        flow("jd", "J", "D") + &flow("de", "D", "E"),
    ))
}

#[test]
fn send_back_to_an_earlier_step_reopens_it() {
    let d = sequence();
    let mut i = d.start(vars("{}")).unwrap();
    done(&d, &mut i, "A");
    done(&d, &mut i, "B");
    assert_eq!(open(&i), ["C"]);
    let w = item(&i, "C");
    d.send_back(&mut i, w, "A").unwrap();
    assert_eq!(open(&i), ["A"]);
    assert!(
        i.history
            .iter()
            .any(|h| h.node == "C" && h.kind == HistoryKind::SentBack { to: "A".into() })
    );
    done(&d, &mut i, "A");
    done(&d, &mut i, "B");
    done(&d, &mut i, "C");
    assert!(!i.is_live());
}

#[test]
fn send_back_refuses_later_steps_and_other_kinds() {
    let d = sequence();
    let mut i = d.start(vars("{}")).unwrap();
    done(&d, &mut i, "A");
    let before = i.clone();
    let b = item(&i, "B");
    for target in ["C", "B", "E", "nope"] {
        assert_eq!(
            d.send_back(&mut i, b, target),
            Err(EngineError::BadTarget(target.into()))
        );
    }
    assert_eq!(i, before);
    assert_eq!(
        d.send_back(&mut i, 999, "A"),
        Err(EngineError::UnknownWorkItem(999))
    );
}

#[test]
fn send_back_inside_a_branch_keeps_the_other_branch() {
    let d = branches();
    let mut i = d.start(vars("{}")).unwrap();
    done(&d, &mut i, "A");
    done(&d, &mut i, "B1");
    done(&d, &mut i, "C"); // C waits at the join
    assert_eq!(open(&i), ["B2"]);
    let w = item(&i, "B2");
    d.send_back(&mut i, w, "B1").unwrap();
    assert_eq!(open(&i), ["B1"]);
    done(&d, &mut i, "B1");
    done(&d, &mut i, "B2");
    assert_eq!(open(&i), ["D"], "the join fires with C's token kept");
}

#[test]
fn send_back_before_the_fork_cancels_every_branch() {
    let d = branches();
    let mut i = d.start(vars("{}")).unwrap();
    done(&d, &mut i, "A");
    done(&d, &mut i, "C");
    let w = item(&i, "B1");
    d.send_back(&mut i, w, "A").unwrap();
    assert_eq!(open(&i), ["A"]);
    assert_eq!(
        i.tokens.len(),
        1,
        "no join token left behind: {:?}",
        i.tokens
    );
    done(&d, &mut i, "A");
    assert_eq!(open(&i), ["B1", "C"]);
}

#[test]
fn withdraw_reopens_the_step_and_cancels_what_followed() {
    let d = sequence();
    let mut i = d.start(vars("{}")).unwrap();
    done(&d, &mut i, "A");
    d.withdraw(&mut i, "A").unwrap();
    assert_eq!(open(&i), ["A"]);
    assert!(
        i.history
            .iter()
            .any(|h| h.node == "A" && h.kind == HistoryKind::Withdrawn)
    );
    // Nothing open after C's predecessor once the instance moved on and ended.
    done(&d, &mut i, "A");
    done(&d, &mut i, "B");
    done(&d, &mut i, "C");
    assert_eq!(d.withdraw(&mut i, "B"), Err(EngineError::NotRunning));
}

#[test]
fn withdraw_in_one_branch_leaves_the_other_joined_token() {
    let d = branches();
    let mut i = d.start(vars("{}")).unwrap();
    done(&d, &mut i, "A");
    done(&d, &mut i, "C");
    done(&d, &mut i, "B1");
    d.withdraw(&mut i, "B1").unwrap();
    assert_eq!(open(&i), ["B1"]);
    done(&d, &mut i, "B1");
    done(&d, &mut i, "B2");
    assert_eq!(open(&i), ["D"]);
    let mut j = d.start(vars("{}")).unwrap();
    assert_eq!(
        d.withdraw(&mut j, "D"),
        Err(EngineError::NothingToWithdraw("D".into()))
    );
}

#[test]
fn migration_maps_tokens_and_refuses_unmapped_nodes() {
    let v1 = sequence();
    let v2 = deploy(&format!(
        r#"<bpmn:startEvent id="S"/>{}{}<bpmn:endEvent id="E"/>{}{}{}"#,
        task("A"),
        task("Review"),
        flow("f1", "S", "A"),
        flow("f2", "A", "Review"),
        flow("f3", "Review", "E"),
    ));
    let mut i = v1.start(vars("{}")).unwrap();
    done(&v1, &mut i, "A");
    let before = i.clone();
    let problems = v2
        .migrate(&mut i, &v1.process, &HashMap::new())
        .unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].element_id, "B");
    assert_eq!(i, before, "nothing changes on a problem");
    let mapping = HashMap::from([("B".to_owned(), "Review".to_owned())]);
    v2.migrate(&mut i, &v1.process, &mapping).unwrap();
    assert_eq!(open(&i), ["Review"]);
    done(&v2, &mut i, "Review");
    assert!(!i.is_live());
    assert_eq!(i.end_event.as_deref(), Some("E"));
}

#[test]
fn migration_refuses_a_task_mapped_to_another_kind() {
    let v1 = sequence();
    let v2 = deploy(
        r#"<bpmn:startEvent id="S"/><bpmn:intermediateCatchEvent id="B"><bpmn:messageEventDefinition messageRef="Msg_1"/></bpmn:intermediateCatchEvent><bpmn:endEvent id="E"/><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="B"/><bpmn:sequenceFlow id="f2" sourceRef="B" targetRef="E"/>"#,
    );
    let mut i = v1.start(vars("{}")).unwrap();
    done(&v1, &mut i, "A");
    let p = v2.migration_problems(&i, &v1.process, &HashMap::new());
    assert_eq!(p.len(), 1, "{p:?}");
}

#[test]
fn a_non_interrupting_cycle_fires_its_count_then_stops() {
    let d = deploy(&format!(
        r#"<bpmn:startEvent id="S"/>{}<bpmn:boundaryEvent id="R" attachedToRef="A" cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:serviceTask id="N" camunda:delegateExpression="${{notify}}"/><bpmn:endEvent id="E"/><bpmn:endEvent id="E2"/>{}{}{}{}"#,
        task("A"),
        flow("f1", "S", "A"),
        flow("f2", "A", "E"),
        flow("r", "R", "N"),
        flow("n", "N", "E2"),
    ));
    let mut i = d.start(vars("{}")).unwrap();
    for round in 0..3 {
        let t = i.timers.first().cloned().unwrap();
        assert_eq!(t.round, round);
        d.fire_timer(&mut i, t.id).unwrap();
    }
    assert!(i.timers.is_empty());
    assert_eq!(open(&i), ["A"]);
    let actions = i
        .history
        .iter()
        .filter(|h| matches!(h.kind, HistoryKind::Action { .. }))
        .count();
    assert_eq!(actions, 3);
}

#[test]
fn step_rules_parse_from_attributes_and_properties() {
    let xml = bpmn(
        r#"<bpmn:startEvent id="S"/>
        <bpmn:userTask id="A" camunda:candidateGroups="approver" yiwang:limitWorkingDays="3" yiwang:escalation="complete:approved"/>
        <bpmn:userTask id="B" camunda:candidateGroups="approver"><bpmn:extensionElements><camunda:properties><camunda:property name="limitWorkingHours" value="4"/><camunda:property name="escalation" value="reassign:supervisor"/></camunda:properties></bpmn:extensionElements></bpmn:userTask>
        <bpmn:endEvent id="E"/>
        <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="A"/><bpmn:sequenceFlow id="f2" sourceRef="A" targetRef="B"/><bpmn:sequenceFlow id="f3" sourceRef="B" targetRef="E"/>"#,
    );
    let p = parse(&xml).unwrap();
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let a = p.process.node("A").unwrap().step.clone().unwrap();
    assert_eq!(a.limit, Limit::WorkingDays(3));
    assert_eq!(a.escalation, Escalation::Complete(true));
    let b = p.process.node("B").unwrap().step.clone().unwrap();
    assert_eq!(b.limit, Limit::WorkingHours(4));
    assert_eq!(b.escalation, Escalation::Reassign("supervisor".into()));
}

#[test]
fn bad_step_rules_are_deployment_problems() {
    for (attrs, field) in [
        (r#"yiwang:limitWorkingDays="0""#, "limitWorkingDays"),
        (r#"yiwang:limitWorkingDays="x""#, "limitWorkingDays"),
        (
            r#"yiwang:limitWorkingDays="2" yiwang:limitWorkingHours="3""#,
            "not both",
        ),
        (r#"yiwang:escalation="notify""#, "without a limit"),
        (
            r#"yiwang:limitWorkingDays="2" yiwang:escalation="explode""#,
            "escalation",
        ),
    ] {
        let xml = bpmn(&format!(
            r#"<bpmn:startEvent id="S"/><bpmn:userTask id="A" camunda:candidateGroups="g" {attrs}/><bpmn:endEvent id="E"/><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="A"/><bpmn:sequenceFlow id="f2" sourceRef="A" targetRef="E"/>"#
        ));
        let err = check(&xml).unwrap_err();
        let text = format!("{err:?}");
        assert!(
            text.contains("\"A\"") && text.contains(field),
            "{attrs}: {text}"
        );
    }
}

#[test]
fn take_history_empties_the_log() {
    let d = sequence();
    let mut i = d.start(vars("{}")).unwrap();
    let h = i.take_history();
    assert!(
        h.iter()
            .any(|e| e.node == "A" && e.kind == HistoryKind::Entered)
    );
    assert!(i.history.is_empty());
    done(&d, &mut i, "A");
    assert!(!i.history.is_empty());
}
