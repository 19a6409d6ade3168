//! [`SearchIndex`]: the index, its single writer and the snapshot that searches read.
//!
//! Threading rule: any number of threads may search at once; they only clone an `Arc` of the
//! current [`Snapshot`] under a brief read lock and never wait for a writer. Writes (`replace_all`,
//! `upsert`, `remove`) are serialised by the writer mutex, and each one commits, reloads the
//! reader and swaps in a new snapshot before it returns, so the caller's next search sees it.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::collector::ItemCollector;
use crate::schema::{self, Fields, SCHEMA_VERSION};
use crate::table::Snapshot;
use crate::text::{
    GRAM_TOKENIZER, GramTokenizer, TITLE_TOKENIZER, WORD_TOKENIZER, WordTokenizer, jieba,
};
use crate::{ItemDoc, SearchError, SearchQuery, SearchResults, query};

/// Longest accepted query text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Largest accepted page size.
pub const MAX_LIMIT: usize = 1000;
/// Deepest accepted page end (`offset + limit`).
pub const MAX_WINDOW: usize = 10_000;

/// Memory budget of each indexing thread of the writer (tantivy's minimum is 15 MB); past it a
/// thread flushes a segment. Allocated while indexing, released after the commit.
const WRITER_BUDGET_PER_THREAD: usize = 24 << 20;

/// The item search index. `Send + Sync`; share it behind an `Arc`.
pub struct SearchIndex {
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    snapshot: RwLock<Arc<Snapshot>>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("num_docs", &self.num_docs())
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// A new, empty index held in memory.
    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, fields) = schema::build();
        Self::open(Index::create_in_ram(schema), fields)
    }

    /// Opens the index kept under `dir` (memory-mapped), creating it if needed. The files live in
    /// a sub-directory per schema version, so an index written by an older build is left alone
    /// (and can be deleted) rather than misread; the platform then rebuilds with `replace_all`.
    /// One `SearchIndex` at a time may hold a directory (tantivy's writer lock): a second open
    /// of the same directory fails with [`SearchError::Internal`].
    pub fn open_or_create(dir: &Path) -> Result<Self, SearchError> {
        let dir = dir.join(format!("v{SCHEMA_VERSION}"));
        std::fs::create_dir_all(&dir)?;
        let (schema, fields) = schema::build();
        let index = Index::open_or_create(MmapDirectory::open(&dir)?, schema)?;
        Self::open(index, fields)
    }

    fn open(index: Index, fields: Fields) -> Result<Self, SearchError> {
        // Load the dictionary now, so that a failure surfaces here and not inside a tokenizer.
        jieba()?;
        index
            .tokenizers()
            .register(WORD_TOKENIZER, WordTokenizer::default());
        index
            .tokenizers()
            .register(TITLE_TOKENIZER, WordTokenizer::all_words());
        index
            .tokenizers()
            .register(GRAM_TOKENIZER, GramTokenizer::default());
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4);
        let writer = index.writer_with_num_threads(threads, threads * WRITER_BUDGET_PER_THREAD)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let snapshot = Snapshot::build(reader.searcher(), None)?;
        Ok(Self {
            fields,
            reader,
            writer: Mutex::new(writer),
            snapshot: RwLock::new(Arc::new(snapshot)),
        })
    }

    fn lock_writer(&self) -> Result<MutexGuard<'_, IndexWriter>, SearchError> {
        self.writer
            .lock()
            .map_err(|_| SearchError::internal_msg("index writer lock poisoned"))
    }

    pub(crate) fn current(&self) -> Result<Arc<Snapshot>, SearchError> {
        self.snapshot
            .read()
            .map(|s| Arc::clone(&s))
            .map_err(|_| SearchError::internal_msg("snapshot lock poisoned"))
    }

    /// Commits, reloads the reader and swaps in the new snapshot. Called with the writer locked,
    /// so snapshots are installed in commit order.
    fn commit_and_reload(&self, writer: &mut IndexWriter) -> Result<(), SearchError> {
        if let Err(e) = writer.commit() {
            // Drop the uncommitted operations so the next write does not commit them by surprise.
            let _ = writer.rollback();
            return Err(e.into());
        }
        self.reader.reload()?;
        let previous = self.current()?;
        let next = Snapshot::build(self.reader.searcher(), Some(&previous))?;
        let mut slot = self
            .snapshot
            .write()
            .map_err(|_| SearchError::internal_msg("snapshot lock poisoned"))?;
        *slot = Arc::new(next);
        Ok(())
    }

    fn document(&self, doc: &ItemDoc) -> Result<TantivyDocument, SearchError> {
        if doc.code.is_empty() {
            return Err(SearchError::InvalidDocument(format!(
                "item {:?} has an empty code",
                doc.name
            )));
        }
        Ok(schema::to_document(&self.fields, doc))
    }

    /// Replaces the whole content of the index with `docs`, in one commit: searches see the old
    /// content until the new one is complete. Later duplicates of a code replace earlier ones.
    pub fn replace_all(&self, docs: impl IntoIterator<Item = ItemDoc>) -> Result<(), SearchError> {
        let mut writer = self.lock_writer()?;
        let result = (|| {
            writer.delete_all_documents()?;
            let mut seen = std::collections::HashSet::new();
            for doc in docs {
                let d = self.document(&doc)?;
                if !seen.insert(doc.code.clone()) {
                    writer.delete_term(Term::from_field_text(self.fields.code, &doc.code));
                }
                writer.add_document(d)?;
            }
            Ok::<(), SearchError>(())
        })();
        if let Err(e) = result {
            let _ = writer.rollback();
            return Err(e);
        }
        self.commit_and_reload(&mut writer)
    }

    /// Adds the item, or replaces the item with the same code; the next search sees it.
    pub fn upsert(&self, doc: ItemDoc) -> Result<(), SearchError> {
        let d = self.document(&doc)?;
        let mut writer = self.lock_writer()?;
        writer.delete_term(Term::from_field_text(self.fields.code, &doc.code));
        if let Err(e) = writer.add_document(d) {
            let _ = writer.rollback();
            return Err(e.into());
        }
        self.commit_and_reload(&mut writer)
    }

    /// Removes the item with this code (a no-op if there is none); the next search sees it.
    pub fn remove(&self, code: &str) -> Result<(), SearchError> {
        let mut writer = self.lock_writer()?;
        writer.delete_term(Term::from_field_text(self.fields.code, code));
        self.commit_and_reload(&mut writer)
    }

    /// Number of items in the index (as of the last write).
    pub fn num_docs(&self) -> u64 {
        self.current().map_or(0, |s| s.searcher.num_docs())
    }

    /// Number of index segments searched (as of the last write); for diagnostics.
    pub fn num_segments(&self) -> usize {
        self.current()
            .map_or(0, |s| s.searcher.segment_readers().len())
    }

    /// Explains the score of the item `code` for the text and filters of `q`: a tree of the
    /// scoring clauses as pretty-printed JSON, for relevance tuning. `None` when the item does not
    /// exist or does not match.
    pub fn explain(&self, q: &SearchQuery, code: &str) -> Result<Option<String>, SearchError> {
        let snapshot = self.current()?;
        let searcher = &snapshot.searcher;
        let (query, _) = query::build(&self.fields, &q.text, &q.filters, searcher)?;
        let term = Term::from_field_text(self.fields.code, code);
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let Some(postings) = segment
                .inverted_index(self.fields.code)?
                .read_postings(&term, tantivy::schema::IndexRecordOption::Basic)?
            else {
                continue;
            };
            let mut postings = postings;
            let mut doc = tantivy::DocSet::doc(&postings);
            while doc != tantivy::TERMINATED {
                if segment.alive_bitset().is_none_or(|a| a.is_alive(doc)) {
                    let address = tantivy::DocAddress::new(ord as u32, doc);
                    return match query.explain(searcher, address) {
                        Ok(e) => Ok(Some(e.to_pretty_json())),
                        Err(tantivy::TantivyError::InvalidArgument(_)) => Ok(None),
                        Err(e) => Err(e.into()),
                    };
                }
                doc = tantivy::DocSet::advance(&mut postings);
            }
        }
        Ok(None)
    }

    /// Runs a search.
    pub fn search(&self, q: &SearchQuery) -> Result<SearchResults, SearchError> {
        if q.text.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::InvalidQuery(format!(
                "the search text is longer than {MAX_QUERY_CHARS} characters"
            )));
        }
        if q.limit > MAX_LIMIT {
            return Err(SearchError::InvalidQuery(format!(
                "limit must be at most {MAX_LIMIT}"
            )));
        }
        let window = q.offset.saturating_add(q.limit);
        if window > MAX_WINDOW {
            return Err(SearchError::InvalidQuery(format!(
                "offset + limit must be at most {MAX_WINDOW}; narrow the search instead"
            )));
        }
        let snapshot = self.current()?;
        let (query, scored) = query::build(&self.fields, &q.text, &q.filters, &snapshot.searcher)?;
        let collector = ItemCollector {
            snapshot: Arc::clone(&snapshot),
            top: if q.limit == 0 { 0 } else { window },
            scored,
            facets: q.facets,
        };
        let collected = snapshot.searcher.search(query.as_ref(), &collector)?;
        let hits = collected
            .hits
            .into_iter()
            .skip(q.offset)
            .take(q.limit)
            .collect();
        Ok(SearchResults {
            total: usize::try_from(collected.total).unwrap_or(usize::MAX),
            hits,
            facets: collected.facets,
        })
    }
}
