//! Latency report for `yiwang-search` over a generated catalogue: builds an in-memory index of
//! 100,000 synthetic items (or `N` from the first argument), prints the indexing time and the
//! process RSS, then runs each query of a fixed mix many times and prints p50/p99/max in µs.
//!
//! Run: `cargo run --release -p yiwang-search --example latency --features synthetic [-- N ITER]`

use std::time::Instant;

use yiwang_search::{Filters, SearchIndex, SearchQuery, synthetic};

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The query mix measured here and in the criterion bench.
pub fn queries() -> Vec<(&'static str, SearchQuery)> {
    let q = |text: &str, filters: Filters| SearchQuery {
        text: text.to_owned(),
        filters,
        offset: 0,
        limit: 20,
        facets: true,
    };
    vec![
        ("营业执照", q("营业执照", Filters::default())),
        ("养老", q("养老", Filters::default())),
        ("食品经营", q("食品经营", Filters::default())),
        (
            "不动产登记+长沙市子树+个人",
            q(
                "不动产登记",
                Filters {
                    region: Some("430100".into()),
                    region_subtree: true,
                    person: Some(true),
                    ..Filters::default()
                },
            ),
        ),
        ("社保卡 补办", q("社保卡 补办", Filters::default())),
        (
            "空查询+岳麓区+可网办",
            q(
                "",
                Filters {
                    region: Some("430104".into()),
                    online: Some(true),
                    ..Filters::default()
                },
            ),
        ),
        (
            "空查询+长沙市子树+法人",
            q(
                "",
                Filters {
                    region: Some("430100".into()),
                    region_subtree: true,
                    person: Some(false),
                    ..Filters::default()
                },
            ),
        ),
        ("空查询(全部)", q("", Filters::default())),
    ]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let iterations: usize = args.next().map_or(Ok(2_000), |a| a.parse())?;

    let rss_start = rss_kib().unwrap_or(0);
    let t = Instant::now();
    let docs = synthetic::generate(n, 42);
    let generated = t.elapsed();
    let index = SearchIndex::in_memory()?;
    let rss_before_index = rss_kib().unwrap_or(0);
    let t = Instant::now();
    index.replace_all(docs)?;
    let indexing = t.elapsed();
    println!("items: {}, segments: {}", index.num_docs(), index.num_segments());
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average: {}", load.trim());
    }
    println!("generate: {:.2} s", generated.as_secs_f64());
    println!("index (replace_all, one commit): {:.2} s", indexing.as_secs_f64());
    println!(
        "VmRSS: {} MiB at start, {} MiB before indexing (jieba loaded, docs generated), {} MiB after",
        rss_start / 1024,
        rss_before_index / 1024,
        rss_kib().unwrap_or(0) / 1024
    );

    println!("{:<28} {:>8} {:>8} {:>8} {:>8}  {:>7}", "query", "p50 µs", "p99 µs", "max µs", "mean µs", "total");
    // `LATENCY_ONLY=label` runs one query of the mix (for profiling).
    let only = std::env::var("LATENCY_ONLY").ok();
    for (label, q) in queries() {
        if only.as_deref().is_some_and(|o| o != label) {
            continue;
        }
        // Warm-up.
        let mut total = 0;
        for _ in 0..50 {
            total = index.search(&q)?.total;
        }
        let mut samples = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let t = Instant::now();
            let r = index.search(&q)?;
            samples.push(t.elapsed().as_micros() as u64);
            std::hint::black_box(r);
        }
        samples.sort_unstable();
        let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
        let mean = samples.iter().sum::<u64>() / samples.len() as u64;
        println!(
            "{:<28} {:>8} {:>8} {:>8} {:>8}  {:>7}",
            label,
            pct(0.50),
            pct(0.99),
            samples.last().copied().unwrap_or(0),
            mean,
            total
        );
    }
    println!("VmRSS at end: {} MiB", rss_kib().unwrap_or(0) / 1024);
    Ok(())
}
