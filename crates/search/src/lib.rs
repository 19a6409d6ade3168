//! `yiwang-search`: Chinese full-text search over government service items (政务服务事项).
//!
//! An engine crate: it knows nothing of HTTP, databases or async runtimes. The platform builds
//! the index from its database at start-up ([`SearchIndex::replace_all`]) and keeps it fresh as
//! items are published, changed or cancelled ([`SearchIndex::upsert`], [`SearchIndex::remove`]).
//!
//! * Text is cut with jieba plus a dictionary of government terms (`dict/gov.txt`), in a search
//!   mode that also indexes the dictionary words inside longer words, and with a character-gram
//!   fallback over names and aliases so that any substring of a name finds it (module `text`).
//! * Relevance: exact name, then exact alias, then name/alias words, then materials, guide text
//!   and legal basis; items matching all query words are preferred (module `query` explains the
//!   model).
//!   Ties go to the more popular item, then the shorter name.
//! * Filters are exact; facet counts cover every matching item, for every dimension, computed
//!   from per-segment columnar tables without reading stored documents (modules `table`,
//!   `collector`).
//!
//! * Performance: the goal is a p99 search latency of 5 ms with facets over 100,000 items on two
//!   cores. `benches/search.rs` (criterion) and `examples/latency.rs` (percentiles, indexing time,
//!   RSS) measure it over the `synthetic` catalogue (feature `synthetic`); the commands are at
//!   the top of the bench file.
//!
//! **Architecture Invariant:** no dependency on axum, sqlx, tokio or any other I/O framework; the
//! only stored field is `code` — the platform's database is the source of truth for the rest.
//!
//! **Architecture Invariant:** one jieba dictionary per process (a `static`), shared by every
//! index and every tokenizer; it takes about 0.15 s and 35 MB to load.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::todo)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod collector;
mod error;
mod index;
mod query;
mod schema;
#[cfg(feature = "synthetic")]
pub mod synthetic;
mod table;
mod text;

pub use error::SearchError;
pub use index::{MAX_LIMIT, MAX_QUERY_CHARS, MAX_WINDOW, SearchIndex};

/// One service item as the index sees it (a flattened view of the item's current version).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemDoc {
    /// 实施编码 (31 characters), the unique key.
    pub code: String,
    /// 事项名称.
    pub name: String,
    /// Other names, abbreviations, colloquial synonyms (社保卡 for 社会保障卡…).
    pub aliases: Vec<String>,
    /// Guide text: conditions, process, result name, notes.
    pub body: String,
    /// Names of the required materials.
    pub materials: Vec<String>,
    /// Laws and article text.
    pub legal_basis: String,
    /// Implementing organisation's unified social credit code (filter key).
    pub department: String,
    /// Its name (searchable, low weight).
    pub department_name: String,
    /// 6-digit region code of the implementing body.
    pub region: String,
    /// Ancestors including itself, e.g. `["430000", "430100", "430104"]`.
    pub region_path: Vec<String>,
    /// 行使层级: "2" province, "3" prefecture, "4" county.
    pub level: String,
    /// 事项类型 code: "01".."10", "20".
    pub item_type: String,
    /// 服务对象 codes "1".."6" ("1" = natural person).
    pub service_objects: Vec<String>,
    /// Theme keys.
    pub themes: Vec<String>,
    /// Whether it can be applied for online.
    pub online: bool,
    /// 通办范围 code "0".."4".
    pub scope: String,
    /// Tie-breaker: higher first.
    pub popularity: u32,
}

/// Exact filters; `None` means "any".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    /// Region code.
    pub region: Option<String>,
    /// `false`: exactly that region; `true`: that region or any descendant.
    pub region_subtree: bool,
    /// Implementing organisation's credit code.
    pub department: Option<String>,
    pub item_type: Option<String>,
    pub service_object: Option<String>,
    /// `Some(true)`: service objects include "1" (natural person); `Some(false)`: include any
    /// of "2".."6" (legal persons and organisations).
    pub person: Option<bool>,
    pub theme: Option<String>,
    pub online: Option<bool>,
    pub scope: Option<String>,
}

/// A search request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// The user's text; empty: every item matches, ordered by popularity then name.
    pub text: String,
    pub filters: Filters,
    pub offset: usize,
    /// Page size, at most [`MAX_LIMIT`]; `offset + limit` at most [`MAX_WINDOW`].
    pub limit: usize,
    /// Whether to count facet values over all matching items.
    pub facets: bool,
}

/// One result.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// The item's code.
    pub code: String,
    /// Relevance score (0 for an empty query).
    pub score: f32,
}

/// How many matching items have one value of a dimension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// Facet counts per dimension, each sorted by count (descending) then value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facets {
    /// By `region` (the implementing body's own region, not its ancestors).
    pub region: Vec<FacetCount>,
    pub department: Vec<FacetCount>,
    pub item_type: Vec<FacetCount>,
    pub service_object: Vec<FacetCount>,
    pub theme: Vec<FacetCount>,
    /// Values `"true"` and `"false"`.
    pub online: Vec<FacetCount>,
    pub scope: Vec<FacetCount>,
    pub level: Vec<FacetCount>,
}

/// The answer to a [`SearchQuery`].
#[derive(Clone, Debug, PartialEq)]
pub struct SearchResults {
    /// Number of matching items.
    pub total: usize,
    /// The requested page, best first.
    pub hits: Vec<Hit>,
    /// Present when the query asked for facets.
    pub facets: Option<Facets>,
}
