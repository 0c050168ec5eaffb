//! The stages a report passes before it is stored: normalize → extract → locate → route. The
//! duplicate stage runs in the writer (it needs the history in order); see `ingest.rs`.
//!
//! Everything here is pure computation over the libraries, so it runs on any thread before the
//! report reaches the single writer.

use crate::config::Config;
use intake::extract::{Extraction, Extractor};
use intake::{Category, Envelope};
use serde::Serialize;
use sha2::{Digest, Sha256};
use triage::{LocateInput, Locus, Routing, Triage};

/// What the stages concluded about one report.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// The normalized title and text that every rule matched against.
    #[serde(skip)]
    pub normalized: String,
    /// Subject, kind, categories, with the rules that fired.
    pub extraction: Extraction,
    /// Where the subject is.
    pub locus: Locus,
    /// Handling, transfer, referrals.
    pub routing: Routing,
    /// Deadlines of each step, in working days from receipt (a 12345 order's own wins for the reply).
    pub deadlines: triage::Deadlines,
    /// Hash of the normalized content (same message under another id).
    #[serde(skip)]
    pub fingerprint: String,
}

impl Analysis {
    /// Category codes.
    pub fn category_codes(&self) -> Vec<String> {
        self.extraction
            .categories
            .iter()
            .map(|c| c.code().to_string())
            .collect()
    }

    /// Referral codes, sorted.
    pub fn referral_codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self
            .routing
            .referrals
            .iter()
            .map(|r| r.code.code().to_string())
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }
}

/// The configured stages.
pub struct Pipeline {
    extractor: &'static Extractor,
    triage: Triage,
}

impl Pipeline {
    /// Stages for a deployment.
    pub fn new(config: &Config) -> Pipeline {
        Pipeline {
            extractor: Extractor::embedded(),
            triage: Triage::new(config.triage.clone()),
        }
    }

    /// Runs extract → locate → route. `category_hints` are categories a person already chose
    /// (an operator's call log); they are added to what the rules find.
    pub fn analyze(&self, envelope: &Envelope, category_hints: &[Category]) -> Analysis {
        let normalized = intake::normalize_text(&envelope.full_text());
        let mut extraction = self.extractor.extract(envelope, &normalized);
        if !category_hints.is_empty() {
            extraction.categories.extend_from_slice(category_hints);
            extraction.categories.sort();
            extraction.categories.dedup();
            if extraction.categories.len() > 1 {
                extraction.categories.retain(|c| *c != Category::X);
            }
        }
        let subject = envelope.subject.as_ref();
        let address = envelope.address.as_deref().map(intake::normalize_text);
        let subject_address = subject
            .and_then(|s| s.address.as_deref())
            .map(intake::normalize_text);
        let subject_name = extraction
            .subject_name
            .as_deref()
            .map(intake::normalize_text);
        let phone = envelope.reporter.phone.clone();
        let locus = self.triage.locate(&LocateInput {
            text: &normalized,
            address: address.as_deref(),
            subject_address: subject_address.as_deref(),
            subject_name: subject_name.as_deref(),
            phone: phone.as_deref(),
        });
        let routing = self.triage.route(
            extraction.subject_kind,
            &locus,
            &extraction.categories,
            extraction.fake_certificate,
        );
        let deadlines =
            self.triage
                .deadlines(envelope.channel, envelope.received_at, envelope.deadline);
        let fingerprint = hex::encode(&Sha256::digest(normalized.as_bytes())[..16]);
        Analysis {
            normalized,
            extraction,
            locus,
            routing,
            deadlines,
            fingerprint,
        }
    }

    /// The subject keys a subject name (normalized) may be stored under, most likely first: the
    /// writer strips the places of the report's locus from the name's start (鞍山恒通培训学校 →
    /// 恒通), so besides the key of the bare name this gives the key with the places the name
    /// itself names.
    pub fn subject_keys(&self, name: &str) -> Vec<String> {
        let locus = self.triage.locate(&LocateInput {
            text: name,
            address: None,
            subject_address: None,
            subject_name: Some(name),
            phone: None,
        });
        let mut keys = Vec::new();
        for key in [
            intake::dedup::subject_key_in(name, &crate::ingest::place_names(&locus)),
            intake::dedup::subject_key(name),
        ] {
            if !key.is_empty() && !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys
    }
}
