//! One collector that, in a single pass over the matching documents, counts them, counts facet
//! values and keeps the best `offset + limit` documents by the ranking order.
//!
//! Ranking order: with a text query, score (higher first), popularity (higher first), name
//! length (shorter first), name, code; without one, popularity, name, code. The code makes the
//! order total, so paging never repeats or skips an item.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::table::{Counts, Dim, SegmentTable, Snapshot};
use crate::{FacetCount, Facets, Hit};

/// A candidate of one segment; ordinals are only comparable within that segment.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    score: Score,
    popularity: u32,
    name_len: u16,
    name_ord: u32,
    code_ord: u32,
}

impl Candidate {
    /// `Less` when `self` ranks before `other`.
    fn rank_cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(other.popularity.cmp(&self.popularity))
            .then(self.name_len.cmp(&other.name_len))
            .then(self.name_ord.cmp(&other.name_ord))
            .then(self.code_ord.cmp(&other.code_ord))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.rank_cmp(other) == Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
/// The max-heap order puts the worst-ranked candidate on top, ready to be evicted.
impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank_cmp(other)
    }
}

/// The collector; see the module doc.
pub struct ItemCollector {
    pub snapshot: Arc<Snapshot>,
    /// How many of the best documents to keep (`offset + limit`).
    pub top: usize,
    /// Whether scores are computed (a text query) — also switches the name-length tie-break on.
    pub scored: bool,
    pub facets: bool,
}

/// What one segment yields.
pub struct SegmentFruit {
    table: Arc<SegmentTable>,
    count: u64,
    top: Vec<Candidate>,
    facets: Option<Counts>,
}

/// What the whole search yields.
pub struct Collected {
    pub total: u64,
    /// The best `top` hits, in ranking order.
    pub hits: Vec<Hit>,
    pub facets: Option<Facets>,
}

pub struct ItemSegmentCollector {
    table: Arc<SegmentTable>,
    top: usize,
    scored: bool,
    count: u64,
    heap: BinaryHeap<Candidate>,
    facets: Option<Counts>,
}

impl SegmentCollector for ItemSegmentCollector {
    type Fruit = SegmentFruit;

    #[inline]
    fn collect(&mut self, doc: DocId, score: Score) {
        self.count += 1;
        let Some(row) = self.table.rows.get(doc as usize) else { return };
        if let Some(counts) = &mut self.facets {
            self.table.count(doc, row, counts);
        }
        if self.top == 0 {
            return;
        }
        let c = Candidate {
            score,
            popularity: row.popularity,
            name_len: if self.scored { row.name_len } else { 0 },
            name_ord: row.name_ord,
            code_ord: row.code_ord,
        };
        if self.heap.len() < self.top {
            self.heap.push(c);
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if c.rank_cmp(&worst) == Ordering::Less {
                *worst = c;
            }
        }
    }

    fn harvest(self) -> SegmentFruit {
        SegmentFruit {
            table: self.table,
            count: self.count,
            top: self.heap.into_vec(),
            facets: self.facets,
        }
    }
}

/// A candidate resolved to strings, comparable across segments.
struct Resolved<'a> {
    score: Score,
    popularity: u32,
    name_len: u16,
    name: &'a str,
    code: &'a str,
}

impl Resolved<'_> {
    fn rank_cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(other.popularity.cmp(&self.popularity))
            .then(self.name_len.cmp(&other.name_len))
            .then_with(|| self.name.cmp(&other.name))
            .then_with(|| self.code.cmp(&other.code))
    }
}

impl Collector for ItemCollector {
    type Fruit = Collected;
    type Child = ItemSegmentCollector;

    fn for_segment(
        &self,
        _segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<ItemSegmentCollector> {
        let table = match self.snapshot.tables.get(&segment.segment_id()) {
            Some(t) => Arc::clone(t),
            // Not expected (the snapshot is built from the same searcher), but cheap to recover.
            None => Arc::new(
                SegmentTable::build(segment)
                    .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))?,
            ),
        };
        let facets = self.facets.then(|| table.new_counts());
        Ok(ItemSegmentCollector {
            table,
            top: self.top,
            scored: self.scored,
            count: 0,
            heap: BinaryHeap::with_capacity(self.top.min(4096) + 1),
            facets,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scored
    }

    fn merge_fruits(&self, fruits: Vec<SegmentFruit>) -> tantivy::Result<Collected> {
        Ok(self.merge(&fruits))
    }
}

impl ItemCollector {
    fn merge(&self, fruits: &[SegmentFruit]) -> Collected {
        let total = fruits.iter().map(|f| f.count).sum();
        let facets = if self.facets { Some(merge_facets(fruits)) } else { None };
        let mut resolved = Vec::new();
        for f in fruits {
            for c in &f.top {
                resolved.push(Resolved {
                    score: c.score,
                    popularity: c.popularity,
                    name_len: c.name_len,
                    name: f.table.name(c.name_ord),
                    code: f.table.code(c.code_ord),
                });
            }
        }
        resolved.sort_by(Resolved::rank_cmp);
        resolved.truncate(self.top);
        let hits =
            resolved.into_iter().map(|r| Hit { code: r.code.to_owned(), score: r.score }).collect();
        Collected { total, hits, facets }
    }
}

fn merge_facets(fruits: &[SegmentFruit]) -> Facets {
    let mut per_dim: Vec<HashMap<&str, u64>> = vec![HashMap::new(); Dim::ALL.len()];
    for f in fruits {
        let Some(counts) = &f.facets else { continue };
        for ((counts, values), acc) in counts.0.iter().zip(&f.table.values).zip(per_dim.iter_mut()) {
            for (ord, &n) in counts.iter().enumerate() {
                if n > 0 {
                    *acc.entry(values.get(ord as u32)).or_insert(0) += u64::from(n);
                }
            }
        }
    }
    let mut lists = per_dim.into_iter().map(|m| {
        let mut v: Vec<FacetCount> =
            m.into_iter().map(|(value, count)| FacetCount { value: value.to_owned(), count }).collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        v
    });
    let mut next = || lists.next().unwrap_or_default();
    Facets {
        region: next(),
        department: next(),
        item_type: next(),
        service_object: next(),
        theme: next(),
        online: next(),
        scope: next(),
        level: next(),
    }
}
