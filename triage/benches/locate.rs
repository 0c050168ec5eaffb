//! Throughput of locate + route on seeded synthetic 500-character reports (one core), then of
//! the whole analysis a report gets before it is stored (normalize → extract → locate → route,
//! as `src/pipeline.rs` runs it) on the same texts.
//!
//! `cargo bench -p triage --bench locate` (`TRIAGE_BENCH_N` texts, default 4000)

use intake::extract::Extractor;
use intake::{normalize_text, Category, Envelope, SubjectKind};
use std::time::Instant;
use triage::{Gazetteer, Level, LocateInput, PhoneRegions, Triage, TriageConfig};

mod texts;
use texts::{Rng, FILLER};

/// CPU time of this thread in seconds (Linux `/proc`; `None` elsewhere). The machine may be shared,
/// so reports/s per core is computed from CPU time, wall time shown too.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let (utime, stime): (f64, f64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    Some((utime + stime) / 100.0)
}

fn main() {
    let t0 = Instant::now();
    let g = Gazetteer::get();
    let load_gazetteer = t0.elapsed();
    let ta = Instant::now();
    g.warm_up();
    let load_automaton = ta.elapsed();
    let t1 = Instant::now();
    let _ = PhoneRegions::get().region("13904125566");
    let load_phone = t1.elapsed();
    println!(
        "load: gazetteer {:.1} ms + name automaton {:.1} ms ({} divisions, {} name forms), phone table {:.1} ms",
        load_gazetteer.as_secs_f64() * 1e3,
        load_automaton.as_secs_f64() * 1e3,
        g.len(),
        g.name_count(),
        load_phone.as_secs_f64() * 1e3
    );

    // Place names to sprinkle: counties and townships with their prefecture sometimes.
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut texts = Vec::new();
    let n_texts: usize = std::env::var("TRIAGE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    for _ in 0..n_texts {
        let mut s = String::new();
        while s.chars().count() < 500 {
            if rng.below(4) == 0 {
                let i = rng.below(g.len()) as u32;
                let d = g.division(i);
                if d.level >= Level::County {
                    s.push_str(&g.short_path(i));
                } else {
                    s.push_str(&d.name);
                }
            }
            s.push_str(rng.pick(FILLER));
        }
        texts.push(s.chars().take(500).collect::<String>());
    }
    let triage = Triage::new(TriageConfig {
        home: Some("210300".into()),
        ..Default::default()
    });
    let phones = ["13904125566", "0412-5892213", "0538-8261453", "186****9031"];
    // Warm up, then measure.
    for t in texts.iter().take(200) {
        let _ = triage.locate(&LocateInput {
            text: t,
            ..Default::default()
        });
    }
    let start = Instant::now();
    let cpu0 = thread_cpu_seconds();
    let mut placed = 0usize;
    let rounds = 3;
    for _ in 0..rounds {
        for (i, t) in texts.iter().enumerate() {
            let l = triage.locate(&LocateInput {
                text: t,
                phone: Some(phones[i % phones.len()]),
                ..Default::default()
            });
            placed += l.code.is_some() as usize;
            let r = triage.route(
                SubjectKind::TrainingInstitution,
                &l,
                &[Category::T4, Category::T5],
                false,
            );
            std::hint::black_box(r);
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = thread_cpu_seconds()
        .zip(cpu0)
        .map(|(b, a)| b - a)
        .filter(|c| *c > 0.0);
    let el = cpu.unwrap_or(wall);
    let n = texts.len() * rounds;
    println!(
        "locate+route: {n} reports of 500 chars, {:.2} s CPU ({:.2} s wall) = {:.0} reports/s on one core ({:.1} µs each), placed {:.0}%",
        el,
        wall,
        n as f64 / el,
        el * 1e6 / n as f64,
        100.0 * placed as f64 / n as f64
    );

    // The whole analysis: normalization, extraction, locus and routing per report.
    let extractor = Extractor::embedded();
    let envelopes: Vec<Envelope> = texts
        .iter()
        .map(|t| {
            let json = serde_json::json!({"channel": "web_form", "external_id": "b",
                "received_at": "2024-01-01T00:00:00+08:00", "text": t});
            Envelope::from_json(&json.to_string()).expect("bench envelope")
        })
        .collect();
    let analyze = |i: usize, e: &Envelope| {
        let normalized = normalize_text(&e.full_text());
        let x = extractor.extract(e, &normalized);
        let subject_name = x.subject_name.as_deref().map(normalize_text);
        let l = triage.locate(&LocateInput {
            text: &normalized,
            subject_name: subject_name.as_deref(),
            phone: Some(phones[i % phones.len()]),
            ..Default::default()
        });
        let r = triage.route(x.subject_kind, &l, &x.categories, x.fake_certificate);
        std::hint::black_box((x, r));
    };
    for (i, e) in envelopes.iter().enumerate().take(200) {
        analyze(i, e);
    }
    let start = Instant::now();
    let cpu0 = thread_cpu_seconds();
    for _ in 0..rounds {
        for (i, e) in envelopes.iter().enumerate() {
            analyze(i, e);
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let el = thread_cpu_seconds()
        .zip(cpu0)
        .map(|(b, a)| b - a)
        .filter(|c| *c > 0.0)
        .unwrap_or(wall);
    println!(
        "normalize+extract+locate+route: {n} reports, {el:.2} s CPU ({wall:.2} s wall) = {:.0} reports/s on one core ({:.1} µs each)",
        n as f64 / el,
        el * 1e6 / n as f64
    );
}
