//! Measures locus, handling and referral accuracy on the labelled reports of
//! `shared/cases/dev.jsonl` (expected subject kind and categories are used as inputs, so that
//! this measures triage alone).

use intake::{normalize_text, parse_phone, Category, SubjectKind};
use serde_json::Value;
use triage::{LocateInput, Triage, TriageConfig};

fn s(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str().map(str::to_string)
}

/// Approximates "the report speaks of a fake certificate": 假证, 假的, 伪造, or 假 shortly before 证.
fn speaks_of_fake(text: &str) -> bool {
    if ["假证", "假的", "伪造"].iter().any(|w| text.contains(w)) {
        return true;
    }
    let chars: Vec<char> = text.chars().collect();
    chars
        .iter()
        .enumerate()
        .any(|(i, &c)| c == '假' && chars[i + 1..].iter().take(8).any(|&d| d == '证'))
}

#[test]
fn dev_cases() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/cases/dev.jsonl");
    let Ok(data) = std::fs::read_to_string(&path) else {
        assert!(
            std::env::var("TIPLINE_TEST_REQUIRE_ALL").is_err(),
            "TIPLINE_TEST_REQUIRE_ALL is set but {} is missing",
            path.display()
        );
        println!("skipped: {} not found", path.display());
        return;
    };
    let triage = Triage::new(TriageConfig::default());
    let (mut n, mut locus_ok, mut handling_ok, mut referral_ok) = (0usize, 0usize, 0usize, 0usize);
    for (lineno, line) in data.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let rec: Value = serde_json::from_str(line).expect("json");
        let exp = &rec["expect"];
        let raw = format!(
            "{}\n{}",
            s(&rec, &["title"]).unwrap_or_default(),
            s(&rec, &["text"]).unwrap_or_default()
        );
        let text = normalize_text(&raw);
        let address = s(&rec, &["address"]).map(|a| normalize_text(&a));
        let subject_address = s(&rec, &["subject", "address"]).map(|a| normalize_text(&a));
        let subject_name = s(&rec, &["subject", "name"]).map(|a| normalize_text(&a));
        let phone = s(&rec, &["reporter", "phone"])
            .and_then(|p| parse_phone(&p))
            .map(|p| p.canonical());
        let input = LocateInput {
            text: &text,
            address: address.as_deref(),
            subject_address: subject_address.as_deref(),
            subject_name: subject_name.as_deref(),
            phone: phone.as_deref(),
        };
        let locus = triage.locate(&input);
        let want_locus = exp["locus"].as_str().map(str::to_string);
        let kind: SubjectKind = exp["subject_kind"]
            .as_str()
            .unwrap_or("other")
            .parse()
            .expect("kind");
        let cats: Vec<Category> = exp["categories"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c.as_str()?.parse().ok()).collect())
            .unwrap_or_default();
        let fake = cats.contains(&Category::P2) && speaks_of_fake(&text);
        let routing = triage.route(kind, &locus, &cats, fake);
        let want_handling = exp["handling"].as_str().unwrap_or("").to_string();
        let want_refs: Vec<String> = exp["referrals"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let got_refs: Vec<String> = routing
            .referrals
            .iter()
            .map(|r| r.code.code().to_string())
            .collect();
        n += 1;
        let lok = locus.code == want_locus;
        let hok = routing.handling.code() == want_handling;
        let rok = got_refs == want_refs;
        locus_ok += lok as usize;
        handling_ok += hok as usize;
        referral_ok += rok as usize;
        if !(lok && hok && rok) {
            println!(
                "line {}: locus {:?} want {:?}; handling {} want {}; referrals {:?} want {:?}\n  text: {}\n  reasons: {:?}\n  candidates: {:?}",
                lineno + 1,
                locus.code,
                want_locus,
                routing.handling.code(),
                want_handling,
                got_refs,
                want_refs,
                text.chars().take(90).collect::<String>().replace('\n', " "),
                locus.reasons,
                locus.candidates.iter().take(4).collect::<Vec<_>>()
            );
        }
    }
    let (l, h, r) = (
        locus_ok as f64 / n as f64,
        handling_ok as f64 / n as f64,
        referral_ok as f64 / n as f64,
    );
    println!("dev.jsonl: {n} reports; locus {l:.3} ({locus_ok}), handling {h:.3} ({handling_ok}), referrals {r:.3} ({referral_ok})");
    assert!(l >= 0.97, "locus accuracy {l:.3}");
    assert!(h >= 0.97, "handling accuracy {h:.3}");
}
