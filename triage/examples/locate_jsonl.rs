//! Locates JSONL reports read on stdin: one `{"id": …, "text": …}` object a line (optional
//! `address`, `subject_address`, `subject_name`, `phone`), one `{"id": …, "code": …}` line out
//! per report, then the timing on stderr (gazetteer load and locate, CPU time of this thread when
//! `/proc` has it, so that a loaded machine does not skew the figure).
//!
//! `cargo run --release -p triage --example locate_jsonl < reports.jsonl > codes.jsonl`
//!
//! Texts and fields are normalized (`intake::normalize_text`) and phones parsed
//! (`intake::parse_phone`) before timing, as the app's extraction does.
//!
//! `--raw` skips the normalization. `--full` prints the whole locus instead of the code (used to compare two builds);
//! `--rounds N` repeats the timed loop N times (output of the first round only).

use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::time::Instant;
use triage::{Gazetteer, LocateInput, Triage, TriageConfig};

fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let (utime, stime): (f64, f64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    Some((utime + stime) / 100.0)
}

struct Rec {
    id: Value,
    text: String,
    address: Option<String>,
    subject_address: Option<String>,
    subject_name: Option<String>,
    phone: Option<String>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--full");
    let raw = args.iter().any(|a| a == "--raw");
    let rounds: usize = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut recs = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            eprintln!("skipped a line that is no JSON");
            continue;
        };
        let s = |k: &str| {
            v.get(k).and_then(Value::as_str).map(|t| {
                if raw {
                    t.to_string()
                } else {
                    intake::normalize_text(t)
                }
            })
        };
        recs.push(Rec {
            id: v.get("id").cloned().unwrap_or(Value::Null),
            text: s("text").unwrap_or_default(),
            address: s("address"),
            subject_address: s("subject_address"),
            subject_name: s("subject_name"),
            phone: v.get("phone").and_then(Value::as_str).and_then(|p| {
                if raw {
                    Some(p.to_string())
                } else {
                    intake::parse_phone(p).map(|p| p.canonical())
                }
            }),
        });
    }
    let t0 = Instant::now();
    let c0 = thread_cpu_seconds();
    let _ = Gazetteer::get();
    let triage = Triage::new(TriageConfig::default());
    // The first locate builds whatever is built lazily: count it as load.
    let _ = triage.locate(&LocateInput {
        text: "鞍山市铁东区",
        ..Default::default()
    });
    let load_wall = t0.elapsed().as_secs_f64();
    let load_cpu = thread_cpu_seconds().zip(c0).map(|(b, a)| b - a);

    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let t1 = Instant::now();
    let c1 = thread_cpu_seconds();
    let mut lines = Vec::with_capacity(recs.len());
    let mut chars = 0usize;
    for round in 0..rounds {
        for r in &recs {
            let l = triage.locate(&LocateInput {
                text: &r.text,
                address: r.address.as_deref(),
                subject_address: r.subject_address.as_deref(),
                subject_name: r.subject_name.as_deref(),
                phone: r.phone.as_deref(),
            });
            if round == 0 {
                chars += r.text.chars().count();
                lines.push(if full {
                    json!({"id": r.id, "locus": l})
                } else {
                    json!({"id": r.id, "code": l.code})
                });
            }
        }
    }
    let wall = t1.elapsed().as_secs_f64();
    let cpu = thread_cpu_seconds()
        .zip(c1)
        .map(|(b, a)| b - a)
        .filter(|c| *c > 0.0);
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    let _ = out.flush();
    let n = recs.len() * rounds;
    let el = cpu.unwrap_or(wall).max(1e-9);
    eprintln!(
        "load {:.1} ms wall ({} ms CPU); located {} reports (avg {:.0} chars) in {:.3} s CPU ({:.3} s wall) = {:.0} reports/s",
        load_wall * 1e3,
        load_cpu.map(|c| format!("{:.0}", c * 1e3)).unwrap_or("?".into()),
        n,
        chars as f64 / recs.len().max(1) as f64,
        el,
        wall,
        n as f64 / el
    );
}
