//! The tantivy schema of the item index and the conversion of an [`ItemDoc`] into a document.
//!
//! Text fields are indexed with term frequencies but without positions (no phrase queries are
//! run, and positions would double the postings). Filter and facet fields are raw strings that
//! are both indexed (for exact term filters) and fast (columnar, for facet counting and sorting
//! without touching the document store). Only `code` is stored.

use tantivy::TantivyDocument;
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::ItemDoc;
use crate::text::{GRAM_TOKENIZER, TITLE_TOKENIZER, WORD_TOKENIZER, exact_key};

/// Bumped whenever the schema or the analysis changes, so that an on-disk index written by an
/// older build is never read with the new schema (it lives in another sub-directory).
pub const SCHEMA_VERSION: u32 = 1;

/// Field names of the fast columns read by the collector.
pub mod names {
    pub const CODE: &str = "code";
    pub const NAME_SORT: &str = "name_sort";
    pub const NAME_LEN: &str = "name_len";
    pub const POPULARITY: &str = "popularity";
    pub const REGION: &str = "region";
    pub const REGION_PATH: &str = "region_path";
    pub const DEPARTMENT: &str = "department";
    pub const ITEM_TYPE: &str = "item_type";
    pub const SERVICE_OBJECTS: &str = "service_objects";
    pub const THEMES: &str = "themes";
    pub const ONLINE: &str = "online";
    pub const SCOPE: &str = "scope";
    pub const LEVEL: &str = "level";
}

/// Handles of every field of the schema.
#[derive(Clone, Debug)]
pub struct Fields {
    pub code: Field,
    pub name_exact: Field,
    pub alias_exact: Field,
    pub name: Field,
    pub aliases: Field,
    pub grams: Field,
    pub materials: Field,
    pub body: Field,
    pub legal_basis: Field,
    pub department_name: Field,
    pub department: Field,
    pub region: Field,
    pub region_path: Field,
    pub level: Field,
    pub item_type: Field,
    pub service_objects: Field,
    /// Derived from `service_objects`: "person" (includes "1"), "legal" (includes any of "2".."6").
    pub audience: Field,
    pub themes: Field,
    pub online: Field,
    pub scope: Field,
    pub popularity: Field,
    pub name_sort: Field,
    pub name_len: Field,
}

/// `audience` value of items for natural persons.
pub const AUDIENCE_PERSON: &str = "person";
/// `audience` value of items for legal persons and other organisations.
pub const AUDIENCE_LEGAL: &str = "legal";
/// Service-object codes of legal persons and other organisations.
const LEGAL_OBJECTS: [&str; 5] = ["2", "3", "4", "5", "6"];

/// The value indexed for `online`.
pub fn online_value(online: bool) -> &'static str {
    if online { "true" } else { "false" }
}

fn text_options(tokenizer: &str, fieldnorms: bool) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_fieldnorms(fieldnorms)
            .set_index_option(IndexRecordOption::WithFreqs),
    )
}

/// Builds the schema and returns it with its field handles.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    // Length normalisation is kept where length means something (a shorter name that contains
    // the query is a closer match) and dropped on long text, where it only adds noise: two
    // items of the same name would otherwise rank apart because one guide names a longer region.
    let title_words = text_options(TITLE_TOKENIZER, true);
    let long_words = text_options(WORD_TOKENIZER, false);
    let keyword = STRING | FAST;
    let fields = Fields {
        code: b.add_text_field(names::CODE, STRING | FAST | STORED),
        name_exact: b.add_text_field("name_exact", STRING),
        alias_exact: b.add_text_field("alias_exact", STRING),
        name: b.add_text_field("name", title_words.clone()),
        aliases: b.add_text_field("aliases", title_words),
        grams: b.add_text_field("grams", text_options(GRAM_TOKENIZER, false)),
        materials: b.add_text_field("materials", long_words.clone()),
        body: b.add_text_field("body", long_words.clone()),
        legal_basis: b.add_text_field("legal_basis", long_words.clone()),
        department_name: b.add_text_field("department_name", long_words),
        department: b.add_text_field(names::DEPARTMENT, keyword.clone()),
        region: b.add_text_field(names::REGION, keyword.clone()),
        region_path: b.add_text_field(names::REGION_PATH, STRING),
        level: b.add_text_field(names::LEVEL, keyword.clone()),
        item_type: b.add_text_field(names::ITEM_TYPE, keyword.clone()),
        service_objects: b.add_text_field(names::SERVICE_OBJECTS, keyword.clone()),
        audience: b.add_text_field("audience", STRING),
        themes: b.add_text_field(names::THEMES, keyword.clone()),
        online: b.add_text_field(names::ONLINE, keyword.clone()),
        scope: b.add_text_field(names::SCOPE, keyword),
        popularity: b.add_u64_field(names::POPULARITY, FAST),
        name_sort: b.add_text_field(names::NAME_SORT, TextOptions::default().set_fast("raw")),
        name_len: b.add_u64_field(names::NAME_LEN, FAST),
    };
    (b.build(), fields)
}

/// Converts an item into a tantivy document.
pub fn to_document(f: &Fields, item: &ItemDoc) -> TantivyDocument {
    let mut d = TantivyDocument::new();
    d.add_text(f.code, &item.code);
    d.add_text(f.name_exact, exact_key(&item.name));
    d.add_text(f.name, &item.name);
    d.add_text(f.grams, &item.name);
    d.add_text(f.name_sort, &item.name);
    d.add_u64(f.name_len, item.name.chars().count() as u64);
    for alias in &item.aliases {
        d.add_text(f.alias_exact, exact_key(alias));
        d.add_text(f.aliases, alias);
        d.add_text(f.grams, alias);
    }
    d.add_text(f.body, &item.body);
    for material in &item.materials {
        d.add_text(f.materials, material);
    }
    d.add_text(f.legal_basis, &item.legal_basis);
    d.add_text(f.department_name, &item.department_name);
    add_keyword(&mut d, f.department, &item.department);
    add_keyword(&mut d, f.region, &item.region);
    add_keywords(
        &mut d,
        f.region_path,
        item.region_path.iter().chain([&item.region]),
    );
    add_keyword(&mut d, f.level, &item.level);
    add_keyword(&mut d, f.item_type, &item.item_type);
    add_keywords(&mut d, f.service_objects, &item.service_objects);
    if item.service_objects.iter().any(|s| s == "1") {
        d.add_text(f.audience, AUDIENCE_PERSON);
    }
    if item
        .service_objects
        .iter()
        .any(|s| LEGAL_OBJECTS.contains(&s.as_str()))
    {
        d.add_text(f.audience, AUDIENCE_LEGAL);
    }
    add_keywords(&mut d, f.themes, &item.themes);
    add_keyword(&mut d, f.online, online_value(item.online));
    add_keyword(&mut d, f.scope, &item.scope);
    d.add_u64(f.popularity, u64::from(item.popularity));
    d
}

/// Adds a keyword unless it is empty (an empty value means "none", not a facet value "").
fn add_keyword(d: &mut TantivyDocument, field: Field, value: &str) {
    if !value.is_empty() {
        d.add_text(field, value);
    }
}

/// Adds each distinct non-empty keyword once, so that facet counts count documents.
fn add_keywords<'a>(
    d: &mut TantivyDocument,
    field: Field,
    values: impl IntoIterator<Item = &'a String>,
) {
    let mut seen: Vec<&str> = Vec::new();
    for v in values {
        if !v.is_empty() && !seen.contains(&v.as_str()) {
            seen.push(v);
            d.add_text(field, v);
        }
    }
}
