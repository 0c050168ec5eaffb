//! The rules file: its serde shape, and compilation into one Aho-Corasick automaton.
//!
//! A rule is a small conjunction over *slots*. A slot is a set of alternative terms written
//! `"交钱|花钱|@pay"` (`@name` expands a concept of the `[concepts]` table). The rule fires when
//! every `all` slot matches within `window` characters (in order when `ordered`), every `also`
//! slot matches anywhere in the report, no `unless` term occurs in the same sentence as the match
//! and no `unless_text` term occurs anywhere. Every term of every rule, of the concepts and of the
//! name finder goes into one automaton, searched once per report.

use crate::domain::{Category, SubjectKind};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// Why a rules file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// The file is not valid TOML or does not have the expected shape.
    #[error("rules file: {0}")]
    Toml(String),
    /// A rule or concept is inconsistent.
    #[error("rule {rule}: {reason}")]
    Invalid {
        /// The rule (or concept) id.
        rule: String,
        /// What is wrong, in words.
        reason: String,
    },
    /// The automaton could not be built.
    #[error("automaton: {0}")]
    Automaton(String),
}

/// The whole rules file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesFile {
    /// Free text: what the file is.
    #[serde(default)]
    #[allow(dead_code)]
    pub description: Option<String>,
    /// Default co-occurrence window, in characters.
    #[serde(default = "default_window")]
    pub default_window: usize,
    /// Weight of the subject name's kind when resolving the subject kind.
    #[serde(default = "default_name_weight")]
    pub name_weight: u32,
    /// Named term lists.
    #[serde(default)]
    pub concepts: BTreeMap<String, Vec<String>>,
    /// The rules.
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
    /// Exorbitant-fee detection (an amount of money above a threshold).
    #[serde(default)]
    pub fee: Option<FeeSpec>,
    /// The subject-name finder.
    pub names: NamesSpec,
    /// The negation guard: conduct denied or already put right does not count.
    #[serde(default)]
    pub negation: Option<NegationSpec>,
}

/// The negation guard as written.
///
/// A rule's match is void when a `before` word ends at most `window` characters before the
/// match (没有发现｜作弊, 不存在｜无证上岗问题) or an `after` word starts at most `after_window`
/// characters after it (监控盲区问题｜已经整改), in the same sentence. Rules opt out with
/// `negatable = false`; rules that only vote for a kind are never negated.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NegationSpec {
    /// Words that deny what follows them.
    #[serde(default)]
    pub before: Vec<String>,
    /// Words that end a denial's reach (besides sentence ends): a `before` word does not act
    /// over them (没有发现作弊，但实操考试… — the practical exam is not denied).
    #[serde(default)]
    pub breaks: Vec<String>,
    /// Characters allowed between a `before` word and the match.
    #[serde(default = "default_neg_window")]
    pub window: usize,
    /// Words that say what precedes them was put right or is not so.
    #[serde(default)]
    pub after: Vec<String>,
    /// Characters allowed between the match and an `after` word.
    #[serde(default = "default_neg_after_window")]
    pub after_window: usize,
}

fn default_neg_window() -> usize {
    6
}
fn default_neg_after_window() -> usize {
    12
}

fn default_window() -> usize {
    20
}
fn default_name_weight() -> u32 {
    3
}

/// One rule as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSpec {
    pub id: String,
    #[serde(default)]
    pub label: Option<String>,
    pub clause: String,
    #[serde(default)]
    pub category: Option<Category>,
    #[serde(default)]
    pub by_kind: BTreeMap<SubjectKind, Category>,
    #[serde(default)]
    pub kinds: Option<Vec<SubjectKind>>,
    #[serde(default)]
    pub kind: Option<SubjectKind>,
    #[serde(default)]
    pub weight: Option<u32>,
    pub all: Vec<String>,
    #[serde(default)]
    pub also: Vec<String>,
    #[serde(default)]
    pub unless: Vec<String>,
    #[serde(default)]
    pub unless_text: Vec<String>,
    #[serde(default)]
    pub unless_categories: Vec<Category>,
    #[serde(default)]
    pub window: Option<usize>,
    #[serde(default)]
    pub ordered: bool,
    #[serde(default)]
    pub fake_certificate: bool,
    /// Whether the negation guard applies (default: yes, for rules that give a category).
    #[serde(default)]
    pub negatable: Option<bool>,
}

/// The fee rule as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeeSpec {
    pub id: String,
    pub clause: String,
    pub category: Category,
    pub kinds: Vec<SubjectKind>,
    pub min_yuan: u64,
    /// Words that, just before an amount, make it a price paid (收费, 交, 学费…).
    pub cues: Vec<String>,
}

/// The name finder as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NamesSpec {
    /// Words that end a name: the subject's name ends with one of them.
    pub suffixes: Vec<String>,
    /// Suffixes that count only at a word end (the next character is not part of a name).
    #[serde(default)]
    pub end_only: Vec<String>,
    /// Words that stop the backward scan: the name starts after the last of them.
    pub stop_words: Vec<String>,
    /// Words that say nothing of who the subject is; a name made of them only is no name.
    pub generic: Vec<String>,
    /// Names of official bodies and platforms: never the subject.
    pub official: Vec<String>,
    /// Words just before a quoted name that introduce it (叫“…”).
    pub quote_intro: Vec<String>,
    /// Kind markers, tried in order on a name (first that occurs wins).
    pub kind_markers: Vec<KindMarker>,
}

/// Words inside (or right after) a name that say its kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KindMarker {
    pub kind: SubjectKind,
    pub words: Vec<String>,
}

/// A slot's role in its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    All(u8),
    Also(u8),
    Unless,
    UnlessText,
}

/// A compiled rule.
#[derive(Debug)]
pub(crate) struct Rule {
    pub id: String,
    pub label: String,
    pub clause: String,
    /// Category per subject kind for which the rule counts.
    pub categories: Vec<(SubjectKind, Category)>,
    /// Kind the rule votes for, without a category.
    pub kind: Option<SubjectKind>,
    pub weight: u32,
    pub window: usize,
    pub ordered: bool,
    pub unless_categories: Vec<Category>,
    pub fake_certificate: bool,
    /// Whether the negation guard applies.
    pub negatable: bool,
    /// Whether some `unless` term exists.
    pub has_unless: bool,
    /// Bit mask of all `all` slots (and of all `also` slots).
    pub full_all: u16,
    pub full_also: u16,
}

impl Rule {
    /// The category this rule gives for a subject of `kind`.
    pub fn category_for(&self, kind: SubjectKind) -> Option<Category> {
        self.categories
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, c)| *c)
    }
}

/// What a term of the automaton means.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TermUse {
    Rule {
        rule: u32,
        role: Role,
    },
    Suffix,
    EndOnly,
    Stop,
    Fee,
    /// Opening quote “ (name finder).
    QuoteOpen,
    /// Closing quote ”.
    QuoteClose,
    /// Sentence-ending punctuation.
    SentenceEnd,
    /// A negation word before a match.
    NegBefore,
    /// A "put right / not so" word after a match.
    NegAfter,
    /// A clause break (comma, 但…): a denial does not reach over it.
    ClauseBreak,
}

/// Everything compiled.
#[derive(Debug)]
pub(crate) struct Compiled {
    /// Every term, one DFA, scanned by hand (overlapping, all matches at each end).
    pub ac: aho_corasick::dfa::DFA,
    /// Per pattern id, its uses other than by rules (name finder, fee, sentence ends …).
    pub uses: Vec<Vec<TermUse>>,
    /// The uses by rules of every pattern, one after the other: pattern `p`'s are
    /// `rule_uses[rule_uses_from[p]..rule_uses_from[p + 1]]` (one flat table: this is read at
    /// every term found).
    pub rule_uses: Vec<(u32, Role)>,
    pub rule_uses_from: Vec<u32>,
    /// Per pattern id, its length in characters.
    pub pattern_chars: Vec<u32>,
    /// Negation guard windows (characters); `None` when the file has no `[negation]`.
    pub negation: Option<(usize, usize)>,
    /// Official bodies (never the subject), as one automaton.
    pub official_ac: AhoCorasick,
    pub rules: Vec<Rule>,
    pub name_weight: u32,
    pub fee: Option<FeeRule>,
    pub generic: AhoCorasick,
    pub quote_intro: Vec<String>,
    pub kind_markers: Vec<(SubjectKind, Vec<String>)>,
    /// All kind markers in one automaton (case-insensitive), and each marker's group index.
    pub markers: AhoCorasick,
    pub marker_group: Vec<usize>,
}

/// The compiled fee rule.
#[derive(Debug)]
pub(crate) struct FeeRule {
    pub id: String,
    pub clause: String,
    pub category: Category,
    pub kinds: Vec<SubjectKind>,
    pub min_yuan: u64,
}

/// The kinds a category belongs to by default (DOMAIN.md §3).
pub(crate) fn family(category: Category) -> &'static [SubjectKind] {
    use Category::*;
    use SubjectKind::*;
    match category {
        T1 | T2 | T3 | T4 | T5 => &[TrainingInstitution],
        T6 => &[TrainingInstitution, OnlinePlatform],
        E1 | E2 | E3 | E4 | E5 | E6 => &[ExamInstitution],
        P1 | P2 | P3 | P4 => &[ProductionUnit],
        F1 | F2 => &[Counterfeiter],
        X => &[Other],
    }
}

struct Builder {
    index: HashMap<String, usize>,
    patterns: Vec<String>,
    uses: Vec<Vec<TermUse>>,
}

impl Builder {
    fn add(&mut self, term: &str, u: TermUse) {
        self.add_raw(crate::normalize_text(term), u);
    }

    /// Adds a term as is (punctuation that normalization would change).
    fn add_raw(&mut self, term: String, u: TermUse) {
        if term.is_empty() {
            return;
        }
        let id = match self.index.get(&term) {
            Some(&id) => id,
            None => {
                self.patterns.push(term.clone());
                self.uses.push(Vec::new());
                self.index.insert(term, self.patterns.len() - 1);
                self.patterns.len() - 1
            }
        };
        self.uses[id].push(u);
    }
}

/// Expands a slot (`a|b|@concept`) into its terms.
fn expand(
    slot: &str,
    concepts: &BTreeMap<String, Vec<String>>,
    owner: &str,
    depth: u32,
) -> Result<Vec<String>, RulesError> {
    if depth > 4 {
        return Err(RulesError::Invalid {
            rule: owner.into(),
            reason: "concepts nest too deep".into(),
        });
    }
    let mut out = Vec::new();
    for alt in slot.split('|') {
        let alt = alt.trim();
        if alt.is_empty() {
            continue;
        }
        if let Some(name) = alt.strip_prefix('@') {
            let terms = concepts.get(name).ok_or_else(|| RulesError::Invalid {
                rule: owner.into(),
                reason: format!("unknown concept @{name}"),
            })?;
            for t in terms {
                out.extend(expand(t, concepts, owner, depth + 1)?);
            }
        } else {
            out.push(alt.to_string());
        }
    }
    if out.is_empty() {
        return Err(RulesError::Invalid {
            rule: owner.into(),
            reason: format!("empty slot {slot:?}"),
        });
    }
    Ok(out)
}

pub(crate) fn compile(src: &str) -> Result<Compiled, RulesError> {
    let file: RulesFile = toml::from_str(src).map_err(|e| RulesError::Toml(e.to_string()))?;
    let mut b = Builder {
        index: HashMap::new(),
        patterns: Vec::new(),
        uses: Vec::new(),
    };
    let mut rules = Vec::with_capacity(file.rules.len());
    let mut seen = HashMap::new();
    for (ri, spec) in file.rules.iter().enumerate() {
        let bad = |reason: &str| RulesError::Invalid {
            rule: spec.id.clone(),
            reason: reason.into(),
        };
        if seen.insert(spec.id.clone(), ()).is_some() {
            return Err(bad("duplicate id"));
        }
        if spec.all.is_empty() {
            return Err(bad("`all` needs at least one slot"));
        }
        if spec.all.len() > 8 || spec.also.len() > 8 {
            return Err(bad("at most 8 slots in `all` and in `also`"));
        }
        let mut categories: Vec<(SubjectKind, Category)> = Vec::new();
        if let Some(c) = spec.category {
            let kinds: Vec<SubjectKind> = match &spec.kinds {
                Some(k) => k.clone(),
                None => family(c).to_vec(),
            };
            categories.extend(kinds.into_iter().map(|k| (k, c)));
        }
        for (k, c) in &spec.by_kind {
            categories.retain(|(kk, _)| kk != k);
            categories.push((*k, *c));
        }
        if categories.is_empty() && spec.kind.is_none() {
            return Err(bad("a rule gives a category (category/by_kind) or a kind"));
        }
        if categories.iter().any(|(_, c)| *c == Category::X) {
            return Err(bad(
                "X is what remains when no rule fires; no rule gives it",
            ));
        }
        let categories_empty = categories.is_empty();
        let ri32 = ri as u32;
        for (si, slot) in spec.all.iter().enumerate() {
            for t in expand(slot, &file.concepts, &spec.id, 0)? {
                b.add(
                    &t,
                    TermUse::Rule {
                        rule: ri32,
                        role: Role::All(si as u8),
                    },
                );
            }
        }
        for (si, slot) in spec.also.iter().enumerate() {
            for t in expand(slot, &file.concepts, &spec.id, 0)? {
                b.add(
                    &t,
                    TermUse::Rule {
                        rule: ri32,
                        role: Role::Also(si as u8),
                    },
                );
            }
        }
        for slot in &spec.unless {
            for t in expand(slot, &file.concepts, &spec.id, 0)? {
                b.add(
                    &t,
                    TermUse::Rule {
                        rule: ri32,
                        role: Role::Unless,
                    },
                );
            }
        }
        for slot in &spec.unless_text {
            for t in expand(slot, &file.concepts, &spec.id, 0)? {
                b.add(
                    &t,
                    TermUse::Rule {
                        rule: ri32,
                        role: Role::UnlessText,
                    },
                );
            }
        }
        rules.push(Rule {
            id: spec.id.clone(),
            label: spec.label.clone().unwrap_or_default(),
            clause: spec.clause.clone(),
            categories,
            kind: spec.kind,
            weight: spec.weight.unwrap_or(1),
            window: spec.window.unwrap_or(file.default_window).max(1),
            ordered: spec.ordered,
            unless_categories: spec.unless_categories.clone(),
            fake_certificate: spec.fake_certificate,
            negatable: spec.negatable.unwrap_or(!categories_empty),
            has_unless: !spec.unless.is_empty(),
            full_all: ((1u32 << spec.all.len()) - 1) as u16,
            full_also: ((1u32 << spec.also.len()) - 1) as u16,
        });
    }
    let names = &file.names;
    for s in &names.suffixes {
        b.add(s, TermUse::Suffix);
    }
    for s in &names.end_only {
        b.add(s, TermUse::EndOnly);
    }
    for s in &names.stop_words {
        b.add(s, TermUse::Stop);
    }
    let fee = match &file.fee {
        None => None,
        Some(f) => {
            for c in &f.cues {
                b.add(c, TermUse::Fee);
            }
            Some(FeeRule {
                id: f.id.clone(),
                clause: f.clause.clone(),
                category: f.category,
                kinds: f.kinds.clone(),
                min_yuan: f.min_yuan,
            })
        }
    };
    for ch in ['。', '！', '？', '!', '?', '；', ';', '\n'] {
        b.add_raw(ch.to_string(), TermUse::SentenceEnd);
    }
    b.add_raw("“".into(), TermUse::QuoteOpen);
    b.add_raw("”".into(), TermUse::QuoteClose);
    let negation = match &file.negation {
        None => None,
        Some(n) => {
            for w in &n.before {
                for t in expand(w, &file.concepts, "negation", 0)? {
                    b.add(&t, TermUse::NegBefore);
                }
            }
            for w in &n.breaks {
                b.add_raw(w.clone(), TermUse::ClauseBreak);
                b.add(w, TermUse::ClauseBreak);
            }
            for w in &n.after {
                for t in expand(w, &file.concepts, "negation", 0)? {
                    b.add(&t, TermUse::NegAfter);
                }
            }
            Some((n.window, n.after_window))
        }
    };
    let pattern_chars = b
        .patterns
        .iter()
        .map(|p| p.chars().count() as u32)
        .collect();
    let mut rule_uses = Vec::new();
    let mut rule_uses_from = Vec::with_capacity(b.uses.len() + 1);
    let mut uses = Vec::with_capacity(b.uses.len());
    for pattern_uses in &b.uses {
        rule_uses_from.push(rule_uses.len() as u32);
        let mut other = Vec::new();
        for u in pattern_uses {
            match *u {
                TermUse::Rule { rule, role } => rule_uses.push((rule, role)),
                _ => other.push(*u),
            }
        }
        uses.push(other);
    }
    rule_uses_from.push(rule_uses.len() as u32);
    let ac = aho_corasick::dfa::DFA::builder()
        .match_kind(MatchKind::Standard)
        .ascii_case_insensitive(true)
        .start_kind(aho_corasick::StartKind::Unanchored)
        .prefilter(false)
        .build(&b.patterns)
        .map_err(|e| RulesError::Automaton(e.to_string()))?;
    let generic_terms: Vec<String> = names
        .generic
        .iter()
        .map(|g| crate::normalize_text(g))
        .filter(|g| !g.is_empty())
        .collect();
    let generic = AhoCorasickBuilder::new()
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .prefilter(false)
        .match_kind(MatchKind::LeftmostLongest)
        .build(&generic_terms)
        .map_err(|e| RulesError::Automaton(e.to_string()))?;
    let kind_markers: Vec<(SubjectKind, Vec<String>)> = names
        .kind_markers
        .iter()
        .map(|m| {
            (
                m.kind,
                m.words
                    .iter()
                    .map(|w| crate::normalize_text(w))
                    .filter(|w| !w.is_empty())
                    .collect(),
            )
        })
        .collect();
    let mut marker_words = Vec::new();
    let mut marker_group = Vec::new();
    for (g, (_, words)) in kind_markers.iter().enumerate() {
        for w in words {
            marker_words.push(w.clone());
            marker_group.push(g);
        }
    }
    let markers = AhoCorasickBuilder::new()
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .prefilter(false)
        .match_kind(MatchKind::Standard)
        .ascii_case_insensitive(true)
        .build(&marker_words)
        .map_err(|e| RulesError::Automaton(e.to_string()))?;
    let official_terms: Vec<String> = names
        .official
        .iter()
        .map(|s| crate::normalize_text(s))
        .filter(|s| !s.is_empty())
        .collect();
    let official_ac = AhoCorasickBuilder::new()
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .prefilter(false)
        .match_kind(MatchKind::LeftmostFirst)
        .build(&official_terms)
        .map_err(|e| RulesError::Automaton(e.to_string()))?;
    Ok(Compiled {
        ac,
        uses,
        rule_uses,
        rule_uses_from,
        pattern_chars,
        negation,
        official_ac,
        rules,
        name_weight: file.name_weight,
        fee,
        generic,
        quote_intro: names
            .quote_intro
            .iter()
            .map(|s| crate::normalize_text(s))
            .collect(),
        kind_markers,
        markers,
        marker_group,
    })
}
