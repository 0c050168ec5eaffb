//! `tipline eval FILE`: runs a labelled file (the format of `../shared/cases/`) through the whole
//! pipeline in a scratch database and measures every decision against its label: locus, handling,
//! subject kind, categories (micro-F1), referrals, and duplicates (pairwise precision and recall of
//! "these two reports are in the same case").

use crate::app::App;
use crate::config::Config;
use crate::store::ExportRow;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

struct Label {
    locus: Option<String>,
    handling: String,
    kind: String,
    categories: BTreeSet<String>,
    referrals: BTreeSet<String>,
    group: String,
}

fn set_of(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| {
                    x.as_str()
                        .or_else(|| x["code"].as_str())
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn load_labels(path: &Path) -> anyhow::Result<Vec<(String, Label)>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let mut seen = BTreeSet::new();
    let mut labels = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value =
            serde_json::from_str(line).map_err(|e| anyhow::anyhow!("line {}: {e}", i + 1))?;
        let Some(id) = v["external_id"].as_str() else {
            continue;
        };
        let e = &v["expect"];
        if e.is_null() || !seen.insert(id.to_string()) {
            continue;
        }
        labels.push((
            id.to_string(),
            Label {
                locus: e["locus"].as_str().map(str::to_string),
                handling: e["handling"].as_str().unwrap_or("").to_string(),
                kind: e["subject_kind"].as_str().unwrap_or("").to_string(),
                categories: set_of(&e["categories"]),
                referrals: set_of(&e["referrals"]),
                group: e["group"].as_str().unwrap_or("").to_string(),
            },
        ));
    }
    Ok(labels)
}

/// Runs the evaluation and prints the figures; `show` disagreements are listed.
pub async fn run(mut config: Config, file: &Path, show: usize) -> anyhow::Result<u8> {
    let labels = load_labels(file)?;
    anyhow::ensure!(
        !labels.is_empty(),
        "{} has no labelled lines (`expect`)",
        file.display()
    );
    let scratch = tempfile_dir()?;
    config.data_dir = scratch.clone();
    config.database_url = None;
    // Scratch keys beside the scratch database, never the deployment's.
    config.identity_key_file = None;
    let app = App::open(config).await?;
    super::import::import_quietly(&app, file).await?;
    let mut rows: HashMap<String, ExportRow> = HashMap::new();
    let mut after = 0;
    loop {
        let page = app.store.export_page(after, 5_000, false).await?;
        let Some(last) = page.last() else { break };
        after = last.report.id;
        for row in page {
            rows.entry(row.report.external_id.clone()).or_insert(row);
        }
    }
    drop(app);
    let _ = std::fs::remove_dir_all(&scratch);

    let mut disagreements = Vec::new();
    let (mut locus_ok, mut handling_ok, mut kind_ok, mut referrals_ok) = (0, 0, 0, 0);
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (id, label) in &labels {
        let Some(row) = rows.get(id) else {
            disagreements.push(format!("{id}: not stored"));
            continue;
        };
        let d = &row.report.decisions;
        let locus = d["locus"]["code"].as_str().map(str::to_string);
        let handling = d["routing"]["handling"].as_str().unwrap_or("").to_string();
        let kind = d["extraction"]["subject_kind"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let categories = set_of(&d["extraction"]["categories"]);
        let referrals = set_of(&d["routing"]["referrals"]);
        let mut check = |field: &str, ok: bool, want: String, got: String| {
            if !ok {
                disagreements.push(format!("{id}: {field}: wanted {want}, got {got}"));
            }
            ok as usize
        };
        locus_ok += check(
            "locus",
            locus == label.locus,
            format!("{:?}", label.locus),
            format!("{locus:?}"),
        );
        handling_ok += check(
            "handling",
            handling == label.handling,
            label.handling.clone(),
            handling.clone(),
        );
        kind_ok += check("kind", kind == label.kind, label.kind.clone(), kind.clone());
        referrals_ok += check(
            "referrals",
            referrals == label.referrals,
            format!("{:?}", label.referrals),
            format!("{referrals:?}"),
        );
        check(
            "categories",
            categories == label.categories,
            format!("{:?}", label.categories),
            format!("{categories:?}"),
        );
        tp += categories.intersection(&label.categories).count();
        fp += categories.difference(&label.categories).count();
        fn_ += label.categories.difference(&categories).count();
    }
    let (mut ptp, mut pfp, mut pfn) = (0u64, 0u64, 0u64);
    for (i, (a, la)) in labels.iter().enumerate() {
        for (b, lb) in &labels[i + 1..] {
            let want = la.group == lb.group;
            let got = match (rows.get(a), rows.get(b)) {
                (Some(x), Some(y)) => x.report.case_id == y.report.case_id,
                _ => false,
            };
            match (want, got) {
                (true, true) => ptp += 1,
                (false, true) => {
                    pfp += 1;
                    disagreements.push(format!("{a} + {b}: same case, but labelled apart"));
                }
                (true, false) => {
                    pfn += 1;
                    disagreements.push(format!(
                        "{a} + {b}: labelled one matter, but in different cases"
                    ));
                }
                _ => {}
            }
        }
    }
    let n = labels.len() as f64;
    let ratio = |a: u64, b: u64| {
        if a + b == 0 {
            1.0
        } else {
            a as f64 / (a + b) as f64
        }
    };
    let precision = ratio(tp as u64, fp as u64);
    let recall = ratio(tp as u64, fn_ as u64);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    for d in disagreements.iter().take(show) {
        println!("{d}");
    }
    if disagreements.len() > show {
        println!("... and {} more disagreements", disagreements.len() - show);
    }
    println!(
        "{} reports: locus={:.3} handling={:.3} kind={:.3} categories_f1={:.3} referrals={:.3} pair_precision={:.3} pair_recall={:.3}",
        labels.len(),
        locus_ok as f64 / n,
        handling_ok as f64 / n,
        kind_ok as f64 / n,
        f1,
        referrals_ok as f64 / n,
        ratio(ptp, pfp),
        ratio(ptp, pfn),
    );
    Ok(0)
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("tipline-eval-{}-{nanos:x}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
