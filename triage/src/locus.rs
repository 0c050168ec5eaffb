//! The locus: the county-level division where the subject is.
//!
//! Every source (the subject's address, the address of the conduct, the subject's name, the text)
//! is scanned with the one automaton over all division names. Each occurrence is weighed by its
//! form (a full name stands alone; a bare short name needs support: a higher-level name right
//! before it, a place cue such as `那边`/`附近`, an isolated position, an address field) and by
//! its context (attached to an organisation's name, or in a clause about the reporter). Candidate
//! counties are scored with the consistent higher-level names; ties are broken by the reporter's
//! phone region, then by the home jurisdiction; what still ties gives no locus.

use crate::context::{is_han, Cues};
use crate::gazetteer::{Gazetteer, Level, NameForm, RawMatch};
use crate::phone::PhoneRegions;
use crate::zones::Zones;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::fmt::Write;

/// What the locus stage is given.
#[derive(Debug, Clone, Default)]
pub struct LocateInput<'a> {
    /// Normalized report text (title and body).
    pub text: &'a str,
    /// Structured address of the conduct, if any.
    pub address: Option<&'a str>,
    /// The subject's registered address or site, if given.
    pub subject_address: Option<&'a str>,
    /// The subject's name, if known.
    pub subject_name: Option<&'a str>,
    /// The reporter's phone, canonical, if any (area code / mobile region as context).
    pub phone: Option<&'a str>,
}

/// One place name found in an input and used as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceMatch {
    /// The words as written.
    pub text: String,
    /// Start, in characters of the source.
    pub start: usize,
    /// End (exclusive), in characters of the source.
    pub end: usize,
    /// The division code of the reading retained (the first, when several remain).
    pub code: String,
    /// Its level.
    pub level: Level,
    /// Which input: `subject_address`, `address`, `subject_name` or `text`.
    pub source: String,
}

/// Where the subject is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Locus {
    /// County-level division code (6 digits), or none when nothing places the report.
    pub code: Option<String>,
    /// Full name path of the code, e.g. `辽宁省 鞍山市 铁东区`.
    pub name: Option<String>,
    /// Candidates considered, best first: `code 名称` (e.g. `210302 辽宁省鞍山市铁东区`).
    pub candidates: Vec<String>,
    /// Why: the matched words and the reasoning, in plain words.
    pub reasons: Vec<String>,
    /// The place names used as evidence.
    #[serde(default)]
    pub evidence: Vec<PlaceMatch>,
    /// The township (9 digits) when one was named and agrees with the locus.
    #[serde(default)]
    pub township: Option<String>,
    /// The configured zone (its code) the locus lies in, if any.
    #[serde(default)]
    pub zone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    SubjectAddress,
    Address,
    SubjectName,
    Text,
}

impl Source {
    fn weight(self) -> f32 {
        match self {
            Source::SubjectAddress => 4.0,
            Source::Address => 3.0,
            Source::SubjectName => 2.0,
            Source::Text => 1.0,
        }
    }
    fn key(self) -> &'static str {
        match self {
            Source::SubjectAddress => "subject_address",
            Source::Address => "address",
            Source::SubjectName => "subject_name",
            Source::Text => "text",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Source::SubjectAddress => "被举报对象地址",
            Source::Address => "事发地址",
            Source::SubjectName => "被举报对象名称",
            Source::Text => "正文",
        }
    }
    fn is_address(self) -> bool {
        matches!(self, Source::SubjectAddress | Source::Address)
    }
}

/// A weighed reading of an occurrence.
#[derive(Debug, Clone, Copy)]
struct Weighed {
    div: u32,
    weight: f32,
    needs_corroboration: bool,
}

/// An accepted occurrence.
#[derive(Debug, Clone)]
struct Occ {
    source: Source,
    start: usize,
    end: usize,
    name: u32,
    /// Its readings: a range of the one buffer that holds every occurrence's (one allocation
    /// per report instead of one per occurrence).
    readings: std::ops::Range<u32>,
    factor: f32,
}

impl Occ {
    fn len(&self) -> usize {
        self.end - self.start
    }

    fn readings<'w>(&self, weighed: &'w [Weighed]) -> &'w [Weighed] {
        &weighed[self.readings.start as usize..self.readings.end as usize]
    }
}

const SHORT_SUPPORTED: f32 = 0.8;
const SHORT_CUED: f32 = 0.7;
const SHORT_ORG: f32 = 0.4;
const TIE_MARGIN: f32 = 0.3;
const MIN_SCORE: f32 = 0.5;
/// Township short forms shared by more counties than this need a higher-level name beside them.
const MAX_SPREAD: u16 = 3;

fn chars_at(s: &str, byte: usize) -> usize {
    s.get(..byte).map(|p| p.chars().count()).unwrap_or(0)
}

fn gap_ok(text: &str, a_end: usize, b_start: usize) -> bool {
    a_end == b_start || (b_start == a_end + 1 && text.as_bytes().get(a_end) == Some(&b' '))
}

/// Buffers reused from one scan to the next.
#[derive(Default)]
struct Scratch {
    raw: Vec<RawMatch>,
    /// `raw[j].end` for every `j` (`raw` is sorted by end).
    ends: Vec<u32>,
    /// Indices of `raw` sorted by start, and their starts.
    by_start: Vec<u32>,
    starts: Vec<u32>,
    /// Sort keys `(start << 32) | j`.
    start_keys: Vec<u64>,
    /// Per name found: whether one of its readings stands on its own.
    strong: Vec<bool>,
    cues: Cues,
    out: Vec<Weighed>,
    chained: Vec<Weighed>,
    /// Per occurrence of the source scanned: whether it survives the overlap filter.
    keep: Vec<bool>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The range of `ends` (ascending) equal to `pos`, given `pos <= ends[i]`: found walking back
/// from `i` (the names that end between `pos` and `ends[i]` overlap the name at `i`: a few).
fn ends_equal_back(ends: &[u32], i: usize, pos: usize) -> std::ops::Range<usize> {
    let mut a = i;
    while a > 0 && ends[a - 1] as usize >= pos {
        a -= 1;
    }
    let b = a + ends[a..].iter().take_while(|&&x| x as usize == pos).count();
    a..b
}

/// The range of `starts` (ascending) equal to `pos`, walking on from `*from`, which is left at
/// the first start not before `pos`: for a `pos` that never decreases from one call to the next,
/// all calls together walk `starts` once.
fn starts_equal_from(starts: &[u32], from: &mut usize, pos: usize) -> std::ops::Range<usize> {
    while starts.get(*from).is_some_and(|&x| (x as usize) < pos) {
        *from += 1;
    }
    let a = *from;
    let b = a + starts[a..]
        .iter()
        .take_while(|&&x| x as usize == pos)
        .count();
    a..b
}

/// Scans one source and appends the occurrences that count to `occs`, their readings to
/// `weighed`.
///
/// `subject_at` is where the subject's name lies in `text`: for the text, its span when the name
/// appears there; for the subject's name itself, the whole name. `mirrored` is true when the
/// subject's name also appears in the text, so that its bare short names are weighed there (once,
/// with their context) rather than twice.
fn scan(
    g: &Gazetteer,
    text: &str,
    source: Source,
    subject_at: Option<(usize, usize)>,
    mirrored: bool,
    weighed: &mut Vec<Weighed>,
    occs: &mut Vec<Occ>,
) {
    SCRATCH.with(|sc| match sc.try_borrow_mut() {
        Ok(mut sc) => scan_with(
            g, text, source, subject_at, mirrored, weighed, occs, &mut sc,
        ),
        Err(_) => scan_with(
            g,
            text,
            source,
            subject_at,
            mirrored,
            weighed,
            occs,
            &mut Scratch::default(),
        ),
    })
}

#[allow(clippy::too_many_arguments)]
fn scan_with(
    g: &Gazetteer,
    text: &str,
    source: Source,
    subject_at: Option<(usize, usize)>,
    mirrored: bool,
    weighed: &mut Vec<Weighed>,
    all_occs: &mut Vec<Occ>,
    sc: &mut Scratch,
) {
    let Scratch {
        raw,
        ends,
        by_start,
        starts,
        start_keys,
        strong,
        cues,
        out,
        chained,
        keep,
    } = sc;
    // The names, and the cue words of their context, in one walk.
    g.find_all_with_cues(text, raw, cues);
    if raw.is_empty() {
        return;
    }
    let raw: &[RawMatch] = raw;
    // Positions fit in 32 bits: texts are far shorter than 4 GiB.
    ends.clear();
    ends.extend(raw.iter().map(|m| m.end as u32));
    start_keys.clear();
    start_keys.extend(
        raw.iter()
            .enumerate()
            .map(|(j, m)| ((m.start as u64) << 32) | j as u64),
    );
    // In end order the starts are nearly sorted already (only overlapping names are out of
    // order): insertion sort is close to linear here. The keys are distinct.
    for k in 1..start_keys.len() {
        let mut m = k;
        while m > 0 && start_keys[m - 1] > start_keys[m] {
            start_keys.swap(m - 1, m);
            m -= 1;
        }
    }
    by_start.clear();
    by_start.extend(start_keys.iter().map(|&k| k as u32));
    starts.clear();
    starts.extend(start_keys.iter().map(|&k| (k >> 32) as u32));
    // The names' records lie far apart in a large table: read them all in one pass, so that
    // their cache misses overlap instead of stalling the scan below one by one.
    strong.clear();
    strong.extend(raw.iter().map(|m| g.any_strong(m.name)));
    // `raw` comes in order of end: the names ending where one starts lie just before it, and
    // the names starting where one ends (or one space later) are found by two walks along
    // `starts` that only move forward.
    let (mut right_from, mut right_gap_from) = (0usize, 0usize);
    // This source's occurrences are pushed after those of the sources before.
    let base = all_occs.len();
    let occs = all_occs;
    let lenient = source.is_address() || source == Source::SubjectName;
    for (i, r) in raw.iter().enumerate() {
        // Neighbours: occurrences right before / right after (a space allowed).
        let left_a = ends_equal_back(ends, i, r.start);
        let left_b = if r.start > 0 && gap_ok(text, r.start - 1, r.start) {
            ends_equal_back(ends, i, r.start - 1)
        } else {
            0..0
        };
        let right_a = &by_start[starts_equal_from(starts, &mut right_from, r.end)];
        let right_b: &[u32] = if gap_ok(text, r.end, r.end + 1) {
            &by_start[starts_equal_from(starts, &mut right_gap_from, r.end + 1)]
        } else {
            &[]
        };
        let left_n = left_a.chain(left_b).filter(|&j| j != i);
        let right_n = right_a
            .iter()
            .chain(right_b)
            .map(|&j| j as usize)
            .filter(|&j| j != i);
        // The first word of an organisation's name: where the name was registered (企业名称 begin
        // with the registering division), unless it is a township name, which is a brand there.
        let subject_start = subject_at.is_some_and(|(s, _)| r.start == s);
        // Skip names that can only count with support when nothing around them could support them.
        if !strong[i]
            && !lenient
            && !subject_start
            && left_n.clone().next().is_none()
            && right_n.clone().next().is_none()
        {
            let prev = text.get(..r.start).and_then(|b| b.chars().next_back());
            if prev.is_some_and(is_han) && !cues.left_cue_at(r.start) {
                continue;
            }
        }
        let readings = g.readings(r.name);
        let (has_left, has_right) = (
            left_n.clone().next().is_some(),
            right_n.clone().next().is_some(),
        );
        // The clause flags cost searches: they are worked out only when a reading asks, or
        // when the occurrence counts.
        let ctx = cues.near(text, r.start, r.end);
        let mut org_follows_known: Option<bool> = None;
        let mut org_follows =
            || *org_follows_known.get_or_insert_with(|| cues.org_follows(text, r.start, r.end));
        let spread = g.township_spread(r.name);
        out.clear();
        chained.clear();
        for rd in readings {
            let lvl = rd.level;
            // A name right before that is one of this reading's ancestors, or (above township
            // level) a name right after inside it. The ancestors are looked up only when there
            // is a name before: most names stand alone, and each lookup is a cache miss.
            let chain = (has_left && {
                let mut anc = [u32::MAX; 4];
                let mut cur = g.parent(rd.div);
                for a in anc.iter_mut() {
                    match cur {
                        Some(c) => {
                            *a = c;
                            cur = g.parent(c);
                        }
                        None => break,
                    }
                }
                left_n
                    .clone()
                    .any(|j| g.readings(raw[j].name).iter().any(|n| anc.contains(&n.div)))
            }) || (lvl < Level::Township
                && has_right
                && right_n.clone().any(|j| {
                    g.readings(raw[j].name)
                        .iter()
                        .any(|n| n.level > lvl && g.contains(rd.div, n.div))
                }));
            let strong = rd.form.is_strong() && !ctx.breaks_word;
            let is_township_short = rd.form == NameForm::Short && lvl == Level::Township;
            let weight = if strong {
                Some((1.0, false))
            } else if chain {
                Some((SHORT_SUPPORTED, false))
            } else if source.is_address()
                || (subject_start
                    && !is_township_short
                    && !(mirrored && source == Source::SubjectName))
            {
                Some((SHORT_SUPPORTED, false))
            } else if mirrored && source == Source::SubjectName {
                // Weighed where the name appears in the text.
                None
            } else if ctx.breaks_word || (is_township_short && spread > MAX_SPREAD) {
                None
            } else if ctx.right_suffix && rd.form == NameForm::Short {
                Some((0.9, false))
            } else if ctx.left_ok() && (ctx.right_cue || (ctx.left_boundary && ctx.right_boundary))
            {
                Some((SHORT_CUED, false))
            } else if ctx.left_ok() && org_follows() {
                Some((SHORT_ORG, true))
            } else {
                None
            };
            if let Some((weight, needs_corroboration)) = weight {
                let w = Weighed {
                    div: rd.div,
                    weight,
                    needs_corroboration,
                };
                if chain {
                    chained.push(w);
                }
                out.push(w);
            }
        }
        // A name chained to a higher (or lower) one keeps only the consistent readings.
        let kept: &[Weighed] = if !chained.is_empty() { chained } else { out };
        if kept.is_empty() {
            continue;
        }
        let attached = ctx.org_precedes
            || subject_at.is_some_and(|(s, e)| {
                (r.start >= s && r.end <= e) || (r.end <= s && s - r.end <= 6)
            })
            || org_follows();
        let mut factor = 1.0;
        if attached {
            factor *= 1.5;
        }
        if !attached && cues.reporter_clause(text, r.start) {
            factor *= 0.4;
        }
        let from = weighed.len() as u32;
        weighed.extend_from_slice(kept);
        occs.push(Occ {
            source,
            start: r.start,
            end: r.end,
            name: r.name,
            readings: from..weighed.len() as u32,
            factor,
        });
    }
    // Overlaps: a name inside a longer accepted name goes; of two crossing names the earlier stays.
    // `occs` come in order of end; a name that contains or crosses `a` from the left starts at
    // or before `a.start`, so it ends in `a.start + 1 ..= a.start + longest`.
    let scanned = &occs[base..];
    let longest = scanned.iter().map(Occ::len).max().unwrap_or(0);
    keep.clear();
    keep.resize(scanned.len(), true);
    for i in 0..scanned.len() {
        let a_start = scanned[i].start;
        let from = scanned.partition_point(|o| o.end <= a_start);
        for j in from..scanned.len() {
            if scanned[j].end > a_start + longest {
                break;
            }
            if i == j || !keep[j] {
                continue;
            }
            let (a, b) = (&scanned[i], &scanned[j]);
            let inside = b.start <= a.start && a.end <= b.end && b.len() > a.len();
            let crossing = b.start < a.start && a.start < b.end && b.end < a.end;
            if inside || crossing {
                keep[i] = false;
                break;
            }
        }
    }
    let mut k = 0;
    occs.retain(|_| {
        k += 1;
        k <= base || keep[k - 1 - base]
    });
}

/// Normalizes a home / region code to its significant prefix (`210300` → `2103`, `210000` → `21`).
pub(crate) fn significant(code: &str) -> &str {
    let mut c = code;
    while c.len() > 2 && c.len() <= 6 && c.ends_with("00") {
        c = &c[..c.len() - 2];
    }
    c
}

/// True when division code `code` lies inside the region with significant prefix `region`.
pub(crate) fn within(code: &str, region: &str) -> bool {
    !region.is_empty() && code.starts_with(region)
}

pub(crate) fn locate(
    g: &Gazetteer,
    home: Option<&str>,
    zones: &Zones,
    input: &LocateInput<'_>,
) -> Locus {
    let mut reasons: Vec<String> = Vec::new();
    let subject_at = input
        .subject_name
        .filter(|n| n.chars().count() >= 2)
        .and_then(|n| {
            // Where the subject's name (or its distinctive core) appears in the text.
            input.text.find(n).map(|s| (s, s + n.len()))
        });
    let mut occs: Vec<Occ> = Vec::with_capacity(64);
    let mut weighed: Vec<Weighed> = Vec::with_capacity(128);
    let mut sources: Vec<(Source, &str)> = Vec::with_capacity(4);
    if let Some(a) = input.subject_address {
        sources.push((Source::SubjectAddress, a));
    }
    if let Some(a) = input.address {
        sources.push((Source::Address, a));
    }
    if let Some(n) = input.subject_name {
        sources.push((Source::SubjectName, n));
    }
    sources.push((Source::Text, input.text));
    for (src, s) in &sources {
        let at = match src {
            Source::Text => subject_at,
            Source::SubjectName => Some((0, s.len())),
            _ => None,
        };
        scan(
            g,
            s,
            *src,
            at,
            subject_at.is_some(),
            &mut weighed,
            &mut occs,
        );
    }
    let source_text = |src: Source| {
        sources
            .iter()
            .find(|(s, _)| *s == src)
            .map(|(_, t)| *t)
            .unwrap_or("")
    };

    let phone_region = input.phone.and_then(|p| PhoneRegions::get().region(p));
    let home_region = home.map(significant).filter(|h| !h.is_empty());

    // Corroboration of weak readings (a bare name before an organisation's name).
    let strong_prefs: Vec<u32> = occs
        .iter()
        .flat_map(|o| {
            o.readings(&weighed)
                .iter()
                .filter(|r| !r.needs_corroboration)
                .map(|r| r.div)
        })
        .filter_map(|d| {
            g.ancestor(d, Level::Prefecture)
                .or_else(|| g.ancestor(d, Level::Province))
        })
        .collect();
    let corroborated = |r: &Weighed| {
        let code = &g.division(r.div).code;
        let by_phone = phone_region.is_some_and(|p| within(code, p) || within(p, code));
        let by_home = home_region.is_some_and(|h| within(code, h));
        let by_other = strong_prefs.iter().any(|&p| g.contains(p, r.div));
        by_phone || by_home || by_other
    };
    // The readings kept are moved down in place: occurrences' ranges come in buffer order.
    let mut kept_to = 0u32;
    for o in occs.iter_mut() {
        let from = kept_to;
        for i in o.readings.clone() {
            let mut r = weighed[i as usize];
            if r.needs_corroboration {
                if !corroborated(&r) {
                    continue;
                }
                // Corroborated: as good as a cued short name.
                r.needs_corroboration = false;
                r.weight = SHORT_CUED;
            }
            weighed[kept_to as usize] = r;
            kept_to += 1;
        }
        o.readings = from..kept_to;
    }
    weighed.truncate(kept_to as usize);
    occs.retain(|o| !o.readings.is_empty());

    // Candidate counties and their scores.
    let mut counties: Vec<u32> = occs
        .iter()
        .flat_map(|o| {
            o.readings(&weighed)
                .iter()
                .filter_map(|r| g.county_of(r.div))
        })
        .collect();
    counties.sort_unstable();
    counties.dedup();
    let ups: Vec<(Option<u32>, Option<u32>)> = counties
        .iter()
        .map(|&c| {
            (
                g.ancestor(c, Level::Prefecture),
                g.ancestor(c, Level::Province),
            )
        })
        .collect();
    // Per occurrence: the best weight it gives each county directly, or through an upper division.
    let mut totals: Vec<f32> = vec![0.0; counties.len()];
    let mut rel: Vec<f32> = vec![0.0; counties.len()];
    // (county position, occurrence) in order of occurrence.
    let mut support_all: Vec<(u32, u32)> = Vec::with_capacity(2 * occs.len());
    let mut seen: FxHashMap<(u32, u8, u32), u32> =
        FxHashMap::with_capacity_and_hasher(2 * occs.len(), Default::default());
    let mut upper: Vec<(u32, f32)> = Vec::new();
    for (k, o) in occs.iter().enumerate() {
        rel.iter_mut().for_each(|r| *r = 0.0);
        upper.clear();
        for r in o.readings(&weighed) {
            if let Some(c) = g.county_of(r.div) {
                if let Ok(ci) = counties.binary_search(&c) {
                    rel[ci] = rel[ci].max(r.weight);
                }
            }
            if g.level(r.div) <= Level::Prefecture {
                match upper.iter_mut().find(|(d, _)| *d == r.div) {
                    Some(u) => u.1 = u.1.max(r.weight),
                    None => upper.push((r.div, r.weight)),
                }
            }
        }
        if !upper.is_empty() {
            let up = |d: Option<u32>| {
                d.and_then(|d| upper.iter().find(|(u, _)| *u == d).map(|(_, w)| *w))
            };
            for (ci, r) in rel.iter_mut().enumerate() {
                if let Some(w) = up(ups[ci].0) {
                    *r = r.max(0.5 * w);
                }
                if let Some(w) = up(ups[ci].1) {
                    *r = r.max(0.25 * w);
                }
            }
        }
        for (ci, &r) in rel.iter().enumerate() {
            if r > 0.0 {
                let n = seen
                    .entry((o.name, o.source as u8, counties[ci]))
                    .or_insert(0);
                let repeat = if *n == 0 { 1.0 } else { 0.25 };
                *n += 1;
                totals[ci] += r * o.source.weight() * o.factor * repeat;
                support_all.push((ci as u32, k as u32));
            }
        }
    }
    // (county, score, position in `counties`), best first.
    let mut scored: Vec<(u32, f32, usize)> = counties
        .iter()
        .zip(&totals)
        .enumerate()
        .map(|(ci, (&c, &t))| (c, t, ci))
        .collect();
    scored.sort_by(|a, b| {
        b.1.partial_cmp(&a.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.0.cmp(&b.0))
    });
    let support_of = |ci: usize| -> Vec<usize> {
        support_all
            .iter()
            .filter(|(c, _)| *c as usize == ci)
            .map(|(_, k)| *k as usize)
            .collect()
    };

    // `“words”(start–end)` in characters, the source named unless it is the text.
    let describe_into = |o: &Occ, out: &mut String| {
        let src = source_text(o.source);
        let w = src.get(o.start..o.end).unwrap_or("");
        let s = chars_at(src, o.start);
        let e = s + w.chars().count();
        if o.source != Source::Text {
            out.push_str(o.source.label());
        }
        let _ = write!(out, "“{w}”({s}–{e})");
    };
    let describe = |o: &Occ| -> String {
        let mut out = String::new();
        describe_into(o, &mut out);
        out
    };
    let cand_line = |c: u32| {
        let code = g.division(c).code;
        let mut line = String::with_capacity(code.len() + 40);
        line.push_str(code);
        line.push(' ');
        g.push_short_path(c, &mut line);
        line
    };

    let mut locus = Locus::default();
    if scored.is_empty() || scored[0].1 < MIN_SCORE {
        locus.candidates = scored.iter().map(|(c, _, _)| cand_line(*c)).collect();
        if occs.is_empty() {
            reasons.push("文本中未找到可定位到区县的地名".to_string());
        } else {
            let words: Vec<String> = occs.iter().take(6).map(&describe).collect();
            reasons.push(format!("找到地名 {}，但不足以确定区县", words.join("、")));
        }
        locus.reasons = reasons;
        return zone_fallback(g, zones, &sources, locus);
    }
    // The tie group: everything within the margin of the best.
    let best = scored[0].1;
    let mut group: Vec<usize> = (0..scored.len())
        .filter(|&i| best - scored[i].1 < TIE_MARGIN)
        .collect();
    if group.len() > 1 {
        if let Some(p) = phone_region {
            let sub: Vec<usize> = group
                .iter()
                .copied()
                .filter(|&i| within(g.division(scored[i].0).code, p))
                .collect();
            if !sub.is_empty() && sub.len() < group.len() {
                let names: Vec<String> = group.iter().map(|&i| g.short_path(scored[i].0)).collect();
                let region = g
                    .lookup(p)
                    .map(|d| {
                        g.path_name(g.index_of(d.code).unwrap_or(0))
                            .replace(' ', "")
                    })
                    .unwrap_or_default();
                reasons.push(format!(
                    "候选 {} 得分相近，来电号码归属{}，据此取舍",
                    names.join("、"),
                    region
                ));
                group = sub;
            }
        }
    }
    if group.len() > 1 {
        if let Some(h) = home_region {
            let sub: Vec<usize> = group
                .iter()
                .copied()
                .filter(|&i| within(g.division(scored[i].0).code, h))
                .collect();
            if !sub.is_empty() && sub.len() < group.len() {
                reasons.push(format!("候选仍不唯一，按本地辖区（{h}）取舍"));
                group = sub;
            }
        }
    }
    if group.len() > 1 {
        let names: Vec<String> = group.iter().map(|&i| g.short_path(scored[i].0)).collect();
        let words: Vec<String> = support_of(scored[group[0]].2)
            .iter()
            .take(4)
            .map(|&k| describe(&occs[k]))
            .collect();
        reasons.push(format!(
            "匹配{}可指 {}，上下文、来电号码与本地辖区均无法确定，暂不定位",
            words.join("+"),
            names.join("、")
        ));
        locus.candidates = group
            .iter()
            .map(|&i| cand_line(scored[i].0))
            .chain(
                scored
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !group.contains(i))
                    .map(|(_, s)| cand_line(s.0)),
            )
            .collect();
        locus.reasons = reasons;
        return zone_fallback(g, zones, &sources, locus);
    }
    let win = group[0];
    let (county, score) = (scored[win].0, scored[win].1);
    let support = &support_of(scored[win].2);
    // The reasons are written straight into their strings (no string per word, no join).
    let mut because = String::with_capacity(160);
    because.push_str("匹配");
    for (n, &k) in support.iter().take(5).enumerate() {
        if n > 0 {
            because.push('+');
        }
        describe_into(&occs[k], &mut because);
    }
    because.push_str("，定位 ");
    g.push_short_path(county, &mut because);
    let _ = write!(because, "（得分{score:.1}）");
    reasons.insert(0, because);
    let mut losers = String::new();
    for (_, (c, s, _)) in scored.iter().enumerate().filter(|(i, _)| *i != win).take(4) {
        losers.push_str(if losers.is_empty() {
            "未采用的候选："
        } else {
            "、"
        });
        g.push_short_path(*c, &mut losers);
        let _ = write!(losers, "（{s:.1}）");
    }
    if !losers.is_empty() {
        reasons.push(losers);
    }
    // Evidence and the township, if one was named.
    let mut township = None;
    for &k in support {
        let o = &occs[k];
        let src = source_text(o.source);
        let readings = o.readings(&weighed);
        let reading = readings
            .iter()
            .find(|r| g.county_of(r.div) == Some(county))
            .or_else(|| readings.iter().find(|r| g.contains(r.div, county)))
            .or(readings.first());
        if let Some(r) = reading {
            let d = g.division(r.div);
            if d.level == Level::Township && d.parent == Some(county) && township.is_none() {
                township = Some(d.code.to_string());
            }
            let text = src.get(o.start..o.end).unwrap_or("");
            let start = chars_at(src, o.start);
            locus.evidence.push(PlaceMatch {
                text: text.to_string(),
                start,
                end: start + text.chars().count(),
                code: d.code.to_string(),
                level: d.level,
                source: o.source.key().to_string(),
            });
        }
    }
    let code = g.division(county).code.to_string();
    locus.code = Some(code.clone());
    locus.name = Some(g.path_name(county));
    locus.township = township;
    locus.candidates = std::iter::once(cand_line(county))
        .chain(
            scored
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != win)
                .map(|(_, s)| cand_line(s.0)),
        )
        .collect();
    locus.reasons = reasons;
    zones.apply(g, &mut locus, &sources);
    locus
}

/// A zone named by alias alone still places a report that nothing else placed.
fn zone_fallback(g: &Gazetteer, zones: &Zones, sources: &[(Source, &str)], locus: Locus) -> Locus {
    if let Some((zi, w)) = zones.find_alias(sources) {
        if let Some(county) = zones.county_of(g, zi) {
            return zones.apply_alias(g, locus, zi, county, &w);
        }
    }
    locus
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The range of `sorted` equal to `pos`, by binary search.
    fn equal_range(sorted: &[u32], pos: usize) -> std::ops::Range<usize> {
        let a = sorted.partition_point(|&x| (x as usize) < pos);
        let b = sorted.partition_point(|&x| (x as usize) <= pos);
        a..b
    }

    #[test]
    fn neighbour_walks_agree_with_binary_search() {
        let mut rng = crate::test_rng::TestRng::new(0x2545_f491_4f6c_dd1d);
        let mut next = |n: u64| rng.below(n as usize) as u64;
        for _ in 0..200 {
            // Spans (start, end) sorted by end, as the automaton reports them.
            let mut spans: Vec<(u32, u32)> = (0..next(30))
                .map(|_| {
                    let end = 1 + next(60) as u32;
                    (end.saturating_sub(1 + next(6) as u32), end)
                })
                .collect();
            spans.sort_by_key(|&(_, e)| e);
            let ends: Vec<u32> = spans.iter().map(|&(_, e)| e).collect();
            let mut starts: Vec<u32> = spans.iter().map(|&(s, _)| s).collect();
            starts.sort_unstable();
            let (mut from, mut gap_from) = (0, 0);
            for (i, &(s, e)) in spans.iter().enumerate() {
                let (s, e) = (s as usize, e as usize);
                assert_eq!(ends_equal_back(&ends, i, s), equal_range(&ends, s));
                if s > 0 {
                    assert_eq!(ends_equal_back(&ends, i, s - 1), equal_range(&ends, s - 1));
                }
                assert_eq!(
                    starts_equal_from(&starts, &mut from, e),
                    equal_range(&starts, e)
                );
                if i % 2 == 0 {
                    assert_eq!(
                        starts_equal_from(&starts, &mut gap_from, e + 1),
                        equal_range(&starts, e + 1)
                    );
                }
            }
        }
    }
}
