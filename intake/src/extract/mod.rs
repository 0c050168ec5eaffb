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
use aho_corasick::automaton::Automaton;
use aho_corasick::Anchored;
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
#[derive(Debug, Clone, Copy)]
struct Fired {
    rule: usize,
    /// Character span of the match.
    start: u32,
    end: u32,
    /// Byte spans of the matched words, in text order (`n` of them).
    words: [(u32, u32); 8],
    n: u8,
}

impl Fired {
    /// The matched words as shown to officers (`交钱…拿证`); allocated only for kept rules.
    fn matched(&self, text: &str) -> String {
        let words = &self.words[..self.n as usize];
        let len: u32 = words.iter().map(|&(s, e)| e - s + 3).sum();
        let mut out = String::with_capacity(len as usize);
        for (k, &(s, e)) in words.iter().enumerate() {
            if k > 0 {
                out.push('…');
            }
            out.push_str(text.get(s as usize..e as usize).unwrap_or(""));
        }
        out
    }
}

/// A term of a rule found in the text: its slot, character span and byte span.
#[derive(Debug, Clone, Copy)]
struct Hit {
    /// `All` slot index.
    slot: u8,
    cs: u32,
    ce: u32,
    bs: u32,
    be: u32,
}

/// Reusable per-thread buffers: extraction allocates only for its result.
#[derive(Default)]
struct Scratch {
    masks: Vec<u16>,
    also: Vec<u16>,
    dead: Vec<bool>,
    complete: Vec<u32>,
    /// Per rule, the hits of its `all` terms, in the order found.
    groups: Vec<Vec<Hit>>,
    /// Per rule, where its `unless` terms start (characters).
    unless: Vec<Vec<u32>>,
    suffixes: Vec<(usize, usize, bool)>,
    stops: Vec<(usize, usize)>,
    fee_cues: Vec<usize>,
    opens: Vec<usize>,
    closes: Vec<usize>,
    sentence_ends: Vec<u32>,
    neg_before: Vec<u32>,
    neg_after: Vec<u32>,
    breaks: Vec<u32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

static EMBEDDED: Lazy<Extractor> = Lazy::new(|| {
    Extractor::from_toml(EMBEDDED_RULES).expect("embedded rules are checked by the tests")
});

/// Number of characters in a UTF-8 byte slice.
#[inline]
fn count_chars(b: &[u8]) -> u32 {
    b.iter().filter(|&&x| (x as i8) >= -0x40).count() as u32
}

/// Character offset of a byte offset.
fn char_at(text: &str, byte: usize) -> usize {
    count_chars(&text.as_bytes()[..byte.min(text.len())]) as usize
}

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
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.extract_with(envelope, normalized, &mut scratch),
            Err(_) => self.extract_with(envelope, normalized, &mut Scratch::default()),
        })
    }

    fn extract_with(&self, envelope: &Envelope, normalized: &str, sc: &mut Scratch) -> Extraction {
        let c = &self.c;
        let text = normalized;
        let hint = envelope.subject.as_ref();
        let n_rules = c.rules.len();

        // One pass of the automaton. Slot masks per rule are set on the way, and each rule's
        // hits kept for when it turns out complete.
        sc.groups.resize_with(n_rules, Vec::new);
        sc.unless.resize_with(n_rules, Vec::new);
        for g in &mut sc.groups {
            g.clear();
        }
        for u in &mut sc.unless {
            u.clear();
        }
        sc.masks.clear();
        sc.masks.resize(n_rules, 0);
        sc.also.clear();
        sc.also.resize(n_rules, 0);
        sc.dead.clear();
        sc.dead.resize(n_rules, false);
        sc.suffixes.clear();
        sc.stops.clear();
        sc.fee_cues.clear();
        sc.opens.clear();
        sc.closes.clear();
        sc.sentence_ends.clear();
        sc.neg_before.clear();
        sc.neg_after.clear();
        sc.breaks.clear();
        let bytes = text.as_bytes();
        let dfa = &c.ac;
        let Ok(start) = dfa.start_state(Anchored::No) else {
            unreachable!("the DFA is built unanchored")
        };
        let mut sid = start;
        // Characters in `bytes[..=at]`: a byte that is not a UTF-8 continuation byte starts a
        // character (counted on the way: cheaper than counting back at each of the matches).
        let mut chars_before = 0u32;
        for (at, &byte) in bytes.iter().enumerate() {
            chars_before += u32::from((byte as i8) >= -0x40);
            sid = dfa.next_state(Anchored::No, sid, byte);
            if !dfa.is_special(sid) || !dfa.is_match(sid) {
                continue;
            }
            let be = at + 1;
            // A match ends at a character boundary: `chars_before` counts its last character.
            let ce = chars_before;
            for k in 0..dfa.match_len(sid) {
                let p = dfa.match_pattern(sid, k);
                let pid = p.as_usize();
                let bs = be - dfa.pattern_len(p);
                let cs = ce.saturating_sub(c.pattern_chars[pid]);
                self.on_match(sc, pid, bs, be, cs, ce);
            }
        }
        // Complete rules: every slot seen, no `unless_text`. Only their hits are gathered.
        sc.complete.clear();
        for (i, r) in c.rules.iter().enumerate() {
            if !sc.dead[i] && sc.masks[i] == r.full_all && sc.also[i] == r.full_also {
                sc.complete.push(i as u32);
            }
        }
        let fired = if sc.complete.is_empty() {
            Vec::new()
        } else {
            self.fire(sc)
        };

        // 1. Name candidates.
        let candidates = self.name_candidates(text, sc);

        // 2. The fee.
        let fee = self.fee(text, &sc.fee_cues);

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
                    matched: f.matched(text),
                    start: f.start as usize,
                    end: f.end as usize,
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
                start: char_at(text, *s),
                end: char_at(text, *e),
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
                    matched: f.matched(text),
                    start: f.start as usize,
                    end: f.end as usize,
                });
            }
        }
        reasons.sort_by_key(|h| (h.start, h.end));
        if categories.is_empty() {
            categories.push(Category::X);
        }

        // The name: the structured one, else the first candidate of the subject's kind.
        let subject_name = hint_name.or_else(|| {
            let named = || candidates.iter().filter(|n| !n.anonymous);
            let same = named().find(|n| n.kind == Some(kind));
            let unknown = named().find(|n| n.kind.is_none());
            match kind {
                SubjectKind::Other => named().next(),
                _ => same.or(unknown),
            }
            .map(|n| text[n.start..n.end].to_string())
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
    fn name_candidates(&self, text: &str, sc: &mut Scratch) -> Vec<NameCandidate> {
        let c = &self.c;
        let suffixes = &mut sc.suffixes;
        let stops = &mut sc.stops;
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
        name::quoted_candidates(c, text, &sc.opens, &sc.closes, &mut out);
        out.sort_by_key(|n| n.start);
        // Overlapping candidates (a quoted name holding a suffix name): keep the unquoted one.
        let mut merged: Vec<NameCandidate> = Vec::with_capacity(out.len());
        for cand in out {
            match merged.last_mut() {
                Some(prev) if cand.start < prev.end => {
                    // The unquoted text is the name; the quoted reading knows the context (“X学院”这个APP).
                    if text[prev.start..].starts_with('“') && !text[cand.start..].starts_with('“')
                    {
                        let kind = prev.kind.or(cand.kind);
                        *prev = NameCandidate { kind, ..cand };
                    } else if text[cand.start..].starts_with('“') {
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
            if gap == "(" || gap == "（" {
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

    /// Records one term found at bytes `bs..be`, characters `cs..ce`.
    #[inline]
    fn on_match(&self, sc: &mut Scratch, pid: usize, bs: usize, be: usize, cs: u32, ce: u32) {
        let c = &self.c;
        let (from, to) = (c.rule_uses_from[pid], c.rule_uses_from[pid + 1]);
        let hit = |slot| Hit {
            slot,
            cs,
            ce,
            bs: bs as u32,
            be: be as u32,
        };
        for &(rule, role) in &c.rule_uses[from as usize..to as usize] {
            let r = rule as usize;
            match role {
                Role::All(s) => {
                    sc.masks[r] |= 1 << s;
                    sc.groups[r].push(hit(s));
                }
                Role::Also(s) => sc.also[r] |= 1 << s,
                Role::UnlessText => sc.dead[r] = true,
                Role::Unless => sc.unless[r].push(cs),
            }
        }
        for u in &c.uses[pid] {
            match *u {
                TermUse::Rule { .. } => {}
                TermUse::Suffix => sc.suffixes.push((bs, be, false)),
                TermUse::EndOnly => sc.suffixes.push((bs, be, true)),
                TermUse::Stop => sc.stops.push((bs, be)),
                TermUse::Fee => sc.fee_cues.push(be),
                TermUse::QuoteOpen => sc.opens.push(bs),
                TermUse::QuoteClose => sc.closes.push(bs),
                TermUse::SentenceEnd => sc.sentence_ends.push(cs),
                TermUse::NegBefore => sc.neg_before.push(ce),
                TermUse::NegAfter => sc.neg_after.push(cs),
                TermUse::ClauseBreak => sc.breaks.push(cs),
            }
        }
    }

    /// Evaluates the complete rules over their hits; returns those that fire, in rule order.
    fn fire(&self, sc: &mut Scratch) -> Vec<Fired> {
        let c = &self.c;
        let mut out = Vec::new();
        let ctx = Ctx {
            sentence_ends: &sc.sentence_ends,
            neg_before: &sc.neg_before,
            neg_after: &sc.neg_after,
            breaks: &sc.breaks,
            negation: c.negation,
        };
        for &rule in &sc.complete {
            let rule = rule as usize;
            let group = &mut sc.groups[rule];
            // By start, the longest word first at one start (交钱 before 交). Terms are short,
            // so the end order is nearly the start order: insertion sort is linear in practice.
            let key = |h: &Hit| (h.bs, std::cmp::Reverse(h.be));
            for j in 1..group.len() {
                let mut m = j;
                while m > 0 && key(&group[m - 1]) > key(&group[m]) {
                    group.swap(m - 1, m);
                    m -= 1;
                }
            }
            let r = &c.rules[rule];
            if let Some(f) = find_match(rule, r, group, &sc.unless[rule], &ctx) {
                out.push(f);
            }
        }
        out
    }

    /// An exorbitant fee: an amount of money at or above the threshold, said as a price: a price
    /// cue (收费 / 交 / 学费 …) at most 2 characters before it, or at most 12 when 元/块 follows it.
    fn fee(&self, text: &str, cues: &[usize]) -> Option<(usize, usize)> {
        let fr = self.c.fee.as_ref()?;
        for &ce in cues {
            if !text.is_char_boundary(ce) {
                continue;
            }
            let Some((gap, start)) = amount_start_after(text, ce) else {
                continue;
            };
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

/// What a match is checked against: sentence boundaries and the negation guard.
struct Ctx<'a> {
    /// Character offsets of sentence-ending punctuation, ascending.
    sentence_ends: &'a [u32],
    /// Character offsets where a negation word ends.
    neg_before: &'a [u32],
    /// Character offsets where a "put right" word starts.
    neg_after: &'a [u32],
    /// Character offsets of clause breaks, ascending.
    breaks: &'a [u32],
    negation: Option<(usize, usize)>,
}

impl Ctx<'_> {
    /// The sentence a character offset lies in.
    fn sentence(&self, ch: u32) -> usize {
        self.sentence_ends.partition_point(|&e| e < ch)
    }

    /// No `unless` term in the sentences of the match.
    fn ok_unless(&self, unless: &[u32], s: u32, e: u32) -> bool {
        if unless.is_empty() {
            return true;
        }
        let (a, b) = (self.sentence(s), self.sentence(e.saturating_sub(1)));
        !unless.iter().any(|&u| {
            let k = self.sentence(u);
            k >= a && k <= b
        })
    }

    /// The match is denied (没有发现…) or said to be put right (…已整改) in its sentence.
    /// `s..e` is the match in characters.
    fn negated(&self, s: u32, e: u32) -> bool {
        let Some((before, after)) = self.negation else {
            return false;
        };
        let denied = self.neg_before.iter().any(|&ne| {
            ne <= s
                && (s - ne) as usize <= before
                && self.sentence(ne) == self.sentence(s)
                && !self.breaks.iter().any(|&b| b >= ne && b < s)
        });
        denied
            || self.neg_after.iter().any(|&ns| {
                // After the conduct, or inside a long match (电焊工无证作业的问题已处理，均已取得操作证).
                ns > s
                    && ns.saturating_sub(e) as usize <= after
                    && self.sentence(ns) == self.sentence(e.saturating_sub(1))
            })
    }
}

/// Finds the first match of a rule's `all` slots; `all` is sorted by start.
fn find_match(
    rule: usize,
    r: &rules::Rule,
    all: &[Hit],
    unless: &[u32],
    ctx: &Ctx,
) -> Option<Fired> {
    let full = r.full_all;
    let window = r.window as u32;
    let negatable = r.negatable && ctx.negation.is_some();
    let mut words = [(0u32, 0u32); 8];
    for (a, h) in all.iter().enumerate() {
        let (slot_a, ca, ea, ba, bea) = (h.slot, h.cs, h.ce, h.bs, h.be);
        if r.ordered && slot_a != 0 {
            continue;
        }
        if ea - ca > window {
            continue;
        }
        words[0] = (ba, bea);
        let mut n = 1usize;
        let mut mask: u16 = 1 << slot_a;
        let mut end = ea;
        let mut need: u8 = 1; // next slot for ordered rules
        let mut prev_end = ea;
        for h in &all[a + 1..] {
            let (slot, s, e, bs, be) = (h.slot, h.cs, h.ce, h.bs, h.be);
            if mask == full {
                break;
            }
            if s - ca > window {
                break;
            }
            if e - ca > window {
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
            if n < 8 {
                words[n] = (bs, be);
                n += 1;
            }
        }
        if mask == full
            && r.has_unless_ok(unless, ca, end, ctx)
            && !(negatable && ctx.negated(ca, end))
        {
            words[..n].sort_unstable();
            return Some(Fired {
                rule,
                start: ca,
                end,
                words,
                n: n as u8,
            });
        }
    }
    None
}

impl rules::Rule {
    fn has_unless_ok(&self, unless: &[u32], s: u32, e: u32, ctx: &Ctx) -> bool {
        !self.has_unless || ctx.ok_unless(unless, s, e)
    }
}

/// The Chinese characters that can begin an amount (一…九, 两, 十), as UTF-8 bytes.
const AMOUNT_DIGITS_UTF8: [[u8; 3]; 11] = [
    [0xe4, 0xb8, 0x80], // 一
    [0xe4, 0xba, 0x8c], // 二
    [0xe4, 0xb8, 0xa4], // 两
    [0xe4, 0xb8, 0x89], // 三
    [0xe5, 0x9b, 0x9b], // 四
    [0xe4, 0xba, 0x94], // 五
    [0xe5, 0x85, 0xad], // 六
    [0xe4, 0xb8, 0x83], // 七
    [0xe5, 0x85, 0xab], // 八
    [0xe4, 0xb9, 0x9d], // 九
    [0xe5, 0x8d, 0x81], // 十
];

/// Characters after a fee cue searched for the start of an amount.
const FEE_CUE_REACH: usize = 13;

/// The first character of the [`FEE_CUE_REACH`] after byte `from` (a character boundary) that can
/// begin an amount — an ASCII digit, 一…九, 两 or 十 — as (characters skipped, byte offset).
/// Read byte-wise: the Chinese digits all lie in U+4000–U+5FFF (UTF-8 leads E4, E5), so only those
/// characters are decoded.
fn amount_start_after(text: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut at = from;
    for gap in 0..FEE_CUE_REACH {
        let &lead = bytes.get(at)?;
        let can_begin = match lead {
            b'0'..=b'9' => true,
            // Compared as UTF-8 bytes: no decoding of the many other characters led by E4, E5.
            0xe4 | 0xe5 => bytes
                .get(at..at + 3)
                .is_some_and(|c| AMOUNT_DIGITS_UTF8.iter().any(|d| d == c)),
            _ => false,
        };
        if can_begin {
            return Some((gap, at));
        }
        at += match lead {
            0..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            _ => 4,
        };
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
    // A Chinese number counts only with its unit (八千, not 一家): checked before it is read.
    if chinese && !had_unit {
        return None;
    }
    let num = &rest[..num_end];
    let base: f64 = if chinese {
        chinese_number(num) as f64
    } else {
        num.parse().ok()?
    };
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
    fn amount_digits_are_the_chinese_digits() {
        let listed: Vec<char> = AMOUNT_DIGITS_UTF8
            .iter()
            .map(|b| std::str::from_utf8(b).unwrap().chars().next().unwrap())
            .collect();
        for c in '\u{4000}'..='\u{5fff}' {
            let digit = chinese_digit(c).is_some() || c == '十';
            assert_eq!(listed.contains(&c), digit, "{c}");
        }
    }

    #[test]
    fn chinese_numbers() {
        assert_eq!(chinese_number("八"), 8);
        assert_eq!(chinese_number("十二"), 12);
        assert_eq!(chinese_number("三十"), 30);
    }
}
