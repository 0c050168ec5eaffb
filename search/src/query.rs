//! From the user's text to a tantivy query, without tantivy's QueryParser: the syntax is ours,
//! so no input can make parsing fail in ways we did not choose.

use std::ops::Bound;

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query as TQuery,
    RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use crate::analysis::{fold, is_word_char, runs, words};
use crate::schema::Fields;
use crate::types::{Query, MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS};
use crate::verify::VerifiedQuery;
use crate::SearchError;

/// Most terms a query may have.
const MAX_TERMS: usize = 32;

/// Boosts of the ranking clauses (should-clauses; they never change what matches).
const TITLE_BOOST: f32 = 2.0;
const SUBJECT_BOOST: f32 = 3.0;
const WORD_BOOST: f32 = 1.5;

/// A term of the user's text: the folded runs of word characters that must all occur.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Term_ {
    pub runs: Vec<Vec<char>>,
    pub exclude: bool,
    /// For a term with separators between its runs (`包过。交`): the folded term from its first
    /// to its last word character, which a report must contain as written. The runs alone
    /// only select the candidates.
    pub exact: Option<String>,
}

/// The folded piece without its leading and trailing separators, when separators remain
/// inside it (more than one run).
fn exact_piece(folded: &str, runs: &[Vec<char>]) -> Option<String> {
    if runs.len() < 2 {
        return None;
    }
    let start = folded.find(is_word_char)?;
    let end = folded
        .char_indices()
        .rfind(|(_, c)| is_word_char(*c))
        .map(|(i, c)| i + c.len_utf8())?;
    folded.get(start..end).map(str::to_string)
}

/// Splits the user's text into terms: whitespace separates, `"…"` groups, leading `-` excludes.
pub(crate) fn parse_text(text: &str) -> Result<Vec<Term_>, SearchError> {
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(SearchError::bad(format!(
            "the query is longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    // NFKC first so that full-width quotes and minus signs work as syntax.
    let text = intake::fold_width_and_space(text);
    let mut raw: Vec<(String, bool)> = Vec::new();
    let mut cur = String::new();
    let mut exclude = false;
    let mut in_quotes = false;
    let mut at_start = true;
    for c in text.chars() {
        if in_quotes {
            if c == '"' {
                in_quotes = false;
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                in_quotes = true;
                at_start = false;
            }
            '-' if at_start => {
                exclude = true;
                at_start = false;
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() || exclude {
                    raw.push((std::mem::take(&mut cur), exclude));
                }
                exclude = false;
                at_start = true;
            }
            c => {
                cur.push(c);
                at_start = false;
            }
        }
    }
    if in_quotes {
        return Err(SearchError::bad("a double quote is not closed"));
    }
    if !cur.is_empty() || exclude {
        raw.push((cur, exclude));
    }
    let mut terms = Vec::new();
    let mut had_text = false;
    for (s, exclude) in raw {
        had_text |= !s.is_empty();
        let folded = fold(&s);
        let runs = runs(&folded);
        if !runs.is_empty() {
            let exact = exact_piece(&folded, &runs);
            terms.push(Term_ {
                runs,
                exclude,
                exact,
            });
        }
    }
    if terms.len() > MAX_TERMS {
        return Err(SearchError::bad(format!(
            "the query has more than {MAX_TERMS} terms"
        )));
    }
    if had_text && terms.is_empty() {
        return Err(SearchError::bad(
            "the query has no letters or digits to search for",
        ));
    }
    Ok(terms)
}

/// A phrase over the `n`-grams of `run` (`run.len() > n`): the n-grams at offsets 0, n, 2n, …
/// plus the last one cover every character, so it matches exactly the documents whose `field`
/// holds `run` as a substring, with as few posting lists to intersect as possible.
fn ngram_phrase(field: Field, n: usize, run: &[char]) -> Box<dyn TQuery> {
    let last = run.len() - n;
    let mut offsets: Vec<usize> = (0..=last).step_by(n).collect();
    if offsets.last() != Some(&last) {
        offsets.push(last);
    }
    let terms = offsets
        .into_iter()
        .map(|i| {
            let s: String = run[i..i + n].iter().collect();
            (i, Term::from_field_text(field, &s))
        })
        .collect();
    Box::new(PhraseQuery::new_with_offset(terms))
}

fn text_term(field: Field, chars: &[char]) -> Box<dyn TQuery> {
    let s: String = chars.iter().collect();
    Box::new(TermQuery::new(
        Term::from_field_text(field, &s),
        IndexRecordOption::WithFreqs,
    ))
}

/// A query matching exactly the documents whose searchable text contains `run` as a substring:
/// one unigram, bigram or trigram term for runs of 1–3 characters (no positions to read), a
/// phrase of trigrams for longer runs.
fn substring_query(f: &Fields, run: &[char]) -> Option<Box<dyn TQuery>> {
    match run.len() {
        0 => None,
        1 => Some(text_term(f.body_uni, run)),
        2 => Some(text_term(f.body, run)),
        3 => Some(text_term(f.body_tri, run)),
        _ => Some(ngram_phrase(f.body_tri, 3, run)),
    }
}

/// A ranking clause over a bigram field with positions (title, subject): the documents whose
/// field contains `run` (of at least 2 characters) as a substring.
fn bigram_substring_query(field: Field, run: &[char]) -> Option<Box<dyn TQuery>> {
    match run.len() {
        0 | 1 => None,
        2 => Some(text_term(field, run)),
        _ => Some(ngram_phrase(field, 2, run)),
    }
}

/// A should-clause rewarding jieba-word alignment of a run: each of its jieba words that the
/// document has as a word. Terms, not a phrase: a phrase scorer looks for its first match as
/// soon as it is built, scanning every document with all the words when they are never
/// adjacent (e.g. 无证 … 上岗), which cost more than the whole rest of such a query.
fn words_query(field: Field, run: &[char]) -> Option<Box<dyn TQuery>> {
    let s: String = run.iter().collect();
    let ws = words(&s);
    let term = |w: &str| -> Box<dyn TQuery> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, w),
            IndexRecordOption::WithFreqs,
        ))
    };
    match ws.len() {
        0 => None,
        1 => Some(term(ws[0])),
        _ => Some(Box::new(BooleanQuery::new(
            ws.iter().map(|w| (Occur::Should, term(w))).collect(),
        ))),
    }
}

fn filter(q: Box<dyn TQuery>) -> (Occur, Box<dyn TQuery>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

fn term_filter(field: Field, value: &str) -> (Occur, Box<dyn TQuery>) {
    filter(Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    )))
}

/// A division code without its trailing `00` pairs: `210300` → `2103`, `210000` → `21`.
pub(crate) fn trim_code(code: &str) -> &str {
    let mut c = code;
    while c.len() > 2 && c.ends_with("00") {
        c = &c[..c.len() - 2];
    }
    c
}

/// The place terms of a document: prefixes of its locus and handling codes, plus `home`.
pub(crate) fn place_terms(locus: Option<&str>, handling: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for code in locus.into_iter().chain(std::iter::once(handling)) {
        if code == "home" {
            out.push("home".into());
            continue;
        }
        let t = trim_code(code);
        for len in [2, 4, 6] {
            if t.len() >= len && t.is_char_boundary(len) {
                out.push(t[..len].to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn check_place(place: &str) -> Result<String, SearchError> {
    let p = place.trim();
    if p == "home" {
        return Ok(p.into());
    }
    if !p.chars().all(|c| c.is_ascii_digit()) || ![2, 4, 6].contains(&p.len()) {
        return Err(SearchError::bad(format!(
            "place must be a division code of 2, 4 or 6 digits (21, 2103, 210302) or \"home\", not {place:?}"
        )));
    }
    Ok(trim_code(p).to_string())
}

fn date_term(f: Field, t: chrono::DateTime<chrono::Utc>) -> Term {
    Term::from_field_date(f, tantivy::DateTime::from_timestamp_secs(t.timestamp()))
}

/// The terms whose document frequencies bound the number of matches of a query's text: for
/// each required run, the unigram, bigram or trigrams its substring query needs. At most as many
/// documents match as the smallest frequency of any of them.
pub(crate) fn required_terms(q: &Query, f: &Fields) -> Result<Vec<Term>, SearchError> {
    let mut out = Vec::new();
    for t in parse_text(&q.text)?.iter().filter(|t| !t.exclude) {
        for r in &t.runs {
            match r.len() {
                0 => {}
                1 => out.push(Term::from_field_text(f.body_uni, &r[0].to_string())),
                2 => out.push(Term::from_field_text(f.body, &r.iter().collect::<String>())),
                _ => out.extend(
                    r.windows(3)
                        .map(|w| Term::from_field_text(f.body_tri, &w.iter().collect::<String>())),
                ),
            }
        }
    }
    Ok(out)
}

/// The documents containing a term: those containing all its runs, and for a term with
/// separators inside, only those of them whose stored text contains it as written.
fn term_query(f: &Fields, t: &Term_) -> Option<Box<dyn TQuery>> {
    let mut parts: Vec<Box<dyn TQuery>> = t
        .runs
        .iter()
        .filter_map(|r| substring_query(f, r))
        .collect();
    let candidates: Box<dyn TQuery> = match parts.len() {
        0 => return None,
        1 => parts.pop()?,
        _ => Box::new(BooleanQuery::new(
            parts.into_iter().map(|q| (Occur::Must, q)).collect(),
        )),
    };
    Some(match &t.exact {
        None => candidates,
        Some(needle) => Box::new(VerifiedQuery::new(
            candidates,
            needle.clone(),
            vec![f.title, f.text, f.subject_name, f.external_id, f.case_no],
        )),
    })
}

/// Checks the query and builds the tantivy query, with or without the ranking clauses
/// (should-clauses on title, subject and jieba words: they change the scores, never the
/// matches). Returns the positive runs for snippets.
pub(crate) fn build_with(
    q: &Query,
    f: &Fields,
    ranking: bool,
) -> Result<(Box<dyn TQuery>, Vec<Vec<char>>), SearchError> {
    if q.limit > MAX_LIMIT {
        return Err(SearchError::bad(format!(
            "limit must be at most {MAX_LIMIT}"
        )));
    }
    if q.offset > MAX_OFFSET {
        return Err(SearchError::bad(format!(
            "offset must be at most {MAX_OFFSET}"
        )));
    }
    if let (Some(a), Some(b)) = (q.from, q.to) {
        if a > b {
            return Err(SearchError::bad("`from` is after `to`"));
        }
    }
    let terms = parse_text(&q.text)?;
    let mut clauses: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
    let mut positive = Vec::new();
    for t in &terms {
        if t.exclude {
            if let Some(q) = term_query(f, t) {
                clauses.push((Occur::MustNot, q));
            }
            continue;
        }
        if let Some(q) = term_query(f, t) {
            clauses.push((Occur::Must, q));
        }
        for r in &t.runs {
            if ranking {
                if let Some(tq) = bigram_substring_query(f.title_gram, r) {
                    clauses.push((Occur::Should, Box::new(BoostQuery::new(tq, TITLE_BOOST))));
                }
                if let Some(sq) = bigram_substring_query(f.subject_gram, r) {
                    clauses.push((Occur::Should, Box::new(BoostQuery::new(sq, SUBJECT_BOOST))));
                }
                if let Some(wq) = words_query(f.words, r) {
                    clauses.push((Occur::Should, Box::new(BoostQuery::new(wq, WORD_BOOST))));
                }
            }
            positive.push(r.clone());
        }
    }
    if positive.is_empty() {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    if let Some(p) = &q.place {
        clauses.push(term_filter(f.place, &check_place(p)?));
    }
    for (field, value) in [
        (f.subject_kind, &q.subject_kind),
        (f.category, &q.category),
        (f.channel, &q.channel),
        (f.case_state, &q.case_state),
        (f.referral, &q.referral),
    ] {
        if let Some(v) = value {
            clauses.push(term_filter(field, v.trim()));
        }
    }
    for case_id in &q.exclude_cases {
        // `case_id` is a fast field, not indexed: a one-value range reads the column.
        let term = Term::from_field_i64(f.case_id, *case_id);
        clauses.push((
            Occur::MustNot,
            Box::new(RangeQuery::new(
                Bound::Included(term.clone()),
                Bound::Included(term),
            )),
        ));
    }
    if q.from.is_some() || q.to.is_some() {
        let lo = q.from.map_or(Bound::Unbounded, |t| {
            Bound::Included(date_term(f.received_at, t))
        });
        let hi = q.to.map_or(Bound::Unbounded, |t| {
            Bound::Excluded(date_term(f.received_at, t))
        });
        clauses.push(filter(Box::new(RangeQuery::new(lo, hi))));
    }
    Ok((Box::new(BooleanQuery::new(clauses)), positive))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs_of(s: &str) -> Vec<(String, bool)> {
        parse_text(s)
            .unwrap()
            .into_iter()
            .flat_map(|t| {
                t.runs
                    .into_iter()
                    .map(move |r| (r.into_iter().collect::<String>(), t.exclude))
            })
            .collect()
    }

    #[test]
    fn syntax() {
        assert_eq!(
            runs_of("电工证  焊工"),
            vec![("电工证".into(), false), ("焊工".into(), false)]
        );
        assert_eq!(
            runs_of("\"电工 证\" -假证"),
            vec![
                ("电工".into(), false),
                ("证".into(), false),
                ("假证".into(), true)
            ]
        );
        assert_eq!(
            runs_of("－假證 ＡＢ"),
            vec![("假证".into(), true), ("ab".into(), false)]
        );
        assert_eq!(
            runs_of("a-b"),
            vec![("a".into(), false), ("b".into(), false)]
        );
        assert!(parse_text("").unwrap().is_empty());
        assert!(matches!(
            parse_text("\"电工"),
            Err(SearchError::BadQuery { .. })
        ));
        assert!(matches!(
            parse_text("？？"),
            Err(SearchError::BadQuery { .. })
        ));
    }

    #[test]
    fn pieces_with_separators_inside_are_exact() {
        let exact = |s: &str| -> Vec<Option<String>> {
            parse_text(s)
                .unwrap()
                .into_iter()
                .map(|t| t.exact)
                .collect()
        };
        assert_eq!(exact("包过。交"), vec![Some("包过。交".into())]);
        assert_eq!(exact("包過，交"), vec![Some("包过,交".into())]);
        assert_eq!(
            exact("，包过,交。 电工证。"),
            vec![Some("包过,交".into()), None]
        );
        assert_eq!(exact("-a-b"), vec![Some("a-b".into())]);
        assert_eq!(exact("\"电工  证\""), vec![Some("电工 证".into())]);
    }

    #[test]
    fn places() {
        assert_eq!(
            place_terms(Some("210302"), "210300"),
            vec!["21", "2103", "210302"]
        );
        assert_eq!(place_terms(None, "home"), vec!["home"]);
        assert_eq!(
            place_terms(Some("500101"), "500000"),
            vec!["50", "5001", "500101"]
        );
        assert_eq!(check_place("210300").unwrap(), "2103");
        assert!(check_place("2103x").is_err());
    }
}
