//! Shared helpers for the extraction tests: labelled files and the measures.
#![allow(dead_code)]

use intake::extract::{Extraction, Extractor};
use intake::{normalize_text, Category, Envelope, SubjectKind};
use std::collections::BTreeSet;

/// One labelled report.
pub struct Labelled {
    pub line: usize,
    pub envelope: Envelope,
    pub kind: SubjectKind,
    pub categories: BTreeSet<Category>,
}

pub fn load(path: &std::path::Path) -> Option<Vec<Labelled>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
        let envelope = Envelope::from_json(line).unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
        let exp = &v["expect"];
        let kind: SubjectKind = exp["subject_kind"].as_str().unwrap().parse().unwrap();
        let categories = exp["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().parse().unwrap())
            .collect();
        out.push(Labelled {
            line: i + 1,
            envelope,
            kind,
            categories,
        });
    }
    Some(out)
}

pub fn run(e: &Envelope) -> Extraction {
    let norm = normalize_text(&e.full_text());
    Extractor::embedded().extract(e, &norm)
}

/// (kind accuracy, micro-F1, disagreements printed)
pub fn measure(name: &str, rows: &[Labelled]) -> (f64, f64) {
    let (mut kind_ok, mut tp, mut fp, mut fneg) = (0usize, 0usize, 0usize, 0usize);
    for r in rows {
        let x = run(&r.envelope);
        let got: BTreeSet<Category> = x.categories.iter().copied().collect();
        if x.subject_kind == r.kind {
            kind_ok += 1;
        }
        tp += got.intersection(&r.categories).count();
        fp += got.difference(&r.categories).count();
        fneg += r.categories.difference(&got).count();
        if x.subject_kind != r.kind || got != r.categories {
            let codes =
                |s: &BTreeSet<Category>| s.iter().map(|c| c.code()).collect::<Vec<_>>().join(",");
            println!(
                "{name}:{} kind {} (want {}) cats [{}] (want [{}]) name {:?}\n    {}\n    rules: {}",
                r.line,
                x.subject_kind.code(),
                r.kind.code(),
                codes(&got),
                codes(&r.categories),
                x.subject_name,
                r.envelope.text.chars().take(120).collect::<String>(),
                x.reasons.iter().map(|h| format!("{}[{}]", h.rule, h.matched)).collect::<Vec<_>>().join(" ")
            );
        }
    }
    let kind_acc = kind_ok as f64 / rows.len().max(1) as f64;
    let p = tp as f64 / (tp + fp).max(1) as f64;
    let rc = tp as f64 / (tp + fneg).max(1) as f64;
    let f1 = if p + rc > 0.0 {
        2.0 * p * rc / (p + rc)
    } else {
        0.0
    };
    println!("{name}: {} reports, subject_kind accuracy {kind_acc:.3}, categories micro-P {p:.3} R {rc:.3} F1 {f1:.3}", rows.len());
    (kind_acc, f1)
}
