//! Search quality over the demo province (the issue's first-hit measure).
//!
//! ```text
//! cargo run --release -p yiwang-services --example search_quality [-- --verbose]
//! cargo run --release -p yiwang-services --example search_quality -- --show 开饭店 …   (top hits, scores)
//! ```
//!
//! For every published demo item: searching its exact name within its own region must return
//! it first, and searching its exact name with no filter must return an item of that name
//! first. For every everyday phrase of the catalogue (`phrases` in data/demo, e.g. 开饭店): the
//! first hit must implement that catalogue entry. Prints each rate and every miss.

use std::sync::Arc;

use yiwang_services::catalogue::{self, ItemQuery};
use yiwang_services::{Platform, SystemClock, demo};
use yiwang_store::{Db, Row};

fn q(text: &str, region: Option<&str>) -> ItemQuery {
    ItemQuery {
        q: text.to_string(),
        region: region.map(str::to_string),
        page: 1,
        per_page: 5,
        ..ItemQuery::default()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let verbose = std::env::args().any(|a| a == "--verbose");
    let dir = std::env::temp_dir().join(format!("yiwang-quality-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = Db::open_data_dir(&dir).await?;
    db.migrate().await?;
    let p = Platform::open(db, Arc::new(SystemClock))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    demo::load(&p).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let shown: Vec<String> = std::env::args()
        .skip_while(|a| a != "--show")
        .skip(1)
        .collect();
    let result = if shown.is_empty() {
        measure(&p, verbose).await
    } else {
        show(&p, &shown)
    };
    std::fs::remove_dir_all(&dir).ok();
    result
}

/// Prints the top hits of each query with their scores.
fn show(p: &Platform, queries: &[String]) -> anyhow::Result<()> {
    for text in queries {
        let r = p.search.search(&yiwang_search::SearchQuery {
            text: text.clone(),
            limit: std::env::var("TOP").map_or(Ok(8), |v| v.parse())?,
            ..Default::default()
        })?;
        println!("== {text} ({} matches)", r.total);
        let codes: Vec<String> = r.hits.iter().map(|h| h.code.clone()).collect();
        let names = p.summaries.get_many(&codes);
        for (h, s) in r.hits.iter().zip(names) {
            println!("  {:>8.2}  {}  {}", h.score, s.name, s.code);
        }
    }
    Ok(())
}

async fn measure(p: &Platform, verbose: bool) -> anyhow::Result<()> {
    let all = sqlx::query(
        "SELECT i.code, i.region, i.basic_code, i.name FROM items i WHERE i.state = 'active' ORDER BY i.code",
    )
    .fetch_all(p.db.pool())
    .await?;
    let (mut own_first, mut name_first) = (0usize, 0usize);
    for r in &all {
        let code: String = r.get("code");
        let region: String = r.get("region");
        let name: String = r.get("name");
        let hits = catalogue::search(p, &q(&name, Some(&region)), false)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if hits.items.first().map(|s| s.code.as_str()) == Some(code.as_str()) {
            own_first += 1;
        } else if verbose {
            println!(
                "miss (own region) {name} [{region}] -> {:?}",
                hits.items.first().map(|s| &s.name)
            );
        }
        let hits =
            catalogue::search(p, &q(&name, None), false).map_err(|e| anyhow::anyhow!("{e}"))?;
        if hits.items.first().map(|s| s.name.as_str()) == Some(name.as_str()) {
            name_first += 1;
        } else {
            println!(
                "miss (exact name) {name} -> {:?}",
                hits.items.first().map(|s| &s.name)
            );
        }
    }
    let entries = sqlx::query("SELECT basic_code, name, phrases FROM catalogue_items")
        .fetch_all(p.db.pool())
        .await?;
    let (mut phrases, mut phrase_first) = (0usize, 0usize);
    for e in &entries {
        let basic: String = e.get("basic_code");
        let name: String = e.get("name");
        let list: Vec<String> = serde_json::from_str(&e.get::<String, _>("phrases"))?;
        for ph in list {
            phrases += 1;
            let hits =
                catalogue::search(p, &q(&ph, None), false).map_err(|e| anyhow::anyhow!("{e}"))?;
            if hits.items.first().is_some_and(|s| s.code.ends_with(&basic)) {
                phrase_first += 1;
            } else {
                println!(
                    "miss (phrase) {ph} -> {:?}, want {name}",
                    hits.items.first().map(|s| &s.name)
                );
            }
        }
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            100.0
        } else {
            a as f64 * 100.0 / b as f64
        }
    };
    println!("items: {}", all.len());
    println!(
        "exact name, own region, item first: {own_first}/{} = {:.1}%",
        all.len(),
        pct(own_first, all.len())
    );
    println!(
        "exact name, whole province, same-named item first: {name_first}/{} = {:.1}%",
        all.len(),
        pct(name_first, all.len())
    );
    println!(
        "everyday phrases, right entry first: {phrase_first}/{phrases} = {:.1}%",
        pct(phrase_first, phrases)
    );
    Ok(())
}
