#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Parsing and deployment checks.

mod common;

use common::{bpmn, cflow, flow, task};
use yiwang_workflow::model::{NodeKind, Timer};
use yiwang_workflow::{DeployError, ParseError, check, parse, validate};

const APPROVAL: &str = include_str!("data/approval.bpmn");

fn problems(xml: &str) -> Vec<(String, String)> {
    let parsed = parse(xml).unwrap();
    validate(&parsed)
        .into_iter()
        .map(|p| (p.element_id, p.message_en))
        .collect()
}

fn has(ps: &[(String, String)], id: &str, needle: &str) -> bool {
    ps.iter().any(|(i, m)| i == id && m.contains(needle))
}

#[test]
fn modeler_file_parses_and_deploys() {
    let parsed = parse(APPROVAL).unwrap();
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    let p = &parsed.process;
    assert_eq!(p.id, "Process_Approval");
    assert_eq!(p.name.as_deref(), Some("行政许可审批"));
    let handle = p.node("Task_Handle").unwrap();
    let NodeKind::UserTask { assignment, multi } = &handle.kind else {
        panic!()
    };
    assert_eq!(assignment.candidate_groups, vec!["approver"]);
    assert_eq!(
        handle.step.as_ref().map(|s| s.limit),
        Some(yiwang_workflow::Limit::WorkingDays(5))
    );
    assert_eq!(assignment.candidate_orgs, vec!["case.department"]);
    assert!(multi.is_none());
    let NodeKind::UserTask { multi: Some(m), .. } = &p.node("Task_Countersign").unwrap().kind
    else {
        panic!()
    };
    assert!(!m.sequential);
    assert_eq!(m.cardinality.as_deref(), Some("3"));
    assert_eq!(m.completion.as_deref(), Some("${approved == false}"));
    assert_eq!(
        p.node("Timer_Handle").unwrap().kind,
        NodeKind::BoundaryTimer {
            attached_to: "Task_Handle".into(),
            cancel_activity: false,
            timer: Timer::Duration("P5D".into())
        }
    );
    assert_eq!(
        p.node("Task_Remind").unwrap().kind,
        NodeKind::ServiceTask {
            action: "notifyOverdue".into()
        }
    );
    assert_eq!(
        p.node("Gateway_Amount").unwrap().kind,
        NodeKind::ExclusiveGateway {
            default: Some("Flow_Small".into())
        }
    );
    assert_eq!(
        p.flow("Flow_Big").unwrap().condition.as_deref(),
        Some("${amount > 1000}")
    );
    assert!(validate(&parsed).is_empty());
    check(APPROVAL).unwrap();
}

#[test]
fn not_xml_and_no_process_are_errors() {
    assert!(matches!(parse("<a"), Err(ParseError::Xml(_))));
    assert_eq!(parse("<x/>").unwrap_err(), ParseError::NoProcess);
    let empty = r#"<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>"#;
    assert_eq!(parse(empty).unwrap_err(), ParseError::NoProcess);
}

#[test]
fn every_problem_is_listed_with_its_element() {
    let xml = bpmn(&[
        r#"<bpmn:startEvent id="S"/>"#,
        r#"<bpmn:scriptTask id="Script"/>"#,
        r#"<bpmn:userTask id="NoOne"/>"#,
        &task("Orphan"),
        &task("Dead"),
        r#"<bpmn:exclusiveGateway id="G"/>"#,
        &task("A"),
        r#"<bpmn:intermediateCatchEvent id="Wait"><bpmn:timerEventDefinition><bpmn:timeDuration>P5X</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"#,
        r#"<bpmn:endEvent id="E"/>"#,
        r#"<bpmn:boundaryEvent id="Sig" attachedToRef="A"><bpmn:signalEventDefinition/></bpmn:boundaryEvent>"#,
        &flow("f1", "S", "NoOne"),
        &flow("f2", "NoOne", "G"),
        &cflow("f3", "G", "A", "${amount > }"),
        &cflow("f4", "G", "Wait", "amount &lt;= 1000"),
        &flow("f5", "A", "E"),
        &flow("f6", "Wait", "E"),
        &flow("f7", "NoOne", "Dead"),
    ]
    .concat());
    let ps = problems(&xml);
    assert!(
        has(&ps, "Script", "unsupported element scriptTask"),
        "{ps:?}"
    );
    assert!(has(&ps, "Sig", "timer boundary"), "{ps:?}");
    assert!(has(&ps, "NoOne", "no assignee rule"), "{ps:?}");
    assert!(has(&ps, "Orphan", "cannot be reached"), "{ps:?}");
    assert!(has(&ps, "Dead", "cannot reach an end"), "{ps:?}");
    assert!(has(&ps, "G", "no default flow"), "{ps:?}");
    assert!(has(&ps, "f3", "does not parse"), "{ps:?}");
    assert!(has(&ps, "Wait", "ISO 8601"), "{ps:?}");
    assert!(ps.iter().all(|(_, m)| !m.is_empty()));
    match check(&xml) {
        Err(DeployError::Invalid(list)) => assert_eq!(list.len(), ps.len()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_start_event_is_a_problem() {
    let xml = bpmn(
        &[
            task("A"),
            r#"<bpmn:endEvent id="E"/>"#.into(),
            flow("f", "A", "E"),
        ]
        .concat(),
    );
    let ps = problems(&xml);
    assert!(has(&ps, "P", "no start event"), "{ps:?}");
}

#[test]
fn terminate_end_subprocess_and_message_parse() {
    let xml = bpmn(&[
        r#"<bpmn:startEvent id="S"/>"#,
        r#"<bpmn:subProcess id="Sub"><bpmn:startEvent id="S2"/><bpmn:userTask id="T2" camunda:assignee="${initiator}"/><bpmn:endEvent id="E2"/>"#,
        &flow("g1", "S2", "T2"),
        &flow("g2", "T2", "E2"),
        "</bpmn:subProcess>",
        r#"<bpmn:intermediateCatchEvent id="M"><bpmn:messageEventDefinition messageRef="Msg_1"/></bpmn:intermediateCatchEvent>"#,
        r#"<bpmn:endEvent id="E"><bpmn:terminateEventDefinition/></bpmn:endEvent>"#,
        &flow("f1", "S", "Sub"),
        &flow("f2", "Sub", "M"),
        &flow("f3", "M", "E"),
    ]
    .concat());
    let parsed = parse(&xml).unwrap();
    assert!(validate(&parsed).is_empty(), "{:?}", validate(&parsed));
    let p = &parsed.process;
    assert_eq!(p.node("T2").unwrap().parent.as_deref(), Some("Sub"));
    assert_eq!(
        p.node("M").unwrap().kind,
        NodeKind::MessageCatch {
            message: "supplement_received".into()
        }
    );
    assert_eq!(
        p.node("E").unwrap().kind,
        NodeKind::EndEvent { terminate: true }
    );
}

#[test]
fn iso_texts() {
    use yiwang_workflow::iso;
    assert_eq!(iso::duration("P1DT2H").unwrap().hours, 2);
    assert_eq!(iso::duration("P2W").unwrap().weeks, 2);
    for bad in ["", "P", "PT", "P1", "1D", "P1H", "PT1D", "P1.5D"] {
        assert!(iso::duration(bad).is_err(), "{bad}");
    }
    assert!(iso::date("2026-12-01T09:00:00Z").is_ok());
    assert!(iso::date("2026-13-01").is_err());
    assert!(iso::cycle("R3/PT1H").is_ok());
    assert!(iso::cycle("R/2026-01-01T00:00:00Z/P1D").is_ok());
    assert!(iso::cycle("3/PT1H").is_err());
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(s in ".{0,300}") {
        if let Ok(p) = parse(&s) {
            let _ = validate(&p);
        }
        let _ = yiwang_workflow::iso::duration(&s);
        let _ = yiwang_workflow::iso::cycle(&s);
        let _ = yiwang_workflow::iso::date(&s);
    }
}
