//! Collectors over the whole matching set: facet counts and monthly counts, read from the fast
//! fields by term ordinal (strings are looked up once per segment, not per document).

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, FixedOffset, TimeZone};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Cardinality, Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::types::FacetField;

/// Counts the matching documents and, for each facet field, each value.
pub(crate) struct FacetCollector {
    pub fields: Vec<FacetField>,
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
        let mut columns = Vec::with_capacity(self.fields.len());
        let mut counts = Vec::with_capacity(self.fields.len());
        for f in &self.fields {
            let col = reader.fast_fields().str(f.column())?;
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
        let mut maps = vec![BTreeMap::new(); self.fields.len()];
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
        let mut maps = Vec::with_capacity(self.columns.len());
        let mut buf = String::new();
        for (col, counts) in self.columns.iter().zip(self.counts) {
            let mut m = BTreeMap::new();
            if let Some(col) = col {
                for (ord, n) in counts.into_iter().enumerate() {
                    if n > 0 {
                        buf.clear();
                        if col.ord_to_str(ord as u64, &mut buf).unwrap_or(false) {
                            add_values(&mut m, &buf, n);
                        }
                    }
                }
            }
            maps.push(m);
        }
        (self.total, maps)
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
    use super::month_index;

    #[test]
    fn months_are_cut_at_beijing_midnight() {
        // 2024-04-30T16:30:00Z is 2024-05-01 00:30 in Beijing.
        let m = month_index(1_714_494_600).unwrap();
        assert_eq!((m / 12, m % 12 + 1), (2024, 5));
    }
}
