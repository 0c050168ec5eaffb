//! Handling authority (DOMAIN §4), cross-region transfer and referrals (§5).

use crate::config::TriageConfig;
use crate::gazetteer::Gazetteer;
use crate::locus::{significant, within, Locus};
use crate::referral::{self, Referral};
use intake::{Category, ReferralKind, SubjectKind};
use serde::{Deserialize, Serialize};

/// The authority that handles a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Handling {
    /// The emergency-management body of this division.
    Division(String),
    /// The deployment's home intake desk (`"home"`).
    Home(HomeDesk),
}

/// The marker for the home intake desk; serializes as `"home"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HomeDesk {
    /// The home intake desk.
    Home,
}

impl Handling {
    /// The code as exported: a division code or `home`.
    pub fn code(&self) -> &str {
        match self {
            Handling::Division(c) => c,
            Handling::Home(_) => "home",
        }
    }
}

/// The routing decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Routing {
    /// The handling authority.
    pub handling: Handling,
    /// Set when the locus is outside the home jurisdiction: transferred there.
    pub transfer: Option<String>,
    /// Referrals required.
    pub referrals: Vec<Referral>,
    /// Why, in plain words.
    pub reasons: Vec<String>,
}

/// The level at which a subject kind is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandlingLevel {
    /// The county of the locus.
    County,
    /// The prefecture of the locus (municipality; province-direct county).
    Prefecture,
    /// The home intake desk.
    Home,
}

/// DOMAIN §4 table.
pub fn handling_level(kind: SubjectKind) -> HandlingLevel {
    match kind {
        SubjectKind::TrainingInstitution
        | SubjectKind::ProductionUnit
        | SubjectKind::Counterfeiter => HandlingLevel::County,
        SubjectKind::ExamInstitution | SubjectKind::OnlinePlatform => HandlingLevel::Prefecture,
        SubjectKind::Other => HandlingLevel::Home,
    }
}

pub(crate) fn route(
    g: &Gazetteer,
    config: &TriageConfig,
    kind: SubjectKind,
    locus: &Locus,
    categories: &[Category],
    fake_certificate: bool,
) -> Routing {
    let mut reasons = Vec::new();
    let county = locus
        .code
        .as_deref()
        .filter(|c| c.len() == 6)
        .and_then(|c| g.index_of(c).map(|i| (c, i)));
    let zone = locus
        .zone
        .as_deref()
        .and_then(|z| config.zones.iter().find(|c| c.code == z));
    let handling = match (handling_level(kind), county) {
        (HandlingLevel::Home, _) => {
            reasons.push(format!("对象类型为“{}”，由本地受理窗口处理", kind.label()));
            Handling::Home(HomeDesk::Home)
        }
        (_, None) => {
            reasons.push("未能定位到区县，由本地受理窗口处理".to_string());
            Handling::Home(HomeDesk::Home)
        }
        (HandlingLevel::County, Some((code, i))) => match zone {
            Some(z) => {
                reasons.push(format!(
                    "{}属于区县级属地监管，定位在{}范围内，由{}办理",
                    kind.label(),
                    z.name,
                    z.name
                ));
                Handling::Division(z.code.clone())
            }
            None => {
                reasons.push(format!(
                    "{}属于区县级属地监管，由{}办理",
                    kind.label(),
                    referral::emergency_body(g, config, code)
                ));
                let _ = i;
                Handling::Division(code.to_string())
            }
        },
        (HandlingLevel::Prefecture, Some((code, _))) => {
            let p = g.prefecture_code(code).unwrap_or_else(|| code.to_string());
            let why = if p == code {
                "省直辖县级行政区自行承担市州职责"
            } else if p.ends_with("0000") {
                "直辖市由市级统一管理"
            } else {
                "由市州一级管理"
            };
            reasons.push(format!(
                "{}{}，由{}办理",
                kind.label(),
                why,
                referral::emergency_body(g, config, &p)
            ));
            Handling::Division(p)
        }
    };

    // Cross-region transfer.
    let mut transfer = None;
    if let (Some(home), Some((code, _))) = (config.home.as_deref(), county) {
        let h = significant(home);
        if !h.is_empty() && !within(code, h) && zone.is_none() {
            let target = match &handling {
                Handling::Division(c) => c.clone(),
                Handling::Home(_) => code.to_string(),
            };
            reasons.push(format!(
                "定位 {} 不在本地辖区（{}）内，跨地区转办至{}",
                g.index_of(code)
                    .map(|i| g.short_path(i))
                    .unwrap_or_default(),
                g.lookup(home)
                    .map(|d| d.name.to_string())
                    .unwrap_or_else(|| home.to_string()),
                referral::emergency_body(g, config, &target)
            ));
            transfer = Some(target);
        }
    }

    // Referrals.
    let mut referrals = Vec::new();
    for (k, bases, cats) in referral::rules(categories, fake_certificate) {
        let zone_code = zone.map(|z| z.code.as_str());
        let county_code = county.map(|(c, _)| c);
        let codes: Vec<&str> = [zone_code, county_code].into_iter().flatten().collect();
        let contacts = referral::contacts(config, &codes);
        let body = match k {
            ReferralKind::MarketRegulation => contacts
                .and_then(|c| c.market_regulation.clone())
                .unwrap_or_else(|| match county {
                    Some((_, i)) => format!("{}市场监督管理局", referral::county_place(g, i)),
                    None => home_body(g, config, "市场监督管理部门"),
                }),
            ReferralKind::PublicSecurity => contacts
                .and_then(|c| c.public_security.clone())
                .unwrap_or_else(|| match county {
                    Some((_, i)) => referral::police_body(g, i),
                    None => home_body(g, config, "公安机关"),
                }),
            ReferralKind::ExamQualification => match &handling {
                Handling::Division(c) => referral::emergency_body(g, config, c),
                Handling::Home(_) => home_body(g, config, "应急管理部门"),
            },
        };
        let contact = match k {
            ReferralKind::ExamQualification => match &handling {
                Handling::Division(c) => config.contacts.get(c).and_then(|c| c.contact.clone()),
                Handling::Home(_) => None,
            },
            _ => contacts.and_then(|c| c.contact.clone()),
        };
        let email = match k {
            ReferralKind::MarketRegulation => {
                contacts.and_then(|c| c.market_regulation_email.clone())
            }
            ReferralKind::PublicSecurity => contacts.and_then(|c| c.public_security_email.clone()),
            ReferralKind::ExamQualification => None,
        };
        let cat_codes: Vec<&str> = cats.iter().map(|c| c.code()).collect();
        let basis = bases.join("；");
        reasons.push(format!(
            "{}（{}）：{}，依据 {}",
            k.label(),
            cat_codes.join("、"),
            body,
            basis
        ));
        referrals.push(Referral {
            code: k,
            body,
            basis,
            contact,
            email,
        });
    }
    Routing {
        handling,
        transfer,
        referrals,
        reasons,
    }
}

fn home_body(g: &Gazetteer, config: &TriageConfig, what: &str) -> String {
    match config.home.as_deref().and_then(|h| g.index_of(h)) {
        Some(i) => format!("{}{}（地点不明，由本地转交）", g.short_path(i), what),
        None => format!("属地{what}（地点不明，待核实后移送）"),
    }
}
