//! Case lifecycles per second through the platform's use-cases (below HTTP): each worker signs
//! a demo citizen's draft in, fills the item's form, uploads one small PDF per required
//! material, submits, the window accepts, the approver completes every step of the item's
//! process, the case is decided and delivered — on embedded SQLite or on PostgreSQL, demo
//! province loaded. The figure is through the HTTP API; this one is the floor under it.
//!
//! Run: `cargo run --release -p yiwang-services --example case_lifecycle -- \
//!   [--backend sqlite|postgres] [--seconds 10] [--concurrency 8] [--json]`
//! PostgreSQL: the server of `YIWANG_TEST_PG_URL` (a new database is created for the run).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use yiwang_services::cases::{apply, events, window};
use yiwang_services::identity::{staff, users};
use yiwang_services::workflow::inbox;
use yiwang_services::{Platform, SystemClock, demo};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

mod common;

use common::{arg, database};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".into());
    let secs: u64 = arg("--seconds").map_or(Ok(10), |v| v.parse())?;
    let workers: usize = arg("--concurrency").map_or(Ok(8), |v| v.parse())?;
    let json = std::env::args().any(|a| a == "--json");
    let (db, dir) = database(&backend, "yiwang_casebench").await?;
    db.migrate().await?;
    let p: Arc<Platform> = Platform::open(db, Arc::new(SystemClock)).await?;
    demo::load(&p).await?;
    let e = |e: yiwang_services::ServiceError| anyhow::anyhow!("{e}");
    let item: String = sqlx::query_scalar(
        "SELECT f.item_code FROM item_forms f JOIN wf_bindings b ON b.item_code = f.item_code ORDER BY f.item_code LIMIT 1",
    )
    .fetch_one(p.db.pool())
    .await?;
    let required: Vec<usize> = yiwang_services::catalogue::published(&p, &item)
        .await
        .map_err(e)?
        .guide
        .materials
        .iter()
        .enumerate()
        .filter(|(_, m)| m.required && m.condition.is_none())
        .map(|(i, _)| i)
        .collect();
    let citizen = users::sign_in_password(&p, "13800000002", demo::DEMO_PASSWORD, "127.0.0.1")
        .await
        .map_err(e)?
        .1
        .user;
    let clerk = staff::sign_in(&p, "yl.window", demo::DEMO_PASSWORD, "127.0.0.1")
        .await
        .map_err(e)?
        .1
        .staff;
    let approver = staff::sign_in(&p, "yl.rsj.approver", demo::DEMO_PASSWORD, "127.0.0.1")
        .await
        .map_err(e)?
        .1
        .staff;
    let mut form = serde_json::Map::new();
    form.insert("employer".into(), "长沙某科技有限公司".into());
    form.insert("ended_on".into(), "2026-10-31".into());
    form.insert("reason".into(), "contract_end".into());

    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut handles = Vec::new();
    for w in 0..workers {
        let (p, done, item, required, citizen, clerk, approver, form) = (
            p.clone(),
            done.clone(),
            item.clone(),
            required.clone(),
            citizen.clone(),
            clerk.clone(),
            approver.clone(),
            form.clone(),
        );
        handles.push(tokio::spawn(async move {
            let e = |e: yiwang_services::ServiceError| anyhow::anyhow!("{e}");
            let mut latencies = Vec::new();
            let mut k = 0u64;
            while Instant::now() < deadline {
                k += 1;
                let t0 = Instant::now();
                let c = apply::start_draft(&p, &citizen, &item).await.map_err(e)?;
                apply::save_form(&p, &citizen, &c.id, &form)
                    .await
                    .map_err(e)?;
                for slot in &required {
                    apply::attach(&p, &citizen, &c.id, *slot, "m.pdf", PDF)
                        .await
                        .map_err(e)?;
                }
                let c = apply::submit(&p, &citizen, &c.id, &format!("w{w}-{k}"), None)
                    .await
                    .map_err(e)?;
                let c = window::accept(&p, &clerk, &c.id, Some(c.rev), "")
                    .await
                    .map_err(e)?;
                let wf = c
                    .wf_instance
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("no process started"))?;
                for _ in 0..10 {
                    let open: Vec<String> = sqlx::query_scalar(
                        "SELECT id FROM wf_tasks WHERE instance_id = $1 AND state = 'open'",
                    )
                    .bind(&wf)
                    .fetch_all(p.db.pool())
                    .await?;
                    if open.is_empty() {
                        break;
                    }
                    for t in open {
                        inbox::complete_as(
                            &p,
                            &wf,
                            &t,
                            &approver.username,
                            inbox::Outcome::Approve,
                            "同意",
                        )
                        .await
                        .map_err(e)?;
                    }
                }
                events::drain(&p).await.map_err(e)?;
                let c = yiwang_services::cases::for_staff(&p, &clerk, &c.id)
                    .await
                    .map_err(e)?
                    .0;
                window::deliver(&p, &clerk, &c.id, Some(c.rev), "window", "", "")
                    .await
                    .map_err(e)?;
                latencies.push(t0.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
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
            serde_json::json!({ "backend": backend, "concurrency": workers, "lifecycles": n,
                "per_second": per_second, "p50_ms": pct(0.5), "p99_ms": pct(0.99) })
        );
    } else {
        println!(
            "case lifecycles on {backend}, {workers} workers, {:.1} s: {n} cases, {per_second:.1}/s; per case p50 {:.1} ms, p99 {:.1} ms",
            elapsed.as_secs_f64(),
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
