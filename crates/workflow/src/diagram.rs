//! BPMN DI → SVG: a process drawn the way bpmn.io shows it, from the diagram interchange
//! (`bpmndi:BPMNDiagram`) a modeler saves next to the process, with completed, active and overdue
//! elements marked by CSS classes ([`Marks`]).
//!
//! The picture is read-only and standalone: no script, no external font or stylesheet. Shapes
//! carry presentation attributes for the plain look, so a viewer that drops `<style>` still draws
//! the process; the embedded stylesheet (scoped to `.yw-diagram`, because an inline SVG's
//! `<style>` applies to the whole page) only colours the marked elements. Every element is a
//! `<g data-element-id>` with a `<title>` naming it, for tooltips and assistive technology.
//!
//! Elements the drawing does not know are drawn as plain boxes; DI entries that refer to no
//! element are left out, as bpmn.io does. Only malformed input is an error ([`DiagramError`]).

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};

use roxmltree::{Document, Node as XNode};

use crate::parse::BPMN_NS;

const BPMNDI_NS: &str = "http://www.omg.org/spec/BPMN/20100524/DI";
const DC_NS: &str = "http://www.omg.org/spec/DD/20100524/DC";
const DI_NS: &str = "http://www.omg.org/spec/DD/20100524/DI";

/// Space left around the drawing inside the view box.
const MARGIN: f64 = 30.0;
/// Font size of names inside shapes (bpmn.io: 12px).
const FONT: f64 = 12.0;
/// Font size of external labels of events, gateways, data and flows (bpmn.io: 11px).
const LABEL_FONT: f64 = 11.0;
/// Width external labels wrap at when the file gives none (bpmn.io's default).
const LABEL_WIDTH: f64 = 90.0;
/// Line height as a multiple of the font size.
const LINE: f64 = 1.2;
/// Plain stroke and text colour (bpmn.io's near-black).
const INK: &str = "#22242a";
const FONT_FAMILY: &str = r#"Arial, "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif"#;

/// Why a file cannot be drawn.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DiagramError {
    /// Not well-formed XML.
    #[error("不是合法的 XML / not well-formed XML: {0}")]
    Xml(String),
    /// The root is not `bpmn:definitions`.
    #[error("不是 BPMN 文件 / not a BPMN file (the root is not bpmn:definitions)")]
    NotBpmn,
    /// No `bpmndi:BPMNDiagram`, or one with nothing drawable in it.
    #[error("文件没有图形信息（BPMN DI） / the file has no diagram information (BPMN DI)")]
    NoDiagram,
    /// A shape or edge whose geometry cannot be read, named by its DI id.
    #[error("图形信息有误（{element}）：{reason} / bad diagram information at {element}")]
    BadDi {
        /// The `id` of the `BPMNShape`/`BPMNEdge` (or its `bpmnElement` when it has no id).
        element: String,
        /// What is wrong, in Chinese and English.
        reason: String,
    },
}

/// Element ids to mark in the drawing. An id may be in several sets (an overdue active task);
/// colours then follow overdue, then active, then completed. Ids not in the diagram are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    /// Elements already passed: completed tasks, taken flows, reached events.
    pub completed: HashSet<String>,
    /// Elements where the case is now (open work items, waiting events).
    pub active: HashSet<String>,
    /// Elements past their time limit.
    pub overdue: HashSet<String>,
}

impl Marks {
    /// Whether nothing is marked.
    pub fn is_empty(&self) -> bool {
        self.completed.is_empty() && self.active.is_empty() && self.overdue.is_empty()
    }

    fn set(&self, state: State) -> &HashSet<String> {
        match state {
            State::Completed => &self.completed,
            State::Active => &self.active,
            State::Overdue => &self.overdue,
        }
    }

    /// The states of `id`, in palette order.
    fn of(&self, id: &str) -> Vec<&'static Style> {
        PALETTE
            .iter()
            .filter(|s| self.set(s.state).contains(id))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Completed,
    Active,
    Overdue,
}

/// How one state looks. Text colours meet WCAG AA (4.5:1) on white and on the state's fill;
/// stroke colours meet the 3:1 asked of graphics (see the unit tests).
struct Style {
    state: State,
    class: &'static str,
    label: &'static str,
    stroke: &'static str,
    fill: &'static str,
    text: &'static str,
}

/// In order of precedence, lowest first: a later state's colours win.
const PALETTE: [Style; 3] = [
    Style {
        state: State::Completed,
        class: "completed",
        label: "已办结 / completed",
        stroke: "#2e7d32",
        fill: "#e8f5e9",
        text: "#1b5e20",
    },
    Style {
        state: State::Active,
        class: "active",
        label: "办理中 / active",
        stroke: "#1565c0",
        fill: "#e3f2fd",
        text: "#0d47a1",
    },
    Style {
        state: State::Overdue,
        class: "overdue",
        label: "已超期 / overdue",
        stroke: "#c62828",
        fill: "#ffebee",
        text: "#b71c1c",
    },
];

/// Draw the process of a BPMN file from its diagram interchange as a standalone SVG document.
pub fn render(xml: &str, marks: &Marks) -> Result<String, DiagramError> {
    let doc = Document::parse(xml).map_err(|e| DiagramError::Xml(e.to_string()))?;
    let root = doc.root_element();
    if !is(root, BPMN_NS, "definitions") {
        return Err(DiagramError::NotBpmn);
    }
    let elements: HashMap<&str, XNode> = root
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().namespace() == Some(BPMN_NS))
        .filter_map(|n| Some((n.attribute("id")?, n)))
        .collect();
    let plane = main_plane(root, &elements).ok_or(DiagramError::NoDiagram)?;
    let diagram = read_plane(plane, &elements)?;
    if diagram.shapes.is_empty() && diagram.edges.is_empty() {
        return Err(DiagramError::NoDiagram);
    }
    let title = diagram_title(plane, &elements);
    Ok(Canvas::new(marks).draw(&diagram, &title, root))
}

// ---------------------------------------------------------------------------------------------
// Reading the file

fn is(n: XNode, ns: &str, local: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(ns) && n.tag_name().name() == local
}

/// The plane of the process or collaboration. Modelers save one more diagram per collapsed
/// sub-process (its drill-down); those are not the overview.
fn main_plane<'a, 'i>(
    root: XNode<'a, 'i>,
    elements: &HashMap<&str, XNode<'a, 'i>>,
) -> Option<XNode<'a, 'i>> {
    let planes: Vec<XNode> = root
        .children()
        .filter(|d| is(*d, BPMNDI_NS, "BPMNDiagram"))
        .filter_map(|d| d.children().find(|p| is(*p, BPMNDI_NS, "BPMNPlane")))
        .collect();
    planes
        .iter()
        .find(|p| {
            p.attribute("bpmnElement")
                .and_then(|id| elements.get(id))
                .is_some_and(|e| matches!(e.tag_name().name(), "process" | "collaboration"))
        })
        .or_else(|| planes.first())
        .copied()
}

/// The accessible name: the process name (or id), through a collaboration's first pool.
fn diagram_title(plane: XNode, elements: &HashMap<&str, XNode>) -> String {
    let named = |e: &XNode| {
        e.attribute("name")
            .filter(|n| !n.trim().is_empty())
            .or_else(|| e.attribute("id"))
            .map(str::to_owned)
    };
    let Some(top) = plane
        .attribute("bpmnElement")
        .and_then(|id| elements.get(id))
    else {
        return "BPMN 流程图 / BPMN diagram".to_owned();
    };
    if top.tag_name().name() == "collaboration" {
        let pool = top.children().find(|c| is(*c, BPMN_NS, "participant"));
        let process = pool
            .and_then(|p| p.attribute("processRef"))
            .and_then(|id| elements.get(id));
        let process_name = process
            .and_then(|p| p.attribute("name"))
            .filter(|n| !n.trim().is_empty());
        if let Some(n) = process_name.or_else(|| pool.and_then(|p| p.attribute("name"))) {
            return n.to_owned();
        }
    }
    named(top).unwrap_or_else(|| "BPMN 流程图 / BPMN diagram".to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn cx(&self) -> f64 {
        self.x + self.w / 2.0
    }
    fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }
    fn right(&self) -> f64 {
        self.x + self.w
    }
    fn bottom(&self) -> f64 {
        self.y + self.h
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskType {
    Plain,
    User,
    Service,
    Script,
    Send,
    Receive,
    Manual,
    BusinessRule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GatewayType {
    Exclusive,
    Parallel,
    Inclusive,
    EventBased,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    StartEvent,
    EndEvent,
    CatchEvent,
    ThrowEvent,
    BoundaryEvent,
    Task(TaskType),
    CallActivity,
    SubProcess,
    Transaction,
    AdHocSubProcess,
    Gateway(GatewayType),
    Participant,
    Lane,
    DataObject,
    DataStore,
    TextAnnotation,
    Group,
    Other,
}

impl Kind {
    fn of(local: &str) -> Kind {
        match local {
            "startEvent" => Kind::StartEvent,
            "endEvent" => Kind::EndEvent,
            "intermediateCatchEvent" => Kind::CatchEvent,
            "intermediateThrowEvent" => Kind::ThrowEvent,
            "boundaryEvent" => Kind::BoundaryEvent,
            "task" => Kind::Task(TaskType::Plain),
            "userTask" => Kind::Task(TaskType::User),
            "serviceTask" => Kind::Task(TaskType::Service),
            "scriptTask" => Kind::Task(TaskType::Script),
            "sendTask" => Kind::Task(TaskType::Send),
            "receiveTask" => Kind::Task(TaskType::Receive),
            "manualTask" => Kind::Task(TaskType::Manual),
            "businessRuleTask" => Kind::Task(TaskType::BusinessRule),
            "callActivity" => Kind::CallActivity,
            "subProcess" => Kind::SubProcess,
            "transaction" => Kind::Transaction,
            "adHocSubProcess" => Kind::AdHocSubProcess,
            "exclusiveGateway" => Kind::Gateway(GatewayType::Exclusive),
            "parallelGateway" => Kind::Gateway(GatewayType::Parallel),
            "inclusiveGateway" => Kind::Gateway(GatewayType::Inclusive),
            "eventBasedGateway" => Kind::Gateway(GatewayType::EventBased),
            "complexGateway" => Kind::Gateway(GatewayType::Complex),
            "participant" => Kind::Participant,
            "lane" => Kind::Lane,
            "dataObjectReference" | "dataObject" | "dataInput" | "dataOutput" => Kind::DataObject,
            "dataStoreReference" => Kind::DataStore,
            "textAnnotation" => Kind::TextAnnotation,
            "group" => Kind::Group,
            _ => Kind::Other,
        }
    }

    /// CSS class and the Chinese name used when the element has none.
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            Kind::StartEvent => ("start-event", "开始事件"),
            Kind::EndEvent => ("end-event", "结束事件"),
            Kind::CatchEvent => ("intermediate-catch-event", "中间捕获事件"),
            Kind::ThrowEvent => ("intermediate-throw-event", "中间抛出事件"),
            Kind::BoundaryEvent => ("boundary-event", "边界事件"),
            Kind::Task(TaskType::Plain) => ("task", "任务"),
            Kind::Task(TaskType::User) => ("user-task", "用户任务"),
            Kind::Task(TaskType::Service) => ("service-task", "服务任务"),
            Kind::Task(TaskType::Script) => ("script-task", "脚本任务"),
            Kind::Task(TaskType::Send) => ("send-task", "发送任务"),
            Kind::Task(TaskType::Receive) => ("receive-task", "接收任务"),
            Kind::Task(TaskType::Manual) => ("manual-task", "手工任务"),
            Kind::Task(TaskType::BusinessRule) => ("business-rule-task", "业务规则任务"),
            Kind::CallActivity => ("call-activity", "调用活动"),
            Kind::SubProcess => ("sub-process", "子流程"),
            Kind::Transaction => ("transaction", "事务子流程"),
            Kind::AdHocSubProcess => ("ad-hoc-sub-process", "自由子流程"),
            Kind::Gateway(GatewayType::Exclusive) => ("exclusive-gateway", "排他网关"),
            Kind::Gateway(GatewayType::Parallel) => ("parallel-gateway", "并行网关"),
            Kind::Gateway(GatewayType::Inclusive) => ("inclusive-gateway", "包容网关"),
            Kind::Gateway(GatewayType::EventBased) => ("event-based-gateway", "事件网关"),
            Kind::Gateway(GatewayType::Complex) => ("complex-gateway", "复杂网关"),
            Kind::Participant => ("participant", "泳池"),
            Kind::Lane => ("lane", "泳道"),
            Kind::DataObject => ("data-object", "数据对象"),
            Kind::DataStore => ("data-store", "数据存储"),
            Kind::TextAnnotation => ("text-annotation", "注释"),
            Kind::Group => ("group", "分组"),
            Kind::Other => ("other", "元素"),
        }
    }

    fn is_event(self) -> bool {
        matches!(
            self,
            Kind::StartEvent
                | Kind::EndEvent
                | Kind::CatchEvent
                | Kind::ThrowEvent
                | Kind::BoundaryEvent
        )
    }

    fn is_sub_process(self) -> bool {
        matches!(
            self,
            Kind::SubProcess | Kind::Transaction | Kind::AdHocSubProcess
        )
    }

    fn is_activity(self) -> bool {
        matches!(self, Kind::Task(_) | Kind::CallActivity) || self.is_sub_process()
    }

    /// Whether the name is drawn under the shape rather than inside it.
    fn external_label(self) -> bool {
        self.is_event() || matches!(self, Kind::Gateway(_) | Kind::DataObject | Kind::DataStore)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EdgeKind {
    Sequence,
    Message,
    Association,
    Data,
    Other,
}

impl EdgeKind {
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            EdgeKind::Sequence => ("sequence-flow", "顺序流"),
            EdgeKind::Message => ("message-flow", "消息流"),
            EdgeKind::Association => ("association", "关联"),
            EdgeKind::Data => ("data-association", "数据关联"),
            EdgeKind::Other => ("other", "连线"),
        }
    }
}

struct Shape<'a, 'i> {
    id: &'a str,
    el: XNode<'a, 'i>,
    kind: Kind,
    bounds: Rect,
    expanded: bool,
    marker_visible: bool,
    label: Option<Rect>,
}

struct Edge<'a, 'i> {
    id: &'a str,
    el: XNode<'a, 'i>,
    kind: EdgeKind,
    points: Vec<(f64, f64)>,
    label: Option<Rect>,
    /// The source gateway or activity names this flow as its default.
    default: bool,
    /// A conditional flow leaving an activity (drawn with a small diamond).
    conditional: bool,
}

struct Diagram<'a, 'i> {
    shapes: Vec<Shape<'a, 'i>>,
    edges: Vec<Edge<'a, 'i>>,
}

fn bad(element: &str, zh: &str, en: &str) -> DiagramError {
    DiagramError::BadDi {
        element: element.to_owned(),
        reason: format!("{zh} / {en}"),
    }
}

fn number(n: XNode, attr: &str, di: &str) -> Result<f64, DiagramError> {
    n.attribute(attr)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            bad(
                di,
                &format!("{} 的 {attr} 缺失或不是数字", n.tag_name().name()),
                &format!("{} {attr} is missing or not a number", n.tag_name().name()),
            )
        })
}

fn bounds_of(n: XNode, di: &str) -> Result<Rect, DiagramError> {
    let r = Rect {
        x: number(n, "x", di)?,
        y: number(n, "y", di)?,
        w: number(n, "width", di)?,
        h: number(n, "height", di)?,
    };
    if r.w < 0.0 || r.h < 0.0 {
        return Err(bad(di, "宽度或高度为负", "negative width or height"));
    }
    Ok(r)
}

/// The `dc:Bounds` of a `BPMNLabel`, if the modeler saved one (a broken one is ignored: the
/// label is then placed as if none was given).
fn label_of(n: XNode, di: &str) -> Option<Rect> {
    let label = n.children().find(|c| is(*c, BPMNDI_NS, "BPMNLabel"))?;
    let b = label.children().find(|c| is(*c, DC_NS, "Bounds"))?;
    bounds_of(b, di).ok()
}

fn read_plane<'a, 'i>(
    plane: XNode<'a, 'i>,
    elements: &HashMap<&str, XNode<'a, 'i>>,
) -> Result<Diagram<'a, 'i>, DiagramError> {
    let drawn: HashSet<&str> = plane
        .children()
        .filter_map(|c| c.attribute("bpmnElement"))
        .collect();
    let mut shapes = Vec::new();
    let mut edges = Vec::new();
    for di in plane.children().filter(XNode::is_element) {
        let Some(id) = di.attribute("bpmnElement") else {
            continue;
        };
        // A DI entry for an element the file does not have is skipped, as bpmn.io does.
        let Some(&el) = elements.get(id) else {
            continue;
        };
        let di_id = di.attribute("id").unwrap_or(id);
        if is(di, BPMNDI_NS, "BPMNShape") {
            let b = di
                .children()
                .find(|c| is(*c, DC_NS, "Bounds"))
                .ok_or_else(|| bad(di_id, "没有 dc:Bounds", "no dc:Bounds"))?;
            let kind = Kind::of(el.tag_name().name());
            // Without isExpanded, a sub-process is expanded when its children are drawn here.
            let expanded = match di.attribute("isExpanded") {
                Some(v) => v == "true",
                None => el
                    .children()
                    .filter_map(|c| c.attribute("id"))
                    .any(|c| drawn.contains(c)),
            };
            shapes.push(Shape {
                id,
                el,
                kind,
                bounds: bounds_of(b, di_id)?,
                expanded,
                marker_visible: di.attribute("isMarkerVisible") != Some("false"),
                label: label_of(di, di_id),
            });
        } else if is(di, BPMNDI_NS, "BPMNEdge") {
            let points = di
                .children()
                .filter(|c| is(*c, DI_NS, "waypoint"))
                .map(|w| Ok((number(w, "x", di_id)?, number(w, "y", di_id)?)))
                .collect::<Result<Vec<_>, DiagramError>>()?;
            if points.len() < 2 {
                return Err(bad(
                    di_id,
                    "连线少于两个点",
                    "an edge needs at least two waypoints",
                ));
            }
            let kind = match el.tag_name().name() {
                "sequenceFlow" => EdgeKind::Sequence,
                "messageFlow" => EdgeKind::Message,
                "association" => EdgeKind::Association,
                "dataInputAssociation" | "dataOutputAssociation" => EdgeKind::Data,
                _ => EdgeKind::Other,
            };
            let source = el
                .attribute("sourceRef")
                .and_then(|s| elements.get(s))
                .copied();
            let default = kind == EdgeKind::Sequence
                && source.is_some_and(|s| s.attribute("default") == Some(id));
            let conditional = kind == EdgeKind::Sequence
                && !default
                && el.children().any(|c| is(c, BPMN_NS, "conditionExpression"))
                && source.is_some_and(|s| Kind::of(s.tag_name().name()).is_activity());
            edges.push(Edge {
                id,
                el,
                kind,
                points,
                label: label_of(di, di_id),
                default,
                conditional,
            });
        }
    }
    Ok(Diagram { shapes, edges })
}

/// The name to show: `name`, a text annotation's `text`, a group's category value.
fn name_of<'a>(el: XNode<'a, '_>, root: XNode<'a, '_>) -> Option<&'a str> {
    let name = match el.tag_name().name() {
        "textAnnotation" => el
            .children()
            .find(|c| is(*c, BPMN_NS, "text"))
            .and_then(|t| t.text()),
        "group" => el.attribute("categoryValueRef").and_then(|r| {
            root.descendants()
                .find(|c| is(*c, BPMN_NS, "categoryValue") && c.attribute("id") == Some(r))
                .and_then(|c| c.attribute("value"))
        }),
        _ => el.attribute("name"),
    };
    name.filter(|n| !n.trim().is_empty())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Glyph {
    None,
    Timer,
    Message,
    Terminate,
    Signal,
    Error,
    Escalation,
    Conditional,
    Link,
    Compensate,
    Cancel,
    Multiple,
}

fn glyph_of(el: XNode) -> Glyph {
    let defs: Vec<&str> = el
        .children()
        .filter(|c| c.is_element() && c.tag_name().namespace() == Some(BPMN_NS))
        .map(|c| c.tag_name().name())
        .filter(|n| n.ends_with("EventDefinition"))
        .collect();
    if defs.len() > 1 {
        return Glyph::Multiple;
    }
    match defs.first().copied() {
        Some("timerEventDefinition") => Glyph::Timer,
        Some("messageEventDefinition") => Glyph::Message,
        Some("terminateEventDefinition") => Glyph::Terminate,
        Some("signalEventDefinition") => Glyph::Signal,
        Some("errorEventDefinition") => Glyph::Error,
        Some("escalationEventDefinition") => Glyph::Escalation,
        Some("conditionalEventDefinition") => Glyph::Conditional,
        Some("linkEventDefinition") => Glyph::Link,
        Some("compensateEventDefinition") => Glyph::Compensate,
        Some("cancelEventDefinition") => Glyph::Cancel,
        _ => Glyph::None,
    }
}

// ---------------------------------------------------------------------------------------------
// Writing the SVG

/// A number as SVG wants it: at most two decimals, no `-0`.
struct N(f64);

impl fmt::Display for N {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = (self.0 * 100.0).round() / 100.0;
        let v = if v == 0.0 { 0.0 } else { v };
        write!(f, "{v}")
    }
}

/// Text escaped for XML content and attribute values; characters XML 1.0 cannot hold are dropped.
struct Esc<'a>(&'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                '\n' => f.write_str("&#10;")?,
                '\r' => f.write_str("&#13;")?,
                '\t' => f.write_str("&#9;")?,
                '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}' => {
                    f.write_char(c)?
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// East Asian wide characters, drawn one em wide.
fn is_wide(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{115F}'
        | '\u{2E80}'..='\u{A4CF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF00}'..='\u{FF60}'
        | '\u{FFE0}'..='\u{FFE6}'
        | '\u{20000}'..='\u{3FFFD}')
}

/// Estimated advance of a character in Arial, in ems.
fn advance(c: char) -> f64 {
    match c {
        _ if is_wide(c) => 1.0,
        ' ' => 0.28,
        'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '!' | '|' => 0.25,
        'f' | 't' | 'r' | 'I' | '(' | ')' | '[' | ']' | '-' => 0.35,
        'm' | 'w' | 'M' | 'W' => 0.85,
        'A'..='Z' => 0.68,
        _ => 0.56,
    }
}

fn text_width(s: &str, font: f64) -> f64 {
    s.chars().map(advance).sum::<f64>() * font
}

/// Closing punctuation that must not begin a line (a small part of the Chinese line-breaking rules).
fn no_line_start(c: char) -> bool {
    "，。、；：！？）】》」』”’,.;:!?)]".contains(c)
}

/// Break text into lines no wider than `max`: at spaces between Latin words, between any two
/// Chinese characters, and inside a word only when it alone is too wide. Explicit newlines
/// (modelers allow them in names) are kept.
fn wrap(text: &str, max: f64, font: f64) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.lines() {
        // Units that stay together: a Latin word, one wide character, or a run of spaces.
        let mut units: Vec<String> = Vec::new();
        for c in para.chars() {
            let joins = units
                .last()
                .and_then(|u| u.chars().last())
                .is_some_and(|p| !is_wide(c) && !is_wide(p) && (c == ' ') == (p == ' '));
            match units.last_mut() {
                Some(u) if joins => u.push(c),
                _ => units.push(c.to_string()),
            }
        }
        let mut line = String::new();
        for unit in units {
            let blank = unit.starts_with(' ');
            if line.is_empty() && blank {
                continue;
            }
            let fits = text_width(&line, font) + text_width(&unit, font) <= max;
            let glued = unit.chars().next().is_some_and(no_line_start);
            if fits || line.is_empty() || glued {
                if !fits && line.is_empty() {
                    // One word wider than the line: split it where it overflows.
                    for c in unit.chars() {
                        if !line.is_empty() && text_width(&line, font) + advance(c) * font > max {
                            lines.push(std::mem::take(&mut line));
                        }
                        line.push(c);
                    }
                } else {
                    line.push_str(&unit);
                }
            } else {
                lines.push(line.trim_end().to_owned());
                line = if blank { String::new() } else { unit };
            }
        }
        let line = line.trim_end();
        if !line.is_empty() {
            lines.push(line.to_owned());
        }
    }
    lines
}

/// [`wrap`] with lines of even length: the narrowest width that needs no more lines than `max`
/// does ("市场监管 / 部门审查" rather than "市场监管部门审 / 查").
fn balanced(text: &str, max: f64, font: f64) -> Vec<String> {
    let greedy = wrap(text, max, font);
    if greedy.len() < 2 {
        return greedy;
    }
    let (mut lo, mut hi) = (font, max);
    for _ in 0..12 {
        let mid = (lo + hi) / 2.0;
        if wrap(text, mid, font).len() <= greedy.len() {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    wrap(text, hi, font)
}

/// The smallest box around everything drawn.
#[derive(Default)]
struct Extent {
    min: Option<(f64, f64)>,
    max: (f64, f64),
}

impl Extent {
    fn point(&mut self, x: f64, y: f64) {
        match self.min {
            None => {
                self.min = Some((x, y));
                self.max = (x, y);
            }
            Some((mx, my)) => {
                self.min = Some((mx.min(x), my.min(y)));
                self.max = (self.max.0.max(x), self.max.1.max(y));
            }
        }
    }
    fn rect(&mut self, r: Rect) {
        self.point(r.x, r.y);
        self.point(r.right(), r.bottom());
    }
    fn bounds(&self) -> Rect {
        let (x, y) = self.min.unwrap_or((0.0, 0.0));
        Rect {
            x,
            y,
            w: self.max.0 - x,
            h: self.max.1 - y,
        }
    }
}

/// How text is placed in its box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    /// Centred both ways (names inside tasks).
    Middle,
    /// Centred across, from the top (external labels, expanded sub-processes).
    Top,
    /// From the top left (text annotations).
    TopLeft,
}

/// Lines of text placed in a box.
struct TextBox<'s> {
    text: &'s str,
    area: Rect,
    font: f64,
    align: Align,
    /// Rotate a quarter turn anticlockwise about the box centre (pool and lane names).
    vertical: bool,
}

/// Marker ids: one per connection end and colour.
const MARKERS: [&str; 7] = [
    "seq-end",
    "seq-default",
    "seq-conditional",
    "msg-start",
    "msg-end",
    "assoc-end",
    "data-end",
];

struct Canvas<'m> {
    marks: &'m Marks,
    out: String,
    ext: Extent,
    ids: HashSet<String>,
}

impl<'m> Canvas<'m> {
    fn new(marks: &'m Marks) -> Self {
        Canvas {
            marks,
            out: String::new(),
            ext: Extent::default(),
            ids: HashSet::new(),
        }
    }

    fn put(&mut self, args: fmt::Arguments) {
        // Writing into a String cannot fail.
        let _ = self.out.write_fmt(args);
    }

    /// The whole document; `root` is the file's `bpmn:definitions` (where names are looked up).
    fn draw(mut self, d: &Diagram, title: &str, root: XNode) -> String {
        for s in &d.shapes {
            self.ext.rect(s.bounds);
        }
        for e in &d.edges {
            for &(x, y) in &e.points {
                self.ext.point(x, y);
            }
        }
        // States that mark something drawn: only they get styles, markers and a legend entry.
        let ids: HashSet<&str> = d
            .shapes
            .iter()
            .map(|s| s.id)
            .chain(d.edges.iter().map(|e| e.id))
            .collect();
        let used: Vec<&Style> = PALETTE
            .iter()
            .filter(|s| {
                self.marks
                    .set(s.state)
                    .iter()
                    .any(|id| ids.contains(id.as_str()))
            })
            .collect();

        // Bottom to top: pools and lanes, expanded sub-processes, connections, other shapes,
        // boundary events (on their activity's border), groups.
        let layer = |s: &Shape| match s.kind {
            Kind::Participant => 0,
            Kind::Lane => 1,
            k if k.is_sub_process() && s.expanded => 2,
            Kind::BoundaryEvent => 5,
            Kind::Group => 6,
            _ => 4,
        };
        for l in 0..=2 {
            for s in d.shapes.iter().filter(|s| layer(s) == l) {
                self.shape(s, root);
            }
        }
        for e in &d.edges {
            self.edge(e, root);
        }
        for l in 4..=6 {
            for s in d.shapes.iter().filter(|s| layer(s) == l) {
                self.shape(s, root);
            }
        }
        let body = std::mem::take(&mut self.out);
        let drawn = self.ext.bounds();
        if !used.is_empty() {
            self.legend(&used, drawn);
        }
        let legend = std::mem::take(&mut self.out);
        let all = self.ext.bounds();
        let view = Rect {
            x: all.x - MARGIN,
            y: all.y - MARGIN,
            w: all.w + 2.0 * MARGIN,
            h: all.h + 2.0 * MARGIN,
        };

        self.put(format_args!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"yw-diagram\" role=\"img\" aria-label=\"{}\"",
            Esc(title)
        ));
        let summary = self.summary(d, root);
        if !summary.is_empty() {
            self.put(format_args!(" aria-describedby=\"yw-desc\""));
        }
        self.put(format_args!(
            " viewBox=\"{} {} {} {}\" width=\"{}\" height=\"{}\" font-family=\"{}\">\n<title>{}</title>\n",
            N(view.x),
            N(view.y),
            N(view.w),
            N(view.h),
            N(view.w),
            N(view.h),
            Esc(FONT_FAMILY),
            Esc(title)
        ));
        if !summary.is_empty() {
            self.put(format_args!(
                "<desc id=\"yw-desc\">{}</desc>\n",
                Esc(&summary)
            ));
        }
        self.style(&used);
        self.defs(&used);
        self.out.push_str(&body);
        self.out.push_str(&legend);
        self.out.push_str("</svg>\n");
        self.out
    }

    /// A sentence naming the marked elements, for screen readers (the picture is one image to them).
    fn summary(&self, d: &Diagram, root: XNode) -> String {
        let mut parts = Vec::new();
        for style in &PALETTE {
            let set = self.marks.set(style.state);
            let mut names: Vec<String> = Vec::new();
            let mut seen = HashSet::new();
            // Shapes only: the flows between them add length, not meaning.
            for (id, el, kind) in d.shapes.iter().map(|s| (s.id, s.el, s.kind.describe().1)) {
                if set.contains(id) && seen.insert(id) {
                    let name = name_of(el, root).unwrap_or(kind);
                    names.push(format!("{name} ({id})"));
                }
            }
            if !names.is_empty() {
                parts.push(format!("{}：{}", style.label, names.join("、")));
            }
        }
        parts.join("；")
    }

    fn style(&mut self, used: &[&Style]) {
        self.out.push_str("<style>\n");
        self.put(format_args!(".yw-diagram text{{fill:{INK}}}\n"));
        for s in used {
            let c = s.class;
            self.put(format_args!(
                ".yw-diagram .{c} .shape{{stroke:{};fill:{}}}\n\
                 .yw-diagram .{c} .line,.yw-diagram .{c} .icon{{stroke:{}}}\n\
                 .yw-diagram .{c} .icon-fill{{fill:{};stroke:{}}}\n\
                 .yw-diagram .{c} .icon-inv{{stroke:{}}}\n\
                 .yw-diagram .{c} text{{fill:{}}}\n",
                s.stroke, s.fill, s.stroke, s.stroke, s.stroke, s.fill, s.text
            ));
            if s.state == State::Active {
                self.out.push_str(
                    ".yw-diagram .active .shape{stroke-width:4px}\n\
                     .yw-diagram .active .shape.inner{stroke-width:1.5px}\n\
                     .yw-diagram .active.end-event .shape{stroke-width:5px}\n\
                     .yw-diagram .active .line{stroke-width:3px}\n\
                     .yw-diagram .active text{font-weight:bold}\n",
                );
            }
        }
        self.out.push_str("</style>\n");
    }

    fn defs(&mut self, used: &[&Style]) {
        self.out.push_str("<defs>\n");
        let mut colours = vec![("", INK)];
        colours.extend(used.iter().map(|s| (s.class, s.stroke)));
        for (suffix, c) in colours {
            let sep = if suffix.is_empty() { "" } else { "-" };
            for m in MARKERS {
                let (view, rx, ry, size, body) = match m {
                    "seq-end" => (
                        20,
                        11,
                        10,
                        10,
                        format!(
                            "<path d=\"M 1 5 L 11 10 L 1 15 Z\" fill=\"{c}\" stroke=\"{c}\" stroke-width=\"1\" stroke-linejoin=\"round\"/>"
                        ),
                    ),
                    "seq-default" => (
                        20,
                        0,
                        10,
                        10,
                        format!("<path d=\"M 6 4 L 10 16\" stroke=\"{c}\" stroke-width=\"2\"/>"),
                    ),
                    "seq-conditional" => (
                        20,
                        -1,
                        10,
                        20,
                        format!(
                            "<path d=\"M 0 10 L 8 6 L 16 10 L 8 14 Z\" fill=\"#fff\" stroke=\"{c}\"/>"
                        ),
                    ),
                    "msg-start" => (
                        20,
                        6,
                        6,
                        20,
                        format!(
                            "<circle cx=\"6\" cy=\"6\" r=\"3.5\" fill=\"#fff\" stroke=\"{c}\"/>"
                        ),
                    ),
                    "msg-end" => (
                        20,
                        8,
                        5,
                        20,
                        format!(
                            "<path d=\"m 1 5 l 0 -3 l 7 3 l -7 3 z\" fill=\"#fff\" stroke=\"{c}\"/>"
                        ),
                    ),
                    _ => (
                        20,
                        11,
                        10,
                        10,
                        format!(
                            "<path d=\"M 1 5 L 11 10 L 1 15\" fill=\"none\" stroke=\"{c}\" stroke-width=\"1.5\"/>"
                        ),
                    ),
                };
                let id = format!("yw-{m}{sep}{suffix}");
                self.ids.insert(id.clone());
                self.put(format_args!(
                    "<marker id=\"{id}\" viewBox=\"0 0 {view} {view}\" refX=\"{rx}\" refY=\"{ry}\" markerWidth=\"{size}\" markerHeight=\"{size}\" markerUnits=\"userSpaceOnUse\" orient=\"auto\">{body}</marker>\n"
                ));
            }
        }
        self.out.push_str("</defs>\n");
    }

    /// Open an element's group: id, classes, title.
    fn open(&mut self, id: &str, classes: &str, name: &str, states: &[&Style]) {
        let mut class = classes.to_owned();
        let mut title = format!("{name} ({id})");
        for s in states {
            class.push(' ');
            class.push_str(s.class);
        }
        if !states.is_empty() {
            let labels: Vec<&str> = states.iter().map(|s| s.label).collect();
            title.push_str(" — ");
            title.push_str(&labels.join("，"));
        }
        self.out.push_str("<g");
        // The first drawing of an element takes its id; a repeat would make the SVG invalid.
        if self.ids.insert(id.to_owned()) {
            self.put(format_args!(" id=\"{}\"", Esc(id)));
        }
        self.put(format_args!(
            " data-element-id=\"{}\" class=\"{}\"><title>{}</title>\n",
            Esc(id),
            Esc(&class),
            Esc(&title)
        ));
    }

    fn shape(&mut self, s: &Shape, root: XNode) {
        let states = self.marks.of(s.id);
        let (class, kind_name) = s.kind.describe();
        let name = name_of(s.el, root);
        let mut classes = format!("node {class}");
        if s.kind.is_sub_process() {
            classes.push_str(if s.expanded {
                " expanded"
            } else {
                " collapsed"
            });
        }
        self.open(s.id, &classes, name.unwrap_or(kind_name), &states);
        let b = s.bounds;
        match s.kind {
            k if k.is_event() => self.event(s),
            Kind::Gateway(g) => self.gateway(g, b, s.marker_visible),
            Kind::Task(_)
            | Kind::CallActivity
            | Kind::SubProcess
            | Kind::Transaction
            | Kind::AdHocSubProcess => self.activity(s),
            Kind::Participant | Kind::Lane => {
                self.put(format_args!(
                    "<rect class=\"shape\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"{INK}\" stroke-width=\"1.5\"/>\n",
                    N(b.x),
                    N(b.y),
                    N(b.w),
                    N(b.h),
                    if s.kind == Kind::Lane { "none" } else { "#fff" }
                ));
                // A pool without a process (a "black box" partner) shows its name across.
                let collapsed_pool =
                    s.kind == Kind::Participant && s.el.attribute("processRef").is_none();
                if !collapsed_pool {
                    self.put(format_args!(
                        "<path class=\"icon\" d=\"M {} {} V {}\" stroke=\"{INK}\" stroke-width=\"1.5\"/>\n",
                        N(b.x + 30.0),
                        N(b.y),
                        N(b.bottom())
                    ));
                }
                if let Some(n) = name {
                    let area = if collapsed_pool {
                        b
                    } else {
                        Rect {
                            x: b.x,
                            y: b.y,
                            w: 30.0,
                            h: b.h,
                        }
                    };
                    self.text(&TextBox {
                        text: n,
                        area,
                        font: FONT,
                        align: Align::Middle,
                        vertical: !collapsed_pool,
                    });
                }
            }
            Kind::DataObject => {
                let fold = 10.0_f64.min(b.w / 2.0);
                self.put(format_args!(
                    "<path class=\"shape\" d=\"M {x} {y} H {} L {r} {} V {bt} H {x} Z\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"2\"/>\n\
                     <path class=\"icon\" d=\"M {} {y} V {} H {r}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"2\"/>\n",
                    N(b.right() - fold),
                    N(b.y + fold),
                    N(b.right() - fold),
                    N(b.y + fold),
                    x = N(b.x),
                    y = N(b.y),
                    r = N(b.right()),
                    bt = N(b.bottom()),
                ));
            }
            Kind::DataStore => {
                let e = (b.h * 0.12).min(10.0);
                self.put(format_args!(
                    "<path class=\"shape\" d=\"M {x} {t} A {rx} {e} 0 0 1 {r} {t} V {bb} A {rx} {e} 0 0 1 {x} {bb} Z\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"2\"/>\n\
                     <path class=\"icon\" d=\"M {x} {t} A {rx} {e} 0 0 0 {r} {t} M {x} {t2} A {rx} {e} 0 0 0 {r} {t2} M {x} {t3} A {rx} {e} 0 0 0 {r} {t3}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"2\"/>\n",
                    x = N(b.x),
                    r = N(b.right()),
                    t = N(b.y + e),
                    t2 = N(b.y + 2.0 * e),
                    t3 = N(b.y + 3.0 * e),
                    bb = N(b.bottom() - e),
                    rx = N(b.w / 2.0),
                    e = N(e),
                ));
            }
            Kind::TextAnnotation => {
                self.put(format_args!(
                    "<path class=\"icon\" d=\"M {} {} H {} V {} H {}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\"/>\n",
                    N(b.x + 10.0),
                    N(b.y),
                    N(b.x),
                    N(b.bottom()),
                    N(b.x + 10.0)
                ));
                if let Some(n) = name {
                    self.text(&TextBox {
                        text: n,
                        area: Rect {
                            x: b.x + 5.0,
                            y: b.y + 5.0,
                            w: b.w - 10.0,
                            h: b.h - 10.0,
                        },
                        font: FONT,
                        align: Align::TopLeft,
                        vertical: false,
                    });
                }
            }
            Kind::Group => {
                self.put(format_args!(
                    "<rect class=\"shape\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"10\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\" stroke-dasharray=\"10 6 0.5 6\"/>\n",
                    N(b.x), N(b.y), N(b.w), N(b.h)
                ));
                if let Some(n) = name {
                    self.text(&TextBox {
                        text: n,
                        area: Rect {
                            x: b.x,
                            y: b.y + 5.0,
                            w: b.w,
                            h: b.h,
                        },
                        font: LABEL_FONT,
                        align: Align::Top,
                        vertical: false,
                    });
                }
            }
            _ => {
                self.put(format_args!(
                    "<rect class=\"shape\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n",
                    N(b.x), N(b.y), N(b.w), N(b.h)
                ));
                if let Some(n) = name {
                    self.text(&TextBox {
                        text: n,
                        area: b,
                        font: FONT,
                        align: Align::Middle,
                        vertical: false,
                    });
                }
            }
        }
        if s.kind.external_label()
            && let Some(n) = name
        {
            self.external_label(n, s.label, b);
        }
        self.badges(s.kind, b, &states);
        self.out.push_str("</g>\n");
    }

    /// A name drawn under its shape, in the modeler's label box when there is one.
    fn external_label(&mut self, text: &str, label: Option<Rect>, below: Rect) {
        let area = match label {
            Some(l) => Rect {
                x: l.cx() - l.w.max(LABEL_WIDTH) / 2.0,
                w: l.w.max(LABEL_WIDTH),
                ..l
            },
            None => Rect {
                x: below.cx() - LABEL_WIDTH / 2.0,
                y: below.bottom() + 7.0,
                w: LABEL_WIDTH,
                h: 0.0,
            },
        };
        self.text(&TextBox {
            text,
            area,
            font: LABEL_FONT,
            align: Align::Top,
            vertical: false,
        });
    }

    fn text(&mut self, t: &TextBox) {
        let wrap_width = if t.vertical {
            t.area.h - 10.0
        } else {
            // Names inside shapes keep bpmn.io's 5px padding; other boxes are already the text's.
            t.area.w - if t.align == Align::Middle { 10.0 } else { 0.0 }
        };
        let lines = balanced(t.text, wrap_width.max(t.font), t.font);
        if lines.is_empty() {
            return;
        }
        let lh = t.font * LINE;
        let total = lh * lines.len() as f64;
        let widest = lines
            .iter()
            .map(|l| text_width(l, t.font))
            .fold(0.0, f64::max);
        let (cx, cy) = (t.area.cx(), t.area.cy());
        let top = match t.align {
            Align::Middle => cy - total / 2.0,
            Align::Top | Align::TopLeft => t.area.y,
        };
        let (x, anchor) = match t.align {
            Align::TopLeft => (t.area.x, "start"),
            _ => (cx, "middle"),
        };
        self.put(format_args!(
            "<text font-size=\"{}\" text-anchor=\"{anchor}\"",
            N(t.font)
        ));
        if t.vertical {
            self.put(format_args!(
                " transform=\"rotate(-90 {} {})\"",
                N(cx),
                N(cy)
            ));
        } else {
            let left = if anchor == "start" {
                x
            } else {
                x - widest / 2.0
            };
            self.ext.rect(Rect {
                x: left,
                y: top,
                w: widest,
                h: total,
            });
        }
        self.out.push('>');
        for (i, line) in lines.iter().enumerate() {
            // The baseline sits about 0.95 em below the top of the line box.
            let baseline = top + lh * i as f64 + t.font * 0.95;
            self.put(format_args!(
                "<tspan x=\"{}\" y=\"{}\">{}</tspan>",
                N(x),
                N(baseline),
                Esc(line)
            ));
        }
        self.out.push_str("</text>\n");
    }

    fn event(&mut self, s: &Shape) {
        let b = s.bounds;
        let (cx, cy, r) = (b.cx(), b.cy(), b.w.min(b.h) / 2.0);
        let dashed = match s.kind {
            Kind::BoundaryEvent => s.el.attribute("cancelActivity") == Some("false"),
            Kind::StartEvent => s.el.attribute("isInterrupting") == Some("false"),
            _ => false,
        };
        let dash = if dashed {
            " stroke-dasharray=\"5.5 3\""
        } else {
            ""
        };
        let width = match s.kind {
            Kind::StartEvent => 2.0,
            Kind::EndEvent => 4.0,
            _ => 1.5,
        };
        self.put(format_args!(
            "<circle class=\"shape\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"{}\"{dash}/>\n",
            N(cx),
            N(cy),
            N(r),
            N(width)
        ));
        if matches!(
            s.kind,
            Kind::CatchEvent | Kind::ThrowEvent | Kind::BoundaryEvent
        ) {
            self.put(format_args!(
                "<circle class=\"shape inner\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\"{dash}/>\n",
                N(cx),
                N(cy),
                N((r - 3.0).max(1.0))
            ));
        }
        let throw = matches!(s.kind, Kind::EndEvent | Kind::ThrowEvent);
        self.glyph(glyph_of(s.el), cx, cy, b.w.min(b.h) / 36.0, throw);
    }

    /// An event definition's symbol, centred on (`cx`, `cy`), scaled from a 36-unit event.
    fn glyph(&mut self, g: Glyph, cx: f64, cy: f64, k: f64, throw: bool) {
        let p = |dx: f64, dy: f64| format!("{},{}", N(cx + dx * k), N(cy + dy * k));
        let poly = |pts: &[(f64, f64)]| {
            pts.iter()
                .map(|&(x, y)| p(x, y))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let (fill_class, fill) = if throw {
            ("icon-fill", INK)
        } else {
            ("icon", "none")
        };
        match g {
            Glyph::None => {}
            Glyph::Timer => {
                let mut ticks = String::new();
                for i in 0..12 {
                    let a = f64::from(i) * std::f64::consts::PI / 6.0;
                    let _ = write!(
                        ticks,
                        "M {} L {} ",
                        p(a.sin() * 8.0, -a.cos() * 8.0),
                        p(a.sin() * 10.0, -a.cos() * 10.0)
                    );
                }
                self.put(format_args!(
                    "<circle class=\"icon\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"2\"/>\n\
                     <path class=\"icon\" d=\"{ticks}M {} L {} M {} L {}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1\"/>\n",
                    N(cx), N(cy), N(11.0 * k),
                    p(0.0, 0.0), p(5.5, -3.0), p(0.0, 0.0), p(0.5, -8.0)
                ));
            }
            Glyph::Message => {
                let (x, y, w, h) = (cx - 10.0 * k, cy - 7.0 * k, 20.0 * k, 14.0 * k);
                let flap = if throw { "icon-inv" } else { "icon" };
                let flap_colour = if throw { "#fff" } else { INK };
                self.put(format_args!(
                    "<rect class=\"{fill_class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"{INK}\" stroke-width=\"1\"/>\n\
                     <path class=\"{flap}\" d=\"M {} L {} L {}\" fill=\"none\" stroke=\"{flap_colour}\" stroke-width=\"1\"/>\n",
                    N(x), N(y), N(w), N(h), if throw { INK } else { "#fff" },
                    p(-10.0, -7.0), p(0.0, 1.0), p(10.0, -7.0)
                ));
            }
            Glyph::Terminate => {
                self.put(format_args!(
                    "<circle class=\"icon-fill\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{INK}\" stroke=\"{INK}\"/>\n",
                    N(cx), N(cy), N(9.0 * k)
                ));
            }
            Glyph::Multiple => self.poly_glyph(
                &poly(&[
                    (0.0, -10.0),
                    (9.5, -3.0),
                    (6.0, 8.0),
                    (-6.0, 8.0),
                    (-9.5, -3.0),
                ]),
                fill_class,
                fill,
            ),
            Glyph::Signal => self.poly_glyph(
                &poly(&[(0.0, -10.0), (9.0, 6.0), (-9.0, 6.0)]),
                fill_class,
                fill,
            ),
            Glyph::Error => self.poly_glyph(
                &poly(&[
                    (-8.0, 10.0),
                    (-3.0, -8.0),
                    (2.0, 2.0),
                    (8.0, -10.0),
                    (3.0, 8.0),
                    (-2.0, -2.0),
                ]),
                fill_class,
                fill,
            ),
            Glyph::Escalation => self.poly_glyph(
                &poly(&[(0.0, -10.0), (7.0, 9.0), (0.0, 2.0), (-7.0, 9.0)]),
                fill_class,
                fill,
            ),
            Glyph::Link => self.poly_glyph(
                &poly(&[
                    (-9.0, -3.0),
                    (2.0, -3.0),
                    (2.0, -8.0),
                    (10.0, 0.0),
                    (2.0, 8.0),
                    (2.0, 3.0),
                    (-9.0, 3.0),
                ]),
                fill_class,
                fill,
            ),
            Glyph::Compensate => self.poly_glyph(
                &poly(&[
                    (-10.0, 0.0),
                    (-1.0, -6.0),
                    (-1.0, 0.0),
                    (8.0, -6.0),
                    (8.0, 6.0),
                    (-1.0, 0.0),
                    (-1.0, 6.0),
                ]),
                fill_class,
                fill,
            ),
            Glyph::Cancel => {
                self.put(format_args!(
                    "<path class=\"icon\" d=\"M {} L {} M {} L {}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"4\"/>\n",
                    p(-7.0, -7.0), p(7.0, 7.0), p(7.0, -7.0), p(-7.0, 7.0)
                ));
            }
            Glyph::Conditional => {
                let mut d = format!(
                    "M {} H {} V {} H {} Z",
                    p(-7.0, -9.0),
                    N(cx + 7.0 * k),
                    N(cy + 9.0 * k),
                    N(cx - 7.0 * k)
                );
                for dy in [-5.0, -1.0, 3.0, 7.0] {
                    let _ = write!(d, " M {} H {}", p(-4.5, dy - 0.5), N(cx + 4.5 * k));
                }
                self.put(format_args!(
                    "<path class=\"icon\" d=\"{d}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\"/>\n"
                ));
            }
        }
    }

    fn poly_glyph(&mut self, points: &str, class: &str, fill: &str) {
        self.put(format_args!(
            "<polygon class=\"{class}\" points=\"{points}\" fill=\"{fill}\" stroke=\"{INK}\" stroke-width=\"1.5\" stroke-linejoin=\"round\"/>\n"
        ));
    }

    fn gateway(&mut self, g: GatewayType, b: Rect, marker_visible: bool) {
        let (cx, cy) = (b.cx(), b.cy());
        let k = b.w.min(b.h) / 50.0;
        let p = |dx: f64, dy: f64| format!("{},{}", N(cx + dx * k), N(cy + dy * k));
        self.put(format_args!(
            "<polygon class=\"shape\" points=\"{},{} {},{} {},{} {},{}\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n",
            N(cx), N(b.y), N(b.right()), N(cy), N(cx), N(b.bottom()), N(b.x), N(cy)
        ));
        match g {
            GatewayType::Exclusive if marker_visible => self.put(format_args!(
                "<path class=\"icon\" d=\"M {} L {} M {} L {}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"{}\"/>\n",
                p(-7.5, -9.5), p(7.5, 9.5), p(7.5, -9.5), p(-7.5, 9.5), N(4.5 * k)
            )),
            GatewayType::Exclusive => {}
            GatewayType::Parallel => self.put(format_args!(
                "<path class=\"icon\" d=\"M {} L {} M {} L {}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"{}\"/>\n",
                p(0.0, -13.0), p(0.0, 13.0), p(-13.0, 0.0), p(13.0, 0.0), N(4.5 * k)
            )),
            GatewayType::Inclusive => self.put(format_args!(
                "<circle class=\"icon\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"{}\"/>\n",
                N(cx), N(cy), N(11.0 * k), N(2.5 * k)
            )),
            GatewayType::Complex => self.put(format_args!(
                "<path class=\"icon\" d=\"M {} L {} M {} L {} M {} L {} M {} L {}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"{}\"/>\n",
                p(0.0, -12.0), p(0.0, 12.0), p(-12.0, 0.0), p(12.0, 0.0),
                p(-8.5, -8.5), p(8.5, 8.5), p(8.5, -8.5), p(-8.5, 8.5), N(3.5 * k)
            )),
            GatewayType::EventBased => {
                let pent = [(0.0, -7.0), (6.7, -2.2), (4.1, 5.7), (-4.1, 5.7), (-6.7, -2.2)]
                    .iter()
                    .map(|&(x, y)| p(x, y))
                    .collect::<Vec<_>>()
                    .join(" ");
                self.put(format_args!(
                    "<circle class=\"icon\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1\"/>\n\
                     <circle class=\"icon\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1\"/>\n\
                     <polygon class=\"icon\" points=\"{pent}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\"/>\n",
                    N(cx), N(cy), N(13.0 * k), N(cx), N(cy), N(11.0 * k)
                ));
            }
        }
    }

    fn activity(&mut self, s: &Shape) {
        let b = s.bounds;
        let expanded = s.kind.is_sub_process() && s.expanded;
        let width = if s.kind == Kind::CallActivity {
            5.0
        } else {
            2.0
        };
        let dash = if s.el.attribute("triggeredByEvent") == Some("true") {
            " stroke-dasharray=\"2 3\""
        } else {
            ""
        };
        self.put(format_args!(
            "<rect class=\"shape\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"10\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"{}\"{dash}/>\n",
            N(b.x), N(b.y), N(b.w), N(b.h), N(width)
        ));
        if s.kind == Kind::Transaction {
            self.put(format_args!(
                "<rect class=\"shape inner\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\"/>\n",
                N(b.x + 3.0), N(b.y + 3.0), N((b.w - 6.0).max(0.0)), N((b.h - 6.0).max(0.0))
            ));
        }
        if let Kind::Task(t) = s.kind {
            self.task_icon(t, b.x, b.y);
        }
        // Markers along the bottom edge, centred: loop or multi-instance, collapsed, ad hoc.
        let mut markers: Vec<&str> = Vec::new();
        if let Some(mi) =
            s.el.children()
                .find(|c| is(*c, BPMN_NS, "multiInstanceLoopCharacteristics"))
        {
            markers.push(if mi.attribute("isSequential") == Some("true") {
                "mi-sequential"
            } else {
                "mi-parallel"
            });
        } else if s
            .el
            .children()
            .any(|c| is(c, BPMN_NS, "standardLoopCharacteristics"))
        {
            markers.push("loop");
        }
        if (s.kind.is_sub_process() || s.kind == Kind::CallActivity) && !s.expanded {
            markers.push("collapsed");
        }
        if s.kind == Kind::AdHocSubProcess {
            markers.push("ad-hoc");
        }
        let size = 14.0;
        let gap = 4.0;
        let row = markers.len() as f64 * size + (markers.len().saturating_sub(1)) as f64 * gap;
        for (i, m) in markers.iter().enumerate() {
            let mx = b.cx() - row / 2.0 + i as f64 * (size + gap);
            let my = b.bottom() - size - 5.0;
            self.activity_marker(m, mx, my, size);
        }
        let name = s.el.attribute("name").filter(|n| !n.trim().is_empty());
        if let Some(n) = name {
            if expanded {
                self.text(&TextBox {
                    text: n,
                    area: Rect {
                        x: b.x + 5.0,
                        y: b.y + 7.0,
                        w: b.w - 10.0,
                        h: 0.0,
                    },
                    font: FONT,
                    align: Align::Top,
                    vertical: false,
                });
            } else {
                // Leave room for the icon above and the markers below.
                let bottom = if markers.is_empty() { 0.0 } else { 12.0 };
                self.text(&TextBox {
                    text: n,
                    area: Rect {
                        x: b.x,
                        y: b.y + 2.0,
                        w: b.w,
                        h: b.h - 2.0 - bottom,
                    },
                    font: FONT,
                    align: Align::Middle,
                    vertical: false,
                });
            }
        }
    }

    fn activity_marker(&mut self, m: &str, x: f64, y: f64, s: f64) {
        let n = |v: f64| N(v);
        match m {
            "mi-parallel" => self.put(format_args!(
                "<path class=\"icon\" d=\"M {} {} V {} M {} {} V {} M {} {} V {}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"2\"/>\n",
                n(x + 3.0), n(y + 1.0), n(y + s - 1.0),
                n(x + s / 2.0), n(y + 1.0), n(y + s - 1.0),
                n(x + s - 3.0), n(y + 1.0), n(y + s - 1.0)
            )),
            "mi-sequential" => self.put(format_args!(
                "<path class=\"icon\" d=\"M {} {} H {} M {} {} H {} M {} {} H {}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"2\"/>\n",
                n(x + 1.0), n(y + 3.0), n(x + s - 1.0),
                n(x + 1.0), n(y + s / 2.0), n(x + s - 1.0),
                n(x + 1.0), n(y + s - 3.0), n(x + s - 1.0)
            )),
            "loop" => self.put(format_args!(
                "<path class=\"icon\" d=\"M {} {} A {} {} 0 1 1 {} {} M {} {} l 0 -4 m 0 4 l 4 0\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\"/>\n",
                n(x + s / 2.0 - 3.5), n(y + s - 2.5), n(s / 2.0 - 1.0), n(s / 2.0 - 1.0),
                n(x + s / 2.0 + 3.5), n(y + s - 2.5),
                n(x + s / 2.0 - 3.5), n(y + s - 2.5)
            )),
            "collapsed" => self.put(format_args!(
                "<rect class=\"icon\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\"/>\n\
                 <path class=\"icon\" d=\"M {} {} H {} M {} {} V {}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\"/>\n",
                n(x), n(y), n(s), n(s),
                n(x + 3.0), n(y + s / 2.0), n(x + s - 3.0),
                n(x + s / 2.0), n(y + 3.0), n(y + s - 3.0)
            )),
            _ => self.put(format_args!(
                "<path class=\"icon\" d=\"M {} {} q {} {} {} 0 t {} 0\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\"/>\n",
                n(x + 1.0), n(y + s / 2.0), n(s / 4.0), n(-s / 3.0), n(s / 2.0 - 1.0), n(s / 2.0 - 1.0)
            )),
        }
    }

    /// The small type icon in a task's top left corner.
    fn task_icon(&mut self, t: TaskType, x: f64, y: f64) {
        let n = |v: f64| N(v);
        match t {
            TaskType::Plain | TaskType::Manual => {
                if t == TaskType::Manual {
                    // A raised open hand, simplified.
                    self.put(format_args!(
                        "<path class=\"icon\" d=\"M {} {} v -7 a 1.5 1.5 0 0 1 3 0 v 5 v -7 a 1.5 1.5 0 0 1 3 0 v 7 v -6 a 1.5 1.5 0 0 1 3 0 v 7 v -4 a 1.5 1.5 0 0 1 3 0 v 6 q 0 6 -6 6 h -1 q -3 0 -5 -3 l -3 -5 a 1.5 1.5 0 0 1 2.5 -1.5 z\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1\"/>\n",
                        n(x + 10.0), n(y + 17.0)
                    ));
                }
            }
            TaskType::User => self.put(format_args!(
                "<path class=\"icon\" d=\"M {} {} c 0 -6 3 -9 8.5 -9 s 8.5 3 8.5 9 z\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"1\"/>\n\
                 <circle class=\"icon\" cx=\"{}\" cy=\"{}\" r=\"4.5\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"1\"/>\n\
                 <path class=\"icon\" d=\"M {} {} v 4 M {} {} v 4\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1\"/>\n",
                n(x + 7.0), n(y + 27.0),
                n(x + 15.5), n(y + 12.5),
                n(x + 11.0), n(y + 23.0), n(x + 20.0), n(y + 23.0)
            )),
            TaskType::Service => {
                let (cx, cy) = (x + 15.0, y + 15.0);
                let mut d = String::new();
                for i in 0..16 {
                    // Eight teeth: alternate outer and inner radius every 22.5°.
                    let a = f64::from(i) * std::f64::consts::PI / 8.0 + std::f64::consts::PI / 16.0;
                    let r = if i % 2 == 0 { 8.0 } else { 5.8 };
                    let a1 = a - std::f64::consts::PI / 16.0 * 0.55;
                    let a2 = a + std::f64::consts::PI / 16.0 * 0.55;
                    let cmd = if i == 0 { "M" } else { "L" };
                    let _ = write!(
                        d,
                        "{cmd} {} {} L {} {} ",
                        N(cx + r * a1.cos()),
                        N(cy + r * a1.sin()),
                        N(cx + r * a2.cos()),
                        N(cy + r * a2.sin())
                    );
                }
                self.put(format_args!(
                    "<path class=\"icon\" d=\"{d}Z\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"1\" stroke-linejoin=\"round\"/>\n\
                     <circle class=\"icon\" cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"1\"/>\n",
                    n(cx), n(cy)
                ));
            }
            TaskType::Send | TaskType::Receive => {
                let send = t == TaskType::Send;
                self.put(format_args!(
                    "<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"21\" height=\"14\" fill=\"{}\" stroke=\"{INK}\" stroke-width=\"1\"/>\n\
                     <path class=\"{}\" d=\"M {} {} l 10.5 7 l 10.5 -7\" fill=\"none\" stroke=\"{}\" stroke-width=\"1\"/>\n",
                    if send { "icon-fill" } else { "icon" }, n(x + 6.0), n(y + 8.0), if send { INK } else { "#fff" },
                    if send { "icon-inv" } else { "icon" }, n(x + 6.0), n(y + 8.0), if send { "#fff" } else { INK }
                ));
            }
            TaskType::Script => self.put(format_args!(
                "<path class=\"icon\" d=\"M {} {} h 13 c -3 3 -3 6 0 9 s 3 6 0 9 h -13 c 3 -3 3 -6 0 -9 s -3 -6 0 -9 z M {} {} h 7 M {} {} h 7 M {} {} h 7\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"1\"/>\n",
                n(x + 9.0), n(y + 6.0),
                n(x + 11.0), n(y + 10.5), n(x + 12.0), n(y + 15.0), n(x + 11.0), n(y + 19.5)
            )),
            TaskType::BusinessRule => self.put(format_args!(
                "<rect class=\"icon\" x=\"{}\" y=\"{}\" width=\"19\" height=\"14\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"1\"/>\n\
                 <rect class=\"icon-fill\" x=\"{}\" y=\"{}\" width=\"19\" height=\"4\" fill=\"{INK}\" stroke=\"{INK}\" stroke-width=\"1\"/>\n\
                 <path class=\"icon\" d=\"M {} {} h 19 M {} {} v 10\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1\"/>\n",
                n(x + 7.0), n(y + 8.0), n(x + 7.0), n(y + 8.0),
                n(x + 7.0), n(y + 17.0), n(x + 12.0), n(y + 12.0)
            )),
        }
    }

    /// Check and exclamation badges: a sign besides colour for completed and overdue elements.
    fn badges(&mut self, kind: Kind, b: Rect, states: &[&Style]) {
        let (x, y) = match kind {
            k if k.is_event() => (b.cx() + b.w * 0.36, b.cy() - b.h * 0.36),
            Kind::Gateway(_) => (b.x + b.w * 0.78, b.y + b.h * 0.22),
            Kind::Participant | Kind::Lane | Kind::Group => return,
            _ => (b.right() - 4.0, b.y + 4.0),
        };
        let mut i = 0.0;
        for s in states {
            let glyph = match s.state {
                State::Completed => "M -3.5 0 L -1 2.5 L 3.5 -2.5",
                State::Overdue => "M 0 -4 V 1 M 0 3 V 3.6",
                State::Active => continue,
            };
            let bx = x - i * 17.0;
            self.ext.rect(Rect {
                x: bx - 8.0,
                y: y - 8.0,
                w: 16.0,
                h: 16.0,
            });
            self.put(format_args!(
                "<g class=\"badge\" transform=\"translate({} {})\"><circle r=\"7.5\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"1.5\"/><path d=\"{glyph}\" fill=\"none\" stroke=\"#fff\" stroke-width=\"2\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/></g>\n",
                N(bx),
                N(y),
                s.stroke
            ));
            i += 1.0;
        }
    }

    fn edge(&mut self, e: &Edge, root: XNode) {
        let states = self.marks.of(e.id);
        let (class, kind_name) = e.kind.describe();
        let name = name_of(e.el, root);
        let mut classes = format!("flow {class}");
        if e.default {
            classes.push_str(" default");
        }
        if e.conditional {
            classes.push_str(" conditional");
        }
        self.open(e.id, &classes, name.unwrap_or(kind_name), &states);
        let d = rounded_path(&e.points, 5.0);
        // The colour of the last (strongest) state, for the arrowheads.
        let suffix = states
            .last()
            .map(|s| format!("-{}", s.class))
            .unwrap_or_default();
        let (start, end, style) = match e.kind {
            EdgeKind::Sequence => (
                if e.default {
                    Some("seq-default")
                } else if e.conditional {
                    Some("seq-conditional")
                } else {
                    None
                },
                Some("seq-end"),
                "",
            ),
            EdgeKind::Message => (
                Some("msg-start"),
                Some("msg-end"),
                " stroke-dasharray=\"10 6\"",
            ),
            EdgeKind::Association => (
                None,
                (e.el.attribute("associationDirection") == Some("One")).then_some("assoc-end"),
                " stroke-dasharray=\"0.5 5\" stroke-linecap=\"round\"",
            ),
            EdgeKind::Data => (
                None,
                Some("data-end"),
                " stroke-dasharray=\"0.5 5\" stroke-linecap=\"round\"",
            ),
            EdgeKind::Other => (None, None, ""),
        };
        let mut markers = String::new();
        if let Some(m) = start {
            let _ = write!(markers, " marker-start=\"url(#yw-{m}{suffix})\"");
        }
        if let Some(m) = end {
            let _ = write!(markers, " marker-end=\"url(#yw-{m}{suffix})\"");
        }
        self.put(format_args!(
            "<path class=\"hit\" d=\"{d}\" fill=\"none\" stroke=\"#000\" stroke-opacity=\"0\" stroke-width=\"12\" pointer-events=\"stroke\"/>\n\
             <path class=\"line\" d=\"{d}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\" stroke-linejoin=\"round\"{style}{markers}/>\n"
        ));
        if let Some(n) = name {
            match e.label {
                Some(_) => self.external_label(
                    n,
                    e.label,
                    Rect {
                        x: 0.0,
                        y: 0.0,
                        w: 0.0,
                        h: 0.0,
                    },
                ),
                None => self.flow_label(n, &e.points),
            }
        }
        self.out.push_str("</g>\n");
    }

    /// A flow name without a modeler label box: beside the middle of the middle segment, the
    /// segment bpmn.io picks for a new label (above a horizontal one, right of a vertical one).
    fn flow_label(&mut self, text: &str, points: &[(f64, f64)]) {
        let mid = points.len().saturating_sub(2) / 2;
        let (Some(&(x0, y0)), Some(&(x1, y1))) = (points.get(mid), points.get(mid + 1)) else {
            return;
        };
        let (px, py) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let lines = balanced(text, LABEL_WIDTH, LABEL_FONT);
        let h = lines.len() as f64 * LABEL_FONT * LINE;
        let area = if (x1 - x0).abs() >= (y1 - y0).abs() {
            Rect {
                x: px - LABEL_WIDTH / 2.0,
                y: py - 5.0 - h,
                w: LABEL_WIDTH,
                h,
            }
        } else {
            Rect {
                x: px + 6.0,
                y: py - h / 2.0,
                w: LABEL_WIDTH,
                h,
            }
        };
        let align = if (x1 - x0).abs() >= (y1 - y0).abs() {
            Align::Top
        } else {
            Align::TopLeft
        };
        self.text(&TextBox {
            text,
            area,
            font: LABEL_FONT,
            align,
            vertical: false,
        });
    }

    fn legend(&mut self, used: &[&Style], drawn: Rect) {
        let y = drawn.bottom() + 20.0;
        let mut x = drawn.x;
        self.out.push_str("<g class=\"legend\">\n");
        for s in used {
            self.put(format_args!(
                "<g class=\"legend-item {}\"><rect class=\"shape\" x=\"{}\" y=\"{}\" width=\"24\" height=\"16\" rx=\"4\" fill=\"{}\" stroke=\"{}\" stroke-width=\"2\"/>",
                s.class, N(x), N(y), s.fill, s.stroke
            ));
            let w = text_width(s.label, FONT);
            self.put(format_args!(
                "<text font-size=\"{}\" x=\"{}\" y=\"{}\" fill=\"{}\">{}</text></g>\n",
                N(FONT),
                N(x + 30.0),
                N(y + 12.5),
                s.text,
                Esc(s.label)
            ));
            self.ext.rect(Rect {
                x,
                y,
                w: 30.0 + w,
                h: 16.0,
            });
            x += 30.0 + w + 24.0;
        }
        self.out.push_str("</g>\n");
    }
}

/// An SVG path through the points with corners rounded to `radius` (bpmn.io's connection look).
fn rounded_path(points: &[(f64, f64)], radius: f64) -> String {
    let mut d = String::new();
    let Some(&(x0, y0)) = points.first() else {
        return d;
    };
    let _ = write!(d, "M {} {}", N(x0), N(y0));
    for i in 1..points.len() {
        let (x, y) = points[i];
        match points.get(i + 1) {
            Some(&(nx, ny)) => {
                let (px, py) = points[i - 1];
                let lin = ((x - px).powi(2) + (y - py).powi(2)).sqrt();
                let lout = ((nx - x).powi(2) + (ny - y).powi(2)).sqrt();
                let r = radius.min(lin / 2.0).min(lout / 2.0);
                if r <= 0.0 || lin == 0.0 || lout == 0.0 {
                    let _ = write!(d, " L {} {}", N(x), N(y));
                    continue;
                }
                let (ax, ay) = (x - (x - px) / lin * r, y - (y - py) / lin * r);
                let (bx, by) = (x + (nx - x) / lout * r, y + (ny - y) / lout * r);
                let _ = write!(
                    d,
                    " L {} {} Q {} {} {} {}",
                    N(ax),
                    N(ay),
                    N(x),
                    N(y),
                    N(bx),
                    N(by)
                );
            }
            None => {
                let _ = write!(d, " L {} {}", N(x), N(y));
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let v = u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
            let c = f64::from(v) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn palette_meets_wcag_aa() {
        assert!(contrast(INK, "#ffffff") >= 4.5);
        for s in &PALETTE {
            for bg in ["#ffffff", s.fill] {
                let text = contrast(s.text, bg);
                assert!(text >= 4.5, "{} text on {bg}: {text:.2}", s.class);
                let stroke = contrast(s.stroke, bg);
                assert!(stroke >= 3.0, "{} stroke on {bg}: {stroke:.2}", s.class);
            }
            // The legend draws the label in the text colour on white.
            assert!(contrast(s.stroke, "#ffffff") >= 4.5, "{} badge", s.class);
        }
    }

    #[test]
    fn wraps_chinese_anywhere_and_latin_at_spaces() {
        assert_eq!(
            wrap("市场监管部门审查", 90.0, 12.0),
            ["市场监管部门审", "查"]
        );
        assert_eq!(
            wrap("approve the request", 60.0, 12.0),
            ["approve", "the", "request"]
        );
        assert_eq!(wrap("审核，批准", 48.0, 12.0), ["审核，批", "准"]);
        assert_eq!(wrap("审核批，准", 36.0, 12.0), ["审核批，", "准"]);
        assert_eq!(wrap("第一行\n第二行", 200.0, 12.0), ["第一行", "第二行"]);
        assert!(wrap("   ", 50.0, 12.0).is_empty());
        assert_eq!(
            balanced("市场监管部门审查", 90.0, 12.0),
            ["市场监管", "部门审查"]
        );
        assert_eq!(balanced("承办", 90.0, 12.0), ["承办"]);
    }

    #[test]
    fn escapes_markup_and_drops_what_xml_cannot_hold() {
        assert_eq!(
            Esc("a<b & \"c\" 'd'>\u{1}").to_string(),
            "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;"
        );
        assert_eq!(N(-0.001).to_string(), "0");
        assert_eq!(N(12.3456).to_string(), "12.35");
        assert_eq!(N(120.0).to_string(), "120");
    }

    #[test]
    fn rounds_corners_only_between_segments() {
        assert_eq!(
            rounded_path(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)], 5.0),
            "M 0 0 L 5 0 Q 10 0 10 5 L 10 10"
        );
    }
}
