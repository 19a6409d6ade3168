//! BPMN 2.0 XML → [`Process`]. Camunda/Flowable/Activiti extension attributes are ignored except
//! the assignment and multi-instance ones; any element the engine does not run becomes a
//! [`Problem`] naming it, never a silent skip.

use roxmltree::{Document, Node as XNode};

use crate::model::{
    Assignment, Escalation, Flow, Limit, MultiInstance, Node, NodeKind, Problem, Process, StepRule,
    Timer,
};

/// The BPMN 2.0 model namespace.
pub const BPMN_NS: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";
/// The namespace of Yiwang's own extension attributes (`yiwang:candidateOrgs`).
pub const YIWANG_NS: &str = "https://yiwang.example/bpmn";

/// A file that cannot be read as a BPMN document at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// Not well-formed XML.
    #[error("不是合法的 XML / not well-formed XML: {0}")]
    Xml(String),
    /// No `bpmn:definitions` root or no `bpmn:process` in it.
    #[error("没有 BPMN 流程定义 / no BPMN process in the file")]
    NoProcess,
}

/// A parsed process and the elements that were refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The process graph (refused elements left out).
    pub process: Process,
    /// Unsupported or malformed elements.
    pub problems: Vec<Problem>,
}

/// Parse a BPMN 2.0 file. The first executable `process` is taken.
pub fn parse(xml: &str) -> Result<Parsed, ParseError> {
    let doc = Document::parse(xml).map_err(|e| ParseError::Xml(e.to_string()))?;
    let root = doc.root_element();
    if !is_bpmn(root, "definitions") {
        return Err(ParseError::NoProcess);
    }
    let processes: Vec<XNode> = root.children().filter(|c| is_bpmn(*c, "process")).collect();
    let process_el = processes
        .iter()
        .find(|p| p.attribute("isExecutable") == Some("true"))
        .or_else(|| processes.first())
        .ok_or(ParseError::NoProcess)?;
    let messages: Vec<(String, String)> = root
        .children()
        .filter(|c| is_bpmn(*c, "message"))
        .filter_map(|m| {
            let id = m.attribute("id")?;
            Some((id.to_owned(), m.attribute("name").unwrap_or(id).to_owned()))
        })
        .collect();
    let mut p = Parser {
        process: Process::default(),
        problems: Vec::new(),
        messages,
    };
    p.process.id = process_el.attribute("id").unwrap_or_default().to_owned();
    p.process.name = process_el.attribute("name").map(str::to_owned);
    p.scope(*process_el, None);
    Ok(Parsed {
        process: p.process,
        problems: p.problems,
    })
}

fn is_bpmn(n: XNode, local: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(BPMN_NS) && n.tag_name().name() == local
}

fn bpmn_children<'a, 'i>(n: XNode<'a, 'i>) -> impl Iterator<Item = XNode<'a, 'i>> {
    n.children()
        .filter(|c| c.is_element() && c.tag_name().namespace() == Some(BPMN_NS))
}

fn child<'a, 'i>(n: XNode<'a, 'i>, local: &str) -> Option<XNode<'a, 'i>> {
    n.children().find(|c| is_bpmn(*c, local))
}

fn text(n: XNode) -> String {
    n.text().unwrap_or_default().trim().to_owned()
}

/// An extension attribute by local name in any non-BPMN namespace (camunda, flowable, activiti, yiwang).
fn ext<'a>(n: XNode<'a, '_>, local: &str) -> Option<&'a str> {
    n.attributes()
        .find(|a| a.name() == local && a.namespace().is_some_and(|ns| ns != BPMN_NS))
        .map(|a| a.value())
}

fn list(s: Option<&str>) -> Vec<String> {
    s.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// Children that carry no behaviour and are skipped everywhere.
const IGNORED: &[&str] = &["documentation", "extensionElements", "incoming", "outgoing"];

struct Parser {
    process: Process,
    problems: Vec<Problem>,
    messages: Vec<(String, String)>,
}

impl Parser {
    fn refuse(&mut self, el: XNode, why_zh: &str, why_en: &str) {
        let id = el.attribute("id").unwrap_or_default();
        let tag = el.tag_name().name();
        self.problems.push(Problem::new(
            id,
            format!("不支持的元素 {tag}：{why_zh}"),
            format!("unsupported element {tag}: {why_en}"),
        ));
    }

    fn scope(&mut self, el: XNode, parent: Option<&str>) {
        for c in el.children().filter(XNode::is_element) {
            if c.tag_name().namespace() != Some(BPMN_NS) {
                continue; // foreign extension elements outside extensionElements: ignored
            }
            let tag = c.tag_name().name();
            match tag {
                "documentation" | "extensionElements" | "laneSet" | "textAnnotation"
                | "association" => {}
                "sequenceFlow" => self.flow(c),
                _ => self.node(c, tag, parent),
            }
        }
    }

    fn flow(&mut self, c: XNode) {
        let condition = child(c, "conditionExpression")
            .map(text)
            .filter(|t| !t.is_empty());
        self.process.flows.push(Flow {
            id: c.attribute("id").unwrap_or_default().to_owned(),
            name: c.attribute("name").map(str::to_owned),
            source: c.attribute("sourceRef").unwrap_or_default().to_owned(),
            target: c.attribute("targetRef").unwrap_or_default().to_owned(),
            condition,
        });
    }

    /// The BPMN child elements other than the ignored ones and `allowed`.
    fn others<'a, 'i>(c: XNode<'a, 'i>, allowed: &[&str]) -> Vec<XNode<'a, 'i>> {
        bpmn_children(c)
            .filter(|x| {
                let t = x.tag_name().name();
                !IGNORED.contains(&t) && !allowed.contains(&t)
            })
            .collect()
    }

    fn node(&mut self, c: XNode, tag: &str, parent: Option<&str>) {
        let id = c.attribute("id").unwrap_or_default().to_owned();
        let kind = match tag {
            "startEvent" => self.plain(c, &[], NodeKind::StartEvent),
            "endEvent" => {
                let terminate = child(c, "terminateEventDefinition").is_some();
                self.plain(
                    c,
                    &["terminateEventDefinition"],
                    NodeKind::EndEvent { terminate },
                )
            }
            "userTask" => {
                let assignment = Assignment {
                    assignee: ext(c, "assignee").map(str::to_owned),
                    candidate_users: list(ext(c, "candidateUsers")),
                    candidate_groups: list(ext(c, "candidateGroups")),
                    candidate_orgs: list(ext(c, "candidateOrgs")),
                };
                let multi = child(c, "multiInstanceLoopCharacteristics").map(|m| MultiInstance {
                    sequential: m.attribute("isSequential") == Some("true"),
                    cardinality: child(m, "loopCardinality")
                        .map(text)
                        .filter(|t| !t.is_empty()),
                    collection: ext(m, "collection").map(str::to_owned),
                    element_variable: ext(m, "elementVariable").map(str::to_owned),
                    completion: child(m, "completionCondition")
                        .map(text)
                        .filter(|t| !t.is_empty()),
                });
                self.plain(
                    c,
                    &["multiInstanceLoopCharacteristics"],
                    NodeKind::UserTask { assignment, multi },
                )
            }
            "serviceTask" => {
                let action = c
                    .attribute("implementation")
                    .filter(|i| *i != "##WebService" && *i != "##unspecified")
                    .or_else(|| ext(c, "delegateExpression"))
                    .or_else(|| ext(c, "class"))
                    .or_else(|| ext(c, "expression"))
                    .or_else(|| ext(c, "type"))
                    .map(|a| {
                        a.trim()
                            .trim_start_matches("${")
                            .trim_start_matches("#{")
                            .trim_end_matches('}')
                    })
                    .unwrap_or_default()
                    .to_owned();
                if action.is_empty() {
                    self.problems.push(Problem::new(
                        &id,
                        "服务任务没有指定平台操作（implementation 或 camunda:delegateExpression）",
                        "service task names no platform action (implementation or camunda:delegateExpression)",
                    ));
                    None
                } else {
                    self.plain(c, &[], NodeKind::ServiceTask { action })
                }
            }
            "exclusiveGateway" => {
                let default = c.attribute("default").map(str::to_owned);
                self.plain(c, &[], NodeKind::ExclusiveGateway { default })
            }
            "inclusiveGateway" => {
                let default = c.attribute("default").map(str::to_owned);
                self.plain(c, &[], NodeKind::InclusiveGateway { default })
            }
            "parallelGateway" => self.plain(c, &[], NodeKind::ParallelGateway),
            "intermediateCatchEvent" => {
                if let Some(t) = child(c, "timerEventDefinition") {
                    self.timer(t).and_then(|timer| {
                        self.plain(c, &["timerEventDefinition"], NodeKind::TimerCatch { timer })
                    })
                } else if let Some(m) = child(c, "messageEventDefinition") {
                    let r = m.attribute("messageRef").unwrap_or_default();
                    let message = self
                        .messages
                        .iter()
                        .find(|(i, _)| i == r)
                        .map_or(r, |(_, n)| n)
                        .to_owned();
                    self.plain(
                        c,
                        &["messageEventDefinition"],
                        NodeKind::MessageCatch { message },
                    )
                } else {
                    self.refuse(
                        c,
                        "只支持定时和消息中间捕获事件",
                        "only timer and message catch events are supported",
                    );
                    None
                }
            }
            "boundaryEvent" => match child(c, "timerEventDefinition") {
                Some(t) => {
                    let attached_to = c.attribute("attachedToRef").unwrap_or_default().to_owned();
                    let cancel_activity = c.attribute("cancelActivity") != Some("false");
                    self.timer(t).and_then(|timer| {
                        self.plain(
                            c,
                            &["timerEventDefinition"],
                            NodeKind::BoundaryTimer {
                                attached_to,
                                cancel_activity,
                                timer,
                            },
                        )
                    })
                }
                None => {
                    self.refuse(
                        c,
                        "只支持定时边界事件",
                        "only timer boundary events are supported",
                    );
                    None
                }
            },
            "subProcess" => {
                if c.attribute("triggeredByEvent") == Some("true") {
                    self.refuse(
                        c,
                        "不支持事件子流程",
                        "event sub-processes are not supported",
                    );
                    None
                } else {
                    self.scope(c, Some(&id));
                    Some(NodeKind::SubProcess)
                }
            }
            _ => {
                self.refuse(
                    c,
                    "流程引擎不执行此元素",
                    "the engine does not run this element",
                );
                None
            }
        };
        if let Some(kind) = kind {
            let step = if matches!(kind, NodeKind::UserTask { .. }) {
                self.step_rule(c, &id)
            } else {
                None
            };
            self.process.nodes.push(Node {
                id,
                name: c.attribute("name").map(str::to_owned),
                parent: parent.map(str::to_owned),
                kind,
                step,
            });
        }
    }

    /// A user task's limit and escalation, from extension attributes or properties.
    fn step_rule(&mut self, c: XNode, id: &str) -> Option<StepRule> {
        let prop = |name: &str| -> Option<String> {
            ext(c, name).map(str::to_owned).or_else(|| {
                child(c, "extensionElements")?
                    .descendants()
                    .filter(|p| p.tag_name().name() == "property")
                    .find(|p| p.attribute("name") == Some(name))
                    .and_then(|p| p.attribute("value"))
                    .map(|v| v.trim().to_owned())
            })
        };
        let number = |this: &mut Self, name: &str| -> Option<u32> {
            let v = prop(name)?;
            match v.parse::<u32>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    this.problems.push(Problem::new(
                        id,
                        format!("{name} 必须是正整数，现为 {v:?}"),
                        format!("{name} must be a positive integer, not {v:?}"),
                    ));
                    None
                }
            }
        };
        let days = number(self, "limitWorkingDays");
        let hours = number(self, "limitWorkingHours");
        let escalation = prop("escalation");
        let limit = match (days, hours) {
            (Some(_), Some(_)) => {
                self.problems.push(Problem::new(
                    id,
                    "只能声明工作日时限或工作小时时限之一",
                    "declare a limit in working days or in working hours, not both",
                ));
                return None;
            }
            (Some(d), None) => Limit::WorkingDays(d),
            (None, Some(h)) => Limit::WorkingHours(h),
            (None, None) => {
                if escalation.is_some() {
                    self.problems.push(Problem::new(
                        id,
                        "声明了超时处理（escalation）却没有时限",
                        "an escalation is declared without a limit",
                    ));
                }
                return None;
            }
        };
        let escalation = match escalation {
            None => Escalation::Notify,
            Some(t) => match Escalation::parse(&t) {
                Some(e) => e,
                None => {
                    self.problems.push(Problem::new(
                        id,
                        format!(
                            "超时处理 {t:?} 无法识别（可用 notify、reassign:角色、complete:approved、complete:rejected、sendBack）"
                        ),
                        format!(
                            "escalation {t:?} is not known (use notify, reassign:ROLE, complete:approved, complete:rejected or sendBack)"
                        ),
                    ));
                    return None;
                }
            },
        };
        Some(StepRule { limit, escalation })
    }

    /// `kind`, unless the element has behaviour-bearing children beyond `allowed`.
    fn plain(&mut self, c: XNode, allowed: &[&str], kind: NodeKind) -> Option<NodeKind> {
        let others = Self::others(c, allowed);
        if let Some(o) = others.first() {
            let t = o.tag_name().name();
            self.refuse(
                c,
                &format!("含有不支持的子元素 {t}"),
                &format!("has unsupported child {t}"),
            );
            return None;
        }
        Some(kind)
    }

    fn timer(&mut self, t: XNode) -> Option<Timer> {
        if let Some(d) = child(t, "timeDuration") {
            Some(Timer::Duration(text(d)))
        } else if let Some(d) = child(t, "timeDate") {
            Some(Timer::Date(text(d)))
        } else if let Some(d) = child(t, "timeCycle") {
            Some(Timer::Cycle(text(d)))
        } else {
            let id = t
                .parent()
                .and_then(|p| p.attribute("id"))
                .unwrap_or_default();
            self.problems.push(Problem::new(
                id,
                "定时事件没有时间定义",
                "timer event has no time definition",
            ));
            None
        }
    }
}
