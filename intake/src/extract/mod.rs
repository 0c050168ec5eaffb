//! Extraction: the subject's name, its kind and the categories alleged, read from a report.
//!
//! The rules are data: `intake/rules/categories.toml` (embedded), each rule citing the notice
//! clause it rests on (DOMAIN.md §2–§3). See [`rules`](self) for the pattern language: slots of
//! alternative terms that must co-occur within a window (optionally in order), terms that must
//! occur anywhere (`also`), exceptions in the same sentence (`unless`) or anywhere
//! (`unless_text`), and the subject kinds for which a rule gives which category (`by_kind`).
//!
//! One pass of one Aho-Corasick automaton finds every term of every rule and of the name finder;
//! the rules are then evaluated over the hits. Steps:
//! 1. candidates for the subject's name (suffix scan, quoted names);
//! 2. rules fire on the text, independent of the subject;
//! 3. the subject kind: the structured kind if given, else the kind that the first name and the
//!    conduct alleged vote for (only kinds for which some rule gives a category can win);
//! 4. the categories the fired rules give for that kind; `[X]` when none.

mod name;
mod rules;

pub use rules::RulesError;

use crate::domain::{Category, SubjectKind};
use crate::envelope::Envelope;
use name::NameCandidate;
use once_cell::sync::Lazy;
use rules::{Compiled, Role, TermUse};
use serde::{Deserialize, Serialize};

/// The rules shipped with tipline.
pub const EMBEDDED_RULES: &str = include_str!("../../rules/categories.toml");

/// One rule that fired, with the words that made it fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHit {
    /// The rule's id in the rules file.
    pub rule: String,
    /// The category it points to, if any.
    pub category: Option<Category>,
    /// The subject kind it points to, if any.
    pub kind: Option<SubjectKind>,
    /// The notice clause the rule rests on (e.g. `274号 二(一)`).
    pub clause: String,
    /// The matched words, as in the normalized text.
    pub matched: String,
    /// Character offsets of the match in the normalized text.
    pub start: usize,
    /// End offset (exclusive), in characters.
    pub end: usize,
}

/// What extraction found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extraction {
    /// The subject's name, from the structured subject or found in the text.
    pub subject_name: Option<String>,
    /// The subject's kind.
    pub subject_kind: SubjectKind,
    /// Categories alleged, sorted and de-duplicated; `[X]` when nothing of the field is alleged.
    pub categories: Vec<Category>,
    /// The report speaks of a fake certificate (P2 with public-security referral, DOMAIN.md §5).
    pub fake_certificate: bool,
    /// The rules that fired.
    pub reasons: Vec<RuleHit>,
}

/// The compiled extraction rules.
#[derive(Debug)]
pub struct Extractor {
    c: Compiled,
}

/// A rule that fired on the text (before the subject kind is known).
#[derive(Debug, Clone)]
struct Fired {
    rule: usize,
    /// Byte span of the match.
    start: usize,
    end: usize,
    matched: String,
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    role: Role,
    start: usize,
    end: usize,
}

static EMBEDDED: Lazy<Extractor> = Lazy::new(|| {
    Extractor::from_toml(EMBEDDED_RULES).expect("embedded rules are checked by the tests")
});

const SENTENCE_ENDS: &[char] = &['。', '！', '？', '!', '?', '；', ';', '\n'];

impl Extractor {
    /// The rules shipped with tipline (`intake/rules/categories.toml`).
    pub fn embedded() -> &'static Extractor {
        &EMBEDDED
    }

    /// Compiles a rules file (same format as the embedded one).
    pub fn from_toml(src: &str) -> Result<Extractor, RulesError> {
        Ok(Extractor {
            c: rules::compile(src)?,
        })
    }

    /// Number of rules (for the UI and tests).
    pub fn rule_count(&self) -> usize {
        self.c.rules.len()
    }

    /// The Chinese label of a rule (what the rule looks for), by id.
    pub fn rule_label(&self, id: &str) -> Option<&str> {
        if let Some(f) = self.c.fee.as_ref().filter(|f| f.id == id) {
            let _ = f;
            return Some("收取高价培训费用");
        }
        self.c
            .rules
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.label.as_str())
    }

    /// Reads a report; `normalized` is [`crate::normalize_text`] of the envelope's full text.
    pub fn extract(&self, envelope: &Envelope, normalized: &str) -> Extraction {
        let c = &self.c;
        let text = normalized;
        let hint = envelope.subject.as_ref();

        // One pass of the automaton; rule hits are bucketed by rule (counting sort).
        let mut raw: Vec<(u32, u32, u32)> = Vec::with_capacity(128);
        let mut per_rule = vec![0u32; c.rules.len() + 1];
        let mut suffixes: Vec<(usize, usize, bool)> = Vec::new();
        let mut stops: Vec<(usize, usize)> = Vec::new();
        let mut fee_cues: Vec<usize> = Vec::new();
        for m in c.ac.find_overlapping_iter(text) {
            let pid = m.pattern().as_usize();
            for u in &c.uses[pid] {
                match *u {
                    TermUse::Rule { rule, .. } => per_rule[rule as usize + 1] += 1,
                    TermUse::Suffix => suffixes.push((m.start(), m.end(), false)),
                    TermUse::EndOnly => suffixes.push((m.start(), m.end(), true)),
                    TermUse::Stop => stops.push((m.start(), m.end())),
                    TermUse::Fee => fee_cues.push(m.end()),
                }
            }
            if c.has_rule_use[pid] {
                raw.push((pid as u32, m.start() as u32, m.end() as u32));
            }
        }
        for i in 1..per_rule.len() {
            per_rule[i] += per_rule[i - 1];
        }
        let total = per_rule[c.rules.len()] as usize;
        let mut hits: Vec<Hit> = vec![
            Hit {
                role: Role::Unless,
                start: 0,
                end: 0
            };
            total
        ];
        {
            let mut fill = per_rule.clone();
            for &(pid, s, e) in &raw {
                for u in &c.uses[pid as usize] {
                    if let TermUse::Rule { rule, role } = *u {
                        let slot = &mut fill[rule as usize];
                        hits[*slot as usize] = Hit {
                            role,
                            start: s as usize,
                            end: e as usize,
                        };
                        *slot += 1;
                    }
                }
            }
        }
        let chars = CharIndex::new(text);

        // 1. Name candidates.
        let candidates = self.name_candidates(text, &mut suffixes, &mut stops);

        // 2. Rules.
        let fired = self.fire(text, &chars, &mut hits, &per_rule);
        let fee = self.fee(text, &fee_cues);

        // 3. Subject kind.
        let hint_name = hint
            .and_then(|s| s.name.clone())
            .filter(|n| !n.trim().is_empty());
        let hint_name_kind = hint_name
            .as_deref()
            .and_then(|n| name::kind_of_name(c, &crate::normalize_text(n)));
        let first_kind = hint_name_kind.or_else(|| candidates.iter().find_map(|n| n.kind));
        let kind = match hint.and_then(|s| s.kind) {
            Some(k) => k,
            None => self.resolve_kind(&fired, fee.as_ref(), first_kind),
        };

        // 4. Categories for that kind.
        let mut categories: Vec<Category> = Vec::new();
        let mut kept: Vec<(usize, Category)> = Vec::new();
        for (i, f) in fired.iter().enumerate() {
            if let Some(cat) = c.rules[f.rule].category_for(kind) {
                kept.push((i, cat));
                categories.push(cat);
            }
        }
        let fee_cat = fee
            .as_ref()
            .filter(|_| c.fee.as_ref().is_some_and(|fr| fr.kinds.contains(&kind)));
        if let (Some(_), Some(fr)) = (fee_cat, c.fee.as_ref()) {
            categories.push(fr.category);
        }
        let present = categories.clone();
        kept.retain(|(i, cat)| {
            let r = &c.rules[fired[*i].rule];
            let suppressed = r
                .unless_categories
                .iter()
                .any(|u| u != cat && present.contains(u));
            !suppressed
        });
        categories = kept.iter().map(|(_, cat)| *cat).collect();
        if let (Some(_), Some(fr)) = (fee_cat, c.fee.as_ref()) {
            categories.push(fr.category);
        }
        categories.sort();
        categories.dedup();
        let fake_certificate = categories.contains(&Category::P2)
            && kept
                .iter()
                .any(|(i, cat)| *cat == Category::P2 && c.rules[fired[*i].rule].fake_certificate);

        let mut reasons: Vec<RuleHit> = kept
            .iter()
            .map(|(i, cat)| {
                let f = &fired[*i];
                let r = &c.rules[f.rule];
                RuleHit {
                    rule: r.id.clone(),
                    category: Some(*cat),
                    kind: None,
                    clause: r.clause.clone(),
                    matched: f.matched.clone(),
                    start: chars.at(f.start),
                    end: chars.at(f.end),
                }
            })
            .collect();
        if let (Some((s, e)), Some(fr)) = (fee_cat, c.fee.as_ref()) {
            reasons.push(RuleHit {
                rule: fr.id.clone(),
                category: Some(fr.category),
                kind: None,
                clause: fr.clause.clone(),
                matched: text[*s..*e].to_string(),
                start: chars.at(*s),
                end: chars.at(*e),
            });
        }
        for f in &fired {
            let r = &c.rules[f.rule];
            if r.kind == Some(kind) && r.categories.is_empty() {
                reasons.push(RuleHit {
                    rule: r.id.clone(),
                    category: None,
                    kind: Some(kind),
                    clause: r.clause.clone(),
                    matched: f.matched.clone(),
                    start: chars.at(f.start),
                    end: chars.at(f.end),
                });
            }
        }
        reasons.sort_by_key(|h| (h.start, h.end));
        if categories.is_empty() {
            categories.push(Category::X);
        }

        // The name: the structured one, else the first candidate of the subject's kind.
        let subject_name = hint_name.or_else(|| {
            let same = candidates.iter().find(|n| n.kind == Some(kind));
            let unknown = candidates.iter().find(|n| n.kind.is_none());
            match kind {
                SubjectKind::Other => candidates.first(),
                _ => same.or(unknown),
            }
            .map(|n| n.name.clone())
        });

        Extraction {
            subject_name,
            subject_kind: kind,
            categories,
            fake_certificate,
            reasons,
        }
    }

    /// Name candidates in text order.
    fn name_candidates(
        &self,
        text: &str,
        suffixes: &mut [(usize, usize, bool)],
        stops: &mut [(usize, usize)],
    ) -> Vec<NameCandidate> {
        let c = &self.c;
        stops.sort_unstable();
        // Longest suffix at each end position; leftmost-longest over the overlapping matches.
        suffixes.sort_unstable_by_key(|&(s, e, _)| (e, s));
        let mut out: Vec<NameCandidate> = Vec::new();
        let mut last_end = 0;
        let mut i = 0;
        while i < suffixes.len() {
            // Among suffixes ending at the same place keep the longest (smallest start).
            let (s, e, end_only) = suffixes[i];
            let mut j = i + 1;
            while j < suffixes.len() && suffixes[j].1 == e {
                j += 1;
            }
            i = j;
            if s < last_end {
                continue;
            }
            // A longer suffix continuing right after this one (公司 → 公司…) is handled by the later
            // match; here we only skip when the name continues (选矿|厂: 矿 is not the end).
            let next = text[e..].chars().next();
            if end_only
                && next.is_some_and(|ch| {
                    ('\u{4e00}'..='\u{9fff}').contains(&ch) && !"的在里是有，".contains(ch)
                })
            {
                continue;
            }
            if let Some(cand) = name::suffix_candidate(c, text, s, e, stops) {
                last_end = e;
                out.push(cand);
            }
        }
        name::quoted_candidates(c, text, &mut out);
        out.sort_by_key(|n| n.start);
        // Overlapping candidates (a quoted name holding a suffix name): keep the unquoted one.
        let mut merged: Vec<NameCandidate> = Vec::with_capacity(out.len());
        for cand in out {
            match merged.last_mut() {
                Some(prev) if cand.start < prev.end => {
                    // The unquoted text is the name; the quoted reading knows the context (“X学院”这个APP).
                    if prev.name.starts_with('“') && !cand.name.starts_with('“') {
                        let kind = prev.kind.or(cand.kind);
                        *prev = NameCandidate { kind, ..cand };
                    } else if cand.name.starts_with('“') {
                        prev.kind = cand.kind.or(prev.kind);
                    }
                }
                _ => merged.push(cand),
            }
        }
        let mut out = merged;
        // A generic-looking mention followed by the formal name in brackets gives way to it.
        let mut keep = vec![true; out.len()];
        for k in 0..out.len().saturating_sub(1) {
            let gap = &text[out[k].end..out[k + 1].start];
            if gap == "(" || gap == "(" || gap == "（" {
                keep[k] = false;
            }
        }
        let mut k = 0;
        out.retain(|_| {
            k += 1;
            keep[k - 1]
        });
        out
    }

    /// Evaluates every rule over the hits; returns those that fire, in rule order.
    fn fire(&self, text: &str, chars: &CharIndex, hits: &mut [Hit], bounds: &[u32]) -> Vec<Fired> {
        let c = &self.c;
        let mut out = Vec::new();
        let mut sentences: Option<Sentences> = None;
        let mut all: Vec<(u8, usize, usize)> = Vec::new();
        let mut unless: Vec<usize> = Vec::new();
        for (rule, r) in c.rules.iter().enumerate() {
            let (i, j) = (bounds[rule] as usize, bounds[rule + 1] as usize);
            if i == j {
                continue;
            }
            let group = &mut hits[i..j];
            let (mut also, mut slots) = (0u16, 0u16);
            let mut dead = false;
            for h in group.iter() {
                match h.role {
                    Role::All(s) => slots |= 1 << s,
                    Role::Also(s) => also |= 1 << s,
                    Role::UnlessText => dead = true,
                    Role::Unless => {}
                }
            }
            if dead || also.count_ones() != r.n_also as u32 || slots.count_ones() != r.n_all as u32
            {
                continue;
            }
            // At one start, the longest word first (交钱 before 交).
            group.sort_unstable_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
            all.clear();
            unless.clear();
            for h in group.iter() {
                match h.role {
                    Role::All(s) => all.push((s, h.start, h.end)),
                    Role::Unless => unless.push(h.start),
                    _ => {}
                }
            }
            let sentences = sentences.get_or_insert_with(|| Sentences::new(text));
            if let Some((s, e, words)) = find_match(r, &all, chars, &unless, sentences, text) {
                out.push(Fired {
                    rule,
                    start: s,
                    end: e,
                    matched: words,
                });
            }
        }
        out
    }

    /// An exorbitant fee: an amount of money at or above the threshold, said as a price: a price
    /// cue (收费 / 交 / 学费 …) at most 2 characters before it, or at most 12 when 元/块 follows it.
    fn fee(&self, text: &str, cues: &[usize]) -> Option<(usize, usize)> {
        let fr = self.c.fee.as_ref()?;
        for &ce in cues {
            let Some(rest) = text.get(ce..) else { continue };
            for (gap, (off, ch)) in rest.char_indices().take(13).enumerate() {
                if !(ch.is_ascii_digit() || chinese_digit(ch).is_some() || ch == '十') {
                    continue;
                }
                let start = ce + off;
                if let Some((value, end, yuan_word)) = parse_amount(text, start) {
                    let near = gap <= 2
                        && text[ce..start]
                            .chars()
                            .all(|g| "了的为是约近:：“”\" ".contains(g));
                    if value >= fr.min_yuan as f64
                        && value <= 1_000_000.0
                        && (near || (yuan_word && gap <= 12))
                    {
                        return Some((start, end));
                    }
                }
                break;
            }
        }
        None
    }

    /// The subject kind from votes: the name's kind and the rules that fired.
    fn resolve_kind(
        &self,
        fired: &[Fired],
        fee: Option<&(usize, usize)>,
        name_kind: Option<SubjectKind>,
    ) -> SubjectKind {
        let c = &self.c;
        let kinds = SubjectKind::ALL;
        let mut score = [0u32; 6];
        let mut eligible = [false; 6];
        let idx = |k: SubjectKind| kinds.iter().position(|x| *x == k).unwrap_or(5);
        for f in fired {
            let r = &c.rules[f.rule];
            if let Some(k) = r.kind {
                score[idx(k)] += r.weight;
            }
            for (k, _) in &r.categories {
                eligible[idx(*k)] = true;
                if r.kind.is_none() {
                    score[idx(*k)] += r.weight;
                }
            }
        }
        if let (Some(_), Some(fr)) = (fee, c.fee.as_ref()) {
            for k in &fr.kinds {
                eligible[idx(*k)] = true;
                score[idx(*k)] += 1;
            }
        }
        if let Some(k) = name_kind {
            score[idx(k)] += c.name_weight;
        }
        if !eligible.iter().any(|e| *e) {
            // Nothing of the field alleged: the subject keeps its kind only if it is one of the
            // field's institutions (a training school in a refund dispute stays a training
            // institution; a factory in a wage dispute is just "other").
            // (Training words — 报名, 学员 — are shared with driving schools and the like: only the
            // specific exam and online words count here.)
            let institution = |k: SubjectKind| {
                matches!(
                    k,
                    SubjectKind::ExamInstitution | SubjectKind::OnlinePlatform
                )
            };
            if let Some(k) = name_kind {
                return if k == SubjectKind::ProductionUnit {
                    SubjectKind::Other
                } else {
                    k
                };
            }
            // No name: the context votes of the institutions, when one clearly leads.
            let mut best = (0u32, SubjectKind::Other);
            let mut tie = false;
            for (i, k) in kinds.iter().enumerate() {
                if !institution(*k) || score[i] == 0 {
                    continue;
                }
                if score[i] > best.0 {
                    best = (score[i], *k);
                    tie = false;
                } else if score[i] == best.0 {
                    tie = true;
                }
            }
            return if tie { SubjectKind::Other } else { best.1 };
        }
        let mut best: Option<(u32, bool, usize)> = None;
        for (i, k) in kinds.iter().enumerate() {
            if !eligible[i] {
                continue;
            }
            let key = (score[i], Some(*k) == name_kind, usize::MAX - i);
            if best.is_none_or(|b| key > b) {
                best = Some(key);
            }
        }
        best.map(|(_, _, inv)| kinds[usize::MAX - inv])
            .unwrap_or(SubjectKind::Other)
    }
}

/// Byte offset → character offset, O(1).
struct CharIndex {
    /// For every byte offset (and the end), the index of the character it starts or lies in;
    /// absent when the text is ASCII.
    table: Option<Vec<u32>>,
}

impl CharIndex {
    fn new(text: &str) -> CharIndex {
        if text.is_ascii() {
            return CharIndex { table: None };
        }
        let mut table = Vec::with_capacity(text.len() + 1);
        for (n, ch) in text.chars().enumerate() {
            for _ in 0..ch.len_utf8() {
                table.push(n as u32);
            }
        }
        table.push(text.chars().count() as u32);
        CharIndex { table: Some(table) }
    }
    fn at(&self, byte: usize) -> usize {
        match &self.table {
            None => byte,
            Some(v) => v.get(byte).or(v.last()).copied().unwrap_or(0) as usize,
        }
    }
}

/// Sentence boundaries (byte offsets of sentence-ending punctuation).
struct Sentences {
    ends: Vec<usize>,
}

impl Sentences {
    fn new(text: &str) -> Sentences {
        Sentences {
            ends: text
                .char_indices()
                .filter(|(_, ch)| SENTENCE_ENDS.contains(ch))
                .map(|(i, _)| i)
                .collect(),
        }
    }
    fn of(&self, byte: usize) -> usize {
        self.ends.partition_point(|&e| e < byte)
    }
}

/// Finds the first match of a rule's `all` slots; `all` is sorted by start.
fn find_match(
    r: &rules::Rule,
    all: &[(u8, usize, usize)],
    chars: &CharIndex,
    unless: &[usize],
    sentences: &Sentences,
    text: &str,
) -> Option<(usize, usize, String)> {
    let n = r.n_all as usize;
    let full: u16 = if n >= 16 { u16::MAX } else { (1u16 << n) - 1 };
    let ok_unless = |s: usize, e: usize| {
        if unless.is_empty() {
            return true;
        }
        let (a, b) = (sentences.of(s), sentences.of(e.saturating_sub(1)));
        !unless.iter().any(|&u| {
            let k = sentences.of(u);
            k >= a && k <= b
        })
    };
    let words = |picked: &[(usize, usize)]| {
        let mut v: Vec<(usize, usize)> = picked.to_vec();
        v.sort_unstable();
        v.iter()
            .map(|&(s, e)| &text[s..e])
            .collect::<Vec<_>>()
            .join("…")
    };
    let mut picked: Vec<(usize, usize)> = Vec::with_capacity(n);
    for (a, &(slot_a, sa, ea)) in all.iter().enumerate() {
        if r.ordered && slot_a != 0 {
            continue;
        }
        let ca = chars.at(sa);
        if chars.at(ea) - ca > r.window {
            continue;
        }
        picked.clear();
        picked.push((sa, ea));
        let mut mask: u16 = 1 << slot_a;
        let mut end = ea;
        let mut need: u8 = 1; // next slot for ordered rules
        let mut prev_end = ea;
        for &(slot, s, e) in &all[a + 1..] {
            if mask == full {
                break;
            }
            if chars.at(s) - ca > r.window {
                break;
            }
            if chars.at(e) - ca > r.window {
                continue;
            }
            if r.ordered {
                if slot != need || s < prev_end {
                    continue;
                }
                need += 1;
                prev_end = e;
            } else if mask & (1 << slot) != 0 {
                continue;
            }
            mask |= 1 << slot;
            end = end.max(e);
            picked.push((s, e));
        }
        if mask == full && ok_unless(sa, end) {
            return Some((sa, end, words(&picked)));
        }
    }
    None
}

fn chinese_digit(c: char) -> Option<u64> {
    Some(match c {
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// 一..九十九 as a number (for amounts like 八千).
fn chinese_number(s: &str) -> u64 {
    let cs: Vec<char> = s.chars().collect();
    match cs.as_slice() {
        [d] => chinese_digit(*d).unwrap_or(if *d == '十' { 10 } else { 0 }),
        ['十', d] => 10 + chinese_digit(*d).unwrap_or(0),
        [d, '十'] => chinese_digit(*d).unwrap_or(0) * 10,
        _ => 0,
    }
}

/// An amount of money starting at byte `start`: digits (or one or two Chinese numerals), then
/// optionally 万/千, 多, 元/块. Returns (value in yuan, end byte, whether 元/块 follows). Not an
/// amount when a unit of something else follows (年, 月, 人…).
fn parse_amount(text: &str, start: usize) -> Option<(f64, usize, bool)> {
    let rest = text.get(start..)?;
    let mut it = rest.char_indices().peekable();
    let mut num_end = 0;
    let mut chinese = false;
    while let Some(&(i, ch)) = it.peek() {
        let ok = if i == 0 {
            chinese = !ch.is_ascii_digit();
            true
        } else if chinese {
            (chinese_digit(ch).is_some() || ch == '十') && i < 6
        } else {
            ch.is_ascii_digit()
                || (ch == '.' && rest[i + 1..].starts_with(|c: char| c.is_ascii_digit()))
        };
        if !ok {
            break;
        }
        num_end = i + ch.len_utf8();
        it.next();
    }
    let num = &rest[..num_end];
    let base: f64 = if chinese {
        chinese_number(num) as f64
    } else {
        num.parse().ok()?
    };
    let mut pos = num_end;
    let mut unit = 1.0;
    let mut had_unit = false;
    if let Some(ch) = rest[pos..].chars().next() {
        if ch == '万' || ch == '千' {
            unit = if ch == '万' { 10_000.0 } else { 1_000.0 };
            had_unit = true;
            pos += ch.len_utf8();
        }
    }
    if chinese && !had_unit {
        return None;
    }
    if rest[pos..].starts_with('多') {
        pos += '多'.len_utf8();
    }
    let mut yuan = false;
    if let Some(ch) = rest[pos..].chars().next() {
        if ch == '元' || ch == '块' {
            yuan = true;
            pos += ch.len_utf8();
        } else if "年月日号人个名期届次分秒米吨台本岁级".contains(ch) {
            return None;
        }
    }
    Some((base * unit, start + pos, yuan))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rules_compile() {
        let e = Extractor::from_toml(EMBEDDED_RULES).unwrap();
        assert!(e.rule_count() > 20);
    }

    #[test]
    fn chinese_numbers() {
        assert_eq!(chinese_number("八"), 8);
        assert_eq!(chinese_number("十二"), 12);
        assert_eq!(chinese_number("三十"), 30);
    }
}
