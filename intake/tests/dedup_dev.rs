//! Duplicate detection measured on the labelled sample (`shared/cases/dev.jsonl`): pairwise
//! precision and recall of "same case" against `expect.group`.
//!
//! Categories and locus come from `expect` (oracle: extraction and locus are separate work); the
//! subject name from the structured subject, with three variants: structured name only, structured
//! name or a crude name-finder of this test, and no names at all.

use chrono::{DateTime, Utc};
use intake::dedup::{DedupDecision, DedupIndex, DedupProbe};
use intake::{normalize_email, normalize_text, parse_phone, Category, Phone};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

fn load_cases() -> Option<Vec<Value>> {
    let path = shared().join("cases/dev.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        assert!(
            std::env::var("TIPLINE_TEST_REQUIRE_ALL").is_err(),
            "TIPLINE_TEST_REQUIRE_ALL is set but {} is missing",
            path.display()
        );
        eprintln!("skipping: {} is absent", path.display());
        return None;
    };
    Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect(),
    )
}

/// Division code → names on its path (full and short), from the shared division tables.
fn load_places() -> HashMap<String, Vec<String>> {
    let dir = shared().join("data/divisions");
    let read = |f: &str| -> Vec<Vec<String>> {
        std::fs::read_to_string(dir.join(f))
            .unwrap_or_default()
            .lines()
            .skip(1)
            .map(|l| {
                l.split(',')
                    .map(|c| c.trim_matches('"').to_string())
                    .collect()
            })
            .collect()
    };
    let provinces: HashMap<String, String> = read("provinces.csv")
        .into_iter()
        .filter(|r| r.len() >= 2)
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let cities: HashMap<String, String> = read("cities.csv")
        .into_iter()
        .filter(|r| r.len() >= 2)
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let mut out = HashMap::new();
    for r in read("areas.csv") {
        if r.len() < 2 || r[0].len() != 6 {
            continue;
        }
        let code = &r[0];
        let mut names = Vec::new();
        for full in [
            provinces.get(&code[..2]),
            cities.get(&code[..4]),
            Some(&r[1]),
        ]
        .into_iter()
        .flatten()
        {
            if full.contains("直辖") || full == "市辖区" || full == "县" {
                continue;
            }
            names.push(full.clone());
            let short = short_name(full);
            if short.chars().count() >= 2 && short != *full {
                names.push(short);
            }
        }
        out.insert(code.clone(), names);
    }
    out
}

fn short_name(full: &str) -> String {
    for suf in [
        "特别行政区",
        "维吾尔自治区",
        "壮族自治区",
        "回族自治区",
        "自治区",
        "自治州",
        "自治县",
        "新区",
        "省",
        "市",
        "区",
        "县",
        "旗",
    ] {
        if let Some(s) = full.strip_suffix(suf) {
            if s.chars().count() >= 2 {
                return s.to_string();
            }
        }
    }
    full.to_string()
}

/// A crude name-finder (test only): the first run of Han characters ending in an institution suffix.
fn crude_name(text: &str) -> Option<String> {
    let re =
        regex::Regex::new(r"[\p{Han}]{2,14}?(有限公司|公司|培训学校|培训中心|考试点|考点|厂|平台)")
            .ok()?;
    let m = re.find(text)?;
    let s = m.as_str();
    // Drop a leading clause word up to the last 的/在/是/叫.
    let cut = s
        .rfind(['的', '在', '是', '叫', '：'])
        .map_or(0, |i| i + s[i..].chars().next().map_or(0, |c| c.len_utf8()));
    let name = &s[cut..];
    (name.chars().count() >= 4).then(|| name.to_string())
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Names {
    Structured,
    StructuredOrCrude,
    None,
}

struct Report {
    eid: String,
    group: String,
    probe: DedupProbe,
}

fn build(rows: &[Value], places: &HashMap<String, Vec<String>>, names: Names) -> Vec<Report> {
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut out = Vec::new();
    for r in rows {
        let channel = r["channel"].as_str().unwrap_or("").to_string();
        let eid = r["external_id"].as_str().unwrap_or("").to_string();
        if !seen.insert((channel, eid.clone())) {
            continue; // A re-send: the store keeps one report.
        }
        let exp = &r["expect"];
        let title = r["title"].as_str().unwrap_or("");
        let text = r["text"].as_str().unwrap_or("");
        let norm = normalize_text(&format!("{title}\n{text}"));
        let structured = r["subject"]["name"].as_str().map(str::to_string);
        let subject_name = match names {
            Names::Structured => structured,
            Names::StructuredOrCrude => structured.or_else(|| crude_name(&norm)),
            Names::None => None,
        };
        let locus = exp["locus"].as_str().map(str::to_string);
        let categories: Vec<Category> = exp["categories"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c.as_str()?.parse().ok()).collect())
            .unwrap_or_default();
        let phone = r["reporter"]["phone"]
            .as_str()
            .and_then(parse_phone)
            .and_then(|p| match p {
                Phone::Masked(_) => None,
                p => Some(p.canonical()),
            });
        let email = r["reporter"]["email"].as_str().and_then(normalize_email);
        let received_at: DateTime<Utc> =
            DateTime::parse_from_rfc3339(r["received_at"].as_str().unwrap_or(""))
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_default();
        let place_names = locus
            .as_ref()
            .and_then(|l| places.get(l))
            .cloned()
            .unwrap_or_default();
        out.push(Report {
            eid,
            group: exp["group"].as_str().unwrap_or("").to_string(),
            probe: DedupProbe {
                text: norm,
                subject_name,
                locus,
                categories,
                reporter_key: phone.or(email),
                received_at,
                subject_kind: None,
                place_names,
            },
        });
    }
    out
}

/// Runs the reports through the index as the app would; returns (precision, recall, disagreements).
fn run(reports: &[Report], verbose: bool) -> (f64, f64, usize) {
    let mut index = DedupIndex::new();
    let mut case_of: HashMap<String, i64> = HashMap::new();
    let mut next_case = 1000i64;
    for (i, r) in reports.iter().enumerate() {
        let d = index.decide(&r.probe);
        let report_id = i as i64 + 1;
        let case = match &d {
            DedupDecision::New { .. } => {
                next_case += 1;
                next_case
            }
            DedupDecision::SameMessage { case_id, .. } => {
                case_of.insert(r.eid.clone(), *case_id);
                if verbose {
                    println!("#{report_id} {}: {}", r.eid, summary(&d));
                }
                continue;
            }
            DedupDecision::Repeat { case_id, .. } | DedupDecision::SameMatter { case_id, .. } => {
                *case_id
            }
        };
        if verbose && !matches!(d, DedupDecision::New { ref related, .. } if related.is_empty()) {
            println!("#{report_id} {} ({}): {}", r.eid, r.group, summary(&d));
        }
        index.insert(report_id, case, &r.probe);
        case_of.insert(r.eid.clone(), case);
    }
    let (mut tp, mut fp, mut fne) = (0usize, 0usize, 0usize);
    let mut bad = 0;
    for a in 0..reports.len() {
        for b in a + 1..reports.len() {
            let (ra, rb) = (&reports[a], &reports[b]);
            let want = ra.group == rb.group;
            let got = case_of.get(&ra.eid) == case_of.get(&rb.eid);
            tp += (want && got) as usize;
            fp += (got && !want) as usize;
            fne += (want && !got) as usize;
            if want != got {
                bad += 1;
                if verbose {
                    println!(
                        "  disagree: #{} {} + #{} {}: wanted {want}, got {got}",
                        a + 1,
                        ra.eid,
                        b + 1,
                        rb.eid
                    );
                }
            }
        }
    }
    let p = if tp + fp == 0 {
        1.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let rc = if tp + fne == 0 {
        1.0
    } else {
        tp as f64 / (tp + fne) as f64
    };
    (p, rc, bad)
}

fn summary(d: &DedupDecision) -> String {
    match d {
        DedupDecision::New {
            subject_key,
            related,
        } => {
            let rel: Vec<String> = related.iter().map(|r| r.summary.clone()).collect();
            format!("new {subject_key:?} related: {}", rel.join(" | "))
        }
        DedupDecision::SameMessage { summary, .. }
        | DedupDecision::Repeat { summary, .. }
        | DedupDecision::SameMatter { summary, .. } => {
            let kind = match d {
                DedupDecision::SameMessage { .. } => "same_message",
                DedupDecision::Repeat { .. } => "repeat",
                _ => "same_matter",
            };
            format!("{kind} case {:?}: {summary}", d.case_id())
        }
    }
}

#[test]
fn show_text_keys() {
    if std::env::var("DEDUP_KEYS").is_err() {
        return;
    }
    let Some(rows) = load_cases() else { return };
    let places = load_places();
    for (i, r) in build(&rows, &places, Names::Structured).iter().enumerate() {
        let keys = intake::dedup::subject_keys_in_text(&r.probe.text, &r.probe.place_names);
        let sk = r
            .probe
            .subject_name
            .as_deref()
            .map(|n| intake::dedup::subject_key_in(n, &r.probe.place_names));
        println!("#{} {} {:?} {:?}", i + 1, r.group, sk, keys);
    }
}

#[test]
fn pairwise_precision_and_recall_on_dev() {
    let Some(rows) = load_cases() else { return };
    let places = load_places();
    let verbose = std::env::var("DEDUP_VERBOSE").is_ok();
    let mut failures = Vec::new();
    for names in [Names::Structured, Names::StructuredOrCrude, Names::None] {
        let reports = build(&rows, &places, names);
        if verbose {
            println!("==== {names:?}");
        }
        let (p, r, bad) = run(&reports, verbose);
        println!("dedup dev.jsonl, names {names:?}: pair_precision={p:.3} pair_recall={r:.3} ({bad} disagreeing pairs, {} reports)", reports.len());
        if p < 0.95 || r < 0.90 {
            failures.push(format!("{names:?}: precision {p:.3}, recall {r:.3}"));
        }
    }
    assert!(failures.is_empty(), "below 0.95 / 0.90: {failures:?}");

    // Robustness (reported, not asserted): without place names, without locus, without categories.
    let base = build(&rows, &places, Names::Structured);
    let variants: [(&str, fn(&mut DedupProbe)); 3] = [
        ("no place names", |p| p.place_names.clear()),
        ("no locus", |p| p.locus = None),
        ("no categories", |p| p.categories.clear()),
    ];
    for (label, f) in variants {
        let reports: Vec<Report> = base
            .iter()
            .map(|r| {
                let mut probe = r.probe.clone();
                f(&mut probe);
                Report {
                    eid: r.eid.clone(),
                    group: r.group.clone(),
                    probe,
                }
            })
            .collect();
        let (p, r, bad) = run(&reports, false);
        println!("dedup dev.jsonl, {label}: pair_precision={p:.3} pair_recall={r:.3} ({bad} disagreeing pairs)");
    }
}
