//! `yiwang process check|simulate`: process designers' tools, before deploying a BPMN file.
//! `check` lists every problem by element id (the same checks as deploying in the admin UI)
//! and exits non-zero when the file cannot be deployed; `simulate` runs one instance in
//! simulated working-day time and prints what completes, when, and the end event reached.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Map, Value};
use yiwang_services::workflow::{self, simulate};

/// The process subcommands.
#[derive(Subcommand)]
pub enum ProcessAction {
    /// Validate a BPMN 2.0 file and list its problems (exit status 1 when it cannot be deployed).
    Check {
        /// The .bpmn file.
        file: PathBuf,
        /// Print JSON for machines.
        #[arg(long)]
        json: bool,
    },
    /// Run one instance in simulated time: every user task approved when its time is up (its
    /// step limit, else one working day), timers fired when due, messages delivered when nothing
    /// else is pending.
    Simulate(SimulateArgs),
}

/// Arguments of `process simulate`.
#[derive(Args)]
pub struct SimulateArgs {
    /// The .bpmn file.
    file: PathBuf,
    /// Process variables as a JSON object, e.g. '{"amount": 5000}'.
    #[arg(long, default_value = "{}")]
    vars: String,
    /// Simulated start, RFC 3339 or YYYY-MM-DD (China time, 09:00); default now.
    #[arg(long)]
    start: Option<String>,
    /// Print JSON for machines.
    #[arg(long)]
    json: bool,
}

fn read(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
}

/// Run a process subcommand; returns the exit status.
pub fn run(action: ProcessAction) -> anyhow::Result<i32> {
    match action {
        ProcessAction::Check { file, json } => {
            let xml = read(&file)?;
            match workflow::check(&xml) {
                Ok(d) => {
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({ "deployable": true, "process": d.process.id, "problems": [] })
                        );
                    } else {
                        let tasks = d
                            .process
                            .nodes
                            .iter()
                            .filter(|n| {
                                matches!(n.kind, yiwang_workflow::model::NodeKind::UserTask { .. })
                            })
                            .count();
                        println!(
                            "{}: 可以部署 / deployable — 流程 {} ({}), {} 个节点, {} 个人工任务",
                            file.display(),
                            d.process.id,
                            d.process.name.as_deref().unwrap_or("-"),
                            d.process.nodes.len(),
                            tasks
                        );
                    }
                    Ok(0)
                }
                Err(problems) => {
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({ "deployable": false, "problems": problems })
                        );
                    } else {
                        println!(
                            "{}: 不能部署，{} 个问题 / cannot be deployed, {} problem(s):",
                            file.display(),
                            problems.len(),
                            problems.len()
                        );
                        for p in &problems {
                            let id = if p.element_id.is_empty() {
                                "(文件)"
                            } else {
                                &p.element_id
                            };
                            println!(
                                "  {id}: {}\n  {:width$}  {}",
                                p.message_zh,
                                "",
                                p.message_en,
                                width = id.chars().count()
                            );
                        }
                    }
                    Ok(1)
                }
            }
        }
        ProcessAction::Simulate(a) => {
            let xml = read(&a.file)?;
            let d = match workflow::check(&xml) {
                Ok(d) => d,
                Err(problems) => {
                    eprintln!("{}: 不能部署 / cannot be deployed:", a.file.display());
                    for p in &problems {
                        eprintln!("  {}: {} / {}", p.element_id, p.message_zh, p.message_en);
                    }
                    return Ok(1);
                }
            };
            let vars: Map<String, Value> = match serde_json::from_str::<Value>(&a.vars) {
                Ok(Value::Object(m)) => m,
                _ => anyhow::bail!("--vars must be a JSON object, e.g. '{{\"amount\": 5000}}'"),
            };
            let start = match &a.start {
                None => chrono::Utc::now(),
                Some(s) => parse_start(s)?,
            };
            let cal = yiwang_calendar::Calendar::statutory();
            let run = match simulate::run(&d, vars, &cal, start) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("模拟运行失败 / the simulated run failed: {e}");
                    return Ok(1);
                }
            };
            use chrono::Datelike;
            let (y0, y1) = (
                cal.local_date(run.started).year(),
                cal.local_date(run.ended).year(),
            );
            for y in y0..=y1 {
                if !cal.has_data(y) {
                    eprintln!(
                        "注意：{y} 年的法定节假日安排尚未录入，按周一至周五计算 / note: no holiday data for {y}; Monday to Friday counted"
                    );
                }
            }
            if a.json {
                println!("{}", serde_json::to_string_pretty(&run)?);
            } else {
                let local = |t: chrono::DateTime<chrono::Utc>| {
                    t.with_timezone(&cal.offset())
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                };
                println!(
                    "流程 {} 模拟运行，开始于 {}（北京时间）",
                    d.process.id,
                    local(run.started)
                );
                println!(
                    "{:>3}  {:<16}  {:>6}  {:<8}  环节 / activity",
                    "#", "完成时间", "工作日", "类型"
                );
                for (i, s) in run.steps.iter().enumerate() {
                    let kind = match s.kind {
                        "task" => "办理",
                        "timer" => "定时",
                        _ => "消息",
                    };
                    println!(
                        "{:>3}  {:<16}  {:>6}  {:<8}  {} ({})",
                        i + 1,
                        local(s.at),
                        s.working_day,
                        kind,
                        s.name,
                        s.node
                    );
                }
                let state = match run.state {
                    "completed" => "办结 / completed",
                    "terminated" => "终止 / terminated",
                    _ => "停滞：仍有等待项 / stuck: something still waits",
                };
                println!(
                    "结束事件 / end event: {}；状态 / state: {}；用时 {} 个工作日（至 {}）",
                    run.end_event.as_deref().unwrap_or("-"),
                    state,
                    run.working_days,
                    local(run.ended)
                );
            }
            Ok(if run.state == "stuck" { 1 } else { 0 })
        }
    }
}

fn parse_start(s: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("--start {s:?} is neither RFC 3339 nor YYYY-MM-DD"))?;
    let china = chrono::FixedOffset::east_opt(8 * 3600).context("offset")?;
    d.and_hms_opt(9, 0, 0)
        .and_then(|t| t.and_local_timezone(china).single())
        .map(|t| t.with_timezone(&chrono::Utc))
        .context("start time")
}
