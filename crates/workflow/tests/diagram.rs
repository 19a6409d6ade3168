#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Drawing processes from their BPMN DI, and the modeler-saved test files.

use std::collections::HashSet;

use roxmltree::{Document, Node};
use serde_json::Map;
use yiwang_workflow::diagram::render;
use yiwang_workflow::{DiagramError, InstanceState, Marks, check, parse, simulate};

const APPROVAL: &str = include_str!("data/approval.bpmn");
const SEQ5: &str = include_str!("data/seq5.bpmn");
const PARALLEL3: &str = include_str!("data/parallel3.bpmn");
const COUNTERSIGN5: &str = include_str!("data/countersign5.bpmn");
const KINDS: &str = include_str!("data/diagram_kinds.bpmn");

const DC: &str = "http://www.omg.org/spec/DD/20100524/DC";
const DI: &str = "http://www.omg.org/spec/DD/20100524/DI";

fn marks(completed: &[&str], active: &[&str], overdue: &[&str]) -> Marks {
    let set = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<HashSet<_>>();
    Marks {
        completed: set(completed),
        active: set(active),
        overdue: set(overdue),
    }
}

/// The group drawn for an element.
fn group<'a, 'i>(svg: &'a Document<'i>, id: &str) -> Node<'a, 'i> {
    svg.descendants()
        .find(|n| n.has_tag_name("g") && n.attribute("data-element-id") == Some(id))
        .unwrap_or_else(|| panic!("no <g data-element-id={id:?}>"))
}

fn classes<'a>(g: Node<'a, '_>) -> Vec<&'a str> {
    g.attribute("class")
        .unwrap_or_default()
        .split(' ')
        .collect()
}

fn title(g: Node) -> String {
    g.children()
        .find(|c| c.has_tag_name("title"))
        .and_then(|t| t.text())
        .unwrap_or_default()
        .to_owned()
}

/// Every `<text>` line of a group, joined.
fn text(g: Node) -> String {
    g.descendants()
        .filter(|n| n.has_tag_name("tspan"))
        .filter_map(|n| n.text())
        .collect()
}

/// Every `dc:Bounds` rectangle and `di:waypoint` of a BPMN file.
fn geometry(xml: &str) -> (Vec<[f64; 4]>, Vec<[f64; 2]>) {
    let doc = Document::parse(xml).unwrap();
    let num = |n: Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
    let rects = doc
        .descendants()
        .filter(|n| n.tag_name().namespace() == Some(DC) && n.tag_name().name() == "Bounds")
        .map(|n| [num(n, "x"), num(n, "y"), num(n, "width"), num(n, "height")])
        .collect();
    let points = doc
        .descendants()
        .filter(|n| n.tag_name().namespace() == Some(DI) && n.tag_name().name() == "waypoint")
        .map(|n| [num(n, "x"), num(n, "y")])
        .collect();
    (rects, points)
}

fn view_box(svg: &Document) -> [f64; 4] {
    let v: Vec<f64> = svg
        .root_element()
        .attribute("viewBox")
        .unwrap()
        .split(' ')
        .map(|x| x.parse().unwrap())
        .collect();
    [v[0], v[1], v[2], v[3]]
}

/// Render, prove the output is well-formed XML, and check what every drawing must have.
fn drawn(xml: &str, m: &Marks) -> String {
    let svg = render(xml, m).unwrap();
    let doc = Document::parse(&svg).unwrap_or_else(|e| panic!("not well-formed: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert_eq!(root.attribute("role"), Some("img"));

    let process = parse(xml).unwrap().process;
    assert_eq!(
        root.attribute("aria-label"),
        Some(process.name.as_deref().unwrap_or(&process.id))
    );
    let ids: HashSet<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("data-element-id"))
        .collect();
    for id in process
        .nodes
        .iter()
        .map(|n| &n.id)
        .chain(process.flows.iter().map(|f| &f.id))
    {
        assert!(ids.contains(id.as_str()), "{id} is not drawn");
        let g = group(&doc, id);
        assert_eq!(g.attribute("id"), Some(id.as_str()));
        assert!(title(g).contains(&format!("({id})")), "{id}: {}", title(g));
    }

    let [vx, vy, vw, vh] = view_box(&doc);
    let (rects, points) = geometry(xml);
    for [x, y, w, h] in rects {
        assert!(
            x >= vx && y >= vy && x + w <= vx + vw && y + h <= vy + vh,
            "{x},{y},{w},{h} outside the view box"
        );
    }
    for [x, y] in points {
        assert!(
            x >= vx && y >= vy && x <= vx + vw && y <= vy + vh,
            "{x},{y} outside the view box"
        );
    }
    svg
}

#[test]
fn draws_every_element_of_the_approval_process() {
    let svg = drawn(APPROVAL, &Marks::default());
    let doc = Document::parse(&svg).unwrap();
    let kinds = |id: &str| classes(group(&doc, id)).join(" ");
    assert_eq!(kinds("Task_Handle"), "node user-task");
    assert_eq!(kinds("Task_Remind"), "node service-task");
    assert_eq!(kinds("Timer_Handle"), "node boundary-event");
    assert_eq!(kinds("Gateway_Amount"), "node exclusive-gateway");
    assert_eq!(kinds("Flow_Small"), "flow sequence-flow default");
    assert_eq!(kinds("Flow_Big"), "flow sequence-flow");
    assert_eq!(title(group(&doc, "Task_Handle")), "承办 (Task_Handle)");
    assert_eq!(title(group(&doc, "End_Remind")), "结束事件 (End_Remind)");
    assert_eq!(text(group(&doc, "Flow_Big")), "金额大于 1000");
    // The default flow's slash, the arrowheads.
    let line = group(&doc, "Flow_Small")
        .descendants()
        .find(|n| n.attribute("class") == Some("line"))
        .unwrap();
    assert_eq!(line.attribute("marker-start"), Some("url(#yw-seq-default)"));
    assert_eq!(line.attribute("marker-end"), Some("url(#yw-seq-end)"));
    // Nothing marked: no legend, no state colours.
    assert!(!svg.contains("legend"));
    assert!(!svg.contains(".completed"));
}

#[test]
fn marks_become_classes_a_legend_and_a_description() {
    let m = marks(
        &["StartEvent_1", "Flow_1", "Task_Handle"],
        &["Task_Review"],
        &["Task_Review", "Timer_Handle"],
    );
    let svg = drawn(APPROVAL, &m);
    let doc = Document::parse(&svg).unwrap();
    assert!(classes(group(&doc, "Task_Handle")).contains(&"completed"));
    assert!(classes(group(&doc, "Flow_1")).contains(&"completed"));
    let review = classes(group(&doc, "Task_Review"));
    assert!(review.contains(&"active") && review.contains(&"overdue"));
    assert!(!classes(group(&doc, "Task_Approve")).contains(&"active"));
    assert_eq!(
        title(group(&doc, "Task_Review")),
        "审核 (Task_Review) — 办理中 / active，已超期 / overdue"
    );
    let arrow = group(&doc, "Flow_1")
        .descendants()
        .find(|n| n.attribute("class") == Some("line"))
        .unwrap();
    assert_eq!(
        arrow.attribute("marker-end"),
        Some("url(#yw-seq-end-completed)")
    );
    assert!(
        doc.descendants()
            .any(|n| n.attribute("id") == Some("yw-seq-end-completed"))
    );

    let legend = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("legend"))
        .expect("a legend");
    let entries: Vec<String> = legend
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(str::to_owned))
        .collect();
    assert_eq!(
        entries,
        ["已办结 / completed", "办理中 / active", "已超期 / overdue"]
    );

    let style = doc
        .descendants()
        .find(|n| n.has_tag_name("style"))
        .and_then(|n| n.text())
        .unwrap();
    assert!(style.contains(".yw-diagram .completed .shape{stroke:#2e7d32"));
    assert!(style.contains(".yw-diagram .overdue"));

    let root = doc.root_element();
    assert_eq!(root.attribute("aria-describedby"), Some("yw-desc"));
    let desc = doc
        .descendants()
        .find(|n| n.has_tag_name("desc"))
        .and_then(|n| n.text())
        .unwrap();
    assert_eq!(
        desc,
        "已办结 / completed：受理 (StartEvent_1)、承办 (Task_Handle)；办理中 / active：审核 (Task_Review)；\
         已超期 / overdue：审核 (Task_Review)、超时 (Timer_Handle)"
    );

    // Only the states in use get a legend entry.
    let svg = drawn(APPROVAL, &marks(&[], &["Task_Handle"], &[]));
    let doc = Document::parse(&svg).unwrap();
    let legend_texts: Vec<&str> = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name("text")
                && n.parent()
                    .is_some_and(|p| p.attribute("class") == Some("legend-item active"))
        })
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(legend_texts, ["办理中 / active"]);
}

#[test]
fn draws_pools_lanes_sub_processes_data_and_annotations() {
    let m = marks(&["Sub_Task"], &["Sub_Expanded"], &["Nowhere"]);
    let svg = drawn(KINDS, &m);
    let doc = Document::parse(&svg).unwrap();
    let kinds = |id: &str| classes(group(&doc, id)).join(" ");
    for (id, expected) in [
        ("Pool_Bureau", "node participant"),
        ("Lane_Office", "node lane"),
        ("Start_1", "node start-event"),
        ("Task_Script", "node script-task"),
        ("Task_Rule", "node business-rule-task"),
        ("Task_Manual", "node manual-task"),
        ("Task_Send", "node send-task"),
        ("Task_Receive", "node receive-task"),
        ("Gw_Incl", "node inclusive-gateway"),
        ("Gw_Event", "node event-based-gateway"),
        ("Gw_Complex", "node complex-gateway"),
        ("Catch_Timer", "node intermediate-catch-event"),
        ("Throw_Signal", "node intermediate-throw-event"),
        ("Sub_Expanded", "node sub-process expanded active"),
        ("Sub_Collapsed", "node sub-process collapsed"),
        ("Call_1", "node call-activity"),
        ("Boundary_Error", "node boundary-event"),
        ("End_Terminate", "node end-event"),
        ("DataRef_1", "node data-object"),
        ("Store_1", "node data-store"),
        ("Note_1", "node text-annotation"),
        ("Group_1", "node group"),
        ("F_2", "flow sequence-flow conditional"),
        ("F_Incl_Default", "flow sequence-flow default"),
        ("MsgFlow_Notice", "flow message-flow"),
        ("Assoc_1", "flow association"),
        ("DIA_1", "flow data-association"),
    ] {
        assert_eq!(kinds(id), expected, "{id}");
    }
    assert_eq!(title(group(&doc, "Group_1")), "材料审查 (Group_1)");
    assert_eq!(
        title(group(&doc, "Note_1")),
        "法定时限 20 个工作日 (statutory limit) (Note_1)"
    );
    assert_eq!(doc.root_element().attribute("aria-label"), Some("元素一览"));
    // Elements are drawn bottom to top: pool, expanded sub-process, its flows, its task.
    let order: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("data-element-id"))
        .collect();
    let at = |id: &str| order.iter().position(|x| *x == id).unwrap();
    assert!(at("Pool_Bureau") < at("Sub_Expanded"));
    assert!(at("Sub_Expanded") < at("SF_1") && at("SF_1") < at("Sub_Task"));
    assert!(at("Sub_Task") < at("Boundary_Error"));
    // A mark on an id the diagram does not have adds no legend entry.
    let legend: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("class"))
        .filter(|c| c.starts_with("legend-item"))
        .collect();
    assert_eq!(legend, ["legend-item completed", "legend-item active"]);
}

#[test]
fn the_legend_is_inside_the_view_box() {
    let svg = drawn(APPROVAL, &marks(&["Task_Handle"], &[], &[]));
    let doc = Document::parse(&svg).unwrap();
    let [_, vy, _, vh] = view_box(&doc);
    let (rects, _) = geometry(APPROVAL);
    let lowest = rects.iter().map(|r| r[1] + r[3]).fold(f64::MIN, f64::max);
    let swatch = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("rect")
                && n.parent()
                    .is_some_and(|p| p.attribute("class") == Some("legend-item completed"))
        })
        .unwrap();
    let y: f64 = swatch.attribute("y").unwrap().parse().unwrap();
    assert!(y > lowest && y + 16.0 <= vy + vh);
}

#[test]
fn names_with_markup_characters_are_escaped() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d">
  <bpmn:process id="P" name="A &lt;b&gt; &amp; &quot;c&quot; 'd'" isExecutable="true">
    <bpmn:startEvent id="S" name="&lt;script&gt;alert(1)&lt;/script&gt;"/>
    <bpmn:userTask id="T" name="金额 &lt; 1000 &amp; 状态 = &quot;新&quot;" camunda:candidateGroups="g"/>
    <bpmn:endEvent id="E"/>
    <bpmn:sequenceFlow id="F1" name="a&amp;b" sourceRef="S" targetRef="T"/>
    <bpmn:sequenceFlow id="F2" name="x &gt; 1 &amp;&amp; y &lt; 2" sourceRef="T" targetRef="E"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="D">
    <bpmndi:BPMNPlane id="Pl" bpmnElement="P">
      <bpmndi:BPMNShape id="S_di" bpmnElement="S"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="T_di" bpmnElement="T"><dc:Bounds x="200" y="78" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="E_di" bpmnElement="E"><dc:Bounds x="400" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="F1_di" bpmnElement="F1"><di:waypoint x="136" y="118"/><di:waypoint x="200" y="118"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="F2_di" bpmnElement="F2"><di:waypoint x="300" y="118"/><di:waypoint x="400" y="118"/>
        <bpmndi:BPMNLabel><dc:Bounds x="320" y="90" width="60" height="14"/></bpmndi:BPMNLabel></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>"#;
    let svg = drawn(xml, &marks(&["T"], &[], &[]));
    assert!(!svg.contains("<script"), "{svg}");
    let doc = Document::parse(&svg).unwrap();
    assert_eq!(
        doc.root_element().attribute("aria-label"),
        Some(r#"A <b> & "c" 'd'"#)
    );
    let no_spaces = |s: &str| s.replace(' ', "");
    let task = group(&doc, "T");
    assert_eq!(
        title(task),
        r#"金额 < 1000 & 状态 = "新" (T) — 已办结 / completed"#
    );
    assert_eq!(
        no_spaces(&text(task)),
        no_spaces(r#"金额 < 1000 & 状态 = "新""#)
    );
    assert_eq!(text(group(&doc, "S")), "<script>alert(1)</script>");
    assert_eq!(text(group(&doc, "F1")), "a&b");
    assert_eq!(no_spaces(&text(group(&doc, "F2"))), "x>1&&y<2");
    assert!(svg.contains("金额 &lt; 1000 &amp; 状态 = &quot;新&quot;"));
}

#[test]
fn a_file_without_diagram_information_is_refused() {
    let xml = r#"<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="P" isExecutable="true"><bpmn:startEvent id="S"/></bpmn:process>
</bpmn:definitions>"#;
    let err = render(xml, &Marks::default()).unwrap_err();
    assert_eq!(err, DiagramError::NoDiagram);
    assert_eq!(
        err.to_string(),
        "文件没有图形信息（BPMN DI） / the file has no diagram information (BPMN DI)"
    );
    // An empty plane is no diagram either.
    let empty = xml.replace(
        "</bpmn:definitions>",
        r#"<bpmndi:BPMNDiagram xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" id="D"><bpmndi:BPMNPlane id="Pl" bpmnElement="P"/></bpmndi:BPMNDiagram></bpmn:definitions>"#,
    );
    assert_eq!(
        render(&empty, &Marks::default()),
        Err(DiagramError::NoDiagram)
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(matches!(
        render("<bpmn:definitions", &Marks::default()),
        Err(DiagramError::Xml(_))
    ));
    assert_eq!(
        render("<svg/>", &Marks::default()),
        Err(DiagramError::NotBpmn)
    );
    let bad_number = APPROVAL.replace(r#"x="240" y="80""#, r#"x="NaN" y="80""#);
    match render(&bad_number, &Marks::default()) {
        Err(DiagramError::BadDi { element, .. }) => assert_eq!(element, "Task_Handle_di"),
        other => panic!("{other:?}"),
    }
    // Flow_1's second (and last) waypoint; bpmn-js writes each waypoint on its own line.
    let one_point = APPROVAL.replace(r#"<di:waypoint x="240" y="120" />"#, "");
    match render(&one_point, &Marks::default()) {
        Err(DiagramError::BadDi { element, reason }) => {
            assert_eq!(element, "Flow_1_di");
            assert!(reason.contains("two waypoints"));
        }
        other => panic!("{other:?}"),
    }
    // A shape for an element the file does not have is skipped, as bpmn.io does.
    let dangling = APPROVAL.replace(r#"bpmnElement="End_Remind""#, r#"bpmnElement="Nowhere""#);
    assert!(render(&dangling, &Marks::default()).is_ok());
}

#[test]
fn approval_with_progress_snapshot() {
    let m = marks(
        &[
            "StartEvent_1",
            "Flow_1",
            "Task_Handle",
            "Flow_2",
            "Task_Review",
            "Flow_3",
            "Gateway_Amount",
            "Flow_Big",
        ],
        &["Task_Countersign"],
        &["Task_Countersign"],
    );
    insta::assert_snapshot!(drawn(APPROVAL, &m));
}

// ---------------------------------------------------------------------------------------------
// The modeler-saved files (also run by the SpiffWorkflow benchmarks).

fn runs_to_the_end(xml: &str, process: &str, tasks: &[&str]) {
    let d = check(xml).unwrap_or_else(|e| panic!("{process}: {e:?}"));
    let s = simulate(&d, Map::new()).unwrap();
    assert_eq!(s.instance.state, InstanceState::Completed, "{process}");
    assert_eq!(
        s.instance.end_event.as_deref(),
        Some("End_Done"),
        "{process}"
    );
    assert_eq!(s.completed, tasks, "{process}");
    assert_eq!(parse(xml).unwrap().process.id, process);
    drawn(xml, &Marks::default());
}

#[test]
fn seq5_runs_five_tasks_in_order() {
    runs_to_the_end(
        SEQ5,
        "Process_Seq5",
        &[
            "Task_Accept",
            "Task_Handle",
            "Task_Review",
            "Task_Recheck",
            "Task_Approve",
        ],
    );
}

#[test]
fn parallel3_runs_three_departments_between_handling_and_approval() {
    runs_to_the_end(
        PARALLEL3,
        "Process_Parallel3",
        &[
            "Task_Handle",
            "Task_Market",
            "Task_Fire",
            "Task_Environment",
            "Task_Approve",
        ],
    );
}

#[test]
fn countersign5_runs_five_countersigners_then_approval() {
    runs_to_the_end(
        COUNTERSIGN5,
        "Process_Countersign5",
        &[
            "Task_Countersign",
            "Task_Countersign",
            "Task_Countersign",
            "Task_Countersign",
            "Task_Countersign",
            "Task_Approve",
        ],
    );
    let svg = render(COUNTERSIGN5, &Marks::default()).unwrap();
    let doc = Document::parse(&svg).unwrap();
    // The parallel multi-instance marker: three vertical bars.
    assert!(group(&doc, "Task_Countersign").descendants().any(|n| {
        n.attribute("d")
            .is_some_and(|d| d.matches(" V ").count() == 3)
    }));
}

/// Every flow node and every flow has its DI, as the modeler saves it.
#[test]
fn modeler_files_draw_every_element() {
    for xml in [SEQ5, PARALLEL3, COUNTERSIGN5, APPROVAL] {
        let doc = Document::parse(xml).unwrap();
        // Saved by the bpmn.io modeler (scripts/bpmn-resave.mjs).
        assert_eq!(
            doc.root_element().attribute("exporter"),
            Some("bpmn-js (https://bpmn.io)")
        );
        let drawn: HashSet<&str> = doc
            .descendants()
            .filter_map(|n| n.attribute("bpmnElement"))
            .collect();
        let process = parse(xml).unwrap().process;
        for id in process
            .nodes
            .iter()
            .map(|n| &n.id)
            .chain(process.flows.iter().map(|f| &f.id))
        {
            assert!(
                drawn.contains(id.as_str()),
                "{}: {id} has no DI",
                process.id
            );
        }
    }
}
