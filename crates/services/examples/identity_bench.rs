//! Identity throughput on this machine: Argon2id password checks per second and per core (the
//! parameters of `identity::passwords`), whole staff sign-ins (password check, throttles,
//! session row, audit entry) and session look-ups per second, on an embedded SQLite database
//! with the demo province.
//!
//! Run: `cargo run --release -p yiwang-services --example identity_bench`
//! (`SECONDS=5` sets each measurement's length).

use std::sync::Arc;
use std::time::{Duration, Instant};

use yiwang_services::identity::{passwords, staff};
use yiwang_services::{Platform, SystemClock, demo};
use yiwang_store::Db;

fn per_second(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let secs: u64 = std::env::var("SECONDS").map_or(Ok(5), |v| v.parse())?;
    let window = Duration::from_secs(secs);
    let hash = passwords::hash(demo::DEMO_PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "Argon2id m={} KiB, t={}, p={}",
        passwords::MEMORY_KIB,
        passwords::PASSES,
        passwords::LANES
    );

    // Password checks on one core.
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < window {
        assert!(passwords::verify(demo::DEMO_PASSWORD, &hash));
        n += 1;
    }
    let one = per_second(n, start.elapsed());
    println!(
        "password checks, 1 thread: {one:.1}/s ({:.1} ms each)",
        1000.0 / one
    );

    // On every core.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while start.elapsed() < window {
                        let _ = passwords::verify(demo::DEMO_PASSWORD, &hash);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    let all = per_second(total, start.elapsed());
    println!(
        "password checks, {cores} threads: {all:.1}/s ({:.1}/s per core)",
        all / cores as f64
    );

    // Whole sign-ins and session look-ups against SQLite with the demo province.
    let dir = std::env::temp_dir().join(format!("yiwang-idbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = Db::open_data_dir(&dir).await?;
    db.migrate().await?;
    let p: Arc<Platform> = Platform::open(db, Arc::new(SystemClock))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    demo::load(&p).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let start = Instant::now();
    let mut n = 0u64;
    let mut token = String::new();
    while start.elapsed() < window {
        let (t, _) = staff::sign_in(&p, "cs.scjg.manager", demo::DEMO_PASSWORD, "127.0.0.1")
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        token = t;
        n += 1;
    }
    println!(
        "staff sign-ins (SQLite, sequential): {:.1}/s",
        per_second(n, start.elapsed())
    );
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < window {
        let s = staff::session(&p, &token)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        assert!(s.is_some());
        n += 1;
    }
    println!(
        "session look-ups (SQLite, sequential): {:.0}/s",
        per_second(n, start.elapsed())
    );
    p.db.close().await;
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
