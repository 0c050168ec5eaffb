//! Finding the subject's name in the text.
//!
//! Two sources of candidates:
//! - a name *suffix* (学校, 培训中心, 考试点, 公司, 厂, APP…): scan back from it over name
//!   characters (CJK, Latin letters) and cut after the last *stop word* (反映, 举报, 的, 在, 一家, 叫…);
//! - a *quoted* name (“安学通”APP, 叫“顺通教育”的机构): quoted words introduced by 叫/名为/自称…
//!   or followed by a subject noun (APP, 平台, 网站…).
//!
//! A candidate made only of generic words (特种作业考点, 一家化工厂) or naming an official body is
//! dropped; a generic mention followed by the formal name in brackets (一家化工厂（XX化工有限公司）)
//! gives way to the bracketed one.

use super::rules::Compiled;
use crate::domain::SubjectKind;

/// A name found in the text: its byte span (the name is `text[start..end]`).
#[derive(Debug, Clone)]
pub(crate) struct NameCandidate {
    pub start: usize,
    pub end: usize,
    pub kind: Option<SubjectKind>,
    /// A subject named only by its type (某培训学校): it says the kind, it is no name.
    pub anonymous: bool,
}

const MAX_NAME_CHARS: usize = 32;

fn is_name_char(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | 'a'..='z' | 'A'..='Z')
}

/// The kind a name says by itself (its markers), if any: the marker group listed first wins.
pub(crate) fn kind_of_name(c: &Compiled, name: &str) -> Option<SubjectKind> {
    let mut best: Option<usize> = None;
    for m in c.markers.find_overlapping_iter(name) {
        let group = c.marker_group[m.pattern().as_usize()];
        if best.is_none_or(|b| group < b) {
            best = Some(group);
        }
    }
    best.map(|g| c.kind_markers[g].0)
}

/// Whether a name says nothing specific: fewer than two name characters once the generic words
/// are removed.
fn is_generic(c: &Compiled, core: &str) -> bool {
    let mut specific = 0;
    let mut last = 0;
    for m in c.generic.find_iter(core) {
        specific += core[last..m.start()]
            .chars()
            .filter(|ch| is_name_char(*ch))
            .count();
        last = m.end();
    }
    specific += core[last..].chars().filter(|ch| is_name_char(*ch)).count();
    specific < 2
}

fn is_official(c: &Compiled, name: &str) -> bool {
    c.official_ac.is_match(name)
}

/// Suffix candidate ending at byte `end` whose suffix starts at `suffix_start`.
/// `stops` are the (start, end) byte spans of stop words in the text.
pub(crate) fn suffix_candidate(
    c: &Compiled,
    text: &str,
    suffix_start: usize,
    end: usize,
    stops: &[(usize, usize)],
) -> Option<NameCandidate> {
    // Scan back over name characters.
    let mut start = suffix_start;
    let mut n = 0;
    for (i, ch) in text[..suffix_start].char_indices().rev() {
        if !is_name_char(ch) || n >= MAX_NAME_CHARS {
            break;
        }
        start = i;
        n += 1;
    }
    // Cut after the last stop word lying wholly inside the run.
    // (`stops` is sorted: only those starting inside the run are visited, from the right.)
    let upto = stops.partition_point(|&(s, _)| s < suffix_start);
    for &(s, e) in stops[..upto].iter().rev() {
        if s < start {
            break;
        }
        if e <= suffix_start {
            start = e;
            break;
        }
    }
    let core = &text[start..suffix_start];
    if core.contains('某') {
        // 某培训学校, 某化工有限公司: no name, but the kind of the subject is said.
        let name = &text[start..end];
        let kind = kind_of_name(c, name)?;
        return Some(NameCandidate {
            start,
            end,
            kind: Some(kind),
            anonymous: true,
        });
    }
    if core.chars().count() < 2 || is_generic(c, core) {
        return None;
    }
    let name = &text[start..end];
    if is_official(c, name) {
        return None;
    }
    Some(NameCandidate {
        start,
        end,
        kind: kind_of_name(c, name),
        anonymous: false,
    })
}

/// Quoted candidates: “…” introduced by a naming word or followed by a subject noun.
/// `opens` and `closes` are the byte offsets of “ and ” in the text, ascending.
pub(crate) fn quoted_candidates(
    c: &Compiled,
    text: &str,
    opens: &[usize],
    closes: &[usize],
    out: &mut Vec<NameCandidate>,
) {
    let mut from = 0;
    for &open in opens {
        if open < from {
            continue;
        }
        let inner_start = open + '“'.len_utf8();
        let k = closes.partition_point(|&x| x < inner_start);
        let Some(&close) = closes.get(k) else {
            break;
        };
        let after = close + '”'.len_utf8();
        from = after;
        let inner = &text[inner_start..close];
        let n = inner.chars().count();
        if !(2..=20).contains(&n)
            || !inner
                .chars()
                .all(|ch| is_name_char(ch) || ch.is_ascii_digit())
        {
            continue;
        }
        if is_official(c, inner) {
            continue;
        }
        // What follows, up to 10 characters of the same phrase: a subject noun?
        let follow_end = text[after..]
            .char_indices()
            .take(10)
            .take_while(|(_, ch)| is_name_char(*ch))
            .last()
            .map_or(after, |(i, ch)| after + i + ch.len_utf8());
        let follow_kind = kind_of_name(c, &text[after..follow_end]);
        let before_start = text[..open]
            .char_indices()
            .rev()
            .take(4)
            .last()
            .map_or(open, |(i, _)| i);
        let before = &text[before_start..open];
        let introduced = c.quote_intro.iter().any(|q| before.ends_with(q.as_str()));
        let inner_kind = kind_of_name(c, inner);
        if !(introduced || follow_kind.is_some()) {
            continue;
        }
        if inner_kind.is_none() && follow_kind.is_none() && is_generic(c, inner) {
            continue;
        }
        // The noun right after the quote belongs to the name (“安学通”APP).
        let mut end = after;
        for word in ["APP", "App", "app", "小程序", "网站", "平台"] {
            if text[after..].starts_with(word) {
                end = after + word.len();
                break;
            }
        }
        // The noun after the quote says what the thing is (“安途学院”这个APP is an APP).
        out.push(NameCandidate {
            start: open,
            end,
            kind: follow_kind.or(inner_kind),
            anonymous: false,
        });
    }
}
