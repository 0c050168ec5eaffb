//! Collectors over the whole matching set: the page of top hits together with the total and the
//! facet counts (one pass), and monthly counts. Values are read from the fast fields by term
//! ordinal (strings are looked up once per segment, not per document) and in blocks where the
//! engine hands out blocks.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, FixedOffset, TimeZone};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Cardinality, Column, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::types::FacetField;

/// Counts the matching documents and, for each facet field ([`FacetField::ALL`] order), each
/// value.
///
/// The facet values of a document are packed into two string columns (`fc_case`: kind,
/// channel, state, referrals; `fc_topic`: categories, county; parts separated by [`PART_SEP`],
/// multiple values by commas), so a matching document costs two ordinal reads. Each distinct
/// packed value is decoded once per segment, at harvest; the prefecture is derived from the
/// county.
pub(crate) struct FacetCollector;

/// Separates the parts of a packed facet value.
pub(crate) const PART_SEP: char = '\u{1f}';

/// The packed facet columns and, for each part, the index in [`FacetField::ALL`] it counts in.
const PACKED: [(&str, &[usize]); 2] = [("fc_case", &[0, 2, 3, 4]), ("fc_topic", &[1, 6])];
/// Index of the county in [`FacetField::ALL`], and of the prefecture derived from it.
const COUNTY: usize = 6;
const PREFECTURE: usize = 5;

/// The packed `fc_case` value of a document.
pub(crate) fn pack_case(kind: &str, channel: &str, state: &str, referrals: &str) -> String {
    pack(&[kind, channel, state, referrals])
}

/// The packed `fc_topic` value of a document.
pub(crate) fn pack_topic(categories: &str, county: &str) -> String {
    pack(&[categories, county])
}

fn pack(parts: &[&str]) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(PART_SEP);
        }
        out.extend(p.chars().filter(|c| *c != PART_SEP));
    }
    out
}

/// The prefecture code of a county code (`210302` → `210300`), "" if it is not one.
pub(crate) fn prefecture_of(county: &str) -> String {
    if county.len() == 6 && county.is_char_boundary(4) {
        format!("{}00", &county[..4])
    } else {
        String::new()
    }
}

/// Total and per-field value counts.
pub(crate) type FacetFruit = (u64, Vec<BTreeMap<String, u64>>);

pub(crate) struct FacetSegment {
    columns: Vec<Option<StrColumn>>,
    counts: Vec<Vec<u64>>,
    total: u64,
    scratch: Vec<Option<u64>>,
    pending: Vec<DocId>,
}

impl Collector for FacetCollector {
    type Fruit = FacetFruit;
    type Child = FacetSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetSegment> {
        let mut columns = Vec::with_capacity(PACKED.len());
        let mut counts = Vec::with_capacity(PACKED.len());
        for (name, _) in PACKED {
            let col = reader.fast_fields().str(name)?;
            counts.push(vec![0u64; col.as_ref().map_or(0, |c| c.num_terms())]);
            columns.push(col);
        }
        Ok(FacetSegment {
            columns,
            counts,
            total: 0,
            scratch: Vec::new(),
            pending: Vec::with_capacity(BLOCK),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetFruit>) -> tantivy::Result<FacetFruit> {
        let mut total = 0;
        let mut maps = vec![BTreeMap::new(); FacetField::ALL.len()];
        for (t, ms) in fruits {
            total += t;
            for (acc, m) in maps.iter_mut().zip(ms) {
                for (k, v) in m {
                    *acc.entry(k).or_insert(0) += v;
                }
            }
        }
        Ok((total, maps))
    }
}

/// Documents buffered before a batched column read (tantivy's own block size).
const BLOCK: usize = 64;

impl FacetSegment {
    fn count_block(&mut self, docs: &[DocId]) {
        self.scratch.resize(docs.len(), None);
        for (col, counts) in self.columns.iter().zip(self.counts.iter_mut()) {
            let Some(col) = col else { continue };
            if col.ords().get_cardinality() == Cardinality::Full {
                col.ords().first_vals(docs, &mut self.scratch);
                for ord in self.scratch.iter().flatten() {
                    if let Some(c) = counts.get_mut(*ord as usize) {
                        *c += 1;
                    }
                }
            } else {
                for &doc in docs {
                    for ord in col.term_ords(doc) {
                        if let Some(c) = counts.get_mut(ord as usize) {
                            *c += 1;
                        }
                    }
                }
            }
        }
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let docs = std::mem::take(&mut self.pending);
            self.count_block(&docs);
            self.pending = docs;
            self.pending.clear();
        }
    }
}

/// Adds `n` to each comma-separated value of a facet column value ("" counts nowhere).
pub(crate) fn add_values(map: &mut BTreeMap<String, u64>, joined: &str, n: u64) {
    for v in joined.split(',').filter(|v| !v.is_empty()) {
        *map.entry(v.to_string()).or_insert(0) += n;
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = FacetFruit;

    fn collect_block(&mut self, docs: &[DocId]) {
        self.total += docs.len() as u64;
        self.flush();
        self.count_block(docs);
    }

    fn collect(&mut self, doc: DocId, _: Score) {
        self.total += 1;
        self.pending.push(doc);
        if self.pending.len() >= BLOCK {
            self.flush();
        }
    }

    fn harvest(mut self) -> FacetFruit {
        self.flush();
        let mut maps = vec![BTreeMap::new(); FacetField::ALL.len()];
        let mut buf = String::new();
        for ((col, counts), (_, targets)) in self.columns.iter().zip(self.counts).zip(PACKED) {
            let Some(col) = col else { continue };
            let found: Vec<(u64, u64)> = counts
                .into_iter()
                .enumerate()
                .filter(|(_, n)| *n > 0)
                .map(|(ord, n)| (ord as u64, n))
                .collect();
            // One sequential walk over the dictionary: each (compressed) block is decoded once,
            // where looking up each ordinal alone would decode a block per value.
            let mut next = found.iter();
            let _ = col.dictionary().sorted_ords_to_term_cb(
                found.iter().map(|(ord, _)| *ord),
                |bytes| {
                    let Some((_, n)) = next.next() else {
                        return Ok(());
                    };
                    buf.clear();
                    buf.push_str(&String::from_utf8_lossy(bytes));
                    for (part, &target) in buf.split(PART_SEP).zip(targets.iter()) {
                        add_values(&mut maps[target], part, *n);
                        if target == COUNTY {
                            add_values(&mut maps[PREFECTURE], &prefecture_of(part), *n);
                        }
                    }
                    Ok(())
                },
            );
        }
        (self.total, maps)
    }
}

/// How [`PageCollector`] ranks the matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rank {
    /// By relevance score (the query must be scored).
    Score,
    /// By reception time, most recent first.
    Newest,
    /// By reception time, least recent first.
    Oldest,
    /// Nothing to rank: only the total and the facets.
    None,
}

/// One pass over the matching set: the top `offset + limit` documents by [`Rank`], the total and
/// the facet counts.
pub(crate) struct PageCollector {
    pub rank: Rank,
    pub offset: usize,
    pub limit: usize,
}

/// Total, facet counts and the page: `(key, address)` best first (the key is the score, or the
/// reception time in seconds).
pub(crate) type PageFruit = (FacetFruit, Vec<(f64, DocAddress)>);

/// The best `k` of a stream of `(key, doc)` by key descending then doc ascending: a buffer of
/// up to `2k` candidates cut back to `k` by selection, with the `k`-th key as the entry bar.
pub(crate) struct TopK {
    k: usize,
    buf: Vec<(f64, DocId)>,
    bar: f64,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            buf: Vec::with_capacity(k.saturating_mul(2).min(4096)),
            bar: f64::NEG_INFINITY,
        }
    }

    /// Documents arrive in increasing id order, so an equal key never beats the bar.
    #[inline]
    fn push(&mut self, key: f64, doc: DocId) {
        if self.k == 0 || (key <= self.bar && self.buf.len() >= self.k) {
            return;
        }
        self.buf.push((key, doc));
        if self.buf.len() >= self.k.saturating_mul(2).max(2) {
            self.cut();
        }
    }

    fn cut(&mut self) {
        if self.buf.len() > self.k {
            self.buf.select_nth_unstable_by(self.k - 1, better);
            self.buf.truncate(self.k);
        }
        if self.buf.len() >= self.k {
            self.bar = self.buf.iter().map(|e| e.0).fold(f64::INFINITY, f64::min);
        }
    }

    fn into_sorted(mut self) -> Vec<(f64, DocId)> {
        self.cut();
        self.buf.sort_by(better);
        self.buf
    }
}

/// Key descending, then document ascending (tantivy's own tie-break).
fn better<D: Ord>(a: &(f64, D), b: &(f64, D)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1))
}

pub(crate) struct PageSegment {
    facets: FacetSegment,
    rank: Rank,
    segment: SegmentOrdinal,
    dates: Option<Column<tantivy::DateTime>>,
    top: TopK,
    date_buf: Vec<Option<tantivy::DateTime>>,
}

impl PageSegment {
    /// The ranking key of a document by time (documents without a time rank last).
    #[inline]
    fn date_key(&self, d: Option<tantivy::DateTime>) -> f64 {
        match d {
            Some(d) => {
                let secs = d.into_timestamp_secs() as f64;
                if self.rank == Rank::Oldest {
                    -secs
                } else {
                    secs
                }
            }
            None => f64::NEG_INFINITY,
        }
    }
}

impl Collector for PageCollector {
    type Fruit = PageFruit;
    type Child = PageSegment;

    fn for_segment(
        &self,
        ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<PageSegment> {
        let dates = match self.rank {
            Rank::Newest | Rank::Oldest => Some(reader.fast_fields().date("received_at")?),
            Rank::Score | Rank::None => None,
        };
        let k = match self.rank {
            Rank::None => 0,
            _ => self.offset.saturating_add(self.limit),
        };
        Ok(PageSegment {
            facets: FacetCollector.for_segment(ord, reader)?,
            rank: self.rank,
            segment: ord,
            dates,
            top: TopK::new(k),
            date_buf: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.rank == Rank::Score
    }

    fn merge_fruits(&self, fruits: Vec<PageFruit>) -> tantivy::Result<PageFruit> {
        let mut facet_fruits = Vec::with_capacity(fruits.len());
        let mut top = Vec::new();
        for (f, t) in fruits {
            facet_fruits.push(f);
            top.extend(t);
        }
        top.sort_by(better);
        let page = top.into_iter().skip(self.offset).take(self.limit).collect();
        Ok((FacetCollector.merge_fruits(facet_fruits)?, page))
    }
}

impl SegmentCollector for PageSegment {
    type Fruit = PageFruit;

    fn collect_block(&mut self, docs: &[DocId]) {
        self.facets.collect_block(docs);
        if self.top.k == 0 {
            return;
        }
        match &self.dates {
            Some(col) => {
                let mut buf = std::mem::take(&mut self.date_buf);
                buf.clear();
                buf.resize(docs.len(), None);
                col.first_vals(docs, &mut buf);
                for (&doc, d) in docs.iter().zip(&buf) {
                    let key = self.date_key(*d);
                    self.top.push(key, doc);
                }
                self.date_buf = buf;
            }
            None => {
                for &doc in docs {
                    self.top.push(0.0, doc);
                }
            }
        }
    }

    fn collect(&mut self, doc: DocId, score: Score) {
        self.facets.collect(doc, score);
        if self.top.k == 0 {
            return;
        }
        let key = match &self.dates {
            Some(col) => self.date_key(col.first(doc)),
            None => score as f64,
        };
        self.top.push(key, doc);
    }

    fn harvest(self) -> PageFruit {
        let segment = self.segment;
        let top = self
            .top
            .into_sorted()
            .into_iter()
            .map(|(k, doc)| (k, DocAddress::new(segment, doc)))
            .collect();
        (self.facets.harvest(), top)
    }
}

/// Counts matching documents per month of reception (Beijing time, UTC+8) and value of a field.
pub(crate) struct MonthCollector {
    pub group: Option<FacetField>,
}

type MonthFruit = BTreeMap<(String, String), u64>;

pub(crate) struct MonthSegment {
    dates: Column<tantivy::DateTime>,
    group: Option<StrColumn>,
    grouped: bool,
    counts: HashMap<(i32, u64), u64>,
}

/// China has used UTC+8 all year since 1991, so months are cut at Beijing midnight.
const BEIJING_SECS: i32 = 8 * 3600;

/// Months since year 0 of an instant, in Beijing time.
fn month_index(secs: i64) -> Option<i32> {
    let tz = FixedOffset::east_opt(BEIJING_SECS)?;
    let t = tz.timestamp_opt(secs, 0).single()?;
    Some(t.year() * 12 + t.month0() as i32)
}

impl Collector for MonthCollector {
    type Fruit = MonthFruit;
    type Child = MonthSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<MonthSegment> {
        let dates = reader.fast_fields().date("received_at")?;
        let group = match self.group {
            Some(g) => reader.fast_fields().str(g.column())?,
            None => None,
        };
        Ok(MonthSegment {
            dates,
            group,
            grouped: self.group.is_some(),
            counts: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<MonthFruit>) -> tantivy::Result<MonthFruit> {
        let mut out = BTreeMap::new();
        for m in fruits {
            for (k, v) in m {
                *out.entry(k).or_insert(0) += v;
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for MonthSegment {
    type Fruit = MonthFruit;

    fn collect(&mut self, doc: DocId, _: Score) {
        let Some(month) = self
            .dates
            .first(doc)
            .and_then(|d| month_index(d.into_timestamp_secs()))
        else {
            return;
        };
        match (&self.group, self.grouped) {
            (Some(col), _) => {
                for ord in col.term_ords(doc) {
                    *self.counts.entry((month, ord)).or_insert(0) += 1;
                }
            }
            (None, false) => *self.counts.entry((month, u64::MAX)).or_insert(0) += 1,
            // Grouped by a field no document of this segment has: nothing to count.
            (None, true) => {}
        }
    }

    fn harvest(self) -> MonthFruit {
        let mut out = BTreeMap::new();
        let mut buf = String::new();
        for ((month, ord), n) in self.counts {
            let label = format!(
                "{:04}-{:02}",
                month.div_euclid(12),
                month.rem_euclid(12) + 1
            );
            match &self.group {
                Some(col) => {
                    buf.clear();
                    if col.ord_to_str(ord, &mut buf).unwrap_or(false) {
                        for v in buf.split(',').filter(|v| !v.is_empty()) {
                            *out.entry((label.clone(), v.to_string())).or_insert(0) += n;
                        }
                    }
                }
                None => *out.entry((label, String::new())).or_insert(0) += n,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{month_index, TopK};

    #[test]
    fn top_k_keeps_the_best_with_the_lowest_docs_on_ties() {
        let mut t = TopK::new(3);
        for (doc, key) in [5.0, 1.0, 5.0, 7.0, 2.0, 7.0, 5.0, 0.0, 9.0]
            .into_iter()
            .enumerate()
        {
            t.push(key, doc as u32);
        }
        assert_eq!(t.into_sorted(), vec![(9.0, 8), (7.0, 3), (7.0, 5)]);
        let mut t = TopK::new(0);
        t.push(1.0, 1);
        assert!(t.into_sorted().is_empty());
        let mut t = TopK::new(4);
        for doc in 0..3 {
            t.push(f64::NEG_INFINITY, doc);
        }
        assert_eq!(t.into_sorted().len(), 3);
    }

    #[test]
    fn months_are_cut_at_beijing_midnight() {
        // 2024-04-30T16:30:00Z is 2024-05-01 00:30 in Beijing.
        let m = month_index(1_714_494_600).unwrap();
        assert_eq!((m / 12, m % 12 + 1), (2024, 5));
    }
}
