//! Referral rules (DOMAIN §5) and the names of receiving bodies.

use crate::config::{Contacts, TriageConfig};
use crate::gazetteer::{Gazetteer, Level};
use crate::names;
use intake::{Category, ReferralKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A referral to another body (DOMAIN.md §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// The rule.
    pub code: ReferralKind,
    /// The receiving body, named for the locus.
    pub body: String,
    /// The notice clause it rests on.
    pub basis: String,
    /// Contact details of the receiving body, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// E-mail address for the referral letter (移送函), when configured for the receiving body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Clause of 274号 四(二) (market regulation, public security, exam qualification).
pub const BASIS_274: &str = "应急厅函〔2021〕274号 四(二)";
/// 泰安 五(二): 行刑衔接.
pub const BASIS_TAIAN: &str = "泰安市应急管理局 五(二) 行刑衔接";
/// 渝考发 任务20 (fake government websites).
pub const BASIS_YU_20: &str = "渝考发〔2022〕5号 任务20";
/// 渝考发 任务22 (fake certificates).
pub const BASIS_YU_22: &str = "渝考发〔2022〕5号 任务22";

/// The referral rules that apply: kind → clauses, sorted by code, each once.
pub fn rules(
    categories: &[Category],
    fake_certificate: bool,
) -> Vec<(ReferralKind, Vec<&'static str>, Vec<Category>)> {
    let mut map: BTreeMap<&'static str, (ReferralKind, Vec<&'static str>, Vec<Category>)> =
        BTreeMap::new();
    let mut add = |k: ReferralKind, bases: &[&'static str], c: Category| {
        let e = map
            .entry(k.code())
            .or_insert_with(|| (k, Vec::new(), Vec::new()));
        for b in bases {
            if !e.1.contains(b) {
                e.1.push(b);
            }
        }
        if !e.2.contains(&c) {
            e.2.push(c);
        }
    };
    for &c in categories {
        match c {
            Category::T5 => add(ReferralKind::MarketRegulation, &[BASIS_274], c),
            Category::T4 => add(ReferralKind::PublicSecurity, &[BASIS_274, BASIS_TAIAN], c),
            Category::F1 => add(ReferralKind::PublicSecurity, &[BASIS_YU_20, BASIS_TAIAN], c),
            Category::F2 => add(ReferralKind::PublicSecurity, &[BASIS_YU_22, BASIS_TAIAN], c),
            Category::P2 if fake_certificate => {
                add(ReferralKind::PublicSecurity, &[BASIS_YU_22, BASIS_TAIAN], c)
            }
            Category::E5 => add(ReferralKind::ExamQualification, &[BASIS_274], c),
            _ => {}
        }
    }
    map.into_values().collect()
}

/// Place prefix for bodies of a county-level division: `鞍山市铁东区`, `北京市朝阳区`, `海城市`.
pub fn county_place(g: &Gazetteer, county: u32) -> String {
    let d = g.division(county);
    if d.name.ends_with('区') {
        if let Some(p) = d.parent {
            let pd = g.division(p);
            if names::is_placeholder(pd.name) {
                if let Some(pp) = pd.parent {
                    return format!("{}{}", g.division(pp).name, d.name);
                }
            } else if pd.level == Level::Prefecture && pd.name != d.name {
                return format!("{}{}", pd.name, d.name);
            }
        }
    }
    d.name.to_string()
}

/// Public-security body: `鞍山市公安局铁东分局`, `北京市公安局朝阳分局`, `海城市公安局`.
pub fn police_body(g: &Gazetteer, county: u32) -> String {
    let d = g.division(county);
    if let (Some(short), Some(p)) = (d.name.strip_suffix('区'), d.parent) {
        let pd = g.division(p);
        let upper = if names::is_placeholder(pd.name) {
            pd.parent.map(|pp| g.division(pp).name.to_string())
        } else {
            Some(pd.name.to_string())
        };
        if let Some(u) = upper.filter(|u| !u.ends_with("直辖县级行政区划")) {
            let short = if short.chars().count() >= 2 {
                short
            } else {
                d.name
            };
            return format!("{u}公安局{short}分局");
        }
    }
    format!("{}公安局", d.name)
}

/// Emergency-management body for a handling code (county, prefecture `xxxx00`, municipality
/// `xx0000`, province-direct county) or a configured zone.
pub fn emergency_body(g: &Gazetteer, config: &TriageConfig, code: &str) -> String {
    if let Some(n) = config
        .contacts
        .get(code)
        .and_then(|c| c.emergency_management.clone())
    {
        return n;
    }
    if let Some(z) = config.zones.iter().find(|z| z.code == code) {
        return format!("{}应急管理局", z.name);
    }
    match g.index_of(code) {
        Some(i) if g.division(i).level == Level::County => {
            format!("{}应急管理局", county_place(g, i))
        }
        Some(i) => format!("{}应急管理局", g.division(i).name),
        None => "本地应急管理部门".to_string(),
    }
}

/// Configured contacts for the first of `codes` that has them.
pub fn contacts<'a>(config: &'a TriageConfig, codes: &[&str]) -> Option<&'a Contacts> {
    codes.iter().find_map(|c| config.contacts.get(*c))
}
