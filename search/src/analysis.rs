//! Text analysis: the fold shared by documents and queries, and the tokenizers of the index.
//!
//! The recall guarantee rests on one property: [`fold`] maps every character independently
//! (after the NFKC pass of [`intake::fold_width_and_space`]), so when a phrase is a substring of a
//! report, the folded phrase is a substring of the folded report. The n-gram tokenizers give
//! every overlapping pair (bigrams) or triple (trigrams) of word characters the position of its
//! first character, so a phrase query over the trigrams of a folded phrase (or one bigram or
//! trigram term for 2 or 3 characters) matches exactly the reports that contain it.

use jieba_rs::Jieba;
use once_cell::sync::Lazy;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Name of the overlapping-bigram tokenizer (the recall field).
pub(crate) const BIGRAM: &str = "tl_bigram";
/// Name of the overlapping-trigram tokenizer (queries of 3 characters and more).
pub(crate) const TRIGRAM: &str = "tl_trigram";
/// Name of the unigram tokenizer (1-character queries).
pub(crate) const UNIGRAM: &str = "tl_unigram";
/// Name of the jieba word tokenizer (ranking only).
pub(crate) const WORDS: &str = "tl_jieba";

/// Traditional → simplified, character by character.
///
/// `intake::normalize_text` converts with zhconv's phrase tables, so a character may convert one
/// way inside a word and another way alone: the folded query is then not always a substring of
/// the folded report. A context-free table keeps the substring property. It is derived from the
/// same zhconv tables (each character converted alone), so in practice it agrees with
/// `normalize_text`.
static SIMPLIFIED: Lazy<Box<[char]>> = Lazy::new(|| {
    let chars: Vec<char> = (TABLE_START..=TABLE_END)
        .filter_map(char::from_u32)
        .collect();
    // One conversion over the characters separated by newlines: zhconv's rules never span a
    // newline, so each character is converted alone.
    let mut joined = String::with_capacity(chars.len() * 4);
    for c in &chars {
        joined.push(*c);
        joined.push('\n');
    }
    let converted = intake::to_simplified(&joined);
    let mut table: Vec<char> = (TABLE_START..=TABLE_END)
        .map(|u| char::from_u32(u).unwrap_or('\0'))
        .collect();
    let lines: Vec<&str> = converted.split('\n').collect();
    if lines.len() >= chars.len() {
        for (c, line) in chars.iter().zip(lines) {
            let mut it = line.chars();
            if let (Some(s), None) = (it.next(), it.next()) {
                table[(*c as u32 - TABLE_START) as usize] = s;
            }
        }
    }
    table.into_boxed_slice()
});

/// The table covers CJK extension A, the unified ideographs and the compatibility ideographs
/// (a flat array: one bounds check per character instead of a hash lookup).
const TABLE_START: u32 = 0x3400;
const TABLE_END: u32 = 0xFAFF;

static JIEBA: Lazy<Jieba> = Lazy::new(Jieba::new);

/// Forces the lazily built tables (script table, jieba dictionary), so that the first document
/// or query does not pay for them.
pub(crate) fn warm_up() {
    Lazy::force(&SIMPLIFIED);
    Lazy::force(&JIEBA);
}

/// Folds one character (already NFKC) into `out`: simplified script, lower case.
#[inline]
fn push_folded(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else if let Some(s) = (c as u32)
        .checked_sub(TABLE_START)
        .and_then(|i| SIMPLIFIED.get(i as usize))
    {
        out.push(if *s == '\0' { c } else { *s });
    } else if c.is_uppercase() {
        out.extend(c.to_lowercase());
    } else {
        out.push(c);
    }
}

/// The form that is indexed and searched: NFKC (full-width → half-width), invisible characters
/// dropped, whitespace folded, traditional → simplified per character, lower case.
pub fn fold(text: &str) -> String {
    let nfkc = intake::fold_width_and_space(text);
    let mut out = String::with_capacity(nfkc.len());
    for c in nfkc.chars() {
        push_folded(c, &mut out);
    }
    out
}

/// One character of the original text folded alone, for mapping matches back onto the original
/// (snippets). Whitespace and invisible characters give an empty string.
pub(crate) fn fold_char(c: char, out: &mut String) {
    let mut buf = [0u8; 4];
    let nfkc = intake::fold_width_and_space(c.encode_utf8(&mut buf));
    for c in nfkc.chars() {
        push_folded(c, out);
    }
}

/// A character that belongs to a searchable run: letters (CJK included) and digits. Everything
/// else (punctuation, whitespace, emoji) separates runs.
#[inline]
pub(crate) fn is_word_char(c: char) -> bool {
    // CJK unified ideographs first: most characters of a report, and `is_alphanumeric` takes a
    // slow table lookup for them.
    matches!(c, '\u{4E00}'..='\u{9FFF}') || c.is_alphanumeric()
}

/// The maximal runs of word characters of a folded text, as character vectors.
pub(crate) fn runs(folded: &str) -> Vec<Vec<char>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for c in folded.chars() {
        if is_word_char(c) {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Jieba words of a folded text that contain a word character (ranking only).
pub(crate) fn words(folded: &str) -> Vec<&str> {
    JIEBA
        .cut(folded, false)
        .into_iter()
        .filter(|w| w.chars().any(is_word_char))
        .collect()
}

/// Emits, for every word character at char index `i` that has a word character after it, the
/// bigram of the two at position `i`. Positions are character indexes in the whole text, so
/// bigrams of different runs are never adjacent and phrases cannot match across punctuation.
#[derive(Clone, Default)]
pub(crate) struct BigramTokenizer;

/// Emits, for every run of three word characters starting at char index `i`, the trigram at
/// position `i` (as [`BigramTokenizer`], one character more).
#[derive(Clone, Default)]
pub(crate) struct TrigramTokenizer;

/// Emits every word character as a token (position = character index).
#[derive(Clone, Default)]
pub(crate) struct UnigramTokenizer;

/// Emits jieba words (search mode off, no HMM) that contain a word character.
#[derive(Clone, Default)]
pub(crate) struct JiebaTokenizer;

/// A token stream over a precomputed vector (the texts are short; this keeps the code simple).
pub(crate) struct VecTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl VecTokenStream {
    fn new(tokens: Vec<Token>) -> Self {
        VecTokenStream { tokens, index: 0 }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        if self.index < self.tokens.len() {
            self.index += 1;
            true
        } else {
            false
        }
    }
    fn token(&self) -> &Token {
        &self.tokens[self
            .index
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1))]
    }
    fn token_mut(&mut self) -> &mut Token {
        let i = self
            .index
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[i]
    }
}

fn token(text: String, from: usize, to: usize, position: usize) -> Token {
    Token {
        offset_from: from,
        offset_to: to,
        position,
        text,
        position_length: 1,
    }
}

/// Empty streams still need a token to return from `token()`; it is never exposed because
/// `advance()` returns false first.
fn guard(mut tokens: Vec<Token>) -> VecTokenStream {
    if tokens.is_empty() {
        tokens.push(Token::default());
        return VecTokenStream { tokens, index: 1 };
    }
    VecTokenStream::new(tokens)
}

#[cfg(test)]
fn collect(mut s: impl TokenStream) -> Vec<Token> {
    let mut out = Vec::new();
    while s.advance() {
        out.push(s.token().clone());
    }
    out
}

#[cfg(test)]
pub(crate) fn bigram_tokens(text: &str) -> Vec<Token> {
    collect(BigramTokenizer.token_stream(text))
}

#[cfg(test)]
pub(crate) fn trigram_tokens(text: &str) -> Vec<Token> {
    collect(TrigramTokenizer.token_stream(text))
}

#[cfg(test)]
pub(crate) fn unigram_tokens(text: &str) -> Vec<Token> {
    collect(UnigramTokenizer.token_stream(text))
}

pub(crate) fn word_tokens(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut off = 0usize;
    let mut pos = 0usize;
    for w in JIEBA.cut(text, false) {
        let start = off;
        off += w.len();
        if w.chars().any(is_word_char) {
            tokens.push(token(w.to_string(), start, off, pos));
            pos += 1;
        }
    }
    tokens
}

/// Streams the n-grams of consecutive word characters (n = 2 or 3) without allocating per token
/// (the token text buffer is reused). Each n-gram has the character index of its first
/// character as position.
pub(crate) struct NgramStream<'a> {
    chars: std::str::CharIndices<'a>,
    n: usize,
    next_pos: usize,
    /// The last (up to `n`) word characters with their byte offsets, oldest first.
    window: [(usize, char); 3],
    filled: usize,
    token: Token,
}

impl<'a> NgramStream<'a> {
    fn new(text: &'a str, n: usize) -> Self {
        NgramStream {
            chars: text.char_indices(),
            n: n.clamp(1, 3),
            next_pos: 0,
            window: [(0, '\0'); 3],
            filled: 0,
            token: Token::default(),
        }
    }
}

impl TokenStream for NgramStream<'_> {
    fn advance(&mut self) -> bool {
        let n = self.n;
        for (off, c) in self.chars.by_ref() {
            let pos = self.next_pos;
            self.next_pos += 1;
            if !is_word_char(c) {
                self.filled = 0;
                continue;
            }
            if self.filled == n {
                self.window.copy_within(1..n, 0);
                self.filled -= 1;
            }
            self.window[self.filled] = (off, c);
            self.filled += 1;
            if self.filled == n {
                let t = &mut self.token;
                t.text.clear();
                for (_, c) in &self.window[..n] {
                    t.text.push(*c);
                }
                t.offset_from = self.window[0].0;
                t.offset_to = off + c.len_utf8();
                t.position = pos + 1 - n;
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

/// Streams unigrams without allocating per token.
pub(crate) struct UnigramStream<'a> {
    chars: std::str::CharIndices<'a>,
    next_pos: usize,
    token: Token,
}

impl TokenStream for UnigramStream<'_> {
    fn advance(&mut self) -> bool {
        for (off, c) in self.chars.by_ref() {
            let pos = self.next_pos;
            self.next_pos += 1;
            if is_word_char(c) {
                let t = &mut self.token;
                t.text.clear();
                t.text.push(c);
                t.offset_from = off;
                t.offset_to = off + c.len_utf8();
                t.position = pos;
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

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = NgramStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> NgramStream<'a> {
        NgramStream::new(text, 2)
    }
}

impl Tokenizer for TrigramTokenizer {
    type TokenStream<'a> = NgramStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> NgramStream<'a> {
        NgramStream::new(text, 3)
    }
}

impl Tokenizer for UnigramTokenizer {
    type TokenStream<'a> = UnigramStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> UnigramStream<'a> {
        UnigramStream {
            chars: text.char_indices(),
            next_pos: 0,
            token: Token::default(),
        }
    }
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        guard(word_tokens(text))
    }
}

/// Registers the tokenizers on an index (must happen every time an index is opened).
pub(crate) fn register(index: &tantivy::Index) {
    let m = index.tokenizers();
    m.register(BIGRAM, BigramTokenizer);
    m.register(TRIGRAM, TrigramTokenizer);
    m.register(UNIGRAM, UnigramTokenizer);
    m.register(WORDS, JiebaTokenizer);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts_positions(tokens: &[Token]) -> Vec<(String, usize)> {
        tokens
            .iter()
            .map(|t| (t.text.clone(), t.position))
            .collect()
    }

    #[test]
    fn bigrams_have_consecutive_positions_and_break_at_punctuation() {
        let t = bigram_tokens("电工证，a1");
        assert_eq!(
            texts_positions(&t),
            vec![("电工".into(), 0), ("工证".into(), 1), ("a1".into(), 4)]
        );
        assert_eq!(&"电工证，a1"[t[1].offset_from..t[1].offset_to], "工证");
    }

    #[test]
    fn trigrams_have_consecutive_positions_and_break_at_punctuation() {
        let t = trigram_tokens("电工证书，ab，a1b2");
        assert_eq!(
            texts_positions(&t),
            vec![
                ("电工证".into(), 0),
                ("工证书".into(), 1),
                ("a1b".into(), 8),
                ("1b2".into(), 9)
            ]
        );
        assert_eq!(
            &"电工证书，ab，a1b2"[t[1].offset_from..t[1].offset_to],
            "工证书"
        );
    }

    #[test]
    fn unigrams_skip_separators() {
        let t = unigram_tokens("假 证!");
        assert_eq!(
            texts_positions(&t),
            vec![("假".into(), 0), ("证".into(), 2)]
        );
    }

    #[test]
    fn stream_over_empty_text_is_empty() {
        let mut tk = BigramTokenizer;
        let mut s = tk.token_stream("，。");
        assert!(!s.advance());
    }

    #[test]
    fn fold_is_width_script_and_case_insensitive() {
        assert_eq!(fold("考試 ＡＢＣ３８００元"), "考试 abc3800元");
        assert_eq!(fold("電工證"), "电工证");
    }

    #[test]
    fn words_are_jieba_words() {
        let w = words("电工证培训");
        assert!(!w.is_empty());
        assert_eq!(w.concat(), "电工证培训");
    }
}
