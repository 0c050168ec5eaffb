//! Writes every decision of the analysis (extraction, locus, routing; serde_json, one line per
//! report) for a fixed set of texts, so that two builds can be diffed byte for byte after a change
//! that must not change behaviour.
//!
//! `cargo run --release -p triage --example analysis_dump -- FILE.jsonl… > out.jsonl`
//!
//! The texts: every envelope line of the files given (dev.jsonl, the held-out sets), then
//! `ANALYSIS_DUMP_N` (default 3,000) seeded synthetic reports like the locate bench's, with
//! division names, named and quoted organisations, brackets, full-width and traditional
//! characters, reporter clauses, structured addresses, subjects and phones mixed in. Each report
//! goes through the stages as `src/pipeline.rs` runs them, with the example deployment of
//! `zones.toml` (home 鞍山, one zone).

use intake::extract::Extractor;
use intake::{normalize_text, Envelope};
use serde_json::json;
use std::io::{BufRead, Write};
use triage::{Gazetteer, Level, LocateInput, Triage, TriageConfig};

#[path = "../benches/texts/mod.rs"]
mod texts;
use texts::Rng;

/// The locate bench's filler, then wording that exercises the other rules and cues.
static FILLER: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let more: &[&str] = &[
        "交八千块钱包过，不用上课，",
        "学费收了12000元，",
        "网上有人卖假证，说可以查得到，",
        "没有发现无证上岗的情况。",
        "电焊工无证作业的问题已处理，",
        "我是家住附近的工人，",
        "那边有一家化工厂，",
        "在那里附近有个考点，",
        "報名後一直沒有上課，",
        "ＡＢＣ培训中心１２３，",
        "监考老师替考生答题，",
        "在线学习平台刷课时，",
        "工人没有经过三级安全教育就上岗，",
    ];
    texts::FILLER.iter().chain(more).copied().collect()
});

const BRANDS: &[&str] = &[
    "安达",
    "顺通",
    "金川",
    "恒信",
    "安学通",
    "华安",
    "东方",
    "长城",
    "新世纪",
    "蓝天",
];
const SUFFIXES: &[&str] = &[
    "职业培训学校",
    "安全培训中心",
    "化工有限公司",
    "考试点",
    "建材厂",
    "教育科技有限公司",
    "矿业集团",
    "驾校",
];
const PHONES: &[&str] = &[
    "13904125566",
    "0412-5892213",
    "0538-8261453",
    "186****9031",
    "010-69541234",
];

/// A place as people write it: a county or township's name with its ancestors, its own name,
/// or the short form that the automaton knows.
fn place(g: &Gazetteer, rng: &mut Rng) -> String {
    let i = rng.below(g.len()) as u32;
    let d = g.division(i);
    match rng.below(3) {
        0 if d.level >= Level::County => g.short_path(i),
        1 => {
            let n = d.name;
            let cut = n.chars().count().saturating_sub(1).max(2);
            n.chars().take(cut).collect()
        }
        _ => d.name.to_string(),
    }
}

fn synthetic(g: &Gazetteer, rng: &mut Rng) -> serde_json::Value {
    let mut s = String::new();
    let target = [120, 300, 500, 500, 800][rng.below(5)];
    let mut subject_name = None;
    while s.chars().count() < target {
        match rng.below(8) {
            0 | 1 => s.push_str(&place(g, rng)),
            2 => {
                let name = format!(
                    "{}{}{}",
                    if rng.below(2) == 0 {
                        place(g, rng)
                    } else {
                        String::new()
                    },
                    rng.pick(BRANDS),
                    rng.pick(SUFFIXES)
                );
                match rng.below(4) {
                    0 => s.push_str(&format!("一个叫“{name}”的机构，")),
                    1 => s.push_str(&format!("{name}（{}）", place(g, rng))),
                    _ => s.push_str(&name),
                }
                subject_name.get_or_insert(name);
            }
            3 => s.push_str(&format!(
                "在{}{}",
                place(g, rng),
                rng.pick(&["那边", "附近", "的", "一家", ""])
            )),
            _ => {}
        }
        s.push_str(rng.pick(&FILLER));
    }
    let text: String = s.chars().take(target).collect();
    let channel = rng.pick(&["web_form", "hotline_12345", "hotline_12350", "email"]);
    let mut e = json!({"channel": channel,
        "external_id": "dump", "received_at": "2024-03-04T10:00:00+08:00", "text": text,
        "reporter": {"anonymous": false}});
    if rng.below(3) == 0 {
        e["reporter"]["phone"] = json!(rng.pick(PHONES));
    }
    if rng.below(5) == 0 {
        e["address"] = json!(format!("{}{}路12号", place(g, rng), rng.pick(BRANDS)));
    }
    match rng.below(6) {
        0 => e["subject"] = json!({"name": subject_name, "address": place(g, rng)}),
        1 => e["subject"] = json!({"kind": "training_institution"}),
        _ => {}
    }
    if rng.below(8) == 0 {
        e["title"] = json!(format!("关于{}的举报", place(g, rng)));
    }
    e
}

fn main() {
    let g = Gazetteer::get();
    let extractor = Extractor::embedded();
    let config = TriageConfig::from_toml(include_str!("zones.toml")).expect("example config");
    let triage = Triage::new(config);
    let mut envelopes = Vec::new();
    for path in std::env::args().skip(1) {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        for line in std::io::BufReader::new(file).lines() {
            let line = line.expect("readable file");
            if !line.trim().is_empty() {
                envelopes.push(Envelope::from_json(&line).expect("envelope line"));
            }
        }
    }
    let n: usize = std::env::var("ANALYSIS_DUMP_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let mut rng = Rng(0x5EED_1234_ABCD_0002);
    for _ in 0..n {
        let wire = synthetic(g, &mut rng);
        envelopes.push(Envelope::from_json(&wire.to_string()).expect("synthetic envelope"));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for e in &envelopes {
        // As `Pipeline::analyze` runs the stages.
        let normalized = normalize_text(&e.full_text());
        let extraction = extractor.extract(e, &normalized);
        let subject = e.subject.as_ref();
        let address = e.address.as_deref().map(normalize_text);
        let subject_address = subject
            .and_then(|s| s.address.as_deref())
            .map(normalize_text);
        let subject_name = extraction.subject_name.as_deref().map(normalize_text);
        let locus = triage.locate(&LocateInput {
            text: &normalized,
            address: address.as_deref(),
            subject_address: subject_address.as_deref(),
            subject_name: subject_name.as_deref(),
            phone: e.reporter.phone.as_deref(),
        });
        let routing = triage.route(
            extraction.subject_kind,
            &locus,
            &extraction.categories,
            extraction.fake_certificate,
        );
        let line = json!({"normalized": normalized, "extraction": extraction,
            "locus": locus, "routing": routing});
        writeln!(out, "{line}").expect("stdout");
    }
}
