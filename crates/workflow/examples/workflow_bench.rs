//! In-memory throughput of the engine on three approval shapes, the same files and the same
//! semantics as `scripts/bench/spiff_bench.py` (SpiffWorkflow), so that the two can be compared
//! side by side (`scripts/bench/workflow.sh`).
//!
//! Each file is parsed and checked once; then, for N seconds per case, one instance after another
//! is started and every open work item completed, oldest first, with `approved = true`, until
//! the instance ends. Counts instances per second and microseconds per instance. Parsing is not
//! measured; the per-instance start is.
//!
//! Run: `cargo run --release -p yiwang-workflow --example workflow_bench -- --seconds 3 [--json]`
//! (`--case NAME` runs one case only; `--data DIR` reads the files from elsewhere than
//! `crates/workflow/tests/data`).

use std::error::Error;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use yiwang_workflow::{Deployment, check};

type Res<T> = Result<T, Box<dyn Error>>;

/// (case, file, process id, user tasks completed per instance)
const CASES: &[(&str, &str, &str, usize)] = &[
    ("seq5", "seq5.bpmn", "Process_Seq5", 5),
    ("parallel3", "parallel3.bpmn", "Process_Parallel3", 5),
    (
        "countersign5",
        "countersign5.bpmn",
        "Process_Countersign5",
        6,
    ),
];

/// One instance from start to end; returns the number of work items completed.
fn run_one(d: &Deployment, outcome: &Map<String, Value>) -> Res<usize> {
    let mut inst = d.start(Map::new())?;
    let mut done = 0;
    while inst.is_live() {
        let id = inst
            .work_items
            .iter()
            .map(|w| w.id)
            .min()
            .ok_or("the instance waits but has no open work item")?;
        d.complete(&mut inst, id, outcome.clone())?;
        done += 1;
    }
    if inst.end_event.is_none() {
        return Err("the instance ended without reaching an end event".into());
    }
    black_box(&inst);
    Ok(done)
}

fn bench(d: &Deployment, expected: usize, window: Duration) -> Res<(u64, Duration)> {
    let mut outcome = Map::new();
    outcome.insert("approved".into(), Value::Bool(true));
    // Check the semantics once, outside the measurement.
    let got = run_one(d, &outcome)?;
    if got != expected {
        return Err(format!("{got} work items completed, expected {expected}").into());
    }
    let mut n = 0u64;
    let t0 = Instant::now();
    loop {
        run_one(d, &outcome)?;
        n += 1;
        let elapsed = t0.elapsed();
        if elapsed >= window {
            return Ok((n, elapsed));
        }
    }
}

struct Args {
    seconds: f64,
    json: bool,
    case: Option<String>,
    data: PathBuf,
}

fn args() -> Res<Args> {
    let mut a = Args {
        seconds: 3.0,
        json: false,
        case: None,
        data: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => a.seconds = it.next().ok_or("--seconds needs a value")?.parse()?,
            "--json" => a.json = true,
            "--case" => a.case = Some(it.next().ok_or("--case needs a name")?),
            "--data" => a.data = it.next().ok_or("--data needs a directory")?.into(),
            "-h" | "--help" => {
                println!("workflow_bench [--seconds N] [--json] [--case NAME] [--data DIR]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if !a.seconds.is_finite() || a.seconds <= 0.0 {
        return Err("--seconds must be positive".into());
    }
    if let Some(c) = &a.case
        && !CASES.iter().any(|x| x.0 == c)
    {
        return Err(format!("unknown case {c}").into());
    }
    Ok(a)
}

fn main() -> Res<()> {
    let a = args()?;
    let window = Duration::from_secs_f64(a.seconds);
    if !a.json {
        println!(
            "yiwang-workflow {}, release={}, {} s per case",
            env!("CARGO_PKG_VERSION"),
            !cfg!(debug_assertions),
            a.seconds
        );
        println!(
            "{:<14} {:>10} {:>12} {:>12} {:>11}",
            "case", "instances", "instances/s", "µs/instance", "user tasks"
        );
    }
    for &(case, file, process_id, expected) in CASES {
        if a.case.as_deref().is_some_and(|c| c != case) {
            continue;
        }
        let path = a.data.join(file);
        let xml = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let d = check(&xml).map_err(|e| format!("{}: {e:?}", path.display()))?;
        if d.process.id != process_id {
            return Err(format!("{file}: process {} is not {process_id}", d.process.id).into());
        }
        let (n, elapsed) = bench(&d, expected, window)?;
        let secs = elapsed.as_secs_f64();
        let per_s = n as f64 / secs;
        let us = secs * 1e6 / n as f64;
        if a.json {
            println!(
                "{}",
                json!({
                    "engine": "yiwang-workflow",
                    "version": env!("CARGO_PKG_VERSION"),
                    "case": case,
                    "instances": n,
                    "seconds": (secs * 1000.0).round() / 1000.0,
                    "per_second": (per_s * 10.0).round() / 10.0,
                    "us_per_instance": (us * 100.0).round() / 100.0,
                    "user_tasks": expected,
                })
            );
        } else {
            println!("{case:<14} {n:>10} {per_s:>12.1} {us:>12.2} {expected:>11}");
        }
    }
    Ok(())
}
