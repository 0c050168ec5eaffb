//! Extraction: the subject's name, its kind and the categories alleged, read from a report.
//!
//! STUB: filled by the triage work (rules as data, per DOMAIN.md §2–§3).

use crate::domain::{Category, SubjectKind};
use crate::envelope::Envelope;
use serde::{Deserialize, Serialize};

/// One rule that fired, with the words that made it fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHit {
    /// The rule's id in the rules file.
    pub rule: String,
    /// The category it points to, if any.
    pub category: Option<Category>,
    /// The subject kind it points to, if any.
    pub kind: Option<SubjectKind>,
    /// The notice clause the rule rests on (e.g. `274号 二(一)`).
    pub clause: String,
    /// The matched words, as in the normalized text.
    pub matched: String,
    /// Character offsets of the match in the normalized text.
    pub start: usize,
    /// End offset (exclusive), in characters.
    pub end: usize,
}

/// What extraction found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extraction {
    /// The subject's name, from the structured subject or found in the text.
    pub subject_name: Option<String>,
    /// The subject's kind.
    pub subject_kind: SubjectKind,
    /// Categories alleged, sorted and de-duplicated; `[X]` when nothing of the field is alleged.
    pub categories: Vec<Category>,
    /// The report speaks of a fake certificate (P2 with public-security referral, DOMAIN.md §5).
    pub fake_certificate: bool,
    /// The rules that fired.
    pub reasons: Vec<RuleHit>,
}

/// The compiled extraction rules.
#[derive(Debug, Default)]
pub struct Extractor {}

impl Extractor {
    /// The rules shipped with tipline.
    pub fn embedded() -> &'static Extractor {
        static EXTRACTOR: Extractor = Extractor {};
        &EXTRACTOR
    }

    /// Reads a report; `normalized` is [`crate::normalize_text`] of the envelope's full text.
    pub fn extract(&self, envelope: &Envelope, normalized: &str) -> Extraction {
        let _ = normalized;
        let hint = envelope.subject.as_ref();
        Extraction {
            subject_name: hint.and_then(|s| s.name.clone()),
            subject_kind: hint.and_then(|s| s.kind).unwrap_or(SubjectKind::Other),
            categories: vec![Category::X],
            fake_certificate: false,
            reasons: Vec::new(),
        }
    }
}
