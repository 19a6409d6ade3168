//! Turns a [`SearchQuery`] into a tantivy query: the relevance model and the exact filters.
//!
//! Relevance, from strongest to weakest (all clauses are optional "should" clauses, so a query
//! with one unknown word still finds what the others match):
//!
//! 1. the whole query equals an item's name (normalised: width, case, spaces) — a constant far
//!    above anything else, so that item comes first;
//! 2. it equals one of the item's aliases — almost as strong;
//! 3. a bonus when every query word occurs in the name/aliases, a smaller one when every word
//!    occurs somewhere in the item;
//! 4. BM25 of each word per field, weighted: name > aliases > materials > body > legal basis >
//!    department name; the dictionary sub-words of a query word count on name and aliases at a
//!    reduced weight; the character-gram field over name and aliases catches any substring
//!    (a word counts there when all its character pairs occur) at a low weight.

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use crate::schema::{Fields, online_value};
use crate::text::{dictionary_subwords, exact_key, for_each_word, jieba, normalize, query_grams};
use crate::{Filters, SearchError};

/// Constant score of an exact name match.
pub const EXACT_NAME: f32 = 1000.0;
/// Constant score of an exact alias match.
pub const EXACT_ALIAS: f32 = 800.0;
/// Bonus when all query words match the name or aliases.
pub const ALL_WORDS_TITLE: f32 = 12.0;
/// Bonus when all query words match somewhere in the item.
pub const ALL_WORDS_ANY: f32 = 6.0;

/// Field weights of a query word.
const NAME: f32 = 4.0;
const ALIASES: f32 = 3.0;
const MATERIALS: f32 = 1.2;
const BODY: f32 = 0.6;
const LEGAL_BASIS: f32 = 0.5;
const DEPARTMENT_NAME: f32 = 0.4;
const GRAMS: f32 = 0.5;
/// Factor applied to dictionary sub-words of a query word.
const SUBWORD: f32 = 0.4;

/// Words past this many are ignored (they would only slow the query down).
pub const MAX_WORDS: usize = 8;

type Q = Box<dyn Query>;

fn term_query(field: Field, text: &str, scored: bool) -> Q {
    let option = if scored { IndexRecordOption::WithFreqs } else { IndexRecordOption::Basic };
    Box::new(TermQuery::new(Term::from_field_text(field, text), option))
}

fn boosted(q: Q, boost: f32) -> Q {
    Box::new(BoostQuery::new(q, boost))
}

fn constant(q: Q, score: f32) -> Q {
    Box::new(ConstScoreQuery::new(q, score))
}

fn should(clauses: Vec<Q>) -> Q {
    Box::new(BooleanQuery::new(clauses.into_iter().map(|q| (Occur::Should, q)).collect()))
}

fn must(clauses: Vec<Q>) -> Q {
    Box::new(BooleanQuery::new(clauses.into_iter().map(|q| (Occur::Must, q)).collect()))
}

/// Matches documents whose name or aliases contain `word` as a substring (all its character
/// pairs occur in the gram field).
fn gram_match(f: &Fields, word: &str, scored: bool) -> Option<Q> {
    let grams = query_grams(word);
    match grams.len() {
        0 => None,
        1 => grams.first().map(|g| term_query(f.grams, g, scored)),
        _ => Some(must(grams.into_iter().map(|g| term_query(f.grams, g, scored)).collect())),
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

/// The scored text query, or `None` when the text holds nothing to search for.
pub fn text_query(f: &Fields, text: &str) -> Result<Option<Q>, SearchError> {
    let jieba = jieba()?;
    let exact = exact_key(text);
    if exact.is_empty() {
        return Ok(None);
    }
    let words = query_words(text)?;
    let mut clauses: Vec<Q> = vec![
        constant(term_query(f.name_exact, &exact, false), EXACT_NAME),
        constant(term_query(f.alias_exact, &exact, false), EXACT_ALIAS),
    ];
    let weighted = [
        (f.name, NAME),
        (f.aliases, ALIASES),
        (f.materials, MATERIALS),
        (f.body, BODY),
        (f.legal_basis, LEGAL_BASIS),
        (f.department_name, DEPARTMENT_NAME),
    ];
    let mut all_title: Vec<Q> = Vec::new();
    let mut all_any: Vec<Q> = Vec::new();
    for word in &words {
        for (field, weight) in weighted {
            clauses.push(boosted(term_query(field, word, true), weight));
        }
        for sub in dictionary_subwords(jieba, word) {
            clauses.push(boosted(term_query(f.name, sub, true), NAME * SUBWORD));
            clauses.push(boosted(term_query(f.aliases, sub, true), ALIASES * SUBWORD));
        }
        let grams = gram_match(f, word, true);
        if let Some(g) = grams {
            clauses.push(boosted(g, GRAMS));
        }
        if words.len() > 1 {
            let mut title = vec![term_query(f.name, word, false), term_query(f.aliases, word, false)];
            title.extend(gram_match(f, word, false));
            let mut any: Vec<Q> =
                weighted.iter().map(|(field, _)| term_query(*field, word, false)).collect();
            any.extend(gram_match(f, word, false));
            all_title.push(should(title));
            all_any.push(should(any));
        }
    }
    if !all_title.is_empty() {
        clauses.push(constant(must(all_title), ALL_WORDS_TITLE));
        clauses.push(constant(must(all_any), ALL_WORDS_ANY));
    }
    Ok(Some(should(clauses)))
}

/// The filter clauses of `filters` (each an exact term condition), or an error for an empty
/// filter value.
pub fn filter_queries(f: &Fields, filters: &Filters) -> Result<Vec<Q>, SearchError> {
    let mut out: Vec<Q> = Vec::new();
    let mut term = |field: Field, name: &str, value: &Option<String>| -> Result<(), SearchError> {
        if let Some(v) = value {
            if v.is_empty() {
                return Err(SearchError::InvalidQuery(format!("filter `{name}` is empty")));
            }
            out.push(term_query(field, v, false));
        }
        Ok(())
    };
    let region_field = if filters.region_subtree { f.region_path } else { f.region };
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
        Some(true) => out.push(term_query(f.service_objects, "1", false)),
        Some(false) => out.push(Box::new(TermSetQuery::new(
            ["2", "3", "4", "5", "6"].map(|s| Term::from_field_text(f.service_objects, s)),
        ))),
        None => {}
    }
    Ok(out)
}

/// The full query: the text query (if any) restricted by the filters (which add no score).
pub fn build(f: &Fields, text: &str, filters: &Filters) -> Result<(Q, bool), SearchError> {
    let text = text_query(f, text)?;
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
