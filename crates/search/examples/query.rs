//! Interactive look at the ranking: builds an index over a generated catalogue and prints the top
//! hits (name, aliases, region, popularity, score) and the facet counts for each query given.
//!
//! Run: `cargo run --release -p yiwang-search --example query --features synthetic -- 养老 社保卡`
//! (`N=20000` sets the catalogue size, `TOP=10` the number of hits shown).

use std::collections::HashMap;

use yiwang_search::{SearchIndex, SearchQuery, synthetic};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::var("N").map_or(Ok(20_000), |v| v.parse())?;
    let top: usize = std::env::var("TOP").map_or(Ok(10), |v| v.parse())?;
    let docs = synthetic::generate(n, 42);
    let by_code: HashMap<String, _> = docs.iter().map(|d| (d.code.clone(), d.clone())).collect();
    let index = SearchIndex::in_memory()?;
    index.replace_all(docs)?;
    for text in std::env::args().skip(1) {
        let r = index.search(&SearchQuery {
            text: text.clone(),
            limit: top,
            facets: true,
            ..SearchQuery::default()
        })?;
        println!("== {text} — {} matches", r.total);
        for h in &r.hits {
            if let Some(d) = by_code.get(&h.code) {
                println!(
                    "  {:>8.2}  {}  {:?}  {} pop={}",
                    h.score, d.name, d.aliases, d.department_name, d.popularity
                );
            }
        }
        if let Some(f) = r.facets {
            let show = |name: &str, v: &[yiwang_search::FacetCount]| {
                let s: Vec<String> = v
                    .iter()
                    .take(6)
                    .map(|c| format!("{}:{}", c.value, c.count))
                    .collect();
                println!("  [{name}] {}", s.join(" "));
            };
            show("item_type", &f.item_type);
            show("service_object", &f.service_object);
            show("level", &f.level);
        }
    }
    Ok(())
}
