//! Snippets: an excerpt of the original text around the first match, HTML-escaped, matches in
//! `<b>…</b>`. Matching runs over the folded form of each character, so a query in simplified
//! characters highlights traditional or full-width text.

use crate::analysis::fold_char;

/// Characters of context before the first match.
const LEAD: usize = 20;

/// The snippet of `text` for the query runs, at most `max_chars` characters of the original.
pub(crate) fn snippet(text: &str, runs: &[Vec<char>], max_chars: usize) -> String {
    let orig: Vec<char> = text.chars().collect();
    let mut folded: Vec<char> = Vec::with_capacity(orig.len());
    let mut back: Vec<usize> = Vec::with_capacity(orig.len());
    let mut buf = String::new();
    for (i, c) in orig.iter().enumerate() {
        buf.clear();
        fold_char(*c, &mut buf);
        for f in buf.chars() {
            folded.push(f);
            back.push(i);
        }
    }
    let mut marked = vec![false; orig.len()];
    let mut first: Option<usize> = None;
    for run in runs.iter().filter(|r| !r.is_empty()) {
        let n = run.len();
        if n > folded.len() {
            continue;
        }
        let mut i = 0;
        while i + n <= folded.len() {
            if folded[i..i + n] == run[..] {
                let (a, b) = (back[i], back[i + n - 1]);
                marked[a..=b].iter_mut().for_each(|m| *m = true);
                first = Some(first.map_or(a, |f: usize| f.min(a)));
                i += n;
            } else {
                i += 1;
            }
        }
    }
    let start = first.map_or(0, |f| f.saturating_sub(LEAD));
    // Do not start in the middle of whitespace.
    let end = (start + max_chars).min(orig.len());
    let mut out = String::with_capacity((end - start) * 4);
    if start > 0 {
        out.push('…');
    }
    let mut open = false;
    let mut last_space = false;
    for i in start..end {
        let c = orig[i];
        if marked[i] != open {
            out.push_str(if marked[i] { "<b>" } else { "</b>" });
            open = marked[i];
        }
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    if open {
        out.push_str("</b>");
    }
    if end < orig.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn highlights_folded_matches_and_escapes() {
        assert_eq!(
            snippet("<p>考試作弊</p>", &[r("考试")], 100),
            "&lt;p&gt;<b>考試</b>作弊&lt;/p&gt;"
        );
        assert_eq!(
            snippet("交３８００元", &[r("3800")], 100),
            "交<b>３８００</b>元"
        );
        let long = format!("{}假证{}", "甲".repeat(50), "乙".repeat(50));
        let s = snippet(&long, &[r("假证")], 30);
        assert!(
            s.starts_with('…') && s.ends_with('…') && s.contains("<b>假证</b>"),
            "{s}"
        );
    }

    #[test]
    fn no_match_gives_the_start() {
        assert_eq!(snippet("甲乙丙", &[], 2), "甲乙…");
    }
}
