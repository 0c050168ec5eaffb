//! Triage: where a report belongs and who must act.
//!
//! - [`Gazetteer`]: the statistical divisions (province → township, 2023), embedded.
//! - [`Triage::locate`]: the locus (county-level division) of a report, with evidence and the
//!   candidates that lost.
//! - [`Triage::route`]: the handling authority, a transfer when the locus is outside home, and the
//!   referrals the notices require.
//!
//! STUB: filled by the triage work. No I/O beyond reading embedded data.
#![deny(missing_docs)]

use intake::{Category, ReferralKind, SubjectKind};
use serde::{Deserialize, Serialize};

/// The division gazetteer.
#[derive(Debug, Default)]
pub struct Gazetteer {}

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

/// Where the subject is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Locus {
    /// County-level division code (6 digits), or none when nothing places the report.
    pub code: Option<String>,
    /// Full name path of the code, e.g. `辽宁省 鞍山市 铁东区`.
    pub name: Option<String>,
    /// Candidates considered, best first.
    pub candidates: Vec<String>,
    /// Why: the matched words and the reasoning, in plain words.
    pub reasons: Vec<String>,
}

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

/// A referral to another body (DOMAIN.md §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// The rule.
    pub code: ReferralKind,
    /// The receiving body, named for the locus.
    pub body: String,
    /// The notice clause it rests on.
    pub basis: String,
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

/// Deployment settings that triage needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TriageConfig {
    /// Home jurisdiction division code; none means nationwide.
    pub home: Option<String>,
}

/// The triage engine.
#[derive(Debug, Default)]
pub struct Triage {
    config: TriageConfig,
}

impl Triage {
    /// A triage engine for a deployment.
    pub fn new(config: TriageConfig) -> Triage {
        Triage { config }
    }

    /// Finds the locus.
    pub fn locate(&self, input: &LocateInput<'_>) -> Locus {
        let _ = input;
        Locus::default()
    }

    /// Decides handling, transfer and referrals.
    pub fn route(&self, kind: SubjectKind, locus: &Locus, categories: &[Category], fake_certificate: bool) -> Routing {
        let _ = (kind, locus, categories, fake_certificate, &self.config);
        Routing { handling: Handling::Home(HomeDesk::Home), transfer: None, referrals: Vec::new(), reasons: Vec::new() }
    }
}
