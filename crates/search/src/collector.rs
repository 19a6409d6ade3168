//! One collector that, over the matching documents, counts them, counts facet values and keeps
//! the best `offset + limit` documents by the ranking order.
//!
//! Ranking order: with a text query, score (higher first), popularity (higher first), name
//! length (shorter first), name, code; without one, popularity, name, code. The code makes the
//! order total, so paging never repeats or skips an item.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
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

/// Collects the matching documents of a segment and their scores; the facet counting and top-k
/// selection run in `harvest`, in tight loops over the buffered documents (see `table`).
pub struct ItemSegmentCollector {
    table: Arc<SegmentTable>,
    top: usize,
    scored: bool,
    facets: bool,
    docs: Vec<DocId>,
    scores: Vec<Score>,
}

impl SegmentCollector for ItemSegmentCollector {
    type Fruit = SegmentFruit;

    #[inline]
    fn collect(&mut self, doc: DocId, score: Score) {
        self.docs.push(doc);
        if self.scored {
            self.scores.push(score);
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.docs.extend_from_slice(docs);
    }

    fn harvest(self) -> SegmentFruit {
        let facets = self.facets.then(|| {
            let mut counts = self.table.new_counts();
            self.table.count(&self.docs, &mut counts);
            counts
        });
        let top = self.select_top();
        SegmentFruit {
            count: self.docs.len() as u64,
            top,
            facets,
            table: self.table,
        }
    }
}

impl ItemSegmentCollector {
    /// The best `top` documents of the segment, unordered.
    fn select_top(&self) -> Vec<Candidate> {
        if self.top == 0 {
            return Vec::new();
        }
        let mut heap: BinaryHeap<Candidate> = BinaryHeap::with_capacity(self.top.min(4096) + 1);
        for (i, &doc) in self.docs.iter().enumerate() {
            let score = self.scores.get(i).copied().unwrap_or(0.0);
            let popularity = self
                .table
                .popularity
                .get(doc as usize)
                .copied()
                .unwrap_or(0);
            if heap.len() >= self.top {
                // Cheap rejection on score and popularity, before the sort row is read.
                if let Some(worst) = heap.peek()
                    && (score < worst.score
                        || (score == worst.score && popularity < worst.popularity))
                {
                    continue;
                }
            }
            let Some(row) = self.table.sort.get(doc as usize) else {
                continue;
            };
            let c = Candidate {
                score,
                popularity,
                name_len: if self.scored { row.name_len } else { 0 },
                name_ord: row.name_ord,
                code_ord: row.code_ord,
            };
            if heap.len() < self.top {
                heap.push(c);
            } else if let Some(mut worst) = heap.peek_mut()
                && c.rank_cmp(&worst) == Ordering::Less
            {
                *worst = c;
            }
        }
        heap.into_vec()
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
            .then_with(|| self.name.cmp(other.name))
            .then_with(|| self.code.cmp(other.code))
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
        Ok(ItemSegmentCollector {
            top: self.top,
            scored: self.scored,
            facets: self.facets,
            docs: Vec::with_capacity(if self.facets {
                segment.num_docs() as usize / 8
            } else {
                64
            }),
            scores: Vec::new(),
            table,
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
        let facets = if self.facets {
            Some(merge_facets(fruits))
        } else {
            None
        };
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
        let hits = resolved
            .into_iter()
            .map(|r| Hit {
                code: r.code.to_owned(),
                score: r.score,
            })
            .collect();
        Collected {
            total,
            hits,
            facets,
        }
    }
}

fn merge_facets(fruits: &[SegmentFruit]) -> Facets {
    let mut lists = (0..Dim::ALL.len()).map(|d| merge_dimension(fruits, d));
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

/// The counts of dimension `d` over all segments, sorted by count (descending) then value.
/// Each segment's values come in dictionary order, so equal values of different segments
/// meet after one sort by value; no hashing is needed.
fn merge_dimension(fruits: &[SegmentFruit], d: usize) -> Vec<FacetCount> {
    let mut pairs: Vec<(&str, u64)> = Vec::new();
    for f in fruits {
        let (Some(counts), Some(values)) = (
            f.facets.as_ref().and_then(|c| c.0.get(d)),
            f.table.values.get(d),
        ) else {
            continue;
        };
        for (ord, &n) in counts.iter().enumerate() {
            if n > 0 {
                pairs.push((values.get(ord as u32), u64::from(n)));
            }
        }
    }
    if fruits.len() > 1 {
        pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
        pairs.dedup_by(|later, kept| {
            if later.0 == kept.0 {
                kept.1 += later.1;
                true
            } else {
                false
            }
        });
    }
    pairs.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    pairs
        .into_iter()
        .map(|(value, count)| FacetCount {
            value: value.to_owned(),
            count,
        })
        .collect()
}
