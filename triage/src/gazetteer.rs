//! The statistical divisions (province → township, 2023), embedded at build time and parsed once.

use crate::names;
use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};
use once_cell::sync::{Lazy, OnceCell};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

const PROVINCES: &str = include_str!("../data/divisions/provinces.csv");
const CITIES: &str = include_str!("../data/divisions/cities.csv");
const AREAS: &str = include_str!("../data/divisions/areas.csv");
const STREETS: &str = include_str!("../data/divisions/streets.csv");
const ALIASES: &str = include_str!("../data/aliases.csv");
const STOPWORDS: &str = include_str!("../data/stopwords.txt");

/// The level of a division.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// 省级: province, autonomous region, municipality.
    Province,
    /// 地级: prefecture (市、地区、州、盟); for municipalities the grouping rows (`市辖区`, `县`).
    Prefecture,
    /// 县级: county, district, county-level city.
    County,
    /// 乡级: township, town, sub-district (街道).
    Township,
}

impl Level {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Level::Province => "省级",
            Level::Prefecture => "地级",
            Level::County => "县级",
            Level::Township => "乡级",
        }
    }
}

/// One division row.
#[derive(Debug, Clone)]
pub struct Division {
    /// The code as in the data: 2 digits (province), 4 (prefecture), 6 (county), 9 (township).
    pub code: &'static str,
    /// Official name.
    pub name: &'static str,
    /// Level.
    pub level: Level,
    /// Index of the parent division, if any.
    pub parent: Option<u32>,
}

/// How a name string refers to a division.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NameForm {
    /// The official name with its suffix (`铁东区`, `汤岗子街道`).
    Full,
    /// An old or alternative name from the alias table (`电白县`, `下城区`).
    Alias,
    /// A short form without suffix (`铁东`, `鞍山`, `岫岩`): needs support from context.
    Short,
    /// A full name that is too generic or too short to stand alone (`城区`, `和县`): needs support.
    Weak,
}

impl NameForm {
    /// True when the form stands on its own.
    pub fn is_strong(self) -> bool {
        matches!(self, NameForm::Full | NameForm::Alias)
    }
}

/// One reading of a name string.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    /// Division index.
    pub div: u32,
    /// How the string names it.
    pub form: NameForm,
    /// The division's level (kept here: the reading is at hand where the level is asked).
    pub level: Level,
}

/// A name occurrence found in a text, before weighing.
#[derive(Debug, Clone)]
pub struct RawMatch {
    /// Byte offset of the start.
    pub start: usize,
    /// Byte offset of the end.
    pub end: usize,
    /// Index of the name string.
    pub name: u32,
}

/// What is known of one name string besides its readings.
#[derive(Debug, Clone, Copy)]
struct NameInfo {
    /// Index of its first reading in the flat list.
    first_reading: u32,
    /// Number of distinct counties a township short form points to (0 for other names).
    township_spread: u16,
    /// Some reading stands on its own (full or old name).
    any_strong: bool,
}

/// A division's place in the tree.
#[derive(Debug, Clone, Copy)]
struct TreeNode {
    /// Index of the parent, `u32::MAX` for none.
    parent: u32,
    level: Level,
}

/// The division gazetteer: divisions, their names and one automaton over all names.
pub struct Gazetteer {
    divisions: Vec<Division>,
    /// Parent and level of every division, by index: the tree walks of locus scoring touch only
    /// these 8 bytes per division, which stay in cache where `divisions` does not.
    tree: Vec<TreeNode>,
    by_code: HashMap<&'static str, u32>,
    names: Vec<&'static str>,
    /// Readings of all names, flat; those of name `i` are
    /// `readings[name_info[i].first_reading..name_info[i + 1].first_reading]`.
    readings: Vec<Reading>,
    /// Per name, then one end marker: what the locus asks of every name found, in one place.
    name_info: Vec<NameInfo>,
    /// Built on first use (a charwise double-array Aho-Corasick automaton over all names and
    /// the locus cue words).
    automaton: OnceCell<NameAutomaton>,
    only_county: HashMap<u32, u32>,
}

/// The names' automaton. It holds the locus cue words ([`crate::context::cue_words`]) too, so
/// that one walk of a text finds the names and the cues around them.
struct NameAutomaton {
    pma: CharwiseDoubleArrayAhoCorasick<u32>,
    /// Values below this are name indices; from it on, cue words that are no name.
    first_cue: u32,
    /// The kinds of the cue words that are no name, by value from `first_cue`.
    cue_kinds: Vec<u8>,
    /// Names that are cue words too, with their kinds, by name index.
    named_cues: Vec<(u32, u8)>,
}

impl std::fmt::Debug for Gazetteer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gazetteer")
            .field("divisions", &self.divisions.len())
            .field("names", &self.names.len())
            .finish()
    }
}

static GAZETTEER: Lazy<Gazetteer> = Lazy::new(Gazetteer::build);

/// Iterates over data rows of a small CSV (header skipped), fields unquoted. The embedded files
/// have no commas inside fields.
fn rows(data: &'static str) -> impl Iterator<Item = [&'static str; 3]> {
    data.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut it = l.split(',').map(|f| f.trim().trim_matches('"'));
            [
                it.next().unwrap_or(""),
                it.next().unwrap_or(""),
                it.next().unwrap_or(""),
            ]
        })
}

impl Gazetteer {
    /// The embedded gazetteer, parsed on first use.
    pub fn get() -> &'static Gazetteer {
        &GAZETTEER
    }

    fn build() -> Gazetteer {
        let mut divisions: Vec<Division> = Vec::with_capacity(45_000);
        let mut by_code: HashMap<&'static str, u32> =
            HashMap::with_capacity_and_hasher(45_000, Default::default());
        let sources: [(&str, Level, usize); 4] = [
            (PROVINCES, Level::Province, usize::MAX),
            (CITIES, Level::Prefecture, 2),
            (AREAS, Level::County, 2),
            (STREETS, Level::Township, 2),
        ];
        for (data, level, parent_col) in sources {
            for r in rows(data) {
                if r[0].is_empty() || r[1].is_empty() {
                    continue;
                }
                let parent = r.get(parent_col).and_then(|c| by_code.get(*c).copied());
                let idx = divisions.len() as u32;
                divisions.push(Division {
                    code: r[0],
                    name: r[1],
                    level,
                    parent,
                });
                by_code.insert(r[0], idx);
            }
        }
        let stop: HashSet<&'static str> = STOPWORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();

        // Name string → readings.
        let mut index: HashMap<&'static str, u32> =
            HashMap::with_capacity_and_hasher(90_000, Default::default());
        let mut names_v: Vec<&'static str> = Vec::with_capacity(90_000);
        let mut readings: Vec<Vec<Reading>> = Vec::with_capacity(90_000);
        let mut add = |s: &'static str, div: u32, form: NameForm| {
            if s.chars().count() < 2 {
                return;
            }
            let id = *index.entry(s).or_insert_with(|| {
                names_v.push(s);
                readings.push(Vec::new());
                (names_v.len() - 1) as u32
            });
            let rs = &mut readings[id as usize];
            if let Some(r) = rs.iter_mut().find(|r| r.div == div) {
                if form < r.form {
                    r.form = form;
                }
            } else {
                rs.push(Reading {
                    div,
                    form,
                    level: divisions[div as usize].level,
                });
            }
        };
        // Upper levels first, so that their short forms are known when townships are added.
        let mut upper_names: HashSet<&'static str> = HashSet::default();
        let mut county_children: HashMap<u32, Vec<u32>> = HashMap::default();
        for (i, d) in divisions.iter().enumerate() {
            let i = i as u32;
            if d.level == Level::County {
                if let Some(p) = d.parent {
                    county_children.entry(p).or_default().push(i);
                }
            }
            if d.level == Level::Township || names::is_placeholder(d.name) {
                continue;
            }
            let full_form = if names::is_weak_full(d.name) {
                NameForm::Weak
            } else {
                NameForm::Full
            };
            add(d.name, i, full_form);
            upper_names.insert(d.name);
            let prov_short = divisions
                .get(Self::province_idx(&divisions, i) as usize)
                .map(|p| names::short_name(p.name, Level::Province))
                .unwrap_or_default();
            let pref_short = Self::prefecture_idx_of(&divisions, i)
                .and_then(|p| divisions.get(p as usize))
                .filter(|p| !names::is_placeholder(p.name))
                .map(|p| names::short_name(p.name, Level::Prefecture))
                .unwrap_or_default();
            for v in names::variants(d.name, d.level, &prov_short, &pref_short) {
                // Short forms are prefixes of the static name; generated forms are few and leaked once.
                let text: &'static str = match d.name.get(..v.text.len()) {
                    Some(p) if p == v.text => p,
                    _ => Box::leak(v.text.into_boxed_str()),
                };
                if v.strong {
                    add(text, i, NameForm::Full);
                    upper_names.insert(text);
                } else if !stop.contains(text) {
                    add(text, i, NameForm::Short);
                    upper_names.insert(text);
                }
            }
        }
        for r in rows(ALIASES) {
            if r.len() >= 2 {
                if let Some(&div) = by_code.get(r[1]) {
                    add(r[0], div, NameForm::Alias);
                    upper_names.insert(r[0]);
                }
            }
        }
        // Township names; short forms only when they name no upper division and are no common word.
        let mut short_counties: HashMap<&'static str, HashSet<u32>> = HashMap::default();
        for (i, d) in divisions.iter().enumerate() {
            if d.level != Level::Township {
                continue;
            }
            let clean = names::strip_parenthetical(d.name);
            add(
                clean,
                i as u32,
                if names::is_weak_full(clean) {
                    NameForm::Weak
                } else {
                    NameForm::Full
                },
            );
            if let Some(s) = names::township_short(clean) {
                if !upper_names.contains(s) && !stop.contains(s) {
                    add(s, i as u32, NameForm::Short);
                    if let Some(p) = d.parent {
                        short_counties.entry(s).or_default().insert(p);
                    }
                }
            }
        }
        let township_spread: Vec<u16> = names_v
            .iter()
            .map(|n| {
                short_counties
                    .get(n)
                    .map(|s| s.len().min(u16::MAX as usize) as u16)
                    .unwrap_or(0)
            })
            .collect();
        // Prefectures with a single county-level child (东莞, 中山, 儋州, 嘉峪关).
        let only_county: HashMap<u32, u32> = county_children
            .into_iter()
            .filter(|(p, c)| c.len() == 1 && divisions[*p as usize].level == Level::Prefecture)
            .map(|(p, c)| (p, c[0]))
            .collect();
        // A short name shared by a prefecture and its own same-named county (衡阳: 衡阳市 and
        // 衡阳县; 长沙, 南昌, 邵阳 …) reads as the prefecture: people say 衡阳 for the city and write
        // 衡阳县 for the county.
        for rs in readings.iter_mut() {
            if rs.len() < 2 {
                continue;
            }
            let is_pref_short = |r: &Reading| {
                r.form == NameForm::Short && divisions[r.div as usize].level == Level::Prefecture
            };
            if !rs.iter().any(is_pref_short) {
                continue;
            }
            let prefs: Vec<u32> = rs
                .iter()
                .filter(|r| is_pref_short(r))
                .map(|r| r.div)
                .collect();
            rs.retain(|r| {
                let d = &divisions[r.div as usize];
                !(r.form == NameForm::Short
                    && d.level == Level::County
                    && d.parent.is_some_and(|p| prefs.contains(&p)))
            });
        }
        let mut name_info = Vec::with_capacity(readings.len() + 1);
        let mut flat = Vec::with_capacity(readings.iter().map(Vec::len).sum());
        for (rs, spread) in readings.iter().zip(township_spread) {
            name_info.push(NameInfo {
                first_reading: flat.len() as u32,
                township_spread: spread,
                any_strong: rs.iter().any(|r| r.form.is_strong()),
            });
            flat.extend_from_slice(rs);
        }
        name_info.push(NameInfo {
            first_reading: flat.len() as u32,
            township_spread: 0,
            any_strong: false,
        });
        let tree = divisions
            .iter()
            .map(|d| TreeNode {
                parent: d.parent.unwrap_or(u32::MAX),
                level: d.level,
            })
            .collect();
        Gazetteer {
            tree,
            divisions,
            by_code,
            names: names_v,
            readings: flat,
            name_info,
            automaton: OnceCell::new(),
            only_county,
        }
    }

    fn province_idx(divisions: &[Division], mut i: u32) -> u32 {
        while let Some(p) = divisions[i as usize].parent {
            i = p;
        }
        i
    }

    fn prefecture_idx_of(divisions: &[Division], mut i: u32) -> Option<u32> {
        loop {
            let d = &divisions[i as usize];
            if d.level == Level::Prefecture {
                return Some(i);
            }
            i = d.parent?;
        }
    }

    /// Number of divisions.
    pub fn len(&self) -> usize {
        self.divisions.len()
    }

    /// True when empty (never, for the embedded data).
    pub fn is_empty(&self) -> bool {
        self.divisions.is_empty()
    }

    /// Number of distinct name strings in the automaton.
    pub fn name_count(&self) -> usize {
        self.names.len()
    }

    /// A division by index.
    pub fn division(&self, idx: u32) -> &Division {
        &self.divisions[idx as usize]
    }

    /// A division index by code (2, 4, 6 or 9 digits; `210300` and `210000` are accepted too).
    pub fn index_of(&self, code: &str) -> Option<u32> {
        if let Some(&i) = self.by_code.get(code) {
            return Some(i);
        }
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let trimmed = match code.len() {
            6 if code.ends_with("0000") => &code[..2],
            6 if code.ends_with("00") => &code[..4],
            _ => return None,
        };
        self.by_code.get(trimmed).copied()
    }

    /// The division for a code.
    pub fn lookup(&self, code: &str) -> Option<&Division> {
        self.index_of(code).map(|i| self.division(i))
    }

    /// The parent of a division.
    pub fn parent(&self, idx: u32) -> Option<u32> {
        let p = self.tree[idx as usize].parent;
        (p != u32::MAX).then_some(p)
    }

    /// The level of a division.
    pub fn level(&self, idx: u32) -> Level {
        self.tree[idx as usize].level
    }

    /// The ancestor of `idx` at `level` (or itself).
    pub fn ancestor(&self, mut idx: u32, level: Level) -> Option<u32> {
        loop {
            let l = self.level(idx);
            if l == level {
                return Some(idx);
            }
            if l < level {
                return None;
            }
            idx = self.parent(idx)?;
        }
    }

    /// True when `a` is `b` or an ancestor of `b`.
    pub fn contains(&self, a: u32, b: u32) -> bool {
        let mut cur = Some(b);
        while let Some(c) = cur {
            if c == a {
                return true;
            }
            cur = self.parent(c);
        }
        false
    }

    /// The county-level division a reading points to: the county itself, a township's county, or
    /// the only county of a prefecture without counties (东莞, 中山 …).
    pub fn county_of(&self, idx: u32) -> Option<u32> {
        match self.level(idx) {
            Level::County => Some(idx),
            Level::Township => self.parent(idx),
            Level::Prefecture => self.only_county.get(&idx).copied(),
            Level::Province => None,
        }
    }

    /// The names on the path from the province down to `idx`, grouping rows left out (at most 4).
    fn path_parts(&self, idx: u32) -> ([&'static str; 4], usize) {
        let mut parts = [""; 4];
        let mut n = 0;
        let mut cur = Some(idx);
        while let Some(c) = cur {
            let d = self.division(c);
            if n == parts.len() {
                break;
            }
            if !names::is_placeholder(d.name) && (n == 0 || parts[n - 1] != d.name) {
                parts[n] = d.name;
                n += 1;
            }
            cur = d.parent;
        }
        parts[..n].reverse();
        (parts, n)
    }

    /// Full path name: `辽宁省 鞍山市 铁东区` (grouping rows like `市辖区` left out).
    pub fn path_name(&self, idx: u32) -> String {
        let (parts, n) = self.path_parts(idx);
        parts[..n].join(" ")
    }

    /// Compact name for bodies: `鞍山市铁东区`, `重庆市渝北区`, `海城市`.
    pub fn short_path(&self, idx: u32) -> String {
        let (parts, n) = self.path_parts(idx);
        parts[..n].concat()
    }

    /// Appends [`Gazetteer::short_path`] to `out`.
    pub fn push_short_path(&self, idx: u32, out: &mut String) {
        let (parts, n) = self.path_parts(idx);
        for p in &parts[..n] {
            out.push_str(p);
        }
    }

    /// The name string of a name index.
    pub fn name(&self, id: u32) -> &str {
        self.names[id as usize]
    }

    /// The readings of a name index.
    pub fn readings(&self, id: u32) -> &[Reading] {
        let (a, b) = (
            self.name_info[id as usize].first_reading as usize,
            self.name_info[id as usize + 1].first_reading as usize,
        );
        &self.readings[a..b]
    }

    /// True when some reading of the name stands on its own (a full or old name).
    pub fn any_strong(&self, id: u32) -> bool {
        self.name_info[id as usize].any_strong
    }

    fn automaton(&self) -> &NameAutomaton {
        self.automaton.get_or_init(|| {
            let first_cue = self.names.len() as u32;
            let index: HashMap<&str, u32> = self
                .names
                .iter()
                .enumerate()
                .map(|(i, n)| (*n, i as u32))
                .collect();
            let (mut cue_only, mut cue_kinds, mut named_cues) =
                (Vec::new(), Vec::new(), Vec::new());
            for (word, kinds) in crate::context::cue_words() {
                match index.get(word) {
                    Some(&i) => named_cues.push((i, kinds)),
                    None => {
                        cue_only.push((word, first_cue + cue_kinds.len() as u32));
                        cue_kinds.push(kinds);
                    }
                }
            }
            named_cues.sort_unstable();
            let patterns = self
                .names
                .iter()
                .enumerate()
                .map(|(i, n)| (*n, i as u32))
                .chain(cue_only);
            NameAutomaton {
                pma: CharwiseDoubleArrayAhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build_with_values(patterns)
                    .expect("division names build an automaton"),
                first_cue,
                cue_kinds,
                named_cues,
            }
        })
    }

    /// Builds the name automaton now (it is otherwise built on the first search).
    pub fn warm_up(&self) {
        let _ = self.automaton();
    }

    /// How many counties a township short form may point to (0 if it is no township short form).
    pub fn township_spread(&self, id: u32) -> u16 {
        self.name_info[id as usize].township_spread
    }

    /// All name occurrences in `text`, overlapping, in order of end (longest first at one end).
    pub fn find_all(&self, text: &str) -> Vec<RawMatch> {
        let mut out = Vec::new();
        self.find_all_into(text, &mut out);
        out
    }

    /// [`Gazetteer::find_all`] into a buffer (cleared first).
    pub fn find_all_into(&self, text: &str, out: &mut Vec<RawMatch>) {
        let a = self.automaton();
        out.clear();
        out.extend(
            a.pma
                .find_overlapping_iter(text)
                .filter(|m| m.value() < a.first_cue)
                .map(|m| RawMatch {
                    start: m.start(),
                    end: m.end(),
                    name: m.value(),
                }),
        );
    }

    /// [`Gazetteer::find_all_into`], and the locus cue words of the text into `cues`, in the
    /// same walk.
    pub(crate) fn find_all_with_cues(
        &self,
        text: &str,
        out: &mut Vec<RawMatch>,
        cues: &mut crate::context::Cues,
    ) {
        let a = self.automaton();
        out.clear();
        cues.begin(text.len());
        for m in a.pma.find_overlapping_iter(text) {
            let v = m.value();
            if v >= a.first_cue {
                let kinds = a.cue_kinds.get((v - a.first_cue) as usize).copied();
                cues.record(m.start(), m.end(), kinds.unwrap_or(0));
                continue;
            }
            out.push(RawMatch {
                start: m.start(),
                end: m.end(),
                name: v,
            });
            if !a.named_cues.is_empty() {
                if let Ok(k) = a.named_cues.binary_search_by_key(&v, |&(i, _)| i) {
                    cues.record(m.start(), m.end(), a.named_cues[k].1);
                }
            }
        }
        cues.finish();
    }

    /// The prefecture-level handling code for a county code (DOMAIN §4): municipalities →
    /// `xx0000`; province-direct counties → the county itself; otherwise `xxxx00`.
    pub fn prefecture_code(&self, county: &str) -> Option<String> {
        if county.len() != 6 || !county.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prov = &county[..2];
        if names::MUNICIPALITIES.contains(&prov) {
            return Some(format!("{prov}0000"));
        }
        let city = self.lookup(&county[..4])?;
        if city.name.ends_with("直辖县级行政区划") {
            return Some(county.to_string());
        }
        Some(format!("{}00", &county[..4]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_indexes() {
        let g = Gazetteer::get();
        assert!(g.len() > 44_000);
        let i = g.index_of("210302").unwrap();
        assert_eq!(g.path_name(i), "辽宁省 鞍山市 铁东区");
        assert_eq!(g.prefecture_code("429004").as_deref(), Some("429004"));
        assert_eq!(g.prefecture_code("500112").as_deref(), Some("500000"));
        assert_eq!(g.prefecture_code("210302").as_deref(), Some("210300"));
        assert_eq!(g.prefecture_code("441900").as_deref(), Some("441900"));
        let dg = g.index_of("4419").unwrap();
        assert_eq!(g.county_of(dg).map(|c| g.division(c).code), Some("441900"));
    }
}
