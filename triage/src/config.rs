//! Deployment settings that triage needs.

use crate::deadline::DeadlinePolicy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Deployment settings that triage needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TriageConfig {
    /// Home jurisdiction division code (any level: `21`, `210300`, `2103`, `210302`); none means
    /// nationwide.
    #[serde(default)]
    pub home: Option<String>,
    /// Development and function zones with their own bureau (DOMAIN §4): inside one, the zone wins
    /// over the county it lies in.
    #[serde(default)]
    pub zones: Vec<ZoneConfig>,
    /// Names and contacts of receiving bodies per jurisdiction (division or zone code); names are
    /// generated from the division names when absent.
    #[serde(default)]
    pub contacts: BTreeMap<String, Contacts>,
    /// Working days per step (sign for, first contact, verification, reply), per channel too.
    #[serde(default)]
    pub deadline_policy: DeadlinePolicy,
}

impl TriageConfig {
    /// Parses a TOML configuration (`home = "…"`, `[[zones]]`, `[contacts."210302"]`).
    pub fn from_toml(text: &str) -> Result<TriageConfig, toml::de::Error> {
        toml::from_str(text)
    }
}

/// A development or function zone (开发区、高新区、新区) with its own bureau.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ZoneConfig {
    /// Name, e.g. `鞍山高新技术产业开发区`.
    pub name: String,
    /// The code used as its handling authority (an internal code, e.g. `210371`).
    pub code: String,
    /// Other names people use (`鞍山高新区`, `高新区`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The townships (9-digit street codes) that make up the zone.
    #[serde(default)]
    pub townships: Vec<String>,
    /// Or a whole county-level division (6 digits).
    #[serde(default)]
    pub county: Option<String>,
}

/// Names and contacts of the bodies of one jurisdiction. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    /// The emergency-management bureau's name.
    #[serde(default)]
    pub emergency_management: Option<String>,
    /// The market-regulation body's name.
    #[serde(default)]
    pub market_regulation: Option<String>,
    /// The public-security body's name.
    #[serde(default)]
    pub public_security: Option<String>,
    /// Free contact text (phone, address, mailbox) attached to referrals to this jurisdiction.
    #[serde(default)]
    pub contact: Option<String>,
    /// E-mail address that referral letters (移送函) to the market-regulation body go to.
    #[serde(default)]
    pub market_regulation_email: Option<String>,
    /// E-mail address that referral letters (移送函) to the public-security body go to.
    #[serde(default)]
    pub public_security_email: Option<String>,
}
