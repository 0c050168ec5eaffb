//! Configured development / function zones (开发区、高新区、新区) that have their own bureau.

use crate::config::ZoneConfig;
use crate::gazetteer::Gazetteer;
use crate::locus::{Locus, Source};
use aho_corasick::{AhoCorasick, MatchKind};

/// The zones of a deployment, compiled.
#[derive(Debug, Default)]
pub struct Zones {
    zones: Vec<ZoneConfig>,
    aliases: Option<AhoCorasick>,
    alias_zone: Vec<usize>,
}

impl Zones {
    /// Compiles the configured zones (names and aliases into one automaton).
    pub fn new(zones: &[ZoneConfig]) -> Zones {
        let mut words = Vec::new();
        let mut alias_zone = Vec::new();
        for (i, z) in zones.iter().enumerate() {
            for a in std::iter::once(&z.name).chain(z.aliases.iter()) {
                if a.chars().count() >= 2 {
                    words.push(a.clone());
                    alias_zone.push(i);
                }
            }
        }
        let aliases = if words.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&words)
                .ok()
        };
        Zones {
            zones: zones.to_vec(),
            aliases,
            alias_zone,
        }
    }

    /// The zone with this code.
    pub fn by_code(&self, code: &str) -> Option<&ZoneConfig> {
        self.zones.iter().find(|z| z.code == code)
    }

    /// The first zone named (by name or alias) in the sources, with the word.
    pub(crate) fn find_alias(&self, sources: &[(Source, &str)]) -> Option<(usize, String)> {
        let ac = self.aliases.as_ref()?;
        for (_, s) in sources {
            if let Some(m) = ac.find(*s) {
                return Some((
                    self.alias_zone[m.pattern().as_usize()],
                    s.get(m.start()..m.end()).unwrap_or("").to_string(),
                ));
            }
        }
        None
    }

    /// The county a zone lies in (its county, else its first township's county).
    pub(crate) fn county_of(&self, g: &Gazetteer, zi: usize) -> Option<u32> {
        let z = self.zones.get(zi)?;
        if let Some(c) = z.county.as_deref().and_then(|c| g.index_of(c)) {
            return Some(c);
        }
        z.townships
            .iter()
            .filter_map(|t| g.index_of(t))
            .find_map(|t| g.county_of(t))
    }

    fn counties(&self, g: &Gazetteer, zi: usize) -> Vec<String> {
        let z = &self.zones[zi];
        let mut out: Vec<String> = z.county.iter().cloned().collect();
        for t in &z.townships {
            if t.len() == 9 && t.is_char_boundary(6) && !out.iter().any(|c| c == &t[..6]) {
                out.push(t[..6].to_string());
            }
        }
        let _ = g;
        out
    }

    /// A locus from a zone named by alias when nothing else placed the report.
    pub(crate) fn apply_alias(
        &self,
        g: &Gazetteer,
        mut locus: Locus,
        zi: usize,
        county: u32,
        word: &str,
    ) -> Locus {
        let z = &self.zones[zi];
        locus.code = Some(g.division(county).code.to_string());
        locus.name = Some(g.path_name(county));
        locus.zone = Some(z.code.clone());
        locus.reasons.push(format!(
            "匹配功能区“{word}”，定位 {}（{}所在区县 {}）",
            z.name,
            z.name,
            g.short_path(county)
        ));
        locus
    }

    /// Marks the locus with the zone it lies in: a township of the zone, the zone's county, or the
    /// zone named in the report while the locus is one of its counties.
    pub(crate) fn apply(&self, g: &Gazetteer, locus: &mut Locus, sources: &[(Source, &str)]) {
        let Some(code) = locus.code.clone() else {
            return;
        };
        for z in self.zones.iter() {
            if let Some(t) = locus.township.as_deref() {
                if z.townships.iter().any(|x| x == t) {
                    let tname = g.lookup(t).map(|d| d.name.to_string()).unwrap_or_default();
                    locus.zone = Some(z.code.clone());
                    locus
                        .reasons
                        .push(format!("{tname}（{t}）属于{}，由{}管辖", z.name, z.name));
                    return;
                }
            }
            if z.county.as_deref() == Some(code.as_str()) {
                locus.zone = Some(z.code.clone());
                locus.reasons.push(format!(
                    "{} 整体属于{}，由{}管辖",
                    g.lookup(&code).map(|d| d.name).unwrap_or(""),
                    z.name,
                    z.name
                ));
                return;
            }
        }
        if let Some((zi, word)) = self.find_alias(sources) {
            if self.counties(g, zi).iter().any(|c| c == &code) {
                let z = &self.zones[zi];
                locus.zone = Some(z.code.clone());
                locus.reasons.push(format!(
                    "文中提到“{word}”，且定位区县在{}范围内，由{}管辖",
                    z.name, z.name
                ));
            }
        }
    }
}
