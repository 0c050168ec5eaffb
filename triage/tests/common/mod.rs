//! The full pipeline as `src/pipeline.rs` runs it: envelope → normalize → extract → locate → route.

#![allow(dead_code)]

use intake::extract::Extractor;
use intake::Envelope;
use serde_json::Value;
use triage::{LocateInput, Locus, Routing, Triage};

/// One report through the pipeline.
pub struct Outcome {
    pub normalized: String,
    pub subject_name: Option<String>,
    pub locus: Locus,
    pub routing: Routing,
}

/// Runs extract → locate → route on one JSON line (an envelope with extra `expect` fields).
pub fn run(triage: &Triage, line: &str) -> Result<Outcome, String> {
    let envelope = Envelope::from_json(line).map_err(|e| format!("{e:?}"))?;
    let normalized = intake::normalize_text(&envelope.full_text());
    let extraction = Extractor::embedded().extract(&envelope, &normalized);
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
    let locus = triage.locate(&LocateInput {
        text: &normalized,
        address: address.as_deref(),
        subject_address: subject_address.as_deref(),
        subject_name: subject_name.as_deref(),
        phone: phone.as_deref(),
    });
    let routing = triage.route(
        extraction.subject_kind,
        &locus,
        &extraction.categories,
        extraction.fake_certificate,
    );
    Ok(Outcome {
        normalized,
        subject_name,
        locus,
        routing,
    })
}

/// Tallies of one labelled file.
#[derive(Debug, Default)]
pub struct Tally {
    pub n: usize,
    pub locus_ok: usize,
    pub handling_n: usize,
    pub handling_ok: usize,
}

impl Tally {
    pub fn locus(&self) -> f64 {
        self.locus_ok as f64 / self.n.max(1) as f64
    }
    pub fn handling(&self) -> f64 {
        self.handling_ok as f64 / self.handling_n.max(1) as f64
    }
}

/// Runs every labelled line of `data`; prints the misses.
pub fn evaluate(triage: &Triage, data: &str) -> Tally {
    let mut t = Tally::default();
    for (lineno, line) in data.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let rec: Value = serde_json::from_str(line).expect("json line");
        let exp = &rec["expect"];
        let out = match run(triage, line) {
            Ok(o) => o,
            Err(e) => panic!("line {}: envelope: {e}", lineno + 1),
        };
        let want_locus = exp["locus"].as_str().map(str::to_string);
        let lok = out.locus.code == want_locus;
        t.n += 1;
        t.locus_ok += lok as usize;
        let mut hok = true;
        let mut want_handling = String::new();
        if let Some(h) = exp["handling"].as_str() {
            want_handling = h.to_string();
            hok = out.routing.handling.code() == h;
            t.handling_n += 1;
            t.handling_ok += hok as usize;
        }
        if !(lok && hok) {
            println!(
                "line {}: locus {:?} want {:?}; handling {} want {}\n  subject: {:?}\n  text: {}\n  reasons: {:?}\n  candidates: {:?}",
                lineno + 1,
                out.locus.code,
                want_locus,
                out.routing.handling.code(),
                want_handling,
                out.subject_name,
                out.normalized.chars().take(90).collect::<String>().replace('\n', " "),
                out.locus.reasons,
                out.locus.candidates.iter().take(4).collect::<Vec<_>>()
            );
        }
    }
    t
}
