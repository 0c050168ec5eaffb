//! Duplicate detection (DOMAIN.md §7): the same message twice, repeat reports, the same matter
//! from several reporters.
//!
//! STUB: filled by the duplicates work.

use crate::domain::Category;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the duplicate stage knows of a report about to be stored.
#[derive(Debug, Clone)]
pub struct DedupProbe {
    /// Normalized text (title and body).
    pub text: String,
    /// Subject name, if known.
    pub subject_name: Option<String>,
    /// County-level locus, if known.
    pub locus: Option<String>,
    /// Categories alleged.
    pub categories: Vec<Category>,
    /// Canonical phone or e-mail of the reporter, if any.
    pub reporter_key: Option<String>,
    /// Time of arrival.
    pub received_at: DateTime<Utc>,
}

/// What the stage decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum DedupDecision {
    /// No earlier report about this matter: open a new case.
    New,
}

/// The in-memory index over history.
#[derive(Debug, Default)]
pub struct DedupIndex {}

impl DedupIndex {
    /// An empty index.
    pub fn new() -> DedupIndex {
        DedupIndex {}
    }

    /// Decides what a new report is, against the history.
    pub fn decide(&self, probe: &DedupProbe) -> DedupDecision {
        let _ = probe;
        DedupDecision::New
    }

    /// Adds a stored report to the history.
    pub fn insert(&mut self, report_id: i64, case_id: i64, probe: &DedupProbe) {
        let _ = (report_id, case_id, probe);
    }
}
