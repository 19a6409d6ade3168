//! The approval workflow engine (审批流程引擎): BPMN 2.0 files are parsed into a process graph
//! ([`parse`]), checked with every problem listed by element id ([`validate`]), their conditions
//! compiled ([`expr`]), and run in memory deterministically ([`engine`]); [`diagram`] draws
//! a process from the modeler's layout as SVG, with a case's progress marked. No HTTP, no SQL, no
//! async runtime: instance state is plain serde data the platform persists.

pub mod diagram;
pub mod engine;
pub mod expr;
pub mod iso;
pub mod model;
pub mod parse;
pub mod validate;

pub use diagram::{DiagramError, Marks};
pub use engine::{
    Deployment, EngineError, Instance, InstanceState, Simulation, WorkItem, simulate,
};
pub use model::{Escalation, Limit, Problem, Process, StepRule};
pub use parse::{ParseError, Parsed, parse};
pub use validate::{DeployError, check, validate};
