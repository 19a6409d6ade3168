//! Turns a [`SearchQuery`](crate::SearchQuery) into a tantivy query: the relevance model and
//! the exact filters.
//!
//! The text is cut into query words (jieba, minus question words such as 怎么, 需要; an everyday
//! word listed in `dict/synonyms.txt` becomes the term guides use, 小店 → 个体户; a word no
//! document contains is replaced by its dictionary parts, or dropped). The score of an item is
//! the sum of these optional clauses, so a query with one unknown word still finds what the
//! others match:
//!
//! 1. the whole query equals the item's name (normalised: width, case, spaces): a constant far
//!    above anything else, so the item comes first ([`EXACT_NAME`]);
//! 2. it equals one of the item's aliases: almost as strong ([`EXACT_ALIAS`]);
//!    It contains the item's whole name or one of its aliases ("开个小店怎么办营业执照" holds
//!    the alias 办营业执照): a bonus per character of the longest such title, so the most
//!    specific title a sentence names wins ([`CONTAINED_TITLE_PER_CHAR`]);
//! 3. per query word, its best field match (BM25 × field weight: name 4 > aliases 3 > materials
//!    1.2 > guide text 0.6 > legal basis 0.5 > department name 0.4) plus a tenth of its other
//!    field matches. A dictionary word already found in names or aliases stops there; any other
//!    word also counts through its dictionary sub-words (at 0.4 of the weight) and, on the
//!    character-gram field of names and aliases, as a substring (all its character pairs);
//! 4. per query word found in the name or aliases, a bonus proportional to its rarity (idf):
//!    items whose title covers more of the query come first ([`TITLE_WORD_PER_IDF`]);
//! 5. bonuses when the title covers every (findable) query word ([`ALL_WORDS_TITLE`]), and when
//!    the item contains every one of them anywhere ([`ALL_WORDS_ANY`]).
//!
//! Ties are broken by the collector: popularity, then the shorter name.
//!
//! Filters are exact term conditions on raw keyword fields, combined with the text query as
//! zero-score `must` clauses.

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, Query,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use crate::schema::{AUDIENCE_LEGAL, AUDIENCE_PERSON, Fields, online_value};
use crate::text::{
    compound_parts, dictionary_subwords, exact_key, for_each_word, for_each_word_no_hmm, jieba,
    normalize, query_grams, synonym,
};
use crate::{Filters, SearchError};

/// Constant score of an exact name match.
pub const EXACT_NAME: f32 = 1000.0;
/// Constant score of an exact alias match.
pub const EXACT_ALIAS: f32 = 800.0;
/// Bonus per character of the longest name or alias the query contains (short of being equal).
pub const CONTAINED_TITLE_PER_CHAR: f32 = 3.0;
/// Only the first this many characters of a query are searched for contained titles.
const CONTAINED_TITLE_SCAN: usize = 32;
/// Bonus when all query words match the name or aliases.
pub const ALL_WORDS_TITLE: f32 = 12.0;
/// Bonus when all query words match somewhere in the item.
pub const ALL_WORDS_ANY: f32 = 6.0;
/// Bonus for each query word found in the name or aliases, per unit of the word's inverse
/// document frequency: coverage of the query by the title counts beyond BM25's saturating sum
/// ("旅游包车资质": 旅游 and 包车 in an alias beat 资质 in a name and three aliases), while a
/// rare word still outweighs two common ones (林木采伐许可 beats 个人 + 申请).
pub const TITLE_WORD_PER_IDF: f32 = 1.5;

/// Field weights of a query word.
const NAME: f32 = 4.0;
const ALIASES: f32 = 3.0;
const MATERIALS: f32 = 1.2;
const BODY: f32 = 0.6;
const LEGAL_BASIS: f32 = 0.5;
const DEPARTMENT_NAME: f32 = 0.4;
const GRAMS: f32 = 0.5;
/// Share of a word's weaker field matches added to its best one.
const TIE_BREAKER: f32 = 0.1;
/// Factor applied to dictionary sub-words of a query word.
const SUBWORD: f32 = 0.4;

/// Words past this many are ignored (they would only slow the query down).
pub const MAX_WORDS: usize = 8;

type Q = Box<dyn Query>;

fn term_query(field: Field, text: &str, scored: bool) -> Q {
    let option = if scored {
        IndexRecordOption::WithFreqs
    } else {
        IndexRecordOption::Basic
    };
    Box::new(TermQuery::new(Term::from_field_text(field, text), option))
}

fn boosted(q: Q, boost: f32) -> Q {
    Box::new(BoostQuery::new(q, boost))
}

fn constant(q: Q, score: f32) -> Q {
    Box::new(ConstScoreQuery::new(q, score))
}

fn should(clauses: Vec<Q>) -> Q {
    Box::new(BooleanQuery::new(
        clauses.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

fn must(clauses: Vec<Q>) -> Q {
    Box::new(BooleanQuery::new(
        clauses.into_iter().map(|q| (Occur::Must, q)).collect(),
    ))
}

/// Matches documents whose name or aliases contain `word` as a substring (all its character
/// pairs occur in the gram field).
fn gram_match(f: &Fields, word: &str, scored: bool) -> Option<Q> {
    let grams = query_grams(word);
    match grams.len() {
        0 => None,
        1 => grams.first().map(|g| term_query(f.grams, g, scored)),
        _ => Some(must(
            grams
                .into_iter()
                .map(|g| term_query(f.grams, g, scored))
                .collect(),
        )),
    }
}

/// The query words of `text`: jieba words of the normalised text, deduplicated, at most
/// [`MAX_WORDS`].
pub fn query_words(text: &str) -> Result<Vec<String>, SearchError> {
    let jieba = jieba()?;
    let norm = normalize(text);
    let mut words: Vec<String> = Vec::new();
    for_each_word(jieba, &norm, |w| {
        if words.len() < MAX_WORDS && !words.iter().any(|x| x == w) {
            words.push(w.to_owned());
        }
    });
    Ok(words)
}

fn push_unique(words: &mut Vec<String>, word: String) {
    if words.len() < MAX_WORDS && !words.contains(&word) {
        words.push(word);
    }
}

/// Whether some document has `word` in a searched field or as a substring of a name or alias.
fn matchable(f: &Fields, searcher: &Searcher, word: &str) -> Result<bool, SearchError> {
    for field in [
        f.name,
        f.aliases,
        f.materials,
        f.body,
        f.legal_basis,
        f.department_name,
    ] {
        if occurs(searcher, field, word)? {
            return Ok(true);
        }
    }
    let grams = query_grams(word);
    if grams.is_empty() {
        return Ok(false);
    }
    for g in grams {
        if !occurs(searcher, f.grams, g)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Matchers of `word` in the name or aliases (unscored): the word itself, the word as a
/// substring, or, for a compound, all of its parts (死亡注销 in 死亡人员户口注销).
fn title_matchers(
    f: &Fields,
    word: &str,
    in_fields: &[Field],
    grams_possible: bool,
    parts: &[&str],
) -> Vec<Q> {
    let mut out: Vec<Q> = in_fields
        .iter()
        .filter(|x| **x == f.name || **x == f.aliases)
        .map(|x| term_query(*x, word, false))
        .collect();
    if grams_possible {
        out.extend(gram_match(f, word, false));
    }
    if !parts.is_empty() {
        out.push(must(
            parts
                .iter()
                .map(|p| {
                    should(vec![
                        term_query(f.name, p, false),
                        term_query(f.aliases, p, false),
                    ])
                })
                .collect(),
        ));
    }
    out
}

/// How many documents hold `text` in `field` (one term-dictionary look-up per segment).
fn doc_freq(searcher: &Searcher, field: Field, text: &str) -> Result<u64, SearchError> {
    Ok(searcher.doc_freq(&Term::from_field_text(field, text))?)
}

/// Whether `field` of some document holds `text`.
fn occurs(searcher: &Searcher, field: Field, text: &str) -> Result<bool, SearchError> {
    Ok(doc_freq(searcher, field, text)? > 0)
}

/// BM25's inverse document frequency of a term held by `df` of `n` documents.
fn bm25_idf(n: u64, df: u64) -> f32 {
    let (n, df) = (n as f32, df.min(n) as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// The scored text query, or `None` when the text holds nothing to search for.
///
/// Term look-ups against `searcher` leave out the clauses that cannot match, and keep a query
/// word that occurs in no document at all ("孩子" in "孩子第一次办身份证") from making the
/// all-words bonus unreachable.
pub fn text_query(f: &Fields, text: &str, searcher: &Searcher) -> Result<Option<Q>, SearchError> {
    let jieba = jieba()?;
    let exact = exact_key(text);
    if exact.is_empty() {
        return Ok(None);
    }
    let mut words: Vec<String> = Vec::new();
    for word in query_words(text)? {
        let word = synonym(&word).map_or(word, str::to_owned);
        if matchable(f, searcher, &word)? {
            push_unique(&mut words, word);
            continue;
        }
        // A word no document has may be the segmenter's guess at an unknown word (HMM joins
        // 开代账 in 开代账公司): its dictionary parts may still match.
        let mut parts = Vec::new();
        for_each_word_no_hmm(jieba, &word, |p| {
            if p != word {
                parts.push(p.to_owned());
            }
        });
        if parts.is_empty() {
            parts = compound_parts(jieba, &word)
                .into_iter()
                .map(str::to_owned)
                .collect();
        }
        for p in parts {
            if matchable(f, searcher, &p)? {
                push_unique(&mut words, p);
            }
        }
    }
    let mut clauses: Vec<Q> = vec![
        constant(term_query(f.name_exact, &exact, false), EXACT_NAME),
        constant(term_query(f.alias_exact, &exact, false), EXACT_ALIAS),
    ];
    clauses.extend(contained_titles(f, &exact, searcher)?);
    let weighted = [
        (f.name, NAME),
        (f.aliases, ALIASES),
        (f.materials, MATERIALS),
        (f.body, BODY),
        (f.legal_basis, LEGAL_BASIS),
        (f.department_name, DEPARTMENT_NAME),
    ];
    // Per word: the matchers for the all-words bonuses (title only, anywhere).
    let mut all_title: Vec<Vec<Q>> = Vec::new();
    let mut all_any: Vec<Vec<Q>> = Vec::new();
    for word in &words {
        // The word's score is that of its best field plus a little of the others: a word that
        // fills the name, three aliases and the materials is still one word of the query.
        let mut alternatives: Vec<Q> = Vec::new();
        let mut in_fields = Vec::new();
        let mut max_df = 0u64;
        for (field, weight) in weighted {
            let df = doc_freq(searcher, field, word)?;
            if df > 0 {
                alternatives.push(boosted(term_query(field, word, true), weight));
                in_fields.push(field);
                max_df = max_df.max(df);
            }
        }
        let in_title = in_fields.iter().any(|x| *x == f.name || *x == f.aliases);
        // Names and aliases index every dictionary word they contain, so a dictionary word
        // found there needs no fallbacks; otherwise its sub-words, its parts and its character
        // pairs give partial and substring matches.
        let needs_fallbacks = !(in_title && jieba.has_word(word));
        let mut parts: Vec<&str> = Vec::new();
        let mut grams_possible = false;
        if needs_fallbacks {
            for sub in dictionary_subwords(jieba, word) {
                for (field, weight) in [(f.name, NAME), (f.aliases, ALIASES)] {
                    if occurs(searcher, field, sub)? {
                        alternatives.push(boosted(term_query(field, sub, true), weight * SUBWORD));
                    }
                }
            }
            let grams = query_grams(word);
            grams_possible = !grams.is_empty();
            for g in grams {
                grams_possible = grams_possible && occurs(searcher, f.grams, g)?;
            }
            if grams_possible && let Some(g) = gram_match(f, word, true) {
                alternatives.push(boosted(g, GRAMS));
            }
            if !in_title {
                parts = compound_parts(jieba, word);
            }
        }
        if alternatives.is_empty() {
            // No document has this word: it cannot count against any of them.
            continue;
        }
        clauses.push(Box::new(DisjunctionMaxQuery::with_tie_breaker(
            alternatives,
            TIE_BREAKER,
        )));
        let title = title_matchers(f, word, &in_fields, grams_possible, &parts);
        if !title.is_empty() {
            let again = title_matchers(f, word, &in_fields, grams_possible, &parts);
            // A word found only through its grams or parts: as rare as a word found once.
            let idf = bm25_idf(searcher.num_docs(), max_df.max(1));
            clauses.push(constant(should(again), TITLE_WORD_PER_IDF * idf));
        }
        let mut any: Vec<Q> = in_fields
            .iter()
            .map(|x| term_query(*x, word, false))
            .collect();
        any.extend(title_matchers(f, word, &[], grams_possible, &parts));
        all_title.push(title);
        all_any.push(any);
    }
    if all_any.len() > 1 {
        if all_title.iter().all(|t| !t.is_empty()) {
            clauses.push(constant(
                must(all_title.into_iter().map(should).collect()),
                ALL_WORDS_TITLE,
            ));
        }
        clauses.push(constant(
            must(all_any.into_iter().map(should).collect()),
            ALL_WORDS_ANY,
        ));
    }
    Ok(Some(should(clauses)))
}

/// The names and aliases that occur inside the query text `exact` (a normalised key), each a
/// constant bonus by its length in characters; an item scores its longest one only.
fn contained_titles(
    f: &Fields,
    exact: &str,
    searcher: &Searcher,
) -> Result<Option<Q>, SearchError> {
    let chars: Vec<char> = exact.chars().take(CONTAINED_TITLE_SCAN).collect();
    let mut found: Vec<Q> = Vec::new();
    for start in 0..chars.len() {
        // Lengths from 2 up to, but not including, the whole query (that is the exact match).
        for end in start + 2..=chars.len() {
            if end - start == chars.len() {
                continue;
            }
            let sub: String = chars[start..end].iter().collect();
            let bonus = CONTAINED_TITLE_PER_CHAR * (end - start) as f32;
            for field in [f.name_exact, f.alias_exact] {
                if occurs(searcher, field, &sub)? {
                    found.push(constant(term_query(field, &sub, false), bonus));
                }
            }
        }
    }
    Ok((!found.is_empty()).then(|| -> Q { Box::new(DisjunctionMaxQuery::new(found)) }))
}

/// The filter clauses of `filters` (each an exact term condition), or an error for an empty
/// filter value.
pub fn filter_queries(f: &Fields, filters: &Filters) -> Result<Vec<Q>, SearchError> {
    let mut out: Vec<Q> = Vec::new();
    let mut term = |field: Field, name: &str, value: &Option<String>| -> Result<(), SearchError> {
        if let Some(v) = value {
            if v.is_empty() {
                return Err(SearchError::InvalidQuery(format!(
                    "filter `{name}` is empty"
                )));
            }
            out.push(term_query(field, v, false));
        }
        Ok(())
    };
    let region_field = if filters.region_subtree {
        f.region_path
    } else {
        f.region
    };
    term(region_field, "region", &filters.region)?;
    term(f.department, "department", &filters.department)?;
    term(f.item_type, "item_type", &filters.item_type)?;
    term(f.service_objects, "service_object", &filters.service_object)?;
    term(f.themes, "theme", &filters.theme)?;
    term(f.scope, "scope", &filters.scope)?;
    if let Some(online) = filters.online {
        out.push(term_query(f.online, online_value(online), false));
    }
    match filters.person {
        Some(true) => out.push(term_query(f.audience, AUDIENCE_PERSON, false)),
        Some(false) => out.push(term_query(f.audience, AUDIENCE_LEGAL, false)),
        None => {}
    }
    Ok(out)
}

/// The full query: the text query (if any) restricted by the filters (which add no score).
pub fn build(
    f: &Fields,
    text: &str,
    filters: &Filters,
    searcher: &Searcher,
) -> Result<(Q, bool), SearchError> {
    let text = text_query(f, text, searcher)?;
    let filters = filter_queries(f, filters)?;
    let scored = text.is_some();
    let q: Q = match (text, filters.is_empty()) {
        (None, true) => Box::new(AllQuery),
        (None, false) => must(filters),
        (Some(t), true) => t,
        (Some(t), false) => {
            let mut clauses = vec![(Occur::Must, t)];
            clauses.extend(filters.into_iter().map(|q| (Occur::Must, constant(q, 0.0))));
            Box::new(BooleanQuery::new(clauses))
        }
    };
    Ok((q, scored))
}
