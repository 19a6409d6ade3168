//! Per-segment dense tables of the values that every search reads for every matching document:
//! facet ordinals, popularity and the sort keys.
//!
//! They are decoded once from tantivy's fast fields when a segment first becomes visible (after a
//! commit) and then shared by all searches of that segment. Facet counting is bound by memory
//! latency (matching documents are scattered over the segment), so the facet values of a document
//! are packed into one small [`FacetRow`] (one cache-line fetch per document instead of one per
//! dimension), and the sort keys, needed only for documents that might enter the top `k`, live in
//! a separate [`SortRow`] array. Generic column access (bit-unpacking plus a column-index lookup
//! per value and dimension) was several times slower.
//!
//! Ordinals are those of the segment's own fast-field dictionary, which is sorted, so comparing
//! two name ordinals of one segment compares the names. Across segments the strings are compared
//! (see the collector's merge).

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::columnar::{Column, StrColumn};
use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SegmentReader};

use crate::SearchError;
use crate::schema::names;

/// Marks a document without a value in a single-valued dimension.
pub const NONE: u16 = u16::MAX;

/// The facet dimensions, in the order of [`crate::Facets`]' fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    Region,
    Department,
    ItemType,
    ServiceObject,
    Theme,
    Online,
    Scope,
    Level,
}

impl Dim {
    pub const ALL: [Dim; 8] = [
        Dim::Region,
        Dim::Department,
        Dim::ItemType,
        Dim::ServiceObject,
        Dim::Theme,
        Dim::Online,
        Dim::Scope,
        Dim::Level,
    ];

    fn field(self) -> &'static str {
        match self {
            Dim::Region => names::REGION,
            Dim::Department => names::DEPARTMENT,
            Dim::ItemType => names::ITEM_TYPE,
            Dim::ServiceObject => names::SERVICE_OBJECTS,
            Dim::Theme => names::THEMES,
            Dim::Online => names::ONLINE,
            Dim::Scope => names::SCOPE,
            Dim::Level => names::LEVEL,
        }
    }
}

/// Number of single-valued facet dimensions (their ordinals live in [`FacetRow::single`]).
const SINGLE_DIMS: usize = 6;
/// Position in [`Dim::ALL`] of each single-valued dimension, in [`FacetRow::single`] order.
const SINGLE: [usize; SINGLE_DIMS] = [0, 1, 2, 5, 6, 7];
/// Position in [`Dim::ALL`] of the two multi-valued dimensions, in [`FacetRow::masks`] order.
const MULTI: [usize; 2] = [3, 4];

/// The facet values of one document (32 bytes).
#[derive(Clone, Copy, Debug, Default)]
pub struct FacetRow {
    /// Ordinals of the single-valued dimensions ([`NONE`] when absent; unused for a dimension
    /// with 65,535 values or more in the segment, see [`SegmentTable::wide`]).
    single: [u16; SINGLE_DIMS],
    /// Multi-valued dimensions with at most 64 values in the segment: bit `o` for ordinal `o`.
    masks: [u64; 2],
}

/// The tie-break keys of one document (12 bytes), read only for documents that may enter the
/// top `k` (popularity, the first tie-break, is kept apart in [`SegmentTable::popularity`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct SortRow {
    pub name_ord: u32,
    pub code_ord: u32,
    pub name_len: u16,
}

/// The values of a segment's dictionary, by ordinal, in one allocation.
#[derive(Default)]
pub struct StrPool {
    bytes: String,
    ends: Vec<u32>,
}

impl StrPool {
    fn from_column(col: Option<&StrColumn>) -> Result<Self, SearchError> {
        let mut pool = StrPool::default();
        let Some(col) = col else { return Ok(pool) };
        // Streaming the dictionary decompresses each block once; `ord_to_str` per ordinal
        // would decompress a block per call.
        let mut stream = col.dictionary().stream()?;
        pool.ends.reserve(col.num_terms());
        while stream.advance() {
            pool.bytes.push_str(&String::from_utf8_lossy(stream.key()));
            pool.ends.push(u32::try_from(pool.bytes.len()).map_err(|_| {
                SearchError::internal_msg("fast-field dictionary larger than 4 GiB")
            })?);
        }
        Ok(pool)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn get(&self, ord: u32) -> &str {
        let o = ord as usize;
        let end = self.ends.get(o).copied().unwrap_or(0) as usize;
        let start = match o.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(0) as usize,
            None => 0,
        };
        self.bytes.get(start..end).unwrap_or("")
    }
}

/// A multi-valued dimension with more than 64 values in a segment: per-document ordinal lists.
struct Overflow {
    starts: Vec<u32>,
    ords: Vec<u32>,
}

/// Per-dimension facet counts of one segment, indexed by ordinal.
pub struct Counts(pub Vec<Vec<u32>>);

/// The dense tables of one segment.
pub struct SegmentTable {
    pub facets: Vec<FacetRow>,
    /// Popularity per document: 4 bytes a document, so that the top-`k` selection can reject
    /// most documents from an array that stays in cache.
    pub popularity: Vec<u32>,
    pub sort: Vec<SortRow>,
    /// Values of each dimension, in [`Dim::ALL`] order.
    pub values: Vec<StrPool>,
    /// Ordinals of a single-valued dimension too large for `u16`, per document.
    wide: [Option<Vec<u32>>; SINGLE_DIMS],
    /// For each multi-valued dimension, `Some` when it has more than 64 values.
    overflow: [Option<Overflow>; 2],
    names: StrPool,
    codes: StrPool,
}

/// Counts the facet values of `rows` (the common case: no wide or overflowing dimension).
#[inline]
fn count_rows<'r>(
    rows: impl Iterator<Item = &'r FacetRow>,
    single: &mut [&mut Vec<u32>; SINGLE_DIMS],
    multi: &mut [&mut Vec<u32>; 2],
) {
    for row in rows {
        for (c, &ord) in single.iter_mut().zip(row.single.iter()) {
            if let Some(x) = c.get_mut(usize::from(ord)) {
                *x += 1;
            }
        }
        for (c, &mask) in multi.iter_mut().zip(row.masks.iter()) {
            let mut m = mask;
            while m != 0 {
                if let Some(x) = c.get_mut(m.trailing_zeros() as usize) {
                    *x += 1;
                }
                m &= m - 1;
            }
        }
    }
}

fn first_ord(col: Option<&StrColumn>, doc: DocId) -> Option<u32> {
    col.and_then(|c| c.ords().first(doc))
        .and_then(|o| u32::try_from(o).ok())
}

fn first_u64(col: Option<&Column<u64>>, doc: DocId) -> Option<u64> {
    col.and_then(|c| c.first(doc))
}

impl SegmentTable {
    /// Decodes the tables of a segment from its fast fields.
    pub fn build(reader: &SegmentReader) -> Result<Self, SearchError> {
        Self::build_with(reader, usize::from(NONE), 64)
    }

    /// [`build`](Self::build) with the limits of the compact layout as parameters: a
    /// single-valued dimension with `max_narrow` values or more goes to [`Self::wide`], a
    /// multi-valued one with more than `max_mask` (at most 64) to `overflow`. Tests lower them
    /// to exercise those paths on small data.
    fn build_with(
        reader: &SegmentReader,
        max_narrow: usize,
        max_mask: usize,
    ) -> Result<Self, SearchError> {
        let max_doc = reader.max_doc();
        let ff = reader.fast_fields();
        let popularity = ff.u64(names::POPULARITY).ok();
        let name_len = ff.u64(names::NAME_LEN).ok();
        let name_col = ff.str(names::NAME_SORT)?;
        let code_col = ff.str(names::CODE)?;
        let mut dim_cols = Vec::with_capacity(Dim::ALL.len());
        let mut values = Vec::with_capacity(Dim::ALL.len());
        for dim in Dim::ALL {
            let col = ff.str(dim.field())?;
            values.push(StrPool::from_column(col.as_ref())?);
            dim_cols.push(col);
        }
        let mut wide: [Option<Vec<u32>>; SINGLE_DIMS] = Default::default();
        for (slot, &d) in wide.iter_mut().zip(SINGLE.iter()) {
            if values.get(d).is_some_and(|v| v.len() >= max_narrow) {
                *slot = Some(Vec::with_capacity(max_doc as usize));
            }
        }
        let mut overflow: [Option<Overflow>; 2] = [None, None];
        for (slot, &d) in overflow.iter_mut().zip(MULTI.iter()) {
            if values.get(d).is_some_and(|v| v.len() > max_mask.min(64)) {
                *slot = Some(Overflow {
                    starts: vec![0],
                    ords: Vec::new(),
                });
            }
        }
        let mut facets = Vec::with_capacity(max_doc as usize);
        let mut sort = Vec::with_capacity(max_doc as usize);
        let mut pops = Vec::with_capacity(max_doc as usize);
        for doc in 0..max_doc {
            pops.push(
                first_u64(popularity.as_ref(), doc)
                    .map_or(0, |p| u32::try_from(p).unwrap_or(u32::MAX)),
            );
            sort.push(SortRow {
                name_len: first_u64(name_len.as_ref(), doc)
                    .map_or(u16::MAX, |p| u16::try_from(p).unwrap_or(u16::MAX)),
                name_ord: first_ord(name_col.as_ref(), doc).unwrap_or(u32::MAX),
                code_ord: first_ord(code_col.as_ref(), doc).unwrap_or(u32::MAX),
            });
            let mut row = FacetRow::default();
            for ((slot, w), &d) in row
                .single
                .iter_mut()
                .zip(wide.iter_mut())
                .zip(SINGLE.iter())
            {
                let ord = first_ord(dim_cols.get(d).and_then(Option::as_ref), doc);
                match w {
                    Some(w) => w.push(ord.unwrap_or(u32::MAX)),
                    None => *slot = ord.and_then(|o| u16::try_from(o).ok()).unwrap_or(NONE),
                }
            }
            for ((mask, over), &d) in row
                .masks
                .iter_mut()
                .zip(overflow.iter_mut())
                .zip(MULTI.iter())
            {
                let Some(col) = dim_cols.get(d).and_then(Option::as_ref) else {
                    continue;
                };
                let ords = col.term_ords(doc).filter_map(|o| u32::try_from(o).ok());
                match over {
                    Some(o) => {
                        o.ords.extend(ords);
                        o.starts
                            .push(u32::try_from(o.ords.len()).unwrap_or(u32::MAX));
                    }
                    None => {
                        for ord in ords {
                            *mask |= 1u64 << (ord & 63);
                        }
                    }
                }
            }
            facets.push(row);
        }
        Ok(Self {
            facets,
            popularity: pops,
            sort,
            values,
            wide,
            overflow,
            names: StrPool::from_column(name_col.as_ref())?,
            codes: StrPool::from_column(code_col.as_ref())?,
        })
    }

    /// Zeroed facet counters for this segment.
    pub fn new_counts(&self) -> Counts {
        Counts(self.values.iter().map(|v| vec![0u32; v.len()]).collect())
    }

    /// Adds the facet values of each document of `docs` to `counts`. One tight loop over all
    /// documents lets the processor overlap the cache misses of successive rows.
    pub fn count(&self, docs: &[DocId], counts: &mut Counts) {
        let simple =
            self.wide.iter().all(Option::is_none) && self.overflow.iter().all(Option::is_none);
        let [c0, c1, c2, c3, c4, c5, c6, c7] = counts.0.as_mut_slice() else {
            return;
        };
        if simple {
            let mut single: [&mut Vec<u32>; SINGLE_DIMS] = [c0, c1, c2, c5, c6, c7];
            let mut multi: [&mut Vec<u32>; 2] = [c3, c4];
            if docs.len() * 4 >= self.facets.len() {
                // Most documents match: the rows are read nearly in sequence anyway.
                let rows = docs.iter().filter_map(|&d| self.facets.get(d as usize));
                count_rows(rows, &mut single, &mut multi);
            } else {
                // Scattered matches: first gather the rows, a loop of independent loads with no
                // data-dependent branch, so the processor keeps many cache misses in flight;
                // then count from the gathered rows, which are in cache by then.
                let rows: Vec<FacetRow> = docs
                    .iter()
                    .filter_map(|&d| self.facets.get(d as usize).copied())
                    .collect();
                count_rows(rows.iter(), &mut single, &mut multi);
            }
            return;
        }
        let mut single: [&mut Vec<u32>; SINGLE_DIMS] = [c0, c1, c2, c5, c6, c7];
        let mut multi: [&mut Vec<u32>; 2] = [c3, c4];
        for &doc in docs {
            let d = doc as usize;
            let Some(row) = self.facets.get(d) else {
                continue;
            };
            for ((c, &ord), w) in single
                .iter_mut()
                .zip(row.single.iter())
                .zip(self.wide.iter())
            {
                let ord = match w {
                    Some(w) => w.get(d).copied().unwrap_or(u32::MAX) as usize,
                    None => usize::from(ord),
                };
                if let Some(x) = c.get_mut(ord) {
                    *x += 1;
                }
            }
            for ((c, &mask), over) in multi
                .iter_mut()
                .zip(row.masks.iter())
                .zip(self.overflow.iter())
            {
                match over {
                    None => {
                        let mut m = mask;
                        while m != 0 {
                            if let Some(x) = c.get_mut(m.trailing_zeros() as usize) {
                                *x += 1;
                            }
                            m &= m - 1;
                        }
                    }
                    Some(o) => {
                        if let (Some(&s), Some(&e)) = (o.starts.get(d), o.starts.get(d + 1)) {
                            for &ord in o.ords.get(s as usize..e as usize).unwrap_or_default() {
                                if let Some(x) = c.get_mut(ord as usize) {
                                    *x += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The name whose ordinal is `ord`.
    pub fn name(&self, ord: u32) -> &str {
        self.names.get(ord)
    }

    /// The code whose ordinal is `ord`.
    pub fn code(&self, ord: u32) -> &str {
        self.codes.get(ord)
    }
}

/// A searcher together with the tables of its segments: what one search reads.
pub struct Snapshot {
    pub searcher: Searcher,
    pub tables: HashMap<SegmentId, Arc<SegmentTable>>,
}

impl Snapshot {
    /// Builds the snapshot of `searcher`, reusing the tables of segments `previous` already had
    /// (a segment's fast fields never change; deletions are applied through its alive bitset).
    pub fn build(searcher: Searcher, previous: Option<&Snapshot>) -> Result<Self, SearchError> {
        let mut tables = HashMap::new();
        for reader in searcher.segment_readers() {
            let id = reader.segment_id();
            let table = match previous.and_then(|p| p.tables.get(&id)) {
                Some(t) => Arc::clone(t),
                None => Arc::new(SegmentTable::build(reader)?),
            };
            tables.insert(id, table);
        }
        Ok(Self { searcher, tables })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ItemDoc, SearchIndex};

    fn doc(i: usize) -> ItemDoc {
        ItemDoc {
            code: format!("C{i}"),
            name: format!("事项{i}"),
            department: format!("D{}", i % 7),
            region: format!("43010{}", i % 5),
            level: "4".into(),
            item_type: format!("0{}", i % 3),
            service_objects: (0..=(i % 3))
                .map(|k| ((k + i) % 6 + 1).to_string())
                .collect(),
            themes: (0..(i % 4)).map(|k| format!("t{}", (i + k) % 9)).collect(),
            online: i.is_multiple_of(2),
            scope: (i % 4).to_string(),
            popularity: i as u32,
            ..ItemDoc::default()
        }
    }

    /// The wide (u32) and overflow (ordinal list) layouts count exactly like the compact one.
    #[test]
    fn every_layout_counts_the_same() {
        let index = SearchIndex::in_memory().unwrap();
        index.replace_all((0..300).map(doc)).unwrap();
        let snapshot = index.current().unwrap();
        // The writer may cut the documents into several segments, and a small one may have no
        // column that needs the wide or the overflow layout: some segment must.
        let (mut wide_seen, mut overflow_seen) = (false, false);
        for reader in snapshot.searcher.segment_readers() {
            let compact = SegmentTable::build(reader).unwrap();
            let spilled = SegmentTable::build_with(reader, 2, 2).unwrap();
            wide_seen |= spilled.wide.iter().any(Option::is_some);
            overflow_seen |= spilled.overflow.iter().any(Option::is_some);
            let all: Vec<DocId> = (0..reader.max_doc()).collect();
            for docs in [&all[..], &all[..3], &all[all.len() / 3..]] {
                let (mut a, mut b) = (compact.new_counts(), spilled.new_counts());
                compact.count(docs, &mut a);
                spilled.count(docs, &mut b);
                assert_eq!(a.0, b.0);
                assert!(
                    a.0.iter()
                        .all(|c| c.iter().sum::<u32>() > 0 || docs.len() < 5)
                );
            }
        }
        assert!(wide_seen, "no segment used the wide layout");
        assert!(overflow_seen, "no segment used the overflow layout");
    }
}
