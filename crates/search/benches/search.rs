//! Criterion benchmark of `yiwang-search` over a generated catalogue of 100,000 items.
//!
//! Commands (release mode; run from the workspace root):
//!
//! ```text
//! cargo bench -p yiwang-search                      # this criterion benchmark
//! cargo run --release -p yiwang-search --example latency --features synthetic
//!                                                   # p50/p99/max per query, indexing time, RSS
//! ```
//!
//! The index is built once; each query of `synthetic::benchmark_queries()` (facets on, first page
//! of 20) is then measured on its own. Criterion reports means; the latency example reports the
//! percentiles that the performance goal (p99 ≤ 5 ms on 2 cores) is stated in.

use criterion::{Criterion, criterion_group, criterion_main};
use yiwang_search::{SearchIndex, synthetic};

fn search(c: &mut Criterion) {
    let index = match SearchIndex::in_memory() {
        Ok(index) => index,
        Err(e) => {
            eprintln!("cannot create the index: {e}");
            return;
        }
    };
    if let Err(e) = index.replace_all(synthetic::generate_iter(100_000, 42)) {
        eprintln!("cannot build the index: {e}");
        return;
    }
    let mut group = c.benchmark_group("search_100k");
    for (label, query) in synthetic::benchmark_queries() {
        group.bench_function(label, |b| {
            b.iter(|| index.search(std::hint::black_box(&query)))
        });
    }
    group.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);
