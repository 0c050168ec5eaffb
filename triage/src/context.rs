//! Context cues around a name occurrence: what makes a bare short name a place.
//!
//! The reference `context` (tests) looks at one occurrence; [`Cues`] holds every cue word of a
//! text, found with the division names in one pass, so that the context of many occurrences
//! costs a few lookups each ([`Cues::near`], [`Cues::org_follows`], [`Cues::reporter_clause`]
//! give the same answers).

#[cfg(test)]
use aho_corasick::{MatchKind, StartKind};
#[cfg(test)]
use once_cell::sync::Lazy;

/// Words right after a bare name that mark it as a place (`齐大山那边`, `星沙的`, `长沙一家`).
const RIGHT_CUES: &[&str] = &[
    "那边",
    "那里",
    "那儿",
    "这边",
    "这里",
    "附近",
    "一带",
    "周边",
    "地区",
    "境内",
    "当地",
    "本地",
    "辖区",
    "市里",
    "县里",
    "区里",
    "城里",
    "镇上",
    "乡下",
    "街上",
    "的",
    "一家",
    "一个",
    "有家",
    "有个",
    "有一家",
    "有一个",
    "这家",
    "那家",
    "某",
];

/// Words right before a bare name that mark a place position (`在华岩`, `反映锡矿山…`).
const LEFT_CUES: &[&str] = &[
    "在", "到", "去", "于", "位于", "地处", "是", "住", "从", "反映", "举报", "称", "就在", "来自",
    "家住", "地址", "地点",
];

/// Suffixes of organisation names: a place right before such a name is where the subject is.
pub const ORG_SUFFIXES: &[&str] = &[
    "公司",
    "学校",
    "中心",
    "考点",
    "考试点",
    "考场",
    "厂",
    "矿",
    "店",
    "平台",
    "培训",
    "化工",
    "集团",
    "工作室",
    "经营部",
    "作坊",
    "机构",
    "学堂",
    "基地",
    "商行",
    "批发",
    "冶炼",
    "钢铁",
    "建材",
    "矿业",
    "教育",
    "服务部",
    "工程",
];

/// Phrases that put the following place on the reporter rather than the subject.
const REPORTER_CUES: &[&str] = &[
    "我是",
    "本人是",
    "本人系",
    "我叫",
    "家住",
    "我住",
    "住在",
    "户籍",
    "老家",
    "来电人系",
    "来电人是",
    "我在",
];

/// Clause-ending characters: the reference for [`CLAUSE_BREAKS`].
#[cfg(test)]
pub fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        '，' | '。' | '；' | '！' | '？' | '\n' | ',' | ';' | '!' | '?' | '：' | ':' | '、'
    )
}

/// True for a CJK ideograph.
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Context flags of one occurrence: those read at its ends. The two that look over its clause
/// (an organisation's name follows in the clause, the clause speaks of the reporter's own place)
/// are asked separately ([`Cues::org_follows`], [`Cues::reporter_clause`]): they cost searches
/// and matter only for occurrences that count.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ctx {
    /// Nothing ideographic right before (start, punctuation, space, digit).
    pub left_boundary: bool,
    /// A place-position word right before.
    pub left_cue: bool,
    /// Nothing ideographic right after.
    pub right_boundary: bool,
    /// A place cue right after.
    pub right_cue: bool,
    /// An administrative suffix right after (`电白县` for today's 电白区).
    pub right_suffix: bool,
    /// In brackets right after an organisation's name: `某某学校（铁东区）`.
    pub org_precedes: bool,
    /// A word continues the name into an ordinary word (`东方市场`).
    pub breaks_word: bool,
}

impl Ctx {
    /// The left side allows a place.
    pub fn left_ok(&self) -> bool {
        self.left_boundary || self.left_cue
    }
}

/// Computes the context of `text[start..end]` (byte offsets on char boundaries), with the two
/// clause flags: the reference for [`Cues::context`].
#[cfg(test)]
pub fn context(text: &str, start: usize, end: usize) -> (Ctx, bool, bool) {
    let before = text.get(..start).unwrap_or("");
    let after = text.get(end..).unwrap_or("");
    let prev = before.chars().next_back();
    let next = after.chars().next();
    let left_boundary = prev.is_none_or(|c| !is_han(c));
    let left_cue = LEFT_CUES.iter().any(|c| before.ends_with(c));
    let right_boundary = next.is_none_or(|c| !is_han(c));
    let right_cue = RIGHT_CUES.iter().any(|c| after.starts_with(c));
    let right_suffix = matches!(next, Some('市' | '区' | '县' | '镇' | '乡' | '旗'))
        && !after.starts_with("市场")
        && !after.starts_with("区域")
        && !after.starts_with("县城");
    let name = text.get(start..end).unwrap_or("");
    let breaks_word = (name.ends_with('市') && next == Some('场'))
        || (name.ends_with('区') && matches!(next, Some('域' | '别')));
    // The clause after (up to 24 chars) names an organisation.
    let after_end = after
        .char_indices()
        .take(CLAUSE_AFTER_CHARS)
        .find(|&(_, c)| is_clause_break(c))
        .map(|(i, _)| i)
        .unwrap_or_else(|| {
            after
                .char_indices()
                .nth(CLAUSE_AFTER_CHARS)
                .map(|(i, _)| i)
                .unwrap_or(after.len())
        });
    let clause_after = &after[..after_end];
    let org_follows = ORG_SUFFIXES.iter().any(|s| clause_after.contains(s));
    let mut before_start = before.len();
    for (n, (i, c)) in before.char_indices().rev().enumerate() {
        if n >= CLAUSE_BEFORE_CHARS || is_clause_break(c) {
            break;
        }
        before_start = i;
    }
    let clause_before = &before[before_start..];
    let reporter_clause = REPORTER_CUES.iter().any(|c| clause_before.contains(c));
    let org_precedes = before
        .strip_suffix(['（', '('])
        .is_some_and(|b| ORG_SUFFIXES.iter().any(|s| b.ends_with(s)));
    let ctx = Ctx {
        left_boundary,
        left_cue,
        right_boundary,
        right_cue,
        right_suffix,
        org_precedes,
        breaks_word,
    };
    (ctx, org_follows, reporter_clause)
}

const CUE_LEFT: u8 = 1;
const CUE_RIGHT: u8 = 2;
const CUE_ORG: u8 = 4;
const CUE_REPORTER: u8 = 8;
const CUE_BREAK: u8 = 16;

/// Clause-ending characters, found with the cue words.
const CLAUSE_BREAKS: &[&str] = &[
    "，", "。", "；", "！", "？", "\n", ",", ";", "!", "?", "：", ":", "、",
];

/// Characters of the clause after a name searched for an organisation suffix.
const CLAUSE_AFTER_CHARS: usize = 24;
/// Characters of the clause before a name searched for a reporter phrase.
const CLAUSE_BEFORE_CHARS: usize = 16;

/// Every cue word once, with the kinds of the lists it is in. They are searched with the
/// division names, in the gazetteer's automaton: one walk of a text finds both.
pub(crate) fn cue_words() -> Vec<(&'static str, u8)> {
    let mut words: Vec<(&'static str, u8)> = Vec::new();
    for (list, kind) in [
        (LEFT_CUES, CUE_LEFT),
        (RIGHT_CUES, CUE_RIGHT),
        (ORG_SUFFIXES, CUE_ORG),
        (REPORTER_CUES, CUE_REPORTER),
        (CLAUSE_BREAKS, CUE_BREAK),
    ] {
        for &w in list {
            match words.iter_mut().find(|(x, _)| *x == w) {
                Some((_, kinds)) => *kinds |= kind,
                None => words.push((w, kind)),
            }
        }
    }
    words
}

/// One DFA over all cue words (walked by hand: every overlapping match): the reference for the
/// cue words found with the names.
#[cfg(test)]
static CUE_DFA: Lazy<(aho_corasick::dfa::DFA, Vec<u8>)> = Lazy::new(|| {
    let (words, kinds): (Vec<&str>, Vec<u8>) = cue_words().into_iter().unzip();
    let dfa = aho_corasick::dfa::DFA::builder()
        .match_kind(MatchKind::Standard)
        .start_kind(StartKind::Unanchored)
        .prefilter(false)
        .build(&words)
        .expect("cue words build a DFA");
    (dfa, kinds)
});

/// Every cue word and clause break of one text, by byte position, so that [`Cues::near`]
/// needs no scan of its own.
#[derive(Debug, Default)]
pub struct Cues {
    /// Per byte position, which cue words end or start there ([`AT_LEFT_END`] …): a name asks
    /// about its own two ends, so a table answers without a search.
    at: Vec<u8>,
    /// Organisation suffixes (start, end), sorted by start.
    org: Vec<(u32, u32)>,
    /// Reporter phrases (start, end), sorted by start.
    reporter: Vec<(u32, u32)>,
    /// Clause-break characters (start, end), in text order.
    breaks: Vec<(u32, u32)>,
}

/// A place-position word ends here.
const AT_LEFT_END: u8 = 1;
/// A place cue starts here.
const AT_RIGHT_START: u8 = 2;
/// An organisation suffix ends here.
const AT_ORG_END: u8 = 4;

/// True when `s` has at most `limit` characters (counted only when its length in bytes leaves
/// it open).
fn chars_within(s: &str, limit: usize) -> bool {
    s.len() <= limit || (s.len() <= 4 * limit && s.chars().count() <= limit)
}

impl Cues {
    /// Starts the cues of a text of `len` bytes (buffers reused); [`Cues::record`] then adds
    /// each cue word found, in order of end, and [`Cues::finish`] ends.
    pub(crate) fn begin(&mut self, len: usize) {
        self.at.truncate(len + 1);
        self.org.clear();
        self.reporter.clear();
        self.breaks.clear();
        // Zeroed in one go (a resize from empty writes byte by byte).
        self.at.resize(len + 1, 0);
        self.at.fill(0);
    }

    /// A cue word of kinds `kinds` (of [`cue_words`]) at bytes `s..e`.
    #[inline]
    pub(crate) fn record(&mut self, s: usize, e: usize, kinds: u8) {
        let (Ok(s32), Ok(e32)) = (u32::try_from(s), u32::try_from(e)) else {
            return;
        };
        if kinds & CUE_LEFT != 0 {
            self.mark(e, AT_LEFT_END);
        }
        if kinds & CUE_RIGHT != 0 {
            self.mark(s, AT_RIGHT_START);
        }
        if kinds & CUE_ORG != 0 {
            self.org.push((s32, e32));
            self.mark(e, AT_ORG_END);
        }
        if kinds & CUE_REPORTER != 0 {
            self.reporter.push((s32, e32));
        }
        if kinds & CUE_BREAK != 0 {
            self.breaks.push((s32, e32));
        }
    }

    fn mark(&mut self, pos: usize, what: u8) {
        if let Some(a) = self.at.get_mut(pos) {
            *a |= what;
        }
    }

    /// Ends the cues of a text.
    pub(crate) fn finish(&mut self) {
        // Found in order of end.
        self.org.sort_unstable();
        self.reporter.sort_unstable();
    }

    /// Finds the cue words of `text` with a DFA of their own (the reference for the cue words
    /// found with the names).
    #[cfg(test)]
    pub fn fill(&mut self, text: &str) {
        use aho_corasick::automaton::Automaton;
        use aho_corasick::Anchored;
        self.begin(text.len());
        let (dfa, kinds) = &*CUE_DFA;
        let mut sid = dfa.start_state(Anchored::No).expect("unanchored");
        for (at, &byte) in text.as_bytes().iter().enumerate() {
            sid = dfa.next_state(Anchored::No, sid, byte);
            if !dfa.is_special(sid) || !dfa.is_match(sid) {
                continue;
            }
            for k in 0..dfa.match_len(sid) {
                let p = dfa.match_pattern(sid, k);
                self.record(at + 1 - dfa.pattern_len(p), at + 1, kinds[p.as_usize()]);
            }
        }
        self.finish();
    }

    fn has(&self, pos: usize, what: u8) -> bool {
        self.at.get(pos).is_some_and(|a| a & what != 0)
    }

    /// True when a place-position word ends at `pos`.
    pub fn left_cue_at(&self, pos: usize) -> bool {
        self.has(pos, AT_LEFT_END)
    }

    /// An organisation suffix lies in the clause after byte `end`: up to the next clause break,
    /// at most [`CLAUSE_AFTER_CHARS`] characters. `first_break` is the index in `breaks` of the
    /// first break starting at or after `end`. Of the suffixes before the break, the one that
    /// ends first decides: only the characters up to it are counted.
    fn org_in_clause_after(&self, text: &str, end: usize, first_break: usize) -> bool {
        let next_break = self
            .breaks
            .get(first_break)
            .map_or(text.len(), |&(s, _)| s as usize);
        let from = self.org.partition_point(|&(s, _)| (s as usize) < end);
        let first_end = self.org[from..]
            .iter()
            .take_while(|&&(s, _)| (s as usize) < next_break)
            .map(|&(_, e)| e as usize)
            .filter(|&e| e <= next_break)
            .min();
        first_end.is_some_and(|e| chars_within(&text[end..e], CLAUSE_AFTER_CHARS))
    }

    /// A reporter phrase lies in the clause before byte `start`: back to the last clause break,
    /// at most [`CLAUSE_BEFORE_CHARS`] characters (same shortcut: the phrase that starts last
    /// decides).
    fn reporter_in_clause_before(&self, text: &str, start: usize, first_break: usize) -> bool {
        let after_break = self.breaks[..first_break]
            .last()
            .map_or(0, |&(_, e)| e as usize);
        let from = self
            .reporter
            .partition_point(|&(s, _)| (s as usize) < after_break);
        let last_start = self.reporter[from..]
            .iter()
            .take_while(|&&(s, _)| (s as usize) < start)
            .filter(|&&(_, e)| e as usize <= start)
            .map(|&(s, _)| s as usize)
            .max();
        last_start.is_some_and(|s| chars_within(&text[s..start], CLAUSE_BEFORE_CHARS))
    }

    /// The context of `text[start..end]` with the two clause flags, as [`context`] gives it.
    #[cfg(test)]
    pub fn context(&self, text: &str, start: usize, end: usize) -> (Ctx, bool, bool) {
        (
            self.near(text, start, end),
            self.org_follows(text, start, end),
            self.reporter_clause(text, start),
        )
    }

    /// The context of `text[start..end]` read at its ends; `text` is the text whose cues these
    /// are.
    pub fn near(&self, text: &str, start: usize, end: usize) -> Ctx {
        let before = text.get(..start).unwrap_or("");
        let after = text.get(end..).unwrap_or("");
        let prev = before.chars().next_back();
        let next = after.chars().next();
        let left_boundary = prev.is_none_or(|c| !is_han(c));
        let left_cue = self.left_cue_at(start);
        let right_boundary = next.is_none_or(|c| !is_han(c));
        let right_cue = self.has(end, AT_RIGHT_START);
        let right_suffix = matches!(next, Some('市' | '区' | '县' | '镇' | '乡' | '旗'))
            && !after.starts_with("市场")
            && !after.starts_with("区域")
            && !after.starts_with("县城");
        let name = text.get(start..end).unwrap_or("");
        let breaks_word = (name.ends_with('市') && next == Some('场'))
            || (name.ends_with('区') && matches!(next, Some('域' | '别')));
        let org_precedes = matches!(prev, Some('（' | '('))
            && prev.is_some_and(|p| self.has(start - p.len_utf8(), AT_ORG_END));
        Ctx {
            left_boundary,
            left_cue,
            right_boundary,
            right_cue,
            right_suffix,
            org_precedes,
            breaks_word,
        }
    }

    /// An organisation's name follows `text[start..end]` in its clause.
    pub fn org_follows(&self, text: &str, start: usize, end: usize) -> bool {
        // The breaks inside the name (rare) are stepped over.
        let from = self.breaks.partition_point(|&(s, _)| (s as usize) < start);
        let after_name = from
            + self.breaks[from..]
                .iter()
                .take_while(|&&(s, _)| (s as usize) < end)
                .count();
        self.org_in_clause_after(text, end, after_name)
    }

    /// The clause of a name starting at `start` speaks of the reporter's own place.
    pub fn reporter_clause(&self, text: &str, start: usize) -> bool {
        let from = self.breaks.partition_point(|&(s, _)| (s as usize) < start);
        self.reporter_in_clause_before(text, start, from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(text: &str) {
        let mut cues = Cues::default();
        cues.fill(text);
        let idx: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        for (a, &s) in idx.iter().enumerate() {
            for &e in idx[a + 1..].iter().take(4) {
                let x = format!("{:?}", context(text, s, e));
                let y = format!("{:?}", cues.context(text, s, e));
                assert_eq!(x, y, "{text:?} {s}..{e}");
            }
        }
    }

    #[test]
    fn clause_breaks_are_the_reference_set() {
        let listed: Vec<char> = CLAUSE_BREAKS.iter().flat_map(|w| w.chars()).collect();
        for c in [
            '，', '。', '；', '！', '？', '\n', ',', ';', '!', '?', '：', ':', '、', '的', 'a', ' ',
        ] {
            assert_eq!(listed.contains(&c), is_clause_break(c), "{c:?}");
        }
    }

    /// Every cue word at every character of `text`, found by comparing all words there.
    fn fill_reference(text: &str) -> Cues {
        let mut cues = Cues {
            at: vec![0; text.len() + 1],
            ..Default::default()
        };
        for (i, _) in text.char_indices() {
            let rest = &text[i..];
            let at_word = |w: &&&str| rest.starts_with(**w);
            for w in LEFT_CUES.iter().filter(at_word) {
                cues.at[i + w.len()] |= AT_LEFT_END;
            }
            if RIGHT_CUES.iter().any(|w| rest.starts_with(*w)) {
                cues.at[i] |= AT_RIGHT_START;
            }
            for w in ORG_SUFFIXES.iter().filter(at_word) {
                cues.org.push((i as u32, (i + w.len()) as u32));
                cues.at[i + w.len()] |= AT_ORG_END;
            }
            for w in REPORTER_CUES.iter().filter(at_word) {
                cues.reporter.push((i as u32, (i + w.len()) as u32));
            }
            for w in CLAUSE_BREAKS.iter().filter(at_word) {
                cues.breaks.push((i as u32, (i + w.len()) as u32));
            }
        }
        cues.org.sort_unstable();
        cues.reporter.sort_unstable();
        cues
    }

    #[test]
    fn fill_finds_every_cue_word() {
        let pieces: Vec<&str> = LEFT_CUES
            .iter()
            .chain(RIGHT_CUES)
            .chain(ORG_SUFFIXES)
            .chain(REPORTER_CUES)
            .chain(CLAUSE_BREAKS)
            .copied()
            .chain([
                "铁东区",
                "a",
                " ",
                "é",
                "𠀀",
                "矿业集团",
                "（",
                "家",
                "某某某某某某某",
            ])
            .collect();
        let mut rng = crate::test_rng::TestRng::new(0x9e37_79b9_7f4a_7c15_u64);
        let mut next = |n: usize| rng.below(n);
        let mut cues = Cues::default();
        for round in 0..500 {
            let text: String = (0..next(40)).map(|_| pieces[next(pieces.len())]).collect();
            cues.fill(&text);
            let want = fill_reference(&text);
            assert_eq!(cues.at, want.at, "{round} {text:?}");
            assert_eq!(cues.org, want.org, "{text:?}");
            assert_eq!(cues.reporter, want.reporter, "{text:?}");
            assert_eq!(cues.breaks, want.breaks, "{text:?}");
            if round < 150 {
                same(&text);
            }
        }
    }

    #[test]
    fn cues_found_with_the_names_are_the_cue_words() {
        let g = crate::gazetteer::Gazetteer::get();
        let pieces: Vec<&str> = cue_words()
            .into_iter()
            .map(|(w, _)| w)
            .chain([
                "铁东区",
                "鞍山市",
                "东方",
                "海城",
                "汤岗子",
                "a",
                "“",
                "新华",
                "市场",
            ])
            .collect();
        let mut rng = crate::test_rng::TestRng::new(0x0123_4567_89ab_cdef_u64);
        let mut next = |n: usize| rng.below(n);
        let (mut with_names, mut alone, mut raw) = (Cues::default(), Cues::default(), Vec::new());
        for _ in 0..300 {
            let text: String = (0..next(30)).map(|_| pieces[next(pieces.len())]).collect();
            g.find_all_with_cues(&text, &mut raw, &mut with_names);
            alone.fill(&text);
            assert_eq!(format!("{with_names:?}"), format!("{alone:?}"), "{text:?}");
            let names: Vec<_> = raw.iter().map(|m| (m.start, m.end, m.name)).collect();
            let reference: Vec<_> = g
                .find_all(&text)
                .iter()
                .map(|m| (m.start, m.end, m.name))
                .collect();
            assert_eq!(names, reference, "{text:?}");
        }
    }

    #[test]
    fn cues_agree_with_context() {
        same("我是家住铁东区的，在汤岗子那边有一家培训学校（铁东区）没有实操场地。");
        same("反映星沙的化工厂，来电人系长沙人，住在东方市场附近某考点");
        same("");
        same("a铁东区b(公司)鞍山(学校（铁西");
        // Clauses longer than the windows on both sides.
        same("我是家住在鞍山市铁东区汤岗子街道那边的一个普通工人今天想反映一下铁西区某某某某某某某某某某某某某某某某某培训学校的问题\n住在铁东区");
    }
}
