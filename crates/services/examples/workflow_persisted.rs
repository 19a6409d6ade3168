//! Persisted workflow throughput: complete 5-step sequential instances per second through the
//! platform's store — every transition one transaction with its history, task, offer and
//! instance rows — on embedded SQLite or on PostgreSQL, with the demo province loaded.
//!
//! Run: `cargo run --release -p yiwang-services --example workflow_persisted -- \
//!   [--backend sqlite|postgres] [--seconds 10] [--concurrency 4] [--json]`
//! PostgreSQL: the server of `YIWANG_TEST_PG_URL` (a new database is created for the run).
//!
//! Each worker starts an instance of `seq5.bpmn` and completes its five user tasks one after
//! the other, as five approvers would (`inbox::complete_as`: no inbox reads in between), so an
//! instance is six transactions. Workers run concurrently; the figure is instances completed
//! per second over the run, with the per-instance latency percentiles. `WF_PHASES=1` also
//! prints, per worker, the mean time of a start and of a step.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use yiwang_services::workflow::{self, inbox, runtime};
use yiwang_services::{Platform, SystemClock, demo};

/// The allocator the server runs with (`crates/yiwang`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SEQ5: &str = include_str!("../../workflow/tests/data/seq5.bpmn");

mod common;

use common::{arg, database};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".into());
    let secs: u64 = arg("--seconds").map_or(Ok(10), |v| v.parse())?;
    let workers: usize = arg("--concurrency").map_or(Ok(4), |v| v.parse())?;
    let json = std::env::args().any(|a| a == "--json");
    let (db, dir) = database(&backend, "yiwang_wfbench").await?;
    db.migrate().await?;
    let p: Arc<Platform> = Platform::open(db, Arc::new(SystemClock)).await?;
    demo::load(&p).await?;
    workflow::deploy_as(&p, "bench", SEQ5).await?;
    let org: String = p
        .master
        .get()
        .organisations
        .values()
        .map(|o| o.credit_code.clone())
        .min()
        .ok_or_else(|| anyhow::anyhow!("no organisation"))?;

    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut handles = Vec::new();
    for w in 0..workers {
        let (p, done, org) = (p.clone(), done.clone(), org.clone());
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let (mut t_start, mut t_steps) = (Duration::ZERO, Duration::ZERO);
            let mut k = 0u64;
            while Instant::now() < deadline {
                k += 1;
                let t0 = Instant::now();
                let mut s = runtime::start(
                    &p,
                    "bench",
                    runtime::Start {
                        business_key: format!("B-{w}-{k}"),
                        item_code: None,
                        process_key: Some("Process_Seq5".into()),
                        org: org.clone(),
                        variables: Default::default(),
                        limit_days: Some(20),
                    },
                )
                .await?;
                t_start += t0.elapsed();
                let t1 = Instant::now();
                let mut steps = 0;
                while s.state == "running" {
                    let Some(item) = s.inst.work_items.first() else {
                        anyhow::bail!("running instance without a work item");
                    };
                    let task = format!("{}-{}", s.id, item.id);
                    s = inbox::complete_as(
                        &p,
                        &s.id,
                        &task,
                        "bench",
                        inbox::Outcome::Approve,
                        "同意",
                    )
                    .await?;
                    steps += 1;
                }
                t_steps += t1.elapsed();
                anyhow::ensure!(
                    s.state == "completed" && steps == 5,
                    "instance did not complete"
                );
                latencies.push(t0.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
            }
            if std::env::var("WF_PHASES").is_ok() && k > 0 {
                eprintln!(
                    "worker {w}: start {:.0} µs, each step {:.0} µs",
                    t_start.as_secs_f64() * 1e6 / k as f64,
                    t_steps.as_secs_f64() * 1e6 / (5 * k) as f64
                );
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await??);
    }
    let elapsed = started.elapsed();
    all.sort();
    let n = done.load(Ordering::Relaxed);
    let pct = |q: f64| {
        all.get(((all.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let per_second = n as f64 / elapsed.as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "engine": "yiwang", "case": "seq5", "backend": backend, "concurrency": workers,
                "instances": n, "per_second": per_second, "transactions_per_second": per_second * 6.0,
                "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            })
        );
    } else {
        println!(
            "persisted seq5 on {backend}, {workers} workers, {:.1} s: {n} instances, {per_second:.0} instances/s \
             ({:.0} transactions/s); per instance p50 {:.2} ms, p99 {:.2} ms",
            elapsed.as_secs_f64(),
            per_second * 6.0,
            pct(0.5),
            pct(0.99)
        );
    }
    p.db.close().await;
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    Ok(())
}
