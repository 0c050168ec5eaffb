//! Duplicate detection (DOMAIN.md §7): the same message twice, repeat reports (重复件), the same
//! matter from several reporters (并案) — and what is *not* a duplicate.
//!
//! A pure library: [`DedupIndex`] holds, in memory, what it needs of the history of reports; for each
//! new report the caller builds a [`DedupProbe`], asks [`DedupIndex::decide`], stores the report
//! accordingly and then calls [`DedupIndex::insert`]. A writer that must stay short prepares the
//! probe first, off its critical path and in parallel ([`DedupIndex::featurizer`],
//! [`Featurizer::prepare`]: the text's shingles, MinHash bands and subject keys depend on the probe
//! alone), then calls [`DedupIndex::decide_prepared`] and [`DedupIndex::insert_prepared`], which do
//! only the work that needs the history. At start-up the index is rebuilt by inserting
//! every stored report in order; officers' merges and splits are told with
//! [`DedupIndex::move_report`], and closing/reopening cases with [`DedupIndex::close_case`] /
//! [`DedupIndex::reopen`].
//!
//! # What is compared
//! - **Subject keys** ([`subject_key`]): the distinctive core of the subject's name — places,
//!   company forms, institution types and generic words removed ("鞍山市铁东区恒安职业技能培训学校"
//!   and "恒安职业技能陪训学校" both give "恒安"). Keys come from the structured subject name when the
//!   caller has one, and from institution names found in the text. Two keys agree when equal, when
//!   one contains the other, or when close by edit distance; a key of one report written in the other
//!   report's text also counts.
//! - **Categories** alleged (overlap or not), **locus** (same county or not), **reporter key**
//!   (canonical phone or e-mail), **days apart**.
//! - **Text**: character-bigram sets, exact Jaccard and an IDF-weighted Jaccard (the weights come
//!   from the history, so that boilerplate such as "市民来电反映…诉求：请相关部门核实" counts little).
//!
//! # Rules
//! - Same message: near-identical text (Jaccard ≥ 0.9) from the same reporter or within a short time,
//!   and not from two different known reporters → [`DedupDecision::SameMessage`].
//! - Within the window (default 90 days) of an earlier report whose case is open, in a compatible
//!   locus: the same subject with overlapping (or unknown) categories; or, when a side names no
//!   subject, texts that say the same thing (weighted Jaccard) → [`DedupDecision::Repeat`] when the
//!   same reporter is among the matching reports of that case, else [`DedupDecision::SameMatter`].
//! - The same subject with a different allegation (no category in common and dissimilar text), the
//!   same subject after the window, or in a closed case → [`DedupDecision::New`] with the earlier cases
//!   as `related` (the subject's history). Different subjects named on both sides are never merged on
//!   wording alone.
//!
//! # Cost
//! Candidates come from blocking (exact subject key, bigrams of subject keys, locus, reporter) and
//! from MinHash LSH over the text's bigrams (module `minhash`); every posting list is capped to the
//! most recent entries and text features of reports older than the window are evicted, so the work
//! per report does not grow with the history. Candidates are always verified with exact Jaccard.
//! What depends on the probe alone (folding, shingles, MinHash, subject keys) is computed by
//! [`Featurizer::prepare`], which callers run in parallel; the rest, on the writer, reads each
//! candidate once: the probe's shingles sit in a bit filter and a small hash table, and a stored
//! set's own weights are looked up only when the weighted Jaccard can still reach what that
//! candidate needs.

mod minhash;
mod names;

use crate::domain::{Category, SubjectKind};
use chrono::{DateTime, Utc};
use minhash::{MinHasher, BANDS};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// The normalized subject key of a name: the distinctive core that duplicate detection compares
/// ("鞍山市恒安职业技能培训学校" → "恒安"). Empty when the name has nothing distinctive
/// ("某培训学校", "一家化工厂").
///
/// ```
/// assert_eq!(intake::dedup::subject_key("海城市瑞鳌金属冶炼有限公司"), "瑞鳌");
/// assert_eq!(intake::dedup::subject_key("恒安职业技能陪训学校"), "恒安");
/// ```
pub fn subject_key(name: &str) -> String {
    names::subject_key(name)
}

/// The subject key of a name given the places known for the report (e.g. from its locus path:
/// `["辽宁省","辽宁","鞍山市","鞍山","铁东区","铁东"]`), which are stripped when they open the name.
pub fn subject_key_in(name: &str, place_names: &[String]) -> String {
    names::key_with_places(name, &sorted_places(place_names)).unwrap_or_default()
}

/// The subject keys of the institution names found in a text (what [`DedupIndex`] compares when
/// the structured subject name is missing).
pub fn subject_keys_in_text(text: &str, place_names: &[String]) -> Vec<String> {
    names::mentions(&names::fold(text), &sorted_places(place_names))
}

/// What the duplicate stage knows of a report about to be stored.
#[derive(Debug, Clone, Default)]
pub struct DedupProbe {
    /// Normalized text (title and body).
    pub text: String,
    /// Subject name, if known.
    pub subject_name: Option<String>,
    /// County-level locus, if known.
    pub locus: Option<String>,
    /// Categories alleged.
    pub categories: Vec<Category>,
    /// Canonical phone or e-mail of the reporter, if any (masked phones are no key: leave `None`).
    pub reporter_key: Option<String>,
    /// Time of arrival.
    pub received_at: DateTime<Utc>,
    /// The subject's kind, if known (shown in reasons; not required).
    pub subject_kind: Option<SubjectKind>,
    /// Names of the places on the locus path, full and short
    /// (`["辽宁省","辽宁","鞍山市","鞍山","铁东区","铁东"]`): stripped when they open a subject name.
    pub place_names: Vec<String>,
}

/// Thresholds and limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupConfig {
    /// Reports further apart than this are never merged (default 90 days).
    pub window_days: u32,
    /// Bigram Jaccard at or above which two texts are the same message (default 0.9).
    pub same_message_jaccard: f32,
    /// Two near-identical texts without a common reporter are the same message only within this many
    /// hours (default 72).
    pub same_message_hours: u32,
    /// Weighted Jaccard for "the texts say the same thing" when neither report names a subject and
    /// the locus is the same (default 0.22).
    pub text_same_locus: f32,
    /// Weighted Jaccard for the same when the locus is unknown on a side, or only one report names a
    /// subject that the other does not mention (default 0.40).
    pub text_alone: f32,
    /// Weighted Jaccard above which a category mismatch does not stop a merge (default 0.70: the
    /// texts are nearly the same, the categories were read differently). Two different subject
    /// names always stop it.
    pub text_override: f32,
    /// At most this many of the most recent entries are read from each posting list (default 48).
    pub posting_cap: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            window_days: 90,
            same_message_jaccard: 0.9,
            same_message_hours: 72,
            text_same_locus: 0.22,
            text_alone: 0.40,
            text_override: 0.70,
            posting_cap: 48,
        }
    }
}

/// One piece of evidence, explainable to an officer ([`Reason::describe`] gives the Chinese text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The subject keys agree.
    SameSubject {
        /// Key of the new report.
        probe_key: String,
        /// Key of the earlier report.
        earlier_key: String,
        /// "相同" (equal), "包含" (one contains the other), "相近" (close by edit distance).
        how: String,
    },
    /// The subject key of one report is written in the other report's text.
    SubjectInText {
        /// The key found.
        key: String,
    },
    /// Categories in common.
    CategoryOverlap {
        /// The shared categories.
        shared: Vec<Category>,
    },
    /// No category in common.
    CategoryDifferent,
    /// Text similarity.
    TextSimilarity {
        /// Exact Jaccard of the character-bigram sets.
        jaccard: f32,
        /// IDF-weighted Jaccard (boilerplate counts little).
        weighted: f32,
    },
    /// The same normalized text.
    SameText,
    /// The same reporter (phone or e-mail).
    SameReporter,
    /// The same county-level locus.
    SameLocus {
        /// Division code.
        locus: String,
    },
    /// Time between the reports.
    DaysApart {
        /// Days (fractional).
        days: f32,
    },
    /// The earlier report's case is closed.
    CaseClosed,
    /// The earlier report lies outside the merge window.
    OutsideWindow {
        /// The window in days.
        window_days: u32,
    },
}

impl Reason {
    /// The reason in Chinese, for the officer.
    pub fn describe(&self) -> String {
        match self {
            Reason::SameSubject {
                probe_key,
                earlier_key,
                how,
            } => {
                format!("被举报对象名称核心一致（本件“{probe_key}”，前件“{earlier_key}”，{how}）")
            }
            Reason::SubjectInText { key } => format!("一件所举报对象“{key}”出现在另一件正文中"),
            Reason::CategoryOverlap { shared } => {
                let labels: Vec<&str> = shared.iter().map(|c| c.label()).collect();
                format!("反映问题类别有交集：{}", labels.join("、"))
            }
            Reason::CategoryDifferent => "反映问题类别无交集".to_string(),
            Reason::TextSimilarity { jaccard, weighted } => {
                format!("正文相似度 Jaccard {jaccard:.2}（加权 {weighted:.2}）")
            }
            Reason::SameText => "正文完全相同".to_string(),
            Reason::SameReporter => "同一举报人（电话或邮箱相同）".to_string(),
            Reason::SameLocus { locus } => format!("属地相同（{locus}）"),
            Reason::DaysApart { days } => format!("相隔 {days:.1} 天"),
            Reason::CaseClosed => "前案已办结".to_string(),
            Reason::OutsideWindow { window_days } => format!("超出 {window_days} 天并案时限"),
        }
    }
}

/// An earlier case about the same subject that the new report is not merged into (closed, outside
/// the window, or about a different allegation): linked through the subject's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelatedCase {
    /// The earlier case.
    pub case_id: i64,
    /// Its most recent report matching the subject.
    pub report_id: i64,
    /// Whether that case is closed.
    pub closed: bool,
    /// The evidence (subject, and why it is not merged).
    pub reasons: Vec<Reason>,
    /// The reasons in Chinese, one sentence.
    pub summary: String,
}

/// What the stage decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum DedupDecision {
    /// No earlier report about this matter: open a new case.
    New {
        /// The subject key of the report (structured name first, else the first name in the text).
        subject_key: Option<String>,
        /// Earlier cases about the same subject (most recent first, at most three).
        related: Vec<RelatedCase>,
    },
    /// The same message under another external id (one e-mail sent to two mailboxes, a
    /// double-clicked form): store nothing new, answer with the first report.
    SameMessage {
        /// The earlier report.
        report_id: i64,
        /// Its case.
        case_id: i64,
        /// Bigram Jaccard of the two texts.
        jaccard: f32,
        /// Evidence.
        reasons: Vec<Reason>,
        /// The reasons in Chinese.
        summary: String,
    },
    /// 重复件: the same reporter about the same matter again — a new report in the open case, whose
    /// repeat count grows.
    Repeat {
        /// The open case.
        case_id: i64,
        /// The earlier report of the same reporter.
        report_id: i64,
        /// Score in 0..1.
        score: f32,
        /// Evidence.
        reasons: Vec<Reason>,
        /// The reasons in Chinese.
        summary: String,
    },
    /// 并案: another reporter about the same matter — the report joins the case (a suggestion an
    /// officer can split).
    SameMatter {
        /// The open case.
        case_id: i64,
        /// The earlier report that matched best.
        report_id: i64,
        /// Score in 0..1.
        score: f32,
        /// Evidence.
        reasons: Vec<Reason>,
        /// The reasons in Chinese.
        summary: String,
    },
}

impl DedupDecision {
    /// The existing case the report belongs to, if any.
    pub fn case_id(&self) -> Option<i64> {
        match self {
            DedupDecision::New { .. } => None,
            DedupDecision::SameMessage { case_id, .. }
            | DedupDecision::Repeat { case_id, .. }
            | DedupDecision::SameMatter { case_id, .. } => Some(*case_id),
        }
    }

    /// The earlier report matched, if any.
    pub fn report_id(&self) -> Option<i64> {
        match self {
            DedupDecision::New { .. } => None,
            DedupDecision::SameMessage { report_id, .. }
            | DedupDecision::Repeat { report_id, .. }
            | DedupDecision::SameMatter { report_id, .. } => Some(*report_id),
        }
    }
}

fn summarize(head: &str, report_id: i64, reasons: &[Reason]) -> String {
    let parts: Vec<String> = reasons.iter().map(Reason::describe).collect();
    format!("{head}（对照报告 #{report_id}）：{}", parts.join("；"))
}

// ---------------------------------------------------------------------------------------------
// Internals.

/// A fast hasher for keys that are already hashes or small integers (and short strings).
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        minhash::mix64(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(23) ^ u64::from_le_bytes(b))
                .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(23) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(23) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Strings to small ids (0 is "none"; ids start at 1).
#[derive(Debug, Default)]
struct Interner {
    ids: FastMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        self.names.push(s.into());
        let id = self.names.len() as u32;
        self.ids.insert(s.into(), id);
        id
    }
    fn name(&self, id: u32) -> &str {
        id.checked_sub(1)
            .and_then(|i| self.names.get(i as usize))
            .map_or("", |s| s)
    }
    fn bytes(&self) -> usize {
        let strings: usize = self.names.iter().map(|s| s.len() * 2).sum();
        strings + self.names.capacity() * 16 + self.ids.capacity() * (16 + 4 + 8)
    }
}

/// An id that matches nothing stored (a probe's value never seen before).
const UNSEEN: u32 = u32::MAX;

#[derive(Debug)]
struct TextFeatures {
    shingles: Box<[u32]>,
    fingerprint: u64,
    bands: Option<[u64; BANDS]>,
}

#[derive(Debug)]
struct Entry {
    report_id: i64,
    case_id: i64,
    at: i64,
    reporter: u32,
    locus: u32,
    cats: u32,
    /// Interned subject keys; the first one is from the structured name when `named`.
    keys: Box<[u32]>,
    text: Option<Box<TextFeatures>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct CaseState {
    closed_at: Option<i64>,
}

/// Features of a probe, computed once for decide and insert.
#[derive(Debug, Clone)]
struct ProbeFeatures {
    shingles: Vec<u32>,
    fingerprint: u64,
    bands: Option<[u64; BANDS]>,
    keys: Vec<String>,
    /// Bigram hashes of each key (empty for one-character keys).
    key_grams: Vec<Vec<u32>>,
    /// The distinct bigram hashes of each key (the unigram of a one-character key): its blocks.
    key_blocks: Vec<Vec<u32>>,
}

/// Computes a probe's features — what the duplicate stage needs of it that does not depend on the
/// history (text shingles, fingerprint, MinHash bands, subject keys). Cheap to clone, `Send + Sync`:
/// a writer's callers prepare probes in parallel, before the writer decides. Every featurizer gives
/// the same features (the hash family is fixed), so a prepared probe suits any [`DedupIndex`].
#[derive(Debug, Clone)]
pub struct Featurizer {
    hasher: Arc<MinHasher>,
}

impl Featurizer {
    fn new() -> Featurizer {
        Featurizer {
            hasher: Arc::new(MinHasher::new()),
        }
    }

    /// The probe with its features, for [`DedupIndex::decide_prepared`] and
    /// [`DedupIndex::insert_prepared`].
    pub fn prepare(&self, probe: DedupProbe) -> PreparedProbe {
        let features = self.features(&probe);
        PreparedProbe { probe, features }
    }

    fn features(&self, probe: &DedupProbe) -> ProbeFeatures {
        let places = sorted_places(&probe.place_names);
        let folded = names::fold_normalized(&probe.text);
        let shingles = minhash::shingles(&folded);
        let compact: String = folded.chars().filter(|c| c.is_alphanumeric()).collect();
        let fingerprint = hash_str(&compact);
        let bands = self.hasher.band_keys(&shingles);
        let mut keys: Vec<String> = Vec::new();
        if let Some(k) = probe
            .subject_name
            .as_deref()
            .and_then(|n| names::key_with_places(n, &places))
        {
            keys.push(k);
        }
        for k in names::mentions(&folded, &places) {
            if !keys.contains(&k) && keys.len() < 6 {
                keys.push(k);
            }
        }
        let key_grams = keys
            .iter()
            .map(|k| {
                if k.chars().count() >= 2 {
                    key_bigrams(k)
                } else {
                    Vec::new()
                }
            })
            .collect();
        let key_blocks = keys
            .iter()
            .map(|k| {
                let mut blocks = key_bigrams(k);
                blocks.sort_unstable();
                blocks.dedup();
                blocks
            })
            .collect();
        ProbeFeatures {
            shingles,
            fingerprint,
            bands,
            keys,
            key_grams,
            key_blocks,
        }
    }
}

/// A probe with its features ([`Featurizer::prepare`]): owned and `Send`, to be handed to the
/// writer.
#[derive(Debug, Clone)]
pub struct PreparedProbe {
    probe: DedupProbe,
    features: ProbeFeatures,
}

impl PreparedProbe {
    /// The probe it was prepared from.
    pub fn probe(&self) -> &DedupProbe {
        &self.probe
    }

    /// Gives the probe back.
    pub fn into_probe(self) -> DedupProbe {
        self.probe
    }
}

const DF_BITS: u32 = 20;
const DF_MASK: u32 = (1 << DF_BITS) - 1;

/// The in-memory index over history.
pub struct DedupIndex {
    config: DedupConfig,
    featurizer: Featurizer,
    entries: Vec<Entry>,
    by_report: FastMap<i64, u32>,
    cases: FastMap<i64, CaseState>,
    fingerprints: FastMap<u64, u32>,
    bands: FastMap<u64, Vec<u32>>,
    by_locus: FastMap<u32, Vec<u32>>,
    by_reporter: FastMap<u32, Vec<u32>>,
    by_key: FastMap<u32, Vec<u32>>,
    by_key_bigram: FastMap<u32, Vec<u32>>,
    reporters: Interner,
    loci: Interner,
    keys: Interner,
    /// Bigram hashes of each interned key (index = key id - 1), for "key written in the text".
    key_grams: Vec<Box<[u32]>>,
    /// Document frequency of bigram hashes, in a fixed table (collisions only blur rare weights).
    df: Vec<u32>,
    docs: u32,
    evict_cursor: usize,
    max_at: i64,
}

impl std::fmt::Debug for DedupIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DedupIndex")
            .field("config", &self.config)
            .field("reports", &self.entries.len())
            .field("cases", &self.cases.len())
            .finish()
    }
}

impl Default for DedupIndex {
    fn default() -> Self {
        DedupIndex::new()
    }
}

fn cat_mask(cats: &[Category]) -> u32 {
    cats.iter()
        .filter_map(|c| Category::ALL.iter().position(|x| x == c))
        .fold(0u32, |m, i| m | (1 << i))
}

fn cats_of(mask: u32) -> Vec<Category> {
    Category::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, c)| *c)
        .collect()
}

fn sorted_places(places: &[String]) -> Vec<String> {
    let mut v: Vec<String> = places
        .iter()
        .map(|p| names::fold(p))
        .filter(|p| !p.is_empty())
        .collect();
    v.sort_by_key(|p| std::cmp::Reverse(p.len()));
    v.dedup();
    v
}

fn push_capped(v: &mut Vec<u32>, x: u32, cap: usize) {
    if v.last() == Some(&x) {
        return;
    }
    v.push(x);
    if v.len() >= cap.max(1) * 2 {
        let cut = v.len() - cap;
        v.drain(..cut);
    }
}

/// The probe's shingles and their weights, for membership tests against stored sets: a filter on
/// the hashes' low bits answers most "no"s, a small hash table (on higher bits) the rest.
struct ProbeShingles<'a> {
    len: usize,
    weights: &'a [f32],
    total: f32,
    filter: [u64; 64],
    /// Open addressing: (shingle, its position in `sorted` + 1; 0 is empty).
    table: Vec<(u32, u32)>,
    mask: usize,
}

impl<'a> ProbeShingles<'a> {
    fn new(sorted: &'a [u32], weights: &'a [f32]) -> ProbeShingles<'a> {
        let mut filter = [0u64; 64];
        let size = (sorted.len() * 2).next_power_of_two().max(16);
        let mut table = vec![(0u32, 0u32); size];
        let mask = size - 1;
        for (pos, &x) in sorted.iter().enumerate() {
            filter[(x as usize >> 6) & 63] |= 1 << (x & 63);
            let mut i = (x >> 12) as usize & mask;
            while table[i].1 != 0 {
                i = (i + 1) & mask;
            }
            table[i] = (x, pos as u32 + 1);
        }
        ProbeShingles {
            len: sorted.len(),
            weights,
            total: weights.iter().sum(),
            filter,
            table,
            mask,
        }
    }

    #[inline]
    fn weight(&self, x: u32) -> Option<f32> {
        if self.filter[(x as usize >> 6) & 63] & (1 << (x & 63)) == 0 {
            return None;
        }
        let mut i = (x >> 12) as usize & self.mask;
        loop {
            match self.table[i] {
                (_, 0) => return None,
                (key, pos) if key == x => return Some(self.weights[pos as usize - 1]),
                _ => i = (i + 1) & self.mask,
            }
        }
    }

    #[inline]
    fn contains(&self, x: u32) -> bool {
        self.weight(x).is_some()
    }

    /// Size of the intersection with a stored set.
    fn shared_with(&self, other: &[u32]) -> usize {
        other.iter().filter(|&&x| self.contains(x)).count()
    }
}

/// A set of entry indexes (open addressing, sized once): a decision's candidates.
struct IdSet {
    slots: Vec<u32>,
    mask: usize,
}

impl IdSet {
    const EMPTY: u32 = u32::MAX;

    /// A set for at most `n` indexes.
    fn with_room(n: usize) -> IdSet {
        let size = (n + n / 2).next_power_of_two().max(16);
        IdSet {
            slots: vec![Self::EMPTY; size],
            mask: size - 1,
        }
    }

    /// Adds an index; false when it was there already.
    fn insert(&mut self, idx: u32) -> bool {
        // Multiplying by an odd number permutes the low bits: runs of indexes do not collide.
        let mut i = idx.wrapping_mul(0x9e37_79b9) as usize & self.mask;
        loop {
            match self.slots[i] {
                s if s == idx => return false,
                Self::EMPTY => {
                    self.slots[i] = idx;
                    return true;
                }
                _ => i = (i + 1) & self.mask,
            }
        }
    }
}

fn recent(v: &[u32], cap: usize) -> &[u32] {
    &v[v.len().saturating_sub(cap)..]
}

fn key_bigrams(key: &str) -> Vec<u32> {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() == 1 {
        return vec![minhash::shingle_hash(chars[0], '\0')];
    }
    chars
        .windows(2)
        .map(|w| minhash::shingle_hash(w[0], w[1]))
        .collect()
}

fn hash_str(s: &str) -> u64 {
    let mut h = FastHasher::default();
    h.write(s.as_bytes());
    h.write_u64(s.len() as u64);
    h.finish()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Subject {
    /// Keys agree (strength, indexes into probe keys / entry keys), or a key is named in the other
    /// text (`in_text`).
    Match {
        strength: f32,
        probe: usize,
        earlier: usize,
        in_text: bool,
    },
    /// Both name subjects, none agree.
    Conflict,
    /// One side names a subject the other neither names nor mentions.
    OneSided,
    /// Neither side names a subject.
    Unknown,
}

/// What was measured of one candidate (reasons are written only for the ones reported).
#[derive(Debug, Clone, Copy)]
struct Feat {
    idx: u32,
    subject: Subject,
    shared: u32,
    cats_known: bool,
    text: Option<(f32, f32)>,
    same_reporter: bool,
    locus_same: bool,
    days: f32,
    open: bool,
    in_window: bool,
}

struct Verdict {
    score: f32,
    feat: Feat,
}

impl DedupIndex {
    /// An empty index with the default configuration.
    pub fn new() -> DedupIndex {
        DedupIndex::with_config(DedupConfig::default())
    }

    /// An empty index with the given configuration.
    pub fn with_config(config: DedupConfig) -> DedupIndex {
        DedupIndex {
            config,
            featurizer: Featurizer::new(),
            entries: Vec::new(),
            by_report: FastMap::default(),
            cases: FastMap::default(),
            fingerprints: FastMap::default(),
            bands: FastMap::default(),
            by_locus: FastMap::default(),
            by_reporter: FastMap::default(),
            by_key: FastMap::default(),
            by_key_bigram: FastMap::default(),
            reporters: Interner::default(),
            loci: Interner::default(),
            keys: Interner::default(),
            key_grams: Vec::new(),
            df: vec![0; 1 << DF_BITS],
            docs: 0,
            evict_cursor: 0,
            max_at: i64::MIN,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DedupConfig {
        &self.config
    }

    /// Number of reports inserted.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no report was inserted.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The featurizer of this index, to prepare probes off the writer's path.
    pub fn featurizer(&self) -> Featurizer {
        self.featurizer.clone()
    }

    fn idf(&self, shingle: u32) -> f32 {
        let df = self.df[(shingle & DF_MASK) as usize] as f32;
        fast_ln(1.0 + self.docs as f32 / (1.0 + df))
    }

    /// Exact and IDF-weighted Jaccard of the probe's shingles against a stored set; `None` when the
    /// weighted Jaccard is surely below `at_least` (then the stored set's weights, the costly part,
    /// are not looked up). Sums run in ascending shingle order, as a merge of the two sets would.
    fn similarity(
        &self,
        probe: &ProbeShingles,
        other: &[u32],
        at_least: f32,
    ) -> Option<(f32, f32)> {
        let (mut shared, mut shared_w) = (0usize, 0f32);
        for &x in other {
            if let Some(w) = probe.weight(x) {
                shared += 1;
                shared_w += w;
            }
        }
        // The weighted union is at least the probe's own weight.
        let probe_total = probe.total;
        if probe_total > 0.0 && shared_w / probe_total < at_least {
            return None;
        }
        let other_w: f32 = other
            .iter()
            .filter(|&&x| !probe.contains(x))
            .map(|&x| self.idf(x))
            .fold(0.0, |sum, w| sum + w);
        let union = probe.len + other.len() - shared;
        let jac = if union == 0 {
            0.0
        } else {
            shared as f32 / union as f32
        };
        let wunion = probe_total + other_w;
        let wjac = if wunion <= 0.0 {
            0.0
        } else {
            shared_w / wunion
        };
        Some((jac, wjac))
    }

    /// The least weighted Jaccard at which a candidate can merge given the rest of its evidence
    /// (the rules of `decide_with`): minus infinity when the rest suffices (a subject match, or the
    /// same reporter with a shared category in the same locus), infinity when nothing can.
    fn text_needed(
        &self,
        subject: Subject,
        locus_same: bool,
        shared: u32,
        cats_known: bool,
        same_reporter: bool,
    ) -> f32 {
        let reporter_and_category = same_reporter && shared != 0;
        match subject {
            Subject::Match { .. } => f32::NEG_INFINITY,
            Subject::Conflict => f32::INFINITY,
            _ if reporter_and_category && locus_same => f32::NEG_INFINITY,
            Subject::OneSided if reporter_and_category => self.config.text_alone.min(0.15),
            Subject::OneSided => self.config.text_alone,
            Subject::Unknown => {
                let mut needed = f32::INFINITY;
                if locus_same && shared != 0 {
                    needed = needed.min(self.config.text_same_locus);
                }
                if !locus_same && (shared != 0 || !cats_known) {
                    needed = needed.min(self.config.text_alone);
                }
                if reporter_and_category {
                    needed = needed.min(0.15);
                }
                needed
            }
        }
    }

    fn is_open(&self, case_id: i64) -> bool {
        self.cases
            .get(&case_id)
            .is_none_or(|c| c.closed_at.is_none())
    }

    /// Decides what a new report is, against the history. Never panics; an empty history gives `New`.
    pub fn decide(&self, probe: &DedupProbe) -> DedupDecision {
        self.decide_with(probe, &self.featurizer.features(probe))
    }

    /// [`DedupIndex::decide`] for a prepared probe: only the work that needs the history.
    pub fn decide_prepared(&self, prepared: &PreparedProbe) -> DedupDecision {
        self.decide_with(&prepared.probe, &prepared.features)
    }

    fn decide_with(&self, probe: &DedupProbe, f: &ProbeFeatures) -> DedupDecision {
        let now = probe.received_at.timestamp();
        let cap = self.config.posting_cap.max(1);
        let reporter = probe
            .reporter_key
            .as_deref()
            .filter(|r| !r.is_empty())
            .map_or(0, |r| self.reporters.get(r).unwrap_or(UNSEEN));
        let locus = probe
            .locus
            .as_deref()
            .filter(|l| !l.is_empty())
            .map_or(0, |l| self.loci.get(l).unwrap_or(UNSEEN));
        let cats = cat_mask(&probe.categories);
        let key_ids: Vec<Option<u32>> = f.keys.iter().map(|k| self.keys.get(k)).collect();

        // Candidates, each once, in the order found: the decision does not depend on the order
        // (every choice below breaks ties by the entry's index), so nothing is sorted.
        let half = cap / 2;
        let mut lists: Vec<&[u32]> = Vec::with_capacity(2 + 8 * f.keys.len());
        if locus != 0 && locus != UNSEEN {
            if let Some(v) = self.by_locus.get(&locus) {
                lists.push(recent(v, cap));
            }
        }
        if reporter != 0 && reporter != UNSEEN {
            if let Some(v) = self.by_reporter.get(&reporter) {
                lists.push(recent(v, half));
            }
        }
        for (blocks, id) in f.key_blocks.iter().zip(&key_ids) {
            if let Some(v) = id.and_then(|id| self.by_key.get(&id)) {
                lists.push(recent(v, cap));
            }
            for b in blocks {
                if let Some(v) = self.by_key_bigram.get(b) {
                    lists.push(recent(v, half));
                }
            }
        }
        let band_lists: Vec<&[u32]> = f
            .bands
            .iter()
            .flatten()
            .filter_map(|b| self.bands.get(b))
            .map(|v| recent(v, half))
            .collect();
        let room = 1 + lists
            .iter()
            .chain(&band_lists)
            .map(|l| l.len())
            .sum::<usize>();
        let mut seen = IdSet::with_room(room);
        let mut cands: Vec<u32> = Vec::with_capacity(room);
        let mut add = |idx: u32| {
            if seen.insert(idx) {
                cands.push(idx);
            }
        };
        if let Some(&i) = self.fingerprints.get(&f.fingerprint) {
            add(i);
        }
        // A report sharing one band with the probe in a crowded bucket (boilerplate) is no
        // candidate; two bands or a rare bucket make one.
        let mut crowded = IdSet::with_room(band_lists.iter().map(|l| l.len()).sum());
        for list in &band_lists {
            if list.len() <= 4 {
                list.iter().for_each(|&i| add(i));
            } else {
                for &i in *list {
                    if !crowded.insert(i) {
                        add(i);
                    }
                }
            }
        }
        for list in &lists {
            list.iter().for_each(|&i| add(i));
        }

        // Probe weights, once.
        let probe_w: Vec<f32> = f.shingles.iter().map(|&s| self.idf(s)).collect();
        let probe_set = ProbeShingles::new(&f.shingles, &probe_w);

        let window = self.config.window_days as i64 * 86_400;
        let mut same_message: Option<(f32, u32, Vec<Reason>)> = None;
        let mut accepted: Vec<Verdict> = Vec::new();
        let mut related: Vec<Feat> = Vec::new();

        let sm_secs = self.config.same_message_hours as i64 * 3600;
        for &idx in &cands {
            let Some(e) = self.entries.get(idx as usize) else {
                continue;
            };
            let dt = (now - e.at).abs();
            let days = dt as f32 / 86_400.0;
            let same_reporter = reporter != 0 && reporter == e.reporter;
            let reporters_differ = reporter != 0 && e.reporter != 0 && reporter != e.reporter;
            let text = e.text.as_deref();

            // Same message: only near-identical sizes can reach the threshold, so most candidates
            // are dismissed without a merge.
            if let Some(t) = text {
                if !reporters_differ && (same_reporter || dt <= sm_secs) {
                    let identical = t.fingerprint == f.fingerprint;
                    let (small, large) = (
                        f.shingles.len().min(t.shingles.len()),
                        f.shingles.len().max(t.shingles.len()),
                    );
                    let jac = if identical {
                        1.0
                    } else if large > 0
                        && small as f32 / large as f32 >= self.config.same_message_jaccard
                    {
                        let shared = probe_set.shared_with(&t.shingles);
                        shared as f32 / (f.shingles.len() + t.shingles.len() - shared).max(1) as f32
                    } else {
                        0.0
                    };
                    if identical || jac >= self.config.same_message_jaccard {
                        let mut reasons = vec![if identical {
                            Reason::SameText
                        } else {
                            Reason::TextSimilarity {
                                jaccard: round2(jac),
                                weighted: round2(jac),
                            }
                        }];
                        if same_reporter {
                            reasons.push(Reason::SameReporter);
                        }
                        reasons.push(Reason::DaysApart {
                            days: (days * 10.0).round() / 10.0,
                        });
                        let better = same_message
                            .as_ref()
                            .is_none_or(|(s, i, _)| jac > *s || (jac == *s && idx < *i));
                        if better {
                            same_message = Some((jac, idx, reasons));
                        }
                        continue;
                    }
                }
            }

            let locus_same = locus != 0 && locus == e.locus;
            let locus_diff = locus != 0 && e.locus != 0 && locus != e.locus;
            if locus_diff {
                continue;
            }
            let in_window = dt <= window;
            let subject = self.compare_subjects(f, &key_ids, e);
            let strong_subject = matches!(subject, Subject::Match { .. });
            let recent_text = in_window && text.is_some();
            if !recent_text && !strong_subject {
                continue;
            }
            // Only now the case's state (a hash-map read).
            let open = self.is_open(e.case_id);
            let mergeable = open && recent_text;
            if !mergeable && !strong_subject {
                continue;
            }
            let shared = cats & e.cats;
            let cats_known = cats != 0 && e.cats != 0;

            // Text similarity, computed only where it decides or explains.
            let needs_text = mergeable && !matches!(subject, Subject::Conflict);
            let (jac, wjac) = match (needs_text, text) {
                (true, Some(t)) => {
                    let at_least =
                        self.text_needed(subject, locus_same, shared, cats_known, same_reporter);
                    if at_least == f32::INFINITY {
                        continue;
                    }
                    // Below what it needs, a candidate without a subject match is dropped.
                    match self.similarity(&probe_set, &t.shingles, at_least) {
                        Some(similarity) => similarity,
                        None => continue,
                    }
                }
                _ => (0.0, 0.0),
            };
            let mut ok = mergeable;
            if ok && cats_known && shared == 0 && wjac < self.config.text_override {
                ok = false;
            }
            if ok {
                ok = match subject {
                    Subject::Match { .. } => true,
                    // Two different names: never merged on wording alone.
                    Subject::Conflict => false,
                    Subject::OneSided => {
                        wjac >= self.config.text_alone
                            || (same_reporter && shared != 0 && (locus_same || wjac >= 0.15))
                    }
                    Subject::Unknown => {
                        (locus_same && shared != 0 && wjac >= self.config.text_same_locus)
                            || (!locus_same
                                && (shared != 0 || !cats_known)
                                && wjac >= self.config.text_alone)
                            || (same_reporter && shared != 0 && (locus_same || wjac >= 0.15))
                    }
                };
            }
            if !ok && !strong_subject {
                continue;
            }

            let feat = Feat {
                idx,
                subject,
                shared,
                cats_known,
                text: needs_text.then_some((jac, wjac)),
                same_reporter,
                locus_same,
                days,
                open,
                in_window,
            };
            if ok {
                let subject_strength = if let Subject::Match { strength, .. } = subject {
                    strength
                } else {
                    0.0
                };
                let cat_score = if shared != 0 {
                    shared.count_ones() as f32 / (cats | e.cats).count_ones() as f32
                } else {
                    0.0
                };
                let score = (0.45 * subject_strength
                    + 0.15 * cat_score
                    + 0.25 * (wjac / 0.6).min(1.0)
                    + if same_reporter { 0.1 } else { 0.0 }
                    + if locus_same { 0.05 } else { 0.0 })
                .min(1.0);
                accepted.push(Verdict {
                    score: round2(score),
                    feat,
                });
            } else {
                related.push(feat);
            }
        }

        if let Some((score, idx, reasons)) = same_message {
            let e = &self.entries[idx as usize];
            let summary = summarize("同一来件重复提交", e.report_id, &reasons);
            return DedupDecision::SameMessage {
                report_id: e.report_id,
                case_id: e.case_id,
                jaccard: round2(score),
                reasons,
                summary,
            };
        }

        if !accepted.is_empty() {
            // Best case: the highest score of its reports; ties go to the most recent report.
            let mut by_case: Vec<(i64, f32, u32)> = Vec::new();
            for v in &accepted {
                let case = self.entries[v.feat.idx as usize].case_id;
                match by_case.iter_mut().find(|(c, _, _)| *c == case) {
                    Some(slot) => {
                        if v.score > slot.1 || (v.score == slot.1 && v.feat.idx > slot.2) {
                            slot.1 = v.score;
                            slot.2 = v.feat.idx;
                        }
                    }
                    None => by_case.push((case, v.score, v.feat.idx)),
                }
            }
            by_case.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)));
            let case_id = by_case[0].0;
            let in_case = |v: &&Verdict| self.entries[v.feat.idx as usize].case_id == case_id;
            let best_of = |it: &mut dyn Iterator<Item = &Verdict>| -> Option<(f32, Feat)> {
                it.max_by(|a, b| {
                    a.score
                        .total_cmp(&b.score)
                        .then(a.feat.idx.cmp(&b.feat.idx))
                })
                .map(|v| (v.score, v.feat))
            };
            let repeat = best_of(
                &mut accepted
                    .iter()
                    .filter(in_case)
                    .filter(|v| v.feat.same_reporter),
            );
            if let Some((score, feat)) = repeat {
                let e = &self.entries[feat.idx as usize];
                let reasons = self.reasons(f, &feat, locus);
                let summary = summarize("同一举报人重复举报（重复件）", e.report_id, &reasons);
                return DedupDecision::Repeat {
                    case_id,
                    report_id: e.report_id,
                    score,
                    reasons,
                    summary,
                };
            }
            if let Some((score, feat)) = best_of(&mut accepted.iter().filter(in_case)) {
                let e = &self.entries[feat.idx as usize];
                let reasons = self.reasons(f, &feat, locus);
                let summary = summarize("多人举报同一事项（并案）", e.report_id, &reasons);
                return DedupDecision::SameMatter {
                    case_id,
                    report_id: e.report_id,
                    score,
                    reasons,
                    summary,
                };
            }
        }

        // New, with the subject's history (most recent first).
        related.sort_by_key(|f| std::cmp::Reverse(f.idx));
        let mut out: Vec<RelatedCase> = Vec::new();
        for feat in related {
            let e = &self.entries[feat.idx as usize];
            if out.len() >= 3 || out.iter().any(|r| r.case_id == e.case_id) {
                continue;
            }
            let mut reasons = self.reasons(f, &feat, locus);
            if !feat.open {
                reasons.push(Reason::CaseClosed);
            } else if !feat.in_window {
                reasons.push(Reason::OutsideWindow {
                    window_days: self.config.window_days,
                });
            }
            let summary = summarize("同一对象的历史案件", e.report_id, &reasons);
            out.push(RelatedCase {
                case_id: e.case_id,
                report_id: e.report_id,
                closed: !feat.open,
                reasons,
                summary,
            });
        }
        DedupDecision::New {
            subject_key: f.keys.first().cloned(),
            related: out,
        }
    }

    /// The evidence of one candidate, for the officer.
    fn reasons(&self, f: &ProbeFeatures, feat: &Feat, locus: u32) -> Vec<Reason> {
        let e = &self.entries[feat.idx as usize];
        let mut reasons: Vec<Reason> = Vec::new();
        if let Subject::Match {
            probe,
            earlier,
            in_text,
            ..
        } = feat.subject
        {
            if in_text {
                let key = if probe < f.keys.len() {
                    f.keys[probe].clone()
                } else {
                    e.keys
                        .get(earlier)
                        .map(|k| self.keys.name(*k).to_string())
                        .unwrap_or_default()
                };
                reasons.push(Reason::SubjectInText { key });
            } else {
                let pk = f.keys.get(probe).cloned().unwrap_or_default();
                let ek = e
                    .keys
                    .get(earlier)
                    .map(|k| self.keys.name(*k).to_string())
                    .unwrap_or_default();
                let how = names::keys_match(&pk, &ek)
                    .map_or("相近", |m| m.1)
                    .to_string();
                reasons.push(Reason::SameSubject {
                    probe_key: pk,
                    earlier_key: ek,
                    how,
                });
            }
        }
        if feat.shared != 0 {
            reasons.push(Reason::CategoryOverlap {
                shared: cats_of(feat.shared),
            });
        } else if feat.cats_known {
            reasons.push(Reason::CategoryDifferent);
        }
        if let Some((jac, wjac)) = feat.text {
            reasons.push(Reason::TextSimilarity {
                jaccard: round2(jac),
                weighted: round2(wjac),
            });
        }
        if feat.same_reporter {
            reasons.push(Reason::SameReporter);
        }
        if feat.locus_same {
            reasons.push(Reason::SameLocus {
                locus: self.loci.name(locus).to_string(),
            });
        }
        reasons.push(Reason::DaysApart {
            days: (feat.days * 10.0).round() / 10.0,
        });
        reasons
    }

    /// Bigram hashes of an interned key (empty for a one-character key).
    fn grams_of_key(&self, key: u32) -> &[u32] {
        key.checked_sub(1)
            .and_then(|i| self.key_grams.get(i as usize))
            .map_or(&[][..], |g| &g[..])
    }

    fn compare_subjects(&self, f: &ProbeFeatures, key_ids: &[Option<u32>], e: &Entry) -> Subject {
        // Same interned key: no string work.
        for (pi, id) in key_ids.iter().enumerate() {
            if let Some(id) = id {
                if let Some(ei) = e.keys.iter().position(|k| k == id) {
                    let strength = if pi == 0 && ei == 0 { 1.0 } else { 0.95 };
                    return Subject::Match {
                        strength,
                        probe: pi,
                        earlier: ei,
                        in_text: false,
                    };
                }
            }
        }
        // No two keys are equal here (equal keys share an id). Two different keys can match only
        // by containment or by edit distance, which need the shorter to have two characters, or
        // three when both are as long: most pairs are told apart by their lengths alone.
        let chars = |grams: &[u32]| if grams.is_empty() { 1 } else { grams.len() + 1 };
        let mut best: Option<(f32, usize, usize)> = None;
        for (pi, pk) in f.keys.iter().enumerate() {
            let probe_chars = chars(&f.key_grams[pi]);
            for (ei, ek) in e.keys.iter().enumerate() {
                let earlier_chars = chars(self.grams_of_key(*ek));
                let shorter = probe_chars.min(earlier_chars);
                if shorter < 2 || (probe_chars == earlier_chars && shorter < 3) {
                    continue;
                }
                let ek = self.keys.name(*ek);
                if let Some((s, _)) = names::keys_match(pk, ek) {
                    // The structured names (first keys) weigh a little more.
                    let s = if pi == 0 && ei == 0 { s } else { s * 0.95 };
                    if best.is_none_or(|b| s > b.0) {
                        best = Some((s, pi, ei));
                    }
                }
            }
        }
        if let Some((strength, probe, earlier)) = best {
            return Subject::Match {
                strength,
                probe,
                earlier,
                in_text: false,
            };
        }
        // A key of one side written in the other side's text.
        let in_set = |grams: &[u32], set: &[u32]| {
            !grams.is_empty() && grams.iter().all(|g| set.binary_search(g).is_ok())
        };
        if let Some(t) = e.text.as_deref() {
            for (pi, grams) in f.key_grams.iter().enumerate() {
                if in_set(grams, &t.shingles) {
                    return Subject::Match {
                        strength: 0.75,
                        probe: pi,
                        earlier: usize::MAX,
                        in_text: true,
                    };
                }
            }
        }
        for (ei, ek) in e.keys.iter().enumerate() {
            if in_set(self.grams_of_key(*ek), &f.shingles) {
                return Subject::Match {
                    strength: 0.75,
                    probe: usize::MAX,
                    earlier: ei,
                    in_text: true,
                };
            }
        }
        match (f.keys.is_empty(), e.keys.is_empty()) {
            (false, false) => Subject::Conflict,
            (true, true) => Subject::Unknown,
            _ => Subject::OneSided,
        }
    }

    /// Adds a stored report to the history (call after storing it; at start-up, for every stored
    /// report in order). Inserting a report id again moves it to the given case.
    pub fn insert(&mut self, report_id: i64, case_id: i64, probe: &DedupProbe) {
        if self.by_report.contains_key(&report_id) {
            self.move_report(report_id, case_id);
            return;
        }
        let f = self.featurizer.features(probe);
        self.insert_with(report_id, case_id, probe, &f);
    }

    /// [`DedupIndex::insert`] for a prepared probe.
    pub fn insert_prepared(&mut self, report_id: i64, case_id: i64, prepared: &PreparedProbe) {
        if self.by_report.contains_key(&report_id) {
            self.move_report(report_id, case_id);
            return;
        }
        self.insert_with(report_id, case_id, &prepared.probe, &prepared.features);
    }

    fn insert_with(&mut self, report_id: i64, case_id: i64, probe: &DedupProbe, f: &ProbeFeatures) {
        let at = probe.received_at.timestamp();
        let cap = self.config.posting_cap.max(1);
        let idx = self.entries.len() as u32;
        let reporter = probe
            .reporter_key
            .as_deref()
            .filter(|r| !r.is_empty())
            .map_or(0, |r| self.reporters.intern(r));
        let locus = probe
            .locus
            .as_deref()
            .filter(|l| !l.is_empty())
            .map_or(0, |l| self.loci.intern(l));
        let keys: Vec<u32> = f.keys.iter().map(|k| self.keys.intern(k)).collect();
        while self.key_grams.len() < self.keys.names.len() {
            let k = &self.keys.names[self.key_grams.len()];
            let grams = if k.chars().count() >= 2 {
                key_bigrams(k)
            } else {
                Vec::new()
            };
            self.key_grams.push(grams.into_boxed_slice());
        }

        for (blocks, id) in f.key_blocks.iter().zip(&keys) {
            push_capped(self.by_key.entry(*id).or_default(), idx, cap);
            for &b in blocks {
                push_capped(self.by_key_bigram.entry(b).or_default(), idx, cap / 2);
            }
        }
        if locus != 0 {
            push_capped(self.by_locus.entry(locus).or_default(), idx, cap);
        }
        if reporter != 0 {
            push_capped(self.by_reporter.entry(reporter).or_default(), idx, cap / 2);
        }
        if let Some(bands) = &f.bands {
            for b in bands {
                push_capped(self.bands.entry(*b).or_default(), idx, cap / 2);
            }
        }
        self.fingerprints.insert(f.fingerprint, idx);
        for &s in &f.shingles {
            let slot = &mut self.df[(s & DF_MASK) as usize];
            *slot = slot.saturating_add(1);
        }
        self.docs = self.docs.saturating_add(1);
        self.cases.entry(case_id).or_default();
        self.by_report.insert(report_id, idx);
        self.entries.push(Entry {
            report_id,
            case_id,
            at,
            reporter,
            locus,
            cats: cat_mask(&probe.categories),
            keys: keys.into_boxed_slice(),
            text: Some(Box::new(TextFeatures {
                shingles: f.shingles.clone().into_boxed_slice(),
                fingerprint: f.fingerprint,
                bands: f.bands,
            })),
        });
        self.max_at = self.max_at.max(at);
        self.evict();
    }

    /// Drops the text features of reports older than the window (they can no longer merge; their
    /// subject keys stay for the subject's history).
    fn evict(&mut self) {
        let horizon = (self.config.window_days as i64 + 1) * 86_400;
        let cutoff = self.max_at.saturating_sub(horizon);
        while self.evict_cursor < self.entries.len() {
            let idx = self.evict_cursor as u32;
            let e = &mut self.entries[self.evict_cursor];
            if e.at >= cutoff {
                break;
            }
            if let Some(t) = e.text.take() {
                if self.fingerprints.get(&t.fingerprint) == Some(&idx) {
                    self.fingerprints.remove(&t.fingerprint);
                }
                if let Some(bands) = t.bands {
                    for b in bands {
                        if let Some(v) = self.bands.get_mut(&b) {
                            v.retain(|&x| x != idx);
                            if v.is_empty() {
                                self.bands.remove(&b);
                            }
                        }
                    }
                }
            }
            self.evict_cursor += 1;
        }
    }

    /// Marks a case closed (办结) at the given time: later reports are not merged into it, only
    /// related to it.
    pub fn close_case(&mut self, case_id: i64, at: DateTime<Utc>) {
        self.cases.entry(case_id).or_default().closed_at = Some(at.timestamp());
    }

    /// Reopens a closed case.
    pub fn reopen(&mut self, case_id: i64) {
        self.cases.entry(case_id).or_default().closed_at = None;
    }

    /// Moves a report to another case (an officer's merge or split). Returns false when the report is
    /// unknown.
    pub fn move_report(&mut self, report_id: i64, new_case_id: i64) -> bool {
        let Some(&idx) = self.by_report.get(&report_id) else {
            return false;
        };
        if let Some(e) = self.entries.get_mut(idx as usize) {
            e.case_id = new_case_id;
            self.cases.entry(new_case_id).or_default();
            true
        } else {
            false
        }
    }

    /// An estimate of the heap memory the index holds, in bytes.
    pub fn memory_bytes(&self) -> usize {
        fn map_bytes<K, V>(m: &FastMap<K, V>) -> usize {
            m.capacity() * (std::mem::size_of::<K>() + std::mem::size_of::<V>() + 1)
        }
        fn postings<K>(m: &FastMap<K, Vec<u32>>) -> usize {
            map_bytes(m) + m.values().map(|v| v.capacity() * 4).sum::<usize>()
        }
        let entries = self.entries.capacity() * std::mem::size_of::<Entry>()
            + self
                .entries
                .iter()
                .map(|e| {
                    e.keys.len() * 4
                        + e.text.as_ref().map_or(0, |t| {
                            std::mem::size_of::<TextFeatures>() + t.shingles.len() * 4
                        })
                })
                .sum::<usize>();
        entries
            + map_bytes(&self.by_report)
            + map_bytes(&self.cases)
            + map_bytes(&self.fingerprints)
            + postings(&self.bands)
            + postings(&self.by_locus)
            + postings(&self.by_reporter)
            + postings(&self.by_key)
            + postings(&self.by_key_bigram)
            + self.reporters.bytes()
            + self.loci.bytes()
            + self.keys.bytes()
            + self.df.capacity() * 4
    }
}

/// Natural logarithm to about 1 %, for IDF weights (x ≥ 1).
fn fast_ln(x: f32) -> f32 {
    let bits = x.to_bits();
    let exp = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // mantissa in [1, 2)
                                                                // ln(m) on [1, 2) by a quadratic fit.
    let t = m - 1.0;
    let ln_m = t * (0.999_115 - t * (0.489_96 - t * 0.184_585));
    exp as f32 * std::f32::consts::LN_2 + ln_m
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}
