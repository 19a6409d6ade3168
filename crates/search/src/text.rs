//! Text analysis: width/case normalisation, the process-wide jieba instance with the government
//! dictionary, and the tantivy tokenizers the schema uses.
//!
//! * [`WordTokenizer`] cuts with jieba (default mode, HMM on) and then, like jieba's search mode,
//!   also emits the dictionary words contained in each longer word, so that 营业执照 is indexed
//!   as 营业执照, 营业 and 执照. Unlike `cut_for_search`, which only looks at 2- and 3-character
//!   sub-words, it emits dictionary sub-words of every length: 食品经营许可 also yields 食品经营.
//!   For names and aliases ([`WordTokenizer::all_words`]) it adds every dictionary word found
//!   anywhere in the text (jieba's full mode), whatever way the default cut went.
//! * [`GramTokenizer`] emits every character and every pair of adjacent characters. It backs a
//!   low-weight fallback field over names and aliases, so that any substring query of a name
//!   finds it even where the segmenter cut the name differently.
//!
//! Both tokenizers normalise first (full-width to half-width, ASCII lower case) and drop
//! punctuation, whitespace, function words and the question words of everyday queries (怎么,
//! 需要, 吗…), so index and query agree.
//!
//! The jieba dictionary takes a while to load and tens of megabytes to hold, so there is one
//! instance per process ([`jieba`]), shared by every index and every tokenizer clone. That is why
//! this crate does not use `tantivy_jieba::JiebaTokenizer::with_jieba`: tantivy clones a
//! tokenizer for each indexing thread and each analysed query, and that tokenizer would clone
//! the whole dictionary with it.

use std::io::BufRead;
use std::sync::LazyLock;

use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The government-terms user dictionary, in jieba's `word [freq [tag]]` format.
pub const GOV_DICT: &str = include_str!("../dict/gov.txt");

/// The longest word (in characters) whose dictionary sub-words are looked up. Longer tokens are
/// rare (jieba seldom produces them) and their sub-words are still found by the gram field.
const MAX_SUBWORD_SOURCE: usize = 12;

/// Single-character function words, pronouns and question particles that carry no meaning for
/// a search. Dropped at index and query time alike (as words and as grams).
const STOP_CHARS: &[char] = &[
    '的', '了', '和', '与', '及', '或', '等', '之', '其', '于', '以', '在', '对', '由', '将', '被',
    '把', '向', '从', '并', '且', '也', '都', '就', '而', '若', '则', '所', '即', '该', '个', '吗',
    '呢', '吧', '啊', '呀', '嘛', '哪', '谁', '我', '你', '您', '他', '她', '想', '要', '能', '么',
];

/// Question words and pronouns of everyday queries ("身份证过期了怎么换"): a user types them, no
/// guide answers to them, so they would only keep documents from matching all query words.
const STOP_WORDS: &[&str] = &[
    "怎么",
    "怎么样",
    "怎样",
    "如何",
    "什么",
    "哪里",
    "哪儿",
    "哪个",
    "哪些",
    "为什么",
    "我们",
    "你们",
    "可以",
    "应该",
    "多久",
    "多少",
    "在哪",
    "在哪里",
    "去哪",
    "去哪里",
    "请问",
    "一下",
    "是否",
    "能否",
    "有没有",
    "需要",
    "什么样",
    "怎么办",
    "咋办",
];

/// Everyday words and the terms guides use for them, one pair a line ("小店 个体户").
pub const SYNONYMS: &str = include_str!("../dict/synonyms.txt");

static SYNONYM_MAP: LazyLock<std::collections::HashMap<&'static str, &'static str>> =
    LazyLock::new(|| {
        SYNONYMS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut parts = l.split_whitespace();
                Some((parts.next()?, parts.next()?))
            })
            .collect()
    });

/// The term guides use for an everyday query word (小店 → 个体户), if [`SYNONYMS`] lists one.
pub fn synonym(word: &str) -> Option<&'static str> {
    SYNONYM_MAP.get(word).copied()
}

static JIEBA: LazyLock<Result<Jieba, String>> = LazyLock::new(build_jieba);

fn build_jieba() -> Result<Jieba, String> {
    let mut jieba = Jieba::new();
    load_user_dict(&mut jieba, GOV_DICT)?;
    Ok(jieba)
}

/// Adds every entry of a jieba-format dictionary. A missing frequency, or one too low to keep
/// the term whole against its parts, is raised to jieba's suggested frequency.
fn load_user_dict(jieba: &mut Jieba, dict: &str) -> Result<(), String> {
    for (line_no, line) in dict.as_bytes().lines().enumerate() {
        let line = line.map_err(|e| format!("user dictionary line {}: {e}", line_no + 1))?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let Some(word) = parts.next() else { continue };
        let freq = match parts.next() {
            Some(f) => Some(f.parse::<usize>().map_err(|e| {
                format!(
                    "user dictionary line {}: bad frequency {f:?}: {e}",
                    line_no + 1
                )
            })?),
            None => None,
        };
        let tag = parts.next();
        let suggested = jieba.suggest_freq(word);
        let freq = freq.map_or(suggested, |f| f.max(suggested));
        jieba.add_word(word, Some(freq), tag);
    }
    Ok(())
}

/// The process-wide jieba instance (default dictionary plus [`GOV_DICT`]), loaded on first use.
pub fn jieba() -> Result<&'static Jieba, crate::SearchError> {
    JIEBA
        .as_ref()
        .map_err(|e| crate::SearchError::internal_msg(format!("loading the jieba dictionary: {e}")))
}

/// Normalises text for indexing and matching: full-width ASCII to half-width, the ideographic
/// space and other whitespace to a plain space, ASCII upper case to lower case.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalize_into(text, &mut out);
    out
}

fn normalize_into(text: &str, out: &mut String) {
    out.clear();
    for c in text.chars() {
        out.push(normalize_char(c));
    }
}

fn normalize_char(c: char) -> char {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        c if c.is_whitespace() => ' ',
        c => c,
    };
    c.to_ascii_lowercase()
}

/// The key of the exact-name and exact-alias fields: [`normalize`]d, with all whitespace removed.
pub fn exact_key(text: &str) -> String {
    text.chars()
        .map(normalize_char)
        .filter(|c| *c != ' ')
        .collect()
}

/// True for a token worth indexing: it has a letter, digit or ideograph and is no stop word.
fn is_content(word: &str) -> bool {
    let mut chars = word.chars();
    match (chars.next(), chars.next()) {
        (None, _) => false,
        (Some(c), None) => c.is_alphanumeric() && !STOP_CHARS.contains(&c),
        _ => word.chars().any(char::is_alphanumeric) && !STOP_WORDS.contains(&word),
    }
}

/// Whether a character separates grams (anything that is not a letter, digit or ideograph).
fn is_separator(c: char) -> bool {
    !c.is_alphanumeric()
}

/// Calls `sink` with each jieba word of already-normalised `text` (default mode, HMM on), in
/// order, skipping punctuation and stop words.
pub fn for_each_word<'a>(jieba: &Jieba, text: &'a str, mut sink: impl FnMut(&'a str)) {
    for token in jieba.cut(text, true) {
        if is_content(token.word) {
            sink(token.word);
        }
    }
}

/// Like [`for_each_word`], without the HMM guesses at unknown words (dictionary words and
/// single characters only).
pub fn for_each_word_no_hmm<'a>(jieba: &Jieba, text: &'a str, mut sink: impl FnMut(&'a str)) {
    for token in jieba.cut(text, false) {
        if is_content(token.word) {
            sink(token.word);
        }
    }
}

/// Calls `sink` with each dictionary word strictly inside `word` (2 characters or more),
/// longest first; nothing for words shorter than 3 or longer than [`MAX_SUBWORD_SOURCE`].
pub fn for_each_subword<'a>(jieba: &Jieba, word: &'a str, mut sink: impl FnMut(&'a str)) {
    let mut bounds = [0usize; MAX_SUBWORD_SOURCE + 1];
    let mut n = 0;
    for (i, _) in word.char_indices() {
        if n >= MAX_SUBWORD_SOURCE {
            return;
        }
        if let Some(b) = bounds.get_mut(n) {
            *b = i;
        }
        n += 1;
    }
    if n < 3 {
        return;
    }
    if let Some(b) = bounds.get_mut(n) {
        *b = word.len();
    }
    for len in (2..n).rev() {
        for start in 0..=n - len {
            let (Some(&from), Some(&to)) = (bounds.get(start), bounds.get(start + len)) else {
                continue;
            };
            if let Some(sub) = word.get(from..to)
                && jieba.has_word(sub)
            {
                sink(sub);
            }
        }
    }
}

/// The distinct dictionary words strictly inside `word` (see [`for_each_subword`]).
pub fn dictionary_subwords<'a>(jieba: &Jieba, word: &'a str) -> Vec<&'a str> {
    let mut out = Vec::new();
    for_each_subword(jieba, word, |sub| {
        if !out.contains(&sub) {
            out.push(sub);
        }
    });
    out
}

/// The parts of `word` when it is a compound of shorter dictionary words (死亡注销 → 死亡, 注销):
/// the longest dictionary sub-words, taken greedily without overlap, if together they leave at
/// most one character of `word` uncovered. Empty otherwise.
pub fn compound_parts<'a>(jieba: &Jieba, word: &'a str) -> Vec<&'a str> {
    let subs = dictionary_subwords(jieba, word);
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let mut parts: Vec<(usize, &'a str)> = Vec::new();
    for sub in subs {
        let (from, to) = span_of(word, sub);
        if taken.iter().all(|&(a, b)| to <= a || from >= b) {
            taken.push((from, to));
            parts.push((from, sub));
        }
    }
    let covered: usize = parts.iter().map(|(_, p)| p.chars().count()).sum();
    if parts.len() < 2 || covered + 1 < word.chars().count() {
        return Vec::new();
    }
    parts.sort_unstable_by_key(|(from, _)| *from);
    parts.into_iter().map(|(_, p)| p).collect()
}

/// The grams of already-normalised `text` that the gram field indexes: for every run of
/// non-separator characters, each character and each pair of adjacent characters.
pub fn for_each_gram<'a>(text: &'a str, mut sink: impl FnMut(&'a str)) {
    let mut prev: Option<usize> = None;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if is_separator(c) {
            prev = None;
            continue;
        }
        let end = iter.peek().map_or(text.len(), |(j, _)| *j);
        sink(&text[i..end]);
        if let Some(p) = prev {
            sink(&text[p..end]);
        }
        prev = Some(i);
    }
}

/// The grams a query word must all match in the gram field to count as a substring of a name:
/// its adjacent pairs, or the word itself when it is a single character.
pub fn query_grams(word: &str) -> Vec<&str> {
    let mut pairs = Vec::new();
    let mut singles = 0usize;
    let mut only: Option<&str> = None;
    for_each_gram(word, |g| {
        if g.chars().nth(1).is_some() {
            if !pairs.contains(&g) {
                pairs.push(g);
            }
        } else {
            singles += 1;
            only = Some(g);
        }
    });
    if pairs.is_empty()
        && singles == 1
        && let Some(g) = only
    {
        pairs.push(g);
    }
    pairs
}

/// A token stream over byte ranges of one (normalised) text; both tokenizers produce one. The
/// token text is copied into one reused buffer as the stream advances, so tokenising allocates
/// nothing per token.
pub struct SpanTokenStream<'a> {
    text: &'a str,
    spans: std::vec::IntoIter<(usize, usize)>,
    token: Token,
}

impl<'a> SpanTokenStream<'a> {
    fn new(text: &'a str, spans: Vec<(usize, usize)>) -> Self {
        Self {
            text,
            spans: spans.into_iter(),
            token: Token::default(),
        }
    }
}

impl TokenStream for SpanTokenStream<'_> {
    fn advance(&mut self) -> bool {
        for (from, to) in self.spans.by_ref() {
            if let Some(word) = self.text.get(from..to) {
                self.token.text.clear();
                self.token.text.push_str(word);
                self.token.offset_from = from;
                self.token.offset_to = to;
                self.token.position = self.token.position.wrapping_add(1);
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// The byte range of `part` (a sub-slice of `whole`) within `whole`.
fn span_of(whole: &str, part: &str) -> (usize, usize) {
    let from = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
    (from, from + part.len())
}

/// Word tokenizer: jieba words plus their dictionary sub-words (see the module doc). With
/// `all_words` (names and aliases), also every other dictionary word of two characters or more
/// found anywhere in the text (jieba's full mode), so that a query word is found whichever way
/// the name was segmented: 企业投资项目备案 is cut 企业/投资项目/备案, yet holds 项目备案 too.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    all_words: bool,
    buf: String,
}

impl WordTokenizer {
    /// The tokenizer of short text (names, aliases): every dictionary word is indexed.
    pub fn all_words() -> Self {
        Self {
            all_words: true,
            buf: String::new(),
        }
    }
}

/// Name under which [`WordTokenizer`] is registered with each index.
pub const WORD_TOKENIZER: &str = "yiwang_words";
/// Name under which [`WordTokenizer::all_words`] is registered with each index.
pub const TITLE_TOKENIZER: &str = "yiwang_title_words";
/// Name under which [`GramTokenizer`] is registered with each index.
pub const GRAM_TOKENIZER: &str = "yiwang_grams";

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = SpanTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> SpanTokenStream<'a> {
        normalize_into(text, &mut self.buf);
        let buf = self.buf.as_str();
        let mut spans = Vec::new();
        // The dictionary was loaded when the index was opened (`jieba()` succeeded there);
        // should it somehow be missing, the text is found through the grams field only.
        if let Ok(jieba) = jieba() {
            for_each_word(jieba, buf, |word| {
                spans.push(span_of(buf, word));
                for_each_subword(jieba, word, |sub| spans.push(span_of(buf, sub)));
            });
            if self.all_words {
                for token in jieba.cut_all(buf) {
                    let span = span_of(buf, token.word);
                    if token.end - token.start >= 2
                        && is_content(token.word)
                        && !spans.contains(&span)
                    {
                        spans.push(span);
                    }
                }
            }
        }
        SpanTokenStream::new(buf, spans)
    }
}

/// Character unigram + bigram tokenizer for the fallback field (see the module doc).
#[derive(Clone, Default)]
pub struct GramTokenizer {
    buf: String,
}

impl Tokenizer for GramTokenizer {
    type TokenStream<'a> = SpanTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> SpanTokenStream<'a> {
        normalize_into(text, &mut self.buf);
        let buf = self.buf.as_str();
        let mut spans = Vec::new();
        for_each_gram(buf, |g| {
            if g.chars().nth(1).is_some() || !g.chars().all(|c| STOP_CHARS.contains(&c)) {
                spans.push(span_of(buf, g));
            }
        });
        SpanTokenStream::new(buf, spans)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut t = WordTokenizer::default();
        let mut s = t.token_stream(text);
        let mut out = Vec::new();
        while let Some(tok) = s.next() {
            out.push(tok.text.clone());
        }
        out
    }

    #[test]
    fn normalises_width_case_and_spaces() {
        assert_eq!(normalize("ＩＣＰ　许可（变更）"), "icp 许可(变更)");
        assert_eq!(exact_key(" 营业执照 变更\u{3000}登记 "), "营业执照变更登记");
    }

    #[test]
    fn search_mode_emits_sub_words() {
        let w = words("营业执照变更登记");
        for expected in ["营业执照", "营业", "执照", "变更", "登记"] {
            assert!(
                w.iter().any(|x| x == expected),
                "{expected} missing from {w:?}"
            );
        }
        let w = words("食品经营许可证核发");
        assert!(w.iter().any(|x| x == "食品经营"), "{w:?}");
        let w = words("城乡居民基本养老保险待遇申领");
        assert!(w.iter().any(|x| x == "养老"), "{w:?}");
    }

    #[test]
    fn gov_dictionary_terms_stay_whole() {
        let j = jieba().unwrap();
        for term in [
            "社会保障卡",
            "住房公积金",
            "最低生活保障",
            "跨省通办",
            "网约车",
            "一件事",
        ] {
            let cut: Vec<&str> = j.cut(term, true).iter().map(|t| t.word).collect();
            assert_eq!(cut, vec![term]);
        }
    }

    #[test]
    fn grams() {
        let mut g = Vec::new();
        for_each_gram("社保卡 ab", |x| g.push(x));
        assert_eq!(g, vec!["社", "保", "社保", "卡", "保卡", "a", "b", "ab"]);
        assert_eq!(query_grams("社保卡"), vec!["社保", "保卡"]);
        assert_eq!(query_grams("证"), vec!["证"]);
    }

    #[test]
    fn synonyms_map_everyday_words_to_the_guides_terms() {
        assert_eq!(synonym("小店"), Some("个体户"));
        assert_eq!(synonym("营业执照"), None);
        // Every pair has exactly two words.
        for line in SYNONYMS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            assert_eq!(line.split_whitespace().count(), 2, "{line}");
        }
    }

    #[test]
    fn dictionary_has_enough_terms() {
        let n = GOV_DICT
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        assert!(n >= 200, "only {n} terms");
    }
}
