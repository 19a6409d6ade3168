//! Latency report for `yiwang-search` over a generated catalogue: builds an in-memory index of
//! 100,000 synthetic items (or `N`, the first argument), prints the time to open (jieba
//! dictionary) and to index, the process RSS (VmRSS), the mean time of 20 upserts, then runs each
//! query of `synthetic::benchmark_queries()` `ITER` times (default 2,000) and prints p50/p99/max
//! and mean wall-clock latency in µs, the mean CPU time of the searching thread (less sensitive
//! to other load on the machine) and the number of matches.
//!
//! Run: `cargo run --release -p yiwang-search --example latency --features synthetic [-- N ITER]`
//! (`LATENCY_ONLY=<label>` runs a single query of the mix, e.g. under `perf record`).

use std::time::Instant;

use yiwang_search::{SearchIndex, synthetic};

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time (user + system) of the calling thread so far, in µs; `/proc` counts clock ticks
/// (USER_HZ, 100 per second on Linux), so this is only meaningful over many iterations.
fn thread_cpu_us() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let after_comm = stat.rsplit_once(')')?.1;
    let mut fields = after_comm.split_whitespace();
    // Fields after the command name start at field 3 (state); utime and stime are fields 14, 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) * 10_000)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let iterations: usize = args.next().map_or(Ok(2_000), |a| a.parse())?;

    let rss_start = rss_kib().unwrap_or(0);
    let t = Instant::now();
    let index = SearchIndex::in_memory()?;
    let opened = t.elapsed();
    let rss_empty = rss_kib().unwrap_or(0);
    // Items are generated while they are indexed, so the RSS below is the index's, not the
    // catalogue's.
    let t = Instant::now();
    index.replace_all(synthetic::generate_iter(n, 42))?;
    let indexing = t.elapsed();
    let rss_indexed = rss_kib().unwrap_or(0);
    println!(
        "items: {}, segments: {}",
        index.num_docs(),
        index.num_segments()
    );
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average: {}", load.trim());
    }
    println!(
        "open (loads the jieba dictionary once per process): {} ms",
        opened.as_millis()
    );
    println!(
        "index {n} items (generate + replace_all, one commit): {:.2} s",
        indexing.as_secs_f64()
    );
    println!(
        "VmRSS: {} MiB at start, {} MiB with an empty index (jieba dictionary loaded), {} MiB after indexing",
        rss_start / 1024,
        rss_empty / 1024,
        rss_indexed / 1024
    );

    // Incremental updates, as the platform makes them when items are published (each upsert
    // commits, reloads and is visible to the next search); the queries below then run on the
    // resulting mix of one large and several small segments, as in production.
    let updates = synthetic::generate(20, 7);
    let t = Instant::now();
    for (i, mut doc) in updates.into_iter().enumerate() {
        doc.code = format!("UPSERT-{i}");
        index.upsert(doc)?;
    }
    println!(
        "upsert (commit + reader reload), mean of 20: {:.1} ms; segments now: {}",
        t.elapsed().as_secs_f64() * 1000.0 / 20.0,
        index.num_segments()
    );
    println!(
        "{:<28} {:>8} {:>8} {:>8} {:>8} {:>8}  {:>7}",
        "query", "p50 µs", "p99 µs", "max µs", "mean µs", "cpu µs", "total"
    );
    // `LATENCY_ONLY=label` runs one query of the mix (for profiling).
    let only = std::env::var("LATENCY_ONLY").ok();
    for (label, q) in synthetic::benchmark_queries() {
        if only.as_deref().is_some_and(|o| o != label) {
            continue;
        }
        // Warm-up.
        let mut total = 0;
        for _ in 0..50 {
            total = index.search(&q)?.total;
        }
        let mut samples = Vec::with_capacity(iterations);
        let cpu_start = thread_cpu_us();
        for _ in 0..iterations {
            let t = Instant::now();
            let r = index.search(&q)?;
            samples.push(t.elapsed().as_micros() as u64);
            std::hint::black_box(r);
        }
        let cpu = match (cpu_start, thread_cpu_us()) {
            (Some(a), Some(b)) => (b.saturating_sub(a) / iterations.max(1) as u64).to_string(),
            _ => "?".to_owned(),
        };
        samples.sort_unstable();
        let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
        let mean = samples.iter().sum::<u64>() / samples.len() as u64;
        println!(
            "{:<28} {:>8} {:>8} {:>8} {:>8} {:>8}  {:>7}",
            label,
            pct(0.50),
            pct(0.99),
            samples.last().copied().unwrap_or(0),
            mean,
            cpu,
            total
        );
    }
    println!("VmRSS at end: {} MiB", rss_kib().unwrap_or(0) / 1024);
    Ok(())
}
