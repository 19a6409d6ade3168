//! Helpers shared by the integration tests: BPMN text from a process body.
#![allow(dead_code)]

use serde_json::{Map, Value};

/// Wrap process elements in `bpmn:definitions` / `bpmn:process` with the usual namespaces.
pub fn bpmn(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:yiwang="https://yiwang.example/bpmn" id="d">
  <bpmn:message id="Msg_1" name="supplement_received"/>
  <bpmn:process id="P" isExecutable="true">{body}</bpmn:process>
</bpmn:definitions>"#
    )
}

/// A user task with a candidate group.
pub fn task(id: &str) -> String {
    format!(r#"<bpmn:userTask id="{id}" name="{id}" camunda:candidateGroups="g"/>"#)
}

/// A sequence flow.
pub fn flow(id: &str, from: &str, to: &str) -> String {
    format!(r#"<bpmn:sequenceFlow id="{id}" sourceRef="{from}" targetRef="{to}"/>"#)
}

/// A conditional sequence flow.
pub fn cflow(id: &str, from: &str, to: &str, cond: &str) -> String {
    format!(
        r#"<bpmn:sequenceFlow id="{id}" sourceRef="{from}" targetRef="{to}"><bpmn:conditionExpression>{cond}</bpmn:conditionExpression></bpmn:sequenceFlow>"#
    )
}

/// Variables from a JSON object literal.
pub fn vars(json: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}
